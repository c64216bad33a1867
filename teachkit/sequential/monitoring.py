"""Monitoring an ongoing trial: hazard ratio from Z, B-values, conditional and
predictive power, and the interim report a monitoring committee reads."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from scipy.special import ndtr, ndtri

from ._checks import _fraction_open, _hazard_ratio, _probability, _real
from .boundaries import GroupSequentialDesign, drift_from_hazard_ratio, group_sequential_design

@dataclass(frozen=True)
class HazardRatioEstimate:
    """Hazard ratio implied by a log-rank Z and the number of events."""

    estimate: float
    ci_lower: float
    ci_upper: float
    conf_level: float
    z: float
    events: float

    def __repr__(self) -> str:
        return (f"HazardRatioEstimate({self.estimate:.3f}, {100 * self.conf_level:g}% CI "
                f"{self.ci_lower:.3f}-{self.ci_upper:.3f}; Z={self.z:.3f}, D={self.events:g})")

    def _repr_html_(self) -> str:
        return f"<pre>{self!r}</pre>"


def hazard_ratio_from_z(z, events, allocation=0.5, conf_level=0.95) -> HazardRatioEstimate:
    """HR = exp(-Z / sqrt(D r (1 - r))) with CI exp(log HR -/+ z_{1-a/2} / sqrt(D r (1 - r))).

    The log-rank Z divided by sqrt(D r (1 - r)) estimates -log(HR) with
    standard error 1 / sqrt(D r (1 - r)) (Schoenfeld 1981); for 1:1
    allocation HR = exp(-2 Z / sqrt(D)).

    >>> hazard_ratio_from_z(1.5548, 80)
    HazardRatioEstimate(0.706, 95% CI 0.456-1.094; Z=1.555, D=80)
    """
    z = _real("z", z)
    events = _real("events", events)
    if events <= 0:
        raise ValueError(f"events must be > 0, got {events}")
    allocation = _probability("allocation", allocation)
    conf_level = _probability("conf_level", conf_level)
    scale = math.sqrt(events * allocation * (1.0 - allocation))
    log_hr = -z / scale
    half = float(-ndtri((1.0 - conf_level) / 2.0)) / scale
    return HazardRatioEstimate(math.exp(log_hr), math.exp(log_hr - half), math.exp(log_hr + half),
                               conf_level, z, events)


def b_value(z, information_fraction):
    """Lan & Wittes (1988) B-value B(t) = Z(t) sqrt(t): the score process on the
    information-fraction scale, a Brownian motion with drift theta.

    >>> round(float(b_value(1.5548, 80 / 131)), 4)
    1.215
    """
    z = _real("z", z, allow_array=True)
    t = _fraction_open("information_fraction", information_fraction, allow_one=True)
    return z * np.sqrt(t)


def _final_critical_value(design_or_final_z):
    if isinstance(design_or_final_z, GroupSequentialDesign):
        return float(design_or_final_z.z_efficacy[-1])
    return _real("design_or_final_z", design_or_final_z)


def conditional_power(z, information_fraction, design_or_final_z, drift="trend"):
    """Probability of Z(1) >= c at the final analysis given Z(t) = z now.

    With B(t) = z sqrt(t) and future increment B(1) - B(t) ~ N(theta (1 - t), 1 - t)
    (Lan & Wittes 1988):

        CP = 1 - Phi((c - B(t) - theta (1 - t)) / sqrt(1 - t))

    ``drift``: a number (e.g. the design effect, ``drift_from_hazard_ratio``),
    "trend" (theta = B(t) / t, the current estimate) or "null" (theta = 0).
    ``design_or_final_z`` is a design (its final efficacy boundary is used) or
    the final critical value c itself.  Intervening interim looks are ignored,
    as in Lan & Wittes.  Vectorized over ``z``.

    >>> round(float(conditional_power(1.5548, 80 / 131, 1.9827, drift="trend")), 4)
    0.5044
    """
    z = _real("z", z, allow_array=True)
    t = _fraction_open("information_fraction", information_fraction)
    c = _final_critical_value(design_or_final_z)
    b = z * np.sqrt(t)
    if isinstance(drift, str):
        if drift == "trend":
            theta = b / t
        elif drift == "null":
            theta = 0.0
        else:
            raise ValueError(f"drift must be a number, 'trend' or 'null', got {drift!r}")
    else:
        theta = _real("drift", drift)
    result = ndtr((b + theta * (1.0 - t) - c) / np.sqrt(1.0 - t))
    return float(result) if np.ndim(result) == 0 else result


def predictive_power(z, information_fraction, design_or_final_z):
    """Conditional power averaged over the flat-prior posterior of the drift.

    With a flat prior, theta | B(t) ~ N(B(t) / t, 1 / t), so
    B(1) | B(t) ~ N(B(t) / t, (1 - t) / t) and (Spiegelhalter, Freedman &
    Blackburn 1986)

        PP = Phi((z - c sqrt(t)) / sqrt(1 - t)).

    >>> round(float(predictive_power(1.5548, 80 / 131, 1.9827)), 4)
    0.5034
    """
    z = _real("z", z, allow_array=True)
    t = _fraction_open("information_fraction", information_fraction)
    c = _final_critical_value(design_or_final_z)
    result = ndtr((z - c * np.sqrt(t)) / np.sqrt(1.0 - t))
    return float(result) if np.ndim(result) == 0 else result


@dataclass(frozen=True)
class InterimReport:
    """What a data monitoring committee's table shows at one interim look."""

    events: float
    events_planned: float
    information_fraction: float
    z: float
    p_one_sided: float
    b_value: float
    hazard_ratio: HazardRatioEstimate
    z_efficacy: float
    p_efficacy: float
    efficacy_met: bool
    z_futility: float
    p_alternative: float
    futility_met: bool
    drift_design: float
    hazard_ratio_design: float
    conditional_power_design: float
    conditional_power_trend: float
    conditional_power_null: float
    predictive_power: float
    design: GroupSequentialDesign = field(repr=False)
    note: str = ""                  # assumptions behind the inputs (shown as the last row)

    #: Rows whose note is a formula: quantity -> (what the number means in plain words, for a
    #: learner's view; the formula as text, for the statistician's table; the formula as LaTeX).
    FORMULAS = MappingProxyType({
        "log-rank Z (one-sided P)": (
            "how strong the evidence of benefit is: larger is stronger",
            "Z = Phi^-1(1 - P)", r"Z = \Phi^{-1}(1 - P)"),
        "B-value": (
            "Z weighted by the information so far",
            "B = Z sqrt(t)", r"B(t) = Z\sqrt{t}"),
        "hazard ratio": (
            "below 1 favours the new treatment",
            "exp(-Z / sqrt(D r (1 - r)))", r"\mathrm{HR} = \exp\!\left(-Z / \sqrt{D\,r(1 - r)}\right)"),
    })

    def _rows(self, words: bool = False):
        """(quantity, value, note) rows; ``words``: the notes in plain words instead of formulas
        (:meth:`rows_in_words`)."""
        hr = self.hazard_ratio
        fut = "no futility rule" if not math.isfinite(self.z_futility) else \
            (f"Z < {self.z_futility:.3f}, i.e. P for HR = {self.hazard_ratio_design:g} "
             f"< {self.design.futility_alpha:g}; here {self.p_alternative:.3f}")

        def note(quantity):
            meaning, text, _ = self.FORMULAS[quantity]
            return meaning if words else text

        return [
            ("events / planned", f"{self.events:g} / {self.events_planned:g}",
             f"information fraction {self.information_fraction:.3f}"),
            ("log-rank Z (one-sided P)", f"{self.z:.3f} (P = {self.p_one_sided:.4f})",
             note("log-rank Z (one-sided P)")),
            ("B-value", f"{self.b_value:.3f}", note("B-value")),
            ("hazard ratio", f"{hr.estimate:.3f} ({100 * hr.conf_level:g}% CI {hr.ci_lower:.3f}-{hr.ci_upper:.3f})",
             note("hazard ratio")),
            ("efficacy boundary", f"Z >= {self.z_efficacy:.4f} (P <= {self.p_efficacy:.4f})",
             "met" if self.efficacy_met else "not met"),
            ("futility boundary", fut, "met" if self.futility_met else "not met"),
            ("design drift", f"{self.drift_design:.4f}", f"HR {self.hazard_ratio_design:g} at {self.events_planned:g} events"),
            ("conditional power, design effect", f"{self.conditional_power_design:.3f}", f"HR {self.hazard_ratio_design:g}"),
            ("conditional power, current trend", f"{self.conditional_power_trend:.3f}", f"HR {hr.estimate:.3f}"),
            ("conditional power, " + ("no effect" if words else "H0"), f"{self.conditional_power_null:.3f}", "HR 1"),
            ("predictive power (flat prior)", f"{self.predictive_power:.3f}", ""),
        ] + ([("assumptions", self.note, "")] if self.note else [])

    def rows_in_words(self):
        """The table's rows for a learner's page: each note says what the number means, in
        plain words, where :meth:`table` gives its formula (:meth:`formulas`).

        >>> r = interim_report(80, 131, 0.06, hazard_ratio_design=0.58)
        >>> r.rows_in_words()[2]
        ('B-value', '1.215', 'Z weighted by the information so far')
        """
        return self._rows(words=True)

    def formulas(self, latex: bool = False):
        """The formulas behind the table's Z, B-value and hazard ratio: ``(quantity, formula)``,
        as text (``Z = Phi^-1(1 - P)``) or as LaTeX for a lesson's math (``latex=True``);
        r = the share randomized to the new arm (1/2 for 1:1).

        >>> [f for _, f in interim_report(80, 131, 0.06, hazard_ratio_design=0.58).formulas()]
        ['Z = Phi^-1(1 - P)', 'B = Z sqrt(t)', 'exp(-Z / sqrt(D r (1 - r)))']
        """
        return [(q, tex if latex else text) for q, (_, text, tex) in self.FORMULAS.items()]

    def table(self) -> str:
        rows = self._rows()
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows if r[0] != "assumptions")
        return "\n".join(f"{a:<{w0}s}  {b:<{w1}s}  {c}".rstrip() for a, b, c in rows)

    def __repr__(self) -> str:
        return f"InterimReport(\n{self.table()}\n)"

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in self._rows())
        return f"<table><tr><th>quantity</th><th>value</th><th>note</th></tr>{body}</table>"

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame(self._rows(), columns=["quantity", "value", "note"]).set_index("quantity")


def interim_report(events, events_planned, p_one_sided=None, *, z=None, hazard_ratio_design,
                   planned_fractions=(1 / 3, 2 / 3, 1.0), previous_events=(), remaining_fractions=None,
                   alpha=0.025, spending="obrien-fleming", parameter=None, futility_alpha=None,
                   allocation=0.5, conf_level=0.95, note="") -> InterimReport:
    """Everything a monitoring committee's table shows at an interim look.

    The design is re-computed at the observed information fractions
    (``previous_events`` looks, then this one, then the planned looks beyond
    it; :meth:`GroupSequentialDesign.at_observed`).  ``remaining_fractions``
    (information fractions, ending at 1) names the looks still to come when
    this look *takes the place of* a planned one: a look at 61% taken as the
    second interim of a plan at 1/3 and 2/3 is followed by the final analysis
    only, ``remaining_fractions=[1.0]``; by default the planned fractions beyond
    this look remain.  Give the one-sided P of
    the log-rank test (benefit direction) or its Z.  The futility rule (when
    ``futility_alpha`` is given) tests the design alternative: stop when
    Z < theta sqrt(t) - z_{1 - futility_alpha}, theta = drift of
    ``hazard_ratio_design`` at ``events_planned`` events.  ``note`` (text) states
    the assumptions behind the inputs; it is shown as the table's last row.

    AALL1331 (Brown et al. 2021, Results, Early Closure of Randomization: 80 of 131
    events, P = .06, critical P = .004).  A *reconstruction* (teachkit's canonical one,
    :func:`teachkit.aall1331.monitoring_plan`): the paper says neither that P = .06 is
    one-sided nor which of its 2 planned interim analyses the 80-event look was, nor
    their timing; here P is read as one-sided (the trial's test was one-sided,
    Statistical Analysis), the interims as planned at 1/3 and 2/3 of the events, and
    the 80-event look as the second, taken at 61% after a first at 1/3.  The critical
    P it gives, .0041, matches the published .004:

    >>> r = interim_report(80, 131, 0.06, hazard_ratio_design=0.58, futility_alpha=0.024,
    ...                    previous_events=[131 / 3], remaining_fractions=[1.0])
    >>> round(r.z, 3), round(r.z_efficacy, 4), round(r.p_efficacy, 5), r.efficacy_met, r.futility_met
    (1.555, 2.6444, 0.00409, False, False)
    >>> r.design.information_fractions.round(4)
    array([0.3333, 0.6107, 1.    ])
    """
    events = _real("events", events)
    events_planned = _real("events_planned", events_planned)
    if events <= 0:
        raise ValueError(f"events must be > 0, got {events}")
    if events_planned <= events:
        raise ValueError(f"events_planned must exceed events ({events:g}) at an interim look, "
                         f"got {events_planned:g}")
    if (p_one_sided is None) == (z is None):
        raise ValueError("give exactly one of p_one_sided and z")
    if z is None:
        p_one_sided = _probability("p_one_sided", p_one_sided)
        z = float(-ndtri(p_one_sided))
    else:
        z = _real("z", z)
        p_one_sided = float(ndtr(-z))
    hazard_ratio_design = _hazard_ratio("hazard_ratio_design", hazard_ratio_design)
    prev = _real("previous_events", previous_events, allow_array=True)
    prev = np.atleast_1d(np.asarray(prev, dtype=float))
    if prev.size and (np.any(np.diff(prev) <= 0) or prev[0] <= 0 or prev[-1] >= events):
        raise ValueError(f"previous_events must be increasing, positive and below events ({events:g}), "
                         f"got {prev.tolist()}")
    theta = drift_from_hazard_ratio(hazard_ratio_design, events_planned, allocation)
    t = events / events_planned
    if remaining_fractions is not None:
        rest = _real("remaining_fractions", remaining_fractions, allow_array=True)
        rest = np.atleast_1d(np.asarray(rest, dtype=float))
        if rest.ndim != 1 or rest.size == 0 or np.any(rest <= t) or np.any(np.diff(rest) <= 0) \
                or abs(rest[-1] - 1.0) > 1e-9:
            raise ValueError("remaining_fractions must be increasing information fractions above this "
                             f"look's ({t:.4g}) and end at 1 (the final analysis), got {rest.tolist()}")
        planned_fractions = rest
    planned = group_sequential_design(planned_fractions, alpha=alpha, spending=spending,
                                      parameter=parameter,
                                      futility_alpha=futility_alpha,
                                      futility_drift=None if futility_alpha is None else theta)
    design = planned.at_observed(np.append(prev / events_planned, t))
    k = prev.size
    z_eff = float(design.z_efficacy[k])
    z_fut = float(design.z_futility[k])
    p_alt = float(ndtr(z - theta * math.sqrt(t)))
    return InterimReport(
        events=events, events_planned=events_planned, information_fraction=t,
        z=z, p_one_sided=p_one_sided, b_value=float(z * math.sqrt(t)),
        hazard_ratio=hazard_ratio_from_z(z, events, allocation, conf_level),
        z_efficacy=z_eff, p_efficacy=float(design.p_efficacy[k]), efficacy_met=bool(z >= z_eff),
        z_futility=z_fut, p_alternative=p_alt,
        futility_met=bool(math.isfinite(z_fut) and z < z_fut),
        drift_design=theta, hazard_ratio_design=hazard_ratio_design,
        conditional_power_design=conditional_power(z, t, design, drift=theta),
        conditional_power_trend=conditional_power(z, t, design, drift="trend"),
        conditional_power_null=conditional_power(z, t, design, drift="null"),
        predictive_power=predictive_power(z, t, design),
        design=design, note=str(note))


#: The priors :func:`posterior_probability` knows.
PRIORS = ("flat", "sceptical")


@dataclass(frozen=True)
class PosteriorProbability:
    """Posterior probabilities that the hazard ratio lies below given values.

    ``below`` and ``probability`` (float or array, same shape), the posterior of log HR
    (``mean_log_hr``, ``sd_log_hr``), the prior (``prior``, ``prior_mean_log_hr``,
    ``prior_sd_log_hr``: infinite for the flat prior; ``prior_events``: the events the
    prior is worth, 1 / (prior_sd^2 r (1 - r))), and the inputs ``z``, ``events``,
    ``design_hr``, ``allocation``.  ``float()`` works for a single ``below``;
    ``numpy.asarray()`` gives the probabilities.
    """

    below: object
    probability: object
    mean_log_hr: float
    sd_log_hr: float
    prior: str
    prior_mean_log_hr: float
    prior_sd_log_hr: float
    prior_events: float
    z: float
    events: float
    design_hr: float
    allocation: float

    @property
    def hazard_ratio(self) -> float:
        """Posterior median hazard ratio, exp(posterior mean of log HR)."""
        return math.exp(self.mean_log_hr)

    def __float__(self) -> float:
        if np.ndim(self.probability):
            raise TypeError("several thresholds: use .probability or numpy.asarray()")
        return float(self.probability)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.probability, dtype=dtype)

    def _rows(self):
        below = np.atleast_1d(self.below)
        prob = np.atleast_1d(self.probability)
        return [(f"P(HR < {b:g})", f"{p:.3f}") for b, p in zip(below, prob)]

    def table(self) -> str:
        head = (f"{self.prior} prior" + ("" if self.prior == "flat" else
                f" (centred on HR 1, P(HR < {self.design_hr:g}) = 0.05; worth {self.prior_events:.0f} events)")
                + f"; Z = {self.z:.3f} at {self.events:g} events; posterior median HR {self.hazard_ratio:.3f}")
        return "\n".join([head] + [f"  {a}  {b}" for a, b in self._rows()])

    def __repr__(self) -> str:
        return f"PosteriorProbability(\n{self.table()}\n)"

    def _repr_html_(self) -> str:
        import html as _html

        rows = "".join(f"<tr><td>{_html.escape(a)}</td><td>{b}</td></tr>" for a, b in self._rows())
        return f"<p>{_html.escape(self.table().splitlines()[0])}</p><table>{rows}</table>"


def posterior_probability(z, events, below, prior="flat", design_hr=0.58, allocation=0.5) -> PosteriorProbability:
    """Posterior probability that the hazard ratio is below ``below`` (vectorised in ``below``).

    Normal approximation on the log hazard ratio (Spiegelhalter, Freedman & Parmar 1994;
    Spiegelhalter, Abrams & Myles 2004, ch. 6).  With I = D r (1 - r) (D events, r the
    allocation) the log-rank Z gives the likelihood

        log HR ~ N(-Z / sqrt(I), 1 / I)        (Z > 0 means benefit, as everywhere here)

    and a normal prior N(m0, s0^2) gives the posterior N(m1, s1^2) with
    1 / s1^2 = I + 1 / s0^2 and m1 = s1^2 (-Z sqrt(I) + m0 / s0^2); then

        P(HR < b | data) = Phi((log b - m1) / s1).

    ``prior="flat"``: s0 infinite, so m1 = -Z / sqrt(I), s1 = 1 / sqrt(I): the posterior
    is the likelihood.  ``prior="sceptical"`` (Spiegelhalter et al. 1994): centred on no
    effect, m0 = 0, with only 5% prior probability of an effect beyond the design's,
    P(HR < ``design_hr``) = 0.05, so s0 = -log(design_hr) / 1.645.  A sceptic is convinced
    when even this posterior puts most of its weight on benefit.

    AALL1331 at the June 2019 look (80 events, P = .06 read one-sided, Z = 1.555; design
    HR 0.58):

    >>> r = posterior_probability(1.5548, 80, [1.0, 0.8, 0.58])
    >>> [round(float(p), 3) for p in r.probability]
    [0.94, 0.711, 0.189]
    >>> s = posterior_probability(1.5548, 80, [1.0, 0.8, 0.58], prior="sceptical")
    >>> [round(float(p), 3) for p in s.probability], round(s.prior_events)
    ([0.901, 0.534, 0.049], 36)
    """
    z = _real("z", z)
    events = _real("events", events)
    if events <= 0:
        raise ValueError(f"events must be > 0, got {events}")
    if not isinstance(prior, str):
        raise TypeError(f"prior must be one of {PRIORS}, got {type(prior).__name__}")
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
    design_hr = _real("design_hr", design_hr)
    if not 0 < design_hr < 1:
        raise ValueError(f"design_hr must lie in (0, 1) (a benefit), got {design_hr}")
    allocation = _probability("allocation", allocation)
    b = _real("below", below, allow_array=True)
    if np.any(np.asarray(b) <= 0):
        raise ValueError(f"below must be hazard ratios > 0, got {below!r}")
    info = events * allocation * (1.0 - allocation)
    if prior == "flat":
        m0, s0 = 0.0, math.inf
        precision = info
        mean = -z / math.sqrt(info)
        prior_events = 0.0
    else:
        m0, s0 = 0.0, -math.log(design_hr) / float(-ndtri(0.05))
        precision = info + 1.0 / s0 ** 2
        mean = (-z * math.sqrt(info) + m0 / s0 ** 2) / precision
        prior_events = 1.0 / (s0 ** 2 * allocation * (1.0 - allocation))
    sd = 1.0 / math.sqrt(precision)
    prob = ndtr((np.log(b) - mean) / sd)
    prob = float(prob) if np.ndim(prob) == 0 else prob
    return PosteriorProbability(below=b, probability=prob, mean_log_hr=mean, sd_log_hr=sd, prior=prior,
                                prior_mean_log_hr=m0, prior_sd_log_hr=s0, prior_events=prior_events,
                                z=z, events=events, design_hr=design_hr, allocation=allocation)
