"""nbgrader metadata for one notebook source: which cells the student writes, which are tests, which are locked.

The jupytext source (``notebooks/src/NAME.py``) marks what nbgrader needs and no more:

* a code region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is the student's;
* a cell header's ``grade_id="..."`` names a graded cell (an autograded test, or a
  solution cell graded by hand such as a plot); an answer cell is named by its
  ``answer_...`` variable.

The points come from :mod:`course.points`. Every other cell is locked, except the
``parameters`` cell, where the student writes their name. nbgrader's own
``generate_assignment`` then strips the regions (see :mod:`course.release`).
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat

from course import points

BEGIN = "### BEGIN SOLUTION"
_ANSWER = re.compile(r"^\s*hp\.check_answer\((answer_\w+)", re.MULTILINE)


class NotReleasable(ValueError):
    """A notebook whose cells and points table disagree, or that has no points table yet."""


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    """The grade_id a source cell names: its header's, or its answer variable's."""
    if cell.metadata.get("grade_id"):
        return str(cell.metadata["grade_id"])
    found = _ANSWER.search(cell.source) if cell.cell_type == "code" else None
    return found.group(1) if found else None


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: float | None = None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def nbgrader_notebook(source: Path) -> nbformat.NotebookNode:
    """Read a notebook source and give every cell its nbgrader metadata.

    Args:
        source: ``notebooks/src/NAME.py``.

    Returns:
        The notebook, with no outputs, ready for nbgrader's ``source/`` folder.

    Raises:
        NotReleasable: The notebook has no points table, a graded cell has no
            points, or a table entry has no cell.
    """
    name = source.stem
    if name in points.NOT_RELEASED:
        raise NotReleasable(f"{name} is not handed out: {points.NOT_RELEASED[name]}")
    if name not in points.CELLS:
        raise NotReleasable(f"{name} has no points table in course/points.py yet, so it cannot be released")
    table = points.CELLS[name]
    nb = jupytext.read(source)
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        cell.metadata.pop("grade_id", None)
        has_region = cell.cell_type == "code" and BEGIN in cell.source
        if "parameters" in cell.metadata.get("tags", []):
            continue  # the student's name goes here: left free
        if gid is None:
            if has_region:
                gid = f"solution_{index:03d}"
            else:
                cell.metadata["nbgrader"] = _nbgrader(f"cell_{index:03d}", solution=False, grade=False, locked=True)
                continue
        if gid in seen:
            raise NotReleasable(f"{name}: grade_id {gid!r} is used twice")
        seen.add(gid)
        graded = table.get(gid)
        if graded is None and not gid.startswith("solution_"):
            raise NotReleasable(f"{name}: cell {gid!r} has no points in course/points.py")
        if graded is None:
            cell.metadata["nbgrader"] = _nbgrader(gid, solution=True, grade=False, locked=False)
        else:
            cell.metadata["nbgrader"] = _nbgrader(
                gid, solution=has_region, grade=True, locked=not has_region, points=graded.points
            )
    missing = sorted(set(table) - seen)
    if missing:
        raise NotReleasable(f"{name}: course/points.py grades cells the notebook does not have: {', '.join(missing)}")
    nb.metadata["kernelspec"] = {"name": "imgcls", "display_name": "Python 3 (imgcls .venv)", "language": "python"}
    nb.metadata.pop("jupytext", None)
    return nb


def releasable() -> list[str]:
    """The notebooks that have a points table, in order."""
    return sorted(points.CELLS)
