"""Shared fixtures: a temporary cache, the offline datasets, clean switches."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("IMGCLS_DATA_DIR", ROOT.parent / "shared" / "datasets"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Chromium on a closed network, as root, without a screen (render's print-only flags stop chromedriver)
BROWSER_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
BROWSER_FLAGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Sweeps train in this process, where the tests can watch ``fit``; tests/test_sweep_executor.py covers the
# local worker processes that are the default elsewhere.
os.environ.setdefault("IMGCLS_SWEEP_PROCESSES", "1")


def load_benchmark(name: str):
    """The script ``benchmarks/NAME.py``, imported as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def have_real_data(name: str = "mnist") -> bool:
    folder = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}[name]
    return (SHARED_DATA / folder / "train-images-idx3-ubyte.gz").is_file()


@pytest.fixture(autouse=True)
def _clean_switches(monkeypatch, tmp_path):
    """Every test starts in train mode, not smoke, with no forced retrains, and an empty Keras download cache."""
    from helpers import settings, training

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(training, "CHECKPOINT_EVERY_SECONDS", 0.0)  # save resume state after every epoch

    for var in ("IMGCLS_CACHE_MODE", "IMGCLS_RETRAIN", "IMGCLS_SMOKE", "IMGCLS_CACHE_DIR", "IMGCLS_PARTIAL_DIR"):
        monkeypatch.delenv(var, raising=False)
    settings.set_cache_mode(None)
    yield
    settings.set_cache_mode(None)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A temporary cache folder, also set as IMGCLS_CACHE_DIR."""
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv("IMGCLS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def browser(tmp_path):
    """Debian's headless Chromium, driven by selenium through chromedriver (nothing downloads a browser)."""
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium must not look for a driver online
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [*BROWSER_FLAGS, "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def fit_counter(monkeypatch):
    """Count real calls of Keras' fit (the original, under the cache's guard): a cache hit adds none."""
    from helpers import training

    calls = []
    original = training._original_fit

    def counting_fit(self, *args, **kwargs):
        calls.append(kwargs.get("epochs"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(training, "_original_fit", counting_fit)
    return calls


@pytest.fixture(scope="session")
def releases(tmp_path_factory):
    """Each notebook's release, built once per test session (nbgrader's real command line), .venv beside it."""
    from course import release

    base = tmp_path_factory.mktemp("release")
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            folder = release.release(name, out=base / "release", course_dir=base / "course")
            (folder / ".venv").symlink_to(ROOT / ".venv")  # the student's first ./lab.sh would install the same pins
            built[name] = folder
        return built[name]

    return get


def environment(**values: str | None):
    """:func:`helpers.settings.environment`, imported when first used (importing helpers imports Keras)."""
    from helpers.settings import environment as set_for_a_block

    return set_for_a_block(**values)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server (Debian's) started on 127.0.0.1 for the session and stopped after: a new database's URL."""
    import shutil
    import subprocess
    import tempfile

    bindir = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)
    if bindir is None or importlib.util.find_spec("psycopg") is None:
        pytest.skip("PostgreSQL (Debian's postgresql) or psycopg is not installed")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # the server refuses to run as root
    base = Path(tempfile.mkdtemp(prefix="pg"))
    base.chmod(0o755)
    if as_user:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()

    def pg(*argv: str) -> None:
        subprocess.run([*as_user, str(bindir / argv[0]), *argv[1:]], check=True, capture_output=True, cwd=base)

    pg("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    pg("pg_ctl", "-D", str(data), "-l", str(base / "log"), "-w", "-o", f"-h 127.0.0.1 -p {port} -k {base}", "start")
    try:
        pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "gradebook")
        yield f"postgresql://postgres@127.0.0.1:{port}/gradebook"
    finally:
        pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def trained_student(releases, tmp_path_factory):
    """Notebook 03's release with our solution typed in, trained at smoke size into the student's own cache.

    The notebook runs twice, as a student's does: training (``stop_training = False``),
    then from the cache (``True``), the version they hand in. Shared by the
    course and grading tests: copy ``folder`` before changing anything in it.
    """
    import re
    import shutil
    import sys
    from types import SimpleNamespace

    import nbformat

    sys.path.insert(0, str(ROOT / "scripts"))
    from run_notebooks import project_client

    name = "03_optimizers"
    built = releases(name)
    folder = tmp_path_factory.mktemp("trained") / name
    shutil.copytree(built, folder, symlinks=True)
    shutil.copy2(built.parent.parent / "course" / "source" / name / f"{name}.ipynb", folder / "notebooks")
    env = {
        "IMGCLS_DATA_DIR": str(SHARED_DATA),
        "IMGCLS_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "IMGCLS_SMOKE": "1",
        "IMGCLS_CACHE_MODE": "train",
        "IMGCLS_CACHE_DIR": str(folder),
        "IMGCLS_PARTIAL_DIR": str(folder / ".cache" / "partial"),
    }
    runs = {}
    with environment(**env):
        for stop in (False, True):
            path = folder / "notebooks" / f"{name}.ipynb"
            nb = nbformat.read(path, as_version=4)
            params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
            params.source = re.sub(r"stop_training = \w+", f"stop_training = {stop}", params.source)
            with project_client(nb, folder / "notebooks", notebook=name, timeout=900) as client:
                client.allow_errors = True
                client.execute()
            nbformat.write(nb, path)
            runs[stop] = nb
    return SimpleNamespace(folder=folder, trained=runs[False], rerun=runs[True])


def render_available() -> bool:
    """Whether ``./render.sh`` can make PDFs here (Chromium and poppler-utils)."""
    import shutil

    return shutil.which("chromium") is not None and shutil.which("pdftotext") is not None


def _cache_snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file in a project's cache."""
    return {
        str(f.relative_to(root)): (f.stat().st_size, f.stat().st_mtime_ns)
        for folder in ("saved_models", "histories")
        for f in (root / folder).rglob("*")
        if f.is_file()
    }


@pytest.fixture(scope="session")
def laptop_render(tmp_path_factory):
    """``./render.sh --student ...`` once, on a "laptop": a copy of the project, a temporary HOME, no ``../shared``.

    It executes every notebook from the committed cache in require mode and
    renders it; the render tests read its PDFs, and the notebook tests its
    executed notebooks and whether the cache was written to.
    """
    import subprocess
    from types import SimpleNamespace

    from test_render import STUDENT, copy_project, make_keras_cache

    base = tmp_path_factory.mktemp("laptop-render")
    suite, home = base / "laptop" / "suite", base / "home"
    copy_project(suite)
    make_keras_cache(home)
    before = _cache_snapshot(suite)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGCLS_") and k != "KERAS_HOME"}
    env.update(HOME=str(home), IMGCLS_SKIP_APT="1")
    done = subprocess.run(
        ["./render.sh", "--student", STUDENT], cwd=suite, env=env, capture_output=True, text=True, timeout=3000
    )
    return SimpleNamespace(
        base=base,
        suite=suite,
        returncode=done.returncode,
        log=done.stdout + done.stderr,
        cache_written=_cache_snapshot(suite) != before,
    )
