"""A class on a real JupyterHub: the shipped one-machine deployment, end to end.

Runs only as root with node/npm and JupyterHub installed (CI runs as root; see
``deploy/jupyterhub/README.md``).  It makes an instructor and three students with
``useradd`` (passwords set with ``chpasswd``, logins through PAM), installs
configurable-http-proxy from npm, starts JupyterHub on a free 127.0.0.1 port with
``deploy/jupyterhub/jupyterhub_config.py`` (paths given by its environment
variables) and then works through each person's own server with that person's API
token, as their browser would:

* the instructor generates and releases an assignment with the formgrader's API;
* each student fetches it with the assignment list's API, edits the notebook
  through the contents API (one solves it, one leaves it untouched, one is hostile:
  junk answers and numpy's comparisons monkeypatched to always agree) and submits;
* the instructor collects, autogrades every submission (the formgrader's API, in the
  instructor's server: the course's sandbox and sealed grader, as everywhere), generates
  and releases feedback (formgrader API) and exports the grades (``nbgrader export`` in a
  kernel of their server);
* each student fetches their feedback.

Then: scores, no hidden test in any feedback, private homes and course, no
formgrader for students, a lesson rendered for a student in Chromium through the
hub with no console error, and the lesson's kernel culled once idle.
Users, processes and folders are removed whatever happens (try/finally + atexit).
"""

from __future__ import annotations

import atexit
import csv
import io
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

#: Measured durations (seconds), handed to conftest's timings table after each test.
TIMINGS: dict[str, float] = {}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "jupyterhub"
# The course moves from lessons/exercises/ to course/; use whichever this tree has.
COURSE = next((p for p in (ROOT / "course", ROOT / "lessons" / "exercises") if (p / "source").is_dir()), None)
COURSE_ID = "teachkit-survival"
ASSIGNMENT = "planning-events"  # the shortest one to autograde
PREFIX = f"tkhub{secrets.token_hex(2)}"
BEGIN_SOL, END_SOL = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HID, END_HID = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def _why_not() -> str | None:
    if sys.platform != "linux":
        return "the hub test needs Linux system users"
    if os.geteuid() != 0:
        return "the hub test creates system users: run it as root (CI does)"
    for tool in ("node", "npm", "useradd", "userdel", "chpasswd", "runuser"):
        if not shutil.which(tool):
            return f"the hub test needs `{tool}` (node and npm: apt-get install nodejs npm)"
    try:
        import jupyterhub  # noqa: F401
        import jupyterhub_idle_culler  # noqa: F401
    except ImportError:
        return "JupyterHub is not installed: pip install -e '.[hub]'"
    if COURSE is None:
        return "no nbgrader course in this tree"
    return None


REASON = _why_not()
pytestmark = [pytest.mark.skipif(REASON is not None, reason=REASON or ""), pytest.mark.slow]


@pytest.fixture(autouse=True)
def _report_timings(timings):
    yield
    timings.update(TIMINGS)


# --------------------------------------------------------------------------- cleanup

class Cleanup:
    """Users, process groups and folders to remove, in reverse order, exactly once."""

    def __init__(self):
        self.users: list[str] = []
        self.groups: list[int] = []
        self.paths: list[Path] = []
        self.procs: list[subprocess.Popen] = []
        self.files: list = []

    def run(self):
        for pgid in reversed(self.groups):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    break
                time.sleep(1.0)
        self.groups.clear()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()
        for f in self.files:
            f.close()
        self.files.clear()
        for user in reversed(self.users):
            # The user's own processes (servers, kernels) first, then the account.
            subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
            subprocess.run(["userdel", "-r", "-f", user], capture_output=True)
        self.users.clear()
        for path in reversed(self.paths):
            shutil.rmtree(path, ignore_errors=True)
        self.paths.clear()


# --------------------------------------------------------------------------- a Python every user can run

def runs_as(user: str, *cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", *cmd], capture_output=True, text=True, **kw)


def shared_python(tmp: Path, probe_user: str) -> tuple[Path, dict]:
    """A venv in ``tmp`` (0755) that every user can execute, with this environment's packages;
    and the environment variables it needs.

    The environment running the tests may live where other users cannot go (a venv
    under /root, or one whose base Python is under /root/.pyenv).  The new venv's base
    is an interpreter ``probe_user`` can execute with exactly this Python's version
    (another patch release is not enough: Debian's 3.11.2 fails on soupsieve 4.1 where
    3.11.7 works), else a copy of this base Python's interpreter, libpython and
    standard library (LD_LIBRARY_PATH then finds the copied libpython).  The venv sees
    this environment's packages through a .pth file (``site.addsitedir``) when
    ``probe_user`` can read them, else through a copy.  Its share/ and etc/ point at
    this environment's (Jupyter's data and extension switches); console scripts are
    rewritten to the new interpreter.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    exact = ".".join(map(str, sys.version_info[:3]))
    candidates = [Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable))),
                  Path(f"/usr/bin/python{version}"), Path(f"/usr/local/bin/python{version}")]
    probe = "import sys; print('.'.join(map(str, sys.version_info[:3])))"
    base = next((p for p in candidates if p.exists()
                 and runs_as(probe_user, str(p), "-c", probe).stdout.strip() == exact), None)
    extra_env = {}
    if base is None:
        src, dst = Path(sys.base_prefix), tmp / "base"
        (dst / "bin").mkdir(parents=True)
        (dst / "lib").mkdir()
        shutil.copy2(src / "bin" / f"python{version}", dst / "bin" / f"python{version}")
        for lib in (src / "lib").glob("libpython*"):
            shutil.copy2(lib, dst / "lib" / lib.name, follow_symlinks=False)
        shutil.copytree(src / "lib" / f"python{version}", dst / "lib" / f"python{version}", symlinks=True,
                        ignore=shutil.ignore_patterns("site-packages", "test", "idlelib", "tkinter"))
        (dst / "lib" / f"python{version}" / "site-packages").mkdir()
        base = dst / "bin" / f"python{version}"
        extra_env["LD_LIBRARY_PATH"] = str(dst / "lib")
        check = runs_as(probe_user, "env", f"LD_LIBRARY_PATH={dst / 'lib'}", str(base), "-c", probe)
        assert check.stdout.strip() == exact, f"the copied Python does not run: {check.stderr}"
    env_prefix = [f"{k}={v}" for k, v in extra_env.items()]
    venv = tmp / "venv"
    subprocess.run(["env", *env_prefix, str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_paths()["purelib"])
    new_site = Path(subprocess.run(["env", *env_prefix, str(venv / "bin" / "python"), "-c",
                                    "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    readable = runs_as(probe_user, "env", *env_prefix, str(base), "-c", f"import os; os.listdir({str(site)!r}); "
                       f"open({str(ROOT / 'teachkit' / '__init__.py')!r}).read()").returncode == 0
    if readable:
        (new_site / "teachkit-test-env.pth").write_text(f"import site; site.addsitedir({str(site)!r})\n")
    else:
        # Copy the packages, and teachkit's source (an editable install points at the clone).
        copied = tmp / "site-packages"
        shutil.copytree(site, copied, symlinks=True)
        src = tmp / "src"
        shutil.copytree(ROOT / "teachkit", src / "teachkit", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "lessons", src / "lessons", ignore=shutil.ignore_patterns("exercises"))
        for pth in copied.glob("*teachkit*.pth"):
            pth.write_text(str(src) + "\n")
        (new_site / "teachkit-test-env.pth").write_text(f"import site; site.addsitedir({str(copied)!r})\n")
    for name in ("share", "etc"):
        if (Path(sys.prefix) / name).is_dir():
            if readable:
                (venv / name).symlink_to(Path(sys.prefix) / name)
            else:
                shutil.copytree(Path(sys.prefix) / name, venv / name, symlinks=True)
    old = Path(sys.prefix) / "bin"
    for script in old.iterdir():
        target = venv / "bin" / script.name
        if target.exists() or not script.is_file():
            continue
        try:
            text = script.read_text()
        except UnicodeDecodeError:
            continue
        if text.startswith("#!") and "python" in text.split("\n", 1)[0]:
            target.write_text(f"#!{venv / 'bin' / 'python'}\n" + text.split("\n", 1)[1])
            target.chmod(0o755)
    return venv / "bin" / "python", extra_env


def proxy_command() -> str:
    """configurable-http-proxy from npm, cached between runs."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "teachkit" / "chp"
    exe = cache / "node_modules" / ".bin" / "configurable-http-proxy"
    if not exe.exists():
        subprocess.run(["npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund",
                        "--loglevel=error", "configurable-http-proxy@5"],
                       check=True, capture_output=True, timeout=300)
    return str(exe)


# --------------------------------------------------------------------------- HTTP

class Http:
    def __init__(self, base: str):
        self.base = base

    def request(self, method, path, token, body=None, expect=(200, 201, 202, 204)):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"token {token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if expect is not None:
            assert status in ((expect,) if isinstance(expect, int) else expect), \
                f"{method} {path}: HTTP {status}\n{raw[:2000]!r}"
        text = raw.decode(errors="replace")
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, text


def run_in_kernel(http: Http, user: str, token: str, code: str, timeout: float = 300) -> str:
    """Run ``code`` in a new kernel of ``user``'s server (kernels API + websocket); return stdout."""
    import websocket  # websocket-client, a jupyter_server dependency

    _, kernel = http.request("POST", f"/user/{user}/api/kernels", token, {"name": "python3"})
    url = http.base.replace("http://", "ws://") + f"/user/{user}/api/kernels/{kernel['id']}/channels"
    ws = websocket.create_connection(url, header=[f"Authorization: token {token}"], timeout=timeout)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": user,
                       "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise AssertionError(f"kernel error: {msg['content']['ename']}: {msg['content']['evalue']}")
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
        raise AssertionError("kernel did not finish in time")
    finally:
        ws.close()
        http.request("DELETE", f"/user/{user}/api/kernels/{kernel['id']}", token, expect=None)


# --------------------------------------------------------------------------- students' work

def nbg(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def solve(released: dict, source: Path) -> dict:
    """The released notebook with every solution cell replaced by the source's solution."""
    src = {nbg(c).get("grade_id"): c for c in nbformat.read(source, as_version=4).cells}
    nb = nbformat.from_dict(released)
    for cell in nb.cells:
        meta = nbg(cell)
        if meta.get("solution"):
            cell.source = "\n".join(line for line in src[meta["grade_id"]].source.split("\n")
                                    if BEGIN_SOL not in line and END_SOL not in line)
    return nb


HOSTILE = """\
import numpy as np
# A student who games the tests: every numpy comparison agrees ...
np.isclose = lambda *a, **k: True
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
# ... and every answer is junk.
def schoenfeld_events(*a, **k): return 0.5
def prob_event(*a, **k): return 0.5
def patients_needed(*a, **k): return 1.0
events_grid = np.zeros((4, 3))
"""


def hostile(released: dict) -> dict:
    nb = nbformat.from_dict(released)
    for cell in nb.cells:
        if nbg(cell).get("solution") and cell.cell_type == "code":
            cell.source = HOSTILE
    return nb


def auto_points(source: Path) -> float:
    return sum(float(nbg(c)["points"]) for c in nbformat.read(source, as_version=4).cells
               if nbg(c).get("grade") and not nbg(c).get("solution"))


# --------------------------------------------------------------------------- the hub

def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process in MB; PSS counts shared libraries once across processes."""
    import psutil

    info = psutil.Process(pid).memory_full_info()
    return info.rss / 2**20, getattr(info, "pss", info.rss) / 2**20


@pytest.fixture(scope="module")
def hub():
    cleanup = Cleanup()
    atexit.register(cleanup.run)
    t0 = time.perf_counter()
    try:
        tmp = Path(tempfile.mkdtemp(prefix="teachkit-hub-"))
        cleanup.paths.append(tmp)
        tmp.chmod(0o755)
        names = {"instr": f"{PREFIX}_instr", **{f"s{i}": f"{PREFIX}_s{i}" for i in (1, 2, 3)}}
        passwords = {n: secrets.token_urlsafe(16) for n in names.values()}
        (tmp / "home").mkdir(mode=0o755)
        for name in names.values():
            cleanup.users.append(name)
            subprocess.run(["useradd", "-m", "-d", str(tmp / "home" / name), "-s", "/bin/bash",
                            "-K", "HOME_MODE=0755", name], check=True, capture_output=True)
        subprocess.run(["chpasswd"], input="".join(f"{n}:{p}\n" for n, p in passwords.items()),
                       text=True, check=True, capture_output=True)

        t = time.perf_counter()
        python, extra_env = shared_python(tmp, names["s1"])
        TIMINGS["hub: venv every user can execute"] = time.perf_counter() - t
        t = time.perf_counter()
        proxy = proxy_command()
        TIMINGS["hub: configurable-http-proxy from npm (or cache)"] = time.perf_counter() - t

        # The system-wide Jupyter files (/etc/jupyter in a real install).
        etc = tmp / "etc-jupyter"
        shutil.copytree(DEPLOY / "etc" / "jupyter", etc)
        exchange = tmp / "exchange"
        exchange.mkdir()
        exchange.chmod(0o1777)
        # The instructor's private course: a copy of the repository's course in ~/course.
        instr_home = Path(pwd.getpwnam(names["instr"]).pw_dir)
        shutil.copytree(COURSE, instr_home / "course",
                        ignore=shutil.ignore_patterns("release", "submitted", "autograded", "feedback",
                                                      "gradebook.db", ".nbgrader.log", "__pycache__"))
        subprocess.run(["chown", "-R", f"{names['instr']}:", str(instr_home / "course")], check=True)

        port = free_port()
        api_token = secrets.token_hex(32)
        state = tmp / "state"
        wrapper = tmp / "jupyterhub_test_config.py"
        # The shipped config, plus one service whose token lets the test start servers
        # and make each user's own API token.
        wrapper.write_text(
            "c = get_config()\n"
            f"load_subconfig({str(DEPLOY / 'jupyterhub_config.py')!r})\n"
            "c.JupyterHub.services.append({'name': 'teachkit-test', 'api_token': "
            f"{api_token!r}}})\n"
            # Only when the test had to copy its base Python (see shared_python).
            f"extra_env = {extra_env!r}\n"
            "c.Spawner.environment.update(extra_env)\n"
            "for service in c.JupyterHub.services:\n"
            "    service.setdefault('environment', {}).update(extra_env)\n"
            "c.JupyterHub.load_roles.append({'name': 'teachkit-test', 'services': ['teachkit-test'], "
            "'scopes': ['admin:users', 'admin:servers', 'tokens', 'list:users', 'read:users']})\n"
        )
        env = {
            "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TEACHKIT_HUB_PORT": str(port),
            "TEACHKIT_HUB_PROXY_API_PORT": str(free_port()),
            "TEACHKIT_HUB_INTERNAL_PORT": str(free_port()),
            "TEACHKIT_HUB_AUTH": "pam",
            "TEACHKIT_HUB_INSTRUCTORS": names["instr"],
            "TEACHKIT_HUB_STUDENTS": ",".join(names[f"s{i}"] for i in (1, 2, 3)),
            "TEACHKIT_HUB_STATE_DIR": str(state),
            "TEACHKIT_HUB_JUPYTER_CONFIG": str(etc),
            "TEACHKIT_NBGRADER_EXCHANGE": str(exchange),
            "TEACHKIT_HUB_PROXY": proxy,
            "TEACHKIT_KERNEL_CULL_IDLE_TIMEOUT": "20",
            "TEACHKIT_KERNEL_CULL_INTERVAL": "5",
            **extra_env,
        }
        log_path = tmp / "jupyterhub.log"
        log = open(log_path, "w")
        proc = subprocess.Popen([str(python), "-m", "jupyterhub", "-f", str(wrapper)], cwd=tmp, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        cleanup.groups.append(proc.pid)
        cleanup.procs.append(proc)
        cleanup.files.append(log)
        http = Http(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterHub exited:\n{log_path.read_text()[-4000:]}")
            try:
                if http.request("GET", "/hub/api/", api_token, expect=None)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterHub did not answer:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        TIMINGS["hub: JupyterHub up (from fixture start)"] = time.perf_counter() - t0

        # Every server, started by the hub as its user, and each user's own token.
        t = time.perf_counter()
        tokens = {}
        for name in names.values():
            http.request("POST", f"/hub/api/users/{name}/server", api_token, expect=(201, 202))
            _, tok = http.request("POST", f"/hub/api/users/{name}/tokens", api_token,
                                  {"note": "teachkit hub test", "expires_in": 3600})
            tokens[name] = tok["token"]
        for name in names.values():
            while True:
                _, model = http.request("GET", f"/hub/api/users/{name}", api_token)
                server = model.get("servers", {}).get("")
                if server and server.get("ready"):
                    break
                if time.monotonic() > deadline + 180:
                    pytest.fail(f"server of {name} not ready:\n{log_path.read_text()[-4000:]}")
                time.sleep(0.5)
        TIMINGS["hub: 4 user servers started"] = time.perf_counter() - t

        yield dict(http=http, names=names, passwords=passwords, tokens=tokens, api_token=api_token,
                   tmp=tmp, exchange=exchange, instr_home=instr_home, log_path=log_path, proc=proc)
    finally:
        cleanup.run()
        TIMINGS["hub: whole hub fixture, cleanup included"] = time.perf_counter() - t0


@pytest.fixture(scope="module")
def cycle(hub):
    """release -> fetch -> submit -> collect -> autograde -> feedback -> fetch feedback -> export."""
    http, names, tokens = hub["http"], hub["names"], hub["tokens"]
    instr, students = names["instr"], [names[f"s{i}"] for i in (1, 2, 3)]
    fg = f"/user/{instr}/formgrader/api"
    t = time.perf_counter()
    _, out = http.request("POST", f"{fg}/assignment/{ASSIGNMENT}/assign", tokens[instr])
    assert out["success"], f"{out.get('log')}\n{out.get('error')}"
    _, out = http.request("POST", f"{fg}/assignment/{ASSIGNMENT}/release", tokens[instr])
    assert out["success"], f"{out.get('log')}\n{out.get('error')}"
    TIMINGS["hub: generate + release"] = time.perf_counter() - t

    source = hub["instr_home"] / "course" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb_path = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    work = {students[0]: "solved", students[1]: "untouched", students[2]: "hostile"}
    for student, what in work.items():
        base = f"/user/{student}"
        http.request("POST", f"{base}/assignments/fetch", tokens[student],
                     {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT})
        _, model = http.request("GET", f"{base}/api/contents/{nb_path}?content=1", tokens[student])
        if what != "untouched":
            nb = solve(model["content"], source) if what == "solved" else hostile(model["content"])
            http.request("PUT", f"{base}/api/contents/{nb_path}", tokens[student],
                         {"type": "notebook", "format": "json", "content": nb})
        _, listed = http.request("POST", f"{base}/assignments/submit", tokens[student],
                                 {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT})
        assert listed["success"], listed

    _, out = http.request("POST", f"{fg}/assignment/{ASSIGNMENT}/collect", tokens[instr])
    assert out["success"], f"{out.get('log')}\n{out.get('error')}"
    autograde = {}
    for student in students:
        t = time.perf_counter()
        _, out = http.request("POST", f"{fg}/submission/{ASSIGNMENT}/{student}/autograde", tokens[instr])
        autograde[student] = time.perf_counter() - t
        assert out["success"], f"{out.get('log')}\n{out.get('error')}"
        TIMINGS[f"hub: autograde one submission ({work[student]})"] = autograde[student]
    for action in ("generate_feedback", "release_feedback"):
        _, out = http.request("POST", f"{fg}/assignment/{ASSIGNMENT}/{action}", tokens[instr])
        assert out["success"], f"{out.get('log')}\n{out.get('error')}"
    feedback = {}
    for student in students:
        base = f"/user/{student}"
        http.request("POST", f"{base}/assignments/fetch_feedback", tokens[student],
                     {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT})
        _, listing = http.request("GET", f"{base}/api/contents/{ASSIGNMENT}/feedback", tokens[student])
        stamps = [e["name"] for e in listing["content"] if e["type"] == "directory"]
        assert len(stamps) == 1, listing
        _, html = http.request("GET", f"{base}/api/contents/{ASSIGNMENT}/feedback/{urllib.parse.quote(stamps[0])}/"
                                      f"{ASSIGNMENT}.html?content=1&format=text&type=file", tokens[student])
        feedback[student] = html["content"]

    exported = run_in_kernel(http, instr, tokens[instr], (
        "import os, subprocess\n"
        "os.chdir(os.path.expanduser('~/course'))\n"
        "r = subprocess.run(['nbgrader', 'export', '--to', 'grades.csv'], capture_output=True, text=True)\n"
        "assert r.returncode == 0, r.stdout + r.stderr\n"
        "print(open('grades.csv').read())\n"))
    rows = {row["student_id"]: row for row in csv.DictReader(io.StringIO(exported))
            if row["assignment"] == ASSIGNMENT}
    return dict(work=work, rows=rows, feedback=feedback, source=source, autograde=autograde)


# --------------------------------------------------------------------------- tests

def test_exported_scores(cycle):
    """Full automatic points for the solution, none for the untouched notebook; the hostile
    student (numpy's comparisons patched, junk answers) gets no point at all and is flagged
    in the export: the course's sealed grader (course/grading/sealed.py) decides
    every graded test cell, visible and hidden, in the grader's process outside the
    student's kernel (the kernel's patched numpy never meets a test), also when autograde
    runs through the instructor's formgrader on the hub, in the course's bubblewrap sandbox
    inside the instructor's (non-root) server (course/README.md, "Threat model").
    Before the sealed grader the visible tests ran in the student's kernel and this notebook
    scored 6 of 8."""
    full = auto_points(cycle["source"])
    hidden = sum(float(nbg(c)["points"]) for c in nbformat.read(cycle["source"], as_version=4).cells
                 if nbg(c).get("grade") and "BEGIN HIDDEN TESTS" in c.source)
    assert full > 0 and hidden > 0
    by_work = {what: float(cycle["rows"][student]["raw_score"]) for student, what in cycle["work"].items()}
    assert by_work["solved"] == pytest.approx(full)
    assert by_work["untouched"] == 0
    assert by_work["hostile"] == 0, by_work
    flags = {what: cycle["rows"][student].get("flags", "") for student, what in cycle["work"].items()}
    assert flags["hostile"] and not flags["solved"] and not flags["untouched"], flags
    print(f"\nexported raw scores (max {full} automatic, {hidden} hidden): {by_work}; flags: {flags}")


def test_feedback_has_no_hidden_test(cycle):
    hidden = []
    for cell in nbformat.read(cycle["source"], as_version=4).cells:
        inside = False
        for line in cell.source.split("\n"):
            if BEGIN_HID in line:
                inside = True
            elif END_HID in line:
                inside = False
            elif inside and len(line.strip()) > 20 and not line.strip().startswith("#"):
                hidden.append(line.strip())
    assert hidden, "the assignment should have hidden tests"
    for student, html in cycle["feedback"].items():
        assert "Hidden tests" in html or ASSIGNMENT in html  # it is this assignment's feedback
        import html as html_lib
        text = html_lib.unescape(html)
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"feedback of {student} shows hidden tests: {leaked[:3]}"


def test_homes_and_course_are_private(hub, cycle):
    names, tmp = hub["names"], hub["tmp"]
    s1, s2, instr = names["s1"], names["s2"], names["instr"]
    for name in names.values():
        mode = (tmp / "home" / name).stat().st_mode & 0o777
        assert mode == 0o700, f"home of {name} has mode {oct(mode)}: the spawn hook makes it 0700"
    # Made world-readable by useradd (HOME_MODE=0755 above): the hook closed them.
    other = tmp / "home" / s2 / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert other.exists()
    assert runs_as(s1, "cat", str(other)).returncode != 0, "a student can read another student's work"
    assert runs_as(s1, "ls", str(hub["instr_home"] / "course")).returncode != 0, \
        "a student can list the instructor's course"
    assert runs_as(s1, "ls", str(hub["exchange"] / COURSE_ID / "inbound")).returncode != 0, \
        "a student can list the other submissions in the exchange"
    # The instructor can (the checks above can fail for the right reason only).
    assert runs_as(instr, "ls", str(hub["instr_home"] / "course" / "source")).returncode == 0
    # Students got the lessons, never the course sources.
    lessons = sorted(p.name for p in (tmp / "home" / s1 / "lessons").iterdir())
    assert any(n.endswith(".ipynb") for n in lessons) and "voila.json" in lessons
    assert not (tmp / "home" / s1 / "course").exists()
    assert not list((tmp / "home" / s1).rglob("*BEGIN SOLUTION*"))
    for path in (tmp / "home" / s1 / "lessons").glob("*.ipynb"):
        assert BEGIN_SOL not in path.read_text()


def test_formgrader_refused_to_students(hub):
    http, names, tokens = hub["http"], hub["names"], hub["tokens"]
    instr = names["instr"]
    assert http.request("GET", f"/user/{instr}/formgrader/api/status", tokens[instr])[0] == 200
    assert http.request("GET", f"/user/{instr}/formgraders", tokens[instr])[0] == 200
    for i in (1, 2, 3):
        student = names[f"s{i}"]
        for path in ("formgrader/api/status", "formgrader/api/assignments", "formgrader", "formgraders"):
            status, _ = http.request("GET", f"/user/{student}/{path}", tokens[student], expect=None)
            assert status == 404, f"{student}'s own /{path} answered {status}"
        # ... and the instructor's server refuses them.
        status, _ = http.request("GET", f"/user/{instr}/formgrader/api/status", tokens[student], expect=None)
        assert status in (403, 404), f"{student} reached the instructor's formgrader: {status}"


def test_lesson_renders_through_the_hub_and_idle_kernel_is_culled(hub, watched_page):
    from playwright.sync_api import expect  # noqa: F401

    http, names, tokens = hub["http"], hub["names"], hub["tokens"]
    student = names["s1"]
    page = watched_page()
    # Under the Voila server extension (the hub's case) the pages would link Font Awesome and
    # MathJax from CDNs; the shipped voila.json selects teachkit's template, which serves both
    # locally: this machine is offline, and no request may leave 127.0.0.1 (conftest records
    # and aborts any that would).
    page.goto(http.base + "/hub/login")
    page.fill("input#username_input", student)
    page.fill("input#password_input", hub["passwords"][student])
    page.click("#login_submit")
    page.wait_for_url("**/user/**", timeout=120_000)
    # the hub's default URL, voila/tree/lessons, opens the course home (issue 26, item 6)
    page.wait_for_url("**/voila/render/lessons/index.ipynb*", timeout=240_000)
    page.wait_for_selector(".tk-home-lesson a[href*='00-the-trial']", timeout=240_000)  # the lessons
    measured = []
    for lesson in ("00-the-trial", "03-risk-and-stratification"):
        t = time.perf_counter()
        # Voila runs the whole notebook before it answers: allow a loaded machine time.
        page.goto(f"{http.base}/user/{student}/voila/render/lessons/{lesson}.ipynb", timeout=240_000)
        page.wait_for_selector(".jupyter-widgets", state="visible", timeout=120_000)
        page.wait_for_function("() => !document.querySelector('#loading') || "
                               "getComputedStyle(document.querySelector('#loading')).display === 'none'",
                               timeout=120_000)
        measured.append(time.perf_counter() - t)
        TIMINGS[f"hub: lesson {lesson} rendered for a student"] = measured[-1]
        # teachkit's template on the hub too: the folds "for the statistician", closed
        assert page.locator("details.tk-fold").count() >= 1
        assert not any(page.eval_on_selector_all("details.tk-fold", "els => els.map(d => d.open)"))
    assert "Traceback" not in page.content()
    errors = list(page.watch.errors)

    _, kernels = http.request("GET", f"/user/{student}/api/kernels", tokens[student])
    assert kernels, "the lesson page should have a kernel"
    # Memory of the student's server and of the lesson kernel (for the guide's sizing).
    import psutil
    procs = [p for p in psutil.process_iter(["pid", "username", "cmdline"]) if p.info["username"] == student]
    server = [p for p in procs if "jupyterhub.singleuser" in " ".join(p.info["cmdline"] or [])]
    kernel = [p for p in procs if "ipykernel_launcher" in " ".join(p.info["cmdline"] or [])]
    idle = [p for p in psutil.process_iter(["username", "cmdline"]) if p.info["username"] == names["s2"]
            and "jupyterhub.singleuser" in " ".join(p.info["cmdline"] or [])]
    print("\nmemory (RSS MB, PSS MB): idle student server", [memory_mb(p.pid) for p in idle],
          "; server with a lesson open", [memory_mb(p.pid) for p in server],
          "; lesson kernels", [memory_mb(k.pid) for k in kernel])
    assert server and kernel
    page.goto("about:blank")  # the learner leaves; the kernel idles (culled after 20 s here)
    t = time.perf_counter()
    deadline = time.monotonic() + 120
    while http.request("GET", f"/user/{student}/api/kernels", tokens[student])[1]:
        assert time.monotonic() < deadline, "the idle lesson kernel was not culled"
        time.sleep(2)
    TIMINGS["hub: idle lesson kernel culled after leaving (timeout 20 s)"] = time.perf_counter() - t
    assert errors == [], errors
    assert list(page.watch.outside) == [], page.watch.outside
