"""A sweep in one process against 2 worker processes of 1 thread each (local, or a Dask cluster).

Runs the same small sweep of notebook 04's one-hidden-layer MLPs on MNIST
(widths x seeds, a few epochs each) through ``hp.run_sweep``, each time into a
fresh temporary cache so that everything trains: serially in this process (the
backend's default threads; ``IMGCLS_SWEEP_PROCESSES=1``); on two local worker
processes of one thread each (``run_sweep``'s default on a 2-core machine with
TensorFlow; starting them is part of the time); and, unless ``--no-dask``, on a
``distributed.LocalCluster`` of two such processes, given the client (the
cluster's start is timed apart). Runs on the Keras backend ``KERAS_BACKEND``
names. Prints a Markdown table with the speed-ups and the largest difference of
any history value from the one-process sweep.

Usage::

    python benchmarks/executors.py [--widths 100 300] [--seeds 0 1] [--epochs 8] [--no-dask] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import helpers as hp  # noqa: E402


def make_mlp(width: int) -> keras.Model:
    """Notebook 04's network: one hidden ReLU layer of ``width`` units, SGD."""
    model = hp.build_mlp((28, 28, 1), [width])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def timed_sweep(args: argparse.Namespace, data: dict, executor=None) -> tuple[float, dict]:
    """Seconds for the sweep to train from an empty cache, and its histories."""
    with tempfile.TemporaryDirectory(prefix="imgcls-sweep-") as folder:
        start = time.perf_counter()
        _, histories = hp.run_sweep(
            "bench",
            make_mlp,
            args.widths,
            *data["train"],
            param="width",
            seeds=args.seeds,
            validation_data=data["val"],
            epochs=args.epochs,
            batch_size=32,
            cache_dir=folder,
            mode="train",
            executor=executor,
        )
        return time.perf_counter() - start, histories


def largest_difference(histories: dict, reference: dict) -> float:
    """The largest |difference| of any epoch's value between two sweeps' histories."""
    return max(
        float(np.max(np.abs(np.subtract(history[key], reference[job][key]))))
        for job, history in histories.items()
        for key in history
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--no-dask", action="store_true", help="time one process and local processes only")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    backend = keras.config.backend()
    data = hp.image_splits("mnist")
    os.environ["IMGCLS_SWEEP_PROCESSES"] = "1"
    serial, serial_histories = timed_sweep(args, data)
    os.environ["IMGCLS_SWEEP_PROCESSES"] = "2"
    local, local_histories = timed_sweep(args, data)
    runs = len(args.widths) * len(args.seeds)
    lines = [
        f"Sweep on Keras' {backend} backend: {runs} runs of a 784-width-10 MLP (widths {args.widths}, seeds "
        f"{args.seeds}), {args.epochs} epochs of {len(data['train'][0]):,} MNIST images at batch 32, "
        f"on {os.cpu_count()} cores.",
        "",
        "| how | sweep [s] | speed-up |",
        "|---|---|---|",
        f"| one process, the backend's default threads | {serial:.1f} | 1.00x |",
        f"| 2 local processes x 1 thread, started by run_sweep | {local:.1f} | {serial / local:.2f}x |",
    ]
    differences = f"{largest_difference(local_histories, serial_histories):.3g} (local processes)"
    if not args.no_dask:
        import distributed

        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = "1"  # the workers' TensorFlow
        start = time.perf_counter()
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
            with distributed.Client(c) as client:
                client.run(lambda: __import__("helpers"))  # each worker imports TensorFlow and the helpers once
                cluster_start = time.perf_counter() - start
                parallel, dask_histories = timed_sweep(args, data, client)
        lines.append(f"| local Dask cluster, 2 processes x 1 thread | {parallel:.1f} | {serial / parallel:.2f}x |")
        lines += ["", f"Starting the Dask cluster (two processes importing Keras) took {cluster_start:.1f} s more."]
        differences += f", {largest_difference(dask_histories, serial_histories):.3g} (Dask)"
    lines += ["", f"Largest difference of any history value from the one-process sweep: {differences}."]
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
