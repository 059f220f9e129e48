"""Write each notebook source's contents cell from its section headings (one source of truth: the headings).

The contents cell follows the title cell and links to every ``##`` heading, so
the exercises a notebook solves can be found from its top, in JupyterLab and in
the rendered HTML and PDF (both make a heading's id from its text, spaces
turned into ``-``).

Usage::

    python scripts/contents.py          # rewrite the contents cells
    python scripts/contents.py --check  # exit 1 if one is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
MARKER = '# %% [markdown] tags=["contents"]'
HEADING = re.compile(r"^# ## (.+)$", re.M)


def anchor(heading: str) -> str:
    """The link to a heading: its text with spaces as ``-``, percent-encoded where Markdown needs it."""
    return "#" + quote(heading.strip().replace(" ", "-"), safe="-:.,'\"_")


def contents_cell(source: str) -> str:
    """The contents cell for a notebook source (jupytext percent format)."""
    headings = HEADING.findall(source)
    lines = [MARKER, "# **Contents**", "#"]
    lines += [f"# {i}. [{h.strip()}]({anchor(h)})" for i, h in enumerate(headings, 1)]
    return "\n".join(lines) + "\n"


def with_contents(source: str) -> str:
    """The source with its contents cell (inserted after the title cell, or replaced)."""
    cell = contents_cell(source)
    if MARKER in source:
        start = source.index(MARKER)
        end = source.find("\n# %%", start + len(MARKER))
        return source[:start] + cell + "\n" + source[end + 1 :]
    second = source.index("\n# %%", 1)  # the title cell ends here, after a blank line
    return source[: second + 1] + cell + "\n" + source[second + 1 :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report sources whose contents are out of date")
    args = parser.parse_args(argv)
    stale = []
    for path in sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py")):
        source = path.read_text()
        new = with_contents(source)
        if new != source:
            stale.append(path.name)
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        print("contents out of date (run python scripts/contents.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
