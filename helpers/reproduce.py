"""Retrain cached entries from their recorded configuration and compare: the grader's random tests.

``./verify.sh --reproduce PATTERN`` (or ``--reproduce-sample K``) reads from
each matching entry's manifest the notebook that made it and the Keras backend
that trained it, removes those entries from a scratch copy of the cache, runs
the notebook on that backend against the copy (everything else loads from it),
and compares the retrained histories and metrics with the recorded ones. The
committed cache is never written. This also covers history-only entries
(notebook 10's transfer sweep), whose numbers no stored model can confirm.

Retraining with the recorded seed on this machine gave identical curves for
notebook 02's and 03's MNIST runs; one of notebook 10's 100-image transfer runs
differed by one of its training images in one epoch's training accuracy
(multithreaded float round-off). Each row names where its largest difference is.
"""

from __future__ import annotations

import importlib.util
import random
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from helpers import cache, settings

TOLERANCE = 1e-4  # largest |difference| of any history value or metric that still counts as reproduced


def making_notebook(name: str, cache_dir: Path) -> str | None:
    """The notebook that trained ``name``, as its manifest records it (``fit_cached`` writes the field)."""
    entry = cache.read_manifest(cache.paths(name, cache_dir)["manifest"]) or {}
    notebook = entry.get("notebook")
    source = settings.project_root() / "notebooks" / f"{notebook}.ipynb"
    return notebook if notebook and source.is_file() else None


def recorded_backend(name: str, cache_dir: Path) -> str | None:
    """The Keras backend that trained ``name`` (``versions.backend`` in its manifest), if recorded."""
    entry = cache.read_manifest(cache.paths(name, cache_dir)["manifest"]) or {}
    return entry.get("versions", {}).get("backend")


def _missing_backend(backend: str | None) -> str | None:
    """Why ``backend`` cannot retrain here, or None when it can (or none was recorded)."""
    if backend is None or importlib.util.find_spec(backend) is not None:
        return None
    return f"it was trained on Keras' {backend} backend, which is not installed here: pip install -r requirements.txt"


def _differences(recorded: dict, history: dict, new_entry: dict, new_history: dict) -> tuple[float, str]:
    """The largest |difference| between two runs' histories and recorded metrics, and where it is."""
    if set(history) != set(new_history) or any(len(history[k]) != len(new_history[k]) for k in history):
        return float("inf"), "the retrained history has other curves or another number of epochs"
    gaps = [(0.0, "")]
    for key, values in history.items():
        if values:
            diff = np.abs(np.subtract(values, new_history[key]))
            gaps.append((float(diff.max()), f"{key} at epoch {int(diff.argmax()) + 1}"))
    for part in ("final", "best", "test"):
        old, new = recorded.get("metrics", {}).get(part, {}), new_entry.get("metrics", {}).get(part, {})
        gaps += [(abs(old[k] - new[k]), f"{part} {k}") for k in old if k in new]
    return max(gaps)


def reproduce(names: list[str], *, cache_dir: Path | None = None) -> list[tuple[str, str, float, str]]:
    """Retrain ``names`` on a scratch copy of the cache; return ``(name, status, max |Δ|, detail)`` rows."""
    root = Path(cache_dir) if cache_dir is not None else settings.cache_dir()
    groups: dict[tuple[str, str | None], list[str]] = {}
    rows = []
    for name in names:
        notebook, backend = making_notebook(name, root), recorded_backend(name, root)
        missing = _missing_backend(backend)
        if notebook is None:
            rows.append((name, "FAIL", float("nan"), "its manifest names no notebook of this project that made it"))
        elif missing:
            rows.append((name, "FAIL", float("nan"), missing))
        else:
            groups.setdefault((notebook, backend), []).append(name)
    sys.path.insert(0, str(settings.project_root() / "scripts"))  # the runner stays a script: no TensorFlow import
    from run_notebooks import execute_to

    for (notebook, backend), members in groups.items():
        with tempfile.TemporaryDirectory(prefix="imgcls-reproduce-") as scratch:
            scratch = Path(scratch)
            for folder in (f for f in ("saved_models", "histories") if (root / f).is_dir()):
                shutil.copytree(root / folder, scratch / folder)  # copies: the committed files are never touched
            for name in members:  # the entries to retrain are removed from the scratch copy
                for kind in ("model", "history", "manifest"):
                    cache.paths(name, scratch)[kind].unlink(missing_ok=True)
            scratch_cache = {"IMGCLS_CACHE_DIR": str(scratch), "IMGCLS_PARTIAL_DIR": str(scratch / "partial")}
            backend_set = {"KERAS_BACKEND": backend} if backend else {}  # the entries' own backend
            try:
                source = settings.project_root() / "notebooks" / f"{notebook}.ipynb"
                on = f" on {backend}" if backend else ""
                print(f"[reproduce] {notebook}{on}: retraining {', '.join(members)}", flush=True)
                with settings.environment(**scratch_cache, IMGCLS_CACHE_MODE="train", **backend_set):
                    execute_to(source, scratch / f"{notebook}.ipynb")
            except Exception as err:  # the notebook failed: every member fails, with the cell's error
                rows += [
                    (n, "FAIL", float("nan"), f"{notebook} failed: {str(err).strip().splitlines()[-1]}")
                    for n in members
                ]
                continue
            for name in members:
                new_entry = cache.read_manifest(cache.paths(name, scratch)["manifest"])
                if new_entry is None:
                    rows.append((name, "FAIL", float("nan"), f"{notebook} did not make this entry"))
                    continue
                gap, where = _differences(
                    cache.read_manifest(cache.paths(name, root)["manifest"]),
                    cache.load_history(cache.paths(name, root)["history"]),
                    new_entry,
                    cache.load_history(cache.paths(name, scratch)["history"]),
                )
                status = "REPRODUCED" if gap <= TOLERANCE else "DIFFERS"
                rows.append((name, status, gap, f"retrained by {notebook}" + (f"; largest at {where}" if gap else "")))
    return rows


def choose(entries: list[str], patterns: list[str] | None, sample: int | None) -> list[str]:
    """The entries to reproduce: those matching ``patterns``, or ``sample`` of them at random."""
    import fnmatch

    chosen = [n for n in entries if not patterns or any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    if sample:
        chosen = random.SystemRandom().sample(chosen, min(sample, len(chosen)))
    return sorted(chosen)
