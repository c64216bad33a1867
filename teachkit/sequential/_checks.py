"""Argument checks shared by the sequential modules: errors name the argument and say what was wrong."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

#: Largest number of looks a design may have.
MAX_LOOKS = 10


def _real(name, value, *, allow_array=False):
    if isinstance(value, bool) or (isinstance(value, np.ndarray) and value.dtype == bool):
        raise TypeError(f"{name} must be a number, got a boolean")
    if allow_array and not isinstance(value, Real):
        try:
            arr = np.asarray(value)
        except Exception:  # pragma: no cover - exotic objects
            raise TypeError(f"{name} must be a number or an array of numbers") from None
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be a number or an array of numbers, got dtype {arr.dtype}")
        arr = arr.astype(float)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return arr if arr.ndim else float(arr)
    if not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _probability(name, value):
    value = _real(name, value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    return value


def _hazard_ratio(name, value):
    value = _real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if value == 1:
        raise ValueError(f"{name} = 1 means no effect: there is no drift to plan or test against")
    return value


def _fractions(name, values):
    if isinstance(values, (str, bytes)) or isinstance(values, bool):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    try:
        arr = np.asarray(values)
    except Exception:  # pragma: no cover
        raise TypeError(f"{name} must be a sequence of numbers") from None
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a sequence of numbers, got dtype {arr.dtype}")
    arr = np.atleast_1d(arr.astype(float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    if arr.size > MAX_LOOKS:
        raise ValueError(f"{name} has {arr.size} looks; at most {MAX_LOOKS} are supported")
    if arr[0] <= 0:
        raise ValueError(f"{name} must be > 0, got first value {arr[0]}")
    steps = np.diff(arr)
    if np.any(steps <= 0):
        k = int(np.argmax(steps <= 0))
        raise ValueError(f"{name} must be strictly increasing, but look {k + 2} ({arr[k + 1]}) "
                         f"does not exceed look {k + 1} ({arr[k]})")
    if abs(arr[-1] - 1.0) > 1e-9:
        raise ValueError(f"{name} must end at 1 (the final analysis at full information), "
                         f"got last value {arr[-1]}")
    arr[-1] = 1.0
    return arr


def _fraction_open(name, value, allow_one=False):
    value = _real(name, value, allow_array=True)
    arr = np.asarray(value)
    if np.any(arr <= 0) or np.any(arr > 1) or (not allow_one and np.any(arr >= 1)):
        raise ValueError(f"{name} must lie in (0, {'1]' if allow_one else '1)'}, got {value!r}")
    return value
