"""nbgrader configuration of the teachkit course (nbgrader >= 0.9).

Run every nbgrader command from this folder (``cd course``):
the course root below is computed from this file's own location, so the
course works wherever the repository is cloned.  See README.md here for the
instructor guide.
"""

import sys
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

c = get_config()  # noqa: F821  (injected by nbgrader / traitlets)

COURSE_ROOT = Path(__file__).resolve().parent
# grading/ as the package `teachkit_course_grading` (loaded once per process; this file is read
# several times, by every nbgrader command and by the formgrader on each request)
if "teachkit_course_grading" not in sys.modules:
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "teachkit_course_grading", COURSE_ROOT / "grading" / "__init__.py",
        submodule_search_locations=[str(COURSE_ROOT / "grading")])
    _pkg = importlib.util.module_from_spec(_spec)
    sys.modules["teachkit_course_grading"] = _pkg
    _spec.loader.exec_module(_pkg)
from teachkit_course_grading import guard, kernel, sealed  # noqa: E402

# --- the course ---------------------------------------------------------------
c.CourseDirectory.root = str(COURSE_ROOT)
c.CourseDirectory.course_id = "teachkit-survival"
# The gradebook is one sqlite file in the course root (not committed).
c.CourseDirectory.db_url = f"sqlite:///{COURSE_ROOT / 'gradebook.db'}"
# Assignments enter the gradebook when they are generated with
# `nbgrader generate_assignment <name> --create` (nbgrader >= 0.6 has no
# config list of assignments; `nbgrader db assignment add <name>` also works).
# Students are created on the fly by `nbgrader autograde --create` or imported
# with `nbgrader db student import students.csv`.

# --- the student version --------------------------------------------------------
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
# Data files and helper modules next to a notebook are released too, but never
# the gradebook or checkpoints.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".jupyter"]

# --- autograding --------------------------------------------------------------------
# Every route to a grade runs the same pipeline, decided by what runs, not by how it was
# started: `nbgrader autograde`, `make autograde`, the formgrader's Autograde button
# (NbGraderAPI.autograde inside the Jupyter server) and a hub's instructor server all load
# this file and use these preprocessors. See README.md, "Threat model".
#
# * kernel.TeachkitExecute (instead of nbgrader's Execute) provisions, per notebook, a kernel
#   in the bubblewrap sandbox (grading/sandbox.py): no network, no view of the course, the
#   gradebook or other submissions; a private runtime folder per kernel; only the released
#   files in a size-limited working folder; limits on memory, processes, CPU and output.
#   If the sandbox cannot start, grading stops and says why. TEACHKIT_SANDBOX=off grades
#   without it (a loud warning; only on a throw-away machine).
# * Each cell may run for 30 s and a notebook for TeachkitExecute.budget s; a cell that runs
#   longer (an infinite loop) is interrupted and the rest is still graded.
# * sealed.SealedTests then decides every graded test cell outside the kernel: the
#   instructor's tests (from the gradebook) run in this process against the student's
#   functions in a sandboxed runner; the cells' outputs become that verdict. Tampering is
#   flagged (feedback line, gradebook comment, `flags` column of grades.csv).
# * guard.GuardedNotebookExporter: a submission that is too large, too deep, or makes any
#   step fail is graded 0 with a flag, and the run goes on for everyone else.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
# the kernel's outputs are only shown: a lost 'idle' (an output flood) must not end its run
c.Execute.raise_on_iopub_timeout = False
c.TeachkitExecute.budget = 150
c.SealedTests.timeout = 30
c.SealedTests.budget = 180
c.Autograde.exporter_class = guard.GuardedNotebookExporter
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    guard.CleanCellMetadata,
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    kernel.TeachkitExecute,
    sealed.SealedTests,
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    sealed.RecordFlags,
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.ExportApp.plugin_class = sealed.FlaggedCsvExport
# Students who delete a test cell get it back: nbgrader re-inserts it from the
# gradebook before grading.
c.OverwriteCells.add_missing_cells = True
# Keep a runaway print loop from producing a 100 MB feedback file.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50

# --- feedback -----------------------------------------------------------------------
# Students see their outputs, scores and the visible tests, but not the code of
# the hidden tests (so they can be reused next year): the hidden-test regions
# are removed from the feedback, and a failing test cell shows only its error
# message (an IPython traceback would quote the hidden line that failed).


class ShortTestTracebacks(Preprocessor):
    """In the feedback, an error in a graded test cell shows only 'Error: message'."""

    enabled = Bool(True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources


c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    ShortTestTracebacks,
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]


# --- teachkit: inert student work and safe collect ---
# Everything a student wrote (markdown, raw HTML, outputs of their code, attachments, widget
# state) is made inert before a browser shows it: in the autograded notebook, in the feedback,
# and in the formgrader's own page (grading/inert.py). See README.md, "Threat model".
# (This block is the last of the file; it only adds to what is set above.)
if "teachkit_course_grading" in sys.modules:  # grading/ loaded as a package above
    from teachkit_course_grading import exchange, inert  # noqa: E402
else:
    if str(Path(__file__).resolve().parent / "grading") not in sys.path:
        sys.path.insert(0, str(Path(__file__).resolve().parent / "grading"))
    import exchange  # noqa: E402  (grading/exchange.py)
    import inert  # noqa: E402  (grading/inert.py)

_autograde = [p for p in (c.Autograde.autograde_preprocessors if "autograde_preprocessors" in c.Autograde
                         else ["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.SaveAutoGrades"])
              if p not in (inert.InertStudentWork, exchange.CollectFlags)]
# after execution and grading, before the course's RecordFlags writes the flags (else before
# nbgrader's final metadata check, else last)
_names = [getattr(p, "__name__", str(p).rsplit(".", 1)[-1]) for p in _autograde]
_at = next((_names.index(n) for n in ("RecordFlags", "CheckCellMetadata") if n in _names), len(_autograde))
_autograde[_at:_at] = [inert.InertStudentWork, exchange.CollectFlags]
c.Autograde.autograde_preprocessors = _autograde
c.GenerateFeedback.preprocessors = [
    *(c.GenerateFeedback.preprocessors if "preprocessors" in c.GenerateFeedback
      else ["nbgrader.preprocessors.GetGrades", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]),
    inert.InertStudentWork]
# Every HTML export of the course (the formgrader's submission page, generate_feedback from the
# command line or from the formgrader): the notebook is made inert again when it is shown (a
# notebook autograded before this existed), and markdown is sanitized after rendering.
c.HTMLExporter.preprocessors = [inert.InertStudentWork]
c.HTMLExporter.filters = {"markdown2html": inert.markdown2html}
inert.harden_formgrader()  # only inside the Jupyter server that runs the formgrader
# collect and zip_collect (grading/exchange.py): no link, hard link, device, FIFO or oversized
# file is followed or copied from a submission; an LMS upload becomes only its own student's
# submission; refusals go to collect_flags.csv here and into that student's autograder flags.
c.ExchangeFactory.collect = exchange.TeachkitExchangeCollect
c.ZipCollectApp.extractor_plugin = exchange.SafeExtractor
c.ZipCollectApp.collector_plugin = exchange.LmsCollector
c.CollectFlags.course_root = str(Path(__file__).resolve().parent)
# A submission that reached submitted/ another way (copied by hand, a folder a student prepared
# on a shared hub): autograde and generate_feedback copy its other files without following a
# link, timestamp.txt is read only as a small regular file, and a linked notebook or folder is
# graded 0 with a flag (grading/nofollow.py; nbgrader's own copy follows links).
from teachkit_course_grading import nofollow  # noqa: E402

nofollow.harden_nbgrader()
