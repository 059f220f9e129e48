"""``./course.sh similarity`` on a cohort of 8 made from 03's release: every planted copy found, no honest pair.

* s1001 our solution, trained at smoke size (the shared ``trained_student``);
* s1002 and s1003 honest: their own code, seeds and wording, each trained;
* s1004 an exact copy of s1002's zip;
* s1005 s1002's notebook with renamed variables, its cells reordered and other comments;
* s1006 a notebook of its own, handing in s1003's trained runs (files and manifests);
* s1007 the blank release with s1003's answer to 3.2 lightly reworded;
* s1008 the blank release.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SHARED_DATA, environment, have_real_data

sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import project_client  # noqa: E402

NAME = "03_optimizers"
pytestmark = [pytest.mark.notebooks, pytest.mark.skipif(not have_real_data(), reason="offline datasets not present")]

HONEST = {
    "s1002": {
        "solution_009": """
layers = [
    keras.Input(shape=(784,)),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
]
network = keras.Sequential(layers, name="mlp_128")
network.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
return network""",
        "solution_016": """
outcome = hp.fit_cached(
    sgd_name,
    lambda: make_mlp_128(keras.optimizers.SGD(learning_rate=lr)),
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=epochs,
    batch_size=batch_size,
    seed=1,
    callbacks=[keep_best_weights(epochs)],
    return_model=False,
    exercise="3.2",
)
sgd_histories[lr] = outcome[1]""",
        "answer_3_2": 'answer_3_2 = "At a learning rate of 1 the updates overshoot, so the loss bounces and validation '
        'accuracy drops sharply; at 0.001 progress is smooth but far too slow within fifty epochs."',
        "solution_024": """
adam_model, adam_history = hp.fit_cached(
    adam_name,
    lambda: make_mlp_128(keras.optimizers.Adam()),
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=epochs,
    batch_size=batch_size,
    seed=1,
    callbacks=[keep_best_weights(epochs)],
    exercise="3.3",
)""",
        "plot_sgd_adam": 'hp.plot_histories({"SGD": sgd_histories[good_lr], "Adam": adam_history}, title="SGD, Adam")',
        "answer_3_5": 'answer_3_5 = "Adam reaches a high validation accuracy after the first epoch, yet its '
        "validation loss starts rising after a few epochs because the model grows overconfident on the digits "
        "it gets wrong. "
        'On the test set both optimizers end up close."',
        "solution_034": """
scores = adam_model.predict(x_test, verbose=0)
misclassified = np.where(scores.argmax(axis=-1) != y_test_labels)[0]""",
        "solution_038": "y_train_noisy, redrawn = hp.corrupt_labels(y_train, 0.2, seed=11)",
        "answer_3_7": 'answer_3_7 = "Yes: with a fifth of the labels wrong the network first learns the true pattern, '
        'then memorises the noise, so validation accuracy peaks early and then declines."',
    },
    "s1003": {
        "solution_009": """
mlp = hp.build_mlp(784, [128], num_classes=10, name="mlp_128")
mlp.compile(loss="categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
return mlp""",
        "solution_016": """
settings = dict(mlp_fit, seed=2)
history = hp.fit_cached(sgd_name, lambda: make_mlp_128(keras.optimizers.SGD(lr)), x_train, y_train,
                        return_model=False, callbacks=[keep_best_weights(epochs)], exercise="3.2", **settings)[1]
sgd_histories[lr] = history""",
        "answer_3_2": 'answer_3_2 = "Too large a step (1.0) makes gradient descent diverge back and forth with no '
        "stable minimum, whereas the tiny step (0.001) converges steadily but remains under-trained after the "
        'budgeted epochs."',
        "solution_024": """
settings = dict(mlp_fit, seed=2)
adam_model, adam_history = hp.fit_cached(adam_name, lambda: make_mlp_128(keras.optimizers.Adam(learning_rate=0.001)),
                                         x_train, y_train, callbacks=[keep_best_weights(epochs)], exercise="3.3",
                                         **settings)""",
        "plot_sgd_adam": 'hp.plot_histories({"SGD, lr " + str(good_lr): sgd_histories[good_lr], "Adam": adam_history})',
        "answer_3_5": 'answer_3_5 = "The loss curve on validation data turns upward while accuracy flattens, which '
        "means predictions grow more confident, including the wrong ones, and accuracy ignores confidence. Adam "
        'learns quicker than SGD but overfits earlier."',
        "solution_034": """
adam_predictions = np.argmax(adam_model.predict(x_test, verbose=0), axis=1)
misclassified = np.nonzero(adam_predictions - y_test_labels)[0]""",
        "solution_038": "y_train_noisy, redrawn = hp.corrupt_labels(y_train, 0.2, seed=22)",
        "answer_3_7": 'answer_3_7 = "Overfitting is clear with noisy labels: training accuracy keeps climbing as the '
        'model fits random labels, while validation accuracy falls after its early maximum."',
    },
    "s1006": {
        "solution_009": """
inputs = keras.Input(shape=(784,))
hidden = keras.layers.Dense(128, activation="relu")(inputs)
outputs = keras.layers.Dense(10, activation="softmax")(hidden)
model = keras.Model(inputs, outputs, name="mlp_128")
model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
return model""",
        "solution_016": """
sgd_histories[lr] = hp.fit_cached(sgd_name, lambda: make_mlp_128(keras.optimizers.SGD(learning_rate=lr)),
                                  x_train, y_train, return_model=False, exercise="3.2",
                                  callbacks=[keep_best_weights(epochs)], **{**mlp_fit, "seed": 3})[1]""",
        "answer_3_2": 'answer_3_2 = "Learning rate one is unstable because every update jumps past the minimum; '
        'learning rate 0.001 is stable yet learns so little per epoch that fifty epochs do not suffice."',
    },
}
REWORDED_3_2 = (  # s1003's answer, lightly reworded by s1007
    'answer_3_2 = "A too large step of 1.0 makes gradient descent diverge back and forth without a stable minimum, '
    'while the very small step of 0.001 converges steadily but stays under-trained after the epochs budgeted."'
)


def fill(blank: nbformat.NotebookNode, code: dict[str, str]) -> nbformat.NotebookNode:
    """The release's notebook with a student's code in place of each ``raise NotImplementedError()`` they answer."""
    nb = nbformat.from_dict(blank)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in code:
            match = re.search(r"^( *)# YOUR CODE HERE\n *raise NotImplementedError\(\)", cell.source, re.MULTILINE)
            indent = match.group(1)
            written = "\n".join(indent + line for line in code[gid].strip("\n").splitlines())
            cell.source = cell.source[: match.start()] + written + cell.source[match.end() :]
    return nb


def renamed(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """s1002's notebook disguised: names changed, comments changed, two solution cells swapped."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            for old, new in (("network", "net"), ("outcome", "result"), ("scores", "probs"), ("layers = ", "stack = ")):
                cell.source = cell.source.replace(old, new)
            cell.source = cell.source.replace("[keras.Input", "[keras.Input").replace("layers, name", "stack, name")
            cell.source = re.sub(r"#.*", "# my own work", cell.source)
    index = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb.cells)}
    a, b = index["solution_034"], index["solution_038"]
    nb.cells[a], nb.cells[b] = nb.cells[b], nb.cells[a]
    return nb


def train(folder: Path, nb: nbformat.NotebookNode) -> None:
    """Run the student's notebook at smoke size into their own cache (as ``trained_student`` does)."""
    env = {
        "IMGCLS_DATA_DIR": str(SHARED_DATA),
        "IMGCLS_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "IMGCLS_SMOKE": "1",
        "IMGCLS_CACHE_MODE": "train",  # whatever an earlier test of this process left set
        "IMGCLS_CACHE_DIR": str(folder),
        "IMGCLS_PARTIAL_DIR": str(folder / ".cache" / "partial"),
    }
    with environment(**env), project_client(nb, folder / "notebooks", notebook=NAME, timeout=900) as client:
        client.allow_errors = True
        client.execute()
    nbformat.write(nb, folder / "notebooks" / f"{NAME}.ipynb")
    failed = [f"{o['ename']}: {o['evalue']}" for c in nb.cells for o in c.get("outputs", []) if "ename" in o]
    assert list((folder / "saved_models").glob("*.keras")), f"the student trained nothing: {failed[:3]}"


def pack(folder: Path, target: Path, entries_from: Path | None = None) -> None:
    """A submission zip: the notebook and the cache (``entries_from``'s cache instead, when given)."""
    cache_root = entries_from or folder
    with zipfile.ZipFile(target, "w") as archive:
        archive.write(folder / "notebooks" / f"{NAME}.ipynb", f"notebooks/{NAME}.ipynb")
        for sub in ("saved_models", "histories"):
            for path in sorted((cache_root / sub).glob("*")):
                if path.is_file() and path.name != ".keep":
                    archive.write(path, f"{sub}/{path.name}")


@pytest.fixture(scope="module")
def copies(releases, trained_student, tmp_path_factory):
    base = tmp_path_factory.mktemp("copies")
    built = releases(NAME)
    blank = nbformat.read(built / "notebooks" / f"{NAME}.ipynb", as_version=4)
    subs = base / "submissions"
    subs.mkdir()
    pack(trained_student.folder, subs / "s1001_submission.zip")
    folders = {}
    for student in ("s1002", "s1003", "s1006", "s1007", "s1008"):
        folders[student] = base / student / NAME
        shutil.copytree(built, folders[student], symlinks=True)
    for student in ("s1002", "s1003"):
        train(folders[student], fill(blank, HONEST[student]))
        pack(folders[student], subs / f"{student}_submission.zip")
    shutil.copy2(subs / "s1002_submission.zip", subs / "s1004_submission.zip")
    disguised = base / "s1005" / NAME
    shutil.copytree(folders["s1002"], disguised, symlinks=True)
    nbformat.write(
        renamed(nbformat.read(folders["s1002"] / "notebooks" / f"{NAME}.ipynb", 4)),
        disguised / "notebooks" / f"{NAME}.ipynb",
    )
    for sub in ("saved_models", "histories"):  # its notebook only: found by its code
        shutil.rmtree(disguised / sub)
        (disguised / sub).mkdir()
    pack(disguised, subs / "s1005_submission.zip")
    nbformat.write(fill(blank, HONEST["s1006"]), folders["s1006"] / "notebooks" / f"{NAME}.ipynb")
    pack(folders["s1006"], subs / "s1006_submission.zip", entries_from=folders["s1003"])
    nbformat.write(fill(blank, {"answer_3_2": REWORDED_3_2}), folders["s1007"] / "notebooks" / f"{NAME}.ipynb")
    pack(folders["s1007"], subs / "s1007_submission.zip")
    pack(folders["s1008"], subs / "s1008_submission.zip")
    out = base / "out"
    done = subprocess.run(
        [str(ROOT / "course.sh"), "similarity", str(subs), "--out", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    page = (out / "similarity.html").read_text()
    rows = re.findall(r"<tr><td>(s\d+)</td><td>(s\d+)</td><td>(\w+)</td>", page)
    return {"pairs": {(a, b, kind) for a, b, kind in rows}, "page": page}


def test_every_planted_copy_is_found(copies):
    pairs = {(a, b) for a, b, _ in copies["pairs"]}
    assert ("s1002", "s1004") in pairs, "an exact copy"
    assert {("s1002", "s1005"), ("s1004", "s1005")} <= pairs, "renamed variables, reordered cells, other comments"
    assert ("s1003", "s1006", "weights") in copies["pairs"], "another student's trained model under one's own notebook"
    assert ("s1003", "s1006", "history") in copies["pairs"]
    assert ("s1003", "s1007", "answer") in copies["pairs"], "a copied answer, lightly reworded"
    assert "code" in {kind for a, b, kind in copies["pairs"] if (a, b) == ("s1002", "s1005")}, "found by its code"


def test_no_honest_pair_is_flagged(copies):
    planted = {("s1002", "s1004"), ("s1002", "s1005"), ("s1004", "s1005"), ("s1003", "s1006"), ("s1003", "s1007")}
    honest = {(a, b) for a, b, _ in copies["pairs"]} - planted
    assert honest == set(), "students who solved it on their own, with their own seeds and words, are not paired"
