"""A restricted unpickler: loads plain data, refuses anything that could run code.

The training histories are pickles (as the seeds stored them), but a pickle can
name any importable callable and call it while loading. :func:`load` admits
only the built-in containers, strings and numbers (and, for the CIFAR-10
batches, numpy arrays), so a crafted file is refused before anything runs.
"""

from __future__ import annotations

import io
import pickle
from typing import IO, Any

_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
}


class UnsafePickle(pickle.UnpicklingError):
    """The pickle names a global that is not on the allow-list."""


def _plain_dtype(*args: Any) -> Any:
    """``numpy.dtype`` for plain numbers only: no void, object or string types of any size."""
    import numpy as np

    dtype = np.dtype(*args[:1])
    if dtype.kind not in "biuf" or dtype.itemsize > 8:
        raise UnsafePickle(f"refused numpy dtype {dtype!r} in a pickle (plain numbers only)")
    return dtype


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], *, allow_numpy: bool, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self._allow_numpy = allow_numpy

    def find_class(self, module: str, name: str) -> Any:
        if self._allow_numpy and (module, name) == ("numpy", "dtype"):
            return _plain_dtype
        if self._allow_numpy and (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        raise UnsafePickle(f"refused to load global {module}.{name} from a pickle")


def load(file: IO[bytes], *, allow_numpy: bool = False, **kwargs: Any) -> Any:
    """Unpickle from an open binary file, allowing only plain data.

    Args:
        file: Binary file object.
        allow_numpy: Also admit numpy arrays and scalars.
        **kwargs: Passed to :class:`pickle.Unpickler` (e.g. ``encoding``).

    Raises:
        UnsafePickle: If the pickle references any other global.
        pickle.UnpicklingError, EOFError: If it is truncated or corrupt.
    """
    return _RestrictedUnpickler(file, allow_numpy=allow_numpy, **kwargs).load()


def loads(data: bytes, **kwargs: Any) -> Any:
    """Like :func:`load` for a bytes object."""
    return load(io.BytesIO(data), **kwargs)
