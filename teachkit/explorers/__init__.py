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

from teachkit.explorers._a11y import figure_html, frontend, show_figure
from teachkit.explorers._base import SYNTHETIC_NOTE, Explorer, Param
from teachkit.explorers.boundaries import BoundaryExplorer, BoundaryResult
from teachkit.explorers.check import CheckYourself
from teachkit.explorers.committee import CommitteeResult, CommitteeRoom, committee_check
from teachkit.explorers.interim import InterimMonitor, InterimResult, june_2019_interim
from teachkit.explorers.kaplan_meier import KaplanMeierBuilder, KaplanMeierBuildResult
from teachkit.explorers.log_rank import LogRankExplorer, LogRankResult
from teachkit.explorers.overview import EndpointResult, TrialOverview
from teachkit.explorers.practice import Practice, practice_for
from teachkit.explorers.planning import EventsPlanner, PlanResult
from teachkit.explorers.replay import ReplayResult, TrialReplayer
from teachkit.explorers.risk_groups import RiskClassifier, RiskResult
from teachkit.explorers.stratification import (StratificationResult, StratificationSimulator,
                                               trial_strata_mix)

__all__ = ["Param", "Explorer", "ALL", "SYNTHETIC_NOTE", "CheckYourself", "CommitteeRoom", "show_figure",
           "figure_html", "frontend", "Practice", "practice_for"]

#: Every explorer of issue 6, in lesson order.
ALL = (TrialOverview, KaplanMeierBuilder, LogRankExplorer, RiskClassifier,
       StratificationSimulator, EventsPlanner, BoundaryExplorer, InterimMonitor, TrialReplayer,
       CommitteeRoom)
