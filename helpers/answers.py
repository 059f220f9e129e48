"""Answer checks: seed limits on characters and sentences, and the printed answer."""

from __future__ import annotations

import re
import textwrap

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx|resp|Fig|Eq|Ex)\.", re.IGNORECASE)


def count_sentences(text: str) -> int:
    """Count sentences: runs of ``.``, ``!`` or ``?`` followed by space or the end.

    Decimal numbers such as ``0.91`` and abbreviations such as ``e.g.`` do not
    end a sentence.
    """
    stripped = _ABBREVIATIONS.sub(lambda m: m.group(1), text.strip())
    if not stripped:
        return 0
    ends = len(_SENTENCE_END.findall(stripped))
    return ends + (0 if _SENTENCE_END.search(stripped[-1:]) or stripped[-1] in ".!?" else 1)


def check_answer(text: str, max_chars: int | None = None, max_sentences: int | None = None) -> None:
    """Print the answer, wrapped for the page, and its length; raise if it breaks the exercise's limits.

    Printing it shows the finished text in the rendered notebook, also when the
    answer is an f-string filled in from the runs.

    Raises:
        ValueError: If the answer is longer than ``max_chars`` characters or
            ``max_sentences`` sentences.
    """
    n_chars = len(text.strip())
    n_sentences = count_sentences(text)
    print(textwrap.fill(" ".join(text.split()), width=100, break_on_hyphens=False))
    print(f"Answer is {n_chars} characters long ({n_sentences} sentences)")
    if max_chars is not None and n_chars > max_chars:
        raise ValueError(f"answer has {n_chars} characters; the limit is {max_chars}")
    if max_sentences is not None and n_sentences > max_sentences:
        raise ValueError(f"answer has {n_sentences} sentences; the limit is {max_sentences}")
