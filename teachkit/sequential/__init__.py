"""Group-sequential monitoring: alpha spending, boundaries, futility, power, B-values.

A trial that looks at its data K times must not reject H0 more often than
``alpha`` over all looks.  With Z_k the standardized log-rank statistic at
information fraction t_k (events so far / events planned), the canonical joint
distribution (Jennison & Turnbull 2000, ch. 3) is

    Z_k sqrt(t_k) = B(t_k),   B = Brownian motion with drift theta:
    B(t_k) - B(t_{k-1}) ~ N(theta (t_k - t_{k-1}), t_k - t_{k-1}), independent,

so E[Z_k] = theta sqrt(t_k).  ``theta`` is the *drift* (rpact's ``shift`` is
theta**2); for a log-rank test it is -log(HR) sqrt(D r (1 - r)) with D the
planned events and r the allocation fraction (:func:`drift_from_hazard_ratio`).

Probabilities of crossing boundaries are computed exactly (to ~1e-7) by the
recursive numerical integration of Armitage, McPherson & Rowe (1969), on the
grid of Jennison & Turnbull (2000, ch. 19): 6m - 1 points per look, dense
where the density of Z_k is large, plus midpoints for Simpson's rule.  No
Monte Carlo anywhere.  Results match R's rpact (``getDesignGroupSequential``,
``getDesignCharacteristics``) to better than 1e-6.

>>> d = group_sequential_design([1/3, 2/3, 1], alpha=0.025, spending="obrien-fleming")
>>> d.z_efficacy.round(4)
array([3.7103, 2.5114, 1.993 ])
>>> round(d.drift_for_power(0.85) ** 2, 3)         # rpact's shift
9.089
>>> interim = d.at_observed([80 / 131])             # the AALL1331 look
>>> round(float(interim.z_efficacy[0]), 4), round(float(interim.p_efficacy[0]), 4)
(2.6414, 0.0041)
"""

from __future__ import annotations

from ._checks import MAX_LOOKS, _fraction_open, _fractions, _hazard_ratio, _probability, _real
from .boundaries import (GRID_M, GroupSequentialDesign, drift_from_hazard_ratio,
                         group_sequential_design, naive_type_one_error)
from .inference import InferenceAfterStop, StoppingBias, bias_by_stopping, inference_after_stop
from .monitoring import (HazardRatioEstimate, InterimReport, PosteriorProbability, b_value,
                         conditional_power, hazard_ratio_from_z, interim_report,
                         posterior_probability, predictive_power)
from .spending import (SPENDING_NAMES, hwang_shih_decani_spending, obrien_fleming_spending,
                       pocock_spending, power_spending, spending_function)

__all__ = [
    "SPENDING_NAMES",
    "MAX_LOOKS",
    "obrien_fleming_spending",
    "pocock_spending",
    "hwang_shih_decani_spending",
    "power_spending",
    "spending_function",
    "group_sequential_design",
    "GroupSequentialDesign",
    "drift_from_hazard_ratio",
    "naive_type_one_error",
    "hazard_ratio_from_z",
    "HazardRatioEstimate",
    "b_value",
    "conditional_power",
    "predictive_power",
    "interim_report",
    "InterimReport",
    "inference_after_stop",
    "InferenceAfterStop",
    "bias_by_stopping",
    "StoppingBias",
    "posterior_probability",
    "PosteriorProbability",
]
