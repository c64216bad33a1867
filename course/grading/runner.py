"""The student's side of sealed grading: a fresh interpreter, in the sandbox.

The grader (``sealed.py``) drives it cell by cell, one JSON line per request on a private
copy of stdin/stdout, in the notebook's order, so that every test sees the student's names
as they are at that point of the notebook:

    {"op": "init", "timeout": 30, "protect_builtins": [...], "by_hand": [...]} -> {"ok": true}
    {"op": "run", "kind": "setup"|"student"|"test", "source": "..."}
                                 -> {"done": true, "changed": [names bound or rebound]}
    {"op": "get", "name": "km_table"} -> {"kind": "callable"} | {"kind": "value", "value": ...}
                                         | {"kind": "opaque"} | {"kind": "missing"}
    {"op": "call", "name": ..., "args": ..., "kwargs": ...}
                                 -> {"ok": value} | {"error": "..."}, plus "by_hand": [routines]
    {"op": "finish"}             -> {"tampered": [...]}

Only plain data crosses (numbers, strings, None, booleans, lists, tuples, dicts, numeric
numpy arrays): see :func:`encode` and :func:`decode`. The grader compares values with its
own numpy and teachkit, in its own process, so nothing the student's code does here can
make a test pass; a reply the grader does not expect is a grading error (0), never a crash.

Before the first student cell, the runner records the identity of every attribute of the
modules the tests use; ``finish`` reports what changed (a monkeypatch) so the grader can flag
it. Student code could defeat this report (it runs in this process); the grader also scans
the source, and the scores never depend on this process's honesty.

**By hand.** Started with ``by_hand`` (a list of teachkit routines such as
``teachkit.survival.kaplan_meier``), the runner, after the instructor's setup cells and
before any student cell, replaces those routines *and the private helpers they use* by stubs
that raise and record the call, wherever a reference to them is held (module and class
dictionaries, the user's namespace, lists, tuples, closures, default arguments), checks with
weak references that the originals are gone, and deletes its private copy of teachkit's
source (so neither ``importlib.reload`` nor reading the source brings them back).
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
MAX_ITEMS = 200_000       # numbers in one value crossing the pipe (either way)
MAX_CHANGED = 500         # names reported after one cell


# ----------------------------------------------------------------------------- data

class _Budget:
    def __init__(self, items: int):
        self.left = items

    def take(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise TypeError("value too large for the grader")


def encode(x, depth: int = 0, budget: _Budget | None = None):
    """Plain JSON-able form of a value; TypeError for anything else."""
    budget = budget or _Budget(MAX_ITEMS)
    if depth > MAX_DEPTH:
        raise TypeError("value nested too deeply")
    budget.take()
    if x is None or isinstance(x, (bool, str, int, float)):
        return x if type(x) in (bool, str, int, float, type(None)) else _plain(x)
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(x, np.ndarray):
            if x.dtype.kind not in "biuf":
                raise TypeError(f"numpy arrays of dtype {x.dtype} cannot be checked")
            budget.take(int(x.size))
            return {"__nd__": x.tolist(), "dtype": x.dtype.str, "shape": list(x.shape)}
        if isinstance(x, np.generic):
            return encode(x.item(), depth + 1, budget)
    if isinstance(x, (list, tuple)):
        return {"__seq__": "tuple" if isinstance(x, tuple) else "list",
                "items": [encode(v, depth + 1, budget) for v in x]}
    if isinstance(x, dict):
        return {"__map__": [[encode(k, depth + 1, budget), encode(v, depth + 1, budget)]
                            for k, v in x.items()]}
    raise TypeError(f"a value of type {type(x).__name__} cannot be checked by the grader")


def _plain(x):
    for kind in (bool, int, float, str):
        if isinstance(x, kind):
            return kind(x)
    raise TypeError(type(x).__name__)


def _count(x, budget: _Budget, depth: int = 0) -> None:
    """Count the items of a nested list (numpy would accept a ragged or huge one)."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    budget.take()
    if type(x) is list:
        for v in x:
            _count(v, budget, depth + 1)
    elif not (x is None or type(x) in (bool, int, float)):
        raise ValueError("bad array element")


def decode(x, depth: int = 0, budget: _Budget | None = None):
    """Inverse of :func:`encode`, strict: ValueError on anything unexpected."""
    budget = budget or _Budget(MAX_ITEMS)
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    try:
        budget.take()
    except TypeError:
        raise ValueError("value too large") from None
    if x is None or type(x) in (bool, int, float, str):
        return x
    if type(x) is dict:
        keys = set(x)
        if keys == {"__nd__", "dtype", "shape"}:
            import numpy as np

            try:
                _count(x["__nd__"], budget, depth + 1)
            except TypeError:
                raise ValueError("value too large") from None
            if type(x["dtype"]) is not str or len(x["dtype"]) > 8:
                raise ValueError("bad dtype")
            dtype = np.dtype(x["dtype"])
            if dtype.kind not in "biuf" or dtype.itemsize > 16:
                raise ValueError("bad dtype")
            shape = x["shape"]
            if type(shape) is not list or len(shape) > 8 or any(type(n) is not int for n in shape):
                raise ValueError("bad shape")
            arr = np.array(x["__nd__"], dtype=dtype)
            if list(arr.shape) != shape:
                raise ValueError("bad shape")
            return arr
        if keys == {"__seq__", "items"} and type(x["items"]) is list:
            items = [decode(v, depth + 1, budget) for v in x["items"]]
            if x["__seq__"] == "tuple":
                return tuple(items)
            if x["__seq__"] == "list":
                return items
        if keys == {"__map__"} and type(x["__map__"]) is list:
            out = {}
            for pair in x["__map__"]:
                if type(pair) is not list or len(pair) != 2:
                    raise ValueError("bad mapping")
                key = decode(pair[0], depth + 1, budget)
                if not isinstance(key, (str, int, float, bool, type(None))):
                    raise ValueError("bad key")
                out[key] = decode(pair[1], depth + 1, budget)
            return out
    raise ValueError("unexpected value from the other side")


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
            elif id(now[key]) != ident and name not in ("sys", "os"):
                out.append(f"changed {name}.{key}")
        if name == "sys":
            for key in ("excepthook", "displayhook", "modules", "settrace", "setprofile"):
                if key in ids and (key not in now or id(now[key]) != ids[key]):
                    out.append(f"changed sys.{key}")
    return out


# ----------------------------------------------------------------------------- by hand

class ByHandError(Exception):
    """A teachkit routine that a by-hand part reimplements was called."""


CALLS: list[str] = []


def _stub(qualname: str, original):
    short = qualname.rsplit(".", 1)[-1]
    message = f"{qualname} is not available here: this part is to be done by hand"
    if isinstance(original, type):
        def __new__(cls, *args, **kwargs):
            CALLS.append(qualname)
            raise ByHandError(message)
        return type(short, (), {"__new__": __new__, "__doc__": message, "__module__": "by_hand"})

    def unavailable(*args, **kwargs):
        CALLS.append(qualname)
        raise ByHandError(message)
    unavailable.__name__ = unavailable.__qualname__ = short
    unavailable.__doc__ = message
    unavailable.__module__ = "by_hand"
    return unavailable


def _resolve(qualname: str):
    import importlib

    parts = qualname.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(qualname)


def _teachkit_object(obj) -> bool:
    mod = getattr(obj, "__module__", None) or ""
    return isinstance(mod, str) and (mod == "teachkit" or mod.startswith("teachkit."))


def _functions(obj) -> list:
    """The Python functions behind a routine: itself, a wrapper's ``__wrapped__``, or the
    methods (and property accessors) of a class."""
    import types

    if isinstance(obj, type):
        out = []
        for value in vars(obj).values():
            value = getattr(value, "__func__", value)
            if isinstance(value, property):
                out += [f for f in (value.fget, value.fset, value.fdel) if f is not None]
            elif isinstance(value, types.FunctionType):
                out.append(value)
        return out
    if isinstance(obj, types.FunctionType):
        return [obj]
    wrapped = getattr(obj, "__wrapped__", None)
    return [wrapped] if isinstance(wrapped, types.FunctionType) else []


def _codes(func) -> list:
    import types

    out, stack = [], [func.__code__]
    while stack:
        code = stack.pop()
        out.append(code)
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return out


def _internals(objs: dict, quals: dict) -> None:
    """Add to ``objs`` the private teachkit helpers (``_name`` functions and classes, not
    dunders) that the routines use, transitively, and that no other (available) teachkit
    routine uses: shared plumbing such as argument checks stays, so that the rest of teachkit
    keeps working."""
    import types

    cache: dict = {}

    def names(func):
        if id(func) not in cache:
            cache[id(func)] = {n for code in _codes(func) for n in code.co_names}
        return cache[id(func)]

    # every teachkit routine loaded: (function, the routine it belongs to)
    routines = []
    for modname, mod in list(sys.modules.items()):
        if mod is None or not (modname == "teachkit" or modname.startswith("teachkit.")):
            continue
        for value in list(vars(mod).values()):
            if isinstance(value, (types.FunctionType, type)) and getattr(value, "__module__", None) == modname:
                routines += [(f, value) for f in _functions(value)]
    # candidates: private helpers reachable from the banned routines
    cand: dict = {}
    todo = list(objs.values())
    while todo:
        obj = todo.pop()
        for func in _functions(obj):
            for name in names(func):
                if not name.startswith("_") or name.startswith("__"):
                    continue
                helper = func.__globals__.get(name)
                if (helper is None or id(helper) in objs or id(helper) in cand
                        or not callable(helper) or not _teachkit_object(helper)):
                    continue
                cand[id(helper)] = helper
                todo.append(helper)
    # keep out the helpers an available routine uses too (until nothing changes)
    changed = True
    while changed:
        changed = False
        for hid, helper in list(cand.items()):
            for func, owner in routines:
                if id(owner) in objs or id(owner) in cand:
                    continue
                if any(func.__globals__.get(n) is helper for n in names(func)):
                    del cand[hid]
                    changed = True
                    break
    for hid, helper in cand.items():
        objs[hid] = helper
        quals[hid] = f"{helper.__module__}.{getattr(helper, '__qualname__', '?')}"


def _replace_everywhere(objs: dict, stubs: dict, keep: set) -> None:
    """Replace every reference to an original by its stub (see the module docstring)."""
    import gc
    import types

    module_dicts = {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}
    for _ in range(2):
        targets = list(objs.values())
        for ref in gc.get_referrers(*targets):
            if ref is targets or id(ref) in keep or isinstance(ref, types.FrameType):
                continue
            if isinstance(ref, dict):
                hits = [(k, v) for k, v in list(ref.items()) if id(v) in objs and v is objs[id(v)]]
                owners = []
                if hits and id(ref) not in module_dicts:
                    owners = [o for o in gc.get_referrers(ref) if isinstance(o, type)
                              and any(vars(o).get(k) is v for k, v in hits)]
                for key, value in hits:
                    done = False
                    for owner in owners:
                        try:
                            setattr(owner, key, stubs[id(value)])
                            done = True
                        except (TypeError, AttributeError):
                            pass
                    if not done:
                        ref[key] = stubs[id(value)]
            elif isinstance(ref, list):
                for i, value in enumerate(ref):
                    if id(value) in objs and value is objs[id(value)]:
                        ref[i] = stubs[id(value)]
            elif isinstance(ref, tuple):
                new = tuple(stubs.get(id(v), v) if id(v) in objs and v is objs[id(v)] else v
                            for v in ref)
                for holder in gc.get_referrers(ref):
                    if isinstance(holder, types.FunctionType) and holder.__defaults__ is ref:
                        holder.__defaults__ = new
                    elif isinstance(holder, dict) and id(holder) not in keep:
                        for key, value in list(holder.items()):
                            if value is ref:
                                holder[key] = new
                    elif isinstance(holder, list) and id(holder) not in keep:
                        for i, value in enumerate(holder):
                            if value is ref:
                                holder[i] = new
                del new
            elif isinstance(ref, types.CellType):
                try:
                    value = ref.cell_contents
                except ValueError:
                    continue
                if id(value) in objs and value is objs[id(value)]:
                    ref.cell_contents = stubs[id(value)]
        del targets, ref
        gc.collect()


def install_by_hand(names: list[str], user_ns: dict) -> list[str]:
    """Make the routines ``names`` (and their private helpers) unavailable; the problems found
    (a routine that could not be resolved, an original still alive) are returned."""
    import gc
    import importlib
    import linecache
    import shutil
    import weakref

    problems = []
    objs: dict = {}
    quals: dict = {}
    for qual in names:
        try:
            obj = _resolve(qual)
        except Exception:
            problems.append(f"cannot find {qual}")
            continue
        objs[id(obj)] = obj
        quals[id(obj)] = qual
    obj = None
    _internals(objs, quals)
    stubs = {oid: _stub(quals[oid], o) for oid, o in objs.items()}
    refs = []
    for oid, o in objs.items():
        refs.append((quals[oid], weakref.ref(o)))
        for func in _functions(o):
            for code in _codes(func):
                try:
                    refs.append((quals[oid] + " (its code)", weakref.ref(code)))
                except TypeError:
                    pass
    o = func = code = None
    keep = {id(objs), id(stubs), id(refs), id(quals)}
    _replace_everywhere(objs, stubs, keep)
    objs.clear()
    gc.collect()
    alive = sorted({q for q, r in refs if r() is not None})
    problems += [f"still reachable: {q}" for q in alive]
    # teachkit's source: gone (the sandbox gave this runner a copy it may delete)
    lib = os.environ.get("TEACHKIT_LIB_COPY")
    if lib:
        shutil.rmtree(os.path.join(lib, "teachkit"), ignore_errors=True)
        if os.path.exists(os.path.join(lib, "teachkit")):
            problems.append("could not delete teachkit's source")
    linecache.clearcache()
    importlib.invalidate_caches()
    sys.path_importer_cache.clear()
    return problems


# ----------------------------------------------------------------------------- main

class CellTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise CellTimeout("this took too long")


def main() -> None:
    lib = os.environ.get("TEACHKIT_LIB")
    if lib and lib not in sys.path:
        sys.path.append(lib)
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

    signal.signal(signal.SIGALRM, _alarm)
    try:
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance(history_length=0)
        shell.history_manager.enabled = False
        ns = shell.user_ns

        def run(src):
            res = shell.run_cell(src, store_history=False, silent=True)
            return res.error_before_exec or res.error_in_exec
        transform = shell.transform_cell
    except Exception:  # IPython unusable: plain exec
        ns = {"__name__": "__main__"}

        def run(src):
            exec(compile(src, "<cell>", "exec"), ns)

        def transform(src):
            return src

    def run_statements(src):
        import ast

        try:
            tree = ast.parse(transform(src))
        except (SyntaxError, ValueError):
            return
        for node in tree.body:
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), "<cell>", "exec"), ns)
            except CellTimeout:
                raise
            except BaseException:
                pass

    timeout, protect_builtins, by_hand = 30, [], []
    started = False
    snap: dict = {}
    protected: dict[str, int] = {}
    problems: list[str] = []
    for line in proto_in:
        try:
            req = json.loads(line)
        except ValueError:
            break
        op = req.get("op")
        name = str(req.get("name", ""))
        if op == "init":
            timeout = int(req.get("timeout", 30))
            protect_builtins = list(req.get("protect_builtins", []))
            by_hand = list(req.get("by_hand", []))
            send({"ok": True})
        elif op == "run":
            kind = req.get("kind")
            if kind != "setup" and not started:
                started = True
                if by_hand:
                    problems = install_by_hand(by_hand, ns)
                snap = _snapshot()
                protected = {k: id(v) for k, v in ns.items()}
            before = {k: id(v) for k, v in ns.items()}
            signal.alarm(timeout)
            try:
                if by_hand and kind == "student":
                    # statement by statement: a top-level call of an unavailable routine
                    # must not take the definitions after it down with it
                    run_statements(req.get("source", ""))
                else:
                    run(req.get("source", ""))
            except BaseException:  # a student cell may raise anything, even SystemExit
                pass
            finally:
                signal.alarm(0)
            changed = [k for k, v in list(ns.items()) if before.get(k) != id(v)]
            changed += [k for k in before if k not in ns]
            send({"done": True, "changed": changed[:MAX_CHANGED], "problems": problems})
        elif op == "get":
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
                send({"kind": "opaque", "error": str(exc)[:200]})
        elif op == "call":
            del CALLS[:]
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
            reply["by_hand"] = sorted(set(CALLS))[:20]
            send(reply)
        elif op == "finish":
            tampered = _changes(snap) if snap else []
            for key, ident in protected.items():
                if not key.startswith("_") and id(ns.get(key)) != ident:
                    tampered.append(f"rebinds `{key}` (set up by the instructor)")
            import builtins

            for key in protect_builtins:
                if key in ns and key not in protected and ns[key] is not getattr(builtins, key, None):
                    tampered.append(f"shadows the built-in `{key}`")
            send({"tampered": tampered})
        else:
            break


if __name__ == "__main__":
    main()
