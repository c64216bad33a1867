"""The browser tests fail (CI) or skip (elsewhere) when Chromium is missing."""

from __future__ import annotations

import pytest
from _pytest.outcomes import Failed, Skipped



def _conftest():
    import sys

    for name, module in sys.modules.items():
        if name.endswith("conftest") and hasattr(module, "require_chromium"):
            return module
    raise LookupError("tests/conftest.py not loaded")


@pytest.mark.parametrize("in_ci, outcome", [(True, Failed), (False, Skipped)])
def test_missing_chromium(monkeypatch, in_ci, outcome):
    conf = _conftest()
    monkeypatch.setattr(conf, "chromium_executable", lambda: None)
    with pytest.raises(outcome) as info:
        conf.require_chromium(in_ci=in_ci)
    assert "apt-get install chromium" in str(info.value)


def test_chromium_found_when_installed(monkeypatch):
    conf = _conftest()
    monkeypatch.setattr(conf, "chromium_executable", lambda: "/usr/bin/chromium")
    assert conf.require_chromium(in_ci=True) == "/usr/bin/chromium"
