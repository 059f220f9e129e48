"""Performance points (course/performance.py): smoothing, the mapping, our result as the maximum, the seeds' figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

from course import performance, points
from course.grade import Grader, Outcome
from helpers import cache

SEEDS = ROOT.parent / "shared" / "seeds"


def test_a_single_spike_scores_as_the_smoothed_curve():
    curve = [0.80, 0.81, 0.95, 0.82, 0.83]  # the stored weights are those of the spike
    value, capped = performance.achieved(curve, measured=0.95)
    assert capped and value == pytest.approx(0.83)
    assert list(performance.smoothed(curve)) == pytest.approx([0.80, 0.81, 0.82, 0.83, 0.83])


def test_a_steady_curve_scores_its_measured_accuracy():
    curve = [0.80, 0.85, 0.88, 0.90, 0.905, 0.91]
    assert performance.achieved(curve, measured=0.91) == (0.91, False)


def test_the_target_earns_a_good_grade_and_our_result_the_full_grade():
    target, ours = 0.90, 0.95
    assert performance.share(target, target, ours) == pytest.approx(performance.GOOD_SHARE)
    assert performance.share(ours - performance.NEAR, target, ours) == 1.0
    assert performance.share(target - performance.BELOW, target, ours) == pytest.approx(0.0, abs=1e-9)
    grid = [0.75 + i / 1000 for i in range(250)]
    shares = [performance.share(v, target, ours) for v in grid]
    assert shares == sorted(shares), "more accuracy never earns less"


def test_the_expected_maximum_is_read_from_our_cache():
    entry = cache.manifest("mnist_cnn_aug", ROOT)
    assert performance.reference("mnist_cnn_aug") == entry["metrics"]["saved_model_val"]["accuracy"]
    assert performance.reference("model_1_1") is None, "no SVHN run of ours on this machine"


def test_every_target_is_a_graded_test_of_a_run_its_notebook_trains():
    for notebook, targets in performance.TARGETS.items():
        source = (ROOT / "notebooks" / "src" / f"{notebook}.py").read_text()
        for gid, target in targets.items():
            assert gid in points.CELLS[notebook] and gid.startswith("test_")
            assert f'"{target.run}"' in source or f"{target.run.upper()}" in source.upper()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed notebooks are not here")
def test_the_targets_are_the_seeds_own_figures():
    seed_001 = next(SEEDS.glob("001_*.txt")).read_text()
    seed_002 = next(SEEDS.glob("002_*.txt")).read_text()
    assert "performs better than 99% on the validation set" in seed_001
    assert re.search(r"at least 70% accuracy", seed_002) and re.search(r"at least 90% accuracy", seed_002)
    figures = {t.target for targets in performance.TARGETS.values() for t in targets.values()}
    assert figures == {0.99, 0.70, 0.90}


def test_grading_scales_a_passed_tests_points_and_says_how(tmp_path: Path):
    folder = tmp_path / "course" / "submitted" / "s1" / "07_mnist_cnns"
    curve = [0.95, 0.97, 0.999, 0.975, 0.98]  # one spike
    cache.dump_history(cache.paths("mnist_cnn_aug", folder)["history"], {"val_accuracy": curve})
    rows = [{"name": "mnist_cnn_aug", "metric": "val_accuracy", "measured": 0.999, "status": "OK"}]
    outcome = Outcome("s1", "07_mnist_cnns")
    Grader(tmp_path / "course", hidden=[])._performance(outcome, rows, flagged={})
    earned = outcome.scaled["test_improved_cnns"]
    ours = performance.reference("mnist_cnn_aug")
    assert earned == pytest.approx(2 * performance.share(0.98, 0.99, ours))
    assert "your validation accuracy 0.980 (smoothed); target 0.990" in outcome.notes[0]
    assert f"our solution {ours:.3f}; {earned:.1f} of 2 points" in outcome.notes[0]
    flagged = Outcome("s1", "07_mnist_cnns")
    Grader(tmp_path / "course", hidden=[])._performance(flagged, rows, flagged={"mnist_cnn_aug": "ANOMALY"})
    assert flagged.scaled == {}, "a flagged run earns no performance points"
