"""How long does the static site's Practice section take (issue 27's acceptance)?

Each run drives km-by-hand on the built site in headless Chromium, offline (inside
``unshare -n`` when run as root), with tests/test_practice_site.py's driver:

* **cold shown / usable s**: a fresh browser context (empty cache) from the notebook's URL
  to its first code cell shown, and to that cell having run in the page (the Pyodide kernel
  started: the notebook is usable);
* **warm shown / usable s**: the same notebook reloaded in the same context (the HTTP cache
  and compiled WebAssembly kept, the saved work read back from the browser's storage);
* **visible tests s**: km-by-hand's graded test cells, summed, each from the cell before it
  finishing to it finishing, after a correct solution was typed in ("Run All Cells");
* **run all s**: the whole notebook run ("Run All Cells" clicked to the last cell done).

The machine's load average (1 min) is printed before and after every run, with the number of
cores: other work on the machine slows a browser's WebAssembly down. No target is asserted.

Run:  .venv/bin/python tests/benchmarks/bench_practice.py [--runs N] [--site _site]
Needs a built site (``make site``), Chromium and Playwright.
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
ROOT = TESTS.parent
DRIVER = TESTS / "test_practice_site.py"
sys.path.insert(0, str(TESTS))

METRICS = (("cold_shown_s", "cold: notebook shown"), ("cold_usable_s", "cold: first cell run (usable)"),
           ("warm_shown_s", "warm: notebook shown"), ("warm_usable_s", "warm: first cell run (usable)"),
           ("visible_tests_s", "km-by-hand's visible tests"), ("run_all_s", "Run All Cells, whole notebook"))


def load():
    return os.getloadavg()[0]


def one_run(site: Path, assignment: str, timeout: float) -> dict:
    import test_practice_site as T

    work = Path(tempfile.mkdtemp(prefix="teachkit-bench-practice-"))
    try:
        (work / "solutions.json").write_text(json.dumps(T.solutions(assignment)))
        (work / "tests.json").write_text(json.dumps(T.visible_tests(assignment)))
        out = work / "result.json"
        cmd = [sys.executable, str(DRIVER), "drive", "--site", str(site), "--out", str(out),
               "--solutions", str(work / "solutions.json"), "--tests", str(work / "tests.json"),
               "--downloads", str(work / "downloads"), "--assignment", assignment, "--timeout", str(timeout)]
        offline = hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare")
        if offline:
            cmd = ["unshare", "-n", *cmd, "--loopback"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        record = json.loads(out.read_text())
        record["offline"] = bool(offline)
        return record
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_site")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--assignment", default="km-by-hand")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.runs < 1:
        raise ValueError(f"--runs must be at least 1, got {args.runs}")
    if not (args.site / "notebooks" / "index.html").is_file():
        raise SystemExit(f"no built site with a Practice section at {args.site}: run `make site` first")
    runs = []
    for i in range(args.runs):
        before = load()
        record = one_run(args.site, args.assignment, args.timeout)
        after = load()
        if "exception" in record:
            raise SystemExit(f"run {i + 1} failed: {record['exception']}")
        bad = {k: v for k, v in record.get("test_errors", {}).items() if v}
        if bad:
            raise SystemExit(f"run {i + 1}: visible tests failed in the page: {bad}")
        runs.append((before, after, record))
    cores = os.cpu_count()
    print(f"\nThe site's Practice section: {args.assignment} in Chromium"
          f"{', offline (unshare -n)' if runs[0][2]['offline'] else ''}; {cores} cores; seconds")
    head = f"{'':<34}" + "".join(f"{'run ' + str(i + 1):>9}" for i in range(len(runs))) + f"{'median':>9}"
    print(head)
    for key, label in METRICS:
        values = [r[key] for _, _, r in runs]
        print(f"{label:<34}" + "".join(f"{v:9.1f}" for v in values) + f"{statistics.median(values):9.1f}")
    print(f"{'load average (1 min) before':<34}" + "".join(f"{b:9.2f}" for b, _, _ in runs))
    print(f"{'load average (1 min) after':<34}" + "".join(f"{a:9.2f}" for _, a, _ in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
