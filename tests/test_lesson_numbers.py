"""The trial's numbers in a lesson are computed or read by teachkit, never typed.

A lesson that types "54.4%" goes stale the day the data module is corrected, and
teaches nothing about where the number comes from.  So every number that the paper
reports (every numeric value of a fact in :mod:`teachkit.aall1331`, with its
percentage form: 0.544 is also 54.4) must not appear as a literal anywhere in a
lesson's Markdown or code (strings, f-strings and comments included).  A lesson gets
such a number from ``tk.aall1331.fact(...)`` or from a teachkit result, and shows it
with ``IPython.display.Markdown(f"...")``.

A number passed as an argument to a teachkit function is typed all the same
(``interim_report(80, 131, 0.06)`` hides the trial's numbers in code): read it with
``fact()``.

Integers below 10 are not checked: they are the words of ordinary sentences (two
arms, lesson 05, 1 patient) far more often than published results.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.ipynb"))

# A number as written: 131, 54.4, 0.70, .004 (not part of a name such as dfs_2y, a
# colour such as #009E73, a format spec such as {x:.1%}, or a longer number).
NUMBER = re.compile(r"(?<![\w.#:])(\d+\.\d+|\d+|\.\d+)(?![\w.]?\d)(?![A-Za-z_])")


def _numbers(node):
    """All numbers inside a fact's value or extra fields (nested mappings, tuples)."""
    if isinstance(node, bool) or node is None or isinstance(node, str):
        return
    if isinstance(node, (int, float)):
        if math.isfinite(node):
            yield node
        return
    if hasattr(node, "values"):
        for v in node.values():
            yield from _numbers(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _numbers(v)


def published_numbers():
    """Every number the paper reports, as teachkit stores it, with the fact it came from.

    Returns a dict ``round(number, 9) -> fact name``; a proportion p in (0, 1) is also
    listed as the percentage 100 p (the paper prints 54.4%, the fact is 0.544).
    """
    from teachkit import aall1331

    out = {}
    for f in aall1331.iter_facts():
        for x in list(_numbers(f.value)) + list(_numbers(dict(f.extra))):
            forms = [x]
            if isinstance(x, float) and 0 < x < 1:
                forms.append(100 * x)
            for v in forms:
                key = round(float(v), 9)
                if float(key).is_integer() and abs(key) < 10:
                    continue
                out.setdefault(key, f.name)
    return out


def typed_numbers(text, published):
    """The published numbers written as literals in ``text``: list of (literal, fact)."""
    found = []
    for m in NUMBER.finditer(text):
        literal = m.group(1)
        value = round(float(literal), 9)
        if "." not in literal and abs(value) < 10:
            continue
        if value in published:
            found.append((literal, published[value]))
    return found


#: A lesson's stated reading times: on its line that starts with ⏱ ("⏱ **About 17 minutes** (the
#: story) · folded parts for the statistician: about 4 minutes more, optional.") and at the end of
#: a fold's summary heading ("### For the statistician: ... (optional, about 10 min)"). They are
#: durations, not trial numbers (every integer from 10 to 40 is also a published count). Only
#: those "about N minutes/min" are skipped; any other number on those lines is checked.
TIME_LINE = re.compile(r"^⏱[^\n]*$", re.M)
DURATION = re.compile(r"\b[Aa]bout \d+ minutes\b")
FOLD_SUMMARY = re.compile(r"^(#+ [^\n]*)\(optional, about \d+ min\)[ \t]*$", re.M)


def _without_reading_times(text):
    text = TIME_LINE.sub(lambda m: DURATION.sub("", m.group(0)), text)
    return FOLD_SUMMARY.sub(lambda m: m.group(1), text)


def typed_in_notebook(nb, published):
    """(cell index, cell type, literal, fact) for every typed published number."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type not in ("markdown", "code"):
            continue
        source = _without_reading_times(cell.source) if cell.cell_type == "markdown" else cell.source
        for literal, name in typed_numbers(source, published):
            out.append((i, cell.cell_type, literal, name))
    return out


@pytest.fixture(scope="module")
def published():
    numbers = published_numbers()
    # the facts the issue names must be among them (else this test checks nothing)
    for x in (54.4, 39.0, 0.7, 0.47, 1.03, 71.3, 58.4, 0.62, 0.39, 0.98, 80, 131, 0.06, 0.004,
              208, 105, 103, 2.9, 0.58, 0.024):
        assert round(x, 9) in numbers, f"{x} is not a published number in teachkit.aall1331"
    return numbers


def test_there_are_lessons():
    # the eight lessons of issue 7, 00 to 07 (a lesson that goes missing must not
    # silently shrink what this test checks)
    assert [p.name[:2] for p in LESSONS][:8] == [f"{i:02d}" for i in range(8)], [p.name for p in LESSONS]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_published_number_is_typed(path, published):
    nb = nbformat.read(path, as_version=4)
    typed = typed_in_notebook(nb, published)
    assert not typed, f"{path.name} types published numbers (read them with fact()): " + "; ".join(
        f"cell {i} ({kind}): {lit!r} = {name}" for i, kind, lit, name in typed)


# ---- the checker can fail ---------------------------------------------------------------

def _fake_notebook(markdown, code):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_code_cell(code)]
    return nb


@pytest.mark.parametrize("markdown, code, expected", [
    ("2-year DFS was 54.4% with blinatumomab.", "x = 1", {"54.4"}),
    ("The boundary was P = .004.", "", {".004"}),
    ("", "report = tk.sequential.interim_report(80, 131, 0.06)", {"80", "131", "0.06"}),
    ("", "display(Markdown(f'HR 0.70 (95% CI, 0.47-1.03)'))", {"0.70", "0.47", "1.03"}),
    ("", "# 208 patients were analysed", {"208"}),
    ("Of 105 + 103 patients", "", {"105", "103"}),
    # the reading times on the ⏱ line are not checked; any other number is
    ("⏱ **About 17 minutes** (the story) · folded parts: about 4 minutes more.\n80 of 131 events",
     "", {"80", "131"}),
    ("⏱ **About 17 minutes** (the story), with 2-year DFS 54.4%", "", {"54.4"}),
    ("We waited about 17 minutes for the 131 events.", "", {"17", "131"}),
    ("### For the statistician: why 131 events? (optional, about 10 min)", "", {"131"}),
    ("The fold takes (optional, about 10 min) to read.", "", {"10"}),
])
def test_checker_finds_typed_numbers(markdown, code, expected, published):
    found = {lit for _, _, lit, _ in typed_in_notebook(_fake_notebook(markdown, code), published)}
    assert found == expected


@pytest.mark.parametrize("markdown, code", [
    ("Lesson 05: two arms, 1 patient, 3 looks.", "F = tk.aall1331.fact"),
    ("", "dfs = F('results.dfs_2y').value['blinatumomab']"),
    ("", "display(Markdown(f'2-year DFS was {dfs:.1%}; colour #009E73'))"),
    ("", "x = cycle_1 + dfs_2y"),
])
def test_checker_accepts_computed_numbers(markdown, code, published):
    assert typed_in_notebook(_fake_notebook(markdown, code), published) == []


def test_published_numbers_include_percent_forms(published):
    assert published[54.4] == "results.dfs_2y"
    assert published[0.544] == "results.dfs_2y"
    assert 3 not in published  # small integers are not checked
