# %% [markdown]
# # Data preparation: MNIST, Fashion-MNIST, SVHN and CIFAR-10
#
# **Description:** load the four datasets of the suite, look at them, check the
# class balance and prepare them for dense and convolutional networks (seed 000
# Exercise 1, seed 003's data tasks, seed 004's first look, and the SVHN and
# CIFAR-10 preparation of seeds 002 and 001).

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Load MNIST and Fashion-MNIST (Exercise 1.1)](#Load-MNIST-and-Fashion-MNIST-%28Exercise-1.1%29)
# 3. [Look at samples (Exercise 1.2)](#Look-at-samples-%28Exercise-1.2%29)
# 4. [Prepare for dense networks (Exercise 1.3)](#Prepare-for-dense-networks-%28Exercise-1.3%29)
# 5. [Class balance (seed 003)](#Class-balance-%28seed-003%29)
# 6. [Shapes for convolutional networks (seed 003)](#Shapes-for-convolutional-networks-%28seed-003%29)
# 7. [A closer look at single digits (seed 004)](#A-closer-look-at-single-digits-%28seed-004%29)
# 8. [SVHN (seed 002)](#SVHN-%28seed-002%29)
# 9. [CIFAR-10 (seed 001)](#CIFAR-10-%28seed-001%29)
# 10. [Takeaways](#Takeaways)

# %% [markdown]
# ## Setup

# %%
# %matplotlib inline
import helpers as hp  # first, so TensorFlow starts quietly
import numpy as np
import pandas as pd


# %% tags=["parameters"]
student = ""  # your name and ID, e.g. "Ada Lovelace (s1234567)"; ./run.sh --student fills it in

# %%
hp.start_notebook(student)

# %% [markdown]
# ## Load MNIST and Fashion-MNIST (Exercise 1.1)
#
# `hp.load_dataset` reads the original IDX files from the data folder
# (`IMGCLS_DATA_DIR`, then `/usr/share/datasets`), then Keras' download
# cache (`~/.keras/datasets`), and falls back to the normal Keras download
# on a machine with internet. Images are `uint8` (0-255), labels integers 0-9.

# %%
# Training and test images and labels of both data sets, and their class names, with hp.load_dataset.
### BEGIN SOLUTION
(x_mnist_train, y_mnist_train), (x_mnist_test, y_mnist_test), mnist_classes = hp.load_dataset("mnist")
(x_fashion_train, y_fashion_train), (x_fashion_test, y_fashion_test), fashion_classes = hp.load_dataset("fashion_mnist")
### END SOLUTION

# %% grade_id="test_load_datasets"
# Test (Exercise 1.1): training and test images of 28x28 pixels in each data set, one label 0 to 9 for each.
for test_x, test_y in (
    (x_mnist_train, y_mnist_train),
    (x_mnist_test, y_mnist_test),
    (x_fashion_train, y_fashion_train),
    (x_fashion_test, y_fashion_test),
):
    assert test_x.shape[1:] == (28, 28), f"images of shape {test_x.shape[1:]}; expected 28x28 pixels"
    assert len(test_y) == len(test_x) and set(np.unique(test_y)) == set(range(10)), "one label 0-9 per image"
assert len(x_mnist_train) > len(x_mnist_test) and len(x_fashion_train) > len(x_fashion_test), "train, then test"

# %%
pd.DataFrame(
    {
        "MNIST": [x_mnist_train.shape, x_mnist_test.shape, x_mnist_train.dtype, x_mnist_train.max()],
        "Fashion-MNIST": [x_fashion_train.shape, x_fashion_test.shape, x_fashion_train.dtype, x_fashion_train.max()],
    },
    index=["training images", "test images", "dtype", "max pixel value"],
)

# %%
print("Fashion-MNIST classes:", dict(enumerate(fashion_classes)))

# %% [markdown]
# ## Look at samples (Exercise 1.2)
#
# `plot_some_samples` draws random training images and writes the label of
# each at its bottom left in green (and, when predictions are given, the
# predicted label at the bottom right in red).

# %% grade_id="plot_samples"
# Some MNIST training samples, drawn with hp.plot_some_samples (Exercise 1.2).
### BEGIN SOLUTION
hp.plot_some_samples(x_mnist_train, y_mnist_train, title="MNIST training samples (green: label)")
### END SOLUTION
# %%
hp.plot_some_samples(
    x_fashion_train,
    y_fashion_train,
    label_mapping=fashion_classes,
    title="Fashion-MNIST training samples (green: label)",
)
# %% [markdown]
# ### Answer to Exercise 1.2 (1 sentence)

# %%
answer_1_2 = ""  # your answer
### BEGIN SOLUTION
answer_1_2 = """The green text at the bottom left of each image is that image's true class label from the dataset (the digit itself for MNIST, the clothing class name for Fashion-MNIST), not a prediction."""
### END SOLUTION
hp.check_answer(answer_1_2, max_sentences=1)

# %% [markdown]
# The seed's version of this helper printed `(label + 1) % 10` (an SVHN habit,
# see below), so every MNIST digit appeared shifted by one; the helper here
# prints the label unchanged.

# %% [markdown]
# ## Prepare for dense networks (Exercise 1.3)
#
# One-hot labels (label 2 becomes `[0, 0, 1, 0, ...]`), and each 28x28 image
# flattened to a 784-vector rescaled from 0-255 to [0, 1] (`float32`).

# %%
# One-hot labels: label 2 of 5 classes becomes [0, 0, 1, 0, 0].
### BEGIN SOLUTION
y_mnist_train_onehot = hp.one_hot(y_mnist_train)
y_fashion_train_onehot = hp.one_hot(y_fashion_train)
### END SOLUTION
for label, row in zip(y_mnist_train[:3], y_mnist_train_onehot[:3]):
    print(label, "->", row.astype(int))

# %%
# Each image flattened to a 784-vector and rescaled into [0, 1].
### BEGIN SOLUTION
x_mnist_train_flat = hp.flatten_rescale(x_mnist_train)
x_fashion_train_flat = hp.flatten_rescale(x_fashion_train)
### END SOLUTION
print(
    "MNIST:",
    x_mnist_train.shape,
    "->",
    x_mnist_train_flat.shape,
    x_mnist_train_flat.dtype,
    f"range [{x_mnist_train_flat.min()}, {x_mnist_train_flat.max()}]",
)
print("Fashion-MNIST:", x_fashion_train.shape, "->", x_fashion_train_flat.shape)

# %% grade_id="test_prepare"
# Test (Exercise 1.3): one-hot rows that point at the label; flat 784-vectors in [0, 1].
for test_y, test_onehot in ((y_mnist_train, y_mnist_train_onehot), (y_fashion_train, y_fashion_train_onehot)):
    assert test_onehot.shape == (len(test_y), 10), f"one-hot labels of shape {test_onehot.shape}"
    assert np.array_equal(test_onehot.argmax(1), test_y) and np.allclose(test_onehot.sum(1), 1), "one 1 per row"
for test_flat in (x_mnist_train_flat, x_fashion_train_flat):
    assert test_flat.shape == (len(x_mnist_train), 784), f"flat images of shape {test_flat.shape}"
    assert test_flat.min() >= 0 and test_flat.max() <= 1 and test_flat.max() > 0.5, "rescale 0-255 into [0, 1]"

# %% [markdown]
# The training notebooks split 20 % of each *training* set off as validation
# data (stratified, seeded); the test set is kept for final reporting only.

# %%
(x_train, y_train), (x_val, y_val) = hp.train_val_split(
    x_mnist_train_flat, y_mnist_train_onehot, val_fraction=0.2, seed=0
)
print("train", x_train.shape, "validation", x_val.shape, "test", x_mnist_test.shape)

# %% [markdown]
# ## Class balance (seed 003)

# %% grade_id="plot_class_histogram"
# A histogram of the MNIST training classes (seed 003).
### BEGIN SOLUTION
hp.plot_class_histogram(y_mnist_train, mnist_classes, title="MNIST training labels")
### END SOLUTION
# %%
hp.plot_class_histogram(y_fashion_train, fashion_classes, title="Fashion-MNIST training labels")
# %%
counts = pd.DataFrame(
    {
        "MNIST": np.bincount(y_mnist_train, minlength=10),
        "Fashion-MNIST": np.bincount(y_fashion_train, minlength=10),
    }
)
print("largest / smallest class:", (counts.max() / counts.min()).round(3).to_dict())
counts

# %% [markdown]
# ### Is this distribution fine for classification?

# %%
fashion_counts, mnist_counts = counts["Fashion-MNIST"], counts["MNIST"]
ratio = mnist_counts.max() / mnist_counts.min()
answer_balance = ""  # your answer
### BEGIN SOLUTION
answer_balance = (
    f"{'Yes' if ratio < 1.5 else 'Mostly'}: Fashion-MNIST "
    + (
        f"is perfectly balanced ({fashion_counts.iloc[0]} images per class)"
        if fashion_counts.nunique() == 1
        else f"has {fashion_counts.min()} to {fashion_counts.max()} images per class"
    )
    + f" and MNIST is close to it, from {mnist_counts.min()} images of the digit {mnist_counts.idxmin()} to "
    f"{mnist_counts.max()} of the digit {mnist_counts.idxmax()}, a ratio of {ratio:.2f}. A classifier cannot reach a "
    f"good accuracy by favouring one class, so plain accuracy is a fair metric and no re-weighting or resampling is "
    f"needed."
)
### END SOLUTION
hp.check_answer(answer_balance, max_sentences=3)

# %% [markdown]
# ## Shapes for convolutional networks (seed 003)
#
# A convolution layer needs images of shape `(N, height, width, channels)`.

# %%
x_mnist_images = hp.rescale_images(x_mnist_train)
print(x_mnist_train.shape, "->", x_mnist_images.shape)

# %%
import keras

conv = keras.layers.Conv2D(8, (3, 3))
print("(N, 28, 28, 1) ->", conv(x_mnist_images[:2]).shape)
try:
    conv(x_mnist_train[:2].astype("float32"))
except ValueError as err:
    print("(N, 28, 28) ->", str(err).splitlines()[0])

# %%
height, width = x_mnist_train.shape[1:]
answer_reshape = ""  # your answer
### BEGIN SOLUTION
answer_reshape = (
    f"Keras' Conv2D layer works on {x_mnist_images.ndim}-D input (batch, height, width, channels), because every "
    f"filter spans all channels of its input; a grey image has one channel, so (N, {height}, {width}) must become "
    f"(N, {height}, {width}, 1). A (-1, {height}, {width}) array has no channel axis and the layer refuses it, as the "
    f"cell above shows."
)
### END SOLUTION
hp.check_answer(answer_reshape, max_sentences=2)

# %% [markdown]
# ## A closer look at single digits (seed 004)

# %%
rng = np.random.default_rng(4)
nine = rng.choice(len(x_mnist_train), size=9, replace=False)
hp.plot_images([x_mnist_train[i] for i in nine], [f"class {y_mnist_train[i]}" for i in nine], ncols=3)
# %%
digit = x_mnist_train[nine[-1]]
print(f"pixel values of the last digit above (class {y_mnist_train[nine[-1]]}):")
with np.printoptions(linewidth=200):
    print(digit)

# %% [markdown]
# Each pixel is one unsigned byte: 0 is black background, 255 full white ink.
# One channel per pixel, so these are monochrome images.

# %% [markdown]
# ## SVHN (seed 002)
#
# Street View House Numbers: 32x32 colour crops of digits. The original files
# use label 10 for the digit 0; `hp.load_dataset` maps it to 0 once, so label
# `k` always means digit `k` here (the seed had to print `(index + 1) % 10`).
# Seed 002 splits the merged data 80/20 into train and test, and the train
# part again 80/20 into train and validation (stratified, `random_state=1`).

# %%
svhn = hp.try_load_dataset("svhn", would_run="seed 002's splits and colour and grey sample digits")

# %%
if svhn is not None:
    (x_svhn_train, y_svhn_train), (x_svhn_test, y_svhn_test), svhn_classes = svhn
    svhn_splits = hp.svhn_seed_split(
        np.concatenate([x_svhn_train, x_svhn_test]), np.concatenate([y_svhn_train, y_svhn_test]), seed=1
    )
    print({k: v[0].shape for k, v in svhn_splits.items()})
    x_tr, y_tr = svhn_splits["train"]
    picks = np.random.default_rng(2).choice(len(x_tr), size=5, replace=False)
    hp.plot_images([x_tr[i] for i in picks], [f"digit {y_tr[i]}" for i in picks])
    hp.plot_images([hp.rgb2gray(x_tr[picks])[i] for i in range(5)], ["grey"] * 5)

# %% [markdown]
# ## CIFAR-10 (seed 001)
#
# Seed 001 splits the CIFAR-10 training set 70/30 into train and validation,
# normalises with `x / 255 - 0.5` and one-hot encodes the labels; the test set
# gets the same normalisation and encoding (and is used only for final numbers).

# %%
cifar = hp.try_load_dataset("cifar10", would_run="seed 001's 70/30 split, x/255 - 0.5 normalisation and one-hot labels")

# %%
if cifar is not None:
    (x_cifar, y_cifar), (x_cifar_test, y_cifar_test), cifar_classes = cifar
    (x_c_train, y_c_train), (x_c_val, y_c_val) = hp.train_val_split(x_cifar, y_cifar, val_fraction=0.3, seed=0)
    x_c_train, x_c_val = hp.center_normalize(x_c_train), hp.center_normalize(x_c_val)
    x_c_test = hp.center_normalize(x_cifar_test)
    y_c_train, y_c_val, y_c_test = hp.one_hot(y_c_train), hp.one_hot(y_c_val), hp.one_hot(y_cifar_test)
    print(
        "train",
        x_c_train.shape,
        y_c_train.shape,
        "validation",
        x_c_val.shape,
        "test",
        x_c_test.shape,
        y_c_test.shape,
        f"range [{x_c_train.min():.2f}, {x_c_train.max():.2f}]",
    )
    hp.plot_some_samples(x_cifar, y_cifar, nrows=2, ncols=6, label_mapping=cifar_classes)

# %% [markdown]
# ## Takeaways
#
# * Both MNIST datasets are 60 000 + 10 000 grey 28x28 images; Fashion-MNIST has
#   exactly 6 000 training images per class, MNIST between 5 421 and 6 742.
# * Dense networks take flat 784-vectors in [0, 1]; convolutional networks take
#   `(N, 28, 28, 1)`; labels are one-hot for the categorical cross-entropy.
# * Validation data always comes out of the training set; the test set is only
#   for the final numbers.
# * SVHN's label 10 means the digit 0 and is mapped once, in the loader.
