"""Loading a ``.keras`` file that does not trust the file.

``keras.models.load_model(..., safe_mode=True)`` refuses Python lambdas, but a
crafted ``config.json`` can still name Keras API functions (for example
``keras.config.set_max_epochs``) that run while the model is rebuilt. So before
Keras sees a file, :func:`check_keras_file`

1. reads ``config.json`` from the zip with a size cap (no zip bombs),
2. walks it against an allow-list: any class of Keras' public API (layers,
   optimizers and their schedules, losses, metrics, initializers, regularizers,
   constraints) except those that run code (``Lambda`` and the wrappers of other
   frameworks' code), each with only the arguments that class takes; functions
   only by the name of a Keras activation, loss or metric; and custom objects
   only when the running notebook defined them and passes them in,
3. for functional models, refuses any layer that is not on a path from the
   model's inputs to its outputs.

Only then is the file loaded, with ``safe_mode=True``.
"""

from __future__ import annotations

import functools
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.errors import OneLineError

CONFIG_CAP = 8 * 2**20  # bytes of config.json; the suite's largest is about 60 kB
ZIP_MEMBERS = {"config.json", "metadata.json", "model.weights.h5", "assets"}


class UnsafeModelFile(OneLineError, ValueError):
    """A ``.keras`` file holds something that could run code, or that the running notebook did not define."""


class CustomObjectNeeded(UnsafeModelFile):
    """A ``.keras`` file uses a class of the student's own, which only their notebook can define."""


#: Public Keras classes that run code given to them, never loaded from a file.
RUNS_CODE = {"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"}
#: Where Keras' public classes live, as its files name them in ``module``.
PUBLIC_MODULES = (
    "keras.layers",
    "keras.optimizers",
    "keras.optimizers.schedules",
    "keras.losses",
    "keras.metrics",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
)
#: Keras modules whose public functions a file may name (as ``activation="relu"`` or a ``function`` node).
FUNCTION_MODULES = ("keras.activations", "keras.losses", "keras.metrics")


def _prototypes() -> dict[tuple[str, str], Callable[[], Any]]:
    """The classes the suite's models are made of, each with a factory for a default instance."""
    import keras
    from keras import layers

    return {
        ("keras", "Sequential"): lambda: keras.Sequential(),
        ("keras", "Functional"): None,  # checked by _check_functional, arguments fixed below
        ("keras.src.models.functional", "Functional"): None,
        ("keras", "DTypePolicy"): lambda: keras.DTypePolicy("float32"),
        ("keras.layers", "InputLayer"): lambda: layers.InputLayer(shape=(1,)),
        ("keras.layers", "Dense"): lambda: layers.Dense(1),
        ("keras.layers", "Conv2D"): lambda: layers.Conv2D(1, 1),
        ("keras.layers", "MaxPooling2D"): lambda: layers.MaxPooling2D(),
        ("keras.layers", "AveragePooling2D"): lambda: layers.AveragePooling2D(2),
        ("keras.layers", "GlobalAveragePooling2D"): lambda: layers.GlobalAveragePooling2D(),
        ("keras.layers", "Flatten"): lambda: layers.Flatten(),
        ("keras.layers", "ZeroPadding2D"): lambda: layers.ZeroPadding2D(),  # DenseNet121 bases (notebook 10)
        ("keras.layers", "Concatenate"): lambda: layers.Concatenate(),
        ("keras.layers", "Dropout"): lambda: layers.Dropout(0.1),
        ("keras.layers", "Activation"): lambda: layers.Activation("relu"),
        ("keras.layers", "BatchNormalization"): lambda: layers.BatchNormalization(),
        ("keras.layers", "Rescaling"): lambda: layers.Rescaling(1.0),
        ("keras.layers", "RandomFlip"): lambda: layers.RandomFlip(),
        ("keras.layers", "RandomTranslation"): lambda: layers.RandomTranslation(0.1, 0.1),
        ("keras.layers", "RandomRotation"): lambda: layers.RandomRotation(0.1),
        ("keras.layers", "RandomZoom"): lambda: layers.RandomZoom(0.1),
        ("keras.layers", "RandomErasing"): lambda: layers.RandomErasing(),
        ("keras.initializers", "GlorotUniform"): lambda: keras.initializers.GlorotUniform(),
        ("keras.initializers", "HeNormal"): lambda: keras.initializers.HeNormal(),
        ("keras.initializers", "RandomNormal"): lambda: keras.initializers.RandomNormal(),
        ("keras.initializers", "Zeros"): lambda: keras.initializers.Zeros(),
        ("keras.initializers", "Ones"): lambda: keras.initializers.Ones(),
        ("keras.regularizers", "L2"): lambda: keras.regularizers.L2(0.01),
        ("keras.losses", "CategoricalCrossentropy"): lambda: keras.losses.CategoricalCrossentropy(),
        ("keras.optimizers", "Adam"): lambda: keras.optimizers.Adam(),
        ("keras.optimizers", "SGD"): lambda: keras.optimizers.SGD(),
        ("keras.optimizers.schedules", "CosineDecay"): lambda: keras.optimizers.schedules.CosineDecay(0.1, 10),
    }


FUNCTIONAL_ARGS = {"name", "trainable", "layers", "input_layers", "output_layers"}
# keys Keras adds around a class's own config when it serialises an object
WRAPPER_KEYS = {"module", "class_name", "config", "registered_name", "build_config", "compile_config"}
WRAPPER_KEYS |= {"shared_object_id", "name", "inbound_nodes"}


def _init_arguments(cls: type) -> set[str]:
    """The named arguments of a class's ``__init__`` and of its bases' (Keras passes ``**kwargs`` up)."""
    import inspect

    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            continue
        names |= {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"}
    return names


@functools.cache
def public_classes() -> dict[tuple[str, str], type]:
    """Keras' public classes by ``(module, class name)`` as its files name them, without those that run code."""
    import importlib
    import inspect

    found = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for attr in dir(module):
            cls = getattr(module, attr)
            if inspect.isclass(cls) and cls.__name__ not in RUNS_CODE and not attr.startswith("_"):
                found[(module_name, cls.__name__)] = cls
    return found


@functools.cache
def allowed_arguments(key: tuple[str, str]) -> frozenset[str] | None:
    """The argument names an allowed class takes (computed from Keras itself), or None when it is not allowed.

    A class the suite builds allows what its own ``get_config()`` writes; any
    other public class allows the arguments of its ``__init__`` and its bases',
    and what a default instance's ``get_config()`` writes, when it has one.
    """
    prototypes = _prototypes()
    if key in prototypes and prototypes[key] is None:
        return frozenset(FUNCTIONAL_ARGS)
    cls = public_classes().get(key)
    if key not in prototypes and cls is None:
        return None
    base = {"name", "trainable", "dtype", "autocast", "build_input_shape", "input_shape", "batch_input_shape"}
    names = set(base)
    if cls is not None:
        names |= _init_arguments(cls)
    make = prototypes.get(key) or cls
    try:
        names |= set(make().get_config())
    except Exception:  # a class whose arguments have no defaults: its __init__ names them
        pass
    if key[1] == "Sequential":
        names.add("build_input_shape")
    return frozenset(names)


@functools.cache
def keras_functions() -> frozenset[str]:
    """Names of the public functions of Keras' activations, losses and metrics."""
    import importlib
    import inspect

    return frozenset(
        name
        for module_name in FUNCTION_MODULES
        for name, obj in vars(importlib.import_module(module_name)).items()
        if inspect.isfunction(obj) and not name.startswith("_")
    )


def read_config(path: Path) -> dict:
    """``config.json`` of a ``.keras`` zip, read with a size cap.

    Raises:
        UnsafeModelFile: Not a zip, unexpected members, or a config over the cap or not JSON.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            unexpected = [n for n in names if n.split("/")[0] not in ZIP_MEMBERS]
            if unexpected or "config.json" not in names:
                raise UnsafeModelFile(f"{path.name}: unexpected zip contents {sorted(unexpected)[:3]}")
            with archive.open("config.json") as fh:
                raw = fh.read(CONFIG_CAP + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError) as err:
        raise UnsafeModelFile(f"{path.name}: not a .keras zip ({err})") from None
    if len(raw) > CONFIG_CAP:
        raise UnsafeModelFile(f"{path.name}: config.json is larger than {CONFIG_CAP} bytes")
    try:
        config = json.loads(raw)
    except ValueError as err:
        raise UnsafeModelFile(f"{path.name}: config.json is not JSON ({err})") from None
    if not isinstance(config, dict):
        raise UnsafeModelFile(f"{path.name}: config.json is not an object")
    return config


def _check_object(node: dict, where: str, custom: frozenset[str]) -> None:
    key = (node.get("module"), node.get("class_name"))
    if key[1] == "__keras_tensor__" and "Functional" in where:
        return  # a link between layers in a functional model; its history is checked by _check_functional
    if key[1] == "function":
        _check_function(node, where, custom)
        return
    if key[1] in RUNS_CODE:
        raise UnsafeModelFile(f"{where}: uses {key[1]}, which can run code")
    if key[1] == "__lambda__":
        raise UnsafeModelFile(f"{where}: holds a Python lambda, which can run code")
    registered = node.get("registered_name")
    allowed = allowed_arguments(key)
    if registered not in (None, key[1]) or allowed is None:
        own = registered if registered not in (None, "function") else key[1]
        if own in custom:
            return  # the running notebook defined it and passed it in: loading it runs no code but the notebook's
        if registered not in (None, key[1]) or not str(key[0]).startswith("keras"):
            raise CustomObjectNeeded(f"{where}: uses the custom object {own!r}, which this notebook did not define")
        raise UnsafeModelFile(
            f"{where}: uses {key[1]!r} from {key[0]!r}, which is not a Keras class and not one this notebook defined"
        )
    config = node.get("config")
    if not isinstance(config, dict):
        raise UnsafeModelFile(f"{where}: {key[1]} has no argument dictionary")
    unknown = set(config) - allowed
    if unknown:
        raise UnsafeModelFile(f"{where}: {key[1]} has arguments it never takes: {sorted(unknown)}")
    extra = set(node) - WRAPPER_KEYS
    if extra:
        raise UnsafeModelFile(f"{where}: unexpected keys {sorted(extra)} around {key[1]}")
    if key[1] == "Functional":
        _check_functional(config, where)


def _check_function(node: dict, where: str, custom: frozenset[str]) -> None:
    """A function is named, never defined, by a file: a Keras activation, loss or metric, or the notebook's own."""
    name = node.get("config")
    if not isinstance(name, str):
        raise UnsafeModelFile(f"{where}: a function reference without a name")
    if name in custom:
        return
    if node.get("module") not in ("builtins", *FUNCTION_MODULES) or name not in keras_functions():
        raise UnsafeModelFile(
            f"{where}: names the function {node.get('module')}.{name}, which is not a Keras activation, loss or metric"
        )


def _walk(node: Any, where: str, custom: frozenset[str] = frozenset()) -> None:
    if isinstance(node, dict):
        if "class_name" in node:
            _check_object(node, where, custom)
            where = f"{where}/{node.get('class_name')}"
        for name, value in node.items():
            _walk(value, f"{where}.{name}" if not isinstance(value, (dict, list)) else where, custom)
    elif isinstance(node, list):
        for value in node:
            _walk(value, where, custom)


def _check_functional(config: dict, where: str) -> None:
    """Every layer of a functional model lies on a path from its inputs to its outputs."""
    layers = {layer.get("name"): layer for layer in config.get("layers", []) if isinstance(layer, dict)}
    parents: dict[str, set[str]] = {}
    for name, layer in layers.items():
        found: set[str] = set()

        def collect(node: Any, found: set[str] = found) -> None:
            if isinstance(node, dict):
                history = node.get("config", {}).get("keras_history") if isinstance(node.get("config"), dict) else None
                if node.get("class_name") == "__keras_tensor__" and history:
                    found.add(history[0])
                for value in node.values():
                    collect(value)
            elif isinstance(node, list):
                for value in node:
                    collect(value)

        collect(layer.get("inbound_nodes", []))
        parents[name] = found
    outputs, inputs = _layer_names(config.get("output_layers")), _layer_names(config.get("input_layers"))
    reached, stack = set(), list(outputs)
    while stack:
        name = stack.pop()
        if name in reached:
            continue
        reached.add(name)
        stack.extend(parents.get(name, ()))
    loose = set(layers) - reached
    if loose or not inputs <= reached:
        raise UnsafeModelFile(f"{where}: layers {sorted(loose)[:5]} are not connected from the inputs to the outputs")


def _layer_names(spec: Any) -> set[str]:
    """Layer names in ``input_layers``/``output_layers``: ``[name, 0, 0]`` or a list of such."""
    if isinstance(spec, list) and spec and isinstance(spec[0], str):
        return {spec[0]}
    return {item[0] for item in spec or [] if isinstance(item, list) and item and isinstance(item[0], str)}


def check_keras_file(path: str | Path, custom: frozenset[str] | set[str] = frozenset()) -> dict:
    """Refuse a ``.keras`` file that holds anything that could run code; return its config.

    Args:
        path: The ``.keras`` file.
        custom: Names of the custom objects the running notebook defined and passes
            to Keras (class names, registered names, function names).

    Raises:
        UnsafeModelFile: With one line saying what was found where.
    """
    path = Path(path)
    config = read_config(path)
    _walk(config, path.name, frozenset(custom))
    return config
