"""Replaying the whole trial many times: when it would stop, its power, and how early
efficacy stops exaggerate the hazard ratio.
"""

from __future__ import annotations

import functools
import html
import math
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from teachkit import aall1331 as _aall1331
from teachkit import plots
from teachkit.explorers._base import Explorer, Param, _params_key, _remember, _result_repr
from teachkit.explorers._layout import _LogBars, _ceiling


def default_replays(platform: str = sys.platform) -> int:
    """The replays a move runs at first: 2,000; 1,000 in the browser's WebAssembly Python
    (Pyodide, the static site), where 2,000 took up to 3 s a move (tests/benchmarks/bench_site.py)
    and a move should stay under 2 s.  The learner can still choose more.

    >>> default_replays("linux"), default_replays("emscripten")
    (2000, 1000)
    """
    return 1000 if platform == "emscripten" else 2000


@functools.lru_cache(maxsize=32)
def _design(n_looks: int, spending: str, futility: bool):
    """The replayer's group-sequential design, read from the canonical monitoring plan
    (:func:`teachkit.aall1331.monitoring_plan`: 131 events, alpha .025, futility testing HR
    0.58 at .024, non-binding; its planned looks for 3 looks, equal spacing otherwise; kept:
    a move of the hazard-ratio slider does not change it)."""
    from teachkit import aall1331, sequential

    return sequential.group_sequential_design(_fractions(n_looks), alpha=aall1331.monitoring_plan().alpha,
                                              spending=spending, **_rule(n_looks, futility))


def _fractions(n_looks: int) -> np.ndarray:
    from teachkit import aall1331

    planned = aall1331.monitoring_plan().planned_fractions
    if n_looks == len(planned):
        return np.asarray(planned, dtype=float)
    return np.arange(1, n_looks + 1) / n_looks


def _rule(n_looks: int, futility: bool) -> dict:
    from teachkit import aall1331

    plan = aall1331.monitoring_plan()
    if futility and n_looks > 1:
        return dict(futility_alpha=plan.futility_alpha, futility_drift=plan.drift)
    return {}


def bias_sentence(hazard_ratio, n_looks, spending, futility, simulated_log_hr=float("nan")) -> str:
    """Which way the trials that reach the final look are biased, for these settings, in words.

    The direction comes from the exact computation (:func:`teachkit.sequential.bias_by_stopping`,
    no Monte Carlo noise); the simulated mean is quoted beside it when given.  With the futility
    rule followed the direction depends on the truth: too little benefit at HR 0.58, about
    right near 0.70, too much benefit with no effect (HR 1).

    >>> bias_sentence(1.0, 3, "obrien-fleming", True)[:78]
    'Trials that reached the final look: mean HR 0.84 against the true 1.00 (exact '
    >>> "too much benefit" in bias_sentence(1.0, 3, "obrien-fleming", True)
    True
    >>> "too little benefit" in bias_sentence(0.58, 3, "obrien-fleming", True)
    True
    """
    from teachkit import aall1331, sequential

    if n_looks == 1:
        return ("One look only: every trial reaches the final analysis, and its hazard ratio is not "
                "biased by when it stopped.")
    exact = sequential.bias_by_stopping(_design(n_looks, spending, futility), hazard_ratio,
                                        aall1331.monitoring_plan().events_planned, futility=futility)
    shown = math.exp(simulated_log_hr) if math.isfinite(simulated_log_hr) else exact.hr_reached_final
    gap = math.log(exact.hr_reached_final / hazard_ratio)
    if gap > 0.02:
        why = ("too little benefit: the trials that did well early had already stopped for efficacy"
               + ("; those stopped for futility do not make up for it at this truth" if futility else ""))
    elif gap < -0.02:
        why = ("too much benefit: with the futility rule followed, the trials that did badly early were "
               "stopped for futility")
    elif futility:
        why = "about right here: the trials stopped early for efficacy and for futility roughly balance"
    else:
        why = "about right here: few trials stopped early"
    return (f"Trials that reached the final look: mean HR {shown:.2f} against the true {hazard_ratio:.2f} "
            f"(exact {exact.hr_reached_final:.3f}), {why}. Trials that stopped early for efficacy "
            f"exaggerate the benefit at any truth (exact mean HR {exact.hr_early_efficacy:.2f}).")


@dataclass(frozen=True)
class ReplayResult:
    """Many replays of the whole trial: when they stopped, how often they succeeded, and
    the hazard ratio they reported when stopping for efficacy."""

    n_trials: int
    hazard_ratio: float
    information_fractions: np.ndarray
    prob_efficacy: np.ndarray       # per look
    prob_futility: np.ndarray       # per look (final look: H0 kept)
    power: float
    stop_look: np.ndarray           # per trial, 0-based
    efficacy: np.ndarray            # per trial
    hr_at_stop: np.ndarray          # per trial
    mean_log_hr_early: float        # mean log HR over early efficacy stops (NaN if < 2)
    share_early: float              # share of trials stopping early for efficacy
    mean_log_hr_reached: float      # mean final-look log HR over trials reaching the final look
    share_reached: float            # share of trials reaching the final look
    mean_log_hr_final_all: float    # mean final-look log HR of every trial, as if none had stopped
    seconds: float
    n_trials_asked: int = 0         # replays asked for: more than n_trials in a first look

    __repr__ = _result_repr

    @property
    def first_look(self) -> bool:
        """A move's first result: the first run of replays, the rest still to come."""
        return self.n_trials < self.n_trials_asked

    def _count(self) -> str:
        return (f"First {self.n_trials} of {self.n_trials_asked}" if self.first_look
                else f"{self.n_trials}")


#: The share of a bar chart's height its bars may use: the legend sits in the rest, so a
#: bar never goes under it (issue 26, item 7).
HEADROOM = 0.72


class TrialReplayer(Explorer):
    """Replay the whole trial thousands of times with the vectorized simulator: the
    distribution of the stopping look, the power, and the hazard ratio reported at an
    efficacy stop compared with the truth (early stops exaggerate the effect; Pocock &
    Hughes 1989).  Each replay: the planned 220 patients, Table 1 strata, stratified
    1:1 randomization (permuted blocks: the simulator's choice, the paper says only
    "stratified"), the planned 131 events, looks at equal information (the paper does
    not give their timing), stratified log-rank, one-sided alpha .025, the futility rule
    tests the design HR 0.58 at .024 (all read from the canonical monitoring plan,
    :func:`teachkit.aall1331.monitoring_plan`).

    Three means of the log hazard ratio are returned, because conditioning on when a
    trial stopped biases its estimate: ``mean_log_hr_early`` over trials that stopped
    early for efficacy (exaggerated, at any truth), ``mean_log_hr_reached`` of the
    final-look estimate over trials that reached the final look (biased one way or the
    other: with the futility rule followed, too little benefit at HR 0.58, about right near
    0.70, too much benefit with no effect; without the rule, always too little), and
    ``mean_log_hr_final_all`` of every trial's final-look estimate as if none had stopped
    (nearly unbiased).  :meth:`bias_text` says which, for the current settings.

    Uses :func:`teachkit.simulate.simulate_trials`, in runs (:meth:`run_sizes`): a move
    shows the first run of 125 at once (marked "First 125 of 2000") and all of them when
    they are done; a progress bar moves when that takes more than a second.

    >>> r = TrialReplayer().compute(n_trials=500, seed=1)
    >>> r.n_trials, bool(0.6 < r.power < 1.0)
    (500, True)
    >>> bool(r.mean_log_hr_early < r.mean_log_hr_final_all < r.mean_log_hr_reached)
    True
    """

    title = "Trial replayer: how often would AALL1331 stop early, and what would it report?"
    FIGSIZE = (10.0, 5.8)
    FIRST = 125     # replays a move shows at once
    CHUNK = 250     # replays per run after the first
    # 2,000 replays are not drawn ahead on a guess (a key press computes them); a move's
    # final picture is kept only while a slider's track is prepared (_prepare_grid)
    DRAW_AHEAD = False
    KEEP_PICTURES = 0
    PARAMS = (
        Param("hazard_ratio", "True hazard ratio", "float", _aall1331.monitoring_plan().hazard_ratio,
              min=0.4, max=1.2, step=0.02,
              continuous=False),
        Param("n_looks", "Looks (equally spaced)", "int", len(_aall1331.monitoring_plan().planned_fractions),
              min=1, max=5, continuous=False),
        Param("spending", "Spending family", "choice", "obrien-fleming",
              options=("obrien-fleming", "pocock"),
              option_labels=("O'Brien-Fleming type", "Pocock type")),
        Param("futility", "Futility rule of the trial", "bool", True),
        Param("n_trials", "Replays", "choice", default_replays(), options=(500, 1000, 2000, 5000, 10000)),
        Param("seed", "New replays", "seed", 2019),
    )

    @classmethod
    def example_params(cls):
        return [dict(hazard_ratio=0.58, n_looks=3, spending="obrien-fleming", futility=True,
                     n_trials=2000, seed=2019),
                dict(hazard_ratio=1.0), dict(hazard_ratio=0.7, spending="pocock"),
                dict(n_looks=5, futility=False), dict(n_looks=1, hazard_ratio=0.5),
                dict(hazard_ratio=0.58, n_looks=3, spending="obrien-fleming", futility=True,
                     seed=7)]

    def compute(self, **params):
        for result, final in self.compute_steps(**params):
            if final:
                return result
        raise RuntimeError("compute_steps ended without a final result")  # pragma: no cover

    @classmethod
    def run_sizes(cls, n_trials: int) -> list[int]:
        """The replays run together, in order: a first run of :attr:`FIRST` (what a move
        shows at once), then runs of :attr:`CHUNK` (the last may be shorter), each run
        with its own seed spawned from the explorer's.

        >>> TrialReplayer.run_sizes(2000)
        [125, 250, 250, 250, 250, 250, 250, 250, 125]
        >>> TrialReplayer.run_sizes(500)
        [125, 250, 125]
        """
        rest = n_trials - cls.FIRST
        return [cls.FIRST] + [cls.CHUNK] * (rest // cls.CHUNK) + (
            [rest % cls.CHUNK] if rest % cls.CHUNK else [])

    def compute_steps(self, **params):
        """The first run of 125 replays (what a move shows at once: about 20 ms here), then
        one step per run, then all of them.  The first result is a true part of the last
        (the same trials), with ``n_trials`` = 125.  Runs done ahead of the move
        (:meth:`_prepare_move`) are taken, not run again."""
        p = self._full_params(params)
        start = time.perf_counter()
        fractions = _fractions(p["n_looks"])
        sizes = self.run_sizes(p["n_trials"])
        self._run_caches()
        key = _params_key(p)
        ahead = [self._first_runs[key]] if key in self._first_runs else []
        if ahead and key in self._later_runs:
            later, seconds = self._later_runs[key]
            ahead += later
            start -= seconds
        sims = []
        for i in range(len(sizes)):
            sims.append(ahead[i] if i < len(ahead) else self._run(p, i))
            self._progress_hook(i + 1, len(sizes), time.perf_counter() - start)
            if i + 1 < len(sizes):
                yield (self._combine(p, sims, fractions, start) if i == 0 else None), False
        yield self._combine(p, sims, fractions, start), True

    #: Final results kept by their parameters (the base keeps 16): room for a whole track
    #: of the hazard-ratio slider (41 values) prepared after a jump (:meth:`_prepare_move`).
    KEEP_RESULTS = 48

    def _prepare_grid(self, name, generation, values):
        """After a learner's move (a key press or a click; :meth:`_present` asks for the
        true-HR slider's track whichever control moved), while the kernel is idle and the
        machine has a core to spare: first the first run of every value of the track (a
        click anywhere shows its first look at once), then, one value at a time from the
        nearest (a key press's next value first) to the farthest, the rest of its runs (a click on a value done shows its final
        picture at once).  Each call of :meth:`_prepare_move` is one run (at most 250
        replays, about 30 ms here; the last also draws the final picture, kept): a learner's
        move waits for no more than that."""
        if values is None:
            if generation != self._generation or getattr(self, "_track_generation", None) == generation:
                return  # a newer move, or this move's track is on its way already
            self._track_generation = generation
            track = self._slider_values(name)
            if 1 < len(track) <= self.GRID_MAX:
                here = track.index(self.params[name]) if self.params[name] in track else 0
                order = [track[i] for i in sorted(set(range(len(track))) - {here},
                                                  key=lambda i: (abs(i - here), i < here))]
                runs = len(self.run_sizes(self.params["n_trials"]))
                values = order + [v for v in order for _ in range(runs - 1)]
                # room for the track's final pictures (50-80 kB each; GRID_BYTES bounds them)
                self._keep_pictures = max(self._keep_pictures, len(track) + 1)
        super()._prepare_grid(name, generation, values)

    def _prepare_move(self, params) -> bool:
        """One run of replays towards a later move to ``params`` (True if there was one to
        do): the first run (a move's first look is drawn over the y-axis of the last final
        picture, :attr:`_shown_ymax`, so no picture is kept), then the next run not yet
        done; with the last, the final result is kept (:attr:`_results`) and a move there
        shows its final picture without computing.  The same replays as the move's own (each
        run's seed is spawned from the explorer's by its index); what is shown does not
        change."""
        self._run_caches()
        p = self._full_params(params)
        key = _params_key(p)
        if key in self._results:
            return False
        if key not in self._first_runs:
            _remember(self._first_runs, key, self._run(p, 0), self.GRID_MAX + 1)
            return True
        done, seconds = self._later_runs.get(key, ([], 0.0))
        start = time.perf_counter()
        done = done + [self._run(p, len(done) + 1)]
        seconds += time.perf_counter() - start
        if len(done) + 1 < len(self.run_sizes(p["n_trials"])):
            _remember(self._later_runs, key, (done, seconds), self.GRID_MAX + 1)
            return True
        self._later_runs.pop(key, None)
        result = self._combine(p, [self._first_runs[key]] + done, _fractions(p["n_looks"]),
                               time.perf_counter() - seconds)
        _remember(self._results, key, result, self.KEEP_RESULTS)
        # its final picture too (drawing sets the y-axis a first look takes: kept as it was)
        shown = self.params, self.result, getattr(self, "_shown_ymax", None)
        try:
            self.params, self.result = p, result
            with plots.style():
                self._draw(result)
            _remember(self._pictures, key, self._render(), self._keep_pictures)
        except Exception:  # noqa: BLE001 - nothing is shown: the move itself will say
            pass
        finally:
            (self.params, self.result), self._shown_ymax = shown[:2], shown[2]
        return True

    def _present(self, result, final=True, reuse=False) -> bool:
        """As the base's; a final picture shown (drawn or kept) sets the y-axis of the next
        first look (:meth:`_ymax`), whether it was drawn now or kept."""
        shown = super()._present(result, final, reuse)
        if shown and not result.first_look:
            self._shown_ymax = self._ymax(result)
            if reuse:
                # a learner's move, key or click: the rest of the true-HR track is prepared
                # while the learner reads (a key press's next value first)
                import asyncio

                asyncio.get_running_loop().call_later(self.PAINT_PAUSE, self._prepare_grid, "hazard_ratio",
                                                      self._generation, None)
        return shown

    def _run_caches(self):
        """Runs done ahead, by parameters: the first run, and the later ones with the seconds
        they took (:meth:`_prepare_move`)."""
        if not hasattr(self, "_first_runs"):
            self._first_runs = OrderedDict()
            self._later_runs = OrderedDict()

    def _run(self, p, index):
        """Run ``index`` of :meth:`run_sizes` for the parameters ``p`` (its own seed, spawned
        from the explorer's by its index, as :meth:`compute_steps` does)."""
        from teachkit import aall1331, simulate

        sizes = self.run_sizes(p["n_trials"])
        seed = np.random.SeedSequence(p["seed"]).spawn(len(sizes))[index]
        design = _design(p["n_looks"], p["spending"], p["futility"])
        return simulate.simulate_trials(
            sizes[index], aall1331.fact("design.patients_planned").value,
            hazard_ratio=p["hazard_ratio"], events=aall1331.monitoring_plan().events_planned,
            information_fractions=_fractions(p["n_looks"]), design=design,
            futility="design" if design.has_futility else None, seed=seed)

    @staticmethod
    def _combine(p, sims, fractions, start) -> ReplayResult:
        """One result from the runs done so far."""
        sizes = np.array([s.stop_look.size for s in sims], dtype=float)
        w = sizes / sizes.sum()
        stop_look = np.concatenate([s.stop_look for s in sims])
        efficacy = np.concatenate([s.efficacy for s in sims])
        hr = np.concatenate([s.hr_at_stop for s in sims])
        final = np.concatenate([s.log_hr[:, -1] for s in sims])   # as if none had stopped
        early = efficacy & (stop_look < p["n_looks"] - 1)
        reached = stop_look == p["n_looks"] - 1

        def mean(x):
            x = x[np.isfinite(x)]
            return float(x.mean()) if x.size >= 2 else float("nan")

        return ReplayResult(
            int(sizes.sum()), p["hazard_ratio"], fractions,
            sum(wi * s.prob_efficacy for wi, s in zip(w, sims)),
            sum(wi * s.prob_futility for wi, s in zip(w, sims)),
            float(efficacy.mean()), stop_look, efficacy, hr,
            float(np.log(hr[early]).mean()) if early.sum() >= 2 else float("nan"),
            float(early.mean()), mean(final[reached]), float(reached.mean()), mean(final),
            time.perf_counter() - start, p["n_trials"])

    def _progress_hook(self, done, total, elapsed):
        """Show a progress bar once a run is expected to take more than a second."""
        bar = getattr(self, "_progress", None)
        if bar is None or self._widget is None:
            return
        expected = elapsed / done * total
        if done < total and expected > self.PROGRESS_AFTER:
            bar.layout.visibility = "visible"
            bar.value = int(100 * done / total)
        elif done == total:
            bar.layout.visibility = "hidden"

    BINS = np.exp(np.linspace(np.log(0.15), np.log(1.5), 41))


    def _setup(self, fig):
        self._ax_stop = ax = fig.add_axes((0.07, 0.22, 0.36, 0.56))
        self._eff_bars = self._dyn(plots.BarCollection(ax, np.arange(1, 6), 0.6,
                                                        color=plots.EFFICACY_COLOR,
                                                        label="efficacy"))
        self._fut_bars = self._dyn(plots.BarCollection(ax, np.arange(1, 6), 0.6,
                                                        color=plots.FUTILITY_COLOR,
                                                        label="futility / not rejected at the end"))
        ax.set_xlim(0.4, 5.6)
        # headroom above the tallest possible bar (a share of 1) for the legend: no bar ever
        # goes under it
        ax.set_ylim(0, 1 / HEADROOM)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_xticks(np.arange(1, 6))
        ax.set_xlabel("Look at which the trial stopped")
        ax.set_ylabel("Share of replays")
        self._legend(ax, loc="upper left", fontsize=9.5)
        ax.set_title("When the replays stopped", loc="left", fontsize=11)
        self._ax_hr = ax2 = fig.add_axes((0.52, 0.22, 0.45, 0.56))
        self._hr_bars = self._dyn(_LogBars(ax2, self.BINS, color=plots.OKABE_ITO["blue"],
                                           label="efficacy at an interim look"))
        self._hr_bars_final = self._dyn(_LogBars(ax2, self.BINS, color=plots.OKABE_ITO["sky_blue"],
                                                 label="efficacy at the final look"))
        ax2.set_xscale("log")
        ax2.set_xlim(self.BINS[0], self.BINS[-1])
        ticks = [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2]
        ax2.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax2.minorticks_off()
        ax2.set_xlabel("Hazard ratio reported at the efficacy stop")
        ax2.set_ylabel("Share of replays")
        self._truth = self._dyn(ax2.axvline(0.58, color="black", lw=2, ls="--", label="true HR"))
        (mean,) = ax2.plot([], [], "v", color=plots.OKABE_ITO["vermillion"], ms=11,
                           label="stopped early for efficacy")
        self._mean = self._dyn(mean)
        (reached,) = ax2.plot([], [], "v", color=plots.OKABE_ITO["orange"], ms=11, mec="black",
                              label="reached the final look (final-look HR)")
        self._mean_reached = self._dyn(reached)
        (final_all,) = ax2.plot([], [], "D", color="white", mec="black", ms=8,
                                label="all, final-look HR as if none had stopped")
        self._mean_final_all = self._dyn(final_all)
        handles, labels = ax2.get_legend_handles_labels()
        self._hr_legend_for = None   # made in _draw: "at an interim look" only where there are interims
        fig.legend(handles[3:], labels[3:], loc="lower center", ncol=3, fontsize=9,
                   bbox_to_anchor=(0.5, 0.0), frameon=False, title_fontsize=9,
                   title="Mean hazard ratio (geometric) of the replays that")
        ax2.set_title("Estimates at stopping vs the truth", loc="left", fontsize=11)
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=12.5,
                                             fontweight="bold"))

    def _ymax(self, r):
        """The histogram's height: rounded up from its tallest bar, or for a first look the
        height of the picture before (its few replays give ragged bars; the final picture
        sets the height again), so that a first look never redraws the whole figure."""
        shown = getattr(self, "_shown_ymax", None)
        if r.first_look and shown is not None:
            return shown
        counts = np.histogram(r.hr_at_stop[r.efficacy], self.BINS)[0] / r.n_trials
        return _ceiling(counts.max() * 1.1, (0.05, 0.1, 0.2, 0.4, 0.8, 1.0))

    def _layout_key(self):
        return self._ymax(self.result), self.result.information_fractions.size > 1

    def _draw(self, r):
        ymax = self._ymax(r)
        if not r.first_look:
            self._shown_ymax = ymax
        k = r.information_fractions.size
        eff = np.zeros(5)
        fut = np.zeros(5)
        eff[:k] = r.prob_efficacy
        fut[:k] = r.prob_futility
        self._eff_bars.set_values(eff)
        self._fut_bars.set_values(fut, base=eff)
        last = r.stop_look == k - 1
        interim = np.histogram(r.hr_at_stop[r.efficacy & ~last], self.BINS)[0] / r.n_trials
        final = np.histogram(r.hr_at_stop[r.efficacy & last], self.BINS)[0] / r.n_trials
        self._hr_bars.set_values(interim)
        self._hr_bars_final.set_values(final, base=interim)
        # bars and markers stay below ymax; the legend sits in the headroom above
        self._ax_hr.set_ylim(0, ymax / HEADROOM)
        self._ax_hr.set_yticks(np.linspace(0, ymax, 5), [f"{v:.2g}" for v in np.linspace(0, ymax, 5)])
        if self._hr_legend_for != (k > 1):
            self._hr_legend_for = k > 1
            shown = ([self._hr_bars] if k > 1 else []) + [self._hr_bars_final, self._truth]
            self._legend(self._ax_hr, handles=shown, labels=[a.get_label() for a in shown], loc="upper left",
                         fontsize=9)
        self._truth.set_xdata([r.hazard_ratio, r.hazard_ratio])
        if math.isfinite(r.mean_log_hr_early):
            self._mean.set_data([math.exp(r.mean_log_hr_early)], [ymax * 0.97])
        else:
            self._mean.set_data([], [])
        for marker, value, y in ((self._mean_reached, r.mean_log_hr_reached, 0.88),
                                 (self._mean_final_all, r.mean_log_hr_final_all, 0.79)):
            marker.set_data(([math.exp(value)], [ymax * y]) if math.isfinite(value)
                            else ([], []))
        bias = (f": mean HR {math.exp(r.mean_log_hr_early):.2f}"
                if math.isfinite(r.mean_log_hr_early) else "")
        reached = (f": mean HR {math.exp(r.mean_log_hr_reached):.2f}"
                   if math.isfinite(r.mean_log_hr_reached) else "")
        if r.first_look:
            # the same words on every move (their layout is cached): the bars move at once,
            # the numbers come with the final picture a moment later
            self._title.set_text(f"First {r.n_trials} of {r.n_trials_asked} simulated trials "
                                 f"(the numbers follow when all {r.n_trials_asked} are done)")
            return
        self._title.set_text(
            f"{r._count()} simulated trials, true HR {r.hazard_ratio:g}, {k} look(s): "
            f"power {r.power:.1%}\nstopped early for efficacy {r.share_early:.1%}{bias}; "
            f"reached the final look {r.share_reached:.1%}{reached}\n"
            f"every trial's final look, as if none had stopped: mean HR "
            f"{math.exp(r.mean_log_hr_final_all):.2f} (truth {r.hazard_ratio:g})")

    def bias_text(self, result=None) -> str:
        """Which way the trials that reached the final look are biased, with these settings
        (:func:`bias_sentence`; the simulated mean quoted, the direction exact)."""
        r = self.result if result is None else result
        p = self._full_params(self.params)
        return bias_sentence(r.hazard_ratio, r.information_fractions.size, p["spending"], p["futility"],
                             r.mean_log_hr_reached)

    def _note(self, r):
        if r.first_look:  # tk-busy: the live region waits for the final line (see _a11y)
            return (f"<span class='tk-busy'>First {r.n_trials} of {r.n_trials_asked} replays "
                    f"shown; the other {r.n_trials_asked - r.n_trials} are on their way</span>")
        return f"{r.n_trials} replays in {r.seconds:.2f} s. {html.escape(self.bias_text(r))}"

    def code(self, params=None) -> str:
        """The design and :func:`teachkit.simulate.simulate_trials`, in the explorer's runs."""
        from teachkit import aall1331

        p = self._full_params(self.params if params is None else params)
        patients = aall1331.fact("design.patients_planned").value
        k = p["n_looks"]
        futility = p["futility"] and k > 1
        sizes = self.run_sizes(p["n_trials"])
        full, rest = divmod(p["n_trials"] - self.FIRST, self.CHUNK)
        sizes_code = (f"[{self.FIRST}] + [{self.CHUNK}] * {full}" + (f" + [{rest}]" if rest else ""))
        lines = ["import numpy as np", "import teachkit as tk", "",
                 "plan = tk.aall1331.monitoring_plan()  # 131 events, alpha .025, futility: a reconstruction",
                 f"looks = np.arange(1, {k + 1}) / {k}"]
        extra = ",\n    futility_alpha=plan.futility_alpha, futility_drift=plan.drift" if futility else ""
        lines += ["design = tk.sequential.group_sequential_design(",
                  f"    looks, alpha=plan.alpha, spending={p['spending']!r}{extra})",
                  f"seeds = np.random.SeedSequence({p['seed']}).spawn({len(sizes)})",
                  f"runs = [tk.simulate.simulate_trials(n, {patients}, "
                  f"hazard_ratio={p['hazard_ratio']!r}, events=plan.events_planned,",
                  "                                   information_fractions=looks, design=design,",
                  f"                                   futility={'design' if futility else None!r}, "
                  "seed=seed)",
                  f"        for n, seed in zip({sizes_code}, seeds)]",
                  "efficacy = np.concatenate([r.efficacy for r in runs])",
                  "stop_look = np.concatenate([r.stop_look for r in runs])",
                  "print(efficacy.mean(), np.bincount(stop_look))  # power; trials stopped at each look",
                  "# the mean HR by how trials stopped, exactly (normal model, no simulation)",
                  f"print(tk.sequential.bias_by_stopping(design, {p['hazard_ratio']!r}, plan.events_planned, "
                  f"futility={bool(futility)}))"]
        return "\n".join(lines) + "\n"

    def describe(self, result=None) -> str:
        """The two histograms in words."""
        r = self.result if result is None else result
        k = r.information_fractions.size
        stops = "; ".join(f"look {i + 1}: efficacy {r.prob_efficacy[i]:.1%}, futility or "
                          f"not rejected {r.prob_futility[i]:.1%}" for i in range(k))
        bias = (f" Early efficacy stops report a hazard ratio of "
                f"{math.exp(r.mean_log_hr_early):.2f} on average against the true "
                f"{r.hazard_ratio:g}." if math.isfinite(r.mean_log_hr_early) else "")
        return (f"{r._count()} simulated trials, true hazard ratio {r.hazard_ratio:g}, {k} look(s). "
                f"Where they stopped: {stops}. Power {r.power:.1%}; stopped early for efficacy "
                f"{r.share_early:.1%}.{bias} {self.bias_text(r)}")
