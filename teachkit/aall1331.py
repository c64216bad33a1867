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
* :func:`design_report` -- the trial's design reproduced from these facts
  (``python -m teachkit.aall1331 --design``).

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
#: (sections: ``design``, ``interim``, ``flow``, ``results``, ``table1``,
#: ``table2``, ``table3``, ``follow_up``, ``mrd_transitions``, ``other``,
#: ``salvage``).

#: Cells the paper prints inconsistently, kept as printed (each names the fact).
ERRATA = _freeze(_RAW["_errata"]["value"])


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


#: What the teaching reconstruction of the June 2019 interim assumes beyond the paper.
INTERIM_ASSUMPTIONS = (
    "P = .06 read as one-sided and the 80-event look as the first of 2 planned interims at "
    "1/3 and 2/3 of 131 events (the paper states neither)")


def design_report() -> str:
    """The trial's design reproduced from its published parameters, as text.

    Uses :mod:`teachkit.sequential` and :mod:`teachkit.design` on the facts of
    Methods, Statistical Analysis and Results, Early Closure of Randomization: HR 0.58,
    one-sided alpha .025, 85% power, 131 events, O'Brien-Fleming-type spending with two
    interim analyses (assumed equally spaced: the paper does not give their timing),
    non-binding futility by testing the alternative at .024, the interim at 80 of 131
    events with P = .06, 220 patients accrued from January 2015 to June 2019.

    Reconstructions, labelled in the report (:data:`INTERIM_ASSUMPTIONS`): the paper
    says neither that P = .06 is one-sided nor which of the 2 planned interims the
    80-event look was; the report reads P as one-sided and takes the look as the first
    of two planned at 1/3 and 2/3 of the events.

    >>> "2.641" in design_report()      # the efficacy boundary at 80/131 (P = .004)
    True
    """
    from teachkit import design as ds
    from teachkit import sequential as sq

    d = {k: fact("design." + k).value for k in (
        "hazard_ratio", "alpha_one_sided", "power", "events_planned", "futility_alpha",
        "patients_planned", "interim_analyses", "control_2y_dfs")}
    i = {k: fact("interim." + k).value for k in ("events", "events_planned", "p_dfs")}
    looks = np.arange(1, d["interim_analyses"] + 2) / (d["interim_analyses"] + 1)
    theta = sq.drift_from_hazard_ratio(d["hazard_ratio"], d["events_planned"])
    gsd = sq.group_sequential_design(looks, alpha=d["alpha_one_sided"], spending="obrien-fleming",
                                     futility_alpha=d["futility_alpha"], futility_drift=theta)
    start = np.datetime64(fact("design.randomization_start").value, "D")
    end = np.datetime64(fact("design.analysis_set_cutoff").value, "D")
    accrual_years = float((end - start).astype(int)) / 365.25
    lam = ds.hazard_from_survival(d["control_2y_dfs"], 2)
    times = ds.analysis_times(list(looks * d["events_planned"]) + [i["events"]],
                              d["patients_planned"], accrual_years, lam, d["hazard_ratio"])
    at = gsd.at_observed([i["events"] / i["events_planned"]])
    report = sq.interim_report(i["events"], i["events_planned"], i["p_dfs"],
                               hazard_ratio_design=d["hazard_ratio"],
                               futility_alpha=d["futility_alpha"], note=INTERIM_ASSUMPTIONS)
    lines = [
        f"AALL1331 design reproduced ({CITATION})",
        f"drift at {d['events_planned']} events for HR {d['hazard_ratio']}: {theta:.4f}",
        f"Reconstruction: {INTERIM_ASSUMPTIONS}",
        "", "Planned looks (equally spaced information; assumed, the paper gives no timing):",
        str(gsd.table(drift=theta, events=d["events_planned"])),
        f"power with futility obeyed {gsd.power(theta):.4f}, ignored "
        f"{gsd.power(theta, futility=False):.4f}; type I error with futility obeyed "
        f"{gsd.rejection_probabilities(0)[-1]:.5f}",
        f"expected calendar time of the looks and of {i['events']} events (years from the first "
        f"patient; {d['patients_planned']} patients over {accrual_years:.2f} years, exponential "
        f"control DFS {d['control_2y_dfs']:.0%} at 2 years): "
        + ", ".join(f"{t:.2f}" for t in times),
        "", f"Boundaries re-computed at the observed look {i['events']}/{i['events_planned']}:",
        str(at.table(drift=theta, events=d["events_planned"])),
        "", str(report.table()),
        "", str(ds.events_required(d["hazard_ratio"], alpha=d["alpha_one_sided"],
                                   power=d["power"]).table()),
        str(ds.events_required(d["hazard_ratio"], alpha=d["alpha_one_sided"], power=d["power"],
                               design=sq.group_sequential_design(looks)).table()),
        "", str(ds.explain_planned_events().table()),
    ]
    return "\n".join(lines)


# ==========================================================================
# Re-exports of teachkit.cohort (lessons call tk.aall1331.synthetic_cohort())

#: Names that moved to :mod:`teachkit.cohort` and are still served from here.
_COHORT_NAMES = ("SYNTHETIC_LABEL", "CALIBRATION", "SyntheticCohort", "synthetic_cohort",
                 "CalibrationTable", "calibration_table")


def __getattr__(name):
    # Lazy on purpose: teachkit.cohort imports this module (cohort -> aall1331), so
    # importing cohort at the top here would make a cycle.  The re-export is the
    # only arrow pointing back, and it is resolved on first use, not at import.
    if name in _COHORT_NAMES:
        from teachkit import cohort

        return getattr(cohort, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_COHORT_NAMES))


if __name__ == "__main__":  # python -m teachkit.aall1331 [--design]
    import sys

    if "--design" in sys.argv[1:]:
        print(design_report())
    else:  # the calibration table lives in teachkit.cohort (python -m teachkit.cohort)
        from teachkit.cohort import calibration_table

        print(calibration_table().table())

