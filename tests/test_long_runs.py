"""Long runs (SVHN, ImageNet transfer) train only when asked, after a time estimate; grading never trains them."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers import cache, long_runs, settings, training

RNG = np.random.default_rng(2)
X = RNG.random((40, 8, 8, 1), dtype=np.float32)
Y = keras.utils.to_categorical(RNG.integers(0, 3, 40), 3)
SPLIT = (X[:30], X[30:], Y[:30], Y[30:])


def build_cnn(filters: int = 4) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(filters, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def fits(monkeypatch, tmp_path):
    """Count every Keras fit (cached training and estimates alike), in a private cache."""
    monkeypatch.setenv("IMGCLS_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("IMGCLS_TRAIN", raising=False)
    monkeypatch.delenv("IMGCLS_SMOKE", raising=False)
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "train")
    calls = []
    original = training._original_fit
    monkeypatch.setattr(training, "_original_fit", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    return calls


def test_multiply_adds_count_convolutions_and_dense_layers():
    # conv: 6x6 outputs x (3x3x1x4) weights; dense: (6*6*4) x 3
    assert long_runs.multiply_adds(build_cnn()) == 6 * 6 * 36 + 144 * 3


def test_estimate_scales_to_the_real_run():
    estimate = long_runs.estimate_training(build_cnn, n_examples=50_000, epochs=20, batch_size=16, sample=32)
    assert estimate.cpu_seconds > 0
    flops = 6 * long_runs.multiply_adds(build_cnn()) * 50_000 * 20
    assert estimate.gpu_seconds == pytest.approx(flops / long_runs.GPU_FLOPS)
    assert "on this machine's CPU" in estimate.describe() and "TFLOP/s" in estimate.describe()


def test_a_missing_run_that_was_not_asked_for_only_says_what_it_would_do(fits, capsys, tmp_path):
    model, history = long_runs.evaluate_or_plan("model_9", build_cnn, SPLIT, family="svhn", epochs=3, batch_size=8)
    out = capsys.readouterr().out
    assert (model, history) == (None, None)
    assert "model_9 is not trained" in out and "3 epochs on 30 images" in out
    assert "./run.sh --train svhn" in out and "train_svhn = True" in out
    assert not (tmp_path / "histories" / "model_9.json").exists(), "nothing trained, nothing cached"
    assert len(fits) == 2, "only the estimate's two stand-in epochs ran"


@pytest.mark.parametrize("how", ["parameter", "run.sh --train", "smoke"])
def test_a_run_asked_for_is_estimated_then_trained_and_cached(fits, capsys, monkeypatch, tmp_path, how):
    if how == "run.sh --train":
        monkeypatch.setenv("IMGCLS_TRAIN", "svhn,imagenet")
    if how == "smoke":
        monkeypatch.setenv("IMGCLS_SMOKE", "1")
    model, history = long_runs.evaluate_or_plan(
        "model_9", build_cnn, SPLIT, family="svhn", train=how == "parameter", epochs=2, batch_size=8
    )
    out = capsys.readouterr().out
    assert model is not None and len(history["loss"]) >= 1
    assert "model_9: training for 2 epochs on 30 images, estimated about" in out
    assert cache.manifest("model_9", tmp_path)["epochs_run"] >= 1


def test_a_cached_run_is_loaded_without_fit_or_estimate(fits, monkeypatch):
    long_runs.evaluate_or_plan("model_9", build_cnn, SPLIT, family="svhn", train=True, epochs=2, batch_size=8)
    fits.clear()
    monkeypatch.setattr(long_runs, "estimate_training", lambda *a, **k: pytest.fail("a cache hit needs no estimate"))
    model, _ = long_runs.evaluate_or_plan("model_9", build_cnn, SPLIT, family="svhn", epochs=2, batch_size=8)
    assert model is not None and fits == []


def test_another_experiment_under_the_name_is_not_served(fits, capsys):
    long_runs.evaluate_or_plan("model_9", build_cnn, SPLIT, family="svhn", train=True, epochs=2, batch_size=8)
    model, _ = long_runs.evaluate_or_plan("model_9", build_cnn, SPLIT, family="svhn", epochs=2, batch_size=8, filters=8)
    assert model is None and "model_9 is not trained" in capsys.readouterr().out


def test_grading_mode_stops_with_one_line(fits, monkeypatch):
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "require")
    with pytest.raises(cache.CacheMiss) as err:
        long_runs.evaluate_or_plan("model_9", build_cnn, SPLIT, family="svhn", train=True, epochs=2, batch_size=8)
    assert err.value._render_traceback_() == [f"CacheMiss: {err.value}"]
    assert fits == []


def test_an_unknown_family_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("IMGCLS_TRAIN", "svhm")
    with pytest.raises(settings.UnknownLongRun, match="svhm: choose from svhn, imagenet or all"):
        settings.long_runs_requested()
    monkeypatch.setenv("IMGCLS_TRAIN", "all")
    assert settings.long_runs_requested() == {"svhn", "imagenet"}


def test_run_sh_train_flag_reaches_the_kernels_through_the_environment(monkeypatch):
    from conftest import ROOT

    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import run_notebooks

    monkeypatch.setenv("IMGCLS_TRAIN", "")  # restored after the test, though main() sets it directly
    monkeypatch.setattr(run_notebooks, "notebook_paths", lambda names: [])  # stop before executing anything
    assert run_notebooks.main(["--train", "svhn", "no_such_notebook"]) == 2
    assert settings.long_runs_requested() == {"svhn"}
