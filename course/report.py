"""The cohort report of ``./course.sh grade``: scores per question, flagged and refused submissions, copies, time.

Scores are read back from nbgrader's gradebook (after the withheld points were
set to 0), and each graded cell is summed into its question by
:mod:`course.points`, so the report and ``grades.csv`` agree.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from course import points, release


def scores(course_dir: Path) -> pd.DataFrame:
    """One row per (student, assignment, question): the score and the question's points."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(release.gradebook_url(course_dir), "imgcls") as gb:
        for assignment in gb.assignments:
            table = points.CELLS.get(assignment.name, {})
            for submission in gb.assignment_submissions(assignment.name):
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        graded = table.get(grade.name)
                        rows.append(
                            {
                                "student": submission.student.id,
                                "assignment": assignment.name,
                                "question": graded.question if graded else grade.name,
                                "score": float(grade.score or 0.0),
                                "max": float(grade.max_score or 0.0),
                            }
                        )
    frame = pd.DataFrame(rows, columns=["student", "assignment", "question", "score", "max"])
    return frame.groupby(["student", "assignment", "question"], as_index=False).sum()


def copies_section(pairs: list) -> str:
    """The possible copies: pairs side by side with score and reason, then the clusters they form."""
    from course import similarity

    if not pairs:
        return "<h2>Possible copies</h2><p>No pair of submissions shares code, answers, weights or histories.</p>"
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(str(v))}</td>" for v in (p.a, p.b, p.kind, p.what, p.score))
        + "".join(f"<td><pre>{html.escape(e[:2000])}</pre></td>" for e in p.evidence)
        + "</tr>"
        for p in sorted(pairs, key=lambda p: (-p.score, p.a, p.b, p.kind, p.what))
    )
    groups = "".join(f"<li>{html.escape(', '.join(g))}</li>" for g in similarity.clusters(pairs))
    return (
        "<h2>Possible copies</h2><p>For a person to judge: these submissions share what is shown; "
        "it accuses no one. Weights and histories match by hash; code and answers by rapidfuzz (0-100).</p>"
        "<table border='1'><tr><th>student</th><th>student</th><th>kind</th><th>what</th><th>score</th>"
        f"<th>evidence</th><th>evidence</th></tr>{rows}</table><h3>Clusters</h3><ul>{groups}</ul>"
    )


def html_page(title: str, body: str) -> str:
    """A page around ``body``."""
    return f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>{body}</body></html>"


def write(
    target: Path, outcomes: list, course_dir: Path, seconds: float, sandboxed: bool, pairs: list | None = None
) -> Path:
    """Write the HTML report."""
    frame = scores(course_dir)
    per_question = (
        frame.groupby(["assignment", "question"])
        .agg(points=("max", "max"), students=("score", "size"), mean=("score", "mean"), min=("score", "min"))
        .join(frame.groupby(["assignment", "question"])["score"].median().rename("median"))
        .join(frame.groupby(["assignment", "question"])["score"].max().rename("max"))
        .round(2)
    )
    flagged = [
        (o.student, o.assignment, reason)
        for o in outcomes
        for reason in ([o.refused] if o.refused else []) + o.flags + [f"0 for {g}: {w}" for g, w in o.withheld.items()]
    ]
    timing = pd.DataFrame(
        [(o.student, o.assignment, round(o.seconds, 1)) for o in outcomes if not o.refused],
        columns=["student", "assignment", "seconds"],
    )
    parts = [
        "<html><head><meta charset='utf-8'><title>Cohort report</title></head><body>",
        "<h1>Cohort report</h1>",
        f"<p>{len(outcomes)} submissions, {sum(bool(o.refused) for o in outcomes)} refused, "
        f"{sum(bool(o.flags) for o in outcomes)} flagged; graded in {seconds:.0f} s. "
        + ("Student code ran in a sandbox (bubblewrap)." if sandboxed else "Student code ran <b>unsandboxed</b>.")
        + "</p>",
        "<h2>Scores per question</h2>",
        per_question.to_html() if len(per_question) else "<p>No graded submission.</p>",
        "<h2>Flagged and refused submissions</h2>",
        "<p>For a person to judge: each line says what grading found, not what the student did.</p>",
        pd.DataFrame(flagged, columns=["student", "assignment", "reason"]).to_html(index=False)
        if flagged
        else "<p>None.</p>",
        copies_section(pairs or []),
        "<h2>Time per submission</h2>",
        timing.to_html(index=False),
        "</body></html>",
    ]
    target.write_text("\n".join(parts))
    return target
