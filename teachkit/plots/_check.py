"""What makes a figure look broken, found by class (issue 26, item 7): a legend entry whose
artist draws nothing ("observed" with no observed point), a legend drawn over bars or
points, and text cut by the edge of the figure (a title longer than the figure is wide).

:func:`figure_problems` lists them; the tests run it on every explorer's pictures and every
figure function, and :func:`teachkit.explorers.show_figure` runs it on a lesson's figures
when ``TEACHKIT_STRICT_FIGURES`` is set (the lesson-execution test sets it).

>>> from matplotlib.figure import Figure
>>> fig = Figure(figsize=(4, 3)); ax = fig.add_subplot()
>>> _ = ax.plot([0, 1], [0, 1], label="a line"); _ = ax.plot([], [], "o", label="observed")
>>> _ = ax.legend(loc="lower right")
>>> figure_problems(fig)
["legend entry 'observed': nothing of it is drawn"]
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import Collection, PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text

#: Pixels a text may pass the figure's edge (antialiasing).
SLACK = 1.5


def _in_view(ax, x, y) -> np.ndarray:
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if x.size == 0 or y.size == 0:
        return np.zeros(0, dtype=bool)
    if x.size != y.size:
        x, y = np.broadcast_arrays(x, y) if min(x.size, y.size) == 1 else (x[:0], y[:0])
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    return np.isfinite(x) & np.isfinite(y) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def drawn(artist) -> bool:
    """Whether ``artist`` puts anything on its axes (visible, with data inside the view)."""
    if not artist.get_visible():
        return False
    ax = artist.axes
    if isinstance(artist, Line2D):
        x, y = artist.get_xdata(orig=False), artist.get_ydata(orig=False)
        if ax is None:
            return len(x) > 0
        tx, ty = artist.get_transform(), ax.transData
        if tx != ty:                      # axhline/axvline: drawn in axes coordinates
            return len(np.asarray(x)) > 0 and np.isfinite(np.asarray(x, float)).any()
        return bool(_in_view(ax, x, y).any())
    if isinstance(artist, PolyCollection) or (isinstance(artist, Collection) and not artist.get_offsets().size):
        # bars, bands: a path with an extent (a zero-height bar draws nothing)
        return any(p.vertices.size and np.isfinite(p.vertices).all()
                   and np.ptp(p.vertices[:, 0]) > 0 and np.ptp(p.vertices[:, 1]) > 0
                   for p in artist.get_paths())
    if isinstance(artist, Collection):
        offsets = np.asarray(artist.get_offsets())
        if ax is None or artist.get_offset_transform() != ax.transData:
            return offsets.size > 0
        return bool(offsets.size and _in_view(ax, offsets[:, 0], offsets[:, 1]).any())
    if isinstance(artist, Rectangle):
        return artist.get_width() != 0 and artist.get_height() != 0
    if isinstance(artist, Patch):
        return True
    return True


def _boxes(artist, renderer):
    """Display-space boxes of what ``artist`` draws where a legend must not sit: bars (one
    box each: patches, teachkit's BarCollection) and markers (one small box each); lines and
    bands are not counted (a legend box over a band or a line is usual and readable)."""
    from matplotlib.transforms import Bbox

    if not artist.get_visible():
        return []
    if isinstance(artist, Rectangle) and artist.axes is not None and drawn(artist):
        return [artist.get_window_extent(renderer)]
    from teachkit.plots._style import BarCollection

    if isinstance(artist, BarCollection):          # bars, not bands (fill_between)
        out = []
        transform = artist.get_transform()
        for path in artist.get_paths():
            v = path.vertices
            if v.size and np.isfinite(v).all():
                xy = transform.transform(v)
                out.append(Bbox([xy.min(axis=0), xy.max(axis=0)]))
        return out
    if isinstance(artist, Line2D) and artist.get_marker() not in (None, "", "None", " ") \
            and artist.get_linestyle() in ("None", "", " "):
        x, y = artist.get_xdata(orig=False), artist.get_ydata(orig=False)
        if not len(x):
            return []
        pts = artist.get_transform().transform(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
        r = artist.get_markersize() / 2
        return [Bbox([[px - r, py - r], [px + r, py + r]]) for px, py in pts if np.isfinite([px, py]).all()]
    return []


def figure_problems(fig) -> list[str]:
    """What looks broken in ``fig`` (drawn once here): legend entries that draw nothing,
    legends over bars or markers, text cut by the figure's edge."""
    from teachkit.plots._style import _renderer

    renderer = _renderer(fig)
    fig.canvas.draw() if hasattr(fig.canvas, "get_renderer") else None
    problems = []
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        children = ax.get_children()
        for text in legend.get_texts():
            label = text.get_text()
            artists = [a for a in children if a is not legend and a.get_label() == label]
            if artists and not any(drawn(a) for a in artists):
                problems.append(f"legend entry {label!r}: nothing of it is drawn")
        box = legend.get_window_extent(renderer).shrunk(0.98, 0.9)
        for a in children:
            if a is legend:
                continue
            for b in _boxes(a, renderer):
                if b.width > 0 and b.height > 0 and box.overlaps(b):
                    problems.append(f"legend of {ax.get_title(loc='left') or ax.get_title() or 'an axes'!r} "
                                    f"is drawn over {a.get_label() or type(a).__name__!r}")
                    break
            else:
                continue
            break
    edge = fig.bbox
    texts = list(fig.texts)
    if getattr(fig, "_suptitle", None) is not None:
        texts.append(fig._suptitle)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        if ax.axison:
            texts += [ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            texts += list(ax.get_legend().get_texts())
    for t in texts:
        if not t.get_visible() or not t.get_text().strip():
            continue
        if t.get_clip_on() and t.axes is not None and t not in (t.axes.title, t.axes._left_title,
                                                                 t.axes._right_title):
            continue            # clipped to its axes on purpose (cell texts of a table)
        e = t.get_window_extent(renderer)
        if e.x0 < edge.x0 - SLACK or e.x1 > edge.x1 + SLACK or e.y0 < edge.y0 - SLACK or e.y1 > edge.y1 + SLACK:
            problems.append(f"text cut by the figure's edge: {t.get_text()[:60]!r}")
    return problems
