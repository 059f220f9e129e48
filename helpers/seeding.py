"""Seeding a model build so that only the seed decides its initial weights, whatever other threads do.

``keras.utils.set_random_seed`` seeds Python's global ``random``, and Keras
draws the seed of every initializer and dropout layer made without one from
it. Any other thread of the process that uses ``random`` meanwhile (a Dask
worker's event loop does) shifts those draws, and with them the weights. Inside
:func:`seeded_build`, Keras draws from a private ``random.Random(seed)``
instead: the same sequence the seeded global one gives an undisturbed
process, so models built before this existed keep their weights and keys.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator

import keras
import numpy as np
from keras.src.random import seed_generator

from helpers.errors import OneLineError

_LOCK = threading.Lock()


class UnknownKerasSeeding(OneLineError, RuntimeError):
    """This Keras draws its default seeds somewhere :func:`seeded_build` does not know."""


@contextlib.contextmanager
def seeded_build(seed: int) -> Iterator[None]:
    """Seed every random stream with ``seed``; Keras' default seeds come from a private generator meanwhile.

    Builds in two threads of one process wait for each other.

    Raises:
        UnknownKerasSeeding: this Keras no longer draws its default seeds from the ``random`` module that
            ``keras.src.random.seed_generator`` names, so the private generator would be ignored.
    """
    with _LOCK:
        shared = getattr(seed_generator, "python_random", None)
        if shared is not random:
            raise UnknownKerasSeeding(
                f"Keras {keras.__version__} draws its default seeds in a way this suite does not know, so a "
                "build's weights could depend on other threads: install the Keras version in requirements.txt"
            )
        keras.utils.set_random_seed(seed)
        seed_generator.python_random = random.Random(seed)
        try:
            yield
        finally:
            seed_generator.python_random = shared


def random_states() -> tuple:
    """The global random generators' states (Python's and NumPy's), to give back later."""
    return random.getstate(), np.random.get_state()


def set_random_states(states: tuple) -> None:
    """Give Python's and NumPy's global generators the states :func:`random_states` took."""
    random.setstate(states[0])
    np.random.set_state(states[1])
