"""Group-sequential stopping boundaries: alpha spending, efficacy and futility boundaries
on the Z, P and hazard-ratio scales, and power.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np

from teachkit import aall1331 as _aall1331
from teachkit import plots
from teachkit.explorers._base import Explorer, Param, _result_repr

#: The canonical monitoring plan: the explorer's defaults are AALL1331's plan as drawn.
_PLAN = _aall1331.monitoring_plan()


_SPENDING_LABELS = ("O'Brien-Fleming type (Lan-DeMets)", "Pocock type (Lan-DeMets)",
                    "Hwang-Shih-DeCani (gamma)", "Kim-DeMets power (rho)",
                    "classical O'Brien-Fleming", "classical Pocock")
_SPENDINGS = ("obrien-fleming", "pocock", "hwang-shih-decani", "power",
              "classical-obrien-fleming", "classical-pocock")
#: The families' names in words, for the picture's title and its text alternative (the title
#: printed the library's identifier, "obrien-fleming spending", in lesson 05's story).
_SPENDING_NAMES = dict(zip(_SPENDINGS, ("O'Brien-Fleming-type", "Pocock-type", "Hwang-Shih-DeCani",
                                        "Kim-DeMets power", "classical O'Brien-Fleming",
                                        "classical Pocock")))


def _spending_name(design) -> str:
    """``design``'s spending family in words ("O'Brien-Fleming-type spending"), with its
    parameter (gamma or rho) if it has one."""
    name = _SPENDING_NAMES.get(design.spending, design.spending)
    if design.spending in ("hwang-shih-decani", "power") and design.parameter is not None:
        name += f" ({'gamma' if design.spending == 'hwang-shih-decani' else 'rho'} {design.parameter:g})"
    # the classical designs fix the boundaries' shape rather than spend a budget
    return name + (" boundaries" if design.spending.startswith("classical") else " spending")
#: Where the first look can go.  A menu, not a slider: a slider's decimal steps cannot
#: hold 1/3, and a learner's page would then show 0.33's boundaries (Z 3.731) beside the
#: lesson's table for 1/3 (Z 3.710).
_FIRST_LOOKS = (0.1, 0.2, 0.25, 1 / 3, 0.4, 0.5, 0.6, 2 / 3, 0.75, 0.9)
_FIRST_LOOK_LABELS = ("0.1", "0.2", "0.25", "1/3", "0.4", "0.5", "0.6", "2/3", "0.75", "0.9")
#: When the looks fall: the first where the learner puts it and the others equally spaced,
#: or AALL1331's looks as taken in the canonical reconstruction (1/3, 80/131, 1).
_TIMINGS = ("planned", "as taken")
_TIMING_LABELS = ("first look here, the others equally spaced",
                  "AALL1331's looks as taken: 1/3, 80/131, 1 (a reconstruction)")
#: Controls shown only when they act, and those behind "More settings".
_ONLY_FOR = {"gamma": "hwang-shih-decani", "rho": "power"}
_ADVANCED = ("alpha", "futility", "futility_alpha", "binding", "hazard_ratio", "events_planned")

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_p(p: float) -> str:
    """A (nominal) P value as a reader can use it: four decimals down to 0.001, then
    scientific notation, never "0.0000".

    >>> format_p(0.0041), format_p(0.00010351), format_p(2.1e-8), format_p(0.0)
    ('0.0041', '1.0 × 10⁻⁴', '2.1 × 10⁻⁸', '0')
    """
    p = float(p)
    if p >= 0.001 or p <= 0.0:
        return "0" if p <= 0.0 else f"{p:.4f}"
    mantissa, exponent = f"{p:.1e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


@dataclass(frozen=True)
class BoundaryResult:
    """A group-sequential design, its power at a hazard ratio, and the per-look numbers."""

    design: Any                         # teachkit.sequential.GroupSequentialDesign
    drift: float                        # drift_from_hazard_ratio(hazard_ratio, events_planned)
    alpha_per_look: np.ndarray          # alpha spent at each look (increments)
    power_cumulative: np.ndarray        # P(reject by look k | HR), the committee following the rule
    power: float                        # the committee follows the futility rule
    power_ignoring_futility: float      # the committee ignores it
    hr_efficacy: np.ndarray             # the efficacy boundary as a hazard ratio
    alpha_ignoring_futility: float = float("nan")   # type I error if the rule is ignored
    binding: bool = False               # boundaries computed as binding (lowered for the rule)

    __repr__ = _result_repr


def _look_fractions(n_looks, first_look, timing="planned"):
    """First look at ``first_look``, the others equally spaced up to 1; or AALL1331's looks
    as taken (:func:`teachkit.aall1331.monitoring_plan`)."""
    if timing == "as taken":
        from teachkit import aall1331

        return np.asarray(aall1331.monitoring_plan().information_fractions, dtype=float)
    if n_looks == 1:
        return np.array([1.0])
    return np.concatenate(([first_look], np.linspace(first_look, 1.0, n_looks)[1:]))


def _wrap(args, width=80):
    """Keyword arguments joined by ", ", on a new (indented) line when a line gets long."""
    lines = [args[0]]
    for a in args[1:]:
        if len(lines[-1]) + len(a) + 2 > width:
            lines.append(a)
        else:
            lines[-1] += ", " + a
    return ",\n    ".join(lines)


class BoundaryExplorer(Explorer):
    """Number and timing of looks, alpha-spending family and its parameter -> efficacy and
    futility boundaries on the Z, nominal-P and HR scales, alpha spent per look, power.

    Uses :func:`teachkit.sequential.group_sequential_design` (Lan & DeMets 1983; futility
    by testing the alternative, as AALL1331 did) and
    :func:`teachkit.sequential.drift_from_hazard_ratio`.  The defaults are AALL1331's plan as
    drawn before any look (:func:`teachkit.aall1331.monitoring_plan`, a reconstruction);
    "Looks" can show the looks as taken (1/3, 80/131, 1).  A futility rule raises two separate
    questions, both shown: how the efficacy boundaries are computed (non-binding, or binding:
    lowered on the promise to stop at futility) and whether the committee follows the rule
    (power and type I error either way).

    >>> r = BoundaryExplorer().compute()
    >>> r.design.z_efficacy.round(3)
    array([3.71 , 2.511, 1.993])
    >>> round(r.power, 3), round(r.power_ignoring_futility, 3)
    (0.861, 0.873)
    >>> b = BoundaryExplorer().compute(binding="binding")
    >>> round(float(b.design.z_efficacy[-1]), 3), round(b.power, 3), round(b.alpha_ignoring_futility, 4)
    (1.973, 0.865, 0.0261)
    >>> BoundaryExplorer().compute(timing="as taken").design.z_efficacy.round(3)
    array([3.71 , 2.644, 1.983])
    """

    title = "Boundary explorer: alpha spending, stopping boundaries and power"
    FIGSIZE = (10.0, 6.6)
    PARAMS = (
        Param("timing", "Looks", "choice", "planned", options=_TIMINGS, option_labels=_TIMING_LABELS),
        Param("n_looks", "Number of looks", "int", len(_PLAN.planned_fractions), min=1, max=6),
        Param("first_look", "First look at information fraction", "choice", _PLAN.planned_fractions[0],
              options=_FIRST_LOOKS, option_labels=_FIRST_LOOK_LABELS,
              help="the other looks are equally spaced from here to 1"),
        Param("spending", "Spending family", "choice", "obrien-fleming", options=_SPENDINGS,
              option_labels=_SPENDING_LABELS),
        Param("gamma", "Hwang-Shih-DeCani gamma", "float", -4.0, min=-10.0, max=4.0, step=0.5),
        Param("rho", "Kim-DeMets rho", "float", 3.0, min=0.5, max=6.0, step=0.25),
        Param("alpha", "One-sided alpha", "float", _PLAN.alpha, min=0.005, max=0.05, step=0.005),
        Param("futility", "Futility rule (test the alternative)", "bool", True,
              help="stop for futility if the data are unlikely under the hoped-for hazard ratio"),
        Param("futility_alpha", "Futility level", "float", _PLAN.futility_alpha, min=0.005, max=0.2,
              step=0.001),
        Param("binding", "Efficacy boundaries computed as", "choice", "non-binding",
              options=("non-binding", "binding"),
              option_labels=("non-binding: not lowered for the futility rule",
                             "binding: lowered, on the promise to stop at futility"),
              help="how the boundaries are computed; whether the committee follows the rule is "
                   "shown as power either way"),
        Param("hazard_ratio", "Hazard ratio hoped for (power)", "float", _PLAN.hazard_ratio, min=0.4, max=0.9,
              step=0.01),
        Param("events_planned", "Events planned", "int", int(_PLAN.events_planned), min=40, max=400),
    )

    @classmethod
    def example_params(cls):
        return [cls.defaults(), dict(n_looks=1), dict(n_looks=6, first_look=0.2),
                dict(first_look=0.1, n_looks=2),
                dict(spending="pocock"), dict(spending="hwang-shih-decani", gamma=-2.0),
                dict(spending="power", rho=1.5, futility=False),
                dict(spending="classical-obrien-fleming", n_looks=4),
                dict(spending="classical-pocock", futility_alpha=0.1),
                dict(alpha=0.05, hazard_ratio=0.75, events_planned=300, first_look=0.6),
                dict(binding="binding"), dict(timing="as taken")]

    def compute(self, **params):
        from teachkit import sequential

        p = self._full_params(params)
        t = _look_fractions(p["n_looks"], p["first_look"], p["timing"])
        drift = sequential.drift_from_hazard_ratio(p["hazard_ratio"], p["events_planned"])
        parameter = {"hwang-shih-decani": p["gamma"], "power": p["rho"]}.get(p["spending"])
        has_rule = p["futility"] and t.size > 1
        futility = dict(futility_alpha=p["futility_alpha"], futility_drift=drift,
                        binding_futility=p["binding"] == "binding") if has_rule else {}
        design = sequential.group_sequential_design(t, alpha=p["alpha"], spending=p["spending"],
                                                    parameter=parameter, **futility)
        cum = design.rejection_probabilities(drift)
        hr = np.exp(-design.z_efficacy / np.sqrt(t * p["events_planned"] / 4.0))
        alpha_ignored = float(design.rejection_probabilities(0.0, futility=False)[-1])
        return BoundaryResult(design, drift, np.diff(design.alpha_spent, prepend=0.0), cum,
                              float(cum[-1]), design.power(drift, futility=False), hr,
                              alpha_ignored, bool(has_rule and p["binding"] == "binding"))

    def futility_sentence(self, result=None) -> str:
        """The two questions a futility rule raises, in words with this design's numbers:
        how the boundaries are computed, and what follows if the committee follows or
        ignores the rule."""
        r = self.result if result is None else result
        if not r.design.has_futility:
            return (f"No futility rule: power {r.power:.1%}, type I error "
                    f"{r.alpha_ignoring_futility:.2%}.")
        if r.binding:
            return (f"Boundaries computed as binding (lowered on the promise to stop at futility). "
                    f"Power {r.power:.1%} if the committee follows the rule; if it ignores it, power "
                    f"{r.power_ignoring_futility:.1%} but type I error {r.alpha_ignoring_futility:.2%}, "
                    f"above the {r.design.alpha:.1%} promised.")
        return (f"Boundaries computed as non-binding (not lowered for the futility rule). Power "
                f"{r.power:.1%} if the committee follows the rule, {r.power_ignoring_futility:.1%} if "
                f"it ignores it; type I error at most {r.design.alpha:.1%} either way.")

    def _setup(self, fig):
        axes = {"z": fig.add_axes((0.07, 0.47, 0.25, 0.34)),
                "p": fig.add_axes((0.415, 0.47, 0.25, 0.34)),
                "hr": fig.add_axes((0.75, 0.47, 0.24, 0.34))}
        self._panel = plots.BoundaryPanel(axes, x_label="Information fraction")
        for a in self._panel.artists():
            self._dyn(a)
        for scale, ax in axes.items():
            ax.set_xlabel("Information fraction", fontsize=11)
            ax.yaxis.label.set_size(10.5)
        axes["z"].set_ylabel("Z (> 0 favours blinatumomab)")
        axes["hr"].set_ylabel("Hazard ratio")
        self._legend_for = None      # the legend is made in _draw, of what is drawn
        self._ax_alpha = ax = fig.add_axes((0.07, 0.08, 0.38, 0.26))
        self._alpha_bars = self._dyn(plots.BarCollection(ax, np.arange(1, 7), 0.6,
                                                          color=plots.OKABE_ITO["sky_blue"]))
        ax.set_xlim(0.4, 6.6)
        ax.set_xticks(np.arange(1, 7))
        ax.set_xlabel("Look")
        ax.set_ylabel("Alpha spent at look")
        ax.set_ylim(0, 0.05 * 1.15)  # the largest alpha of the control: a fixed scale
        self._ax_power = ax = fig.add_axes((0.58, 0.08, 0.38, 0.26))
        self._power_bars = self._dyn(plots.BarCollection(ax, np.arange(1, 7), 0.6,
                                                          color=plots.EFFICACY_COLOR))
        ax.set_xlim(0.4, 6.6)
        ax.set_ylim(0, 1)
        ax.set_xticks(np.arange(1, 7))
        ax.set_xlabel("Look")
        ax.set_ylabel("P(stopped for efficacy by look)", fontsize=10)
        self._alpha_texts = [self._dyn(self._ax_alpha.text(k, 0, "", ha="center", va="bottom",
                                                           fontsize=8.5)) for k in range(1, 7)]
        self._power_texts = [self._dyn(self._ax_power.text(k, 0, "", ha="center", va="bottom",
                                                           fontsize=8.5)) for k in range(1, 7)]
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=12.5,
                                             fontweight="bold"))

    def _layout_key(self):
        # the legend (in the background) lists the futility boundary only when there is one
        return bool(self.result.design.has_futility) if self.result is not None else None

    def _draw(self, r):
        p = self.params
        d = r.design
        self._panel.update(d, p["events_planned"])
        if self._legend_for != bool(d.has_futility):
            self._legend_for = bool(d.has_futility)
            self._panel.legend(self._panel.axes["z"], loc="upper left", bbox_to_anchor=(0.0, 1.16), ncol=3,
                               fontsize=10, borderaxespad=0)
        k = d.n_looks
        alpha = np.zeros(6)
        alpha[:k] = r.alpha_per_look
        power = np.zeros(6)
        power[:k] = r.power_cumulative
        self._alpha_bars.set_values(alpha)
        self._power_bars.set_values(power)
        for i in range(6):
            shown = i < k
            self._alpha_texts[i].set_text(f"{alpha[i]:.4f}" if shown else "")
            self._alpha_texts[i].set_y(alpha[i])
            self._power_texts[i].set_text(f"{power[i]:.2f}" if shown else "")
            self._power_texts[i].set_y(power[i])
        fut = (f"{'binding' if r.binding else 'non-binding'} futility at {p['futility_alpha']:g}: "
               f"power {r.power:.1%} if followed, {r.power_ignoring_futility:.1%} if ignored"
               + (f" (type I error {r.alpha_ignoring_futility:.2%})" if r.binding else "")) \
            if d.has_futility else f"power {r.power:.1%}"
        planned_here = (p["timing"] == "planned" and k == 3 and abs(p["first_look"] - 1 / 3) < 1e-12)
        looks = ("AALL1331's looks as taken (reconstruction), " if p["timing"] == "as taken" else
                 "AALL1331's looks as planned (reconstruction), " if planned_here else "")
        self._title.set_text(f"{looks}{k} look(s), {_spending_name(d)}, one-sided alpha {p['alpha']:g}\n"
                             f"HR {p['hazard_ratio']:g} with {p['events_planned']} events: {fut}")

    def _note(self, r):
        d = r.design
        cells = ", ".join(f"look {i + 1}: Z ≥ {z:.3f} (P ≤ {format_p(pp)})"
                          for i, (z, pp) in enumerate(zip(d.z_efficacy, d.p_efficacy)))
        return html.escape("Stop for benefit at " + cells + ". " + self.futility_sentence(r))

    # ---- controls shown only when they act ----------------------------------------------
    def _extra_controls(self):
        import ipywidgets as W

        self._more = W.ToggleButton(value=False, description="More settings",
                                    tooltip="one-sided alpha, the futility rule, the hazard "
                                            "ratio and events for power",
                                    icon="sliders", layout=W.Layout(width="auto"))
        self._more.observe(lambda _ch: self._show_active_controls(), names="value")
        return [self._more]

    def visible_controls(self) -> tuple:
        """The names of the controls that act now (and that the learner asked to see)."""
        p = self.params
        more = getattr(self, "_more", None)
        shown = []
        for q in self.PARAMS:
            if q.name in _ONLY_FOR and p["spending"] != _ONLY_FOR[q.name]:
                continue
            if q.name in _ADVANCED and not (more is not None and more.value):
                continue
            if q.name in ("futility_alpha", "binding") and not (
                    p["futility"] and (p["n_looks"] > 1 or p["timing"] == "as taken")):
                continue
            if q.name in ("n_looks", "first_look") and p["timing"] == "as taken":
                continue
            shown.append(q.name)
        return tuple(shown)

    def _show_active_controls(self):
        shown = self.visible_controls()
        for name, control in self._controls.items():
            control.layout.display = "" if name in shown else "none"

    def _update_views(self, r):
        self._show_active_controls()

    def code(self, params=None) -> str:
        """:func:`teachkit.sequential.group_sequential_design` and its power."""
        p = self._full_params(self.params if params is None else params)
        k, d = p["n_looks"], p["events_planned"]
        looks = ("np.array([1.0])" if k == 1
                 else f"np.linspace({p['first_look']!r}, 1.0, {k})")
        looks = f"looks = {looks}  # information fractions\n"
        if p["timing"] == "as taken":
            k = 3
            looks = ("# AALL1331's looks as taken: 1/3, 80/131, 1 (the canonical plan, a reconstruction)\n"
                     "looks = np.array(tk.aall1331.monitoring_plan().information_fractions)\n")
        args = [f"alpha={p['alpha']!r}", f"spending={p['spending']!r}"]
        parameter = {"hwang-shih-decani": p["gamma"], "power": p["rho"]}.get(p["spending"])
        if parameter is not None:
            args.append(f"parameter={parameter!r}")
        if p["futility"] and k > 1:
            args.append(f"futility_alpha={p['futility_alpha']!r}, futility_drift=drift")
            if p["binding"] == "binding":
                args.append("binding_futility=True")
        return (
            "import numpy as np\nimport teachkit as tk\n\n"
            + looks +
            f"drift = tk.sequential.drift_from_hazard_ratio({p['hazard_ratio']!r}, {d})\n"
            "design = tk.sequential.group_sequential_design(\n"
            f"    looks, {_wrap(args)})\n"
            "power = design.rejection_probabilities(drift)  # cumulative, by look; the rule followed\n"
            "ignored = design.power(drift, futility=False)   # the committee ignores the rule\n"
            f"hr = np.exp(-design.z_efficacy / np.sqrt(looks * {d} / 4))  # boundary as a hazard ratio\n"
            "print(design.z_efficacy, design.p_efficacy, power[-1])\n")

    def describe(self, result=None) -> str:
        """The boundaries, alpha spent and power in words, look by look."""
        r = self.result if result is None else result
        d = r.design
        t = np.asarray(d.information_fractions)
        fut = getattr(d, "z_futility", None)
        looks = []
        for k in range(d.n_looks):
            futility = ""
            if fut is not None and np.isfinite(fut[k]):
                futility = f", futility below Z {fut[k]:.2f}"
            looks.append(f"look {k + 1} at {t[k]:.2f} information: efficacy Z {d.z_efficacy[k]:.2f} "
                         f"(HR {r.hr_efficacy[k]:.2f}){futility}, alpha spent "
                         f"{r.alpha_per_look[k]:.4f}, stopped for efficacy by then "
                         f"{r.power_cumulative[k]:.2f}")
        return (f"Group-sequential boundaries, {_spending_name(r.design)}, one-sided alpha "
                f"{self.params['alpha']:g}: " + "; ".join(looks) + ". " + self.futility_sentence(r))
