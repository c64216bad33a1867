"""A class at once: K learners on one lessons server, each in a browser context of its own.

For each K (default 8, 16 and 30), on this machine:

1. ``teachkit lessons --learners K`` is started on the lessons (the command of
   ``teachkit.cli.voila_command``: pre-heated pools sized for K, filled in the background,
   lesson 00 first, within the server's bound) and the benchmark waits until pre-heating is
   over (no kernel busy, the pools as full as the bound lets them be): "pre-heat s";
2. the K learners open the course home at the same moment (headless Chromium, one context
   each), then lesson 00 at the same moment: **time to usable** is the page request to the
   page being interactive (the condition of tests/test_lessons_browser.py); then each
   presses the key of lesson 00's main control
   ``--moves`` times, all at once, each press timed to its new picture painted (as
   bench_lessons.py's ``--part slider``): "control p95";
3. the same K learners go on to lesson 06 (the issue's reference: its pool holds a quarter of
   the class, the others need cold kernels, some in place of pre-heated kernels of other
   lessons) and move its slider the same way: "slider p95".

Pages refused with the "class server is full" page (HTTP 503) are counted, as are moves whose
picture did not come within 60 s ("lost").  CPU seconds used by the server (Voila and its
kernels) and by the browsers are given per learner opening a lesson and per 100 moves: what
a dedicated server (the learners' browsers on their own laptops) has to provide.  The floor of the same run is K = 1 (one learner
alone on a server set up the same way): each row gives its p95s as ratios to it.  Memory:
the server and its kernels (resident) after each lesson's moves.  The load average (1 min)
is printed at the start and the end of each K: the browsers share the machine's cores with
the server, as a class's laptops do not.

Run:  .venv/bin/python tests/benchmarks/bench_class.py [--learners 8 16 30] [--moves 10]
Needs Chromium (/usr/bin/chromium), Playwright and psutil.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_lessons import _SETTLED_JS, _WATCH_JS, _control_selector, _p95, key_path  # noqa: E402
from conftest import CHROMIUM_ARGS, LESSONS, VoilaServer, chromium_executable  # noqa: E402

HOME, FIRST, SECOND = "index", "00-the-trial", "06-the-2019-interim"
LOST_AFTER_MS = 60_000
#: A lesson's main control not on the page this long after it was usable: that learner's moves
#: are all counted lost (the run goes on).
CONTROL_AFTER_MS = 300_000
OUTSIDE = re.compile(r"^https?://(?!127\.0\.0\.1|localhost)")


def kernels(server) -> list[psutil.Process]:
    out = []
    for child in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            if any("ipykernel" in part for part in child.cmdline()):
                out.append(child)
        except psutil.NoSuchProcess:
            pass
    return out


def memory_mb(server) -> float:
    total = 0
    for p in [psutil.Process(server.proc.pid), *kernels(server)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def cpu_seconds(processes) -> dict[int, float]:
    out = {}
    for p in processes:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return out


def server_processes(server):
    return [psutil.Process(server.proc.pid), *kernels(server)]


def browser_processes():
    out = []
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "chrom" in p.name().lower() or "headless_shell" in p.name().lower():
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def cpu_used(before: dict, after: dict) -> float:
    """CPU seconds between two snapshots (processes that ended meanwhile: up to the first)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def wait_preheated(server, timeout=1800.0) -> float:
    """Seconds until the pre-heating is over: the log says what it fills, and for 10 s no
    kernel started and no kernel used CPU."""
    start = time.perf_counter()
    quiet_since, count = None, -1
    while time.perf_counter() - start < timeout:
        time.sleep(1.0)
        ks = kernels(server)
        busy = 0.0
        for k in ks:
            try:
                busy += k.cpu_percent(interval=None)
            except psutil.NoSuchProcess:
                pass
        if len(ks) == count and busy < 5.0 and ks:
            quiet_since = quiet_since or time.perf_counter()
            if time.perf_counter() - quiet_since >= 10:
                return quiet_since - start
        else:
            quiet_since, count = None, len(ks)
    raise RuntimeError(f"pre-heating not over after {timeout:.0f} s")


async def wait_interactive(page, timeout_ms=600_000, widgets=True):
    # the first widgets of a lesson may sit in a closed fold "for the statistician"
    await page.wait_for_selector(".jupyter-widgets:visible" if widgets else ".jp-RenderedMarkdown",
                                 state="visible", timeout=timeout_ms)
    await page.wait_for_function(
        "() => !document.querySelector('#loading') || "
        "getComputedStyle(document.querySelector('#loading')).display === 'none'", timeout=timeout_ms)


class Learner:
    def __init__(self, browser, number):
        self.browser, self.number = browser, number
        self.context = self.page = None
        self.outside: list[str] = []
        self.no_control = 0

    async def open(self):
        self.context = await self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = await self.context.new_page()

        async def refuse(route):
            self.outside.append(route.request.url)
            await route.abort()
        await self.page.route(OUTSIDE, refuse)

    async def visit(self, url, go: asyncio.Event, widgets=True):
        """(seconds to usable or None, HTTP status)."""
        await go.wait()
        start = time.perf_counter()
        response = await self.page.goto(url, timeout=600_000)
        if response is None or response.status != 200:
            return None, response.status if response else 0
        await wait_interactive(self.page, widgets=widgets)
        return time.perf_counter() - start, 200

    async def moves(self, name, keys, go: asyncio.Event):
        """Key press -> new picture painted, ms, for each press (None: lost; every press is lost
        when the control never came: counted in :attr:`no_control`)."""
        await go.wait()
        self.no_control = 0
        page = self.page
        selector = _control_selector(name, floor=False)
        control = page.locator(selector).first
        try:
            await page.wait_for_selector(selector, state="attached", timeout=CONTROL_AFTER_MS)
            # in a closed fold (lesson 06's monitor): the learner opens it (as bench_lessons.py)
            if await control.evaluate("e => { const d = e.closest('details'); return !!d && !d.open; }"):
                await control.evaluate("e => e.closest('details').querySelector('summary').click()")
            await control.wait_for(state="visible", timeout=CONTROL_AFTER_MS)
        except Exception:  # noqa: BLE001 - the page never showed its control: a learner lost
            self.no_control = 1
            return [None] * len(keys)
        await page.evaluate(_WATCH_JS, await control.element_handle())
        await control.focus()
        out = []
        for k, key in enumerate(keys):
            await page.keyboard.press(key)
            try:
                await page.wait_for_function("n => window.__tk.times.length > n", arg=k, timeout=LOST_AFTER_MS)
                await page.wait_for_function(_SETTLED_JS, timeout=LOST_AFTER_MS)
            except Exception:  # noqa: BLE001 - a picture that never came
                out.append(None)
                await page.evaluate("n => { while (window.__tk.times.length <= n) window.__tk.times.push(null); }", k)
                continue
            await page.wait_for_timeout(30)
            out.append((await page.evaluate("() => window.__tk.times"))[k])
        return out

    async def close(self):
        if self.context is not None:
            await self.context.close()


async def one_lesson(learners, server, name, moves):
    """Every learner opens lesson ``name`` at once, then moves its main control at once (the
    course home: opened only)."""
    url = f"{server.url}/voila/render/{name}.ipynb"
    cpu = cpu_seconds(server_processes(server)), cpu_seconds(browser_processes())
    go = asyncio.Event()
    visits = [asyncio.ensure_future(lr.visit(url, go, widgets=name != HOME)) for lr in learners]
    go.set()
    opened = await asyncio.gather(*visits)
    usable = [s for s, status in opened if s is not None]
    full = sum(1 for _, status in opened if status == 503)
    cpu_open = (cpu_used(cpu[0], cpu_seconds(server_processes(server))),
                cpu_used(cpu[1], cpu_seconds(browser_processes())))
    out = {"usable": usable, "full": full, "moves": [], "lost": 0, "cpu_open": cpu_open,
           "cpu_moves": (0.0, 0.0), "n_moves": 0}
    if name != HOME:
        keys = [k for k, _ in key_path(name, moves)]
        cpu = cpu_seconds(server_processes(server)), cpu_seconds(browser_processes())
        go = asyncio.Event()
        served = [lr for lr, (s, _) in zip(learners, opened) if s is not None]
        runs = [asyncio.ensure_future(lr.moves(name, keys, go)) for lr in served]
        go.set()
        times = [t for run in await asyncio.gather(*runs) for t in run]
        out.update(moves=[t for t in times if t is not None], lost=sum(1 for t in times if t is None),
                   no_control=sum(lr.no_control for lr in served),
                   n_moves=len(times),
                   cpu_moves=(cpu_used(cpu[0], cpu_seconds(server_processes(server))),
                              cpu_used(cpu[1], cpu_seconds(browser_processes()))))
    out.update(memory=memory_mb(server), kernels=len(kernels(server)))
    return out


async def class_at_once(k, moves, chromium):
    from playwright.async_api import async_playwright

    load_start = os.getloadavg()[0]
    server = VoilaServer(LESSONS, preheat=True,
                         command=lambda port: _command(port, k))
    row = {"k": k, "load_start": load_start}
    try:
        row["preheat"] = wait_preheated(server)
        row["preheated_kernels"] = len(kernels(server))
        print(f"  K={k}: pre-heated {row['preheated_kernels']} kernels in {row['preheat']:.0f} s "
              f"(load {os.getloadavg()[0]:.1f})", file=sys.stderr)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            learners = [Learner(browser, i) for i in range(k)]
            await asyncio.gather(*(lr.open() for lr in learners))
            for name in (HOME, FIRST, SECOND):
                row[name] = await one_lesson(learners, server, name, moves)
                r = row[name]
                print(f"  K={k} {name}: usable median {_median(r['usable']):.1f} s, max "
                      f"{max(r['usable'], default=float('nan')):.1f} s; p95 {_p95s(r['moves']):.0f} ms; "
                      f"{r['full']} full, {r['lost']} lost ({r.get('no_control', 0)} without the control); {r['kernels']} kernels, {r['memory']:.0f} MB "
                      f"(load {os.getloadavg()[0]:.1f})", file=sys.stderr)
            row["outside"] = sum(len(lr.outside) for lr in learners)
            await asyncio.gather(*(lr.close() for lr in learners))
            await browser.close()
    finally:
        server.stop()
    row["load_end"] = os.getloadavg()[0]
    return row


def _command(port, k):
    from teachkit.cli import voila_command

    return voila_command(LESSONS, port, preheat=True, learners=k)


def _median(values):
    return statistics.median(values) if values else float("nan")


def _p95s(values):
    return _p95(values) if values else float("nan")


def print_table(rows, moves):
    floor = next((r for r in rows if r["k"] == 1), None)
    print(f"\nA class at once: K learners (one Chromium context each) on one `teachkit lessons --learners K`, "
          f"{psutil.cpu_count()} CPU(s), {psutil.virtual_memory().total / 2**30:.0f} GB")
    print(f"time to usable: page request -> lesson interactive, s (median / p95 / max); control p95: "
          f"key press -> new picture, ms, {moves} presses per learner, all learners at once; "
          "ratios to K = 1 (the floor, same run)")
    head = (f"{'K':>3} {'pre-heat':>8} | {'home usable s':>20} | {'lesson 00 usable s':>20} {'p95 ms':>7} {'/floor':>6} | "
            f"{'lesson 06 usable s':>20} {'p95 ms':>7} {'/floor':>6} | {'full':>4} {'lost':>4} "
            f"{'kernels':>7} {'MB':>6} | load start-end")
    print(head)
    print("-" * len(head))
    for r in rows:
        cells = [f"{r['k']:>3} {r['preheat']:7.0f}s |"]
        u = r[HOME]["usable"]
        cells.append(f"{_median(u):5.1f} / {_p95s(u):5.1f} / {max(u, default=float('nan')):5.1f} |")
        for name in (FIRST, SECOND):
            x = r[name]
            u = x["usable"]
            p95 = _p95s(x["moves"])
            ratio = p95 / _p95s(floor[name]["moves"]) if floor else float("nan")
            usable = (f"{_median(u):5.1f} / {_p95s(u):5.1f} / {max(u, default=float('nan')):5.1f}")
            cells.append(f"{usable:>20} {p95:7.0f} {ratio:5.1f}x |")
        full = sum(r[n]["full"] for n in (HOME, FIRST, SECOND))
        lost = sum(r[n]["lost"] for n in (HOME, FIRST, SECOND))
        kernels_seen = max(r[n]["kernels"] for n in (HOME, FIRST, SECOND))
        memory = max(r[n]["memory"] for n in (HOME, FIRST, SECOND))
        cells.append(f"{full:>4} {lost:>4} {kernels_seen:>7} {memory:6.0f} | "
                     f"{r['load_start']:.1f}-{r['load_end']:.1f}")
        print(" ".join(cells))
    print("\nCPU seconds (server = Voila and its kernels; browser = Chromium), per learner opening the "
          "lesson, and per 100 moves:")
    print(f"{'K':>3} | {'home open':>22} | {'lesson 00 open':>22} {'100 moves':>22} | "
          f"{'lesson 06 open':>22} {'100 moves':>22}")
    for r in rows:
        cells = []
        for name in (HOME, FIRST, SECOND):
            x = r[name]
            n_open = max(1, len(x["usable"]) + x["full"])
            per_open = "server {:4.1f} browser {:4.1f}".format(*(c / n_open for c in x["cpu_open"]))
            per_moves = "server {:4.1f} browser {:4.1f}".format(*(100 * c / max(1, x["n_moves"])
                                                                  for c in x["cpu_moves"]))
            cells.append(f"{per_open:>22}" + (f" {per_moves:>22}" if name != HOME else ""))
        print(f"{r['k']:>3} | " + " | ".join(cells))
    outside = sum(r.get("outside", 0) for r in rows)
    print(f"requests outside the machine: {outside}; load average (1/5/15 min) now: "
          + " / ".join(f"{x:.1f}" for x in os.getloadavg()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[8, 16, 30], help="values of K")
    parser.add_argument("--moves", type=int, default=10, help="key presses per learner and lesson")
    parser.add_argument("--no-floor", action="store_true", help="skip K = 1")
    args = parser.parse_args(argv)
    chromium = chromium_executable()
    if chromium is None:
        raise SystemExit("Chromium is needed: sudo apt-get install chromium")
    ks = ([] if args.no_floor or 1 in args.learners else [1]) + args.learners
    rows = [asyncio.run(class_at_once(k, args.moves, chromium)) for k in ks]
    print_table(rows, args.moves)


if __name__ == "__main__":
    main()
