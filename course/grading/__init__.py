"""The course's grading machinery, loaded by ``nbgrader_config.py`` as the package
``teachkit_course_grading`` (a name no other package uses):

* ``sandbox``  the bubblewrap sandbox every piece of student code runs in;
* ``kernel``   the sandboxed, private, bounded kernel of the autograde run (TeachkitExecute);
* ``sealed``   the verdict of every graded test cell, decided outside the kernel (SealedTests);
* ``runner``   the student's side of the sealed grading (runs inside the sandbox);
* ``guard``    no submission can crash the run (GuardedNotebookExporter, CleanCellMetadata);
* ``exchange`` collect and zip_collect follow no link (and the flags of what they refused);
* ``nofollow`` nothing nbgrader reads from a student's folder after the collect follows a link;
* ``inert``    student work rendered inert in the formgrader and the feedback;
* ``report``   what ``make autograde`` prints at the end (flags, submissions not graded).

See ../README.md, "Threat model".
"""

import importlib.util
import sys
from pathlib import Path

PACKAGE = "teachkit_course_grading"


def load(folder=None):
    """The package at ``folder`` (this one by default), imported once per process."""
    folder = Path(folder or Path(__file__).resolve().parent)
    mod = sys.modules.get(PACKAGE)
    if mod is not None and Path(mod.__file__).resolve().parent == folder.resolve():
        return mod
    spec = importlib.util.spec_from_file_location(
        PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = mod
    spec.loader.exec_module(mod)
    return mod
