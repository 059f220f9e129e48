"""A notebook's first lines, and how its tables and model summaries are shown."""

from __future__ import annotations

import keras
import pandas as pd
import pytest

from helpers import display, session, settings


@pytest.mark.parametrize(
    ("env_mode", "stop_training", "words"),
    [
        (None, False, "loads cached results; trains what is missing"),
        (None, True, "grading: loads cached results and never trains"),
        ("retrain", False, "retrains every run"),
        ("require", False, "grading: loads cached results and never trains"),
    ],
)
def test_first_lines_say_who_and_what_the_cache_does(env_mode, stop_training, words, monkeypatch, capsys):
    if env_mode:
        monkeypatch.setenv("IMGCLS_CACHE_MODE", env_mode)
    session.start_notebook("Ada Lovelace (s1234567)", stop_training=stop_training)
    student, mode = capsys.readouterr().out.splitlines()
    assert student == "Student: Ada Lovelace (s1234567)"
    assert words in mode and settings.cache_mode() in mode
    assert mode.endswith(f"on Keras {keras.__version__} with {keras.config.backend()}."), "the backend it ran on"


def test_an_empty_student_says_how_to_fill_it_in(capsys):
    session.start_notebook("")
    assert "not filled in" in capsys.readouterr().out and settings.cache_mode() == "train"


def test_tables_show_words_but_keep_their_data():
    frame = pd.DataFrame(
        {"best_val_accuracy": [0.9, 0.8], "epochs_run": [3, 4]},
        index=pd.Index(["ex3_adam", "ex3_sgd"], name="run_name"),
    )
    html = display.table_html(frame)
    assert "best val accuracy" in html and "epochs run" in html and "run name" in html
    assert "ex3_adam" in html, "row labels (cache names) stay as they are"
    assert list(frame.columns) == ["best_val_accuracy", "epochs_run"], "the frame itself is unchanged"


def test_formatters_install_in_a_kernel_only():
    assert display.install_table_format() is False  # pytest is no IPython kernel


def test_rich_summary_text_loses_colour_codes_but_not_its_html():
    from IPython.core.interactiveshell import InteractiveShell
    from rich.jupyter import JupyterRenderable

    shell = InteractiveShell.instance()
    try:
        from unittest import mock

        with mock.patch("IPython.get_ipython", return_value=shell):
            assert display.install_table_format() is True
        bundle, _ = shell.display_formatter.format(JupyterRenderable("<b>Model</b>", "\x1b[1mModel\x1b[0m\n"))
        assert bundle["text/plain"] == "Model\n" and bundle["text/html"] == "<b>Model</b>"
    finally:
        InteractiveShell.clear_instance()
