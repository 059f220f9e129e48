"""Cache names of the runs that one notebook trains and a later notebook reads, written once for both.

Every other cache name is written once, in the notebook that trains and reads it.
"""

from __future__ import annotations

#: Notebook 05's tuned dense networks (Exercise 5.6), by the labels 05 shows; 08 compares its CNNs with the best.
DENSE_RUNS = {
    "tuned": "ex5_best_dense",
    "tuned + augmentation": "ex5_best_dense_aug",
    "tuned + cosine + EMA": "ex5_best_dense_ema",
}
#: Notebook 07's MNIST CNN with augmentation; notebook 10 transfers its body to Fashion-MNIST.
MNIST_CNN_AUG = "mnist_cnn_aug"
#: Notebook 08's final Fashion-MNIST CNN; notebook 09 compares its search with it, and 11 interprets it.
FASHION_CNN_FINAL = "fashion_cnn_final"

#: The notebook that trains each shared run, and the notebooks that read it.
TRAINED_BY = {
    **dict.fromkeys(DENSE_RUNS.values(), "05_regularization"),
    MNIST_CNN_AUG: "07_mnist_cnns",
    FASHION_CNN_FINAL: "08_fashion_cnns",
}
_READERS = {
    **dict.fromkeys(DENSE_RUNS.values(), ("08_fashion_cnns",)),
    MNIST_CNN_AUG: ("10_transfer_learning",),
    FASHION_CNN_FINAL: ("09_fashion_cnn_search", "11_interpretation"),
}


def read_by(notebook: str) -> list[str]:
    """The shared runs that ``notebook`` reads from an earlier notebook."""
    return [name for name, readers in _READERS.items() if notebook in readers]
