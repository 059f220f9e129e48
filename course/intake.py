"""Screening a submission zip before anything unpacks it: one line says why a zip is refused.

nbgrader's ``zip_collect`` unpacks with setuptools, which already skips ``../``
and absolute member names; it does not look at sizes, links or devices, and it
unpacks zips nested in zips. This reads only the zip's directory (never a
member's bytes), so a refused zip is never unpacked at all.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

#: A submission's limits. Seed 002 caps the models at 100 MB; the rest of a submission is a few MB.
MAX_ZIP_BYTES = 150 * 2**20
MAX_UNPACKED_BYTES = 300 * 2**20
MAX_MEMBERS = 2000
#: Deflate packs a saved model about 1.1:1 and a notebook about 5:1; a zip bomb packs zeros 1000:1.
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 2**20  # members smaller than this are never a bomb, whatever their ratio
#: The student id is the zip's name up to its first underscore: ``s1234567_anything.zip``.
STUDENT_ID = re.compile(r"^(?P<student_id>[A-Za-z0-9][A-Za-z0-9.-]{0,63})_")
_NOTEBOOK = re.compile(r"^notebooks/(?P<name>\d\d_[a-z0-9_]+)\.ipynb$")


class Refused(ValueError):
    """A submission that is not graded; the message is the one line its student reads."""


def student_id(zip_name: str) -> str:
    """The student id a zip's file name carries.

    Raises:
        Refused: The name does not start with ``ID_``.
    """
    found = STUDENT_ID.match(zip_name)
    if not found:
        raise Refused("the zip's name does not start with a student id and an underscore (s1234567_...zip)")
    return found.group("student_id")


def _member_problem(info: zipfile.ZipInfo) -> str:
    name = info.filename
    path = PurePosixPath(name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        return f"member {name!r} has an absolute path"
    if ".." in path.parts:
        return f"member {name!r} climbs out of the submission (../)"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"member {name!r} is a symbolic link"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"member {name!r} is a device or other special file"
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return f"member {name!r} unpacks {info.file_size // max(info.compress_size, 1)} times its size (a zip bomb)"
    if PurePosixPath(name).suffix in (".zip", ".gz", ".tar", ".tgz"):
        return f"member {name!r} is an archive inside the archive"
    return ""


def screen(path: Path) -> list[str]:
    """Check a submission zip without unpacking it.

    Returns:
        The notebooks it hands in (``03_optimizers``, ...).

    Raises:
        Refused: The zip is too large, not a zip, or holds a member that is not a plain file in its own folder.
    """
    if path.stat().st_size > MAX_ZIP_BYTES:
        raise Refused(f"the zip is {path.stat().st_size / 2**20:.0f} MB, over the {MAX_ZIP_BYTES // 2**20} MB cap")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Refused("the file is not a readable zip: hand in the zip that ./course.sh submit writes") from None
    if len(members) > MAX_MEMBERS:
        raise Refused(f"the zip holds {len(members)} files, over the cap of {MAX_MEMBERS}")
    for info in members:
        problem = _member_problem(info)
        if problem:
            raise Refused(problem)
    unpacked = sum(info.file_size for info in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise Refused(f"the zip unpacks to {unpacked / 2**20:.0f} MB, over the {MAX_UNPACKED_BYTES // 2**20} MB cap")
    notebooks = sorted(m.group("name") for info in members if (m := _NOTEBOOK.match(info.filename)))
    if not notebooks:
        raise Refused("the zip holds no notebooks/NN_name.ipynb: hand in the zip that ./course.sh submit writes")
    return notebooks
