"""Looking inside trained models: activations, embeddings, confusions."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

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
    features: np.ndarray | Callable[[], np.ndarray],
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
        features: The features to embed, shape ``(n, d)``, or a function that
            computes them. With ``inputs`` given, the function is called only
            when the embedding is not cached, so a re-run computes no features.
        model_sha256: SHA-256 of the model file that computed the features.
        inputs: The images the features were computed from. When given, they
            are fingerprinted instead of the features, so another CPU whose
            floating-point results differ in the last bits still hits the cache.
        seed: t-SNE random state.
        perplexity: t-SNE perplexity.
        cache_dir: Override the cache folder.
    """
    from sklearn.manifold import TSNE

    root = Path(cache_dir) if cache_dir is not None else settings.cache_dir()
    path = root / "histories" / "embeddings" / f"{cache.check_name(name)}.npz"
    if inputs is None and callable(features):
        features = features()
    data = np.asarray(inputs if inputs is not None else features, dtype=np.float32)
    key = (
        f"{model_sha256}:{'inputs' if inputs is not None else 'features'}:{array_fingerprint(data)}:{seed}:{perplexity}"
    )
    stored = cache.load_keyed_array(path, key, "points")
    if stored is not None:
        return stored
    if settings.cache_mode() == "require":
        raise cache.CacheMiss(f"no cached t-SNE embedding {name!r} for these features")
    if callable(features):
        features = features()
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)
    points = points.astype(np.float32)
    cache.save_keyed_array(path, key, "points", points)
    return points
