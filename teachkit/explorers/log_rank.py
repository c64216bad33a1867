"""The log-rank test: observed minus expected events accumulating into Z, in one simulated
trial with a chosen true hazard ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.collections import PolyCollection

from teachkit import plots
from teachkit.explorers._base import Explorer, Param, _result_repr
from teachkit.explorers._layout import _ceiling


@dataclass(frozen=True)
class LogRankResult:
    """A simulated two-arm trial analysed at a fixed number of events."""

    time: np.ndarray
    event: np.ndarray
    arm: np.ndarray
    analysis_time: float
    fits: dict                   # arm -> KaplanMeier
    test: Any                    # teachkit.survival.LogRankTest (treatment = blinatumomab)
    event_times: np.ndarray      # distinct event times
    cum_o_minus_e: np.ndarray    # cumulative O - E of the blinatumomab arm
    cum_variance: np.ndarray     # cumulative hypergeometric variance
    expected_z: float            # drift: -log(HR) sqrt(D r (1 - r)) (Schoenfeld 1981)

    __repr__ = _result_repr


def _fmt_p(p: float, eq: bool = False) -> str:
    """A P value as journals print it: 4 decimals, or < 0.0001 (``eq``: with "= ")."""
    if p < 1e-4:
        return "< 0.0001"
    return f"= {p:.4f}" if eq else f"{p:.4f}"


class LogRankExplorer(Explorer):
    """Simulate a trial with a true hazard ratio, analyse it when a given number of events
    has occurred, and watch observed-minus-expected accumulate into the log-rank Z.

    Control times are exponential with a 12-month median, experimental ones have hazard
    HR times the control hazard; everyone starts at time 0 and is followed until the
    ``events``-th event (an event-driven analysis).  Uses
    :func:`teachkit.survival.kaplan_meier` and :func:`teachkit.survival.logrank_test`.

    >>> r = LogRankExplorer().compute(hazard_ratio=0.58, events=131, seed=1)
    >>> int(r.event.sum()), round(r.expected_z, 3)
    (131, 3.118)
    """

    title = "Log-rank explorer: from observed minus expected to Z"
    FIGSIZE = (9.5, 5.4)
    CONTROL_MEDIAN = 12.0  # months
    GRID_FIRST = "hazard_ratio"  # the lesson's slider: its track prepared before any click
    PARAMS = (
        Param("hazard_ratio", "True hazard ratio", "float", 0.58, min=0.3, max=1.5, step=0.02),
        Param("events", "Events at analysis", "int", 131, min=20, max=300, step=1),
        Param("allocation", "Share randomized to blinatumomab", "float", 0.5, min=0.3, max=0.7,
              step=0.05),
        Param("seed", "New sample", "seed", 1),
    )

    @classmethod
    def example_params(cls):
        return [dict(hazard_ratio=0.58, events=131, allocation=0.5, seed=1),
                dict(hazard_ratio=1.0), dict(hazard_ratio=0.3, events=40),
                dict(hazard_ratio=1.5, events=300), dict(allocation=0.7, seed=2),
                dict(allocation=0.3, events=80, seed=3), dict(hazard_ratio=0.8, seed=4)]

    def compute(self, **params):
        from teachkit import survival

        p = self._full_params(params)
        rng = np.random.default_rng(p["seed"])
        n = int(math.ceil(p["events"] / 0.75))
        n_blin = int(round(n * p["allocation"]))
        arm = np.array(["blinatumomab"] * n_blin + ["chemotherapy"] * (n - n_blin), dtype=object)
        rng.shuffle(arm)
        rate = math.log(2) / self.CONTROL_MEDIAN * np.where(arm == "blinatumomab",
                                                             p["hazard_ratio"], 1.0)
        t_event = rng.exponential(1.0 / rate)
        analysis = float(np.sort(t_event)[p["events"] - 1])  # the events-th event
        event = (t_event <= analysis).astype(int)
        time = np.minimum(t_event, analysis)
        fits = {a: survival.kaplan_meier(time[arm == a], event[arm == a]) for a in ("blinatumomab", "chemotherapy")}
        test = survival.logrank_test(time, event, arm, treatment="blinatumomab")
        tab = test.table()
        g0 = str(test.groups[0])
        sign = 1.0 if g0 == "blinatumomab" else -1.0
        r = p["allocation"]
        return LogRankResult(time, event, arm, analysis, fits, test, np.asarray(tab["time"]),
                             sign * np.cumsum(tab[f"O-E {g0}"]), np.cumsum(tab["variance"]),
                             -math.log(p["hazard_ratio"]) * math.sqrt(p["events"] * r * (1 - r)))

    def _setup(self, fig):
        self._km_ax = ax = fig.add_axes((0.09, 0.13, 0.39, 0.73))
        table_ax = fig.add_axes((0.08, 0.0, 0.4, 0.01))  # no table here: speed over detail
        arms = [(a, plots.ARM_LABELS[a], plots.ARM_COLORS[a]) for a in ("blinatumomab", "chemotherapy")]
        self._panel = plots.KaplanMeierPanel(ax, table_ax, arms, np.arange(0, 61, 12), ci=False,
                                             time_unit="months", ylabel="Event-free",
                                             xmax=60, rows=())
        table_ax.set_visible(False)
        for a in self._panel.artists():
            self._dyn(a)
        # upper right: the curves fall from the upper left, and end before the axis does
        self._legend(ax, loc="upper right", fontsize=10)
        ax.set_title("Simulated curves", loc="left", fontsize=11)
        self._oe_ax = ax2 = fig.add_axes((0.6, 0.13, 0.38, 0.73))
        ax2.axhline(0, color="#999999", lw=0.8)
        self._band = self._dyn(PolyCollection([np.zeros((3, 2))], facecolors="#BBBBBB", alpha=0.35,
                                              edgecolors="none", label="±1.96 √V (no difference)"))
        ax2.add_collection(self._band, autolim=False)
        (oe,) = ax2.plot([], [], drawstyle="steps-post", color=plots.ARM_COLORS["blinatumomab"],
                         lw=2, label="O − E, blinatumomab")
        self._oe = self._dyn(oe)
        ax2.set_xlabel("Time (months)")
        ax2.set_ylabel("Cumulative O − E (events)")
        ax2.set_title("O − E accumulating", loc="left", fontsize=11)
        self._legend(ax2, loc="lower left", fontsize=9)
        # O, E, V, Z and P are a table under the picture (numbers), not text drawn in
        # it: real text for a screen reader and a phone, and no text layout per move
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=13, fontweight="bold"))

    def _limits(self, r):
        x = _ceiling(max(r.analysis_time, 1.3 * self._expected_analysis_time()),
                     (24, 48, 96, 192, 384))
        # from the parameters only (not the sample), so new samples keep the scale:
        # |O - E| is about (|expected Z| + 2.5) sqrt(V), V about D r (1 - r)
        p = self.params
        sd = math.sqrt(p["events"] * p["allocation"] * (1 - p["allocation"]))
        return x, _ceiling((abs(r.expected_z) + 2.5) * sd, (10, 30, 90))

    def _expected_analysis_time(self):
        """Months until 75% of the patients are expected to have had an event (bisection on
        r (1 - exp(-HR lam t)) + (1 - r)(1 - exp(-lam t)) = 0.75): a scale that depends on
        the parameters, not on the sample, so "new sample" reuses the background."""
        p = self.params
        lam, hr, r = math.log(2) / self.CONTROL_MEDIAN, p["hazard_ratio"], p["allocation"]
        lo, hi = 0.0, 1000.0
        for _ in range(40):
            mid = (lo + hi) / 2
            if r * -math.expm1(-hr * lam * mid) + (1 - r) * -math.expm1(-lam * mid) < 0.75:
                lo = mid
            else:
                hi = mid
        return hi

    def _layout_key(self):
        return self._limits(self.result)

    def _draw(self, r):
        self.result = r  # _limits reads it when the layout is checked
        x, y = self._limits(r)
        if self._km_ax.get_xlim()[1] != x * 1.02:  # a new scale: the background is redrawn
            ticks = np.arange(0, x + 0.1, 12 if x <= 72 else 24)
            for ax in (self._km_ax, self._oe_ax):
                ax.set_xlim(0, x * 1.02)
                ax.set_xticks(ticks)
        if self._oe_ax.get_ylim()[1] != y:
            self._oe_ax.set_ylim(-y, y)
        self._panel.update(r.fits)
        t = np.concatenate(([0.0], r.event_times))
        oe = np.concatenate(([0.0], r.cum_o_minus_e))
        sd = 1.96 * np.sqrt(np.concatenate(([0.0], r.cum_variance)))
        self._oe.set_data(t, oe)
        self._band.set_verts([plots._step_band_verts(t, -sd, sd)])
        p = self.params
        self._title.set_text(f"One simulated trial: true HR {p['hazard_ratio']:.2f}, analysed at "
                             f"{p['events']} events ({r.analysis_time:.0f} months)")

    NUMBERS_TITLE = "The log-rank test in numbers"

    def numbers(self, result=None) -> list[tuple[str, str]]:
        """The test in numbers: (what, value) rows of the table under the picture."""
        r = self.result if result is None else result
        test = r.test
        o = dict(zip(test.groups, test.observed))
        e = dict(zip(test.groups, test.expected))
        return [("O, events observed on blinatumomab", f"{o['blinatumomab']}"),
                ("E, events expected on blinatumomab if the arms were alike", f"{e['blinatumomab']:.1f}"),
                ("V, variance of O − E", f"{test.variance:.1f}"),
                ("Z = (E − O) / √V", f"{test.z:.2f}"),
                ("one-sided P", _fmt_p(test.p_one_sided)),
                ("Z expected for this hazard ratio", f"{r.expected_z:.2f}")]

    def _note(self, r):
        return (f"Z = {r.test.z:.2f}, one-sided P {_fmt_p(r.test.p_one_sided, eq=True)} "
                f"(press <i>New sample</i> to see another trial with the same truth)")

    def code(self, params=None) -> str:
        """The simulated trial (numpy), :func:`teachkit.survival.kaplan_meier` and
        :func:`teachkit.survival.logrank_test`."""
        p = self._full_params(self.params if params is None else params)
        n = int(math.ceil(p["events"] / 0.75))
        n_blin = int(round(n * p["allocation"]))
        return (
            "import math\nimport numpy as np\nimport teachkit as tk\n\n"
            f"# one simulated trial: {n} patients, control median {self.CONTROL_MEDIAN:g} months\n"
            f"rng = np.random.default_rng({p['seed']})  # 'New sample' changes the seed\n"
            f'arm = np.array(["blinatumomab"] * {n_blin} + ["chemotherapy"] * {n - n_blin}, '
            "dtype=object)\n"
            "rng.shuffle(arm)\n"
            f"rate = math.log(2) / {self.CONTROL_MEDIAN:g} * "
            f'np.where(arm == "blinatumomab", {p["hazard_ratio"]!r}, 1.0)\n'
            "t_event = rng.exponential(1 / rate)\n"
            f"analysis = np.sort(t_event)[{p['events']} - 1]  # analysed at event {p['events']}\n"
            "event = (t_event <= analysis).astype(int)\n"
            "time = np.minimum(t_event, analysis)\n\n"
            "km = {a: tk.survival.kaplan_meier(time[arm == a], event[arm == a])\n"
            '      for a in ("blinatumomab", "chemotherapy")}\n'
            'lr = tk.survival.logrank_test(time, event, arm, treatment="blinatumomab")\n'
            "print(lr.z, lr.p_one_sided)\n"
            "print(lr.table())  # O - E and the variance, event time by event time\n")

    def describe(self, result=None) -> str:
        """The two panels in words: the curves' sizes and the O - E path, with Z and P."""
        r = self.result if result is None else result
        test = r.test
        o = dict(zip(test.groups, test.observed))
        e = dict(zip(test.groups, test.expected))
        p = self.params
        n = {a: int((r.arm == a).sum()) for a in ("blinatumomab", "chemotherapy")}
        return (f"One simulated trial, true hazard ratio {p['hazard_ratio']:.2f}, analysed at "
                f"{p['events']} events ({r.analysis_time:.0f} months). Left: Kaplan-Meier curves, "
                f"blinatumomab {n['blinatumomab']} patients, chemotherapy {n['chemotherapy']}. "
                f"Right: cumulative observed minus expected events of blinatumomab ends at "
                f"{r.cum_o_minus_e[-1]:.1f} (O = {o['blinatumomab']}, E = {e['blinatumomab']:.1f}), "
                f"within a band of plus or minus {1.96 * math.sqrt(r.cum_variance[-1]):.1f}; "
                f"V = {test.variance:.1f}, Z = {test.z:.2f}, one-sided P {_fmt_p(test.p_one_sided, eq=True)}; "
                f"expected Z for this hazard ratio {r.expected_z:.2f}.")
