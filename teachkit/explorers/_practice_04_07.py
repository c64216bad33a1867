"""The practice questions of lessons 04-07 (teachkit.explorers.practice): planning events, looking
early, the 2019 interim, after an early stop.

Each ``_qNN_name(rng)`` returns the fields of one :class:`~teachkit.explorers._practice_core.Problem`;
``_practice_bank`` lists them per lesson.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from teachkit.explorers._practice_core import (Mistake, _distinct, _fmt, _p, _phi_table, _plan,
                                               _redraw, _table)


# --------------------------------------------------------------------------------------
# Lesson 04 - planning: how many events
# --------------------------------------------------------------------------------------

def _q04_events_hr(rng):
    from teachkit import design

    plan = _plan()
    base_hr, alpha, power = plan.hazard_ratio, plan.alpha, plan.power
    base = design.events_required(base_hr, alpha=alpha, power=power)

    def make(rng):
        return round(float(rng.choice(np.r_[np.arange(0.45, 0.56, 0.01), np.arange(0.61, 0.81, 0.01)])), 2)

    hr = make(rng)
    answer = float(design.events_required(hr, alpha=alpha, power=power).events)
    tol = 1.0
    ratio = math.log(base_hr) / math.log(hr)
    mistakes = _distinct(answer, [
        Mistake(base.events * ratio, "The events grow with the <b>square</b> of the ratio of the logs: "
                f"(log {base_hr} / log {hr})² = {ratio ** 2:.3f}, not {ratio:.3f}."),
        Mistake(base.events / ratio ** 2, "The ratio is upside down: a hazard ratio closer to 1 is a smaller "
                "effect and needs <i>more</i> events."),
        Mistake(base.events * ((1 - base_hr) / (1 - hr)) ** 2, "Schoenfeld's formula has the logarithm of the "
                "hazard ratio, not 1 − HR: (log HR)² in the denominator."),
    ], tol)
    return dict(
        prompt=_p(f"With a one-sided alpha of {alpha:g} and {power:.0%} power (one look at the data, two equal "
                  f"arms), a trial hoping for a hazard ratio of {base_hr:g} needs <b>{base.events:.1f} events</b>.",
                  f"How many events does it need if it hopes for a hazard ratio of <b>{hr:.2f}</b> instead?"),
        answer=answer, tolerance=tol, unit="events", label="Events needed",
        hint=_p("In Schoenfeld's formula only (log HR)² changes: D = 4 (z<sub>1−α</sub> + z<sub>1−β</sub>)² / "
                f"(log HR)². So multiply {base.events:.1f} by (log {base_hr:g} / log {hr:.2f})²."),
        worked=_p(f"{base.events:.1f} × (log {base_hr:g} / log {hr:.2f})² = {base.events:.1f} × "
                  f"({math.log(base_hr):.4f} / {math.log(hr):.4f})² = <b>{answer:.1f} events</b>.",
                  "A hazard ratio closer to 1 is a smaller effect: harder to tell from chance, so more events."),
        mistakes=mistakes, data={"hazard_ratio": hr, "base_events": float(base.events)})


def _q04_event_probability(rng):
    from teachkit import design

    s2 = round(float(rng.uniform(0.35, 0.75)), 2)
    years = float(rng.choice([1.0, 1.5, 2.5, 3.0, 4.0]))
    lam = design.hazard_from_survival(s2, 2)
    answer = 100.0 * float(design.event_probability(years, lam))
    tol = 0.5
    mistakes = _distinct(answer, [
        Mistake(100 * (1 - s2), f"That is the share with an event by <b>2</b> years. The question asks about "
                f"{_fmt(years)} years: 1 − S({_fmt(years)}), with S(t) = {s2}^(t/2) under a constant hazard."),
        Mistake(100 * (1 - s2) * years / 2, "Events do not accumulate in a straight line: with a constant "
                "hazard the curve S(t) = e^(−λt) bends, so scale the hazard, not the share."),
        Mistake(100 * s2 ** (years / 2), "That is the share still event-free. The share with an event is 1 minus it."),
    ], tol)
    return dict(
        prompt=_p(f"Disease-free survival at 2 years is <b>{s2:.0%}</b> on chemotherapy. Assume a constant "
                  "hazard (exponential survival).",
                  f"What percentage of patients followed for <b>{_fmt(years)} years</b> has an event?"),
        answer=answer, tolerance=tol, unit="%", label="Patients with an event (%)",
        hint=_p(f"A constant hazard: λ = −ln S(2) / 2, and S(t) = e^(−λt). So S({_fmt(years)}) = "
                f"{s2}^({_fmt(years)}/2); the share with an event is 1 − S({_fmt(years)})."),
        worked=_p(f"λ = −ln {s2} / 2 = {lam:.4f} a year; S({_fmt(years)}) = e^(−{lam:.4f} × {_fmt(years)}) = "
                  f"{math.exp(-lam * years):.4f}, so <b>{answer:.1f}%</b> have an event."),
        mistakes=mistakes, data={"s2": s2, "years": years})


def _q04_patients(rng):
    events = int(rng.integers(80, 200))
    p = round(float(rng.uniform(0.35, 0.8)), 2)
    answer = events / p
    tol = 1.0
    mistakes = _distinct(answer, [
        Mistake(events * p, f"Each patient gives an event with probability {p:.2f}: the patients needed are "
                "<i>more</i> than the events, so divide by it."),
        Mistake(events / (1 - p), f"{1 - p:.2f} is the chance of <i>no</i> event by the analysis; divide by "
                f"the chance of an event, {p:.2f}."),
    ], tol)
    return dict(
        prompt=_p(f"A trial needs <b>{events} events</b>. By the analysis, each patient will have had an event "
                  f"with probability <b>{p:.2f}</b>.", "About how many patients must it enrol?"),
        answer=answer, tolerance=tol, unit="patients", label="Patients needed",
        hint=_p("Expected events = patients × probability of an event. Solve for the patients."),
        worked=_p(f"{events} / {p:.2f} = <b>{answer:.1f}</b>, so about {math.ceil(answer - 1e-9)} patients.",
                  "This is why a trial is planned in events: the patients follow from how likely an event is by "
                  "the analysis, which depends on accrual and follow-up."),
        mistakes=mistakes, data={"events": events, "p": p})


def _q04_drift(rng):
    from teachkit import sequential

    events = int(rng.integers(50, 200))
    hr = round(float(rng.uniform(0.5, 0.85)), 2)
    answer = float(sequential.drift_from_hazard_ratio(hr, events))
    tol = 0.01
    power = float(ndtr(answer - 1.959963984540054))
    mistakes = _distinct(answer, [
        Mistake(-math.log(hr) * math.sqrt(events), "The factor r(1 − r) = 1/4 (two equal arms) is missing: "
                "the mean is −log HR × √(D/4)."),
        Mistake((1 - hr) * math.sqrt(events / 4), "The formula uses the logarithm of the hazard ratio: "
                f"−log {hr:.2f} = {-math.log(hr):.4f}, not 1 − {hr:.2f}."),
        Mistake(-math.log10(hr) * math.sqrt(events / 4), "log here is the natural logarithm (ln), not log "
                "base 10."),
    ], tol)
    return dict(
        prompt=_p(f"A trial with two equal arms analyses after <b>{events} events</b>; the true hazard ratio is "
                  f"<b>{hr:.2f}</b>.",
                  "What is the mean of its log-rank Z: −log(HR) √(D r (1 − r))?"),
        answer=answer, tolerance=tol, label="Mean of Z",
        hint=_p(f"r = 1/2, so r(1 − r) = 1/4 and √(D/4) = √({events}/4) = {math.sqrt(events / 4):.3f}. "
                "log is the natural logarithm."),
        worked=_p(f"−ln {hr:.2f} × √({events}/4) = {-math.log(hr):.4f} × {math.sqrt(events / 4):.3f} = "
                  f"<b>{answer:.2f}</b>.",
                  f"The power at one-sided alpha 0.025 is then Φ({answer:.2f} − 1.96) = {power:.0%}: "
                  "the chance that Z lands above 1.96."),
        mistakes=mistakes, data={"events": events, "hazard_ratio": hr})


# --------------------------------------------------------------------------------------
# Lesson 05 - looking early
# --------------------------------------------------------------------------------------

def _q05_alpha_increment(rng):
    from teachkit import sequential

    k = int(rng.choice([3, 4]))
    spending = str(rng.choice(["obrien-fleming", "pocock"]))
    fractions = np.round(np.cumsum(rng.uniform(0.6, 1.4, k)), 2)
    fractions = tuple(float(f) for f in np.round(fractions / fractions[-1], 2))
    if len(set(fractions)) < k or fractions[0] < 0.1:
        fractions = tuple(float(f) for f in np.round(np.arange(1, k + 1) / k, 2))
    d = sequential.group_sequential_design(list(fractions), alpha=0.025, spending=spending)
    look = int(rng.integers(2, k + 1))
    cumulative = [float(f"{a:.5f}") for a in d.alpha_spent]
    answer = cumulative[look - 1] - cumulative[look - 2]
    tol = 0.000005
    mistakes = _distinct(answer, [
        Mistake(cumulative[look - 1], "That is the <b>cumulative</b> alpha spent by this look (this look and "
                "all before it). Subtract what was spent by the previous look."),
        Mistake(0.025 / k, "Spending is not shared equally: the spending function decides how much of the "
                "0.025 is used by each information fraction."),
    ], tol)
    name = {"obrien-fleming": "O'Brien-Fleming-type", "pocock": "Pocock-type"}[spending]
    table = _table(["look", "information fraction t", "alpha spent by this look (cumulative)"],
                   [[f"{i + 1}", f"{t:.2f}", f"{a:.5f}"] for i, (t, a) in enumerate(zip(fractions, cumulative))],
                   caption=f"A design with {k} looks, {name} spending, one-sided alpha 0.025")
    return dict(
        prompt=table + _p(f"How much alpha is spent at look <b>{look}</b> alone?"),
        answer=answer, tolerance=tol, label=f"Alpha spent at look {look}",
        hint=_p("The table is cumulative: the alpha used by look k is what is spent by look k minus what was "
                "spent by look k − 1."),
        worked=_p(f"{cumulative[look - 1]:.5f} − {cumulative[look - 2]:.5f} = <b>{answer:.5f}</b>."),
        mistakes=mistakes, data={"fractions": fractions, "spending": spending, "look": look})


def _q05_pocock(rng):
    from teachkit import sequential

    t = float(rng.choice([0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8]))
    alpha = 0.025
    answer = float(sequential.pocock_spending(t, alpha=alpha))
    tol = 0.00005
    mistakes = _distinct(answer, [
        Mistake(alpha * t, "That spends the alpha in proportion to t. Pocock-type spending is α log(1 + (e − 1) t): "
                "more than that early on."),
        Mistake(alpha * math.log(1 + t), "The factor (e − 1) is missing inside the logarithm: at t = 1 it "
                "makes the spending exactly α."),
        Mistake(alpha * math.log10(1 + (math.e - 1) * t), "log here is the natural logarithm (ln)."),
    ], tol)
    return dict(
        prompt=_p(f"Pocock-type spending: α(t) = α log(1 + (e − 1) t), with one-sided α = {alpha}.",
                  f"How much alpha is spent by information fraction <b>t = {t:g}</b> (cumulative)?"),
        answer=answer, tolerance=tol, label="Alpha spent by t",
        hint=_p(f"e − 1 = 1.71828. Compute 1 + 1.71828 × {t:g}, take its natural log, multiply by {alpha}."),
        worked=_p(f"{alpha} × ln(1 + 1.71828 × {t:g}) = {alpha} × ln({1 + (math.e - 1) * t:.5f}) = "
                  f"<b>{answer:.5f}</b>.",
                  f"An O'Brien-Fleming-type function would have spent only "
                  f"{float(sequential.obrien_fleming_spending(t, alpha=alpha)):.5f} by then."),
        mistakes=mistakes, data={"t": t})


def _q05_first_crossing(rng):
    from teachkit import sequential

    def make(rng):
        k = int(rng.choice([3, 4]))
        spending = str(rng.choice(["obrien-fleming", "pocock"]))
        d = sequential.group_sequential_design(list(np.arange(1, k + 1) / k), alpha=0.025, spending=spending)
        c = np.round(d.z_efficacy, 2)
        z = np.round(np.cumsum(rng.normal(0.7, 0.6, k)) / np.sqrt(np.arange(1, k + 1)) + rng.normal(0.8, 0.6), 2)
        crossed = [i for i in range(k) if z[i] >= c[i]]
        answer = crossed[0] + 1 if crossed else 0
        naive = [i for i in range(k) if z[i] >= 1.96]
        naive_answer = naive[0] + 1 if naive else 0
        if naive_answer == answer or np.any(np.abs(z - c) < 0.03):
            return None
        return k, spending, c, z, answer, naive_answer

    k, spending, c, z, answer, naive_answer = _redraw(rng, make, lambda out: out is not None)
    name = {"obrien-fleming": "O'Brien-Fleming-type", "pocock": "Pocock-type"}[spending]
    largest = int(np.argmax(z)) + 1
    mistakes = [Mistake(naive_answer, "That compares Z with 1.96, the threshold of a single look. With several "
                        "looks each one has its own, stricter boundary: compare with the boundary row.")]
    if largest not in (answer, naive_answer):
        mistakes.append(Mistake(largest, "The trial stops at the <b>first</b> look whose Z reaches its boundary, "
                                "not at the look with the largest Z."))
    if answer != 0:
        mistakes.append(Mistake(0, f"At look {answer}, Z = {z[answer - 1]:.2f} reaches the boundary "
                                f"{c[answer - 1]:.2f}: the trial stops there."))
    table = _table(["look", *[f"{i + 1}" for i in range(k)]],
                   [["efficacy boundary (Z)", *[f"{x:.2f}" for x in c]], ["observed Z", *[f"{x:.2f}" for x in z]]],
                   caption=f"{k} equally spaced looks, {name} boundaries", align="l" + "r" * k)
    return dict(
        prompt=table + _p("At which look does the trial stop for benefit? Type the look's number, or 0 if it "
                          "never stops."),
        answer=answer, tolerance=0.0, label="Look (0 if none)",
        hint=_p("Go look by look from the first: the trial stops at the first look whose observed Z is at or "
                "above that look's boundary."),
        worked=_p((f"Look <b>{answer}</b>: Z = {z[answer - 1]:.2f} ≥ {c[answer - 1]:.2f}; every earlier Z was "
                   "below its boundary." if answer else
                   "<b>0</b>: no observed Z reaches its boundary, so the trial runs to the end.")),
        mistakes=_distinct(answer, mistakes, 0.0, gap=0.5),
        data={"boundaries": c.tolist(), "z": z.tolist(), "spending": spending})


# --------------------------------------------------------------------------------------
# Lesson 06 - the 2019 interim
# --------------------------------------------------------------------------------------

def _q06_b_value(rng):
    from teachkit import sequential

    t = round(float(rng.uniform(0.3, 0.8)), 2)
    z = round(float(rng.uniform(0.5, 2.8)), 2)
    answer = float(sequential.b_value(z, t))
    tol = 0.005
    mistakes = _distinct(answer, [
        Mistake(z * t, f"B multiplies Z by the <b>square root</b> of t: √{t:.2f} = {math.sqrt(t):.4f}."),
        Mistake(z / math.sqrt(t), "That divides by √t; the B-value multiplies: B = Z √t."),
    ], tol)
    return dict(
        prompt=_p(f"At an interim look at information fraction <b>t = {t:.2f}</b>, the log-rank <b>Z = {z:.2f}</b>.",
                  "What is the B-value?"),
        answer=answer, tolerance=tol, label="B-value",
        hint=_p("B(t) = Z √t: the Z scaled back to the information seen so far."),
        worked=_p(f"B = {z:.2f} × √{t:.2f} = {z:.2f} × {math.sqrt(t):.4f} = <b>{answer:.3f}</b>.",
                  "B moves like a random walk whose average slope, the drift, is the true effect: that is what "
                  "makes its future predictable on average."),
        mistakes=mistakes, data={"t": t, "z": z})


def _q06_conditional_power(rng):
    from teachkit import sequential

    c = round(float(_plan().design.z_efficacy[-1]), 2)
    t = round(float(rng.uniform(0.35, 0.75)), 2)
    z = round(float(rng.uniform(0.6, 2.2)), 2)
    b = z * math.sqrt(t)
    answer = float(sequential.conditional_power(z, t, c, drift="trend"))
    theta = b / t
    x = (b + theta * (1 - t) - c) / math.sqrt(1 - t)
    tol = 0.02
    mistakes = _distinct(answer, [
        Mistake(float(ndtr((b - c) / math.sqrt(1 - t))), "That assumes no effect from now on (drift 0). The "
                "question asks under the <b>current trend</b>: the drift is θ = B/t."),
        Mistake(float(ndtr(b + theta * (1 - t) - c)), "The division by √(1 − t) is missing: the future part of "
                "B has standard deviation √(1 − t)."),
        Mistake(float(ndtr((b + theta - c) / math.sqrt(1 - t))), "The drift adds θ × (1 − t), for the "
                "information still to come, not θ."),
    ], tol)
    return dict(
        prompt=_p(f"An interim look at <b>t = {t:.2f}</b> gives <b>Z = {z:.2f}</b>, so B = Z√t = {b:.3f}. The final "
                  f"efficacy boundary is <b>c = {c:.2f}</b>.",
                  "Under the current trend (drift θ = B/t), what is the conditional power: "
                  "CP = Φ((B + θ(1 − t) − c) / √(1 − t))?") + _phi_table(x, rng),
        answer=answer, tolerance=tol, label="Conditional power (0 to 1)",
        hint=_p(f"θ = B/t = {b:.3f}/{t:.2f}. Then compute the bracket, divide by √(1 − t) = {math.sqrt(1 - t):.3f}, "
                "and read Φ of it in the table."),
        worked=_p(f"θ = {b:.3f}/{t:.2f} = {theta:.3f}; (B + θ(1 − t) − c)/√(1 − t) = ({b:.3f} + {theta * (1 - t):.3f} − "
                  f"{c:.2f}) / {math.sqrt(1 - t):.3f} = {x:.3f}; CP = Φ({x:.3f}) = <b>{answer:.2f}</b>.",
                  "Conditional power answers 'if we go on, how likely is a significant end?'. It is a tool for "
                  "futility, never a licence to stop for benefit."),
        mistakes=mistakes, data={"t": t, "z": z, "c": c})


_DECISION = ("Stop for benefit: the efficacy boundary is crossed",
             "Stop for futility: Z is below the futility boundary",
             "Neither: continue the trial")


def _q06_decision(rng):
    plan = _plan()

    def make(rng):
        events = int(rng.integers(30, int(plan.events_planned) - 15))
        z = round(float(rng.uniform(-0.5, 4.0)), 2)
        r = plan.interim_report(events=events, z=z)
        if min(abs(z - r.z_efficacy), abs(z - r.z_futility)) < 0.05:
            return None
        return events, z, r

    events, z, r = _redraw(rng, make, lambda out: out is not None)
    answer = _DECISION[0] if r.efficacy_met else _DECISION[1] if r.futility_met else _DECISION[2]

    def why(option):
        if r.efficacy_met:
            return f"Z = {z:.2f} is at or above the efficacy boundary {r.z_efficacy:.2f}: the rule for benefit is met."
        if r.futility_met:
            return f"Z = {z:.2f} is below the futility boundary {r.z_futility:.2f}: the hoped-for benefit has become " \
                   "implausible, and the rule for futility is met."
        if option == _DECISION[0]:
            return f"Z = {z:.2f} is below the efficacy boundary {r.z_efficacy:.2f}. A Z above 1.96 is not enough at " \
                   "an interim look: its boundary is stricter."
        return f"Z = {z:.2f} is above the futility boundary {r.z_futility:.2f}: the data are still compatible with " \
               "the hoped-for benefit."

    return dict(
        kind="choice", options=_DECISION,
        prompt=_p(f"A look at <b>{events}</b> of {plan.events_planned:g} planned events. Efficacy boundary: "
                  f"Z ≥ <b>{r.z_efficacy:.2f}</b>; futility boundary: Z < <b>{r.z_futility:.2f}</b>. The log-rank "
                  f"<b>Z = {z:.2f}</b>.", "What do the rules say?"),
        answer=answer, label="The rules say",
        hint=_p("Compare Z with both boundaries: at or above the efficacy boundary, stop for benefit; below the "
                "futility boundary, stop for futility; in between, continue."),
        worked=_p(why(answer) + " The committee may still weigh other evidence: boundaries are guidelines."),
        mistakes=tuple(Mistake(o, why(o)) for o in _DECISION if o != answer),
        data={"events": events, "z": z, "z_efficacy": r.z_efficacy, "z_futility": r.z_futility})


# --------------------------------------------------------------------------------------
# Lesson 07 - after an early stop
# --------------------------------------------------------------------------------------

def _q07_ci_ratio(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 300))
    est = sequential.hazard_ratio_from_z(0.0, events)        # the width does not depend on the estimate
    answer = est.ci_upper / est.ci_lower
    tol = 0.01
    mistakes = _distinct(answer, [
        Mistake(math.exp(2 * 1.96 / math.sqrt(events)), "The standard error of log HR is 2/√D with two equal "
                "arms (not 1/√D): the interval spans ±1.96 × 2/√D, a total of 4 × 1.96/√D."),
        Mistake(math.exp(4 * 1.96 / events), "Divide by the <b>square root</b> of the events."),
    ], tol)
    return dict(
        prompt=_p(f"A trial with two equal arms ends with <b>{events} events</b>. Its 95% confidence interval for the "
                  "hazard ratio spans a factor upper/lower ≈ exp(4 × 1.96 / √D).",
                  "How wide is it: what is upper / lower?"),
        answer=answer, tolerance=tol, label="Upper limit / lower limit",
        hint=_p(f"√{events} = {math.sqrt(events):.3f}; 4 × 1.96 = 7.84."),
        worked=_p(f"exp(7.84 / {math.sqrt(events):.3f}) = <b>{answer:.2f}</b>: the upper limit is {answer:.2f} times "
                  "the lower, whatever the estimate.",
                  "Fewer events, wider interval: a trial stopped early has a wide one."),
        mistakes=mistakes, data={"events": events})


def _q07_ci_lower(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 250))
    hr = round(float(rng.uniform(0.5, 0.95)), 2)
    z = -math.log(hr) * math.sqrt(events / 4)
    est = sequential.hazard_ratio_from_z(z, events)
    answer = est.ci_lower
    tol = 0.005
    se = 2 / math.sqrt(events)
    mistakes = _distinct(answer, [
        Mistake(hr - 1.96 * se, "The interval is built on the <b>log</b> scale: log HR − 1.96 × SE, then exp(). "
                "Subtracting from the HR itself gives a symmetric, wrong interval."),
        Mistake(hr * math.exp(-1.96 / math.sqrt(events)), "The standard error of log HR is 2/√D with two equal "
                "arms, not 1/√D."),
        Mistake(est.ci_upper, "That is the upper limit: exp(log HR <b>+</b> 1.96 × SE)."),
    ], tol)
    return dict(
        prompt=_p(f"The estimated hazard ratio is <b>{hr:.2f}</b> after <b>{events} events</b> (two equal arms). "
                  "The standard error of log HR is about 2/√D.",
                  "What is the <b>lower</b> limit of its 95% confidence interval?"),
        answer=answer, tolerance=tol, label="Lower limit",
        hint=_p(f"On the log scale: ln {hr:.2f} − 1.96 × 2/√{events}; then take exp()."),
        worked=_p(f"ln {hr:.2f} = {math.log(hr):.4f}; 1.96 × 2/√{events} = {1.96 * se:.4f}; exp({math.log(hr):.4f} − "
                  f"{1.96 * se:.4f}) = <b>{answer:.2f}</b> (upper limit {est.ci_upper:.2f})."),
        mistakes=mistakes, data={"events": events, "hazard_ratio": hr})


def _q07_events_for_width(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 160))
    factor = float(rng.choice([2.0, 3.0]))
    now = sequential.hazard_ratio_from_z(0.0, events)
    log_width = math.log(now.ci_upper / now.ci_lower)
    # the events whose interval is `factor` times narrower on the log scale: width ~ 1/sqrt(D)
    answer = events * (log_width / (log_width / factor)) ** 2
    check_width = math.log(sequential.hazard_ratio_from_z(0.0, answer).ci_upper /
                           sequential.hazard_ratio_from_z(0.0, answer).ci_lower)
    assert abs(check_width * factor - log_width) < 1e-9
    tol = 1.0
    mistakes = _distinct(answer, [
        Mistake(events * factor, f"The width shrinks with the <b>square root</b> of the events: {factor:g} times "
                f"narrower needs {factor:g}² = {factor ** 2:g} times the events."),
        Mistake(events * math.sqrt(factor), "The other way round: width ∝ 1/√D, so D grows with the square of the "
                "narrowing."),
    ], tol)
    return dict(
        prompt=_p(f"A trial ended with <b>{events} events</b>. Its confidence interval for log HR has width "
                  f"4 × 1.96/√D = {log_width:.3f}.",
                  f"How many events would make that width <b>{factor:g} times narrower</b>?"),
        answer=answer, tolerance=tol, unit="events", label="Events needed",
        hint=_p("The width is proportional to 1/√D. Which D makes √D grow by the factor?"),
        worked=_p(f"√D must grow {factor:g} times, so D grows {factor ** 2:g} times: {events} × {factor ** 2:g} = "
                  f"<b>{answer:.0f} events</b>.",
                  "Precision is expensive: halving the interval takes four times the events."),
        mistakes=mistakes, data={"events": events, "factor": factor})
