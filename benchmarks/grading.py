"""Grading one complete submission: wall time one at a time, one per core and on Dask, with its parts.

The complete submission is ours: for every released notebook, the instructor's
nbgrader notebook (our solution) and the cache entries and stored predictions
``./course.sh submit`` would pack from our committed cache, one zip per
notebook as a student hands them in week by week. Everything a course's
grading does runs: screening, nbgrader's zip_collect, verify of the handed-in
cache (re-measuring every model on the real data), nbgrader's autograde in
require mode, the gradebook, generate_feedback, export and the report.

It is graded three times: one notebook at a time, one per core (the default),
and on a local Dask cluster of one worker process per core. Prints each
notebook's verify and autograde seconds, each way's wall time, complete
submissions per hour and speed-up, whether its ``grades.csv`` equals the
one-at-a-time run's, and the ratio to the goal of 5 minutes per complete
submission.

Usage::

    IMGCLS_DATA_DIR=../shared/datasets python benchmarks/grading.py [--names 03_optimizers ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import distributed  # noqa: E402
import nbformat  # noqa: E402

from course import assignment, grade, sandbox  # noqa: E402

GOAL_S = 300  # the goal: at most 5 minutes per complete submission
STUDENT = "s0000"


def _submit_module():
    spec = importlib.util.spec_from_file_location("submit", ROOT / "scripts" / "submit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_submission(folder: Path, names: list[str]) -> None:
    """One zip per notebook: our solution's nbgrader notebook and the entries submit would pack."""
    submit = _submit_module()
    for name in names:
        nb = assignment.nbgrader_notebook(ROOT / "notebooks" / "src" / f"{name}.py")
        with zipfile.ZipFile(folder / f"{STUDENT}_{name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"notebooks/{name}.ipynb", nbformat.writes(nb))
            solved = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
            for path in [*submit.entries(name), *submit.predictions(solved)]:
                archive.write(path, path.relative_to(ROOT))


def _load_once_seconds(names: list[str]) -> tuple[int, float]:
    """How many models the submission holds, and the seconds to load them all once in one process."""
    from helpers import cache

    paths = [p for name in names for p in _submit_module().entries(name) if p.suffix == ".keras"]
    start = time.monotonic()
    for path in paths:
        cache.load_model(path)
    return len(paths), time.monotonic() - start


def _graded(subs: Path, out: Path, workers: int = 0, scheduler: str = "") -> tuple[float, list, str]:
    start = time.monotonic()
    outcomes = grade.grade(subs, out, workers=workers, scheduler=scheduler)
    return time.monotonic() - start, outcomes, (out / "grades.csv").read_text()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="*", help="only these notebooks (default: every released one)")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    names = args.names or assignment.releasable()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        write_submission(subs, names)
        serial, outcomes, csv_serial = _graded(subs, Path(tmp) / "serial", workers=1)
        pool, _, csv_pool = _graded(subs, Path(tmp) / "pool", workers=cores)
        os.environ["PYTHONPATH"] = str(ROOT)  # the Dask workers import course.grade
        with distributed.LocalCluster(
            n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            on_dask, _, csv_dask = _graded(subs, Path(tmp) / "dask", scheduler=cluster.scheduler_address)
    models, load_s = _load_once_seconds(names)
    lines = [
        f"Grading one complete submission ({len(names)} notebooks, one zip each) on {platform.machine()} "
        f"with {cores} cores, sandbox {'on' if sandbox.available() else 'off'}. Per notebook, graded one at a time "
        "(verify and the digests of all of a student's notebooks run in one process; each notebook's seconds there):",
        "",
        "| notebook | verify and digests (s) | autograde (s) | flags | result |",
        "|---|---:|---:|---:|---|",
    ]
    for o in sorted(outcomes, key=lambda o: o.assignment):
        verdict = o.refused or f"{len(o.withheld)} cell(s) withheld"
        lines.append(
            f"| {o.assignment} | {o.parts.get('verify', 0):.0f} | {o.parts.get('autograde', 0):.0f} "
            f"| {len(o.flags)} | {verdict} |"
        )
    verify_s = sum(o.parts.get("verify", 0) for o in outcomes)
    autograde_s = sum(o.parts.get("autograde", 0) for o in outcomes)
    lines += [
        f"| **all** | **{verify_s:.0f}** | **{autograde_s:.0f}** | | |",
        "",
        f"The rest of the one-at-a-time run ({serial - verify_s - autograde_s:.0f} s) is the course's: "
        "generate_assignment, zip_collect, generate_feedback and export (three nbgrader processes), "
        "starting the student's verify process, the gradebook and the report.",
        "",
        "| graded on | wall time (s) | complete submissions per hour | speed-up | grades.csv as one at a time |",
        "|---|---:|---:|---:|---|",
    ]
    for label, seconds, text in [
        ("one submission at a time", serial, csv_serial),
        (f"{cores} at a time (the default: one per core)", pool, csv_pool),
        (f"Dask, a local cluster of {cores} worker processes", on_dask, csv_dask),
    ]:
        same = "yes" if text == csv_serial else "NO"
        lines.append(f"| {label} | {seconds:.0f} | {3600 / seconds:.1f} | {serial / seconds:.2f} | {same} |")
    best = min(pool, on_dask)
    lines += [
        "",
        f"Goal: at most {GOAL_S / 60:.0f} min per complete submission. By default it takes {pool:.0f} s "
        f"= {pool / 60:.1f} min, {pool / GOAL_S:.2f} times the goal ({'met' if pool <= GOAL_S else 'NOT met'}); "
        f"the fastest way here took {best:.0f} s.",
        "",
        f"verify and autograde each load the submission's {models} models; loading all of them once takes "
        f"{load_s:.1f} s in one process, so loading them twice costs about that much of the time above.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
