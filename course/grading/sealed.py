"""Sealed grading: verdicts that student code can neither reach, fool nor pre-empt.

nbgrader executes a submission in one kernel and reads each test cell's score from that
cell's outputs (an error: 0; the first ``execute_result``: partial credit; else full marks).
Student code runs in the same kernel, so it can redefine ``np.allclose``, hook IPython so
that every cell starts with an ``execute_result`` ("ok" counts as full marks), or replace the
kernel altogether. Here the kernel's run only *shows* the student's work; every graded test
cell (visible and hidden) is decided by :class:`SealedTests`, an nbgrader preprocessor that
runs in the grader's process right after the kernel:

1. It reads the instructor's cells (setup and tests, hidden tests included) from the
   **gradebook**, never from the submitted file.
2. It starts fresh Pythons (``runner.py``) in the sandbox (``sandbox.py``) and has them run the
   notebook cell by cell, in order: instructor setup cells, the student's cells, the visible
   part of each test (never a hidden test). Only plain data crosses (numbers, strings, lists,
   dicts, numeric arrays).
3. At each test cell, in the notebook's order, it executes the instructor's test **in this
   process**, in a namespace built from the instructor's setup cells, with this process's
   numpy, teachkit, math and builtins; a name the instructor did not define (the student's
   ``km_table``) is looked up in the runner *at that point of the notebook* and becomes a proxy
   function (or a plain value).
4. The cell's outputs are **replaced** by this verdict: what the instructor's test printed
   (visible tests only), then the error if it failed, or an ``execute_result`` only if the
   instructor's test ends in a numeric expression (partial credit, clamped to the cell's
   points). Output the kernel showed in a graded cell and the instructor's test cannot produce
   (``execute_result``, ``display_data``) is dropped and flagged.
5. **By hand.** A hidden test whose source has a line ``### BY HAND: teachkit.a.f, teachkit.b.g``
   calls the student's functions in a second runner in which those routines and the private
   helpers they use are unavailable (see runner.py); a function that calls them earns 0 on that
   test and the submission is flagged with the reason.
6. Tampering is detected twice: a scan of the student's source (:func:`scan_source`) and the
   runner's identity check of module attributes. A flagged submission gets 0 on every hidden
   test, a ``TamperingFlagged`` line in the feedback and a note at the top of its notebook;
   :class:`RecordFlags` writes the reason as an automatic comment in the gradebook (the
   formgrader shows it) and :class:`FlaggedCsvExport` adds a ``flags`` column to ``grades.csv``.
7. Bounded: one time budget per notebook (``SealedTests.budget``) for everything the runners
   do; a runner that dies, hangs or answers nonsense turns the remaining tests into
   ``GradingError`` (0), never into a crash of nbgrader.

Any assignment gets this without extra work: keep tests in test cells, make data inside the
test, call the student's *functions* on it and compare there.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import numbers
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins.export import CsvExportPlugin
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer

HERE = Path(__file__).resolve().parent
from . import common  # noqa: E402
from . import runner  # noqa: E402  (encode/decode shared with the student's side)
from . import sandbox  # noqa: E402
from .common import BEGIN_HIDDEN, FLAG, nbg, strip_hidden  # noqa: E402

MAX_REPLY = 8 * 1024**2      # bytes of one line from a runner
MAX_STDOUT = 64 * 1024       # characters of a test's printed output kept in the notebook

# ----------------------------------------------------------------------------- source scan

SUSPICIOUS_CALLS = {"setattr", "delattr", "exec", "eval", "compile", "__import__", "globals",
                    "vars", "breakpoint"}
SUSPICIOUS_MODULES = {"builtins", "__builtin__", "ctypes", "gc", "importlib", "inspect",
                      "unittest", "mock", "IPython", "ipykernel", "traitlets", "zmq",
                      "jupyter_client", "nbgrader", "nbformat", "atexit", "signal", "types",
                      "code", "codeop", "runpy", "marshal", "sys"}
SYS_ATTRS = {"modules", "_getframe", "settrace", "setprofile", "excepthook", "displayhook",
             "meta_path", "path_hooks", "addaudithook", "stdout", "stderr", "breakpointhook"}
ALLOWED_DUNDERS = {"__name__", "__doc__", "__qualname__", "__init__"}
ALLOWED_MAGICS = {"timeit", "time", "matplotlib", "precision", "pprint"}
ALWAYS_PROTECTED = {"AssertionError", "Exception", "BaseException", "isinstance", "callable",
                    "len", "abs", "print", "range", "zip", "float", "int", "bool", "str", "sum",
                    "any", "all", "min", "max", "round", "type", "get_ipython", "__builtins__",
                    "__import__", "display"}


def _python_source(cell_source: str) -> str:
    """IPython syntax (magics, !shell) as the Python it runs."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(cell_source)
    except Exception:
        return cell_source


def _top_level_bindings(tree: ast.Module) -> set[str]:
    names: set[str] = set()

    def visit(node, top):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if top:
                names.add(node.name)
            for child in ast.iter_child_nodes(node):
                visit(child, False)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Global):
            names.update(node.names)
        if top:
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                names.add(node.id)
            elif isinstance(node, ast.NamedExpr):
                names.add(node.target.id)
        for child in ast.iter_child_nodes(node):
            visit(child, top)

    visit(tree, True)
    return names


def _root(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def _imports(tree) -> dict[str, str]:
    """Names bound by import statements: {name: what it is bound to ('numpy', 'numpy.linalg.norm')}."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def scan_source(student_cells: list[str], protected: set[str], modules: dict[str, str]) -> list[str]:
    """Reasons to believe the student's code tampers with what the tests use.

    ``protected``: names the tests rely on (the instructor's setup names, the builtins the
    tests call); ``modules``: names bound to modules by the instructor's cells.

    >>> scan_source(["import numpy as np\\nnp.allclose = lambda *a, **k: True"], {"np"}, {"np": "numpy"})
    ['assigns np.allclose']
    >>> scan_source(["import numpy as np\\ndef f(x):\\n    return np.sum(x)"], {"np"}, {"np": "numpy"})
    []
    >>> scan_source(["import fakenumpy as np"], {"np"}, {"np": "numpy"})
    ['rebinds `np` to fakenumpy']
    """
    reasons: list[str] = []
    student_modules = set(modules)
    trees = []
    for src in student_cells:
        try:
            tree = ast.parse(_python_source(src))
        except (SyntaxError, ValueError):
            continue
        trees.append(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if isinstance(node, ast.Import):
                        student_modules.add((alias.asname or alias.name).split(".")[0])
    for tree in trees:
        for name in sorted(_top_level_bindings(tree) & (protected | ALWAYS_PROTECTED)):
            reasons.append(f"rebinds `{name}`, which the tests use")
        for name, target in _imports(tree).items():
            if name in protected | ALWAYS_PROTECTED and modules.get(name) != target:
                reasons.append(f"rebinds `{name}` to {target}")
        allowed_ipython = set()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("run_line_magic", "run_cell_magic")
                    and isinstance(node.func.value, ast.Call)
                    and isinstance(node.func.value.func, ast.Name)
                    and node.func.value.func.id == "get_ipython"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value in ALLOWED_MAGICS):
                allowed_ipython.add(id(node.func.value.func))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
                root = _root(node)
                if root in protected | student_modules | ALWAYS_PROTECTED:
                    target = ast.unparse(node)
                    reasons.append(f"assigns {target}" if isinstance(node.ctx, ast.Store) else f"deletes {target}")
            elif isinstance(node, ast.Attribute):
                if node.attr.startswith("__") and node.attr not in ALLOWED_DUNDERS:
                    reasons.append(f"uses the attribute {node.attr}")
                elif _root(node) == "sys" and node.attr in SYS_ATTRS:
                    reasons.append(f"uses sys.{node.attr}")
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in SUSPICIOUS_CALLS or node.id in ("__builtins__", "__import__"):
                    reasons.append(f"uses {node.id}")
                elif node.id == "get_ipython" and id(node) not in allowed_ipython:
                    reasons.append("uses get_ipython (the kernel's machinery)")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for mod in mods:
                    if mod.split(".")[0] in SUSPICIOUS_MODULES:
                        reasons.append(f"imports {mod}")
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("numpy", "teachkit", "math", "scipy"):
                    pass
    return list(dict.fromkeys(reasons))


# ----------------------------------------------------------------------------- the runners

class RunnerError(RuntimeError):
    """The submission's process died, timed out, ran out of budget or answered nonsense."""


class StudentError(Exception):
    """An exception raised by the student's function during a test."""


class Runner:
    """A fresh interpreter (sandboxed unless TEACHKIT_SANDBOX=off) holding the submission.

    Every failure is a :class:`RunnerError` (the process is then killed); a runner never makes
    the grader crash, whatever the submission writes on the pipe.
    """

    def __init__(self, folder: Path, files, *, timeout: int, deadline: float,
                 protect_builtins: list[str], by_hand: list[str] = ()):
        self.timeout = timeout
        self.deadline = deadline
        self.failed: str | None = None
        self.by_hand_calls: list[str] = []
        self.problems: list[str] = []
        self._buf = b""
        self._tmp = None
        sb = None
        try:
            if sandbox.enabled():
                sb = sandbox.Sandbox(folder, teachkit="copy" if by_hand else "ro")
                sandbox.add_files(sb, files)
                sb.bind(HERE / "runner.py", Path(sandbox.GRADING) / "runner.py")
                env = {"TEACHKIT_LIB_COPY": sandbox.LIB} if by_hand else {}
                cmd = sb.command([sys.executable, "-I", "-u", f"{sandbox.GRADING}/runner.py"], env)
                kwargs = dict(pass_fds=sb.fds, preexec_fn=sandbox.limit_child, cwd="/",
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
            else:
                lib = sandbox.teachkit_package().parent
                env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder),
                       "MPLBACKEND": "Agg", "TEACHKIT_LIB": str(lib), "LANG": "C.UTF-8"}
                if by_hand:  # best effort without the sandbox: a copy the runner deletes
                    self._tmp = Path(tempfile.mkdtemp(prefix="teachkit-lib-"))
                    shutil.copytree(sandbox.teachkit_package(), self._tmp / "teachkit",
                                    ignore=shutil.ignore_patterns("__pycache__"))
                    env.update(TEACHKIT_LIB=str(self._tmp), TEACHKIT_LIB_COPY=str(self._tmp))
                cmd = [sys.executable, "-I", "-u", str(HERE / "runner.py")]
                kwargs = dict(preexec_fn=sandbox.unsandboxed_child, cwd=str(folder), env=env)
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, start_new_session=True, **kwargs)
        finally:
            if sb is not None:
                sb.close()
        self._send({"op": "init", "timeout": timeout, "protect_builtins": protect_builtins,
                    "by_hand": list(by_hand)})
        reply = self._receive(60)
        if reply.get("ok") is not True:
            self._fail("the submission's process did not start")

    # ---------------------------------------------------------------- protocol
    def _fail(self, why: str):
        if self.failed is None:
            self.failed = why
        self.close()
        raise RunnerError(self.failed)

    def _send(self, obj) -> None:
        if self.failed:
            raise RunnerError(self.failed)
        try:
            self.proc.stdin.write((json.dumps(obj) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            self._fail("the submission's process has ended")

    def _receive(self, timeout: float) -> dict:
        if self.failed:
            raise RunnerError(self.failed)
        now = time.monotonic()
        deadline = min(now + timeout, self.deadline)
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                if time.monotonic() >= self.deadline:
                    self._fail("the time budget for grading this notebook ran out")
                self._fail("timed out")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    self._fail("the submission's process has ended")
                self._buf += chunk
                if len(self._buf) > MAX_REPLY:
                    self._fail("the submission sent too much data")
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError, MemoryError):
            self._fail("the submission's process answered nonsense")
        if not isinstance(reply, dict):
            self._fail("the submission's process answered nonsense")
        return reply

    def start_run(self, kind: str, source: str) -> None:
        self._send({"op": "run", "kind": kind, "source": source})

    def end_run(self) -> list[str]:
        reply = self._receive(self.timeout + 10)
        changed = reply.get("changed")
        if reply.get("done") is not True or not isinstance(changed, list):
            self._fail("the submission's process answered nonsense")
        problems = reply.get("problems")
        if isinstance(problems, list):
            self.problems = [str(p)[:200] for p in problems[:20]]
        return [c for c in changed if isinstance(c, str)][:1000]

    def lookup(self, name: str):
        self._send({"op": "get", "name": name})
        reply = self._receive(self.timeout + 10)
        kind = reply.get("kind")
        if kind == "callable":
            def proxy(*args, **kwargs):
                return self.call(name, args, kwargs)
            proxy.__name__ = proxy.__qualname__ = name
            return proxy
        if kind == "value":
            try:
                return runner.decode(reply.get("value"))
            except (ValueError, TypeError, RecursionError, MemoryError):
                raise StudentError(f"`{name}` holds a value the grader cannot check") from None
        if kind == "opaque":
            raise StudentError(f"`{name}` holds a value the grader cannot check "
                               "(use numbers, strings, lists, tuples, dicts or numeric arrays)")
        if kind == "missing":
            raise NameError(f"name '{name}' is not defined")
        self._fail("the submission's process answered nonsense")

    def call(self, name, args, kwargs):
        try:
            payload = {"op": "call", "name": name, "args": runner.encode(tuple(args)),
                       "kwargs": runner.encode(dict(kwargs))}
        except TypeError as exc:
            raise RunnerError(f"the test cannot pass its data to {name}: {exc}") from None
        self._send(payload)
        reply = self._receive(self.timeout + 10)
        calls = reply.get("by_hand")
        if isinstance(calls, list):
            self.by_hand_calls += [str(c)[:120] for c in calls[:20]]
        if "error" in reply:
            raise StudentError(f"{name} raised {str(reply['error'])[:400]}")
        if "ok" not in reply:
            self._fail("the submission's process answered nonsense")
        try:
            return runner.decode(reply["ok"])
        except (ValueError, TypeError, RecursionError, MemoryError):
            raise StudentError(f"{name} returned a value the grader cannot check "
                               "(use numbers, strings, lists, tuples, dicts or numeric arrays)") from None

    def finish(self) -> list[str]:
        self._send({"op": "finish"})
        reply = self._receive(self.timeout + 10)
        tampered = reply.get("tampered")
        if not isinstance(tampered, list):
            self._fail("the submission's process answered nonsense")
        return [str(x)[:200] for x in tampered][:20]

    def close(self) -> None:
        proc = getattr(self, "proc", None)
        if proc is not None:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, 9)
                except (ProcessLookupError, PermissionError):
                    proc.kill()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            for stream in (proc.stdin, proc.stdout):
                with contextlib.suppress(Exception):
                    stream.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


class TrustedNamespace(dict):
    """Globals of the instructor's cells: the instructor's names here; a name the instructor
    did not define is borrowed from the current runner for the current cell only."""

    def __init__(self):
        super().__init__()
        self.runner: Runner | None = None
        self.borrowed: set[str] = set()
        self._borrowing = False

    def begin_cell(self, runner_: Runner | None) -> None:
        for name in self.borrowed:
            super().pop(name, None)
        self.borrowed = set()
        self.runner = runner_

    def __setitem__(self, key, value):
        if not self._borrowing:
            self.borrowed.discard(key)
        super().__setitem__(key, value)

    def __missing__(self, name):
        if name in builtins.__dict__ or self.runner is None:
            raise KeyError(name)
        value = self.runner.lookup(name)
        self._borrowing = True
        try:
            self[name] = value
        finally:
            self._borrowing = False
        self.borrowed.add(name)
        return value


class _Capped(io.StringIO):
    def write(self, s):
        room = MAX_STDOUT - self.tell()
        if room > 0:
            super().write(s[:room])
        return len(s)


@dataclass
class Verdict:
    stdout: str = ""
    error: tuple | None = None          # (ename, evalue)
    value: float | None = None          # partial credit from the instructor's last expression
    by_hand: list = field(default_factory=list)

    def outputs(self, points: float, hidden: bool, execution_count: int | None) -> list:
        out = []
        if self.stdout and not hidden:
            out.append(NotebookNode(output_type="stream", name="stdout", text=self.stdout))
        if self.error is not None:
            out.append(common.error_output(*self.error))
        elif self.value is not None:
            score = min(max(float(self.value), 0.0), float(points))
            out.append(NotebookNode(output_type="execute_result", execution_count=execution_count,
                                    metadata={}, data={"text/plain": repr(score)}))
        return out


def _ends_in_expression(source: str) -> bool:
    try:
        tree = ast.parse(_python_source(source))
    except (SyntaxError, ValueError):
        return False
    return bool(tree.body) and isinstance(tree.body[-1], ast.Expr)


def _may_display(source: str) -> bool:
    return any(word in source for word in ("display(", "plt.", ".plot(", "show("))


# ----------------------------------------------------------------------------- preprocessors

class SealedTests(NbGraderPreprocessor):
    """Decide every graded test cell outside the student's kernel (see the module docstring)."""

    enabled = Bool(True).tag(config=True)
    timeout = Integer(30, help="seconds per student cell and per call in a runner").tag(config=True)
    budget = Integer(180, help="seconds for all of a notebook's sealed grading (both runners)"
                     ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        folder = Path(resources.get("metadata", {}).get("path") or ".").resolve()
        with Gradebook(info["db_url"]) as gb:
            record = gb.find_notebook(info["notebook"], info["assignment"])
            source_cells = {c.name: (c.source, c.locked, c.cell_type) for c in record.source_cells}
            points = {c.name: float(c.max_score) for c in record.grade_cells}
            solutions = {c.name for c in record.solution_cells}

        plan = []  # (index, kind, grade_id, source)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            gid = nbg(cell).get("grade_id")
            src = source_cells.get(gid) if isinstance(gid, str) else None
            if src is not None and src[1] and gid not in solutions and src[2] == "code":
                plan.append((index, "test" if gid in points else "setup", gid, src[0]))
            else:
                plan.append((index, "student", None, cell.source))
        tests = [(i, gid, s) for i, kind, gid, s in plan if kind == "test"]
        if not tests:
            return nb, resources

        tampering: list[str] = []   # flags that zero every hidden test
        notes: list[str] = []       # flags that only inform (by hand, budget)
        ungradable = common.ungradable(nb)
        notes += [str(n)[:300] for n in (nb.metadata.get(common.NOTES) or [])][:10]
        verdicts: dict[int, Verdict] = {}
        if ungradable:
            for index, gid, source in tests:
                verdicts[index] = Verdict(error=("GradingError", f"this submission could not be "
                                                 f"graded ({ungradable})"))
            notes.append(f"could not be graded: {ungradable}")
        else:
            # what the kernel showed in graded cells that the instructor's test cannot produce
            for index, gid, source in tests:
                visible = strip_hidden(source)
                kinds = {o.get("output_type") for o in nb.cells[index].get("outputs", [])}
                bad = []
                if "execute_result" in kinds and not _ends_in_expression(visible):
                    bad.append("execute_result")
                if "display_data" in kinds and not _may_display(visible):
                    bad.append("display_data")
                if bad:
                    tampering.append(f"the test cell `{gid}` showed output its test does not "
                                     f"produce ({', '.join(bad)}): dropped")
            tampering += self._scan(plan)
            self._grade(plan, points, folder, resources, verdicts, tampering, notes)

        tampering = list(dict.fromkeys(tampering))
        notes = list(dict.fromkeys(notes))
        if tampering:
            text = "; ".join(tampering)
            self.log.warning("%s: %s/%s/%s: %s", FLAG, info["student"], info["assignment"],
                             info["notebook"], text)
        for index, gid, source in tests:
            verdict = verdicts.get(index) or Verdict(error=("GradingError", "not graded"))
            hidden = BEGIN_HIDDEN in source
            if tampering and hidden:
                verdict = Verdict(error=("TamperingFlagged", "your code changes what the tests use "
                                         f"({'; '.join(tampering)[:500]}); hidden tests score 0 "
                                         "and your instructor is told"))
            cell = nb.cells[index]
            cell.outputs = verdict.outputs(points[gid], hidden, cell.get("execution_count"))
        flags = tampering + notes
        if flags:
            text = "; ".join(flags)
            resources.setdefault("teachkit", {})["flags"] = text
            what = ("changes what the tests use: every hidden test scores 0"
                    if tampering else "needs your instructor's attention")
            nb.cells.insert(0, NotebookNode(cell_type="markdown", metadata={}, source=(
                f"**{FLAG}:** this submission {what} ({text}). Your instructor reviews it.")))
        return nb, resources

    # ------------------------------------------------------------------ steps
    def _scan(self, plan) -> list[str]:
        setup_names, modules, test_builtins = set(), {}, set()
        student_sources = []
        for _, kind, _, source in plan:
            if kind == "student":
                student_sources.append(source)
                continue
            try:
                tree = ast.parse(_python_source(source))
            except (SyntaxError, ValueError):
                continue
            if kind == "setup":
                modules.update(_imports(tree))
                setup_names |= _top_level_bindings(tree) | set(_imports(tree))
            else:
                test_builtins |= {n.id for n in ast.walk(tree)
                                  if isinstance(n, ast.Name) and n.id in builtins.__dict__}
        self._protect = sorted(test_builtins | ALWAYS_PROTECTED)
        return scan_source(student_sources, setup_names | test_builtins, modules)

    def _grade(self, plan, points, folder, resources, verdicts, tampering, notes) -> None:
        files = common.assignment_files(self, resources)
        by_hand: dict[str, list[str]] = {}
        for _, kind, gid, source in plan:
            if kind == "test" and BEGIN_HIDDEN in source:
                routines = common.by_hand_routines(source)
                if routines:
                    by_hand[gid] = routines
        all_routines = sorted({r for rs in by_hand.values() for r in rs})
        deadline = time.monotonic() + self.budget
        runners: list[Runner] = []
        main = hand = None
        try:
            main = self._start(folder, files, deadline, [])
            if main is not None:
                runners.append(main)
            if all_routines:
                hand = self._start(folder, files, deadline, all_routines)
                if hand is not None:
                    runners.append(hand)
        except sandbox.SandboxUnavailable:
            for r in runners:
                r.close()
            raise
        ns = TrustedNamespace()
        ns["__name__"] = "__main__"
        protected: set[str] = set()
        old_cwd = os.getcwd()
        os.chdir(folder)  # the tests seed their data with '<student>/<assignment>'
        try:
            for index, kind, gid, source in plan:
                if kind == "setup":
                    live = self._start_all(runners, "setup", source)
                    ns.begin_cell(main)
                    before = set(ns)
                    try:
                        with _quiet():
                            exec(compile(_python_source(source), f"<setup {gid}>", "exec"), ns)
                    except Exception:
                        self.log.error("sealed grading: the instructor's cell %s failed here:\n%s",
                                       gid, traceback.format_exc(limit=3))
                    protected |= (set(ns) - before - ns.borrowed)
                    self._end_all(live)
                elif kind == "student":
                    live = self._start_all(runners, "student", source)
                    changed = self._end_all(live).get(id(main), [])
                    for name in changed:
                        if name not in protected and name != "__name__":
                            dict.pop(ns, name, None)
                else:
                    if main is not None and not main.failed:
                        live = self._start_all([main], "test", strip_hidden(source))
                        self._end_all(live)
                    use = hand if gid in by_hand else main
                    verdicts[index] = self._run_test(ns, use, gid, source, points[gid])
                    if gid in by_hand and verdicts[index].by_hand:
                        routines = ", ".join(dict.fromkeys(verdicts[index].by_hand))
                        verdicts[index].error = (
                            "ByHandError", f"this part is to be done by hand, but your code calls "
                            f"{routines}; the hidden tests ran without them and score 0")
                        notes.append(f"`{gid}` (by hand) calls {routines}")
            if main is not None and not main.failed:
                try:
                    tampering += [f"at run time: {r}" for r in main.finish()]
                except RunnerError:
                    pass
            if hand is not None and hand.problems:
                self.log.error("sealed grading: by-hand runner: %s", "; ".join(hand.problems))
            for r in runners:
                if r.failed and "budget" in r.failed:
                    notes.append(f"grading stopped: {r.failed} ({self.budget} s)")
                    break
        finally:
            os.chdir(old_cwd)
            for r in runners:
                r.close()

    def _start(self, folder, files, deadline, routines) -> Runner | None:
        try:
            return Runner(folder, files, timeout=self.timeout, deadline=deadline,
                          protect_builtins=getattr(self, "_protect", []), by_hand=routines)
        except (RunnerError, OSError, ValueError) as exc:
            self.log.warning("sealed grading: %s", exc)
            return None

    @staticmethod
    def _start_all(runners, kind, source) -> list:
        live = []
        for r in runners:
            if r is None or r.failed:
                continue
            try:
                r.start_run(kind, source)
                live.append(r)
            except RunnerError:
                pass
        return live

    @staticmethod
    def _end_all(live) -> dict:
        out = {}
        for r in live:
            try:
                out[id(r)] = r.end_run()
            except RunnerError:
                pass
        return out

    def _run_test(self, ns: TrustedNamespace, use: Runner | None, gid: str, source: str,
                  points: float) -> Verdict:
        hidden = BEGIN_HIDDEN in source
        verdict = Verdict()
        if use is None:
            verdict.error = ("GradingError", "your code could not be run for the tests")
            return verdict
        if use.failed:
            verdict.error = ("GradingError", f"your code could not be run for the tests ({use.failed})")
            return verdict
        calls_before = len(use.by_hand_calls)
        ns.begin_cell(use)
        out = _Capped()
        try:
            tree = ast.parse(_python_source(source))
            last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            body = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
            with contextlib.redirect_stdout(out), _quiet(stdout=False):
                exec(compile(body, f"<test {gid}>", "exec"), ns)
                if last is not None:
                    value = eval(compile(ast.Expression(body=last.value), f"<test {gid}>", "eval"), ns)
                    if isinstance(value, numbers.Real) and not isinstance(value, bool):
                        verdict.value = float(value)
                    elif value is not None:
                        print(repr(value)[:2000])
        except AssertionError as exc:
            verdict.error = ("AssertionError", str(exc)[:2000])
        except StudentError as exc:
            verdict.error = ("Error", str(exc))
        except RunnerError as exc:
            verdict.error = ("GradingError", f"your code could not be run for the tests ({exc})")
        except NameError as exc:
            verdict.error = ("NameError", str(exc)[:300])
        except (Exception, SystemExit) as exc:
            # a wrong type or shape returned by the student; on hidden data, say no more (a
            # numpy message would quote the expected array's shape or values)
            detail = ("in a hidden check: your result has the wrong type, shape or value for "
                      "this data" if hidden else str(exc)[:300])
            verdict.error = (type(exc).__name__, detail)
        verdict.stdout = out.getvalue()
        verdict.by_hand = use.by_hand_calls[calls_before:]
        return verdict

    def preprocess_cell(self, cell, resources, index):  # not used: preprocess does the work
        return cell, resources


@contextlib.contextmanager
def _quiet(stdout: bool = True):
    """Instructor code runs here without printing into nbgrader's log or terminal."""
    with contextlib.ExitStack() as stack:
        if stdout:
            stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        yield


class RecordFlags(NbGraderPreprocessor):
    """After SaveAutoGrades: the flag becomes the automatic comment of the notebook's first
    solution cell (shown in the formgrader and the feedback; read by FlaggedCsvExport)."""

    def preprocess(self, nb, resources):
        flags = resources.get("teachkit", {}).get("flags")
        if not flags:
            return nb, resources
        info = resources["nbgrader"]
        first = next((c for c in nb.cells if nbg(c).get("solution")), None)
        if first is None:
            return nb, resources
        with Gradebook(info["db_url"]) as gb:
            comment = gb.find_comment(nbg(first)["grade_id"], info["notebook"], info["assignment"], info["student"])
            comment.auto_comment = f"{FLAG}: {flags}"
            gb.db.commit()
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        return cell, resources


def submission_flags(gb: Gradebook, assignment: str, student: str) -> list[str]:
    """The autograder flags recorded for one submission (empty if none)."""
    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return []
    out = []
    for notebook in submission.notebooks:
        for comment in notebook.comments:
            if comment.auto_comment and comment.auto_comment.startswith(FLAG):
                out.append(f"{notebook.name}: {comment.auto_comment[len(FLAG) + 2:]}")
    return out


class FlaggedCsvExport(CsvExportPlugin):
    """grades.csv as nbgrader writes it, plus a ``flags`` column (what the grader found)."""

    def export(self, gradebook: Gradebook) -> None:
        import csv

        super().export(gradebook)
        dest = self.to or "grades.csv"
        with open(dest, newline="") as fh:
            rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys()) if rows else []
        with open(dest, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields + ["flags"])
            writer.writeheader()
            for row in rows:
                row["flags"] = " | ".join(submission_flags(gradebook, row["assignment"], row["student_id"]))
                writer.writerow(row)
