"""Run student code inside a bubblewrap sandbox (used while autograding only).

What the sandboxed process sees
-------------------------------
* read-only: ``/usr`` (and the ``/lib``, ``/bin`` links), a few files of ``/etc``
  (dynamic linker, users, time zone, fonts), the Python installation and the
  virtual environment that runs nbgrader, and the ``teachkit`` package folder
  (never the repository around it, so never ``course/``);
* read-write: a *copy* of the submission folder without its notebooks (mounted at
  the folder's own path, so ``os.getcwd()`` is unchanged), a private ``/tmp``,
  and, for a kernel, the folder of its IPC sockets;
* nothing else: no gradebook, no course sources, no other submission, no home.
* no network (``--unshare-net``: only its own loopback, with nothing listening),
  its own process tree (``--unshare-pid``; killed with its parent);
* as root, the code runs as ``nobody`` without capabilities, so that the process
  limit holds (root is exempt from ``RLIMIT_NPROC``);
* limits (``setrlimit``): address space (a 20 GB allocation is a MemoryError),
  processes, CPU seconds, size of a written file.

``python sandbox.py kernel -f CONNECTION_FILE [kernel args]`` is the command of
the ``teachkit-sandbox`` kernelspec: it starts ``ipykernel`` inside the sandbox.
The kernel must use ``transport="ipc"`` (a private network namespace has its
own loopback): the sockets live in the folder of the connection file, which is
bind-mounted at the same path.

Set ``TEACHKIT_SANDBOX=off`` to run without the sandbox (machines without
bubblewrap or user namespaces); the course configuration then warns loudly.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
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
}
ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/passwd",
             "/etc/group", "/etc/nsswitch.conf", "/etc/localtime", "/etc/fonts",
             "/etc/alternatives", "/etc/matplotlibrc"]


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


def _ancestors(path: Path) -> list[Path]:
    parts = path.parts
    return [Path(*parts[:i]) for i in range(2, len(parts))]


def _mount(args: list[str], made: set, kind: str, src: Path, dest: Path | None = None) -> None:
    """Bind src at dest (same path by default), creating world-traversable parents."""
    dest = Path(dest or src)
    for parent in _ancestors(dest):
        if parent not in made and str(parent) not in ("/usr", "/tmp", "/proc", "/dev"):
            args += ["--perms", "0755", "--dir", str(parent)]
            made.add(parent)
    args += [kind, str(src), str(dest)]
    made.add(dest)


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


def command(workdir: Path, argv: list[str], *, rw: list[Path] = (), ro: list[tuple] = (),
            env: dict | None = None,
            as_nobody: bool | None = None) -> list[str]:
    """The bwrap command line that runs ``argv`` in the sandbox with ``workdir`` as cwd.

    ``workdir`` is mounted read-write as it is: pass a copy (see :func:`private_copy`).
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    if as_nobody is None:
        as_nobody = os.geteuid() == 0
    args = [bwrap, "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/tmp"]
    for link in ("lib", "lib64", "lib32", "bin", "sbin"):
        p = Path("/") / link
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    made: set = set()
    for f in ETC_FILES:
        if os.path.exists(f):
            _mount(args, made, "--ro-bind", Path(f))
    for root in python_roots():
        _mount(args, made, "--ro-bind", root)
    pkg = teachkit_package()
    _mount(args, made, "--ro-bind", pkg, Path("/opt/teachkit-lib/teachkit"))
    for src, dest in ro:
        _mount(args, made, "--ro-bind", Path(src), Path(dest))
    for path in rw:
        _mount(args, made, "--bind", Path(path))
    _mount(args, made, "--bind", Path(workdir))
    base_env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp",
                "PYTHONPATH": "/opt/teachkit-lib", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl",
                "IPYTHONDIR": "/tmp/ipython", "JUPYTER_RUNTIME_DIR": "/tmp/runtime",
                "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "TEACHKIT_IN_SANDBOX": "1"}
    base_env.update(env or {})
    args += ["--clearenv"]
    for key, value in base_env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", str(workdir)]
    if as_nobody:
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                 setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--"]
    else:
        args += ["--"]
    return args + list(argv)


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
    """preexec_fn of a sandbox: die with the launcher, then apply the limits."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    except (OSError, AttributeError):
        pass
    apply_limits()


def private_copy(folder: Path, owner: int | None = None) -> Path:
    """A temporary copy of ``folder`` without its notebooks (which hold the hidden tests
    during autograding) and without symbolic links, owned by the sandbox user."""
    # under TEACHKIT_WORK_ROOT when the course configuration set it (removed when nbgrader
    # exits, so a killed kernel leaves nothing behind); never inside a mounted folder
    dest = Path(tempfile.mkdtemp(prefix="teachkit-work-", dir=os.environ.get("TEACHKIT_WORK_ROOT")))
    for src in Path(folder).rglob("*"):
        rel = src.relative_to(folder)
        if src.is_symlink() or src.suffix == ".ipynb" or ".ipynb_checkpoints" in rel.parts:
            continue
        if src.is_dir():
            (dest / rel).mkdir(parents=True, exist_ok=True)
        elif src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest / rel)
    owner = NOBODY if owner is None and os.geteuid() == 0 else owner
    if owner is not None:
        for p in [dest, *dest.rglob("*")]:
            os.chown(p, owner, owner)
    os.chmod(dest, 0o700)
    return dest


def check() -> None:
    """Raise SandboxUnavailable unless a sandboxed Python starts here."""
    with tempfile.TemporaryDirectory() as tmp:
        if os.geteuid() == 0:
            os.chown(tmp, NOBODY, NOBODY)
        try:
            proc = subprocess.run(command(Path(tmp), [sys.executable, "-c", "print('sandbox-ok')"]),
                                  capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(str(exc)) from None
        if proc.returncode != 0 or "sandbox-ok" not in proc.stdout:
            raise SandboxUnavailable(f"bwrap failed: {proc.stderr.strip()[-500:]}")


def _kernel(argv: list[str]) -> None:
    """Kernelspec entry: start ipykernel in the sandbox, in a private copy of the cwd."""
    if "-f" not in argv:
        sys.exit("usage: sandbox.py kernel -f CONNECTION_FILE [kernel arguments]")
    import json

    i = argv.index("-f") + 1
    given = Path(argv[i]).resolve()
    info = json.loads(given.read_text())
    if info.get("transport") != "ipc":
        sys.exit("the teachkit-sandbox kernel needs c.KernelManager.transport = 'ipc' "
                 "(the sandbox has no network); see course/nbgrader_config.py")
    sockets = Path(info["ip"]).resolve().parent
    if not sockets.name.startswith("teachkit-kernels-"):
        sys.exit(f"refusing to mount {sockets} in the sandbox: set c.KernelManager.ip to a "
                 "path inside a private 'teachkit-kernels-*' folder")
    # The kernel reads its connection file from the sockets folder (nothing else is mounted).
    conn = sockets / f"connection-{os.getpid()}.json"
    conn.write_text(json.dumps(info))
    if os.geteuid() == 0:
        os.chown(conn, NOBODY, NOBODY)  # the kernel runs as nobody and reads its key here
    os.chmod(conn, 0o600)
    argv = list(argv)
    argv[i] = str(conn)
    cwd = Path.cwd()
    work = private_copy(cwd)
    bw = command(cwd, [sys.executable, "-m", "ipykernel_launcher", *argv], rw=[sockets])
    # bind the private copy over the submission folder's path
    bw = _rebind_workdir(bw, cwd, work)
    import signal

    try:
        # bwrap in its own session: a signal to the launcher's group would kill bwrap (and the
        # kernel with it), so interrupts go as messages (kernelspec interrupt_mode "message").
        proc = subprocess.Popen(bw, preexec_fn=limit_child, stdout=subprocess.DEVNULL,
                                start_new_session=True)
        # The launcher ignores SIGINT and forwards SIGTERM (shutdown).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        sys.exit(proc.wait())
    finally:
        shutil.rmtree(work, ignore_errors=True)
        conn.unlink(missing_ok=True)


def _rebind_workdir(args: list[str], path: Path, copy: Path) -> list[str]:
    """Replace the read-write bind of ``path`` onto itself by a bind of ``copy`` at ``path``."""
    for i in range(len(args) - 2):
        if args[i] == "--bind" and args[i + 1] == str(path) and args[i + 2] == str(path):
            args = list(args)
            args[i + 1] = str(copy)
            return args
    raise ValueError(f"no bind of {path}")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "kernel":
        _kernel(sys.argv[2:])
    elif len(sys.argv) >= 2 and sys.argv[1] == "check":
        check()
        print("sandbox ok")
    else:
        sys.exit("usage: sandbox.py kernel -f CONNECTION_FILE | check")
