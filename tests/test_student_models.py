"""A student's own models: any public Keras class and the notebook's own objects load; what can run code is refused.

The custom layer and loss below stand for what a student defines in a notebook
cell; ``fit_cached`` finds them in the model it builds and passes them to Keras.
"""

from __future__ import annotations

import json
import random

import keras
import numpy as np
import pytest

from helpers import cache, plotting
from helpers.training import BadTrainingData, fit_cached

RNG = np.random.default_rng(1)
IMAGES = RNG.normal(size=(48, 4, 4, 1)).astype(np.float32)
ONE_HOT = keras.utils.to_categorical(RNG.integers(0, 3, 48), 3).astype(np.float32)
VAL = (IMAGES[:12], ONE_HOT[:12])


def own_architecture() -> keras.Model:
    """Classes the suite never builds itself: Reshape, LeakyReLU, LayerNormalization, GlobalMaxPooling2D, AdamW."""
    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(4, 2),
            keras.layers.LeakyReLU(negative_slope=0.1),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Reshape((2, 2)),
            keras.layers.LayerNormalization(),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.AdamW(), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


class Doubling(keras.layers.Layer):
    """A student's own layer."""

    def call(self, inputs):
        return inputs * 2.0


def smoothed_crossentropy(y_true, y_pred):
    """A student's own loss."""
    return keras.losses.categorical_crossentropy(y_true, y_pred, label_smoothing=0.05)


def own_objects() -> keras.Model:
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), Doubling(), keras.layers.Dense(3)])
    model.add(keras.layers.Activation("softmax"))
    model.compile(optimizer="adam", loss=smoothed_crossentropy, metrics=["accuracy"])
    return model


def a_lambda() -> keras.Model:
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Lambda(lambda t: t * 2)])
    model.add(keras.layers.Dense(3, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def run(name, builder, x=IMAGES, y=ONE_HOT, **kw):
    return fit_cached(name, builder, x, y, validation_data=VAL, epochs=1, batch_size=16, verbose=0, **kw)


@pytest.mark.parametrize("builder", [own_architecture, own_objects], ids=["keras-classes", "notebook-objects"])
def test_a_students_own_model_trains_hits_and_reloads(cache_dir, fit_counter, builder):
    trained, _ = run("mine", builder)
    loaded, _ = run("mine", builder)
    assert len(fit_counter) == 1, "the second call is a cache hit"
    np.testing.assert_allclose(loaded.predict(IMAGES[:4], verbose=0), trained.predict(IMAGES[:4], verbose=0))


def test_a_custom_object_the_notebook_did_not_define_is_refused(cache_dir):
    run("mine", own_objects)
    with pytest.raises(cache.ModelRefused, match="custom object 'Doubling', which this notebook did not define"):
        cache.load_model(cache_dir / "saved_models" / "mine.keras")


def test_a_lambda_is_retrained_with_one_line_in_train_mode_and_refused_in_require_mode(cache_dir, fit_counter, capsys):
    run("lam", a_lambda)
    run("lam", a_lambda)
    out = capsys.readouterr().out
    assert len(fit_counter) == 2 and "uses Lambda, which can run code -> retraining" in out
    assert "trained meanwhile" not in out, "a refused entry is not loaded again after the line that retrains it"
    with pytest.raises(cache.ModelRefused) as info:
        run("lam", a_lambda, mode="require")
    message = str(info.value)
    assert "not loaded" in message and "Lambda, which can run code" in message
    assert "damaged" not in message and str(cache_dir) not in message and "\n" not in message


def test_a_cache_hit_leaves_the_global_random_generators_as_they_were(cache_dir):
    run("mine", own_architecture)
    random.seed(123)
    np.random.seed(456)
    before = random.random(), np.random.random()
    random.seed(123)
    np.random.seed(456)
    run("mine", own_architecture)
    assert (random.random(), np.random.random()) == before


@pytest.mark.parametrize(
    ("x", "y", "reason"),
    [
        (IMAGES.reshape(48, 16), ONE_HOT, r"x has samples of shape \(16,\) but the model takes \(4, 4, 1\)"),
        (IMAGES, None, "y is None"),
        (IMAGES, ONE_HOT.argmax(1), "wants one-hot labels"),
        (IMAGES, np.array(list(ONE_HOT), dtype=object), "array of Python objects"),
    ],
    ids=["input-features", "y-none", "integer-labels", "object-array"],
)
def test_usual_mistakes_are_one_line(cache_dir, fit_counter, x, y, reason):
    with pytest.raises(BadTrainingData, match=reason) as info:
        run("oops", own_architecture, x=x, y=y)
    assert "\n" not in str(info.value) and not fit_counter


def test_one_hot_labels_for_a_sparse_loss_are_one_line(cache_dir):
    def sparse() -> keras.Model:
        model = own_architecture()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    with pytest.raises(BadTrainingData, match="wants integer labels"):
        run("sparse", sparse)


def test_a_label_outside_the_plotted_classes_is_one_line():
    with pytest.raises(plotting.LabelOutOfRange, match="label 10 is outside the 10 classes"):
        plotting.plot_class_histogram(np.array([1, 2, 10]), [str(d) for d in range(10)])


def test_verify_reports_a_students_own_class_as_not_re_measured_and_a_lambda_as_refused(cache_dir):
    from helpers import verify

    run("mine", own_objects)
    rows = {r.name: r for r in verify.verify_all(cache_dir, indexed=False)}
    assert rows["mine"].status == verify.UNMEASURED and "not re-measured here" in rows["mine"].detail
    assert verify.main(["--cache-dir", str(cache_dir), "--no-index"]) == 0, "said, not failed"
    # a file with a lambda under the same name is refused outright (it could run code)
    keras.saving.save_model(a_lambda(), cache_dir / "saved_models" / "mine.keras")
    entry = cache.paths("mine", cache_dir)
    manifest = json.loads(entry["manifest"].read_text())
    manifest["files"]["model"]["sha256"] = cache.sha256_file(entry["model"])
    entry["manifest"].write_text(json.dumps(manifest))
    rows = {r.name: r for r in verify.verify_all(cache_dir, indexed=False)}
    assert rows["mine"].status == "CORRUPT" and "can run code" in rows["mine"].detail
