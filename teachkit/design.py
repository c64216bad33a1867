"""Planning a survival trial: how many events, how many patients, and when.

The power of a log-rank test depends on the number of *events* D, not on the
number of patients (Schoenfeld 1981):

    D = (z_{1-alpha} + z_{power})**2 / (r (1 - r) log(HR)**2)

with r the fraction randomized to the experimental arm.  A group-sequential
design needs its inflation factor more.  Patients and calendar time then
follow from the survival curve, the accrual period and the follow-up: each
patient entering at time e contributes an event by calendar time c with
probability F(c - e).

AALL1331 (Brown et al. 2021, Methods, Statistical Analysis): HR 0.58, 85%
power, one-sided alpha .025, two interim analyses, 110 patients per arm,
131 events planned.

>>> round(events_required(0.58).events, 2)
121.03
>>> from teachkit.sequential import group_sequential_design
>>> round(events_required(0.58, design=group_sequential_design([1/3, 2/3, 1])).events, 2)
122.53
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from teachkit import sequential as _seq

__all__ = [
    "events_required",
    "EventsRequired",
    "hazard_from_survival",
    "event_probability",
    "expected_events",
    "analysis_times",
    "patients_required",
    "latency_hazard",
    "cure_fraction_from_survival",
    "maximum_events",
    "power_at_events",
    "explain_planned_events",
    "PlannedEventsExplanation",
]

_METHODS = ("schoenfeld", "freedman")


# Argument checks are shared with teachkit.sequential (one message style everywhere).
_number = _seq._real
_unit = _seq._probability


def _positive(name, value):
    value = _number(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def _hr(value, name="hazard_ratio"):
    return _seq._hazard_ratio(name, value)


# --------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------

@dataclass(frozen=True, eq=False, repr=False)
class EventsRequired(float):
    """Events needed for a log-rank test: a number that also explains itself.

    The value *is* the answer, a ``float`` (not rounded up): arithmetic,
    comparisons, ``round``, ``math.log``, ``np.ceil`` and format specs work as on
    a float, and arithmetic gives plain floats.  The fields say how it was
    computed; ``table()`` shows the calculation step by step.

    >>> e = events_required(0.58)
    >>> e - 121, round(e, 1), f"{e:.1f}", e > 121
    (0.03, 121.0, '121.0', True)
    >>> e.events_rounded, e.inflation_factor
    (122, 1.0)
    """

    events: float
    events_fixed: float
    inflation_factor: float
    hazard_ratio: float
    alpha: float
    power: float
    allocation: float
    method: str
    n_looks: int
    futility_alpha: float | None
    binding_futility: bool = False

    def __new__(cls, events, *args, **kwargs):
        return super().__new__(cls, events)

    def __post_init__(self):
        if float(self) != self.events:  # pragma: no cover - __new__ and the field agree
            raise ValueError("events must equal the value of the number")

    @property
    def events_rounded(self) -> int:
        """``events`` rounded up to a whole event."""
        return math.ceil(self.events - 1e-9)

    def __format__(self, spec) -> str:
        """Format specs as for a float: f"{events_required(0.58):.2f}" -> '121.03';
        an empty spec (``f"{e}"``) gives the explaining ``repr``."""
        return float.__format__(self, spec) if spec else repr(self)

    def table(self) -> str:
        za = -ndtri(self.alpha)
        zb = ndtri(self.power)
        r = self.allocation
        if self.method == "schoenfeld":
            effect = f"r(1-r) log(HR)^2       = {r * (1 - r) * math.log(self.hazard_ratio) ** 2:.5f}"
        else:
            k = r / (1 - r)
            effect = f"k (1-HR)^2/(1+k HR)^2  = {k * (1 - self.hazard_ratio) ** 2 / (1 + k * self.hazard_ratio) ** 2:.5f}"
        lines = [
            f"z_(1-alpha)            = {za:.4f}   (one-sided alpha {self.alpha:g})",
            f"z_(power)              = {zb:.4f}   (power {self.power:g})",
            effect + f"   ({self.method}, HR {self.hazard_ratio:g}, r = {r:g})",
            f"fixed-design events    = {self.events_fixed:.2f}",
            f"inflation factor       = {self.inflation_factor:.5f}   ({self.n_looks} look(s)"
            + (f", futility at {self.futility_alpha:g} obeyed"
               + (", binding)" if self.binding_futility else ")") if self.futility_alpha else ")"),
            f"events required        = {self.events:.2f}  -> {self.events_rounded}",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"EventsRequired(events={self.events:.2f}, fixed={self.events_fixed:.2f}, "
                f"inflation={self.inflation_factor:.5f}, HR={self.hazard_ratio:g}, "
                f"alpha={self.alpha:g}, power={self.power:g}, method={self.method!r})")

    def _repr_html_(self) -> str:
        return f"<pre>{self.table()}</pre>"

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "events", "events_fixed", "inflation_factor", "hazard_ratio", "alpha", "power",
            "allocation", "method", "n_looks", "futility_alpha")}])


def _effect_scale(hazard_ratio, allocation, method):
    """Drift per sqrt(event): theta = scale * sqrt(D)."""
    if method == "schoenfeld":
        return -math.log(hazard_ratio) * math.sqrt(allocation * (1 - allocation))
    k = allocation / (1 - allocation)
    return math.sqrt(k) * (1 - hazard_ratio) / (1 + k * hazard_ratio)


def events_required(hazard_ratio, alpha=0.025, power=0.85, allocation=0.5, design=None, *,
                    method="schoenfeld", futility_alpha=None, binding_futility=False) -> EventsRequired:
    """Events needed for a one-sided log-rank test to have ``power`` at ``hazard_ratio``.

    Schoenfeld (1981):   D = (z_{1-alpha} + z_{power})**2 / (r (1 - r) log(HR)**2)
    Freedman (1982):     D = (z_{1-alpha} + z_{power})**2 (1 + k HR)**2 / (k (1 - HR)**2),  k = r / (1 - r)

    With a group-sequential ``design`` (from
    :func:`teachkit.sequential.group_sequential_design`, same ``alpha``) D is
    multiplied by its inflation factor.  With ``futility_alpha`` the design
    also stops for futility by testing the alternative at that level at each
    interim; the rule depends on D (its drift is the design effect at D
    events), so D is found as the fixed point of
    power(D, futility rule of D) = ``power`` with the rule obeyed.  With
    ``binding_futility=True`` the efficacy boundaries also count on the rule
    (lower boundaries, fewer events).

    Matches R: ``rpact::getSampleSizeSurvival(design, hazardRatio = HR,
    allocationRatioPlanned = r / (1 - r), typeOfComputation = "Schoenfeld" |
    "Freedman")$maxNumberOfEvents``.

    >>> events_required(0.58)
    EventsRequired(events=121.03, fixed=121.03, inflation=1.00000, HR=0.58, alpha=0.025, power=0.85, method='schoenfeld')
    """
    hazard_ratio = _hr(hazard_ratio)
    alpha = _unit("alpha", alpha)
    power = _unit("power", power)
    allocation = _unit("allocation", allocation)
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if power <= alpha:
        raise ValueError(f"power must exceed alpha ({alpha:g}), got {power:g}")
    if design is not None:
        if not isinstance(design, _seq.GroupSequentialDesign):
            raise TypeError("design must be a GroupSequentialDesign from "
                            f"teachkit.sequential.group_sequential_design, got {type(design).__name__}")
        if abs(design.alpha - alpha) > 1e-12:
            raise ValueError(f"alpha ({alpha:g}) differs from the design's alpha ({design.alpha:g})")
        if design.has_futility:
            raise ValueError("design already has a futility rule; pass a design without one and "
                             "give futility_alpha here (its drift depends on the events)")
    if futility_alpha is not None:
        futility_alpha = _unit("futility_alpha", futility_alpha)
        if design is None or design.n_looks < 2:
            raise ValueError("futility_alpha needs a design with at least one interim look")
    if not isinstance(binding_futility, bool):
        raise TypeError(f"binding_futility must be True or False, got {binding_futility!r}")
    if binding_futility and futility_alpha is None:
        raise ValueError("binding_futility=True needs futility_alpha")

    scale = _effect_scale(hazard_ratio, allocation, method)
    fixed_drift = float(-ndtri(alpha) + ndtri(power))
    fixed = (fixed_drift / scale) ** 2
    n_looks = 1 if design is None else design.n_looks
    if design is None:
        inflation = 1.0
    elif futility_alpha is None:
        inflation = design.inflation_factor(power)
    else:
        def shortfall(d):
            theta = scale * math.sqrt(d)
            with_rule = _seq.group_sequential_design(
                design.information_fractions, alpha=design.alpha, spending=design.spending,
                parameter=design.parameter, futility_alpha=futility_alpha, futility_drift=theta,
                binding_futility=binding_futility, grid_points=design.grid_points)
            return with_rule.power(theta) - power
        lo = fixed * design.inflation_factor(power)
        hi = lo * 1.1
        while shortfall(hi) < 0:
            hi *= 1.2
        inflation = brentq(shortfall, lo, hi, xtol=1e-10) / fixed
    return EventsRequired(events=fixed * inflation, events_fixed=fixed, inflation_factor=inflation,
                          hazard_ratio=hazard_ratio, alpha=alpha, power=power,
                          allocation=allocation, method=method, n_looks=n_looks,
                          futility_alpha=futility_alpha, binding_futility=bool(binding_futility))


# --------------------------------------------------------------------------
# survival, accrual and calendar time
# --------------------------------------------------------------------------

def hazard_from_survival(survival, time):
    """Constant hazard giving survival S at ``time``: lambda = -log(S) / time.

    >>> round(hazard_from_survival(0.45, 2), 6)     # AALL1331 control arm, 2-year DFS 45%
    0.399254
    """
    survival = _unit("survival", survival)
    time = _positive("time", time)
    return -math.log(survival) / time


def _pieces(control_hazard, breakpoints):
    haz = np.atleast_1d(np.asarray(control_hazard, dtype=float)) if not isinstance(control_hazard, bool) else None
    if haz is None or haz.ndim != 1 or haz.size == 0:
        raise TypeError("control_hazard must be a number or a 1-D sequence of numbers")
    if not np.all(np.isfinite(haz)) or np.any(haz < 0):
        raise ValueError(f"control_hazard must be finite and >= 0, got {haz.tolist()}")
    starts = np.concatenate(([0.0], np.atleast_1d(np.asarray(breakpoints, dtype=float))))
    if starts.size != haz.size:
        raise ValueError(f"breakpoints must have one entry fewer than control_hazard "
                         f"({haz.size} hazards need {haz.size - 1} breakpoints), got {starts.size - 1}")
    if not np.all(np.isfinite(starts)) or np.any(np.diff(starts) <= 0):
        raise ValueError(f"breakpoints must be positive, finite and strictly increasing, "
                         f"got {starts[1:].tolist()}")
    return starts, haz


def _cumulative_integrals(x, starts, event_hazard, dropout):
    """F(x) = P(event by follow-up x) and G(x) = int_0^x F(u) du, piecewise exponential.

    Within piece j (start s_j, event hazard l_j, total hazard m_j = l_j + dropout),
    with d = x - s_j and S_j = P(no event, no dropout by s_j):
        F(x) = F_j + (l_j / m_j) S_j (1 - exp(-m_j d))
        G(x) = G_j + d F_j + (l_j / m_j) S_j (d - (1 - exp(-m_j d)) / m_j)
    """
    total = event_hazard + dropout
    lengths = np.diff(starts)
    ratio = np.divide(event_hazard, total, out=np.zeros_like(total), where=total > 0)

    def one_minus_exp_over(m, d):          # (1 - exp(-m d)) / m, -> d as m -> 0
        safe = np.where(m > 0, m, 1.0)
        return np.where(m > 0, -np.expm1(-safe * d) / safe, d)

    # values at the piece starts
    s_start = np.ones(starts.size)
    f_start = np.zeros(starts.size)
    g_start = np.zeros(starts.size)
    for j in range(starts.size - 1):
        d = lengths[j]
        e1 = one_minus_exp_over(total[j], d)
        s_start[j + 1] = s_start[j] * math.exp(-total[j] * d)
        f_start[j + 1] = f_start[j] + ratio[j] * s_start[j] * total[j] * e1
        g_start[j + 1] = g_start[j] + d * f_start[j] + ratio[j] * s_start[j] * (d - e1)
    j = np.clip(np.searchsorted(starts, x, side="right") - 1, 0, starts.size - 1)
    d = x - starts[j]
    e1 = one_minus_exp_over(total[j], d)
    f = f_start[j] + ratio[j] * s_start[j] * total[j] * e1
    g = g_start[j] + d * f_start[j] + ratio[j] * s_start[j] * (d - e1)
    return f, g


# --------------------------------------------------------------------------
# plateau: the mixture-cure model
# --------------------------------------------------------------------------
#
# When nearly every event happens early (AALL1331: all first DFS events but one
# within 2 years, Results, Primary End Point; Table 2, note b), the survival
# curves flatten: a share pi of patients never has an event.  The control arm then
# follows the mixture-cure model
#
#     S0(u) = pi + (1 - pi) exp(-Lambda(u)),   Lambda(u) = int_0^u lambda(s) ds,
#
# with lambda the (piecewise-constant) hazard of the patients who will have an
# event (the "latency" hazard), and the experimental arm S1(u) = S0(u) ** HR, so
# the hazards stay exactly proportional (the model of teachkit.simulate).  The
# expected events can then never exceed N * sum_arms share * (1 - pi_arm).

_QUAD_NODES, _QUAD_WEIGHTS = np.polynomial.legendre.leggauss(32)


def _check_cure(cure_fraction):
    cure_fraction = _number("cure_fraction", cure_fraction)
    if not 0.0 <= cure_fraction < 1.0:
        raise ValueError(f"cure_fraction must be in [0, 1), got {cure_fraction:g}")
    return cure_fraction


def latency_hazard(survival, time, cure_fraction):
    """Latency hazard lambda of the mixture-cure model with S0(``time``) = ``survival``.

    S0(t) = pi + (1 - pi) exp(-lambda t)  =>  lambda = -log((S - pi) / (1 - pi)) / t,
    the parameterization of :func:`teachkit.simulate.simulate_trials`.  With
    pi = 0 it is :func:`hazard_from_survival`.

    >>> round(latency_hazard(0.45, 2, 0.0), 6) == round(hazard_from_survival(0.45, 2), 6)
    True
    >>> round(latency_hazard(0.45, 2, 0.40), 4)
    1.2425
    """
    survival = _unit("survival", survival)
    time = _positive("time", time)
    cure_fraction = _check_cure(cure_fraction)
    if cure_fraction >= survival:
        raise ValueError(f"cure_fraction ({cure_fraction:g}) must be below survival ({survival:g}): "
                         "the curve cannot fall below its plateau")
    return -math.log((survival - cure_fraction) / (1.0 - cure_fraction)) / time


def cure_fraction_from_survival(survival, time, median_latency):
    """Plateau pi such that S0(``time``) = ``survival`` when the patients who have
    an event have it after an exponential time with median ``median_latency``.

    With lambda = log(2) / median_latency and q = exp(-lambda t) (the share of
    eventual events still to come after t):

        pi = (S - q) / (1 - q)

    AALL1331 (Results, Primary End Point): median time to a first DFS event
    6 months, nearly all events within 2 years; with the planners' control
    2-year DFS of 45% the plateau is about 41% (a reconstruction: the paper
    states no cure model):

    >>> round(cure_fraction_from_survival(0.45, 2.0, 0.5), 4)
    0.4133
    """
    survival = _unit("survival", survival)
    time = _positive("time", time)
    median_latency = _positive("median_latency", median_latency)
    q = math.exp(-math.log(2.0) / median_latency * time)
    if q >= survival:
        raise ValueError(f"median_latency ({median_latency:g}) is too long: even with no plateau "
                         f"S({time:g}) would exceed {survival:g}")
    return (survival - q) / (1.0 - q)


def maximum_events(patients, cure_fraction, hazard_ratio, *, allocation=0.5):
    """Most events ``patients`` can ever produce under a plateau (no dropout):

        D_max = N [ r (1 - pi ** HR) + (1 - r) (1 - pi) ]

    the limit of :func:`expected_events` with ``cure_fraction`` as follow-up
    grows without end.  AALL1331 with the published 2-year DFS taken as the
    plateaus (39.0% and 54.4%, Results, Primary End Point) and 208 patients:
    about 111 events, not 131.

    >>> import math
    >>> hr = math.log(0.544) / math.log(0.39)
    >>> round(maximum_events(208, 0.39, hr), 1)
    110.9
    """
    patients = _positive("patients", patients)
    cure_fraction = _check_cure(cure_fraction)
    hazard_ratio = _positive("hazard_ratio", hazard_ratio)
    allocation = _unit("allocation", allocation)
    return patients * (allocation * (1.0 - cure_fraction ** hazard_ratio)
                       + (1.0 - allocation) * (1.0 - cure_fraction))


def _cure_density(s, starts, haz, hazard_ratio, cure_fraction):
    """f(s) = -dS1/ds with S1 = S0 ** HR, S0 = pi + (1 - pi) exp(-Lambda(s))."""
    j = np.clip(np.searchsorted(starts, s, side="right") - 1, 0, starts.size - 1)
    cum = np.concatenate(([0.0], np.cumsum(haz[:-1] * np.diff(starts))))
    big_lambda = cum[j] + haz[j] * (s - starts[j])
    latent = np.exp(-big_lambda)
    s0 = cure_fraction + (1.0 - cure_fraction) * latent
    return hazard_ratio * s0 ** (hazard_ratio - 1.0) * (1.0 - cure_fraction) * haz[j] * latent


def _cure_horizon(starts, haz):
    """A follow-up time after which exp(-Lambda) < 1e-17: nothing left to integrate."""
    cum = np.concatenate(([0.0], np.cumsum(haz[:-1] * np.diff(starts))))
    if haz[-1] > 0:
        return float(starts[-1] + max(0.0, 40.0 - cum[-1]) / haz[-1])
    return float(starts[-1]) if starts.size > 1 else 0.0


_PANEL_STEPS = np.linspace(0.0, 1.0, 9)     # 8 equal panels per piece


def _cure_integrals(x, starts, haz, hazard_ratio, cure_fraction, dropout):
    """F(x) = int_0^x f(s) e^{-eta s} ds and G(x) = int_0^x (x - s) f(s) e^{-eta s} ds
    (= int_0^x F(u) du), by 32-point Gauss-Legendre on 8 equal panels in each piece of
    [0, x] between breakpoints (the integrand is smooth inside a piece; the panels are finer
    where the latency decays fast). All x at once: a piece past x has width 0."""
    x = np.atleast_1d(np.asarray(x, dtype=float))
    top = np.minimum(x.ravel(), _cure_horizon(starts, haz))[:, None]      # (n, 1)
    ends = np.append(starts[1:], np.inf)[None, :]                          # piece k: [starts_k, ends_k)
    a = np.minimum(starts[None, :], np.maximum(top, 0.0))                  # (n, pieces)
    b = np.maximum(a, np.minimum(ends, top))
    lo = a[..., None] + (b - a)[..., None] * _PANEL_STEPS[:-1]        # (n, pieces, 8)
    hi = a[..., None] + (b - a)[..., None] * _PANEL_STEPS[1:]
    lo, hi = lo[..., None], hi[..., None]
    s = (lo + hi) / 2 + (hi - lo) / 2 * _QUAD_NODES                        # (n, pieces, 8, 32)
    w = (hi - lo) / 2 * _QUAD_WEIGHTS
    dens = _cure_density(s, starts, haz, hazard_ratio, cure_fraction) * np.exp(-dropout * s)
    fx = np.sum(w * dens, axis=(1, 2, 3))
    gx = np.where(top[:, 0] > 0, x.ravel() * fx - np.sum(w * s * dens, axis=(1, 2, 3)), 0.0)
    fx = np.where(top[:, 0] > 0, fx, 0.0)
    return fx.reshape(x.shape), gx.reshape(x.shape)


def event_probability(follow_up, control_hazard, hazard_ratio=1.0, breakpoints=(), dropout_hazard=0.0,
                      *, cure_fraction=None):
    """P(event by follow-up time u) in one arm with piecewise-constant hazards.

    Hazard HR * lambda_j on [s_j, s_{j+1}) (s_0 = 0, ``breakpoints`` = s_1, ...),
    competing with a constant dropout hazard eta:

        F(u) = int_0^u HR lambda(s) exp(-HR Lambda(s) - eta s) ds

    With ``cure_fraction`` pi (a plateau), ``control_hazard`` is the latency
    hazard of the mixture-cure model S0 = pi + (1 - pi) exp(-Lambda), the arm
    follows S0 ** HR, and F(u) = int_0^u f(s) exp(-eta s) ds with f = -d(S0 ** HR)/ds
    (numerical quadrature; without dropout F = 1 - S0(u) ** HR exactly).

    >>> round(float(event_probability(2.0, hazard_from_survival(0.45, 2))), 4)
    0.55
    >>> lam = latency_hazard(0.45, 2, 0.40)            # plateau at 40%
    >>> round(float(event_probability(2.0, lam, cure_fraction=0.40)), 4)
    0.55
    >>> round(float(event_probability(50.0, lam, cure_fraction=0.40)), 4)   # never above 1 - pi
    0.6
    """
    u = np.asarray(follow_up, dtype=float)
    if not np.all(np.isfinite(u)) or np.any(u < 0):
        raise ValueError(f"follow_up must be finite and >= 0, got {follow_up!r}")
    starts, haz = _pieces(control_hazard, breakpoints)
    hazard_ratio = _positive("hazard_ratio", hazard_ratio)
    dropout_hazard = _number("dropout_hazard", dropout_hazard)
    if dropout_hazard < 0:
        raise ValueError(f"dropout_hazard must be >= 0, got {dropout_hazard}")
    if cure_fraction is not None:
        cure_fraction = _check_cure(cure_fraction)
        f, _ = _cure_integrals(u, starts, haz, hazard_ratio, cure_fraction, dropout_hazard)
        return f.reshape(u.shape) if u.ndim else f.reshape(())
    f, _ = _cumulative_integrals(u, starts, hazard_ratio * haz, dropout_hazard)
    return f


def _check_plan(patients, accrual_time, hazard_ratio, allocation, dropout_hazard):
    patients = _positive("patients", patients)
    accrual_time = _positive("accrual_time", accrual_time)
    hazard_ratio = _positive("hazard_ratio", hazard_ratio)
    allocation = _unit("allocation", allocation)
    dropout_hazard = _number("dropout_hazard", dropout_hazard)
    if dropout_hazard < 0:
        raise ValueError(f"dropout_hazard must be >= 0, got {dropout_hazard}")
    return patients, accrual_time, hazard_ratio, allocation, dropout_hazard


def _events_and_rate(c, patients, accrual_time, starts, haz, hazard_ratio, allocation,
                     dropout_hazard, cure_fraction=None):
    """Expected events by calendar time ``c`` (see :func:`expected_events`) and their rate
    d/dc = (N / A) sum_arms share * (F(c) - F(c - A) [c > A]), for every ``c`` at once."""
    c = np.asarray(c, dtype=float)
    lo = np.maximum(c - accrual_time, 0.0)
    total = np.zeros_like(c)
    rate = np.zeros_like(c)
    for share, hr in ((allocation, hazard_ratio), (1.0 - allocation, 1.0)):
        if cure_fraction is None:
            f_hi, g_hi = _cumulative_integrals(c, starts, hr * haz, dropout_hazard)
            f_lo, g_lo = _cumulative_integrals(lo, starts, hr * haz, dropout_hazard)
        else:
            f_hi, g_hi = _cure_integrals(c, starts, haz, hr, cure_fraction, dropout_hazard)
            f_lo, g_lo = _cure_integrals(lo, starts, haz, hr, cure_fraction, dropout_hazard)
            f_hi, g_hi = f_hi.reshape(c.shape), g_hi.reshape(c.shape)
            f_lo, g_lo = f_lo.reshape(c.shape), g_lo.reshape(c.shape)
        total = total + share * (g_hi - g_lo)
        rate = rate + share * (f_hi - np.where(c > accrual_time, f_lo, 0.0))
    return patients / accrual_time * total, patients / accrual_time * rate


def _events_at(c, patients, accrual_time, starts, haz, hazard_ratio, allocation, dropout_hazard,
               cure_fraction=None):
    return _events_and_rate(c, patients, accrual_time, starts, haz, hazard_ratio, allocation,
                            dropout_hazard, cure_fraction)[0]


def expected_events(calendar_time, patients, accrual_time, control_hazard, hazard_ratio, *,
                    breakpoints=(), allocation=0.5, dropout_hazard=0.0, cure_fraction=None):
    """Expected number of events by calendar time c (trial start = 0).

    ``patients`` enter uniformly over [0, A] (A = ``accrual_time``), a fraction
    ``allocation`` to the experimental arm (hazards HR * control); a patient
    entering at e is followed to c (administrative censoring), so

        E[D(c)] = (N / A) sum_arms share * int_{max(0, c - A)}^{c} F_arm(u) du

    with F_arm from :func:`event_probability` (closed form, piecewise
    exponential).  Matches R: ``rpact::getEventProbabilities(c, accrualTime =
    c(0, A), maxNumberOfSubjects = N, lambda2 = control_hazard,
    piecewiseSurvivalTime = c(0, breakpoints), hazardRatio = HR)`` times N.

    AALL1331: 220 patients over 4.5 years, control 2-year DFS 45%, HR 0.58:

    >>> lam = hazard_from_survival(0.45, 2)
    >>> expected_events([4.5, 5.5], 220, 4.5, lam, 0.58).round(1)
    array([100.6, 131.5])

    With ``cure_fraction`` pi the control arm plateaus (mixture cure, see
    :func:`latency_hazard`; ``control_hazard`` is then the latency hazard) and
    the events level off at :func:`maximum_events`.  Same plan, plateau at 40%
    (reconstruction):

    >>> lam = latency_hazard(0.45, 2, 0.40)
    >>> expected_events([4.5, 5.5, 100.0], 220, 4.5, lam, 0.58, cure_fraction=0.40).round(1)
    array([ 90.7, 105.2, 111.3])
    """
    c = np.asarray(calendar_time, dtype=float)
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError(f"calendar_time must be finite and >= 0, got {calendar_time!r}")
    patients, accrual_time, hazard_ratio, allocation, dropout_hazard = _check_plan(
        patients, accrual_time, hazard_ratio, allocation, dropout_hazard)
    starts, haz = _pieces(control_hazard, breakpoints)
    if cure_fraction is not None:
        cure_fraction = _check_cure(cure_fraction)
    return _events_at(c, patients, accrual_time, starts, haz, hazard_ratio, allocation, dropout_hazard,
                      cure_fraction)


def analysis_times(events, patients, accrual_time, control_hazard, hazard_ratio, *,
                   breakpoints=(), allocation=0.5, dropout_hazard=0.0, cure_fraction=None):
    """Calendar times at which the expected events reach ``events`` (root of
    :func:`expected_events`), e.g. when each planned look is expected.

    Matches R: ``rpact::getSampleSizeSurvival(...)$analysisTime``.

    >>> lam = hazard_from_survival(0.45, 2)
    >>> analysis_times([131 / 3, 2 * 131 / 3, 131], 220, 4.5, lam, 0.58).round(2)
    array([2.74, 4.13, 5.48])
    """
    d = np.atleast_1d(np.asarray(events, dtype=float))
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise ValueError(f"events must be finite and > 0, got {events!r}")
    patients, accrual_time, hazard_ratio, allocation, dropout_hazard = _check_plan(
        patients, accrual_time, hazard_ratio, allocation, dropout_hazard)
    starts, haz = _pieces(control_hazard, breakpoints)
    if cure_fraction is not None:
        cure_fraction = _check_cure(cure_fraction)

    def count(c):
        return _events_and_rate(c, patients, accrual_time, starts, haz, hazard_ratio, allocation,
                                dropout_hazard, cure_fraction)

    ceiling = float(count(np.array([accrual_time + 1e6]))[0][0])
    if np.any(d >= ceiling):
        raise ValueError(f"events ({d.max():g}) can never be reached: {patients:g} patients are "
                         f"expected to have at most {ceiling:.1f} events")
    # every look at once: Newton's method on E(c) = d (E rises with c), kept inside a
    # bracket [lo, hi] that halves whenever a Newton step would leave it
    lo, hi = np.zeros(d.size), np.full(d.size, float(accrual_time))
    while np.any(short := count(hi)[0] < d):
        hi = np.where(short, 2.0 * hi, hi)
    out = (lo + hi) / 2
    for _ in range(200):
        value, rate = count(out)
        miss = value - d
        lo, hi = np.where(miss < 0, out, lo), np.where(miss > 0, out, hi)
        newton = miss / np.where(rate > 0, rate, np.inf)
        if np.all(np.abs(newton) <= 1e-12 * np.maximum(out, 1.0)):
            out = out - newton
            break
        step = out - newton
        out = np.where((step >= lo) & (step <= hi), step, (lo + hi) / 2)
    return out if np.ndim(events) else float(out[0])


def patients_required(events, accrual_time, follow_up, control_hazard, hazard_ratio, *,
                      breakpoints=(), allocation=0.5, dropout_hazard=0.0, cure_fraction=None):
    """Patients N to accrue uniformly over A so that ``events`` are expected by
    the end of minimum follow-up (calendar time A + ``follow_up``):

        N = D / P(event by A + F),  P = (1 / A) sum_arms share * int_F^{A+F} F_arm(u) du

    ``events`` may be a number or an :class:`EventsRequired`.  Matches R:
    ``rpact::getSampleSizeSurvival(..., accrualTime = c(0, A), followUpTime = F)$maxNumberOfSubjects``.

    >>> lam = hazard_from_survival(0.45, 2)
    >>> round(patients_required(131, 4.5, 1.0, lam, 0.58), 1)
    219.2

    Under a plateau (``cure_fraction``, see :func:`latency_hazard`) each patient
    contributes at most r (1 - pi ** HR) + (1 - r) (1 - pi) events, so many more
    patients are needed:

    >>> lam = latency_hazard(0.45, 2, 0.40)
    >>> round(patients_required(131, 4.5, 1.0, lam, 0.58, cure_fraction=0.40), 1)
    274.0
    """
    if isinstance(events, EventsRequired):
        events = events.events
    events = _positive("events", events)
    follow_up = _number("follow_up", follow_up)
    if follow_up < 0:
        raise ValueError(f"follow_up must be >= 0, got {follow_up}")
    per_patient = float(expected_events(accrual_time + follow_up, 1.0, accrual_time, control_hazard,
                                        hazard_ratio, breakpoints=breakpoints,
                                        allocation=allocation, dropout_hazard=dropout_hazard,
                                        cure_fraction=cure_fraction))
    return events / per_patient


def power_at_events(hazard_ratio, events, alpha=0.025, *, allocation=0.5, design=None):
    """Power of the one-sided log-rank test after ``events`` events at true ``hazard_ratio``.

    Fixed design (Schoenfeld 1981):  power = Phi(theta - z_{1-alpha}),
    theta = -log(HR) sqrt(D r (1 - r)).  With a group-sequential ``design``
    (same alpha): ``design.power(theta)``, the chance of crossing an efficacy
    boundary at some look (futility obeyed if the design has a rule).

    AALL1331's 131 planned events at the hazard ratio finally observed (0.70,
    Results, Primary End Point) instead of the planned 0.58:

    >>> round(power_at_events(0.70, 131), 3)
    0.532
    """
    hazard_ratio = _hr(hazard_ratio)
    events = _positive("events", events)
    alpha = _unit("alpha", alpha)
    allocation = _unit("allocation", allocation)
    theta = _seq.drift_from_hazard_ratio(hazard_ratio, events, allocation)
    if design is None:
        return float(ndtr(theta + ndtri(alpha)))
    if not isinstance(design, _seq.GroupSequentialDesign):
        raise TypeError("design must be a GroupSequentialDesign from "
                        f"teachkit.sequential.group_sequential_design, got {type(design).__name__}")
    if abs(design.alpha - alpha) > 1e-12:
        raise ValueError(f"alpha ({alpha:g}) differs from the design's alpha ({design.alpha:g})")
    return float(design.power(theta))


# --------------------------------------------------------------------------
# why 131 events?
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedEventsExplanation:
    """Two readings of a trial's planned number of events, and the candidate calculations.

    ``rows``: tuples (description, events_required, power_at_planned) sorted
    by closeness to ``events_planned`` (the "formula" reading: events from a power
    calculation).  ``power_at_planned`` is the power the same design has with
    ``events_planned`` events (futility obeyed).  ``anticipated`` (the other reading:
    the events ``patients`` would produce): the events expected from ``patients``
    accrued uniformly over ``accrual_time`` years and followed ``follow_up`` more years,
    under exponential control DFS ``control_survival`` at 2 years and the design HR
    (:func:`expected_events`); ``readings`` says both in words, neither preferred.
    """

    events_planned: float
    hazard_ratio: float
    alpha: float
    power: float
    futility_alpha: float
    rows: tuple
    anticipated: float = float("nan")
    patients: float = float("nan")
    accrual_time: float = float("nan")
    follow_up: float = float("nan")

    @property
    def readings(self) -> tuple:
        """The two readings of the planned events, in words (neither is documented)."""
        closest = self.rows[0]
        return (f"events from a power calculation: {closest[0]} gives {closest[1]:.1f}; the formula, "
                "software and timing of the looks are not in the paper",
                f"events anticipated from the patients: {self.patients:g} patients accrued over "
                f"{self.accrual_time:.1f} years and followed {self.follow_up:g} more year(s) give "
                f"{self.anticipated:.1f} expected events under the design's exponential model "
                "(the paper speaks of 'anticipated' events and sizes the trial at 110 a group)")

    def table(self) -> str:
        w = max(len(r[0]) for r in self.rows)
        lines = [f"{'calculation':<{w}s}  {'events':>7s}  {'power at ' + format(self.events_planned, 'g'):>13s}"]
        lines += [f"{d:<{w}s}  {e:>7.2f}  {p:>13.4f}" for d, e, p in self.rows]
        if math.isfinite(self.anticipated):
            lines += ["", "Two readings, neither documented:"] + [f"* {r}" for r in self.readings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"PlannedEventsExplanation(events_planned={self.events_planned:g})\n{self.table()}"

    def _repr_html_(self) -> str:
        return f"<pre>{self.table()}</pre>"

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame(list(self.rows), columns=["calculation", "events", "power_at_planned"])


def explain_planned_events(events_planned=131, hazard_ratio=0.58, alpha=0.025, power=0.85,
                           futility_alpha=0.024, looks=((1 / 3, 2 / 3, 1.0), (0.5, 0.75, 1.0)), *,
                           patients=220, accrual_time=1641 / 365.25, follow_up=1.0, control_survival=0.45):
    """Where might the planned events come from? (AALL1331: 131.)  Two readings, neither documented.

    *A power calculation.*  For the fixed design and each set of O'Brien-Fleming-type
    ``looks``, with and without the futility rule (testing the alternative at
    ``futility_alpha``, obeyed; non-binding, and binding where the efficacy boundaries
    count on it), by Schoenfeld's and Freedman's formulas: the events for ``power``, and
    the power that ``events_planned`` events give.  For AALL1331 Schoenfeld's formula does
    not get there: 121.03 (fixed), 122.53 (three equally spaced looks), 126.25 (plus the
    futility rule at .024, non-binding, obeyed), 124.87 (binding).  Freedman's formula with
    two equally spaced interim analyses and the futility rule binding gives 131.10 events
    (-> 131); with looks at 1/2, 3/4 and a non-binding rule, 131.49.  rpact's
    getSampleSizeSurvival, iterated to the same fixed point, gives the same numbers
    (tests/data/sequential_rpact_extra.R).

    *The events the patients would produce.*  The paper calls the 131 events "anticipated"
    (Results, Early Closure of Randomization) and sizes the trial at 110 patients a group
    (Methods, Statistical Analysis): ``patients`` (220) accrued uniformly over
    ``accrual_time`` years (1641 days, January 1, 2015 to June 30, 2019) and followed ``follow_up`` (1) more
    year under exponential control DFS (45% at 2 years) and the design HR give 131.5 expected
    events (:func:`expected_events`; ``.anticipated``).

    The paper names neither the formula, the software, the spacing of the looks nor the
    follow-up, so both are reconstructions; neither is more plausible on the paper's
    evidence.  By Schoenfeld's formula 131 events give 86.1% power with equal looks and
    the rule followed (87.3% if ignored).

    >>> ex = explain_planned_events()
    >>> ex.rows[0][0], round(ex.rows[0][1], 2), round(ex.anticipated, 1)
    ('Freedman, looks 0.333/0.667/1, binding futility .024', 131.1, 131.5)
    """
    hazard_ratio = _hr(hazard_ratio)
    events_planned = _positive("events_planned", events_planned)
    rows = []
    for method in _METHODS:
        scale = _effect_scale(hazard_ratio, 0.5, method)
        theta_planned = scale * math.sqrt(events_planned)
        fixed = events_required(hazard_ratio, alpha, power, method=method)
        fixed_power = float(ndtr(theta_planned + ndtri(alpha)))
        rows.append((f"{method.capitalize()}, fixed design", fixed.events, fixed_power))
        for t in looks:
            gs = _seq.group_sequential_design(t, alpha=alpha)
            label = "/".join(f"{x:.3g}" for x in t)
            e = events_required(hazard_ratio, alpha, power, design=gs, method=method)
            rows.append((f"{method.capitalize()}, looks {label}", e.events, gs.power(theta_planned)))
            e = events_required(hazard_ratio, alpha, power, design=gs, method=method,
                                futility_alpha=futility_alpha)
            with_rule = _seq.group_sequential_design(t, alpha=alpha, futility_alpha=futility_alpha,
                                                     futility_drift=theta_planned)
            rows.append((f"{method.capitalize()}, looks {label}, futility {format(futility_alpha, 'g').lstrip('0')}",
                         e.events, with_rule.power(theta_planned)))
            e = events_required(hazard_ratio, alpha, power, design=gs, method=method,
                                futility_alpha=futility_alpha, binding_futility=True)
            binding = _seq.group_sequential_design(t, alpha=alpha, futility_alpha=futility_alpha,
                                                   futility_drift=theta_planned, binding_futility=True)
            rows.append((f"{method.capitalize()}, looks {label}, binding futility "
                         f"{format(futility_alpha, 'g').lstrip('0')}", e.events, binding.power(theta_planned)))
    rows.sort(key=lambda r: abs(r[1] - events_planned))
    patients = _positive("patients", patients)
    accrual_time = _positive("accrual_time", accrual_time)
    follow_up = _number("follow_up", follow_up)
    if follow_up < 0:
        raise ValueError(f"follow_up must be >= 0, got {follow_up}")
    control_hazard = hazard_from_survival(control_survival, 2.0)
    anticipated = float(expected_events(accrual_time + follow_up, patients, accrual_time, control_hazard,
                                        hazard_ratio))
    return PlannedEventsExplanation(events_planned, hazard_ratio, alpha, power, futility_alpha,
                                    tuple(rows), anticipated, patients, accrual_time, follow_up)
