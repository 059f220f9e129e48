"""Figures contain the lines, labels and titles they claim."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from helpers import plotting  # noqa: E402

HISTORY = {
    "loss": [1.0, 0.5, 0.4],
    "val_loss": [1.1, 0.7, 0.6],
    "accuracy": [0.5, 0.8, 0.9],
    "val_accuracy": [0.45, 0.7, 0.75],
}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_history_draws_train_and_val_on_log_loss_axis():
    fig = plotting.plot_history(HISTORY, "my title")
    loss_ax, acc_ax = fig.axes
    assert fig._suptitle.get_text() == "my title"
    assert loss_ax.get_yscale() == "log" and "loss" in loss_ax.get_ylabel()
    assert [line.get_label() for line in loss_ax.lines] == ["train", "val"]
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), HISTORY["val_accuracy"])
    np.testing.assert_allclose(acc_ax.lines[1].get_xdata(), [1, 2, 3])
    assert acc_ax.get_xlabel() == "epoch"


def test_epoch_axis_has_whole_number_ticks_only():
    history = {k: v * 3 for k, v in HISTORY.items()}  # 9 epochs: matplotlib alone would tick 2.5, 5.0, 7.5
    fig = plotting.plot_history(history)
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert len(ticks) >= 3 and all(float(t).is_integer() for t in ticks)


def test_plot_history_accepts_keras_history_object():
    class FakeHistory:
        history = HISTORY

    fig = plotting.plot_history(FakeHistory())
    assert len(fig.axes[0].lines) == 2


def test_plot_histories_labels_each_run():
    fig = plotting.plot_histories({"SGD": HISTORY, "Adam": HISTORY})
    labels = [line.get_label() for line in fig.axes[1].lines]
    assert labels == ["SGD train", "SGD val", "Adam train", "Adam val"]
    legend_texts = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend_texts == labels
    assert fig.axes[0].lines[0].get_color() == fig.axes[0].lines[1].get_color()
    assert fig.axes[0].lines[0].get_color() != fig.axes[0].lines[2].get_color()


def test_plot_metric_vs_param_median_and_band():
    table = pd.DataFrame(
        {"width": [10, 10, 10, 100, 100, 100], "best_val_accuracy": [0.80, 0.82, 0.90, 0.85, 0.86, 0.87]}
    )
    fig = plotting.plot_metric_vs_param(table, "width", ["best_val_accuracy"])
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "width"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.82, 0.86])
    assert any(isinstance(c, PolyCollection) for c in ax.collections), "the 25-75 % band is drawn"
    assert "3 seeds" in ax.lines[0].get_label()


def test_plot_metric_vs_param_groups():
    table = pd.DataFrame({"width": [10, 100, 10, 100], "m": [1, 2, 3, 4], "d": ["a", "a", "b", "b"]})
    fig = plotting.plot_metric_vs_param(table, "width", ["m"], group="d", logx=False)
    assert [line.get_label() for line in fig.axes[0].lines] == ["a", "b"]
    assert fig.axes[0].get_xscale() == "linear"


def test_plot_some_samples_shows_true_and_predicted_labels_unshifted():
    x = np.zeros((4, 28, 28), dtype=np.uint8)
    fig = plotting.plot_some_samples(x, y=[3, 3, 3, 3], yhat=[5, 5, 5, 5], nrows=2, ncols=2)
    texts = [(t.get_text(), t.get_color()) for ax in fig.axes for t in ax.texts]
    assert texts.count(("3", "green")) == 4 and texts.count(("5", "red")) == 4


def test_plot_some_samples_rgb_and_flat_and_label_mapping():
    rgb = np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3)).astype(np.uint8)
    fig = plotting.plot_some_samples(rgb, y=np.eye(3)[[0, 1, 2]], nrows=1, ncols=3, label_mapping=["cat", "dog", "car"])
    assert sorted(t.get_text() for ax in fig.axes for t in ax.texts) == ["car", "cat", "dog"]
    assert fig.axes[0].images[0].get_array().shape == (32, 32, 3)
    flat = np.zeros((2, 784))
    fig = plotting.plot_some_samples(flat, nrows=1, ncols=2)
    assert fig.axes[0].images[0].get_array().shape == (28, 28)


def test_confusion_matrix_counts_and_normalised():
    y_true, y_pred = [0, 0, 1, 1], [0, 1, 1, 1]
    fig = plotting.plot_confusion_matrix(y_true, y_pred, ["a", "b"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["1", "1", "0", "2"]
    assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    fig = plotting.plot_confusion_matrix(y_true, y_pred, ["a", "b"], normalize=True)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.50", "0.50", "0.00", "1.00"]


def test_class_histogram_bars():
    fig = plotting.plot_class_histogram([0, 1, 1, 2, 2, 2], ["a", "b", "c"])
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [1, 2, 3]


def test_misclassified_titles_have_confidence():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    fig = plotting.plot_misclassified(np.zeros((3, 8, 8)), [0, 0, 1], probs, ["x", "y"])
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["true x\npred y (80%)", "true y\npred x (60%)"]


def test_feature_maps_one_tile_per_channel_each_scaled_to_its_range():
    maps = np.random.default_rng(0).normal(size=(10, 10, 6)) * np.arange(1, 7)
    maps[..., 5] = 3.0  # a constant channel
    fig = plotting.plot_feature_maps(maps, ncols=4, title="six maps")
    (ax,) = fig.axes
    tiles = np.ma.filled(ax.images[0].get_array(), np.nan)
    assert tiles.shape == (2 * 10 + 1, 4 * 10 + 3) and ax.get_title() == "six maps"
    for c in range(6):
        row, col = divmod(c, 4)
        tile = tiles[row * 11 : row * 11 + 10, col * 11 : col * 11 + 10]
        channel = maps[..., c]
        expected = np.zeros_like(channel) if c == 5 else (channel - channel.min()) / np.ptp(channel)
        np.testing.assert_allclose(tile, expected)
    assert np.isnan(tiles[10]).all() and np.isnan(tiles[:, 10]).all()  # gaps between tiles
    assert np.isnan(tiles[11:, 22:]).all()  # the two unused tiles stay blank


def test_embedding_legend_has_class_names():
    points = np.random.default_rng(0).normal(size=(30, 2))
    fig = plotting.plot_embedding(points, np.arange(30) % 3, ["a", "b", "c"])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b", "c"]


def test_helpers_draw_into_given_axes():
    fig, axes = plt.subplots(1, 2)
    out = plotting.plot_history(HISTORY, axes=axes)
    assert out is fig and len(axes[0].lines) == 2


def test_plot_architecture_lists_every_layer_with_shape():
    import keras

    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, strides=2), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    fig = plotting.plot_architecture(model)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "Conv2D 8x3x3 stride 2" in texts and "Dense 10" in texts and "(13, 13, 8)" in texts
    assert "input (28, 28, 1)" in texts
    assert f"{model.count_params():,} parameters" in fig.axes[0].get_title()
