"""``./course.sh submit``: check a student's notebooks, then pack them with their PDF and cache entries.

One zip, ``submission/submission.zip``, holds the notebooks, ``reports/suite.pdf``
and exactly the cache entries those notebooks recorded (their manifests name the
notebook that trained them) plus the runs they read from earlier notebooks and
the stored predictions they name.
Before packing it says, one line each, what a grader would hold against it:
unanswered questions, notebooks not executed or executed with errors, runs not
cached, and a zip over seed 002's 100 MB.

Usage::

    python scripts/submit.py [NAME ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
# helpers/shared_runs.py alone, without the package's Keras import
_spec = importlib.util.spec_from_file_location("shared_runs", ROOT / "helpers" / "shared_runs.py")
shared_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shared_runs)

SIZE_LIMIT_MB = 100  # seed 002: "not larger than 100MB"
_STUB = "raise NotImplementedError()"
_EMPTY_ANSWER = re.compile(r'^\s*(answer_\w+) = ""', re.MULTILINE)
_MISS = re.compile(r"no cached artifact '([^']+)'")
_QUOTED = re.compile(r"[\"']([A-Za-z0-9][A-Za-z0-9_.-]*)[\"']")


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is unfinished in one notebook: one line each (empty: nothing)."""
    found = []
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    stubs = sum(_STUB in c.source for c in code)
    if stubs:
        found.append(f"{stubs} exercise(s) still raise NotImplementedError: write the code and remove the raise")
    source = "\n".join(c.source for c in code)
    for var in _EMPTY_ANSWER.findall(source):
        if len(re.findall(rf"^\s*{var} = ", source, re.MULTILINE)) == 1:
            found.append(f"{var} is empty: write your answer between its quotes")
    if not all(c.get("execution_count") for c in code):
        found.append("not executed top to bottom: set stop_training = True and run all cells (or ./run.sh NAME)")
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    missing = sorted({m for o in errors for m in _MISS.findall(o.get("evalue", ""))})
    if missing:
        found.append(f"runs not cached: {', '.join(missing)}: train them (stop_training = False), then re-run")
    elif errors:
        found.append(f"{len(errors)} cell(s) ended with an error, the first: {errors[0].get('ename')}")
    return found


def entries(notebook: str) -> list[Path]:
    """The cache files a notebook uses: the runs it trained, their headline records and the runs it reads."""
    files = []
    names = set(shared_runs.read_by(notebook))
    for manifest in sorted((ROOT / "histories").glob("*.json")):
        try:
            record = json.loads(manifest.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and (record.get("notebook") == notebook or record.get("name") in names):
            files.append(manifest)
            for part in (record.get("files") or {}).values():
                path = ROOT / str(part.get("path", ""))
                if path.is_file() and path.resolve().is_relative_to(ROOT):
                    files.append(path)
    files += sorted((ROOT / "histories" / "headlines").glob(f"{notebook}.*.json"))
    return files


def predictions(nb: nbformat.NotebookNode) -> list[Path]:
    """The stored predictions a notebook reads: ``histories/predictions/NAME.npz`` for each quoted NAME in its code.

    Without them, grading would predict every test image again with every model of an ensemble.
    """
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    quoted = set(_QUOTED.findall(source))
    return [p for p in sorted((ROOT / "histories" / "predictions").glob("*.npz")) if p.stem in quoted]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only notebooks whose name contains one of these")
    args = parser.parse_args(argv)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    notebooks = [p for p in notebooks if not args.names or any(n in p.stem for n in args.names)]
    if not notebooks:
        print("submit: no notebook matches; name one from notebooks/", file=sys.stderr)
        return 2
    members: dict[Path, None] = {}
    ready = True
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for line in problems(nb):
            print(f"[submit] {path.stem}: {line}")
            ready = False
        members[path] = None
        members.update(dict.fromkeys(entries(path.stem)))
        members.update(dict.fromkeys(predictions(nb)))
    pdf = ROOT / "reports" / "suite.pdf"
    if pdf.is_file():
        members[pdf] = None
    else:
        print('[submit] no PDF: run ./render.sh --student "Your Name (ID)" first')
        ready = False
    size_mb = sum(p.stat().st_size for p in members) / 2**20
    if size_mb > SIZE_LIMIT_MB:
        largest = sorted(members, key=lambda p: -p.stat().st_size)[:3]
        shown = ", ".join(f"{p.name} ({p.stat().st_size / 2**20:.0f} MB)" for p in largest)
        print(f"[submit] warning: {size_mb:.0f} MB is over the {SIZE_LIMIT_MB} MB limit; the largest: {shown}")
    target = ROOT / "submission" / "submission.zip"
    target.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in members:
            archive.write(path, path.relative_to(ROOT))
    verdict = "ready to hand in" if ready else "packed, but fix the lines above before you hand it in"
    print(f"[submit] submission/submission.zip: {len(members)} files, {size_mb:.1f} MB; {verdict}")
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
