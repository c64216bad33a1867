"""The wheel ships the library and the lessons, never the graded course (it holds solutions)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contents(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("teachkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "teachkit/_lessons/voila.json" in names
    lessons = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]-*.ipynb"))
    assert lessons and all(f"teachkit/_lessons/{name}" in names for name in lessons)
    course = [n for n in names if n.startswith("course/") or "nbgrader_config" in n
              or "grading/sealed" in n or "/source/" in n or n.endswith("gradebook.db")]
    assert not course, f"the nbgrader course must not be in the wheel: {course}"
    assert not [n for n in names if n.endswith(".ipynb") and not n.startswith("teachkit/_lessons/")]
    # the websocket guard and the no-CDN template travel with the wheel (Binder, a hub)
    assert any(n.endswith("data/etc/jupyter/jupyter_server_config.d/teachkit.json") for n in names)
    assert any("data/share/jupyter/voila/templates/teachkit/" in n for n in names)
    assert "teachkit/data/aall1331.json" in names
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "teachkit = teachkit.cli:main" in entry_points
