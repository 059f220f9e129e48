"""Grading one complete submission: the wall time of ``./course.sh grade`` per notebook, with its parts.

The complete submission is ours: for every released notebook, the instructor's
nbgrader notebook (our solution) and the cache entries and stored predictions
``./course.sh submit`` would pack from our committed cache, one zip per
notebook as a student hands them in week by week. Everything a course's grading does runs: screening,
nbgrader's zip_collect, verify of the handed-in cache (re-measuring every model
on the real data), nbgrader's autograde in require mode, the gradebook,
generate_feedback, export and the report. Prints a Markdown table with each
notebook's verify and autograde seconds, the total, and its ratio to the goal
of 5 minutes per complete submission.

Usage::

    IMGCLS_DATA_DIR=../shared/datasets python benchmarks/grading.py [--names 03_optimizers ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="*", help="only these notebooks (default: every released one)")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    names = args.names or assignment.releasable()
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        write_submission(subs, names)
        start = time.monotonic()
        outcomes = grade.grade(subs, Path(tmp) / "out")
        total = time.monotonic() - start
    lines = [
        f"Grading one complete submission ({len(names)} notebooks, one zip each) on {platform.machine()}, "
        f"sandbox {'on' if sandbox.available() else 'off'}:",
        "",
        "| notebook | verify (s) | autograde (s) | flags | result |",
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
        f"Wall time of `grade` (with release, collect, feedback, export, report): {total:.0f} s "
        f"= {total / 60:.1f} min; goal {GOAL_S / 60:.0f} min; ratio to the goal {total / GOAL_S:.2f}.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
