"""Write BENCHMARKS.md: fit-path speed, notebook re-run time and memory, training time, accuracy vs the seeds.

Sections (1) and (2)-(3) run ``fit_path.py`` and ``notebooks.py`` on this
machine (a few minutes; run it on an otherwise idle machine); sections (4) and
(5) are read from the cache manifests.

Usage::

    python benchmarks/report.py [--skip-measurements]
"""

from __future__ import annotations

import argparse
import functools
import platform
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import cache, reproduce  # noqa: E402
from helpers.goals import GOALS  # noqa: E402

#: Headline models: label, cache entries (several: their predictions are
#: averaged), whether flipped test images are averaged in (test-time
#: augmentation), the seed's figure, and the issue's goal.
NO_TTA: dict = {}
FLIP = {"flip": True}
FLIP_SHIFT = {"flip": True, "shift": 1}
FASHION_CNNS = ("fashion_cnn_tuned", "fashion_cnn_tuned_seed1", "fashion_cnn_wide", "fashion_cnn_wide_seed1")
ALL_DATA_CNNS = (
    "fashion_cnn_wide_all",
    "fashion_cnn_wide_all_seed1",
    "fashion_cnn_wide_all_seed2",
    "fashion_cnn_wide_all_seed3",
)
LOWDROP_CNNS = ("fashion_cnn_lowdrop", "fashion_cnn_lowdrop_all")
# (label, cache entries averaged, test-time augmentation, seed's figure, goal)
HEADLINES = [
    ("MNIST softmax regression", ("ex2_softmax_mnist",), NO_TTA, None, GOALS["mnist_softmax"]),
    ("MNIST 1x128 MLP, Adam", ("ex3_adam",), NO_TTA, None, GOALS["mnist_mlp"]),
    ("MNIST 1x128 MLP, Adam with cosine decay", ("ex3_adam_cosine",), NO_TTA, None, GOALS["mnist_mlp"]),
    (
        "MNIST 1x128 MLP, same, all training images",
        ("ex3_adam_cosine_all_training_data",),
        NO_TTA,
        None,
        GOALS["mnist_mlp"],
    ),
    ("Fashion-MNIST best dense network (tuner)", ("ex5_best_dense",), NO_TTA, 0.8907, GOALS["fashion_dense"]),
    ("Fashion-MNIST best dense, cosine + EMA", ("ex5_best_dense_ema",), NO_TTA, 0.8907, GOALS["fashion_dense"]),
    (
        "Fashion-MNIST best dense, all training images",
        ("ex5_best_dense_all_training_data",),
        NO_TTA,
        0.8907,
        GOALS["fashion_dense"],
    ),
    ("MNIST CNN, no augmentation", ("mnist_cnn_noaug",), NO_TTA, 0.9911, GOALS["mnist_cnn"]),
    ("MNIST CNN, augmentation", ("mnist_cnn_aug",), NO_TTA, 0.9911, GOALS["mnist_cnn"]),
    ("MNIST best CNN: both averaged", ("mnist_cnn_noaug", "mnist_cnn_aug"), NO_TTA, 0.9911, GOALS["mnist_cnn"]),
    ("Fashion-MNIST tuned CNN", ("fashion_cnn_tuned",), NO_TTA, 0.93, GOALS["fashion_cnn"]),
    ("Fashion-MNIST tuned CNN + flip test-time augmentation", ("fashion_cnn_tuned",), FLIP, 0.93, GOALS["fashion_cnn"]),
    ("Fashion-MNIST wide CNN (bfloat16)", ("fashion_cnn_wide",), NO_TTA, 0.93, GOALS["fashion_cnn"]),
    (
        "Fashion-MNIST two tuned CNNs + flip TTA",
        ("fashion_cnn_tuned", "fashion_cnn_tuned_seed1"),
        FLIP,
        0.93,
        GOALS["fashion_cnn"],
    ),
    (
        "Fashion-MNIST four CNNs + flip and shift TTA (chosen on validation)",
        FASHION_CNNS,
        FLIP_SHIFT,
        0.93,
        GOALS["fashion_cnn"],
    ),
    ("Fashion-MNIST wide CNN, all training images", ("fashion_cnn_wide_all",), NO_TTA, 0.93, GOALS["fashion_cnn"]),
    (
        "Fashion-MNIST eight wide-recipe CNNs (four on all training images) + flip and shift TTA",
        FASHION_CNNS + ALL_DATA_CNNS,
        FLIP_SHIFT,
        0.93,
        GOALS["fashion_cnn"],
    ),
    ("Fashion-MNIST low-dropout wide CNN", ("fashion_cnn_lowdrop",), NO_TTA, 0.93, GOALS["fashion_cnn"]),
    (
        "Fashion-MNIST low-dropout wide CNN, all training images",
        ("fashion_cnn_lowdrop_all",),
        NO_TTA,
        0.93,
        GOALS["fashion_cnn"],
    ),
    (
        "Fashion-MNIST search's best: two low-dropout CNNs (one on all training images) + flip and shift TTA",
        LOWDROP_CNNS,
        FLIP_SHIFT,
        0.93,
        GOALS["fashion_cnn"],
    ),
    ("Fashion-MNIST final tuned CNN", ("fashion_cnn_final",), NO_TTA, 0.93, GOALS["fashion_cnn"]),
    (
        "Fashion-MNIST final tuned CNN + flip and shift TTA",
        ("fashion_cnn_final",),
        FLIP_SHIFT,
        0.93,
        GOALS["fashion_cnn"],
    ),
]


def views_prefix(wanted: dict, stored: dict) -> bool:
    """Whether the views ``wanted`` are the first views of ``stored`` (see ``helpers.tta_views``)."""
    if not wanted:
        return True
    return bool(wanted.get("flip")) == bool(stored.get("flip")) and wanted.get("shift", 0) in (
        0,
        stored.get("shift", 0),
    )


def test_predictions(names: tuple[str, ...], tta: dict, x_test) -> list:
    """Predictions ``(members, views, n, classes)`` per prediction cache holding some of ``names``.

    The notebooks' stored predictions of ``x_test`` are found by
    ``helpers.stored_predictions`` and read in require-cache mode, so a stored
    file is never rewritten. Names found in no valid file are predicted from
    their models.
    """
    import helpers as hp

    hp.set_cache_mode("require")
    views = hp.tta_view_count(**tta)
    parts, found = [], set()
    for cache_name, cached_names, stored_tta in hp.stored_predictions(x_test):
        members = [cached_names.index(name) for name in names if name in cached_names and name not in found]
        if members and views_prefix(tta, stored_tta):
            stored = hp.cached_predictions(cache_name, list(cached_names), x_test, **stored_tta)
            parts.append(stored[members, :views])
            found.update(cached_names[i] for i in members)
    rest = [name for name in names if name not in found]
    if rest:
        parts.append(hp.member_predictions([cache.load_cached(name)[0] for name in rest], x_test, **tta))
    return parts


def measured_accuracy(names: tuple[str, ...], tta: dict) -> float:
    """Test accuracy of the averaged predictions of cached models (each model and view weighs the same)."""
    import numpy as np

    import helpers as hp

    dataset = "fashion_mnist" if names[0].startswith(("ex5_", "fashion")) else "mnist"
    _, (x_test, y_test), _ = hp.load_dataset(dataset, verbose=False, download=False)
    parts = test_predictions(names, tta, hp.rescale_images(x_test))
    return hp.accuracy(np.concatenate(parts).mean(axis=(0, 1)), y_test)


def notebook_of(name: str) -> str:
    """The notebook that trains an entry, read from the notebook sources' training calls."""
    return reproduce.notebook_for(name, _training_sources()) or "other"


@functools.cache
def _training_sources() -> dict[str, set[str]]:
    sources = sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))
    return {p.stem: reproduce.trained_names(p.read_text()) for p in sources}


def training_time_table(entries: dict) -> str:
    per_notebook: dict[str, list[float]] = defaultdict(list)
    for name, entry in entries.items():
        per_notebook[notebook_of(name)].append(entry.get("training_seconds", 0.0))
    rows = ["| notebook | cached runs | cold training time [min] |", "|---|---|---|"]
    for notebook in sorted(per_notebook):
        times = per_notebook[notebook]
        rows.append(f"| {notebook} | {len(times)} | {sum(times) / 60:.1f} |")
    total = sum(sum(t) for t in per_notebook.values())
    rows.append(f"| **total** | **{len(entries)}** | **{total / 60:.1f}** |")
    return "\n".join(rows)


def headline_table(entries: dict) -> str:
    rows = [
        "| model | notebook | cache entries | test accuracy | seed's figure | goal | goal met |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, names, tta, seed_figure, goal in HEADLINES:
        seed_text = f"{seed_figure:.2%}" if seed_figure else "-"
        shown = ", ".join(f"`{name}`" for name in names)
        notebook = " + ".join(dict.fromkeys(notebook_of(name) for name in names))
        if any(name not in entries for name in names):
            rows.append(f"| {label} | {notebook} | {shown} | not trained yet | {seed_text} | {goal:.1%} | - |")
            continue
        if len(names) == 1 and not tta:
            acc = entries[names[0]].get("metrics", {}).get("test", {}).get("accuracy")
        else:
            acc = measured_accuracy(names, tta)
        met = "yes" if acc >= goal else "no"
        rows.append(f"| {label} | {notebook} | {shown} | {acc:.2%} | {seed_text} | {goal:.1%} | {met} |")
    return "\n".join(rows)


def run_script(script: str, *args: str) -> str:
    out = ROOT / "benchmarks" / f"{Path(script).stem}.md"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args, "--out", str(out)], check=True)
    return out.read_text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-measurements",
        action="store_true",
        help="reuse benchmarks/fit_path.md, backends.md, notebooks.md and precision.md instead of measuring",
    )
    args = parser.parse_args()
    if args.skip_measurements:
        fit_path = (ROOT / "benchmarks" / "fit_path.md").read_text()
        notebooks = (ROOT / "benchmarks" / "notebooks.md").read_text()
        precision = (ROOT / "benchmarks" / "precision.md").read_text()
        backends_path = ROOT / "benchmarks" / "backends.md"
        backends = backends_path.read_text() if backends_path.exists() else "Not measured yet.\n"
    else:
        fit_path = run_script("fit_path.py")
        notebooks = run_script("notebooks.py")
        precision = run_script("precision.py")
        backends = run_script("backends.py")
    entries = cache.list_entries(ROOT)
    headlines = headline_table(entries)
    text = f"""# Benchmarks

Measured on {platform.machine()} with {platform.processor() or "an unnamed CPU"}, Python {platform.python_version()};
regenerate with `.venv/bin/python benchmarks/report.py` on an idle machine.

## 1. Fit path: helpers' `fit_cached` vs plain `model.fit`

{fit_path}
### Mixed precision: float32 vs bfloat16 (`benchmarks/precision.py`)

Why notebook 08's tuned Fashion-MNIST CNN computes in bfloat16.

{precision}
### Four Keras paths side by side (`benchmarks/backends.py`)

Which path trains each model family fastest on this machine (issue 22): plain
TensorFlow `fit`, TensorFlow with `steps_per_execution=32` (the helpers' path),
the same with XLA (`jit_compile=True`), and Keras on JAX (run when JAX is
installed; it is not a requirement of the suite yet).

{backends}
## 2-3. Re-running each notebook from the cache: wall time and peak memory

{notebooks}
Goals: notebooks 02-04 together under 90 s, the CNN notebooks 06-08 together
under 90 s, 10 and 11 together under 60 s, every notebook under 4 GB.

## 4. Cold training time, summed from the manifests

Wall-clock `training_seconds` of every cached run. Many runs were trained while
another notebook was training on the same 2 cores, so on an idle machine they
take up to half as long. The CNNs of notebooks 07 and 08 (the MNIST pair,
the naive Fashion-MNIST CNN, its three one-regularizer variants and the tuned
CNN) were trained alone on both cores. Goal: the CNN notebooks 06-08 in about
2 hours; the recipe search behind 08 is the appendix `09_fashion_cnn_search`.

{training_time_table(entries)}

## 5. Headline models on the test sets vs the seeds

Single models: the test accuracy recorded in the manifest when the run
finished. Averaged models and test-time augmentation: measured by this script
from the test-set predictions notebooks 07 and 08 store (`histories/predictions/`,
keyed by the models' SHA-256), or from the cached models where none are
stored. Ensembles were chosen on the validation set (see notebooks 05, 07 and 08).
The final Fashion-MNIST model (notebook 08) is the recipe the search in
`09_fashion_cnn_search` found: the wide CNN with half its dropout, one network
trained on 48 000 images, predicting over the views chosen on validation.
The search's own best, that network's first run averaged with its copy
retrained on all training images, is listed above it.

{headlines}
"""
    (ROOT / "BENCHMARKS.md").write_text(text)
    write_readme_results(headlines)
    print(text)
    return 0


README_START, README_END = "<!-- results table: written by benchmarks/report.py -->", "<!-- end of results table -->"


def write_readme_results(table: str, readme: Path = ROOT / "README.md") -> None:
    """Put the headline table into the README between its markers (one source: the manifests)."""
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(text[:start] + "\n" + table + "\n" + text[end:])


if __name__ == "__main__":
    sys.exit(main())
