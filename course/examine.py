"""What grading reads from handed-in caches, in one sandboxed process per student: verify's rows and digests.

Run by :class:`course.grade.Grader` in the sandbox, so that a student's files
are parsed there and not in the grader. One process examines all of one
student's submissions: Python starts, Keras is imported and the standard
splits are prepared once per student, not once per notebook (measured: 8 s a
notebook). Prints one JSON line per cache, as soon as it is examined:
``{"cache": CACHE_DIR, "rows": [verify's rows], "digests": [[kind, entry, digest, training record], ...],
"seconds": S}``. A part that fails is one FAIL row; the other part is still
printed. A cache whose line never comes (the process died on it) is examined
again alone by the grader.

Usage::

    python -m course.examine CACHE_DIR [CACHE_DIR ...]
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path


def examine(cache: Path, data=None) -> dict:
    """verify's rows (no index of needed entries: a student's cache) and the digests of ``cache``.

    Args:
        cache: A handed-in cache's root.
        data: A :class:`helpers.verify.DataIndex` shared by the caches examined in one process.
    """
    from course import similarity
    from helpers import verify
    from helpers.training import keras_limits_problem

    found: dict = {"cache": str(cache), "rows": [], "digests": []}
    start = time.monotonic()
    try:
        if keras_limits_problem():  # evaluation would see a few batches only
            raise RuntimeError(keras_limits_problem())
        rows = verify.verify_all(cache, None, indexed=False, data=data)
        found["rows"] = [dataclasses.asdict(row) for row in rows]
    except Exception as err:  # noqa: BLE001 - one FAIL row for this student; grading goes on
        found["rows"].append({"name": "(cache)", "status": "FAIL", "detail": f"verify stopped: {err}"[:300]})
    try:
        found["digests"] = similarity.digests(cache)
    except Exception:  # noqa: BLE001 - no digests: this submission is just not compared by its files
        pass
    found["seconds"] = time.monotonic() - start
    return found


def main(caches: list[str]) -> None:
    """Examine each cache in turn, one JSON line each, sharing the standard splits between them."""
    from helpers import verify

    data = verify.DataIndex()
    for cache in caches:
        print(json.dumps(examine(Path(cache), data)), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("IMGCLS_OFFLINE", "1")
    main(sys.argv[1:])
