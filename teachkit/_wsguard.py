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

import sys

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


def guarded(base):
    """A subclass of the websocket connection class ``base`` with the guard."""

    class GuardedConnection(base):
        def handle_incoming_message(self, incoming_msg) -> None:
            if isinstance(incoming_msg, (bytes, bytearray)):
                fits = v1_count_fits if self.subprotocol == V1 else v0_count_fits
                if not fits(incoming_msg):
                    self.log.warning("teachkit: dropped a malformed %d-byte kernel websocket frame",
                                     len(incoming_msg))
                    return
            super().handle_incoming_message(incoming_msg)

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
    """Server-extension hook: guard Voila's reader and the server's kernel websockets."""
    install_voila_reader()
    settings = serverapp.web_app.settings
    base = settings.get("kernel_websocket_connection_class") or _zmq_connection()
    if issubclass(base, _zmq_connection()) and not base.__name__.startswith("Guarded"):
        settings["kernel_websocket_connection_class"] = guarded(base)
    serverapp.log.info("teachkit: kernel websocket guard on (%s)",
                       settings["kernel_websocket_connection_class"].__name__)


def main(argv: list[str] | None = None) -> None:
    """``python -m teachkit._wsguard [voila arguments]``: Voila with the guard on."""
    install_voila_reader()
    from voila.app import main as voila_main

    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["voila", "--Voila.kernel_websocket_connection_class=teachkit._wsguard.GuardedConnection", *args]
    voila_main()


if __name__ == "__main__":  # pragma: no cover - `python -m`: use the importable module's objects
    from teachkit._wsguard import main as _main

    _main()
