"""teachkit.sequential against R rpact, Monte Carlo, closed forms and the AALL1331 paper."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import integrate, stats

from teachkit import sequential as sq

DATA = Path(__file__).resolve().parent / "data"
RPACT = json.loads((DATA / "group_sequential_rpact.json").read_text())
EXTRA = json.loads((DATA / "sequential_rpact_extra.json").read_text())

TYPES = {"asOF": "obrien-fleming", "asP": "pocock", "asHSD": "hwang-shih-decani",
         "asKD": "power", "OF": "classical-obrien-fleming", "P": "classical-pocock"}


def _cases():
    for source in (RPACT, EXTRA):
        for name, case in source.items():
            if isinstance(case, dict) and "type" in case:
                # rpact's infinite boundaries are written as the string "Infinity"
                yield name, {k: ([float(x) for x in v] if k == "crit" else v) for k, v in case.items()}


CASES = dict(_cases())


def _design(case):
    spending = TYPES[case["type"]]
    parameter = case.get("gammaA") if spending in ("hwang-shih-decani", "power") else None
    kwargs = {}
    fut = case.get("futility")
    if fut is not None and min(fut) > -6:           # rpact writes -6 for "no futility bound"
        kwargs = dict(futility_alpha=0.024, futility_drift=-math.log(0.58) * math.sqrt(131 / 4),
                      binding_futility=case["binding"] == "TRUE")
    return sq.group_sequential_design(case["info"], alpha=0.025, spending=spending,
                                      parameter=parameter, **kwargs)


# ---------------------------------------------------------------- rpact -----

@pytest.mark.parametrize("name", sorted(CASES))
def test_boundaries_match_rpact(name):
    case = CASES[name]
    d = _design(case)
    # rpact's integration tolerance is ~1e-13: where it spends less than 1e-10 at a look
    # (OBF at t = 0.05, 0.1) its boundary is off (stage level 1.49e-12 above the 1.36e-12
    # cumulative alpha it reports); there the exact closed form 2 Phi(-x) is checked instead.
    tiny = np.asarray(case["stage_levels"]) < 1e-10
    np.testing.assert_allclose(d.z_efficacy[~tiny], np.asarray(case["crit"])[~tiny], atol=1e-4, rtol=0)
    if tiny.any():
        first = int(np.argmax(~tiny))
        assert np.all(d.p_efficacy[:first] <= d.alpha_spent[:first] + 1e-300)
        assert d.p_efficacy[0] == pytest.approx(d.alpha_spent[0], rel=1e-9)
    np.testing.assert_allclose(d.p_efficacy, case["stage_levels"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(d.alpha_spent, case["alpha_spent"], atol=1e-6, rtol=0)
    if "futility" in case and min(case["futility"]) > -6:
        np.testing.assert_allclose(d.z_futility[:-1], case["futility"], atol=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_power_drift_and_inflation_match_rpact(name):
    case = CASES[name]
    d = _design(case)
    drift = math.sqrt(case["shift"])
    np.testing.assert_allclose(d.rejection_probabilities(drift), case["power"], atol=1e-4, rtol=0)
    power = case["power"][-1]
    assert d.drift_for_power(power) == pytest.approx(drift, abs=1e-4)
    assert d.inflation_factor(power) == pytest.approx(case["inflation"], abs=1e-4)
    if "asn1" in case:
        # rpact's average sample number is relative to the fixed design
        assert d.expected_information(drift) * case["inflation"] == pytest.approx(case["asn1"], abs=1e-4)
        assert d.expected_information(0.0) * case["inflation"] == pytest.approx(case["asn0"], abs=1e-4)
    if "futility_probabilities" in case and d.has_futility:
        per_look = np.diff(d.futility_probabilities(drift), prepend=0.0)[:-1]
        np.testing.assert_allclose(per_look, case["futility_probabilities"], atol=1e-5)


def test_binding_futility_matches_rpact():
    case = CASES["asOF_3_equal_futility_binding"]
    d = _design(case)
    assert d.binding_futility
    np.testing.assert_allclose(d.z_efficacy, case["crit"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(d.alpha_spent, case["alpha_spent"], atol=1e-6, rtol=0)
    drift = math.sqrt(case["shift"])
    np.testing.assert_allclose(d.rejection_probabilities(drift), case["power"], atol=1e-4, rtol=0)
    # with the rule obeyed, the binding design spends exactly alpha under H0
    assert d.rejection_probabilities(0.0)[-1] == pytest.approx(0.025, abs=1e-7)


def test_trial_interim_boundary_is_p_004():
    """Brown et al. 2021, Results (Early Closure of Randomization): critical P = .004 at 80/131."""
    planned = sq.group_sequential_design([1 / 3, 2 / 3, 1])
    d = planned.at_observed([80 / 131])
    np.testing.assert_allclose(d.information_fractions, [80 / 131, 2 / 3, 1])
    assert d.z_efficacy[0] == pytest.approx(2.6414, abs=1e-4)
    assert d.z_efficacy[0] == pytest.approx(RPACT["asOF_2_061"]["crit"][0], abs=1e-6)
    assert round(float(d.p_efficacy[0]), 3) == 0.004
    # and the two-look version of rpact's reference exactly
    two = sq.group_sequential_design([80 / 131, 1])
    np.testing.assert_allclose(two.z_efficacy, RPACT["asOF_2_061"]["crit"], atol=1e-6)


def test_conditional_power_matches_rpact_at_trial_interim():
    ref = EXTRA["interim"]
    d = sq.group_sequential_design([80 / 131, 1])
    t = 80 / 131
    theta = sq.drift_from_hazard_ratio(0.58, 131)
    assert sq.conditional_power(ref["z"], t, d, drift=theta) == pytest.approx(
        ref["conditional_power_hr058"], abs=1e-6)
    assert sq.conditional_power(ref["z"], t, d, drift="trend") == pytest.approx(
        ref["conditional_power_trend"], abs=1e-6)


# ----------------------------------------------------------- Monte Carlo ----

def _monte_carlo(design, drift, n=1_000_000, seed=20210302):
    rng = np.random.default_rng(seed)
    t = design.information_fractions
    steps = rng.standard_normal((n, t.size)) * np.sqrt(np.diff(t, prepend=0.0)) + drift * np.diff(t, prepend=0.0)
    z = np.cumsum(steps, axis=1) / np.sqrt(t)
    lower = np.where(np.isfinite(design.z_futility), design.z_futility, -np.inf)
    up = z >= design.z_efficacy
    down = (z < lower) & ~up
    stopped = up | down
    first = np.where(stopped.any(axis=1), stopped.argmax(axis=1), t.size)
    rows = np.arange(n)
    hit_up = np.zeros(n, dtype=bool)
    has = first < t.size
    hit_up[has] = up[rows[has], first[has]]
    up_counts = np.bincount(first[hit_up], minlength=t.size + 1)[: t.size]
    down_counts = np.bincount(first[has & ~hit_up], minlength=t.size + 1)[: t.size]
    return up_counts / n, down_counts / n


@pytest.mark.parametrize("drift", [0.0, 3.0])
def test_crossing_probabilities_match_monte_carlo(drift):
    d = sq.group_sequential_design([0.2, 0.35, 0.6, 0.8, 1.0], spending="pocock",
                                   futility_alpha=0.05, futility_drift=3.0)
    mc_up, mc_down = _monte_carlo(d, drift)
    exact_up = np.diff(d.rejection_probabilities(drift), prepend=0.0)
    exact_down = np.diff(d.futility_probabilities(drift), prepend=0.0)
    n = 1_000_000
    for exact, mc in ((exact_up, mc_up), (exact_down, mc_down)):
        se = np.sqrt(exact * (1 - exact) / n)
        assert np.all(np.abs(mc - exact) <= 3 * se + 1e-12), (exact, mc)


# --------------------------------------------------------------- shapes -----

@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.02, 0.98), min_size=0, max_size=9, unique=True),
       st.sampled_from(["obrien-fleming", "pocock", "hwang-shih-decani", "power"]),
       st.floats(0.005, 0.2))
def test_alpha_spent_sums_to_alpha(interims, spending, alpha):
    t = sorted(set(round(x, 3) for x in interims)) + [1.0]
    parameter = {"hwang-shih-decani": -2.0, "power": 2.0}.get(spending)
    d = sq.group_sequential_design(t, alpha=alpha, spending=spending, parameter=parameter)
    assert d.alpha_spent[-1] == alpha
    # the integration reproduces the spent alpha at every look
    np.testing.assert_allclose(d.rejection_probabilities(0.0), d.alpha_spent, atol=1e-7, rtol=0)
    assert np.all(np.diff(d.alpha_spent) >= 0)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0.05, 0.95), min_size=0, max_size=6, unique=True),
       st.sampled_from(["obrien-fleming", "pocock", "classical-pocock"]),
       st.floats(0.6, 0.99), st.booleans())
def test_drift_for_power_inverts_power(interims, spending, power, futility):
    t = sorted(set(round(x, 2) for x in interims)) + [1.0]
    kwargs = dict(futility_alpha=0.05, futility_drift=3.0) if futility and len(t) > 1 else {}
    d = sq.group_sequential_design(t, spending=spending, **kwargs)
    theta = d.drift_for_power(power)
    assert d.power(theta) == pytest.approx(power, abs=1e-9)
    assert d.inflation_factor(power) >= 1 - 1e-6 or d.has_futility


@pytest.mark.parametrize("spending", ["classical-obrien-fleming", "classical-pocock"])
def test_classical_designs_spend_alpha(spending):
    d = sq.group_sequential_design([0.2, 0.45, 0.7, 1.0], spending=spending)
    assert d.rejection_probabilities(0.0)[-1] == pytest.approx(0.025, abs=1e-8)
    if spending == "classical-pocock":
        assert np.ptp(d.z_efficacy) < 1e-12
    else:
        np.testing.assert_allclose(d.z_efficacy * np.sqrt(d.information_fractions),
                                   d.z_efficacy[-1], rtol=1e-12)


@pytest.mark.parametrize("k", [2, 3, 5, 10])
def test_obrien_fleming_decreasing_pocock_nearly_flat(k):
    t = np.arange(1, k + 1) / k
    of = sq.group_sequential_design(t)
    assert np.all(np.diff(of.z_efficacy) < 0)
    poc = sq.group_sequential_design(t, spending="pocock")
    # Pocock-type spending: within 0.2 of flat, and at least 5 times flatter than OBF
    assert np.ptp(poc.z_efficacy) < 0.2
    assert np.ptp(poc.z_efficacy) < np.ptp(of.z_efficacy) / 5


def test_spending_functions_closed_forms():
    t = np.array([0.0, 0.25, 0.5, 1.0])
    a = 0.025
    np.testing.assert_allclose(sq.obrien_fleming_spending(t, a),
                               2 * stats.norm.sf(stats.norm.isf(a / 2) / np.sqrt(np.where(t > 0, t, 1e-300))),
                               atol=1e-15)
    np.testing.assert_allclose(sq.pocock_spending(t, a), a * np.log(1 + (np.e - 1) * t), rtol=1e-14)
    np.testing.assert_allclose(sq.hwang_shih_decani_spending(t, a, 1.0),
                               a * (1 - np.exp(-t)) / (1 - np.exp(-1)), rtol=1e-14)
    np.testing.assert_allclose(sq.hwang_shih_decani_spending(t, a, 0.0), a * t, rtol=1e-14)
    np.testing.assert_allclose(sq.power_spending(t, a, 3.0), a * t ** 3, rtol=1e-14)
    for f in (sq.obrien_fleming_spending, sq.pocock_spending):
        assert f(1.0, a) == pytest.approx(a, abs=1e-15)


def test_one_look_is_the_fixed_test():
    d = sq.group_sequential_design([1.0])
    assert d.z_efficacy[0] == pytest.approx(stats.norm.isf(0.025), abs=1e-12)
    assert d.power(3.0) == pytest.approx(stats.norm.sf(stats.norm.isf(0.025) - 3.0), abs=1e-12)
    assert d.inflation_factor(0.85) == pytest.approx(1.0, abs=1e-9)


def test_ten_looks_uneven_reference():
    # speed is measured by tests/benchmarks/bench_sequential.py, not asserted here
    case = CASES["asOF_10_uneven"]
    d = sq.group_sequential_design(case["info"])
    np.testing.assert_allclose(d.z_efficacy[2:], case["crit"][2:], atol=1e-4)


# ----------------------------------------------------------- monitoring -----

def test_hazard_ratio_from_z_closed_form_and_paper():
    z = stats.norm.isf(0.06)
    hr = sq.hazard_ratio_from_z(z, 80)
    assert hr.estimate == pytest.approx(math.exp(-2 * z / math.sqrt(80)), rel=1e-12)
    assert hr.ci_lower == pytest.approx(math.exp(-2 * z / math.sqrt(80) - 1.959964 * 2 / math.sqrt(80)), rel=1e-6)
    # unequal allocation: scale sqrt(D r (1 - r))
    hr2 = sq.hazard_ratio_from_z(z, 80, allocation=2 / 3)
    assert hr2.estimate == pytest.approx(math.exp(-z / math.sqrt(80 * 2 / 9)), rel=1e-12)
    # the final DFS analysis (Figure 2A): HR 0.70 (0.47-1.03), one-sided P = .03 -- the
    # Z-based HR at the interim (0.71) already sits where the final stratified Cox HR landed
    assert hr.estimate == pytest.approx(0.70, abs=0.01)


def test_b_value_and_predictive_power_against_integration():
    z, t, c = 1.3, 0.5, 2.0
    assert sq.b_value(z, t) == pytest.approx(z * math.sqrt(t))
    b = z * math.sqrt(t)
    # average CP(theta) over the flat-prior posterior theta ~ N(B/t, 1/t)
    post = stats.norm(b / t, math.sqrt(1 / t))
    value, _ = integrate.quad(lambda th: sq.conditional_power(z, t, c, drift=th) * post.pdf(th), -30, 30)
    assert sq.predictive_power(z, t, c) == pytest.approx(value, abs=1e-8)
    # conditional power under H0 by direct Brownian-motion algebra
    assert sq.conditional_power(z, t, c, drift="null") == pytest.approx(
        stats.norm.sf((c - b) / math.sqrt(1 - t)), abs=1e-12)
    # vectorized over z
    zs = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(sq.conditional_power(zs, t, c, drift=2.5),
                               [sq.conditional_power(float(x), t, c, drift=2.5) for x in zs])


def test_interim_report_for_the_trial():
    r = sq.interim_report(80, 131, 0.06, hazard_ratio_design=0.58, futility_alpha=0.024)
    assert r.z == pytest.approx(stats.norm.isf(0.06), abs=1e-12)
    assert round(r.z, 2) == 1.55
    assert r.z_efficacy == pytest.approx(RPACT["asOF_2_061"]["crit"][0], abs=1e-6)
    assert round(r.p_efficacy, 3) == 0.004
    assert not r.efficacy_met and not r.futility_met      # paper: no rule was met
    theta = -math.log(0.58) * math.sqrt(131 / 4)
    assert r.z_futility == pytest.approx(theta * math.sqrt(80 / 131) - stats.norm.isf(0.024), abs=1e-12)
    assert r.p_alternative == pytest.approx(stats.norm.cdf(r.z - theta * math.sqrt(80 / 131)), abs=1e-12)
    c = r.design.z_efficacy[-1]
    assert r.conditional_power_design == pytest.approx(sq.conditional_power(r.z, 80 / 131, c, theta))
    assert r.conditional_power_null < r.conditional_power_trend < r.conditional_power_design
    text = r.table()
    for needle in ("2.6414", "0.0041", "not met", "1.555"):
        assert needle in text
    assert "<table>" in r._repr_html_()
    # the committee's table as a DataFrame
    assert r.to_frame().shape[1] == 2
    # with an earlier look at a third of the events the boundary barely moves (P still .004)
    r2 = sq.interim_report(80, 131, 0.06, hazard_ratio_design=0.58, futility_alpha=0.024,
                           previous_events=[131 / 3])
    assert r2.z_efficacy > r.z_efficacy and round(r2.p_efficacy, 3) == 0.004
    # z given instead of P gives the same report
    r3 = sq.interim_report(80, 131, z=r.z, hazard_ratio_design=0.58, futility_alpha=0.024)
    assert r3.p_one_sided == pytest.approx(0.06, abs=1e-12)


def test_futility_rule_power_views():
    theta = sq.drift_from_hazard_ratio(0.58, 131)
    d = sq.group_sequential_design([1 / 3, 2 / 3, 1], futility_alpha=0.024, futility_drift=theta)
    obeyed = d.power(theta)
    ignored = d.power(theta, futility=False)
    assert obeyed < ignored
    # under the alternative the rule fires with probability 0.024 at the first look
    assert d.futility_probabilities(theta)[0] == pytest.approx(0.024, abs=1e-9)
    # non-binding: type I error is alpha if the rule is ignored, less if obeyed
    assert d.rejection_probabilities(0.0, futility=False)[-1] == pytest.approx(0.025, abs=1e-7)
    assert d.rejection_probabilities(0.0)[-1] < 0.025


def test_hazard_ratio_scale_boundaries_match_rpact():
    surv = EXTRA["survival"]
    d = sq.group_sequential_design([1 / 3, 2 / 3, 1])
    frame = d.to_frame(events=surv["gs3_events"])
    np.testing.assert_allclose(frame["hr_efficacy"], surv["gs3_crit_effect_scale"], atol=1e-4)
    np.testing.assert_allclose(frame["events"], surv["gs3_events_per_stage"], rtol=1e-9)
    assert "hr_efficacy" in d.table(events=131)
    with pytest.raises(ValueError, match="events"):
        d.table(events=-1)


def test_repr_table_frame():
    d = sq.group_sequential_design([0.5, 1], futility_alpha=0.024, futility_drift=3.0)
    text = repr(d)
    assert "obrien-fleming" in text and "z_futility" in text
    assert "power_cumulative" in d.table(drift=3.0)
    assert "events" in d.table(events=131)
    frame = d.to_frame(drift=3.0, events=131)
    assert list(frame.index) == [1, 2]
    assert frame["events"].iloc[0] == pytest.approx(65.5)
    assert "<table>" in d._repr_html_()
    with pytest.raises(Exception):
        d.alpha = 0.05            # frozen


# ------------------------------------------------------------ bad input -----

@pytest.mark.parametrize("fractions, message", [
    ([0.5, 0.4, 1.0], "strictly increasing"),
    ([0.3, 0.6], "end at 1"),
    ([0.0, 1.0], "> 0"),
    (np.linspace(0.05, 1, 11), "at most 10"),
    ([], "non-empty"),
    ([0.5, float("nan"), 1.0], "finite"),
])
def test_bad_fractions(fractions, message):
    with pytest.raises(ValueError, match="information_fractions") as err:
        sq.group_sequential_design(fractions)
    assert message in str(err.value)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="alpha"):
        sq.group_sequential_design([1.0], alpha=1.2)
    with pytest.raises(ValueError, match="alpha"):
        sq.group_sequential_design([1.0], alpha=0.0)
    with pytest.raises(ValueError, match="spending"):
        sq.group_sequential_design([1.0], spending="haybittle")
    with pytest.raises(TypeError, match="spending"):
        sq.group_sequential_design([1.0], spending=3)
    with pytest.raises(ValueError, match="parameter"):
        sq.group_sequential_design([0.5, 1.0], spending="hwang-shih-decani")
    with pytest.raises(ValueError, match="parameter"):
        sq.group_sequential_design([0.5, 1.0], spending="pocock", parameter=2)
    with pytest.raises(ValueError, match="rho"):
        sq.group_sequential_design([0.5, 1.0], spending="power", parameter=-1)
    with pytest.raises(ValueError, match="futility_alpha and futility_drift"):
        sq.group_sequential_design([0.5, 1.0], futility_alpha=0.024)
    with pytest.raises(TypeError, match="information_fractions"):
        sq.group_sequential_design("0.5, 1")
    d = sq.group_sequential_design([0.5, 1.0])
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="power"):
            d.drift_for_power(bad)
    with pytest.raises(ValueError, match="power"):
        d.drift_for_power(0.01)
    with pytest.raises(TypeError, match="drift"):
        d.rejection_probabilities("big")
    for hr in (0.0, -1.0, 1.0):
        with pytest.raises(ValueError, match="hazard_ratio"):
            sq.drift_from_hazard_ratio(hr, 131)
    with pytest.raises(ValueError, match="hazard_ratio_design"):
        sq.interim_report(80, 131, 0.06, hazard_ratio_design=1.0)
    with pytest.raises(ValueError, match="events_planned"):
        sq.interim_report(80, 60, 0.06, hazard_ratio_design=0.58)
    with pytest.raises(ValueError, match="p_one_sided"):
        sq.interim_report(80, 131, 1.2, hazard_ratio_design=0.58)
    with pytest.raises(ValueError, match="information_fraction"):
        sq.conditional_power(1.0, 1.0, 1.96)
    with pytest.raises(ValueError, match="drift"):
        sq.conditional_power(1.0, 0.5, 1.96, drift="design")
    with pytest.raises(TypeError, match="z"):
        sq.conditional_power(True, 0.5, 1.96)
    with pytest.raises(ValueError, match="observed"):
        sq.group_sequential_design([0.5, 1.0], spending="classical-pocock").at_observed([0.6])
    for bad in ([0.7, 0.6], [0.0], [1.2], []):
        with pytest.raises(ValueError, match="observed_fractions"):
            d.at_observed(bad)


# ------------------------------------------- inference after stopping -----

INFERENCE = json.loads((DATA / "inference_rpact.json").read_text())
INFERENCE_CASES = sorted(k for k in INFERENCE if not k.startswith("_"))
FIELDS = ("p_value", "hazard_ratio", "ci_lower", "ci_upper")
AALL_A1 = 2 * stats.norm.sf(stats.norm.isf(0.0125) / math.sqrt(80 / 131))   # OBF spending at 80/131
AALL_Z = [stats.norm.isf(0.06), -math.log(0.70) * math.sqrt(107 / 4)]      # the script's reconstruction


def _inference_design(case):
    spending = {"asOF": "obrien-fleming", "asP": "pocock", "asHSD": "hwang-shih-decani",
                "asUser": "user"}[case["type"]]
    parameter = {"user": case["user"], "hwang-shih-decani": case["gamma"]}.get(spending)
    kwargs = {}
    if case["futility"] is not None:
        kwargs = dict(futility_alpha=0.024, futility_drift=-math.log(0.58) * math.sqrt(131 / 4),
                      binding_futility=case["binding"])
    return sq.group_sequential_design(case["info"], spending=spending, parameter=parameter, **kwargs)


@pytest.mark.parametrize("name", INFERENCE_CASES)
def test_inference_after_stop_matches_rpact(name):
    case = INFERENCE[name]
    d = _inference_design(case)
    np.testing.assert_allclose(d.z_efficacy, case["crit"], atol=1e-4, rtol=0)
    if case["futility"] is not None:
        np.testing.assert_allclose(d.z_futility[:-1], case["futility"], atol=1e-12)
    res = sq.inference_after_stop(d, case["z"], case["events"], allocation=case["allocation"])
    assert res.stage == case["final_stage"]
    for f in FIELDS:
        assert getattr(res, f) == pytest.approx(case[f], abs=1e-4), f
    np.testing.assert_allclose(res.repeated_ci_lower, case["repeated_ci_lower"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(res.repeated_ci_upper, case["repeated_ci_upper"], atol=1e-4, rtol=0)
    assert res.naive_hazard_ratio == pytest.approx(case["naive_hazard_ratio"][-1], abs=1e-10)
    assert res.naive_p_value == pytest.approx(case["naive_p_value"][-1], abs=1e-8)


def test_inference_aall1331_reconstruction():
    case = INFERENCE["aall1331"]
    assert case["user"] == pytest.approx([AALL_A1, 0.025], abs=1e-15)
    assert case["z"] == pytest.approx(AALL_Z, abs=1e-12)
    assert AALL_A1 == pytest.approx(0.004128, abs=1e-6)
    d = sq.group_sequential_design([80 / 107, 1], spending="user", parameter=[AALL_A1, 0.025])
    res = sq.inference_after_stop(d, AALL_Z, [80, 107])
    # the naive numbers are the published ones (Figure 2A): HR 0.70 (95% CI 0.47-1.03), P = .03
    assert res.naive_hazard_ratio == pytest.approx(0.70, abs=1e-12)
    assert round(res.naive_p_value, 2) == 0.03
    assert res.naive_ci_lower == pytest.approx(0.47, abs=0.01)
    assert res.naive_ci_upper == pytest.approx(1.03, abs=0.01)
    # the interim spent little alpha: the adjusted P is only a little above the naive one
    assert res.naive_p_value < res.p_value < 0.025 * 1.5
    assert not res.stopped_early and res.stage == 2


def test_user_spending_reproduces_its_alpha():
    d = sq.group_sequential_design([0.3, 0.55, 0.8, 1.0], spending="user",
                                   parameter=[0.001, 0.001, 0.01, 0.025])
    np.testing.assert_allclose(d.rejection_probabilities(0.0), d.alpha_spent, atol=1e-7, rtol=0)
    assert d.parameter == (0.001, 0.001, 0.01, 0.025)
    assert math.isinf(d.z_efficacy[1])                 # nothing spent at look 2: no boundary
    # a user vector equal to a spending function gives that design's boundaries
    t = [0.25, 0.6, 1.0]
    obf = sq.group_sequential_design(t)
    same = sq.group_sequential_design(t, spending="user", parameter=sq.obrien_fleming_spending(np.array(t)))
    np.testing.assert_allclose(same.z_efficacy, obf.z_efficacy, atol=1e-12)
    assert "user(cumulative alpha 0.001, 0.001, 0.01, 0.025)" in repr(d)
    with pytest.raises(ValueError, match="spending='user'"):
        d.at_observed([0.5])


@pytest.mark.parametrize("parameter, error, message", [
    (None, TypeError, "parameter"),
    ("0.01, 0.025", TypeError, "parameter"),
    ([True, False], TypeError, "parameter"),
    ([0.025], ValueError, "2 looks"),
    ([0.01, 0.02, 0.025], ValueError, "2 looks"),
    ([0.02, 0.01], ValueError, "non-decreasing"),
    ([-0.001, 0.025], ValueError, "non-decreasing"),
    ([0.01, 0.02], ValueError, "end at alpha"),
    ([0.01, 0.03], ValueError, "end at alpha"),
    ([float("nan"), 0.025], ValueError, "finite"),
])
def test_user_spending_validation(parameter, error, message):
    with pytest.raises(error, match=message):
        sq.group_sequential_design([0.5, 1.0], spending="user", parameter=parameter)


def test_inference_stopping_at_look_one_is_the_naive_analysis():
    for spending in ("obrien-fleming", "pocock"):
        d = sq.group_sequential_design([0.4, 1.0], spending=spending)
        z = d.z_efficacy[0] + 0.3
        res = sq.inference_after_stop(d, [z], [60], conf_level=0.9)
        assert res.p_value == pytest.approx(res.naive_p_value, rel=1e-6)
        assert res.hazard_ratio == pytest.approx(res.naive_hazard_ratio, rel=1e-6)
        assert res.ci_lower == pytest.approx(res.naive_ci_lower, rel=1e-6)
        assert res.ci_upper == pytest.approx(res.naive_ci_upper, rel=1e-6)
        assert res.naive_ci_upper == pytest.approx(math.exp(-(z - stats.norm.isf(0.05)) / math.sqrt(15)))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(0.1, 0.9), min_size=1, max_size=4, unique=True),
       st.sampled_from(["obrien-fleming", "pocock"]), st.floats(-1.0, 1.0))
def test_inference_at_the_final_boundary_spends_exactly_alpha(interims, spending, shift):
    t = sorted(set(round(x, 2) for x in interims)) + [1.0]
    d = sq.group_sequential_design(t, spending=spending)
    events = np.array(t) * 200
    z = np.minimum(d.z_efficacy[:-1] - 0.5, 0.5 + shift * np.arange(len(t) - 1))
    at = sq.inference_after_stop(d, np.append(z, d.z_efficacy[-1]), events)
    # the final boundary is where the stage-wise P equals alpha and the CI touches HR = 1
    assert at.p_value == pytest.approx(0.025, abs=1e-6)
    assert at.ci_upper == pytest.approx(1.0, abs=1e-5)
    assert at.repeated_ci_upper[-1] == pytest.approx(1.0, abs=1e-12)
    below = sq.inference_after_stop(d, np.append(z, d.z_efficacy[-1] - 0.2 + shift / 10), events)
    above = sq.inference_after_stop(d, np.append(z, d.z_efficacy[-1] + 0.3 + shift / 10), events)
    assert below.p_value > at.p_value > above.p_value
    assert below.hazard_ratio > at.hazard_ratio > above.hazard_ratio
    for r in (below, at, above):
        assert r.ci_lower < r.hazard_ratio < r.ci_upper
        # the earlier looks spent alpha: the adjusted P is never below the naive one
        assert r.p_value >= r.naive_p_value - 1e-9


@pytest.mark.parametrize("name", ["asOF_stop2", "asP_stop2"])
def test_early_stop_estimate_is_pulled_towards_one(name):
    case = INFERENCE[name]
    res = sq.inference_after_stop(_inference_design(case), case["z"], case["events"])
    assert res.stopped_early
    assert res.naive_hazard_ratio < res.hazard_ratio < 1
    # the repeated CI at each look excludes HR = 1 exactly when the boundary was crossed
    crossed = np.asarray(case["z"]) >= np.asarray(case["crit"][:len(case["z"])])
    assert np.array_equal(res.repeated_ci_upper < 1, crossed)


def test_inference_display():
    case = INFERENCE["aall1331"]
    res = sq.inference_after_stop(_inference_design(case), case["z"], case["events"])
    text = res.table()
    assert "look 2 of 2 (final analysis), 107 events" in text
    assert f"{res.p_value:.4f}" in text and f"{res.naive_hazard_ratio:.3f}" in text
    assert f"{res.repeated_ci_lower[0]:.3f}-{res.repeated_ci_upper[0]:.3f}" in text
    assert repr(res).startswith("InferenceAfterStop(\n") and text in repr(res)
    html = res._repr_html_()
    assert html.count("<tr>") == 4 + 1 + 2 and "stage-wise" in html
    with pytest.raises(Exception):
        res.p_value = 0.5                             # frozen
    tiny = sq.inference_after_stop(sq.group_sequential_design([0.5, 1]), [6.0], [100])
    assert "9.9e-10" in tiny.table()          # 1 - Phi(6), not a rounded 0.0000


def test_inference_binding_futility_stop():
    case = INFERENCE["asOF_binding_futility_stop2"]
    d = _inference_design(case)
    res = sq.inference_after_stop(d, case["z"], case["events"])
    assert res.stopped_early and res.p_value > 0.3
    # without the binding rule the same look is not a stopping point
    loose = sq.group_sequential_design(case["info"])
    with pytest.raises(ValueError, match="crosses no boundary"):
        sq.inference_after_stop(loose, case["z"], case["events"])


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(design="obf"), TypeError, "design"),
    (dict(z="1.5"), TypeError, "z"),
    (dict(z=[True, False]), TypeError, "z"),
    (dict(z=[1.0, float("nan")]), ValueError, "z must be finite"),
    (dict(z=[[1.0, 2.0]]), ValueError, "z must be a non-empty 1-D"),
    (dict(z=[]), ValueError, "z must be a non-empty"),
    (dict(z=[1.0, 1.5, 2.0, 2.1], events=[25, 50, 75, 100]), ValueError, "z has 4 looks"),
    (dict(events=[50]), ValueError, "events must have one entry per look"),
    (dict(events=[100, 50]), ValueError, "events must be positive and strictly increasing"),
    (dict(events=[0, 100]), ValueError, "events must be positive"),
    (dict(events=["a", "b"]), TypeError, "events"),
    (dict(events=[45, 100]), ValueError, "re-cut the design"),
    (dict(z=[4.0, 2.5]), ValueError, "look 1 .* crosses the efficacy boundary"),
    (dict(z=[1.0, 1.5]), ValueError, "crosses no boundary"),
    (dict(allocation=1.0), ValueError, "allocation"),
    (dict(allocation=True), TypeError, "allocation"),
    (dict(conf_level=95), ValueError, "conf_level"),
    (dict(conf_level="0.95"), TypeError, "conf_level"),
])
def test_inference_bad_arguments_name_themselves(kwargs, error, message):
    args = dict(design=sq.group_sequential_design([1 / 3, 2 / 3, 1]), z=[1.0, 2.8], events=[50, 100])
    args.update(kwargs)
    with pytest.raises(error, match=message):
        sq.inference_after_stop(**args)



def test_interim_report_in_words_for_a_page_and_formulas_for_the_statistician():
    """The report's table notes its formulas (Z = Phi^-1(1 - P) ...): right in ``print(report)``,
    wrong on a learner's page (the story lint).  ``rows_in_words`` keeps every quantity and value
    and says what each means; ``formulas`` gives them as text or as LaTeX a fold can typeset."""
    import sys
    from pathlib import Path

    from teachkit import _mathml

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import newcomer

    r = sq.interim_report(80, 131, 0.06, hazard_ratio_design=0.58, futility_alpha=0.024,
                          previous_events=[131 / 3], remaining_fractions=[1.0], note="a reconstruction")
    table, words = r._rows(), r.rows_in_words()
    assert [v for _, v, _ in words] == [v for _, v, _ in table] and len(words) == len(table)
    assert "Z = Phi^-1(1 - P)" in r.table() and "B = Z sqrt(t)" in r.table()
    assert newcomer.story_lint(" ".join(" ".join(row) for row in table))        # the lint sees them
    assert not newcomer.story_lint(" ".join(" ".join(row) for row in words))
    assert [q for q, _ in r.formulas()] == [q for q, _ in r.formulas(latex=True)] == \
        ["log-rank Z (one-sided P)", "B-value", "hazard ratio"]
    for _, tex in r.formulas(latex=True):
        assert _mathml.to_mathml(tex, display=True).startswith("<math")
