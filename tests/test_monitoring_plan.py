"""The canonical monitoring plan (teachkit.aall1331.monitoring_plan): one object, its numbers
checked against R's rpact and mvtnorm (tests/data/monitoring_plan_rpact.R), its facts sourced,
its reconstruction labelled, and its look rule."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pytest

import teachkit as tk
from teachkit import aall1331 as A

R = json.loads((Path(__file__).parent / "data" / "monitoring_plan_rpact.json").read_text())
PLAN = A.monitoring_plan()


def test_one_object_reached_two_ways():
    assert A.MONITORING_PLAN is PLAN is A.monitoring_plan()
    assert "MONITORING_PLAN" in dir(A)


@pytest.mark.parametrize("name", ["PLAN_LABEL", "PLAN_ASSUMPTIONS", "AFTER_STOP_LABEL", "INTERIM_ASSUMPTIONS",
                                  "PlanLook", "PlanReading", "FinalThreshold", "MonitoringPlan",
                                  "monitoring_plan", "design_report"])
def test_the_plan_lives_in_its_own_module_and_aall1331_serves_it(name):
    """One module per idea: the reconstruction (teachkit.aall1331_plan) reads the facts
    (teachkit.aall1331), which serve its public names unchanged (tk.aall1331.monitoring_plan())."""
    from teachkit import aall1331_plan

    assert getattr(A, name) is getattr(aall1331_plan, name) and name in dir(A)
    assert name in aall1331_plan.__all__
    assert name not in vars(A)          # served, not a second copy


def test_the_facts_and_the_plan_import_in_either_order():
    """aall1331_plan -> aall1331 at import; the way back is lazy, so neither order makes a cycle,
    and the facts alone do not compute the plan (nor import it)."""
    import subprocess
    import sys

    for code, want in (("import sys, teachkit.aall1331 as a; print('teachkit.aall1331_plan' in sys.modules, "
                        "a.monitoring_plan().interim_index)", ["False", "1"]),
                       ("import teachkit.aall1331_plan as p, teachkit.aall1331 as a; "
                        "print(a.MONITORING_PLAN is p.monitoring_plan(), p.monitoring_plan().interim_index)",
                        ["True", "1"])):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.split() == want, out.stdout
    out = subprocess.run([sys.executable, "-c", "import sys, teachkit.aall1331; "
                          "print('teachkit.aall1331_plan' in sys.modules, 'teachkit.sequential' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_canonical_boundaries_match_rpact():
    r = R["canonical"]
    np.testing.assert_allclose(PLAN.information_fractions, r["info"], rtol=1e-12)
    np.testing.assert_allclose(PLAN.design.z_efficacy, r["crit"], atol=2e-6)
    np.testing.assert_allclose(PLAN.design.p_efficacy, r["stage_levels"], atol=1e-8)
    np.testing.assert_allclose(PLAN.design.alpha_spent, r["alpha_spent"], atol=2e-8)
    np.testing.assert_allclose(PLAN.design.z_futility[:-1], r["futility"], atol=1e-9)
    # the numbers a learner reads: z 3.710 / 2.644 / 1.983, nominal P .0001 / .00409 / .0237
    assert [f"{z:.3f}" for z in PLAN.design.z_efficacy] == ["3.710", "2.644", "1.983"]
    assert [f"{p:.5f}" for p in PLAN.design.p_efficacy] == ["0.00010", "0.00409", "0.02369"]
    looks = PLAN.looks
    assert [k.name.split(" (")[0] for k in looks] == ["first interim", "second interim", "final"]
    assert PLAN.interim_index == 1 and round(looks[1].events) == 80
    assert looks[1].z_efficacy == PLAN.design.z_efficacy[1]


@pytest.mark.parametrize("name, index", [("first interim", 0), ("second interim after 1/2", 1)])
def test_other_readings_match_rpact(name, index):
    key = {"first interim": "first_interim", "second interim after 1/2": "after_half"}[name]
    reading = next(r for r in PLAN.readings if r.name == name)
    np.testing.assert_allclose(reading.information_fractions, R[key]["info"], rtol=1e-12)
    assert reading.z_interim == pytest.approx(R[key]["crit"][index], abs=2e-6)
    assert reading.p_interim == pytest.approx(R[key]["stage_levels"][index], abs=1e-8)
    assert reading.z_final == pytest.approx(R[key]["crit"][-1], abs=2e-6)


def test_every_reading_rounds_to_the_published_critical_p_so_it_cannot_tell_the_look():
    """Issue 25, item 7: .00409 (after 1/3), .00413 (first look), .00366 (after 1/2) all
    round to the paper's .004: the agreement supports O'Brien-Fleming-type spending at
    about 61% information, not which look it was."""
    p = {r.name: r.p_interim for r in PLAN.readings}
    assert f"{p['second interim after 1/3 (canonical)']:.5f}" == "0.00409"
    assert f"{p['first interim']:.5f}" == "0.00413"
    assert f"{p['second interim after 1/2']:.5f}" == "0.00366"
    assert {round(v, 3) for v in p.values()} == {PLAN.interim_p_published}
    # a different spending family at the same look would not agree: Pocock type spends far more
    pocock = tk.sequential.group_sequential_design(PLAN.information_fractions, spending="pocock")
    assert round(float(pocock.p_efficacy[1]), 3) != PLAN.interim_p_published
    # the first-look reading needs a further look seven events later; the canonical does not
    first = next(r for r in PLAN.readings if r.name == "first interim")
    assert round((first.information_fractions[1] - first.information_fractions[0]) * 131) == 7
    assert len(PLAN.information_fractions) == len(PLAN.planned_fractions) == 3


def test_power_table_binding_vs_nonbinding_matches_rpact():
    """Issue 25, item 1: non-binding boundaries 3.710/2.511/1.993 with and without the rule;
    86.1% if followed, 87.3% if ignored; binding lowers the final boundary to 1.973 with 86.5%."""
    rows = {how: (zs, followed, ignored, alpha_ignored) for how, zs, followed, ignored, alpha_ignored in PLAN.power_table}
    zs, followed, ignored, alpha_ignored = rows["non-binding"]
    np.testing.assert_allclose(zs, R["planned_nonbinding"]["crit"], atol=2e-6)
    np.testing.assert_allclose(zs, R["planned_no_rule"]["crit"], atol=2e-6)       # the same boundaries
    assert followed == pytest.approx(R["planned_nonbinding"]["power"], abs=2e-6)
    assert ignored == pytest.approx(R["planned_no_rule"]["power"], abs=2e-6)
    assert (f"{followed:.1%}", f"{ignored:.1%}") == ("86.1%", "87.3%")
    assert alpha_ignored == pytest.approx(0.025, abs=1e-7)
    zs, followed, ignored, alpha_ignored = rows["binding"]
    np.testing.assert_allclose(zs, R["planned_binding"]["crit"], atol=2e-6)
    assert followed == pytest.approx(R["planned_binding"]["power"], abs=2e-6)
    assert (f"{zs[-1]:.3f}", f"{followed:.1%}") == ("1.973", "86.5%")
    assert alpha_ignored == pytest.approx(R["alpha_binding_ignored"], abs=2e-6) and alpha_ignored > 0.025


def test_final_thresholds_are_reconciled_once():
    t = {x.name: x for x in PLAN.final_thresholds}
    paper = t["the paper's threshold"]
    assert paper.p == 0.025 and f"{paper.z:.2f}" == "1.96"
    plan_final = t["group-sequential final boundary of the plan"]
    assert (f"{plan_final.z:.3f}", f"{plan_final.p:.4f}") == ("1.983", "0.0237")
    recut = t["the plan re-cut at the 107 events observed"]
    assert recut.z == pytest.approx(R["recut"]["crit"][-1], abs=2e-6)
    assert (f"{recut.z:.3f}", f"{recut.p:.4f}") == ("1.971", "0.0244")
    assert t["equally spaced plan, planned final"].z == pytest.approx(R["planned_nonbinding"]["crit"][-1], abs=2e-6)
    assert t["first-interim reading, planned final"].z == pytest.approx(R["first_interim"]["crit"][-1], abs=2e-6)
    # every group-sequential final threshold is stricter than the paper's .025
    assert all(x.p < 0.025 for name, x in t.items() if name != "the paper's threshold")
    text = PLAN.thresholds_table()
    assert all(name in text for name in t)


def test_final_analysis_matches_rpact_and_is_labelled_a_sensitivity_check():
    res = PLAN.final_analysis()
    r = R["recut"]
    np.testing.assert_allclose(res.design.z_efficacy, r["crit"], atol=2e-6)
    assert res.p_value == pytest.approx(r["final_p"], abs=2e-6)
    assert res.hazard_ratio == pytest.approx(r["median_unbiased_hr"], abs=2e-5)
    assert (res.ci_lower, res.ci_upper) == pytest.approx(tuple(r["ci"]), abs=2e-5)
    assert math.isnan(res.repeated_ci_lower[0]) and "not reported" in res.table()
    assert PLAN.after_stop_label.startswith("As if the stopping rule had been followed: a sensitivity check")
    assert res.p_value > 0.025 and res.ci_upper > 1


def test_interim_readings_one_and_two_sided():
    """Issue 25, item 6: interim HR 0.71 read one-sided, 0.66 read two-sided."""
    assert f"{PLAN.interim_z:.3f}" == "1.555" and f"{PLAN.interim_hazard_ratio:.2f}" == "0.71"
    assert f"{PLAN.interim_z_two_sided:.3f}" == "1.881" and f"{PLAN.interim_hazard_ratio_two_sided:.2f}" == "0.66"
    assert PLAN.interim_z_two_sided < PLAN.design.z_efficacy[1]      # no boundary crossed either way


def test_facts_carry_their_sources_and_the_label_says_reconstruction():
    assert all(f.source for f in PLAN.facts.values())
    assert PLAN.facts["interim.p_critical"].value == 0.004
    assert PLAN.events_planned == A.fact("design.events_planned").value == 131
    assert PLAN.final_events == 107
    for word in ("reconstruction", "1/3 and 2/3", "second", "one-sided"):
        assert word in PLAN.label
    assert PLAN.label in PLAN.table() and html.escape(PLAN.label) in PLAN._repr_html_()
    assert len(PLAN.assumptions) == 5 and all(a.endswith(".") for a in PLAN.assumptions)
    assert "0.611" in repr(PLAN) and "2.644" in repr(PLAN)
    with pytest.raises(Exception):
        PLAN.alpha = 0.05                                   # frozen


def test_look_rule():
    """A look is the planned interim nearest to it; earlier ones were taken as planned."""
    assert PLAN.looks_for(80) == (2, (131 / 3,), (1.0,))
    assert PLAN.looks_for(44) == (1, (), (2 / 3, 1.0))
    assert PLAN.looks_for(120) == (2, (131 / 3,), (1.0,))
    assert PLAN.looks_for(160, 300) == (2, (100.0,), (1.0,))
    assert PLAN.looks_for(150, 300) == (1, (), (2 / 3, 1.0))          # halfway: a tie goes to the earlier
    assert PLAN.looks_for(50, 300) == (1, (), (2 / 3, 1.0))
    for bad in (0, 131, -3):
        with pytest.raises(ValueError, match="events"):
            PLAN.looks_for(bad)
    with pytest.raises(TypeError, match="events"):
        PLAN.looks_for("80")


def test_interim_report_reads_the_plan_and_any_look():
    r = PLAN.interim_report()
    assert r.design.information_fractions.tolist() == pytest.approx(list(PLAN.information_fractions))
    assert r.z_efficacy == pytest.approx(R["canonical"]["crit"][1], abs=2e-6)
    assert r.z_futility == pytest.approx(R["canonical"]["futility"][1], abs=1e-9)
    assert r.note == PLAN.label and not r.efficacy_met and not r.futility_met
    early = PLAN.interim_report(44, 0.2)
    np.testing.assert_allclose(early.design.information_fractions, [44 / 131, 2 / 3, 1])
    pocock = PLAN.interim_report(spending="pocock")
    assert pocock.design.information_fractions.tolist() == pytest.approx(list(PLAN.information_fractions))
    assert pocock.z_efficacy < r.z_efficacy


def test_remaining_fractions_argument_of_interim_report():
    r = tk.sequential.interim_report(80, 131, 0.06, hazard_ratio_design=0.58, futility_alpha=0.024,
                                     previous_events=[131 / 3], remaining_fractions=[1.0])
    assert r.z_efficacy == pytest.approx(R["canonical"]["crit"][1], abs=2e-6)
    for bad in ([0.5, 1.0], [1.0, 0.9], [0.9]):
        with pytest.raises(ValueError, match="remaining_fractions"):
            tk.sequential.interim_report(80, 131, 0.06, hazard_ratio_design=0.58, remaining_fractions=bad)
    with pytest.raises(TypeError, match="remaining_fractions"):
        tk.sequential.interim_report(80, 131, 0.06, hazard_ratio_design=0.58, remaining_fractions="1")


def test_design_report_reads_the_plan():
    text = A.design_report()
    assert f"Reconstruction: {PLAN.label}" in text
    assert PLAN.table() in text and PLAN.thresholds_table() in text and PLAN.readings_table() in text
    assert "2.644" in text and "131.5" in text


def test_exact_naive_type_one_error_three_looks_matches_mvtnorm():
    """Issue 25 (lesson 05): testing at 1.96 at 3 equal looks has type I error 5.36%, exactly."""
    exact = tk.sequential.naive_type_one_error(3)
    assert exact == pytest.approx(R["naive3"], abs=2e-6)
    assert f"{exact:.2%}" == "5.36%"
