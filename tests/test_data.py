"""Dataset loaders on real-format fixture files and on the offline datasets."""

from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest
from conftest import SHARED_DATA, have_real_data

from helpers import data


def write_idx(path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def make_idx_folder(root, name="mnist", n_train=20, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    folder = root / name
    folder.mkdir(parents=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(n_test) % 10,
    }
    for fname, arr in arrays.items():
        write_idx(folder / fname, arr)
    return arrays


def test_idx_folder_loads_exact_arrays(tmp_path):
    arrays = make_idx_folder(tmp_path, "fashion-mnist")
    (x_tr, y_tr), (x_te, y_te), names = data.load_dataset("fashion_mnist", tmp_path, download=False)
    assert x_tr.dtype == np.uint8 and x_tr.shape == (20, 28, 28)
    np.testing.assert_array_equal(x_tr, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_te, arrays["t10k-labels-idx1-ubyte.gz"])
    assert y_tr.dtype == np.int64
    assert names[0] == "T-shirt/top" and len(names) == 10


def test_lookup_order_prefers_argument_over_env(tmp_path, monkeypatch):
    make_idx_folder(tmp_path / "arg", n_train=20)
    make_idx_folder(tmp_path / "env", n_train=30)
    monkeypatch.setenv("IMGCLS_DATA_DIR", str(tmp_path / "env"))
    assert len(data.load_dataset("mnist", tmp_path / "arg", download=False).train[0]) == 20
    assert len(data.load_dataset("mnist", download=False).train[0]) == 30


def write_keras_cache(keras_home, n_train=20, n_test=10):
    """MNIST and Fashion-MNIST as ``keras.datasets`` leaves them in its download cache."""
    rng = np.random.default_rng(1)
    datasets = keras_home / "datasets"
    datasets.mkdir(parents=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }
    np.savez_compressed(datasets / "mnist.npz", **arrays)
    make_idx_folder(datasets, "fashion-mnist", n_train=n_train + 1)
    return arrays


def test_keras_download_cache_is_found_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("IMGCLS_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    arrays = write_keras_cache(tmp_path / "kh")
    (x_tr, y_tr), (x_te, y_te), _ = data.load_dataset("mnist", download=False)
    np.testing.assert_array_equal(x_tr, arrays["x_train"])
    np.testing.assert_array_equal(y_te, arrays["y_test"])
    assert y_tr.dtype == np.int64
    assert len(data.load_dataset("fashion_mnist", download=False).train[0]) == 21
    out = capsys.readouterr().out
    assert out.count("from Keras' download cache") == 2 and str(tmp_path) not in out


def test_keras_cache_is_home_dot_keras_without_keras_home(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.keras_cache_dir() == tmp_path / ".keras" / "datasets"
    assert data.describe_folder(tmp_path / "data" / "x") == "~/data/x"


def test_data_folder_named_without_machine_path(monkeypatch, capsys):
    monkeypatch.setenv("IMGCLS_DATA_DIR", str(SHARED_DATA))
    assert data.describe_folder(SHARED_DATA) == "the data folder IMGCLS_DATA_DIR"
    assert data.describe_folder(data.settings.project_root() / "data") == "data"


def test_keras_cifar10_extraction_folder_is_found(tmp_path, monkeypatch):
    folder = tmp_path / "kh" / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for fname in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / fname, "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [0, 1, 2, 3]}, fh)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    (x_tr, _), (x_te, _), _ = data.load_dataset("cifar10", download=False)
    assert x_tr.shape == (20, 32, 32, 3) and x_te.shape == (4, 32, 32, 3)


def test_corrupt_mnist_npz_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("IMGCLS_DATA_DIR", raising=False)
    datasets = tmp_path / "kh" / "datasets"
    datasets.mkdir(parents=True)
    np.savez(datasets / "mnist.npz", x_train=np.zeros((3, 28, 28), np.float32), y_train=np.zeros(3))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    with pytest.raises(data.DatasetCorrupt, match="mnist.npz"):
        data.load_dataset("mnist", download=False)


def test_truncated_idx_is_reported(tmp_path):
    make_idx_folder(tmp_path)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(data.DatasetCorrupt, match="expected"):
        data.load_dataset("mnist", tmp_path, download=False)


def test_missing_dataset_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("IMGCLS_DATA_DIR", raising=False)
    with pytest.raises(data.DatasetUnavailable) as info:
        data.load_dataset("svhn", tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path) in message and "train_32x32.mat" in message
    assert info.value.__suppress_context__ or info.value.__cause__ is None


def test_failed_download_becomes_dataset_unavailable(tmp_path, monkeypatch):
    def boom(name):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data, "_download", boom)
    with pytest.raises(data.DatasetUnavailable, match="network is unreachable") as info:
        data.load_dataset("cifar10", tmp_path, download=True)
    assert info.value.__cause__ is None


def test_try_load_dataset_prints_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("IMGCLS_OFFLINE", "1")
    assert data.try_load_dataset("svhn", tmp_path) is None
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "svhn" in out[0]


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_dataset("imagenet")


def test_svhn_mat_maps_label_10_to_zero(tmp_path):
    from scipy.io import loadmat, savemat

    rng = np.random.default_rng(0)
    folder = tmp_path / "svhn"
    folder.mkdir()
    for split, n in (("train", 12), ("test", 6)):
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        y = (np.arange(n) % 10 + 1).reshape(n, 1).astype(np.uint8)  # 1..10, 10 means zero
        savemat(folder / f"{split}_32x32.mat", {"X": x, "y": y})
    (x_tr, y_tr), (x_te, y_te), _ = data.load_dataset("svhn", tmp_path, download=False)
    assert x_tr.shape == (12, 32, 32, 3) and x_tr.dtype == np.uint8
    assert y_tr.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]
    # image i is X[:, :, :, i] in the file
    raw = loadmat(folder / "train_32x32.mat")["X"]
    np.testing.assert_array_equal(x_tr[3], raw[:, :, :, 3])


def test_cifar_batches_load(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    expected = []
    for fname in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [1, 2, 3, 9]}
        expected.append(batch)
        with open(folder / fname, "wb") as fh:
            pickle.dump(batch, fh)
    (x_tr, y_tr), (x_te, y_te), names = data.load_dataset("cifar10", tmp_path, download=False)
    assert x_tr.shape == (20, 32, 32, 3) and x_te.shape == (4, 32, 32, 3)
    # channel-first rows become channel-last images: red plane first
    np.testing.assert_array_equal(x_tr[0, :, :, 0].ravel(), expected[0][b"data"][0, :1024])
    assert y_te.tolist() == [1, 2, 3, 9] and names[9] == "truck"


def test_cifar_batch_with_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for fname in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / fname, "wb") as fh:
            pickle.dump({b"data": Evil(), b"labels": [0]}, fh)
    with pytest.raises(data.DatasetCorrupt, match="refused to load global builtins.print"):
        data.load_dataset("cifar10", tmp_path, download=False)


def write_cifar(folder, data_array, labels, fnames=None):
    folder.mkdir(parents=True, exist_ok=True)
    for fname in fnames or [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / fname, "wb") as fh:
            pickle.dump({b"data": data_array, b"labels": labels}, fh)


@pytest.mark.parametrize(
    ("images", "labels", "reason"),
    [
        (np.zeros((10, 3072), np.uint8), [0, 1, 2], "10 images need 10 labels"),
        (np.zeros((2, 3072), np.uint8), [99, 1], "labels must be 0..9"),
        (np.zeros((2, 3072), np.uint8), [-1, 1], "labels must be 0..9"),
        (np.zeros((2, 3072), np.float64), [0, 1], "uint8 array"),
        (np.zeros((2, 100), np.uint8), [0, 1], "shape \\(N, 3072\\)"),
    ],
    ids=["label-count", "label-99", "label-minus-1", "float-images", "wrong-shape"],
)
def test_bad_cifar_batches_are_refused_naming_the_file(tmp_path, images, labels, reason):
    write_cifar(tmp_path / "cifar-10-batches-py", images, labels)
    with pytest.raises(data.DatasetCorrupt, match=reason) as info:
        data.load_dataset("cifar10", tmp_path, download=False)
    assert "cifar-10-batches-py" in str(info.value)


def test_truncated_cifar_batch_is_one_clear_error(tmp_path):
    write_cifar(tmp_path / "cifar-10-batches-py", np.zeros((2, 3072), np.uint8), [0, 1])
    path = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(data.DatasetCorrupt, match="not a readable CIFAR-10 batch"):
        data.load_dataset("cifar10", tmp_path, download=False)


def test_a_tiny_pickle_cannot_make_a_huge_array(tmp_path):
    """A pickle of under 100 bytes that asks numpy for a 2 GB void dtype is refused before any allocation."""

    class HugeDtype:
        def __reduce__(self):
            return (np.dtype, ("V2000000000", False, True))

    raw = pickle.dumps({b"data": HugeDtype(), b"labels": []}, protocol=3)
    assert len(raw) < 100
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for fname in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / fname).write_bytes(raw)
    with pytest.raises(data.DatasetCorrupt, match="refused numpy dtype"):
        data.load_dataset("cifar10", tmp_path, download=False)


def test_cifar_batch_over_the_size_cap_is_refused_unread(tmp_path, monkeypatch):
    write_cifar(tmp_path / "cifar-10-batches-py", np.zeros((2, 3072), np.uint8), [0, 1])
    monkeypatch.setattr(data, "CIFAR_BATCH_CAP", 100)
    with pytest.raises(data.DatasetCorrupt, match="larger than a CIFAR-10 batch"):
        data.load_dataset("cifar10", tmp_path, download=False)


def test_mnist_labels_out_of_range_or_3d_are_refused(tmp_path):
    make_idx_folder(tmp_path)
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.full(20, 200))
    with pytest.raises(data.DatasetCorrupt, match="labels must be 0..9, found 200"):
        data.load_dataset("mnist", tmp_path, download=False)
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros((20, 28, 28)))
    with pytest.raises(data.DatasetCorrupt, match="in one dimension"):
        data.load_dataset("mnist", tmp_path, download=False)


def test_idx_gzip_bomb_is_refused(tmp_path, monkeypatch):
    make_idx_folder(tmp_path)
    monkeypatch.setattr(data, "IDX_CAP", 1000)
    with pytest.raises(data.DatasetCorrupt, match="unpacks to more than"):
        data.load_dataset("mnist", tmp_path, download=False)


@pytest.mark.parametrize(
    ("x", "y", "reason"),
    [
        (np.zeros((32, 32, 3, 4), np.float64), np.ones((4, 1)), "X must be uint8"),
        (np.zeros((32, 32, 3, 4), np.uint8), np.array([[1.5], [2], [3], [4]]), "whole numbers"),
        (np.zeros((32, 32, 3, 4), np.uint8), np.array([[0], [2], [3], [4]]), "1..10"),
        (np.zeros((32, 32, 3, 4), np.uint8), np.array([[1], [2], [3]]), "4 images need 4 labels"),
    ],
    ids=["float-X", "fractional-y", "label-0", "label-count"],
)
def test_bad_svhn_mat_is_refused(tmp_path, x, y, reason):
    from scipy.io import savemat

    (tmp_path / "svhn").mkdir()
    for split in ("train", "test"):
        savemat(tmp_path / "svhn" / f"{split}_32x32.mat", {"X": x, "y": y})
    with pytest.raises(data.DatasetCorrupt, match=reason):
        data.load_dataset("svhn", tmp_path, download=False)


def test_smoke_mode_subsamples(tmp_path, monkeypatch):
    make_idx_folder(tmp_path, n_train=1500, n_test=700)
    monkeypatch.setenv("IMGCLS_SMOKE", "1")
    (x_tr, _), (x_te, _), _ = data.load_dataset("mnist", tmp_path, download=False)
    assert len(x_tr) == 1000 and len(x_te) == 500


@pytest.mark.skipif(not have_real_data("mnist"), reason="offline MNIST not present")
def test_real_mnist_matches_published_statistics():
    (x_tr, y_tr), (x_te, y_te), _ = data.load_dataset("mnist", SHARED_DATA, download=False)
    assert x_tr.shape == (60000, 28, 28) and x_te.shape == (10000, 28, 28)
    assert np.bincount(y_tr).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(x_tr.mean() / 255 - 0.1307) < 1e-3 and abs((x_tr / 255).std() - 0.3081) < 1e-3


@pytest.mark.skipif(not have_real_data("fashion_mnist"), reason="offline Fashion-MNIST not present")
def test_real_fashion_mnist_matches_published_statistics():
    (x_tr, y_tr), _, _ = data.load_dataset("fashion_mnist", SHARED_DATA, download=False)
    assert np.bincount(y_tr).tolist() == [6000] * 10
    assert abs(x_tr.mean() / 255 - 0.2860) < 1e-3 and abs((x_tr / 255).std() - 0.3530) < 1e-3
