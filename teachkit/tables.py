"""2 x 2 tables: comparing two proportions x1/n1 and x2/n2.

:func:`compare_proportions` gives, for "x1 of n1 in group 1 vs x2 of n2 in group 2":

* the difference of proportions p1 - p2 with a Wald CI and a Newcombe (hybrid score) CI;
* the odds ratio with a Woolf (log-scale Wald) CI and an exact conditional CI;
* Pearson's chi-square test (no continuity correction) and Fisher's exact test.

Which methods did AALL1331's Table 2 use? (Brown et al., JAMA 2021; analyses in
Stata 15.1, "Statistical Analysis".) Checking every row of Table 2 against each
method (``tests/test_tables.py`` does this):

* **Absolute difference: Wald CI** (Stata ``cs``: :math:`p_1 - p_2 \\pm z
  \\sqrt{p_1 q_1/n_1 + p_2 q_2/n_2}`). It reproduces all seven rows. The Newcombe
  interval misses five of them, e.g. MRD after cycle 1 gives 30 to 54, not 31 to 55.
  One point estimate, transplant 74/105 vs 44/103, is printed as 27 although
  p1 - p2 = 27.8%: the table shows the difference of the *rounded* percentages,
  70% - 43%. In every other row the two ways of rounding agree.
* **Odds ratio: the sample odds ratio ad/bc with the exact conditional CI** (Stata
  ``cc``, whose default interval is exact). It reproduces all four rows, e.g. 6.4
  (3.4 to 12.4). The Woolf and Cornfield intervals give 3.5 to 11.8 for cycle 1.
  The conditional maximum-likelihood estimate gives 4.0 instead of 4.1 for cycle 2,
  so the printed point estimate is ad/bc.
* **P values: Pearson chi-square**. For MRD at the end of reinduction the paper's
  P = .39 is the chi-square P (0.388); Fisher's exact test gives 0.438.

>>> r = compare_proportions(79, 105, 33, 103)   # Table 2, negative MRD after cycle 1
>>> print(f"{100 * r.difference:.0f} ({100 * r.difference_ci_wald.low:.0f} to "
...       f"{100 * r.difference_ci_wald.high:.0f}); OR {r.odds_ratio:.1f} "
...       f"({r.odds_ratio_ci_exact.low:.1f} to {r.odds_ratio_ci_exact.high:.1f})")
43 (31 to 55); OR 6.4 (3.4 to 12.4)
"""

from __future__ import annotations

import html
import numbers
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.stats.contingency import odds_ratio as _scipy_odds_ratio

from .survival import ConfidenceInterval, StepTable

__all__ = ["compare_proportions", "TwoByTwo", "wilson_ci", "ConfidenceInterval"]


def _check_count(value, name):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a whole number (a count); got the boolean {value!r}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            return int(value)
        raise TypeError(f"{name} must be a whole number (a count); got {value!r}")
    return int(value)


def _check_counts(x, n, xname, nname):
    x, n = _check_count(x, xname), _check_count(n, nname)
    if n < 1:
        raise ValueError(f"{nname} must be >= 1; got {n}")
    if not 0 <= x <= n:
        raise ValueError(f"{xname} must be between 0 and {nname}={n}; got {x}")
    return x, n


def _z(conf_level):
    if isinstance(conf_level, bool) or not isinstance(conf_level, numbers.Real):
        raise TypeError(f"conf_level must be a number between 0 and 1; got {conf_level!r}")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be strictly between 0 and 1; got {conf_level!r}")
    return float(stats.norm.ppf(1 - (1 - conf_level) / 2))


def wilson_ci(x, n, conf_level=0.95):
    r"""Wilson score interval for one proportion x/n (Wilson, 1927).

    The interval is the set of p for which :math:`|\hat p - p| \le z\sqrt{p(1-p)/n}`:

    .. math:: \frac{\hat p + z^2/(2n) \pm z \sqrt{\hat p(1-\hat p)/n + z^2/(4n^2)}}
              {1 + z^2/n}.

    Matches R: ``prop.test(x, n, correct = FALSE)$conf.int`` and
    statsmodels ``proportion_confint(x, n, method="wilson")``.

    >>> wilson_ci(79, 105)
    ConfidenceInterval(low=0.6619, high=0.8251)
    """
    x, n = _check_counts(x, n, "x", "n")
    z = _z(conf_level)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return ConfidenceInterval(float(centre - half), float(centre + half))


@dataclass(frozen=True, repr=False)
class TwoByTwo:
    """Result of :func:`compare_proportions` (group 1 vs group 2)."""

    x1: int
    n1: int
    x2: int
    n2: int
    conf_level: float
    p1: float
    p2: float
    difference: float
    difference_ci_wald: ConfidenceInterval
    difference_ci_newcombe: ConfidenceInterval
    odds_ratio: float
    """Sample odds ratio ad/bc (inf or 0 with a zero cell; NaN if undefined)."""
    odds_ratio_conditional: float
    """Conditional maximum-likelihood odds ratio (the estimate behind the exact CI)."""
    odds_ratio_ci_woolf: ConfidenceInterval
    odds_ratio_ci_exact: ConfidenceInterval
    chi2: float
    chi2_p_value: float
    fisher_p_value: float
    min_expected: float
    """Smallest expected cell count under independence (Cochran: Fisher if < 5)."""

    def table(self):
        """The 2 x 2 table of counts with margins (rows: groups; columns: yes/no)."""
        a, b, c, d = self.x1, self.n1 - self.x1, self.x2, self.n2 - self.x2
        return StepTable({
            "group": np.array(["group 1", "group 2", "total"]),
            "yes": np.array([a, c, a + c]), "no": np.array([b, d, b + d]),
            "total": np.array([a + b, c + d, a + b + c + d]),
        }, title="2 x 2 table")

    def to_frame(self):
        """The 2 x 2 table as a ``pandas.DataFrame`` (needs pandas)."""
        return self.table().to_frame()

    def _lines(self):
        pct = f"{100 * self.conf_level:g}% CI"
        ci = lambda c, s=1: f"{s * c.low:.4g} to {s * c.high:.4g}"  # noqa: E731
        return [
            f"{self.x1}/{self.n1} ({100 * self.p1:.1f}%) vs {self.x2}/{self.n2} "
            f"({100 * self.p2:.1f}%)",
            f"difference {100 * self.difference:.2f}% ({pct} Wald "
            f"{ci(self.difference_ci_wald, 100)}; Newcombe "
            f"{ci(self.difference_ci_newcombe, 100)})",
            f"odds ratio {self.odds_ratio:.4g} ({pct} exact "
            f"{ci(self.odds_ratio_ci_exact)}; Woolf {ci(self.odds_ratio_ci_woolf)})",
            f"Pearson chi2 {self.chi2:.4f}, P = {self.chi2_p_value:.4g}; "
            f"Fisher exact P = {self.fisher_p_value:.4g}",
        ]

    def __repr__(self):
        return "TwoByTwo(" + "\n         ".join(self._lines()) + ")"

    def _repr_html_(self):
        return ("<p><b>Two proportions</b><br>"
                + "<br>".join(html.escape(s) for s in self._lines()) + "</p>"
                + self.table()._repr_html_())


def compare_proportions(x1, n1, x2, n2, conf_level=0.95):
    r"""Compare two proportions x1/n1 and x2/n2: difference, odds ratio and tests.

    With :math:`\hat p_i = x_i/n_i`, :math:`\hat q_i = 1 - \hat p_i` and the 2 x 2
    table :math:`a = x_1, b = n_1 - x_1, c = x_2, d = n_2 - x_2`:

    * Wald CI: :math:`\hat p_1 - \hat p_2 \pm z\sqrt{\hat p_1 \hat q_1/n_1 +
      \hat p_2 \hat q_2/n_2}` (Stata ``cs``);
    * Newcombe hybrid score CI (Newcombe, 1998, method 10): with Wilson intervals
      :math:`(l_i, u_i)`, :math:`\bigl(D - \sqrt{(\hat p_1 - l_1)^2 + (u_2 - \hat p_2)^2},\;
      D + \sqrt{(u_1 - \hat p_1)^2 + (\hat p_2 - l_2)^2}\bigr)`;
    * odds ratio :math:`ad/bc`; Woolf CI (Woolf, 1955)
      :math:`\exp\{\log(ad/bc) \pm z\sqrt{1/a + 1/b + 1/c + 1/d}\}` (NaN with a zero
      cell); exact conditional CI from the noncentral hypergeometric distribution
      (Cornfield, 1956; ``scipy.stats.contingency.odds_ratio(kind="conditional")``,
      R ``fisher.test(...)$conf.int``, Stata ``cc``'s default);
    * Pearson :math:`\chi^2 = \sum (O - E)^2/E` on 1 df without continuity correction
      (R ``chisq.test(tab, correct = FALSE)``; NaN when a margin is 0) and Fisher's
      exact two-sided P (R ``fisher.test``; ``scipy.stats.fisher_exact``).

    See the module docstring for which of these reproduce AALL1331's Table 2.

    >>> r = compare_proportions(74, 105, 44, 103)   # Table 2, transplant
    >>> round(100 * r.difference, 1), [round(100 * v) for v in r.difference_ci_wald]
    (27.8, [15, 41])
    >>> round(r.odds_ratio, 1), [round(v, 1) for v in r.odds_ratio_ci_exact]
    (3.2, [1.7, 5.9])
    """
    x1, n1 = _check_counts(x1, n1, "x1", "n1")
    x2, n2 = _check_counts(x2, n2, "x2", "n2")
    z = _z(conf_level)
    p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2

    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    wald = ConfidenceInterval(float(diff - z * se), float(diff + z * se))
    l1, u1 = wilson_ci(x1, n1, conf_level)
    l2, u2 = wilson_ci(x2, n2, conf_level)
    newcombe = ConfidenceInterval(float(diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)),
                                  float(diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)))

    a, b, c, d = x1, n1 - x1, x2, n2 - x2
    if b * c > 0:
        or_sample = a * d / (b * c)
    else:
        or_sample = np.inf if a * d > 0 else np.nan
    if min(a, b, c, d) > 0:
        se_log = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        woolf = ConfidenceInterval(float(np.exp(np.log(or_sample) - z * se_log)),
                                   float(np.exp(np.log(or_sample) + z * se_log)))
    else:
        woolf = ConfidenceInterval(np.nan, np.nan)
    tab = np.array([[a, b], [c, d]])
    if (tab.sum(axis=0) > 0).all():
        cond = _scipy_odds_ratio(tab, kind="conditional")
        exact_ci = cond.confidence_interval(confidence_level=float(conf_level))
        or_cond, exact = float(cond.statistic), ConfidenceInterval(float(exact_ci.low),
                                                                   float(exact_ci.high))
    else:  # nobody (or everybody) had the outcome: the odds ratio is not defined
        or_cond, exact = np.nan, ConfidenceInterval(np.nan, np.nan)

    expected = np.outer(tab.sum(axis=1), tab.sum(axis=0)) / tab.sum()
    if (expected > 0).all():
        chi2 = float(((tab - expected) ** 2 / expected).sum())
        chi2_p = float(stats.chi2.sf(chi2, 1))
    else:
        chi2, chi2_p = np.nan, np.nan
    fisher_p = float(stats.fisher_exact(tab).pvalue)
    return TwoByTwo(x1, n1, x2, n2, float(conf_level), p1, p2, float(diff), wald,
                    newcombe, float(or_sample), or_cond, woolf, exact, chi2, chi2_p,
                    fisher_p, float(expected.min()))
