# %% [markdown]
# # Convolutional networks for MNIST: from one convolution to under 100 errors
#
# **Description:** a one-convolution CNN for MNIST and what its prediction
# means (seed 003), an improved CNN with fewer than 100 test errors and its
# confusion matrix (seeds 003 and 001), and seed 004's CNN with augmentation.
# Seed 002's SVHN ConvNets are in notebook 12.

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data](#Prepare-the-data)
# 3. [Build: a one-convolution CNN (seed 003)](#Build:-a-one-convolution-CNN-%28seed-003%29)
# 4. [Train: the one-convolution CNN (seed 003)](#Train:-the-one-convolution-CNN-%28seed-003%29)
# 5. [Evaluate: what the prediction vector means (seed 003)](#Evaluate:-what-the-prediction-vector-means-%28seed-003%29)
# 6. [Build: an improved MNIST CNN (seeds 003 and 001)](#Build:-an-improved-MNIST-CNN-%28seeds-003-and-001%29)
# 7. [Train: the improved CNN, without and with augmentation](#Train:-the-improved-CNN,-without-and-with-augmentation)
# 8. [Evaluate: fewer than 100 errors (seeds 003 and 001)](#Evaluate:-fewer-than-100-errors-%28seeds-003-and-001%29)
# 9. [Train: seed 004's CNN with augmentation](#Train:-seed-004's-CNN-with-augmentation)
# 10. [Evaluate: the goal, and what training this notebook costs](#Evaluate:-the-goal,-and-what-training-this-notebook-costs)
# 11. [Takeaways](#Takeaways)

# %% [markdown]
# ## Setup

# %%
# %matplotlib inline
import helpers as hp  # first, so TensorFlow starts quietly
import keras
import numpy as np
import pandas as pd
from keras import layers

from helpers import interpret


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
mnist = hp.image_splits("mnist")
n_test = len(mnist["test"][0])
print({k: v[0].shape for k, v in mnist.items() if k != "class_names"})

# %% [markdown]
# ## Build: a one-convolution CNN (seed 003)


# %%
def make_simple_cnn() -> keras.Model:
    """A simple CNN with one convolution layer for 28x28x1 images, 10 softmax outputs; Adam, cross-entropy."""
    ### BEGIN SOLUTION
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(100, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ],
        name="simple_cnn",
    )
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %%
make_simple_cnn().summary()

# %% grade_id="test_simple_cnn"
# Test (seed 003, the first model): 28x28x1 images in, 10 class probabilities out, exactly one convolution.
with hp.keep_keras_names():  # later models keep their automatic names
    test_model = make_simple_cnn()
    assert test_model.input_shape == (None, 28, 28, 1), f"input shape {test_model.input_shape}: images of 28x28x1"
    assert test_model.output_shape == (None, 10), f"output shape {test_model.output_shape}: 10 class scores"
    test_convs = [layer for layer in test_model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(test_convs) == 1, f"{len(test_convs)} convolution layers: the first model has one"

# %% [markdown]
# ## Train: the one-convolution CNN (seed 003)

# %%
simple_name = "seed003_simple_cnn"
simple_cnn, simple_history = hp.fit_cached(
    simple_name,
    make_simple_cnn,
    *mnist["train"],
    validation_data=mnist["val"],
    epochs=5,
    batch_size=128,
    test_data=mnist["test"],
    seed=0,
    exercise="seed 003",
)

# %%
hp.plot_history(simple_history, "MNIST, one convolution layer, 5 epochs")
# %% [markdown]
# ## Evaluate: what the prediction vector means (seed 003)

# %%
# The model's prediction for the first training image: a vector of 10 numbers.
### BEGIN SOLUTION
prediction = simple_cnn.predict(mnist["train"][0][:1], verbose=0)[0]
### END SOLUTION
predicted, true_digit = int(prediction.argmax()), int(mnist["train"][1][0].argmax())
print("prediction:", np.round(prediction, 4))
print("sum:", prediction.sum(), " argmax:", predicted, " true label:", true_digit)

# %% grade_id="test_first_prediction"
# Test (seed 003, first prediction): one probability per class, summing to 1.
assert np.shape(prediction) == (10,), f"prediction of shape {np.shape(prediction)}: one value per class"
assert abs(float(np.sum(prediction)) - 1) < 1e-4 and np.min(prediction) >= 0, "softmax outputs are probabilities"

# %%
answer_prediction = ""  # your answer
### BEGIN SOLUTION
answer_prediction = (
    f"The prediction is the softmax output: {len(prediction)} non-negative numbers, one per digit, that sum to "
    f"{prediction.sum():.4f}, read as the model's probability of each class. Here {prediction.max():.2%} of the mass "
    f"sits on class {predicted}, so the predicted digit is {predicted}, "
    f"{'the true label' if predicted == true_digit else f'but the true label is {true_digit}'}. "
    "Confidence on a training image is not calibration: the test set below tells how often it is right."
)
### END SOLUTION
hp.check_answer(answer_prediction, max_sentences=3)

# %%
simple_test_accuracy = simple_cnn.evaluate(*mnist["test"], verbose=0)[1]
simple_errors = hp.expected_errors(simple_test_accuracy, n_test)
print(
    f"test accuracy {simple_test_accuracy:.4f}: about {simple_errors['expected']:.0f} false classifications "
    f"per 10 000 images (95 % interval {simple_errors['low']:.0f}-{simple_errors['high']:.0f})"
)

# %% [markdown]
# ## Build: an improved MNIST CNN (seeds 003 and 001)
#
# Design sources:
# * C. Deotte, "How to choose CNN Architecture MNIST" (Kaggle, 2018): the
#   32C3-32C3-32C5S2 / 64C3-64C3-64C5S2 / 128C4 layout, batch normalisation
#   and dropout 0.4 after each block, found by systematic ablation there;
# * S. Ioffe and C. Szegedy, "Batch Normalization" (ICML 2015);
# * P. Simard et al., "Best practices for convolutional neural networks applied
#   to visual document analysis" (ICDAR 2003): small affine distortions of
#   digits as augmentation;
# * I. Loshchilov and F. Hutter, "SGDR" (ICLR 2017): cosine learning-rate
#   decay, here after one epoch of linear warm-up.


# %%
def conv_bn(filters: int, kernel: int, strides: int = 1, padding: str = "valid") -> list[layers.Layer]:
    """Convolution without bias, batch normalisation, ReLU: the unit every CNN below is built from."""
    return [
        layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
    ]


# %%
[layer.__class__.__name__ for layer in conv_bn(32, 3)]

# %% [markdown]
# The learning rate rises from a tenth of its peak to the peak during the
# first epoch, then decays to 0 along a cosine (`hp.warmup_cosine`):

# %%
example_schedule = hp.warmup_cosine(2e-3, epochs=20, steps_per_epoch=375)
{f"epoch {epoch}": round(float(example_schedule(epoch * 375)), 6) for epoch in (0, 1, 5, 10, 15, 20)}


# %%
def make_mnist_cnn(epochs: int, augmentation=None, *, train_size: int, batch_size: int = 128) -> keras.Model:
    """Deotte-style CNN; `epochs`, `train_size` and `batch_size` set the learning-rate schedule's length."""
    ### BEGIN SOLUTION
    model = keras.Sequential([keras.Input((28, 28, 1))], name="mnist_cnn")
    if augmentation is not None:
        model.add(augmentation)
    for stack in (
        conv_bn(32, 3) + conv_bn(32, 3) + conv_bn(32, 5, 2, "same") + [layers.Dropout(0.4)],
        conv_bn(64, 3) + conv_bn(64, 3) + conv_bn(64, 5, 2, "same") + [layers.Dropout(0.4)],
        conv_bn(128, 4) + [layers.Flatten(), layers.Dropout(0.4)],
    ):
        for layer in stack:
            model.add(layer)
    model.add(layers.Dense(10, activation="softmax"))
    schedule = hp.warmup_cosine(2e-3, epochs, steps_per_epoch=int(np.ceil(train_size / batch_size)))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
cnn_epochs = 20
make_mnist_cnn(cnn_epochs, train_size=len(mnist["train"][0])).summary()

# %% [markdown]
# ## Train: the improved CNN, without and with augmentation
#
# Trained twice with the same schedule: without augmentation, and with random
# rotations (up to 11 degrees), zooms (10 %) and shifts (10 %). No flips: a
# mirrored digit is usually not a digit.

# %%
digit_augmentation = hp.make_augmentation(rotate=0.03, zoom=0.1, translate=0.1)
mnist_names = ["mnist_cnn_noaug", hp.MNIST_CNN_AUG]  # the order of mnist_runs
mnist_runs = {}
for label, name, aug in (
    ("no augmentation", mnist_names[0], None),
    ("augmentation", mnist_names[1], digit_augmentation),
):
    # Train make_mnist_cnn(cnn_epochs, aug, train_size=...) under this name; keep (model, history).
    ### BEGIN SOLUTION
    mnist_runs[label] = hp.fit_cached(
        name,
        lambda: make_mnist_cnn(cnn_epochs, aug, train_size=len(mnist["train"][0])),
        *mnist["train"],
        validation_data=mnist["val"],
        epochs=cnn_epochs,
        batch_size=128,
        test_data=mnist["test"],
        seed=0,
        exercise="seeds 003 and 001",
    )
    ### END SOLUTION

# %% grade_id="test_improved_cnns"
# Test (seed 003, improve the model; update the training strategy): a deeper CNN, trained without and with
# augmentation for the epochs asked.
with hp.keep_keras_names():  # later models keep their automatic names
    test_convs = [
        lay for lay in make_mnist_cnn(cnn_epochs, train_size=100).layers if isinstance(lay, keras.layers.Conv2D)
    ]
    assert len(test_convs) > 1, f"{len(test_convs)} convolution layers: improve on the one-convolution model"
    assert sorted(mnist_runs) == ["augmentation", "no augmentation"], f"runs {sorted(mnist_runs)}"
    for label, (_, test_history) in mnist_runs.items():
        assert len(test_history["loss"]) >= hp.required_epochs(cnn_epochs), (
            f"{label}: {len(test_history['loss'])} epochs"
        )
### BEGIN HIDDEN TESTS
test_plain, test_augmented = mnist_runs["no augmentation"][0], mnist_runs["augmentation"][0]
assert len(test_augmented.layers) == len(test_plain.layers) + 1, "only the augmented run has augmentation layers"
assert test_augmented.count_params() == test_plain.count_params(), "the same network, with and without augmentation"
### END HIDDEN TESTS

# %%
hp.plot_histories({k: h for k, (_, h) in mnist_runs.items()}, title="MNIST CNN with and without augmentation")
# %% [markdown]
# ## Evaluate: fewer than 100 errors (seeds 003 and 001)
#
# Each model predicts the validation and test digits once; every comparison
# below averages these probabilities. They are cached with the models'
# checksums, so a re-run loads them instead of predicting again.

# %%
mnist_val_predictions = hp.cached_predictions("mnist_cnns_val", mnist_names, mnist["val"][0])  # (models, views, n, 10)
mnist_test_predictions = hp.cached_predictions("mnist_cnns_test", mnist_names, mnist["test"][0])

# %%
mnist_table = pd.DataFrame(
    {
        label: {
            **hp.best_metrics(history),
            "test accuracy": hp.accuracy(mnist_test_predictions[i, 0], mnist["test"][1]),
            "training time [s]": hp.manifest(name)["training_seconds"],
        }
        for i, (name, (label, (_, history))) in enumerate(zip(mnist_names, mnist_runs.items()))
    }
).T
mnist_table["test errors (of 10 000)"] = ((1 - mnist_table["test accuracy"]) * n_test).round().astype(int)
mnist_table.round(4)

# %% [markdown]
# ### Averaging the two CNNs
#
# The two runs share the architecture but saw differently distorted images, so
# they make partly different mistakes. Averaging their predicted probabilities
# (an ensemble of two) costs one more forward pass and no training. The final
# model is chosen on the validation set only.

# %%
mnist_candidates = {"no augmentation": [0], "augmentation": [1], "average of both": [0, 1]}
mnist_choice = pd.DataFrame(
    {
        label: {"val accuracy": hp.accuracy(mnist_val_predictions[members].mean(axis=(0, 1)), mnist["val"][1])}
        for label, members in mnist_candidates.items()
    }
).T
best_mnist_label = mnist_choice["val accuracy"].idxmax()
print("chosen on validation:", best_mnist_label)

# %%
mnist_probabilities = mnist_test_predictions[mnist_candidates[best_mnist_label]].mean(axis=(0, 1))
best_mnist_accuracy = hp.accuracy(mnist_probabilities, mnist["test"][1])
best_mnist_errors = round((1 - best_mnist_accuracy) * n_test)
mnist_choice["test accuracy"] = [
    hp.accuracy(mnist_test_predictions[members].mean(axis=(0, 1)), mnist["test"][1])
    for members in mnist_candidates.values()
]
mnist_choice.round(4)

# %%
mnist_errors = mnist_table["test errors (of 10 000)"]
mnist_minutes = mnist_table["training time [s]"] / 60
answer_improved = ""  # your answer
### BEGIN SOLUTION
answer_improved = (
    "The design follows Deotte's ablation study of MNIST CNNs (three convolution blocks, batch normalisation, "
    "dropout 0.4), Simard et al.'s small distortions as augmentation, and a warm-up + cosine schedule. "
    f"Each {cnn_epochs}-epoch run makes {mnist_errors['no augmentation']} (no augmentation) or "
    f"{mnist_errors['augmentation']} (augmentation) test errors, against the one-convolution CNN's "
    f"{simple_errors['expected']:.0f}. The {best_mnist_label}, chosen on validation "
    f"({mnist_choice.loc[best_mnist_label, 'val accuracy']:.2%}), reaches {best_mnist_accuracy:.2%} on test: "
    f"{best_mnist_errors} errors in 10 000. The price is {mnist_minutes.sum():.0f} CPU-minutes of training against "
    f"{hp.manifest(simple_name)['training_seconds']:.0f} seconds."
)
### END SOLUTION
hp.check_answer(answer_improved, max_sentences=4)

# %% [markdown]
# ### Where the best model still errs: confusion matrix (seed 003)

# %%
best_mnist_cnn = mnist_runs["augmentation"][0]  # the architecture both ensemble members share
print(
    f"{best_mnist_label}: test accuracy {best_mnist_accuracy:.4f}, {best_mnist_errors} errors in {n_test} test digits"
)
hp.plot_confusion_matrix(
    mnist["test"][1],
    mnist_probabilities,
    mnist["class_names"],
    title="Best MNIST CNN on the 10 000 test digits (counts)",
)
# %%
hp.plot_misclassified(mnist["test"][0], mnist["test"][1], mnist_probabilities, mnist["class_names"], max_images=18)
# %% [markdown]
# The most frequent (true, predicted) pairs among the errors:

# %%
mnist_true, mnist_predicted = mnist["test"][1].argmax(1), mnist_probabilities.argmax(1)
mnist_pairs = interpret.most_confused_pairs(mnist_true, mnist_predicted, mnist["class_names"], top=5)
mnist_pairs.round(4)

# %%
mnist_wrong = mnist_predicted != mnist_true
wrong_class_probability = pd.Series(mnist_probabilities[mnist_wrong].max(1))  # what the model gave its wrong answer
top_pair, second_pair = mnist_pairs.iloc[0], mnist_pairs.iloc[1]
answer_errors = ""  # your answer
### BEGIN SOLUTION
answer_errors = (
    f"Of the {mnist_wrong.sum()} errors, the most frequent is a {top_pair['true']} read as a "
    f"{top_pair['predicted']} ({top_pair['errors']} times), then a {second_pair['true']} read as a "
    f"{second_pair['predicted']} ({second_pair['errors']} times). The misclassified digits above are unusual "
    "writings: open or broken loops, strokes a person could also read as the predicted digit. The model is unsure "
    f"about most of them (median probability of the wrong class {wrong_class_probability.median():.2f}, "
    f"{(wrong_class_probability > 0.9).sum()} above 0.9), so what is left is ambiguous handwriting."
)
### END SOLUTION
hp.check_answer(answer_errors, max_sentences=3)

# %% [markdown]
# ### Its architecture (seed 001 asks for a sketch) and learning curves

# %%
hp.plot_architecture(best_mnist_cnn, title="Best MNIST CNN")
# %%
hp.plot_history(mnist_runs["augmentation"][1], "Best MNIST CNN: learning curves")
# %%
curves_aug = mnist_runs["augmentation"][1]
epochs_val_above = sum(v > t for v, t in zip(curves_aug["val_accuracy"], curves_aug["accuracy"]))
best_loss_epoch = int(np.argmin(curves_aug["val_loss"])) + 1
test_gap = mnist_table.loc["augmentation", "test accuracy"] - mnist_table.loc["no augmentation", "test accuracy"]
test_noise = 1.96 * np.sqrt(best_mnist_accuracy * (1 - best_mnist_accuracy) / n_test)

# %%
answer_curves = ""  # your answer
### BEGIN SOLUTION
answer_curves = (
    f"With augmentation the validation accuracy is above the training accuracy in {epochs_val_above} of "
    f"{cnn_epochs} epochs, because training sees distorted digits with dropout active. The validation loss is "
    f"lowest at epoch {best_loss_epoch} of {cnn_epochs}"
    + (
        ", so there is no overfitting to stop early for. "
        if best_loss_epoch >= cnn_epochs - 2
        else ", then creeps up. "
    )
    + f"On test, augmentation scores {test_gap * 100:+.2f} points ({abs(test_gap) * n_test:.0f} digits) against no "
    "augmentation, "
    + ("inside" if abs(test_gap) < test_noise else "outside")
    + f" the +-{test_noise * 100:.2f}-point 95 % interval of a 10 000-image test set."
)
### END SOLUTION
hp.check_answer(answer_curves, max_sentences=5)

# %% [markdown]
# ## Train: seed 004's CNN with augmentation
#
# 32-32-pool-64-64-pool convolutions with batch normalisation, a 512-unit
# layer with batch normalisation and 20 % dropout, trained for 5 epochs with
# the seed's kind of augmentation (rotations up to 8 degrees, 8 % shifts and
# zooms).


# %%
def make_seed004_cnn() -> keras.Model:
    """Seed 004's CNN: augmentation; conv 32 3x3, batch norm, ReLU, twice; max pooling; the same with 64 filters;
    max pooling; a FC layer of 512 nodes with batch norm, ReLU and dropout 0.2; 10 softmax outputs."""
    ### BEGIN SOLUTION
    augmentation = hp.make_augmentation(rotate=8 / 360, translate=0.08, zoom=0.08)
    convs = [*conv_bn(32, 3), *conv_bn(32, 3), layers.MaxPooling2D(2), *conv_bn(64, 3), *conv_bn(64, 3)]
    head = [layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(512), layers.BatchNormalization()]
    head += [layers.Activation("relu"), layers.Dropout(0.2), layers.Dense(10, activation="softmax")]
    model = keras.Sequential([keras.Input((28, 28, 1)), augmentation, *convs, *head], name="seed004_cnn")
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %%
seed004_name = "seed004_cnn_aug"
hp.fit_cached(  # only its test accuracy is shown, so a cache hit need not load the model
    seed004_name,
    make_seed004_cnn,
    *mnist["train"],
    validation_data=mnist["val"],
    epochs=5,
    batch_size=128,
    test_data=mnist["test"],
    seed=0,
    return_model=False,
    exercise="seed 004",
)
seed004_accuracy = hp.manifest(seed004_name)["metrics"]["test"]["accuracy"]  # measured after training
print(f"seed 004 CNN test accuracy: {seed004_accuracy:.4f}")

# %% grade_id="test_seed004_cnn"
# Test (seed 004): four convolutions with batch norm, a 512-node layer with dropout 0.2, 10 outputs.
with hp.keep_keras_names():  # later models keep their automatic names
    test_layers = make_seed004_cnn().layers
    test_filters = [layer.filters for layer in test_layers if isinstance(layer, keras.layers.Conv2D)]
    assert test_filters == [32, 32, 64, 64], f"convolution filters {test_filters}: 32, 32, 64, 64"
    assert [layer.units for layer in test_layers if isinstance(layer, keras.layers.Dense)] == [512, 10], (
        "FC 512, then 10"
    )
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in test_layers) >= 5, (
        "batch norm after each"
    )
    assert [layer.rate for layer in test_layers if isinstance(layer, keras.layers.Dropout)] == [0.2], "dropout 0.2 once"

# %% [markdown]
# ## Evaluate: the goal, and what training this notebook costs
#
# The best MNIST CNN against the suite's goal, on the test set:

# %%
best_members = [mnist_names[i] for i in mnist_candidates[best_mnist_label]]
mnist_goal_rows = {
    "CNN, no augmentation": hp.headline(mnist_names[0]),
    "CNN, augmentation": hp.headline(mnist_names[1]),
    f"best MNIST CNN ({best_mnist_label})": hp.headline(best_members, best_mnist_accuracy),
}
hp.goals_table("mnist_cnn", mnist_goal_rows)

# %% [markdown]
# Every model above was trained on this machine's 2 CPU cores, and a re-run
# loads it from the cache. Training them again from an empty cache would take
# this long (the manifests record each run's time):

# %%
training_cost = hp.training_times([simple_name, *mnist_names, seed004_name])
print(f"{len(training_cost)} runs, {training_cost['training time [min]'].sum():.0f} minutes in all")
training_cost.round(1)

# %% [markdown]
# ## Takeaways

# %%
hp.show_takeaways(
    f"One convolution layer already gives {simple_test_accuracy:.2%} on MNIST "
    f"({simple_errors['expected']:.0f} errors per 10 000).",
    f"The batch-normalised Deotte-style CNN with a warm-up + cosine schedule makes {mnist_errors.min()} to "
    f"{mnist_errors.max()} errors in {cnn_epochs} epochs; the {best_mnist_label}, chosen on validation, "
    f"{best_mnist_errors} ({best_mnist_accuracy:.2%}).",
    f"Seed 004's batch-normalised CNN with augmentation reaches {seed004_accuracy:.2%} in 5 epochs.",
    f"The cost is CPU time: {training_cost['training time [min]'].sum():.0f} minutes for these runs on 2 cores, "
    "which is why the cache is committed.",
)
