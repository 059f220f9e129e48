"""Render the suite for hand-in: execute from the cache, then HTML, PDF and one combined PDF.

Every notebook is executed in a fresh kernel in require-cache mode (it never
trains: a missing or stale artifact stops that notebook with a message naming
it). The executed copies go to ``reports/notebooks/``, HTML to
``reports/html/``, one PDF per notebook to ``reports/pdf/`` (printed by headless
Chromium, no TeX needed) and ``reports/suite.pdf`` combines them all. The
committed notebooks are not modified.

Usage::

    python scripts/render.py [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from run_notebooks import notebook_paths  # noqa: E402

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


# Long code lines and outputs wrap on paper instead of being cut off at the margin;
# outputs are set smaller so that tables (Keras summaries) keep their columns.
PRINT_CSS = """<style>
@media print {
  pre, code, .jp-OutputArea-output pre { white-space: pre-wrap !important; word-break: break-word; }
  /* small enough that a 100-column Keras summary table fits the page width unwrapped */
  .jp-OutputArea-output pre { font-size: 7.5pt !important; line-height: 1.25 !important; }
  .jp-InputArea pre { font-size: 8pt !important; }
  .jp-Cell { break-inside: avoid-page; }
  img { max-width: 100% !important; }
}
</style>
"""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def execute_from_cache(path: Path, out_dir: Path) -> Path:
    """Execute one notebook in require-cache mode into ``out_dir``; return the copy."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as err:
        raise RuntimeError(f"{err.ename}: {err.evalue}") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / path.name
    nbformat.write(nb, target)
    return target


def to_html(path: Path, out_dir: Path) -> Path:
    """Render an executed notebook to self-contained HTML (no CDN scripts)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    body, _ = exporter.from_filename(str(path))
    body = body.replace("</head>", PRINT_CSS + "</head>", 1)
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


def combine(pdfs: list[Path], target: Path) -> Path:
    """Concatenate PDFs into one, with one outline entry per notebook."""
    from pypdf import PdfWriter

    writer = PdfWriter()
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
    args = parser.parse_args(argv)
    os.environ["IMGCLS_CACHE_MODE"] = "require"
    os.environ.setdefault("IMGCLS_OFFLINE", "1")
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
            executed = execute_from_cache(path, REPORTS / "notebooks")
        except RuntimeError as err:
            print(f"[render] {path.stem} FAILED: {err}", file=sys.stderr)
            failed.append(path.stem)
            continue
        html = to_html(executed, REPORTS / "html")
        pdfs.append(to_pdf(html, REPORTS / "pdf", chromium))
        print(f"[render]   {pdfs[-1]}")
    if pdfs:
        print(f"[render] combined: {combine(pdfs, REPORTS / 'suite.pdf')}")
    if failed:
        print("[render] failed (nothing was trained): " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
