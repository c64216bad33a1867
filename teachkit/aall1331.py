"""The AALL1331 trial's published facts, as data with their sources.

Every number comes from Brown PA et al., JAMA 2021;325(9):833-842 (the paper's
text is the only source; each fact names the table, figure or section it was
read from).  The facts live in ``teachkit/data/aall1331.json``; this module
loads them into read-only :class:`Fact` objects.

What is here:

* :data:`FACTS` / :func:`fact` -- design, interim, patient flow (Figure 1),
  headline results, Tables 1-3, follow-up, MRD transitions, the
  early-treatment-failure salvage cohort, with sources; :data:`ERRATA` lists
  the cells the paper prints inconsistently.
* :func:`table1`, :func:`table2`, :func:`table3` -- the tables as tidy columns
  (:class:`PublishedTable`, with ``.table()``, ``.where()``, ``.to_frame()``).
* :func:`monitoring_plan` (also ``MONITORING_PLAN``) -- the one canonical,
  labelled reconstruction of the trial's monitoring plan that every lesson,
  explorer and assignment reads (:class:`MonitoringPlan`: facts with sources,
  looks planned and used, boundaries, readings, final thresholds), and
  :func:`design_report`, the trial's design reproduced from these facts
  (``python -m teachkit.aall1331 --design``).  They live in
  :mod:`teachkit.aall1331_plan` (a reconstruction built on these facts, its own
  idea) and are served here on first use, with the plan's other names
  (``PLAN_LABEL``, ``AFTER_STOP_LABEL``, ``PlanLook`` ...).
* What a committee also weighs: :func:`closure_cost` (what closing randomization
  cost in patients and events, beside the plateau), :func:`toxic_deaths_by_age`,
  the ``closure`` and ``safety`` facts, and (NOT from the paper, each with its
  reference) :data:`REMEDIES`, :data:`SECONDARY_END_POINTS`, :data:`REFERENCES`.

The synthetic patient-level cohort calibrated to these facts lives in
:mod:`teachkit.cohort`; ``synthetic_cohort``, ``SyntheticCohort``,
``calibration_table``, ``CalibrationTable``, ``CALIBRATION`` and
``SYNTHETIC_LABEL`` stay reachable here (``tk.aall1331.synthetic_cohort()``)
as lazy re-exports, and ``python -m teachkit.aall1331`` still prints the
calibration table.

>>> from teachkit import aall1331
>>> f = aall1331.fact("interim.p_critical")
>>> f.value, f.source
(0.004, 'Results, Early Closure of Randomization')
>>> aall1331.fact("flow.analysed").value["blinatumomab"]
105
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from teachkit import _display

#: The two randomized arms, always in this order (blinatumomab = experimental).
ARMS = ("blinatumomab", "chemotherapy")

#: Display names of the arms.
ARM_LABELS = MappingProxyType({"blinatumomab": "Blinatumomab", "chemotherapy": "Chemotherapy"})

CITATION = (
    "Brown PA, Ji L, Xu X, et al. JAMA. 2021;325(9):833-842."
)


@dataclass(frozen=True)
class Fact:
    """One published fact: its value and where in the paper it stands.

    ``value`` is a number, a string, or a read-only mapping (by arm, or
    ``estimate``/``ci_lower``/``ci_upper``).  ``extra`` keeps any other fields
    of the record (for example ``reasons`` of a flow box, or ``percent``).
    """

    name: str
    value: Any
    source: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Fact({self.name}={self.value!r}; source: {self.source})"


def _freeze(obj):
    if isinstance(obj, dict):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(_freeze(v) for v in obj)
    return obj


def _is_fact(node) -> bool:
    return isinstance(node, dict) and "value" in node and "source" in node


def _build(node, prefix=""):
    out = {}
    for key, item in node.items():
        if key.startswith("_") or not isinstance(item, dict):
            continue
        name = f"{prefix}{key}"
        if _is_fact(item):
            extra = {k: _freeze(v) for k, v in item.items() if k not in ("value", "source")}
            out[key] = Fact(name, _freeze(item["value"]), item["source"], MappingProxyType(extra))
        else:
            out[key] = MappingProxyType(_build(item, name + "."))
    return out


#: Data files whose facts make up :data:`FACTS` (sections of later files are
#: added after those of earlier ones; section names must not repeat).
_FACT_FILES = ("data/aall1331.json", "data/aall1331_tables.json")


def _load():
    raw: dict = {}
    for name in _FACT_FILES:
        text = resources.files("teachkit").joinpath(name).read_text(encoding="utf-8")
        part = json.loads(text)
        clash = sorted(k for k in part if not k.startswith("_") and k in raw)
        if clash:  # pragma: no cover - guards the data files
            raise RuntimeError(f"{name} repeats sections {clash}")
        errata = list(raw.get("_errata", {}).get("value", [])) + list(part.get("_errata", {}).get("value", []))
        raw.update({k: v for k, v in part.items() if not k.startswith("_")})
        raw["_errata"] = {"value": errata}
    return raw, MappingProxyType(_build(raw))


_RAW, FACTS = _load()
#: Nested read-only mapping section -> name -> :class:`Fact`
#: (sections: ``design``, ``interim``, ``flow``, ``results``, ``closure``, ``safety``,
#: ``table1``, ``table2``, ``table3``, ``follow_up``, ``mrd_transitions``, ``other``,
#: ``salvage``).

#: Cells the paper prints inconsistently, kept as printed (each names the fact).
ERRATA = _freeze(_RAW["_errata"]["value"])


def _load_methods():
    text = resources.files("teachkit").joinpath("data/monitoring_methods.json").read_text(encoding="utf-8")
    return _freeze(json.loads(text))


_METHODS = _load_methods()
#: Standard monitoring methods (NOT from the trial's paper), key -> full citation.
REFERENCES = _METHODS["references"]
#: What a plan can do when the planned events cannot come: read-only mappings with
#: ``name``, ``what``, ``who`` (may decide) and ``sources`` (keys of :data:`REFERENCES`).
#: Standard practice with its sources, not a fact about AALL1331.
REMEDIES = _METHODS["remedies"]
#: When a secondary end point is protected against multiple testing (``statement``, ``sources``).
SECONDARY_END_POINTS = _METHODS["secondary_end_points"]


def fact(path: str) -> Fact:
    """Look up one fact by its dotted path, e.g. ``"results.dfs_2y"``.

    >>> fact("design.hazard_ratio").value
    0.58
    """
    if not isinstance(path, str):
        raise TypeError(f"path must be a string like 'results.dfs_2y', got {type(path).__name__}")
    node: Any = FACTS
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            known = ", ".join(iter_fact_names())
            raise ValueError(f"path {path!r} names no fact; known facts: {known}")
        node = node[part]
    if not isinstance(node, Fact):
        raise ValueError(f"path {path!r} is a section, not a fact; add a fact name after it")
    return node


def iter_facts(node: Mapping | None = None):
    """Yield every :class:`Fact`, depth first in file order.

    >>> all(f.source for f in iter_facts())
    True
    """
    node = FACTS if node is None else node
    for item in node.values():
        if isinstance(item, Fact):
            yield item
        else:
            yield from iter_facts(item)


def iter_fact_names():
    """Yield the dotted names of all facts.

    >>> "interim.p_critical" in set(iter_fact_names())
    True
    """
    for f in iter_facts():
        yield f.name


# ==========================================================================
# Published tables as tidy data


@dataclass(frozen=True)
class PublishedTable:
    """A table of the paper as tidy columns (dict of equal-length numpy arrays).

    ``columns`` maps a column name to a read-only numpy array; one row per
    published cell group.  ``table()`` prints it, ``to_frame()`` gives a
    pandas DataFrame, ``rows()`` yields one read-only mapping per row.
    """

    title: str
    source: str
    columns: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; columns are {list(self.columns)}")
        return self.columns[name]

    def rows(self):
        names = list(self.columns)
        for i in range(len(self)):
            yield MappingProxyType({n: self.columns[n][i] for n in names})

    def where(self, **equal) -> "PublishedTable":
        """The rows whose columns equal the given values, e.g. ``where(cycle=1)``."""
        keep = np.ones(len(self), dtype=bool)
        for name, value in equal.items():
            keep &= self[name] == value
        return PublishedTable(self.title, self.source, _readonly_columns(
            {n: c[keep] for n, c in self.columns.items()}))

    def _layout(self):
        names = [n for n in self.columns if n not in ("source", "key")]
        rows = [[_fmt(self.columns[n][i]) for n in names] for i in range(len(self))]
        align = _display.column_alignment(self.columns[n] for n in names)
        return names, rows, align, [f"Source: {self.source}. {CITATION}"]

    def table(self) -> str:
        names, rows, align, notes = self._layout()
        return _display.text_table(names, rows, align=align, title=self.title, notes=notes)

    def __repr__(self) -> str:
        return f"PublishedTable({self.title!r}, {len(self)} rows, columns={list(self.columns)})"

    def _repr_html_(self) -> str:
        names, rows, align, notes = self._layout()
        return _display.html_table(names, rows, align=align, title=self.title, notes=notes)

    def to_frame(self):
        """A pandas DataFrame (pandas must be installed)."""
        import pandas as pd
        return pd.DataFrame({n: np.asarray(c) for n, c in self.columns.items()})


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:g}"
    return "" if value is None else str(value)


def _readonly_columns(cols):
    out = {}
    for name, values in cols.items():
        arr = np.asarray(values)
        if arr.dtype.kind in "US":
            arr = arr.astype(object)
        arr.flags.writeable = False
        out[name] = arr
    return MappingProxyType(out)


def _num(x):
    return np.nan if x is None else x


def table1() -> PublishedTable:
    """Table 1, baseline characteristics by arm, one row per category.

    Columns: variable, level, blinatumomab, chemotherapy (counts),
    percent_* (as printed, NaN where the paper prints none), denominator_*,
    parent (the category a sub-row breaks down, "" for top-level rows), key, source.

    >>> t = table1()
    >>> r = t.where(key="site_of_relapse.marrow_18_36")
    >>> int(r["blinatumomab"][0]), float(r["percent_chemotherapy"][0])
    (41, 39.8)
    """
    cols = {k: [] for k in ("variable", "level", "blinatumomab", "chemotherapy", "percent_blinatumomab",
                            "percent_chemotherapy", "denominator_blinatumomab",
                            "denominator_chemotherapy", "parent", "key", "source")}
    for section, items in FACTS["table1"].items():
        if isinstance(items, Fact):
            continue
        for key, f in items.items():
            if "label" not in f.extra:
                continue
            pct = f.extra.get("percent", {})
            cols["variable"].append(f.extra["variable"])
            cols["level"].append(f.extra["label"])
            for a in ARMS:
                cols[a].append(f.value[a])
                cols[f"percent_{a}"].append(_num(pct.get(a)))
                cols[f"denominator_{a}"].append(f.extra["denominator"][a])
            cols["parent"].append(f.extra.get("parent", ""))
            cols["key"].append(f"{section}.{key}")
            cols["source"].append(f.source)
    return PublishedTable("Table 1. Baseline characteristics by arm", "Table 1", _readonly_columns(cols))


def table2() -> PublishedTable:
    """Table 2, first events, MRD negativity and transplant, with the published comparisons.

    Differences are blinatumomab minus chemotherapy in percentage points (95% CI);
    odds ratios (95% CI) and 2-sided P values only where published (none for
    the competing first events).  ``p_relation`` is "<" for "P < .001".

    >>> t = table2()
    >>> [int(x) for x in t["blinatumomab"][:3]], [int(x) for x in t["chemotherapy"][:3]]
    ([1, 35, 12], [9, 32, 18])
    """
    cols = {k: [] for k in ("group", "end_point", "blinatumomab", "chemotherapy", "percent_blinatumomab",
                            "percent_chemotherapy", "difference", "difference_ci_lower",
                            "difference_ci_upper", "odds_ratio", "odds_ratio_ci_lower",
                            "odds_ratio_ci_upper", "p_value", "p_relation", "key", "source")}
    for key, f in FACTS["table2"].items():
        if not isinstance(f, Fact) or "label" not in f.extra:
            continue
        e = f.extra
        cols["group"].append(e["group"])
        cols["end_point"].append(e["label"])
        for a in ARMS:
            cols[a].append(f.value[a])
            cols[f"percent_{a}"].append(e["percent"][a])
        d = e["difference_percent"]
        cols["difference"].append(d["estimate"])
        cols["difference_ci_lower"].append(d["ci_lower"])
        cols["difference_ci_upper"].append(d["ci_upper"])
        o = e.get("odds_ratio", {})
        cols["odds_ratio"].append(_num(o.get("estimate")))
        cols["odds_ratio_ci_lower"].append(_num(o.get("ci_lower")))
        cols["odds_ratio_ci_upper"].append(_num(o.get("ci_upper")))
        p = e.get("p_value", {})
        cols["p_value"].append(_num(p.get("value")))
        cols["p_relation"].append(p.get("relation", ""))
        cols["key"].append(f"table2.{key}")
        cols["source"].append(f.source)
    return PublishedTable("Table 2. Outcomes by arm (n = 105 / 103)", "Table 2", _readonly_columns(cols))


def table3() -> PublishedTable:
    """Table 3, adverse events by cycle, arm and grade, in long (tidy) form.

    One row per (cycle, adverse event, arm) with the as-treated denominator n
    (cycle 1: 102 / 97, cycle 2: 88 / 62), counts and printed percentages for
    any grade and grade >= 3.  Blinatumomab-related events have no
    chemotherapy rows (not applicable).

    >>> t = table3().where(cycle=1, event="Sepsis")
    >>> list(t["arm"]), [int(x) for x in t["grade_3_plus"]], [int(x) for x in t["n"]]
    (['blinatumomab', 'chemotherapy'], [1, 13], [102, 97])
    """
    cols = {k: [] for k in ("cycle", "event", "category", "special_interest", "arm", "n", "any_grade",
                            "any_grade_percent", "grade_3_plus", "grade_3_plus_percent", "key", "source")}
    denominators = FACTS["table3"]["denominator"].value
    for cycle in (1, 2):
        for key, f in FACTS["table3"][f"cycle_{cycle}"].items():
            for a in ARMS:
                if f.value[a] is None:
                    continue
                cols["cycle"].append(cycle)
                cols["event"].append(f.extra["label"])
                cols["category"].append(f.extra["category"])
                cols["special_interest"].append(bool(f.extra.get("special_interest", False)))
                cols["arm"].append(a)
                cols["n"].append(denominators[f"cycle_{cycle}"][a])
                for g in ("any_grade", "grade_3_plus"):
                    cols[g].append(f.value[a][g])
                    cols[f"{g}_percent"].append(f.extra["percent"][a][g])
                cols["key"].append(f"table3.cycle_{cycle}.{key}")
                cols["source"].append(f.source)
    return PublishedTable("Table 3. Adverse events by randomized cycle (as treated)", "Table 3",
                          _readonly_columns(cols))


def _final_dfs_events() -> int:
    """First DFS events at the final analysis: the sum of Table 2's first events (107)."""
    return int(sum(sum(fact(f"table2.{k}").value.values())
                   for k in ("late_treatment_failure", "relapse", "death")))


# ==========================================================================
# Computations behind the committee's other considerations (issue 25)

@dataclass(frozen=True)
class ClosureCost:
    """What closing randomization cost in patients and DFS events, beside the plateau.

    ``patients_planned`` (220), ``patients_analysed`` (208), ``patients_lost`` (12);
    ``events_planned`` (131), ``events_final`` (107, Table 2), ``events_missing`` (24);
    ``events_lost_proportional``: the lost patients times the analysed patients' event rate
    (107 / 208); ``events_lost_model``: the same by the lesson-04 plateau model (the published
    2-year DFS, median time to event 6 months, 220 vs 208 patients accrued uniformly from
    January 2015 to June 2019, followed to September 30, 2020); ``events_by_cutoff_analysed``
    and ``events_by_cutoff_planned`` (the model's expected events at the final cut-off);
    ``max_events_planned`` (the most 220 patients could ever give under the plateau);
    ``cure_fraction``, ``hazard_ratio`` (the model's).  A reconstruction: the paper states no
    cure model.
    """

    patients_planned: int
    patients_analysed: int
    patients_lost: int
    events_planned: int
    events_final: int
    events_missing: int
    events_lost_proportional: float
    events_by_cutoff_analysed: float
    events_by_cutoff_planned: float
    events_lost_model: float
    max_events_planned: float
    cure_fraction: float
    hazard_ratio: float

    def table(self) -> str:
        rows = [
            ["analysable patients lost to the closure", f"{self.patients_lost}",
             f"{self.patients_planned} planned, {self.patients_analysed} analysed (Discussion)"],
            ["DFS events missing at the final analysis", f"{self.events_missing}",
             f"{self.events_planned} planned, {self.events_final} observed (Table 2)"],
            ["events the lost patients would have added (rate 107/208)", f"{self.events_lost_proportional:.1f}",
             "at the analysed patients' own event rate"],
            ["same, plateau model", f"{self.events_lost_model:.1f}",
             f"{self.events_by_cutoff_planned:.1f} vs {self.events_by_cutoff_analysed:.1f} expected by the final cut-off"],
            ["most events 220 patients could ever give (plateau)", f"{self.max_events_planned:.1f}",
             f"plateau {self.cure_fraction:.0%} (chemotherapy), HR {self.hazard_ratio:.2f}"],
        ]
        return _display.text_table(["", "value", "from"], rows, align="lrl",
                                   title="What closing randomization cost (a reconstruction)")

    def __repr__(self) -> str:
        return f"ClosureCost(\n{self.table()}\n)"


def closure_cost() -> ClosureCost:
    """What closing randomization cost: about a dozen analysable patients, about 6 of the 24
    missing DFS events; the plateau explains most of the shortfall (lesson 04's model).

    >>> c = closure_cost()
    >>> c.patients_lost, c.events_missing, round(c.events_lost_proportional, 1), round(c.events_lost_model, 1)
    (12, 24, 6.2, 6.7)
    >>> c.max_events_planned < c.events_planned
    True
    """
    from teachkit import design as ds

    planned = int(fact("design.patients_planned").value)
    analysed = int(sum(fact("flow.analysed").value.values()))
    d_planned = int(fact("design.events_planned").value)
    d_final = _final_dfs_events()
    dfs = fact("results.dfs_2y").value
    s0, s1 = dfs["chemotherapy"], dfs["blinatumomab"]
    hr = math.log(s1) / math.log(s0)
    latency = fact("follow_up.dfs_event_median_months").value / 12.0
    pi = ds.cure_fraction_from_survival(s0, 2.0, latency)
    lam = ds.latency_hazard(s0, 2.0, pi)
    start = np.datetime64(fact("design.randomization_start").value, "D")
    accrual = float((np.datetime64(fact("design.analysis_set_cutoff").value, "D") - start).astype(int)) / 365.25
    final = float((np.datetime64(fact("design.follow_up_cutoff").value, "D") - start).astype(int)) / 365.25
    by_cutoff = {n: float(ds.expected_events(final, n, accrual, lam, hr, cure_fraction=pi)) for n in (analysed, planned)}
    return ClosureCost(
        patients_planned=planned, patients_analysed=analysed, patients_lost=planned - analysed,
        events_planned=d_planned, events_final=d_final, events_missing=d_planned - d_final,
        events_lost_proportional=(planned - analysed) * d_final / analysed,
        events_by_cutoff_analysed=by_cutoff[analysed], events_by_cutoff_planned=by_cutoff[planned],
        events_lost_model=by_cutoff[planned] - by_cutoff[analysed],
        max_events_planned=ds.maximum_events(planned, pi, hr), cure_fraction=pi, hazard_ratio=hr)


@dataclass(frozen=True)
class ToxicDeathsByAge:
    """Toxic deaths on chemotherapy (cycles 1-2) by age, with Table 1's denominators.

    Split at 18 years, the paper's adolescent-and-young-adult subgroup (Results, Subgroup
    Outcomes): the deaths at ages 23 and 26 (Results, AE End Point) among the chemotherapy
    patients aged 18-27 at enrollment, the other 3 among those under 18 (Table 1).  The
    denominators are the analysed chemotherapy arm (103), not the as-treated 97: an
    approximation.  ``comparison`` is :func:`teachkit.tables.compare_proportions` (Fisher's
    exact test two-sided); 5 deaths in all, a subgroup the trial was not designed to compare.
    """

    deaths_older: int
    patients_older: int
    deaths_younger: int
    patients_younger: int
    ages: tuple
    comparison: Any

    def __repr__(self) -> str:
        return (f"ToxicDeathsByAge(aged 18-27: {self.deaths_older}/{self.patients_older}; under 18: "
                f"{self.deaths_younger}/{self.patients_younger}; Fisher exact P = "
                f"{self.comparison.fisher_p_value:.3f}; ages of 4 of the 5: {list(self.ages)})")


def toxic_deaths_by_age() -> ToxicDeathsByAge:
    """Toxic deaths on chemotherapy split at 18 years (the paper's AYA subgroup).

    >>> t = toxic_deaths_by_age()
    >>> (t.deaths_older, t.patients_older, t.deaths_younger, t.patients_younger)
    (2, 18, 3, 85)
    """
    from teachkit import tables

    ages = tuple(fact("safety.toxic_deaths_aya").extra["ages"])
    deaths = fact("safety.toxic_deaths_cycles_1_2").value["chemotherapy"]
    older_deaths = sum(1 for a in ages if a >= 18)
    t1 = table1().where(variable="Age at enrollment, y")
    older_levels = {"18-20", "21-27"}
    older = int(sum(n for lvl, n in zip(t1["level"], t1["chemotherapy"]) if lvl in older_levels))
    total = int(sum(t1["chemotherapy"]))
    comparison = tables.compare_proportions(older_deaths, older, deaths - older_deaths, total - older)
    return ToxicDeathsByAge(older_deaths, older, deaths - older_deaths, total - older, ages, comparison)


# ==========================================================================
# Re-exports of teachkit.cohort (lessons call tk.aall1331.synthetic_cohort())

#: Names that moved to :mod:`teachkit.cohort` and are still served from here.
_COHORT_NAMES = ("SYNTHETIC_LABEL", "CALIBRATION", "SyntheticCohort", "synthetic_cohort",
                 "CalibrationTable", "calibration_table")


#: The monitoring plan's names, served from :mod:`teachkit.aall1331_plan` (which reads the
#: facts above: aall1331_plan -> aall1331) as ``tk.aall1331.monitoring_plan()`` and so on.
_PLAN_NAMES = ("PLAN_LABEL", "PLAN_ASSUMPTIONS", "AFTER_STOP_LABEL", "INTERIM_ASSUMPTIONS", "PlanLook",
               "PlanReading", "FinalThreshold", "MonitoringPlan", "monitoring_plan", "design_report")


def __getattr__(name):
    # Lazy on purpose: teachkit.cohort and teachkit.aall1331_plan import this module
    # (cohort -> aall1331, aall1331_plan -> aall1331), so importing them at the top here
    # would make a cycle.  The re-exports are the only arrows pointing back, and they are
    # resolved on first use, not at import.
    if name in _COHORT_NAMES:
        from teachkit import cohort

        return getattr(cohort, name)
    if name in _PLAN_NAMES:
        from teachkit import aall1331_plan

        return getattr(aall1331_plan, name)
    if name == "MONITORING_PLAN":  # built on first use: it computes boundaries
        from teachkit.aall1331_plan import monitoring_plan

        return monitoring_plan()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_COHORT_NAMES) | set(_PLAN_NAMES) | {"MONITORING_PLAN"})


if __name__ == "__main__":  # python -m teachkit.aall1331 [--design]
    import sys

    if "--design" in sys.argv[1:]:
        from teachkit.aall1331_plan import design_report

        print(design_report())
    else:  # the calibration table lives in teachkit.cohort (python -m teachkit.cohort)
        from teachkit.cohort import calibration_table

        print(calibration_table().table())

