"""The first lines every notebook prints: who hands it in, and what this run will do."""

from __future__ import annotations

import keras

from helpers import settings

MODE_WORDS = {
    "train": "loads cached results; trains what is missing",
    "retrain": "retrains every run and overwrites its cached results",
    "require": "grading: loads cached results and never trains",
}


def start_notebook(student: str = "", *, stop_training: bool = False) -> None:
    """Apply the notebook's parameters and print who hands it in and what the cache will do.

    Args:
        student: Name and ID of whoever hands the notebook in (empty: not filled in).
        stop_training: True switches this notebook to grading mode (never train).
    """
    if stop_training:
        settings.set_cache_mode("require")
    mode = settings.cache_mode()
    who = student.strip() or '(not filled in: set student = "Name (ID)" above, or ./run.sh --student)'
    print(f"Student: {who}")
    print(
        f"This run {MODE_WORDS[mode]} (cache mode {mode}), on Keras {keras.__version__} with {keras.config.backend()}."
    )
    long_runs = settings.long_runs_requested()  # checked here, so a misspelt --train fails at once
    if long_runs and mode != "require":
        print(f"Long runs asked for: {', '.join(sorted(long_runs))} (trained when not cached, after a time estimate).")
