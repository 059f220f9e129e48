"""Long runs (SVHN, ImageNet transfer): trained only when asked, and only after a time estimate.

On a student's laptop with internet, SVHN would download and hours of training
would start without a word. :func:`evaluate_or_plan` wraps seed 002's
``run_evaluation`` so that this cannot happen:

* a cached model is loaded, as always;
* in grading (require) mode a missing one stops the section with one line
  (:class:`~helpers.errors.CacheMiss`);
* otherwise a missing one is trained only when the user asked for its family
  (the notebook's ``train_svhn`` parameter, ``IMGCLS_TRAIN=svhn`` as set by
  ``./run.sh --train svhn``, or a smoke run), after printing the run's
  estimated CPU and GPU time; if not asked, the section prints what it would
  train and for about how long, and the notebook goes on.

The estimate times one epoch of the real model on random stand-in images of
the real shape on this machine, and scales it to the real number of images
and epochs. The GPU figure is the run's floating-point work divided by an
assumed sustained :data:`GPU_FLOPS`; it is a rough guide, and says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import pandas as pd

from helpers import settings
from helpers.cache import CacheMiss
from helpers.evaluation import run_evaluation

GPU_FLOPS = 10e12  # assumed sustained FLOP/s of a mid-range GPU on small CNNs (a rough guide, stated when printed)


def layer_multiply_adds(layer: keras.Layer) -> int:
    """Multiply-adds of one example's forward pass through a convolution or dense layer; 0 for other layers."""
    if isinstance(layer, keras.layers.Conv2D):
        height, width = layer.output.shape[1:3]
        return int(height * width * np.prod(layer.kernel.shape))
    if isinstance(layer, keras.layers.Dense):
        return int(np.prod(layer.kernel.shape))
    return 0


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds of one forward pass of one example through the model's convolution and dense layers."""
    return sum(
        multiply_adds(layer) if isinstance(layer, keras.Model) else layer_multiply_adds(layer) for layer in model.layers
    )


def layer_costs(model: keras.Model) -> pd.DataFrame:
    """Each layer's output shape, parameters and multiply-adds for one example (notebook 06's cost table)."""
    rows = [
        {
            "layer": layer.name,
            "output shape": tuple(layer.output.shape[1:]),
            "parameters": layer.count_params(),
            "multiply-adds": layer_multiply_adds(layer),
        }
        for layer in model.layers
    ]
    return pd.DataFrame(rows).set_index("layer")


@dataclass(frozen=True)
class Estimate:
    """How long a training run would take: measured on this CPU, assumed for a GPU."""

    cpu_seconds: float
    gpu_seconds: float

    def describe(self) -> str:
        """E.g. "about 2.5 hours on this machine's CPU, about 4 minutes on a GPU (at an assumed 10 TFLOP/s)"."""
        return (
            f"about {_duration(self.cpu_seconds)} on this machine's CPU, about {_duration(self.gpu_seconds)} on a GPU "
            f"(at an assumed {GPU_FLOPS / 1e12:.0f} TFLOP/s)"
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def estimate_training(
    builder: Callable[[], keras.Model],
    n_examples: int,
    epochs: int,
    batch_size: int,
    *,
    sample: int = 256,
    seed: int = 0,
) -> Estimate:
    """Estimate a run's training time from one epoch on ``sample`` random stand-in images of the real shape.

    Args:
        builder: Returns the compiled model the run would train.
        n_examples: Training images of the real run.
        epochs: Epochs of the real run.
        batch_size: Batch size of the real run.
        sample: Stand-in images timed (after one untimed epoch that builds the graph).
        seed: Seed of the stand-in images.

    Returns:
        The CPU time scaled to ``n_examples`` x ``epochs``, and the GPU time from the run's multiply-adds.
    """
    model = builder()
    rng = np.random.default_rng(seed)
    x = rng.random((sample, *model.input_shape[1:]), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, model.output_shape[-1], sample), model.output_shape[-1])
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    cpu = (time.perf_counter() - start) / sample * n_examples * epochs
    flops = 3 * 2 * multiply_adds(model) * n_examples * epochs  # forward, and about twice that backward
    return Estimate(cpu_seconds=cpu, gpu_seconds=flops / GPU_FLOPS)


def evaluate_or_plan(
    name: str,
    builder: Callable[..., keras.Model],
    data: tuple,
    *,
    family: str,
    train: bool = False,
    epochs: int,
    batch_size: int,
    **kwargs: Any,
) -> tuple[Any, dict | None]:
    """Load a long run from the cache, or train it if asked (after its time estimate), or say what it would do.

    Args:
        name: Cache name, e.g. ``"model_2_1"``.
        builder: Seed 002-style builder; gets ``**kwargs``.
        data: ``(X_train, X_val, y_train, y_val)``, as for ``run_evaluation``.
        family: The long-run family, ``"svhn"`` or ``"imagenet"`` (what ``./run.sh --train`` names).
        train: The notebook's opt-in parameter (e.g. ``train_svhn``).
        epochs: Epochs of the run.
        batch_size: Batch size of the run.
        **kwargs: Passed to ``builder``.

    Returns:
        ``(model, history)``, or ``(None, None)`` when the run is neither cached nor asked for.

    Raises:
        CacheMiss: In require (grading) mode, when the run is not cached.
    """
    try:
        return run_evaluation(name, builder, data, train=False, epochs=epochs, batch_size=batch_size, **kwargs)
    except CacheMiss:
        if settings.cache_mode() == "require":
            raise
    asked = train or family in settings.long_runs_requested() or settings.smoke_mode()
    estimate = estimate_training(lambda: builder(**kwargs), len(data[0]), epochs, batch_size)
    if not asked:
        print(
            f"{name} is not trained. It would train for {epochs} epochs on {len(data[0]):,} images, "
            f"{estimate.describe()}. To train it, set train_{family} = True in the parameters cell "
            f"or run ./run.sh --train {family}."
        )
        return None, None
    print(f"{name}: training for {epochs} epochs on {len(data[0]):,} images, estimated {estimate.describe()}.")
    return run_evaluation(name, builder, data, train=True, epochs=epochs, batch_size=batch_size, **kwargs)
