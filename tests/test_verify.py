"""The grader's verify command catches edited, swapped and deleted artifacts."""

from __future__ import annotations

import json
import pickle
import shutil

import keras
import numpy as np
import pytest

from helpers import cache, verify
from helpers.training import fit_cached

RNG = np.random.default_rng(0)
X = RNG.normal(size=(400, 6)).astype(np.float32)
Y = keras.utils.to_categorical(X[:, :3].argmax(1), 3).astype(np.float32)  # learnable labels
X_VAL, Y_VAL = X[300:], Y[300:]


def build():
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def trained_cache(cache_dir, monkeypatch):
    """Two entries with the same architecture: well trained and barely trained."""
    fit_cached(
        "good",
        build,
        X[:300],
        Y[:300],
        validation_data=(X_VAL, Y_VAL),
        epochs=30,
        batch_size=32,
        test_data=(X_VAL, Y_VAL),
        verbose=0,
    )
    fit_cached(
        "weak", build, X[:300], Y[:300], validation_data=(X_VAL, Y_VAL), epochs=1, batch_size=300, seed=3, verbose=0
    )
    monkeypatch.setattr(verify, "standard_splits", lambda: iter([("toy validation", X_VAL, Y_VAL)]))
    return cache_dir


def statuses():
    rows = verify.verify_all()
    return {(r.name, r.metric): r for r in rows}


def test_clean_cache_passes_with_remeasured_metrics(trained_cache, capsys):
    assert verify.main([]) == 0
    rows = statuses()
    good = rows[("good", "val_accuracy")]
    assert good.status == "OK" and good.measured == pytest.approx(good.recorded, abs=1e-6)
    assert good.measured > 0.8, "the toy task is learnt"
    assert rows[("good", "test_accuracy")].status == "OK"
    out = capsys.readouterr().out
    assert "name" in out and "recorded" in out and "measured" in out and "0 failed" in out


def rehash(name, kind):
    p = cache.paths(name)
    entry = json.loads(p["manifest"].read_text())
    entry["files"][kind]["sha256"] = cache.sha256_file(p[kind])
    p["manifest"].write_text(json.dumps(entry))


def test_edited_history_is_caught(trained_cache):
    p = cache.paths("good")
    history = cache.load_history(p["history"])
    history["val_accuracy"][-1] = 1.0
    p["history"].write_bytes(pickle.dumps(history))
    assert statuses()[("good", "")].status == "CORRUPT"
    assert verify.main([]) == 1
    rehash("good", "history")  # even with a forged checksum the history disagrees with the manifest
    row = statuses()[("good", "")]
    assert row.status == "STALE" and "history" in row.detail


def test_swapped_model_file_is_caught(trained_cache):
    shutil.copy(cache.paths("weak")["model"], cache.paths("good")["model"])
    assert statuses()[("good", "")].status == "CORRUPT"
    rehash("good", "model")  # forged checksum: the re-measured accuracy gives it away
    row = statuses()[("good", "val_accuracy")]
    assert row.status == "MISMATCH" and abs(row.measured - row.recorded) > 0.05
    assert verify.main([]) == 1


def test_model_of_other_architecture_is_stale(trained_cache, cache_dir):
    other = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    other.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    other.save(cache.paths("good")["model"])
    rehash("good", "model")
    row = statuses()[("good", "")]
    assert row.status == "STALE" and "architecture" in row.detail


def test_deleted_files_are_caught(trained_cache):
    cache.paths("good")["history"].unlink()
    assert statuses()[("good", "")].status == "MISSING"
    cache.paths("weak")["manifest"].unlink()
    assert statuses()[("weak", "")].detail == "model file without a manifest entry"
    assert verify.main([]) == 1


def test_history_only_entry_is_checked_without_a_model(cache_dir, monkeypatch):
    fit_cached("sweep", build, X[:300], Y[:300], epochs=2, verbose=0, keep_model=False, return_model=False)
    monkeypatch.setattr(verify, "standard_splits", lambda: iter([]))
    row = statuses()[("sweep", "")]
    assert row.status == "OK" and "no model file" in row.detail
    p = cache.paths("sweep")
    history = cache.load_history(p["history"])
    history["loss"][-1] = 0.0
    p["history"].write_bytes(pickle.dumps(history))
    assert statuses()[("sweep", "")].status == "CORRUPT"
    rehash("sweep", "history")
    assert statuses()[("sweep", "")].status == "STALE"
    p["history"].unlink()
    assert statuses()[("sweep", "")].status == "MISSING"
