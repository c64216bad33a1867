"""Claims the lessons now make, checked by the computation they show (issue 13)."""

from __future__ import annotations

import html
import math

import numpy as np
import pytest

import teachkit as tk

F = tk.aall1331.fact


def test_at_the_design_hr_trials_reaching_the_final_look_show_too_little_benefit():
    """Lesson 07: with the replayer's own settings (true HR 0.58, the design's), early stoppers
    exaggerate, trials reaching the end understate, the every-trial final-look estimate is near
    the truth. (At other truths the second changes sign: see the bias tests below.)"""
    p = tk.explorers.TrialReplayer.defaults()
    k = p["n_looks"]
    fractions = np.arange(1, k + 1) / k
    planned = F("design.events_planned").value
    rule = dict(futility_alpha=F("design.futility_alpha").value,
                futility_drift=tk.sequential.drift_from_hazard_ratio(F("design.hazard_ratio").value, planned))
    plan = tk.sequential.group_sequential_design(fractions, alpha=F("design.alpha_one_sided").value,
                                                 spending=p["spending"], **(rule if p["futility"] else {}))
    sim = tk.simulate.simulate_trials(p["n_trials"], hazard_ratio=p["hazard_ratio"], events=planned,
                                      information_fractions=fractions, design=plan,
                                      futility="design" if plan.has_futility else None, seed=p["seed"])
    truth = math.log(p["hazard_ratio"])
    early = sim.efficacy & (sim.stop_look < k - 1)
    reached = sim.stop_look == k - 1
    final_all = sim.log_hr[:, -1]
    se = lambda x: x.std(ddof=1) / math.sqrt(x.size)
    assert np.log(sim.hr_at_stop[early]).mean() < truth - 4 * se(np.log(sim.hr_at_stop[early]))
    assert final_all[reached].mean() > truth + 4 * se(final_all[reached])
    assert abs(final_all.mean() - truth) < 0.03          # Peto estimate: nearly unbiased
    assert math.exp(final_all[reached].mean()) > 0.6


def test_replayer_shows_the_three_means_it_teaches():
    """Lesson 07's replayer returns (and draws) the mean among trials reaching the final
    look, above the truth, and every trial's final-look mean, near the truth."""
    ex = tk.explorers.TrialReplayer()
    r = ex.result
    truth = math.log(r.hazard_ratio)
    assert r.mean_log_hr_early < truth - 0.1
    assert r.mean_log_hr_reached > truth + 0.06          # HR about 0.64 against 0.58
    assert abs(r.mean_log_hr_final_all - truth) < 0.03
    shown = {round(float(ex._mean_reached.get_xdata()[0]), 6), round(float(ex._mean_final_all.get_xdata()[0]), 6)}
    assert shown == {round(math.exp(r.mean_log_hr_reached), 6), round(math.exp(r.mean_log_hr_final_all), 6)}
    assert f"{math.exp(r.mean_log_hr_reached):.2f}" in ex._title.get_text()


def test_aall1331_interim_estimate_close_to_final_and_follow_up_continued():
    """Lesson 07: the caution applies more weakly to AALL1331."""
    interim = tk.sequential.interim_report(
        F("interim.events").value, F("interim.events_planned").value, F("interim.p_dfs").value,
        hazard_ratio_design=F("design.hazard_ratio").value, futility_alpha=F("design.futility_alpha").value,
        alpha=F("design.alpha_one_sided").value)
    final = F("results.dfs_hazard_ratio").value["estimate"]
    final_events = sum(sum(F(f"table2.{k}").value.values()) for k in ("late_treatment_failure", "relapse", "death"))
    assert not interim.efficacy_met and not interim.futility_met
    assert abs(interim.hazard_ratio.estimate - final) < 0.03
    assert final_events > F("interim.events").value


def test_why_131_formula_choice_explains_most_of_the_gap():
    """Lesson 04: Schoenfeld with looks and futility stays well below 131; Freedman reaches it."""
    planned = F("design.events_planned").value
    why = tk.design.explain_planned_events(planned, F("design.hazard_ratio").value, F("design.alpha_one_sided").value,
                                           F("design.power").value, F("design.futility_alpha").value)
    schoenfeld = [e for label, e, _ in why.rows if label.startswith("Schoenfeld")]
    freedman = {label: e for label, e, _ in why.rows if label.startswith("Freedman")}
    s_fixed = min(schoenfeld)
    f_fixed = freedman["Freedman, fixed design"]
    assert max(schoenfeld) < planned - 4
    assert f_fixed - s_fixed > (planned - f_fixed)        # the formula is the larger part of the gap
    assert "binding" in why.rows[0][0]                    # the closest row assumes a binding rule
    nonbinding = [e for label, e in freedman.items() if "futility" in label and "binding" not in label]
    assert min(abs(e - planned) for e in nonbinding) < 1


def test_power_of_131_events_at_the_observed_hazard_ratio_is_low():
    """Lesson 04: 131 events give about half the power at HR 0.70."""
    hr = F("results.dfs_hazard_ratio").value["estimate"]
    planned = F("design.events_planned").value
    power = tk.design.power_at_events(hr, planned)
    assert 0.45 < power < 0.6
    assert power < F("design.power").value - 0.25


def test_followup_among_living_differs_from_reverse_km():
    """Lesson 01 shows both measures; they are computed on different patients."""
    cohort = tk.aall1331.synthetic_cohort()
    reverse = tk.survival.median_follow_up(cohort.os_time, cohort.os_event)
    living = float(np.median(cohort.os_time[cohort.os_event == 0]))
    assert reverse != living and 0 < living < cohort.os_time.max()


def test_final_analysis_after_the_look_is_not_significant_and_barely_adjusted():
    """Lesson 07 (issue 16): re-cut at the looks taken (80 and 107 events), the final
    boundary left is Z >= 1.970 (P <= .0244, rpact-checked in test_sequential); the
    reconstructed final Z does not cross it; the stage-wise P is above the naive one and
    above alpha; one-sided P = .03 means the two-sided 95% CI reaches past 1."""
    alpha = F("design.alpha_one_sided").value
    look, planned = F("interim.events").value, F("design.events_planned").value
    final = sum(sum(F(f"table2.{k}").value.values()) for k in ("late_treatment_failure", "relapse", "death"))
    spent = float(tk.sequential.obrien_fleming_spending(look / planned, alpha=alpha))
    recut = tk.sequential.group_sequential_design([look / final, 1.0], alpha=alpha, spending="user",
                                                  parameter=[spent, alpha])
    assert 1.96 < recut.z_efficacy[-1] < 1.98 and 0.024 < recut.p_efficacy[-1] < alpha
    z_look = -float(tk.sequential.monitoring.ndtri(F("interim.p_dfs").value))
    z_final = -math.log(F("results.dfs_hazard_ratio").value["estimate"]) * math.sqrt(final / 4)
    res = tk.sequential.inference_after_stop(recut, [z_look, z_final], [look, final])
    assert res.stage == 2 and not res.stopped_early
    assert z_final < recut.z_efficacy[-1]
    assert alpha < res.naive_p_value <= res.p_value < 0.04
    assert round(res.naive_p_value, 2) == F("results.dfs_p_one_sided").value
    assert res.ci_upper > 1 > res.ci_lower
    assert abs(res.hazard_ratio - res.naive_hazard_ratio) < 0.01          # barely adjusted
    assert res.repeated_ci_upper[0] > res.repeated_ci_upper[1] > 1        # wider at the look


def test_interim_monitor_spells_out_and_computes_predictive_power():
    """Lesson 06: the monitor's table row is "predictive power", defined in its key, and the
    number shown is the flat-prior predictive power Phi((z - c sqrt t) / sqrt(1 - t))."""
    from scipy.stats import norm

    ex = tk.explorers.InterimMonitor(**tk.explorers.june_2019_interim())
    rep = ex.result.report
    t, z, c = rep.information_fraction, rep.z, float(rep.design.z_efficacy[-1])
    expected = norm.cdf((z - c * math.sqrt(t)) / math.sqrt(1 - t))
    shown = dict(ex.numbers())            # the table under the picture
    assert shown["predictive power"] == f"{expected:.2f}"
    assert "Predictive power: CP averaged" in type(ex).KEY
    ex.widget                             # the key is printed under that table
    assert "Predictive power: CP averaged" in ex._numbers_html.value
    assert f"<th>predictive power</th><td style" in ex._numbers_html.value
    # the committee's reading: the design-effect CP is well above the trend's at this look
    cp_design = float(shown["CP, design HR"])
    cp_trend = float(shown["CP, current trend"])
    assert cp_design - cp_trend > 0.2 and abs(cp_trend - expected) < 0.05


def test_interim_reconstruction_is_labelled_and_reproduces_the_published_critical_p():
    """Lessons 05/06: the canonical monitoring plan (interims planned at 1/3 and 2/3, the
    June 2019 look the second, at 61%; P = .06 read one-sided) is a reconstruction; its label
    is in the report and in design_report, and it reproduces the published critical P (.004)."""
    plan = tk.aall1331.monitoring_plan()
    note = plan.label
    assert "reconstruction" in note and "one-sided" in note and "second" in note
    assert tk.aall1331.INTERIM_ASSUMPTIONS == note
    r = plan.interim_report()
    assert r.table().splitlines()[-1].startswith("assumptions") and note in r.table()
    assert round(r.p_efficacy, 3) == F("interim.p_critical").value
    report = tk.aall1331.design_report()
    assert f"Reconstruction: {note}" in report


def test_events_planner_plateau_131_out_of_reach_with_the_planned_patients():
    """Lesson 04/07: under the plateau model the planner shows that the planned 220 patients
    can give at most about 110 events, fewer than 131; under constant hazard, all 220."""
    planned = F("design.patients_planned").value
    ex = tk.explorers.EventsPlanner(model="plateau", patients_available=planned)
    r = ex.result
    # independent closed form: pi from S(2) = pi + (1 - pi) q, q = 2^(-2 / median); D_max
    q = 2.0 ** (-2.0 / (F("follow_up.dfs_event_median_months").value / 12))
    s0, hr = F("design.control_2y_dfs").value, F("design.hazard_ratio").value
    pi = (s0 - q) / (1 - q)
    d_max = planned * (0.5 * (1 - pi ** hr) + 0.5 * (1 - pi))
    assert math.isclose(r.cure_fraction, pi, rel_tol=1e-12)
    assert math.isclose(r.max_events_available, d_max, rel_tol=1e-12)
    assert r.max_events_available < F("design.events_planned").value - 15
    assert r.expected[-1] < r.patients * (1 - pi * 0.99)        # the curve plateaus below all patients
    assert f"at most {d_max:.0f}" in ex._title.get_text() and ex._ceiling.get_ydata()[0] == r.max_events_available
    constant = tk.explorers.EventsPlanner(patients_available=planned).result
    assert constant.max_events_available == planned and constant.patients < r.patients
    # the curve the ceiling bounds is the one for the patients available (issue 26, item 7: the
    # curve for the patients needed climbed above the ceiling), and it nears the ceiling
    for res in (r, constant, tk.explorers.EventsPlanner(model="plateau", patients_available=600).result):
        assert res.expected_available.max() <= res.max_events_available * (1 + 1e-9)
        assert res.expected_available[-1] > 0.9 * res.max_events_available
    assert r.expected.max() > r.max_events_available       # the patients needed: above it, and labelled so
    labels = [t.get_text() for t in ex._ax.get_legend().get_texts()]
    assert "expected events,\npatients needed" in labels and "expected events,\npatients available" in labels


# ------------------------------------------------------------------------------------------
# Issue 25: every statement that rests on a computation, computed at more than one setting
# ------------------------------------------------------------------------------------------

from scipy import integrate, stats  # noqa: E402
from scipy.special import ndtr, ndtri  # noqa: E402

PLAN = tk.aall1331.monitoring_plan()


def _planned_design(futility=True, binding=False):
    theta = tk.sequential.drift_from_hazard_ratio(PLAN.hazard_ratio, PLAN.events_planned)
    rule = dict(futility_alpha=PLAN.futility_alpha, futility_drift=theta, binding_futility=binding) if futility else {}
    return tk.sequential.group_sequential_design(PLAN.planned_fractions, alpha=PLAN.alpha, **rule)


def test_loglog_band_reaches_further_down_above_one_over_e_and_up_below():
    """Issue 25, item 3: lesson 01's old claim ("further towards 1/2 than towards the nearer
    end") is false for S in (1/e, 0.5); the band reaches further towards 0 there."""
    def band(s, se):            # the log-log interval by hand: S^exp(-/+ z se / (S log S))
        w = ndtri(0.975) * se / (s * abs(math.log(s)))
        return s ** math.exp(w), s ** math.exp(-w)

    for s, se, expected in ((0.20, 0.05, "towards 1"), (0.30, 0.09, "towards 1"), (0.40, 0.05, "towards 0"),
                            (0.45, 0.10, "towards 0"), (0.49, 0.02, "towards 0"), (0.75, 0.08, "towards 0")):
        lo, hi = band(s, se)
        r = tk.survival.confidence_reach(s, se)
        assert (r.lower, r.upper) == pytest.approx((lo, hi), rel=1e-12)
        assert r.longer == expected, (s, se)
        nearer_end_is_zero = s < 0.5
        old_claim = "towards 1" if nearer_end_is_zero else "towards 0"        # "towards 1/2"
        assert (r.longer == old_claim) == (not (math.exp(-1) < s < 0.5)), s
    # the Kaplan-Meier explorer's opening state: S 0.448, CI 0.188-0.680, longer towards 0
    fit = tk.explorers.KaplanMeierBuilder().result.fit
    i = int(np.argmin(np.abs(fit.survival - 0.448)))
    r = tk.survival.confidence_reach(fit.survival[i], fit.std_err[i])
    assert (round(r.lower, 3), round(r.upper, 3), r.longer) == (0.188, 0.68, "towards 0")
    # other interval types: log always reaches further up; plain is symmetric
    assert tk.survival.confidence_reach(0.6, 0.1, conf_type="log").longer == "towards 1"
    assert tk.survival.confidence_reach(0.6, 0.1, conf_type="plain").longer == "equal"
    with pytest.raises(ValueError, match="survival"):
        tk.survival.confidence_reach(1.0, 0.1)
    with pytest.raises(TypeError, match="std_err"):
        tk.survival.confidence_reach(0.5, "0.1")


@pytest.mark.parametrize("hr, expected, direction", [(0.58, 0.643, "away from benefit"),
                                                     (0.70, 0.707, "away from benefit"),
                                                     (1.00, 0.845, "towards benefit")])
def test_bias_of_trials_reaching_the_final_look_depends_on_the_truth(hr, expected, direction):
    """Issue 25, item 5: with the futility rule followed, trials reaching the final look report
    on average about 0.643 / 0.706 / 0.845 at true HR 0.58 / 0.70 / 1.00: biased TOWARDS benefit
    when there is no effect. Exact (bias_by_stopping) against a simulation of whole trials."""
    design = _planned_design()
    exact = tk.sequential.bias_by_stopping(design, hr, PLAN.events_planned)
    assert round(exact.hr_reached_final, 3) == expected
    assert exact.direction_reached_final == direction
    sim = tk.simulate.simulate_trials(4000, hazard_ratio=hr, events=PLAN.events_planned,
                                      information_fractions=PLAN.planned_fractions, design=design,
                                      futility="design", seed=25)
    k = len(PLAN.planned_fractions) - 1
    reached = sim.stop_look == k
    log_hr = sim.log_hr[reached, -1]
    se = log_hr.std(ddof=1) / math.sqrt(log_hr.size)
    assert abs(log_hr.mean() - math.log(exact.hr_reached_final)) < 4 * se + 0.01
    assert abs(reached.mean() - exact.p_reached_final) < 4 * math.sqrt(exact.p_reached_final * (1 - exact.p_reached_final) / 4000)
    early = sim.efficacy & (sim.stop_look < k)
    if early.sum() > 30:
        lh = np.log(sim.hr_at_stop[early])
        assert abs(lh.mean() - math.log(exact.hr_early_efficacy)) < 4 * lh.std(ddof=1) / math.sqrt(lh.size) + 0.02
        assert exact.hr_early_efficacy < hr                      # early stops exaggerate, always
    # without the futility rule the trials reaching the end always show too little benefit
    ignored = tk.sequential.bias_by_stopping(design, hr, PLAN.events_planned, futility=False)
    assert ignored.hr_reached_final > hr and ignored.direction_reached_final == "away from benefit"


def test_bias_by_stopping_checks_its_arguments():
    d = _planned_design()
    with pytest.raises(TypeError, match="design"):
        tk.sequential.bias_by_stopping("design", 0.7, 131)
    with pytest.raises(ValueError, match="hazard_ratio"):
        tk.sequential.bias_by_stopping(d, -1, 131)
    with pytest.raises(ValueError, match="events"):
        tk.sequential.bias_by_stopping(d, 0.7, 0)
    with pytest.raises(TypeError, match="futility"):
        tk.sequential.bias_by_stopping(d, 0.7, 131, futility="yes")


def test_expected_events_from_220_patients_is_the_other_reading_of_131():
    """Issue 25, item 8: 220 patients accrued over 4.49 years and followed 1 more year give
    about 131.5 'anticipated' events under the design's constant-hazard model (closed form);
    under the plateau model far fewer. Both readings are presented, neither preferred."""
    why = tk.design.explain_planned_events()
    accrual = float((np.datetime64("2019-06-30", "D") - np.datetime64("2015-01", "D")).astype(int)) / 365.25
    lam0 = -math.log(F("design.control_2y_dfs").value) / 2
    def share(lam, a=accrual, f=1.0):  # uniform entry on (0, a), analysis at a + f: closed form
        return 1 - (math.exp(-lam * f) - math.exp(-lam * (a + f))) / (lam * a)
    closed = 110 * share(lam0) + 110 * share(lam0 * 0.58)
    assert why.anticipated == pytest.approx(closed, rel=1e-6) and round(why.anticipated, 1) == 131.5
    assert abs(why.rows[0][1] - 131) < 0.5                          # the formula reading also fits
    assert all("most plausible" not in r for r in why.readings)
    assert "anticipated" in why.readings[1] and "power calculation" in why.readings[0]
    assert "most plausible" not in tk.design.explain_planned_events.__doc__
    # at another follow-up the anticipated events move (the reading rests on an assumption)
    assert tk.design.explain_planned_events(follow_up=0.5).anticipated == pytest.approx(
        110 * share(lam0, f=0.5) + 110 * share(lam0 * 0.58, f=0.5), rel=1e-6)
    # the plateau model (lesson 04) with the same patients and follow-up gives far fewer
    pi = tk.design.cure_fraction_from_survival(0.45, 2, 0.5)
    lam = tk.design.latency_hazard(0.45, 2, pi)
    plateau = float(tk.design.expected_events(accrual + 1, 220, accrual, lam, 0.58, cure_fraction=pi))
    assert plateau < 110


def test_interim_and_final_hazard_ratios_agree_only_weakly():
    """Issue 25, item 6: interim HR 0.71 (P = .06 one-sided) or 0.66 (two-sided) vs final 0.70;
    80 of 107 events shared: correlation sqrt(80/107) = 0.86."""
    for p, expected in ((PLAN.interim_p, 0.71), (PLAN.interim_p / 2, 0.66)):
        z = -ndtri(p)
        assert round(math.exp(-z / math.sqrt(PLAN.interim_events / 4)), 2) == expected
    assert round(PLAN.interim_hazard_ratio, 2) == 0.71 and round(PLAN.interim_hazard_ratio_two_sided, 2) == 0.66
    assert round(PLAN.shared_events_correlation, 2) == 0.86
    # the correlation of two nested log-rank statistics is sqrt(D1/D2): check by simulation
    rng = np.random.default_rng(6)
    inc = rng.standard_normal((200_000, 2)) * np.sqrt([80, 27])
    z1, z2 = inc[:, 0] / math.sqrt(80), inc.sum(axis=1) / math.sqrt(107)
    assert np.corrcoef(z1, z2)[0, 1] == pytest.approx(PLAN.shared_events_correlation, abs=0.005)


def test_closing_randomization_cost_about_a_dozen_patients_and_six_events():
    """Issue 25, item 9: 220 planned, 208 analysed; about 6 of the 24 missing events; the
    plateau explains most of the shortfall (220 patients could never give 131)."""
    c = tk.aall1331.closure_cost()
    assert (c.patients_lost, c.events_missing) == (12, 24)
    assert c.events_lost_proportional == pytest.approx(12 * 107 / 208)
    assert 5 < c.events_lost_model < 8 and 5 < c.events_lost_proportional < 8
    assert c.max_events_planned < 131 and c.events_by_cutoff_planned < 131
    # independent check of the plateau model's expected events by numerical integration
    s0, s1 = 0.39, 0.544
    hr = math.log(s1) / math.log(s0)
    q = 2 ** (-2 / 0.5)
    pi = (s0 - q) / (1 - q)
    lam = -math.log((s0 - pi) / (1 - pi)) / 2
    S0 = lambda t: pi + (1 - pi) * math.exp(-lam * t)
    a = float((np.datetime64("2019-06-30", "D") - np.datetime64("2015-01", "D")).astype(int)) / 365.25
    c_end = float((np.datetime64("2020-09-30", "D") - np.datetime64("2015-01", "D")).astype(int)) / 365.25
    per_patient = integrate.quad(lambda e: 0.5 * (1 - S0(c_end - e)) + 0.5 * (1 - S0(c_end - e) ** hr), 0, a)[0] / a
    assert c.events_by_cutoff_planned == pytest.approx(220 * per_patient, rel=1e-6)
    assert c.events_lost_model == pytest.approx(12 * per_patient, rel=1e-6)


@pytest.mark.parametrize("looks, seed", [(3, 5), (5, 6)])
def test_naive_testing_exact_type_one_error_beside_the_simulation(looks, seed):
    """Lesson 05: testing at 1.96 at equally spaced looks, exact (5.36% for 3) beside a simulation."""
    exact = tk.sequential.naive_type_one_error(looks)
    rng = np.random.default_rng(seed)
    n = 200_000
    z = rng.standard_normal((n, looks)).cumsum(axis=1) / np.sqrt(np.arange(1, looks + 1))
    sim = float((z >= 1.959964).any(axis=1).mean())
    assert abs(sim - exact) < 4 * math.sqrt(exact * (1 - exact) / n)
    if looks == 3:
        assert f"{exact:.2%}" == "5.36%"
    # with one look it is alpha, and a bivariate closed form for two
    assert tk.sequential.naive_type_one_error(1) == pytest.approx(0.025, abs=1e-9)
    two = 1 - stats.multivariate_normal(cov=[[1, math.sqrt(0.5)], [math.sqrt(0.5), 1]]).cdf([1.959964, 1.959964])
    assert tk.sequential.naive_type_one_error(2) == pytest.approx(two, abs=1e-5)


def test_observed_power_is_a_restatement_of_p_and_the_design_question_stays():
    """Issue 25, item 2: 'power at the observed HR with the observed events' equals
    Phi(Z_obs - z_{1-alpha}), a function of P alone (50% when P = alpha): Hoenig & Heisey 2001.
    The design question (true HR 0.70, 131 events: 53%) is a different number."""
    for p in (0.0325, 0.025, 0.2):
        z = -ndtri(p)
        for events in (60, 107, 300):
            hr_obs = math.exp(-z / math.sqrt(events / 4))
            observed_power = tk.design.power_at_events(hr_obs, events)
            assert observed_power == pytest.approx(ndtr(z - ndtri(0.975)), abs=1e-12)
        if p == 0.025:
            assert observed_power == pytest.approx(0.5, abs=1e-4)
    hr_final = F("results.dfs_hazard_ratio").value["estimate"]
    assert round(tk.design.power_at_events(hr_final, 131), 2) == 0.53
    assert "hoenig_heisey_2001" in tk.aall1331.REFERENCES


@pytest.mark.parametrize("z, events, allocation, design_hr", [(1.5548, 80, 0.5, 0.58),
                                                              (0.4, 200, 0.6, 0.7),
                                                              (-1.0, 40, 0.5, 0.5)])
def test_posterior_probability_closed_form_and_monte_carlo(z, events, allocation, design_hr):
    below = np.array([1.0, 0.8, 0.58])
    info = events * allocation * (1 - allocation)
    est = -z / math.sqrt(info)
    # flat prior: the posterior is the likelihood N(est, 1/info)
    flat = tk.sequential.posterior_probability(z, events, below, allocation=allocation, design_hr=design_hr)
    np.testing.assert_allclose(flat.probability, stats.norm.cdf(np.log(below), est, 1 / math.sqrt(info)), rtol=1e-12)
    # sceptical prior: N(0, s0^2) with P(HR < design_hr) = .05; conjugate closed form
    s0 = math.log(design_hr) / stats.norm.ppf(0.05)
    post_var = 1 / (info + 1 / s0 ** 2)
    post_mean = post_var * info * est
    sc = tk.sequential.posterior_probability(z, events, below, prior="sceptical", design_hr=design_hr,
                                             allocation=allocation)
    np.testing.assert_allclose(sc.probability, stats.norm.cdf(np.log(below), post_mean, math.sqrt(post_var)), rtol=1e-12)
    assert stats.norm.cdf(math.log(design_hr), 0, s0) == pytest.approx(0.05)
    # Monte Carlo: draw the effect from the prior, weight by the likelihood of the estimate
    rng = np.random.default_rng(11)
    n = 400_000
    for prior_draws, result in ((rng.uniform(-4, 4, n), flat), (rng.normal(0, s0, n), sc)):
        w = stats.norm.pdf(est, prior_draws, 1 / math.sqrt(info))
        mc = np.array([(w * (prior_draws < math.log(b))).sum() / w.sum() for b in below])
        ess = w.sum() ** 2 / (w ** 2).sum()
        assert np.all(np.abs(mc - np.asarray(result)) < 4 * np.sqrt(mc * (1 - mc) / ess) + 1e-3)
    # a sceptic is less convinced than a flat prior whenever the data favour benefit
    if z > 0:
        assert np.all(np.asarray(sc.probability) < np.asarray(flat.probability))
    assert float(tk.sequential.posterior_probability(z, events, 1.0)) == pytest.approx(float(flat.probability[0]))


def test_posterior_probability_at_the_june_2019_look_and_its_argument_checks():
    flat = tk.sequential.posterior_probability(PLAN.interim_z, PLAN.interim_events, [1, 0.8, 0.58])
    sc = tk.sequential.posterior_probability(PLAN.interim_z, PLAN.interim_events, [1, 0.8, 0.58], prior="sceptical")
    assert [round(float(p), 2) for p in flat.probability] == [0.94, 0.71, 0.19]
    assert [round(float(p), 2) for p in sc.probability] == [0.90, 0.53, 0.05]
    assert "sceptical prior" in sc.table() and "P(HR < 0.8)" in repr(flat)
    for kwargs, error, name in ((dict(prior="optimistic"), ValueError, "prior"), (dict(prior=1), TypeError, "prior"),
                                (dict(design_hr=1.2), ValueError, "design_hr"), (dict(allocation=1.0), ValueError, "allocation")):
        with pytest.raises(error, match=name):
            tk.sequential.posterior_probability(1.5, 80, 1.0, **kwargs)
    for args, error, name in (((1.5, 0, 1.0), ValueError, "events"), (("1.5", 80, 1.0), TypeError, "z"),
                              ((1.5, 80, [1.0, -0.5]), ValueError, "below"), ((1.5, 80, "one"), TypeError, "below")):
        with pytest.raises(error, match=name):
            tk.sequential.posterior_probability(*args)
    with pytest.raises(TypeError):
        float(flat)                                   # several thresholds: no single float


@pytest.mark.parametrize("setting", ["independent", "moderate (assumed)", "strong (assumed)"])
def test_how_often_everything_favours_the_new_arm_under_h0(setting):
    """Issue 25, committee's tools: correlated, unadjusted end points under no effect."""
    r = tk.simulate.COMMITTEE_CORRELATIONS[setting]
    res = tk.simulate.endpoint_agreement(r, 200_000, seed=7)
    assert res.names == ("DFS", "OS", "MRD", "toxicity") and "assumptions" in res.label
    assert abs(res.p_all_favour - res.exact_all_favour) < 4 * res.se_all_favour
    se_any = math.sqrt(res.exact_any_significant * (1 - res.exact_any_significant) / 200_000)
    assert abs(res.p_any_significant - res.exact_any_significant) < 4 * se_any
    np.testing.assert_allclose(res.p_per_endpoint, 0.5, atol=0.005)
    assert res.exact_all_favour >= 1 / 16 - 1e-6                     # correlation only raises it
    # closed forms: three end points (orthant probability of a trivariate normal)
    r3 = r[:3, :3]
    trivariate = 1 / 8 + (math.asin(r3[0, 1]) + math.asin(r3[0, 2]) + math.asin(r3[1, 2])) / (4 * math.pi)
    three = tk.simulate.endpoint_agreement(r3, 10, names=("DFS", "OS", "MRD"), seed=1)
    assert three.exact_all_favour == pytest.approx(trivariate, abs=1e-5)
    bivariate = 0.25 + math.asin(r[0, 1]) / (2 * math.pi)
    assert tk.simulate.endpoint_agreement(r[:2, :2], 10, names=("DFS", "OS")).exact_all_favour == pytest.approx(bivariate, abs=1e-6)


def test_endpoint_agreement_checks_its_arguments():
    with pytest.raises(ValueError, match="correlation"):
        tk.simulate.endpoint_agreement([[1, 0.9], [0.9, 1.0], [0, 0]])
    with pytest.raises(ValueError, match="correlation"):
        tk.simulate.endpoint_agreement(np.array([[1, 0.99, 0], [0.99, 1, 0.99], [0, 0.99, 1]]),
                                       names=("a", "b", "c"))          # not positive definite
    with pytest.raises(TypeError, match="correlation"):
        tk.simulate.endpoint_agreement("high")
    with pytest.raises(TypeError, match="names"):
        tk.simulate.endpoint_agreement(0.3, names="DFS")
    with pytest.raises(TypeError, match="n_trials"):
        tk.simulate.endpoint_agreement(0.3, n_trials=1.5)
    with pytest.raises(ValueError, match="alpha"):
        tk.simulate.endpoint_agreement(0.3, alpha=0.7)


def test_toxic_deaths_by_age_as_the_paper_reports_them():
    """Issue 25 (safety): 5 toxic deaths on chemotherapy, 4 'adolescents and young adults' aged
    14, 17, 23 and 26 (Results, AE End Point); by the paper's AYA subgroup (18-30 y), 2 of 18."""
    t = tk.aall1331.toxic_deaths_by_age()
    assert t.ages == (14, 17, 23, 26)
    older = 10 + 8                               # Table 1, chemotherapy aged 18-20 and 21-27
    assert (t.deaths_older, t.patients_older, t.deaths_younger, t.patients_younger) == (2, older, 3, 103 - older)
    assert t.comparison.fisher_p_value == pytest.approx(stats.fisher_exact([[2, older - 2], [3, 103 - older - 3]]).pvalue)
    assert t.comparison.fisher_p_value > 0.05
    assert "not triggered" in F("safety.ae_stopping_rule").value
    assert F("safety.ae_stopping_rule").source == "Discussion"


def test_closure_and_remedy_statements_carry_sources():
    for name in ("closure.data_cutoff", "closure.excluded_after_cutoff", "closure.crossover_mentioned",
                 "closure.no_rule_triggered", "closure.multiplicity", "closure.end_point_standing"):
        assert F(name).source
    assert sum(F("closure.excluded_after_cutoff").value.values()) == 6
    assert F("closure.end_point_standing").value["MRD negativity"] == "exploratory"
    for remedy in tk.aall1331.REMEDIES:
        assert remedy["sources"] and all(s in tk.aall1331.REFERENCES for s in remedy["sources"])
    assert all(s in tk.aall1331.REFERENCES for s in tk.aall1331.SECONDARY_END_POINTS["sources"])


def test_replayer_bias_text_follows_its_settings():
    """Issue 25, item 5 / issue 26, item 7: the replayer's words about bias are computed with its
    settings: they change after a move, and the direction flips with the truth."""
    ex = tk.explorers.TrialReplayer(n_trials=500)
    first = ex.bias_text()
    assert "too little benefit" in first and f"true {ex.result.hazard_ratio:.2f}" in first
    ex.update(hazard_ratio=1.0)
    second = ex.bias_text()
    assert second != first and "too much benefit" in second and "true 1.00" in second
    assert second in ex.describe() and html.escape(second) in ex._note(ex.result)
    ex.update(futility=False)
    assert "about right here: few trials stopped early" in ex.bias_text()
    exact = tk.sequential.bias_by_stopping(tk.explorers.replay._design(3, "obrien-fleming", False), 1.0, 131,
                                           futility=False)
    assert f"{exact.hr_reached_final:.3f}" in ex.bias_text()
    assert "One look only" in tk.explorers.replay.bias_sentence(0.7, 1, "obrien-fleming", True)
