"""Tests of teachkit.simulate: the whole-trial Monte Carlo.

Independent sources: teachkit.survival.logrank_test (itself checked against R
survdiff) and lifelines for the log-rank statistic; teachkit.sequential's
recursive numerical integration (checked against rpact) for the crossing
probabilities; closed forms for the survival, cure, dropout and accrual
models; the paper's Table 1 for the strata mix.  Monte Carlo comparisons use
3-sigma binomial bounds with fixed seeds.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teachkit import risk, sequential, survival
from teachkit.simulate import (
    AALL1331_STRATA,
    CONTINUE,
    DECISIONS,
    EFFICACY,
    FUTILITY,
    STOPPED_EARLIER,
    simulate_trials,
    stratified_logrank_rows,
)

HR_DESIGN = 0.58  # Methods, Statistical Analysis
EVENTS = 131  # Results, Early Closure of Randomization


def within(observed, expected, n, k=3.0):
    """|observed - expected| <= k binomial standard errors (per element)."""
    expected = np.asarray(expected, dtype=float)
    se = np.sqrt(expected * (1 - expected) / n)
    return np.abs(np.asarray(observed) - expected) <= k * se + 1e-12


# --------------------------------------------------------------------------
# fixtures: a few large simulations shared by several tests


@pytest.fixture(scope="module")
def sim_h0():
    return simulate_trials(20_000, hazard_ratio=1.0, seed=20150101)


@pytest.fixture(scope="module")
def sim_h1():
    return simulate_trials(10_000, hazard_ratio=HR_DESIGN, seed=20190630)


@pytest.fixture(scope="module")
def small():
    return simulate_trials(8, seed=11, keep_patients=True)


# --------------------------------------------------------------------------
# the log-rank statistic of every simulated trial equals survival.logrank_test


def test_z_equals_survival_logrank_stratified(small):
    for i in range(small.n_trials):
        for k in range(small.n_looks):
            p = small.patient_data(i, k)
            lr = survival.logrank_test(p["time"], p["event"], p["treatment"],
                                       strata=p["stratum"], treatment=True)
            assert lr.n_strata > 1
            assert small.z[i, k] == pytest.approx(lr.z, abs=1e-10)
            o_minus_e = lr.observed[1] - lr.expected[1]
            assert small.log_hr[i, k] == pytest.approx(o_minus_e / lr.variance, abs=1e-10)
            assert small.variance[i, k] == pytest.approx(lr.variance, abs=1e-10)
            assert small.events[i, k] == int(p["event"].sum()) == int(lr.observed.sum())


def test_z_equals_survival_logrank_unstratified_and_lifelines():
    from lifelines.statistics import logrank_test as lifelines_logrank

    sim = simulate_trials(4, stratified=False, randomization="simple", dropout_rate=0.1,
                          seed=5, keep_patients=True)
    for i in range(sim.n_trials):
        for k in range(sim.n_looks):
            p = sim.patient_data(i, k)
            lr = survival.logrank_test(p["time"], p["event"], p["treatment"], treatment=True)
            assert sim.z[i, k] == pytest.approx(lr.z, abs=1e-10)
            x = p["treatment"]
            ll = lifelines_logrank(p["time"][x], p["time"][~x], p["event"][x], p["event"][~x])
            assert sim.z[i, k] ** 2 == pytest.approx(ll.test_statistic, rel=1e-9)


def test_calendar_looks_z_equals_survival_logrank():
    sim = simulate_trials(5, look_times=(2.0, 3.5, 5.0), seed=3, keep_patients=True)
    assert np.all(sim.look_time == [2.0, 3.5, 5.0])
    for i in range(sim.n_trials):
        for k in range(sim.n_looks):
            p = sim.patient_data(i, k)
            assert np.all(p["entry"] < sim.look_time[i, k])
            assert np.all(p["entry"] + p["time"] <= sim.look_time[i, k] + 1e-12)
            lr = survival.logrank_test(p["time"], p["event"], p["treatment"],
                                       strata=p["stratum"], treatment=True)
            assert sim.z[i, k] == pytest.approx(lr.z, abs=1e-10)
            assert sim.n_enrolled[i, k] == p["time"].size


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_kernel_with_ties_matches_survival(data):
    """Rounded times (many ties), several strata, not-enrolled patients (time < 0)."""
    n_rows = data.draw(st.integers(1, 3))
    n = data.draw(st.integers(4, 25))
    n_strata = data.draw(st.integers(1, 3))
    seed = data.draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(2.0, (n_rows, n)), 0) + 1.0
    time[rng.random((n_rows, n)) < 0.15] = -1.0  # not enrolled
    event = (rng.random((n_rows, n)) < 0.7) & (time > 0)
    treat = rng.random((n_rows, n)) < 0.5
    stratum = rng.integers(0, n_strata, (n_rows, n)).astype(np.int8)
    oe, var, d = stratified_logrank_rows(time, event, treat, stratum, n_strata)
    for r in range(n_rows):
        keep = time[r] > 0
        assert d[r] == event[r].sum()
        groups = treat[r, keep]
        if groups.all() or not groups.any() or not event[r, keep].any() or var[r] == 0:
            # no event time with both arms at risk: no information, and no O - E
            assert var[r] == 0 and oe[r] == pytest.approx(0.0, abs=1e-12)
            continue
        lr = survival.logrank_test(time[r, keep], event[r, keep], groups,
                                   strata=stratum[r, keep], treatment=True)
        assert oe[r] == pytest.approx(lr.observed[1] - lr.expected[1], abs=1e-10)
        assert var[r] == pytest.approx(lr.variance, abs=1e-10)


def test_kernel_hand_computation():
    # 4 patients; events at 1 (exp), 2 (control), 3 (exp); at risk 4/2, 3/1, 2/1
    oe, var, d = stratified_logrank_rows([[1.0, 2.0, 3.0, 4.0]], [[1, 1, 1, 0]], [[1, 0, 1, 0]])
    assert oe[0] == pytest.approx(0.5 - 1 / 3 + 0.5)
    assert var[0] == pytest.approx(0.25 + 2 / 9 + 0.25)
    assert d[0] == 3


# --------------------------------------------------------------------------
# looks, decisions and estimates


def test_event_driven_looks_happen_at_the_planned_counts(sim_h1):
    assert sim_h1.settings["look_events"] == (44, 87, 131)  # round(131 * (1/3, 2/3, 1))
    assert np.all(sim_h1.events == [44, 87, 131])
    assert sim_h1.events_reached.all()
    assert np.all(np.diff(sim_h1.look_time, axis=1) > 0)
    assert np.allclose(sim_h1.information_fractions, np.array([44, 87, 131]) / 131)
    expected = sequential.group_sequential_design(np.array([44, 87, 131]) / 131).z_efficacy
    assert np.allclose(sim_h1.z_efficacy, expected)


def test_decisions_follow_the_boundaries(sim_h1):
    z, zb = sim_h1.z, sim_h1.z_efficacy
    crossed = z >= zb
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), 2)
    assert np.array_equal(sim_h1.stop_look, first)
    assert np.array_equal(sim_h1.efficacy, crossed.any(axis=1))
    rows = np.arange(sim_h1.n_trials)
    for k in range(3):
        dk = sim_h1.decision[:, k]
        assert np.all(dk[first > k] == CONTINUE)
        assert np.all(dk[first < k] == STOPPED_EARLIER)
        here = first == k
        assert np.all(dk[here & crossed[:, k]] == EFFICACY)
        assert np.all(dk[here & ~crossed[:, k]] == FUTILITY)
    assert np.allclose(sim_h1.hr_at_stop, np.exp(sim_h1.log_hr[rows, first]))
    # Peto log-HR and Z are two faces of the same O - E
    assert np.allclose(sim_h1.log_hr, -sim_h1.z / np.sqrt(sim_h1.variance))
    assert DECISIONS[EFFICACY] == "efficacy" and DECISIONS[FUTILITY] == "futility"


def test_summaries_recomputed_from_the_arrays(sim_h1):
    eff = np.array([np.mean((sim_h1.stop_look == k) & sim_h1.efficacy) for k in range(3)])
    assert np.allclose(sim_h1.prob_efficacy, eff)
    assert sim_h1.power == pytest.approx(eff.sum())
    assert sim_h1.prob_stop.sum() == pytest.approx(1.0)
    assert sim_h1.mean_hr_at_stop == pytest.approx(np.mean(sim_h1.hr_at_stop))
    assert sim_h1.median_hr_at_stop == pytest.approx(np.median(sim_h1.hr_at_stop))
    stop_events = np.array([131, 44, 87])[(sim_h1.stop_look + 1) % 3]
    assert sim_h1.expected_events() == pytest.approx(stop_events.mean())
    assert sim_h1.drift == pytest.approx(sequential.drift_from_hazard_ratio(HR_DESIGN, EVENTS))


# --------------------------------------------------------------------------
# operating characteristics against sequential's numerical integration


def test_type_one_error_and_crossing_under_h0(sim_h0):
    design = sim_h0.design
    n = sim_h0.n_trials
    assert within(sim_h0.power, 0.025, n)
    assert np.all(within(sim_h0.crossing_probabilities, design.rejection_probabilities(0.0), n))
    # without futility, every crossing stops the trial: the two views agree
    assert np.allclose(sim_h0.cumulative_efficacy, sim_h0.crossing_probabilities)
    # the Peto HR at the final look is unbiased on the log scale under H0
    final = sim_h0.log_hr[:, -1]
    assert abs(final.mean()) <= 3 * final.std() / math.sqrt(n)


def test_crossing_under_the_design_alternative(sim_h1):
    """Z_k ~ N(theta sqrt(t_k), 1) with theta = -log(HR) sqrt(V_K).

    The log-rank information under HR 0.58 is V = sum p(1 - p) ~ 0.95 D/4, not
    D/4 (the at-risk sets drift away from 1:1), so the drift of the simulated
    Z is -log(HR) sqrt(mean V), a little below Schoenfeld's -log(HR) sqrt(D/4)
    (see the next test).
    """
    design = sim_h1.design
    n = sim_h1.n_trials
    theta = sim_h1.drift_observed
    assert np.all(within(sim_h1.crossing_probabilities, design.rejection_probabilities(theta), n))
    assert within(sim_h1.power, design.power(theta), n)


def test_schoenfeld_drift_overstates_power_slightly(sim_h1):
    """The documented gap: information V / (D/4) ~ 0.95 at HR 0.58, so the
    Schoenfeld drift predicts about 1-2 points more power than the log-rank test has."""
    ratio = sim_h1.variance.mean(axis=0) / (np.array([44, 87, 131]) / 4)
    assert np.all((ratio > 0.93) & (ratio < 0.97))
    schoenfeld = sim_h1.design.power(sim_h1.drift)
    assert schoenfeld == pytest.approx(0.8726, abs=1e-3)  # rejection_probabilities(3.117)
    assert 0.003 < schoenfeld - sim_h1.power < 0.035


def test_futility_rule_matches_sequential():
    """AALL1331's futility rule (test the alternative at 0.024), non-binding."""
    sim = simulate_trials(8_000, hazard_ratio=1.0, futility="design", seed=1331)
    design = sim.design
    assert design.has_futility and design.futility_alpha == 0.024
    z_fut = np.where(np.isnan(design.z_futility), -np.inf, design.z_futility)
    assert np.array_equal(sim.z_futility, z_fut)
    n = sim.n_trials
    fut = np.cumsum(sim.prob_futility[:-1])
    assert np.all(within(fut, design.futility_probabilities(0.0)[:-1], n))
    assert np.all(within(sim.cumulative_efficacy, design.rejection_probabilities(0.0, futility=True), n))
    # non-binding: crossing the efficacy boundary ignoring futility still has probability <= alpha
    assert np.all(within(sim.crossing_probabilities, design.rejection_probabilities(0.0, futility=False), n))
    assert sim.prob_futility[0] > 0.2  # under H0 most trials stop for futility early


def test_user_design_and_futility_bounds():
    design = SimpleNamespace(z_efficacy=[3.0, 2.0])
    sim = simulate_trials(300, information_fractions=(0.5, 1.0), design=design,
                          futility=[0.0, np.nan], seed=2)
    assert sim.design is design
    crossed = sim.z[:, 0] >= 3.0
    futile = (sim.z[:, 0] < 0.0) & ~crossed
    assert np.array_equal(sim.decision[:, 0] == EFFICACY, crossed)
    assert np.array_equal(sim.decision[:, 0] == FUTILITY, futile)
    assert np.array_equal(sim.stop_look == 0, crossed | futile)


# --------------------------------------------------------------------------
# early stopping exaggerates the effect


def test_early_efficacy_stops_exaggerate_the_hazard_ratio(sim_h1):
    bias = sim_h1.early_stop_bias()
    early = sim_h1.efficacy & (sim_h1.stop_look < 2)
    assert bias.n_early == early.sum()
    lh = np.log(sim_h1.hr_at_stop[early])
    assert bias.mean_log_hr == pytest.approx(lh.mean())
    truth = math.log(HR_DESIGN)
    assert bias.bias == pytest.approx(lh.mean() - truth)
    assert bias.bias < -5 * bias.se  # more extreme than the truth, clearly
    assert -0.30 < bias.bias < -0.10  # about -0.2 on the log scale (HR ~0.48 vs 0.58)
    assert bias.hr_of_mean_log < HR_DESIGN
    # had every trial continued, the final Peto estimate would be close to the truth
    final = sim_h1.log_hr[:, -1]
    assert abs(final.mean() - truth) < 0.02
    assert "bias" in repr(bias)


# --------------------------------------------------------------------------
# the model pieces against closed forms


def test_strata_come_from_table1():
    assert tuple(AALL1331_STRATA) == tuple(s.value for s in risk.Stratum)
    # Table 1: intermediate 36 + 34; isolated extramedullary 10 + 10; marrow < 18 mo
    # MRD >= 0.1% 8 + 8, < 0.1% 9 + 10 + 1 unknown; 18-36 mo MRD >= 0.1% 19 + 19,
    # < 0.1% 22 + 21 + 1 unknown (footnote c)
    assert dict(AALL1331_STRATA) == {
        "intermediate": 70,
        "high, isolated extramedullary <18 mo": 20,
        "high, marrow <18 mo, MRD <0.1%": 20,
        "high, marrow <18 mo, MRD >=0.1%": 16,
        "high, marrow 18-36 mo, MRD <0.1%": 44,
        "high, marrow 18-36 mo, MRD >=0.1%": 38,
    }
    assert sum(AALL1331_STRATA.values()) == 208


def test_patients_follow_the_model():
    n_trials, n = 400, 220
    sim = simulate_trials(n_trials, cure_fraction=0.3, dropout_rate=0.1, seed=9, keep_patients=True)
    p = sim.patients
    total = n_trials * n
    # strata mix = Table 1 proportions
    props = np.array(sim.settings["strata_proportions"])
    assert np.allclose(props, np.array(list(AALL1331_STRATA.values())) / 208)
    counts = np.bincount(p["stratum"].ravel(), minlength=props.size) / total
    assert np.all(within(counts, props, total))
    # accrual: sorted, uniform on [0, 4.5] years
    assert np.all(np.diff(p["entry"], axis=1) >= 0)
    assert np.all((p["entry"] >= 0) & (p["entry"] <= 4.5))
    assert within(np.mean(p["entry"] < 1.5), 1 / 3, total)
    # control 2-year DFS 45% with plateau 30%; experimental S0(t) ** 0.58 (63% at 2 years)
    control, exp_arm = ~p["treatment"], p["treatment"]
    t = p["event_time"]
    for arm, s2, cure in ((control, 0.45, 0.3), (exp_arm, 0.45 ** 0.58, 0.3 ** 0.58)):
        m = int(arm.sum())
        assert within(np.mean(t[arm] > 2.0), s2, m)
        assert within(np.mean(np.isinf(t[arm])), cure, m)
    assert 0.45 ** 0.58 == pytest.approx(0.63, abs=0.005)  # the design's 63% (Methods)
    # dropout: exponential at 0.1 per year
    assert within(np.mean(p["dropout_time"] > 1.0), math.exp(-0.1), total)


def test_prognostic_strata():
    names = list(AALL1331_STRATA)
    multipliers = {names[0]: 0.4, names[3]: 2.5}  # intermediate good, early marrow MRD+ poor
    sim = simulate_trials(300, stratum_risk=multipliers, seed=21, keep_patients=True)
    p = sim.patients
    h = np.array(sim.settings["stratum_risk"])
    assert h[0] == 0.4 and h[3] == 2.5 and np.all(h[[1, 2, 4, 5]] == 1.0)
    control = ~p["treatment"]
    for s, mult in ((0, 0.4), (3, 2.5), (4, 1.0)):
        arm = control & (p["stratum"] == s)
        assert within(np.mean(p["event_time"][arm] > 2.0), 0.45 ** mult, int(arm.sum()))
    exp_arm = p["treatment"] & (p["stratum"] == 3)
    assert within(np.mean(p["event_time"][exp_arm] > 2.0), 0.45 ** (2.5 * 0.58), int(exp_arm.sum()))


def test_stratified_test_beats_unstratified_when_strata_are_prognostic():
    """Same trials, two analyses: ignoring strongly prognostic strata dilutes Z."""
    kwargs = dict(n_trials=1500, stratum_risk=[0.2, 1.0, 1.0, 5.0, 1.0, 3.0], seed=99)
    strat = simulate_trials(**kwargs)
    plain = simulate_trials(stratified=False, **kwargs)
    diff = strat.z[:, -1] - plain.z[:, -1]
    assert diff.mean() > 5 * diff.std() / math.sqrt(diff.size)
    assert strat.power > plain.power


def test_exponential_control_arm_rate():
    sim = simulate_trials(300, seed=4, keep_patients=True)
    t = sim.patients["event_time"][~sim.patients["treatment"]]
    rate = -math.log(0.45) / 2.0
    assert abs(t.mean() - 1 / rate) < 3 * (1 / rate) / math.sqrt(t.size)
    assert np.isfinite(t).all()


def test_permuted_blocks_bound_the_imbalance():
    sim = simulate_trials(500, seed=8, keep_patients=True, block_sizes=(2, 4))
    simple = simulate_trials(500, seed=8, keep_patients=True, randomization="simple")

    def worst(s):
        x = np.where(s.patients["treatment"], 1, -1)
        out = 0
        for k in range(len(AALL1331_STRATA)):
            running = np.cumsum(np.where(s.patients["stratum"] == k, x, 0), axis=1)
            out = max(out, int(np.abs(running).max()))
        return out

    assert worst(sim) == 2  # never more than half the largest block
    assert worst(simple) > 4
    assert within(sim.patients["treatment"].mean(), 0.5, sim.patients["treatment"].size)
    assert within(simple.patients["treatment"].mean(), 0.5, simple.patients["treatment"].size)
    fixed = simulate_trials(200, seed=8, keep_patients=True, block_sizes=(2,))
    assert worst(fixed) == 1


def test_given_entry_times_and_unreached_events():
    entry = np.linspace(0, 3, 60)
    sim = simulate_trials(50, 60, entry_times=entry[::-1], events=50, cure_fraction=0.4,
                          hazard_ratio=0.5, seed=6, keep_patients=True)
    assert np.all(sim.patients["entry"] == entry)  # patients enter in time order
    # with 40% (control) and 63% (experimental) cured, 50 events of 60 never come
    assert not sim.events_reached[:, -1].any()
    observable = np.isfinite(sim.patients["event_time"]) & (
        sim.patients["event_time"] <= sim.patients["dropout_time"])
    last = np.where(observable,
                    sim.patients["entry"] + sim.patients["event_time"], -np.inf).max(axis=1)
    assert np.allclose(sim.look_time[:, -1], last)
    assert np.all(sim.events[:, -1] < 50)
    capped = simulate_trials(50, 60, entry_times=entry, events=50, cure_fraction=0.4,
                             study_end=6.0, seed=6)
    assert np.all(capped.look_time[~capped.events_reached] == 6.0)
    assert np.all(capped.look_time <= 6.0)


def test_calendar_looks_use_mean_information():
    sim = simulate_trials(400, look_times=(2.5, 4.0, 6.0), seed=12)
    mean_events = sim.events.mean(axis=0)
    assert np.allclose(sim.information_fractions, mean_events / mean_events[-1])
    expected = sequential.group_sequential_design(mean_events / mean_events[-1]).z_efficacy
    assert np.allclose(sim.z_efficacy, expected)
    assert not np.all(sim.events == sim.events[0])  # event counts vary between trials


# --------------------------------------------------------------------------
# reproducibility, chunking, results


def test_seed_reproducible_and_chunks_differ():
    a = simulate_trials(30, seed=123, chunk_size=7)
    b = simulate_trials(30, seed=123, chunk_size=7)
    c = simulate_trials(30, seed=124, chunk_size=7)
    assert np.array_equal(a.z, b.z) and np.array_equal(a.look_time, b.look_time)
    assert not np.array_equal(a.z, c.z)
    assert len(np.unique(a.z[:, -1])) == 30  # no chunk repeats another
    g = simulate_trials(30, seed=np.random.default_rng(123), chunk_size=7)
    assert np.array_equal(g.z, a.z)


def test_chunking_bounds_memory():
    import tracemalloc

    tracemalloc.start()
    simulate_trials(2_000, chunk_size=250, seed=1)
    _, peak_small = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    simulate_trials(2_000, chunk_size=2_000, seed=1)
    _, peak_big = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak_small < peak_big / 3
    assert peak_big < 200 * 2**20


def test_result_is_frozen_and_displays(sim_h1):
    with pytest.raises(AttributeError):
        sim_h1.z = None
    with pytest.raises(ValueError):
        sim_h1.z[0, 0] = 1.0
    text = sim_h1.table()
    lines = text.splitlines()
    assert lines[0].split() == ["look", "info", "events", "years", "z_eff", "z_fut",
                                "P(eff)", "P(fut)", "cum", "eff", "HR|eff"]
    for k in range(3):
        cells = lines[1 + k].split()
        assert int(cells[0]) == k + 1
        assert float(cells[2]) == pytest.approx(sim_h1.events[:, k].mean(), abs=0.05)
        assert float(cells[3]) == pytest.approx(np.median(sim_h1.look_time[:, k]), abs=0.005)
        assert float(cells[4]) == pytest.approx(sim_h1.z_efficacy[k], abs=0.005)
        eff_here = sim_h1.efficacy & (sim_h1.stop_look == k)
        assert float(cells[-4]) == pytest.approx(eff_here.mean(), abs=5e-4)
        gm = math.exp(np.log(sim_h1.hr_at_stop[eff_here]).mean())
        assert float(cells[-1]) == pytest.approx(gm, abs=5e-4)
    assert f"power {sim_h1.power:.3f}" in lines[-1]
    assert "TrialSimulation(10000 trials x 220 patients" in repr(sim_h1)
    html = sim_h1._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == 4
    frame = sim_h1.to_frame()
    assert list(frame.index) == [1, 2, 3]
    assert np.allclose(frame["p_efficacy"], sim_h1.prob_efficacy)


def test_patient_data_needs_kept_patients(sim_h1, small):
    with pytest.raises(ValueError, match="keep_patients"):
        sim_h1.patient_data(0)
    with pytest.raises(ValueError, match="trial"):
        small.patient_data(99)
    with pytest.raises(ValueError, match="look"):
        small.patient_data(0, 5)
    with pytest.raises(TypeError, match="trial"):
        small.patient_data(1.0)


# --------------------------------------------------------------------------
# bad input is refused at the door, naming the argument


@pytest.mark.parametrize("kwargs, exc, name", [
    ({"n_trials": 0}, ValueError, "n_trials"),
    ({"n_trials": -3}, ValueError, "n_trials"),
    ({"n_trials": 2.5}, TypeError, "n_trials"),
    ({"n_trials": True}, TypeError, "n_trials"),
    ({"information_fractions": (0.5, 0.4, 1.0)}, ValueError, "information_fractions"),
    ({"information_fractions": (0.5, 0.5, 1.0)}, ValueError, "information_fractions"),
    ({"information_fractions": (0.5, 1.2)}, ValueError, "information_fractions"),
    ({"information_fractions": (0.0, 1.0)}, ValueError, "information_fractions"),
    ({"information_fractions": (0.001, 0.002, 1.0)}, ValueError, "information_fractions"),
    ({"look_times": (3.0, 2.0)}, ValueError, "look_times"),
    ({"look_times": (1.0, 2.0), "information_fractions": (0.5, 1)}, ValueError, "look_times"),
    ({"hazard_ratio": 0.0}, ValueError, "hazard_ratio"),
    ({"hazard_ratio": -0.5}, ValueError, "hazard_ratio"),
    ({"hazard_ratio": float("nan")}, ValueError, "hazard_ratio"),
    ({"hazard_ratio": "0.58"}, TypeError, "hazard_ratio"),
    ({"control_survival": 1.0}, ValueError, "control_survival"),
    ({"cure_fraction": 0.5}, ValueError, "cure_fraction"),
    ({"cure_fraction": -0.1}, ValueError, "cure_fraction"),
    ({"dropout_rate": -1.0}, ValueError, "dropout_rate"),
    ({"events": 300}, ValueError, "events"),
    ({"n_patients": 1}, ValueError, "n_patients"),
    ({"entry_times": [0.0, 1.0]}, ValueError, "entry_times"),
    ({"strata": {"a": 0.5, "b": 0.4}}, ValueError, "strata"),
    ({"strata": [0.5, -0.1, 0.6]}, ValueError, "strata"),
    ({"randomization": "minimization"}, ValueError, "randomization"),
    ({"block_sizes": (3,)}, ValueError, "block_sizes"),
    ({"block_sizes": (2, 4.0)}, ValueError, "block_sizes"),
    ({"design": SimpleNamespace(z_efficacy=[2.0, 1.9])}, ValueError, "design"),
    ({"design": object()}, TypeError, "design"),
    ({"futility": "sometimes"}, ValueError, "futility"),
    ({"futility": [0.0, 0.0]}, ValueError, "futility"),
    ({"chunk_size": 0}, ValueError, "chunk_size"),
    ({"stratified": "yes"}, TypeError, "stratified"),
    ({"stratum_risk": {"no such stratum": 2.0}}, ValueError, "stratum_risk"),
    ({"stratum_risk": [1.0, 2.0]}, ValueError, "stratum_risk"),
    ({"stratum_risk": [1.0, 2.0, 1.0, 1.0, 0.0, 1.0]}, ValueError, "stratum_risk"),
    ({"keep_patients": 1}, TypeError, "keep_patients"),
    ({"study_end": 0.0}, ValueError, "study_end"),
    ({"study_end": 4.0, "look_times": (2.0, 5.0)}, ValueError, "look_times"),
])
def test_bad_input(kwargs, exc, name):
    args = {"n_trials": 5, **kwargs}
    with pytest.raises(exc, match=name):
        simulate_trials(**args)


def test_kernel_bad_input():
    with pytest.raises(ValueError, match="time"):
        stratified_logrank_rows([1.0, 2.0], [1, 0], [1, 0])
    with pytest.raises(ValueError, match="same shape"):
        stratified_logrank_rows([[1.0, 2.0]], [[1]], [[1, 0]])
    with pytest.raises(ValueError, match="stratum"):
        stratified_logrank_rows([[1.0, 2.0]], [[1, 0]], [[1, 0]], [[0.5, 1.0]])
    with pytest.raises(ValueError, match="stratum"):
        stratified_logrank_rows([[1.0, 2.0]], [[1, 0]], [[1, 0]], [[0, 2]], n_strata=2)
    with pytest.raises(ValueError, match="time"):
        stratified_logrank_rows([[1.0, np.nan]], [[1, 0]], [[1, 0]])
    with pytest.raises(ValueError, match="event"):
        stratified_logrank_rows([[1.0, -1.0]], [[1, 1]], [[1, 0]])


# --------------------------------------------------------------------------
# the static site runs the library on Pyodide's scipy 1.14: no newer spelling


class _MultivariateNormal114:
    """``scipy.stats.multivariate_normal`` as scipy 1.14.1 (Pyodide 0.27.7, the static site)
    spells it, delegating to the installed scipy: freezing takes ``mean, cov,
    allow_singular, seed`` only (newer scipy also takes ``maxpts, abseps, releps``), and
    ``cdf`` takes no random generator (newer scipy: ``rng``)."""

    def __init__(self, real):
        self._real = real

    def __call__(self, mean=None, cov=1, allow_singular=False, seed=None):
        return self._real(mean=mean, cov=cov, allow_singular=allow_singular, seed=seed)

    def cdf(self, x, mean=None, cov=1, allow_singular=False, maxpts=None, abseps=1e-5,
            releps=1e-5, *, lower_limit=None):
        return self._real.cdf(x, mean=mean, cov=cov, allow_singular=allow_singular, maxpts=maxpts,
                              abseps=abseps, releps=releps, lower_limit=lower_limit)


def test_orthant_probabilities_work_with_the_static_sites_scipy(monkeypatch):
    """Lesson 06 failed on the static site: ``multivariate_normal(..., maxpts=...)`` is a
    TypeError on scipy 1.14.  The end-point agreement's exact values must come out the same
    with scipy 1.14's spelling of the API as with the installed scipy."""
    import scipy.stats

    from teachkit.simulate import COMMITTEE_CORRELATIONS, endpoint_agreement

    r = COMMITTEE_CORRELATIONS["moderate (assumed)"]
    installed = endpoint_agreement(r, 10, seed=1)
    monkeypatch.setattr(scipy.stats, "multivariate_normal",
                        _MultivariateNormal114(scipy.stats.multivariate_normal))
    old = endpoint_agreement(r, 10, seed=1)
    assert old.exact_all_favour == pytest.approx(installed.exact_all_favour, abs=1e-6)
    assert old.exact_any_significant == pytest.approx(installed.exact_any_significant, abs=1e-6)
    assert round(old.exact_all_favour, 3) == 0.155
    monkeypatch.undo()
    # reproducible on the installed scipy: bit for bit where its quasi-random points come from
    # the fixed generator teachkit passes (``rng``, newer scipy); to the algorithm's stated 1e-7
    # where scipy draws them from NumPy's global state (older scipy, e.g. on Python 3.10)
    import inspect
    again = endpoint_agreement(r, 10, seed=1).exact_all_favour
    if "rng" in inspect.signature(scipy.stats.multivariate_normal.cdf).parameters:
        assert again == installed.exact_all_favour
    else:
        assert again == pytest.approx(installed.exact_all_favour, abs=1e-7)
