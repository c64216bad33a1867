"""teachkit.design against R rpact, closed forms and the AALL1331 design."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import integrate, stats

from teachkit import design as ds
from teachkit import sequential as sq

DATA = Path(__file__).resolve().parent / "data"
RPACT = json.loads((DATA / "group_sequential_rpact.json").read_text())
EXTRA = json.loads((DATA / "sequential_rpact_extra.json").read_text())
SURV = EXTRA["survival"]
LAMBDA = -math.log(0.45) / 2          # control hazard: 2-year DFS 45% (Methods, Statistical Analysis)


# ---------------------------------------------------------------- events ----

def test_schoenfeld_fixed_121_03():
    e = ds.events_required(0.58, alpha=0.025, power=0.85)
    assert e.events == pytest.approx(RPACT["events_fixed_hr058"], abs=1e-6)
    assert round(e.events, 2) == 121.03
    assert e.events_rounded == 122
    za, zb = stats.norm.isf(0.025), stats.norm.ppf(0.85)
    assert e.events == pytest.approx((za + zb) ** 2 / (0.25 * math.log(0.58) ** 2), rel=1e-12)
    assert float(e) == e.events
    assert f"{e:.2f}" == "121.03" and round(e, 1) == 121.0 and f"{e}" == repr(e)



# ------------------------------------------------ events_required is a number

def test_events_required_is_a_float_that_explains_itself():
    e = ds.events_required(0.58, alpha=0.025, power=0.85)
    ref = RPACT["events_fixed_hr058"]                                  # rpact, not teachkit
    assert isinstance(e, float) and isinstance(e, ds.EventsRequired)
    assert float(e) == e.events and type(float(e)) is float
    assert e == pytest.approx(ref, abs=1e-6)
    # the explanation is still there
    assert e.events_fixed == e.events and e.inflation_factor == 1.0 and e.method == "schoenfeld"
    assert repr(e).startswith("EventsRequired(events=121.03, fixed=121.03") and "121.03" in e.table()
    assert "<pre>" in e._repr_html_() and e.to_frame().shape == (1, 10)


@pytest.mark.parametrize("op, expected", [
    (lambda e: e - 121, lambda v: v - 121),
    (lambda e: 121 - e, lambda v: 121 - v),
    (lambda e: e + 1, lambda v: v + 1),
    (lambda e: 2 * e, lambda v: 2 * v),
    (lambda e: e / 2, lambda v: v / 2),
    (lambda e: e ** 0.5, lambda v: v ** 0.5),
    (lambda e: -e, lambda v: -v),
    (lambda e: abs(e), lambda v: abs(v)),
    (lambda e: e // 1, lambda v: v // 1),
    (lambda e: e % 1, lambda v: v % 1),
])
def test_events_required_arithmetic_gives_plain_floats(op, expected):
    e = ds.events_required(0.58)
    v = RPACT["events_fixed_hr058"]
    got = op(e)
    assert type(got) is float                     # not an EventsRequired: the explanation is gone
    assert got == pytest.approx(expected(v), rel=1e-9)


def test_events_required_with_numpy_math_round_and_comparisons():
    e = ds.events_required(0.58)
    v = RPACT["events_fixed_hr058"]               # 121.0321...
    assert np.ceil(e) == 122.0 and np.floor(e) == 121.0
    assert type(np.ceil(e)) is np.float64
    assert np.asarray(e).dtype == np.float64 and np.array([e, 1.0]).sum() == pytest.approx(v + 1)
    assert round(e) == 121 and type(round(e)) is int
    assert round(e, 2) == 121.03 and type(round(e, 2)) is float
    assert math.log(e) == pytest.approx(math.log(v), rel=1e-12)
    assert math.ceil(e) == 122 == e.events_rounded
    assert 121 < e < 121.1 and e > 121 and e >= 121.03 and e != 121 and not e <= 121
    assert max(e, 100) is e and sorted([131, e, 100])[1] is e
    assert e == ds.events_required(0.58) and hash(e) == hash(float(e))
    assert sum([e, e]) == pytest.approx(2 * v)


def test_events_required_formats_like_a_float():
    e = ds.events_required(0.58)
    assert f"{e:.1f}" == "121.0" and f"{e:.2f}" == "121.03" and f"{e:8.1f}" == "   121.0"
    assert f"{e:.3g}" == "121" and f"{e:e}" == format(float(e), "e")
    assert "%.1f" % e == "121.0" and "{:.2f}".format(e) == "121.03"
    assert f"{e}" == repr(e) == str(e)           # without a spec it explains itself


def test_events_required_is_frozen_and_survives_copy_and_pickle():
    import copy
    import dataclasses
    import pickle

    e = ds.events_required(0.58, design=sq.group_sequential_design([1 / 3, 2 / 3, 1]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.events = 100.0
    for clone in (pickle.loads(pickle.dumps(e)), copy.deepcopy(e), copy.copy(e)):
        assert type(clone) is ds.EventsRequired and clone == e
        assert clone.inflation_factor == e.inflation_factor and repr(clone) == repr(e)
    moved = dataclasses.replace(e, events=131.0)
    assert moved == 131.0 and moved.events == 131.0 and moved.n_looks == 3


def test_printing_a_difference_prints_a_number():
    import subprocess
    import sys

    code = "import teachkit as tk; print(tk.design.events_required(0.58) - 121)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) == pytest.approx(RPACT["events_fixed_hr058"] - 121, rel=1e-9)


def test_group_sequential_122_53():
    d = sq.group_sequential_design([1 / 3, 2 / 3, 1])
    e = ds.events_required(0.58, design=d)
    assert e.events == pytest.approx(RPACT["events_gs3_asOF_hr058"], abs=1e-4)
    assert e.inflation_factor == pytest.approx(RPACT["asOF_3_equal"]["inflation"], abs=1e-6)
    assert "122.53" in e.table()


def test_freedman_and_allocation_match_rpact():
    assert ds.events_required(0.58, method="freedman").events == pytest.approx(
        SURV["events_fixed_freedman"], abs=1e-6)
    # rpact allocationRatioPlanned = 2 -> two thirds on the experimental arm
    assert ds.events_required(0.58, allocation=2 / 3).events == pytest.approx(
        SURV["events_fixed_allocation_2to1"], abs=1e-6)


def test_events_with_futility_is_a_fixed_point():
    d = sq.group_sequential_design([1 / 3, 2 / 3, 1])
    e = ds.events_required(0.58, design=d, futility_alpha=0.024)
    theta = sq.drift_from_hazard_ratio(0.58, e.events)
    with_rule = sq.group_sequential_design([1 / 3, 2 / 3, 1], futility_alpha=0.024, futility_drift=theta)
    assert with_rule.power(theta) == pytest.approx(0.85, abs=1e-8)
    assert 122.53 < e.events < 131
    # binding: the efficacy boundaries count on the rule, so fewer events are needed
    b = ds.events_required(0.58, design=d, futility_alpha=0.024, binding_futility=True)
    theta_b = sq.drift_from_hazard_ratio(0.58, b.events)
    bound = sq.group_sequential_design([1 / 3, 2 / 3, 1], futility_alpha=0.024, futility_drift=theta_b,
                                       binding_futility=True)
    assert bound.power(theta_b) == pytest.approx(0.85, abs=1e-8)
    assert b.events < e.events
    assert "binding" in b.table()


def test_why_131_events():
    """Brown et al. 2021: 131 events planned (Results) for HR 0.58, 85% power, one-sided .025,
    2 interim analyses with O'Brien-Fleming spending and futility at .024 (Methods)."""
    ex = ds.explain_planned_events(131, 0.58, 0.025, 0.85, 0.024)
    rows = {r[0]: r for r in ex.rows}
    # standard calculations, checked against rpact
    assert rows["Schoenfeld, fixed design"][1] == pytest.approx(RPACT["events_fixed_hr058"], abs=1e-6)
    assert rows["Schoenfeld, looks 0.333/0.667/1"][1] == pytest.approx(RPACT["events_gs3_asOF_hr058"], abs=1e-4)
    assert rows["Freedman, fixed design"][1] == pytest.approx(SURV["events_fixed_freedman"], abs=1e-6)
    # power that 131 events give, against rpact getPowerSurvival (futility obeyed / no rule)
    p = EXTRA["power_131"]
    for key, label in (("schoenfeld_equal", "Schoenfeld, looks 0.333/0.667/1"),
                       ("schoenfeld_half", "Schoenfeld, looks 0.5/0.75/1"),
                       ("freedman_equal", "Freedman, looks 0.333/0.667/1"),
                       ("freedman_half", "Freedman, looks 0.5/0.75/1")):
        assert rows[label + ", futility .024"][2] == pytest.approx(p[key][0], abs=1e-4)
        assert rows[label][2] == pytest.approx(p[key][1], abs=1e-4)
    # the fixed points (the futility rule's drift is the design effect at D events), against
    # rpact's getSampleSizeSurvival iterated to the same fixed point
    ef = EXTRA["events_futility"]
    for key, label in (("schoenfeld_equal_nonbinding", "Schoenfeld, looks 0.333/0.667/1, futility .024"),
                       ("schoenfeld_equal_binding", "Schoenfeld, looks 0.333/0.667/1, binding futility .024"),
                       ("freedman_equal_binding", "Freedman, looks 0.333/0.667/1, binding futility .024"),
                       ("freedman_half_nonbinding", "Freedman, looks 0.5/0.75/1, futility .024")):
        assert rows[label][1] == pytest.approx(ef[key], abs=1e-3)
    # the combination that reproduces 131: Freedman's variance, two equally spaced interim
    # looks, futility at .024 binding
    best = ex.rows[0]
    assert best[0] == "Freedman, looks 0.333/0.667/1, binding futility .024"
    assert round(best[1]) == 131
    theta = (1 - 0.58) / (1 + 0.58) * math.sqrt(best[1])
    check = sq.group_sequential_design([1 / 3, 2 / 3, 1], futility_alpha=0.024, futility_drift=theta,
                                       binding_futility=True)
    assert check.power(theta) == pytest.approx(0.85, abs=1e-8)
    # Schoenfeld with the planned design (equal looks + futility) needs 126.25, not 131
    assert rows["Schoenfeld, looks 0.333/0.667/1, futility .024"][1] == pytest.approx(126.25, abs=0.01)
    # ...and 220 patients over 4.5 years with one more year of follow-up produce ~131
    assert ds.expected_events(5.5, 220, 4.5, LAMBDA, 0.58) == pytest.approx(131.5, abs=0.1)
    assert "calculation" in ex.table() and ex.to_frame().shape == (len(ex.rows), 3)


# ------------------------------------------------- survival and accrual ----

def test_expected_events_match_rpact_exponential():
    got = ds.expected_events(SURV["times"], 220, 4.5, LAMBDA, 0.58)
    np.testing.assert_allclose(got, SURV["expected_events"], rtol=1e-9)


def test_expected_events_match_rpact_piecewise():
    got = ds.expected_events(SURV["times"], 220, 4.5, [LAMBDA, LAMBDA / 10], 0.58, breakpoints=[2.0])
    # rpact integrates piecewise survival numerically (differences up to 4e-7 relative);
    # teachkit's closed form agrees with scipy quad to 1e-12 (checked below)
    np.testing.assert_allclose(got, SURV["expected_events_piecewise"], rtol=1e-6)
    for c, value in zip(SURV["times"][2:5], got[2:5]):
        def arm_mix(u):
            return 0.5 * (float(ds.event_probability(u, [LAMBDA, LAMBDA / 10], 0.58, breakpoints=[2.0]))
                          + float(ds.event_probability(u, [LAMBDA, LAMBDA / 10], 1.0, breakpoints=[2.0])))
        quad, _ = integrate.quad(lambda e: arm_mix(c - e), 0, min(c, 4.5), points=[c - 2],
                                 epsabs=1e-13, epsrel=1e-13, limit=200)
        assert value == pytest.approx(220 / 4.5 * quad, rel=1e-11)


def test_expected_events_match_rpact_dropout():
    eta = -math.log(1 - 0.05)      # rpact dropoutRate 5% by dropoutTime 1
    got = ds.expected_events(SURV["times"], 220, 4.5, LAMBDA, 0.58, dropout_hazard=eta)
    np.testing.assert_allclose(got, SURV["expected_events_dropout"], rtol=1e-7)


def test_analysis_times_match_rpact():
    got = ds.analysis_times(SURV["gs3_events_per_stage"], 220, 4.5, LAMBDA, 0.58)
    np.testing.assert_allclose(got, SURV["gs3_analysis_times"], rtol=1e-7)
    assert got[-1] - 4.5 == pytest.approx(SURV["gs3_follow_up_time"], rel=1e-6)
    assert isinstance(ds.analysis_times(50.0, 220, 4.5, LAMBDA, 0.58), float)


def test_patients_required_closed_form_and_rpact():
    a, f = 4.5, SURV["gs3_follow_up_time"]
    # rpact: 220 patients and 0.674 years of follow-up give 122.53 events
    assert ds.patients_required(SURV["gs3_events"], a, f, LAMBDA, 0.58) == pytest.approx(220, rel=1e-7)

    def p_event(lam):               # closed form, exponential, uniform accrual
        return 1 - (math.exp(-lam * f) - math.exp(-lam * (a + f))) / (lam * a)

    expected = 100 / (0.5 * p_event(LAMBDA) + 0.5 * p_event(0.58 * LAMBDA))
    assert ds.patients_required(100, a, f, LAMBDA, 0.58) == pytest.approx(expected, rel=1e-12)
    e = ds.events_required(0.58)
    assert ds.patients_required(e, a, f, LAMBDA, 0.58) == pytest.approx(
        ds.patients_required(e.events, a, f, LAMBDA, 0.58))


def test_event_probability_closed_forms():
    u = np.array([0.0, 0.5, 2.0, 7.0])
    np.testing.assert_allclose(ds.event_probability(u, LAMBDA), 1 - np.exp(-LAMBDA * u), rtol=1e-12, atol=1e-15)
    assert ds.event_probability(2.0, LAMBDA) == pytest.approx(0.55, abs=1e-12)     # 2-year DFS 45%
    assert ds.event_probability(2.0, LAMBDA, 0.58) == pytest.approx(1 - 0.45 ** 0.58, abs=1e-12)
    eta = 0.1
    np.testing.assert_allclose(ds.event_probability(u, LAMBDA, dropout_hazard=eta),
                               LAMBDA / (LAMBDA + eta) * (1 - np.exp(-(LAMBDA + eta) * u)), rtol=1e-12, atol=1e-15)
    # piecewise: numerical integration of the density
    haz, bp = [0.4, 0.05, 0.0], [2.0, 4.0]

    def density(s):
        lam = 0.4 if s < 2 else (0.05 if s < 4 else 0.0)
        cum = 0.4 * min(s, 2) + 0.05 * max(min(s, 4) - 2, 0)
        return lam * math.exp(-cum - eta * s)

    for x in (1.0, 3.0, 6.0):
        val, _ = integrate.quad(density, 0, x, points=[2.0, 4.0], limit=200)
        assert ds.event_probability(x, haz, breakpoints=bp, dropout_hazard=eta) == pytest.approx(val, abs=1e-10)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.05, 1.0), st.floats(0.3, 1.5), st.floats(1.0, 6.0),
       st.lists(st.floats(0.1, 12.0), min_size=2, max_size=6))
def test_expected_events_properties(lam, hr, accrual, times):
    times = np.sort(np.array(times))
    one = ds.expected_events(times, 100, accrual, lam, hr)
    # splitting a constant hazard at arbitrary breakpoints changes nothing
    split = ds.expected_events(times, 100, accrual, [lam, lam, lam], hr, breakpoints=[0.7, 2.5])
    np.testing.assert_allclose(split, one, rtol=1e-10, atol=1e-12)
    assert np.all(np.diff(one) >= -1e-12)
    assert np.all(one <= 100 + 1e-9)
    # brute force: average of F over uniform entry times
    c = times[-1]
    entries = np.linspace(0, min(c, accrual), 20001)
    f = 0.5 * (1 - np.exp(-hr * lam * (c - entries))) + 0.5 * (1 - np.exp(-lam * (c - entries)))
    brute = 100 / accrual * np.trapezoid(f, entries)
    assert one[-1] == pytest.approx(brute, rel=1e-6)


def test_trial_looks_in_calendar_time():
    """220 patients over 4.5 years (Methods; enrolment Jan 2015 - mid 2019) give the 131 events
    about a year after accrual ends; the look at 80 events is expected ~3.9 years in."""
    t = ds.analysis_times([80, 131], 220, 4.5, LAMBDA, 0.58)
    assert ds.expected_events(t, 220, 4.5, LAMBDA, 0.58) == pytest.approx([80, 131], abs=1e-6)
    assert 3.5 < t[0] < 4.5 and 5.3 < t[1] < 5.6


# ------------------------------------------------------------ bad input -----

def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="hazard_ratio"):
        ds.events_required(1.0)
    with pytest.raises(ValueError, match="hazard_ratio"):
        ds.events_required(-0.5)
    with pytest.raises(ValueError, match="alpha"):
        ds.events_required(0.58, alpha=1.5)
    with pytest.raises(ValueError, match="power"):
        ds.events_required(0.58, power=0.0)
    with pytest.raises(ValueError, match="power"):
        ds.events_required(0.58, power=0.01)
    with pytest.raises(ValueError, match="allocation"):
        ds.events_required(0.58, allocation=1.0)
    with pytest.raises(ValueError, match="method"):
        ds.events_required(0.58, method="lakatos")
    with pytest.raises(TypeError, match="design"):
        ds.events_required(0.58, design=[1 / 3, 2 / 3, 1])
    with pytest.raises(ValueError, match="alpha"):
        ds.events_required(0.58, alpha=0.05, design=sq.group_sequential_design([0.5, 1]))
    with pytest.raises(ValueError, match="futility_alpha"):
        ds.events_required(0.58, futility_alpha=0.024)
    with pytest.raises(ValueError, match="binding_futility"):
        ds.events_required(0.58, design=sq.group_sequential_design([0.5, 1]), binding_futility=True)
    with pytest.raises(TypeError, match="hazard_ratio"):
        ds.events_required("0.58")
    with pytest.raises(ValueError, match="breakpoints"):
        ds.expected_events(5, 220, 4.5, [0.4, 0.1], 0.58)
    with pytest.raises(ValueError, match="breakpoints"):
        ds.expected_events(5, 220, 4.5, [0.4, 0.1, 0.1], 0.58, breakpoints=[3, 2])
    with pytest.raises(ValueError, match="control_hazard"):
        ds.expected_events(5, 220, 4.5, -0.4, 0.58)
    with pytest.raises(ValueError, match="accrual_time"):
        ds.expected_events(5, 220, 0, 0.4, 0.58)
    with pytest.raises(ValueError, match="calendar_time"):
        ds.expected_events(-1, 220, 4.5, 0.4, 0.58)
    with pytest.raises(ValueError, match="patients"):
        ds.expected_events(5, -220, 4.5, 0.4, 0.58)
    with pytest.raises(ValueError, match="can never be reached"):
        ds.analysis_times(300, 220, 4.5, 0.4, 0.58)
    with pytest.raises(ValueError, match="survival"):
        ds.hazard_from_survival(1.2, 2)
    with pytest.raises(ValueError, match="follow_up"):
        ds.patients_required(131, 4.5, -1, 0.4, 0.58)


# --------------------------------------------------------------------------
# plateau (mixture cure): issue 13, finding 8
# --------------------------------------------------------------------------

def _cure_survival(pi, lam):
    return lambda u: pi + (1 - pi) * math.exp(-lam * u)


@pytest.mark.parametrize("pi,hr", [(0.40, 0.58), (0.25, 1.0), (0.10, 1.6), (0.0, 0.7)])
def test_cure_event_probability_is_one_minus_survival_without_dropout(pi, hr):
    lam = ds.latency_hazard(0.45, 2.0, pi)
    s0 = _cure_survival(pi, lam)
    u = np.array([0.0, 0.3, 1.0, 2.0, 4.0, 30.0])
    got = ds.event_probability(u, lam, hr, cure_fraction=pi)
    np.testing.assert_allclose(got, [1 - s0(x) ** hr for x in u], atol=1e-10)
    # and S0(2) is the survival it was calibrated to
    assert s0(2.0) == pytest.approx(0.45, abs=1e-12)


def test_cure_event_probability_with_dropout_matches_quad():
    pi, hr, eta = 0.35, 0.6, 0.15
    lam = ds.latency_hazard(0.45, 2.0, pi)
    s0 = _cure_survival(pi, lam)

    def density(s):  # -d S0**hr / ds
        return hr * s0(s) ** (hr - 1) * (1 - pi) * lam * math.exp(-lam * s)

    for u in (0.5, 2.0, 7.0):
        ref = integrate.quad(lambda s: density(s) * math.exp(-eta * s), 0, u, epsabs=1e-13)[0]
        got = float(ds.event_probability(u, lam, hr, dropout_hazard=eta, cure_fraction=pi))
        assert got == pytest.approx(ref, abs=1e-10)


def test_cure_expected_events_control_arm_closed_form():
    # HR = 1: both arms S0; int_lo^c F = (1 - pi) [(c - lo) - (e^{-l lo} - e^{-l c}) / l]
    pi, n, a = 0.4, 220, 4.5
    lam = ds.latency_hazard(0.45, 2.0, pi)
    for c in (1.0, 4.5, 5.5, 12.0):
        lo = max(0.0, c - a)
        ref = n / a * (1 - pi) * ((c - lo) - (math.exp(-lam * lo) - math.exp(-lam * c)) / lam)
        assert float(ds.expected_events(c, n, a, lam, 1.0, cure_fraction=pi)) == pytest.approx(ref, rel=1e-10)


def test_cure_expected_events_match_quad_and_piecewise_latency():
    pi, hr, n, a = 0.4, 0.58, 220, 4.5
    haz, brk = [1.6, 0.7], [1.0]      # piecewise-constant latency hazard

    def big_lambda(u):
        return haz[0] * min(u, 1.0) + haz[1] * max(0.0, u - 1.0)

    def f_arm(u, h):
        return 1 - (pi + (1 - pi) * math.exp(-big_lambda(u))) ** h

    for c in (2.0, 5.5, 9.0):
        lo = max(0.0, c - a)
        ref = n / a * sum(0.5 * integrate.quad(lambda u: f_arm(u, h), lo, c, points=[1.0], epsabs=1e-12)[0]
                          for h in (hr, 1.0))
        got = float(ds.expected_events(c, n, a, haz, hr, breakpoints=brk, cure_fraction=pi))
        assert got == pytest.approx(ref, rel=1e-9)


def test_cure_fraction_zero_is_the_exponential_model():
    lam = ds.hazard_from_survival(0.45, 2)
    c = np.array([2.0, 4.5, 5.5, 8.0])
    np.testing.assert_allclose(ds.expected_events(c, 220, 4.5, lam, 0.58, cure_fraction=0.0),
                               ds.expected_events(c, 220, 4.5, lam, 0.58), rtol=1e-10)
    assert ds.patients_required(131, 4.5, 1.0, lam, 0.58, cure_fraction=0.0) == pytest.approx(
        ds.patients_required(131, 4.5, 1.0, lam, 0.58), rel=1e-10)


def test_cure_events_level_off_at_maximum_events():
    pi, hr = 0.4, 0.58
    lam = ds.latency_hazard(0.45, 2.0, pi)
    top = ds.maximum_events(220, pi, hr)
    assert top == pytest.approx(220 * (0.5 * (1 - pi ** hr) + 0.5 * (1 - pi)), rel=1e-12)
    far = float(ds.expected_events(200.0, 220, 4.5, lam, hr, cure_fraction=pi))
    assert far == pytest.approx(top, rel=1e-9)
    with pytest.raises(ValueError, match="can never be reached"):
        ds.analysis_times(top + 1, 220, 4.5, lam, hr, cure_fraction=pi)
    t = ds.analysis_times(top - 5, 220, 4.5, lam, hr, cure_fraction=pi)
    assert float(ds.expected_events(t, 220, 4.5, lam, hr, cure_fraction=pi)) == pytest.approx(top - 5, abs=1e-6)


def test_aall1331_131_events_unreachable_under_a_plateau():
    """With the published 2-year DFS as plateaus, the analysed patients cannot produce
    131 events however long they are followed; the constant-hazard model says they can."""
    from teachkit import aall1331

    fact = aall1331.fact
    dfs = fact("results.dfs_2y").value
    n = sum(fact("flow.analysed").value.values())
    planned = fact("design.events_planned").value
    s0, s1 = dfs["chemotherapy"], dfs["blinatumomab"]
    hr = math.log(s1) / math.log(s0)                       # PH: S1 = S0 ** HR
    # plateau at the 2-year value (all first events but one within 2 years, Table 2 note b)
    most = ds.maximum_events(n, s0, hr)
    assert 100 < most < planned
    assert most == pytest.approx(n * (1 - (s0 + s1) / 2), rel=1e-12)
    # plateau from the median time to event (6 months): below 131 as well
    median = fact("follow_up.dfs_event_median_months").value / 12
    pi = ds.cure_fraction_from_survival(s0, 2.0, median)
    assert 0 < pi < s0
    assert ds.maximum_events(n, pi, hr) < planned
    # the planners' model (constant hazard, design values): 131 by one year after accrual
    start = np.datetime64(fact("design.randomization_start").value, "D")
    cutoff = np.datetime64(fact("design.analysis_set_cutoff").value, "D")
    final = np.datetime64(fact("design.follow_up_cutoff").value, "D")
    accrual = float((cutoff - start).astype(int)) / 365.25
    at_final = float((final - start).astype(int)) / 365.25
    lam = ds.hazard_from_survival(s0, 2)
    constant = float(ds.expected_events(at_final, n, accrual, lam, hr))
    assert constant > planned
    # under the plateau, the events expected at the final cut-off are near those observed
    lam_c = ds.latency_hazard(s0, 2.0, pi)
    plateau = float(ds.expected_events(at_final, n, accrual, lam_c, hr, cure_fraction=pi))
    observed = sum(sum(fact(f"table2.{k}").value.values()) for k in ("late_treatment_failure", "relapse", "death"))
    assert plateau < planned and abs(plateau - observed) < abs(constant - observed)


def test_power_at_events_closed_form_and_design():
    from statistics import NormalDist

    nd = NormalDist()
    theta = -math.log(0.70) * math.sqrt(131 / 4)
    assert ds.power_at_events(0.70, 131) == pytest.approx(nd.cdf(theta - nd.inv_cdf(0.975)), abs=1e-12)
    one_look = sq.group_sequential_design([1.0])
    assert ds.power_at_events(0.70, 131, design=one_look) == pytest.approx(ds.power_at_events(0.70, 131), abs=1e-6)
    # three equally spaced O'Brien-Fleming-type looks: Brownian motion by Monte Carlo
    gs = sq.group_sequential_design([1 / 3, 2 / 3, 1])
    got = ds.power_at_events(0.70, 131, design=gs)
    rng = np.random.default_rng(13)
    t = np.array([1 / 3, 2 / 3, 1.0])
    incr = rng.standard_normal((200_000, 3)) * np.sqrt(np.diff(np.concatenate(([0.0], t))))
    b = np.cumsum(incr, axis=1) + theta * t
    z = b / np.sqrt(t)
    mc = np.mean(np.any(z >= gs.z_efficacy, axis=1))
    assert abs(got - mc) < 4 * math.sqrt(mc * (1 - mc) / 200_000)
    assert got < ds.power_at_events(0.70, 131) < 0.6


def test_plateau_bad_input():
    with pytest.raises(ValueError, match="cure_fraction"):
        ds.expected_events(5, 220, 4.5, 1.0, 0.58, cure_fraction=1.0)
    with pytest.raises(ValueError, match="cure_fraction"):
        ds.event_probability(1.0, 1.0, cure_fraction=-0.1)
    with pytest.raises(TypeError, match="cure_fraction"):
        ds.patients_required(131, 4.5, 1.0, 1.0, 0.58, cure_fraction="0.4")
    with pytest.raises(ValueError, match="cure_fraction"):
        ds.latency_hazard(0.45, 2, 0.5)
    with pytest.raises(ValueError, match="median_latency"):
        ds.cure_fraction_from_survival(0.45, 2, 5.0)
    with pytest.raises(ValueError, match="patients"):
        ds.maximum_events(0, 0.4, 0.58)
    with pytest.raises(ValueError, match="events"):
        ds.power_at_events(0.7, -1)
    with pytest.raises(TypeError, match="design"):
        ds.power_at_events(0.7, 131, design=[0.5, 1])
