"""Looking inside trained models: activations, embeddings, confusions."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from helpers import cache, settings
from helpers.fingerprint import array_fingerprint


def layer_outputs(model: keras.Model, layer_names: Sequence[str], x: np.ndarray, *, batch_size: int = 256) -> list:
    """Outputs of the named layers for inputs ``x`` (inference mode), as ``float32`` arrays.

    Works for Sequential and functional models: a side model maps the
    model's input to each requested layer's output. Layers that compute in
    bfloat16 (a ``mixed_bfloat16`` model) are cast to ``float32``, which
    matplotlib and scikit-learn expect.
    """
    probe = keras.Model(model.inputs[0], [model.get_layer(n).output for n in layer_names])
    outputs = probe.predict(x, batch_size=batch_size, verbose=0)
    return [np.asarray(out, dtype=np.float32) for out in (outputs if isinstance(outputs, list) else [outputs])]


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's Conv2D layers, input side first."""
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def most_confused_pairs(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str], top: int = 8
) -> pd.DataFrame:
    """The (true, predicted) class pairs with the most errors."""
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=range(len(class_names)))
    np.fill_diagonal(cm, 0)
    order = np.dstack(np.unravel_index(np.argsort(cm, axis=None)[::-1], cm.shape))[0][:top]
    totals = np.bincount(y_true, minlength=len(class_names))
    return pd.DataFrame(
        [
            {
                "true": class_names[i],
                "predicted": class_names[j],
                "errors": int(cm[i, j]),
                "share of true class": cm[i, j] / totals[i],
            }
            for i, j in order
            if cm[i, j] > 0
        ]
    )


def cached_tsne(
    name: str,
    features: np.ndarray,
    *,
    model_sha256: str,
    inputs: np.ndarray | None = None,
    seed: int = 0,
    perplexity: float = 30.0,
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """2-D t-SNE of ``features``, cached in ``<cache>/histories/embeddings/NAME.npz``.

    The file records the SHA-256 of the model the features came from, a
    fingerprint of the data and the t-SNE settings; any mismatch recomputes.
    It holds plain arrays only and is read with ``allow_pickle=False``.

    Args:
        name: Cache name of the embedding.
        features: The features to embed, shape ``(n, d)``.
        model_sha256: SHA-256 of the model file that computed the features.
        inputs: The images the features were computed from. When given, they
            are fingerprinted instead of the features, so another CPU whose
            floating-point results differ in the last bits still hits the cache.
        seed: t-SNE random state.
        perplexity: t-SNE perplexity.
        cache_dir: Override the cache folder.
    """
    from sklearn.manifold import TSNE

    from helpers.fingerprint import array_fingerprint

    root = Path(cache_dir) if cache_dir is not None else settings.cache_dir()
    path = root / "histories" / "embeddings" / f"{cache.check_name(name)}.npz"
    data = np.asarray(inputs if inputs is not None else features, dtype=np.float32)
    key = (
        f"{model_sha256}:{'inputs' if inputs is not None else 'features'}:{array_fingerprint(data)}:{seed}:{perplexity}"
    )
    stored = cache.load_keyed_array(path, key, "points")
    if stored is not None:
        return stored
    if settings.cache_mode() == "require":
        raise cache.CacheMiss(f"no cached t-SNE embedding {name!r} for these features")
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)
    points = points.astype(np.float32)
    cache.save_keyed_array(path, key, "points", points)
    return points


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
    """:func:`~helpers.evaluation.member_predictions` of cached models, stored once.

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
        shift: Add views moved this many pixels (see :func:`~helpers.evaluation.tta_views`).
        cache_dir: Override the cache folder.

    Returns:
        Array of shape ``(models, views, n, classes)``.
    """
    from helpers.evaluation import member_predictions

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
