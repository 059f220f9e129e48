"""Throughput of the helpers' fit path vs plain ``model.fit`` (same model, batch, epochs).

The helpers' path differs from plain Keras only in running
``helpers.training.DEFAULT_STEPS_PER_EXECUTION`` batches per call into the
compiled train function. Each configuration is timed several times (after one
warm-up fit that traces the functions) and the median is reported.

Usage::

    python benchmarks/fit_path.py [--repeats 5] [--out benchmarks/fit_path.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import helpers  # noqa: E402,F401  (quiet TensorFlow start-up)
from helpers import training  # noqa: E402


def dense_model() -> keras.Model:
    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def softmax_regression() -> keras.Model:
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def small_cnn() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def time_fit(build, x, y, *, batch_size: int, epochs: int, steps_per_execution: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        keras.utils.set_random_seed(0)
        model = build()
        model.steps_per_execution = steps_per_execution
        model.fit(x[: batch_size * 4], y[: batch_size * 4], batch_size=batch_size, epochs=1, verbose=0)  # trace
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=24_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.samples
    flat = rng.random((n, 784), dtype=np.float32)
    images = flat.reshape(n, 28, 28, 1)
    labels = keras.utils.to_categorical(rng.integers(0, 10, n), 10)
    cases = [
        ("softmax regression", softmax_regression, flat, 32, 2),
        ("dense 784-128-10", dense_model, flat, 32, 2),
        ("dense 784-128-10", dense_model, flat, 128, 2),
        ("small CNN", small_cnn, images, 128, 1),
    ]
    spe = training.DEFAULT_STEPS_PER_EXECUTION
    rows = [
        "| model | batch | epochs | plain fit [s] | helpers' fit path [s] | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for label, build, x, batch, epochs in cases:
        plain = time_fit(build, x, labels, batch_size=batch, epochs=epochs, steps_per_execution=1, repeats=args.repeats)
        fast = time_fit(
            build, x, labels, batch_size=batch, epochs=epochs, steps_per_execution=spe, repeats=args.repeats
        )
        rows.append(f"| {label} | {batch} | {epochs} | {plain:.2f} | {fast:.2f} | {plain / fast:.2f}x |")
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    header = (
        f"Fit-path throughput on {n} samples, median of {args.repeats} runs, "
        f"steps_per_execution={spe} vs 1 (Keras {keras.__version__}).\n\n"
    )
    if args.out:
        args.out.write_text(header + table + "\n")
    print(header + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
