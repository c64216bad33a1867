"""Argument checks at the door of :func:`teachkit.simulate.simulate_trials`.

Each check names the argument in its message (TypeError for a wrong type,
ValueError for a wrong value) and returns the cleaned value.
"""

from __future__ import annotations

import math
import numbers
from typing import Mapping

import numpy as np


def _check_int(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def _check_real(value, name, *, low=None, high=None, low_open=False, high_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {value:g}")
    return value


def _check_increasing(values, name, *, upper=None):
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty one-dimensional sequence, got {values!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be positive and finite, got {arr.tolist()}")
    if np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be strictly increasing, got {arr.tolist()}")
    if upper is not None and arr[-1] > upper:
        raise ValueError(f"{name} must not exceed {upper:g}, got {arr.tolist()}")
    return arr


def _check_design(design, n_looks):
    z_eff = getattr(design, "z_efficacy", None)
    if z_eff is None:
        raise TypeError("design must be a group-sequential design with a z_efficacy attribute "
                        f"(teachkit.sequential.group_sequential_design), got {type(design).__name__}")
    z_eff = np.asarray(z_eff, dtype=float)
    if z_eff.shape != (n_looks,):
        raise ValueError(f"design has {z_eff.size} looks but the simulation has {n_looks}")
    return z_eff


def _check_futility(futility, design, n_looks):
    """Futility Z bounds, one per look; -inf where there is none (NaN in a design)."""
    if futility is None:
        return np.full(n_looks, -np.inf)
    if isinstance(futility, str):
        if futility != "design":
            raise ValueError(f"futility must be None, 'design' or a sequence of Z bounds, got {futility!r}")
        if design is None:
            return None  # decided after the simulation (the default design carries the rule)
        bounds = getattr(design, "z_futility", None)
        if bounds is None:
            raise ValueError("futility='design' needs a design with a z_futility attribute")
    else:
        bounds = futility
    bounds = np.asarray(bounds, dtype=float)
    if bounds.shape != (n_looks,):
        raise ValueError(f"futility must have one Z bound per look ({n_looks}), got shape {bounds.shape}")
    if np.any(bounds == np.inf):
        raise ValueError("futility bounds must be below +inf (NaN or -inf mean no futility at a look)")
    return np.where(np.isnan(bounds), -np.inf, bounds)


def _check_stratum_risk(stratum_risk, names):
    if stratum_risk is None:
        return np.ones(len(names))
    if isinstance(stratum_risk, Mapping):
        unknown = set(map(str, stratum_risk)) - set(names)
        if unknown:
            raise ValueError(f"stratum_risk names unknown strata {sorted(unknown)}; strata are {list(names)}")
        risk_ = np.array([float(stratum_risk.get(n, 1.0)) for n in names])
    else:
        risk_ = np.asarray(stratum_risk, dtype=float)
        if risk_.shape != (len(names),):
            raise ValueError(f"stratum_risk must have one hazard multiplier per stratum "
                             f"({len(names)}), got shape {risk_.shape}")
    if not np.all(np.isfinite(risk_)) or np.any(risk_ <= 0):
        raise ValueError(f"stratum_risk multipliers must be finite and > 0, got {risk_.tolist()}")
    return risk_


def _check_strata(strata, default):
    """Stratum names and proportions; ``None`` means ``default`` (a mapping name -> count)."""
    if strata is None:
        total = sum(default.values())
        names = tuple(default)
        return names, np.array([default[k] / total for k in names])
    if isinstance(strata, Mapping):
        names = tuple(str(k) for k in strata)
        probs = np.asarray(list(strata.values()), dtype=float)
    else:
        probs = np.asarray(strata, dtype=float)
        names = tuple(f"stratum {i + 1}" for i in range(probs.size))
    if probs.ndim != 1 or probs.size == 0:
        raise ValueError(f"strata must be a mapping name -> proportion or a sequence of proportions, got {strata!r}")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0):
        raise ValueError(f"strata proportions must be finite and >= 0, got {probs.tolist()}")
    if abs(probs.sum() - 1.0) > 1e-6:
        raise ValueError(f"strata proportions must sum to 1, got sum {probs.sum():.6g}")
    if probs.size > 127:
        raise ValueError(f"strata can hold at most 127 strata, got {probs.size}")
    return names, probs / probs.sum()
