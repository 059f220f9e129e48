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
    verify.write_index(cache_dir)
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
    rehash("good", "model")  # forged checksum: the weak run's optimizer steps give it away (1 step, not 300)
    row = statuses()[("good", "optimizer steps")]
    assert row.status == "ANOMALY" and "took 1 steps; 30 epochs of 10 make 300" in row.detail
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
    weak = {r.status: r.detail for r in verify.verify_all() if r.name == "weak"}
    assert weak == {
        "MISSING": "the notebooks need this entry; its manifest is gone",
        "ORPHAN": "model or history file without a manifest entry",
    }
    assert verify.main([]) == 1


def test_an_entry_deleted_entirely_is_missing_by_the_index(trained_cache):
    for kind in ("model", "history", "manifest"):
        cache.paths("weak")[kind].unlink()
    (row,) = [r for r in verify.verify_all() if r.name == "weak"]
    assert row.status == "MISSING"
    assert verify.main([]) == 1


def forge_manifest(name, edit):
    p = cache.paths(name)
    entry = json.loads(p["manifest"].read_text())
    edit(entry)
    p["manifest"].write_text(json.dumps(entry))


def test_a_forged_best_block_is_caught(trained_cache):
    forge_manifest("good", lambda e: e["metrics"]["best"].update(val_accuracy=0.999))
    row = statuses()[("good", "")]
    assert row.status == "STALE" and "best" in row.detail


def test_accuracy_raised_by_less_than_the_old_tolerance_is_caught(trained_cache):
    forge_manifest("good", lambda e: e["metrics"]["test"].update(accuracy=e["metrics"]["test"]["accuracy"] + 0.0019))
    assert statuses()[("good", "test_accuracy")].status == "MISMATCH"


def test_no_dataset_is_a_failure_not_a_silent_pass(trained_cache, monkeypatch):
    monkeypatch.setattr(verify, "standard_splits", lambda: iter([]))
    row = statuses()[("good", "val_accuracy")]
    assert row.status == "NO DATA" and "IMGCLS_DATA_DIR" in row.detail
    assert verify.main([]) == 1


def test_data_pointed_elsewhere_cannot_skip_remeasurement(trained_cache):
    forge_manifest("good", lambda e: e["spec"]["data"].update(validation=["0" * 32, "0" * 32]))
    assert statuses()[("good", "val_accuracy")].status in ("NO DATA", "STALE")
    assert verify.main([]) == 1


def test_a_malformed_entry_is_one_fail_row_and_verify_finishes(trained_cache):
    forge_manifest("good", lambda e: e.update(files="not a dict", metrics=[1, 2]))
    rows = verify.verify_all()
    bad = [r for r in rows if r.name == "good"]
    assert len(bad) == 1 and bad[0].status in ("FAIL", "CORRUPT")
    assert any(r.name == "weak" and r.status == "OK" for r in rows), "the other entries are still checked"


def test_a_model_that_saw_the_test_set_is_flagged(cache_dir, monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(250, 6)).astype(np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 3, 250), 3).astype(np.float32)  # random: only memory helps
    train, val, test = slice(0, 150), slice(150, 200), slice(200, 250)

    def build_big():
        model = keras.Sequential(
            [keras.Input((6,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(3, activation="softmax")]
        )
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    cheat_x, cheat_y = np.concatenate([x[train], x[test]]), np.concatenate([y[train], y[test]])
    fit_cached(
        "cheat",
        build_big,
        cheat_x,
        cheat_y,
        validation_data=(x[val], y[val]),
        test_data=(x[test], y[test]),
        epochs=150,
        batch_size=200,
        verbose=0,
    )
    monkeypatch.setattr(verify, "standard_splits", lambda: iter([("v", x[val], y[val]), ("t", x[test], y[test])]))
    row = statuses()[("cheat", "test - val")]
    assert row.status == "ANOMALY" and "test set" in row.detail


def test_a_forged_prediction_cache_is_caught(trained_cache):
    from helpers import predictions as prediction_cache

    prediction_cache.cached_predictions("toy_preds", ["good"], X_VAL)
    ok = {r.name: r for r in verify.verify_all()}["predictions/toy_preds"]
    assert ok.status == "OK" and ok.measured <= verify.PREDICTION_TOLERANCE["float32"]
    path = trained_cache / "histories" / "predictions" / "toy_preds.npz"
    with np.load(path) as stored:
        key, predictions = str(stored["key"]), stored["predictions"].copy()
    predictions[...] = 0
    predictions[..., 0] = 1.0  # every image "predicted" as class 0
    np.savez(path, key=key, predictions=predictions)
    forged = {r.name: r for r in verify.verify_all()}["predictions/toy_preds"]
    assert forged.status == "MISMATCH"
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


def test_a_history_that_does_not_belong_to_its_model_is_flagged(trained_cache):
    from helpers.training import summarize_history

    p = cache.paths("good")
    history = cache.load_history(p["history"])
    history["val_accuracy"] = [v + 0.005 for v in history["val_accuracy"]]  # raised by half an image of 100
    p["history"].write_bytes(pickle.dumps(history))
    entry = json.loads(p["manifest"].read_text())
    saved = dict(entry["metrics"], **summarize_history(history))  # final and best forged to agree
    entry["metrics"] = saved
    p["manifest"].write_text(json.dumps(entry))
    rehash("good", "history")
    rows = statuses()
    assert rows[("good", "val_accuracy")].status == "OK", "the honest saved_model_val alone would pass"
    assert rows[("good", "history/model")].status == "ANOMALY"
    assert verify.main([]) == 1


def test_a_students_broken_files_are_fail_rows_and_verify_finishes(trained_cache):
    """The kinds that crashed verify on a student's cache: each is a row, and the other entries are checked."""
    histories = trained_cache / "histories"
    (histories / "listed.json").write_text("[1, 2, 3]")  # valid JSON, not an object
    (histories / "deep.json").write_text("[" * 100_000 + "]" * 100_000)  # deeper than Python's recursion
    (histories / "newline\n.json").write_text(json.dumps({"name": "newline\n"}))
    (histories / ".good.tmpab12.pkl").write_bytes(b"")  # a killed save's temporary file
    big = histories / "big.pkl"  # 20 bytes declaring a string of 2**60 bytes
    big.write_bytes(b"\x80\x04\x8e" + (2**60).to_bytes(8, "little") + b"abc.")
    with pytest.raises(cache.CacheCorrupt, match="too large"):
        cache.load_history(big)
    huge = histories / "huge.pkl"
    huge.write_bytes(pickle.dumps({"loss": [10**400]}))
    with pytest.raises(cache.CacheCorrupt, match="not a dict of lists of numbers"):
        cache.load_history(huge)
    rows = verify.verify_all()
    by_name = {r.name: r.status for r in rows}
    assert by_name["listed"] == "FAIL" and by_name["deep"] == "FAIL" and by_name["'newline\\n'"] == "FAIL"
    assert not any(r.name.startswith(".") for r in rows), "a temporary file is no orphan"
    assert len(verify.format_table(rows).splitlines()) == len(rows) + 1, "one line per row"
    assert by_name["good"] == "OK" and by_name["weak"] == "OK"


def test_a_history_only_entrys_test_accuracy_is_shown_as_not_re_measured(cache_dir, monkeypatch, capsys):
    fit_cached(
        "sweep",
        build,
        X[:300],
        Y[:300],
        epochs=2,
        verbose=0,
        keep_model=False,
        return_model=False,
        test_data=(X_VAL, Y_VAL),
    )
    monkeypatch.setattr(verify, "standard_splits", lambda: iter([]))
    row = statuses()[("sweep", "test_accuracy")]
    assert row.status == verify.UNMEASURED and row.measured is None and "not re-measured" in row.detail
    verify.write_index(cache_dir)
    assert verify.main([]) == 0
    assert "1 ok, 1 not re-measured by design, 0 failed" in capsys.readouterr().out


def _pass_off(cache_dir, other: str, as_name: str) -> None:
    """Put run ``other``'s model and history under ``as_name``'s key, manifest made consistent with them."""
    src, dst = cache.paths(other), cache.paths(as_name)
    shutil.copy2(src["model"], dst["model"])
    shutil.copy2(src["history"], dst["history"])
    mine = json.loads(src["manifest"].read_text())

    def consistent(entry):
        entry.update(metrics=mine["metrics"], epochs_run=mine["epochs_run"], data=mine["data"] | entry["data"])
        for kind in ("model", "history"):
            entry["files"][kind]["sha256"] = cache.sha256_file(dst[kind])

    forge_manifest(as_name, consistent)


def test_a_weaker_run_under_a_stronger_runs_key_is_caught_by_its_length(trained_cache):
    _pass_off(trained_cache, "weak", "good")  # 1 epoch where the key asks for 30
    row = statuses()[("good", "epochs")]
    assert row.status == "ANOMALY" and "the history has 1 epochs, but its key asks for 30" in row.detail
    assert verify.main([]) == 1


def test_a_run_on_less_data_under_the_full_runs_key_is_caught_by_its_optimizer_steps(trained_cache):
    fit_cached("half", build, X[:150], Y[:150], validation_data=(X_VAL, Y_VAL), epochs=30, batch_size=32, verbose=0)
    _pass_off(trained_cache, "half", "good")  # same epochs and batch, half the images: half the steps
    row = statuses()[("good", "optimizer steps")]
    assert row.status == "ANOMALY" and "took 150 steps; 30 epochs of 10 make 300" in row.detail


def test_early_stopping_replayed_explains_a_short_history_and_nothing_else(cache_dir):
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    fit_cached(
        "early", build, X[:300], Y[:300], validation_data=(X_VAL, Y_VAL), epochs=300, callbacks=[stop], verbose=0
    )
    entry = cache.manifest("early")
    history = cache.load_history(cache.paths("early")["history"])
    assert entry["epochs_run"] < 300, "the toy task stops early"
    assert verify._length_problem(entry, history) == ""
    cut = {k: v[:-1] for k, v in history.items()}  # stopped before early stopping would
    assert f"the history has {len(cut['loss'])} epochs, but its key asks for 300" in verify._length_problem(entry, cut)
    longer = {k: [*v, v[-1]] for k, v in history.items()}  # run on after early stopping would have stopped
    stopped = len(history["loss"])
    assert f"its early stopping would stop it at epoch {stopped}" in verify._length_problem(entry, longer)
