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
    ("aall1331.py", {"teachkit.cohort", "teachkit.plots", "teachkit.simulate", "teachkit.explorers",
                     "teachkit.aall1331_plan"}),
    ("aall1331_plan.py", {"teachkit.cohort", "teachkit.plots", "teachkit.simulate", "teachkit.explorers"}),
    ("cohort.py", {"teachkit.plots", "teachkit.simulate", "teachkit.explorers"}),
    ("_display.py", {"teachkit"}),
    ("plots/_style.py", {"teachkit.explorers", "teachkit.plots.km", "teachkit.plots.trial",
                         "teachkit.plots.boundaries"}),
    ("simulate.py", {"teachkit.plots", "teachkit.explorers", "teachkit.cohort"}),
    ("_simulate_endpoints.py", {"teachkit.plots", "teachkit.explorers", "teachkit.cohort",
                                "teachkit.aall1331", "teachkit.simulate"}),
])
def test_arrows_point_downwards(module, forbidden):
    imports = _top_level_imports(ROOT / module)
    bad = {i for i in imports for f in forbidden if i == f or i.startswith(f + ".")}
    assert not bad, f"{module} imports {sorted(bad)}"


#: Installed by the extras only (lessons, grading, hub), never by ``pip install teachkit``.
EXTRAS_ONLY = ("jupyter_server", "voila", "nbgrader", "jupyterhub", "nbclient", "nbformat")


def test_every_module_imports_with_the_core_dependencies_alone():
    """`make test-matrix` collects the package's doctests in a venv with the test extra only:
    a module importing an extra at module level breaks that run (it did, with _wsguard)."""
    import subprocess
    import sys

    names = sorted(".".join(("teachkit",) + p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                   for p in ROOT.rglob("*.py"))
    code = (
        "import importlib, sys\n"
        f"for m in {EXTRAS_ONLY!r}: sys.modules[m] = None  # `import m` now raises ImportError\n"
        f"bad = []\n"
        f"for name in {names!r}:\n"
        "    try: importlib.import_module(name)\n"
        "    except ImportError as e: bad.append(f'{name}: {e}')\n"
        "print('\\n'.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT.parent, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", "modules that need an extra at import time:\n" + out.stdout
    assert "teachkit._wsguard" in names    # the check covers the module that broke it


def test_the_guard_makes_its_connection_class_on_first_use():
    pytest.importorskip("jupyter_server")
    from traitlets.utils.importstring import import_item

    cls = import_item("teachkit._wsguard.GuardedConnection")   # how Voila's option resolves it
    assert cls.__name__ == "GuardedZMQChannelsWebsocketConnection"
    import teachkit._wsguard as guard

    assert guard.GuardedConnection is cls    # made once, then kept
    with pytest.raises(AttributeError, match="no_such_name"):
        guard.no_such_name
