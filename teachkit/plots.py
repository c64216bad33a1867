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


def _figure_and_axes(ax, figsize):
    if ax is None:
        fig = _new_figure(figsize)
        with style():
            ax = fig.add_subplot(1, 1, 1)
        return fig, ax
    if not isinstance(ax, matplotlib.axes.Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax


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
    if ax is None:
        fig = _new_figure((9, 7.5))
        ax = fig.add_axes((0.005, 0.0, 0.99, 0.9))
    else:
        fig, ax = _figure_and_axes(ax, None)
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
    spec = ARM_ENDPOINTS[endpoint]
    if ax is None:
        fig = _new_figure((8, 4.8))
        ax = fig.add_axes((0.02, 0.01, 0.96, 0.8))
    else:
        fig, ax = _figure_and_axes(ax, None)
    ax.set_axis_off()
    gx, gy = np.meshgrid(np.arange(10), np.arange(10)[::-1])  # fill row by row from the top
    gx, gy = gx.ravel(), gy.ravel()
    offset = {"blinatumomab": 0.0, "chemotherapy": 12.5}
    for arm in aall1331.ARMS:
        pct = spec["percent"][arm]
        k = int(math.floor(pct + 0.5))
        colors = np.array([ARM_COLORS[arm]] * k + [LIGHT_GREY] * (100 - k))
        ax.scatter(gx + offset[arm], gy, s=95, c=colors, marker="o", linewidths=0,
                   gid=f"icons.{arm}")
        cx = offset[arm] + 4.5
        ax.text(cx, 10.3, ARM_LABELS[arm], ha="center", va="bottom", fontsize=13,
                fontweight="bold", color=ARM_COLORS[arm])
        ax.text(cx, -1.0, f"{pct:.{spec['decimals']}f}%", ha="center", va="top", fontsize=17,
                fontweight="bold", color=ARM_COLORS[arm], gid=f"percent.{arm}")
        if spec["counts"] is not None:
            n, d = spec["counts"][arm]
            ax.text(cx, -2.6, f"{n} of {d} patients", ha="center", va="top", fontsize=11,
                    gid=f"counts.{arm}")
    ax.set_xlim(-0.8, 22.3)
    ax.set_ylim(-4.4, 11.6)
    subtitle = textwrap.fill(f"Of every 100 patients, the coloured ones {spec['what']}", 72)
    ax.set_title(f"{spec['title']}\n{subtitle}", loc="left", fontsize=12)
    ax.text(22.3, -4.4, f"Source: Brown et al., JAMA 2021 ({spec['source']})", ha="right",
            va="bottom", fontsize=7.5, color="#555555")
    return fig
