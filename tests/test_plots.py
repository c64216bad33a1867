"""Tests of teachkit.plots: every figure shows the facts it claims to show."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex

from teachkit import aall1331, plots


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
