"""Training throughput of notebook 06's CNN stack in float32 vs mixed bfloat16.

Builds the tuned Fashion-MNIST CNN with ``helpers.build_vgg_cnn`` (3 blocks of two
3x3 convolutions with batch normalisation, 2x2 pooling, dense 256) at the base
widths (32-64-128) and the wide ones (48-96-192), once with float32 layers and
once with ``dtype="mixed_bfloat16"`` (weights and softmax stay float32), and
times epochs of ``fit`` on random images after a warm-up, the two precisions
interleaved and the fastest epoch kept (this machine's speed varies). The speed-up
depends on the CPU: it needs AVX-512 BF16 (or AMX) instructions to be large.

Usage::

    python benchmarks/precision.py [--repeats 5] [--samples 4800] [--out benchmarks/precision.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import helpers  # noqa: E402
from helpers.training import DEFAULT_STEPS_PER_EXECUTION  # noqa: E402


def cnn(widths: tuple[int, int, int], dtype: str | None) -> keras.Model:
    """Notebook 06's tuned CNN (``helpers.build_vgg_cnn``) without augmentation and regularisers."""
    model = helpers.build_vgg_cnn((28, 28, 1), widths, dtype=dtype)
    model.compile(
        optimizer="adam",
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=DEFAULT_STEPS_PER_EXECUTION,
    )
    return model


def epoch_seconds(widths, x, y, *, batch_size: int, repeats: int) -> dict[str, float]:
    """Fastest wall time of one training epoch per precision, float32 and bfloat16 epochs interleaved.

    Interleaving and taking the minimum keep a slow spell of a shared machine
    from landing on one precision only.
    """
    models = {"float32": cnn(widths, None), "mixed_bfloat16": cnn(widths, "mixed_bfloat16")}
    for model in models.values():
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # warm-up: tracing and allocation
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=4_800)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 28, 28, 1), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, args.samples), 10)
    rows = [
        f"One training epoch on {args.samples} random 28x28 images, batch {args.batch_size}, "
        f"fastest of {args.repeats}, float32 and bfloat16 epochs interleaved, after a warm-up; "
        f"Keras {keras.__version__}.",
        "",
        "| widths | float32 [s] | mixed bfloat16 [s] | speed-up |",
        "|---|---|---|---|",
    ]
    for widths in ((32, 64, 128), (48, 96, 192)):
        fastest = epoch_seconds(widths, x, y, batch_size=args.batch_size, repeats=args.repeats)
        f32, bf16 = fastest["float32"], fastest["mixed_bfloat16"]
        rows.append(f"| {'-'.join(map(str, widths))} | {f32:.2f} | {bf16:.2f} | {f32 / bf16:.2f}x |")
        print(rows[-1], flush=True)
    text = "\n".join(rows) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
