"""AALL1331 risk groups, randomization strata, and stratified randomization.

After four weeks of reinduction every patient of AALL1331 was put into one of
four risk groups (Brown PA et al., JAMA 2021;325(9):833-842, Methods section
"Postreinduction Evaluation and Risk Assignment" and Figure 1, footnote b):

========================  ===============================================
early treatment failure   > 25% marrow blasts, or CNS leukemia not cleared
high risk                 marrow relapse (isolated or combined) < 36 months
                          after diagnosis, or isolated extramedullary
                          relapse < 18 months after diagnosis
intermediate risk         marrow relapse >= 36 months, or isolated
                          extramedullary relapse >= 18 months, and
                          MRD >= 0.1%
low risk                  the same, with MRD < 0.1%
========================  ===============================================

The high- and intermediate-risk patients were randomized 1:1, stratified by
risk group, by site of relapse within the high-risk group, and within the
high-risk marrow group by time to relapse (< 18 vs 18-36 months) and MRD
(< 0.1% vs >= 0.1%) (Methods, Randomization; Table 1).  That gives six strata.

>>> from teachkit.risk import assign_risk_group, explain_risk_group, RiskGroup
>>> assign_risk_group("marrow", 40, mrd=0.5)
<RiskGroup.INTERMEDIATE: 'intermediate'>
>>> explain_risk_group("marrow", 36, mrd=0.1).rule
'intermediate: marrow relapse >= 36 months, MRD >= 0.1%'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from numbers import Real

import numpy as np

from teachkit import _display

__all__ = [
    "RiskGroup",
    "Stratum",
    "SITES",
    "RiskAssignment",
    "assign_risk_group",
    "explain_risk_group",
    "randomization_stratum",
    "Randomization",
    "randomize",
    "Imbalance",
    "imbalance",
    "MARROW_LATE_MONTHS",
    "EXTRAMEDULLARY_LATE_MONTHS",
    "MRD_THRESHOLD_PERCENT",
    "BLAST_FAILURE_PERCENT",
]

#: Marrow relapses at or after this many months from diagnosis are "late".
MARROW_LATE_MONTHS = 36.0
#: Isolated extramedullary relapses at or after this many months are "late";
#: it is also the split of the high-risk marrow group for randomization.
EXTRAMEDULLARY_LATE_MONTHS = 18.0
#: Post-reinduction MRD (percent of marrow cells) separating intermediate
#: (>= 0.1%) from low risk (< 0.1%).
MRD_THRESHOLD_PERCENT = 0.1
#: More than this percentage of marrow blasts after reinduction is an early
#: treatment failure.
BLAST_FAILURE_PERCENT = 25.0

#: Accepted sites of first relapse.  "combined" is marrow plus extramedullary
#: and counts as a marrow relapse; "extramedullary" means *isolated*
#: extramedullary (CNS, testis) relapse.
SITES = ("marrow", "combined", "extramedullary")
_MARROW_SITES = ("marrow", "combined")


class RiskGroup(str, Enum):
    """Post-reinduction risk group of AALL1331 (Figure 1, footnote b)."""

    EARLY_TREATMENT_FAILURE = "early treatment failure"
    HIGH = "high"
    INTERMEDIATE = "intermediate"
    LOW = "low"

    def __str__(self) -> str:  # "high", not "RiskGroup.HIGH", in tables
        return self.value


class Stratum(str, Enum):
    """Randomization stratum of the high/intermediate-risk randomization (Table 1)."""

    INTERMEDIATE = "intermediate"
    HIGH_EXTRAMEDULLARY = "high, isolated extramedullary <18 mo"
    HIGH_MARROW_EARLY_MRD_LOW = "high, marrow <18 mo, MRD <0.1%"
    HIGH_MARROW_EARLY_MRD_HIGH = "high, marrow <18 mo, MRD >=0.1%"
    HIGH_MARROW_MID_MRD_LOW = "high, marrow 18-36 mo, MRD <0.1%"
    HIGH_MARROW_MID_MRD_HIGH = "high, marrow 18-36 mo, MRD >=0.1%"

    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------------
# validation at the door


def _check_site(site) -> str:
    if not isinstance(site, str):
        raise TypeError(f"site must be a string, one of {SITES}; got {type(site).__name__}")
    key = site.strip().lower()
    if key not in SITES:
        raise ValueError(f"site must be one of {SITES} (site of first relapse); got {site!r}")
    return key


def _check_number(value, name: str, *, low=None, high=None, allow_none=False):
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} is required, got None")
    if isinstance(value, bool) or not isinstance(value, (Real, np.number)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        if allow_none:
            return None  # NaN means "not measured", like None
        raise ValueError(f"{name} must not be NaN")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# --------------------------------------------------------------------------
# risk group


@dataclass(frozen=True)
class RiskAssignment:
    """Which risk group a patient falls into, and which rule put them there.

    ``rule`` is a short stable label (an explorer can highlight the matching
    row of the rules table); ``reason`` spells the comparison out with the
    patient's own numbers.
    """

    group: RiskGroup
    rule: str
    reason: str

    def __repr__(self) -> str:
        return f"RiskAssignment({self.group.value}: {self.reason})"

    def _rows(self):
        return [["risk group", self.group.value], ["rule", self.rule], ["because", self.reason]]

    def table(self) -> str:
        """The explanation as a small table: risk group, the rule that fired, and why."""
        return _display.text_table(["", "explanation"], self._rows(), align="ll")

    def _repr_html_(self) -> str:
        return _display.html_table(["", "explanation"], self._rows(), align="ll", row_headers=True)

    def __eq__(self, other):
        if isinstance(other, RiskGroup):
            return self.group is other
        if isinstance(other, RiskAssignment):
            return (self.group, self.rule, self.reason) == (other.group, other.rule, other.reason)
        return NotImplemented

    def __hash__(self):
        return hash((self.group, self.rule, self.reason))


#: Every rule label :func:`explain_risk_group` can return, in the order the
#: rules are checked.
RULES = (
    "early treatment failure: marrow blasts > 25%",
    "early treatment failure: CNS leukemia not cleared",
    "high: marrow relapse < 36 months",
    "high: isolated extramedullary relapse < 18 months",
    "intermediate: marrow relapse >= 36 months, MRD >= 0.1%",
    "intermediate: isolated extramedullary relapse >= 18 months, MRD >= 0.1%",
    "low: marrow relapse >= 36 months, MRD < 0.1%",
    "low: isolated extramedullary relapse >= 18 months, MRD < 0.1%",
)


def explain_risk_group(site, months_from_diagnosis, mrd=None, marrow_blasts=None,
                       cns_cleared=True) -> RiskAssignment:
    """Assign the AALL1331 post-reinduction risk group and say which rule fired.

    Rules, checked in this order (Methods, "Postreinduction Evaluation and Risk
    Assignment"; Figure 1, footnote b of Brown et al., JAMA 2021):

    1. early treatment failure if ``marrow_blasts > 25`` or not ``cns_cleared``;
    2. high risk if a marrow (isolated or combined) relapse came
       ``months_from_diagnosis < 36``, or an isolated extramedullary relapse
       ``< 18`` months;
    3. otherwise (late relapse) intermediate if ``mrd >= 0.1`` (percent),
       low if ``mrd < 0.1``.

    Boundaries are exactly as published: 36.0 months is late, 18.0 months
    is late for an isolated extramedullary relapse, and MRD of exactly 0.1%
    is intermediate.

    Parameters
    ----------
    site : {"marrow", "combined", "extramedullary"}
        Site of first relapse; "extramedullary" means isolated extramedullary.
    months_from_diagnosis : float
        Time from initial diagnosis to first relapse, in months (>= 0).
    mrd : float or None
        Post-reinduction marrow MRD in percent, 0-100 (0 = undetectable).
        Only needed to tell intermediate from low risk; missing (None/NaN)
        MRD for a late relapse raises ``ValueError``, because the paper's
        rules cannot place that patient.
    marrow_blasts : float or None
        Morphologic marrow blasts after reinduction, percent (0-100).  None
        means "not above 25%" (the patient was not an early treatment failure).
    cns_cleared : bool
        False when CNS leukemia persisted after reinduction.

    >>> explain_risk_group("combined", 20, marrow_blasts=30)
    RiskAssignment(early treatment failure: marrow blasts 30% > 25%)
    >>> explain_risk_group("extramedullary", 18, mrd=0.05).group
    <RiskGroup.LOW: 'low'>
    """
    site = _check_site(site)
    months = _check_number(months_from_diagnosis, "months_from_diagnosis", low=0.0)
    mrd = _check_number(mrd, "mrd", low=0.0, high=100.0, allow_none=True)
    blasts = _check_number(marrow_blasts, "marrow_blasts", low=0.0, high=100.0, allow_none=True)
    cns_cleared = _check_bool(cns_cleared, "cns_cleared")

    if blasts is not None and blasts > BLAST_FAILURE_PERCENT:
        return RiskAssignment(RiskGroup.EARLY_TREATMENT_FAILURE, RULES[0],
                              f"marrow blasts {blasts:g}% > 25%")
    if not cns_cleared:
        return RiskAssignment(RiskGroup.EARLY_TREATMENT_FAILURE, RULES[1],
                              "CNS leukemia not cleared after reinduction")

    marrow = site in _MARROW_SITES
    limit = MARROW_LATE_MONTHS if marrow else EXTRAMEDULLARY_LATE_MONTHS
    where = f"{site} relapse" if marrow else "isolated extramedullary relapse"
    if months < limit:
        return RiskAssignment(RiskGroup.HIGH, RULES[2] if marrow else RULES[3],
                              f"{where} at {months:g} months < {limit:g} months")
    if mrd is None:
        raise ValueError(
            f"mrd is required for a late {where} ({months:g} >= {limit:g} months): "
            "MRD >= 0.1% means intermediate and < 0.1% low risk; got None/NaN")
    if mrd >= MRD_THRESHOLD_PERCENT:
        return RiskAssignment(RiskGroup.INTERMEDIATE, RULES[4] if marrow else RULES[5],
                              f"{where} at {months:g} >= {limit:g} months and MRD {mrd:g}% >= 0.1%")
    return RiskAssignment(RiskGroup.LOW, RULES[6] if marrow else RULES[7],
                          f"{where} at {months:g} >= {limit:g} months and MRD {mrd:g}% < 0.1%")


def assign_risk_group(site, months_from_diagnosis, mrd=None, marrow_blasts=None,
                      cns_cleared=True) -> RiskGroup:
    """The AALL1331 post-reinduction risk group (see :func:`explain_risk_group`).

    >>> assign_risk_group("marrow", 35.9, mrd=0.0)
    <RiskGroup.HIGH: 'high'>
    >>> assign_risk_group("marrow", 36, mrd=0.09)
    <RiskGroup.LOW: 'low'>
    >>> assign_risk_group("extramedullary", 24, mrd=2.0, cns_cleared=False)
    <RiskGroup.EARLY_TREATMENT_FAILURE: 'early treatment failure'>
    """
    return explain_risk_group(site, months_from_diagnosis, mrd, marrow_blasts, cns_cleared).group


# --------------------------------------------------------------------------
# randomization strata


def randomization_stratum(site, months_from_diagnosis, mrd=None, marrow_blasts=None,
                          cns_cleared=True) -> Stratum:
    """Stratum of the high/intermediate-risk randomization (Methods, Randomization).

    Intermediate risk is one stratum; high risk splits by site (isolated
    extramedullary vs marrow), and high-risk marrow by time from diagnosis
    (< 18 vs 18-36 months) and post-reinduction MRD (< 0.1% vs >= 0.1%).

    **Missing MRD rule.**  A high-risk marrow patient whose MRD is missing
    (None or NaN: unsatisfactory or indeterminate sample) goes to the
    "MRD < 0.1%" stratum of their time band.  Two randomized patients had no
    usable MRD (Table 1 notes c and d).  Note c (chemotherapy arm, unsatisfactory
    MRD) was randomized as high-risk marrow 18-36 months, MRD < 0.1%: this rule
    is what the trial did with that patient.  Note d (blinatumomab arm, marrow
    < 18 months, indeterminate MRD) was "categorized in the high-risk group"; the
    paper does not say in which MRD stratum, so applying this rule to that
    patient is an assumption (:data:`teachkit.cohort.NOTE_D_ASSUMPTION`).

    Patients who are low risk or early treatment failures were not part of
    this randomization: ``ValueError``.

    >>> randomization_stratum("marrow", 20, mrd=None)
    <Stratum.HIGH_MARROW_MID_MRD_LOW: 'high, marrow 18-36 mo, MRD <0.1%'>
    >>> str(randomization_stratum("combined", 10, mrd=3.0))
    'high, marrow <18 mo, MRD >=0.1%'
    >>> str(randomization_stratum("marrow", 48, mrd=0.1))
    'intermediate'
    """
    site_key = _check_site(site)
    months = _check_number(months_from_diagnosis, "months_from_diagnosis", low=0.0)
    mrd_value = _check_number(mrd, "mrd", low=0.0, high=100.0, allow_none=True)
    marrow = site_key in _MARROW_SITES
    if marrow and months < MARROW_LATE_MONTHS:
        # high risk by time alone; MRD is only needed for the stratum
        group = explain_risk_group(site_key, months, None, marrow_blasts, cns_cleared).group
    else:
        group = explain_risk_group(site_key, months, mrd_value, marrow_blasts, cns_cleared).group
    if group is RiskGroup.INTERMEDIATE:
        return Stratum.INTERMEDIATE
    if group is not RiskGroup.HIGH:
        raise ValueError(
            f"a {group.value}-risk patient was not part of the high/intermediate-risk "
            f"randomization (site={site!r}, months_from_diagnosis={months:g}, mrd={mrd!r})")
    if not marrow:
        return Stratum.HIGH_EXTRAMEDULLARY
    low_mrd = mrd_value is None or mrd_value < MRD_THRESHOLD_PERCENT
    if months < EXTRAMEDULLARY_LATE_MONTHS:
        return Stratum.HIGH_MARROW_EARLY_MRD_LOW if low_mrd else Stratum.HIGH_MARROW_EARLY_MRD_HIGH
    return Stratum.HIGH_MARROW_MID_MRD_LOW if low_mrd else Stratum.HIGH_MARROW_MID_MRD_HIGH


# --------------------------------------------------------------------------
# randomization


def _strata_codes(strata):
    arr = np.asarray(strata if not isinstance(strata, str) else [strata], dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"strata must be one-dimensional (one label per patient), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("strata must hold at least one patient")
    labels = [str(s) for s in arr]
    names = sorted(set(labels))
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[s] for s in labels], dtype=np.intp), tuple(names)


def _check_reps(n_repetitions):
    if isinstance(n_repetitions, bool) or not isinstance(n_repetitions, (int, np.integer)):
        raise TypeError(f"n_repetitions must be an integer, got {type(n_repetitions).__name__}")
    if n_repetitions < 1:
        raise ValueError(f"n_repetitions must be >= 1, got {n_repetitions}")
    return int(n_repetitions)


def _check_block_sizes(block_sizes):
    sizes = np.atleast_1d(np.asarray(block_sizes))
    if sizes.size == 0 or sizes.dtype.kind not in "iu" or np.any(sizes < 2) or np.any(sizes % 2):
        raise ValueError(f"block_sizes must be positive even integers (1:1 blocks), got {block_sizes!r}")
    return sizes.astype(np.intp)


@dataclass(frozen=True)
class Randomization:
    """Arm allocations for one or many replays of a randomization.

    ``treatment`` has shape ``(n_repetitions, n_patients)``: True means
    the experimental arm (blinatumomab), False the control.
    ``strata`` holds each patient's stratum code (index into ``stratum_names``).
    """

    treatment: np.ndarray
    strata: np.ndarray
    stratum_names: tuple
    method: str

    def __post_init__(self):
        for name in ("treatment", "strata"):
            getattr(self, name).flags.writeable = False

    @property
    def n_repetitions(self) -> int:
        return self.treatment.shape[0]

    def arms(self, repetition: int = 0) -> np.ndarray:
        """Arm names ("blinatumomab"/"chemotherapy") of one repetition."""
        return np.where(self.treatment[repetition], "blinatumomab", "chemotherapy")

    def __repr__(self) -> str:
        n = self.treatment.shape[1]
        return (f"Randomization(method={self.method!r}, {self.n_repetitions} repetition(s) x "
                f"{n} patients in {len(self.stratum_names)} strata; "
                f"first repetition {int(self.treatment[0].sum())}:{n - int(self.treatment[0].sum())})")

    def _repr_html_(self) -> str:
        return f"<pre>{self.__repr__()}</pre>"


def randomize(strata, method="stratified-blocks", block_sizes=(2, 4), seed=None,
              n_repetitions=1) -> Randomization:
    """1:1 allocation of patients (in order of enrolment) to two arms.

    ``method="simple"`` tosses a fair coin for every patient.
    ``method="stratified-blocks"`` uses permuted blocks within each stratum
    (Zelen 1974; Matts & Lachin 1988): each stratum has its own sequence of
    blocks, each block's size drawn at random from ``block_sizes`` and holding
    exactly half experimental allocations in random order.  The difference
    between the arms within a stratum is then never more than
    ``max(block_sizes) / 2``.

    All ``n_repetitions`` replays are drawn at once (vectorized), so a widget
    can compare thousands of simple and stratified randomizations instantly.

    >>> r = randomize(["a", "a", "b", "b", "a", "a"], seed=1)
    >>> r.treatment.shape, int(r.treatment.sum()) in (2, 3, 4)
    ((1, 6), True)
    >>> bool(imbalance(r).max_abs[0] <= 2)
    True
    """
    codes, names = _strata_codes(strata)
    reps = _check_reps(n_repetitions)
    rng = np.random.default_rng(seed)
    n = codes.size
    if method == "simple":
        treat = rng.random((reps, n)) < 0.5
        return Randomization(treat, codes, names, method)
    if method != "stratified-blocks":
        raise ValueError(f"method must be 'stratified-blocks' or 'simple', got {method!r}")
    sizes = _check_block_sizes(block_sizes)
    treat = np.empty((reps, n), dtype=bool)
    for s in range(len(names)):  # loop over strata (a handful), vectorized over replays
        members = np.flatnonzero(codes == s)
        m = members.size
        n_blocks = -(-m // int(sizes.min()))
        block = rng.choice(sizes, size=(reps, n_blocks))
        ends = np.cumsum(block, axis=1)
        starts = ends - block
        length = int(ends[:, -1].max())  # lay out whole blocks, then keep the first m slots
        marks = np.zeros((reps, length + 1), dtype=np.intp)
        np.put_along_axis(marks, starts, 1, axis=1)
        np.put_along_axis(marks, ends[:, -1:], 1, axis=1)  # slots after the last block
        which = np.cumsum(marks, axis=1)[:, :length] - 1  # block index of each slot
        inside = np.minimum(which, n_blocks - 1)
        size_here = np.take_along_axis(block, inside, axis=1)
        start_here = np.take_along_axis(starts, inside, axis=1)
        # a random order inside each block: sort by block index + uniform key
        order = np.argsort(which + rng.random((reps, length)), axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.broadcast_to(np.arange(length), (reps, length)), axis=1)
        slots = (rank - start_here) < size_here // 2
        treat[:, members] = slots[:, :m]
    return Randomization(treat, codes, names, method)


@dataclass(frozen=True)
class Imbalance:
    """Arm imbalance within strata, for each repetition of a randomization.

    ``difference[r, s]`` = (experimental - control) in stratum ``s`` of
    repetition ``r``; ``max_abs[r]`` the largest absolute difference over the
    strata; ``total[r]`` the overall difference.
    """

    difference: np.ndarray
    max_abs: np.ndarray
    total: np.ndarray
    stratum_names: tuple
    method: str

    def __post_init__(self):
        for name in ("difference", "max_abs", "total"):
            getattr(self, name).flags.writeable = False

    def summary(self):
        """Mean |difference| per stratum and the share of repetitions with any |difference| > 2."""
        return {
            "mean_abs_difference": dict(zip(self.stratum_names, np.abs(self.difference).mean(axis=0))),
            "share_max_abs_over_2": float((self.max_abs > 2).mean()),
            "mean_abs_total": float(np.abs(self.total).mean()),
        }

    def _layout(self):
        header = ["stratum", "mean |E - C|", "max |E - C|"]
        rows = []
        for name, d in zip([*self.stratum_names, "overall"],
                           [*np.abs(self.difference).T, np.abs(self.total)]):
            rows.append([str(name), f"{d.mean():.2f}", f"{int(d.max())}"])
        return header, rows

    def table(self) -> str:
        """Mean and largest |experimental - control| per stratum and overall, over the repetitions."""
        header, rows = self._layout()
        return _display.text_table(header, rows, align="lrr")

    def __repr__(self) -> str:
        return (f"Imbalance(method={self.method!r}, {self.difference.shape[0]} repetition(s), "
                f"mean max |E - C| within strata = {self.max_abs.mean():.2f})")

    def _repr_html_(self) -> str:
        header, rows = self._layout()
        return _display.html_table(header, rows, align="lrr", title=repr(self))

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame(self.difference, columns=list(self.stratum_names))


def imbalance(randomization, strata=None) -> Imbalance:
    """Experimental minus control count within each stratum, per repetition.

    Pass a :class:`Randomization`, or a boolean treatment array of shape
    ``(n_patients,)`` or ``(n_repetitions, n_patients)`` together with ``strata``.
    Vectorized: one matrix product over all repetitions,
    ``difference = (2 * treatment - 1) @ onehot(strata)``.

    >>> imb = imbalance([True, False, True, True], strata=["x", "x", "y", "y"])
    >>> imb.difference.tolist(), imb.total.tolist()
    ([[0, 2]], [2])
    """
    if isinstance(randomization, Randomization):
        if strata is not None:
            raise ValueError("strata must be None when a Randomization is passed (it carries its strata)")
        treat, codes, names, method = (randomization.treatment, randomization.strata,
                                       randomization.stratum_names, randomization.method)
    else:
        if strata is None:
            raise ValueError("strata is required when randomization is a treatment array")
        treat = np.asarray(randomization)
        if treat.dtype != bool:
            raise TypeError(f"randomization must be boolean (True = experimental arm), got dtype {treat.dtype}")
        treat = np.atleast_2d(treat)
        codes, names = _strata_codes(strata)
        if treat.ndim != 2 or treat.shape[1] != codes.size:
            raise ValueError(f"randomization has shape {treat.shape}; expected (n_repetitions, {codes.size}) "
                             "to match strata")
        method = "given"
    onehot = np.zeros((codes.size, len(names)), dtype=np.int64)
    onehot[np.arange(codes.size), codes] = 1
    signed = 2 * treat.astype(np.int64) - 1
    diff = signed @ onehot
    return Imbalance(diff, np.abs(diff).max(axis=1), signed.sum(axis=1), names, method)
