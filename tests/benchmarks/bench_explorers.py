"""Speed of the explorers: update() (compute + in-place redraw + canvas drawn to PNG) vs a
naive redraw (a new figure built and drawn for every move).

    .venv/bin/python tests/benchmarks/bench_explorers.py [ROUNDS]

For each explorer, its example_params() are applied in turn (as a learner moving the
controls), ROUNDS times (default 5); the table gives the median and 95th percentile of
one move, in wall-clock time and in this process's CPU time (the machine may be shared:
CPU time is what the move costs, wall time what a learner would wait on this machine
now).  "naive" builds a new explorer (new figure, full draw, PNG) for every move.  Targets (issue 6): p95 < 50 ms for every explorer but TrialReplayer, whose
update (2,000 replays of the trial) must answer in < 1 s.
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
    params = cls.example_params()
    state = {**cls.defaults(), **params[0]}
    moves = []
    for _ in range(rounds):
        for p in params:
            state = {**state, **p}
            moves.append((p, dict(state)))
    return moves


def bench(cls, rounds):
    ex = cls(**cls.example_params()[0])
    ex.update()                                  # warm caches (fonts, glyphs)
    fast, cpu, naive = [], [], []
    for change, full in _moves(cls, rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        ex.update(**change)
        fast.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert ex.error is None, ex.error
    naive_rounds = max(1, rounds // 2) if cls is not explorers.TrialReplayer else 1
    for change, full in _moves(cls, naive_rounds):
        t0 = time.perf_counter()
        fresh = cls(**full)                      # a new figure, built and drawn from scratch
        naive.append(time.perf_counter() - t0)
        assert fresh.png
    return np.array(fast) * 1000, np.array(cpu) * 1000, np.array(naive) * 1000


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
    head = (f"{'explorer':24s} {'moves':>5s} {'median':>7s} {'p95':>7s} {'cpu med':>7s} "
            f"{'cpu p95':>7s} {'naive med':>9s} {'naive p95':>9s} {'speed-up':>8s}  target (p95)")
    print(head)
    print("-" * len(head))
    for cls in explorers.ALL:
        fast, cpu, naive = bench(cls, rounds)
        target = 1000.0 if cls is explorers.TrialReplayer else 50.0
        p95 = np.percentile(fast, 95)
        ok = "ok" if p95 < target else ("cpu ok" if np.percentile(cpu, 95) < target else "MISSED")
        print(f"{cls.__name__:24s} {fast.size:5d} {np.median(fast):7.1f} {p95:7.1f} "
              f"{np.median(cpu):7.1f} {np.percentile(cpu, 95):7.1f} "
              f"{np.median(naive):9.1f} {np.percentile(naive, 95):9.1f} "
              f"{np.median(naive) / np.median(fast):7.1f}x  < {target:g} ms: {ok}")
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
