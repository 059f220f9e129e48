"""Helpers shared by every notebook of the suite: ``import helpers as hp``.

Modules:
    data: load MNIST, Fashion-MNIST, SVHN and CIFAR-10 (offline first).
    prepare: one-hot, flatten/rescale, grey conversion, splits, label and input noise.
    models: model builders with explicit arguments.
    training: ``fit_cached``, the content-keyed training cache.
    cache: cache files, manifests and safe loading.
    sweeps: parameter sweeps over several seeds.
    evaluation: seed 002's harness, ``run_evaluation``.
    long_runs: ``evaluate_or_plan``, SVHN and ImageNet runs trained only when asked, after a time estimate.
    answers: ``check_answer`` (the seeds' limits on answer length) and ``show_takeaways``.
    metrics: tables of run metrics and training times, accuracy and its intervals.
    predictions: ensembles over test-time-augmentation views, and their cache.
    interpret: activations, t-SNE embeddings, confusions.
    transfer: bodies of trained models and ImageNet applications for transfer learning.
    tuning: keras-tuner searches on the cache.
    goals: the suite's test-accuracy goals.
    shared_runs: the cache names of runs that one notebook trains and a later one reads.
    headlines: ``goals_table``, the models each notebook measures against a goal, shown and recorded.
    fingerprint, safe_load, safe_pickle, verify, reproduce: what the cache and verify rest on.
    plotting: figures (learning curves, sweeps, confusion matrices, ...).
    settings: run-wide switches (cache mode, smoke mode, folders).
    session: each notebook's first lines (student, what the cache will do).
    display: readable table labels and plain-text model summaries in notebooks.

Importing the package first keeps TensorFlow's C++ start-up chatter out of
notebook outputs (it is printed straight to the process's stderr).
"""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_tensorflow_quietly() -> None:
    import sys

    sys.stderr.flush()
    saved = _os.dup(2)
    devnull = _os.open(_os.devnull, _os.O_WRONLY)
    try:
        _os.dup2(devnull, 2)
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
    finally:
        _os.dup2(saved, 2)
        _os.close(saved)
        _os.close(devnull)


_import_tensorflow_quietly()

from helpers.answers import check_answer, show_takeaways
from helpers.cache import CacheCorrupt, CacheError, CacheMiss, load_cached, manifest
from helpers.data import (
    DatasetCorrupt,
    DatasetUnavailable,
    load_dataset,
    try_load_dataset,
)
from helpers.display import install_table_format as _install_table_format
from helpers.display import show_figures_once as _show_figures_once
from helpers.evaluation import run_evaluation
from helpers.headlines import goals_table, headline
from helpers.long_runs import evaluate_or_plan, layer_costs
from helpers.metrics import accuracy, best_metrics, expected_errors, runs_table, training_times
from helpers.models import build_mlp, build_vgg_cnn, keep_keras_names, make_augmentation, warmup_cosine
from helpers.plotting import (
    plot_architecture,
    plot_class_histogram,
    plot_confusion_matrix,
    plot_embedding,
    plot_feature_maps,
    plot_histories,
    plot_history,
    plot_images,
    plot_metric_vs_param,
    plot_misclassified,
    plot_some_samples,
)
from helpers.predictions import cached_predictions, member_predictions, stored_predictions, tta_view_count
from helpers.prepare import (
    add_gaussian_noise,
    center_normalize,
    corrupt_labels,
    flatten_rescale,
    image_splits,
    one_hot,
    rescale_images,
    rgb2gray,
    svhn_seed_split,
    train_val_split,
)
from helpers.session import start_notebook
from helpers.settings import required_epochs, set_cache_mode
from helpers.shared_runs import DENSE_RUNS, FASHION_CNN_FINAL, MNIST_CNN_AUG
from helpers.sweeps import run_sweep, train_runs
from helpers.training import TrainingForbidden, fit_cached

# What notebooks use as ``hp.<name>`` (a test checks that each is used), plus the errors they may catch.
__all__ = [
    # errors
    "CacheCorrupt",
    "CacheError",
    "CacheMiss",
    "DatasetCorrupt",
    "DatasetUnavailable",
    "TrainingForbidden",
    # data and preparation
    "load_dataset",
    "try_load_dataset",
    "add_gaussian_noise",
    "center_normalize",
    "corrupt_labels",
    "flatten_rescale",
    "image_splits",
    "one_hot",
    "rescale_images",
    "rgb2gray",
    "svhn_seed_split",
    "train_val_split",
    # goals, models, training and the cache
    "DENSE_RUNS",
    "FASHION_CNN_FINAL",
    "MNIST_CNN_AUG",
    "goals_table",
    "headline",
    "build_mlp",
    "build_vgg_cnn",
    "keep_keras_names",
    "make_augmentation",
    "warmup_cosine",
    "fit_cached",
    "run_sweep",
    "train_runs",
    "load_cached",
    "manifest",
    "required_epochs",
    "set_cache_mode",
    "start_notebook",
    # evaluation
    "accuracy",
    "best_metrics",
    "check_answer",
    "show_takeaways",
    "expected_errors",
    "member_predictions",
    "run_evaluation",
    "evaluate_or_plan",
    "layer_costs",
    "runs_table",
    "training_times",
    "tta_view_count",
    "cached_predictions",
    "stored_predictions",
    # plots
    "plot_architecture",
    "plot_class_histogram",
    "plot_confusion_matrix",
    "plot_embedding",
    "plot_feature_maps",
    "plot_histories",
    "plot_history",
    "plot_images",
    "plot_metric_vs_param",
    "plot_misclassified",
    "plot_some_samples",
]

_install_table_format()
_show_figures_once()
