"""A real nbgrader formgrader for the tests: a copy of the course, the nbgrader command line,
and a Jupyter server with nbgrader's formgrader extension on 127.0.0.1.

Used by tests/test_grading_inert.py (student work rendered in Chromium through the formgrader)
and tests/test_formgrader_http.py (the formgrader's Autograde button driven over HTTP). Not a
test module itself; the test modules load it with importlib (the suite runs with
``--import-mode=importlib``).

The server runs from the course folder, as the guide says (``cd course; jupyter lab``), so the
formgrader loads ``course/nbgrader_config.py`` exactly as an instructor's does; its root folder
is the folder above the course, its own Jupyter config and data folders are private temporary
folders (nothing of the machine's ``~/.jupyter`` is read), and it listens on 127.0.0.1 only
with a random token. :meth:`FormgraderServer.stop` ends the server and every process it started.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
BIN = Path(sys.executable).parent
NBGRADER = BIN / "nbgrader"
PATH = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
# What a course copy leaves out: nbgrader's working folders and anything generated.
COURSE_IGNORE = shutil.ignore_patterns(
    "gradebook.db", "release", "submitted", "autograded", "feedback", "downloaded",
    ".ipynb_checkpoints", "__pycache__", "*.csv", ".jupyter", ".nbgrader.log")

#: nbgrader's own configuration with nothing of teachkit's: what an unprotected course runs.
STOCK_CONFIG = '''\
from pathlib import Path
c = get_config()  # noqa: F821
root = Path(__file__).resolve().parent
c.CourseDirectory.root = str(root)
c.CourseDirectory.course_id = "teachkit-survival"
c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 60
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_course(dest: Path, assignments=None, stock: bool = False) -> Path:
    """A copy of ``course/`` in ``dest/course`` (only ``assignments`` if given). ``stock=True``
    replaces teachkit's configuration with nbgrader's plain one (:data:`STOCK_CONFIG`): the
    course as it would be without any of teachkit's defences."""
    root = dest / "course"
    shutil.copytree(COURSE, root, ignore=COURSE_IGNORE)
    if assignments is not None:
        for folder in (root / "source").iterdir():
            if folder.name not in assignments:
                shutil.rmtree(folder)
    if stock:
        (root / "nbgrader_config.py").write_text(STOCK_CONFIG)
    return root


def run_env(extra=None) -> dict:
    env = {**os.environ, "PATH": PATH}
    env.pop("JUPYTER_CONFIG_DIR", None)
    env.update(extra or {})
    return env


def nbgrader(course: Path, *args: str, timeout: float = 900, env=None, check: bool = True):
    """``nbgrader <args>`` run from the course folder, as the guide says."""
    proc = subprocess.run([str(NBGRADER), *args], cwd=course, capture_output=True, text=True,
                          timeout=timeout, env=run_env(env))
    if check and proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


class FormgraderServer:
    """``jupyter server`` with nbgrader's formgrader, started in ``course`` (so that it reads
    the course's nbgrader_config.py), serving the folder above it on 127.0.0.1."""

    def __init__(self, course: Path, env=None, timeout: float = 90):
        self.course = course
        self.root = course.parent
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        private = self.root / f".jupyter-{self.port}"
        for sub in ("config", "data", "runtime"):
            (private / sub).mkdir(parents=True, exist_ok=True)
        self.log_path = private / "server.log"
        # nbgrader's formgrader on (its own jupyter_server_config.d file does that too)
        (private / "config" / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": True}}}))
        cmd = [sys.executable, "-m", "jupyter_server", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
               "--ServerApp.port_retries=0", f"--ServerApp.root_dir={self.root}",
               f"--IdentityProvider.token={self.token}"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        server_env = run_env({"JUPYTER_CONFIG_DIR": str(private / "config"),
                              "JUPYTER_DATA_DIR": str(private / "data"),
                              "JUPYTER_RUNTIME_DIR": str(private / "runtime"),
                              **(env or {})})
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=course, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=server_env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter server exited ({self.proc.returncode}):\n{self.log()}")
            try:
                status, _ = self.request("GET", "/api/status")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"jupyter server did not answer in {timeout} s:\n{self.log()}")
            time.sleep(0.3)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()[-6000:]

    def request(self, method: str, path: str, body=None, timeout: float = 900):
        """(status, decoded JSON or text) of an API call authenticated by the token header
        (as the formgrader's own pages are, with their cookie and XSRF token)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def submission_id(self, assignment: str, notebook: str, student: str) -> str:
        """The formgrader's id of a student's notebook (the page /formgrader/submissions/<id>/)."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}") as gb:
            return gb.find_submission_notebook(notebook, assignment, student).id

    def login(self, page):
        """Log a Playwright page in (the token in the URL sets the server's cookie)."""
        page.goto(f"{self.url}/formgrader?token={self.token}", wait_until="domcontentloaded")

    def stop(self):
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
