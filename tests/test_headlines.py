"""Goals tables: what a notebook shows against a goal is recorded, and the report re-measures it."""

from __future__ import annotations

import json

import pytest
from conftest import load_benchmark

from helpers import cache, headlines
from helpers.goals import GOALS


def _entry(cache_dir, name: str, accuracy: float) -> None:
    target = cache.paths(name, cache_dir)["manifest"]
    target.parent.mkdir(parents=True, exist_ok=True)
    cache.write_json_atomic(target, {"name": name, "metrics": {"test": {"accuracy": accuracy}}})


@pytest.fixture
def notebook(cache_dir, monkeypatch):
    monkeypatch.setenv("IMGCLS_NOTEBOOK", "07_mnist_cnns")
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "train")
    _entry(cache_dir, "a", 0.9970)
    _entry(cache_dir, "b", 0.9950)
    return cache_dir / "histories" / "headlines" / "07_mnist_cnns.mnist_cnn.json"


def test_a_goals_table_shows_the_goal_and_records_its_rows(notebook):
    rows = {"one CNN": headlines.headline("a"), "both": headlines.headline(["a", "b"], 0.9955, views=2)}
    table = headlines.goals_table("mnist_cnn", rows)
    assert list(table["met"]) == [True, False] and set(table["goal"]) == {GOALS["mnist_cnn"]}
    record = json.loads(notebook.read_text())
    assert record["notebook"] == "07_mnist_cnns" and record["goal"] == "mnist_cnn"
    assert record["rows"] == [
        {"label": "one CNN", "names": ["a"], "accuracy": 0.997, "views": 1},
        {"label": "both", "names": ["a", "b"], "accuracy": 0.9955, "views": 2},
    ]


def test_grading_mode_and_unknown_notebooks_record_nothing(notebook, monkeypatch):
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "require")
    headlines.goals_table("mnist_cnn", {"one CNN": headlines.headline("a")})
    assert not notebook.exists()
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "train")
    monkeypatch.setenv("IMGCLS_NOTEBOOK", "")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    headlines.goals_table("mnist_cnn", {"one CNN": headlines.headline("a")})
    assert not notebook.parent.exists()


def test_a_row_needs_a_measured_accuracy_unless_it_is_one_plain_entry(notebook):
    assert headlines.headline("b").accuracy == 0.995
    with pytest.raises(ValueError, match="measured accuracy"):
        headlines.headline(["a", "b"])
    with pytest.raises(ValueError, match="measured accuracy"):
        headlines.headline("a", views=2)
    with pytest.raises(ValueError, match="views"):
        headlines.headline("a", 0.99, views=3)
    with pytest.raises(ValueError, match="unknown goal"):
        headlines.goals_table("mnist_rnn", {"x": headlines.headline("a")})


def test_the_report_re_measures_each_recorded_row_and_refuses_a_stale_one(notebook):
    report = load_benchmark("report")
    headlines.goals_table("mnist_cnn", {"one CNN": headlines.headline("a")})
    entries = cache.list_entries()
    (row,) = report.headline_table(entries).splitlines()[2:]
    assert row == "| MNIST: one CNN | 07_mnist_cnns | `a` | 99.70% | 99.11% | 99.6% | yes |"
    _entry(notebook.parent.parent.parent, "a", 0.9960)  # retrained since the notebook last ran
    with pytest.raises(report.StaleHeadline, match="07_mnist_cnns showed 99.7000% for 'one CNN'.*re-run"):
        report.headline_table(cache.list_entries())
    assert "not trained yet" in report.headline_table({})
