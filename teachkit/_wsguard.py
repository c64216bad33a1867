"""A guard on the kernel websockets of a lessons server (Voila, alone or as a server extension).

A lesson page talks to its kernel over ``/api/kernels/<id>/channels``.  Two frame
layouts exist: v1 (subprotocol ``v1.kernel.websocket.jupyter.org``: an 8-byte
little-endian count ``n``, then ``n`` 8-byte offsets) and the legacy v0 (binary
frames start with a 4-byte big-endian count of parts, then 4-byte offsets).
Upstream readers trust the count they read, so one crafted frame hangs the server:

* ``voila.tornado.kernel_websocket_handler.read_header_from_binary_message``
  (Voila <= 0.5.13, standalone Voila only) reads every *outgoing* binary frame
  as v1.  For a client that did not ask for v1, outgoing binary frames are v0
  (any widget update carrying a buffer, such as a redrawn PNG); their first
  8 bytes, read as little-endian, give a count near 10**17, and the list of
  offsets is built on the server's only thread until memory runs out.
* ``jupyter_server``'s ``deserialize_msg_from_ws_v1`` does the same with an
  *incoming* frame of a v1 client, and ``deserialize_binary_message`` builds a
  format string of up to 2**31 characters from a v0 client's count.

The guard checks that the count fits in the frame before the upstream reader
runs (offsets needed = count, so ``8 * (count + 1) <= len(frame)`` for v1 and
``4 * (count + 1) <= len(frame)`` for v0); a frame that fails is dropped (incoming)
or left unread (outgoing), as upstream does with frames it cannot parse.

It also keeps server paths and tracebacks from the learner's websocket: for kernels
started by Voila, iopub ``error`` messages lose their traceback (as jupyter_server's
own ``allow_tracebacks=False`` does) and ``stream`` messages to ``stderr`` (the
kernel's log of a failed ``comm_open`` or widget update, warnings) are replaced by
one plain sentence; the original text goes to the server's log.

Installed two ways: ``teachkit lessons`` runs ``python -m teachkit._wsguard`` (Voila
with the guard), and as a Jupyter server extension enabled by
``etc/jupyter/jupyter_server_config.d/teachkit.json`` (Binder, JupyterHub).

>>> v1_count_fits(b"\\x03" + bytes(7) + bytes(24))
True
>>> v1_count_fits(bytes([0, 0, 0, 2, 0, 0, 0, 12]) + b"{}")  # a v0 frame read as v1
False
>>> v0_count_fits(bytes([0, 0, 0, 1, 0, 0, 0, 8]))
True
"""

from __future__ import annotations

import json
import sys
import time
import weakref

V1 = "v1.kernel.websocket.jupyter.org"
#: What a learner's page receives instead of kernel stderr or a traceback.
HIDDEN = "The lesson hit an error; the details are in the server's log."


def v1_count_fits(frame) -> bool:
    """True when the v1 offset count of ``frame`` fits in it: ``8 * (n + 1) <= len``."""
    if not isinstance(frame, (bytes, bytearray, memoryview)) or len(frame) < 8:
        return False
    count = int.from_bytes(frame[:8], "little")
    return 2 <= count and 8 * (count + 1) <= len(frame)


def v0_count_fits(frame) -> bool:
    """True when the v0 part count of ``frame`` fits in it: ``4 * (n + 1) <= len``."""
    if not isinstance(frame, (bytes, bytearray, memoryview)) or len(frame) < 4:
        return False
    count = int.from_bytes(frame[:4], "big", signed=True)
    return 1 <= count and 4 * (count + 1) <= len(frame)


_voila_reader = None


def read_header_from_binary_message(ws_msg):
    """Voila's outgoing-header reader, run only on frames whose v1 count fits."""
    if not v1_count_fits(ws_msg):
        return None  # not a v1 frame (upstream returns None for unreadable frames too)
    return _voila_reader(ws_msg)


def install_voila_reader() -> bool:
    """Replace Voila's header reader with the bounded one (idempotent); False without Voila."""
    global _voila_reader
    try:
        from voila.tornado import kernel_websocket_handler as module
    except ImportError:
        return False
    if module.read_header_from_binary_message is not read_header_from_binary_message:
        _voila_reader = module.read_header_from_binary_message
        module.read_header_from_binary_message = read_header_from_binary_message
    return True


def _started_by_voila(kernel_manager) -> bool:
    env = (getattr(kernel_manager, "_launch_args", None) or {}).get("env") or {}
    return any(key.startswith("VOILA_") for key in env)


#: Message types a lesson page may send its kernel (Voila's own list, applied on Binder and a
#: hub too, where Voila runs as a server extension and the server allows every type).
PAGE_MESSAGES = frozenset({"comm_open", "comm_close", "comm_msg", "comm_info_request",
                           "kernel_info_request", "shutdown_request"})


#: A ``comm_msg`` content this small may be a request for a widget's state (read to find out).
SMALL_CONTENT = 512
#: Frames this small are read before the rate is applied (reading them costs little).
SMALL_FRAME = 2048


def frame_header(frame, v1: bool):
    """(msg_type, content or None) of an incoming frame, None when it cannot be read; the
    content is read for ``comm_open`` (its target decides) and for a small ``comm_msg`` (a
    request for a widget's state is one)."""
    try:
        if isinstance(frame, str):
            msg = json.loads(frame)
            return msg["header"]["msg_type"], msg.get("content")
        if v1:
            count = int.from_bytes(frame[:8], "little")
            offsets = [int.from_bytes(frame[8 * (i + 1): 8 * (i + 2)], "little") for i in range(count)]
            offsets.append(len(frame))
            kind = json.loads(bytes(frame[offsets[1]:offsets[2]]))["msg_type"]
            content = None
            if kind == "comm_open" or (kind == "comm_msg" and offsets[5] - offsets[4] <= SMALL_CONTENT):
                content = json.loads(bytes(frame[offsets[4]:offsets[5]]))
            return kind, content
        count = int.from_bytes(frame[:4], "big")
        offsets = [int.from_bytes(frame[4 * (i + 1): 4 * (i + 2)], "big") for i in range(count)]
        offsets.append(len(frame))
        msg = json.loads(bytes(frame[offsets[0]:offsets[1]]))
        return msg["header"]["msg_type"], msg.get("content")
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError):
        return None


def state_request(kind, content):
    """The comm id a ``comm_msg`` asks the state of (``request_state``), else None.

    A page loads a lesson's widgets with one request on the ``jupyter.widget.control`` comm;
    when the kernel does not answer it within 4 s (a class on two cores), the page falls back
    to one ``request_state`` per widget, all at once: 190 for lesson 06, almost the whole
    burst of the rate, so that pages under load lost widgets (their main control among them)."""
    if kind != "comm_msg" or not isinstance(content, dict):
        return None
    data, comm_id = content.get("data"), content.get("comm_id")
    if isinstance(data, dict) and data.get("method") == "request_state" and isinstance(comm_id, str):
        return comm_id
    return None


class _Bucket:
    """A token bucket: ``rate`` messages a second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, max(1, burst)
        self.tokens, self.when = float(self.burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.when) * self.rate)
        self.when = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _lessons_of(connection):
    handler = getattr(connection, "websocket_handler", None)
    return handler.settings.get("teachkit_lessons") if handler is not None else None


#: Every open (or opening) kernel websocket of this server, for the server-wide bound.
_SOCKETS: "weakref.WeakSet" = weakref.WeakSet()


def guarded(base):
    """A subclass of the websocket connection class ``base`` with the guard."""

    class GuardedConnection(base):
        _lesson = None  # the LessonServer, for a lesson kernel's connection
        _learner = None
        _bucket = None
        _dropped = None  # reason -> messages dropped
        _comms = None
        _synced = None  # widgets whose state this page asked for (outside the rate)
        _infos = 0

        async def prepare(self):
            lessons = _lessons_of(self)
            if lessons is not None:
                self._admit(lessons)
            try:
                await super().prepare()
            except BaseException:
                self._leave()
                raise

        def _admit(self, lessons):
            """Refuse (HTTP 503, before the websocket opens) a connection over a bound."""
            kernel_id = self.kernel_id
            lesson = kernel_id in lessons.kernels
            if len(_SOCKETS) >= lessons.websockets:
                self._refuse("the server's %d kernel websockets are in use", lessons.websockets)
            if lesson:
                learner = lessons.learner_of(self.websocket_handler)
                if len(lessons.sockets.get(kernel_id, ())) >= lessons.websockets_per_kernel:
                    self._refuse("kernel %s has %d websockets", kernel_id, lessons.websockets_per_kernel)
                if len(lessons.learner_sockets.get(learner, ())) >= lessons.websockets_per_learner:
                    self._refuse("%s has %d websockets", learner, lessons.websockets_per_learner)
                self._lesson, self._learner = lessons, learner
                self._bucket = _Bucket(lessons.messages_per_second, lessons.message_burst)
                self._comms, self._dropped, self._synced, self._infos = {}, {}, set(), 0
                lessons.sockets.setdefault(kernel_id, weakref.WeakSet()).add(self)
                lessons.learner_sockets.setdefault(learner, weakref.WeakSet()).add(self)
                lessons.seen(kernel_id)
            _SOCKETS.add(self)

        def _refuse(self, why, *args):
            from tornado import web

            self.log.warning("teachkit: refused a kernel websocket: " + why, *args)
            raise web.HTTPError(503, "too many websockets")

        def _leave(self):
            _SOCKETS.discard(self)
            lessons = self._lesson
            if lessons is None:
                return
            sockets = lessons.sockets.get(self.kernel_id)
            if sockets is not None:
                sockets.discard(self)
                if not sockets:
                    lessons.sockets.pop(self.kernel_id, None)
                    lesson = lessons.kernels.get(self.kernel_id)
                    if lesson is not None:
                        lesson.closed = time.monotonic()
            mine = lessons.learner_sockets.get(self._learner)
            if mine is not None:
                mine.discard(self)
                if not mine:
                    lessons.learner_sockets.pop(self._learner, None)

        def disconnect(self):
            self._leave()
            return super().disconnect()

        def handle_incoming_message(self, incoming_msg) -> None:
            binary = isinstance(incoming_msg, (bytes, bytearray))
            if binary:
                fits = v1_count_fits if self.subprotocol == V1 else v0_count_fits
                if not fits(incoming_msg):
                    self.log.warning("teachkit: dropped a malformed %d-byte kernel websocket frame",
                                     len(incoming_msg))
                    return
            if self._lesson is not None and not self._lesson_message(incoming_msg):
                return
            super().handle_incoming_message(incoming_msg)

        def _lesson_message(self, frame) -> bool:
            """Whether a lesson page's message goes on to its kernel: within the size and the
            rate, of a type a page sends, and no widget made by the page."""
            lessons = self._lesson
            if len(frame) > lessons.max_message_bytes:
                return self._drop("a %d-byte message (more than %d)", len(frame), lessons.max_message_bytes)
            # a small frame is read before the rate (a page loading its widgets passes outside
            # it); a larger one is read only within the rate
            small = len(frame) <= SMALL_FRAME
            if not small and not self._bucket.take():
                return self._drop("a message over %g a second", lessons.messages_per_second)
            header = frame_header(frame, self.subprotocol == V1)
            if header is None:
                return self._drop("a message it could not read")
            kind, content = header
            if small and not self._synced_once(lessons, kind, content) and not self._bucket.take():
                return self._drop("a message over %g a second", lessons.messages_per_second)
            if kind not in PAGE_MESSAGES:
                return self._drop("a %r message", kind)
            if kind == "comm_open":
                target = (content or {}).get("target_name")
                allowed = lessons.comm_targets.get(target, 0) if isinstance(target, str) else 0
                if self._comms.get(target, 0) >= allowed:
                    return self._drop("a comm_open to %r (widgets are made by the lesson)", target)
                self._comms[target] = self._comms.get(target, 0) + 1
            lessons.seen(self.kernel_id)
            return True

        def _synced_once(self, lessons, kind, content) -> bool:
            """Whether a message is the page loading its widgets, which passes outside the rate:
            the first state request for each widget (up to ``state_requests`` a websocket) and
            the first few ``comm_info_request``. A request repeated, or past the bound, is rated."""
            comm_id = state_request(kind, content)
            if comm_id is not None:
                if comm_id in self._synced or len(self._synced) >= lessons.state_requests:
                    return False
                self._synced.add(comm_id)
                return True
            if kind == "comm_info_request" and self._infos < 4:
                self._infos += 1
                return True
            return False

        def _drop(self, what, *args) -> bool:
            """Drop a page's message; the first few of each kind, then every 1000th, logged."""
            n = self._dropped[what] = self._dropped.get(what, 0) + 1
            if n <= 3 or n % 1000 == 0:
                self.log.warning("teachkit: dropped " + what + " from a lesson page (kernel %s, %d such)",
                                 *args, self.kernel_id, n)
            return False

        def handle_outgoing_message(self, stream, outgoing_msg) -> None:
            if self._lesson is not None and self._unsent() > self._lesson.unsent_bytes:
                self.log.warning("teachkit: closed a lesson page's websocket to kernel %s: %d bytes "
                                 "of output unread", self.kernel_id, self._unsent())
                self.websocket_handler.close()
                self.disconnect()
                return
            super().handle_outgoing_message(stream, outgoing_msg)

        def _unsent(self) -> int:
            try:
                return len(self.websocket_handler.ws_connection.stream._write_buffer)
            except (AttributeError, TypeError):
                return 0

        def _on_error(self, channel, msg, msg_list):
            super()._on_error(channel, msg, msg_list)
            if channel != "iopub" or not _started_by_voila(self.kernel_manager):
                return
            msg["header"] = self.get_part("header", msg["header"], msg_list)
            kind = msg["header"]["msg_type"]
            if kind not in ("error", "stream"):
                return
            msg["content"] = content = self.get_part("content", msg["content"], msg_list)
            if kind == "error":
                self.log.warning("teachkit: hid a traceback from the page: %s: %s",
                                 content.get("ename"), content.get("evalue"))
                content.update(ename="Error", evalue=HIDDEN, traceback=[HIDDEN])
            elif content.get("name") == "stderr":
                self.log.warning("teachkit: hid kernel stderr from the page:\n%s", content.get("text"))
                content["text"] = HIDDEN + "\n"
            else:
                return
            if self.subprotocol == V1:
                msg_list[3] = self.session.pack(content)

    GuardedConnection.__name__ = GuardedConnection.__qualname__ = "Guarded" + base.__name__
    GuardedConnection.__module__ = __name__
    return GuardedConnection


def _zmq_connection():
    from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

    return ZMQChannelsWebsocketConnection


def __getattr__(name: str):
    # ``GuardedConnection``, the guarded default connection (for
    # ``--Voila.kernel_websocket_connection_class``), is made on first use, so this module
    # imports where jupyter_server is not installed (the library alone, ``pip install teachkit``).
    if name == "GuardedConnection":
        connection = guarded(_zmq_connection())
        globals()[name] = connection
        return connection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _jupyter_server_extension_points():
    return [{"module": "teachkit._wsguard"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Server-extension hook (Binder, a hub): guard Voila's reader and the server's kernel
    websockets, and bound Voila's lesson kernels (teachkit._lessonserver), with the
    ``LessonServer`` settings of voila.json and of the server's own configuration."""
    from teachkit import _lessonserver

    install_voila_reader()
    settings = serverapp.web_app.settings
    base = settings.get("kernel_websocket_connection_class") or _zmq_connection()
    if issubclass(base, _zmq_connection()) and not base.__name__.startswith("Guarded"):
        settings["kernel_websocket_connection_class"] = guarded(base)
    serverapp.log.info("teachkit: kernel websocket guard on (%s)",
                       settings["kernel_websocket_connection_class"].__name__)
    if _lessonserver.install_handlers() and "teachkit_lessons" not in settings:
        config = _lessonserver.server_settings()
        config.merge(serverapp.config)
        lessons = _lessonserver.LessonServer(config=config, log=serverapp.log)
        _lessonserver.install_kernel_manager(serverapp.kernel_manager, lessons)
        settings["teachkit_lessons"] = lessons
        from tornado.ioloop import IOLoop

        IOLoop.current().add_callback(lessons.start)
        serverapp.log.info("teachkit: lesson kernels bounded (%d in all, %d per learner)",
                           lessons.kernel_limit, lessons.kernels_per_learner)
        serverapp.log.info("teachkit: Voila waits up to %s s for a cell's output",
                           _lessonserver.executor_settings(serverapp.config))


def lessons_voila():
    """Voila's application with teachkit's lessons server (:mod:`teachkit._lessonserver`)."""
    from tornado.ioloop import IOLoop
    from voila.app import Voila

    from teachkit import _lessonserver

    class LessonsVoila(Voila):
        def init_settings(self):
            settings = super().init_settings()
            lessons = _lessonserver.LessonServer(parent=self)
            _lessonserver.install_kernel_manager(self.kernel_manager, lessons)
            settings["teachkit_lessons"] = lessons
            IOLoop.current().add_callback(lessons.start)
            self.log.info("teachkit: lesson kernels bounded (%d in all, %d per learner)",
                          lessons.kernel_limit, lessons.kernels_per_learner)
            self.log.info("teachkit: Voila waits up to %s s for a cell's output",
                          _lessonserver.executor_settings(self.config))
            return settings

    return LessonsVoila


def main(argv: list[str] | None = None) -> None:
    """``python -m teachkit._wsguard [voila arguments]``: Voila with the guard on."""
    from teachkit import _lessonserver

    install_voila_reader()
    _lessonserver.install_handlers()
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["voila", "--Voila.kernel_websocket_connection_class=teachkit._wsguard.GuardedConnection", *args]
    lessons_voila().launch_instance(sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover - `python -m`: use the importable module's objects
    from teachkit._wsguard import main as _main

    _main()
