"""How tables and model summaries look in a notebook and in its PDF.

Code keeps pandas' snake_case column names (``table["best_val_accuracy"]``);
readers see words ("best val accuracy"). :func:`install_table_format` registers
an HTML formatter for DataFrames in the running IPython kernel that only
changes the labels shown, never the data, and lets long labels wrap so that
wide tables fit a printed page. It also keeps terminal colour codes out of the
plain-text copy of Keras' (rich) model summaries; their HTML is unchanged.
:func:`show_figures_once` keeps a figure that a cell returns from being shown a
second time, so plotting cells need no trailing ``;``.
"""

from __future__ import annotations

import re

import pandas as pd

ANSI_CODE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def readable_label(label: object) -> object:
    """``"best_val_accuracy"`` -> ``"best val accuracy"``; other labels unchanged."""
    return label.replace("_", " ") if isinstance(label, str) else label


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose column labels and axis names read as words.

    Row labels are left alone: they are often cache names.

    Args:
        frame: Any DataFrame.

    Returns:
        The same values under readable labels.
    """
    shown = frame.copy(deep=False)
    columns = shown.columns
    if isinstance(columns, pd.MultiIndex):
        columns = columns.set_levels([level.map(readable_label) for level in columns.levels])
    else:
        columns = columns.map(readable_label)
    shown.columns = columns.set_names([readable_label(n) for n in columns.names])
    shown.index = shown.index.set_names([readable_label(n) for n in shown.index.names])
    return shown


def table_html(frame: pd.DataFrame) -> str:
    """The HTML a notebook shows for ``frame``: readable labels, pandas' own rendering."""
    return readable(frame)._repr_html_()


def install_table_format() -> bool:
    """Show DataFrames with readable labels in the running IPython kernel.

    Returns:
        True if a kernel was found and the formatter installed, else False.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, table_html)
    try:
        from rich.jupyter import JupyterRenderable
    except ImportError:
        return True
    shell.display_formatter.mimebundle_formatter.for_type(
        JupyterRenderable, lambda obj: {"text/plain": ANSI_CODE.sub("", obj.text), "text/html": obj.html}
    )
    return True


def show_figures_once() -> bool:
    """Show each matplotlib figure a cell returns once, in the running IPython kernel.

    The inline backend shows every open figure when a cell ends; a plotting
    helper's returned figure would be shown a second time as the cell's result
    (the reason for the trailing ``;`` notebooks often carry). Here a figure is
    shown through IPython's own formatters and then closed, so whichever comes
    first, the cell's result or the end of the cell, shows it, and only once.

    Returns:
        True if a kernel was found and the display rule installed, else False.
    """
    try:
        from IPython import get_ipython
        from IPython.display import publish_display_data
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    def show(figure: Figure) -> None:
        data, metadata = {}, {}
        for mime, formatter in shell.display_formatter.formatters.items():
            value = formatter(figure)
            if isinstance(value, tuple):  # (data, metadata), e.g. retina PNGs
                value, metadata[mime] = value
            if value is not None:
                data[mime] = value
        publish_display_data(data, metadata)
        plt.close(figure)

    shell.display_formatter.ipython_display_formatter.for_type(Figure, show)
    return True
