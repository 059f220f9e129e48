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
    # seed 000, "## Exercise E" item "K. ... (N pts)", keyed "seed 000, E.K"
    **{
        f"seed 000, {q}": p
        for q, p in {
            "1.1": 2,
            "1.2": 2,
            "1.3": 2,
            "2.1": 5,
            "2.2": 1,
            "2.3": 1,
            "2.4": 2,
            "2.5": 1,
            "3.1": 1,
            "3.2": 2,
            "3.3": 1,
            "3.4": 1,
            "3.5": 2,
            "3.6": 1,
            "3.7": 2,
            "4.1": 2,
            "4.2": 2,
            "4.3": 2,
            "4.4": 2,
            "4.5": 2,
            "5.1": 2,
            "5.2": 2,
            "5.3": 2,
            "5.4": 2,
            "5.5": 2,
            "5.6": 2,
            "6.1": 2,
            "6.2": 4,
            "6.3": 2,
            "6.4": 2,
        }.items()
    },  # fmt: skip
    # seed 002, "Question Q (N points)"
    **{
        f"seed 002, {q}": p
        for q, p in {
            "1.1": 4,
            "1.2": 2,
            "1.3": 4,
            "2.1": 7,
            "2.2": 3,
            "3.1": 2,
            "3.2": 4,
            "3.3": 4,
            "4.1": 5,
            "4.2": 5,
        }.items()
    },  # fmt: skip
    # seed 003, by the task's own title, "(N point)"
    "seed 003, Plot a histogram of the classes of the training data": 1,
    "seed 003, find out why the unusual shap of the input data is required": 1,
    "seed 003, Build the first model": 2,
    "seed 003, First prediction with model": 1,
    "seed 003, describe the meaning of the numbers returned from the prediction": 1,
    "seed 003, Improve the model significantly": 2,
    "seed 003, Find characteristics in the errors of the model": 1,
    "seed 003, Update your training strategy": 2,
}
OWN_QUESTIONS: dict[str, float] = {
    "seed 004, the 784-512-512-10 network": 2,
    "seed 004, the batch-size experiment": 2,
    "seed 004, the CNN with augmentation": 2,
    "seed 001, an MNIST CNN to 99 %: architecture and curves": 2,
    "ours, transfer from MNIST to other digits": 4,
    "seed 001, fix the network that sucks": 2,
    "ours, interpretation: the confusion matrix": 2,
    "ours, interpretation: the class with the most errors": 2,
    "ours, interpretation: feature maps": 2,
    "ours, interpretation: t-SNE of the embeddings": 2,
    "ours, interpretation: errors expected in production": 2,
}

#: Graded cells by notebook and grade_id. Autograded test cells, manually graded answers and plots.
CELLS: dict[str, dict[str, Graded]] = {
    "01_data_preparation": {
        "test_load_datasets": Graded("seed 000, 1.1", 2),
        "plot_samples": Graded("seed 000, 1.2", 1),
        "answer_1_2": Graded("seed 000, 1.2", 1),
        "test_prepare": Graded("seed 000, 1.3", 2),
        "plot_class_histogram": Graded("seed 003, Plot a histogram of the classes of the training data", 0.5),
        "answer_balance": Graded("seed 003, Plot a histogram of the classes of the training data", 0.5),
        "answer_reshape": Graded("seed 003, find out why the unusual shap of the input data is required", 1),
    },
    "02_dense_baselines": {
        "test_softmax_regression": Graded("seed 000, 2.1", 5),
        "test_softmax_training": Graded("seed 000, 2.2", 1),
        "plot_mnist_curves": Graded("seed 000, 2.3", 1),
        "plot_fashion_curves": Graded("seed 000, 2.4", 2),
        "answer_2_5_mnist": Graded("seed 000, 2.5", 0.5),
        "answer_2_5_fashion": Graded("seed 000, 2.5", 0.5),
        "test_seed004_mlp": Graded("seed 004, the 784-512-512-10 network", 2),
        "answer_batch_size": Graded("seed 004, the batch-size experiment", 2),
    },
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
    "04_width_sweeps": {
        "test_clean_sweep": Graded("seed 000, 4.1", 2),
        "plot_clean_widths": Graded("seed 000, 4.2", 1),
        "answer_4_2": Graded("seed 000, 4.2", 1),
        "test_label_noise_sweep": Graded("seed 000, 4.3", 1),
        "plot_label_noise_widths": Graded("seed 000, 4.3", 1),
        "test_input_noise_sweep": Graded("seed 000, 4.4", 1),
        "plot_input_noise_widths": Graded("seed 000, 4.4", 1),
        "answer_4_5": Graded("seed 000, 4.5", 2),
    },
    "05_regularization": {
        "test_regularized_mlp": Graded("seed 000, 5.1", 1),
        "test_plain_run": Graded("seed 000, 5.1", 1),
        "answer_5_2": Graded("seed 000, 5.2", 2),
        "test_l2_runs": Graded("seed 000, 5.3", 1),
        "answer_5_3": Graded("seed 000, 5.3", 1),
        "test_dropout_runs": Graded("seed 000, 5.4", 1),
        "answer_5_4": Graded("seed 000, 5.4", 1),
        "test_augmentation_run": Graded("seed 000, 5.5", 1),
        "answer_5_5": Graded("seed 000, 5.5", 1),
        "answer_5_6": Graded("seed 000, 5.6", 2),
    },
    "06_broken_network": {
        "test_fixed_network": Graded("seed 001, fix the network that sucks", 2),
    },
    "07_mnist_cnns": {
        "test_simple_cnn": Graded("seed 003, Build the first model", 2),
        "test_first_prediction": Graded("seed 003, First prediction with model", 1),
        "answer_prediction": Graded("seed 003, describe the meaning of the numbers returned from the prediction", 1),
        "test_improved_cnns": Graded("seed 003, Update your training strategy", 2),
        "answer_improved": Graded("seed 003, Improve the model significantly", 2),
        "answer_errors": Graded("seed 003, Find characteristics in the errors of the model", 1),
        "answer_curves": Graded("seed 001, an MNIST CNN to 99 %: architecture and curves", 2),
        "test_seed004_cnn": Graded("seed 004, the CNN with augmentation", 2),
    },
    "08_fashion_cnns": {
        "test_fashion_cnn_small": Graded("seed 000, 6.1", 2),
        "test_regularizer_runs": Graded("seed 000, 6.2", 2),
        "answer_6_2": Graded("seed 000, 6.2", 2),
        "plot_naive_tuned": Graded("seed 000, 6.3", 1),
        "answer_curves_fashion": Graded("seed 000, 6.3", 1),
        "answer_6_4": Graded("seed 000, 6.4", 2),
    },
    "10_transfer_learning": {
        "test_feature_head": Graded("seed 002, 4.1", 2),
        "answer_q_4_1": Graded("seed 002, 4.1", 3),
        "test_model_4_2": Graded("seed 002, 4.2", 2),
        "answer_q_4_2": Graded("seed 002, 4.2", 3),
        "test_target_model": Graded("ours, transfer from MNIST to other digits", 2),
        "answer_transfer": Graded("ours, transfer from MNIST to other digits", 2),
    },
    "11_interpretation": {
        "answer_confusion": Graded("ours, interpretation: the confusion matrix", 2),
        "answer_focus_class": Graded("ours, interpretation: the class with the most errors", 2),
        "answer_activations": Graded("ours, interpretation: feature maps", 2),
        "answer_tsne": Graded("ours, interpretation: t-SNE of the embeddings", 2),
        "answer_production": Graded("ours, interpretation: errors expected in production", 2),
    },
    "12_svhn": {
        "test_dense_models": Graded("seed 002, 1.1", 2),
        "answer_q_1_1": Graded("seed 002, 1.1", 2),
        "answer_q_1_2": Graded("seed 002, 1.2", 2),
        "answer_q_1_3": Graded("seed 002, 1.3", 4),
        "test_convnet": Graded("seed 002, 2.1", 3),
        "answer_q_2_1": Graded("seed 002, 2.1", 4),
        "answer_q_2_2": Graded("seed 002, 2.2", 3),
        "answer_q_3_1": Graded("seed 002, 3.1", 2),
        "answer_q_3_2": Graded("seed 002, 3.2", 4),
        "answer_q_3_3": Graded("seed 002, 3.3", 4),
    },
}


#: Notebooks that are not handed out, and why.
NOT_RELEASED = {
    "09_fashion_cnn_search": "the instructor's appendix to 08 (the search behind its recipe, hours of training); "
    "no exercise of its own",
}


def question_points() -> dict[str, float]:
    """Every question's points: the seeds' and our own."""
    return {**SEED_QUESTIONS, **OWN_QUESTIONS}


def notebook_total(notebook: str) -> float:
    """The points a released notebook carries."""
    return sum(cell.points for cell in CELLS[notebook].values())
