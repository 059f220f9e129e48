# %% [markdown]
# # Dense baselines: softmax regression and a two-layer MLP
#
# **Description:** the simplest classifiers for MNIST and Fashion-MNIST (seed 000,
# Exercise 2), seed 004's 784-512-512-10 network with its batch-size experiment,
# and seed 002's dense SVHN model when SVHN is present.

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
    return hp.compile_classifier(model, keras.optimizers.SGD(learning_rate=learning_rate))


make_softmax_regression(0.1).summary()

# %% [markdown]
# ## Train until the validation loss stops decreasing (Exercises 2.2 and 2.4)
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
answer_2_5_mnist = """MNIST: the best validation accuracy is 92.62 % (epoch 35) and there is no real overfitting, since the validation loss only levels off (0.2675 at its best epoch 77, 0.2676 ten epochs later) and the final training accuracy is just 0.5 points above the validation accuracy (93.14 % against 92.62 %). With 7 850 weights for 48 000 training images this linear model is too simple to memorise anything: it underfits rather than overfits."""
hp.check_answer(answer_2_5_mnist, max_sentences=2)

# %%
answer_2_5_fashion = """Fashion-MNIST: the best validation accuracy is 85.48 % (epoch 49) and again there is hardly any overfitting, since the validation loss stops improving at epoch 60 (0.4159) and stays there (0.4161 at epoch 70) instead of rising. The gap between training and validation accuracy is larger than on MNIST (87.01 % against 85.43 % at the end), a first, small sign of fitting the training images more closely than new ones, on a task that a linear model solves far less well."""
hp.check_answer(answer_2_5_fashion, max_sentences=2)

# %% [markdown]
# ## Build: seed 004's 784-512-512-10 network
#
# Two hidden layers of 512 ReLU units, each followed by 20 % dropout, a
# softmax output, Adam, batch size 128.

# %%
def make_seed004_mlp() -> keras.Model:
    model = hp.build_mlp(784, [512, 512], num_classes=10, dropout=0.2, name="mlp_512_512")
    return hp.compile_classifier(model, keras.optimizers.Adam())


make_seed004_mlp().summary()

# %% [markdown]
# ## Train and evaluate it on MNIST

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
# ## The batch-size experiment (seed 004)
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
answer_batch_size = """With the same 10 epochs, batch size 10 000 trains fastest (26 s against 65 s for batch 32 on this 2-core CPU) because each of its 5 updates per epoch is one large, well-parallelised matrix product, but it reaches only 95.21 % test accuracy against 97.88 % for batch 32. It makes only 50 weight updates in all, against 15 000 for batch 32, so after 10 epochs it is far from converged (final training loss 0.19 against 0.04). Small batches make many noisy updates per epoch: they converge in fewer epochs, and the gradient noise tends to lead to solutions that generalise well, at the price of more steps and more overhead per example. Batch 128 sits in between, with almost the accuracy of batch 32 (97.85 %) in two thirds of its time."""
hp.check_answer(answer_batch_size, max_sentences=4)

# %% [markdown]
# ## Seed 002, Part 1: a dense pyramid on SVHN
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
    return hp.compile_classifier(model, keras.optimizers.Adam(learning_rate=1e-3))


if svhn is not None:
    (x_svhn, y_svhn), (x_svhn_test, y_svhn_test), _ = svhn
    svhn_splits = hp.svhn_seed_split(np.concatenate([x_svhn, x_svhn_test]),
                                     np.concatenate([y_svhn, y_svhn_test]), seed=1)
    (x_tr, y_tr), (x_va, y_va) = svhn_splits["train"], svhn_splits["val"]
    rgb_split = (hp.flatten_rescale(x_tr), hp.flatten_rescale(x_va), hp.one_hot(y_tr), hp.one_hot(y_va))
    _, history_1_1 = hp.run_evaluation("model_1_1", build_svhn_pyramid, rgb_split, train=True,
                                       epochs=50, batch_size=128, input_dim=3072)

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
    _, history_1_2 = hp.run_evaluation("model_1_2", build_svhn_pyramid, gray_split, train=True,
                                       epochs=50, batch_size=128, input_dim=1024)
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
