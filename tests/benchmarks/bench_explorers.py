"""Speed of the explorers: update() (compute + in-place redraw + canvas drawn to PNG) vs a
naive redraw (a new figure built and drawn for every move); a second table splits an
update's CPU time into compute, setting the artists, Agg drawing and PNG encoding.

    .venv/bin/python tests/benchmarks/bench_explorers.py [ROUNDS]

For each explorer, its example_params() are applied in turn (as a learner moving the
controls), ROUNDS times (default 5); the table gives the median and 95th percentile of
one move, in wall-clock time and in this process's CPU time (the machine may be shared:
CPU time is what the move costs, wall time what a learner would wait on this machine
now).  "naive" builds a new explorer (new figure, full draw, PNG) for every move.  Targets (issue 6): p95 < 50 ms for every explorer but TrialReplayer, whose
update (2,000 replays of the trial) must answer in < 1 s; issue 17: update() >= 3x faster
than the naive redraw for every explorer.
"""

from __future__ import annotations

import os
import sys
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from teachkit import explorers  # noqa: E402


def _moves(cls, rounds):
    """(change, full parameters) per move; each round starts again from the first set
    (all parameters sent: the CommitteeRoom's steps are only valid in order)."""
    params = cls.example_params()
    moves = []
    for _ in range(rounds):
        state = {**cls.defaults(), **params[0]}
        moves.append((dict(state), dict(state)))
        for p in params[1:]:
            state = {**state, **p}
            moves.append((p, dict(state)))
    return moves


class _Timed:
    """Process time spent in compute, _draw, the Agg drawing and the PNG encoding of one
    explorer (wrapping its methods; the explorer is otherwise untouched)."""

    def __init__(self, ex):
        from teachkit.explorers import _base

        self.parts = {"compute": [], "draw artists": [], "render": [], "png": []}
        self._current = {}

        def timed(name, fn):
            def wrapper(*a, **k):
                c0 = time.process_time()
                try:
                    return fn(*a, **k)
                finally:
                    self._current[name] = self._current.get(name, 0.0) + time.process_time() - c0
            return wrapper

        ex.compute = timed("compute", ex.compute)
        ex._draw = timed("draw artists", ex._draw)
        ex._render = timed("render", ex._render)
        self._module, self._encode = _base, _base._encode_png
        _base._encode_png = timed("png", _base._encode_png)

    def close(self):
        self._module._encode_png = self._encode

    def move_done(self):
        cur = self._current
        cur["render"] = cur.get("render", 0.0) - cur.get("png", 0.0)  # Agg drawing only
        for k in self.parts:
            self.parts[k].append(cur.get(k, 0.0) * 1000)
        self._current = {}


def bench(cls, rounds):
    ex = cls(**cls.example_params()[0])
    ex.update()                                  # warm caches (fonts, glyphs)
    timer = _Timed(ex)
    fast, cpu, naive, naive_cpu = [], [], [], []
    try:
        for change, full in _moves(cls, rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            ex.update(**change)
            fast.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            timer.move_done()
            assert ex.error is None, ex.error
    finally:
        timer.close()
    naive_rounds = max(1, rounds // 2) if cls is not explorers.TrialReplayer else 1
    for change, full in _moves(cls, naive_rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        fresh = cls(**full)                      # a new figure, built and drawn from scratch
        naive.append(time.perf_counter() - t0)
        naive_cpu.append(time.process_time() - c0)
        assert fresh.png
    ms = [np.array(x) * 1000 for x in (fast, cpu, naive, naive_cpu)]
    return (*ms, {k: np.array(v) for k, v in timer.parts.items()})


#: The control a learner drags in each explorer, for the slider table.
SLIDER = {"KaplanMeierBuilder": "step", "LogRankExplorer": "hazard_ratio",
          "RiskClassifier": "months_from_diagnosis", "StratificationSimulator": "n_patients",
          "EventsPlanner": "hazard_ratio", "BoundaryExplorer": "first_look",
          "InterimMonitor": "events", "TrialReplayer": "hazard_ratio"}


def slider(cls, n_moves=20):
    """Drag one slider step by step from its default (what a learner does most)."""
    name = SLIDER[cls.__name__]
    p = next(q for q in cls.PARAMS if q.name == name)
    ex = cls()
    if p.kind == "choice":  # a menu (the boundary explorer's first look): down, then back up
        i = p.options.index(p.default)
        walk = list(p.options[i + 1:]) + list(reversed(p.options[:-1]))
        values = (walk * n_moves)[:n_moves]
    else:
        step = p.step or 1
        direction = 1 if p.default + n_moves * step <= p.max else -1   # drag towards the room
        values = [min(max(p.default + direction * k * step, p.min), p.max) for k in range(1, n_moves + 1)]
        if p.kind == "int":
            values = [int(v) for v in values]
    wall, cpu = [], []
    for v in values:
        t0, c0 = time.perf_counter(), time.process_time()
        ex.update(**{name: v})
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert ex.error is None, ex.error
    return name, np.array(wall) * 1000, np.array(cpu) * 1000


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    rounds = int(argv[0]) if argv else 5
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"explorer update() vs naive redraw, ms per move ({rounds} rounds of example_params; "
          f"load average {load:.2f} on {os.cpu_count()} cores)")
    print("speed-up = naive / update, medians of process CPU time (what a move costs; wall "
          "time on a shared machine adds waiting);\n'1st round': the first pass over the "
          "settings only (no result or background seen before; later rounds reuse them, as a "
          "learner moving a control back does)")
    head = (f"{'explorer':24s} {'moves':>5s} {'median':>7s} {'p95':>7s} {'cpu med':>7s} "
            f"{'cpu p95':>7s} {'naive cpu':>9s} {'naive wall':>10s} {'speed-up':>8s} "
            f"{'1st round':>9s}  target (p95)")
    print(head)
    print("-" * len(head))
    parts = {}
    for cls in explorers.ALL:
        fast, cpu, naive, naive_cpu, parts[cls.__name__] = bench(cls, rounds)
        target = 1000.0 if cls is explorers.TrialReplayer else 50.0
        p95 = np.percentile(fast, 95)
        ok = "ok" if p95 < target else ("cpu ok" if np.percentile(cpu, 95) < target else "MISSED")
        print(f"{cls.__name__:24s} {fast.size:5d} {np.median(fast):7.1f} {p95:7.1f} "
              f"{np.median(cpu):7.1f} {np.percentile(cpu, 95):7.1f} "
              f"{np.median(naive_cpu):9.1f} {np.median(naive):10.1f} "
              f"{np.median(naive_cpu) / np.median(cpu):7.1f}x "
              f"{np.median(naive_cpu) / np.median(cpu[:len(cls.example_params())]):8.1f}x"
              f"  < {target:g} ms: {ok}")
    print("\nwhere an update's CPU time goes, ms per move (median / p95)")
    names = ("compute", "draw artists", "render", "png")
    head = f"{'explorer':24s} " + " ".join(f"{n:>15s}" for n in names)
    print(head)
    print("-" * len(head))
    for name, part in parts.items():
        print(f"{name:24s} " + " ".join(
            f"{np.median(part[n]):7.1f} /{np.percentile(part[n], 95):6.1f}" for n in names))
    print("\none slider dragged step by step from its default (20 moves), ms per move")
    head = f"{'explorer':24s} {'slider':22s} {'median':>7s} {'p95':>7s} {'cpu med':>7s} {'cpu p95':>7s}"
    print(head)
    print("-" * len(head))
    for cls in explorers.ALL:
        if cls.__name__ not in SLIDER:  # no slider (TrialOverview: one drop-down)
            continue
        name, wall, cpu = slider(cls, 10 if cls is explorers.TrialReplayer else 20)
        print(f"{cls.__name__:24s} {name:22s} {np.median(wall):7.1f} {np.percentile(wall, 95):7.1f} "
              f"{np.median(cpu):7.1f} {np.percentile(cpu, 95):7.1f}")
    ex = explorers.TrialReplayer(n_trials=2000)
    t0 = time.perf_counter()
    ex.update(seed=12345)
    print(f"\nTrialReplayer, 2,000 replays (220 patients, 3 looks, stratified log-rank): "
          f"{(time.perf_counter() - t0):.3f} s for one update (compute {ex.result.seconds:.3f} s)")


if __name__ == "__main__":
    main()
