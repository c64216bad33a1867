"""Layout helpers shared by the explorers' views: axis limits on a ladder (so the
cached background is rarely redrawn) and bar charts drawn as one collection.
"""

from __future__ import annotations

import numpy as np

from teachkit import plots


def _ceiling(value: float, ladder) -> float:
    """The first rung of ``ladder`` at or above ``value`` (axis limits that rarely change,
    so the cached background can be reused)."""
    for rung in ladder:
        if value <= rung:
            return float(rung)
    return float(ladder[-1])


def _Bars(ax, positions, width, *, color, label=None, horizontal=False, base=0.0, **kw):
    """Bars as ONE PolyCollection (one draw call), updated with ``set_values``."""
    return plots.BarCollection(ax, positions, width, color=color, label=label,
                               horizontal=horizontal, base=base, **kw)


def _LogBars(ax, edges, *, color, label=None):
    """Histogram bars between ``edges`` (any scale) as one BarCollection."""
    edges = np.asarray(edges, dtype=float)
    return plots.BarCollection(ax, (edges[1:] + edges[:-1]) / 2, np.diff(edges), color=color,
                               label=label)
