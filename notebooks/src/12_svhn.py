# %% [markdown]
# # SVHN end to end: dense networks, ConvNets and what they learn
#
# **Description:** seed 002's assignment on Street View House Numbers: a dense
# pyramid on colour and grey images and its regularized version (Part 1), a
# ConvNet without and with augmentation (Part 2), and the augmented ConvNet's
# errors, activations and embeddings (Part 3). Part 4, transfer from ImageNet,
# is in notebook 10.
#
# SVHN is not on every machine, and its models take hours to train on a CPU.
# Each section loads its model from the cache; a missing one is trained only
# when asked (`train_svhn = True` below, or `./run.sh --train svhn`), after its
# estimated time is printed. Without SVHN every section says what it would do.

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data](#Prepare-the-data)
# 3. [Build: a dense pyramid (seed 002, Questions 1.1 and 1.2)](#Build:-a-dense-pyramid-%28seed-002,-Questions-1.1-and-1.2%29)
# 4. [Train: the pyramid on colour and grey images (Questions 1.1 and 1.2)](#Train:-the-pyramid-on-colour-and-grey-images-%28Questions-1.1-and-1.2%29)
# 5. [Train: the regularized grey pyramid (Question 1.3)](#Train:-the-regularized-grey-pyramid-%28Question-1.3%29)
# 6. [Build: a ConvNet (Question 2.1)](#Build:-a-ConvNet-%28Question-2.1%29)
# 7. [Train: the ConvNet without and with augmentation (Questions 2.1 and 2.2)](#Train:-the-ConvNet-without-and-with-augmentation-%28Questions-2.1-and-2.2%29)
# 8. [Evaluate: misclassifications of model_2_2 (Question 3.1)](#Evaluate:-misclassifications-of-model_2_2-%28Question-3.1%29)
# 9. [Evaluate: activations of the first test crop (Question 3.2)](#Evaluate:-activations-of-the-first-test-crop-%28Question-3.2%29)
# 10. [Evaluate: t-SNE of the learned embeddings (Question 3.3)](#Evaluate:-t-SNE-of-the-learned-embeddings-%28Question-3.3%29)
# 11. [Takeaways](#Takeaways)

# %% [markdown]
# ## Setup

# %%
# %matplotlib inline
import helpers as hp  # first, so TensorFlow starts quietly
import keras
import numpy as np
from keras import layers

from helpers import interpret

# %% tags=["parameters"]
student = ""  # your name and ID, e.g. "Ada Lovelace (s1234567)"; ./run.sh --student fills it in
stop_training = False  # True: grading, only load cached results, never train
train_svhn = False  # True: train the SVHN models that are not cached (hours on a CPU); ./run.sh --train svhn

# %%
hp.start_notebook(student, stop_training=stop_training)

# %% [markdown]
# ## Prepare the data
#
# Seed 002's split of all 99 289 labelled SVHN crops (train and test files
# together, seed 1): training, validation and test sets. The dense networks
# get flat vectors in [0, 1], in colour (3 072 inputs) or grey (1 024); the
# ConvNets get grey 32x32 images.

# %%
svhn = hp.try_load_dataset("svhn", would_run="seed 002 Parts 1 to 3: dense pyramids, ConvNets and their analysis")

# %%
if svhn is not None:
    (x_svhn, y_svhn), (x_svhn_test, y_svhn_test), svhn_classes = svhn
    splits = hp.svhn_seed_split(np.concatenate([x_svhn, x_svhn_test]), np.concatenate([y_svhn, y_svhn_test]), seed=1)
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = splits["train"], splits["val"], splits["test"]
    y_tr, y_va, y_te = hp.one_hot(y_tr), hp.one_hot(y_va), hp.one_hot(y_te)
    print({name: split[0].shape for name, split in splits.items()})

# %%
if svhn is not None:
    rgb_split = (hp.flatten_rescale(x_tr), hp.flatten_rescale(x_va), y_tr, y_va)
    grey_split = (hp.rgb2gray(x_tr) / 255, hp.rgb2gray(x_va) / 255, y_tr, y_va)
    x_grey_test = hp.rgb2gray(x_te) / 255

# %%
if svhn is not None:
    # Question 1.2: the preprocessed data as a tuple preprocessed_split = (x_train, x_val, y_train, y_val):
    # grey images, flattened and rescaled into [0, 1].
    ### BEGIN SOLUTION
    preprocessed_split = (hp.flatten_rescale(hp.rgb2gray(x_tr)), hp.flatten_rescale(hp.rgb2gray(x_va)), y_tr, y_va)
    ### END SOLUTION


# %% [markdown]
# ## Build: a dense pyramid (seed 002, Questions 1.1 and 1.2)
#
# Three hidden layers, each half as wide as the one before.


# %%
def build_svhn_pyramid(input_dim: int, dropout: float = 0.0, learning_rate: float = 1e-3) -> keras.Model:
    """Dense pyramid 512-256-128 with optional dropout after every hidden layer."""
    ### BEGIN SOLUTION
    model = hp.build_mlp(input_dim, [512, 256, 128], num_classes=10, dropout=dropout, name="svhn_pyramid")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
def build_model_1_1() -> keras.Model:
    """Question 1.1: the pyramid on colour images (32 x 32 x 3 = 3072 inputs)."""
    return build_svhn_pyramid(3072)


# %%
def build_model_1_2() -> keras.Model:
    """Question 1.2: the same pyramid on grey images (1024 inputs)."""
    return build_svhn_pyramid(1024)


# %%
def build_model_1_3() -> keras.Model:
    """Question 1.3: the grey pyramid with dropout 0.2 and a lower learning rate."""
    ### BEGIN SOLUTION
    return build_svhn_pyramid(1024, dropout=0.2, learning_rate=3e-4)
    ### END SOLUTION


# %% grade_id="test_dense_models"
# Test (Questions 1.1 to 1.3): colour and grey inputs, 10 outputs, and regularization in model 1.3.
with hp.keep_keras_names():  # later models keep their automatic names
    for test_build, test_inputs in ((build_model_1_1, 3072), (build_model_1_2, 1024), (build_model_1_3, 1024)):
        test_model = test_build()
        assert test_model.input_shape == (None, test_inputs), f"{test_build.__name__}: input {test_model.input_shape}"
        assert test_model.output_shape == (None, 10), f"{test_build.__name__}: output {test_model.output_shape}"
    test_regularized = [
        layer
        for layer in build_model_1_3().layers
        if isinstance(layer, keras.layers.Dropout) or getattr(layer, "kernel_regularizer", None) is not None
    ]
    assert test_regularized, "model 1.3 regularizes: dropout or weight penalties"
    ### BEGIN HIDDEN TESTS
    for test_build in (build_model_1_1, build_model_1_2, build_model_1_3):
        test_convs = [layer for layer in test_build().layers if isinstance(layer, keras.layers.Conv2D)]
        assert not test_convs, f"{test_build.__name__}: Part 1 asks for dense networks, without convolutions"
    ### END HIDDEN TESTS
    if svhn is not None:
        assert preprocessed_split[0].shape[1] == 1024 and len(preprocessed_split) == 4, "grey (x_tr, x_va, y_tr, y_va)"


# %% [markdown]
# ## Train: the pyramid on colour and grey images (Questions 1.1 and 1.2)

# %%
dense_epochs, batch_size = 50, 128
svhn_plan = {"family": "svhn", "train": train_svhn, "batch_size": batch_size}  # every SVHN run
if svhn is not None:
    _, history_1_1 = hp.evaluate_or_plan("model_1_1", build_model_1_1, rgb_split, epochs=dense_epochs, **svhn_plan)

# %%
if svhn is not None and history_1_1 is not None:
    best_1_1 = max(history_1_1["val_accuracy"])
    answer_q_1_1 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_1_1 = (
        f"A 3072-512-256-128-10 pyramid with ReLU, Adam (learning rate 0.001), batch {batch_size}, {dense_epochs} "
        "epochs, no regularization: halving the width at each layer compresses the image step by step. Best "
        f"validation accuracy {best_1_1:.1%}, {'above' if best_1_1 >= 0.7 else 'below'} the 70 % target; training "
        f"accuracy ends at {history_1_1['accuracy'][-1]:.1%}, so the gap shows how much it memorises pixels."
    )
    ### END SOLUTION
    hp.check_answer(answer_q_1_1, max_chars=500)

# %%
if svhn is not None:
    _, history_1_2 = hp.evaluate_or_plan(
        "model_1_2", build_model_1_2, preprocessed_split, epochs=dense_epochs, **svhn_plan
    )

# %%
if svhn is not None and history_1_1 is not None and history_1_2 is not None:
    best_1_2 = max(history_1_2["val_accuracy"])
    answer_q_1_2 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_1_2 = (
        "The same pyramid on grey images (luminance 0.299 R + 0.587 G + 0.114 B): 1024 inputs instead of 3072. "
        f"Best validation accuracy {best_1_2:.1%} against {best_1_1:.1%} in colour "
        f"({(best_1_2 - best_1_1) * 100:+.1f} points): {'better' if best_1_2 > best_1_1 else 'no better'}. A "
        "digit's identity lies in its shape, not its colour, and the first layer has a third of the weights."
    )
    ### END SOLUTION
    hp.check_answer(answer_q_1_2, max_chars=500)

# %% [markdown]
# ## Train: the regularized grey pyramid (Question 1.3)

# %%
if svhn is not None:
    _, history_1_3 = hp.evaluate_or_plan(
        "model_1_3", build_model_1_3, preprocessed_split, epochs=dense_epochs, **svhn_plan
    )

# %%
if svhn is not None and history_1_2 is not None and history_1_3 is not None:
    best_1_3 = max(history_1_3["val_accuracy"])
    gap_1_3 = history_1_3["accuracy"][-1] - history_1_3["val_accuracy"][-1]
    answer_q_1_3 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_1_3 = (
        "Dropout 0.2 after every hidden layer and a lower learning rate (3e-4), so the noisier updates still converge. "
        f"Best validation accuracy {best_1_3:.1%} against {best_1_2:.1%} without regularization "
        f"({(best_1_3 - best_1_2) * 100:+.1f} points); the final train-validation gap is {gap_1_3 * 100:.1f} points."
    )
    ### END SOLUTION
    hp.check_answer(answer_q_1_3, max_chars=500)

# %% [markdown]
# ## Build: a ConvNet (Question 2.1)
#
# Three VGG-style blocks of two 3x3 convolutions with batch normalisation,
# each block halving the resolution and raising dropout, then a small dense
# head. The same builder, with augmentation layers in front, serves 2.2.


# %%
def build_model_2_1(augmentation: keras.Layer | None = None) -> keras.Model:
    """The SVHN ConvNet for grey 32x32 crops, with optional augmentation layers in front."""
    ### BEGIN SOLUTION
    model = keras.Sequential([keras.Input((32, 32, 1))], name="svhn_cnn")
    if augmentation is not None:
        model.add(augmentation)
    for filters, drop in ((32, 0.2), (64, 0.3), (128, 0.4)):
        for _ in range(2):
            model.add(layers.Conv2D(filters, 3, padding="same", use_bias=False))
            model.add(layers.BatchNormalization())
            model.add(layers.Activation("relu"))
        model.add(layers.MaxPooling2D(2))
        model.add(layers.Dropout(drop))
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %%
print(f"SVHN ConvNet: {build_model_2_1().count_params():,} parameters")

# %% grade_id="test_convnet"
# Test (Questions 2.1 and 2.2): a ConvNet for grey 32x32 crops; augmentation layers in front when given.
with hp.keep_keras_names():  # later models keep their automatic names
    test_model = build_model_2_1()
    assert test_model.input_shape == (None, 32, 32, 1) and test_model.output_shape == (None, 10), "32x32x1 in, 10 out"
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in test_model.layers), "a ConvNet has convolutions"
    test_augmented = build_model_2_1(hp.make_augmentation(zoom=0.1))
    assert len(test_augmented.layers) == len(test_model.layers) + 1, "the augmentation layers come in front"

# %% [markdown]
# ## Train: the ConvNet without and with augmentation (Questions 2.1 and 2.2)

# %%
cnn_epochs = 20
if svhn is not None:
    _, history_2_1 = hp.evaluate_or_plan("model_2_1", build_model_2_1, grey_split, epochs=cnn_epochs, **svhn_plan)

# %%
if svhn is not None and history_2_1 is not None:
    best_2_1 = max(history_2_1["val_accuracy"])
    answer_q_2_1 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_2_1 = (
        "Three blocks of two 3x3 convolutions (32, 64, 128 filters) with batch normalisation, each followed by 2x2 "
        "max pooling and dropout rising from 0.2 to 0.4, then a 128-unit dense layer. Filters double as the "
        "resolution halves, so deeper layers combine strokes into digit parts. "
        f"Best validation accuracy {best_2_1:.1%} after {cnn_epochs} epochs "
        f"({'above' if best_2_1 >= 0.9 else 'below'} the 90 % target)"
        + (f", against {best_1_2:.1%} for the dense pyramid." if history_1_2 is not None else ".")
    )
    ### END SOLUTION
    hp.check_answer(answer_q_2_1, max_chars=800)

# %%
augmented_epochs = 30
# Question 2.2: the augmentation for digit crops.
### BEGIN SOLUTION
digit_augmentation = hp.make_augmentation(rotate=0.03, zoom=0.1, translate=0.1)  # no flips: a mirrored 2 is no 2
### END SOLUTION
if svhn is not None:
    model_2_2, history_2_2 = hp.evaluate_or_plan(
        "model_2_2", build_model_2_1, grey_split, epochs=augmented_epochs, augmentation=digit_augmentation, **svhn_plan
    )

# %%
if svhn is not None and history_2_1 is not None and history_2_2 is not None:
    best_2_2 = max(history_2_2["val_accuracy"])
    answer_q_2_2 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_2_2 = (
        "Random rotations (up to 11 degrees), zooms and shifts (10 %), as Keras layers active in training only; "
        f"no flips, since mirrored digits are not digits, and {augmented_epochs} epochs. Best validation accuracy "
        f"{best_2_2:.1%} against {best_2_1:.1%} without augmentation ({(best_2_2 - best_2_1) * 100:+.1f} points): "
        f"augmentation {'helps' if best_2_2 > best_2_1 else 'does not help'} here."
    )
    ### END SOLUTION
    hp.check_answer(answer_q_2_2, max_chars=500)

# %% [markdown]
# ## Evaluate: misclassifications of model_2_2 (Question 3.1)

# %%
part_3 = svhn is not None and history_2_2 is not None
if part_3:
    probabilities = model_2_2.predict(x_grey_test, verbose=0)
    test_accuracy_3_1 = hp.accuracy(probabilities, y_te)
    print(f"test accuracy of model_2_2: {test_accuracy_3_1:.4f} on {len(y_te):,} test crops")
    hp.plot_confusion_matrix(y_te, probabilities, svhn_classes, normalize=True, title="model_2_2 on the SVHN test set")

# %%
if part_3:
    y_true, y_pred = y_te.argmax(1), probabilities.argmax(1)
    pairs = interpret.most_confused_pairs(y_true, y_pred, svhn_classes, top=5)
    focus = int(np.bincount(y_true[y_pred != y_true], minlength=10).argmax())  # the class with the most errors
    wrong = np.flatnonzero((y_true == focus) & (y_pred != focus))
    hp.plot_misclassified(x_te, y_te, probabilities, svhn_classes, indices=wrong, max_images=18)

# %%
if part_3:
    top = pairs.iloc[0]
    answer_q_3_1 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_3_1 = (
        f"model_2_2 reaches {test_accuracy_3_1:.2%} on the test set. The most frequent confusion is a {top['true']} "
        f"read as a {top['predicted']} ({top['errors']} times). Class {svhn_classes[focus]} has the most errors "
        f"({len(wrong)} of {(y_true == focus).sum()}); the crops above show why: blur, low contrast, and "
        "neighbouring digits inside the crop."
    )
    ### END SOLUTION
    hp.check_answer(answer_q_3_1, max_chars=800)

# %% [markdown]
# ## Evaluate: activations of the first test crop (Question 3.2)

# %%
if part_3:
    conv_names = interpret.conv_layer_names(model_2_2)
    chosen = [conv_names[0], conv_names[len(conv_names) // 2], conv_names[-1]]
    feature_maps = interpret.layer_outputs(model_2_2, chosen, x_grey_test[:1])
    for name, maps in zip(chosen, feature_maps):
        hp.plot_feature_maps(maps[0], title=f"{name}: {maps.shape[-1]} maps of {maps.shape[1]}x{maps.shape[2]}")

# %%
if part_3:
    active = [float(np.mean(maps[0].max(axis=(0, 1)) > 0)) for maps in feature_maps]
    answer_q_3_2 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_3_2 = (
        f"The first convolution's maps ({feature_maps[0].shape[1]}x{feature_maps[0].shape[2]}) follow the crop's "
        f"edges and strokes; {active[0]:.0%} of its filters respond. Deeper maps are coarser "
        f"({feature_maps[-1].shape[1]}x{feature_maps[-1].shape[2]}) and sparser ({active[-1]:.0%} respond), coding "
        "parts of the digit rather than pixels: the network learns something useful, not the background."
    )
    ### END SOLUTION
    hp.check_answer(answer_q_3_2, max_chars=800)

# %% [markdown]
# ## Evaluate: t-SNE of the learned embeddings (Question 3.3)

# %%
if part_3:
    sample = np.random.default_rng(0).choice(len(x_tr), size=min(5000, len(x_tr)), replace=False)
    embedding_layer = [layer.name for layer in model_2_2.layers if isinstance(layer, layers.Flatten)][-1]
    points = interpret.cached_tsne(  # the embeddings are computed only if the map is not cached
        "model_2_2_train5000",
        lambda: interpret.layer_outputs(model_2_2, [embedding_layer], grey_split[0][sample])[0],
        inputs=grey_split[0][sample],
        model_sha256=hp.manifest("model_2_2")["files"]["model"]["sha256"],
    )
    hp.plot_embedding(points, y_tr[sample], svhn_classes, title="t-SNE of model_2_2's convolutional embeddings")

# %%
if part_3:
    centres = np.stack([points[y_tr[sample].argmax(1) == c].mean(axis=0) for c in range(10)])
    spread = np.mean([points[y_tr[sample].argmax(1) == c].std() for c in range(10)])
    nearest = np.sort(np.linalg.norm(centres[:, None] - centres[None], axis=-1), axis=1)[:, 1]
    embedding_width = model_2_2.get_layer(embedding_layer).output.shape[-1]
    answer_q_3_3 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_3_3 = (
        f"The {embedding_width}-d embeddings of {len(sample):,} training crops form one cluster per digit: "
        f"the median distance between neighbouring class centres is {np.median(nearest):.1f} t-SNE units, against "
        f"a spread of {spread:.1f} within a class. Crops between clusters are the blurred or ambiguous ones."
    )
    ### END SOLUTION
    answer_q_2_3 = answer_q_3_3  # the name seed 002 uses for this answer
    hp.check_answer(answer_q_3_3, max_chars=800)

# %% [markdown]
# ## Takeaways

# %%
if part_3 and None not in (history_1_1, history_1_2, history_1_3, history_2_1):
    hp.show_takeaways(
        f"Dense pyramids reach {best_1_1:.1%} (colour), {best_1_2:.1%} (grey) and {best_1_3:.1%} (regularized) "
        "validation accuracy.",
        f"The ConvNet reaches {best_2_1:.1%}, with augmentation {best_2_2:.1%}, and {test_accuracy_3_1:.2%} on test.",
    )
elif svhn is None:
    print("SVHN is not on this machine, so nothing above ran: the first section says how to get it.")
else:
    print("Some SVHN models are not trained: the sections above say what they would train and for how long.")
