"""The `teachkit` console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from teachkit import cli

ROOT = Path(__file__).resolve().parents[1]


def test_check_passes_on_this_installation():
    result = subprocess.run([sys.executable, "-m", "teachkit.cli", "check"], capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("numpy", "scipy", "matplotlib", "ipywidgets", "voila"):
        assert name in result.stdout
    assert "[ok]   kernel" in result.stdout
    assert "everything works" in result.stdout


def test_check_fails_clearly_when_something_is_missing(monkeypatch, capsys):
    real = cli._version
    monkeypatch.setattr(cli, "_version", lambda name: None if name == "voila" else real(name))
    assert cli.main(["check", "--core"]) == 0  # the library alone does not need Voila
    capsys.readouterr()
    assert cli.main(["check"]) == 1
    out = capsys.readouterr()
    assert "voila is missing" in out.err
    assert "pip install 'teachkit[lessons" in out.err


def test_check_reports_a_broken_kernel(monkeypatch, capsys):
    def broken(timeout=60):
        raise RuntimeError("no kernel could start")

    monkeypatch.setattr(cli, "_check_kernel", broken)
    assert cli.main(["check"]) == 1
    assert "kernel: RuntimeError: no kernel could start" in capsys.readouterr().err


def test_lessons_folder_is_found():
    folder = cli.lessons_dir()
    assert (folder / "voila.json").is_file()
    assert (folder / "00-the-trial.ipynb").is_file()


def test_voila_command_serves_with_preheated_kernels():
    cmd = cli.voila_command(Path("lessons"), 8870)
    assert cmd[:3] == [sys.executable, "-m", "teachkit._wsguard"]  # Voila with the websocket guard
    assert "--port=8870" in cmd and "--no-browser" in cmd
    assert "--preheat_kernel=True" in cmd
    assert "--preheat_kernel=True" not in cli.voila_command(Path("lessons"), 8870, preheat=False)


@pytest.mark.parametrize("argv, message", [
    (["lessons", "--port", "0"], "--port must be between 1 and 65535"),
    (["lessons", "--source", "no/such/folder"], "is not a folder"),
])
def test_lessons_rejects_bad_arguments(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_console_script_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'teachkit = "teachkit.cli:main"' in text
