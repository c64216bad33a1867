"""Interactive explorers: move a control, see why.

Every explorer is a class built the same way:

``compute(**params)``
    pure: parameters in, a frozen result out; no widgets, no figure.  This is what
    the tests check against the library functions.
``update(**params)``
    validates the changed parameters (a bad value raises ``ValueError`` naming it),
    runs ``compute`` and updates the figure's artists *in place* (``set_data``,
    ``set_text``, ``set_verts``...), then draws the one Agg figure of the explorer to
    PNG bytes.  A failure inside ``compute`` never shows a traceback: the explorer
    shows a short message instead and keeps the last picture.
``widget``
    an ipywidgets layout: labelled controls (ranges chosen so that they cannot
    produce invalid input; sliders, dropdowns and buttons are all keyboard
    operable), a message line, and an ``ipywidgets.Image`` showing the PNG.  No
    ipympl and no ``clear_output``: the picture is swapped in place, so it does not
    flicker in Voila.
``example_params()``
    a handful of parameter sets sweeping the controls (used by tests and benchmarks).

>>> from teachkit import explorers
>>> ex = explorers.RiskClassifier()
>>> ex.update(site="marrow", months_from_diagnosis=40, mrd=0.5).group.value
'intermediate'
>>> ex.png[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import html
import math
import struct
import textwrap
import time
import zlib
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from teachkit import plots

__all__ = ["Param", "Explorer", "ALL", "SYNTHETIC_NOTE", "CheckYourself"]

#: Shown wherever the synthetic cohort appears.
SYNTHETIC_NOTE = "synthetic, calibrated to published summaries"


# --------------------------------------------------------------------------------------
# Parameters: one description drives validation *and* the control
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One parameter of an explorer and the control that sets it.

    ``kind`` is ``"float"``, ``"int"``, ``"log"`` (a float on a log-scale slider),
    ``"choice"`` (one of ``options``), ``"bool"``, ``"seed"`` (a non-negative integer
    changed by a "new sample" button) or ``"indices"`` (a set of integers in
    ``[min, max]``, chosen in a multiple-selection list).  Validation and the control
    share ``min``/``max``/``options``, so a control cannot produce a value that
    :meth:`validate` rejects.
    """

    name: str
    label: str
    kind: str
    default: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple = ()
    option_labels: tuple = ()
    optional: bool = False  # None allowed (e.g. "MRD not measured")
    continuous: bool = True  # redraw while a slider is dragged
    help: str = ""

    def validate(self, value):
        """Return the value in canonical form or raise ``ValueError``/``TypeError`` naming it."""
        name = self.name
        if value is None:
            if self.optional:
                return None
            raise ValueError(f"{name} must not be None")
        if self.kind in ("float", "log"):
            if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value) or not (self.min <= value <= self.max):
                raise ValueError(f"{name} must be between {self.min:g} and {self.max:g}, got {value!r}")
            return value
        if self.kind in ("int", "seed"):
            if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            value = int(value)
            low = 0 if self.kind == "seed" else self.min
            high = 2**32 - 1 if self.kind == "seed" else self.max
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}, got {value}")
            return value
        if self.kind == "choice":
            if value not in self.options:
                raise ValueError(f"{name} must be one of {self.options}, got {value!r}")
            return value
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}")
            return bool(value)
        if self.kind == "indices":
            try:
                items = tuple(sorted(set(value)))
            except TypeError:
                raise ValueError(f"{name} must be a collection of integers, got {value!r}") from None
            for i in items:
                if isinstance(i, bool) or not isinstance(i, (Integral, np.integer)) or not (
                        self.min <= i <= self.max):
                    raise ValueError(f"{name} must hold integers between {self.min} and "
                                     f"{self.max}, got {i!r}")
            return tuple(int(i) for i in items)
        raise ValueError(f"unknown parameter kind {self.kind!r} for {name}")  # pragma: no cover

    # ---- the control ------------------------------------------------------------------
    def make_control(self):
        import ipywidgets as W

        style = {"description_width": "initial"}
        # Fill the grid cell: with width "auto" a long label leaves the slider track no room.
        layout = W.Layout(width="100%", min_width="260px")
        common = dict(description=self.label, style=style, layout=layout,
                      tooltip=self.help or self.label)
        if self.kind == "float":
            return W.FloatSlider(value=self.default, min=self.min, max=self.max, step=self.step,
                                 continuous_update=self.continuous, readout_format=".3g", **common)
        if self.kind == "log":
            return W.FloatLogSlider(value=self.default, min=math.log10(self.min),
                                    max=math.log10(self.max), step=self.step or 0.05, base=10,
                                    continuous_update=self.continuous, readout_format=".3g",
                                    **common)
        if self.kind == "int":
            return W.IntSlider(value=self.default, min=self.min, max=self.max,
                               step=self.step or 1, continuous_update=self.continuous, **common)
        if self.kind == "choice":
            labels = self.option_labels or tuple(str(o) for o in self.options)
            return W.Dropdown(options=list(zip(labels, self.options)), value=self.default,
                              **common)
        if self.kind == "bool":
            return W.Checkbox(value=self.default, indent=False, **common)
        if self.kind == "seed":
            return W.Button(description=self.label, tooltip=self.help or self.label,
                            icon="refresh", layout=W.Layout(width="auto"))
        if self.kind == "indices":
            labels = self.option_labels or tuple(str(i) for i in range(self.min, self.max + 1))
            return W.SelectMultiple(options=list(zip(labels, range(self.min, self.max + 1))),
                                    value=tuple(self.default), rows=8, **common)
        raise ValueError(f"unknown parameter kind {self.kind!r}")  # pragma: no cover

    def control_value(self, value):
        """The value the control shows for a (valid) parameter value."""
        return tuple(value) if self.kind == "indices" else value


# --------------------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------------------

def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + tag + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))


def _encode_png(canvas) -> bytes:
    """Encode the Agg canvas's pixels as an 8-bit RGB PNG.

    Written directly (filter "none" on every row, zlib level 1): about five times
    faster than PIL's encoder on these flat-colour figures, at the same size.  The PNG
    format: signature, IHDR (width, height, bit depth 8, colour type 2 = RGB), IDAT (the
    zlib-compressed rows, each prefixed with its filter byte), IEND.
    """
    rgba = np.asarray(canvas.buffer_rgba())
    height, width = rgba.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # filter byte 0 = none
    rows[:, 1:] = rgba[..., :3].reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _png_chunk(b"IEND", b""))


def _ceiling(value: float, ladder) -> float:
    """The first rung of ``ladder`` at or above ``value`` (axis limits that rarely change,
    so the cached background can be reused)."""
    for rung in ladder:
        if value <= rung:
            return float(rung)
    return float(ladder[-1])


_DOUBLING = tuple(b * 2.0 ** k for k in range(-6, 14) for b in (1.0, 1.5))


def _short_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(text) > 220:
        text = text[:217] + "..."
    return text


class Explorer:
    """Base class: parameters, compute, in-place update, PNG view and widget."""

    #: Title shown above the controls.
    title: str = ""
    #: The parameters (and controls) of the explorer.
    PARAMS: tuple[Param, ...] = ()
    #: Figure size in inches (at 100 dpi).
    FIGSIZE: tuple[float, float] = (9.0, 5.5)
    #: Seconds of compute above which a progress bar is shown (TrialReplayer).
    PROGRESS_AFTER = 1.0

    def __init__(self, **params):
        self._params_by_name = {p.name: p for p in self.PARAMS}
        self.params = self.validate({**self.defaults(), **params})
        self.result = None
        self.error: str | None = None
        self.png: bytes = b""
        self._controls: dict = {}
        self._widget = None
        self._syncing = False
        self._animated: list = []
        self._background = None
        self._background_key = None
        with plots.style():
            self.figure = Figure(figsize=self.FIGSIZE, dpi=100)
            FigureCanvasAgg(self.figure)
            self._setup(self.figure)
        self.update()

    # ---- parameters ---------------------------------------------------------------------
    @classmethod
    def defaults(cls) -> dict:
        return {p.name: p.default for p in cls.PARAMS}

    def validate(self, params: dict) -> dict:
        """Check every parameter (unknown names included); return the canonical dict."""
        known = {p.name: p for p in self.PARAMS}
        out = {}
        for name, value in params.items():
            if name not in known:
                raise ValueError(f"unknown parameter {name!r} for {type(self).__name__}; "
                                 f"known: {', '.join(known)}")
            out[name] = known[name].validate(value)
        self._check_together(out)
        return out

    def _check_together(self, params: dict) -> None:
        """Cross-parameter checks (subclasses); raise ValueError naming the parameter."""

    @classmethod
    def example_params(cls) -> list[dict]:
        """Parameter sets sweeping the controls (tests and benchmarks drive these)."""
        raise NotImplementedError

    # ---- compute and view (subclasses) ---------------------------------------------------
    def compute(self, **params):
        """Pure: the result for these parameters (missing ones take their defaults)."""
        raise NotImplementedError

    def _setup(self, fig) -> None:
        """Create the axes and artists once."""
        raise NotImplementedError

    def _draw(self, result) -> None:
        """Update the artists from a result (no new artists per move)."""
        raise NotImplementedError

    def _full_params(self, params: dict) -> dict:
        return self.validate({**self.defaults(), **params})

    # ---- drawing: a cached static background + the artists that move ---------------------
    def _dyn(self, artist):
        """Mark an artist as moving: redrawn on every update over a cached background."""
        artist.set_animated(True)
        self._animated.append(artist)
        return artist

    def _legend(self, ax, **kwargs):
        """A static legend (part of the cached background: placed where the moving
        artists rarely go, since they are drawn over the background)."""
        return ax.legend(**kwargs)

    def _layout_key(self):
        """Anything that changes the static part of the figure (axis limits, labels...).

        When it changes, the whole figure is drawn again and the background re-cached;
        otherwise only the moving artists are drawn (Agg blitting).
        """
        return None

    def _render(self) -> bytes:
        canvas = self.figure.canvas
        key = self._layout_key()
        if self._background is None or key != self._background_key:
            canvas.draw()  # everything but the moving artists
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._background_key = key
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for artist in sorted(self._animated, key=lambda a: a.get_zorder()):
            if artist.get_visible():
                artist.draw(renderer)
        return _encode_png(canvas)

    def save_png(self, path) -> None:
        """Write the current picture (the same bytes the widget shows) to ``path``."""
        with open(path, "wb") as fh:
            fh.write(self.png)

    # ---- update -------------------------------------------------------------------------
    def update(self, **changes):
        """Apply parameter changes, recompute, redraw in place; return the result.

        Invalid values raise ``ValueError`` naming the parameter (nothing changes).
        If the computation itself fails, the explorer shows a short message, keeps
        its last picture, and ``update`` returns ``None``.
        """
        params = self.validate({**self.params, **changes})
        self.params = params
        self._sync_controls(changes)
        try:
            result = self.compute(**params)
            with plots.style():
                self._draw(result)
        except Exception as exc:  # shown to the learner as one readable line
            self.error = _short_message(exc)
            self._show_message(f"Cannot show this: {self.error}", error=True)
            return None
        self.error = None
        self.result = result
        self.png = self._render()
        if self._widget is not None:
            self._image.value = self.png
            self._show_message(self._note(result))
            self._update_views(result)
        return result

    def _update_views(self, result) -> None:
        """Update widgets other than the picture (subclasses: HTML tables...)."""

    def _note(self, result) -> str:
        """A one-line HTML note under the controls (subclasses may override)."""
        return ""

    # ---- widget -------------------------------------------------------------------------
    @property
    def widget(self):
        """The ipywidgets layout (built on first use)."""
        if self._widget is None:
            self._widget = self._build_widget()
        return self._widget

    def _ipython_display_(self):  # pragma: no cover - notebook only
        from IPython.display import display

        display(self.widget)

    def _build_widget(self):
        import ipywidgets as W

        for p in self.PARAMS:
            control = p.make_control()
            if p.kind == "seed":
                control.on_click(lambda _b, name=p.name: self._on_control(
                    name, (self.params[name] + 1) % 2**32))
            else:
                control.observe(lambda ch, name=p.name: self._on_control(name, ch["new"]),
                                names="value")
            self._controls[p.name] = control
        self._message = W.HTML(value="", layout=W.Layout(min_height="1.6em"))
        self._image = W.Image(value=self.png, format="png",
                              layout=W.Layout(width="100%", max_width=f"{int(self.FIGSIZE[0] * 100)}px",
                                              height="auto"))
        self._progress = W.IntProgress(value=0, min=0, max=100, description="working",
                                       layout=W.Layout(visibility="hidden", width="50%"))
        header = W.HTML(f"<h3 style='margin:0.2em 0'>{html.escape(self.title)}</h3>")
        controls = W.GridBox(list(self._controls.values()) + self._extra_controls(),
                             layout=W.Layout(grid_template_columns="repeat(auto-fill, minmax(400px, 1fr))",
                                             grid_gap="4px 12px"))
        self._show_message(self._note(self.result) if self.result is not None else "")
        box = W.VBox([header, controls, self._progress, self._message, self._image] +
                     self._extra_views())
        if self.result is not None:
            self._update_views(self.result)
        return box

    def _extra_controls(self) -> list:
        return []

    def _extra_views(self) -> list:
        return []

    def _on_control(self, name, value):
        if self._syncing:
            return
        try:
            self.update(**{name: value})
        except (ValueError, TypeError) as exc:  # cannot happen from a control; never a traceback
            self._show_message(f"Cannot use this value: {_short_message(exc)}", error=True)

    def _on_control_pair(self, changes: dict):
        if self._syncing:
            return
        try:
            self.update(**changes)
        except (ValueError, TypeError) as exc:
            self._show_message(f"Cannot use this value: {_short_message(exc)}", error=True)

    def _sync_controls(self, changes):
        if self._widget is None:
            return
        self._syncing = True
        try:
            for name in changes:
                control = self._controls.get(name)
                p = self._params_by_name[name]
                if control is not None and p.kind != "seed":
                    control.value = p.control_value(self.params[name])
        finally:
            self._syncing = False

    def _show_message(self, text: str, error: bool = False):
        if self._widget is None and not hasattr(self, "_message"):
            return
        colour = "#B00020" if error else "#333333"
        body = html.escape(text) if error else text
        self._message.value = f"<span style='color:{colour}'>{body}</span>" if body else ""

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({shown})"



def _result_repr(self) -> str:
    fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()
                       if not isinstance(v, np.ndarray) or v.size <= 6)
    return f"{type(self).__name__}({fields})"


# --------------------------------------------------------------------------------------
# RiskClassifier
# --------------------------------------------------------------------------------------

_RISK_COLORS = {
    "early treatment failure": plots.OKABE_ITO["reddish_purple"],
    "high": plots.OKABE_ITO["orange"],
    "intermediate": plots.OKABE_ITO["sky_blue"],
    "low": plots.OKABE_ITO["bluish_green"],
}


@dataclass(frozen=True)
class RiskResult:
    """A patient's risk group, the rule that fired, and the randomization stratum."""

    group: Any  # teachkit.risk.RiskGroup
    rule: str
    reason: str
    stratum: Any  # teachkit.risk.Stratum or None (not randomized)
    randomized: bool

    __repr__ = _result_repr


def _short_rule(rule: str) -> str:
    """A rule label of teachkit.risk.RULES, shortened for the figure."""
    return (rule.replace("isolated extramedullary", "isolated EM").replace(" months", " mo")
            .replace("early treatment failure", "ETF").replace(" relapse", ""))


class RiskClassifier(Explorer):
    """A patient's relapse site, months from diagnosis, MRD and blasts -> AALL1331 risk
    group and randomization stratum, with the rule that fired highlighted.

    Uses :func:`teachkit.risk.explain_risk_group` and
    :func:`teachkit.risk.randomization_stratum` (Methods, Postreinduction Evaluation and
    Risk Assignment; Randomization; Figure 1 footnote b).

    >>> RiskClassifier().compute(site="extramedullary", months_from_diagnosis=12, mrd=1.0).stratum.value
    'high, isolated extramedullary <18 mo'
    """

    title = "Risk classifier: which AALL1331 risk group, and which rule decided it?"
    FIGSIZE = (9.0, 5.2)
    PARAMS = (
        Param("site", "Site of relapse", "choice", "marrow",
              options=("marrow", "combined", "extramedullary"),
              option_labels=("bone marrow", "marrow + extramedullary", "isolated extramedullary")),
        Param("months_from_diagnosis", "Months from diagnosis to relapse", "float", 24.0,
              min=0.0, max=120.0, step=1.0),
        Param("mrd", "MRD after reinduction (%)", "log", 0.05, min=0.001, max=100.0, step=0.05),
        Param("mrd_measured", "MRD measured", "bool", True),
        Param("marrow_blasts", "Marrow blasts after reinduction (%)", "float", 2.0,
              min=0.0, max=100.0, step=1.0),
        Param("cns_cleared", "CNS leukemia cleared", "bool", True),
    )

    @classmethod
    def example_params(cls):
        return [
            dict(site="marrow", months_from_diagnosis=24.0, mrd=0.05, mrd_measured=True,
                 marrow_blasts=2.0, cns_cleared=True),
            dict(site="marrow", months_from_diagnosis=40.0, mrd=0.5),
            dict(site="marrow", months_from_diagnosis=40.0, mrd=0.02),
            dict(site="extramedullary", months_from_diagnosis=12.0, mrd=1.0),
            dict(site="extramedullary", months_from_diagnosis=30.0, mrd=0.1),
            dict(site="combined", months_from_diagnosis=10.0, mrd=3.0),
            dict(site="marrow", months_from_diagnosis=20.0, mrd_measured=False),
            dict(site="marrow", months_from_diagnosis=20.0, marrow_blasts=40.0),
            dict(marrow_blasts=2.0, cns_cleared=False),
        ]

    def compute(self, **params):
        from teachkit import risk

        p = self._full_params(params)
        mrd = p["mrd"] if p["mrd_measured"] else None
        args = (p["site"], p["months_from_diagnosis"], mrd, p["marrow_blasts"], p["cns_cleared"])
        explained = risk.explain_risk_group(*args)
        randomized = explained.group in (risk.RiskGroup.HIGH, risk.RiskGroup.INTERMEDIATE)
        stratum = risk.randomization_stratum(*args) if randomized else None
        return RiskResult(explained.group, explained.rule, explained.reason, stratum, randomized)

    # ---- view --------------------------------------------------------------------------
    def _setup(self, fig):
        from matplotlib.patches import Rectangle

        from teachkit import risk

        self._ax = ax = fig.add_axes((0.1, 0.12, 0.43, 0.72))
        ax.set_xscale("linear")
        ax.set_yscale("log")
        ax.set_xlim(0, 120)
        ax.set_ylim(1e-3, 100)
        ax.set_xlabel("Months from diagnosis to first relapse")
        ax.set_ylabel("MRD after reinduction (% of marrow cells)")
        ax.set_xticks(np.arange(0, 121, 12))
        ax.set_yticks([1e-3, 1e-2, 0.1, 1, 10, 100], ["0.001", "0.01", "0.1", "1", "10", "100"])
        ax.minorticks_off()
        dyn = self._dyn
        self._regions = {}
        for name in ("high", "intermediate", "low"):
            rect = dyn(Rectangle((0, 1e-3), 0, 0, facecolor=_RISK_COLORS[name], alpha=0.35,
                                 edgecolor="none", zorder=0.5))
            ax.add_patch(rect)
            self._regions[name] = rect
        self._etf = dyn(Rectangle((0, 1e-3), 120, 100, edgecolor="none", alpha=0.55, zorder=0.6,
                                  facecolor=_RISK_COLORS["early treatment failure"], visible=False))
        ax.add_patch(self._etf)
        self._region_text = {
            name: dyn(ax.text(0, 0, name, ha="center", va="center", fontsize=11,
                              fontweight="bold", color="#222222", zorder=3))
            for name in ("high", "intermediate", "low")}
        self._etf_text = dyn(ax.text(60, 0.3, "early treatment failure\n(any site, any time)",
                                     ha="center", va="center", fontsize=12, fontweight="bold",
                                     visible=False, zorder=3))
        dyn(ax.axhline(risk.MRD_THRESHOLD_PERCENT, color="#444444", lw=1, ls="--", zorder=2))
        self._vline = dyn(ax.axvline(36, color="#444444", lw=1, ls="--", zorder=2))
        self._split18 = dyn(ax.axvline(18, color="#444444", lw=0.8, ls=":", zorder=2))
        (point,) = ax.plot([24], [0.05], marker="o", ms=13, mfc="black", mec="white",
                           mew=2, ls="none", zorder=5)
        self._point = dyn(point)
        self._missing = dyn(ax.text(0, 2.2e-3, "MRD not measured", fontsize=9, ha="left",
                                    va="bottom", visible=False, zorder=4))
        self._map_title = dyn(ax.set_title("", fontsize=11, loc="left"))
        # rules panel
        self._rules_ax = rax = fig.add_axes((0.57, 0.12, 0.42, 0.72))
        rax.set_axis_off()
        rax.set_xlim(0, 1)
        rax.set_ylim(0, 1)
        rax.text(0, 1.0, "Rules, checked in this order", fontsize=11.5, fontweight="bold",
                 va="top")
        # the rules are static text; a translucent band moves over the rule that fired
        self._rule_y = {}
        for i, rule in enumerate(risk.RULES):
            y = 0.91 - i * 0.072
            rax.text(0.03, y, _short_rule(rule), fontsize=9.5, va="center", color="#222222")
            self._rule_y[rule] = y
        self._rule_band = dyn(Rectangle((0.0, 0.0), 1.0, 0.06, alpha=0.45, edgecolor="none",
                                        zorder=0.5))
        rax.add_patch(self._rule_band)
        (marker,) = rax.plot([0.01], [0.5], marker=">", color="black", ms=8, ls="none")
        self._rule_marker = dyn(marker)
        rax.text(0, 0.33, "ETF = early treatment failure; EM = extramedullary; "
                 "dotted line: 18 mo,\nwhere high-risk marrow strata split",
                 fontsize=8, color="#555555", va="top")
        self._stratum_text = dyn(rax.text(0, 0.24, "", fontsize=10.5, va="top"))
        self._title = dyn(fig.suptitle("", x=0.02, ha="left", fontsize=13, fontweight="bold"))

    def _draw(self, r):
        from teachkit import risk

        p = self.params
        marrow = p["site"] in ("marrow", "combined")
        limit = risk.MARROW_LATE_MONTHS if marrow else risk.EXTRAMEDULLARY_LATE_MONTHS
        thr = risk.MRD_THRESHOLD_PERCENT
        self._regions["high"].set_bounds(0, 1e-3, limit, 100)
        self._regions["intermediate"].set_bounds(limit, thr, 120 - limit, 100 - thr)
        self._regions["low"].set_bounds(limit, 1e-3, 120 - limit, thr - 1e-3)
        self._region_text["high"].set_position((limit / 2, 1.0))
        self._region_text["intermediate"].set_position(((120 + limit) / 2, 3.0))
        self._region_text["low"].set_position(((120 + limit) / 2, 0.01))
        self._vline.set_xdata([limit, limit])
        self._split18.set_visible(marrow)  # high-risk marrow strata split at 18 months
        etf = r.group is risk.RiskGroup.EARLY_TREATMENT_FAILURE
        self._etf.set_visible(etf)
        self._etf_text.set_visible(etf)
        y = p["mrd"] if p["mrd_measured"] else 1.2e-3
        self._point.set_data([p["months_from_diagnosis"]], [y])
        self._missing.set_visible(not p["mrd_measured"])
        self._missing.set_x(p["months_from_diagnosis"])
        where = dict(marrow="marrow", combined="combined", extramedullary="isolated extramedullary")
        self._map_title.set_text(f"Risk map for a {where[p['site']]} relapse")
        y = self._rule_y[r.rule]
        self._rule_band.set_y(y - 0.03)
        self._rule_band.set_facecolor(_RISK_COLORS[r.group.value])
        self._rule_marker.set_data([0.01], [y])
        if r.randomized:
            stratum = f"Randomized (1:1) in stratum:\n{r.stratum.value}"
        else:
            stratum = "Not in the high/intermediate-risk randomization"
        reason = textwrap.fill(f"Why: {r.reason}", 46)
        self._stratum_text.set_text(f"{reason}\n\n{stratum}")
        self._title.set_text(f"This patient is {r.group.value}"
                             f"{' risk' if r.group.value in ('high', 'intermediate', 'low') else ''}"
                             f" (AALL1331 rules, JAMA 2021)")

    def _note(self, r):
        return f"<b>{html.escape(r.group.value)}</b> &mdash; rule: <i>{html.escape(r.rule)}</i>"


def _Bars(ax, positions, width, *, color, label=None, horizontal=False, base=0.0, **kw):
    """Bars as ONE PolyCollection (one draw call), updated with ``set_values``."""
    return plots.BarCollection(ax, positions, width, color=color, label=label,
                               horizontal=horizontal, base=base, **kw)


# --------------------------------------------------------------------------------------
# StratificationSimulator
# --------------------------------------------------------------------------------------

def trial_strata_mix():
    """The six randomization strata and their share of the 208 analysed patients.

    Read from Table 1 (site of relapse by time and MRD, both arms together); the one
    high-risk marrow patient with unknown MRD counts in the "MRD < 0.1%" stratum of
    their time band, as :func:`teachkit.risk.randomization_stratum` places them.

    >>> names, share = trial_strata_mix()
    >>> len(names), round(float(share.sum()), 6)
    (6, 1.0)
    """
    from teachkit import aall1331, risk

    S = risk.Stratum
    keys = {
        S.INTERMEDIATE: ("marrow_36_plus",),
        S.HIGH_EXTRAMEDULLARY: ("extramedullary_under_18",),
        S.HIGH_MARROW_EARLY_MRD_HIGH: ("marrow_under_18_mrd_high",),
        S.HIGH_MARROW_EARLY_MRD_LOW: ("marrow_under_18_mrd_low", "marrow_under_18_mrd_unknown"),
        S.HIGH_MARROW_MID_MRD_HIGH: ("marrow_18_36_mrd_high",),
        S.HIGH_MARROW_MID_MRD_LOW: ("marrow_18_36_mrd_low", "marrow_18_36_mrd_unknown"),
    }
    counts = np.array([
        sum(sum(aall1331.fact(f"table1.site_of_relapse.{k}").value.values()) for k in ks)
        for ks in keys.values()], dtype=float)
    return tuple(s.value for s in keys), counts / counts.sum()


@dataclass(frozen=True)
class StratificationResult:
    """Arm imbalance within strata over many replays of two randomization methods."""

    n_patients: int
    n_repetitions: int
    stratum_names: tuple
    stratum_sizes: np.ndarray          # patients per stratum (the same enrolled cohort)
    simple: Any                        # teachkit.risk.Imbalance
    stratified: Any                    # teachkit.risk.Imbalance
    max_bins: np.ndarray               # 0, 1, 2, ... values of max |E - C|
    simple_share: np.ndarray           # share of replays with that max |E - C|
    stratified_share: np.ndarray
    simple_over_2: float               # share of replays with some stratum |E - C| > 2
    stratified_over_2: float

    __repr__ = _result_repr


class StratificationSimulator(Explorer):
    """Simple vs stratified permuted-block randomization: how unequal do the arms get
    within the trial's six strata, over many replays of the same enrolment?

    Uses :func:`teachkit.risk.randomize` and :func:`teachkit.risk.imbalance`.

    >>> r = StratificationSimulator().compute(n_patients=208, n_repetitions=500, seed=1)
    >>> bool(r.stratified.max_abs.max() <= 2), bool(r.simple_over_2 > 0.3)
    (True, True)
    """

    title = "Stratification simulator: simple vs stratified-block randomization"
    FIGSIZE = (9.0, 5.0)
    MAX_BIN = 12
    PARAMS = (
        Param("n_patients", "Patients randomized", "int", 208, min=20, max=400, step=4),
        Param("n_repetitions", "Replays", "int", 500, min=100, max=1000, step=100),
        Param("block_sizes", "Block sizes (stratified)", "choice", (2, 4),
              options=((2,), (4,), (2, 4), (4, 6), (4, 8)),
              option_labels=("2", "4", "2 or 4 (random)", "4 or 6 (random)", "4 or 8 (random)")),
        Param("seed", "New replays", "seed", 1),
    )

    @classmethod
    def example_params(cls):
        return [dict(n_patients=208, n_repetitions=500, block_sizes=(2, 4), seed=1),
                dict(n_patients=40), dict(n_patients=400, block_sizes=(4, 8)),
                dict(n_repetitions=1000, seed=2), dict(block_sizes=(2,), n_patients=100),
                dict(block_sizes=(4, 6), n_repetitions=100, seed=3)]

    def compute(self, **params):
        from teachkit import risk

        p = self._full_params(params)
        names, share = trial_strata_mix()
        rng = np.random.default_rng(p["seed"])
        strata = np.asarray(names, dtype=object)[rng.choice(len(names), size=p["n_patients"], p=share)]
        seeds = rng.integers(0, 2**32 - 1, size=2)
        simple = risk.imbalance(risk.randomize(strata, "simple", seed=int(seeds[0]),
                                               n_repetitions=p["n_repetitions"]))
        stratified = risk.imbalance(risk.randomize(strata, "stratified-blocks",
                                                   block_sizes=p["block_sizes"], seed=int(seeds[1]),
                                                   n_repetitions=p["n_repetitions"]))
        bins = np.arange(self.MAX_BIN + 1)

        def shares(imb):
            capped = np.minimum(imb.max_abs, self.MAX_BIN)  # last bin: >= MAX_BIN
            return np.bincount(capped, minlength=self.MAX_BIN + 1) / imb.max_abs.size

        # the stratum order of teachkit.risk (sorted names); sizes in that order
        sizes = np.array([np.sum(strata == n) for n in simple.stratum_names])
        return StratificationResult(
            p["n_patients"], p["n_repetitions"], simple.stratum_names, sizes, simple, stratified,
            bins, shares(simple), shares(stratified),
            float(np.mean(simple.max_abs > 2)), float(np.mean(stratified.max_abs > 2)))

    def _setup(self, fig):
        colors = {"simple": plots.OKABE_ITO["orange"], "stratified": plots.OKABE_ITO["bluish_green"]}
        self._colors = colors
        self._ax1 = ax1 = fig.add_axes((0.075, 0.13, 0.36, 0.66))
        bins = np.arange(self.MAX_BIN + 1)
        w = 0.4
        self._bars = {
            "simple": self._dyn(_Bars(ax1, bins - w / 2, w, color=colors["simple"],
                                      label="simple (coin toss)")),
            "stratified": self._dyn(_Bars(ax1, bins + w / 2, w, color=colors["stratified"],
                                          label="stratified permuted blocks")),
        }
        ax1.set_xlim(-0.7, self.MAX_BIN + 0.7)
        ax1.set_ylim(0, 1)
        ax1.set_xticks(bins[::2], [str(b) for b in bins[:-1:2]] + [f"{self.MAX_BIN}+"])
        ax1.set_xlabel("Worst stratum: |blin. - chemo.| (patients)")
        ax1.set_ylabel("Share of replays")
        self._legend(ax1, loc="upper right", fontsize=10)
        self._ax2 = ax2 = fig.add_axes((0.69, 0.13, 0.29, 0.66))
        ax2.set_ylim(5.6, -0.6)
        y = np.arange(6)
        self._bars2 = {
            "simple": self._dyn(_Bars(ax2, y + 0.2, 0.38, color=colors["simple"], horizontal=True)),
            "stratified": self._dyn(_Bars(ax2, y - 0.2, 0.38, color=colors["stratified"],
                                          horizontal=True)),
        }
        ax2.set_xlabel("Mean |blin. - chemo.| (patients)")
        ax2.set_xlim(0, self.XMAX2)
        ax2.set_title("Each stratum", fontsize=11, loc="left")
        ax1.set_title("Worst stratum per replay", fontsize=11, loc="left")
        names, _ = trial_strata_mix()
        order = sorted(names)  # teachkit.risk.imbalance orders strata by name
        ax2.set_yticks(y, [n.replace("isolated extramedullary", "isol. EM") for n in order],
                       fontsize=9)
        self._sizes = [self._dyn(ax2.text(1, k, "", transform=ax2.get_yaxis_transform(),
                                          ha="right", va="center", fontsize=9, color="#444444"))
                       for k in y]
        self._text = self._dyn(fig.text(0.02, 0.87, "", fontsize=11))
        fig.suptitle("Arm imbalance within the six AALL1331 strata (stratum mix of Table 1)",
                     x=0.02, ha="left", fontsize=13, fontweight="bold")

    #: A fixed scale (the largest stratum of 400 patients averages |E - C| of about 9 under
    #: simple randomization): imbalance growing with the stratum size stays visible, and
    #: moves never redraw the background.
    XMAX2 = 10.0

    def _draw(self, r):
        self._bars["simple"].set_values(r.simple_share)
        self._bars["stratified"].set_values(r.stratified_share)
        self._bars2["simple"].set_values(np.abs(r.simple.difference).mean(axis=0))
        self._bars2["stratified"].set_values(np.abs(r.stratified.difference).mean(axis=0))
        for text, k in zip(self._sizes, r.stratum_sizes):
            text.set_text(f"n = {k}")
        self._text.set_text(
            f"{r.n_patients} patients, {r.n_repetitions} replays. A stratum off by more than 2: "
            f"{100 * r.simple_over_2:.0f}% of simple, {100 * r.stratified_over_2:.0f}% of "
            f"stratified randomizations")


# --------------------------------------------------------------------------------------
# KaplanMeierBuilder
# --------------------------------------------------------------------------------------

_KM_GROUP_COLORS = {"6-MP": plots.OKABE_ITO["bluish_green"], "placebo": plots.OKABE_ITO["orange"]}


@dataclass(frozen=True)
class KaplanMeierBuildResult:
    """One group of the 6-MP data, with some patients' censoring toggled, and its KM fit."""

    group: str
    time: np.ndarray
    event: np.ndarray          # after the toggles
    flipped: tuple             # indices (into this group, in time order) that were toggled
    fit: Any                   # teachkit.survival.KaplanMeier
    step: int                  # rows of the product-limit table shown (0 = none yet)
    row: int | None            # index of the current row (step - 1), None before the first
    arithmetic: str            # the product-limit update of the current row, in words

    __repr__ = _result_repr


class KaplanMeierBuilder(Explorer):
    """Build a Kaplan-Meier curve by hand on the 6-MP data (Freireich et al., 1963):
    toggle whether individual patients were censored, step through the product-limit
    table row by row, and see the Greenwood confidence band.

    Uses :func:`teachkit.survival.kaplan_meier` and :func:`teachkit.datasets.freireich`.

    >>> r = KaplanMeierBuilder().compute(group="6-MP", step=1)
    >>> r.arithmetic
    'S(6) = 1 x (1 - 3/21) = 0.857'
    """

    title = "Kaplan-Meier builder: the product-limit estimate, one row at a time"
    FIGSIZE = (9.0, 5.6)
    TIMES = (0, 5, 10, 15, 20, 25, 30, 35)
    PARAMS = (
        Param("group", "Group (Freireich 6-MP trial)", "choice", "6-MP", options=("6-MP", "placebo")),
        Param("flipped", "Toggle censoring of patient", "indices", (), min=0, max=20),
        Param("step", "Rows of the table computed", "int", 21, min=0, max=21),
        Param("conf_type", "Confidence interval", "choice", "log-log",
              options=("log-log", "log", "plain")),
        Param("band", "Show the Greenwood 95% band", "bool", True),
    )

    @classmethod
    def example_params(cls):
        return [dict(group="6-MP", flipped=(), step=21, conf_type="log-log", band=True),
                dict(step=0), dict(step=1), dict(step=3), dict(flipped=(3, 8)),
                dict(flipped=(0, 1, 2), conf_type="plain"), dict(group="placebo", flipped=()),
                dict(group="placebo", flipped=(20,), step=10, conf_type="log"),
                dict(band=False, group="6-MP", flipped=(), step=21)]

    @staticmethod
    def data(group):
        from teachkit import datasets

        d = datasets.freireich()
        keep = d.group == group
        order = np.lexsort((-d.event[keep], d.time[keep]))  # by time, events before censorings
        return d.time[keep][order], d.event[keep][order]

    def compute(self, **params):
        from teachkit import survival

        p = self._full_params(params)
        time, event = self.data(p["group"])
        if p["flipped"] and max(p["flipped"]) >= time.size:
            raise ValueError(f"flipped must index the {time.size} patients of {p['group']}")
        event = event.copy()
        flips = np.asarray(p["flipped"], dtype=int)
        event[flips] = 1 - event[flips]
        fit = survival.kaplan_meier(time, event, conf_type=p["conf_type"])
        step = min(p["step"], fit.time.size)
        row = step - 1 if step > 0 else None
        if row is None:
            arithmetic = f"S(0) = 1: all {fit.n} patients at risk"
        else:
            s_prev = 1.0 if row == 0 else float(fit.survival[row - 1])
            t = f"{fit.time[row]:g}"
            n, d, c = int(fit.n_at_risk[row]), int(fit.n_events[row]), int(fit.n_censored[row])
            if d == 0:
                arithmetic = f"S({t}) = {s_prev:.3g}  (no relapse; {c} censored leave)"
            else:
                arithmetic = (f"S({t}) = {s_prev:.3g} x (1 - {d}/{n}) = {float(fit.survival[row]):.3f}")
        return KaplanMeierBuildResult(p["group"], time, event, tuple(int(i) for i in flips), fit,
                                      step, row, arithmetic)

    def _setup(self, fig):
        fig, ax, table_ax = plots.km_figure(3, width=self.FIGSIZE[0], curve_height=3.5, figure=fig)
        self.FIGSIZE = tuple(fig.get_size_inches())
        self._panel = panel = plots.KaplanMeierPanel(
            ax, table_ax, [("cohort", "group", "black")], self.TIMES, time_unit="weeks",
            ylabel="Still in remission, S(t)", xmax=35)
        cells = {id(t) for texts in panel.cells.values() for t in texts}
        for a in panel.artists():
            if id(a) not in cells:  # the table depends on the data only: in the background
                self._dyn(a)
        (self._ghost,) = ax.plot([], [], drawstyle="steps-post", color="#BBBBBB", lw=1.5,
                                 zorder=1.5)
        self._dyn(self._ghost)
        (self._point,) = ax.plot([], [], "o", ms=10, mfc="white", mew=2.2, color="black", zorder=4)
        self._dyn(self._point)
        self._arith = self._dyn(ax.set_title("", loc="left", fontsize=12, family="DejaVu Sans Mono",
                                             fontweight="normal"))
        self._label = table_ax.texts[0]  # static, like the table (see _layout_key)
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=13, fontweight="bold"))
        ax.text(1.0, -0.12, "Data: Freireich et al., Blood 1963\nticks: censored; grey: full estimate",
                transform=ax.transAxes, ha="right", va="top", fontsize=8, color="#555555")

    def _layout_key(self):
        # the numbers-at-risk table and its label change only with the data
        return (self.result.group, self.result.flipped)

    def _draw(self, r):
        fit = r.fit
        panel = self._panel
        color = _KM_GROUP_COLORS[r.group]
        panel.lines["cohort"].set_color(color)
        panel.ticks["cohort"].set_color(color)
        panel.bands["cohort"].set_facecolor(color)
        panel.ci = self.params["band"]
        if r.step == 0:
            panel.update({"cohort": None})
        else:
            # the curve as far as the table has been computed
            shown = type(fit)(**{**fit.__dict__, **{
                k: getattr(fit, k)[:r.step] for k in ("time", "n_at_risk", "n_events",
                                                       "n_censored", "survival", "std_err",
                                                       "std_err_log", "ci_lower", "ci_upper")}})
            panel.update({"cohort": shown})
        counts = plots.risk_table_counts(fit, self.TIMES)  # the table: the whole data
        for row, _ in panel.rows:
            for text, value in zip(panel.cells["cohort", row], counts[row]):
                text.set_text(str(value))
        x, y = plots._km_step_xy(fit, fit.time[-1])
        self._ghost.set_data(x, y)
        if r.row is None:
            self._point.set_data([0], [1])
        else:
            self._point.set_data([fit.time[r.row]], [fit.survival[r.row]])
        self._arith.set_text(r.arithmetic)
        self._label.set_text(r.group)
        self._label.set_color(color)
        toggled = f"; censoring toggled for {len(r.flipped)} patient(s)" if r.flipped else ""
        self._title.set_text(f"Kaplan-Meier estimate, {r.group} group: row {r.step} of "
                             f"{fit.time.size}{toggled}")

    # ---- widget extras: patient labels and the step table ---------------------------------
    def _extra_views(self):
        import ipywidgets as W

        self._table_html = W.HTML()
        return [self._table_html]

    def _update_views(self, r):
        control = self._controls.get("flipped")
        if control is not None:
            time, event = self.data(r.group)
            labels = [f"#{i + 1}: {t:g} wk, {'relapse' if e else 'censored'}"
                      + (" (toggled)" if i in r.flipped else "")
                      for i, (t, e) in enumerate(zip(time, event ^ np.isin(np.arange(time.size), r.flipped)))]
            new = list(zip(labels, range(time.size)))
            if list(control.options) != new:
                self._syncing = True
                try:
                    control.options = new
                    control.value = tuple(r.flipped)
                finally:
                    self._syncing = False
        fit = r.fit
        step = self._controls.get("step")
        if step is not None and step.max != fit.time.size:
            # the slider reaches exactly the rows of this table (toggling can change them)
            self._syncing = True
            try:
                step.max = fit.time.size
                step.value = min(self.params["step"], fit.time.size)
            finally:
                self._syncing = False
        head = ("<tr><th>time (wk)</th><th>at risk n</th><th>relapses d</th><th>censored</th>"
                "<th>1 - d/n</th><th>S(t)</th><th>Greenwood SE</th></tr>")
        rows = []
        for i in range(min(r.step, fit.time.size)):
            n, d = int(fit.n_at_risk[i]), int(fit.n_events[i])
            style = " style='background:#FFF3C4;font-weight:bold'" if i == r.row else ""
            rows.append(f"<tr{style}><td>{fit.time[i]:g}</td><td>{n}</td><td>{d}</td>"
                        f"<td>{int(fit.n_censored[i])}</td><td>{1 - d / n:.3f}</td>"
                        f"<td>{fit.survival[i]:.3f}</td><td>{fit.std_err[i]:.3f}</td></tr>")
        self._table_html.value = (
            "<table style='border-collapse:collapse;font-family:monospace'>"
            f"<caption>Product-limit table, {html.escape(r.group)} (R: survfit)</caption>"
            f"{head}{''.join(rows)}</table>")


# --------------------------------------------------------------------------------------
# LogRankExplorer
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LogRankResult:
    """A simulated two-arm trial analysed at a fixed number of events."""

    time: np.ndarray
    event: np.ndarray
    arm: np.ndarray
    analysis_time: float
    fits: dict                   # arm -> KaplanMeier
    test: Any                    # teachkit.survival.LogRankTest (treatment = blinatumomab)
    event_times: np.ndarray      # distinct event times
    cum_o_minus_e: np.ndarray    # cumulative O - E of the blinatumomab arm
    cum_variance: np.ndarray     # cumulative hypergeometric variance
    expected_z: float            # drift: -log(HR) sqrt(D r (1 - r)) (Schoenfeld 1981)

    __repr__ = _result_repr


def _fmt_p(p: float, eq: bool = False) -> str:
    """A P value as journals print it: 4 decimals, or < 0.0001 (``eq``: with "= ")."""
    if p < 1e-4:
        return "< 0.0001"
    return f"= {p:.4f}" if eq else f"{p:.4f}"


class LogRankExplorer(Explorer):
    """Simulate a trial with a true hazard ratio, analyse it when a given number of events
    has occurred, and watch observed-minus-expected accumulate into the log-rank Z.

    Control times are exponential with a 12-month median, experimental ones have hazard
    HR times the control hazard; everyone starts at time 0 and is followed until the
    ``events``-th event (an event-driven analysis).  Uses
    :func:`teachkit.survival.kaplan_meier` and :func:`teachkit.survival.logrank_test`.

    >>> r = LogRankExplorer().compute(hazard_ratio=0.58, events=131, seed=1)
    >>> int(r.event.sum()), round(r.expected_z, 3)
    (131, 3.118)
    """

    title = "Log-rank explorer: from observed minus expected to Z"
    FIGSIZE = (9.5, 5.4)
    CONTROL_MEDIAN = 12.0  # months
    PARAMS = (
        Param("hazard_ratio", "True hazard ratio", "float", 0.58, min=0.3, max=1.5, step=0.02),
        Param("events", "Events at analysis", "int", 131, min=20, max=300, step=1),
        Param("allocation", "Share randomized to blinatumomab", "float", 0.5, min=0.3, max=0.7,
              step=0.05),
        Param("seed", "New sample", "seed", 1),
    )

    @classmethod
    def example_params(cls):
        return [dict(hazard_ratio=0.58, events=131, allocation=0.5, seed=1),
                dict(hazard_ratio=1.0), dict(hazard_ratio=0.3, events=40),
                dict(hazard_ratio=1.5, events=300), dict(allocation=0.7, seed=2),
                dict(allocation=0.3, events=80, seed=3), dict(hazard_ratio=0.8, seed=4)]

    def compute(self, **params):
        from teachkit import survival

        p = self._full_params(params)
        rng = np.random.default_rng(p["seed"])
        n = int(math.ceil(p["events"] / 0.75))
        n_blin = int(round(n * p["allocation"]))
        arm = np.array(["blinatumomab"] * n_blin + ["chemotherapy"] * (n - n_blin), dtype=object)
        rng.shuffle(arm)
        rate = math.log(2) / self.CONTROL_MEDIAN * np.where(arm == "blinatumomab",
                                                             p["hazard_ratio"], 1.0)
        t_event = rng.exponential(1.0 / rate)
        analysis = float(np.sort(t_event)[p["events"] - 1])  # the events-th event
        event = (t_event <= analysis).astype(int)
        time = np.minimum(t_event, analysis)
        fits = {a: survival.kaplan_meier(time[arm == a], event[arm == a]) for a in ("blinatumomab", "chemotherapy")}
        test = survival.logrank_test(time, event, arm, treatment="blinatumomab")
        tab = test.table()
        g0 = str(test.groups[0])
        sign = 1.0 if g0 == "blinatumomab" else -1.0
        r = p["allocation"]
        return LogRankResult(time, event, arm, analysis, fits, test, np.asarray(tab["time"]),
                             sign * np.cumsum(tab[f"O-E {g0}"]), np.cumsum(tab["variance"]),
                             -math.log(p["hazard_ratio"]) * math.sqrt(p["events"] * r * (1 - r)))

    def _setup(self, fig):
        self._km_ax = ax = fig.add_axes((0.09, 0.13, 0.39, 0.73))
        table_ax = fig.add_axes((0.08, 0.0, 0.4, 0.01))  # no table here: speed over detail
        arms = [(a, plots.ARM_LABELS[a], plots.ARM_COLORS[a]) for a in ("blinatumomab", "chemotherapy")]
        self._panel = plots.KaplanMeierPanel(ax, table_ax, arms, np.arange(0, 61, 12), ci=False,
                                             time_unit="months", ylabel="Event-free",
                                             xmax=60, rows=())
        table_ax.set_visible(False)
        for a in self._panel.artists():
            self._dyn(a)
        self._legend(ax, loc="lower left", fontsize=10)
        ax.set_title("Simulated curves", loc="left", fontsize=11)
        self._oe_ax = ax2 = fig.add_axes((0.6, 0.42, 0.38, 0.44))
        ax2.axhline(0, color="#999999", lw=0.8)
        self._band = self._dyn(PolyCollection([np.zeros((3, 2))], facecolors="#BBBBBB", alpha=0.35,
                                              edgecolors="none", label="±1.96 √V (no difference)"))
        ax2.add_collection(self._band, autolim=False)
        (oe,) = ax2.plot([], [], drawstyle="steps-post", color=plots.ARM_COLORS["blinatumomab"],
                         lw=2, label="O − E, blinatumomab")
        self._oe = self._dyn(oe)
        ax2.set_xlabel("Time (months)")
        ax2.set_ylabel("Cumulative O − E (events)")
        ax2.set_title("O − E accumulating", loc="left", fontsize=11)
        self._legend(ax2, loc="lower left", fontsize=9)
        self._stats = self._dyn(fig.text(0.6, 0.27, "", fontsize=11, va="top",
                                         family="DejaVu Sans Mono"))
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=13, fontweight="bold"))

    def _limits(self, r):
        x = _ceiling(max(r.analysis_time, 1.3 * self._expected_analysis_time()),
                     (24, 48, 96, 192, 384))
        # from the parameters only (not the sample), so new samples keep the scale:
        # |O - E| is about (|expected Z| + 2.5) sqrt(V), V about D r (1 - r)
        p = self.params
        sd = math.sqrt(p["events"] * p["allocation"] * (1 - p["allocation"]))
        return x, _ceiling((abs(r.expected_z) + 2.5) * sd, (10, 30, 90))

    def _expected_analysis_time(self):
        """Months until 75% of the patients are expected to have had an event (bisection on
        r (1 - exp(-HR lam t)) + (1 - r)(1 - exp(-lam t)) = 0.75): a scale that depends on
        the parameters, not on the sample, so "new sample" reuses the background."""
        p = self.params
        lam, hr, r = math.log(2) / self.CONTROL_MEDIAN, p["hazard_ratio"], p["allocation"]
        lo, hi = 0.0, 1000.0
        for _ in range(40):
            mid = (lo + hi) / 2
            if r * -math.expm1(-hr * lam * mid) + (1 - r) * -math.expm1(-lam * mid) < 0.75:
                lo = mid
            else:
                hi = mid
        return hi

    def _layout_key(self):
        return self._limits(self.result)

    def _draw(self, r):
        self.result = r  # _limits reads it when the layout is checked
        x, y = self._limits(r)
        if self._km_ax.get_xlim()[1] != x * 1.02:  # a new scale: the background is redrawn
            ticks = np.arange(0, x + 0.1, 12 if x <= 72 else 24)
            for ax in (self._km_ax, self._oe_ax):
                ax.set_xlim(0, x * 1.02)
                ax.set_xticks(ticks)
        if self._oe_ax.get_ylim()[1] != y:
            self._oe_ax.set_ylim(-y, y)
        self._panel.update(r.fits)
        t = np.concatenate(([0.0], r.event_times))
        oe = np.concatenate(([0.0], r.cum_o_minus_e))
        sd = 1.96 * np.sqrt(np.concatenate(([0.0], r.cum_variance)))
        self._oe.set_data(t, oe)
        self._band.set_verts([plots._step_band_verts(t, -sd, sd)])
        test = r.test
        o = dict(zip(test.groups, test.observed))
        e = dict(zip(test.groups, test.expected))
        self._stats.set_text(
            f"blinatumomab: O = {o['blinatumomab']}, E = {e['blinatumomab']:.1f}\n"
            f"V = {test.variance:.1f}   Z = (E - O)/√V = {test.z:.2f}\n"
            f"one-sided P {_fmt_p(test.p_one_sided, eq=True)}\n"
            f"expected Z for this HR: {r.expected_z:.2f}")
        p = self.params
        self._title.set_text(f"One simulated trial: true HR {p['hazard_ratio']:.2f}, analysed at "
                             f"{p['events']} events ({r.analysis_time:.0f} months)")

    def _note(self, r):
        return (f"Z = {r.test.z:.2f}, one-sided P {_fmt_p(r.test.p_one_sided, eq=True)} "
                f"(press <i>New sample</i> to see another trial with the same truth)")


# --------------------------------------------------------------------------------------
# BoundaryExplorer
# --------------------------------------------------------------------------------------

_SPENDING_LABELS = ("O'Brien-Fleming type (Lan-DeMets)", "Pocock type (Lan-DeMets)",
                    "Hwang-Shih-DeCani (gamma)", "Kim-DeMets power (rho)",
                    "classical O'Brien-Fleming", "classical Pocock")
_SPENDINGS = ("obrien-fleming", "pocock", "hwang-shih-decani", "power",
              "classical-obrien-fleming", "classical-pocock")


@dataclass(frozen=True)
class BoundaryResult:
    """A group-sequential design, its power at a hazard ratio, and the per-look numbers."""

    design: Any                         # teachkit.sequential.GroupSequentialDesign
    drift: float                        # drift_from_hazard_ratio(hazard_ratio, events_planned)
    alpha_per_look: np.ndarray          # alpha spent at each look (increments)
    power_cumulative: np.ndarray        # P(reject by look k | HR), futility obeyed
    power: float                        # futility obeyed (binding view)
    power_ignoring_futility: float      # futility ignored (non-binding view)
    hr_efficacy: np.ndarray             # the efficacy boundary as a hazard ratio

    __repr__ = _result_repr


def _look_fractions(n_looks, first_look):
    """First look at ``first_look``, the others equally spaced up to 1."""
    if n_looks == 1:
        return np.array([1.0])
    return np.concatenate(([first_look], np.linspace(first_look, 1.0, n_looks)[1:]))


class BoundaryExplorer(Explorer):
    """Number and timing of looks, alpha-spending family and its parameter -> efficacy and
    futility boundaries on the Z, nominal-P and HR scales, alpha spent per look, power.

    Uses :func:`teachkit.sequential.group_sequential_design` (Lan & DeMets 1983; futility
    by testing the alternative, as AALL1331 did) and
    :func:`teachkit.sequential.drift_from_hazard_ratio`.

    >>> r = BoundaryExplorer().compute()
    >>> r.design.z_efficacy.round(3)
    array([3.71 , 2.511, 1.993])
    """

    title = "Boundary explorer: alpha spending, stopping boundaries and power"
    FIGSIZE = (10.0, 6.6)
    PARAMS = (
        Param("n_looks", "Number of looks", "int", 3, min=1, max=6),
        Param("first_look", "First look at information fraction", "float", 1 / 3, min=0.1,
              max=0.9, step=0.01),
        Param("spending", "Spending family", "choice", "obrien-fleming", options=_SPENDINGS,
              option_labels=_SPENDING_LABELS),
        Param("gamma", "Hwang-Shih-DeCani gamma", "float", -4.0, min=-10.0, max=4.0, step=0.5),
        Param("rho", "Kim-DeMets rho", "float", 3.0, min=0.5, max=6.0, step=0.25),
        Param("alpha", "One-sided alpha", "float", 0.025, min=0.005, max=0.05, step=0.005),
        Param("futility", "Futility rule (test the alternative)", "bool", True),
        Param("futility_alpha", "Futility level", "float", 0.024, min=0.005, max=0.2, step=0.001),
        Param("hazard_ratio", "Hazard ratio (power, HR scale)", "float", 0.58, min=0.4, max=0.9,
              step=0.01),
        Param("events_planned", "Events planned", "int", 131, min=40, max=400),
    )

    @classmethod
    def example_params(cls):
        return [cls.defaults(), dict(n_looks=1), dict(n_looks=6, first_look=0.2),
                dict(spending="pocock"), dict(spending="hwang-shih-decani", gamma=-2.0),
                dict(spending="power", rho=1.5, futility=False),
                dict(spending="classical-obrien-fleming", n_looks=4),
                dict(spending="classical-pocock", futility_alpha=0.1),
                dict(alpha=0.05, hazard_ratio=0.75, events_planned=300, first_look=0.6)]

    def compute(self, **params):
        from teachkit import sequential

        p = self._full_params(params)
        t = _look_fractions(p["n_looks"], p["first_look"])
        drift = sequential.drift_from_hazard_ratio(p["hazard_ratio"], p["events_planned"])
        parameter = {"hwang-shih-decani": p["gamma"], "power": p["rho"]}.get(p["spending"])
        futility = dict(futility_alpha=p["futility_alpha"], futility_drift=drift) \
            if p["futility"] and p["n_looks"] > 1 else {}
        design = sequential.group_sequential_design(t, alpha=p["alpha"], spending=p["spending"],
                                                    parameter=parameter, **futility)
        cum = design.rejection_probabilities(drift)
        hr = np.exp(-design.z_efficacy / np.sqrt(t * p["events_planned"] / 4.0))
        return BoundaryResult(design, drift, np.diff(design.alpha_spent, prepend=0.0), cum,
                              float(cum[-1]), design.power(drift, futility=False), hr)

    def _setup(self, fig):
        axes = {"z": fig.add_axes((0.07, 0.47, 0.25, 0.34)),
                "p": fig.add_axes((0.415, 0.47, 0.25, 0.34)),
                "hr": fig.add_axes((0.75, 0.47, 0.24, 0.34))}
        self._panel = plots.BoundaryPanel(axes, x_label="Information fraction")
        for a in self._panel.artists():
            self._dyn(a)
        for scale, ax in axes.items():
            ax.set_xlabel("Information fraction", fontsize=11)
            ax.yaxis.label.set_size(10.5)
        axes["z"].set_ylabel("Z (> 0 favours blinatumomab)")
        axes["hr"].set_ylabel("Hazard ratio")
        axes["z"].legend(loc="upper left", bbox_to_anchor=(0.0, 1.16), ncol=3, fontsize=10,
                         borderaxespad=0)
        self._ax_alpha = ax = fig.add_axes((0.07, 0.08, 0.38, 0.26))
        self._alpha_bars = self._dyn(plots.BarCollection(ax, np.arange(1, 7), 0.6,
                                                          color=plots.OKABE_ITO["sky_blue"]))
        ax.set_xlim(0.4, 6.6)
        ax.set_xticks(np.arange(1, 7))
        ax.set_xlabel("Look")
        ax.set_ylabel("Alpha spent at look")
        ax.set_ylim(0, 0.05 * 1.15)  # the largest alpha of the control: a fixed scale
        self._ax_power = ax = fig.add_axes((0.58, 0.08, 0.38, 0.26))
        self._power_bars = self._dyn(plots.BarCollection(ax, np.arange(1, 7), 0.6,
                                                          color=plots.EFFICACY_COLOR))
        ax.set_xlim(0.4, 6.6)
        ax.set_ylim(0, 1)
        ax.set_xticks(np.arange(1, 7))
        ax.set_xlabel("Look")
        ax.set_ylabel("P(stopped for efficacy by look)", fontsize=10)
        self._alpha_texts = [self._dyn(self._ax_alpha.text(k, 0, "", ha="center", va="bottom",
                                                           fontsize=8.5)) for k in range(1, 7)]
        self._power_texts = [self._dyn(self._ax_power.text(k, 0, "", ha="center", va="bottom",
                                                           fontsize=8.5)) for k in range(1, 7)]
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=12.5,
                                             fontweight="bold"))

    def _draw(self, r):
        p = self.params
        d = r.design
        self._panel.update(d, p["events_planned"])
        k = d.n_looks
        alpha = np.zeros(6)
        alpha[:k] = r.alpha_per_look
        power = np.zeros(6)
        power[:k] = r.power_cumulative
        self._alpha_bars.set_values(alpha)
        self._power_bars.set_values(power)
        for i in range(6):
            shown = i < k
            self._alpha_texts[i].set_text(f"{alpha[i]:.4f}" if shown else "")
            self._alpha_texts[i].set_y(alpha[i])
            self._power_texts[i].set_text(f"{power[i]:.2f}" if shown else "")
            self._power_texts[i].set_y(power[i])
        fut = (f"futility at {p['futility_alpha']:g}: power {r.power:.1%} if obeyed, "
               f"{r.power_ignoring_futility:.1%} if ignored") if d.has_futility \
            else f"power {r.power:.1%}"
        self._title.set_text(f"{k} look(s), {d._label()} spending, one-sided alpha {p['alpha']:g}\n"
                             f"HR {p['hazard_ratio']:g} with {p['events_planned']} events: {fut}")

    def _note(self, r):
        d = r.design
        cells = ", ".join(f"look {i + 1}: Z ≥ {z:.3f} (P ≤ {pp:.4f})"
                          for i, (z, pp) in enumerate(zip(d.z_efficacy, d.p_efficacy)))
        return html.escape(cells)


# --------------------------------------------------------------------------------------
# InterimMonitor
# --------------------------------------------------------------------------------------

#: The AALL1331 interim look (Results, Early Closure of Randomization; Methods, Statistical
#: Analysis): 80 of 131 events, one-sided P = .06, design HR 0.58, futility at .024.
def june_2019_interim() -> dict:
    """The parameters of the trial's June 2019 interim analysis, from :mod:`teachkit.aall1331`.

    >>> june_2019_interim()["events"], june_2019_interim()["p_one_sided"]
    (80, 0.06)
    """
    from teachkit import aall1331

    f = aall1331.fact
    return dict(events=int(f("interim.events").value),
                events_planned=int(f("interim.events_planned").value),
                observed="P value", p_one_sided=float(f("interim.p_dfs").value),
                hazard_ratio_design=float(f("design.hazard_ratio").value),
                futility_alpha=float(f("design.futility_alpha").value),
                spending=str(f("design.efficacy_spending").value))


@dataclass(frozen=True)
class InterimResult:
    """The monitoring committee's numbers at one look, and the verdict per rule."""

    report: Any                 # teachkit.sequential.InterimReport
    drift_trend: float          # B(t) / t, the current trend as a drift
    verdicts: tuple             # (rule, met?, explanation) per rule

    __repr__ = _result_repr


class InterimMonitor(Explorer):
    """Events observed and the observed P (or hazard ratio) -> Z, B-value, the boundaries
    at this look, conditional powers, and the verdict of each stopping rule.  The preset
    button reproduces the trial's June 2019 interim: 80 of 131 events, P = .06, critical
    P = .004 (Results, Early Closure of Randomization).

    Uses :func:`teachkit.sequential.interim_report` (Lan & DeMets 1983 at the observed
    information; Lan & Wittes 1988 B-values and conditional power).

    >>> r = InterimMonitor().compute(**june_2019_interim())
    >>> round(r.report.p_efficacy, 4), r.report.efficacy_met
    (0.0041, False)
    """

    title = "Interim monitor: what the data monitoring committee saw"
    FIGSIZE = (10.0, 5.6)
    PARAMS = (
        Param("events", "Events observed", "int", 80, min=10, max=399),
        Param("events_planned", "Events planned", "int", 131, min=40, max=400),
        Param("observed", "Observed result given as", "choice", "P value",
              options=("P value", "hazard ratio")),
        # A log slider's values are min * 10**(k * step): range chosen so that the trial's
        # P = .06 lies on the grid (0.06 * 10**(-139 * 0.02) ~ 1e-4 to 0.06 * 10**(46 * 0.02)
        # ~ 0.5); otherwise the browser snaps the preset to 0.0603.
        Param("p_one_sided", "Observed one-sided P", "log", 0.06, min=0.06 * 10 ** (-139 * 0.02),
              max=0.06 * 10 ** (46 * 0.02), step=0.02),
        Param("hazard_ratio", "Observed hazard ratio", "float", 0.70, min=0.3, max=1.5,
              step=0.01),
        Param("hazard_ratio_design", "Design hazard ratio", "float", 0.58, min=0.4, max=0.9,
              step=0.01),
        Param("futility_alpha", "Futility level", "float", 0.024, min=0.005, max=0.2, step=0.001,
              help="level at which the design effect is tested: below it, stop for futility"),
        Param("spending", "Spending family", "choice", "obrien-fleming",
              options=("obrien-fleming", "pocock"),
              option_labels=("O'Brien-Fleming type", "Pocock type")),
    )

    def _check_together(self, params):
        if "events" in params and "events_planned" in params and \
                params["events"] >= params["events_planned"]:
            raise ValueError(f"events ({params['events']}) must be below events_planned "
                             f"({params['events_planned']}) at an interim look")

    @classmethod
    def example_params(cls):
        return [june_2019_interim(), dict(events=44), dict(events=120, p_one_sided=0.001),
                dict(observed="hazard ratio", hazard_ratio=0.55, events=87),
                dict(observed="hazard ratio", hazard_ratio=1.2, events=60),
                dict(p_one_sided=0.4, futility_alpha=0.1), dict(spending="pocock"),
                dict(events_planned=300, events=150, observed="P value", p_one_sided=0.01)]

    def compute(self, **params):
        from teachkit import sequential

        p = self._full_params(params)
        kw = dict(hazard_ratio_design=p["hazard_ratio_design"], futility_alpha=p["futility_alpha"],
                  spending=p["spending"])
        if p["observed"] == "P value":
            report = sequential.interim_report(p["events"], p["events_planned"], p["p_one_sided"], **kw)
        else:
            z = -math.log(p["hazard_ratio"]) * math.sqrt(p["events"] / 4.0)  # 1:1, Schoenfeld
            report = sequential.interim_report(p["events"], p["events_planned"], z=z, **kw)
        t = report.information_fraction
        verdicts = (
            ("efficacy", report.efficacy_met,
             f"Z = {report.z:.2f} {'≥' if report.efficacy_met else '<'} {report.z_efficacy:.2f} "
             f"(P {'≤' if report.efficacy_met else '>'} {report.p_efficacy:.4f})"),
            ("futility", report.futility_met,
             f"Z = {report.z:.2f} {'<' if report.futility_met else '≥'} {report.z_futility:.2f}"
             if math.isfinite(report.z_futility) else "no futility rule at this look"),
        )
        return InterimResult(report, report.b_value / t, verdicts)

    def _setup(self, fig):
        self._ax_z = ax = fig.add_axes((0.07, 0.14, 0.27, 0.62))
        self._bpanel = plots.BoundaryPanel({"z": ax}, x_label="Information fraction")
        for a in self._bpanel.artists():
            self._dyn(a)
        ax.set_title("Boundaries at the observed look", loc="left", fontsize=11)
        ax.set_ylabel("Z (> 0 favours blinatumomab)", fontsize=10.5)
        self._ax_b = ax2 = fig.add_axes((0.41, 0.14, 0.27, 0.62))
        self._vpanel = plots.BValuePanel(ax2, {"design effect": plots.OKABE_ITO["blue"],
                                              "current trend": plots.OKABE_ITO["orange"],
                                              "no effect (H0)": plots.OKABE_ITO["sky_blue"]})
        for a in self._vpanel.artists():
            self._dyn(a)
        ax2.set_title("B-value and where it may go", loc="left", fontsize=11)
        self._legend(ax2, loc="upper left", fontsize=8.5)
        labels = ("events", "Z (P)", "B = Z√t", "HR (95% CI)", "efficacy", "futility",
                  "CP design", "CP trend", "CP H0", "pred. power")
        fig.text(0.705, 0.76, "\n".join(labels), fontsize=9.5, va="top",
                 family="DejaVu Sans Mono", linespacing=1.45)  # static labels
        self._report = self._dyn(fig.text(0.81, 0.76, "", fontsize=9.5, va="top",
                                          family="DejaVu Sans Mono", linespacing=1.45))
        self._verdict = self._dyn(fig.text(0.71, 0.22, "", fontsize=11.5, va="top",
                                           fontweight="bold"))
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=13,
                                             fontweight="bold"))

    def _draw(self, r):
        rep = r.report
        d = rep.design
        t = rep.information_fraction
        self._bpanel.update(d, observed_fractions=[t], observed_z=[rep.z])
        self._vpanel.update([t], [rep.z], {"design effect": rep.drift_design,
                                           "current trend": r.drift_trend,
                                           "no effect (H0)": 0.0},
                            float(d.z_efficacy[-1]))
        hr = rep.hazard_ratio
        self._report.set_text(
            f"{rep.events:g} / {rep.events_planned:g} (t = {t:.2f})\n"
            f"{rep.z:.3f} (P = {rep.p_one_sided:.4f})\n"
            f"{rep.b_value:.3f}\n"
            f"{hr.estimate:.2f} ({hr.ci_lower:.2f}-{hr.ci_upper:.2f})\n"
            f"Z ≥ {rep.z_efficacy:.3f} (P ≤ {rep.p_efficacy:.4f})\n"
            f"Z < {rep.z_futility:.3f}\n"
            f"{rep.conditional_power_design:.2f}\n"
            f"{rep.conditional_power_trend:.2f}\n"
            f"{rep.conditional_power_null:.2f}\n"
            f"{rep.predictive_power:.2f}")
        lines = [f"{name}: {'MET' if met else 'not met'}" for name, met, _ in r.verdicts]
        stop = any(met for _, met, _ in r.verdicts)
        self._verdict.set_text("\n".join(lines) + ("\n→ a rule says stop" if stop else
                                                   "\n→ no rule says stop"))
        self._title.set_text(f"Interim look at {rep.events:g} of {rep.events_planned:g} events "
                             f"({100 * t:.0f}% information): one-sided P = {rep.p_one_sided:.3f}, "
                             f"critical P = {rep.p_efficacy:.4f}")

    def _extra_controls(self):
        import ipywidgets as W

        button = W.Button(description="June 2019 interim (AALL1331)", icon="history",
                          tooltip="80 of 131 events, one-sided P = .06",
                          layout=W.Layout(width="auto"))
        button.on_click(lambda _b: self._preset())
        return [button]

    def _preset(self):
        try:
            self.update(**june_2019_interim())
        except (ValueError, TypeError) as exc:  # pragma: no cover - the preset is valid
            self._show_message(f"Cannot use the preset: {_short_message(exc)}", error=True)

    def _update_views(self, r):
        # events cannot reach events_planned: the slider's maximum follows the plan
        events = self._controls.get("events")
        if events is not None:
            self._syncing = True
            try:
                events.max = self.params["events_planned"] - 1
            finally:
                self._syncing = False

    def _on_control(self, name, value):
        if name == "events_planned" and self.params["events"] >= value:
            # keep the pair valid: pull events below the new plan first
            return super()._on_control_pair({"events": value - 1, "events_planned": value})
        return super()._on_control(name, value)

    def _note(self, r):
        return "; ".join(f"<b>{n}</b>: {'met' if m else 'not met'} ({html.escape(e)})"
                         for n, m, e in r.verdicts)


# --------------------------------------------------------------------------------------
# TrialReplayer
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReplayResult:
    """Many replays of the whole trial: when they stopped, how often they succeeded, and
    the hazard ratio they reported when stopping for efficacy."""

    n_trials: int
    hazard_ratio: float
    information_fractions: np.ndarray
    prob_efficacy: np.ndarray       # per look
    prob_futility: np.ndarray       # per look (final look: H0 kept)
    power: float
    stop_look: np.ndarray           # per trial, 0-based
    efficacy: np.ndarray            # per trial
    hr_at_stop: np.ndarray          # per trial
    mean_log_hr_early: float        # mean log HR over early efficacy stops (NaN if < 2)
    share_early: float              # share of trials stopping early for efficacy
    seconds: float

    __repr__ = _result_repr


class TrialReplayer(Explorer):
    """Replay the whole trial thousands of times with the vectorized simulator: the
    distribution of the stopping look, the power, and the hazard ratio reported at an
    efficacy stop compared with the truth (early stops exaggerate the effect; Pocock &
    Hughes 1989).  Each replay: 220 patients, Table 1 strata, stratified permuted blocks,
    131 events, looks at equal information, stratified log-rank.

    Uses :func:`teachkit.simulate.simulate_trials` (replays run in chunks so that a
    progress bar can move when a run takes more than a second).

    >>> r = TrialReplayer().compute(n_trials=500, seed=1)
    >>> r.n_trials, bool(0.6 < r.power < 1.0)
    (500, True)
    """

    title = "Trial replayer: how often would AALL1331 stop early, and what would it report?"
    FIGSIZE = (10.0, 5.2)
    CHUNK = 1000
    PARAMS = (
        Param("hazard_ratio", "True hazard ratio", "float", 0.58, min=0.4, max=1.2, step=0.02,
              continuous=False),
        Param("n_looks", "Looks (equally spaced)", "int", 3, min=1, max=5, continuous=False),
        Param("spending", "Spending family", "choice", "obrien-fleming",
              options=("obrien-fleming", "pocock"),
              option_labels=("O'Brien-Fleming type", "Pocock type")),
        Param("futility", "Futility rule of the trial", "bool", True),
        Param("n_trials", "Replays", "choice", 2000, options=(500, 1000, 2000, 5000, 10000)),
        Param("seed", "New replays", "seed", 2019),
    )

    @classmethod
    def example_params(cls):
        return [dict(hazard_ratio=0.58, n_looks=3, spending="obrien-fleming", futility=True,
                     n_trials=2000, seed=2019),
                dict(hazard_ratio=1.0), dict(hazard_ratio=0.7, spending="pocock"),
                dict(n_looks=5, futility=False), dict(n_looks=1, hazard_ratio=0.5),
                dict(hazard_ratio=0.58, n_looks=3, spending="obrien-fleming", futility=True,
                     seed=7)]

    def compute(self, **params):
        from teachkit import sequential, simulate

        p = self._full_params(params)
        start = time.perf_counter()
        fractions = np.arange(1, p["n_looks"] + 1) / p["n_looks"]
        events = 131
        design = sequential.group_sequential_design(
            fractions, spending=p["spending"],
            **(dict(futility_alpha=0.024,
                    futility_drift=sequential.drift_from_hazard_ratio(0.58, events))
               if p["futility"] and p["n_looks"] > 1 else {}))
        sizes = [self.CHUNK] * (p["n_trials"] // self.CHUNK)
        if p["n_trials"] % self.CHUNK:
            sizes.append(p["n_trials"] % self.CHUNK)
        seeds = np.random.SeedSequence(p["seed"]).spawn(len(sizes))
        sims = []
        for i, (size, seed) in enumerate(zip(sizes, seeds)):
            sims.append(simulate.simulate_trials(
                size, hazard_ratio=p["hazard_ratio"], events=events, information_fractions=fractions,
                design=design, futility="design" if design.has_futility else None, seed=seed))
            self._progress_hook(i + 1, len(sizes), time.perf_counter() - start)
        w = np.array(sizes, dtype=float) / sum(sizes)
        stop_look = np.concatenate([s.stop_look for s in sims])
        efficacy = np.concatenate([s.efficacy for s in sims])
        hr = np.concatenate([s.hr_at_stop for s in sims])
        early = efficacy & (stop_look < p["n_looks"] - 1)
        return ReplayResult(
            p["n_trials"], p["hazard_ratio"], fractions,
            sum(wi * s.prob_efficacy for wi, s in zip(w, sims)),
            sum(wi * s.prob_futility for wi, s in zip(w, sims)),
            float(efficacy.mean()), stop_look, efficacy, hr,
            float(np.log(hr[early]).mean()) if early.sum() >= 2 else float("nan"),
            float(early.mean()), time.perf_counter() - start)

    def _progress_hook(self, done, total, elapsed):
        """Show a progress bar once a run is expected to take more than a second."""
        bar = getattr(self, "_progress", None)
        if bar is None or self._widget is None:
            return
        expected = elapsed / done * total
        if done < total and expected > self.PROGRESS_AFTER:
            bar.layout.visibility = "visible"
            bar.value = int(100 * done / total)
        elif done == total:
            bar.layout.visibility = "hidden"

    BINS = np.exp(np.linspace(np.log(0.15), np.log(1.5), 41))

    def _setup(self, fig):
        self._ax_stop = ax = fig.add_axes((0.07, 0.14, 0.36, 0.64))
        self._eff_bars = self._dyn(plots.BarCollection(ax, np.arange(1, 6), 0.6,
                                                        color=plots.EFFICACY_COLOR,
                                                        label="efficacy"))
        self._fut_bars = self._dyn(plots.BarCollection(ax, np.arange(1, 6), 0.6,
                                                        color=plots.FUTILITY_COLOR,
                                                        label="futility / not rejected at the end"))
        ax.set_xlim(0.4, 5.6)
        ax.set_ylim(0, 1)
        ax.set_xticks(np.arange(1, 6))
        ax.set_xlabel("Look at which the trial stopped")
        ax.set_ylabel("Share of replays")
        self._legend(ax, loc="upper left", fontsize=9.5)
        ax.set_title("When the replays stopped", loc="left", fontsize=11)
        self._ax_hr = ax2 = fig.add_axes((0.52, 0.14, 0.45, 0.64))
        self._hr_bars = self._dyn(_LogBars(ax2, self.BINS, color=plots.OKABE_ITO["blue"],
                                           label="efficacy at an interim look"))
        self._hr_bars_final = self._dyn(_LogBars(ax2, self.BINS, color=plots.OKABE_ITO["sky_blue"],
                                                 label="efficacy at the final look"))
        ax2.set_xscale("log")
        ax2.set_xlim(self.BINS[0], self.BINS[-1])
        ticks = [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2]
        ax2.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax2.minorticks_off()
        ax2.set_xlabel("Hazard ratio reported at the efficacy stop")
        ax2.set_ylabel("Share of replays")
        self._truth = self._dyn(ax2.axvline(0.58, color="black", lw=2, ls="--", label="true HR"))
        (mean,) = ax2.plot([], [], "v", color=plots.OKABE_ITO["vermillion"], ms=11,
                           label="mean at interim stops")
        self._mean = self._dyn(mean)
        self._legend(ax2, loc="upper left", fontsize=9)
        ax2.set_title("Estimates at stopping vs the truth", loc="left", fontsize=11)
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=12.5,
                                             fontweight="bold"))

    def _ymax(self, r):
        counts = np.histogram(r.hr_at_stop[r.efficacy], self.BINS)[0] / r.n_trials
        return _ceiling(counts.max() * 1.1, (0.05, 0.1, 0.2, 0.4, 0.8, 1.0))

    def _layout_key(self):
        return self._ymax(self.result)

    def _draw(self, r):
        k = r.information_fractions.size
        eff = np.zeros(5)
        fut = np.zeros(5)
        eff[:k] = r.prob_efficacy
        fut[:k] = r.prob_futility
        self._eff_bars.set_values(eff)
        self._fut_bars.set_values(fut, base=eff)
        last = r.stop_look == k - 1
        interim = np.histogram(r.hr_at_stop[r.efficacy & ~last], self.BINS)[0] / r.n_trials
        final = np.histogram(r.hr_at_stop[r.efficacy & last], self.BINS)[0] / r.n_trials
        self._hr_bars.set_values(interim)
        self._hr_bars_final.set_values(final, base=interim)
        self._ax_hr.set_ylim(0, self._ymax(r))
        self._truth.set_xdata([r.hazard_ratio, r.hazard_ratio])
        if math.isfinite(r.mean_log_hr_early):
            self._mean.set_data([math.exp(r.mean_log_hr_early)], [self._ymax(r) * 0.97])
        else:
            self._mean.set_data([], [])
        bias = (f"; early efficacy stops report HR {math.exp(r.mean_log_hr_early):.2f} on "
                f"average (truth {r.hazard_ratio:g})") if math.isfinite(r.mean_log_hr_early) else ""
        self._title.set_text(
            f"{r.n_trials} simulated trials, true HR {r.hazard_ratio:g}, {k} look(s): "
            f"power {r.power:.1%}\nstopped early for efficacy {r.share_early:.1%}{bias}")

    def _note(self, r):
        return f"{r.n_trials} replays in {r.seconds:.2f} s"


def _LogBars(ax, edges, *, color, label=None):
    """Histogram bars between ``edges`` (any scale) as one BarCollection."""
    edges = np.asarray(edges, dtype=float)
    return plots.BarCollection(ax, (edges[1:] + edges[:-1]) / 2, np.diff(edges), color=color,
                               label=label)


# --------------------------------------------------------------------------------------
# EventsPlanner
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanResult:
    """Events and patients needed, and when each look is expected."""

    events: Any                 # teachkit.design.EventsRequired
    patients: float             # patients_required(...) (not rounded)
    control_hazard: float       # per year, from the control 2-year DFS
    look_fractions: np.ndarray
    look_events: np.ndarray
    look_times: np.ndarray      # years after the first randomization
    calendar: np.ndarray        # grid of calendar times (years)
    expected: np.ndarray        # expected events on the grid

    __repr__ = _result_repr


class EventsPlanner(Explorer):
    """Hazard ratio, power, alpha, looks, accrual and follow-up -> events needed
    (Schoenfeld 1981, inflated for the looks), patients needed, and when each look is
    expected (uniform accrual, exponential control survival).

    Uses :func:`teachkit.design.events_required`, :func:`teachkit.design.patients_required`,
    :func:`teachkit.design.expected_events` and :func:`teachkit.design.analysis_times`.

    >>> r = EventsPlanner().compute(n_looks=1)
    >>> round(r.events.events, 2)
    121.03
    """

    title = "Events planner: how many events and patients, and when will each look come?"
    FIGSIZE = (9.0, 5.2)
    PARAMS = (
        Param("hazard_ratio", "Hazard ratio to detect", "float", 0.58, min=0.4, max=0.9, step=0.01),
        Param("power", "Power", "float", 0.85, min=0.6, max=0.95, step=0.01),
        Param("alpha", "One-sided alpha", "float", 0.025, min=0.005, max=0.05, step=0.005),
        Param("n_looks", "Looks (O'Brien-Fleming type, equally spaced)", "int", 3, min=1, max=5),
        Param("control_2y", "Control 2-year DFS", "float", 0.45, min=0.2, max=0.8, step=0.01),
        Param("accrual_years", "Accrual period (years)", "float", 4.5, min=1.0, max=8.0, step=0.25),
        Param("follow_up_years", "Follow-up after accrual (years)", "float", 1.0, min=0.25,
              max=4.0, step=0.25),
    )

    @classmethod
    def example_params(cls):
        return [cls.defaults(), dict(n_looks=1), dict(hazard_ratio=0.7), dict(power=0.9, alpha=0.01),
                dict(control_2y=0.7), dict(accrual_years=2.0, follow_up_years=3.0),
                dict(n_looks=5, hazard_ratio=0.5), dict(accrual_years=8.0, follow_up_years=0.25)]

    def compute(self, **params):
        from teachkit import design as dsg
        from teachkit import sequential

        p = self._full_params(params)
        k = p["n_looks"]
        fractions = np.arange(1, k + 1) / k
        gs = sequential.group_sequential_design(fractions, alpha=p["alpha"]) if k > 1 else None
        ev = dsg.events_required(p["hazard_ratio"], alpha=p["alpha"], power=p["power"], design=gs)
        lam = dsg.hazard_from_survival(p["control_2y"], 2.0)
        n = dsg.patients_required(ev, p["accrual_years"], p["follow_up_years"], lam, p["hazard_ratio"])
        look_events = ev.events * fractions
        times = np.atleast_1d(dsg.analysis_times(look_events, n, p["accrual_years"], lam,
                                                 p["hazard_ratio"]))
        grid = np.linspace(0, self._xmax(p), 121)
        expected = dsg.expected_events(grid, n, p["accrual_years"], lam, p["hazard_ratio"])
        return PlanResult(ev, float(n), float(lam), fractions, look_events, times, grid, expected)

    @classmethod
    def _xmax(cls, p):
        return cls.XMAX

    def _setup(self, fig):
        self._ax = ax = fig.add_axes((0.09, 0.13, 0.6, 0.66))
        from matplotlib.patches import Rectangle

        self._accrual = self._dyn(Rectangle((0, 0), 1, 1, facecolor="#E3E3E3", edgecolor="none",
                                            zorder=0.5, label="accrual period"))
        ax.add_patch(self._accrual)
        (curve,) = ax.plot([], [], color=plots.OKABE_ITO["black"], lw=2.2, label="expected events")
        self._curve = self._dyn(curve)
        self._target = self._dyn(ax.axhline(0, color=plots.EFFICACY_COLOR, lw=1.5, ls="--",
                                            label="events required"))
        (looks,) = ax.plot([], [], "o", color=plots.OKABE_ITO["vermillion"], ms=9,
                           label="looks")
        self._looks = self._dyn(looks)
        self._look_labels = [self._dyn(ax.text(0, 0, "", fontsize=9.5, ha="right", va="bottom"))
                             for _ in range(5)]
        ax.set_xlabel("Years after the first randomization")
        ax.set_ylabel("Expected events (DFS)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.03, 0.28), fontsize=9.5,
                  borderaxespad=0)  # outside the axes: never under the moving artists
        self._text = self._dyn(fig.text(0.72, 0.78, "", fontsize=10, va="top",
                                        family="DejaVu Sans Mono", linespacing=1.5))
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=12.5,
                                             fontweight="bold"))

    XMAX = 13.0  # years: the longest accrual (8) + follow-up (4) + 1

    def _limits(self, r):
        return self.XMAX, _ceiling(max(r.expected[-1], r.events.events) * 1.1,
                                   (150, 300, 600, 1200, 2400, 4800))

    def _layout_key(self):
        return self._limits(self.result)

    def _draw(self, r):
        p = self.params
        xmax, ymax = self._limits(r)
        self._ax.set_xlim(0, xmax)
        self._ax.set_ylim(0, ymax)
        self._accrual.set_bounds(0, 0, p["accrual_years"], ymax)
        self._curve.set_data(r.calendar, r.expected)
        self._target.set_ydata([r.events.events] * 2)
        self._looks.set_data(r.look_times, r.look_events)
        for i, text in enumerate(self._look_labels):
            if i < r.look_times.size:
                text.set_position((r.look_times[i] - 0.05, r.look_events[i] + ymax * 0.015))
                text.set_text(f"look {i + 1}")
            else:
                text.set_text("")
        ev = r.events
        lines = [f"events fixed  {ev.events_fixed:7.1f}",
                 f"inflation     {ev.inflation_factor:7.4f}",
                 f"events        {ev.events:7.1f} -> {ev.events_rounded}",
                 f"patients      {r.patients:7.1f} -> {math.ceil(r.patients - 1e-9)}",
                 f"control hazard {r.control_hazard:6.3f}/y", ""]
        lines += [f"look {i + 1}: {d:5.1f} events, {t:4.1f} y" for i, (d, t) in
                  enumerate(zip(r.look_events, r.look_times))]
        self._text.set_text("\n".join(lines))
        self._title.set_text(f"HR {p['hazard_ratio']:g}, power {p['power']:.0%}, one-sided alpha "
                             f"{p['alpha']:g}: {ev.events_rounded} events, "
                             f"{math.ceil(r.patients - 1e-9)} patients")

    def _note(self, r):
        return (f"Schoenfeld: D = (z<sub>1-α</sub> + z<sub>power</sub>)² / (¼ log(HR)²) = "
                f"{r.events.events_fixed:.1f}, × inflation {r.events.inflation_factor:.4f} for the looks")


#: Every explorer of issue 6, in lesson order.

# --------------------------------------------------------------------------------------
# The trial at a glance (lesson 00)
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EndpointResult:
    """One published result in both arms (percentages, and counts where the paper gives them)."""

    endpoint: str
    title: str
    percent: dict
    counts: dict | None
    source: str

    __repr__ = _result_repr


class TrialOverview(Explorer):
    """Pick one of the trial's published results and see it in both arms, as 100
    patients per arm (an icon array, :func:`teachkit.plots.arm_comparison`).

    The numbers are the paper's (Abstract; Table 2; Results, AE End Point), read from
    :mod:`teachkit.aall1331` through :data:`teachkit.plots.ARM_ENDPOINTS`.

    >>> r = TrialOverview().compute(endpoint="toxic_deaths")
    >>> r.counts["chemotherapy"]
    (5, 97)
    """

    title = "The trial at a glance: one result, both arms"
    FIGSIZE = (8.0, 4.8)
    PARAMS = (
        Param("endpoint", "Result", "choice", "dfs_2y",
              options=tuple(plots.ARM_ENDPOINTS),
              option_labels=tuple(spec["title"] for spec in plots.ARM_ENDPOINTS.values())),
    )

    @classmethod
    def example_params(cls):
        return [dict(endpoint=name) for name in plots.ARM_ENDPOINTS]

    def compute(self, **params):
        p = self._full_params(params)
        spec = plots.ARM_ENDPOINTS[p["endpoint"]]
        return EndpointResult(p["endpoint"], spec["title"], dict(spec["percent"]),
                              None if spec["counts"] is None else dict(spec["counts"]),
                              spec["source"])

    def _setup(self, fig):
        ax = fig.add_axes((0.02, 0.01, 0.96, 0.8))
        plots.arm_comparison(self.PARAMS[0].default, ax=ax)
        for artist in plots.set_arm_comparison(ax, self.PARAMS[0].default):
            self._dyn(artist)
        self._ax = ax

    def _draw(self, r):
        plots.set_arm_comparison(self._ax, r.endpoint)

    def _note(self, r):
        decimals = plots.ARM_ENDPOINTS[r.endpoint]["decimals"]
        arms = " vs ".join(f"{plots.ARM_LABELS[a]} {r.percent[a]:.{decimals}f}%" for a in r.percent)
        return f"<b>{html.escape(r.title)}</b>: {html.escape(arms)}"



# --------------------------------------------------------------------------------------
# "Check yourself": one question, immediate feedback (every lesson ends with one)
# --------------------------------------------------------------------------------------

class CheckYourself:
    """A multiple-choice question with immediate feedback, for the end of a lesson.

    The lesson computes the right answer with teachkit and passes it in, so the
    question stays true when the numbers change.  ``right`` and ``wrong`` are HTML
    explanations shown after a right or a wrong choice.

    >>> q = CheckYourself("Did Z cross 2.64?", ["Yes", "No"], answer="No",
    ...                   right="Z = 1.55 is below 2.64.", wrong="Compare Z with 2.64.")
    >>> q.choose("Yes")
    False
    >>> "Not quite" in q.feedback
    True
    >>> q.choose("No"), "Right" in q.feedback
    (True, True)
    """

    RIGHT = "<b style='color:#009E73'>Right.</b> "
    WRONG = "<b style='color:#D55E00'>Not quite.</b> "

    def __init__(self, question: str, options, answer, right: str = "", wrong: str = ""):
        if not isinstance(question, str) or not question.strip():
            raise ValueError("question must be a non-empty string")
        options = list(options)
        if len(options) < 2 or len(set(options)) != len(options):
            raise ValueError(f"options must hold at least two different choices, got {options!r}")
        if answer not in options:
            raise ValueError(f"answer must be one of the options {options!r}, got {answer!r}")
        self.question, self.options, self.answer = question, options, answer
        self.right, self.wrong = right, wrong
        self.feedback = ""
        self._widget = None

    def choose(self, option) -> bool:
        """Record a learner's choice; return whether it is right (and set ``feedback``)."""
        if option not in self.options:
            raise ValueError(f"option must be one of {self.options!r}, got {option!r}")
        correct = option == self.answer
        self.feedback = (self.RIGHT + self.right) if correct else (self.WRONG + self.wrong)
        if self._widget is not None:
            self._feedback.value = self.feedback
        return correct

    @property
    def widget(self):
        """The question, radio buttons and a feedback line (built on first use)."""
        if self._widget is None:
            import ipywidgets as W

            self._buttons = W.RadioButtons(options=self.options, value=None,
                                           layout=W.Layout(width="auto"))
            self._feedback = W.HTML(self.feedback)
            self._buttons.observe(lambda change: change["new"] is not None and
                                  self.choose(change["new"]), names="value")
            self._widget = W.VBox([W.HTML(f"<b>{html.escape(self.question)}</b>"),
                                   self._buttons, self._feedback])
        return self._widget

    def _ipython_display_(self):  # pragma: no cover - notebook only
        from IPython.display import display

        display(self.widget)


ALL = (TrialOverview, KaplanMeierBuilder, LogRankExplorer, RiskClassifier,
       StratificationSimulator, EventsPlanner, BoundaryExplorer, InterimMonitor, TrialReplayer)
