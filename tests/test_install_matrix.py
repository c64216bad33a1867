"""The front door: which Pythons are supported, how they install, what a wheel carries."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "teachkit" / "_jupyter" / "voila" / "templates" / "teachkit"


def makefile_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*\??=\s*(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, f"Makefile defines no {name}"
    return match.group(1).strip()


def test_every_python_tested_is_declared_supported():
    """make test-matrix's Pythons and Binder's 3.11 are exactly pyproject's classifiers."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {c.rsplit(":: ", 1)[1] for c in project["classifiers"]
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    binder = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    tested = set(makefile_variable("MATRIX").split()) | {binder}
    assert tested == declared, f"tested {sorted(tested)} but pyproject declares {sorted(declared)}"
    low = min(tested, key=lambda v: tuple(map(int, v.split("."))))
    assert project["requires-python"] == f">={low}"


def test_ci_checks_debian_python_and_the_matrix():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci
    assert "check-install PYTHON=/usr/bin/python3" in ci
    # the README's command, its failure kept (`make test || suite=$?`), and the matrix beside it,
    # waited for, whose failure fails the run too
    assert re.search(r"^make test( \|\| suite=\$\?)?$", ci, re.MULTILINE)
    assert re.search(r"^make --no-print-directory test-matrix .*&$", ci, re.MULTILINE)
    assert 'wait "$matrix_pid"' in ci
    assert re.search(r'^\[ "\$suite" -eq 0 \] \|\|', ci, re.MULTILINE)
    assert re.search(r'^\[ "\$matrix" -eq 0 \] \|\|', ci, re.MULTILINE)
    for package in ("chromium", "python3-venv"):
        assert package in ci


@pytest.mark.parametrize("name", ["index.html.j2", "page.html"])
def test_template_loads_nothing_from_outside(name):
    """teachkit's Voila template names no outside URL (Voila's lab template links CDNs)."""
    text = (TEMPLATE / name).read_text()
    code = re.sub(r"\{#.*?#\}", "", text, flags=re.DOTALL)  # Jinja comments may name them
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", code, re.IGNORECASE)


def test_lessons_use_the_offline_template():
    import json

    for conf in (ROOT / "voila.json", ROOT / "lessons" / "voila.json"):
        assert json.loads(conf.read_text())["VoilaConfiguration"]["template"] == "teachkit", conf


@pytest.mark.slow
def test_wheel_installs_the_template_where_voila_looks(tmp_path):
    """The wheel's data goes to <prefix>/share/jupyter/voila/templates/teachkit: the Voila
    server extension (Binder, a hub) finds templates there."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("teachkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for f in ("conf.json", "index.html.j2", "page.html"):
        assert any(n.endswith(f".data/data/share/jupyter/voila/templates/teachkit/{f}") for n in names), f


def test_a_changed_template_reinstalls(tmp_path):
    """An editable install copies pyproject's shared-data (the Voila template, the server
    config) into the venv: `make test` and `make lessons` must reinstall when one changes, or
    a server that reads the venv's copy (Binder's path, a hub) serves the old template."""
    import os
    import shutil
    import subprocess

    if not shutil.which("make"):
        pytest.skip("needs make")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")        # the order-only prerequisite
    template = ROOT / "teachkit/_jupyter/voila/templates/teachkit/index.html.j2"
    inputs = [ROOT / "pyproject.toml", ROOT / "binder/requirements.txt", ROOT / "teachkit/_wsguard.json",
              *sorted((ROOT / "teachkit/_jupyter/voila/templates/teachkit").iterdir())]
    newest = max(p.stat().st_mtime for p in inputs)
    before = template.stat()

    def up_to_date(stamp):
        return subprocess.run(["make", "-q", f"VENV={venv}", str(venv / stamp)], cwd=ROOT,
                              capture_output=True).returncode == 0

    try:
        for stamp in (".stamp-test", ".stamp-lessons"):
            (venv / stamp).touch()
            os.utime(venv / stamp, (newest + 10, newest + 10))
            assert up_to_date(stamp), "a fresh stamp should need nothing"
            os.utime(template, (newest + 20, newest + 20))          # the template changed
            assert not up_to_date(stamp), f"{stamp} does not depend on the Voila template"
            os.utime(template, ns=(before.st_atime_ns, before.st_mtime_ns))
    finally:
        os.utime(template, ns=(before.st_atime_ns, before.st_mtime_ns))
