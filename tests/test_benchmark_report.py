"""benchmarks/report.py reads ensemble accuracies from the notebooks' stored predictions."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import ROOT, load_benchmark

from helpers import cache
from helpers import predictions as prediction_cache
from helpers.training import fit_cached

RNG = np.random.default_rng(3)


def _tiny_image_classifier():
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def stored(cache_dir):
    """Three cached models; the first two have stored predictions with flip and shift views."""
    report = load_benchmark("report")
    x_fit = RNG.random((16, 4, 4, 1)).astype(np.float32)
    y_fit = keras.utils.to_categorical(RNG.integers(0, 3, 16), 3)
    for seed, name in enumerate(("a", "b", "c")):
        fit_cached(name, _tiny_image_classifier, x_fit, y_fit, epochs=1, seed=seed, verbose=0)
    x = RNG.random((12, 4, 4, 1)).astype(np.float32)
    predictions = prediction_cache.cached_predictions("p", ["a", "b"], x, flip=True, shift=1)
    return report, x, predictions, cache_dir / "histories" / "predictions" / "p.npz"


def test_report_reads_members_and_views_without_loading_models(stored, monkeypatch):
    report, x, predictions, path = stored
    before = path.read_bytes()
    monkeypatch.setattr(cache, "load_cached", lambda *a, **k: pytest.fail("stored predictions need no model"))
    for views, tta in report.VIEWS.items():
        (part,) = report.test_predictions(("b",), tta, x)
        np.testing.assert_array_equal(part, predictions[[1], :views])
    (both,) = report.test_predictions(("a", "b"), report.VIEWS[2], x)
    np.testing.assert_array_equal(both, predictions[:, :2])
    assert path.read_bytes() == before, "the notebook's prediction file is never rewritten"


def test_report_predicts_what_is_not_stored(stored):
    report, x, predictions, path = stored
    stored_part, computed = report.test_predictions(("a", "c"), report.VIEWS[2], x)
    np.testing.assert_array_equal(stored_part, predictions[[0], :2])
    expected = prediction_cache.member_predictions([cache.load_cached("c")[0]], x, flip=True)
    np.testing.assert_allclose(computed, expected, rtol=1e-5)
    # Shift views without flip are not the first views of the stored ones: predicted from the models.
    (shift_only,) = report.test_predictions(("a",), {"shift": 1}, x)
    assert shift_only.shape == (1, 5, 12, 3)
    np.testing.assert_allclose(shift_only[:, :1], predictions[[0], :1], rtol=1e-5)


def test_readme_results_table_is_the_one_report_writes_into_benchmarks():
    report = load_benchmark("report")
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index(report.README_START) + len(report.README_START) : readme.index(report.README_END)]
    benchmarks = (ROOT / "BENCHMARKS.md").read_text()
    rest = benchmarks[benchmarks.index("| model | notebook | cache entries |") :]
    table = rest.split("\n\n## ")[0].strip()  # up to the next section
    assert block.strip() == table, "README's results table differs from BENCHMARKS.md: run benchmarks/report.py"


def test_backend_table_gives_speed_ups_over_plain_tf_and_shares_of_the_matmul_peak():
    backends = load_benchmark("backends")
    workload = next(iter(backends.WORKLOADS))
    runs = {f"{workload}|TF plain `fit`": {"seconds": 1.0, "gflops": 10.0}}
    runs[f"{workload}|JAX, spe 32"] = {"seconds": 0.25, "gflops": 40.0}
    text = backends.table({"tensorflow": {"peak_gflops": 200.0, "runs": runs}, "jax": {"peak_gflops": 100.0}})
    row = next(line for line in text.splitlines() if line.startswith(f"| {workload} |"))
    assert "1.00 s, 1.0x, 10 GFLOP/s (5%)" in row and "0.25 s, 4.0x, 40 GFLOP/s (20%)" in row
    assert row.count("not measured") == 2, "paths that did not run say so"
    assert "200 GFLOP/s; JAX's: 100 GFLOP/s" in text
    cnn = backends.build("cnn")
    assert [layer.filters for layer in cnn.layers if isinstance(layer, keras.layers.Conv2D)] == [32, 32, 64, 64, 128]


def test_cold_table_adds_measured_wall_times_and_manifest_sums_and_checks_the_goal():
    report = load_benchmark("report")
    entries = {
        "a1": {"notebook": "02_x", "training_seconds": 600.0, "versions": {"backend": "tensorflow"}},
        "a2": {"notebook": "02_x", "training_seconds": 1200.0, "versions": {"backend": "tensorflow"}},
        "b": {"notebook": "03_y", "training_seconds": 3000.0, "versions": {"backend": "jax"}},
        "c": {"notebook": report.APPENDIX, "training_seconds": 60000.0, "versions": {"backend": "tensorflow"}},
    }
    cold = {"02_x": {"minutes": 12.5, "measured": "2026-12-02", "same_test_metrics": 2, "compared": 2}}
    table = report.training_time_table(entries, cold)
    assert "| 02_x | tensorflow | 2 | 30.0 | 12.5 (2026-12-02) | 2 of 2 |" in table
    assert "| 03_y | jax | 1 | 50.0 | - | - |" in table
    assert "**62.5** (1 of 2 notebooks measured cold; goal 120: met)" in table, "cold where measured, else the sum"
    assert "| **total** | | **4** | **1080.0** | | |" in table
    cold["02_x"]["minutes"] = 71.0
    assert "**121.0** (1 of 2 notebooks measured cold; goal 120: not met)" in report.training_time_table(entries, cold)


def test_cold_benchmark_counts_runs_with_exactly_the_committed_test_metrics():
    cold = load_benchmark("cold")
    committed = {name: {"metrics": {"test": {"accuracy": 0.9, "loss": 0.3}}} for name in ("a", "b", "c")}
    trained = {
        "a": {"metrics": {"test": {"accuracy": 0.9, "loss": 0.3}}},
        "b": {"metrics": {"test": {"accuracy": 0.9, "loss": 0.30001}}},  # one metric off
        "new": {"metrics": {"test": {"accuracy": 0.5, "loss": 1.0}}},  # nothing committed to compare with
    }
    assert cold.same_test_metrics(trained, committed) == (1, 2)


def test_cold_benchmark_gives_a_notebook_the_shared_runs_that_other_notebooks_trained():
    cold, committed = load_benchmark("cold"), cache.list_entries(ROOT)
    for_08 = cold.runs_from_other_notebooks("08_fashion_cnns", committed)
    dense = ["ex5_best_dense", "ex5_best_dense_aug", "ex5_best_dense_ema"]
    assert set(dense) <= set(for_08), "05's tuned dense networks, which 08 compares with"
    assert "fashion_cnn_final" not in for_08, "08 trains its own final CNN: it must not be given"
    assert "mnist_cnn_aug" not in cold.runs_from_other_notebooks("07_mnist_cnns", committed)
    assert "mnist_cnn_aug" in cold.runs_from_other_notebooks("10_transfer_learning", committed)
    assert not set(dense) & set(cold.runs_from_other_notebooks("05_regularization", committed))


def test_cold_benchmark_reports_what_it_measured_when_a_notebook_fails_and_keeps_its_cache(tmp_path, monkeypatch):
    cold = load_benchmark("cold")

    def trains_one_run_then_fails(path, target, timeout=None):
        cold.copy_entries(["ex2_softmax_mnist"], tmp_path)  # as if the notebook had trained it
        raise RuntimeError("Exception encountered at In [22]:\nCacheMiss: no cached artifact 'x'")

    monkeypatch.setattr(cold, "execute_to", trains_one_run_then_fails)
    with pytest.raises(SystemExit) as failed:
        cold.measure(ROOT / "notebooks" / "02_dense_baselines.ipynb", tmp_path, cache.list_entries(ROOT))
    message = str(failed.value)
    assert message.startswith("02_dense_baselines failed (RuntimeError: CacheMiss: no cached artifact 'x')")
    assert "'runs_trained': 1" in message and "'same_test_metrics': 1" in message
    assert f"its cache is kept in {tmp_path}" in message
    assert cache.paths("ex2_softmax_mnist", tmp_path)["model"].is_file()


def test_rerun_goals_are_checked_against_the_measured_times_and_peaks():
    notebooks = load_benchmark("notebooks")
    seconds = {"02_dense": 30.0, "03_opt": 30.0, "04_width": 31.0, "06_broken": 20.0, "07_mnist": 20.0}
    rows = notebooks.goal_rows(seconds, {"02_dense": 1500.0, "06_broken": 4100.0})
    assert "| notebooks 02, 03, 04 re-run together in under 90 s | 91.0 s | no |" in rows
    assert "| notebooks 06, 07, 08 re-run together in under 90 s | not all measured | - |" in rows
    assert rows[-1] == "| every notebook's peak memory under 4096 MiB | 4100 MiB (06_broken) | no |"
    seconds["04_width"] = 29.0
    rows = notebooks.goal_rows(seconds, {"02_dense": 1500.0})
    assert "| notebooks 02, 03, 04 re-run together in under 90 s | 89.0 s | yes |" in rows
    assert rows[-1] == "| every notebook's peak memory under 4096 MiB | 1500 MiB (02_dense) | yes |"
