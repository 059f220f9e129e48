# %% [markdown]
# # Dense baselines: softmax regression and a two-layer MLP
#
# **Description:** the simplest classifiers for MNIST and Fashion-MNIST (seed 000,
# Exercise 2), and seed 004's 784-512-512-10 network with its batch-size
# experiment. Seed 002's dense SVHN models are in notebook 12.

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
# 9. [Evaluate: softmax regression against the goal](#Evaluate:-softmax-regression-against-the-goal)
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
        hp.flatten_rescale(x_full), hp.one_hot(y_full), val_fraction=0.2, seed=seed
    )
    return {
        "train": (x_train, y_train),
        "val": (x_val, y_val),
        "test": (hp.flatten_rescale(x_test), hp.one_hot(y_test)),
        "test_images": x_test,
        "class_names": class_names,
    }


# %%
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
    """No hidden layer: 784 inputs, 10 softmax outputs; SGD at ``learning_rate``, categorical
    cross-entropy, accuracy metric."""
    ### BEGIN SOLUTION
    model = hp.build_mlp(784, [], num_classes=10, name="softmax_regression")
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
make_softmax_regression(0.1).summary()

# %% grade_id="test_softmax_regression"
# Test (Exercise 2.1): no hidden layer, softmax outputs, cross-entropy, SGD, accuracy.
with hp.keep_keras_names():  # later models keep their automatic names
    test_model = make_softmax_regression(0.1)
    assert test_model.input_shape == (None, 784), f"input shape {test_model.input_shape}: it takes flat 784-vectors"
    test_dense = [layer for layer in test_model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in test_dense] == [10], f"Dense widths {[d.units for d in test_dense]}: no hidden layer"
    assert test_dense[0].activation is keras.activations.softmax, "the output layer uses the softmax activation"
    assert isinstance(test_model.optimizer, keras.optimizers.SGD), "the optimizer is stochastic gradient descent"
    test_compiled = test_model.get_compile_config()
    test_loss = str(test_compiled["loss"]).lower()
    assert "categorical" in test_loss and "crossentropy" in test_loss and "sparse" not in test_loss, (
        "use categorical CE"
    )
    assert "accuracy" in str(test_compiled["metrics"]), "add the accuracy metric"

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


# %%
softmax_names = {"MNIST": "ex2_softmax_mnist", "Fashion-MNIST": "ex2_softmax_fashion_mnist"}
softmax_models, softmax_histories = {}, {}
for label, split in (("MNIST", mnist), ("Fashion-MNIST", fashion)):
    # Train make_softmax_regression(sgd_learning_rate) on this split under softmax_names[label], until
    # the validation loss stops decreasing; keep its model and history.
    ### BEGIN SOLUTION
    softmax_models[label], softmax_histories[label] = hp.fit_cached(
        softmax_names[label],
        lambda: make_softmax_regression(sgd_learning_rate),
        *split["train"],
        validation_data=split["val"],
        epochs=max_epochs,
        batch_size=batch_size,
        callbacks=[early_stopping()],
        test_data=split["test"],
        seed=0,
        exercise="2.2",
    )
    ### END SOLUTION

# %% grade_id="test_softmax_training"
# Test (Exercises 2.2 and 2.4): both data sets trained, with early stopping on the validation loss.
assert sorted(softmax_histories) == ["Fashion-MNIST", "MNIST"], f"trained {sorted(softmax_histories)}"
for label in softmax_names:
    test_callbacks = hp.manifest(softmax_names[label])["spec"]["callbacks"]
    assert any(c["class"] == "EarlyStopping" and c["monitor"] == "val_loss" for c in test_callbacks), (
        f"{label}: train until the validation loss stops decreasing (early stopping on val_loss)"
    )

# %% [markdown]
# ## Evaluate: learning curves (Exercises 2.3 and 2.4)

# %% grade_id="plot_mnist_curves"
# The MNIST learning curves with hp.plot_history (Exercise 2.3).
### BEGIN SOLUTION
hp.plot_history(softmax_histories["MNIST"], "MNIST, softmax regression (SGD, learning rate 0.1)")
### END SOLUTION
# %% grade_id="plot_fashion_curves"
# The Fashion-MNIST learning curves (Exercise 2.4).
### BEGIN SOLUTION
hp.plot_history(softmax_histories["Fashion-MNIST"], "Fashion-MNIST, softmax regression (SGD, learning rate 0.1)")
### END SOLUTION
# %%
softmax_summary = pd.DataFrame(
    {
        label: {
            **hp.best_metrics(history),
            "epochs_run": len(history["loss"]),
            "test_accuracy": softmax_models[label].evaluate(*split["test"], verbose=0)[1],
        }
        for (label, history), split in zip(softmax_histories.items(), (mnist, fashion))
    }
).T
softmax_summary.round(4)

# %% [markdown]
# ### Answer to Exercise 2.5 (max 2 sentences per dataset)


# %%
def overfitting_facts(history: dict) -> dict:
    """Best validation accuracy and loss, how the loss ends, and the final train-validation gap in points."""
    low = int(np.argmin(history["val_loss"]))
    return {
        **hp.best_metrics(history),
        "low": low,
        "rise": history["val_loss"][-1] - history["val_loss"][low],
        "after": len(history["loss"]) - 1 - low,
        "gap": (history["accuracy"][-1] - history["val_accuracy"][-1]) * 100,
    }


# %%
facts = {label: overfitting_facts(h) for label, h in softmax_histories.items()}
mnist_facts, mnist_curves = facts["MNIST"], softmax_histories["MNIST"]
answer_2_5_mnist = ""  # your answer
### BEGIN SOLUTION
answer_2_5_mnist = (
    f"MNIST: the best validation accuracy is {mnist_facts['best_val_accuracy']:.2%} (epoch "
    f"{mnist_facts['best_val_accuracy_epoch']}), and the validation loss "
    f"{'only levels off' if mnist_facts['rise'] < 0.005 else 'rises again'} after epoch {mnist_facts['low'] + 1} "
    f"({mnist_facts['best_val_loss']:.4f}, then {mnist_curves['val_loss'][-1]:.4f}): "
    f"{'no real' if mnist_facts['gap'] < 1 else 'some'} overfitting. With "
    f"{softmax_models['MNIST'].count_params():,} weights for {len(mnist['train'][0]):,} images and a final "
    f"train-validation gap of {mnist_facts['gap']:.1f} points, this linear model underfits rather than overfits."
)
### END SOLUTION
hp.check_answer(answer_2_5_mnist, max_sentences=2)

# %%
fashion_facts, fashion_curves = facts["Fashion-MNIST"], softmax_histories["Fashion-MNIST"]
answer_2_5_fashion = ""  # your answer
### BEGIN SOLUTION
answer_2_5_fashion = (
    f"Fashion-MNIST: the best validation accuracy is {fashion_facts['best_val_accuracy']:.2%} (epoch "
    f"{fashion_facts['best_val_accuracy_epoch']}), and the validation loss stops improving at epoch "
    f"{fashion_facts['low'] + 1} ({fashion_facts['best_val_loss']:.4f}) and "
    f"{'stays there' if fashion_facts['rise'] < 0.005 else 'rises'} ({fashion_curves['val_loss'][-1]:.4f} at the end): "
    f"hardly any overfitting. The final train-validation gap is "
    f"{'larger' if fashion_facts['gap'] > facts['MNIST']['gap'] else 'smaller'} than on MNIST "
    f"({fashion_facts['gap']:.1f} against {facts['MNIST']['gap']:.1f} points), "
    f"{'a first sign of fitting the training images more closely than new ones' if fashion_facts['gap'] > facts['MNIST']['gap'] else 'no sign of memorising'}."
)
### END SOLUTION
hp.check_answer(answer_2_5_fashion, max_sentences=2)

# %% [markdown]
# ## Build: seed 004's 784-512-512-10 network
#
# Two hidden layers of 512 ReLU units, each followed by 20 % dropout, a
# softmax output, Adam, batch size 128.


# %%
def make_seed004_mlp() -> keras.Model:
    """784 inputs; an FC layer of 512 nodes, ReLU, dropout 0.2; another FC layer of 512 nodes, ReLU,
    dropout 0.2; an FC layer of 10 nodes followed by a softmax; Adam and categorical cross-entropy."""
    ### BEGIN SOLUTION
    model = hp.build_mlp(784, [512, 512], num_classes=10, dropout=0.2, name="mlp_512_512")
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %%
make_seed004_mlp().summary()

# %% grade_id="test_seed004_mlp"
# Test (seed 004): two hidden layers of 512 units, each followed by dropout, and 10 outputs.
with hp.keep_keras_names():  # later models keep their automatic names
    test_model = make_seed004_mlp()
    test_dense = [layer.units for layer in test_model.layers if isinstance(layer, keras.layers.Dense)]
    assert test_dense == [512, 512, 10], f"Dense widths {test_dense}: 512, 512, then 10 outputs"
    test_dropout = [layer.rate for layer in test_model.layers if isinstance(layer, keras.layers.Dropout)]
    assert len(test_dropout) == 2, f"{len(test_dropout)} Dropout layers: one after each hidden layer"
    assert isinstance(test_model.optimizer, keras.optimizers.Adam), "the optimizer is Adam"

# %% [markdown]
# ## Train: seed 004's network on MNIST

# %%
mlp_epochs = 10
mlp_model, mlp_history = hp.fit_cached(
    "seed004_mlp_batch128",
    make_seed004_mlp,
    *mnist["train"],
    validation_data=mnist["val"],
    epochs=mlp_epochs,
    batch_size=128,
    test_data=mnist["test"],
    seed=0,
    exercise="seed 004",
)

# %%
hp.plot_history(mlp_history, "MNIST, 784-512-512-10 with dropout 0.2 (Adam, batch 128)")
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
hp.plot_some_samples(
    mnist["test_images"],
    mnist_test_labels,
    mlp_predictions,
    select_from=correct_indices,
    nrows=3,
    ncols=3,
    title="correctly classified",
)
# %%
hp.plot_some_samples(
    mnist["test_images"],
    mnist_test_labels,
    mlp_predictions,
    select_from=incorrect_indices,
    nrows=3,
    ncols=3,
    title="misclassified",
)
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
        f"seed004_mlp_batch{batch}",
        make_seed004_mlp,
        *mnist["train"],
        validation_data=mnist["val"],
        epochs=mlp_epochs,
        batch_size=batch,
        test_data=mnist["test"],
        seed=0,
        exercise="seed 004",
    )
    batch_runs[batch] = {"model": model, "history": history}

# %%
batch_table = pd.DataFrame(
    [
        {
            "batch size": batch,
            "updates per epoch": int(np.ceil(len(mnist["train"][0]) / batch)),
            "training time [s]": hp.manifest(f"seed004_mlp_batch{batch}")["training_seconds"],
            "final train loss": run["history"]["loss"][-1],
            "test accuracy": run["model"].evaluate(*mnist["test"], verbose=0)[1],
        }
        for batch, run in batch_runs.items()
    ]
).set_index("batch size")
batch_table.round(4)

# %%
hp.plot_histories(
    {f"batch {b}": r["history"] for b, r in batch_runs.items()}, title="Same network, same 10 epochs, three batch sizes"
)
# %% [markdown]
# ### Answer: how do batch sizes 10 000 and 32 affect training time and test accuracy?

# %%
big, small, mid = (batch_table.loc[b] for b in (10_000, 32, 128))
answer_batch_size = ""  # your answer
### BEGIN SOLUTION
answer_batch_size = (
    f"With the same {mlp_epochs} epochs, batch size 10 000 trains "
    f"{'fastest' if big['training time [s]'] < small['training time [s]'] else 'no faster'} "
    f"({big['training time [s]']:.0f} s against {small['training time [s]']:.0f} s for batch 32), because each of its "
    f"{big['updates per epoch']:.0f} updates per epoch is one large matrix product. But it reaches only "
    f"{big['test accuracy']:.2%} test accuracy against {small['test accuracy']:.2%}: its "
    f"{big['updates per epoch'] * mlp_epochs:,.0f} updates in all (batch 32: {small['updates per epoch'] * mlp_epochs:,.0f}) "
    f"leave it far from converged (training loss {big['final train loss']:.2f} against {small['final train loss']:.2f}). "
    "Small batches make many noisy updates: they converge in fewer epochs and tend to generalise well, at more "
    f"overhead per example. Batch 128 sits in between: {mid['test accuracy']:.2%} test accuracy in "
    f"{mid['training time [s]'] / small['training time [s]']:.0%} of batch 32's time."
)
### END SOLUTION
hp.check_answer(answer_batch_size, max_sentences=4)

# %% [markdown]
# ## Evaluate: softmax regression against the goal
#
# The suite's goal for a linear model on MNIST, on the test set:

# %%
hp.goals_table("mnist_softmax", {"softmax regression": hp.headline(softmax_names["MNIST"])})

# %% [markdown]
# ## Takeaways

# %%
hp.show_takeaways(
    f"Softmax regression ({softmax_models['MNIST'].count_params():,} weights, SGD with early stopping) reaches "
    f"{softmax_summary.loc['MNIST', 'test_accuracy']:.2%} test accuracy on MNIST and "
    f"{softmax_summary.loc['Fashion-MNIST', 'test_accuracy']:.2%} on Fashion-MNIST; it underfits rather than overfits.",
    f"Two hidden layers of 512 ReLU units with 20 % dropout reach {test_accuracy:.2%} on MNIST after {mlp_epochs} "
    "epochs of Adam.",
    f"Batch size trades time per epoch against updates per epoch: batch 10 000 takes "
    f"{big['training time [s]'] / small['training time [s]']:.0%} of batch 32's time over {mlp_epochs} epochs but is "
    f"{(small['test accuracy'] - big['test accuracy']) * 100:.1f} points less accurate, after "
    f"{big['updates per epoch'] * mlp_epochs:.0f} updates.",
)
