"""Render every explorer (headless, Agg) and every teachkit figure to PNG for review.

    .venv/bin/python tests/render_gallery.py [OUTDIR]     # default: docs/img

Explorers are rendered at their first ``example_params()`` set (the InterimMonitor's is
the trial's June 2019 interim) as ``explorer-<name>.png``; figures as ``plot-<name>.png``.
Not collected by pytest (no ``test_`` prefix); tests/test_explorers.py renders the same
way into a temporary directory.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def render_explorers(outdir: Path) -> list[Path]:
    from teachkit import explorers

    paths = []
    for cls in explorers.ALL:
        ex = cls(**cls.example_params()[0])
        if ex.error:
            raise RuntimeError(f"{cls.__name__}: {ex.error}")
        path = outdir / f"explorer-{_slug(cls.__name__)}.png"
        ex.save_png(path)
        paths.append(path)
    return paths


def render_plots(outdir: Path) -> list[Path]:
    from teachkit import aall1331, datasets, plots, sequential, survival
    from teachkit.cohort import SYNTHETIC_LABEL, synthetic_cohort

    figures = {
        "patient-flow": plots.patient_flow(),
        "arm-comparison-dfs": plots.arm_comparison("dfs_2y"),
        "arm-comparison-toxic-deaths": plots.arm_comparison("toxic_deaths"),
        "published-effects": plots.published_effects_forest(),
        "adverse-events-cycle-1": plots.adverse_events_plot(cycle=1),
    }
    d = datasets.freireich()
    fits = {g: survival.kaplan_meier(d.time[d.group == g], d.event[d.group == g])
            for g in ("6-MP", "placebo")}
    figures["km-freireich"] = plots.km_plot(fits, time_unit="weeks",
                                            times=[0, 5, 10, 15, 20, 25, 30, 35],
                                            title="Remission by group, Freireich 6-MP trial")
    cohort = synthetic_cohort()
    arms = cohort.arm
    fits = {a: survival.kaplan_meier(cohort.dfs_time[arms == a], cohort.dfs_event[arms == a])
            for a in aall1331.ARMS}
    figures["km-synthetic-dfs"] = plots.km_plot(
        fits, time_unit="years", times=[0, 1, 2, 3, 4, 5],
        ylabel="Disease-free survival", title="Disease-free survival by arm",
        note=f"AALL1331 cohort: {SYNTHETIC_LABEL}")
    theta = sequential.drift_from_hazard_ratio(0.58, 131)
    design = sequential.group_sequential_design([1 / 3, 2 / 3, 1], futility_alpha=0.024,
                                                futility_drift=theta)
    figures["boundaries"] = plots.boundary_plot(design, 131, [80 / 131], [1.5548])
    figures["b-values"] = plots.bvalue_plot([80 / 131], [1.5548],
                                            {"design (HR 0.58)": theta,
                                             "current trend": 1.5548 / (80 / 131) ** 0.5,
                                             "no effect (H0)": 0.0}, float(design.z_efficacy[-1]))
    paths = []
    for name, fig in figures.items():
        path = outdir / f"plot-{name}.png"
        fig.savefig(path)
        paths.append(path)
    return paths


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    outdir = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "docs" / "img"
    outdir.mkdir(parents=True, exist_ok=True)
    for path in render_explorers(outdir) + render_plots(outdir):
        print(path)


if __name__ == "__main__":
    main()
