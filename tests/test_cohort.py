"""The synthetic AALL1331 cohort: exact counts, calibrated survival summaries, re-censoring.

Targets are the published numbers (Brown PA et al., JAMA 2021;325(9):833-842),
typed here independently of teachkit's data files.  Survival summaries are
computed with teachkit's own estimators and cross-checked with lifelines.
"""

from __future__ import annotations


import numpy as np
import pytest

import teachkit as tk
from teachkit.cohort import (SYNTHETIC_LABEL, CalibrationTable, SyntheticCohort, calibration_table,
                             synthetic_cohort)
from teachkit.risk import assign_risk_group, randomization_stratum

B, C = "blinatumomab", "chemotherapy"
YEAR = 365.25
MONTH = YEAR / 12

# published targets
DFS_2Y = {B: 54.4, C: 39.0}
OS_2Y = {B: 71.3, C: 58.4}
HR_DFS, HR_OS = 0.70, 0.62
FIRST_EVENTS = {B: {"late treatment failure": 1, "relapse": 35, "death": 12},
                C: {"late treatment failure": 9, "relapse": 32, "death": 18}}
MRD_NEG = {"reinduction": {B: 26, C: 31}, "cycle_1": {B: 79, C: 33}, "cycle_2": {B: 69, C: 33}}
HSCT = {B: 74, C: 44}
STRATA = {  # Table 1, missing MRD counted in the "< 0.1%" stratum (footnote c)
    B: {"intermediate": 36, "high, isolated extramedullary <18 mo": 10,
        "high, marrow <18 mo, MRD >=0.1%": 8, "high, marrow <18 mo, MRD <0.1%": 9 + 1,
        "high, marrow 18-36 mo, MRD >=0.1%": 19, "high, marrow 18-36 mo, MRD <0.1%": 22 + 0},
    C: {"intermediate": 34, "high, isolated extramedullary <18 mo": 10,
        "high, marrow <18 mo, MRD >=0.1%": 8, "high, marrow <18 mo, MRD <0.1%": 10 + 0,
        "high, marrow 18-36 mo, MRD >=0.1%": 19, "high, marrow 18-36 mo, MRD <0.1%": 21 + 1},
}


@pytest.fixture(scope="module")
def cohort():
    return synthetic_cohort()


def km_2y(time, event):
    return 100 * float(tk.survival.kaplan_meier(time, event).survival_at(2.0))


# ---------------------------------------------------------------- calibrated survival summaries


@pytest.mark.parametrize("arm", [B, C])
def test_two_year_dfs_and_os_within_1_5_points(cohort, arm):
    m = cohort.arm == arm
    assert abs(km_2y(cohort.dfs_time[m], cohort.dfs_event[m]) - DFS_2Y[arm]) <= 1.5
    assert abs(km_2y(cohort.os_time[m], cohort.os_event[m]) - OS_2Y[arm]) <= 1.5


def test_stratified_cox_hazard_ratios_within_0_03(cohort):
    for time_, event, target in ((cohort.dfs_time, cohort.dfs_event, HR_DFS),
                                 (cohort.os_time, cohort.os_event, HR_OS)):
        fit = tk.cox.cox_ph(time_, event, cohort.treatment.astype(float), strata=cohort.stratum.astype(str))
        assert abs(fit.hazard_ratio[0] - target) <= 0.03


def test_interim_events_and_follow_up(cohort):
    interim = cohort.at_cutoff("2019-06-30")
    assert abs(int(interim.dfs_event.sum()) - 80) <= 2
    assert abs(float(tk.survival.median_follow_up(cohort.os_time, cohort.os_event)) - 2.9) <= 0.2


def test_interim_logrank_close_to_published_p(cohort):
    """Secondary target: at the interim the one-sided DFS P was .06 (Z = 1.55); statsmodels cross-check."""
    interim = cohort.at_cutoff("2019-06-30")
    test = tk.survival.logrank_test(interim.dfs_time, interim.dfs_event, interim.arm, strata=interim.stratum,
                                    treatment=B)
    assert abs(test.z - 1.555) <= 0.25 and test.z > 0
    survfunc = pytest.importorskip("statsmodels.duration.survfunc")
    chi2, p = survfunc.survdiff(interim.dfs_time, interim.dfs_event.astype(int), interim.arm,
                                strata=interim.stratum.astype(str))
    assert chi2 == pytest.approx(test.z ** 2, rel=1e-9)


def test_lifelines_agrees(cohort):
    pd = pytest.importorskip("pandas")
    lifelines = pytest.importorskip("lifelines")
    for arm in (B, C):
        m = cohort.arm == arm
        for time_, event, target in ((cohort.dfs_time, cohort.dfs_event, DFS_2Y),
                                     (cohort.os_time, cohort.os_event, OS_2Y)):
            kmf = lifelines.KaplanMeierFitter().fit(time_[m], event[m])
            s = 100 * float(kmf.survival_function_at_times(2.0).iloc[0])
            assert s == pytest.approx(km_2y(time_[m], event[m]), abs=1e-9)
            assert abs(s - target[arm]) <= 1.5
    for time_, event, target in ((cohort.dfs_time, cohort.dfs_event, HR_DFS),
                                 (cohort.os_time, cohort.os_event, HR_OS)):
        frame = pd.DataFrame({"T": time_, "E": event.astype(int), "x": cohort.treatment.astype(int),
                              "s": cohort.stratum.astype(str)})
        fit = lifelines.CoxPHFitter().fit(frame, "T", "E", strata=["s"])
        assert abs(float(fit.hazard_ratios_["x"]) - target) <= 0.03
    # reverse Kaplan-Meier: follow-up "events" are the censorings
    kmf = lifelines.KaplanMeierFitter().fit(cohort.os_time, ~cohort.os_event)
    assert abs(kmf.median_survival_time_ - 2.9) <= 0.2


def test_calibration_table_reports_every_target(cohort):
    table = calibration_table(cohort)
    assert isinstance(table, CalibrationTable) and table.all_ok
    names = [r[0] for r in table.rows]
    assert len(names) == 28 and len(set(names)) == 28
    text = table.table()
    assert SYNTHETIC_LABEL in text and "NO" not in text.split()
    # the table's numbers are the ones computed here
    row = dict((r[0], r) for r in table.rows)
    m = cohort.arm == C
    assert row["2-year DFS, chemotherapy (%)"][3] == pytest.approx(km_2y(cohort.dfs_time[m], cohort.dfs_event[m]))
    assert row["DFS events at 30 Jun 2019 interim"][3] == cohort.at_cutoff("2019-06-30").dfs_event.sum()
    pytest.importorskip("pandas")
    assert table.to_frame().shape == (28, 5)
    with pytest.raises(TypeError, match="cohort"):
        calibration_table("cohort")


def test_a_cohort_off_target_is_flagged():
    off = synthetic_cohort(calibration={"post_relapse_deaths": {B: 5, C: 5}})
    table = calibration_table(off)
    assert not table.all_ok
    failed = {r[0] for r in table.rows if not r[4]}
    assert "2-year OS, blinatumomab (%)" in failed and "NO" in table.table()


# ---------------------------------------------------------------- exact counts


def test_arms_and_strata_as_table1(cohort):
    assert len(cohort) == 208
    assert (cohort.arm == B).sum() == 105 and (cohort.arm == C).sum() == 103
    assert np.array_equal(cohort.treatment, cohort.arm == B)
    for arm in (B, C):
        m = cohort.arm == arm
        got = {s: int((cohort.stratum[m] == s).sum()) for s in STRATA[arm]}
        assert got == STRATA[arm]
        assert int(np.isnan(cohort.mrd_reinduction[m]).sum()) == 1
        assert int((cohort.risk_group[m] == "high").sum()) == 69
        assert (cohort.female[m].sum(), arm) in ((48, B), (49, C))
    # Table 1 age bands at enrolment
    bands = [(1, 10), (10, 13), (13, 18), (18, 21), (21, 28)]
    expected = {B: [55, 10, 25, 8, 7], C: [55, 11, 19, 10, 8]}
    for arm in (B, C):
        age = cohort.age[cohort.arm == arm]
        assert [int(((age >= lo) & (age < hi)).sum()) for lo, hi in bands] == expected[arm]


def test_every_patient_satisfies_the_risk_rules(cohort):
    for i in range(len(cohort)):
        mrd = cohort.mrd_reinduction[i]
        args = (cohort.site[i], cohort.months_from_diagnosis[i])
        assert randomization_stratum(*args, mrd=None if np.isnan(mrd) else mrd).value == cohort.stratum[i]
        assert assign_risk_group(*args, mrd=None if np.isnan(mrd) else mrd).value == cohort.risk_group[i]


def test_first_events_mrd_and_transplant_as_table2(cohort):
    for arm in (B, C):
        m = cohort.arm == arm
        kinds = cohort.first_event[m]
        assert {k: int((kinds == k).sum()) for k in FIRST_EVENTS[arm]} == FIRST_EVENTS[arm]
        assert int(cohort.dfs_event[m].sum()) == sum(FIRST_EVENTS[arm].values())
        assert int((cohort.mrd_reinduction[m] == 0).sum()) == MRD_NEG["reinduction"][arm]
        assert int((cohort.mrd_cycle_1[m] == "negative").sum()) == MRD_NEG["cycle_1"][arm]
        assert int((cohort.mrd_cycle_2[m] == "negative").sum()) == MRD_NEG["cycle_2"][arm]
        assert int(cohort.hsct[m].sum()) == HSCT[arm]


def test_flow_of_figure1(cohort):
    for arm, (c1, c2, direct) in ((B, (102, 88, 1)), (C, (97, 62, 5))):
        m = cohort.arm == arm
        assert int(cohort.received_cycle_1[m].sum()) == c1
        assert int(cohort.received_cycle_2[m].sum()) == c2
        assert int((cohort.hsct[m] & ~cohort.received_cycle_2[m]).sum()) == direct
    assert not np.any(cohort.received_cycle_2 & ~cohort.received_cycle_1)
    # a late treatment failure is MRD positive after cycle 1 and goes no further
    ltf = cohort.first_event == "late treatment failure"
    assert np.all(cohort.mrd_cycle_1[ltf] == "positive") and not np.any(cohort.received_cycle_2[ltf])
    assert np.all((cohort.first_event_day[ltf] >= 28) & (cohort.first_event_day[ltf] <= 42))
    # transplanted patients were event-free at transplant
    t = cohort.hsct
    assert np.all(cohort.first_event_day[t] > cohort.hsct_day[t])
    # MRD is missing only for patients without a marrow evaluation
    assert np.all(cohort.mrd_cycle_1[~cohort.received_cycle_1] == "missing")
    assert np.all(cohort.mrd_cycle_2[~cohort.received_cycle_2] == "missing")
    # most patients who are MRD negative after cycle 2 were negative after cycle 1 (blinatumomab)
    m = (cohort.arm == B) & (cohort.mrd_cycle_2 == "negative")
    assert (cohort.mrd_cycle_1[m] == "negative").mean() > 0.8


def test_event_timing_as_reported(cohort):
    days = cohort.first_event_day[cohort.dfs_event]
    late = days > 2 * YEAR
    assert late.sum() == 1  # one relapse in month 41, blinatumomab
    assert cohort.arm[cohort.dfs_event][late][0] == B
    assert 40 <= days[late][0] / MONTH <= 41
    assert days.min() >= 8
    deaths = cohort.death_day[cohort.os_event]
    after = np.sort(np.ceil(deaths[deaths > 2 * YEAR] / MONTH)).astype(int).tolist()
    assert after == [31, 34, 36, 41, 45]
    # every death after 2 years follows a relapse
    late_dead = cohort.os_event & (cohort.death_day > 2 * YEAR)
    assert np.all(cohort.first_event[late_dead] == "relapse")
    # death as a first event is the death; death never precedes the first event
    d = cohort.first_event == "death"
    assert np.array_equal(cohort.death_day[d], cohort.first_event_day[d])
    assert np.all(cohort.death_day[cohort.os_event] >= cohort.first_event_day[cohort.os_event])
    assert np.all(cohort.dfs_event[cohort.os_event])  # every death is (or follows) a DFS event


def test_enrolment_and_censoring(cohort):
    first, last = np.datetime64("2015-01-01"), np.datetime64("2019-06-30")
    assert cohort.randomization_date.min() >= first and cohort.randomization_date.max() <= last
    assert (cohort.randomization_date.max() - cohort.randomization_date.min()).astype(int) > 4 * 365
    potential = (np.datetime64("2020-09-30") - cohort.randomization_date).astype(float) / YEAR
    assert np.all(cohort.os_time <= potential + 1e-12) and np.all(cohort.dfs_time <= cohort.os_time + 1e-12)
    assert potential.max() <= 5.75  # range of follow-up 0-5.6 years
    lost = cohort.last_contact_day < (np.datetime64("2020-09-30") - cohort.randomization_date).astype(float)
    assert lost.sum() == 6 and np.all(cohort.last_contact_day[lost] < 2 * YEAR)
    assert not np.any(cohort.os_event[lost])


# ---------------------------------------------------------------- re-censoring


def test_at_cutoff_recensors(cohort):
    assert np.array_equal(cohort.at_cutoff("2020-09-30").dfs_time, cohort.dfs_time)
    interim = cohort.at_cutoff("2019-06-30")
    assert len(interim) == 208 and str(interim.cutoff) == "2019-06-30"
    assert interim.dfs_event.sum() < cohort.dfs_event.sum()
    assert np.all(interim.dfs_time <= cohort.dfs_time + 1e-12)
    assert not np.any(interim.dfs_event & ~cohort.dfs_event)
    to_cut = (np.datetime64("2019-06-30") - interim.randomization_date).astype(float) / YEAR
    assert np.all(interim.dfs_time <= to_cut + 1e-12) and np.all(interim.os_time <= to_cut + 1e-12)
    assert np.all(interim.hsct_day[interim.hsct] <= to_cut[interim.hsct] * YEAR)
    early = cohort.at_cutoff("2017-01-01")
    assert 0 < len(early) < 208 and np.all(early.randomization_date <= np.datetime64("2017-01-01"))
    # events counted at a cutoff = events with event date on or before it (independent count)
    event_date = cohort.randomization_date + np.where(cohort.dfs_event, cohort.first_event_day, 1e5).astype(int)
    for day in ("2016-06-30", "2018-01-01", "2019-06-30"):
        assert cohort.at_cutoff(day).dfs_event.sum() == np.sum(event_date <= np.datetime64(day))


@pytest.mark.parametrize("date, match", [("2021-01-01", "on or before"), ("2014-06-01", "on or after"),
                                         ("not a date", "date"), (None, "date")])
def test_at_cutoff_bad_dates(cohort, date, match):
    with pytest.raises(ValueError, match=match):
        cohort.at_cutoff(date)


# ---------------------------------------------------------------- labelling, speed, determinism


def test_synthetic_label_everywhere(cohort):
    assert SYNTHETIC_LABEL == "synthetic, calibrated to published summaries"
    assert cohort.label == SYNTHETIC_LABEL
    assert SYNTHETIC_LABEL in repr(cohort)
    assert SYNTHETIC_LABEL in cohort.table()
    assert SYNTHETIC_LABEL in cohort._repr_html_()
    assert SYNTHETIC_LABEL in repr(calibration_table(cohort))
    pytest.importorskip("pandas")
    frame = cohort.to_frame()
    assert frame.attrs["label"] == SYNTHETIC_LABEL and frame.shape[0] == 208


def test_deterministic_and_read_only():
    # (its speed is a benchmark's business, not a test's: no timed assertion here)
    a, b = synthetic_cohort(), synthetic_cohort()
    for name in SyntheticCohort.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
            assert not x.flags.writeable


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_other_seeds_keep_the_exact_counts(seed):
    c = synthetic_cohort(seed)
    assert c.seed == seed
    assert not np.array_equal(c.randomization_date, synthetic_cohort().randomization_date)
    summary = c.summary()
    for arm in (B, C):
        assert summary[arm]["hsct"] == HSCT[arm]
        assert summary[arm]["mrd_negative_cycle_1"] == MRD_NEG["cycle_1"][arm]
        for k, n in FIRST_EVENTS[arm].items():
            assert summary[arm][f"first_event: {k}"] == n


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(seed=-1), ValueError, "seed"), (dict(seed=1.5), TypeError, "seed"), (dict(seed=True), TypeError, "seed"),
    (dict(calibration={"nope": 1}), ValueError, "calibration"),
])
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        synthetic_cohort(**kwargs)


def test_infeasible_parameters_say_so():
    with pytest.raises(RuntimeError, match="infeasible"):
        synthetic_cohort(calibration={"post_relapse_deaths": {B: 90, C: 90}})


# ---------------------------------------------------------------- module layout


def test_cohort_names_are_still_served_by_aall1331():
    """Lessons call ``tk.aall1331.synthetic_cohort()``: the lazy re-export must give the same objects."""
    from teachkit import aall1331, cohort

    for name in ("SYNTHETIC_LABEL", "CALIBRATION", "SyntheticCohort", "synthetic_cohort",
                 "CalibrationTable", "calibration_table"):
        assert getattr(aall1331, name) is getattr(cohort, name)
        assert name in dir(aall1331)
    assert isinstance(tk.aall1331.synthetic_cohort(), cohort.SyntheticCohort)
    with pytest.raises(AttributeError, match="no attribute '_choose'"):
        aall1331._choose  # only the public names are re-exported


def test_facts_do_not_import_the_cohort():
    """Arrows point cohort -> aall1331: importing the facts must not import the cohort."""
    import subprocess
    import sys

    code = "import sys, teachkit.aall1331; print('teachkit.cohort' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", ["teachkit.cohort", "teachkit.aall1331"])
def test_python_m_prints_the_calibration_table(module):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", module], capture_output=True, text=True, check=True)
    assert out.stdout == calibration_table().table() + "\n"
    assert out.stderr == ""


def test_two_patients_without_mrd_note_c_as_published_note_d_by_labelled_assumption():
    """Table 1 notes c and d: two randomized patients lack a usable MRD.  Note c's stratum
    is published; note d's is the cohort's explicit, displayed assumption."""
    from teachkit import cohort as ck
    from teachkit.explorers.stratification import StratificationSimulator, trial_strata_mix
    from teachkit.risk import Stratum

    c = ck.synthetic_cohort()
    missing = np.isnan(c.mrd_reinduction.astype(float))
    assert missing.sum() == 2
    by_arm = dict(zip(c.arm[missing], zip(c.stratum[missing], c.months_from_diagnosis[missing])))
    stratum_c, months_c = by_arm["chemotherapy"]
    stratum_d, months_d = by_arm["blinatumomab"]
    assert stratum_c == Stratum.HIGH_MARROW_MID_MRD_LOW.value and 18 <= months_c < 36   # note c, as published
    assert stratum_d == ck.NOTE_D_STRATUM and months_d < 18                              # note d, assumed
    assert ck.NOTE_D_STRATUM in ck.NOTE_D_ASSUMPTION and "Assumption" in ck.NOTE_D_ASSUMPTION
    assert ck.NOTE_D_ASSUMPTION in c.table() and ck.NOTE_D_ASSUMPTION in c.at_cutoff("2019-06-30").table()
    # the explorer's strata mix follows the same assumption and says so
    names, share = trial_strata_mix()
    counts = dict(zip(names, np.round(share * len(c)).astype(int)))
    assert counts == {s: int((c.stratum == s).sum()) for s in names}
    assert "note d" in StratificationSimulator(n_repetitions=100)._note(None)


def test_interim_z_shown_next_to_the_published_one_with_the_reason():
    """Issue 13 item 20 (fallback): the cohort's interim stratified log-rank Z is not the
    published 1.555; wherever the cohort is shown at the interim both numbers appear, with
    the spread a trial's interim Z has given its final result (Brownian bridge)."""
    import importlib.util
    import math
    from pathlib import Path

    from scipy.stats import norm

    from teachkit.cohort import interim_comparison

    spec = importlib.util.spec_from_file_location(
        "calibrate_cohort", Path(__file__).parent / "calibration" / "calibrate_cohort.py")
    cal = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cal)
    c = synthetic_cohort()
    at = c.at_cutoff("2019-06-30")
    r = interim_comparison(c)
    # the synthetic Z by an independent numpy implementation of the stratified log-rank test
    assert math.isclose(r.z_synthetic, cal.logrank_z(at.dfs_time, at.dfs_event, at.treatment, at.stratum),
                        rel_tol=1e-9)
    assert math.isclose(r.z_published, norm.isf(0.06), rel_tol=1e-12) and r.events_published == 80
    # Z(t) | Z(1) ~ N(sqrt(t) Z(1), 1 - t) with t = 80 / 107 and final one-sided P = .03
    t = 80 / sum(sum(v.values()) for v in FIRST_EVENTS.values())
    assert math.isclose(r.z_expected, math.sqrt(t) * norm.isf(0.03)) and math.isclose(r.z_sd, math.sqrt(1 - t))
    assert abs(r.z_published - r.z_expected) < r.z_sd and abs(r.z_synthetic - r.z_expected) < 1.5 * r.z_sd
    assert abs(r.z_synthetic - r.z_published) > 0.1            # the difference is real, hence shown
    for shown in (at.table(), calibration_table().table()):
        assert f"Z = {r.z_synthetic:.2f}" in shown and f"Z = {r.z_published:.2f}" in shown
        assert "Why they differ" in shown
    assert "Why they differ" not in c.table()                  # the final cohort is not the interim
