"""Claims the lessons now make, checked by the computation they show (issue 13)."""

from __future__ import annotations

import math

import numpy as np

import teachkit as tk

F = tk.aall1331.fact


def test_trials_reaching_the_final_look_are_biased_towards_no_effect():
    """Lesson 07: with the replayer's own settings, early stoppers exaggerate, trials
    reaching the end understate, the every-trial final-look estimate is near the truth."""
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
