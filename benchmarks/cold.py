"""Cold training: each notebook's wall time from an empty cache, as a student would first run it.

Executes the named notebooks in order, in fresh kernels (``scripts/run_notebooks``),
with ``IMGCLS_CACHE_MODE=train`` and ``IMGCLS_CACHE_DIR`` set to a new
temporary folder for each, so every run a notebook shows trains, on the backend the
notebook names and with the suite's default sweep executor. The committed cache
and notebooks are not touched. Each notebook's wall time (training, evaluation
and figures) is timed, and every run it trained is compared with the committed
entry of the same name: how many have exactly the committed test metrics.

Results accumulate in ``benchmarks/cold.json`` (one record per notebook, the
latest measurement wins), so the suite can be measured in several sittings;
``benchmarks/report.py`` turns them into BENCHMARKS section 4.

A notebook that reads another notebook's runs (08 compares with 05's dense
networks, 10 starts from 07's MNIST CNN) is measured alone: the runs of
``helpers.shared_runs`` that the committed cache says another notebook trained
are copied into the empty cache first, as the earlier notebooks would have left
them, and are not timed. ``--given`` adds other committed entries.

A notebook that fails keeps its cache folder, and the script prints what it
measured up to the failure (wall time, runs trained, their training time), so
hours of training are not lost with the temporary folder.

Usage::

    python benchmarks/cold.py NAME [NAME ...]   # e.g. 02_dense 04_width 06_broken
    python benchmarks/cold.py 09_fashion --given NAME   # any other committed entry a notebook reads
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from run_notebooks import execute_to, notebook_paths  # noqa: E402

from helpers import cache, shared_runs  # noqa: E402

RESULTS = ROOT / "benchmarks" / "cold.json"


def same_test_metrics(trained: dict, committed: dict) -> tuple[int, int]:
    """How many trained entries have exactly the committed entry's test metrics, out of those committed."""
    shared = [name for name in trained if name in committed]
    same = sum(trained[name]["metrics"].get("test") == committed[name]["metrics"].get("test") for name in shared)
    return same, len(shared)


def runs_from_other_notebooks(notebook: str, committed: dict[str, dict]) -> list[str]:
    """The shared runs (``helpers.shared_runs``) that the committed cache says a notebook other than ``notebook``
    trained: what ``notebook`` may read, and an earlier notebook would have left in the cache."""
    names: list[str] = []
    for key, value in vars(shared_runs).items():
        if key.isupper():
            names.extend(value.values() if isinstance(value, dict) else [value])
    return [name for name in names if name in committed and committed[name].get("notebook") != notebook]


def copy_entries(names: list[str], folder: Path) -> None:
    """Copy the committed entries ``names`` (manifest, history, model) into the cache ``folder``."""
    for name in names:
        for kind in ("manifest", "history", "model"):
            source, target = cache.paths(name, ROOT)[kind], cache.paths(name, folder)[kind]
            if not source.is_file():
                raise SystemExit(f"{name} has no committed {kind}: give only entries of the committed cache")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def measure(path: Path, folder: Path, committed: dict[str, dict]) -> dict:
    """Run one notebook into the cold cache ``folder`` and describe what it trained, against the ``committed`` entries.

    Raises:
        SystemExit: The notebook failed; the message says what was measured up to the failure.
    """
    before = set(cache.list_entries(folder))
    start = time.perf_counter()
    try:
        seconds = execute_to(path, folder / path.name, timeout=None)
    except Exception as error:  # noqa: BLE001 - papermill's errors, or a dead kernel
        partial = _trained(folder, before, committed, time.perf_counter() - start)
        raise SystemExit(
            f"{path.stem} failed ({type(error).__name__}: {str(error).strip().splitlines()[-1]}); "
            f"measured up to then: {partial}; its cache is kept in {folder}"
        ) from None
    return _trained(folder, before, committed, seconds)


def _trained(folder: Path, before: set[str], committed: dict[str, dict], seconds: float) -> dict:
    """Describe the runs trained into ``folder`` (those not in ``before``) in ``seconds`` of wall time."""
    trained = {name: entry for name, entry in cache.list_entries(folder).items() if name not in before}
    same, shared = same_test_metrics(trained, committed)
    backends = sorted({entry.get("versions", {}).get("backend", "not recorded") for entry in trained.values()})
    return {
        "minutes": round(seconds / 60, 2),
        "runs_trained": len(trained),
        "training_minutes": round(sum(e.get("training_seconds", 0.0) for e in trained.values()) / 60, 2),
        "backends": backends,
        "same_test_metrics": same,
        "compared": shared,
        "measured": datetime.date.today().isoformat(),
        "cpus": os.cpu_count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="notebooks whose name contains one of these, run in suite order")
    parser.add_argument("--given", nargs="*", default=[], help="committed entries the notebooks load, not train")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the JSON file results accumulate in")
    args = parser.parse_args()
    paths = notebook_paths(args.names)
    if not paths:
        raise SystemExit(f"no notebook matches {args.names}: see notebooks/")
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    committed = cache.list_entries(ROOT)
    for path in paths:
        folder = Path(tempfile.mkdtemp(prefix="imgcls-cold-"))  # one empty cache per notebook; kept if it fails
        os.environ.update(IMGCLS_CACHE_DIR=str(folder), IMGCLS_CACHE_MODE="train")
        given = sorted({*args.given, *runs_from_other_notebooks(path.stem, committed)})
        copy_entries(given, folder)
        results[path.stem] = record = measure(path, folder, committed) | {"given": given}
        shutil.rmtree(folder)
        print(f"{path.stem}: {record}", flush=True)
        args.results.write_text(json.dumps(dict(sorted(results.items())), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
