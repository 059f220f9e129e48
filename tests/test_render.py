"""Rendering for hand-in: every notebook to a PDF that shows everything, on a student's laptop.

* The laptop: a copy of the project with no ``../shared`` beside it, a
  temporary HOME whose Keras download cache holds MNIST and Fashion-MNIST in
  Keras' own formats, no ``IMGCLS_DATA_DIR``. ``./render.sh --student ...``
  must build every PDF there, and each PDF's text layer must hold every
  table cell and output line of its executed notebook; pages with figures
  must not be blank; the student's name heads every PDF.
* The completeness check itself can fail: a clipped table is caught.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from conftest import ROOT, SHARED_DATA, have_real_data

from helpers import data

sys.path.insert(0, str(ROOT / "scripts"))

import pdf_contents  # noqa: E402
import render  # noqa: E402

pytestmark = [
    pytest.mark.notebooks,
    pytest.mark.skipif(
        shutil.which("chromium") is None or shutil.which("pdftotext") is None,
        reason="chromium and poppler-utils are needed (scripts/setup_env.sh installs them)",
    ),
]
STUDENT = "Ada Lovelace (s1234567)"


def make_keras_cache(home) -> None:
    """MNIST and Fashion-MNIST where ``keras.datasets`` leaves them, in Keras' formats."""
    from helpers.data import _load_idx_folder

    datasets = home / ".keras" / "datasets"
    datasets.mkdir(parents=True)
    (x_train, y_train), (x_test, y_test) = _load_idx_folder(SHARED_DATA / "mnist")
    u8 = np.uint8
    np.savez_compressed(
        datasets / "mnist.npz", x_train=x_train, y_train=y_train.astype(u8), x_test=x_test, y_test=y_test.astype(u8)
    )
    shutil.copytree(SHARED_DATA / "fashion-mnist", datasets / "fashion-mnist")


def copy_project(target) -> None:
    """The files a clone has (tracked and not ignored), plus a link to the set-up ``.venv``."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source, dest = ROOT / name.decode(), target / name.decode()
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            dest.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, dest)
    (target / ".venv").symlink_to(ROOT / ".venv")


def loads_keras_data(stem: str) -> bool:
    """Whether a notebook loads MNIST or Fashion-MNIST (on the laptop, only Keras' cache has them)."""
    source = (ROOT / "notebooks" / "src" / f"{stem}.py").read_text()
    return re.search(r'\("(?:mnist|fashion_mnist)"\)', source) is not None


@pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")
def test_render_on_a_laptop_builds_every_pdf_with_everything_in_it(laptop_render):
    suite, tmp_path, log = laptop_render.suite, laptop_render.base, laptop_render.log
    assert not (suite.parent / "shared").exists()
    assert laptop_render.returncode == 0, log[-3000:]
    assert "without encryption" not in log and "WARNING" not in log, log[-3000:]

    stems = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    reports = suite / "reports"
    assert sorted(p.stem for p in (reports / "pdf").glob("[0-9][0-9]_*.pdf")) == stems
    problems = {}
    for stem in stems:
        nb = nbformat.read(reports / "notebooks" / f"{stem}.ipynb", as_version=4)
        pdf = reports / "pdf" / f"{stem}.pdf"
        text = pdf_contents.pdf_text(pdf)
        outputs = nbformat.writes(nb)
        found = {
            "missing from the PDF": pdf_contents.missing_from_pdf(nb, pdf),
            "blank figure pages": pdf_contents.blank_figure_pages(pdf),
            "machine paths": sorted(set(re.findall(rf"{re.escape(str(tmp_path))}[^\s\"']*", outputs))),
            "ANSI codes": ["\\u001b["] if "\\u001b[" in outputs else [],
            "no student heading": [] if STUDENT in text.split("\f")[0] else [stem],
            "data not from Keras' cache": []
            if not loads_keras_data(stem) or "Keras' download cache" in outputs
            else [stem],
        }
        problems.update({f"{stem}: {k}": v[:5] for k, v in found.items() if v})
    assert problems == {}
    cover = pdf_contents.pdf_text(reports / "suite.pdf").split("\f")[0]
    assert STUDENT in cover and all(stem in cover for stem in stems)


def fake_notebook(columns: int) -> nbformat.NotebookNode:
    """An executed notebook with one wide DataFrame and one printed line (no kernel needed)."""
    import pandas as pd

    from helpers.display import table_html

    frame = pd.DataFrame(
        [[round(0.9 + i / 1000 + j / 10**6, 6) for j in range(columns)] for i in range(3)],
        columns=[f"final_validation_accuracy_of_run_{j}" for j in range(columns)],
    )
    cell = nbformat.v4.new_code_cell("frame", execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="test accuracy 0.9455\n"),
        nbformat.v4.new_output("execute_result", data={"text/html": table_html(frame)}, execution_count=1),
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Wide"), cell])
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def render_pdf(nb, tmp_path):
    path = tmp_path / "wide.ipynb"
    nbformat.write(nb, path)
    return render.to_pdf(render.to_html(path, tmp_path / "html"), tmp_path / "pdf", render.find_chromium())


def test_a_wide_table_keeps_every_cell_on_paper(tmp_path):
    nb = fake_notebook(columns=12)
    pdf = render_pdf(nb, tmp_path)
    assert len(pdf_contents.displayed_texts(nb)) == 1 + 13 * 4 - 1  # the line, 12 headers, 3 rows of 13 cells
    assert pdf_contents.missing_from_pdf(nb, pdf) == []


def test_the_check_catches_a_clipped_table(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "PRINT_CSS", "")  # the screen layout: wide tables scroll, so paper clips them
    nb = fake_notebook(columns=12)
    missing = pdf_contents.missing_from_pdf(nb, render_pdf(nb, tmp_path))
    assert missing and "test accuracy 0.9455" not in missing


def test_render_fails_in_one_line_on_missing_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(render, "REPORTS", tmp_path / "reports")
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "require")  # render.main sets it for its kernels: undone after the test
    monkeypatch.setenv("IMGCLS_CACHE_DIR", str(tmp_path / "empty_cache"))
    monkeypatch.setenv("IMGCLS_DATA_DIR", str(SHARED_DATA))
    if not have_real_data():
        pytest.skip("offline datasets not present")
    assert render.main(["03_optimizers"]) == 1
    err = capsys.readouterr().err
    assert "CacheMiss" in err and "no cached artifact" in err and "FAILED" in err
    (line,) = [x for x in err.splitlines() if "FAILED" in x]
    assert "Traceback" not in err and len(line) < 400


def test_render_offline_without_data_names_what_is_missing_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(render, "REPORTS", tmp_path / "reports")
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "require")  # render.main sets it for its kernels: undone after the test
    monkeypatch.delenv("IMGCLS_DATA_DIR", raising=False)
    monkeypatch.setenv("IMGCLS_OFFLINE", "1")
    if data.DEBIAN_DATA_DIR.exists():
        pytest.skip("/usr/share/datasets holds data on this machine")
    assert render.main(["01_data_preparation"]) == 1
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "FAILED" in x]
    assert "DatasetUnavailable" in line and "'mnist'" in line and "Keras' download cache" in line
