"""A course server: JupyterHub behind configurable-http-proxy, nbgrader's exchange, one instructor and two students.

Everything is the real thing, started on 127.0.0.1 and stopped after: the Hub
(``jupyterhub``), its proxy (npm's ``configurable-http-proxy``), and one
JupyterLab server per user, each with a home of its own. The servers run under
the Hub's own account (JupyterHub's ``SimpleLocalProcessSpawner``), as every
container does on Zero to JupyterHub, so nbgrader takes the student's id from
``JUPYTERHUB_USER`` (``CourseDirectory.student_id`` in the course's
``nbgrader_config.py``). Accounts of the machine would need the project's
Python to be readable by them; here it lives under ``/root``.

The path is the course's: the instructor releases 03 through the formgrader;
a student lists, fetches and submits it through nbgrader's assignment list
(what JupyterLab's *Assignments* tab calls) or nbgrader's command line as that
student; the instructor collects, grades
with ``./course.sh grade ... --feedback-to``, and releases the feedback, which
each student fetches.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
import requests
from conftest import ROOT, SHARED_DATA, _free_port

from course import assignment, release

NAME = "03_optimizers"
COURSE = "imgcls"
TEACHER, STUDENTS = "imgcls-teacher", ("s9001", "s9002")
CHP = ROOT / ".venv" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
HUB = ROOT / ".venv" / "bin" / "jupyterhub"
pytestmark = pytest.mark.skipif(
    not CHP.exists() or not HUB.exists(), reason="needs jupyterhub and configurable-http-proxy (scripts/setup_env.sh)"
)


def _hub_config(base: Path, port: int, token: str) -> str:
    venv = ROOT / ".venv" / "bin"
    env = {
        "PATH": f"{venv}:/usr/bin:/bin",
        "JUPYTER_CONFIG_PATH": str(base / "etc"),  # nbgrader's course id and exchange, for every user
        "IMGCLS_DATA_DIR": str(SHARED_DATA),
    }
    scopes = ["admin:users", "admin:servers", "access:servers", "list:users", "read:users"]
    return f"""
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {_free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{_free_port()}"
c.ConfigurableHTTPProxy.command = [{str(CHP)!r}]
c.JupyterHub.db_url = "sqlite:///{base / "hub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(base / "cookie_secret")!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {{{", ".join(repr(u) for u in (TEACHER, *STUDENTS))}}}
c.JupyterHub.services = [{{"name": "course-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-test", "scopes": {scopes!r}, "services": ["course-test"]}}]
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(base / "home" / "{username}")!r}
c.Spawner.cmd = [{str(venv / "jupyterhub-singleuser")!r}]
c.Spawner.args = {["--allow-root"] if os.geteuid() == 0 else []!r}  # the Hub's account, here root
c.Spawner.environment = {env!r}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
"""


class Hub:
    """The running Hub: REST calls as the test's service, to the Hub and through the proxy to each user's server."""

    def __init__(self, url: str, token: str, base: Path):
        self.url, self.base = url, base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        answer = self.session.request(method, f"{self.url}{path}", timeout=120, **kwargs)
        log = (self.base / "hub.log").read_text()[-2500:]
        assert answer.ok, f"{method} {path}: {answer.status_code} {answer.text[:500]}\nthe Hub's log:\n{log}"
        return answer

    def start_server(self, user: str) -> None:
        self.call("POST", f"/hub/api/users/{user}/server")
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            server = self.call("GET", f"/hub/api/users/{user}").json()["servers"].get("", {})
            if server.get("ready"):
                return
            time.sleep(1)
        pytest.fail(f"{user}'s server did not start: {(self.base / 'hub.log').read_text()[-2000:]}")

    def home(self, user: str) -> Path:
        return self.base / "home" / user

    def nbgrader(self, user: str, *args: str) -> str:
        """nbgrader's command line as ``user`` would run it in a terminal of their server (their home, their id)."""
        env = {**os.environ, "HOME": str(self.home(user)), "JUPYTERHUB_USER": user}
        env.update(JUPYTER_CONFIG_PATH=str(self.base / "etc"), PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}")
        command = [str(ROOT / ".venv" / "bin" / "nbgrader"), *args]
        done = subprocess.run(command, cwd=self.home(user), env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"nbgrader {args[0]} as {user}: {(done.stdout + done.stderr)[-1500:]}"
        return done.stdout + done.stderr


@pytest.fixture(scope="module")
def hub():
    base = Path(tempfile.mkdtemp(prefix="hub"))
    base.chmod(0o755)
    exchange = base / "exchange"
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o1777)  # nbgrader's exchange: everyone writes, nobody removes another's files
    (base / "etc").mkdir()
    (base / "etc" / "nbgrader_config.py").write_text(
        "import os\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        f"if os.environ.get('JUPYTERHUB_USER', {TEACHER!r}) != {TEACHER!r}:  # all servers run as one account\n"
        "    c.CourseDirectory.student_id = os.environ['JUPYTERHUB_USER']\n"
    )
    course = base / "home" / TEACHER / "course"
    done = subprocess.run([str(ROOT / "course.sh"), "source", NAME, "--course-dir", str(course)], capture_output=True)
    assert done.returncode == 0, done.stderr[-2000:]  # nbgrader's source/ and release/, with our helpers, a gradebook
    (base / "home" / TEACHER / ".jupyter").mkdir(parents=True)
    (base / "home" / TEACHER / ".jupyter" / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = {release.gradebook_url(course)!r}\n"
    )
    for user in STUDENTS:
        (base / "home" / user).mkdir(parents=True)
    token, port = os.urandom(16).hex(), _free_port()
    (base / "jupyterhub_config.py").write_text(_hub_config(base, port, token))
    with open(base / "hub.log", "w") as log:
        process = subprocess.Popen(
            [str(HUB), "-f", str(base / "jupyterhub_config.py")],
            cwd=base,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"},
        )
    try:
        server = Hub(f"http://127.0.0.1:{port}", token, base)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{server.url}/hub/api/", timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (base / "hub.log").read_text()[-3000:]
            time.sleep(0.5)
        for user in (TEACHER, *STUDENTS):
            server.start_server(user)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the Hub, its proxy and the users' servers (one session)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


def test_a_release_goes_to_two_students_and_their_graded_feedback_comes_back(hub, tmp_path):
    released = hub.call("POST", f"/user/{TEACHER}/formgrader/api/assignment/{NAME}/release").json()
    assert released.get("success"), released
    form = {"assignment_id": NAME, "course_id": COURSE}
    solved = assignment.nbgrader_notebook(ROOT / "notebooks" / "src" / f"{NAME}.py")
    # s9001 through their JupyterLab server (the calls of its Assignments tab); s9002 with nbgrader's command line
    listed = hub.call("GET", "/user/s9001/assignments", params={"course_id": COURSE}).json()
    assert any(a["assignment_id"] == NAME and a["status"] == "released" for a in listed["value"]), listed
    hub.call("POST", "/user/s9001/assignments/fetch", data=form)
    listed = hub.nbgrader("s9002", "list", "--course", COURSE)
    assert NAME in listed, listed
    hub.nbgrader("s9002", "fetch_assignment", NAME, "--course", COURSE)
    for student in STUDENTS:
        fetched = hub.home(student) / NAME
        assert (fetched / f"{NAME}.ipynb").exists() and (fetched / "helpers" / "training.py").exists()
        blank = nbformat.read(fetched / f"{NAME}.ipynb", as_version=4)
        assert "raise NotImplementedError" in json.dumps(blank), "the student gets the release, not our solution"
    body = {"type": "notebook", "format": "json", "content": solved}
    hub.call("PUT", f"/user/s9001/api/contents/{NAME}/{NAME}.ipynb", json=body)  # s9001 types our code in
    hub.call("POST", "/user/s9001/assignments/submit", data=form)
    hub.nbgrader("s9002", "submit", NAME, "--course", COURSE)  # s9002 hands in the blank release

    collected = hub.call("POST", f"/user/{TEACHER}/formgrader/api/assignment/{NAME}/collect").json()
    assert collected.get("success"), collected
    course = hub.home(TEACHER) / "course"
    assert sorted(p.name for p in (course / "submitted").iterdir()) == sorted(STUDENTS)

    done = subprocess.run(
        [str(ROOT / "course.sh"), "grade", str(course / "submitted"), "--out", str(tmp_path), "--feedback-to", course],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with open(tmp_path / "grades.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert set(scores) == set(STUDENTS) and scores["s9002"] == 0 < scores["s9001"], scores

    released = hub.call("POST", f"/user/{TEACHER}/formgrader/api/assignment/{NAME}/release_feedback").json()
    assert released.get("success"), released
    for student in STUDENTS:
        hub.call("POST", f"/user/{student}/assignments/fetch_feedback", data=form)
        pages = list((hub.home(student) / NAME / "feedback").glob(f"*/{NAME}.html"))
        assert len(pages) == 1, f"{student} fetched their feedback"
        assert "Grading notes" in pages[0].read_text(), "grading's notes are on top of nbgrader's feedback"
    assert "re-run the notebook after training" in (
        next((hub.home("s9001") / NAME / "feedback").glob(f"*/{NAME}.html")).read_text()
    ), "s9001 handed in code without its trained runs: the feedback says what to do"
