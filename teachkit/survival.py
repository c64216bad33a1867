"""Kaplan-Meier estimation and the log-rank test, written to read like the formulas.

Three public functions, each matching an R ``survival`` call to 1e-6:

* :func:`kaplan_meier` -- the product-limit estimate with Greenwood standard errors and
  ``"log-log"``, ``"log"`` or ``"plain"`` confidence intervals (R ``survfit``);
* :func:`median_follow_up` -- the reverse Kaplan-Meier median follow-up (R ``survfit``
  on ``Surv(time, 1 - status)``);
* :func:`logrank_test` -- the two-group log-rank test, optionally stratified, with a
  signed Z for one-sided testing (R ``survdiff``).

Notation used throughout: at each distinct time :math:`t_j`, :math:`n_j` people are at
risk (still followed and event-free just before :math:`t_j`), :math:`d_j` have the event
and :math:`c_j` are censored.

>>> import teachkit as tk
>>> d = tk.datasets.freireich()
>>> km = tk.survival.kaplan_meier(d.time[d.group == "6-MP"], d.event[d.group == "6-MP"])
>>> km.median()
23.0
>>> round(tk.survival.logrank_test(d.time, d.event, d.group, treatment="6-MP").z, 3)
4.098
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy import special

from teachkit import _display

__all__ = [
    "kaplan_meier",
    "median_follow_up",
    "logrank_test",
    "KaplanMeier",
    "LogRankTest",
    "ConfidenceInterval",
    "StepTable",
    "confidence_reach",
    "ConfidenceReach",
]

CONF_TYPES = ("log-log", "log", "plain")

# R's quantile.survfit treats a survival curve within this distance of the requested
# probability as lying exactly on it (sqrt(.Machine$double.eps)).
_QUANTILE_TOL = np.sqrt(np.finfo(float).eps)


class ConfidenceInterval(NamedTuple):
    """A confidence interval ``(low, high)``, like scipy's result objects."""

    low: float
    high: float


# --------------------------------------------------------------------------------------
# Input checks: every public function validates at the door and names the argument.
# --------------------------------------------------------------------------------------


def _as_1d(values, name):
    try:
        arr = np.asarray(values)
    except Exception as exc:  # e.g. ragged nested lists
        raise TypeError(f"{name} must be a 1-D array-like; got {type(values).__name__}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; at least one observation is needed")
    return arr


def _check_time(time, name="time"):
    arr = _as_1d(time, name)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be numeric (int or float); got dtype {arr.dtype}")
    arr = arr.astype(float)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} must be finite; found {int(bad.sum())} NaN or infinite "
                         f"value(s), first at position {int(np.flatnonzero(bad)[0])}")
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0; found {int((arr < 0).sum())} negative "
                         f"value(s), e.g. {arr[arr < 0][0]:g}")
    return arr


def _check_event(event, n, name="event"):
    arr = _as_1d(event, name)
    if arr.dtype != bool and not (np.issubdtype(arr.dtype, np.integer)
                                  or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be 0/1 or boolean; got dtype {arr.dtype}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]} but time has length {n}")
    arr = arr.astype(float)
    bad = ~((arr == 0) | (arr == 1))
    if bad.any():
        raise ValueError(f"{name} must contain only 0 (censored) and 1 (event), or booleans; "
                         f"found {arr[bad][0]!r} at position {int(np.flatnonzero(bad)[0])}")
    return arr


def _check_labels(values, n, name):
    arr = _as_1d(values, name)
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]} but time has length {n}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; every observation needs a {name} label")
    if arr.dtype == object:
        missing = [v is None or (isinstance(v, float) and np.isnan(v))
                   or type(v).__name__ == "NAType" for v in arr]  # pandas.NA
        if any(missing):
            raise ValueError(f"{name} contains missing values (None/NaN) at position "
                             f"{missing.index(True)}")
    if arr.dtype.kind in "iu" and arr.dtype.itemsize <= 8:
        # small integer labels (0/1 arms, strata codes): O(n) instead of sorting
        wide = arr.astype(np.int64) if arr.dtype != np.uint64 else arr
        low = wide.min()
        if wide.max() - low < 4 * arr.size:
            offset = (wide - low).astype(np.intp)
            present = np.bincount(offset) > 0
            levels = (np.flatnonzero(present) + low).astype(arr.dtype)
            return levels, (np.cumsum(present) - 1)[offset]
    try:
        levels, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise TypeError(f"{name} mixes label types that cannot be sorted "
                        f"(e.g. str and int): {exc}") from exc
    return levels, codes.reshape(-1)


def _check_conf(conf_type, conf_level):
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}; got {conf_type!r}")
    if isinstance(conf_level, bool) or not isinstance(conf_level, (int, float, np.floating)):
        raise TypeError(f"conf_level must be a number between 0 and 1; got {conf_level!r}")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be strictly between 0 and 1; got {conf_level!r}")
    return float(conf_level)


def _readonly(*arrays):
    for a in arrays:
        a.flags.writeable = False


# --------------------------------------------------------------------------------------
# A small printable table (terminal, notebook, pandas)
# --------------------------------------------------------------------------------------


def _fmt(value, integer):
    if isinstance(value, (str, np.str_)):
        return str(value)
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return "NA"
    if integer:
        return f"{int(value)}"
    return f"{value:.4f}"


class StepTable:
    """Columns of equal length that print as an aligned table.

    ``table["time"]`` gives a column as a numpy array; ``to_frame()`` gives a pandas
    DataFrame (pandas is optional).

    >>> StepTable({"time": np.array([1.0, 2.0]), "S(t)": np.array([0.5, 0.25])})
    time    S(t)
       1  0.5000
       2  0.2500
    """

    def __init__(self, columns, title=""):
        self._columns = {}
        for name, col in columns.items():
            arr = np.array(col)  # a copy, made read-only
            arr.flags.writeable = False
            self._columns[str(name)] = arr
        lengths = {len(c) for c in self._columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns must have equal lengths; got {sorted(lengths)}")
        self.title = title

    @property
    def columns(self):
        """The column names, in order."""
        return list(self._columns)

    def __getitem__(self, name):
        return self._columns[name]

    def __len__(self):
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def _cells(self, max_rows=None):
        n = len(self)
        rows = range(n) if max_rows is None or n <= max_rows else (
            list(range(max_rows // 2)) + [None] + list(range(n - max_rows // 2, n)))
        out = []
        for name, col in self._columns.items():
            integer = col.dtype.kind in "iub" or (
                col.dtype.kind == "f" and np.all(np.isnan(col) | (col == np.round(col)))
                and not name.startswith(("S", "SE", "expected", "O-E", "variance", "lower",
                                         "upper")))
            out.append([name] + ["..." if i is None else _fmt(col[i], integer) for i in rows])
        return out

    def _layout(self, max_rows):
        cells = self._cells(max_rows=max_rows)
        header = [col[0] for col in cells]
        rows = [list(r) for r in zip(*(col[1:] for col in cells))]
        return header, rows, _display.column_alignment(self._columns.values())

    def __repr__(self):
        if not self._columns:
            return "StepTable()"
        header, rows, align = self._layout(max_rows=40)
        return _display.text_table(header, rows, align=align, title=self.title or None)

    def _repr_html_(self):
        if not self._columns:
            return _display.html_table([], [], title=self.title or None)
        header, rows, align = self._layout(max_rows=60)
        return _display.html_table(header, rows, align=align, title=self.title or None)

    def to_frame(self):
        """The table as a ``pandas.DataFrame`` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is installed in tests
            raise ImportError("to_frame() needs pandas: pip install pandas") from exc
        return pd.DataFrame({k: np.array(v) for k, v in self._columns.items()})


# --------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------


def _confidence_band(surv, se_log, conf_type, conf_level):
    """Pointwise CI for S(t) exactly as R's ``survfit_confint`` (survival >= 3.8).

    ``se_log`` is the Greenwood SE of log S(t). Where no event has happened yet
    (S = 1, SE = 0) the interval is [1, 1]; where it cannot be computed (S = 0) it is NaN.
    """
    z = special.ndtri(1 - (1 - conf_level) / 2)  # standard normal quantile (fast ppf)
    lower = np.full(surv.shape, np.nan)
    upper = np.full(surv.shape, np.nan)
    if conf_type == "plain":  # S +/- z SE(S), clipped to [0, 1]
        ok = surv > 0
        half = z * se_log[ok] * surv[ok]
        lower[ok] = np.maximum(surv[ok] - half, 0.0)
        upper[ok] = np.minimum(surv[ok] + half, 1.0)
    elif conf_type == "log":  # exp(log S +/- z SE(log S)), upper capped at 1
        ok = surv > 0
        lower[ok] = np.exp(np.log(surv[ok]) - z * se_log[ok])
        upper[ok] = np.minimum(np.exp(np.log(surv[ok]) + z * se_log[ok]), 1.0)
    else:  # log-log: exp(-exp(log(-log S) -/+ z SE(log S) / log S))
        ok = (surv > 0) & (surv < 1)
        loglog = np.log(-np.log(surv[ok]))
        shift = z * se_log[ok] / np.log(surv[ok])  # negative
        lower[ok] = np.exp(-np.exp(loglog - shift))
        upper[ok] = np.exp(-np.exp(loglog + shift))
    flat = se_log == 0  # before the first event: S = 1 exactly, interval [1, 1]
    lower[flat] = surv[flat]
    upper[flat] = surv[flat]
    return lower, upper


def _r_findq(x, y, p, tol=_QUANTILE_TOL):
    """R survival's ``findq`` (quantile.survfit.R): where 1 - S(t) first reaches ``p``.

    ``x`` are times with a leading 0, ``y`` the cumulative distribution 1 - S with a
    leading 0. If the curve is flat at exactly ``p`` (within ``tol``) the answer is the
    midpoint of the flat stretch (to the last follow-up time when the flat is the end of
    the curve), the usual midpoint rule for medians. Mirrors R's use of
    ``approx(method="constant", f=1)``, which sorts by ``y`` and ignores NaN.
    """
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return np.nan
    xmax = x[-1]
    # drop repeated y values (censor-only rows), keeping the first occurrence
    _, first = np.unique(y, return_index=True)  # np.unique keeps a single NaN as well
    keep = np.zeros(y.shape, bool)
    keep[first] = True
    x, y = x[keep], y[keep]
    ok = ~np.isnan(y)
    idx = np.flatnonzero(ok)

    def approx_constant_right(knots):  # knots ascending after sorting; f = 1
        order = np.argsort(knots, kind="stable")
        knots, values = knots[order], idx[order]
        j = np.searchsorted(knots, p, side="left")
        if j == len(knots) or (j == 0 and knots[0] != p):
            return None
        return values[j]

    i1 = approx_constant_right(y[ok] + tol)
    i2 = approx_constant_right(y[ok] - tol)
    quant = np.nan if i1 is None or i2 is None else (x[i1] + x[i2]) / 2
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol and i1 is not None:
        quant = (x[i1] + xmax) / 2  # a flat at p that is the end of the curve
    return float(quant)


@dataclass(frozen=True, repr=False)
class KaplanMeier:
    """Result of :func:`kaplan_meier`: one row per distinct observed time.

    Rows include times with only censorings (``n_events == 0``), as R's ``survfit``
    keeps them; ``survival`` and its CI are the values just after each time.
    """

    time: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    n_censored: np.ndarray
    survival: np.ndarray
    std_err: np.ndarray
    """Greenwood SE of S(t) (R's ``summary(fit)$std.err``); NaN where S(t) = 0."""
    std_err_log: np.ndarray
    """Greenwood SE of log S(t) (R's ``fit$std.err``); infinite where S(t) = 0."""
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    conf_type: str = "log-log"
    conf_level: float = 0.95

    @property
    def n(self):
        """Number of subjects."""
        return int(self.n_at_risk[0])

    def survival_at(self, t):
        """S(t) read off the step function (right-continuous: the drop happens at t).

        Before the first observed time S = 1; after the last observed time the last
        value is carried forward (R: ``summary(fit, times = t, extend = TRUE)``).

        >>> km = kaplan_meier([1, 2, 3, 4], [1, 1, 0, 1])
        >>> km.survival_at([0.5, 1, 1.5, 2, 10])
        array([1.  , 0.75, 0.75, 0.5 , 0.  ])
        """
        scalar = np.ndim(t) == 0
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        if np.isnan(tt).any():
            raise ValueError("t must not contain NaN")
        pos = np.searchsorted(self.time, tt, side="right")
        out = np.concatenate(([1.0], self.survival))[pos]
        return float(out[0]) if scalar else out

    def _quantile(self, prob):
        x = np.concatenate(([0.0], self.time))
        q = _r_findq(x, np.concatenate(([0.0], 1 - self.survival)), prob)
        low = _r_findq(x, np.concatenate(([0.0], 1 - self.ci_lower)), prob)
        high = _r_findq(x, np.concatenate(([0.0], 1 - self.ci_upper)), prob)
        return q, low, high

    def median(self):
        """Median survival time: the first time S(t) <= 0.5 (NaN if never reached).

        As R's ``quantile.survfit``: if S(t) is exactly 0.5 over a stretch, the median
        is the midpoint of that stretch.

        >>> kaplan_meier([1, 2, 3, 4], [1, 1, 0, 1]).median()  # S = 0.5 on [2, 4)
        3.0
        """
        return self._quantile(0.5)[0]

    def median_ci(self):
        """CI of the median from the CI band (Brookmeyer & Crowley, 1982), as R.

        Lower limit: first time the *lower* band reaches 0.5; upper limit: first time
        the *upper* band does. NaN when a band never reaches 0.5.

        >>> km = kaplan_meier([1, 2, 2, 3, 5, 6, 8, 9], [1, 1, 1, 0, 1, 1, 1, 0])
        >>> km.median(), km.median_ci()  # R: quantile(fit, 0.5) gives 5, 1, 8
        (5.0, ConfidenceInterval(low=1.0, high=8.0))
        """
        _, low, high = self._quantile(0.5)
        return ConfidenceInterval(low, high)

    def table(self):
        """The step-by-step product-limit table a student computes by hand."""
        pct = f"{100 * self.conf_level:g}%"
        return StepTable({
            "time": self.time, "at risk": self.n_at_risk, "events": self.n_events,
            "censored": self.n_censored, "S(t)": self.survival, "SE": self.std_err,
            f"lower {pct}": self.ci_lower, f"upper {pct}": self.ci_upper,
        }, title=f"Kaplan-Meier estimate ({self.conf_type} CI)")

    def to_frame(self):
        """The step table as a ``pandas.DataFrame`` (needs pandas)."""
        return self.table().to_frame()

    def _summary(self):
        med = self.median()
        low, high = self.median_ci()
        f = lambda v: "NA" if np.isnan(v) else f"{v:g}"  # noqa: E731
        return (f"n={self.n}, events={int(self.n_events.sum())}, median={f(med)} "
                f"({100 * self.conf_level:g}% CI {f(low)} to {f(high)}), "
                f"conf_type={self.conf_type!r}")

    def __repr__(self):
        return f"KaplanMeier({self._summary()})\n{self.table()!r}"

    def _repr_html_(self):
        return (f"<p><b>Kaplan-Meier</b>: {html.escape(self._summary())}</p>"
                + self.table()._repr_html_())


def kaplan_meier(time, event, conf_type="log-log", conf_level=0.95):
    r"""Kaplan-Meier (product-limit) estimate of the survival function.

    .. math::

        \hat S(t) = \prod_{t_j \le t} \Bigl(1 - \frac{d_j}{n_j}\Bigr), \qquad
        \widehat{\mathrm{SE}}\{\log \hat S(t)\}^2 = \sum_{t_j \le t}
        \frac{d_j}{n_j (n_j - d_j)} \quad \text{(Greenwood)},

    and :math:`\mathrm{SE}\{\hat S(t)\} = \hat S(t)\,\mathrm{SE}\{\log \hat S(t)\}`.
    Pointwise confidence intervals (``z`` = normal quantile for ``conf_level``):

    * ``"plain"``: :math:`\hat S \pm z\,\mathrm{SE}(\hat S)`, clipped to [0, 1];
    * ``"log"``: :math:`\exp\{\log \hat S \pm z\,\mathrm{SE}(\log \hat S)\}`, upper <= 1;
    * ``"log-log"``: :math:`\exp[-\exp\{\log(-\log \hat S) \mp z\,
      \mathrm{SE}(\log \hat S)/\log \hat S\}]`, always inside (0, 1).

    References: Kaplan EL, Meier P (1958) JASA 53:457-481; Greenwood M (1926);
    Kalbfleisch JD, Prentice RL (1980) for the log-log interval.

    Matches R: ``survfit(Surv(time, event) ~ 1, conf.type = conf_type,
    conf.int = conf_level)``, with ``std_err`` = ``summary(fit)$std.err`` (SE of S)
    and ``std_err_log`` = ``fit$std.err`` (SE of log S). R's default ``conf.type`` is
    ``"log"``; teachkit's is ``"log-log"`` (intervals never leave [0, 1]).

    Parameters
    ----------
    time : array-like of float >= 0
        Follow-up time of each subject.
    event : array-like of 0/1 or bool
        1 (True) if the event was observed at ``time``, 0 (False) if censored.
    conf_type : {"log-log", "log", "plain"}
    conf_level : float in (0, 1)

    Examples
    --------
    >>> km = kaplan_meier([6, 6, 6, 7, 10, 13], [1, 1, 0, 1, 0, 1])
    >>> km.time, km.n_at_risk, km.n_events
    (array([ 6.,  7., 10., 13.]), array([6, 3, 2, 1]), array([2, 1, 0, 1]))
    >>> km.survival.round(4)
    array([0.6667, 0.4444, 0.4444, 0.    ])
    >>> km.std_err.round(4)
    array([0.1925, 0.2222, 0.2222,    nan])
    """
    t = _check_time(time)
    e = _check_event(event, t.shape[0])
    conf_level = _check_conf(conf_type, conf_level)

    times, row = np.unique(t, return_inverse=True)
    row = row.reshape(-1)
    n_total = np.bincount(row, minlength=times.size)  # subjects whose time is t_j
    n_events = np.bincount(row, weights=e, minlength=times.size).astype(np.int64)
    n_censored = n_total - n_events
    n_at_risk = np.cumsum(n_total[::-1])[::-1]  # time >= t_j

    survival = np.cumprod(1.0 - n_events / n_at_risk)
    # Greenwood increment d / (n (n - d)); infinite when everyone at risk fails (S -> 0)
    increment = np.divide(n_events, n_at_risk * (n_at_risk - n_events),
                          out=np.full(times.shape, np.inf), where=n_at_risk > n_events)
    std_err_log = np.sqrt(np.cumsum(increment))
    std_err = np.multiply(survival, std_err_log, out=np.full(times.shape, np.nan),
                          where=survival > 0)
    lower, upper = _confidence_band(survival, std_err_log, conf_type, conf_level)

    _readonly(times, n_at_risk, n_events, n_censored, survival, std_err, std_err_log,
              lower, upper)
    return KaplanMeier(times, n_at_risk, n_events, n_censored, survival, std_err,
                       std_err_log, lower, upper, conf_type, conf_level)


@dataclass(frozen=True)
class ConfidenceReach:
    """How far a pointwise interval for S reaches below and above the estimate.

    Fields (arrays, or floats for a single value): ``survival``, ``lower``, ``upper``,
    ``below`` = S - lower, ``above`` = upper - S, ``longer`` ("towards 0", "towards 1" or
    "equal"), ``conf_type``, ``conf_level``.
    """

    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    below: np.ndarray
    above: np.ndarray
    longer: np.ndarray
    conf_type: str
    conf_level: float

    def __repr__(self) -> str:
        s, lo, hi, lg = (np.atleast_1d(x) for x in (self.survival, self.lower, self.upper, self.longer))
        cells = "; ".join(f"S {a:.3f}: {b:.3f}-{c:.3f}, longer {d}" for a, b, c, d in zip(s, lo, hi, lg))
        return f"ConfidenceReach({self.conf_type}, {100 * self.conf_level:g}%: {cells})"


def _numbers(values, name):
    arr = _as_1d(values, name) if np.ndim(values) else np.asarray([values])
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a number or an array of numbers; got {values!r}")
    return arr.astype(float)


def confidence_reach(survival, std_err, conf_type="log-log", conf_level=0.95) -> ConfidenceReach:
    r"""Towards which end a pointwise interval for S(t) reaches further, and by how much.

    ``std_err`` is the Greenwood SE of S (``KaplanMeier.std_err``); the interval is the
    one :func:`kaplan_meier` draws.  The log-log interval is symmetric on the scale
    :math:`\log(-\log S)`; mapped back, :math:`S \mapsto S^{e^x}` is a decreasing curve
    :math:`h(x) = \exp(-u e^x)`, :math:`u = -\log S`, with
    :math:`h''(0) = h\,u\,(u - 1)`: convex when :math:`S < e^{-1}` (about 0.37), concave
    when :math:`S > e^{-1}`.  So, for a narrow band, the interval reaches further
    **towards 1** when S is below about 0.37 and further **towards 0** when S is above
    it, whatever the nearer end: at S between 0.37 and 0.5 it reaches further towards 0,
    the nearer end.  (Wider bands move the switch a little; this function computes the
    interval itself.)  The plain interval is symmetric (until clipped); the log interval
    always reaches further up.

    >>> r = confidence_reach([0.2, 0.448, 0.7], [0.05, 0.125, 0.06])
    >>> list(r.longer)
    ['towards 1', 'towards 0', 'towards 0']
    """
    s = _numbers(survival, "survival")
    se = _numbers(std_err, "std_err")
    if s.shape != se.shape:
        raise ValueError(f"survival and std_err must have the same length, got {s.size} and {se.size}")
    if not np.all((s > 0) & (s < 1)):
        raise ValueError(f"survival must lie strictly between 0 and 1, got {s.tolist()}")
    if not np.all(se >= 0) or not np.all(np.isfinite(se)):
        raise ValueError(f"std_err must be finite and >= 0, got {se.tolist()}")
    conf_level = _check_conf(conf_type, conf_level)
    lower, upper = _confidence_band(s, se / s, conf_type, conf_level)
    below, above = s - lower, upper - s
    longer = np.where(np.isclose(below, above, rtol=1e-12, atol=1e-15), "equal",
                      np.where(below > above, "towards 0", "towards 1")).astype(object)
    scalar = np.ndim(survival) == 0
    pick = (lambda x: x[0]) if scalar else (lambda x: x)
    return ConfidenceReach(pick(s), pick(lower), pick(upper), pick(below), pick(above), pick(longer),
                           conf_type, conf_level)


def median_follow_up(time, event):
    r"""Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith, 1996).

    Swap the roles of events and censorings -- "being censored" becomes the event, and
    an event censors the follow-up -- and take the Kaplan-Meier median of that curve:

    .. math:: \hat G(t) = \prod_{t_j \le t}\Bigl(1 - \frac{c_j}{n_j}\Bigr), \qquad
              \text{median follow-up} = \min\{t : \hat G(t) \le 0.5\}.

    Unlike the median of everybody's observed time, it is not shortened by early
    events. (AALL1331 reports the median follow-up *among living patients*, 2.9 years,
    Figure 2 legend; on the trial data the two are close.)

    Matches R: ``quantile(survfit(Surv(time, 1 - event) ~ 1), 0.5)``.
    Reference: Schemper M, Smith TL (1996) Control Clin Trials 17:343-346.

    >>> median_follow_up([1, 2, 3, 4, 5, 6], [1, 0, 1, 0, 0, 1])
    5.0
    """
    t = _check_time(time)
    e = _check_event(event, t.shape[0])
    return kaplan_meier(t, 1.0 - e).median()


# --------------------------------------------------------------------------------------
# Log-rank test
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class LogRankTest:
    """Result of :func:`logrank_test`.

    ``observed``, ``expected`` follow the order of ``groups`` (sorted labels, like R's
    factor levels). ``z > 0`` means fewer events than expected in ``treatment``.
    """

    groups: np.ndarray
    treatment: object
    observed: np.ndarray
    expected: np.ndarray
    variance: float
    chi2: float
    p_value: float
    z: float
    p_one_sided: float
    n_strata: int
    _rows: dict = field(default=None, compare=False)

    @property
    def df(self):
        """Degrees of freedom of the chi-square (1 for two groups)."""
        return 1

    def table(self):
        """Per event-time contributions: the hand computation of the test.

        For each stratum and distinct event time: numbers at risk and events in each
        group, the expected events in the first group :math:`d\\,n_1/n`, its O - E, and
        the hypergeometric variance :math:`d (n-d) n_1 n_2 / \\{n^2 (n-1)\\}`. Their sums
        are ``observed[0]``, ``expected[0]`` and ``variance``.
        """
        g1, g2 = (str(g) for g in self.groups)
        r = self._rows
        cols = {}
        if self.n_strata > 1:
            cols["stratum"] = r["stratum"]
        cols.update({
            "time": r["time"], f"at risk {g1}": r["n1"], f"at risk {g2}": r["n2"],
            f"events {g1}": r["d1"], f"events {g2}": r["d2"],
            f"expected {g1}": r["e1"], f"O-E {g1}": r["d1"] - r["e1"],
            "variance": r["v"],
        })
        return StepTable(cols, title="Log-rank contributions per event time")

    def to_frame(self):
        """The per-event-time table as a ``pandas.DataFrame`` (needs pandas)."""
        return self.table().to_frame()

    def _summary(self):
        strat = f", stratified ({self.n_strata} strata)" if self.n_strata > 1 else ""
        return (f"chi2={self.chi2:.4f} (df=1), p={self.p_value:.4g}; "
                f"z={self.z:.4f} (treatment={self.treatment!s}), "
                f"one-sided p={self.p_one_sided:.4g}{strat}")

    def _group_lines(self):
        return [(str(g), int(o), e) for g, o, e in zip(self.groups, self.observed,
                                                         self.expected)]

    def _group_table(self):
        header = ["group", "observed", "expected", "O-E"]
        rows = [[g, str(o), f"{e:.4f}", f"{o - e:.4f}"] for g, o, e in self._group_lines()]
        return header, rows

    def __repr__(self):
        header, rows = self._group_table()
        return f"LogRankTest({self._summary()})\n" + _display.text_table(
            header, rows, align="lrrr", notes=[f"variance of O-E: {self.variance:.4f}"])

    def _repr_html_(self):
        header, rows = self._group_table()
        return (f"<p><b>Log-rank test</b>: {html.escape(self._summary())}</p>"
                + _display.html_table(header, rows, align="lrrr",
                                      notes=[f"variance of O-E: {self.variance:.4f}"]))


def logrank_test(time, event, group, strata=None, treatment=None):
    r"""Two-group log-rank test, optionally stratified, with a signed Z statistic.

    At each distinct event time :math:`t_j` (within a stratum) the :math:`d_j` events
    are split between the groups as in a 2 x 2 table with fixed margins, so under
    :math:`H_0` the events in group 1 are hypergeometric with

    .. math::

        E_{1j} = d_j \frac{n_{1j}}{n_j}, \qquad
        V_j = \frac{d_j (n_j - d_j)\, n_{1j}\, n_{2j}}{n_j^2 (n_j - 1)} .

    Summing over event times (and over strata for the stratified test):
    :math:`O - E = \sum_j (d_{1j} - E_{1j})`, :math:`V = \sum_j V_j`,
    :math:`\chi^2 = (O - E)^2 / V` on 1 df. The signed statistic is

    .. math:: Z = \frac{E_T - O_T}{\sqrt V},

    computed for the ``treatment`` group T, so ``z > 0`` means T had fewer events than
    expected (benefit), and ``p_one_sided`` = P(N(0,1) >= z), the one-sided P value
    AALL1331 used (a 1-sided stratified log-rank test, "Statistical Analysis").

    Matches R: ``survdiff(Surv(time, event) ~ group)`` or, with strata,
    ``survdiff(Surv(time, event) ~ group + strata(strata))`` (chisq, obs, exp,
    var[1, 1]). References: Mantel N (1966) Cancer Chemother Rep 50:163-170;
    Peto R, Peto J (1972) JRSS A 135:185-207.

    Parameters
    ----------
    time, event : array-like
        As in :func:`kaplan_meier`.
    group : array-like of labels
        Exactly two distinct values (strings, numbers or booleans).
    strata : array-like of labels, optional
        Stratum of each subject; each stratum has its own risk sets.
    treatment : label, optional
        The group whose benefit makes ``z`` positive; default the second of the sorted
        group labels (``groups[1]``).

    Examples
    --------
    >>> lr = logrank_test([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 0, 1], ["a", "b", "a", "b", "a", "b"])
    >>> round(lr.chi2, 4), lr.observed, lr.expected.round(4)  # R survdiff: 0.0739, 1.73
    (0.0739, array([2, 3]), array([1.7333, 3.2667]))
    """
    t = _check_time(time)
    n = t.shape[0]
    e = _check_event(event, n)
    groups, gcode = _check_labels(group, n, "group")
    if groups.size != 2:
        raise ValueError(f"group must have exactly 2 distinct values for a log-rank test; "
                         f"found {groups.size}: {list(groups)[:5]}")
    if treatment is None:
        t_index = 1
    else:
        matches = [i for i, g in enumerate(groups) if g == treatment]
        if not matches:
            raise ValueError(f"treatment must be one of the group labels {list(groups)}; "
                             f"got {treatment!r}")
        t_index = matches[0]
    if strata is None:
        slevels, scode = np.array(["all"]), np.zeros(n, dtype=np.intp)
    else:
        slevels, scode = _check_labels(strata, n, "strata")

    # Sort by stratum, then time: the risk set at a row is everything from that row to
    # the end of its stratum. (Quicksort by time, then a stable radix sort by the small
    # stratum codes: the same order as np.lexsort((t, scode)) up to ties, 5x faster.)
    order = np.argsort(t)
    if slevels.size > 1:
        small = np.int16 if slevels.size < 2**15 else np.int32
        order = order[np.argsort(scode[order].astype(small), kind="stable")]
    ts, es, ss = t[order], e[order], scode[order]
    in1 = (gcode[order] == 0).astype(float)  # member of groups[0]
    new_cell = np.ones(n, bool)
    new_cell[1:] = (ts[1:] != ts[:-1]) | (ss[1:] != ss[:-1])
    start = np.flatnonzero(new_cell)  # first row of each (stratum, time) cell
    d = np.add.reduceat(es, start)  # events in each cell
    d1 = np.add.reduceat(es * in1, start)  # ... of which in groups[0]
    stratum_end = np.searchsorted(ss, ss[start], side="right")  # one past the last row
    n_risk = (stratum_end - start).astype(float)
    cum1 = np.concatenate(([0.0], np.cumsum(in1)))
    n1 = cum1[stratum_end] - cum1[start]

    ev = d > 0  # only event times contribute
    d, d1, n_risk, n1 = d[ev], d1[ev], n_risk[ev], n1[ev]
    n2 = n_risk - n1
    e1 = d * n1 / n_risk
    v = np.divide(d * (n_risk - d) * n1 * n2, n_risk**2 * (n_risk - 1),
                  out=np.zeros_like(d), where=n_risk > 1)

    observed = np.rint([d1.sum(), d.sum() - d1.sum()]).astype(np.int64)
    expected = np.array([e1.sum(), d.sum() - e1.sum()])
    variance = float(v.sum())
    if observed.sum() == 0:
        raise ValueError("event has no events (all 0): the log-rank test needs at least "
                         "one observed event")
    if variance <= 0:
        raise ValueError("the log-rank variance is 0: no event time has both groups at "
                         "risk (check group/strata), so the test is undefined")
    chi2 = float((observed[0] - expected[0]) ** 2 / variance)
    z = float((expected[t_index] - observed[t_index]) / np.sqrt(variance))
    rows = {"stratum": slevels[ss[start][ev]], "time": ts[start][ev], "n1": n1,
            "n2": n2, "d1": d1, "d2": d - d1, "e1": e1, "v": v}
    for arr in (*rows.values(), observed, expected, groups):
        arr.flags.writeable = False
    return LogRankTest(groups=groups, treatment=groups[t_index],
                       observed=observed, expected=expected,
                       variance=variance, chi2=chi2, p_value=float(special.chdtrc(1, chi2)),
                       z=z, p_one_sided=float(special.ndtr(-z)),
                       n_strata=int(slevels.size), _rows=rows)
