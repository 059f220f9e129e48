"""The suite's test-accuracy goals, written once: notebooks 07 and 08 and ``benchmarks/report.py`` read them here."""

from __future__ import annotations

#: Test accuracy each kind of model must reach, by task.
GOALS: dict[str, float] = {
    "mnist_softmax": 0.920,
    "mnist_mlp": 0.980,
    "fashion_dense": 0.900,
    "mnist_cnn": 0.996,
    "fashion_cnn": 0.945,
}
