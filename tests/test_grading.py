"""``./course.sh grade``: a folder of simulated submissions of notebook 03, graded once with nbgrader's real CLI.

The cohort, made from the release:

* s1001 our solution, trained at smoke size (a);
* s1002 the blank release (b); s1003 partly done: the later exercises left as stubs (c);
* s1004 a self-consistent forged history: weights of one run, a better curve recorded for them (d);
* s1005 the notebook changed after training (Adam's beta_1), so its run is stale (e);
* s1006 a printed number edited by hand (f);
* s1007 code that deletes a file, reads another student's folder and our project, and opens the network (g);
* s1008 a history pickle gadget and a ``.keras`` file with a Lambda, their checksums made to match (g);
* s2001-s2009 hostile or broken zips (g).

Every test reads the one grading run (one submission after another): ``grades.csv``, the report, the feedback.
Part of the cohort is graded again on a local Dask cluster into PostgreSQL, for the same rows of ``grades.csv``.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
import re
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SHARED_DATA, have_real_data

from course import intake, sandbox

NAME = "03_optimizers"
pytestmark = [
    pytest.mark.notebooks,
    pytest.mark.skipif(not have_real_data(), reason="offline datasets not present"),
]
HOSTILE_CELL = """
import os, socket
for label, act in [
    ("delete", lambda: os.remove(CANARY)),
    ("read-other", lambda: os.listdir(OTHER)),
    ("read-project", lambda: open(PROJECT).read()),
    ("network", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=3)),
    ("write-outside", lambda: open(OUTSIDE, "w").write("x")),
]:
    try:
        act()
        print(label, "DONE")
    except Exception as err:
        print(label, "blocked", type(err).__name__)
"""


def _submit(folder: Path, target: Path) -> Path:
    subprocess.run([sys.executable, str(folder / "scripts" / "submit.py")], capture_output=True, cwd=folder)
    shutil.copy2(folder / "submission" / "submission.zip", target)
    return target


def _edit_zip(source: Path, target: Path, edit) -> Path:
    """A copy of a submission zip with ``edit(name, bytes) -> bytes`` applied to every member."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, edit(info.filename, src.read(info)))
    return target


def _edit_notebook(edit):
    def apply(name: str, data: bytes) -> bytes:
        if name != f"notebooks/{NAME}.ipynb":
            return data
        nb = nbformat.reads(data.decode(), as_version=4)
        edit(nb)
        return nbformat.writes(nb).encode()

    return apply


def _forged_history(student: Path) -> None:
    """Record a better curve for ex3_adam's weights, manifest and checksums made consistent."""
    from helpers import cache
    from helpers.training import summarize_history

    p = cache.paths("ex3_adam", student)
    history = cache.load_history(p["history"])
    history["val_accuracy"] = [min(1.0, v + 0.1) for v in history["val_accuracy"]]
    cache.dump_history(p["history"], history)
    manifest = json.loads(p["manifest"].read_text())
    manifest["metrics"].update({k: v for k, v in summarize_history(history).items() if k in ("final", "best")})
    manifest["files"]["history"]["sha256"] = cache.sha256_file(p["history"])
    p["manifest"].write_text(json.dumps(manifest))


class _Gadget:
    """A pickle that runs a shell command when it is loaded."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def _gadgets(honest: Path, target: Path, pwned: Path) -> Path:
    """ex3_adam's history a pickle gadget, ex3_sgd_lr1.0's model a Lambda: checksums made to match."""
    import hashlib

    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(10)])
    model.save(target.with_suffix(".keras"))
    swapped = {
        "histories/ex3_adam.pkl": pickle.dumps({"loss": [_Gadget(pwned)]}),
        "saved_models/ex3_sgd_lr1.0.keras": target.with_suffix(".keras").read_bytes(),
    }
    target.with_suffix(".keras").unlink()

    def edit(name: str, data: bytes) -> bytes:
        if name in swapped:
            return swapped[name]
        for member, new in swapped.items():
            entry = Path(member).stem
            if name == f"histories/{entry}.json":
                manifest = json.loads(data)
                kind = "history" if member.endswith(".pkl") else "model"
                manifest["files"][kind]["sha256"] = hashlib.sha256(new).hexdigest()
                return json.dumps(manifest).encode()
        return data

    return _edit_zip(honest, target, edit)


def _hostile_zips(folder: Path, honest: Path) -> None:
    def bad(name: str, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> None:
        with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, data in members:
                archive.writestr(info, data)

    nb = f"notebooks/{NAME}.ipynb"
    bad("s2001_climb.zip", [(nb, b"{}"), ("../../escaped.txt", b"x")])
    bad("s2002_absolute.zip", [(nb, b"{}"), ("/tmp/escaped.txt", b"x")])
    link = zipfile.ZipInfo("saved_models/link.keras")
    link.external_attr = (0o120777 << 16) | 0x20  # a symbolic link to /etc/passwd
    bad("s2003_symlink.zip", [(nb, b"{}"), (link, b"/etc/passwd")])
    device = zipfile.ZipInfo("histories/dev")
    device.external_attr = 0o020666 << 16  # a character device
    bad("s2004_device.zip", [(nb, b"{}"), (device, b"")])
    bad("s2005_bomb.zip", [(nb, b"{}"), ("histories/bomb.pkl", b"\0" * (200 * 2**20))])
    (folder / "s2006_notazip.zip").write_bytes(b"PK\x03\x04 but not really a zip")
    bad("s2007_notjson.zip", [(nb, b"this is not JSON {")])
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    bad("s2008_nometadata.zip", [(nb, nbformat.writes(plain).encode())])
    with open(folder / "s2009_toolarge.zip", "wb") as big:  # sparse: over the cap on no disk
        big.truncate(intake.MAX_ZIP_BYTES + 1)
    shutil.copy2(honest, folder / "nameless.zip")  # no student id in the name


@pytest.fixture(scope="module")
def cohort(releases, trained_student, tmp_path_factory):
    """Grade the simulated cohort once; yields the output folder and what the hostile cell should not reach."""
    base = tmp_path_factory.mktemp("cohort")
    built = releases(NAME)
    os.environ.update(IMGCLS_DATA_DIR=str(SHARED_DATA), IMGCLS_OFFLINE="1", MPLBACKEND="Agg", IMGCLS_SMOKE="1")
    try:
        solved = base / "solved" / NAME
        shutil.copytree(trained_student.folder, solved, symlinks=True)  # trained, then re-run from its cache
        os.environ["IMGCLS_CACHE_DIR"] = str(solved)
        subs = base / "submissions"
        subs.mkdir()
        honest = _submit(solved, subs / "s1001_submission.zip")
        blank = base / "blank" / NAME
        shutil.copytree(built, blank, symlinks=True)
        _submit(blank, subs / "s1002_submission.zip")
        stubs = nbformat.read(built / "notebooks" / f"{NAME}.ipynb", as_version=4)

        def partly(nb):  # exercises from 3.3 on as the release has them
            start = next(i for i, c in enumerate(nb.cells) if "adam_name = " in c.source)
            for mine, stub in zip(nb.cells[start:], stubs.cells[start:], strict=True):
                if "raise NotImplementedError" in stub.source:
                    mine.source = stub.source

        _edit_zip(honest, subs / "s1003_partly.zip", _edit_notebook(partly))
        forged = base / "forged" / NAME
        shutil.copytree(solved, forged, symlinks=True)
        _forged_history(forged)
        _submit(forged, subs / "s1004_submission.zip")

        def changed(nb):
            cell = next(c for c in nb.cells if "adam_model, adam_history = hp.fit_cached(" in c.source)
            cell.source = cell.source.replace("keras.optimizers.Adam()", "keras.optimizers.Adam(beta_1=0.85)")

        _edit_zip(honest, subs / "s1005_changed.zip", _edit_notebook(changed))

        def edited(nb):
            cell = next(
                c
                for c in nb.cells
                if "".join(o.get("text", "") for o in c.get("outputs", [])).startswith("final 1x128")
            )
            cell.outputs[0]["text"] = re.sub(r"test accuracy [0-9.]+", "test accuracy 0.9912", cell.outputs[0]["text"])

        _edit_zip(honest, subs / "s1006_edited.zip", _edit_notebook(edited))
        canary = base / "canary.txt"
        canary.write_text("still here")
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        reached: list[bool] = []
        stop = threading.Event()

        def listen():
            while not stop.is_set():
                try:
                    server.accept()[0].close()
                    reached.append(True)
                except OSError:
                    continue

        threading.Thread(target=listen, daemon=True).start()
        out = base / "out"
        settings = {
            "CANARY": str(canary),
            "OTHER": str(out / "course" / "submitted" / "s1001"),
            "PROJECT": str(ROOT / "README.md"),
            "PORT": server.getsockname()[1],
            "OUTSIDE": str(Path(sys.prefix).resolve() / "escaped.txt"),  # the grader's environment itself
        }

        def hostile(nb):
            code = "\n".join(f"{k} = {v!r}" for k, v in settings.items()) + HOSTILE_CELL
            nb.cells.append(nbformat.v4.new_code_cell(code))

        if sandbox.available():  # unsandboxed, this code would act on the machine
            _edit_zip(honest, subs / "s1007_hostile.zip", _edit_notebook(hostile))
        _gadgets(honest, subs / "s1008_gadgets.zip", base / "pwned")
        _hostile_zips(subs, honest)
        for key in ("IMGCLS_CACHE_DIR", "IMGCLS_CACHE_MODE"):
            os.environ.pop(key, None)
        done = subprocess.run(
            [str(ROOT / "course.sh"), "grade", str(subs), "--out", str(out)],  # one task per core, on threads
            capture_output=True,
            text=True,
        )
        stop.set()
        server.close()
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        yield {
            "out": out,
            "log": done.stdout,
            "canary": canary,
            "reached": reached,
            "pwned": base / "pwned",
            "submissions": subs,
        }
    finally:
        for key in ("IMGCLS_CACHE_DIR", "IMGCLS_SMOKE", "IMGCLS_OFFLINE"):
            os.environ.pop(key, None)


def grades(cohort) -> dict[str, float]:
    with open(cohort["out"] / "grades.csv") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def feedback(cohort, student: str) -> str:
    path = cohort["out"] / "course" / "feedback" / student / NAME / f"{NAME}.html"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text()))


def report(cohort) -> str:
    return (cohort["out"] / "report.html").read_text()


def test_our_solution_earns_every_autograded_point(cohort):
    from course import points

    autograded = sum(p.points for gid, p in points.CELLS[NAME].items() if gid.startswith("test_"))
    assert grades(cohort)["s1001"] == autograded, "every test passes; answers and plots wait for a person"
    assert "nothing was flagged" in feedback(cohort, "s1001")


def test_the_blank_release_scores_zero_and_says_what_is_missing(cohort):
    assert grades(cohort)["s1002"] == 0
    text = feedback(cohort, "s1002")
    assert "NotImplementedError" in text and "no answer written" in text


def test_a_partly_done_submission_keeps_the_points_it_earned(cohort):
    assert 0 < grades(cohort)["s1003"] < grades(cohort)["s1001"]


def test_a_forged_history_is_flagged_and_its_points_withheld(cohort):
    assert grades(cohort)["s1004"] < grades(cohort)["s1001"], "the forged run's test points are withheld"
    text = feedback(cohort, "s1004")
    assert "cache entry ex3_adam: ANOMALY" in text and "0 points for test_adam_run" in text
    assert "s1004" in report(cohort) and "ANOMALY" in report(cohort)


def test_a_notebook_changed_after_training_misses_its_run(cohort):
    assert grades(cohort)["s1005"] < grades(cohort)["s1001"]
    assert "run ex3_adam is stale in your cache" in feedback(cohort, "s1005")
    assert "re-run the notebook after training; set stop_training = True" in feedback(cohort, "s1005")


def test_hand_edited_numbers_are_flagged_with_both_values(cohort):
    text = feedback(cohort, "s1006")
    assert re.search(
        r"cell \d+: the handed-in notebook prints 0.9912, re-executing it from your cache prints 0\.\d+", text
    )
    assert "s1006" in report(cohort)
    assert "handed-in notebook prints" not in feedback(cohort, "s1001"), "an honest notebook is not flagged"


def test_a_pickle_gadget_and_a_keras_gadget_are_refused_and_grading_goes_on(cohort):
    text = feedback(cohort, "s1008")
    notes = text[text.index("Grading notes") : text.index("Optimizers: SGD")]
    assert str(cohort["out"]) not in notes, "no path of the grader's machine in what grading says"
    assert "cache entry ex3_adam: CORRUPT" in text and "cache entry ex3_sgd_lr1.0: CORRUPT" in text
    assert "can run code" in text
    assert not cohort["pwned"].exists(), "the gadget ran nowhere"
    assert grades(cohort)["s1008"] < grades(cohort)["s1001"]


@pytest.mark.skipif(not sandbox.available(), reason="bubblewrap is needed for the sandbox")
def test_student_code_reaches_nothing_outside_its_folder(cohort):
    graded = cohort["out"] / "course" / "autograded" / "s1007" / NAME / f"{NAME}.ipynb"
    printed = "".join(o.get("text", "") for o in nbformat.read(graded, as_version=4).cells[-1].outputs)
    assert "DONE" not in printed and printed.count("blocked") == 5, printed
    assert cohort["canary"].read_text() == "still here" and not (Path(sys.prefix).resolve() / "escaped.txt").exists()
    assert cohort["reached"] == [], "no connection reached the grader's network"
    assert grades(cohort)["s1007"] == grades(cohort)["s1001"], "graded like anyone else"


@pytest.mark.parametrize(
    "student, reason",
    [
        ("s2001", "climbs out of the submission"),
        ("s2002", "has an absolute path"),
        ("s2003", "is a symbolic link"),
        ("s2004", "is a device or other special file"),
        ("s2005", "a zip bomb"),
        ("s2006", "not a readable zip"),
        ("s2007", "not a readable notebook (JSON)"),
        ("s2008", "has no nbgrader cells"),
        ("s2009", "over the 150 MB cap"),
        ("nameless.zip", "does not start with a student id"),
    ],
)
def test_a_hostile_or_broken_zip_is_refused_with_one_line(cohort, student, reason):
    line = next((line for line in cohort["log"].splitlines() if line.startswith(f"[grade] {student} ")), "")
    assert "refused: " in line and reason in line, line or cohort["log"][-2000:]
    assert student.split("_")[0] in report(cohort), "the report lists the refused submission"
    assert not (cohort["out"] / "escaped.txt").exists() and not Path("/tmp/escaped.txt").exists()


@pytest.mark.skipif(not Path("/usr/bin/chromedriver").exists(), reason="Debian's chromium-driver is needed")
def test_formgrader_opens_a_graded_submission_with_its_autograded_points(cohort, browser, tmp_path):
    from nbgrader.api import Gradebook
    from selenium.webdriver.common.by import By
    from test_jupyterlab import serve_lab, wait_for

    course = cohort["out"] / "course"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "imgcls") as gb:
        submission = gb.find_submission_notebook(NAME, NAME, "s1001").id
    start = tmp_path / "formgrader.sh"  # JupyterLab in the grading course, where nbgrader_config.py is
    jupyter = ROOT / ".venv" / "bin" / "jupyter"
    start.write_text(f"#!/bin/sh\ncd '{course}' && exec '{jupyter}' lab --allow-root --ServerApp.root_dir=. \"$@\"\n")
    start.chmod(0o755)
    with serve_lab(start, tmp_path) as (url, token, _):
        browser.get(f"{url}/formgrader/submissions/{submission}/?token={token}")
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "input.score"), 60, "the formgrader's score inputs")
        page = browser.page_source
    assert "s1001" in page or "03_optimizers" in page
    assert "answer_3_2" in page, "the written answers wait for a person"
    assert "test_mlp_128" in page, "the autograded tests are shown with their points"


def test_the_report_lists_the_copies_and_leaves_the_blank_release_out(cohort):
    text = report(cohort)
    section = text[text.index("<h2>Possible copies") : text.index("<h2>Time per submission")]
    for kind in ("weights", "history", "answer"):
        assert f"<td>{kind}</td>" in section, f"the cohort's copied {kind} are listed"
    assert "<td>code</td>" not in section, "their code is the instructor's solution: the exercise asked for it"
    assert "<td>s1001</td><td>s1006</td>" in section, "s1006 handed in s1001's work"
    assert "s1002" not in section, "the release's own stubs are no copy"


def test_two_dask_workers_and_a_postgres_gradebook_give_the_same_grades(cohort, postgres_url, tmp_path, monkeypatch):
    import distributed
    import sqlalchemy

    subset = tmp_path / "subset"
    subset.mkdir()
    students = ("s1001", "s1004")  # solved; a forged history, its points withheld
    for student in students:
        shutil.copy2(next(cohort["submissions"].glob(f"{student}_*.zip")), subset)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the workers import course.grade
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        env = {**os.environ, "IMGCLS_DASK_SCHEDULER": cluster.scheduler_address, "IMGCLS_GRADEBOOK_URL": postgres_url}
        env.update(IMGCLS_DATA_DIR=str(SHARED_DATA), IMGCLS_OFFLINE="1", IMGCLS_SMOKE="1")  # as the cohort was graded
        done = subprocess.run(
            [str(ROOT / "course.sh"), "grade", str(subset), "--out", str(tmp_path / "out")],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        graded_on = {prefix for prefix in cluster.scheduler.task_prefixes}
    assert {"examine_student", "autograde_one"} <= graded_on, "the submissions were graded on the Dask workers"
    with open(tmp_path / "out" / "grades.csv") as f:
        on_dask = {row["student_id"]: row for row in csv.DictReader(f)}
    with open(cohort["out"] / "grades.csv") as f:
        locally = {row["student_id"]: row for row in csv.DictReader(f) if row["student_id"] in students}
    assert on_dask == locally, "the same rows of grades.csv on two Dask workers into PostgreSQL as on local threads"
    assert not (tmp_path / "out" / "course" / "gradebook.db").exists(), "no SQLite gradebook beside it"
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.connect() as db:
        in_postgres = {row[0] for row in db.execute(sqlalchemy.text("select student_id from submitted_assignment"))}
    engine.dispose()
    assert in_postgres == set(students), "the gradebook is the PostgreSQL database"
