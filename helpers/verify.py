"""Verify every cached artifact: files, safe loading, fingerprints and metrics.

For each manifest entry in the cache this checks that

1. the entry is in the committed index (``histories/index.json``) and every
   indexed entry is present, so a deleted entry fails,
2. the model and history files exist and match their recorded SHA-256,
3. both load safely (restricted unpickler, allow-listed ``.keras`` config),
4. the loaded model's architecture and compile settings give the recorded
   fingerprint, and the recorded ``final`` and ``best`` metrics are exactly
   those of the history,
5. the model, re-evaluated on the validation and test data it records (found by
   fingerprint among the suite's standard preparations), gives the recorded
   accuracy within ``TOLERANCE``; data that cannot be re-created is a failure,
   never a silent pass,
6. its test accuracy is not significantly above its validation accuracy
   (a model that saw the test set), and the model's validation accuracy is
   that of an epoch of its history (history and model belong together), and
7. every stored prediction cache matches its models on a stratified sample.

Run ``python -m helpers.verify`` (or ``./verify.sh``); it prints one table and
exits with status 1 if any row is not OK. A malformed entry is one FAIL row;
verify itself never crashes on the cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from helpers import cache, fingerprint, prepare, settings
from helpers.data import DatasetUnavailable, load_dataset

# Re-evaluating a stored model on the same data with the same library versions gives the recorded
# accuracy again, except that a bfloat16 model may flip one image: measured on the committed cache, the
# largest difference is one test image of 10 000 (09's wide CNN on all images: 0.9404 recorded, 0.9403
# re-measured, 1.00017e-4 apart as float32). So: one image of 10 000, plus float32 rounding.
TOLERANCE = 1.5e-4
INDEX = Path("histories") / "index.json"
SAMPLE_PER_CLASS = 20  # images per class re-predicted for each prediction cache
# Probabilities. float32 models re-predict a sample to round-off (measured: at most 3.6e-7). bfloat16
# models (8-bit mantissa, relative precision 2**-8 = 3.9e-3) give slightly different probabilities when
# the images are batched differently: measured on the committed caches over three random samples, up to
# 2.3e-3 (fashion_lowdrop_test). So 1e-2 for them; turning a wrong prediction into a right one moves
# probabilities by far more, except for images already within 1e-2 of the decision.
PREDICTION_TOLERANCE = {"float32": 1e-4, "bfloat16": 1e-2}
#: A number verify shows but cannot re-measure by design (no model file, or a student's own class): said, not failed.
UNMEASURED = "UNMEASURED"
PASSING = {"OK", UNMEASURED}


@dataclass
class Row:
    """One line of the verification table."""

    name: str
    metric: str = ""
    recorded: float | None = None
    measured: float | None = None
    status: str = "OK"
    detail: str = ""


def _to_100x100_rgb(images: np.ndarray) -> np.ndarray:
    """Notebook 06's warm-up input: MNIST digits resized to 100x100 and copied into three channels."""
    import tensorflow as tf

    return np.repeat(tf.image.resize(images, (100, 100)).numpy(), 3, axis=-1)


def _derived_splits(label: str, x: np.ndarray, y: np.ndarray) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """The variations of a standard split that notebooks train on (noisy inputs, resized subsets)."""
    if label == "fashion_mnist flat validation":  # notebook 04, Exercise 4.4
        yield f"{label} + Gaussian noise (variance 0.1, seed 1)", prepare.add_gaussian_noise(x, 0.1, seed=1), y
    if label == "mnist images validation":  # notebook 06, the seed 001 warm-up
        for n in (500, 64):
            yield f"{label}, first {n} at 100x100 RGB", _to_100x100_rgb(x[:n]), y[:n]


def standard_splits() -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """The suite's standard validation and test arrays, as the notebooks prepare them."""
    preparations: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "flat": prepare.flatten_rescale,
        "images": prepare.rescale_images,
    }
    for dataset in ("mnist", "fashion_mnist"):
        try:
            (x_full, y_full), (x_test, y_test), _ = load_dataset(dataset, verbose=False, download=False)
        except DatasetUnavailable:
            continue
        for prep_name, prep in preparations.items():
            (_, _), (x_val, y_val) = prepare.train_val_split(prep(x_full), prepare.one_hot(y_full), seed=0)
            label = f"{dataset} {prep_name} validation"
            yield label, x_val, y_val
            yield from _derived_splits(label, x_val, y_val)
            yield f"{dataset} {prep_name} test", prep(x_test), prepare.one_hot(y_test)


class DataIndex:
    """Finds arrays by content fingerprint among the standard splits (built lazily)."""

    def __init__(self) -> None:
        self._index: dict[tuple[str, str], tuple[str, np.ndarray, np.ndarray]] | None = None

    def _build(self) -> dict[tuple[str, str], tuple[str, np.ndarray, np.ndarray]]:
        if self._index is None:
            self._index = {
                (fingerprint.array_fingerprint(x), fingerprint.array_fingerprint(y)): (label, x, y)
                for label, x, y in standard_splits()
            }
        return self._index

    def find(self, fingerprints: Any) -> tuple[str, np.ndarray, np.ndarray] | None:
        if not isinstance(fingerprints, list) or len(fingerprints) != 2:
            return None
        return self._build().get((fingerprints[0], fingerprints[1]))

    def find_images(self, images_fingerprint: str) -> tuple[str, np.ndarray, np.ndarray] | None:
        """A standard split whose inputs have this fingerprint."""
        return next((v for (fx, _), v in self._build().items() if fx == images_fingerprint), None)

    def why_missing(self) -> str:
        """One line: why recorded data was not found, and how to get it."""
        if not self._build():
            return "no dataset available to re-measure on: set IMGCLS_DATA_DIR to the MNIST/Fashion-MNIST folder"
        return "the recorded data is none of the suite's standard splits, so this number cannot be re-measured"


def _candidates_val_accuracy(entry: dict, history: dict) -> list[float]:
    """Validation accuracies the saved weights may correspond to."""
    saved = entry.get("metrics", {}).get("saved_model_val", {}).get("accuracy")
    if saved is not None:
        return [saved]
    acc, loss = history.get("val_accuracy", []), history.get("val_loss", [])
    if not acc:
        return []
    return [acc[-1], max(acc)] + ([acc[int(np.argmin(loss))]] if loss else [])


def _history_problem(entry: dict, history: dict) -> str:
    """Why the history disagrees with its manifest entry ('' when it agrees)."""
    from helpers.training import summarize_history

    recorded = entry.get("metrics", {})
    actual = summarize_history(history)
    for part in ("final", "best"):
        if recorded.get(part, {}) != {k: v for k, v in actual[part].items() if k in recorded.get(part, {})}:
            return f"history does not match the recorded {part} metrics"
        if set(recorded.get(part, {})) != set(actual[part]):
            return f"the recorded {part} metrics name other curves than the history has"
    if len(history.get("loss", [])) != entry.get("epochs_run"):
        return "history length does not match the recorded epochs"
    return ""


#: Callbacks that never stop training early; with any other (unknown) one a short history cannot be judged.
NON_STOPPING = {"SwapEMAWeights", "ReduceLROnPlateau", "LearningRateScheduler", "ModelCheckpoint", "CSVLogger"}


def _early_stop(config: dict, curve: list[float]) -> int | None:
    """The epoch at which Keras' own EarlyStopping, configured as recorded, stops on this curve (None: never)."""
    import types

    import keras

    args = {k: v for k, v in config.items() if k != "class"}
    callback = keras.callbacks.EarlyStopping(**{**args, "restore_best_weights": False})
    holder = types.SimpleNamespace(stop_training=False)
    callback.set_model(holder)
    callback.on_train_begin()
    for epoch, value in enumerate(curve):
        callback.on_epoch_end(epoch, {callback.monitor: value})
        if holder.stop_training:
            return epoch + 1
    return None


def _length_problem(entry: dict, history: dict) -> str:
    """Why the history's length is not what the run's key and early stopping make it ('' when it is)."""
    spec = entry.get("spec", {})
    asked, run = spec.get("fit", {}).get("epochs"), len(history.get("loss", []))
    callbacks = spec.get("callbacks", [])
    if not isinstance(asked, int) or any(c.get("class") not in NON_STOPPING | {"EarlyStopping"} for c in callbacks):
        return ""
    stops = [c for c in callbacks if c.get("class") == "EarlyStopping"]
    expected = asked
    if len(stops) == 1:
        try:
            expected = min(asked, _early_stop(stops[0], history.get(stops[0].get("monitor"), [])) or asked)
        except (TypeError, ValueError):  # a config Keras will not take: not ours to judge
            return ""
    if run != expected:
        how = "its early stopping would stop it at epoch" if expected < asked else "its key asks for"
        return f"the history has {run} epochs, but {how} {expected}: it is not the run its key describes"
    return ""


def _steps_problem(entry: dict, model: Any) -> str:
    """Why the model's optimizer took another number of steps than its epochs make ('' when it did not)."""
    fit = entry.get("spec", {}).get("fit", {})
    shape = entry.get("data", {}).get("x")
    per_epoch = fit.get("steps_per_epoch")
    if not per_epoch and isinstance(shape, list) and shape and fit.get("batch_size"):
        per_epoch = -(-int(shape[0]) // int(fit["batch_size"]))
    optimizer = getattr(model, "optimizer", None)
    if not per_epoch or optimizer is None:
        return ""
    epochs = int(entry.get("epochs_run", 0))
    expected, took = epochs * int(per_epoch), int(optimizer.iterations.numpy())
    if took != expected:
        return f"the model's optimizer took {took} steps; {epochs} epochs of {per_epoch} make {expected}"
    return ""


def _test_above_validation(name: str, entry: dict, val_accuracy: float | None) -> Row | None:
    """A FAIL row when test accuracy beats validation accuracy by more than 4 standard errors."""
    test = entry.get("metrics", {}).get("test", {}).get("accuracy")
    shapes = entry.get("data", {})
    try:
        n_test, n_val = shapes["test"][0][0], shapes["validation"][0][0]
    except (KeyError, IndexError, TypeError):
        return None
    if test is None or val_accuracy is None:
        return None
    p = (test + val_accuracy) / 2
    se = float(np.sqrt(max(p * (1 - p), 1e-6) * (1 / n_test + 1 / n_val)))
    if test - val_accuracy > 4 * se:
        return Row(
            name,
            "test - val",
            val_accuracy,
            test,
            "ANOMALY",
            f"test accuracy {test:.4f} is {(test - val_accuracy) / se:.1f} standard errors above validation: "
            "was the test set used for training or selection?",
        )
    return None


def _history_disagrees(name: str, history: dict, measured_val: float) -> list[Row]:
    """An ANOMALY row when the model's validation accuracy is that of no epoch of its history.

    The stored weights are those of some epoch (the last, or the best one restored
    by early stopping), so their validation accuracy appears in the history; on
    the committed cache it does, to the last digit, for all 36 entries that record
    it. A forged history with honest weights (or the reverse) breaks this.
    """
    curve = history.get("val_accuracy") or []
    if not curve:
        return []
    gaps = np.abs(np.asarray(curve, dtype=float) - measured_val)
    if gaps.min() <= TOLERANCE:
        return []
    closest = float(curve[int(gaps.argmin())])
    detail = "the model's validation accuracy is that of no epoch of its history: they do not belong together"
    return [Row(name, "history/model", closest, measured_val, "ANOMALY", detail)]


def verify_entry(name: str, entry: dict, data: DataIndex, store: cache.Cache) -> list[Row]:
    """Check one entry of ``store``; return its table rows."""
    problems = store.damaged(name, entry)
    if problems:
        status = "MISSING" if any("missing" in p for p in problems) else "CORRUPT"
        return [Row(name, status=status, detail="; ".join(problems))]
    p = store.paths(name)
    try:
        history = cache.load_history(p["history"])
        model = cache.load_model(p["model"]) if cache.model_stored(entry) else None
    except cache.CustomObjectRefused as err:  # a student's own layer: their notebook's kernel loads it in autograde
        return [Row(name, status=UNMEASURED, detail=f"{err}; not re-measured here (its notebook loads it)")]
    except cache.CacheCorrupt as err:
        return [Row(name, status="CORRUPT", detail=str(err))]
    spec = entry.get("spec", {})
    problem = _history_problem(entry, history)
    if problem:
        return [Row(name, status="STALE", detail=problem)]
    length = _length_problem(entry, history)
    if length:
        return [Row(name, "epochs", None, None, "ANOMALY", length)]
    if model is None:
        rows = [Row(name, status="OK", detail="history and metrics only (no model file by design); history checked")]
        recorded_test = entry.get("metrics", {}).get("test", {}).get("accuracy")
        if recorded_test is not None:
            detail = "no model file by design, so this test accuracy is not re-measured"
            rows.append(Row(name, "test_accuracy", recorded_test, None, UNMEASURED, detail))
        return rows
    legacy = not entry.get("key_version")  # a version-1 entry not yet migrated: its own way of keying
    if fingerprint._digest(fingerprint.architecture_config(model, legacy=legacy)) != spec.get("architecture"):
        return [Row(name, status="STALE", detail="model file does not match the recorded architecture")]
    if fingerprint._digest(fingerprint.compile_config(model, legacy=legacy)) != spec.get("compile"):
        return [Row(name, status="STALE", detail="model file does not match the recorded compile settings")]

    steps = _steps_problem(entry, model)
    if steps:
        return [Row(name, "optimizer steps", None, None, "ANOMALY", f"{steps}: it was not trained as recorded")]
    rows = []
    val = data.find(spec.get("data", {}).get("validation"))
    candidates = _candidates_val_accuracy(entry, history)
    measured_val = None
    if candidates and val is None:
        rows.append(Row(name, "val_accuracy", candidates[0], None, "NO DATA", data.why_missing()))
    elif candidates:
        measured_val = float(model.evaluate(val[1], val[2], batch_size=1024, verbose=0, return_dict=True)["accuracy"])
        closest = min(candidates, key=lambda c: abs(c - measured_val))
        ok = abs(closest - measured_val) <= TOLERANCE
        rows.append(Row(name, "val_accuracy", closest, measured_val, "OK" if ok else "MISMATCH", val[0]))
        rows.extend(_history_disagrees(name, history, measured_val))
    recorded_test = entry.get("metrics", {}).get("test", {}).get("accuracy")
    test = data.find(entry.get("data", {}).get("test_fingerprint"))
    if recorded_test is not None and test is None:
        rows.append(Row(name, "test_accuracy", recorded_test, None, "NO DATA", data.why_missing()))
    elif recorded_test is not None:
        measured = float(model.evaluate(test[1], test[2], batch_size=1024, verbose=0, return_dict=True)["accuracy"])
        ok = abs(recorded_test - measured) <= TOLERANCE
        rows.append(Row(name, "test_accuracy", recorded_test, measured, "OK" if ok else "MISMATCH", test[0]))
    anomaly = _test_above_validation(name, entry, measured_val)
    if anomaly is not None:
        rows.append(anomaly)
    if not rows:
        rows.append(Row(name, status="NO DATA", detail="the entry records no validation or test metric to re-measure"))
    return rows


def read_index(root: Path) -> list[str] | None:
    """The committed list of entry names the notebooks need (None if there is no index)."""
    path = root / INDEX
    try:
        names = json.loads(path.read_text())["entries"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [n for n in names if isinstance(n, str)]


def write_index(root: Path) -> Path:
    """Record every current manifest entry as needed (run after training, then commit)."""
    cache.write_json_atomic(root / INDEX, {"entries": sorted(cache.list_entries(root))})
    return root / INDEX


def verify_predictions(
    path: Path, data: DataIndex, entries: dict[str, dict], root: Path, loaded: dict[str, Any] | None = None
) -> Row:
    """Re-predict a stratified sample of a stored prediction cache with the models it names.

    ``loaded`` keeps models already loaded, by name, so that caches sharing members load each model once.
    """
    from helpers.predictions import member_predictions

    label = f"predictions/{path.stem}"
    parts = (cache.read_array_key(path) or "").split(":")  # shas, images, flip[, shiftN]
    if len(parts) not in (3, 4):
        return Row(label, status="CORRUPT", detail="not a prediction cache of this suite (no readable key)")
    name_of_sha = {e.get("files", {}).get("model", {}).get("sha256"): n for n, e in entries.items()}
    names = [name_of_sha.get(sha) for sha in parts[0].split(",")]
    if None in names:
        return Row(label, status="STALE", detail="made by a model that no manifest entry holds")
    split = data.find_images(parts[1])
    if split is None:
        return Row(label, status="NO DATA", detail=data.why_missing())
    stored = cache.load_keyed_array(path, ":".join(parts), "predictions")
    _, x, y = split
    labels = y.argmax(1)
    seed = secrets.randbits(32)  # a new sample every run: a forger cannot know which images are checked
    rng = np.random.default_rng(seed)
    idx = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:SAMPLE_PER_CLASS] for c in range(10)]))
    shift = int(parts[3].removeprefix("shift")) if len(parts) == 4 else 0
    if stored is None or stored.ndim != 4 or stored.shape[0] != len(names) or stored.shape[2] != len(x):
        return Row(label, status="CORRUPT", detail="stored predictions do not have the shape their key promises")
    loaded = {} if loaded is None else loaded
    for n in names:
        if n not in loaded:
            loaded[n] = cache.load_model(cache.paths(n, root)["model"])
    models = [loaded[n] for n in names]
    fresh = member_predictions(models, x[idx], flip=parts[2] == "True", shift=shift)
    gap = float(np.abs(fresh - stored[:, :, idx]).max())
    layers = [layer for m in models for layer in m._flatten_layers()]
    compute = "bfloat16" if any(layer.dtype_policy.compute_dtype == "bfloat16" for layer in layers) else "float32"
    status = "OK" if gap <= PREDICTION_TOLERANCE[compute] else "MISMATCH"
    return Row(
        label,
        "max |p - p'|",
        0.0,
        gap,
        status,
        f"{len(idx)} of {len(x)} images (sample seed {seed}) re-predicted, {split[0]}",
    )


def verify_all(
    cache_dir: Path | None = None,
    patterns: list[str] | None = None,
    indexed: bool = True,
    data: DataIndex | None = None,
) -> list[Row]:
    """Verify every manifest entry (optionally only names matching glob patterns) and the prediction caches.

    Args:
        cache_dir: The cache's root (default: the suite's).
        patterns: Only names matching these glob patterns.
        indexed: Check ``histories/index.json`` for deleted entries; a student's
            cache has no index (grading knows its needed entries from autograde).
        data: The standard splits to re-measure on, when several caches share
            them (default: a new index, built on first use).
    """
    data = data if data is not None else DataIndex()
    rows: list[Row] = []
    store = cache.Cache.at(cache_dir)
    entries, root = store.entries(), store.root

    def wanted(name: str) -> bool:
        return not patterns or any(fnmatch.fnmatchcase(name, pat) for pat in patterns)

    for name in sorted(entries):
        if wanted(name):
            try:
                rows.extend(verify_entry(name, entries[name], data, store))
            except Exception as err:  # a malformed entry is one FAIL row; verify goes on
                rows.append(Row(name, status="FAIL", detail=f"malformed entry ({type(err).__name__}: {err})"[:300]))
    index = read_index(root) if indexed else []
    if index is None:
        rows.append(Row(str(INDEX), status="MISSING", detail="no index of needed entries: deleted entries go unseen"))
    else:
        for name in sorted(set(index) - set(entries)):
            if wanted(name):
                rows.append(Row(name, status="MISSING", detail="the notebooks need this entry; its manifest is gone"))
    for path in sorted((root / "histories").glob("*.json")):
        if path.name != INDEX.name and path.stem not in entries and wanted(path.stem):
            shown = path.stem if cache._NAME_RE.fullmatch(path.stem) else repr(path.stem)
            rows.append(Row(shown, status="FAIL", detail="manifest is not a JSON object naming its own file"))
    stored = {p.stem for folder in ("saved_models", "histories") for p in (root / folder).glob("*.keras")}
    stored |= {p.stem for p in (root / "histories").glob("*.pkl")}
    stored = {stem for stem in stored if not stem.startswith(".")}  # a killed save's temporary file, not an entry
    for name in sorted(stored - set(entries)):
        if wanted(name):
            shown = name if cache._NAME_RE.fullmatch(name) else repr(name)  # a newline would split the row
            rows.append(Row(shown, status="ORPHAN", detail="model or history file without a manifest entry"))
    if not patterns:
        loaded: dict[str, Any] = {}
        for path in sorted((root / "histories" / "predictions").glob("*.npz")):
            try:
                rows.append(verify_predictions(path, data, entries, root, loaded))
            except Exception as err:  # noqa: BLE001
                rows.append(Row(f"predictions/{path.stem}", status="FAIL", detail=f"{type(err).__name__}: {err}"[:300]))
    return rows


def format_table(rows: list[Row]) -> str:
    """Render the rows as a fixed-width table."""

    def num(v: float | None) -> str:
        return f"{v:.4f}" if v is not None else "-"

    width = max([len(r.name) for r in rows] + [4])
    lines = [f"{'name':<{width}}  {'metric':<13}  {'recorded':>8}  {'measured':>8}  status    detail"]
    for r in rows:
        lines.append(
            f"{r.name:<{width}}  {r.metric:<13}  {num(r.recorded):>8}  {num(r.measured):>8}  {r.status:<8}  {r.detail}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the table, exit 1 on any failure."""
    parser = argparse.ArgumentParser(description="Verify the cached models and histories.")
    parser.add_argument("patterns", nargs="*", help="only names matching these glob patterns")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--write-index", action="store_true", help="record the current entries as the needed ones")
    parser.add_argument("--no-index", action="store_true", help="a student's cache: no index of needed entries")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON lines instead of a table")
    parser.add_argument("--reproduce", action="store_true", help="retrain the entries matching PATTERNS and compare")
    parser.add_argument("--reproduce-sample", type=int, metavar="K", help="retrain K entries chosen at random")
    args = parser.parse_args(argv)
    os.environ.setdefault("IMGCLS_OFFLINE", "1")
    if args.write_index:
        print(f"wrote {write_index(args.cache_dir or settings.cache_dir())}")
        return 0
    from helpers.training import keras_limits_problem

    if keras_limits_problem():  # evaluation would see a few batches only
        print(f"verify refused: {keras_limits_problem()}")
        return 1
    if args.reproduce or args.reproduce_sample:
        return _reproduce_main(args.cache_dir, args.patterns or None, args.reproduce_sample)
    rows = verify_all(args.cache_dir, args.patterns or None, indexed=not args.no_index)
    if args.json:
        for row in rows:
            print(json.dumps(dataclasses.asdict(row)))
        return 1 if any(r.status not in PASSING for r in rows) else 0
    if not rows:
        print("no cache entries found")
        return 1
    print(format_table(rows))
    bad = [r for r in rows if r.status not in PASSING]
    unmeasured = sum(r.status == UNMEASURED for r in rows)
    print(
        f"\n{len(rows) - len(bad) - unmeasured} ok, {unmeasured} not re-measured by design, {len(bad)} failed "
        f"({len({r.name for r in rows})} artifacts)"
    )
    return 1 if bad else 0


def _reproduce_main(cache_dir: Path | None, patterns: list[str] | None, sample: int | None) -> int:
    from helpers import reproduce

    names = reproduce.choose(sorted(cache.list_entries(cache_dir)), patterns, sample)
    if not names:
        print("no cache entry matches", patterns)
        return 1
    results = reproduce.reproduce(names, cache_dir=cache_dir)
    rows = [Row(name, "max |Δ|", 0.0, gap, status, detail) for name, status, gap, detail in results]
    print(format_table(rows))
    bad = [r for r in rows if r.status != "REPRODUCED"]
    print(f"\n{len(rows) - len(bad)} reproduced within {reproduce.TOLERANCE}, {len(bad)} not")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
