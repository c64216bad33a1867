"""The student's side of sealed grading: runs in a fresh interpreter, in the sandbox.

It executes the submission's code cells (instructor setup cells, the student's cells, the
visible parts of the test cells: never a hidden test), then answers requests of the grader
on a private copy of stdin/stdout, one JSON line each:

    {"op": "get", "name": "km_table"}          -> {"kind": "callable"} | {"kind": "value", ...}
    {"op": "call", "name": ..., "args": ..., "kwargs": ...} -> {"ok": value} | {"error": "..."}

Only plain data crosses (numbers, strings, None, booleans, lists, tuples, dicts, numeric
numpy arrays): see :func:`encode` and :func:`decode`. The grader compares the values with
its own numpy and teachkit, in its own process, so nothing the student's code changes here
(numpy, builtins, teachkit, the IPython machinery) can make a hidden test pass.

Before the student's cells run, the runner records the identity of every attribute of the
modules the tests use; afterwards it reports what changed (a monkeypatch) so the grader can
flag it. Student code could defeat this report (it runs in this process); the grader also
scans the source (see sealed.py), and the scores never depend on this process's honesty.
"""

from __future__ import annotations

import json
import os
import signal
import sys

WATCHED = ["builtins", "math", "statistics", "numpy", "numpy.testing", "numpy.linalg",
           "numpy.random", "teachkit", "scipy.stats", "IPython.core.interactiveshell",
           "traceback", "json", "sys", "os"]
MAX_DEPTH = 32


# ----------------------------------------------------------------------------- data

def encode(x, depth: int = 0):
    """Plain JSON-able form of a value; TypeError for anything else."""
    if depth > MAX_DEPTH:
        raise TypeError("value nested too deeply")
    if x is None or isinstance(x, (bool, str, int, float)):
        return x if type(x) in (bool, str, int, float, type(None)) else _plain(x)
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(x, np.ndarray):
            if x.dtype.kind not in "biuf":
                raise TypeError(f"numpy arrays of dtype {x.dtype} cannot be checked")
            return {"__nd__": x.tolist(), "dtype": x.dtype.str, "shape": list(x.shape)}
        if isinstance(x, np.generic):
            return encode(x.item(), depth + 1)
    if isinstance(x, (list, tuple)):
        return {"__seq__": "tuple" if isinstance(x, tuple) else "list",
                "items": [encode(v, depth + 1) for v in x]}
    if isinstance(x, dict):
        return {"__map__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in x.items()]}
    raise TypeError(f"a value of type {type(x).__name__} cannot be checked by the grader")


def _plain(x):
    for kind in (bool, int, float, str):
        if isinstance(x, kind):
            return kind(x)
    raise TypeError(type(x).__name__)


def decode(x, depth: int = 0):
    """Inverse of :func:`encode`, strict: ValueError on anything unexpected."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if x is None or type(x) in (bool, int, float, str):
        return x
    if type(x) is dict:
        keys = set(x)
        if keys == {"__nd__", "dtype", "shape"}:
            import numpy as np

            dtype = np.dtype(str(x["dtype"]))
            if dtype.kind not in "biuf":
                raise ValueError("bad dtype")
            arr = np.array(x["__nd__"], dtype=dtype)
            if list(arr.shape) != x["shape"]:
                raise ValueError("bad shape")
            return arr
        if keys == {"__seq__", "items"} and type(x["items"]) is list:
            items = [decode(v, depth + 1) for v in x["items"]]
            if x["__seq__"] == "tuple":
                return tuple(items)
            if x["__seq__"] == "list":
                return items
        if keys == {"__map__"} and type(x["__map__"]) is list:
            out = {}
            for pair in x["__map__"]:
                if type(pair) is not list or len(pair) != 2:
                    raise ValueError("bad mapping")
                key = decode(pair[0], depth + 1)
                if not isinstance(key, (str, int, float, bool, tuple, type(None))):
                    raise ValueError("bad key")
                out[key] = decode(pair[1], depth + 1)
            return out
    raise ValueError("unexpected value from the submission")


# ----------------------------------------------------------------------------- integrity

def _snapshot() -> dict:
    import importlib

    snap = {}
    for name in WATCHED:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        snap[name] = (mod, {k: id(v) for k, v in vars(mod).items()})
        if name == "teachkit":
            for sub_name, sub in list(sys.modules.items()):
                if sub_name.startswith("teachkit.") and sub is not None:
                    snap[sub_name] = (sub, {k: id(v) for k, v in vars(sub).items()})
    return snap


def _changes(snap: dict) -> list[str]:
    out = []
    for name, (mod, ids) in snap.items():
        if sys.modules.get(name) is not mod:
            out.append(f"replaced module {name}")
            continue
        now = vars(mod)
        for key, ident in ids.items():
            if key in ("__loader__", "__spec__"):
                continue
            if key not in now:
                out.append(f"deleted {name}.{key}")
            elif id(now[key]) != ident and name not in ("sys", "os") :
                out.append(f"changed {name}.{key}")
        if name in ("sys",):
            for key in ("excepthook", "displayhook", "modules", "settrace", "setprofile"):
                if key in ids and (key not in now or id(now[key]) != ids[key]):
                    out.append(f"changed sys.{key}")
    return out


# ----------------------------------------------------------------------------- main

class CellTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise CellTimeout("this took too long")


def main() -> None:
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")
    sys.stdout = open(os.devnull, "w", encoding="utf-8")

    def send(obj):
        proto_out.write(json.dumps(obj) + "\n")
        proto_out.flush()

    job = json.loads(proto_in.readline())
    timeout = int(job.get("timeout", 30))
    signal.signal(signal.SIGALRM, _alarm)
    try:
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance(history_length=0)
        shell.history_manager.enabled = False
        ns = shell.user_ns

        def run(src):
            res = shell.run_cell(src, store_history=False, silent=True)
            return res.error_before_exec or res.error_in_exec
    except Exception:  # IPython unusable: plain exec
        ns = {"__name__": "__main__"}

        def run(src):
            exec(compile(src, "<cell>", "exec"), ns)

    snap = None
    protected: dict[str, int] = {}
    errors = []
    for i, cell in enumerate(job["cells"]):
        if cell["kind"] != "setup" and snap is None:
            snap = _snapshot()
            protected = {k: id(v) for k, v in ns.items()}
        signal.alarm(timeout)
        try:
            err = run(cell["source"])
            if err:
                errors.append(f"cell {i}: {type(err).__name__}")
        except CellTimeout:
            errors.append(f"cell {i}: timeout")
        except BaseException as exc:  # a student cell may raise anything, even SystemExit
            errors.append(f"cell {i}: {type(exc).__name__}")
        finally:
            signal.alarm(0)
    if snap is None:
        snap = _snapshot()
    tampered = _changes(snap)
    for name, ident in protected.items():
        if not name.startswith("_") and id(ns.get(name)) != ident:
            tampered.append(f"rebinds `{name}` (set up by the instructor)")
    import builtins

    for name in job.get("protect_builtins", []):
        if name in ns and name not in protected and ns[name] is not getattr(builtins, name, None):
            tampered.append(f"shadows the built-in `{name}`")
    send({"ready": True, "tampered": tampered, "errors": errors})

    for line in proto_in:
        req = json.loads(line)
        name = str(req.get("name", ""))
        if req.get("op") == "get":
            if name not in ns:
                send({"kind": "missing"})
                continue
            value = ns[name]
            if callable(value):
                send({"kind": "callable"})
                continue
            try:
                send({"kind": "value", "value": encode(value)})
            except TypeError as exc:
                send({"kind": "opaque", "error": str(exc)})
        elif req.get("op") == "call":
            signal.alarm(timeout)
            try:
                args = decode(req["args"])
                kwargs = decode(req["kwargs"])
                result = ns[name](*args, **kwargs)
                reply = {"ok": encode(result)}
            except CellTimeout:
                reply = {"error": f"TimeoutError: {name} ran for more than {timeout} s"}
            except BaseException as exc:
                reply = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
            finally:
                signal.alarm(0)
            send(reply)


if __name__ == "__main__":
    main()
