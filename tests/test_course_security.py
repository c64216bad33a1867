"""Hostile submissions against the real nbgrader CLI and API: each threat of course/README.md,
"Threat model", played by a fake student, with the outcome the guide promises. Every
reproduction of issue 29 (the grades sealed on every path) that belongs to the grading is here,
graded in ONE course and gradebook (one `nbgrader autograde` run for the whole class, its
memory measured), plus a few runs where the route itself is the point (the formgrader's
`NbGraderAPI.autograde`, a machine without the sandbox, a time budget, `make autograde`).

* pre-empting the verdict (every test cell starting with an `execute_result`: an input
  transformer, unflagged and flagged; a replaced kernel launcher; partial credit above the
  points) -> no point, flagged;
* tampering with what the tests use -> 0 on every hidden test AND flagged;
* lying return values, hard-coded answers, edited locked cells -> graded on the tests;
* escapes (course, gradebook, other students, network, fork bomb, memory, tmpfs, /etc/passwd),
  links planted for the next kernel's launcher, modules next to the notebook, the hidden tests
  read from the kernel's history -> denied, and the rest graded; the gradebook intact;
* crafted notebooks (90 MB, deep JSON, too many cells, unknown/duplicate grade ids, nonsense on
  the runner's pipe) and an output flood -> graded 0 with a flag (or a note), the run goes on,
  nbgrader's memory bounded;
* the formgrader's route (NbGraderAPI.autograde, as the Jupyter server calls it) -> the same
  sandbox: a hostile submission reads and writes nothing of the course.

The sandbox tests need root (or user namespaces) and bubblewrap: they skip, saying why,
elsewhere; CI runs them as root.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("course_helpers", HERE / "test_course.py")
tc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tc)

ROOT = tc.ROOT
COURSE = tc.COURSE
ASSIGNMENT = "km-by-hand"
HIDDEN = {"km-table-hidden", "greenwood-hidden", "median-hidden", "s20-hidden", "which-mistake-hidden",
          "interpret-curve-hidden"}
SANDBOX = tc.sandbox_available()
needs_sandbox = pytest.mark.skipif(
    not SANDBOX, reason="the grading sandbox needs bubblewrap and root or user namespaces "
                        "(apt-get install bubblewrap; CI runs as root)")
pytestmark = [pytest.mark.skipif(not tc.NBGRADER.exists(), reason="nbgrader is not installed"),
              pytest.mark.slow, pytest.mark.timeout(3600)]
# lines of km-by-hand's hidden tests (never in an output, a feedback or the kernel's history)
HIDDEN_LINES = ["zlib.crc32", "### BY HAND", "wrong numbers at risk on other data"]


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
# (which_mistake draws its candidate curves with km_table, true_statements reads its curve: a
# km_table that lies loses them too)
HONEST = {"liar-values": (liar_values, {"km-table-visible", "km-table-hidden", "s20-test", "s20-hidden",
                                        "which-mistake-visible", "which-mistake-hidden",
                                        "interpret-curve-hidden"}),
          "edits-locked": (edits_locked, set()),
          "hardcoded": (tc.hardcoded, {"km-table-hidden", "s20-hidden", "which-mistake-visible",
                                       "which-mistake-hidden", "interpret-curve-hidden"})}


# --------------------------------------------------------------------------- issue 29

# One extra cell that makes every later cell start with an execute_result ('ok' counts as
# full marks for nbgrader): before issue 29, 10/10 on an untouched notebook, no flag.
HIJACK = """import os
_ip = os.sys.modules["IPython"].get_ipython()
_ip.input_transformers_post.append(lambda lines: ["os.sys.displayhook('ok')\\n"] + lines)
"""
# The obvious variant the source scan flags (it scored full marks all the same).
HIJACK_FLAGGED = ('get_ipython().input_transformers_post.append('
                  'lambda lines: ["get_ipython().displayhook(\'ok\')\\n"] + lines)')
# Partial credit above the cell's points: nbgrader raised, the submission was dropped.
OVERMAX = ('get_ipython().input_transformers_post.append('
           'lambda lines: ["get_ipython().displayhook(100)\\n"] + lines)')
# A kernel launcher beside an untouched notebook (`python -m ipykernel_launcher` ran it).
LAUNCHER = """import os, sys
cwd = os.getcwd()
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != cwd]
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
app.initialize()
app.shell.input_transformers_post.append(lambda lines: ["import sys as _s; _s.displayhook('ok')\\n"] + lines)
app.start()
"""
SHADOWS = {"numpy.py": "raise SystemExit('shadowed numpy')\n",
           "teachkit.py": "raise SystemExit('shadowed teachkit')\n",
           "sitecustomize.py": "import os; os._exit(3)\n",
           "ipykernel_launcher.py": "import os; os._exit(3)\n"}
FLOOD = """chunk = "x" * (1 << 20)
for _ in range(400):
    print(chunk, flush=True)          # 400 messages of 1 MB
print("y" * (40 << 20), flush=True)   # one message of 40 MB
"""


def with_cell(code):
    return lambda nb: _insert_after(nb, "km-setup", code)


def untouched_with_cell(code):
    """("untouched", maker): applied to the release as it was handed out."""
    return ("untouched", lambda nb: _insert_after(nb, "km-setup", code))


def plants_links(root: Path):
    """Graded first ('a-...'): plants links named like connection files and the gradebook
    wherever its kernel can reach (its connection file's folder, its sockets' folder); before
    issue 29 the next student's root launcher wrote its connection file through such a link
    into gradebook.db and chowned it to nobody: every grade lost."""
    gradebook = str(root / "gradebook.db")

    def make(nb):
        code = f"""
import json, os
cmd = open("/proc/self/cmdline", "rb").read().split(b"\\0")
conn = next((a.decode() for a in cmd if a.endswith(b".json")), "")
folders = [os.path.dirname(conn)] if conn else []
try:
    folders.append(os.path.dirname(json.load(open(conn))["ip"]))
except Exception as exc:
    print("NO-IP", type(exc).__name__)
planted = 0
for folder in folders:
    for n in list(range(1, 400)) + [os.getpid()]:
        for name in (f"connection-{{n}}.json", f"kernel-{{n}}.json", f"k-{{n}}"):
            try:
                os.symlink({gradebook!r}, os.path.join(folder, name + ".evil"))
                planted += 1
            except OSError:
                pass
    try:
        with open(os.path.join(folder, "filler"), "wb") as fh:
            fh.write(b"x" * 1024)
        planted += 1
    except OSError:
        pass
print("PLANTED", planted, "IN", folders)
"""
        return _insert_after(nb, "km-setup", code)
    return make


def leaks_hidden(nb):
    """Prints the kernel's input history at the end and the calling code from a function:
    before issue 29 the kernel ran the hidden tests, so their source was in `In`."""
    nb.cells.append(nbformat.v4.new_code_cell("print(In)\nprint(_ih)\n"))
    return tc.replace_cell(nb, "median", """
import traceback
def median_survival(t, s):
    print("CALLER", traceback.format_stack()[-2])
    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    below = np.flatnonzero(s <= 0.5)
    return t[below[0]] if below.size else np.nan
""")


def wrong_shape(nb):
    """A row for every time, censored ones too: the visible check explains (the instructor's
    message); on hidden data numpy's broadcast error would quote the expected shape."""
    return tc.replace_cell(nb, "km-table", """
def km_table(time, event):
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    t = np.unique(time)
    n = np.array([np.sum(time >= tj) for tj in t])
    d = np.array([np.sum((time == tj) & event) for tj in t])
    return t, n, d, np.cumprod(1.0 - d / n)
t, n, d, s = km_table(time, event)
""")


#: km-by-hand's last answer cell (its tests: "<id>-visible", "<id>-hidden")
LAST_ANSWER = "interpret-curve"


def pipe_junk(payload: str):
    """Writes on every descriptor the runner might answer the grader on, before the last
    answer cell (so only the last test is affected)."""
    def make(nb):
        code = f"""
import os
if "runner.py" in open("/proc/self/cmdline").read():   # the sealed grader's runner only
    for fd in range(3, 12):
        try:
            os.write(fd, {payload!r}.encode() + b"\\n")
        except OSError:
            pass
"""
        i = next(i for i, c in enumerate(nb.cells) if tc.nbg(c).get("grade_id") == LAST_ANSWER)
        nb.cells.insert(i, nbformat.v4.new_code_cell(code))
        return nb
    return make


def sleepy(nb):
    """Every answer cell sleeps just under the (scaled-down) cell limit before answering."""
    for cell in nb.cells:
        if tc.nbg(cell).get("solution") and cell.cell_type == "code":
            cell.source = "import time as _t\n_t.sleep(5.5)\n" + cell.source
    return nb


def api_hostile(root: Path):
    """Graded through NbGraderAPI.autograde (the formgrader's Autograde button): before issue
    29 it ran unsandboxed as the instructor, read the hidden tests and solutions, zeroed
    another student's grades and wrote into the course."""
    targets = {"source": str(root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
               "gradebook": str(root / "gradebook.db"), "config": str(root / "nbgrader_config.py")}
    writes = [str(root / "pwned.txt"), str(root / "source" / ASSIGNMENT / "pwned.txt")]

    def make(nb):
        code = f"""
import os, sqlite3
for label, path in {targets!r}.items():
    try:
        open(path, "rb").read(10)
        print("ESCAPE read", label)
    except OSError as exc:
        print("DENIED read", label, type(exc).__name__)
try:
    con = sqlite3.connect({targets["gradebook"]!r})
    con.execute("update grade set auto_score = 0")
    con.commit()
    print("ESCAPE gradebook write")
except Exception as exc:
    print("DENIED gradebook write", type(exc).__name__)
for path in {writes!r}:
    try:
        open(path, "w").write("x")
        print("ESCAPE write", path)
    except OSError as exc:
        print("DENIED write", type(exc).__name__)
"""
        return _insert_after(nb, "km-setup", code)
    return make


def deep_json(depth):
    def make(nb):
        data = json.loads(nbformat.writes(nb))
        data["cells"][1]["metadata"]["x"] = "DEEP"
        return json.dumps(data).replace('"DEEP"', "[" * depth + "]" * depth)
    return make


def huge(nb):
    nb.cells.append(nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output(
        "stream", name="stdout", text="z" * (90 * 1024**2))]))
    return nb


def many_cells(nb):
    nb.cells += [nbformat.v4.new_code_cell("x = 1") for _ in range(1500)]
    return nb


def unknown_id(nb):
    nb.cells.insert(3, nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {
        "grade": True, "grade_id": "made-up", "points": 5, "solution": False, "locked": False,
        "schema_version": 3}}))
    return nb


def duplicate_id(nb):
    """A copy of a test cell pasted above the answer it tests (Jupyter copies the metadata)."""
    cell = next(c for c in nb.cells if tc.nbg(c).get("grade_id") == "km-table-visible")
    copy = nbformat.from_dict(json.loads(json.dumps(cell)))
    copy["id"] = "pasted-copy"  # Jupyter gives a pasted cell an id of its own
    nb.cells.insert(2, copy)
    return nb


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
for label, folder in (("tmp", "/tmp"), ("cwd", ".")):
    written = 0
    try:
        for i in range(16):   # 16 files of 32 MB: 512 MB if nothing stops it
            with open(os.path.join(folder, f"fill{{i}}.bin"), "wb") as fh:
                for _ in range(32):
                    fh.write(b"z" * (1 << 20))
                    fh.flush()
                    written += 1
    except OSError:
        pass
    for i in range(16):
        try:
            os.remove(os.path.join(folder, f"fill{{i}}.bin"))
        except OSError:
            pass
    print("FILLED", label, written)
print("PASSWD", sorted(line.split(":")[0] for line in open("/etc/passwd").read().splitlines()))
'''
        return _insert_after(nb, "km-setup", code)
    return make


# --------------------------------------------------------------------------- the course

# The peak is read from /proc/self/status (VmHWM: this process's own memory since exec), not
# getrusage's ru_maxrss: Linux carries the parent's peak into a child across fork/vfork and exec,
# so under a long pytest run (CI) ru_maxrss reported pytest's own peak (902 MB), not nbgrader's.
NBGRADER_RSS = """import re, sys
from nbgrader.apps.nbgraderapp import main
sys.argv = ["nbgrader"] + sys.argv[1:]
try:
    main()
finally:
    with open("/proc/self/status") as f:
        sys.stderr.write("MAXRSS %s\\n" % re.search(r"VmHWM:\\s*(\\d+)", f.read()).group(1))
"""


def run_nbgrader(course: Path, *args, env=None, timeout=1800, tmpdir=None):
    """nbgrader as a child, with its peak resident memory (kB) and its time; never raises."""
    full_env = {**os.environ, "PATH": tc.PATH, **tc.GRADING_ENV, **(env or {})}
    if tmpdir is not None:
        full_env["TMPDIR"] = str(tmpdir)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", NBGRADER_RSS, *args], cwd=course, capture_output=True,
                          text=True, timeout=timeout, env=full_env)
    rss = re.findall(r"MAXRSS (\d+)", proc.stderr)
    return proc, time.perf_counter() - t, int(rss[-1]) if rss else None


class Graded:
    """The class's course after one autograde run, and what was measured on the way."""


API = """import json
from nbgrader.apps.baseapp import NbGrader
from nbgrader.apps.api import NbGraderAPI
app = NbGrader()
app.initialize([])
api = NbGraderAPI(app.coursedir, parent=app)
print("RESULT" + json.dumps(api.autograde({assignment!r}, {student!r})))
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("sealed")
    root = base / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns(
        "gradebook.db", "release", "submitted", "autograded", "feedback", ".ipynb_checkpoints",
        "__pycache__", "*.csv", ".jupyter"))
    tc.nbgrader(root, "generate_assignment", ASSIGNMENT, "--create", "--force")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    makers = {"solution": None, **TAMPERED, **{k: v[0] for k, v in HONEST.items()},
              "hijack": untouched_with_cell(HIJACK), "hijack-flagged": untouched_with_cell(HIJACK_FLAGGED),
              "overmax": with_cell(OVERMAX), "launcher": ("untouched", None),
              "shadow-modules": None, "leaks-hidden": leaks_hidden, "wrong-shape": wrong_shape,
              "pipe-junk": pipe_junk('{"done": true, "changed": 5, "ready": true, "tampered": 5}'),
              "pipe-deep": pipe_junk("[" * 200000), "flood": with_cell(FLOOD),
              "deep-json": deep_json(100000), "deep-100": deep_json(100), "huge": huge,
              "many-cells": many_cells, "unknown-id": unknown_id, "duplicate-id": duplicate_id}
    extra_files = {"launcher": {"ipykernel_launcher.py": LAUNCHER}, "shadow-modules": SHADOWS}
    if SANDBOX:
        makers["escapes"] = escapes(root, port)
        makers["a-plants-links"] = plants_links(root)
    src = tc.source_notebooks(ASSIGNMENT, root)[0]
    release = nbformat.read(root / "release" / ASSIGNMENT / src.name, as_version=4)

    def submit(student, make):
        if isinstance(make, tuple):
            nb = nbformat.from_dict(json.loads(json.dumps(release)))
            make = make[1]
        else:
            nb = tc.solved(release, nbformat.read(src, as_version=4))
        out = root / "submitted" / student / ASSIGNMENT / src.name
        out.parent.mkdir(parents=True, exist_ok=True)
        made = make(nb) if make is not None else nb
        if isinstance(made, str):
            out.write_text(made)
        else:
            nbformat.write(made, out)
        for name, text in extra_files.get(student, {}).items():
            (out.parent / name).write_text(text)

    for student, make in makers.items():
        submit(student, make)
    g = Graded()
    g.root, g.students = root, sorted(makers)
    g.tmp = base / "tmp"
    g.tmp.mkdir()
    g.proc, g.seconds, g.rss = run_nbgrader(root, "autograde", ASSIGNMENT, "--create", "--force",
                                            tmpdir=g.tmp)
    assert g.proc.returncode == 0, g.proc.stderr[-5000:]
    g.leftovers = sorted(p.name for p in g.tmp.iterdir())
    g.gradebook_stat = os.stat(root / "gradebook.db")
    # a time budget: answer cells that sleep just under the cell limit (limits scaled down)
    submit("sleepy", sleepy)
    g.sleepy_proc, g.sleepy_seconds, _ = run_nbgrader(
        root, "autograde", ASSIGNMENT, "--student=sleepy", "--Execute.timeout=6",
        "--TeachkitExecute.budget=20", "--SealedTests.timeout=6", "--SealedTests.budget=20")
    # the formgrader's route: NbGraderAPI.autograde, in a process that is not `nbgrader ...`
    submit("via-api", api_hostile(root))
    g.solution_before = scores(root, "solution")
    g.api_proc = subprocess.run([sys.executable, "-c", API.format(assignment=ASSIGNMENT, student="via-api")],
                                cwd=root, capture_output=True, text=True, timeout=900,
                                env={**os.environ, "PATH": tc.PATH, **tc.GRADING_ENV})
    g.solution_after = scores(root, "solution")
    tc.nbgrader(root, "generate_feedback", ASSIGNMENT, "--force")
    tc.nbgrader(root, "export")
    try:
        listener.accept()
        g.accepted = True
    except BlockingIOError:
        g.accepted = False
    listener.close()
    return g


def scores(root, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        sub = gb.find_submission(ASSIGNMENT, student)
        return {g.name: g.score for nb in sub.notebooks for g in nb.grades}


def flags(root):
    with open(root / "grades.csv", newline="") as fh:
        return {r["student_id"]: r["flags"] for r in csv.DictReader(fh) if r["assignment"] == ASSIGNMENT}


def autograded(g, student):
    return nbformat.read(g.root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


def outputs_text(nb, graded_only=False):
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or (graded_only and not tc.nbg(cell).get("grade")):
            continue
        for o in cell.outputs:
            out.append(o.get("text", "") + o.get("evalue", "") + json.dumps(o.get("data", {})))
    return "\n".join(out)


AUTO, _ = tc.points(ASSIGNMENT)
FULL = {gid: pts for (_, gid), pts in AUTO.items()}
ZERO = {gid: 0.0 for gid in FULL}


def auto_scores(g, student):
    got = scores(g.root, student)
    return {gid: got[gid] for gid in FULL}


def test_honest_solution_full_marks_and_no_flag(graded):
    assert auto_scores(graded, "solution") == FULL
    assert flags(graded.root)["solution"] == ""


@pytest.mark.parametrize("student", sorted(TAMPERED))
def test_tampering_scores_zero_on_hidden_tests_and_is_flagged(graded, student):
    root = graded.root
    got = scores(root, student)
    assert {gid: got[gid] for gid in HIDDEN} == {gid: 0.0 for gid in HIDDEN}
    assert flags(root)[student], "the export must show the flag"
    html = (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "TamperingFlagged" in html and "AUTOGRADER FLAG" in html
    assert "BEGIN HIDDEN TESTS" not in html


@pytest.mark.parametrize("student", sorted(HONEST))
def test_other_hostile_submissions(graded, student):
    zero = HONEST[student][1]
    assert auto_scores(graded, student) == {gid: (0.0 if gid in zero else p) for gid, p in FULL.items()}
    assert flags(graded.root)[student] == ""


@pytest.mark.parametrize("student", ["hijack", "hijack-flagged", "launcher"])
def test_nothing_answered_scores_nothing_however_the_kernel_is_hijacked(graded, student):
    """Issue 29, critical 1 (and the launcher finding): 10/10 before, now 0 and flagged; every
    graded cell's outputs are the sealed verdict (one error each here)."""
    assert auto_scores(graded, student) == ZERO
    for cell in autograded(graded, student).cells:
        if tc.nbg(cell).get("grade") and cell.cell_type == "code":
            assert [o.output_type for o in cell.outputs] == ["error"], (tc.nbg(cell)["grade_id"], cell.outputs)
    if student != "launcher":
        assert "showed output its test does not produce (execute_result)" in flags(graded.root)[student]


def test_partial_credit_above_the_points_is_dropped_and_the_run_goes_on(graded):
    """Before: nbgrader's ValueError dropped the submission. Now the execute_result is not the
    verdict: the (correct) answers pass the visible tests; flagged, so hidden tests score 0."""
    assert auto_scores(graded, "overmax") == {gid: (0.0 if gid in HIDDEN else p) for gid, p in FULL.items()}
    assert "execute_result" in flags(graded.root)["overmax"]


def test_files_beside_the_notebook_never_reach_the_grader(graded):
    """numpy.py, teachkit.py, sitecustomize.py, ipykernel_launcher.py next to a correct
    notebook: not copied into the sandbox, interpreters started with `python -I`."""
    assert auto_scores(graded, "shadow-modules") == FULL
    assert flags(graded.root)["shadow-modules"] == ""


def test_the_kernel_never_sees_a_hidden_test(graded):
    text = outputs_text(autograded(graded, "leaks-hidden"))
    assert "assert callable(median_survival)" in text  # the history was printed ...
    for line in HIDDEN_LINES:                           # ... without any hidden test
        assert line not in text, line
    html = (graded.root / "feedback" / "leaks-hidden" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    for line in HIDDEN_LINES:
        assert line not in html, line
    assert auto_scores(graded, "leaks-hidden") == FULL  # printing in a function is no crime


def test_hidden_checks_do_not_quote_the_expected_shapes(graded):
    cells = {tc.nbg(c).get("grade_id"): c for c in autograded(graded, "wrong-shape").cells}
    visible = cells["km-table-visible"].outputs[-1]
    assert visible.ename == "AssertionError" and "one row per distinct time" in visible.evalue
    hidden = cells["km-table-hidden"].outputs[-1]
    assert hidden.output_type == "error"
    assert not re.search(r"\(\d+,?\)|\d+,\)|\d+ rows|broadcast", hidden.evalue), hidden.evalue


@pytest.mark.parametrize("student", ["pipe-junk", "pipe-deep"])
def test_nonsense_on_the_runners_pipe_is_a_grading_error_not_a_crash(graded, student):
    """Before: a bogus reply crashed nbgrader's preprocessor and dropped the submission."""
    last = {f"{LAST_ANSWER}-visible", f"{LAST_ANSWER}-hidden"}
    assert auto_scores(graded, student) == {g: (0.0 if g in last else p) for g, p in FULL.items()}
    cell = next(c for c in autograded(graded, student).cells if tc.nbg(c).get("grade_id") == f"{LAST_ANSWER}-visible")
    assert cell.outputs[-1].ename == "GradingError"


@pytest.mark.parametrize("student,why", [("deep-json", "nested more than"), ("deep-100", "nested more than"),
                                         ("huge", "larger than 16 MB"), ("many-cells", "more than 1000 cells")])
def test_crafted_notebooks_are_graded_zero_with_a_flag(graded, student, why):
    assert auto_scores(graded, student) == ZERO
    assert "could not be graded: the notebook" in flags(graded.root)[student]
    assert why in flags(graded.root)[student]


@pytest.mark.parametrize("student", ["unknown-id", "duplicate-id"])
def test_copied_or_unknown_cells_are_ordinary_cells_with_a_note(graded, student):
    # the duplicate sits above the answer it tests: that copy is the graded one (and fails)
    lost = {"km-table-visible"} if student == "duplicate-id" else set()
    assert auto_scores(graded, student) == {g: (0.0 if g in lost else p) for g, p in FULL.items()}
    assert "no known grade id" in flags(graded.root)[student]


def test_the_run_goes_on_and_memory_stays_bounded(graded):
    """An output flood (400 x 1 MB, then one 40 MB print) and a 90 MB notebook in the same run:
    nbgrader kept what it needs (before: the flood's size added to nbgrader's memory)."""
    assert graded.proc.returncode == 0
    for student in graded.students:
        assert (graded.root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists(), student
    # measured 160 MB (its own peak, VmHWM); reading the 90 MB notebook whole would add ~270 MB
    assert graded.rss is not None and graded.rss < 400 * 1024, f"nbgrader peaked at {graded.rss} kB"
    nb = autograded(graded, "flood")
    cell = next(c for c in nb.cells if "chunk" in c.source)
    assert sum(len(o.get("text", "")) for o in cell.outputs) <= 2.1 * 1024**2
    assert "output cut here" in outputs_text(nb)
    # the 40 MB message was refused (zmq drops the connection): the next cells still show
    table = next(c for c in nb.cells if tc.nbg(c).get("grade_id") == "km-table")
    assert "at risk" in outputs_text(nbformat.v4.new_notebook(cells=[table]))
    assert auto_scores(graded, "flood") == FULL
    print(f"\nnbgrader autograde of {len(graded.students)} submissions: {graded.seconds:.0f} s, "
          f"peak memory {graded.rss / 1024:.0f} MB")


def test_a_time_budget_per_notebook(graded):
    """Six answer cells sleeping just under the cell limit (6 s here): without a budget
    about 2 x 6 x 5.5 = 66 s; with 20 s for the kernel and 20 s for the sealed tests, less."""
    assert graded.sleepy_proc.returncode == 0, graded.sleepy_proc.stderr[-3000:]
    assert graded.sleepy_seconds < 65, graded.sleepy_seconds
    cells = {tc.nbg(c).get("grade_id"): c for c in autograded(graded, "sleepy").cells}
    assert "CellTimeoutError" in [o.get("ename") for o in cells["s20"].outputs]  # cut at the budget
    assert cells["s20-test"].outputs[-1].evalue.endswith("(the time budget for grading this notebook ran out)")
    assert "grading stopped" in flags(graded.root)["sleepy"]


@needs_sandbox
def test_the_formgraders_route_is_sandboxed_too(graded):
    """Issue 29, critical 2: NbGraderAPI.autograde (what the formgrader's Autograde button
    calls, inside the Jupyter server) with a hostile submission."""
    out = graded.api_proc.stdout
    assert graded.api_proc.returncode == 0, graded.api_proc.stderr[-3000:]
    result = json.loads(out[out.index("RESULT") + 6:].splitlines()[0])
    assert result["success"], result
    text = outputs_text(autograded(graded, "via-api"))
    assert "ESCAPE" not in text, text
    assert text.count("DENIED") == 6, text
    assert not (graded.root / "pwned.txt").exists()
    assert not (graded.root / "source" / ASSIGNMENT / "pwned.txt").exists()
    assert graded.solution_after == graded.solution_before
    assert auto_scores(graded, "via-api") == FULL


@needs_sandbox
def test_no_shared_writable_state_between_kernels(graded):
    """Issue 29, critical 4: links planted by the first kernel for the next launcher."""
    text = outputs_text(autograded(graded, "a-plants-links"))
    planted = re.search(r"PLANTED (\d+) IN (.*)", text)
    assert planted and planted.group(1) == "0", text
    assert "/run/teachkit" in planted.group(2)
    st = graded.gradebook_stat
    assert st.st_uid == os.geteuid() and st.st_size > 10000
    assert (graded.root / "gradebook.db").read_bytes()[:16] == b"SQLite format 3\x00"
    for student in graded.students:
        scores(graded.root, student)  # every student after it graded
    assert graded.leftovers == [], graded.leftovers  # every private folder removed


@needs_sandbox
def test_escapes_are_denied_and_the_rest_is_graded(graded):
    root = graded.root
    nb = autograded(graded, "escapes")
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream")
    assert "ESCAPE" not in text, text
    for label in ("course source", "gradebook", "config", "other student", "own graded notebook",
                  "relative course source"):
        assert f"DENIED read {label}" in text
    for label in ("course root", "usr", "parent"):
        assert f"DENIED write {label}" in text
    assert "DENIED socket" in text and not graded.accepted
    forks = next(line for line in text.splitlines() if line.startswith("FORKS"))
    n_forks = int(forks.split()[1])
    assert n_forks < 100 and forks.endswith("BlockingIOError"), forks
    assert "DENIED memory MemoryError" in text
    for label in ("tmp", "cwd"):   # 128 MB tmpfs each, in memory
        filled = int(re.search(rf"FILLED {label} (\d+)", text).group(1))
        assert 0 < filled <= 128, (label, filled)
    users = re.search(r"PASSWD (\[.*\])", text).group(1)
    assert set(json.loads(users.replace("'", '"'))) <= {"root", "nobody", "student"}, users
    assert not (root / "pwned.txt").exists() and not (root / "autograded" / "escapes" / "pwned.txt").exists()
    assert auto_scores(graded, "escapes") == FULL


def test_without_the_sandbox_nothing_is_graded(graded):
    """The grader refuses to run unsandboxed unless TEACHKIT_SANDBOX=off: with bubblewrap
    missing (not on PATH), the run stops with the reason and grades nothing."""
    root = graded.root
    out = root / "submitted" / "no-sandbox" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    out.parent.mkdir(parents=True)
    shutil.copy(root / "submitted" / "solution" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", out)
    proc = subprocess.run([str(tc.NBGRADER), "autograde", ASSIGNMENT, "--student=no-sandbox"], cwd=root,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PATH": str(tc.NBGRADER.parent), "TEACHKIT_SANDBOX": "on"})
    assert proc.returncode != 0
    assert "bubblewrap" in proc.stderr, proc.stderr[-2000:]
    assert not (root / "autograded" / "no-sandbox" / ASSIGNMENT).exists()
    assert all(v in (None, 0.0) for v in scores(root, "no-sandbox").values())


def test_make_autograde_reports_and_goes_on(graded):
    """`make autograde` grades every assignment even if one run fails, prints what could not
    be graded, and exits 1 (here: an assignment that was never generated, and this class's
    crafted notebooks)."""
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), "autograde", f"COURSE={graded.root}",
                           f"ASSIGNMENT=not-generated {ASSIGNMENT}"], capture_output=True, text=True,
                          timeout=900, env={**os.environ, **tc.GRADING_ENV})
    assert proc.returncode != 0
    assert "not-generated: nbgrader autograde failed" in proc.stdout, proc.stdout
    for student in ("deep-json", "huge", "many-cells"):
        assert f"{student}/{ASSIGNMENT}: NOT GRADED (0)" in proc.stdout, proc.stdout
    assert "solution/" not in proc.stdout


@needs_sandbox
def test_runner_process_cannot_read_the_course(tmp_path):
    """The fresh interpreter that answers the hidden tests is sandboxed too."""
    import time

    sealed = tc.grading().sealed
    folder = tmp_path / "autograded" / "ada" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text("hidden tests live here")
    released = tmp_path / "data.csv"
    released.write_text("1,2\n")
    secret = tmp_path / "gradebook.db"
    secret.write_text("secret")
    source = f'''
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
    out["passwd"] = open("/etc/passwd").read()
    return out
'''
    run = sealed.Runner(folder, [(released, "data.csv")], timeout=30,
                        deadline=time.monotonic() + 120, protect_builtins=[])
    run.start_run("student", source)
    run.end_run()
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
    names = {line.split(":")[0] for line in got["passwd"].splitlines()}
    assert names <= {"root", "nobody", "student"}, names   # no account name of the host
    if os.geteuid() == 0:
        assert got["uid"] == 65534


def test_source_scan_finds_tampering_and_leaves_honest_code_alone():
    sealed = tc.grading().sealed
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
