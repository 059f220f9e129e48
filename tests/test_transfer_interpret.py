"""Transfer-learning building blocks (with random weights) and interpretation helpers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers import cache, interpret, predictions, transfer

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def vgg():
    return transfer.build_base("VGG16", (32, 32, 3), weights=None)


def test_base_is_frozen_and_pooled(vgg):
    assert vgg.trainable is False and not vgg.trainable_weights
    assert vgg.output_shape == (None, 512)


def test_unfreeze_top_opens_only_the_last_block(vgg):
    opened = transfer.unfreeze_top(vgg, ["block5_"])
    assert opened == ["block5_conv1", "block5_conv2", "block5_conv3"]
    assert {w.path.split("/")[0] for w in vgg.trainable_weights} == set(opened)
    vgg.trainable = False


def test_classifier_head_trains_only_the_head(vgg):
    model = transfer.classifier_on(vgg, 10, hidden=16)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    counts = transfer.describe_trainable(model)
    assert counts["trainable parameters"] == 512 * 16 + 16 + 16 * 10 + 10
    frozen_before = [np.asarray(w).copy() for w in vgg.weights[:2]]
    x = RNG.random((8, 32, 32, 3)).astype(np.float32) * 255
    model.fit(x, keras.utils.to_categorical(RNG.integers(0, 10, 8), 10), epochs=1, verbose=0)
    np.testing.assert_array_equal(np.asarray(vgg.weights[0]), frozen_before[0])


def test_densenet_accepts_32x32():
    base = transfer.build_base("DenseNet121", (32, 32, 3), weights=None)
    assert base.output_shape == (None, 1024)


def test_imagenet_weights_lookup(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert not transfer.imagenet_weights_available("VGG16")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / transfer.APPLICATIONS["VGG16"][1]).write_bytes(b"x")
    assert transfer.imagenet_weights_available("VGG16")


def test_extract_features_is_cached(vgg, cache_dir, monkeypatch):
    x = RNG.random((10, 32, 32, 3)).astype(np.float32)
    first = transfer.extract_features("f", vgg, x, batch_size=4)
    assert first.shape == (10, 512) and first.dtype == np.float32
    monkeypatch.setattr(vgg, "predict", lambda *a, **k: pytest.fail("features should come from the cache"))
    np.testing.assert_array_equal(transfer.extract_features("f", vgg, x), first)
    monkeypatch.undo()
    other = transfer.extract_features("f", vgg, x[::-1].copy())  # other inputs: recomputed
    np.testing.assert_allclose(other, first[::-1], rtol=1e-5, atol=1e-6)


def test_copy_body_pretrained_or_fresh():
    source = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d1"), keras.layers.Dense(2)])
    layers_ = transfer.body_of(source, drop_last=1)
    warm = transfer.copy_body(layers_, (4,), pretrained=True, name="warm")
    cold = transfer.copy_body(layers_, (4,), pretrained=False, name="cold")
    np.testing.assert_array_equal(warm.layers[0].kernel, source.layers[0].kernel)
    assert not np.array_equal(np.asarray(cold.layers[0].kernel), np.asarray(source.layers[0].kernel))
    warm.layers[0].kernel.assign(np.zeros((4, 3)))
    assert np.abs(np.asarray(source.layers[0].kernel)).sum() > 0, "copies never share weights"


def test_copy_body_sets_batch_norm_momentum_and_it_changes_the_fingerprint():
    from helpers import fingerprint

    source = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization(), keras.layers.Dense(2)]
    )
    layers_ = transfer.body_of(source)
    fast = transfer.copy_body(layers_, (4,), pretrained=True, name="fast", bn_momentum=0.9)
    default = transfer.copy_body(layers_, (4,), pretrained=True, name="fast")
    assert fast.layers[-1].momentum == 0.9 and default.layers[-1].momentum == 0.99
    assert source.layers[1].momentum == 0.99, "the source model is untouched"
    assert fingerprint.architecture_config(fast) != fingerprint.architecture_config(default)


def test_layer_outputs_and_conv_names():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, name="c1"),
            keras.layers.Conv2D(2, 3, name="c2"),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    assert interpret.conv_layer_names(model) == ["c1", "c2"]
    a, b = interpret.layer_outputs(model, ["c1", "c2"], RNG.random((5, 8, 8, 1)).astype(np.float32))
    assert a.shape == (5, 6, 6, 4) and b.shape == (5, 4, 4, 2)


def test_layer_outputs_of_a_bfloat16_model_are_float32():
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="c1", dtype="mixed_bfloat16"), keras.layers.Flatten()]
    )
    assert model.get_layer("c1").compute_dtype == "bfloat16"
    (maps,) = interpret.layer_outputs(model, ["c1"], RNG.random((2, 8, 8, 1)).astype(np.float32))
    assert maps.dtype == np.float32 and maps.shape == (2, 6, 6, 4) and np.any(maps != 0)


def test_most_confused_pairs():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([1, 1, 0, 0, 1, 2])
    table = interpret.most_confused_pairs(y_true, y_pred, ["a", "b", "c"])
    assert table.iloc[0].to_dict() == {"true": "a", "predicted": "b", "errors": 2, "share of true class": 2 / 3}
    assert len(table) == 2


def test_cached_tsne(cache_dir, monkeypatch):
    from helpers import settings

    features = RNG.random((60, 5)).astype(np.float32)
    points = interpret.cached_tsne("e", features, model_sha256="abc", perplexity=5)
    assert points.shape == (60, 2)
    import sklearn.manifold

    monkeypatch.setattr(sklearn.manifold, "TSNE", lambda **k: pytest.fail("should load the cached embedding"))
    np.testing.assert_array_equal(interpret.cached_tsne("e", features, model_sha256="abc", perplexity=5), points)
    settings.set_cache_mode("require")
    with pytest.raises(cache.CacheMiss):
        interpret.cached_tsne("e", features, model_sha256="other-model", perplexity=5)
    with pytest.raises(cache.CacheMiss):
        interpret.cached_tsne("e", features + 1e-6, model_sha256="abc", perplexity=5)


def test_cached_tsne_keyed_by_inputs_survives_last_bit_differences(cache_dir, monkeypatch):
    from helpers import settings

    images = RNG.random((40, 4, 4, 1)).astype(np.float32)
    features = RNG.random((40, 5)).astype(np.float32)
    points = interpret.cached_tsne("e", features, model_sha256="abc", inputs=images, perplexity=5)
    settings.set_cache_mode("require")
    again = interpret.cached_tsne("e", features + 1e-7, model_sha256="abc", inputs=images, perplexity=5)
    np.testing.assert_array_equal(again, points)
    with pytest.raises(cache.CacheMiss):
        interpret.cached_tsne("e", features, model_sha256="abc", inputs=images[::-1].copy(), perplexity=5)


def test_cached_tsne_computes_features_only_when_it_must_embed_them(cache_dir):
    images = RNG.random((40, 4, 4, 1)).astype(np.float32)
    features = RNG.random((40, 5)).astype(np.float32)
    calls = []

    def compute():
        calls.append(1)
        return features

    points = interpret.cached_tsne("e", compute, model_sha256="abc", inputs=images, perplexity=5)
    assert len(calls) == 1
    again = interpret.cached_tsne("e", compute, model_sha256="abc", inputs=images, perplexity=5)
    np.testing.assert_array_equal(again, points)
    assert len(calls) == 1  # a hit keyed by the inputs computes no features
    interpret.cached_tsne("f", compute, model_sha256="abc", perplexity=5)  # keyed by the features themselves
    assert len(calls) == 2


def _tiny_image_classifier():
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_cached_predictions_hit_skips_the_models_and_changes_miss(cache_dir, monkeypatch):
    from helpers import settings
    from helpers.training import fit_cached

    x_fit = RNG.random((16, 4, 4, 1)).astype(np.float32)
    y_fit = keras.utils.to_categorical(RNG.integers(0, 3, 16), 3)
    for name, seed in (("a", 0), ("b", 1)):
        fit_cached(name, _tiny_image_classifier, x_fit, y_fit, epochs=1, seed=seed, verbose=0)
    x = RNG.random((12, 4, 4, 1)).astype(np.float32)
    first = predictions.cached_predictions("p", ["a", "b"], x, flip=True)
    models = [cache.load_cached(name)[0] for name in ("a", "b")]
    assert first.shape == (2, 2, 12, 3)
    np.testing.assert_allclose(first, predictions.member_predictions(models, x, flip=True), rtol=1e-5)

    with monkeypatch.context() as patch:
        patch.setattr(cache, "load_cached", lambda *a, **k: pytest.fail("a hit must not load the models"))
        np.testing.assert_array_equal(predictions.cached_predictions("p", ["a", "b"], x, flip=True), first)

    other = predictions.cached_predictions("p", ["a", "b"], x[::-1].copy(), flip=True)  # other inputs: recomputed
    np.testing.assert_allclose(other, first[:, :, ::-1], rtol=1e-5)
    path = cache_dir / "histories" / "predictions" / "p.npz"
    path.write_bytes(b"not an npz file")  # damaged: recomputed and rewritten
    np.testing.assert_allclose(predictions.cached_predictions("p", ["a", "b"], x, flip=True), first, rtol=1e-5)
    shifted = predictions.cached_predictions("p", ["a", "b"], x, flip=True, shift=1)  # other views: recomputed
    assert shifted.shape == (2, 10, 12, 3)
    np.testing.assert_allclose(shifted[:, :2], first, rtol=1e-5)
    fit_cached("a", _tiny_image_classifier, x_fit, y_fit, epochs=1, seed=7, verbose=0, mode="retrain")
    settings.set_cache_mode("require")  # a retrained model misses; require mode computes but never writes
    before = path.read_bytes()
    changed = predictions.cached_predictions("p", ["a", "b"], x, flip=True)
    assert not np.allclose(changed[0], first[0]) and np.allclose(changed[1], first[1], rtol=1e-5)
    assert path.read_bytes() == before


def test_stored_predictions_lists_valid_files_of_these_images_only(cache_dir):
    from helpers.training import fit_cached

    x_fit = RNG.random((16, 4, 4, 1)).astype(np.float32)
    y_fit = keras.utils.to_categorical(RNG.integers(0, 3, 16), 3)
    for name, seed in (("a", 0), ("b", 1)):
        fit_cached(name, _tiny_image_classifier, x_fit, y_fit, epochs=1, seed=seed, verbose=0)
    x, other_x = RNG.random((2, 12, 4, 4, 1)).astype(np.float32)
    predictions.cached_predictions("both_shift", ["b", "a"], x, flip=True, shift=1)
    predictions.cached_predictions("a_plain", ["a"], x)
    predictions.cached_predictions("a_other_images", ["a"], other_x)
    (cache_dir / "histories" / "predictions" / "broken.npz").write_bytes(b"not an npz file")
    assert predictions.stored_predictions(x) == [
        ("a_plain", ["a"], {"flip": False, "shift": 0}),
        ("both_shift", ["b", "a"], {"flip": True, "shift": 1}),
    ]
    assert predictions.stored_predictions(other_x) == [("a_other_images", ["a"], {"flip": False, "shift": 0})]
    fit_cached("a", _tiny_image_classifier, x_fit, y_fit, epochs=1, seed=7, verbose=0, mode="retrain")
    assert predictions.stored_predictions(x) == [], "files predicted by a model that changed since are stale"
