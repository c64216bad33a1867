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

Targets (issue 7, on a 2-core machine): < 4 s cold, < 1 s preheated, < 250 MB per kernel.

Run:  .venv/bin/python tests/benchmarks/bench_lessons.py [--repeat N] [lesson-name-fragment ...]
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


def run(mode: str, names, repeat: int, browser, root=LESSONS):
    preheat = mode == "preheated"
    server = VoilaServer(root, preheat=preheat)
    server.preheat = preheat
    n_notebooks = len(list(root.glob("*.ipynb")))
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="visits per lesson and mode (median time)")
    parser.add_argument("lessons", nargs="*", help="only lessons whose name contains one of these")
    args = parser.parse_args(argv)
    names = [n for n in lesson_names() if not args.lessons or any(f in n for f in args.lessons)]
    chromium = chromium_executable()
    if chromium is None:
        raise SystemExit("Chromium is needed: sudo apt-get install chromium")

    from playwright.sync_api import sync_playwright

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
    print(f"{'lesson':34s} {'cold s':>7s} {'preheated s':>12s} {'kernel MB':>10s}  targets met")
    for name in names:
        c, mem = cold[name]
        w, _ = warm[name]
        ok = [c < TARGET_COLD_S, w < TARGET_PREHEATED_S, mem < TARGET_MEMORY_MB]
        flags = " ".join(("ok" if good else "MISS") for good in ok)
        print(f"{name:34s} {c:7.2f} {w:12.2f} {mem:10.0f}  {flags}")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"targets: cold < {TARGET_COLD_S:g} s, preheated < {TARGET_PREHEATED_S:g} s, kernel < {TARGET_MEMORY_MB:g} MB; "
          f"{psutil.cpu_count()} CPU(s), load average {load} (1/5/15 min) at the end of the run")


if __name__ == "__main__":
    main()
