"""Kaplan-Meier curves in the KMunicate style (Morris et al., BMJ Open 2019): step curves
with confidence bands and a numbers-at-risk table (at risk, cumulative events, censored)
under the time axis.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.collections import PolyCollection

from teachkit.plots._style import ARM_COLORS, ARM_LABELS, OKABE_ITO, _figure_and_axes, _new_figure, _nice_step, _styled

# --------------------------------------------------------------------------------------
# Kaplan-Meier curves in the KMunicate style (Morris et al., BMJ Open 2019)
# --------------------------------------------------------------------------------------

def risk_table_counts(km, times):
    """Numbers at risk, cumulative events and cumulative censored at each of ``times``.

    At risk at t = subjects with observed time >= t (R: ``summary(fit, times=t)$n.risk``);
    events and censored count those with time <= t.  Read off the product-limit table,
    whose rows include censor-only times.

    >>> from teachkit.survival import kaplan_meier
    >>> km = kaplan_meier([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])
    >>> {k: v.tolist() for k, v in risk_table_counts(km, [0, 2, 4]).items()}
    {'at_risk': [5, 4, 1], 'events': [0, 2, 3], 'censored': [0, 1, 1]}
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    first = np.searchsorted(km.time, times, side="left")  # first row with time >= t
    n_at_risk = np.concatenate((km.n_at_risk, [0]))[first]
    upto = np.searchsorted(km.time, times, side="right")  # rows with time <= t
    cum_events = np.concatenate(([0], np.cumsum(km.n_events)))[upto]
    cum_censored = np.concatenate(([0], np.cumsum(km.n_censored)))[upto]
    return {"at_risk": n_at_risk.astype(int), "events": cum_events.astype(int),
            "censored": cum_censored.astype(int)}


def _km_step_xy(km, t_end=None):
    """x, y of the step function S(t) from time 0 (draw with drawstyle='steps-post')."""
    x = np.concatenate(([0.0], km.time))
    y = np.concatenate(([1.0], km.survival))
    if t_end is not None and t_end > x[-1]:
        x = np.append(x, t_end)
        y = np.append(y, y[-1])
    return x, y


def _step_band_verts(x, lower, upper):
    """Polygon (N x 2) of a band between two right-continuous step functions."""
    xs = np.repeat(x, 2)[1:]
    lo = np.repeat(lower, 2)[:-1]
    hi = np.repeat(upper, 2)[:-1]
    return np.column_stack([np.concatenate([xs, xs[::-1]]), np.concatenate([lo, hi[::-1]])])


class KaplanMeierPanel:
    """Kaplan-Meier curves (one per arm) with censor ticks, optional CI bands and a
    numbers-at-risk table (at risk, cumulative events, cumulative censored per arm)
    aligned under the time axis, as KMunicate recommends (Morris et al., BMJ Open 2019).

    Created once; :meth:`update` moves every artist in place, so explorers can redraw
    without creating artists.  ``arms`` is a sequence of ``(key, label, colour)``.
    """

    ROWS = (("at_risk", "At risk"), ("events", "Events"), ("censored", "Censored"))

    def __init__(self, ax, table_ax, arms, times, *, ci=True, time_unit="months",
                 ylabel="Survival probability", xmax=None, rows=ROWS):
        self.ax, self.table_ax = ax, table_ax
        self.arms = tuple(arms)
        self.times = np.asarray(times, dtype=float)
        self.ci = ci
        self.rows = tuple(rows)
        xmax = float(self.times[-1]) if xmax is None else float(xmax)
        self.lines, self.ticks, self.bands, self.cells = {}, {}, {}, {}
        for key, label, color in self.arms:
            (line,) = ax.plot([0], [1], drawstyle="steps-post", color=color, lw=2.2, label=label)
            (tick,) = ax.plot([], [], ls="none", marker="|", ms=9, mew=1.6, color=color)
            band = PolyCollection([np.zeros((3, 2))], facecolors=color, alpha=0.18,
                                  edgecolors="none", visible=ci)
            ax.add_collection(band, autolim=False)
            self.lines[key], self.ticks[key], self.bands[key] = line, tick, band
        ax.set_xlim(0, xmax * 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(self.times)
        ax.set_ylabel(ylabel)
        ax.set_xlabel(f"Time ({time_unit})")
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.grid(axis="y", color="#E5E5E5", lw=0.8)
        ax.set_axisbelow(True)
        # numbers-at-risk table: same x as the curves, one row per (arm, quantity)
        table_ax.set_xlim(ax.get_xlim())
        table_ax.set_axis_off()
        n_rows = len(self.arms) * (len(self.rows) + 1)
        table_ax.set_ylim(n_rows - 0.4, -0.6)
        y = 0
        for key, label, color in self.arms:
            table_ax.text(-0.045, y, label, transform=table_ax.get_yaxis_transform(), ha="right",
                          va="center", fontsize=10, fontweight="bold", color=color)
            y += 1
            for row, row_label in self.rows:
                table_ax.text(-0.045, y, row_label, transform=table_ax.get_yaxis_transform(),
                              ha="right", va="center", fontsize=9.5)
                self.cells[key, row] = [
                    table_ax.text(t, y, "", ha="center", va="center", fontsize=9.5)
                    for t in self.times]
                y += 1

    def artists(self):
        """Every artist that :meth:`update` changes."""
        out = [*self.lines.values(), *self.ticks.values(), *self.bands.values()]
        for texts in self.cells.values():
            out.extend(texts)
        return out

    def update(self, fits):
        """Show ``fits`` (arm key -> KaplanMeier result, or None to hide the arm)."""
        for key, _, _ in self.arms:
            km = fits.get(key)
            line, tick, band = self.lines[key], self.ticks[key], self.bands[key]
            shown = km is not None
            line.set_visible(shown)
            tick.set_visible(shown)
            band.set_visible(shown and self.ci)
            if not shown:
                for row, _ in self.rows:
                    for text in self.cells[key, row]:
                        text.set_text("")
                continue
            x, y = _km_step_xy(km, km.time[-1] if km.time.size else 0.0)
            line.set_data(x, y)
            censored = km.n_censored > 0
            tick.set_data(km.time[censored], km.survival[censored])
            if self.ci:
                lower = np.concatenate(([1.0], np.nan_to_num(km.ci_lower, nan=0.0)))
                upper = np.concatenate(([1.0], np.nan_to_num(km.ci_upper, nan=1.0)))
                band.set_verts([_step_band_verts(x, lower[:x.size], upper[:x.size])])
            counts = risk_table_counts(km, self.times)
            for row, _ in self.rows:
                for text, value in zip(self.cells[key, row], counts[row]):
                    text.set_text(str(value))


@_styled
def km_plot(fits, ax=None, *, times=None, ci=True, time_unit="months",
            ylabel="Survival probability", title=None, labels=None, colors=None, note=None):
    """Kaplan-Meier curves with censor ticks, CI bands and a numbers-at-risk table.

    KMunicate style (Morris TP et al., BMJ Open 2019;9:e030215): step curves, shaded
    confidence bands, and under the time axis, per arm, the numbers at risk,
    cumulative events and cumulative censored at each labelled time.

    Parameters
    ----------
    fits : dict
        arm key -> :class:`teachkit.survival.KaplanMeier` (from ``kaplan_meier``).
        Keys ``"blinatumomab"``/``"chemotherapy"`` get the arm colours.
    ax : matplotlib Axes, optional
        The axes for the curves; the table goes into a new axes below it.
    times : array-like, optional
        Times of the x ticks and of the table's columns (default: 6 round steps).
    ci : bool
        Draw the confidence bands (the KM fit's own ``conf_type`` and level).
    title : str, optional
        Default: "Kaplan-Meier estimate by arm".
    note : str, optional
        A line under the title, e.g. that the data are synthetic.

    Returns
    -------
    matplotlib.figure.Figure

    >>> from teachkit.survival import kaplan_meier
    >>> from teachkit.datasets import freireich
    >>> d = freireich()
    >>> fits = {g: kaplan_meier(d.time[d.group == g], d.event[d.group == g]) for g in ("6-MP", "placebo")}
    >>> fig = km_plot(fits, time_unit="weeks", times=[0, 10, 20, 30])
    >>> fig.axes[0].get_title(loc="left")
    'Kaplan-Meier estimate by arm'
    """
    if not isinstance(fits, dict) or not fits:
        raise TypeError("fits must be a non-empty dict: arm -> KaplanMeier result")
    for key, km in fits.items():
        if not all(hasattr(km, a) for a in ("time", "survival", "n_at_risk", "n_censored")):
            raise TypeError(f"fits[{key!r}] must be a KaplanMeier result from kaplan_meier()")
    keys = list(fits)
    palette = [OKABE_ITO[k] for k in ("bluish_green", "orange", "reddish_purple", "sky_blue")]
    arms = []
    for i, key in enumerate(keys):
        label = (labels or {}).get(key, ARM_LABELS.get(key, str(key)))
        color = (colors or {}).get(key, ARM_COLORS.get(key, palette[i % len(palette)]))
        arms.append((key, label, color))
    t_max = max(float(km.time[-1]) for km in fits.values() if km.time.size)
    if times is None:
        step = _nice_step(t_max / 5)
        times = np.arange(0, t_max + step * 0.5, step)
    times = np.asarray(times, dtype=float)
    n_table_rows = len(arms) * 4
    if ax is None:
        fig, ax, table_ax = km_figure(n_table_rows)
    else:
        fig, ax = _figure_and_axes(ax, None)
        pos = ax.get_position()
        table_ax = fig.add_axes((pos.x0, 0.01, pos.width, max(pos.y0 - 0.11, 0.05)))
    panel = KaplanMeierPanel(ax, table_ax, arms, times, ci=ci, time_unit=time_unit,
                             ylabel=ylabel, xmax=max(t_max, times[-1]))
    panel.update(fits)
    ax.legend(loc="best")   # where no curve, band or censoring tick is (checked: plots.figure_problems)
    ax.set_title(title or "Kaplan-Meier estimate by arm", loc="left", pad=18 if note else 6)
    if note:
        ax.text(0, 1.012, note, transform=ax.transAxes, fontsize=9, color="#555555",
                va="bottom")
    fig._teachkit_panel = panel  # lets tests and lessons find the table cells
    return fig


def km_figure(n_table_rows, width=9.0, curve_height=3.4, *, figure=None):
    """A figure laid out for KM curves over a numbers-at-risk table (sizes in inches).

    Returns ``(figure, curve_axes, table_axes)``; pass ``figure`` to lay out an existing
    (e.g. an explorer's Agg) figure.
    """
    top, gap, row, bottom = 0.6, 0.62, 0.21, 0.08
    height = top + curve_height + gap + row * n_table_rows + bottom
    fig = figure if figure is not None else _new_figure((width, height))
    fig.set_size_inches(width, height)
    left, w = 1.65 / width, 1 - 1.65 / width - 0.3 / width
    table_h = row * n_table_rows / height
    ax = fig.add_axes((left, (bottom + row * n_table_rows + gap) / height, w, curve_height / height))
    table_ax = fig.add_axes((left, bottom / height, w, table_h))
    return fig, ax, table_ax
