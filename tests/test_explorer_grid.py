"""Clicks on a slider's track as quick as key presses (issue 28, item 4).

After a learner's jump on a slider (a click on its track lands more than one step away), the
kernel, while idle, prepares a move to every other value of that slider: the pictures are
drawn and kept (the replayer, whose first look depends on the last final picture, keeps the
first run of replays instead).  These tests play it as a kernel would (an event loop taking
the control's changes) and check what a learner sees: nothing changes while the grid is
drawn, a later click anywhere on the track shows a kept picture without drawing, and that
picture is byte for byte the one an explorer made at those values shows (its text
alternative and numbers too).  The time it saves is measured by
tests/benchmarks/bench_lessons.py --part slider (keys and clicks); nothing here is timed.
"""

from __future__ import annotations

import asyncio
import html
import sys
from pathlib import Path

import numpy as np
import pytest

from teachkit import explorers
from teachkit.explorers import _ahead
from teachkit.explorers._ahead import _params_key

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_explorers import _in_own_thread  # noqa: E402

#: The main sliders of lessons 02, 03 and 06 (tests/benchmarks/bench_lessons.py MAIN_CONTROL).
SLIDERS = [(explorers.LogRankExplorer, "hazard_ratio"), (explorers.RiskClassifier, "months_from_diagnosis"),
           (explorers.InterimMonitor, "events")]


async def _until(condition, what, seconds=300.0):
    """Let the loop run until ``condition()`` (a hang guard, not a timing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen")
        await asyncio.sleep(0.05)


def _matches_a_fresh_explorer(ex, cls):
    fresh = cls(**ex.params)
    fresh.widget
    assert ex.png == fresh.png, ex.params
    assert ex._alt.value == html.escape(fresh.describe())
    assert ex.numbers() == fresh.numbers() and ex._message.value == fresh._message.value


@pytest.mark.parametrize("cls, name", SLIDERS, ids=lambda x: getattr(x, "__name__", x))
def test_after_a_click_on_the_track_every_value_is_drawn_ahead_and_shown_as_drawn(cls, name):
    ex = cls()
    ex.widget
    control = ex._controls[name]
    values = ex._slider_values(name)
    assert 10 < len(values) <= ex.GRID_MAX
    drawn = []
    render = ex._render
    ex._render = lambda: drawn.append(1) or render()

    def kept(value):
        return _params_key({**ex.params, name: value}) in ex._pictures

    async def clicks():
        start = values.index(ex.params[name])
        far = values[(start + len(values) // 3) % len(values)]
        control.value = far                                      # a click: a jump
        assert len(drawn) == 1
        shown = (ex.png, ex.result, dict(ex.params), ex._alt.value)
        await _until(lambda: all(kept(v) for v in values), "the whole track drawn ahead")
        assert (ex.png, ex.result, dict(ex.params), ex._alt.value) == shown  # nothing shown changed
        # each value drawn once (the first picture before the count began)
        assert len(drawn) == len(values) - 1
        for i in (0, len(values) - 1, len(values) // 2, 3):       # clicks anywhere: no drawing
            control.value = values[i]
            assert len(drawn) == len(values) - 1, i
            _matches_a_fresh_explorer(ex, cls)
        # another parameter changed: the kept pictures are not those of the new settings
        other = next(p for p in cls.PARAMS if p.name != name and p.kind in ("int", "float", "choice", "bool")
                     and ex._controls.get(p.name) is not None)
        n = len(drawn)
        if other.kind == "bool":
            ex._controls[other.name].value = not ex.params[other.name]
        elif other.kind == "choice":
            ex._controls[other.name].value = next(v for _, v in ex._controls[other.name].options
                                                  if v != ex.params[other.name])
        else:
            step = ex._step_from(other.name, ex.params[other.name], 1) or ex._step_from(
                other.name, ex.params[other.name], -1)
            ex._controls[other.name].value = step
        assert len(drawn) == n + 1
        _matches_a_fresh_explorer(ex, cls)

    _in_own_thread(lambda: asyncio.run(clicks()))
    # the grid stays within its bytes
    assert sum(map(len, ex._pictures.values())) <= ex.GRID_BYTES + max(map(len, ex._pictures.values()))


def test_a_key_press_draws_one_step_ahead_only():
    """Keys keep their way (one step on, one back: tests/test_explorers.py); only a jump
    starts the grid."""
    ex = explorers.InterimMonitor()
    ex.widget
    control = ex._controls["events"]
    drawn = []
    render = ex._render
    ex._render = lambda: drawn.append(1) or render()

    async def keys():
        control.value = ex._next_value("events", 1)
        await asyncio.sleep(ex.PAINT_PAUSE + 1.0)
        assert len(drawn) == 2                 # the move and the next step; the one back is kept
        assert len(ex._pictures) == 3

    _in_own_thread(lambda: asyncio.run(keys()))


def test_the_replayer_prepares_runs_not_pictures():
    """Lesson 07's replayer: its first look is drawn over the last final picture's axis, so
    after a jump no first look is kept; the first run of replays of every other true hazard
    ratio is computed ahead (a later click shows its first look without simulating it),
    then the rest of their runs and the final picture, value by value (a click on a value
    done shows its final picture at once, without simulating or drawing anything); every
    number and picture is the one a replayer computing everything itself gives."""
    from teachkit import simulate

    ex = explorers.TrialReplayer(n_trials=500)
    ex.widget
    control = ex._controls["hazard_ratio"]
    values = ex._slider_values("hazard_ratio")
    runs = []
    simulate_trials = simulate.simulate_trials

    def counted(n, *args, **kwargs):
        runs.append(n)
        return simulate_trials(n, *args, **kwargs)

    def same_as_fresh(result):
        fresh = explorers.TrialReplayer(n_trials=500).compute(**ex.params)
        for field in ("n_trials", "power", "prob_efficacy", "prob_futility", "mean_log_hr_early",
                      "mean_log_hr_reached", "mean_log_hr_final_all", "stop_look", "efficacy", "hr_at_stop"):
            np.testing.assert_equal(getattr(result, field), getattr(fresh, field), err_msg=field)

    def done(value):
        return _params_key({**ex.params, "hazard_ratio": value}) in ex._results

    def first_run(value):  # or the whole result (the first value's, computed when it opened)
        return done(value) or _params_key({**ex.params, "hazard_ratio": value}) in getattr(ex, "_first_runs", {})

    async def clicks():
        control.value = values[-1]                                 # a click far up the track
        await _until(lambda: all(map(first_run, values)) and ex.result.n_trials == 500,
                     "the first runs of the whole track")
        assert ex.png and all(k in ex._results for k in ex._pictures)  # no first look kept
        simulate.simulate_trials = counted
        try:
            assert not done(values[3])                             # the values nearest go first
            control.value = values[3]                              # a click: its first look
            assert runs == [] and ex.result.first_look             # came from the kept run
            await _until(lambda: ex.result.n_trials == 500, "the final picture")
            assert runs == [250, 125]                              # the rest of the replays only
            same_as_fresh(ex.result)
            # the rest of the track, run by run: then a click shows a final picture at once
            await _until(lambda: all(map(done, values)), "every value's replays")
            drawn = []
            render = ex._render
            ex._render = lambda: drawn.append(1) or render()
            for value in (values[30], values[0], values[17]):
                runs.clear()
                control.value = value
                assert runs == [] and drawn == [] and not ex.result.first_look and ex.result.n_trials == 500
                same_as_fresh(ex.result)
                assert ex.png == explorers.TrialReplayer(n_trials=500, hazard_ratio=value).png
            # the next first look keeps the y-axis of the kept picture last shown
            assert ex._shown_ymax == ex._ymax(ex.result)
        finally:
            simulate.simulate_trials = simulate_trials
        assert len(ex._results) <= ex.KEEP_RESULTS and len(ex._later_runs) <= ex.GRID_MAX + 1

    _in_own_thread(lambda: asyncio.run(clicks()))


def test_on_a_class_server_nothing_is_drawn_ahead_without_a_spare_core(monkeypatch):
    """A lesson kernel of a class (TEACHKIT_SHARED_CORES, set by the lessons server when it
    serves more than one learner) draws on speculation only on a spare core: with none, the
    grid waits; once one is free, it goes on."""
    monkeypatch.setenv(_ahead.SHARED_CORES, "1")
    busy = {"value": True}
    monkeypatch.setattr(_ahead, "_loadavg", lambda: "9.0 9.0 9.0 9/300 1" if busy["value"] else "0.1 0.2 0.3 1/300 1")
    assert _ahead._spare_core() is False
    ex = explorers.LogRankExplorer()
    ex.widget
    control = ex._controls["hazard_ratio"]
    values = ex._slider_values("hazard_ratio")

    async def clicks():
        control.value = values[-1]
        await asyncio.sleep(ex.PAINT_PAUSE + 1.5)
        assert len(ex._pictures) == 2                  # the first picture and the jump's
        busy["value"] = False
        await _until(lambda: len(ex._pictures) == len(values), "the grid once a core is free")
        control.value = values[-2]                     # a key press back: nothing ahead while busy
        busy["value"] = True

    _in_own_thread(lambda: asyncio.run(clicks()))
    monkeypatch.delenv(_ahead.SHARED_CORES)
    assert _ahead._spare_core() is True                 # a laptop, Binder, a hub's own server


def test_the_replayer_prepares_the_track_after_a_key_press_too():
    """A key press on the true-HR slider (a move of one step) prepares the track as a click
    does, nearest values first: the next key press, either way, shows its final picture at
    once, the same as a replayer computing it itself."""
    from teachkit import simulate

    ex = explorers.TrialReplayer(n_trials=500)
    ex.widget
    control = ex._controls["hazard_ratio"]
    runs = []
    simulate_trials = simulate.simulate_trials

    def key(direction):
        return _params_key({**ex.params, "hazard_ratio": ex._next_value("hazard_ratio", direction)})

    async def keys():
        control.value = ex._next_value("hazard_ratio", 1)
        await _until(lambda: ex.result.n_trials == 500 and key(1) in ex._results and key(-1) in ex._results,
                     "the values one step either way")
        simulate.simulate_trials = lambda n, *a, **k: runs.append(n) or simulate_trials(n, *a, **k)
        try:
            control.value = ex._next_value("hazard_ratio", -1)
            assert runs == [] and not ex.result.first_look
        finally:
            simulate.simulate_trials = simulate_trials
        fresh = explorers.TrialReplayer(n_trials=500, hazard_ratio=ex.params["hazard_ratio"])
        assert ex.png == fresh.png and ex.describe() == fresh.describe()

    _in_own_thread(lambda: asyncio.run(keys()))


@pytest.mark.parametrize("cls, name", [(explorers.LogRankExplorer, "hazard_ratio"), (explorers.InterimMonitor, "events")],
                         ids=lambda x: getattr(x, "__name__", x))
def test_a_lessons_main_slider_is_prepared_before_the_first_click(cls, name):
    """Lessons 02 and 06 are about one slider (GRID_FIRST): built in a kernel (a running event
    loop, as when Voila runs the lesson), the explorer prepares that slider's whole track while
    the learner reads, with nothing on the page changing; then the very first click anywhere
    shows a kept picture (nothing drawn), the one an explorer made at that value shows.  Built
    outside a kernel (a script), nothing is scheduled; an explorer without GRID_FIRST prepares
    nothing before a jump."""
    assert cls.GRID_FIRST == name
    assert explorers.RiskClassifier.GRID_FIRST is None

    async def opened():
        ex = cls()
        ex.widget                                                 # Voila displays the lesson
        values = ex._slider_values(name)
        shown = (ex.png, ex.result, dict(ex.params))
        drawn = []
        render = ex._render
        ex._render = lambda: drawn.append(1) or render()
        await _until(lambda: all(_params_key({**ex.params, name: v}) in ex._pictures for v in values),
                     "the main slider's track prepared before any click")
        assert (ex.png, ex.result, dict(ex.params)) == shown      # nothing shown changed
        assert len(drawn) == len(values) - 1                      # each other value drawn once
        drawn.clear()
        for i in (len(values) - 1, 0, len(values) // 3):          # first clicks: nothing drawn
            ex._controls[name].value = ex._params_by_name[name].control_value(values[i])
            assert drawn == [], i
            _matches_a_fresh_explorer(ex, cls)
        other = explorers.RiskClassifier()
        other.widget
        await asyncio.sleep(other.GRID_FIRST_PAUSE + 1.0)
        assert len(other._pictures) <= 1                          # its own first picture at most

    _in_own_thread(lambda: asyncio.run(opened()))
    script = cls()
    script.widget                                                 # no event loop: nothing later
    assert len(script._pictures) <= 1


def test_the_main_slider_waits_for_the_lessons_last_cell(monkeypatch):
    """In a kernel running a lesson (Voila runs every cell before the page loads its widgets),
    the main slider's track is prepared only once the cells have stopped running: each cell
    run puts it off (IPython's post_run_cell), so the lesson's own cells are not slowed."""
    import types

    import IPython
    from IPython.core.events import EventManager, available_events

    shell = types.SimpleNamespace()
    shell.events = EventManager(shell, available_events)
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)

    async def lesson():
        ex = explorers.LogRankExplorer()
        ex.widget
        values = ex._slider_values("hazard_ratio")
        for _ in range(10):                                         # the lesson's next cells
            await asyncio.sleep(ex.GRID_FIRST_PAUSE / 2)
            shell.events.trigger("post_run_cell", None)
            assert len(ex._pictures) <= 1, "prepared while the lesson's cells still run"
        await _until(lambda: len(ex._pictures) == len(values), "the track after the last cell")
        assert not shell.events.callbacks["post_run_cell"]           # it unregistered itself

    _in_own_thread(lambda: asyncio.run(lesson()))
