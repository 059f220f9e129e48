"""Predictions of ensembles over test-time-augmentation views, and their cache.

The cache stores ``member_predictions`` of cached models once, keyed by the
models' SHA-256s, the images' fingerprint and the views (``histories/predictions/``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from helpers import cache, settings
from helpers.fingerprint import array_fingerprint


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


def _predictions_folder(cache_dir: str | os.PathLike | None) -> Path:
    return (Path(cache_dir) if cache_dir is not None else settings.cache_dir()) / "histories" / "predictions"


def _predictions_key(shas: Sequence[str], images: str, flip: bool, shift: int) -> str:
    """Key of stored predictions: the models' SHA-256s, the images' fingerprint and the views."""
    return f"{','.join(shas)}:{images}:{flip}" + (f":shift{shift}" if shift else "")


def stored_predictions(
    x: np.ndarray, cache_dir: str | os.PathLike | None = None
) -> list[tuple[str, list[str], dict[str, Any]]]:
    """List the stored predictions of images ``x`` that are still valid, without loading them.

    Lets a report reuse what the notebooks stored without repeating their names.

    Args:
        x: The images the predictions must be of.
        cache_dir: Override the cache folder.

    Returns:
        ``(name, model names, views)`` per file, in name order, where ``views`` holds the
        ``flip`` and ``shift`` arguments of :func:`cached_predictions`. A file is left out
        when any of its models is no longer in the cache with the same model file.
    """
    name_of_sha = {
        entry["files"]["model"]["sha256"]: name
        for name, entry in cache.list_entries(cache_dir).items()
        if cache.model_stored(entry)
    }
    images = array_fingerprint(np.asarray(x))
    found = []
    for path in sorted(_predictions_folder(cache_dir).glob("*.npz")):
        parts = (cache.read_array_key(path) or "").split(":")  # shas, images, flip[, shiftN]
        if len(parts) not in (3, 4) or parts[1] != images:
            continue
        names = [name_of_sha.get(sha) for sha in parts[0].split(",")]
        if None not in names:
            shift = int(parts[3].removeprefix("shift")) if len(parts) == 4 else 0
            found.append((path.stem, names, {"flip": parts[2] == "True", "shift": shift}))
    return found


def cached_predictions(
    name: str,
    model_names: Sequence[str],
    x: np.ndarray,
    *,
    flip: bool = False,
    shift: int = 0,
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """:func:`member_predictions` of cached models, stored once.

    Stored in ``<cache>/histories/predictions/NAME.npz`` (plain arrays, read with
    ``allow_pickle=False``) with a key made of the models' recorded SHA-256s, a
    fingerprint of ``x``, ``flip`` and ``shift``; a changed model or input recomputes. On a
    hit the models are not even loaded. In require-cache mode a miss is computed
    (predicting never trains) but not written.

    Args:
        name: Cache name of the predictions.
        model_names: Cache entries of the models, in the order of the result's first axis.
        x: Images to predict.
        flip: Add the mirror images as a second view.
        shift: Add views moved this many pixels (see :func:`tta_views`).
        cache_dir: Override the cache folder.

    Returns:
        Array of shape ``(models, views, n, classes)``.
    """
    path = _predictions_folder(cache_dir) / f"{cache.check_name(name)}.npz"
    shas = [cache.manifest(model_name, cache_dir)["files"]["model"]["sha256"] for model_name in model_names]
    key = _predictions_key(shas, array_fingerprint(np.asarray(x)), flip, shift)
    stored = cache.load_keyed_array(path, key, "predictions")
    if stored is not None:
        return stored
    models = [cache.load_cached(model_name, cache_dir)[0] for model_name in model_names]
    predictions = member_predictions(models, x, flip=flip, shift=shift).astype(np.float32)
    if settings.cache_mode() != "require":
        cache.save_keyed_array(path, key, "predictions", predictions)
    return predictions
