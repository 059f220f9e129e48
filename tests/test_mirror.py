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

from helpers import data


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
