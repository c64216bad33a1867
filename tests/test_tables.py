"""teachkit.tables against AALL1331 Table 2, R (survival_r_tables.json), statsmodels
and the definitions of the exact interval."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import nchypergeom_fisher

from teachkit.tables import compare_proportions, wilson_ci

DATA = Path(__file__).resolve().parent / "data"
R_TABLES = json.loads((DATA / "survival_r_tables.json").read_text(encoding="utf-8"))["rows"]


def _r(v):  # round half away from zero, as a journal table does
    return float(np.sign(v) * np.floor(abs(v) + 0.5))


def pct(v):
    return _r(100 * v)


# Brown et al., JAMA 2021, Table 2: blinatumomab n=105 vs chemotherapy n=103.
# (name, x1, x2, difference, diff CI, OR, OR CI, P)
TABLE2 = [
    ("late treatment failure", 1, 9, -8, (-14, -2), None, None, None),
    ("relapse", 35, 32, 2, (-10, 15), None, None, None),
    ("death", 12, 18, -6, (-16, 3), None, None, None),
    ("MRD negative, reinduction", 26, 31, -5, (-17, 7), 0.76, (0.4, 1.5), 0.39),
    ("MRD negative, cycle 1", 79, 33, 43, (31, 55), 6.4, (3.4, 12.4), "<.001"),
    ("MRD negative, cycle 2", 69, 33, 34, (21, 46), 4.1, (2.2, 7.6), "<.001"),
    ("transplant", 74, 44, 27, (15, 41), 3.2, (1.7, 5.9), "<.001"),
]


@pytest.mark.parametrize("row", TABLE2, ids=[r[0] for r in TABLE2])
def test_table2_wald_difference_exact_or_pearson_p(row):
    name, x1, x2, diff, diff_ci, or_, or_ci, p = row
    r = compare_proportions(x1, 105, x2, 103)
    assert (pct(r.difference_ci_wald.low), pct(r.difference_ci_wald.high)) == diff_ci
    # printed difference = difference of the rounded percentages (see module docstring)
    assert pct(r.p1) - pct(r.p2) == diff
    if name == "transplant":
        assert pct(r.difference) == 28  # 27.8%: the one row where the two roundings differ
    else:
        assert pct(r.difference) == diff
    if or_ is not None:
        digits = 2 if or_ < 1 else 1
        assert round(r.odds_ratio, digits) == or_
        assert (round(r.odds_ratio_ci_exact.low, 1),
                round(r.odds_ratio_ci_exact.high, 1)) == or_ci
    if p == "<.001":
        assert r.chi2_p_value < 0.001 and r.fisher_p_value < 0.001
    elif p is not None:
        assert round(r.chi2_p_value, 2) == p
        assert round(r.fisher_p_value, 2) != p  # Fisher's test gives .44: not what was used


def test_table2_which_methods_do_not_reproduce():
    """The alternatives fail on some rows: this is how the methods were identified."""
    newcombe_misses = [name for name, x1, x2, _, diff_ci, *_ in TABLE2
                       if (pct(compare_proportions(x1, 105, x2, 103).difference_ci_newcombe.low),
                           pct(compare_proportions(x1, 105, x2, 103).difference_ci_newcombe.high))
                       != diff_ci]
    assert newcombe_misses == ["late treatment failure", "death", "MRD negative, cycle 1",
                               "MRD negative, cycle 2", "transplant"]
    c1 = compare_proportions(79, 105, 33, 103)
    assert (round(c1.odds_ratio_ci_woolf.low, 1), round(c1.odds_ratio_ci_woolf.high, 1)) == (
        3.5, 11.8)
    c2 = compare_proportions(69, 105, 33, 103)
    assert round(c2.odds_ratio_conditional, 1) == 4.0  # the paper prints ad/bc = 4.1


@pytest.mark.parametrize("ref", R_TABLES, ids=lambda r: f"{r['x1']}/{r['n1']}-{r['x2']}/{r['n2']}")
def test_matches_r(ref):
    r = compare_proportions(ref["x1"], ref["n1"], ref["x2"], ref["n2"])
    np.testing.assert_allclose(wilson_ci(ref["x1"], ref["n1"]), ref["wilson1"], atol=1e-9)
    np.testing.assert_allclose(wilson_ci(ref["x2"], ref["n2"]), ref["wilson2"], atol=1e-9)
    assert r.chi2 == pytest.approx(ref["chisq"][0], abs=1e-9)
    assert r.chi2_p_value == pytest.approx(ref["chisq_p"][0], abs=1e-9)
    assert r.fisher_p_value == pytest.approx(ref["fisher_p"][0], abs=1e-9)
    # R's fisher.test finds its estimate and CI with uniroot (tolerance ~1e-4), so it
    # is accurate to about 4 digits; scipy solves to machine precision (checked below).
    ref_or = np.inf if ref["fisher_or"][0] == "Inf" else ref["fisher_or"][0]
    assert r.odds_ratio_conditional == pytest.approx(ref_or, rel=2e-3, abs=1e-6)
    ref_ci = [np.inf if v == "Inf" else v for v in ref["fisher_ci"]]
    np.testing.assert_allclose(r.odds_ratio_ci_exact, ref_ci, rtol=2e-3, atol=1e-6)


@pytest.mark.parametrize("x1,n1,x2,n2", [(79, 105, 33, 103), (26, 105, 31, 103),
                                         (3, 12, 9, 11), (1, 105, 9, 103)])
def test_exact_ci_solves_its_definition(x1, n1, x2, n2):
    r = compare_proportions(x1, n1, x2, n2)
    total, yes = n1 + n2, x1 + x2
    low, high = r.odds_ratio_ci_exact
    # P(X >= x1 | low) = P(X <= x1 | high) = 0.025 under Fisher's noncentral hypergeometric
    assert nchypergeom_fisher.sf(x1 - 1, total, n1, yes, low) == pytest.approx(0.025, abs=1e-9)
    assert nchypergeom_fisher.cdf(x1, total, n1, yes, high) == pytest.approx(0.025, abs=1e-9)


@pytest.mark.parametrize("x1,n1,x2,n2", [(79, 105, 33, 103), (3, 12, 9, 11), (1, 40, 0, 35),
                                         (20, 20, 15, 30), (5, 9, 4, 7)])
def test_matches_statsmodels(x1, n1, x2, n2):
    from statsmodels.stats.contingency_tables import Table2x2
    from statsmodels.stats.proportion import confint_proportions_2indep

    r = compare_proportions(x1, n1, x2, n2)
    np.testing.assert_allclose(r.difference_ci_wald, confint_proportions_2indep(
        x1, n1, x2, n2, method="wald", compare="diff"), atol=1e-12)
    np.testing.assert_allclose(r.difference_ci_newcombe, confint_proportions_2indep(
        x1, n1, x2, n2, method="newcomb", compare="diff"), atol=1e-12)
    if min(x1, n1 - x1, x2, n2 - x2) > 0:
        t = Table2x2(np.array([[x1, n1 - x1], [x2, n2 - x2]]))
        assert r.odds_ratio == pytest.approx(t.oddsratio)
        np.testing.assert_allclose(r.odds_ratio_ci_woolf, t.oddsratio_confint(), rtol=1e-12)
    else:
        assert np.isnan(r.odds_ratio_ci_woolf).all()


def test_wilson_closed_form_and_conf_level():
    # n = 1, x = 0 at z: interval (0, z^2 / (1 + z^2))
    from scipy.stats import norm

    z = norm.ppf(0.95)
    low, high = wilson_ci(0, 1, conf_level=0.90)
    assert low == pytest.approx(0.0, abs=1e-15) and high == pytest.approx(z * z / (1 + z * z))
    r90 = compare_proportions(79, 105, 33, 103, conf_level=0.90)
    r95 = compare_proportions(79, 105, 33, 103)
    assert r90.difference_ci_wald.high - r90.difference_ci_wald.low == pytest.approx(
        (r95.difference_ci_wald.high - r95.difference_ci_wald.low) * z / norm.ppf(0.975))


def test_degenerate_tables_are_explicit():
    r = compare_proportions(0, 10, 0, 12)
    assert r.difference == 0 and np.isnan(r.odds_ratio) and np.isnan(r.chi2)
    assert r.fisher_p_value == 1.0
    r = compare_proportions(10, 10, 3, 12)
    assert np.isinf(r.odds_ratio) and np.isinf(r.odds_ratio_ci_exact.high)
    assert np.isnan(r.odds_ratio_ci_woolf.low)


def test_display():
    r = compare_proportions(79, 105, 33, 103)
    text = repr(r)
    assert "79/105 (75.2%) vs 33/103 (32.0%)" in text and "6.445" in text
    assert "<table>" in r._repr_html_()
    frame = r.to_frame()
    assert frame["yes"].tolist() == [79, 33, 112] and frame["total"].tolist() == [105, 103, 208]
    assert r.min_expected == pytest.approx(96 * 103 / 208)


@pytest.mark.parametrize("args,exc,match", [
    ((106, 105, 33, 103), ValueError, "x1 must be between 0 and n1=105"),
    ((-1, 105, 33, 103), ValueError, "x1 must be between 0"),
    ((1, 105, 33, 0), ValueError, "n2 must be >= 1"),
    ((1.5, 105, 33, 103), TypeError, "x1 must be a whole number"),
    ((True, 105, 33, 103), TypeError, "x1 must be a whole number"),
    ((1, "105", 33, 103), TypeError, "n1 must be a whole number"),
])
def test_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        compare_proportions(*args)


def test_bad_conf_level():
    with pytest.raises(ValueError, match="conf_level must be strictly between 0 and 1"):
        compare_proportions(1, 2, 1, 2, conf_level=1.0)
    with pytest.raises(TypeError, match="conf_level"):
        wilson_ci(1, 2, conf_level=None)
