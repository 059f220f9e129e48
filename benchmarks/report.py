"""Write BENCHMARKS.md: fit-path speed, notebook re-run time and memory, training time, accuracy vs the seeds, grading.

Sections (1), (2)-(3) and (6) run ``fit_path.py``, ``notebooks.py`` and
``grading.py`` on this machine (a quarter of an hour; run it on an otherwise
idle machine); sections (4) and (5) are read from the cache manifests.

Usage::

    python benchmarks/report.py [--skip-measurements]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import cache  # noqa: E402
from helpers.goals import GOALS, SEED_FIGURES  # noqa: E402
from helpers.headlines import read_headlines  # noqa: E402

#: The test-time-augmentation views a goals-table row averages, by count (``helpers.headlines.VIEW_ORDER``).
VIEWS = {1: {}, 2: {"flip": True}, 10: {"flip": True, "shift": 1}}
#: Each goal's data set (its name's first word): as the table names it, and as ``hp.load_dataset`` does.
TASKS = {"mnist": ("MNIST", "mnist"), "fashion": ("Fashion-MNIST", "fashion_mnist")}


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


def measured_accuracy(names: tuple[str, ...], tta: dict, dataset: str) -> float:
    """Test accuracy of the averaged predictions of cached models (each model and view weighs the same)."""
    import numpy as np

    import helpers as hp

    _, (x_test, y_test), _ = hp.load_dataset(dataset, verbose=False, download=False)
    parts = test_predictions(names, tta, hp.rescale_images(x_test))
    return hp.accuracy(np.concatenate(parts).mean(axis=(0, 1)), y_test)


#: The search appendix, left out of the cold-training goal (its 727 minutes chose 08's recipe once).
APPENDIX = "09_fashion_cnn_search"
#: ``benchmarks/cold.py``'s measurements, by notebook.
COLD = ROOT / "benchmarks" / "cold.json"
#: Cold training of the suite without the appendix, in minutes (issue 22's goal).
COLD_GOAL_MINUTES = 120


def training_time_table(entries: dict, cold: dict) -> str:
    """Per notebook: its runs' backend(s), count and summed training time, and its measured cold wall time.

    Args:
        entries: The cache's manifest entries, by name.
        cold: ``benchmarks/cold.py``'s records, by notebook (those measured so far).
    """
    per_notebook: dict[str, list[dict]] = defaultdict(list)
    for entry in entries.values():
        per_notebook[entry.get("notebook", "not recorded")].append(entry)
    rows = [
        "| notebook | trained on | cached runs | training time, summed [min] "
        "| cold run, wall time [min] | cold runs with the committed test metrics |",
        "|---|---|---|---|---|---|",
    ]
    minutes = {}
    for notebook in sorted(per_notebook):
        runs = per_notebook[notebook]
        minutes[notebook] = sum(entry.get("training_seconds", 0.0) for entry in runs) / 60
        backends = ", ".join(sorted({entry.get("versions", {}).get("backend", "not recorded") for entry in runs}))
        measured = cold.get(notebook)
        wall, same = ("-", "-")
        if measured:
            wall = f"{measured['minutes']:.1f} ({measured['measured']})"
            same = f"{measured['same_test_metrics']} of {measured['compared']}"
        rows.append(f"| {notebook} | {backends} | {len(runs)} | {minutes[notebook]:.1f} | {wall} | {same} |")
    core = {nb: cold[nb]["minutes"] if nb in cold else m for nb, m in minutes.items() if nb != APPENDIX}
    met = "met" if sum(core.values()) <= COLD_GOAL_MINUTES else "not met"
    n_measured = sum(notebook in cold for notebook in core)
    rows.append(
        f"| **without the appendix {APPENDIX}** | | | | **{sum(core.values()):.1f}** "
        f"({n_measured} of {len(core)} notebooks measured cold; goal {COLD_GOAL_MINUTES}: {met}) | |"
    )
    rows.append(f"| **total** | | **{len(entries)}** | **{sum(minutes.values()):.1f}** | | |")
    return "\n".join(rows)


class StaleHeadline(SystemExit):
    """A notebook's recorded goals-table accuracy is not what its cache entries give now."""


def headline_table(entries: dict) -> str:
    """The goals tables the notebooks recorded, every accuracy re-measured from the cache.

    Raises:
        StaleHeadline: If a re-measured accuracy differs from the one its notebook showed.
    """
    rows = [
        "| model | notebook | cache entries | test accuracy | seed's figure | goal | goal met |",
        "|---|---|---|---|---|---|---|",
    ]
    for record in read_headlines():
        goal, notebook = record["goal"], record["notebook"]
        task, dataset = TASKS[goal.split("_")[0]]
        seed_figure = SEED_FIGURES.get(goal)
        seed_text = f"{seed_figure:.2%}" if seed_figure else "-"
        for row in record["rows"]:
            names, label = tuple(row["names"]), f"{task}: {row['label']}"
            shown = ", ".join(f"`{name}`" for name in names) + (f" ({row['views']} views)" if row["views"] > 1 else "")
            if any(name not in entries for name in names):
                rows.append(
                    f"| {label} | {notebook} | {shown} | not trained yet | {seed_text} | {GOALS[goal]:.1%} | - |"
                )
                continue
            if len(names) == 1 and row["views"] == 1:
                acc = entries[names[0]]["metrics"]["test"]["accuracy"]
            else:
                acc = measured_accuracy(names, VIEWS[row["views"]], dataset)
            if abs(acc - row["accuracy"]) > 1e-6:
                raise StaleHeadline(
                    f"{notebook} showed {row['accuracy']:.4%} for {row['label']!r}, the cache gives {acc:.4%}: "
                    f"re-run {notebook}"
                )
            met = "yes" if acc >= GOALS[goal] else "no"
            rows.append(f"| {label} | {notebook} | {shown} | {acc:.2%} | {seed_text} | {GOALS[goal]:.1%} | {met} |")
    return "\n".join(rows)


def run_script(script: str, *args: str, out_name: str | None = None, backend: str | None = None) -> str:
    """Run a benchmark script (on Keras' ``backend``, if given) and return the Markdown it wrote."""
    out = ROOT / "benchmarks" / (out_name or f"{Path(script).stem}.md")
    env = {**os.environ, "KERAS_BACKEND": backend} if backend else None
    command = [sys.executable, str(ROOT / "benchmarks" / script), *args, "--out", str(out)]
    subprocess.run(command, check=True, env=env)
    return out.read_text()


def last_measurement(name: str) -> str:
    """A benchmark's last Markdown output, or a note that it was not measured yet."""
    path = ROOT / "benchmarks" / name
    return path.read_text() if path.exists() else "Not measured yet.\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-measurements",
        action="store_true",
        help="reuse the benchmarks/*.md of the last measurements instead of measuring",
    )
    args = parser.parse_args()
    if args.skip_measurements:
        fit_path = (ROOT / "benchmarks" / "fit_path.md").read_text()
        notebooks = (ROOT / "benchmarks" / "notebooks.md").read_text()
        precision = (ROOT / "benchmarks" / "precision.md").read_text()
        backends = last_measurement("backends.md")
        executors = last_measurement("executors.md")
        executors_jax = last_measurement("executors_jax.md")
        grading = last_measurement("grading.md")
    else:
        fit_path = run_script("fit_path.py")
        notebooks = run_script("notebooks.py")
        precision = run_script("precision.py")
        backends = run_script("backends.py")
        executors = run_script("executors.py", backend="tensorflow")
        executors_jax = run_script("executors.py", "--no-dask", out_name="executors_jax.md", backend="jax")
        grading = run_script("grading.py")
    entries = cache.list_entries(ROOT)
    cold = json.loads(COLD.read_text()) if COLD.exists() else {}
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
the same with XLA (`jit_compile=True`), and Keras on JAX.

{backends}
### A sweep on one process or on two worker processes (`benchmarks/executors.py`)

Whether `hp.run_sweep` should spread its runs over worker processes on this
machine: the same sweep, trained from an empty cache in one process, on two
local processes and on a local Dask cluster, with Keras on TensorFlow, then on
JAX. Where two processes win, they are `run_sweep`'s default on that backend
(`helpers.settings.sweep_processes`): on TensorFlow (notebook 04's backend).

{executors}
{executors_jax}
## 2-3. Re-running each notebook from the cache: wall time and peak memory

{notebooks}
## 4. Cold training time

Two measures per notebook. **Summed**: the wall-clock `training_seconds` of its
cached runs, from the manifests, with the Keras backend that trained them.
Notebook 03 was retrained on JAX (its backend since issue 22) on an otherwise
idle machine; many runs of 02, 04-06 and 10 were trained while another notebook
was training on the same 2 cores, so this sum overstates them; the CNNs of 07
and 08 were trained alone on both cores. **Cold run** (`benchmarks/cold.py`):
the whole notebook executed from an empty cache on an otherwise idle machine,
as a student's first run does, with the sweeps and grids on the default
executor (2 worker processes here); training, evaluation and figures included,
and work that is no cached run: 05's keras-tuner search, whose trials the
tuner keeps in its own folder.
Its last column counts the runs it trained whose test metrics are exactly the
committed entry's. The goal row adds the cold run where one was measured and
the sum elsewhere. Goal: the suite without the recipe search behind 08 (the
appendix `{APPENDIX}`) in at most {COLD_GOAL_MINUTES} minutes.

{training_time_table(entries, cold)}

## 5. Headline models on the test sets vs the seeds

The rows are the notebooks' own goals tables (`hp.goals_table`, recorded in
`histories/headlines/`). Single models: the test accuracy recorded in the
manifest when the run finished. Averaged models and test-time augmentation:
re-measured by this script from the test-set predictions the notebooks store
(`histories/predictions/`, keyed by the models' SHA-256), or from the cached
models where none are stored; the script stops if a notebook showed another
number. Ensembles were chosen on the validation set (see notebooks 05, 07 and 08).
The final Fashion-MNIST model (notebook 08) is the recipe the search in
`09_fashion_cnn_search` found: the wide CNN with half its dropout, one network
trained on 48 000 images, predicting over the views chosen on validation.
The search's own best, that network's first run averaged with its copy
retrained on all training images, is listed above it.

{headlines}

## 6. Grading one complete submission (`benchmarks/grading.py`)

`./course.sh grade` on one student who handed in every released notebook: our
solution's nbgrader notebooks and the entries `./course.sh submit` packs from
our cache, one zip per notebook. verify re-measures every handed-in model on the
real data, in one sandboxed process for all of the student's notebooks;
nbgrader's autograde re-executes each notebook in require mode, in the grading
sandbox. It is graded one task at a time, one per core (the default) and on a
local Dask cluster. Goal: at most 5 minutes per complete submission.

{grading}"""
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
