"""Inference after a group-sequential trial has stopped: P-value, estimate and CIs.

Once a trial has looked at its data several times, the usual fixed-sample
P-value, hazard ratio and confidence interval are no longer right: the looks
spend alpha, and a trial that stops early tends to stop on a high.  This
module gives the adjusted quantities of Jennison & Turnbull (2000, ch. 8-9)
and Wassmer & Brannath (2016, ch. 4), as R's rpact computes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from ._checks import _probability
from .boundaries import GroupSequentialDesign, _stage_probabilities

__all__ = ["inference_after_stop", "InferenceAfterStop", "bias_by_stopping", "StoppingBias"]


@dataclass(frozen=True)
class InferenceAfterStop:
    """Adjusted and naive inference at the look where a group-sequential trial stopped.

    Fields: ``stage`` (1-based look where it stopped), ``stopped_early``,
    ``p_value``, ``hazard_ratio``, ``ci_lower``, ``ci_upper`` (stage-wise
    ordering; the estimate is median-unbiased), ``conf_level``,
    ``repeated_ci_lower``, ``repeated_ci_upper`` (one per look taken, at
    ``repeated_conf_level`` = 1 - 2 alpha), ``naive_p_value``,
    ``naive_hazard_ratio``, ``naive_ci_lower``, ``naive_ci_upper`` (as if the
    last look had been the only one), and the inputs ``z``, ``events``,
    ``allocation``, ``design``.
    """

    stage: int
    stopped_early: bool
    p_value: float
    hazard_ratio: float
    ci_lower: float
    ci_upper: float
    conf_level: float
    repeated_ci_lower: np.ndarray
    repeated_ci_upper: np.ndarray
    repeated_conf_level: float
    naive_p_value: float
    naive_hazard_ratio: float
    naive_ci_lower: float
    naive_ci_upper: float
    z: np.ndarray
    events: np.ndarray
    allocation: float
    design: GroupSequentialDesign = field(repr=False)

    def _summary_rows(self):
        level = f"{100 * self.conf_level:g}% CI"
        return [
            ("one-sided P", _format_p(self.p_value), _format_p(self.naive_p_value)),
            ("hazard ratio", f"{self.hazard_ratio:.3f}", f"{self.naive_hazard_ratio:.3f}"),
            (level, f"{self.ci_lower:.3f}-{self.ci_upper:.3f}",
             f"{self.naive_ci_lower:.3f}-{self.naive_ci_upper:.3f}"),
        ]

    def _look_rows(self):
        return [(k + 1, float(self.events[k]), float(self.z[k]), float(self.design.z_efficacy[k]),
                 float(self.repeated_ci_lower[k]), float(self.repeated_ci_upper[k]))
                for k in range(self.stage)]

    def _headline(self):
        how = "stopped early" if self.stopped_early else "final analysis"
        return f"look {self.stage} of {self.design.n_looks} ({how}), {self.events[-1]:g} events"

    def table(self) -> str:
        """Adjusted next to naive quantities, then the repeated CIs look by look."""
        rows = [("", "adjusted", "naive")] + self._summary_rows()
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines = [self._headline()]
        lines += [f"{a:<{w0}s}  {b:<{w1}s}  {c}".rstrip() for a, b, c in rows]
        lines.append(f"repeated {100 * self.repeated_conf_level:g}% CIs:")
        lines.append(f"{'look':>4s} {'events':>7s} {'Z':>7s} {'boundary':>9s} {'RCI':>15s}")
        for k, d, z, c, lo, hi in self._look_rows():
            zs, rci = (f"{z:>7.3f}", f"{lo:.3f}-{hi:.3f}") if math.isfinite(z) else ("      -", "not reported")
            lines.append(f"{k:>4d} {d:>7g} {zs} {c:>9.4f} {rci:>15s}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"InferenceAfterStop(\n{self.table()}\n)"

    def _repr_html_(self) -> str:
        head = "<tr><th></th><th>adjusted (stage-wise)</th><th>naive</th></tr>"
        body = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in self._summary_rows())
        looks = "".join(
            f"<tr><td>{k}</td><td>{d:g}</td><td>{z:.3f}</td><td>{c:.4f}</td><td>{lo:.3f}&ndash;{hi:.3f}</td></tr>"
            if math.isfinite(z) else
            f"<tr><td>{k}</td><td>{d:g}</td><td>&ndash;</td><td>{c:.4f}</td><td>not reported</td></tr>"
            for k, d, z, c, lo, hi in self._look_rows())
        return (f"<p><b>Inference after stopping</b>: {self._headline()}</p>"
                f"<table>{head}{body}</table>"
                f"<p>Repeated {100 * self.repeated_conf_level:g}% confidence intervals</p>"
                "<table><tr><th>look</th><th>events</th><th>Z</th><th>boundary</th><th>RCI</th></tr>"
                f"{looks}</table>")


def _format_p(p):
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def _sequence(name, values, n_max, allow_missing=False):
    if isinstance(values, (str, bytes, bool)) or values is None:
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {values!r}")
    if allow_missing and not np.isscalar(values):
        values = [np.nan if v is None else v for v in values]
    try:
        arr = np.asarray(values)
    except Exception:  # pragma: no cover - exotic objects
        raise TypeError(f"{name} must be a sequence of numbers") from None
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a sequence of numbers, got dtype {arr.dtype}")
    arr = np.atleast_1d(arr.astype(float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if arr.size > n_max:
        raise ValueError(f"{name} has {arr.size} looks but the design has only {n_max}")
    finite = np.isfinite(arr)
    if allow_missing:  # a look whose Z was not reported: NaN (or None), never the last
        if np.any(np.isinf(arr)) or not finite[-1]:
            raise ValueError(f"{name} must be finite (NaN or None only for an earlier look whose value "
                             f"was not reported), got {arr.tolist()}")
    elif not np.all(finite):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    return arr


def _solve(prob, target, mu0):
    """The mu with prob(mu) = target; prob increases from 0 to 1 in mu."""
    lo, hi, step = mu0 - 2.0, mu0 + 2.0, 4.0
    while prob(lo) > target:
        lo -= step
        step *= 2.0
    step = 4.0
    while prob(hi) < target:
        hi += step
        step *= 2.0
    return brentq(lambda mu: prob(mu) - target, lo, hi, xtol=1e-12, rtol=1e-14)


def inference_after_stop(design, z, events, allocation=0.5, conf_level=None) -> InferenceAfterStop:
    """P-value, median-unbiased hazard ratio and CIs after a group-sequential log-rank trial.

    ``z`` and ``events``: the cumulative log-rank Z (positive favours the
    experimental arm) and the events at each look taken; the last is where
    the trial stopped (efficacy boundary crossed, or binding futility) or
    ended (the design's final look).  ``allocation``: fraction randomized to
    the experimental arm.  ``conf_level``: two-sided level of the final CI,
    by default 1 - 2 alpha (rpact's).

    With I_k = D_k r (1 - r) the information at look k (D_k events, r the
    allocation) and eta = -log(HR), Z_k ~ N(eta sqrt(I_k), 1) jointly as in
    the canonical model (package docstring), the information ratios taken
    from the design's fractions.  The trial stopped at look k* with Z* = z[-1].

    * Stage-wise ordering (Armitage 1957; Jennison & Turnbull 2000, sec. 8.4;
      Wassmer & Brannath 2016, sec. 4.1): an outcome is at least as extreme
      as (k*, Z*) if it crosses the efficacy boundary c_j at an earlier look
      j < k*, or reaches look k* with Z_k* >= Z*:

          P_eta(>= obs) = sum_{j<k*} P_eta(first crossing at j)
                          + P_eta(no crossing before k*, Z_k* >= Z*),

      computed by the recursive integration of the boundaries (futility
      bounds count only when binding, as in rpact).
    * ``p_value`` = P_0(>= obs): the smallest alpha at which the design
      would have rejected.  At look 1 it is the naive 1 - Phi(Z*).
    * ``hazard_ratio`` = exp(-eta_M), P_{eta_M}(>= obs) = 1/2: median-unbiased.
    * ``ci_lower, ci_upper`` = exp(-eta_U), exp(-eta_L) with
      P_{eta_L}(>= obs) = (1 - conf_level) / 2 and
      P_{eta_U}(>= obs) = (1 + conf_level) / 2 (J&T sec. 8.5).
    * Repeated CIs (Jennison & Turnbull 1989; J&T ch. 9), at each look k
      taken: exp(-(Z_k +/- c_k) / sqrt(I_k)), simultaneous coverage 1 - 2 alpha
      whatever the stopping rule.  (With binding futility rpact also widens
      them by a futility correction, which is not applied here.)
    * Naive: HR = exp(-Z* / sqrt(I_k*)), CI exp(-(Z* -/+ z_{(1+conf)/2}) / sqrt(I_k*)),
      P = 1 - Phi(Z*) (Schoenfeld 1981), as if there had been one look.

    Matches R rpact 3.3.4 ``getAnalysisResults(design, getDataset(overallEvents = events,
    overallLogRanks = -z, overallAllocationRatios = r / (1 - r)), directionUpper = FALSE)``:
    ``finalPValues``, ``medianUnbiasedEstimates``, ``finalConfidenceIntervalLower/UpperBounds``,
    ``repeatedConfidenceIntervalLower/UpperBounds`` (rpact's log-rank statistic has the
    opposite sign, positive when HR > 1).

    AALL1331 (Brown et al. 2021, Results): the interim at 80 events spent alpha
    .004128 (P = .06, Z = 1.555); the final analysis at 107 events (Table 2) had
    HR 0.70, one-sided P = .03; Z = -log(0.70) sqrt(107 / 4), a reconstruction:

    >>> from teachkit.sequential import group_sequential_design
    >>> d = group_sequential_design([80 / 107, 1], spending="user", parameter=[0.004128, 0.025])
    >>> res = inference_after_stop(d, [1.5548, -math.log(0.7) * math.sqrt(107 / 4)], [80, 107])
    >>> round(res.p_value, 4), round(res.hazard_ratio, 3), round(res.ci_lower, 3), round(res.ci_upper, 3)
    (0.0329, 0.701, 0.479, 1.024)
    """
    if not isinstance(design, GroupSequentialDesign):
        raise TypeError("design must be a GroupSequentialDesign (teachkit.sequential."
                        f"group_sequential_design), got {type(design).__name__}")
    z = _sequence("z", z, design.n_looks, allow_missing=True)
    events = _sequence("events", events, design.n_looks)
    if events.size != z.size:
        raise ValueError(f"events must have one entry per look taken, like z ({z.size}), got {events.size}")
    if events[0] <= 0 or np.any(np.diff(events) <= 0):
        raise ValueError(f"events must be positive and strictly increasing, got {events.tolist()}")
    allocation = _probability("allocation", allocation)
    alpha = design.alpha
    conf_level = 1.0 - 2.0 * alpha if conf_level is None else _probability("conf_level", conf_level)

    k_star = z.size
    t = design.information_fractions[:k_star]
    # the information ratios among the looks taken are the design's: the events must agree
    if np.any(np.abs(events / events[-1] - t / t[-1]) > 1e-6):
        raise ValueError(
            f"events {events.tolist()} are at information ratios {np.round(events / events[-1], 4).tolist()} "
            f"but the design's looks are at {np.round(t / t[-1], 4).tolist()}; re-cut the design at the "
            "looks actually taken (group_sequential_design(events / events_final, spending='user', "
            "parameter=alpha spent at each) or design.at_observed)")
    c = design.z_efficacy[:k_star]
    binding = design.binding_futility and design.has_futility
    fut = np.where(np.isfinite(design.z_futility[:k_star]), design.z_futility[:k_star], -np.inf)
    for j in range(k_star - 1):
        if not np.isfinite(z[j]):
            continue
        if z[j] >= c[j]:
            raise ValueError(f"z at look {j + 1} ({z[j]:.4g}) crosses the efficacy boundary "
                             f"({c[j]:.4g}): the trial stopped there; give the looks up to it only")
        if binding and z[j] < fut[j]:
            raise ValueError(f"z at look {j + 1} ({z[j]:.4g}) is below the binding futility "
                             f"boundary ({fut[j]:.4g}): the trial stopped there; give the looks up to it only")
    z_star = float(z[-1])
    final = k_star == design.n_looks
    if not final and not (z_star >= c[-1] or (binding and z_star < fut[-1])):
        raise ValueError(
            f"z at look {k_star} ({z_star:.4g}) crosses no boundary of this interim look "
            f"(efficacy {c[-1]:.4g}): the stage-wise ordering needs the trial to stop by a rule or to "
            "reach the design's final look; if it stopped for another reason, re-cut the design so "
            "that this look is the final one (spending='user')")

    info = events * allocation * (1.0 - allocation)
    scale = np.sqrt(info)
    upper = np.append(c[:-1], z_star)
    lower = np.append(fut[:-1], -np.inf) if binding else np.full(k_star, -np.inf)

    def prob(mu):
        """P(>= obs) when E[Z_k*] = mu, i.e. eta = mu / sqrt(I_k*)."""
        up, _ = _stage_probabilities(upper, lower, t, mu / math.sqrt(t[-1]), design.grid_points)
        return float(min(max(up.sum(), 0.0), 1.0))

    p_value = prob(0.0)
    tail = (1.0 - conf_level) / 2.0
    mu_median = _solve(prob, 0.5, z_star)
    mu_low = _solve(prob, tail, z_star)
    mu_high = _solve(prob, 1.0 - tail, z_star)
    s = scale[-1]

    rci_lower = np.exp(-(z + c) / scale)
    rci_upper = np.exp(-(z - c) / scale)

    q = float(-ndtri(tail))
    return InferenceAfterStop(
        stage=k_star, stopped_early=not final,
        p_value=p_value, hazard_ratio=math.exp(-mu_median / s),
        ci_lower=math.exp(-mu_high / s), ci_upper=math.exp(-mu_low / s), conf_level=conf_level,
        repeated_ci_lower=rci_lower, repeated_ci_upper=rci_upper, repeated_conf_level=1.0 - 2.0 * alpha,
        naive_p_value=float(ndtr(-z_star)), naive_hazard_ratio=math.exp(-z_star / s),
        naive_ci_lower=math.exp(-(z_star + q) / s), naive_ci_upper=math.exp(-(z_star - q) / s),
        z=z, events=events, allocation=allocation, design=design)


# --------------------------------------------------------------------------------------
# The bias of the naive estimate, by how the trial stopped (exact, no simulation)
# --------------------------------------------------------------------------------------

def _stage_moments(upper, lower, t, drift, m):
    """Per look: P(first cross up), E[Z_k; first cross up], P(first cross down),
    E[Z_k; first cross down]; and for the last look P(reach it), E[Z_K; reach it].

    The recursion of :func:`~teachkit.sequential.boundaries._stage_probabilities` with,
    given Z_{k-1} = y, Z_k ~ N(mu, sd^2), mu = (y s_{k-1} + theta Delta) / s_k,
    sd = sqrt(Delta) / s_k, and E[Z; Z >= b] = mu Phi((mu - b) / sd) + sd phi((mu - b) / sd).
    """
    from .boundaries import _grid, _phi

    n = t.size
    s = np.sqrt(t)
    p_up, e_up, p_down, e_down = (np.zeros(n) for _ in range(4))

    def moments(mu, sd, weights):
        a = (mu - upper_k) / sd
        pu = ndtr(a)
        eu = mu * pu + sd * _phi(a)
        b = (lower_k - mu) / sd
        pd = ndtr(b) if np.isfinite(lower_k) else np.zeros_like(mu)
        ed = (mu * pd - sd * _phi(b)) if np.isfinite(lower_k) else np.zeros_like(mu)
        return weights @ pu, weights @ eu, weights @ pd, weights @ ed

    mean = drift * s[0]
    upper_k, lower_k = upper[0], lower[0]
    p_up[0], e_up[0], p_down[0], e_down[0] = moments(np.array([mean]), 1.0, np.array([1.0]))
    if n == 1:
        return p_up, e_up, p_down, e_down, 1.0, float(mean)
    z, w = _grid(mean, lower[0], upper[0], m)
    h = w * _phi(z - mean)
    for k in range(1, n):
        delta = t[k] - t[k - 1]
        mu = (z * s[k - 1] + drift * delta) / s[k]
        sd = math.sqrt(delta) / s[k]
        upper_k, lower_k = upper[k], lower[k]
        if k == n - 1:
            reach, e_reach = float(h.sum()), float(h @ mu)
        p_up[k], e_up[k], p_down[k], e_down[k] = moments(mu, sd, h)
        if k < n - 1:
            z_new, w_new = _grid(drift * s[k], lower[k], upper[k], m)
            kernel = _phi((z_new[:, None] - mu[None, :]) / sd) / sd
            h = w_new * (kernel @ h)
            z = z_new
    return p_up, e_up, p_down, e_down, reach, e_reach


@dataclass(frozen=True)
class StoppingBias:
    """Mean naive log hazard ratio of a group-sequential log-rank trial, by how it stopped.

    ``hazard_ratio`` (the truth), ``events`` (planned maximum), ``futility`` (rule followed?),
    and for each group of trials its probability and geometric-mean naive HR
    (exp of the mean of log HR = -Z_k / sqrt(I_k) at the look where it stopped):
    ``early_efficacy`` (stopped for efficacy before the final look), ``early_futility``,
    ``reached_final`` (reached the final look, whatever its result) and ``all_final``
    (every trial's final-look estimate, as if none had stopped: unbiased in this model).
    """

    hazard_ratio: float
    events: float
    futility: bool
    p_early_efficacy: float
    hr_early_efficacy: float
    p_early_futility: float
    hr_early_futility: float
    p_reached_final: float
    hr_reached_final: float
    hr_all_final: float

    @property
    def direction_reached_final(self) -> str:
        """Which way trials reaching the final look are biased: 'towards benefit' (mean HR
        below the truth), 'away from benefit' (above) or 'none'."""
        gap = math.log(self.hr_reached_final) - math.log(self.hazard_ratio)
        return "none" if abs(gap) < 1e-9 else ("towards benefit" if gap < 0 else "away from benefit")

    def __repr__(self) -> str:
        rule = "followed" if self.futility else "ignored"
        return (f"StoppingBias(true HR {self.hazard_ratio:g}, {self.events:g} events, futility {rule}: "
                f"early efficacy {self.p_early_efficacy:.3f} (mean HR {self.hr_early_efficacy:.3f}), "
                f"reached the final look {self.p_reached_final:.3f} (mean HR {self.hr_reached_final:.3f}, "
                f"{self.direction_reached_final}), all final looks {self.hr_all_final:.3f})")


def bias_by_stopping(design, hazard_ratio, events, futility=True, allocation=0.5) -> StoppingBias:
    """The naive hazard ratio's bias among trials grouped by how they stopped, exactly.

    In the canonical model (Z_k ~ N(theta sqrt(t_k), 1), theta = -log(HR) sqrt(D r (1 - r)),
    package docstring), the naive log HR at look k is -Z_k / sqrt(D t_k r (1 - r)).  Its
    mean among trials that stopped early for efficacy, stopped for futility, or reached the
    final look is computed by the recursive integration of the boundaries (no Monte Carlo):
    E[Z_k; stop at k] from the continuation density of Z_{k-1} and the normal moments of
    Z_k given Z_{k-1}.  Selection by stopping biases each group (Pocock & Hughes 1989;
    Jennison & Turnbull 2000, ch. 8): early efficacy stops exaggerate the effect; trials that
    reach the final look lost their best interim results (biased away from benefit) but,
    with a futility rule followed, also their worst (biased towards benefit): which wins
    depends on the truth.  ``futility=False``: the rule ignored (or absent).

    AALL1331's planned design (looks 1/3, 2/3, 1 of 131 events, futility at .024), trials
    that reach the final look:

    >>> from teachkit.sequential import group_sequential_design, drift_from_hazard_ratio
    >>> d = group_sequential_design([1/3, 2/3, 1], futility_alpha=0.024,
    ...                             futility_drift=drift_from_hazard_ratio(0.58, 131))
    >>> [round(bias_by_stopping(d, hr, 131).hr_reached_final, 3) for hr in (0.58, 0.70, 1.0)]
    [0.643, 0.707, 0.845]
    >>> [bias_by_stopping(d, hr, 131, futility=False).direction_reached_final for hr in (0.58, 1.0)]
    ['away from benefit', 'away from benefit']
    """
    if not isinstance(design, GroupSequentialDesign):
        raise TypeError("design must be a GroupSequentialDesign (teachkit.sequential."
                        f"group_sequential_design), got {type(design).__name__}")
    from ._checks import _hazard_ratio, _real

    if isinstance(hazard_ratio, (int, float)) and hazard_ratio == 1:
        hr = 1.0
    else:
        hr = _hazard_ratio("hazard_ratio", hazard_ratio)
    events = _real("events", events)
    if events <= 0:
        raise ValueError(f"events must be > 0, got {events}")
    if not isinstance(futility, (bool, np.bool_)):
        raise TypeError(f"futility must be True or False, got {futility!r}")
    allocation = _probability("allocation", allocation)
    t = design.information_fractions
    theta = -math.log(hr) * math.sqrt(events * allocation * (1 - allocation))
    lower = design._lower(futility)
    p_up, e_up, p_down, e_down, reach, e_reach = _stage_moments(design.z_efficacy, lower, t, theta,
                                                                design.grid_points)
    scale = np.sqrt(events * t * allocation * (1 - allocation))
    early = slice(0, t.size - 1)

    def geometric(p, e, k_slice):
        total = p[k_slice].sum()
        if total <= 1e-300:
            return 0.0, float("nan")
        return float(total), math.exp(-float((e[k_slice] / scale[k_slice]).sum()) / total)

    pe, he = geometric(p_up, e_up, early)
    pf, hf = geometric(p_down, e_down, early)
    return StoppingBias(hazard_ratio=hr, events=events, futility=bool(futility),
                        p_early_efficacy=pe, hr_early_efficacy=he, p_early_futility=pf,
                        hr_early_futility=hf, p_reached_final=reach,
                        hr_reached_final=math.exp(-e_reach / scale[-1] / reach),
                        hr_all_final=hr)
