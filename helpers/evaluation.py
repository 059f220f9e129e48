"""Seed 002's evaluation harness: ``run_evaluation`` on the training cache, as the seed calls it."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from helpers import cache
from helpers.training import fit_cached


def shout(text: str, verbose: int = 1) -> None:
    """Print ``text`` in red (as the seed's harness does)."""
    if verbose > 0:
        print("\033[91m" + text + "\x1b[0m")


def min_max_table(history: dict[str, list[float]]) -> pd.DataFrame:
    """Return a table with the minimum and maximum of every learning curve."""
    frame = pd.DataFrame(history)
    return frame.agg(["min", "max"])


def run_evaluation(
    name: str,
    model_builder: Callable[..., Any],
    data: tuple,
    base_dir: str | os.PathLike | None = None,
    train: bool = True,
    generator: bool = False,
    epochs: int = 3,
    batch_size: int = 32,
    steps_per_epoch: int = 60,
    verbose: int = 1,
    data_key: str | None = None,
    **kwargs: Any,
) -> tuple[Any, dict]:
    """Train (or load) a model, store it, and report it like seed 002's harness.

    It prints the model summary, plots the learning curves and prints the
    min/max of every curve. Training goes through :func:`fit_cached`, so a
    re-run with the same builder and data loads the stored model instead of
    training again. ``train=False`` (or the global ``stop_training`` switch /
    ``IMGCLS_CACHE_MODE=require``) only loads and never trains.

    Args:
        name: Model name, e.g. ``"model_1_1"``.
        model_builder: Returns a compiled, untrained model; gets ``**kwargs``.
        data: ``(X_train, X_val, y_train, y_val)`` arrays, or with
            ``generator=True`` ``(dataset_or_generator, X_val, y_val)``.
        base_dir: Cache folder (default: the project's cache).
        train: Train when the model is not cached.
        generator: Whether ``data`` starts with a generator / dataset.
        epochs: Number of epochs.
        batch_size: Batch size for array data.
        steps_per_epoch: Steps per epoch for a generator.
        verbose: 0 silent, 1 messages.
        data_key: With ``generator=True``, required: a name for what the generator yields (e.g.
            ``"svhn gray, flips and shifts, seed 0"``). A generator cannot be fingerprinted by content, so
            a changed generator under the same key would be served the old result; change the key with it.
        **kwargs: Passed to ``model_builder``.

    Returns:
        ``(model, history)``.

    Raises:
        CacheMiss: When training is not allowed (``train=False``, require mode) and the model is not
            cached; the message names the model and how to train it. It shows as one line in a notebook.
        TypeError: When ``model_builder`` does not return a compiled model.
    """
    if generator:
        if not data_key:
            raise ValueError("run_evaluation(generator=True) needs data_key='...' naming what the generator yields")
        stream, x_val, y_val = data
        x, y, key, steps = stream, None, f"{name}:generator:{data_key}", steps_per_epoch
    else:
        x, x_val, y, y_val = data
        key, steps = None, None
    mode = None if train else "require"  # None: the run-wide mode (train, retrain or require)
    try:
        model, history = fit_cached(
            name,
            lambda: model_builder(**kwargs),
            x,
            y,
            validation_data=(x_val, y_val),
            epochs=epochs,
            batch_size=batch_size,
            steps_per_epoch=steps,
            data_key=key,
            mode=mode,
            cache_dir=base_dir,
            verbose=2 if verbose else 0,
        )
    except TypeError as err:
        shout(f"Model is not built correctly: {err}")
        raise
    except cache.CacheError as err:
        shout(f"Model could not be loaded: {err}")
        raise
    shout("Success!", verbose)
    model.summary()
    table = min_max_table(history)
    curves = pd.DataFrame(history)
    styles = {"loss": "b:", "accuracy": "r:", "val_loss": "b-", "val_accuracy": "r-"}
    ax = curves.plot(lw=2, style=[styles.get(c, "-") for c in curves.columns], figsize=(7, 4))
    ax.set_xlabel("epochs")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("loss / accuracy")
    ax.set_title(name)
    plt.show()
    print(table)
    return model, history
