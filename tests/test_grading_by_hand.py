"""By hand means by hand: the runner that answers the hidden tests of a part marked
``### BY HAND: ...`` (course/grading/runner.py) has the listed teachkit routines, and the
private helpers only they use, unavailable, whatever the student's code tries to get them back.

Played directly against the sandboxed runner (``sealed.Runner``, as the grader drives it): the
instructor's setup cells, then a student cell with every trick, then the grader's calls. The
end-to-end outcome (a wrapping submission for every by-hand part: 0 on those hidden tests,
flagged with the routine) is in tests/test_course.py (scenario ``wraps-teachkit``).
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("course_helpers_by_hand", HERE / "test_course.py")
tc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tc)

pytestmark = [pytest.mark.skipif(not tc.NBGRADER.exists(), reason="nbgrader is not installed"),
              pytest.mark.timeout(600)]
KM = ["teachkit.survival.kaplan_meier", "teachkit.survival.KaplanMeier"]

TRICKS = '''
import importlib, gc, sys, os
import teachkit as tk
import teachkit.survival
from teachkit.survival import kaplan_meier as captured          # a reference taken by name

def attempt(fn):
    try:
        out = fn()
        return "GOT " + type(out).__name__
    except BaseException as exc:
        return type(exc).__name__

def tricks(time, event):
    out = {}
    out["attribute"] = attempt(lambda: tk.survival.kaplan_meier(time, event))
    out["captured"] = attempt(lambda: captured(time, event))
    out["class"] = attempt(lambda: tk.survival.KaplanMeier(time=time))
    out["through another routine"] = attempt(lambda: tk.survival.median_follow_up(time, event))
    out["reload"] = attempt(lambda: importlib.reload(teachkit.survival).kaplan_meier(time, event))
    out["source file"] = attempt(lambda: open(teachkit.survival.__file__).read())
    def fresh_import():
        del sys.modules["teachkit.survival"]
        try:
            return importlib.import_module("teachkit.survival").kaplan_meier(time, event)
        finally:
            sys.modules["teachkit.survival"] = teachkit.survival
    out["fresh import"] = attempt(fresh_import)
    def from_gc():
        for obj in gc.get_objects():
            if getattr(obj, "__name__", None) in ("kaplan_meier", "KaplanMeier") and \\
                    getattr(obj, "__module__", "") == "teachkit.survival":
                return obj(time, event) if callable(obj) else obj
        raise LookupError("not found")
    out["gc"] = attempt(from_gc)
    def installed_copy():
        import glob
        for path in glob.glob(sys.prefix + "/lib/python*/site-packages/teachkit/survival.py"):
            return open(path).read()
        raise LookupError("no installed copy")
    out["installed copy"] = attempt(installed_copy)
    out["allowed routine"] = attempt(lambda: tk.survival.logrank_test(time, event, [0, 1] * (len(time) // 2)).z)
    return out
'''


def _runner(tmp_path, by_hand, setup, student):
    sealed = tc.grading().sealed
    folder = tmp_path / "autograded" / "ada" / "km-by-hand"
    folder.mkdir(parents=True)
    run = sealed.Runner(folder, [], timeout=30, deadline=time.monotonic() + 120, protect_builtins=[],
                        by_hand=by_hand)
    for kind, source in [("setup", s) for s in setup] + [("student", student)]:
        run.start_run(kind, source)
        run.end_run()
    return run


@pytest.mark.skipif(not tc.sandbox_available(), reason="the grading sandbox needs bubblewrap and root "
                    "or user namespaces (apt-get install bubblewrap; CI runs as root)")
def test_no_way_back_to_the_routines(tmp_path):
    run = _runner(tmp_path, KM, ["import numpy as np\nimport teachkit as tk\nimport teachkit.survival"], TRICKS)
    try:
        got = run.lookup("tricks")([3.0, 5, 7, 9], [1, 0, 1, 1])
    finally:
        run.close()
    assert run.problems == [], run.problems                 # nothing of the originals alive
    for trick in ("attribute", "captured", "class", "through another routine"):
        assert got[trick] == "ByHandError", (trick, got)
    assert got["reload"] in ("FileNotFoundError", "ModuleNotFoundError", "ImportError"), got
    assert got["source file"] == "FileNotFoundError", got
    assert got["fresh import"] in ("ModuleNotFoundError", "ImportError", "FileNotFoundError"), got
    assert got["gc"] == "LookupError", got
    assert got["installed copy"] == "LookupError", got
    assert got["allowed routine"] == "GOT float", got          # the rest of teachkit works
    assert set(run.by_hand_calls) >= {"teachkit.survival.kaplan_meier"}


def _setup_cells(assignment):
    nb = nbformat.read(tc.source_notebooks(assignment)[0], as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code" and tc.nbg(c).get("locked")
            and not tc.nbg(c).get("grade") and not tc.nbg(c).get("solution")]


def _markers(assignment):
    sealed_common = tc.grading().common
    nb = nbformat.read(tc.source_notebooks(assignment)[0], as_version=4)
    return sorted({r for c in nb.cells for r in sealed_common.by_hand_routines(c.source)})


@pytest.mark.skipif(not tc.sandbox_available(), reason="the grading sandbox needs bubblewrap and root "
                    "or user namespaces (apt-get install bubblewrap; CI runs as root)")
@pytest.mark.parametrize("assignment", [a for a in tc.ASSIGNMENTS if _markers(a)])
def test_every_marked_routine_is_gone_after_the_setup(tmp_path, assignment):
    """For each assignment's markers, after its own setup cells: every routine resolved, no
    original left reachable (an object made by the setup would keep its class alive)."""
    routines = _markers(assignment)
    run = _runner(tmp_path, routines, _setup_cells(assignment), "def probe():\n    return 1\n")
    try:
        assert run.lookup("probe")() == 1
    finally:
        run.close()
    assert run.problems == [], run.problems
