"""Planning an event-driven trial: events needed (Schoenfeld), patients needed, and when
each look is expected.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from teachkit import plots
from teachkit.explorers._base import Explorer, Param, _result_repr
from teachkit.explorers._layout import _ceiling


@functools.lru_cache(maxsize=64)
def _design(n_looks: int, alpha: float):
    """The O'Brien-Fleming-type design at equally spaced looks (kept: most moves, e.g. of
    the hazard ratio or the power, do not change it)."""
    from teachkit import sequential

    return sequential.group_sequential_design(np.arange(1, n_looks + 1) / n_looks, alpha=alpha)


@dataclass(frozen=True)
class PlanResult:
    """Events and patients needed, and when each look is expected."""

    events: Any                 # teachkit.design.EventsRequired
    patients: float             # patients_required(...) (not rounded)
    control_hazard: float       # per year, from the control 2-year DFS
    look_fractions: np.ndarray
    look_events: np.ndarray
    look_times: np.ndarray      # years after the first randomization
    calendar: np.ndarray        # grid of calendar times (years)
    expected: np.ndarray        # expected events on the grid
    model: str = "constant hazard"  # or "plateau" (mixture cure)
    cure_fraction: float = 0.0  # control plateau pi (0 under constant hazard)
    patients_available: int = 220
    max_events_available: float = 220.0  # most events ever from patients_available
    expected_available: Any = None  # expected events on the grid from patients_available

    __repr__ = _result_repr


class EventsPlanner(Explorer):
    """Hazard ratio, power, alpha, looks, accrual and follow-up -> events needed
    (Schoenfeld 1981, inflated for the looks), patients needed, and when each look is
    expected (uniform accrual; control survival exponential, or with a plateau).

    Two models of control DFS: **constant hazard** (exponential through the 2-year
    value: every patient has an event sooner or later, so enough follow-up always
    brings the events) and **plateau** (mixture cure, S0(t) = pi + (1 - pi) e^(-lambda t),
    pi set by the 2-year value and the published median time to a first event, 6
    months: :func:`teachkit.design.cure_fraction_from_survival`; a reconstruction, the
    paper states no cure model).  Under a plateau ``patients_available`` patients can
    produce at most :func:`teachkit.design.maximum_events` events, however long the
    follow-up: for AALL1331's 220 fewer than the 131 planned.

    Uses :func:`teachkit.design.events_required`, :func:`teachkit.design.patients_required`,
    :func:`teachkit.design.expected_events` and :func:`teachkit.design.analysis_times`.

    >>> r = EventsPlanner().compute(n_looks=1)
    >>> round(r.events.events, 2)
    121.03
    >>> r = EventsPlanner().compute(model="plateau")
    >>> round(r.cure_fraction, 3), bool(r.max_events_available < r.events.events)
    (0.413, True)
    """

    title = "Events planner: how many events and patients, and when will each look come?"
    FIGSIZE = (9.0, 5.2)
    PARAMS = (
        Param("hazard_ratio", "Hazard ratio to detect", "float", 0.58, min=0.4, max=0.9, step=0.01),
        Param("power", "Power", "float", 0.85, min=0.6, max=0.95, step=0.01),
        Param("alpha", "One-sided alpha", "float", 0.025, min=0.005, max=0.05, step=0.005),
        Param("n_looks", "Looks", "int", 3, min=1, max=5,
              help="analyses, equally spaced in events, with O'Brien-Fleming-type boundaries "
                   "(lesson 05); 1 = a single final analysis"),
        Param("control_2y", "Control 2-year DFS", "float", 0.45, min=0.2, max=0.8, step=0.01),
        Param("accrual_years", "Accrual period (years)", "float", 4.5, min=1.0, max=8.0, step=0.25),
        Param("follow_up_years", "Follow-up after accrual (years)", "float", 1.0, min=0.25,
              max=4.0, step=0.25),
        Param("model", "Control DFS model", "choice", "constant hazard",
              options=("constant hazard", "plateau"),
              option_labels=("constant hazard (all relapse eventually)",
                             "plateau (mixture cure)"),
              help="plateau: some patients never have an event; its height is set by the 2-year "
                   "DFS and a median time to event of 6 months (a reconstruction)"),
        Param("patients_available", "Patients available", "int", 220, min=40, max=600, step=4,
              help="the most events these patients can ever give is drawn as a ceiling"),
    )

    @classmethod
    def example_params(cls):
        return [cls.defaults(), dict(n_looks=1), dict(hazard_ratio=0.7), dict(power=0.9, alpha=0.01),
                dict(control_2y=0.7), dict(accrual_years=2.0, follow_up_years=3.0),
                dict(n_looks=5, hazard_ratio=0.5), dict(accrual_years=8.0, follow_up_years=0.25),
                dict(model="plateau"), dict(model="plateau", patients_available=208, control_2y=0.2),
                dict(model="plateau", control_2y=0.8, hazard_ratio=0.9, patients_available=600)]

    def compute(self, **params):
        from teachkit import design as dsg

        p = self._full_params(params)
        k = p["n_looks"]
        fractions = np.arange(1, k + 1) / k
        gs = _design(k, p["alpha"]) if k > 1 else None
        ev = dsg.events_required(p["hazard_ratio"], alpha=p["alpha"], power=p["power"], design=gs)
        if p["model"] == "plateau":
            pi = dsg.cure_fraction_from_survival(p["control_2y"], 2.0, self._median_latency())
            lam = dsg.latency_hazard(p["control_2y"], 2.0, pi)
            cure = dict(cure_fraction=pi)
            most = dsg.maximum_events(p["patients_available"], pi, p["hazard_ratio"])
        else:
            pi, lam, cure = 0.0, dsg.hazard_from_survival(p["control_2y"], 2.0), {}
            most = float(p["patients_available"])      # every patient, sooner or later
        n = dsg.patients_required(ev, p["accrual_years"], p["follow_up_years"], lam, p["hazard_ratio"],
                                  **cure)
        look_events = ev.events * fractions
        times = np.atleast_1d(dsg.analysis_times(look_events, n, p["accrual_years"], lam,
                                                 p["hazard_ratio"], **cure))
        grid = np.linspace(0, self._xmax(p), 121)
        expected = dsg.expected_events(grid, n, p["accrual_years"], lam, p["hazard_ratio"], **cure)
        # the same accrual period and model, with the patients available rather than those
        # needed: the curve that the ceiling bounds (a curve for the patients needed above a
        # ceiling for the patients available read as a contradiction: issue 26, item 7)
        available = dsg.expected_events(grid, p["patients_available"], p["accrual_years"], lam,
                                        p["hazard_ratio"], **cure)
        return PlanResult(ev, float(n), float(lam), fractions, look_events, times, grid, expected,
                          p["model"], float(pi), int(p["patients_available"]), float(most),
                          np.asarray(available, dtype=float))

    @staticmethod
    def _median_latency():
        """Median time to a first DFS event, years (Results, Primary End Point)."""
        from teachkit import aall1331

        return aall1331.fact("follow_up.dfs_event_median_months").value / 12.0

    @classmethod
    def _xmax(cls, p):
        return cls.XMAX

    def _setup(self, fig):
        self._ax = ax = fig.add_axes((0.08, 0.13, 0.62, 0.72))
        from matplotlib.patches import Rectangle

        self._accrual = self._dyn(Rectangle((0, 0), 1, 1, facecolor="#E3E3E3", edgecolor="none",
                                            zorder=0.5, label="accrual period"))
        ax.add_patch(self._accrual)
        (curve,) = ax.plot([], [], color=plots.OKABE_ITO["black"], lw=2.2,
                           label="expected events,\npatients needed")
        self._curve = self._dyn(curve)
        (available,) = ax.plot([], [], color=plots.OKABE_ITO["vermillion"], lw=1.6,
                               label="expected events,\npatients available")
        self._available = self._dyn(available)
        self._target = self._dyn(ax.axhline(0, color=plots.EFFICACY_COLOR, lw=1.5, ls="--",
                                            label="events required"))
        self._ceiling = self._dyn(ax.axhline(0, color=plots.OKABE_ITO["vermillion"], lw=1.5,
                                             ls=":", label="most events ever,\npatients available"))
        (looks,) = ax.plot([], [], "o", color=plots.OKABE_ITO["vermillion"], ms=9,
                           label="looks")
        self._looks = self._dyn(looks)
        self._look_labels = [self._dyn(ax.text(0, 0, "", fontsize=9.5, ha="right", va="bottom"))
                             for _ in range(5)]
        ax.set_xlabel("Years after the first randomization")
        ax.set_ylabel("Expected events (DFS)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=9.5,
                  borderaxespad=0)  # outside the axes: never under the moving artists
        # the numbers are a table under the picture (numbers), not text drawn in it:
        # real text a screen reader can move through, that reflows on a phone, and no text
        # layout in the kernel on every move (most of a move's time when it was drawn here)
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=12.5,
                                             fontweight="bold"))

    XMAX = 13.0  # years: the longest accrual (8) + follow-up (4) + 1
    Y_STEPS = (150, 300, 600, 1200, 2400, 4800)  # the heights of the events axis
    KEEP_BACKGROUNDS = len(Y_STEPS) + 2

    def _limits(self, r):
        return self.XMAX, _ceiling(max(r.expected[-1], r.expected_available[-1], r.events.events,
                                       r.max_events_available) * 1.1,
                                   self.Y_STEPS)

    def _prepare_backgrounds(self):
        """The six heights of the events axis, drawn when the widget is built (about 0.3 s,
        once): a move that changes the height then costs no more than any other."""
        shown = self._ax.get_ylim()
        for ymax in self.Y_STEPS:
            self._prepare_background((self.XMAX, float(ymax)), lambda y=ymax: self._ax.set_ylim(0, y))
        self._ax.set_ylim(*shown)

    def _layout_key(self):
        return self._limits(self.result)

    def _draw(self, r):
        p = self.params
        xmax, ymax = self._limits(r)
        self._ax.set_xlim(0, xmax)
        self._ax.set_ylim(0, ymax)
        self._accrual.set_bounds(0, 0, p["accrual_years"], ymax)
        self._curve.set_data(r.calendar, r.expected)
        self._available.set_data(r.calendar, r.expected_available)
        self._target.set_ydata([r.events.events] * 2)
        self._ceiling.set_ydata([r.max_events_available] * 2)
        self._looks.set_data(r.look_times, r.look_events)
        for i, text in enumerate(self._look_labels):
            if i < r.look_times.size:
                text.set_position((r.look_times[i] - 0.05, r.look_events[i] + ymax * 0.015))
                text.set_text(f"look {i + 1}")
            else:
                text.set_text("")
        ev = r.events
        reach = (f"\n{ev.events_rounded} events out of reach with {r.patients_available} patients "
                 f"(at most {r.max_events_available:.0f}, {r.model})"
                 if r.max_events_available < ev.events else "")
        self._title.set_text(f"HR {p['hazard_ratio']:g}, power {p['power']:.0%}, one-sided alpha "
                             f"{p['alpha']:g}: {ev.events_rounded} events, "
                             f"{math.ceil(r.patients - 1e-9)} patients{reach}")

    NUMBERS_TITLE = "The plan in numbers"

    def numbers(self, result=None) -> list[tuple[str, str]]:
        """The plan in numbers: (what, value) rows of the table under the picture."""
        r = self.result if result is None else result
        ev = r.events
        rows = [("events for one look (Schoenfeld)", f"{ev.events_fixed:.1f}"),
                (f"× inflation for {r.look_fractions.size} look(s)", f"{ev.inflation_factor:.4f}"),
                ("events needed", f"{ev.events:.1f} → {ev.events_rounded}"),
                ("patients needed", f"{r.patients:.1f} → {math.ceil(r.patients - 1e-9)}"),
                ("latency hazard (uncured)" if r.model == "plateau" else "control hazard",
                 f"{r.control_hazard:.3f} per year"),
                ("plateau (cured share, control)", f"{r.cure_fraction:.1%}" if r.model == "plateau"
                 else "none: constant hazard"),
                (f"most events ever, {r.patients_available} patients", f"{r.max_events_available:.0f}")]
        rows += [(f"look {i + 1}", f"{d:.1f} events, {t:.1f} years")
                 for i, (d, t) in enumerate(zip(r.look_events, r.look_times))]
        return rows

    def _note(self, r):
        from teachkit import aall1331

        planned = aall1331.fact("design.events_planned").value
        patients = aall1331.fact("design.patients_planned").value
        return (f"The picture draws the events expected from the patients needed and from the "
                f"{r.patients_available} available.<br>Why not AALL1331's {planned} events and "
                f"{patients} patients? This planner uses a simpler formula (Schoenfeld's) and no "
                f"futility rule; the paper does not say how {planned} was found (two readings are "
                f"reconstructed below the planner).")

    def code(self, params=None) -> str:
        """:func:`teachkit.sequential.group_sequential_design`,
        :func:`teachkit.design.events_required`, ``patients_required``, ``analysis_times``."""
        p = self._full_params(self.params if params is None else params)
        k, hr = p["n_looks"], p["hazard_ratio"]
        lines = ["import numpy as np", "import teachkit as tk", "",
                 f"looks = np.arange(1, {k + 1}) / {k}  # information fractions"]
        if k > 1:
            lines += [f"design = tk.sequential.group_sequential_design(looks, alpha={p['alpha']!r})"
                      "  # O'Brien-Fleming type"]
        else:
            lines += ["design = None  # one look: no group-sequential inflation"]
        lines += [f"events = tk.design.events_required(hazard_ratio={hr!r}, alpha={p['alpha']!r}, "
                  f"power={p['power']!r},", "                                   design=design)"]
        c2, acc, fu = p["control_2y"], p["accrual_years"], p["follow_up_years"]
        if p["model"] == "plateau":
            lines += ['median = tk.aall1331.fact("follow_up.dfs_event_median_months").value / 12  # years',
                      f"cure = tk.design.cure_fraction_from_survival({c2!r}, 2.0, median)  # plateau",
                      f"hazard = tk.design.latency_hazard({c2!r}, 2.0, cure)",
                      f"most = tk.design.maximum_events({p['patients_available']}, cure, {hr!r})",
                      f"patients = tk.design.patients_required(events, {acc!r}, {fu!r}, hazard, {hr!r},",
                      "                                       cure_fraction=cure)",
                      f"times = tk.design.analysis_times(events.events * looks, patients, {acc!r}, "
                      f"hazard, {hr!r},", "                                 cure_fraction=cure)"]
        else:
            lines += [f"hazard = tk.design.hazard_from_survival({c2!r}, 2.0)  # control, per year",
                      f"patients = tk.design.patients_required(events, {acc!r}, {fu!r}, hazard, {hr!r})",
                      f"times = tk.design.analysis_times(events.events * looks, patients, {acc!r}, "
                      f"hazard, {hr!r})"]
        lines += ["print(events)  # events needed, and how they were computed",
                  "print(patients, times)  # patients; years to each look"]
        return "\n".join(lines) + "\n"

    def describe(self, result=None) -> str:
        """The expected-events curve and the looks in words."""
        r = self.result if result is None else result
        p = self.params
        ev = r.events
        looks = "; ".join(f"look {i + 1} at {d:.1f} events, {t:.1f} years" for i, (d, t) in
                          enumerate(zip(r.look_events, r.look_times)))
        return (f"Expected events over the years after the first randomization, accrual "
                f"{p['accrual_years']:g} years then {p['follow_up_years']:g} "
                f"year{'' if p['follow_up_years'] == 1 else 's'} of follow-up. "
                f"Hazard ratio {p['hazard_ratio']:g}, power {p['power']:.0%}, one-sided alpha "
                f"{p['alpha']:g}: {ev.events_fixed:.1f} events for one look, times "
                f"{ev.inflation_factor:.4f} for {p['n_looks']} look(s) = {ev.events:.1f}, rounded "
                f"up to {ev.events_rounded}; {math.ceil(r.patients - 1e-9)} patients. {looks}. "
                f"With the {r.patients_available} patients available: about "
                f"{float(np.interp(r.look_times[-1], r.calendar, r.expected_available)):.0f} events "
                f"by the last look's time, at most {r.max_events_available:.0f} ever ({r.model}).")
