"""Preparation helpers: shapes, dtypes, splits and noise."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import prepare


def test_one_hot():
    out = prepare.one_hot(np.array([0, 2, 9]))
    assert out.dtype == np.float32 and out.shape == (3, 10)
    assert out.argmax(1).tolist() == [0, 2, 9] and out.sum() == 3
    with pytest.raises(ValueError):
        prepare.one_hot(np.array([10]))


def test_flatten_rescale_and_rescale_images():
    x = np.full((2, 28, 28), 255, dtype=np.uint8)
    flat = prepare.flatten_rescale(x)
    assert flat.shape == (2, 784) and flat.dtype == np.float32 and flat.max() == 1.0
    images = prepare.rescale_images(x)
    assert images.shape == (2, 28, 28, 1) and images.dtype == np.float32


def test_center_normalize():
    out = prepare.center_normalize(np.array([[0, 255]], dtype=np.uint8))
    np.testing.assert_allclose(out, [[-0.5, 0.5]])
    assert out.dtype == np.float32


def test_rgb2gray_uses_luminance_weights():
    x = np.zeros((1, 2, 2, 3), dtype=np.uint8)
    x[0, 0, 0] = [100, 0, 0]
    x[0, 0, 1] = [0, 100, 0]
    x[0, 1, 0] = [0, 0, 100]
    gray = prepare.rgb2gray(x)
    assert gray.shape == (1, 2, 2, 1) and gray.dtype == np.float32
    np.testing.assert_allclose(gray[0, :, :, 0], [[29.9, 58.7], [11.4, 0.0]], rtol=1e-5)
    with pytest.raises(ValueError):
        prepare.rgb2gray(np.zeros((1, 2, 2)))


def test_train_val_split_is_stratified_disjoint_and_seeded():
    x = np.arange(1000).reshape(-1, 1)
    y = np.repeat(np.arange(10), 100)
    (x_tr, y_tr), (x_val, y_val) = prepare.train_val_split(x, y, val_fraction=0.2, seed=3)
    assert len(x_val) == 200 and np.bincount(y_val).tolist() == [20] * 10
    assert not set(x_tr.ravel()) & set(x_val.ravel())
    (_, _), (x_val2, _) = prepare.train_val_split(x, y, val_fraction=0.2, seed=3)
    np.testing.assert_array_equal(x_val, x_val2)
    (_, _), (_, y_val_onehot) = prepare.train_val_split(x, prepare.one_hot(y), seed=3)
    assert np.bincount(y_val_onehot.argmax(1)).tolist() == [20] * 10


def test_svhn_seed_split_sizes():
    y = np.repeat(np.arange(10), 100)
    splits = prepare.svhn_seed_split(np.zeros((1000, 1)), y)
    assert {k: len(v[0]) for k, v in splits.items()} == {"train": 640, "val": 160, "test": 200}


def test_corrupt_labels_exact_fraction_and_seeded():
    y = np.zeros(1000, dtype=np.int64)
    noisy, chosen = prepare.corrupt_labels(y, 0.5, seed=1)
    assert len(chosen) == 500 and len(set(chosen)) == 500
    untouched = np.setdiff1d(np.arange(1000), chosen)
    assert (noisy[untouched] == 0).all()
    # about 1/10 of the redrawn labels land on the old label by chance
    assert 0.8 < np.mean(noisy[chosen] != 0) < 0.97
    noisy2, _ = prepare.corrupt_labels(y, 0.5, seed=1)
    np.testing.assert_array_equal(noisy, noisy2)
    assert (y == 0).all(), "input must not be modified"
    onehot, _ = prepare.corrupt_labels(prepare.one_hot(y), 0.5, seed=1)
    np.testing.assert_array_equal(onehot.argmax(1), noisy)


def test_gaussian_noise_has_the_requested_variance():
    x = np.zeros((200, 784), dtype=np.float32)
    noisy = prepare.add_gaussian_noise(x, 0.1, seed=0)
    assert noisy.dtype == np.float32
    assert abs(noisy.var() - 0.1) < 0.005 and abs(noisy.mean()) < 0.005
    clipped = prepare.add_gaussian_noise(x, 0.1, seed=0, clip=(0, 1))
    assert clipped.min() == 0.0


def test_image_splits_reads_the_data_folder_and_splits_stratified(tmp_path, monkeypatch):
    from test_data import make_idx_folder

    arrays = make_idx_folder(tmp_path, "fashion-mnist", n_train=50, n_test=10)
    monkeypatch.setenv("IMGCLS_DATA_DIR", str(tmp_path))
    splits = prepare.image_splits("fashion_mnist", val_fraction=0.2, seed=0)
    x_train, y_train = splits["train"]
    x_val, y_val = splits["val"]
    x_test, y_test = splits["test"]
    assert x_train.shape == (40, 28, 28, 1) and x_val.shape == (10, 28, 28, 1) and x_test.shape == (10, 28, 28, 1)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert y_val.sum(axis=0).tolist() == [1.0] * 10, "stratified: one validation image per class"
    np.testing.assert_allclose(x_test[..., 0], arrays["t10k-images-idx3-ubyte.gz"] / 255, rtol=1e-6)
    assert y_test.argmax(1).tolist() == arrays["t10k-labels-idx1-ubyte.gz"].tolist(), "test set keeps its order"
    assert splits["class_names"][0] == "T-shirt/top"
    again = prepare.image_splits("fashion_mnist", val_fraction=0.2, seed=0)
    np.testing.assert_array_equal(again["val"][0], x_val)
    other = prepare.image_splits("fashion_mnist", val_fraction=0.2, seed=1)
    assert not np.array_equal(other["val"][0], x_val), "the seed chooses the validation images"
