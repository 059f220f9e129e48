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
from collections.abc import Callable, Iterator, Sequence
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
    # A sweep whose runs all have a cache entry shows no bar (loading 39 entries takes about 35 s, since each
    # hashes its training data): the handed-in notebook keeps no progress frames. A sweep that trains shows one.
    cache_dir = fit_kwargs.pop("cache_dir", None) or settings.cache_dir()  # workers get it explicitly
    mode = fit_kwargs.pop("mode", None) or settings.cache_mode()
    to_train = [
        name
        for name in names.values()
        if mode == "retrain" or settings.forced_retrain(name) or not cache.paths(name, cache_dir)["manifest"].is_file()
    ]
    all_cached = not to_train
    common = {
        "validation_data": validation_data,
        "epochs": epochs,
        "batch_size": batch_size,
        "return_model": False,
        "verbose": 0,
        "cache_dir": str(cache_dir),
        "mode": mode,
        **fit_kwargs,
    }
    with contextlib.ExitStack() as stack:
        scheduler = settings.dask_scheduler()
        if executor is None and scheduler and not all_cached:  # loading needs no cluster
            executor = stack.enter_context(_scheduler_client(scheduler))
        if _is_dask_client(executor):  # the data (validation data too) goes to each worker once; runs refer to it
            x, y, common = executor.scatter([x, y, common], broadcast=True)
            executor = executor.get_executor()
        local = executor is None and len(to_train) > 1 and mode != "require" and not settings.smoke_mode()
        processes = min(settings.sweep_processes(), len(to_train)) if local else 1  # read only when it matters
        if processes > 1:
            pool = stack.enter_context(_local_processes(processes, x, y, common))
            builder = cloudpickle.dumps(build_for)  # by value: a notebook's functions are not importable
            results = pool.map(_held_data_run, names.values(), [builder] * len(jobs), jobs)
        elif executor is None:
            results = (_sweep_run(names[job], build_for, job, x, y, common) for job in jobs)
        else:
            n = len(jobs)
            results = executor.map(_sweep_run, names.values(), [build_for] * n, jobs, [x] * n, [y] * n, [common] * n)
        progress = tqdm(results, desc=prefix, unit="run", total=len(jobs), disable=all_cached)
        for history, (value, seed) in zip(progress, jobs):  # the bar first, so that it reaches its total
            histories[(value, seed)] = history
            runs.append({param: value, "seed": seed, "history": history})
    return runs_table(runs), histories


def _sweep_run(name: str, build_for: Callable[[Any], keras.Model], job: tuple, x: Any, y: Any, fit: dict) -> dict:
    """One run of a sweep (in this process or on a worker): its history, trained or loaded."""
    value, seed = job
    return fit_cached(name, functools.partial(build_for, value), x, y, seed=seed, **fit)[1]


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


@contextlib.contextmanager
def _local_processes(workers: int, x: Any, y: Any, fit: dict) -> Iterator[Executor]:
    """``workers`` new processes (spawned: a forked TensorFlow is unsafe) that hold ``x``, ``y`` and ``fit``."""
    context = multiprocessing.get_context("spawn")
    flags = os.environ.get("XLA_FLAGS")  # the workers' JAX, if Keras runs on it: one thread, set before it starts
    if keras.config.backend() == "jax":
        os.environ["XLA_FLAGS"] = f"{flags or ''} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_hold, initargs=(x, y, fit)) as pool:
            yield pool  # the workers start on the first submissions, in this block
    finally:
        if flags is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = flags


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
