"""How fast is each lesson on the static site (Voici + Pyodide), against Voilà, in one run?

For every lesson, in headless Chromium (tests/site_browser.py; inside ``unshare -n`` when run
as root, so offline):

* **cold s**: a fresh browser context (empty cache) from the page request to the lesson
  being interactive (widgets shown, Voici's spinner gone): Python, numpy, scipy, matplotlib
  and teachkit downloaded and started in the browser, then the whole notebook run;
* **warm s**: the same lesson opened again after the other lessons in one context (the HTTP
  cache and compiled WebAssembly kept), as a learner going from lesson to lesson;
* **step median / p95**: the main control moved by one unit (``--steps`` times) until the
  picture changed;
* **MB sent**: bytes the static server sent for the cold visit; and the site's size on disk.

Then the same lessons in Voilà (tests/conftest.py's VoilaServer, as ``teachkit lessons``
runs it, not pre-heated): cold seconds to interactive and the step times of the same moves.

Targets (issue 19, on this 2-core machine): interactive <= 30 s cold, step p95 <= 0.5 s,
site <= 80 MB.

Run:  .venv/bin/python tests/benchmarks/bench_site.py [--steps N] [--no-voila] [lesson-name-fragment ...]
Needs a built site (``make site``; ``--site`` for another folder), Chromium and Playwright.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
ROOT = TESTS.parent
DRIVER = TESTS / "site_browser.py"
sys.path.insert(0, str(TESTS))

TARGET_COLD_S, TARGET_STEP_P95_S, TARGET_SITE_MB = 30.0, 0.5, 80.0


def p95(values):
    values = sorted(values)
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))] if values else float("nan")


def site_visits(site: Path, names, steps: int, warm: bool) -> dict:
    out = Path(tempfile.mkdtemp(prefix="teachkit-bench-site-")) / "result.json"
    cmd = [sys.executable, str(DRIVER), "--site", str(site), "--out", str(out), "--steps", str(steps),
           "--lessons", *names]
    if warm:
        cmd.append("--warm")
    offline = hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare")
    if offline:
        cmd = ["unshare", "-n", *cmd, "--loopback"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    result = {r["lesson"]: r for r in json.loads(out.read_text())["lessons"]}
    shutil.rmtree(out.parent, ignore_errors=True)
    return result


def voila_visits(names, steps: int) -> dict:
    """Cold seconds to interactive and step times of each lesson in Voilà."""
    from conftest import CHROMIUM_ARGS, LESSONS, VoilaServer
    from playwright.sync_api import sync_playwright
    from site_browser import step
    from test_lessons_browser import CONTROLS, move_control, wait_interactive

    results = {}
    server = VoilaServer(LESSONS)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            for name in names:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                try:
                    t0 = time.perf_counter()
                    page.goto(f"{server.url}/voila/render/{name}.ipynb", timeout=120_000)
                    wait_interactive(page)
                    cold = time.perf_counter() - t0
                    move_control(page, name)
                    times = [step(page, CONTROLS[name], i) for i in range(steps)]
                    results[name] = {"interactive_s": cold, "step_s": times}
                except Exception as exc:  # reported in the table, the other lessons still run
                    print(f"  ! Voila {name}: {type(exc).__name__}: {str(exc)[:200]}", file=sys.stderr)
                finally:
                    context.close()
            browser.close()
    finally:
        server.stop()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_site")
    parser.add_argument("--steps", type=int, default=10, help="timed single steps of each lesson's control")
    parser.add_argument("--no-voila", action="store_true", help="skip the Voilà comparison")
    parser.add_argument("--no-warm", action="store_true", help="skip the warm pass")
    parser.add_argument("lessons", nargs="*", help="only lessons whose name contains one of these")
    args = parser.parse_args(argv)
    if not (args.site / "voici/render").is_dir():
        raise SystemExit(f"no site at {args.site}: run `make site` first")
    from test_lessons_browser import lesson_names

    names = [n for n in lesson_names() if not args.lessons or any(f in n for f in args.lessons)]
    site_mb = sum(p.stat().st_size for p in args.site.rglob("*") if p.is_file()) / 1e6
    t0 = time.perf_counter()
    cold = site_visits(args.site, names, args.steps, warm=False)
    warm = {} if args.no_warm else site_visits(args.site, names, 0, warm=True)
    voila = {} if args.no_voila else voila_visits(names, args.steps)
    nan = float("nan")

    print(f"Static site (Voici, Pyodide 0.27.7) against Voilà, headless Chromium; {args.steps} steps per lesson")
    print(f"{'lesson':32s} {'cold s':>7s} {'warm s':>7s} {'step med':>8s} {'step p95':>8s} {'MB sent':>8s}"
          f" | {'Voilà cold s':>12s} {'step med':>8s} {'step p95':>8s}  targets met")
    for name in names:
        c = cold.get(name, {})
        if "exception" in c:
            print(f"{name:32s} FAILED: {c['exception'][:120]}")
            continue
        steps = c.get("step_s", [])
        v = voila.get(name, {})
        vsteps = v.get("step_s", [])
        ok = [c.get("interactive_s", nan) <= TARGET_COLD_S, p95(steps) <= TARGET_STEP_P95_S]
        print(f"{name:32s} {c.get('interactive_s', nan):7.1f} {warm.get(name, {}).get('interactive_s', nan):7.1f}"
              f" {statistics.median(steps) if steps else nan:8.2f} {p95(steps):8.2f} {c.get('bytes', 0) / 1e6:8.1f}"
              f" | {v.get('interactive_s', nan):12.1f} {statistics.median(vsteps) if vsteps else nan:8.2f}"
              f" {p95(vsteps):8.2f}  {' '.join('ok' if good else 'MISS' for good in ok)}")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"site size {site_mb:.1f} MB ({'ok' if site_mb <= TARGET_SITE_MB else 'MISS'}); targets: cold <= "
          f"{TARGET_COLD_S:g} s, step p95 <= {TARGET_STEP_P95_S:g} s, site <= {TARGET_SITE_MB:g} MB; "
          f"{os.cpu_count()} CPU(s), load average {load} (1/5/15 min) at the end; run took "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
