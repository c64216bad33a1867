"""Model diagnostics: the proportional-hazards check of a Cox fit, drawn as R's
``plot(cox.zph(fit))`` (Grambsch & Therneau, Biometrika 1994).

>>> import teachkit as tk
>>> d = tk.datasets.freireich()
>>> fit = tk.cox.cox_ph(d.time, d.event, {"6-MP": (d.group == "6-MP").astype(int)})
>>> fig = schoenfeld_plot(tk.cox.proportional_hazards_test(fit), fit)
>>> fig.axes[0].get_ylabel()
'beta(t) for 6-MP'
"""

from __future__ import annotations

import numpy as np

from teachkit.plots._style import OKABE_ITO, _figure_and_axes, _set_title, _styled


@_styled
def schoenfeld_plot(ph, fit, covariate: int = 0, ax=None, *, title=None):
    """Scaled Schoenfeld residuals of one covariate against transformed time.

    Each dot is one event time; its height, the scaled residual plus the Cox
    coefficient, estimates the log hazard ratio *at that time* (Grambsch & Therneau
    1994).  Under proportional hazards the dots scatter around a flat line at the Cox
    estimate; the least-squares line shows a trend.  ``ph`` is the result of
    :func:`teachkit.cox.proportional_hazards_test` for ``fit``.
    """
    residuals = np.asarray(ph.scaled_residuals)
    if residuals.ndim != 2 or not 0 <= int(covariate) < residuals.shape[1]:
        raise ValueError(f"covariate must index one of the {residuals.shape[-1]} covariates of the fit")
    covariate = int(covariate)
    x, y = np.asarray(ph.transformed_time, dtype=float), residuals[:, covariate]
    name = fit.names[covariate] if getattr(fit, "names", None) else f"covariate {covariate + 1}"
    fig, ax = _figure_and_axes(ax, (7.0, 4.0))
    ax.plot(x, y, "o", color=OKABE_ITO["blue"],
            label="beta(t) estimate at each event (scaled Schoenfeld residual)")
    order = np.argsort(x)
    slope, intercept = np.polyfit(x, y, 1)
    ax.plot(x[order], intercept + slope * x[order], color=OKABE_ITO["vermillion"],
            label="least-squares line (flat if hazards are proportional)")
    ax.axhline(fit.coef[covariate], color="black", ls="--", lw=1,
               label=f"Cox estimate, log HR = {fit.coef[covariate]:.2f}")
    ax.set_xlabel(f"Time ({ph.transform}-transformed, as R's cox.zph)")
    ax.set_ylabel(f"beta(t) for {name}")
    ax.legend(fontsize=8, loc="best")
    _set_title(fig, ax, title or f"Is the {name} hazard ratio constant over time? "
               "Scaled Schoenfeld residuals", True)
    fig.tight_layout()
    return fig
