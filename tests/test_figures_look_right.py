"""Figures that look broken, caught by class (issue 26, item 7): a legend entry whose
artist draws nothing, a legend over bars or points, a title cut by the figure's edge
(teachkit.plots.figure_problems), on every explorer's pictures and every figure function.
The lessons' own figures are checked as they are made (tests/test_notebooks.py runs the
lessons with TEACHKIT_STRICT_FIGURES set: teachkit.explorers.show_figure then refuses a
figure that looks broken)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

import teachkit as tk
from teachkit import explorers, plots
from teachkit.plots import figure_problems


def test_the_check_finds_each_class():
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.plot([], [], "o", label="observed")
    ax.legend(loc="lower right")
    assert figure_problems(fig) == ["legend entry 'observed': nothing of it is drawn"]

    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.bar([0, 1, 2], [1, 1, 1], label="bars")
    ax.legend(loc="center")
    assert any("drawn over" in p for p in figure_problems(fig))

    fig = Figure(figsize=(3, 2))
    fig.suptitle("a title far too long for a figure this narrow to hold", x=0.01, ha="left")
    assert any("cut by the figure's edge" in p for p in figure_problems(fig))
    plots.fit_titles(fig)
    assert figure_problems(fig) == []


@pytest.mark.parametrize("cls", explorers.ALL, ids=lambda c: c.__name__)
def test_every_explorer_picture_looks_right(cls):
    extra = {"n_trials": 500} if cls is explorers.TrialReplayer else {}
    ex = cls(**extra)
    for params in cls.example_params():
        ex.update(**{**params, **extra})
        ex._render()                      # as the widget does: the moving artists drawn
        assert figure_problems(ex.figure) == [], params


def _figures():
    d = tk.datasets.freireich()
    fit = tk.cox.cox_ph(d.time, d.event, {"6-MP": (d.group == "6-MP").astype(int)})
    km = [tk.survival.kaplan_meier(d.time[d.group == g], d.event[d.group == g]) for g in ("6-MP", "placebo")]
    design = tk.sequential.group_sequential_design([1 / 3, 2 / 3, 1])
    yield "patient_flow", plots.patient_flow()
    yield "schoenfeld_plot", plots.schoenfeld_plot(tk.cox.proportional_hazards_test(fit), fit)
    yield "boundary_plot", plots.boundary_plot(design, 131)
    yield "boundary_plot observed", plots.boundary_plot(design, 131, [80 / 131], [1.555])
    yield "forest_plot", plots.forest_plot(["a", "b"], [0.7, 1.1], [0.5, 0.8], [1.0, 1.5], title="Effects")
    yield "published_effects_forest", plots.published_effects_forest()
    yield "adverse_events_plot", plots.adverse_events_plot()
    yield "arm_comparison", plots.arm_comparison("dfs_2y")
    yield "km_plot", plots.km_plot({"6-MP": km[0], "placebo": km[1]})


@pytest.mark.parametrize("name, fig", list(_figures()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_figure_function_looks_right(name, fig):
    assert figure_problems(fig) == [], name


def test_show_figure_displays_no_none(capsys):
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [1, 0])
    shown = explorers.show_figure(fig, alt="a falling line")
    assert shown is not None and repr(shown) == "<figure shown>"


def test_strict_figures_refuse_a_broken_one(monkeypatch):
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([], [], "o", label="observed")
    ax.legend()
    monkeypatch.setenv("TEACHKIT_STRICT_FIGURES", "1")
    with pytest.raises(ValueError, match="observed"):
        explorers._a11y.figure_html(fig, alt="nothing")
    monkeypatch.delenv("TEACHKIT_STRICT_FIGURES")
    assert "<img" in explorers._a11y.figure_html(fig, alt="nothing")
