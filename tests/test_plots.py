"""Tests of teachkit.plots: every figure shows the facts it claims to show."""

from __future__ import annotations

import math
import re

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex

from teachkit import aall1331, plots
from teachkit.cohort import SYNTHETIC_LABEL, synthetic_cohort


def _texts_by_gid(ax):
    return {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}


def _leading_int(text):
    m = re.match(r"\s*(\d+)", text)
    assert m, f"no number at the start of {text!r}"
    return int(m.group(1))


# ---- palette -------------------------------------------------------------------------

def test_arm_colours_are_okabe_ito_and_distinct():
    assert set(plots.ARM_COLORS) == set(aall1331.ARMS)
    assert set(plots.ARM_COLORS.values()) <= set(plots.OKABE_ITO.values())
    assert plots.ARM_COLORS["blinatumomab"] != plots.ARM_COLORS["chemotherapy"]
    assert plots.OKABE_ITO["vermillion"] == "#D55E00"  # Okabe & Ito (2008)


def test_arm_color_rejects_unknown_arm():
    with pytest.raises(ValueError, match="arm"):
        plots.arm_color("placebo")


# ---- patient flow --------------------------------------------------------------------

SINGLE = ["evaluated", "entered_reinduction", "completed_risk_assessment",
          "excluded_before_reinduction", "excluded_during_reinduction",
          "eligible_for_randomization", "excluded_before_randomization"]
BY_ARM = ["randomized", "analysed", "received_cycle_1", "received_cycle_2", "underwent_hsct",
          "excluded_from_analysis", "no_cycle_1", "no_cycle_2", "no_hsct_after_cycle_2"]


def test_patient_flow_boxes_equal_the_published_facts():
    fig = plots.patient_flow()
    texts = _texts_by_gid(fig.axes[0])
    for name in SINGLE:
        assert _leading_int(texts[f"flow.{name}"]) == aall1331.fact(f"flow.{name}").value, name
    for group, n in aall1331.fact("flow.risk_groups").value.items():
        assert _leading_int(texts[f"flow.risk_groups.{group}"]) == n
    for name in BY_ARM:
        for arm in aall1331.ARMS:
            got = _leading_int(texts[f"flow.{name}.{arm}"])
            assert got == aall1331.fact(f"flow.{name}").value[arm], (name, arm)
    assert _leading_int(texts["flow.randomized"]) == sum(aall1331.fact("flow.randomized").value.values())
    # Figure 1 numbers the learner can check by subtraction
    assert _leading_int(texts["flow.randomized"]) == 216
    for arm, after1 in aall1331.fact("flow.hsct_after_cycle_1").value.items():
        assert f"({after1} after cycle 1)" in texts[f"flow.underwent_hsct.{arm}"]


def test_patient_flow_shows_every_exclusion_reason():
    fig = plots.patient_flow()
    alltext = " ".join(t.get_text().replace("\n", " ") for t in fig.axes[0].texts)
    for f in aall1331.iter_facts(aall1331.FACTS["flow"]):
        reasons = f.extra.get("reasons")
        if not reasons:
            continue
        groups = reasons.values() if f.name in {f"flow.{n}" for n in BY_ARM} else [reasons]
        for group in groups:
            for why, n in group.items():
                short = plots._SHORT_REASON.get(why, why[:1].lower() + why[1:])
                assert f"{n} {short}" in alltext, (f.name, why)


def test_patient_flow_arm_boxes_use_arm_colours():
    fig = plots.patient_flow()
    ax = fig.axes[0]
    for arm in aall1331.ARMS:
        text = next(t for t in ax.texts if t.get_gid() == f"flow.analysed.{arm}")
        x, y = text.get_position()
        boxes = [p for p in ax.patches if p.contains_point(ax.transAxes.transform((x, y)))]
        assert boxes and to_hex(boxes[0].get_edgecolor()) == plots.ARM_COLORS[arm].lower()


def test_patient_flow_title_and_reasons_switch():
    fig = plots.patient_flow(reasons=False)
    ax = fig.axes[0]
    assert "Patient flow" in ax.get_title(loc="left")
    assert not any("preference" in t.get_text() for t in ax.texts)
    with pytest.raises(TypeError, match="reasons"):
        plots.patient_flow(reasons="yes")


def test_patient_flow_draws_into_given_axes():
    fig = plots._new_figure((9, 7))
    ax = fig.add_subplot(1, 1, 1)
    assert plots.patient_flow(ax=ax) is fig
    with pytest.raises(TypeError, match="ax"):
        plots.patient_flow(ax="left")


# ---- arm comparison ------------------------------------------------------------------

def _published_percent(endpoint):
    r = aall1331.fact
    if endpoint in ("dfs_2y", "os_2y"):
        return {a: 100 * r(f"results.{endpoint}").value[a] for a in aall1331.ARMS}
    if endpoint == "mrd_negative_cycle_1":
        return {a: float(r("results.mrd_negative_cycle_1").extra["percent"][a]) for a in aall1331.ARMS}
    if endpoint == "toxic_deaths":
        return {a: 100 * r("results.toxic_deaths").value[a] / r("flow.received_cycle_1").value[a]
                for a in aall1331.ARMS}
    return {a: float(r("results.serious_ae_percent").value[endpoint][a]) for a in aall1331.ARMS}


@pytest.mark.parametrize("endpoint", list(plots.ARM_ENDPOINTS))
def test_arm_comparison_colours_the_published_share(endpoint):
    fig = plots.arm_comparison(endpoint)
    ax = fig.axes[0]
    texts = _texts_by_gid(ax)
    expected = _published_percent(endpoint)
    for arm in aall1331.ARMS:
        icons = next(c for c in ax.collections if c.get_gid() == f"icons.{arm}")
        colours = [to_hex(c) for c in icons.get_facecolors()]
        assert len(colours) == 100
        filled = sum(c == plots.ARM_COLORS[arm].lower() for c in colours)
        # the published percentage rounded to whole patients (MRD: the table's rounded %)
        assert abs(filled - expected[arm]) <= 0.5, (arm, filled, expected[arm])
        shown = float(texts[f"percent.{arm}"].rstrip("%"))
        assert abs(shown - expected[arm]) < 0.51
    assert ax.get_title(loc="left").startswith(plots.ARM_ENDPOINTS[endpoint]["title"])


def test_arm_comparison_exact_numbers():
    texts = _texts_by_gid(plots.arm_comparison("dfs_2y").axes[0])
    assert texts["percent.blinatumomab"] == "54.4%" and texts["percent.chemotherapy"] == "39.0%"
    texts = _texts_by_gid(plots.arm_comparison("toxic_deaths").axes[0])
    assert texts["counts.blinatumomab"] == "0 of 102 patients"
    assert texts["counts.chemotherapy"] == "5 of 97 patients"
    texts = _texts_by_gid(plots.arm_comparison("mrd_negative_cycle_1").axes[0])
    assert texts["counts.blinatumomab"] == "79 of 105 patients"   # Table 2
    assert texts["counts.chemotherapy"] == "33 of 103 patients"
    assert texts["percent.blinatumomab"] == "75%" and texts["percent.chemotherapy"] == "32%"


def test_arm_comparison_rejects_unknown_endpoint():
    with pytest.raises(ValueError, match="endpoint"):
        plots.arm_comparison("efs_5y")


def test_figures_render_without_warnings(recwarn):
    for fig in (plots.patient_flow(), plots.arm_comparison("sepsis")):
        fig.canvas.draw()
    assert not recwarn.list
    assert matplotlib.get_backend().lower() == "agg"


# ---- Kaplan-Meier with numbers at risk ------------------------------------------------

def _freireich_fits(conf_type="log-log"):
    from teachkit import datasets, survival

    d = datasets.freireich()
    return d, {g: survival.kaplan_meier(d.time[d.group == g], d.event[d.group == g],
                                        conf_type=conf_type) for g in ("6-MP", "placebo")}


def test_km_plot_at_risk_table_equals_kaplan_meier_and_the_data():
    d, fits = _freireich_fits()
    times = [0, 5, 6, 10, 15, 20, 25, 30, 35]
    fig = plots.km_plot(fits, time_unit="weeks", times=times)
    panel = fig._teachkit_panel
    for group, km in fits.items():
        t, e = d.time[d.group == group], d.event[d.group == group]
        shown = {row: [int(x.get_text()) for x in panel.cells[group, row]] for row, _ in panel.ROWS}
        # independent count from the raw data
        assert shown["at_risk"] == [int((t >= x).sum()) for x in times]
        assert shown["events"] == [int(((t <= x) & (e == 1)).sum()) for x in times]
        assert shown["censored"] == [int(((t <= x) & (e == 0)).sum()) for x in times]
        # and kaplan_meier(...).n_at_risk wherever a printed time is a row of its table
        for x, n in zip(times, shown["at_risk"]):
            rows = np.flatnonzero(km.time == x)
            if rows.size:
                assert n == int(km.n_at_risk[rows[0]])
    assert fits["6-MP"].n_at_risk[fits["6-MP"].time == 6][0] == 21   # R survfit: n.risk 21 at t=6


def test_km_plot_curves_ticks_and_bands_are_the_estimate():
    _, fits = _freireich_fits("log")
    fig = plots.km_plot(fits, time_unit="weeks")
    panel = fig._teachkit_panel
    for group, km in fits.items():
        x, y = panel.lines[group].get_data()
        assert x[0] == 0 and y[0] == 1
        np.testing.assert_allclose(y[1:], km.survival)
        tx, ty = panel.ticks[group].get_data()
        np.testing.assert_allclose(tx, km.time[km.n_censored > 0])
        np.testing.assert_allclose(ty, km.survival[km.n_censored > 0])
        verts = panel.bands[group].get_paths()[0].vertices
        finite = np.isfinite(km.ci_lower)
        assert np.isin(np.round(km.ci_lower[finite], 12), np.round(verts[:, 1], 12)).all()
        assert panel.lines[group].get_drawstyle() == "steps-post"
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Time (weeks)" and plots.figure_title(fig)


def test_km_plot_uses_arm_colours_and_says_synthetic():
    from teachkit import survival

    cohort = synthetic_cohort()
    fits = {a: survival.kaplan_meier(cohort.dfs_time[cohort.arm == a], cohort.dfs_event[cohort.arm == a])
            for a in aall1331.ARMS}
    fig = plots.km_plot(fits, time_unit="years", note=f"cohort: {SYNTHETIC_LABEL}")
    panel = fig._teachkit_panel
    for arm in aall1331.ARMS:
        assert to_hex(panel.lines[arm].get_color()) == plots.ARM_COLORS[arm].lower()
    assert any("synthetic, calibrated to published summaries" in t.get_text() for t in fig.axes[0].texts)


def test_km_plot_rejects_bad_input():
    with pytest.raises(TypeError, match="fits"):
        plots.km_plot({})
    with pytest.raises(TypeError, match="fits"):
        plots.km_plot({"a": [1, 2, 3]})


def test_risk_table_counts_against_lifelines():
    from lifelines import KaplanMeierFitter

    from teachkit import survival

    rng = np.random.default_rng(4)
    t = np.round(rng.exponential(10, 80), 1)
    e = rng.random(80) < 0.7
    km = survival.kaplan_meier(t, e)
    kmf = KaplanMeierFitter().fit(t, e)
    table = kmf.event_table
    times = np.array([0, 3, 7.5, 12, 20])
    counts = plots.risk_table_counts(km, times)
    for x, n, d, c in zip(times, counts["at_risk"], counts["events"], counts["censored"]):
        later = table.index >= x
        assert n == (table["at_risk"][later].iloc[0] if later.any() else 0)
        assert d == table["observed"][table.index <= x].sum()
        assert c == table["censored"][table.index <= x].sum()


# ---- boundaries, B-values, forest, adverse events ---------------------------------------

def test_boundary_plot_shows_the_design_on_three_scales():
    from scipy.special import ndtr

    from teachkit import sequential

    theta = sequential.drift_from_hazard_ratio(0.58, 131)
    d = sequential.group_sequential_design([1 / 3, 2 / 3, 1], futility_alpha=0.024, futility_drift=theta)
    fig = plots.boundary_plot(d, 131, [80 / 131], [1.5548])
    lines = fig._teachkit_panel.lines
    np.testing.assert_allclose(lines["z"][0].get_ydata(), d.z_efficacy)
    np.testing.assert_allclose(lines["p"][0].get_ydata(), ndtr(-d.z_efficacy))
    np.testing.assert_allclose(lines["hr"][0].get_ydata(),
                               np.exp(-2 * d.z_efficacy / np.sqrt(d.information_fractions * 131)))
    np.testing.assert_allclose(lines["z"][1].get_ydata(), d.z_futility[:-1])
    assert lines["z"][2].get_xydata().tolist() == [[80 / 131, 1.5548]]
    # rpact: O'Brien-Fleming-type boundaries 3.7103, 2.5114, 1.9930 (tests/data)
    import json
    from pathlib import Path

    ref = json.loads((Path(__file__).parent / "data" / "group_sequential_rpact.json").read_text())
    np.testing.assert_allclose(lines["z"][0].get_ydata(), ref["asOF_3_equal"]["crit"], atol=1e-4)
    assert "obrien-fleming" in plots.figure_title(fig)
    assert len(plots.boundary_plot(d).axes) == 2          # no HR scale without events


def test_bvalue_plot_path_and_drift_lines():
    fig = plots.bvalue_plot([0.3, 80 / 131], [1.0, 1.5548], {"design": 3.12, "H0": 0.0}, 1.98)
    panel = fig._teachkit_panel
    x, y = panel.path.get_data()
    np.testing.assert_allclose(y, [0, 1.0 * np.sqrt(0.3), 1.5548 * np.sqrt(80 / 131)])
    px, py = panel.projections["design"].get_data()
    np.testing.assert_allclose(py[-1], y[-1] + 3.12 * (1 - 80 / 131))
    assert list(panel.drift_lines["H0"].get_ydata()) == [0, 0]
    assert list(panel.critical.get_ydata()) == [1.98]


def test_published_effects_forest_shows_the_paper():
    fig = plots.published_effects_forest()
    values = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}
    assert values["value.0"] == "0.70 (0.47-1.03)"         # DFS HR, Figure 2A (printed 0.70)
    assert values["value.1"] == "0.62 (0.39-0.98)"         # OS HR, Figure 2B
    assert values["value.2"] == "6.4 (3.4-12.4)"           # MRD OR, Table 2
    assert values["value.3"] == "3.2 (1.7-5.9)"            # HSCT OR, Table 2
    with pytest.raises(ValueError, match="within"):
        plots.forest_plot(["a"], [2.0], [0.5], [1.0])
    with pytest.raises(ValueError, match="positive"):
        plots.forest_plot(["a"], [0.5], [-0.1], [1.0])


def test_adverse_events_plot_bars_are_table_3_percentages():
    fig = plots.adverse_events_plot(cycle=2)
    ax = fig.axes[0]
    t3 = aall1331.table3().where(cycle=2)
    bars = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    for arm, sign in (("blinatumomab", -1), ("chemotherapy", 1)):
        row = t3.where(event="Sepsis", arm=arm)
        n = int(row["n"][0])
        assert math.isclose(bars[f"g3.{arm}.Sepsis"].get_width(), sign * 100 * row["grade_3_plus"][0] / n)
        assert math.isclose(bars[f"any.{arm}.Sepsis"].get_width(), sign * 100 * row["any_grade"][0] / n)
    assert "Chemotherapy (n = 62)" in [t.get_text() for t in ax.texts]      # Table 3, cycle 2
    assert not any("Cytokine" in label.get_text() for label in ax.get_yticklabels())
    with pytest.raises(ValueError, match="cycle"):
        plots.adverse_events_plot(cycle=3)


# ---------------------------------------------------------------- the package layout

#: Every public name of the former single-file plots.py and the private ones other
#: modules and tests use (explorers: _km_step_xy, _step_band_verts; tests: _new_figure,
#: _SHORT_REASON).
PLOTS_NAMES = (
    "OKABE_ITO ARM_COLORS ARM_LABELS GREY LIGHT_GREY BOX_FILL STYLE style arm_color BarCollection "
    "patient_flow ARM_ENDPOINTS arm_comparison icon_colors set_arm_comparison risk_table_counts "
    "KaplanMeierPanel km_plot km_figure figure_title EFFICACY_COLOR FUTILITY_COLOR OBSERVED_COLOR "
    "BoundaryPanel boundary_plot BValuePanel bvalue_plot forest_plot published_effects_forest "
    "adverse_events_plot schoenfeld_plot figure_problems fit_text fit_titles "
    "_km_step_xy _step_band_verts _new_figure _SHORT_REASON _styled "
    "_figure_and_axes _set_title _nice_step _z_to_hr _z_to_p").split()


@pytest.mark.parametrize("name", PLOTS_NAMES)
def test_every_name_is_served_by_teachkit_plots(name):
    import importlib

    obj = getattr(plots, name)
    home = getattr(obj, "__module__", None)
    if home is not None and home.startswith("teachkit.plots."):
        assert getattr(importlib.import_module(home), name) is obj


def test_public_names_are_in_all():
    assert {n for n in PLOTS_NAMES if not n.startswith("_")} == set(plots.__all__)


def test_published_effects_carry_their_standing_and_caveats():
    """Issue 13 item 9: every effect shown is labelled primary / secondary / exploratory /
    post hoc (Methods, Outcomes; Table 2), with the multiplicity caveat and Table 2 note e."""
    fig = plots.published_effects_forest()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    standing = [label.split(" · ")[1].split(" (")[0].rstrip("*") for label in labels]
    assert standing == ["primary", "secondary", "exploratory", "post hoc"]
    caveat = next(t for t in fig.texts if t.get_gid() == "caveat").get_text().replace("\n", " ")
    assert "multiple comparisons" in caveat and "note e" in caveat
    # the overview explorer says the standing of whatever it shows, and the caveats of non-primary ones
    from teachkit.explorers import TrialOverview

    notes = {e: TrialOverview(endpoint=e)._note(TrialOverview(endpoint=e).result)
             for e in ("dfs_2y", "os_2y", "mrd_negative_cycle_1")}
    assert "primary end point" in notes["dfs_2y"] and "multiple" not in notes["dfs_2y"]
    assert "secondary end point" in notes["os_2y"] and "multiple comparisons" in notes["os_2y"]
    assert "exploratory end point" in notes["mrd_negative_cycle_1"] and "note e" in notes["mrd_negative_cycle_1"]
    # the MRD percentages shown use every analysed patient as denominator (missing = positive)
    mrd = plots.ARM_ENDPOINTS["mrd_negative_cycle_1"]
    analysed = aall1331.fact("flow.analysed").value
    assert all(mrd["counts"][a][1] == analysed[a] for a in analysed)


def test_forest_plot_texts_do_not_run_together():
    """Lesson 07's forest plot (long labels, a wide log axis): its tick labels, its two
    'favours' words and its axis label do not overlap ('0.20.3', 'favours' under the label),
    the 'favours' words sit on either side of the no-effect line, and ratios below 1 print
    with two decimals, as the paper does."""
    labels = ["DFS, hazard ratio (primary)", "Overall survival, hazard ratio (secondary)",
              "Not MRD-negative after cycle 1, odds ratio (exploratory)",
              "Not proceeding to transplant, odds ratio (post hoc)"]
    fig = plots.forest_plot(labels, [0.70, 0.62, 0.156, 0.312], [0.47, 0.39, 0.0806, 0.169],
                            [1.03, 0.98, 0.294, 0.588], xlabel="Ratio (95% CI), log scale")
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ticks = [t for t in ax.get_xticklabels() if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in ticks]
    assert all(not a.overlaps(b) for a, b in zip(boxes, boxes[1:])), [t.get_text() for t in ticks]
    favours = [t for t in ax.texts if "favours" in t.get_text()]
    fav = [t.get_window_extent(renderer) for t in favours]
    label = ax.xaxis.label.get_window_extent(renderer)
    assert len(fav) == 2 and fav[0].x1 <= fav[1].x0 + 0.5 and all(b.y0 >= label.y1 for b in fav)
    ref = ax.transData.transform((1.0, 0))[0]
    assert fav[0].x1 <= ref + 1 and fav[1].x0 >= ref - 1
    values = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
    assert values["value.0"] == "0.70 (0.47-1.03)" and values["value.2"] == "0.16 (0.08-0.29)"
    assert plots.figure_problems(fig) == []
