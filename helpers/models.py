"""Model builders shared by the notebooks. Each takes explicit arguments only."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers


def build_mlp(
    input_dim: int,
    hidden: Sequence[int],
    *,
    num_classes: int = 10,
    activation: str = "relu",
    dropout: float = 0.0,
    l2: float = 0.0,
    name: str = "mlp",
) -> keras.Sequential:
    """A dense network ``input_dim -> hidden[0] -> ... -> num_classes`` (softmax).

    Args:
        input_dim: Length of the (flattened) input vectors.
        hidden: Widths of the hidden layers; ``[]`` gives softmax regression.
        num_classes: Number of output classes.
        activation: Activation of the hidden layers.
        dropout: Dropout rate after every hidden layer (0 disables it).
        l2: L2 penalty on every kernel, hidden and output (0 disables it).
        name: Model name.

    Returns:
        An uncompiled ``keras.Sequential``.
    """
    regularizer = keras.regularizers.L2(l2) if l2 else None
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(input_dim,)))
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
