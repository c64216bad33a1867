"""Figures for the lessons: the trial's patient flow, arm comparisons, Kaplan-Meier
curves with numbers at risk, group-sequential boundaries, B-value paths, forest
plots and adverse events by arm.

Conventions (the same in every figure):

* the Okabe-Ito colour-blind-safe palette (Okabe & Ito, 2008), with the two arms
  always in the same colours: :data:`ARM_COLORS`;
* axis labels with units, and a title that says what the figure shows;
* readable at the size Voila shows a figure (about 9 x 7 inches at 100 dpi);
* every function takes an optional ``ax`` (draw into an existing axes) and returns
  the :class:`matplotlib.figure.Figure`.

Figures made here are created through pyplot and closed at once, so a notebook
shows them exactly once (when the figure is the cell's value) and nothing
accumulates in pyplot's figure manager.

The figures live in topic modules -- :mod:`teachkit.plots._style` (palette, style,
figure helpers, :class:`BarCollection`), :mod:`teachkit.plots.km` (Kaplan-Meier),
:mod:`teachkit.plots.boundaries` (boundaries, B-values), :mod:`teachkit.plots.diagnostics`
(the proportional-hazards check) and :mod:`teachkit.plots.trial`
(patient flow, arm comparison, forest plots, adverse events) -- and every name is
available here as ``teachkit.plots.<name>``.

>>> fig = patient_flow()
>>> fig.axes[0].get_title(loc="left").startswith("Patient flow")
True
"""

from __future__ import annotations

from teachkit.plots._style import (ARM_COLORS, ARM_LABELS, BOX_FILL, GREY, LIGHT_GREY, OKABE_ITO, STYLE,
                                   BarCollection, _figure_and_axes, _new_figure, _nice_step, _set_title,
                                   _styled, arm_color, figure_title, fit_text, fit_titles, style)
from teachkit.plots.boundaries import (EFFICACY_COLOR, FUTILITY_COLOR, OBSERVED_COLOR, BoundaryPanel,
                                       BValuePanel, _z_to_hr, _z_to_p, boundary_plot, bvalue_plot)
from teachkit.plots._check import figure_problems
from teachkit.plots.diagnostics import schoenfeld_plot
from teachkit.plots.km import (KaplanMeierPanel, _km_step_xy, _step_band_verts, km_figure, km_plot,
                               risk_table_counts)
from teachkit.plots.trial import (_SHORT_REASON, ARM_ENDPOINTS, adverse_events_plot, arm_comparison,
                                  forest_plot, icon_colors, patient_flow, published_effects_forest,
                                  set_arm_comparison)

__all__ = [
    # look and helpers (teachkit.plots._style)
    "OKABE_ITO", "ARM_COLORS", "ARM_LABELS", "GREY", "LIGHT_GREY", "BOX_FILL", "STYLE", "style",
    "arm_color", "figure_title", "fit_text", "fit_titles", "BarCollection",
    # the trial's facts (teachkit.plots.trial)
    "patient_flow", "ARM_ENDPOINTS", "set_arm_comparison", "icon_colors", "arm_comparison",
    "forest_plot", "published_effects_forest", "adverse_events_plot",
    # Kaplan-Meier (teachkit.plots.km)
    "risk_table_counts", "KaplanMeierPanel", "km_plot", "km_figure",
    # boundaries and B-values (teachkit.plots.boundaries)
    "EFFICACY_COLOR", "FUTILITY_COLOR", "OBSERVED_COLOR", "BoundaryPanel", "boundary_plot",
    "BValuePanel", "bvalue_plot",
    # model diagnostics (teachkit.plots.diagnostics)
    "schoenfeld_plot",
    # what makes a figure look broken (teachkit.plots._check)
    "figure_problems",
]
