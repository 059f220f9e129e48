"""The student release: nbgrader metadata, ``./course.sh release``, the student's path, ``./course.sh submit``.

One release of notebook 03 is built per test session (nbgrader's real command
line) and every test that inspects it shares it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SHARED_DATA, have_real_data

from course import assignment, engine, points, release

sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import project_client  # noqa: E402
from test_jupyterlab import click_menu, open_in_kernel, serve_lab, wait_for  # noqa: E402

NAME = "03_optimizers"
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="module")
def built(releases):
    """The release of notebook 03, which most tests inspect."""
    return releases(NAME)


def test_points_add_up_to_each_seed_question():
    shares: dict[str, float] = {}
    for cells in points.CELLS.values():
        for cell in cells.values():
            shares[cell.question] = shares.get(cell.question, 0) + cell.points
    assert shares == {q: points.question_points()[q] for q in shares}, "a question's cells carry its points"
    assert set(points.SEED_QUESTIONS) <= set(shares), "every seed question in the table is graded somewhere"


def seed_text(number: str) -> str:
    return next(SEEDS.glob(f"{number}_*.txt")).read_text()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed notebooks are not beside the checkout")
def test_seed_points_are_the_seeds_own():
    printed: dict[str, float] = {}
    exercise = question = None
    for line in seed_text("000").splitlines():  # a question's "(N pts)" may end a later line of it
        if heading := re.match(r"## Exercise (\d+)", line):
            exercise, question = heading.group(1), None
        elif exercise and (item := re.match(r"\s*(\d+)\. ", line)):
            question = f"seed 000, {exercise}.{item.group(1)}"
        if question and (pts := re.search(r"\((\d+) ?pts?\)", line)):
            printed.setdefault(question, float(pts.group(1)))
            question = None
    for number, points_ in re.findall(r"Question (\d\.\d)\W[^\n]*\((\d+) points\)", seed_text("002")):
        printed.setdefault(f"seed 002, {number}", float(points_))
    for question in points.SEED_QUESTIONS:
        if question.startswith("seed 003, "):
            title = re.escape(question.removeprefix("seed 003, "))
            if found := re.search(title + r"[^\n]*\((\d+) points?\)", seed_text("003")):
                printed[question] = float(found.group(1))
    assert points.SEED_QUESTIONS == {q: printed.get(q) for q in points.SEED_QUESTIONS}


@pytest.mark.parametrize("name", assignment.releasable())
def test_every_graded_cell_has_a_region_an_id_and_points(name):
    nb = assignment.nbgrader_notebook(ROOT / "notebooks" / "src" / f"{name}.py")
    graded = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            assert "parameters" in cell.metadata.get("tags", []), "only the parameters cell is left free"
            continue
        assert meta["grade_id"], "every nbgrader cell has a grade_id"
        if meta["solution"]:
            assert assignment.BEGIN in cell.source, f"solution cell {meta['grade_id']} has a solution region"
        if meta["grade"]:
            graded[meta["grade_id"]] = meta["points"]
    assert graded == {gid: cell.points for gid, cell in points.CELLS[name].items()}


def test_nbgrader_commands_run_in_one_process_and_a_failed_one_is_one_line(tmp_path):
    release.write_course_config(tmp_path)
    commands = [["generate_assignment", "nothing_here", "--force"], ["export", f"--to={tmp_path / 'grades.csv'}"]]
    failed, exported = engine.batch(commands, tmp_path)
    assert failed.startswith("nbgrader generate_assignment failed: ") and "No notebooks were matched" in failed
    assert "\n" not in failed and failed.count("No notebooks were matched") == 1
    assert exported == "" and (tmp_path / "grades.csv").exists(), "the next command still runs"


def test_one_submission_that_breaks_grading_is_one_line_and_the_others_are_graded(capsys):
    from course import grade

    class Grader:
        examined: list = []

        def refusal(self, student: str, name: str) -> str:
            return "not a student id" if student == "x" else ""

        def examine_student(self, student: str, names: list[str]) -> dict:
            self.examined.append((student, names))
            return {name: grade.Examined([], seconds=1.0) for name in names}

        def autograde_one(self, student: str, name: str) -> grade.Autograded:
            if student == "s2":
                raise OSError("disk full")
            return grade.Autograded("", 2.0)

        def judge(self, student: str, name: str, examined, autograded) -> grade.Outcome:
            return grade.Outcome(student, name, seconds=examined.seconds + autograded.seconds)

    units = [("s1", NAME), ("s2", NAME), ("x", NAME), ("s3", NAME), ("s1", "02_dense_baselines")]
    grader = Grader()
    outcomes = grade.grade_all(grader, units, workers=2)
    assert [(o.student, o.assignment, o.refused) for o in outcomes] == [
        ("s1", NAME, ""),
        ("s2", NAME, "grading stopped: OSError: disk full"),
        ("x", NAME, "not a student id"),
        ("s3", NAME, ""),
        ("s1", "02_dense_baselines", ""),
    ]
    assert outcomes[0].seconds == 3.0, "each submission is judged on its examination and its autograde"
    assert sorted(grader.examined) == [("s1", [NAME, "02_dense_baselines"]), ("s2", [NAME]), ("s3", [NAME])], (
        "one examination per student, of all their gradable submissions"
    )
    assert "[grade] s2 03_optimizers: refused: grading stopped: OSError: disk full" in capsys.readouterr().out


def test_a_submission_that_stops_its_students_examination_is_examined_again_alone(tmp_path, monkeypatch):
    from course import grade

    course_dir = tmp_path / "course"
    names = ["01_data_preparation", "02_dense_baselines", NAME]
    calls = []

    def examine_process(self, module, args, caches, run):
        calls.append([Path(a).name for a in args])
        lines = []
        for arg in args:
            if len(args) > 1 and arg.endswith("02_dense_baselines"):  # the process dies here
                return subprocess.CompletedProcess(args, -9, "\n".join(lines), "Killed")
            found = {"rows": [{"name": "run", "status": "OK"}], "digests": [["weights", "run", "ab", ""]], "seconds": 1}
            lines.append(json.dumps({"cache": arg, **found}))
        return subprocess.CompletedProcess(args, 0, "\n".join(lines), "")

    monkeypatch.setattr(grade.Grader, "_our_module", examine_process)
    found = grade.Grader(course_dir, hidden=[]).examine_student("s1", names)
    assert calls == [names, ["02_dense_baselines"], [NAME]], "the rest again, one process each"
    assert set(found) == set(names) and all(e.rows == [{"name": "run", "status": "OK"}] for e in found.values())
    assert found[NAME].digests == [("weights", "run", "ab", "")]


def test_a_submission_that_stops_its_examination_alone_is_one_fail_row(tmp_path, monkeypatch):
    from course import grade

    def dies(self, module, args, caches, run):
        return subprocess.CompletedProcess(args, -9, "", "MemoryError")

    monkeypatch.setattr(grade.Grader, "_our_module", dies)
    found = grade.Grader(tmp_path, hidden=[]).examine_student("s1", [NAME])
    assert found[NAME].rows == [{"name": "(cache)", "status": "FAIL", "detail": "verify stopped: MemoryError"}]


def test_every_notebook_is_released_or_says_why_not():
    sources = {p.stem for p in (ROOT / "notebooks" / "src").glob("[0-9]*.py")}
    assert sources == set(points.CELLS) | set(points.NOT_RELEASED) and not set(points.CELLS) & set(points.NOT_RELEASED)
    for name in points.NOT_RELEASED:
        with pytest.raises(assignment.NotReleasable, match="is not handed out"):
            assignment.nbgrader_notebook(ROOT / "notebooks" / "src" / f"{name}.py")


def test_release_holds_what_a_student_needs(built):
    for rel in [*release.SHIPPED, "README.md", f"notebooks/{NAME}.ipynb", "saved_models", "histories"]:
        assert (built / rel).exists(), f"the release lacks {rel}"
    assert not (built / "course").exists() and not (built / "notebooks" / "src").exists()
    cache = [p for d in ("saved_models", "histories") for p in (built / d).rglob("*") if p.name != ".keep"]
    assert cache == [], "the student's cache starts empty"
    with zipfile.ZipFile(built.with_suffix(".zip")) as archive:
        names = archive.namelist()
    assert f"{NAME}/notebooks/{NAME}.ipynb" in names and f"{NAME}/helpers/training.py" in names


def test_release_leaks_no_solution(built):
    nb = nbformat.read(built / "notebooks" / f"{NAME}.ipynb", as_version=4)
    assert release.secret_lines(NAME) and release.computed_answers(NAME), "there is something to look for"
    assert release.leaks(built, [NAME]) == []
    assert 'answer_3_2 = ""' in "\n".join(c.source for c in nb.cells), "an answer becomes an empty string"
    assert "### BEGIN HIDDEN TESTS" not in json.dumps(nb), "hidden tests are removed"


@pytest.mark.parametrize("name", [n for n in assignment.releasable() if n != NAME])
def test_every_release_leaks_no_solution(releases, name):
    folder = releases(name)
    assert release.secret_lines(name), f"{name} has solution code to look for"
    assert release.leaks(folder, [name]) == []


def test_the_student_versions_keep_the_names_seed_002_grades(releases):
    from test_notebooks import SEED_002_NAMES

    for name in set(SEED_002_NAMES.values()):
        nb = nbformat.read(releases(name) / "notebooks" / f"{name}.ipynb", as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        assert [n for n, where in SEED_002_NAMES.items() if where == name and n not in text] == []


def test_leak_check_finds_a_planted_solution(built, tmp_path):
    planted = tmp_path / "planted"
    shutil.copytree(built, planted, symlinks=True)
    shutil.copy2(ROOT / "notebooks" / f"{NAME}.ipynb", planted / "notebooks" / "solved.ipynb")
    shutil.copy2(ROOT / "histories" / "ex3_adam.pkl", planted / "histories" / "mine.pkl")
    found = "\n".join(release.leaks(planted, [NAME]))
    assert "solved.ipynb has outputs" in found and "solution code" in found and "computed answer" in found
    assert "histories/mine.pkl is a file of our cache" in found


def execute_in(
    folder: Path, nb: nbformat.NotebookNode, monkeypatch, name: str = NAME, **env: str
) -> nbformat.NotebookNode:
    """Run a notebook as a student's kernel would: in the release's notebooks/, on the release's own cache."""
    for key, value in {
        "IMGCLS_DATA_DIR": str(SHARED_DATA),
        "IMGCLS_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "IMGCLS_CACHE_DIR": str(folder),
        "IMGCLS_PARTIAL_DIR": str(folder / ".cache" / "partial"),
        **env,
    }.items():
        monkeypatch.setenv(key, value)
    with project_client(nb, folder / "notebooks", notebook=name, timeout=900) as client:
        client.allow_errors = True
        client.execute()
    return nb


def errors(nb: nbformat.NotebookNode) -> list[tuple[int, dict]]:
    return [(i, o) for i, c in enumerate(nb.cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.notebooks
@pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")
@pytest.mark.parametrize("name", assignment.releasable())
def test_blank_release_runs_to_its_first_exercise(releases, name, monkeypatch):
    folder = releases(name)
    blank = nbformat.read(folder / "notebooks" / f"{name}.ipynb", as_version=4)
    # smoke size: some notebooks train given experiments (06's broken network) before their first exercise
    nb = execute_in(folder, blank, monkeypatch, name, IMGCLS_SMOKE="1")
    found = errors(nb)
    first_stub = next(i for i, c in enumerate(nb.cells) if "raise NotImplementedError()" in c.source)
    assert found, "the blank notebook stops at its exercises"
    index, first = found[0]
    if index < first_stub:  # before its first exercise a notebook stops only for a run an earlier notebook trains
        assert "finish that notebook first" in first["evalue"], f"a cell before the first exercise: {first['evalue']}"
    else:
        assert first["ename"] in ("NotImplementedError", "Unfinished"), "the first error is nbgrader's stub"
    through_helpers = [
        f"{o['ename']}: {o['evalue']}" for _, o in found if any("helpers/" in line for line in o["traceback"])
    ]
    assert through_helpers == [], "no traceback runs through helpers: their errors are one line"
    # stubs, the tests that say what is missing, and cells that read a result not made yet
    allowed = {"NotImplementedError", "Unfinished", "AssertionError", "NameError", "KeyError", "CacheMiss"}
    assert {o["ename"] for _, o in found} <= allowed


@pytest.fixture(scope="module")
def solved_student(trained_student, tmp_path_factory):
    """A student whose code is ours: the release with our solution typed in, trained at smoke size (a copy)."""
    folder = tmp_path_factory.mktemp("student") / NAME
    shutil.copytree(trained_student.folder, folder, symlinks=True)
    return folder


@pytest.mark.notebooks
@pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")
def test_student_trains_into_their_own_cache_and_reruns_from_it(trained_student, solved_student):
    assert errors(trained_student.trained) == [], "our solution passes the release's tests"
    trained = sorted(p.stem for p in (trained_student.folder / "saved_models").glob("*.keras"))
    assert "ex3_adam" in trained, "training went into the student's own cache"
    again = trained_student.rerun
    assert errors(again) == [], "stop_training = True re-runs from the student's cache, training nothing"
    assert "grading: loads cached results and never trains" in json.dumps(again.cells[5].outputs)
    path = solved_student / "notebooks" / f"{NAME}.ipynb"
    env = {**os.environ, "IMGCLS_CACHE_DIR": str(solved_student), "IMGCLS_SMOKE": "1", "IMGCLS_CACHE_MODE": "require"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    validated = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", str(path)], capture_output=True, text=True, env=env
    )
    assert "Success! Your notebook passes all the tests." in validated.stdout, validated.stdout[-1500:]


def submit(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(folder / "scripts" / "submit.py"), *args], capture_output=True, text=True, cwd=folder
    )


def test_submit_says_what_is_missing_in_a_blank_release(built, tmp_path):
    folder = tmp_path / NAME
    shutil.copytree(built, folder, symlinks=True)
    done = submit(folder)
    assert done.returncode == 1
    assert "exercise(s) still raise NotImplementedError" in done.stdout
    assert "answer_3_2 is empty" in done.stdout
    assert "not executed top to bottom" in done.stdout
    assert "no PDF" in done.stdout
    assert str(tmp_path) not in done.stdout, "no path of the machine"
    with open(folder / "saved_models" / "big.keras", "wb") as big:  # sparse: 101 MB of zeros on no disk
        big.truncate(101 * 2**20)
    (folder / "histories" / "big.json").write_text(
        json.dumps({"name": "big", "notebook": NAME, "files": {"model": {"path": "saved_models/big.keras"}}})
    )
    assert "over the 100 MB limit; the largest: big.keras (101 MB)" in submit(folder).stdout


@pytest.mark.notebooks
@pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")
def test_submit_packs_exactly_the_notebooks_entries(solved_student):
    other = solved_student / "histories" / "someone_else.json"  # an entry another notebook recorded
    other.write_text(json.dumps({"name": "someone_else", "notebook": "02_dense_baselines", "files": {}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGCLS_")}
    env.update(IMGCLS_DATA_DIR=str(SHARED_DATA), IMGCLS_OFFLINE="1", IMGCLS_SMOKE="1", IMGCLS_SKIP_APT="1")
    rendered = subprocess.run(
        [str(solved_student / "render.sh"), "--student", "Ada Lovelace (s1234567)"],
        env=env,
        capture_output=True,
        text=True,
        cwd=solved_student,
    )
    assert rendered.returncode == 0, rendered.stdout[-2000:] + rendered.stderr[-2000:]
    pdf_text = subprocess.run(
        ["pdftotext", str(solved_student / "reports" / "suite.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "Ada Lovelace (s1234567)" in pdf_text and "Optimizers" in pdf_text, "the student's PDF, with their name"
    done = submit(solved_student)
    assert done.returncode == 0, done.stdout
    assert "ready to hand in" in done.stdout
    with zipfile.ZipFile(solved_student / "submission" / "submission.zip") as archive:
        names = set(archive.namelist())
    manifests = {
        f"histories/{p.name}"
        for p in (solved_student / "histories").glob("*.json")
        if json.loads(p.read_text()).get("notebook") == NAME
    }
    assert manifests and manifests <= names
    assert "saved_models/ex3_adam.keras" in names and "histories/ex3_adam.pkl" in names
    assert f"notebooks/{NAME}.ipynb" in names and "reports/suite.pdf" in names
    assert "histories/someone_else.json" not in names, "only the entries this notebook uses"


def test_course_sh_release_refuses_an_unknown_notebook():
    done = subprocess.run([str(ROOT / "course.sh"), "release", "no_such_notebook"], capture_output=True, text=True)
    assert done.returncode == 2 and "no releasable notebook matches" in done.stderr
    held = subprocess.run([str(ROOT / "course.sh"), "release", "09"], capture_output=True, text=True)
    assert held.returncode == 2 and "09_fashion_cnn_search is not handed out: the instructor's appendix" in held.stderr


def test_missing_shared_run_names_the_notebook_to_finish(tmp_path):
    from helpers import cache, shared_runs

    with pytest.raises(cache.CacheMiss, match="notebook 07_mnist_cnns trains it; finish that notebook first") as info:
        cache.manifest(shared_runs.MNIST_CNN_AUG, tmp_path)
    assert str(tmp_path) not in str(info.value), "the message names no folder"


@pytest.mark.notebooks
@pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")
@pytest.mark.skipif(not Path("/usr/bin/chromedriver").exists(), reason="Debian's chromium-driver is needed")
def test_release_notebook_runs_to_its_first_exercise_in_jupyterlab(built, browser, tmp_path):
    from selenium.webdriver.common.by import By

    with serve_lab(built / "lab.sh", tmp_path) as (url, token, _):
        kernel = open_in_kernel(browser, f"{url}/lab/tree/notebooks/{NAME}.ipynb?token={token}")
        assert kernel == "Python 3 (imgcls .venv)", "the release opens in the registered kernel, with no prompt"
        click_menu(browser, "Run", "runmenu:run-all")  # stops at the first error, as a student sees it

        def first_error() -> str:
            shown = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output")]
            return next((t for t in shown if "NotImplementedError" in t), "")

        error = wait_for(first_error, 300, "the first exercise's NotImplementedError")
        page = "\n".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output"))
        browser.save_screenshot(str(tmp_path / "release_first_exercise.png"))
    assert "(48000, 784) (12000, 784) (10000, 784)" in page, "the data cells before the first exercise ran"
    assert "helpers/" not in error, "no traceback through helpers"
