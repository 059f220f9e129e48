"""What grading reads from a handed-in cache, in one sandboxed process: verify's rows and the similarity digests.

Run by :class:`course.grade.Grader` in the sandbox, so that a student's files
are parsed there and not in the grader, and with one start of Python and one
import of Keras per submission. Prints one JSON object:
``{"rows": [verify's rows], "digests": [[kind, entry, digest, training record], ...]}``.
A part that fails is one FAIL row; the other part is still printed.

Usage::

    python -m course.examine CACHE_DIR
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path


def examine(cache: Path) -> dict:
    """verify's rows (no index of needed entries: a student's cache) and the digests of ``cache``."""
    from course import similarity
    from helpers import verify
    from helpers.training import keras_limits_problem

    found: dict = {"rows": [], "digests": []}
    try:
        if keras_limits_problem():  # evaluation would see a few batches only
            raise RuntimeError(keras_limits_problem())
        found["rows"] = [dataclasses.asdict(row) for row in verify.verify_all(cache, None, indexed=False)]
    except Exception as err:  # noqa: BLE001 - one FAIL row for this student; grading goes on
        found["rows"].append({"name": "(cache)", "status": "FAIL", "detail": f"verify stopped: {err}"[:300]})
    try:
        found["digests"] = similarity.digests(cache)
    except Exception:  # noqa: BLE001 - no digests: this submission is just not compared by its files
        pass
    return found


if __name__ == "__main__":
    os.environ.setdefault("IMGCLS_OFFLINE", "1")
    print(json.dumps(examine(Path(sys.argv[1]))))
