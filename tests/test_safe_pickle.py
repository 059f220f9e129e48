"""The restricted unpickler refuses code and admits plain data."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from helpers import safe_pickle


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_crafted_pickle_is_refused_without_side_effects(tmp_path):
    marker = tmp_path / "pwned"
    blob = pickle.dumps({"loss": [1.0], "x": _Payload(marker)})
    with pytest.raises(safe_pickle.UnsafePickle, match="system"):
        safe_pickle.loads(blob)
    assert not marker.exists()


def test_plain_history_loads():
    history = {"loss": [1.0, 0.5], "accuracy": [0.1, 0.9], "n": (1, 2), "s": {"a"}}
    assert safe_pickle.loads(pickle.dumps(history)) == history


def test_numpy_only_when_allowed():
    blob = pickle.dumps({"a": np.arange(3)})
    with pytest.raises(safe_pickle.UnsafePickle):
        safe_pickle.loads(blob)
    np.testing.assert_array_equal(safe_pickle.loads(blob, allow_numpy=True)["a"], np.arange(3))
