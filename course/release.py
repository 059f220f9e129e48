"""``./course.sh release``: nbgrader writes the student version of each notebook; this adds what a student runs.

One nbgrader assignment per notebook, so a course can hand them out week by week.
The nbgrader course folder (``source/``, nbgrader's ``release/``, the gradebook)
is ``.course/``; the handout is ``release/NAME/`` and ``release/NAME.zip``, both
git-ignored. A release is refused when :func:`leaks` finds any solution in it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import zipfile
from pathlib import Path

import nbformat

from course import assignment, engine

ROOT = Path(__file__).resolve().parent.parent
COURSE_DIR = ROOT / ".course"
RELEASE_DIR = ROOT / "release"
#: What a student gets besides the notebook: the helpers, the pinned environment and the scripts it runs.
SHIPPED = (
    "helpers",
    "requirements.txt",
    "run.sh",
    "lab.sh",
    "render.sh",
    "course.sh",
    "scripts/env.sh",
    "scripts/setup_env.sh",
    "scripts/run_notebooks.py",
    "scripts/render.py",
    "scripts/pdf_contents.py",
    "scripts/submit.py",
)
STUDENT_README = Path(__file__).with_name("student_readme.md")
_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
_HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
_MIN_LEAK_CHARS = 20  # shorter lines (``x_train,``) are template code as well as solution code


def gradebook_url(course_dir: Path) -> str:
    """The gradebook's SQLAlchemy URL: ``IMGCLS_GRADEBOOK_URL``, else SQLite beside the course folder."""
    return os.environ.get("IMGCLS_GRADEBOOK_URL", f"sqlite:///{course_dir / 'gradebook.db'}")


def write_course_config(course_dir: Path) -> None:
    """nbgrader's settings for this course folder: the gradebook beside it, SQLite unless told otherwise."""
    course_dir.mkdir(parents=True, exist_ok=True)
    db_url = gradebook_url(course_dir)
    (course_dir / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        "c.CourseDirectory.course_id = 'imgcls'\n"
        f"c.CourseDirectory.db_url = {db_url!r}\n"
        "c.ClearSolutions.enforce_metadata = True\n"
    )


def generate(name: str, course_dir: Path = COURSE_DIR) -> Path:
    """Write the instructor's nbgrader notebook for ``name`` and let nbgrader generate the student version.

    Returns:
        nbgrader's student notebook (``course_dir/release/NAME/NAME.ipynb``).
    """
    generate_all([name], course_dir)
    return course_dir / "release" / name / f"{name}.ipynb"


def generate_all(names: list[str], course_dir: Path = COURSE_DIR, helpers: bool = False) -> None:
    """:func:`generate` for several notebooks, with one start of nbgrader.

    Args:
        names: the notebooks.
        course_dir: the nbgrader course folder.
        helpers: also put our ``helpers/`` beside each notebook in ``source/``, so
            that nbgrader's release (and its exchange) hands them out with it.

    Raises:
        RuntimeError: nbgrader failed for one of them; the message says why.
    """
    write_course_config(course_dir)
    for name in names:
        source = course_dir / "source" / name
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir(parents=True)
        notebook = assignment.nbgrader_notebook(ROOT / "notebooks" / "src" / f"{name}.py")
        nbformat.write(notebook, source / f"{name}.ipynb")
        if helpers:
            shutil.copytree(ROOT / "helpers", source / "helpers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    failed = [e for e in engine.batch([["generate_assignment", n, "--force"] for n in names], course_dir) if e]
    if failed:
        raise RuntimeError(failed[0])


def _copy_shipped(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for rel in SHIPPED:
        src, dst = ROOT / rel, target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore)
        else:
            shutil.copy2(src, dst)
    for folder in ("saved_models", "histories"):  # the student's own, empty cache
        (target / folder).mkdir()
        (target / folder / ".keep").write_text("")
    shutil.copy2(STUDENT_README, target / "README.md")
    (target / "notebooks").mkdir(exist_ok=True)
    (target / "notebooks" / "helpers").symlink_to(Path("..") / "helpers")


def _zip(folder: Path) -> Path:
    """The folder as one zip (links followed, so the zip opens anywhere)."""
    target = folder.with_suffix(".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, Path(folder.name) / path.relative_to(folder))
    return target


def release(name: str, out: Path = RELEASE_DIR, course_dir: Path = COURSE_DIR) -> Path:
    """Build ``out/NAME/`` and ``out/NAME.zip`` for one notebook.

    Raises:
        RuntimeError: nbgrader failed, or a solution leaked into the release.
    """
    student_nb = generate(name, course_dir)
    target = out / name
    shutil.rmtree(target, ignore_errors=True)
    target.with_suffix(".zip").unlink(missing_ok=True)
    target.mkdir(parents=True)
    _copy_shipped(target)
    shutil.copy2(student_nb, target / "notebooks" / f"{name}.ipynb")
    found = leaks(target, [name])
    if found:
        shutil.rmtree(target)
        raise RuntimeError(f"release of {name} refused, a solution leaked: {found[0]}")
    _zip(target)
    return target


def regions(name: str) -> list[str]:
    """The text of every solution region and hidden test in a notebook's source."""
    text = (ROOT / "notebooks" / "src" / f"{name}.py").read_text()
    return [m.group(1) for m in _REGION.finditer(text)] + [m.group(1) for m in _HIDDEN.finditer(text)]


@functools.cache
def shipped_lines() -> frozenset[str]:
    """Every line of the code a student gets anyway (``helpers/`` and the scripts): never a secret."""
    files = [ROOT / rel for rel in SHIPPED if (ROOT / rel).is_file()]
    files += [f for rel in SHIPPED if (ROOT / rel).is_dir() for f in (ROOT / rel).rglob("*.py")]
    return frozenset(line.strip() for f in files for line in f.read_text().splitlines())


def secret_lines(name: str) -> set[str]:
    """Lines of the solution regions that neither the rest of the notebook nor the shipped code has."""
    text = (ROOT / "notebooks" / "src" / f"{name}.py").read_text()
    secret = {line.strip() for region in regions(name) for line in region.splitlines()}
    public = _HIDDEN.sub("", _REGION.sub("", text))
    public_lines = {line.strip() for line in public.splitlines()} | shipped_lines()
    return {s for s in secret - public_lines if len(s) >= _MIN_LEAK_CHARS}


def computed_answers(name: str) -> list[str]:
    """The answers our solved notebook prints (the first line ``check_answer`` prints for each)."""
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "hp.check_answer(" in cell.source:
            for out in cell.get("outputs", []):
                lines = [line for line in out.get("text", "").splitlines() if line.strip()]
                if lines and not lines[0].startswith("Answer is"):
                    found.append(lines[0].strip())
    return found


def cache_hashes(root: Path = ROOT) -> set[str]:
    """SHA-256 of every file of our committed cache."""
    return {
        hashlib.sha256(f.read_bytes()).hexdigest()
        for folder in ("saved_models", "histories")
        for f in (root / folder).rglob("*")
        if f.is_file() and f.stat().st_size > 0
    }


def leaks(folder: Path, names: list[str]) -> list[str]:
    """Every way a solution shows in a release folder: one line each (empty: none).

    Looks in every file for each solution region's lines (as whole lines), each
    computed answer (anywhere) and each of our cache files (by hash), and in
    every notebook for outputs.
    """
    needles = {line: f"solution code of {n}" for n in names for line in secret_lines(n)}
    needles.update({answer: f"computed answer of {n}" for n in names for answer in computed_answers(n)})
    ours = cache_hashes()
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() in ours:
            found.append(f"{rel} is a file of our cache")
        text = data.decode("utf-8", errors="ignore")
        if path.suffix == ".ipynb":
            nb = nbformat.reads(text, as_version=4)
            if any(c.get("outputs") or c.get("execution_count") for c in nb.cells if c.cell_type == "code"):
                found.append(f"{rel} has outputs")
            outputs = [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])]
            text = "\n".join([c.source for c in nb.cells] + [t if isinstance(t, str) else "" for t in outputs])
        lines = {line.strip() for line in text.splitlines()}
        found += [
            f"{rel} holds {what}: {needle[:60]}"
            for needle, what in needles.items()
            if (needle in lines if what.startswith("solution") else needle in text)
        ]
    return found
