"""The source notebooks of the nbgrader course run top to bottom with their
solutions in place, every visible and hidden test passes, and nbgrader
itself validates them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
NOTEBOOKS = sorted((COURSE / "source").glob("*/*.ipynb"))
NBGRADER = Path(sys.executable).parent / "nbgrader"


def _ids(paths):
    return [p.parent.name for p in paths]


@pytest.fixture
def copy_of(tmp_path):
    """Run a notebook from a throw-away copy of its folder (never write outputs in the repo)."""
    def make(path: Path) -> Path:
        dest = tmp_path / path.parent.name
        shutil.copytree(path.parent, dest)
        return dest / path.name
    return make


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7
    assert {"looking-early", "after-the-stop"} <= set(_ids(NOTEBOOKS))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"strip the outputs of {path.name}"
            assert cell.execution_count is None


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_solutions_pass_every_test(path, copy_of):
    from nbclient import NotebookClient

    local = copy_of(path)
    nb = nbformat.read(local, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(local.parent)}}).execute()
    failures = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                gid = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
                failures.append(f"{gid}: {out.ename}: {out.evalue}")
            if out.output_type == "stream" and out.name == "stderr":
                assert "Warning" not in out.text, f"warning in {path.name}: {out.text}"
    assert not failures, "\n".join(failures)
    n_tests = sum(1 for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                  and c.cell_type == "code")
    assert n_tests >= 4


@pytest.mark.slow
@pytest.mark.skipif(not NBGRADER.exists(), reason="nbgrader is not installed next to this Python")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_nbgrader_validate(path, copy_of):
    local = copy_of(path)
    env = {**os.environ, "PATH": os.pathsep.join([str(NBGRADER.parent), os.environ.get("PATH", "")])}
    proc = subprocess.run([str(NBGRADER), "validate", str(local)], cwd=local.parent,
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout + proc.stderr


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_km_by_hand_median_test_explains_the_natural_crash():
    """A first-year student writes the median the natural way, ``t[s <= 0.5][0]``: on a curve
    that never reaches 0.5 the visible test must explain what went wrong (issue 20, finding
    11), not show a raw IndexError from inside their function."""
    import numpy as np
    import teachkit as tk

    nb = nbformat.read(COURSE / "source" / "km-by-hand" / "km-by-hand.ipynb", as_version=4)
    ns = {"np": np, "tk": tk}
    exec(_cell(nb, "km-setup").source, ns)
    exec("def median_survival(t, s):\n    return np.asarray(t)[np.asarray(s) <= 0.5][0]\n", ns)
    with pytest.raises(AssertionError) as info:
        exec(_cell(nb, "median-visible").source, ns)
    assert "IndexError" in str(info.value) and "np.nan" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    # the solution still passes the same cell
    for gid in ("km-table", "median"):
        exec("\n".join(line for line in _cell(nb, gid).source.split("\n") if "###" not in line), ns)
    exec(_cell(nb, "median-visible").source, ns)


def test_km_by_hand_has_a_collapsed_numpy_hint_in_each_coded_part():
    nb = nbformat.read(COURSE / "source" / "km-by-hand" / "km-by-hand.ipynb", as_version=4)
    parts = [c.source for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Part")]
    coded = [p for p in parts if "manually graded" not in p]
    assert len(coded) == 6
    for text in coded:
        assert "<details>" in text and "<summary>" in text and "</details>" in text, text[:60]
    assert "np.unique" in coded[0] and "np.cumprod" in coded[0] and "mask" in coded[0]
    assert "np.cumsum" in coded[1] and "IndexError" in coded[2] and "np.allclose" in coded[4]
    assert "np.isnan" in coded[5] and "np.isclose" in coded[5]
    assert "Lesson 01" in parts[-1]
