"""How fast does each lesson become interactive, and how much memory does its kernel use?

For every ``lessons/NN-*.ipynb``, in a real Voila server (the command of
``teachkit.cli.voila_command``) and Debian's headless Chromium driven by Playwright:

* **cold**: Voila started with ``preheat=False``; the time from the page request to
  the lesson being interactive (widgets rendered, Voila's spinner gone; the same
  condition as ``tests/test_lessons_browser.py``) includes starting a kernel and
  running the whole notebook;
* **preheated**: Voila started with ``preheat=True`` (one kernel per lesson started
  and the lesson run in it before the first visit, as ``teachkit lessons`` does);
  the benchmark waits until the pre-heated kernels are idle, then times each request;
* **kernel peak memory**: the peak resident set size (``VmHWM`` in
  ``/proc/<pid>/status``; psutil finds the kernel processes) of the kernel started for
  the lesson in the cold run, read after the lesson's main control (``CONTROLS`` of
  the browser test) has been moved.

A first row times a notebook with nothing but one IntSlider in the same setting: the
floor set by Voila, its widget manager and Chromium, which no lesson can go below.

Targets (issue 7, on a 2-core machine): < 4 s cold, < 1 s preheated, < 250 MB per kernel;
issue 17 (item 9): each pre-heated lesson <= 1.2x the pre-heated one-slider page of the
same run (the "/ baseline" column).

**Slider to pixels** (issue 17, ``--part slider``): per lesson, a key press on the main
control (``MAIN_CONTROL``), and (issue 28, item 4) a click on its slider's track at places
spread over it (``click_path``: a new value each time, never one step away), to the new
picture painted (decoded, then the next animation frame), timed in the page, 30 moves
(median, p95), each after the previous one has settled; the kernel stamps each move's
stages (``TEACHKIT_MOVE_TIMINGS``: compute, draw, render, PNG, messages) and the table
below the first says where the time goes; where an explorer shows a first look before its final picture (the trial
replayer's first run of replays), the time to the final picture is printed below its row;
in the same Voila server the floor:
a notebook with one IntSlider swapping PNGs of the same explorer precomputed at the same
values (what Voila, ipywidgets and Chromium cost with no compute and no drawing); and
both again through a local TCP proxy adding 50 ms each way.  Target: every lesson's
p95 <= 2x the floor's.

Run:  .venv/bin/python tests/benchmarks/bench_lessons.py [--part all|load|slider] [--moves N]
          [--ways keys clicks] [--repeat N] [lesson-name-fragment ...]
Needs Chromium (/usr/bin/chromium), Playwright and psutil.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
sys.path.insert(0, str(TESTS))

from conftest import (  # noqa: E402
    CHROMIUM_ARGS, LESSONS, PageWatch, VoilaServer, _route_outside, chromium_executable,
)
from test_lessons_browser import CONTROLS, lesson_names, move_control, wait_interactive  # noqa: E402

TARGET_COLD_S, TARGET_PREHEATED_S, TARGET_MEMORY_MB = 4.0, 1.0, 250.0
TARGET_PREHEATED_RATIO = 1.2


_PROCESSES: dict[int, psutil.Process] = {}


def kernel_processes(server) -> dict[int, psutil.Process]:
    """The ipykernel processes started by this Voila server, by pid.

    The same ``psutil.Process`` objects are returned on every call, so that
    ``cpu_percent(interval=None)`` measures the time since the previous call.
    """
    out = {}
    for child in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            if any("ipykernel" in part for part in child.cmdline()):
                out[child.pid] = _PROCESSES.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass
    return out


def peak_rss_mb(process: psutil.Process) -> float:
    """Peak resident memory of a process in MB (VmHWM on Linux, else the current RSS)."""
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        if match:
            return int(match.group(1)) / 1024
        return process.memory_info().rss / 2**20
    except (OSError, psutil.NoSuchProcess):
        return float("nan")


def wait_idle(server, n_kernels: int, timeout: float = 300.0, quiet_s: float = 2.0) -> float:
    """Wait until ``n_kernels`` kernels exist and none used CPU for ``quiet_s`` seconds."""
    start = time.perf_counter()
    quiet_since = None
    kernels = kernel_processes(server)
    for k in kernels.values():
        k.cpu_percent(interval=None)  # start measuring
    while time.perf_counter() - start < timeout:
        time.sleep(0.5)
        kernels = kernel_processes(server)
        busy = 0.0
        for k in kernels.values():
            try:
                busy += k.cpu_percent(interval=None)
            except psutil.NoSuchProcess:
                pass
        if len(kernels) >= n_kernels and busy < 5.0:
            quiet_since = quiet_since or time.perf_counter()
            if time.perf_counter() - quiet_since >= quiet_s:
                return time.perf_counter() - start
        else:
            quiet_since = None
    raise RuntimeError(f"pre-heated kernels not idle after {timeout:.0f} s ({len(kernels)} of {n_kernels} started)")




def visit(browser, server, name):
    """Open one lesson; return (seconds to interactive, peak MB of the kernel it used)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = PageWatch(page)
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda r: _route_outside(r, watch))
    before = set(kernel_processes(server))
    t0 = time.perf_counter()
    page.goto(f"{server.url}/voila/render/{name}.ipynb", timeout=120_000)
    wait_interactive(page)
    seconds = time.perf_counter() - t0
    if name in CONTROLS:
        move_control(page, name)
    # cold: the kernel started for this page ran the whole lesson and the control move;
    # its peak is the lesson's kernel memory.  (Pre-heated kernels ran the same code.)
    new = [k for pid, k in kernel_processes(server).items() if pid not in before]
    memory = max((peak_rss_mb(k) for k in new), default=float("nan")) if not server.preheat else float("nan")
    if watch.errors:
        print(f"  ! {name}: {watch.errors}", file=sys.stderr)
    context.close()
    return seconds, memory


def baseline_folder() -> Path:
    """A folder with the lessons' voila.json and a notebook showing one IntSlider: the
    floor that Voila, the widget manager and Chromium set on this machine."""
    import tempfile

    import nbformat

    folder = Path(tempfile.mkdtemp(prefix="teachkit-bench-"))
    (folder / "voila.json").write_text((LESSONS / "voila.json").read_text())
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    nb.cells = [nbformat.v4.new_markdown_cell("# Baseline"),
                nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider()")]
    nbformat.write(nb, folder / f"{BASELINE_NAME}.ipynb")
    return folder


BASELINE_NAME = "baseline-one-slider"


def _has_code(path) -> bool:
    """Whether a notebook has a code cell (Voila pre-heats a kernel only for those)."""
    import json

    return any(c["cell_type"] == "code" for c in json.loads(Path(path).read_text())["cells"])


def run(mode: str, names, repeat: int, browser, root=LESSONS):
    preheat = mode == "preheated"
    server = VoilaServer(root, preheat=preheat)
    server.preheat = preheat
    n_notebooks = len([f for f in root.glob("*.ipynb") if _has_code(f)])  # the glossary has none
    results = {}
    try:
        if preheat:
            waited = wait_idle(server, n_notebooks)
            print(f"  pre-heated kernels ready {waited:.1f} s after Voila answered", file=sys.stderr)
        for name in names:
            times, mems = [], []
            for _ in range(repeat):
                if preheat:
                    wait_idle(server, n_notebooks)  # the pool refills after each visit
                seconds, memory = visit(browser, server, name)
                times.append(seconds)
                mems.append(memory)
                print(f"  {mode:9s} {name:32s} {seconds:6.2f} s  {memory:6.0f} MB peak", file=sys.stderr)
            results[name] = (statistics.median(times), max(mems))
    finally:
        server.stop()
    return results


# --------------------------------------------------------------------------------------
# Slider to pixels: a key press on the lesson's main control -> the new picture painted
# --------------------------------------------------------------------------------------

#: Per lesson: the explorer and the parameter of its main control (the label is read from
#: the explorer's Param, so a relabelled control is still found).  Lesson 00 has a
#: drop-down (ArrowDown picks the next result); the others have sliders (ArrowRight/Left).
MAIN_CONTROL = {
    "00-the-trial": ("TrialOverview", "endpoint"),
    "01-censoring-and-kaplan-meier": ("KaplanMeierBuilder", "step"),
    "02-comparing-curves": ("LogRankExplorer", "hazard_ratio"),
    "03-risk-and-stratification": ("RiskClassifier", "months_from_diagnosis"),
    "04-planning-events": ("EventsPlanner", "hazard_ratio"),
    "05-looking-early": ("BoundaryExplorer", "first_look"),
    "06-the-2019-interim": ("InterimMonitor", "events"),
    "07-after-an-early-stop": ("TrialReplayer", "hazard_ratio"),
}
MOVES = 30
PROXY_DELAY_S = 0.05


def _param(name):
    from teachkit import explorers

    cls_name, param = MAIN_CONTROL[name]
    cls = getattr(explorers, cls_name)
    return cls, next(p for p in cls.PARAMS if p.name == param)


def control_values(name):
    """The values of lesson ``name``'s main control as the lesson shows it (an explorer may
    narrow the range: the Kaplan-Meier builder's rows end at the table's last row), in
    order, and the index of the one it starts at."""
    cls, p = _param(name)
    ex = cls()
    ex.widget  # builds the controls, with the ranges the explorer sets
    control = ex._controls[p.name]
    if p.kind == "choice":
        values = [v for _, v in control.options]
        return values, values.index(control.value)
    step = control.step
    n = int(round((control.max - control.min) / step))
    values = [control.min + k * step for k in range(n + 1)]
    values = [int(v) if p.kind == "int" else round(v, 10) for v in values]
    return values, int(round((control.value - control.min) / step))


def key_path(name, moves=MOVES):
    """The keys pressed and the values they reach: towards the end with more room first,
    back the other way when the range runs out (revisited values are allowed: a learner
    moves back too).  Returns [(key, value)]."""
    _, p = _param(name)
    values, i = control_values(name)
    up, down = ("ArrowDown", "ArrowUp") if p.kind == "choice" else ("ArrowRight", "ArrowLeft")
    lo, hi = 0, len(values) - 1
    direction = 1 if hi - i >= i - lo else -1
    path = []
    for _ in range(moves):
        if not lo <= i + direction <= hi:
            direction = -direction
        i += direction
        path.append((up if direction > 0 else down, values[i]))
    return path


def floor_folder(names, ways=("keys",), moves=MOVES) -> Path:
    """The lessons (copied) and, per lesson, a floor notebook: one IntSlider swapping PNGs
    of that lesson's explorer precomputed (the same pictures, bytes and size), in the same
    folder so that one Voila server serves both.  Keys (``floor-<lesson>``): the pictures
    after each key press of ``key_path``, in that order (ArrowRight steps through them);
    clicks (``floor-clicks-<lesson>``): the pictures at every value of the lesson's control,
    on a slider with as many steps (a click at the same place on its track reaches the same
    value's picture)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="teachkit-bench-slider-"))
    for f in LESSONS.iterdir():
        if f.suffix in (".ipynb", ".json"):
            shutil.copy(f, folder / f.name)
    for name in names:
        cls, p = _param(name)
        if "keys" in ways:
            ex = cls()
            frames = [ex.png]
            for _, value in key_path(name, moves):
                ex.update(**{p.name: value})
                if ex.png == frames[-1]:
                    raise RuntimeError(f"{name}: moving {p.name} to {value} left the picture unchanged")
                frames.append(ex.png)
            _floor_notebook(folder, f"floor-{name}", cls, frames)
        if "clicks" in ways and _clickable(name):
            ex = cls()
            values, start = control_values(name)
            frames = []
            for value in values:
                ex.update(**{p.name: value})
                frames.append(ex.png)
            n = len(values) - 1
            reached = [start] + [int(round(f * n)) for f in click_path(name, moves)]
            for a, b in zip(reached, reached[1:]):
                if frames[a] == frames[b]:
                    raise RuntimeError(f"{name}: a click from {values[a]} to {values[b]} leaves the picture unchanged")
            _floor_notebook(folder, f"floor-clicks-{name}", cls, frames, start)
    return folder


def _floor_notebook(folder, stem, cls, frames, start=0):
    import pickle

    import nbformat

    (folder / f"{stem}.pkl").write_bytes(pickle.dumps(frames))
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    width = int(cls.FIGSIZE[0] * 100)
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Floor ({stem})"), nbformat.v4.new_code_cell(
        "import pickle\nimport ipywidgets as W\n"
        f"frames = pickle.load(open('{stem}.pkl', 'rb'))\n"
        f"frame = W.IntSlider(value={start}, min=0, max=len(frames) - 1, description='Frame')\n"
        f"image = W.Image(value=frames[{start}], format='png', layout=W.Layout(width='100%', "
        f"max_width='{width}px', height='auto'))\n"
        "frame.observe(lambda ch: setattr(image, 'value', frames[ch['new']]), names='value')\n"
        "W.VBox([frame, image])")]
    nbformat.write(nb, folder / f"{stem}.ipynb")


_WATCH_JS = """(control) => {
  // the picture next to the control: the nearest ancestor holding an explorer image
  let el = control;
  while (el && !el.querySelector('img.widget-image')) el = el.parentElement;
  const img = el.querySelector('img.widget-image');
  window.__tk = {t0: null, key: null, times: [], last: null, pending: 0, acts: [], paints: []};
  const act = () => {
    window.__tk.t0 = window.__tk.key = performance.now(); window.__tk.last = null;
    window.__tk.acts.push(performance.timeOrigin + window.__tk.key);
  };
  document.addEventListener('keydown', act, true);
  document.addEventListener('pointerdown', act, true);
  new MutationObserver(() => {
    const key = window.__tk.key;
    if (key === null) return;
    const first = window.__tk.t0 !== null;
    window.__tk.t0 = null;
    window.__tk.pending += 1;
    // painted: decoded, then the next frame
    img.decode().catch(() => null).then(() => requestAnimationFrame(() => {
      const now = performance.now();
      const t = now - key;
      if (first) { window.__tk.times.push(t); window.__tk.paints.push(performance.timeOrigin + now); }
      window.__tk.last = t;
      window.__tk.pending -= 1;
    }));
  }).observe(img, {attributes: true, attributeFilter: ['src']});
}"""

#: Settled: no explorer shows a first, rough result (.tk-busy: the trial replayer's first
#: run of replays) and every picture that came is painted.
_SETTLED_JS = "() => !document.querySelector('.tk-busy') && window.__tk.pending === 0"


def press_and_time(browser, url, control_selector, actions, name, read_s=0.0):
    """Open ``url``, then, one at a time (each after the previous move has settled: its final
    picture painted), press a key on the control (``("key", "ArrowRight")``) or click its
    slider's track at a fraction of its length (``("click", 0.37)``); return three lists:
    ms from the key press or click to the first new picture and to the final one (the same
    but for an explorer that shows a first look before its final result), and the (action,
    painted) wall-clock times in ms, to set against the kernel's (TEACHKIT_MOVE_TIMINGS).
    ``read_s``: seconds the learner reads a settled picture before the next move (0: the next
    move as soon as the last one settled; a learner reading gives the kernel idle time to
    prepare, as it does in a lesson)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = PageWatch(page)
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda r: _route_outside(r, watch))
    finals = []
    try:
        page.goto(url, timeout=180_000)
        wait_lesson(page, timeout_ms=180_000)
        control = open_control(page, control_selector)
        page.evaluate(_WATCH_JS, control.element_handle())
        track = page.locator(control_selector.replace(".noUi-handle", ".noUi-base")).first
        control.focus()
        for k, (how, what) in enumerate(actions):
            if how == "key":
                page.keyboard.press(what)
            else:
                # noUiSlider ignores a tap while the previous tap's transition runs (class
                # noUi-state-tap, 300 ms): a learner's next click comes later than that
                page.wait_for_function("() => !document.querySelector('.noUi-state-tap')", timeout=10_000)
                box = track.bounding_box()
                page.mouse.click(box["x"] + what * box["width"], box["y"] + box["height"] / 2)
            page.wait_for_function("n => window.__tk.times.length > n", arg=k, timeout=60_000)
            page.wait_for_function(_SETTLED_JS, timeout=60_000)
            page.wait_for_timeout(30)
            finals.append(page.evaluate("() => window.__tk.last"))
            if read_s:
                page.wait_for_timeout(int(read_s * 1000))
        times = page.evaluate("() => window.__tk.times")
        stamps = page.evaluate("() => [window.__tk.acts, window.__tk.paints]")
    finally:
        if watch.errors:
            print(f"  ! {name}: {watch.errors}", file=sys.stderr)
        context.close()
    return times, finals, list(zip(*stamps))


def wait_lesson(page, timeout_ms=180_000):
    """The condition of tests/test_lessons_browser.py's wait_interactive (a widget shown,
    Voila's spinner gone), where the first widgets may sit in a closed fold."""
    page.wait_for_selector(".jupyter-widgets:visible", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('#loading') || "
        "getComputedStyle(document.querySelector('#loading')).display === 'none'", timeout=timeout_ms)


def open_control(page, selector, timeout_ms=60_000):
    """The control ``selector`` on an open lesson page, its fold "for the statistician"
    opened first if it sits in a closed one (a learner clicks the fold's summary)."""
    page.wait_for_selector(selector, state="attached", timeout=timeout_ms)
    control = page.locator(selector).first
    if control.evaluate("e => { const d = e.closest('details'); return !!d && !d.open; }"):
        control.evaluate("e => e.closest('details').querySelector('summary').click()")
    control.wait_for(state="visible", timeout=timeout_ms)
    return control


def click_path(name, moves=MOVES, seed=2024):
    """Fractions of the track's length where the learner clicks: spread over the track
    (2%-98%), each at least a tenth of it away from the one before (a new value every time,
    none the draw-ahead of a key press could have foreseen)."""
    import random

    rng = random.Random(f"{seed}-{name}")
    out, last = [], 0.5
    while len(out) < moves:
        f = rng.uniform(0.02, 0.98)
        if abs(f - last) >= 0.1:
            out.append(round(f, 4))
            last = f
    return out


def _control_selector(name, floor):
    if floor:
        return ".widget-hslider:has-text('Frame') .noUi-handle"
    cls, p = _param(name)
    if p.kind == "choice":
        return ".widget-dropdown select"
    return f".widget-hslider:has-text('{p.label}') .noUi-handle"


class DelayProxy:
    """A TCP proxy on 127.0.0.1 adding ``delay`` seconds each way (order kept): a far
    server's round trip, HTTP and websockets alike."""

    def __init__(self, target_port, delay=PROXY_DELAY_S):
        import asyncio
        import socket
        import threading

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.target_port, self.delay = target_port, delay
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", self.port))
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    async def _pipe(self, reader, writer):
        import asyncio

        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def receive():
            while True:
                try:
                    data = await reader.read(65536)
                except ConnectionError:
                    data = b""
                queue.put_nowait((loop.time() + self.delay, data))
                if not data:
                    return

        async def send():
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    writer.close()
                    return
                try:
                    writer.write(data)
                    await writer.drain()
                except ConnectionError:
                    return

        await asyncio.gather(receive(), send())

    async def _handle(self, reader, writer):
        import asyncio

        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer),
                                 return_exceptions=True)
        except asyncio.CancelledError:  # stop(): the connection ends with the proxy
            pass
        finally:
            for w in (writer, upstream_writer):
                w.close()

    def stop(self):
        import asyncio

        async def shutdown():
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # let them end quietly

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


#: Explorers whose main control is a slider (clicks on a track: not lesson 00's menu).
def _clickable(name):
    return _param(name)[1].kind in ("int", "float", "log")


def slider_benchmark(browser, names, moves=MOVES, ways=("keys", "clicks"), read_s=0.0):
    """{(name, "lesson"|"floor", "direct"|"proxy", "keys"|"clicks"): times in ms} from one
    Voila server; the kernels' stage times (TEACHKIT_MOVE_TIMINGS) under
    (name, "stages", "direct", way)."""
    import tempfile

    from teachkit.cli import voila_env

    folder = floor_folder(names, ways, moves)
    timings = Path(tempfile.mkdtemp(prefix="teachkit-moves-"))
    server = VoilaServer(folder, preheat=False, env={**voila_env(), "TEACHKIT_MOVE_TIMINGS": str(timings)})
    proxy = DelayProxy(server.port)
    out = {}
    try:
        for name in names:
            for way in ways:
                if way == "clicks" and not _clickable(name):
                    continue
                if way == "keys":
                    lesson_actions = [("key", k) for k, _ in key_path(name, moves)]
                    floor_actions = [("key", "ArrowRight")] * len(lesson_actions)  # frame k: after move k
                else:
                    lesson_actions = floor_actions = [("click", f) for f in click_path(name, moves)]
                for route, port in (("direct", server.port), ("proxy", proxy.port)):
                    for kind in ("floor", "lesson"):
                        notebook = name if kind == "lesson" else (
                            f"floor-{name}" if way == "keys" else f"floor-clicks-{name}")
                        url = f"http://127.0.0.1:{port}/voila/render/{notebook}.ipynb"
                        for f in timings.glob("*.jsonl"):
                            f.unlink()
                        times, finals, stamps = press_and_time(
                            browser, url, _control_selector(name, kind == "floor"),
                            floor_actions if kind == "floor" else lesson_actions, name, read_s)
                        out[name, kind, route, way] = times
                        out[name, kind, route, way, "final"] = finals
                        if kind == "lesson" and route == "direct":
                            out[name, "stages", route, way] = stages(stamps, timings)
                        print(f"  {way:6s} {route:6s} {kind:6s} {name:32s} median {statistics.median(times):6.0f} ms "
                              f"p95 {_p95(times):6.0f} ms (final picture {statistics.median(finals):6.0f} / "
                              f"{_p95(finals):6.0f})  load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        proxy.stop()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(timings, ignore_errors=True)
    return out


#: A move's way through the machine, as the kernel stamps it (teachkit.explorers._base).
STAGES = (("to kernel", "act", "received"), ("compute", "received", "computed"),
          ("draw", "computed", "drawn"), ("render", "drawn", "rendered"), ("PNG", "rendered", "encoded"),
          ("send picture", "encoded", "picture_sent"), ("other widgets", "picture_sent", "all_sent"),
          ("to painted", "all_sent", "painted"))


def stages(stamps, folder):
    """Median ms of each stage of the moves (browser's action and paint, kernel's stamps on
    the same clock), matching each action to the first move the kernel received after it;
    moves shown from a kept picture have no draw, render or PNG; also the share of moves
    that came while a picture was being drawn ahead, and those found kept."""
    import json

    records = []
    for f in Path(folder).glob("*.jsonl"):
        records += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    moves = sorted((r for r in records if r["kind"] == "move"), key=lambda r: r["received"])
    ahead = [r for r in records if r["kind"] == "ahead"]
    per_stage = {label: [] for label, _, _ in STAGES}
    waited = kept = matched = 0
    for act, painted in stamps:
        act, painted = act / 1000, painted / 1000
        move = next((m for m in moves if m["received"] >= act - 0.001), None)
        if move is None or move["received"] > painted:
            continue
        matched += 1
        moves.remove(move)
        move = {**move, "act": act, "painted": painted}
        kept += bool(move.get("kept"))
        waited += any(a["start"] < move["received"] and a["end"] > act for a in ahead)
        last = "act"
        for label, start, end in STAGES:
            if end in move and start in move:
                per_stage[label].append(1000 * (move[end] - move[start]))
        del last
    out = {label: (statistics.median(v) if v else None) for label, v in per_stage.items()}
    out["moves"], out["kept"], out["waited"] = matched, kept, waited
    return out


def _p95(values):
    import numpy as np

    return float(np.percentile(values, 95))


def print_slider_table(out, names, load_before, moves=MOVES, read_s=0.0):
    reading = (f"the learner reads each picture {read_s:g} s before the next move" if read_s
               else "the next move as soon as the last settled")
    print(f"\nSlider to pixels: a key press on the main control, or a click on its slider's track, "
          f"-> new picture painted, ms ({moves} moves; median / p95; {reading}), headless Chromium, "
          "one Voila server")
    print("floor: the same Voila server, one IntSlider swapping PNGs of the same explorer "
          "precomputed at the same values (clicks: at the same places on its track); proxy: through "
          f"a local TCP proxy adding {PROXY_DELAY_S * 1000:.0f} ms each way")
    head = (f"{'lesson':32s} {'way':6s} {'lesson':>13s} {'floor':>13s} {'p95/floor':>9s}   "
            f"{'proxy lesson':>13s} {'proxy floor':>13s} {'p95/floor':>9s}  target <= 2x")
    print(head)
    print("-" * len(head))
    for name in names:
        for way in ("keys", "clicks"):
            if (name, "lesson", "direct", way) not in out:
                continue
            row = [name.ljust(32), way.ljust(6)]
            ok = []
            for route in ("direct", "proxy"):
                lesson, floor = out[name, "lesson", route, way], out[name, "floor", route, way]
                ratio = _p95(lesson) / _p95(floor)
                ok.append(ratio <= 2.0)
                row.append(f"{statistics.median(lesson):5.0f} / {_p95(lesson):5.0f} "
                           f"{statistics.median(floor):5.0f} / {_p95(floor):5.0f} {ratio:8.2f}x  ")
            print(" ".join(row) + " " + " ".join("ok" if good else "MISS" for good in ok))
            for route in ("direct", "proxy"):
                first, final = out[name, "lesson", route, way], out[name, "lesson", route, way, "final"]
                if final != first:  # a first look, then the final picture (the trial replayer)
                    at_once = sum(a == b for a, b in zip(first, final))
                    print(f"  {route}: the first picture is a first look (part of the replays), or the final "
                          f"one where the kernel had it ready ({at_once} of {len(first)} moves); the "
                          f"final picture came after {statistics.median(final):.0f} / {_p95(final):.0f} ms "
                          f"(median / p95), {_p95(final) / _p95(out[name, 'floor', route, way]):.2f}x the "
                          "floor's p95")
    print("\nWhere a move's time goes (direct, lesson; median ms; the kernel's stamps on the browser's "
          "clock): to kernel = key or click -> the explorer has the new value (browser, websocket, server, "
          "kernel, and any picture being drawn ahead); to painted = the last widget message sent -> "
          "the picture painted")
    labels = [label for label, _, _ in STAGES]
    print(f"{'lesson':32s} {'way':6s} " + " ".join(f"{label:>13s}" for label in labels)
          + "  moves kept waited")
    for name in names:
        for way in ("keys", "clicks"):
            st = out.get((name, "stages", "direct", way))
            if not st:
                continue
            cells = " ".join(f"{st[label]:13.1f}" if st[label] is not None else f"{'-':>13s}" for label in labels)
            print(f"{name:32s} {way:6s} {cells}  {st['moves']:5d} {st['kept']:4d} {st['waited']:6d}")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1/5/15 min): {load_before} at the start, {load} at the end; "
          f"{psutil.cpu_count()} CPU(s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="visits per lesson and mode (median time)")
    parser.add_argument("--part", choices=("all", "load", "slider"), default="all",
                        help="load: request -> interactive and memory; slider: key press -> picture")
    parser.add_argument("--moves", type=int, default=MOVES, help="key presses (and clicks) per lesson (slider part)")
    parser.add_argument("--read", type=float, default=0.0, metavar="S",
                        help="slider part: seconds the learner reads a settled picture before the next move "
                             "(default 0: the next move at once)")
    parser.add_argument("--ways", nargs="+", choices=("keys", "clicks"), default=["keys", "clicks"],
                        help="slider part: key presses, clicks on the track, or both (default)")
    parser.add_argument("lessons", nargs="*", help="only lessons whose name contains one of these")
    args = parser.parse_args(argv)
    names = [n for n in lesson_names() if not args.lessons or any(f in n for f in args.lessons)]
    chromium = chromium_executable()
    if chromium is None:
        raise SystemExit("Chromium is needed: sudo apt-get install chromium")

    from playwright.sync_api import sync_playwright

    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    if args.part in ("all", "slider"):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            slider_names = [n for n in names if n in MAIN_CONTROL]
            out = slider_benchmark(browser, slider_names, args.moves, tuple(args.ways), args.read)
            browser.close()
        print_slider_table(out, slider_names, load_before, args.moves, args.read)
        if args.part == "slider":
            return

    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        base = baseline_folder()
        cold = run("cold", [BASELINE_NAME], args.repeat, browser, root=base)
        warm = run("preheated", [BASELINE_NAME], args.repeat, browser, root=base)
        cold.update(run("cold", names, args.repeat, browser))
        warm.update(run("preheated", names, args.repeat, browser))
        browser.close()
        shutil.rmtree(base, ignore_errors=True)
        names = [BASELINE_NAME] + names

    print(f"Lessons: request -> interactive in headless Chromium (median of {args.repeat}), "
          f"kernel peak memory (VmHWM)")
    base_warm = warm[BASELINE_NAME][0]
    print(f"{'lesson':34s} {'cold s':>7s} {'preheated s':>12s} {'/ baseline':>10s} {'kernel MB':>10s}  "
          f"targets met (cold, preheated, / baseline, memory)")
    for name in names:
        c, mem = cold[name]
        w, _ = warm[name]
        ratio = w / base_warm
        ok = [c < TARGET_COLD_S, w < TARGET_PREHEATED_S, ratio <= TARGET_PREHEATED_RATIO,
              mem < TARGET_MEMORY_MB]
        flags = " ".join(("ok" if good else "MISS") for good in ok)
        print(f"{name:34s} {c:7.2f} {w:12.2f} {ratio:9.2f}x {mem:10.0f}  {flags}")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"targets: cold < {TARGET_COLD_S:g} s, preheated < {TARGET_PREHEATED_S:g} s, preheated <= "
          f"{TARGET_PREHEATED_RATIO:g}x the one-slider page's, kernel < {TARGET_MEMORY_MB:g} MB; "
          f"{psutil.cpu_count()} CPU(s), load average {load_before} (1/5/15 min) at the start, "
          f"{load} at the end of the run")


if __name__ == "__main__":
    main()
