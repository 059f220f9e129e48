"""Copies between submissions: trained results by hashing, code and written answers by rapidfuzz.

For a person to judge, never an accusation. Each pair gets a kind, what matched,
a score (0-100) and the evidence side by side.

* **Trained results** are matched by hash, so the check is linear in the number
  of students: a model's digest is the SHA-256 of the sorted SHA-256s of its
  weight arrays (layer names and the file's layout do not count, so a renamed
  layer or a re-saved file still matches); a history's digest is that of its
  numbers, to the last digit. The same result counts only when its training
  record (when, and for how long, it trained) is the same too: the suite trains
  deterministically, so honest students with the same code and seed train the
  same weights, but not at the same second.
* **Code**: each solution cell (by its nbgrader ``grade_id``, so reordered cells
  still meet) less the release's own lines, as Python tokens with comments
  dropped, strings blanked and every name that is not a keyword, builtin,
  attribute or module alias numbered by first use (renamed variables match).
  Cells shorter than :data:`MIN_TOKENS` (a two-line ``model.compile``) are code
  every student writes alike and are not compared; neither are two students
  who both wrote a cell as the instructor's solution does (the exercise asked
  for it). rapidfuzz's ``ratio`` of the token strings, at least :data:`CODE_SCORE`.
* **Answers**: rapidfuzz's ``token_set_ratio`` of the lower-cased answers of at
  least :data:`MIN_WORDS` words, at least :data:`ANSWER_SCORE`.
"""

from __future__ import annotations

import ast
import builtins
import functools
import hashlib
import io
import json
import keyword
import tokenize
import zipfile
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import nbformat
from rapidfuzz import fuzz

MIN_TOKENS = 40
CODE_SCORE = 90.0
MIN_WORDS = 12
ANSWER_SCORE = 85.0
WEIGHTS_CAP = 200 * 2**20  # the largest weights file read
MODULES = {"hp", "keras", "np", "plt", "pd", "tf", "sns", "layers"}


@dataclass(frozen=True)
class Pair:
    """Two students whose submissions share something."""

    a: str
    b: str
    kind: str  # weights, history, code or answer
    what: str  # the cache entry or the grade_id
    score: float
    evidence: tuple[str, str]


def weights_digest(path: Path) -> str | None:
    """The digest of a ``.keras`` file's weight arrays (None when it has none to read)."""
    import h5py
    import numpy as np

    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("model.weights.h5")
            if info.file_size > WEIGHTS_CAP:
                return None
            data = archive.read(info)
        digests: list[str] = []
        with h5py.File(io.BytesIO(data), "r") as h5:

            def add(_: str, node) -> None:
                if isinstance(node, h5py.Dataset):
                    array = np.asarray(node)
                    digests.append(hashlib.sha256(str(array.shape).encode() + array.tobytes()).hexdigest())

            h5.visititems(add)
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return None
    return hashlib.sha256("".join(sorted(digests)).encode()).hexdigest() if digests else None


@functools.cache
def _safe_pickle():
    """``helpers/safe_pickle.py`` alone: the restricted unpickler, without the package's Keras import."""
    import importlib.util

    source = Path(__file__).resolve().parent.parent / "helpers" / "safe_pickle.py"
    spec = importlib.util.spec_from_file_location("safe_pickle", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def history_digest(path: Path) -> str | None:
    """The digest of a history's curves, to the last digit (None when it does not load safely)."""
    try:
        with open(path, "rb") as fh:
            history = _safe_pickle().load(fh)
    except Exception:  # noqa: BLE001 - unsafe, truncated or huge: verify reports it; nothing to compare
        return None
    if not isinstance(history, dict):
        return None
    return hashlib.sha256(repr(sorted(history.items(), key=lambda kv: str(kv[0]))).encode()).hexdigest()


def normalized(code: str) -> list[str]:
    """Python tokens with comments dropped, strings blanked and names numbered by first use."""
    names: dict[str, str] = {}
    out: list[str] = []
    previous = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            if tok.type == tokenize.STRING:
                text = "S"
            elif tok.type == tokenize.NAME and not (
                keyword.iskeyword(tok.string)
                or hasattr(builtins, tok.string)
                or previous == "."
                or tok.string in MODULES
            ):
                text = names.setdefault(tok.string, f"v{len(names)}")
            elif tok.type == tokenize.NEWLINE:
                text = ";"
            else:
                text = tok.string
            out.append(text)
            previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code.split()
    return out


def _written(source: str, template: str) -> str:
    """The lines of a cell the release did not already hold."""
    given = {line.strip() for line in template.splitlines()}
    return "\n".join(line for line in source.splitlines() if line.strip() and line.strip() not in given)


def _answer(source: str) -> str:
    """The text a student assigned to ``answer_...`` in an answer cell ('' when none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    texts = [
        node.value.value if isinstance(node.value, ast.Constant) else ast.unparse(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, (ast.Constant, ast.JoinedStr))
        and any(isinstance(t, ast.Name) and t.id.startswith("answer_") for t in node.targets)
    ]
    texts = [t for t in texts if isinstance(t, str)]
    return " ".join(texts[-1].split()) if texts else ""


def cells(nb: nbformat.NotebookNode) -> dict[str, str]:
    """A notebook's solution cells by grade_id."""
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }


def _close(a: list[str], b: list[str]) -> float:
    return fuzz.ratio(" ".join(a), " ".join(b))


def code_and_answer_pairs(
    notebooks: dict[str, nbformat.NotebookNode],
    release: nbformat.NotebookNode,
    solution: nbformat.NotebookNode | None = None,
) -> list[Pair]:
    """Pairs of students whose solution cells or answers match (``notebooks`` by student).

    Args:
        notebooks: each student's handed-in notebook.
        release: the student version, whose own lines are no one's work.
        solution: the instructor's version. Two students who both wrote a cell
            the way it solves it (within :data:`CODE_SCORE`) are not paired for
            that cell: the exercise asked for that code.
    """
    template = cells(release)
    expected = cells(solution) if solution is not None else {}
    by_student = {student: cells(nb) for student, nb in notebooks.items()}
    pairs = []
    for gid, given in template.items():
        if gid.startswith("answer_"):
            texts = {s: _answer(c.get(gid, "")) for s, c in by_student.items()}
            for a, b in combinations(sorted(texts), 2):
                if min(len(texts[a].split()), len(texts[b].split())) >= MIN_WORDS:
                    score = fuzz.token_set_ratio(texts[a].lower(), texts[b].lower())
                    if score >= ANSWER_SCORE:
                        pairs.append(Pair(a, b, "answer", gid, round(score, 1), (texts[a], texts[b])))
            continue
        written = {s: _written(c.get(gid, ""), given) for s, c in by_student.items()}
        tokens = {s: normalized(w) for s, w in written.items()}
        model = normalized(_written(expected[gid], given)) if gid in expected else []
        as_asked = {s for s, t in tokens.items() if model and _close(t, model) >= CODE_SCORE}
        for a, b in combinations(sorted(tokens), 2):
            if min(len(tokens[a]), len(tokens[b])) >= MIN_TOKENS and not {a, b} <= as_asked:
                score = _close(tokens[a], tokens[b])
                if score >= CODE_SCORE:
                    pairs.append(Pair(a, b, "code", gid, round(score, 1), (written[a], written[b])))
    return pairs


def training_record(root: Path, name: str) -> str:
    """When and how long an entry trained, from its manifest (``""`` when it has none to read).

    The suite's training is deterministic: two students whose code, seed and data
    are the same train the same weights, each at their own time. The same
    weights with the same record are one training run handed in twice.
    """
    try:
        manifest = json.loads((root / "histories" / f"{name}.json").read_text())
        return f"trained at {manifest['trained_at']} in {float(manifest['training_seconds']):.2f} s"
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return ""


def digests(root: Path) -> list[tuple[str, str, str, str]]:
    """(kind, entry name, digest, training record) for every model and history in a cache folder."""
    found = []
    for path in sorted((root / "saved_models").glob("*.keras")):
        digest = weights_digest(path)
        if digest:
            found.append(("weights", path.stem, digest, training_record(root, path.stem)))
    for path in sorted((root / "histories").glob("*.pkl")):
        digest = history_digest(path)
        if digest:
            found.append(("history", path.stem, digest, training_record(root, path.stem)))
    return found


def result_pairs(by_student: dict[str, list[tuple[str, ...]]]) -> list[Pair]:
    """Pairs of students who handed in the same training run, from each student's :func:`digests`.

    The same weights or history count when the two training records are the
    same, or one of them is missing; the same result trained at two times is
    the same deterministic run reproduced, not a copy.
    """
    buckets: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for student, found in by_student.items():
        for kind, name, digest, *record in found:
            buckets.setdefault((kind, digest), []).append((student, name, record[0] if record else ""))
    pairs = []
    for (kind, digest), found in buckets.items():
        for (a, name_a, when_a), (b, name_b, when_b) in combinations(sorted(found), 2):
            if a == b or (when_a and when_b and when_a != when_b):
                continue
            what = name_a if name_a == name_b else f"{name_a} / {name_b}"
            sides = ((name_a, when_a), (name_b, when_b))
            evidence = tuple(f"{n}: {digest[:16]}{f', {w}' if w else ''}" for n, w in sides)
            pairs.append(Pair(a, b, kind, what, 100.0, evidence))
    return pairs


def clusters(pairs: list[Pair]) -> list[list[str]]:
    """Groups of students joined by any pair (union-find), largest first."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for pair in pairs:
        parent[root(pair.a)] = root(pair.b)
    groups: dict[str, list[str]] = {}
    for student in parent:
        groups.setdefault(root(student), []).append(student)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g))


if __name__ == "__main__":  # run by grading in the sandbox: a student's files are parsed there, not in the grader
    import json
    import sys

    print(json.dumps(digests(Path(sys.argv[1]))))
