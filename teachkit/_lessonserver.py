"""A lessons server a whole class can share: bounded kernels, a page that says when it is full.

Voila starts a kernel (about 150-175 MB) for every lesson page it renders, with no bound:
pages opened in a loop from one laptop would exhaust the machine for everybody.  This module
puts a :class:`LessonServer` between the learners and Voila's kernels, the same way in the
three deployments (``teachkit lessons``; Voila as a Jupyter server extension on Binder and on
a JupyterHub, through ``teachkit._wsguard``'s extension hook):

* **Bounded kernels.**  At most ``max_kernels`` lesson kernels in all (pre-heated ones
  included) and ``kernels_per_learner`` per learner.  A page over a bound gets a short,
  accessible "the class server is full, try again in a minute" page (HTTP 503, Retry-After)
  and no kernel.  A learner is a browser: a signed cookie (``teachkit-learner``), given by
  the course home or, on a first visit straight to a lesson, by one redirect; a client that
  keeps no cookie counts by its address.  Kernels Voila did not start (a notebook's, on
  Binder or a hub) are never counted, limited or culled here.
* **Culling.**  A lesson kernel whose page closed (no websocket) is shut down after
  ``cull_closed_after`` seconds; one whose page stays open unused, after ``cull_idle_after``
  seconds, and its page is told why in each explorer's message line.
* **Kernel limits.**  Lesson kernels start with an address-space limit (``RLIMIT_AS``,
  ``kernel_memory``) and one thread for numerical libraries (a 2-core server shares its
  cores between kernels; the explorers' arrays are small).
* **Offline messages.**  What a lesson kernel sends while its page is away is kept only up
  to ``offline_buffer_bytes`` (jupyter_server keeps everything, without bound).
* **Pre-heating** (``teachkit lessons``, where Voila keeps pools of kernels that already ran
  a lesson): pools sized for ``learners``, filled one kernel at a time in the background,
  the course home and lesson 00 first, never past ``max_kernels``; once the class has
  arrived, refills wait for a spare core; a page that needs a cold kernel when the server
  is at its bound takes the place of a pre-heated kernel of another lesson.
* **No template or theme from the address.**  ``?template=`` and ``?theme=`` are removed
  by a redirect: a page never renders in Voila's CDN-loading templates, and a made-up
  template name can no longer start a kernel with a request that never ends.

The websocket side (connections per kernel and per learner, message rate, frame size,
unsent output, widgets a page may create) is :mod:`teachkit._wsguard`'s, with settings from
here.  Settings are traitlets of :class:`LessonServer`: in ``voila.json`` (section
``"LessonServer"``), on the Jupyter server's configuration, or as ``teachkit lessons``
options.
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import inspect
import math
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from traitlets import Dict, Float, Int, Unicode
from traitlets.config import LoggingConfigurable

COOKIE = "teachkit-learner"
#: The course home, beside the lessons (the tree page opens it).
HOME = "index.ipynb"
#: Query argument of the one redirect that gives a cookie-less first visit its cookie.
COOKIE_CHECK = "learner"
#: What one lesson kernel is counted as when ``max_kernels`` is set from the memory.
KERNEL_ESTIMATE_BYTES = 200 * 2**20
#: Environment of lesson kernels (unless the server's environment already sets them).
KERNEL_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
}
#: Shown on a lesson page whose kernel was stopped for being left unused.
STOPPED_IDLE = ("This lesson stopped after {minutes} minutes without use, to make room for other "
                "learners. Reload the page to continue.")


#: Seconds Voila waits for a cell's late output (nbclient's 4 s lost lesson 06's monitor in a class).
IOPUB_TIMEOUT = 120


def executor_settings(config) -> int:
    """:data:`IOPUB_TIMEOUT` for Voila's executor unless configured; the bound in force."""
    executor = config.VoilaExecutor
    if "iopub_timeout" not in executor:
        executor.iopub_timeout = IOPUB_TIMEOUT
    return executor.iopub_timeout


def parse_bytes(text) -> int:
    """``"1.5G"``, ``"800M"``, ``"0"`` or a number of bytes -> bytes (0: no limit).

    >>> parse_bytes("2G"), parse_bytes("512M"), parse_bytes(1024), parse_bytes("")
    (2147483648, 536870912, 1024, 0)
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"kernel_memory must not be negative, got {text!r}")
        return int(text)
    if not isinstance(text, str):
        raise TypeError(f"kernel_memory must be a size such as '2G', got {text!r}")
    if not text.strip():
        return 0
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)I?B?\s*", text.upper())
    if match is None:
        raise ValueError(f"kernel_memory must be a size such as '2G' or '800M', got {text!r}")
    return int(float(match.group(1)) * 1024 ** " KMGT".index(match.group(2) or " "))


def machine_memory() -> int:
    """Bytes of memory this server may use: the machine's, or its cgroup's limit when lower
    (a Binder or Kubernetes pod sees the host's memory in /proc/meminfo)."""
    total = 0
    try:
        text = Path("/proc/meminfo").read_text()
        total = int(re.search(r"^MemTotal:\s+(\d+) kB", text, re.M).group(1)) * 1024
    except (OSError, AttributeError):
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 4 * 2**30
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value.isdigit() and 0 < int(value) < total:
            total = int(value)
    return total


def _limit_address_space(limit: int) -> None:  # pragma: no cover - runs in the kernel's child
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class _AddressSpaceLimit:
    """A picklable ``preexec_fn``: the kernel process starts under ``RLIMIT_AS = limit``."""

    def __init__(self, limit: int):
        self.limit = limit

    def __call__(self):  # pragma: no cover - runs in the kernel's child
        _limit_address_space(self.limit)

    def __repr__(self):
        return f"address space limit {self.limit / 2**20:.0f} MB"


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------

class LessonServer(LoggingConfigurable):
    """Bounds and pre-heating of a lessons server (see the module's docstring)."""

    max_kernels = Int(0, help=(
        "Lesson kernels at most on this server, pre-heated ones included. 0: from the memory "
        "the server may use (60% of it at 200 MB a kernel, between 2 and 100).")).tag(config=True)
    kernels_per_learner = Int(6, help=(
        "Lesson kernels at most per learner (a browser, or an address when it keeps no "
        "cookie). A lesson closed or left frees its kernel at once.")).tag(config=True)
    learners = Int(1, help=(
        "How many learners the server is sized for: until the class arrives, the pre-heated "
        "pools of the course home and the first lesson hold this many kernels each; every other "
        "lesson's (and, once the class is there, theirs) a quarter of it, at least one.")).tag(config=True)
    pools = Dict(help=(
        "Pre-heated kernels per lesson, by notebook name (e.g. {'06-the-2019-interim.ipynb': 8}); "
        "overrides what `learners` gives.")).tag(config=True)
    preheat_at_once = Int(1, help="Pre-heated kernels started at the same time.").tag(config=True)
    cull_closed_after = Int(120, help=(
        "Seconds after its page closed (no websocket) before a lesson kernel is shut down; "
        "0: never.")).tag(config=True)
    cull_idle_after = Int(900, help=(
        "Seconds a lesson page may stay open unused before its kernel is shut down (the page "
        "says so); 0: never.")).tag(config=True)
    cull_interval = Int(30, help="Seconds between two checks for kernels to cull.").tag(config=True)
    kernel_memory = Unicode("1G", help=(
        "Address-space limit (RLIMIT_AS) of each lesson kernel, e.g. '1G'; '0': none. A lesson "
        "kernel maps about 0.5-0.55 GB at rest (150-175 MB resident); moving every explorer of "
        "the lessons through its range adds under 0.1 GB.")).tag(config=True)
    offline_buffer_bytes = Int(4 * 2**20, help=(
        "Bytes of a lesson kernel's messages kept while its page is away (replayed when it "
        "comes back); beyond, they are dropped.")).tag(config=True)
    # ---- websockets (teachkit._wsguard) --------------------------------------------------
    websockets_per_kernel = Int(4, help="Websockets at most to one kernel.").tag(config=True)
    websockets_per_learner = Int(16, help="Websockets at most per learner (lesson kernels).").tag(config=True)
    websockets = Int(400, help="Kernel websockets at most on the server.").tag(config=True)
    messages_per_second = Float(50.0, help=(
        "Messages a page may send its lesson kernel per second, on average over `message_burst`; "
        "beyond, they are dropped.")).tag(config=True)
    message_burst = Int(200, help="Messages a page may send at once before the rate applies.").tag(config=True)
    state_requests = Int(2000, help=(
        "Requests for a widget's state a page may send outside the rate, once per widget (how "
        "a page loads its widgets when its kernel is slow to answer).")).tag(config=True)
    max_message_bytes = Int(2**20, help="Largest message a page may send its lesson kernel.").tag(config=True)
    unsent_bytes = Int(16 * 2**20, help=(
        "Bytes of output waiting for a page that does not read them; beyond, its websocket "
        "is closed.")).tag(config=True)
    comm_targets = Dict({"jupyter.widget.control": 3}, help=(
        "Comms a page may open in a lesson kernel, by target name, and how many times per "
        "websocket: widgets are made by the lesson, never by the page.")).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kernels: dict[str, _Lesson] = {}
        self.reservations: set[_Reservation] = set()
        self.sockets: dict[str, set] = {}          # kernel id -> open connections
        self.learner_sockets: dict[str, set] = {}  # learner -> open connections
        self.memory_limit = parse_bytes(self.kernel_memory)
        self.kernel_limit = self.max_kernels if self.max_kernels > 0 else max(
            2, min(100, int(0.6 * machine_memory() / KERNEL_ESTIMATE_BYTES)))
        self.kernel_manager = None
        self._heating: set = set()
        self._filled_once = False
        self.arrived = False  # a pre-heated kernel was taken: the class is here
        self._wake: asyncio.Event | None = None
        self._tasks: list = []
        self._culler = None

    # ---- identity -------------------------------------------------------------------------
    def learner_of(self, handler) -> str:
        """The learner a request comes from: its cookie, or its address without one."""
        value = None
        try:
            value = handler.get_signed_cookie(COOKIE, max_age_days=7)
        except Exception:  # noqa: BLE001 - no cookie secret, malformed cookie: no cookie
            value = None
        if value:
            return "cookie:" + value.decode("ascii", "replace")
        return "address:" + (handler.request.remote_ip or "?")

    def has_cookie(self, handler) -> bool:
        return self.learner_of(handler).startswith("cookie:")

    def give_cookie(self, handler) -> None:
        handler.set_signed_cookie(COOKIE, secrets.token_urlsafe(16), expires_days=7,
                                  httponly=True, samesite="Lax",
                                  path=handler.settings.get("base_url") or "/")

    # ---- the kernels ----------------------------------------------------------------------
    def owned(self, learner: str) -> int:
        return (sum(1 for k in self.kernels.values() if k.owner == learner)
                + sum(1 for r in self.reservations if r.learner == learner and r.kernel is None))

    def total(self) -> int:
        return len(self.kernels) + sum(1 for r in self.reservations if r.kernel is None and not r.pooled)

    def register(self, kernel_id: str, owner, notebook: str | None, pooled: bool) -> None:
        self.kernels[kernel_id] = _Lesson(kernel_id, owner, notebook, pooled)
        self.wake()

    def forget(self, kernel_id: str) -> None:
        if self.kernels.pop(kernel_id, None) is not None:
            self.wake()

    def seen(self, kernel_id: str) -> None:
        lesson = self.kernels.get(kernel_id)
        if lesson is not None:
            lesson.seen = time.monotonic()

    async def admit(self, handler, notebook: str):
        """A :class:`_Reservation` for a lesson page, or a :class:`Refusal`."""
        learner = self.learner_of(handler)
        if self.owned(learner) >= self.kernels_per_learner:
            return Refusal("learner", self.kernels_per_learner)
        km = self.kernel_manager
        pooled = False
        try:
            pooled = bool(km.get_pool_size(notebook)) and bool(km.notebook_data.get(notebook))
        except AttributeError:  # no pre-heating (a server extension, --no-preheat)
            pooled = False
        if any(handler.get_argument(a, None) is not None for a in ("template", "theme")):
            pooled = False
        if not pooled and self.total() >= self.kernel_limit and not await self._evict_pooled(notebook):
            return Refusal("server", self.kernel_limit)
        reservation = _Reservation(learner, pooled)
        self.reservations.add(reservation)
        return reservation

    def release(self, reservation) -> None:
        self.reservations.discard(reservation)

    async def _evict_pooled(self, notebook: str) -> bool:
        """Shut down a pre-heated kernel of another lesson to make room; False if none."""
        km = self.kernel_manager
        pools = getattr(km, "_pools", None) or {}
        candidates = sorted(((len(pool), name) for name, pool in pools.items() if name != notebook),
                            reverse=True)
        for _, name in candidates:
            for task in list(pools[name]):
                if task.done() and not task.cancelled() and task.exception() is None:
                    kernel_id = task.result()["kernel_id"]
                    pools[name].remove(task)
                    self._log("info", "teachkit: shut down a pre-heated kernel of %s to make room", name)
                    try:
                        await _maybe_await(km.shutdown_kernel(kernel_id))
                    except Exception:  # noqa: BLE001 - already gone
                        self.forget(kernel_id)
                    return True
        return False

    # ---- background work: culling and pre-heating -----------------------------------------
    def start(self) -> None:
        """Start the culler and the pre-heating (on the server's running event loop)."""
        from tornado.ioloop import PeriodicCallback

        self._wake = asyncio.Event()
        if self._culler is None and (self.cull_closed_after > 0 or self.cull_idle_after > 0):
            self._culler = PeriodicCallback(self.cull, 1000 * max(1, self.cull_interval))
            self._culler.start()
        if getattr(self.kernel_manager, "_pools", None) is not None:
            for _ in range(max(1, self.preheat_at_once)):
                self._tasks.append(asyncio.ensure_future(self._preheat()))

    def stop(self) -> None:
        if self._culler is not None:
            self._culler.stop()
        for task in self._tasks:
            task.cancel()

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def cull(self) -> None:
        km = self.kernel_manager
        now = time.monotonic()
        for lesson in list(self.kernels.values()):
            if lesson.pooled or lesson.kernel_id not in km:
                continue
            kernel = km.get_kernel(lesson.kernel_id)
            connected = bool(self.sockets.get(lesson.kernel_id))
            last = max(lesson.seen, lesson.started, _monotonic(getattr(kernel, "last_activity", None)))
            if not connected:
                last = max(last, lesson.closed)
                if self.cull_closed_after > 0 and now - last > self.cull_closed_after:
                    await self._stop(lesson, f"its page closed {now - last:.0f} s ago")
            elif self.cull_idle_after > 0 and now - last > self.cull_idle_after:
                await self._tell(lesson, STOPPED_IDLE.format(minutes=round(self.cull_idle_after / 60)))
                await self._stop(lesson, f"its page was left unused for {now - last:.0f} s")

    async def _stop(self, lesson, why: str) -> None:
        self._log("info", "teachkit: culling lesson kernel %s: %s", lesson.kernel_id, why)
        try:
            await _maybe_await(self.kernel_manager.shutdown_kernel(lesson.kernel_id))
        except Exception as exc:  # noqa: BLE001 - gone meanwhile
            self._log("warning", "teachkit: culling %s: %s", lesson.kernel_id, exc)
            self.forget(lesson.kernel_id)

    async def _tell(self, lesson, text: str) -> None:
        """Show ``text`` in the message line of every explorer on the lesson's page."""
        code = ("import sys as _s\n_m = _s.modules.get('teachkit.explorers._base')\n"
                f"_m is not None and _m.tell_every_explorer({text!r})\ndel _s, _m\n")
        try:
            kc = self.kernel_manager.get_kernel(lesson.kernel_id).client()
            kc.start_channels()
            try:
                msg_id = kc.execute(code, silent=True, store_history=False)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    reply = await asyncio.wait_for(_maybe_await(kc.get_shell_msg(timeout=5)), 6)
                    if reply.get("parent_header", {}).get("msg_id") == msg_id:
                        break
                await asyncio.sleep(0.3)  # the widget updates reach the page before the kernel goes
            finally:
                kc.stop_channels()
        except Exception as exc:  # noqa: BLE001 - the kernel is stopped anyway
            self._log("warning", "teachkit: could not tell the page of %s: %s", lesson.kernel_id, exc)

    def pool_targets(self, arrived: bool = False) -> dict[str, int]:
        """Pre-heated kernels wanted per notebook (lesson order): the first lesson gets
        ``learners`` (the class arriving), the others a quarter of it (at least one); once the
        class has ``arrived`` (a pre-heated kernel was taken), the first lesson too;
        ``pools`` overrides."""
        km = self.kernel_manager
        root = Path(getattr(km, "root_dir", "") or ".")
        names = sorted(str(p.relative_to(root)) for p in root.rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts and _has_code(p))
        if getattr(km, "notebook_path", None):
            names = [km.notebook_path]
        # the course home (index.ipynb, opened from /) comes first: every learner opens it,
        # then lesson 00
        homes = [n for n in names if Path(n).name == HOME]
        names = homes + [n for n in names if n not in homes]
        arriving = len(homes) + 1
        others = max(1, math.ceil(self.learners / 4))
        first = others if arrived else max(1, self.learners)
        targets = {name: (first if i < arriving else others) for i, name in enumerate(names)}
        for name, size in self.pools.items():
            for key in targets:
                if key == name or Path(key).stem == Path(name).stem:
                    targets[key] = int(size)
        return targets

    async def _preheat(self) -> None:
        """Keep the pools filled, one kernel at a time per task, the first lesson first."""
        targets, arrival = self.pool_targets(), False
        self._log("info", "teachkit: pre-heating %s (at most %d lesson kernels)",
                  ", ".join(f"{n} x{k}" for n, k in targets.items() if k), self.kernel_limit)
        while True:
            if self.arrived and not arrival:
                arrival = True
                targets = self.pool_targets(arrived=True)
            name = self._next_to_heat(targets)
            if name is None:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 5)
                except asyncio.TimeoutError:
                    pass
                continue
            if self._kernel_manager_pools().get(name) and self.arrived:
                # a refill, not a lesson left without kernels: it waits (up to a minute) for
                # the machine to have a core to spare; learners come first
                for _ in range(30):
                    if _spare_core():
                        break
                    await asyncio.sleep(2)
                if self._next_to_heat(targets) != name:
                    continue
            try:
                await self._heat_one(name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - try again later
                self._log("warning", "teachkit: pre-heating %s failed: %s", name, exc)
                await asyncio.sleep(5)

    def _kernel_manager_pools(self) -> dict:
        return getattr(self.kernel_manager, "_pools", None) or {}

    def _next_to_heat(self, targets):
        """The lesson whose pool gets the next kernel: at first in lesson order, each to its
        size (lesson 00 complete before lesson 01 starts); afterwards, refills go first to
        pools left empty, then to pools short, in lesson order."""
        if self.total() >= self.kernel_limit:
            return None
        pools = self.kernel_manager._pools
        short = [n for n, k in targets.items() if len(pools.get(n, ())) < k]
        if not short:
            self._filled_once = True
            return None
        if self._filled_once:
            short = [n for n in short if not pools.get(n)] + [n for n in short if pools.get(n)]
        pending = {getattr(t, "_teachkit_notebook", None) for t in self._heating}
        for name in short:
            if name not in pending:
                return name
        return None

    async def _heat_one(self, name: str) -> None:
        km = self.kernel_manager
        pool = km._pools.setdefault(name, [])
        config = km.kernel_pools_config
        km.kernel_pools_config = {**config, name: {**config.get(name, config.get("default", {})),
                                                   "pool_size": len(pool) + 1}}
        try:
            super(LessonKernels, km).fill_if_needed(delay=0, notebook_name=name)
        finally:
            km.kernel_pools_config = config
        if not pool:
            return
        task = pool[-1]
        task._teachkit_notebook = name
        self._heating = self._heating | {task}
        try:
            content = await asyncio.shield(task)
            await asyncio.shield(content["task"])  # the notebook has run: the kernel is warm
        finally:
            self._heating = self._heating - {task}

    def _log(self, level, *args):
        getattr(self.log, level)(*args)


@dataclass(eq=False)
class _Lesson:
    kernel_id: str
    owner: str | None
    notebook: str | None
    pooled: bool
    started: float = field(default_factory=time.monotonic)
    seen: float = 0.0
    closed: float = 0.0


@dataclass(eq=False)
class _Reservation:
    learner: str
    pooled: bool
    kernel: str | None = None


@dataclass
class Refusal:
    """Why a page gets no kernel: ``"server"`` (the server's bound) or ``"learner"``."""

    who: str
    bound: int


#: The reservation of the lesson page being rendered (set around Voila's handler).
CURRENT: contextvars.ContextVar = contextvars.ContextVar("teachkit_lesson_page", default=None)


def _spare_core() -> bool:
    """Whether the machine has a core to spare (see teachkit.explorers._ahead._spare_core)."""
    cores = os.cpu_count() or 1
    try:
        fields = Path("/proc/loadavg").read_text().split()
        load, running = float(fields[0]), int(fields[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return True
    return load < cores or running <= cores


def _has_code(path: Path) -> bool:
    import json

    try:
        return any(c.get("cell_type") == "code" for c in json.loads(path.read_text())["cells"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _monotonic(when) -> float:
    """A kernel's ``last_activity`` (a UTC datetime) on the monotonic clock."""
    if when is None:
        return 0.0
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    try:
        return time.monotonic() - (now - when).total_seconds()
    except TypeError:
        return 0.0


async def _maybe_await(value):
    if inspect.isawaitable(value):
        return await value
    return value


# --------------------------------------------------------------------------------------
# The page a learner gets instead of a kernel
# --------------------------------------------------------------------------------------

FULL_TITLE = "The class server is full"


def full_page(refusal: Refusal, again_url: str, home_url: str) -> str:
    """An accessible page (headings, language, contrast, no script, reflows at 375 px)."""
    if refusal.who == "learner":
        heading = "You have too many lessons open"
        body = (f"Each learner can have {refusal.bound} lessons open at once on this server. Close a "
                "lesson tab you no longer need, then try again.")
    else:
        heading = FULL_TITLE
        body = ("All the places for lessons on this server are taken, so your lesson could not "
                "start. Places free up as other learners close their lessons: try again in a minute.")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(heading)} - teachkit</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
         color: #1a1a1a; background: #ffffff; line-height: 1.5; }}
  main {{ max-width: 36rem; margin: 3rem auto; padding: 0 1.25rem; }}
  h1 {{ font-size: 1.6rem; margin: 0 0 1rem; }}
  a.button {{ display: inline-block; margin: 1rem 1rem 0 0; padding: 0.6rem 1.1rem;
             border-radius: 0.3rem; background: #0b5394; color: #ffffff; text-decoration: none; }}
  a.button:focus {{ outline: 3px solid #e69f00; outline-offset: 2px; }}
  a.plain {{ color: #0b5394; }}
</style>
</head>
<body>
<main>
<h1>{html.escape(heading)}</h1>
<p>{html.escape(body)}</p>
<p><a class="button" href="{html.escape(again_url, quote=True)}">Try again</a>
<a class="plain" href="{html.escape(home_url, quote=True)}">Back to the course home</a></p>
</main>
</body>
</html>
"""


# --------------------------------------------------------------------------------------
# Voila's handlers: no template or theme from the address, the learner cookie, admission
# --------------------------------------------------------------------------------------

_ORIGINAL: dict = {}


def _server_of(handler):
    return handler.settings.get("teachkit_lessons")


def _without(handler, names) -> str:
    args = [(k, v.decode("utf-8", "replace")) for k, values in handler.request.query_arguments.items()
            if k not in names for v in values]
    return handler.request.path + (("?" + urlencode(args)) if args else "")


async def _prepare(self, *args, **kwargs):
    """BaseVoilaHandler.prepare: the original, then refuse URL overrides; give the cookie."""
    result = _ORIGINAL["prepare"](self, *args, **kwargs)
    if inspect.isawaitable(result):
        await result
    if self._finished or self.request.method not in ("GET", "HEAD"):
        return
    overrides = [a for a in ("template", "theme") if a in self.request.query_arguments]
    if overrides:
        # Voila would render in the named template (Voila's "lab" and "classic" load pages from
        # CDNs; an unknown name started a kernel and never ended the request)
        self.log.warning("teachkit: refused %s from the address %s", "/".join(overrides), self.request.path)
        self.redirect(_without(self, set(overrides)), status=303)
        return
    server = _server_of(self)
    if server is None or not self.current_user:
        return
    if not server.has_cookie(self):
        server.give_cookie(self)
    # Voila's page shuts its kernel down when it is left (a beacon to /voila/api/shutdown
    # carrying the _xsrf cookie); Voila never sets that cookie, so the beacon was refused
    # (403) and a left lesson kept its kernel until culled.  Reading the token sets it.
    self.xsrf_token  # noqa: B018


async def _render(self, path=None):
    """TornadoVoilaHandler.get: admission (bounds, the full page) around Voila's own."""
    server = _server_of(self)
    original = _ORIGINAL["get"]
    if server is None or not self.current_user:
        return await original(self, path)
    checked = COOKIE_CHECK in self.request.query_arguments
    if not server.has_cookie(self) and not checked:
        # a first visit straight to a lesson: the cookie (set by prepare) comes back with the
        # redirect; a client that keeps no cookie then counts by its address
        sep = "&" if self.request.query else "?"
        self.redirect(self.request.uri + f"{sep}{COOKIE_CHECK}=new", status=303)
        return
    if checked and server.has_cookie(self):
        # the cookie came back: the lesson's own address again (a page's links and the
        # learner's bookmarks never carry the check)
        self.redirect(_without(self, {COOKIE_CHECK}), status=303)
        return
    notebook = self.notebook_path or path
    decision = await server.admit(self, notebook)
    if isinstance(decision, Refusal):
        self.log.warning("teachkit: %s refused a kernel for %s (%s bound %d)", server.learner_of(self),
                         notebook, decision.who, decision.bound)
        base = self.settings.get("base_url") or "/"
        self.set_status(503)
        self.set_header("Retry-After", "60")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(full_page(decision, _without(self, {COOKIE_CHECK}), base))
        return
    token = CURRENT.set(decision)
    try:
        return await original(self, path)
    finally:
        CURRENT.reset(token)
        server.release(decision)
        lesson = server.kernels.get(decision.kernel) if decision.kernel else None
        if lesson is not None:  # a page that never opens its websocket is culled from now
            lesson.closed = time.monotonic()


def install_handlers() -> bool:
    """Patch Voila's page handlers (idempotent); False without Voila."""
    try:
        from voila.handler import BaseVoilaHandler
        from voila.tornado.handler import TornadoVoilaHandler
    except ImportError:
        return False
    if "prepare" not in _ORIGINAL:
        _ORIGINAL["prepare"] = BaseVoilaHandler.prepare
        BaseVoilaHandler.prepare = _prepare
    if "get" not in _ORIGINAL:
        _ORIGINAL["get"] = TornadoVoilaHandler.get
        TornadoVoilaHandler.get = _render
    return True


# --------------------------------------------------------------------------------------
# The kernel manager: lesson kernels registered, limited, their offline buffer bounded
# --------------------------------------------------------------------------------------

def is_lesson_env(env) -> bool:
    """Kernels Voila starts carry VOILA_* variables (a notebook's kernel does not)."""
    return bool(env) and any(str(key).startswith("VOILA_") for key in env)


class LessonKernels:
    """Mixed into the server's kernel manager class (Voila's own, or jupyter_server's)."""

    _teachkit_lessons: LessonServer

    def pre_start_kernel(self, kernel_name, kwargs):
        km, kernel_name, kernel_id = super().pre_start_kernel(kernel_name, kwargs)
        env = kwargs.get("env")
        lessons = getattr(self, "_teachkit_lessons", None)
        if lessons is not None and is_lesson_env(env):
            kwargs["env"] = {**{k: v for k, v in KERNEL_ENV.items() if k not in os.environ}, **env}
            if lessons.learners > 1:
                # a class shares the cores: the explorers draw on speculation only on a spare one
                kwargs["env"]["TEACHKIT_SHARED_CORES"] = "1"
            if lessons.memory_limit and "preexec_fn" not in kwargs and os.name == "posix":
                kwargs["preexec_fn"] = _AddressSpaceLimit(lessons.memory_limit)
            pooled = str(env.get("VOILA_PREHEAT")) == "True"
            reservation = CURRENT.get()
            owner = None
            if not pooled and reservation is not None and reservation.kernel is None:
                owner, reservation.kernel = reservation.learner, kernel_id
            lessons.register(kernel_id, owner, None, pooled)
        return km, kernel_name, kernel_id

    async def get_rendered_notebook(self, notebook_name, *args, **kwargs):
        result = await super().get_rendered_notebook(notebook_name, *args, **kwargs)
        lessons = getattr(self, "_teachkit_lessons", None)
        reservation = CURRENT.get()
        kernel_id = result[2]
        lesson = lessons.kernels.get(kernel_id) if lessons is not None else None
        if lessons is not None:
            lessons.arrived = True
        if lesson is not None:
            lesson.pooled, lesson.notebook, lesson.started = False, notebook_name, time.monotonic()
            if reservation is not None:
                lesson.owner, reservation.kernel = reservation.learner, kernel_id
        return result

    def fill_if_needed(self, *args, **kwargs):
        lessons = getattr(self, "_teachkit_lessons", None)
        if lessons is None:
            return super().fill_if_needed(*args, **kwargs)
        lessons.wake()  # the pre-heating task refills, in lesson order, within the bounds
        return None

    def remove_kernel(self, kernel_id):
        lessons = getattr(self, "_teachkit_lessons", None)
        if lessons is not None:
            lessons.forget(kernel_id)
        return super().remove_kernel(kernel_id)

    def start_buffering(self, kernel_id, session_key, channels):
        super().start_buffering(kernel_id, session_key, channels)
        lessons = getattr(self, "_teachkit_lessons", None)
        if lessons is None or kernel_id not in lessons.kernels or kernel_id not in self._kernel_buffers:
            return
        buffer_info = self._kernel_buffers[kernel_id]
        if buffer_info.get("session_key") != session_key:
            return
        limit, size = lessons.offline_buffer_bytes, [0]

        def bounded(channel, msg_parts):
            size[0] += sum(len(p) for p in msg_parts)
            if size[0] > limit:
                self.log.warning("teachkit: dropped the offline messages of lesson kernel %s "
                                 "(over %d bytes while its page was away)", kernel_id, limit)
                if self._kernel_buffers.get(kernel_id) is buffer_info:
                    self.stop_buffering(kernel_id)
                return
            buffer_info["buffer"].append((channel, msg_parts))

        from functools import partial

        for channel, stream in channels.items():
            stream.on_recv(partial(bounded, channel))


def install_kernel_manager(km, lessons: LessonServer) -> None:
    """Make ``km`` (an instance) manage lesson kernels: its class gets :class:`LessonKernels`
    in front (the instance keeps its state; no trait is added)."""
    cls = type(km)
    if not issubclass(cls, LessonKernels):
        km.__class__ = type("Lesson" + cls.__name__, (LessonKernels, cls), {"__module__": __name__})
    km._teachkit_lessons = lessons
    lessons.kernel_manager = km
    _raise_socket_limits(km, lessons)


def _raise_socket_limits(km, lessons) -> None:
    """Room for the bounded websockets: each holds four ZMQ sockets (ZMQ allows 1,023 per
    context by default, which 250 websockets to one kernel used up) and their files."""
    want = 4 * lessons.websockets + 8 * lessons.kernel_limit + 256
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ImportError, ValueError, OSError):
        pass
    try:
        import zmq

        context = getattr(km, "context", None)
        if context is not None and context.get(zmq.MAX_SOCKETS) < want:
            context.set(zmq.MAX_SOCKETS, want)
    except Exception:  # noqa: BLE001 - set once sockets exist: ZMQ keeps its own limit
        pass


def server_settings(voila_json_dirs=None):
    """The ``LessonServer`` section of the ``voila.json`` files Voila's server extension reads
    (the Jupyter config path, then the working directory): Binder's and the hub's settings."""
    from traitlets.config import Config, JSONFileConfigLoader
    from traitlets.config.loader import ConfigFileNotFound

    from jupyter_core.paths import jupyter_config_path

    config = Config()
    for folder in voila_json_dirs or [*jupyter_config_path(), os.getcwd()]:
        try:
            loaded = JSONFileConfigLoader("voila.json", path=folder).load_config()
        except (ConfigFileNotFound, ValueError, OSError):
            continue
        if "LessonServer" in loaded:
            config.merge(Config({"LessonServer": loaded["LessonServer"]}))
    return config
