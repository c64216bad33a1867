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
    "user",
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


def user_spending(cumulative_alpha, alpha, n_looks):
    """Check a user-given cumulative alpha-spending vector (rpact ``typeOfDesign = "asUser"``).

    ``cumulative_alpha[k]`` is the one-sided type I error spent by look k:
    non-decreasing, in [0, alpha], one entry per look, the last equal to
    ``alpha``.  Used to re-cut a design at the looks that actually happened
    with the alpha each of them actually spent.

    >>> user_spending([0.004128, 0.025], 0.025, 2)
    array([0.004128, 0.025   ])
    """
    if isinstance(cumulative_alpha, (str, bytes, bool)) or cumulative_alpha is None:
        raise TypeError("parameter must be the cumulative alpha spent at each look (a sequence of "
                        f"numbers) for spending='user', got {cumulative_alpha!r}")
    try:
        arr = np.asarray(cumulative_alpha)
    except Exception:  # pragma: no cover - exotic objects
        raise TypeError("parameter must be a sequence of numbers for spending='user'") from None
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"parameter must be a sequence of numbers for spending='user', got dtype {arr.dtype}")
    arr = np.atleast_1d(arr.astype(float))
    if arr.ndim != 1 or arr.size != n_looks:
        raise ValueError(f"parameter must give the cumulative alpha at each of the {n_looks} looks "
                         f"for spending='user', got {arr.size} value(s)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"parameter must be finite, got {arr.tolist()}")
    if np.any(arr < 0) or np.any(np.diff(arr) < 0):
        raise ValueError(f"parameter (cumulative alpha spent) must be >= 0 and non-decreasing, "
                         f"got {arr.tolist()}")
    if abs(arr[-1] - alpha) > 1e-12 * max(1.0, alpha):
        raise ValueError(f"parameter must end at alpha ({alpha:g}): all alpha is spent by the final "
                         f"look, got last value {arr[-1]:g}")
    arr[-1] = alpha
    return arr

