"""Collecting submissions safely: the hub exchange (``nbgrader collect``) and LMS downloads
(``nbgrader zip_collect``).

What nbgrader does on its own (0.9), and what a student can make of it:

* ``collect`` copies each ``inbound/<student>+<assignment>+<time>[+<random>]`` folder with
  ``shutil.copytree``, which *follows symbolic links*: a student who submits a link to
  ``~instructor/course/source`` (or the gradebook) gets the instructor's files copied into their
  submission, then into ``autograded/`` and, by ``generate_feedback``, into the feedback they
  fetch. The submission folder itself may be a link; hard links, FIFOs (the copy blocks),
  devices and huge trees are copied or attempted; one malformed folder name stops the collect
  for everybody; a folder named for another student is collected as theirs (only a warning).
* ``zip_collect`` matches the instructor's regular expression against the *absolute* path of
  each extracted file, so the guide's ``(?P<student_id>[^_]+)_...`` puts a path in the student
  id; it extracts archives *inside* archives, so one student's zip can carry files named for
  any other student and create or overwrite their submission.

Here:

* :func:`copy_tree_nofollow` copies a tree through file descriptors, never following a link:
  every entry is ``lstat``-ed and opened with ``O_NOFOLLOW`` relative to its parent's
  descriptor, and the opened object must be the one that was checked (same device and inode,
  still a regular file with one link) - so a student who swaps a file for a link *during* the
  copy gains nothing. Symbolic links, hard links (``st_nlink > 1``), devices, FIFOs, sockets,
  files over the size limit, trees over the count/size/depth limits, and file types a browser
  would run (``.html``, ``.svg``, ``.js``...) are skipped, each with a log line and a flag.
* :class:`TeachkitExchangeCollect` (``c.ExchangeFactory.collect``) uses it; a record whose
  name does not parse, whose student id is not a plain id, or whose folder is not owned by
  that student is refused (flagged) and the others are still collected.
* :class:`SafeExtractor` and :class:`LmsCollector` (``c.ZipCollectApp.extractor_plugin`` /
  ``collector_plugin``) extract only the instructor's download archive (no absolute path,
  ``..``, link, duplicate, or size/count bomb), never an archive a student uploaded, and take
  the student id from the part of the file name the LMS writes, validated (see
  :data:`LAYOUTS`), so an upload can only become the submission of its own student.
* Every refusal is a line of ``collect_flags.csv`` in the course folder (time, route,
  assignment, student, path, reason); :class:`CollectFlags` adds the student's rows to the
  autograder's flags (the formgrader's comment and the ``flags`` column of ``grades.csv``).
"""

from __future__ import annotations

import csv
import datetime
import errno
import fnmatch
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.plugins.zipcollect import ExtractorPlugin, FileNameCollectorPlugin
from nbgrader.utils import check_mode, parse_utc
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Enum, Integer, List, Unicode

#: A student id: letters, digits and . _ @ - ; starts with a letter or digit; at most 64.
#: (No '/', no '..', no '+', no '*', no space: it becomes a folder name.)
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: Files a browser would run if the formgrader or a student's server served them.
ACTIVE_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".xml", ".xsl", ".js",
                   ".mjs", ".swf")
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".zst")
FLAGS_FILE = "collect_flags.csv"
FLAGS_FIELDS = ["time", "route", "assignment", "student", "path", "reason"]


def valid_student_id(value) -> bool:
    """True for a plain student id (see :data:`STUDENT_ID`)."""
    return isinstance(value, str) and STUDENT_ID.fullmatch(value) is not None


# ----------------------------------------------------------------------------- the copy

@dataclass
class Limits:
    """Bounds of one copied tree (bytes, files, folder depth)."""

    max_file_bytes: int = 100_000_000
    max_total_bytes: int = 100_000_000
    max_files: int = 500
    max_depth: int = 10
    ignore: tuple = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".jupyter")
    refuse_suffixes: tuple = ACTIVE_SUFFIXES


@dataclass
class CopyReport:
    copied: list = field(default_factory=list)      # relative paths copied
    skipped: list = field(default_factory=list)     # (relative path, reason)
    refused: str = ""                               # why the whole tree was refused, if it was


class _Refused(Exception):
    pass


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def _kind(mode) -> str:
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def open_dir_nofollow(parent_fd: int, name: str, expected: os.stat_result | None = None) -> int:
    """Open ``name`` in ``parent_fd`` as a directory, never through a link; with ``expected``
    (its lstat), refuse it unless it is still that very directory."""
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    st = os.fstat(fd)
    if expected is not None and (st.st_dev, st.st_ino) != (expected.st_dev, expected.st_ino):
        os.close(fd)
        raise _Refused("changed while it was being collected")
    return fd


def copy_tree_nofollow(parent_fd: int, name: str, dest: Path, limits: Limits = Limits(),
                       file_mode: int = 0o644, dir_mode: int = 0o755) -> CopyReport:
    """Copy the directory ``name`` of ``parent_fd`` to the new folder ``dest`` (which must not
    exist) through descriptors, following no link. Returns what was copied and skipped; if the
    tree breaks a tree-wide limit (files, total bytes) nothing is left at ``dest`` and
    ``report.refused`` says why."""
    report = CopyReport()
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except OSError as exc:
        report.refused = f"cannot be read ({exc.strerror})"
        return report
    if not stat.S_ISDIR(st.st_mode):
        report.refused = f"is a {_kind(st.st_mode)}, not a folder"
        return report
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.mkdir(dest, dir_mode)
    totals = {"files": 0, "bytes": 0}
    try:
        src_fd = open_dir_nofollow(parent_fd, name, st)
        dest_fd = os.open(dest, _DIR_FLAGS)
        try:
            _copy_dir(src_fd, dest_fd, "", 0, limits, report, totals, file_mode, dir_mode)
        finally:
            os.close(src_fd)
            os.close(dest_fd)
    except (_Refused, OSError) as exc:
        reason = str(exc) if isinstance(exc, _Refused) else f"cannot be read ({exc.strerror})"
        report.refused, report.copied = reason, []
        _remove_tree(dest)
    return report


def _ignored(name: str, limits: Limits) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in limits.ignore)


def _copy_dir(src_fd, dest_fd, rel, depth, limits, report, totals, file_mode, dir_mode):
    for name in sorted(os.listdir(src_fd)):
        path = rel + name
        if _ignored(name, limits):
            continue
        try:
            st = os.stat(name, dir_fd=src_fd, follow_symlinks=False)
        except FileNotFoundError:
            report.skipped.append((path, "vanished while it was being collected"))
            continue
        if stat.S_ISDIR(st.st_mode):
            if depth + 1 > limits.max_depth:
                report.skipped.append((path + "/", f"folder deeper than {limits.max_depth} levels"))
                continue
            try:
                sub = open_dir_nofollow(src_fd, name, st)
            except (_Refused, OSError) as exc:
                report.skipped.append((path + "/", _why(exc)))
                continue
            try:
                os.mkdir(name, dir_mode, dir_fd=dest_fd)
                sub_dest = os.open(name, _DIR_FLAGS, dir_fd=dest_fd)
                try:
                    _copy_dir(sub, sub_dest, path + "/", depth + 1, limits, report, totals,
                              file_mode, dir_mode)
                finally:
                    os.close(sub_dest)
            finally:
                os.close(sub)
            continue
        if not stat.S_ISREG(st.st_mode):
            report.skipped.append((path, _kind(st.st_mode)))
            continue
        if st.st_nlink > 1:
            report.skipped.append((path, f"hard link ({st.st_nlink} names for one file)"))
            continue
        if name.lower().endswith(limits.refuse_suffixes):
            report.skipped.append((path, "a file type a browser would run"))
            continue
        if st.st_size > limits.max_file_bytes:
            report.skipped.append((path, f"larger than {limits.max_file_bytes} bytes"))
            continue
        totals["files"] += 1
        if totals["files"] > limits.max_files:
            raise _Refused(f"more than {limits.max_files} files")
        try:
            copied = _copy_file(src_fd, dest_fd, name, st, limits, file_mode)
        except (_Refused, OSError) as exc:
            report.skipped.append((path, _why(exc)))
            continue
        totals["bytes"] += copied
        if totals["bytes"] > limits.max_total_bytes:
            raise _Refused(f"more than {limits.max_total_bytes} bytes in all")
        report.copied.append(path)


def _why(exc) -> str:
    if isinstance(exc, _Refused):
        return str(exc)
    if exc.errno in (errno.ELOOP, errno.EMLINK):
        return "symbolic link (swapped in while it was being collected)"
    if exc.errno == errno.ENOTDIR:
        return "not a folder any more (changed while it was being collected)"
    return f"cannot be read ({exc.strerror})"


def _copy_file(src_fd, dest_fd, name, st, limits, file_mode) -> int:
    fd = os.open(name, _FILE_FLAGS, dir_fd=src_fd)
    try:
        fst = os.fstat(fd)
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(fst.st_mode):
            raise _Refused("changed while it was being collected")
        if fst.st_nlink > 1:
            raise _Refused(f"hard link ({fst.st_nlink} names for one file)")
        os.set_blocking(fd, True)
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                      file_mode, dir_fd=dest_fd)
        size = 0
        try:
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                size += len(chunk)
                if size > limits.max_file_bytes:
                    raise _Refused(f"grew beyond {limits.max_file_bytes} bytes while it was copied")
                os.write(out, chunk)
        except BaseException:
            os.close(out)
            os.unlink(name, dir_fd=dest_fd)
            raise
        os.close(out)
        return size
    finally:
        os.close(fd)


def _remove_tree(path: Path):
    """Remove a tree this module created (no link in it is followed)."""
    import shutil

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


# ----------------------------------------------------------------------------- the flags

def record_flags(course_root, route: str, assignment: str, rows, replace_students=()):
    """Write the refusals of one collect run into ``<course>/collect_flags.csv``: earlier rows
    of the same route, assignment and the (re)collected students are replaced."""
    path = Path(course_root) / FLAGS_FILE
    kept = []
    if path.is_file():
        with open(path, newline="") as fh:
            kept = [r for r in csv.DictReader(fh)
                    if not (r.get("route") == route and r.get("assignment") == assignment
                            and (r.get("student") in replace_students or r.get("student") in
                                 {row[0] for row in rows}))]
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    new = [{"time": now, "route": route, "assignment": assignment, "student": s, "path": p,
            "reason": why} for s, p, why in rows]
    if not kept and not new and not path.exists():
        return path
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FLAGS_FIELDS)
        writer.writeheader()
        writer.writerows(kept + new)
    os.replace(tmp, path)
    return path


def append_flag(course_root, route: str, assignment: str, student: str, path: str, reason: str):
    """Add one refusal to ``<course>/collect_flags.csv`` (``zip_collect`` writes as it goes)."""
    target = Path(course_root) / FLAGS_FILE
    new = not target.is_file()
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with open(target, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FLAGS_FIELDS)
        if new:
            writer.writeheader()
        writer.writerow({"time": now, "route": route, "assignment": assignment, "student": student,
                         "path": path, "reason": reason})


def clear_flags(course_root, route: str, assignment: str):
    """Forget the refusals of an earlier run of ``route`` for ``assignment``."""
    target = Path(course_root) / FLAGS_FILE
    if not target.is_file():
        return
    with open(target, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if not (r.get("route") == route and r.get("assignment") == assignment)]
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FLAGS_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, target)


def read_flags(course_root, assignment: str, student: str) -> list[str]:
    path = Path(course_root) / FLAGS_FILE
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [f"{r['route']}: {r['path'] or '(submission)'}: {r['reason']}" for r in csv.DictReader(fh)
                if r.get("assignment") == assignment and r.get("student") == student]


class CollectFlags(Preprocessor):
    """In ``autograde``, before teachkit's ``RecordFlags``: what ``collect``/``zip_collect``
    (and autograde's own copy of the other files, grading/nofollow.py) refused from this
    student's submission becomes one of the autograder's flags."""

    enabled = Bool(True).tag(config=True)
    course_root = Unicode("").tag(config=True)

    def preprocess(self, nb, resources):
        info = (resources or {}).get("nbgrader", {})
        if not self.course_root or not info.get("assignment") or not info.get("student"):
            return nb, resources
        found = read_flags(self.course_root, info["assignment"], info["student"])
        if found:
            # "collect refused <path>: <reason>", "autograde refused ..." (grading/nofollow.py)
            add_flag(resources, "; ".join(line.replace(": ", " refused ", 1) for line in found))
        return nb, resources


def add_flag(resources, text: str):
    """Append to the autograder's flags (``resources["teachkit"]["flags"]``, a string)."""
    box = resources.setdefault("teachkit", {})
    old = box.get("flags")
    if isinstance(old, list):
        old.append(text)
    else:
        box["flags"] = f"{old}; {text}" if old else text


# ----------------------------------------------------------------------------- the exchange

class TeachkitExchangeCollect(ExchangeCollect):
    """nbgrader's ``collect`` for the hub exchange, made safe (see the module's docstring).

    Set as ``c.ExchangeFactory.collect``; nbgrader's options (``--update``,
    ``--before-duedate``, ``CourseDirectory.max_file_size``/``max_dir_size``/``ignore``) keep
    their meaning."""

    owner_check = Enum(["refuse", "warn"], "refuse", help=(
        "A submission folder not owned by the Unix user named like the student: 'refuse' (skip "
        "and flag it) or 'warn' (nbgrader's behaviour; needed where student names are not Unix "
        "accounts, e.g. Kubernetes with numeric uids).")).tag(config=True)
    max_files = Integer(500, help="Most files in one submission.").tag(config=True)
    max_depth = Integer(10, help="Deepest folder in one submission.").tag(config=True)
    refuse_suffixes = List(list(ACTIVE_SUFFIXES), help=(
        "File types never collected (a browser would run them).")).tag(config=True)

    def _flag(self, student, path, reason):
        self.log.warning("[teachkit] collect REFUSED %s of student %r: %s", path or "the submission",
                         student, reason)
        self._flags.append((student, path, reason))

    def init_src(self):
        """The newest submission of each student (or the newest before the due date with
        ``--before-duedate``), as nbgrader chooses it; a folder whose name does not parse or
        whose student id is not a plain id is flagged and skipped, not fatal for the others."""
        assignment = self.coursedir.assignment_id
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        self._flags = []
        by_student = {}
        for name in sorted(os.listdir(self.inbound_path)):
            parts = name.split("+")
            if len(parts) < 2 or parts[1] != assignment:
                continue  # another assignment's submission
            student = parts[0]
            try:
                if len(parts) not in (3, 4):
                    raise ValueError("the name is not <student>+<assignment>+<time>[+<random>]")
                if not valid_student_id(student):
                    raise ValueError("the student id is not a plain id")
                when = parse_utc(parts[2])
            except Exception as exc:  # noqa: BLE001 (one bad name must not stop the collect)
                self._flag(student if valid_student_id(student) else "?", name, str(exc))
                continue
            if self.coursedir.student_id not in ("", "*") and student != self.coursedir.student_id:
                continue
            by_student.setdefault(student, []).append({"username": student, "filename": name,
                                                       "timestamp": when})
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                self.duedate = gb.find_assignment(assignment).duedate
            except MissingEntry:
                self.duedate = None
        self.src_records = []
        for records in by_student.values():
            records.sort(key=lambda r: r["timestamp"], reverse=True)
            chosen = records[0]
            if self.duedate is not None and self.before_duedate:
                on_time = [r for r in records if r["timestamp"] <= self.duedate]
                chosen = on_time[0] if on_time else records[0]
            self.src_records.append(chosen)

    def copy_files(self):
        """Each chosen submission copied by :func:`copy_tree_nofollow` into a fresh folder, which
        replaces the collected one only when the copy succeeded."""
        assignment = self.coursedir.assignment_id
        if not self.src_records:
            self.log.warning("No submissions of '%s' for course '%s' to collect", assignment,
                             self.coursedir.course_id)
        inbound_fd = os.open(self.inbound_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for rec in self.src_records:
                self._collect_one(inbound_fd, rec)
        finally:
            os.close(inbound_fd)
            record_flags(self.coursedir.root, "collect", assignment, self._flags,
                         replace_students={r["username"] for r in self.src_records})

    def _collect_one(self, inbound_fd, rec):
        student, name = rec["username"], rec["filename"]
        dest = Path(self.coursedir.format_path(self.coursedir.submitted_directory, student,
                                               self.coursedir.assignment_id))
        if dest.is_dir():
            existing = self.coursedir.get_existing_timestamp(str(dest))
            newer = existing is None or rec["timestamp"] > existing
            if not ((self.update and newer) or (self.before_duedate and existing != rec["timestamp"])):
                self.log.info("Submission already exists (use --update to update): %s %s", student,
                              self.coursedir.assignment_id)
                return
        try:
            st = os.stat(name, dir_fd=inbound_fd, follow_symlinks=False)
        except OSError as exc:
            self._flag(student, name, f"cannot be read ({exc.strerror})")
            return
        if not stat.S_ISDIR(st.st_mode):
            self._flag(student, name, f"the submission is a {_kind(st.st_mode)}, not a folder")
            return
        if self.check_owner:
            owner = self._owner(st.st_uid)
            if owner != student:
                reason = f"the folder is owned by {owner!r}, not by {student!r}"
                if self.owner_check == "refuse":
                    self._flag(student, name, reason + " (someone else's submission?)")
                    return
                self.log.warning("[teachkit] %s: %s", name, reason)
        limits = Limits(max_file_bytes=1000 * self.coursedir.max_file_size,
                        max_total_bytes=1000 * self.coursedir.max_dir_size,
                        max_files=self.max_files, max_depth=self.max_depth,
                        ignore=tuple(self.coursedir.ignore),
                        refuse_suffixes=tuple(s.lower() for s in self.refuse_suffixes))
        groupshared = self.coursedir.groupshared
        fresh = dest.with_name(dest.name + ".collecting")
        _remove_tree(fresh)
        report = copy_tree_nofollow(inbound_fd, name, fresh, limits,
                                    file_mode=0o664 if groupshared else 0o644,
                                    dir_mode=0o2775 if groupshared else 0o755)
        if report.refused:
            self._flag(student, name, f"not collected: {report.refused}")
            return
        for path, why in report.skipped:
            self._flag(student, f"{name}/{path}", f"skipped: {why}")
        if dest.exists():
            self.log.info("Updating submission: %s %s", student, self.coursedir.assignment_id)
            _remove_tree(dest)
        else:
            self.log.info("Collecting submission: %s %s", student, self.coursedir.assignment_id)
        os.rename(fresh, dest)
        self.log.info("[teachkit] collected %d files of %s (%d skipped)", len(report.copied), name,
                      len(report.skipped))

    @staticmethod
    def _owner(uid):
        try:
            import pwd

            return pwd.getpwuid(uid).pw_name
        except (ImportError, KeyError):
            return f"uid {uid}"


# ----------------------------------------------------------------------------- zip_collect

#: How each LMS names the files of its "download all submissions" archive, and where the
#: student id is. ``{nb}`` is a released notebook's name (escaped), so the student-chosen part
#: of the name is pinned and the id is read from the part the LMS writes.
LAYOUTS = {
    # <student_id>_<notebook>.ipynb  (the guide's own convention; the id has no '_')
    "plain": r"(?:[^/]+/)?(?P<student_id>[A-Za-z0-9][A-Za-z0-9.@-]{0,63})_(?P<file_id>{nb})",
    # Canvas: <lastfirst>_[late_]<canvas user id>_<submission id>_<uploaded name>[-<n>]
    "canvas": r"(?:[^/]+/)?(?P<name>[^_/]*)_(?:late_|LATE_)?(?P<student_id>[0-9]{1,12})_[0-9]{1,12}_"
              r"(?P<file_id>{stem})(?:-[0-9]{1,3})?\.ipynb",
    # Moodle 3.1+ "download submissions in folders": <Full Name>_<participant id>_assignsubmission_file/<file>
    # Moodle flat: <Full Name>_<participant id>_assignsubmission_file_<file>
    # (Moodle writes the name with '_' replaced by spaces, so the first '_' ends it.)
    "moodle": r"(?:[^/]+/)?(?P<name>[^_/]*)_(?P<student_id>[0-9]{1,12})_assignsubmission_file[_/]"
              r"(?P<file_id>{nb})",
}


class SafeExtractor(ExtractorPlugin):
    """``zip_collect``'s first step, made safe: the downloaded archive(s) in
    ``downloaded/<assignment>/archive/`` are extracted into ``extracted/``; loose files and
    folders there are copied (no link followed). An archive *inside* the download is a
    student's upload: it is never opened (flagged; ask for the notebook itself)."""

    max_members = Integer(5000, help="Most entries in one downloaded archive.").tag(config=True)
    max_total_bytes = Integer(2_000_000_000, help="Most bytes extracted in all.").tag(config=True)
    max_file_bytes = Integer(100_000_000, help="Largest extracted file.").tag(config=True)

    def extract(self, archive_path, extracted_path):
        self.flags = []
        clear_flags(self.parent.coursedir.root, "zip_collect", self.parent.coursedir.assignment_id)
        root_fd = os.open(archive_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for name in sorted(os.listdir(root_fd)):
                st = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
                target = Path(extracted_path) / name
                if stat.S_ISREG(st.st_mode) and name.lower().endswith(".zip"):
                    self.log.info("[teachkit] extracting the download %s", name)
                    self._unzip(root_fd, name, Path(extracted_path) / name[:-4])
                elif stat.S_ISREG(st.st_mode) and name.lower().endswith(ARCHIVE_SUFFIXES):
                    self._flag(name, "an archive that is not a .zip is not opened")
                elif stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
                    self._copy(root_fd, name, target, st)
                else:
                    self._flag(name, f"{_kind(st.st_mode)}: not collected")
        finally:
            os.close(root_fd)

    def _flag(self, path, reason):
        self.log.warning("[teachkit] zip_collect REFUSED %s: %s", path, reason)
        self.flags.append(("?", path, reason))
        append_flag(self.parent.coursedir.root, "zip_collect", self.parent.coursedir.assignment_id,
                    "?", path, reason)

    def _limits(self):
        return Limits(max_file_bytes=self.max_file_bytes, max_total_bytes=self.max_total_bytes,
                      max_files=self.max_members, max_depth=10, ignore=(), refuse_suffixes=())

    def _copy(self, root_fd, name, target, st):
        if stat.S_ISDIR(st.st_mode):
            report = copy_tree_nofollow(root_fd, name, target, self._limits())
            if report.refused:
                self._flag(name, report.refused)
            for path, why in report.skipped:
                self._flag(f"{name}/{path}", why)
            for path in report.copied:
                if path.lower().endswith(ARCHIVE_SUFFIXES):
                    (target / path).unlink()
                    self._flag(f"{name}/{path}", "a student's archive is not opened")
            return
        if name.lower().endswith(ARCHIVE_SUFFIXES):
            self._flag(name, "a student's archive is not opened")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        dest_fd = os.open(target.parent, _DIR_FLAGS)
        try:
            _copy_file(root_fd, dest_fd, name, st, self._limits(), 0o644)
        except (_Refused, OSError) as exc:
            self._flag(name, _why(exc))
        finally:
            os.close(dest_fd)

    def _unzip(self, root_fd, name, dest: Path):
        fd = os.open(name, _FILE_FLAGS, dir_fd=root_fd)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as raw:
            try:
                archive = zipfile.ZipFile(raw)
            except zipfile.BadZipFile as exc:
                self._flag(name, f"not a zip archive ({exc})")
                return
            with archive:
                members = archive.infolist()
                if len(members) > self.max_members:
                    self._flag(name, f"more than {self.max_members} entries: not extracted")
                    return
                dest.mkdir(parents=True, exist_ok=True)
                total = 0
                seen = set()
                for info in members:
                    where = f"{name}:{info.filename}"
                    rel, why = _member_path(info)
                    if why:
                        self._flag(where, why)
                        continue
                    if info.is_dir():
                        continue
                    if rel.lower() in seen:
                        self._flag(where, "a second entry with the same name")
                        continue
                    seen.add(rel.lower())
                    if rel.lower().endswith(ARCHIVE_SUFFIXES):
                        self._flag(where, "a student's archive is not opened")
                        continue
                    target = dest / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if os.path.realpath(target.parent) != os.path.join(os.path.realpath(dest),
                                                                       *Path(rel).parts[:-1]):
                        self._flag(where, "would be written outside the extraction folder")
                        continue
                    try:
                        written = self._write_member(archive, info, target, total)
                    except _Refused as exc:
                        self._flag(where, str(exc))
                        if "in all" in str(exc):
                            return
                        continue
                    total += written

    def _write_member(self, archive, info, target: Path, total: int) -> int:
        size = 0
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            with archive.open(info) as member:
                while True:
                    chunk = member.read(1 << 20)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_file_bytes:
                        raise _Refused(f"larger than {self.max_file_bytes} bytes once uncompressed")
                    if total + size > self.max_total_bytes:
                        raise _Refused(f"more than {self.max_total_bytes} bytes in all")
                    os.write(out, chunk)
        except BaseException:
            os.close(out)
            target.unlink()
            raise
        os.close(out)
        return size


def _member_path(info: zipfile.ZipInfo):
    """(safe relative path, "") or ("", why) for one zip entry."""
    name = info.filename
    mode = (info.external_attr >> 16) & 0o170000
    if mode and mode not in (stat.S_IFREG, stat.S_IFDIR):
        return "", f"a {_kind(mode)} in the archive is not extracted"
    if info.flag_bits & 0x1:
        return "", "an encrypted entry is not extracted"
    if "\x00" in name or "\\" in name:
        return "", "a name with a backslash or NUL"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "", "an absolute path"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return "", "a path with '..'"
    if not parts:
        return "", "an empty name"
    return "/".join(parts), ""


class LmsCollector(FileNameCollectorPlugin):
    """``zip_collect``'s second step: which student does an extracted file belong to?

    ``layout`` names the LMS's naming of its download (see :data:`LAYOUTS`): the student id is
    read from the part of the name the LMS writes, the rest must be a released notebook's name,
    the id must be a plain id (:data:`STUDENT_ID`), and a file extracted from a student's own
    archive never reaches here. ``layout = "regexp"`` uses nbgrader's
    ``FileNameCollectorPlugin.named_regexp`` instead, matched in full against the path relative
    to the extraction folder (never the absolute path). ``id_map`` (a CSV file with the
    columns ``lms_id,student_id``) turns the LMS's ids into the course's."""

    layout = Enum(["plain", "canvas", "moodle", "regexp"], "plain").tag(config=True)
    id_map = Unicode("", help="CSV file lms_id,student_id (optional)").tag(config=True)

    def _released(self):
        app = self.parent
        folder = Path(app.coursedir.format_path(app.coursedir.release_directory, ".",
                                                app.coursedir.assignment_id))
        return sorted(p.name for p in folder.glob("*.ipynb"))

    def _map(self):
        if not self.id_map:
            return None
        with open(self.id_map, newline="") as fh:
            return {r["lms_id"].strip(): r["student_id"].strip() for r in csv.DictReader(fh)}

    def _refuse(self, rel, reason, student="?"):
        self.log.warning("[teachkit] zip_collect REFUSED %s: %s", rel, reason)
        self.flags.append((student, rel, reason))
        append_flag(self.parent.coursedir.root, "zip_collect", self.parent.coursedir.assignment_id,
                    student, rel, reason)
        return None

    def collect(self, submitted_file):
        if not hasattr(self, "flags"):
            self.flags, self._taken = [], {}
            if self.named_regexp and self.layout != "regexp":
                self.log.warning("[teachkit] FileNameCollectorPlugin.named_regexp is not used with "
                                 "LmsCollector.layout=%r (set layout='regexp' to use it)", self.layout)
        app = self.parent
        root = Path(app._format_collect_path(app.extracted_directory)).resolve()
        path = Path(submitted_file)
        try:
            rel = path.resolve().relative_to(root).as_posix() if not path.is_symlink() else None
        except ValueError:
            rel = None
        if rel is None:
            return self._refuse(str(submitted_file), "outside the extraction folder or a link")
        if not rel.endswith(".ipynb"):
            return self._refuse(rel, "not a notebook (.ipynb): not collected")
        released = self._released()
        matches = []
        for nb in released:
            stem = nb[:-len(".ipynb")]
            if self.layout == "regexp":
                if not self.named_regexp:
                    return self._refuse(rel, "layout 'regexp' needs FileNameCollectorPlugin.named_regexp")
                m = re.fullmatch(self.named_regexp, rel)
                if m and "file_id" in m.groupdict() and m.group("file_id") in (nb, stem):
                    matches.append((m.group("student_id"), nb))
                continue
            pattern = LAYOUTS[self.layout].replace("{nb}", re.escape(nb)).replace("{stem}", re.escape(stem))
            m = re.fullmatch(pattern, rel)
            if m:
                matches.append((m.group("student_id"), nb))
        matches = list(dict.fromkeys(matches))
        if not matches:
            return self._refuse(rel, f"the name does not follow the '{self.layout}' layout with a "
                                     f"released notebook ({', '.join(released) or 'none released'})")
        if len(matches) > 1:
            return self._refuse(rel, f"ambiguous: could belong to {matches}")
        student, nb = matches[0]
        mapping = self._map()
        if mapping is not None:
            if student not in mapping:
                return self._refuse(rel, f"LMS id {student!r} is not in {self.id_map}")
            student = mapping[student]
        if not valid_student_id(student):
            return self._refuse(rel, f"{student!r} is not a plain student id")
        key = (student, nb)
        if key in self._taken:
            return self._refuse(rel, f"a second {nb} for {student!r} (kept {self._taken[key]})", student)
        self._taken[key] = rel
        return {"student_id": student, "file_id": nb}
