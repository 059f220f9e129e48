"""Model builders shared by the notebooks. Each takes explicit arguments only."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers


def make_augmentation(
    *,
    flip: bool = False,
    translate: float = 0.0,
    rotate: float = 0.0,
    zoom: float = 0.0,
    erase: float = 0.0,
    seed: int = 0,
) -> keras.Sequential:
    """Keras 3 preprocessing layers that augment images during training only.

    Args:
        flip: Random horizontal flips (sensible for clothing, harmful for digits).
        translate: Random shifts, as a fraction of height and width.
        rotate: Random rotations, as a fraction of a full turn (0.05 = 18 degrees).
        zoom: Random zoom in or out, as a fraction.
        erase: Probability of random erasing (Zhong et al., 2017): a random
            rectangle of 2-33 % of the image is replaced by noise. Expects
            images scaled to [0, 1].
        seed: Seed of the random transforms.
    """
    steps: list[layers.Layer] = []
    if flip:
        steps.append(layers.RandomFlip("horizontal", seed=seed))
    if rotate:
        steps.append(layers.RandomRotation(rotate, fill_mode="constant", seed=seed))
    if zoom:
        steps.append(layers.RandomZoom(zoom, fill_mode="constant", seed=seed))
    if translate:
        steps.append(layers.RandomTranslation(translate, translate, fill_mode="constant", seed=seed))
    if erase:
        steps.append(layers.RandomErasing(factor=(erase, erase), value_range=(0.0, 1.0), seed=seed))
    return keras.Sequential(steps, name="augmentation")


def build_mlp(
    input_dim: int | tuple[int, ...],
    hidden: Sequence[int],
    *,
    num_classes: int = 10,
    activation: str = "relu",
    dropout: float = 0.0,
    l2: float = 0.0,
    augmentation: keras.Layer | None = None,
    name: str = "mlp",
) -> keras.Sequential:
    """A dense network ``input -> hidden[0] -> ... -> num_classes`` (softmax).

    Args:
        input_dim: Length of flat input vectors, or an image shape such as
            ``(28, 28, 1)`` (then the images are flattened inside the model).
        hidden: Widths of the hidden layers; ``[]`` gives softmax regression.
        num_classes: Number of output classes.
        activation: Activation of the hidden layers.
        dropout: Dropout rate after every hidden layer (0 disables it).
        l2: L2 penalty on every kernel, hidden and output (0 disables it).
        augmentation: Optional augmentation layer applied to image inputs.
        name: Model name.

    Returns:
        An uncompiled ``keras.Sequential``.
    """
    regularizer = keras.regularizers.L2(l2) if l2 else None
    model = keras.Sequential(name=name)
    image_input = isinstance(input_dim, tuple)
    model.add(keras.Input(shape=input_dim if image_input else (input_dim,)))
    if augmentation is not None:
        model.add(augmentation)
    if image_input:
        model.add(layers.Flatten())
    for width in hidden:
        model.add(layers.Dense(width, activation=activation, kernel_regularizer=regularizer))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer))
    return model


def compile_classifier(
    model: keras.Model,
    optimizer: str | keras.optimizers.Optimizer = "adam",
    *,
    label_smoothing: float = 0.0,
) -> keras.Model:
    """Compile for one-hot targets: categorical cross-entropy and accuracy.

    Returns:
        The same model, compiled (so builders can ``return compile_classifier(...)``).
    """
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    return model
