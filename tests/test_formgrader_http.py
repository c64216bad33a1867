"""The formgrader's Autograde button, over HTTP, with a hostile submission (issue 29: "every
grading route sandboxed").

A real formgrader (tests/formgrader_harness.py: Jupyter server + nbgrader's formgrader
extension on 127.0.0.1, started in the course folder as the guide says) is asked, exactly as
its Autograde button asks, to grade a submission whose answers are right and whose extra cell
tries, from inside the grading run: to read the hidden tests (the source notebook, by absolute
and relative path), the gradebook, the course configuration and another student's submission;
to write into the course and into the gradebook (giving itself and another student other
grades); to reach the Jupyter server that runs the formgrader (its HTTP port, its token in
``/proc``). Afterwards nothing of the course has changed except what nbgrader writes, the other
student's grades are untouched, the hostile submission's grades are nbgrader's, and its outputs
say DENIED for every attempt.

The same submission folder was copied in by hand with links among its other files (to the
hidden tests and the gradebook, paths relative to where they land): the formgrader's run copies
none of them into ``autograded/`` (course/grading/nofollow.py, patched into nbgrader inside the
server) and flags them. Another student's ``timestamp.txt`` is a FIFO: the formgrader's list of
submissions still answers (nbgrader alone opens it to read and blocks the server).

Before the course sandboxed every route (when the sandbox switched on only for
``nbgrader autograde`` on the command line) the formgrader ran student code as the instructor
and these tests failed (they were a strict xfail then). Needs the grading sandbox (bubblewrap,
root or user namespaces): skips elsewhere.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_spec = importlib.util.spec_from_file_location("formgrader_harness", HERE / "formgrader_harness.py")
fh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fh)
_spec = importlib.util.spec_from_file_location("course_helpers", HERE / "test_course.py")
tc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tc)

ASSIGNMENT = "planning-events"
NB = f"{ASSIGNMENT}.ipynb"
#: links a student planted among the other files of a folder copied in by hand
LINKS = {"answers.txt": f"../../../source/{ASSIGNMENT}/{NB}", "grades.db": "../../../gradebook.db"}
pytestmark = [
    pytest.mark.skipif(not fh.NBGRADER.exists(), reason="nbgrader is not installed next to this Python"),
    pytest.mark.skipif(not tc.sandbox_available(), reason="the grading sandbox needs bubblewrap and root or "
                       "user namespaces (apt-get install bubblewrap; CI runs as root)"),
    pytest.mark.slow, pytest.mark.timeout(1800),
]


def hostile_cell(course: Path, server) -> str:
    reads = {
        "hidden tests (source notebook)": str(course / "source" / ASSIGNMENT / NB),
        "hidden tests (relative path)": f"../../../source/{ASSIGNMENT}/{NB}",
        "gradebook": str(course / "gradebook.db"),
        "course configuration": str(course / "nbgrader_config.py"),
        "another student's submission": str(course / "submitted" / "ada" / ASSIGNMENT / NB),
        "another student's graded notebook": str(course / "autograded" / "ada" / ASSIGNMENT / NB),
    }
    writes = {"course root": str(course / "pwned.txt"),
              "course source": str(course / "source" / ASSIGNMENT / "pwned.txt"),
              "course configuration": str(course / "nbgrader_config.py")}
    return f'''
import os, sqlite3, urllib.request
for label, path in {reads!r}.items():
    try:
        with open(path, "rb") as f:
            f.read(16)
        print("ESCAPE read", label)
    except OSError as exc:
        print("DENIED read", label, type(exc).__name__)
for label, path in {writes!r}.items():
    try:
        with open(path, "a") as f:
            f.write("# pwned")
        print("ESCAPE write", label)
    except OSError as exc:
        print("DENIED write", label, type(exc).__name__)
try:
    db = sqlite3.connect("file:{course / 'gradebook.db'}?mode=rw", uri=True, timeout=2)
    db.execute("UPDATE grade SET manual_score = 99")
    db.commit()
    print("ESCAPE gradebook write")
except Exception as exc:
    print("DENIED gradebook write", type(exc).__name__)
try:
    os.listdir({str(course)!r})
    print("ESCAPE list course")
except OSError as exc:
    print("DENIED list course", type(exc).__name__)
try:
    urllib.request.urlopen("{server.url}/api/status", timeout=3)
    print("ESCAPE server reachable")
except Exception as exc:
    print("DENIED server", type(exc).__name__)
found = False
for pid in os.listdir("/proc"):
    for name in ("cmdline", "environ"):
        try:
            with open(f"/proc/{{pid}}/{{name}}", "rb") as f:
                found = found or {server.token.encode()!r} in f.read()
        except (OSError, ValueError):
            pass
print("ESCAPE token" if found else "DENIED token")
'''


def _digest(course: Path) -> dict:
    """Every file of the course nbgrader does not write while grading, with its hash (a link:
    where it points)."""
    out = {}
    for path in sorted(course.rglob("*")):
        rel = path.relative_to(course)
        if path.is_symlink():
            out[str(rel)] = "-> " + os.readlink(path)
            continue
        if not path.is_file() or rel.parts[0] in ("autograded", "feedback", ".jupyter") or \
                rel.name in ("gradebook.db", "gradebook.db-journal", ".nbgrader.log", "collect_flags.csv") or \
                "__pycache__" in rel.parts or rel.parts[0].startswith(".jupyter-"):
            continue
        out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _grades(course: Path, student: str) -> dict:
    """grade id -> (auto score, manual score, comment) of a student's submission."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        try:
            sub = gb.find_submission(ASSIGNMENT, student)
        except MissingEntry:
            return {}
        out = {g.name: (g.auto_score, g.manual_score) for nb in sub.notebooks for g in nb.grades}
        out.update({f"comment:{c.name}": (c.auto_comment, c.manual_comment)
                    for nb in sub.notebooks for c in nb.comments})
        return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = fh.copy_course(tmp_path_factory.mktemp("http"), [ASSIGNMENT])
    fh.nbgrader(course, "generate_assignment", ASSIGNMENT, "--create", "--force")
    source = nbformat.read(course / "source" / ASSIGNMENT / NB, as_version=4)
    release = nbformat.read(course / "release" / ASSIGNMENT / NB, as_version=4)
    honest = tc.solved(release, source)
    for student in ("ada", "mallory"):
        out = course / "submitted" / student / ASSIGNMENT / NB
        out.parent.mkdir(parents=True)
        nbformat.write(honest, out)
    fh.nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force", "--student=ada")
    ada_before = _grades(course, "ada")
    server = fh.FormgraderServer(course)
    try:
        nb = tc.solved(release, source)
        at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "plan-setup")
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(hostile_cell(course, server)))
        nbformat.write(nb, course / "submitted" / "mallory" / ASSIGNMENT / NB)
        for name, target in LINKS.items():
            os.symlink(target, course / "submitted" / "mallory" / ASSIGNMENT / name)
        trudy = course / "submitted" / "trudy" / ASSIGNMENT
        trudy.mkdir(parents=True)
        nbformat.write(release, trudy / NB)
        os.mkfifo(trudy / "timestamp.txt")
        before = _digest(course)
        status, answer = server.request("POST", f"/formgrader/api/submission/{ASSIGNMENT}/mallory/autograde")
        listed = server.request("GET", f"/formgrader/api/submissions/{ASSIGNMENT}", timeout=60)
        yield dict(course=course, status=status, answer=answer, before=before, after=_digest(course),
                   ada_before=ada_before, listed=listed, server_log=server.log())
    finally:
        server.stop()


def _outputs(course: Path, student: str) -> str:
    nb = nbformat.read(course / "autograded" / student / ASSIGNMENT / NB, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")


def test_formgrader_autograde_button_answers(graded):
    assert graded["status"] == 200, graded["answer"]
    assert graded["answer"]["success"], graded["answer"]


def test_hostile_code_graded_by_the_formgrader_reads_and_writes_nothing(graded):
    course = graded["course"]
    text = _outputs(course, "mallory")
    assert "ESCAPE" not in text, text
    for line in ("DENIED read hidden tests (source notebook)", "DENIED read hidden tests (relative path)",
                 "DENIED read gradebook", "DENIED read course configuration",
                 "DENIED read another student's submission", "DENIED write course root",
                 "DENIED write course source", "DENIED write course configuration",
                 "DENIED gradebook write", "DENIED list course", "DENIED server", "DENIED token"):
        assert line in text, (line, text)
    assert graded["after"] == graded["before"], "the grading run changed the course"


def test_grades_after_the_formgrader_run_are_nbgraders(graded):
    course = graded["course"]
    assert _grades(course, "ada") == graded["ada_before"], "another student's grades changed"
    mallory = _grades(course, "mallory")
    assert mallory and all(manual is None for gid, (_, manual) in mallory.items()
                           if not gid.startswith("comment:")), mallory
    auto, _ = tc.points(ASSIGNMENT)
    for (_, gid), pts in auto.items():
        score = mallory[gid][0]
        assert score is not None and 0 <= score <= pts, (gid, score)


def test_the_formgrader_copies_no_link_and_lists_past_a_fifo(graded):
    """Links among a hand-copied submission's files are not followed by the formgrader's
    Autograde (nbgrader's own copy would put the hidden tests and the gradebook in
    autograded/, then in the feedback), and they are flagged; a FIFO as a student's
    timestamp.txt does not block the formgrader's list of submissions."""
    course = graded["course"]
    folder = course / "autograded" / "mallory" / ASSIGNMENT
    assert folder.is_dir() and not [n for n in LINKS if (folder / n).exists() or (folder / n).is_symlink()]
    assert not [p for p in folder.rglob("*") if p.suffix != ".ipynb" and p.is_file()
                and b"BEGIN HIDDEN TESTS" in p.read_bytes()]
    comments = " ".join(str(v) for k, v in _grades(course, "mallory").items() if k.startswith("comment:"))
    for name in LINKS:
        assert f"autograde refused {name}: not copied: symbolic link" in comments, comments
    status, listed = graded["listed"]
    assert status == 200 and {"ada", "mallory", "trudy"} <= {s["student"] for s in listed}, listed
    assert next(s for s in listed if s["student"] == "trudy")["timestamp"] is None
