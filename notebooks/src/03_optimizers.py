# %% [markdown]
# # Optimizers: SGD learning rates, Adam, and noisy labels
#
# **Description:** one hidden layer of 128 ReLU units on MNIST, trained with SGD
# at four learning rates and with Adam, then with 20 % of the training labels
# randomised (seed 000, Exercise 3).

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data](#Prepare-the-data)
# 3. [Build: one hidden layer of 128 ReLU units (Exercise 3.1)](#Build:-one-hidden-layer-of-128-ReLU-units-%28Exercise-3.1%29)
# 4. [Train: SGD at four learning rates (Exercise 3.2)](#Train:-SGD-at-four-learning-rates-%28Exercise-3.2%29)
# 5. [Train: Adam at its default learning rate (Exercise 3.3)](#Train:-Adam-at-its-default-learning-rate-%28Exercise-3.3%29)
# 6. [Evaluate: SGD (learning rate 0.1) against Adam (Exercises 3.4 and 3.5)](#Evaluate:-SGD-%28learning-rate-0.1%29-against-Adam-%28Exercises-3.4-and-3.5%29)
# 7. [Evaluate: misclassified test images (Exercise 3.6)](#Evaluate:-misclassified-test-images-%28Exercise-3.6%29)
# 8. [Train: a fifth of the training labels randomised (Exercise 3.7)](#Train:-a-fifth-of-the-training-labels-randomised-%28Exercise-3.7%29)
# 9. [Train: Adam with a decaying learning rate (going further)](#Train:-Adam-with-a-decaying-learning-rate-%28going-further%29)
# 10. [Train: the final model, the chosen configuration on all 60 000 training images](#Train:-the-final-model,-the-chosen-configuration-on-all-60-000-training-images)
# 11. [Evaluate: the goal](#Evaluate:-the-goal)
# 12. [Takeaways](#Takeaways)

# %% [markdown]
# ## Setup
#
# This notebook's networks (one hidden layer, no dropout, no preprocessing layers)
# train faster on Keras' JAX backend than on TensorFlow on a CPU (BENCHMARKS.md), so
# it picks JAX unless `KERAS_BACKEND` says otherwise. The cached results load and
# verify on either backend.

# %%
# %matplotlib inline
import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is imported
import helpers as hp  # before Keras, so TensorFlow starts quietly
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
# MNIST flattened to 784-vectors in [0, 1], one-hot labels, 20 % of the
# training set (stratified) held out for validation; the test set is kept
# for the final numbers and the misclassification analysis.

# %%
(x_train_full, y_train_full), (x_test_images, y_test_labels), class_names = hp.load_dataset("mnist")
(x_train, y_train), (x_val, y_val) = hp.train_val_split(
    hp.flatten_rescale(x_train_full), hp.one_hot(y_train_full), val_fraction=0.2, seed=0
)
x_test, y_test = hp.flatten_rescale(x_test_images), hp.one_hot(y_test_labels)
print(x_train.shape, x_val.shape, x_test.shape)

# %% [markdown]
# ## Build: one hidden layer of 128 ReLU units (Exercise 3.1)
#
# Exactly the network asked for: 784 inputs, 128 ReLU units, 10 softmax
# outputs (no extra bottleneck layer).


# %%
def make_mlp_128(optimizer: keras.optimizers.Optimizer) -> keras.Model:
    """784 inputs, one hidden layer of 128 ReLU units, 10 softmax outputs; compiled with ``optimizer``,
    categorical cross-entropy and the accuracy metric."""
    ### BEGIN SOLUTION
    model = hp.build_mlp(784, [128], num_classes=10, name="mlp_128")
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %%
make_mlp_128(keras.optimizers.SGD(learning_rate=0.1)).summary()

# %% grade_id="test_mlp_128"
# Test (Exercise 3.1): the network has the shape, layers and loss asked for.
with hp.keep_keras_names():  # later models keep their automatic names
    test_model = make_mlp_128(keras.optimizers.SGD(learning_rate=0.1))
    assert test_model.input_shape == (None, 784), f"input shape {test_model.input_shape}: it takes flat 784-vectors"
    assert test_model.output_shape == (None, 10), f"output shape {test_model.output_shape}: it needs 10 class scores"
    test_widths = [layer.units for layer in test_model.layers if isinstance(layer, keras.layers.Dense)]
    assert test_widths == [128, 10], f"Dense widths {test_widths}: one hidden layer of 128 units, then 10 outputs"
    test_loss = str(test_model.get_compile_config()["loss"]).lower()
    assert "categorical" in test_loss and "crossentropy" in test_loss and "sparse" not in test_loss, (
        "use categorical CE"
    )

# %% [markdown]
# ## Train: SGD at four learning rates (Exercise 3.2)
#
# 50 epochs each with batch size 32 (Keras' default, as in the seed). The
# weights of the epoch with the best validation accuracy are kept for the
# test-set analysis; the curves show all 50 epochs.

# %%
epochs = 50
batch_size = 32
learning_rates = [1.0, 0.1, 0.01, 0.001]


# %%
def keep_best_weights(epochs: int) -> keras.callbacks.EarlyStopping:
    """Never stops early (patience = the run's epochs) but restores the best validation epoch."""
    return keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=epochs, restore_best_weights=True)


# %%
mlp_fit = {"validation_data": (x_val, y_val), "epochs": epochs, "batch_size": batch_size, "seed": 0}
mlp_fit["test_data"] = (x_test, y_test)  # evaluated once, after training, with the best epoch's weights

# %%
sgd_histories = {}
for lr in learning_rates:
    # Train make_mlp_128 with SGD at learning rate lr under this cache name, with the
    # callback above and mlp_fit's settings; keep its history in sgd_histories[lr].
    sgd_name = f"ex3_sgd_lr{lr}"
    ### BEGIN SOLUTION
    _, sgd_histories[lr] = hp.fit_cached(
        sgd_name,
        lambda: make_mlp_128(keras.optimizers.SGD(learning_rate=lr)),
        x_train,
        y_train,
        callbacks=[keep_best_weights(epochs)],
        return_model=False,
        exercise="3.2",
        **mlp_fit,
    )
    ### END SOLUTION

# %% grade_id="test_sgd_runs"
# Test (Exercise 3.2): one run per learning rate, each of at least 50 epochs.
assert sorted(sgd_histories) == sorted(learning_rates), f"runs for {sorted(sgd_histories)}; train all four rates"
for lr, history in sgd_histories.items():
    assert len(history["loss"]) >= hp.required_epochs(50), f"learning rate {lr} ran {len(history['loss'])} epochs"

# %%
hp.plot_histories(
    {f"SGD lr={lr}": h for lr, h in sgd_histories.items()}, title="MNIST, 1x128 ReLU: SGD with four learning rates"
)
# %%
hp.runs_table([{"learning rate": lr, "history": h} for lr, h in sgd_histories.items()]).set_index(
    "learning rate"
).round(4)

# %% [markdown]
# ### Answer to Exercise 3.2 (max 2 sentences)


# %%
def largest_drop(history: dict) -> float:
    """The largest fall of validation accuracy from one epoch to the next, in points."""
    return float(np.max(-np.diff(history["val_accuracy"]), initial=0.0) * 100)


# %%
wild, good, slow = sgd_histories[1.0], sgd_histories[0.1], sgd_histories[0.001]
wild_low = int(np.argmin(wild["val_loss"]))
slow_rises = int((np.diff(slow["val_accuracy"]) > 0).sum())
answer_3_2 = ""  # your answer
### BEGIN SOLUTION
answer_3_2 = (
    f"With a learning rate of 1 training never settles: the training loss stalls at {wild['loss'][-1]:.2f} (0.1: "
    f"{good['loss'][-1]:.4f}), the validation accuracy falls by up to {largest_drop(wild):.2f} points between epochs "
    f"(0.1: {largest_drop(good):.2f}) and the validation loss climbs to {wild['val_loss'][-1]:.2f}. "
    f"With 0.001 the curves are smooth but slow: {slow['val_accuracy'][-1]:.2%} after {len(slow['loss'])} epochs"
    f"{', still climbing' if np.argmax(slow['val_accuracy']) == len(slow['loss']) - 1 else ''}, while 0.1 and "
    f"0.01 reach {max(good['val_accuracy']):.2%} and {max(sgd_histories[0.01]['val_accuracy']):.2%}."
)
### END SOLUTION
hp.check_answer(answer_3_2, max_sentences=2)

# %% [markdown]
# ## Train: Adam at its default learning rate (Exercise 3.3)

# %%
adam_name = "ex3_adam"
# The same network with Adam at its default learning rate, trained like the SGD runs.
### BEGIN SOLUTION
adam_model, adam_history = hp.fit_cached(
    adam_name,
    lambda: make_mlp_128(keras.optimizers.Adam()),
    x_train,
    y_train,
    callbacks=[keep_best_weights(epochs)],
    exercise="3.3",
    **mlp_fit,
)
### END SOLUTION

# %% grade_id="test_adam_run"
# Test (Exercise 3.3): the model was trained with Adam at its default learning rate.
assert isinstance(adam_model.optimizer, keras.optimizers.Adam), "train this run with keras.optimizers.Adam()"
assert np.isclose(float(adam_model.optimizer.learning_rate), 0.001), "keep Adam's default learning rate (0.001)"
assert len(adam_history["loss"]) >= hp.required_epochs(50), f"Adam ran {len(adam_history['loss'])} epochs; 50 asked"

# %% [markdown]
# ## Evaluate: SGD (learning rate 0.1) against Adam (Exercises 3.4 and 3.5)

# %%
good_lr = 0.1

# %% grade_id="plot_sgd_adam"
# Plot SGD at good_lr and Adam in one figure, each curve labelled (Exercise 3.4).
### BEGIN SOLUTION
hp.plot_histories(
    {f"SGD lr={good_lr}": sgd_histories[good_lr], "Adam lr=0.001": adam_history},
    title="MNIST, 1x128 ReLU: SGD (lr 0.1) vs Adam (default lr 0.001)",
)
### END SOLUTION
# %%
optimizer_table = hp.runs_table(
    [
        {"optimizer": f"SGD lr={good_lr}", "history": sgd_histories[good_lr]},
        {"optimizer": "Adam lr=0.001", "history": adam_history},
    ]
).set_index("optimizer")
optimizer_table["test accuracy (best epoch)"] = [
    hp.manifest(f"ex3_sgd_lr{good_lr}")["metrics"]["test"]["accuracy"],
    adam_model.evaluate(x_test, y_test, verbose=0)[1],
]
optimizer_table.round(4)

# %% [markdown]
# ### Answer to Exercise 3.5 (max 3 sentences)

# %%
sgd = sgd_histories[good_lr]
adam_low, sgd_low = int(np.argmin(adam_history["val_loss"])), int(np.argmin(sgd["val_loss"]))
adam_after_low = adam_history["val_accuracy"][adam_low:]
test_sgd, test_adam = optimizer_table["test accuracy (best epoch)"]
p_test = (test_sgd + test_adam) / 2
test_gap_se = abs(test_sgd - test_adam) / np.sqrt(2 * p_test * (1 - p_test) / len(y_test))  # in standard errors

# %%
answer_3_5 = ""  # your answer
### BEGIN SOLUTION
answer_3_5 = (
    f"Adam's validation loss is lowest at epoch {adam_low + 1} and then rises to {adam_history['val_loss'][-1]:.3f}, "
    f"while its validation accuracy stays between {min(adam_after_low):.1%} and {max(adam_after_low):.1%}: the loss "
    "also punishes growing over-confidence on the few wrong predictions, which accuracy cannot see. "
    f"On the test set the best-epoch weights score {test_sgd:.2%} (SGD, learning rate {good_lr}) and "
    f"{test_adam:.2%} (Adam), "
    + (
        "so neither is clearly better at the end. "
        if test_gap_se < 2
        else f"so {'SGD' if test_sgd > test_adam else 'Adam'} is better at the end ({test_gap_se:.1f} standard errors). "
    )
    + f"Adam {'gets there faster' if adam_history['val_accuracy'][0] > sgd['val_accuracy'][0] else 'is not faster'} "
    f"({adam_history['val_accuracy'][0]:.1%} after one epoch against {sgd['val_accuracy'][0]:.1%}), scaling each "
    f"weight's step by its own gradient history, and {'overfits sooner' if adam_low < sgd_low else 'does not overfit sooner'}."
)
### END SOLUTION
hp.check_answer(answer_3_5, max_sentences=3)

# %% [markdown]
# ## Evaluate: misclassified test images (Exercise 3.6)
#
# The indices of every test image the Adam model gets wrong, and a sample of
# them (green: true digit, red: prediction).

# %%
# The Adam model's predicted class of every test image, and the indices of the wrong ones.
### BEGIN SOLUTION
adam_predictions = adam_model.predict(x_test, verbose=0).argmax(axis=1)
misclassified = np.flatnonzero(adam_predictions != y_test_labels)
### END SOLUTION
print(f"{len(misclassified)} of {len(y_test_labels)} test images are misclassified:")
print(misclassified.tolist())

# %% grade_id="test_misclassified"
# Test (Exercise 3.6): the indices are exactly the test images the Adam model gets wrong.
assert len(misclassified) == len(set(misclassified)), "each misclassified index once"
assert all(0 <= i < len(y_test_labels) for i in misclassified), "indices into the test set"
### BEGIN HIDDEN TESTS
assert set(misclassified) == set(np.flatnonzero(adam_model.predict(x_test, verbose=0).argmax(1) != y_test_labels))
### END HIDDEN TESTS

# %%
hp.plot_some_samples(
    x_test_images,
    y_test_labels,
    adam_predictions,
    select_from=misclassified,
    nrows=3,
    ncols=8,
    title="misclassified MNIST test digits (Adam)",
)
# %% [markdown]
# ## Train: a fifth of the training labels randomised (Exercise 3.7)
#
# 20 % of the training examples get a label drawn uniformly at random (so
# about 18 % end up wrong); the validation labels stay clean. Adam, 100 epochs,
# compared with the same run on clean labels.

# %%
noisy_epochs = 100
# A copy of y_train with a fifth of the labels redrawn at random (seeded), and their indices.
### BEGIN SOLUTION
y_train_noisy, redrawn = hp.corrupt_labels(y_train, 0.2, seed=0)
### END SOLUTION
print(f"{len(redrawn)} labels redrawn, {np.mean(y_train_noisy.argmax(1) != y_train.argmax(1)):.1%} now wrong")

# %% grade_id="test_noisy_labels"
# Test (Exercise 3.7): a fifth of the training labels redrawn, the validation labels untouched.
assert y_train_noisy.shape == y_train.shape, f"noisy labels {y_train_noisy.shape}, clean {y_train.shape}"
test_changed = np.mean(y_train_noisy.argmax(1) != y_train.argmax(1))
assert 0.14 < test_changed < 0.22, f"{test_changed:.1%} of labels changed; redrawing 20 % changes about 18 %"

# %%
label_runs = {}
for label, targets in (("clean labels", y_train), ("20 % random labels", y_train_noisy)):
    name = "ex3_adam_100ep_clean" if targets is y_train else "ex3_adam_100ep_noisy20"
    _, label_runs[label] = hp.fit_cached(
        name,
        lambda: make_mlp_128(keras.optimizers.Adam()),
        x_train,
        targets,
        validation_data=(x_val, y_val),
        epochs=noisy_epochs,
        batch_size=batch_size,
        seed=0,
        return_model=False,
        exercise="3.7",
    )

# %%
hp.plot_histories(label_runs, title="MNIST, Adam: clean vs 20 % random training labels")
# %%
noise_table = hp.runs_table([{"training labels": k, "history": h} for k, h in label_runs.items()]).set_index(
    "training labels"
)
noise_table["final val accuracy"] = [h["val_accuracy"][-1] for h in label_runs.values()]
noise_table["epochs to 99 % train acc"] = [
    next((i + 1 for i, a in enumerate(h["accuracy"]) if a >= 0.99), None) for h in label_runs.values()
]
noise_table.round(4)

# %% [markdown]
# ### Answer to Exercise 3.7 (max 2 sentences)

# %%
noisy, clean = label_runs["20 % random labels"], label_runs["clean labels"]
peak = int(np.argmax(noisy["val_accuracy"]))
right = np.mean(y_train_noisy.argmax(1) == y_train.argmax(1))
clean_99 = noise_table.loc["clean labels", "epochs to 99 % train acc"]
noisy_99 = noise_table.loc["20 % random labels", "epochs to 99 % train acc"]

# %%
answer_3_7 = ""  # your answer
### BEGIN SOLUTION
answer_3_7 = (
    f"{'Yes, strongly' if noisy['val_accuracy'][-1] < noisy['val_accuracy'][peak] - 0.05 else 'Yes'}: with 20 % random "
    f"labels the validation accuracy peaks at {noisy['val_accuracy'][peak]:.2%} (epoch {peak + 1}), then falls to "
    f"{noisy['val_accuracy'][-1]:.2%} as the network memorises the noise (training accuracy "
    f"{noisy['accuracy'][-1]:.2%}, {'above' if noisy['accuracy'][-1] > right else 'below'} the {right:.1%} of right labels). "
    "Clean labels reach 99 % training accuracy "
    + (f"at epoch {clean_99:.0f}" if not pd.isna(clean_99) else "never")
    + ", noisy ones "
    + (f"not in {len(noisy['loss'])} epochs" if pd.isna(noisy_99) else f"only at epoch {noisy_99:.0f}")
    + " ("
    + ", ".join(
        f"{noisy['accuracy'][e - 1]:.1%} at epoch {e}" for e in (5, 50, len(noisy["loss"])) if e <= len(noisy["loss"])
    )
    + ")."
)
### END SOLUTION
hp.check_answer(answer_3_7, max_sentences=2)

# %% [markdown]
# ## Train: Adam with a decaying learning rate (going further)
#
# Plain Adam's validation curve keeps jittering because the step size never shrinks; a
# learning rate that decays from 0.001 to zero over the 50 epochs (cosine
# schedule) lets the weights settle into a minimum instead.

# %%
steps_per_epoch = int(np.ceil(len(x_train) / batch_size))
cosine_schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=epochs * steps_per_epoch)
adam_cosine_name = "ex3_adam_cosine"
adam_cosine_model, adam_cosine_history = hp.fit_cached(
    adam_cosine_name,
    lambda: make_mlp_128(keras.optimizers.Adam(learning_rate=cosine_schedule)),
    x_train,
    y_train,
    callbacks=[keep_best_weights(epochs)],
    exercise="3.5, going further",
    **mlp_fit,
)

# %%
hp.plot_histories(
    {"Adam, constant lr 0.001": adam_history, "Adam, cosine decay from 0.001": adam_cosine_history},
    title="MNIST, 1x128 ReLU: constant vs decaying Adam learning rate",
)
# %%
decay_table = hp.runs_table(
    [
        {"run": "Adam, constant lr", "history": adam_history},
        {"run": "Adam, cosine decay", "history": adam_cosine_history},
    ]
).set_index("run")
decay_table["test accuracy (best epoch)"] = [
    adam_model.evaluate(x_test, y_test, verbose=0)[1],
    adam_cosine_model.evaluate(x_test, y_test, verbose=0)[1],
]
decay_table.round(4)

# %%
constant_row, cosine_row = decay_table.loc["Adam, constant lr"], decay_table.loc["Adam, cosine decay"]
print(
    f"last-epoch validation accuracy: {cosine_row['final_val_accuracy']:.2%} with decay, "
    f"{constant_row['final_val_accuracy']:.2%} without; test accuracy of the best-epoch weights: "
    f"{cosine_row['test accuracy (best epoch)']:.2%} against {constant_row['test accuracy (best epoch)']:.2%}"
)

# %% [markdown]
# ## Train: the final model, the chosen configuration on all 60 000 training images
#
# Everything above was chosen on the validation set. The usual last step is
# to retrain that configuration (Adam with cosine decay, 50 epochs, batch 32)
# on all training images, validation part included, and to evaluate the test
# set once with its final weights.

# %%
x_train_all = np.concatenate([x_train, x_val])
y_train_all = np.concatenate([y_train, y_val])
full_schedule = keras.optimizers.schedules.CosineDecay(
    1e-3, decay_steps=epochs * int(np.ceil(len(x_train_all) / batch_size))
)

# %%
final_mlp_name = "ex3_adam_cosine_all_training_data"
final_mlp, final_mlp_history = hp.fit_cached(
    final_mlp_name,
    lambda: make_mlp_128(keras.optimizers.Adam(learning_rate=full_schedule)),
    x_train_all,
    y_train_all,
    epochs=epochs,
    batch_size=batch_size,
    test_data=(x_test, y_test),
    seed=0,
    exercise="3.5, final model",
)

# %%
final_mlp_accuracy = final_mlp.evaluate(x_test, y_test, verbose=0)[1]
print(
    f"final 1x128 model: training accuracy {final_mlp_history['accuracy'][-1]:.4f}, test accuracy {final_mlp_accuracy:.4f}"
)

# %% [markdown]
# ## Evaluate: the goal
#
# The Adam runs against the suite's goal for an MLP on MNIST, on the test set:

# %%
mlp_goal_rows = {
    "1x128 MLP, Adam": hp.headline(adam_name),
    "the same, cosine decay": hp.headline(adam_cosine_name),
    "the same, all training images": hp.headline(final_mlp_name),
}
hp.goals_table("mnist_mlp", mlp_goal_rows)

# %% [markdown]
# ## Takeaways

# %%
best_sgd = optimizer_table.loc[f"SGD lr={good_lr}"]
hp.show_takeaways(
    f"For SGD on this network a learning rate of {good_lr} works best ({best_sgd['best_val_accuracy']:.2%} validation, "
    f"{best_sgd['test accuracy (best epoch)']:.2%} test accuracy); 1 is unstable and 0.001 far too slow for {epochs} "
    "epochs.",
    f"Adam learns faster in the first epochs, but its validation loss rises after epoch {adam_low + 1}: the loss shows "
    f"overfitting that the accuracy hides. Cosine decay moves its test accuracy from "
    f"{constant_row['test accuracy (best epoch)']:.2%} to {cosine_row['test accuracy (best epoch)']:.2%}, and the same "
    f"configuration retrained on all {len(x_train_all):,} training images reaches {final_mlp_accuracy:.2%}.",
    f"With 20 % random labels the network first learns the true pattern ({noisy['val_accuracy'][peak]:.2%} validation "
    f"accuracy at epoch {peak + 1}) and then memorises the noise ({noisy['val_accuracy'][-1]:.2%} at epoch "
    f"{len(noisy['val_accuracy'])}).",
)
