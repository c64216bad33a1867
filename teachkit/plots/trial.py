"""Figures of the trial's published facts: the patient flow (Figure 1), one endpoint in
both arms as 100 patients each, forest plots of effect sizes, and adverse events by
arm and grade (Table 3).  Every number is read from :mod:`teachkit.aall1331`.
"""

from __future__ import annotations

import math
import textwrap
from types import MappingProxyType

import numpy as np
from matplotlib.patches import FancyBboxPatch

from teachkit import aall1331
from teachkit.plots._style import ARM_COLORS, ARM_LABELS, BOX_FILL, GREY, LIGHT_GREY, OKABE_ITO, _figure_and_axes, _set_title, _styled, arm_color, figure_title

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

#: The standing of each end point in the paper (Methods, Outcomes; Table 2): only DFS
#: was primary; with no planned adjustment for multiple comparisons the paper asks that
#: the secondary (OS), exploratory (MRD) and post hoc (transplant) end points be read
#: as exploratory (Methods, Statistical Analysis; Limitations).
ENDPOINT_STANDING = MappingProxyType({
    "dfs": "primary end point",
    "os": "secondary end point",
    "mrd": "exploratory end point",
    "hsct": "post hoc end point",
    "safety": "adverse-event end point, as treated",
})

#: Said wherever a non-primary end point is shown.
MULTIPLICITY_CAVEAT = ("Secondary, exploratory and post hoc end points: no adjustment for multiple "
                       "comparisons, to be read as exploratory (Methods; Limitations).")
#: Table 2 note e: how the MRD comparison counts patients with no MRD result.
MRD_MISSING_NOTE = "Patients with no MRD result count as MRD-positive (Table 2 note e)."


def _endpoints():
    r = "results."
    analysed = aall1331.fact("flow.analysed").value
    cycle1 = aall1331.fact("flow.received_cycle_1").value
    sae = aall1331.fact("results.serious_ae_percent").value
    out = {
        "dfs_2y": dict(title="2-year disease-free survival",
                       what="were alive and disease-free at 2 years (KM estimate)",
                       percent={a: 100 * aall1331.fact(r + "dfs_2y").value[a] for a in aall1331.ARMS},
                       counts=None, decimals=1, source=aall1331.fact(r + "dfs_2y").source,
                       standing=ENDPOINT_STANDING["dfs"], caveat=""),
        "os_2y": dict(title="2-year overall survival",
                      what="were alive at 2 years (KM estimate)",
                      percent={a: 100 * aall1331.fact(r + "os_2y").value[a] for a in aall1331.ARMS},
                      counts=None, decimals=1, source=aall1331.fact(r + "os_2y").source,
                      standing=ENDPOINT_STANDING["os"], caveat=MULTIPLICITY_CAVEAT),
    }
    mrd = aall1331.fact(r + "mrd_negative_cycle_1")
    out["mrd_negative_cycle_1"] = dict(
        title="MRD negative after cycle 1", what="had no detectable leukemia (MRD < 0.01%)",
        percent={a: 100 * mrd.value[a] / analysed[a] for a in aall1331.ARMS},
        counts={a: (mrd.value[a], analysed[a]) for a in aall1331.ARMS}, decimals=0,
        source=mrd.source, standing=ENDPOINT_STANDING["mrd"],
        caveat=f"{MRD_MISSING_NOTE} {MULTIPLICITY_CAVEAT}")
    tox = aall1331.fact(r + "toxic_deaths")
    out["toxic_deaths"] = dict(
        title="Toxic deaths during cycles 1-2", what="died of treatment toxicity",
        percent={a: 100 * tox.value[a] / cycle1[a] for a in aall1331.ARMS},
        counts={a: (tox.value[a], cycle1[a]) for a in aall1331.ARMS}, decimals=1,
        source=tox.source, standing=ENDPOINT_STANDING["safety"], caveat="")
    for ae, pct in sae.items():
        out[ae] = dict(title=f"Serious {ae} (cycles 1-2)", what=f"had {ae} of grade 3 or higher",
                       percent={a: float(pct[a]) for a in aall1331.ARMS}, counts=None,
                       decimals=0, source=aall1331.fact(r + "serious_ae_percent").source,
                       standing=ENDPOINT_STANDING["safety"], caveat="")
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
    title = ax.set_title(f"{spec['title']} ({spec['standing']})\n{subtitle}", loc="left",
                         fontsize=12)  # same artist
    changed = [by_gid[f"{kind}.{arm}"] for kind in ("icons", "percent", "counts")
               for arm in aall1331.ARMS]
    return changed + [by_gid["source"], title]


# --------------------------------------------------------------------------------------
# Forest plots
# --------------------------------------------------------------------------------------

@_styled
def forest_plot(labels, estimate, lower, upper, *, ratio=True, ax=None, title=None,
                xlabel=None, favours=("favours blinatumomab", "favours chemotherapy"),
                colors=None, wrap=32):
    """Effect sizes with confidence intervals, one row each (a forest plot).

    Ratios (hazard or odds ratios) are drawn on a log axis with the no-effect line at 1;
    differences on a linear axis with the line at 0.  The estimate and CI are printed at
    the right of each row.

    >>> fig = forest_plot(["DFS", "OS"], [0.70, 0.62], [0.47, 0.39], [1.03, 0.98],
    ...                   xlabel="Hazard ratio (95% CI)")
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "value.0"]
    ['0.70 (0.47-1.03)']
    """
    import textwrap

    # on its own figure, long labels wrap (at most ``wrap`` characters a line; None: never), so
    # the axis keeps its width
    labels = [("\n".join(textwrap.wrap(str(x), wrap)) or str(x)) if ax is None and wrap else str(x)
              for x in labels]
    est, lo, hi = (np.asarray(v, dtype=float) for v in (estimate, lower, upper))
    n = len(labels)
    if not (est.shape == lo.shape == hi.shape == (n,)) or n == 0:
        raise ValueError("labels, estimate, lower and upper must have the same non-zero length")
    if np.any(lo > est) or np.any(est > hi):
        raise ValueError("each estimate must lie within its interval (lower <= estimate <= upper)")
    if ratio and np.any(lo <= 0):
        raise ValueError("ratios must be positive (lower > 0) for a log axis; use ratio=False")
    owned = ax is None
    # room under the axis for the "favours" words between the ticks and the axis label
    lines = max(s.count("\n") + 1 for s in labels)
    h = 1.5 + (0.55 if lines == 1 else 0.75) * n + (0.3 if favours else 0.0)
    fig, ax = _figure_and_axes(ax, (9, h))
    if owned:
        left = min(0.6, (0.3 + 0.085 * max(len(line) for s in labels for line in s.split("\n"))) / 9)
        fig.subplots_adjust(left=left, right=0.76, top=1 - 0.7 / h, bottom=(1.1 if favours else 0.8) / h)
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
        # 1-2-5 steps: 0.2 and 0.3 ran together on a narrow log axis ("0.20.3", lesson 07)
        ticks = [v for v in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20)
                 if ax.get_xlim()[0] <= v <= ax.get_xlim()[1]]
        ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax.minorticks_off()
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.8, n - 0.2)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(xlabel or ("Ratio (95% CI), log scale" if ratio else "Difference (95% CI)"),
                  labelpad=16 if favours else 4)   # under the "favours" words, not over them
    def fmt(v):   # ratios below 1 with two decimals, as the paper prints them (0.70, not 0.7)
        return (f"{v:.2f}" if v < 1 else f"{v:.3g}") if ratio else f"{v:.1f}"

    for i, (yy, e, a, b) in enumerate(zip(y, est, lo, hi)):
        ax.text(1.03, yy, f"{fmt(e)} ({fmt(a)}-{fmt(b)})",
                transform=ax.get_yaxis_transform(), va="center", fontsize=10.5, gid=f"value.{i}")
    if favours:
        # just under the tick labels, on either side of the no-effect line (points, so the gap
        # does not depend on the figure's height)
        from matplotlib.transforms import blended_transform_factory, offset_copy
        under = offset_copy(blended_transform_factory(ax.transData, ax.transAxes), fig=ax.figure,
                            y=-17, units="points")
        ax.text(ref, 0.0, f"← {favours[0]} ", transform=under, fontsize=9,
                color="#555555", ha="right", va="top")
        ax.text(ref, 0.0, f" {favours[1]} →", transform=under, fontsize=9,
                color="#555555", ha="left", va="top")
    _set_title(fig, ax, title or "Effect sizes with 95% confidence intervals", owned)
    return fig


@_styled
def published_effects_forest(ax=None):
    """The trial's published effect sizes: DFS and OS hazard ratios (Figure 2) and the odds
    ratios of MRD negativity after cycle 1 and of transplant (Table 2), each labelled with
    its standing (:data:`ENDPOINT_STANDING`: primary, secondary, exploratory, post hoc)
    and with the paper's multiplicity caveat and Table 2 note e under the plot.

    Hazard ratios below 1 and odds ratios above 1 favour blinatumomab, so the two kinds
    are shown on one log axis with that reading noted in each label.  All values are
    from the final analysis (follow-up to September 2020).

    >>> fig = published_effects_forest()
    >>> len(fig.axes[0].get_yticks())
    4
    >>> fig.axes[0].get_yticklabels()[0].get_text().split(" (")[0]
    'DFS hazard ratio · primary'
    """
    st = {k: v.split(" end point")[0] for k, v in ENDPOINT_STANDING.items()}
    rows = []
    for name, label in (("results.dfs_hazard_ratio", f"DFS hazard ratio · {st['dfs']} (<1 favours blin.)"),
                        ("results.os_hazard_ratio", f"OS hazard ratio · {st['os']} (<1 favours blin.)")):
        v = aall1331.fact(name).value
        rows.append((label, v["estimate"], v["ci_lower"], v["ci_upper"]))
    t2 = aall1331.table2()
    for key, label in (("table2.mrd_negative_cycle_1",
                        f"MRD-negative after cycle 1, OR · {st['mrd']}* (>1 favours blin.)"),
                       ("table2.hsct", f"Transplant, OR · {st['hsct']} (>1 favours blin.)")):
        r = t2.where(key=key)
        rows.append((label, float(r["odds_ratio"][0]), float(r["odds_ratio_ci_lower"][0]),
                     float(r["odds_ratio_ci_upper"][0])))
    labels, est, lo, hi = zip(*rows)
    fig = forest_plot(labels, est, lo, hi, ax=ax, favours=None, wrap=None,
                      xlabel="Hazard ratio or odds ratio (95% CI), log scale",
                      title="AALL1331: published effects, blinatumomab vs chemotherapy (final analysis)")
    caveat = f"{MULTIPLICITY_CAVEAT} *{MRD_MISSING_NOTE}"
    if ax is None:  # room for the caveats under the axis, across the figure
        h = fig.get_figheight()
        fig.set_figheight(h + 0.45)
        fig.subplots_adjust(bottom=(0.8 + 0.45) / (h + 0.45), top=1 - 0.7 / (h + 0.45))
        fig.text(0.01, 0.02, textwrap.fill(caveat, 125), fontsize=8, color="#555555",
                 ha="left", va="bottom", gid="caveat")
    else:
        ax.text(0.0, -0.3, textwrap.fill(caveat, 90), transform=ax.transAxes, fontsize=8,
                color="#555555", ha="left", va="top", gid="caveat")
    return fig


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
