"""The AALL1331 data module: every published number present, sourced and consistent.

Expected values below are typed from the paper (Brown PA et al., JAMA
2021;325(9):833-842) independently of ``teachkit/data/*.json``; consistency
checks recompute sums, percentages, differences and odds ratios from counts.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from scipy import stats
from scipy.stats.contingency import odds_ratio

from teachkit import aall1331 as A
from teachkit.aall1331 import ARMS, fact

B, C = ARMS

SOURCE = re.compile(r"\b(Table [123]|Figure [12]|Abstract|Introduction|Methods|Results|Discussion|eTable \d+)\b")


def v(path):
    return fact(path).value


def pct_half_up(count, denominator, digits=0):
    q = Decimal(1).scaleb(-digits)
    return float((Decimal(100 * int(count)) / Decimal(int(denominator))).quantize(q, rounding=ROUND_HALF_UP))


def printed_ok(count, denominator, printed, digits=0):
    """The printed percent is the count's percent rounded to ``digits``, either
    directly or via one more decimal first (both conventions occur in the paper)."""
    direct = pct_half_up(count, denominator, digits)
    via = float(Decimal(str(pct_half_up(count, denominator, digits + 1))).quantize(
        Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    return printed in (direct, via)


# ---------------------------------------------------------------- sources and API


def test_every_fact_names_a_table_figure_or_section():
    names = list(A.iter_fact_names())
    assert len(names) == len(set(names)) > 150
    for f in A.iter_facts():
        assert SOURCE.search(f.source), f"{f.name}: source {f.source!r} names no table/figure/section"


def test_existing_public_api_is_kept():
    assert A.ARMS == ("blinatumomab", "chemotherapy")
    assert dict(A.ARM_LABELS) == {"blinatumomab": "Blinatumomab", "chemotherapy": "Chemotherapy"}
    assert "JAMA. 2021;325(9):833-842" in A.CITATION
    assert A.fact("interim.p_critical").source == "Results, Early Closure of Randomization"
    with pytest.raises(ValueError, match="names no fact"):
        A.fact("table1.nope")
    with pytest.raises(ValueError, match="section"):
        A.fact("table1")
    with pytest.raises(TypeError, match="path"):
        A.fact(3)


def test_facts_are_read_only():
    with pytest.raises(TypeError):
        A.FACTS["table2"]["relapse"] = 1
    with pytest.raises(TypeError):
        v("table2.relapse")["blinatumomab"] = 0
    with pytest.raises(Exception):
        A.fact("table2.relapse").value = 3


# ---------------------------------------------------------------- issue 2, item 3


@pytest.mark.parametrize("path, expected", [
    ("design.control_2y_dfs", 0.45), ("design.target_2y_dfs", 0.63), ("design.hazard_ratio", 0.58),
    ("design.power", 0.85), ("design.alpha_one_sided", 0.025), ("design.patients_per_arm", 110),
    ("design.events_planned", 131), ("design.futility_alpha", 0.024),
    ("interim.events", 80), ("interim.events_planned", 131), ("interim.information_percent", 61),
    ("interim.p_dfs", 0.06), ("interim.p_critical", 0.004),
    ("results.dfs_2y", {B: 0.544, C: 0.390}), ("results.os_2y", {B: 0.713, C: 0.584}),
    ("results.dfs_hazard_ratio", {"estimate": 0.70, "ci_lower": 0.47, "ci_upper": 1.03}),
    ("results.os_hazard_ratio", {"estimate": 0.62, "ci_lower": 0.39, "ci_upper": 0.98}),
    ("results.dfs_p_one_sided", 0.03), ("results.os_p_one_sided", 0.02),
    ("results.toxic_deaths", {B: 0, C: 5}), ("results.median_follow_up_years", 2.9),
    ("flow.evaluated", 669), ("flow.randomized", {B: 107, C: 109}), ("flow.analysed", {B: 105, C: 103}),
])
def test_issue2_headline_numbers(path, expected):
    value = v(path)
    assert (dict(value) if isinstance(expected, dict) else value) == expected


def test_issue2_mrd_and_serious_adverse_events():
    f = fact("results.mrd_negative_cycle_1")
    assert dict(f.extra["percent"]) == {B: 75, C: 32}
    sae = v("results.serious_ae_percent")
    assert {k: dict(x) for k, x in sae.items()} == {
        "infection": {B: 15, C: 65}, "febrile neutropenia": {B: 5, C: 58},
        "sepsis": {B: 2, C: 27}, "mucositis": {B: 1, C: 28}}


def test_interim_information_fraction_and_ci_order():
    assert round(100 * v("interim.events") / v("interim.events_planned")) == v("interim.information_percent")
    for name in ("dfs_hazard_ratio", "os_hazard_ratio"):
        hr = v(f"results.{name}")
        assert hr["ci_lower"] < hr["estimate"] < hr["ci_upper"]
        # the CI is symmetric on the log scale around the estimate (to the printed 2 decimals)
        mid = math.exp((math.log(hr["ci_lower"]) + math.log(hr["ci_upper"])) / 2)
        assert abs(mid - hr["estimate"]) < 0.01


# ---------------------------------------------------------------- Figure 1


def test_figure1_flow_is_consistent():
    assert v("flow.evaluated") - v("flow.excluded_before_reinduction") == v("flow.entered_reinduction") == 662
    assert v("flow.entered_reinduction") - v("flow.excluded_during_reinduction") == 630
    assert v("flow.completed_risk_assessment") == 630
    groups = v("flow.risk_groups")
    assert groups["early_treatment_failure"] + groups["high"] + groups["intermediate"] + groups["low"] == 630
    assert (groups["early_treatment_failure"], groups["high"], groups["intermediate"], groups["low"]) == (45, 186, 105, 294)
    assert groups["high"] + groups["intermediate"] == v("flow.eligible_for_randomization") == 291
    assert v("flow.eligible_for_randomization") - v("flow.excluded_before_randomization") == 216
    rnd = v("flow.randomized")
    assert rnd[B] + rnd[C] == 216 and (rnd[B], rnd[C]) == (107, 109)
    an = v("flow.analysed")
    assert an[B] + an[C] == 208
    for a in ARMS:
        assert rnd[a] - v("flow.excluded_from_analysis")[a] == an[a]
        assert an[a] - v("flow.no_cycle_1")[a] == v("flow.received_cycle_1")[a]
        assert v("flow.received_cycle_1")[a] - v("flow.no_cycle_2")[a] == v("flow.received_cycle_2")[a]
        assert (v("flow.received_cycle_2")[a] - v("flow.no_hsct_after_cycle_2")[a]
                + v("flow.hsct_after_cycle_1")[a] == v("flow.underwent_hsct")[a])
    # the per-arm boxes as printed
    assert [v(f"flow.{k}")[B] for k in ("received_cycle_1", "received_cycle_2", "underwent_hsct")] == [102, 88, 74]
    assert [v(f"flow.{k}")[C] for k in ("received_cycle_1", "received_cycle_2", "underwent_hsct")] == [97, 62, 44]


def _reason_boxes():
    for f in A.iter_facts(A.FACTS["flow"]):
        if "reasons" in f.extra:
            reasons = f.extra["reasons"]
            if set(reasons) == set(ARMS):
                for a in ARMS:
                    yield f"{f.name}[{a}]", f.value[a], reasons[a]
            else:
                yield f.name, f.value, reasons


@pytest.mark.parametrize("name, total, reasons", list(_reason_boxes()), ids=lambda x: x if isinstance(x, str) else "")
def test_figure1_reasons_sum_to_their_box(name, total, reasons):
    assert sum(reasons.values()) == total


def test_figure1_reasons_count():
    assert len(list(_reason_boxes())) == 11


# ---------------------------------------------------------------- Table 1


def _t1(section):
    return {k: f for k, f in A.FACTS["table1"][section].items() if "label" in f.extra}


def test_table1_categories_sum_to_arm_totals():
    n = v("table1.n")
    assert dict(n) == {B: 105, C: 103}
    for section in ("age_at_enrollment", "age_at_diagnosis", "sex", "risk_group"):
        for a in ARMS:
            assert sum(f.value[a] for f in _t1(section).values()) == n[a], section
    site = _t1("site_of_relapse")
    top = [f for f in site.values() if "parent" not in f.extra]
    for a in ARMS:
        assert sum(f.value[a] for f in top) == n[a]
        for parent in ("marrow_18_36", "marrow_under_18"):
            children = [f for f in site.values() if f.extra.get("parent") == parent]
            assert len(children) == 3 and sum(f.value[a] for f in children) == site[parent].value[a]
        high = site["marrow_18_36"].value[a] + site["marrow_under_18"].value[a] + site["extramedullary_under_18"].value[a]
        assert high == v("table1.risk_group.high")[a]
        assert site["marrow_36_plus"].value[a] == v("table1.risk_group.intermediate")[a]
    # the two MRD-unknown patients of footnotes c and d
    assert dict(site["marrow_18_36_mrd_unknown"].value) == {B: 0, C: 1}
    assert dict(site["marrow_under_18_mrd_unknown"].value) == {B: 1, C: 0}
    # published numbers, typed independently
    assert [site[k].value[B] for k in ("marrow_36_plus", "marrow_18_36", "marrow_under_18", "extramedullary_under_18")] == [36, 41, 18, 10]
    assert [site[k].value[C] for k in ("marrow_36_plus", "marrow_18_36", "marrow_under_18", "extramedullary_under_18")] == [34, 41, 18, 10]


def test_table1_race_ethnicity_cytogenetics_sum_to_their_denominators():
    for section in ("race", "ethnicity"):
        reported = v(f"table1.{section}.n_reported")
        for a in ARMS:
            assert sum(f.value[a] for f in _t1(section).values()) == reported[a]
    cyto = _t1("cytogenetics")
    for a in ARMS:
        top = ("favorable", "unfavorable", "other", "unknown")
        assert sum(cyto[k].value[a] for k in top) == v("table1.n")[a]
        assert cyto["favorable"].value[a] == cyto["etv6_runx1"].value[a] + cyto["hyperdiploid_4_10"].value[a]
        assert cyto["unfavorable"].value[a] == cyto["kmt2a"].value[a] + cyto["hypodiploid"].value[a]
        assert cyto["favorable"].extra["denominator"][a] == v("table1.n")[a] - cyto["unknown"].value[a]


def test_table1_percentages_recomputed_from_counts():
    checked = 0
    for section, items in A.FACTS["table1"].items():
        if isinstance(items, A.Fact):
            continue
        for f in items.values():
            for a in ARMS:
                printed = f.extra.get("percent", {}).get(a)
                if printed is None:
                    continue
                den = f.extra["denominator"][a]
                # one decimal, except one cell printed as a whole number ("10 (11)")
                assert printed_ok(f.value[a], den, printed, 1) or printed_ok(f.value[a], den, printed, 0), f.name
                checked += 1
    assert checked >= 50


def test_table1_medians_and_other_text_facts():
    assert v("table1.age_at_enrollment_median_iqr")[B]["median"] == 9 == v("other.median_age_years")
    assert v("other.females") == v("table1.sex.female")[B] + v("table1.sex.female")[C] == 97
    assert printed_ok(97, 208, fact("other.females").extra["percent"])
    aya = sum(v(f"table1.age_at_enrollment.{k}")[a] for k in ("age_18_20", "age_21_27") for a in ARMS)
    assert aya == fact("other.aya_percent").extra["numerator"] == 33
    assert round(100 * aya / 208) == v("other.aya_percent") == 16


# ---------------------------------------------------------------- Table 2


def test_table2_counts_and_percentages():
    t = A.table2()
    assert len(t) == 7
    expected = {  # typed from Table 2
        "Late treatment failure": (1, 9), "Relapse": (35, 32), "Death": (12, 18),
        "Negative MRD at the end of reinduction": (26, 31), "Negative MRD at the end of cycle 1": (79, 33),
        "Negative MRD at the end of cycle 2": (69, 33), "Underwent hematopoietic stem cell transplant": (74, 44)}
    for row in t.rows():
        assert (row[B], row[C]) == expected[row["end_point"]]
        assert row["percent_blinatumomab"] == pct_half_up(row[B], 105)
        assert row["percent_chemotherapy"] == pct_half_up(row[C], 103)
        # difference of the two proportions, within 1 point (the paper subtracts rounded percents)
        diff = 100 * (row[B] / 105 - row[C] / 103)
        assert abs(diff - row["difference"]) <= 1
        # Wald 95% CI of the difference, within 1.5 points of the printed limits
        p1, p2 = row[B] / 105, row[C] / 103
        se = 100 * math.sqrt(p1 * (1 - p1) / 105 + p2 * (1 - p2) / 103)
        assert abs(diff - 1.96 * se - row["difference_ci_lower"]) <= 1.5
        assert abs(diff + 1.96 * se - row["difference_ci_upper"]) <= 1.5
    # first events are the DFS events: 48 and 59 of 107
    first = t.where(group="First event (components of the primary end point)")
    assert int(first[B].sum()) == 48 and int(first[C].sum()) == 59


def test_table2_odds_ratios_and_p_values_recomputed():
    t = A.table2()
    with_or = [r for r in t.rows() if not np.isnan(r["odds_ratio"])]
    assert len(with_or) == 4
    for r in with_or:
        a, b = r[B], 105 - r[B]
        c, d = r[C], 103 - r[C]
        odds = (a * d) / (b * c)
        digits = 2 if r["odds_ratio"] < 1 else 1
        assert round(odds, digits) == pytest.approx(r["odds_ratio"], abs=0.051)
        # 2-sided Pearson chi-square P as printed ("<.001" or the value)
        p = stats.chi2_contingency([[a, b], [c, d]], correction=False)[1]
        if r["p_relation"] == "<":
            assert p < r["p_value"]
        else:
            assert round(p, 2) == r["p_value"]
        # exact conditional 95% CI of the odds ratio (Stata `cc` default), to the printed decimal
        lo, hi = odds_ratio([[a, b], [c, d]], kind="conditional").confidence_interval()
        assert abs(lo - r["odds_ratio_ci_lower"]) <= 0.05 + 1e-9
        assert abs(hi - r["odds_ratio_ci_upper"]) <= 0.05 + 1e-9


def test_table2_matches_headline_facts_and_figure1():
    assert v("table2.mrd_negative_cycle_1")[B] == v("results.mrd_negative_cycle_1")[B] == 79
    assert dict(v("table2.hsct")) == dict(v("flow.underwent_hsct"))
    assert v("other.completed_randomized_therapy") == v("table2.hsct")[B] + v("table2.hsct")[C] == 118
    assert printed_ok(118, 208, fact("other.completed_randomized_therapy").extra["percent"])


# ---------------------------------------------------------------- Table 3


def test_table3_denominators_match_figure1():
    den = v("table3.denominator")
    for a in ARMS:
        assert den["cycle_1"][a] == v("flow.received_cycle_1")[a]
        assert den["cycle_2"][a] == v("flow.received_cycle_2")[a]
    t = A.table3()
    assert set(zip(t["cycle"].tolist(), t["arm"].tolist(), t["n"].tolist())) == {
        (1, B, 102), (1, C, 97), (2, B, 88), (2, C, 62)}


def test_table3_percentages_recomputed_and_errata_are_exactly_the_misprints():
    t = A.table3()
    bad = set()
    for r in t.rows():
        for g in ("any_grade", "grade_3_plus"):
            if not printed_ok(r[g], r["n"], r[f"{g}_percent"]):
                bad.add((r["key"], f"{r['arm']}.{g}"))
    errata = {(e["fact"], e["cell"]) for e in A.ERRATA if "cell" in e}
    assert bad == errata == {("table3.cycle_1.anorexia", "blinatumomab.grade_3_plus")}


def test_table3_internal_consistency():
    t = A.table3()
    assert len(t) == 2 * (24 * 2 + 3)  # 24 events in both arms + 3 blinatumomab-only, 2 cycles
    assert np.all(t["grade_3_plus"] <= t["any_grade"])
    assert np.all(t["any_grade"] <= t["n"])
    for cycle in (1, 2):
        for a in ARMS:
            rows = t.where(cycle=cycle, arm=a)
            any_row = rows.where(category="any")
            others = rows.where(category="adverse event")
            assert np.all(others["any_grade"] <= any_row["any_grade"][0])
            assert np.all(others["grade_3_plus"] <= any_row["grade_3_plus"][0])
    # blinatumomab-related events only in the blinatumomab arm
    assert set(t.where(category="blinatumomab-related")["arm"]) == {B}
    assert set(t.where(special_interest=True)["event"]) == {"Infection", "Febrile neutropenia", "Mucositis oral", "Sepsis"}


def test_table3_agrees_with_cumulative_serious_ae_rates():
    """Cumulative grade >= 3 rates over both cycles (eTable 7, quoted in the text) must lie between
    the larger single-cycle count and the sum of both cycles' counts."""
    t = A.table3()
    sae = v("results.serious_ae_percent")
    names = {"infection": "Infection", "febrile neutropenia": "Febrile neutropenia", "sepsis": "Sepsis",
             "mucositis": "Mucositis oral"}
    for key, event in names.items():
        for a in ARMS:
            counts = [int(t.where(cycle=c, arm=a, event=event)["grade_3_plus"][0]) for c in (1, 2)]
            n1 = v("table3.denominator")["cycle_1"][a]
            low = math.floor((sae[key][a] - 0.5) * n1 / 100)
            high = math.ceil((sae[key][a] + 0.5) * n1 / 100)
            assert low <= sum(counts) and high >= max(counts), (key, a, counts)


def test_table3_blinatumomab_related_rates_quoted_in_text():
    t = A.table3().where(arm=B, category="blinatumomab-related")
    quoted = {("Cytokine release syndrome", 1): (22, 1), ("Cytokine release syndrome", 2): (1, 0),
              ("Encephalopathy", 1): (11, 2), ("Encephalopathy", 2): (8, 2),
              ("Seizure", 1): (4, 1), ("Seizure", 2): (1, 0)}
    for r in t.rows():
        assert (r["any_grade_percent"], r["grade_3_plus_percent"]) == quoted[(r["event"], r["cycle"])]


# ---------------------------------------------------------------- follow-up, MRD, salvage, other


def test_follow_up_summaries():
    assert v("follow_up.median_years") == v("results.median_follow_up_years") == 2.9
    iqr, rng = v("follow_up.iqr_years"), v("follow_up.range_years")
    assert (iqr["q1"], iqr["q3"], rng["min"], rng["max"]) == (1.8, 3.9, 0, 5.6)
    by_arm = v("follow_up.by_arm_years")
    assert dict(by_arm[B]) == {"median": 3.1, "q1": 1.8, "q3": 3.9}
    assert dict(by_arm[C]) == {"median": 2.7, "q1": 1.7, "q3": 3.6}
    for s in (iqr, *by_arm.values()):
        assert rng["min"] <= s["q1"] <= s.get("median", 2.9) <= s["q3"] <= rng["max"]
    assert v("follow_up.dfs_event_median_months") == 6
    assert dict(v("follow_up.dfs_event_iqr_months")) == {"q1": 2.2, "q3": 10.7}
    assert dict(v("follow_up.dfs_event_range")) == {"min_days": 8, "max_months": 41}
    late = fact("follow_up.dfs_events_after_2_years")
    assert dict(late.value) == {B: 1, C: 0} and tuple(late.extra["months"][B]) == (41,)
    deaths = fact("follow_up.deaths_after_2_years")
    for a in ARMS:
        assert len(deaths.extra["months"][a]) == deaths.value[a]
        assert all(m > 24 for m in deaths.extra["months"][a])
    lost = fact("follow_up.lost_before_2_years")
    assert lost.value == 6 and printed_ok(6, 208, lost.extra["percent"])


def test_mrd_transitions_are_consistent_with_table2():
    t = A.FACTS["mrd_transitions"]
    assert t["negative_after_cycle_1"].value == v("table2.mrd_negative_cycle_1")[B]
    for name in ("negative_after_cycle_2_of_those", "reverted_positive_after_cycle_2", "relapsed_after_cycle_2"):
        f = t[name]
        assert printed_ok(f.value, f.extra["denominator"], f.extra["percent"]), name
    # negatives after cycle 2 cannot exceed those staying negative plus the converters
    stayed = 79 - t["reverted_positive_after_cycle_2"].value - t["relapsed_after_cycle_2"].value
    assert v("table2.mrd_negative_cycle_2")[B] <= stayed + t["negative_after_cycle_2_of_those"].value


def test_salvage_cohort():
    s = {k: f.value for k, f in A.FACTS["salvage"].items()}
    assert s["early_treatment_failure"] == v("flow.risk_groups")["early_treatment_failure"] == 45
    assert s["early_treatment_failure"] - s["persistent_cns"] == s["eligible_for_salvage"] == 42
    assert s["other_therapies"] + s["salvage_blinatumomab"] == s["eligible_for_salvage"]
    assert (s["salvage_blinatumomab"], s["remission_after_cycle_1"], s["mrd_negative"], s["transplant_in_remission"]) == (22, 5, 3, 3)
    rem = A.FACTS["salvage"]["remission_after_cycle_1"]
    assert printed_ok(5, 22, rem.extra["percent"])
    assert sum(A.FACTS["salvage"]["mrd_negative"].extra["after_cycles"].values()) == 3
    assert s["transplant_in_remission"] <= s["mrd_negative"] <= s["remission_after_cycle_1"]


def test_other_text_facts_and_errata():
    assert sum(v("other.randomized_after_cutoff").values()) == 6
    for a in ARMS:
        reasons = fact("flow.excluded_from_analysis").extra["reasons"][a]
        assert reasons["Randomized after June 30, 2019"] == v("other.randomized_after_cutoff")[a]
    dr = fact("other.dose_reductions")
    assert dict(dr.extra["denominator"]) == {"cycle_1": 102, "cycle_2": 88}
    for c in ("cycle_1", "cycle_2"):
        assert printed_ok(dr.value[c], dr.extra["denominator"][c], dr.extra["percent"][c])
    assert len(v("other.toxic_death_ages")) == 4 < v("results.toxic_deaths")[C]
    # the text's 214 randomized disagrees with Figure 1's 216; both kept, the clash recorded
    assert fact("other.randomized_text").extra["total"] == 214 != sum(v("flow.randomized").values())
    named = {e["fact"] for e in A.ERRATA}
    assert "randomized_text" in named
    for e in A.ERRATA:
        path = e["fact"] if "." in e["fact"] else f"other.{e['fact']}"
        fact(path)  # every erratum names an existing fact


# ---------------------------------------------------------------- loaders


@pytest.mark.parametrize("loader, n_rows", [(A.table1, 39), (A.table2, 7), (A.table3, 102)])
def test_loaders_return_tidy_read_only_tables(loader, n_rows):
    t = loader()
    assert len(t) == n_rows
    lengths = {len(col) for col in t.columns.values()}
    assert lengths == {n_rows}
    col = next(iter(t.columns.values()))
    with pytest.raises(ValueError):
        col[0] = col[1]
    text = t.table()
    assert "Brown PA" in text and t.title in text
    assert "<table>" in t._repr_html_()
    assert t.title in repr(t)
    with pytest.raises(KeyError, match="columns are"):
        t["no such column"]
    pd = pytest.importorskip("pandas")
    frame = t.to_frame()
    assert isinstance(frame, pd.DataFrame) and frame.shape == (n_rows, len(t.columns))


def test_table1_loader_matches_facts():
    t = A.table1()
    row = t.where(key="site_of_relapse.marrow_under_18_mrd_unknown")
    assert (int(row[B][0]), int(row[C][0])) == (1, 0)
    assert row["source"][0] == "Table 1, footnote d"
    assert int(t.where(variable="Sex")[B].sum()) == 105
