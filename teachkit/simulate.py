"""Replay a whole group-sequential survival trial thousands of times.

One simulated trial follows the AALL1331 design (Brown et al., JAMA 2021;
Methods, Randomization and Statistical Analysis):

1. **Accrual.**  ``n_patients`` enter at uniform random times over
   ``accrual_years`` (or at the ``entry_times`` you give).
2. **Strata.**  Each patient falls in one of the randomization strata with the
   probabilities of Table 1 (:data:`AALL1331_STRATA`).
3. **Arms.**  1:1, by permuted blocks within strata (sizes 2 and 4) or by a
   fair coin for each patient.  (The paper says only that randomization was 1:1
   and stratified, Methods, Randomization: permuted blocks are the simulator's
   choice, a common way to stratify, not a documented fact of the trial.)
4. **Disease-free survival.**  The control arm follows
   ``S0(t) = pi + (1 - pi) exp(-lambda t)`` (``pi`` = ``cure_fraction``; 0 gives
   the plain exponential the design assumed), with ``lambda`` chosen so that
   ``S0(landmark_years) = control_survival``.  The experimental arm follows
   ``S1(t) = S0(t) ** hazard_ratio``, so the hazards are exactly proportional
   and the experimental plateau is ``pi ** hazard_ratio``.
5. **Dropout.**  Exponential loss to follow-up at ``dropout_rate`` per year.
6. **Looks.**  At planned event counts (``information_fractions`` of
   ``events``; the look happens on the calendar day of that event) or on
   calendar dates (``look_times``, years after the first randomization).
7. **Test.**  At every look, the stratified log-rank statistic
   ``Z = -sum(O1 - E1) / sqrt(sum V)`` (experimental arm = group 1, so Z > 0
   means benefit; ties with the hypergeometric variance of R ``survdiff``).
8. **Decision.**  Efficacy when ``Z >= z_efficacy[k]`` of the
   :func:`teachkit.sequential.group_sequential_design`; futility when
   ``Z < z_futility[k]`` (optional, non-binding); otherwise continue.
   At the final look a trial that does not cross for efficacy ends as
   "futility" (H0 not rejected), the rpact convention.
9. **Estimate.**  The hazard ratio at each look is the log-rank (Peto)
   one-step estimate ``HR = exp(sum(O1 - E1) / sum V)`` (Berry, Kitchin & Mock,
   Stat Med 1991), computed from the O, E and V that R ``survdiff`` reports.
   It equals ``exp(-Z / sqrt(V))``; the cruder ``exp(-2 Z / sqrt(D))`` replaces
   V by its null value D/4, which under an effect overstates the information.

Everything is vectorized over trials: random numbers for a chunk of trials are
drawn as ``(chunk, n_patients)`` arrays and the stratified log-rank statistic of
all trials of a chunk comes from one sort and a few cumulative sums.  The only
Python loops run over chunks, looks and strata.

Also served here, from their own module :mod:`teachkit._simulate_endpoints`: the committee's
other end points under no effect (:func:`endpoint_agreement`, :data:`COMMITTEE_CORRELATIONS`).

>>> sim = simulate_trials(2000, seed=1)       # the design: HR 0.58, 131 events
>>> sim.z.shape                               # (trials, looks)
(2000, 3)
>>> sim.events[0].tolist()                    # looks at 1/3, 2/3 and all events
[44, 87, 131]
>>> bool(0.80 < sim.power < 0.90)             # planned: 85% power
True
>>> bool(sim.early_stop_bias().hr_of_mean_log < 0.58)   # early stops exaggerate
True
"""

from __future__ import annotations

import html
import math
import numbers
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from teachkit import aall1331, risk, sequential
from teachkit._simulate_checks import (_check_design, _check_futility, _check_increasing, _check_int,
                                       _check_real, _check_strata, _check_stratum_risk)
from teachkit._simulate_endpoints import (COMMITTEE_CORRELATIONS, COMMITTEE_ENDPOINTS, EndpointAgreement,
                                          endpoint_agreement)
from teachkit._simulate_logrank import stratified_logrank_rows

__all__ = [
    "AALL1331_STRATA",
    "DECISIONS",
    "CONTINUE",
    "EFFICACY",
    "FUTILITY",
    "STOPPED_EARLIER",
    "TrialSimulation",
    "EarlyStopBias",
    "simulate_trials",
    "stratified_logrank_rows",
    "COMMITTEE_ENDPOINTS",
    "COMMITTEE_CORRELATIONS",
    "EndpointAgreement",
    "endpoint_agreement",
]

# --------------------------------------------------------------------------
# the trial's strata (Table 1)


def _table1_strata():
    """Randomized patients per stratum, both arms together, from Table 1.

    Read from :data:`teachkit.aall1331.FACTS` (Table 1, "Site of relapse"):
    intermediate risk = marrow relapse >= 36 months; the two patients with
    missing MRD (footnotes c and d) go to the "MRD < 0.1%" stratum of their time
    band, the rule of :func:`teachkit.risk.randomization_stratum` (footnote c
    says the trial did exactly that).
    """
    site = aall1331.FACTS["table1"]["site_of_relapse"]

    def both(*keys):
        return sum(site[k].value[arm] for k in keys for arm in aall1331.ARMS)

    S = risk.Stratum
    return MappingProxyType({
        S.INTERMEDIATE.value: both("marrow_36_plus"),
        S.HIGH_EXTRAMEDULLARY.value: both("extramedullary_under_18"),
        S.HIGH_MARROW_EARLY_MRD_LOW.value: both("marrow_under_18_mrd_low", "marrow_under_18_mrd_unknown"),
        S.HIGH_MARROW_EARLY_MRD_HIGH.value: both("marrow_under_18_mrd_high"),
        S.HIGH_MARROW_MID_MRD_LOW.value: both("marrow_18_36_mrd_low", "marrow_18_36_mrd_unknown"),
        S.HIGH_MARROW_MID_MRD_HIGH.value: both("marrow_18_36_mrd_high"),
    })


#: Randomized patients per randomization stratum (names of
#: :class:`teachkit.risk.Stratum`), both arms together, from Table 1:
#: 70, 20, 20, 16, 44 and 38 of the 208 analysed.  The default strata mix of
#: :func:`simulate_trials` is these counts divided by 208.
AALL1331_STRATA: Mapping[str, int] = _table1_strata()

# --------------------------------------------------------------------------
# decisions

CONTINUE, EFFICACY, FUTILITY, STOPPED_EARLIER = 0, 1, 2, 3
#: Labels of the decision codes stored in :attr:`TrialSimulation.decision`.
DECISIONS = ("continue", "efficacy", "futility", "stopped earlier")


# --------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class EarlyStopBias:
    """How much trials that stop early for efficacy exaggerate the effect.

    ``mean_log_hr`` is the mean Peto log-HR over trials that crossed the
    efficacy boundary at an interim look; ``bias = mean_log_hr - log(true HR)``
    (negative = more extreme than the truth); ``se`` its Monte Carlo standard
    error.  ``mean_log_hr_final_all`` is the mean log-HR at the final look over
    all trials (had every trial continued), for comparison.
    """

    n_early: int
    share_early: float
    true_hazard_ratio: float
    mean_log_hr: float
    se: float
    bias: float
    hr_of_mean_log: float
    median_hr: float
    mean_log_hr_final_all: float

    def __repr__(self) -> str:
        return (f"EarlyStopBias({self.n_early} early efficacy stops ({self.share_early:.1%}): "
                f"mean log-HR {self.mean_log_hr:.3f} (SE {self.se:.3f}) vs true "
                f"{math.log(self.true_hazard_ratio):.3f}, bias {self.bias:+.3f}; "
                f"HR {self.hr_of_mean_log:.3f} vs {self.true_hazard_ratio:.3f})")


@dataclass(frozen=True, repr=False)
class TrialSimulation:
    """Result of :func:`simulate_trials`.

    Per-trial arrays have shape ``(n_trials, n_looks)`` (row = trial, column =
    look): ``z`` (stratified log-rank Z, > 0 = benefit), ``log_hr`` (Peto
    estimate), ``variance`` (log-rank information V), ``events``, ``look_time``
    (years after the first randomization), ``n_enrolled``, ``events_reached``
    (False when the planned event count never came and the look took place at
    the end), and ``decision`` (codes into :data:`DECISIONS`).  Looks after a
    stop keep their ``z`` (what would have happened had the trial continued)
    but have decision "stopped earlier".

    ``stop_look[i]`` is the 0-based look at which trial ``i`` stopped,
    ``efficacy[i]`` whether it stopped for efficacy, ``hr_at_stop[i]`` the
    estimate reported then.
    """

    settings: Mapping[str, Any]
    information_fractions: np.ndarray
    z_efficacy: np.ndarray
    z_futility: np.ndarray
    design: Any
    z: np.ndarray
    log_hr: np.ndarray
    variance: np.ndarray
    events: np.ndarray
    look_time: np.ndarray
    n_enrolled: np.ndarray
    events_reached: np.ndarray
    decision: np.ndarray
    stop_look: np.ndarray
    efficacy: np.ndarray
    hr_at_stop: np.ndarray
    patients: Mapping[str, np.ndarray] | None = field(default=None)

    # ---- sizes and truth

    @property
    def n_trials(self) -> int:
        return self.z.shape[0]

    @property
    def n_looks(self) -> int:
        return self.z.shape[1]

    @property
    def hazard_ratio(self) -> float:
        """The true hazard ratio the trials were simulated under."""
        return float(self.settings["hazard_ratio"])

    @property
    def drift(self) -> float:
        """Expected final Z under the truth (Schoenfeld 1981, 1:1 allocation):
        ``-log(HR) * sqrt(events / 4)``, the ``drift`` of
        ``group_sequential_design(...).rejection_probabilities``."""
        return -math.log(self.hazard_ratio) * math.sqrt(self.settings["events"] / 4.0)

    @property
    def drift_observed(self) -> float:
        """Drift of the simulated log-rank Z at the final look: ``-log(HR) sqrt(mean V_K)``.

        Under an alternative the at-risk sets drift away from 1:1, so the
        log-rank information ``V = sum p (1 - p)`` falls short of ``D / 4``
        (about 5% at HR 0.58) and the Z has a little less drift than
        Schoenfeld's :attr:`drift`.
        """
        return -math.log(self.hazard_ratio) * math.sqrt(float(self.variance[:, -1].mean()))

    # ---- summaries

    @property
    def prob_efficacy(self) -> np.ndarray:
        """Share of trials stopping for efficacy at each look."""
        return (self.decision == EFFICACY).mean(axis=0)

    @property
    def prob_futility(self) -> np.ndarray:
        """Share of trials stopping for futility at each look (final look: H0 kept)."""
        return (self.decision == FUTILITY).mean(axis=0)

    @property
    def prob_stop(self) -> np.ndarray:
        """Share of trials stopping at each look (any reason); sums to 1."""
        return self.prob_efficacy + self.prob_futility

    @property
    def cumulative_efficacy(self) -> np.ndarray:
        """Share of trials that have crossed for efficacy by each look."""
        return np.cumsum(self.prob_efficacy)

    @property
    def power(self) -> float:
        """Share of trials that end with efficacy (type I error when HR = 1)."""
        return float(self.efficacy.mean())

    def monte_carlo_se(self, p) -> np.ndarray:
        """Binomial Monte Carlo standard error ``sqrt(p (1 - p) / n_trials)``."""
        p = np.asarray(p, dtype=float)
        return np.sqrt(p * (1.0 - p) / self.n_trials)

    @property
    def crossing_probabilities(self) -> np.ndarray:
        """Cumulative share of trials whose Z crossed an efficacy boundary by each
        look, ignoring futility stops (the quantity
        ``design.rejection_probabilities(drift)`` predicts for a non-binding
        futility rule)."""
        crossed = self.z >= self.z_efficacy
        return np.logical_or.accumulate(crossed, axis=1).mean(axis=0)

    @property
    def mean_hr_at_stop(self) -> float:
        """Mean of the hazard ratio reported at stopping (all trials)."""
        return float(np.mean(self.hr_at_stop))

    @property
    def median_hr_at_stop(self) -> float:
        return float(np.median(self.hr_at_stop))

    def expected_events(self) -> float:
        """Mean number of events when the trial stops."""
        return float(np.take_along_axis(self.events, self.stop_look[:, None], axis=1).mean())

    def expected_duration(self) -> float:
        """Mean calendar time (years after the first randomization) of the stopping look."""
        return float(np.take_along_axis(self.look_time, self.stop_look[:, None], axis=1).mean())

    def early_stop_bias(self) -> EarlyStopBias:
        """Mean log-HR of trials stopping for efficacy at an interim look vs the truth.

        Conditioning on an early crossing selects trials whose estimate happened
        to be large: the reported effect is exaggerated (Pocock & Hughes 1989;
        Bassler et al., JAMA 2010).
        """
        early = self.efficacy & (self.stop_look < self.n_looks - 1)
        n_early = int(early.sum())
        if n_early < 2:
            raise ValueError(f"only {n_early} trial(s) stopped early for efficacy; "
                             "simulate more trials or a larger effect")
        lh = np.log(self.hr_at_stop[early])
        mean = float(lh.mean())
        truth = math.log(self.hazard_ratio)
        return EarlyStopBias(
            n_early=n_early,
            share_early=n_early / self.n_trials,
            true_hazard_ratio=self.hazard_ratio,
            mean_log_hr=mean,
            se=float(lh.std(ddof=1) / math.sqrt(n_early)),
            bias=mean - truth,
            hr_of_mean_log=math.exp(mean),
            median_hr=float(np.median(self.hr_at_stop[early])),
            mean_log_hr_final_all=float(np.mean(self.log_hr[:, -1])),
        )

    # ---- one simulated trial, for a closer look

    def patient_data(self, trial: int, look: int = -1) -> dict:
        """The data of one simulated trial as analysed at one look.

        Needs ``keep_patients=True``.  Returns arrays over the patients enrolled
        by the look: ``time`` (years of follow-up), ``event`` (bool),
        ``treatment`` (bool, experimental arm), ``stratum`` (int code into
        ``settings["strata"]``), ``entry`` (years after the first randomization);
        plus ``cutoff`` (the look's calendar time).
        """
        if self.patients is None:
            raise ValueError("patient_data needs simulate_trials(..., keep_patients=True)")
        if isinstance(trial, bool) or not isinstance(trial, numbers.Integral):
            raise TypeError(f"trial must be an integer, got {type(trial).__name__}")
        if isinstance(look, bool) or not isinstance(look, numbers.Integral):
            raise TypeError(f"look must be an integer, got {type(look).__name__}")
        if not -self.n_trials <= trial < self.n_trials:
            raise ValueError(f"trial must be in [0, {self.n_trials}), got {trial}")
        if not -self.n_looks <= look < self.n_looks:
            raise ValueError(f"look must be in [0, {self.n_looks}), got {look}")
        p = {k: v[trial] for k, v in self.patients.items()}
        cutoff = float(self.look_time[trial, look])
        time, event = _observe(p["entry"], p["event_time"], p["dropout_time"], cutoff)
        inside = p["entry"] < cutoff
        return {
            "time": time[inside],
            "event": event[inside],
            "treatment": p["treatment"][inside],
            "stratum": p["stratum"][inside],
            "entry": p["entry"][inside],
            "cutoff": cutoff,
        }

    # ---- display

    def _rows(self):
        k_last = self.n_looks - 1
        rows = []
        for k in range(self.n_looks):
            stopped_eff = self.efficacy & (self.stop_look == k)
            hr = float(np.exp(np.mean(np.log(self.hr_at_stop[stopped_eff])))) if stopped_eff.any() else float("nan")
            rows.append({
                "look": k + 1,
                "information": float(self.information_fractions[k]),
                "mean_events": float(self.events[:, k].mean()),
                "median_time_years": float(np.median(self.look_time[:, k])),
                "z_efficacy": float(self.z_efficacy[k]),
                "z_futility": float(self.z_futility[k]) if k < k_last else float(self.z_efficacy[k]),
                "p_efficacy": float(self.prob_efficacy[k]),
                "p_futility": float(self.prob_futility[k]),
                "cumulative_efficacy": float(self.cumulative_efficacy[k]),
                "hr_efficacy_stops": hr,
            })
        return rows

    def table(self) -> str:
        """Per-look summary: when the looks happen and how often trials stop there.

        ``HR|eff`` is the geometric mean hazard ratio reported by the trials
        that stopped for efficacy at that look.
        """
        head = (f"{'look':>4} {'info':>6} {'events':>7} {'years':>6} {'z_eff':>6} {'z_fut':>6} "
                f"{'P(eff)':>7} {'P(fut)':>7} {'cum eff':>7} {'HR|eff':>7}")
        lines = [head]
        for r in self._rows():
            fut = "" if not np.isfinite(r["z_futility"]) else f"{r['z_futility']:.2f}"
            hr = "" if not np.isfinite(r["hr_efficacy_stops"]) else f"{r['hr_efficacy_stops']:.3f}"
            lines.append(
                f"{r['look']:>4d} {r['information']:>6.3f} {r['mean_events']:>7.1f} "
                f"{r['median_time_years']:>6.2f} {r['z_efficacy']:>6.2f} {fut:>6} "
                f"{r['p_efficacy']:>7.3f} {r['p_futility']:>7.3f} {r['cumulative_efficacy']:>7.3f} {hr:>7}")
        lines.append(
            f"power {self.power:.3f} (MC SE {float(self.monte_carlo_se(self.power)):.3f}); "
            f"true HR {self.hazard_ratio:.3g}; HR at stop: mean {self.mean_hr_at_stop:.3f}, "
            f"median {self.median_hr_at_stop:.3f}; mean events at stop {self.expected_events():.1f}, "
            f"mean duration {self.expected_duration():.2f} y")
        return "\n".join(lines)

    def to_frame(self):
        """The per-look summary as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self._rows()).set_index("look")

    def __repr__(self) -> str:
        s = self.settings
        look_kind = "calendar looks" if s["look_times"] is not None else "event-driven looks"
        return (f"TrialSimulation({self.n_trials} trials x {s['n_patients']} patients, "
                f"{self.n_looks} {look_kind}, true HR {self.hazard_ratio:.3g}; "
                f"P(efficacy) by look {np.round(self.prob_efficacy, 3).tolist()}, "
                f"power {self.power:.3f}, median HR at stop {self.median_hr_at_stop:.3f})")

    def _repr_html_(self) -> str:
        cols = ["look", "information", "mean events", "median years", "z efficacy", "z futility",
                "P(efficacy)", "P(futility)", "cumulative efficacy", "HR | efficacy stop"]
        body = []
        for r in self._rows():
            vals = [f"{r['look']}", f"{r['information']:.3f}", f"{r['mean_events']:.1f}",
                    f"{r['median_time_years']:.2f}", f"{r['z_efficacy']:.3f}",
                    "" if not np.isfinite(r["z_futility"]) else f"{r['z_futility']:.3f}",
                    f"{r['p_efficacy']:.3f}", f"{r['p_futility']:.3f}",
                    f"{r['cumulative_efficacy']:.3f}",
                    "" if not np.isfinite(r["hr_efficacy_stops"]) else f"{r['hr_efficacy_stops']:.3f}"]
            body.append("<tr>" + "".join(f"<td>{v}</td>" for v in vals) + "</tr>")
        header = "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>"
        caption = html.escape(
            f"{self.n_trials} simulated trials, true HR {self.hazard_ratio:.3g}: power "
            f"{self.power:.3f}, HR at stop mean {self.mean_hr_at_stop:.3f} / median "
            f"{self.median_hr_at_stop:.3f}")
        return (f"<table><caption>{caption}</caption><thead>{header}</thead>"
                f"<tbody>{''.join(body)}</tbody></table>")


# --------------------------------------------------------------------------
# the pieces of one chunk of trials


def _observe(entry, event_time, dropout_time, cutoff):
    """Follow-up time and event indicator at calendar ``cutoff`` (broadcasts).

    Patients not yet enrolled get time -1 and no event.
    """
    # compare on the calendar scale (entry + T <= cutoff), the scale the look
    # times come from, so the d-th event is counted at its own look exactly
    event = (event_time <= dropout_time) & (entry + event_time <= cutoff)
    time = np.where(event, event_time, np.minimum(dropout_time, cutoff - entry))
    return np.where(entry < cutoff, time, -1.0), event


def _balanced_blocks(block_sizes):
    """Every 1:1 block order of every allowed size, and the chance of each.

    A block of size ``b`` is one of the ``C(b, b/2)`` orders holding ``b/2``
    experimental slots; its size is drawn uniformly from ``block_sizes`` and
    then its order uniformly.  Returns ``(bits, lengths, probabilities)`` with
    ``bits`` padded to the largest size.
    """
    from itertools import combinations

    width = int(max(block_sizes))
    bits, lengths, probs = [], [], []
    for b in block_sizes:
        b = int(b)
        orders = list(combinations(range(b), b // 2))
        for ones in orders:
            row = np.zeros(width, dtype=bool)
            row[list(ones)] = True
            bits.append(row)
            lengths.append(b)
            probs.append(1.0 / (len(block_sizes) * len(orders)))
    return np.array(bits), np.array(lengths), np.array(probs)


def _permuted_blocks(rng, stratum, n_strata, block_sizes):
    """Permuted-block 1:1 allocation within strata, for every row at once.

    Each (trial, stratum) gets its own sequence of random balanced blocks
    (:func:`_balanced_blocks`) laid end to end; the ``j``-th patient to enter a
    stratum takes slot ``j`` of that stratum's sequence.  Loops over strata
    only; every stratum is done for all trials at once.
    """
    m, n = stratum.shape
    bits, lengths, probs = _balanced_blocks(block_sizes)
    cdf = np.cumsum(probs)[:-1]
    slot = np.arange(bits.shape[1])
    # position of each patient within its stratum, in order of entry
    onehot = np.empty((m, n), dtype=bool)
    treat = np.empty((m, n), dtype=bool)
    for s in range(n_strata):
        np.equal(stratum, s, out=onehot)
        position = np.cumsum(onehot, axis=1, dtype=np.int32) - 1
        n_blocks = -(-int(position[:, -1].max() + 1) // int(lengths.min()))
        if n_blocks == 0:
            continue
        pick = np.searchsorted(cdf, rng.random((m, n_blocks)), side="right")
        size = lengths[pick]
        sequence = bits[pick][slot < size[:, :, None]]  # each trial's blocks end to end
        total = size.sum(axis=1)
        first = np.cumsum(total) - total  # where each trial's sequence starts
        rows, cols = np.nonzero(onehot)
        treat[rows, cols] = sequence[first[rows] + position[rows, cols]]
    return treat


def _event_times(rng, relative_hazard, rate, cure_fraction):
    """Event times from ``S(t) = S0(t) ** h`` (``h`` = each patient's hazard ratio
    relative to the control arm of the reference stratum), by inversion:
    draw ``U`` uniform on (0, 1] and solve ``S0(T) = U ** (1 / h)``.

    Exponential ``S0`` (no cure): ``T = -log(U) / (rate h)``.  Mixture cure:
    ``T = inf`` (cured) when ``U ** (1 / h) <= pi``, else
    ``T = -log((U ** (1 / h) - pi) / (1 - pi)) / rate``.
    """
    u = 1.0 - rng.random(relative_hazard.shape)  # in (0, 1]
    if cure_fraction == 0.0:
        return -np.log(u) / (rate * relative_hazard)
    level = u ** (1.0 / relative_hazard)  # = S0(T)
    cured = level <= cure_fraction
    uncured = (np.maximum(level, cure_fraction) - cure_fraction) / (1.0 - cure_fraction)
    safe = np.where(cured, 1.0, uncured)
    return np.where(cured, np.inf, -np.log(safe) / rate)


# --------------------------------------------------------------------------
# the simulator


def simulate_trials(n_trials, n_patients=220, *, hazard_ratio=0.58, control_survival=0.45,
                    landmark_years=2.0, cure_fraction=0.0, accrual_years=4.5, entry_times=None,
                    dropout_rate=0.0, events=131, information_fractions=None, look_times=None,
                    study_end=None, design=None, futility=None, strata=None, stratum_risk=None,
                    stratified=True,
                    randomization="stratified-blocks", block_sizes=(2, 4), seed=None,
                    chunk_size=4000, keep_patients=False) -> TrialSimulation:
    """Simulate ``n_trials`` group-sequential two-arm survival trials (see the module text).

    Defaults replay the AALL1331 design (Methods, Statistical Analysis): 220
    patients, control 2-year DFS 45%, hazard ratio 0.58, 131 events, two interim
    analyses and a final one (their timing was not published: equally spaced
    information, ``(1/3, 2/3, 1)``, is assumed), O'Brien-Fleming-type alpha
    spending at one-sided 0.025, and accrual over 4.5 years (January 2015 -
    June 2019, Results: Early Closure of Randomization, the period in which the
    208 analysed patients were randomized).

    Parameters
    ----------
    n_trials : int >= 1
    n_patients : int >= 2
    hazard_ratio : float > 0
        experimental vs control (true value; < 1 = benefit).
    control_survival, landmark_years : control-arm DFS ``S0(landmark_years)``.
    cure_fraction : float in [0, control_survival)
        control-arm plateau ``pi`` of the mixture-cure model; 0 = exponential.
    accrual_years : uniform entry over ``[0, accrual_years]``; or
    entry_times : array of ``n_patients`` entry times (years), the same in every trial.
    dropout_rate : exponential loss-to-follow-up hazard per year.
    events : planned number of events at the final look.
    information_fractions : increasing fractions in (0, 1] of ``events``; the
        look takes place when ``round(fraction * events)`` events have occurred.
    look_times : increasing calendar times (years after the first
        randomization) instead of event counts.  With no ``design``, the
        boundaries are computed at the mean observed information fractions
        ``mean(events_k) / mean(events_K)`` (a planning approximation: real
        trials recompute spending at the observed information).
    study_end : calendar time after which nobody is followed; a look whose
        event count is not reached by then (or ever, with cure or dropout)
        takes place at ``study_end`` (or at the last event), with the events
        there are, and keeps its planned boundary.
    design : object with ``z_efficacy`` (one per look), by default
        ``teachkit.sequential.group_sequential_design(fractions, alpha=0.025,
        spending="obrien-fleming")`` at the actual event fractions.
    futility : None (no futility stopping), ``"design"`` (the design's
        ``z_futility``; with the default design, the AALL1331 rule: test the
        alternative HR 0.58 at one-sided level 0.024, Methods, Statistical
        Analysis), or one Z bound per look (NaN or ``-inf`` = none).  Stop when
        ``Z < bound``.  Non-binding: it never changes the efficacy boundaries.
    strata : mapping stratum name -> proportion (sum 1), or a sequence of
        proportions; default the Table 1 mix :data:`AALL1331_STRATA`.
    stratum_risk : hazard multiplier of each stratum (mapping name -> multiplier,
        missing names 1, or a sequence), for prognostic strata: stratum ``s``
        has control DFS ``S0(t) ** stratum_risk[s]``, so ``control_survival`` is
        that of a stratum with multiplier 1.  Default: all 1 (the paper reports
        no DFS by stratum).
    stratified : stratify the log-rank test by stratum (as the trial did).
    randomization : ``"stratified-blocks"`` (permuted blocks of ``block_sizes``
        within strata) or ``"simple"`` (a fair coin per patient).
    seed : int, SeedSequence or numpy Generator; the same seed and ``chunk_size``
        give the same trials.
    chunk_size : trials simulated together; peak memory grows with
        ``chunk_size * n_patients`` (about 150 bytes each: some 130 MB for the
        default 4000 x 220).
    keep_patients : also keep every patient's entry, stratum, arm, event and
        dropout times, for :meth:`TrialSimulation.patient_data`.

    The Z at each look is the stratified log-rank statistic (R:
    ``survdiff(Surv(time, event) ~ arm + strata(stratum))``, signed so that
    Z > 0 favours the experimental arm); the hazard ratio is the Peto estimate
    ``exp(sum(O1 - E1) / V)``.

    References: Schoenfeld 1981 (drift); Lan & DeMets 1983 (alpha spending);
    Jennison & Turnbull 2000, ch. 1 and 19 (simulating group-sequential trials);
    Pocock & Hughes 1989 (early stopping exaggerates effects).

    >>> sim = simulate_trials(400, hazard_ratio=1.0, seed=7)
    >>> float(sim.prob_stop.sum())       # every trial stops at some look
    1.0
    >>> sim.z_efficacy.round(2)          # O'Brien-Fleming-type, at 44, 87, 131 events
    array([3.69, 2.52, 1.99])
    >>> print(sim.table().splitlines()[0])
    look   info  events  years  z_eff  z_fut  P(eff)  P(fut) cum eff  HR|eff
    """
    n_trials = _check_int(n_trials, "n_trials", 1)
    n_patients = _check_int(n_patients, "n_patients", 2)
    hazard_ratio = _check_real(hazard_ratio, "hazard_ratio", low=0.0, low_open=True)
    control_survival = _check_real(control_survival, "control_survival", low=0.0, high=1.0,
                                   low_open=True, high_open=True)
    landmark_years = _check_real(landmark_years, "landmark_years", low=0.0, low_open=True)
    cure_fraction = _check_real(cure_fraction, "cure_fraction", low=0.0)
    if cure_fraction >= control_survival:
        raise ValueError(f"cure_fraction must be below control_survival ({control_survival:g}), "
                         f"got {cure_fraction:g}")
    dropout_rate = _check_real(dropout_rate, "dropout_rate", low=0.0)
    if entry_times is not None:
        entry = np.asarray(entry_times, dtype=float)
        if entry.shape != (n_patients,):
            raise ValueError(f"entry_times must hold n_patients={n_patients} times, got shape {entry.shape}")
        if not np.all(np.isfinite(entry)) or np.any(entry < 0):
            raise ValueError("entry_times must be finite and >= 0")
        entry = np.sort(entry)
        accrual_years = None
    else:
        accrual_years = _check_real(accrual_years, "accrual_years", low=0.0)
        entry = None
    events = _check_int(events, "events", 1, n_patients)
    if look_times is not None:
        if information_fractions is not None:
            raise ValueError("give information_fractions or look_times, not both")
        look_times = _check_increasing(look_times, "look_times")
        n_looks = look_times.size
        look_events = None
    else:
        fractions = _check_increasing((1 / 3, 2 / 3, 1.0) if information_fractions is None
                                      else information_fractions, "information_fractions", upper=1.0)
        look_events = np.maximum(np.round(fractions * events).astype(np.int64), 1)
        if np.any(np.diff(look_events) <= 0):
            raise ValueError(f"information_fractions give event counts {look_events.tolist()} "
                             f"of events={events} that are not strictly increasing")
        n_looks = look_events.size
    if study_end is not None:
        study_end = _check_real(study_end, "study_end", low=0.0, low_open=True)
        if look_times is not None and look_times[-1] > study_end:
            raise ValueError(f"look_times must not be after study_end={study_end:g}, "
                             f"got {look_times.tolist()}")
    if design is not None:
        z_eff = _check_design(design, n_looks)
    strata_names, strata_probs = _check_strata(strata, AALL1331_STRATA)
    stratum_hazard = _check_stratum_risk(stratum_risk, strata_names)
    if not isinstance(stratified, (bool, np.bool_)):
        raise TypeError(f"stratified must be True or False, got {type(stratified).__name__}")
    if randomization not in ("stratified-blocks", "simple"):
        raise ValueError(f"randomization must be 'stratified-blocks' or 'simple', got {randomization!r}")
    sizes = np.atleast_1d(np.asarray(block_sizes))
    if sizes.ndim != 1 or sizes.size == 0 or sizes.dtype.kind not in "iu" or np.any(sizes < 2) or np.any(sizes % 2):
        raise ValueError(f"block_sizes must be positive even integers (1:1 blocks), got {block_sizes!r}")
    chunk_size = _check_int(chunk_size, "chunk_size", 1)
    if not isinstance(keep_patients, (bool, np.bool_)):
        raise TypeError(f"keep_patients must be True or False, got {type(keep_patients).__name__}")
    z_fut = _check_futility(futility, design, n_looks)
    rng = np.random.default_rng(seed)

    # control arm: S0(t) = pi + (1 - pi) exp(-rate t) with S0(landmark) = control_survival
    rate = -math.log((control_survival - cure_fraction) / (1.0 - cure_fraction)) / landmark_years
    n_strata = strata_probs.size

    shape = (n_trials, n_looks)
    out = {
        "z": np.empty(shape), "log_hr": np.empty(shape), "variance": np.empty(shape),
        "events": np.empty(shape, dtype=np.int64), "look_time": np.empty(shape),
        "n_enrolled": np.empty(shape, dtype=np.int64), "events_reached": np.empty(shape, dtype=bool),
    }
    kept = {"entry": [], "stratum": [], "treatment": [], "event_time": [], "dropout_time": []}

    for lo in range(0, n_trials, chunk_size):
        hi = min(lo + chunk_size, n_trials)
        m = hi - lo
        # 1. accrual, in order of entry
        if entry is None:
            t_in = np.sort(rng.random((m, n_patients)), axis=1) * accrual_years
        else:
            t_in = np.broadcast_to(entry, (m, n_patients))
        # 2. strata
        stratum = np.searchsorted(np.cumsum(strata_probs)[:-1], rng.random((m, n_patients)),
                                  side="right").astype(np.int8)
        # 3. arms
        if randomization == "simple":
            treat = rng.random((m, n_patients)) < 0.5
        else:
            treat = _permuted_blocks(rng, stratum, n_strata, sizes)
        # 4. event times, 5. dropout
        relative = np.where(treat, hazard_ratio, 1.0) * stratum_hazard[stratum]
        t_event = _event_times(rng, relative, rate, cure_fraction)
        t_drop = (rng.exponential(1.0 / dropout_rate, (m, n_patients)) if dropout_rate > 0
                  else np.full((m, n_patients), np.inf))
        # 6. calendar time of each look
        if look_times is not None:
            cutoffs = np.broadcast_to(look_times, (m, n_looks)).copy()
            reached = np.ones((m, n_looks), dtype=bool)
        else:
            calendar = np.where(t_event <= t_drop, t_in + t_event, np.inf)
            if study_end is not None:
                calendar = np.where(calendar <= study_end, calendar, np.inf)
            calendar = np.sort(calendar, axis=1)
            cutoffs = calendar[:, look_events - 1]
            reached = np.isfinite(cutoffs)
            n_ever = np.isfinite(calendar).sum(axis=1)
            if study_end is not None:
                last = np.full(m, study_end)
            else:  # the day of the last event that will ever happen (or the last entry)
                last = np.where(n_ever > 0, calendar[np.arange(m), np.maximum(n_ever - 1, 0)],
                                t_in[:, -1])
            cutoffs = np.where(reached, cutoffs, last[:, None])
        # 7. the stratified log-rank test at each look
        for k in range(n_looks):
            time, event = _observe(t_in, t_event, t_drop, cutoffs[:, k:k + 1])
            oe, var, d = stratified_logrank_rows(time, event, treat, stratum if stratified else None,
                                                 n_strata if stratified else None)
            positive = var > 0
            safe = np.where(positive, var, 1.0)
            out["z"][lo:hi, k] = np.where(positive, -oe / np.sqrt(safe), 0.0)
            out["log_hr"][lo:hi, k] = np.where(positive, oe / safe, np.nan)
            out["variance"][lo:hi, k] = var
            out["events"][lo:hi, k] = d
            out["n_enrolled"][lo:hi, k] = (t_in < cutoffs[:, k:k + 1]).sum(axis=1)
        out["look_time"][lo:hi] = cutoffs
        out["events_reached"][lo:hi] = reached
        if keep_patients:
            for key, arr in (("entry", t_in), ("stratum", stratum), ("treatment", treat),
                             ("event_time", t_event), ("dropout_time", t_drop)):
                kept[key].append(np.array(arr))

    # 8. boundaries and decisions
    if look_events is not None:
        fractions_used = look_events / events
    else:
        mean_events = out["events"].mean(axis=0)
        if np.any(np.diff(mean_events) <= 0) or mean_events[0] <= 0:
            raise ValueError(f"look_times give mean event counts {np.round(mean_events, 1).tolist()}, "
                             "which are not strictly increasing from above 0; choose later or wider-spaced looks")
        fractions_used = mean_events / mean_events[-1]
    if design is None:
        rule = {}
        if isinstance(futility, str) and futility == "design":  # the AALL1331 futility rule
            rule = {"futility_alpha": 0.024,
                    "futility_drift": sequential.drift_from_hazard_ratio(0.58, events)}
        design = sequential.group_sequential_design(fractions_used, alpha=0.025,
                                                    spending="obrien-fleming", **rule)
        z_eff = _check_design(design, n_looks)
        z_fut = _check_futility(futility, design, n_looks)

    z = out["z"]
    crossed_eff = z >= z_eff
    crossed_fut = (z < z_fut) & ~crossed_eff
    crossed_fut[:, -1] = ~crossed_eff[:, -1]  # the final look always ends the trial
    stops = crossed_eff | crossed_fut
    stop_look = np.argmax(stops, axis=1)
    rows = np.arange(n_trials)
    efficacy = crossed_eff[rows, stop_look]
    decision = np.full(shape, CONTINUE, dtype=np.int8)
    after = np.arange(n_looks) > stop_look[:, None]
    decision[after] = STOPPED_EARLIER
    decision[rows, stop_look] = np.where(efficacy, EFFICACY, FUTILITY)
    hr_at_stop = np.exp(out["log_hr"][rows, stop_look])

    settings = MappingProxyType({
        "n_patients": n_patients, "hazard_ratio": hazard_ratio,
        "control_survival": control_survival, "landmark_years": landmark_years,
        "cure_fraction": cure_fraction, "accrual_years": accrual_years,
        "entry_times": None if entry is None else tuple(entry.tolist()),
        "dropout_rate": dropout_rate, "events": events,
        "look_events": None if look_events is None else tuple(look_events.tolist()),
        "look_times": None if look_times is None else tuple(look_times.tolist()),
        "study_end": study_end, "strata": strata_names,
        "strata_proportions": tuple(strata_probs.tolist()),
        "stratum_risk": tuple(stratum_hazard.tolist()), "stratified": bool(stratified),
        "randomization": randomization, "block_sizes": tuple(int(b) for b in sizes),
        "chunk_size": chunk_size,
    })
    patients = None
    if keep_patients:
        patients = MappingProxyType({k: np.concatenate(v, axis=0) for k, v in kept.items()})
    for arr in (*out.values(), decision, stop_look, efficacy, hr_at_stop, z_eff, z_fut, fractions_used):
        arr.setflags(write=False)
    if patients is not None:
        for arr in patients.values():
            arr.setflags(write=False)
    return TrialSimulation(
        settings=settings, information_fractions=fractions_used, z_efficacy=z_eff,
        z_futility=z_fut, design=design, decision=decision, stop_look=stop_look,
        efficacy=efficacy, hr_at_stop=hr_at_stop, patients=patients, **out)
