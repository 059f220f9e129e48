"""Points per graded cell, written once: read by the metadata generator, checked against the seeds.

``SEED_QUESTIONS`` copies the points the seeds print beside each question
(seed 000's "(2 pts)", seed 002's "(7 points)", seed 003's "(1 point)").
``CELLS`` gives each graded cell of a released notebook, by its ``grade_id``,
the seed question it answers and its share of that question's points. A
question's shares add up to its points (``tests/test_course.py``).

Where a seed gives no points (seeds 001 and 004), a question is ours and its
points are written here, in ``OWN_QUESTIONS``.
"""

from __future__ import annotations

from typing import NamedTuple


class Graded(NamedTuple):
    """One graded cell: the question it answers and its points."""

    question: str  # "seed 000, 3.2"
    points: float


SEED_QUESTIONS: dict[str, float] = {
    "seed 000, 3.1": 1,
    "seed 000, 3.2": 2,
    "seed 000, 3.3": 1,
    "seed 000, 3.4": 1,
    "seed 000, 3.5": 2,
    "seed 000, 3.6": 1,
    "seed 000, 3.7": 2,
}
OWN_QUESTIONS: dict[str, float] = {}

#: Graded cells by notebook and grade_id. Autograded test cells, manually graded answers and plots.
CELLS: dict[str, dict[str, Graded]] = {
    "03_optimizers": {
        "test_mlp_128": Graded("seed 000, 3.1", 1),
        "test_sgd_runs": Graded("seed 000, 3.2", 1),
        "answer_3_2": Graded("seed 000, 3.2", 1),
        "test_adam_run": Graded("seed 000, 3.3", 1),
        "plot_sgd_adam": Graded("seed 000, 3.4", 1),
        "answer_3_5": Graded("seed 000, 3.5", 2),
        "test_misclassified": Graded("seed 000, 3.6", 1),
        "test_noisy_labels": Graded("seed 000, 3.7", 1),
        "answer_3_7": Graded("seed 000, 3.7", 1),
    },
}


def question_points() -> dict[str, float]:
    """Every question's points: the seeds' and our own."""
    return {**SEED_QUESTIONS, **OWN_QUESTIONS}


def notebook_total(notebook: str) -> float:
    """The points a released notebook carries."""
    return sum(cell.points for cell in CELLS[notebook].values())
