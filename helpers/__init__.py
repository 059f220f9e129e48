"""Helpers shared by every notebook of the suite: ``import helpers as hp``.

Modules:
    data: load MNIST, Fashion-MNIST, SVHN and CIFAR-10 (offline first).
    prepare: one-hot, flatten/rescale, grey conversion, splits, label and input noise.
    models: model builders with explicit arguments.
    training: ``fit_cached``, the content-keyed training cache.
    cache: cache files, manifests and safe loading.
    sweeps: parameter sweeps over several seeds.
    evaluation: seed 002's ``run_evaluation`` and ``check_answer``.
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

from helpers.cache import CacheCorrupt, CacheError, CacheMiss, load_cached, manifest
from helpers.data import (
    CLASS_NAMES,
    DatasetCorrupt,
    DatasetUnavailable,
    load_dataset,
    try_load_dataset,
)
from helpers.display import install_table_format as _install_table_format
from helpers.evaluation import (
    accuracy,
    best_metrics,
    check_answer,
    expected_errors,
    member_predictions,
    predict_average,
    predict_tta,
    run_evaluation,
    runs_table,
    shift_images,
    training_times,
    tta_view_count,
    tta_views,
)
from helpers.interpret import cached_predictions, stored_predictions
from helpers.models import build_mlp, build_vgg_cnn, compile_classifier, make_augmentation, warmup_cosine
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
from helpers.settings import cache_mode, set_cache_mode, smoke_mode
from helpers.sweeps import run_sweep
from helpers.training import TrainingForbidden, fit_cached

__all__ = [name for name in dir() if not name.startswith("_")]

_install_table_format()
