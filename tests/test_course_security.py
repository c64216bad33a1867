"""Hostile submissions against the real nbgrader CLI: each threat of course/README.md,
"Threat model", played by a fake student, with the outcome the guide promises.

* tampering with what the tests use (numpy, numpy.testing, math, teachkit, builtins,
  IPython's display machinery) -> 0 on every hidden test AND flagged (feedback line,
  gradebook comment, ``flags`` column of grades.csv);
* lying return values (objects whose ``==`` is always true) -> 0 on the hidden tests;
* editing locked cells -> restored, graded on the instructor's tests;
* reading the course sources, the gradebook, another submission or its own graded notebook
  (hidden tests), writing outside its folder, the network, a fork bomb, a 20 GB allocation
  -> denied / bounded, and the rest of the notebook graded correctly.

The sandbox tests need root (or user namespaces) and bubblewrap: they skip, saying why,
elsewhere; CI runs them as root.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("course_helpers", HERE / "test_course.py")
tc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tc)

COURSE = tc.COURSE
ASSIGNMENT = "km-by-hand"
HIDDEN = {"km-table-hidden", "greenwood-hidden", "median-hidden"}
SANDBOX = tc.sandbox_available()
needs_sandbox = pytest.mark.skipif(
    not SANDBOX, reason="the grading sandbox needs bubblewrap and root or user namespaces "
                        "(apt-get install bubblewrap; CI runs as root)")
pytestmark = [pytest.mark.skipif(not tc.NBGRADER.exists(), reason="nbgrader is not installed"),
              pytest.mark.slow, pytest.mark.timeout(3600)]


# --------------------------------------------------------------------------- hostile cells

def _prepend(nb, grade_id, code):
    cell = next(c for c in nb.cells if tc.nbg(c).get("grade_id") == grade_id)
    cell.source = code + "\n" + cell.source
    return nb


def _insert_after(nb, grade_id, code):
    i = next(i for i, c in enumerate(nb.cells) if tc.nbg(c).get("grade_id") == grade_id)
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(code))
    return nb


def tamper_numpy(nb):
    """The issue's attack: correct answers, and numpy's comparisons always say yes."""
    return _prepend(nb, "km-table", "np.allclose = lambda *a, **k: True\n"
                                    "np.array_equal = lambda *a, **k: True\n"
                                    "np.isclose = lambda *a, **k: np.True_\n"
                                    "np.testing.assert_allclose = lambda *a, **k: None\n")


def tamper_wrong_answers(nb):
    """Wrong answers everywhere plus comparisons patched through exec (harder to see)."""
    nb = tc.replace_cell(nb, "km-table", '''
import base64
exec(base64.b64decode("bnAuYWxsY2xvc2UgPSBsYW1iZGEgKmEsICoqazogVHJ1ZQ==").decode())
def km_table(time, event):
    z = np.zeros(3)
    return z, z, z, z
t, n, d, s = km_table(time, event)
''')
    return tc.replace_cell(nb, "median", "def median_survival(t, s):\n    return 0.0\n")


def tamper_builtins_math_teachkit(nb):
    return _prepend(nb, "km-table", "import builtins, math\n"
                                    "builtins.callable = lambda f: True\n"
                                    "math.isclose = lambda *a, **k: True\n"
                                    "tk.survival.kaplan_meier = tk.survival.kaplan_meier\n"
                                    "AssertionError = Warning\n")


def tamper_ipython(nb):
    """Silence every error display of the kernel (tests would never show a failure)."""
    return _prepend(nb, "km-table", "ip = get_ipython()\n"
                                    "ip.showtraceback = lambda *a, **k: None\n"
                                    "ip.events.register('post_run_cell', lambda r: None)\n")


def liar_values(nb):
    """Return objects that equal everything: no import, no patch; the hidden tests compare
    plain numbers in the grader, so this scores 0 there."""
    return tc.replace_cell(nb, "km-table", '''
class Anything(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)
    def __array_ufunc__(self, *args, **kwargs):
        return np.True_
def km_table(time, event):
    a = np.zeros(1).view(Anything)
    return a, a, a, a
t, n, d, s = km_table(time, event)
''')


def edits_locked(nb):
    """Edit the setup data and empty the tests: nbgrader restores them from the gradebook."""
    for cell in nb.cells:
        meta = tc.nbg(cell)
        if meta.get("locked") and cell.cell_type == "code":
            cell.source = "pass"
    return nb


TAMPERED = {"tamper-numpy": tamper_numpy, "tamper-wrong-answers": tamper_wrong_answers,
            "tamper-builtins": tamper_builtins_math_teachkit, "tamper-ipython": tamper_ipython}
HONEST = {"liar-values": (liar_values, {"km-table-visible", "km-table-hidden", "s20-test"}),
          "edits-locked": (edits_locked, set()),
          "hardcoded": (tc.hardcoded, {"km-table-hidden"})}


def escapes(root: Path, port: int):
    """One extra cell that tries every escape and prints what happened (the kernel's output
    is kept in the graded notebook); the answers are otherwise correct."""
    targets = {
        "course source": str(root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        "gradebook": str(root / "gradebook.db"),
        "config": str(root / "nbgrader_config.py"),
        "other student": str(root / "submitted" / "solution" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        "own graded notebook": f"{ASSIGNMENT}.ipynb",
        "relative course source": f"../../../source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
    }
    writes = {"course root": str(root / "pwned.txt"), "usr": "/usr/pwned.txt",
              "parent": "../pwned.txt"}

    def make(nb):
        code = f'''
import os, socket, time as _time
for label, path in {targets!r}.items():
    try:
        with open(path, "rb") as fh:
            fh.read(10)
        print("ESCAPE read", label)
    except OSError as exc:
        print("DENIED read", label, type(exc).__name__)
for label, path in {writes!r}.items():
    try:
        with open(path, "w") as fh:
            fh.write("x")
        print("ESCAPE write", label)
    except OSError as exc:
        print("DENIED write", label, type(exc).__name__)
try:
    s = socket.create_connection(("127.0.0.1", {port}), timeout=3)
    print("ESCAPE socket")
except OSError as exc:
    print("DENIED socket", type(exc).__name__)
pids, err = [], None
try:
    for _ in range(5000):
        pid = os.fork()
        if pid == 0:
            _time.sleep(30)
            os._exit(0)
        pids.append(pid)
except OSError as exc:
    err = exc
for pid in pids:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print("FORKS", len(pids), type(err).__name__)
try:
    big = np.ones(20 * 1024**3 // 8)
    print("ESCAPE memory")
except MemoryError:
    print("DENIED memory MemoryError")
'''
        return _insert_after(nb, "km-setup", code)
    return make


# --------------------------------------------------------------------------- the course

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("sealed") / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns(
        "gradebook.db", "release", "submitted", "autograded", "feedback", ".ipynb_checkpoints",
        "__pycache__", "*.csv", ".jupyter"))
    tc.nbgrader(root, "generate_assignment", ASSIGNMENT, "--create", "--force")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    makers = {"solution": None, **TAMPERED, **{k: v[0] for k, v in HONEST.items()}}
    if SANDBOX:
        makers["escapes"] = escapes(root, port)
    src = tc.source_notebooks(ASSIGNMENT, root)[0]
    release = nbformat.read(root / "release" / ASSIGNMENT / src.name, as_version=4)
    for student, make in makers.items():
        nb = tc.solved(release, nbformat.read(src, as_version=4))
        if make is not None:
            nb = make(nb)
        out = root / "submitted" / student / ASSIGNMENT / src.name
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
    tc.nbgrader(root, "autograde", ASSIGNMENT, "--create", "--force", timeout=1800)
    tc.nbgrader(root, "generate_feedback", ASSIGNMENT, "--force")
    tc.nbgrader(root, "export")
    try:
        listener.accept()
        accepted = True
    except BlockingIOError:
        accepted = False
    listener.close()
    return root, accepted


def scores(root, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        sub = gb.find_submission(ASSIGNMENT, student)
        return {g.name: g.score for nb in sub.notebooks for g in nb.grades}


def flags(root):
    with open(root / "grades.csv", newline="") as fh:
        return {r["student_id"]: r["flags"] for r in csv.DictReader(fh) if r["assignment"] == ASSIGNMENT}


AUTO, _ = tc.points(ASSIGNMENT)


def test_honest_solution_full_marks_and_no_flag(graded):
    root, _ = graded
    got = scores(root, "solution")
    assert all(got[gid] == pts for (_, gid), pts in AUTO.items())
    assert flags(root)["solution"] == ""


@pytest.mark.parametrize("student", sorted(TAMPERED))
def test_tampering_scores_zero_on_hidden_tests_and_is_flagged(graded, student):
    root, _ = graded
    got = scores(root, student)
    assert {gid: got[gid] for gid in HIDDEN} == {gid: 0.0 for gid in HIDDEN}
    assert flags(root)[student], "the export must show the flag"
    html = (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "TamperingFlagged" in html and "AUTOGRADER FLAG" in html
    assert "BEGIN HIDDEN TESTS" not in html


@pytest.mark.parametrize("student", sorted(HONEST))
def test_other_hostile_submissions(graded, student):
    root, _ = graded
    zero = HONEST[student][1]
    got = scores(root, student)
    expected = {gid: (0.0 if gid in zero else pts) for (_, gid), pts in AUTO.items()}
    assert {gid: got[gid] for gid in expected} == expected
    assert flags(root)[student] == ""


@needs_sandbox
def test_escapes_are_denied_and_the_rest_is_graded(graded):
    root, accepted = graded
    nb = nbformat.read(root / "autograded" / "escapes" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream")
    assert "ESCAPE" not in text, text
    for label in ("course source", "gradebook", "config", "other student", "own graded notebook",
                  "relative course source"):
        assert f"DENIED read {label}" in text
    for label in ("course root", "usr", "parent"):
        assert f"DENIED write {label}" in text
    assert "DENIED socket" in text and not accepted
    forks = next(line for line in text.splitlines() if line.startswith("FORKS"))
    n_forks = int(forks.split()[1])
    assert n_forks < 100 and forks.endswith("BlockingIOError"), forks
    assert "DENIED memory MemoryError" in text
    assert not (root / "pwned.txt").exists() and not (root / "autograded" / "escapes" / "pwned.txt").exists()
    got = scores(root, "escapes")
    assert all(got[gid] == pts for (_, gid), pts in AUTO.items()), got


@needs_sandbox
def test_runner_process_cannot_read_the_course(tmp_path):
    """The fresh interpreter that answers the hidden tests is sandboxed too."""
    sys.path.insert(0, str(COURSE / "grading"))
    try:
        import sealed
    finally:
        sys.path.remove(str(COURSE / "grading"))
    folder = tmp_path / "autograded" / "ada" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text("hidden tests live here")
    (folder / "data.csv").write_text("1,2\n")
    secret = tmp_path / "gradebook.db"
    secret.write_text("secret")
    cells = [{"kind": "student", "source": f'''
import os, socket
def probe():
    out = {{}}
    for label, path in [("gradebook", {str(secret)!r}), ("notebook", "{ASSIGNMENT}.ipynb"),
                        ("data", "data.csv"), ("passwd-shadow", "/etc/shadow")]:
        try:
            open(path).read()
            out[label] = "read"
        except OSError as exc:
            out[label] = type(exc).__name__
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=2)
        out["socket"] = "connected"
    except OSError as exc:
        out["socket"] = type(exc).__name__
    out["cwd"] = os.getcwd()
    out["uid"] = os.getuid()
    return out
'''}]
    run = sealed.Runner(cells, folder, timeout=30, protect_builtins=[])
    try:
        got = run.lookup("probe")()
    finally:
        run.close()
    assert got["gradebook"] in ("FileNotFoundError", "PermissionError")
    assert got["notebook"] == "FileNotFoundError"  # the copy has no notebook (hidden tests)
    assert got["data"] == "read"                    # but the student's own files
    assert got["passwd-shadow"] in ("FileNotFoundError", "PermissionError")
    assert got["socket"] != "connected"
    assert got["cwd"] == str(folder)                # same path: the per-student seed is unchanged
    if os.geteuid() == 0:
        assert got["uid"] == 65534


def test_source_scan_finds_tampering_and_leaves_honest_code_alone():
    sys.path.insert(0, str(COURSE / "grading"))
    try:
        import sealed
    finally:
        sys.path.remove(str(COURSE / "grading"))
    modules = {"np": "numpy", "tk": "teachkit", "math": "math"}
    protected = {"np", "tk", "math", "time", "event", "len", "callable"}
    honest = ["import numpy as np\nimport math\ndef f(x):\n    y = np.asarray(x)\n"
              "    out = {}\n    out['a'] = y.sum()\n    return out\n%timeit f([1])\n"]
    assert sealed.scan_source(honest, protected, modules) == []
    for src, reason in [("np.allclose = lambda *a: True", "assigns np.allclose"),
                        ("import numpy.testing as npt\nnpt.assert_allclose = print", "assigns npt.assert_allclose"),
                        ("setattr(np, 'isclose', None)", "uses setattr"),
                        ("import builtins", "imports builtins"),
                        ("len = lambda x: 3", "rebinds `len`, which the tests use"),
                        ("time[0] = 99", "assigns time[0]"),
                        ("get_ipython().showtraceback = None", "uses get_ipython (the kernel's machinery)"),
                        ("x = ().__class__.__bases__", "uses the attribute __class__"),
                        ("import sys\nsys.modules['numpy'] = None", "uses sys.modules"),
                        ("import fakenp as np", "rebinds `np` to fakenp"),
                        ("def callable(x):\n    return True", "rebinds `callable`, which the tests use")]:
        assert reason in sealed.scan_source([src], protected, modules), src
