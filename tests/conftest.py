"""Shared pytest configuration for teachkit's suite."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"

# Benchmarks are scripts run by `make bench`, not tests.
collect_ignore = ["benchmarks"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# ---------------------------------------------------------------------------
# A real Voila server and a real headless Chromium, for the lesson tests.
# ---------------------------------------------------------------------------
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

import pytest  # noqa: E402

# TEACHKIT_LESSONS: serve another copy of the lessons (e.g. to try notebook edits).
LESSONS = Path(os.environ.get("TEACHKIT_LESSONS") or ROOT / "lessons")
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_HELP = (
    "Debian's Chromium is needed for the browser tests: `sudo apt-get install chromium` "
    "(Playwright drives /usr/bin/chromium; its own browser download is not used)"
)
# Flags for a headless Chromium on a machine with no outside network (see README).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_executable():
    for path in CHROMIUM_CANDIDATES:
        if Path(path).is_file() and os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VoilaServer:
    """A Voila process serving ``lessons/`` (with lessons/voila.json) on a free port."""

    def __init__(self, root: Path, command=None, preheat: bool = False, env=None, ready_path="/"):
        from teachkit.cli import voila_command, voila_env

        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"teachkit-voila-{self.port}.log"
        # By default exactly what `teachkit lessons` runs (see teachkit.cli).
        cmd = command(self.port) if command else voila_command(root, self.port, preheat=preheat)
        self.started = time.perf_counter()
        self._log = open(self.log_path, "w")
        # Its own session, so stop() can end Voila and every kernel it started.
        self.proc = subprocess.Popen(cmd, cwd=root, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=voila_env() if env is None else env)
        self._wait_until_up(ready_path)

    def _wait_until_up(self, ready_path="/", timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"voila exited with {self.proc.returncode}: {self.log()}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2) as r:
                    if r.status == 200:
                        self.ready = time.perf_counter()
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"voila did not answer within {timeout} s: {self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()[-4000:]

    def stop(self):
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        if not self._log.closed:
            self._log.close()


def require_chromium(in_ci: bool = IN_CI) -> str:
    """Chromium's path; without it, fail under CI=true and skip (saying how to get it) otherwise."""
    path = chromium_executable()
    if path is None:
        if in_ci:
            pytest.fail("CI=true but Chromium is missing. " + CHROMIUM_HELP)
        pytest.skip(CHROMIUM_HELP)
    return path


@pytest.fixture(scope="session")
def chromium():
    return require_chromium()


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source():
    """axe-core's script (npm dev dependency pinned in package.json), installed into the
    git-ignored node_modules/ with ``npm ci`` when missing."""
    if not AXE.is_file() and shutil.which("npm"):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=300)
    if not AXE.is_file():
        message = "axe-core is needed for the accessibility checks: `npm ci` in the repository"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


@pytest.fixture(scope="session")
def voila_server(chromium):
    server = VoilaServer(LESSONS)
    yield server
    server.stop()


class PageWatch:
    """Collects what a learner must never see: page errors and console errors."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)

    def _console(self, msg):
        if msg.type == "error":
            self.errors.append(f"console.error: {msg.text}")


# Lessons must work offline: every request that leaves 127.0.0.1/localhost (a CDN, a font,
# an analytics call) is recorded in ``page.watch.outside`` and in the page's errors, and
# aborted. teachkit's Voila template loads Font Awesome and MathJax from the server itself.
OUTSIDE = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/])")


def _route_outside(route, watch):
    url = route.request.url
    watch.outside.append(url)
    watch.errors.append(f"request outside the machine: {url}")
    route.abort()


def open_watched_page(browser, width=1280, height=900):
    """A fresh browser context and page whose errors are collected in ``page.watch``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.watch = PageWatch(pg)
    pg.watch.outside = []
    pg.route(OUTSIDE, lambda r: _route_outside(r, pg.watch))
    return pg


@pytest.fixture
def page(browser):
    pg = open_watched_page(browser)
    yield pg
    pg.context.close()


@pytest.fixture(scope="session")
def voila_server_class():
    """:class:`VoilaServer` itself, for module-scoped servers (conftest is not importable
    under ``--import-mode=importlib``)."""
    return VoilaServer


@pytest.fixture
def start_voila(chromium):
    """Start extra Voila servers in a test (``start_voila(command=..., preheat=...)``);
    they are stopped when the test ends."""
    servers = []

    def start(root=LESSONS, **kwargs):
        server = VoilaServer(root, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def watched_page(browser):
    """Open more watched pages in a test; their contexts are closed when it ends."""
    pages = []

    def new(**viewport):
        pg = open_watched_page(browser, **viewport)
        pages.append(pg)
        return pg

    yield new
    for pg in pages:
        pg.context.close()


#: Timings measured by tests (name -> seconds), printed at the end of the run.
TIMINGS: dict[str, float] = {}


@pytest.fixture
def timings():
    return TIMINGS


#: Tables made by tests (section title -> lines), printed at the end of the run.
REPORTS: dict[str, list[str]] = {}


@pytest.fixture(scope="session")
def reports():
    return REPORTS


def pytest_terminal_summary(terminalreporter):
    for title, lines in REPORTS.items():
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)
    if TIMINGS:
        terminalreporter.section("teachkit timings (measured by the tests)")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name:<60} {seconds:8.2f} s")
