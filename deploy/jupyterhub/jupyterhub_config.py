"""JupyterHub for a teachkit class on one machine (JupyterHub >= 5, LocalProcessSpawner).

One Linux account per person; the hub runs as root and starts each person's
Jupyter server as that person.  Students get the Voila lessons and nbgrader's
assignment list; the instructors (hub admins) also get the formgrader.  See
README.md next to this file for the step-by-step set-up.

Everything site-specific is an environment variable (defaults in brackets):

TEACHKIT_HUB_IP [127.0.0.1], TEACHKIT_HUB_PORT [8000]
    where the hub listens.  Put a TLS proxy (Caddy, nginx) in front, or set
    TEACHKIT_HUB_SSL_CERT / TEACHKIT_HUB_SSL_KEY, before opening it to a network.
TEACHKIT_HUB_AUTH [pam]
    "pam": system passwords (a real course).  "dummy": any allowed user name with
    the shared password TEACHKIT_HUB_DUMMY_PASSWORD, only to try the hub out;
    refused unless the hub listens on 127.0.0.1.
TEACHKIT_HUB_INSTRUCTORS
    comma-separated user names: hub admins, with the formgrader.  Required.
TEACHKIT_HUB_STUDENTS, TEACHKIT_HUB_STUDENTS_GROUP [teachkit-students]
    who may log in besides the instructors: a comma-separated list, and/or the
    members of a Unix group.
TEACHKIT_HUB_STATE_DIR [/srv/jupyterhub]
    the hub's database, cookie secret and proxy token (root only, 0700).
TEACHKIT_HUB_JUPYTER_CONFIG [/etc/jupyter]
    the folder with the system-wide nbgrader_config.py, voila.json and
    jupyter_server_config.py (etc/jupyter/ here).
TEACHKIT_NBGRADER_EXCHANGE [/srv/nbgrader/exchange]
    nbgrader's exchange root (mode 1777, owned by root).
TEACHKIT_HUB_SERVER_CULL_TIMEOUT [3600]
    seconds before jupyterhub-idle-culler stops an idle user server.
TEACHKIT_KERNEL_CULL_IDLE_TIMEOUT [900], TEACHKIT_KERNEL_CULL_INTERVAL [60]
    seconds before an idle kernel (a lesson page left open and unused, or
    closed) is shut down by the user's server; passed on to every server.
TEACHKIT_LESSON_MAX_KERNELS [4], TEACHKIT_LESSON_KERNEL_MEMORY [1G],
TEACHKIT_LESSON_CULL_CLOSED [120]
    lesson kernels at most per user server, the address-space limit of each, and the
    seconds before the kernel of a closed lesson page is shut down (teachkit's lessons
    server; etc/jupyter/jupyter_server_config.py); passed on to every server.
TEACHKIT_HUB_MEM_LIMIT [2G]
    memory limit shown to each server (LocalProcessSpawner does not enforce it:
    see the guide, "Sizing").
TEACHKIT_HUB_PROXY [configurable-http-proxy on PATH]
    the proxy command, e.g. /opt/teachkit/node/bin/configurable-http-proxy.
"""

import grp
import os
import pwd
import shutil
import stat
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets)

env = os.environ.get


def _names(value):
    return {n.strip() for n in (value or "").split(",") if n.strip()}


IP = env("TEACHKIT_HUB_IP", "127.0.0.1")
PORT = int(env("TEACHKIT_HUB_PORT", "8000"))
AUTH = env("TEACHKIT_HUB_AUTH", "pam")
INSTRUCTORS = _names(env("TEACHKIT_HUB_INSTRUCTORS"))
STUDENTS = _names(env("TEACHKIT_HUB_STUDENTS"))
STUDENTS_GROUP = env("TEACHKIT_HUB_STUDENTS_GROUP", "teachkit-students")
STATE_DIR = Path(env("TEACHKIT_HUB_STATE_DIR", "/srv/jupyterhub"))
JUPYTER_CONFIG = Path(env("TEACHKIT_HUB_JUPYTER_CONFIG", "/etc/jupyter"))
EXCHANGE = env("TEACHKIT_NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
SERVER_CULL = int(env("TEACHKIT_HUB_SERVER_CULL_TIMEOUT", "3600"))
KERNEL_CULL = env("TEACHKIT_KERNEL_CULL_IDLE_TIMEOUT", "900")
KERNEL_CULL_INTERVAL = env("TEACHKIT_KERNEL_CULL_INTERVAL", "60")

if not INSTRUCTORS:
    raise SystemExit("jupyterhub_config.py: set TEACHKIT_HUB_INSTRUCTORS (comma-separated user names)")

# --- network -------------------------------------------------------------------------
c.JupyterHub.bind_url = f"http://{IP}:{PORT}"
if env("TEACHKIT_HUB_SSL_CERT"):
    c.JupyterHub.ssl_cert = env("TEACHKIT_HUB_SSL_CERT")
    c.JupyterHub.ssl_key = env("TEACHKIT_HUB_SSL_KEY")
    c.JupyterHub.bind_url = f"https://{IP}:{PORT}"
# The hub's internal API and the proxy's API stay on the loopback interface.
c.JupyterHub.hub_ip = "127.0.0.1"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(env('TEACHKIT_HUB_PROXY_API_PORT', PORT + 1))}"
c.JupyterHub.hub_port = int(env("TEACHKIT_HUB_INTERNAL_PORT", PORT + 2))
if env("TEACHKIT_HUB_PROXY"):
    c.ConfigurableHTTPProxy.command = [env("TEACHKIT_HUB_PROXY")]

# --- state: database, cookie secret, proxy token (root only) ----------------------------
STATE_DIR.mkdir(parents=True, exist_ok=True)
os.chmod(STATE_DIR, 0o700)
c.JupyterHub.db_url = f"sqlite:///{STATE_DIR / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE_DIR / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE_DIR / "jupyterhub.pid")

# --- who may log in ---------------------------------------------------------------------
if AUTH == "pam":
    c.JupyterHub.authenticator_class = "pam"
    # Accounts are made by the administrator (useradd), never by the hub.
    c.LocalAuthenticator.create_system_users = False
    if STUDENTS_GROUP:
        try:
            grp.getgrnam(STUDENTS_GROUP)
            c.LocalAuthenticator.allowed_groups = {STUDENTS_GROUP}
        except KeyError:
            pass
elif AUTH == "dummy":
    # Only to try the hub out: one shared password, never on a network.
    if IP != "127.0.0.1":
        raise SystemExit("TEACHKIT_HUB_AUTH=dummy is only allowed with TEACHKIT_HUB_IP=127.0.0.1")
    if not env("TEACHKIT_HUB_DUMMY_PASSWORD"):
        raise SystemExit("TEACHKIT_HUB_AUTH=dummy needs TEACHKIT_HUB_DUMMY_PASSWORD")
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = env("TEACHKIT_HUB_DUMMY_PASSWORD")
else:
    raise SystemExit(f"TEACHKIT_HUB_AUTH must be 'pam' or 'dummy', not {AUTH!r}")
c.Authenticator.admin_users = INSTRUCTORS
c.Authenticator.allowed_users = INSTRUCTORS | STUDENTS
# Names are Unix accounts: no case games.
c.Authenticator.username_pattern = r"^[a-z_][a-z0-9_-]{0,31}$"

# --- the user servers ------------------------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
# The Python that runs the hub runs every server: it must be executable by every
# user (install.sh puts it in /opt/teachkit, never under /root).
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab"
c.Spawner.mem_limit = env("TEACHKIT_HUB_MEM_LIMIT", "2G")
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 120
c.Spawner.environment = {
    # Read by etc/jupyter/jupyter_server_config.py and nbgrader_config.py.
    "TEACHKIT_KERNEL_CULL_IDLE_TIMEOUT": KERNEL_CULL,
    "TEACHKIT_KERNEL_CULL_INTERVAL": KERNEL_CULL_INTERVAL,
    "TEACHKIT_LESSON_MAX_KERNELS": env("TEACHKIT_LESSON_MAX_KERNELS", "4"),
    "TEACHKIT_LESSON_KERNEL_MEMORY": env("TEACHKIT_LESSON_KERNEL_MEMORY", "1G"),
    "TEACHKIT_LESSON_CULL_CLOSED": env("TEACHKIT_LESSON_CULL_CLOSED", "120"),
    "TEACHKIT_NBGRADER_EXCHANGE": EXCHANGE,
    # nbgrader runs `alembic` from PATH; the venv's bin goes first.
    "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
}
if JUPYTER_CONFIG != Path("/etc/jupyter"):
    # The system-wide files live elsewhere (tests, or a site without /etc access).
    c.Spawner.environment["JUPYTER_CONFIG_PATH"] = str(JUPYTER_CONFIG)


def installed_lessons() -> Path:
    """The lessons shipped inside the installed teachkit (never the course sources)."""
    from teachkit.cli import lessons_dir

    return lessons_dir()


def _copy_lessons(home: Path, uid: int, gid: int) -> None:
    """Give ``~/lessons`` the installed lessons: notebooks and voila.json only, refreshed
    at every start (a student's own files in that folder are left alone)."""
    src = installed_lessons()
    dst = home / "lessons"
    dst.mkdir(mode=0o755, exist_ok=True)
    os.chown(dst, uid, gid)
    for path in sorted(src.iterdir()):
        if path.is_file() and (path.suffix == ".ipynb" or path.name == "voila.json"):
            target = dst / path.name
            if target.is_symlink():
                target.unlink()
            shutil.copyfile(path, target)
            os.chown(target, uid, gid)
            os.chmod(target, 0o644)


INSTRUCTOR_NBGRADER_CONFIG = """\
# Written by the hub's spawn hook (deploy/jupyterhub/jupyterhub_config.py): the
# formgrader and the nbgrader commands find the course in ~/course.
import os
c = get_config()  # noqa: F821
_course = os.path.expanduser("~/course/nbgrader_config.py")
if os.path.exists(_course):
    load_subconfig(_course)  # noqa: F821  (sets the course root to ~/course)
"""


def _instructor_course(home: Path, uid: int, gid: int) -> None:
    """The course lives in ~/course (a copy of the repository's course/), private to the
    instructor; ~/.jupyter/nbgrader_config.py points nbgrader at it."""
    course = home / "course"
    if course.is_dir():
        os.chmod(course, 0o700)
    cfg = home / ".jupyter" / "nbgrader_config.py"
    if not cfg.exists():
        cfg.parent.mkdir(mode=0o700, exist_ok=True)
        os.chown(cfg.parent, uid, gid)
        cfg.write_text(INSTRUCTOR_NBGRADER_CONFIG)
        os.chown(cfg, uid, gid)


def pre_spawn_hook(spawner):
    """Private home (0700), the lessons for everybody, the formgrader for instructors."""
    name = spawner.user.name
    account = pwd.getpwnam(name)
    home = Path(account.pw_dir)
    if not home.is_dir():
        raise RuntimeError(f"{name} has no home folder {home}: create the account with useradd -m")
    # useradd makes world-readable homes on many systems: students would read each other's work.
    os.chmod(home, stat.S_IMODE(home.stat().st_mode) & 0o700 | 0o700)
    _copy_lessons(home, account.pw_uid, account.pw_gid)
    role = "instructor" if name in INSTRUCTORS else "student"
    if role == "instructor":
        _instructor_course(home, account.pw_uid, account.pw_gid)
    spawner.environment["TEACHKIT_COURSE_ROLE"] = role
    if role == "student":
        spawner.default_url = "/voila/tree/lessons"


c.Spawner.pre_spawn_hook = pre_spawn_hook

# --- idle servers are stopped by jupyterhub-idle-culler ---------------------------------------
c.JupyterHub.load_roles = [
    {
        "name": "teachkit-idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                    f"--timeout={SERVER_CULL}", f"--cull-every={max(10, min(300, SERVER_CULL // 4))}"],
    }
]
