"""Plotting helpers. Each returns its figure and reads no notebook globals.

Helpers that draw a single panel take an optional ``ax``; without one they make
a new figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.errors import OneLineError


def _image_grid(nrows: int, ncols: int, cell_inches: tuple[float, float]) -> tuple[Figure, np.ndarray]:
    """A figure of ``nrows`` x ``ncols`` image panels with their axes hidden."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell_inches[0] * ncols, cell_inches[1] * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    return fig, axes


def _finish(fig: Figure, title: str = "") -> Figure:
    """Give the figure its title (if any), tighten the layout, return it."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _history_dict(history: Any) -> dict[str, list[float]]:
    return history.history if hasattr(history, "history") else dict(history)


class LabelOutOfRange(OneLineError, ValueError):
    """A label that names no class of the ones a plot was given."""


def _labels(y: Any, n_classes: int | None = None) -> np.ndarray:
    """Integer labels from integers or one-hot rows; with ``n_classes``, each must be one of them."""
    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 else y
    if n_classes is not None and len(labels):
        outside = labels[(labels < 0) | (labels >= n_classes)]
        if len(outside):
            raise LabelOutOfRange(
                f"label {outside[0]} is outside the {n_classes} classes given (0 to {n_classes - 1}): "
                "map the labels first, or pass all the class names"
            )
    return labels


def _axes_row(axes: Sequence[Any] | None, n: int) -> Sequence[Any]:
    """The given axes, or a new row of ``n`` panels."""
    if axes is not None:
        return axes
    _, new = plt.subplots(1, n, figsize=(5.5 * n, 4), squeeze=False)
    return new[0]


def _image(x: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Return a drawable image and colormap for grey, flat or RGB input."""
    x = np.asarray(x)
    if x.ndim == 1:
        side = int(round(np.sqrt(x.size)))
        x = x.reshape(side, side)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 3:
        x = x.astype(np.float32)
        lo, hi = x.min(), x.max()
        return (x - lo) / (hi - lo if hi > lo else 1.0), None
    return x, "gray"


def plot_some_samples(
    x: np.ndarray,
    y: Sequence = (),
    yhat: Sequence = (),
    select_from: Sequence[int] = (),
    ncols: int = 6,
    nrows: int = 4,
    xdim: int = 28,
    ydim: int = 28,
    label_mapping: Sequence = range(10),
    *,
    seed: int | None = 0,
    title: str | None = None,
) -> Figure:
    """Draw a grid of random samples with true (green) and predicted (red) labels.

    Seed 000's helper with its label bug fixed: the green text at the bottom
    left is the *true* label, the red text at the bottom right the prediction,
    both shown through ``label_mapping`` as they are (no ``+1``).

    Args:
        x: Images ``(N, H, W)``, ``(N, H, W, C)`` or flat vectors ``(N, xdim*ydim)``.
        y: True labels (integers or one-hot), optional.
        yhat: Predicted labels (integers or probability rows), optional.
        select_from: Indices to draw from (default: all).
        ncols, nrows: Grid size.
        xdim, ydim: Image size for flat vectors.
        label_mapping: Maps a class index to the text shown.
        seed: Seed of the random choice (None: a different draw each call).
        title: Figure title.
    """
    x = np.asarray(x)
    if x.ndim == 2:
        x = x.reshape(len(x), xdim, ydim)
    pool = np.asarray(select_from) if len(select_from) else np.arange(len(x))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(pool, size=min(ncols * nrows, len(pool)), replace=False)
    y_int = _labels(y, len(label_mapping)) if len(y) else None
    yhat_int = _labels(yhat, len(label_mapping)) if len(yhat) else None
    fig, axes = _image_grid(nrows, ncols, (1.4, 1.5))
    for ax, idx in zip(axes.ravel(), chosen):
        img, cmap = _image(x[idx])
        ax.imshow(img, cmap=cmap)
        if y_int is not None:
            ax.text(0, -0.02, label_mapping[y_int[idx]], color="green", va="top", transform=ax.transAxes)
        if yhat_int is not None:
            ax.text(1, -0.02, label_mapping[yhat_int[idx]], color="red", va="top", ha="right", transform=ax.transAxes)
    return _finish(fig, title)


def plot_images(images: Sequence[np.ndarray], titles: Sequence[str] = (), *, ncols: int | None = None) -> Figure:
    """Draw a row (or grid) of images with optional titles."""
    ncols = max(1, ncols or len(images))
    nrows = max(1, int(np.ceil(len(images) / ncols)))
    fig, axes = _image_grid(nrows, ncols, (1.8, 2.0))
    if not len(images):
        axes[0, 0].text(0.5, 0.5, "(no images)", ha="center", va="center")
    for i, (ax, img) in enumerate(zip(axes.ravel(), images)):
        data, cmap = _image(img)
        ax.imshow(data, cmap=cmap)
        if i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return fig


def plot_history(history: Any, title: str = "", *, axes: Sequence[Any] | None = None) -> Figure:
    """Learning curves: loss (log scale) and accuracy, training vs validation.

    Args:
        history: A Keras ``History`` or its ``.history`` dict.
        title: Figure title.
        axes: Optional pair of axes to draw into.
    """
    return plot_histories({"": history}, title=title, axes=axes)


def plot_histories(
    histories: Mapping[str, Any],
    title: str = "",
    *,
    axes: Sequence[Any] | None = None,
    metrics: Sequence[str] = ("loss", "accuracy"),
) -> Figure:
    """Compare several runs' learning curves in one figure.

    Each run gets one colour; training curves are dashed, validation solid.

    Args:
        histories: ``{label: History or dict}``.
        title: Figure title.
        axes: Optional axes, one per metric.
        metrics: Curves to draw (``val_`` versions are added when present).
    """
    axes = _axes_row(axes, len(metrics))
    fig = axes[0].figure
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, history) in enumerate(histories.items()):
        h = _history_dict(history)
        color = colors[i % len(colors)]
        prefix = f"{label} " if label else ""
        for ax, metric in zip(axes, metrics):
            for key, style, part in ((metric, "--", "train"), (f"val_{metric}", "-", "val")):
                if key in h:
                    epochs = np.arange(1, len(h[key]) + 1)
                    ax.plot(epochs, h[key], style, color=color, label=f"{prefix}{part}")
    for ax, metric in zip(axes, metrics):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers: no 2.5 ticks
        ax.set_ylabel("cross-entropy loss (log scale)" if metric == "loss" else metric)
        if metric == "loss":
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(fig, title)


def plot_metric_vs_param(
    results: pd.DataFrame,
    param: str,
    metrics: Sequence[str] = ("val_loss", "val_accuracy"),
    *,
    group: str | None = None,
    logx: bool = True,
    title: str = "",
    axes: Sequence[Any] | None = None,
) -> Figure:
    """Metric vs a parameter (e.g. width), median over seeds with a 25-75 % band.

    Args:
        results: One row per run, with a ``param`` column and metric columns
            (several rows per parameter value = several seeds).
        param: Column on the x axis.
        metrics: Columns to draw, one panel each.
        group: Optional column whose values get separate lines (e.g. dataset).
        logx: Logarithmic x axis.
        title: Figure title.
        axes: Optional axes, one per metric.
    """
    axes = _axes_row(axes, len(metrics))
    fig = axes[0].figure
    groups = [(None, results)] if group is None else list(results.groupby(group, sort=False))
    for ax, metric in zip(axes, metrics):
        for label, frame in groups:
            stats = frame.groupby(param)[metric].quantile([0.25, 0.5, 0.75]).unstack()
            n = frame.groupby(param)[metric].size().max()
            line_label = f"{label}" if label is not None else "median"
            if n > 1:
                line_label += f" (median of {n} seeds, 25-75 % band)"
            (line,) = ax.plot(stats.index, stats[0.5], "o-", label=line_label)
            if n > 1:
                ax.fill_between(stats.index, stats[0.25], stats[0.75], alpha=0.25, color=line.get_color())
        ax.set_xlabel(param)
        ax.set_ylabel(metric)
        if logx:
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(fig, title)


def plot_class_histogram(y: Any, class_names: Sequence[str], *, title: str = "", ax: Any = None) -> Figure:
    """Bar chart of how many examples each class has."""
    counts = np.bincount(_labels(y, len(class_names)), minlength=len(class_names))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(range(len(class_names)), counts, color="tab:blue")
    ax.axhline(counts.mean(), color="black", ls="--", lw=1, label=f"mean {counts.mean():.0f}")
    ax.set_xticks(range(len(class_names)), class_names, rotation=45 if len(max(class_names, key=len)) > 2 else 0)
    ax.set_xlabel("class")
    ax.set_ylabel("number of images")
    ax.legend()
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def plot_confusion_matrix(
    y_true: Any, y_pred: Any, class_names: Sequence[str], *, normalize: bool = False, title: str = "", ax: Any = None
) -> Figure:
    """Confusion matrix as a seaborn heatmap (counts, or rows normalised to 1)."""
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(
        _labels(y_true, len(class_names)),
        _labels(y_pred, len(class_names)),
        labels=range(len(class_names)),
        normalize="true" if normalize else None,
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6))
    sns.heatmap(
        cm,
        annot=True,
        fmt=".2f" if normalize else "d",
        cmap="Blues",
        cbar=True,
        xticklabels=class_names,
        yticklabels=class_names,
        ax=ax,
        annot_kws={"fontsize": 7},
    )
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(title or ("confusion matrix (row-normalised)" if normalize else "confusion matrix (counts)"))
    ax.figure.tight_layout()
    return ax.figure


def plot_misclassified(
    x: np.ndarray,
    y_true: Any,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    *,
    indices: Sequence[int] | None = None,
    max_images: int = 12,
    ncols: int = 6,
) -> Figure:
    """Misclassified images with true label, predicted label and confidence."""
    truth, pred = _labels(y_true), probabilities.argmax(axis=1)
    wrong = np.flatnonzero(truth != pred) if indices is None else np.asarray(indices)
    wrong = wrong[:max_images]
    titles = [
        f"true {class_names[truth[i]]}\npred {class_names[pred[i]]} ({probabilities[i, pred[i]]:.0%})" for i in wrong
    ]
    fig = plot_images([x[i] for i in wrong], titles, ncols=min(ncols, max(len(wrong), 1)))
    return fig


def plot_feature_maps(maps: np.ndarray, *, title: str = "", ncols: int = 16, ax: Any = None) -> Figure:
    """Draw every channel of one layer's activations ``(H, W, C)`` as one tiled image.

    Each channel fills one tile of the grid, row by row, scaled to its own
    range (as a panel of its own would be), with blank gaps between tiles.
    One image instead of one panel per channel: a layer of 128 channels draws
    in a fraction of the time.

    Args:
        maps: Activations of one example, ``(height, width, channels)``.
        title: Figure title; by default the number of channels.
        ncols: Tiles per row.
        ax: Draw into these axes instead of a new figure.
    """
    height, width, channels = maps.shape
    nrows = int(np.ceil(channels / ncols))
    gap = max(1, round(0.1 * max(height, width)))
    tiles = np.full((nrows * (height + gap) - gap, ncols * (width + gap) - gap), np.nan)
    for c in range(channels):
        row, col = divmod(c, ncols)
        channel = maps[..., c].astype(np.float64)
        span = channel.max() - channel.min()
        scaled = (channel - channel.min()) / span if span > 0 else np.zeros_like(channel)
        tiles[
            row * (height + gap) : row * (height + gap) + height, col * (width + gap) : col * (width + gap) + width
        ] = scaled
    if ax is None:
        _, ax = plt.subplots(figsize=(0.8 * ncols, 0.8 * nrows * height / width + 0.5))
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    ax.imshow(tiles, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title or f"{channels} feature maps")
    ax.figure.tight_layout()
    return ax.figure


def plot_embedding(
    points: np.ndarray, labels: Any, class_names: Sequence[str], *, title: str = "", ax: Any = None
) -> Figure:
    """Scatter a 2-D embedding, coloured by class."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 7))
    labels = _labels(labels)
    frame = pd.DataFrame({"dim 1": points[:, 0], "dim 2": points[:, 1], "class": [class_names[i] for i in labels]})
    sns.scatterplot(
        data=frame,
        x="dim 1",
        y="dim 2",
        hue="class",
        hue_order=list(class_names),
        palette="tab10",
        s=6,
        alpha=0.6,
        linewidth=0,
        ax=ax,
    )
    ax.legend(markerscale=3, fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title(title or "2-D embedding")
    ax.figure.tight_layout()
    return ax.figure


def plot_architecture(model: Any, *, title: str = "") -> Figure:
    """Draw a model as a vertical stack of layer boxes with output shapes.

    A dependency-free sketch (``keras.utils.plot_model`` needs Graphviz).
    """
    layer_list = [layer for layer in model.layers]
    fig_height = 0.42 * (len(layer_list) + 1) + 0.6
    fig, ax = plt.subplots(figsize=(6.5, fig_height))
    ax.set_xlim(0, 1)
    ax.set_ylim(-len(layer_list) - 0.5, 1.0)
    ax.set_axis_off()
    colours = {
        "Conv2D": "#9ecae1",
        "Dense": "#fdae6b",
        "MaxPooling2D": "#c7e9c0",
        "BatchNormalization": "#dadaeb",
        "Dropout": "#f0f0f0",
        "Flatten": "#f0f0f0",
        "GlobalAveragePooling2D": "#c7e9c0",
    }
    ax.text(0.5, 0.5, f"input {tuple(model.input_shape[1:])}", ha="center", va="center", fontsize=9)
    for i, layer in enumerate(layer_list, start=1):
        kind = type(layer).__name__
        shape = tuple(layer.output.shape[1:]) if hasattr(layer, "output") else ""
        detail = ""
        if kind == "Conv2D":
            detail = f" {layer.filters}x{layer.kernel_size[0]}x{layer.kernel_size[1]}"
            if layer.strides != (1, 1):
                detail += f" stride {layer.strides[0]}"
        elif kind == "Dense":
            detail = f" {layer.units}"
        elif kind == "Dropout":
            detail = f" {layer.rate}"
        box = plt.Rectangle(
            (0.08, -i - 0.35), 0.84, 0.7, facecolor=colours.get(kind, "#ffffff"), edgecolor="black", lw=0.6
        )
        ax.add_patch(box)
        ax.text(0.11, -i, f"{kind}{detail}", va="center", fontsize=8.5)
        ax.text(0.89, -i, str(shape), va="center", ha="right", fontsize=8.5)
        ax.annotate("", xy=(0.5, -i + 0.35), xytext=(0.5, -i + 0.65), arrowprops={"arrowstyle": "->", "lw": 0.6})
    ax.set_title(title or f"{model.name}: {model.count_params():,} parameters", fontsize=10)
    fig.tight_layout()
    return fig
