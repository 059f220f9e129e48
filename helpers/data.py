"""Loading the four datasets of the suite, offline first.

:func:`load_dataset` looks for the original files in this order and uses the
first folder that has them:

1. the ``data_dir`` argument,
2. the ``IMGCLS_DATA_DIR`` environment variable,
3. ``/usr/share/datasets`` (where Debian's ``dataset-fashion-mnist`` puts its files),
4. Keras' own download cache, ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``
   (``mnist.npz``, ``fashion-mnist/``, ``cifar-10-batches-py-target/``, and the
   ``svhn/`` folder this module downloads into),
5. the normal download (``keras.datasets`` for MNIST, Fashion-MNIST and CIFAR-10;
   the Stanford ``train_32x32.mat`` / ``test_32x32.mat`` files for SVHN).

Expected layout of a data folder (file names as the original sites ship them)::

    <dir>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    <dir>/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    <dir>/svhn/{train,test}_32x32.mat
    <dir>/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}

Images come back as ``uint8`` arrays of shape ``(N, H, W)`` (grey) or
``(N, H, W, 3)`` (colour), labels as ``int64`` in ``0..9``.

SVHN labels: the original files use label ``10`` for the digit zero. The loader
maps ``10 -> 0`` once, so that everywhere else in the suite label ``k`` means the
digit ``k`` (the seed notebooks printed ``(index + 1) % 10`` to undo this).
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np

from helpers import downloads, safe_pickle, settings
from helpers.errors import OneLineError

DEBIAN_DATA_DIR = Path("/usr/share/datasets")
CIFAR_BATCH_CAP = 40 * 2**20  # bytes; a real batch (10 000 images) is 31 MB
IDX_CAP = 64 * 2**20  # unpacked bytes; the largest MNIST file (training images) is 47 MB

CLASS_NAMES: dict[str, list[str]] = {
    "mnist": [str(d) for d in range(10)],
    "svhn": [str(d) for d in range(10)],
    "fashion_mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    "cifar10": [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ],
}

_IDX_FOLDERS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}
_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
_SVHN_URL = "http://ufldl.stanford.edu/housenumbers/"
_HOW_TO_GET = {
    "mnist": "put the four IDX .gz files in <data_dir>/mnist/ "
    "(or let keras.datasets.mnist download them on a machine with internet)",
    "fashion_mnist": "`apt-get install dataset-fashion-mnist`, or put the four IDX .gz "
    "files in <data_dir>/fashion-mnist/ (keras.datasets.fashion_mnist downloads "
    "them on a machine with internet)",
    "svhn": f"download train_32x32.mat and test_32x32.mat from {_SVHN_URL} "
    "into <data_dir>/svhn/ (about 240 MB; this happens by itself on a machine "
    "with internet)",
    "cifar10": "unpack cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/ "
    "into <data_dir>/ (it makes cifar-10-batches-py/), or let "
    "keras.datasets.cifar10 download it on a machine with internet",
}


class DatasetUnavailable(OneLineError, RuntimeError):
    """A dataset was found nowhere and could not be downloaded.

    Attributes:
        name: The dataset name.
        searched: The folders that were searched.
        how_to_get: One line saying how to obtain the data.
    """

    def __init__(self, name: str, searched: list[Path], reason: str = "") -> None:
        self.name = name
        self.searched = searched
        self.how_to_get = _HOW_TO_GET.get(name, "")
        where = ", ".join(describe_folder(p) for p in searched) or "(no folder given)"
        msg = f"Dataset {name!r} is not available: looked in {where}"
        if reason:
            msg += f"; download failed ({reason})"
        msg += f". To get it: {self.how_to_get}; then set IMGCLS_DATA_DIR."
        super().__init__(msg)


class DatasetCorrupt(OneLineError, ValueError):
    """A dataset file exists but is not in the expected format."""


class LoadedDataset(NamedTuple):
    """``(x_train, y_train), (x_test, y_test), class_names``."""

    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    class_names: list[str]


def keras_cache_dir() -> Path:
    """Return Keras' dataset download folder (``$KERAS_HOME/datasets``, else ``~/.keras/datasets``)."""
    return downloads.keras_dir() / "datasets"


def candidate_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Return the data folders searched, in lookup order."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir).expanduser())
    if settings.data_dir() is not None:
        dirs.append(settings.data_dir())
    dirs.append(DEBIAN_DATA_DIR)
    dirs.append(keras_cache_dir())
    return dirs


def describe_folder(folder: Path) -> str:
    """Name a data folder without this machine's absolute paths where there is a better name.

    Returns ``the data folder IMGCLS_DATA_DIR``, ``Keras' download cache``, or a
    path relative to the project or to ``~``; other folders (system folders such
    as ``/usr/share/datasets``, or a ``data_dir`` the caller chose) as given.
    """
    folder = Path(folder).expanduser().absolute()
    env = settings.data_dir()
    if env is not None and env.absolute() == folder:
        return "the data folder IMGCLS_DATA_DIR"
    if folder == keras_cache_dir().absolute():
        return "Keras' download cache"
    for base, shown in ((settings.project_root(), "."), (Path.home(), "~")):
        if folder.is_relative_to(base):
            return str(Path(shown) / folder.relative_to(base))
    return str(folder)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (optionally gzipped) of unsigned bytes.

    Args:
        path: An ``*-idx1-ubyte`` (labels) or ``*-idx3-ubyte`` (images) file.

    Returns:
        A ``uint8`` array of shape ``(N,)`` or ``(N, rows, cols)``.

    Raises:
        DatasetCorrupt: If the header or the length is wrong.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read(IDX_CAP + 1)
    except (OSError, EOFError) as err:
        raise DatasetCorrupt(f"{path}: cannot be read ({err})") from None
    if len(raw) < 4:
        raise DatasetCorrupt(f"{path}: too short to be an IDX file")
    if len(raw) > IDX_CAP:
        raise DatasetCorrupt(f"{path}: unpacks to more than {IDX_CAP} bytes, more than any MNIST file")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        raise DatasetCorrupt(f"{path}: not an unsigned-byte IDX file")
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) != header + int(np.prod(shape)):
        raise DatasetCorrupt(f"{path}: expected {shape} bytes after the header")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def check_split(where: str, x: np.ndarray, y: np.ndarray, image_shape: tuple[int, ...]) -> None:
    """Refuse images and labels that are not what every loader promises.

    Raises:
        DatasetCorrupt: Naming ``where`` and what is wrong (dtype, shape, count, label range).
    """
    if x.dtype != np.uint8 or x.shape[1:] != image_shape:
        raise DatasetCorrupt(f"{where}: images must be uint8 of shape (N, {', '.join(map(str, image_shape))})")
    if y.ndim != 1 or len(x) != len(y):
        raise DatasetCorrupt(f"{where}: {len(x)} images need {len(x)} labels in one dimension, got shape {y.shape}")
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise DatasetCorrupt(f"{where}: labels must be 0..9, found {y.min()}..{y.max()}")


def _load_idx_folder(folder: Path) -> tuple[tuple, tuple]:
    arrays = {key: read_idx(folder / fname) for key, fname in _IDX_FILES.items()}
    for split in ("train", "test"):
        check_split(f"{folder}/{split}", arrays[f"x_{split}"], arrays[f"y_{split}"], (28, 28))
    return (
        (arrays["x_train"], arrays["y_train"].astype(np.int64)),
        (arrays["x_test"], arrays["y_test"].astype(np.int64)),
    )


def load_svhn_mat(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one SVHN ``*_32x32.mat`` file.

    Args:
        path: ``train_32x32.mat``, ``test_32x32.mat`` or ``extra_32x32.mat``.

    Returns:
        ``uint8`` images ``(N, 32, 32, 3)`` and ``int64`` labels with ``10 -> 0``.
    """
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
    except Exception as err:  # scipy raises several types for bad files
        raise DatasetCorrupt(f"{path}: not a readable .mat file ({err})") from None
    if "X" not in mat or "y" not in mat:
        raise DatasetCorrupt(f"{path}: expected variables 'X' and 'y'")
    if mat["X"].dtype != np.uint8 or mat["X"].ndim != 4:
        raise DatasetCorrupt(f"{path}: X must be uint8 of shape (32, 32, 3, N), got {mat['X'].dtype} {mat['X'].shape}")
    raw_y = mat["y"].reshape(-1)
    if not np.issubdtype(raw_y.dtype, np.number) or not np.all(np.isfinite(raw_y)) or np.any(raw_y != np.round(raw_y)):
        raise DatasetCorrupt(f"{path}: SVHN labels must be whole numbers 1..10")
    x = np.ascontiguousarray(np.transpose(mat["X"], (3, 0, 1, 2)))
    y = raw_y.astype(np.int64)
    if len(y) and (y.min() < 1 or y.max() > 10):
        raise DatasetCorrupt(f"{path}: SVHN labels must be 1..10")
    y[y == 10] = 0
    check_split(str(path), x, y, (32, 32, 3))
    return x, y


def load_cifar_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch (a pickled dict) without running code.

    Returns:
        ``uint8`` images ``(N, 32, 32, 3)`` and ``int64`` labels.
    """
    if Path(path).stat().st_size > CIFAR_BATCH_CAP:
        raise DatasetCorrupt(f"{path}: larger than a CIFAR-10 batch can be ({CIFAR_BATCH_CAP} bytes)")
    try:
        with open(path, "rb") as fh:
            batch = safe_pickle.load(fh, allow_numpy=True, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, MemoryError) as err:
        raise DatasetCorrupt(f"{path}: not a readable CIFAR-10 batch ({type(err).__name__}: {err})") from None
    try:
        data, labels = batch[b"data"], batch[b"labels"]
    except (KeyError, TypeError):
        raise DatasetCorrupt(f"{path}: expected keys b'data' and b'labels'") from None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetCorrupt(f"{path}: b'data' must be a uint8 array of shape (N, 3072)")
    if not isinstance(labels, list) or not all(isinstance(v, (int, np.integer)) for v in labels):
        raise DatasetCorrupt(f"{path}: b'labels' must be a list of integers")
    x = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    y = np.asarray(labels, dtype=np.int64)
    check_split(str(path), x, y, (32, 32, 3))
    return x, y


def _load_cifar_folder(folder: Path) -> tuple[tuple, tuple]:
    parts = [load_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return (x_train, y_train), load_cifar_batch(folder / "test_batch")


def load_mnist_npz(path: str | os.PathLike) -> tuple[tuple, tuple]:
    """Read Keras' ``mnist.npz`` (no pickles allowed).

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` as ``uint8`` images and ``int64`` labels.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: np.asarray(f[key]) for key in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, ValueError, KeyError) as err:
        raise DatasetCorrupt(f"{path}: not Keras' mnist.npz ({err})") from None
    for split in ("train", "test"):
        check_split(f"{path}/{split}", arrays[f"x_{split}"], arrays[f"y_{split}"], (28, 28))
    return (
        (arrays["x_train"], arrays["y_train"].astype(np.int64)),
        (arrays["x_test"], arrays["y_test"].astype(np.int64)),
    )


def _from_folder(name: str, root: Path) -> tuple[tuple, tuple] | None:
    """Load ``name`` from ``root`` if its files are there, else return None."""
    if name in _IDX_FOLDERS:
        folder = root / _IDX_FOLDERS[name]
        if all((folder / f).is_file() for f in _IDX_FILES.values()):
            return _load_idx_folder(folder)
        if name == "mnist" and (root / "mnist.npz").is_file():  # Keras' download cache
            return load_mnist_npz(root / "mnist.npz")
    elif name == "svhn":
        folder = root / "svhn"
        if (folder / "train_32x32.mat").is_file() and (folder / "test_32x32.mat").is_file():
            return load_svhn_mat(folder / "train_32x32.mat"), load_svhn_mat(folder / "test_32x32.mat")
    elif name == "cifar10":
        # the unpacked tarball, or where Keras 3 extracts it in its download cache
        for folder in (root / "cifar-10-batches-py", root / "cifar-10-batches-py-target" / "cifar-10-batches-py"):
            if (folder / "test_batch").is_file():
                return _load_cifar_folder(folder)
    return None


# The original files, where they are published and their published checksums (SVHN: MD5 from the
# dataset's page as torchvision records them; CIFAR-10: the SHA-256 keras.datasets checks).
ORIGINALS = {
    "svhn": (
        _SVHN_URL,
        {"train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373", "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3"},
    ),
    "cifar10": (
        "https://www.cs.toronto.edu/~kriz/",
        {"cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"},
    ),
}
_KERAS_HOSTS = {"mnist": "storage.googleapis.com", "fashion_mnist": "storage.googleapis.com"}


def fetch_original(name: str, fname: str, *, extract_to: str | None = None) -> str:
    """Download one original file of ``name`` into Keras' download cache, from the mirror if one is set.

    Args:
        name: ``"svhn"`` or ``"cifar10"``.
        fname: The original file name, e.g. ``"train_32x32.mat"``.
        extract_to: Unpack an archive into this folder of the cache (Keras' name for it).

    Returns:
        The path of the file, or of the unpacked folder.
    """
    base, checksums = ORIGINALS[name]
    url = downloads.origin(fname, base)
    if extract_to:
        return str(downloads.fetch(url, fname, checksum=checksums[fname], subdir="datasets", extract_to=extract_to))
    return str(downloads.fetch(url, fname, checksum=checksums[fname], subdir=f"datasets/{name}"))


def _download(name: str) -> tuple[tuple, tuple]:
    """Fetch ``name`` the normal way (needs internet, or the mirror)."""
    import keras

    if name == "svhn":
        train, test = (fetch_original(name, f) for f in ("train_32x32.mat", "test_32x32.mat"))
        return load_svhn_mat(train), load_svhn_mat(test)
    if name == "cifar10":
        folder = fetch_original(name, "cifar-10-python.tar.gz", extract_to="cifar-10-batches-py-target")
        return _load_cifar_folder(Path(folder) / "cifar-10-batches-py")
    if not downloads.reachable(_KERAS_HOSTS[name]):
        raise ConnectionError(f"{_KERAS_HOSTS[name]} cannot be reached (no internet?)")
    loader = {"mnist": keras.datasets.mnist, "fashion_mnist": keras.datasets.fashion_mnist}[name]
    (x_tr, y_tr), (x_te, y_te) = loader.load_data()
    return (x_tr, y_tr.reshape(-1).astype(np.int64)), (x_te, y_te.reshape(-1).astype(np.int64))


def _smoke_subset(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.random.default_rng(0).permutation(len(x))[:n]
    return x[idx], y[idx]


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool | None = None,
    verbose: bool = True,
) -> LoadedDataset:
    """Load one of ``mnist``, ``fashion_mnist``, ``svhn``, ``cifar10``.

    Args:
        name: Dataset name.
        data_dir: A data folder to search first (see the module docstring).
        download: Try the normal download when no folder has the files. Defaults to
            True unless the environment variable ``IMGCLS_OFFLINE`` is set.
        verbose: Print one line saying where the data came from.

    Returns:
        ``LoadedDataset((x_train, y_train), (x_test, y_test), class_names)``.

    Raises:
        DatasetUnavailable: When no folder has the data and the download failed.
        DatasetCorrupt: When a file was found but is damaged.
        ValueError: For an unknown dataset name.
    """
    if name not in CLASS_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(CLASS_NAMES)}")
    searched = candidate_dirs(data_dir)
    result, source = None, None
    for root in searched:
        result = _from_folder(name, root)
        if result is not None:
            source = describe_folder(root)
            break
    if result is None:
        if download is None:
            download = not settings.offline()
        if not download:
            raise DatasetUnavailable(name, searched, "downloads are switched off")
        try:
            result = _download(name)
            source = "a download (now in Keras' download cache)"
        except Exception as err:  # any network/IO failure ends in one clear error
            reason = f"{type(err).__name__}: {str(err).splitlines()[0][:120]}" if str(err) else type(err).__name__
            raise DatasetUnavailable(name, searched, reason) from None
    (x_train, y_train), (x_test, y_test) = result
    if settings.smoke_mode():
        x_train, y_train = _smoke_subset(x_train, y_train, 1000)
        x_test, y_test = _smoke_subset(x_test, y_test, 500)
    if verbose:
        print(
            f"{name}: {len(x_train)} training and {len(x_test)} test images of shape {x_train.shape[1:]} from {source}"
        )
    return LoadedDataset((x_train, y_train), (x_test, y_test), list(CLASS_NAMES[name]))


def try_load_dataset(
    name: str, data_dir: str | os.PathLike | None = None, *, would_run: str = ""
) -> LoadedDataset | None:
    """Like :func:`load_dataset`, but print one line and return None if it is missing.

    Notebook sections that need SVHN or CIFAR-10 use this so that they skip
    cleanly on a machine without the data.

    Args:
        name: Dataset name.
        data_dir: A data folder to search first.
        would_run: What the skipped section would do, for the message.
    """
    try:
        return load_dataset(name, data_dir)
    except DatasetUnavailable as err:
        what = f" (it would run {would_run})" if would_run else ""
        print(f"{name} is not available here, so this section is skipped{what}. To run it: {err.how_to_get}.")
        return None
