"""The stratified log-rank test of many simulated trials at once (used by :mod:`teachkit.simulate`).

Public through :func:`teachkit.simulate.stratified_logrank_rows`; kept in its own
module so that ``simulate.py`` stays a readable size.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stratified_logrank_rows"]



def _cumsum0(flags):
    """Cumulative count with a leading 0: ``out[j]`` = number of True in ``flags[:j]``."""
    out = np.zeros(flags.size + 1, dtype=np.int64)
    np.cumsum(flags, out=out[1:])
    return out


def stratified_logrank_rows(time, event, treatment, stratum=None, n_strata=None):
    """Stratified log-rank sums for many trials at once (one trial per row).

    For every row (trial), stratum ``s`` and distinct event time ``t`` with
    ``d`` events among ``n`` patients at risk (``d1`` events and ``n1`` at risk
    in the experimental arm)::

        O1 - E1 = sum  d1 - d * n1 / n
        V       = sum  d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)

    summed over event times and strata (Mantel 1966; Peto & Peto 1972); the
    variance is the hypergeometric one of R ``survdiff(Surv(time, event) ~ arm +
    strata(s))``.  Tied times are grouped exactly.  Rows may contain patients
    that are not (yet) in the trial: give them a negative ``time`` and
    ``event=False``; they never count as at risk.

    How it is vectorized: each row is sorted by (stratum, time); then the
    number at risk at a time is "patients from the first one with this time to
    the end of the stratum", a difference of positions, and the number at risk
    in the experimental arm a difference of one cumulative sum.  The sums over
    times become sums over events (a time with ``d`` events gives ``d`` equal
    terms ``x - n1/n`` and ``(n1/n)(1 - n1/n)(n - d)/(n - 1)``), added up per row
    with ``np.bincount``.

    Parameters
    ----------
    time, event, treatment : arrays of shape (n_trials, n_patients)
        follow-up time, event indicator (bool), experimental arm (bool).
    stratum : integer array of the same shape, or None (one stratum).
    n_strata : int, number of strata (default ``stratum.max() + 1``).

    Returns
    -------
    (o_minus_e, variance, events) : three arrays of shape (n_trials,)
        ``Z = -o_minus_e / sqrt(variance)``; the Peto log-HR is
        ``o_minus_e / variance``.

    >>> t = [[1., 2., 3., 4.]]; e = [[1, 1, 1, 0]]; x = [[1, 0, 1, 0]]
    >>> oe, v, d = stratified_logrank_rows(t, e, x)
    >>> round(float(oe[0]), 4), round(float(v[0]), 4), int(d[0])  # 1/2 - 1/3 + 1/2, 1/4 + 2/9 + 1/4
    (0.6667, 0.7222, 3)
    """
    time = np.asarray(time, dtype=float)
    if time.ndim != 2:
        raise ValueError(f"time must be two-dimensional (trials x patients), got shape {time.shape}")
    event = np.asarray(event).astype(bool, copy=False)
    treatment = np.asarray(treatment).astype(bool, copy=False)
    if event.shape != time.shape or treatment.shape != time.shape:
        raise ValueError("time, event and treatment must have the same shape")
    m, n = time.shape
    if stratum is None:
        stratum = np.zeros(time.shape, dtype=np.int8)
        n_strata = 1
    else:
        stratum = np.asarray(stratum)
        if stratum.shape != time.shape or stratum.dtype.kind not in "iu":
            raise ValueError("stratum must be an integer array shaped like time")
        if n_strata is None:
            n_strata = int(stratum.max()) + 1 if stratum.size else 1
        if stratum.size and (stratum.min() < 0 or stratum.max() >= n_strata):
            raise ValueError(f"stratum codes must be in 0 .. n_strata - 1 = {n_strata - 1}")
    if np.isnan(time).any():
        raise ValueError("time must not contain NaN")
    if np.any(event & (time < 0)):
        raise ValueError("event must be False where time < 0 (patients not yet in the trial)")

    # one small integer code per patient: stratum * 4 + event * 2 + treatment
    code = stratum.astype(np.int32) * 4 + event * 2 + treatment
    # sort each row by (stratum, time): by time first, then a stable sort by stratum
    offsets = (np.arange(m, dtype=np.intp) * n)[:, None]
    order = np.argsort(time, axis=1) + offsets
    if n_strata > 1:
        by_stratum = np.argsort(stratum.ravel()[order], axis=1, kind="stable") + offsets
        order = order.ravel()[by_stratum]
    order = order.ravel()
    t = time.ravel()[order]
    code = code.ravel()[order]
    e = (code & 2).astype(bool)
    x = (code & 1).astype(bool)
    group = np.repeat(np.arange(m, dtype=np.int64) * n_strata, n) + (code >> 2)  # (trial, stratum), sorted

    # tie runs: equal (trial, stratum, time); each position learns where its run starts
    new = np.ones(t.size, dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (t[1:] != t[:-1])
    run_start = np.maximum.accumulate(np.where(new, np.arange(t.size), 0))
    # one term per event: with d events at a time, the per-time sums
    # d1 - d n1/n and d p (1 - p) (n - d)/(n - 1) split into d equal-weight terms
    ev = np.flatnonzero(e)
    first = run_start[ev]  # the events of one run are neighbours in ev
    boundary = np.flatnonzero(np.diff(first, prepend=-1))
    per_run = np.diff(np.append(boundary, ev.size))
    d = np.repeat(per_run, per_run).astype(float)
    # at risk = everyone from the run's start to the end of its (trial, stratum) block
    end = np.cumsum(np.bincount(group.astype(np.intp), minlength=m * n_strata))[group[ev]]  # intp: Pyodide
    cum_x = _cumsum0(x)
    n_risk = (end - first).astype(float)
    p = (cum_x[end] - cum_x[first]) / n_risk  # share of the at-risk set in the experimental arm
    oe = x[ev] - p
    var = p * (1.0 - p) * (n_risk - d) / np.maximum(n_risk - 1.0, 1.0)
    row = ev // n
    o_minus_e = np.bincount(row, weights=oe, minlength=m)
    variance = np.bincount(row, weights=var, minlength=m)
    events = np.bincount(row, minlength=m).astype(np.int64)
    return o_minus_e, variance, events
