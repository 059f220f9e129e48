"""Execute the suite's notebooks in order and write them back with outputs.

Each notebook runs in a fresh kernel (papermill). The executed copy is written to
a temporary file and renamed over the original only when the whole notebook ran
without error, so an interrupted or failing run never leaves a half-written
notebook. An HTML copy of each goes to ``reports/html/``.

Usage::

    python scripts/run_notebooks.py [--mode train|retrain|require] [--no-html] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def notebook_paths(patterns: list[str]) -> list[Path]:
    """Return the suite's notebooks in order, filtered by name substrings."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if patterns:
        paths = [p for p in paths if any(pat in p.stem for pat in patterns)]
    return paths


def execute(path: Path, *, timeout: int | None = None) -> float:
    """Execute one notebook in place (atomically); return the seconds it took."""
    import papermill

    tmp = path.with_name(f".{path.stem}.running.ipynb")
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(tmp),
            cwd=str(NOTEBOOKS),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
        )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return time.perf_counter() - start


def to_html(path: Path, out_dir: Path) -> Path:
    """Render an executed notebook to HTML."""
    from nbconvert import HTMLExporter

    out_dir.mkdir(parents=True, exist_ok=True)
    body, _ = HTMLExporter().from_filename(str(path))
    target = out_dir / f"{path.stem}.html"
    target.write_text(body, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only notebooks whose name contains one of these")
    parser.add_argument(
        "--mode",
        choices=["train", "retrain", "require"],
        default=None,
        help="cache mode (default: IMGCLS_CACHE_MODE or train)",
    )
    parser.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    args = parser.parse_args(argv)
    if args.mode:
        os.environ["IMGCLS_CACHE_MODE"] = args.mode
    paths = notebook_paths(args.names)
    if not paths:
        print("no notebook matches", args.names, file=sys.stderr)
        return 2
    failed = []
    for path in paths:
        print(f"[run] {path.name} ...", flush=True)
        try:
            seconds = execute(path)
        except Exception as err:  # papermill raises PapermillExecutionError with the cell's error
            print(f"[run] {path.name} FAILED: {str(err).strip().splitlines()[-1] if str(err).strip() else err!r}")
            failed.append(path.name)
            continue
        print(f"[run] {path.name} done in {seconds:.1f} s")
        if not args.no_html:
            print(f"[run]   html: {to_html(path, ROOT / 'reports' / 'html').relative_to(ROOT)}")
    if failed:
        print("[run] failed:", ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
