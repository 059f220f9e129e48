"""Seed 002's run_evaluation and check_answer."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import answers, cache, evaluation, metrics, training  # noqa: E402

RNG = np.random.default_rng(1)
X = RNG.normal(size=(40, 4, 4, 1)).astype(np.float32)
Y = keras.utils.to_categorical(RNG.integers(0, 2, 40), 2)
SPLIT = (X[:30], X[30:], Y[:30], Y[30:])


def build_model():
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_run_evaluation_trains_then_loads(tmp_path, capsys, monkeypatch):
    calls = []
    original = training._original_fit
    monkeypatch.setattr(training, "_original_fit", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    model, history = evaluation.run_evaluation("model_1_1", build_model, SPLIT, tmp_path, epochs=2, batch_size=8)
    out = capsys.readouterr().out
    assert "Success!" in out and "Total params" in out
    assert "min" in out and "max" in out and "val_accuracy" in out
    assert (tmp_path / "saved_models" / "model_1_1.keras").is_file()
    assert len(history["loss"]) == 2 and calls == [1]
    evaluation.run_evaluation("model_1_1", build_model, SPLIT, tmp_path, train=False, epochs=2, batch_size=8)
    assert calls == [1], "train=False only loads"


def test_run_evaluation_with_a_dataset_is_keyed_by_its_data_key(tmp_path, monkeypatch):
    import tensorflow as tf

    stream = tf.data.Dataset.from_tensor_slices((SPLIT[0], SPLIT[2])).batch(10).repeat()
    calls = []
    original = training._original_fit
    monkeypatch.setattr(training, "_original_fit", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))

    def evaluate(key):
        data = (stream, SPLIT[1], SPLIT[3])
        return evaluation.run_evaluation(
            "gen", build_model, data, tmp_path, generator=True, epochs=2, steps_per_epoch=3, data_key=key
        )

    _, history = evaluate("toy stream v1")
    assert len(history["val_loss"]) == 2
    evaluate("toy stream v1")
    evaluate("toy stream v2")
    assert calls == [1, 1], "the same key hits, another key is a miss"
    with pytest.raises(ValueError, match="data_key"):
        evaluate(None)


def test_run_evaluation_raises_on_a_missing_model_when_it_may_not_train(tmp_path, capsys, monkeypatch):
    from helpers.cache import CacheMiss

    with pytest.raises(CacheMiss, match="no cached artifact 'absent'") as info:
        evaluation.run_evaluation("absent", build_model, SPLIT, tmp_path, train=False)
    assert info.value._render_traceback_() == [f"CacheMiss: {info.value}"], "one line in a notebook"
    assert "could not be loaded" in capsys.readouterr().out
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "require")
    with pytest.raises(CacheMiss):
        evaluation.run_evaluation("absent", build_model, SPLIT, tmp_path)


def test_run_evaluation_follows_retrain_mode(tmp_path, monkeypatch):
    calls = []
    original = training._original_fit
    monkeypatch.setattr(training, "_original_fit", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    evaluation.run_evaluation("again", build_model, SPLIT, tmp_path, epochs=1, batch_size=8)
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "retrain")
    evaluation.run_evaluation("again", build_model, SPLIT, tmp_path, epochs=1, batch_size=8)
    assert calls == [1, 1], "retrain mode trains although the model is cached"


@pytest.mark.parametrize("builder", [lambda: None, lambda: "not a model"])
def test_run_evaluation_bad_builder_says_so_and_raises(tmp_path, capsys, builder):
    with pytest.raises(TypeError):
        evaluation.run_evaluation("bad", builder, SPLIT, tmp_path)
    assert "Model is not built correctly" in capsys.readouterr().out


def test_run_evaluation_passes_kwargs_to_builder(tmp_path):
    seen = {}

    def builder(width):
        seen["width"] = width
        return build_model()

    evaluation.run_evaluation("kw", builder, SPLIT, tmp_path, epochs=1, width=7)
    assert seen == {"width": 7}


def test_check_answer_prints_length_and_enforces_limits(capsys):
    answers.check_answer("Accuracy rose to 0.91. It overfits after epoch 12.", max_chars=100, max_sentences=2)
    out = capsys.readouterr().out
    assert out.startswith("Accuracy rose to 0.91. It overfits after epoch 12.\n")
    assert "Answer is 50 characters long (2 sentences)" in out
    answers.check_answer("word " * 60, max_words=60)
    printed = capsys.readouterr().out.splitlines()[:-1]
    assert len(printed) == 3 and max(map(len, printed)) <= 100, "long answers wrap to the page"
    with pytest.raises(ValueError, match="characters"):
        answers.check_answer("x" * 501, max_chars=500)
    with pytest.raises(ValueError, match="sentences"):
        answers.check_answer("One. Two. Three.", max_sentences=2)


def test_check_answer_limits_each_sentence_to_40_words():
    forty = " ".join(["word"] * 39) + " 0.91."
    answers.check_answer(f"{forty} e.g. {forty[:-1]}", max_words=81)  # decimals and e.g. do not end a sentence
    answers.check_answer(f"{forty} {forty}")
    assert answers.sentence_words(f"{forty} Short one.") == [40, 2]
    with pytest.raises(ValueError, match="41 words"):
        answers.check_answer("one " + forty)


def test_takeaways_print_one_bullet_per_point_outside_a_kernel(capsys):
    answers.show_takeaways("First point, " + "long " * 30 + "end.", "Second point.")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("* First point") and lines[-1] == "* Second point."
    assert all(line.startswith("  ") for line in lines[1:-1]), "a wrapped point is indented under its bullet"


@pytest.mark.parametrize(
    "text, n", [("", 0), ("No full stop", 1), ("It is 0.5 here. And e.g. there", 2), ("Why? Because! Yes.", 3)]
)
def test_count_sentences(text, n):
    assert answers.count_sentences(text) == n


def test_runs_table_best_metrics():
    history = {"val_loss": [0.5, 0.3, 0.4], "val_accuracy": [0.8, 0.85, 0.9], "accuracy": [0.7, 0.8, 0.95]}
    table = metrics.runs_table([{"width": 10, "history": history}])
    row = table.iloc[0]
    assert row.best_val_loss == 0.3 and row.best_val_loss_epoch == 2
    assert row.best_val_accuracy == 0.9 and row.best_val_accuracy_epoch == 3
    assert row.final_train_accuracy == 0.95


def test_training_times_reads_each_manifest_in_order(tmp_path):
    for name, epochs in (("second", 2), ("first", 1)):
        training.fit_cached(name, build_model, X, Y, epochs=epochs, batch_size=10, verbose=0, cache_dir=tmp_path)
    table = metrics.training_times(["second", "first"], cache_dir=tmp_path)
    assert list(table.index) == ["second", "first"]
    assert list(table["epochs"]) == [2, 1]
    entry = cache.manifest("second", tmp_path)
    assert table.loc["second", "training time [min]"] == pytest.approx(entry["training_seconds"] / 60)
    assert table.loc["second", "trained at"] == entry["trained_at"][:16].replace("T", " ")
    with pytest.raises(cache.CacheMiss, match="never_trained"):
        metrics.training_times(["first", "never_trained"], cache_dir=tmp_path)
