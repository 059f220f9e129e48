"""Performance points: the seeds' "you should at least get x%", computed once.

Seed 002: "When the question says 'you should at least get x%', x% will give you a
good but not the maximal grade. You can get the full grade when you are close to
what is the expected maximal performance." and "If your learning curves are very
erratic we'll compute a score based on the smoothed curves (i.e. single peaks
don't count)."

* **What is scored**: the validation accuracy of the student's stored model as
  verify re-measured it. When the curve is erratic, it is capped by the peak of
  the smoothed curve, so a single spike does not count.
* **Smoothing**: each epoch's validation accuracy becomes the median of itself
  and its two neighbours (a running median of 3, the end epochs repeated; it
  removes any single spike and keeps a real plateau). A curve is erratic when its raw peak stands more
  than :data:`ERRATIC` above the smoothed one.
* **Mapping** (:func:`share`): the target x earns :data:`GOOD_SHARE` of the
  points; the share rises linearly to 1 at our own solution's result less
  :data:`NEAR` ("close to the expected maximal performance"), and falls
  linearly to 0 at :data:`BELOW` under the target.
* **The expected maximum** is our solution's run of the same name, read from our
  cache (its recorded validation accuracy, which verify re-measures), never typed.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GOOD_SHARE = 0.7  # "x% will give you a good but not the maximal grade"
NEAR = 0.005  # within half a point of our result is "close to the expected maximal performance"
BELOW = 0.10  # ten points under the target earns nothing
ERRATIC = 0.005


class Target(NamedTuple):
    """A question's performance goal: the run it judges, the seed's figure and where the seed says it."""

    run: str
    target: float
    source: str


#: Notebook -> grade_id of the autograded test whose points the performance scales.
TARGETS: dict[str, dict[str, Target]] = {
    "07_mnist_cnns": {
        "test_improved_cnns": Target("mnist_cnn_aug", 0.99, "seed 001: better than 99% on the validation set"),
    },
    "12_svhn": {
        "test_dense_models": Target("model_1_1", 0.70, "seed 002, 1.1: at least 70% accuracy"),
        "test_convnet": Target("model_2_1", 0.90, "seed 002, 2.1: at least 90% accuracy"),
    },
}


def smoothed(curve: list[float]) -> np.ndarray:
    """The running median of 3 (the first and last epochs count twice at their end)."""
    values = np.asarray(curve, dtype=float)
    if len(values) < 3:
        return values
    padded = np.concatenate([[values[0]], values, [values[-1]]])
    return np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)


def achieved(curve: list[float], measured: float) -> tuple[float, bool]:
    """The accuracy that is scored, and whether the smoothed curve capped it."""
    if not curve:
        return measured, False
    peak = float(np.max(smoothed(curve)))
    if max(curve) - peak > ERRATIC and measured > peak:
        return peak, True
    return measured, False


def share(value: float, target: float, ours: float) -> float:
    """The share of the points an accuracy earns (0 to 1)."""
    full = max(ours - NEAR, target)
    if value >= full:
        return 1.0
    if value >= target:
        return GOOD_SHARE + (1 - GOOD_SHARE) * (value - target) / max(full - target, 1e-9)
    return max(0.0, GOOD_SHARE * (1 - (target - value) / BELOW))


def reference(run: str, cache_dir: Path = ROOT) -> float | None:
    """Our solution's validation accuracy for ``run``, from our cache (None when we have no such run)."""
    from helpers import cache

    try:
        metrics = cache.manifest(run, cache_dir).get("metrics", {})
    except cache.CacheMiss:
        return None
    saved = metrics.get("saved_model_val", {}).get("accuracy")
    return saved if saved is not None else metrics.get("best", {}).get("val_accuracy")


def score(target: Target, curve: list[float], measured: float, points: float, ours: float | None) -> tuple[float, str]:
    """The points earned and the line the feedback shows."""
    value, capped = achieved(curve, measured)
    how = " (smoothed)" if capped else ""
    if ours is None:  # no run of ours to compare with (SVHN cannot be trained on this machine): the target is full
        earned = points * share(value, target.target, target.target + NEAR)
        return earned, (
            f"your validation accuracy {value:.3f}{how}; target {target.target:.3f} ({target.source}); "
            f"no run {target.run} of ours to compare with, so the target earns full points; "
            f"{earned:.1f} of {points:g} points"
        )
    earned = points * share(value, target.target, ours)
    return earned, (
        f"your validation accuracy {value:.3f}{how}; target {target.target:.3f} ({target.source}); "
        f"our solution {ours:.3f}; {earned:.1f} of {points:g} points"
    )
