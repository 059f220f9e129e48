"""Retrain cached entries from their recorded configuration and compare: the grader's random tests.

``./verify.sh --reproduce PATTERN`` (or ``--reproduce-sample K``) finds the
notebook that makes each matching entry, runs that notebook on a scratch copy
of the cache with ``IMGCLS_RETRAIN`` naming exactly those entries (everything
else loads from the copy), and compares the retrained histories and metrics
with the recorded ones. The committed cache is never written. This also covers
history-only entries (notebook 10's transfer sweep), whose numbers no stored
model can confirm.

Retraining with the recorded seed on this machine gave identical curves for
``ex2_softmax_mnist`` and ``ex3_adam``; ``transfer_fine-tuning_n100_seed0``
differed by one of its 100 training images in one epoch's training accuracy
(multithreaded float round-off). Each row names where its largest difference is.
"""

from __future__ import annotations

import ast
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from helpers import cache, settings

TOLERANCE = 1e-4  # largest |difference| of any history value or metric that still counts as reproduced


_TRAINING_CALLS = {"fit_cached", "run_evaluation", "evaluate_or_plan", "run_sweep", "random_search"}


def _strings(node: ast.AST) -> set[str]:
    """String constants and the fixed starts of f-strings inside an expression."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and 3 <= len(sub.value) <= 80:
            found.add(sub.value)
        elif isinstance(sub, ast.JoinedStr) and sub.values and isinstance(sub.values[0], ast.Constant):
            if len(str(sub.values[0].value)) >= 4:
                found.add(str(sub.values[0].value))
    return found


def trained_names(source: str) -> set[str]:
    """The cache names (or their fixed starts) a notebook passes to the suite's training calls.

    The first argument of ``fit_cached``, ``run_evaluation``, ``evaluate_or_plan``, ``run_sweep`` or
    ``random_search``; when it is a variable, the strings of everything assigned
    to it or looped over into it. A notebook that only reads an entry (as 08
    reads 05's ``ex5_best_dense_aug``) does not count as making it.
    """
    tree = ast.parse(source)
    values: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        targets, value = [], None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, (ast.For, ast.comprehension)):
            targets, value = [node.target], node.iter
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    values.setdefault(sub.id, []).append(value)
    made = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if func not in _TRAINING_CALLS:
            continue
        first = node.args[0]
        made |= _strings(first)
        for sub in ast.walk(first):
            if isinstance(sub, ast.Name):
                for value in values.get(sub.id, []):
                    made |= _strings(value)
    return made


def notebook_for(name: str, sources: dict[str, set[str]]) -> str | None:
    """The notebook whose literals name ``name`` exactly, else the one with the longest matching prefix.

    ``sources`` maps notebook names to the strings to match: best
    :func:`trained_names`, so that a notebook that only reads an entry is never taken for its maker.
    """
    exact = [nb for nb, names in sources.items() if name in names]
    if exact:
        return exact[0]
    best = max(
        (
            (len(p), nb)
            for nb, names in sources.items()
            for p in names
            if len(p) >= 4 and name.startswith(p) and (p[-1] in "_-" or name[len(p)] in "_-.0123456789")
        ),
        default=None,
    )
    return best[1] if best else None


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
    notebooks = sorted((settings.project_root() / "notebooks" / "src").glob("[0-9][0-9]_*.py"))
    sources = {p.stem: trained_names(p.read_text()) for p in notebooks}
    groups: dict[str, list[str]] = {}
    rows = []
    for name in names:
        notebook = notebook_for(name, sources)
        if notebook is None:
            rows.append((name, "FAIL", float("nan"), "no notebook names this entry"))
        else:
            groups.setdefault(notebook, []).append(name)
    sys.path.insert(0, str(settings.project_root() / "scripts"))  # the runner stays a script: no TensorFlow import
    from run_notebooks import execute_to

    for notebook, members in groups.items():
        with tempfile.TemporaryDirectory(prefix="imgcls-reproduce-") as scratch:
            scratch = Path(scratch)
            for folder in (f for f in ("saved_models", "histories") if (root / f).is_dir()):
                shutil.copytree(root / folder, scratch / folder)  # copies: the committed files are never touched
            for name in members:  # the entries to retrain are removed from the scratch copy
                for kind in ("model", "history", "manifest"):
                    cache.paths(name, scratch)[kind].unlink(missing_ok=True)
            saved = {k: os.environ.get(k) for k in ("IMGCLS_CACHE_DIR", "IMGCLS_CACHE_MODE", "IMGCLS_PARTIAL_DIR")}
            os.environ.update(
                IMGCLS_CACHE_DIR=str(scratch), IMGCLS_CACHE_MODE="train", IMGCLS_PARTIAL_DIR=str(scratch / "partial")
            )
            try:
                source = settings.project_root() / "notebooks" / f"{notebook}.ipynb"
                print(f"[reproduce] {notebook}: retraining {', '.join(members)}", flush=True)
                execute_to(source, scratch / f"{notebook}.ipynb")
            except Exception as err:  # the notebook failed: every member fails, with the cell's error
                rows += [
                    (n, "FAIL", float("nan"), f"{notebook} failed: {str(err).strip().splitlines()[-1]}")
                    for n in members
                ]
                continue
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
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
