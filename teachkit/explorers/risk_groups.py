"""AALL1331 risk groups: which rule places a relapse in the early-treatment-failure, high,
intermediate or low risk group, and which randomization stratum follows.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np

from teachkit import plots
from teachkit.explorers._base import Explorer, Param, _result_repr


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


class _MrdParam(Param):
    """The MRD slider, read as a laboratory reports MRD: to 2 significant figures.

    Its log-scale grid (steps of 0.05 in log10 from 0.001) puts few round numbers on the
    slider: 0.05 sits at 0.0501187..., 0.02 at 0.0199526..., which the rule's "why" then
    printed (issue 26, item 7).  Taken to 2 significant figures, the values are the round ones
    a learner means, and none crosses the 0.1% threshold (0.0891 -> 0.089, 0.1 -> 0.1).

    >>> p = RiskClassifier.PARAMS[2]
    >>> p.from_control(0.0501187233627), p.from_control(0.0199526231497), p.from_control(0.0891250938134)
    (0.05, 0.02, 0.089)
    """

    def from_control(self, value):
        value = super().from_control(value)
        return float(f"{value:.2g}") if isinstance(value, float) and value > 0 else value

    def make_control(self):
        control = super().make_control()
        control.readout_format = ".2g"
        return control


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
        _MrdParam("mrd", "MRD after reinduction (%)", "log", 0.05, min=0.001, max=100.0, step=0.05),
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
        rax.text(0, 0.33, "ETF = early treatment failure; EM = extramedullary;\n"
                 "dotted line: 18 mo, where high-risk marrow strata split",
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
        reason = textwrap.fill(f"Why: {r.reason}", 40)
        self._stratum_text.set_text(f"{reason}\n\n{stratum}")
        self._title.set_text(f"This patient is {r.group.value}"
                             f"{' risk' if r.group.value in ('high', 'intermediate', 'low') else ''}"
                             f" (AALL1331 rules, JAMA 2021)")

    def _note(self, r):
        return f"<b>{html.escape(r.group.value)}</b> &mdash; rule: <i>{html.escape(r.rule)}</i>"

    def code(self, params=None) -> str:
        """:func:`teachkit.risk.assign_risk_group`, the rule that decided it, the stratum."""
        p = self._full_params(self.params if params is None else params)
        mrd = p["mrd"] if p["mrd_measured"] else None
        return (
            "import teachkit as tk\n\n"
            f"patient = dict(site={p['site']!r}, months_from_diagnosis={p['months_from_diagnosis']!r},\n"
            f"               mrd={mrd!r}, marrow_blasts={p['marrow_blasts']!r}, "
            f"cns_cleared={p['cns_cleared']!r})\n"
            "group = tk.risk.assign_risk_group(**patient)\n"
            "why = tk.risk.explain_risk_group(**patient)  # the rule that decided it\n"
            "print(group, why.rule)\n"
            "if group in (tk.risk.RiskGroup.HIGH, tk.risk.RiskGroup.INTERMEDIATE):  # randomized\n"
            "    print(tk.risk.randomization_stratum(**patient))\n")

    def describe(self, result=None) -> str:
        """The risk map and the rules panel in words."""
        r = self.result if result is None else result
        p = self.params
        mrd = f"MRD {p['mrd']:.3g}%" if p["mrd_measured"] else "MRD not measured"
        where = dict(marrow="bone marrow", combined="marrow and extramedullary",
                     extramedullary="isolated extramedullary")[p["site"]]
        stratum = (f"randomized in stratum {r.stratum.value}" if r.randomized
                   else "not in the randomization")
        return (f"Risk map: a {where} relapse at {p['months_from_diagnosis']:g} months from "
                f"diagnosis with {mrd} and {p['marrow_blasts']:g}% marrow blasts lies in the "
                f"{r.group.value} risk group. Rule that decided: {r.rule}. Why: {r.reason.rstrip('.')}. "
                f"The patient is {stratum}.")
