"""Run-wide switches, read from environment variables.

Every switch has one environment variable so that a whole notebook (or the whole
suite) can be steered from outside, e.g. by the test-suite or a grader:

========================  =====================================================
``IMGCLS_DATA_DIR``       folder holding ``mnist/``, ``fashion-mnist/``, ``svhn/``
                          and ``cifar-10-batches-py/`` (see :mod:`helpers.data`).
``IMGCLS_CACHE_DIR``      folder holding ``saved_models/`` and ``histories/``;
                          defaults to the project root.
``IMGCLS_CACHE_MODE``     ``train`` (default: load if cached, else train),
                          ``retrain`` (always train) or ``require`` (never
                          train; fail if an artifact is missing or stale).
``IMGCLS_RETRAIN``        comma-separated glob patterns of cache names to
                          retrain even when cached, e.g. ``ex3_*``.
``IMGCLS_SMOKE``          ``1``: tiny data and one epoch, for fast tests.
``IMGCLS_TRAIN``          comma-separated long-run families the user asks to
                          train, e.g. ``svhn,imagenet`` (``./run.sh --train
                          svhn``). Without it those sections only say what they
                          would train and for about how long.
``IMGCLS_PARTIAL_DIR``    where unfinished runs keep their per-epoch state
                          (default ``<cache>/.cache/partial``).
``IMGCLS_OFFLINE``        ``1``: never try a download (data and weights must be
                          on disk already).
``IMGCLS_MIRROR``         a URL (``http://host/path/``) that serves the original
                          download files under their real names
                          (``train_32x32.mat``, ``cifar-10-python.tar.gz``);
                          used instead of the original sites, e.g. a
                          classroom's local copy.
``IMGCLS_UNVERIFIED_DOWNLOADS``  ``1``: skip the published checksums of
                          downloads. Only for tests, whose stand-in files
                          cannot match them.
``IMGCLS_SWEEP_PROCESSES``  how many local processes of one TensorFlow thread
                          train a sweep's uncached runs; ``1``: one after
                          another in the notebook's process. Default: the
                          number of CPU cores, at most 4.
``IMGCLS_DASK_SCHEDULER`` a Dask scheduler's address (``tcp://host:8786``) that
                          sweeps send their runs to instead.
``KERAS_HOME``            Keras' own setting, read here too: its download
                          cache is ``$KERAS_HOME/datasets`` (else ``~/.keras``).
========================  =====================================================
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

from helpers.errors import OneLineError

MODES = ("train", "retrain", "require")

_mode_override: str | None = None


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set environment variables for a block (``None`` removes one), then put back what was there."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            _put(key, value)
        yield
    finally:
        for key, value in saved.items():
            _put(key, value)


def _put(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


def project_root() -> Path:
    """Return the folder that contains the ``helpers`` package."""
    return Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Return the folder holding ``saved_models/`` and ``histories/``."""
    env = os.environ.get("IMGCLS_CACHE_DIR")
    return Path(env).expanduser() if env else project_root()


def data_dir() -> Path | None:
    """Return the data folder named by ``IMGCLS_DATA_DIR``, or ``None``."""
    env = os.environ.get("IMGCLS_DATA_DIR")
    return Path(env).expanduser() if env else None


def partial_dir(cache_root: Path) -> Path:
    """Return where unfinished runs keep their state (``IMGCLS_PARTIAL_DIR``, else ``<cache>/.cache/partial``)."""
    env = os.environ.get("IMGCLS_PARTIAL_DIR")
    return Path(env) if env else cache_root / ".cache" / "partial"


def keras_home() -> Path | None:
    """Return Keras' own home folder setting, ``KERAS_HOME``, or ``None`` (then ``~/.keras``)."""
    env = os.environ.get("KERAS_HOME")
    return Path(env).expanduser() if env else None


def set_cache_mode(mode: str | None) -> None:
    """Set the cache mode for this process (``None`` returns to the env default).

    Args:
        mode: One of ``"train"``, ``"retrain"``, ``"require"`` or ``None``.

    Raises:
        ValueError: If ``mode`` is not a known mode.
    """
    global _mode_override
    if mode is not None and mode not in MODES:
        raise ValueError(f"cache mode must be one of {MODES}, got {mode!r}")
    _mode_override = mode


def cache_mode() -> str:
    """Return the active cache mode.

    The environment variable wins over :func:`set_cache_mode` when it says
    ``require``, so a grader's ``IMGCLS_CACHE_MODE=require`` can never be
    switched back to training by a notebook cell.
    """
    env = os.environ.get("IMGCLS_CACHE_MODE", "").strip().lower()
    if env and env not in MODES:
        raise ValueError(f"IMGCLS_CACHE_MODE must be one of {MODES}, got {env!r}")
    if env == "require":
        return "require"
    return _mode_override or env or "train"


def forced_retrain(name: str) -> bool:
    """Return True if ``IMGCLS_RETRAIN`` names ``name`` (glob patterns allowed)."""
    patterns = [p.strip() for p in os.environ.get("IMGCLS_RETRAIN", "").split(",")]
    return any(p and fnmatch.fnmatchcase(name, p) for p in patterns)


def smoke_mode() -> bool:
    """Return True when ``IMGCLS_SMOKE`` asks for a tiny, fast run."""
    return os.environ.get("IMGCLS_SMOKE", "").strip().lower() in {"1", "true", "yes"}


def required_epochs(epochs: int) -> int:
    """The epochs an exercise's test asks a run to have: ``epochs``, or 1 in smoke mode (one-epoch test runs)."""
    return 1 if smoke_mode() else epochs


def mirror_url() -> str | None:
    """The download mirror from ``IMGCLS_MIRROR`` (ending in ``/``), or None for the original sites."""
    url = os.environ.get("IMGCLS_MIRROR", "").strip()
    return (url.rstrip("/") + "/") if url else None


def verify_download_checksums() -> bool:
    """False only when a test sets ``IMGCLS_UNVERIFIED_DOWNLOADS=1`` for its stand-in files."""
    return os.environ.get("IMGCLS_UNVERIFIED_DOWNLOADS", "").strip() not in {"1", "true", "yes"}


def offline() -> bool:
    """True when ``IMGCLS_OFFLINE`` says never to try a download."""
    return os.environ.get("IMGCLS_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


LONG_RUN_FAMILIES = ("svhn", "imagenet")


class UnknownLongRun(OneLineError, ValueError):
    """``IMGCLS_TRAIN`` (``./run.sh --train``) names a family of long runs that does not exist."""


def long_runs_requested() -> set[str]:
    """The long-run families ``IMGCLS_TRAIN`` asks to train (``svhn``, ``imagenet``; ``all`` for both).

    Raises:
        UnknownLongRun: If it names a family that does not exist.
    """
    asked = {part.strip().lower() for part in os.environ.get("IMGCLS_TRAIN", "").split(",") if part.strip()}
    if "all" in asked:
        return set(LONG_RUN_FAMILIES)
    unknown = asked - set(LONG_RUN_FAMILIES)
    if unknown:
        raise UnknownLongRun(
            f"--train / IMGCLS_TRAIN names {', '.join(sorted(unknown))}: "
            f"choose from {', '.join(LONG_RUN_FAMILIES)} or all"
        )
    return asked


def current_notebook() -> str:
    """The stem of the notebook this kernel runs, or ``""`` outside a known notebook.

    ``scripts/run_notebooks.py`` and the tests set ``IMGCLS_NOTEBOOK``; JupyterLab
    (jupyter_server 2) names the notebook in ``JPY_SESSION_NAME``.
    """
    for variable in ("IMGCLS_NOTEBOOK", "JPY_SESSION_NAME"):
        value = os.environ.get(variable, "").strip()
        if value:
            return Path(value).stem
    return ""


def dask_scheduler() -> str:
    """The Dask scheduler ``hp.run_sweep`` sends its runs to (``IMGCLS_DASK_SCHEDULER``), or ``""``: this process."""
    return os.environ.get("IMGCLS_DASK_SCHEDULER", "").strip()


class SettingError(OneLineError, ValueError):
    """An environment switch holds a value the suite cannot use."""


def sweep_processes() -> int:
    """How many local processes (one thread each) train a sweep's uncached runs (``IMGCLS_SWEEP_PROCESSES``).

    1 trains them one after another in this process. The default on TensorFlow is the number of CPU cores,
    at most 4, and on JAX 1: ``benchmarks/executors.py`` measured two one-thread processes faster than one
    two-thread process on TensorFlow, and slower on JAX.
    """
    value = os.environ.get("IMGCLS_SWEEP_PROCESSES", "").strip()
    if not value:
        import keras

        return 1 if keras.config.backend() == "jax" else max(1, min(os.cpu_count() or 1, 4))
    if not value.isdigit() or int(value) < 1:
        raise SettingError(f"IMGCLS_SWEEP_PROCESSES must be a whole number of at least 1, got {value!r}")
    return int(value)
