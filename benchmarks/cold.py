"""Cold training: each notebook's wall time from an empty cache, as a student would first run it.

Executes the named notebooks in order, in fresh kernels (``scripts/run_notebooks``),
with ``IMGCLS_CACHE_MODE=train`` and ``IMGCLS_CACHE_DIR`` set to one new
temporary folder, so every run a notebook shows trains, on the backend the
notebook names and with the suite's default sweep executor. The committed cache
and notebooks are not touched. Each notebook's wall time (training, evaluation
and figures) is timed, and every run it trained is compared with the committed
entry of the same name: how many have exactly the committed test metrics.

Results accumulate in ``benchmarks/cold.json`` (one record per notebook, the
latest measurement wins), so the suite can be measured in several sittings;
``benchmarks/report.py`` turns them into BENCHMARKS section 4.

A notebook that loads another notebook's model (10 starts from 07's MNIST
CNN) is measured alone by giving that entry with ``--given``: it is copied from
the committed cache into the empty one, as the earlier notebook would have left
it, and is not timed.

Usage::

    python benchmarks/cold.py NAME [NAME ...]   # e.g. 02_dense 04_width 06_broken
    python benchmarks/cold.py 10_transfer --given NAME   # NAME: 07's MNIST CNN, hp.MNIST_CNN_AUG
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from run_notebooks import execute_to, notebook_paths  # noqa: E402

from helpers import cache  # noqa: E402

RESULTS = ROOT / "benchmarks" / "cold.json"


def same_test_metrics(trained: dict, committed: dict) -> tuple[int, int]:
    """How many trained entries have exactly the committed entry's test metrics, out of those committed."""
    shared = [name for name in trained if name in committed]
    same = sum(trained[name]["metrics"].get("test") == committed[name]["metrics"].get("test") for name in shared)
    return same, len(shared)


def copy_entries(names: list[str], folder: Path) -> None:
    """Copy the committed entries ``names`` (manifest, history, model) into the cache ``folder``."""
    for name in names:
        for kind in ("manifest", "history", "model"):
            source, target = cache.paths(name, ROOT)[kind], cache.paths(name, folder)[kind]
            if not source.is_file():
                raise SystemExit(f"{name} has no committed {kind}: give only entries of the committed cache")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def measure(path: Path, folder: Path) -> dict:
    """Run one notebook into the cold cache ``folder`` and describe what it trained."""
    before = set(cache.list_entries(folder))
    seconds = execute_to(path, folder / path.name, timeout=None)
    trained = {name: entry for name, entry in cache.list_entries(folder).items() if name not in before}
    same, shared = same_test_metrics(trained, cache.list_entries(ROOT))
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
    with tempfile.TemporaryDirectory(prefix="imgcls-cold-") as folder:
        os.environ.update(IMGCLS_CACHE_DIR=folder, IMGCLS_CACHE_MODE="train")
        copy_entries(args.given, Path(folder))
        for path in paths:
            results[path.stem] = record = measure(path, Path(folder)) | {"given": args.given}
            print(f"{path.stem}: {record}", flush=True)
            args.results.write_text(json.dumps(dict(sorted(results.items())), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
