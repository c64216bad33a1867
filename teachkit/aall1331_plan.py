"""AALL1331's monitoring plan: one canonical, labelled reconstruction that every page reads.

The paper (Brown et al., JAMA 2021) gives the design's facts: O'Brien-Fleming spending, one-sided
alpha .025, 2 interim analyses, 131 events, the June 2019 look at 80 of them with P = .06 and a
critical P of .004, futility by testing the alternative at .024.  It does not give the timing of
the interims, which look June 2019 was, or whether P = .06 is one- or two-sided: the plan fills
those gaps with labelled assumptions (:data:`PLAN_ASSUMPTIONS`, shown as :data:`PLAN_LABEL`
wherever a learner reads one of its numbers), so that every lesson, explorer and assignment
shows the same looks, boundaries and information.

* :func:`monitoring_plan` (also ``tk.aall1331.MONITORING_PLAN``) -> :class:`MonitoringPlan`:
  facts with sources, looks planned and used (:class:`PlanLook`), other readings of the June
  2019 look (:class:`PlanReading`), the final thresholds reconciled (:class:`FinalThreshold`),
  power with the futility rule followed or ignored; the committee's report at any look
  (:meth:`MonitoringPlan.interim_report`) and the final analysis (:meth:`MonitoringPlan.final_analysis`).
* :func:`design_report` -- the trial's design reproduced from the facts
  (``python -m teachkit.aall1331 --design``).

Every name here is also served by :mod:`teachkit.aall1331` (``tk.aall1331.monitoring_plan()``,
the name lessons and exercises use).  Arrows point downwards: this module reads the facts of
:mod:`teachkit.aall1331` and computes with :mod:`teachkit.sequential` and :mod:`teachkit.design`;
the facts module serves these names lazily, on first use.

>>> plan = monitoring_plan()
>>> plan.looks[plan.interim_index].events, round(plan.looks[plan.interim_index].p_efficacy, 5)
(80.0, 0.00409)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from teachkit import _display
from teachkit.aall1331 import CITATION, Fact, _final_dfs_events, fact

__all__ = ["PLAN_LABEL", "PLAN_ASSUMPTIONS", "AFTER_STOP_LABEL", "INTERIM_ASSUMPTIONS", "PlanLook",
           "PlanReading", "FinalThreshold", "MonitoringPlan", "monitoring_plan", "design_report"]

#: The label a learner reads wherever the plan's looks, boundaries or information appear.
PLAN_LABEL = (
    "A reconstruction, not the paper's plan: the paper gives O'Brien-Fleming spending, 2 interim "
    "analyses, 131 events, the June 2019 look at 80 of them with P = .06 and a critical P of .004; "
    "teachkit assumes the interims were planned at 1/3 and 2/3 of the events, takes the June 2019 "
    "look as the second, at 61%, and reads P = .06 as one-sided.")

#: What the reconstruction assumes beyond the paper, each with why.
PLAN_ASSUMPTIONS = (
    "Lan-DeMets O'Brien-Fleming-type spending function, one-sided alpha .025: the paper cites "
    "'the O'Brien-Fleming spending function' (Methods, Statistical Analysis) without naming the "
    "function's form.",
    "The 2 interim analyses planned at 1/3 and 2/3 of the 131 events: the paper does not give "
    "their timing.",
    "The June 2019 look at 80 of 131 events (61%) is the second interim, taken early in place of "
    "the one planned at 2/3, after a first at about 1/3 (44 events) whose result was not "
    "published: the paper calls it 'a planned interim analysis' without saying which. Read as the "
    "first interim instead, the plan would have a further look at 2/3, seven events later, which no "
    "committee would schedule; both readings give a critical P of .004.",
    "P = .06 read as one-sided, like every other DFS and OS P the paper reports: the paper does "
    "not say.",
    "Futility: stop when the design alternative (HR 0.58) is rejected at one-sided .024 "
    "(Methods, Statistical Analysis), non-binding: the efficacy boundaries are computed as if the "
    "rule might be ignored.",
)


#: How inference after the stop (stage-wise P, median-unbiased HR, their CI) must be labelled.
AFTER_STOP_LABEL = (
    "As if the stopping rule had been followed: a sensitivity check, not an exact P for the trial "
    "that happened. Stage-wise P values and median-unbiased estimates assume the committee acts only "
    "on the boundaries; AALL1331's randomization was closed by the committee's judgement on "
    "unadjusted evidence, with no boundary crossed.")


@dataclass(frozen=True)
class PlanLook:
    """One look of the monitoring plan: when, its boundaries, and what was seen there."""

    name: str
    status: str                  # "taken" / "planned, replaced" / ...
    events: float
    information_fraction: float
    z_efficacy: float
    p_efficacy: float            # nominal one-sided P of the efficacy boundary
    alpha_spent: float           # cumulative one-sided alpha spent by this look
    z_futility: float            # NaN at the final look
    hr_efficacy: float           # the efficacy boundary as a hazard ratio at this look's events
    hr_futility: float
    observed: str                # what was seen there (paper or "not published")

    def __repr__(self) -> str:
        fut = "" if not np.isfinite(self.z_futility) else f", futility Z < {self.z_futility:.3f}"
        return (f"PlanLook({self.name}: {self.events:.4g} events, t = {self.information_fraction:.4f}, "
                f"efficacy Z >= {self.z_efficacy:.3f} (P <= {self.p_efficacy:.5f}){fut})")


@dataclass(frozen=True)
class PlanReading:
    """Another reading of the June 2019 look (for the folded layer): its looks and numbers."""

    name: str
    description: str
    information_fractions: tuple
    z_interim: float             # the efficacy boundary at the 80-event look
    p_interim: float
    z_final: float               # the final boundary at 131 events under this reading
    p_final: float

    def __repr__(self) -> str:
        return (f"PlanReading({self.name}: interim Z >= {self.z_interim:.3f} (P <= {self.p_interim:.5f}), "
                f"final Z >= {self.z_final:.3f} (P <= {self.p_final:.4f}))")


@dataclass(frozen=True)
class FinalThreshold:
    """One of the "final thresholds" a learner meets, and which number it is."""

    name: str
    z: float
    p: float                     # one-sided
    what: str

    def __repr__(self) -> str:
        return f"FinalThreshold({self.name}: Z {self.z:.3f}, one-sided P {self.p:.4f})"


@dataclass(frozen=True)
class MonitoringPlan:
    """AALL1331's monitoring plan as teachkit reconstructs it: one object every page reads.

    Facts (each a :class:`Fact` with its source in the paper) and the reconstruction's
    assumptions (:data:`PLAN_ASSUMPTIONS`, shown as :attr:`label` wherever a learner reads a
    number from here).  Fields:

    * ``label``, ``assumptions``, ``facts`` (name -> :class:`Fact`), ``citation``;
      ``after_stop_label`` (:data:`AFTER_STOP_LABEL`: how inference after the stop is labelled);
    * the design: ``alpha`` (one-sided), ``spending``, ``spending_label``, ``events_planned``,
      ``hazard_ratio`` (design), ``power`` (design), ``futility_alpha``, ``drift`` (of the
      log-rank Z at 131 events for the design HR), ``binding_futility`` (False);
    * ``planned_fractions`` (1/3, 2/3, 1) and ``planned_design``; the looks actually used,
      ``information_fractions`` (1/3, 80/131, 1), ``design`` and ``looks`` (:class:`PlanLook`);
      ``interim_index`` (1: the June 2019 look is the second);
    * the June 2019 look: ``interim_events``, ``interim_p`` (.06, read one-sided), ``interim_z``,
      ``interim_hazard_ratio``; the two-sided reading ``interim_z_two_sided``,
      ``interim_hazard_ratio_two_sided``; ``interim_p_published`` (.004);
    * ``final_events`` (107, Table 2), ``final_z`` (from the published HR 0.70),
      ``shared_events_correlation`` (sqrt(80 / 107) = 0.86: the interim and final estimates
      share 80 of the 107 events, so their agreement is weak evidence), and
      ``final_design`` (the plan re-cut at the looks taken: 131/3, 80 and 107 events);
    * ``readings`` (:class:`PlanReading`: this one and the alternatives for the folded layer)
      and ``final_thresholds`` (:class:`FinalThreshold`: which final number is which);
    * ``power_table``: power at the design HR with the futility rule followed or ignored,
      for non-binding and binding boundaries.

    Methods: :meth:`table`, :meth:`readings_table`, :meth:`thresholds_table`,
    :meth:`power_table_text`, :meth:`looks_for` (the look rule for any event count),
    :meth:`interim_report`, :meth:`final_analysis`, ``to_frame()``.

    >>> plan = monitoring_plan()
    >>> [round(float(z), 3) for z in plan.design.z_efficacy]
    [3.71, 2.644, 1.983]
    >>> [round(float(p), 5) for p in plan.design.p_efficacy]
    [0.0001, 0.00409, 0.02369]
    >>> plan.looks[plan.interim_index].name
    'second interim (data to June 30, 2019)'
    """

    label: str
    assumptions: tuple
    after_stop_label: str
    facts: Mapping[str, Fact]
    citation: str
    alpha: float
    spending: str
    spending_label: str
    events_planned: float
    hazard_ratio: float
    power: float
    futility_alpha: float
    drift: float
    binding_futility: bool
    planned_fractions: tuple
    information_fractions: tuple
    interim_index: int
    interim_events: float
    interim_p: float
    interim_z: float
    interim_hazard_ratio: float
    interim_z_two_sided: float
    interim_hazard_ratio_two_sided: float
    interim_p_published: float
    final_events: int
    final_z: float
    shared_events_correlation: float
    looks: tuple
    readings: tuple
    final_thresholds: tuple
    power_table: tuple
    design: Any = field(repr=False)
    planned_design: Any = field(repr=False)
    final_design: Any = field(repr=False)

    # ---- the look rule ------------------------------------------------------------
    def looks_for(self, events, events_planned=None):
        """Which planned look a look at ``events`` events takes the place of, and the looks
        around it: ``(number, previous_events, remaining_fractions)``.

        The rule behind the canonical reading: a look is the planned interim whose planned
        fraction is nearest to it (ties: the earlier); the planned interims before it were
        taken as planned; the planned looks after it remain.  At 80 of 131 events (61%,
        nearer 2/3 than 1/3) it is the second interim, after a first at 131/3 events.

        >>> plan = monitoring_plan()
        >>> n, prev, rest = plan.looks_for(80)
        >>> n, [round(e, 2) for e in prev], rest
        (2, [43.67], (1.0,))
        >>> plan.looks_for(40)
        (1, (), (0.6666666666666666, 1.0))
        """
        from teachkit.sequential._checks import _real

        planned = self.events_planned if events_planned is None else _real("events_planned", events_planned)
        events = _real("events", events)
        if not 0 < events < planned:
            raise ValueError(f"events must be between 0 and events_planned ({planned:g}) at an interim "
                             f"look, got {events:g}")
        t = events / planned
        interims = np.asarray(self.planned_fractions[:-1])
        k = int(np.argmin(np.round(np.abs(interims - t), 12)))   # a tie goes to the earlier
        previous = tuple(float(f * planned) for f in interims[:k])
        remaining = tuple(float(f) for f in interims[k + 1:]) + (1.0,)
        return k + 1, previous, remaining

    def interim_report(self, events=None, p_one_sided=None, *, z=None, events_planned=None,
                       hazard_ratio_design=None, futility_alpha=None, spending=None, note=None):
        """The committee's report at a look, by the plan's look rule (:meth:`looks_for`).

        Without arguments: the June 2019 look (80 of 131 events, P = .06 read one-sided),
        labelled with :attr:`label`.  Any design value may be changed (the interim monitor's
        sliders); the look rule stays.

        >>> r = monitoring_plan().interim_report()
        >>> round(r.z_efficacy, 3), round(r.p_efficacy, 5), round(r.z_futility, 3), r.efficacy_met
        (2.644, 0.00409, 0.459, False)
        """
        from teachkit import sequential as sq

        if events is None:
            events = self.interim_events
            if p_one_sided is None and z is None:
                p_one_sided = self.interim_p
        planned = self.events_planned if events_planned is None else events_planned
        _, previous, remaining = self.looks_for(events, planned)
        return sq.interim_report(
            events, planned, p_one_sided, z=z,
            hazard_ratio_design=self.hazard_ratio if hazard_ratio_design is None else hazard_ratio_design,
            futility_alpha=self.futility_alpha if futility_alpha is None else futility_alpha,
            spending=self.spending if spending is None else spending, alpha=self.alpha,
            previous_events=previous, remaining_fractions=remaining,
            note=self.label if note is None else note)

    def final_analysis(self, z_final=None, hazard_ratio=None):
        """The final DFS analysis as the plan's looks actually taken: 131/3 (Z not published),
        80 and 107 events, the alpha spent by the plan at the first two, the rest at 107
        (:func:`teachkit.sequential.inference_after_stop`).  The final Z is a reconstruction
        from the published HR 0.70 at 107 events unless given.  Label it with
        :attr:`after_stop_label`: it answers "as if the stopping rule had been followed", a
        sensitivity check, since the committee's closure was a judgement, not a boundary crossing.

        >>> r = monitoring_plan().final_analysis()
        >>> round(float(r.design.z_efficacy[-1]), 3), round(r.p_value, 4), round(r.hazard_ratio, 3)
        (1.971, 0.033, 0.701)
        """
        from teachkit import sequential as sq

        if hazard_ratio is not None:
            z_final = -math.log(hazard_ratio) * math.sqrt(self.final_events / 4.0)
        z_final = self.final_z if z_final is None else z_final
        events = [self.planned_fractions[0] * self.events_planned, self.interim_events, self.final_events]
        return sq.inference_after_stop(self.final_design, [float("nan"), self.interim_z, z_final], events)

    # ---- display --------------------------------------------------------------------
    def _look_rows(self):
        rows = []
        for k in self.looks:
            fut = f"{k.z_futility:.3f}" if np.isfinite(k.z_futility) else "-"
            rows.append([k.name, f"{k.events:.4g}", f"{k.information_fraction:.3f}",
                         f"{k.z_efficacy:.3f}", f"{k.p_efficacy:.5f}", f"{k.alpha_spent:.5f}", fut,
                         f"{k.hr_efficacy:.3f}", k.observed])
        return (["look", "events", "t", "efficacy Z", "nominal P", "alpha spent", "futility Z",
                 "efficacy HR", "seen there"], rows)

    def table(self) -> str:
        """The looks used: events, information, boundaries (Z, nominal one-sided P, HR), what was seen."""
        head, rows = self._look_rows()
        return _display.text_table(head, rows, align="lrrrrrrrl",
                                   title="AALL1331 monitoring plan (reconstruction)",
                                   notes=[self.label, f"Source: {self.citation}"])

    def readings_table(self) -> str:
        """The canonical reading beside the alternatives (the folded layer)."""
        rows = [[r.name, "/".join(f"{t:.3f}" for t in r.information_fractions), f"{r.z_interim:.3f}",
                 f"{r.p_interim:.5f}", f"{r.z_final:.3f}", f"{r.p_final:.4f}"] for r in self.readings]
        return _display.text_table(
            ["reading", "looks (t)", "Z at 80/131", "P at 80/131", "final Z", "final P"], rows,
            align="llrrrr", title="The June 2019 look under other readings",
            notes=["The published critical P is .004: every reading rounds to it, so the agreement "
                   "supports O'Brien-Fleming-type spending at about 61% information, not which look it was.",
                   f"Read two-sided, P = {_p_text(self.interim_p)} is one-sided {_p_text(self.interim_p / 2)}: "
                   f"Z {self.interim_z_two_sided:.3f} (HR {self.interim_hazard_ratio_two_sided:.2f}) instead of "
                   f"{self.interim_z:.3f} (HR {self.interim_hazard_ratio:.2f}), still below every boundary above."])

    def thresholds_table(self) -> str:
        """Which 'final threshold' is which."""
        rows = [[t.name, f"{t.z:.3f}", f"{t.p:.4f}", t.what] for t in self.final_thresholds]
        return _display.text_table(["final threshold", "Z", "one-sided P", "what it is"], rows,
                                   align="lrrl", title="Final thresholds, reconciled")

    def power_table_text(self) -> str:
        """Power at the design HR: boundaries non-binding or binding, rule followed or ignored."""
        rows = [[how, "/".join(f"{z:.3f}" for z in zs), f"{followed:.1%}", f"{ignored:.1%}",
                 f"{alpha_ignored:.4f}"] for how, zs, followed, ignored, alpha_ignored in self.power_table]
        return _display.text_table(
            ["boundaries computed as", "efficacy Z (1/3, 2/3, 1)", "power, rule followed",
             "power, rule ignored", "type I error, rule ignored"], rows, align="lrrrr",
            title=f"The planned design at {self.events_planned:g} events, HR {self.hazard_ratio:g}",
            notes=["Two separate questions: how the boundaries are computed (binding lowers the later "
                   "efficacy boundaries on the promise that the committee always stops at the futility "
                   "boundary), and whether the committee follows the rule."])

    def __repr__(self) -> str:
        return f"MonitoringPlan(\n{self.table()}\n)"

    def _repr_html_(self) -> str:
        head, rows = self._look_rows()
        return _display.html_table(head, rows, align="lrrrrrrrl",
                                   title="AALL1331 monitoring plan (reconstruction)",
                                   notes=[self.label, f"Source: {self.citation}"])

    def to_frame(self):
        """The looks as a pandas DataFrame (pandas must be installed)."""
        import pandas as pd
        return pd.DataFrame([{f: getattr(k, f) for f in k.__dataclass_fields__} for k in self.looks])


_PLAN_FACTS = ("design.alpha_one_sided", "design.efficacy_spending", "design.interim_analyses",
               "design.events_planned", "design.hazard_ratio", "design.power", "design.futility_alpha",
               "design.patients_planned", "interim.events", "interim.events_planned",
               "interim.information_percent", "interim.p_dfs", "interim.p_critical",
               "interim.data_cutoff", "results.dfs_hazard_ratio", "results.dfs_p_one_sided",
               "table2.late_treatment_failure", "table2.relapse", "table2.death")


def _hr_at(z, events):
    return math.exp(-z / math.sqrt(events / 4.0)) if np.isfinite(z) else float("nan")


@functools.lru_cache(maxsize=1)
def monitoring_plan() -> MonitoringPlan:
    """The canonical monitoring plan (cached; also ``tk.aall1331.MONITORING_PLAN``).

    >>> plan = monitoring_plan()
    >>> plan.information_fractions == (1 / 3, 80 / 131, 1.0), plan.interim_index
    (True, 1)
    >>> round(plan.interim_hazard_ratio, 2), round(plan.interim_hazard_ratio_two_sided, 2)
    (0.71, 0.66)
    """
    from scipy.special import ndtr, ndtri

    from teachkit import sequential as sq

    facts = MappingProxyType({name: fact(name) for name in _PLAN_FACTS})
    v = {name: f.value for name, f in facts.items()}
    alpha, d_plan, hr = v["design.alpha_one_sided"], v["design.events_planned"], v["design.hazard_ratio"]
    fut_alpha, spending = v["design.futility_alpha"], v["design.efficacy_spending"]
    n_interims = int(v["design.interim_analyses"])
    planned = tuple(float(k) / (n_interims + 1) for k in range(1, n_interims + 1)) + (1.0,)
    theta = sq.drift_from_hazard_ratio(hr, d_plan)
    rule = dict(futility_alpha=fut_alpha, futility_drift=theta)
    planned_design = sq.group_sequential_design(planned, alpha=alpha, spending=spending, **rule)

    events_i = v["interim.events"]
    t_i = events_i / v["interim.events_planned"]
    # the look rule: the June 2019 look takes the place of the nearest planned interim
    k_i = int(np.argmin(np.abs(np.asarray(planned[:-1]) - t_i)))
    used = planned[:k_i] + (t_i,) + planned[k_i + 1:]
    design = sq.group_sequential_design(used, alpha=alpha, spending=spending, **rule)
    z_i = float(-ndtri(v["interim.p_dfs"]))
    z_i2 = float(-ndtri(v["interim.p_dfs"] / 2.0))

    d_final = _final_dfs_events()
    z_final = -math.log(v["results.dfs_hazard_ratio"]["estimate"]) * math.sqrt(d_final / 4.0)
    taken_events = [f * d_plan for f in used[:-1]] + [d_final]
    final_design = sq.group_sequential_design(
        [e / d_final for e in taken_events], alpha=alpha, spending="user",
        parameter=[float(a) for a in design.alpha_spent[:-1]] + [alpha])

    ordinal = ("first", "second", "third", "fourth", "fifth")
    cutoff = v["interim.data_cutoff"]
    month_day_year = _paper_date(cutoff)
    looks = []
    for k, t in enumerate(used):
        events = t * d_plan
        if k == len(used) - 1:
            name, status = "final", "planned"
            observed = (f"never reached: follow-up ended with {d_final} events (Table 2); "
                        f"HR {v['results.dfs_hazard_ratio']['estimate']:.2f}, one-sided P = "
                        f"{_p_text(v['results.dfs_p_one_sided'])}")
        elif k == k_i:
            name, status = f"{ordinal[k]} interim (data to {month_day_year})", "taken, early"
            observed = (f"P = {_p_text(v['interim.p_dfs'])} (Z {z_i:.3f} read one-sided); "
                        f"critical P {_p_text(v['interim.p_critical'])} published")
        else:
            name, status = f"{ordinal[k]} interim", "taken (assumed)"
            observed = "not published"
        looks.append(PlanLook(
            name=name, status=status, events=events, information_fraction=t,
            z_efficacy=float(design.z_efficacy[k]), p_efficacy=float(design.p_efficacy[k]),
            alpha_spent=float(design.alpha_spent[k]), z_futility=float(design.z_futility[k]),
            hr_efficacy=_hr_at(float(design.z_efficacy[k]), events),
            hr_futility=_hr_at(float(design.z_futility[k]), events), observed=observed))

    def reading(name, description, fractions, index):
        d = sq.group_sequential_design(fractions, alpha=alpha, spending=spending)
        return PlanReading(name, description, tuple(fractions), float(d.z_efficacy[index]),
                           float(d.p_efficacy[index]), float(d.z_efficacy[-1]), float(d.p_efficacy[-1]))

    readings = (
        reading("second interim after 1/3 (canonical)",
                "June 2019 = the second of interims planned at 1/3 and 2/3, taken at 61%",
                used, k_i),
        reading("first interim", "June 2019 = the first interim, the second still to come at 2/3 "
                "(seven events later)", (t_i,) + tuple(f for f in planned if f > t_i), 0),
        reading("second interim after 1/2", "June 2019 = the second interim, after a first at 1/2",
                (0.5, t_i, 1.0), 1),
    )
    gsd_final = FinalThreshold(
        "group-sequential final boundary of the plan", float(design.z_efficacy[-1]),
        float(design.p_efficacy[-1]),
        f"the boundary the final analysis at {d_plan:g} events would have used: a little stricter "
        f"than .025 because the interims spent some alpha")
    thresholds = (
        FinalThreshold("the paper's threshold", float(-ndtri(alpha)), alpha,
                       "the paper compares its final one-sided P (.03) with .025 (Methods, Statistical "
                       "Analysis): no adjustment for the interims"),
        gsd_final,
        FinalThreshold(f"the plan re-cut at the {d_final} events observed", float(final_design.z_efficacy[-1]),
                       float(final_design.p_efficacy[-1]),
                       f"the same alpha spent at the interims, the rest at {d_final} events: the "
                       "boundary the final Z (1.845) is compared with here"),
        FinalThreshold("first-interim reading, planned final", readings[1].z_final, readings[1].p_final,
                       "if June 2019 had been the first interim, with another look at 2/3"),
        FinalThreshold("equally spaced plan, planned final", float(planned_design.z_efficacy[-1]),
                       float(planned_design.p_efficacy[-1]),
                       "the plan as drawn before any look was taken (1/3, 2/3, 1)"),
    )

    power_rows = []
    for binding in (False, True):
        d = sq.group_sequential_design(planned, alpha=alpha, spending=spending,
                                       binding_futility=binding, **rule)
        power_rows.append(("binding" if binding else "non-binding",
                           tuple(float(z) for z in d.z_efficacy), d.power(theta),
                           d.power(theta, futility=False),
                           float(d.rejection_probabilities(0.0, futility=False)[-1])))
    return MonitoringPlan(
        label=PLAN_LABEL, assumptions=PLAN_ASSUMPTIONS, after_stop_label=AFTER_STOP_LABEL, facts=facts, citation=CITATION,
        alpha=alpha, spending=spending, spending_label="O'Brien-Fleming type (Lan-DeMets)",
        events_planned=d_plan, hazard_ratio=hr, power=v["design.power"], futility_alpha=fut_alpha,
        drift=theta, binding_futility=False, planned_fractions=planned,
        information_fractions=tuple(used), interim_index=k_i, interim_events=events_i,
        interim_p=v["interim.p_dfs"], interim_z=z_i, interim_hazard_ratio=_hr_at(z_i, events_i),
        interim_z_two_sided=z_i2, interim_hazard_ratio_two_sided=_hr_at(z_i2, events_i),
        interim_p_published=v["interim.p_critical"], final_events=d_final, final_z=z_final,
        shared_events_correlation=math.sqrt(events_i / d_final),
        looks=tuple(looks), readings=readings, final_thresholds=thresholds,
        power_table=tuple(power_rows), design=design, planned_design=planned_design,
        final_design=final_design)


def _p_text(p: float) -> str:
    """A P value as the paper prints it: .06, .004."""
    text = f"{p:.3f}".rstrip("0") if p < 0.01 else f"{p:.2f}"
    return text.lstrip("0")


def _paper_date(iso: str) -> str:
    import calendar

    parts = [int(x) for x in str(iso).split("-")]
    month = calendar.month_name[parts[1]]
    return f"{month} {parts[2]}, {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"


#: Kept for old callers: the plan's label (what the interim reconstruction assumes).
INTERIM_ASSUMPTIONS = PLAN_LABEL


def design_report() -> str:
    """The trial's design reproduced from its published parameters, as text, read from
    :func:`monitoring_plan` (the canonical reconstruction, labelled in the report).

    Uses :mod:`teachkit.sequential` and :mod:`teachkit.design` on the facts of Methods,
    Statistical Analysis and Results, Early Closure of Randomization: HR 0.58, one-sided
    alpha .025, 85% power, 131 events, O'Brien-Fleming-type spending with two interim
    analyses, non-binding futility by testing the alternative at .024, the interim at 80
    of 131 events with P = .06, 220 patients accrued from January 2015 to June 2019.

    >>> "2.644" in design_report()      # the efficacy boundary at 80/131 (P = .0041)
    True
    """
    from teachkit import design as ds

    plan = monitoring_plan()
    d = {k: fact("design." + k).value for k in ("patients_planned", "control_2y_dfs")}
    start = np.datetime64(fact("design.randomization_start").value, "D")
    end = np.datetime64(fact("design.analysis_set_cutoff").value, "D")
    accrual_years = float((end - start).astype(int)) / 365.25
    lam = ds.hazard_from_survival(d["control_2y_dfs"], 2)
    times = ds.analysis_times([t * plan.events_planned for t in plan.planned_fractions],
                              d["patients_planned"], accrual_years, lam, plan.hazard_ratio)
    events_220 = float(ds.expected_events(accrual_years + 1.0, d["patients_planned"], accrual_years, lam,
                                          plan.hazard_ratio))
    lines = [
        f"AALL1331 design reproduced ({CITATION})",
        f"Reconstruction: {plan.label}",
        f"drift at {plan.events_planned:g} events for HR {plan.hazard_ratio:g}: {plan.drift:.4f}",
        "", "Planned looks (1/3, 2/3, 1: assumed, the paper gives no timing):",
        str(plan.planned_design.table(drift=plan.drift, events=plan.events_planned)),
        "", str(plan.power_table_text()),
        f"expected calendar time of the planned looks (years from the first patient; "
        f"{d['patients_planned']} patients over {accrual_years:.2f} years, exponential control DFS "
        f"{d['control_2y_dfs']:.0%} at 2 years): " + ", ".join(f"{t:.2f}" for t in times),
        f"events expected from {d['patients_planned']} patients one year after accrual under the same "
        f"model: {events_220:.1f} (the paper's 131 'anticipated' events may come from this, or from an "
        "events formula: see explain_planned_events)",
        "", str(plan.table()),
        "", str(plan.readings_table()),
        "", str(plan.thresholds_table()),
        "", str(plan.interim_report().table()),
        "", str(ds.events_required(plan.hazard_ratio, alpha=plan.alpha, power=plan.power).table()),
        str(ds.events_required(plan.hazard_ratio, alpha=plan.alpha, power=plan.power,
                               design=_no_futility(plan.planned_design)).table()),
        "", str(ds.explain_planned_events().table()),
    ]
    return "\n".join(lines)


def _no_futility(design):
    from teachkit import sequential as sq

    return sq.group_sequential_design(design.information_fractions, alpha=design.alpha,
                                      spending=design.spending, parameter=design.parameter)
