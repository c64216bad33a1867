"""Every lesson notebook runs top to bottom in a fresh kernel, and is committed clean."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.ipynb"))


def test_there_are_lessons():
    assert LESSONS, "no lessons/NN-*.ipynb found"
    assert LESSONS[0].name == "00-the-trial.ipynb"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_is_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; strip them before committing"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_executes_without_error(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", (
                f"{path.name} cell {index}: {output.get('ename')}: {output.get('evalue')}")
            if output["output_type"] == "stream":
                assert output["name"] != "stderr", f"{path.name} cell {index} wrote to stderr: {output['text'][:500]}"
    shown = sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
    assert shown > 0, f"{path.name} shows nothing"
