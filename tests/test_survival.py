"""Validation of teachkit.survival against R survival, lifelines, statsmodels and algebra.

References (tests/data/README.md): survival_r_freireich.json and survival_r_aml.json
(R survival 3.5-3, shared reference outputs), survival_r_extra.json (our
tests/data/survival_r_extra.R: CIs of all conf types, medians with CIs, censor rows,
stratified survdiff).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import teachkit as tk
from teachkit.survival import kaplan_meier, logrank_test, median_follow_up

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

TOL = 1e-6


def _load(name):
    with open(DATA / name, encoding="utf-8") as fh:
        return json.load(fh)


def _arr(values):
    return np.array([np.nan if v is None else (np.inf if v == "Inf" else v) for v in values],
                    dtype=float)


R_FREIREICH = _load("survival_r_freireich.json")
R_AML = _load("survival_r_aml.json")
R_EXTRA = _load("survival_r_extra.json")


def _csv(name):
    import csv

    with open(DATA / name, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keys = list(rows[0])
    return {k: np.array([r[k] for r in rows]) for k in keys}


FREIREICH = _csv("freireich_6mp.csv")
AML = _csv("aml.csv")


# ---------------------------------------------------------------- R references: shared


@pytest.mark.parametrize("label", ["6-MP", "placebo"])
def test_km_matches_r_freireich(label):
    rows = [r for r in R_FREIREICH["km"] if r["group"] == f"group={label}"]
    sel = FREIREICH["group"] == label
    km = kaplan_meier(FREIREICH["time"][sel].astype(float), FREIREICH["event"][sel].astype(int))
    ev = km.n_events > 0  # R's summary() lists event times only
    np.testing.assert_allclose(km.time[ev], [r["time"] for r in rows], atol=TOL)
    np.testing.assert_array_equal(km.n_at_risk[ev], [r["n_risk"] for r in rows])
    np.testing.assert_array_equal(km.n_events[ev], [r["n_event"] for r in rows])
    np.testing.assert_allclose(km.survival[ev], [r["surv"] for r in rows], atol=TOL)
    se_r = _arr([r.get("se") for r in rows])  # R gives no SE where S = 0
    np.testing.assert_allclose(km.std_err[ev], se_r, atol=TOL, equal_nan=True)
    expected_median = R_FREIREICH["median"][["6-MP", "placebo"].index(label)]
    assert km.median() == pytest.approx(expected_median, abs=TOL)


@pytest.mark.parametrize("label", ["Maintained", "Nonmaintained"])
def test_km_matches_r_aml(label):
    rows = [r for r in R_AML["aml_km"] if r["strata"] == f"x={label}"]
    sel = AML["x"] == label
    km = kaplan_meier(AML["time"][sel].astype(float), AML["status"][sel].astype(int))
    ev = km.n_events > 0
    np.testing.assert_allclose(km.time[ev], [r["time"] for r in rows], atol=TOL)
    np.testing.assert_array_equal(km.n_at_risk[ev], [r["n_risk"] for r in rows])
    np.testing.assert_allclose(km.survival[ev], [r["surv"] for r in rows], atol=TOL)
    np.testing.assert_allclose(km.std_err[ev], _arr([r.get("se") for r in rows]), atol=TOL,
                               equal_nan=True)


def test_logrank_matches_r_freireich_and_aml():
    ref = R_FREIREICH["logrank"]
    lr = logrank_test(FREIREICH["time"].astype(float), FREIREICH["event"].astype(int),
                      FREIREICH["group"])
    assert list(lr.groups) == ["6-MP", "placebo"]  # R's factor-level order
    assert lr.chi2 == pytest.approx(ref["chisq"], abs=TOL)
    np.testing.assert_array_equal(lr.observed, ref["obs"])
    np.testing.assert_allclose(lr.expected, ref["exp"], atol=TOL)
    assert lr.variance == pytest.approx(ref["var"], abs=TOL)

    ref = R_AML["aml_logrank"]
    lr = logrank_test(AML["time"].astype(float), AML["status"].astype(int), AML["x"])
    assert lr.chi2 == pytest.approx(ref["chisq"], abs=TOL)
    np.testing.assert_array_equal(lr.observed, ref["obs"])
    np.testing.assert_allclose(lr.expected, ref["exp"], atol=TOL)
    assert lr.variance == pytest.approx(ref["var"][0][0], abs=TOL)


# ---------------------------------------------------------------- R references: extra

KM_FIELDS = [("time", "time"), ("n_at_risk", "n_risk"), ("n_events", "n_event"),
             ("n_censored", "n_censor"), ("survival", "surv"), ("std_err", "std_err"),
             ("std_err_log", "std_err_log")]


@pytest.mark.parametrize("case", sorted(R_EXTRA["km"]))
@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_km_all_fields_match_r(case, conf_type):
    ref = R_EXTRA["km"][case]
    km = kaplan_meier(ref["time_in"], ref["event_in"], conf_type=conf_type)
    for ours, theirs in KM_FIELDS:
        np.testing.assert_allclose(np.asarray(getattr(km, ours), float), _arr(ref[theirs]),
                                   atol=TOL, rtol=0, equal_nan=True, err_msg=ours)
    key = conf_type.replace("-", "_")
    lower, upper = _arr(ref[f"lower_{key}"]), _arr(ref[f"upper_{key}"])
    # survival 3.5-3 returns NA for the log-log interval where S = 1 (no event yet);
    # survival >= 3.8 and teachkit return [1, 1] there (SE = 0). Check both parts.
    before_first_event = km.std_err_log == 0
    if conf_type == "log-log":
        assert np.isnan(lower[before_first_event]).all()
        np.testing.assert_array_equal(km.ci_lower[before_first_event], 1.0)
        np.testing.assert_array_equal(km.ci_upper[before_first_event], 1.0)
    rest = ~before_first_event
    np.testing.assert_allclose(km.ci_lower[rest], lower[rest], atol=TOL, equal_nan=True)
    np.testing.assert_allclose(km.ci_upper[rest], upper[rest], atol=TOL, equal_nan=True)
    median = _arr(ref[f"median_{key}"])
    assert km.median() == pytest.approx(median[0], abs=TOL, nan_ok=True)
    np.testing.assert_allclose(km.median_ci(), median[1:], atol=TOL, equal_nan=True)


@pytest.mark.parametrize("case", sorted(R_EXTRA["km"]))
def test_km_conf_level_90_matches_r(case):
    ref = R_EXTRA["km"][case]
    km = kaplan_meier(ref["time_in"], ref["event_in"], conf_level=0.90)
    rest = km.std_err_log > 0
    np.testing.assert_allclose(km.ci_lower[rest], _arr(ref["lower_log_log_90"])[rest],
                               atol=TOL, equal_nan=True)
    np.testing.assert_allclose(km.ci_upper[rest], _arr(ref["upper_log_log_90"])[rest],
                               atol=TOL, equal_nan=True)


def test_median_flat_at_half_uses_midpoint_like_r():
    # S = 0.5 exactly on [2, 4): R's median is the midpoint 3, not 2
    assert kaplan_meier([1, 2, 3, 4], [1, 1, 0, 1]).median() == 3.0
    # curve ends flat at 0.5 (last time 4 censored): midpoint of 2 and last time 4
    assert kaplan_meier([1, 2, 3, 4], [1, 1, 0, 0]).median() == 3.0
    assert kaplan_meier([1, 2, 3], [0, 1, 0]).median() == 2.5  # R: 2.5 as well
    assert np.isnan(kaplan_meier([1, 2, 3, 4], [0, 1, 0, 0]).median())  # S stays at 2/3


def test_median_follow_up_matches_r_reverse_km():
    for case, (t_key, e_key) in {"freireich_reverse": ("time_in", "event_in"),
                                 "sim_ties_reverse": ("time_in", "event_in")}.items():
        ref = R_EXTRA["km"][case]
        events = 1 - np.asarray(ref[e_key])  # the reference case has them swapped already
        assert median_follow_up(ref[t_key], events) == pytest.approx(
            ref["median_log_log"][0], abs=TOL)


@pytest.mark.parametrize("case", sorted(R_EXTRA["logrank"]))
def test_logrank_matches_r_survdiff(case):
    ref = R_EXTRA["logrank"][case]
    lr = logrank_test(ref["time"], ref["event"], ref["group"], strata=ref.get("strata"))
    assert list(lr.groups) == ref["groups"]
    assert lr.chi2 == pytest.approx(ref["chisq"][0], abs=TOL)
    assert lr.p_value == pytest.approx(ref["p_value"][0], abs=TOL)
    np.testing.assert_array_equal(lr.observed, ref["obs"])
    np.testing.assert_allclose(lr.expected, ref["exp"], atol=TOL)
    assert lr.variance == pytest.approx(ref["var"][0], abs=TOL)


# ---------------------------------------------------------------- hand computations


def test_km_by_hand():
    km = kaplan_meier([1, 2, 3], [1, 1, 1])
    np.testing.assert_allclose(km.survival, [2 / 3, 1 / 3, 0])
    # Greenwood: var log S(1) = 1/(3*2); var log S(2) = 1/6 + 1/(2*1)
    np.testing.assert_allclose(km.std_err[:2], [2 / 3 * np.sqrt(1 / 6),
                                                1 / 3 * np.sqrt(1 / 6 + 1 / 2)])
    assert np.isnan(km.std_err[2]) and np.isinf(km.std_err_log[2])


def test_logrank_table_sums_to_totals_and_by_hand():
    # 2 subjects per arm, events at 1 (arm a) and 2 (arm b), censor at 3 (both)
    lr = logrank_test([1, 3, 2, 3], [1, 0, 1, 0], ["a", "a", "b", "b"], treatment="a")
    tab = lr.table()
    # t=1: n=4, n_a=2, d=1: E_a = 1/2, V = 1*3*2*2/(16*3) = 1/4
    # t=2: n=3, n_a=1, d=1: E_a = 1/3, V = 1*2*1*2/(9*2) = 2/9
    np.testing.assert_allclose(tab["expected a"], [1 / 2, 1 / 3])
    np.testing.assert_allclose(tab["variance"], [1 / 4, 2 / 9])
    assert lr.expected[0] == pytest.approx(5 / 6)
    assert lr.variance == pytest.approx(1 / 4 + 2 / 9)
    assert lr.chi2 == pytest.approx((1 - 5 / 6) ** 2 / (1 / 4 + 2 / 9))
    # arm a: O = 1 > E = 5/6, so a did worse than expected: z < 0 for treatment a
    assert lr.z == pytest.approx(-(1 - 5 / 6) / np.sqrt(1 / 4 + 2 / 9))
    assert tab["O-E a"].sum() == pytest.approx(lr.observed[0] - lr.expected[0])


def test_logrank_stratified_is_sum_over_strata():
    ref = R_EXTRA["logrank"]["sim_strat"]
    t, e = np.asarray(ref["time"]), np.asarray(ref["event"])
    g, s = np.asarray(ref["group"]), np.asarray(ref["strata"])
    total = logrank_test(t, e, g, strata=s)
    parts = [logrank_test(t[s == k], e[s == k], g[s == k]) for k in np.unique(s)]
    oe = sum(p.observed[0] - p.expected[0] for p in parts)
    v = sum(p.variance for p in parts)
    assert total.variance == pytest.approx(v)
    assert total.chi2 == pytest.approx(oe**2 / v)
    assert total.n_strata == 3
    assert total.p_one_sided == pytest.approx(1 - __import__("scipy").stats.norm.cdf(total.z))


def test_freireich_one_sided_direction():
    d = tk.datasets.freireich()
    lr = logrank_test(d.time, d.event, d.group, treatment="6-MP")
    assert lr.z > 0 and lr.treatment == "6-MP"  # 6-MP: 9 relapses vs 19.25 expected
    assert lr.z == pytest.approx((19.2505009480311 - 9) / np.sqrt(6.2569605736755), abs=TOL)
    assert lr.z**2 == pytest.approx(lr.chi2)
    other = logrank_test(d.time, d.event, d.group, treatment="placebo")
    assert other.z == pytest.approx(-lr.z)
    assert other.p_one_sided == pytest.approx(1 - lr.p_one_sided)
    default = logrank_test(d.time, d.event, d.group)
    assert default.treatment == "placebo"  # groups[1] by default


# ---------------------------------------------------------------- lifelines / statsmodels


def _simulate(seed, n, censor_scale, n_strata=1, round_to=1.0):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    strata = rng.integers(0, n_strata, n)
    t_event = rng.exponential(10 * np.where(group == 1, 1.5, 1.0) * (1 + strata), n)
    t_cens = rng.exponential(censor_scale, n)
    time = np.ceil(np.minimum(t_event, t_cens) / round_to) * round_to  # ties
    event = (t_event <= t_cens).astype(int)
    return time, event, group, strata


@pytest.mark.parametrize("seed,censor_scale", [(1, 30.0), (2, 5.0), (3, 2.0)])
def test_km_matches_lifelines(seed, censor_scale):
    from lifelines import KaplanMeierFitter

    time, event, _, _ = _simulate(seed, 150, censor_scale)
    km = kaplan_meier(time, event)
    kmf = KaplanMeierFitter().fit(time, event)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_survival_function_
    np.testing.assert_allclose(km.survival, sf.loc[km.time].to_numpy(), atol=1e-10)
    # lifelines' default interval is the "exponential Greenwood" = log-log
    inside = (km.survival > 0) & (km.survival < 1)
    np.testing.assert_allclose(km.ci_lower[inside], ci.iloc[:, 0].loc[km.time[inside]],
                               atol=1e-8)
    np.testing.assert_allclose(km.ci_upper[inside], ci.iloc[:, 1].loc[km.time[inside]],
                               atol=1e-8)
    if not np.any(np.abs(km.survival - 0.5) < 1e-9):  # lifelines has no midpoint rule
        ll_median = kmf.median_survival_time_  # lifelines: inf when not reached
        assert km.median() == pytest.approx(np.nan if np.isinf(ll_median) else ll_median,
                                            nan_ok=True)
    np.testing.assert_allclose(km.survival_at([0.5, 3, 7.5, 1e6]),
                               kmf.predict([0.5, 3, 7.5, 1e6]).to_numpy(), atol=1e-12)


@pytest.mark.parametrize("seed,censor_scale", [(4, 20.0), (5, 3.0)])
def test_km_se_matches_statsmodels(seed, censor_scale):
    from statsmodels.duration.survfunc import SurvfuncRight

    time, event, _, _ = _simulate(seed, 200, censor_scale)
    km = kaplan_meier(time, event)
    sm = SurvfuncRight(time, event)
    ev = km.n_events > 0
    np.testing.assert_allclose(km.time[ev], sm.surv_times)
    np.testing.assert_allclose(km.survival[ev], sm.surv_prob, atol=1e-12)
    ok = km.survival[ev] > 0
    np.testing.assert_allclose(km.std_err[ev][ok], sm.surv_prob_se[ok], atol=1e-10)


@pytest.mark.parametrize("seed,n_strata,censor_scale", [(6, 1, 10.0), (7, 3, 10.0),
                                                       (8, 4, 2.0), (9, 2, 50.0)])
def test_logrank_matches_statsmodels_and_lifelines(seed, n_strata, censor_scale):
    from lifelines.statistics import logrank_test as ll_logrank
    from statsmodels.duration.survfunc import survdiff

    time, event, group, strata = _simulate(seed, 300, censor_scale, n_strata)
    ours = logrank_test(time, event, group, strata=strata if n_strata > 1 else None)
    chi2, p = survdiff(time, event, group, strata=strata if n_strata > 1 else None)
    assert ours.chi2 == pytest.approx(chi2, rel=1e-9)
    assert ours.p_value == pytest.approx(p, rel=1e-7)
    if n_strata == 1:
        ll = ll_logrank(time[group == 0], time[group == 1], event[group == 0],
                        event[group == 1])
        assert ours.chi2 == pytest.approx(ll.test_statistic, rel=1e-9)


# ---------------------------------------------------------------- properties (hypothesis)

_times = st.lists(st.integers(0, 30), min_size=1, max_size=40)


@st.composite
def _survival_data(draw, min_size=1):
    n = draw(st.integers(min_size, 40))
    time = draw(st.lists(st.integers(0, 25), min_size=n, max_size=n))
    event = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    group = draw(st.lists(st.sampled_from(["x", "y"]), min_size=n, max_size=n))
    strata = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    perm = draw(st.permutations(range(n)))
    return (np.array(time, float), np.array(event), np.array(group), np.array(strata),
            np.array(perm))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_survival_data(), conf_type=st.sampled_from(["log-log", "log", "plain"]))
def test_km_properties(data, conf_type):
    time, event, _, _, perm = data
    km = kaplan_meier(time, event, conf_type=conf_type)
    assert np.all(np.diff(km.survival) <= 0)
    assert np.all((km.survival >= 0) & (km.survival <= 1))
    assert km.n_at_risk[0] == len(time) and km.n_events.sum() == event.sum()
    assert km.n_events.sum() + km.n_censored.sum() == len(time)
    ok = ~np.isnan(km.ci_lower)
    assert np.all(km.ci_lower[ok] <= km.survival[ok] + 1e-12)
    assert np.all(km.ci_upper[ok] >= km.survival[ok] - 1e-12)
    assert np.all((km.ci_lower[ok] >= 0) & (km.ci_upper[ok] <= 1))
    shuffled = kaplan_meier(time[perm], event[perm], conf_type=conf_type)
    np.testing.assert_array_equal(shuffled.survival, km.survival)
    np.testing.assert_array_equal(shuffled.std_err, km.std_err)
    assert shuffled.median() == pytest.approx(km.median(), nan_ok=True)
    np.testing.assert_array_equal(km.survival_at(km.time), km.survival)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_survival_data(min_size=2))
def test_logrank_properties(data):
    time, event, group, strata, perm = data
    try:
        lr = logrank_test(time, event, group)
    except ValueError:  # one group only, no events, or no shared risk set
        return
    swapped = logrank_test(time, event, np.where(group == "x", "y", "x"))
    assert swapped.chi2 == pytest.approx(lr.chi2, rel=1e-9)
    assert swapped.z == pytest.approx(-lr.z, rel=1e-9, abs=1e-12)
    one = logrank_test(time, event, group, strata=np.zeros(len(time), int))
    assert one.chi2 == pytest.approx(lr.chi2, rel=1e-12) and one.z == pytest.approx(lr.z)
    shuffled = logrank_test(time[perm], event[perm], group[perm])
    assert shuffled.chi2 == pytest.approx(lr.chi2, rel=1e-9)
    # rank test: a monotone increasing transform of time changes nothing
    assert logrank_test(np.sqrt(time) * 3, event, group).chi2 == pytest.approx(lr.chi2)
    assert lr.z**2 == pytest.approx(lr.chi2, rel=1e-9)
    try:
        s1 = logrank_test(time, event, group, strata=strata)
    except ValueError:
        return
    s2 = logrank_test(time[perm], event[perm], group[perm], strata=strata[perm])
    assert s2.chi2 == pytest.approx(s1.chi2, rel=1e-9)


def test_integer_and_string_labels_agree():
    time, event, group, strata = _simulate(11, 120, 8.0, n_strata=3)
    as_int = logrank_test(time, event, group, strata=strata)
    as_str = logrank_test(time, event, np.where(group == 1, "g1", "g0"),
                          strata=np.array(["s0", "s1", "s2"])[strata])
    odd_ints = logrank_test(time, event, group * 1000 - 7,
                            strata=(strata * 100 - 100).astype(np.int8))  # range 200 > int8
    wide = logrank_test(time, event, group * 10**12, strata=strata.astype(np.uint16))
    for other in (as_str, odd_ints, wide):
        assert other.chi2 == pytest.approx(as_int.chi2, rel=1e-12)
        np.testing.assert_allclose(other.expected, as_int.expected, rtol=1e-12)
    assert list(odd_ints.groups) == [-7, 993] and wide.groups[1] == 10**12


# ---------------------------------------------------------------- display


def test_km_table_repr_html_frame():
    d = tk.datasets.freireich()
    sel = d.group == "6-MP"
    km = kaplan_meier(d.time[sel], d.event[sel])
    tab = km.table()
    np.testing.assert_array_equal(tab["S(t)"], km.survival)
    np.testing.assert_array_equal(tab["censored"], km.n_censored)
    text = repr(km)
    assert "median=23" in text and "0.4482" in text and "n=21" in text
    assert "<table>" in km._repr_html_()
    frame = km.to_frame()
    assert list(frame["time"]) == list(km.time)
    assert frame.shape == (16, 8)
    with pytest.raises(ValueError):
        km.survival.__setitem__(0, 0.1)  # results are read-only
    with pytest.raises(AttributeError):
        km.conf_type = "log"


def test_logrank_table_repr_html_frame():
    d = tk.datasets.freireich()
    lr = logrank_test(d.time, d.event, d.group, treatment="6-MP")
    text = repr(lr)
    assert "16.7929" in text and "19.2505" in text and "treatment=6-MP" in text
    assert "<table>" in lr._repr_html_()
    frame = lr.to_frame()
    assert frame["expected 6-MP"].sum() == pytest.approx(19.2505009480311)
    assert frame["variance"].sum() == pytest.approx(6.2569605736755)
    assert len(frame) == 17  # distinct event times in the pooled data
    strat = logrank_test(d.time, d.event, d.group, strata=d.time > 10)
    assert "stratum" in strat.table().columns


def test_survival_at_is_right_continuous_and_vectorized():
    km = kaplan_meier([2, 4, 4, 6], [1, 1, 0, 1])
    np.testing.assert_allclose(km.survival_at([0, 1.999, 2, 3, 4, 5.5, 6, 100]),
                               [1, 1, 0.75, 0.75, 0.5, 0.5, 0, 0])
    assert isinstance(km.survival_at(3), float)
    with pytest.raises(ValueError, match="t must not contain NaN"):
        km.survival_at([1, np.nan])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("time,event,match", [
    ([1, -2, 3], [1, 0, 1], "time must be >= 0"),
    ([1, np.nan, 3], [1, 0, 1], "time must be finite"),
    ([1, np.inf, 3], [1, 0, 1], "time must be finite"),
    ([1, 2, 3], [1, 2, 1], "event must contain only 0"),
    ([1, 2, 3], [1, np.nan, 1], "event must contain only 0"),
    ([1, 2, 3], [1, 0], "event has length 2 but time has length 3"),
    ([], [], "time is empty"),
    ([[1, 2], [3, 4]], [1, 0], "time must be 1-dimensional"),
])
def test_bad_time_event(time, event, match):
    with pytest.raises(ValueError, match=match):
        kaplan_meier(time, event)
    with pytest.raises(ValueError, match=match):
        median_follow_up(time, event)
    with pytest.raises(ValueError, match=match):
        logrank_test(time, event, ["a", "b", "a", "b"][: len(event)] if len(event) else [])


def test_pandas_input():
    pd = pytest.importorskip("pandas")
    d = tk.datasets.freireich().to_frame()
    d["group"] = d["group"].astype("category")
    lr = logrank_test(d["time"], d["event"], d["group"], treatment="6-MP")
    assert lr.chi2 == pytest.approx(R_FREIREICH["logrank"]["chisq"], abs=TOL)
    km = kaplan_meier(d["time"], d["event"].astype(bool))
    assert km.survival_at(pd.Series([8.0]))[0] == pytest.approx(km.survival_at(8.0))
    with pytest.raises(ValueError, match="group contains missing values"):
        logrank_test(d["time"], d["event"], pd.Series(["a", "b"] * 20 + [pd.NA, "a"]))


def test_bad_types():
    with pytest.raises(TypeError, match="time must be numeric"):
        kaplan_meier(["1", "2"], [1, 0])
    with pytest.raises(TypeError, match="time must be numeric"):
        kaplan_meier([True, False], [1, 0])
    with pytest.raises(TypeError, match="event must be 0/1 or boolean"):
        kaplan_meier([1, 2], ["yes", "no"])
    km = kaplan_meier([1, 2], [True, False])  # booleans are fine
    assert km.n_events.tolist() == [1, 0]


def test_bad_conf_arguments():
    with pytest.raises(ValueError, match="conf_type must be one of"):
        kaplan_meier([1, 2], [1, 0], conf_type="loglog")
    with pytest.raises(ValueError, match="conf_level must be strictly between 0 and 1"):
        kaplan_meier([1, 2], [1, 0], conf_level=95)
    with pytest.raises(TypeError, match="conf_level"):
        kaplan_meier([1, 2], [1, 0], conf_level="0.95")


def test_bad_logrank_arguments():
    t, e = [1, 2, 3, 4], [1, 1, 0, 1]
    with pytest.raises(ValueError, match="group must have exactly 2 distinct values"):
        logrank_test(t, e, ["a", "a", "a", "a"])
    with pytest.raises(ValueError, match="group must have exactly 2 distinct values"):
        logrank_test(t, e, ["a", "b", "c", "a"])
    with pytest.raises(ValueError, match="group has length 3"):
        logrank_test(t, e, ["a", "b", "a"])
    with pytest.raises(ValueError, match="treatment must be one of"):
        logrank_test(t, e, ["a", "b", "a", "b"], treatment="c")
    with pytest.raises(ValueError, match="strata has length 2"):
        logrank_test(t, e, ["a", "b", "a", "b"], strata=[1, 2])
    with pytest.raises(ValueError, match="group contains missing values"):
        logrank_test(t, e, ["a", None, "a", "b"])
    with pytest.raises(ValueError, match="strata contains NaN"):
        logrank_test(t, e, ["a", "b", "a", "b"], strata=[1.0, np.nan, 1.0, 2.0])
    with pytest.raises(ValueError, match="event has no events"):
        logrank_test(t, [0, 0, 0, 0], ["a", "b", "a", "b"])
    with pytest.raises(ValueError, match="variance is 0"):  # never both groups at risk
        logrank_test([1, 2, 3, 4], [1, 1, 1, 1], ["a", "a", "b", "b"],
                     strata=["s", "s", "u", "u"])


def test_no_numpy_warnings_on_edge_cases():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for time, event in [([5], [1]), ([5], [0]), ([5, 5, 5], [1, 1, 1]),
                            ([0, 0, 1], [1, 0, 0]), ([1, 2, 3], [0, 0, 0])]:
            for conf_type in ("log-log", "log", "plain"):
                km = kaplan_meier(time, event, conf_type=conf_type)
                km.median(), km.median_ci(), repr(km), km._repr_html_()
        lr = logrank_test([1, 1, 2, 2], [1, 1, 1, 1], [0, 1, 0, 1])
        assert lr.chi2 == pytest.approx(0.0)
