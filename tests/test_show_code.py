"""'Show the code': every explorer's code, run on its own, gives the explorer's numbers."""

from __future__ import annotations

import html

import pytest

from teachkit import explorers

CASES = [(cls, i) for cls in explorers.ALL for i in range(2)]


def _params(cls, i):
    params = cls.example_params()[i]
    if cls is explorers.TrialReplayer:
        params = {**params, "n_trials": 500}  # the same code, fewer replays
    return params


@pytest.mark.parametrize("cls, i", CASES, ids=[f"{c.__name__}-{i}" for c, i in CASES])
def test_code_reproduces_the_explorers_numbers(cls, i):
    params = _params(cls, i)
    ex = cls(**params)
    source = ex.code()
    assert "import teachkit as tk" in source
    namespace: dict = {}
    exec(compile(source, f"<{cls.__name__}.code>", "exec"), namespace)  # noqa: S102
    # the description carries every number the picture shows
    assert ex.describe(namespace["result"]) == ex.describe(ex.result)


def test_show_the_code_is_collapsed_and_follows_the_controls():
    ex = explorers.EventsPlanner()
    box = ex.widget
    assert ex._code_html.layout.display == "none" and ex._code_html.value == ""
    assert ex._code_button.description == "Show the code"
    ex._code_button.click()
    assert ex._code_html.layout.display != "none"
    assert ex._code_button.description == "Hide the code"
    ex.update(hazard_ratio=0.7)
    shown = html.unescape(ex._code_html.value)
    assert "hazard_ratio=0.7" in shown and shown.startswith("<pre><code>")
    ex._code_button.click()
    assert ex._code_html.layout.display == "none"
    assert box is ex.widget
