"""A .keras file is checked against the suite's allow-list before Keras rebuilds anything from it."""

from __future__ import annotations

import json
import os
import zipfile

import keras
import numpy as np
import pytest

from helpers import cache, safe_load


def small_model() -> keras.Model:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def rewrite_config(path, edit) -> None:
    """Rewrite a .keras zip with ``edit(config)`` applied to its config.json, as a forger would."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def keras_state() -> tuple:
    return keras.config.max_epochs(), keras.config.max_steps_per_epoch(), keras.config.floatx()


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "m.keras"
    small_model().save(path)
    return path


def dense_config(config: dict) -> dict:
    return config["config"]["layers"][1]["config"]


FUNCTION_CALL = {
    "module": "keras.config",
    "class_name": "function",
    "config": "set_max_epochs",
    "registered_name": "function",
}


def test_the_suites_own_model_passes_and_loads_without_side_effects(saved, tmp_path):
    before, files = keras_state(), sorted(os.listdir(tmp_path))
    model = cache.load_model(saved)
    assert isinstance(model, keras.Sequential)
    assert keras_state() == before and sorted(os.listdir(tmp_path)) == files


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda c: dense_config(c).update(activation=FUNCTION_CALL), "not a Keras activation, loss or metric"),
        (
            lambda c: dense_config(c).update(kernel_initializer={**FUNCTION_CALL, "class_name": "__lambda__"}),
            "can run code",
        ),
        (lambda c: dense_config(c).update(call_on_load="rm -rf"), "arguments it never takes"),
        (lambda c: c["config"]["layers"][1].update(registered_name="Custom>Dense"), "custom object"),
        (lambda c: c["config"]["layers"].append({**c["config"]["layers"][1], "class_name": "Lambda"}), "Lambda"),
    ],
    ids=["function-reference", "lambda-initializer", "unknown-argument", "registered-custom", "lambda-layer"],
)
def test_a_forged_config_is_refused_before_keras_sees_it(saved, edit, reason):
    rewrite_config(saved, edit)
    before = keras_state()
    with pytest.raises(cache.CacheCorrupt, match=reason) as info:
        cache.load_model(saved)
    assert "\n" not in str(info.value), "one line"
    assert keras_state() == before


LAMBDA_CALLING_KERAS = {
    "module": "keras.layers",
    "class_name": "Lambda",
    "config": {"name": "lam", "trainable": True, "dtype": "float32", "function": FUNCTION_CALL, "arguments": {}},
    "registered_name": None,
}


def test_without_the_check_a_lambda_naming_a_keras_function_acts_on_load(saved):
    """The attack is real: Keras' safe_mode alone runs keras.config.set_max_epochs while rebuilding the model."""
    rewrite_config(saved, lambda c: c["config"]["layers"].append(LAMBDA_CALLING_KERAS))
    keras.config.set_max_epochs(None)
    try:
        keras.models.load_model(saved, safe_mode=True)
        assert keras.config.max_epochs() is not None, "Keras alone let the file change a global setting"
        keras.config.set_max_epochs(None)
        with pytest.raises(cache.CacheCorrupt, match="Lambda"):
            cache.load_model(saved)
        assert keras.config.max_epochs() is None
    finally:
        keras.config.set_max_epochs(None)


def test_a_real_keras_lambda_model_is_refused(tmp_path):
    path = tmp_path / "lambda.keras"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(path)
    with pytest.raises(cache.CacheCorrupt, match="Lambda"):
        cache.load_model(path)


def test_an_unconnected_functional_layer_is_refused(tmp_path):
    inputs = keras.Input((4,), name="x")
    outputs = keras.layers.Dense(2, name="out")(keras.layers.Dense(3, name="hidden")(inputs))
    path = tmp_path / "functional.keras"
    keras.Model(inputs, outputs).save(path)
    safe_load.check_keras_file(path)  # connected: accepted

    def add_loose_layer(config):
        loose = json.loads(json.dumps(config["config"]["layers"][1]))
        loose["name"] = loose["config"]["name"] = "loose"
        loose["inbound_nodes"] = []
        config["config"]["layers"].append(loose)

    rewrite_config(path, add_loose_layer)
    with pytest.raises(safe_load.UnsafeModelFile, match="not connected"):
        safe_load.check_keras_file(path)


def test_a_config_bomb_is_refused_without_reading_it_all(saved):
    with zipfile.ZipFile(saved) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["config.json"] = b'{"a": "' + b" " * (64 * 2**20) + b'"}'  # 64 MiB of spaces, about 64 kB zipped
    with zipfile.ZipFile(saved, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert saved.stat().st_size < 2**20
    with pytest.raises(cache.CacheCorrupt, match="larger than"):
        cache.load_model(saved)


def test_a_zip_with_extra_members_is_refused(saved):
    with zipfile.ZipFile(saved, "a") as archive:
        archive.writestr("../../evil.py", "print('hi')")
    with pytest.raises(cache.CacheCorrupt, match="unexpected zip contents"):
        cache.load_model(saved)


def test_every_committed_model_passes_the_allow_list():
    from conftest import ROOT

    paths = sorted((ROOT / "saved_models").glob("*.keras"))
    assert paths
    for path in paths:
        safe_load.check_keras_file(path)
    np.testing.assert_equal(len(paths), len(set(paths)))
