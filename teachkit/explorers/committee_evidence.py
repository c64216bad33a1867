"""The evidence of the committee room (lesson 06), without widgets: the choices a member
can make, the evidence cards (what a committee could know at the June 2019 look and what
was published at the final analysis, with each end point's standing), the monitoring
report, the final analysis re-cut at the looks taken, and the reasoned feedback.

Every trial number comes from :mod:`teachkit.aall1331` (the paper's facts, each with
its section or table); every statistical number from :mod:`teachkit.sequential`
(:func:`~teachkit.sequential.interim_report`,
:func:`~teachkit.sequential.inference_after_stop`), which are matched to R's rpact.
The explorer that shows them is :class:`teachkit.explorers.committee.CommitteeRoom`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from teachkit.explorers._base import _result_repr

#: The recommendations a committee member can make, and how the learner reads them.
RECOMMENDATIONS = ("continue", "stop_efficacy", "close_randomization", "modify")
RECOMMENDATION_LABELS = (
    "Continue randomizing as planned",
    "Stop the trial for efficacy (blinatumomab shown better)",
    "Close randomization: equipoise is lost (follow-up goes on)",
    "Modify the trial and continue (e.g. change the design or size)",
)
#: The kinds of evidence the learner may say moved them (the report, then the four cards).
EVIDENCE = ("dfs", "os", "mrd", "toxicity", "transplant")
EVIDENCE_LABELS = {
    "dfs": "Disease-free survival (the report)",
    "os": "Overall survival",
    "mrd": "MRD clearance",
    "toxicity": "Serious toxicity and toxic deaths",
    "transplant": "Transplant rates",
}
#: What the committee cited (Results, Early Closure of Randomization; Discussion):
#: "higher disease-free survival and overall survival, lower rates of serious toxicity,
#: and higher rates of MRD clearance".
COMMITTEE_CITED = ("dfs", "os", "mrd", "toxicity")
#: The stages of the room, in order.
STAGES = ("report", "cards", "decision", "reveal")
N_CARDS = 4

_SOURCE_CLOSURE = "Results, Early Closure of Randomization"


def _fact(name):
    from teachkit import aall1331

    return aall1331.fact(name).value


def _table2_row(key):
    from teachkit import aall1331

    t = aall1331.table2()
    i = list(t["key"]).index(key)
    return {name: t[name][i] for name in t.columns}


def paper_date(iso: str) -> str:
    """An ISO date from :mod:`teachkit.aall1331` as the paper writes it.

    >>> paper_date("2019-06-30"), paper_date("2019-09")
    ('June 30, 2019', 'September 2019')
    """
    import calendar

    parts = [int(x) for x in str(iso).split("-")]
    month = calendar.month_name[parts[1]]
    return f"{month} {parts[2]}, {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"


def _p(p):
    """A P value as the paper prints it: ".06", ".004"."""
    text = f"{p:.3f}".rstrip("0") if p < 0.01 else f"{p:.2f}"
    return text.lstrip("0")


# --------------------------------------------------------------------------------------
# The evidence cards: what a committee could know THEN, what was PUBLISHED at the end
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EvidenceCard:
    """One piece of evidence beside the primary end point.

    ``then``: what a committee could have known at the June 2019 look (the paper gives
    directions only: interim numbers for these end points were not published).
    ``published``: the final analysis (follow-up to September 30, 2020).  ``standing``:
    the end point's place in the protocol (Methods, Outcomes).  ``figure_lines``: the
    card as drawn in the figure.
    """

    key: str
    title: str
    standing: str
    standing_source: str
    cited_by_committee: bool
    then: str
    published: str
    caveats: tuple
    sources: str
    figure_lines: tuple

    __repr__ = _result_repr


@lru_cache(maxsize=1)
def evidence_cards() -> tuple:
    """The four cards, in the order they are turned over, built from the paper's facts.

    >>> [c.key for c in evidence_cards()]
    ['os', 'mrd', 'toxicity', 'transplant']
    >>> evidence_cards()[3].standing, evidence_cards()[3].cited_by_committee
    ('post hoc', False)
    """
    follow_up = _fact("design.follow_up_cutoff")
    then_unpublished = ("The interim numbers were not published; the paper says only that at "
                        f"the June 2019 look this end point favoured blinatumomab ({_SOURCE_CLOSURE}; "
                        "Discussion).")
    multiplicity = ("Multiplicity: no planned adjustment for multiple comparisons, so findings "
                    "on secondary end points 'should be interpreted as exploratory' (Methods, "
                    "Statistical Analysis; Limitations).")
    open_label = ("Open-label: the paper describes no masking of patients or treating "
                  "physicians (a continuous infusion and multiagent chemotherapy look different); "
                  "only the central MRD laboratory was blinded to the arm (Methods, Treatments "
                  "and Evaluations).")

    os_hr = _fact("results.os_hazard_ratio")
    os_2y = _fact("results.os_2y")
    os_p = _fact("results.os_p_one_sided")
    os_card = EvidenceCard(
        key="os", title="Overall survival", standing="secondary",
        standing_source="Methods, Outcomes", cited_by_committee=True,
        then=then_unpublished + " A committee sees deaths by arm in its closed report; "
                                "how many had occurred by then is not public.",
        published=(f"2-year overall survival {100 * os_2y['blinatumomab']:.1f}% vs "
                   f"{100 * os_2y['chemotherapy']:.1f}%; HR for death {os_hr['estimate']:.2f} "
                   f"(95% CI {os_hr['ci_lower']:.2f}-{os_hr['ci_upper']:.2f}), one-sided "
                   f"P = {_p(os_p)} at the final analysis (follow-up to {paper_date(follow_up)})."),
        caveats=(multiplicity,
                 "Death is the outcome that matters most, but OS was not the end point the "
                 "trial was sized or monitored for."),
        sources="Figure 2B; Results, Secondary End Point; Abstract",
        figure_lines=("Then: favoured blinatumomab", "(interim numbers unpublished)",
                      f"Published 2020: HR {os_hr['estimate']:.2f}",
                      f"({os_hr['ci_lower']:.2f}-{os_hr['ci_upper']:.2f}), P = {_p(os_p)}"))

    mrd = _table2_row("table2.mrd_negative_cycle_1")
    mrd_card = EvidenceCard(
        key="mrd", title="MRD clearance", standing="exploratory",
        standing_source="Methods, Outcomes", cited_by_committee=True,
        then=then_unpublished + " MRD is measured within weeks of randomization, so it is the "
                                "end point with the most complete data at any look.",
        published=(f"MRD-negative after cycle 1: {mrd['blinatumomab']} ({mrd['percent_blinatumomab']}%) "
                   f"vs {mrd['chemotherapy']} ({mrd['percent_chemotherapy']}%); difference "
                   f"{mrd['difference']}% (95% CI {mrd['difference_ci_lower']}%-"
                   f"{mrd['difference_ci_upper']}%), P {mrd['p_relation']} {_p(mrd['p_value'])}."),
        caveats=("Missing counted as positive: a patient without an MRD result (death, relapse, "
                 "removal for toxicity) counts as not MRD-negative (Table 2, note e), which "
                 "mixes clearance with the other end points.",
                 "A surrogate: MRD predicts relapse, but clearing it is not the same as "
                 "surviving disease-free.",
                 open_label,
                 multiplicity),
        sources="Table 2 and note e; Results, Exploratory End Point: MRD",
        figure_lines=("Then: favoured blinatumomab", "(interim numbers unpublished)",
                      f"Published: {mrd['percent_blinatumomab']}% vs "
                      f"{mrd['percent_chemotherapy']}% MRD-neg",
                      "after cycle 1 (missing = positive)"))

    ae = _fact("results.serious_ae_percent")
    deaths = _fact("results.toxic_deaths")
    ages = _fact("other.toxic_death_ages")
    from teachkit import aall1331

    by_age = aall1331.toxic_deaths_by_age()
    ae_text = "; ".join(f"{name} {v['blinatumomab']}% vs {v['chemotherapy']}%" for name, v in ae.items())
    tox_card = EvidenceCard(
        key="toxicity", title="Serious toxicity, toxic deaths", standing="safety end point",
        standing_source="Methods, Outcomes and Statistical Analysis (as-treated population)",
        cited_by_committee=True,
        then=then_unpublished + " The trial also had an adverse-event stopping rule, and it was "
                                "not triggered (Discussion).",
        published=(f"Cumulative rates over cycles 1-2, blinatumomab vs chemotherapy: {ae_text}. "
                   f"Toxic deaths during cycles 1-2: {deaths['blinatumomab']} vs "
                   f"{deaths['chemotherapy']} (all infections; the paper calls {len(ages)} of the "
                   f"{deaths['chemotherapy']} adolescents or young adults, aged "
                   f"{', '.join(str(a) for a in ages[:-1])} and {ages[-1]}; its AYA subgroup analyses "
                   "use ages 18-30). Blinatumomab's own "
                   "toxicities (cytokine release syndrome, encephalopathy, seizures) were mostly "
                   "low grade and all reversible."),
        caveats=("Not an efficacy end point: adverse events are assessed in the as-treated "
                 "population (Methods, Statistical Analysis).",
                 open_label + " Grades were assigned by the treating physician (Table 3, note a).",
                 "Rates of many events: a few large differences among many comparisons.",
                 f"Harm concentrated in a subgroup? {deaths['chemotherapy']} deaths are too few to tell: "
                 f"by the paper's AYA subgroup (18-30 years) {by_age.deaths_older} of the "
                 f"{by_age.patients_older} chemotherapy patients aged 18-27 vs {by_age.deaths_younger} of the "
                 f"{by_age.patients_younger} younger (Table 1 counts, analysed not as treated; Fisher "
                 f"P = {by_age.comparison.fisher_p_value:.2f}); a committee watches such a signal."),
        sources="Results, AE End Point; Table 3; eTable 7; Abstract",
        figure_lines=("Then: favoured blinatumomab", "(interim numbers unpublished)",
                      f"Published: toxic deaths {deaths['blinatumomab']} vs {deaths['chemotherapy']}",
                      f"infection {ae['infection']['blinatumomab']}% vs "
                      f"{ae['infection']['chemotherapy']}%, cycles 1-2"))

    hsct = _table2_row("table2.hsct")
    transplant_card = EvidenceCard(
        key="transplant", title="Transplant rates", standing="post hoc",
        standing_source="Methods, Outcomes", cited_by_committee=False,
        then=("The paper does not say whether the committee saw transplant rates at the look. The "
              "end point was defined post hoc, i.e. after the data were seen (Methods, Outcomes)."),
        published=(f"Proceeded to transplant without intervening non-protocol therapy: "
                   f"{hsct['blinatumomab']} ({hsct['percent_blinatumomab']}%) vs {hsct['chemotherapy']} "
                   f"({hsct['percent_chemotherapy']}%); difference {hsct['difference']}% (95% CI "
                   f"{hsct['difference_ci_lower']}%-{hsct['difference_ci_upper']}%), "
                   f"P {hsct['p_relation']} {_p(hsct['p_value'])}."),
        caveats=("Post hoc: chosen after the data were seen, so its P value cannot be taken at "
                 "face value.",
                 "A pathway, not an outcome: higher MRD negativity and fewer adverse events "
                 "'may explain' the higher transplant rate, and the survival benefit is 'likely "
                 "derived' from it (Discussion): the paper's words are hedged.",
                 "Transplant procedures were not standardized (Limitations)."),
        sources="Table 2 and note f; Results, Post Hoc End Point; Discussion",
        figure_lines=("Then: not known if it was seen", "(a post hoc end point)",
                      f"Published: {hsct['percent_blinatumomab']}% vs "
                      f"{hsct['percent_chemotherapy']}% reached",
                      "transplant (P < .001, post hoc)"))
    return (os_card, mrd_card, tox_card, transplant_card)


# --------------------------------------------------------------------------------------
# The monitoring report and the final analysis (pure, cached: they depend on facts only)
# --------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def june_2019_report():
    """The DFS monitoring report at the June 2019 look, from the canonical monitoring plan
    (:meth:`teachkit.aall1331.MonitoringPlan.interim_report`: the second interim, at 61%,
    after a first at 1/3; a labelled reconstruction).

    >>> r = june_2019_report()
    >>> (r.events, r.events_planned), round(r.z_efficacy, 3), r.efficacy_met
    ((80.0, 131.0), 2.644, False)
    """
    from teachkit import aall1331

    return aall1331.monitoring_plan().interim_report()


def final_dfs_events() -> int:
    """First DFS events at the final analysis: the sum of Table 2's first events (107).

    >>> final_dfs_events()
    107
    """
    return int(sum(sum(_fact(f"table2.{k}").values())
                   for k in ("late_treatment_failure", "relapse", "death")))


@lru_cache(maxsize=1)
def final_analysis():
    """AALL1331's final DFS analysis as the canonical plan's looks actually taken
    (:meth:`teachkit.aall1331.MonitoringPlan.final_analysis`): 131/3 events (Z not
    published), 80 and 107 events, the alpha the plan spent at the first two and the rest
    at 107.  Final Z = -log(HR) sqrt(D / 4) from the published HR 0.70 at D = 107 events
    (Figure 2A, Table 2): a *reconstruction*, whose one-sided P .0325 agrees with the
    published .03.  "As if the stopping rule had been followed": a sensitivity check
    (:data:`teachkit.aall1331.AFTER_STOP_LABEL`).  Returns
    :class:`teachkit.sequential.InferenceAfterStop` (matched to rpact).

    >>> r = final_analysis()
    >>> round(r.p_value, 4), round(r.hazard_ratio, 3), round(float(r.design.z_efficacy[-1]), 3)
    (0.033, 0.701, 1.971)
    """
    from teachkit import aall1331

    return aall1331.monitoring_plan().final_analysis()


@lru_cache(maxsize=1)
def single_look_at_80():
    """The interim as if it had been the trial's only (final) look, all alpha spent there:
    what "stop for efficacy" at 80 events would have had to claim.

    >>> round(single_look_at_80().p_value, 3)
    0.06
    """
    from teachkit import sequential

    rep = june_2019_report()
    design = sequential.group_sequential_design([1.0], alpha=_fact("design.alpha_one_sided"),
                                                spending="user",
                                                parameter=[_fact("design.alpha_one_sided")])
    return sequential.inference_after_stop(design, [rep.z], [rep.events])


def conditional_power_readings(report) -> tuple:
    """(name, value, assumption, how a committee reads it) for the three conditional powers
    and the predictive power of an :class:`~teachkit.sequential.InterimReport`.

    >>> [round(v, 2) for _, v, _, _ in conditional_power_readings(june_2019_report())]
    [0.76, 0.5, 0.11, 0.5]
    """
    hr = report.hazard_ratio
    ci = f"95% CI {hr.ci_lower:.2f}-{hr.ci_upper:.2f}"
    c_final = float(report.design.z_efficacy[-1])
    design_in_ci = hr.ci_lower <= report.hazard_ratio_design <= hr.ci_upper
    # where the current trend ends: at, above or below the final boundary (Z vs c sqrt(t))
    aim_at = c_final * math.sqrt(report.information_fraction)
    where = ("right at" if abs(report.z - aim_at) < 0.1 else
             "above" if report.z > aim_at else "below")
    aim = (f"Here Z = {report.z:.2f} against c·√t = {c_final:.2f}·√{report.information_fraction:.2f}"
           f" = {aim_at:.2f}: the trend points {where} the final boundary"
           + (", so trend and predictive power are both about a coin flip." if where == "right at"
              else "."))
    return (
        ("CP, design effect", report.conditional_power_design,
         f"HR {report.hazard_ratio_design:.2f} from here on",
         f"Assumes the effect the trial was designed for (HR {report.hazard_ratio_design:.2f}) while "
         f"the data so far point to HR {hr.estimate:.2f}: the "
         + ("optimistic" if hr.estimate > report.hazard_ratio_design else "cautious")
         + " reading. "
         + ("The design effect still lies inside the interim " + ci + ", so it cannot be ruled out, "
            "but a committee does not lean on it." if design_in_ci else
            "The design effect lies outside the interim " + ci + ": a committee discounts it.")),
        ("CP, current trend", report.conditional_power_trend,
         f"HR {hr.estimate:.2f}, the estimate so far",
         f"Assumes the rest of the trial continues at the interim estimate, which rests on "
         f"{report.events:g} events ({ci}): the most data-driven guess, but noisy. A committee reads "
         f"it as 'about {report.conditional_power_trend:.0%}', not as a precise number."),
        ("CP, no effect (H0)", report.conditional_power_null, "HR 1 from here on",
         "The chance the trial still ends significant if blinatumomab does nothing from here on: "
         "how much the early lead alone would carry. "
         + ("Low here, so a positive end would need a real effect." if report.conditional_power_null < 0.2
            else "Not low here: the early lead alone could carry the trial to a positive end.")),
        ("predictive power", report.predictive_power, "effect averaged, flat prior",
         "Conditional power averaged over what the data say about the effect (flat prior: "
         "effect ~ Normal(estimate so far, its variance); Spiegelhalter, Freedman & Blackburn "
         "1986). It carries the uncertainty that 'current trend' ignores. " + aim),
    )


# --------------------------------------------------------------------------------------
# Feedback on the learner's recommendation and evidence
# --------------------------------------------------------------------------------------

def _recommendation_feedback(choice, report, final, single) -> tuple:
    """(agrees with the committee?, reasoned feedback) for a recommendation."""
    z, c = report.z, report.z_efficacy
    p, p_crit = report.p_one_sided, report.p_efficacy
    cp = report.conditional_power_trend
    d_final = int(final.events[-1])
    alpha = final.design.alpha
    if choice == "continue":
        return False, (
            f"Defensible by the rules, and not what the committee did. No boundary was crossed "
            f"(Z = {z:.2f}, efficacy needs {c:.2f}; futility needs Z < {report.z_futility:.2f}), and "
            f"with conditional power about {cp:.0%} under the current trend the primary question "
            "was still open. Continuing would have given the confirmatory answer that the "
            "accelerated approval was waiting for: a duty to future patients. Against it: every "
            "other signal pointed the same way, including deaths from chemotherapy toxicity, so "
            "patients randomized from then on would have received a treatment the committee no "
            "longer believed to be as good: a duty to the patients in the trial now. The committee "
            "judged that this duty weighed more. To hold your position, say what would have made "
            "you stop.")
    if choice == "stop_efficacy":
        return False, (
            f"No efficacy boundary was crossed: Z = {z:.2f} < {c:.2f} (P = {_p(p)} > {p_crit:.4f}). "
            "Stopping 'for efficacy' claims the primary question is answered; it was not. Even had "
            f"the 80-event look been the trial's only look, with all of alpha = {alpha:g} spent there, "
            f"the one-sided P = {single.p_value:.3f} would not have been significant. The committee "
            "did not stop for efficacy: it closed randomization for loss of equipoise and kept "
            f"following the patients, and at the final analysis ({d_final} events) DFS was still "
            f"not significant (stage-wise P = {final.p_value:.3f} > {alpha:g}). An efficacy claim at "
            "an early look also tends to exaggerate the effect (lesson 07).")
    if choice == "close_randomization":
        return True, (
            "This is what the committee recommended. It did so without a stopping rule being met: "
            "its reason was the totality of the evidence (higher DFS and OS, less serious "
            "toxicity, more MRD clearance, all favouring blinatumomab), which it judged a loss of "
            "clinical equipoise. Closing randomization is not stopping for efficacy: no claim is "
            "made at the look, and follow-up goes on, so the final analysis still tests DFS with "
            f"more events ({d_final} instead of {report.events:g}). The price is not the final "
            "non-significance, which belongs to the data: it is the confirmatory answer the trial "
            "was designed to give, and a decision resting on evidence that no rule adjusts "
            "(secondary, exploratory and safety end points in an open-label trial).")
    return False, (
        "A modification keeps the trial going in a changed form, e.g. more events or patients, or "
        "MRD-adapted consolidation (the Discussion proposes proceeding to transplant after one "
        "blinatumomab cycle for MRD-negative patients, for future trials). But changing a "
        "confirmatory trial because of unblinded comparative interim data threatens its type I "
        "error and credibility unless the adaptation was pre-planned, and as long as patients are "
        "still randomized to chemotherapy the equipoise question remains. The committee chose the "
        "one modification that removes it: stop randomizing, keep following everyone.")


def _evidence_feedback(key, ticked) -> str:
    """One reasoned sentence on a kind of evidence: ticked or not, cited or not, and why."""
    you = "You ticked it" if ticked else "You did not tick it"
    cite = "the committee cited it" if key in COMMITTEE_CITED else "the committee did not cite it"
    why = {
        "dfs": "primary end point; it favoured blinatumomab but met no rule on its own, so it "
               "moved the committee only as part of the combination.",
        "os": "secondary end point; the outcome that matters most, but not adjusted for "
              "multiplicity and not what the trial was sized or monitored for.",
        "mrd": "exploratory end point and a surrogate, with missing results counted as "
               "positive (Table 2, note e).",
        "toxicity": "safety evidence; its own stopping rule was not triggered, but deaths from "
                    "the toxicity of one arm weigh on equipoise.",
        "transplant": "post hoc end point, defined after the data were seen, and a pathway that "
                      "MRD and toxicity 'may explain' (Discussion) rather than an outcome.",
    }[key]
    return f"{EVIDENCE_LABELS[key]}: {you}; {cite}. Standing: {why}"


def estimate_agreement_text(report) -> str:
    """Interim vs final hazard ratio, with both readings of P = .06 and the shared events
    (issue 25, item 6): agreement is weak evidence that the interim estimate was not exaggerated.

    >>> t = estimate_agreement_text(june_2019_report())
    >>> "0.71" in t and "0.66" in t and "0.70" in t and "80 of the 107" in t
    True
    """
    from teachkit import aall1331

    plan = aall1331.monitoring_plan()
    hr = _fact("results.dfs_hazard_ratio")["estimate"]
    return (f"The hazard ratio at the look was {plan.interim_hazard_ratio:.2f} if P = {_p(plan.interim_p)} "
            f"was one-sided ({plan.interim_hazard_ratio_two_sided:.2f} if it was two-sided: the paper does "
            f"not say), and {hr:.2f} at the final analysis. That agreement is weak evidence that the "
            f"early estimate was not exaggerated: {plan.interim_events:g} of the {plan.final_events} final "
            f"events were already in it (the two estimates correlate about "
            f"{plan.shared_events_correlation:.2f}).")


def _costs_story(report) -> str:
    """What closing randomization cost, in the story's words (issue 25, item 9): the
    confirmatory answer and the unadjusted evidence, the events the closure took beside the
    plateau."""
    from teachkit import aall1331

    cost = aall1331.closure_cost()
    pub = _fact("results.dfs_hazard_ratio")
    return (
        "What closing randomization cost: the confirmatory answer. AALL1331 was one of the "
        "confirmatory trials of blinatumomab's accelerated approval (Introduction), and its primary "
        f"question stays formally open: DFS HR {pub['estimate']:.2f} (95% CI {pub['ci_lower']:.2f}-"
        f"{pub['ci_upper']:.2f}), one-sided P = {_p(_fact('results.dfs_p_one_sided'))}, not significant. "
        "That non-significance is a property of the data, not of the closure: closing cost about a "
        f"dozen analysable patients ({cost.patients_analysed} analysed of "
        f"{cost.patients_planned} planned), about {cost.events_lost_proportional:.0f} of the "
        f"{cost.events_missing} events the trial lacked ({cost.events_final} instead of "
        f"{cost.events_planned}); most of the shortfall is the plateau (lesson 04: even "
        f"{cost.patients_planned} patients could give at most about {cost.max_events_planned:.0f}). "
        "And the stop rested on evidence that no rule adjusts: overall survival (secondary), MRD "
        "(exploratory, missing results counted as positive) and toxicity (a safety end point), with "
        "no planned multiplicity adjustment (Limitations) in an open-label trial; the final OS P is "
        "itself conditioned on a closure that OS helped trigger.")


def _costs_depth(report, final) -> str:
    """The statistician's part of the costs (issue 25, items 6 and 10): the interim and final
    estimates with the shared events, and inference after the stop labelled as a sensitivity
    check."""
    from teachkit import aall1331

    plan = aall1331.monitoring_plan()
    recut = next(t for t in plan.final_thresholds if t.name.startswith("the plan re-cut"))
    return (
        estimate_agreement_text(report) + " "
        f"Inference after the stop, {plan.after_stop_label[0].lower()}{plan.after_stop_label[1:]} "
        f"With the plan's looks taken (131/3, {plan.interim_events:g} and {plan.final_events} events), "
        f"the final boundary left was Z >= {recut.z:.3f} (P <= {recut.p:.4f}; the paper compares with "
        f".025); the final Z = {float(final.z[-1]):.3f} (a reconstruction from the published HR) does not "
        f"reach it; stage-wise P = {final.p_value:.4f} (naive {final.naive_p_value:.4f}); median-unbiased "
        f"HR {final.hazard_ratio:.3f} ({100 * final.conf_level:g}% CI {final.ci_lower:.3f}-"
        f"{final.ci_upper:.3f}). The adjustment is small because no boundary was crossed; trials that stop "
        "at a boundary exaggerate the effect much more (lesson 07).")


def _costs_text(report, final) -> str:
    """What closing randomization cost (issue 25, items 6, 9, 10): the story's part
    (:func:`_costs_story`) and the statistician's (:func:`_costs_depth`), which the room
    shows folded."""
    return _costs_story(report) + " " + _costs_depth(report, final)


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reveal:
    """What the page shows once a decision is recorded."""

    recommendation: str
    recommendation_label: str
    agrees: bool
    feedback: str
    evidence_feedback: tuple     # (key, ticked, cited, text) per kind of evidence
    evidence_summary: str
    committee: str               # what the committee recommended and why
    costs: str                   # what the choice costs: costs_story + " " + costs_depth
    context: str                 # accelerated approval, duties, stopping rules as guidelines
    final: Any                   # teachkit.sequential.InferenceAfterStop (final analysis)
    costs_story: str = ""        # the costs in the story's words (shown)
    costs_depth: str = ""        # estimates and inference after the stop (folded in the room)

    __repr__ = _result_repr


@dataclass(frozen=True)
class CommitteeResult:
    """The room's state and everything the page shows, text included."""

    stage: str                   # "report" | "cards" | "decision" | "reveal"
    report: Any                  # teachkit.sequential.InterimReport at the June 2019 look
    readings: tuple              # conditional_power_readings(report)
    reconstruction_note: str
    cards: tuple                 # all four EvidenceCard
    cards_shown: int
    recommendation: str | None
    evidence: tuple              # keys ticked
    can_record: bool
    record_hint: str
    reveal: Reveal | None
    summary: str                 # the one-line result (live region)
    alt_text: str                # the figure's text alternative, from these numbers

    __repr__ = _result_repr


def reconstruction_note(report) -> str:
    """The canonical plan's label, with the numbers of this report."""
    from teachkit import aall1331

    plan = aall1331.monitoring_plan()
    return (f"{plan.label} With O'Brien-Fleming-type spending this gives the critical P = "
            f"{report.p_efficacy:.4f} at this look (published: {_p(plan.interim_p_published)}). The "
            "conditional powers use this reconstructed plan's final boundary "
            f"(Z = {float(report.design.z_efficacy[-1]):.2f}).")


def _stage(cards_shown, recorded):
    if recorded:
        return "reveal"
    if cards_shown == 0:
        return "report"
    return "cards" if cards_shown < N_CARDS else "decision"
