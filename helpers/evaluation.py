"""Seed 002's evaluation harness and answer checker, built on the training cache."""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from helpers import cache
from helpers.training import fit_cached

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx|resp|Fig|Eq|Ex)\.", re.IGNORECASE)


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


def count_sentences(text: str) -> int:
    """Count sentences: runs of ``.``, ``!`` or ``?`` followed by space or the end.

    Decimal numbers such as ``0.91`` and abbreviations such as ``e.g.`` do not
    end a sentence.
    """
    stripped = _ABBREVIATIONS.sub(lambda m: m.group(1), text.strip())
    if not stripped:
        return 0
    ends = len(_SENTENCE_END.findall(stripped))
    return ends + (0 if _SENTENCE_END.search(stripped[-1:]) or stripped[-1] in ".!?" else 1)


def check_answer(text: str, max_chars: int | None = None, max_sentences: int | None = None) -> None:
    """Print the answer, wrapped for the page, and its length; raise if it breaks the exercise's limits.

    Printing it shows the finished text in the rendered notebook, also when the
    answer is an f-string filled in from the runs.

    Raises:
        ValueError: If the answer is longer than ``max_chars`` characters or
            ``max_sentences`` sentences.
    """
    n_chars = len(text.strip())
    n_sentences = count_sentences(text)
    print(textwrap.fill(" ".join(text.split()), width=100, break_on_hyphens=False))
    print(f"Answer is {n_chars} characters long ({n_sentences} sentences)")
    if max_chars is not None and n_chars > max_chars:
        raise ValueError(f"answer has {n_chars} characters; the limit is {max_chars}")
    if max_sentences is not None and n_sentences > max_sentences:
        raise ValueError(f"answer has {n_sentences} sentences; the limit is {max_sentences}")


def best_metrics(history: dict[str, list[float]]) -> dict[str, float]:
    """Best validation loss and accuracy of one run, the epoch of each (1-based), and final accuracies."""
    val_loss, val_acc = history["val_loss"], history["val_accuracy"]
    return {
        "best_val_loss": min(val_loss),
        "best_val_loss_epoch": int(val_loss.index(min(val_loss))) + 1,
        "best_val_accuracy": max(val_acc),
        "best_val_accuracy_epoch": int(val_acc.index(max(val_acc))) + 1,
        "final_val_accuracy": val_acc[-1],
        "final_train_accuracy": history["accuracy"][-1],
    }


def runs_table(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """Turn ``[{**params, "history": history}, ...]`` into a table of best metrics."""
    rows = []
    for run in runs:
        params = {k: v for k, v in run.items() if k != "history"}
        rows.append({**params, **best_metrics(run["history"])})
    return pd.DataFrame(rows)


def training_times(names: list[str], cache_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Epochs, training time and date of cached runs, read from their manifests (no model is loaded).

    Args:
        names: Cache names of the runs, one row each, in this order.
        cache_dir: Cache folder; the configured one by default.

    Raises:
        CacheMiss: If a run has not been trained.
    """
    rows = {}
    for name in names:
        entry = cache.manifest(name, cache_dir)
        rows[name] = {
            "epochs": entry["epochs_run"],
            "training time [min]": entry["training_seconds"] / 60,
            "trained at": entry["trained_at"][:16].replace("T", " "),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def shift_images(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move images ``dy`` pixels down and ``dx`` right, filling the uncovered border with zeros.

    Args:
        x: Images, shape ``(n, height, width, channels)``.
        dy: Rows to move down (negative: up).
        dx: Columns to move right (negative: left).

    Returns:
        A new array of the same shape and dtype.
    """
    x = np.asarray(x)
    height, width = x.shape[1:3]
    if abs(dy) >= height or abs(dx) >= width:
        raise ValueError(f"cannot shift {height}x{width} images by ({dy}, {dx}) pixels")
    out = np.zeros_like(x)
    out[:, max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = x[
        :, max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
    ]
    return out


def tta_views(x: np.ndarray, *, flip: bool = False, shift: int = 0) -> list[np.ndarray]:
    """The views of ``x`` that test-time augmentation averages over.

    Order: the images, their mirror images (with ``flip``), then each of those
    moved ``shift`` pixels down, up, right and left (with ``shift > 0``). So
    ``views[:1]`` is plain prediction and, with ``flip``, ``views[:2]`` is flip TTA.
    """
    if shift < 0:
        raise ValueError("shift must be >= 0")
    bases = [x, x[:, :, ::-1]] if flip else [x]
    moves = ((shift, 0), (-shift, 0), (0, shift), (0, -shift)) if shift else ()
    return bases + [shift_images(base, dy, dx) for base in bases for dy, dx in moves]


def tta_view_count(*, flip: bool = False, shift: int = 0) -> int:
    """How many views :func:`tta_views` makes, without making them: 1, 2, 5 or 10."""
    return (2 if flip else 1) * (5 if shift else 1)


def member_predictions(
    models: Any, x: Any, *, flip: bool = False, shift: int = 0, batch_size: int = 1024
) -> np.ndarray:
    """Class probabilities of every model on every view of ``x``, each computed once.

    Args:
        models: One model or a sequence of models with the same classes.
        x: Images, shape ``(n, height, width, channels)``.
        flip: Add the mirror images as a second view (test-time augmentation;
            only sensible where a horizontal flip keeps the class: clothing, not digits).
        shift: Also add every view moved this many pixels in each of the four
            directions (see :func:`tta_views`); 0 for none.
        batch_size: Prediction batch size.

    Returns:
        Array of shape ``(models, views, n, classes)``. An ensemble of some
        members and views is ``predictions[members, :views].mean(axis=(0, 1))``.
    """
    models = list(models) if isinstance(models, (list, tuple)) else [models]
    if not models:
        raise ValueError("member_predictions needs at least one model")
    views = tta_views(np.asarray(x), flip=flip, shift=shift)
    return np.stack(
        [np.stack([model.predict(view, batch_size=batch_size, verbose=0) for view in views]) for model in models]
    )


def predict_average(models: Any, x: Any, *, flip: bool = False, batch_size: int = 1024) -> Any:
    """Class probabilities averaged over several models (an ensemble) and, with ``flip``, mirror images."""
    return member_predictions(models, x, flip=flip, batch_size=batch_size).mean(axis=(0, 1))


def predict_tta(model: Any, x: Any, *, flip: bool = True, batch_size: int = 512) -> Any:
    """Class probabilities of one model averaged over the images and their mirror images."""
    return predict_average([model], x, flip=flip, batch_size=batch_size)


def accuracy(probabilities: Any, y: Any) -> float:
    """Share of rows whose most probable class is the true one (``y`` one-hot or integer)."""
    y = np.asarray(y)
    labels = y.argmax(1) if y.ndim == 2 else y
    return float(np.mean(np.asarray(probabilities).argmax(1) == labels))


def expected_errors(accuracy: float, n_test: int, per: int = 10_000, z: float = 1.96) -> dict[str, float]:
    """Expected misclassifications per ``per`` images, with a Wilson 95 % interval.

    Args:
        accuracy: Measured test accuracy.
        n_test: Number of test images it was measured on.
        per: Production volume to scale to.
        z: Normal quantile of the interval (1.96 for 95 %).
    """
    error = 1.0 - accuracy
    centre = (error + z * z / (2 * n_test)) / (1 + z * z / n_test)
    half = z * ((error * (1 - error) / n_test + z * z / (4 * n_test * n_test)) ** 0.5) / (1 + z * z / n_test)
    return {"expected": error * per, "low": max(0.0, centre - half) * per, "high": (centre + half) * per}
