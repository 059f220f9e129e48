"""``./course.sh grade SUBMISSIONS``: grade a folder of submission zips by reloading each student's own results.

nbgrader does the grading; this is the glue around it:

1. each zip is screened (:mod:`course.intake`); nbgrader's ``zip_collect`` puts
   the accepted ones into ``submitted/STUDENT/ASSIGNMENT/`` (a folder already in
   that layout is taken as it is);
2. per student, ``verify`` checks the handed-in caches (:mod:`course.examine`,
   one process for all of the student's notebooks); per submission, nbgrader's
   ``autograde`` re-executes the notebook against its cache in require mode
   (nothing trains); both in the sandbox of :mod:`course.sandbox`, each with a
   home of its own;
3. points that rest on a flagged entry, and answers over their limit, are set
   to 0 in the gradebook; the feedback says why (:mod:`course.checks`);
4. nbgrader's ``generate_feedback`` and ``export`` write the feedback HTML and
   ``grades.csv``; :mod:`course.report` writes the cohort report.

One bad submission is one line in its feedback and the report; grading goes on.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course import assignment, checks, engine, intake, performance, points, release, sandbox, similarity

ROOT = Path(__file__).resolve().parent.parent
#: verify's statuses that withhold the points resting on an entry (NO DATA and ORPHAN only say so).
FLAGGED = {"FAIL", "CORRUPT", "STALE", "MISMATCH", "ANOMALY", "MISSING"}
CELL_TIMEOUT_S = 600  # nbgrader's limit per cell; a require-mode cell takes seconds
SUBMISSION_TIMEOUT_S = 1800
RERUN = "re-run the notebook after training; set stop_training = True"


@dataclass
class Outcome:
    """One student's submission of one assignment, as the report and the feedback tell it."""

    student: str
    assignment: str
    refused: str = ""
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    withheld: dict[str, str] = field(default_factory=dict)
    scaled: dict[str, float] = field(default_factory=dict)  # performance points of a passed test
    parts: dict[str, float] = field(default_factory=dict)  # seconds: verify, autograde
    digests: list = field(default_factory=list)  # (kind, entry, digest, training record) of its results
    seconds: float = 0.0


@dataclass
class Examined:
    """What :mod:`course.examine` found in one handed-in cache."""

    rows: list[dict]  # verify's rows
    digests: list = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Autograded:
    """How nbgrader's autograde of one submission went."""

    failed: str  # '' when it wrote the autograded notebook, else one line saying why not
    seconds: float = 0.0


def write_config(course_dir: Path) -> None:
    """nbgrader's settings for grading: the course's, plus zip_collect's collector and the cell timeout."""
    release.write_course_config(course_dir)
    with open(course_dir / "nbgrader_config.py", "a") as config:
        config.write(
            "c.ZipCollectApp.collector_plugin = 'course.collect.SubmissionCollector'\n"
            "c.ZipCollectApp.strict = True\n"
            f"c.Execute.timeout = {CELL_TIMEOUT_S}\n"
            "c.Execute.interrupt_on_timeout = True\n"
        )


def _env(settings: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IMGCLS_"))}
    env.update(settings if settings is not None else _settings())
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)  # nbgrader imports the collector plugin
    env.update(extra)
    return env


def _settings() -> dict[str, str]:
    """The suite's settings in this process (``IMGCLS_*``) that grading passes on; a student's cache is set per run."""
    per_run = ("IMGCLS_CACHE", "IMGCLS_PARTIAL")
    return {k: v for k, v in os.environ.items() if k.startswith("IMGCLS_") and not k.startswith(per_run)}


def screen_all(submissions: Path) -> tuple[dict[str, list[Path]], list[Outcome]]:
    """Screen every file in the folder: the accepted zips by assignment, and one outcome per refused file."""
    refused: list[Outcome] = []
    wanted: dict[str, list[Path]] = {}
    releasable = set(assignment.releasable())
    for path in sorted(p for p in submissions.iterdir() if p.is_file() or p.is_symlink()):
        try:
            if path.is_symlink() or path.suffix != ".zip":
                raise intake.Refused("not a zip: hand in the zip that ./course.sh submit writes")
            intake.student_id(path.name)
            names = [n for n in intake.screen(path) if n in releasable]
            if not names:
                raise intake.Refused("the zip holds no notebook of this course")
        except intake.Refused as err:
            refused.append(Outcome(path.name.split("_")[0], "-", refused=str(err)))
            continue
        for name in names:
            wanted.setdefault(name, []).append(path)
    return wanted, refused


def collect(zips: dict[str, list[Path]], course_dir: Path) -> None:
    """nbgrader's zip_collect files each assignment's zips into ``submitted/STUDENT/NAME/``."""
    for name, paths in zips.items():
        archive = course_dir / "downloaded" / name / "archive"
        shutil.rmtree(archive, ignore_errors=True)
        archive.mkdir(parents=True)
        for path in paths:
            shutil.copy2(path, archive / path.name)
    failed = [e for e in engine.batch([["zip_collect", name, "--force"] for name in zips], course_dir) if e]
    if failed:
        raise RuntimeError(failed[0])


def prepare(names: list[str], course_dir: Path) -> None:
    """The assignments in the gradebook, with our helpers in their source (autograde overwrites a student's copy)."""
    release.generate_all(names, course_dir, helpers=True)


def _notebook_problem(path: Path) -> str:
    """Why a handed-in notebook cannot be graded ('' when it can)."""
    if not path.exists():
        return "the zip holds no notebook for this assignment"
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - any unreadable notebook is one line
        return "the notebook is not a readable notebook (JSON): hand in the .ipynb the release gave you"
    if not any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells):
        return "the notebook has no nbgrader cells: work in the release's notebook, not a copy of another one"
    return ""


class Grader:
    """Grades the submissions in one nbgrader course folder, one student at a time."""

    def __init__(self, course_dir: Path, hidden: list[Path]):
        self.course_dir = course_dir
        self.settings = _settings()  # they travel with the grader to Dask workers
        self.hidden = [ROOT, course_dir, *hidden]
        self.readable = [ROOT / ".venv"] + [Path(p) for p in [os.environ.get("IMGCLS_DATA_DIR")] if p]

    def _folder(self, stage: str, student: str, name: str) -> Path:
        """nbgrader's folder of one submission at a stage (``submitted``, ``autograded``)."""
        return self.course_dir / stage / student / name

    def _wrap(self, argv: list[str], writable: list[Path], readable: list[Path] = ()) -> list[str]:
        if not sandbox.available():
            return argv
        return sandbox.wrap(argv, writable=writable, readable=[*self.readable, *readable], hidden=self.hidden)

    def _our_module(self, module: str, args: list[str], caches: list[Path], run: Path) -> subprocess.CompletedProcess:
        """``python -m MODULE ARGS`` from our helpers and course (read-only), sandboxed, the caches read-only."""
        return subprocess.run(
            self._wrap([sys.executable, "-m", module, *args], [run], [ROOT / "helpers", ROOT / "course", *caches]),
            cwd=run,
            env=_env(self.settings, HOME=str(run / "home"), TMPDIR=str(run), IMGCLS_OFFLINE="1"),
            capture_output=True,
            text=True,
            timeout=SUBMISSION_TIMEOUT_S,
        )

    def _examine(self, folders: list[Path]) -> dict[Path, Examined]:
        """:mod:`course.examine` on ``folders`` in one sandboxed process; a folder it never reached is left out."""
        with tempfile.TemporaryDirectory(prefix="g") as tmp:
            run = Path(tmp)
            (run / "home").mkdir()
            try:
                done = self._our_module("course.examine", [str(f) for f in folders], folders, run)
                printed, why = done.stdout, engine.last_line(done)
            except subprocess.TimeoutExpired as err:
                printed = err.stdout.decode(errors="replace") if isinstance(err.stdout, bytes) else err.stdout or ""
                why = f"verify took over {SUBMISSION_TIMEOUT_S // 60} minutes and was stopped"
        found: dict[Path, Examined] = {}
        for line in printed.splitlines():
            try:
                item = json.loads(line)
                digests = [tuple(d) for d in item["digests"]]
                found[Path(item["cache"])] = Examined(list(item["rows"]), digests, float(item["seconds"]))
            except (ValueError, KeyError, TypeError):
                continue
        if len(folders) == 1 and folders[0] not in found:
            found[folders[0]] = Examined([{"name": "(cache)", "status": "FAIL", "detail": f"verify stopped: {why}"}])
        return found

    def examine_student(self, student: str, names: list[str]) -> dict[str, Examined]:
        """verify's rows and the digests of a student's submissions, in one process (:mod:`course.examine`).

        A submission that stopped that process (it crashed or hung on it) and those
        after it are examined again one by one, so it fails alone.
        """
        folders = {name: self._folder("submitted", student, name) for name in names}
        found = self._examine(list(folders.values()))
        for folder in folders.values():
            if folder not in found:
                found.update(self._examine([folder]))
        return {name: found[folder] for name, folder in folders.items()}

    def digests(self, cache: Path, run: Path) -> list:
        """The submission's weight and history digests (:mod:`course.similarity`)."""
        done = self._our_module("course.similarity", [str(cache)], [cache], run)
        try:
            return [tuple(item) for item in json.loads(done.stdout.strip().splitlines()[-1])]
        except (ValueError, IndexError, TypeError):
            return []

    def autograde(self, student: str, name: str, run: Path) -> subprocess.CompletedProcess:
        """nbgrader autograde for one submission, its kernel in the sandbox, in require mode."""
        graded = self._folder("autograded", student, name)
        shutil.rmtree(graded, ignore_errors=True)
        graded.mkdir(parents=True)  # the sandbox binds it before nbgrader fills it
        prefix = self._wrap([], [graded, run])
        kernels = sandbox.kernel_spec(run / "jupyter", prefix)
        env = _env(
            self.settings,
            HOME=str(run / "home"),
            TMPDIR=str(run),
            JUPYTER_RUNTIME_DIR=str(run),
            JUPYTER_PATH=str(kernels),
            IMGCLS_CACHE_MODE="require",
            IMGCLS_CACHE_DIR=str(graded),
            IMGCLS_PARTIAL_DIR=str(run / "partial"),
            IMGCLS_OFFLINE="1",
            MPLBACKEND="Agg",
        )
        args = ["autograde", name, "--student", student, "--force", "--KernelManager.transport=ipc"]
        args.append(f"--KernelManager.ip={run / 'k'}")
        return engine.process(args, self.course_dir, env, timeout=SUBMISSION_TIMEOUT_S)

    def autograde_one(self, student: str, name: str) -> Autograded:
        """:meth:`autograde` in a temporary folder of its own (its home, runtime and resume folder)."""
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="g") as tmp:  # short: Unix socket paths are at most 107 bytes
            run = Path(tmp)
            (run / "home").mkdir()
            try:
                done = self.autograde(student, name, run)
            except subprocess.TimeoutExpired:
                why = f"autograde took over {SUBMISSION_TIMEOUT_S // 60} minutes and was stopped"
                return Autograded(why, time.monotonic() - start)
        graded_nb = self._folder("autograded", student, name) / f"{name}.ipynb"
        failed = done.returncode != 0 or not graded_nb.exists()
        return Autograded(f"autograde failed: {engine.last_line(done)}" if failed else "", time.monotonic() - start)

    def refusal(self, student: str, name: str) -> str:
        """Why a submitted folder is not graded at all ('' when it is)."""
        submitted = self._folder("submitted", student, name)
        if not intake.STUDENT_ID.match(f"{student}_"):
            return "the folder's name is not a student id"
        if any(p.is_symlink() or not (p.is_file() or p.is_dir()) for p in submitted.rglob("*")):
            return "the submission holds a symbolic link or a special file"
        return _notebook_problem(submitted / f"{name}.ipynb")

    def judge(self, student: str, name: str, examined: Examined, autograded: Autograded) -> Outcome:
        """The outcome of one verified and autograded submission: what to withhold and why."""
        outcome = Outcome(student, name, digests=examined.digests)
        outcome.parts = {"verify": examined.seconds, "autograde": autograded.seconds}
        outcome.seconds = examined.seconds + autograded.seconds
        if autograded.failed:
            outcome.refused = autograded.failed
            return outcome
        graded_nb = self._folder("autograded", student, name) / f"{name}.ipynb"
        handed_in = nbformat.read(self._folder("submitted", student, name) / f"{name}.ipynb", as_version=4)
        self._judge(outcome, examined.rows, handed_in, graded_nb)
        return outcome

    def _judge(self, outcome: Outcome, rows: list[dict], handed_in, graded_nb: Path) -> None:
        graded = nbformat.read(graded_nb, as_version=4)
        flagged = {}
        folder = f"{self._folder('submitted', outcome.student, outcome.assignment)}/"
        for row in rows:
            row["detail"] = str(row.get("detail", "")).replace(folder, "")  # no path of the grader's machine
            if row.get("status") in FLAGGED:
                flagged.setdefault(row["name"], f"{row['status']}: {row.get('detail', '')}".strip(": "))
            elif row.get("status") in ("NO DATA", "UNMEASURED"):
                outcome.notes.append(f"{row['name']}: {row.get('metric', '')} not re-measured ({row.get('detail')})")
        for name, why in flagged.items():
            outcome.flags.append(f"cache entry {name}: {why}")
        for gid, names in checks.dependencies(graded).items():
            bad = sorted(names & set(flagged))
            if bad:
                outcome.withheld[gid] = f"rests on the flagged run {bad[0]}"
        for gid, why in checks.answer_problems(graded).items():
            outcome.withheld[gid] = why
        self._performance(outcome, rows, flagged)
        for run_name, kind in checks.misses(graded).items():
            outcome.notes.append(f"run {run_name} is {kind} in your cache, so its exercise scores 0: {RERUN}")
        for edit in checks.edited_outputs(handed_in, graded):
            outcome.flags.append(
                f"cell {edit.cell}: the handed-in notebook prints {edit.handed_in}, "
                f"re-executing it from your cache prints {edit.re_executed}"
            )
        _add_notes_cell(graded, outcome)
        nbformat.write(graded, graded_nb)

    def _performance(self, outcome: Outcome, rows: list[dict], flagged: dict[str, str]) -> None:
        """Scale each target's test points by the accuracy its run reached (:mod:`course.performance`)."""
        from helpers import cache

        for gid, target in performance.TARGETS.get(outcome.assignment, {}).items():
            measured = next(
                (r["measured"] for r in rows if r.get("name") == target.run and r.get("metric") == "val_accuracy"),
                None,
            )
            if target.run in flagged or measured is None:
                continue
            try:
                handed_in = cache.Cache(self._folder("submitted", outcome.student, outcome.assignment))
                curve = cache.load_history(handed_in.paths(target.run)["history"]).get("val_accuracy", [])
            except cache.CacheCorrupt:
                continue
            graded = points.CELLS[outcome.assignment][gid]
            earned, line = performance.score(target, curve, measured, graded.points, performance.reference(target.run))
            outcome.scaled[gid] = earned
            outcome.notes.append(f"performance, `{gid}`: {line}")


def _add_notes_cell(nb: nbformat.NotebookNode, outcome: Outcome) -> None:
    """Put what grading found at the top of the notebook that nbgrader turns into the feedback."""
    lines = ["## Grading notes", ""]
    lines += [f"- **Flagged**: {flag}" for flag in outcome.flags]
    lines += [f"- **0 points** for `{gid}`: {why}" for gid, why in outcome.withheld.items()]
    lines += [f"- {note}" for note in outcome.notes]
    if len(lines) == 2:
        lines.append("- Every run was reloaded from your cache and verified; nothing was flagged.")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("\n".join(lines)))


def withhold(course_dir: Path, outcomes: list[Outcome]) -> None:
    """Set the withheld cells' scores to 0 in nbgrader's gradebook (as a grader would by hand)."""
    from nbgrader.api import Gradebook, MissingEntry

    url = release.gradebook_url(course_dir)
    with Gradebook(url, "imgcls") as gb:
        for outcome in outcomes:
            for gid in {*outcome.withheld, *outcome.scaled}:
                try:
                    grade = gb.find_grade(gid, outcome.assignment, outcome.assignment, outcome.student)
                except MissingEntry:
                    continue
                if gid in outcome.withheld:
                    grade.manual_score = 0.0
                    grade.needs_manual_grade = False
                elif grade.auto_score == grade.max_score:  # performance points scale a test that passed
                    grade.manual_score = round(outcome.scaled[gid], 2)
            gb.db.commit()


def copies(course_dir: Path, outcomes: list[Outcome]) -> list[similarity.Pair]:
    """Pairs of graded submissions that share code, answers, weights or histories, per assignment."""
    pairs = []
    for name in sorted({o.assignment for o in outcomes if not o.refused}):
        mine = [o for o in outcomes if o.assignment == name and not o.refused]
        notebooks = {}
        for o in mine:
            try:
                notebooks[o.student] = nbformat.read(course_dir / "submitted" / o.student / name / f"{name}.ipynb", 4)
            except Exception:  # noqa: BLE001 - refused already; nothing to compare
                continue
        given = nbformat.read(course_dir / "release" / name / f"{name}.ipynb", as_version=4)
        solution = nbformat.read(course_dir / "source" / name / f"{name}.ipynb", as_version=4)
        found = similarity.code_and_answer_pairs(notebooks, given, solution)
        found += similarity.result_pairs({o.student: o.digests for o in mine})
        pairs += [dataclasses.replace(p, what=f"{name}: {p.what}") for p in found]
    return pairs


def gather(submissions: Path, course_dir: Path) -> list[Outcome]:
    """Screen the submissions and let nbgrader file the accepted ones; return the refused ones."""
    write_config(course_dir)
    zips, outcomes = screen_all(submissions)
    laid_out = {p.parent.name for p in submissions.glob("*/*/*.ipynb")} & set(assignment.releasable())
    prepare(sorted(set(zips) | laid_out), course_dir)
    write_config(course_dir)  # generate_assignment rewrote the course's settings
    collect(zips, course_dir)
    if laid_out:  # nbgrader's own submitted/STUDENT/ASSIGNMENT/ layout
        shutil.copytree(submissions, course_dir / "submitted", dirs_exist_ok=True, symlinks=True)
    return outcomes


def grade_all(grader: Grader, units: list[tuple[str, str]], workers: int = 0, scheduler: str = "") -> list[Outcome]:
    """Grade each (student, assignment), ``workers`` tasks at a time, or on the Dask scheduler at ``scheduler``.

    The tasks are one examination of each student's handed-in caches (one
    process for all of a student's notebooks) and one autograde per submission,
    each in processes of its own, so the local pool is of threads that start and
    wait for them. Each submission is judged here once both of its tasks are done.
    Dask workers must see the same folders (one machine, or a shared file system).

    Returns:
        The outcomes in the order of ``units``, whatever order they finished in.
    """
    done: dict[tuple[str, str], Outcome] = {}
    students: dict[str, list[str]] = {}

    def finished(unit: tuple[str, str], outcome: Callable[..., Outcome], *args) -> None:
        try:
            done[unit] = outcome(*args)
        except Exception as err:  # noqa: BLE001 - one submission's failure is one line; grading goes on
            done[unit] = Outcome(*unit, refused=f"grading stopped: {type(err).__name__}: {err}"[:300])
        print(f"[grade] {unit[0]} {unit[1]}: {_summary(done[unit])}", flush=True)

    def judged(student: str, name: str, examined, autograded) -> Outcome:
        return grader.judge(student, name, examined.result()[name], autograded.result())

    for unit in units:
        why = grader.refusal(*unit)
        if why:
            finished(unit, Outcome, *unit, why)
        else:
            students.setdefault(unit[0], []).append(unit[1])

    def run(submit, as_completed) -> None:
        examined = {student: submit(grader.examine_student, student, names) for student, names in students.items()}
        autograded = {submit(grader.autograde_one, s, n): (s, n) for s, names in students.items() for n in names}
        for future in as_completed(autograded):
            student, name = unit = autograded[future]
            finished(unit, judged, student, name, examined[student], future)

    if scheduler:
        from distributed import Client, as_completed

        with Client(scheduler) as client:
            run(lambda *task: client.submit(*task, pure=False), as_completed)
    else:
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            run(pool.submit, concurrent.futures.as_completed)
    return [done[unit] for unit in units]


def return_feedback(course_dir: Path, target: Path) -> None:
    """Copy the feedback into another nbgrader course folder (a course server's), owned as that folder is.

    There, ``nbgrader release_feedback`` (or the formgrader's *Release feedback*)
    hands it to the students through the exchange.
    """
    copied = shutil.copytree(course_dir / "feedback", target / "feedback", dirs_exist_ok=True)
    owner = target.stat()
    if os.geteuid() == 0 and owner.st_uid != 0:
        for path in [copied, *copied.rglob("*")]:
            os.chown(path, owner.st_uid, owner.st_gid)


def grade(
    submissions: Path, out: Path, workers: int = 0, scheduler: str = "", feedback_to: Path | None = None
) -> list[Outcome]:
    """Grade every submission in ``submissions``; write the gradebook, feedback, grades.csv and report in ``out``.

    Args:
        submissions: the folder of zips (or nbgrader's ``submitted/`` layout).
        out: where the course folder, ``grades.csv`` and ``report.html`` go.
        workers: submissions graded at once on this machine (0: one per core).
        scheduler: a Dask scheduler's address to grade on instead (``IMGCLS_DASK_SCHEDULER``).
        feedback_to: an nbgrader course folder to copy the feedback into (:func:`return_feedback`).

    Returns:
        One outcome per submission (and per refused zip).
    """
    from course import report

    start = time.monotonic()
    submissions, out = submissions.resolve(), out.resolve()  # the subprocesses run in other folders
    course_dir = out / "course"
    outcomes = gather(submissions, course_dir)
    for outcome in outcomes:
        print(f"[grade] {outcome.student} {outcome.assignment}: {_summary(outcome)}", flush=True)
    grader = Grader(course_dir, hidden=[submissions, out])
    units = [f for f in sorted((course_dir / "submitted").glob("*/*")) if f.is_dir() and not f.is_symlink()]
    units.sort(key=_size, reverse=True)  # the largest (slowest to verify) first: the last to finish is a small one
    finished = grade_all(grader, [(f.parent.name, f.name) for f in units], workers, scheduler)
    outcomes += sorted(finished, key=lambda o: (o.student, o.assignment))
    withhold(course_dir, outcomes)
    graded = sorted({o.assignment for o in outcomes if not o.refused})
    commands = [["generate_feedback", name, "--force"] for name in graded]
    *feedback, exported = engine.batch([*commands, ["export", f"--to={out / 'grades.csv'}"]], course_dir)
    for error in feedback:
        if error:
            print(f"[grade] {error}", file=sys.stderr)
    if exported:
        raise RuntimeError(exported)
    if feedback_to:
        return_feedback(course_dir, feedback_to.resolve())
    pairs = copies(course_dir, outcomes)
    report.write(out / "report.html", outcomes, course_dir, time.monotonic() - start, sandbox.available(), pairs)
    return outcomes


def find_copies(submissions: Path, out: Path) -> list[similarity.Pair]:
    """``./course.sh similarity``: the copies report alone, without autograde (``out/similarity.html``)."""
    from course import report

    submissions, out = submissions.resolve(), out.resolve()
    course_dir = out / "course"
    outcomes = [o for o in gather(submissions, course_dir) if not o.refused]
    grader = Grader(course_dir, hidden=[submissions.resolve(), out.resolve()])
    for folder in sorted((course_dir / "submitted").glob("*/*")):
        if folder.is_dir() and not folder.is_symlink():
            with tempfile.TemporaryDirectory(prefix="g") as tmp:
                (Path(tmp) / "home").mkdir()
                outcome = Outcome(folder.parent.name, folder.name, digests=grader.digests(folder, Path(tmp)))
            outcomes.append(outcome)
    pairs = copies(course_dir, outcomes)
    (out / "similarity.html").write_text(report.html_page("Possible copies", report.copies_section(pairs)))
    return pairs


def _size(folder: Path) -> int:
    """The bytes of a submission's files (its models are most of what grading spends its time on)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _summary(outcome: Outcome) -> str:
    if outcome.refused:
        return f"refused: {outcome.refused}"
    parts = [f"{len(outcome.flags)} flag(s)", f"{len(outcome.withheld)} cell(s) withheld", f"{outcome.seconds:.0f} s"]
    return ", ".join(parts)
