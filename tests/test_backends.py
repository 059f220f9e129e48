"""The backend is a speed setting: a cache trained on one backend serves and verifies on the other.

The cache key leaves the backend out (it covers model, compile settings, data,
seed and fit parameters; the seed's default initial weights are not keyed, since
backends draw them from other random streams) and each manifest records the
backend its run was trained on (``versions.backend``). These tests show that
this is safe: ``.keras`` files load on either backend and give the recorded
accuracy there.
"""

from __future__ import annotations

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


def texts(notebook: nbformat.NotebookNode) -> list[str]:
    """Every output's text, in order."""
    return [
        out.get("text", "") or out.get("data", {}).get("text/plain", "")
        for cell in notebook.cells
        for out in cell.get("outputs", [])
    ]


def test_a_jax_trained_notebook_serves_on_tensorflow(monkeypatch):
    """Notebook 03, trained on JAX, in grading mode on a TensorFlow kernel: all cache hits, outputs unchanged."""
    from test_notebooks import execute

    names = ["ex3_adam", "ex3_adam_cosine_all_training_data"]
    assert {cache.manifest(name, ROOT)["versions"]["backend"] for name in names} == {"jax"}
    path = ROOT / "notebooks" / "03_optimizers.ipynb"
    committed = nbformat.read(path, 4)
    env = {"KERAS_BACKEND": "tensorflow", "IMGCLS_CACHE_MODE": "require", "IMGCLS_CACHE_DIR": str(ROOT)}
    nb = execute(path, monkeypatch, stop_on_error=True, **env)  # in grading mode a call to fit is an error
    ran, expected = texts(nb), texts(committed)
    assert "with tensorflow." in ran[0] and "with jax." in expected[0], "the first output names the backend"
    assert [ran[0].replace("tensorflow", "jax"), *ran[1:]] == expected


def test_verify_passes_on_jax_for_models_trained_on_tensorflow():
    """A dense network with preprocessing layers and a batch-normalised CNN, re-measured on JAX."""
    names = ["ex5_best_dense", "mnist_cnn_aug"]
    assert {cache.manifest(name, ROOT)["versions"]["backend"] for name in names} == {"tensorflow"}
    result = run_on_jax(["-m", "helpers.verify", *names])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "4 ok, 0 not re-measured by design, 0 failed (2 artifacts)" in result.stdout


def test_verify_passes_on_tensorflow_for_models_trained_on_jax(capsys):
    """Notebook 03 trains on JAX; its models give the recorded accuracies on TensorFlow."""
    import keras

    names = ["ex3_sgd_lr0.1", "ex3_adam", "ex3_adam_cosine_all_training_data"]
    assert {cache.manifest(name, ROOT)["versions"]["backend"] for name in names} == {"jax"}
    assert keras.backend.backend() == "tensorflow"
    assert verify.main(["--cache-dir", str(ROOT), *names]) == 0
    rows = [row for row in map(str.split, capsys.readouterr().out.splitlines()) if row and row[0] in names]
    assert len(rows) == 5 and {row[4] for row in rows} == {"OK"}, rows  # the last has no validation set
