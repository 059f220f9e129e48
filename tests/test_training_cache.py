"""The training cache: hits never train, changes miss, damage is detected."""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil

import keras
import numpy as np
import pytest

from helpers import cache, settings, training
from helpers.training import fit_cached

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 8)).astype(np.float32)
Y = keras.utils.to_categorical(RNG.integers(0, 3, 64), 3).astype(np.float32)
VAL = (X[:16], Y[:16])


def make_builder(width=4, lr=0.01):
    def build():
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(width, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=lr), loss="categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    return build


def run(name="m", builder=None, x=X, y=Y, **kw):
    kw.setdefault("epochs", 2)
    kw.setdefault("batch_size", 16)
    kw.setdefault("validation_data", VAL)
    return fit_cached(name, builder or make_builder(), x, y, verbose=0, **kw)


def test_first_call_trains_and_writes_model_history_manifest(cache_dir, fit_counter):
    model, history = run()
    assert fit_counter == [2]
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(type(v) is float for v in history["loss"]) and len(history["loss"]) == 2
    p = cache.paths("m")
    assert p["model"].is_file() and p["history"].is_file()
    entry = json.loads(p["manifest"].read_text())
    assert entry["seed"] == 0 and entry["epochs_run"] == 2
    assert entry["versions"]["keras"] == keras.__version__
    assert entry["training_seconds"] > 0
    assert entry["machine"]["cores_usable"] == len(os.sched_getaffinity(0)) <= entry["machine"]["cpus"]
    assert entry["metrics"]["final"]["loss"] == history["loss"][-1]
    assert entry["files"]["model"]["sha256"] == cache.sha256_file(p["model"])
    assert not p["partial"].exists(), "partial state is removed after a finished run"


def test_cache_hit_never_calls_fit(cache_dir, fit_counter):
    _, first = run()
    model, second = run()
    assert fit_counter == [2], "the second call must load, not train"
    assert second == first
    assert isinstance(model, keras.Model)
    np.testing.assert_allclose(model.predict(X, verbose=0).sum(1), 1.0, rtol=1e-5)


def test_cache_hit_is_independent_of_cell_order(cache_dir, fit_counter):
    run()
    make_builder(width=7)()  # other models made in between shift Keras' auto names
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    run()
    assert fit_counter == [2]


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"builder": make_builder(width=5)}, "architecture"),
        ({"builder": make_builder(lr=0.1)}, "compile"),
        ({"epochs": 3}, "epochs: 2 -> 3"),
        ({"batch_size": 8}, "batch_size: 16 -> 8"),
        ({"seed": 1}, "seed: 0 -> 1"),
        ({"x": X + 1.0}, "data"),
        ({"callbacks": [keras.callbacks.EarlyStopping(patience=1)]}, "callbacks"),
    ],
)
def test_changed_config_is_a_miss(cache_dir, fit_counter, change, expected):
    run()
    with pytest.raises(cache.CacheMiss, match=expected):
        run(mode="require", **change)
    run(**change)
    assert len(fit_counter) == 2, "a changed fingerprint retrains in train mode"


def test_require_mode_without_entry_names_the_artifact(cache_dir, fit_counter):
    with pytest.raises(cache.CacheMiss, match="no cached artifact 'absent'"):
        run("absent", mode="require")
    assert fit_counter == []


def test_require_mode_from_environment_cannot_be_overridden(cache_dir, monkeypatch, fit_counter):
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "require")
    settings.set_cache_mode("train")
    assert settings.cache_mode() == "require"
    with pytest.raises(cache.CacheMiss):
        run()
    assert fit_counter == []


def test_fit_is_forbidden_in_require_mode(cache_dir):
    settings.set_cache_mode("require")
    model = make_builder()()
    with pytest.raises(training.TrainingForbidden):
        model.fit(X, Y, epochs=1, verbose=0)


def trainer_class():
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    return TensorFlowTrainer


def gradient_tape_step(model):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = keras.losses.categorical_crossentropy(Y, model(X))
    grads = tape.gradient(loss, model.trainable_variables)
    model.optimizer.apply_gradients(zip(grads, model.trainable_variables))


@pytest.mark.parametrize(
    "train",
    [
        lambda m: m.train_on_batch(X, Y),
        lambda m: trainer_class().fit(m, X, Y, epochs=1, verbose=0),  # the backend trainer's fit, called directly
        gradient_tape_step,
    ],
    ids=["train_on_batch", "trainer-fit", "gradient-tape"],
)
def test_every_training_path_is_forbidden_in_require_mode(cache_dir, train, monkeypatch):
    model = make_builder()()
    model.optimizer.build(model.trainable_variables)
    before = [w.copy() for w in model.get_weights()]
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "require")
    with pytest.raises(training.TrainingForbidden):
        train(model)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "no weight changed"
    monkeypatch.delenv("IMGCLS_CACHE_MODE")
    train(model)  # the same call trains outside require mode
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_retrain_mode_and_pattern_force_training(cache_dir, monkeypatch, fit_counter):
    run()
    run(mode="retrain")
    run(mode="retrain")  # the same run again in this process (a notebook that reads it twice): loaded, not retrained
    assert fit_counter == [2, 2]
    monkeypatch.setattr(training, "_RETRAINED", set())  # as in a new process
    monkeypatch.setenv("IMGCLS_RETRAIN", "other,m*")
    run()
    assert fit_counter == [2, 2, 2]


def test_truncated_model_is_detected(cache_dir, fit_counter):
    run()
    path = cache.paths("m")["model"]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(cache.CacheCorrupt, match="m.keras"):
        run(mode="require")
    run()  # train mode treats it as missing and retrains
    assert fit_counter == [2, 2]
    cache.load_model(path)  # the retrained file is valid again


def test_corrupt_history_is_detected(cache_dir, fit_counter):
    run()
    path = cache.paths("m")["history"]
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(cache.CacheCorrupt, match="m.pkl"):
        run(mode="require")


def test_crafted_history_pickle_is_refused_and_runs_no_code(cache_dir, tmp_path):
    run()
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    p = cache.paths("m")
    p["history"].write_bytes(pickle.dumps({"loss": [Payload()]}))
    # even with a manifest claiming the right hash, loading must refuse it
    entry = json.loads(p["manifest"].read_text())
    entry["files"]["history"]["sha256"] = cache.sha256_file(p["history"])
    p["manifest"].write_text(json.dumps(entry))
    with pytest.raises(cache.CacheCorrupt, match="refused"):
        run(mode="require")
    with pytest.raises(cache.CacheCorrupt, match="refused"):
        cache.load_history(p["history"])
    assert not marker.exists()


def test_history_that_is_not_float_lists_is_refused(tmp_path):
    path = tmp_path / "h.pkl"
    path.write_bytes(pickle.dumps({"loss": "abc"}))
    with pytest.raises(cache.CacheCorrupt, match="lists of numbers"):
        cache.load_history(path)


def test_interrupted_save_leaves_nothing_that_loads(cache_dir, monkeypatch):
    def dying_save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as fh:
            fh.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("killed mid-save")

    monkeypatch.setattr(keras.Model, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        run()
    p = cache.paths("m")
    assert not p["model"].exists() and not p["manifest"].exists()
    assert not list(p["model"].parent.glob(".m.tmp*")), "temporary files are cleaned up"
    monkeypatch.undo()
    with pytest.raises(cache.CacheMiss):
        run(mode="require")


def test_model_file_without_manifest_is_not_trusted(cache_dir, fit_counter):
    run()
    cache.paths("m")["manifest"].unlink()
    with pytest.raises(cache.CacheMiss):
        run(mode="require")


def test_interrupted_training_keeps_per_epoch_progress(cache_dir, fit_counter):
    class StopAfter(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt("session ended during the third epoch")

    with pytest.raises(KeyboardInterrupt):
        run(epochs=4, callbacks=[StopAfter()])
    assert not cache.paths("m")["manifest"].exists(), "an unfinished run is not a cache entry"
    progress = json.loads((cache.paths("m")["partial"] / "progress.json").read_text())
    assert len(progress["history"]["loss"]) == 2
    assert progress["fingerprint"]


def test_resume_continues_with_same_fingerprint(cache_dir, monkeypatch):
    starts = []
    original = training._original_fit

    def interrupted_fit(self, *args, **kwargs):
        starts.append(kwargs["initial_epoch"])
        if len(starts) == 1:
            kwargs["epochs"] = 2  # the "session" ends after two epochs ...
            original(self, *args, **kwargs)
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(training, "_original_fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        run(epochs=5)
    _, history = run(epochs=5)  # ... and the next one continues at epoch 2
    assert starts == [0, 2]
    assert len(history["loss"]) == 5
    assert json.loads(cache.paths("m")["manifest"].read_text())["epochs_run"] == 5


def test_builder_must_return_a_compiled_model(cache_dir):
    with pytest.raises(TypeError, match="returned nothing"):
        fit_cached("b", lambda: None, X, Y, epochs=1)
    with pytest.raises(TypeError, match="compile"):
        fit_cached("b", lambda: keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)]), X, Y, epochs=1)


@pytest.mark.parametrize("bad", ["../x", "a/b", "", ".hidden", "x" * 200, "name\n", "/abs", "a\nb"])
def test_unsafe_names_are_refused(cache_dir, bad):
    with pytest.raises(ValueError):
        run(bad)


def test_test_data_metrics_are_recorded(cache_dir):
    model, _ = run(test_data=VAL)
    entry = cache.manifest("m")
    expected = model.evaluate(*VAL, verbose=0, return_dict=True)
    assert entry["metrics"]["test"]["accuracy"] == pytest.approx(expected["accuracy"])


def test_smoke_mode_caps_epochs(cache_dir, monkeypatch, fit_counter):
    monkeypatch.setenv("IMGCLS_SMOKE", "1")
    _, history = run(epochs=5)
    assert len(history["loss"]) == 1


def test_resume_state_is_throttled(cache_dir, monkeypatch):
    monkeypatch.setattr(training, "CHECKPOINT_EVERY_SECONDS", 1e9)

    class StopAt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(epochs=4, callbacks=[StopAt()])
    assert not (cache.paths("m")["partial"] / "progress.json").exists(), "no save before the interval has passed"


def test_history_only_run_stores_no_model_and_still_hits(cache_dir, fit_counter):
    model, history = run("sweep_point", keep_model=False, return_model=False, test_data=VAL)
    p = cache.paths("sweep_point")
    assert model is None and not p["model"].exists() and p["history"].is_file()
    entry = json.loads(p["manifest"].read_text())
    assert entry["model_stored"] is False and set(entry["files"]) == {"history"}
    assert "accuracy" in entry["metrics"]["test"], "the metrics a sweep needs are in the manifest"
    _, again = run("sweep_point", keep_model=False, return_model=False, test_data=VAL)
    assert fit_counter == [2] and again == history
    with pytest.raises(cache.CacheMiss, match="no model file"):
        cache.load_cached("sweep_point")
    with pytest.raises(ValueError, match="return_model=False"):
        run("other", keep_model=False)


def test_machine_description_counts_the_cores_a_pinned_run_may_use(monkeypatch):
    monkeypatch.setattr(training.os, "sched_getaffinity", lambda pid: {1}, raising=False)
    machine = training.machine_description()
    assert machine["cores_usable"] == 1 and machine["cpus"] == os.cpu_count()


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"x": np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X)}, "x/y inputs contain NaN"),
        ({"validation_data": (X[:8], np.full_like(Y[:8], np.inf))}, "validation_data targets contain NaN or infinite"),
        ({"y": Y[:10]}, "64 inputs but 10 targets"),
        ({"test_data": (X[:5], Y[:6])}, "test_data: 5 inputs but 6 targets"),
    ],
    ids=["nan-x", "inf-val-y", "short-y", "mismatched-test"],
)
def test_bad_training_data_is_refused_before_anything_trains(cache_dir, fit_counter, kwargs, reason):
    from helpers.training import BadTrainingData

    with pytest.raises(BadTrainingData, match=reason):
        run("bad", **kwargs)
    assert fit_counter == [] and not list(cache_dir.rglob("bad*"))


def test_helper_errors_show_as_one_line_in_a_notebook(tmp_path):
    import nbformat
    from conftest import ROOT
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                f"import helpers as hp\nhp.load_dataset('svhn', {str(tmp_path)!r}, download=False)"
            )
        ]
    )
    NotebookClient(nb, allow_errors=True, resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    (error,) = nb.cells[0].outputs
    assert error.output_type == "error" and error.ename == "DatasetUnavailable"
    assert len(error.traceback) == 1 and error.traceback[0].startswith("DatasetUnavailable: Dataset 'svhn'")


def interrupt_after(epochs_done: int):
    class StopAfter(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == epochs_done:
                raise KeyboardInterrupt

    return StopAfter()


def test_a_kill_between_state_and_progress_resumes_from_the_matching_epoch(cache_dir, monkeypatch):
    with pytest.raises(KeyboardInterrupt):
        run(epochs=4, callbacks=[interrupt_after(2)])
    folder = cache.paths("m")["partial"]
    assert sorted(p.name for p in folder.glob("state*.keras")) == ["state-2.keras"]
    # the next save wrote the epoch-3 model, then the session died before progress.json was updated
    shutil.copy(folder / "state-2.keras", folder / "state-3.keras")
    model, history, _ = training._load_progress(
        folder, json.loads((folder / "progress.json").read_text())["fingerprint"]
    )
    assert model is not None and len(history["loss"]) == 2, "epoch 2's history with epoch 2's model"


def test_resume_state_that_does_not_match_its_record_is_discarded(cache_dir):
    with pytest.raises(KeyboardInterrupt):
        run(epochs=4, callbacks=[interrupt_after(2)])
    folder = cache.paths("m")["partial"]
    digest = json.loads((folder / "progress.json").read_text())["fingerprint"]
    small_model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    small_model.compile(loss="categorical_crossentropy")
    small_model.save(folder / "state-2.keras")  # swapped under the same name
    assert training._load_progress(folder, digest) == (None, {}, 0.0)
    assert not folder.exists()


def test_retrain_mode_starts_from_scratch_not_from_leftover_state(cache_dir, monkeypatch):
    run(epochs=2)
    starts = []
    original = training._original_fit

    def interrupted_fit(self, *args, **kwargs):
        starts.append(kwargs["initial_epoch"])
        if len(starts) == 1:
            kwargs["epochs"] = 1  # the retrain is killed after one epoch, leaving resume state ...
            original(self, *args, **kwargs)
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(training, "_original_fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        run(epochs=2, mode="retrain")
    run(epochs=2, mode="retrain")  # ... which a new retrain does not pick up
    assert starts == [0, 0]


def test_a_second_process_waits_for_the_first_and_then_loads_its_result(cache_dir, tmp_path, monkeypatch):
    import threading

    from filelock import FileLock

    other = tmp_path / "other_cache"
    run("shared", cache_dir=other)  # what the "first process" will have finished
    p = cache.paths("shared")
    p["partial"].parent.mkdir(parents=True, exist_ok=True)
    calls, result = [], {}
    original = training._original_fit
    monkeypatch.setattr(training, "_original_fit", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    with FileLock(str(p["partial"]) + ".lock"):  # the first process is training "shared"
        waiter = threading.Thread(target=lambda: result.update(out=run("shared")))
        waiter.start()
        waiter.join(timeout=3)
        assert waiter.is_alive(), "the second process waits for the lock"
        for kind in ("model", "history", "manifest"):  # the first process finishes
            p[kind].parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(cache.paths("shared", other)[kind], p[kind])
    waiter.join(timeout=60)
    assert calls == [], "it loaded the finished run instead of training again"
    assert len(result["out"][1]["loss"]) == 2


def test_training_data_edited_in_place_is_a_miss(cache_dir, fit_counter):
    x = X.copy()
    run("inplace", x=x)
    x[0, 0] += 1.0  # the same array object, different content
    run("inplace", x=x)
    assert len(fit_counter) == 2


def test_keras_debugging_limits_are_refused_not_recorded_as_full_runs(cache_dir, fit_counter):
    from helpers import verify

    keras.config.set_max_epochs(1)
    try:
        with pytest.raises(training.TrainingForbidden, match="KERAS_MAX_EPOCHS"):
            run("limited", epochs=3)
        assert verify.main([]) == 1
    finally:
        keras.config.set_max_epochs(None)
    assert fit_counter == [] and not cache.paths("limited")["manifest"].exists()


def make_schedule(rate):
    def schedule(epoch, lr):
        return rate

    return schedule


def test_a_changed_schedule_closure_is_a_miss(cache_dir, fit_counter):
    run("sched", callbacks=[keras.callbacks.LearningRateScheduler(make_schedule(0.1))])
    run("sched", callbacks=[keras.callbacks.LearningRateScheduler(make_schedule(0.1))])
    assert len(fit_counter) == 1, "same closure value: a hit"
    run("sched", callbacks=[keras.callbacks.LearningRateScheduler(make_schedule(0.01))])
    assert len(fit_counter) == 2, "same source, other captured value: a miss"


class Nudge(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step


def test_a_changed_custom_callback_is_a_miss(cache_dir, fit_counter):
    run("cb", callbacks=[Nudge(1)])
    run("cb", callbacks=[Nudge(1)])
    run("cb", callbacks=[Nudge(2)])
    assert len(fit_counter) == 2


def test_a_custom_loss_with_the_same_name_but_other_code_is_a_miss(cache_dir, fit_counter):
    from helpers import fingerprint

    def builder_with(loss):
        def build():
            model = make_builder()()
            model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=["accuracy"])
            return model

        return build

    def my_loss(y_true, y_pred):
        return keras.losses.categorical_crossentropy(y_true, y_pred)

    first = fingerprint.custom_code(builder_with(my_loss)())

    def my_loss(y_true, y_pred):  # noqa: F811 - same name, other code
        return 2.0 * keras.losses.categorical_crossentropy(y_true, y_pred)

    assert fingerprint.custom_code(builder_with(my_loss)()) != first
    run("loss", builder=builder_with(my_loss))
    assert fingerprint.custom_code(make_builder()()) == {}, "Keras' own losses add nothing: old keys stay valid"


def build_functional():
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(4, activation="relu")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Concatenate()([hidden, inputs]))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_functional_model_hits_after_other_models_were_built(cache_dir, fit_counter):
    run(builder=build_functional)
    for _ in range(3):  # shifts every auto-generated name, also those inside inbound_nodes
        build_functional()
        make_builder()()
    run(builder=build_functional)
    assert fit_counter == [2]


def test_a_builder_that_sets_its_own_weights_is_a_miss(cache_dir, fit_counter):
    def with_weights(scale):
        def build():
            model = make_builder()()
            model.set_weights([w * scale for w in model.get_weights()])
            return model

        return build

    run(builder=with_weights(1.0))  # same weights as the seed gives: the key has no weights part
    assert "initial_weights" not in json.loads(cache.paths("m")["manifest"].read_text())["spec"]
    run(builder=with_weights(0.5))
    run(builder=with_weights(0.5))
    assert fit_counter == [2, 2]
    assert "initial_weights" in json.loads(cache.paths("m")["manifest"].read_text())["spec"]


def test_the_seeds_default_weights_are_rebuilt_once_per_architecture_and_seed(cache_dir, fit_counter, monkeypatch):
    from helpers import fingerprint

    monkeypatch.setattr(fingerprint, "_DEFAULT_WEIGHTS", {})
    rebuilds = []
    original = keras.Sequential.from_config.__func__

    def counting_from_config(cls, *args, **kwargs):
        rebuilds.append(cls)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(keras.Sequential, "from_config", classmethod(counting_from_config))  # models are not loaded
    run(return_model=False)
    for _ in range(3):  # hits, also after other models shifted every auto-generated name
        make_builder(width=6)()
        run(return_model=False)
    assert fit_counter == [2] and len(rebuilds) == 1
    run(name="other_seed", seed=1, return_model=False)
    run(name="wider", builder=make_builder(width=5), return_model=False)
    assert len(rebuilds) == 3 and fit_counter == [2, 2, 2]

    def pretrained():  # same architecture and seed as the remembered default, other weights: still keyed
        model = make_builder()()
        model.set_weights([w + 1.0 for w in model.get_weights()])
        return model

    run(builder=pretrained, return_model=False)
    assert len(rebuilds) == 3 and fit_counter == [2, 2, 2, 2]
    assert "initial_weights" in json.loads(cache.paths("m")["manifest"].read_text())["spec"]


def test_a_model_without_a_config_is_keyed_by_its_weights():
    from helpers import fingerprint

    class NoConfig(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            raise NotImplementedError("no config")

    model = NoConfig()
    model(np.zeros((1, 3), np.float32))
    assert fingerprint.initial_weights(model, 0) == fingerprint.weights_fingerprint(model.get_weights())


def _make_version_1(name: str, builder) -> dict:
    """Rewrite an entry as the version-1 key (before functional names and initial weights were keyed) made it."""
    from helpers import fingerprint

    p = cache.paths(name)
    entry = json.loads(p["manifest"].read_text())
    keras.backend.clear_session()  # version-1 keys held raw auto-names: make them as the next run will
    keras.utils.set_random_seed(entry["seed"])
    model = builder()
    data = {"x": X, "y": Y, "validation": VAL, "key": None}
    legacy = fingerprint.build_spec(model, data=data, fit=entry["spec"]["fit"], callbacks=[], legacy=True)
    old = dict(entry, spec=legacy, fingerprint=fingerprint.spec_digest(legacy))
    del old["key_version"]
    assert old["fingerprint"] != entry["fingerprint"], "the keys must differ for this test to mean anything"
    p["manifest"].write_text(json.dumps(old))
    return old


def test_a_version_1_entry_is_migrated_not_retrained(cache_dir, fit_counter):
    run(builder=build_functional)
    old = _make_version_1("m", build_functional)
    before = cache.paths("m")["manifest"].read_text()
    keras.backend.clear_session()
    run(builder=build_functional, mode="require")  # grading: served, but nothing is written
    assert cache.paths("m")["manifest"].read_text() == before
    keras.backend.clear_session()
    run(builder=build_functional)
    assert fit_counter == [2]
    entry = json.loads(cache.paths("m")["manifest"].read_text())
    assert entry["key_version"] == 2 and entry["migrations"][0]["from_fingerprint"] == old["fingerprint"]
    assert entry["metrics"] == old["metrics"] and entry["files"] == old["files"]
    from helpers import verify

    rows = verify.verify_entry("m", entry, verify.DataIndex(), cache.Cache(cache_dir))
    assert not any(r.status == "STALE" for r in rows), rows


def test_a_version_1_entry_of_another_experiment_is_not_migrated(cache_dir, fit_counter):
    run(builder=build_functional)
    _make_version_1("m", build_functional)
    keras.backend.clear_session()
    run(builder=build_functional, epochs=3)  # the old key does not match this experiment: retrain
    assert fit_counter == [2, 3]


def test_the_calling_notebook_and_exercise_are_recorded_and_added_to_older_entries(cache_dir, fit_counter, monkeypatch):
    monkeypatch.setenv("IMGCLS_NOTEBOOK", "03_optimizers")
    run(exercise="3.2")
    p = cache.paths("m")
    entry = cache.manifest("m")
    assert (entry["notebook"], entry["exercise"]) == ("03_optimizers", "3.2")
    older = {k: v for k, v in entry.items() if k not in ("notebook", "exercise")}  # as trained before session 14
    cache.write_json_atomic(p["manifest"], older)
    before = p["manifest"].read_bytes()
    run(exercise="3.2", mode="require")
    assert p["manifest"].read_bytes() == before, "grading mode writes nothing"
    run(exercise="3.2")
    assert fit_counter == [2], "recording where a run is asked for is not a miss"
    entry = cache.manifest("m")
    assert (entry["notebook"], entry["exercise"]) == ("03_optimizers", "3.2")
    (note,) = entry.pop("migrations")
    assert note["recorded"] == "notebook, exercise" and "nothing retrained" in note["how"]
    assert {k: v for k, v in entry.items() if k not in ("notebook", "exercise")} == older
    before = p["manifest"].read_bytes()
    run(exercise="3.2")
    assert p["manifest"].read_bytes() == before, "a recorded entry is not rewritten"


def test_the_notebook_is_named_by_the_runner_or_by_jupyterlab(monkeypatch):
    monkeypatch.delenv("IMGCLS_NOTEBOOK", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert settings.current_notebook() == ""
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/ada/imgcls/notebooks/05_regularization.ipynb")
    assert settings.current_notebook() == "05_regularization"
    monkeypatch.setenv("IMGCLS_NOTEBOOK", "02_dense_baselines")
    assert settings.current_notebook() == "02_dense_baselines"


def test_a_build_gets_the_seeds_weights_while_another_thread_uses_random(cache_dir):
    import threading

    builder = make_builder(width=16)
    keras.utils.set_random_seed(0)
    undisturbed = builder().get_weights()  # as every committed entry was built
    np.testing.assert_array_equal(training._build(builder, 0).get_weights()[0], undisturbed[0])
    stop = threading.Event()

    def use_random():  # as a Dask worker's event loop does
        while not stop.is_set():
            random.random()

    thread = threading.Thread(target=use_random)
    thread.start()
    try:
        for _ in range(10):
            for got, want in zip(training._build(builder, 0).get_weights(), undisturbed, strict=True):
                np.testing.assert_array_equal(got, want)
    finally:
        stop.set()
        thread.join()


def test_a_keras_that_draws_default_seeds_elsewhere_is_refused(cache_dir, monkeypatch):
    from keras.src.random import seed_generator

    from helpers import seeding

    monkeypatch.delattr(seed_generator, "python_random")  # as if Keras had moved where it draws them
    with (
        pytest.raises(seeding.UnknownKerasSeeding, match="draws its default seeds") as refused,
        seeding.seeded_build(0),
    ):
        pass
    assert refused.value._render_traceback_() == [f"UnknownKerasSeeding: {refused.value}"]  # one line in a notebook
    monkeypatch.undo()
    with seeding.seeded_build(0):
        assert seed_generator.python_random is not random  # the private generator, while building
    assert seed_generator.python_random is random


def test_a_finished_resume_state_never_becomes_an_entry_in_require_mode(cache_dir, monkeypatch, fit_counter):
    real = cache.write_json_atomic

    def killed(target, obj):  # killed after the last epoch's state was saved, before the manifest
        if target.name == "m.json":
            raise KeyboardInterrupt
        real(target, obj)

    monkeypatch.setattr(cache, "write_json_atomic", killed)
    with pytest.raises(KeyboardInterrupt):
        run("m", epochs=2)
    monkeypatch.setattr(cache, "write_json_atomic", real)
    assert any(cache.paths("m", cache_dir)["partial"].iterdir()), "a finished resume state is left behind"
    with pytest.raises(cache.CacheMiss, match="no cached artifact 'm'"):
        run("m", epochs=2, mode="require")
    assert cache.read_manifest(cache.paths("m", cache_dir)["manifest"]) is None, "no entry appears"
    assert len(fit_counter) == 1, "only the killed run called fit"
