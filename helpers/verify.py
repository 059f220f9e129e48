"""Verify every cached artifact: files, safe loading, fingerprints and metrics.

For each manifest entry in the cache this checks that

1. the model and history files exist and match their recorded SHA-256,
2. both load safely (restricted unpickler, ``safe_mode=True``),
3. the loaded model's architecture and compile settings give the recorded
   fingerprint, and the history agrees with the recorded final metrics,
4. the model, re-evaluated on the validation and test data it records (found by
   fingerprint among the suite's standard preparations), gives the recorded
   accuracy within a small tolerance.

Run ``python -m helpers.verify`` (or ``./verify.sh``); it prints one table and
exits with status 1 if any artifact is missing, corrupt, stale or mismatching.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from helpers import cache, fingerprint, prepare, settings
from helpers.data import DatasetUnavailable, load_dataset

TOLERANCE = 2e-3


@dataclass
class Row:
    """One line of the verification table."""

    name: str
    metric: str = ""
    recorded: float | None = None
    measured: float | None = None
    status: str = "OK"
    detail: str = ""


def standard_splits() -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """The suite's standard validation and test arrays, as the notebooks prepare them."""
    preparations: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "flat": prepare.flatten_rescale,
        "images": prepare.rescale_images,
    }
    for dataset in ("mnist", "fashion_mnist"):
        try:
            (x_full, y_full), (x_test, y_test), _ = load_dataset(dataset, verbose=False, download=False)
        except DatasetUnavailable:
            continue
        for prep_name, prep in preparations.items():
            (_, _), (x_val, y_val) = prepare.train_val_split(prep(x_full), prepare.one_hot(y_full), seed=0)
            yield f"{dataset} {prep_name} validation", x_val, y_val
            yield f"{dataset} {prep_name} test", prep(x_test), prepare.one_hot(y_test)


class DataIndex:
    """Finds arrays by content fingerprint among the standard splits (built lazily)."""

    def __init__(self) -> None:
        self._index: dict[tuple[str, str], tuple[str, np.ndarray, np.ndarray]] | None = None

    def find(self, fingerprints: Any) -> tuple[str, np.ndarray, np.ndarray] | None:
        if not isinstance(fingerprints, list) or len(fingerprints) != 2:
            return None
        if self._index is None:
            self._index = {
                (fingerprint.array_fingerprint(x), fingerprint.array_fingerprint(y)): (label, x, y)
                for label, x, y in standard_splits()
            }
        return self._index.get((fingerprints[0], fingerprints[1]))


def _candidates_val_accuracy(entry: dict, history: dict) -> list[float]:
    """Validation accuracies the saved weights may correspond to."""
    saved = entry.get("metrics", {}).get("saved_model_val", {}).get("accuracy")
    if saved is not None:
        return [saved]
    acc, loss = history.get("val_accuracy", []), history.get("val_loss", [])
    if not acc:
        return []
    return [acc[-1], max(acc)] + ([acc[int(np.argmin(loss))]] if loss else [])


def _history_problem(entry: dict, history: dict) -> str:
    """Why the history disagrees with its manifest entry ('' when it agrees)."""
    final = entry.get("metrics", {}).get("final", {})
    if any(history.get(k, [None])[-1] != v for k, v in final.items()):
        return "history does not match the recorded final metrics"
    if len(history.get("loss", [])) != entry.get("epochs_run"):
        return "history length does not match the recorded epochs"
    return ""


def verify_entry(name: str, entry: dict, data: DataIndex, cache_dir: Path | None = None) -> list[Row]:
    """Check one cache entry; return its table rows."""
    problems = cache.verify_files(name, entry, cache_dir)
    if problems:
        status = "MISSING" if any("missing" in p for p in problems) else "CORRUPT"
        return [Row(name, status=status, detail="; ".join(problems))]
    p = cache.paths(name, cache_dir)
    try:
        history = cache.load_history(p["history"])
        model = cache.load_model(p["model"]) if cache.model_stored(entry) else None
    except cache.CacheCorrupt as err:
        return [Row(name, status="CORRUPT", detail=str(err))]
    spec = entry.get("spec", {})
    problem = _history_problem(entry, history)
    if problem:
        return [Row(name, status="STALE", detail=problem)]
    if model is None:
        return [Row(name, status="OK", detail="history and metrics only (no model file by design); history checked")]
    if fingerprint._digest(fingerprint.architecture_config(model)) != spec.get("architecture"):
        return [Row(name, status="STALE", detail="model file does not match the recorded architecture")]
    if fingerprint._digest(fingerprint.compile_config(model)) != spec.get("compile"):
        return [Row(name, status="STALE", detail="model file does not match the recorded compile settings")]

    rows = []
    val = data.find(spec.get("data", {}).get("validation"))
    candidates = _candidates_val_accuracy(entry, history)
    if val is not None and candidates:
        measured = float(model.evaluate(val[1], val[2], batch_size=1024, verbose=0, return_dict=True)["accuracy"])
        closest = min(candidates, key=lambda c: abs(c - measured))
        ok = abs(closest - measured) <= TOLERANCE
        rows.append(Row(name, "val_accuracy", closest, measured, "OK" if ok else "MISMATCH", val[0]))
    recorded_test = entry.get("metrics", {}).get("test", {}).get("accuracy")
    test = data.find(entry.get("data", {}).get("test_fingerprint"))
    if recorded_test is not None and test is not None:
        measured = float(model.evaluate(test[1], test[2], batch_size=1024, verbose=0, return_dict=True)["accuracy"])
        ok = abs(recorded_test - measured) <= TOLERANCE
        rows.append(Row(name, "test_accuracy", recorded_test, measured, "OK" if ok else "MISMATCH", test[0]))
    if not rows:
        rows.append(Row(name, status="OK", detail="files, fingerprint and history checked; data not re-created"))
    return rows


def verify_all(cache_dir: Path | None = None, patterns: list[str] | None = None) -> list[Row]:
    """Verify every manifest entry (optionally only names matching glob patterns)."""
    data = DataIndex()
    rows: list[Row] = []
    entries = cache.list_entries(cache_dir)
    root = Path(cache_dir) if cache_dir is not None else settings.cache_dir()
    orphans = {path.stem for path in (root / "saved_models").glob("*.keras")} - set(entries)
    for name in sorted(entries):
        if patterns and not any(fnmatch.fnmatchcase(name, pat) for pat in patterns):
            continue
        rows.extend(verify_entry(name, entries[name], data, cache_dir))
    for name in sorted(orphans):
        rows.append(Row(name, status="MISSING", detail="model file without a manifest entry"))
    return rows


def format_table(rows: list[Row]) -> str:
    """Render the rows as a fixed-width table."""

    def num(v: float | None) -> str:
        return f"{v:.4f}" if v is not None else "-"

    width = max([len(r.name) for r in rows] + [4])
    lines = [f"{'name':<{width}}  {'metric':<13}  {'recorded':>8}  {'measured':>8}  status    detail"]
    for r in rows:
        lines.append(
            f"{r.name:<{width}}  {r.metric:<13}  {num(r.recorded):>8}  {num(r.measured):>8}  {r.status:<8}  {r.detail}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the table, exit 1 on any failure."""
    parser = argparse.ArgumentParser(description="Verify the cached models and histories.")
    parser.add_argument("patterns", nargs="*", help="only names matching these glob patterns")
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("IMGCLS_OFFLINE", "1")
    rows = verify_all(args.cache_dir, args.patterns or None)
    if not rows:
        print("no cache entries found")
        return 1
    print(format_table(rows))
    bad = [r for r in rows if r.status != "OK"]
    print(f"\n{len(rows) - len(bad)} ok, {len(bad)} failed ({len({r.name for r in rows})} artifacts)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
