"""Figures that show where they are made in Jupyter, as ``plt.show()`` would, and nowhere else.

The library builds matplotlib Figures without pyplot, so no figure is ever registered in
pyplot's global list: scripts and callbacks leak nothing, and nothing pops up. In a Jupyter (or
any IPython kernel) session, `show` publishes a figure's PNG at once, so figures drawn inside a
loop or a function all appear. A figure already shown is not shown a second time when it is also
the cell's last value (the first display of it in that cell is skipped; in a later cell,
`IPython.display.display(figure)` or the figure as the cell's value shows it again).
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.figure import Figure

DPI = 100


class NotebookFigure(Figure):
    """A Figure that displays itself as a PNG in IPython (no pyplot needed), once per cell."""

    _shown_in: int | None = None  # the execution count of the cell that showed it

    def _ipython_display_(self) -> None:
        shell = _kernel_shell()
        count = getattr(shell, "execution_count", None)
        if shell is not None and self._shown_in is not None and self._shown_in == count:
            self._shown_in = None  # shown by `show` in this very cell: once is enough
            return
        _publish(self)

    def png(self, dpi: int = DPI) -> bytes:
        """The figure as PNG bytes."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()


def in_notebook() -> bool:
    """True inside a Jupyter/IPython kernel (where a notebook shows rich outputs)."""
    return _kernel_shell() is not None


def show(figure: Figure, when: bool | None = None) -> Figure:
    """Show `figure` in the notebook now: always (`when` True), never (False) or when running
    in a notebook kernel (None). Returns the figure."""
    wanted = in_notebook() if when is None else when
    if wanted and in_notebook():
        _publish(figure)
        if isinstance(figure, NotebookFigure):
            figure._shown_in = getattr(_kernel_shell(), "execution_count", None)
    return figure


def _publish(figure: Figure) -> None:
    from IPython.display import Image, display  # only ever called inside IPython

    png = figure.png() if isinstance(figure, NotebookFigure) else _png(figure)
    display(Image(data=png, format="png"))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _kernel_shell() -> Any | None:
    """The running IPython kernel's shell, or None (a script, a terminal IPython, a test)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return shell
