"""The AALL1331 trial's published facts, as data with their sources.

Every number comes from Brown PA et al., JAMA 2021;325(9):833-842 (the paper's
text is the only source; each fact names the table, figure or section it was
read from).  The facts live in ``teachkit/data/aall1331.json``; this module
loads them into read-only :class:`Fact` objects.

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


def _load():
    text = resources.files("teachkit").joinpath("data/aall1331.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    return raw, MappingProxyType(_build(raw))


_RAW, FACTS = _load()
#: Nested read-only mapping section -> name -> :class:`Fact`
#: (sections: ``design``, ``interim``, ``flow``, ``results``, ...).


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
    """Yield every :class:`Fact`, depth first in file order."""
    node = FACTS if node is None else node
    for item in node.values():
        if isinstance(item, Fact):
            yield item
        else:
            yield from iter_facts(item)


def iter_fact_names():
    """Yield the dotted names of all facts."""
    for f in iter_facts():
        yield f.name
