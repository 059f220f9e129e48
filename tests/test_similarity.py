"""Copies between submissions (course/similarity.py): planted copies are found, honest pairs are not."""

from __future__ import annotations

import json

import keras
import nbformat
import numpy as np
import pytest

from course import similarity
from helpers import cache

TEMPLATE = '''def build_cnn(optimizer):
    """A CNN for 28x28 digits."""
    ### BEGIN SOLUTION
    raise NotImplementedError()
    ### END SOLUTION
'''
ORIGINAL = '''def build_cnn(optimizer):
    """A CNN for 28x28 digits."""
    model = keras.Sequential([keras.Input((28, 28, 1))])
    model.add(keras.layers.Conv2D(32, 3, activation="relu"))  # first block
    model.add(keras.layers.MaxPooling2D())
    model.add(keras.layers.Conv2D(64, 3, activation="relu"))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dropout(0.5))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model
'''
RENAMED = '''def build_cnn(optimizer):
    """A CNN for 28x28 digits."""
    net = keras.Sequential([keras.Input((28, 28, 1))])
    # convolutions
    net.add(keras.layers.Conv2D(32, 3, activation="relu"))
    net.add(keras.layers.MaxPooling2D())
    net.add(keras.layers.Conv2D(64, 3, activation="relu"))  # more filters
    net.add(keras.layers.Flatten())
    net.add(keras.layers.Dropout(0.5))
    net.add(keras.layers.Dense(10, activation="softmax"))
    net.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return net
'''
HONEST = '''def build_cnn(optimizer):
    """A CNN for 28x28 digits."""
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(16, 5, padding="same", activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model
'''
ANSWER = (
    "With a learning rate of one the loss jumps between epochs and never settles, while a rate of 0.001 "
    "learns so slowly that fifty epochs are not enough to reach the accuracy of the middle rates."
)
REWORDED = (
    "With a learning rate of one the loss jumps around between epochs and never really settles, while a rate "
    "of 0.001 learns so slowly that 50 epochs are not enough to reach the accuracy of the middle rates."
)
OWN_WORDS = (
    "The largest rate overshoots: training loss oscillates and validation accuracy collapses. The smallest "
    "rate is stable but crawls, still improving when training stops after the fiftieth epoch."
)


def notebook(code: str, answer: str) -> nbformat.NotebookNode:
    def cell(source: str, gid: str):
        c = nbformat.v4.new_code_cell(source)
        c.metadata["nbgrader"] = {"grade_id": gid, "solution": True, "grade": gid.startswith("answer_")}
        return c

    return nbformat.v4.new_notebook(cells=[cell(code, "solution_001"), cell(f'answer_3_2 = "{answer}"', "answer_3_2")])


def test_planted_code_and_answer_copies_are_found_and_honest_pairs_are_not():
    release = notebook(TEMPLATE, "")
    cohort = {
        "s1": notebook(ORIGINAL, ANSWER),
        "s2": notebook(RENAMED, REWORDED),  # renamed variables, other comments, a lightly reworded answer
        "s3": notebook(HONEST, OWN_WORDS),  # the same exercise solved independently
    }
    pairs = similarity.code_and_answer_pairs(cohort, release)
    found = {(p.a, p.b, p.kind) for p in pairs}
    assert found == {("s1", "s2", "code"), ("s1", "s2", "answer")}
    code = next(p for p in pairs if p.kind == "code")
    assert "net.add" in code.evidence[1] and "raise NotImplementedError" not in code.evidence[0], "the template is out"


def test_two_students_who_wrote_the_instructors_solution_are_not_paired_for_it():
    release, solution = notebook(TEMPLATE, ""), notebook(ORIGINAL, "")
    cohort = {"s1": notebook(ORIGINAL, ""), "s2": notebook(RENAMED, ""), "s3": notebook(HONEST, "")}
    assert {(p.a, p.b) for p in similarity.code_and_answer_pairs(cohort, release)} == {("s1", "s2")}
    assert similarity.code_and_answer_pairs(cohort, release, solution) == [], "the exercise asked for that code"
    cohort["s4"] = notebook(HONEST, "")  # a copy of code that is not the instructor's
    assert {(p.a, p.b) for p in similarity.code_and_answer_pairs(cohort, release, solution)} == {("s3", "s4")}


def test_a_two_line_compile_every_student_writes_is_not_a_copy():
    compile_only = 'model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])\n'
    cohort = {s: notebook(compile_only, "") for s in ("s1", "s2")}
    assert similarity.code_and_answer_pairs(cohort, notebook("", "")) == []


def tiny(seed: int, name: str = "dense") -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name=name)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_a_copied_model_matches_after_a_renamed_layer_and_a_resave(tmp_path):
    first = tiny(0)
    first.save(tmp_path / "a.keras")
    renamed = tiny(5, name="my_dense")
    renamed.set_weights(first.get_weights())
    renamed.save(tmp_path / "b.keras")
    other_seed = tiny(1)
    other_seed.save(tmp_path / "c.keras")
    digest = similarity.weights_digest
    assert digest(tmp_path / "a.keras") == digest(tmp_path / "b.keras")
    assert digest(tmp_path / "a.keras") != digest(tmp_path / "c.keras"), "another seed is another model"


def test_copied_results_are_paired_by_hash_under_any_name(tmp_path):
    folders = {s: tmp_path / s for s in ("s1", "s2", "s3")}
    for root in folders.values():
        (root / "saved_models").mkdir(parents=True)
    tiny(0).save(folders["s1"] / "saved_models" / "ex3_adam.keras")
    tiny(0).save(folders["s2"] / "saved_models" / "my_run.keras")  # the same weights under another run's name
    tiny(7).save(folders["s3"] / "saved_models" / "ex3_adam.keras")
    history = {"loss": [0.5, 0.25], "val_accuracy": [0.8, 0.9]}
    cache.dump_history(folders["s1"] / "histories" / "ex3_adam.pkl", history)
    cache.dump_history(folders["s3"] / "histories" / "ex3_adam.pkl", history)
    close = {"loss": [0.5, 0.25], "val_accuracy": [0.8, float(np.nextafter(0.9, 1))]}  # differs in the last digit
    cache.dump_history(folders["s2"] / "histories" / "ex3_adam.pkl", close)
    pairs = similarity.result_pairs({s: similarity.digests(root) for s, root in folders.items()})
    assert {(p.a, p.b, p.kind, p.what) for p in pairs} == {
        ("s1", "s2", "weights", "ex3_adam / my_run"),
        ("s1", "s3", "history", "ex3_adam"),
    }


def test_the_same_result_trained_twice_is_no_copy_but_one_run_handed_in_twice_is(tmp_path):
    history = {"loss": [0.5, 0.25], "val_accuracy": [0.8, 0.9]}  # deterministic training: equal curves
    records = {"s1": ("2026-12-01T10:00:00+00:00", 60.24), "s2": ("2026-12-02T11:30:05+00:00", 61.87)}
    records["s3"] = records["s1"]  # s1's files, manifest and all
    for student, (when, seconds) in records.items():
        cache.dump_history(tmp_path / student / "histories" / "ex3_adam.pkl", history)
        manifest = {"name": "ex3_adam", "trained_at": when, "training_seconds": seconds}
        (tmp_path / student / "histories" / "ex3_adam.json").write_text(json.dumps(manifest))
    pairs = similarity.result_pairs({s: similarity.digests(tmp_path / s) for s in records})
    assert [(p.a, p.b, p.kind) for p in pairs] == [("s1", "s3", "history")], "s2 trained the same run itself"
    assert "trained at 2026-12-01T10:00:00+00:00 in 60.24 s" in pairs[0].evidence[0]


@pytest.mark.parametrize(
    "pairs, groups",
    [
        ([("a", "b"), ("b", "c")], [["a", "b", "c"]]),
        ([("a", "b"), ("c", "d")], [["a", "b"], ["c", "d"]]),
        ([], []),
    ],
)
def test_pairs_join_into_clusters(pairs, groups):
    made = [similarity.Pair(a, b, "code", "x", 100.0, ("", "")) for a, b in pairs]
    assert similarity.clusters(made) == groups
