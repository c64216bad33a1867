"""Interactive explorers: move a control, see why.

Every explorer is a class built the same way:

``compute(**params)``
    pure: parameters in, a frozen result out; no widgets, no figure.  This is what
    the tests check against the library functions.
``update(**params)``
    validates the changed parameters (a bad value raises ``ValueError`` naming it),
    runs ``compute`` and updates the figure's artists *in place* (``set_data``,
    ``set_text``, ``set_verts``...), then draws the one Agg figure of the explorer to
    PNG bytes.  A failure inside ``compute`` never shows a traceback: the explorer
    shows a short message instead and keeps the last picture.
``widget``
    an ipywidgets layout: labelled controls (ranges chosen so that they cannot
    produce invalid input; sliders, dropdowns and buttons are all keyboard
    operable), a message line, and an ``ipywidgets.Image`` showing the PNG.  No
    ipympl and no ``clear_output``: the picture is swapped in place, so it does not
    flicker in Voila.
``example_params()``
    a handful of parameter sets sweeping the controls (used by tests and benchmarks).

One module per idea, in lesson order:

================== ==========================================================
``overview``        TrialOverview: one published result, both arms
``kaplan_meier``    KaplanMeierBuilder: the product-limit estimate, row by row
``log_rank``        LogRankExplorer: observed minus expected accumulating into Z
``risk_groups``     RiskClassifier: AALL1331 risk groups and strata
``stratification``  StratificationSimulator: simple vs stratified randomization
``planning``        EventsPlanner: events and patients needed, when looks come
``boundaries``      BoundaryExplorer: alpha spending, boundaries, power
``interim``         InterimMonitor: what the monitoring committee saw
``replay``          TrialReplayer: many replays of the whole trial
``check``           CheckYourself: the question at the end of every lesson
``practice``        Practice: a few questions per lesson, answered with a number (practice_for)
================== ==========================================================

static figures with a text alternative: ``show_figure(fig, alt=...)`` (use it instead of
``display(fig)`` in a lesson); and the shared machinery: ``_a11y`` (the stylesheet and
front-end patch that make the widgets accessible), ``_base`` (:class:`Param`, :class:`Explorer`), ``_png`` (the
PNG encoder) and ``_layout`` (axis ladders, bar collections).

>>> from teachkit import explorers
>>> ex = explorers.RiskClassifier()
>>> ex.update(site="marrow", months_from_diagnosis=40, mrd=0.5).group.value
'intermediate'
>>> ex.png[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import importlib

#: Where each public name lives.  The package imports a module when one of its names is first
#: used (PEP 562): a page that needs one explorer, or only the practice questions (the course
#: home), does not load every explorer with what they import (teachkit.sequential, scipy's
#: optimizers: about 25 MB of a lesson kernel).
_WHERE = {
    "_a11y": ("figure_html", "frontend", "show_figure"),
    "_base": ("SYNTHETIC_NOTE", "Explorer", "Param"),
    "boundaries": ("BoundaryExplorer", "BoundaryResult"),
    "check": ("CheckYourself",),
    "committee": ("CommitteeResult", "CommitteeRoom", "committee_check"),
    "interim": ("InterimMonitor", "InterimResult", "june_2019_interim"),
    "kaplan_meier": ("KaplanMeierBuilder", "KaplanMeierBuildResult"),
    "log_rank": ("LogRankExplorer", "LogRankResult"),
    "overview": ("EndpointResult", "TrialOverview"),
    "practice": ("Practice", "practice_for"),
    "planning": ("EventsPlanner", "PlanResult"),
    "replay": ("ReplayResult", "TrialReplayer"),
    "risk_groups": ("RiskClassifier", "RiskResult"),
    "stratification": ("StratificationResult", "StratificationSimulator", "trial_strata_mix"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = ["Param", "Explorer", "ALL", "SYNTHETIC_NOTE", "CheckYourself", "CommitteeRoom", "show_figure",
           "figure_html", "frontend", "Practice", "practice_for"]

#: Every explorer of issue 6, in lesson order (``ALL``).
_ALL = ("TrialOverview", "KaplanMeierBuilder", "LogRankExplorer", "RiskClassifier",
        "StratificationSimulator", "EventsPlanner", "BoundaryExplorer", "InterimMonitor", "TrialReplayer",
        "CommitteeRoom")


def __getattr__(name):
    if name == "ALL":
        value = tuple(__getattr__(n) for n in _ALL)
    elif name in _MODULE_OF:
        value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    else:
        try:  # a submodule (``explorers.boundaries``), as when the package imported them all
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_MODULE_OF) | {"ALL"})
