"""Run student code inside a bubblewrap sandbox (used while autograding only).

What a sandboxed process sees
-----------------------------
* read-only: ``/usr`` (and the ``/lib``, ``/bin`` links), a few files of ``/etc`` (dynamic
  linker, time zone, fonts) and a *synthetic* ``/etc/passwd`` and ``/etc/group`` (``root``
  and the sandbox user only: no account name of the host), the Python installation and the
  virtual environment that runs nbgrader, and the ``teachkit`` package folder at
  ``/opt/teachkit-lib/teachkit`` (never the repository around it, so never ``course/``);
* its working folder, at the submission folder's own path (so ``os.getcwd()`` and the
  per-student seed of the hidden tests are unchanged), is a **size-limited tmpfs** holding
  only the files the instructor *released* with the assignment, copied in through file
  descriptors; ``/tmp`` is another size-limited tmpfs. Nothing of the submission folder,
  the course, the gradebook or another submission is mounted;
* what the grader hands in through file descriptors (a kernel's connection file): the
  sandbox reads a copy and can write nothing the grader later reads or follows;
* for a kernel, one folder of its own for its IPC sockets (see grading/kernel.py);
* no network (``--unshare-net``: only its own loopback), its own process tree
  (``--unshare-pid``, killed with its parent), a new session (no terminal to inject into);
* as root, the code runs as ``nobody`` without capabilities, so that the process limit
  holds (root is exempt from ``RLIMIT_NPROC``);
* limits (``setrlimit``): address space, processes, CPU seconds, size of a written file,
  open files; tmpfs sizes (bubblewrap >= 0.8; older versions cannot bound them: a warning).

Interpreters start with ``python -I`` (isolated: neither the working folder nor ``PYTHON*``
variables reach ``sys.path``), so no file of the submission can replace a module the
grader's side imports.

``TEACHKIT_SANDBOX=off`` runs without the sandbox (machines without bubblewrap or user
namespaces); the grader then warns loudly. ``python sandbox.py check`` tells whether the
sandbox starts here.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

NOBODY = 65534
# Limits of one sandboxed process tree (override with TEACHKIT_SANDBOX_<NAME>).
LIMITS = {
    "AS": 3 * 1024**3,         # bytes of address space per process
    "NPROC": 48,               # processes and threads of the sandbox user
    "CPU": 300,                # CPU seconds per process
    "FSIZE": 64 * 1024**2,     # bytes per written file
    "NOFILE": 256,             # open files per process
    "TMP": 128 * 1024**2,      # bytes of the /tmp tmpfs
    "WORK": 128 * 1024**2,     # bytes of the working folder's tmpfs
}
# Files of /etc a Python with numpy, scipy and matplotlib needs; never passwd or group (the
# sandbox gets its own, see _passwd) nor anything with account or host names.
ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/fonts", "/etc/alternatives", "/etc/matplotlibrc"]
#: Where the teachkit package and the grading helpers appear inside the sandbox.
LIB = "/opt/teachkit-lib"
GRADING = "/opt/teachkit-grading"
#: Largest file the grader copies into a sandbox (a released data file).
MAX_COPY = 32 * 1024**2

log = logging.getLogger("teachkit.sandbox")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


def enabled() -> bool:
    """False when the instructor asked to grade without the sandbox (TEACHKIT_SANDBOX=off)."""
    return os.environ.get("TEACHKIT_SANDBOX", "on").lower() not in ("off", "0", "no", "false")


def limits() -> dict[str, int]:
    out = dict(LIMITS)
    for name in out:
        value = os.environ.get(f"TEACHKIT_SANDBOX_{name}")
        if value:
            out[name] = int(value)
    return out


@functools.lru_cache(maxsize=None)
def _bwrap() -> tuple[str, bool]:
    """(path of bwrap, whether it knows --size)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    try:
        helptext = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bwrap --help failed: {exc}") from None
    has_size = "--size" in helptext
    if not has_size:
        log.warning("bubblewrap older than 0.8: the sandbox's tmpfs sizes cannot be bounded "
                    "(a student can fill memory up to the address-space limit per process)")
    return bwrap, has_size


def python_roots() -> list[Path]:
    """Folders a sandboxed Python needs: the installation and the environment."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix)}
    exe = Path(sys.executable)
    roots.add(exe.parent.parent)  # the venv (sys.executable may be a symlink into it)
    roots.add(exe.resolve().parent.parent)
    # Site folders added by .pth files (a venv layered on another environment, as on a hub
    # whose shared venv reads a system one): only folders named site-/dist-packages, never
    # other sys.path entries (the working folder, an editable checkout with the course).
    roots.update(Path(p) for p in sys.path if Path(p).name in ("site-packages", "dist-packages"))
    return sorted(r for r in roots if r.is_dir() and not str(r).startswith("/usr"))


def teachkit_package() -> Path:
    spec = importlib.util.find_spec("teachkit")
    if spec is None or not spec.origin:
        raise SandboxUnavailable("teachkit is not importable by the grading Python")
    return Path(spec.origin).resolve().parent


def _passwd(uid: int, gid: int) -> tuple[bytes, bytes]:
    """A minimal /etc/passwd and /etc/group: root and the sandbox's own user, no host name."""
    users = ["root:x:0:0:root:/root:/usr/sbin/nologin"]
    groups = ["root:x:0:"]
    if uid == NOBODY:
        users.append(f"nobody:x:{NOBODY}:{NOBODY}:nobody:/tmp:/usr/sbin/nologin")
        groups.append(f"nogroup:x:{NOBODY}:")
    elif uid != 0:
        users.append(f"student:x:{uid}:{gid}:student:/tmp:/usr/sbin/nologin")
        groups.append(f"student:x:{gid}:")
    return ("\n".join(users) + "\n").encode(), ("\n".join(groups) + "\n").encode()


def open_regular(path: Path, max_bytes: int = MAX_COPY) -> int:
    """A read-only descriptor of a regular file, never through a symbolic link in its last
    component; ValueError if it is not a regular file or is larger than ``max_bytes``."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path} is not a regular file")
        if st.st_size > max_bytes:
            raise ValueError(f"{path} is larger than {max_bytes} bytes")
        os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _memfd(content: bytes) -> int:
    fd = os.memfd_create("teachkit", os.MFD_CLOEXEC) if hasattr(os, "memfd_create") else None
    if fd is None:  # pragma: no cover (Linux without memfd)
        tmp = tempfile.TemporaryFile()
        fd = os.dup(tmp.fileno())
        tmp.close()
    os.write(fd, content)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class Sandbox:
    """One bwrap command line and the descriptors it hands to bwrap.

    >>> # sb = Sandbox(cwd); sb.copy(src, cwd / "data.csv"); cmd = sb.command([...])
    >>> # Popen(cmd, pass_fds=sb.fds, preexec_fn=limit_child); sb.close()
    """

    def __init__(self, cwd: Path, *, as_nobody: bool | None = None, teachkit: str = "ro"):
        """``cwd``: the working folder's path inside (a fresh tmpfs); ``teachkit``: "ro" (bind
        the package read-only), "copy" (copy its files into a folder the sandboxed process
        may delete: the by-hand runner does, once teachkit is imported) or "none"."""
        bwrap, self.has_size = _bwrap()
        if as_nobody is None:
            as_nobody = os.geteuid() == 0
        self.as_nobody = as_nobody
        self.cwd = Path(cwd)
        self.fds: list[int] = []
        self._made: set[Path] = set()
        lim = limits()
        self.args = [bwrap, "--die-with-parent", "--new-session", "--unshare-net", "--unshare-pid",
                     "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox",
                     "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
        self.tmpfs(Path("/tmp"), lim["TMP"], 0o1777)
        for link in ("lib", "lib64", "lib32", "bin", "sbin"):
            p = Path("/") / link
            if p.is_symlink():
                self.args += ["--symlink", os.readlink(p), str(p)]
            elif p.is_dir():
                self.args += ["--ro-bind", str(p), str(p)]
        for f in ETC_FILES:
            if os.path.exists(f):
                self.bind(Path(f))
        uid, gid = (NOBODY, NOBODY) if as_nobody else (os.getuid(), os.getgid())
        passwd, group = _passwd(uid, gid)
        self.data(passwd, Path("/etc/passwd"))
        self.data(group, Path("/etc/group"))
        for root in python_roots():
            self.bind(root)
        pkg = teachkit_package()
        if teachkit == "ro":
            self.bind(pkg, Path(LIB) / "teachkit")
        elif teachkit == "copy":
            self.dir(Path(LIB), 0o777)  # the sandboxed user may delete the copy, folder included
            self._copy_tree(pkg, Path(LIB) / "teachkit")
        # An installed (non-editable) teachkit inside a mounted site-packages stays reachable
        # there: hide it where the package must be unavailable (the by-hand runner).
        if teachkit != "ro":
            for root in python_roots():
                if pkg.is_relative_to(root):
                    self.tmpfs(pkg, 4096, 0o755)
        # the working folder's parents (the course's path, skeleton only): traversable, not
        # listable, so nothing even names the course's layout
        for i in range(2, len(self.cwd.parts)):
            self.dir(Path(*self.cwd.parts[:i]), 0o711)
        self.tmpfs(self.cwd, lim["WORK"], 0o777)

    # ------------------------------------------------------------------ building blocks
    def _parents(self, dest: Path) -> None:
        parts = dest.parts
        for i in range(2, len(parts)):
            parent = Path(*parts[:i])
            if parent not in self._made and str(parent) not in ("/usr", "/tmp", "/proc", "/dev"):
                self.args += ["--perms", "0755", "--dir", str(parent)]
                self._made.add(parent)

    def bind(self, src: Path, dest: Path | None = None, *, writable: bool = False) -> None:
        dest = Path(dest or src)
        self._parents(dest)
        self.args += ["--bind" if writable else "--ro-bind", str(src), str(dest)]
        self._made.add(dest)

    def tmpfs(self, dest: Path, size: int, perms: int) -> None:
        self._parents(dest)
        self.args += ["--perms", f"{perms:04o}"]
        if self.has_size:
            self.args += ["--size", str(int(size))]
        self.args += ["--tmpfs", str(dest)]
        self._made.add(dest)

    def dir(self, dest: Path, perms: int = 0o755) -> None:
        self._parents(dest)
        if dest not in self._made:
            self.args += ["--perms", f"{perms:04o}", "--dir", str(dest)]
            self._made.add(dest)

    def data(self, content: bytes, dest: Path, *, writable: bool = False, perms: int = 0o644) -> None:
        """A file with ``content`` at ``dest``: read-only bind, or a copy the sandbox may
        change (``writable``, in a tmpfs)."""
        fd = _memfd(content)
        self.fds.append(fd)
        self._parents(dest)
        if writable:
            self.args += ["--perms", f"{perms:04o}", "--file", str(fd), str(dest)]
        else:
            self.args += ["--perms", f"{perms:04o}", "--ro-bind-data", str(fd), str(dest)]

    def copy(self, src: Path, dest: Path, perms: int = 0o666) -> None:
        """A copy of the regular file ``src`` at ``dest`` (never following a link)."""
        fd = open_regular(src)
        self.fds.append(fd)
        self._parents(dest)
        self.args += ["--perms", f"{perms:04o}", "--file", str(fd), str(dest)]

    def _copy_tree(self, src: Path, dest: Path) -> None:
        # 0777 folders: the sandboxed user may delete the copy (and nothing else of it exists)
        self.dir(dest, 0o777)
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if "__pycache__" in rel.parts or path.is_symlink():
                continue
            if path.is_dir():
                self.dir(dest / rel, 0o777)
            elif path.is_file():
                self.copy(path, dest / rel, 0o644)

    def command(self, argv: list[str], env: dict | None = None) -> list[str]:
        base_env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp",
                    "TEACHKIT_LIB": LIB, "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl",
                    "IPYTHONDIR": "/tmp/ipython", "JUPYTER_RUNTIME_DIR": "/tmp/runtime",
                    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "TEACHKIT_IN_SANDBOX": "1"}
        base_env.update(env or {})
        args = list(self.args) + ["--clearenv"]
        for key, value in base_env.items():
            args += ["--setenv", key, value]
        args += ["--chdir", str(self.cwd)]
        if self.as_nobody:
            setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                     setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--"]
        else:
            args += ["--"]
        return args + list(argv)

    def close(self) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []


def released_files(source: Path | None, ignore=(), extra: list[tuple[Path, str]] = ()) -> list[tuple[Path, str]]:
    """[(path, relative name)] of the files the instructor released with an assignment: the
    assignment's source folder without notebooks, links, checkpoints and ``ignore`` patterns."""
    import fnmatch

    out = []
    if source is not None and Path(source).is_dir():
        for path in sorted(Path(source).rglob("*")):
            rel = path.relative_to(source)
            if (path.is_symlink() or not path.is_file() or path.suffix == ".ipynb"
                    or any(fnmatch.fnmatch(part, pat) for part in rel.parts for pat in ignore)):
                continue
            out.append((path, rel.as_posix()))
    out += list(extra)
    return out


def add_files(sb: Sandbox, files) -> None:
    for src, rel in files:
        rel_path = Path(rel)
        if rel_path.is_absolute() or ".." in rel_path.parts:
            continue
        for i in range(1, len(rel_path.parts)):
            sb.dir(sb.cwd / Path(*rel_path.parts[:i]), 0o777)
        sb.copy(Path(src), sb.cwd / rel_path)


def apply_limits() -> None:
    """setrlimit in this process (inherited by bwrap and the sandboxed code)."""
    import resource

    lim = limits()
    nproc = lim["NPROC"]
    if os.geteuid() != 0:
        # Not root: RLIMIT_NPROC counts every process of this user; allow what runs already.
        nproc += sum(1 for p in Path("/proc").iterdir() if p.name.isdigit())
    for name, value in (("AS", lim["AS"]), ("NPROC", nproc), ("CPU", lim["CPU"]),
                        ("FSIZE", lim["FSIZE"]), ("NOFILE", lim["NOFILE"])):
        res = getattr(resource, f"RLIMIT_{name}")
        soft, hard = resource.getrlimit(res)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(res, (value, value))


def limit_child() -> None:
    """preexec_fn of a sandbox: die with the grader, then apply the limits."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    except (OSError, AttributeError):
        pass
    apply_limits()


def unsandboxed_child() -> None:
    """preexec_fn without the sandbox (TEACHKIT_SANDBOX=off): die with the grader."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))
    except (OSError, AttributeError):
        pass


def check() -> None:
    """Raise SandboxUnavailable unless a sandboxed Python starts here."""
    try:
        sb = Sandbox(Path("/tmp/teachkit-check"), teachkit="none")
    except SandboxUnavailable:
        raise
    try:
        proc = subprocess.run(sb.command([sys.executable, "-I", "-c", "print('sandbox-ok')"]),
                              capture_output=True, text=True, timeout=60, pass_fds=sb.fds,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(str(exc)) from None
    finally:
        sb.close()
    if proc.returncode != 0 or "sandbox-ok" not in proc.stdout:
        raise SandboxUnavailable(f"bwrap failed: {proc.stderr.strip()[-500:]}")


_checked: dict = {}


def require() -> None:
    """check(), once per process: grading never falls back to running unsandboxed."""
    if "ok" not in _checked:
        check()
        _checked["ok"] = True


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "check":
        check()
        print("sandbox ok")
    else:
        sys.exit("usage: sandbox.py check")
