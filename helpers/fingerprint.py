"""Content fingerprints of models, data and fit parameters for the training cache.

A cache entry is valid only for the exact model, compile settings, data and fit
parameters that produced it. Each part is hashed separately so that a cache miss
can say *what* changed.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from typing import Any

import keras
import numpy as np

# Settings that change speed but not the numbers a model learns.
_SPEED_ONLY_COMPILE_KEYS = {"steps_per_execution", "jit_compile", "run_eagerly"}
# Constructor arguments of the callbacks we know, as far as they change training.
_CALLBACK_KEYS = (
    "monitor",
    "patience",
    "min_delta",
    "mode",
    "baseline",
    "restore_best_weights",
    "start_from_epoch",
    "factor",
    "cooldown",
    "min_lr",
    "swap_on_epoch",
)


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def array_fingerprint(array: np.ndarray) -> str:
    """Hash an array's dtype, shape and bytes, at every call.

    No memo: an array edited in place between two calls must change its
    fingerprint. The cost is one pass over the bytes (measured: 0.38 s for the
    144 MiB of 48 000 flattened float32 images on the 2-core reference machine).
    """
    arr = np.ascontiguousarray(array)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def data_fingerprint(data: Any) -> Any:
    """Fingerprint arrays, tuples/lists of arrays, or ``None``.

    Anything else (a ``tf.data.Dataset``, a generator) cannot be hashed by
    content; it is described by its type, so callers must pass a ``data_key``.
    """
    if data is None:
        return None
    if isinstance(data, np.ndarray):
        return array_fingerprint(data)
    if isinstance(data, (tuple, list)):
        return [data_fingerprint(d) for d in data]
    return f"opaque:{type(data).__name__}"


_NOT_NAMED_OBJECTS = {"DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy"}


# Version of the cache key. 1: names inside tuples (a functional model's ``keras_history``) were left
# raw, and the initial weights were not keyed. 2: both fixed. Version-1 entries are migrated in place
# (see ``helpers.training``), never retrained.
KEY_VERSION = 2


def _collect_names(obj: Any, names: dict[str, None], legacy: bool = False) -> None:
    if isinstance(obj, dict):
        config = obj.get("config")
        if "class_name" in obj and isinstance(config, dict) and obj["class_name"] not in _NOT_NAMED_OBJECTS:
            if isinstance(config.get("name"), str):
                names.setdefault(config["name"], None)
        for value in obj.values():
            _collect_names(value, names, legacy)
    elif isinstance(obj, list) or (isinstance(obj, tuple) and not legacy):
        for value in obj:
            _collect_names(value, names, legacy)


def _rename(obj: Any, mapping: dict[str, str], legacy: bool) -> Any:
    if isinstance(obj, dict):
        return {k: _rename(v, mapping, legacy) for k, v in obj.items()}
    if isinstance(obj, list) or (isinstance(obj, tuple) and not legacy):
        return [_rename(v, mapping, legacy) for v in obj]
    if isinstance(obj, str):
        return mapping.get(obj, obj)
    return obj


def canonical_names(config: dict, *, top_name: str | None = None, legacy: bool = False) -> dict:
    """Replace the names of layers, models and optimizers by their position.

    Keras numbers auto-generated names (``dense_7``, ``sgd_3``) by how many
    objects the session has made, so raw configs would change with cell order.
    This includes the names a functional model's ``inbound_nodes`` refer to
    (``keras_history`` tuples). ``legacy=True`` reproduces key version 1, which
    left names inside tuples raw; it exists only to migrate old entries.
    """
    names: dict[str, None] = {}
    if top_name:
        names[top_name] = None
    _collect_names(config, names, legacy)
    return _rename(config, {name: f"<obj{i}>" for i, name in enumerate(names)}, legacy)


def architecture_config(model: Any, *, legacy: bool = False) -> dict:
    """Return ``model.get_config()`` with layer names replaced by their position."""
    return canonical_names(model.get_config(), top_name=model.name, legacy=legacy)


def compile_config(model: Any, *, legacy: bool = False) -> dict:
    """Return the compile config without settings that only affect speed."""
    config = dict(model.get_compile_config() or {})
    for key in _SPEED_ONLY_COMPILE_KEYS:
        config.pop(key, None)
    return canonical_names(config, legacy=legacy)


def weights_fingerprint(weights: list[np.ndarray]) -> str:
    """Hash a list of weight arrays (dtype, shape and bytes of each, in order)."""
    h = hashlib.blake2b(digest_size=16)
    for w in weights:
        h.update(array_fingerprint(np.asarray(w)).encode())
    return h.hexdigest()


def initial_weights(model: Any, seed: int) -> str | None:
    """Fingerprint of the weights the builder returned, unless they are the seed's default initialisation.

    The key must change when a builder sets weights itself (pretrained weights,
    ``set_weights``, another initialisation). Weights that a fresh copy of the
    same architecture gets under the same seed add nothing to the key (they
    follow from architecture and seed), and leaving them out keeps the key the
    same across library versions and backends, whose random streams differ.

    The seed's default weights are found by rebuilding the model from its
    config under the seed, which Keras makes slow for a deep ``Sequential``
    (it re-traces after every layer). Their fingerprint is therefore kept per
    architecture (layer names by position) and seed for the life of the
    process: a grid of many runs of one architecture rebuilds it once per seed.

    Args:
        model: The model just returned by the builder.
        seed: The seed set before the builder ran.

    Returns:
        ``None`` for the default initialisation, else a hash of all weights
        (trainable and not, e.g. batch-norm statistics).
    """
    built = weights_fingerprint(model.get_weights())
    return None if built == _default_weights(model, seed) else built


# Fingerprints of the seed's default weights, per (model class, architecture, seed); see initial_weights.
_DEFAULT_WEIGHTS: dict[tuple[str, str, int], str] = {}
_DEFAULT_WEIGHTS_MAX = 1024


def _default_weights(model: Any, seed: int) -> str | None:
    """Fingerprint of the weights a copy of ``model`` rebuilt from its config gets under ``seed``.

    ``None`` when the model cannot be rebuilt from its config (it is then keyed by its weights; not kept, so
    a later call tries again). Kept only when the architecture is plain JSON, so that two architectures
    never share one entry.
    """
    from helpers.seeding import seeded_build

    try:
        architecture = json.dumps(architecture_config(model), sort_keys=True, separators=(",", ":"))
        memo_key = (
            type(model).__module__ + "." + type(model).__qualname__,
            hashlib.sha256(architecture.encode()).hexdigest(),
            seed,
        )
    except Exception:  # noqa: BLE001 - a config that is not plain JSON, or none at all: not remembered
        memo_key = None
    if memo_key is not None and memo_key in _DEFAULT_WEIGHTS:
        return _DEFAULT_WEIGHTS[memo_key]
    try:
        with seeded_build(seed):
            reference = weights_fingerprint(type(model).from_config(model.get_config()).get_weights())
    except Exception:  # noqa: BLE001 - a model that cannot be rebuilt from its config is keyed by its weights
        return None
    if memo_key is not None:
        if len(_DEFAULT_WEIGHTS) >= _DEFAULT_WEIGHTS_MAX:
            _DEFAULT_WEIGHTS.pop(next(iter(_DEFAULT_WEIGHTS)))
        _DEFAULT_WEIGHTS[memo_key] = reference
    return reference


def code_fingerprint(obj: Any) -> str:
    """Hash Python code by its source and the values it closes over or defaults to.

    Two closures with the same source but other captured values (``lr = 0.1``
    vs ``0.01``) get different fingerprints.

    Raises:
        TypeError: When the source cannot be read (code typed at a prompt, a C
            function): such code cannot be told apart from a changed version.
    """
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):
        raise TypeError(
            f"cannot fingerprint {getattr(obj, '__qualname__', obj)!r}: its source is not readable; "
            "define it in a notebook cell or module, or give the run a new name for each variant"
        ) from None
    captured = [cell.cell_contents for cell in getattr(obj, "__closure__", None) or () if _has_contents(cell)]
    extra = [repr(v) for v in captured] + [repr(getattr(obj, "__defaults__", None))]
    return hashlib.sha256("\n".join([source, *extra]).encode()).hexdigest()[:16]


def _has_contents(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _is_custom(obj: Any) -> bool:
    """Code of the user's own (not from Keras, TensorFlow or the standard library)."""
    module = getattr(obj, "__module__", None) or getattr(type(obj), "__module__", "")
    return module.split(".")[0] not in {"keras", "tensorflow", "builtins", "helpers", "keras_tuner"}


def describe_callback(callback: Any) -> dict:
    """Describe a callback by its class and the arguments that change training.

    A custom callback class also contributes its source and its simple settings,
    so editing it is a cache miss.
    """
    desc: dict[str, Any] = {"class": type(callback).__name__}
    for key in _CALLBACK_KEYS:
        if hasattr(callback, key):
            desc[key] = getattr(callback, key)
    schedule = getattr(callback, "schedule", None)
    if callable(schedule):
        try:
            source = inspect.getsource(schedule)
            desc["schedule"] = hashlib.sha256(source.encode()).hexdigest()[:16]
        except (OSError, TypeError):
            desc["schedule"] = getattr(schedule, "__qualname__", repr(schedule))
        captured = [cell.cell_contents for cell in getattr(schedule, "__closure__", None) or () if _has_contents(cell)]
        if captured or getattr(schedule, "__defaults__", None):  # only then: older entries keep their keys
            desc["schedule_values"] = repr([*captured, getattr(schedule, "__defaults__", None)])
    if _is_custom(callback):
        settings = {k: v for k, v in vars(callback).items() if isinstance(v, (int, float, str, bool, type(None)))}
        desc["code"] = code_fingerprint(type(callback))
        desc["settings"] = settings
    return desc


def custom_code(model: Any) -> dict[str, str]:
    """Fingerprints of the user's own loss and metric functions or classes the model was compiled with."""
    found = {}
    candidates = {"loss": getattr(model, "loss", None)}
    metrics = getattr(model, "_compile_metrics", None)
    for i, metric in enumerate(getattr(metrics, "_user_metrics", None) or []):
        candidates[f"metric{i}"] = metric
    for label, obj in candidates.items():
        if obj is None or isinstance(obj, str) or not _is_custom(obj):
            continue
        target = obj if inspect.isfunction(obj) or inspect.isclass(obj) else type(obj)
        found[label] = code_fingerprint(target)
    return found


def custom_objects(model: Any) -> dict[str, Any]:
    """The user's own classes and functions a model is made of, by the names a ``.keras`` file gives them.

    Layers (at any depth), their activations, the optimizer, the loss and the
    metrics: what :func:`helpers.cache.load_model` may load because the running
    notebook defined it.
    """
    candidates: list[Any] = [getattr(model, "optimizer", None), getattr(model, "loss", None)]
    metrics = getattr(model, "_compile_metrics", None)
    candidates += list(getattr(metrics, "_user_metrics", None) or [])
    for layer in model._flatten_layers(include_self=False, recursive=True):
        candidates += [layer, getattr(layer, "activation", None)]
    found = {}
    for obj in candidates:
        if obj is None or isinstance(obj, str) or not _is_custom(obj):
            continue
        target = obj if inspect.isfunction(obj) or inspect.isclass(obj) else type(obj)
        found[target.__name__] = target
        found[keras.saving.get_registered_name(target)] = target
    return found


def spec_digest(spec: dict) -> str:
    """Return the fingerprint of a whole cache spec (see :func:`build_spec`)."""
    return _digest(spec)


def build_spec(
    model: Any,
    *,
    data: dict[str, Any],
    fit: dict[str, Any],
    callbacks: list[Any],
    initial_weights: str | None = None,
    legacy: bool = False,
) -> dict:
    """Collect everything a cached result depends on, hashed part by part.

    Args:
        model: The freshly built, compiled model.
        data: ``{"x": ..., "y": ..., "validation": ..., "key": ...}``.
        fit: Fit parameters (epochs, batch size, seed, ...).
        callbacks: The user's callbacks.
        initial_weights: See :func:`initial_weights`; keyed only when not None.
        legacy: Compute the version-1 key instead (to recognise old entries).

    Returns:
        A JSON-able dict; equal dicts mean an equal training run.
    """
    spec = {
        "architecture": _digest(architecture_config(model, legacy=legacy)),
        "compile": _digest(compile_config(model, legacy=legacy)),
        "data": {k: data_fingerprint(v) if k != "key" else v for k, v in data.items()},
        "fit": fit,
        "callbacks": [describe_callback(cb) for cb in callbacks],
    }
    code = custom_code(model)
    if code:  # only then, so that entries without custom code keep their keys
        spec["custom_code"] = code
    if initial_weights is not None and not legacy:
        spec["initial_weights"] = initial_weights
    return spec


def legacy_spec(model: Any, spec: dict) -> dict:
    """The version-1 spec of the same run, from its current spec (data and fit parts are shared, not rehashed)."""
    old = {k: v for k, v in spec.items() if k != "initial_weights"}
    old["architecture"] = _digest(architecture_config(model, legacy=True))
    old["compile"] = _digest(compile_config(model, legacy=True))
    return old


def describe_changes(old: dict, new: dict) -> list[str]:
    """List the parts of two specs that differ, in words."""
    labels = {
        "architecture": "model architecture",
        "compile": "compile settings (optimizer, loss, metrics)",
        "data": "training/validation data",
        "callbacks": "callbacks",
        "custom_code": "custom loss or metric code",
        "initial_weights": "initial weights (set by the builder)",
    }
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "fit" and isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if a.get(k) != b.get(k):
                    changes.append(f"fit parameter {k}: {a.get(k)!r} -> {b.get(k)!r}")
        else:
            changes.append(f"{labels.get(key, key)} changed")
    return changes
