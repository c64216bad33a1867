"""The practice questions of lessons 00-03 (teachkit.explorers.practice): the trial in one page,
Kaplan-Meier, comparing curves, risk groups and strata.

Each ``_qNN_name(rng)`` returns the fields of one :class:`~teachkit.explorers._practice_core.Problem`
(the answer computed by teachkit, the common wrong answers computed the way the mistake does);
``_practice_bank`` lists them per lesson.
"""

from __future__ import annotations

import html
import math

import numpy as np
from scipy.special import ndtr

from teachkit.explorers._practice_core import Mistake, _distinct, _fmt, _p, _plan, _redraw, _table


# --------------------------------------------------------------------------------------
# Lesson 00 - the trial in one page
# --------------------------------------------------------------------------------------

def _q00_information(rng):
    planned = int(round(_plan().events_planned))
    events = int(rng.integers(25, planned - 10))
    answer = 100.0 * events / planned
    mistakes = _distinct(answer, [
        Mistake(100.0 * (planned - events) / planned,
                f"That is the share still to come ({planned} − {events} = {planned - events} events). "
                "The information at the look is the share of the planned events that <i>has happened</i>."),
        Mistake(100.0 * planned / events,
                "The fraction is upside down: divide the events seen by the events planned."),
    ], 0.5)
    return dict(
        prompt=_p(f"A trial planned to wait for <b>{planned} events</b>. At an interim look, "
                  f"<b>{events} events</b> have happened.",
                  "What percentage of the planned information is that?"),
        answer=answer, tolerance=0.5, unit="%", label="Information at the look (%)",
        hint=_p("The information of a survival trial grows with its events: divide the events seen by the "
                "events planned, and multiply by 100."),
        worked=_p(f"{events} / {planned} = {events / planned:.3f}, so about <b>{answer:.1f}%</b> of the "
                  "planned information.",
                  "AALL1331's June 2019 look came at 80 of 131 events: 61%."),
        mistakes=mistakes, data={"events": events, "planned": planned})


def _q00_risk_reduction(rng):
    hr = round(float(rng.uniform(0.45, 0.9)), 2)
    answer = 100.0 * (1.0 - hr)
    mistakes = _distinct(answer, [
        Mistake(100.0 * hr, f"{hr * 100:.0f}% is the risk <i>relative</i> to chemotherapy (the hazard ratio "
                "itself). The reduction is what is taken away: 100% minus that."),
        Mistake(100.0 * (1.0 / hr - 1.0), "That compares the arms the other way round (chemotherapy's risk "
                "relative to blinatumomab's). Start from the hazard ratio as given."),
    ], 0.5)
    return dict(
        prompt=_p(f"A trial reports a hazard ratio of <b>{hr:.2f}</b> for blinatumomab against chemotherapy.",
                  "At any moment, by what percentage is the risk of an event lower for a patient on "
                  "blinatumomab who is still event-free?"),
        answer=answer, tolerance=0.5, unit="%", label="Lower risk (%)",
        hint=_p("A hazard ratio of 0.80 means the risk at any moment is 80% of chemotherapy's."),
        worked=_p(f"The risk is {hr:.2f} times chemotherapy's, so it is lower by 1 − {hr:.2f} = "
                  f"{1 - hr:.2f}: <b>{answer:.0f}%</b>.",
                  "This is a statement about the risk at each moment, not about the share of patients who "
                  "relapse over the whole study."),
        mistakes=mistakes, data={"hazard_ratio": hr})


_CROSSED = ("Yes: the trial may stop for benefit", "No: the boundary was not crossed")


def _q00_crossed(rng):
    boundary = float(rng.choice([0.0001, 0.001, 0.003, 0.004, 0.006, 0.01, 0.02, 0.025]))
    crossed = bool(rng.random() < 0.4)
    p = round(boundary * float(rng.uniform(0.1, 0.8)), 5) if crossed else \
        round(float(rng.choice([1.5, 3, 6, 10, 15])) * boundary, 4)
    p = max(p, 0.00001)
    answer = _CROSSED[0] if p < boundary else _CROSSED[1]
    wrong = _CROSSED[1] if answer == _CROSSED[0] else _CROSSED[0]
    why = (f"P = {_fmt(p)} is <b>below</b> the boundary {_fmt(boundary)}: results this strong would be rare "
           "by chance, so the rule is met." if answer == _CROSSED[0] else
           f"P = {_fmt(p)} is <b>above</b> the boundary {_fmt(boundary)}: a smaller P means stronger evidence, "
           "and stopping for benefit needs a P below the boundary.")
    return dict(
        kind="choice", options=_CROSSED,
        prompt=_p(f"At an interim look the one-sided P for the primary end point is <b>{_fmt(p)}</b>. The "
                  f"efficacy boundary at this look is a one-sided P of <b>{_fmt(boundary)}</b>.",
                  "Is the efficacy boundary crossed?"),
        answer=answer, label="Is the boundary crossed?",
        hint=_p("The boundary is a threshold for the P value: the evidence must be at least that strong, "
                "so the P must be at most that small."),
        worked=_p(why),
        mistakes=(Mistake(wrong, why),), data={"p": p, "boundary": boundary})


_INCLUDES = ("Yes: no difference (HR = 1) is still compatible with the data",
             "No: the whole interval lies below 1")


def _q00_interval(rng):
    from teachkit import sequential

    events = int(rng.integers(60, 200))
    z = round(float(rng.uniform(0.8, 3.5)), 2)
    est = sequential.hazard_ratio_from_z(z, events)
    lo, hi = round(est.ci_lower, 2), round(est.ci_upper, 2)
    if abs(hi - 1.0) < 0.015:   # too close to call from two decimals
        hi = 0.97 if est.ci_upper < 1 else 1.03
    answer = _INCLUDES[0] if hi >= 1 else _INCLUDES[1]
    wrong = _INCLUDES[1] if answer == _INCLUDES[0] else _INCLUDES[0]
    why = (f"The interval runs from {lo:.2f} to {hi:.2f}: it {'reaches' if hi >= 1 else 'stays below'} 1. "
           + ("Values of no benefit are still compatible with the data, so the result is not statistically "
              "significant at the two-sided 5% level, which is not the same as 'no effect'."
              if hi >= 1 else "Every hazard ratio compatible with the data favours blinatumomab."))
    return dict(
        kind="choice", options=_INCLUDES,
        prompt=_p(f"A final analysis reports a hazard ratio of <b>{est.estimate:.2f}</b> "
                  f"(95% confidence interval <b>{lo:.2f} to {hi:.2f}</b>).",
                  "Is 'no difference between the arms' compatible with these data?"),
        answer=answer, label="Is no difference compatible?",
        hint=_p("No difference is a hazard ratio of exactly 1. Is 1 inside the interval?"),
        worked=_p(why), mistakes=(Mistake(wrong, why),),
        data={"estimate": est.estimate, "ci_lower": lo, "ci_upper": hi, "events": events})


# --------------------------------------------------------------------------------------
# Lesson 01 - censoring and Kaplan-Meier
# --------------------------------------------------------------------------------------

def _patients(rng, n, max_week=30):
    """n patients: distinct whole weeks, relapsed (1) or censored (0)."""
    times = np.sort(rng.choice(np.arange(1, max_week + 1), size=n, replace=False))
    events = (rng.random(n) < 0.65).astype(int)
    return times, events


def _patient_table(times, events, caption="The patients"):
    rows = [[f"{i + 1}", f"{t}", "relapsed" if e else "still in remission (censored)"]
            for i, (t, e) in enumerate(zip(times, events))]
    return _table(["child", "week", "what happened"], rows, caption=caption, align="rrl")


def _q01_at_risk(rng):
    from teachkit import survival

    def make(rng):
        times, events = _patients(rng, int(rng.integers(7, 11)))
        # an event time with a censored child before it and another child after it
        ok = [j for j in range(len(times)) if events[j] and np.any((events[:j] == 0)) and j < len(times) - 1]
        if not ok:
            return None
        j = int(rng.choice(ok))
        return times, events, j

    times, events, j = _redraw(rng, make, lambda out: out is not None)
    t = int(times[j])
    km = survival.kaplan_meier(times, events)
    answer = int(km.n_at_risk[np.searchsorted(km.time, t)])
    censored_before = int(np.sum((times < t) & (events == 0)))
    mistakes = _distinct(answer, [
        Mistake(int(np.sum(times > t)), f"The child whose week is exactly {t} is still at risk at week {t}: "
                "at risk means 'still followed just before that week', including whoever relapses then."),
        Mistake(len(times) - int(np.sum((times < t) & (events == 1))),
                f"That keeps the {censored_before} censored child{'ren' if censored_before > 1 else ''} at risk "
                "after they left the study. A censored child counts until their last week, then leaves."),
        Mistake(len(times), "That counts every child, also those who relapsed or left before this week."),
    ], 0.0, gap=0.5)
    return dict(
        prompt=_p("A small study follows children in remission, week by week.")
        + _patient_table(times, events)
        + _p(f"How many children are <b>at risk</b> at week <b>{t}</b>?"),
        answer=answer, tolerance=0.0, unit="children", label=f"At risk at week {t}",
        hint=_p(f"At risk at week {t}: still followed at the start of week {t}, that is, everyone whose own "
                f"week is {t} or later, whether they relapse or are censored then."),
        worked=_p(f"The children with week {t} or later: <b>{answer}</b>.",
                  f"Those with an earlier week have left: they relapsed or were censored before week {t}."),
        mistakes=mistakes, data={"times": times.tolist(), "events": events.tolist(), "week": t})


def _q01_km_step(rng):
    from teachkit import survival

    def make(rng):
        n1 = int(rng.integers(10, 22))
        rows, n = [], n1
        t = 0
        times, events = [], []
        for _ in range(3):
            t += int(rng.integers(2, 7))
            d = int(rng.choice([1, 1, 1, 2]))
            c = int(rng.integers(0, 3))
            rows.append((t, n, d))
            times += [t] * d
            events += [1] * d
            times += [t + 1] * c       # censored in the week after the event
            events += [0] * c
            n -= d + c
            t += 1
        times += [t + 5] * n
        events += [0] * n
        return rows, np.array(times), np.array(events)

    rows, times, events = _redraw(rng, make, lambda out: out[0][-1][1] > out[0][-1][2] + 1)
    km = survival.kaplan_meier(times, events)
    t3 = rows[-1][0]
    answer = float(km.survival_at(t3))
    tol = 0.005
    mistakes = _distinct(answer, [
        Mistake(1 - sum(d / n for _, n, d in rows), "The chances of getting past each week <b>multiply</b>; "
                "adding the drops d/n is close only while they are small."),
        Mistake(1 - rows[-1][2] / rows[-1][1], f"That is only the last step, 1 − {rows[-1][2]}/{rows[-1][1]}. "
                "To get past this week a child must get past every earlier event week too: multiply all the steps."),
        Mistake(1 - sum(d for _, _, d in rows) / rows[0][1],
                f"That divides all the relapses by the {rows[0][1]} children of the start. Children censored "
                "along the way are no longer at risk: each step uses its own number at risk."),
    ], tol)
    table = _table(["week", "children at risk", "relapses that week"], [list(r) for r in rows],
                   caption="Kaplan-Meier steps (only the weeks with a relapse)")
    factors = " × ".join(f"(1 − {d}/{n})" for _, n, d in rows)
    return dict(
        prompt=_p("The table gives, for each week in which a child relapsed, the children at risk and the "
                  "relapses.") + table
        + _p(f"What is the Kaplan-Meier estimate of staying in remission past week <b>{t3}</b>?"),
        answer=answer, tolerance=tol, label=f"S({t3}), a number between 0 and 1",
        hint=_p("Each row is a step: the chance of getting past that week is 1 − relapses/at risk. Getting "
                "past the last week means getting past all of them: multiply."),
        worked=_p(f"S({t3}) = {factors} = <b>{answer:.3f}</b>.",
                  "The numbers at risk fall between rows also because some children were censored: they "
                  "leave the count without making the curve drop."),
        mistakes=mistakes, data={"rows": [list(r) for r in rows], "times": times.tolist(),
                                 "events": events.tolist()})


def _q01_km_patients(rng):
    from teachkit import survival

    def make(rng):
        times, events = _patients(rng, int(rng.integers(5, 8)), max_week=15)
        # the question's week: an event time after at least one censored child, and S not 0
        ok = [j for j in range(len(times)) if events[j] and np.any(events[:j] == 0)
              and np.sum(events[:j + 1]) < j + 1 and j < len(times) - 1]
        if not ok:
            return None
        return times, events, int(times[int(rng.choice(ok))])

    times, events, t = _redraw(rng, make, lambda out: out is not None)
    right = float(survival.kaplan_meier(times, events).survival_at(t))
    late = np.where(events == 1, times, times.max() + 1)      # censored kept to the end
    kept = float(survival.kaplan_meier(late, events).survival_at(t))
    as_relapse = float(survival.kaplan_meier(times, np.ones_like(events)).survival_at(t))
    dropped = events == 1
    if np.sum(dropped) >= 1:
        dropped_value = float(survival.kaplan_meier(times[dropped], events[dropped]).survival_at(t))
    else:  # pragma: no cover - every draw has relapses
        dropped_value = float("nan")
    naive = 1 - float(np.sum((times <= t) & (events == 1))) / len(times)
    tol = 0.005
    mistakes = _distinct(right, [
        Mistake(kept, "That keeps the censored children at risk after they left the study. They count "
                "only until their last week; after it they are no longer at risk."),
        Mistake(as_relapse, "That counts the censored children as relapses. Censored means 'still in "
                "remission when last seen': it must not make the curve drop."),
        Mistake(dropped_value, "That leaves the censored children out altogether. They were at risk, and "
                "in remission, until their last week: leaving them out throws that good news away."),
        Mistake(naive, "That is 1 − relapses/children, as if everyone had been followed to this week. "
                "With censoring, each relapse week has its own number at risk: multiply the steps."),
    ], tol)
    steps = [(int(s), int(np.sum(times >= s))) for s in times[(events == 1) & (times <= t)]]
    factors = " × ".join(f"(1 − 1/{n})" for _, n in steps)
    return dict(
        prompt=_p("Some children are followed for a few weeks.") + _patient_table(times, events)
        + _p(f"What is the Kaplan-Meier estimate of staying in remission past week <b>{t}</b>?"),
        answer=right, tolerance=tol, label=f"S({t}), a number between 0 and 1",
        hint=_p("Go week by week. At each relapse, the chance of getting past it is 1 − 1/(children still "
                "followed then). A censored child leaves the count after their week without a drop."),
        worked=_p(f"S({t}) = {factors} = <b>{right:.3f}</b>.",
                  "At risk at each relapse: " + "; ".join(f"week {s}: {n}" for s, n in steps) + "."),
        mistakes=mistakes, data={"times": times.tolist(), "events": events.tolist(), "week": t})


def _q01_median(rng):
    from teachkit import survival

    def make(rng):
        times, events = _patients(rng, int(rng.integers(9, 14)), max_week=40)
        km = survival.kaplan_meier(times, events)
        steps = km.n_events > 0
        s = km.survival[steps]
        if not np.any(s < 0.5) or np.any(np.abs(s - 0.5) < 0.02) or not math.isfinite(km.median()):
            return None
        return km, steps

    km, steps = _redraw(rng, make, lambda out: out is not None)
    weeks, surv = km.time[steps], km.survival[steps]
    answer = float(km.median())
    first_below = int(np.argmax(surv < 0.5))
    mistakes = [Mistake(float(weeks[first_below - 1]),
                        "That is the last week with the curve still above one half. The median is the first "
                        "week at which it falls to one half or below.")] if first_below > 0 else []
    closest = float(weeks[int(np.argmin(np.abs(surv - 0.5)))])
    mistakes.append(Mistake(closest, "That is the week whose estimate is closest to 0.5. The median is the first "
                            "week at which the curve is at or below one half, however close the row above is."))
    table = _table(["week", "estimated S (still in remission)"],
                   [[f"{int(w)}", f"{s:.3f}"] for w, s in zip(weeks, surv)],
                   caption="A Kaplan-Meier estimate (weeks with a relapse)")
    return dict(
        prompt=_p("Here is a Kaplan-Meier estimate, one row per week in which someone relapsed.") + table
        + _p("What is the <b>median</b> time in remission, in weeks?"),
        answer=answer, tolerance=0.0, unit="weeks", label="Median (weeks)",
        hint=_p("The median is where the curve reaches one half: the first week at which S is 0.5 or less."),
        worked=_p(f"The first row at or below 0.5 is week {answer:g} (S = {surv[first_below]:.3f}): the median is "
                  f"<b>{answer:g} weeks</b>."),
        mistakes=_distinct(answer, mistakes, 0.0, gap=0.5),
        data={"weeks": weeks.tolist(), "survival": surv.tolist()})


# --------------------------------------------------------------------------------------
# Lesson 02 - comparing curves
# --------------------------------------------------------------------------------------

def _q02_o_minus_e(rng):
    from teachkit import survival

    n1, n2 = int(rng.integers(6, 25)), int(rng.integers(6, 25))
    d = int(rng.integers(1, 5))
    o1 = int(rng.integers(0, d + 1))
    # one event time: o1 events among n1 on blinatumomab, d - o1 among n2 on chemotherapy;
    # everyone else censored a week later (no second event time)
    time = np.r_[np.ones(o1), np.full(n1 - o1, 2.0), np.ones(d - o1), np.full(n2 - (d - o1), 2.0)]
    event = np.r_[np.ones(o1), np.zeros(n1 - o1), np.ones(d - o1), np.zeros(n2 - (d - o1))]
    arm = np.array(["blinatumomab"] * n1 + ["chemotherapy"] * n2)
    lr = survival.logrank_test(time, event, arm, treatment="blinatumomab")
    i = list(lr.groups).index("blinatumomab")
    answer = float(lr.observed[i] - lr.expected[i])
    e = d * n1 / (n1 + n2)
    tol = 0.01
    mistakes = _distinct(answer, [
        Mistake(-answer, "The sign is reversed: that is E − O. O − E is observed minus expected, negative "
                "when blinatumomab has fewer events than expected."),
        Mistake(o1 - d / 2, "That expects half the events on each arm. Expected events follow the numbers at "
                f"risk: blinatumomab has {n1} of the {n1 + n2} patients at risk."),
        Mistake(o1 - d * n1 / n2, f"The share at risk is {n1} out of all {n1 + n2} at risk, not {n1}/{n2}."),
    ], tol)
    table = _table(["", "at risk", "events"], [["Blinatumomab", n1, o1], ["Chemotherapy", n2, d - o1],
                                               ["Both", n1 + n2, d]],
                   caption="One event time of a trial", align="lrr")
    return dict(
        prompt=_p("At one event time of a trial:") + table
        + _p("If the arms were alike, the events would be shared in proportion to the patients at risk. "
             "What is <b>O − E</b> for blinatumomab at this time (observed minus expected events)?"),
        answer=answer, tolerance=tol, label="O − E for blinatumomab",
        hint=_p(f"Expected on blinatumomab: E = (all events) × (blinatumomab's share of those at risk) = "
                f"{d} × {n1}/{n1 + n2}."),
        worked=_p(f"E = {d} × {n1}/{n1 + n2} = {e:.3f}, so O − E = {o1} − {e:.3f} = <b>{answer:.2f}</b>.",
                  "The log-rank test adds these up over all event times; a negative total means fewer events "
                  "on blinatumomab than expected."),
        mistakes=mistakes, data={"n1": n1, "n2": n2, "d": d, "o1": o1})


def _q02_p_from_z(rng):
    z = round(float(rng.uniform(0.4, 2.9)), 2)
    phi = float(ndtr(z))
    answer = 1.0 - phi
    tol = 0.0005
    mistakes = _distinct(answer, [
        Mistake(2 * (1 - round(phi, 4)), "That is the two-sided P (both tails). The one-sided P counts only "
                "results at least this favourable to blinatumomab: one tail."),
        Mistake(round(phi, 4), "That is Φ(Z), the chance of a Z <i>below</i> the one seen. The P value is the "
                "chance of a Z at least this large: 1 − Φ(Z)."),
    ], tol)
    return dict(
        prompt=_p(f"A log-rank test gives <b>Z = {z:.2f}</b> (positive: fewer events than expected on "
                  f"blinatumomab). For a standard normal, Φ({z:.2f}) = {phi:.4f}.",
                  "What is the <b>one-sided P</b> (benefit of blinatumomab)?"),
        answer=answer, tolerance=tol, label="One-sided P",
        hint=_p("The one-sided P is the chance, if the arms were alike, of a Z at least as large as the one seen."),
        worked=_p(f"P = 1 − Φ({z:.2f}) = 1 − {phi:.4f} = <b>{answer:.4f}</b>."),
        mistakes=mistakes, data={"z": z, "phi": phi})


def _q02_hr_from_z(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 220))
    z = round(float(rng.uniform(0.5, 3.0)), 2)
    answer = sequential.hazard_ratio_from_z(z, events).estimate
    tol = 0.005
    root = math.sqrt(events)
    mistakes = _distinct(answer, [
        Mistake(math.exp(2 * z / root), "The sign is reversed: a positive Z favours blinatumomab, so its "
                "hazard ratio is below 1: exp(−2Z/√D)."),
        Mistake(math.exp(-z / root), "The factor 2 is missing: with two equal arms the log hazard ratio is "
                "−Z divided by √(D/4), that is −2Z/√D."),
        Mistake(1 - 2 * z / root, "That is −2Z/√D added to 1: the formula gives the <i>logarithm</i> of the "
                "hazard ratio, so take exp()."),
    ], tol)
    return dict(
        prompt=_p(f"After <b>{events} events</b> (two arms of equal size), the log-rank <b>Z = {z:.2f}</b> "
                  "(positive: favours blinatumomab).",
                  "Estimate the hazard ratio: log HR ≈ −2Z/√D."),
        answer=answer, tolerance=tol, label="Hazard ratio",
        hint=_p(f"√{events} = {root:.3f}. Compute −2 × {z:.2f} / {root:.3f}, then take exp() of it."),
        worked=_p(f"log HR = −2 × {z:.2f} / √{events} = {-2 * z / root:.4f}, so HR = exp({-2 * z / root:.4f}) = "
                  f"<b>{answer:.2f}</b>."),
        mistakes=mistakes, data={"events": events, "z": z})


_SIGNIFICANT = ("Yes: significant at the two-sided 5% level", "No: not significant at that level")


def _q02_significant(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 250))
    z = round(float(rng.uniform(0.6, 3.4)), 2)
    est = sequential.hazard_ratio_from_z(z, events)
    lo, hi = round(est.ci_lower, 2), round(est.ci_upper, 2)
    if abs(hi - 1.0) < 0.015:
        hi = 0.97 if est.ci_upper < 1 else 1.04
    answer = _SIGNIFICANT[0] if hi < 1 else _SIGNIFICANT[1]
    wrong = _SIGNIFICANT[1] if answer == _SIGNIFICANT[0] else _SIGNIFICANT[0]
    why = (f"The 95% interval {lo:.2f}-{hi:.2f} " + ("lies wholly below 1: HR = 1 is outside it, so the "
           "difference is significant at the two-sided 5% level." if hi < 1 else
           "contains 1 (no difference): the data cannot rule it out at the two-sided 5% level. "
           "Not significant is not 'no effect'."))
    return dict(
        kind="choice", options=_SIGNIFICANT,
        prompt=_p(f"A Cox model gives a hazard ratio of <b>{est.estimate:.2f}</b>, 95% confidence interval "
                  f"<b>{lo:.2f} to {hi:.2f}</b>.", "Is the difference statistically significant at the two-sided "
                  "5% level?"),
        answer=answer, label="Significant?",
        hint=_p("A 95% interval that excludes the value of no difference (HR = 1) goes with a two-sided P "
                "below 5%."), worked=_p(why), mistakes=(Mistake(wrong, why),),
        data={"estimate": est.estimate, "ci_lower": lo, "ci_upper": hi})


# --------------------------------------------------------------------------------------
# Lesson 03 - risk groups and stratification
# --------------------------------------------------------------------------------------

_SITE_WORDS = {"marrow": "in the bone marrow", "combined": "in the marrow and outside it (combined)",
               "extramedullary": "only outside the marrow (isolated extramedullary)"}
_MRDS = (0.01, 0.03, 0.05, 0.08, 0.2, 0.5, 1.0, 3.0, 10.0)


def _vignette(rng, allow_failure=True):
    site = str(rng.choice(["marrow", "marrow", "combined", "extramedullary"]))
    months = int(rng.integers(8, 30)) if site == "extramedullary" else int(rng.integers(10, 60))
    mrd = float(rng.choice(_MRDS))
    blasts = 30 if (allow_failure and rng.random() < 0.12) else int(rng.integers(0, 5))
    return site, months, mrd, blasts


def _describe(site, months, mrd, blasts):
    return (f"relapse {_SITE_WORDS[site]}, {months} months after diagnosis; after reinduction, "
            f"MRD {_fmt(mrd)}% and {blasts}% blasts in the marrow")


def _risk_mistake(site, months, mrd, blasts, chosen) -> str:
    from teachkit import risk

    right = risk.explain_risk_group(site, months, mrd, blasts)
    marrow = site != "extramedullary"
    limit = risk.MARROW_LATE_MONTHS if marrow else risk.EXTRAMEDULLARY_LATE_MONTHS
    if right.group is risk.RiskGroup.EARLY_TREATMENT_FAILURE:
        return f"With {blasts}% blasts left after reinduction (more than 25%), the patient is an early treatment " \
               "failure, whatever the timing or MRD."
    if chosen == risk.RiskGroup.EARLY_TREATMENT_FAILURE.value:
        return f"Early treatment failure needs more than 25% blasts after reinduction; here there are {blasts}%."
    if right.group is risk.RiskGroup.HIGH:
        if not marrow and months >= risk.EXTRAMEDULLARY_LATE_MONTHS:  # pragma: no cover - high needs < 18
            pass
        return (f"A {'marrow' if marrow else 'isolated extramedullary'} relapse before {limit:g} months is "
                "<b>high</b> risk whatever the MRD: MRD only splits the late relapses.")
    if chosen == risk.RiskGroup.HIGH.value:
        extra = (" For an isolated extramedullary relapse the cut-off is 18 months, not 36."
                 if not marrow and months < risk.MARROW_LATE_MONTHS else "")
        return f"At {months} months the relapse is late (at least {limit:g} months), so it is not high risk.{extra}"
    if right.group is risk.RiskGroup.INTERMEDIATE:
        return f"MRD {_fmt(mrd)}% is at least 0.1%: a late relapse with that much left is <b>intermediate</b>."
    return f"MRD {_fmt(mrd)}% is below 0.1%: a late relapse with so little left is <b>low</b> risk."


def _q03_risk_group(rng):
    from teachkit import risk

    site, months, mrd, blasts = _vignette(rng)
    answer = risk.assign_risk_group(site, months, mrd=mrd, marrow_blasts=blasts).value
    options = tuple(g.value for g in risk.RiskGroup)
    explained = risk.explain_risk_group(site, months, mrd, blasts)
    return dict(
        kind="choice", options=options,
        prompt=_p(f"A patient's leukaemia came back: {_describe(site, months, mrd, blasts)}.",
                  "Which AALL1331 risk group is this patient in?"),
        answer=answer, label="Risk group",
        hint=_p("In order: more than 25% blasts after reinduction is an early treatment failure. Otherwise, "
                "a marrow relapse before 36 months, or an isolated extramedullary one before 18 months, is high "
                "risk. A later relapse is intermediate with MRD of 0.1% or more, low below it."),
        worked=_p(f"<b>{answer}</b>: {html.escape(explained.reason)}."),
        mistakes=tuple(Mistake(o, _risk_mistake(site, months, mrd, blasts, o)) for o in options if o != answer),
        data={"site": site, "months": months, "mrd": mrd, "blasts": blasts})


def _q03_stratum(rng):
    from teachkit import risk

    def make(rng):
        site, months, mrd, blasts = _vignette(rng, allow_failure=False)
        group = risk.assign_risk_group(site, months, mrd=mrd, marrow_blasts=blasts)
        return (site, months, mrd, blasts) if group in (risk.RiskGroup.HIGH, risk.RiskGroup.INTERMEDIATE) else None

    site, months, mrd, blasts = _redraw(rng, make, lambda out: out is not None)
    answer = risk.randomization_stratum(site, months, mrd=mrd, marrow_blasts=blasts).value
    options = tuple(s.value for s in risk.Stratum)
    marrow = site != "extramedullary"

    def why(option):
        if answer == risk.Stratum.INTERMEDIATE.value:
            return "The patient is intermediate risk (a late relapse with MRD of 0.1% or more): intermediate " \
                   "risk is one stratum, not split further."
        if option == risk.Stratum.INTERMEDIATE.value:
            return f"At {months} months the relapse is early: high risk, not intermediate."
        if not marrow:
            return "An isolated extramedullary relapse before 18 months is its own high-risk stratum; only marrow " \
                   "relapses are split by time and MRD."
        if option == risk.Stratum.HIGH_EXTRAMEDULLARY.value:
            return "This is a marrow relapse (combined counts as marrow), not an isolated extramedullary one."
        band = "<18 mo" if months < risk.EXTRAMEDULLARY_LATE_MONTHS else "18-36 mo"
        if band not in option:
            return f"At {months} months the time band is {'under 18' if band == '<18 mo' else '18 to 36'} months."
        return f"MRD {_fmt(mrd)}% is {'at least' if mrd >= risk.MRD_THRESHOLD_PERCENT else 'below'} 0.1%."

    return dict(
        kind="choice", options=options,
        prompt=_p(f"A patient randomized in AALL1331: {_describe(site, months, mrd, blasts)}.",
                  "In which randomization stratum was the coin tossed for this patient?"),
        answer=answer, label="Stratum",
        hint=_p("First the risk group (high or intermediate). Intermediate is one stratum. High risk splits by "
                "site (isolated extramedullary, or marrow), and a marrow relapse by time from diagnosis "
                "(under 18 or 18-36 months) and MRD (under 0.1%, or 0.1% and more)."),
        worked=_p(f"<b>{answer}</b>: " + _stratum_reason(site, months, mrd)),
        mistakes=tuple(Mistake(o, why(o)) for o in options if o != answer),
        data={"site": site, "months": months, "mrd": mrd, "blasts": blasts})


def _stratum_reason(site, months, mrd) -> str:
    from teachkit import risk

    if risk.assign_risk_group(site, months, mrd=mrd) is risk.RiskGroup.INTERMEDIATE:
        return f"a late relapse ({months} months) with MRD {_fmt(mrd)}%, at least 0.1%: intermediate risk, one stratum."
    if site == "extramedullary":
        return f"an isolated extramedullary relapse at {months} months, before 18: high risk, its own stratum."
    band = "under 18 months" if months < risk.EXTRAMEDULLARY_LATE_MONTHS else "18 to 36 months"
    level = "at least" if mrd >= risk.MRD_THRESHOLD_PERCENT else "below"
    return (f"a marrow relapse at {months} months (high risk, time band {band}) with MRD {_fmt(mrd)}%, "
            f"{level} 0.1%.")


def _q03_count_high(rng):
    from teachkit import risk

    def make(rng):
        patients = [_vignette(rng, allow_failure=False) for _ in range(6)]
        groups = [risk.assign_risk_group(s, m, mrd=d, marrow_blasts=b) for s, m, d, b in patients]
        right = sum(g is risk.RiskGroup.HIGH for g in groups)
        cut18 = sum((m < 18) for s, m, d, b in patients)                      # 18 months for every site
        by_mrd = sum((d >= risk.MRD_THRESHOLD_PERCENT) for s, m, d, b in patients)   # MRD decides
        if len({right, cut18, by_mrd}) < 3:
            return None
        return patients, right, cut18, by_mrd

    patients, answer, cut18, by_mrd = _redraw(rng, make, lambda out: out is not None)
    rows = [[f"{i + 1}", {"marrow": "marrow", "combined": "combined", "extramedullary": "isolated extramedullary"}[s],
             f"{m}", f"{_fmt(d)}%"] for i, (s, m, d, b) in enumerate(patients)]
    table = _table(["patient", "site of relapse", "months from diagnosis", "MRD after reinduction"], rows,
                   caption="Six patients (none with more than 25% blasts)", align="rlrr")
    high = [i + 1 for i, (s, m, d, b) in enumerate(patients)
            if risk.assign_risk_group(s, m, mrd=d, marrow_blasts=b) is risk.RiskGroup.HIGH]
    return dict(
        prompt=table + _p("How many of these patients are <b>high risk</b>?"),
        answer=answer, tolerance=0.0, unit="patients", label="High-risk patients",
        hint=_p("High risk depends on the site and the time only: a marrow (or combined) relapse before 36 "
                "months, or an isolated extramedullary relapse before 18 months."),
        worked=_p(f"<b>{answer}</b>: patient{'s' if len(high) != 1 else ''} "
                  f"{', '.join(map(str, high)) or 'none'}. MRD does not make a patient high risk: it splits the "
                  "late relapses into intermediate and low."),
        mistakes=(Mistake(cut18, "That uses 18 months for every site. The 18-month cut-off is for isolated "
                          "extramedullary relapses; a marrow relapse is early (high risk) before 36 months."),
                  Mistake(by_mrd, "That sorts by MRD. MRD only splits the <i>late</i> relapses into "
                          "intermediate and low; an early relapse is high risk whatever its MRD.")),
        data={"patients": [list(p) for p in patients]})
