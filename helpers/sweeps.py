"""Parameter sweeps over several seeds, every run through the training cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import pandas as pd
from tqdm import tqdm

from helpers import cache
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
    cache_dir = fit_kwargs.get("cache_dir")
    all_cached = all(cache.paths(name, cache_dir)["manifest"].is_file() for name in names.values())
    for value, seed in tqdm(jobs, desc=prefix, unit="run", disable=all_cached):
        _, history = fit_cached(
            names[(value, seed)],
            lambda value=value: build_for(value),
            x,
            y,
            validation_data=validation_data,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            return_model=False,
            verbose=0,
            **fit_kwargs,
        )
        histories[(value, seed)] = history
        runs.append({param: value, "seed": seed, "history": history})
    return runs_table(runs), histories
