"""nbgrader ``zip_collect``'s collector for the zips of ``./course.sh submit``.

nbgrader unpacks each zip into ``downloaded/ASSIGNMENT/extracted/ZIPNAME/`` and
asks this plugin, file by file, whose file it is and where it goes in
``submitted/STUDENT/ASSIGNMENT/``: the assignment's notebook goes to the top (as
nbgrader's source has it), the cache entries and the PDF keep their folders,
and anything else (another notebook, a student's own ``helpers/``) stays out.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from nbgrader.plugins import FileNameCollectorPlugin

from course import intake

_EXTRACTED = re.compile(r".*/extracted/(?P<zip>[^/]+)/(?P<member>.+)$")
_KEPT = ("saved_models/", "histories/", "reports/")


class SubmissionCollector(FileNameCollectorPlugin):
    """Maps a file of a submission zip to (student id, file id)."""

    def collect(self, submitted_file: str) -> dict | None:
        """nbgrader's hook: the student id and file id of one unpacked file, or None to leave it out."""
        found = _EXTRACTED.match(submitted_file)
        if not found:
            return None
        try:
            student = intake.student_id(found.group("zip") + ".zip")
        except intake.Refused:
            return None
        member = PurePosixPath(found.group("member"))
        assignment = self.parent.coursedir.assignment_id
        if str(member) == f"notebooks/{assignment}.ipynb":
            return {"student_id": student, "file_id": f"{assignment}.ipynb"}
        if str(member).startswith(_KEPT):
            return {"student_id": student, "file_id": str(member)}
        return None
