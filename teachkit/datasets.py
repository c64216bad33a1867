"""Classic small survival data sets used in the lessons before AALL1331.

* :func:`freireich` -- remission durations of children with acute leukaemia given
  6-mercaptopurine (6-MP) or placebo (Freireich EJ et al., Blood 1963;21:699-716);
  the textbook example of censoring, Kaplan-Meier and the log-rank test.
* :func:`aml` -- acute myelogenous leukaemia, maintenance chemotherapy or not
  (Embury SH et al., West J Med 1977;126:267-272; R ``survival::aml``).

The CSV files are packaged in ``teachkit/data/``.

>>> import teachkit as tk
>>> d = tk.datasets.freireich()
>>> d.n, int(d.event.sum()), sorted(str(g) for g in set(d.group))
(42, 30, ['6-MP', 'placebo'])
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = ["SurvivalData", "freireich", "aml"]


@dataclass(frozen=True, repr=False)
class SurvivalData:
    """A small survival data set: one row per subject.

    ``time`` (float), ``event`` (int, 1 = event, 0 = censored) and ``group`` (str) are
    read-only numpy arrays; ``time_unit``, ``event_name`` and ``source`` describe them.
    """

    name: str
    time: np.ndarray
    event: np.ndarray
    group: np.ndarray
    time_unit: str
    event_name: str
    source: str

    @property
    def n(self):
        """Number of subjects."""
        return int(self.time.size)

    def to_frame(self):
        """The data as a ``pandas.DataFrame`` with columns time, event, group."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover
            raise ImportError("to_frame() needs pandas: pip install pandas") from exc
        return pd.DataFrame({"time": self.time, "event": self.event, "group": self.group})

    def _counts(self):
        return [(str(g), int((self.group == g).sum()), int(self.event[self.group == g].sum()))
                for g in np.unique(self.group)]

    def __repr__(self):
        arms = "; ".join(f"{g}: n={n}, {e} {self.event_name}s" for g, n, e in self._counts())
        return (f"SurvivalData({self.name!r}, n={self.n}, time in {self.time_unit}; {arms})\n"
                f"source: {self.source}")

    def _repr_html_(self):
        rows = "".join(f"<tr><td>{html.escape(g)}</td><td>{n}</td><td>{e}</td></tr>"
                       for g, n, e in self._counts())
        return (f"<p><b>{html.escape(self.name)}</b>: {self.n} subjects, time in "
                f"{html.escape(self.time_unit)}</p><table><thead><tr><th>group</th>"
                f"<th>n</th><th>{html.escape(self.event_name)}s</th></tr></thead>"
                f"<tbody>{rows}</tbody></table><p><small>{html.escape(self.source)}"
                "</small></p>")


def _read(filename, time_col, event_col, group_col):
    text = resources.files("teachkit").joinpath("data", filename).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    time = np.array([float(r[time_col]) for r in rows])
    event = np.array([int(r[event_col]) for r in rows])
    group = np.array([r[group_col] for r in rows])
    for a in (time, event, group):
        a.flags.writeable = False
    return time, event, group


def freireich():
    """The 6-MP vs placebo remission data of Freireich et al. (1963), 42 children.

    Pairs of children in remission of acute leukaemia were randomized to
    6-mercaptopurine or placebo; ``time`` is the length of remission in weeks,
    ``event`` = 1 for relapse, 0 for censored (still in remission when the trial was
    analysed); ``group`` is ``"6-MP"`` or ``"placebo"``. Every placebo child relapsed;
    12 of the 21 on 6-MP were censored.

    Source: Freireich EJ, Gehan E, Frei E III, et al. The effect of 6-mercaptopurine
    on the duration of steroid-induced remissions in acute leukemia: a model for
    evaluation of other potentially useful therapy. Blood. 1963;21(6):699-716.
    In R: ``MASS::gehan`` (same data, pair structure kept there).

    >>> d = freireich()
    >>> d.time[:5], d.event[:5]
    (array([6., 6., 6., 6., 7.]), array([1, 1, 1, 0, 1]))
    """
    time, event, group = _read("freireich_6mp.csv", "time", "event", "group")
    return SurvivalData(
        "Freireich 6-MP", time, event, group, time_unit="weeks", event_name="relapse",
        source="Freireich EJ et al. Blood. 1963;21(6):699-716 (remission durations, "
               "6-MP vs placebo)")


def aml():
    """Acute myelogenous leukaemia: maintenance chemotherapy or not, 23 patients.

    ``time`` is weeks in remission, ``event`` = 1 for relapse, ``group`` is
    ``"Maintained"`` or ``"Nonmaintained"``. The same data as R's ``survival::aml``.

    Source: Embury SH, Elias L, Heller PH, et al. Remission maintenance therapy in
    acute myelogenous leukemia. West J Med. 1977;126(4):267-272; as tabulated in
    Miller RG, Survival Analysis (Wiley, 1981).

    >>> d = aml()
    >>> d.n, int(d.event.sum())
    (23, 18)
    """
    time, event, group = _read("aml.csv", "time", "status", "x")
    return SurvivalData(
        "AML maintenance", time, event, group, time_unit="weeks", event_name="relapse",
        source="Embury SH et al. West J Med. 1977;126(4):267-272 (R survival::aml)")
