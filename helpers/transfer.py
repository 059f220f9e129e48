"""Transfer learning: ImageNet bases from ``keras.applications`` and reuse of our own models.

The ImageNet path needs the no-top weights files in Keras' cache
(``~/.keras/models``). :func:`fetch_imagenet_weights` downloads them under their
real names, from ``IMGCLS_MIRROR`` when set (a classroom's copy) or from
Keras' own address, and checks Keras' published MD5; offline it returns None
so notebooks skip cleanly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from helpers import cache, downloads, settings

#: ``keras.applications`` constructors used here: Keras' folder, the no-top weights file and its MD5.
APPLICATIONS = {
    "VGG16": ("vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc"),
    "DenseNet121": (
        "densenet",
        "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "30ee3e1110167f948a6b9946edeeb738",
    ),
}
KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


def keras_models_dir() -> Path:
    """The folder where Keras keeps downloaded weights (beside its dataset cache)."""
    return downloads.keras_dir() / "models"


def imagenet_weights_available(name: str) -> bool:
    """True if the no-top ImageNet weights of ``name`` are already on disk."""
    return (keras_models_dir() / APPLICATIONS[name][1]).is_file()


def fetch_imagenet_weights(name: str) -> Path | None:
    """The no-top ImageNet weights of ``name``, downloaded once (mirror first), or None when unavailable.

    Prints one line when they cannot be had (offline, or the mirror lacks them).
    """
    from keras.src.utils.file_utils import validate_file

    folder, fname, md5 = APPLICATIONS[name]
    path = keras_models_dir() / fname
    if path.is_file() and (not settings.verify_download_checksums() or validate_file(str(path), md5)):
        return path
    path.unlink(missing_ok=True)  # not the published file: never load it
    url = downloads.origin(fname, f"{KERAS_WEIGHTS_URL}{folder}/")
    if settings.offline() or not downloads.reachable(url):
        print(f"{name}'s ImageNet weights are not here and {url.split('/')[2]} cannot be reached (offline).")
        return None
    try:
        return downloads.fetch(url, fname, checksum=md5, subdir="models")
    except Exception as err:  # any network or checksum failure: one line, the section skips
        path.unlink(missing_ok=True)
        print(f"{name}'s ImageNet weights could not be downloaded from {url}: {type(err).__name__}")
        return None


def build_base(name: str, input_shape: tuple[int, int, int], *, weights: str | None = "imagenet") -> keras.Model:
    """A ``keras.applications`` convolutional base without its classifier, frozen.

    Args:
        name: ``"VGG16"`` or ``"DenseNet121"``.
        input_shape: e.g. ``(32, 32, 3)`` (both accept 32x32 inputs).
        weights: ``"imagenet"`` (the file :func:`fetch_imagenet_weights` gets, loaded as Keras
            itself loads it) or ``None`` (random weights, for tests).

    Raises:
        FileNotFoundError: When the ImageNet weights cannot be had.
    """
    constructor = getattr(keras.applications, name)
    base = constructor(include_top=False, weights=None, input_shape=input_shape, pooling="avg")
    if weights == "imagenet":
        path = fetch_imagenet_weights(name)
        if path is None:
            raise FileNotFoundError(f"{name}'s ImageNet weights are not available: see the line above")
        base.load_weights(path)
    base.trainable = False
    return base


def preprocess_for(name: str, images: np.ndarray) -> np.ndarray:
    """Apply the application's own input preprocessing to ``0..255`` RGB images."""
    module = getattr(keras.applications, APPLICATIONS[name][0])
    return np.asarray(module.preprocess_input(np.asarray(images, dtype=np.float32).copy()), dtype=np.float32)


def unfreeze_top(base: keras.Model, prefixes: Sequence[str]) -> list[str]:
    """Make trainable only the base's layers whose names start with a prefix.

    Example: ``unfreeze_top(vgg, ["block5_"])`` fine-tunes VGG16's last block.
    Batch-normalisation layers stay frozen (inference mode), as is usual when
    fine-tuning.

    Returns:
        The names of the layers that are now trainable.
    """
    base.trainable = True
    opened = []
    for layer in base.layers:
        trainable = any(layer.name.startswith(p) for p in prefixes) and not isinstance(
            layer, keras.layers.BatchNormalization
        )
        layer.trainable = trainable
        if trainable and layer.weights:
            opened.append(layer.name)
    return opened


def classifier_on(base: keras.Model, num_classes: int, *, hidden: int = 256, dropout: float = 0.5) -> keras.Model:
    """A dense head (``hidden`` ReLU units, dropout, softmax) on top of ``base``."""
    inputs = keras.Input(base.input_shape[1:])
    x = base(inputs, training=False)
    x = keras.layers.Dense(hidden, activation="relu")(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=f"{base.name}_classifier")


def extract_features(
    name: str, base: keras.Model, x: np.ndarray, *, batch_size: int = 256, cache_dir: str | os.PathLike | None = None
) -> np.ndarray:
    """Run a frozen base once over ``x`` and cache the features (``float32``).

    The cache file ``<cache>/.cache/features/NAME.npz`` also stores the
    fingerprints of the inputs and of the base's weights; a mismatch recomputes.
    Batches keep the memory low (SVHN through VGG16 stays well under 1 GB).
    """
    from helpers.fingerprint import array_fingerprint

    root = Path(cache_dir) if cache_dir is not None else settings.cache_dir()
    path = root / ".cache" / "features" / f"{cache.check_name(name)}.npz"
    key = f"{array_fingerprint(x)}:{_weights_fingerprint(base)}"
    stored = cache.load_keyed_array(path, key, "features")
    if stored is not None:
        return stored
    features = np.concatenate(
        [
            np.asarray(base.predict(x[i : i + batch_size], verbose=0), dtype=np.float32)
            for i in range(0, len(x), batch_size)
        ]
    )
    cache.save_keyed_array(path, key, "features", features)
    return features


def _weights_fingerprint(model: keras.Model) -> str:
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    for w in model.weights:
        h.update(np.ascontiguousarray(np.asarray(w)).tobytes()[:4096])
        h.update(str(tuple(w.shape)).encode())
    return h.hexdigest()


def body_of(model: keras.Model, *, skip_input_layers: int = 0, drop_last: int = 1) -> list[keras.Layer]:
    """The layers of a Sequential model without its first/last few (e.g. augmentation, classifier)."""
    return list(model.layers[skip_input_layers : len(model.layers) - drop_last])


def copy_body(
    layers_: Sequence[keras.Layer],
    input_shape: tuple[int, ...],
    *,
    pretrained: bool,
    name: str,
    bn_momentum: float | None = None,
) -> keras.Sequential:
    """A fresh Sequential made of copies of ``layers_``, with their weights or re-initialised.

    Every call gives independent layers, so runs never share (and disturb) weights.

    Args:
        layers_: The layers to copy (for example from :func:`body_of`).
        input_shape: Input shape of the copy.
        pretrained: Keep the layers' weights (True) or re-initialise them.
        name: Name of the new Sequential.
        bn_momentum: If given, the momentum of every ``BatchNormalization``
            moving average. Runs of a few hundred steps need a faster one
            (0.9) than Keras' 0.99, or the statistics used at inference lag
            behind the weights.
    """
    template = keras.Sequential([keras.Input(input_shape), *layers_])
    clone = keras.models.clone_model(template)
    if pretrained:
        clone.set_weights(template.get_weights())
    if bn_momentum is not None:
        for layer in clone.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = bn_momentum
    clone.name = name
    return clone


def model_sha(name: str, cache_dir: str | os.PathLike | None = None) -> str:
    """The recorded SHA-256 of a cached model: use it in ``data_key`` of runs built on it."""
    return cache.manifest(name, cache_dir)["files"]["model"]["sha256"]


def describe_trainable(model: keras.Model) -> dict[str, Any]:
    """Counts of trainable and frozen parameters."""
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    frozen = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return {"trainable parameters": trainable, "frozen parameters": frozen}
