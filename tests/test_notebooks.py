"""Every notebook runs top to bottom: fast smoke mode, and from the committed cache.

* smoke: every notebook *source* (``notebooks/src/*.py``, converted with
  jupytext) with tiny data, one epoch and an empty temporary cache (it trains
  everything), so notebooks still being trained are covered too.
* require-cache: every committed, executed notebook (``notebooks/NN_*.ipynb``)
  against the committed ``saved_models/`` and ``histories/`` with
  ``IMGCLS_CACHE_MODE=require``; any call to ``fit`` raises inside the kernel,
  so a notebook that passes here provably trained nothing.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SHARED_DATA, _cache_snapshot, have_real_data, render_available

sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import KERNELSPEC, project_client  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
SOURCES = sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))
SOURCE_IDS = [p.stem for p in SOURCES]

pytestmark = pytest.mark.notebooks


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """An ``.ipynb`` file, or a jupytext percent-format source converted in memory."""
    if path.suffix == ".py":
        import jupytext

        return jupytext.read(path)
    return nbformat.read(path, as_version=4)


def execute(path: Path, monkeypatch, *, stop_on_error: bool = False, **env: str) -> nbformat.NotebookNode:
    """Run a notebook in the project kernel; by default to the end, errors kept as outputs."""
    for key, value in {
        "IMGCLS_DATA_DIR": str(SHARED_DATA),
        "IMGCLS_OFFLINE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MPLBACKEND": "Agg",
        **env,
    }.items():
        monkeypatch.setenv(key, value)
    nb = read_notebook(path)
    with project_client(nb, ROOT / "notebooks", notebook=path.stem, timeout=1200) as client:
        client.allow_errors = not stop_on_error  # to the end, so that callers can check the error outputs
        client.execute()
    return nb


def outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") if isinstance(out.get("text", ""), str) else "")
            parts.append(json.dumps(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def error_outputs(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


@pytest.fixture(scope="module")
def smoke_cache(tmp_path_factory):
    """One temporary cache for the whole smoke run: later notebooks read earlier ones' results."""
    return tmp_path_factory.mktemp("smoke_cache")


_SMOKED: dict[Path, list[str]] = {}  # source -> its error outputs, for the smoke runs done in this session


def smoke_run(path: Path, cache: Path, monkeypatch) -> list[str]:
    """Smoke-run a notebook source once per session into ``cache``; return its error outputs."""
    if path not in _SMOKED:
        nb = execute(
            path,
            monkeypatch,
            IMGCLS_SMOKE="1",
            IMGCLS_CACHE_DIR=str(cache),
            IMGCLS_CACHE_MODE="train",
            IMGCLS_PARTIAL_DIR=str(cache / "partial"),
        )
        _SMOKED[path] = error_outputs(nb)
    return _SMOKED[path]


@pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")
@pytest.mark.parametrize("path", SOURCES, ids=SOURCE_IDS)
def test_notebook_smoke(path, smoke_cache, monkeypatch):
    for earlier in SOURCES[: SOURCES.index(path)]:  # what it reads from earlier notebooks, also when run alone
        assert smoke_run(earlier, smoke_cache, monkeypatch) == [], f"{earlier.stem}, which {path.stem} needs, failed"
    assert smoke_run(path, smoke_cache, monkeypatch) == []


@pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_from_committed_cache(path, monkeypatch, request):
    if render_available():  # the laptop render already executed it from the committed cache, in require mode
        laptop = request.getfixturevalue("laptop_render")
        executed = laptop.suite / "reports" / "notebooks" / path.name
        assert executed.exists(), f"./render.sh stopped before {path.stem}: {laptop.log[-2000:]}"
        nb = nbformat.read(executed, as_version=4)
        written = laptop.cache_written
    else:
        before = _cache_snapshot(ROOT)
        nb = execute(path, monkeypatch, IMGCLS_CACHE_MODE="require", IMGCLS_CACHE_DIR=str(ROOT))
        written = _cache_snapshot(ROOT) != before
    assert error_outputs(nb) == [], "a cell failed (in require mode a call to fit is an error)"
    assert not written, "grading mode wrote to the cache"


def test_every_source_has_its_executed_notebook():
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in SOURCES]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_notebook_is_executed_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert all(c.get("execution_count") for c in code), "every code cell has been run"
    assert error_outputs(nb) == []
    stderr = [o.text for c in code for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert stderr == [], "the hand-in shows no warnings or progress-bar frames"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    text = "\n".join(c.source for c in nb.cells)
    assert "ANSWER_" not in text and "TAKEAWAYS" not in text, "no placeholder left"
    assert nb.metadata.get("kernelspec") == KERNELSPEC, "opens in the project kernel without a prompt"
    saved = json.dumps({"outputs": [c.get("outputs", []) for c in nb.cells], "metadata": nb.metadata})
    assert re.findall(r"(?:/work|/tmp|/root|/home|/Users)/[^\s\"']*", saved) == [], "no path of the machine that ran it"
    assert "\\u001b[" not in saved, "no terminal colour codes in outputs"
    params = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and 'student = ""' in params[0].source, "one parameters cell with an empty student"
    source = read_notebook(ROOT / "notebooks" / "src" / f"{path.stem}.py")
    assert [c.source for c in nb.cells if c.source.strip()] == [c.source for c in source.cells if c.source.strip()], (
        f"{path.name} is out of date with notebooks/src/{path.stem}.py: regenerate and execute it"
    )


def make_format_fixtures(root: Path) -> Path:
    """A data folder with the real MNIST files and tiny *random* SVHN / CIFAR-10 files in the real formats.

    Only to exercise the SVHN and CIFAR-10 code paths of the notebooks; nothing
    trained on these random images is kept.
    """
    import pickle

    import numpy as np
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for name in ("mnist", "fashion-mnist"):
        (root / name).symlink_to(SHARED_DATA / name)
    (root / "svhn").mkdir()
    for split, n in (("train", 400), ("test", 200)):
        labels = (np.arange(n) % 10 + 1).reshape(n, 1).astype(np.uint8)
        savemat(
            root / "svhn" / f"{split}_32x32.mat",
            {"X": rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8), "y": labels},
        )
    cifar = root / "cifar-10-batches-py"
    cifar.mkdir()
    for fname in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(cifar / fname, "wb") as fh:
            pickle.dump(
                {b"data": rng.integers(0, 256, (100, 3072), dtype=np.uint8), b"labels": list(np.arange(100) % 10)}, fh
            )
    return root


SVHN_NOTEBOOKS = [p for p in SOURCES if "svhn" in p.read_text().lower() and "10_" not in p.name]


@pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")
@pytest.mark.parametrize("path", SVHN_NOTEBOOKS, ids=[p.stem for p in SVHN_NOTEBOOKS])
def test_notebook_svhn_and_cifar_paths_run(path, smoke_cache, tmp_path, monkeypatch):
    data_dir = make_format_fixtures(tmp_path / "data")
    nb = execute(
        path,
        monkeypatch,
        IMGCLS_SMOKE="1",
        IMGCLS_CACHE_DIR=str(smoke_cache),
        IMGCLS_CACHE_MODE="train",
        IMGCLS_PARTIAL_DIR=str(smoke_cache / "partial"),
        IMGCLS_DATA_DIR=str(data_dir),
    )
    assert error_outputs(nb) == []
    text = outputs_text(nb)
    assert "svhn is not available" not in text and "Would run" not in text
    if path.stem == "12_svhn":  # seed 002 Parts 1 to 3 end to end: every answer within its limits, Part 3 measured
        assert text.count("Answer is") == 8 and "test accuracy of model_2_2" in text and "is not trained" not in text
        assert [c for answer in printed_answers(nb) for c in contradictions(answer)] == []


@pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")
def test_svhn_models_train_only_when_asked(tmp_path, monkeypatch):
    """SVHN present, nothing cached, train mode, no --train svhn: each section says what it would train; none trains."""
    monkeypatch.delenv("IMGCLS_SMOKE", raising=False)
    monkeypatch.delenv("IMGCLS_TRAIN", raising=False)
    cache = tmp_path / "cache"
    nb = execute(
        ROOT / "notebooks" / "src" / "12_svhn.py",
        monkeypatch,
        IMGCLS_CACHE_DIR=str(cache),
        IMGCLS_CACHE_MODE="train",
        IMGCLS_PARTIAL_DIR=str(cache / "partial"),
        IMGCLS_DATA_DIR=str(make_format_fixtures(tmp_path / "data")),
    )
    assert error_outputs(nb) == []
    text = outputs_text(nb)
    for name in ("model_1_1", "model_1_2", "model_1_3", "model_2_1", "model_2_2"):
        assert f"{name} is not trained. It would train for" in text
    assert text.count("./run.sh --train svhn") == 5 and "on this machine's CPU" in text
    assert list(cache.rglob("*.keras")) == [] and list(cache.rglob("model_*.json")) == []


def globals_read_by_functions(source: str) -> dict[str, set[str]]:
    """Names each function of a notebook reads that are neither its own, imported, builtin nor a notebook function."""
    tree = ast.parse(source)
    known = set(dir(builtins)) | {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            known |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    found = {}
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        own = {
            a.arg
            for node in ast.walk(function)
            if isinstance(node, ast.arguments)
            for a in ast.walk(node)
            if isinstance(a, ast.arg)
        }
        own |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        own |= {n.name for n in ast.walk(function) if isinstance(n, ast.FunctionDef)}
        read = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if read - own - known:
            found[function.name] = read - own - known
    return found


def test_globals_check_catches_a_builder_that_reads_a_notebook_variable():
    source = "import keras\nwidth = 3\ndef build(depth):\n    return keras.Sequential([width] * depth)\n"
    assert globals_read_by_functions(source) == {"build": {"width"}}


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_notebook_functions_take_explicit_arguments(path):
    assert globals_read_by_functions(path.read_text()) == {}, "a function reads notebook globals: pass them in"


TRAINING_SOURCES = [
    p for p in SOURCES if re.search(r"(fit_cached|run_evaluation|evaluate_or_plan|run_sweep)\(", p.read_text())
]


@pytest.mark.parametrize("path", TRAINING_SOURCES, ids=[p.stem for p in TRAINING_SOURCES])
def test_builders_show_model_compile_where_it_is_taught(path):
    """Seed 000 grades the compile call itself: loss, optimizer and metrics are written out in each builder."""
    source = path.read_text()
    assert "compile_classifier" not in source
    compiles = re.findall(r"model\.compile\(\s*optimizer=.+?,\s*loss=.+?,\s*metrics=\[.+?\],?\s*\)", source, re.S)
    assert compiles, "no model.compile(optimizer=..., loss=..., metrics=[...]) in the notebook"


# Answers still fixed text with measured numbers typed in (none left). Every other answer is an f-string filled in
# from the runs shown above it. The test fails when a new literal appears.
LITERAL_ANSWERS_LEFT: dict[str, set[str]] = {}


def literal_answers_with_numbers(source: str) -> set[str]:
    """Names of ``answer*`` variables assigned a plain string (not an f-string) that contains a digit."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            names = [t.id for t in node.targets if isinstance(t, ast.Name) and t.id.startswith("answer")]
            if names and re.search(r"\d", node.value.value):
                found.update(names)
    return found


@pytest.mark.parametrize("path", SOURCES, ids=SOURCE_IDS)
def test_answers_take_their_numbers_from_the_runs(path):
    assert literal_answers_with_numbers(path.read_text()) == LITERAL_ANSWERS_LEFT.get(path.stem, set())
    assert literal_answers_with_numbers('answer_x = "It reached 97.2 %."') == {"answer_x"}, "the check can fail"


SECTIONS = ("Setup", "Prepare the data", "Build", "Train", "Evaluate", "Takeaways")


@pytest.mark.parametrize("path", TRAINING_SOURCES, ids=[p.stem for p in TRAINING_SOURCES])
def test_training_notebooks_have_the_six_sections(path):
    headings = re.findall(r"^# ## (.+)$", path.read_text(), re.M)
    assert headings[0] == "Setup" and headings[-1] == "Takeaways"
    kinds = [next((s for s in SECTIONS if h == s or h.startswith(s + ":")), None) for h in headings]
    assert None not in kinds, f"headings outside the six sections: {[h for h, k in zip(headings, kinds) if k is None]}"


def test_contents_cells_are_generated_from_the_headings():
    import subprocess

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "contents.py"), "--check"], capture_output=True)
    assert result.returncode == 0, result.stdout.decode()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_contents_links_reach_their_headings_in_the_rendered_html(path):
    from urllib.parse import unquote

    from nbconvert import HTMLExporter

    nb = nbformat.read(path, as_version=4)
    contents = [c for c in nb.cells if "contents" in c.get("metadata", {}).get("tags", [])]
    assert len(contents) == 1 and nb.cells.index(contents[0]) == 1, "one contents cell, right after the title"
    links = re.findall(r"\]\((#[^)\s]+)\)", contents[0].source)
    html, _ = HTMLExporter().from_notebook_node(nb)
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    assert links and [link for link in links if unquote(link[1:]) not in ids] == []


# A measured number typed by hand: a percentage with decimals, or a count of minutes, hours, seconds or errors.
MEASUREMENT = re.compile(r"\b\d+\.\d+ ?%|\b\d[\d ]*(?:\.\d+)? (?:minutes|hours|seconds|CPU-hours|errors)\b")


def typed_measurements(source: str) -> list[str]:
    """Measurements typed into Markdown (not headings: they name goals) or the fixed text of answers and takeaways."""
    found = []
    for line in re.findall(r"^# (?!#)(.*)$", source, re.M):  # Markdown lines of a jupytext source, headings skipped
        if not re.match(r"\d+\. \[.*\]\(#.*\)$", line):  # nor the contents cell's links to them
            found += [m.group(0) for m in MEASUREMENT.finditer(line)]
    for node in ast.walk(ast.parse(source)):
        reported = (
            isinstance(node, ast.Assign) and any(getattr(t, "id", "").startswith("answer") for t in node.targets)
        ) or (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "show_takeaways")
        if reported:
            for part in ast.walk(node):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    found += [m.group(0) for m in MEASUREMENT.finditer(part.value)]
    return found


def test_typed_measurement_check_can_fail():
    assert typed_measurements("# It reached 97.25 % in 57 minutes.\n") == ["97.25 %", "57 minutes"]
    assert typed_measurements('answer_x = f"{a:.2%} against 94.5 %"\n') == ["94.5 %"]
    assert typed_measurements('hp.show_takeaways(f"{n} errors", "545 errors")\n') == ["545 errors"]
    assert typed_measurements("# ## Evaluate: fewer than 100 errors\n# dropout 0.3, 20 % held out\n") == []
    contents_line = "# 3. [Evaluate: fewer than 100 errors](#Evaluate:-fewer-than-100-errors-%28Ex-6.1%29)"
    assert typed_measurements(contents_line) == []


@pytest.mark.parametrize("path", SOURCES, ids=SOURCE_IDS)
def test_no_measurement_is_typed_by_hand(path):
    assert typed_measurements(path.read_text()) == []


def code_lines(path: Path) -> list[int]:
    """Lines of code of each code cell of a notebook source.

    Blank lines, comments (nbgrader's markers among them), the student's empty
    ``answer_... = ""`` placeholders and nbgrader's test cells (``grade_id="test_..."``)
    are not code of the example.
    """
    cells = read_notebook(path).cells
    placeholder = re.compile(r'answer_\w+ = ""')
    return [
        sum(
            1
            for line in c.source.splitlines()
            if line.strip() and not line.strip().startswith(("#", "%")) and not placeholder.match(line.strip())
        )
        for c in cells
        if c.cell_type == "code" and not str(c.metadata.get("grade_id", "")).startswith("test_")
    ]


@pytest.mark.parametrize("path", SOURCES, ids=SOURCE_IDS)
def test_notebooks_are_at_most_300_lines_of_code(path):
    assert sum(code_lines(path)) <= 300


SEED_002_NAMES = {  # what seed 002's graders look for, and the notebook that defines it
    "build_model_1_1": "12_svhn",
    "build_model_1_2": "12_svhn",
    "build_model_1_3": "12_svhn",
    "build_model_2_1": "12_svhn",
    "build_model_4_1": "10_transfer_learning",
    "build_model_4_2": "10_transfer_learning",
    "test_accuracy_3_1": "12_svhn",
    "preprocessed_split": "12_svhn",
    **{f"answer_q_{q}": "12_svhn" for q in ("1_1", "1_2", "1_3", "2_1", "2_2", "3_1", "3_2", "3_3", "2_3")},
    "answer_q_4_1": "10_transfer_learning",
    "answer_q_4_2": "10_transfer_learning",
}


def defined_names(source: str) -> set[str]:
    tree = ast.parse(source)
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    return names | {
        t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
    }


def test_seed_002_names_exist():
    sources = {p.stem: defined_names(p.read_text()) for p in SOURCES}
    assert {name: nb for name, nb in SEED_002_NAMES.items() if name not in sources[nb]} == {}


@pytest.mark.parametrize("path", SOURCES, ids=SOURCE_IDS)
def test_one_idea_per_cell(path):
    """A cell that defines a function defines only that; no cell runs over 22 lines of code (most stay under 10)."""
    cells = [c for c in read_notebook(path).cells if c.cell_type == "code"]
    for cell in cells:
        body = ast.parse("\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))).body
        defines = [isinstance(node, (ast.FunctionDef, ast.ClassDef)) for node in body]
        assert all(defines) or not any(defines), f"a function shares its cell with other code:\n{cell.source[:200]}"
    assert max(code_lines(path)) <= 22


# Wording that states a direction, and the two numbers it compares: (pattern, the relation the numbers must have).
SPAN = r"(?:(?!\. |; ).)*?"  # within one clause: no sentence end, no semicolon (decimal points allowed)
DIRECTIONS = [
    (rf"\b(?:rose|rises|lifts?|raises?|climbs?)\b{SPAN}\bfrom (\d+\.\d+)%{SPAN}\bto (\d+\.\d+)%", float.__lt__),
    (rf"\b(?:lowers?|falls?|drops?)\b{SPAN}\bfrom (\d+\.\d+)%{SPAN}\bto (\d+\.\d+)%", float.__gt__),
    (rf"\((\d+\.\d+)%\){SPAN}\bbelow\b{SPAN}\(?(\d+\.\d+)%", float.__lt__),
    (rf"\((\d+\.\d+)%\){SPAN}\babove\b{SPAN}\(?(\d+\.\d+)%", float.__gt__),
    (rf"(\d+\.\d+)% against (\d+\.\d+)%{SPAN}(?<!no )\b(?:better|helps)\b", float.__gt__),
    (rf"(\d+\.\d+)% against (\d+\.\d+)%{SPAN}\b(?:no better|worse|does not help)\b", float.__le__),
]


def contradictions(text: str) -> list[str]:
    """Sentences whose direction word disagrees with the two numbers it compares."""
    found = []
    for pattern, holds in DIRECTIONS:
        for match in re.finditer(pattern, " ".join(text.split())):
            first, second = map(float, match.groups())
            if not holds(first, second):
                found.append(match.group(0))
    return found


def printed_answers(nb: nbformat.NotebookNode) -> list[str]:
    """The answers (``check_answer``'s output) and takeaways (``show_takeaways``') an executed notebook shows."""
    texts = []
    for out in (out for cell in nb.cells for out in cell.get("outputs", [])):
        if out.get("name") == "stdout" and "Answer is" in out.get("text", ""):
            texts.append(out["text"].split("Answer is")[0])
        elif out.get("data", {}).get("text/html", "").startswith("<ul>"):
            texts += out["data"]["text/plain"].split("\n* ")
    return texts


def test_contradiction_check_can_fail():
    assert contradictions("The accuracy rose from 90.10% to 89.00% here.") != []
    assert contradictions("Flips lower it from 97.82% to 97.20%.") == []
    assert contradictions("Its best (88.37%) is slightly below the plain 88.79%.") == []
    assert contradictions("Its best (89.37%) is slightly below the plain 88.79%.") != []
    assert contradictions("Training (94.7%) stays below validation (94.87%).") == []
    assert contradictions("Grey 71.2% against 70.9% in colour (+0.3 points): better.") == []
    assert contradictions("Grey 70.2% against 70.9% in colour (-0.7 points): better.") != []
    assert contradictions("Grey 70.2% against 70.9% in colour (-0.7 points): no better.") == []
    assert contradictions("Augmented 93.1% against 92.0% without (+1.1 points): augmentation does not help.") != []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_answer_wording_follows_the_numbers(path):
    answers = printed_answers(read_notebook(path))
    assert [c for answer in answers for c in contradictions(answer)] == []


def cache_name_places(names: list[str], texts: dict[str, str]) -> dict[str, list[str]]:
    """Where each cache name is written: the files naming it, and each string literal that holds it."""
    places = {}
    for name in names:
        token = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        found = []
        for file, text in texts.items():
            if not token.search(text):
                continue
            code = ast.walk(ast.parse(text)) if file.endswith(".py") else ()
            literals = [
                node.value
                for node in code
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and token.search(node.value)
            ]
            found += [f"{file} (literal {i + 1})" for i in range(len(literals))] or [f"{file} (prose)"]
        places[name] = found
    return places


def test_cache_name_places_can_fail():
    texts = {"a.py": 'fit("run_a")\nheadline("run_a")\n', "b.py": '# uses `run_a`\nrun_b = "run_a_all"\n'}
    texts["README.md"] = "Retrain `run_a_all` with ..."
    places = cache_name_places(["run_a", "run_a_all"], texts)
    assert places == {
        "run_a": ["a.py (literal 1)", "a.py (literal 2)", "b.py (prose)"],
        "run_a_all": ["b.py (literal 1)", "README.md (prose)"],
    }


def test_each_cache_name_is_written_in_one_place():
    """Outside the manifests (and the README and BENCHMARKS tables generated from them), a cache name is
    written once: one string literal in one file of the notebooks, helpers, benchmarks or scripts; the
    README's own prose names none."""
    from helpers import cache

    files = [*SOURCES, *sorted((ROOT / "helpers").glob("*.py"))]
    files += [*sorted((ROOT / "benchmarks").glob("*.py")), *sorted((ROOT / "scripts").glob("*.py"))]
    texts = {str(p.relative_to(ROOT)): p.read_text() for p in files}
    readme = (ROOT / "README.md").read_text()
    generated = re.compile(
        r"<!-- results table: written by benchmarks/report.py -->.*?<!-- end of results table -->", re.S
    )
    texts["README.md"] = generated.sub("", readme)
    assert texts["README.md"] != readme, "the README's generated results table was found and left out"
    places = cache_name_places(sorted(cache.list_entries(ROOT)), texts)
    assert {name: found for name, found in places.items() if len(found) > 1} == {}
