"""Pictures made before a learner asks for them, so that a move shows a kept picture.

A key press on a slider or menu is likely followed by another one step on: after it, while
the kernel is idle, the picture one step further is drawn, then one step back
(:meth:`Ahead._draw_ahead`).  A click on a slider's track (a jump of more than one step) says
nothing of where the next click lands: after it the kernel prepares the rest of the track,
one value at a time between learners' messages (:meth:`Ahead._prepare_grid`; issue 28,
item 4).  An explorer whose lesson is about one coarse slider (:attr:`Ahead.GRID_FIRST`)
prepares that slider's track as soon as its page is built, before the first click.  On a
class server (:data:`SHARED_CORES`) this waits for a core to spare.

Mixed into :class:`teachkit.explorers._base.Explorer`, whose parameters, results, pictures
(``_pictures``) and drawing it uses; what is shown never changes while it draws.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import OrderedDict

import numpy as np

from teachkit import plots

#: Benchmarks only: a folder where a kernel's explorers write, per learner's move, when each
#: stage ended (wall clock, to compare with the browser's): one JSON line per first picture
#: shown after a move, and one per picture drawn ahead (tests/benchmarks/bench_lessons.py).
MOVE_TIMINGS = os.environ.get("TEACHKIT_MOVE_TIMINGS") or None


class Ahead:
    """Drawing ahead and preparing a slider's track (see the module)."""

    #: After a learner's move, while the kernel is idle, draw the picture one step further
    #: on the same control, then one step back (see :meth:`_draw_ahead`).  Off for an
    #: explorer whose compute is long (the replayer's 2,000 trials).
    DRAW_AHEAD = True
    #: After a learner's jump on a slider (a click on its track: more than one step), while
    #: the kernel is idle and the machine has a core to spare, prepare a move to every value
    #: of that slider (see :meth:`_prepare_grid`): the next click anywhere on
    #: the track shows a kept picture.  A slider of more values than this is left alone.
    GRID_MAX = 160
    #: The slider whose track is prepared from the moment the widget is built in a kernel,
    #: before any click (the lesson's main slider, where clicks are likely: its first clicks
    #: then show kept pictures too); None: only after a jump.  It costs a kernel about one
    #: picture's drawing per value once (pre-heated kernels included), and the pictures'
    #: memory (at most :attr:`GRID_BYTES`).
    GRID_FIRST: str | None = None
    #: Seconds after the last cell run (the lesson's) before :attr:`GRID_FIRST`'s track is
    #: prepared.
    GRID_FIRST_PAUSE = 0.3
    #: Bytes of pictures an explorer keeps at most for its grid (a 1000 x 500 picture is
    #: 50-80 kB: a grid of 121 values fits).
    GRID_BYTES = 12 * 2**20

    _stamps: dict | None = None  # a move being timed (MOVE_TIMINGS)

    def _stamp(self, stage: str) -> None:
        if self._stamps is not None:
            self._stamps[stage] = time.time()

    def _direction(self, name, old, new) -> int:
        """+1 or -1: which way a control moved from ``old`` to ``new`` (0: not a slider or a
        menu, or no move)."""
        p = self._params_by_name[name]
        if p.kind == "choice":
            return int(np.sign(p.options.index(new) - p.options.index(old)))
        if p.kind in ("int", "float", "log"):
            return int(np.sign(new - old))
        return 0

    def _next_value(self, name, direction):
        """The value one step of the control ``name`` away from the current one, as the
        browser will send it (see :meth:`Param.from_control`); None past either end."""
        return self._step_from(name, self.params[name], direction)

    def _step_from(self, name, value, direction):
        """The value one step of the control ``name`` away from ``value`` (None past an end)."""
        p, control = self._params_by_name[name], self._controls.get(name)
        if control is None:
            return None
        if p.kind == "choice":
            values = [v for _, v in control.options]
            i = values.index(value) + direction if value in values else -1
            return values[i] if 0 <= i < len(values) else None
        if p.kind in ("int", "float"):
            value = value + direction * control.step
            lo, hi = control.min, control.max
        elif p.kind == "log":
            value = value * control.base ** (direction * control.step)
            lo, hi = control.base ** control.min, control.base ** control.max
        else:
            return None
        slack = 1e-9 * (hi - lo)
        if not lo - slack <= value <= hi + slack:
            return None
        return int(value) if p.kind == "int" else p.from_control(value)

    def _slider_values(self, name) -> list:
        """Every value of the slider ``name`` as the browser sends it and the explorer takes
        it (:meth:`Param.from_control`), in order; [] for another control."""
        p, control = self._params_by_name[name], self._controls.get(name)
        if control is None or p.kind not in ("int", "float", "log"):
            return []
        n = int(round((control.max - control.min) / control.step))
        if p.kind == "int":
            return [int(control.min + k * control.step) for k in range(n + 1)]
        if p.kind == "log":
            return [p.from_control(control.base ** (control.min + k * control.step))
                    for k in range(n + 1)]
        return [p.from_control(control.min + k * control.step) for k in range(n + 1)]

    def _prepare_first_grid(self) -> None:
        """Called when the widget is built: in a kernel (an event loop to come back to),
        prepare :attr:`GRID_FIRST`'s track :attr:`GRID_FIRST_PAUSE` seconds after the last
        cell the kernel runs (Voila runs the whole lesson first: the page's cells before the
        guess), while the learner reads; a move before that prepares its own."""
        if self.GRID_FIRST is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # a script, a test: nothing runs later
        try:
            from IPython import get_ipython

            events = getattr(get_ipython(), "events", None)
        except ImportError:
            events = None
        handle = None

        def later(*_):
            nonlocal handle
            if handle is not None:
                handle.cancel()
            handle = loop.call_later(self.GRID_FIRST_PAUSE, start)

        def start():
            if events is not None:
                events.unregister("post_run_cell", later)
            self._prepare_grid(self.GRID_FIRST, self._generation, None)

        if events is not None:
            events.register("post_run_cell", later)  # each cell run puts it off again
        later()

    def _prepare_grid(self, name, generation, values):
        """Prepare, one value per call while the kernel is idle, a move of the slider
        ``name`` to each of its values, up from the current one, then down
        (:meth:`_prepare_move`: its picture drawn and kept), with the other parameters as
        they are: called after a learner's jump on that slider, as a slider swapping
        prepared pictures would have them all.  A newer move stops it (a newer jump starts
        it again from there); it waits while the machine has no core to spare (a class
        shares its cores) and ends at :attr:`GRID_BYTES` of kept pictures.  What is shown
        does not change."""
        if generation != self._generation:
            return
        loop = asyncio.get_running_loop()
        if values is None:
            values = self._slider_values(name)
            if not 1 < len(values) <= self.GRID_MAX:
                return
            here = values.index(self.params[name]) if self.params[name] in values else 0
            # up the track from here, then down: the static part of the figure (the layout)
            # changes as seldom as it can
            values = values[here + 1:] + values[:here][::-1]
            if self.KEEP_PICTURES:
                # room for the whole grid besides what the explorer keeps anyway
                self._keep_pictures = max(self._keep_pictures, self.KEEP_PICTURES + len(values) + 1)
        if not _spare_core():
            loop.call_later(0.5, self._prepare_grid, name, generation, values)
            return
        while values:
            if sum(map(len, self._pictures.values())) >= self.GRID_BYTES:
                return
            try:
                params = self.validate({**self.params, name: values.pop(0)})
            except ValueError:
                continue  # a value the other parameters rule out: the move will say
            if self._prepare_move(params):
                break
        if values:
            loop.call_later(self.GRID_PAUSE, self._prepare_grid, name, generation, values)

    #: Seconds between two values of a grid (the kernel takes learners' messages between).
    GRID_PAUSE = 0.01

    def _prepare_move(self, params) -> bool:
        """Make a later move to ``params`` quick: draw its picture and keep it (nothing if
        it is kept already, or cannot be computed: the move itself will say).  What is
        shown does not change.  True if it did some work."""
        key = _params_key(params)
        if key in self._pictures:
            return False
        # drawing reads the parameters and the result (a layout key): they are those of the
        # picture drawn ahead meanwhile, then those shown again
        shown = self.params, self.result
        start = time.time()
        try:
            result = self._compute_cached(params)
            self.params, self.result = params, result
            with plots.style():
                self._draw(result)
            _remember(self._pictures, key, self._render(), self._keep_pictures)
        except Exception:  # noqa: BLE001 - nothing is shown: the move itself will say
            pass
        finally:
            self.params, self.result = shown
        if MOVE_TIMINGS:
            _write_timing({"kind": "ahead", "explorer": type(self).__name__,
                           "start": start, "end": time.time()})
        return True

    def _draw_ahead(self, name, direction, generation, first):
        """Draw (and keep in :attr:`_pictures`) the picture one step of ``name`` away in
        ``direction``, then, at the next idle moment, one step the other way.  Called by the
        kernel's event loop after a learner's move has been shown: the learner's next key
        press on that control then shows a picture at once, as a slider swapping prepared
        pictures would.  A newer move abandons it; what is shown (picture, result, numbers)
        does not change; a value that cannot be computed is left for the learner's move to
        explain."""
        if generation != self._generation:
            return
        if not _spare_core():
            return  # a class shares this machine's cores: no picture drawn on speculation
        value = self._next_value(name, direction)
        if value is not None:
            try:
                params = self.validate({**self.params, name: value})
            except Exception:  # noqa: BLE001 - nothing is shown: the move itself will say
                params = None
            if params is not None:
                self._prepare_move(params)
        if first:
            asyncio.get_running_loop().call_soon(self._draw_ahead, name, -direction, generation,
                                                 False)


#: Set (to 1) by the lessons server in its lesson kernels when it serves a class (more than
#: one learner: teachkit._lessonserver): pictures drawn on speculation then wait for a core
#: to spare.
SHARED_CORES = "TEACHKIT_SHARED_CORES"


def _spare_core() -> bool:
    """Whether the machine has a core to spare for pictures drawn on speculation (the next
    key, the rest of a slider's track): always, but in a kernel of a class server
    (:data:`SHARED_CORES`), where only if its load over the last minute is below its cores
    or no more tasks than cores are running now (this kernel included; /proc/loadavg): a
    core other learners' kernels and browsers are waiting for is not spent on a guess.
    Elsewhere than Linux: True."""
    if not os.environ.get(SHARED_CORES):
        return True
    cores = os.cpu_count() or 1
    try:
        fields = _loadavg().split()
        load, running = float(fields[0]), int(fields[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return True
    return load < cores or running <= cores


def _loadavg() -> str:
    with open("/proc/loadavg") as fh:
        return fh.read()


def _write_timing(record: dict) -> None:
    """Append one timing record to this kernel's file in MOVE_TIMINGS (benchmarks only)."""
    try:
        with open(os.path.join(MOVE_TIMINGS, f"moves-{os.getpid()}.jsonl"), "a") as fh:
            fh.write(json.dumps(record) + "\n")
    except OSError:
        pass


def _params_key(params: dict) -> tuple:
    """A hashable key for a set of (validated) parameters."""
    return tuple(sorted(params.items()))


def _remember(cache: OrderedDict, key, value, keep: int) -> None:
    """Store ``value`` under ``key``, forgetting the least recently used beyond ``keep``."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > keep:
        cache.popitem(last=False)
