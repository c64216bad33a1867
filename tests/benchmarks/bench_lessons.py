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
control (``MAIN_CONTROL``) to the new picture painted (decoded, then the next animation
frame), timed in the page, 30 moves (median, p95), each after the previous one has
settled; where an explorer shows a first look before its final picture (the trial
replayer's first run of replays), the time to the final picture is printed below its row;
in the same Voila server the floor:
a notebook with one IntSlider swapping PNGs of the same explorer precomputed at the same
values (what Voila, ipywidgets and Chromium cost with no compute and no drawing); and
both again through a local TCP proxy adding 50 ms each way.  Target: every lesson's
p95 <= 2x the floor's.

Run:  .venv/bin/python tests/benchmarks/bench_lessons.py [--part all|load|slider] [--moves N]
          [--repeat N] [lesson-name-fragment ...]
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


def key_path(name, moves=MOVES):
    """The keys pressed and the values they reach: towards the end with more room first,
    back the other way when the range runs out (revisited values are allowed: a learner
    moves back too).  The range is the control's as the lesson shows it (an explorer may
    narrow it: the Kaplan-Meier builder's rows end at the table's last row).
    Returns [(key, value)]."""
    cls, p = _param(name)
    ex = cls()
    ex.widget  # builds the controls, with the ranges the explorer sets
    control = ex._controls[p.name]
    if p.kind == "choice":
        values = [v for _, v in control.options]
        i = values.index(control.value)
        up, down, lo, hi = "ArrowDown", "ArrowUp", 0, len(values) - 1
    else:
        step = control.step
        n = int(round((control.max - control.min) / step))
        values = [control.min + k * step for k in range(n + 1)]
        values = [int(v) if p.kind == "int" else round(v, 10) for v in values]
        i = int(round((control.value - control.min) / step))
        up, down, lo, hi = "ArrowRight", "ArrowLeft", 0, n
    direction = 1 if hi - i >= i - lo else -1
    path = []
    for _ in range(moves):
        if not lo <= i + direction <= hi:
            direction = -direction
        i += direction
        path.append((up if direction > 0 else down, values[i]))
    return path


def floor_folder(names) -> Path:
    """The lessons (copied) and, per lesson, a floor notebook: one IntSlider swapping PNGs
    of that lesson's explorer precomputed at the values the benchmark visits (the same
    pictures, bytes and size), in the same folder so that one Voila server serves both."""
    import pickle
    import tempfile

    import nbformat

    folder = Path(tempfile.mkdtemp(prefix="teachkit-bench-slider-"))
    for f in LESSONS.iterdir():
        if f.suffix in (".ipynb", ".json"):
            shutil.copy(f, folder / f.name)
    for name in names:
        cls, p = _param(name)
        ex = cls()
        frames = [ex.png]
        for _, value in key_path(name):
            ex.update(**{p.name: value})
            if ex.png == frames[-1]:
                raise RuntimeError(f"{name}: moving {p.name} to {value} left the picture unchanged")
            frames.append(ex.png)
        (folder / f"floor-{name}.pkl").write_bytes(pickle.dumps(frames))
        nb = nbformat.v4.new_notebook()
        nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python",
                                      "name": "python3"}}
        width = int(cls.FIGSIZE[0] * 100)
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Floor for {name}"), nbformat.v4.new_code_cell(
            "import pickle\nimport ipywidgets as W\n"
            f"frames = pickle.load(open('floor-{name}.pkl', 'rb'))\n"
            "frame = W.IntSlider(value=0, min=0, max=len(frames) - 1, description='Frame')\n"
            "image = W.Image(value=frames[0], format='png', layout=W.Layout(width='100%', "
            f"max_width='{width}px', height='auto'))\n"
            "frame.observe(lambda ch: setattr(image, 'value', frames[ch['new']]), names='value')\n"
            "W.VBox([frame, image])")]
        nbformat.write(nb, folder / f"floor-{name}.ipynb")
    return folder


_WATCH_JS = """(control) => {
  // the picture next to the control: the nearest ancestor holding an explorer image
  let el = control;
  while (el && !el.querySelector('img.widget-image')) el = el.parentElement;
  const img = el.querySelector('img.widget-image');
  window.__tk = {t0: null, key: null, times: [], last: null, pending: 0};
  document.addEventListener('keydown', () => {
    window.__tk.t0 = window.__tk.key = performance.now(); window.__tk.last = null;
  }, true);
  new MutationObserver(() => {
    const key = window.__tk.key;
    if (key === null) return;
    const first = window.__tk.t0 !== null;
    window.__tk.t0 = null;
    window.__tk.pending += 1;
    // painted: decoded, then the next frame
    img.decode().catch(() => null).then(() => requestAnimationFrame(() => {
      const t = performance.now() - key;
      if (first) window.__tk.times.push(t);
      window.__tk.last = t;
      window.__tk.pending -= 1;
    }));
  }).observe(img, {attributes: true, attributeFilter: ['src']});
}"""

#: Settled: no explorer shows a first, rough result (.tk-busy: the trial replayer's first
#: run of replays) and every picture that came is painted.
_SETTLED_JS = "() => !document.querySelector('.tk-busy') && window.__tk.pending === 0"


def press_and_time(browser, url, control_selector, keys, name):
    """Open ``url``, focus the control, press ``keys`` one at a time (each after the
    previous move has settled: its final picture painted); return two lists of ms, key
    press to the first new picture and to the final one (the same but for an explorer
    that shows a first look before its final result)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = PageWatch(page)
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda r: _route_outside(r, watch))
    finals = []
    try:
        page.goto(url, timeout=180_000)
        wait_interactive(page, timeout_ms=180_000)
        page.wait_for_selector(control_selector, timeout=60_000)
        control = page.locator(control_selector).first
        page.evaluate(_WATCH_JS, control.element_handle())
        control.focus()
        for k, key in enumerate(keys):
            page.keyboard.press(key)
            page.wait_for_function("n => window.__tk.times.length > n", arg=k, timeout=60_000)
            page.wait_for_function(_SETTLED_JS, timeout=60_000)
            page.wait_for_timeout(30)
            finals.append(page.evaluate("() => window.__tk.last"))
        times = page.evaluate("() => window.__tk.times")
    finally:
        if watch.errors:
            print(f"  ! {name}: {watch.errors}", file=sys.stderr)
        context.close()
    return times, finals


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


def slider_benchmark(browser, names, moves=MOVES):
    """{(name, "lesson"|"floor", "direct"|"proxy"): times in ms} from one Voila server."""
    folder = floor_folder(names)
    server = VoilaServer(folder, preheat=False)
    proxy = DelayProxy(server.port)
    out = {}
    try:
        for name in names:
            keys = [k for k, _ in key_path(name, moves)]
            floor_keys = ["ArrowRight"] * len(keys)  # frame k is the picture after move k
            for route, port in (("direct", server.port), ("proxy", proxy.port)):
                for kind in ("floor", "lesson"):
                    notebook = f"floor-{name}" if kind == "floor" else name
                    url = f"http://127.0.0.1:{port}/voila/render/{notebook}.ipynb"
                    times, finals = press_and_time(browser, url, _control_selector(name, kind == "floor"),
                                                   floor_keys if kind == "floor" else keys, name)
                    out[name, kind, route] = times
                    out[name, kind, route, "final"] = finals
                    print(f"  {route:6s} {kind:6s} {name:32s} median {statistics.median(times):6.0f} ms "
                          f"p95 {_p95(times):6.0f} ms (final picture {statistics.median(finals):6.0f} / "
                          f"{_p95(finals):6.0f})  load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        proxy.stop()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return out


def _p95(values):
    import numpy as np

    return float(np.percentile(values, 95))


def print_slider_table(out, names, load_before):
    print(f"\nSlider to pixels: key press on the main control -> new picture painted, ms "
          f"({MOVES} moves; median / p95), headless Chromium, one Voila server")
    print("floor: the same Voila server, one IntSlider swapping PNGs of the same explorer "
          "precomputed at the same values; proxy: through a local TCP proxy adding "
          f"{PROXY_DELAY_S * 1000:.0f} ms each way")
    head = (f"{'lesson':32s} {'lesson':>13s} {'floor':>13s} {'p95/floor':>9s}   "
            f"{'proxy lesson':>13s} {'proxy floor':>13s} {'p95/floor':>9s}  target <= 2x")
    print(head)
    print("-" * len(head))
    for name in names:
        row = [name.ljust(32)]
        ok = []
        for route in ("direct", "proxy"):
            lesson, floor = out[name, "lesson", route], out[name, "floor", route]
            ratio = _p95(lesson) / _p95(floor)
            ok.append(ratio <= 2.0)
            row.append(f"{statistics.median(lesson):5.0f} / {_p95(lesson):5.0f} "
                       f"{statistics.median(floor):5.0f} / {_p95(floor):5.0f} {ratio:8.2f}x  ")
        print(" ".join(row) + " " + " ".join("ok" if good else "MISS" for good in ok))
        for route in ("direct", "proxy"):
            first, final = out[name, "lesson", route], out[name, "lesson", route, "final"]
            if final != first:  # a first look, then the final picture (the trial replayer)
                print(f"  {route}: the first picture is a first look (part of the replays); the "
                      f"final picture came after {statistics.median(final):.0f} / {_p95(final):.0f} ms "
                      f"(median / p95), {_p95(final) / _p95(out[name, 'floor', route]):.2f}x the floor's p95")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1/5/15 min): {load_before} at the start, {load} at the end; "
          f"{psutil.cpu_count()} CPU(s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="visits per lesson and mode (median time)")
    parser.add_argument("--part", choices=("all", "load", "slider"), default="all",
                        help="load: request -> interactive and memory; slider: key press -> picture")
    parser.add_argument("--moves", type=int, default=MOVES, help="key presses per lesson (slider part)")
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
            out = slider_benchmark(browser, slider_names, args.moves)
            browser.close()
        print_slider_table(out, slider_names, load_before)
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
