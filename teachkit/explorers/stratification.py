"""Stratified randomization: how unequal the arms get within the trial's six strata under
simple vs stratified permuted-block randomization.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np

from teachkit import plots
from teachkit.explorers._base import Explorer, Param, _result_repr
from teachkit.explorers._layout import _Bars


def trial_strata_mix():
    """The six randomization strata and their share of the 208 analysed patients.

    Read from Table 1 (site of relapse by time and MRD, both arms together).  Two
    high-risk marrow patients had no usable MRD: note c's was randomized in "marrow
    18-36 mo, MRD < 0.1%" (published); note d's stratum is not published and is
    *assumed* to be "marrow < 18 mo, MRD < 0.1%" (:data:`teachkit.cohort.NOTE_D_STRATUM`,
    the synthetic cohort's assumption, as :func:`teachkit.risk.randomization_stratum`
    places a missing MRD).

    >>> names, share = trial_strata_mix()
    >>> len(names), round(float(share.sum()), 6)
    (6, 1.0)
    """
    from teachkit import aall1331, cohort, risk

    S = risk.Stratum
    keys = {
        S.INTERMEDIATE: ["marrow_36_plus"],
        S.HIGH_EXTRAMEDULLARY: ["extramedullary_under_18"],
        S.HIGH_MARROW_EARLY_MRD_HIGH: ["marrow_under_18_mrd_high"],
        S.HIGH_MARROW_EARLY_MRD_LOW: ["marrow_under_18_mrd_low"],
        S.HIGH_MARROW_MID_MRD_HIGH: ["marrow_18_36_mrd_high"],
        S.HIGH_MARROW_MID_MRD_LOW: ["marrow_18_36_mrd_low", "marrow_18_36_mrd_unknown"],  # note c
    }
    keys[S(cohort.NOTE_D_STRATUM)].append("marrow_under_18_mrd_unknown")      # note d: assumed
    counts = np.array([
        sum(sum(aall1331.fact(f"table1.site_of_relapse.{k}").value.values()) for k in ks)
        for ks in keys.values()], dtype=float)
    return tuple(s.value for s in keys), counts / counts.sum()


def apportion(share, n):
    """Split ``n`` patients in proportion to ``share`` (largest remainders): whole numbers
    that add up to ``n`` and reproduce Table 1's counts when ``n`` is its total.

    >>> apportion(np.array([0.5, 0.25, 0.25]), 10).tolist()
    [5, 3, 2]
    """
    exact = np.asarray(share, dtype=float) * n
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


@dataclass(frozen=True)
class StratificationResult:
    """Arm imbalance within strata over many replays of two randomization methods."""

    n_patients: int
    n_repetitions: int
    stratum_names: tuple
    stratum_sizes: np.ndarray          # patients per stratum (the same enrolled cohort)
    simple: Any                        # teachkit.risk.Imbalance
    stratified: Any                    # teachkit.risk.Imbalance
    max_bins: np.ndarray               # 0, 1, 2, ... values of max |E - C|
    simple_share: np.ndarray           # share of replays with that max |E - C|
    stratified_share: np.ndarray
    simple_over_2: float               # share of replays with some stratum |E - C| > 2
    stratified_over_2: float

    __repr__ = _result_repr


class StratificationSimulator(Explorer):
    """Simple vs stratified permuted-block randomization: how unequal do the arms get
    within the trial's six strata, over many replays of the same enrolment?

    Uses :func:`teachkit.risk.randomize` and :func:`teachkit.risk.imbalance`.

    >>> r = StratificationSimulator().compute(n_patients=208, n_repetitions=500, seed=1)
    >>> bool(r.stratified.max_abs.max() <= 2), bool(r.simple_over_2 > 0.3)
    (True, True)
    """

    title = "Stratification simulator: simple vs stratified-block randomization"
    FIGSIZE = (9.0, 5.0)
    MAX_BIN = 12
    PARAMS = (
        Param("n_patients", "Patients randomized", "int", 208, min=20, max=400, step=4),
        Param("n_repetitions", "Replays", "int", 500, min=100, max=1000, step=100),
        Param("block_sizes", "Block sizes (stratified)", "choice", (2, 4),
              options=((2,), (4,), (2, 4), (4, 6), (4, 8)),
              option_labels=("2", "4", "2 or 4 (random)", "4 or 6 (random)", "4 or 8 (random)")),
        Param("seed", "New replays", "seed", 1),
    )

    @classmethod
    def example_params(cls):
        return [dict(n_patients=208, n_repetitions=500, block_sizes=(2, 4), seed=1),
                dict(n_patients=40), dict(n_patients=400, block_sizes=(4, 8)),
                dict(n_repetitions=1000, seed=2), dict(block_sizes=(2,), n_patients=100),
                dict(block_sizes=(4, 6), n_repetitions=100, seed=3)]

    def compute(self, **params):
        from teachkit import risk

        p = self._full_params(params)
        names, share = trial_strata_mix()
        rng = np.random.default_rng(p["seed"])
        # the enrolled cohort has exactly the Table 1 mix (at 208 patients, Table 1's own
        # counts): only the order of arrival is random, so the figure and the table agree
        strata = rng.permutation(np.repeat(np.asarray(names, dtype=object),
                                           apportion(share, p["n_patients"])))
        seeds = rng.integers(0, 2**32 - 1, size=2)
        simple = risk.imbalance(risk.randomize(strata, "simple", seed=int(seeds[0]),
                                               n_repetitions=p["n_repetitions"]))
        stratified = risk.imbalance(risk.randomize(strata, "stratified-blocks",
                                                   block_sizes=p["block_sizes"], seed=int(seeds[1]),
                                                   n_repetitions=p["n_repetitions"]))
        bins = np.arange(self.MAX_BIN + 1)

        def shares(imb):
            capped = np.minimum(imb.max_abs, self.MAX_BIN).astype(np.intp)  # last bin: >= MAX_BIN
            return np.bincount(capped, minlength=self.MAX_BIN + 1) / imb.max_abs.size

        # the stratum order of teachkit.risk (sorted names); sizes in that order
        sizes = np.array([np.sum(strata == n) for n in simple.stratum_names])
        return StratificationResult(
            p["n_patients"], p["n_repetitions"], simple.stratum_names, sizes, simple, stratified,
            bins, shares(simple), shares(stratified),
            float(np.mean(simple.max_abs > 2)), float(np.mean(stratified.max_abs > 2)))

    def _note(self, r):
        from teachkit.cohort import NOTE_D_ASSUMPTION

        return ("Stratum shares from Table 1 (both arms). " + html.escape(NOTE_D_ASSUMPTION))

    def _setup(self, fig):
        colors = {"simple": plots.OKABE_ITO["orange"], "stratified": plots.OKABE_ITO["bluish_green"]}
        self._colors = colors
        self._ax1 = ax1 = fig.add_axes((0.075, 0.13, 0.36, 0.66))
        bins = np.arange(self.MAX_BIN + 1)
        w = 0.4
        self._bars = {
            "simple": self._dyn(_Bars(ax1, bins - w / 2, w, color=colors["simple"],
                                      label="simple (coin toss)")),
            "stratified": self._dyn(_Bars(ax1, bins + w / 2, w, color=colors["stratified"],
                                          label="stratified permuted blocks")),
        }
        ax1.set_xlim(-0.7, self.MAX_BIN + 0.7)
        ax1.set_ylim(0, 1)
        ax1.set_xticks(bins[::2], [str(b) for b in bins[:-1:2]] + [f"{self.MAX_BIN}+"])
        ax1.set_xlabel("Worst stratum: |blin. - chemo.| (patients)")
        ax1.set_ylabel("Share of replays")
        self._legend(ax1, loc="upper right", fontsize=10)
        self._ax2 = ax2 = fig.add_axes((0.69, 0.13, 0.29, 0.66))
        ax2.set_ylim(5.6, -0.6)
        y = np.arange(6)
        self._bars2 = {
            "simple": self._dyn(_Bars(ax2, y + 0.2, 0.38, color=colors["simple"], horizontal=True)),
            "stratified": self._dyn(_Bars(ax2, y - 0.2, 0.38, color=colors["stratified"],
                                          horizontal=True)),
        }
        ax2.set_xlabel("Mean |blin. - chemo.| (patients)")
        ax2.set_xlim(0, self.XMAX2)
        ax2.set_title("Each stratum (top five: high risk)", fontsize=10, loc="left")
        ax1.set_title("Worst stratum per replay", fontsize=11, loc="left")
        names, _ = trial_strata_mix()
        order = sorted(names)  # teachkit.risk.imbalance orders strata by name
        ax2.set_yticks(y, [n.replace("isolated extramedullary", "isol. EM").replace("high, ", "")
                           for n in order], fontsize=9)
        self._sizes = [self._dyn(ax2.text(1, k, "", transform=ax2.get_yaxis_transform(),
                                          ha="right", va="center", fontsize=9, color="#444444"))
                       for k in y]
        self._text = self._dyn(fig.text(0.02, 0.87, "", fontsize=11))
        fig.suptitle("Arm imbalance within the six AALL1331 strata (stratum mix of Table 1)",
                     x=0.02, ha="left", fontsize=13, fontweight="bold")

    #: A fixed scale (the largest stratum of 400 patients averages |E - C| of about 9 under
    #: simple randomization): imbalance growing with the stratum size stays visible, and
    #: moves never redraw the background.
    XMAX2 = 10.0

    def _draw(self, r):
        self._bars["simple"].set_values(r.simple_share)
        self._bars["stratified"].set_values(r.stratified_share)
        self._bars2["simple"].set_values(np.abs(r.simple.difference).mean(axis=0))
        self._bars2["stratified"].set_values(np.abs(r.stratified.difference).mean(axis=0))
        for text, k in zip(self._sizes, r.stratum_sizes):
            text.set_text(f"{k} pts")
        self._text.set_text(
            f"{r.n_patients} patients, {r.n_repetitions} replays. A stratum off by more than 2: "
            f"{100 * r.simple_over_2:.0f}% of simple, {100 * r.stratified_over_2:.0f}% of "
            f"stratified randomizations")

    def code(self, params=None) -> str:
        """The enrolled strata, :func:`teachkit.risk.randomize` and :func:`teachkit.risk.imbalance`."""
        p = self._full_params(self.params if params is None else params)
        reps = p["n_repetitions"]
        return (
            "import numpy as np\nimport teachkit as tk\n\n"
            "names, share = tk.explorers.trial_strata_mix()  # the six strata, Table 1 shares\n"
            f"rng = np.random.default_rng({p['seed']})\n"
            "# exactly Table 1's mix (largest remainders); only the order of arrival is random\n"
            f"n = {p['n_patients']}\n"
            "exact = np.asarray(share) * n\n"
            "counts = np.floor(exact).astype(int)\n"
            "counts[np.argsort(-(exact - counts), kind=\"stable\")[: n - counts.sum()]] += 1\n"
            "strata = rng.permutation(np.repeat(np.asarray(names, dtype=object), counts))\n"
            "seeds = rng.integers(0, 2**32 - 1, size=2)\n"
            f'simple = tk.risk.randomize(strata, "simple", seed=int(seeds[0]), n_repetitions={reps})\n'
            f'blocks = tk.risk.randomize(strata, "stratified-blocks", block_sizes={p["block_sizes"]!r},\n'
            f"                           seed=int(seeds[1]), n_repetitions={reps})\n"
            "simple, blocks = tk.risk.imbalance(simple), tk.risk.imbalance(blocks)\n"
            "# share of replays where some stratum is off by more than 2 patients\n"
            "print((simple.max_abs > 2).mean(), (blocks.max_abs > 2).mean())\n")

    def describe(self, result=None) -> str:
        """The two bar charts in words."""
        r = self.result if result is None else result
        worst = {m: int(np.median(getattr(r, m).max_abs)) for m in ("simple", "stratified")}
        mean = {m: np.abs(getattr(r, m).difference).mean(axis=0) for m in ("simple", "stratified")}
        strata = "; ".join(f"{n}: {k} patients, mean difference {a:.1f} simple, {b:.1f} stratified"
                           for n, k, a, b in zip(r.stratum_names, r.stratum_sizes,
                                                 mean["simple"], mean["stratified"]))
        return (f"{r.n_patients} patients in six strata, {r.n_repetitions} replays. "
                f"Left: the worst stratum's arm difference; its median is {worst['simple']} "
                f"patients under simple randomization and {worst['stratified']} under stratified "
                f"blocks. Some stratum is off by more than 2 patients in "
                f"{100 * r.simple_over_2:.0f}% of simple and {100 * r.stratified_over_2:.0f}% of "
                f"stratified randomizations. Right, each stratum: {strata}.")
