"""Render the suite for hand-in: execute from the cache, then HTML, PDF and one combined PDF.

Every notebook is executed in a fresh kernel in require-cache mode (it never
trains: a missing or stale artifact stops that notebook with a message naming
it). Data sets are found as in ``./run.sh``: the data folder, Keras' download
cache, else a download when the machine is online. The executed copies go to
``reports/notebooks/``, HTML to ``reports/html/``, one PDF per notebook to
``reports/pdf/`` (printed by headless Chromium, no TeX needed) and
``reports/suite.pdf`` combines them all behind a cover page. ``--student``
fills in each notebook's ``student`` parameter and heads every PDF with it.
Each PDF is read back (``pdftotext``) and every table cell and output line
that did not make it onto paper is reported. The committed notebooks are not
modified.

Usage::

    python scripts/render.py [--student "Name (ID)"] [NAME ...]
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from pdf_contents import missing_from_pdf  # noqa: E402
from run_notebooks import execute_to, failure_line, notebook_paths  # noqa: E402

REPORTS = ROOT / "reports"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
]


# Nothing is hidden on paper: no scroll areas, long code lines and outputs wrap
# instead of being cut off at the margin, wide tables wrap their headers and
# shrink; outputs are set smaller so that Keras summaries keep their columns.
PRINT_CSS = """<style>
@page { margin: 10mm 12mm; }
@media print {
  :root { --jp-cell-prompt-width: 44px; }
  .jp-InputPrompt, .jp-OutputPrompt { font-size: 6.5pt !important; }
  .jp-OutputArea, .jp-OutputArea-child, .jp-OutputArea-output, .jp-OutputArea-output *,
  .jp-Cell-outputWrapper, .jp-RenderedHTMLCommon { overflow: visible !important; max-height: none !important; }
  pre, code, .jp-OutputArea-output pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  /* small enough that a 28-column pixel array or a Keras summary (115 characters) fits the width unwrapped */
  .jp-OutputArea-output pre { font-size: 6.8pt !important; line-height: 1.25 !important; }
  .jp-InputArea pre { font-size: 8pt !important; }
  .jp-RenderedHTMLCommon table { font-size: 7pt !important; table-layout: auto !important; max-width: 100%; }
  .jp-RenderedHTMLCommon th { white-space: normal !important; overflow-wrap: normal; padding: 1px 4px !important; }
  .jp-RenderedHTMLCommon td { white-space: nowrap !important; padding: 1px 4px !important; }
  .jp-Cell { break-inside: avoid-page; }
  img { max-width: 100% !important; }
}
.imgcls-student { font: 11pt sans-serif; border-bottom: 1px solid #888; padding: 4px 0; margin-bottom: 8px; }
</style>
"""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def execute_from_cache(path: Path, out_dir: Path, *, student: str | None = None) -> Path:
    """Execute one notebook in require-cache mode into ``out_dir``; return the executed copy.

    Raises:
        RuntimeError: With one line naming the cell's error (a missing artifact, missing data).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / path.name
    try:
        execute_to(path, target, parameters={"student": student} if student else None, timeout=1800)
    except Exception as err:  # papermill's execution error carries the cell's error as its last line
        raise RuntimeError(failure_line(err)) from None
    return target


def student_banner(student: str) -> str:
    """The line that heads every page set handed in."""
    from html import escape

    return f'<div class="imgcls-student">Submitted by: <b>{escape(student)}</b></div>'


def to_html(path: Path, out_dir: Path, *, student: str | None = None) -> Path:
    """Render an executed notebook to self-contained HTML (no CDN scripts), headed by the student's name."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    body, _ = exporter.from_filename(str(path))
    body = body.replace("</head>", PRINT_CSS + "</head>", 1)
    if student:
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + student_banner(student), body, count=1)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{path.stem}.html"
    target.write_text(body, encoding="utf-8")
    return target


def to_pdf(html: Path, out_dir: Path, chromium: str) -> Path:
    """Print an HTML file to PDF with headless Chromium."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{html.stem}.pdf"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={target}",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    if not target.is_file() or target.stat().st_size == 0:
        raise RuntimeError(f"Chromium wrote no PDF for {html.name}")
    return target


def cover_html(stems: list[str], student: str | None, out_dir: Path) -> Path:
    """A cover page for the combined PDF: title, student, the notebooks it holds."""
    items = "".join(f"<li>{html.escape(stem)}</li>" for stem in stems)
    who = f"<p>Submitted by: <b>{html.escape(student)}</b></p>" if student else ""
    page = (
        '<html><head><meta charset="utf-8"><title>cover</title></head>'
        '<body style="font-family: sans-serif; margin: 3cm 2cm">'
        f"<h1>Image classification coursework</h1>{who}<p>Notebooks:</p><ol>{items}</ol></body></html>"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "cover.html"
    target.write_text(page, encoding="utf-8")
    return target


def combine(pdfs: list[Path], target: Path, *, cover: Path | None = None) -> Path:
    """Concatenate PDFs into one (after an optional cover), with one outline entry per notebook."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    if cover is not None:
        writer.append(str(cover))
    for pdf in pdfs:
        start = len(writer.pages)
        writer.append(str(pdf))
        writer.add_outline_item(title=pdf.stem, page_number=start)
    with open(target, "wb") as fh:
        writer.write(fh)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only notebooks whose name contains one of these")
    parser.add_argument("--student", default=None, help='your name and ID, e.g. "Ada Lovelace (s1234567)"')
    args = parser.parse_args(argv)
    os.environ["IMGCLS_CACHE_MODE"] = "require"
    chromium = find_chromium()
    if chromium is None:
        print(
            "[render] Chromium not found: install Debian's 'chromium' package (scripts/setup_env.sh does).",
            file=sys.stderr,
        )
        return 2
    pdfs, failed = [], []
    for path in notebook_paths(args.names):
        print(f"[render] {path.stem}: executing from the cache ...", flush=True)
        try:
            executed = execute_from_cache(path, REPORTS / "notebooks", student=args.student)
        except RuntimeError as err:
            print(f"[render] {path.stem} FAILED: {err}", file=sys.stderr)
            failed.append(path.stem)
            continue
        html_file = to_html(executed, REPORTS / "html", student=args.student)
        pdfs.append(to_pdf(html_file, REPORTS / "pdf", chromium))
        print(f"[render]   {pdfs[-1].relative_to(ROOT) if pdfs[-1].is_relative_to(ROOT) else pdfs[-1]}")
        lost = missing_from_pdf(nbformat_read(executed), pdfs[-1])
        if lost:
            print(f"[render]   WARNING: {len(lost)} table cells or output lines are not in the PDF, e.g. {lost[0]!r}")
    if pdfs:
        cover = to_pdf(cover_html([p.stem for p in pdfs], args.student, REPORTS / "html"), REPORTS / "pdf", chromium)
        suite = combine(pdfs, REPORTS / "suite.pdf", cover=cover)
        print(f"[render] combined: {suite.relative_to(ROOT) if suite.is_relative_to(ROOT) else suite}")
    if failed:
        print("[render] failed (nothing was trained): " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


def nbformat_read(path: Path):
    """Read an executed notebook."""
    import nbformat

    return nbformat.read(path, as_version=4)


if __name__ == "__main__":
    sys.exit(main())
