"""Answers and takeaways: seed limits on characters, sentences and words, and the printed text."""

from __future__ import annotations

import html
import re
import textwrap

from helpers.errors import OneLineError

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
MAX_SENTENCE_WORDS = 40  # concise in spirit too: about two lines of print per sentence
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


def sentence_words(text: str) -> list[int]:
    """The number of words in each sentence of ``text`` (sentences as :func:`count_sentences` counts them)."""
    stripped = _ABBREVIATIONS.sub(lambda m: m.group(1), text.strip())
    return [len(s.split()) for s in _SENTENCE_END.split(stripped) if s.strip()]


class EmptyAnswer(OneLineError, NotImplementedError):
    """An answer left as the release's empty string."""


def check_answer(
    text: str, max_chars: int | None = None, max_sentences: int | None = None, *, max_words: int = MAX_SENTENCE_WORDS
) -> None:
    """Print the answer, wrapped for the page, and its length; raise if it breaks the exercise's limits.

    Printing it shows the finished text in the rendered notebook, also when the
    answer is an f-string filled in from the runs. Besides the seed's limits, no
    sentence may run longer than ``max_words`` words: a limit on sentences is
    not met by writing longer ones.

    Raises:
        ValueError: If the answer is longer than ``max_chars`` characters or
            ``max_sentences`` sentences, or one of its sentences has more than
            ``max_words`` words.
    """
    if not isinstance(text, str) or not text.strip():
        raise EmptyAnswer("the answer is empty: write it between the quotes of answer_... above, then run this cell")
    n_chars = len(text.strip())
    n_sentences = count_sentences(text)
    longest = max(sentence_words(text), default=0)
    print(textwrap.fill(" ".join(text.split()), width=100, break_on_hyphens=False))
    print(f"Answer is {n_chars} characters long ({n_sentences} sentences)")
    if max_chars is not None and n_chars > max_chars:
        raise ValueError(f"answer has {n_chars} characters; the limit is {max_chars}")
    if max_sentences is not None and n_sentences > max_sentences:
        raise ValueError(f"answer has {n_sentences} sentences; the limit is {max_sentences}")
    if longest > max_words:
        raise ValueError(f"an answer sentence has {longest} words; split it (at most {max_words} words)")


def show_takeaways(*points: str) -> None:
    """Show a notebook's takeaways as a bulleted list, written from the runs (f-strings).

    In a notebook the list is HTML, so it reads like the Markdown around it;
    its plain-text copy (and the output outside IPython) is one ``*`` line per point.

    Args:
        *points: One takeaway each, typically f-strings filled in from the runs.
    """
    plain = "\n".join(
        textwrap.fill(" ".join(p.split()), width=100, initial_indent="* ", subsequent_indent="  ") for p in points
    )
    items = "".join(f"<li>{html.escape(' '.join(p.split()))}</li>" for p in points)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        print(plain)
        return
    if get_ipython() is None:
        print(plain)
        return
    display({"text/html": f"<ul>{items}</ul>", "text/plain": plain}, raw=True)
