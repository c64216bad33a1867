"""Cox proportional hazards regression and the proportional-hazards test.

The Cox model (Cox, 1972) says that the hazard of subject *i* in stratum *s* is

    h_i(t) = h_0s(t) * exp(x_i' beta),

an unspecified baseline hazard per stratum times a relative risk that depends on
the covariates only.  beta is estimated by maximizing the *partial likelihood*:
at each event time the subject who failed is compared with everyone still at
risk in the same stratum,

    log L(beta) = sum over events i [ x_i' beta - log sum_{j in R(t_i)} exp(x_j' beta) ],

so the baseline hazard never has to be estimated.  ``exp(beta)`` is the hazard
ratio.  With tied event times the risk-set sum is either used as it is for every
tied event (Breslow, 1974) or thinned step by step as if the ties had happened in
some unknown order (Efron, 1977; the default here and in R).

:func:`proportional_hazards_test` then asks whether the hazard ratio is really
constant in time: it regresses the scaled Schoenfeld residuals on a function of
time (Grambsch & Therneau, 1994), exactly as R's ``cox.zph`` does.

>>> import teachkit as tk
>>> # survival::aml: weeks to relapse, maintained (0) vs not maintained (1)
>>> time  = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161,
...          5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
>>> event = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0,
...          1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
>>> nonmaintained = [0] * 11 + [1] * 12
>>> fit = tk.cox.cox_ph(time, event, {"nonmaintained": nonmaintained})
>>> print(f"HR {fit.hazard_ratio[0]:.3f} ({fit.ci_lower[0]:.3f} to {fit.ci_upper[0]:.3f})")
HR 2.498 (0.916 to 6.813)
>>> round(float(tk.cox.proportional_hazards_test(fit).p_value[0]), 4)
0.9293
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from teachkit import _display

__all__ = [
    "cox_ph",
    "proportional_hazards_test",
    "CoxResult",
    "PHTestResult",
    "ConvergenceError",
    "MonotoneLikelihoodError",
]

TIES = ("efron", "breslow")
TRANSFORMS = ("km", "identity", "rank")


class ConvergenceError(RuntimeError):
    """Newton-Raphson did not converge within ``iter_max`` iterations."""


class MonotoneLikelihoodError(ConvergenceError):
    """The partial likelihood keeps increasing as a coefficient goes to +/- infinity.

    Happens when a covariate separates the events perfectly, for example when
    every event is in one group (Bryson & Johnson, 1981).  The maximum
    likelihood estimate does not exist; R's ``coxph`` only warns ("coefficient
    may be infinite") and prints a huge coefficient, teachkit refuses.
    """


# --------------------------------------------------------------------------- input


def _vector(x, name: str, kinds: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype.kind not in kinds:
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr


def _check_time_event(time, event):
    t = _vector(time, "time", "iuf").astype(float)
    e = _vector(event, "event", "biuf")
    if e.size != t.size:
        raise ValueError(f"event has length {e.size}, but time has length {t.size}")
    if np.isnan(t).any():
        raise ValueError("time contains NaN")
    if not np.isfinite(t).all():
        raise ValueError("time contains infinite values")
    if (t < 0).any():
        raise ValueError(f"time must be >= 0; got {t[t < 0][0]!r}")
    ef = e.astype(float)
    if np.isnan(ef).any():
        raise ValueError("event contains NaN")
    if not np.isin(ef, (0.0, 1.0)).all():
        bad = ef[~np.isin(ef, (0.0, 1.0))][0]
        raise ValueError(f"event must contain only 0/1 (or booleans); got {bad!r}")
    return t, ef.astype(np.int8)


def _check_covariates(covariates, n: int, names):
    """Return an (n, p) float matrix and the covariate names."""
    if isinstance(covariates, Mapping):
        found = [str(k) for k in covariates]
        columns = [np.asarray(v) for v in covariates.values()]
        if not columns:
            raise ValueError("covariates is empty")
        for col_name, col in zip(found, columns):
            if col.ndim != 1:
                raise ValueError(f"covariates[{col_name!r}] must be one-dimensional, got shape {col.shape}")
            if col.size != n:
                raise ValueError(f"covariates[{col_name!r}] has length {col.size}, but time has length {n}")
        arrays, default = columns, found
    elif hasattr(covariates, "columns") and hasattr(covariates, "to_numpy"):  # pandas DataFrame
        default = [str(c) for c in covariates.columns]
        arrays = [np.asarray(covariates.iloc[:, j]) for j in range(covariates.shape[1])]
        if not arrays:
            raise ValueError("covariates has no columns")
    else:
        arr = np.asarray(covariates)
        series_name = getattr(covariates, "name", None) if hasattr(covariates, "to_numpy") else None
        if arr.ndim == 1:
            arrays = [arr]
            default = [str(series_name) if series_name is not None else "x"]
        elif arr.ndim == 2:
            arrays = [arr[:, j] for j in range(arr.shape[1])]
            default = ["x"] if arr.shape[1] == 1 else [f"x{j + 1}" for j in range(arr.shape[1])]
            if not arrays:
                raise ValueError("covariates has no columns")
        else:
            raise ValueError(f"covariates must be 1-D (one covariate) or 2-D (n x p), got shape {arr.shape}")
    for col_name, col in zip(default, arrays):
        if col.dtype.kind not in "biuf":
            raise TypeError(f"covariates: column {col_name!r} must be numeric (or boolean), got dtype {col.dtype}")
        if col.size != n:
            raise ValueError(f"covariates has {col.size} rows, but time has length {n}")
    X = np.column_stack([c.astype(float) for c in arrays])
    if names is not None:
        names = [str(s) for s in (names if not isinstance(names, str) else [names])]
        if len(names) != X.shape[1]:
            raise ValueError(f"names has {len(names)} entries for {X.shape[1]} covariate(s)")
        if len(set(names)) != len(names):
            raise ValueError(f"names must be distinct, got {names}")
    else:
        names = default
        if len(set(names)) != len(names):
            raise ValueError(f"covariates: column names must be distinct, got {names}")
    for j, name in enumerate(names):
        if np.isnan(X[:, j]).any():
            raise ValueError(f"covariates: column {name!r} contains NaN")
        if not np.isfinite(X[:, j]).all():
            raise ValueError(f"covariates: column {name!r} contains infinite values")
        if X[:, j].min() == X[:, j].max():
            raise ValueError(f"covariates: column {name!r} has no variation (every value is {X[0, j]:g}), "
                             "so its coefficient cannot be estimated")
    return X, tuple(names)


def _check_strata(strata, n: int):
    if strata is None:
        return np.zeros(n, dtype=np.intp), (None,)
    s = np.asarray(strata)
    if s.ndim != 1:
        raise ValueError(f"strata must be one-dimensional, got shape {s.shape}")
    if s.size != n:
        raise ValueError(f"strata has length {s.size}, but time has length {n}")
    if s.dtype.kind == "f" and np.isnan(s).any():
        raise ValueError("strata contains NaN")
    if s.dtype.kind == "O" and any(v is None or (isinstance(v, float) and v != v) for v in s):
        raise ValueError("strata contains missing values (None/NaN)")
    try:
        levels, codes = np.unique(s, return_inverse=True)
    except TypeError as exc:
        raise TypeError(f"strata labels must be mutually comparable (all numbers or all strings): {exc}") from None
    return codes.reshape(-1).astype(np.intp), tuple(levels.tolist())


# --------------------------------------------------------------------------- engine


@dataclass(frozen=True, eq=False)
class _Design:
    """The data sorted by (stratum, time), with the index arrays the likelihood needs.

    Everything here is computed once per fit; each Newton step then costs a few
    vectorized passes over it.
    """

    order: np.ndarray          # original row of each sorted row
    time: np.ndarray           # sorted times
    event: np.ndarray          # sorted 0/1
    stratum: np.ndarray        # sorted stratum codes
    X: np.ndarray              # sorted covariates, centred at their overall mean
    X_raw: np.ndarray          # sorted covariates as given
    Z: np.ndarray              # [1, x, vec(x x')] per row: what the risk sets sum
    stratum_start: np.ndarray  # first sorted row of each stratum
    stratum_size: np.ndarray
    event_rows: np.ndarray     # sorted rows of the events (m of them)
    tie_first: np.ndarray      # first position (in event_rows) of each distinct (stratum, event time)
    tie_of_event: np.ndarray   # which distinct (stratum, event time) each event belongs to
    tie_risk_start: np.ndarray  # first sorted row at risk at each distinct event time
    efron_fraction: np.ndarray  # k / d for the tied events k = 0..d-1 at a time (Efron); 0 for Breslow
    x_event_sum: np.ndarray    # sum of the events' centred covariates


def _changes(a: np.ndarray) -> np.ndarray:
    """True where a sorted array starts a new run of equal values."""
    out = np.empty(a.size, dtype=bool)
    out[0] = True
    np.not_equal(a[1:], a[:-1], out=out[1:])
    return out


def _design(time, event, X, strata_codes, ties) -> _Design:
    order = np.lexsort((time, strata_codes))          # stable: by stratum, then time
    t, e, s = time[order], event[order], strata_codes[order]
    X_raw = X[order]
    Xc = X_raw - X_raw.mean(axis=0)                    # as R's coxfit6 does, for stability
    n, p = Xc.shape
    Z = np.hstack([np.ones((n, 1)), Xc, (Xc[:, :, None] * Xc[:, None, :]).reshape(n, p * p)])

    new_stratum = _changes(s)
    stratum_start = np.flatnonzero(new_stratum)
    stratum_size = np.diff(np.append(stratum_start, n))
    new_time = new_stratum | _changes(t)
    group = np.cumsum(new_time) - 1                    # distinct (stratum, time) of each row
    group_start = np.flatnonzero(new_time)

    event_rows = np.flatnonzero(e)
    event_group = group[event_rows]
    new_tie = _changes(event_group)
    tie_first = np.flatnonzero(new_tie)
    tie_of_event = np.cumsum(new_tie) - 1
    n_tied = np.diff(np.append(tie_first, event_rows.size))
    if ties == "efron":
        k = np.arange(event_rows.size) - tie_first[tie_of_event]
        efron_fraction = k / n_tied[tie_of_event]
    else:
        efron_fraction = np.zeros(event_rows.size)
    return _Design(order, t, e, s, Xc, X_raw, Z, stratum_start, stratum_size, event_rows,
                   tie_first, tie_of_event, group_start[event_group[tie_first]],
                   efron_fraction, Xc[event_rows].sum(axis=0))


def _reverse_cumsum(w: np.ndarray, stratum_start: np.ndarray) -> np.ndarray:
    """sum_{j >= i, same stratum} w_j for every sorted row i (the risk-set sums)."""
    if stratum_start.size == 1:
        return np.cumsum(w[::-1], axis=0)[::-1]
    out = np.empty_like(w)
    bounds = np.append(stratum_start, w.shape[0])
    for a, b in zip(bounds[:-1], bounds[1:]):
        out[a:b] = np.cumsum(w[a:b][::-1], axis=0)[::-1]
    return out


def _risk_set_moments(beta: np.ndarray, d: _Design):
    """Per event: the (Efron-thinned) risk-set sums S0, mean xbar = S1/S0 and S2/S0.

    For the k-th (k = 0..d-1) of d events tied at time t the risk set is thinned
    by k/d of the tied events' own contribution (Efron); Breslow uses k = 0.
    """
    p = d.X.shape[1]
    eta = d.X @ beta
    # subtract the largest linear predictor of each stratum: exp() cannot overflow,
    # and every ratio below (and the log-likelihood) is unchanged.
    if d.stratum_start.size == 1:
        eta = eta - eta.max()
    else:
        eta = eta - np.repeat(np.maximum.reduceat(eta, d.stratum_start), d.stratum_size)
    # With a diverging coefficient (monotone likelihood) a whole risk set can underflow
    # to 0; the non-finite result is then handled by the caller (step halving, as in R).
    with np.errstate(under="ignore", divide="ignore", invalid="ignore"):
        w = np.exp(eta)[:, None] * d.Z
        at_risk = _reverse_cumsum(w, d.stratum_start)[d.tie_risk_start]      # per distinct event time
        tied = np.add.reduceat(w[d.event_rows], d.tie_first, axis=0)          # the tied events' own part
        S = at_risk[d.tie_of_event] - d.efron_fraction[:, None] * tied[d.tie_of_event]
        S0 = S[:, 0]
        xbar = S[:, 1:1 + p] / S0[:, None]
        S2_over_S0 = S[:, 1 + p:] / S0[:, None]
        loglik = eta[d.event_rows].sum() - np.log(S0).sum()
    return loglik, xbar, S2_over_S0


def _loglik_score_information(beta: np.ndarray, d: _Design):
    """log L(beta), score U(beta) = sum (x_i - xbar_i), information I = sum Var_i(x)."""
    p = d.X.shape[1]
    loglik, xbar, S2_over_S0 = _risk_set_moments(beta, d)
    score = d.x_event_sum - xbar.sum(axis=0)
    information = S2_over_S0.sum(axis=0).reshape(p, p) - xbar.T @ xbar
    return loglik, score, information


def _solve(information, rhs):
    try:
        return np.linalg.solve(information, rhs)
    except np.linalg.LinAlgError:
        return np.full_like(rhs, np.nan)


def _newton_raphson(d: _Design, names, eps: float, iter_max: int):
    """Maximize the partial likelihood exactly as R's coxfit6 does (survival 3.x).

    Start at beta = 0; take Newton steps beta + I^{-1} U; if the log-likelihood
    goes down (or is not finite) halve back towards the last good beta
    (beta_new = (beta_new + h * beta) / (h + 1), h = 1, 2, ...); stop when
    |1 - loglik_old / loglik_new| <= eps.
    """
    p = d.X.shape[1]
    beta = np.zeros(p)
    loglik0, score0, info0 = _loglik_score_information(beta, d)
    diag = np.diag(info0)
    scaled = info0 / np.sqrt(np.outer(diag, diag)) if np.all(diag > 0) else None
    if scaled is None or np.linalg.eigvalsh(scaled).min() <= 1e-10:   # scale-free, like R's toler.chol
        raise ValueError(
            "covariates: the information matrix at beta = 0 is singular; a covariate is constant within "
            "every risk set (or the covariates are collinear), so the model is not identifiable")
    step = _solve(info0, score0)
    score_test = float(score0 @ step)

    best, newbeta, halving = loglik0, beta + step, 0
    for iteration in range(1, iter_max + 1):
        loglik, score, info = _loglik_score_information(newbeta, d)
        finite = np.isfinite(loglik) and np.isfinite(score).all() and np.isfinite(info).all()
        if finite and (loglik == best or abs(1.0 - float(best) / float(loglik)) <= eps):
            return newbeta, loglik0, loglik, score, info, score_test, iteration
        if not finite or loglik < best:
            halving += 1
            newbeta = (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving, best, beta = 0, loglik, newbeta
            newbeta = newbeta + _solve(info, score)
            if not np.isfinite(newbeta).all():
                break
    loglik, score, info = _loglik_score_information(beta, d)
    lp = d.X @ beta
    sd = d.X.std(axis=0)
    suspect = [n for n, b, s in zip(names, beta, sd) if abs(b) * s > 5]
    if lp.max() - lp.min() > 30 or suspect:
        raise MonotoneLikelihoodError(_monotone_message(suspect or list(names), beta, names))
    raise ConvergenceError(
        f"Newton-Raphson did not converge in iter_max={iter_max} iterations "
        f"(last log partial likelihood {loglik:.6f}, coef {np.array2string(beta, precision=4)}); "
        "try a larger iter_max or check the covariates for near-separation")


def _monotone_message(flagged, beta, names):
    parts = []
    for name in flagged:
        b = beta[names.index(name)]
        direction = "+infinity" if b > 0 else "-infinity"
        parts.append(f"{name!r} (coef drifting towards {direction}, now {b:.3g})")
    one = len(parts) == 1
    return ("monotone likelihood: the partial likelihood keeps increasing as the coefficient"
            + ("" if one else "s") + " of " + ", ".join(parts)
            + (" grows" if one else " grow") + " without bound, so "
            + ("its maximum likelihood estimate does" if one else "their maximum likelihood estimates do")
            + " not exist. "
            "This happens when the covariate separates the events, e.g. every event (within each "
            "stratum) occurs in one group. Report the log-rank test instead, or use a penalized "
            "(Firth) Cox model (Heinze & Schemper, 2002).")


# --------------------------------------------------------------------------- results


def _fmt(x, digits=4):
    return "NA" if not np.isfinite(x) else f"{x:.{digits}g}"


def _fmt_p(p):
    return "<1e-16" if p < 1e-16 else f"{p:.3g}"


def _freeze(*arrays):
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.setflags(write=False)


@dataclass(frozen=True, eq=False, repr=False)
class CoxResult:
    """A fitted Cox model (the counterpart of R's ``summary(coxph(...))``).

    Per-covariate arrays (length p, in the order of :attr:`names`): ``coef``,
    ``se``, ``hazard_ratio`` = exp(coef), ``ci_lower``/``ci_upper`` (Wald CI of
    the hazard ratio, exp(coef -/+ z se)), ``z`` = coef / se and ``p_value``
    (two-sided Wald).  Global tests of beta = 0 on ``df`` = p degrees of freedom:
    ``lr_chi2`` = 2 (loglik - loglik_null), ``wald_chi2`` = b' I b and
    ``score_chi2`` = U(0)' I(0)^{-1} U(0) (for a single group indicator and no
    tied event times, the log-rank statistic; with ties it differs slightly from
    R's ``survdiff``, which uses the hypergeometric variance), with ``lr_p_value``, ``wald_p_value``,
    ``score_p_value``.  ``var`` is the inverse of ``information`` (R:
    ``fit$var``).
    """

    names: tuple
    coef: np.ndarray
    se: np.ndarray
    hazard_ratio: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    conf_level: float
    var: np.ndarray
    information: np.ndarray
    loglik_null: float
    loglik: float
    lr_chi2: float
    wald_chi2: float
    score_chi2: float
    df: int
    lr_p_value: float
    wald_p_value: float
    score_p_value: float
    n: int
    n_events: int
    n_iter: int
    ties: str
    strata_levels: tuple
    _design: _Design = field(compare=False)

    @property
    def stratified(self) -> bool:
        return self.strata_levels != (None,)

    def _rows(self):
        pct = f"{100 * self.conf_level:g}%"
        header = ("", "coef", "HR", f"lower {pct}", f"upper {pct}", "se(coef)", "z", "p")
        rows = [header]
        for j, name in enumerate(self.names):
            rows.append((name, _fmt(self.coef[j]), _fmt(self.hazard_ratio[j]), _fmt(self.ci_lower[j]),
                         _fmt(self.ci_upper[j]), _fmt(self.se[j]), f"{self.z[j]:.3f}", _fmt_p(self.p_value[j])))
        return rows

    def _tests(self):
        return [
            ("Likelihood ratio test", self.lr_chi2, self.lr_p_value),
            ("Wald test", self.wald_chi2, self.wald_p_value),
            ("Score (log-rank) test", self.score_chi2, self.score_p_value),
        ]

    def table(self) -> str:
        """The coefficient table with the three global tests, as R's ``summary.coxph`` prints it."""
        header, *rows = self._rows()
        return _display.text_table(header, rows, align="l" + "r" * (len(header) - 1), notes=self._notes())

    def _notes(self, html=False):
        tests = [f"{label:<22s}= {stat:.4g} on {self.df} df, p = {_fmt_p(p)}" for label, stat, p in self._tests()]
        loglik = (f"log partial likelihood: {self.loglik_null:.6g} at beta = 0, "
                  f"{self.loglik:.6g} at the estimate")
        return ([" ".join(t.split()) for t in tests] if html else ["", *tests]) + [loglik]

    def __repr__(self) -> str:
        strata = f", {len(self.strata_levels)} strata" if self.stratified else ""
        return (f"CoxResult(n={self.n}, events={self.n_events}, ties={self.ties!r}{strata}, "
                f"converged in {self.n_iter} iterations)\n{self.table()}")

    def _repr_html_(self) -> str:
        header, *rows = self._rows()
        strata = f", {len(self.strata_levels)} strata" if self.stratified else ""
        title = f"Cox model (n = {self.n}, events = {self.n_events}, ties = {self.ties}{strata})"
        return _display.html_table(header, rows, align="l" + "r" * (len(header) - 1), title=title,
                                   notes=self._notes(html=True), row_headers=True)

    def to_frame(self):
        """The per-covariate table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(
            {"coef": self.coef, "hazard_ratio": self.hazard_ratio, "ci_lower": self.ci_lower,
             "ci_upper": self.ci_upper, "se": self.se, "z": self.z, "p_value": self.p_value},
            index=pd.Index(self.names, name="covariate"))


def cox_ph(time, event, covariates, strata=None, ties="efron", *, conf_level=0.95,
           names=None, eps=1e-9, iter_max=20) -> CoxResult:
    r"""Fit a Cox proportional hazards model by maximizing the partial likelihood.

    Model: h_i(t) = h_0s(t) exp(x_i' beta), with a separate baseline hazard h_0s
    in every stratum s.  The log partial likelihood sums, over the event times t
    of each stratum, with D(t) the d tied events and R(t) those still at risk
    (time >= t) in that stratum:

    - Breslow: sum_{i in D} x_i'b - d log S0(t),  S0(t) = sum_{j in R} exp(x_j'b)
    - Efron:   sum_{i in D} x_i'b - sum_{k=0}^{d-1} log[S0(t) - (k/d) sum_{i in D} exp(x_i'b)]

    Its gradient is the score U(b) = sum_events (x_i - xbar(t_i)), xbar the
    exp(x'b)-weighted mean of x over the (thinned) risk set, and minus its Hessian
    the information I(b) = sum_events Var(t_i), the weighted covariance of x over
    the risk set.  Newton-Raphson b <- b + I^{-1} U from b = 0, with R's step
    halving when the likelihood goes down, stops when the relative change of the
    log-likelihood is <= ``eps`` (R: ``coxph.control(eps = 1e-9, iter.max = 20)``).
    se = sqrt(diag I(b)^{-1}); the CI of the hazard ratio is exp(b -/+ z_{1-a/2} se).

    Parameters
    ----------
    time, event : array-like, length n
        Follow-up time (>= 0) and 1 = event, 0 = censored (booleans fine).
    covariates : array-like (n,) or (n, p), pandas DataFrame/Series, or a dict name -> column
        Column names of a DataFrame (or dict keys, or a Series name) become the
        covariate names; otherwise "x" or "x1", "x2", ... (or pass ``names``).
    strata : array-like of labels, optional
        Separate baseline hazards per label (R's ``+ strata(s)``).
    ties : {"efron", "breslow"}
    conf_level : float
        Confidence level of the hazard-ratio intervals.
    eps, iter_max
        Convergence tolerance and maximum number of Newton steps, as in R.

    Raises
    ------
    ValueError, TypeError
        Bad input, naming the argument (no covariate variation, NaN, ...).
    MonotoneLikelihoodError
        A coefficient diverges (e.g. all events in one group); names the covariate.
    ConvergenceError
        No convergence in ``iter_max`` steps.

    Matches R: ``coxph(Surv(time, event) ~ x1 + x2 + strata(s), ties = "efron")``
    (survival 3.x) to 1e-6, up to R's ``timefix`` merging of times that differ
    only by rounding error.

    References: Cox DR, J R Stat Soc B 1972; Breslow NE, Biometrics 1974;
    Efron B, JASA 1977; Therneau TM & Grambsch PM, Modeling Survival Data, 2000.

    Examples
    --------
    The 6-MP trial in miniature: six children on 6-MP, six on placebo (weeks).

    >>> fit = cox_ph([6, 6, 7, 10, 13, 16, 1, 2, 3, 4, 5, 8],
    ...              [1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1],
    ...              {"6-MP": [1] * 6 + [0] * 6})
    >>> fit.coef.round(4), fit.hazard_ratio.round(4)
    (array([-2.0124]), array([0.1337]))
    >>> round(fit.lr_chi2, 3), round(fit.score_chi2, 3), fit.df
    (6.828, 7.441, 1)
    """
    t, e = _check_time_event(time, event)
    n = t.size
    X, names = _check_covariates(covariates, n, names)
    codes, levels = _check_strata(strata, n)
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    if not (isinstance(conf_level, (int, float)) and 0 < conf_level < 1):
        raise ValueError(f"conf_level must be a number in (0, 1), got {conf_level!r}")
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"eps must be > 0, got {eps!r}")
    if not (isinstance(iter_max, (int, np.integer)) and iter_max >= 1):
        raise ValueError(f"iter_max must be an integer >= 1, got {iter_max!r}")
    if e.sum() == 0:
        raise ValueError("event has no events (all 0): the partial likelihood is empty")
    if levels != (None,):
        # a covariate constant within every stratum is absorbed by the baseline hazards
        order = np.lexsort((codes,))
        starts = np.flatnonzero(_changes(codes[order]))
        Xs = X[order]
        spread = np.maximum.reduceat(Xs, starts, axis=0) - np.minimum.reduceat(Xs, starts, axis=0)
        for j, name in enumerate(names):
            if not (spread[:, j] > 0).any():
                raise ValueError(f"covariates: column {name!r} has no variation within any stratum, so its "
                                 "effect is absorbed by the stratum baseline hazards")

    d = _design(t, e, X, codes, ties)
    beta, loglik0, loglik, score, info, score_test, n_iter = _newton_raphson(d, list(names), eps, iter_max)
    try:
        var = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        sd = d.X.std(axis=0)
        flagged = [nm for nm, b, sdj in zip(names, beta, sd) if abs(b) * sdj > 5] or list(names)
        raise MonotoneLikelihoodError(_monotone_message(flagged, beta, list(names))) from None
    var = (var + var.T) / 2
    # R's check for an infinite coefficient after "convergence": the one-step
    # Newton change |U' var| still large compared with |coef| (toler.inf = sqrt(eps)).
    remaining = np.abs(score @ var)
    infinite = ~np.isfinite(score) | ((remaining > eps) & (remaining > np.sqrt(eps) * np.abs(beta)))
    if infinite.any():
        raise MonotoneLikelihoodError(_monotone_message([names[j] for j in np.flatnonzero(infinite)],
                                                        beta, list(names)))

    se = np.sqrt(np.diag(var))
    zcrit = special.ndtri(0.5 + conf_level / 2)
    z = beta / se
    p = beta.size
    with np.errstate(over="ignore"):      # a CI limit beyond 1e308 is honestly +inf
        hazard_ratio, ci_lower, ci_upper = (np.exp(beta), np.exp(beta - zcrit * se),
                                            np.exp(beta + zcrit * se))
    wald = float(beta @ np.linalg.solve(var, beta))
    lr = float(2 * (loglik - loglik0))
    result = CoxResult(
        names=names, coef=beta, se=se, hazard_ratio=hazard_ratio, ci_lower=ci_lower, ci_upper=ci_upper,
        z=z, p_value=2 * special.ndtr(-np.abs(z)), conf_level=float(conf_level),
        var=var, information=info, loglik_null=float(loglik0), loglik=float(loglik),
        lr_chi2=lr, wald_chi2=wald, score_chi2=score_test, df=p,
        lr_p_value=float(special.chdtrc(p, lr)), wald_p_value=float(special.chdtrc(p, wald)),
        score_p_value=float(special.chdtrc(p, score_test)),
        n=n, n_events=int(e.sum()), n_iter=n_iter, ties=ties, strata_levels=levels, _design=d)
    _freeze(result.coef, result.se, result.hazard_ratio, result.ci_lower, result.ci_upper,
            result.z, result.p_value, result.var, result.information)
    return result


# --------------------------------------------------------------------------- PH test


@dataclass(frozen=True, eq=False, repr=False)
class PHTestResult:
    """Grambsch-Therneau test of proportional hazards (R's ``cox.zph``).

    ``chi2``, ``df``, ``p_value``: one per covariate (order of ``names``);
    ``global_chi2``, ``global_df``, ``global_p_value``: all covariates jointly.
    For plotting (R's ``plot(cox.zph(fit))``), one row per event, sorted by
    stratum then time: ``event_times``, ``transformed_time`` g(t) (the x axis),
    ``scaled_residuals`` (events x covariates; beta_j(t) is estimated by a smooth
    of column j against g(t); NaN where a covariate is constant in the event's
    stratum), ``strata`` (the event's stratum label, or None) and ``var`` (R's
    ``zph$var``, for confidence bands).
    """

    names: tuple
    chi2: np.ndarray
    df: np.ndarray
    p_value: np.ndarray
    global_chi2: float
    global_df: int
    global_p_value: float
    transform: str
    event_times: np.ndarray
    transformed_time: np.ndarray
    scaled_residuals: np.ndarray
    strata: np.ndarray | None
    var: np.ndarray

    def _rows(self):
        rows = [("", "chisq", "df", "p")]
        for j, name in enumerate(self.names):
            rows.append((name, f"{self.chi2[j]:.4g}", str(int(self.df[j])), _fmt_p(self.p_value[j])))
        rows.append(("GLOBAL", f"{self.global_chi2:.4g}", str(self.global_df), _fmt_p(self.global_p_value)))
        return rows

    def table(self) -> str:
        """The test table as R's ``print(cox.zph(fit))`` shows it."""
        header, *rows = self._rows()
        return _display.text_table(header, rows, align="lrrr")

    def __repr__(self) -> str:
        return f"PHTestResult(transform={self.transform!r}, events={self.event_times.size})\n{self.table()}"

    def _repr_html_(self) -> str:
        header, *rows = self._rows()
        title = (f"Test of proportional hazards (scaled Schoenfeld residuals vs "
                 f"{self.transform}-transformed time)")
        return _display.html_table(header, rows, align="lrrr", title=title, row_headers=True)

    def to_frame(self):
        """chisq, df, p per covariate and GLOBAL as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(
            {"chi2": np.r_[self.chi2, self.global_chi2], "df": np.r_[self.df, self.global_df],
             "p_value": np.r_[self.p_value, self.global_p_value]},
            index=pd.Index([*self.names, "GLOBAL"], name="covariate"))


def _transform_time(time, event, transform):
    """g(t) for every observation, as in R's cox.zph (km: 1 - left-continuous KM of all data)."""
    if transform == "identity":
        return time.copy()
    if transform == "rank":
        from scipy.stats import rankdata

        return rankdata(time)                       # average ranks for ties, like R's rank()
    # Kaplan-Meier of everyone, ignoring strata and covariates; g(t) = 1 - S(t-)
    distinct = np.unique(time)
    sorted_t = np.sort(time)
    at_risk = time.size - np.searchsorted(sorted_t, distinct, side="left")
    deaths = np.bincount(np.searchsorted(distinct, time[event == 1]), minlength=distinct.size)
    surv = np.cumprod(1.0 - deaths / at_risk)
    before = np.searchsorted(distinct, time, side="left")   # number of distinct times < t
    return 1.0 - np.r_[1.0, surv][before]


def _solve_zph(imat, u, name, transform):
    """solve(imat, u) as R's solve() would: refuse an (almost) singular system."""
    try:
        inverse = np.linalg.inv(imat)
    except np.linalg.LinAlgError:
        inverse = None
    if inverse is not None:
        rcond = 1.0 / (np.abs(imat).sum(axis=0).max() * np.abs(inverse).sum(axis=0).max())
    if inverse is None or not np.isfinite(inverse).all() or rcond < np.finfo(float).eps:
        raise ValueError(
            f"fit: the proportional-hazards test ({name}, transform={transform!r}) is not defined for "
            "this fit: its information matrix is singular, typically because the transformed time "
            "g(t) takes a single value over the event times whose risk sets carry information "
            "(R's cox.zph stops with 'system is exactly singular' here too)")
    return np.linalg.solve(imat, u)


def proportional_hazards_test(fit: CoxResult, transform="km") -> PHTestResult:
    r"""Test proportional hazards with scaled Schoenfeld residuals (Grambsch & Therneau, 1994).

    If the effect of covariate j changes with time, beta_j(t) ~ beta_j + theta_j g(t).
    The test is the score test of theta = 0 in the Cox model with the extra
    covariates x g(t), evaluated at (beta-hat, 0) - one Newton step, no refit:

        U_theta = sum_events g(t_i) (x_i - xbar(t_i)),
        chi2    = U' [I^{-1}]_{theta theta} U   with I the 2p x 2p information of (beta, theta),

    per covariate (its own theta_j, with every beta in the model) and GLOBAL
    (all theta jointly; df = p).  g(t) is centred at its mean over the events;
    ``transform`` picks it: "km" (1 - Kaplan-Meier of all subjects at t-, the
    default), "identity" (t) or "rank" (rank of t among all times).  Strata and
    ties enter as in the fit (risk sets within strata; Efron's thinned risk sets).

    The scaled Schoenfeld residual of event i is beta-hat + V^{-1} r_i with r_i =
    x_i - xbar(t_i) (for Efron ties, xbar averaged over the d thinned risk sets)
    and V = I / d the average information per event (per stratum, counting only
    the events of strata where the covariate varies).  Its smooth against g(t)
    estimates beta(t).

    Matches R: ``cox.zph(fit, transform = "km")`` (survival >= 3.0), table and
    ``$x``, ``$y``, ``$time``, ``$var`` to 1e-6 - with one deliberate difference:
    when a stratum has events but no covariate varies within it (say a stratum
    of one patient), R 3.5-3 misaligns the rows of ``$y`` of every later stratum
    (it assumes such a stratum has no events); teachkit gives that stratum's
    rows NaN and scales the others as intended.  The test statistics agree.

    References: Grambsch PM & Therneau TM, Biometrika 1994; Therneau TM &
    Grambsch PM, Modeling Survival Data, 2000, ch. 6.

    Examples
    --------
    >>> fit = cox_ph([6, 6, 7, 10, 13, 16, 1, 2, 3, 4, 5, 8],
    ...              [1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1],
    ...              {"6-MP": [1] * 6 + [0] * 6})
    >>> zph = proportional_hazards_test(fit, transform="km")
    >>> round(float(zph.chi2[0]), 4), int(zph.df[0]), round(float(zph.p_value[0]), 4)
    (0.8417, 1, 0.3589)
    """
    if not isinstance(fit, CoxResult):
        raise TypeError(f"fit must be the result of teachkit.cox.cox_ph, got {type(fit).__name__}")
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
    d = fit._design
    p = d.X.shape[1]
    beta = np.asarray(fit.coef)
    _, xbar, S2_over_S0 = _risk_set_moments(beta, d)
    V = S2_over_S0.reshape(-1, p, p) - xbar[:, :, None] * xbar[:, None, :]   # Var_i(x), per event

    g_all = _transform_time(d.time, d.event, transform)
    g = g_all - g_all[d.event_rows].mean()
    g_event = g[d.event_rows]

    x_event = d.X[d.event_rows]
    resid = x_event - xbar
    U_theta = (g_event[:, None] * resid).sum(axis=0)
    I11 = V.sum(axis=0)
    I12 = (g_event[:, None, None] * V).sum(axis=0)
    I22 = (g_event[:, None, None] ** 2 * V).sum(axis=0)
    imat = np.block([[I11, I12], [I12.T, I22]])
    u = np.r_[np.zeros(p), U_theta]

    chi2 = np.empty(p)
    for j in range(p):
        keep = np.r_[np.arange(p), p + j]
        chi2[j] = u[keep] @ _solve_zph(imat[np.ix_(keep, keep)], u[keep], fit.names[j], transform)
    global_chi2 = float(u @ _solve_zph(imat, u, "GLOBAL", transform))
    df = np.ones(p, dtype=int)

    # Schoenfeld residuals: Efron ties share the mean of the d thinned risk-set means
    n_tied = np.diff(np.r_[d.tie_first, d.event_rows.size])
    mean_xbar = np.add.reduceat(xbar, d.tie_first, axis=0) / n_tied[:, None]
    schoen = x_event - mean_xbar[d.tie_of_event]

    # "used": events of each stratum, for each covariate that varies in that stratum
    n_strata = d.stratum_start.size
    varies = (np.maximum.reduceat(d.X_raw, d.stratum_start, axis=0)
              > np.minimum.reduceat(d.X_raw, d.stratum_start, axis=0))
    events_in = np.add.reduceat(d.event.astype(float), d.stratum_start)
    used = np.where(varies, events_in[:, None], 0.0)                          # (strata, p)
    wtmat = np.minimum(used[:, :, None], used[:, None, :]).sum(axis=0)
    vmean = I11 / np.where(wtmat == 0, 1.0, wtmat)

    scaled = np.full_like(schoen, np.nan)
    event_stratum = d.stratum[d.event_rows]
    for s in range(n_strata):
        k = np.flatnonzero(used[s] > 0)
        rows = event_stratum == s
        if k.size and rows.any():
            scaled[np.ix_(rows, k)] = np.linalg.solve(vmean[np.ix_(k, k)], schoen[np.ix_(rows, k)].T).T
    scaled = scaled + beta

    levels = fit.strata_levels
    strata = None if levels == (None,) else np.asarray(levels, dtype=object)[event_stratum]
    result = PHTestResult(
        names=fit.names, chi2=chi2, df=df, p_value=special.chdtrc(df, chi2),
        global_chi2=global_chi2, global_df=p, global_p_value=float(special.chdtrc(p, global_chi2)),
        transform=transform, event_times=d.time[d.event_rows], transformed_time=g_all[d.event_rows],
        scaled_residuals=scaled, strata=strata, var=np.linalg.inv(vmean))
    _freeze(result.chi2, result.df, result.p_value, result.event_times, result.transformed_time,
            result.scaled_residuals, result.strata, result.var)
    return result
