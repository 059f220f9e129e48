# %% [markdown]
# # Width sweeps: how wide should one hidden layer be?
#
# **Description:** one-hidden-layer networks of 10 to 1000 units on Fashion-MNIST,
# on clean data, with half of the training labels randomised and with Gaussian
# input noise, each width trained with three seeds (seed 000, Exercise 4).

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data](#Prepare-the-data)
# 3. [Build](#Build)
# 4. [Train: clean labels (Exercise 4.1)](#Train:-clean-labels-%28Exercise-4.1%29)
# 5. [Evaluate: best validation loss and accuracy vs width (Exercise 4.2)](#Evaluate:-best-validation-loss-and-accuracy-vs-width-%28Exercise-4.2%29)
# 6. [Train: noisy labels (Exercise 4.3)](#Train:-noisy-labels-%28Exercise-4.3%29)
# 7. [Train: Gaussian input noise (Exercise 4.4, bonus)](#Train:-Gaussian-input-noise-%28Exercise-4.4,-bonus%29)
# 8. [Evaluate: the three width-performance curves compared (Exercise 4.5)](#Evaluate:-the-three-width-performance-curves-compared-%28Exercise-4.5%29)
# 9. [Takeaways](#Takeaways)

# %% [markdown]
# ## Setup

# %%
# %matplotlib inline
import helpers as hp  # first, so TensorFlow starts quietly
import keras
import numpy as np
import pandas as pd


# %% tags=["parameters"]
student = ""  # your name and ID, e.g. "Ada Lovelace (s1234567)"; ./run.sh --student fills it in
stop_training = False  # True: grading, only load cached results, never train

# %%
hp.start_notebook(student, stop_training=stop_training)

# %% [markdown]
# ## Prepare the data
#
# Fashion-MNIST images are flattened to 784-vectors in [0, 1] and the labels
# one-hot encoded. The validation set (20 %, stratified) is split off the
# *training* set; the test set stays untouched for final reporting.

# %%
(x_train_full, y_train_full), (x_test, y_test), class_names = hp.load_dataset("fashion_mnist")
x_flat = hp.flatten_rescale(x_train_full)
y_onehot = hp.one_hot(y_train_full)
(x_train, y_train), (x_val, y_val) = hp.train_val_split(x_flat, y_onehot, val_fraction=0.2, seed=0)
x_test_flat, y_test_onehot = hp.flatten_rescale(x_test), hp.one_hot(y_test)
print(x_train.shape, x_val.shape, x_test_flat.shape)

# %% [markdown]
# ## Build
#
# One builder for every run: a single hidden ReLU layer of the given width and
# a softmax output, trained with Adam at its default learning rate.


# %%
def make_one_layer_mlp(width: int, *, input_dim: int = 784, num_classes: int = 10) -> keras.Model:
    """One hidden ReLU layer of `width` units for flattened 28x28 images and 10 classes."""
    ### BEGIN SOLUTION
    model = hp.build_mlp(input_dim, [width], num_classes=num_classes)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %%
make_one_layer_mlp(100).summary()

# %% [markdown]
# ## Train: clean labels (Exercise 4.1)
#
# Five widths from 10 to 1000, 50 epochs each, three seeds per width. Every
# run is cached; a re-run loads all of them in seconds.

# %%
widths = [10, 30, 100, 300, 1000]
seeds = [0, 1, 2]
batch_size = 128
clean_epochs = 50
sweep_settings = {"param": "width", "seeds": seeds, "batch_size": batch_size}  # every sweep of this notebook

# %%
# Train make_one_layer_mlp at every width and seed with hp.run_sweep (cache name "ex4_clean").
### BEGIN SOLUTION
clean_table, clean_histories = hp.run_sweep(
    "ex4_clean",
    make_one_layer_mlp,
    widths,
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=clean_epochs,
    exercise="4.1",
    **sweep_settings,
)
### END SOLUTION

# %% grade_id="test_clean_sweep"
# Test (Exercise 4.1): at least 4 widths between 10 and 1000, each trained for at least 50 epochs.
test_widths = sorted(clean_table["width"].unique())
assert len(test_widths) >= 4 and 10 <= test_widths[0] and test_widths[-1] <= 1000, f"widths {test_widths}"
test_short = [run for run, h in clean_histories.items() if len(h["loss"]) < hp.required_epochs(50)]
assert not test_short, f"runs {test_short} have fewer than 50 epochs"

# %% [markdown]
# ## Evaluate: best validation loss and accuracy vs width (Exercise 4.2)

# %% grade_id="plot_clean_widths"
# Best validation loss and accuracy against the width (Exercise 4.2).
### BEGIN SOLUTION
hp.plot_metric_vs_param(
    clean_table,
    "width",
    ("best_val_loss", "best_val_accuracy"),
    title="Fashion-MNIST, clean labels: best validation metrics vs width",
)
### END SOLUTION
# %%
summary_columns = [
    "best_val_loss",
    "best_val_loss_epoch",
    "best_val_accuracy",
    "final_val_accuracy",
    "final_train_accuracy",
]
clean_table.groupby("width")[summary_columns].median().round(4)

# %% [markdown]
# The learning curves of the narrowest and the widest network (seed 0) show
# where the best validation loss is reached and what happens after it.

# %%
hp.plot_histories(
    {f"width {w}": clean_histories[(w, 0)] for w in (10, 1000)},
    title="Clean Fashion-MNIST: narrowest vs widest network (seed 0)",
)
# %%
best_row = clean_table.loc[clean_table["best_val_accuracy"].idxmax()]
print(
    f"best validation accuracy: {best_row.best_val_accuracy:.4f} "
    f"(width {int(best_row.width)}, seed {int(best_row.seed)}, epoch {int(best_row.best_val_accuracy_epoch)})"
)

# %% [markdown]
# ### Answer to Exercise 4.2 (max 2 sentences)

# %%
clean = clean_table.groupby("width")[summary_columns].median()
narrow, wide = widths[0], widths[-1]
answer_4_2 = ""  # your answer
### BEGIN SOLUTION
answer_4_2 = (
    f"{'Yes' if clean.best_val_accuracy[wide] > clean.best_val_accuracy[narrow] else 'No'}: wider layers fit the "
    f"training set better (median final training accuracy {clean.final_train_accuracy[narrow]:.1%} at {narrow} units, "
    f"{clean.final_train_accuracy[wide]:.1%} at {wide}) and reach a higher best validation accuracy "
    f"({clean.best_val_accuracy[narrow]:.1%} to {clean.best_val_accuracy[wide]:.1%}), only "
    f"{(clean.best_val_accuracy[wide] - clean.best_val_accuracy[300]) * 100:.1f} points more above 300 units. "
    f"Wider networks overfit sooner (validation loss lowest at epoch {clean.best_val_loss_epoch[narrow]:.0f} at width "
    f"{narrow}, {clean.best_val_loss_epoch[wide]:.0f} at width {wide}), but keeping the best epoch makes this cost "
    "no accuracy here."
)
### END SOLUTION
hp.check_answer(answer_4_2, max_sentences=2)

# %% [markdown]
# ## Train: noisy labels (Exercise 4.3)
#
# Half of the training labels (p = 0.5) get a new label drawn uniformly at
# random; the validation labels stay clean, so validation accuracy still
# measures how well the true classes are learnt. Four widths from 10 to 250,
# 150 epochs, three seeds.

# %%
label_noise = 0.5
# Redraw a label_noise fraction of the training labels at random (seeded).
### BEGIN SOLUTION
y_train_noisy, changed = hp.corrupt_labels(y_train, label_noise, seed=0)
### END SOLUTION
print(
    f"{len(changed)} labels redrawn; {np.mean(y_train_noisy.argmax(1) != y_train.argmax(1)):.1%} now differ from the truth"
)

# %%
noisy_widths = [10, 30, 100, 250]
noisy_epochs = 150

# %%
# Train every width in noisy_widths on the noisy labels (cache name "ex4_labelnoise50").
### BEGIN SOLUTION
label_noise_table, label_noise_histories = hp.run_sweep(
    "ex4_labelnoise50",
    make_one_layer_mlp,
    noisy_widths,
    x_train,
    y_train_noisy,
    validation_data=(x_val, y_val),
    epochs=noisy_epochs,
    exercise="4.3",
    **sweep_settings,
)
### END SOLUTION

# %% grade_id="test_label_noise_sweep"
# Test (Exercise 4.3): p >= 0.5 of the labels redrawn, at least 4 widths from 10 to 250, 150 epochs or more.
assert np.mean(y_train_noisy.argmax(1) != y_train.argmax(1)) > 0.4, "redraw at least half of the training labels"
test_widths = sorted(label_noise_table["width"].unique())
assert len(test_widths) >= 4 and 10 <= test_widths[0] and test_widths[-1] <= 250, f"widths {test_widths}"
assert all(len(h["loss"]) >= hp.required_epochs(150) for h in label_noise_histories.values()), "150 epochs or more"

# %% grade_id="plot_label_noise_widths"
# Best validation loss and accuracy against the width (Exercise 4.3).
### BEGIN SOLUTION
hp.plot_metric_vs_param(
    label_noise_table,
    "width",
    ("best_val_loss", "best_val_accuracy"),
    title="Fashion-MNIST, 50 % random training labels: best validation metrics vs width",
)
### END SOLUTION
# %%
label_noise_table.groupby("width")[summary_columns].median().round(4)

# %%
hp.plot_histories(
    {f"width {w}": label_noise_histories[(w, 0)] for w in (10, 250)},
    title="50 % random labels: narrowest vs widest network (seed 0)",
)
# %% [markdown]
# ## Train: Gaussian input noise (Exercise 4.4, bonus)
#
# Clean labels, but every pixel (on the [0, 1] scale) gets zero-mean Gaussian
# noise of **variance 0.1** (standard deviation 0.32), drawn once for the
# training and once for the validation images. Same widths, epochs and seeds.

# %%
input_noise_variance = 0.1
# Gaussian noise of this variance on the training and the validation images (seeded).
### BEGIN SOLUTION
x_train_noisy = hp.add_gaussian_noise(x_train, input_noise_variance, seed=0)
x_val_noisy = hp.add_gaussian_noise(x_val, input_noise_variance, seed=1)
### END SOLUTION

# %%
hp.plot_some_samples(
    x_train_noisy,
    y_train,
    nrows=2,
    ncols=6,
    label_mapping=class_names,
    title="training images with input noise of variance 0.1",
)
# %%
# Train every width in noisy_widths on the noisy images (cache name "ex4_inputnoise0.1").
### BEGIN SOLUTION
input_noise_table, input_noise_histories = hp.run_sweep(
    "ex4_inputnoise0.1",
    make_one_layer_mlp,
    noisy_widths,
    x_train_noisy,
    y_train,
    validation_data=(x_val_noisy, y_val),
    epochs=noisy_epochs,
    exercise="4.4",
    **sweep_settings,
)
### END SOLUTION

# %% grade_id="test_input_noise_sweep"
# Test (Exercise 4.4): noise of variance 0.01 to 0.5 on the inputs, at least 4 widths, 150 epochs or more.
test_variance = float(np.var(x_train_noisy - x_train))
assert 0.005 < test_variance < 0.6, f"the added noise has variance {test_variance:.3f}; use 0.01 to 0.5"
assert label_noise_table["width"].nunique() >= 4 and input_noise_table["width"].nunique() >= 4, "4 widths or more"
assert all(len(h["loss"]) >= hp.required_epochs(150) for h in input_noise_histories.values()), "150 epochs or more"

# %% grade_id="plot_input_noise_widths"
# Best validation loss and accuracy against the width (Exercise 4.4).
### BEGIN SOLUTION
hp.plot_metric_vs_param(
    input_noise_table,
    "width",
    ("best_val_loss", "best_val_accuracy"),
    title="Fashion-MNIST, input noise (variance 0.1): best validation metrics vs width",
)
### END SOLUTION
# %%
input_noise_table.groupby("width")[summary_columns].median().round(4)

# %% [markdown]
# ## Evaluate: the three width-performance curves compared (Exercise 4.5)

# %%
all_runs = pd.concat(
    [
        clean_table.assign(dataset="clean"),
        label_noise_table.assign(dataset="50 % random labels"),
        input_noise_table.assign(dataset="input noise, variance 0.1"),
    ]
)
hp.plot_metric_vs_param(
    all_runs,
    "width",
    ("best_val_accuracy", "final_val_accuracy", "final_train_accuracy"),
    group="dataset",
    title="Width-performance curves of the three datasets",
)
# %%
all_runs.groupby(["dataset", "width"], sort=False)[summary_columns].median().round(4)

# %% [markdown]
# ### Answer to Exercise 4.5 (max 3 sentences)

# %%
labels = label_noise_table.groupby("width")[[*summary_columns, "best_val_accuracy_epoch"]].median()
inputs = input_noise_table.groupby("width")[summary_columns].median()
small, large = noisy_widths[0], noisy_widths[-1]
wide_inputs = inputs.loc[[w for w in noisy_widths if w >= 100]]
common = [w for w in noisy_widths if w in widths]
input_cost = (clean.best_val_accuracy[common] - inputs.best_val_accuracy[common]) * 100
label_cost = (clean.best_val_accuracy[common] - labels.best_val_accuracy[common]) * 100

# %%
answer_4_5 = ""  # your answer
### BEGIN SOLUTION
answer_4_5 = (
    f"With {label_noise:.0%} random labels wider networks memorise more (training accuracy "
    f"{labels.final_train_accuracy[small]:.1%} at {small} units, {labels.final_train_accuracy[large]:.1%} at {large}); "
    f"their final validation accuracy falls to {labels.final_val_accuracy[small]:.1%} and "
    f"{labels.final_val_accuracy[large]:.1%}, while the best epoch still improves with width. "
    f"With input noise of variance {input_noise_variance} the networks of 100 or more units fit the noisy images "
    f"(at least {wide_inputs.final_train_accuracy.min():.2%}), yet their best validation accuracy still grows with "
    f"width ({inputs.best_val_accuracy[small]:.1%} to {inputs.best_val_accuracy[large]:.1%}). "
    f"Against the clean curve, input noise costs {input_cost.min():.1f} to {input_cost.max():.1f} points, as it "
    f"destroys information; label noise costs {label_cost.min():.1f} to {label_cost.max():.1f} at the best epoch but "
    + (
        "makes extra width harmful later, so it calls for early stopping."
        if labels.final_val_accuracy[large] < labels.final_val_accuracy[small]
        else "does not make extra width harmful here."
    )
)
### END SOLUTION
hp.check_answer(answer_4_5, max_sentences=3)

# %% [markdown]
# ## Takeaways


# %%
def seed_spread(table: pd.DataFrame) -> float:
    """The largest range of best validation accuracy between seeds of one width, in points."""
    accuracy = table.groupby("width")["best_val_accuracy"]
    return float((accuracy.max() - accuracy.min()).max() * 100)


# %%
hp.show_takeaways(
    f"On clean Fashion-MNIST width helps up to about 300 units (median best validation accuracy "
    f"{clean.best_val_accuracy[narrow]:.1%} at {narrow} units, {clean.best_val_accuracy[300]:.1%} at 300, "
    f"{clean.best_val_accuracy[wide]:.1%} at {wide}); the widest networks overfit earliest but keep the best "
    "accuracy when the best epoch is kept.",
    "Random labels turn capacity against you: the wider the network, the more random labels it memorises and the "
    f"further its final validation accuracy falls ({labels.final_val_accuracy[small]:.1%} at {small} units, "
    f"{labels.final_val_accuracy[large]:.1%} at {large}), although its best epoch is fine.",
    f"Input noise costs {input_cost.min():.1f} to {input_cost.max():.1f} points at every width but does not punish width.",
    f"Three seeds per width show how far single runs scatter: the best validation accuracy of one width varies by up "
    f"to {seed_spread(clean_table):.1f} points between seeds on clean data and {seed_spread(label_noise_table):.1f} "
    f"with random labels, against {(clean.best_val_accuracy[wide] - clean.best_val_accuracy[300]) * 100:.1f} points "
    "between widths 300 and 1000.",
)
