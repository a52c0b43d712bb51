"""Figures of a report, rendered once to PNG bytes so that every format can embed them.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from toolkit.schema import TABLES
>>> from toolkit import plots
>>> leaks = TABLES["leaks"].frame({"needle_kind": ["url"], "organisation": ["Xiaomi"], "kind": ["leak"]})
>>> png = render_png(lambda ax: plots.leak_matrix(leaks, ax=ax))
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
from typing import Protocol

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from toolkit.plots import style

__all__ = ["Draw", "render_png"]


class Draw(Protocol):
    """Something that draws on the Axes it is given and returns it (every :mod:`toolkit.plots` function)."""

    def __call__(self, *, ax: Axes) -> Axes: ...


def render_png(draw: Draw, *, size: tuple[float, float] = (8.0, 4.0), dpi: int = 110) -> bytes:
    """Draw a figure with ``draw(ax=ax)`` on a fresh Figure (not pyplot's) and return it as PNG.

    The figure is never registered with pyplot, so a report never leaves figures open behind it.
    """
    with style():
        figure = Figure(figsize=size, layout="constrained")
        ax = figure.add_subplot()
        draw(ax=ax)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
