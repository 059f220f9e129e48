"""The suite's test-accuracy goals and the seeds' figures, written once.

The notebooks' goals tables and ``benchmarks/report.py`` read them here.
"""

from __future__ import annotations

#: Test accuracy each kind of model must reach, by task.
GOALS: dict[str, float] = {
    "mnist_softmax": 0.920,
    "mnist_mlp": 0.980,
    "fashion_dense": 0.900,
    "mnist_cnn": 0.996,
    "fashion_cnn": 0.945,
}

#: The best figure the seed notebooks report for each task, for comparison (none for every task).
SEED_FIGURES: dict[str, float] = {
    "fashion_dense": 0.8907,
    "mnist_cnn": 0.9911,
    "fashion_cnn": 0.93,
}
