"""Sealed grading: hidden tests that student code cannot reach or fool.

nbgrader executes a submission in one kernel: the student's cells and the tests share an
interpreter, so a student cell that redefines ``np.allclose`` (or ``AssertionError``, or
IPython's error display) can make every test pass. Here the *hidden* tests are graded again,
outside that kernel, by :class:`SealedHiddenTests`, an nbgrader preprocessor that runs in the
``nbgrader autograde`` process right after ``Execute``:

1. It reads the instructor's cells (setup and tests, with the hidden tests) from the
   **gradebook**, never from the submitted file.
2. It starts a *fresh* Python (``runner.py``), inside the sandbox (``sandbox.py``), that runs
   the submission's code cells (hidden tests removed) and then answers requests: "call
   ``km_table`` with these arrays". Only plain data crosses (numbers, strings, lists, dicts,
   numeric arrays).
3. It executes each hidden-test cell in **this** process, in a namespace built from the
   instructor's setup cells, with this process's numpy, teachkit, math and builtins; a name
   the instructor did not define (the student's ``km_table``) is looked up in the runner and
   becomes a proxy function. Expected values and comparisons therefore never run where
   student code runs, and the student's process never sees them.
4. The hidden cell's score is this verdict (its error output is replaced), whatever the
   kernel printed.
5. Tampering is detected twice: a scan of the student's source (:func:`scan_source`: rebinding
   a name the tests use, assigning attributes of numpy/teachkit/math/builtins/IPython,
   ``setattr``/``exec``/``eval``/``globals()``/dunder attributes, importing ``builtins``,
   ``ctypes``, ``gc``, ``inspect``, ``importlib``, ``unittest.mock``, IPython internals...),
   and the runner's identity check of every module attribute before/after the student's cells.
   A flagged submission gets 0 on every hidden test, a ``TamperingFlagged`` line in the
   feedback and a note at the top of its notebook; :class:`RecordFlags` writes the reason as
   an automatic comment in the gradebook (the formgrader shows it) and
   :class:`FlaggedCsvExport` adds a ``flags`` column to ``grades.csv``.

Any assignment gets this without extra work: keep the hidden tests in cells whose body is
``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``, call the student's *functions* on
data made inside the test, and compare there.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
import select
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins.export import CsvExportPlugin
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import runner  # noqa: E402  (encode/decode shared with the student's side)
import sandbox  # noqa: E402

BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
FLAG = "AUTOGRADER FLAG"
MAX_REPLY = 32 * 1024**2

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


# ----------------------------------------------------------------------------- the runner

class RunnerError(RuntimeError):
    """The submission's process died, timed out or answered nonsense."""


class Runner:
    """A fresh interpreter (sandboxed unless TEACHKIT_SANDBOX=off) holding the submission."""

    def __init__(self, cells: list[dict], folder: Path, timeout: int, protect_builtins: list[str]):
        self.timeout = timeout
        self.work = None
        env = None
        if sandbox.enabled():
            # the runner itself (no secret in it) is mounted read-only inside the sandbox
            inner = "/opt/teachkit-grading/runner.py"
            self.work = sandbox.private_copy(folder)
            cmd = sandbox.command(folder, [sys.executable, "-u", inner],
                                  ro=[(HERE / "runner.py", Path(inner))])
            cmd = sandbox._rebind_workdir(cmd, folder, self.work)
            preexec = sandbox.limit_child
        else:
            cmd, preexec = [sys.executable, "-u", str(HERE / "runner.py")], None
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                [str(sandbox.teachkit_package().parent), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=str(folder), env=env,
                                     preexec_fn=preexec, start_new_session=True)
        self._buf = b""
        self._send({"cells": cells, "timeout": timeout, "protect_builtins": protect_builtins})
        ready = self._receive(timeout * (len(cells) + 2) + 60)
        if not ready.get("ready"):
            raise RunnerError("the submission could not be run")
        self.tampered = [str(x)[:200] for x in ready.get("tampered", [])][:20]

    def _send(self, obj) -> None:
        try:
            self.proc.stdin.write((json.dumps(obj) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise RunnerError("the submission's process has ended") from None

    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise RunnerError("timed out")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise RunnerError("the submission's process has ended")
                self._buf += chunk
                if len(self._buf) > MAX_REPLY:
                    self.close()
                    raise RunnerError("the submission sent too much data")
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            raise RunnerError("the submission's process answered nonsense") from None
        if not isinstance(reply, dict):
            raise RunnerError("the submission's process answered nonsense")
        return reply

    def lookup(self, name: str):
        self._send({"op": "get", "name": name})
        reply = self._receive(self.timeout + 10)
        kind = reply.get("kind")
        if kind == "callable":
            def proxy(*args, **kwargs):
                return self.call(name, args, kwargs)
            proxy.__name__ = name
            return proxy
        if kind == "value":
            try:
                return runner.decode(reply.get("value"))
            except (ValueError, TypeError):
                raise RunnerError(f"{name}: unexpected value") from None
        if kind == "opaque":
            raise TypeError(f"`{name}` holds a value the grader cannot check")
        raise NameError(f"name '{name}' is not defined")

    def call(self, name, args, kwargs):
        try:
            self._send({"op": "call", "name": name, "args": runner.encode(tuple(args)),
                        "kwargs": runner.encode(dict(kwargs))})
        except TypeError as exc:
            raise RunnerError(f"cannot pass the test's data to {name}: {exc}") from None
        reply = self._receive(self.timeout + 10)
        if "error" in reply:
            message = str(reply["error"])[:400]
            raise StudentError(f"{name} raised {message}")
        try:
            return runner.decode(reply.get("ok"))
        except (ValueError, TypeError):
            raise StudentError(f"{name} returned a value the grader cannot check") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


class StudentError(Exception):
    """An exception raised by the student's function during a hidden test."""


class TrustedNamespace(dict):
    """Globals of a hidden test: the instructor's names here; anything else from the runner."""

    def __init__(self, runner_: Runner | None):
        super().__init__()
        self.runner = runner_

    def __missing__(self, name):
        if name in builtins.__dict__ or self.runner is None:
            raise KeyError(name)
        value = self.runner.lookup(name)
        self[name] = value
        return value


# ----------------------------------------------------------------------------- preprocessors

def _nbg(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) or {}


def _strip_hidden(source: str) -> str:
    out, inside = [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside = True
        elif END_HIDDEN in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class SealedHiddenTests(NbGraderPreprocessor):
    """Grade every hidden-test cell outside the student's kernel (see the module docstring)."""

    enabled = Bool(True).tag(config=True)
    timeout = Integer(30, help="seconds per student cell and per call in the runner").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        folder = Path(resources.get("metadata", {}).get("path") or ".").resolve()
        with Gradebook(info["db_url"]) as gb:
            source_cells = {c.name: c for c in gb.find_notebook(info["notebook"], info["assignment"]).source_cells}
            graded = {c.name for c in gb.find_notebook(info["notebook"], info["assignment"]).grade_cells}
            solutions = {c.name for c in gb.find_notebook(info["notebook"], info["assignment"]).solution_cells}

        instructor, runner_cells, student_sources, hidden = [], [], [], []
        for index, cell in enumerate(nb.cells):
            gid = _nbg(cell).get("grade_id")
            src_cell = source_cells.get(gid) if gid else None
            if cell.cell_type != "code":
                continue
            if src_cell is not None and src_cell.locked and gid not in solutions:
                source = src_cell.source
                is_test = gid in graded
                kind = "test" if is_test else "setup"
                instructor.append((index, gid, kind, source))
                runner_cells.append({"kind": kind, "source": _strip_hidden(source)})
                if is_test and BEGIN_HIDDEN in source:
                    hidden.append((index, gid, source))
            else:
                student_sources.append(cell.source)
                runner_cells.append({"kind": "student", "source": cell.source})
        if not hidden:
            return nb, resources

        # names the tests rely on
        setup_names, modules, test_builtins = set(), {}, set()
        for _, _, kind, source in instructor:
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            if kind == "setup":
                modules.update(_imports(tree))
                setup_names |= _top_level_bindings(tree) | set(_imports(tree))
            else:
                test_builtins |= {n.id for n in ast.walk(tree)
                                  if isinstance(n, ast.Name) and n.id in builtins.__dict__}
        reasons = scan_source(student_sources, setup_names | test_builtins, modules)

        verdicts: dict[int, str | None] = {}
        run = None
        try:
            run = Runner(runner_cells, folder, self.timeout, sorted(test_builtins | ALWAYS_PROTECTED))
            reasons += [f"at run time: {r}" for r in run.tampered]
        except (RunnerError, OSError, sandbox.SandboxUnavailable) as exc:
            self.log.warning("sealed grading: %s", exc)
            run = None
            failure = f"your code could not be run for the hidden tests ({exc})"
            for index, _, _ in hidden:
                verdicts[index] = "GradingError: " + failure
        reasons = list(dict.fromkeys(reasons))

        if run is not None:
            try:
                ns = TrustedNamespace(run)
                ns["__name__"] = "__hidden_tests__"
                old_cwd = os.getcwd()
                os.chdir(folder)  # the tests seed their data with '<student>/<assignment>'
                try:
                    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                        for index, gid, kind, source in instructor:
                            if kind == "setup":
                                exec(compile(source, f"<setup {gid}>", "exec"), ns)
                        for index, gid, source in hidden:
                            verdicts[index] = self._run_test(ns, gid, source)
                finally:
                    os.chdir(old_cwd)
            except Exception as exc:  # the instructor's setup failed here: say so loudly
                self.log.error("sealed grading: setup failed: %s", traceback.format_exc())
                for index, _, _ in hidden:
                    verdicts.setdefault(index, f"GradingError: the grader failed ({type(exc).__name__})")
            finally:
                run.close()

        if reasons:
            text = "; ".join(reasons)
            self.log.warning("%s: %s/%s/%s: %s", FLAG, info["student"], info["assignment"], info["notebook"], text)
            for index, _, _ in hidden:
                verdicts[index] = ("TamperingFlagged: your code changes what the tests use "
                                   f"({text[:500]}); hidden tests score 0 and your instructor is told")
            note = NotebookNode(cell_type="markdown", metadata={}, source=(
                f"**{FLAG}:** this submission changes what the tests use ({text}). Every hidden test "
                "scores 0; your instructor reviews the submission."))
            resources.setdefault("teachkit", {})["flags"] = text
        for index, _, _ in hidden:
            cell = nb.cells[index]
            outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "error"]
            if verdicts.get(index):
                ename, _, evalue = verdicts[index].partition(": ")
                outputs.append(_error(ename, evalue))
            cell.outputs = outputs
        if reasons:
            nb.cells.insert(0, note)
        return nb, resources

    def _run_test(self, ns: TrustedNamespace, gid: str, source: str) -> str | None:
        try:
            exec(compile(source, f"<hidden test {gid}>", "exec"), ns)
        except AssertionError as exc:
            return f"AssertionError: {exc}"
        except StudentError as exc:
            return f"Error: {exc}"
        except RunnerError as exc:
            return f"GradingError: {exc}"
        except NameError as exc:
            return f"NameError: {exc}"
        except Exception as exc:  # e.g. a wrong shape or type returned by the student
            return f"{type(exc).__name__}: {str(exc)[:300]}"
        return None

    def preprocess_cell(self, cell, resources, index):  # not used: preprocess does the work
        return cell, resources


class RecordFlags(NbGraderPreprocessor):
    """After SaveAutoGrades: the flag becomes the automatic comment of the notebook's first
    solution cell (shown in the formgrader and the feedback; read by FlaggedCsvExport)."""

    def preprocess(self, nb, resources):
        flags = resources.get("teachkit", {}).get("flags")
        if not flags:
            return nb, resources
        info = resources["nbgrader"]
        first = next((c for c in nb.cells if _nbg(c).get("solution")), None)
        if first is None:
            return nb, resources
        with Gradebook(info["db_url"]) as gb:
            comment = gb.find_comment(_nbg(first)["grade_id"], info["notebook"], info["assignment"], info["student"])
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
    """grades.csv as nbgrader writes it, plus a ``flags`` column (tampering found by the grader)."""

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
