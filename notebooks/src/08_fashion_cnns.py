# %% [markdown]
# # Convolutional networks for Fashion-MNIST: a naive and a tuned CNN
#
# **Description:** a CNN without regularizers overfits (Exercise 6.1); batch
# normalisation, dropout and L2 are added one at a time (6.2); a tuned CNN
# with all three and more, its learning curves (6.3) and test-time
# augmentation; and how it compares with the best dense network (6.4).

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data](#Prepare-the-data)
# 3. [Build: a CNN without explicit regularizers (Exercise 6.1)](#Build:-a-CNN-without-explicit-regularizers-%28Exercise-6.1%29)
# 4. [Train: the naive CNN (Exercise 6.1)](#Train:-the-naive-CNN-%28Exercise-6.1%29)
# 5. [Train: one regularizer at a time (Exercise 6.2)](#Train:-one-regularizer-at-a-time-%28Exercise-6.2%29)
# 6. [Build: the tuned CNN, with all three and more](#Build:-the-tuned-CNN,-with-all-three-and-more)
# 7. [Train: the tuned CNN](#Train:-the-tuned-CNN)
# 8. [Evaluate: both learning curves in one figure (Exercise 6.3)](#Evaluate:-both-learning-curves-in-one-figure-%28Exercise-6.3%29)
# 9. [Evaluate: the CNNs against the best dense network of notebook 05 (Exercise 6.4)](#Evaluate:-the-CNNs-against-the-best-dense-network-of-notebook-05-%28Exercise-6.4%29)
# 10. [Evaluate: the goals, and what training this notebook costs](#Evaluate:-the-goals,-and-what-training-this-notebook-costs)
# 11. [Takeaways](#Takeaways)

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
# Images as `(N, 28, 28, 1)` in [0, 1], one-hot labels, 20 % of the training
# set held out for validation (stratified); the test set is only used for
# the final numbers.

# %%
fashion = hp.image_splits("fashion_mnist")
x_fashion_val, y_fashion_val = fashion["val"]
x_fashion_test, y_fashion_test = fashion["test"]
print({k: v[0].shape for k, v in fashion.items() if k != "class_names"})

# %% [markdown]
# ## Build: a CNN without explicit regularizers (Exercise 6.1)
#
# Two blocks of two 3x3 convolutions with max pooling, a 256-unit dense layer
# and Adam's default learning rate, trained for 10 epochs: enough to see it
# overfit. `hp.build_vgg_cnn` builds it with its regularizers switched off;
# Exercise 6.2 switches them back on one at a time.


# %%
def make_fashion_cnn_small(
    *, batch_norm: bool = False, dropout: float = 0.0, l2: float = 0.0, name: str = "naive_cnn"
) -> keras.Model:
    """The naive CNN (no arguments), or it with batch norm, one dropout rate everywhere, or L2 on kernels and biases."""
    ### BEGIN SOLUTION
    model = hp.build_vgg_cnn(
        (28, 28, 1),
        (32, 64),
        dropouts=(dropout, dropout),
        dense_units=256,
        dense_dropout=dropout,
        l2=l2,
        batch_norm=batch_norm,
        name=name,
    )
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %%
make_fashion_cnn_small().summary()

# %% grade_id="test_fashion_cnn_small"
# Test (Exercises 6.1 and 6.2): a CNN for 28x28x1 images; regularizers only when asked for, each where asked.
with hp.keep_keras_names():  # later models keep their automatic names
    test_naive = make_fashion_cnn_small()
    assert test_naive.input_shape == (None, 28, 28, 1) and test_naive.output_shape == (None, 10), "28x28x1 in, 10 out"
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in test_naive.layers), "a CNN has convolutions"
    test_kinds = {type(layer).__name__ for layer in test_naive.layers}
    assert not test_kinds & {"Dropout", "BatchNormalization"}, (
        f"the naive CNN has {test_kinds & {'Dropout', 'BatchNormalization'}}"
    )
    assert all(getattr(layer, "kernel_regularizer", None) is None for layer in test_naive.layers), (
        "no L2 in the naive CNN"
    )
    assert any(
        isinstance(lay, keras.layers.BatchNormalization) for lay in make_fashion_cnn_small(batch_norm=True).layers
    )
    assert any(isinstance(lay, keras.layers.Dropout) for lay in make_fashion_cnn_small(dropout=0.3).layers)
    assert any(getattr(lay, "kernel_regularizer", None) for lay in make_fashion_cnn_small(l2=5e-4).layers), "L2 kernels"

# %% [markdown]
# ## Train: the naive CNN (Exercise 6.1)

# %%
naive_epochs = 10
naive_name = "fashion_cnn_naive"
fashion_naive, fashion_naive_history = hp.fit_cached(
    naive_name,
    make_fashion_cnn_small,
    *fashion["train"],
    validation_data=fashion["val"],
    epochs=naive_epochs,
    batch_size=128,
    test_data=fashion["test"],
    seed=0,
    exercise="6.1",
)

# %% [markdown]
# ## Train: one regularizer at a time (Exercise 6.2)
#
# The same network and 10 epochs, with one change each: batch normalisation
# before every ReLU; dropout 0.3 after each pooling layer and before the
# output; or an L2 penalty of 5e-4 on every kernel and bias. Only the
# validation set is looked at here.

# %%
regularizer_variants = {  # label: (cache name, builder switches)
    "batch norm": ("fashion_cnn_naive_bn", {"batch_norm": True}),
    "dropout 0.3": ("fashion_cnn_naive_dropout", {"dropout": 0.3}),
    "L2 5e-4 on kernels and biases": ("fashion_cnn_naive_l2", {"l2": 5e-4}),
}

# %%
ablation_histories = {"naive CNN": fashion_naive_history}
for label, (name, switches) in regularizer_variants.items():
    # Train make_fashion_cnn_small(**switches, name=name) like the naive CNN; keep its history.
    ### BEGIN SOLUTION
    _, ablation_histories[label] = hp.fit_cached(
        name,
        lambda: make_fashion_cnn_small(**switches, name=name),
        *fashion["train"],
        validation_data=fashion["val"],
        epochs=naive_epochs,
        batch_size=128,
        test_data=fashion["test"],
        seed=0,
        return_model=False,
        exercise="6.2",
    )
    ### END SOLUTION

# %% grade_id="test_regularizer_runs"
# Test (Exercise 6.2): one run per regularizer, each as long as the naive run.
assert set(regularizer_variants) <= set(ablation_histories), f"trained {sorted(ablation_histories)}"
for label in regularizer_variants:
    test_epochs = len(ablation_histories[label]["loss"])
    assert test_epochs >= hp.required_epochs(naive_epochs), f"{label}: {test_epochs} epochs"

# %%
hp.plot_histories(ablation_histories, title="Fashion-MNIST: the naive CNN with one regularizer each")
# %%
ablation = hp.runs_table([{"variant": k, "history": h} for k, h in ablation_histories.items()]).set_index("variant")
ablation["train - val gap (last epoch)"] = ablation["final_train_accuracy"] - ablation["final_val_accuracy"]
ablation.round(4)

# %% [markdown]
# ### Answer to Exercise 6.2

# %%
bn_label, dropout_label, l2_label = regularizer_variants  # the labels, in the order above
naive_row, variants = ablation.loc["naive CNN"], ablation.drop("naive CNN")
improved = variants.index[variants["best_val_accuracy"] > naive_row["best_val_accuracy"]].tolist()
bn_val = ablation_histories[bn_label]["val_accuracy"]
bn_val = bn_val[1:] or bn_val  # after the first epoch (all of it in a one-epoch smoke run)
gaps = variants["train - val gap (last epoch)"] * 100

# %%
answer_6_2 = ""  # your answer
### BEGIN SOLUTION
answer_6_2 = (
    f"Only {' and '.join(improved) or 'none of them'} raised the best validation accuracy above the naive CNN's "
    f"{naive_row['best_val_accuracy']:.2%}. Final train-validation gaps: "
    + ", ".join(f"{gap:.1f} points with {label}" for label, gap in gaps.items())
    + f", against {naive_row['train - val gap (last epoch)'] * 100:.1f} without. Dropout trains a different thinned "
    "network at every step, so no unit can rely on another to memorise an image. Batch normalisation fits fastest "
    f"({variants.loc[bn_label, 'final_train_accuracy']:.1%} training accuracy), but at a constant learning rate its "
    f"validation accuracy jumps between {min(bn_val):.1%} and {max(bn_val):.1%}. L2 at 5e-4 pulls every weight "
    f"towards zero hard enough to cost accuracy ({variants.loc[l2_label, 'best_val_accuracy']:.2%})."
)
### END SOLUTION
hp.check_answer(answer_6_2, max_sentences=5)

# %% [markdown]
# ## Build: the tuned CNN, with all three and more
#
# The tuned network is the recipe that won the search kept in the appendix
# notebook `09_fashion_cnn_search`; here it is trained once, for 30 epochs.
# Each ingredient was picked for accuracy per CPU-minute:
#
# * three VGG blocks of two 3x3 convolutions (48, 96 and 192 filters), each
#   with batch normalisation (Ioffe and Szegedy 2015), then 2x2 max pooling
#   and light dropout (0.1, 0.15, 0.2; 0.3 before the output layer);
# * an L2 penalty of 5e-5 on the kernels and biases;
# * augmentation layers inside the model, active in training only:
#   horizontal flips (a mirrored shirt is still a shirt), 10 % shifts and
#   random erasing (a noise rectangle in 30 % of the images, Zhong et al.
#   2017);
# * label smoothing 0.1 (Szegedy et al. 2016), so the network is not pushed
#   towards certainty on the ambiguous tops;
# * Adam with one epoch of linear warm-up, then cosine decay to 0;
# * bfloat16 computation (mixed precision; the weights and the softmax stay
#   float32): this CPU has AVX-512 BF16 instructions, and
#   `benchmarks/precision.py` measures how much faster an epoch is than in
#   float32 (BENCHMARKS.md has the latest run);
# * test-time augmentation: averaging the predictions over shifted and
#   mirrored copies of each image (below).


# %%
def make_fashion_cnn_tuned(
    epochs: int, *, name: str = "tuned_cnn", train_size: int = 48_000, batch_size: int = 128
) -> keras.Model:
    """The tuned CNN; `epochs`, `train_size` and `batch_size` set the learning-rate schedule's length."""
    ### BEGIN SOLUTION
    model = hp.build_vgg_cnn(
        (28, 28, 1),
        (48, 96, 192),
        dropouts=(0.1, 0.15, 0.2),
        dense_units=256,
        dense_dropout=0.3,
        l2=5e-5,
        dtype="mixed_bfloat16",
        name=name,
        augmentation=hp.make_augmentation(flip=True, translate=0.1, erase=0.3),
    )
    schedule = hp.warmup_cosine(2e-3, epochs, steps_per_epoch=int(np.ceil(train_size / batch_size)))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
tuned_epochs = 30
make_fashion_cnn_tuned(tuned_epochs).summary()

# %% [markdown]
# ## Train: the tuned CNN

# %%
fashion_tuned, fashion_tuned_history = hp.fit_cached(
    hp.FASHION_CNN_FINAL,
    lambda: make_fashion_cnn_tuned(tuned_epochs),
    *fashion["train"],
    validation_data=fashion["val"],
    epochs=tuned_epochs,
    batch_size=128,
    test_data=fashion["test"],
    seed=0,
    exercise="6.3",
)

# %% [markdown]
# ## Evaluate: both learning curves in one figure (Exercise 6.3)
#
# Solid lines: validation; dashed: training batches (for the tuned network,
# augmented images with dropout active).

# %% grade_id="plot_naive_tuned"
# The naive and the tuned CNN's learning curves in one comparison plot (Exercise 6.3).
### BEGIN SOLUTION
hp.plot_histories(
    {"naive CNN": fashion_naive_history, "tuned CNN": fashion_tuned_history}, title="Fashion-MNIST: naive vs tuned CNN"
)
### END SOLUTION
# %%
curves = pd.DataFrame(
    {
        label: {
            "best val accuracy": max(history["val_accuracy"]),
            "epoch of best val accuracy": int(np.argmax(history["val_accuracy"])) + 1,
            "epoch of lowest val loss": int(np.argmin(history["val_loss"])) + 1,
            "last train accuracy": history["accuracy"][-1],
            "last val accuracy": history["val_accuracy"][-1],
            "last val loss": history["val_loss"][-1],
        }
        for label, history in (("naive CNN", fashion_naive_history), ("tuned CNN", fashion_tuned_history))
    }
)
curves.round(4)

# %%
naive_curve, tuned_curve = curves["naive CNN"], curves["tuned CNN"]
answer_curves_fashion = ""  # your answer
### BEGIN SOLUTION
answer_curves_fashion = (
    f"The naive CNN memorises its training images: training accuracy {naive_curve['last train accuracy']:.1%}, "
    f"validation {naive_curve['last val accuracy']:.2%}, and its validation loss is lowest at epoch "
    f"{naive_curve['epoch of lowest val loss']:.0f}, then rises to {naive_curve['last val loss']:.2f}: it overfits. "
    f"The tuned CNN's training accuracy ({tuned_curve['last train accuracy']:.1%}) stays below its validation "
    f"accuracy ({tuned_curve['last val accuracy']:.2%}), measured on augmented images with dropout active. Its "
    f"validation loss is lowest at epoch {tuned_curve['epoch of lowest val loss']:.0f} of {tuned_epochs}, so it "
    f"{'does not overfit' if tuned_curve['epoch of lowest val loss'] >= tuned_epochs - 3 else 'overfits late'}. "
    + (
        "Its validation loss stays higher because label smoothing keeps its probabilities away from 1."
        if tuned_curve["last val loss"] > naive_curve["last val loss"]
        else "Its validation loss ends lower too."
    )
)
### END SOLUTION
hp.check_answer(answer_curves_fashion, max_sentences=4)

# %% [markdown]
# ### Test-time augmentation, chosen on the validation set
#
# The tuned network predicts every image in ten views: the image and its
# mirror image, each also moved one pixel up, down, left and right.
# Averaging the predicted probabilities over views smooths out the
# network's sensitivity to where exactly a garment sits. The predictions are
# cached with the model's checksum, so a re-run loads them.

# %%
tuned_val_predictions = hp.cached_predictions(
    "fashion_final_val", [hp.FASHION_CNN_FINAL], x_fashion_val, flip=True, shift=1
)
tuned_test_predictions = hp.cached_predictions(
    "fashion_final_test", [hp.FASHION_CNN_FINAL], x_fashion_test, flip=True, shift=1
)
print("(models, views, images, classes):", tuned_val_predictions.shape)

# %% [markdown]
# One view, the image and its mirror, or all ten views: the validation
# column chooses; the test column is shown, not used.

# %%
tta_candidates = {"one view": 1, "image and mirror image": 2, "ten views": 10}
tta_choice = pd.DataFrame(
    {
        label: {
            "val accuracy": hp.accuracy(tuned_val_predictions[0, :views].mean(axis=0), y_fashion_val),
            "test accuracy": hp.accuracy(tuned_test_predictions[0, :views].mean(axis=0), y_fashion_test),
        }
        for label, views in tta_candidates.items()
    }
).T
best_tta_label = tta_choice["val accuracy"].idxmax()
final_label = f"tuned CNN, {best_tta_label}"
final_accuracy = tta_choice.loc[best_tta_label, "test accuracy"]
print("chosen on validation:", best_tta_label)
tta_choice.round(4)

# %% [markdown]
# ## Evaluate: the CNNs against the best dense network of notebook 05 (Exercise 6.4)

# %%
best_dense_name = max(
    hp.DENSE_RUNS.values(),
    key=lambda name: hp.manifest(name)["metrics"]["best"]["val_accuracy"],
)  # chosen on validation
best_dense = hp.manifest(best_dense_name)
print("best dense network of notebook 05, chosen on validation:", best_dense_name)

# %%
fashion_rows = {  # label: (test accuracy, cache name)
    f"best dense network ({best_dense_name})": (best_dense["metrics"]["test"]["accuracy"], best_dense_name),
    "naive CNN": (hp.manifest(naive_name)["metrics"]["test"]["accuracy"], naive_name),
    "tuned CNN, one view": (tta_choice.loc["one view", "test accuracy"], hp.FASHION_CNN_FINAL),
    f"final: {final_label}": (final_accuracy, hp.FASHION_CNN_FINAL),
}
fashion_models = {
    naive_name: fashion_naive,
    hp.FASHION_CNN_FINAL: fashion_tuned,
    best_dense_name: hp.load_cached(best_dense_name)[0],
}

# %%
fashion_table = pd.DataFrame(
    {
        label: {
            "test accuracy": accuracy,
            "parameters": fashion_models[name].count_params(),
            "training time [min]": hp.manifest(name)["training_seconds"] / 60,
        }
        for label, (accuracy, name) in fashion_rows.items()
    }
).T
fashion_table["test errors (of 10 000)"] = (
    ((1 - fashion_table["test accuracy"]) * len(y_fashion_test)).round().astype(int)
)
fashion_table["parameters"] = fashion_table["parameters"].astype(int)
fashion_table.round({"test accuracy": 4, "training time [min]": 1})

# %% [markdown]
# ### Answer to Exercise 6.4: how does the CNN compare with the best dense network?

# %%
dense_row, final_row = fashion_table.iloc[0], fashion_table.iloc[-1]
dense_accuracy = dense_row["test accuracy"]
fewer_errors = 1 - final_row["test errors (of 10 000)"] / dense_row["test errors (of 10 000)"]
answer_6_4 = ""  # your answer
### BEGIN SOLUTION
answer_6_4 = (
    f"The tuned CNN reaches {final_accuracy:.2%} test accuracy ({final_label}) against {dense_accuracy:.2%} for the "
    f"best dense network: {fewer_errors:.0%} fewer errors, with "
    f"{final_row['parameters'] / dense_row['parameters']:.1f} times its parameters. Convolutions share their weights "
    "across positions, so a collar or a sole is learnt once wherever it appears, and stacked convolutions build "
    "edges into parts into garments. Regularisation matters too: the naive CNN stops at "
    f"{fashion_table.loc['naive CNN', 'test accuracy']:.2%}. The price is "
    f"{final_row['training time [min]']:.0f} minutes of training against {dense_row['training time [min]']:.0f}."
)
### END SOLUTION
hp.check_answer(answer_6_4, max_sentences=4)

# %% [markdown]
# ## Evaluate: the goals, and what training this notebook costs

# %%
final_views = tta_candidates[best_tta_label]
fashion_goal_rows = {
    "tuned CNN, one view": hp.headline(hp.FASHION_CNN_FINAL, tta_choice.loc["one view", "test accuracy"]),
    f"final: {final_label}": hp.headline(hp.FASHION_CNN_FINAL, final_accuracy, views=final_views),
}
hp.goals_table("fashion_cnn", fashion_goal_rows)

# %% [markdown]
# Every model above was trained on this machine's 2 CPU cores, and a re-run
# loads it from the cache. Training them again from an empty cache would take
# this long (the manifests record each run's time). The search that found
# the tuned recipe is not part of this bill: `09_fashion_cnn_search` shows
# its cost.

# %%
fashion_names = [naive_name, *(name for name, _ in regularizer_variants.values()), hp.FASHION_CNN_FINAL]
training_cost = hp.training_times(fashion_names)
print(f"{len(training_cost)} runs, {training_cost['training time [min]'].sum() / 60:.1f} hours in all")
training_cost.round(1)

# %% [markdown]
# ## Takeaways

# %%
minutes = training_cost["training time [min]"]
hp.show_takeaways(
    f"The naive CNN overfits after a few epochs (lowest validation loss at epoch "
    f"{naive_curve['epoch of lowest val loss']:.0f}) and reaches {fashion_table.loc['naive CNN', 'test accuracy']:.2%}.",
    f"Added alone, {' and '.join(improved) or 'no regularizer'} raised the best validation accuracy "
    f"({', '.join(f'{label} {acc:.2%}' for label, acc in variants['best_val_accuracy'].items())}, against "
    f"{naive_row['best_val_accuracy']:.2%}).",
    f"The tuned CNN reaches {tta_choice.loc['one view', 'test accuracy']:.2%} from one view and "
    f"{final_accuracy:.2%} over its {best_tta_label} (chosen on validation): "
    f"{final_row['test errors (of 10 000)']:.0f} errors, against the naive CNN's "
    f"{fashion_table.loc['naive CNN', 'test errors (of 10 000)']:.0f} and the best dense network's "
    f"{dense_row['test errors (of 10 000)']:.0f}.",
    f"The cost is CPU time: {minutes[hp.FASHION_CNN_FINAL]:.0f} minutes for the tuned CNN on 2 cores, against "
    f"{minutes[naive_name]:.0f} for the naive CNN and {minutes.iloc[1:4].sum():.0f} for its three variants.",
)
