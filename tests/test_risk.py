"""Risk groups, randomization strata and stratified randomization (teachkit.risk).

The rules are checked against the paper's wording (Brown PA et al., JAMA 2021,
Methods "Postreinduction Evaluation and Risk Assignment", Figure 1 footnote b,
Methods "Randomization", Table 1 footnotes c-d) case by case at every boundary,
and against an independently written oracle with hypothesis.
"""

from __future__ import annotations

import html

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from teachkit import risk
from teachkit.risk import (RULES, Imbalance, Randomization, RiskGroup, Stratum, assign_risk_group,
                           explain_risk_group, imbalance, randomization_stratum, randomize)

ETF, HIGH, INT, LOW = (RiskGroup.EARLY_TREATMENT_FAILURE, RiskGroup.HIGH, RiskGroup.INTERMEDIATE,
                       RiskGroup.LOW)


# ---------------------------------------------------------------- risk groups at the boundaries


@pytest.mark.parametrize("site, months, mrd, expected", [
    # marrow (isolated or combined): < 36 months high, >= 36 months by MRD
    ("marrow", 35.99, 5.0, HIGH), ("marrow", 35.99, 0.0, HIGH),
    ("marrow", 36.0, 0.1, INT), ("marrow", 36.0, 0.0999, LOW), ("marrow", 36.0, 0.0, LOW),
    ("combined", 35.99, 0.0, HIGH), ("combined", 36.0, 0.1, INT), ("combined", 100, 0.05, LOW),
    # a marrow relapse at 18-36 months is high risk, never intermediate
    ("marrow", 18.0, 50.0, HIGH), ("marrow", 0.0, 0.0, HIGH),
    # isolated extramedullary: < 18 months high, >= 18 months by MRD
    ("extramedullary", 17.99, 0.0, HIGH), ("extramedullary", 18.0, 0.1, INT),
    ("extramedullary", 18.0, 0.0999, LOW), ("extramedullary", 30.0, 3.0, INT),
    ("extramedullary", 40.0, 0.0, LOW),
])
def test_risk_group_boundaries_as_published(site, months, mrd, expected):
    assert assign_risk_group(site, months, mrd=mrd) is expected
    assert assign_risk_group(site, months, mrd=mrd) == expected


@pytest.mark.parametrize("blasts, cleared, expected", [
    (25.0, True, LOW), (25.01, True, ETF), (100.0, True, ETF), (0.0, False, ETF), (None, False, ETF),
    (None, True, LOW),
])
def test_early_treatment_failure(blasts, cleared, expected):
    # a late marrow relapse with low MRD would otherwise be low risk
    assert assign_risk_group("marrow", 48, mrd=0.01, marrow_blasts=blasts, cns_cleared=cleared) is expected


def test_early_treatment_failure_overrides_every_other_rule():
    for site, months in itertools.product(risk.SITES, (5, 20, 40)):
        assert assign_risk_group(site, months, mrd=None, marrow_blasts=60) is ETF
        assert assign_risk_group(site, months, mrd=None, cns_cleared=False) is ETF


def test_explain_names_the_rule_that_fired():
    cases = [
        (("marrow", 10), dict(marrow_blasts=30), 0),
        (("marrow", 10), dict(cns_cleared=False), 1),
        (("combined", 12), {}, 2),
        (("extramedullary", 12), {}, 3),
        (("marrow", 40), dict(mrd=1.0), 4),
        (("extramedullary", 20), dict(mrd=1.0), 5),
        (("marrow", 40), dict(mrd=0.0), 6),
        (("extramedullary", 20), dict(mrd=0.01), 7),
    ]
    fired = set()
    for args, kwargs, k in cases:
        res = explain_risk_group(*args, **kwargs)
        assert res.rule == RULES[k]
        assert res.group is assign_risk_group(*args, **kwargs)
        assert res == res.group  # usable where a RiskGroup is expected
        assert res.rule.split(":")[0] == res.group.value
        assert res.group.value in repr(res) and html.escape(res.rule) in res._repr_html_()
        assert res.rule in res.table() and res.reason in res.table()
        fired.add(res.rule)
    assert fired == set(RULES)
    assert "40 >= 36 months" in explain_risk_group("marrow", 40, mrd=1.0).reason
    assert "MRD 1% >= 0.1%" in explain_risk_group("marrow", 40, mrd=1.0).reason


def test_risk_group_enum():
    assert [g.value for g in RiskGroup] == ["early treatment failure", "high", "intermediate", "low"]
    assert str(RiskGroup.HIGH) == "high" and RiskGroup("low") is LOW


def test_numpy_scalars_and_nan_mrd():
    assert assign_risk_group("marrow", np.float64(40), mrd=np.float32(0.5)) is INT
    assert assign_risk_group("marrow", np.int64(12), mrd=np.nan) is HIGH


# ---------------------------------------------------------------- missing MRD


def test_missing_mrd_for_a_late_relapse_is_an_error_naming_mrd():
    for site, months in (("marrow", 36), ("combined", 60), ("extramedullary", 18)):
        with pytest.raises(ValueError, match="mrd is required"):
            assign_risk_group(site, months)
        with pytest.raises(ValueError, match="mrd is required"):
            assign_risk_group(site, months, mrd=float("nan"))


def test_missing_mrd_in_high_risk_marrow_goes_to_the_low_mrd_stratum():
    # Table 1 footnote c: unsatisfactory MRD, marrow relapse 18-36 months ->
    # stratum "high-risk marrow 18 to <36 mo, MRD <0.1%"
    assert randomization_stratum("marrow", 24, mrd=None) is Stratum.HIGH_MARROW_MID_MRD_LOW
    assert randomization_stratum("marrow", 24, mrd=float("nan")) is Stratum.HIGH_MARROW_MID_MRD_LOW
    # Table 1 footnote d: indeterminate MRD, marrow relapse < 18 months -> high-risk group
    assert randomization_stratum("combined", 10, mrd=None) is Stratum.HIGH_MARROW_EARLY_MRD_LOW
    assert assign_risk_group("combined", 10, mrd=None) is HIGH
    # extramedullary < 18 months needs no MRD
    assert randomization_stratum("extramedullary", 10) is Stratum.HIGH_EXTRAMEDULLARY


# ---------------------------------------------------------------- strata


@pytest.mark.parametrize("site, months, mrd, expected", [
    ("marrow", 36, 0.1, Stratum.INTERMEDIATE), ("extramedullary", 18, 5, Stratum.INTERMEDIATE),
    ("extramedullary", 17.9, 5, Stratum.HIGH_EXTRAMEDULLARY),
    ("marrow", 17.99, 0.0999, Stratum.HIGH_MARROW_EARLY_MRD_LOW),
    ("marrow", 17.99, 0.1, Stratum.HIGH_MARROW_EARLY_MRD_HIGH),
    ("combined", 18.0, 0.0999, Stratum.HIGH_MARROW_MID_MRD_LOW),
    ("combined", 35.99, 0.1, Stratum.HIGH_MARROW_MID_MRD_HIGH),
])
def test_randomization_strata(site, months, mrd, expected):
    assert randomization_stratum(site, months, mrd=mrd) is expected


def test_six_strata_as_table1():
    assert len(Stratum) == 6
    assert {s.value for s in Stratum} >= {"intermediate", "high, marrow 18-36 mo, MRD <0.1%"}


@pytest.mark.parametrize("kwargs, group", [
    (dict(site="marrow", months_from_diagnosis=40, mrd=0.05), "low"),
    (dict(site="extramedullary", months_from_diagnosis=24, mrd=0.0), "low"),
    (dict(site="marrow", months_from_diagnosis=12, mrd=1.0, marrow_blasts=40), "early treatment failure"),
    (dict(site="marrow", months_from_diagnosis=12, cns_cleared=False), "early treatment failure"),
])
def test_strata_refuse_patients_outside_the_randomization(kwargs, group):
    with pytest.raises(ValueError, match=f"{group}-risk patient was not part"):
        randomization_stratum(**kwargs)


# ---------------------------------------------------------------- oracle (hypothesis)


def oracle(site, months, mrd, blasts, cleared):
    """The paper's four definitions, written as a lookup over independent flags."""
    failed = (blasts is not None and blasts > 25) or not cleared
    is_marrow = site != "extramedullary"
    early = months < (36 if is_marrow else 18)
    if failed:
        return ETF
    if early:
        return HIGH
    return INT if mrd >= 0.1 else LOW


@settings(max_examples=300, deadline=None)
@given(site=st.sampled_from(risk.SITES),
       months=st.one_of(st.sampled_from([0.0, 17.99, 18.0, 35.99, 36.0]), st.floats(0, 300)),
       mrd=st.one_of(st.sampled_from([0.0, 0.0999, 0.1, 100.0]), st.floats(0, 100)),
       blasts=st.one_of(st.none(), st.sampled_from([25.0, 25.000001]), st.floats(0, 100)),
       cleared=st.booleans())
def test_assign_matches_oracle(site, months, mrd, blasts, cleared):
    got = assign_risk_group(site, months, mrd=mrd, marrow_blasts=blasts, cns_cleared=cleared)
    assert got is oracle(site, months, mrd, blasts, cleared)
    if got in (HIGH, INT):
        s = randomization_stratum(site, months, mrd=mrd, marrow_blasts=blasts, cns_cleared=cleared)
        assert (s is Stratum.INTERMEDIATE) == (got is INT)
        if site == "extramedullary" and got is HIGH:
            assert s is Stratum.HIGH_EXTRAMEDULLARY
        if site != "extramedullary" and got is HIGH:
            assert ("<18 mo" in s.value) == (months < 18)
            assert (">=0.1%" in s.value) == (mrd >= 0.1)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(site="bone", months_from_diagnosis=10), ValueError, "site"),
    (dict(site="CNS", months_from_diagnosis=10), ValueError, "site"),
    (dict(site=3, months_from_diagnosis=10), TypeError, "site"),
    (dict(site="marrow", months_from_diagnosis=-1), ValueError, "months_from_diagnosis"),
    (dict(site="marrow", months_from_diagnosis=float("nan")), ValueError, "months_from_diagnosis"),
    (dict(site="marrow", months_from_diagnosis="12"), TypeError, "months_from_diagnosis"),
    (dict(site="marrow", months_from_diagnosis=True), TypeError, "months_from_diagnosis"),
    (dict(site="marrow", months_from_diagnosis=40, mrd=-0.01), ValueError, "mrd"),
    (dict(site="marrow", months_from_diagnosis=40, mrd=100.5), ValueError, "mrd"),
    (dict(site="marrow", months_from_diagnosis=10, mrd=101), ValueError, "mrd"),
    (dict(site="marrow", months_from_diagnosis=10, marrow_blasts=-1), ValueError, "marrow_blasts"),
    (dict(site="marrow", months_from_diagnosis=10, marrow_blasts=120), ValueError, "marrow_blasts"),
    (dict(site="marrow", months_from_diagnosis=10, cns_cleared="yes"), TypeError, "cns_cleared"),
])
def test_bad_input_names_the_argument(kwargs, exc, match):
    for f in (assign_risk_group, explain_risk_group, randomization_stratum):
        with pytest.raises(exc, match=match):
            f(**kwargs)


def test_mrd_out_of_range_is_rejected_even_when_not_needed():
    with pytest.raises(ValueError, match="mrd"):
        assign_risk_group("marrow", 10, mrd=150)


# ---------------------------------------------------------------- randomization


def _strata(n=208, seed=0):
    rng = np.random.default_rng(seed)
    labels = [s.value for s in Stratum]
    return rng.choice(labels, size=n, p=[0.34, 0.1, 0.09, 0.08, 0.2, 0.19])


def test_stratified_blocks_bound_every_prefix_within_every_stratum():
    strata = _strata()
    r = randomize(strata, seed=7, n_repetitions=500)
    assert isinstance(r, Randomization) and r.treatment.shape == (500, 208)
    for s in np.unique(strata):
        cols = r.treatment[:, strata == s]
        running = np.cumsum(2 * cols.astype(int) - 1, axis=1)
        assert np.abs(running).max() <= 2  # blocks of 2 or 4: never more than 2 apart
    # with blocks of 2 only, every even prefix is exactly balanced
    r2 = randomize(strata, block_sizes=(2,), seed=3, n_repetitions=200)
    for s in np.unique(strata):
        running = np.cumsum(2 * r2.treatment[:, strata == s].astype(int) - 1, axis=1)
        assert np.all(running[:, 1::2] == 0)


def test_permuted_block_of_four_is_uniform_over_its_six_orders():
    r = randomize(["x"] * 4, block_sizes=(4,), seed=11, n_repetitions=6000)
    codes = r.treatment.astype(int) @ np.array([8, 4, 2, 1])
    assert np.all(r.treatment.sum(axis=1) == 2)
    counts = np.array([(codes == c).sum() for c in (3, 5, 6, 9, 10, 12)])
    assert counts.sum() == 6000
    assert stats.chisquare(counts).pvalue > 1e-3


def test_block_sizes_drawn_from_both_sizes():
    # with sizes (2, 4) the first block is 2 with probability 1/2: after two
    # patients the stratum is balanced in every size-2 block, and in 1/3 of size-4 blocks
    r = randomize(["x"] * 8, seed=5, n_repetitions=20000)
    balanced_after_2 = (r.treatment[:, :2].sum(axis=1) == 1).mean()
    assert balanced_after_2 == pytest.approx(0.5 + 0.5 * 4 / 6, abs=0.015)


def test_simple_randomization_is_a_fair_coin_and_less_balanced():
    strata = _strata()
    simple = randomize(strata, method="simple", seed=1, n_repetitions=2000)
    share = simple.treatment.mean()
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / simple.treatment.size)
    blocks = randomize(strata, seed=1, n_repetitions=2000)
    i_simple, i_blocks = imbalance(simple), imbalance(blocks)
    assert i_simple.max_abs.mean() > 3 * i_blocks.max_abs.mean()
    # the overall difference of simple randomization has variance n (sum of +-1 coins)
    assert np.var(i_simple.total) == pytest.approx(208, rel=0.1)


def test_randomize_is_reproducible():
    strata = _strata(50)
    a = randomize(strata, seed=42, n_repetitions=3).treatment
    b = randomize(strata, seed=42, n_repetitions=3).treatment
    c = randomize(strata, seed=43, n_repetitions=3).treatment
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_imbalance_against_a_plain_loop():
    strata = ["a", "b", "a", "c", "b", "a", "a"]
    treat = np.array([[1, 0, 1, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0, 0]], dtype=bool)
    imb = imbalance(treat, strata=strata)
    assert isinstance(imb, Imbalance)
    for r in range(2):
        for j, s in enumerate(imb.stratum_names):
            expected = sum((1 if treat[r, i] else -1) for i in range(7) if strata[i] == s)
            assert imb.difference[r, j] == expected
    assert imb.total.tolist() == [3, -7]
    assert imb.max_abs.tolist() == [2, 4]
    assert "overall" in imb.table() and "Imbalance" in repr(imb)
    lines = imb.table().splitlines()
    assert lines[0].split("  ")[0] == "stratum" and lines[-1].split() == ["overall", "5.00", "7"]
    assert "<table>" in imb._repr_html_() and "overall" in imb._repr_html_()
    summary = imb.summary()
    assert summary["share_max_abs_over_2"] == 0.5


def test_randomization_object():
    r = randomize(["s1", "s2", "s1", "s2"], seed=0)
    assert set(r.arms(0)) <= {"blinatumomab", "chemotherapy"}
    assert "stratified-blocks" in repr(r) and "<pre>" in r._repr_html_()
    assert r.stratum_names == ("s1", "s2")


def test_vectorized_randomization_runs_many_replays():
    # (its speed is measured by tests/benchmarks, never asserted in a test)
    strata = _strata()
    for method in ("simple", "stratified-blocks"):
        imb = imbalance(randomize(strata, method=method, seed=0, n_repetitions=2000))
        assert imb.max_abs.shape == (2000,) and (imb.max_abs >= 0).all()


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(method="urn"), ValueError, "method"),
    (dict(block_sizes=(3,)), ValueError, "block_sizes"),
    (dict(block_sizes=(0, 2)), ValueError, "block_sizes"),
    (dict(block_sizes=(2.0, 4.0)), ValueError, "block_sizes"),
    (dict(n_repetitions=0), ValueError, "n_repetitions"),
    (dict(n_repetitions=2.5), TypeError, "n_repetitions"),
])
def test_randomize_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        randomize(["a", "b"], **kwargs)


def test_strata_and_imbalance_bad_input():
    with pytest.raises(ValueError, match="strata"):
        randomize([])
    with pytest.raises(ValueError, match="strata"):
        randomize([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="strata is required"):
        imbalance(np.array([True, False]))
    with pytest.raises(TypeError, match="boolean"):
        imbalance(np.array([1, 0]), strata=["a", "b"])
    with pytest.raises(ValueError, match="shape"):
        imbalance(np.array([True, False, True]), strata=["a", "b"])
    with pytest.raises(ValueError, match="strata must be None"):
        imbalance(randomize(["a"], seed=0), strata=["a"])
