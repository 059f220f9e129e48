"""One training epoch on four Keras paths, side by side: TensorFlow plain, with steps_per_execution, with XLA, and JAX.

Issue 22 asks which path trains each model family fastest on this machine. The
same five workloads run on every path, each in a fresh process (Keras fixes its
backend at import): one epoch of 19 200 Fashion-MNIST images, timed after a
warm-up epoch, fastest of ``--repeats``. Each path's throughput is also given in
GFLOP/s (six times the multiply-adds per example, forward and backward, times
the examples) and as a share of this machine's float32 matmul peak, measured
in the same run.

Usage::

    python benchmarks/backends.py [--repeats 2] [--out benchmarks/backends.md]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PATHS = {  # label: (backend, steps_per_execution, jit_compile)
    "TF plain `fit`": ("tensorflow", 1, False),
    "TF, spe 32": ("tensorflow", 32, False),
    "TF, spe 32 + XLA": ("tensorflow", 32, True),
    "JAX, spe 32": ("jax", 32, True),
}
WORKLOADS = {  # label: (builder name, batch size)
    "MLP 784-128-10, batch 32": ("mlp_128", 32),
    "MLP 784-128-10, batch 128": ("mlp_128", 128),
    "MLP 784-1000-10, batch 128": ("mlp_1000", 128),
    "2x128 MLP + RandomFlip + RandomTranslation, batch 128": ("mlp_augmented", 128),
    "5-conv CNN (32-32-64-64-128), batch 128": ("cnn", 128),
}
N_TRAIN = 19_200


def build(name: str):
    """One of the benchmark's models, uncompiled."""
    import keras
    from keras import layers

    if name == "cnn":
        model = keras.Sequential([keras.Input((28, 28, 1))])
        for layer in (
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(128, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
        ):
            model.add(layer)
    else:
        model = keras.Sequential([keras.Input((28, 28, 1))])
        if name == "mlp_augmented":
            model.add(layers.RandomFlip("horizontal"))
            model.add(layers.RandomTranslation(0.1, 0.1))
        model.add(layers.Flatten())
        widths = {"mlp_128": [128], "mlp_1000": [1000], "mlp_augmented": [128, 128]}[name]
        for width in widths:
            model.add(layers.Dense(width, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def worker(backend: str, repeats: int, examples: int = N_TRAIN) -> dict:
    """Time every workload on the paths of one backend (this process's) on ``examples`` training images."""
    import keras

    from helpers import data, long_runs

    (x, y), _, _ = data.load_dataset("fashion_mnist", verbose=False)
    x = (x[:examples, ..., None] / 255.0).astype("float32")
    y = keras.utils.to_categorical(y[:examples], 10)
    results = {"peak_gflops": matmul_peak(), "runs": {}}
    for path, (path_backend, spe, jit) in PATHS.items():
        if path_backend != backend:
            continue
        for workload, (name, batch_size) in WORKLOADS.items():
            keras.utils.set_random_seed(0)
            model = build(name)
            model.compile(optimizer="adam", loss="categorical_crossentropy", steps_per_execution=spe, jit_compile=jit)
            model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # warm-up: tracing and compiling
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
                times.append(time.perf_counter() - start)
            flops = 6 * long_runs.multiply_adds(model) * examples
            results["runs"][f"{workload}|{path}"] = {"seconds": min(times), "gflops": flops / min(times) / 1e9}
            print(f"{backend}: {workload} | {path}: {min(times):.2f} s", file=sys.stderr, flush=True)
    return results


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of this backend's float32 matmul of two n x n matrices, fastest of ``repeats``."""
    import keras
    import numpy as np

    a = keras.ops.convert_to_tensor(np.random.default_rng(0).random((n, n), dtype=np.float32))
    keras.ops.convert_to_numpy(keras.ops.matmul(a, a))  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        keras.ops.convert_to_numpy(keras.ops.matmul(a, a))
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def table(results: dict[str, dict]) -> str:
    """Seconds per epoch for each workload and path, with the speed-up over plain TF and the share of the peak."""
    if "tensorflow" not in results:
        return "The TensorFlow path could not be measured.\n"
    peak = results["tensorflow"]["peak_gflops"]
    runs = {key: value for r in results.values() for key, value in r.get("runs", {}).items()}
    head = "| model, batch | " + " | ".join(PATHS) + " |"
    rows = [head, "|---" * (len(PATHS) + 1) + "|"]
    for workload in WORKLOADS:
        base = runs.get(f"{workload}|TF plain `fit`", {}).get("seconds")
        cells = []
        for path in PATHS:
            run = runs.get(f"{workload}|{path}")
            if run is None:
                cells.append("not measured")
                continue
            speed_up = f", {base / run['seconds']:.1f}x" if base else ""
            cells.append(f"{run['seconds']:.2f} s{speed_up}, {run['gflops']:.0f} GFLOP/s ({run['gflops'] / peak:.0%})")
        rows.append(f"| {workload} | " + " | ".join(cells) + " |")
    jax_peak = results.get("jax", {}).get("peak_gflops")
    jax_note = f"; JAX's: {jax_peak:.0f} GFLOP/s" if jax_peak else ""
    return (
        "\n".join(rows) + f"\n\nPercentages: share of TensorFlow's float32 matmul peak, {peak:.0f} GFLOP/s{jax_note}.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--examples", type=int, default=N_TRAIN, help="training images per epoch (a quick check: 512)")
    parser.add_argument("--worker", choices=["tensorflow", "jax"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeats, args.examples)))
        return 0
    results = {}
    for backend in ("tensorflow", "jax"):
        env = {**os.environ, "KERAS_BACKEND": backend}
        command = [sys.executable, __file__, "--worker", backend, "--repeats", str(args.repeats)]
        command += ["--examples", str(args.examples)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            print(f"{backend} path not measured: {done.stderr.strip().splitlines()[-1]}", file=sys.stderr)
            continue
        results[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    text = (
        f"One epoch of {args.examples:,} Fashion-MNIST images after a warm-up epoch, fastest of {args.repeats}; "
        "each cell: seconds, speed-up over plain TensorFlow `fit`, GFLOP/s and its share of the matmul peak.\n\n"
        + table(results)
    )
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
