"""Binder opens the lessons in Voila, on exactly the stack the test suite runs on."""

from __future__ import annotations

import json
import os
import stat
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
BINDER_PYTHON = (3, 11)


def pins():
    out = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        spec = list(req.specifier)
        assert len(spec) == 1 and spec[0].operator == "==", f"binder pin {line!r} is not exact (==)"
        out[canonicalize_name(req.name)] = Version(spec[0].version)
    return out


def project_requirements(*extras):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return project, reqs


def test_every_pin_satisfies_pyproject():
    pinned = pins()
    _, reqs = project_requirements("lessons", "grading", "test")
    for req in reqs:
        name = canonicalize_name(req.name)
        if name in pinned:
            assert req.specifier.contains(pinned[name], prereleases=True), (
                f"binder pins {name}=={pinned[name]} but pyproject asks {req}")


def test_runtime_and_lesson_dependencies_are_all_pinned():
    pinned = pins()
    _, reqs = project_requirements("lessons")
    missing = [str(r) for r in reqs if canonicalize_name(r.name) not in pinned]
    assert not missing, f"binder/requirements.txt lacks {missing}"


def test_binder_python_is_supported():
    project, _ = project_requirements()
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert runtime == "python-%d.%d" % BINDER_PYTHON
    from packaging.specifiers import SpecifierSet

    assert SpecifierSet(project["requires-python"]).contains("%d.%d" % BINDER_PYTHON)


def test_postbuild_installs_teachkit_and_stops_on_error():
    post = BINDER / "postBuild"
    assert post.stat().st_mode & stat.S_IXUSR, "binder/postBuild must be executable"
    lines = [ln.strip() for ln in post.read_text().splitlines()]
    code = [ln for ln in lines if ln and not ln.startswith("#")]
    assert lines[0].startswith("#!"), "postBuild needs a shebang"
    assert code[0] == "set -e", "postBuild must start with `set -e`"
    assert any("pip install --no-deps" in ln and ln.rstrip().endswith(" .") for ln in code)


def test_tests_run_on_the_binder_stack():
    """make test installs with binder/requirements.txt as constraints where they install
    (Python 3.11 recent enough), and records in <venv>/teachkit-stack.txt whether it did."""
    if sys.version_info[:2] != BINDER_PYTHON:
        pytest.skip(f"declared variant: Python {sys.version_info[0]}.{sys.version_info[1]} "
                    "resolves freely (binder pins are for Python 3.11)")
    if os.environ.get("TEACHKIT_STACK_VARIANT"):
        pytest.skip(f"declared variant: {os.environ['TEACHKIT_STACK_VARIANT']}")
    stack = Path(sys.prefix) / "teachkit-stack.txt"
    if not stack.is_file():
        pytest.skip(f"this environment ({sys.prefix}) was not installed by the Makefile "
                    "(no teachkit-stack.txt): which stack it holds is not declared")
    recorded = stack.read_text().strip()
    if recorded != "binder-pins":
        pytest.skip(f"declared variant: {recorded}")
    differ = {}
    for name, version in pins().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            differ[name] = (str(version), "not installed")
            continue
        if installed != version:
            differ[name] = (str(version), str(installed))
    assert not differ, f"installed stack differs from binder pins (pin, installed): {differ}"


def test_voila_opens_the_lessons_tree_on_binder():
    root = json.loads((ROOT / "voila.json").read_text())["VoilaConfiguration"]
    lessons = json.loads((ROOT / "lessons" / "voila.json").read_text())["VoilaConfiguration"]
    for conf in (root, lessons):
        assert conf["classic_tree"] is True
        assert conf["strip_sources"] is True
        assert conf["show_tracebacks"] is False
        assert "@jupyter/nbgrader" in conf["extension_denylist"]
    readme = (ROOT / "README.md").read_text()
    assert "mybinder.org/v2/gh/" in readme and "urlpath=voila/tree/lessons" in readme
