"""Parameter sweeps over several seeds, every run through the training cache.

The runs of a sweep are independent. Those that must train run on local
worker processes of one TensorFlow thread each (``IMGCLS_SWEEP_PROCESSES``;
faster than one process of several threads on the reference machine, see
``benchmarks/executors.py``), on any ``concurrent.futures`` executor, or on a
Dask cluster through its ``distributed.Client``. Local processes and a Dask
client receive the training data once, not once per run. Every worker trains
through the same cache folder (which must be one they all see), and the
cache's per-name file lock keeps two workers from training the same run.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

import cloudpickle
import keras
import pandas as pd
from tqdm import tqdm

from helpers import cache, settings
from helpers.metrics import runs_table
from helpers.training import fit_cached

if TYPE_CHECKING:
    import distributed


def run_sweep(
    prefix: str,
    build_for: Callable[[Any], keras.Model],
    values: Sequence[Any],
    x: Any,
    y: Any,
    *,
    param: str,
    seeds: Sequence[int],
    validation_data: tuple,
    epochs: int,
    batch_size: int,
    executor: Executor | distributed.Client | None = None,
    **fit_kwargs: Any,
) -> tuple[pd.DataFrame, dict[tuple[Any, int], dict]]:
    """Train (or load) one model per parameter value and seed.

    Runs are cached as ``{prefix}_{param}{value}_seed{seed}``, so a re-run loads
    them all and an interrupted sweep continues where it stopped.

    Args:
        prefix: Cache-name prefix of the sweep.
        build_for: ``build_for(value)`` returns a compiled model.
        values: Parameter values (e.g. widths).
        x, y: Training data.
        param: Name of the parameter (a column of the returned table).
        seeds: Random seeds; each value is trained once per seed.
        validation_data: ``(x_val, y_val)``.
        epochs: Epochs per run.
        batch_size: Batch size.
        executor: Run the runs on this ``concurrent.futures`` executor, or on this
            Dask ``distributed.Client``, which is sent ``x`` and ``y`` once (an
            executor is sent them with every run). The workers must see the cache
            folder and import ``helpers``. ``None``: on the Dask scheduler that
            ``IMGCLS_DASK_SCHEDULER`` names, else on ``IMGCLS_SWEEP_PROCESSES``
            local processes when more than one run must train (not in smoke mode).
        **fit_kwargs: Passed to :func:`fit_cached`.

    Returns:
        ``(table, histories)``: one row of best metrics per run, and the
        histories keyed by ``(value, seed)``.
    """
    runs, histories = [], {}
    jobs = [(value, seed) for value in values for seed in seeds]
    names = {job: f"{prefix}_{param}{job[0]}_seed{job[1]}" for job in jobs}
    fit_kwargs.update(validation_data=validation_data, epochs=epochs, batch_size=batch_size)
    to_train, mode, common = _shared_settings(names.values(), fit_kwargs)
    with _placement(executor, to_train, mode, [x, y, common]) as (where, pool, (x, y, common)):
        if where == "local":
            builder = cloudpickle.dumps(build_for)  # by value: a notebook's functions are not importable
            results = pool.map(_held_data_run, names.values(), [builder] * len(jobs), jobs)
        elif where == "here":
            results = (_sweep_run(names[job], build_for, job, x, y, common) for job in jobs)
        else:
            n = len(jobs)
            results = pool.map(_sweep_run, names.values(), [build_for] * n, jobs, [x] * n, [y] * n, [common] * n)
        for history, (value, seed) in zip(_progress(results, prefix, len(jobs), to_train), jobs):
            histories[(value, seed)] = history
            runs.append({param: value, "seed": seed, "history": history})
    return runs_table(runs), histories


def train_runs(
    runs: Mapping[str, Mapping[str, Any]],
    *,
    desc: str = "runs",
    executor: Executor | distributed.Client | None = None,
    local_processes: bool = True,
    **fit_kwargs: Any,
) -> dict[str, dict]:
    """Train (or load) independent runs that each have their own data, where :func:`run_sweep` would.

    For a grid whose runs differ in more than one parameter value, such as
    notebook 10's transfer grid (method x labelled subset x seed). Each run's
    data travels with it, so this suits small data; the shared settings go to
    each worker once.

    Args:
        runs: Per cache name, that run's own :func:`fit_cached` arguments:
            ``build`` (returns a compiled model), ``x``, ``y`` and any others
            (``epochs``, ``seed``, ...).
        desc: Label of the progress bar, shown only when something trains.
        executor: As for :func:`run_sweep`.
        local_processes: Whether runs may go to local worker processes when no
            executor is given (``False``: in this process, unless a Dask
            scheduler is set).
        **fit_kwargs: :func:`fit_cached` arguments every run shares.

    Returns:
        Each run's history, by cache name, in the order of ``runs``.
    """
    names = list(runs)
    to_train, mode, common = _shared_settings(names, fit_kwargs)
    specs = [dict(runs[name]) for name in names]
    held = [None, None, common]
    with _placement(executor, to_train, mode, held, local_processes) as (where, pool, (_, _, common)):
        if where == "local":
            results = pool.map(_held_fit_run, names, [cloudpickle.dumps(spec) for spec in specs])
        elif where == "here":
            results = (_fit_run(name, spec, common) for name, spec in zip(names, specs))
        else:
            results = pool.map(_fit_run, names, specs, [common] * len(names))
        return dict(zip(names, _progress(results, desc, len(names), to_train)))


def _shared_settings(names: Iterable[str], fit_kwargs: dict) -> tuple[list[str], str, dict]:
    """The runs among ``names`` that must train (not cached, or retrained), the cache mode, and the
    :func:`fit_cached` arguments every run shares: ``fit_kwargs`` with the cache folder and mode made
    explicit for the workers, no model back and no Keras progress bars."""
    cache_dir = fit_kwargs.pop("cache_dir", None) or settings.cache_dir()
    mode = fit_kwargs.pop("mode", None) or settings.cache_mode()
    to_train = [
        name
        for name in names
        if mode == "retrain" or settings.forced_retrain(name) or not cache.paths(name, cache_dir)["manifest"].is_file()
    ]
    common = {**fit_kwargs, "return_model": False, "verbose": 0, "cache_dir": str(cache_dir), "mode": mode}
    return to_train, mode, common


def _progress(results: Iterable[dict], desc: str, total: int, to_train: list[str]) -> Iterable[dict]:
    """``results`` behind a progress bar, shown only when some run trains.

    A sweep whose runs all have a cache entry shows no bar (loading 39 entries takes about 35 s, since each
    hashes its training data): the handed-in notebook keeps no progress frames.
    """
    return tqdm(results, desc=desc, unit="run", total=total, disable=not to_train)


@contextlib.contextmanager
def _placement(
    executor: Any, to_train: list[str], mode: str, held: list, local_processes: bool = True
) -> Iterator[tuple[str, Any, list]]:
    """Where a sweep's runs go, and the data every run shares (``held``), sent there once where possible.

    Yields:
        ``(where, pool, held)``: ``"local"`` and a pool of new local processes that hold ``held``;
        ``"executor"`` and the executor to map runs on (for a Dask client, ``held`` scattered to
        every worker); or ``"here"`` and ``None``: in this process.
    """
    with contextlib.ExitStack() as stack:
        scheduler = settings.dask_scheduler()
        if executor is None and scheduler and to_train:  # loading needs no cluster
            executor = stack.enter_context(_scheduler_client(scheduler))
        if _is_dask_client(executor):  # the data (validation data too) goes to each worker once; runs refer to it
            # Keys of its own (hash=False): a content-hashed key that another client, or this client's previous
            # sweep, is releasing at the same moment can vanish under this sweep's runs ("lost dependencies").
            held = executor.scatter(held, broadcast=True, hash=False)
            executor = executor.get_executor()
        if executor is not None:
            yield "executor", executor, held
            return
        local = local_processes and len(to_train) > 1 and mode != "require" and not settings.smoke_mode()
        processes = min(settings.sweep_processes(), len(to_train)) if local else 1  # read only when it matters
        if processes > 1:
            yield "local", stack.enter_context(_local_processes(processes, *held)), held
        else:
            yield "here", None, held


def _sweep_run(name: str, build_for: Callable[[Any], keras.Model], job: tuple, x: Any, y: Any, fit: dict) -> dict:
    """One run of a sweep (in this process or on a worker): its history, trained or loaded."""
    value, seed = job
    return _fit_run(name, {"build": functools.partial(build_for, value), "x": x, "y": y, "seed": seed}, fit)


_HELD: dict[str, Any] = {}  # in a local worker process: the sweep's data and fit settings, sent once


def _hold(x: Any, y: Any, fit: dict) -> None:
    """Initialise a local worker: one thread, and the sweep's data kept for all its runs.

    TensorFlow's threads are set here; JAX's by ``XLA_FLAGS`` when the worker starts (:func:`_local_processes`).
    """
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    _HELD.update(x=x, y=y, fit=fit)
    threading.Thread(target=_exit_with_parent, daemon=True).start()


def _exit_with_parent() -> None:
    """End this worker when the process that started it ends (a killed or restarted notebook kernel).

    Without this, a worker would finish its run and the runs already queued for it, using the cores and
    writing cache entries, after the kernel that asked for them is gone.
    """
    multiprocessing.parent_process().join()
    os._exit(1)


def _held_data_run(name: str, builder: bytes, job: tuple) -> dict:
    """One run on a local worker, on the data :func:`_hold` kept."""
    return _sweep_run(name, cloudpickle.loads(builder), job, _HELD["x"], _HELD["y"], _HELD["fit"])


def _fit_run(name: str, spec: dict, fit: dict) -> dict:
    """One run of :func:`train_runs` (in this process or on a worker): its history, trained or loaded."""
    own = dict(spec)
    build, x, y = own.pop("build"), own.pop("x"), own.pop("y")
    return fit_cached(name, build, x, y, **fit, **own)[1]


def _held_fit_run(name: str, spec: bytes) -> dict:
    """One run of :func:`train_runs` on a local worker, with the shared settings :func:`_hold` kept."""
    return _fit_run(name, cloudpickle.loads(spec), _HELD["fit"])


@contextlib.contextmanager
def _local_processes(workers: int, x: Any, y: Any, fit: dict) -> Iterator[Executor]:
    """``workers`` new processes (spawned: a forked TensorFlow is unsafe) that hold ``x``, ``y`` and ``fit``."""
    context = multiprocessing.get_context("spawn")
    flags = os.environ.get("XLA_FLAGS")  # the workers' JAX, if Keras runs on it: one thread, set before it starts
    one_thread = f"{flags or ''} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    with settings.environment(XLA_FLAGS=one_thread if keras.config.backend() == "jax" else flags):
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_hold, initargs=(x, y, fit)) as pool:
            yield pool  # the workers start on the first submissions, in this block


def _is_dask_client(executor: Any) -> bool:
    """Whether ``executor`` is a Dask ``distributed.Client`` (checked without importing Dask)."""
    dask_distributed = sys.modules.get("distributed")
    return dask_distributed is not None and isinstance(executor, dask_distributed.Client)


@contextlib.contextmanager
def _scheduler_client(address: str) -> Iterator[distributed.Client]:
    """A client of the Dask scheduler at ``address``, for one sweep."""
    import distributed

    with distributed.Client(address) as client:
        yield client
