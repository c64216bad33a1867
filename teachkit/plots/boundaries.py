"""Group-sequential boundaries on the Z, nominal-P and HR scales, and B-value paths
(Lan & Wittes 1988).
"""

from __future__ import annotations

import numpy as np

from teachkit.plots._style import OKABE_ITO, _figure_and_axes, _new_figure, _styled

# --------------------------------------------------------------------------------------
# Group-sequential boundaries on the Z, nominal-P and HR scales
# --------------------------------------------------------------------------------------

EFFICACY_COLOR = OKABE_ITO["bluish_green"]
FUTILITY_COLOR = OKABE_ITO["reddish_purple"]
OBSERVED_COLOR = OKABE_ITO["black"]


def _z_to_hr(z, events, allocation=0.5):
    """HR = exp(-Z / sqrt(D r (1 - r))) (Schoenfeld 1981; for 1:1, exp(-2 Z / sqrt(D)))."""
    return np.exp(-np.asarray(z, dtype=float) / np.sqrt(np.asarray(events, dtype=float)
                                                         * allocation * (1 - allocation)))


def _z_to_p(z):
    from scipy.special import ndtr

    return ndtr(-np.asarray(z, dtype=float))


class BoundaryPanel:
    """Efficacy and futility boundaries and an observed path, on up to three scales:
    the Z statistic, the nominal one-sided P value and the hazard ratio.

    ``axes`` maps ``"z"``, ``"p"``, ``"hr"`` to matplotlib axes (any subset).  On the P
    and HR scales "more convincing" is drawn upwards (smaller P, smaller HR), like Z.
    """

    P_LIMITS = (0.5, 1e-5)
    HR_LIMITS = (1.25, 0.2)
    Z_LIMITS = (-1.0, 5.0)

    def __init__(self, axes, *, x_label="Information fraction (events / planned events)"):
        self.axes = dict(axes)
        self.lines = {}
        for scale, ax in self.axes.items():
            (eff,) = ax.plot([], [], "-o", color=EFFICACY_COLOR, lw=2, ms=6, label="efficacy: stop, benefit")
            (fut,) = ax.plot([], [], "--s", color=FUTILITY_COLOR, lw=1.8, ms=5, label="futility: stop, no benefit")
            (obs,) = ax.plot([], [], "-D", color=OBSERVED_COLOR, lw=1.5, ms=6, label="observed")
            self.lines[scale] = (eff, fut, obs)
            ax.set_xlim(0, 1.04)
            ax.set_xlabel(x_label)
            ax.grid(color="#E5E5E5", lw=0.8)
            ax.set_axisbelow(True)
        if "z" in self.axes:
            ax = self.axes["z"]
            ax.set_ylim(*self.Z_LIMITS)
            ax.set_ylabel("Z (log-rank, > 0 favours blinatumomab)")
            ax.axhline(0, color="#999999", lw=0.8)
        if "p" in self.axes:
            ax = self.axes["p"]
            ax.set_yscale("log")
            ax.set_ylim(*self.P_LIMITS)
            ax.set_ylabel("Nominal one-sided P")
            ax.set_yticks([0.5, 0.1, 0.025, 0.01, 0.001, 1e-4, 1e-5],
                          ["0.5", "0.1", "0.025", "0.01", "0.001", "0.0001", "0.00001"])
            ax.minorticks_off()
        if "hr" in self.axes:
            ax = self.axes["hr"]
            ax.set_yscale("log")
            ax.set_ylim(*self.HR_LIMITS)
            ax.set_ylabel("Hazard ratio (blinatumomab / chemotherapy)")
            ticks = [1.2, 1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2]
            ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
            ax.minorticks_off()
            ax.axhline(1.0, color="#999999", lw=0.8)

    def artists(self):
        return [a for trio in self.lines.values() for a in trio]

    def legend(self, ax, **kwargs):
        """A legend on ``ax`` of the lines that draw something now (no "observed" entry
        without an observed point, no futility entry without a futility boundary)."""
        from teachkit.plots._check import drawn

        handles = [h for h in self.lines[next(iter(self.lines))] if drawn(h)]
        return ax.legend(handles=handles, labels=[h.get_label() for h in handles], **kwargs)

    def update(self, design, events_planned=None, observed_fractions=(), observed_z=(),
               allocation=0.5):
        """Show ``design`` (a GroupSequentialDesign); the HR scale needs ``events_planned``."""
        t = np.asarray(design.information_fractions, dtype=float)
        z_eff = np.asarray(design.z_efficacy, dtype=float)
        z_fut = np.asarray(design.z_futility, dtype=float)
        has_fut = np.isfinite(z_fut)
        obs_t = np.asarray(observed_fractions, dtype=float)
        obs_z = np.asarray(observed_z, dtype=float)
        for scale, (eff, fut, obs) in self.lines.items():
            if scale == "z":
                f = lambda z, tt: z  # noqa: E731
            elif scale == "p":
                f = lambda z, tt: _z_to_p(z)  # noqa: E731
            else:
                if events_planned is None:
                    raise ValueError("events_planned is needed to draw the hazard-ratio scale")
                f = lambda z, tt: _z_to_hr(z, tt * events_planned, allocation)  # noqa: E731
            eff.set_data(t, f(z_eff, t))
            fut.set_data(t[has_fut], f(z_fut[has_fut], t[has_fut]))
            fut.set_visible(bool(has_fut.any()))
            obs.set_data(obs_t, f(obs_z, obs_t) if obs_t.size else [])
            obs.set_visible(bool(obs_t.size))


@_styled
def boundary_plot(design, events_planned=None, observed_fractions=(), observed_z=(), *,
                  scales=("z", "p", "hr"), title=None):
    """Group-sequential boundaries on the Z, nominal-P and HR scales, with the observed path.

    Each look k at information fraction t_k has an efficacy boundary z_k (stop and
    claim benefit when Z_k >= z_k), shown also as the nominal one-sided P, 1 - Phi(z_k),
    and as the hazard ratio it corresponds to at D_k = t_k x ``events_planned`` events,
    HR_k = exp(-2 z_k / sqrt(D_k)) for 1:1 allocation (Schoenfeld 1981).  Futility
    boundaries are drawn where the design has them.

    Parameters
    ----------
    design : teachkit.sequential.GroupSequentialDesign
    events_planned : float, optional
        Needed for the HR scale.
    observed_fractions, observed_z : array-like
        The observed path (e.g. ``[80 / 131]``, ``[1.555]`` for the AALL1331 interim).
    scales : tuple
        Which of ``"z"``, ``"p"``, ``"hr"`` to draw, side by side.

    >>> from teachkit.sequential import group_sequential_design
    >>> d = group_sequential_design([1/3, 2/3, 1])
    >>> fig = boundary_plot(d, 131, [80 / 131], [1.555])
    >>> len(fig.axes)
    3
    """
    scales = tuple(scales)
    if not scales or any(s not in ("z", "p", "hr") for s in scales):
        raise ValueError(f"scales must be a non-empty subset of ('z', 'p', 'hr'), got {scales!r}")
    if "hr" in scales and events_planned is None:
        scales = tuple(s for s in scales if s != "hr")
    fig = _new_figure((4.2 * len(scales) + 0.6, 4.8))
    axs = fig.subplots(1, len(scales), squeeze=False)[0]
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.8, wspace=0.4)
    panel = BoundaryPanel(dict(zip(scales, axs)), x_label="Information fraction")
    panel.update(design, events_planned, observed_fractions, observed_z)
    panel.legend(axs[0], loc="upper left", bbox_to_anchor=(0, 1.17), ncol=3, fontsize=10, borderaxespad=0)
    fig.suptitle(title or f"Stopping boundaries: {design.n_looks} looks, {design.spending} "
                 f"spending, one-sided alpha {design.alpha:g}", x=0.01, ha="left",
                 fontsize=13, fontweight="bold")
    fig._teachkit_panel = panel
    return fig


# --------------------------------------------------------------------------------------
# B-values (Lan & Wittes 1988)
# --------------------------------------------------------------------------------------

class BValuePanel:
    """The B-value path B(t) = Z(t) sqrt(t) with drift lines E[B(t)] = theta t.

    ``drifts`` maps a label to (theta, colour).  From the last observed point, dashed
    lines show where B would go on average under each drift; the final critical value
    c (reject at the end when B(1) = Z(1) >= c) is a marker at t = 1.
    """

    def __init__(self, ax, labels_colors):
        self.ax = ax
        self.labels = tuple(labels_colors)
        (self.path,) = ax.plot([], [], "-o", color=OBSERVED_COLOR, lw=2, ms=6, label="observed B(t)",
                               zorder=4)
        self.drift_lines, self.projections = {}, {}
        for label, color in labels_colors.items():
            (self.drift_lines[label],) = ax.plot([], [], "-", color=color, lw=1.2, alpha=0.55)
            (self.projections[label],) = ax.plot([], [], "--", color=color, lw=2, label=label)
        (self.critical,) = ax.plot([], [], marker="_", ms=28, mew=3, color=EFFICACY_COLOR,
                                   ls="none", label="final critical value", zorder=5)
        ax.set_xlim(0, 1.05)
        ax.set_ylim(-1.5, 4.5)
        ax.axhline(0, color="#999999", lw=0.8)
        ax.set_xlabel("Information fraction t")
        ax.set_ylabel("B-value  B(t) = Z(t) √t")
        ax.grid(color="#E5E5E5", lw=0.8)
        ax.set_axisbelow(True)

    def artists(self):
        return [self.path, *self.drift_lines.values(), *self.projections.values(), self.critical]

    def update(self, fractions, z, drifts, final_critical):
        t = np.concatenate(([0.0], np.asarray(fractions, dtype=float)))
        b = np.concatenate(([0.0], np.asarray(z, dtype=float) * np.sqrt(t[1:])))
        self.path.set_data(t, b)
        t_now, b_now = t[-1], b[-1]
        for label in self.labels:
            theta = drifts[label]
            self.drift_lines[label].set_data([0, 1], [0, theta])
            self.projections[label].set_data([t_now, 1], [b_now, b_now + theta * (1 - t_now)])
        self.critical.set_data([1.0], [final_critical])


@_styled
def bvalue_plot(fractions, z, drifts, final_critical, *, ax=None, title=None):
    """B-value path with drift lines (Lan & Wittes, Biometrics 1988).

    B(t) = Z(t) sqrt(t) behaves like Brownian motion with drift theta: E[B(t)] = theta t.
    Solid faint lines are theta t for each drift; dashed lines continue the observed
    path with each drift to t = 1, where the final critical value is marked: conditional
    power is the chance that B(1) ends above it.

    Parameters
    ----------
    fractions, z : array-like
        Information fractions and Z values of the looks so far.
    drifts : dict
        label -> theta, e.g. ``{"design (HR 0.58)": 3.12, "current trend": 1.99, "H0": 0.0}``.
    final_critical : float
        The final efficacy boundary on the Z (= B at t = 1) scale.

    >>> fig = bvalue_plot([80 / 131], [1.555], {"design": 3.12, "trend": 1.99, "H0": 0.0}, 1.98)
    >>> fig.axes[0].get_xlabel()
    'Information fraction t'
    """
    if not isinstance(drifts, dict) or not drifts:
        raise TypeError("drifts must be a non-empty dict: label -> drift theta")
    fig, ax = _figure_and_axes(ax, (8, 5.2))
    palette = [OKABE_ITO[k] for k in ("blue", "orange", "sky_blue", "reddish_purple", "yellow")]
    panel = BValuePanel(ax, {label: palette[i % len(palette)] for i, label in enumerate(drifts)})
    panel.update(fractions, z, drifts, final_critical)
    ax.legend(loc="upper left", fontsize=10)
    ax.set_title(title or "B-value path and where each drift would take it", loc="left")
    fig._teachkit_panel = panel
    return fig
