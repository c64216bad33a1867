"""Pieces shared by the grading preprocessors (kernel.py, sealed.py, guard.py)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent
from . import sandbox  # noqa: E402

BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
BY_HAND = "### BY HAND:"
FLAG = "AUTOGRADER FLAG"
#: nb.metadata key of a submission that could not be graded (guard.py writes it).
UNGRADABLE = "teachkit_ungradable"
#: nb.metadata key of notes from the sanitize pass (guard.CleanCellMetadata).
NOTES = "teachkit_notes"

log = logging.getLogger("teachkit.grading")


def nbg(cell) -> dict:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    value = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return value if isinstance(value, dict) else {}


def strip_hidden(source: str) -> str:
    out, inside = [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside = True
        elif END_HIDDEN in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def by_hand_routines(source: str) -> list[str]:
    """The teachkit routines named on ``### BY HAND:`` lines of an instructor's test."""
    out = []
    for line in source.split("\n"):
        line = line.strip()
        if line.startswith(BY_HAND):
            for name in line[len(BY_HAND):].split(","):
                name = name.strip()
                if name:
                    out.append(name)
    return out


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def ungradable(nb) -> str | None:
    """The reason a submission could not be graded (None for a normal one)."""
    return (nb.get("metadata") or {}).get(UNGRADABLE)


def converter_of(preprocessor):
    """The nbgrader converter (Autograde) that runs ``preprocessor``, or None."""
    obj = getattr(preprocessor, "parent", None)
    for _ in range(6):
        if obj is None:
            return None
        if getattr(obj, "coursedir", None) is not None:
            return obj
        obj = getattr(obj, "parent", None)
    return None


def assignment_files(preprocessor, resources) -> list[tuple[Path, str]]:
    """The files a sandbox gets in its working folder: those the instructor released with the
    assignment (its source folder without notebooks), plus the ones the course lets students
    replace (``Autograde.exclude_overwriting``), taken from the submission."""
    info = resources["nbgrader"]
    folder = Path(resources.get("metadata", {}).get("path") or ".")
    conv = converter_of(preprocessor)
    if conv is None:
        log.warning("teachkit grading: no nbgrader course directory; the sandbox gets the "
                    "submission folder's regular files")
        return sandbox.released_files(folder)
    cd = conv.coursedir
    source = Path(cd.format_path(cd.source_directory, ".", info["assignment"]))
    student_owned = list(getattr(conv, "exclude_overwriting", {}).get(info["assignment"], []))
    files = [(p, rel) for p, rel in sandbox.released_files(source, list(cd.ignore))
             if rel not in student_owned]
    for rel in student_owned:
        path = folder / rel
        if path.is_file() and not path.is_symlink():
            files.append((path, rel))
    return files
