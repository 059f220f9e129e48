"""./verify.sh --reproduce: retrain an entry from its notebook on a scratch cache and compare."""

from __future__ import annotations

import json
import os

import nbformat
import pytest
from conftest import ROOT

from helpers import cache, reproduce, settings, shared_runs

TOY = """
import helpers as hp
import keras
import numpy as np

rng = np.random.default_rng(0)
x = rng.normal(size=(200, 6)).astype("float32")
y = keras.utils.to_categorical(x[:, :3].argmax(1), 3).astype("float32")


def build():
    layers = [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    model = keras.Sequential([keras.Input((6,)), *layers])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


for seed in (0, 1):
    hp.fit_cached(f"toy_run_seed{seed}", build, x[:150], y[:150], validation_data=(x[150:], y[150:]), epochs=3,
                  batch_size=32, seed=seed, test_data=(x[150:], y[150:]), keep_model=False, return_model=False)
"""


@pytest.fixture
def toy_project(tmp_path, monkeypatch):
    """A project with one notebook that makes two history-only entries, run once into its cache."""
    return make_toy_project(tmp_path, monkeypatch)


def make_toy_project(tmp_path, monkeypatch):
    """The toy project, its notebook run once (on the kernel's default backend, or ``KERAS_BACKEND``)."""
    import sys

    project = tmp_path / "project"
    (project / "notebooks" / "src").mkdir(parents=True)
    (project / "notebooks" / "helpers").symlink_to(ROOT / "helpers")
    (project / "scripts").symlink_to(ROOT / "scripts")
    (project / "notebooks" / "src" / "99_toy.py").write_text(TOY)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TOY)])
    nbformat.write(nb, project / "notebooks" / "99_toy.ipynb")
    monkeypatch.setattr(settings, "project_root", lambda: project)
    monkeypatch.setenv("IMGCLS_CACHE_DIR", str(project))
    sys.path.insert(0, str(ROOT / "scripts"))
    from run_notebooks import execute_to

    execute_to(project / "notebooks" / "99_toy.ipynb", tmp_path / "ran.ipynb")
    assert cache.read_manifest(cache.paths("toy_run_seed1", project)["manifest"]) is not None
    return project


def test_an_honest_history_only_entry_is_reproduced_and_a_forged_one_is_not(toy_project, capsys):
    from helpers import verify

    assert verify.main(["--reproduce", "toy_run_seed0"]) == 0
    assert "REPRODUCED" in capsys.readouterr().out
    path = cache.paths("toy_run_seed1", toy_project)["manifest"]
    entry = json.loads(path.read_text())
    entry["metrics"]["test"]["accuracy"] += 0.05  # a forged number that no stored model can contradict
    path.write_text(json.dumps(entry))
    rows = reproduce.reproduce(["toy_run_seed0", "toy_run_seed1"], cache_dir=toy_project)
    assert [(name, status) for name, status, _, _ in rows] == [
        ("toy_run_seed0", "REPRODUCED"),
        ("toy_run_seed1", "DIFFERS"),
    ]
    assert rows[1][2] == pytest.approx(0.05, abs=1e-6)
    assert json.loads(path.read_text())["metrics"]["test"]["accuracy"] == entry["metrics"]["test"]["accuracy"], (
        "the cache under test is never written"
    )


def test_entries_map_to_the_notebook_that_made_them():
    """Each committed entry's manifest names the notebook that trained it, and that notebook exists."""
    entries = cache.list_entries(ROOT)
    assert {n for n in entries if reproduce.making_notebook(n, ROOT) is None} == set()
    assert reproduce.making_notebook("ex4_clean_width10_seed0", ROOT) == "04_width_sweeps"
    assert reproduce.making_notebook("transfer_fine-tuning_n100_seed0", ROOT) == "10_transfer_learning"
    assert reproduce.making_notebook(shared_runs.DENSE_RUNS["tuned + augmentation"], ROOT) == "05_regularization", (
        "08 only reads it"
    )
    assert reproduce.making_notebook("fashion_cnn_naive_bn", ROOT) == "08_fashion_cnns"
    assert reproduce.making_notebook("no_such_thing", ROOT) is None


def test_an_entry_whose_manifest_names_no_notebook_is_refused(toy_project):
    path = cache.paths("toy_run_seed0", toy_project)["manifest"]
    entry = json.loads(path.read_text())
    assert entry["notebook"] == "99_toy", "the runner told fit_cached which notebook ran"
    path.write_text(json.dumps({**entry, "notebook": "98_gone"}))
    rows = reproduce.reproduce(["toy_run_seed0"], cache_dir=toy_project)
    assert [(name, status) for name, status, _, _ in rows] == [("toy_run_seed0", "FAIL")]
    assert "names no notebook" in rows[0][3]


def test_an_entry_is_retrained_on_the_backend_that_trained_it(tmp_path, monkeypatch, capsys):
    """Entries trained on JAX are retrained on JAX even when the grader's default backend is TensorFlow."""
    pytest.importorskip("jax")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    project = make_toy_project(tmp_path, monkeypatch)
    assert reproduce.recorded_backend("toy_run_seed0", project) == "jax"
    monkeypatch.delenv("KERAS_BACKEND")  # on TensorFlow, other initial weights would give other curves
    rows = reproduce.reproduce(["toy_run_seed0"], cache_dir=project)
    assert [(name, status) for name, status, _, _ in rows] == [("toy_run_seed0", "REPRODUCED")], rows
    assert "99_toy on jax: retraining toy_run_seed0" in capsys.readouterr().out
    assert "KERAS_BACKEND" not in os.environ, "the backend is set for the reproducing kernel only"


def test_an_entry_trained_on_a_backend_missing_here_is_one_clear_row(toy_project):
    path = cache.paths("toy_run_seed0", toy_project)["manifest"]
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({**entry, "versions": {**entry["versions"], "backend": "no_such_backend"}}))
    rows = reproduce.reproduce(["toy_run_seed0"], cache_dir=toy_project)
    assert [(name, status) for name, status, _, _ in rows] == [("toy_run_seed0", "FAIL")]
    assert rows[0][3].startswith("it was trained on Keras' no_such_backend backend, which is not installed here")
