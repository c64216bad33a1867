"""Offline calibration search for ``teachkit.cohort.synthetic_cohort``.

Run ``.venv/bin/python tests/calibration/calibrate_cohort.py [n_draws [search_seed]]``.  With
the seed fixed at 2019 it draws generator parameters at random (ranges below),
builds the cohort, and scores it against the published targets with small,
self-contained numpy estimators (Kaplan-Meier; stratified Cox, Efron ties;
reverse Kaplan-Meier median follow-up).  A random phase (``n_draws`` parameter
sets) is followed, if no set meets every target with a safety margin (half
the tolerance), by a local search that nudges one parameter at a time and
keeps improvements.  It prints the best set, to be pasted into
``teachkit.cohort.CALIBRATION`` when every target is within its full
tolerance; ``--refine [steps]`` restarts the local search from the shipped
parameters.  The shipped parameters came from
``calibrate_cohort.py 8000`` (about 4 minutes on 2 cores) and are
checked by ``tests/test_cohort.py`` with teachkit's own estimators and lifelines.

Not collected by pytest (no tests here); no side effects on import.
"""

from __future__ import annotations

import sys

import numpy as np

# published targets: (value, tolerance)
TARGETS = {
    "dfs_2y_blinatumomab": (0.544, 0.015),
    "dfs_2y_chemotherapy": (0.390, 0.015),
    "os_2y_blinatumomab": (0.713, 0.015),
    "os_2y_chemotherapy": (0.584, 0.015),
    "hr_dfs": (0.70, 0.03),
    "hr_os": (0.62, 0.03),
    "interim_dfs_events": (80, 2),
    "median_follow_up_years": (2.9, 0.2),
    # secondary: not required by the issue, matched loosely so the cohort looks like the paper
    "median_follow_up_blinatumomab": (3.1, 0.3),
    "median_follow_up_chemotherapy": (2.7, 0.3),
    "median_months_to_dfs_event": (6.0, 1.0),
    # interim stratified log-rank: one-sided P = .06 (Results, Early Closure), Z = 1.555
    "interim_logrank_z": (1.555, 0.25),
}

RANGES = {
    "accrual_power": (1.0, 3.0),
    "chemo_accrual_lag": (0.0, 0.1),
    "event_median_blinatumomab": (100.0, 450.0),
    "event_median_chemotherapy": (70.0, 450.0),
    "event_sigma": (0.6, 1.6),
    "post_relapse_deaths_blinatumomab": (5, 26),
    "post_relapse_deaths_chemotherapy": (5, 32),
    "death_gap_median_days": (60.0, 300.0),
}


def km_at(time, event, t):
    """Kaplan-Meier S(t) (product over distinct event times <= t)."""
    s = 1.0
    for u in np.unique(time[event & (time <= t)]):
        d = np.sum((time == u) & event)
        r = np.sum(time >= u)
        s *= 1 - d / r
    return s


def km_median(time, event):
    """Smallest time with Kaplan-Meier S(t) <= 0.5."""
    s = 1.0
    for u in np.unique(time[event]):
        s *= 1 - np.sum((time == u) & event) / np.sum(time >= u)
        if s <= 0.5:
            return u
    return np.inf


def logrank_z(time, event, x, strata):
    """Stratified log-rank Z; positive when the x=1 group has fewer events than expected."""
    o_minus_e = var = 0.0
    for s in np.unique(strata):
        m = strata == s
        t, e, z = time[m], event[m], x[m]
        for u in np.unique(t[e]):
            risk = t >= u
            n, n1 = risk.sum(), (risk & z).sum()
            d = ((t == u) & e).sum()
            d1 = ((t == u) & e & z).sum()
            o_minus_e += d1 - d * n1 / n
            if n > 1:
                var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return float(-o_minus_e / np.sqrt(var))


def cox_hr(time, event, x, strata):
    """Stratified Cox, one binary covariate, Efron ties, Newton-Raphson."""
    beta = 0.0
    for _ in range(30):
        score = info = 0.0
        for s in np.unique(strata):
            m = strata == s
            t, e, z = time[m], event[m], x[m].astype(float)
            for u in np.unique(t[e]):
                risk = t >= u
                dead = (t == u) & e
                d = dead.sum()
                w = np.exp(beta * z)
                s0, s1 = w[risk].sum(), (w * z)[risk].sum()
                d0, d1 = w[dead].sum(), (w * z)[dead].sum()
                for k in range(d):
                    f = k / d
                    a0, a1 = s0 - f * d0, s1 - f * d1
                    # z binary: z^2 = z
                    a2 = a1
                    score += z[dead].sum() / d - a1 / a0
                    info += a2 / a0 - (a1 / a0) ** 2
        step = score / info
        beta += step
        if abs(step) < 1e-10:
            break
    return float(np.exp(beta))


def summaries(cohort, interim=None):
    from teachkit.aall1331 import ARMS

    out = {}
    for a in ARMS:
        m = cohort.arm == a
        out[f"dfs_2y_{a}"] = km_at(cohort.dfs_time[m], cohort.dfs_event[m], 2.0)
        out[f"os_2y_{a}"] = km_at(cohort.os_time[m], cohort.os_event[m], 2.0)
    out["hr_dfs"] = cox_hr(cohort.dfs_time, cohort.dfs_event, cohort.treatment, cohort.stratum)
    out["hr_os"] = cox_hr(cohort.os_time, cohort.os_event, cohort.treatment, cohort.stratum)
    interim = cohort.at_cutoff("2019-06-30") if interim is None else interim
    out["interim_dfs_events"] = int(interim.dfs_event.sum())
    out["interim_logrank_z"] = logrank_z(interim.dfs_time, interim.dfs_event, interim.treatment, interim.stratum)
    out["median_follow_up_years"] = km_median(cohort.os_time, ~cohort.os_event)
    for a in ARMS:  # as the paper: median follow-up among living patients (Figure 2 legend)
        m = (cohort.arm == a) & ~cohort.os_event
        out[f"median_follow_up_{a}"] = float(np.median(cohort.os_time[m]))
    out["median_months_to_dfs_event"] = float(np.median(cohort.dfs_time[cohort.dfs_event])) * 12
    return out


#: targets the issue requires; the others only need to be within their tolerance
PRIMARY = ("dfs_2y_blinatumomab", "dfs_2y_chemotherapy", "os_2y_blinatumomab", "os_2y_chemotherapy",
           "hr_dfs", "hr_os", "interim_dfs_events", "median_follow_up_years")


def score(values, margin=0.5):
    """Largest |achieved - target| / (margin * tolerance) (margin 1 for secondary targets), plus a small share of the
    mean (a tie-breaker that lets the local search cross flat stretches);
    < 1 means every target is met with the margin."""
    dev = [abs(values[k] - v) / ((margin if k in PRIMARY else 1.0) * tol) for k, (v, tol) in TARGETS.items()]
    return max(dev) + 0.01 * float(np.mean(dev))


def draw(rng):
    p = {}
    for k, (lo, hi) in RANGES.items():
        p[k] = int(rng.integers(lo, hi + 1)) if isinstance(lo, int) else float(rng.uniform(lo, hi))
    return {
        "accrual_power": round(p["accrual_power"], 3),
        "chemo_accrual_lag": round(p["chemo_accrual_lag"], 3),
        "event_median_days": {"blinatumomab": round(p["event_median_blinatumomab"], 1),
                              "chemotherapy": round(p["event_median_chemotherapy"], 1)},
        "event_sigma": round(p["event_sigma"], 3),
        "post_relapse_deaths": {"blinatumomab": p["post_relapse_deaths_blinatumomab"],
                                "chemotherapy": p["post_relapse_deaths_chemotherapy"]},
        "death_gap_median_days": round(p["death_gap_median_days"], 1),
    }


def _flat(params):
    return {
        "accrual_power": params["accrual_power"],
        "chemo_accrual_lag": params["chemo_accrual_lag"],
        "event_median_blinatumomab": params["event_median_days"]["blinatumomab"],
        "event_median_chemotherapy": params["event_median_days"]["chemotherapy"],
        "event_sigma": params["event_sigma"],
        "post_relapse_deaths_blinatumomab": params["post_relapse_deaths"]["blinatumomab"],
        "post_relapse_deaths_chemotherapy": params["post_relapse_deaths"]["chemotherapy"],
        "death_gap_median_days": params["death_gap_median_days"],
    }


def _nest(flat):
    out = {k: flat[k] for k in ("accrual_power", "chemo_accrual_lag", "event_sigma", "death_gap_median_days")}
    out["event_median_days"] = {"blinatumomab": flat["event_median_blinatumomab"],
                                "chemotherapy": flat["event_median_chemotherapy"]}
    out["post_relapse_deaths"] = {"blinatumomab": flat["post_relapse_deaths_blinatumomab"],
                                  "chemotherapy": flat["post_relapse_deaths_chemotherapy"]}
    return out


def refine(params, seed=2019, steps=3000, search_seed=1):
    """Local search: perturb one parameter at a time, keep improvements."""
    from teachkit.cohort import synthetic_cohort

    rng = np.random.default_rng(search_seed)
    flat = _flat(params)
    best = score(summaries(synthetic_cohort(seed, calibration=params)))
    for i in range(steps):
        trial = dict(flat)
        k = list(RANGES)[rng.integers(len(RANGES))]
        lo, hi = RANGES[k]
        if isinstance(lo, int):
            trial[k] = int(np.clip(trial[k] + rng.choice([-1, 1]), lo, hi))
        else:
            trial[k] = float(np.clip(trial[k] + rng.normal(0, 0.03 * (hi - lo)), lo, hi))
            trial[k] = round(trial[k], 3)
        try:
            values = summaries(synthetic_cohort(seed, calibration=_nest(trial)))
        except RuntimeError:
            continue
        sc = score(values)
        if sc < best:
            best, flat = sc, trial
            print(f"step {i}: score {sc:.3f} {trial}", flush=True)
            if sc < 1:
                break
    params = _nest(flat)
    return best, params, summaries(synthetic_cohort(seed, calibration=params))


def search(n_draws=20000, seed=2019, search_seed=0):
    from teachkit.cohort import synthetic_cohort

    rng = np.random.default_rng(search_seed)
    best = (np.inf, None, None)
    for i in range(n_draws):
        params = draw(rng)
        try:
            cohort = synthetic_cohort(seed, calibration=params)
        except RuntimeError:
            continue
        values = summaries(cohort)
        sc = score(values)
        if sc < best[0]:
            best = (sc, params, values)
            print(f"draw {i}: score {sc:.3f} {values}", flush=True)
        if sc < 1:
            break
    return best


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--refine":  # start from the shipped parameters
        from teachkit.cohort import CALIBRATION

        start = {k: (dict(v) if hasattr(v, "keys") else v) for k, v in CALIBRATION.items()}
        sc, params, values = refine(start, steps=int(sys.argv[2]) if len(sys.argv) > 2 else 3000)
    else:
        n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
        search_seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
        sc, params, values = search(n, search_seed=search_seed)
    if sc >= 1:
        sc, params, values = refine(params)
    print("\nbest score", sc)
    print("CALIBRATION =", params)
    for k, (v, tol) in TARGETS.items():
        print(f"{k:28s} target {v:8.3f} +- {tol:<6g} achieved {values[k]:8.3f}")
