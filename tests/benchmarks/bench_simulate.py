"""Speed of teachkit.simulate: 10,000 trials x 220 patients x 3 looks, stratified log-rank.

Run:  .venv/bin/python tests/benchmarks/bench_simulate.py

Prints wall and CPU time of one ``simulate_trials`` call (median of 3 runs),
its peak memory (tracemalloc peak of a separate run, and the growth of the
process's maximum resident set size), and the time a Python loop over the same
trials would take with lifelines' ``logrank_test`` (and with teachkit's own
per-trial ``survival.logrank_test``), timed on a sample of those trials and
extrapolated to all 10,000 x 3 tests, in the same run.

Honest comparison: lifelines has no stratified log-rank test, so the lifelines
loop runs its plain (unstratified) ``logrank_test`` once per trial and look --
less work than the stratified test the simulator computes, so the ratio is
conservative.  The lifelines statistic is checked against the simulator's
unstratified Z**2 on the sampled trials (same seed, same trials).  The loops
time the test calls only (the data are prepared beforehand); the simulator's
time includes generating the trials and the decisions.

Targets (issue 5): < 2 s, < 1 GiB, >= 100x faster than the lifelines loop.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc

import numpy as np

N_TRIALS, N_PATIENTS, SEED = 10_000, 220, 2015
SAMPLE = 150  # trials timed in the per-trial loops


def _maxrss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, KiB on Linux


def main() -> None:
    from teachkit.simulate import simulate_trials

    simulate_trials(50, seed=1)  # import and warm up (design integration, caches)

    rss_before = _maxrss_mib()
    walls, cpus = [], []
    for _ in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        sim = simulate_trials(N_TRIALS, N_PATIENTS, seed=SEED)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    rss_growth = _maxrss_mib() - rss_before
    wall, cpu = statistics.median(walls), statistics.median(cpus)

    tracemalloc.start()
    simulate_trials(N_TRIALS, N_PATIENTS, seed=SEED)
    peak_traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    # the same trials again, with their patients kept, and their unstratified Z
    kept = simulate_trials(N_TRIALS, N_PATIENTS, seed=SEED, keep_patients=True)
    assert np.array_equal(kept.z, sim.z), "same seed must give the same trials"
    plain = simulate_trials(N_TRIALS, N_PATIENTS, seed=SEED, stratified=False)

    rng = np.random.default_rng(0)
    sample = rng.choice(N_TRIALS, SAMPLE, replace=False)
    data = [(i, k, kept.patient_data(int(i), k)) for i in sample for k in range(kept.n_looks)]

    from lifelines.statistics import logrank_test as lifelines_logrank

    from teachkit import survival

    split = [(p["time"][p["treatment"]], p["time"][~p["treatment"]],
              p["event"][p["treatment"]], p["event"][~p["treatment"]]) for _, _, p in data]
    t0 = time.perf_counter()
    chi2 = [lifelines_logrank(a, b, event_observed_A=ea, event_observed_B=eb).test_statistic
            for a, b, ea, eb in split]
    per_lifelines = (time.perf_counter() - t0) / len(data)
    ours = np.array([plain.z[i, k] ** 2 for i, k, _ in data])
    max_diff_lifelines = float(np.max(np.abs(np.array(chi2) - ours)))

    t0 = time.perf_counter()
    zs = [survival.logrank_test(p["time"], p["event"], p["treatment"], strata=p["stratum"],
                                treatment=True).z for _, _, p in data]
    per_teachkit = (time.perf_counter() - t0) / len(data)
    max_diff_survival = float(np.max(np.abs(np.array(zs) - np.array([sim.z[i, k] for i, k, _ in data]))))

    n_tests = N_TRIALS * sim.n_looks
    loop_lifelines = per_lifelines * n_tests
    loop_teachkit = per_teachkit * n_tests

    print(f"teachkit.simulate benchmark: {N_TRIALS:,} trials x {N_PATIENTS} patients x "
          f"{sim.n_looks} looks, stratified log-rank ({len(sim.settings['strata'])} strata), "
          f"chunk_size {sim.settings['chunk_size']}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print()
    rows = [
        ("simulate_trials wall time (median of 3)", f"{wall:.3f} s", "< 2 s", wall < 2.0),
        ("  runs (wall)", ", ".join(f"{w:.3f}" for w in walls) + " s", "", None),
        ("simulate_trials CPU time (median of 3)", f"{cpu:.3f} s", "", None),
        ("peak memory, tracemalloc", f"{peak_traced:.0f} MiB", "< 1024 MiB", peak_traced < 1024),
        ("max RSS growth", f"{rss_growth:.0f} MiB", "< 1024 MiB", rss_growth < 1024),
        ("lifelines logrank_test, per call (unstratified)", f"{per_lifelines * 1e3:.2f} ms", "", None),
        (f"lifelines loop, {n_tests:,} calls (extrapolated from {len(data)})",
         f"{loop_lifelines:.1f} s", "", None),
        ("speed-up vs lifelines loop", f"{loop_lifelines / wall:.0f}x", ">= 100x",
         loop_lifelines / wall >= 100),
        ("teachkit.survival.logrank_test, per call (stratified)", f"{per_teachkit * 1e3:.2f} ms", "", None),
        (f"teachkit.survival loop, {n_tests:,} calls (extrapolated)", f"{loop_teachkit:.1f} s", "", None),
        ("speed-up vs teachkit.survival loop", f"{loop_teachkit / wall:.0f}x", "", None),
        ("max |lifelines chi2 - simulator Z^2| (unstratified)", f"{max_diff_lifelines:.1e}", "", None),
        ("max |survival.logrank_test z - simulator z|", f"{max_diff_survival:.1e}", "", None),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>14}  {'target':>10}  met")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:>14}  {target:>10}  {'' if ok is None else ('yes' if ok else 'NO')}")

    print()
    print("The simulated trials (true HR 0.58, the design alternative):")
    print(sim.table())
    print()
    print("Operating characteristics vs teachkit.sequential (cumulative crossing by look, "
          "futility ignored; MC SE in brackets):")
    null = simulate_trials(20_000, N_PATIENTS, hazard_ratio=1.0, seed=SEED + 1)
    d = sim.design
    for label, s, drift in (("H0, 20,000 trials, drift 0", null, 0.0),
                            (f"HR 0.58, Schoenfeld drift {sim.drift:.3f}", sim, sim.drift),
                            (f"HR 0.58, observed-information drift {sim.drift_observed:.3f}", sim,
                             sim.drift_observed)):
        emp = s.crossing_probabilities
        se = s.monte_carlo_se(d.rejection_probabilities(drift))
        theory = d.rejection_probabilities(drift)
        cells = ", ".join(f"{e:.4f} [{x:.4f}] vs {t:.4f} ({(e - t) / x:+.1f} SE)"
                          for e, x, t in zip(emp, se, theory))
        print(f"  {label}: {cells}")

    print()
    print("Early stopping for efficacy exaggerates the effect:")
    for label, fractions in (("3 looks at 1/3, 2/3, 1 of 131 events", None),
                             ("2 looks at 80/131 (the 2019 interim) and 131 events", (80 / 131, 1.0))):
        s = sim if fractions is None else simulate_trials(N_TRIALS, N_PATIENTS, seed=SEED,
                                                          information_fractions=fractions)
        b = s.early_stop_bias()
        print(f"  {label}: {b.n_early} of {s.n_trials} trials ({b.share_early:.1%}) stopped early; "
              f"mean log-HR {b.mean_log_hr:.3f} (MC SE {b.se:.3f}) vs true {np.log(b.true_hazard_ratio):.3f}: "
              f"bias {b.bias:+.3f}; HR exp(mean log) {b.hr_of_mean_log:.3f}, median {b.median_hr:.3f} "
              f"vs 0.58; final-look mean log-HR over all trials {b.mean_log_hr_final_all:.3f}")


if __name__ == "__main__":
    main()
