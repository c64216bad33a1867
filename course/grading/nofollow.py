"""What nbgrader reads from a student's folder after the collect, read without following a link.

The course's ``collect`` and ``zip_collect`` (grading/exchange.py) never bring a link into
``submitted/``. A submission can get there by other routes: the instructor copies an LMS
download or a student's folder by hand (``cp -r``, ``rsync -a``, ``unzip`` and ``tar x`` keep
symbolic links), or grades a folder a student prepared on a shared hub. nbgrader (0.9) then
follows whatever links it finds there, as the instructor:

* ``autograde`` copies the submission's other files into ``autograded/`` with ``shutil.copy``
  (``BaseConverter.init_assignment``), which follows a symbolic link: a relative link
  ``answers.txt -> ../../../source/<a>/<a>.ipynb`` becomes a copy of the hidden tests and the
  solutions, a link to ``gradebook.db`` a copy of every student's grades; ``generate_feedback``
  copies them on into ``feedback/`` (and ``release_feedback`` hands out any ``.html`` there);
* it reads ``timestamp.txt`` through a link (a FIFO blocks ``autograde`` and the formgrader's
  list of submissions for ever; a link to ``/dev/zero`` fills the memory);
* it reads the notebook through a submission *folder* that is a link: ``submitted/<student>/
  <a> -> ../../source/<a>`` has the instructor's solution graded as the student's (full marks).

:func:`harden_nbgrader` (called by ``nbgrader_config.py``, in every nbgrader command and in the
formgrader's server) closes these where nbgrader does them:

* :func:`copy_other_files` replaces the copy of ``init_assignment`` for the converters that
  read a student's folder (``autograde`` from ``submitted/``, ``generate_feedback`` from
  ``autograded/``): the folder is opened without following a link, and the files go through
  the collect's checks (:func:`exchange.copy_tree_nofollow`): symbolic links, hard links,
  devices, FIFOs, sockets, oversized files, files a browser would run, too many or too deep are
  not copied. Each refusal is logged and, in ``autograde``, written to ``collect_flags.csv``
  (route ``autograde``), so it becomes one of the student's autograder flags;
* ``timestamp.txt`` is read only when it is a small regular file reached without a link
  (:func:`read_timestamp`; ``CourseDirectory.get_existing_timestamp`` and the formgrader's
  ``NbGraderAPI.get_submitted_timestamp``);
* the submitted notebook is opened through the student's and the assignment's folders without
  following a link (:func:`open_submitted`, used by ``guard.GuardedNotebookExporter``): a linked
  folder or notebook is graded 0 with a flag.

The instructor's own folders (``source/``, the course root, ``submitted/`` itself) may be
links: only the last levels, the ones a student's folder can supply, are opened without
following one.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from . import exchange

TIMESTAMP = "timestamp.txt"
MAX_TIMESTAMP = 1024
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class LinkedSubmission(ValueError):
    """A submission's folder or notebook is a link, or not a regular file/folder."""


def open_folder(path, levels: int = 2) -> int:
    """A descriptor of the folder ``path``, its last ``levels`` components (the student's and
    the assignment's folders) opened without following a link. LinkedSubmission otherwise."""
    path = Path(os.path.normpath(os.path.abspath(path)))
    parts = path.parts[len(path.parts) - levels:]
    fd = os.open(path.parents[levels - 1], _DIR)
    try:
        for part in parts:
            try:
                new = os.open(part, _DIR | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise LinkedSubmission(f"the folder {part!r} is a symbolic link or not a folder") from exc
                raise
            os.close(fd)
            fd = new
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_submitted(filename, max_bytes: int) -> int:
    """A read-only descriptor of a submitted notebook ``.../<student>/<assignment>/<nb>.ipynb``:
    no link followed in the student's folder, the assignment's folder or the file; a regular
    file of at most ``max_bytes``. LinkedSubmission or ValueError otherwise."""
    folder = open_folder(Path(filename).parent)
    try:
        try:
            fd = os.open(Path(filename).name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK |
                         os.O_CLOEXEC, dir_fd=folder)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise LinkedSubmission("the notebook is a symbolic link") from exc
            raise
    finally:
        os.close(folder)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LinkedSubmission(f"the notebook is a {exchange._kind(st.st_mode)}, not a file")
        if st.st_size > max_bytes:
            raise ValueError(f"{filename} is larger than {max_bytes} bytes")
        os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def read_timestamp(folder, log=None):
    """The text of ``<folder>/timestamp.txt``, or None when there is none, or when it is a
    link, not a regular file, a hard link, or larger than 1 kB (logged)."""
    try:
        dir_fd = open_folder(folder)
    except FileNotFoundError:
        return None
    except (LinkedSubmission, OSError) as exc:
        if log:
            log.warning("[teachkit] %s: timestamp not read: %s", folder, exc)
        return None
    try:
        try:
            fd = os.open(TIMESTAMP, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if log:
                log.warning("[teachkit] %s/%s not read: %s", folder, TIMESTAMP,
                            "a symbolic link" if exc.errno in (errno.ELOOP, errno.EMLINK) else exc.strerror)
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1 or st.st_size > MAX_TIMESTAMP:
                if log:
                    log.warning("[teachkit] %s/%s not read: not a small regular file", folder, TIMESTAMP)
                return None
            return os.read(fd, MAX_TIMESTAMP).decode("utf-8", "replace").strip()
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


def _limits(coursedir, ignore) -> exchange.Limits:
    return exchange.Limits(max_file_bytes=1000 * coursedir.max_file_size,
                           max_total_bytes=1000 * coursedir.max_dir_size,
                           ignore=tuple(ignore), refuse_suffixes=exchange.ACTIVE_SUFFIXES)


def copy_other_files(source, dest, limits: exchange.Limits, log=None) -> exchange.CopyReport:
    """nbgrader's copy of a submission's other files (``init_assignment``), following no link:
    the files of ``source`` that ``limits`` lets through are copied into ``dest`` (created if
    needed), replacing files of the same name there. Returns what was copied and skipped."""
    source, dest = Path(os.path.abspath(source)), Path(os.path.abspath(dest))
    report = exchange.CopyReport()
    try:
        parent_fd = open_folder(source.parent, levels=1)  # the student's folder, not a link
    except FileNotFoundError:
        return report
    except (LinkedSubmission, OSError) as exc:
        report.refused = str(exc) if isinstance(exc, LinkedSubmission) else f"cannot be read ({exc.strerror})"
        return report
    dest.mkdir(parents=True, exist_ok=True)
    fresh = dest.parent / f".{dest.name}.teachkit-{secrets.token_hex(4)}"
    try:
        # the assignment's folder: lstat-ed and opened without following a link
        report = exchange.copy_tree_nofollow(parent_fd, source.name, fresh, limits)
        if report.refused:
            return report
        for rel in report.copied:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.is_file():
                target.unlink()
            os.replace(fresh / rel, target)
        if log:
            log.info("[teachkit] copied %d other files of %s (%d not copied)", len(report.copied),
                     source, len(report.skipped))
        return report
    finally:
        os.close(parent_fd)
        exchange._remove_tree(fresh)


def _reads_student_folders(converter) -> bool:
    cd = converter.coursedir
    return converter._input_directory in (cd.submitted_directory, cd.autograded_directory)


def _init_assignment(original):
    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        if not _reads_student_folders(self):
            return original(self, assignment_id, student_id)
        source = self._format_source(assignment_id, student_id)
        dest = self._format_dest(assignment_id, student_id)
        limits = _limits(self.coursedir, [*self.coursedir.ignore, "*.ipynb"])
        report = copy_other_files(source, dest, limits, self.log)
        rows = []
        if report.refused:
            rows.append((student_id, "", f"the submission's folder was not read: {report.refused}"))
        rows += [(student_id, path, f"not copied: {why}") for path, why in report.skipped]
        for _, path, why in rows:
            self.log.warning("[teachkit] %s REFUSED %s of student %r: %s", type(self).__name__,
                             path or "the submission", student_id, why)
        if self.coursedir.submitted_directory == self._input_directory:  # autograde: a flag
            exchange.record_flags(self.coursedir.root, "autograde", assignment_id, rows,
                                  replace_students={student_id})

    init_assignment.__doc__ = original.__doc__
    init_assignment._teachkit_nofollow = True
    return init_assignment


def harden_nbgrader() -> bool:
    """Patch nbgrader (once per process): the copy of a student's other files, the reading of
    ``timestamp.txt`` (see the module's docstring). Returns True once patched."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.converters.base import BaseConverter
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import parse_utc

    if getattr(BaseConverter.init_assignment, "_teachkit_nofollow", False):
        return True
    BaseConverter.init_assignment = _init_assignment(BaseConverter.init_assignment)

    def get_existing_timestamp(self, dest_path):
        text = read_timestamp(dest_path, self.log)
        if not text:
            return None
        try:
            return parse_utc(text)
        except ValueError:
            self.fail(f"Invalid timestamp string: {os.path.join(dest_path, TIMESTAMP)}")

    def get_submitted_timestamp(self, assignment_id, student_id):
        folder = os.path.abspath(self.coursedir.format_path(
            self.coursedir.submitted_directory, student_id, assignment_id))
        text = read_timestamp(folder, self.log)
        return parse_utc(text) if text else None

    get_existing_timestamp._teachkit_nofollow = True
    CourseDirectory.get_existing_timestamp = get_existing_timestamp
    NbGraderAPI.get_submitted_timestamp = get_submitted_timestamp
    return True
