"""The Kaplan-Meier (product-limit) estimate, built one row at a time on the 6-MP data,
with censoring toggles and the Greenwood confidence band.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np

from teachkit import plots
from teachkit.explorers._base import Explorer, Param, _result_repr


_KM_GROUP_COLORS = {"6-MP": plots.OKABE_ITO["bluish_green"], "placebo": plots.OKABE_ITO["orange"]}


@dataclass(frozen=True)
class KaplanMeierBuildResult:
    """One group of the 6-MP data, with some patients' censoring toggled, and its KM fit."""

    group: str
    time: np.ndarray
    event: np.ndarray          # after the toggles
    flipped: tuple             # indices (into this group, in time order) that were toggled
    fit: Any                   # teachkit.survival.KaplanMeier
    step: int                  # rows of the product-limit table shown (0 = none yet)
    row: int | None            # index of the current row (step - 1), None before the first
    arithmetic: str            # the product-limit update of the current row, in words

    __repr__ = _result_repr


class KaplanMeierBuilder(Explorer):
    """Build a Kaplan-Meier curve by hand on the 6-MP data (Freireich et al., 1963):
    toggle whether individual patients were censored, step through the product-limit
    table row by row, and see the Greenwood confidence band.

    Uses :func:`teachkit.survival.kaplan_meier` and :func:`teachkit.datasets.freireich`.

    >>> r = KaplanMeierBuilder().compute(group="6-MP", step=1)
    >>> r.arithmetic
    'S(6) = 1 x (1 - 3/21) = 0.857'
    """

    title = "Kaplan-Meier builder: the product-limit estimate, one row at a time"
    FIGSIZE = (9.0, 5.6)
    TIMES = (0, 5, 10, 15, 20, 25, 30, 35)
    PARAMS = (
        Param("group", "Group (Freireich 6-MP trial)", "choice", "6-MP", options=("6-MP", "placebo")),
        Param("flipped", "Switch relapse/censored for patients", "indices", (), min=0, max=20,
              help="tick a patient to switch relapse and censored for that patient; untick to switch "
                   "back; 'Reset' switches every patient back"),
        Param("step", "Rows of the table computed", "int", 21, min=0, max=21),
        Param("conf_type", "95% band computed on the scale", "choice", "log-log",
              options=("log-log", "log", "plain"),
              option_labels=("log-log (this course's default: stays in 0-1)",
                             "log (the default in R: can pass 1)", "plain (S ± 1.96 SE, can leave 0-1)"),
              help="all three use Greenwood's standard error; they differ in the scale on which "
                   "± 1.96 SE is added (see 'The formula' below the explorer)"),
        Param("band", "Show the 95% confidence band", "bool", True),
    )

    @classmethod
    def example_params(cls):
        return [dict(group="6-MP", flipped=(), step=21, conf_type="log-log", band=True),
                dict(step=0), dict(step=1), dict(step=3), dict(flipped=(3, 8)),
                dict(flipped=(0, 1, 2), conf_type="plain"), dict(group="placebo", flipped=()),
                dict(group="placebo", flipped=(20,), step=10, conf_type="log"),
                dict(band=False, group="6-MP", flipped=(), step=21)]

    @staticmethod
    def data(group):
        from teachkit import datasets

        d = datasets.freireich()
        keep = d.group == group
        order = np.lexsort((-d.event[keep], d.time[keep]))  # by time, events before censorings
        return d.time[keep][order], d.event[keep][order]

    def compute(self, **params):
        from teachkit import survival

        p = self._full_params(params)
        time, event = self.data(p["group"])
        if p["flipped"] and max(p["flipped"]) >= time.size:
            raise ValueError(f"flipped must index the {time.size} patients of {p['group']}")
        event = event.copy()
        flips = np.asarray(p["flipped"], dtype=int)
        event[flips] = 1 - event[flips]
        fit = survival.kaplan_meier(time, event, conf_type=p["conf_type"])
        step = min(p["step"], fit.time.size)
        row = step - 1 if step > 0 else None
        if row is None:
            arithmetic = f"S(0) = 1: all {fit.n} patients at risk"
        else:
            s_prev = 1.0 if row == 0 else float(fit.survival[row - 1])
            t = f"{fit.time[row]:g}"
            n, d, c = int(fit.n_at_risk[row]), int(fit.n_events[row]), int(fit.n_censored[row])
            if d == 0:
                arithmetic = f"S({t}) = {s_prev:.3g}  (no relapse; {c} censored leave)"
            else:
                arithmetic = (f"S({t}) = {s_prev:.3g} x (1 - {d}/{n}) = {float(fit.survival[row]):.3f}")
        return KaplanMeierBuildResult(p["group"], time, event, tuple(int(i) for i in flips), fit,
                                      step, row, arithmetic)

    def _setup(self, fig):
        fig, ax, table_ax = plots.km_figure(3, width=self.FIGSIZE[0], curve_height=3.5, figure=fig)
        self.FIGSIZE = tuple(fig.get_size_inches())
        self._panel = panel = plots.KaplanMeierPanel(
            ax, table_ax, [("cohort", "group", "black")], self.TIMES, time_unit="weeks",
            ylabel="Still in remission, S(t)", xmax=35)
        cells = {id(t) for texts in panel.cells.values() for t in texts}
        for a in panel.artists():
            if id(a) not in cells:  # the table depends on the data only: in the background
                self._dyn(a)
        (self._ghost,) = ax.plot([], [], drawstyle="steps-post", color="#BBBBBB", lw=1.5,
                                 zorder=1.5)
        self._dyn(self._ghost)
        (self._point,) = ax.plot([], [], "o", ms=10, mfc="white", mew=2.2, color="black", zorder=4)
        self._dyn(self._point)
        self._arith = self._dyn(ax.set_title("", loc="left", fontsize=12, family="DejaVu Sans Mono",
                                             fontweight="normal"))
        self._label = table_ax.texts[0]  # static, like the table (see _layout_key)
        self._title = self._dyn(fig.suptitle("", x=0.01, ha="left", fontsize=13, fontweight="bold"))
        ax.text(1.0, -0.12, "Data: Freireich et al., Blood 1963\nticks: censored; grey: full estimate",
                transform=ax.transAxes, ha="right", va="top", fontsize=8, color="#555555")

    def _layout_key(self):
        # the numbers-at-risk table and its label change only with the data
        return (self.result.group, self.result.flipped)

    def _draw(self, r):
        fit = r.fit
        panel = self._panel
        color = _KM_GROUP_COLORS[r.group]
        panel.lines["cohort"].set_color(color)
        panel.ticks["cohort"].set_color(color)
        panel.bands["cohort"].set_facecolor(color)
        panel.ci = self.params["band"]
        if r.step == 0:
            panel.update({"cohort": None})
        else:
            # the curve as far as the table has been computed
            shown = type(fit)(**{**fit.__dict__, **{
                k: getattr(fit, k)[:r.step] for k in ("time", "n_at_risk", "n_events",
                                                       "n_censored", "survival", "std_err",
                                                       "std_err_log", "ci_lower", "ci_upper")}})
            panel.update({"cohort": shown})
        counts = plots.risk_table_counts(fit, self.TIMES)  # the table: the whole data
        for row, _ in panel.rows:
            for text, value in zip(panel.cells["cohort", row], counts[row]):
                text.set_text(str(value))
        x, y = plots._km_step_xy(fit, fit.time[-1])
        self._ghost.set_data(x, y)
        if r.row is None:
            self._point.set_data([0], [1])
        else:
            self._point.set_data([fit.time[r.row]], [fit.survival[r.row]])
        self._arith.set_text(r.arithmetic)
        self._label.set_text(r.group)
        self._label.set_color(color)
        toggled = f"; censoring toggled for {len(r.flipped)} patient(s)" if r.flipped else ""
        self._title.set_text(f"Kaplan-Meier estimate, {r.group} group: row {r.step} of "
                             f"{fit.time.size}{toggled}")

    # ---- widget extras: patient labels and the step table ---------------------------------
    def _extra_views(self):
        import ipywidgets as W

        self._table_html = W.HTML()
        return [self._table_html]

    def _update_views(self, r):
        control = self._controls.get("flipped")
        if control is not None:
            time, event = self.data(r.group)
            labels = [f"#{i + 1}: {t:g} wk, {'relapse' if e else 'censored'}"
                      + (" (switched)" if i in r.flipped else "")
                      for i, (t, e) in enumerate(zip(time, event ^ np.isin(np.arange(time.size), r.flipped)))]
            new = list(zip(labels, range(time.size)))
            if list(control.options) != new:
                self._syncing = True
                try:
                    control.options = new
                    control.value = tuple(r.flipped)
                finally:
                    self._syncing = False
        fit = r.fit
        step = self._controls.get("step")
        if step is not None and step.max != fit.time.size:
            # the slider reaches exactly the rows of this table (toggling can change them)
            self._syncing = True
            try:
                step.max = fit.time.size
                step.value = min(self.params["step"], fit.time.size)
            finally:
                self._syncing = False
        cell = "padding:2px 10px;border-bottom:1px solid #DDDDDD;text-align:right"
        head = "<tr>" + "".join(
            f"<th scope='col' style='{cell};border-bottom:2px solid #444444'>{h}</th>"
            for h in ("time (weeks)", "at risk n", "relapses d", "censored c", "1 &minus; d/n",
                      "S(t)", "Greenwood SE")) + "</tr>"
        rows = []
        for i in range(min(r.step, fit.time.size)):
            n, d = int(fit.n_at_risk[i]), int(fit.n_events[i])
            style = " style='background:#FFF3C4;font-weight:bold'" if i == r.row else ""
            se = fit.std_err[i]     # Greenwood's SE is undefined once S(t) reaches 0
            values = (f"{fit.time[i]:g}", n, d, int(fit.n_censored[i]), f"{1 - d / n:.3f}",
                      f"{fit.survival[i]:.3f}", f"{se:.3f}" if np.isfinite(se) else "&ndash;")
            rows.append(f"<tr{style}>" + "".join(f"<td style='{cell}'>{v}</td>" for v in values)
                        + "</tr>")
        self._table_html.value = (
            "<table class='tk-steptable' style='border-collapse:collapse;font-family:monospace'>"
            f"<caption style='text-align:left'>Product-limit table, {html.escape(r.group)}. "
            "One row per distinct time with a relapse <i>or</i> a censoring, "
            "as statistical software prints it: a censoring-only row (d = 0) leaves S(t) unchanged and only "
            "shrinks the next row's n. Written by hand, the table usually keeps the relapse "
            "times only and subtracts the censored from n; both give the same curve.</caption>"
            f"{head}{''.join(rows)}</table>")

    def code(self, params=None) -> str:
        """The 6-MP group, the toggles, :func:`teachkit.survival.kaplan_meier`."""
        p = self._full_params(self.params if params is None else params)
        lines = ["import numpy as np", "import teachkit as tk", "",
                 "d = tk.datasets.freireich()", f"keep = d.group == {p['group']!r}"]
        if p["flipped"]:
            flips = list(p["flipped"])
            lines += ["order = np.lexsort((-d.event[keep], d.time[keep]))  # patients #1, #2... by time",
                      "time, event = d.time[keep][order], d.event[keep][order]",
                      f"event[{flips}] = 1 - event[{flips}]  # censoring toggled"]
        else:
            lines += ["time, event = d.time[keep], d.event[keep]"]
        lines += [f"km = tk.survival.kaplan_meier(time, event, conf_type={p['conf_type']!r})",
                  "print(km.table())  # one row per distinct time"]
        row = self._compute_cached(p).row  # the table may have fewer rows than the slider
        if row is not None:
            lines += [f"# row {row + 1}: km.time[{row}], km.survival[{row}], "
                      f"km.ci_lower[{row}], km.ci_upper[{row}]"]
        return "\n".join(lines) + "\n"

    def describe(self, result=None) -> str:
        """The curve in words: group, current row, S(t) with its CI, toggled patients."""
        r = self.result if result is None else result
        fit = r.fit
        head = (f"Kaplan-Meier curve, {r.group} group of the 6-MP trial, {fit.n} patients, "
                f"row {r.step} of {fit.time.size} of the product-limit table")
        if r.row is None:
            now = "before the first event, S(0) = 1"
        else:
            i = r.row
            band = (f"95% CI {fit.ci_lower[i]:.3f} to {fit.ci_upper[i]:.3f}, {self.params['conf_type']}"
                    if np.isfinite(fit.ci_lower[i]) and np.isfinite(fit.ci_upper[i])
                    else "no confidence interval once S(t) reaches 0")
            now = (f"at week {fit.time[i]:g}: {int(fit.n_at_risk[i])} at risk, "
                   f"{int(fit.n_events[i])} relapsed, S(t) = {fit.survival[i]:.3f} ({band})")
        toggled = (f"; censoring toggled for patient(s) {', '.join(str(i + 1) for i in r.flipped)}"
                   if r.flipped else "")
        return f"{head}; {now}; {r.arithmetic}{toggled}."
