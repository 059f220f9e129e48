"""One base for the errors users meet: shown in a notebook as one line, not a traceback through helpers."""

from __future__ import annotations


class OneLineError(Exception):
    """Mixin for the helpers' errors: IPython shows ``Name: message`` and nothing else.

    IPython calls ``_render_traceback_`` instead of formatting the traceback,
    so a missing dataset or cache entry reads as one line saying what is wrong
    and what to do; the full traceback stays available to ``%debug``.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]
