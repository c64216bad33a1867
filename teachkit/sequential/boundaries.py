"""Group-sequential boundaries by recursive numerical integration; the design object.

The numerical engine is that of Armitage, McPherson & Rowe (1969) on the grid
of Jennison & Turnbull (2000, ch. 19); see the package docstring for the
canonical joint distribution of the Z statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from ._checks import _fractions, _hazard_ratio, _probability, _real
from .spending import SPENDING_NAMES, spending_function, user_spending

#: Jennison & Turnbull's grid size m (6m - 1 points per look before midpoints).
#: m = 24 gives boundaries within ~2e-7 of rpact; m = 16 within ~1e-6.
GRID_M = 24

_SQRT_2PI = math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------
# the numerical engine (Jennison & Turnbull 2000, ch. 19)
# --------------------------------------------------------------------------

def _phi(x):
    return np.exp(-0.5 * x * x) / _SQRT_2PI


def _grid(mean, lower, upper, m):
    """Grid points and Simpson weights for the density of Z_k on (lower, upper).

    J&T's 6m - 1 points around the mean of Z_k (dense within 3 SD, thinning
    out logarithmically to ~3 + 4 log m SD), cut to the continuation region,
    with its ends added, then a midpoint between every pair (Simpson's rule).
    """
    i = np.arange(1, 6 * m, dtype=float)
    x = np.where(i < m, -3.0 - 4.0 * np.log(m / i),
                 np.where(i <= 5 * m, -3.0 + 3.0 * (i - m) / (2.0 * m),
                          3.0 + 4.0 * np.log(m / np.maximum(6 * m - i, 1.0)))) + mean
    lo = max(lower, x[0])
    hi = min(upper, x[-1])
    if not hi > lo:                      # continuation region carries no mass
        return np.empty(0), np.empty(0)
    x = np.concatenate(([lo], x[(x > lo) & (x < hi)], [hi]))
    z = np.empty(2 * x.size - 1)
    z[0::2] = x
    z[1::2] = 0.5 * (x[1:] + x[:-1])
    d = np.diff(x)
    w = np.zeros_like(z)
    w[1::2] = 4.0 * d / 6.0
    w[0:-1:2] += d / 6.0
    w[2::2] += d / 6.0
    return z, w


def _stage_probabilities(upper, lower, t, drift, m=GRID_M):
    """Per-look probabilities of *first* crossing the upper / lower boundary.

    Recursion of Armitage, McPherson & Rowe (1969): h_k(z) is the density of
    Z_k on paths that have not stopped; with s_k = sqrt(t_k), Delta = t_k - t_{k-1},

        P(cross upper at k) = int h_{k-1}(y) Phi((y s_{k-1} + theta Delta - b_k s_k) / sqrt(Delta)) dy
        h_k(z) = int h_{k-1}(y) (s_k / sqrt(Delta)) phi((z s_k - y s_{k-1} - theta Delta) / sqrt(Delta)) dy
    """
    n_looks = t.size
    s = np.sqrt(t)
    up = np.zeros(n_looks)
    down = np.zeros(n_looks)
    mean = drift * s[0]
    up[0] = ndtr(mean - upper[0])
    down[0] = ndtr(lower[0] - mean)
    if n_looks == 1:
        return up, down
    z, w = _grid(mean, lower[0], upper[0], m)
    h = w * _phi(z - mean)
    for k in range(1, n_looks):
        delta = t[k] - t[k - 1]
        sd = math.sqrt(delta)
        centre = z * s[k - 1] + drift * delta
        up[k] = h @ ndtr((centre - upper[k] * s[k]) / sd)
        down[k] = h @ ndtr((lower[k] * s[k] - centre) / sd)
        if k < n_looks - 1:
            z_new, w_new = _grid(drift * s[k], lower[k], upper[k], m)
            kernel = _phi((z_new[:, None] * s[k] - centre[None, :]) / sd) * (s[k] / sd)
            h = w_new * (kernel @ h)
            z = z_new
    return up, down


def _upper_quantile(p):
    return math.inf if p <= 0 else float(-ndtri(p))


def _spending_boundaries(t, cumulative_alpha, lower, m=GRID_M):
    """Efficacy boundaries b_k with P_0(first upper crossing at k) = alpha(t_k) - alpha(t_{k-1})."""
    n_looks = t.size
    s = np.sqrt(t)
    b = np.empty(n_looks)
    increments = np.diff(cumulative_alpha, prepend=0.0)
    b[0] = _upper_quantile(increments[0])
    if n_looks == 1:
        return b
    z, w = _grid(0.0, lower[0], b[0], m)
    h = w * _phi(z)
    for k in range(1, n_looks):
        sd = math.sqrt(t[k] - t[k - 1])
        centre = z * s[k - 1]
        target = increments[k]

        def excess(c):
            return h @ ndtr((centre - c * s[k]) / sd) - target

        floor = max(lower[k], -20.0)
        if target <= 0:
            b[k] = math.inf
        elif excess(floor) <= 0:         # cannot spend that much: boundary at the floor
            b[k] = floor
        else:
            b[k] = brentq(excess, floor, 40.0, xtol=1e-13, rtol=1e-14)
        if k < n_looks - 1:
            z_new, w_new = _grid(0.0, lower[k], b[k], m)
            kernel = _phi((z_new[:, None] * s[k] - centre[None, :]) / sd) * (s[k] / sd)
            h = w_new * (kernel @ h)
            z = z_new
    return b


def _classical_boundaries(t, alpha, shape, lower, m=GRID_M):
    """b_k = C * shape_k, with C such that the total type I error is alpha."""
    def total(c):
        up, _ = _stage_probabilities(c * shape, lower, t, 0.0, m)
        return up.sum() - alpha
    c = brentq(total, 0.0, 40.0, xtol=1e-13, rtol=1e-14)
    return c * shape


# --------------------------------------------------------------------------
# the design
# --------------------------------------------------------------------------

def drift_from_hazard_ratio(hazard_ratio, events, allocation=0.5):
    """Drift theta = -log(HR) sqrt(D r (1 - r)) of the log-rank Z at D events.

    Schoenfeld (1981): the log-rank statistic is approximately
    N(-log(HR) sqrt(D r (1 - r)), 1) with r the fraction randomized to the
    experimental arm; theta > 0 means benefit (HR < 1).

    >>> round(drift_from_hazard_ratio(0.58, 131), 4)     # AALL1331's design
    3.1173
    """
    hazard_ratio = _hazard_ratio("hazard_ratio", hazard_ratio)
    events = _real("events", events)
    if events <= 0:
        raise ValueError(f"events must be > 0, got {events}")
    allocation = _probability("allocation", allocation)
    return -math.log(hazard_ratio) * math.sqrt(events * allocation * (1.0 - allocation))


def naive_type_one_error(looks, critical_value=1.959963984540054):
    """Chance of a false claim when every look tests at one fixed ``critical_value``.

    ``looks``: a number of equally spaced looks, or the information fractions (ending at
    1).  Under H0, P(Z_k >= c at some look k), computed exactly by the recursive numerical
    integration of Armitage, McPherson & Rowe (1969), the same engine as the boundaries:
    the "naive" repeated testing that alpha spending prevents.  With 3 equally spaced
    looks at 1.96 it is 5.36%, not 2.5% (mvtnorm::pmvnorm gives the same,
    tests/data/monitoring_plan_rpact.R).

    >>> round(naive_type_one_error(3), 4), round(naive_type_one_error(1), 4)
    (0.0536, 0.025)
    >>> round(naive_type_one_error([0.5, 1.0]), 4)
    0.0416
    """
    if isinstance(looks, (int, np.integer)) and not isinstance(looks, bool):
        if not 1 <= looks <= 10:
            raise ValueError(f"looks must be between 1 and 10, got {looks}")
        looks = np.arange(1, looks + 1) / looks
    t = _fractions("looks", looks)
    c = _real("critical_value", critical_value)
    up, _ = _stage_probabilities(np.full(t.size, c), np.full(t.size, -np.inf), t, 0.0)
    return float(up.sum())


@dataclass(frozen=True)
class GroupSequentialDesign:
    """A one-sided group-sequential design on the Z scale.

    Fields (arrays have one entry per look): ``information_fractions``,
    ``z_efficacy`` (reject H0 at look k when Z_k >= z_efficacy[k]),
    ``p_efficacy`` (the same as a nominal one-sided P), ``alpha_spent``
    (cumulative type I error spent by look k, with futility ignored),
    ``z_futility`` (stop for futility when Z_k < z_futility[k]; NaN where there
    is no futility rule, always at the final look), ``futility_alpha`` and
    ``futility_drift`` (the rule tests the alternative drift at that level),
    ``binding_futility``.
    """

    information_fractions: np.ndarray
    alpha: float
    spending: str
    parameter: float | tuple | None
    z_efficacy: np.ndarray
    p_efficacy: np.ndarray
    alpha_spent: np.ndarray
    z_futility: np.ndarray
    futility_alpha: float | None = None
    futility_drift: float | None = None
    binding_futility: bool = False
    grid_points: int = GRID_M
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # ---- basic facts -------------------------------------------------------
    @property
    def n_looks(self) -> int:
        return int(self.information_fractions.size)

    @property
    def has_futility(self) -> bool:
        return bool(np.any(np.isfinite(self.z_futility)))

    def _lower(self, futility):
        if futility and self.has_futility:
            return np.where(np.isfinite(self.z_futility), self.z_futility, -np.inf)
        return np.full(self.n_looks, -np.inf)

    def _probabilities(self, drift, futility):
        drift = _real("drift", drift)
        key = ("probabilities", drift, bool(futility))
        if key not in self._cache:
            self._cache[key] = _stage_probabilities(self.z_efficacy, self._lower(futility),
                                                    self.information_fractions, drift,
                                                    self.grid_points)
        return self._cache[key]

    # ---- operating characteristics ----------------------------------------
    def rejection_probabilities(self, drift, futility=True):
        """Cumulative probability of having rejected H0 by each look, at this drift.

        Two separate questions decide a futility rule's effect.  How the efficacy
        boundaries were computed is the design's ``binding_futility`` (binding boundaries
        are lowered on the promise that the trial always stops at the futility boundary).
        Whether the committee follows the rule is this argument: ``futility=True``, it
        stops whenever Z falls below the futility boundary (rpact's
        ``getDesignCharacteristics`` and ``getPowerSurvival`` count these stops);
        ``futility=False``, it ignores the rule.  drift = 0 gives the type I error: at most
        alpha for non-binding boundaries either way; above alpha for binding boundaries
        whose rule is ignored.
        """
        up, _ = self._probabilities(drift, futility)
        return np.cumsum(up)

    def futility_probabilities(self, drift):
        """Cumulative probability of having stopped for futility by each look (rule obeyed)."""
        _, down = self._probabilities(drift, True)
        return np.cumsum(down)

    def power(self, drift, futility=True) -> float:
        """Probability of rejecting H0 at some look: rejection_probabilities(drift)[-1]."""
        return float(self.rejection_probabilities(drift, futility)[-1])

    def drift_for_power(self, power, futility=True) -> float:
        """The drift theta at which the design has this power (rpact: sqrt(shift)).

        Solved by the secant method on Phi^{-1}(power(theta)), which is nearly
        linear in theta, starting from the fixed-design drift
        z_{1-alpha} + z_{power}; brentq as a fallback.
        """
        power = _probability("power", power)
        if power <= self.alpha:
            raise ValueError(f"power must exceed alpha ({self.alpha}), got {power}")
        key = ("drift_for_power", power, bool(futility))
        if key in self._cache:
            return self._cache[key]
        target = ndtri(power)

        def gap(theta):
            achieved = min(max(self.power(theta, futility), 1e-300), 1.0 - 1e-16)
            return float(ndtri(achieved)) - target

        x0 = float(-ndtri(self.alpha) + target)
        x1 = 1.05 * x0
        f0, f1 = gap(x0), gap(x1)
        result = None
        for _ in range(30):
            if f1 == f0:
                break
            x2 = x1 - f1 * (x1 - x0) / (f1 - f0)
            x0, f0 = x1, f1
            x1, f1 = x2, gap(x2)
            if abs(x1 - x0) < 1e-10 * max(1.0, abs(x1)):
                result = x1
                break
        if result is None or not math.isfinite(result):
            hi = 2.0 * float(-ndtri(self.alpha) + target) + 1.0
            while gap(hi) < 0:
                hi *= 2.0
            result = brentq(gap, 0.0, hi, xtol=1e-12)
        self._cache[key] = float(result)
        return float(result)

    def inflation_factor(self, power, futility=True) -> float:
        """Maximum information relative to the fixed design with the same power:
        (theta_K / (z_{1-alpha} + z_{power}))**2 (rpact ``inflationFactor``)."""
        theta = self.drift_for_power(power, futility)
        return (theta / float(-ndtri(self.alpha) + ndtri(power))) ** 2

    def expected_information(self, drift, futility=True) -> float:
        """Expected information at stopping, as a fraction of the maximum.

        sum_k t_k P(stop at look k) (rejection or futility); multiply by the
        inflation factor for rpact's ``averageSampleNumber`` (relative to the
        fixed design).
        """
        up, down = self._probabilities(drift, futility)
        stop = up + down
        stop[-1] = 1.0 - stop[:-1].sum()
        return float(stop @ self.information_fractions)

    # ---- monitoring -------------------------------------------------------
    def at_observed(self, observed_fractions):
        """The design re-computed at the information fractions actually observed.

        The looks are ``observed_fractions`` followed by the planned fractions
        beyond the last observed one; the spending function (not the planned
        boundaries) carries over, which is the point of alpha spending (Lan &
        DeMets 1983).  Futility is re-computed with the same level and drift.

        >>> d = group_sequential_design([1/3, 2/3, 1])
        >>> d.at_observed([80 / 131]).information_fractions.round(4)
        array([0.6107, 0.6667, 1.    ])
        """
        if self.spending.startswith("classical") or self.spending == "user":
            raise ValueError("observed fractions can only be used with an alpha-spending function, "
                             f"not spending={self.spending!r}"
                             + (" (give the alpha spent at the new looks as a new user design)"
                                if self.spending == "user" else ""))
        obs = np.atleast_1d(_real("observed_fractions", observed_fractions, allow_array=True))
        if obs.ndim != 1 or obs.size == 0 or np.any(obs <= 0) or np.any(obs > 1) \
                or np.any(np.diff(obs) <= 0):
            raise ValueError("observed_fractions must be a non-empty, strictly increasing sequence "
                             f"in (0, 1], got {obs.tolist()}")
        if obs[-1] >= 1.0:
            looks = obs
        else:
            tail = self.information_fractions[self.information_fractions > (obs[-1] if obs.size else 0.0) + 1e-9]
            looks = np.concatenate((obs, tail))
        return group_sequential_design(looks, alpha=self.alpha, spending=self.spending,
                                       parameter=self.parameter, futility_alpha=self.futility_alpha,
                                       futility_drift=self.futility_drift,
                                       binding_futility=self.binding_futility,
                                       grid_points=self.grid_points)

    # ---- display ----------------------------------------------------------
    def _rows(self, drift=None, events=None, allocation=0.5):
        rows = []
        cum = None if drift is None else self.rejection_probabilities(drift)
        fut = None if drift is None or not self.has_futility else self.futility_probabilities(drift)
        for k in range(self.n_looks):
            row = {"look": k + 1, "fraction": self.information_fractions[k]}
            if events is not None:
                row["events"] = events * self.information_fractions[k]
            row.update({"z_efficacy": self.z_efficacy[k], "p_efficacy": self.p_efficacy[k],
                        "alpha_spent": self.alpha_spent[k]})
            if self.has_futility:
                row["z_futility"] = self.z_futility[k]
            if events is not None:
                # the boundaries on the hazard-ratio scale: HR = exp(-Z / sqrt(D_k r (1 - r)))
                scale = math.sqrt(events * self.information_fractions[k] * allocation * (1 - allocation))
                row["hr_efficacy"] = math.exp(-self.z_efficacy[k] / scale)
                if self.has_futility:
                    row["hr_futility"] = math.exp(-self.z_futility[k] / scale)
            if cum is not None:
                row["power_cumulative"] = cum[k]
                if fut is not None:
                    row["futility_cumulative"] = fut[k]
            rows.append(row)
        return rows

    def table(self, drift=None, events=None, allocation=0.5) -> str:
        """Look-by-look table; with ``drift`` the cumulative power (and futility
        stopping), with ``events`` (planned maximum) the events at each look and
        the boundaries on the hazard-ratio scale, exp(-Z / sqrt(D_k r (1 - r)))
        (rpact's ``criticalValuesEffectScale``)."""
        events, allocation = self._check_table_args(events, allocation)
        rows = self._rows(drift, events, allocation)
        heads = list(rows[0])
        fmt = {"look": "{:>4d}", "fraction": "{:>8.4f}", "events": "{:>7.1f}",
               "z_efficacy": "{:>10.4f}", "p_efficacy": "{:>10.5f}", "alpha_spent": "{:>11.6f}",
               "z_futility": "{:>10.4f}", "power_cumulative": "{:>16.4f}",
               "futility_cumulative": "{:>19.4f}", "hr_efficacy": "{:>11.4f}",
               "hr_futility": "{:>11.4f}"}
        widths = {"look": 4, "fraction": 8, "events": 7, "z_efficacy": 10, "p_efficacy": 10,
                  "alpha_spent": 11, "z_futility": 10, "power_cumulative": 16,
                  "futility_cumulative": 19, "hr_efficacy": 11, "hr_futility": 11}
        lines = [" ".join(f"{h:>{widths[h]}s}" for h in heads)]
        for row in rows:
            cells = []
            for h in heads:
                v = row[h]
                if isinstance(v, float) and not math.isfinite(v):
                    cells.append(f"{'-':>{widths[h]}s}")
                else:
                    cells.append(fmt[h].format(v))
            lines.append(" ".join(cells))
        return "\n".join(lines)

    @staticmethod
    def _check_table_args(events, allocation):
        if events is not None:
            events = _real("events", events)
            if events <= 0:
                raise ValueError(f"events must be > 0, got {events}")
        return events, _probability("allocation", allocation)

    def to_frame(self, drift=None, events=None, allocation=0.5):
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd
        events, allocation = self._check_table_args(events, allocation)
        return pd.DataFrame(self._rows(drift, events, allocation)).set_index("look")

    def _label(self):
        name = self.spending
        if self.spending == "user":
            name += "(cumulative alpha " + ", ".join(f"{a:g}" for a in self.parameter) + ")"
        elif self.parameter is not None:
            name += f"({'gamma' if self.spending == 'hwang-shih-decani' else 'rho'}={self.parameter:g})"
        return name

    def __repr__(self) -> str:
        fut = ""
        if self.has_futility:
            fut = (f", futility: alternative tested at {self.futility_alpha:g} "
                   f"(drift {self.futility_drift:.4f}, {'binding' if self.binding_futility else 'non-binding'})")
        return (f"GroupSequentialDesign({self.n_looks} looks, {self._label()} spending, "
                f"one-sided alpha={self.alpha:g}{fut})\n{self.table()}")

    def _repr_html_(self) -> str:
        rows = self._rows()
        heads = list(rows[0])
        body = "".join(
            "<tr>" + "".join(
                f"<td>{r[h]:.4g}</td>" if isinstance(r[h], float) and math.isfinite(r[h])
                else f"<td>{r[h] if not isinstance(r[h], float) else '&ndash;'}</td>" for h in heads)
            + "</tr>" for r in rows)
        return (f"<p><b>Group-sequential design</b>: {self.n_looks} looks, {self._label()} spending, "
                f"one-sided &alpha; = {self.alpha:g}</p><table><tr>"
                + "".join(f"<th>{h}</th>" for h in heads) + f"</tr>{body}</table>")


def group_sequential_design(information_fractions, alpha=0.025, spending="obrien-fleming",
                            parameter=None, *, futility_alpha=None, futility_drift=None,
                            binding_futility=False, grid_points=GRID_M) -> GroupSequentialDesign:
    """Efficacy (and optional futility) boundaries of a one-sided group-sequential test.

    Alpha spending (Lan & DeMets 1983): with alpha(t) the spending function,
    the boundary b_k at look k solves

        P_0(Z_1 < b_1, ..., Z_{k-1} < b_{k-1}, Z_k >= b_k) = alpha(t_k) - alpha(t_{k-1}),

    computed by recursive numerical integration (Armitage, McPherson & Rowe
    1969; Jennison & Turnbull 2000, ch. 19), look by look.  The classical
    designs use a fixed shape, b_k = C / sqrt(t_k) (O'Brien & Fleming 1979) or
    b_k = C (Pocock 1977), with C giving total type I error alpha.

    ``spending="user"`` takes the cumulative alpha alpha(t_k) itself as
    ``parameter`` (one value per look, non-decreasing, the last = ``alpha``):
    a design re-cut at the looks that actually happened, with the alpha each
    actually spent (rpact ``typeOfDesign = "asUser", userAlphaSpending``).

    Futility by testing the alternative (the AALL1331 rule): at interim look k
    stop when the one-sided test of theta = ``futility_drift`` rejects at level
    ``futility_alpha``, i.e. when Z_k < futility_drift sqrt(t_k) - z_{1-futility_alpha}.
    Non-binding by default: the efficacy boundaries ignore it, so type I error
    stays <= alpha whether or not the rule is followed.  With
    ``binding_futility=True`` they are computed assuming it is always followed
    (rpact ``bindingFutility = TRUE``), which lowers the later boundaries.

    Matches R: ``rpact::getDesignGroupSequential(informationRates = t,
    alpha = alpha, typeOfDesign = "asOF" | "asP" | "asHSD" | "asKD" | "OF" | "P",
    gammaA = parameter, userAlphaSpending = parameter, futilityBounds = ...,
    bindingFutility = ...)``.

    >>> d = group_sequential_design([0.25, 0.5, 0.75, 1], spending="pocock")
    >>> d.z_efficacy.round(4)
    array([2.3683, 2.3675, 2.3582, 2.35  ])
    >>> float(d.alpha_spent[-1])
    0.025

    AALL1331 re-cut: alpha .004128 spent at the 80-event interim, the rest at
    the final analysis of 107 events:

    >>> group_sequential_design([80 / 107, 1], spending="user", parameter=[0.004128, 0.025]).z_efficacy.round(4)
    array([2.6414, 1.9705])
    """
    t = _fractions("information_fractions", information_fractions)
    alpha = _probability("alpha", alpha)
    if not isinstance(spending, str):
        raise TypeError(f"spending must be a string, one of {SPENDING_NAMES}, "
                        f"got {type(spending).__name__}")
    if spending not in SPENDING_NAMES:
        raise ValueError(f"spending must be one of {SPENDING_NAMES}, got {spending!r}")
    if isinstance(grid_points, bool) or not isinstance(grid_points, (int, np.integer)) or grid_points < 4:
        raise ValueError(f"grid_points must be an integer >= 4, got {grid_points!r}")
    if not isinstance(binding_futility, (bool, np.bool_)):
        raise TypeError(f"binding_futility must be True or False, got {binding_futility!r}")
    if (futility_alpha is None) != (futility_drift is None):
        raise ValueError("futility_alpha and futility_drift must be given together "
                         "(the rule tests the alternative drift at level futility_alpha)")
    n = t.size
    z_futility = np.full(n, np.nan)
    if futility_alpha is not None:
        futility_alpha = _probability("futility_alpha", futility_alpha)
        futility_drift = _real("futility_drift", futility_drift)
        if futility_drift <= 0:
            raise ValueError(f"futility_drift must be > 0 (benefit), got {futility_drift}")
        z_futility[:-1] = futility_drift * np.sqrt(t[:-1]) + ndtri(futility_alpha)
    elif binding_futility:
        raise ValueError("binding_futility=True needs a futility rule (futility_alpha and futility_drift)")
    lower = np.where(np.isfinite(z_futility), z_futility, -np.inf) if binding_futility \
        else np.full(n, -np.inf)

    if spending.startswith("classical"):
        if parameter is not None:
            raise ValueError(f"parameter is not used with spending={spending!r}")
        shape = 1.0 / np.sqrt(t) if spending == "classical-obrien-fleming" else np.ones(n)
        z_eff = _classical_boundaries(t, alpha, shape, lower, grid_points)
        up, _ = _stage_probabilities(z_eff, np.full(n, -np.inf), t, 0.0, grid_points)
        alpha_spent = np.cumsum(up)
    else:
        if spending == "user":
            cumulative = user_spending(parameter, alpha, n)
            parameter = tuple(float(a) for a in cumulative)
        else:
            f = spending_function(spending, parameter)
            parameter = None if parameter is None else float(parameter)
            cumulative = np.asarray(f(t, alpha), dtype=float)
            cumulative[-1] = alpha
        z_eff = _spending_boundaries(t, cumulative, lower, grid_points)
        alpha_spent = cumulative
    if futility_alpha is not None:
        # a futility bound above the efficacy bound would forbid continuing: cap it
        z_futility[:-1] = np.minimum(z_futility[:-1], z_eff[:-1])
    return GroupSequentialDesign(
        information_fractions=t, alpha=alpha, spending=spending, parameter=parameter,
        z_efficacy=z_eff, p_efficacy=ndtr(-z_eff), alpha_spent=alpha_spent,
        z_futility=z_futility, futility_alpha=futility_alpha, futility_drift=futility_drift,
        binding_futility=bool(binding_futility), grid_points=int(grid_points))
