"""Figures for the lessons: the trial's patient flow, arm comparisons, Kaplan-Meier
curves with numbers at risk, group-sequential boundaries, B-value paths, forest
plots and adverse events by arm.

Conventions (the same in every figure):

* the Okabe-Ito colour-blind-safe palette (Okabe & Ito, 2008), with the two arms
  always in the same colours: :data:`ARM_COLORS`;
* axis labels with units, and a title that says what the figure shows;
* readable at the size Voila shows a figure (about 9 x 7 inches at 100 dpi);
* every function takes an optional ``ax`` (draw into an existing axes) and returns
  the :class:`matplotlib.figure.Figure`.

Figures made here are created through pyplot and closed at once, so a notebook
shows them exactly once (when the figure is the cell's value) and nothing
accumulates in pyplot's figure manager.

>>> fig = patient_flow()
>>> fig.axes[0].get_title(loc="left").startswith("Patient flow")
True
"""

from __future__ import annotations

import contextlib
import functools
import math
import textwrap
from types import MappingProxyType

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.patches import FancyBboxPatch

from teachkit import aall1331

__all__ = [
    "OKABE_ITO",
    "ARM_COLORS",
    "ARM_LABELS",
    "STYLE",
    "style",
    "arm_color",
    "patient_flow",
    "ARM_ENDPOINTS",
    "set_arm_comparison",
    "icon_colors",
    "arm_comparison",
]

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


# --------------------------------------------------------------------------------------
# Patient flow (Figure 1 of the paper)
# --------------------------------------------------------------------------------------

#: Shorter wording of the exclusion reasons, so that the boxes stay readable.
_SHORT_REASON = {
    "Philadelphia chromosome-positive ALL": "Ph+ ALL",
    "Elevated creatinine (>1.7 mg/dL)": "creatinine >1.7 mg/dL",
    "Patient/physician preference": "preference",
    "Severe adverse events": "severe AEs",
    "Adverse events": "AEs",
    "Randomized after June 30, 2019": "randomized after 30 Jun 2019",
    "Started bridging but did not receive HSCT": "bridging, no HSCT",
    "Proceeded directly to HSCT": "went straight to HSCT",
    "Found to be ineligible for HSCT": "ineligible for HSCT",
    "Late treatment failure": "late treatment failure",
    "Insufficient disease burden": "low disease burden",
}


def _reasons_text(reasons, width):
    parts = [f"{n} {_SHORT_REASON.get(why, why[:1].lower() + why[1:])}" for why, n in reasons.items()]
    return textwrap.fill(" · ".join(parts), width=width)


def _box(ax, x, y, w, h, text, *, gid, color="black", fill=BOX_FILL, size=10.5,
         weight="normal", sub=None, sub_size=8.5):
    """A rounded box centred at (x, y), with a main line and an optional small text below."""
    patch = FancyBboxPatch(
        (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.004,rounding_size=0.01",
        linewidth=1.4, edgecolor=color, facecolor=fill, transform=ax.transAxes,
    )
    ax.add_patch(patch)
    if not sub:
        return ax.text(x, y, text, ha="center", va="center", fontsize=size,
                       fontweight=weight, transform=ax.transAxes, gid=gid, linespacing=1.15)
    # height of one text line as a fraction of the axes' height
    axes_inches = ax.figure.get_figheight() * ax.get_position().height
    line = size * 1.3 / 72 / axes_inches
    n_sub = sub.count("\n") + 1
    sub_line = sub_size * 1.2 / 72 / axes_inches
    top = y + (line + n_sub * sub_line) / 2
    main = ax.text(x, top, text, ha="center", va="top", fontsize=size, fontweight=weight,
                   transform=ax.transAxes, gid=gid)
    ax.text(x, top - line, sub, ha="center", va="top", fontsize=sub_size, color="#333333",
            transform=ax.transAxes, linespacing=1.1)
    return main


def _arrow(ax, start, end, color=GREY):
    ax.annotate("", xy=end, xytext=start, xycoords="axes fraction",
                arrowprops=dict(arrowstyle="-|>", color=color, lw=1.3, shrinkA=0, shrinkB=0,
                                mutation_scale=11))


@_styled
def patient_flow(ax=None, *, reasons=True):
    """The trial's CONSORT-style patient flow, from the published Figure 1.

    Every number is read from :mod:`teachkit.aall1331` (facts ``flow.*``): patients
    evaluated, entering reinduction, completing risk assessment, the four risk groups,
    the high- and intermediate-risk patients eligible for randomization, randomized,
    analysed, receiving cycles 1 and 2, and undergoing transplant (HSCT), with the
    exclusions and their reasons beside each step.  Each box's number is a text artist
    whose ``gid`` is the fact's name (``"flow.analysed.blinatumomab"`` for an arm), so
    tests and lessons can find it.

    Parameters
    ----------
    ax : matplotlib Axes, optional
        Axes to draw into (its axis is switched off); by default a new 9 x 7.5 inch figure.
    reasons : bool
        Show the reasons for exclusion under each exclusion count (default True).

    Returns
    -------
    matplotlib.figure.Figure

    Source: Brown et al., JAMA 2021, Figure 1.

    >>> fig = patient_flow()
    >>> texts = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}
    >>> texts["flow.randomized"]
    '216 randomized (1:1)'
    """
    if not isinstance(reasons, bool):
        raise TypeError(f"reasons must be True or False, got {reasons!r}")
    fig, ax = _figure_and_axes(ax, (9, 7.5), rect=(0.005, 0.0, 0.99, 0.9))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)

    def f(name):
        return aall1331.fact(f"flow.{name}")

    arms = aall1331.ARMS
    side = {"blinatumomab": -1, "chemotherapy": +1}

    def sub(name, arm=None, width=34):
        if not reasons:
            return None
        r = f(name).extra.get("reasons", {})
        if arm is not None:
            r = r.get(arm, {})
        return _reasons_text(r, width) if r else None

    # ---- the trunk: evaluation to randomization ------------------------------------
    xc, w, h = 0.36, 0.36, 0.042
    xs, ws, hs = 0.785, 0.41, 0.07
    y = {"evaluated": 0.975, "reinduction": 0.885, "assessed": 0.795, "groups": 0.715,
         "eligible": 0.635, "randomized": 0.53}
    _box(ax, xc, y["evaluated"], w, h, f"{f('evaluated').value} evaluated for eligibility",
         gid="flow.evaluated", weight="bold")
    _box(ax, xc, y["reinduction"], w, h, f"{f('entered_reinduction').value} entered reinduction",
         gid="flow.entered_reinduction", weight="bold")
    _box(ax, xc, y["assessed"], w, h,
         f"{f('completed_risk_assessment').value} completed risk assessment",
         gid="flow.completed_risk_assessment", weight="bold")
    for a, b, name in (("evaluated", "reinduction", "excluded_before_reinduction"),
                       ("reinduction", "assessed", "excluded_during_reinduction")):
        _arrow(ax, (xc, y[a] - h / 2), (xc, y[b] + h / 2))
        ym = (y[a] + y[b]) / 2
        _arrow(ax, (xc, ym), (xs - ws / 2, ym))
        _box(ax, xs, ym, ws, hs, f"{f(name).value} excluded", gid=f"flow.{name}",
             sub=sub(name, width=58), size=10)

    groups = f("risk_groups").value
    group_label = {"early_treatment_failure": "early treatment\nfailure", "high": "high risk",
                   "intermediate": "intermediate\nrisk", "low": "low risk"}
    gx = {"early_treatment_failure": 0.10, "high": 0.31, "intermediate": 0.52, "low": 0.85}
    for g, x in gx.items():
        randomized_group = g in ("high", "intermediate")
        _box(ax, x, y["groups"], 0.18, 0.05, f"{groups[g]} {group_label[g]}",
             gid=f"flow.risk_groups.{g}", size=9.5,
             color="black" if randomized_group else GREY,
             fill=BOX_FILL if randomized_group else "white")
        _arrow(ax, (xc, y["assessed"] - h / 2), (x, y["groups"] + 0.025))
    xe = (gx["high"] + gx["intermediate"]) / 2
    _box(ax, xe, y["eligible"], 0.34, h,
         f"{f('eligible_for_randomization').value} eligible for randomization",
         gid="flow.eligible_for_randomization", weight="bold", size=10)
    for g in ("high", "intermediate"):
        _arrow(ax, (gx[g], y["groups"] - 0.025), (xe, y["eligible"] + h / 2))
    _arrow(ax, (xe, y["eligible"] - h / 2), (xe, y["randomized"] + h / 2))
    ym = (y["eligible"] + y["randomized"]) / 2
    _arrow(ax, (xe, ym), (xs - ws / 2, ym))
    _box(ax, xs, ym, ws, hs, f"{f('excluded_before_randomization').value} excluded",
         gid="flow.excluded_before_randomization",
         sub=sub("excluded_before_randomization", width=58), size=10)
    n_randomized = sum(f("randomized").value.values())
    _box(ax, xe, y["randomized"], 0.30, h, f"{n_randomized} randomized (1:1)",
         gid="flow.randomized", weight="bold", size=10.5)

    # ---- the two arms ----------------------------------------------------------------
    ax_ = {"blinatumomab": 0.385, "chemotherapy": 0.615}
    sx = {"blinatumomab": 0.133, "chemotherapy": 0.867}
    wa, ha_, wsa, hsa = 0.2, 0.042, 0.255, 0.08
    rows = [("randomized", "randomized to {label}"),
            ("analysed", "analysed (DFS)"),
            ("received_cycle_1", "received cycle 1"),
            ("received_cycle_2", "received cycle 2"),
            ("underwent_hsct", "underwent HSCT")]
    ys = [0.43, 0.335, 0.24, 0.145, 0.04]
    gaps = {"randomized": ("excluded_from_analysis", "excluded"),
            "analysed": ("no_cycle_1", "no cycle 1"),
            "received_cycle_1": ("no_cycle_2", "no cycle 2"),
            "received_cycle_2": ("no_hsct_after_cycle_2", "no HSCT")}
    for arm in arms:
        color = ARM_COLORS[arm]
        label = ARM_LABELS[arm].lower()
        x = ax_[arm]
        _arrow(ax, (xe, y["randomized"] - h / 2), (x, ys[0] + ha_ / 2))
        for i, (name, text) in enumerate(rows):
            value = f(name).value[arm]
            line = f"{value} {text.format(label=label)}"
            if name == "randomized":
                line = f"{value} {ARM_LABELS[arm]}"
            if name == "underwent_hsct":
                after1 = f("hsct_after_cycle_1").value[arm]
                line = f"{value} underwent HSCT\n({after1} after cycle 1)"
            _box(ax, x, ys[i], wa, ha_ if name != "underwent_hsct" else 0.06, line,
                 gid=f"flow.{name}.{arm}", color=color, size=10,
                 weight="bold" if name in ("randomized", "analysed") else "normal")
            if i + 1 < len(rows):
                top = ys[i + 1] + (ha_ if rows[i + 1][0] != "underwent_hsct" else 0.06) / 2
                _arrow(ax, (x, ys[i] - ha_ / 2), (x, top), color=color)
                gap_name, gap_text = gaps[name]
                yg = (ys[i] + ys[i + 1]) / 2
                edge = sx[arm] + side[arm] * -wsa / 2
                _arrow(ax, (x, yg), (edge, yg), color=color)
                _box(ax, sx[arm], yg, wsa, hsa, f"{f(gap_name).value[arm]} {gap_text}",
                     gid=f"flow.{gap_name}.{arm}", color=color, fill="white", size=9,
                     sub=sub(gap_name, arm, width=44), sub_size=7.5)

    ax.set_title("Patient flow in AALL1331: from 669 patients evaluated to the "
                 "208 analysed\n(high and intermediate risk were randomized; "
                 "HSCT = stem cell transplant)", loc="left", fontsize=12.5,
                 fontweight="bold")
    ax.text(0.995, 0.0, "Source: Brown et al., JAMA 2021, Figure 1", ha="right", va="bottom",
            fontsize=8, color="#555555", transform=ax.transAxes)
    return fig


# --------------------------------------------------------------------------------------
# One endpoint, both arms, as 100 patients each (for lesson 00)
# --------------------------------------------------------------------------------------

def _endpoints():
    r = "results."
    analysed = aall1331.fact("flow.analysed").value
    cycle1 = aall1331.fact("flow.received_cycle_1").value
    sae = aall1331.fact("results.serious_ae_percent").value
    out = {
        "dfs_2y": dict(title="2-year disease-free survival",
                       what="were alive and disease-free at 2 years (KM estimate)",
                       percent={a: 100 * aall1331.fact(r + "dfs_2y").value[a] for a in aall1331.ARMS},
                       counts=None, decimals=1, source=aall1331.fact(r + "dfs_2y").source),
        "os_2y": dict(title="2-year overall survival",
                      what="were alive at 2 years (KM estimate)",
                      percent={a: 100 * aall1331.fact(r + "os_2y").value[a] for a in aall1331.ARMS},
                      counts=None, decimals=1, source=aall1331.fact(r + "os_2y").source),
    }
    mrd = aall1331.fact(r + "mrd_negative_cycle_1")
    out["mrd_negative_cycle_1"] = dict(
        title="MRD negative after cycle 1", what="had no detectable leukemia (MRD < 0.01%)",
        percent={a: 100 * mrd.value[a] / analysed[a] for a in aall1331.ARMS},
        counts={a: (mrd.value[a], analysed[a]) for a in aall1331.ARMS}, decimals=0,
        source=mrd.source)
    tox = aall1331.fact(r + "toxic_deaths")
    out["toxic_deaths"] = dict(
        title="Toxic deaths during cycles 1-2", what="died of treatment toxicity",
        percent={a: 100 * tox.value[a] / cycle1[a] for a in aall1331.ARMS},
        counts={a: (tox.value[a], cycle1[a]) for a in aall1331.ARMS}, decimals=1,
        source=tox.source)
    for ae, pct in sae.items():
        out[ae] = dict(title=f"Serious {ae} (cycles 1-2)", what=f"had {ae} of grade 3 or higher",
                       percent={a: float(pct[a]) for a in aall1331.ARMS}, counts=None,
                       decimals=0, source=aall1331.fact(r + "serious_ae_percent").source)
    return MappingProxyType(out)


#: Endpoints :func:`arm_comparison` can draw, name -> description (title, numbers, source).
ARM_ENDPOINTS = _endpoints()


@_styled
def arm_comparison(endpoint, ax=None):
    """One endpoint in both arms, drawn as 100 patients per arm (an icon array).

    Each arm is a 10 x 10 grid of people; the filled ones are how many of every 100
    patients had the outcome (the published percentage rounded to a whole patient).
    Icon arrays make risks concrete for non-statisticians (Galesic et al., 2009).
    The exact published number is printed under each grid.

    Parameters
    ----------
    endpoint : str
        One of :data:`ARM_ENDPOINTS`: ``"dfs_2y"``, ``"os_2y"``, ``"mrd_negative_cycle_1"``,
        ``"toxic_deaths"``, ``"infection"``, ``"febrile neutropenia"``, ``"sepsis"``,
        ``"mucositis"``.
    ax : matplotlib Axes, optional
        By default a new 8 x 4.6 inch figure.

    Returns
    -------
    matplotlib.figure.Figure

    Source: Brown et al., JAMA 2021 (Abstract; Table 2; Results, AE End Point).

    >>> fig = arm_comparison("dfs_2y")
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "percent.blinatumomab"]
    ['54.4%']
    """
    if not isinstance(endpoint, str) or endpoint not in ARM_ENDPOINTS:
        raise ValueError(f"endpoint must be one of {tuple(ARM_ENDPOINTS)}, got {endpoint!r}")
    fig, ax = _figure_and_axes(ax, (8, 4.8), rect=(0.02, 0.01, 0.96, 0.8))
    ax.set_axis_off()
    gx, gy = np.meshgrid(np.arange(10), np.arange(10)[::-1])  # fill row by row from the top
    gx, gy = gx.ravel(), gy.ravel()
    offset = {"blinatumomab": 0.0, "chemotherapy": 12.5}
    for arm in aall1331.ARMS:
        ax.scatter(gx + offset[arm], gy, s=95, c=[LIGHT_GREY] * 100, marker="o", linewidths=0,
                   gid=f"icons.{arm}")
        cx = offset[arm] + 4.5
        ax.text(cx, 10.3, ARM_LABELS[arm], ha="center", va="bottom", fontsize=13,
                fontweight="bold", color=ARM_COLORS[arm])
        ax.text(cx, -1.0, "", ha="center", va="top", fontsize=17,
                fontweight="bold", color=ARM_COLORS[arm], gid=f"percent.{arm}")
        ax.text(cx, -2.6, "", ha="center", va="top", fontsize=11, gid=f"counts.{arm}")
    ax.set_xlim(-0.8, 22.3)
    ax.set_ylim(-4.4, 11.6)
    ax.set_title("", loc="left", fontsize=12)
    ax.text(22.3, -4.4, "", ha="right", va="bottom", fontsize=7.5, color="#555555",
            gid="source")
    set_arm_comparison(ax, endpoint)
    return fig


def icon_colors(arm, percent):
    """Colours of an arm's 100 icons: the published percentage, rounded to whole patients,
    in the arm's colour, the rest light grey.

    >>> colours = icon_colors("chemotherapy", 39.0)
    >>> int((colours == ARM_COLORS["chemotherapy"]).sum()), len(colours)
    (39, 100)
    """
    k = int(math.floor(percent + 0.5))
    return np.array([arm_color(arm)] * k + [LIGHT_GREY] * (100 - k))


def set_arm_comparison(ax, endpoint):
    """Show ``endpoint`` on axes drawn by :func:`arm_comparison`, changing its artists in
    place (icon colours, numbers, title, source): an explorer can switch endpoints
    without drawing a new figure.  Returns the artists that changed.

    >>> fig = arm_comparison("dfs_2y")
    >>> changed = set_arm_comparison(fig.axes[0], "toxic_deaths")
    >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "counts.chemotherapy")
    ['5 of 97 patients']
    """
    if not isinstance(endpoint, str) or endpoint not in ARM_ENDPOINTS:
        raise ValueError(f"endpoint must be one of {tuple(ARM_ENDPOINTS)}, got {endpoint!r}")
    spec = ARM_ENDPOINTS[endpoint]
    by_gid = {a.get_gid(): a for a in ax.get_children() if a.get_gid()}
    for arm in aall1331.ARMS:
        pct = spec["percent"][arm]
        by_gid[f"icons.{arm}"].set_facecolor(icon_colors(arm, pct))
        by_gid[f"percent.{arm}"].set_text(f"{pct:.{spec['decimals']}f}%")
        counts = ""
        if spec["counts"] is not None:
            n, d = spec["counts"][arm]
            counts = f"{n} of {d} patients"
        by_gid[f"counts.{arm}"].set_text(counts)
    by_gid["source"].set_text(f"Source: Brown et al., JAMA 2021 ({spec['source']})")
    subtitle = textwrap.fill(f"Of every 100 patients, the coloured ones {spec['what']}", 72)
    title = ax.set_title(f"{spec['title']}\n{subtitle}", loc="left", fontsize=12)  # same artist
    changed = [by_gid[f"{kind}.{arm}"] for kind in ("icons", "percent", "counts")
               for arm in aall1331.ARMS]
    return changed + [by_gid["source"], title]


# --------------------------------------------------------------------------------------
# Kaplan-Meier curves in the KMunicate style (Morris et al., BMJ Open 2019)
# --------------------------------------------------------------------------------------

def risk_table_counts(km, times):
    """Numbers at risk, cumulative events and cumulative censored at each of ``times``.

    At risk at t = subjects with observed time >= t (R: ``summary(fit, times=t)$n.risk``);
    events and censored count those with time <= t.  Read off the product-limit table,
    whose rows include censor-only times.

    >>> from teachkit.survival import kaplan_meier
    >>> km = kaplan_meier([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])
    >>> {k: v.tolist() for k, v in risk_table_counts(km, [0, 2, 4]).items()}
    {'at_risk': [5, 4, 1], 'events': [0, 2, 3], 'censored': [0, 1, 1]}
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    first = np.searchsorted(km.time, times, side="left")  # first row with time >= t
    n_at_risk = np.concatenate((km.n_at_risk, [0]))[first]
    upto = np.searchsorted(km.time, times, side="right")  # rows with time <= t
    cum_events = np.concatenate(([0], np.cumsum(km.n_events)))[upto]
    cum_censored = np.concatenate(([0], np.cumsum(km.n_censored)))[upto]
    return {"at_risk": n_at_risk.astype(int), "events": cum_events.astype(int),
            "censored": cum_censored.astype(int)}


def _km_step_xy(km, t_end=None):
    """x, y of the step function S(t) from time 0 (draw with drawstyle='steps-post')."""
    x = np.concatenate(([0.0], km.time))
    y = np.concatenate(([1.0], km.survival))
    if t_end is not None and t_end > x[-1]:
        x = np.append(x, t_end)
        y = np.append(y, y[-1])
    return x, y


def _step_band_verts(x, lower, upper):
    """Polygon (N x 2) of a band between two right-continuous step functions."""
    xs = np.repeat(x, 2)[1:]
    lo = np.repeat(lower, 2)[:-1]
    hi = np.repeat(upper, 2)[:-1]
    return np.column_stack([np.concatenate([xs, xs[::-1]]), np.concatenate([lo, hi[::-1]])])


class KaplanMeierPanel:
    """Kaplan-Meier curves (one per arm) with censor ticks, optional CI bands and a
    numbers-at-risk table (at risk, cumulative events, cumulative censored per arm)
    aligned under the time axis, as KMunicate recommends (Morris et al., BMJ Open 2019).

    Created once; :meth:`update` moves every artist in place, so explorers can redraw
    without creating artists.  ``arms`` is a sequence of ``(key, label, colour)``.
    """

    ROWS = (("at_risk", "At risk"), ("events", "Events"), ("censored", "Censored"))

    def __init__(self, ax, table_ax, arms, times, *, ci=True, time_unit="months",
                 ylabel="Survival probability", xmax=None, rows=ROWS):
        self.ax, self.table_ax = ax, table_ax
        self.arms = tuple(arms)
        self.times = np.asarray(times, dtype=float)
        self.ci = ci
        self.rows = tuple(rows)
        xmax = float(self.times[-1]) if xmax is None else float(xmax)
        self.lines, self.ticks, self.bands, self.cells = {}, {}, {}, {}
        for key, label, color in self.arms:
            (line,) = ax.plot([0], [1], drawstyle="steps-post", color=color, lw=2.2, label=label)
            (tick,) = ax.plot([], [], ls="none", marker="|", ms=9, mew=1.6, color=color)
            band = PolyCollection([np.zeros((3, 2))], facecolors=color, alpha=0.18,
                                  edgecolors="none", visible=ci)
            ax.add_collection(band, autolim=False)
            self.lines[key], self.ticks[key], self.bands[key] = line, tick, band
        ax.set_xlim(0, xmax * 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(self.times)
        ax.set_ylabel(ylabel)
        ax.set_xlabel(f"Time ({time_unit})")
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.grid(axis="y", color="#E5E5E5", lw=0.8)
        ax.set_axisbelow(True)
        # numbers-at-risk table: same x as the curves, one row per (arm, quantity)
        table_ax.set_xlim(ax.get_xlim())
        table_ax.set_axis_off()
        n_rows = len(self.arms) * (len(self.rows) + 1)
        table_ax.set_ylim(n_rows - 0.4, -0.6)
        y = 0
        for key, label, color in self.arms:
            table_ax.text(-0.045, y, label, transform=table_ax.get_yaxis_transform(), ha="right",
                          va="center", fontsize=10, fontweight="bold", color=color)
            y += 1
            for row, row_label in self.rows:
                table_ax.text(-0.045, y, row_label, transform=table_ax.get_yaxis_transform(),
                              ha="right", va="center", fontsize=9.5)
                self.cells[key, row] = [
                    table_ax.text(t, y, "", ha="center", va="center", fontsize=9.5)
                    for t in self.times]
                y += 1

    def artists(self):
        """Every artist that :meth:`update` changes."""
        out = [*self.lines.values(), *self.ticks.values(), *self.bands.values()]
        for texts in self.cells.values():
            out.extend(texts)
        return out

    def update(self, fits):
        """Show ``fits`` (arm key -> KaplanMeier result, or None to hide the arm)."""
        for key, _, _ in self.arms:
            km = fits.get(key)
            line, tick, band = self.lines[key], self.ticks[key], self.bands[key]
            shown = km is not None
            line.set_visible(shown)
            tick.set_visible(shown)
            band.set_visible(shown and self.ci)
            if not shown:
                for row, _ in self.rows:
                    for text in self.cells[key, row]:
                        text.set_text("")
                continue
            x, y = _km_step_xy(km, km.time[-1] if km.time.size else 0.0)
            line.set_data(x, y)
            censored = km.n_censored > 0
            tick.set_data(km.time[censored], km.survival[censored])
            if self.ci:
                lower = np.concatenate(([1.0], np.nan_to_num(km.ci_lower, nan=0.0)))
                upper = np.concatenate(([1.0], np.nan_to_num(km.ci_upper, nan=1.0)))
                band.set_verts([_step_band_verts(x, lower[:x.size], upper[:x.size])])
            counts = risk_table_counts(km, self.times)
            for row, _ in self.rows:
                for text, value in zip(self.cells[key, row], counts[row]):
                    text.set_text(str(value))


@_styled
def km_plot(fits, ax=None, *, times=None, ci=True, time_unit="months",
            ylabel="Survival probability", title=None, labels=None, colors=None, note=None):
    """Kaplan-Meier curves with censor ticks, CI bands and a numbers-at-risk table.

    KMunicate style (Morris TP et al., BMJ Open 2019;9:e030215): step curves, shaded
    confidence bands, and under the time axis, per arm, the numbers at risk,
    cumulative events and cumulative censored at each labelled time.

    Parameters
    ----------
    fits : dict
        arm key -> :class:`teachkit.survival.KaplanMeier` (from ``kaplan_meier``).
        Keys ``"blinatumomab"``/``"chemotherapy"`` get the arm colours.
    ax : matplotlib Axes, optional
        The axes for the curves; the table goes into a new axes below it.
    times : array-like, optional
        Times of the x ticks and of the table's columns (default: 6 round steps).
    ci : bool
        Draw the confidence bands (the KM fit's own ``conf_type`` and level).
    title : str, optional
        Default: "Kaplan-Meier estimate by arm".
    note : str, optional
        A line under the title, e.g. that the data are synthetic.

    Returns
    -------
    matplotlib.figure.Figure

    >>> from teachkit.survival import kaplan_meier
    >>> from teachkit.datasets import freireich
    >>> d = freireich()
    >>> fits = {g: kaplan_meier(d.time[d.group == g], d.event[d.group == g]) for g in ("6-MP", "placebo")}
    >>> fig = km_plot(fits, time_unit="weeks", times=[0, 10, 20, 30])
    >>> fig.axes[0].get_title(loc="left")
    'Kaplan-Meier estimate by arm'
    """
    if not isinstance(fits, dict) or not fits:
        raise TypeError("fits must be a non-empty dict: arm -> KaplanMeier result")
    for key, km in fits.items():
        if not all(hasattr(km, a) for a in ("time", "survival", "n_at_risk", "n_censored")):
            raise TypeError(f"fits[{key!r}] must be a KaplanMeier result from kaplan_meier()")
    keys = list(fits)
    palette = [OKABE_ITO[k] for k in ("bluish_green", "orange", "reddish_purple", "sky_blue")]
    arms = []
    for i, key in enumerate(keys):
        label = (labels or {}).get(key, ARM_LABELS.get(key, str(key)))
        color = (colors or {}).get(key, ARM_COLORS.get(key, palette[i % len(palette)]))
        arms.append((key, label, color))
    t_max = max(float(km.time[-1]) for km in fits.values() if km.time.size)
    if times is None:
        step = _nice_step(t_max / 5)
        times = np.arange(0, t_max + step * 0.5, step)
    times = np.asarray(times, dtype=float)
    n_table_rows = len(arms) * 4
    if ax is None:
        fig, ax, table_ax = km_figure(n_table_rows)
    else:
        fig, ax = _figure_and_axes(ax, None)
        pos = ax.get_position()
        table_ax = fig.add_axes((pos.x0, 0.01, pos.width, max(pos.y0 - 0.11, 0.05)))
    panel = KaplanMeierPanel(ax, table_ax, arms, times, ci=ci, time_unit=time_unit,
                             ylabel=ylabel, xmax=max(t_max, times[-1]))
    panel.update(fits)
    ax.legend(loc="upper right")
    ax.set_title(title or "Kaplan-Meier estimate by arm", loc="left", pad=18 if note else 6)
    if note:
        ax.text(0, 1.012, note, transform=ax.transAxes, fontsize=9, color="#555555",
                va="bottom")
    fig._teachkit_panel = panel  # lets tests and lessons find the table cells
    return fig


def km_figure(n_table_rows, width=9.0, curve_height=3.4, *, figure=None):
    """A figure laid out for KM curves over a numbers-at-risk table (sizes in inches).

    Returns ``(figure, curve_axes, table_axes)``; pass ``figure`` to lay out an existing
    (e.g. an explorer's Agg) figure.
    """
    top, gap, row, bottom = 0.6, 0.62, 0.21, 0.08
    height = top + curve_height + gap + row * n_table_rows + bottom
    fig = figure if figure is not None else _new_figure((width, height))
    fig.set_size_inches(width, height)
    left, w = 1.65 / width, 1 - 1.65 / width - 0.3 / width
    table_h = row * n_table_rows / height
    ax = fig.add_axes((left, (bottom + row * n_table_rows + gap) / height, w, curve_height / height))
    table_ax = fig.add_axes((left, bottom / height, w, table_h))
    return fig, ax, table_ax


def _set_title(fig, ax, title, owned):
    """Title at the figure's left edge when we own the figure, else on the axes."""
    if owned:
        fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold")
    else:
        ax.set_title(title, loc="left")


def figure_title(fig) -> str:
    """The title a teachkit figure shows (its suptitle, else the first axes' title).

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


# --------------------------------------------------------------------------------------
# Group-sequential boundaries on the Z, nominal-P and HR scales
# --------------------------------------------------------------------------------------

EFFICACY_COLOR = OKABE_ITO["bluish_green"]
FUTILITY_COLOR = OKABE_ITO["reddish_purple"]
OBSERVED_COLOR = OKABE_ITO["black"]


def _z_to_hr(z, events, allocation=0.5):
    """HR = exp(-Z / sqrt(D r (1 - r))) (Schoenfeld 1981; for 1:1, exp(-2 Z / sqrt(D)))."""
    return np.exp(-np.asarray(z, dtype=float) / np.sqrt(np.asarray(events, dtype=float)
                                                         * allocation * (1 - allocation)))


def _z_to_p(z):
    from scipy.special import ndtr

    return ndtr(-np.asarray(z, dtype=float))


class BoundaryPanel:
    """Efficacy and futility boundaries and an observed path, on up to three scales:
    the Z statistic, the nominal one-sided P value and the hazard ratio.

    ``axes`` maps ``"z"``, ``"p"``, ``"hr"`` to matplotlib axes (any subset).  On the P
    and HR scales "more convincing" is drawn upwards (smaller P, smaller HR), like Z.
    """

    P_LIMITS = (0.5, 1e-5)
    HR_LIMITS = (1.25, 0.2)
    Z_LIMITS = (-1.0, 5.0)

    def __init__(self, axes, *, x_label="Information fraction (events / planned events)"):
        self.axes = dict(axes)
        self.lines = {}
        for scale, ax in self.axes.items():
            (eff,) = ax.plot([], [], "-o", color=EFFICACY_COLOR, lw=2, ms=6, label="efficacy: stop, benefit")
            (fut,) = ax.plot([], [], "--s", color=FUTILITY_COLOR, lw=1.8, ms=5, label="futility: stop, no benefit")
            (obs,) = ax.plot([], [], "-D", color=OBSERVED_COLOR, lw=1.5, ms=6, label="observed")
            self.lines[scale] = (eff, fut, obs)
            ax.set_xlim(0, 1.04)
            ax.set_xlabel(x_label)
            ax.grid(color="#E5E5E5", lw=0.8)
            ax.set_axisbelow(True)
        if "z" in self.axes:
            ax = self.axes["z"]
            ax.set_ylim(*self.Z_LIMITS)
            ax.set_ylabel("Z (log-rank, > 0 favours blinatumomab)")
            ax.axhline(0, color="#999999", lw=0.8)
        if "p" in self.axes:
            ax = self.axes["p"]
            ax.set_yscale("log")
            ax.set_ylim(*self.P_LIMITS)
            ax.set_ylabel("Nominal one-sided P")
            ax.set_yticks([0.5, 0.1, 0.025, 0.01, 0.001, 1e-4, 1e-5],
                          ["0.5", "0.1", "0.025", "0.01", "0.001", "0.0001", "0.00001"])
            ax.minorticks_off()
        if "hr" in self.axes:
            ax = self.axes["hr"]
            ax.set_yscale("log")
            ax.set_ylim(*self.HR_LIMITS)
            ax.set_ylabel("Hazard ratio (blinatumomab / chemotherapy)")
            ticks = [1.2, 1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2]
            ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
            ax.minorticks_off()
            ax.axhline(1.0, color="#999999", lw=0.8)

    def artists(self):
        return [a for trio in self.lines.values() for a in trio]

    def update(self, design, events_planned=None, observed_fractions=(), observed_z=(),
               allocation=0.5):
        """Show ``design`` (a GroupSequentialDesign); the HR scale needs ``events_planned``."""
        t = np.asarray(design.information_fractions, dtype=float)
        z_eff = np.asarray(design.z_efficacy, dtype=float)
        z_fut = np.asarray(design.z_futility, dtype=float)
        has_fut = np.isfinite(z_fut)
        obs_t = np.asarray(observed_fractions, dtype=float)
        obs_z = np.asarray(observed_z, dtype=float)
        for scale, (eff, fut, obs) in self.lines.items():
            if scale == "z":
                f = lambda z, tt: z  # noqa: E731
            elif scale == "p":
                f = lambda z, tt: _z_to_p(z)  # noqa: E731
            else:
                if events_planned is None:
                    raise ValueError("events_planned is needed to draw the hazard-ratio scale")
                f = lambda z, tt: _z_to_hr(z, tt * events_planned, allocation)  # noqa: E731
            eff.set_data(t, f(z_eff, t))
            fut.set_data(t[has_fut], f(z_fut[has_fut], t[has_fut]))
            fut.set_visible(bool(has_fut.any()))
            obs.set_data(obs_t, f(obs_z, obs_t) if obs_t.size else [])
            obs.set_visible(bool(obs_t.size))


@_styled
def boundary_plot(design, events_planned=None, observed_fractions=(), observed_z=(), *,
                  scales=("z", "p", "hr"), title=None):
    """Group-sequential boundaries on the Z, nominal-P and HR scales, with the observed path.

    Each look k at information fraction t_k has an efficacy boundary z_k (stop and
    claim benefit when Z_k >= z_k), shown also as the nominal one-sided P, 1 - Phi(z_k),
    and as the hazard ratio it corresponds to at D_k = t_k x ``events_planned`` events,
    HR_k = exp(-2 z_k / sqrt(D_k)) for 1:1 allocation (Schoenfeld 1981).  Futility
    boundaries are drawn where the design has them.

    Parameters
    ----------
    design : teachkit.sequential.GroupSequentialDesign
    events_planned : float, optional
        Needed for the HR scale.
    observed_fractions, observed_z : array-like
        The observed path (e.g. ``[80 / 131]``, ``[1.555]`` for the AALL1331 interim).
    scales : tuple
        Which of ``"z"``, ``"p"``, ``"hr"`` to draw, side by side.

    >>> from teachkit.sequential import group_sequential_design
    >>> d = group_sequential_design([1/3, 2/3, 1])
    >>> fig = boundary_plot(d, 131, [80 / 131], [1.555])
    >>> len(fig.axes)
    3
    """
    scales = tuple(scales)
    if not scales or any(s not in ("z", "p", "hr") for s in scales):
        raise ValueError(f"scales must be a non-empty subset of ('z', 'p', 'hr'), got {scales!r}")
    if "hr" in scales and events_planned is None:
        scales = tuple(s for s in scales if s != "hr")
    fig = _new_figure((4.2 * len(scales) + 0.6, 4.8))
    axs = fig.subplots(1, len(scales), squeeze=False)[0]
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.8, wspace=0.4)
    panel = BoundaryPanel(dict(zip(scales, axs)), x_label="Information fraction")
    panel.update(design, events_planned, observed_fractions, observed_z)
    axs[0].legend(loc="upper left", bbox_to_anchor=(0, 1.17), ncol=3, fontsize=10,
                  borderaxespad=0)
    fig.suptitle(title or f"Stopping boundaries: {design.n_looks} looks, {design.spending} "
                 f"spending, one-sided alpha {design.alpha:g}", x=0.01, ha="left",
                 fontsize=13, fontweight="bold")
    fig._teachkit_panel = panel
    return fig


# --------------------------------------------------------------------------------------
# B-values (Lan & Wittes 1988)
# --------------------------------------------------------------------------------------

class BValuePanel:
    """The B-value path B(t) = Z(t) sqrt(t) with drift lines E[B(t)] = theta t.

    ``drifts`` maps a label to (theta, colour).  From the last observed point, dashed
    lines show where B would go on average under each drift; the final critical value
    c (reject at the end when B(1) = Z(1) >= c) is a marker at t = 1.
    """

    def __init__(self, ax, labels_colors):
        self.ax = ax
        self.labels = tuple(labels_colors)
        (self.path,) = ax.plot([], [], "-o", color=OBSERVED_COLOR, lw=2, ms=6, label="observed B(t)",
                               zorder=4)
        self.drift_lines, self.projections = {}, {}
        for label, color in labels_colors.items():
            (self.drift_lines[label],) = ax.plot([], [], "-", color=color, lw=1.2, alpha=0.55)
            (self.projections[label],) = ax.plot([], [], "--", color=color, lw=2, label=label)
        (self.critical,) = ax.plot([], [], marker="_", ms=28, mew=3, color=EFFICACY_COLOR,
                                   ls="none", label="final critical value", zorder=5)
        ax.set_xlim(0, 1.05)
        ax.set_ylim(-1.5, 4.5)
        ax.axhline(0, color="#999999", lw=0.8)
        ax.set_xlabel("Information fraction t")
        ax.set_ylabel("B-value  B(t) = Z(t) √t")
        ax.grid(color="#E5E5E5", lw=0.8)
        ax.set_axisbelow(True)

    def artists(self):
        return [self.path, *self.drift_lines.values(), *self.projections.values(), self.critical]

    def update(self, fractions, z, drifts, final_critical):
        t = np.concatenate(([0.0], np.asarray(fractions, dtype=float)))
        b = np.concatenate(([0.0], np.asarray(z, dtype=float) * np.sqrt(t[1:])))
        self.path.set_data(t, b)
        t_now, b_now = t[-1], b[-1]
        for label in self.labels:
            theta = drifts[label]
            self.drift_lines[label].set_data([0, 1], [0, theta])
            self.projections[label].set_data([t_now, 1], [b_now, b_now + theta * (1 - t_now)])
        self.critical.set_data([1.0], [final_critical])


@_styled
def bvalue_plot(fractions, z, drifts, final_critical, *, ax=None, title=None):
    """B-value path with drift lines (Lan & Wittes, Biometrics 1988).

    B(t) = Z(t) sqrt(t) behaves like Brownian motion with drift theta: E[B(t)] = theta t.
    Solid faint lines are theta t for each drift; dashed lines continue the observed
    path with each drift to t = 1, where the final critical value is marked: conditional
    power is the chance that B(1) ends above it.

    Parameters
    ----------
    fractions, z : array-like
        Information fractions and Z values of the looks so far.
    drifts : dict
        label -> theta, e.g. ``{"design (HR 0.58)": 3.12, "current trend": 1.99, "H0": 0.0}``.
    final_critical : float
        The final efficacy boundary on the Z (= B at t = 1) scale.

    >>> fig = bvalue_plot([80 / 131], [1.555], {"design": 3.12, "trend": 1.99, "H0": 0.0}, 1.98)
    >>> fig.axes[0].get_xlabel()
    'Information fraction t'
    """
    if not isinstance(drifts, dict) or not drifts:
        raise TypeError("drifts must be a non-empty dict: label -> drift theta")
    fig, ax = _figure_and_axes(ax, (8, 5.2))
    palette = [OKABE_ITO[k] for k in ("blue", "orange", "sky_blue", "reddish_purple", "yellow")]
    panel = BValuePanel(ax, {label: palette[i % len(palette)] for i, label in enumerate(drifts)})
    panel.update(fractions, z, drifts, final_critical)
    ax.legend(loc="upper left", fontsize=10)
    ax.set_title(title or "B-value path and where each drift would take it", loc="left")
    fig._teachkit_panel = panel
    return fig


# --------------------------------------------------------------------------------------
# Forest plots
# --------------------------------------------------------------------------------------

@_styled
def forest_plot(labels, estimate, lower, upper, *, ratio=True, ax=None, title=None,
                xlabel=None, favours=("favours blinatumomab", "favours chemotherapy"),
                colors=None):
    """Effect sizes with confidence intervals, one row each (a forest plot).

    Ratios (hazard or odds ratios) are drawn on a log axis with the no-effect line at 1;
    differences on a linear axis with the line at 0.  The estimate and CI are printed at
    the right of each row.

    >>> fig = forest_plot(["DFS", "OS"], [0.70, 0.62], [0.47, 0.39], [1.03, 0.98],
    ...                   xlabel="Hazard ratio (95% CI)")
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "value.0"]
    ['0.7 (0.47-1.03)']
    """
    labels = [str(x) for x in labels]
    est, lo, hi = (np.asarray(v, dtype=float) for v in (estimate, lower, upper))
    n = len(labels)
    if not (est.shape == lo.shape == hi.shape == (n,)) or n == 0:
        raise ValueError("labels, estimate, lower and upper must have the same non-zero length")
    if np.any(lo > est) or np.any(est > hi):
        raise ValueError("each estimate must lie within its interval (lower <= estimate <= upper)")
    if ratio and np.any(lo <= 0):
        raise ValueError("ratios must be positive (lower > 0) for a log axis; use ratio=False")
    owned = ax is None
    fig, ax = _figure_and_axes(ax, (9, 1.5 + 0.55 * n))
    if owned:
        h = 1.5 + 0.55 * n
        left = min(0.6, (0.3 + 0.085 * max(len(s) for s in labels)) / 9)
        fig.subplots_adjust(left=left, right=0.76, top=1 - 0.7 / h, bottom=0.8 / h)
    y = np.arange(n)[::-1]
    color = colors or OKABE_ITO["black"]
    ax.hlines(y, lo, hi, color=color, lw=2)
    ax.plot(est, y, "s", color=color, ms=8)
    ref = 1.0 if ratio else 0.0
    ax.axvline(ref, color="#777777", lw=1)
    if ratio:
        ax.set_xscale("log")
        span = np.array([lo.min(), hi.max(), ref])
        ax.set_xlim(span.min() / 1.25, span.max() * 1.25)
        ticks = [v for v in (0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5, 10, 20)
                 if ax.get_xlim()[0] <= v <= ax.get_xlim()[1]]
        ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax.minorticks_off()
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.8, n - 0.2)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(xlabel or ("Ratio (95% CI), log scale" if ratio else "Difference (95% CI)"))
    fmt = "{:.3g}" if ratio else "{:.1f}"
    for i, (yy, e, a, b) in enumerate(zip(y, est, lo, hi)):
        ax.text(1.03, yy, f"{fmt.format(e)} ({fmt.format(a)}-{fmt.format(b)})",
                transform=ax.get_yaxis_transform(), va="center", fontsize=10.5, gid=f"value.{i}")
    if favours:
        ax.text(0.0, -0.13, f"← {favours[0]}", transform=ax.transAxes, fontsize=9,
                color="#555555", ha="left", va="top")
        ax.text(1.0, -0.13, f"{favours[1]} →", transform=ax.transAxes, fontsize=9,
                color="#555555", ha="right", va="top")
    _set_title(fig, ax, title or "Effect sizes with 95% confidence intervals", owned)
    return fig


@_styled
def published_effects_forest(ax=None):
    """The trial's published effect sizes: DFS and OS hazard ratios (Figure 2) and the odds
    ratios of MRD negativity after cycle 1 and of transplant (Table 2).

    Hazard ratios below 1 and odds ratios above 1 favour blinatumomab, so the two kinds
    are shown on one log axis with that reading noted in each label.

    >>> fig = published_effects_forest()
    >>> len(fig.axes[0].get_yticks())
    4
    """
    rows = []
    for name, label in (("results.dfs_hazard_ratio", "DFS hazard ratio (<1 favours blin.)"),
                        ("results.os_hazard_ratio", "OS hazard ratio (<1 favours blin.)")):
        v = aall1331.fact(name).value
        rows.append((label, v["estimate"], v["ci_lower"], v["ci_upper"]))
    t2 = aall1331.table2()
    for key, label in (("table2.mrd_negative_cycle_1", "MRD-negative after cycle 1, OR (>1 favours blin.)"),
                       ("table2.hsct", "Transplant, OR (>1 favours blin.)")):
        r = t2.where(key=key)
        rows.append((label, float(r["odds_ratio"][0]), float(r["odds_ratio_ci_lower"][0]),
                     float(r["odds_ratio_ci_upper"][0])))
    labels, est, lo, hi = zip(*rows)
    return forest_plot(labels, est, lo, hi, ax=ax, favours=None,
                       xlabel="Hazard ratio or odds ratio (95% CI), log scale",
                       title="AALL1331: published effects, blinatumomab vs chemotherapy")


# --------------------------------------------------------------------------------------
# Adverse events by arm and grade (Table 3)
# --------------------------------------------------------------------------------------

@_styled
def adverse_events_plot(cycle=1, ax=None, *, top=None, special_interest_only=False):
    """Adverse events of one randomized cycle by arm and grade (Table 3), as mirrored bars.

    Blinatumomab to the left, chemotherapy to the right; the light bar is any grade, the
    dark bar inside it grade 3 or higher, both as percentages of the patients who
    received that cycle (as treated: cycle 1, 102 vs 97; cycle 2, 88 vs 62).  The four
    adverse events of special interest (infection, febrile neutropenia, mucositis, sepsis)
    are marked with an asterisk.  Blinatumomab-related events (no chemotherapy
    counterpart) are left out.

    >>> fig = adverse_events_plot(cycle=1, top=5)
    >>> figure_title(fig).startswith("Adverse events in cycle 1")
    True
    """
    if cycle not in (1, 2):
        raise ValueError(f"cycle must be 1 or 2, got {cycle!r}")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ValueError(f"top must be a positive integer or None, got {top!r}")
    t3 = aall1331.table3().where(cycle=cycle)
    events = [e for e in dict.fromkeys(t3["event"])
              if set(t3.where(event=e)["arm"]) == set(aall1331.ARMS)]
    if special_interest_only:
        events = [e for e in events if bool(t3.where(event=e)["special_interest"][0])]
    if events and events[0].lower().startswith("patients with any"):
        events = events[1:]
    if top is not None:
        events = events[:top]
    n = len(events)
    owned = ax is None
    fig, ax = _figure_and_axes(ax, (9, 1.8 + 0.34 * n))
    if owned:
        h = 1.8 + 0.34 * n
        fig.subplots_adjust(left=0.33, right=0.97, top=1 - 1.0 / h, bottom=0.75 / h)
    y = np.arange(n)[::-1]
    denom = {}
    for i, ev in enumerate(events):
        rows = t3.where(event=ev)
        for arm in aall1331.ARMS:
            r = rows.where(arm=arm)
            nn = int(r["n"][0])
            denom[arm] = nn
            sign = -1 if arm == "blinatumomab" else 1
            anyg = 100 * float(r["any_grade"][0]) / nn
            g3 = 100 * float(r["grade_3_plus"][0]) / nn
            ax.barh(y[i], sign * anyg, 0.75, color=ARM_COLORS[arm], alpha=0.35,
                    gid=f"any.{arm}.{ev}")
            ax.barh(y[i], sign * g3, 0.45, color=ARM_COLORS[arm], gid=f"g3.{arm}.{ev}")
    labels = [f"{ev} *" if bool(t3.where(event=ev)["special_interest"][0]) else ev for ev in events]
    ax.set_yticks(y, labels, fontsize=10)
    ax.set_ylim(-0.7, n - 0.3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(-100, 100)
    ticks = [-100, -75, -50, -25, 0, 25, 50, 75, 100]
    ax.set_xticks(ticks, [f"{abs(t)}" for t in ticks])
    ax.set_xlabel("Patients with the adverse event (%)")
    ax.tick_params(axis="y", length=0)
    top_y = n - 0.3
    ax.text(-50, top_y, f"Blinatumomab (n = {denom.get('blinatumomab', '')})", ha="center",
            va="bottom", color=ARM_COLORS["blinatumomab"], fontweight="bold", fontsize=11)
    ax.text(50, top_y, f"Chemotherapy (n = {denom.get('chemotherapy', '')})", ha="center",
            va="bottom", color=ARM_COLORS["chemotherapy"], fontweight="bold", fontsize=11)
    _set_title(fig, ax, f"Adverse events in cycle {cycle} by arm: any grade (light), "
                        f"grade ≥3 (dark)", owned)
    ax.annotate("* adverse event of special interest. Source: Brown et al., JAMA 2021, Table 3",
                xy=(1.0, 0.0), xycoords="figure fraction", ha="right", va="bottom", fontsize=8,
                color="#555555")
    return fig
