"""Several end points under no effect: how often they all favour the new arm by chance.

A monitoring committee reads DFS beside overall survival, MRD and toxicity, none with its
own boundary and none adjusted for multiplicity (AALL1331: Discussion; Methods, Statistical
Analysis).  :func:`endpoint_agreement` simulates jointly normal, correlated end-point
statistics with no effect at all and counts how often every one favours the new arm, with the
exact normal orthant probabilities beside the simulation.  The correlations of
:data:`COMMITTEE_CORRELATIONS` are labelled assumptions, not facts.

Public through :mod:`teachkit.simulate` (``tk.simulate.endpoint_agreement``); its own module
because it is its own idea (multiplicity of unadjusted end points, not a whole-trial
simulation) and keeps ``simulate.py`` a readable size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from teachkit._simulate_checks import _check_int, _check_real

__all__ = ["COMMITTEE_ENDPOINTS", "COMMITTEE_CORRELATIONS", "EndpointAgreement", "endpoint_agreement"]

#: The end points a monitoring committee reviewed beside DFS (Discussion: "disease-free
#: survival and the predefined secondary and exploratory end points of overall survival,
#: MRD, and comparative adverse event profiles").
COMMITTEE_ENDPOINTS = ("DFS", "OS", "MRD", "toxicity")

#: Correlations between the end points' test statistics under no effect: ASSUMPTIONS, not
#: facts (the paper reports none).  "moderate" reasons: OS events are mostly DFS events
#: (death after relapse), so the two log-rank statistics correlate about
#: sqrt(deaths / DFS events) ~ 0.8; MRD predicts relapse (0.3 with DFS and OS); toxicity
#: removes patients whose missing MRD counts as positive (0.3 with MRD) and toxic deaths
#: are deaths (0.2 with OS, 0.1 with DFS).
COMMITTEE_CORRELATIONS = MappingProxyType({
    "independent": np.eye(4),
    "moderate (assumed)": np.array([[1.0, 0.8, 0.3, 0.1],
                                    [0.8, 1.0, 0.3, 0.2],
                                    [0.3, 0.3, 1.0, 0.3],
                                    [0.1, 0.2, 0.3, 1.0]]),
    "strong (assumed)": np.full((4, 4), 0.6) + 0.4 * np.eye(4),
})
for _r in COMMITTEE_CORRELATIONS.values():
    _r.flags.writeable = False


@dataclass(frozen=True)
class EndpointAgreement:
    """How often several correlated, unadjusted end points all favour the new arm when it does
    nothing (Monte Carlo, with the exact values beside it).

    ``names``, ``correlation`` (the assumption), ``n_trials``, ``seed``; ``p_all_favour``
    (every end point's estimate on the new arm's side, Z_j > 0) with ``se_all_favour`` and
    ``exact_all_favour`` (the normal orthant probability); ``p_any_significant`` (at least
    one nominally significant at one-sided ``alpha``) with ``exact_any_significant``;
    ``p_all_favour_and_one_significant``; ``p_per_endpoint`` (favour, each: 1/2).
    """

    names: tuple
    correlation: np.ndarray
    alpha: float
    n_trials: int
    seed: Any
    p_all_favour: float
    se_all_favour: float
    exact_all_favour: float
    p_any_significant: float
    exact_any_significant: float
    p_all_favour_and_one_significant: float
    p_per_endpoint: np.ndarray
    label: str = ("Under no effect on any end point; the correlations are assumptions, not facts "
                  "(the paper reports none).")

    def __repr__(self) -> str:
        return (f"EndpointAgreement({', '.join(self.names)}; {self.n_trials} trials under H0: all favour "
                f"the new arm {self.p_all_favour:.3f} (exact {self.exact_all_favour:.3f}); at least one "
                f"nominally significant at {self.alpha:g} {self.p_any_significant:.3f} "
                f"(exact {self.exact_any_significant:.3f}); all favour and one significant "
                f"{self.p_all_favour_and_one_significant:.3f}. {self.label})")


def _orthant(correlation, upper):
    """P(Z_j < upper_j for all j), Z ~ N(0, correlation): exact to ~1e-7 (Genz's algorithm, scipy).

    Called as ``multivariate_normal.cdf(x, mean=, cov=, maxpts=, abseps=, releps=)``, the one
    spelling every supported scipy accepts: the static site's Pyodide ships scipy 1.14, whose
    ``multivariate_normal(...)`` (freezing) takes no ``maxpts``/``abseps``/``releps``.  Newer
    scipy draws the algorithm's quasi-random points from ``rng`` (else from NumPy's global
    state): a fixed generator keeps the result reproducible there; scipy 1.14's Fortran
    routine has its own generator and no such argument.
    """
    import inspect

    from scipy.stats import multivariate_normal

    k = correlation.shape[0]
    if k == 1:
        from scipy.special import ndtr
        return float(ndtr(upper[0]))
    options = dict(mean=np.zeros(k), cov=correlation, maxpts=200000 * k, abseps=1e-7, releps=1e-7)
    if "rng" in inspect.signature(multivariate_normal.cdf).parameters:
        options["rng"] = np.random.default_rng(0)
    return float(multivariate_normal.cdf(np.asarray(upper, dtype=float), **options))


def endpoint_agreement(correlation, n_trials=200_000, *, alpha=0.025, names=None, seed=None) -> EndpointAgreement:
    """Simulate end points with no effect at all and count how often they all favour the new arm.

    Each end point's one-sided statistic Z_j (positive = favours the new arm) is N(0, 1)
    under no effect, and the end points are jointly normal with ``correlation`` (a k x k
    matrix, or a number for equal correlation between the ``names``).  Counted: all Z_j > 0
    ("everything favours the new arm"), at least one Z_j >= z_{1-alpha} (a nominally
    significant result somewhere), and both.  The exact values are normal orthant
    probabilities (Genz's algorithm, scipy): with k independent end points all favour
    with probability 1/2**k; correlated end points agree more often.

    >>> r = endpoint_agreement(0.0, 100_000, names=("DFS", "OS", "MRD", "toxicity"), seed=1)
    >>> round(r.exact_all_favour, 4), abs(r.p_all_favour - 1 / 16) < 4 * r.se_all_favour
    (0.0625, True)
    >>> round(endpoint_agreement(COMMITTEE_CORRELATIONS["moderate (assumed)"], 10, seed=1).exact_all_favour, 3)
    0.155
    """
    from scipy.special import ndtri

    if names is None:
        k0 = np.shape(correlation)[0] if np.ndim(correlation) == 2 else len(COMMITTEE_ENDPOINTS)
        names = COMMITTEE_ENDPOINTS if k0 == len(COMMITTEE_ENDPOINTS) else \
            tuple(f"end point {j + 1}" for j in range(k0))
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError("names must be a sequence of strings")
    names = tuple(names)
    k = len(names)
    if k < 1:
        raise ValueError("names must name at least one end point")
    if isinstance(correlation, bool):
        raise TypeError("correlation must be a number or a matrix of numbers, got a boolean")
    try:
        r = np.asarray(correlation, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"correlation must be a number or a matrix of numbers, got {correlation!r}") from None
    if r.ndim == 0:
        rho = float(r)
        if not -1.0 / max(k - 1, 1) < rho < 1 and k > 1:
            raise ValueError(f"correlation must lie in (-1/(k-1), 1) for {k} end points, got {rho}")
        r = np.full((k, k), rho) + (1 - rho) * np.eye(k)
    if r.shape != (k, k):
        raise ValueError(f"correlation must be a {k} x {k} matrix for the {k} names, got shape {r.shape}")
    if not np.all(np.isfinite(r)) or not np.allclose(r, r.T) or not np.allclose(np.diag(r), 1.0) \
            or np.any(np.abs(r) > 1):
        raise ValueError("correlation must be a symmetric matrix with 1 on the diagonal and entries in [-1, 1]")
    if np.linalg.eigvalsh(r).min() <= 1e-10:
        raise ValueError("correlation must be positive definite (these correlations cannot occur together)")
    n_trials = _check_int(n_trials, "n_trials", 1)
    alpha = _check_real(alpha, "alpha", low=0.0, high=0.5, low_open=True, high_open=True)
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(r)
    crit = float(-ndtri(alpha))
    favour = np.zeros(k)
    all_favour = any_sig = both = 0
    done = 0
    while done < n_trials:
        n = min(100_000, n_trials - done)
        z = rng.standard_normal((n, k)) @ chol.T
        fav = z > 0
        sig = (z >= crit).any(axis=1)
        allf = fav.all(axis=1)
        favour += fav.sum(axis=0)
        all_favour += int(allf.sum())
        any_sig += int(sig.sum())
        both += int((allf & sig).sum())
        done += n
    p_all = all_favour / n_trials
    return EndpointAgreement(
        names=names, correlation=r, alpha=alpha, n_trials=n_trials, seed=seed,
        p_all_favour=p_all, se_all_favour=math.sqrt(max(p_all * (1 - p_all), 1e-12) / n_trials),
        exact_all_favour=_orthant(r, np.zeros(k)), p_any_significant=any_sig / n_trials,
        exact_any_significant=1.0 - _orthant(r, np.full(k, crit)),
        p_all_favour_and_one_significant=both / n_trials, p_per_endpoint=favour / n_trials)
