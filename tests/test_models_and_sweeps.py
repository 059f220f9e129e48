"""Model builders, augmentation, sweeps, the tuner wrapper and TTA."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers import cache, metrics, models, predictions, sweeps, training, tuning

RNG = np.random.default_rng(0)
X = RNG.random((60, 8, 8, 1)).astype(np.float32)
Y = keras.utils.to_categorical(RNG.integers(0, 3, 60), 3)


def test_build_mlp_shapes_and_options():
    model = models.build_mlp(784, [32, 16], dropout=0.5, l2=0.01)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert model.layers[0].kernel_regularizer is not None
    assert model.output_shape == (None, 10)
    assert len(models.build_mlp(784, []).layers) == 1, "no hidden layer: softmax regression"
    image_model = models.build_mlp((8, 8, 1), [4], num_classes=3, augmentation=models.make_augmentation(flip=True))
    assert [type(layer).__name__ for layer in image_model.layers][:2] == ["Sequential", "Flatten"]


def test_build_vgg_cnn_blocks_regularisers_and_precision():
    model = models.build_vgg_cnn((28, 28, 1), (8, 16), dropouts=(0.1, 0.2), dense_units=32, l2=1e-4)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [conv.filters for conv in convs] == [8, 8, 16, 16]
    assert all(conv.kernel_regularizer is not None and conv.bias_regularizer is not None for conv in convs)
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [0.1, 0.2, 0.5]
    assert model.output_shape == (None, 10)
    plain = models.build_vgg_cnn((28, 28, 1), (8,), dropouts=(0.0,), dtype="mixed_bfloat16")
    assert all(layer.kernel_regularizer is None for layer in plain.layers if isinstance(layer, keras.layers.Conv2D))
    assert plain.layers[0].compute_dtype == "bfloat16"
    assert plain.layers[-1].compute_dtype == "float32"  # the softmax output stays float32
    with pytest.raises(ValueError, match="one dropout rate per block"):
        models.build_vgg_cnn((28, 28, 1), (8, 16), dropouts=(0.1,))


def test_build_vgg_cnn_without_regularizers_is_a_plain_relu_cnn():
    naive = models.build_vgg_cnn((28, 28, 1), (8, 16), dropouts=(0.0, 0.0), dense_dropout=0.0, batch_norm=False)
    kinds = [type(layer).__name__ for layer in naive.layers]
    assert kinds == [
        "Conv2D",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert [layer.activation.__name__ for layer in naive.layers if hasattr(layer, "activation")] == ["relu"] * 5 + [
        "softmax"
    ]
    with_bn = models.build_vgg_cnn((28, 28, 1), (8,), dropouts=(0.3,), dense_dropout=0.3)
    assert [type(layer).__name__ for layer in with_bn.layers].count("BatchNormalization") == 3
    assert [layer.rate for layer in with_bn.layers if isinstance(layer, keras.layers.Dropout)] == [0.3, 0.3]


def test_warmup_cosine_rises_for_one_epoch_then_decays_to_zero():
    schedule = models.warmup_cosine(2e-3, epochs=5, steps_per_epoch=10)
    rates = [float(schedule(step)) for step in range(51)]
    assert rates[0] == pytest.approx(2e-4) and rates[10] == pytest.approx(2e-3)
    assert all(a < b for a, b in zip(rates[:10], rates[1:11])), "linear warm-up over the first epoch"
    assert all(a > b for a, b in zip(rates[10:50], rates[11:51])), "then a strictly falling cosine"
    assert rates[30] == pytest.approx(1e-3, rel=1e-5), "half the peak half-way through the decay"
    assert rates[50] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="epochs >= 2"):
        models.warmup_cosine(1e-3, epochs=1, steps_per_epoch=10)


def test_augmentation_only_in_training():
    aug = models.make_augmentation(flip=True, translate=0.2)
    image = np.arange(64, dtype=np.float32).reshape(1, 8, 8, 1)
    np.testing.assert_array_equal(aug(image, training=False), image)
    keras.utils.set_random_seed(0)
    outs = [np.asarray(aug(image, training=True)) for _ in range(5)]
    assert any(not np.array_equal(o, image) for o in outs)


def test_flip_mirrors_left_right():
    flip = models.make_augmentation(flip=True)
    image = np.zeros((1, 4, 4, 1), dtype=np.float32)
    image[0, :, 0] = 1.0
    outs = [np.asarray(flip(image, training=True)) for _ in range(10)]
    flipped = [o for o in outs if not np.array_equal(o, image)]
    assert flipped and all(np.array_equal(o[0, :, 3], np.ones((4, 1))) for o in flipped)


def test_erasing_replaces_one_rectangle_and_keeps_range():
    erase = models.make_augmentation(erase=1.0, seed=3)
    images = np.full((16, 12, 12, 1), 0.5, dtype=np.float32)
    np.testing.assert_array_equal(erase(images, training=False), images)
    out = np.asarray(erase(images, training=True))
    changed = out != images
    assert changed.any(axis=(1, 2, 3)).all(), "probability 1: every image has an erased patch"
    for mask in changed[..., 0]:
        rows, cols = np.where(mask.any(axis=1))[0], np.where(mask.any(axis=0))[0]
        assert mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].mean() > 0.9, "a filled rectangle"
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert changed.mean() < 0.5, "at most about a third of each image"


def test_run_sweep_caches_every_run(cache_dir, fit_counter, capsys):
    def build(width):
        return models.compile_classifier(models.build_mlp((8, 8, 1), [width], num_classes=3))

    table, histories = sweeps.run_sweep(
        "sw",
        build,
        [2, 4],
        X,
        Y,
        param="width",
        seeds=[0, 1],
        validation_data=(X[:10], Y[:10]),
        epochs=2,
        batch_size=16,
    )
    assert len(fit_counter) == 4 and len(table) == 4
    assert set(table.columns) >= {"width", "seed", "best_val_loss", "best_val_accuracy"}
    assert (cache_dir / "saved_models" / "sw_width4_seed1.keras").is_file()
    assert "sw:" in capsys.readouterr().err, "a sweep that trains shows its progress"
    table2, _ = sweeps.run_sweep(
        "sw",
        build,
        [2, 4],
        X,
        Y,
        param="width",
        seeds=[0, 1],
        validation_data=(X[:10], Y[:10]),
        epochs=2,
        batch_size=16,
    )
    assert len(fit_counter) == 4, "the second sweep loads every run"
    assert table2.equals(table)
    assert "sw:" not in capsys.readouterr().err, "a sweep loaded from the cache shows no progress bar"


def test_an_unfinished_search_never_trains_or_writes_in_require_mode(cache_dir, fit_counter, monkeypatch):
    from helpers.training import TrainingForbidden

    def build(hp_):
        return models.compile_classifier(models.build_mlp((8, 8, 1), [hp_.Choice("width", [2, 4])], num_classes=3))

    tuning.random_search("u", build, X, Y, validation_data=(X[:10], Y[:10]), max_trials=1, epochs=1, batch_size=16)
    files = {p: p.stat().st_mtime_ns for p in (cache_dir / "histories" / "tuner").rglob("*") if p.is_file()}
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "require")
    with pytest.raises(TrainingForbidden, match="1 of 2 trials"):
        tuning.random_search("u", build, X, Y, validation_data=(X[:10], Y[:10]), max_trials=2, epochs=1, batch_size=16)
    after = {p: p.stat().st_mtime_ns for p in (cache_dir / "histories" / "tuner").rglob("*") if p.is_file()}
    assert after == files and len(fit_counter) == 1


@pytest.mark.parametrize("bad", ["../outside", "/tmp/outside", "name\n"])
def test_a_search_name_cannot_leave_histories(cache_dir, fit_counter, bad):
    with pytest.raises(ValueError, match="cache name"):
        tuning.random_search(
            bad, lambda hp_: None, X, Y, validation_data=(X[:10], Y[:10]), max_trials=1, epochs=1, batch_size=16
        )
    assert not (cache_dir / "outside").exists() and not (cache_dir.parent / "outside").exists()
    assert len(fit_counter) == 0


def test_random_search_reloads_without_training(cache_dir, fit_counter, capsys):
    def build(hp_):
        width = hp_.Choice("width", [2, 4, 8])
        return models.compile_classifier(models.build_mlp((8, 8, 1), [width], num_classes=3))

    tuner = tuning.random_search(
        "t", build, X, Y, validation_data=(X[:10], Y[:10]), max_trials=2, epochs=1, batch_size=16
    )
    assert len(fit_counter) == 2
    table = tuning.trials_table(tuner)
    assert len(table) == 2 and "width" in table.columns
    capsys.readouterr()
    tuning.random_search("t", build, X, Y, validation_data=(X[:10], Y[:10]), max_trials=2, epochs=1, batch_size=16)
    assert len(fit_counter) == 2, "a finished search is reloaded, not rerun"
    out = capsys.readouterr().out
    assert out == "Reloaded the search 't' from histories/tuner/t/\n" and str(cache_dir) not in out


def test_predict_tta_averages_mirror_images():
    model = keras.Sequential(
        [keras.Input((2, 2, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")]
    )
    x = np.array([[[[1.0], [0.0]], [[0.0], [0.0]]]], dtype=np.float32)
    expected = (model.predict(x, verbose=0) + model.predict(x[:, :, ::-1], verbose=0)) / 2
    np.testing.assert_allclose(predictions.predict_tta(model, x), expected, rtol=1e-6)
    np.testing.assert_allclose(predictions.predict_tta(model, x, flip=False), model.predict(x, verbose=0))


def test_predict_average_is_the_mean_of_the_models_and_accuracy_counts_hits():
    def tiny(seed):
        keras.utils.set_random_seed(seed)
        return keras.Sequential(
            [keras.Input((2, 2, 1)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
        )

    first, second = tiny(1), tiny(2)
    x = np.random.default_rng(0).normal(size=(5, 2, 2, 1)).astype(np.float32)
    p1, p2 = first.predict(x, verbose=0), second.predict(x, verbose=0)
    np.testing.assert_allclose(predictions.predict_average([first, second], x), (p1 + p2) / 2, rtol=1e-6)
    np.testing.assert_allclose(predictions.predict_average(first, x), p1, rtol=1e-6)
    with pytest.raises(ValueError):
        predictions.predict_average([], x)
    views = predictions.member_predictions([first, second], x, flip=True)
    assert views.shape == (2, 2, 5, 3)
    np.testing.assert_allclose(views[1, 1], second.predict(x[:, :, ::-1], verbose=0), rtol=1e-6)
    np.testing.assert_allclose(views[[0, 1], :1].mean(axis=(0, 1)), (p1 + p2) / 2, rtol=1e-6)
    shifted = predictions.member_predictions(first, x, flip=True, shift=1)
    assert shifted.shape == (1, 10, 5, 3)
    np.testing.assert_allclose(shifted[0, 2], first.predict(predictions.shift_images(x, 1, 0), verbose=0), rtol=1e-6)
    probabilities = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])
    assert metrics.accuracy(probabilities, np.array([0, 1, 1, 0])) == 0.75
    assert metrics.accuracy(probabilities, np.eye(3)[[0, 1, 1, 0]]) == 0.75


def test_shift_images_moves_pixels_and_fills_zeros():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    down_right = predictions.shift_images(x, 1, 1)[0, :, :, 0]
    np.testing.assert_array_equal(down_right, [[0, 0, 0], [0, 1, 2], [0, 4, 5]])
    up_left = predictions.shift_images(x, -1, -1)[0, :, :, 0]
    np.testing.assert_array_equal(up_left, [[5, 6, 0], [8, 9, 0], [0, 0, 0]])
    np.testing.assert_array_equal(predictions.shift_images(x, 0, 0), x)
    with pytest.raises(ValueError):
        predictions.shift_images(x, 3, 0)


def test_tta_views_order_plain_flip_then_shifts():
    x = np.random.default_rng(0).random((2, 4, 4, 1)).astype(np.float32)
    assert len(predictions.tta_views(x)) == 1
    views = predictions.tta_views(x, flip=True, shift=1)
    assert len(views) == 10
    np.testing.assert_array_equal(views[1], x[:, :, ::-1])
    np.testing.assert_array_equal(views[2], predictions.shift_images(x, 1, 0))
    np.testing.assert_array_equal(views[9], predictions.shift_images(x[:, :, ::-1], 0, -1))
    assert len(predictions.tta_views(x, shift=2)) == 5
    with pytest.raises(ValueError):
        predictions.tta_views(x, shift=-1)


@pytest.mark.parametrize(("flip", "shift"), [(False, 0), (True, 0), (False, 1), (True, 1), (True, 2)])
def test_tta_view_count_matches_tta_views(flip, shift):
    x = np.zeros((1, 4, 4, 1), dtype=np.float32)
    assert predictions.tta_view_count(flip=flip, shift=shift) == len(predictions.tta_views(x, flip=flip, shift=shift))


def test_expected_errors_interval():
    out = metrics.expected_errors(0.99, 10_000)
    assert out["expected"] == pytest.approx(100)
    assert out["low"] < 100 < out["high"]
    assert out["high"] - out["low"] == pytest.approx(2 * 1.96 * np.sqrt(0.01 * 0.99 / 10_000) * 10_000, rel=0.02)


def test_load_cached_checks_files(cache_dir):
    def build():
        return models.compile_classifier(models.build_mlp((8, 8, 1), [4], num_classes=3))

    training.fit_cached("lc", build, X, Y, epochs=1, batch_size=16, verbose=0)
    model, history = cache.load_cached("lc")
    assert isinstance(model, keras.Model) and len(history["loss"]) == 1
    path = cache.paths("lc")["model"]
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(cache.CacheCorrupt, match="SHA-256"):
        cache.load_cached("lc")
    with pytest.raises(cache.CacheMiss):
        cache.load_cached("nothing")
