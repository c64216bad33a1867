"""The trial at a glance (lesson 00): one published result of AALL1331, both arms, as
100 patients per arm.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from teachkit import plots
from teachkit.explorers._base import Explorer, Param, _result_repr


@dataclass(frozen=True)
class EndpointResult:
    """One published result in both arms (percentages, and counts where the paper gives them)."""

    endpoint: str
    title: str
    percent: dict
    counts: dict | None
    source: str

    __repr__ = _result_repr


class TrialOverview(Explorer):
    """Pick one of the trial's published results and see it in both arms, as 100
    patients per arm (an icon array, :func:`teachkit.plots.arm_comparison`).

    The numbers are the paper's (Abstract; Table 2; Results, AE End Point), read from
    :mod:`teachkit.aall1331` through :data:`teachkit.plots.ARM_ENDPOINTS`.

    >>> r = TrialOverview().compute(endpoint="toxic_deaths")
    >>> r.counts["chemotherapy"]
    (5, 97)
    """

    title = "The trial at a glance: one result, both arms"
    FIGSIZE = (8.0, 4.8)
    PARAMS = (
        Param("endpoint", "Result", "choice", "dfs_2y",
              options=tuple(plots.ARM_ENDPOINTS),
              option_labels=tuple(spec["title"] for spec in plots.ARM_ENDPOINTS.values())),
    )

    @classmethod
    def example_params(cls):
        return [dict(endpoint=name) for name in plots.ARM_ENDPOINTS]

    def compute(self, **params):
        p = self._full_params(params)
        spec = plots.ARM_ENDPOINTS[p["endpoint"]]
        return EndpointResult(p["endpoint"], spec["title"], dict(spec["percent"]),
                              None if spec["counts"] is None else dict(spec["counts"]),
                              spec["source"])

    def _setup(self, fig):
        ax = fig.add_axes((0.02, 0.01, 0.96, 0.8))
        plots.arm_comparison(self.PARAMS[0].default, ax=ax)
        for artist in plots.set_arm_comparison(ax, self.PARAMS[0].default):
            self._dyn(artist)
        self._ax = ax

    def _draw(self, r):
        plots.set_arm_comparison(self._ax, r.endpoint)

    def _note(self, r):
        decimals = plots.ARM_ENDPOINTS[r.endpoint]["decimals"]
        arms = " vs ".join(f"{plots.ARM_LABELS[a]} {r.percent[a]:.{decimals}f}%" for a in r.percent)
        spec = plots.ARM_ENDPOINTS[r.endpoint]
        caveat = f" {html.escape(spec['caveat'])}" if spec["caveat"] else ""
        return (f"<b>{html.escape(r.title)}</b> ({html.escape(spec['standing'])}): "
                f"{html.escape(arms)}.{caveat}")

    def code(self, params=None) -> str:
        """The published numbers, read from :mod:`teachkit.aall1331` (what the icons show)."""
        p = self._full_params(self.params if params is None else params)
        e = p["endpoint"]
        head = "import teachkit as tk\n\narms = tk.aall1331.ARMS\n"
        if e in ("dfs_2y", "os_2y"):
            body = (f'fact = tk.aall1331.fact("results.{e}")   # Kaplan-Meier estimate at 2 years\n'
                    "percent = {arm: 100 * fact.value[arm] for arm in arms}\n")
        elif e in ("mrd_negative_cycle_1", "toxic_deaths"):
            denominator = "flow.analysed" if e == "mrd_negative_cycle_1" else "flow.received_cycle_1"
            body = (f'fact = tk.aall1331.fact("results.{e}")\n'
                    f'patients = tk.aall1331.fact("{denominator}").value\n'
                    "counts = {arm: (fact.value[arm], patients[arm]) for arm in arms}\n"
                    "percent = {arm: 100 * fact.value[arm] / patients[arm] for arm in arms}\n")
        else:
            body = ('fact = tk.aall1331.fact("results.serious_ae_percent")\n'
                    f"percent = {{arm: float(fact.value[{e!r}][arm]) for arm in arms}}\n")
        return head + body + "print(percent, fact.source)\n"

    def describe(self, result=None) -> str:
        """The icon array in words: the result in both arms, with counts where published."""
        r = self.result if result is None else result
        decimals = plots.ARM_ENDPOINTS[r.endpoint]["decimals"]
        parts = []
        for arm, pct in r.percent.items():
            count = "" if r.counts is None else f" ({r.counts[arm][0]} of {r.counts[arm][1]})"
            parts.append(f"{plots.ARM_LABELS[arm]} {pct:.{decimals}f}%{count}")
        standing = plots.ARM_ENDPOINTS[r.endpoint]["standing"]
        return (f"Icon array, 100 patients per arm: {r.title} ({standing}): {'; '.join(parts)}. "
                f"Source: {r.source}.")
