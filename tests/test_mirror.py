"""The real download code, served by a local mirror on 127.0.0.1 (IMGCLS_MIRROR).

SVHN and CIFAR-10 cannot be downloaded here, so the tests write stand-ins in
the exact original formats (SVHN ``.mat`` v5 with label 10 for zero; the
CIFAR-10 tarball of pickled batches), serve them under their real file names
from an HTTP server on 127.0.0.1, and load them through ``load_dataset``'s
download path into a temporary Keras cache. Stand-ins exist only in these
temporary folders; they never enter the committed cache or a notebook.
"""

from __future__ import annotations

import functools
import http.server
import io
import pickle
import tarfile
import threading

import numpy as np
import pytest

from helpers import data, shared_runs


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 serving ``tmp_path/www``; yields (folder, requested paths)."""
    root = tmp_path / "www"
    root.mkdir()
    requested: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("IMGCLS_MIRROR", f"http://127.0.0.1:{server.server_address[1]}/classroom")
    monkeypatch.delenv("IMGCLS_DATA_DIR", raising=False)
    monkeypatch.delenv("IMGCLS_OFFLINE", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    (root / "classroom").mkdir()
    try:
        yield root / "classroom", requested
    finally:
        server.shutdown()


def write_svhn_standins(folder, n=30):
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "test"):
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        y = (np.arange(n) % 10 + 1).reshape(n, 1).astype(np.uint8)  # 1..10, 10 meaning the digit 0
        savemat(folder / f"{split}_32x32.mat", {"X": x, "y": y}, format="5")
        arrays[split] = (x, y)
    return arrays


def write_cifar_standin(folder, n=20):
    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    batches = {}
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for fname in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
            if fname == "batches.meta":
                payload = {b"label_names": [b"airplane"] * 10}
            else:
                payload = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(range(n))[:n]}
                payload[b"labels"] = [v % 10 for v in payload[b"labels"]]
                batches[fname] = payload
            raw = pickle.dumps(payload, protocol=3)  # bytes keys load as bytes, as the original's do
            info = tarfile.TarInfo(f"cifar-10-batches-py/{fname}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    (folder / "cifar-10-python.tar.gz").write_bytes(buffer.getvalue())
    return batches


def test_svhn_comes_through_the_mirror_under_its_real_names(mirror, monkeypatch):
    folder, requested = mirror
    arrays = write_svhn_standins(folder)
    monkeypatch.setenv("IMGCLS_UNVERIFIED_DOWNLOADS", "1")  # stand-ins cannot match the published MD5s
    (x_train, y_train), (x_test, y_test), _ = data.load_dataset("svhn")
    assert sorted(requested) == ["/classroom/test_32x32.mat", "/classroom/train_32x32.mat"]
    np.testing.assert_array_equal(x_train, np.transpose(arrays["train"][0], (3, 0, 1, 2)))
    assert y_train[:10].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0], "label 10 is the digit 0"
    requested.clear()
    data.load_dataset("svhn")  # now in Keras' download cache: nothing is fetched again
    assert requested == []


def test_a_mirror_file_that_is_not_the_original_is_refused(mirror):
    folder, _ = mirror
    write_svhn_standins(folder)
    with pytest.raises(data.DatasetUnavailable, match="corrupted|hash|checksum") as info:
        data.load_dataset("svhn")
    assert "\n" not in str(info.value)


def test_cifar10_tarball_comes_through_the_mirror(mirror, monkeypatch):
    folder, requested = mirror
    batches = write_cifar_standin(folder)
    monkeypatch.setenv("IMGCLS_UNVERIFIED_DOWNLOADS", "1")
    (x_train, y_train), (x_test, y_test), names = data.load_dataset("cifar10")
    assert requested == ["/classroom/cifar-10-python.tar.gz"]
    assert x_train.shape == (100, 32, 32, 3) and x_test.shape == (20, 32, 32, 3) and names[0] == "airplane"
    first = batches["data_batch_1"][b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(x_train[0], first)
    requested.clear()
    data.load_dataset("cifar10", download=False)  # Keras' cache layout is found offline afterwards
    assert requested == []


def test_a_mirror_that_is_down_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("IMGCLS_MIRROR", "http://127.0.0.1:9/nothing")  # the discard port: refused
    monkeypatch.delenv("IMGCLS_DATA_DIR", raising=False)
    monkeypatch.delenv("IMGCLS_OFFLINE", raising=False)
    with pytest.raises(data.DatasetUnavailable, match="IMGCLS_MIRROR") as info:
        data.load_dataset("cifar10")
    assert "\n" not in str(info.value)


def write_notop_weights(path, name):
    """A stand-in ``*_notop.h5`` in Keras' legacy format, from a randomly initialised base of the same architecture."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    base = getattr(keras.applications, name)(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg")
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, base)
    return base


@pytest.mark.parametrize("name", ["VGG16", "DenseNet121"])
def test_imagenet_weights_come_through_the_mirror_and_load(mirror, monkeypatch, name):
    from helpers import transfer

    folder, requested = mirror
    fname = transfer.APPLICATIONS[name][1]
    standin = write_notop_weights(folder / fname, name)
    assert transfer.fetch_imagenet_weights(name) is None, "the stand-in fails Keras' published MD5"
    assert not (transfer.keras_models_dir() / fname).exists(), "a file that failed its checksum is not kept"
    requested.clear()
    monkeypatch.setenv("IMGCLS_UNVERIFIED_DOWNLOADS", "1")
    base = transfer.build_base(name, (32, 32, 3))
    assert requested == [f"/classroom/{fname}"]
    for loaded, original in zip(base.get_weights(), standin.get_weights()):
        np.testing.assert_array_equal(loaded, original)
    assert base.trainable is False


def test_build_base_offline_without_weights_says_so(monkeypatch, tmp_path, capsys):
    from helpers import transfer

    monkeypatch.setenv("IMGCLS_OFFLINE", "1")
    monkeypatch.delenv("IMGCLS_MIRROR", raising=False)
    with pytest.raises(FileNotFoundError, match="VGG16's ImageNet weights are not available"):
        transfer.build_base("VGG16", (32, 32, 3))
    assert "cannot be reached (offline)" in capsys.readouterr().out


@pytest.mark.notebooks
def test_notebook_10_runs_part_4_with_weights_and_svhn_present(mirror, tmp_path, monkeypatch):
    """Seed 002 Part 4 end to end in smoke mode: SVHN stand-ins on disk, ImageNet stand-in weights from the mirror."""
    from conftest import ROOT, have_real_data
    from test_notebooks import error_outputs, execute, make_format_fixtures, outputs_text

    if not have_real_data():
        pytest.skip("offline datasets not present")
    folder, requested = mirror
    for name in ("VGG16", "DenseNet121"):
        from helpers import transfer

        write_notop_weights(folder / transfer.APPLICATIONS[name][1], name)
    data_dir = make_format_fixtures(tmp_path / "data")
    import shutil

    from helpers import cache

    for kind, path in cache.paths(shared_runs.MNIST_CNN_AUG, ROOT).items():  # Part 2's source model, from notebook 07
        if kind in ("model", "history", "manifest"):
            target = cache.paths(shared_runs.MNIST_CNN_AUG, tmp_path / "cache")[kind]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    nb = execute(
        ROOT / "notebooks" / "src" / "10_transfer_learning.py",
        monkeypatch,
        IMGCLS_SMOKE="1",
        IMGCLS_CACHE_DIR=str(tmp_path / "cache"),
        IMGCLS_CACHE_MODE="train",
        IMGCLS_PARTIAL_DIR=str(tmp_path / "cache" / "partial"),
        IMGCLS_DATA_DIR=str(data_dir),
        IMGCLS_OFFLINE="",
        IMGCLS_UNVERIFIED_DOWNLOADS="1",
    )
    assert error_outputs(nb) == []
    text = outputs_text(nb)
    assert "ImageNet weights available: {'VGG16': True, 'DenseNet121': True}" in text
    assert "Would run" not in text and "ImageNet transfer is skipped" not in text
    assert "[cache] stored model_4_2_densenet" in text
    assert sorted(requested) == sorted(f"/classroom/{transfer.APPLICATIONS[n][1]}" for n in transfer.APPLICATIONS)


@pytest.mark.notebooks
def test_grading_mode_with_svhn_present_but_untrained_stops_in_one_line(tmp_path, monkeypatch):
    """Seed 002 in require mode: SVHN is there, its model is not cached -> one line naming it, never a TypeError."""
    from conftest import ROOT, have_real_data
    from nbclient.exceptions import CellExecutionError
    from test_notebooks import execute, make_format_fixtures

    if not have_real_data():
        pytest.skip("offline datasets not present")
    with pytest.raises(CellExecutionError) as info:
        execute(
            ROOT / "notebooks" / "12_svhn.ipynb",
            monkeypatch,
            stop_on_error=True,
            IMGCLS_CACHE_MODE="require",
            IMGCLS_CACHE_DIR=str(ROOT),
            IMGCLS_DATA_DIR=str(make_format_fixtures(tmp_path / "data")),
        )
    assert info.value.ename == "CacheMiss" and "TypeError" not in str(info.value)
    assert "no cached artifact 'model_1_1'" in info.value.evalue and "train it first" in info.value.evalue
    shown = [line for line in info.value.traceback.split("------------------")[-1].splitlines() if line.strip()]
    assert len(shown) == 1 and shown[0].startswith("CacheMiss: "), "one line, no traceback through helpers"
