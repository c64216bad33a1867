"""``nbgrader collect`` and ``nbgrader zip_collect`` safe (course/grading/exchange.py).

Findings of issue 29 played here, each first against nbgrader's stock configuration (the
control: the attack works there) and then against the course's:

* symbolic links in a hub exchange submission make ``collect`` copy the hidden tests, the
  solutions and the gradebook into the student's submission, and ``generate_feedback`` then
  hands them to the student;
* ``zip_collect`` with the guide's ``(?P<student_id>[^_]+)_(?P<file_id>.+)`` puts an absolute
  path in the student id; a student's zip inside the LMS download creates another student's
  submission.

And the copy's other refusals: hard links, FIFOs (a plain copy blocks on them), sockets,
devices (root only), oversized files, too many files, too deep, files a browser would run, a
submission folder that is itself a link, a folder owned by someone else, a name that does not
parse (which stops nbgrader's collect for everybody), and a student swapping a file for a link
*while* it is copied. zip_collect: absolute paths, ``..``, link entries, duplicates, size and
count bombs, and the Canvas and Moodle naming (synthetic names built from their documented
patterns: no live LMS here).

Everything runs in temporary folders; the tests that need root (a device node, files owned by
another user) skip elsewhere with the reason.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import pwd
import socket
import stat
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_spec = importlib.util.spec_from_file_location("formgrader_harness", HERE / "formgrader_harness.py")
fh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fh)
sys.path.insert(0, str(ROOT / "course" / "grading"))
import exchange  # noqa: E402

ASSIGNMENT = "planning-events"
NB = f"{ASSIGNMENT}.ipynb"
ME = pwd.getpwuid(os.getuid()).pw_name
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (device nodes, files owned by another user)")
pytestmark = pytest.mark.skipif(not fh.NBGRADER.exists(), reason="nbgrader is not installed next to this Python")
TS = "2026-11-20 12:00:00.000000 UTC"


# ----------------------------------------------------------------------------- the copy

def _tree(base: Path, secret: Path):
    """A submission folder with every kind of entry a student can plant."""
    sub = base / "sub"
    (sub / "data").mkdir(parents=True)
    (sub / NB).write_text('{"cells": []}')
    (sub / "data" / "table.csv").write_text("1,2\n")
    (sub / "notes.txt").write_text("x" * 10)
    os.symlink(secret, sub / "stolen.ipynb")                       # link to a file
    os.symlink(secret.parent, sub / "course-link")                 # link to a folder
    os.symlink("../../..", sub / "data" / "up")                     # relative link out
    (sub / "hard.txt").write_text("two names")
    os.link(sub / "hard.txt", sub / "hard-again.txt")             # hard link
    os.mkfifo(sub / "pipe.ipynb")                                  # FIFO: a plain copy blocks
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sub / "sock"))
    (sub / "page.html").write_text("<script>alert(1)</script>")    # a browser would run it
    (sub / "big.bin").write_bytes(b"\0" * 3000)
    deep = sub
    for i in range(12):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("deep")
    return sub, sock


def test_copy_tree_follows_no_link_and_skips_special_files(tmp_path):
    secret = tmp_path / "course" / "source" / NB
    secret.parent.mkdir(parents=True)
    secret.write_text("### BEGIN HIDDEN TESTS secret")
    sub, sock = _tree(tmp_path, secret)
    try:
        limits = exchange.Limits(max_file_bytes=2000, max_total_bytes=10_000, max_files=50, max_depth=10)
        parent = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            report = exchange.copy_tree_nofollow(parent, "sub", tmp_path / "out", limits)
        finally:
            os.close(parent)
    finally:
        sock.close()
    assert report.refused == ""
    assert sorted(report.copied) == ["data/table.csv", "notes.txt", NB]
    why = dict(report.skipped)
    assert why["stolen.ipynb"] == why["course-link"] == why["data/up"] == "symbolic link"
    assert why["hard.txt"].startswith("hard link") and why["hard-again.txt"].startswith("hard link")
    assert why["pipe.ipynb"] == "FIFO" and why["sock"] == "socket"
    assert why["page.html"] == "a file type a browser would run"
    assert why["big.bin"].startswith("larger than")
    assert [p for p, w in report.skipped if "deeper" in w] == ["/".join(f"d{i}" for i in range(11)) + "/"]
    copied = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert copied == ["data/table.csv", "notes.txt", NB]
    assert "secret" not in "".join(p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file())
    for p in (tmp_path / "out").rglob("*"):
        assert not p.is_symlink() and (p.is_dir() or p.stat().st_nlink == 1)


def test_copy_tree_refuses_a_link_a_file_or_too_much(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "linked")
    (tmp_path / "plain").write_text("x")
    many = tmp_path / "many"
    many.mkdir()
    for i in range(30):
        (many / f"f{i}.txt").write_text("y" * 100)
    parent = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        linked = exchange.copy_tree_nofollow(parent, "linked", tmp_path / "o1")
        plain = exchange.copy_tree_nofollow(parent, "plain", tmp_path / "o2")
        count = exchange.copy_tree_nofollow(parent, "many", tmp_path / "o3", exchange.Limits(max_files=10))
        size = exchange.copy_tree_nofollow(parent, "many", tmp_path / "o4",
                                           exchange.Limits(max_total_bytes=1000))
    finally:
        os.close(parent)
    assert linked.refused == "is a symbolic link, not a folder"
    assert plain.refused.startswith("is a special file") or "not a folder" in plain.refused
    assert count.refused == "more than 10 files" and not (tmp_path / "o3").exists()
    assert size.refused == "more than 1000 bytes in all" and not (tmp_path / "o4").exists()


@needs_root
def test_copy_tree_skips_a_device(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    os.mknod(sub / "zero", stat.S_IFCHR | 0o666, os.makedev(1, 5))   # /dev/zero: endless
    (sub / NB).write_text("{}")
    parent = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        report = exchange.copy_tree_nofollow(parent, "sub", tmp_path / "out")
    finally:
        os.close(parent)
    assert report.copied == [NB] and dict(report.skipped)["zero"] == "device"


def test_a_swap_in_the_window_between_check_and_open_is_refused(tmp_path):
    """The check-then-open window, made deterministic: the entry is checked, then swapped
    (for a link to the secret, for another file, for a link to a folder), then opened."""
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    src = tmp_path / "src"
    src.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    src_fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY)
    dest_fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for swap in ("link", "other file"):
            (src / "a.txt").write_text("mine")
            st = os.stat("a.txt", dir_fd=src_fd, follow_symlinks=False)
            if swap == "link":
                os.symlink(secret, src / "b.txt")
            else:
                (src / "b.txt").write_text("SECRET too")
            os.replace(src / "b.txt", src / "a.txt")
            with pytest.raises((OSError, exchange._Refused)):
                exchange._copy_file(src_fd, dest_fd, "a.txt", st, exchange.Limits(), 0o644)
            (src / "a.txt").unlink()
            assert not (dest / "a.txt").exists()
        (src / "d").mkdir()
        st = os.stat("d", dir_fd=src_fd, follow_symlinks=False)
        (src / "d").rmdir()
        os.symlink(tmp_path, src / "d")
        with pytest.raises(OSError):
            exchange.open_dir_nofollow(src_fd, "d", st)
    finally:
        os.close(src_fd)
        os.close(dest_fd)


SWAPPER = r"""
import os, sys, time
sub, secret_dir = sys.argv[1], sys.argv[2]
f, d = os.path.join(sub, "f.txt"), os.path.join(sub, "d")
end = time.monotonic() + 60
while time.monotonic() < end and not os.path.exists(os.path.join(secret_dir, "stop")):
    for path, real, link in ((f, "file", os.path.join(secret_dir, "gradebook.db")), (d, "dir", secret_dir)):
        tmp = path + ".new"
        for make in ("real", "link"):
            try:
                if make == "link":
                    os.symlink(link, tmp)
                elif real == "file":
                    with open(tmp, "w") as fh:
                        fh.write("mine")
                else:
                    os.mkdir(tmp)
                if real == "dir" and os.path.isdir(path) and not os.path.islink(path):
                    os.rmdir(path)
                os.rename(tmp, path)
            except OSError:
                pass
"""


def test_a_student_swapping_files_during_copies_never_gets_the_secret(tmp_path):
    """Another process swaps a file for a link to the secret (and a folder for a link to the
    secret's folder) as fast as it can while the tree is copied 300 times: the copies see
    both the student's file and the link, and never the secret."""
    import subprocess

    secret_dir = tmp_path / "course"
    secret_dir.mkdir()
    (secret_dir / "gradebook.db").write_text("SECRET")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "keep.txt").write_text("mine")
    swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, str(sub), str(secret_dir)])
    leaked, outcomes = [], {}
    try:
        parent = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for i in range(300):
                out = tmp_path / f"out{i}"
                report = exchange.copy_tree_nofollow(parent, "sub", out)
                for path in report.copied:
                    outcomes[path] = outcomes.get(path, 0) + 1
                for path, why in report.skipped:
                    outcomes[why] = outcomes.get(why, 0) + 1
                for p in out.rglob("*"):
                    if p.is_symlink() or (p.is_file() and "SECRET" in p.read_text()):
                        leaked.append(str(p))
                    if p.is_dir() and any(p.iterdir()):
                        leaked.append(str(p))  # the student's 'd' is always empty
                exchange._remove_tree(out)
        finally:
            os.close(parent)
    finally:
        (secret_dir / "stop").write_text("")
        swapper.wait(30)
    assert leaked == []
    assert outcomes.get("f.txt", 0) > 0 and outcomes.get("symbolic link", 0) > 0, outcomes
    print("\noutcomes of 300 copies under a swapping student:", outcomes)


# ----------------------------------------------------------------------------- the exchange

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The course (stock and teachkit configurations) with the assignment generated once."""
    made = {}
    for stock in (True, False):
        course = fh.copy_course(tmp_path_factory.mktemp("stock" if stock else "teachkit"), [ASSIGNMENT],
                                stock=stock)
        fh.nbgrader(course, "generate_assignment", ASSIGNMENT, "--create", "--force")
        made[stock] = course
    return made


def _course(generated, tmp_path, stock: bool, name=None) -> Path:
    """A private copy of the generated course (the config finds its root from its own place)."""
    import shutil

    course = tmp_path / (name or ("stock" if stock else "teachkit")) / "course"
    shutil.copytree(generated[stock], course)
    return course


def _exchange_course(generated, tmp_path, stock: bool):
    course = _course(generated, tmp_path, stock)
    ex = tmp_path / ("exchange-stock" if stock else "exchange")
    (ex / "teachkit-survival" / "inbound").mkdir(parents=True)
    return course, ex


def _submit(ex: Path, student: str, release: Path, ts=TS, links=None, folder_name=None):
    """A submission folder as ``nbgrader submit`` makes it (plus whatever the student adds)."""
    name = folder_name or f"{student}+{ASSIGNMENT}+{ts}+abc123"
    sub = ex / "teachkit-survival" / "inbound" / name
    sub.mkdir()
    (sub / NB).write_bytes(release.read_bytes())
    (sub / "timestamp.txt").write_text(ts)
    for link, target in (links or {}).items():
        os.symlink(target, sub / link)
    return sub


def _flags(course):
    path = course / exchange.FLAGS_FILE
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_collect_symlinks_stock_leaks_teachkit_refuses(generated, tmp_path):
    """The finding: a student's links to the hidden tests and the gradebook. Stock nbgrader
    copies them and hands them back in the feedback; the course's collect refuses and flags,
    and the flag reaches the autograder's flags (grades.csv)."""
    results = {}
    for stock in (True, False):
        course, ex = _exchange_course(generated, tmp_path, stock)
        release = course / "release" / ASSIGNMENT / NB
        links = {"hidden.ipynb": course / "source" / ASSIGNMENT / NB,
                 "gradebook-copy.db": course / "gradebook.db",
                 "course": course / "source"}
        _submit(ex, ME, release, links=links)
        proc = fh.nbgrader(course, "collect", ASSIGNMENT, f"--Exchange.root={ex}",
                           env={"TEACHKIT_SANDBOX": "off"} if stock else None)
        got = course / "submitted" / ME / ASSIGNMENT
        results[stock] = (got, proc.stdout + proc.stderr, course)
    got, log, course = results[True]
    assert "BEGIN HIDDEN TESTS" in (got / "hidden.ipynb").read_text(), "control: stock follows the link"
    assert (got / "gradebook-copy.db").read_bytes()[:15] == b"SQLite format 3"
    assert (got / "course" / ASSIGNMENT / NB).is_file()
    got, log, course = results[False]
    assert sorted(p.name for p in got.iterdir()) == [NB, "timestamp.txt"]
    for link in ("hidden.ipynb", "gradebook-copy.db", "course"):
        assert f"/{link} of student {ME!r}: skipped: symbolic link" in log, log
    flags = _flags(course)
    assert {(f["route"], f["student"], f["reason"]) for f in flags} == {
        ("collect", ME, "skipped: symbolic link")}
    assert len(flags) == 3
    # the flag travels to the autograder's flags: the formgrader's comment and grades.csv
    fh.nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force")
    fh.nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["student_id"] == ME)
    assert "collect refused" in row["flags"] and "symbolic link" in row["flags"], row["flags"]


def test_stock_feedback_hands_the_linked_secret_to_the_student(generated, tmp_path):
    """The whole chain of the finding with nbgrader as it ships: collect -> autograde ->
    generate_feedback puts the linked hidden-test notebook in the student's feedback folder."""
    course, ex = _exchange_course(generated, tmp_path, stock=True)
    release = course / "release" / ASSIGNMENT / NB
    _submit(ex, ME, release, links={"answers.txt": course / "source" / ASSIGNMENT / NB})
    env = {"TEACHKIT_SANDBOX": "off"}
    fh.nbgrader(course, "collect", ASSIGNMENT, f"--Exchange.root={ex}", env=env)
    fh.nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force", env=env)
    fh.nbgrader(course, "generate_feedback", ASSIGNMENT, "--force", env=env)
    leaked = course / "feedback" / ME / ASSIGNMENT / "answers.txt"
    assert "BEGIN HIDDEN TESTS" in leaked.read_text()


def test_collect_refuses_bad_records_and_keeps_collecting(generated, tmp_path):
    """A name that does not parse (which stops stock nbgrader's collect), an id that is not a
    plain id, a submission that is a link, another student's name on my folder: each refused
    and flagged; the honest submission is still collected."""
    course, ex = _exchange_course(generated, tmp_path, stock=False)
    release = course / "release" / ASSIGNMENT / NB
    inbound = ex / "teachkit-survival" / "inbound"
    _submit(ex, ME, release)
    _submit(ex, "x", release, folder_name=f"x+{ASSIGNMENT}+not-a-time")
    _submit(ex, "x", release, folder_name=f"..+{ASSIGNMENT}+{TS}")
    os.symlink(course / "source" / ASSIGNMENT, inbound / f"linker+{ASSIGNMENT}+{TS}")
    other = "daemon" if ME != "daemon" else "bin"
    _submit(ex, other, release)    # owned by ME, named for another student
    proc = fh.nbgrader(course, "collect", ASSIGNMENT, f"--Exchange.root={ex}")
    log = proc.stdout + proc.stderr
    assert (course / "submitted" / ME / ASSIGNMENT / NB).is_file()
    assert sorted(os.listdir(course / "submitted")) == [ME]
    assert not (course / ASSIGNMENT).exists()
    reasons = {(f["student"], f["reason"].split(" (")[0]) for f in _flags(course)}
    assert any(s == "x" and "not-a-time" in r for s, r in reasons), reasons
    assert ("?", "the student id is not a plain id") in reasons
    assert ("linker", "the submission is a symbolic link, not a folder") in reasons
    assert (other, f"the folder is owned by {ME!r}, not by {other!r}") in reasons
    assert log.count("collect REFUSED") == 4, log
    # stock nbgrader: the one bad name stops the collect for everybody
    stock, ex2 = _exchange_course(generated, tmp_path, stock=True)
    _submit(ex2, ME, stock / "release" / ASSIGNMENT / NB)
    _submit(ex2, "x", release, folder_name=f"x+{ASSIGNMENT}+not-a-time")
    bad = fh.nbgrader(stock, "collect", ASSIGNMENT, f"--Exchange.root={ex2}", check=False)
    assert bad.returncode != 0 and not (stock / "submitted" / ME).exists()


@needs_root
def test_collect_as_root_enforces_the_owner(generated, tmp_path):
    """As on a hub: the folder of 'nobody' is collected for 'nobody'; a folder named 'daemon'
    but created by 'nobody' is refused."""
    course, ex = _exchange_course(generated, tmp_path, stock=False)
    release = course / "release" / ASSIGNMENT / NB
    nobody = pwd.getpwnam("nobody")
    for student in ("nobody", "daemon"):
        sub = _submit(ex, student, release)
        for p in (sub, *sub.iterdir()):
            os.lchown(p, nobody.pw_uid, nobody.pw_gid)
    fh.nbgrader(course, "collect", ASSIGNMENT, f"--Exchange.root={ex}")
    assert (course / "submitted" / "nobody" / ASSIGNMENT / NB).is_file()
    assert not (course / "submitted" / "daemon").exists()
    assert [(f["student"], f["reason"]) for f in _flags(course)] == [
        ("daemon", "the folder is owned by 'nobody', not by 'daemon' (someone else's submission?)")]


def test_update_keeps_the_earlier_submission_when_the_new_one_is_refused(generated, tmp_path):
    course, ex = _exchange_course(generated, tmp_path, stock=False)
    release = course / "release" / ASSIGNMENT / NB
    _submit(ex, ME, release)
    fh.nbgrader(course, "collect", ASSIGNMENT, f"--Exchange.root={ex}")
    later = "2026-11-21 12:00:00.000000 UTC"
    sub = _submit(ex, ME, release, ts=later, folder_name=f"{ME}+{ASSIGNMENT}+{later}+def456")
    for i in range(600):
        (sub / f"f{i}.txt").write_text("x")
    fh.nbgrader(course, "collect", ASSIGNMENT, "--update", f"--Exchange.root={ex}")
    kept = course / "submitted" / ME / ASSIGNMENT
    assert (kept / "timestamp.txt").read_text() == TS and not (kept / "f0.txt").exists()
    assert [f["reason"] for f in _flags(course)] == ["not collected: more than 500 files"]


# ----------------------------------------------------------------------------- zip_collect

GUIDE_REGEXP = "--FileNameCollectorPlugin.named_regexp=(?P<student_id>[^_]+)_(?P<file_id>.+)"


def _zip(path: Path, members: dict):
    """A zip file; a value of ("symlink", target) is a link entry."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if isinstance(data, tuple) and data[0] == "symlink":
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                z.writestr(info, data[1])
            else:
                z.writestr(name, data)


def _nb_bytes(course, marker: str) -> bytes:
    nb = nbformat.read(course / "release" / ASSIGNMENT / NB, as_version=4)
    nb.cells[-1].source = marker
    return nbformat.writes(nb).encode()


def _zip_course(generated, tmp_path, stock):
    course = _course(generated, tmp_path, stock)
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    return course, archive


def _submitted(course):
    out = {}
    for p in sorted((course / "submitted").glob(f"*/{ASSIGNMENT}/{NB}")):
        out[p.parent.parent.name] = p.read_text()
    return out


def test_zip_collect_guide_regexp_stock_puts_a_path_in_the_id(generated, tmp_path):
    """The control, with the guide's old command: nbgrader matches the regexp against the
    absolute path of the extracted file, so the "student id" is the path up to the first '_'
    (here '<tmp>/.../test'), and the submission is written that many folders deep under
    submitted/, where autograde never finds a student 'alice'."""
    course, archive = _zip_course(generated, tmp_path, stock=True)
    (archive / f"alice_{NB}").write_bytes(_nb_bytes(course, "alice"))
    fh.nbgrader(course, "zip_collect", ASSIGNMENT, GUIDE_REGEXP)
    found = list((course / "submitted").rglob("*.ipynb"))
    assert not (course / "submitted" / "alice").exists()
    assert len(found) == 1 and str(tmp_path).lstrip("/").split("_")[0] in str(found[0].relative_to(course))
    assert len(found[0].relative_to(course / "submitted").parts) > 4, found


def test_zip_collect_a_students_zip_creates_another_students_submission_in_stock(generated, tmp_path):
    """The control: mallory uploads a zip holding 'bob_<nb>'; stock nbgrader extracts it (archives
    inside archives) and, with a regexp anchored on the file name, files it as bob's."""
    course, archive = _zip_course(generated, tmp_path, stock=True)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr(f"bob_{NB}", _nb_bytes(course, "written by mallory"))
    _zip(archive / "download.zip", {f"mallory_{ASSIGNMENT}.zip": inner.getvalue()})
    fh.nbgrader(course, "zip_collect", ASSIGNMENT,
                "--FileNameCollectorPlugin.named_regexp=.*/(?P<student_id>[^_/]+)_(?P<file_id>[^/]+)")
    assert "written by mallory" in _submitted(course)["bob"]


def test_zip_collect_teachkit_plain_layout(generated, tmp_path):
    """The guide's naming, <student_id>_<notebook>, with the guide's old command line: ids are
    plain ids from the file name; a student's archive is never opened; hostile entries of the
    download are refused; nothing is written outside the course's folders."""
    course, archive = _zip_course(generated, tmp_path, stock=False)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr(f"bob_{NB}", _nb_bytes(course, "written by mallory"))
    _zip(archive / "download.zip", {
        f"alice_{NB}": _nb_bytes(course, "alice"),
        f"bob_{NB}": _nb_bytes(course, "bob"),
        f"mallory_{ASSIGNMENT}.zip": inner.getvalue(),
        f"../../../../escaped_{NB}": _nb_bytes(course, "escape"),
        f"/tmp/abs_{NB}": _nb_bytes(course, "absolute"),
        f"sub/../../up_{NB}": _nb_bytes(course, "up"),
        f"link_{NB}": ("symlink", "/etc/passwd"),
        f"..._{NB}": _nb_bytes(course, "dots"),
        f"carol_other-notebook.ipynb": _nb_bytes(course, "unknown notebook"),
        f"dave_{NB}.html": b"<script>alert(1)</script>",
    })
    # a second copy of the same file name from another upload: the first wins, the second is flagged
    (archive / f"alice_{NB}").write_bytes(_nb_bytes(course, "alice again"))
    proc = fh.nbgrader(course, "zip_collect", ASSIGNMENT, GUIDE_REGEXP)
    got = _submitted(course)
    assert sorted(got) == ["alice", "bob"]
    assert "written by mallory" not in got["bob"] and "bob" in got["bob"]
    assert "alice" in got["alice"]
    assert not list(tmp_path.rglob(f"escaped_{NB}")) and not Path(f"/tmp/abs_{NB}").exists()
    assert not list(course.rglob(f"up_{NB}"))
    reasons = [(f["path"], f["reason"]) for f in _flags(course)]
    text = " | ".join(f"{p}: {r}" for p, r in reasons)
    for expected in ("a student's archive is not opened", "a path with '..'", "an absolute path",
                     "a symbolic link in the archive is not extracted",
                     "does not follow the 'plain' layout", "not a notebook (.ipynb)", "a second"):
        assert expected in text, (expected, text)
    assert "collect REFUSED" in proc.stdout + proc.stderr


def test_zip_collect_bombs_are_refused(generated, tmp_path):
    course, archive = _zip_course(generated, tmp_path, stock=False)
    _zip(archive / "bomb.zip", {f"alice_{NB}": b"\0" * 5_000_000, f"bob_{NB}": _nb_bytes(course, "bob")})
    _zip(archive / "many.zip", {f"f{i}.txt": b"x" for i in range(60)})
    fh.nbgrader(course, "zip_collect", ASSIGNMENT, "--SafeExtractor.max_file_bytes=1000000",
                "--SafeExtractor.max_members=50")
    assert sorted(_submitted(course)) == ["bob"]
    text = " | ".join(f"{f['path']}: {f['reason']}" for f in _flags(course))
    assert "larger than 1000000 bytes once uncompressed" in text and "more than 50 entries" in text
    assert not list((course / "downloaded").rglob("f1.txt"))


def test_zip_collect_canvas_layout(generated, tmp_path):
    """Canvas's download: <lastfirst>_[late_]<user id>_<submission id>_<uploaded name>[-n]. The
    uploaded name is the student's: a name built to look like another student's prefix does
    not move the file to that student."""
    course, archive = _zip_course(generated, tmp_path, stock=False)
    _zip(archive / "submissions.zip", {
        f"doejane_1234_5678_{NB}": _nb_bytes(course, "jane"),
        f"roejohn_late_2345_6789_{ASSIGNMENT}-1.ipynb": _nb_bytes(course, "john"),
        f"evilmallory_3456_7890_x_1234_9999_{NB}": _nb_bytes(course, "impersonating jane"),
    })
    fh.nbgrader(course, "zip_collect", ASSIGNMENT, "--LmsCollector.layout=canvas")
    got = _submitted(course)
    assert sorted(got) == ["1234", "2345"] and "jane" in got["1234"] and "john" in got["2345"]
    assert "impersonating" not in got["1234"]
    assert any("evilmallory_3456" in f["path"] and "canvas" in f["reason"] for f in _flags(course))


def test_zip_collect_moodle_layouts_and_id_map(generated, tmp_path):
    """Moodle (3.1+) in folders and flat: <Full Name>_<participant id>_assignsubmission_file[/ or _]
    <file>; the participant ids mapped to the course's ids by a CSV (lms_id,student_id)."""
    course, archive = _zip_course(generated, tmp_path, stock=False)
    _zip(archive / "moodle.zip", {
        f"Jane Doe_101_assignsubmission_file/{NB}": _nb_bytes(course, "jane"),
        f"John Roe_102_assignsubmission_file_{NB}": _nb_bytes(course, "john"),
        f"Eve Bad_103_assignsubmission_file/sub/101_assignsubmission_file/{NB}": _nb_bytes(course, "eve"),
        f"Nobody Known_104_assignsubmission_file/{NB}": _nb_bytes(course, "unmapped"),
    })
    idmap = tmp_path / "ids.csv"
    idmap.write_text("lms_id,student_id\n101,jdoe\n102,jroe\n103,ebad\n")
    fh.nbgrader(course, "zip_collect", ASSIGNMENT, "--LmsCollector.layout=moodle",
                f"--LmsCollector.id_map={idmap}")
    got = _submitted(course)
    assert sorted(got) == ["jdoe", "jroe"] and "jane" in got["jdoe"] and "john" in got["jroe"]
    text = " | ".join(f"{f['path']}: {f['reason']}" for f in _flags(course))
    assert "Eve Bad_103" in text and "LMS id '104' is not in" in text


def test_student_id_pattern():
    for good in ("ada", "jdoe", "1234", "a.b-c_d", "x@example.org"):
        assert exchange.valid_student_id(good), good
    for bad in ("", "..", ".hidden", "/abs", "a/b", "a+b", "a b", "x" * 65, "-rf", None, 3):
        assert not exchange.valid_student_id(bad), bad


# ----------------------------------------------------------------------------- after the collect
# A submission can reach submitted/ without the course's collect: the instructor copies a
# student's folder or an LMS download by hand (cp -a, rsync -a, unzip and tar keep symbolic
# links), or grades a folder a student prepared on a shared hub. nbgrader's autograde then
# copies the submission's other files with shutil.copy (following links) and generate_feedback
# hands them back; a linked folder or notebook has another notebook graded as the student's.

def _grading():
    """course/grading as the package the course's configuration loads."""
    spec = importlib.util.spec_from_file_location(
        "teachkit_course_grading", ROOT / "course" / "grading" / "__init__.py",
        submodule_search_locations=[str(ROOT / "course" / "grading")])
    if "teachkit_course_grading" not in sys.modules:
        mod = importlib.util.module_from_spec(spec)
        sys.modules["teachkit_course_grading"] = mod
        spec.loader.exec_module(mod)
    from teachkit_course_grading import nofollow

    return nofollow


def _hand_copied(course: Path, home: Path):
    """Three submissions copied into submitted/ by hand (``cp -a``), each planting links with
    paths relative to where they land: eve's other files link to the hidden tests and the
    gradebook (and two names of one file); mallory's assignment folder is a link to the
    instructor's source folder; trudy's notebook is a link to the source notebook."""
    import subprocess

    release = course / "release" / ASSIGNMENT / NB
    for student in ("eve", "mallory", "trudy"):
        (home / student).mkdir(parents=True)
    eve = home / "eve" / ASSIGNMENT
    eve.mkdir()
    (eve / NB).write_bytes(release.read_bytes())
    (eve / "timestamp.txt").write_text(TS)
    (eve / "notes.txt").write_text("my notes")
    os.symlink(f"../../../source/{ASSIGNMENT}/{NB}", eve / "answers.txt")   # the hidden tests
    os.symlink("../../../gradebook.db", eve / "grades.db")                   # everyone's grades
    (eve / "data").mkdir()
    os.symlink("../../../../source", eve / "data" / "course")                # a folder
    (eve / "two.txt").write_text("one file, two names")
    os.link(eve / "two.txt", eve / "names.txt")
    os.symlink(f"../../source/{ASSIGNMENT}", home / "mallory" / ASSIGNMENT)
    (home / "trudy" / ASSIGNMENT).mkdir()
    os.symlink(f"../../../source/{ASSIGNMENT}/{NB}", home / "trudy" / ASSIGNMENT / NB)
    (course / "submitted").mkdir(exist_ok=True)
    for student in ("eve", "mallory", "trudy"):
        subprocess.run(["cp", "-a", str(home / student), str(course / "submitted")], check=True)
    assert (course / "submitted" / "eve" / ASSIGNMENT / "answers.txt").is_symlink()


def _grades(course):
    fh.nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


@pytest.mark.slow
def test_hand_copied_links_stock_leaks_and_grades_the_solution_teachkit_refuses(generated, tmp_path):
    """The seal's finding, played end to end. Stock nbgrader: eve's feedback holds the hidden
    tests and the gradebook, mallory and trudy get full marks for the instructor's solution.
    The course: no link is followed or copied (autograded/ and feedback/), eve is graded with a
    flag naming each refused file, mallory and trudy score 0 with a flag saying why."""
    results = {}
    for stock in (True, False):
        course = _course(generated, tmp_path, stock)
        _hand_copied(course, tmp_path / ("home-stock" if stock else "home"))
        env = {"TEACHKIT_SANDBOX": "off"} if stock else None
        fh.nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force", env=env)
        fh.nbgrader(course, "generate_feedback", ASSIGNMENT, "--force", env=env)
        results[stock] = (course, _grades(course))
    course, grades = results[True]
    feedback = course / "feedback" / "eve" / ASSIGNMENT
    assert "BEGIN HIDDEN TESTS" in (feedback / "answers.txt").read_text(), "control: stock follows the link"
    assert (feedback / "grades.db").read_bytes()[:15] == b"SQLite format 3"
    for student in ("mallory", "trudy"):  # every automatic point (the written answer is by hand)
        score, most = float(grades[student]["score"]), float(grades[student]["max_score"])
        assert score >= 0.8 * most and score > float(grades["eve"]["score"]), grades[student]
    course, grades = results[False]
    for step in ("autograded", "feedback"):
        folder = course / step / "eve" / ASSIGNMENT
        names = {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
        assert "notes.txt" in names and not names & {"answers.txt", "grades.db", "two.txt", "names.txt"}, names
        assert not [p for p in folder.rglob("*") if p.is_symlink()]
        # (the autograded notebook holds the instructor's restored test cells, by design)
        assert not [p for p in folder.rglob("*") if p.is_file() and p.suffix != ".ipynb"
                    and b"BEGIN HIDDEN TESTS" in p.read_bytes()]
    flags = grades["eve"]["flags"]
    for name in ("answers.txt: not copied: symbolic link", "grades.db: not copied: symbolic link",
                 "data/course: not copied: symbolic link", "names.txt: not copied: hard link"):
        assert f"autograde refused {name}" in flags, (name, flags)
    for student in ("mallory", "trudy"):
        assert float(grades[student]["score"]) == 0, grades[student]
        assert "symbolic link" in grades[student]["flags"], grades[student]
    assert "is a symbolic link" in grades["mallory"]["flags"] and "notebook is a symbolic link" in grades["trudy"]["flags"]


def test_timestamp_and_copy_follow_no_link(tmp_path):
    """In-process: timestamp.txt that is a FIFO (a plain read blocks for ever), a link to
    /dev/zero (a plain read fills the memory) or inside a linked folder is not read, by
    nbgrader's CourseDirectory and by the formgrader's API; the copy of the other files
    replaces an earlier file and refuses a linked folder."""
    import threading
    from types import SimpleNamespace

    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    nofollow = _grading()
    nofollow.harden_nbgrader()
    root = tmp_path / "course"
    cases = {"fifo": None, "zero": None, "linked": None, "good": TS}
    for name in cases:
        (root / "submitted" / name).mkdir(parents=True)
    for name in ("fifo", "zero", "good"):
        (root / "submitted" / name / ASSIGNMENT).mkdir()
    os.mkfifo(root / "submitted" / "fifo" / ASSIGNMENT / "timestamp.txt")
    os.symlink("/dev/zero", root / "submitted" / "zero" / ASSIGNMENT / "timestamp.txt")
    (root / "submitted" / "good" / ASSIGNMENT / "timestamp.txt").write_text(TS)
    os.symlink(f"../good/{ASSIGNMENT}", root / "submitted" / "linked" / ASSIGNMENT)
    cd = CourseDirectory(root=str(root))
    api = SimpleNamespace(coursedir=cd, log=cd.log)
    got = {}

    def read():
        for name in cases:
            folder = cd.format_path(cd.submitted_directory, name, ASSIGNMENT)
            got[name] = (cd.get_existing_timestamp(folder),
                         NbGraderAPI.get_submitted_timestamp(api, ASSIGNMENT, name))
    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "reading timestamp.txt blocked"
    for name, text in cases.items():
        want = None if text is None else exchange.parse_utc(text)
        assert got[name] == (want, want), (name, got[name])
    # the copy: an earlier file of the same name is replaced; a linked folder is refused
    dest = tmp_path / "autograded" / "good" / ASSIGNMENT
    dest.mkdir(parents=True)
    (dest / "notes.txt").write_text("old")
    (root / "submitted" / "good" / ASSIGNMENT / "notes.txt").write_text("new")
    limits = exchange.Limits(ignore=("*.ipynb",))
    report = nofollow.copy_other_files(root / "submitted" / "good" / ASSIGNMENT, dest, limits)
    assert (dest / "notes.txt").read_text() == "new" and not report.refused
    report = nofollow.copy_other_files(root / "submitted" / "linked" / ASSIGNMENT, dest, limits)
    assert "symbolic link" in report.refused and report.copied == []
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".")]  # no leftover
    # the notebook, through a linked student folder or as a link itself: not opened
    (root / "submitted" / "good" / ASSIGNMENT / NB).write_text("{}")
    os.symlink("good", root / "submitted" / "linked-student")
    os.symlink(NB, root / "submitted" / "good" / ASSIGNMENT / "linked.ipynb")
    for path in (root / "submitted" / "linked-student" / ASSIGNMENT / NB,
                 root / "submitted" / "linked" / ASSIGNMENT / NB,
                 root / "submitted" / "good" / ASSIGNMENT / "linked.ipynb"):
        with pytest.raises(nofollow.LinkedSubmission, match="symbolic link"):
            nofollow.open_submitted(path, 1000)
    os.close(nofollow.open_submitted(root / "submitted" / "good" / ASSIGNMENT / NB, 1000))
