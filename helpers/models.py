"""Model builders shared by the notebooks. Each takes explicit arguments only."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

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


def build_vgg_cnn(
    input_shape: tuple[int, int, int],
    widths: Sequence[int] = (32, 64, 128),
    *,
    num_classes: int = 10,
    dropouts: Sequence[float] = (0.2, 0.3, 0.4),
    dense_units: int = 256,
    dense_dropout: float = 0.5,
    l2: float = 0.0,
    batch_norm: bool = True,
    augmentation: keras.Layer | None = None,
    dtype: str | None = None,
    name: str = "vgg_cnn",
) -> keras.Sequential:
    """A VGG-style CNN: per width, two 3x3 conv (+ batch norm) + ReLU, 2x2 max pooling, dropout.

    Then flatten, a (batch-normalised) dense ReLU layer with dropout, and a softmax
    output. Notebook 08's Fashion-MNIST CNNs (the naive one: no batch norm, no
    dropout, no L2) and ``benchmarks/precision.py`` are built with it.

    Args:
        input_shape: Image shape, e.g. ``(28, 28, 1)``.
        widths: Filters of each block (one block per entry).
        num_classes: Number of output classes.
        dropouts: Dropout rate after each block (same length as ``widths``);
            a rate of 0 adds no layer.
        dense_units: Width of the dense layer before the output.
        dense_dropout: Dropout rate after the dense layer (0: no layer).
        l2: L2 penalty on every kernel and bias (0 disables it).
        batch_norm: Batch normalisation between each convolution or hidden
            dense layer and its ReLU; without it the layer applies the ReLU.
        augmentation: Optional augmentation layer applied first (training only).
        dtype: Layer dtype policy, e.g. ``"mixed_bfloat16"`` (computes in
            bfloat16, keeps float32 weights); the softmax output stays float32.
        name: Model name.

    Returns:
        An uncompiled ``keras.Sequential``.
    """
    if len(dropouts) != len(widths):
        raise ValueError(f"need one dropout rate per block: {len(widths)} widths, {len(dropouts)} rates")
    reg = {"kernel_regularizer": keras.regularizers.L2(l2), "bias_regularizer": keras.regularizers.L2(l2)} if l2 else {}

    def relu_unit(layer_class: type, units: int, **kwargs: Any) -> list[keras.Layer]:
        if not batch_norm:
            return [layer_class(units, activation="relu", dtype=dtype, **kwargs, **reg)]
        return [
            layer_class(units, dtype=dtype, **kwargs, **reg),
            layers.BatchNormalization(dtype=dtype),
            layers.Activation("relu", dtype=dtype),
        ]

    def dropout(rate: float) -> list[keras.Layer]:
        return [layers.Dropout(rate, dtype=dtype)] if rate else []

    stack: list[keras.Layer] = [] if augmentation is None else [augmentation]
    for filters, drop in zip(widths, dropouts):
        for _ in range(2):
            stack += relu_unit(layers.Conv2D, filters, kernel_size=3, padding="same")
        stack += [layers.MaxPooling2D(2, dtype=dtype), *dropout(drop)]
    stack += [layers.Flatten(dtype=dtype), *relu_unit(layers.Dense, dense_units), *dropout(dense_dropout)]
    stack.append(layers.Dense(num_classes, activation="softmax", **reg))
    model = keras.Sequential([keras.Input(input_shape)], name=name)
    for layer in stack:
        model.add(layer)
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


def warmup_cosine(peak_lr: float, epochs: int, steps_per_epoch: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """Learning rate rising linearly from ``peak_lr / 10`` to ``peak_lr`` in the first epoch, then a cosine to 0.

    Args:
        peak_lr: The largest learning rate, reached at the end of the first epoch.
        epochs: Length of the whole run; the decay ends with the last epoch.
        steps_per_epoch: Optimizer steps per epoch (``ceil(train_size / batch_size)``).

    Returns:
        A Keras ``CosineDecay`` schedule with linear warm-up, to pass as ``learning_rate``.
    """
    if epochs < 2 or steps_per_epoch < 1:
        raise ValueError(
            f"warmup_cosine needs epochs >= 2 and steps_per_epoch >= 1, got {epochs} and {steps_per_epoch}"
        )
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_lr / 10,
        warmup_target=peak_lr,
        warmup_steps=steps_per_epoch,
        decay_steps=(epochs - 1) * steps_per_epoch,
    )


@contextlib.contextmanager
def keep_keras_names() -> Iterator[None]:
    """Build models for a test without changing the automatic names Keras gives the models built after it.

    Keras numbers layers and models in one counter per prefix (``dense``, ``dense_1``, ...);
    a test cell that builds a model would shift every later summary. The counters
    are put back as they were when the block ends.
    """
    from keras.src.backend.common import global_state

    uids = global_state.get_global_attribute(
        "object_name_uids", default=collections.defaultdict(int), set_to_default=True
    )
    saved = dict(uids)
    try:
        yield
    finally:
        uids.clear()
        uids.update(saved)
