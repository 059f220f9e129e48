"""Cell by cell in a real browser: ./lab.sh serves the suite, headless Chromium runs notebook 01.

JupyterLab is started through ``./lab.sh`` on 127.0.0.1 (a free port, a
random token) and driven by Debian's ``chromium`` and ``chromedriver``
through selenium; nothing downloads a browser. The notebook is run from the
menu (Run > Run All Cells) in the project kernel it names, in grading mode,
and the page must then show every line ``./run.sh`` printed into the
committed notebook, the dataset table, and no error. A screenshot is saved
under ``reports/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SHARED_DATA, have_real_data

NOTEBOOK = ROOT / "notebooks" / "01_data_preparation.ipynb"

pytestmark = [
    pytest.mark.notebooks,
    pytest.mark.skipif(
        not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()),
        reason="Debian's chromium and chromium-driver are needed (scripts/setup_env.sh installs them)",
    ),
    pytest.mark.skipif(not have_real_data(), reason="offline datasets not present"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_lab_settings(folder: Path) -> None:
    """Render every cell (no windowing) and never autosave over the committed notebook."""
    for plugin, values in {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "docmanager-extension/plugin": {"autosave": False},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = folder / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextlib.contextmanager
def serve_lab(lab_sh: Path, tmp_path: Path, **env: str):
    """A JupyterLab server started by ``lab_sh`` on 127.0.0.1; yields its base URL, token and log path."""
    port, token = free_port(), os.urandom(16).hex()
    write_lab_settings(tmp_path / "settings")
    env = {
        **os.environ,
        "IMGCLS_DATA_DIR": str(SHARED_DATA),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        **env,
    }
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [str(lab_sh), "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield url, token, tmp_path / "lab.log"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server shuts its kernels down
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a busy kernel on a loaded machine: stop waiting
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        log.close()


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server started by ./lab.sh; yields its base URL and token."""
    # require mode, as ./run.sh --mode require wrote the committed notebook
    with serve_lab(ROOT / "lab.sh", tmp_path, IMGCLS_CACHE_MODE="require") as served:
        yield served


def wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
        except Exception:  # the page is still building
            value = None
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def click_menu(driver, menu: str, command: str) -> None:
    from selenium.webdriver.common.by import By

    (bar_item,) = [e for e in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item") if e.text.strip() == menu]
    bar_item.click()
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f'.lm-Menu-item[data-command="{command}"]'), 10, command)
    driver.find_element(By.CSS_SELECTOR, f'.lm-Menu-item[data-command="{command}"]').click()


def open_in_kernel(browser, address: str) -> str:
    """Open a notebook in JupyterLab, wait for its kernel to be idle; return its name (or a dialog's text)."""
    from selenium.webdriver.common.by import By

    browser.get(address)
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"), 120, "the notebook")

    def kernel_or_dialog() -> str:
        if browser.find_elements(By.CSS_SELECTOR, ".jp-Dialog"):
            return "a dialog: " + browser.find_element(By.CSS_SELECTOR, ".jp-Dialog").text
        name = browser.find_element(By.CSS_SELECTOR, ".jp-Toolbar-kernelName").text.strip()
        return name if name not in ("", "No Kernel", "Kernel") else ""

    kernel = wait_for(kernel_or_dialog, 120, "the kernel to start (or a kernel prompt)")
    if not kernel.startswith("a dialog"):
        wait_for(
            lambda: (
                browser.find_element(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator").get_attribute("data-status")
                == "idle"
            ),
            120,
            "an idle kernel",
        )
    return kernel


def test_notebook_runs_cell_by_cell_in_jupyterlab(lab, browser):
    from selenium.webdriver.common.by import By

    url, token, _ = lab
    before = NOTEBOOK.read_bytes()
    kernel = open_in_kernel(browser, f"{url}/lab/tree/notebooks/{NOTEBOOK.name}?token={token}")
    assert kernel == "Python 3 (imgcls .venv)", "the notebook opens in the project kernel, with no prompt"

    click_menu(browser, "Run", "runmenu:run-all")  # Run > Run All Cells
    code_cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]

    def finished() -> bool:
        prompts = [p.text for p in browser.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-InputPrompt")]
        numbered = [p for p in prompts if re.fullmatch(r"\[\d+\]:", p.strip())]
        return len(prompts) == len(code_cells) and len(numbered) == len(code_cells)

    wait_for(finished, 600, "every cell to run")
    page = browser.find_element(By.CSS_SELECTOR, ".jp-Notebook").text
    table = browser.find_element(By.CSS_SELECTOR, ".jp-OutputArea-output table")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", table)
    (ROOT / "reports").mkdir(exist_ok=True)
    browser.save_screenshot(str(ROOT / "reports" / "jupyterlab_01_data_preparation.png"))

    assert "training images" in table.text and "(60000, 28, 28)" in table.text, "the dataset shape table is shown"
    errors = browser.find_elements(
        By.CSS_SELECTOR, '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    )
    assert [e.text for e in errors] == [], "no error or warning output in the browser"
    squashed = re.sub(r"\s+", "", page)
    printed = [
        line
        for cell in code_cells
        for out in cell.outputs
        if out.output_type == "stream"
        for line in out.text.splitlines()
        if line.strip()
    ]
    assert printed, "the committed notebook has printed output to compare with"
    assert [line for line in printed if re.sub(r"\s+", "", line) not in squashed] == [], (
        "JupyterLab prints what ./run.sh printed"
    )
    assert NOTEBOOK.read_bytes() == before, "the browser session did not write to the committed notebook"


def test_lab_sh_is_documented_and_executable():
    assert os.access(ROOT / "lab.sh", os.X_OK)
    assert "./lab.sh" in (ROOT / "README.md").read_text()
    assert shutil.which("jupyter", path=str(ROOT / ".venv" / "bin")), "setup installs JupyterLab into .venv"
