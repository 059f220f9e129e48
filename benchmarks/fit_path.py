"""Throughput of the helpers' fit path vs plain ``model.fit`` (same model, batch, epochs).

Both sides train the same model on the same data with the same batch size and
epochs. The helpers' side is the whole ``fit_cached`` call into a fresh cache
(so it includes fingerprinting the data and writing the model, history and
manifest); its speed comes from running several batches per call into the
compiled train function and evaluating the validation set in large batches.
Each configuration is timed several times after a warm-up; medians are reported.

Usage::

    python benchmarks/fit_path.py [--repeats 5] [--out benchmarks/fit_path.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import helpers  # noqa: E402,F401  (quiet TensorFlow start-up)
from helpers import training  # noqa: E402
from helpers.training import fit_cached  # noqa: E402


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


def time_plain(build, x, y, val, *, batch_size: int, epochs: int) -> float:
    """Plain Keras: build, then ``model.fit`` with the same data, batch size and epochs."""
    keras.utils.set_random_seed(0)
    model = build()
    start = time.perf_counter()
    model.fit(x, y, validation_data=val, batch_size=batch_size, epochs=epochs, verbose=0)
    return time.perf_counter() - start


def time_helpers(build, x, y, val, *, batch_size: int, epochs: int) -> tuple[float, float]:
    """The helpers' path: ``fit_cached`` into a fresh cache.

    Returns:
        ``(seconds inside model.fit, seconds for the whole fit_cached call)``.
    """
    inner = []
    original = training._original_fit

    def timed_fit(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            inner.append(time.perf_counter() - start)

    training._original_fit = timed_fit
    try:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            fit_cached(
                "bench",
                build,
                x,
                y,
                validation_data=val,
                epochs=epochs,
                batch_size=batch_size,
                mode="retrain",
                cache_dir=folder,
                verbose=0,
            )
            total = time.perf_counter() - start
    finally:
        training._original_fit = original
    return sum(inner), total


def median_time(fn, *args, repeats: int, **kwargs):
    fn(*args, **{**kwargs, "epochs": 1})  # warm-up: traces the functions once
    results = [fn(*args, **kwargs) for _ in range(repeats)]
    if isinstance(results[0], tuple):
        return tuple(statistics.median(r[i] for r in results) for i in range(len(results[0])))
    return statistics.median(results)


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
        ("softmax regression", softmax_regression, flat, 32, 3),
        ("dense 784-128-10", dense_model, flat, 32, 3),
        ("dense 784-128-10", dense_model, flat, 128, 3),
        ("small CNN", small_cnn, images, 128, 1),
    ]
    spe = training.DEFAULT_STEPS_PER_EXECUTION
    split = int(0.8 * n)
    rows = [
        "| model | batch | epochs | plain `model.fit` [s] | helpers' fit [s] | speed-up | "
        "`fit_cached` end to end [s] |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, build, x, batch, epochs in cases:
        train, val = (x[:split], labels[:split]), (x[split:], labels[split:])
        common = {"batch_size": batch, "epochs": epochs, "repeats": args.repeats}
        plain = median_time(time_plain, build, *train, val, **common)
        fast, total = median_time(time_helpers, build, *train, val, **common)
        rows.append(f"| {label} | {batch} | {epochs} | {plain:.2f} | {fast:.2f} | {plain / fast:.2f}x | {total:.2f} |")
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    header = (
        f"Training on {split} samples with {n - split} validation samples, median of {args.repeats} runs after a "
        f"warm-up. Plain: `model.fit`. Helpers' fit: the `model.fit` call inside `fit_cached` "
        f"(steps_per_execution={spe}, validation batch {training.VALIDATION_BATCH_SIZE}, resume-state callback). "
        f"End to end adds building, fingerprinting and saving the model, history and manifest. "
        f"Keras {keras.__version__}.\n\n"
    )
    if args.out:
        args.out.write_text(header + table + "\n")
    print(header + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
