"""binder/postBuild removes every solution from the Binder image.

Runs the `seal-course` block of postBuild (the part that deletes files) on a copy of the
repository's tracked files, plus a planted notebook with nbgrader regions outside lessons/,
then looks for any solution or hidden test left."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS")


def seal_block() -> str:
    text = (ROOT / "binder" / "postBuild").read_text()
    start, end = text.index("# >>> seal-course"), text.index("# <<< seal-course")
    return text[start:end]


def tracked_files() -> list[str]:
    proc = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    return [f for f in proc.stdout.splitlines() if (ROOT / f).is_file()]


def test_postbuild_removes_the_course_and_every_solution(tmp_path):
    repo = tmp_path / "repo"
    files = tracked_files()
    assert any(f.startswith("course/source/") for f in files), "the course is where the guide says"
    for f in files:
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, repo / f)
    (repo / ".git").mkdir()
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    planted = repo / "docs" / "copy-of-an-assignment.ipynb"
    planted.parent.mkdir(exist_ok=True)
    planted.write_text('{"cells": [{"source": "### BEGIN SOLUTION\\nx = 1\\n### END SOLUTION"}]}')
    subprocess.run(["bash", "-e", "-c", seal_block()], cwd=repo, check=True, timeout=60)

    assert not (repo / "course").exists() and not (repo / ".git").exists() and not planted.exists()
    left = []
    for path in repo.rglob("*.ipynb"):
        text = path.read_text(errors="replace")
        if any(m in text for m in MARKERS) or '"nbgrader"' in text:
            left.append(str(path.relative_to(repo)))
    assert not left, f"solutions left in the Binder image: {left}"
    # nothing else went: the lessons and the library are still there
    lessons = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]-*.ipynb"))
    assert lessons and all((repo / "lessons" / name).exists() for name in lessons)
    assert (repo / "teachkit" / "__init__.py").exists()
