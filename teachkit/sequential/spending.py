"""Alpha-spending functions: cumulative one-sided alpha spent at information fraction t.

Lan & DeMets (1983) O'Brien-Fleming- and Pocock-type, Hwang, Shih & DeCani
(1990), Kim & DeMets (1987) power family; rpact's ``typeOfDesign`` names are
given with each.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from ._checks import _probability, _real

#: Names accepted by ``group_sequential_design(spending=...)``.
SPENDING_NAMES = (
    "obrien-fleming",
    "pocock",
    "hwang-shih-decani",
    "power",
    "classical-obrien-fleming",
    "classical-pocock",
)



def _spending_t(t):
    t = _real("t", t, allow_array=True)
    if np.any(np.asarray(t) < 0) or np.any(np.asarray(t) > 1):
        raise ValueError(f"t must lie in [0, 1], got {t!r}")
    return t


def obrien_fleming_spending(t, alpha=0.025):
    """Lan-DeMets O'Brien-Fleming-type spending: alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)).

    One-sided version (Lan & DeMets 1983); rpact ``typeOfDesign = "asOF"``.
    Spends almost nothing early, nearly all alpha at the end.

    >>> round(float(obrien_fleming_spending(80 / 131)), 5)
    0.00413
    """
    t = _spending_t(t)
    alpha = _probability("alpha", alpha)
    # 2 - 2 Phi(x) written as 2 Phi(-x): no cancellation when x is large (t small)
    with np.errstate(divide="ignore"):
        return 2.0 * ndtr(ndtri(alpha / 2.0) / np.sqrt(t))


def pocock_spending(t, alpha=0.025):
    """Lan-DeMets Pocock-type spending: alpha(t) = alpha log(1 + (e - 1) t).

    Lan & DeMets (1983); rpact ``typeOfDesign = "asP"``.  Spends evenly, so
    the Z boundaries are nearly flat.

    >>> round(float(pocock_spending(0.5)), 6)
    0.015503
    """
    t = _spending_t(t)
    alpha = _probability("alpha", alpha)
    return alpha * np.log1p((math.e - 1.0) * t)


def hwang_shih_decani_spending(t, alpha=0.025, gamma=-4.0):
    """Hwang, Shih & DeCani (1990): alpha (1 - exp(-gamma t)) / (1 - exp(-gamma)).

    gamma = 0 is linear spending alpha t; gamma = -4 resembles O'Brien-Fleming,
    gamma = 1 resembles Pocock.  rpact ``typeOfDesign = "asHSD", gammaA = gamma``.

    >>> round(float(hwang_shih_decani_spending(0.5, gamma=-4)), 6)
    0.00298
    """
    t = _spending_t(t)
    alpha = _probability("alpha", alpha)
    gamma = _real("gamma", gamma)
    if gamma == 0:
        return alpha * t
    return alpha * np.expm1(-gamma * t) / math.expm1(-gamma)


def power_spending(t, alpha=0.025, rho=3.0):
    """Kim & DeMets (1987) power family: alpha t**rho (rho > 0).

    rpact ``typeOfDesign = "asKD", gammaA = rho``.

    >>> float(power_spending(0.5, rho=2))
    0.00625
    """
    t = _spending_t(t)
    alpha = _probability("alpha", alpha)
    rho = _real("rho", rho)
    if rho <= 0:
        raise ValueError(f"rho must be > 0, got {rho}")
    return alpha * np.power(t, rho)


def spending_function(spending, parameter=None):
    """The spending function called ``spending``, as ``f(t, alpha)``.

    >>> f = spending_function("power", parameter=3)
    >>> float(f(0.5, 0.025))
    0.003125
    """
    if not isinstance(spending, str):
        raise TypeError(f"spending must be a string, one of {SPENDING_NAMES}")
    if spending not in SPENDING_NAMES[:4]:
        raise ValueError(f"spending must be one of {SPENDING_NAMES[:4]} for a spending function, "
                         f"got {spending!r}")
    if spending in ("hwang-shih-decani", "power"):
        if parameter is None:
            what = "gamma" if spending == "hwang-shih-decani" else "rho"
            raise ValueError(f"parameter ({what}) is required for spending={spending!r}")
        parameter = _real("parameter", parameter)
        if spending == "power" and parameter <= 0:
            raise ValueError(f"parameter (rho) must be > 0 for power spending, got {parameter}")
    elif parameter is not None:
        raise ValueError(f"parameter is only used with 'hwang-shih-decani' or 'power' spending, "
                         f"not {spending!r}")
    if spending == "obrien-fleming":
        return obrien_fleming_spending
    if spending == "pocock":
        return pocock_spending
    if spending == "hwang-shih-decani":
        return lambda t, alpha: hwang_shih_decani_spending(t, alpha, parameter)
    return lambda t, alpha: power_spending(t, alpha, parameter)
