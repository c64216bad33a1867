"""No submission can crash the grading run: it is graded 0 with a flag, and the run goes on.

nbgrader autogrades a submission in two passes through one exporter: *sanitize* (read the
submitted file, clear outputs, restore the instructor's cells) and *autograde* (run, grade,
save). Any exception in either pass makes nbgrader drop that submission (no autograded
notebook, no grade, no flag) and exit with an error; ``make autograde`` then stopped at the
first assignment. :class:`GuardedNotebookExporter` (``c.Autograde.exporter_class``) reads
the submitted file itself, within limits (size, nesting depth, number of cells), and turns any
failure of either pass into a notebook built from the **gradebook** in which every graded
cell scores 0, saved with a flag that says why ("could not be graded: ..."). The instructor
reads the flag (formgrader comment, ``flags`` column, ``make autograde``'s report) and the
submitted file.

Not turned into a zero: the sandbox being unavailable and errors of the gradebook's database
(both stop the run: nothing is graded wrongly), and an interrupt.

:class:`CleanCellMetadata` (sanitize pass, after nbgrader's ``OverwriteCells``) handles what
copying a cell in Jupyter does innocently: a cell left with nbgrader flags but no known grade
id (a duplicate, or an id the gradebook does not know) becomes an ordinary student cell, and
the submission gets a note.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import compute_checksum
from traitlets import Integer

HERE = Path(__file__).resolve().parent
from . import common  # noqa: E402
from . import nofollow  # noqa: E402
from . import sandbox  # noqa: E402

NOTES = common.NOTES


class Ungradable(ValueError):
    """The submitted file is outside the limits (size, depth, cells) or not a notebook."""


def _depth(text: str) -> int:
    """Deepest nesting of brackets outside strings, without recursion."""
    depth = deepest = 0
    in_str = escape = False
    for ch in text:
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _passes(exporter) -> str:
    names = {type(p).__name__ for p in exporter._preprocessors}
    return "autograde" if "SaveAutoGrades" in names else "sanitize"


def zero_notebook(resources, reason: str) -> NotebookNode:
    """The assignment's notebook as the gradebook knows it, every graded cell failing."""
    info = resources["nbgrader"]
    with Gradebook(info["db_url"]) as gb:
        record = gb.find_notebook(info["notebook"], info["assignment"])
        cells = {c.name: (c.cell_type, c.source, c.locked) for c in record.source_cells}
        points = {c.name: float(c.max_score) for c in record.grade_cells}
        solutions = {c.name for c in record.solution_cells}
        tasks = {c.name for c in getattr(record, "task_cells", [])}
    order = sorted(cells)
    nb = nbformat.v4.new_notebook()
    nb.metadata[common.UNGRADABLE] = reason
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"**{common.FLAG}:** this submission could not be graded ({reason}). Every graded cell "
        "scores 0; your instructor reads the notebook you submitted."))
    for name in order:
        cell_type, source, locked = cells[name]
        if name in tasks:
            continue
        meta = {"grade": name in points, "solution": name in solutions, "locked": bool(locked),
                "grade_id": name, "schema_version": 3}
        if name in points:
            meta["points"] = points[name]
        if cell_type == "code":
            cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})
            if name in points and name not in solutions:
                cell.outputs = [common.error_output("GradingError", f"not graded: {reason}")]
        else:
            cell = nbformat.v4.new_markdown_cell(source, metadata={"nbgrader": meta})
        meta["checksum"] = compute_checksum(cell)  # unchanged: an answer cell scores 0
        nb.cells.append(cell)
    return nb


class GuardedNotebookExporter(NotebookExporter):
    """nbgrader's notebook exporter, bounded and crash-proof (see the module docstring)."""

    max_bytes = Integer(16 * 1024**2, help="largest submitted notebook file (bytes)").tag(config=True)
    max_depth = Integer(64, help="deepest JSON nesting of a submitted notebook").tag(config=True)
    max_cells = Integer(1000, help="most cells in a submitted notebook").tag(config=True)

    def _read(self, filename: str) -> NotebookNode:
        try:
            # no link followed in the student's folder, the assignment's folder or the file
            # (grading/nofollow.py): a linked folder would have another notebook graded
            fd = nofollow.open_submitted(filename, self.max_bytes)
        except nofollow.LinkedSubmission as exc:
            raise Ungradable(f"{exc}: not read") from exc
        except ValueError as exc:
            raise Ungradable(f"the notebook file is not a regular file or is larger than "
                             f"{self.max_bytes // 1024**2} MB") from exc
        with os.fdopen(fd, "rb") as fh:
            raw = fh.read(self.max_bytes + 1)
        text = raw.decode("utf-8")
        if _depth(text) > self.max_depth:
            raise Ungradable(f"the notebook's JSON is nested more than {self.max_depth} levels deep")
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("cells", []), list):
            raise Ungradable("the file is not a notebook")
        if len(data.get("cells", [])) > self.max_cells:
            raise Ungradable(f"the notebook has more than {self.max_cells} cells")
        return nbformat.reads(text, as_version=4)

    def from_filename(self, filename, resources=None, **kw):
        base = dict(resources or {})
        if resources is None:
            resources = {}
        resources.setdefault("metadata", {})
        path, basename = os.path.split(filename)
        resources["metadata"]["name"] = os.path.splitext(basename)[0]
        resources["metadata"]["path"] = path
        resources["metadata"]["modified_date"] = ""
        passes = _passes(self)
        try:
            nb = self._read(filename)
            if passes == "autograde" and common.ungradable(nb):
                return self._zero(nb, resources, common.ungradable(nb), save=False)
            return self.from_notebook_node(nb, resources, **kw)
        except (KeyboardInterrupt, sandbox.SandboxUnavailable):
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("sqlalchemy"):
                raise
            reason = (str(exc) if isinstance(exc, Ungradable)
                      else f"{type(exc).__name__} while {'reading' if passes == 'sanitize' else 'grading'} it")
            self.log.error("%s: %s/%s: could not be graded: %s", common.FLAG,
                           resources.get("nbgrader", {}).get("student"),
                           resources.get("nbgrader", {}).get("assignment"), reason,
                           exc_info=not isinstance(exc, Ungradable))
            clean = dict(base)
            clean["metadata"] = dict(resources["metadata"])
            nb = zero_notebook(clean, reason)
            if passes == "sanitize":
                return self._serialise(nb, clean)
            return self._zero(nb, clean, reason, save=True)

    def _zero(self, nb, resources, reason: str, save: bool):
        """Grade a zero notebook: the normal pipeline (which leaves it alone) or, when the
        pipeline itself failed, only the steps that save grades and the flag."""
        if not save:
            return self.from_notebook_node(nb, resources)
        from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades
        from .sealed import RecordFlags

        for cell in nb.cells:
            if common.nbg(cell).get("grade") and cell.cell_type == "code" and not common.nbg(cell).get("solution"):
                cell.outputs = [common.error_output("GradingError", f"not graded: {reason}")]
        resources.setdefault("teachkit", {})["flags"] = f"could not be graded: {reason}"
        for pp in (SaveAutoGrades(parent=self), RecordFlags(parent=self), AssignLatePenalties(parent=self)):
            nb, resources = pp.preprocess(nb, resources)
        return self._serialise(nb, resources)

    def _serialise(self, nb, resources):
        resources = self._init_resources(resources)
        resources["output_suffix"] = ".nbconvert"
        return nbformat.writes(nb, version=4) + "\n", resources


class CleanCellMetadata(NbGraderPreprocessor):
    """Sanitize pass, before nbgrader's DeduplicateIds and OverwriteCells: a cell with nbgrader
    metadata whose grade id the gradebook does not know, or that repeats an earlier cell's
    (Jupyter copies the metadata with a cell), becomes an ordinary cell, and the submission
    gets a note. (nbgrader dropped only the id and kept the flags: the grading then crashed.)"""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            record = gb.find_notebook(info["notebook"], info["assignment"])
            known = {c.name for c in record.source_cells}
            known |= {c.name for c in record.grade_cells} | {c.name for c in record.solution_cells}
        notes, seen = [], set()
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            gid = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(gid, str) or gid not in known or gid in seen:
                del cell.metadata["nbgrader"]
                what = "repeats the grade id" if gid in seen else "has a grade id the gradebook does not know"
                notes.append(f"a cell that {what} `{str(gid)[:40]}` (a copied cell?) was graded "
                             "as an ordinary cell: no known grade id")
                continue
            seen.add(gid)
        if notes:
            nb.metadata[NOTES] = list(dict.fromkeys(notes))[:10]
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        return cell, resources
