"""Files of the training cache: atomic writes, manifests and safe loading.

For a cache name ``NAME`` the cache folder holds

* ``saved_models/NAME.keras``: the trained model,
* ``histories/NAME.pkl``: the training history, a pickled ``dict`` of lists of
  floats, as ``model.fit(...).history`` returns it (seed compatible),
* ``histories/NAME.json``: the manifest entry, written last. It records the
  fingerprint, the SHA-256 of both files, the seed, library versions, training
  time and metrics. An artifact without a manifest entry does not exist.

Every file is written to a temporary name and renamed into place, so a run
killed mid-save never leaves a file that later loads as valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from helpers import safe_pickle, settings, shared_runs
from helpers.errors import OneLineError

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")


class CacheError(OneLineError, RuntimeError):
    """Base class of the cache's errors."""


class CacheMiss(CacheError):
    """Require-cache mode found no valid artifact (missing or stale)."""


class CacheCorrupt(CacheError):
    """A cached file is truncated, edited or unsafe."""


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe cache name, else raise ValueError."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or ".." in name:  # fullmatch: no "name\n"
        raise ValueError(
            f"cache name {name!r} must start with a letter or digit and use only letters, digits, '_', '-' and '.'"
        )
    return name


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it into place on success.

    The temporary name keeps ``target``'s suffix (Keras insists on ``.keras``).
    On any exception the temporary file is removed and ``target`` is untouched.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.tmp", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_json_atomic(target: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``target`` atomically."""
    write_bytes_atomic(target, (json.dumps(obj, indent=1, sort_keys=True, default=str) + "\n").encode())


def load_keyed_array(path: Path, key: str, field: str) -> Any:
    """Return array ``field`` of an ``.npz`` file written by :func:`save_keyed_array`.

    Returns None when the file is missing, damaged or stored under another key.
    The file is read with ``allow_pickle=False`` (plain arrays only).
    """
    import numpy as np

    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return stored[field] if str(stored["key"]) == key else None
    except (OSError, ValueError, KeyError):
        return None  # damaged file: the caller recomputes


def read_array_key(path: Path) -> str | None:
    """Return the key an ``.npz`` file of :func:`save_keyed_array` was stored under (None if unreadable)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as stored:
            return str(stored["key"])
    except (OSError, ValueError, KeyError):
        return None


def save_keyed_array(path: Path, key: str, field: str, array: Any) -> None:
    """Store ``array`` as ``field`` of an ``.npz`` file, with ``key``, atomically."""
    import numpy as np

    with atomic_path(path) as tmp:
        np.savez(tmp, **{field: array}, key=np.array(key))


def clean_history(history: dict) -> dict[str, list[float]]:
    """Return ``history`` as a plain ``dict[str, list[float]]``."""
    return {str(k): [float(v) for v in vals] for k, vals in history.items()}


def dump_history(target: Path, history: dict) -> None:
    """Pickle a history dict of float lists atomically."""
    write_bytes_atomic(target, pickle.dumps(clean_history(history), protocol=4))


def load_history(path: Path) -> dict[str, list[float]]:
    """Load a pickled history safely.

    Raises:
        CacheCorrupt: If the file is unsafe, truncated or not a dict of float lists.
    """
    try:
        with open(path, "rb") as fh:
            history = safe_pickle.load(fh)
    except safe_pickle.UnsafePickle as err:
        raise CacheCorrupt(f"{path}: {err}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as err:
        raise CacheCorrupt(f"{path}: truncated or corrupt pickle ({err})") from None
    except (MemoryError, OverflowError):  # a few bytes may declare a string of terabytes
        raise CacheCorrupt(f"{path}: the pickle declares an object too large to load") from None
    ok = isinstance(history, dict) and all(
        isinstance(k, str)
        and isinstance(v, list)
        and all(isinstance(x, float) or (type(x) is int and abs(x) < 2**53) for x in v)  # a float holds them
        for k, v in history.items()
    )
    if not ok:
        raise CacheCorrupt(f"{path}: not a dict of lists of numbers")
    return history


def read_manifest(path: Path) -> dict | None:
    """Return a manifest entry, or None if it is missing or unreadable."""
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        return None
    return entry if isinstance(entry, dict) else None


def model_stored(entry: dict) -> bool:
    """Whether a manifest entry has a model file (sweeps may keep the history only)."""
    return entry.get("model_stored", True) is not False


class ModelRefused(CacheCorrupt):
    """A cached model not loaded because it could run code, or needs objects the running notebook did not define."""


class CustomObjectRefused(ModelRefused):
    """A cached model that needs a class of its notebook's own: only that notebook's kernel can load it."""


def load_model(path: Path, custom_objects: dict[str, Any] | None = None) -> Any:
    """Load a ``.keras`` model after checking its config (:mod:`helpers.safe_load`), then with ``safe_mode=True``.

    Args:
        path: The ``.keras`` file.
        custom_objects: The running notebook's own classes and functions the model
            uses, by name; only these custom objects load.

    Raises:
        ModelRefused: The file uses something that could run code, or a custom
            object not in ``custom_objects``; one line says what.
        CacheCorrupt: The file cannot be loaded.
    """
    import keras

    from helpers import safe_load

    custom = dict(custom_objects or {})
    try:
        safe_load.check_keras_file(path, set(custom))
    except safe_load.CustomObjectNeeded as err:
        raise CustomObjectRefused(f"not loaded: {err}") from None
    except safe_load.UnsafeModelFile as err:
        raise ModelRefused(f"not loaded: {err}") from None
    try:
        return keras.models.load_model(path, safe_mode=True, custom_objects=custom or None)
    except Exception as err:  # Keras raises many types for a damaged zip
        reason = str(err).splitlines()[0][:200].replace(str(path), path.name) if str(err) else ""
        raise CacheCorrupt(f"{path.name} cannot be loaded ({type(err).__name__}: {reason})") from None


def trained_elsewhere(name: str) -> str:
    """For a run an earlier notebook trains: which notebook to finish first."""
    notebook = shared_runs.TRAINED_BY.get(name)
    return f": notebook {notebook} trains it; finish that notebook first" if notebook else ""


class Cache:
    """One training cache: ``saved_models/`` and ``histories/`` under a root passed in.

    The notebooks' cache is :meth:`at` with no root (``IMGCLS_CACHE_DIR``, else
    the project); grading opens one per student's handed-in folder.

    Args:
        root: The folder holding ``saved_models/`` and ``histories/``.
        partial_root: Where unfinished runs keep their resume state
            (default: ``IMGCLS_PARTIAL_DIR``, else ``ROOT/.cache/partial``).
    """

    def __init__(self, root: str | os.PathLike, partial_root: str | os.PathLike | None = None) -> None:
        self.root = Path(root)
        self.partial_root = Path(partial_root) if partial_root is not None else settings.partial_dir(self.root)

    @classmethod
    def at(cls, root: str | os.PathLike | None = None) -> Cache:
        """The cache at ``root``, or the settings' cache when ``root`` is None."""
        return cls(root if root is not None else settings.cache_dir())

    def paths(self, name: str) -> dict[str, Path]:
        """The model, history, manifest and resume-state paths of a cache name."""
        check_name(name)
        return {
            "model": self.root / "saved_models" / f"{name}.keras",
            "history": self.root / "histories" / f"{name}.pkl",
            "manifest": self.root / "histories" / f"{name}.json",
            "partial": self.partial_root / name,
        }

    def entries(self) -> dict[str, dict]:
        """Every manifest entry in the cache, keyed by name."""
        entries = {}
        for path in sorted((self.root / "histories").glob("*.json")):
            entry = read_manifest(path)
            if entry is not None and entry.get("name") == path.stem and _NAME_RE.fullmatch(path.stem):
                entries[path.stem] = entry
        return entries

    def manifest(self, name: str) -> dict:
        """The manifest entry of a cached run (training time, metrics, ...).

        Raises:
            CacheMiss: If there is no entry of that name.
        """
        entry = read_manifest(self.paths(name)["manifest"])
        if entry is None:
            raise CacheMiss(f"no cached artifact {name!r}{trained_elsewhere(name)}")
        return entry

    def damaged(self, name: str, entry: dict) -> list[str]:
        """Problems of an entry's files: missing, or not matching their recorded SHA-256 (empty when intact)."""
        problems = []
        p = self.paths(name)
        for kind in ("model", "history") if model_stored(entry) else ("history",):
            path = p[kind]
            recorded = entry.get("files", {}).get(kind, {}).get("sha256")
            if not path.is_file():
                problems.append(f"{path} is missing")
            elif recorded != sha256_file(path):
                problems.append(f"{path} does not match its recorded SHA-256 (truncated, edited or swapped)")
        return problems

    def load(
        self, name: str, custom_objects: dict[str, Any] | None = None, with_model: bool = True
    ) -> tuple[Any, dict[str, list[float]]]:
        """An entry's model (None unless ``with_model``) and history, from files already checked by :meth:`damaged`.

        Raises:
            ModelRefused: The model could run code, or needs objects not in ``custom_objects``.
            CacheCorrupt: A file cannot be read.
        """
        p = self.paths(name)
        history = load_history(p["history"])
        return (load_model(p["model"], custom_objects) if with_model else None), history

    def load_cached(self, name: str) -> tuple[Any, dict[str, list[float]]]:
        """Load a cached model and history by name alone, after checking both files.

        For notebooks that analyse a model trained elsewhere (it never trains).

        Raises:
            CacheMiss: If there is no entry of that name.
            CacheCorrupt: If a file is missing, damaged or unsafe.
        """
        entry = self.manifest(name)
        if not model_stored(entry):
            raise CacheMiss(f"cached artifact {name!r} keeps its history and metrics only, no model file")
        problems = self.damaged(name, entry)
        if problems:
            raise CacheCorrupt(f"cached artifact {name!r} is damaged: " + "; ".join(problems))
        return self.load(name)


# The same, for one call on a cache given by its folder (None: the settings' cache).


def paths(name: str, cache_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """:meth:`Cache.paths` of the cache at ``cache_dir``."""
    return Cache.at(cache_dir).paths(name)


def list_entries(cache_dir: str | os.PathLike | None = None) -> dict[str, dict]:
    """:meth:`Cache.entries` of the cache at ``cache_dir``."""
    return Cache.at(cache_dir).entries()


def manifest(name: str, cache_dir: str | os.PathLike | None = None) -> dict:
    """:meth:`Cache.manifest` of the cache at ``cache_dir``."""
    return Cache.at(cache_dir).manifest(name)


def verify_files(name: str, entry: dict, cache_dir: str | os.PathLike | None = None) -> list[str]:
    """:meth:`Cache.damaged` of the cache at ``cache_dir``."""
    return Cache.at(cache_dir).damaged(name, entry)


def load_cached(name: str, cache_dir: str | os.PathLike | None = None) -> tuple[Any, dict[str, list[float]]]:
    """:meth:`Cache.load_cached` of the cache at ``cache_dir``."""
    return Cache.at(cache_dir).load_cached(name)
