# %% [markdown]
# # Dense baselines: softmax regression and a two-layer MLP
#
# **Description:** the simplest classifiers for MNIST and Fashion-MNIST (seed 000,
# Exercise 2), seed 004's 784-512-512-10 network with its batch-size experiment,
# and seed 002's dense SVHN model when SVHN is present.

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data](#Prepare-the-data)
# 3. [Build: softmax regression (Exercise 2.1)](#Build:-softmax-regression-%28Exercise-2.1%29)
# 4. [Train: until the validation loss stops decreasing (Exercises 2.2 and 2.4)](#Train:-until-the-validation-loss-stops-decreasing-%28Exercises-2.2-and-2.4%29)
# 5. [Evaluate: learning curves (Exercises 2.3 and 2.4)](#Evaluate:-learning-curves-%28Exercises-2.3-and-2.4%29)
# 6. [Build: seed 004's 784-512-512-10 network](#Build:-seed-004's-784-512-512-10-network)
# 7. [Train: seed 004's network on MNIST](#Train:-seed-004's-network-on-MNIST)
# 8. [Train: the batch-size experiment (seed 004)](#Train:-the-batch-size-experiment-%28seed-004%29)
# 9. [Train: a dense pyramid on SVHN (seed 002, Part 1)](#Train:-a-dense-pyramid-on-SVHN-%28seed-002,-Part-1%29)
# 10. [Takeaways](#Takeaways)

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
# Both datasets: images flattened to 784-vectors in [0, 1], labels one-hot.
# 20 % of each *training* set (stratified) becomes the validation set; the
# test set is only used for the final numbers.

# %%
def prepare_flat(name: str, seed: int = 0) -> dict:
    """Load a dataset and return flat train/validation/test splits."""
    (x_full, y_full), (x_test, y_test), class_names = hp.load_dataset(name)
    (x_train, y_train), (x_val, y_val) = hp.train_val_split(
        hp.flatten_rescale(x_full), hp.one_hot(y_full), val_fraction=0.2, seed=seed)
    return {"train": (x_train, y_train), "val": (x_val, y_val),
            "test": (hp.flatten_rescale(x_test), hp.one_hot(y_test)),
            "test_images": x_test, "class_names": class_names}


mnist = prepare_flat("mnist")
fashion = prepare_flat("fashion_mnist")
print({k: v[0].shape for k, v in mnist.items() if k in ("train", "val", "test")})

# %% [markdown]
# ## Build: softmax regression (Exercise 2.1)
#
# No hidden layer: the 784 inputs feed a 10-unit softmax layer directly
# (7 850 parameters). Categorical cross-entropy loss, plain SGD, accuracy metric.

# %%
def make_softmax_regression(learning_rate: float) -> keras.Model:
    model = hp.build_mlp(784, [], num_classes=10, name="softmax_regression")
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model


make_softmax_regression(0.1).summary()

# %% [markdown]
# ## Train: until the validation loss stops decreasing (Exercises 2.2 and 2.4)
#
# Early stopping watches the validation loss: training ends once it has not
# improved for 10 epochs, and the weights of the best epoch are kept.

# %%
sgd_learning_rate = 0.1
batch_size = 128
max_epochs = 300

# %%
def early_stopping() -> keras.callbacks.EarlyStopping:
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)


softmax_models, softmax_histories = {}, {}
for label, split in (("MNIST", mnist), ("Fashion-MNIST", fashion)):
    name = "ex2_softmax_" + label.lower().replace("-", "_")
    softmax_models[label], softmax_histories[label] = hp.fit_cached(
        name, lambda: make_softmax_regression(sgd_learning_rate), *split["train"],
        validation_data=split["val"], epochs=max_epochs, batch_size=batch_size,
        callbacks=[early_stopping()], test_data=split["test"], seed=0)

# %% [markdown]
# ## Evaluate: learning curves (Exercises 2.3 and 2.4)

# %%
hp.plot_history(softmax_histories["MNIST"], "MNIST, softmax regression (SGD, learning rate 0.1)");

# %%
hp.plot_history(softmax_histories["Fashion-MNIST"], "Fashion-MNIST, softmax regression (SGD, learning rate 0.1)");

# %%
softmax_summary = pd.DataFrame({
    label: {**hp.best_metrics(history),
            "epochs_run": len(history["loss"]),
            "test_accuracy": softmax_models[label].evaluate(*split["test"], verbose=0)[1]}
    for (label, history), split in zip(softmax_histories.items(), (mnist, fashion))
}).T
softmax_summary.round(4)

# %% [markdown]
# ### Answer to Exercise 2.5 (max 2 sentences per dataset)

# %%
def overfitting_facts(history: dict) -> dict:
    """Best validation accuracy and loss, how the loss ends, and the final train-validation gap in points."""
    low = int(np.argmin(history["val_loss"]))
    return {**hp.best_metrics(history), "low": low, "rise": history["val_loss"][-1] - history["val_loss"][low],
            "after": len(history["loss"]) - 1 - low,
            "gap": (history["accuracy"][-1] - history["val_accuracy"][-1]) * 100}


facts = {label: overfitting_facts(h) for label, h in softmax_histories.items()}
mnist_facts, mnist_curves = facts["MNIST"], softmax_histories["MNIST"]
answer_2_5_mnist = (
    f"MNIST: the best validation accuracy is {mnist_facts['best_val_accuracy']:.2%} (epoch {mnist_facts['best_val_accuracy_epoch']}) and "
    f"there is {'no real' if mnist_facts['gap'] < 1 else 'some'} overfitting, since the validation loss "
    f"{'only levels off' if mnist_facts['rise'] < 0.005 else 'rises again'} ({mnist_facts['best_val_loss']:.4f} at its best epoch "
    f"{mnist_facts['low'] + 1}, {mnist_curves['val_loss'][-1]:.4f} {mnist_facts['after']} epochs later) and the final training accuracy is just "
    f"{mnist_facts['gap']:.1f} points above the validation accuracy ({mnist_curves['accuracy'][-1]:.2%} against {mnist_curves['val_accuracy'][-1]:.2%}). "
    f"With {softmax_models['MNIST'].count_params():,} weights for {len(mnist['train'][0]):,} training images this "
    f"linear model is too simple to memorise anything: it underfits rather than overfits."
)
hp.check_answer(answer_2_5_mnist, max_sentences=2)

# %%
fashion_facts, fashion_curves = facts["Fashion-MNIST"], softmax_histories["Fashion-MNIST"]
answer_2_5_fashion = (
    f"Fashion-MNIST: the best validation accuracy is {fashion_facts['best_val_accuracy']:.2%} (epoch {fashion_facts['best_val_accuracy_epoch']})"
    f" and again there is hardly any overfitting, since the validation loss stops improving at epoch {fashion_facts['low'] + 1} "
    f"({fashion_facts['best_val_loss']:.4f}) and {'stays there' if fashion_facts['rise'] < 0.005 else 'rises'} ({fashion_curves['val_loss'][-1]:.4f} at "
    f"epoch {len(fashion_curves['loss'])}). The gap between training and validation accuracy is "
    f"{'larger' if fashion_facts['gap'] > facts['MNIST']['gap'] else 'smaller'} than on MNIST ({fashion_curves['accuracy'][-1]:.2%} against "
    f"{fashion_curves['val_accuracy'][-1]:.2%} at the end, {fashion_facts['gap']:.1f} against {facts['MNIST']['gap']:.1f} points), a first, "
    f"small sign of fitting the training images more closely than new ones, on a task that a linear model solves far "
    f"less well."
)
hp.check_answer(answer_2_5_fashion, max_sentences=2)

# %% [markdown]
# ## Build: seed 004's 784-512-512-10 network
#
# Two hidden layers of 512 ReLU units, each followed by 20 % dropout, a
# softmax output, Adam, batch size 128.

# %%
def make_seed004_mlp() -> keras.Model:
    model = hp.build_mlp(784, [512, 512], num_classes=10, dropout=0.2, name="mlp_512_512")
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model


make_seed004_mlp().summary()

# %% [markdown]
# ## Train: seed 004's network on MNIST

# %%
mlp_epochs = 10
mlp_model, mlp_history = hp.fit_cached(
    "seed004_mlp_batch128", make_seed004_mlp, *mnist["train"], validation_data=mnist["val"],
    epochs=mlp_epochs, batch_size=128, test_data=mnist["test"], seed=0)

# %%
hp.plot_history(mlp_history, "MNIST, 784-512-512-10 with dropout 0.2 (Adam, batch 128)");

# %%
test_loss, test_accuracy = mlp_model.evaluate(*mnist["test"], verbose=0)
print(f"test accuracy {test_accuracy:.4f}, test loss {test_loss:.4f}")

# %% [markdown]
# ### Inspecting the output: nine right, nine wrong
#
# Green (bottom left) is the true digit, red (bottom right) the prediction.

# %%
mnist_test_labels = mnist["test"][1].argmax(axis=1)
mlp_predictions = mlp_model.predict(mnist["test"][0], verbose=0).argmax(axis=1)
correct_indices = np.flatnonzero(mlp_predictions == mnist_test_labels)
incorrect_indices = np.flatnonzero(mlp_predictions != mnist_test_labels)
print(f"{len(correct_indices)} correct, {len(incorrect_indices)} incorrect test digits")

# %%
hp.plot_some_samples(mnist["test_images"], mnist_test_labels, mlp_predictions,
                     select_from=correct_indices, nrows=3, ncols=3, title="correctly classified");

# %%
hp.plot_some_samples(mnist["test_images"], mnist_test_labels, mlp_predictions,
                     select_from=incorrect_indices, nrows=3, ncols=3, title="misclassified");

# %% [markdown]
# ## Train: the batch-size experiment (seed 004)
#
# The same network and the same number of epochs with batch size 32 and with
# batch size 10 000. The training time is the wall-clock time recorded in each
# run's cache manifest on this 2-core CPU machine.

# %%
batch_runs = {}
for batch in (32, 128, 10_000):
    model, history = hp.fit_cached(
        f"seed004_mlp_batch{batch}", make_seed004_mlp, *mnist["train"], validation_data=mnist["val"],
        epochs=mlp_epochs, batch_size=batch, test_data=mnist["test"], seed=0)
    batch_runs[batch] = {"model": model, "history": history}

# %%
batch_table = pd.DataFrame([{
    "batch size": batch,
    "updates per epoch": int(np.ceil(len(mnist["train"][0]) / batch)),
    "training time [s]": hp.manifest(f"seed004_mlp_batch{batch}")["training_seconds"],
    "final train loss": run["history"]["loss"][-1],
    "test accuracy": run["model"].evaluate(*mnist["test"], verbose=0)[1],
} for batch, run in batch_runs.items()]).set_index("batch size")
batch_table.round(4)

# %%
hp.plot_histories({f"batch {b}": r["history"] for b, r in batch_runs.items()},
                  title="Same network, same 10 epochs, three batch sizes");

# %% [markdown]
# ### Answer: how do batch sizes 10 000 and 32 affect training time and test accuracy?

# %%
big, small, mid = (batch_table.loc[b] for b in (10_000, 32, 128))
answer_batch_size = (
    f"With the same {mlp_epochs} epochs, batch size 10 000 trains "
    f"{'fastest' if big['training time [s]'] < small['training time [s]'] else 'no faster'} "
    f"({big['training time [s]']:.0f} s against {small['training time [s]']:.0f} s for batch 32 on this 2-core CPU) "
    f"because each of its {big['updates per epoch']:.0f} updates per epoch is one large, well-parallelised matrix "
    f"product, but it reaches only {big['test accuracy']:.2%} test accuracy against {small['test accuracy']:.2%} for "
    f"batch 32. It makes only {big['updates per epoch'] * mlp_epochs:,.0f} weight updates in all, against "
    f"{small['updates per epoch'] * mlp_epochs:,.0f} for batch 32, so after {mlp_epochs} epochs it is far from "
    f"converged (final training loss {big['final train loss']:.2f} against {small['final train loss']:.2f}). "
    f"Small batches make many noisy updates per epoch: they converge in fewer epochs, and the gradient noise tends to "
    f"lead to solutions that generalise well, at the price of more steps and more overhead per example. Batch 128 sits "
    f"in between, with {mid['test accuracy']:.2%} test accuracy in "
    f"{mid['training time [s]'] / small['training time [s]']:.0%} of batch 32's time."
)
hp.check_answer(answer_batch_size, max_sentences=4)

# %% [markdown]
# ## Train: a dense pyramid on SVHN (seed 002, Part 1)
#
# Seed 002 asks for a dense network of at least three layers shaped like a
# pyramid, trained for at most 50 epochs on SVHN (at least 70 % validation
# accuracy), first on RGB and then on grey images. It runs when SVHN is on
# this machine; otherwise the next cell says how to get it.

# %%
svhn = hp.try_load_dataset("svhn", would_run="the dense pyramid on colour (model_1_1) and grey (model_1_2) SVHN, "
                                          "50 epochs each, via run_evaluation")

# %%
def build_svhn_pyramid(input_dim: int) -> keras.Model:
    """Dense pyramid: every hidden layer half as wide as the one before."""
    model = hp.build_mlp(input_dim, [512, 256, 128], num_classes=10, name="svhn_pyramid")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model


def build_model_1_1() -> keras.Model:
    """Seed 002's Question 1.1 model: the pyramid on colour images (32 x 32 x 3 = 3072 inputs)."""
    return build_svhn_pyramid(3072)


def build_model_1_2() -> keras.Model:
    """Seed 002's Question 1.2 model: the same pyramid on grey images (1024 inputs)."""
    return build_svhn_pyramid(1024)


if svhn is not None:
    (x_svhn, y_svhn), (x_svhn_test, y_svhn_test), _ = svhn
    svhn_splits = hp.svhn_seed_split(np.concatenate([x_svhn, x_svhn_test]),
                                     np.concatenate([y_svhn, y_svhn_test]), seed=1)
    (x_tr, y_tr), (x_va, y_va) = svhn_splits["train"], svhn_splits["val"]
    rgb_split = (hp.flatten_rescale(x_tr), hp.flatten_rescale(x_va), hp.one_hot(y_tr), hp.one_hot(y_va))
    _, history_1_1 = hp.run_evaluation("model_1_1", build_model_1_1, rgb_split, train=True, epochs=50, batch_size=128)

# %%
if svhn is not None:
    best_1_1 = max(history_1_1["val_accuracy"])
    answer_q_1_1 = (
        "A 3072-512-256-128-10 pyramid with ReLU, Adam (learning rate 0.001), batch 128, 50 epochs, no "
        "preprocessing or regularization: halving the width at each layer compresses the image step by step. "
        f"Best validation accuracy {best_1_1:.1%} ({'above' if best_1_1 >= 0.7 else 'below'} the 70 % target); "
        f"the training accuracy ends at {history_1_1['accuracy'][-1]:.1%}, so the gap shows how much a dense "
        "network memorises pixels instead of learning shapes."
    )
    hp.check_answer(answer_q_1_1, max_chars=500)

# %%
if svhn is not None:
    gray_split = (hp.flatten_rescale(hp.rgb2gray(x_tr)), hp.flatten_rescale(hp.rgb2gray(x_va)),
                  hp.one_hot(y_tr), hp.one_hot(y_va))
    _, history_1_2 = hp.run_evaluation("model_1_2", build_model_1_2, gray_split, train=True, epochs=50, batch_size=128)
    best_1_2 = max(history_1_2["val_accuracy"])
    answer_q_1_2 = (
        "The same pyramid on grey images (luminance 0.299 R + 0.587 G + 0.114 B), so 1024 inputs instead of "
        f"3072. Best validation accuracy {best_1_2:.1%} vs {best_1_1:.1%} in colour "
        f"({(best_1_2 - best_1_1) * 100:+.1f} points). A digit's identity lies in its shape, not its colour, and "
        "the grey model has a third of the first layer's weights to fit, so it learns the same task with fewer "
        "parameters and less time."
    )
    hp.check_answer(answer_q_1_2, max_chars=500)

# %% [markdown]
# ## Takeaways
#
# * Softmax regression (7 850 weights, SGD with early stopping) reaches
#   92.45 % test accuracy on MNIST and 84.37 % on Fashion-MNIST; it underfits,
#   with no sign of the validation loss rising.
# * Two hidden layers of 512 ReLU units with 20 % dropout reach 97.85 % on
#   MNIST after 10 epochs of Adam.
# * Batch size trades time per epoch against updates per epoch: batch 10 000
#   is 2.5 times faster than batch 32 over 10 epochs but 2.7 points less
#   accurate, because 50 updates are not enough.
