"""``./course.sh release`` and ``grade``: the instructor's commands, one line per result or failure."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course import assignment, points, release


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./course.sh")
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write student releases into release/")
    rel.add_argument("names", nargs="*", help="notebooks (names or parts of them); default: every releasable one")
    grd = sub.add_parser("grade", help="grade a folder of submission zips (or nbgrader's submitted/ layout)")
    grd.add_argument("submissions", type=Path, help="the folder of zips named STUDENTID_anything.zip")
    grd.add_argument("--out", type=Path, default=Path("grading"), help="where results go (default: grading/)")
    grd.add_argument(
        "--feedback-to",
        type=Path,
        metavar="COURSE",
        help="also copy the feedback into this nbgrader course folder, for nbgrader release_feedback",
    )
    grd.add_argument("--workers", type=int, default=0, help="submissions graded at once (default: one per core)")
    grd.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=os.environ.get("IMGCLS_DASK_SCHEDULER", "").strip(),
        help="grade on this Dask scheduler instead (default: IMGCLS_DASK_SCHEDULER, if set)",
    )
    src = sub.add_parser("source", help="nbgrader's source/ and release/ of these notebooks in a course folder")
    src.add_argument("names", nargs="+", help="notebooks (names or parts of them)")
    src.add_argument("--course-dir", type=Path, required=True, help="the nbgrader course folder (a course server's)")
    sim = sub.add_parser("similarity", help="look for copies between submissions (without grading them)")
    sim.add_argument("submissions", type=Path, help="the folder of zips named STUDENTID_anything.zip")
    sim.add_argument("--out", type=Path, default=Path("grading"), help="where the report goes (default: grading/)")
    args = parser.parse_args(argv)
    if args.command == "grade":
        return _grade(args.submissions, args.out, args.workers, args.dask, args.feedback_to)
    if args.command == "source":
        return _source(args.names, args.course_dir)
    if args.command == "similarity":
        return _similarity(args.submissions, args.out)
    ready = assignment.releasable()
    names = [n for n in ready if not args.names or any(p in n for p in args.names)]
    held = [n for n in points.NOT_RELEASED if args.names and any(p in n for p in args.names)]
    for name in held:
        print(f"[release] {name} is not handed out: {points.NOT_RELEASED[name]}", file=sys.stderr)
    if not names:
        if not held:
            print(f"no releasable notebook matches {args.names}; releasable: {', '.join(ready)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        try:
            folder = release.release(name)
        except (RuntimeError, assignment.NotReleasable) as err:
            print(f"[release] {name}: {err}", file=sys.stderr)
            failed += 1
            continue
        print(f"[release] {name}: release/{folder.name}/ and release/{folder.name}.zip (no solution found in it)")
    return 1 if failed else 0


def _grade(submissions: Path, out: Path, workers: int = 0, scheduler: str = "", feedback_to: Path | None = None) -> int:
    from course import grade

    if not submissions.is_dir():
        print(f"grade: {submissions.name!r} is not a folder of submissions", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    try:
        outcomes = grade.grade(submissions, out, workers, scheduler, feedback_to)
    except RuntimeError as err:
        print(f"[grade] {err}", file=sys.stderr)
        return 1
    print(
        f"[grade] {len(outcomes)} submissions: {out.name}/grades.csv, {out.name}/report.html, "
        f"feedback in {out.name}/course/feedback/"
    )
    return 0


def _source(patterns: list[str], course_dir: Path) -> int:
    from course import grade

    names = [n for n in assignment.releasable() if any(p in n for p in patterns)]
    if not names:
        print(f"no releasable notebook matches {patterns}; releasable: {', '.join(assignment.releasable())}")
        return 2
    try:
        grade.prepare(names, course_dir.resolve())
    except RuntimeError as err:
        print(f"[source] {err}", file=sys.stderr)
        return 1
    print(f"[source] {', '.join(names)}: source/ and release/ in {course_dir}; release them with nbgrader's formgrader")
    return 0


def _similarity(submissions: Path, out: Path) -> int:
    from course import grade

    if not submissions.is_dir():
        print(f"similarity: {submissions.name!r} is not a folder of submissions", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    pairs = grade.find_copies(submissions, out)
    print(f"[similarity] {len(pairs)} pair(s) for a person to judge: {out.name}/similarity.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
