"""``fit_cached``: train a model once, then load it in seconds on every re-run.

>>> model, history = fit_cached(
...     "mnist_softmax", make_model, x_train, y_train,
...     validation_data=(x_val, y_val), epochs=50, batch_size=128, seed=0)

The first call trains and stores the model, history and a manifest entry (see
:mod:`helpers.cache`). Later calls with the same name *and the same
fingerprint* (architecture, compile settings, data, fit parameters, callbacks,
seed) load the stored result and never call ``fit``. Anything that changed is a
cache miss: the model is retrained, or in require-cache mode a
:class:`~helpers.cache.CacheMiss` names what changed.

Long runs are resumable: after every epoch the model (with its optimizer state)
and the history so far are saved under ``.cache/partial/NAME/``; an interrupted
run with the same fingerprint continues from the last finished epoch.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from filelock import FileLock

from helpers import cache, fingerprint, seeding, settings
from helpers.errors import OneLineError

#: Batches run per call into the compiled train function. Measured on the
#: 2-core reference machine (benchmarks/fit_path.py): about 2x faster for
#: small dense models at batch size 32, and no slower for CNNs.
DEFAULT_STEPS_PER_EXECUTION = 32
#: Evaluation batch size for the validation set (speed only; results are the same).
VALIDATION_BATCH_SIZE = 1024
#: Resume state is saved after an epoch when this many seconds have passed since
#: the last save, so short epochs do not pay for a full model save each time.
CHECKPOINT_EVERY_SECONDS = 30.0
#: (manifest path, key) of the runs this process trained: a retrain mode retrains a run once, a second call loads it.
_RETRAINED: set[tuple[str, str]] = set()


class TrainingForbidden(OneLineError, RuntimeError):
    """``fit`` was called while the cache mode is ``require``."""


_original_fit = keras.Model.fit
FORBIDDEN = (
    "require-cache mode (IMGCLS_CACHE_MODE=require or stop_training=True) never trains: {what} was called; "
    "use fit_cached with a cached name"
)


def forbid_in_require_mode(function: Callable, what: str) -> Callable:
    """Wrap a training entry point so that it raises :class:`TrainingForbidden` in require mode."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if settings.cache_mode() == "require":
            raise TrainingForbidden(FORBIDDEN.format(what=what))
        return function(*args, **kwargs)

    return guarded


def _guarded_fit(self: keras.Model, *args: Any, **kwargs: Any) -> Any:
    if settings.cache_mode() == "require":
        raise TrainingForbidden(FORBIDDEN.format(what="model.fit"))
    return _original_fit(self, *args, **kwargs)


def _guard_every_training_path() -> None:
    """fit, train_on_batch (also called on the backend trainer class) and every optimizer update."""
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer
    from keras.src.optimizers.base_optimizer import BaseOptimizer
    from keras.src.optimizers.loss_scale_optimizer import LossScaleOptimizer

    keras.Model.fit = _guarded_fit
    for owner, method in (
        (TensorFlowTrainer, "fit"),
        (TensorFlowTrainer, "train_on_batch"),
        (BaseOptimizer, "apply"),
        (LossScaleOptimizer, "apply"),
    ):
        setattr(owner, method, forbid_in_require_mode(getattr(owner, method), f"{owner.__name__}.{method}"))


_guard_every_training_path()


def library_versions() -> dict[str, str]:
    """Return the versions that a cached result was produced with."""
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }


def machine_description() -> dict[str, Any]:
    """Where a run trains: platform, the machine's CPUs, the cores this process may use, and the script.

    ``cores_usable`` differs from ``cpus`` when the run was pinned to some cores
    (``taskset``), for example to train two models side by side.
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cores_usable": usable,
        "argv0": os.path.basename(sys.argv[0]),
    }


def summarize_history(history: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Return the final and best value of every curve (max for accuracies)."""
    final = {k: v[-1] for k, v in history.items() if v}
    best = {k: (max(v) if "acc" in k else min(v)) for k, v in history.items() if v and k != "learning_rate"}
    return {"final": final, "best": best}


class _EpochCheckpoint(keras.callbacks.Callback):
    """Collect the history; save model, optimizer state and history for resuming.

    Saves after an epoch once ``CHECKPOINT_EVERY_SECONDS`` have passed since the
    last save, so an interrupted run loses at most that much work.
    """

    def __init__(self, folder: Any, digest: str, history: dict, seconds: float) -> None:
        super().__init__()
        self.folder = folder
        self.digest = digest
        self.history = {k: list(v) for k, v in history.items()}
        self.seconds = seconds
        self._t0 = self._last_save = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if time.perf_counter() - self._last_save < CHECKPOINT_EVERY_SECONDS:
            return
        self._last_save = time.perf_counter()
        save_progress(self.folder, self.model, self.digest, self.history, self.seconds + time.perf_counter() - self._t0)


class _RestoreCallbackState(keras.callbacks.Callback):
    """On resume, replay the earlier epochs into EarlyStopping's counters."""

    def __init__(self, callbacks: list, history: dict) -> None:
        super().__init__()
        self.callbacks = callbacks
        self.history = history

    def on_train_begin(self, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            if not isinstance(cb, keras.callbacks.EarlyStopping):
                continue
            values = self.history.get(cb.monitor, [])
            if not values:
                continue
            if cb.monitor_op is None:
                cb._set_monitor_op()
            for epoch, value in enumerate(values):
                if epoch < cb.start_from_epoch:
                    continue
                cb.wait += 1
                if cb._is_improvement(value, cb.best):
                    cb.best, cb.best_epoch, cb.wait = value, epoch, 0


def save_progress(folder: Any, model: keras.Model, digest: str, history: dict, seconds: float) -> None:
    """Save resume state as one unit: the model of epoch E, then ``progress.json`` naming it by E and SHA-256.

    A kill between the two writes leaves the previous progress pointing at the
    previous state file, which is only deleted once the new progress is written;
    so a resume never pairs a history with a model of another epoch.
    """
    epochs = len(history.get("loss", []))
    state = folder / f"state-{epochs}.keras"
    folder.mkdir(parents=True, exist_ok=True)
    with cache.atomic_path(state) as tmp:
        model.save(tmp)
    progress = {"fingerprint": digest, "history": history, "seconds": seconds, "state": state.name}
    cache.write_json_atomic(folder / "progress.json", {**progress, "state_sha256": cache.sha256_file(state)})
    for old in folder.glob("state*.keras"):
        if old != state:
            old.unlink(missing_ok=True)


def _load_progress(folder: Any, digest: str) -> tuple[keras.Model | None, dict, float]:
    progress = cache.read_manifest(folder / "progress.json")
    if not progress or progress.get("fingerprint") != digest:
        shutil.rmtree(folder, ignore_errors=True)
        return None, {}, 0.0
    history, state = progress.get("history", {}), folder / str(progress.get("state", ""))
    consistent = (
        state.parent == folder
        and state.name == f"state-{len(history.get('loss', []))}.keras"
        and state.is_file()
        and cache.sha256_file(state) == progress.get("state_sha256")
    )
    try:
        if not consistent:
            raise cache.CacheCorrupt("resume state does not match its progress record")
        model = cache.load_model(state)
    except cache.CacheCorrupt:
        shutil.rmtree(folder, ignore_errors=True)
        return None, {}, 0.0
    return model, history, float(progress.get("seconds", 0.0))


def _is_array_data(x: Any) -> bool:
    return isinstance(x, np.ndarray)


class Unfinished(OneLineError, NotImplementedError):
    """The model builder still raises nbgrader's NotImplementedError: the exercise above is not written yet."""


def _build(build_model: Callable[[], Any], seed: int) -> keras.Model:
    with seeding.seeded_build(seed):
        try:
            model = build_model()
        except NotImplementedError:
            raise Unfinished(
                "the model builder raises NotImplementedError: write the exercise's code above "
                "(replace '# YOUR CODE HERE' and its raise), then run this cell again"
            ) from None
    if model is None:
        raise TypeError("build_model returned nothing: it must return a compiled keras.Model")
    if not isinstance(model, keras.Model):
        raise TypeError(f"build_model must return a keras.Model, not {type(model).__name__}")
    if not model.compiled:
        raise TypeError("build_model must compile the model (call model.compile) before returning it")
    return model


def keras_limits_problem() -> str:
    """A one-line reason when Keras' debugging limits are set (they cut training and evaluation short), else ''."""
    limits = {
        "KERAS_MAX_EPOCHS / keras.config.set_max_epochs": keras.config.max_epochs(),
        "KERAS_MAX_STEPS_PER_EPOCH / keras.config.set_max_steps_per_epoch": keras.config.max_steps_per_epoch(),
    }
    set_ = [f"{name} = {value!r}" for name, value in limits.items() if value is not None]
    if not set_:
        return ""
    return f"{'; '.join(set_)} would cut runs short while the cache records them as full: unset it and restart"


class BadTrainingData(OneLineError, ValueError):
    """Training inputs that would train (and cache) garbage: non-finite values or mismatched lengths."""


def check_training_arrays(x: Any, y: Any, validation_data: Any = None, test_data: Any = None) -> None:
    """Refuse missing labels, arrays of Python objects, non-finite inputs and mismatched sample counts.

    Raises:
        BadTrainingData: One line naming the array and what is wrong with it.
    """
    if _is_array_data(x) and y is None:
        raise BadTrainingData("y is None: pass the training labels as the argument after x")
    pairs = {"x/y": (x, y), "validation_data": validation_data, "test_data": test_data}
    for label, pair in pairs.items():
        if pair is None:
            continue
        for part, array in zip(("inputs", "targets"), pair):
            if _is_array_data(array) and array.dtype == object:
                raise BadTrainingData(
                    f"{label} {part} are an array of Python objects: convert them with np.asarray(..., dtype='float32')"
                )
            if _is_array_data(array) and array is not None:
                values = np.asarray(array)
                if values.dtype.kind in "fc" and not np.isfinite(values).all():
                    raise BadTrainingData(f"{label} {part} contain NaN or infinite values: clean them before training")
        first, second = pair
        if _is_array_data(first) and second is not None and len(first) != len(second):
            raise BadTrainingData(f"{label}: {len(first)} inputs but {len(second)} targets; they must match")


def _loss_name(model: keras.Model) -> str:
    loss = getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", "")
    return str(name).lower()


def check_against_model(model: keras.Model, x: Any, y: Any) -> None:
    """Refuse inputs of the wrong shape for the model, and labels of the wrong kind for its loss.

    Raises:
        BadTrainingData: One line saying what does not fit and what to do.
    """
    if not _is_array_data(x):
        return
    try:
        expected = model.input_shape
    except (AttributeError, ValueError):  # a model not built yet: Keras checks it when it trains
        expected = None
    if isinstance(expected, tuple) and all(isinstance(d, int) or d is None for d in expected):
        fits = len(expected) == x.ndim and all(e is None or e == a for e, a in zip(expected[1:], x.shape[1:]))
        if not fits:
            raise BadTrainingData(
                f"x has samples of shape {x.shape[1:]} but the model takes {tuple(expected[1:])}: "
                "reshape x (for example flatten the images) or change the model's input"
            )
    if not _is_array_data(y):
        return
    loss = _loss_name(model)
    one_hot = y.ndim == 2 and y.shape[1] > 1
    if "categorical" in loss and "sparse" not in loss and not one_hot:
        raise BadTrainingData(
            f"the loss {loss} wants one-hot labels, but y has shape {y.shape}: use hp.one_hot(y), "
            "or the loss sparse_categorical_crossentropy"
        )
    if "sparse" in loss and one_hot:
        raise BadTrainingData(
            f"the loss {loss} wants integer labels, but y is one-hot (shape {y.shape}): use y.argmax(1), "
            "or the loss categorical_crossentropy"
        )


def fit_cached(
    name: str,
    build_model: Callable[[], keras.Model],
    x: Any,
    y: Any = None,
    *,
    validation_data: tuple | None = None,
    epochs: int,
    batch_size: int | None = 32,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    seed: int = 0,
    test_data: tuple[np.ndarray, np.ndarray] | None = None,
    steps_per_epoch: int | None = None,
    shuffle: bool = True,
    data_key: str | None = None,
    description: str = "",
    exercise: str = "",
    return_model: bool = True,
    keep_model: bool = True,
    verbose: int = 2,
    mode: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[keras.Model | None, dict[str, list[float]]]:
    """Train ``build_model()`` on the data, or load the cached result.

    Args:
        name: Cache name (letters, digits, ``_-.``); files are named after it.
        build_model: Function of no arguments returning a *compiled* model.
        x: Training inputs (array), or a ``tf.data.Dataset`` / generator (then
            pass ``data_key`` to say what it contains).
        y: Training targets, unless ``x`` yields them.
        validation_data: ``(x_val, y_val)``, taken from the training set.
        epochs: Number of epochs (an upper bound when early stopping).
        batch_size: Batch size (ignored for datasets).
        callbacks: Keras callbacks; their settings are part of the fingerprint.
        seed: Random seed for weights, shuffling and dropout; recorded.
        test_data: Optional ``(x_test, y_test)``; evaluated once after training
            and recorded in the manifest, never used for training decisions.
        steps_per_epoch: Steps per epoch for generators.
        shuffle: Shuffle the training data each epoch.
        data_key: Extra identifier of the data, required for non-array ``x``.
        description: Free text stored in the manifest (what the run is).
        exercise: The exercise the run answers (``"6.2"``, ``"Part 1.1"``), stored
            in the manifest with the notebook that called (not part of the key).
        return_model: If False, a cache hit skips loading the model (faster for
            sweeps that only need the curves) and returns ``(None, history)``.
        keep_model: If False, store only the history and the manifest entry
            (metrics included), not the model file: for large sweeps whose
            models are never reused. Requires ``return_model=False``.
        verbose: Keras verbosity while training (2: one line per epoch).
        mode: Override the cache mode (``train``, ``retrain``, ``require``).
        cache_dir: Override the cache folder.

    Returns:
        ``(model, history)``; ``history`` is a dict of lists of floats.

    Raises:
        CacheMiss: In require-cache mode, when the entry is missing or stale.
        CacheCorrupt: In require-cache mode, when a cached file is damaged.
        TypeError: When ``build_model`` does not return a compiled model.
    """
    mode = mode or settings.cache_mode()
    if mode not in settings.MODES:
        raise ValueError(f"mode must be one of {settings.MODES}")
    _check_call(x, y, validation_data, test_data, data_key, keep_model, return_model)
    store = cache.Cache.at(cache_dir)
    random_states = seeding.random_states()  # a cache hit gives them back as the notebook set them
    model = _build(build_model, seed)
    check_against_model(model, x, y)
    fit_params = {
        "epochs": min(epochs, 1) if settings.smoke_mode() else epochs,
        "batch_size": batch_size,
        "steps_per_epoch": steps_per_epoch,
        "shuffle": shuffle,
        "seed": seed,
    }
    callbacks, data = list(callbacks), {"x": x, "y": y, "validation": validation_data, "key": data_key}
    initial = fingerprint.initial_weights(model, seed)
    spec = fingerprint.build_spec(model, data=data, fit=fit_params, callbacks=callbacks, initial_weights=initial)
    digest = fingerprint.spec_digest(spec)
    described = {"description": description, "exercise": exercise, "verbose": verbose, "keep_model": keep_model}
    p = store.paths(name)
    job = _Job(name, p, spec, digest, x, y, validation_data, test_data, callbacks, fit_params, **described)

    retrain = mode == "retrain" or (mode == "train" and settings.forced_retrain(name))
    retrain = retrain and (str(p["manifest"]), digest) not in _RETRAINED  # each run once per process
    found, recheck = (None, False) if retrain else _lookup(store, job, model, mode, return_model)
    if found is None:
        p["partial"].parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(p["partial"]) + ".lock"):  # one process per name: two runs' files never mix
            found = _trained_meanwhile(store, job, model, return_model) if recheck else None
            if found is None:
                if not recheck:  # a retrain, or files found unusable: from scratch, never a leftover state
                    shutil.rmtree(p["partial"], ignore_errors=True)
                model, history = _train(job, model)
                if retrain:
                    _RETRAINED.add((str(p["manifest"]), digest))
                return (model if return_model else None), history
    seeding.set_random_states(random_states)
    return found


def _check_call(x, y, validation_data, test_data, data_key: str | None, keep_model: bool, return_model: bool) -> None:
    """Refuse a call :func:`fit_cached` cannot key or store, with one line saying why."""
    if not _is_array_data(x) and data_key is None:
        raise ValueError("x is not an array: pass data_key='...' to identify its content")
    if not keep_model and return_model:
        raise ValueError("keep_model=False stores no model file: pass return_model=False as well")
    check_training_arrays(x, y, validation_data, test_data)
    if keras_limits_problem():
        raise TrainingForbidden(keras_limits_problem())


def _lookup(
    store: cache.Cache, job: _Job, model: keras.Model, mode: str, return_model: bool
) -> tuple[tuple | None, bool]:
    """The cache's answer for ``job``: a hit's ``(model, history)``, or None and whether to look again under the lock.

    A version-1 entry of the same experiment is migrated to the current key. In
    require mode a miss, a stale entry or damaged files raise; otherwise they
    are reported and the run is trained. Files found damaged or refused are not
    looked at again (the second value is False).
    """
    name, p, digest = job.name, job.paths, job.digest
    entry = cache.read_manifest(p["manifest"])
    if entry is None:
        if mode == "require":
            raise cache.CacheMiss(
                f"no cached artifact {name!r}{cache.trained_elsewhere(name)}: train it first "
                "(stop_training = False, or IMGCLS_CACHE_MODE=train), then re-run with stop_training = True"
            )
        return None, True
    if entry.get("fingerprint") != digest and not entry.get("key_version"):  # only then: is it a v1 key?
        if entry.get("fingerprint") == fingerprint.spec_digest(fingerprint.legacy_spec(model, job.spec)):
            entry = _migrate(name, p["manifest"], entry, job.spec, digest, write=mode != "require")
    if entry.get("fingerprint") != digest:
        changes = "; ".join(fingerprint.describe_changes(entry.get("spec", {}), job.spec))
        if mode == "require":
            raise cache.CacheMiss(f"cached artifact {name!r} is stale: " + (changes or "fingerprint differs"))
        print(f"[cache] {name} is stale ({changes}) -> retraining")
        return None, True
    problems = store.damaged(name, entry)
    if not problems:
        try:
            found = store.load(name, fingerprint.custom_objects(model), with_model=return_model)
            if mode != "require":
                _record_origin(p["manifest"], entry, job.exercise)
            if job.verbose:
                print(f"[cache] loaded {name} (trained in {entry.get('training_seconds', 0):.0f} s)")
            return found, False
        except cache.ModelRefused as err:
            if mode == "require":
                raise cache.ModelRefused(f"cached artifact {name!r} {err}") from None
            problems = [str(err)]
        except cache.CacheCorrupt as err:
            problems = [str(err)]
    if mode == "require":
        raise cache.CacheCorrupt(f"cached artifact {name!r} is damaged: " + "; ".join(problems))
    print(f"[cache] {name}: " + "; ".join(problems) + " -> retraining")
    return None, False


def _trained_meanwhile(store: cache.Cache, job: _Job, model: keras.Model, return_model: bool) -> tuple | None:
    """The run another process finished while this one waited for its lock, or None."""
    entry = cache.read_manifest(job.paths["manifest"])
    if entry is None or entry.get("fingerprint") != job.digest or store.damaged(job.name, entry):
        return None
    print(f"[cache] loaded {job.name} (trained meanwhile by another process)")
    return store.load(job.name, fingerprint.custom_objects(model), with_model=return_model)


def _migrate(name: str, manifest: Any, entry: dict, spec: dict, digest: str, *, write: bool) -> dict:
    """Re-key a version-1 entry whose old key this very builder, data and seed still give.

    Nothing is retrained: the old key matching proves it is the same experiment.
    The manifest records the migration. With ``write=False`` (require mode) the
    entry is only served under the new key, and the files are left as they are.
    """
    migrated = dict(entry, spec=spec, fingerprint=digest, key_version=fingerprint.KEY_VERSION)
    migrated["migrations"] = [
        *entry.get("migrations", []),
        {
            "from_fingerprint": entry["fingerprint"],
            "to_key_version": fingerprint.KEY_VERSION,
            "at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "how": "old key recomputed from the same builder, data and seed and found equal; new key computed "
            "from the same; nothing retrained",
        },
    ]
    if write:
        cache.write_json_atomic(manifest, migrated)
        print(f"[cache] {name}: key migrated to version {fingerprint.KEY_VERSION} (no retraining)")
    return migrated


def _origin(exercise: str) -> dict[str, str]:
    """Where a run is asked for: the calling notebook and the exercise (what is known of them)."""
    origin = {"notebook": settings.current_notebook(), "exercise": exercise}
    return {key: value for key, value in origin.items() if value}


def _record_origin(manifest: Any, entry: dict, exercise: str) -> None:
    """Add the calling notebook and exercise to a served entry's manifest, if it lacks or differs in them.

    They describe the run and are not part of its key, so nothing is retrained;
    this is how entries trained before they were recorded get them.
    """
    origin = _origin(exercise)
    if any(entry.get(key) != value for key, value in origin.items()):
        noted = any(step.get("recorded") == "notebook, exercise" for step in entry.get("migrations", []))
        note = {
            "recorded": "notebook, exercise",
            "at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "how": "added from the notebook call that was served this entry; they are not part of the key; "
            "nothing retrained",
        }
        migrations = entry.get("migrations", []) + ([] if noted else [note])
        cache.write_json_atomic(manifest, {**entry, **origin, "migrations": migrations})


@dataclass
class _Job:
    """Everything one training run needs besides the model."""

    name: str
    paths: dict
    spec: dict
    digest: str
    x: Any
    y: Any
    validation_data: tuple | None
    test_data: tuple | None
    callbacks: list = field(default_factory=list)
    fit: dict = field(default_factory=dict)
    description: str = ""
    exercise: str = ""
    verbose: int = 2
    keep_model: bool = True


def _train(job: _Job, model: keras.Model) -> tuple[keras.Model, dict[str, list[float]]]:
    name, p, digest, fit_params = job.name, job.paths, job.digest, job.fit
    x, y, validation_data, test_data, user_callbacks = job.x, job.y, job.validation_data, job.test_data, job.callbacks
    resumed, history, seconds = _load_progress(p["partial"], digest)
    if resumed is not None:
        model = resumed
        print(f"[cache] resuming {name} from epoch {len(history.get('loss', []))}")
    else:
        print(f"[cache] training {name} for up to {fit_params['epochs']} epochs")
    initial_epoch = len(history.get("loss", []))
    model.steps_per_execution = DEFAULT_STEPS_PER_EXECUTION
    model.train_function = model.test_function = model.predict_function = None
    checkpoint = _EpochCheckpoint(p["partial"], digest, history, seconds)
    all_callbacks = [*user_callbacks, _RestoreCallbackState(user_callbacks, history), checkpoint]
    keras.utils.set_random_seed(fit_params["seed"] + initial_epoch)
    t0 = time.perf_counter()
    if initial_epoch < fit_params["epochs"]:
        model.fit(
            x,
            y,
            validation_data=validation_data,
            validation_batch_size=VALIDATION_BATCH_SIZE if _is_array_data(x) else None,
            epochs=fit_params["epochs"],
            initial_epoch=initial_epoch,
            batch_size=fit_params["batch_size"] if _is_array_data(x) else None,
            steps_per_epoch=fit_params["steps_per_epoch"],
            shuffle=fit_params["shuffle"] if _is_array_data(x) else False,
            callbacks=all_callbacks,
            verbose=job.verbose,
        )
    history = cache.clean_history(checkpoint.history)
    training_seconds = seconds + time.perf_counter() - t0
    model.steps_per_execution = 1  # as it will be when loaded; rebuild the compiled functions
    model.train_function = model.test_function = model.predict_function = None
    metrics = summarize_history(history)
    if validation_data is not None and _is_array_data(validation_data[0]):
        saved = model.evaluate(*validation_data, batch_size=512, verbose=0, return_dict=True)
        metrics["saved_model_val"] = {k: float(v) for k, v in saved.items()}
    if test_data is not None:
        test = model.evaluate(*test_data, batch_size=512, verbose=0, return_dict=True)
        metrics["test"] = {k: float(v) for k, v in test.items()}

    stored = ("model", "history") if job.keep_model else ("history",)
    if job.keep_model:
        with cache.atomic_path(p["model"]) as tmp:
            model.save(tmp)
    else:
        p["model"].unlink(missing_ok=True)
    cache.dump_history(p["history"], history)
    entry = {
        "name": name,
        "description": job.description,
        **_origin(job.exercise),
        "fingerprint": digest,
        "key_version": fingerprint.KEY_VERSION,
        "spec": job.spec,
        "seed": fit_params["seed"],
        "epochs_run": len(history.get("loss", [])),
        "training_seconds": round(training_seconds, 2),
        "trained_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": library_versions(),
        "machine": machine_description(),
        "data": _describe_data(x, y, validation_data, test_data),
        "metrics": metrics,
        "model_stored": job.keep_model,
        "files": {
            kind: {"path": str(p[kind].relative_to(p[kind].parent.parent)), "sha256": cache.sha256_file(p[kind])}
            for kind in stored
        },
    }
    cache.write_json_atomic(p["manifest"], entry)
    shutil.rmtree(p["partial"], ignore_errors=True)
    print(f"[cache] stored {name} ({training_seconds:.0f} s): " + json.dumps(_rounded(metrics.get("best", {}))))
    return model, history


def _rounded(d: dict) -> dict:
    return {k: round(v, 4) for k, v in d.items()}


def _describe_data(x, y, validation_data, test_data) -> dict:
    def shape(a):
        return list(a.shape) if isinstance(a, np.ndarray) else type(a).__name__

    out = {"x": shape(x), "y": shape(y) if y is not None else None}
    if validation_data is not None:
        out["validation"] = [shape(a) for a in validation_data]
    if test_data is not None:
        out["test"] = [shape(a) for a in test_data]
        out["test_fingerprint"] = fingerprint.data_fingerprint(list(test_data))
    return out
