"""Wall time and peak memory of re-running each notebook from the cache.

Every notebook is executed in a fresh kernel with ``IMGCLS_CACHE_MODE=require``
(so nothing can train); the kernel's resident memory is sampled every 50 ms.
Nothing is written back to the notebooks. The table ends with the re-run goals
(:data:`GOALS`, :data:`MEMORY_GOAL_MIB`), each checked against this run.

Usage::

    python benchmarks/notebooks.py [NAME ...] [--out benchmarks/notebooks.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from run_notebooks import project_client  # noqa: E402

#: Re-run goals: notebooks (by number) that together re-run from the cache within so many seconds.
GOALS = {("02", "03", "04"): 90, ("06", "07", "08"): 90, ("10", "11"): 60}
#: Every notebook's peak kernel memory during its re-run stays under this.
MEMORY_GOAL_MIB = 4096


def peak_rss_while(client: NotebookClient, stop: threading.Event, result: dict) -> None:
    peak = 0
    while not stop.is_set():
        try:
            pid = client.km.provisioner.process.pid if client.km and client.km.provisioner else None
            if pid:
                proc = psutil.Process(pid)
                peak = max(peak, proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(True)))
        except (psutil.Error, AttributeError):
            pass
        time.sleep(0.05)
    result["peak"] = peak


def run(path: Path) -> tuple[float, int]:
    nb = nbformat.read(path, as_version=4)
    stop, result = threading.Event(), {}
    start = time.perf_counter()
    with project_client(nb, path.parent, notebook=path.stem) as client:
        with client.setup_kernel():
            watcher = threading.Thread(target=peak_rss_while, args=(client, stop, result))
            watcher.start()
            try:
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
            finally:
                stop.set()
                watcher.join()
    return time.perf_counter() - start, result.get("peak", 0)


def goal_rows(seconds: dict[str, float], peaks_mib: dict[str, float]) -> list[str]:
    """The goals table for the notebooks measured: their time (or peak memory) and whether each goal is met.

    Args:
        seconds: re-run wall time by notebook name (``"02_dense_baselines"``).
        peaks_mib: peak kernel memory by notebook name, in MiB.
    """
    rows = ["| goal | measured | met |", "|---|---|---|"]
    for numbers, limit in GOALS.items():
        names = [name for name in seconds if name[:2] in numbers]
        goal = f"notebooks {', '.join(numbers)} re-run together in under {limit} s"
        if len(names) < len(numbers):
            rows.append(f"| {goal} | not all measured | - |")
            continue
        total = sum(seconds[name] for name in names)
        rows.append(f"| {goal} | {total:.1f} s | {'yes' if total < limit else 'no'} |")
    if peaks_mib:
        name, peak = max(peaks_mib.items(), key=lambda item: item[1])
        met = "yes" if peak < MEMORY_GOAL_MIB else "no"
        rows.append(f"| every notebook's peak memory under {MEMORY_GOAL_MIB} MiB | {peak:.0f} MiB ({name}) | {met} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.environ["IMGCLS_CACHE_MODE"] = "require"
    os.environ.setdefault("IMGCLS_OFFLINE", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "IMGCLS_DATA_DIR" not in os.environ and (ROOT.parent / "shared" / "datasets").is_dir():
        os.environ["IMGCLS_DATA_DIR"] = str(ROOT.parent / "shared" / "datasets")
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.names:
        paths = [p for p in paths if any(n in p.stem for n in args.names)]
    rows = ["| notebook | re-run from cache [s] | peak kernel memory [MiB] |", "|---|---|---|"]
    seconds, peaks = {}, {}
    for path in paths:
        seconds[path.stem], peak = run(path)
        peaks[path.stem] = peak / 2**20
        rows.append(f"| {path.stem} | {seconds[path.stem]:.1f} | {peaks[path.stem]:.0f} |")
        print(rows[-1], flush=True)
    rows.append(f"| **total** | **{sum(seconds.values()):.1f}** | |")
    table = "\n".join([*rows, "", *goal_rows(seconds, peaks)])
    header = f"Re-run from the cache (require mode), {psutil.cpu_count()} CPUs, fresh kernel per notebook.\n\n"
    if args.out:
        args.out.write_text(header + table + "\n")
    print(header + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
