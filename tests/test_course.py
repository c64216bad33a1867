"""End-to-end test of the nbgrader course in ``course/``.

Runs the real nbgrader command line (the one installed next to this Python)
on a temporary copy of the course: generate the student version of every
assignment, check that it leaks no solution and no hidden test, fake the
submissions of several students, autograde, generate feedback, export, and
read the scores back through :class:`nbgrader.api.Gradebook`.

The expected score of every graded cell is derived from the ``points`` in the
source notebooks and from what each fake student did (which cells we broke),
never from a previous run.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
NBGRADER = Path(sys.executable).parent / "nbgrader"
ASSIGNMENTS = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
REQUIRED = ["km-by-hand", "logrank-and-hr", "risk-groups", "planning-events", "interim-decision",
            "looking-early", "after-the-stop"]

BEGIN_SOL, END_SOL = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HID, END_HID = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
TEXT_STUB = ["YOUR ANSWER HERE"]

pytestmark = [pytest.mark.skipif(not NBGRADER.exists(), reason="nbgrader is not installed next to this Python"),
              # the module's fixture generates and grades ~20 submissions (each in the sandbox)
              pytest.mark.timeout(3600)]


# nbgrader runs `alembic` (its gradebook migrations) from PATH, also inside
# nbgrader.api.Gradebook: make the tools installed next to this Python visible.
PATH = os.pathsep.join([str(NBGRADER.parent), os.environ.get("PATH", "")])


def grading(course: Path = COURSE):
    """course/grading as the package nbgrader_config.py loads (``teachkit_course_grading``)."""
    import importlib
    import importlib.util

    spec = importlib.util.spec_from_file_location("teachkit_course_grading_boot",
                                                  course / "grading" / "__init__.py")
    boot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(boot)
    pkg = boot.load(course / "grading")
    for name in ("sandbox", "runner", "common", "sealed", "kernel", "guard"):
        importlib.import_module(f"{pkg.__name__}.{name}")
    return pkg


def sandbox_available() -> bool:
    """Can this machine run the grading sandbox (bubblewrap with namespaces)?"""
    try:
        grading().sandbox.check()
        return True
    except Exception:
        return False


# Grade in the sandbox where it works (CI runs as root with bubblewrap); elsewhere the
# course's documented fallback (TEACHKIT_SANDBOX=off) keeps the grading tests meaningful.
GRADING_ENV = {} if sandbox_available() else {"TEACHKIT_SANDBOX": "off"}


@pytest.fixture(scope="module", autouse=True)
def _tools_on_path():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", PATH)
        yield


# --------------------------------------------------------------------------- helpers

def nbgrader(course: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(NBGRADER), *args], cwd=course, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PATH": PATH, **GRADING_ENV})
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def source_notebooks(assignment: str, root: Path = COURSE):
    return sorted((root / "source" / assignment).glob("*.ipynb"))


def nbg(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def strip_markers(text: str, begin: str, end: str, stub: list[str] | None) -> str:
    """What nbgrader makes of a cell: each region replaced by the stub (indented) or dropped."""
    out, inside = [], False
    for line in text.split("\n"):
        if begin in line:
            inside = True
            if stub is not None:
                indent = re.match(r"\s*", line).group(0)
                out += [indent + s for s in stub]
        elif end in line:
            inside = False
        elif not inside:
            out.append(line)
    assert not inside, "unterminated region"
    return "\n".join(out)


def regions(text: str, begin: str, end: str) -> list[str]:
    """The lines inside the marked regions."""
    lines, inside = [], False
    for line in text.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def solution_text(text: str) -> str:
    """A cell as a student who knows the answer would write it: the markers removed."""
    return "\n".join(line for line in text.split("\n")
                     if BEGIN_SOL not in line and END_SOL not in line)


def points(assignment: str) -> tuple[dict, dict]:
    """(auto, manual) points by (notebook, grade_id), read from the source notebooks."""
    auto, manual = {}, {}
    for path in source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = nbg(cell)
            if meta.get("grade"):
                key = (path.stem, meta["grade_id"])
                (manual if meta.get("solution") else auto)[key] = float(meta["points"])
    return auto, manual


# --------------------------------------------------------------------------- fake students

def solved(release_nb, source_nb):
    """The release notebook with every solution cell answered from the source."""
    answers = {nbg(c)["grade_id"]: c.source for c in source_nb.cells if nbg(c).get("solution")}
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        if nbg(cell).get("solution"):
            cell.source = solution_text(answers[nbg(cell)["grade_id"]])
    return nb


def replace_cell(nb, grade_id, new_source):
    for cell in nb.cells:
        if nbg(cell).get("grade_id") == grade_id:
            cell.source = new_source
            return nb
    raise KeyError(grade_id)


def hardcoded(nb):
    """km_table that types in the 6-MP table: passes the visible test, fails the hidden one."""
    return replace_cell(nb, "km-table", '''
import numpy as np
def km_table(time, event):
    t = np.array([6., 7., 10., 13., 16., 22., 23.])
    n = np.array([21, 17, 15, 12, 11, 7, 6])
    d = np.array([3, 1, 1, 1, 1, 1, 1])
    return t, n, d, np.cumprod(1 - d / n)
t, n, d, s = km_table(time, event)
''')


def swaps_mistakes(nb):
    """which_mistake that mixes up two mistakes (deleting the censored patients and counting
    them as relapses both pull the curve down): passes the visible checks, fails the hidden."""
    cell = next(c for c in nb.cells if nbg(c).get("grade_id") == "which-mistake")
    a, b = 'curves["censored as relapses"]', 'curves["censored left out"]'
    assert a in cell.source and b in cell.source
    cell.source = cell.source.replace(a, "@A@").replace(b, a).replace("@A@", b)
    return nb


def raises(nb):
    """The median cell crashes before defining its function."""
    return replace_cell(nb, "median", 'raise RuntimeError("I do not know how to do this")\n'
                                      'def median_survival(t, s):\n    return 0.0')


def loops(nb):
    """The Greenwood cell never ends: the autograder must interrupt it."""
    return replace_cell(nb, "greenwood", "while True:\n    pass\n")


def deleted(nb):
    """The student deleted a visible test cell: nbgrader puts it back."""
    nb.cells = [c for c in nb.cells if nbg(c).get("grade_id") != "km-table-visible"]
    return nb


def ignores_alpha(nb):
    """obf_spent that always spends 0.025, whatever alpha it is given: the visible tests
    (alpha = 0.025 only) pass, the hidden test with other alphas fails."""
    return replace_cell(nb, "spending", '''
def obf_spent(t, alpha=0.025):
    return 2 - 2 * norm.cdf(norm.ppf(1 - 0.025 / 2) / math.sqrt(t))
''')


def naive_second_look(nb):
    """The classic wrong answers of interim-decision's Parts 7 and 8: which_cp_mistake that mixes
    up two mistakes (the interim Z for the B-value and no square root both push the conditional
    power up at a positive Z), and second_look that uses first_boundary(t2), the boundary a first
    look at t2 would have, ignoring the alpha the first look spent: the visible checks pass, both
    hidden tests fail."""
    cell = next(c for c in nb.cells if nbg(c).get("grade_id") == "cp-mistake")
    a, b = '"Z for B": 1', '"no square root": 1'
    assert a in cell.source and b in cell.source
    cell.source = cell.source.replace(a, "@A@").replace(b, a).replace("@A@", b)
    cell = next(c for c in nb.cells if nbg(c).get("grade_id") == "second-look")
    right = "tk.sequential.group_sequential_design([t1, t2, 1.0]).z_efficacy[1]"
    assert right in cell.source
    cell.source = cell.source.replace(right, "first_boundary(t2)")
    return nb


def p_below_alpha(nb):
    """decide_at_look that stops whenever the look's one-sided P is below alpha, the single-look
    rule (reason D): the visible test (the format) passes, the hidden test fails wherever the P is
    below alpha but Z1 is inside the first boundary."""
    return replace_cell(nb, "decide", '''
def decide_at_look(z1, t1, alpha=0.025):
    return ("stop for efficacy", "D") if norm.sf(z1) < alpha else ("go on", "C")
''')


def no_tie_correction(nb):
    """Log-rank variance without the (n - d)/(n - 1) factor: wrong wherever events are tied,
    so the visible test (whose data has ties) fails, and so do the hidden test and the Peto
    hazard ratio built on that variance; Z, P and the Cox HR (checked on teachkit's numbers)
    still score."""
    cell = next(c for c in nb.cells if nbg(c).get("grade_id") == "lr-table")
    assert "* (n - d) / np.maximum(n - 1, 1)" in cell.source
    cell.source = cell.source.replace("* (n - d) / np.maximum(n - 1, 1)", "")
    return nb


def always_away(nb):
    """true_statements that says G ("on average less benefit than the truth") for every trial that
    went on with the futility rule followed, whatever the truth: the classic "trials that reach the
    end are always biased towards no effect". Right on the lesson's plan at HR 0.58 (the visible
    test passes), wrong where the truth is near no effect (the hidden test fails)."""
    cell = next(c for c in nb.cells if nbg(c).get("grade_id") == "interpret")
    old = 'true.add("F" if direction(hr_assumed, events, t1, c1, f1) == "towards benefit" else "G")'
    assert old in cell.source
    cell.source = cell.source.replace(old, 'true.add("G")')
    return nb


def tampers_numpy(grade_id):
    """Correct answers, and numpy's comparisons patched to always agree (the course-integrity
    attack): the visible tests pass in the student's kernel, every hidden test scores 0 in the
    sealed grader, and the submission is flagged."""
    def make(nb):
        cell = next(c for c in nb.cells if nbg(c).get("grade_id") == grade_id)
        cell.source = ("np.allclose = lambda *a, **k: True\n"
                       "np.isclose = lambda *a, **k: np.True_\n" + cell.source)
        return nb
    return make


# Correct answers obtained by calling the teachkit routine that a "by hand" part asks the
# student to reimplement (the issue-29 reproduction: 39/41 automatic points on four
# assignments, unflagged). The sealed grader runs the hidden tests of those parts with the
# routines unavailable: 0 there, and a flag that names the routine.
WRAPPERS = {
    "km-by-hand": {
        "km-table": """
def km_table(time, event):
    km = tk.survival.kaplan_meier(time, event)
    keep = km.n_events > 0
    return km.time[keep], km.n_at_risk[keep], km.n_events[keep], km.survival[keep]
t, n, d, s = km_table(time, event)
""",
        "greenwood": """
def greenwood_se(n, d, s):
    n, d = np.asarray(n, dtype=int), np.asarray(d, dtype=int)
    times, events = [], []
    for j in range(len(n)):
        after = n[j + 1] if j + 1 < len(n) else 0
        times += [j + 1.0] * int(d[j]) + [j + 1.5] * int(n[j] - d[j] - after)
        events += [1] * int(d[j]) + [0] * int(n[j] - d[j] - after)
    km = tk.survival.kaplan_meier(times, events)
    return km.std_err[km.n_events > 0]
""",
        "median": """
def median_survival(t, s):
    tk.survival.kaplan_meier([1.0], [1])  # "just to check": a by-hand part may not call it
    t, s = np.asarray(t, dtype=float), np.asarray(s, dtype=float)
    below = np.flatnonzero(s <= 0.5)
    return t[below[0]] if below.size else np.nan
""",
    },
    "logrank-and-hr": {
        "lr-table": """
def logrank_table(time, event, group):
    group = np.asarray(group, dtype=int)
    r = tk.survival.logrank_test(time, event, 1 - group)._rows   # label 0 = group 1 first
    return {"time": r["time"], "n": r["n1"] + r["n2"], "n1": r["n1"], "d": r["d1"] + r["d2"],
            "d1": r["d1"], "expected1": r["e1"], "variance": r["v"]}
tab = logrank_table(time, event, group)
""",
    },
    "risk-groups": {
        "risk-function": """
def risk_group(site, months, mrd=None, marrow_blasts=None, cns_cleared=True):
    return str(tk.risk.assign_risk_group(site, months, mrd, marrow_blasts, cns_cleared))
""",
        "stratum-function": """
NAMES = {"intermediate": "intermediate", "high, isolated extramedullary <18 mo": "high-extramedullary",
         "high, marrow <18 mo, MRD <0.1%": "high-marrow-early-mrd-low",
         "high, marrow <18 mo, MRD >=0.1%": "high-marrow-early-mrd-high",
         "high, marrow 18-36 mo, MRD <0.1%": "high-marrow-late-mrd-low",
         "high, marrow 18-36 mo, MRD >=0.1%": "high-marrow-late-mrd-high"}
def stratum(site, months, mrd):
    return NAMES[str(tk.risk.randomization_stratum(site, months, mrd))]
""",
    },
    "looking-early": {
        "spent": """
def spent(t, alpha=0.025):
    return float(tk.sequential.obrien_fleming_spending(t, alpha))
""",
        "boundaries": """
def two_look_boundaries(t1, t2=1.0, alpha=0.025):
    # alpha(t1) and alpha(t2) spent by the looks, also when the second look comes before t = 1
    a1, a2 = (float(tk.sequential.obrien_fleming_spending(t, alpha)) for t in (t1, t2))
    design = tk.sequential.group_sequential_design([t1 / t2, 1.0], alpha=a2, spending="user", parameter=[a1, a2])
    return float(design.z_efficacy[0]), float(design.z_efficacy[1])
c1_aall, c2_aall = two_look_boundaries(80 / 131)
""",
        "naive": """
def naive_alpha_two_looks(t1, crit=1.96):
    return float(tk.sequential.naive_type_one_error([t1, 1.0], crit))
def naive_alpha_simulated(n_looks, n_trials=100_000, crit=1.96, seed=1):
    return float(tk.sequential.naive_type_one_error(n_looks, crit))
""",
    },
    "interim-decision": {
        "spending": """
def obf_spent(t, alpha=0.025):
    return tk.sequential.obrien_fleming_spending(t, alpha)
""",
        "futility": """
def drift(hr, events):
    return float(tk.sequential.drift_from_hazard_ratio(hr, events))
def futility_boundary(t, theta, level=0.024):
    return theta * math.sqrt(t) - norm.ppf(1 - level)
""",
        "cp": """
def conditional_power(z, t, c, theta):
    return float(tk.sequential.conditional_power(z, t, c, drift=theta))
""",
    },
    "planning-events": {
        "schoenfeld": """
def schoenfeld_events(hr, alpha, power, allocation=0.5):
    return float(tk.design.events_required(hr, alpha, power, allocation))
d_aall = schoenfeld_events(hr_design, alpha, power)
""",
        "patients": """
def prob_event(hazard, accrual, follow_up):
    return float(tk.design.expected_events(accrual + follow_up, 1.0, accrual, hazard, 1.0))
def patients_needed(events, hr, control_2y, accrual, follow_up):
    return float(tk.design.patients_required(events, accrual, follow_up, -math.log(control_2y) / 2, hr))
n_aall = patients_needed(d_aall, hr_design, control_2y, accrual=4.5, follow_up=1.25)
""",
        "plateau": """
def max_events(patients, cure_fraction, hr):
    return float(tk.design.maximum_events(patients, cure_fraction, hr))
def events_by(time, patients, accrual, control_2y, cure_fraction, hr):
    lam = tk.design.latency_hazard(control_2y, 2, cure_fraction)
    return float(tk.design.expected_events(time, patients, accrual, lam, hr, cure_fraction=cure_fraction))
def plan_verdict(planned_events, cutoff, patients, accrual, control_2y, cure_fraction, hr):
    if max_events(patients, cure_fraction, hr) < planned_events:
        return "never"
    return "on time" if events_by(cutoff, patients, accrual, control_2y, cure_fraction, hr) >= planned_events else "later"
dfs = tk.aall1331.fact("results.dfs_2y").value
pi = dfs["chemotherapy"]
hr_plateau = math.log(dfs["blinatumomab"]) / math.log(pi)
analysed = tk.aall1331.fact("closure.analysed_of_planned").value["analysed"]
""",
    },
    "after-the-stop": {
        "stagewise": """
def naive_p(z):
    one_look = tk.sequential.group_sequential_design([1.0])
    return float(tk.sequential.inference_after_stop(one_look, [z], [100]).naive_p_value)
def stagewise_p(z, t1, c1):
    z = list(z)
    if len(z) == 1:
        return naive_p(z[0])
    design = tk.sequential.group_sequential_design([t1, 1.0], spending="user",
                                                   parameter=[float(norm.sf(c1)), 0.025])
    return float(tk.sequential.inference_after_stop(design, z, [100 * t1, 100]).p_value)
""",
        "went-on": """
def went_on(hr, events, t1, c1, f1, n_trials=200_000, seed=1):
    # a design with exactly these boundaries: alpha spent so that Z1 >= c1, a futility rule with Z1 < f1
    design = tk.sequential.group_sequential_design(
        [t1, 1.0], spending="user", parameter=[float(norm.sf(c1)), 0.025],
        futility_alpha=0.024, futility_drift=(f1 - float(norm.ppf(0.024))) / math.sqrt(t1))
    exact = tk.sequential.bias_by_stopping(design, hr, events, futility=True)
    return float(exact.p_reached_final), math.log(exact.hr_reached_final)
def direction(hr, events, t1, c1, f1):
    return "towards benefit" if went_on(hr, events, t1, c1, f1)[1] < math.log(hr) else "away from benefit"
""",
    },
}


def wraps_teachkit(assignment):
    def make(nb):
        for grade_id, source in WRAPPERS[assignment].items():
            replace_cell(nb, grade_id, source)
        return nb
    return make


def by_hand_ids(assignment):
    """grade ids of the hidden tests marked '### BY HAND:' in the source notebooks."""
    return {nbg(c)["grade_id"] for path in source_notebooks(assignment)
            for c in nbformat.read(path, as_version=4).cells if "### BY HAND:" in c.source}


def hidden_ids(assignment):
    return {nbg(c)["grade_id"] for path in source_notebooks(assignment)
            for c in nbformat.read(path, as_version=4).cells if BEGIN_HID in c.source}


# (assignment, student) -> (how to make the notebook, grade_ids expected to score zero,
#                           manual answers given?)
SCENARIOS = {}
for _a in ASSIGNMENTS:
    SCENARIOS[(_a, "solution")] = (None, set(), True)
    SCENARIOS[(_a, "untouched")] = ("untouched", "all", False)
SCENARIOS[("km-by-hand", "hardcoded")] = (hardcoded, {"km-table-hidden", "s20-hidden", "which-mistake-visible",
                                                    "which-mistake-hidden", "interpret-curve-hidden"}, True)
SCENARIOS[("km-by-hand", "swaps-mistakes")] = (swaps_mistakes, {"which-mistake-hidden"}, True)
# (true_statements reads the median with median_survival: it is lost with it)
SCENARIOS[("km-by-hand", "raises")] = (raises, {"median-visible", "median-hidden", "interpret-curve-visible",
                                              "interpret-curve-hidden"}, True)
SCENARIOS[("km-by-hand", "loops")] = (loops, {"greenwood-visible", "greenwood-hidden"}, True)
SCENARIOS[("km-by-hand", "deleted")] = (deleted, set(), True)
SCENARIOS[("logrank-and-hr", "no-tie-correction")] = (
    no_tie_correction, {"lr-table-visible", "lr-table-hidden", "hr-visible", "hr-hidden", "stratified-visible"}, True)
SCENARIOS[("interim-decision", "ignores-alpha")] = (ignores_alpha, {"spending-hidden"}, True)
SCENARIOS[("interim-decision", "naive-second-look")] = (naive_second_look, {"cp-mistake-hidden", "second-look-hidden"}, True)
SCENARIOS[("looking-early", "p-below-alpha")] = (p_below_alpha, {"decide-hidden"}, True)
SCENARIOS[("after-the-stop", "always-away")] = (always_away, {"interpret-hidden"}, True)
SCENARIOS[("looking-early", "tamper-numpy")] = (tampers_numpy("spent"), hidden_ids("looking-early"), True)
# what wrapping teachkit still scores on the visible tests (checked by hand against the
# same submissions graded before the by-hand runner existed: everything but these)
WRAPPER_VISIBLE_FAILS = {"km-by-hand": set(), "logrank-and-hr": set(), "risk-groups": set(),
                         "looking-early": set(), "interim-decision": set(), "planning-events": set(),
                         "after-the-stop": set()}
for _a in WRAPPERS:
    if _a in ASSIGNMENTS:
        SCENARIOS[(_a, "wraps-teachkit")] = (wraps_teachkit(_a), by_hand_ids(_a) | WRAPPER_VISIBLE_FAILS[_a], True)
FLAGGED = {("looking-early", "tamper-numpy")}
BY_HAND_FLAGGED = {(a, "wraps-teachkit") for a in WRAPPERS if a in ASSIGNMENTS}


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course with every assignment generated and every fake student graded."""
    root = tmp_path_factory.mktemp("course") / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns(
        "gradebook.db", "release", "submitted", "autograded", "feedback", ".ipynb_checkpoints",
        "__pycache__", "*.csv", ".jupyter"))
    for a in ASSIGNMENTS:
        nbgrader(root, "generate_assignment", a, "--create", "--force")
    for (a, student), (make, _, _) in SCENARIOS.items():
        for src in source_notebooks(a, root):
            release = nbformat.read(root / "release" / a / src.name, as_version=4)
            if make == "untouched":
                nb = release
            else:
                nb = solved(release, nbformat.read(src, as_version=4))
                if make is not None:
                    nb = make(nb)
            out = root / "submitted" / student / a / src.name
            out.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, out)
            (out.parent / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC\n")
    for a in ASSIGNMENTS:
        nbgrader(root, "autograde", a, "--create", "--force")
        nbgrader(root, "generate_feedback", a, "--force")
    nbgrader(root, "export")
    return root


# --------------------------------------------------------------------------- tests

def test_course_has_the_seven_assignments():
    assert set(REQUIRED) <= set(ASSIGNMENTS)
    for a in ASSIGNMENTS:
        assert source_notebooks(a), f"{a} has no notebook"


#: The assignments in lesson order (issue 30, item 4): numbered as their lessons.
LESSON_ORDER = ("km-by-hand", "logrank-and-hr", "risk-groups", "planning-events", "looking-early",
                "interim-decision", "after-the-stop")


def _points(assignment):
    auto = written = 0
    for path in source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = nbg(cell)
            if meta.get("grade"):
                if cell.cell_type == "code":
                    auto += meta["points"]
                else:
                    written += meta["points"]
    return auto, written


def test_assignments_are_numbered_and_listed_in_lesson_order_with_their_points():
    """Each notebook's title is 'Assignment N' in lesson order and states its points as the
    metadata gives them; the course guide's table and the README list all seven, in that order,
    with the same points."""
    assert set(LESSON_ORDER) == set(ASSIGNMENTS)
    guide = (COURSE / "README.md").read_text()
    readme = (COURSE.parent / "README.md").read_text()
    rows = [line for line in guide.splitlines() if re.match(r"\| \d \| `", line)]
    assert [re.match(r"\| \d \| `([^`]+)`", r).group(1) for r in rows] == list(LESSON_ORDER)
    for number, assignment in enumerate(LESSON_ORDER, start=1):
        auto, written = _points(assignment)
        (path,) = source_notebooks(assignment)
        first = nbformat.read(path, as_version=4).cells[0].source
        assert first.startswith(f"# Assignment {number}: "), (assignment, first[:40])
        assert f"{auto + written} points ({auto} automatic, {written} written)" in first, assignment
        row = rows[number - 1]
        assert row.startswith(f"| {number} | `{assignment}` | {number:02d} ") and row.endswith(f"| {auto} + {written} |"), row
        assert f"{number} `{assignment}` ({'lesson ' if number == 1 else ''}{number:02d}; {auto} + {written})" in \
            " ".join(readme.split()), assignment


def test_config_root_is_absolute_and_settings_are_loaded():
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()
    assert Path(cfg.CourseDirectory.root) == COURSE.resolve()
    assert Path(cfg.CourseDirectory.root).is_absolute()
    assert cfg.CourseDirectory.db_url == f"sqlite:///{COURSE.resolve() / 'gradebook.db'}"
    assert cfg.ClearSolutions.code_stub["python"] == "\n".join(CODE_STUB)
    assert 0 < cfg.Execute.timeout <= 60
    assert cfg.Execute.interrupt_on_timeout is True
    assert cfg.OverwriteCells.add_missing_cells is True


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_metadata_is_sound(assignment):
    auto, manual = points(assignment)
    assert auto and manual, "each assignment has autograded tests and a written answer"
    intro = nbformat.read(source_notebooks(assignment)[0], as_version=4).cells[0].source
    stated = re.search(r"(\d+) points \((\d+) automatic, (\d+) written\)", intro)
    assert stated, "the first cell tells students how many points there are"
    assert [float(x) for x in stated.groups()] == [sum(auto.values()) + sum(manual.values()),
                                                  sum(auto.values()), sum(manual.values())]
    for path in source_notebooks(assignment):
        nb = nbformat.read(path, as_version=4)
        ids = [nbg(c)["grade_id"] for c in nb.cells if nbg(c)]
        assert len(ids) == len(set(ids)), "grade ids must be unique"
        n_hidden = sum(BEGIN_HID in c.source for c in nb.cells)
        assert n_hidden >= 2, "hidden tests check the same quantities on other data"
        for cell in nb.cells:
            meta = nbg(cell)
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, "commit outputs stripped"
            if meta.get("grade") and not meta.get("solution"):
                assert meta.get("locked"), f"test cell {meta['grade_id']} must be read-only"
                assert BEGIN_SOL not in cell.source
            if meta.get("solution"):
                assert BEGIN_SOL in cell.source, f"{meta['grade_id']}: solution cell without region"
        # nbgrader re-inserts a deleted test cell after the previous graded or solution cell;
        # make sure that previous cell exists for every test cell.
        previous = None
        for cell in nb.cells:
            meta = nbg(cell)
            if meta.get("grade") and not meta.get("solution"):
                assert previous in ("grade", "solution"), f"{meta['grade_id']} follows a {previous} cell"
            if meta.get("grade") or meta.get("solution"):
                previous = "grade" if meta.get("grade") and not meta.get("solution") else "solution"
            elif meta.get("locked"):
                previous = "locked"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_written_answer_has_a_rubric(assignment):
    """course/rubrics/<assignment>.md has one section per written answer, with its points, a
    points-per-element table adding up to them, and common wrong answers."""
    text = (COURSE / "rubrics" / f"{assignment}.md").read_text()
    _, manual = points(assignment)
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    by_id = {re.match(r"`([^`]+)`", sec).group(1): sec for sec in sections}
    assert set(by_id) == {gid for (_, gid) in manual}, "one rubric section per written answer"
    for (_, gid), pts in manual.items():
        sec = by_id[gid]
        assert re.match(rf"`{gid}` \({pts:g} points?\)", sec), f"{gid}: heading must give {pts:g} points"
        rows = re.findall(r"^\|[^|\n]+\|\s*([\d.]+)(?: \+ ([\d.]+))?", sec, flags=re.M)
        assert sum(float(a) + float(b or 0) for a, b in rows) == pts, f"{gid}: element points do not add up"
        assert "Common wrong answers" in sec


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_solution_and_no_hidden_test(course, assignment):
    for src in source_notebooks(assignment, course):
        rel_path = course / "release" / assignment / src.name
        source, release = nbformat.read(src, as_version=4), nbformat.read(rel_path, as_version=4)
        assert len(source.cells) == len(release.cells)
        text = rel_path.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert marker not in text
        secret = []
        for s_cell, r_cell in zip(source.cells, release.cells):
            stub = CODE_STUB if s_cell.cell_type == "code" else TEXT_STUB
            expected = strip_markers(strip_markers(s_cell.source, BEGIN_SOL, END_SOL, stub),
                                     BEGIN_HID, END_HID, None)
            assert r_cell.source == expected, f"release cell differs:\n{r_cell.source}"
            secret += regions(s_cell.source, BEGIN_SOL, END_SOL)
            secret += regions(s_cell.source, BEGIN_HID, END_HID)
        public = "\n".join(strip_markers(strip_markers(c.source, BEGIN_SOL, END_SOL, []),
                                         BEGIN_HID, END_HID, None) for c in source.cells)
        released = "\n".join(c.source for c in release.cells)
        leaked = [line for line in secret
                  if len(line.strip()) > 12 and line.strip() not in public and line.strip() in released]
        assert not leaked, f"solution or hidden test lines in the release: {leaked}"
    released_files = [p for p in (course / "release").rglob("*") if p.is_file()]
    assert not [p for p in released_files if p.suffix == ".md" or "rubric" in p.name.lower()], \
        "a rubric was released"
    rubric_lines = [line for line in (course / "rubrics" / f"{assignment}.md").read_text().splitlines()
                    if len(line) > 40]
    for path in released_files:
        text = path.read_text(errors="replace")
        assert not [line for line in rubric_lines if line in text], f"rubric text in {path.name}"


def expected_scores(assignment, student):
    make, zero, answered = SCENARIOS[(assignment, student)]
    auto, manual = points(assignment)
    expected = {}
    for key, pts in auto.items():
        expected[key] = 0.0 if (zero == "all" or key[1] in zero) else pts
    for key in manual:
        expected[key] = 0.0  # written answers wait for the instructor (or score 0 untouched)
    return expected, {key: answered for key in manual}


@pytest.mark.slow
@pytest.mark.parametrize("assignment,student", sorted(SCENARIOS))
def test_gradebook_scores(course, assignment, student):
    from nbgrader.api import Gradebook

    expected, needs_manual = expected_scores(assignment, student)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        got = {}
        for key in expected:
            grade = gb.find_grade(key[1], key[0], assignment, student)
            got[key] = grade.score
            if key in needs_manual:
                assert grade.needs_manual_grade is needs_manual[key], key
        assert got == expected
        submission = gb.find_submission(assignment, student)
        assert submission.score == sum(expected.values())
        assert submission.max_score == sum(sum(p.values()) for p in points(assignment))
        if student == "solution":
            # the instructor grades the written answers (as the formgrader does):
            # the solution then reaches full marks
            _, manual = points(assignment)
            grades = [gb.find_grade(g, nb_id, assignment, student) for (nb_id, g) in manual]
            for grade, pts in zip(grades, manual.values()):
                grade.manual_score = pts
                grade.needs_manual_grade = False
            gb.db.commit()
            gb.db.expire_all()
            graded = gb.find_submission(assignment, student)
            assert graded.score == graded.max_score == submission.max_score
            assert not graded.needs_manual_grade
            for grade in grades:  # leave the gradebook as autograde left it
                grade.manual_score = None
                grade.needs_manual_grade = True
            gb.db.commit()


@pytest.mark.slow
def test_infinite_loop_was_interrupted_and_the_rest_graded(course):
    nb = nbformat.read(course / "autograded" / "loops" / "km-by-hand" / "km-by-hand.ipynb", as_version=4)
    cell = next(c for c in nb.cells if nbg(c).get("grade_id") == "greenwood")
    assert any(o.output_type == "error" for o in cell.outputs), "the loop should end in an error"
    later = next(c for c in nb.cells if nbg(c).get("grade_id") == "s20-test")
    assert not any(o.output_type == "error" for o in later.outputs)


@pytest.mark.slow
def test_deleted_test_cell_was_restored(course):
    path = course / "autograded" / "deleted" / "km-by-hand" / "km-by-hand.ipynb"
    ids = [nbg(c).get("grade_id") for c in nbformat.read(path, as_version=4).cells]
    assert ids.count("km-table-visible") == 1
    assert ids.index("km-table-visible") == ids.index("km-table") + 1


@pytest.mark.slow
def test_feedback_and_export(course):
    _, manual = points("km-by-hand")
    for (a, student) in SCENARIOS:
        for src in source_notebooks(a, course):
            html = (course / "feedback" / student / a / f"{src.stem}.html").read_text()
            assert "Score:" in html or "score" in html.lower()
            assert "BEGIN HIDDEN TESTS" not in html and "zlib.crc32" not in html, "hidden tests leak into feedback"
    with open(course / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_key = {(r["assignment"], r["student_id"]): r for r in rows}
    for (a, student) in SCENARIOS:
        expected, _ = expected_scores(a, student)
        row = by_key[(a, student)]
        assert float(row["raw_score"]) == sum(expected.values())
        assert float(row["max_score"]) == sum(sum(p.values()) for p in points(a))


@pytest.mark.slow
def test_flags_column_names_tampering_and_only_tampering(course):
    with open(course / "grades.csv", newline="") as fh:
        by_key = {(r["assignment"], r["student_id"]): r["flags"] for r in csv.DictReader(fh)}
    for key in SCENARIOS:
        if key in FLAGGED:
            assert "np.allclose" in by_key[key] and "np.isclose" in by_key[key], by_key[key]
        elif key in BY_HAND_FLAGGED:
            # every by-hand hidden test is named, with the teachkit routine it called
            for gid in by_hand_ids(key[0]):
                assert f"`{gid}` (by hand) calls teachkit." in by_key[key], (gid, by_key[key])
        else:
            assert by_key[key] == "", f"{key} flagged: {by_key[key]}"
    for a, student in FLAGGED:
        html = (course / "feedback" / student / a / f"{a}.html").read_text()
        assert "TamperingFlagged" in html and "BEGIN HIDDEN TESTS" not in html


def test_the_proportional_hazards_reference_agrees_with_lifelines():
    """logrank-and-hr's Part 6 grades against a Grambsch-Therneau test written in its visible
    test cell (``_zph``); here that function is checked against lifelines'
    proportional_hazard_test (time_transform="identity"), on the synthetic cohort and on a
    trial whose hazard ratio wanes, where the verdicts differ."""
    pd = pytest.importorskip("pandas")
    lifelines = pytest.importorskip("lifelines")
    from lifelines.statistics import proportional_hazard_test
    import math
    import numpy as np
    import teachkit as tk

    (path,) = source_notebooks("logrank-and-hr")
    cell = next(c for c in nbformat.read(path, as_version=4).cells if nbg(c).get("grade_id") == "ph-check-visible")
    source = cell.source[cell.source.index("def _zph"):cell.source.index("got = ph_check")]
    space = {"np": np, "math": math, "tk": tk}
    exec(source, space)
    cohort = tk.cohort.synthetic_cohort()
    rng = np.random.default_rng(3)
    gr = (rng.uniform(size=300) < 0.5).astype(float)
    early = rng.exponential(1 / np.where(gr == 1, 0.25, 1.0))
    waning = np.where(early < 1, early, 1 + rng.exponential(1 / np.where(gr == 1, 1.5, 1.0)))
    cens = rng.uniform(0.5, 4, 300)
    cases = [(np.asarray(cohort.dfs_time, float), np.asarray(cohort.dfs_event, bool),
              (np.asarray(cohort.arm) == "blinatumomab").astype(float)),
             (np.minimum(waning, cens), waning <= cens, gr)]
    ps = []
    for tt, ee, xx in cases:
        _, _, stat, p = space["_zph"](tt, ee, xx)
        df = pd.DataFrame({"T": tt, "E": ee.astype(int), "x": xx})
        cph = lifelines.CoxPHFitter().fit(df, "T", "E")
        ref = proportional_hazard_test(cph, df, time_transform="identity")
        assert stat == pytest.approx(float(np.ravel(ref.test_statistic)[0]), rel=2e-3)
        ps.append(p)
    assert ps[0] > 0.05 > ps[1], ps


#: What a graded code part tests (issue 30, item 1), in each test cell's metadata
#: ``teachkit: {"tests": kind}``: transcription (a formula the notebook prints or the lesson
#: gives, computed) or one of the kinds of understanding.
UNDERSTANDING = ("predict", "interpret", "decide", "find the error")


def understanding_points(assignment):
    """(automatic points, points that test understanding, {kind: points})."""
    auto = understood = 0
    kinds = {}
    for path in source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = nbg(cell)
            if not meta.get("grade") or cell.cell_type != "code":
                continue
            kind = cell.metadata.get("teachkit", {}).get("tests")
            assert kind in ("transcription",) + UNDERSTANDING, (
                f"{assignment}: {meta['grade_id']} says what it tests (metadata teachkit.tests): {kind!r}")
            auto += meta["points"]
            kinds[kind] = kinds.get(kind, 0) + meta["points"]
            understood += meta["points"] if kind in UNDERSTANDING else 0
    return auto, understood, kinds


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_at_least_half_of_the_automatic_points_test_understanding(assignment):
    """Every graded code cell says what it tests; in every assignment at least half the
    automatic points are for predicting, interpreting, deciding or finding an error, not for
    computing a printed formula; a part's visible and hidden tests are of one kind."""
    auto, understood, kinds = understanding_points(assignment)
    assert 2 * understood >= auto, (assignment, kinds)
    by_part = {}
    for path in source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = nbg(cell)
            if meta.get("grade") and cell.cell_type == "code":
                part = re.sub(r"-(visible|hidden|test)$", "", meta["grade_id"])
                by_part.setdefault(part, set()).add(cell.metadata["teachkit"]["tests"])
    assert all(len(k) == 1 for k in by_part.values()), by_part
