"""Where a student's code runs during grading: a bubblewrap sandbox with one writable folder and no network.

nbgrader executes whatever a student wrote, with the grader's rights. Inside
:func:`wrap`, that code sees the machine read-only, its own submission folder
writable, a fresh ``/tmp``, no network (its own empty network namespace), and
neither the project (our solutions and cache) nor the other students' folders.
The kernel talks to nbgrader over Unix sockets in a bound runtime folder
(``KernelManager.transport = "ipc"``), since TCP cannot cross the namespaces.

It does not limit CPU time or memory (nbgrader's cell timeout does the first),
and a kernel exploit of the Linux kernel is out of its reach. Without ``bwrap``
(Debian's ``bubblewrap``), grading runs unsandboxed and says so in the report.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def available() -> bool:
    """Whether bubblewrap is installed and may make namespaces here."""
    if not shutil.which("bwrap"):
        return False
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-net", "true"], capture_output=True)
    return probe.returncode == 0


def wrap(argv: list[str], *, writable: list[Path], readable: list[Path], hidden: list[Path]) -> list[str]:
    """``argv`` run in the sandbox.

    Args:
        argv: The command.
        writable: Folders bound read-write (the student's folder, the kernel's runtime folder, a home).
        readable: Folders shown read-only again inside a hidden one (the ``.venv``, the data).
        hidden: Folders replaced by an empty one (the project, the grading folder).
    """
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    args += ["--unshare-net", "--unshare-ipc", "--die-with-parent", "--new-session"]
    for folder in hidden:
        args += ["--tmpfs", str(folder)]
    for folder in readable:
        args += ["--ro-bind", str(folder.resolve()), str(folder)]
    for folder in writable:
        args += ["--bind", str(folder.resolve()), str(folder)]
    return [*args, "--", *argv]


def kernel_spec(target: Path, argv_prefix: list[str]) -> Path:
    """Write a kernelspec named ``imgcls`` (the notebooks' kernel) that starts inside ``argv_prefix``.

    Returns:
        The folder to put first on ``JUPYTER_PATH``.
    """
    folder = target / "kernels" / "imgcls"
    folder.mkdir(parents=True, exist_ok=True)
    python = str(Path(sys.prefix) / "bin" / "python")
    spec = {
        "argv": [*argv_prefix, python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (imgcls, grading sandbox)",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return target
