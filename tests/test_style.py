"""Style that CI holds the code to: ruff lint and format, notebook sources included."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


def ruff(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ruff", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_checks_the_notebook_sources():
    files = ruff("check", "--show-files", ".").stdout
    assert "notebooks/src/08_fashion_cnns.py" in files
    assert ".ipynb" not in files, "the executed notebooks are generated from their sources"


@pytest.mark.parametrize("args", [("check", "."), ("format", "--check", ".")], ids=["lint", "format"])
def test_ruff_passes(args):
    result = ruff(*args)
    assert result.returncode == 0, result.stdout + result.stderr
