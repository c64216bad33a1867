"""Interim monitoring: what the data monitoring committee saw at a look (Z, B-value,
boundaries, conditional power, the verdict of each rule), with the trial's June 2019
interim as a preset.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from teachkit import aall1331 as _aall1331
from teachkit import plots
from teachkit.sequential import InterimReport
from teachkit.explorers._base import Explorer, Param, _result_repr, _short_message
from teachkit.explorers.boundaries import format_p

#: The canonical monitoring plan: the monitor opens at its June 2019 look.
_PLAN = _aall1331.monitoring_plan()


def june_2019_interim() -> dict:
    """The parameters of the trial's June 2019 interim analysis, read from the canonical
    monitoring plan (:func:`teachkit.aall1331.monitoring_plan`: 80 of 131 events, P = .06
    read one-sided, design HR 0.58, futility at .024; Results, Early Closure of
    Randomization; Methods, Statistical Analysis).

    >>> june_2019_interim()["events"], june_2019_interim()["p_one_sided"]
    (80, 0.06)
    """
    from teachkit import aall1331

    plan = aall1331.monitoring_plan()
    return dict(events=int(plan.interim_events), events_planned=int(plan.events_planned),
                observed="P value", p_one_sided=float(plan.interim_p),
                hazard_ratio_design=float(plan.hazard_ratio), futility_alpha=float(plan.futility_alpha),
                spending=str(plan.spending))


def interim_report_code(events, events_planned, *, p_one_sided=None, hazard_ratio=None,
                        hazard_ratio_design, futility_alpha, spending) -> str:
    """The code of a look's report: :func:`teachkit.sequential.interim_report` with the looks
    of the canonical plan's look rule written out (earlier interims as planned, the planned
    looks that remain), the observed result given as a one-sided P or as a hazard ratio.
    "Show the code" of the interim monitor and of the committee room (its June 2019 look).

    >>> print(interim_report_code(80, 131, p_one_sided=0.06, hazard_ratio_design=0.58,
    ...                           futility_alpha=0.024, spending="obrien-fleming"))
    import teachkit as tk
    <BLANKLINE>
    # interims planned at 1/3 and 2/3 of 131 events (a reconstruction);
    # this look is interim 2: earlier looks at [131 / 3] events, then the looks [1.0]
    report = tk.sequential.interim_report(
        80, 131, 0.06, hazard_ratio_design=0.58, futility_alpha=0.024,
        spending='obrien-fleming', previous_events=[131 / 3], remaining_fractions=[1.0])
    print(report)  # Z, boundaries, verdicts, conditional powers; the formulas behind them:
    # Z = Phi^-1(1 - P); B = Z sqrt(t); HR = exp(-Z / sqrt(D r (1 - r))) (r = 1/2: 1:1)
    <BLANKLINE>
    """
    from teachkit import aall1331

    if (p_one_sided is None) == (hazard_ratio is None):
        raise TypeError("give the observed result as p_one_sided or as hazard_ratio (one of them)")
    plan = aall1331.monitoring_plan()
    number, previous, remaining = plan.looks_for(events, events_planned)

    def fraction(f, times=""):  # 1/3 -> "1 / 3", as exact as the computation
        q = Fraction(f).limit_denominator(12)
        if q.denominator == 1:
            return f"{times}{q.numerator}" if times else f"{float(q):g}"
        return f"{times}{q.numerator} / {q.denominator}" if q.numerator != 1 or not times \
            else f"{times[:-3]} / {q.denominator}"

    prev = "[" + ", ".join(fraction(f, f"{events_planned} * ")
                           for f in plan.planned_fractions[:number - 1]) + "]"
    rest = "[" + ", ".join(fraction(f) if f < 1 else "1.0" for f in remaining) + "]"
    looks = (f"# interims planned at 1/3 and 2/3 of {events_planned} events (a reconstruction);\n"
             f"# this look is interim {number}: earlier looks at {prev} events, then the looks {rest}\n")
    kw = (f"hazard_ratio_design={hazard_ratio_design!r}, futility_alpha={futility_alpha!r},\n"
          f"    spending={spending!r}, previous_events={prev}, remaining_fractions={rest})")
    # the formulas behind the report's notes (the page gives them in words)
    z, b, hr = (text for _, text, _ in InterimReport.FORMULAS.values())
    formulas = (f"print(report)  # Z, boundaries, verdicts, conditional powers; the formulas behind them:\n"
                f"# {z}; {b}; HR = {hr} (r = 1/2: 1:1)\n")
    if p_one_sided is not None:
        return ("import teachkit as tk\n\n" + looks +
                f"report = tk.sequential.interim_report(\n"
                f"    {events}, {events_planned}, {p_one_sided!r}, {kw}\n" + formulas)
    return ("import math\nimport teachkit as tk\n\n" + looks +
            f"z = -math.log({hazard_ratio!r}) * math.sqrt({events} / 4)  # Schoenfeld, 1:1\n"
            f"report = tk.sequential.interim_report(\n"
            f"    {events}, {events_planned}, z=z, {kw}\n" + formulas)


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
    information; Lan & Wittes 1988 B-values and conditional power; predictive power,
    Spiegelhalter, Freedman & Blackburn 1986: conditional power averaged over the flat-prior
    posterior of the drift).  The looks follow the canonical monitoring plan
    (:func:`teachkit.aall1331.monitoring_plan`, a labelled reconstruction): interims planned
    at 1/3 and 2/3 of the planned events, a look taken as the planned interim nearest to
    it, the earlier interims taken as planned (:meth:`~teachkit.aall1331.MonitoringPlan.looks_for`);
    the June 2019 look is the second, at 61%, after a first at 1/3.

    >>> r = InterimMonitor().compute(**june_2019_interim())
    >>> round(r.report.p_efficacy, 5), r.report.efficacy_met
    (0.00409, False)
    >>> r.report.design.information_fractions.round(3)
    array([0.333, 0.611, 1.   ])
    """

    title = "Interim monitor: what the data monitoring committee saw"
    NUMBERS_TITLE = "What the committee saw at this look"
    #: Row labels of the table under the picture (CP = conditional power).
    LABELS = ("events (information fraction)", "Z (one-sided P)", "B-value = Z√t",
              "hazard ratio (95% CI)", "efficacy boundary", "futility boundary",
              "CP, design HR", "CP, current trend", "CP, no effect", "predictive power")
    #: The key under the table: what each conditional power assumes, and how to read them.
    KEY = ("CP = conditional power: the chance of ending above the final boundary if the "
           "effect from now on is the design HR, the current trend, or none. "
           "Predictive power: CP averaged over the effects the data support (flat prior). "
           "When the trend is far from the design HR, CP design is optimistic: read CP trend "
           "and predictive power, with the interval of the HR.")
    #: Where the looks come from (the canonical plan's look rule), under the table.
    LOOKS_NOTE = ("Looks: interims planned at 1/3 and 2/3 of the planned events; this look is taken "
                  "as the planned interim nearest to it, the earlier ones as planned. "
                  + _aall1331.PLAN_LABEL)
    NUMBERS_NOTES = (KEY, LOOKS_NOTE)
    FIGSIZE = (10.0, 4.6)
    GRID_FIRST = "events"  # the lesson's slider: its track prepared before any click
    PARAMS = (
        Param("events", "Events observed", "int", int(_PLAN.interim_events), min=10, max=399),
        Param("events_planned", "Events planned", "int", int(_PLAN.events_planned), min=40, max=400),
        Param("observed", "Observed result given as", "choice", "P value",
              options=("P value", "hazard ratio")),
        # A log slider's values are min * 10**(k * step): range chosen so that the trial's
        # P = .06 lies on the grid (0.06 * 10**(-139 * 0.02) ~ 1e-4 to 0.06 * 10**(46 * 0.02)
        # ~ 0.5); otherwise the browser snaps the preset to 0.0603.
        Param("p_one_sided", "Observed one-sided P", "log", _PLAN.interim_p,
              min=_PLAN.interim_p * 10 ** (-139 * 0.02), max=_PLAN.interim_p * 10 ** (46 * 0.02), step=0.02),
        Param("hazard_ratio", "Observed hazard ratio", "float", 0.70, min=0.3, max=1.5,
              step=0.01),
        Param("hazard_ratio_design", "Design hazard ratio", "float", _PLAN.hazard_ratio, min=0.4, max=0.9,
              step=0.01),
        Param("futility_alpha", "Futility level", "float", _PLAN.futility_alpha, min=0.005, max=0.2,
              step=0.001,
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
        from teachkit import aall1331

        p = self._full_params(params)
        plan = aall1331.monitoring_plan()
        kw = dict(events_planned=p["events_planned"], hazard_ratio_design=p["hazard_ratio_design"],
                  futility_alpha=p["futility_alpha"], spending=p["spending"])
        if p["observed"] == "P value":
            report = plan.interim_report(p["events"], p["p_one_sided"], **kw)
        else:
            z = -math.log(p["hazard_ratio"]) * math.sqrt(p["events"] / 4.0)  # 1:1, Schoenfeld
            report = plan.interim_report(p["events"], z=z, **kw)
        t = report.information_fraction
        verdicts = (
            ("efficacy", report.efficacy_met,
             f"Z = {report.z:.2f} {'≥' if report.efficacy_met else '<'} {report.z_efficacy:.2f} "
             f"(P {'≤' if report.efficacy_met else '>'} {format_p(report.p_efficacy)})"),
            ("futility", report.futility_met,
             f"Z = {report.z:.2f} {'<' if report.futility_met else '≥'} {report.z_futility:.2f}"
             if math.isfinite(report.z_futility) else "no futility rule at this look"),
        )
        return InterimResult(report, report.b_value / t, verdicts)

    def _setup(self, fig):
        self._ax_z = ax = fig.add_axes((0.07, 0.15, 0.30, 0.68))
        self._bpanel = plots.BoundaryPanel({"z": ax}, x_label="Information fraction")
        for a in self._bpanel.artists():
            self._dyn(a)
        ax.set_title("Boundaries at the observed look", loc="left", fontsize=11)
        ax.set_ylabel("Z (> 0 favours blinatumomab)", fontsize=10.5)
        self._ax_b = ax2 = fig.add_axes((0.45, 0.15, 0.30, 0.68))
        self._vpanel = plots.BValuePanel(ax2, {"design effect": plots.OKABE_ITO["blue"],
                                              "current trend": plots.OKABE_ITO["orange"],
                                              "no effect (H0)": plots.OKABE_ITO["sky_blue"]})
        for a in self._vpanel.artists():
            self._dyn(a)
        ax2.set_title("B-value and where it may go", loc="left", fontsize=11)
        self._legend(ax2, loc="upper left", fontsize=8.5)
        # the left panel's key sits in the free right column, where no point can cover it
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.775, 0.52), fontsize=8.5,
                   frameon=False, title="Left panel", title_fontsize=9, alignment="left")
        # the numbers are a table under the picture (numbers()); the verdict stays in view
        self._verdict = self._dyn(fig.text(0.785, 0.80, "", fontsize=11.5, va="top",
                                           fontweight="bold", linespacing=1.5))
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
        lines = [f"{name}: {'MET' if met else 'not met'}" for name, met, _ in r.verdicts]
        stop = any(met for _, met, _ in r.verdicts)
        self._verdict.set_text("\n".join(lines) + ("\n→ a rule says stop" if stop else
                                                   "\n→ no rule says stop"))
        self._title.set_text(f"Interim look at {rep.events:g} of {rep.events_planned:g} events "
                             f"({100 * rep.information_fraction:.0f}% information): one-sided P = "
                             f"{format_p(rep.p_one_sided)}, critical P = {format_p(rep.p_efficacy)}")

    def numbers(self, result=None) -> list[tuple[str, str]]:
        """The committee's numbers at this look: (what, value) rows, labelled by :attr:`LABELS`."""
        r = self.result if result is None else result
        rep = r.report
        hr = rep.hazard_ratio
        values = (f"{rep.events:g} of {rep.events_planned:g} (t = {rep.information_fraction:.2f})",
                  f"{rep.z:.3f} (P = {format_p(rep.p_one_sided)})",
                  f"{rep.b_value:.3f}",
                  f"{hr.estimate:.2f} ({hr.ci_lower:.2f} to {hr.ci_upper:.2f})",
                  f"Z ≥ {rep.z_efficacy:.3f} (P ≤ {format_p(rep.p_efficacy)})",
                  f"Z < {rep.z_futility:.3f}" if math.isfinite(rep.z_futility) else "none at this look",
                  f"{rep.conditional_power_design:.2f}",
                  f"{rep.conditional_power_trend:.2f}",
                  f"{rep.conditional_power_null:.2f}",
                  f"{rep.predictive_power:.2f}")
        return list(zip(self.LABELS, values))

    def _extra_controls(self):
        import ipywidgets as W

        button = W.Button(description="June 2019 interim (AALL1331)", icon="history",
                          tooltip="80 of 131 events, P = .06 (one-sided: a reconstruction)",
                          layout=W.Layout(width="auto"))
        button.on_click(lambda _b: self._preset())
        return [button]

    def _preset(self):
        try:
            self.update(**june_2019_interim())
        except (ValueError, TypeError) as exc:  # pragma: no cover - the preset is valid
            self._show_message(f"Cannot use the preset: {_short_message(exc)}", error=True)

    def visible_controls(self) -> tuple:
        """The controls that act now: the observed result is given either as a P value or
        as a hazard ratio, and only that control is shown (two sliders for one quantity
        would disagree as soon as one moves)."""
        hidden = "hazard_ratio" if self.params["observed"] == "P value" else "p_one_sided"
        return tuple(q.name for q in self.PARAMS if q.name != hidden)

    def _update_views(self, r):
        shown = self.visible_controls()
        for name, control in self._controls.items():
            control.layout.display = "" if name in shown else "none"
        # events cannot reach events_planned: the slider's maximum follows the plan
        events = self._controls.get("events")
        if events is not None:
            self._syncing = True
            try:
                events.max = self.params["events_planned"] - 1
            finally:
                self._syncing = False

    def switched(self, observed: str) -> dict:
        """The changes that switch the observed result to ``observed`` ("P value" or
        "hazard ratio") *at the same Z*: the newly shown control starts where the other
        one was, so the look does not jump."""
        rep = self.result.report if self.result is not None else None
        changes = {"observed": observed}
        if rep is None or observed == self.params["observed"]:
            return changes
        if observed == "hazard ratio":
            q = self._params_by_name["hazard_ratio"]
            hr = round(math.exp(-rep.z / math.sqrt(rep.events / 4.0)), 2)   # 1:1, Schoenfeld
            changes["hazard_ratio"] = min(max(hr, q.min), q.max)
        else:
            q = self._params_by_name["p_one_sided"]
            # on the slider's own grid (q.min * 10**(k * step)), so the browser keeps it
            k = round(math.log10(max(rep.p_one_sided, 1e-300) / q.min) / q.step)
            k = min(max(k, 0), round(math.log10(q.max / q.min) / q.step))
            changes["p_one_sided"] = min(max(q.min * 10 ** (k * q.step), q.min), q.max)
        return changes

    def _on_control(self, name, value):
        if name == "observed" and not self._syncing:
            return super()._on_control_pair(self.switched(value))
        if name == "events_planned" and self.params["events"] >= value:
            # keep the pair valid: pull events below the new plan first
            return super()._on_control_pair({"events": value - 1, "events_planned": value})
        return super()._on_control(name, value)

    def _note(self, r):
        return "; ".join(f"<b>{n}</b>: {'met' if m else 'not met'} ({html.escape(e)})"
                         for n, m, e in r.verdicts)

    def code(self, params=None) -> str:
        """:func:`teachkit.sequential.interim_report` at this look, with the looks of the
        canonical plan's look rule written out (:func:`interim_report_code`)."""
        p = self._full_params(self.params if params is None else params)
        return interim_report_code(
            p["events"], p["events_planned"],
            p_one_sided=p["p_one_sided"] if p["observed"] == "P value" else None,
            hazard_ratio=p["hazard_ratio"] if p["observed"] != "P value" else None,
            hazard_ratio_design=p["hazard_ratio_design"], futility_alpha=p["futility_alpha"],
            spending=p["spending"])

    def describe(self, result=None) -> str:
        """What the committee saw, in words: Z, boundaries, verdicts, conditional powers."""
        r = self.result if result is None else result
        rep = r.report
        hr = rep.hazard_ratio
        verdicts = "; ".join(f"{n}: {'met' if m else 'not met'} ({e})" for n, m, e in r.verdicts)
        return (f"Interim look at {rep.events:g} of {rep.events_planned:g} events "
                f"(information {rep.information_fraction:.2f}): Z = {rep.z:.2f}, one-sided P = "
                f"{format_p(rep.p_one_sided)}, B-value {rep.b_value:.2f}, hazard ratio {hr.estimate:.2f} "
                f"(95% CI {hr.ci_lower:.2f} to {hr.ci_upper:.2f}). Efficacy boundary Z "
                f"{rep.z_efficacy:.2f} (P {format_p(rep.p_efficacy)}), futility boundary Z "
                f"{rep.z_futility:.2f}. {verdicts}. Conditional power: "
                f"{rep.conditional_power_design:.2f} under the design effect, "
                f"{rep.conditional_power_trend:.2f} under the current trend, "
                f"{rep.conditional_power_null:.2f} under no effect; predictive power "
                f"{rep.predictive_power:.2f}.")
