#!/usr/bin/env bash
# Install the teachkit hub on one Linux machine (Debian/Ubuntu tested), as root, from a
# clone of the repository:   sudo deploy/jupyterhub/install.sh
# What it does (README.md here explains each step):
#   1. a venv in $TEACHKIT_PREFIX (/opt/teachkit/venv) that every user can execute, with
#      teachkit[lessons,grading,hub] (JupyterHub, jupyterhub-idle-culler, nbgrader, Voila);
#   2. configurable-http-proxy from npm in $TEACHKIT_PREFIX/node;
#   3. /etc/jupyter/{nbgrader_config.py,voila.json,jupyter_server_config.py};
#   4. /etc/teachkit/jupyterhub_config.py, /etc/teachkit/hub.env (kept if present) and a
#      systemd unit teachkit-hub.service (not started);
#   5. the nbgrader exchange /srv/nbgrader/exchange (root, 1777), the hub's state folder
#      /srv/jupyterhub (root, 0700), the group teachkit-students, and HOME_MODE 0700 for
#      homes made by useradd from now on.
# Environment: TEACHKIT_PREFIX (/opt/teachkit), PYTHON (python3), TEACHKIT_SKIP_APT=1 to
# skip apt-get (python3-venv, nodejs, npm).
set -euo pipefail

PREFIX="${TEACHKIT_PREFIX:-/opt/teachkit}"
PYTHON="${PYTHON:-python3}"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

if [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (it creates /opt/teachkit, /etc/jupyter, /srv/nbgrader)" >&2
  exit 1
fi
case "$PREFIX" in
  /root/*|/home/*) echo "install.sh: $PREFIX must be readable by every user (not under /root or a home)" >&2; exit 1;;
esac

if [ "${TEACHKIT_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
  # only what is missing: NodeSource's nodejs bundles npm and conflicts with Debian's npm
  need=()
  "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3-venv)
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  # the course's autograding sandbox (the formgrader's Autograde runs in the instructor's server)
  command -v bwrap >/dev/null || need+=(bubblewrap)
  [ "${#need[@]}" -eq 0 ] || apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== 1. venv $PREFIX/venv"
umask 022
install -d -m 0755 "$PREFIX"
[ -x "$PREFIX/venv/bin/python" ] || "$PYTHON" -m venv "$PREFIX/venv"
PIP="$PREFIX/venv/bin/python -m pip --disable-pip-version-check -q"
$PIP install --upgrade pip
# Binder's exact pins where they install on this Python (the stack the tests run on), as the
# Makefile decides; otherwise (another Python, or a 3.11 older than a pinned wheel needs, such
# as Debian 12's 3.11.2) pip resolves from pyproject.toml's ranges, saying so.
PINS=""
if "$PREFIX/venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
   && $PIP install --dry-run --no-deps -r "$REPO/binder/requirements.txt" >/dev/null 2>&1; then
  PINS="-c $REPO/binder/requirements.txt"
else
  echo "install.sh: Binder's pins do not install on $("$PREFIX/venv/bin/python" -V): resolving from pyproject.toml's ranges"
fi
# Not editable: the venv must not depend on the clone (which may be where users cannot go).
$PIP install $PINS "$REPO[lessons,grading,hub]"
# The interpreter and the packages must work for a user who is not root.
if ! runuser -u nobody -- "$PREFIX/venv/bin/python" -c \
    "import teachkit, nbgrader, voila, jupyterhub, soupsieve; soupsieve.compile('img:not([alt])')"; then
  echo "install.sh: $PREFIX/venv does not work for other users (a Python under /root?), or this" >&2
  echo "  Python is too old for the pinned soupsieve (Debian's 3.11.2 is: use PYTHON=python3.12 or 3.11.7+)" >&2
  exit 1
fi

echo "== 2. configurable-http-proxy"
npm install --silent --prefix "$PREFIX/node" --no-audit --no-fund configurable-http-proxy@5
ln -sf "$PREFIX/node/node_modules/.bin/configurable-http-proxy" "$PREFIX/venv/bin/configurable-http-proxy"

echo "== 3. /etc/jupyter"
install -d -m 0755 /etc/jupyter
install -m 0644 "$HERE"/etc/jupyter/nbgrader_config.py "$HERE"/etc/jupyter/voila.json \
  "$HERE"/etc/jupyter/jupyter_server_config.py /etc/jupyter/

echo "== 4. /etc/teachkit and the systemd unit"
install -d -m 0755 /etc/teachkit
install -m 0644 "$HERE/jupyterhub_config.py" /etc/teachkit/jupyterhub_config.py
if [ ! -f /etc/teachkit/hub.env ]; then
  install -m 0600 /dev/null /etc/teachkit/hub.env
  cat > /etc/teachkit/hub.env <<ENV
# Read by teachkit-hub.service (see deploy/jupyterhub/README.md and jupyterhub_config.py).
TEACHKIT_HUB_INSTRUCTORS=instructor
TEACHKIT_HUB_STUDENTS_GROUP=teachkit-students
TEACHKIT_HUB_IP=127.0.0.1
TEACHKIT_HUB_PORT=8000
TEACHKIT_HUB_PROXY=$PREFIX/venv/bin/configurable-http-proxy
ENV
fi
if [ -d /etc/systemd/system ]; then
  cat > /etc/systemd/system/teachkit-hub.service <<UNIT
[Unit]
Description=JupyterHub for a teachkit class
After=network.target

[Service]
User=root
WorkingDirectory=/srv/jupyterhub
EnvironmentFile=/etc/teachkit/hub.env
Environment=PATH=$PREFIX/venv/bin:/usr/local/bin:/usr/bin:/bin
ExecStart=$PREFIX/venv/bin/jupyterhub -f /etc/teachkit/jupyterhub_config.py
KillMode=mixed
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
fi

echo "== 5. exchange, state, group, private homes"
install -d -m 0755 /srv/nbgrader
install -d -o root -g root -m 1777 /srv/nbgrader/exchange
install -d -m 0700 /srv/jupyterhub
getent group teachkit-students >/dev/null || groupadd teachkit-students
if [ -f /etc/login.defs ]; then
  if grep -q '^HOME_MODE' /etc/login.defs; then
    sed -i 's/^HOME_MODE.*/HOME_MODE\t0700/' /etc/login.defs
  else
    printf 'HOME_MODE\t0700\n' >> /etc/login.defs
  fi
fi

echo "Installed. Next: edit /etc/teachkit/hub.env, create the accounts, then"
echo "  systemctl daemon-reload && systemctl enable --now teachkit-hub   (or run ExecStart by hand)"
