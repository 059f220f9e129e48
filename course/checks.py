"""What grading reads from an autograded notebook: the runs each graded cell used, misses, answers, fraud.

Every function here reads notebooks only (nbformat), never runs code:

* :func:`dependencies`: the cache entries a graded cell rests on, from the
  ``[cache] loaded NAME`` lines that require mode prints between it and the
  previous graded cell;
* :func:`misses`: runs the student's cache did not have, from ``CacheMiss``;
* :func:`answer_problems`: answers over the seeds' limits, and empty answers;
* :func:`edited_outputs`: cells whose printed numbers differ between the
  notebook the student handed in and its re-execution from their cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

_LOADED = re.compile(r"\[cache\] loaded (\S+) ")
_MISS = re.compile(r"(?:no cached artifact|cached artifact) '([^']+)'( is stale)?")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
# Lines whose numbers may differ between two honest runs from one cache: the cache's own log, Keras'
# progress bars and epoch lines (a run that trained prints them, its re-execution does not).
_VOLATILE = re.compile(r"^\s*\[cache\]|Epoch \d+/\d+|/step|\bETA\b|\d+s \d+ms")


@dataclass(frozen=True)
class Edited:
    """A cell whose handed-in output disagrees with its re-execution."""

    cell: int
    handed_in: str
    re_executed: str


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    """The nbgrader grade_id of a graded cell, else None."""
    meta = cell.metadata.get("nbgrader", {})
    return meta.get("grade_id") if meta.get("grade") else None


def text(cell: nbformat.NotebookNode) -> str:
    """What a code cell printed: its standard output, plain-text results and errors.

    Not standard error (warnings name the machine's paths) nor a figure's text
    (``<Figure size 1100x400 ...>``).
    """
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "execute_result":
            parts.append(str(out.get("data", {}).get("text/plain", "")))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "\n".join(parts)


def dependencies(nb: nbformat.NotebookNode) -> dict[str, set[str]]:
    """For each graded cell, the cache entries loaded since the previous graded cell."""
    found: dict[str, set[str]] = {}
    pending: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        pending |= set(_LOADED.findall(text(cell)))
        gid = grade_id(cell)
        if gid:
            found[gid], pending = pending, set()
    return found


def misses(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Runs the notebook needed and the cache did not hold: name -> ``missing`` or ``stale``."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") == "CacheMiss":
                for name, stale in _MISS.findall(out.get("evalue", "")):
                    found[name] = "stale" if stale else "missing"
    return found


def answer_problems(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Answer cells (by grade_id) that earn nothing: over a limit (with the count) or empty."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        gid = grade_id(cell)
        if not gid or not gid.startswith("answer_"):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            if out.get("ename") == "ValueError" and "the limit is" in out.get("evalue", ""):
                found[gid] = f"{out['evalue']}: over the seed's limit, so the question's points are lost"
            elif out.get("ename") in ("EmptyAnswer", "NotImplementedError") or "NotImplementedError" in cell.source:
                found[gid] = "no answer written"
    return found


def _numbers(cell_text: str) -> list[str]:
    lines = [line for line in cell_text.splitlines() if not _VOLATILE.search(line)]
    return _NUMBER.findall("\n".join(lines))


def edited_outputs(handed_in: nbformat.NotebookNode, re_executed: nbformat.NotebookNode) -> list[Edited]:
    """Code cells whose printed numbers differ between the handed-in notebook and its re-execution.

    Cells are matched by position (autograde re-executes the handed-in notebook
    cell for cell). A cell that failed on re-execution is not compared (its
    failure is graded by its tests), nor one handed in without outputs.
    """
    found = []
    if len(handed_in.cells) != len(re_executed.cells):
        return found
    for index, (mine, ours) in enumerate(zip(handed_in.cells, re_executed.cells, strict=True)):
        if mine.cell_type != "code" or not mine.get("outputs"):  # not run before it was handed in: nothing to forge
            continue
        if any(o.get("output_type") == "error" for o in ours.get("outputs", [])):
            continue
        a, b = _numbers(text(mine)), _numbers(text(ours))
        if a != b:
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            found.append(Edited(index, a[first] if first < len(a) else "-", b[first] if first < len(b) else "-"))
    return found
