"""teachkit._wsguard: a lessons server that a crafted websocket frame cannot hang, and that
sends no traceback or server path to a learner's page.

The threats are played over real websockets (tornado's client, 127.0.0.1 only) against the
two ways teachkit serves lessons: ``teachkit lessons`` (standalone Voila, the exact command
of teachkit.cli) and Voila as a Jupyter server extension with the guard enabled by the
installed ``etc/jupyter/jupyter_server_config.d/teachkit.json`` (Binder, JupyterHub).
Servers run in their own session under a 2 GB address-space limit, killed as a group.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from teachkit import _wsguard

V1 = _wsguard.V1
PNG = b"\x89PNG"
AS_LIMIT = 2_000_000_000  # bytes of address space for a server under test


# ---------------------------------------------------------------------------
# Frames, as the two protocols write them
# ---------------------------------------------------------------------------
def _msg(msg_type, content):
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "learner",
                       "session": uuid.uuid4().hex, "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": content}


def v1_frame(msg, channel="shell", buffers=()):
    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

    parts = [json.dumps(msg[k]).encode() for k in ("header", "parent_header", "metadata", "content")]
    return serialize_msg_to_ws_v1([*parts, *buffers], channel)


def v0_frame(msg, channel="shell", buffers=()):
    from jupyter_server.services.kernels.connection.base import serialize_binary_message

    return serialize_binary_message({**msg, "channel": channel, "buffers": list(buffers)})


def read_frame(frame, v1):
    """(channel, header, content, buffers, parent header) of a frame the server sent."""
    if isinstance(frame, str):
        m = json.loads(frame)
        return m.get("channel"), m["header"], m["content"], [], m.get("parent_header") or {}
    if v1:
        n = int.from_bytes(frame[:8], "little")
        offsets = [int.from_bytes(frame[8 * (i + 1): 8 * (i + 2)], "little") for i in range(n)]
        parts = [frame[a:b] for a, b in zip(offsets, offsets[1:])]
        return (parts[0].decode(), json.loads(parts[1]), json.loads(parts[4]), parts[5:],
                json.loads(parts[2]) or {})
    n = struct.unpack("!i", frame[:4])[0]
    offsets = [*struct.unpack("!" + "I" * n, frame[4: 4 * (n + 1)]), None]
    parts = [frame[a:b] for a, b in zip(offsets, offsets[1:])]
    m = json.loads(parts[0])
    return m.get("channel"), m["header"], m["content"], parts[1:], m.get("parent_header") or {}


def slider_update(model_id, value):
    return _msg("comm_msg", {"comm_id": model_id, "data": {
        "method": "update", "state": {"value": value}, "buffer_paths": []}})


# ---------------------------------------------------------------------------
# The bounds themselves
# ---------------------------------------------------------------------------
def test_real_frames_fit_and_v0_frames_read_as_v1_do_not():
    msg = slider_update("abc", 3)
    assert _wsguard.v1_count_fits(v1_frame(msg))
    assert _wsguard.v1_count_fits(v1_frame(msg, buffers=[PNG * 100]))
    assert _wsguard.v0_count_fits(v0_frame(msg, buffers=[PNG]))
    # The frame of the bug: a v0 frame carrying a buffer, read with the v1 layout.
    bad = v0_frame(msg, buffers=[PNG])
    assert int.from_bytes(bad[:8], "little") > 10 ** 17
    assert not _wsguard.v1_count_fits(bad)
    for frame in (b"", b"\x01", bytes(8), (10 ** 12).to_bytes(8, "little") + bytes(64), "text"):
        assert not _wsguard.v1_count_fits(frame)
    for frame in (b"", bytes(4), b"\x7f\xff\xff\xff" + bytes(8), b"\xff\xff\xff\xff" + bytes(8)):
        assert not _wsguard.v0_count_fits(frame)


def test_bounded_voila_reader_reads_v1_headers_and_refuses_v0_frames():
    pytest.importorskip("voila")
    assert _wsguard.install_voila_reader()
    from voila.tornado import kernel_websocket_handler as upstream

    assert upstream.read_header_from_binary_message is _wsguard.read_header_from_binary_message
    msg = _msg("execute_input", {"code": "secret = 1"})
    # Voila drops execute_input by its header: that must still work on v1 frames.
    assert upstream.read_header_from_binary_message(v1_frame(msg, "iopub"))["msg_type"] == "execute_input"
    assert upstream.read_header_from_binary_message(v0_frame(msg, "iopub", [PNG])) is None


# ---------------------------------------------------------------------------
# The upstream readers still misbehave: when one of these FAILS, upstream has been
# fixed, and the matching part of teachkit._wsguard can be removed.
# ---------------------------------------------------------------------------
UPSTREAM_PROBE = textwrap.dedent("""
    import json, resource, sys
    from jupyter_server.services.kernels.connection.base import serialize_binary_message
    from {module} import {function} as upstream
    frame = serialize_binary_message({{"header": {{}}, "parent_header": {{}}, "metadata": {{}},
                                      "content": {{}}, "channel": "iopub", "buffers": [b"PNG"]}})
    used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (used + 300_000_000, used + 300_000_000))
    try:
        upstream(frame)
    except MemoryError:
        print("MemoryError")
    except Exception as exc:
        print("rejected", type(exc).__name__)
    else:
        print("returned")
""")


def _run_upstream(module, function):
    pytest.importorskip(module.split(".")[0])
    code = UPSTREAM_PROBE.format(module=module, function=function)
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "hung"
    return out.stdout.strip() or out.stderr[-500:]


def test_upstream_voila_read_header_still_unbounded__remove_guard_when_this_fails():
    """Voila's read_header_from_binary_message on a v0 frame with a buffer: a count of
    about 10**17 read from the v0 header, an offsets list grown until memory runs out."""
    assert _run_upstream("voila.tornado.kernel_websocket_handler",
                         "read_header_from_binary_message") in ("MemoryError", "hung")


def test_upstream_jupyter_server_v1_deserializer_still_unbounded__remove_guard_when_this_fails():
    """jupyter_server's deserialize_msg_from_ws_v1 (an incoming frame of a v1 client)."""
    assert _run_upstream("jupyter_server.services.kernels.connection.base",
                         "deserialize_msg_from_ws_v1") in ("MemoryError", "hung")


# ---------------------------------------------------------------------------
# Real servers
# ---------------------------------------------------------------------------
LESSON = textwrap.dedent("""
    import ipywidgets as w
    slider = w.IntSlider(value=1, min=0, max=10, description='n')
    picture = w.Image(value=b'\\x89PNG', format='png')
    def redraw(change):
        picture.value = b'\\x89PNG' + bytes([change['new']]) * 64
    slider.observe(redraw, 'value')
    display(slider)
    display(picture)
""")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


class Server:
    def __init__(self, kind, folder: Path):
        from teachkit.cli import voila_command

        self.kind, self.port = kind, _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if kind == "teachkit lessons":
            cmd = voila_command(folder, self.port, preheat=False)
            self.probe_path = "/"
        else:  # Voila as a server extension, the guard enabled by the installed data file only
            cmd = [sys.executable, "-m", "jupyter_server", f"--port={self.port}", "--ServerApp.ip=127.0.0.1",
                   "--no-browser", "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True",
                   f"--ServerApp.root_dir={folder}"]
            if os.geteuid() == 0:
                cmd.append("--allow-root")
            self.probe_path = "/api"
        self.log_path = folder / f"server-{self.port}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=folder, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_limit_memory)
        deadline = time.monotonic() + 120
        while self.http() is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{kind} did not start: {self.log()}")
            time.sleep(0.3)

    def http(self, timeout=10.0):
        """Seconds an HTTP GET took, or None when the server did not answer within ``timeout``."""
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(self.base + self.probe_path, timeout=timeout) as r:
                r.read()
        except OSError:
            return None
        return time.perf_counter() - start

    def rss(self):
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss

    def page(self):
        """Open the lesson page as a browser would: its kernel id and the widget model ids."""
        with urllib.request.urlopen(self.base + "/voila/render/lesson.ipynb", timeout=120) as r:
            html = r.read().decode()
        return re.search(r'"kernelId": *"([^"]+)"', html).group(1), re.findall(r'model_id": *"(\w+)"', html)

    def log(self):
        self._log.flush()
        return self.log_path.read_text()

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self._log.close()


@pytest.fixture(scope="module", params=["teachkit lessons", "voila server extension"])
def server(request, tmp_path_factory):
    import nbformat

    folder = tmp_path_factory.mktemp("lessons")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LESSON)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "lesson.ipynb")
    (folder / "voila.json").write_text(json.dumps({"VoilaConfiguration": {"show_tracebacks": False}}))
    s = Server(request.param, folder)
    yield s
    s.stop()


class Client:
    """A learner's websocket to a kernel: v1 (as JupyterLab's services) or legacy v0 (plain JSON)."""

    opened: list = []

    def __init__(self, ws, v1):
        self.ws, self.v1 = ws, v1
        Client.opened.append(ws)

    @classmethod
    async def close_all(cls):
        streams = []
        while cls.opened:
            ws = cls.opened.pop()
            if ws.protocol is not None:
                streams.append(ws.protocol.stream)
            ws.close()
        await asyncio.sleep(0.2)  # let the close frames go out, then close the sockets
        for stream in streams:
            stream.close()

    @classmethod
    async def connect(cls, server, kernel_id, v1):
        from tornado.websocket import websocket_connect

        url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
        return cls(await websocket_connect(url, subprotocols=[V1] if v1 else None), v1)

    async def send(self, msg):
        if self.v1:
            await self.ws.write_message(v1_frame(msg), binary=True)
        else:
            await self.ws.write_message(json.dumps({**msg, "channel": "shell", "buffers": []}))

    async def collect(self, until=lambda m: False, seconds=60.0):
        """Messages received until ``until(message)`` or ``seconds`` pass (a hang guard, not a timing)."""
        got, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                frame = await asyncio.wait_for(self.ws.read_message(), end - time.monotonic())
            except asyncio.TimeoutError:
                break
            if frame is None:
                break
            got.append(read_frame(frame, self.v1))
            if until(got[-1]):
                break
        return got



def run(play):
    """Run a learner's session; close every websocket it opened, pass or fail."""
    async def session():
        try:
            await play()
        finally:
            await Client.close_all()

    # In its own thread: in the whole suite, Playwright's sync API (the browser tests' session
    # fixture) keeps an event loop running in the main thread, where asyncio.run() refuses.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, session()).result()


def _png_update(expected):
    return lambda m: (m[1]["msg_type"] == "comm_msg" and m[2]["data"].get("method") == "update"
                      and m[3] == [expected])


def test_crafted_frames_do_not_hang_the_server_and_other_learners_keep_working(server):
    async def play():
        kernel, (slider, _) = server.page()
        other_kernel, (other_slider, _) = server.page()
        rss_before, latency_before = server.rss(), server.http()
        # 1. The reproduction: a plain-JSON (v0) client moves the slider once; the redrawn
        #    picture comes back as a binary v0 frame, which unguarded Voila reads as v1.
        plain = await Client.connect(server, kernel, v1=False)
        await plain.send(slider_update(slider, 5))
        got = await plain.collect(_png_update(PNG + bytes([5]) * 64))
        assert _png_update(PNG + bytes([5]) * 64)(got[-1]), got
        # 2. Crafted incoming frames: a v0 frame on a v1 socket, a huge count on a v0 socket.
        v1_attacker = await Client.connect(server, kernel, v1=True)
        await v1_attacker.ws.write_message(v0_frame(slider_update(slider, 6), buffers=[PNG]), binary=True)
        await plain.ws.write_message(b"\x7f\xff\xff\xff" + bytes(8), binary=True)
        await asyncio.sleep(2)
        latencies = [server.http() for _ in range(5)]
        # 3. Another learner, on another kernel, with the normal v1 protocol.
        learner = await Client.connect(server, other_kernel, v1=True)
        await learner.send(slider_update(other_slider, 7))
        seen = await learner.collect(_png_update(PNG + bytes([7]) * 64))
        rss_after = server.rss()
        print(f"\n{server.kind}: HTTP {latency_before * 1e3:.0f} ms before, "
              f"{[round(x * 1e3) if x else None for x in latencies]} ms after the crafted frames; "
              f"RSS {rss_before / 1e6:.0f} -> {rss_after / 1e6:.0f} MB")
        assert None not in latencies, "the server stopped answering HTTP"
        assert rss_after - rss_before < 64e6
        assert _png_update(PNG + bytes([7]) * 64)(seen[-1]), seen
        assert "dropped a malformed" in server.log()

    run(play)


PATHS = re.compile(r"Traceback|File \"|site-packages|/usr/|/tmp/|/home/|/root/|" + re.escape(sys.prefix))


def _hostile_messages(slider):
    """Messages that make a kernel write to stderr or fail: comms a lesson page may not open
    (teachkit._wsguard drops them before a lesson kernel sees them; a notebook kernel logs
    them), a message to a comm that does not exist (logged on stderr) and a bad value."""
    return [
        _msg("comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "no.such.target", "data": {}}),
        _msg("comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "jupyter.widget",
                           "data": {"state": {"_model_name": "NoSuchModel"}, "buffer_paths": []}}),
        _msg("comm_msg", {"comm_id": "no-such-comm", "data": {"method": "update", "state": {}}}),
        slider_update(slider, "not a number"),
    ]


@pytest.mark.parametrize("v1", [True, False], ids=["v1", "v0"])
def test_no_traceback_or_server_path_reaches_the_page(server, v1):
    async def play():
        kernel, (slider, _) = server.page()
        client = await Client.connect(server, kernel, v1=v1)
        for msg in _hostile_messages(slider):
            await client.send(msg)
        # the kernel's answer to the bad update ends with it going idle after an error
        got = await client.collect(lambda m: m[1]["msg_type"] == "error")
        got += await client.collect(seconds=2)
        said = [m for m in got if m[1]["msg_type"] in ("stream", "error")]
        assert {m[1]["msg_type"] for m in said} == {"stream", "error"}, got  # the threat was played
        for m in said:
            assert not PATHS.search(json.dumps(m[2])), m[2]
            assert _wsguard.HIDDEN in json.dumps(m[2])
        assert "TraitError" in server.log()  # the details stay on the server
        assert "dropped a comm_open to 'no.such.target'" in server.log()

    run(play)


def test_notebook_kernels_of_the_same_server_keep_their_tracebacks(server):
    """On Binder/JupyterHub the server also runs notebooks: only Voila's kernels are scrubbed."""
    if server.kind == "teachkit lessons":
        pytest.skip("standalone Voila runs no notebook kernels")

    async def play():
        req = urllib.request.Request(server.base + "/api/kernels", data=b"{}", method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            kernel = json.loads(r.read())["id"]
        client = await Client.connect(server, kernel, v1=True)
        await client.send(_msg("execute_request", {"code": "1/0", "silent": False, "store_history": False,
                                                   "user_expressions": {}, "allow_stdin": False}))
        got = await client.collect(lambda m: m[1]["msg_type"] == "error")
        assert got[-1][2]["ename"] == "ZeroDivisionError"
        # and the unscrubbed kernel shows what the guard hides from lesson pages
        await client.send(_hostile_messages("none")[0])
        got = await client.collect(lambda m: m[1]["msg_type"] == "stream")
        assert "no.such.target" in got[-1][2]["text"]

    run(play)


def test_the_installed_environment_enables_the_guard_as_a_server_extension():
    """What Binder and JupyterHub rely on: the wheel's shared-data config file."""
    from jupyter_core.paths import jupyter_config_path

    found = [Path(p) / "jupyter_server_config.d" / "teachkit.json" for p in jupyter_config_path()]
    found = [p for p in found if p.is_file()]
    assert found, "etc/jupyter/jupyter_server_config.d/teachkit.json is not installed: reinstall teachkit"
    assert json.loads(found[0].read_text())["ServerApp"]["jpserver_extensions"]["teachkit._wsguard"] is True


def test_the_wheel_installs_the_server_extension_config():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    shared = project["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    source = next(src for src, dest in shared.items()
                  if dest == "etc/jupyter/jupyter_server_config.d/teachkit.json")
    enabled = json.loads((root / source).read_text())["ServerApp"]["jpserver_extensions"]
    assert enabled["teachkit._wsguard"] is True      # (and teachkit._mathml: tests/test_mathml.py)
    assert callable(_wsguard._load_jupyter_server_extension)
    assert _wsguard._jupyter_server_extension_points() == [{"module": "teachkit._wsguard"}]
