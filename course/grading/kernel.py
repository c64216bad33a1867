"""The kernel that runs a submission while it is autograded: sandboxed, private, bounded.

:class:`TeachkitExecute` replaces ``nbgrader.preprocessors.Execute`` in the autograde
pipeline (``nbgrader_config.py``). Whatever starts the grading (``nbgrader autograde``,
``make autograde``, the formgrader's *Autograde* button, which calls
``NbGraderAPI.autograde`` inside the Jupyter server, or a hub's instructor server), the
kernel is the one this preprocessor provisions itself, per notebook:

* **sandboxed** (grading/sandbox.py), and never silently otherwise: if bubblewrap cannot
  start, grading stops with the reason, unless the instructor set ``TEACHKIT_SANDBOX=off``;
* **private**: a fresh folder per kernel, readable by the grader only, holds the connection
  file (the sandbox gets a copy through a file descriptor) and one sub-folder for the IPC
  sockets, the only host folder the sandbox may write to, and only until the kernel has
  answered: then it is locked (owned by root, read-only) and removed with the kernel. No
  folder is shared between kernels, nothing the sandbox wrote is later followed by a root
  process, and the kernel starts with ``python -I`` in a working folder that holds only the
  files the instructor released (no ``ipykernel_launcher.py`` of the student's);
* **bounded**: one time budget per notebook (``TeachkitExecute.budget``) on top of the 30 s per
  cell; messages larger than ``max_message`` bytes are refused by the sockets (zmq
  ``MAXMSGSIZE``) and a cell's (a notebook's) outputs are capped as they arrive; widget
  messages are ignored; the kernel is killed at the end rather than asked to stop.

The kernel's outputs are only *shown* (students see them in their feedback); the verdict of
every test cell comes from grading/sealed.py. So the kernel runs the visible part of each
test cell only (never a hidden test), and whatever goes wrong in it (a crash, a hang, an
interrupt it ignores) ends the kernel run, marks the remaining cells "not run", and grading
goes on.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer, default

HERE = Path(__file__).resolve().parent
from . import common  # noqa: E402
from . import sandbox  # noqa: E402

CONNECTION = "/run/teachkit/connection.json"
BOOT = ("import os, sys\n"
        "lib = os.environ.get('TEACHKIT_LIB')\n"
        "if lib and lib not in sys.path: sys.path.append(lib)\n"
        "from ipykernel.kernelapp import launch_new_instance\n"
        "launch_new_instance()\n")

_CONTEXTS: dict = {}


def _context(asynchronous: bool, max_message: int):
    """One zmq context per process and kind, whose sockets refuse oversized messages and
    queue few of them (a flood then waits in the sandbox, not in the grader)."""
    key = (asynchronous, max_message)
    if key not in _CONTEXTS:
        ctx = zmq.asyncio.Context() if asynchronous else zmq.Context()
        ctx.setsockopt(zmq.MAXMSGSIZE, int(max_message))
        ctx.setsockopt(zmq.RCVHWM, 64)
        _CONTEXTS[key] = ctx
    return _CONTEXTS[key]


class SandboxKernelManager(AsyncKernelManager):
    """A kernel in the sandbox, with its own private folder (see the module docstring)."""

    def __init__(self, *, private: Path, workdir: Path, files, max_message: int, **kwargs):
        super().__init__(**kwargs)
        self._private = Path(private)
        self._workdir = Path(workdir)
        self._files = list(files)
        self._max_message = max_message
        self._ipc = self._private / "ipc"
        self._ipc.mkdir(mode=0o700)
        self._sandboxed = sandbox.enabled()
        if self._sandboxed and os.geteuid() == 0:
            os.chown(self._ipc, sandbox.NOBODY, sandbox.NOBODY)
        self.transport = "ipc"
        self.ip = str(self._ipc / "k")
        self.connection_file = str(self._private / "connection.json")
        self.context = _context(True, max_message)

    @property
    def kernel_spec(self):
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(argv=["teachkit-sandboxed-python"], language="python",
                                           display_name="teachkit grading sandbox",
                                           interrupt_mode="message", metadata={"debugger": False})
        return self._kernel_spec

    def format_kernel_cmd(self, extra_arguments=None):
        return ["teachkit-sandboxed-python", *(extra_arguments or [])]

    def client(self, **kwargs):
        kwargs.setdefault("context", _context(True, self._max_message))
        return super().client(**kwargs)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        extra = list(kernel_cmd[1:])
        fd = sandbox.open_regular(Path(self.connection_file), 1 << 20)
        try:
            info = os.read(fd, 1 << 20)
        finally:
            os.close(fd)
        kw.pop("cwd", None)
        kw.update(stdout=subprocess_devnull(), stderr=subprocess_devnull())
        if self._sandboxed:
            sb = sandbox.Sandbox(self._workdir, teachkit="ro")
            try:
                sandbox.add_files(sb, self._files)
                sb.data(info, Path(CONNECTION))
                sb.bind(self._ipc, writable=True)
                cmd = sb.command([sys.executable, "-I", "-c", BOOT, "-f", CONNECTION, *extra])
                kw.update(pass_fds=tuple(sb.fds), preexec_fn=sandbox.limit_child, cwd="/",
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
                await super()._async_launch_kernel(cmd, **kw)
            finally:
                sb.close()
        else:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self._workdir),
                   "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
                   "TEACHKIT_LIB": str(sandbox.teachkit_package().parent)}
            cmd = [sys.executable, "-I", "-c", BOOT, "-f", self.connection_file, *extra]
            kw.update(preexec_fn=sandbox.unsandboxed_child, cwd=str(self._workdir), env=env)
            await super()._async_launch_kernel(cmd, **kw)

    def lock(self) -> None:
        """Once the kernel has answered: nothing more may be created in its sockets folder."""
        if not self._sandboxed:
            return
        fd = os.open(self._ipc, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            if os.geteuid() == 0:
                os.fchown(fd, 0, 0)
            os.fchmod(fd, 0o755 if os.geteuid() == 0 else 0o500)
        finally:
            os.close(fd)


def _remove(folder: Path) -> None:
    """Remove a kernel's private folder; without root the locked sockets folder is ours and
    read-only, and the kernel may have made sub-folders read-only too: give them back write
    permission first (never following a link)."""
    for dirpath, dirnames, _ in os.walk(folder, topdown=True, followlinks=False):
        for name in [".", *dirnames]:
            path = os.path.join(dirpath, name)
            try:
                if not os.path.islink(path):
                    os.chmod(path, 0o700)
            except OSError:
                pass
    shutil.rmtree(folder, ignore_errors=True)


def subprocess_devnull():
    import subprocess

    return subprocess.DEVNULL


def _size(obj, depth: int = 0) -> int:
    """Rough size in bytes of a message's content (strings dominate)."""
    if isinstance(obj, (str, bytes)):
        return len(obj)
    if depth > 20:
        return 64
    if isinstance(obj, dict):
        return sum(_size(k, depth + 1) + _size(v, depth + 1) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return sum(_size(v, depth + 1) for v in obj) + 8
    return 8


_warned: dict = {}


class TeachkitExecute(Execute):
    """nbgrader's Execute, with the kernel provisioned here (see the module docstring)."""

    budget = Integer(150, help="seconds for a whole notebook in the kernel").tag(config=True)
    max_message = Integer(4 * 1024**2, help="largest message accepted from the kernel (bytes)"
                          ).tag(config=True)
    max_cell_output = Integer(2 * 1024**2, help="bytes of output kept per cell").tag(config=True)
    max_notebook_output = Integer(8 * 1024**2, help="bytes of output kept per notebook"
                                  ).tag(config=True)

    @default("shutdown_kernel")
    def _shutdown_kernel_default(self):
        return "immediate"

    @default("raise_on_iopub_timeout")
    def _raise_on_iopub_timeout_default(self):
        return False  # display only: a lost 'idle' message must not end the run

    def preprocess(self, nb, resources, km=None):
        if common.ungradable(nb):
            return nb, resources
        if sandbox.enabled():
            sandbox.require()  # SandboxUnavailable stops the whole run, with the reason
        elif "off" not in _warned:
            _warned["off"] = True
            self.log.warning("\n" + "!" * 78 + "\n  WARNING: TEACHKIT_SANDBOX=off: student code runs "
                             "WITHOUT the sandbox.\n  It can read the gradebook, the course sources "
                             "and other submissions, and use\n  the network. Grade like this only on "
                             "a throw-away machine or container.\n" + "!" * 78)
        self._workdir = Path(resources.get("metadata", {}).get("path") or ".").resolve()
        self._files = common.assignment_files(self, resources)
        self._private = Path(tempfile.mkdtemp(prefix="teachkit-kernel-"))
        self._deadline = time.monotonic() + self.budget
        self._stopped = None
        self._ran: set[int] = set()
        self._cell_bytes: dict[int, int] = {}
        self._nb_bytes = 0
        self._capped: set[int] = set()
        try:
            try:
                return super().preprocess(nb, resources, km=km)
            except (KeyboardInterrupt, sandbox.SandboxUnavailable):
                raise
            except Exception as exc:
                self.log.warning("teachkit kernel: %s: %s", type(exc).__name__, str(exc)[:300])
                self._stopped = self._stopped or f"the kernel stopped ({type(exc).__name__})"
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type == "code" and index not in self._ran:
                        cell.outputs = [common.error_output("NotRun", self._stopped)]
                return nb, resources
        finally:
            _remove(self._private)

    def create_kernel_manager(self):
        self.km = SandboxKernelManager(private=self._private, workdir=self._workdir,
                                       files=self._files, max_message=self.max_message,
                                       kernel_name="python3", config=self.config)
        return self.km

    def start_new_kernel_client(self):
        kc = super().start_new_kernel_client()
        self.km.lock()
        return kc

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        left = max(1, int(self._deadline - time.monotonic()))
        return min(timeout, left) if timeout else left

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        self._ran.add(index)
        if self._stopped is None and time.monotonic() >= self._deadline:
            self._stopped = f"not run: this notebook used up its {self.budget} s"
        if self._stopped is not None:
            cell.outputs = [common.error_output("NotRun", self._stopped)]
            return cell, resources
        source = cell.source
        meta = common.nbg(cell)
        if meta.get("grade") and meta.get("locked") and common.BEGIN_HIDDEN in source:
            cell.source = common.strip_hidden(source)  # the kernel never sees a hidden test
        self._idle = False
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except (KeyboardInterrupt, sandbox.SandboxUnavailable):
            raise
        except Exception as exc:
            self._stopped = f"the kernel stopped responding ({type(exc).__name__})"
            cell.outputs.append(common.error_output("KernelError", self._stopped))
        finally:
            cell.source = source
        if not self._idle and self._stopped is None:
            self._reconnect_iopub()
        return cell, resources

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        """nbclient's, except that it reads the channel it started on and gives up once a later
        cell started: after a lost 'idle' it must not eat the next cell's messages."""
        from queue import Empty

        from nbclient.exceptions import CellExecutionComplete
        from nbclient.util import ensure_async

        self._polling = parent_msg_id
        channel = self.kc.iopub_channel
        while self._polling == parent_msg_id:
            try:
                msg = await ensure_async(channel.get_msg(timeout=1))
            except Empty:
                continue
            except Exception:  # noqa: BLE001  (the channel was replaced)
                return
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    return

    def process_message(self, msg, cell, cell_index):
        content = msg.get("content") or {}
        if msg.get("msg_type") == "status" and content.get("execution_state") == "idle":
            self._idle = True  # nbclient hands this cell's messages only
        return super().process_message(msg, cell, cell_index)

    def _reconnect_iopub(self) -> None:
        """The cell's 'idle' never came: its output socket refused an oversized message, and
        zmq does not reconnect after that; a new socket shows the next cells' outputs."""
        kc = getattr(self, "kc", None)
        if kc is None:
            return
        try:
            old = kc._iopub_channel
            kc._iopub_channel = None
            if old is not None:
                old.stop()
                old.close()
            kc.start_channels(shell=False, iopub=True, stdin=False, hb=False, control=False)
            time.sleep(0.3)  # let the new subscription reach the kernel
        except Exception as exc:  # noqa: BLE001  (display only)
            self.log.warning("teachkit kernel: could not reconnect its outputs: %s", exc)

    # ------------------------------------------------------------------ bounded outputs
    def output(self, outs, msg, display_id, cell_index):
        size = _size(msg.get("content"))
        used = self._cell_bytes.get(cell_index, 0)
        if used + size > self.max_cell_output or self._nb_bytes + size > self.max_notebook_output:
            if cell_index not in self._capped:
                self._capped.add(cell_index)
                outs.append(NotebookNode(output_type="stream", name="stderr", text=(
                    f"\n[teachkit: output cut here: a cell keeps {self.max_cell_output // 1024} kB, "
                    f"a notebook {self.max_notebook_output // 1024} kB]\n")))
            return None
        self._cell_bytes[cell_index] = used + size
        self._nb_bytes += size
        return super().output(outs, msg, display_id, cell_index)

    def handle_comm_msg(self, outs, msg, cell_index):
        return None  # widget state is not kept while grading

    def on_cell_executed(self, **kwargs):
        reply = kwargs.get("execute_reply") or {}
        content = reply.get("content") or {}
        if isinstance(content.get("evalue"), str):
            content["evalue"] = content["evalue"][:2000]
        if isinstance(content.get("traceback"), list):
            content["traceback"] = [str(t)[:2000] for t in content["traceback"][:50]]
        return super().on_cell_executed(**kwargs)
