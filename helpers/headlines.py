"""Headline results: the models a notebook measures against the suite's goals, shown and recorded.

``goals_table`` is the one place where a notebook says which of its models
count for a goal. It shows them against the goal and records them in
``<cache>/histories/headlines/NOTEBOOK.GOAL.json``: which cache entries each
row averages, over how many test-time-augmentation views, and the accuracy the
notebook measured. ``benchmarks/report.py`` builds the README and BENCHMARKS
results tables from these records, re-measuring every accuracy from the cache.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from helpers import cache, settings
from helpers.goals import GOALS

#: The views a headline's ``views`` counts from: ``hp.tta_views(x, flip=True, shift=1)``
#: (1: the images; 2: and their mirror images; 10: and both moved one pixel four ways).
VIEW_ORDER = {"flip": True, "shift": 1}


@dataclass(frozen=True)
class Headline:
    """One row of a goals table.

    Attributes:
        names: The cache entries whose predictions are averaged.
        accuracy: The test accuracy the notebook measured.
        views: How many test-time-augmentation views are averaged (see ``VIEW_ORDER``).
    """

    names: tuple[str, ...]
    accuracy: float
    views: int = 1


def headline(
    names: str | Sequence[str],
    accuracy: float | None = None,
    *,
    views: int = 1,
    cache_dir: str | os.PathLike | None = None,
) -> Headline:
    """A goals-table row; one entry's plain test accuracy is read from its manifest.

    Args:
        names: A cache entry, or several whose predictions are averaged.
        accuracy: The measured test accuracy; omitted, the entry's recorded one.
        views: Test-time-augmentation views averaged (1, 2 or 10; see ``VIEW_ORDER``).
        cache_dir: Override the cache folder.

    Raises:
        ValueError: If ``accuracy`` is omitted for an ensemble or for several views.
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    if accuracy is None:
        if len(names) != 1 or views != 1:
            raise ValueError("pass the measured accuracy of an ensemble or of test-time augmentation")
        accuracy = cache.manifest(names[0], cache_dir)["metrics"]["test"]["accuracy"]
    if views not in (1, 2, 10):
        raise ValueError("views must be 1, 2 or 10 (see helpers.headlines.VIEW_ORDER)")
    return Headline(names, float(accuracy), views)


def headlines_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder of the goals tables' records."""
    return Path(cache_dir or settings.cache_dir()) / "histories" / "headlines"


def goals_table(
    goal: str,
    rows: Mapping[str, Headline],
    *,
    cache_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Show headline models against a goal, and record them for the results tables.

    The record is written outside require (grading) mode, by a known notebook
    (``settings.current_notebook``), and only when it changed.

    Args:
        goal: A key of ``GOALS`` (``"fashion_cnn"``, ...).
        rows: Label: :func:`headline`.
        cache_dir: Override the cache folder.

    Returns:
        Test accuracy, goal and whether it is met, one row per label.
    """
    if goal not in GOALS:
        raise ValueError(f"unknown goal {goal!r}: choose from {', '.join(GOALS)}")
    notebook = settings.current_notebook()
    if notebook and settings.cache_mode() != "require":
        record = {"notebook": notebook, "goal": goal, "rows": [{"label": k, **asdict(v)} for k, v in rows.items()]}
        target = headlines_dir(cache_dir) / f"{notebook}.{goal}.json"
        old = json.loads(target.read_text()) if target.is_file() else None
        if old != json.loads(json.dumps(record)):
            target.parent.mkdir(parents=True, exist_ok=True)
            cache.write_json_atomic(target, record)
    table = pd.DataFrame({label: {"test accuracy": row.accuracy, "goal": GOALS[goal]} for label, row in rows.items()}).T
    table["met"] = table["test accuracy"] >= table["goal"]
    return table.round(4)


def read_headlines(cache_dir: str | os.PathLike | None = None) -> list[dict]:
    """Every recorded goals table, in notebook order: ``{"notebook", "goal", "rows"}``."""
    return [json.loads(p.read_text()) for p in sorted(headlines_dir(cache_dir).glob("*.json"))]
