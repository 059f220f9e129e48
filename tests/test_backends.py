"""The backend is a speed setting: a cache trained on TensorFlow serves and verifies on JAX, and the reverse.

The cache key leaves the backend out (it covers model, compile settings, data,
seed and fit parameters; the seed's default initial weights are not keyed, since
backends draw them from other random streams) and each manifest records the
backend its run was trained on (``versions.backend``). These tests show that
this is safe: ``.keras`` files load on either backend and give the recorded
accuracy there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, SHARED_DATA, have_real_data

from helpers import cache, verify

pytest.importorskip("jax")
pytestmark = pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")


def run_on_jax(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` in the project with Keras on JAX."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "IMGCLS_DATA_DIR": str(SHARED_DATA), "IMGCLS_OFFLINE": "1", **env}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def test_a_tensorflow_trained_cache_serves_a_notebook_on_jax(monkeypatch):
    """Notebook 03 in grading mode on a JAX kernel: every run is a cache hit and every output is unchanged."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from run_notebooks import project_client

    for key, value in {"KERAS_BACKEND": "jax", "IMGCLS_CACHE_MODE": "require", "IMGCLS_CACHE_DIR": str(ROOT)}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("IMGCLS_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("IMGCLS_OFFLINE", "1")
    committed = nbformat.read(ROOT / "notebooks" / "03_optimizers.ipynb", 4)
    nb = nbformat.read(ROOT / "notebooks" / "03_optimizers.ipynb", 4)
    nb.cells.append(nbformat.v4.new_code_cell("import keras\nprint('backend:', keras.backend.backend())"))
    with project_client(nb, ROOT / "notebooks", notebook="03_optimizers", timeout=900) as client:
        client.execute()  # raises on any error: in grading mode a call to fit is one
    assert "backend: jax" in nb.cells[-1].outputs[0]["text"]

    def texts(notebook: nbformat.NotebookNode) -> list[str]:
        return [
            out.get("text", "") or out.get("data", {}).get("text/plain", "")
            for cell in notebook.cells
            for out in cell.get("outputs", [])
        ]

    assert texts(nb)[:-1] == texts(committed)


def test_verify_passes_on_jax_for_models_trained_on_tensorflow():
    """An MLP, a dense network with preprocessing layers and a batch-normalised CNN, re-measured on JAX."""
    names = ["ex3_adam", "ex5_best_dense", "mnist_cnn_aug"]
    assert {cache.manifest(name, ROOT)["versions"]["backend"] for name in names} == {"tensorflow"}
    result = run_on_jax(["-m", "helpers.verify", *names])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "6 ok, 0 failed (3 artifacts)" in result.stdout


JAX_TRAINING = """
import sys
import helpers as hp
import keras

assert keras.backend.backend() == "jax"
splits = hp.image_splits("mnist")


def build():
    model = hp.build_mlp((28, 28, 1), [32])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


hp.fit_cached("jax_mlp", build, *splits["train"], validation_data=splits["val"], epochs=1, batch_size=128,
              test_data=splits["test"], seed=0, cache_dir=sys.argv[1], mode="train")
"""


def test_a_model_trained_on_jax_verifies_on_tensorflow(tmp_path, capsys):
    result = run_on_jax(["-c", JAX_TRAINING, str(tmp_path)])
    assert result.returncode == 0, result.stderr[-2000:]
    entry = json.loads(cache.paths("jax_mlp", tmp_path)["manifest"].read_text())
    assert entry["versions"]["backend"] == "jax"
    import keras

    assert keras.backend.backend() == "tensorflow"
    verify.main(["--cache-dir", str(tmp_path), "jax_mlp"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("jax_mlp")]
    assert [(row[1], row[4]) for row in rows] == [("val_accuracy", "OK"), ("test_accuracy", "OK")]
    recorded = entry["metrics"]["test"]["accuracy"]
    assert float(rows[1][3]) == pytest.approx(recorded, abs=verify.TOLERANCE), "re-measured on TensorFlow"
