"""The library's shape: module sizes and the direction of imports (DESIGN.md, issue 12)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "teachkit"
#: Nothing is exempt: explorers/ and sequential/ are packages of modules like the rest.
EXEMPT: set = set()
MAX_LINES = 830     # "about 800"; cox.py (820) is accepted


def _modules():
    return sorted(p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] not in EXEMPT)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_too_long(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines; split it by topic"


def _top_level_imports(path):
    """teachkit modules imported at module level (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("teachkit"):
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("teachkit")}
    return out


@pytest.mark.parametrize("module, forbidden", [
    ("aall1331.py", {"teachkit.cohort", "teachkit.plots", "teachkit.simulate", "teachkit.explorers"}),
    ("cohort.py", {"teachkit.plots", "teachkit.simulate", "teachkit.explorers"}),
    ("_display.py", {"teachkit"}),
    ("plots/_style.py", {"teachkit.explorers", "teachkit.plots.km", "teachkit.plots.trial",
                         "teachkit.plots.boundaries"}),
    ("simulate.py", {"teachkit.plots", "teachkit.explorers", "teachkit.cohort"}),
])
def test_arrows_point_downwards(module, forbidden):
    imports = _top_level_imports(ROOT / module)
    bad = {i for i in imports for f in forbidden if i == f or i.startswith(f + ".")}
    assert not bad, f"{module} imports {sorted(bad)}"
