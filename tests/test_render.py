"""Rendering: a PDF per notebook and a combined PDF, with figures, never training."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED_DATA, have_real_data

pytestmark = [
    pytest.mark.notebooks,
    pytest.mark.skipif(
        shutil.which("chromium") is None or shutil.which("pdftoppm") is None,
        reason="chromium and pdftoppm are needed (scripts/setup_env.sh installs them)",
    ),
    pytest.mark.skipif(not have_real_data(), reason="offline datasets not present"),
]


@pytest.fixture(autouse=True)
def _data_dir(monkeypatch):
    monkeypatch.setenv("IMGCLS_DATA_DIR", str(SHARED_DATA))


def page_pixels(pdf, page: int, tmp_path):
    import numpy as np
    from PIL import Image

    prefix = tmp_path / f"p{page}"
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", str(page), "-l", str(page), "-png", str(pdf), str(prefix)], check=True
    )
    (png,) = tmp_path.glob(f"p{page}*.png")
    return np.asarray(Image.open(png).convert("L"), dtype=float)


def test_render_one_notebook_to_html_and_pdf(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    import render
    from pypdf import PdfReader

    monkeypatch.setattr(render, "REPORTS", tmp_path / "reports")
    assert render.main(["01_data_preparation"]) == 0
    pdf = tmp_path / "reports" / "pdf" / "01_data_preparation.pdf"
    suite = tmp_path / "reports" / "suite.pdf"
    assert (tmp_path / "reports" / "html" / "01_data_preparation.html").is_file()
    pages = len(PdfReader(pdf).pages)
    assert pages >= 1 and len(PdfReader(suite).pages) == pages
    assert "Data preparation" in PdfReader(pdf).pages[0].extract_text()
    # a page with a figure is not blank: dark pixels of the sample images are there
    darkest = min(page_pixels(pdf, p, tmp_path).min() for p in range(1, min(pages, 4) + 1))
    spread = max(page_pixels(pdf, p, tmp_path).std() for p in range(1, min(pages, 4) + 1))
    assert darkest < 30 and spread > 20


def test_render_fails_clearly_on_missing_cache(tmp_path, monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "scripts"))
    import render

    monkeypatch.setattr(render, "REPORTS", tmp_path / "reports")
    monkeypatch.setenv("IMGCLS_CACHE_DIR", str(tmp_path / "empty_cache"))
    assert render.main(["03_optimizers"]) == 1
    err = capsys.readouterr().err
    assert "CacheMiss" in err and "no cached artifact" in err and "FAILED" in err
