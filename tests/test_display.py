"""teachkit._display: the one renderer behind StepTable, the Cox/zph summaries, risk and PublishedTable."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

import teachkit as tk
from teachkit import _display


def _html_cells(html_text):
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", html_text)]


def test_text_table_aligns_and_strips():
    text = _display.text_table(["name", "n"], [["a", "1"], ["longer", "100"]], align="lr",
                               title="T", notes=["note"])
    assert text.splitlines() == ["T", "name      n", "a         1", "longer  100", "note"]
    assert _display.text_table(["x"], []) == "x"


def test_html_escapes_and_matches_the_text():
    header, rows = ["a<b", "n"], [["x & y", "1"], ["<script>", "2"]]
    out = _display.html_table(header, rows, align="lr", title="t<1>", notes=["p < .05"])
    assert "<script>" not in out and "&lt;script&gt;" in out and "<caption>t&lt;1&gt;</caption>" in out
    assert "p &lt; .05" in out
    assert _html_cells(out) == header + rows[0] + rows[1]


@pytest.mark.parametrize("kwargs, match", [
    (dict(header=["a", "b"], rows=[["1"]]), "every row must have 2 cells"),
    (dict(header=["a", "b"], rows=[["1", "2"]], align="l"), "align must be one"),
    (dict(header=["a"], rows=[["1"]], align="c"), "align must be one"),
])
def test_bad_layouts_are_named(kwargs, match):
    for render in (_display.text_table, _display.html_table):
        with pytest.raises(ValueError, match=match):
            render(**kwargs)


def _same_cells(text, html_text):
    """Every cell of the HTML table appears, in order, on the text table's lines."""
    cells = [c for c in _html_cells(html_text) if c]
    joined = " ".join(text.split())
    pos = 0
    for c in cells:
        pos = joined.find(" ".join(c.split()), pos)
        assert pos >= 0, c


def test_one_look_for_every_result():
    d = tk.datasets.freireich()
    km = tk.survival.kaplan_meier(d.time, d.event)
    _same_cells(repr(km.table()), km.table()._repr_html_())
    fit = tk.cox.cox_ph(d.time, d.event, {"6-MP": (d.group == "6-MP").astype(float)})
    _same_cells(fit.table(), fit._repr_html_())
    zph = tk.cox.proportional_hazards_test(fit)
    _same_cells(zph.table(), zph._repr_html_())
    t2 = tk.aall1331.table2()
    _same_cells(t2.table(), t2._repr_html_())
    imb = tk.risk.imbalance(np.array([[True, False, True]]), strata=["a", "a", "b"])
    _same_cells(imb.table(), imb._repr_html_())
    res = tk.risk.explain_risk_group("marrow", 40, mrd=1.0)
    assert "&gt;= 36 months" in res._repr_html_() and ">= 36 months" in res.table()
