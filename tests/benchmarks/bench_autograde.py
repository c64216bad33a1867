"""Autograde time of one submission of each assignment of the nbgrader course.

Copies ``course`` to a temporary folder, generates every assignment,
submits the full solution for one student, and times ``nbgrader autograde``
(the whole command: start-up, kernel launch, execution, gradebook update).
Target: under 30 s per submission on the CI machine (2 cores).

    .venv/bin/python tests/benchmarks/bench_autograde.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "course"
NBGRADER = Path(sys.executable).parent / "nbgrader"
TARGET_SECONDS = 30.0


def run(course, *args):
    env = {**os.environ, "PATH": os.pathsep.join([str(NBGRADER.parent), os.environ.get("PATH", "")])}
    proc = subprocess.run([str(NBGRADER), *args], cwd=course, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stderr[-3000:]}")


def solved(release, source):
    """The release notebook answered with the source's solutions (markers removed)."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = "\n".join(line for line in answers[meta["grade_id"]].split("\n")
                                    if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
    return release


def main():
    assignments = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns(
            "gradebook.db", "release", "submitted", "autograded", "feedback", "__pycache__", ".jupyter"))
        rows = []
        for a in assignments:
            t0 = time.perf_counter()
            run(course, "generate_assignment", a, "--create", "--force")
            t_generate = time.perf_counter() - t0
            for src in sorted((course / "source" / a).glob("*.ipynb")):
                release = nbformat.read(course / "release" / a / src.name, as_version=4)
                nb = solved(release, nbformat.read(src, as_version=4))
                out = course / "submitted" / "bench-student" / a / src.name
                out.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, out)
            t0 = time.perf_counter()
            run(course, "autograde", a, "--student=bench-student", "--create", "--force")
            t_autograde = time.perf_counter() - t0
            rows.append((a, t_generate, t_autograde))

    print(f"nbgrader autograde, one full-solution submission per assignment "
          f"(target < {TARGET_SECONDS:.0f} s each)")
    print(f"{'assignment':<18} {'generate (s)':>12} {'autograde (s)':>13}  verdict")
    for a, tg, ta in rows:
        print(f"{a:<18} {tg:12.1f} {ta:13.1f}  {'ok' if ta < TARGET_SECONDS else 'SLOW'}")
    return 0 if all(ta < TARGET_SECONDS for _, _, ta in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
