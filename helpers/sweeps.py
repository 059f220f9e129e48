"""Parameter sweeps over several seeds, every run through the training cache.

The runs of a sweep are independent, so they can run on a
``concurrent.futures`` executor: for example a Dask cluster's
``client.get_executor()``. Every worker then trains through the same cache
folder (which must be one they all see), and the cache's per-name file lock
keeps two workers from training the same run.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from typing import Any

import keras
import pandas as pd
from tqdm import tqdm

from helpers import cache, settings
from helpers.metrics import runs_table
from helpers.training import fit_cached


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
    executor: Executor | None = None,
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
        executor: Run the runs on this ``concurrent.futures`` executor (e.g. a Dask
            ``client.get_executor()``; its workers must see the cache folder and
            import ``helpers``). ``None``: on the Dask scheduler that
            ``IMGCLS_DASK_SCHEDULER`` names, else one after another in this process.
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
    all_cached = all(cache.paths(name, cache_dir)["manifest"].is_file() for name in names.values())
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
            executor = stack.enter_context(_scheduler_executor(scheduler))
        if executor is None:
            results = (_sweep_run(names[job], build_for, job, x, y, common) for job in jobs)
        else:
            n = len(jobs)
            results = executor.map(_sweep_run, names.values(), [build_for] * n, jobs, [x] * n, [y] * n, [common] * n)
        for (value, seed), history in zip(
            jobs, tqdm(results, desc=prefix, unit="run", total=len(jobs), disable=all_cached)
        ):
            histories[(value, seed)] = history
            runs.append({param: value, "seed": seed, "history": history})
    return runs_table(runs), histories


def _sweep_run(name: str, build_for: Callable[[Any], keras.Model], job: tuple, x: Any, y: Any, fit: dict) -> dict:
    """One run of a sweep (in this process or on a worker): its history, trained or loaded."""
    value, seed = job
    return fit_cached(name, functools.partial(build_for, value), x, y, seed=seed, **fit)[1]


@contextlib.contextmanager
def _scheduler_executor(address: str) -> Iterator[Executor]:
    """An executor on the Dask scheduler at ``address``, for one sweep."""
    import distributed

    with distributed.Client(address) as client:
        yield client.get_executor()
