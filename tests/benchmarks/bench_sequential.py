"""Speed of teachkit.sequential (these calls sit behind lesson sliders), next to rpact's.

Run:  .venv/bin/python tests/benchmarks/bench_sequential.py

Targets (issue 4): a 3-look design with its power search < 10 ms, a 10-look < 100 ms.
rpact is timed inside R (system.time over repetitions) when Rscript with rpact is
installed; otherwise its column says "n/a".
"""

from __future__ import annotations

import shutil
import subprocess
import time

import numpy as np

from teachkit import sequential as sq

REPEATS = 30

CASES = [
    # label, fractions, what to time, R expression for the same work
    ("3 looks, boundaries", [1 / 3, 2 / 3, 1], "design",
     'getDesignGroupSequential(kMax = 3, typeOfDesign = "asOF", alpha = 0.025)'),
    ("3 looks, boundaries + drift_for_power(0.85)", [1 / 3, 2 / 3, 1], "design+power",
     'getDesignCharacteristics(getDesignGroupSequential(kMax = 3, typeOfDesign = "asOF", '
     'alpha = 0.025, beta = 0.15))'),
    ("10 looks, boundaries", list(np.arange(1, 11) / 10), "design",
     'getDesignGroupSequential(kMax = 10, typeOfDesign = "asOF", alpha = 0.025)'),
    ("10 looks, boundaries + drift_for_power(0.85)", list(np.arange(1, 11) / 10), "design+power",
     'getDesignCharacteristics(getDesignGroupSequential(kMax = 10, typeOfDesign = "asOF", '
     'alpha = 0.025, beta = 0.15))'),
    ("10 looks, drift_for_power(0.85) only", list(np.arange(1, 11) / 10), "power", None),
    ("10 looks uneven, Pocock-type + power", [0.05, 0.1, 0.2, 0.3, 0.45, 0.5, 0.6, 0.75, 0.9, 1],
     "pocock+power",
     'getDesignCharacteristics(getDesignGroupSequential(informationRates = c(0.05, 0.1, 0.2, '
     '0.3, 0.45, 0.5, 0.6, 0.75, 0.9, 1), typeOfDesign = "asP", alpha = 0.025, beta = 0.15))'),
]


def _time_teachkit(fractions, what):
    times = []
    for _ in range(REPEATS):
        if what == "power":
            d = sq.group_sequential_design(fractions)       # fresh design: no cached search
            start = time.perf_counter()
            d.drift_for_power(0.85)
        else:
            start = time.perf_counter()
            spending = "pocock" if what.startswith("pocock") else "obrien-fleming"
            d = sq.group_sequential_design(fractions, spending=spending)
            if what.endswith("power"):
                d.drift_for_power(0.85)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def _rpact_available():
    if shutil.which("Rscript") is None:
        return False
    done = subprocess.run(["Rscript", "-e", "quit(status = !requireNamespace('rpact', quietly = TRUE))"],
                          capture_output=True)
    return done.returncode == 0


def _time_rpact(expr, repeats=REPEATS):
    code = (f"suppressMessages(library(rpact)); invisible({expr}); "
            f"t <- system.time(for (i in 1:{repeats}) {expr})[['elapsed']]; "
            f"cat(1000 * t / {repeats})")
    done = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return float("nan")
    return float(done.stdout.strip().split()[-1])


def main():
    sq.group_sequential_design([0.5, 1]).drift_for_power(0.8)        # warm up imports
    have_r = _rpact_available()
    rows = []
    for label, fractions, what, expr in CASES:
        ours = _time_teachkit(fractions, what)
        theirs = _time_rpact(expr) if (have_r and expr) else float("nan")
        rows.append((label, ours, theirs))
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}s}  {'teachkit ms':>11s}  {'rpact ms':>9s}")
    for label, ours, theirs in rows:
        r = f"{theirs:9.2f}" if np.isfinite(theirs) else f"{'n/a':>9s}"
        print(f"{label:<{width}s}  {ours:11.2f}  {r}")
    print(f"\nteachkit: median of {REPEATS} runs; rpact: mean over {REPEATS} runs inside R "
          f"(system.time), excluding R start-up. rpact {'found' if have_r else 'not installed'}.")
    print("targets: 3 looks + power search < 10 ms; 10 looks + power search < 100 ms")


if __name__ == "__main__":
    main()
