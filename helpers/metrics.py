"""Tables of run metrics, training times from the manifests, accuracy and its intervals."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from helpers import cache


def best_metrics(history: dict[str, list[float]]) -> dict[str, float]:
    """Best validation loss and accuracy of one run, the epoch of each (1-based), and final accuracies."""
    val_loss, val_acc = history["val_loss"], history["val_accuracy"]
    return {
        "best_val_loss": min(val_loss),
        "best_val_loss_epoch": int(val_loss.index(min(val_loss))) + 1,
        "best_val_accuracy": max(val_acc),
        "best_val_accuracy_epoch": int(val_acc.index(max(val_acc))) + 1,
        "final_val_accuracy": val_acc[-1],
        "final_train_accuracy": history["accuracy"][-1],
    }


def runs_table(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """Turn ``[{**params, "history": history}, ...]`` into a table of best metrics."""
    rows = []
    for run in runs:
        params = {k: v for k, v in run.items() if k != "history"}
        rows.append({**params, **best_metrics(run["history"])})
    return pd.DataFrame(rows)


def training_times(names: list[str], cache_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Epochs, training time and date of cached runs, read from their manifests (no model is loaded).

    Args:
        names: Cache names of the runs, one row each, in this order.
        cache_dir: Cache folder; the configured one by default.

    Raises:
        CacheMiss: If a run has not been trained.
    """
    rows = {}
    for name in names:
        entry = cache.manifest(name, cache_dir)
        rows[name] = {
            "epochs": entry["epochs_run"],
            "training time [min]": entry["training_seconds"] / 60,
            "trained at": entry["trained_at"][:16].replace("T", " "),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def accuracy(probabilities: Any, y: Any) -> float:
    """Share of rows whose most probable class is the true one (``y`` one-hot or integer)."""
    y = np.asarray(y)
    labels = y.argmax(1) if y.ndim == 2 else y
    return float(np.mean(np.asarray(probabilities).argmax(1) == labels))


def expected_errors(accuracy: float, n_test: int, per: int = 10_000, z: float = 1.96) -> dict[str, float]:
    """Expected misclassifications per ``per`` images, with a Wilson 95 % interval.

    Args:
        accuracy: Measured test accuracy.
        n_test: Number of test images it was measured on.
        per: Production volume to scale to.
        z: Normal quantile of the interval (1.96 for 95 %).
    """
    error = 1.0 - accuracy
    centre = (error + z * z / (2 * n_test)) / (1 + z * z / n_test)
    half = z * ((error * (1 - error) / n_test + z * z / (4 * n_test * n_test)) ** 0.5) / (1 + z * z / n_test)
    return {"expected": error * per, "low": max(0.0, centre - half) * per, "high": (centre + half) * per}
