"""A small keras-tuner search whose trials are kept in the cache folder.

The tuner's project folder lives under ``<cache>/histories/tuner/NAME`` and is
committed, so a re-run reloads the finished trials instead of searching again.
Only trial results are kept (hyperparameters and scores, as JSON), not trial
weights: the chosen configuration is retrained through :func:`fit_cached`.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any

import keras
import keras_tuner as kt
import pandas as pd

from helpers import cache, settings
from helpers.training import TrainingForbidden


class _NoCheckpointRandomSearch(kt.RandomSearch):
    """Random search that keeps trial scores but no trial weights."""

    def save_model(self, trial_id: str, model: keras.Model, step: int = 0) -> None:  # noqa: D102
        return None

    def _configure_tensorboard_dir(self, callbacks: list, trial: Any, execution: int = 0) -> None:
        # keras-tuner imports tensorboard here only to patch TensorBoard
        # callbacks; the suite uses none, so it needs no tensorboard install.
        return None


def random_search(
    name: str,
    build: Callable[[kt.HyperParameters], keras.Model],
    x: Any,
    y: Any,
    *,
    validation_data: tuple,
    max_trials: int,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    patience: int = 4,
) -> kt.RandomSearch:
    """Run (or reload) a random search maximising validation accuracy.

    Args:
        name: Project name; trials are stored under ``histories/tuner/NAME``.
        build: ``build(hp)`` returns a compiled model.
        x, y: Training data.
        validation_data: ``(x_val, y_val)``.
        max_trials: Number of configurations to try.
        epochs: Maximum epochs per trial (early stopping on validation loss).
        batch_size: Batch size.
        seed: Seed of the search.
        patience: Early-stopping patience per trial.

    Returns:
        The tuner, with all trials finished.
    """
    if settings.smoke_mode():
        max_trials, epochs = min(max_trials, 2), 1
    cache.check_name(name)  # a project name is a folder under histories/tuner: no "..", "/" or newline
    directory = settings.cache_dir() / "histories" / "tuner"
    reloading = (directory / name / "tuner0.json").is_file()
    with contextlib.redirect_stdout(io.StringIO()):  # keras-tuner prints its absolute path on reload
        tuner = _NoCheckpointRandomSearch(
            build,
            objective="val_accuracy",
            max_trials=max_trials,
            seed=seed,
            directory=str(directory),
            project_name=name,
            overwrite=False,
        )
    if reloading:
        print(f"Reloaded the search {name!r} from histories/tuner/{name}/")
    if settings.cache_mode() == "require":
        finished = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
        if len(finished) < max_trials:
            raise TrainingForbidden(
                f"require-cache mode never trains: the search {name!r} has {len(finished)} of {max_trials} "
                "trials finished; run it in train mode first"
            )
        return tuner  # never call search(): it would write trial files
    # With overwrite=False a finished search is reloaded and search() returns
    # at once without training; an interrupted one continues with the next trial.
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience)
    keras.utils.set_random_seed(seed)
    tuner.search(
        x, y, validation_data=validation_data, epochs=epochs, batch_size=batch_size, callbacks=[stop], verbose=0
    )
    return tuner


def trials_table(tuner: kt.RandomSearch) -> pd.DataFrame:
    """One row per trial: its hyperparameters and best validation accuracy."""
    rows = []
    for trial in tuner.oracle.trials.values():
        if trial.score is None:
            continue
        rows.append({"trial": trial.trial_id, **trial.hyperparameters.values, "best val_accuracy": trial.score})
    return pd.DataFrame(rows).sort_values("best val_accuracy", ascending=False).reset_index(drop=True)
