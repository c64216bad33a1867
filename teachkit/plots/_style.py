"""The look of every teachkit figure: the Okabe-Ito palette, the arms' colours, rc style,
figure and title helpers, and :class:`BarCollection` (bars that move in place).

Conventions (the same in every figure): the Okabe-Ito colour-blind-safe palette
(Okabe & Ito, 2008), with the two arms always in the same colours
(:data:`ARM_COLORS`); axis labels with units and a title that says what the
figure shows; readable at the size Voila shows a figure.  Figures are created
through pyplot and closed at once (:func:`_new_figure`).
"""

from __future__ import annotations

import contextlib
import functools
import math
from types import MappingProxyType

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PolyCollection

from teachkit import aall1331

#: The Okabe-Ito palette (Okabe M, Ito K. Color Universal Design, 2008): eight
#: colours distinguishable with every common colour-vision deficiency.
OKABE_ITO = MappingProxyType(
    {
        "black": "#000000",
        "orange": "#E69F00",
        "sky_blue": "#56B4E9",
        "bluish_green": "#009E73",
        "yellow": "#F0E442",
        "blue": "#0072B2",
        "vermillion": "#D55E00",
        "reddish_purple": "#CC79A7",
    }
)

#: The two arms' colours, the same in every figure and explorer.
ARM_COLORS = MappingProxyType(
    {"blinatumomab": OKABE_ITO["blue"], "chemotherapy": OKABE_ITO["vermillion"]}
)

#: Display names of the arms (from :mod:`teachkit.aall1331`).
ARM_LABELS = aall1331.ARM_LABELS

#: Neutral colours used for boxes, grids and "not this outcome" icons.
GREY = "#8C8C8C"
LIGHT_GREY = "#D9D9D9"
BOX_FILL = "#F4F4F4"

#: matplotlib rc settings of teachkit figures (sizes chosen for Voila at 100 dpi).
STYLE = MappingProxyType(
    {
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "font.size": 11,
        "axes.titlesize": 13,
        "axes.titleweight": "bold",
        "axes.labelsize": 12,
        "xtick.labelsize": 11,
        "ytick.labelsize": 11,
        "legend.fontsize": 11,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": matplotlib.cycler(
            color=[OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "orange",
                                          "reddish_purple", "sky_blue", "yellow", "black")]
        ),
        "lines.linewidth": 2.0,
        "axes.grid": False,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
    }
)


@contextlib.contextmanager
def style():
    """Context manager applying :data:`STYLE` (teachkit's look) temporarily.

    >>> with style():
    ...     fig = _new_figure((4, 3))
    >>> fig.get_dpi()
    100.0
    """
    with matplotlib.rc_context(dict(STYLE)):
        yield


def arm_color(arm: str) -> str:
    """The colour of an arm (``"blinatumomab"`` or ``"chemotherapy"``).

    >>> arm_color("blinatumomab")
    '#0072B2'
    """
    if arm not in ARM_COLORS:
        raise ValueError(f"arm must be one of {tuple(ARM_COLORS)}, got {arm!r}")
    return ARM_COLORS[arm]


def _styled(func):
    """Run a plotting function under :func:`style` (rc values are read when artists are made)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style():
            return func(*args, **kwargs)

    return wrapper


def _new_figure(figsize):
    """A pyplot figure, closed at once: shown once in notebooks, never leaked."""
    with style():
        fig = plt.figure(figsize=figsize)
    plt.close(fig)
    return fig


def _figure_and_axes(ax, figsize, rect=None):
    """The given axes and their figure, or a new figure of ``figsize`` with one axes
    (filling ``rect`` in figure coordinates when given)."""
    if ax is None:
        fig = _new_figure(figsize)
        with style():
            ax = fig.add_axes(rect) if rect is not None else fig.add_subplot(1, 1, 1)
        return fig, ax
    if not isinstance(ax, matplotlib.axes.Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax


# --------------------------------------------------------------------------------------
# Building blocks that update in place (used by the explorers)
# --------------------------------------------------------------------------------------

class BarCollection(PolyCollection):
    """Bars drawn as one :class:`~matplotlib.collections.PolyCollection`.

    One draw call for all bars, and ``set_values`` moves them in place (no new
    artists), which keeps explorers fast.

    >>> fig = _new_figure((4, 3)); ax = fig.add_subplot()
    >>> bars = BarCollection(ax, [0, 1, 2], 0.8, color="C0")
    >>> bars.set_values([1, 3, 2]); bars.values.tolist()
    [1.0, 3.0, 2.0]
    """

    def __init__(self, ax, positions, width, *, color, label=None, horizontal=False, base=0.0,
                 **kwargs):
        self.positions = np.asarray(positions, dtype=float)
        self.width = np.broadcast_to(np.asarray(width, dtype=float), self.positions.shape)
        self.horizontal = bool(horizontal)
        self.base = base
        self.values = np.zeros(self.positions.size)
        super().__init__(self._verts(), facecolors=color, edgecolors="none", label=label,
                         **kwargs)
        ax.add_collection(self, autolim=False)

    def _verts(self):
        lo = self.positions - self.width / 2
        hi = self.positions + self.width / 2
        b = np.broadcast_to(np.asarray(self.base, dtype=float), self.positions.shape)
        v = b + self.values
        xs = np.stack([lo, lo, hi, hi], axis=1)
        ys = np.stack([b, v, v, b], axis=1)
        if self.horizontal:
            xs, ys = ys, xs
        return np.stack([xs, ys], axis=2)

    def set_values(self, values, base=None):
        values = np.asarray(values, dtype=float)
        if values.shape != self.positions.shape:
            raise ValueError(f"values must have shape {self.positions.shape}, got {values.shape}")
        self.values = values
        if base is not None:
            self.base = base
        self.set_verts(self._verts())


def _set_title(fig, ax, title, owned):
    """Title at the figure's left edge when we own the figure, else on the axes; made to fit
    the figure's width (:func:`fit_text`)."""
    if owned:
        fit_text(fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold"))
    else:
        fit_text(ax.set_title(title, loc="left"))


def _renderer(fig):
    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(fig)
    return canvas.get_renderer()


def fit_text(text, min_size: float = 8.0, margin: float = 4.0):
    """Make a title (or any text) fit inside its figure's width: its font is made smaller
    (down to ``min_size`` points), then its longest lines are broken between words.  The
    size it was given first is kept (``_tk_size``), so a shorter text later gets it back.
    Returns ``text``.

    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(3, 2)); t = fig.suptitle("a title far too long for a figure this narrow", x=0.01, ha="left")
    >>> _ = fit_text(t); bool(t.get_window_extent(_renderer(fig)).x1 <= fig.bbox.x1)
    True
    """
    fig = text.figure
    if fig is None or not text.get_text():
        return text
    size = getattr(text, "_tk_size", None)
    if size is None:
        size = text._tk_size = text.get_fontsize()
        text._tk_words = None
    raw = text.get_text() if getattr(text, "_tk_fitted", None) != text.get_text() else text._tk_source
    text._tk_source = raw
    text.set_text(raw)
    text.set_fontsize(size)
    renderer = _renderer(fig)
    right = fig.bbox.x1 - margin

    def too_wide():
        box = text.get_window_extent(renderer)
        return box.x1 > right or box.x0 < fig.bbox.x0 + margin * 0.5

    while too_wide() and text.get_fontsize() > min_size:
        text.set_fontsize(max(min_size, text.get_fontsize() - 0.5))
    if too_wide():
        lines = []
        for line in raw.split("\n"):
            words, current = line.split(" "), ""
            for word in words:
                trial = f"{current} {word}".strip()
                text.set_text(trial)
                if current and too_wide():
                    lines.append(current)
                    current = word
                else:
                    current = trial
            lines.append(current)
        text.set_text("\n".join(lines))
    text._tk_fitted = text.get_text()
    return text


def titles(fig) -> list:
    """The figure's title texts: its suptitle and each axes' titles."""
    out = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title]
    return [t for t in out if t.get_text()]


def fit_titles(fig, animated=None):
    """:func:`fit_text` on the figure's titles (``animated``: only those that are, or only
    those that are not, animated)."""
    for t in titles(fig):
        if animated is None or bool(t.get_animated()) == animated:
            fit_text(t)


def figure_title(fig) -> str:
    """The title a teachkit figure shows (its suptitle, else the first axes' title).

    >>> from teachkit.plots import forest_plot
    >>> figure_title(forest_plot(["a"], [1.0], [0.5], [2.0], title="Effect"))
    'Effect'
    """
    if fig._suptitle is not None and fig._suptitle.get_text():
        return fig._suptitle.get_text()
    for ax in fig.axes:
        for loc in ("left", "center"):
            if ax.get_title(loc=loc):
                return ax.get_title(loc=loc)
    return ""


def _nice_step(raw):
    """A round step (1, 2, 2.5, 5 x 10^k) near ``raw``."""
    if raw <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= raw:
            return m * exp
    return 10 * exp  # pragma: no cover
