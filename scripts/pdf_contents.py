"""What a rendered PDF must show, and what it lost.

A hand-in PDF is only useful if every number the notebook prints can be found
in it. :func:`missing_from_pdf` compares an executed notebook with the text
layer of its PDF (``pdftotext``): every cell of every HTML table and every line
of text output must appear there. Whitespace is ignored (wrapping on paper adds
line breaks), and so are Unicode compatibility forms (ligatures). Figures are
checked separately: :func:`blank_figure_pages` lists the pages that hold an
image but show (almost) nothing.
"""

from __future__ import annotations

import html
import re
import subprocess
import tempfile
import unicodedata
from pathlib import Path
from typing import NamedTuple

import nbformat

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# the MIME type a notebook front end shows for an output, in nbconvert's order of preference
WORD_BOX = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
DISPLAY_ORDER = ("text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown", "text/latex", "text/plain")


def squash(text: str) -> str:
    """Text without whitespace, in Unicode compatibility form (as compared)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _html_texts(html: str) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["style", "script"]):
        tag.decompose()
    texts = [cell.get_text(" ") for cell in soup.find_all(["th", "td"])]
    for table in soup.find_all("table"):
        table.decompose()
    texts += soup.get_text("\n").splitlines()
    return texts


def displayed_texts(nb: nbformat.NotebookNode) -> list[str]:
    """Every table cell and text line the outputs of ``nb`` show, in order."""
    texts: list[str] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts += ANSI.sub("", out.get("text", "")).splitlines()
                continue
            if out.get("output_type") == "error":
                texts += [f"{out.get('ename')}: {out.get('evalue')}"]
                continue
            data = out.get("data", {})
            shown = next((mime for mime in DISPLAY_ORDER if mime in data), None)
            if shown == "text/html":
                texts += _html_texts(data[shown])
            elif shown in ("text/plain", "text/markdown"):
                texts += ANSI.sub("", data[shown]).splitlines()
    return [t for t in texts if squash(t)]


def pdf_text(pdf: Path, *, layout: bool = False) -> str:
    """The text layer of ``pdf`` (``pdftotext``), in reading order or, with ``layout``, as laid out on the page.

    Reading order keeps a wrapped table header together; layout order keeps a
    column-aligned array row together when it wraps onto a second line.
    """
    mode = ["-layout"] if layout else []
    return subprocess.run(["pdftotext", *mode, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


class Word(NamedTuple):
    """One word of the text layer and its box on the page (points, y downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def pdf_words(pdf: Path) -> list[list[Word]]:
    """The words of each page with their boxes (``pdftotext -bbox``)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        pages.append(
            [
                Word(float(a), float(b), float(c), float(d), squash(html.unescape(t)))
                for a, b, c, d, t in WORD_BOX.findall(page)
            ]
        )
    return pages


def _continues(target: str, last: Word, left: float, right: float, words: list[Word]) -> bool:
    """Whether ``target`` goes on from ``last``: to its right on the line, or wrapped below, under the same cell."""
    if not target:
        return True
    height = last.y1 - last.y0
    for word in words:
        same_line = abs(word.y0 - last.y0) < height / 2 and 0 <= word.x0 - last.x1 < 2 * height
        below = 0 < word.y0 - last.y0 < 2.5 * height and word.x0 < right + height and word.x1 > left - height
        if (same_line or below) and word.text and target.startswith(word.text):
            box_left, box_right = min(left, word.x0), max(right, word.x1)
            if _continues(target[len(word.text) :], word, box_left, box_right, words):
                return True
    return False


def on_paper(target: str, pages: list[list[Word]]) -> bool:
    """Whether the squashed ``target`` can be read off the page as one run of neighbouring words.

    This finds a table header wrapped over several lines, which the reading
    order of ``pdftotext`` interleaves with the headers beside it.
    """
    for words in pages:
        for word in words:
            if word.text and target.startswith(word.text):
                if _continues(target[len(word.text) :], word, word.x0, word.x1, words):
                    return True
    return False


def missing_from_pdf(nb: nbformat.NotebookNode, pdf: Path) -> list[str]:
    """The table cells and output lines of ``nb`` that its PDF does not show.

    A text counts as shown when it is in the text layer read in reading order
    or as laid out, or when it can be read off the page word by word (wrapped).
    """
    layers = [squash(pdf_text(pdf)), squash(pdf_text(pdf, layout=True))]
    missing = [text for text in displayed_texts(nb) if not any(squash(text) in layer for layer in layers)]
    if missing:
        pages = pdf_words(pdf)
        missing = [text for text in missing if not on_paper(squash(text), pages)]
    return missing


def image_pages(pdf: Path) -> list[int]:
    """Pages (1-based) that hold at least one embedded image (``pdfimages -list``)."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = set()
    for line in listing.splitlines()[2:]:
        fields = line.split()
        if fields and fields[0].isdigit() and int(fields[3]) > 16 and int(fields[4]) > 16:  # width, height
            pages.add(int(fields[0]))
    return sorted(pages)


def blank_figure_pages(pdf: Path, *, dpi: int = 30) -> list[int]:
    """Pages that hold an image yet render (nearly) blank: no dark pixels, no contrast."""
    import numpy as np
    from PIL import Image

    blank = []
    with tempfile.TemporaryDirectory() as tmp:
        for page in image_pages(pdf):
            prefix = Path(tmp) / f"p{page}"
            subprocess.run(
                ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", str(pdf), str(prefix)],
                check=True,
            )
            (png,) = Path(tmp).glob(f"p{page}*.png")
            pixels = np.asarray(Image.open(png).convert("L"), dtype=float)
            if pixels.min() > 100 or pixels.std() < 10:
                blank.append(page)
    return blank
