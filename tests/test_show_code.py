"""'Show the code': every explorer's code is the teachkit library calls that reproduce its
numbers; run on its own, for several settings of the controls, it gives the numbers the
explorer computed (compared field by field with ``compute()``'s result)."""

from __future__ import annotations

import html

import numpy as np
import pytest

from teachkit import explorers

X = explorers


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=1e-12, atol=1e-12)


def check_overview(ns, r):
    assert set(ns["percent"]) == set(r.percent)
    for arm in r.percent:
        _close(ns["percent"][arm], r.percent[arm])
    if r.counts is not None:
        assert ns["counts"] == r.counts
    assert ns["fact"].source == r.source


def check_km(ns, r):
    km = ns["km"]
    for field in ("time", "n_at_risk", "n_events", "survival", "std_err", "ci_lower", "ci_upper"):
        _close(getattr(km, field), getattr(r.fit, field))
    if r.row is not None:
        assert f"km.survival[{r.row}]" in ns["__source__"]


def check_log_rank(ns, r):
    lr = ns["lr"]
    _close([lr.z, lr.p_one_sided, lr.variance], [r.test.z, r.test.p_one_sided, r.test.variance])
    _close(ns["analysis"], r.analysis_time)
    for arm, fit in r.fits.items():
        _close(ns["km"][arm].survival, fit.survival)


def check_risk(ns, r):
    assert ns["group"] == r.group
    assert ns["why"].rule == r.rule and ns["why"].reason == r.reason
    if r.randomized:
        from teachkit import risk

        assert risk.randomization_stratum(**ns["patient"]) == r.stratum
    else:
        assert r.stratum is None


def check_stratification(ns, r):
    _close(ns["simple"].max_abs, r.simple.max_abs)
    _close(ns["blocks"].max_abs, r.stratified.max_abs)
    _close([(ns["simple"].max_abs > 2).mean(), (ns["blocks"].max_abs > 2).mean()],
           [r.simple_over_2, r.stratified_over_2])


def check_planning(ns, r):
    _close(ns["events"].events, r.events.events)
    _close(ns["patients"], r.patients)
    _close(ns["hazard"], r.control_hazard)
    _close(ns["times"], r.look_times)
    _close(ns["looks"], r.look_fractions)
    if r.model == "plateau":
        _close([ns["cure"], ns["most"]], [r.cure_fraction, r.max_events_available])


def check_boundaries(ns, r):
    d = ns["design"]
    _close(d.z_efficacy, r.design.z_efficacy)
    _close(d.p_efficacy, r.design.p_efficacy)
    _close(d.alpha_spent, r.design.alpha_spent)
    _close(ns["power"], r.power_cumulative)
    _close(ns["hr"], r.hr_efficacy)
    if r.design.has_futility:
        _close(d.z_futility, r.design.z_futility)


def _check_report(rep, want):
    for field in ("events", "events_planned", "information_fraction", "z", "p_one_sided", "b_value",
                  "z_efficacy", "p_efficacy", "z_futility", "conditional_power_design",
                  "conditional_power_trend", "conditional_power_null", "predictive_power"):
        _close(getattr(rep, field), getattr(want, field))
    assert (rep.efficacy_met, rep.futility_met) == (want.efficacy_met, want.futility_met)


def check_interim(ns, r):
    _check_report(ns["report"], r.report)


def check_replay(ns, r):
    _close(ns["efficacy"], r.efficacy)
    _close(ns["stop_look"], r.stop_look)
    _close(ns["efficacy"].mean(), r.power)


def check_committee(ns, r):
    _check_report(ns["report"], r.report)
    if r.reveal is not None:
        final = ns["final"]
        _close([final.p_value, final.hazard_ratio, final.ci_lower, final.ci_upper],
               [r.reveal.final.p_value, r.reveal.final.hazard_ratio, r.reveal.final.ci_lower,
                r.reveal.final.ci_upper])
    else:
        assert "final" not in ns


CHECKS = {X.TrialOverview: check_overview, X.KaplanMeierBuilder: check_km,
          X.LogRankExplorer: check_log_rank, X.RiskClassifier: check_risk,
          X.StratificationSimulator: check_stratification, X.EventsPlanner: check_planning,
          X.BoundaryExplorer: check_boundaries, X.InterimMonitor: check_interim,
          X.TrialReplayer: check_replay, X.CommitteeRoom: check_committee}

#: The library calls each explorer's code must show (the bridge to the exercises).
CALLS = {X.TrialOverview: ["tk.aall1331.fact("],
         X.KaplanMeierBuilder: ["tk.survival.kaplan_meier("],
         X.LogRankExplorer: ["tk.survival.logrank_test(", "tk.survival.kaplan_meier("],
         X.RiskClassifier: ["tk.risk.assign_risk_group(", "tk.risk.explain_risk_group("],
         X.StratificationSimulator: ["tk.risk.randomize(", "tk.risk.imbalance("],
         X.EventsPlanner: ["tk.design.events_required(", "tk.design.patients_required("],
         X.BoundaryExplorer: ["tk.sequential.group_sequential_design("],
         X.InterimMonitor: ["tk.sequential.interim_report("],
         X.TrialReplayer: ["tk.simulate.simulate_trials(", "tk.sequential.group_sequential_design("],
         X.CommitteeRoom: ["tk.sequential.interim_report("]}


def _settings(cls):
    """The explorer's example settings, applied one after the other as a learner would."""
    state, out = {}, []
    for params in cls.example_params():
        state = {**state, **params}
        if cls is X.TrialReplayer:
            state["n_trials"] = 2000 if len(out) == 1 else 500  # runs of 125 + 250 x 7 + 125, or 125 + 250 + 125
        out.append(dict(state))
    return out


CASES = [(cls, i) for cls in X.ALL for i in range(len(cls.example_params()))]


def test_every_explorer_has_a_checker():
    assert set(CHECKS) == set(X.ALL)


@pytest.mark.parametrize("cls, i", CASES, ids=[f"{c.__name__}-{i}" for c, i in CASES])
def test_code_reproduces_the_explorers_numbers(cls, i):
    params = _settings(cls)[i]
    ex = cls(**params)
    assert ex.error is None, ex.error
    source = ex.code()
    assert source.startswith("import ") and "import teachkit as tk" in source
    assert "tk.explorers." not in source.replace("tk.explorers.trial_strata_mix", "")
    for call in CALLS[cls]:
        assert call in source, (call, source)
    assert max(len(line) for line in source.splitlines()) <= 100
    namespace: dict = {"__source__": source}
    compile(source, f"<{cls.__name__}.code>", "exec")
    exec(compile(source, f"<{cls.__name__}.code>", "exec"), namespace)  # noqa: S102
    CHECKS[cls](namespace, ex.result)
    assert ex.code() == ex.code(ex.params)


def test_the_code_follows_the_parameters():
    # a changed number shows in the code, and a stale code would fail its checker
    ex = X.InterimMonitor()
    before = ex.code()
    ex.update(events=44)
    assert ex.code() != before and "44, 131" in ex.code()
    stale: dict = {}
    exec(compile(before, "<stale>", "exec"), stale)  # noqa: S102
    with pytest.raises(AssertionError):
        check_interim(stale, ex.result)


def test_show_the_code_is_collapsed_and_follows_the_controls():
    ex = explorers.EventsPlanner()
    box = ex.widget
    assert ex._code_html.layout.display == "none" and ex._code_html.value == ""
    assert ex._code_button.description == "Show the code"
    ex._code_button.click()
    assert ex._code_html.layout.display != "none"
    assert ex._code_button.description == "Hide the code"
    ex.update(hazard_ratio=0.7)
    shown = html.unescape(ex._code_html.value)
    assert "hazard_ratio=0.7" in shown and shown.startswith("<pre><code>")
    assert "tk.design.events_required(" in shown
    ex._code_button.click()
    assert ex._code_html.layout.display == "none"
    assert box is ex.widget


def test_the_committee_room_and_the_monitor_show_the_same_june_2019_report():
    """Both write the June 2019 look's report from one writer (the room once showed an opaque
    ``plan.interim_report()`` where the monitor showed the call with its arguments)."""
    room, monitor = X.CommitteeRoom().code(), X.InterimMonitor().code()
    assert room == monitor and "previous_events=[131 / 3]" in room
    recorded = X.CommitteeRoom(cards_shown=4, recommendation="close_randomization", recorded=True).code()
    assert recorded.startswith("import math\nimport teachkit as tk\n") and monitor.split("\n", 1)[1] in recorded
    assert "tk.sequential.inference_after_stop(" in recorded
