"""Preparing images and labels for training (the seeds' preprocessing steps).

All functions are pure: they return new arrays and never modify their inputs.
Images stay ``uint8`` or become ``float32`` (never ``float64``: SVHN as float64
would need 2.4 GB).
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from helpers.data import load_dataset

LUMINANCE = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def one_hot(y: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Return ``float32`` one-hot rows for integer labels ``y``.

    >>> one_hot(np.array([2]), 5).tolist()
    [[0.0, 0.0, 1.0, 0.0, 0.0]]
    """
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError("one_hot expects a 1-D array of integer labels")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return np.eye(num_classes, dtype=np.float32)[y]


def flatten_rescale(x: np.ndarray) -> np.ndarray:
    """Flatten images to vectors and rescale ``0..255`` to ``[0, 1]`` (``float32``)."""
    x = np.asarray(x)
    return (x.reshape(len(x), -1) / np.float32(255)).astype(np.float32)


def rescale_images(x: np.ndarray) -> np.ndarray:
    """Rescale to ``[0, 1]`` ``float32`` and add a channel axis to grey images.

    Convolution layers expect ``(N, H, W, C)``: a grey MNIST batch ``(N, 28, 28)``
    becomes ``(N, 28, 28, 1)``.
    """
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    return (x / np.float32(255)).astype(np.float32)


def center_normalize(x: np.ndarray) -> np.ndarray:
    """Return ``x / 255 - 0.5`` as ``float32`` (seed 001's CIFAR-10 normalisation)."""
    return (np.asarray(x) / np.float32(255) - np.float32(0.5)).astype(np.float32)


def rgb2gray(x: np.ndarray) -> np.ndarray:
    """Luminance-preserving grey conversion ``0.299 R + 0.587 G + 0.114 B``.

    Args:
        x: Colour images ``(N, H, W, 3)``, ``uint8`` or float.

    Returns:
        ``float32`` images ``(N, H, W, 1)`` on the same scale as the input.
    """
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"rgb2gray expects (N, H, W, 3) images, got {x.shape}")
    return np.tensordot(x.astype(np.float32), LUMINANCE, axes=([-1], [0]))[..., np.newaxis]


def train_val_split(
    x: np.ndarray, y: np.ndarray, *, val_fraction: float = 0.2, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Stratified, seeded split of *training* data into train and validation parts.

    The test set is never touched: it stays for final reporting only.

    Returns:
        ``(x_train, y_train), (x_val, y_val)``.
    """
    labels = np.asarray(y)
    strata = labels.argmax(axis=1) if labels.ndim == 2 else labels
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=val_fraction, stratify=strata, random_state=seed)
    return (x_tr, y_tr), (x_val, y_val)


def svhn_seed_split(x: np.ndarray, y: np.ndarray, *, seed: int = 1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Seed 002's SVHN splits: 80/20 train/test, then 80/20 train/validation.

    Seed 002 used the merged OpenML copy of SVHN (all 99 289 images), so pass
    the concatenation of the official train and test files.

    Returns:
        A dict with ``"train"``, ``"val"`` and ``"test"`` pairs.
    """
    x_all, x_test, y_all, y_test = train_test_split(x, y, train_size=0.8, stratify=y, random_state=seed)
    x_tr, x_val, y_tr, y_val = train_test_split(x_all, y_all, train_size=0.8, stratify=y_all, random_state=seed)
    return {"train": (x_tr, y_tr), "val": (x_val, y_val), "test": (x_test, y_test)}


def corrupt_labels(y: np.ndarray, p: float, *, num_classes: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Give a fraction ``p`` of the examples a new label drawn uniformly at random.

    Exactly ``round(p * N)`` distinct examples are chosen; their new label is
    uniform over all classes, so about ``1/num_classes`` of them keep their
    old label by chance (as in seed 000's exercise).

    Args:
        y: Integer labels ``(N,)`` or one-hot labels ``(N, num_classes)``.
        p: Fraction in ``[0, 1]``.
        num_classes: Number of classes.
        seed: Random seed.

    Returns:
        ``(y_noisy, chosen)``: labels in the input's format and the indices drawn.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 else y.copy()
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(labels), size=round(p * len(labels)), replace=False))
    labels[chosen] = rng.integers(0, num_classes, size=len(chosen))
    return (one_hot(labels, num_classes) if y.ndim == 2 else labels), chosen


def add_gaussian_noise(
    x: np.ndarray, variance: float, *, seed: int = 0, clip: tuple[float, float] | None = None
) -> np.ndarray:
    """Add zero-mean Gaussian noise of the given variance (``float32``).

    Args:
        x: Input on a ``[0, 1]`` scale.
        variance: Noise variance (the standard deviation is its square root).
        seed: Random seed.
        clip: Optional ``(low, high)`` to clip the result to.
    """
    if variance < 0:
        raise ValueError("variance must be non-negative")
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, np.sqrt(variance), size=np.shape(x)).astype(np.float32)
    out = np.asarray(x, dtype=np.float32) + noise
    return np.clip(out, *clip) if clip else out


def image_splits(name: str, *, val_fraction: float = 0.2, seed: int = 0) -> dict:
    """Load a 28x28 dataset as image-shaped training, validation and test splits.

    Images become ``(N, 28, 28, 1)`` ``float32`` in [0, 1] and labels one-hot;
    ``val_fraction`` of the training set is held out (stratified, seeded) for
    validation, and the test set is left for the final numbers only.

    Args:
        name: A dataset name for ``helpers.load_dataset`` (``"mnist"``, ``"fashion_mnist"``).
        val_fraction: Share of the training images held out for validation.
        seed: Seed of the split.

    Returns:
        A dict with ``"train"``, ``"val"`` and ``"test"`` pairs ``(x, y)`` and ``"class_names"``.
    """
    (x_full, y_full), (x_test, y_test), class_names = load_dataset(name)
    (x_train, y_train), (x_val, y_val) = train_val_split(
        rescale_images(x_full), one_hot(y_full), val_fraction=val_fraction, seed=seed
    )
    return {
        "train": (x_train, y_train),
        "val": (x_val, y_val),
        "test": (rescale_images(x_test), one_hot(y_test)),
        "class_names": class_names,
    }
