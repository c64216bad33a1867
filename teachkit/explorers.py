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
import io
import math
import textwrap
import time
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from teachkit import plots

__all__ = ["Param", "Explorer", "ALL", "SYNTHETIC_NOTE"]

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
        layout = W.Layout(width="auto", min_width="260px")
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

def _encode_png(canvas) -> bytes:
    """Encode the Agg canvas's pixels as PNG (fast zlib level: speed over size)."""
    from PIL import Image

    rgba = np.asarray(canvas.buffer_rgba())
    out = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(out, format="png", compress_level=1)
    return out.getvalue()


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
        return result

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
                             layout=W.Layout(grid_template_columns="repeat(auto-fill, minmax(280px, 1fr))",
                                             grid_gap="4px 12px"))
        self._show_message(self._note(self.result) if self.result is not None else "")
        return W.VBox([header, controls, self._progress, self._message, self._image] +
                      self._extra_views())

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


#: The explorers of issue 6, in lesson order (filled in below).
ALL: tuple = ()  # filled in at the end of the module


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
        Param("n_repetitions", "Replays", "int", 1000, min=100, max=2000, step=100),
        Param("block_sizes", "Block sizes (stratified)", "choice", (2, 4),
              options=((2,), (4,), (2, 4), (4, 6), (4, 8)),
              option_labels=("2", "4", "2 or 4 (random)", "4 or 6 (random)", "4 or 8 (random)")),
        Param("seed", "New replays", "seed", 1),
    )

    @classmethod
    def example_params(cls):
        return [dict(n_patients=208, n_repetitions=1000, block_sizes=(2, 4), seed=1),
                dict(n_patients=40), dict(n_patients=400, block_sizes=(4, 8)),
                dict(n_repetitions=2000, seed=2), dict(block_sizes=(2,), n_patients=100),
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
        ax1.legend(loc="upper right", fontsize=10)
        self._ax2 = ax2 = fig.add_axes((0.69, 0.13, 0.29, 0.66))
        ax2.set_ylim(5.6, -0.6)
        y = np.arange(6)
        self._bars2 = {
            "simple": self._dyn(_Bars(ax2, y + 0.2, 0.38, color=colors["simple"], horizontal=True)),
            "stratified": self._dyn(_Bars(ax2, y - 0.2, 0.38, color=colors["stratified"],
                                          horizontal=True)),
        }
        ax2.set_xlabel("Mean |blin. - chemo.| (patients)")
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

    def _layout_key(self):
        return self._xmax2(self.result)

    @staticmethod
    def _xmax2(r):
        top = max(np.abs(r.simple.difference).mean(axis=0).max(), 1.0)
        return float(np.ceil(top / 2) * 2)

    def _draw(self, r):
        self._bars["simple"].set_values(r.simple_share)
        self._bars["stratified"].set_values(r.stratified_share)
        self._bars2["simple"].set_values(np.abs(r.simple.difference).mean(axis=0))
        self._bars2["stratified"].set_values(np.abs(r.stratified.difference).mean(axis=0))
        self._ax2.set_xlim(0, self._xmax2(r))  # a new scale redraws the background
        for text, k in zip(self._sizes, r.stratum_sizes):
            text.set_text(f"n = {k}")
        self._text.set_text(
            f"{r.n_patients} patients, {r.n_repetitions} replays. A stratum off by more than 2: "
            f"{100 * r.simple_over_2:.0f}% of simple, {100 * r.stratified_over_2:.0f}% of "
            f"stratified randomizations")
