"""The synthetic AALL1331 cohort: 208 patients calibrated to the published summaries.

The individual data of AALL1331 are not public.  :func:`synthetic_cohort`
builds a cohort that is *synthetic, calibrated to published summaries*
(:data:`SYNTHETIC_LABEL`, shown wherever the cohort appears): the counts the
paper prints (Brown PA et al., JAMA 2021;325(9):833-842, Tables 1-2, Figure 1)
are met exactly, the survival summaries approximately.  :func:`calibration_table`
(``python -m teachkit.cohort``) prints target vs achieved for every calibrated
summary.

The published facts the cohort is calibrated to live in :mod:`teachkit.aall1331`
(arrows point that way only: cohort -> aall1331).

>>> c = synthetic_cohort()
>>> len(c), c.label
(208, 'synthetic, calibrated to published summaries')
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from teachkit.aall1331 import ARMS, FACTS

__all__ = [
    "SYNTHETIC_LABEL",
    "CALIBRATION",
    "SyntheticCohort",
    "synthetic_cohort",
    "CalibrationTable",
    "calibration_table",
    "NOTE_D_STRATUM",
    "NOTE_D_ASSUMPTION",
    "InterimComparison",
    "interim_comparison",
]

#: Say this wherever the synthetic cohort appears (tables, plots, widgets).
SYNTHETIC_LABEL = "synthetic, calibrated to published summaries"

_DAYS_PER_YEAR = 365.25
_DAYS_PER_MONTH = _DAYS_PER_YEAR / 12
_FIRST_RANDOMIZATION = np.datetime64("2015-01-01")
_INTERIM_CUTOFF = np.datetime64("2019-06-30")
_FINAL_CUTOFF = np.datetime64("2020-09-30")
# days from randomization of the protocol milestones used by the generator
_CYCLE_1_EVALUATION = 35   # end of cycle 1 (4 weeks) and its marrow evaluation
_CYCLE_2_START = 42
_CYCLE_2_EVALUATION = 77
_FIRST_EVENT_TYPES = ("late treatment failure", "relapse", "death")

#: Two randomized patients had no usable reinduction MRD (Table 1 notes c and d).
#: Note c (chemotherapy, marrow 18-36 mo, MRD unsatisfactory) was "treated as stratum
#: high-risk (marrow 18-36 mo; MRD < 0.1%)": a fact.  Note d (blinatumomab, marrow
#: < 18 mo, MRD indeterminate) was "categorized in the high-risk group" -- the paper
#: does not say which MRD stratum.  **Assumption** of this cohort: the "MRD < 0.1%"
#: stratum of that time band, as for note c (the rule of
#: :func:`teachkit.risk.randomization_stratum`).  Shown in :meth:`SyntheticCohort.table`.
NOTE_D_STRATUM = "high, marrow <18 mo, MRD <0.1%"
NOTE_D_ASSUMPTION = (
    "Assumption: the blinatumomab patient with indeterminate MRD (Table 1 note d, marrow "
    f"<18 mo) is placed in stratum '{NOTE_D_STRATUM}'; the paper says only 'high-risk group' "
    "(note c's patient, MRD unsatisfactory, was randomized as MRD <0.1%, as stated).")

#: Parameters of the generator, found by the calibration search described in
#: :func:`synthetic_cohort` (``tests/calibration/calibrate_cohort.py``).
CALIBRATION = MappingProxyType({
    "accrual_power": 1.607,         # share of accrual by time fraction x of the span = x ** power
    "chemo_accrual_lag": 0.064,     # shifts chemotherapy patients slightly later in the enrolment order
    "event_median_days": MappingProxyType({"blinatumomab": 219.688, "chemotherapy": 359.516}),
    "event_sigma": 0.946,           # log-normal spread of first-event times (truncated at 2 years)
    "post_relapse_deaths": MappingProxyType({"blinatumomab": 17, "chemotherapy": 22}),
    "death_gap_median_days": 199.631,  # relapse -> death, log-normal, sigma 0.8
})


def _stratum_counts():
    """Patients per (stratum, MRD known?) and arm, read from Table 1's facts.

    Two patients lack a usable MRD: note c's stratum is published, note d's is
    :data:`NOTE_D_STRATUM` (an assumption, :data:`NOTE_D_ASSUMPTION`)."""
    from .risk import Stratum

    site = FACTS["table1"]["site_of_relapse"]
    v = {key: f.value for key, f in site.items()}
    counts = {}
    for a in ARMS:
        counts[a] = [
            (Stratum.INTERMEDIATE, True, v["marrow_36_plus"][a]),
            (Stratum.HIGH_EXTRAMEDULLARY, True, v["extramedullary_under_18"][a]),
            (Stratum.HIGH_MARROW_EARLY_MRD_HIGH, True, v["marrow_under_18_mrd_high"][a]),
            (Stratum.HIGH_MARROW_EARLY_MRD_LOW, True, v["marrow_under_18_mrd_low"][a]),
            # Table 1 note d: stratum not stated -> NOTE_D_STRATUM, an explicit assumption
            (Stratum(NOTE_D_STRATUM), False, v["marrow_under_18_mrd_unknown"][a]),
            (Stratum.HIGH_MARROW_MID_MRD_HIGH, True, v["marrow_18_36_mrd_high"][a]),
            (Stratum.HIGH_MARROW_MID_MRD_LOW, True, v["marrow_18_36_mrd_low"][a]),
            # Table 1 note c: "treated as stratum ... MRD <0.1%" (a fact)
            (Stratum.HIGH_MARROW_MID_MRD_LOW, False, v["marrow_18_36_mrd_unknown"][a]),
        ]
    return counts


def _choose(rng, eligible, n, weights=None, what="patients"):
    """Exactly ``n`` of the ``eligible`` patients, drawn without replacement with
    probability proportional to ``weights`` (Efraimidis & Spirakis 2006 keys)."""
    eligible = np.asarray(eligible, dtype=bool)
    if eligible.sum() < n:
        raise RuntimeError(f"synthetic cohort: need {n} {what} but only {int(eligible.sum())} are eligible; "
                           "the calibration parameters are infeasible for this seed")
    w = np.ones(eligible.size) if weights is None else np.asarray(weights, dtype=float)
    key = np.where(eligible, np.log(rng.random(eligible.size)) / w, -np.inf)
    chosen = np.zeros(eligible.size, dtype=bool)
    if n > 0:
        chosen[np.argsort(-key, kind="stable")[:n]] = True
    return chosen


def _truncated_lognormal(rng, size, median, sigma, low, high):
    # the standard normal's cdf and quantile as scipy.stats.norm computes them (ndtr, ndtri:
    # the same numbers), without importing scipy.stats (about 45 MB of a lesson kernel)
    from scipy.special import ndtr, ndtri

    a, b = ndtr((np.log([low, high]) - np.log(median)) / sigma)
    return np.exp(np.log(median) + sigma * ndtri(a + (b - a) * rng.random(size)))


def _check_date(value, name):
    try:
        day = np.datetime64(value, "D")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a date like '2019-06-30', got {value!r}") from exc
    if np.isnat(day):
        raise ValueError(f"{name} must be a date like '2019-06-30', got {value!r}")
    return day


@dataclass(frozen=True, repr=False, eq=False)
class SyntheticCohort:
    """A synthetic AALL1331 cohort (one row per patient, numpy columns).

    Not the trial's patients: individual data of AALL1331 are not public.  The
    cohort is *synthetic, calibrated to published summaries* (see
    :func:`synthetic_cohort` and :func:`calibration_table`).

    Baseline: ``arm``, ``treatment`` (True = blinatumomab), ``stratum``,
    ``risk_group``, ``site``, ``months_from_diagnosis``, ``mrd_reinduction``
    (percent, 0 = undetectable, NaN = unknown), ``age``, ``female``,
    ``randomization_date``.
    Course: ``received_cycle_1``, ``received_cycle_2``, ``mrd_cycle_1`` and
    ``mrd_cycle_2`` ("negative" < 0.01%, "positive", "missing"), ``hsct``,
    ``hsct_day``.
    Outcomes at ``cutoff``: ``dfs_time``/``os_time`` in years from
    randomization, ``dfs_event``/``os_event``, ``first_event`` (type or
    "none").  ``first_event_day``, ``death_day`` and ``last_contact_day``
    (days from randomization; ``inf`` when it never happens by 30 Sep 2020)
    are the underlying dates; :meth:`at_cutoff` re-censors them.
    """

    patient_id: np.ndarray
    arm: np.ndarray
    treatment: np.ndarray
    stratum: np.ndarray
    risk_group: np.ndarray
    site: np.ndarray
    months_from_diagnosis: np.ndarray
    mrd_reinduction: np.ndarray
    age: np.ndarray
    female: np.ndarray
    randomization_date: np.ndarray
    received_cycle_1: np.ndarray
    received_cycle_2: np.ndarray
    mrd_cycle_1: np.ndarray
    mrd_cycle_2: np.ndarray
    hsct: np.ndarray
    hsct_day: np.ndarray
    first_event_day: np.ndarray
    first_event_kind: np.ndarray
    death_day: np.ndarray
    last_contact_day: np.ndarray
    cutoff: np.datetime64
    seed: int
    label: str = SYNTHETIC_LABEL

    # ---- outcomes at the cutoff -------------------------------------------------
    @property
    def follow_up_day(self) -> np.ndarray:
        """Days from randomization to the end of follow-up (last contact or cutoff)."""
        to_cutoff = (self.cutoff - self.randomization_date).astype(float)
        return np.minimum(self.last_contact_day, to_cutoff)

    @property
    def dfs_event(self) -> np.ndarray:
        return self.first_event_day <= self.follow_up_day

    @property
    def dfs_time(self) -> np.ndarray:
        """Disease-free survival time in years (event or censoring)."""
        return np.minimum(self.first_event_day, self.follow_up_day) / _DAYS_PER_YEAR

    @property
    def first_event(self) -> np.ndarray:
        return np.where(self.dfs_event, self.first_event_kind, "none").astype(object)

    @property
    def os_event(self) -> np.ndarray:
        return self.death_day <= self.follow_up_day

    @property
    def os_time(self) -> np.ndarray:
        """Overall survival time in years (death or censoring)."""
        return np.minimum(self.death_day, self.follow_up_day) / _DAYS_PER_YEAR

    def __len__(self) -> int:
        return self.patient_id.size

    def at_cutoff(self, date) -> "SyntheticCohort":
        """The cohort as a data cutoff on ``date`` would have seen it.

        Patients randomized after ``date`` are dropped; events after it are
        censored at it; transplants after it are not yet done.  MRD results
        are kept as they are (all are known within 11 weeks of randomization).
        The interim analysis used ``"2019-06-30"``.

        >>> c = synthetic_cohort().at_cutoff("2019-06-30")
        >>> str(c.cutoff), len(c)
        ('2019-06-30', 208)
        """
        day = _check_date(date, "date")
        if day > _FINAL_CUTOFF:
            raise ValueError(f"date must be on or before {_FINAL_CUTOFF} (the end of follow-up), got {day}")
        if day < _FIRST_RANDOMIZATION:
            raise ValueError(f"date must be on or after {_FIRST_RANDOMIZATION} (first randomization), got {day}")
        keep = self.randomization_date <= day
        fields = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            fields[name] = value[keep] if isinstance(value, np.ndarray) and value.shape == keep.shape else value
        fields["cutoff"] = day
        to_cutoff = (day - fields["randomization_date"]).astype(float)
        done = fields["hsct_day"] <= to_cutoff
        fields["hsct"] = fields["hsct"] & done
        fields["hsct_day"] = np.where(done, fields["hsct_day"], np.nan)
        return SyntheticCohort(**fields)

    # ---- display --------------------------------------------------------------------
    def summary(self) -> dict:
        """Counts by arm: patients, strata, first events by type, MRD negativity, transplant."""
        out = {}
        for a in ARMS:
            m = self.arm == a
            fe = self.first_event[m]
            out[a] = {
                "patients": int(m.sum()),
                "dfs_events": int(self.dfs_event[m].sum()),
                **{f"first_event: {k}": int((fe == k).sum()) for k in _FIRST_EVENT_TYPES},
                "deaths": int(self.os_event[m].sum()),
                "mrd_negative_reinduction": int((self.mrd_reinduction[m] == 0).sum()),
                "mrd_negative_cycle_1": int((self.mrd_cycle_1[m] == "negative").sum()),
                "mrd_negative_cycle_2": int((self.mrd_cycle_2[m] == "negative").sum()),
                "hsct": int(self.hsct[m].sum()),
                **{f"stratum: {s}": int((self.stratum[m] == s).sum()) for s in _stratum_names()},
            }
        return out

    def table(self) -> str:
        s = self.summary()
        keys = list(s[ARMS[0]])
        width = max(len(k) for k in keys)
        lines = [f"AALL1331 cohort ({self.label}), cutoff {self.cutoff}",
                 f"{'':{width}s}  {'blinatumomab':>12s}  {'chemotherapy':>12s}"]
        lines += [f"{k:{width}s}  {s[ARMS[0]][k]:12d}  {s[ARMS[1]][k]:12d}" for k in keys]
        lines.append(NOTE_D_ASSUMPTION)
        if self.cutoff == _INTERIM_CUTOFF:  # shown at the interim: the cohort's Z is not the paper's
            lines += interim_comparison(self).lines()
        lines.append(f"Not trial data: {self.label} (Brown et al., JAMA 2021).")
        return "\n".join(lines)

    def __repr__(self) -> str:
        n = {a: int((self.arm == a).sum()) for a in ARMS}
        return (f"SyntheticCohort({len(self)} patients: {n['blinatumomab']} blinatumomab, "
                f"{n['chemotherapy']} chemotherapy; cutoff {self.cutoff}; "
                f"{int(self.dfs_event.sum())} DFS events, {int(self.os_event.sum())} deaths; "
                f"seed={self.seed}; {self.label})")

    def _repr_html_(self) -> str:
        import html
        return (f"<p><b>Synthetic AALL1331 cohort</b> &mdash; <i>{html.escape(self.label)}</i>"
                f"</p><pre>{html.escape(self.table())}</pre>")

    def to_frame(self):
        """One row per patient (pandas must be installed); ``attrs['label']`` says it is synthetic."""
        import pandas as pd
        cols = ["patient_id", "arm", "stratum", "risk_group", "site", "months_from_diagnosis",
                "mrd_reinduction", "age", "female", "randomization_date", "received_cycle_1",
                "received_cycle_2", "mrd_cycle_1", "mrd_cycle_2", "hsct", "dfs_time", "dfs_event",
                "first_event", "os_time", "os_event"]
        frame = pd.DataFrame({c: getattr(self, c) for c in cols})
        frame.attrs["label"] = self.label
        return frame


def _stratum_names():
    from .risk import Stratum
    return [s.value for s in Stratum]


#: Relative propensity of a first event by stratum (a teaching assumption:
#: early marrow relapse and high MRD do worse; the paper gives no per-stratum DFS).
_STRATUM_EVENT_WEIGHT = {
    "intermediate": 0.8,
    "high, isolated extramedullary <18 mo": 1.0,
    "high, marrow <18 mo, MRD <0.1%": 1.3,
    "high, marrow <18 mo, MRD >=0.1%": 1.8,
    "high, marrow 18-36 mo, MRD <0.1%": 0.9,
    "high, marrow 18-36 mo, MRD >=0.1%": 1.3,
}


def synthetic_cohort(seed: int = 2019, calibration: Mapping | None = None) -> SyntheticCohort:
    """208 synthetic AALL1331 patients, calibrated to the published summaries.

    The individual data of AALL1331 are not public; this cohort is *synthetic,
    calibrated to published summaries* (:data:`SYNTHETIC_LABEL`).  It is built
    so that the counts the paper prints are met **exactly** and the survival
    summaries **approximately** (within the tolerances of
    :func:`calibration_table`).

    Model (all days from randomization; Brown et al., JAMA 2021):

    1. Arms and strata: 105 / 103 patients with the stratum counts of Table 1
       (two patients lack a usable MRD: Table 1 note c's was randomized in
       "MRD < 0.1%", as published; note d's stratum is not published and is
       *assumed* to be "MRD < 0.1%" too, :data:`NOTE_D_ASSUMPTION`);
       site, months from diagnosis and reinduction MRD drawn inside each
       stratum's bounds, so :func:`teachkit.risk.randomization_stratum`
       gives back each patient's stratum; exactly 26 / 31 MRD-negative
       (< 0.01%) after reinduction (Table 2); age bands and sex as Table 1.
    2. Randomization dates from 1 Jan 2015 to 30 Jun 2019 with accrual
       speeding up (share enrolled by time fraction x is x^p); potential
       follow-up to 30 Sep 2020; 6 patients lost before 2 years (Results).
    3. First events, a *conditional mixture-cure* model: a patient is either
       cured (no event) or has an event at a time drawn from a log-normal
       truncated to [8 days, 2 years].  Exactly the Table 2 counts of first
       events are drawn (late treatment failure at the cycle-1 marrow, day
       28-42; relapses; deaths), by weighted sampling without replacement
       among patients whose drawn time falls before their censoring; plus the
       single blinatumomab relapse in month 41 (Results, Primary End Point).
       Curves therefore plateau after 2 years.
    4. Deaths: every first-event death, a calibrated number of deaths within
       2 years after a relapse, and the 5 late deaths in months 31, 34, 45
       (blinatumomab) and 36, 41 (chemotherapy) after relapse (Results,
       Secondary End Point).
    5. Course: cycle 1 received by 102 / 97, cycle 2 by 88 / 62, transplant
       after cycle 1 for 1 / 5 and in all 74 / 44 (Figure 1); MRD negative
       after cycle 1 79 / 33 and after cycle 2 69 / 33 (Table 2), favouring
       patients without an early event (so MRD and outcome are linked).

    **Calibration** (``tests/calibration/calibrate_cohort.py``): with the seed
    fixed at 2019, the parameters in :data:`CALIBRATION` (accrual shape,
    arm-specific median time to first event, number of post-relapse deaths,
    ...) were searched, at random and then locally, until every target of
    :func:`calibration_table` was met: 2-year Kaplan-Meier DFS and OS within
    1.5 points, stratified Cox hazard ratios within 0.03, 80 +- 2 DFS events
    at the 30 Jun 2019 interim cutoff, reverse-KM median follow-up 2.9 +- 0.2
    years; and, loosely, median follow-up among the living by arm and the
    median time to a first DFS event.  The generator only draws random
    numbers, so it is deterministic for a seed and takes a few milliseconds.  Other seeds are other draws from the same model: the counts stay
    exact, the survival summaries vary as a replicate trial's would.

    >>> c = synthetic_cohort()
    >>> len(c), int(c.treatment.sum()), int(c.dfs_event.sum())
    (208, 105, 107)
    >>> c.label
    'synthetic, calibrated to published summaries'
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    p = dict(CALIBRATION)
    if calibration is not None:
        unknown = set(calibration) - set(p)
        if unknown:
            raise ValueError(f"calibration has unknown keys {sorted(unknown)}; known: {sorted(p)}")
        p.update(calibration)
    rng = np.random.default_rng(int(seed))

    # ---- 1. arms, strata, baseline -------------------------------------------------
    arm, stratum, mrd_known = [], [], []
    for a, rows in _stratum_counts().items():
        for s, known, count in rows:
            arm += [a] * count
            stratum += [s.value] * count
            mrd_known += [known] * count
    arm = np.array(arm, dtype=object)
    stratum = np.array(stratum, dtype=object)
    mrd_known = np.array(mrd_known)
    n = arm.size
    # enrolment order: random, optionally chemotherapy patients later
    key = rng.random(n) + p["chemo_accrual_lag"] * (arm == "chemotherapy")
    order = np.argsort(key, kind="stable")
    arm, stratum, mrd_known = arm[order], stratum[order], mrd_known[order]
    is_blin = arm == "blinatumomab"

    span = (_INTERIM_CUTOFF - _FIRST_RANDOMIZATION).astype(int)
    share = (np.arange(n) + rng.random(n)) / n
    randomization_date = _FIRST_RANDOMIZATION + np.floor(span * share ** (1 / p["accrual_power"])).astype(int)
    potential = (_FINAL_CUTOFF - randomization_date).astype(float)

    intermediate = stratum == "intermediate"
    extramedullary = stratum == "high, isolated extramedullary <18 mo"
    mid = np.char.find(stratum.astype(str), "18-36 mo") >= 0
    mrd_high = intermediate | (np.char.find(stratum.astype(str), ">=0.1%") >= 0)
    site = np.where(extramedullary, "extramedullary",
                    np.where(rng.random(n) < 0.15, "combined", "marrow")).astype(object)
    months = np.where(intermediate, 36 + rng.gamma(2.0, 12.0, n),
                      np.where(mid, rng.uniform(18, 36, n), rng.uniform(6, 18, n)))
    months = np.floor(months * 10) / 10
    mrd = np.where(mrd_high, np.maximum(np.round(10 ** rng.uniform(-1, np.log10(25), n), 3), 0.1),
                   np.floor(10 ** rng.uniform(-2, -1, n) * 1000) / 1000)
    n_negative = {a: FACTS["table2"]["mrd_negative_reinduction"].value[a] for a in ARMS}
    negative = np.zeros(n, dtype=bool)
    for a in ARMS:
        candidates = (arm == a) & ~mrd_high & mrd_known
        negative |= _choose(rng, candidates, n_negative[a], np.where(extramedullary, 3.0, 1.0),
                            "MRD-negative patients after reinduction")
    mrd = np.where(negative, 0.0, mrd)
    mrd = np.where(mrd_known, mrd, np.nan)
    risk_group = np.where(intermediate, "intermediate", "high").astype(object)
    age = np.empty(n)
    female = np.zeros(n, dtype=bool)
    bands = {"age_1_9": (1, 10), "age_10_12": (10, 13), "age_13_17": (13, 18), "age_18_20": (18, 21),
             "age_21_27": (21, 28)}
    for a in ARMS:
        idx = rng.permutation(np.flatnonzero(arm == a))
        start = 0
        for band, (lo, hi) in bands.items():
            k = FACTS["table1"]["age_at_enrollment"][band].value[a]
            age[idx[start:start + k]] = np.floor(rng.uniform(lo, hi, k) * 10) / 10
            start += k
        female[rng.permutation(np.flatnonzero(arm == a))[:FACTS["table1"]["sex"]["female"].value[a]]] = True

    # ---- 2. losses to follow-up ---------------------------------------------------------
    n_lost = FACTS["follow_up"]["lost_before_2_years"].value
    lost = _choose(rng, np.ones(n, dtype=bool), n_lost, what="patients lost to follow-up")
    last_contact = np.where(lost, np.floor(rng.uniform(60, np.minimum(730, potential - 1))), potential)

    # ---- 3. first events -------------------------------------------------------------------
    flow, t2 = FACTS["flow"], FACTS["table2"]
    weight = np.array([_STRATUM_EVENT_WEIGHT[s] for s in stratum]) * np.where(negative, 0.7, 1.0)
    no_cycle_1 = np.zeros(n, dtype=bool)
    event_day = np.full(n, np.inf)
    kind = np.full(n, "none", dtype=object)
    late_relapse_day = 40.5 * _DAYS_PER_MONTH
    for a in ARMS:
        in_arm = arm == a
        no_cycle_1 |= _choose(rng, in_arm & ~lost, flow["no_cycle_1"].value[a], what="patients without cycle 1")
        ltf = _choose(rng, in_arm & ~lost & ~no_cycle_1, t2["late_treatment_failure"].value[a],
                      weight * np.where(mrd_high, 2.0, 1.0), "late treatment failures")
        event_day[ltf] = rng.integers(28, 43, ltf.sum())
        kind[ltf] = "late treatment failure"
        n_late = FACTS["follow_up"]["dfs_events_after_2_years"].value[a]
        n_events = t2["relapse"].value[a] + t2["death"].value[a] - n_late
        drawn = _truncated_lognormal(rng, n, p["event_median_days"][a], p["event_sigma"], 8, 730)
        chosen = _choose(rng, in_arm & ~lost & ~ltf & (drawn < last_contact), n_events, weight,
                         "patients with a first event within 2 years")
        event_day[chosen] = np.round(drawn[chosen])
        deaths = _choose(rng, chosen, t2["death"].value[a], what="first-event deaths")
        kind[chosen] = np.where(deaths[chosen], "death", "relapse")
        if n_late:  # the one relapse in month 41: someone followed long enough to die in month 45
            late = _choose(rng, in_arm & ~lost & (event_day == np.inf) & (last_contact > 45 * _DAYS_PER_MONTH),
                           n_late, what="late relapses")
            event_day[late] = np.round(late_relapse_day)
            kind[late] = "relapse"

    # ---- 4. deaths -------------------------------------------------------------------------------
    death_day = np.where(kind == "death", event_day, np.inf)
    gap = _truncated_lognormal(rng, n, p["death_gap_median_days"], 0.8, 7, 730)
    relapsed = (kind == "relapse") | (kind == "late treatment failure")
    late_deaths = FACTS["follow_up"]["deaths_after_2_years"].extra["months"]
    for a in ARMS:
        in_arm = arm == a
        possible = in_arm & relapsed & (event_day + gap < np.minimum(last_contact, 730))
        dies = _choose(rng, possible, p["post_relapse_deaths"][a], what="deaths after relapse within 2 years")
        death_day[dies] = np.round(event_day[dies] + gap[dies])
        for month in sorted(late_deaths[a], reverse=True):
            day = np.round((month - 0.5) * _DAYS_PER_MONTH)
            cand = in_arm & relapsed & (death_day == np.inf) & (event_day < day - 60) & (last_contact > day)
            prefer = np.where(event_day == np.round(late_relapse_day), 1e6, 1.0)  # month-41 relapse dies in 45
            dies = _choose(rng, cand, 1, prefer, f"a death in month {month}")
            death_day[dies] = day

    # ---- 5. course: cycles, MRD, transplant -------------------------------------------------
    received_1 = ~no_cycle_1
    ltf_all = kind == "late treatment failure"
    mrd_1 = np.full(n, "missing", dtype=object)
    mrd_2 = np.full(n, "missing", dtype=object)
    received_2 = np.zeros(n, dtype=bool)
    hsct = np.zeros(n, dtype=bool)
    hsct_day = np.full(n, np.nan)
    free_late = event_day > 120  # no first event in the first 4 months
    for a in ARMS:
        in_arm = arm == a
        mrd_1[in_arm & ltf_all] = "positive"
        assessable = in_arm & received_1 & ~ltf_all & (event_day > _CYCLE_1_EVALUATION)
        neg = _choose(rng, assessable, t2["mrd_negative_cycle_1"].value[a],
                      np.where(negative, 4.0, 1.0) * np.where(free_late, 3.0, 1.0), "MRD-negative after cycle 1")
        mrd_1[assessable] = np.where(neg[assessable], "negative", "positive")
        day_1 = rng.uniform(45, 65, n).round()
        direct = _choose(rng, neg & (event_day > day_1) & (last_contact > day_1),
                         flow["hsct_after_cycle_1"].value[a], what="transplants after cycle 1")
        hsct |= direct
        hsct_day[direct] = day_1[direct]
        can_2 = in_arm & received_1 & ~ltf_all & ~direct & (event_day > _CYCLE_2_START)
        received_2 |= _choose(rng, can_2, flow["received_cycle_2"].value[a], np.where(free_late, 3.0, 1.0),
                              "patients receiving cycle 2")
        assessable_2 = in_arm & received_2 & (event_day > _CYCLE_2_EVALUATION)
        neg_2 = _choose(rng, assessable_2, t2["mrd_negative_cycle_2"].value[a],
                        np.where(mrd_1 == "negative", 10.0, 1.0), "MRD-negative after cycle 2")
        mrd_2[assessable_2] = np.where(neg_2[assessable_2], "negative", "positive")
        day_2 = rng.uniform(85, 125, n).round()
        after_2 = _choose(rng, in_arm & received_2 & (event_day > day_2) & (last_contact > day_2),
                          flow["underwent_hsct"].value[a] - flow["hsct_after_cycle_1"].value[a],
                          np.where(neg_2, 4.0, 1.0), "transplants after cycle 2")
        hsct |= after_2
        hsct_day[after_2] = day_2[after_2]

    # event days beyond follow-up never happen within the study
    event_day = np.where(event_day <= last_contact, event_day, np.inf)
    death_day = np.where(death_day <= last_contact, death_day, np.inf)
    kind = np.where(np.isfinite(event_day), kind, "none").astype(object)

    def frozen(x):
        x = np.asarray(x)
        x.flags.writeable = False
        return x

    return SyntheticCohort(
        patient_id=frozen(np.arange(1, n + 1)), arm=frozen(arm), treatment=frozen(is_blin),
        stratum=frozen(stratum), risk_group=frozen(risk_group), site=frozen(site),
        months_from_diagnosis=frozen(months), mrd_reinduction=frozen(mrd), age=frozen(age),
        female=frozen(female), randomization_date=frozen(randomization_date),
        received_cycle_1=frozen(received_1), received_cycle_2=frozen(received_2),
        mrd_cycle_1=frozen(mrd_1), mrd_cycle_2=frozen(mrd_2), hsct=frozen(hsct), hsct_day=frozen(hsct_day),
        first_event_day=frozen(event_day), first_event_kind=frozen(kind), death_day=frozen(death_day),
        last_contact_day=frozen(last_contact), cutoff=_FINAL_CUTOFF, seed=int(seed))


@dataclass(frozen=True)
class CalibrationTable:
    """Published target vs the synthetic cohort's value, for every calibrated summary.

    ``rows`` are ``(summary, target, tolerance, achieved, ok)``; tolerance 0
    means the count must match exactly.
    """

    rows: tuple
    seed: int
    label: str = SYNTHETIC_LABEL

    @property
    def all_ok(self) -> bool:
        return all(r[4] for r in self.rows)

    def table(self) -> str:
        width = max(len(r[0]) for r in self.rows)
        lines = [f"Synthetic AALL1331 cohort (seed={self.seed}; {self.label})",
                 f"{'summary':{width}s}  {'target':>8s}  {'tolerance':>9s}  {'achieved':>8s}  ok"]
        for name, target, tol, got, ok in self.rows:
            lines.append(f"{name:{width}s}  {target:8.4g}  {('exact' if tol == 0 else f'+-{tol:g}'):>9s}  "
                         f"{got:8.4g}  {'yes' if ok else 'NO'}")
        lines.append("Targets: Brown PA et al., JAMA 2021 (Abstract, Results, Tables 1-2, Figures 1-2).")
        lines += interim_comparison(synthetic_cohort(self.seed)).lines()
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        import html
        return f"<pre>{html.escape(self.table())}</pre>"

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame(list(self.rows), columns=["summary", "target", "tolerance", "achieved", "ok"])


def calibration_table(cohort: SyntheticCohort | None = None) -> CalibrationTable:
    """Every calibrated summary of the synthetic cohort next to the published value.

    Computed with teachkit's own estimators: Kaplan-Meier 2-year DFS and OS by
    arm (:func:`teachkit.survival.kaplan_meier`), hazard ratios from a Cox
    model stratified by the six randomization strata, Efron ties
    (:func:`teachkit.cox.cox_ph`; the paper used stratified Cox models in
    Stata), DFS events at the 30 Jun 2019 interim cutoff, reverse Kaplan-Meier
    median follow-up (:func:`teachkit.survival.median_follow_up`), and the
    exact counts of Table 2.  Also shown, and matched loosely by the search:
    the stratified log-rank Z of DFS at the interim (one-sided P = .06, so
    Z = 1.55, +-0.25), median follow-up among living patients by arm (3.1
    and 2.7 years, +-0.3),
    median time to first DFS event (6 months, +-1), and the counts of DFS
    events (1) and deaths (5) after 2 years.  Run ``python -m teachkit.cohort``
    to print it.

    >>> calibration_table().all_ok
    True
    """
    from scipy.stats import norm

    from . import cox, survival

    c = synthetic_cohort() if cohort is None else cohort
    if not isinstance(c, SyntheticCohort):
        raise TypeError(f"cohort must be a SyntheticCohort, got {type(c).__name__}")
    res, t2 = FACTS["results"], FACTS["table2"]
    rows = []

    def add(name, target, tol, got):
        ok = abs(got - target) <= tol + 1e-12
        rows.append((name, float(target), float(tol), float(got), bool(ok)))

    for endpoint, fact_name in (("DFS", "dfs_2y"), ("OS", "os_2y")):
        time, event = (c.dfs_time, c.dfs_event) if endpoint == "DFS" else (c.os_time, c.os_event)
        for a in ARMS:
            m = c.arm == a
            km = survival.kaplan_meier(time[m], event[m])
            add(f"2-year {endpoint}, {a} (%)", 100 * res[fact_name].value[a], 1.5,
                100 * float(km.survival_at(2.0)))
    for endpoint, fact_name in (("DFS", "dfs_hazard_ratio"), ("OS", "os_hazard_ratio")):
        time, event = (c.dfs_time, c.dfs_event) if endpoint == "DFS" else (c.os_time, c.os_event)
        fit = cox.cox_ph(time, event, c.treatment.astype(float), strata=c.stratum.astype(str))
        add(f"stratified Cox HR, {endpoint}", res[fact_name].value["estimate"], 0.03, float(fit.hazard_ratio[0]))
    interim = c.at_cutoff(_INTERIM_CUTOFF)
    add("DFS events at 30 Jun 2019 interim", FACTS["interim"]["events"].value, 2, int(interim.dfs_event.sum()))
    z_interim = survival.logrank_test(interim.dfs_time, interim.dfs_event, interim.arm, strata=interim.stratum,
                                      treatment="blinatumomab").z
    add("interim stratified log-rank Z, DFS (P = .06)", float(norm.isf(FACTS["interim"]["p_dfs"].value)), 0.25,
        float(z_interim))
    add("median follow-up, reverse KM (years)", res["median_follow_up_years"].value, 0.2,
        float(survival.median_follow_up(c.os_time, c.os_event)))
    fu = FACTS["follow_up"]
    for a in ARMS:  # as the paper reports it: median follow-up among living patients (Figure 2 legend)
        alive = (c.arm == a) & ~c.os_event
        add(f"median follow-up among living, {a} (years)", fu["by_arm_years"].value[a]["median"], 0.3,
            float(np.median(c.os_time[alive])))
    months = c.dfs_time[c.dfs_event] * 12
    add("median time to first DFS event (months)", fu["dfs_event_median_months"].value, 1.0,
        float(np.median(months)))
    add("first DFS events after 2 years", sum(fu["dfs_events_after_2_years"].value.values()), 0,
        int((c.dfs_time[c.dfs_event] > 2).sum()))
    add("deaths after 2 years", sum(fu["deaths_after_2_years"].value.values()), 0,
        int((c.os_time[c.os_event] > 2).sum()))
    summary = c.summary()
    for label, key, fact_key in (("late treatment failure", "first_event: late treatment failure",
                                  "late_treatment_failure"),
                                 ("relapse", "first_event: relapse", "relapse"),
                                 ("death (first event)", "first_event: death", "death"),
                                 ("MRD negative after reinduction", "mrd_negative_reinduction",
                                  "mrd_negative_reinduction"),
                                 ("MRD negative after cycle 1", "mrd_negative_cycle_1", "mrd_negative_cycle_1"),
                                 ("MRD negative after cycle 2", "mrd_negative_cycle_2", "mrd_negative_cycle_2"),
                                 ("transplant", "hsct", "hsct")):
        for a in ARMS:
            add(f"{label}, {a}", t2[fact_key].value[a], 0, summary[a][key])
    return CalibrationTable(tuple(rows), c.seed)


@dataclass(frozen=True)
class InterimComparison:
    """The synthetic cohort's stratified log-rank test at the 30 Jun 2019 interim cut-off
    next to the published one, and why they differ.

    The cohort is calibrated to the *final* summaries and to the number of events at the
    cut-off, not to the interim Z: which arm the events before the cut-off fall in is one
    random draw.  How far apart may the two be?  With t = interim / final events, the
    log-rank score is close to a Brownian motion B(t) with Z(t) = B(t) / sqrt(t) (Lan &
    Wittes 1988); given the final Z(1), B(t) ~ N(t Z(1), t (1 - t)), so

        Z(t) | Z(1)  ~  N( sqrt(t) Z(1),  1 - t ).

    For AALL1331 (final one-sided P = .03, 80 of 107 events at the interim) this is
    about N(1.63, 0.50^2): the published 1.555 and the cohort's value are both typical.
    """

    events_synthetic: int
    events_published: int
    z_synthetic: float
    z_published: float
    p_synthetic: float
    p_published: float
    information_share: float     # t = interim events / final events (published)
    z_final_published: float
    z_expected: float            # sqrt(t) Z(1)
    z_sd: float                  # sqrt(1 - t)

    def lines(self) -> list:
        return [
            f"Interim (30 Jun 2019) stratified log-rank, DFS: this synthetic cohort Z = {self.z_synthetic:.2f} "
            f"(one-sided P = {self.p_synthetic:.3f}, {self.events_synthetic} events); published "
            f"Z = {self.z_published:.2f} (P = {self.p_published:g}, {self.events_published} events).",
            "Why they differ: the cohort is calibrated to the final summaries and to the number of events "
            "at the cut-off, not to the interim Z; which arm the events before the cut-off fall in is one "
            f"random draw. Given the final result (Z = {self.z_final_published:.2f}) and t = "
            f"{self.information_share:.2f} of the final events at the interim, a trial's interim Z varies "
            f"around {self.z_expected:.2f} with SD {self.z_sd:.2f} (Brownian motion, Lan & Wittes 1988).",
        ]

    def table(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return self.table()


def interim_comparison(cohort: SyntheticCohort | None = None) -> InterimComparison:
    """The cohort's interim stratified log-rank Z next to the published interim P = .06.

    >>> r = interim_comparison()
    >>> round(r.z_published, 3), round(r.z_expected, 2), round(r.z_sd, 2)
    (1.555, 1.63, 0.5)
    >>> abs(r.z_synthetic - r.z_expected) < 2 * r.z_sd
    True
    """
    import math

    from scipy.stats import norm

    from . import survival

    c = synthetic_cohort() if cohort is None else cohort
    if not isinstance(c, SyntheticCohort):
        raise TypeError(f"cohort must be a SyntheticCohort, got {type(c).__name__}")
    if c.cutoff < _INTERIM_CUTOFF:
        raise ValueError(f"cohort was cut off on {c.cutoff}, before the interim cut-off {_INTERIM_CUTOFF}")
    at = c.at_cutoff(_INTERIM_CUTOFF)
    z = float(survival.logrank_test(at.dfs_time, at.dfs_event, at.arm, strata=at.stratum,
                                    treatment="blinatumomab").z)
    t2 = FACTS["table2"]
    final_events = sum(sum(t2[k].value.values()) for k in ("late_treatment_failure", "relapse", "death"))
    interim_events = FACTS["interim"]["events"].value
    p_pub = FACTS["interim"]["p_dfs"].value
    z_final = float(norm.isf(FACTS["results"]["dfs_p_one_sided"].value))
    t = interim_events / final_events
    return InterimComparison(int(at.dfs_event.sum()), int(interim_events), z, float(norm.isf(p_pub)),
                             float(norm.sf(z)), float(p_pub), t, z_final, math.sqrt(t) * z_final,
                             math.sqrt(1.0 - t))


if __name__ == "__main__":  # python -m teachkit.cohort
    print(calibration_table().table())
