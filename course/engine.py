"""nbgrader's command line: many commands in one process, or one command in a process of its own.

``nbgrader generate_assignment``, ``zip_collect``, ``generate_feedback`` and
``export`` for a whole course run one after the other in one child process
(:func:`batch`), the way nbgrader's own test-suite runs its command line: the
same applications and options, without starting Python and importing nbgrader
again for each (about 2 s each). The child keeps nbgrader's logging and global
state out of the caller. ``autograde`` runs student code, so it is a process of
its own with the environment and the sandboxed kernel that grading gives it
(:func:`process`).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

_RAISED = re.compile(r"^[\w.]*(Error|Exception|Exit): ")  # the exception a traceback in nbgrader's log ends with
_LOCK = threading.Lock()  # one in-process nbgrader at a time: it changes the working folder


class NbgraderFailed(RuntimeError):
    """An nbgrader command failed; the message is its last lines."""


def _tail(text: str, lines: int = 3) -> str:
    kept = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))[-lines:]
    return " | ".join(kept)[-400:]


def run(*args: str, course_dir: Path) -> str:
    """``nbgrader ARGS`` in this process, in the course folder (the child of :func:`batch` calls this).

    Returns:
        nbgrader's log.

    Raises:
        NbgraderFailed: nbgrader exited with an error; the message is its last log lines.
    """
    from jupyter_core.application import NoStart
    from nbgrader.apps import NbGraderApp

    log = io.StringIO()
    with _LOCK, contextlib.chdir(course_dir), contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        path, env_path = list(sys.path), os.environ.get("PATH", "")
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env_path}"  # nbgrader runs alembic
        app = NbGraderApp.instance()
        code = 0
        try:
            app.initialize([*args, f"--CourseDirectory.root={course_dir}"])
            app.init_logging(logging.StreamHandler, [log], color=False, subapps=True)
            app.start()
        except NoStart:  # how a finished subcommand ends
            pass
        except SystemExit as stop:
            code = stop.code or 0
        except Exception as err:  # noqa: BLE001 - any failure is one line for the caller
            code = 1
            log.write(f"{type(err).__name__}: {err}\n")
        finally:
            app.reset()
            sys.path[:] = path  # nbgrader puts the working folder first
            os.environ["PATH"] = env_path
    if code:
        raised = [line.strip() for line in log.getvalue().splitlines() if _RAISED.match(line.strip())]
        why = raised[-1][:300] if raised else _tail(log.getvalue())
        raise NbgraderFailed(f"nbgrader {args[0]} failed: {why}")
    return log.getvalue()


def process(
    args: list[str], course_dir: Path, env: dict[str, str], timeout: float | None = None
) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` as a process of its own, with ``env`` (its PATH gets this Python's folder first)."""
    env = {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course_dir}"],
        cwd=course_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def last_line(done: subprocess.CompletedProcess) -> str:
    """The last line a finished process printed (its exit status if none), for a one-line message."""
    return _tail(done.stdout + done.stderr, lines=1)[-300:] or f"exit status {done.returncode}"


def batch(commands: list[list[str]], course_dir: Path) -> list[str]:
    """Run nbgrader commands one after the other in one child process, in the course folder.

    Returns:
        For each command, ``""`` when it succeeded, else one line saying why it failed.
    """
    done = subprocess.run(
        [sys.executable, "-m", "course.engine", str(course_dir), json.dumps(commands)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        capture_output=True,
        text=True,
    )
    try:
        errors = json.loads(done.stdout.strip().splitlines()[-1])
        if len(errors) == len(commands):
            return errors
    except (ValueError, IndexError):
        pass
    return [f"nbgrader stopped: {last_line(done)}"] * len(commands)


def _main(course_dir: str, commands: str) -> None:
    errors = []
    for args in json.loads(commands):
        try:
            run(*args, course_dir=Path(course_dir))
            errors.append("")
        except NbgraderFailed as err:
            errors.append(str(err))
    print(json.dumps(errors))


if __name__ == "__main__":
    _main(*sys.argv[1:3])
