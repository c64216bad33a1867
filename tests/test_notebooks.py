"""Every lesson notebook runs top to bottom in a fresh kernel, and is committed clean."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.ipynb"))


def test_there_are_lessons():
    assert LESSONS, "no lessons/NN-*.ipynb found"
    assert LESSONS[0].name == "00-the-trial.ipynb"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_is_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; strip them before committing"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_executes_without_error(path, monkeypatch):
    # a figure that looks broken (teachkit.plots.figure_problems) stops the lesson here
    monkeypatch.setenv("TEACHKIT_STRICT_FIGURES", "1")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", (
                f"{path.name} cell {index}: {output.get('ename')}: {output.get('evalue')}")
            if output["output_type"] == "stream":
                assert output["name"] != "stderr", f"{path.name} cell {index} wrote to stderr: {output['text'][:500]}"
    shown = sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
    assert shown > 0, f"{path.name} shows nothing"
    # nothing shown is just None or nan (a display(...) of a function that returns None)
    bare = [i for i, c in enumerate(nb.cells) for o in c.get("outputs", [])
            if o.get("data", {}).get("text/plain", "").strip() in ("None", "nan") and len(o.get("data", {})) == 1]
    assert not bare, f"{path.name}: cells {bare} show a bare None or nan"


# ---- two layers (issue 26): the conventions a lesson is written to ---------------------
# A story cell has no tag; a depth cell carries the tag "depth"; a fold is a run of
# consecutive depth cells whose first is markdown with the fold's summary as its first line.
# The rendered story is checked in the browser (tests/test_lessons_browser.py); these check
# the notebooks themselves, fast, for the lesson writers.
import re  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import newcomer  # noqa: E402


def is_depth(cell) -> bool:
    return "depth" in (cell.get("metadata", {}).get("tags") or [])


def folds(nb) -> list[list[int]]:
    """The folds of a notebook: runs of consecutive depth cells (cell indices)."""
    runs, run = [], []
    for i, cell in enumerate(nb["cells"]):
        if is_depth(cell):
            run.append(i)
        elif run:
            runs.append(run)
            run = []
    return runs + ([run] if run else [])


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def markdown_text(md: str) -> str:
    """What a markdown cell shows, roughly: formulas (typeset, not code) and markup dropped."""
    md = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$", " ", md, flags=re.S)
    md = re.sub(r"<[^>]+>", " ", md)
    md = re.sub(r"\]\([^)]*\)", "]", md)               # link targets are not shown
    return md.replace("**", "").replace("__", "")


def test_fold_finder():
    nb = {"cells": [{"metadata": {}}, {"metadata": {"tags": ["depth"]}}, {"metadata": {"tags": ["depth", "x"]}},
                    {"metadata": {}}, {"metadata": {"tags": ["depth"]}}]}
    assert folds(nb) == [[1, 2], [4]]


@pytest.mark.lesson_content
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_follows_the_two_layer_conventions(path):
    """[lesson content] The top line states both times; each fold starts with a markdown cell
    whose first line is its summary: '### For the statistician: ... (optional, about N min)'."""
    nb = json.loads(path.read_text())
    problems = []
    head = "\n".join(source(c) for c in nb["cells"][:3] if c["cell_type"] == "markdown")
    stated = newcomer.stated_times(markdown_text(head))
    if stated is None or (folds(nb) and stated[1] is None):
        problems.append("the top line must read '⏱ **About N minutes** (the story) · folded parts for the "
                        "statistician: about M minutes more, optional.'")
    for run in folds(nb):
        first = nb["cells"][run[0]]
        line = source(first).split("\n", 1)[0] if first["cell_type"] == "markdown" else ""
        title = line.lstrip("#").strip()
        if not (line.startswith("#") and title.startswith("For the statistician")
                and newcomer.fold_minutes(title) is not None):
            problems.append(f"the fold at cell {run[0]} must open with a markdown heading "
                            f"'### For the statistician: ... (optional, about N min)', not {line[:80]!r}")
    assert not problems, f"[lesson content] {path.name}: " + "; ".join(problems)


@pytest.mark.lesson_content
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_story_markdown_is_plain_words(path):
    """[lesson content] The story's markdown (cells without the depth tag) names no library
    or R/rpact function and writes no formula as code (the browser test also reads what the
    story's code cells print)."""
    nb = json.loads(path.read_text())
    found = [f"cell {i}: {hit}" for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "markdown" and not is_depth(c)
             for hit in newcomer.story_lint(markdown_text(source(c)))]
    assert not found, f"[lesson content] {path.name}:\n  " + "\n  ".join(found)


# ---- the glossary (issue 26, item 5): one source, every link resolves -------------------
from teachkit import glossary  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "lessons").glob("*.ipynb"))


def test_glossary_notebook_is_made_from_the_data():
    path = Path(__file__).resolve().parents[1] / "lessons" / "glossary.ipynb"
    assert path.read_text(encoding="utf-8") == glossary.notebook_json(), (
        "lessons/glossary.ipynb is out of step with teachkit/glossary.py: "
        "python -m teachkit.glossary --write lessons/glossary.ipynb")


def test_glossary_data_of_the_page_script_is_made_from_the_data():
    assert glossary.DATA_FILE.read_text(encoding="utf-8") == glossary.data_html(), (
        "teachkit's template's glossary-data.html is out of step with teachkit/glossary.py: "
        "python -m teachkit.glossary --write-data")
    assert "{{" not in glossary.data_html() and "{%" not in glossary.data_html()   # included by Jinja


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_glossary_link_has_an_entry(path):
    nb = json.loads(path.read_text())
    text = "\n".join(source(c) for c in nb["cells"])
    missing = sorted({slug for _, _, slug in glossary.glossary_links(text)} - set(glossary.slugs()))
    assert not missing, f"{path.name} links glossary entries that do not exist: {missing}"
    # a link to the glossary written any other way (e.g. glossary.ipynb#Censored) is caught too
    odd = [m for m in re.findall(r"\]\((?:\./)?glossary\.ipynb#([^)]*)\)", text) if not glossary.SLUG.match(m)]
    assert not odd, f"{path.name}: glossary anchors that are not slugs: {odd}"


def test_glossary_has_the_words_a_learner_meets():
    """Issue 26, item 5: the medical and trial words the lessons use, and the spending
    families of lesson 05's menu."""
    terms = " | ".join(e.term for e in glossary.ENTRIES)
    for word in ("Blasts", "CNS", "Cytogenetics", "Flow cytometry", "MRD", "Reinduction", "Consolidation",
                 "HSCT", "Febrile neutropenia", "Mucositis", "Sepsis", "Data monitoring committee", "Open label",
                 "Φ", "O'Brien-Fleming-type", "Pocock-type", "Hwang-Shih-DeCani", "Kim-DeMets",
                 "Classical O'Brien-Fleming and Pocock"):
        assert word in terms, word
    from teachkit.explorers.boundaries import _SPENDING_LABELS

    assert len(_SPENDING_LABELS) == 6     # each family of the menu has its entry (above)


def test_glossary_states_issue_25s_corrections():
    """Binding decides how the efficacy boundaries are computed; following the rule is what the
    committee does (item 1). A secondary end point is not unprotected in general (item 4)."""
    binding = glossary.entry("binding-futility")
    text = (binding.plain + binding.statistician).lower()
    assert "how the efficacy boundaries are computed" in text and "follow the futility rule or not" in text
    assert "never obeyed" not in text and "usual practice" not in text
    end_point = glossary.entry("end-point")
    assert "not protected against multiple testing" not in end_point.plain
    assert "hierarchical" in end_point.statistician and "AALL1331 did not" in end_point.statistician


def test_glossary_entries_validate_what_they_hold():
    with pytest.raises(ValueError, match="slug"):
        glossary.Entry("Not A Slug", "t", ("00",), "p")
    with pytest.raises(ValueError, match="plain"):
        glossary.Entry("x", "t", ("00",), "a $TeX$ formula")
    with pytest.raises(ValueError, match="lessons"):
        glossary.Entry("x", "t", ("8",), "p")
    with pytest.raises(TypeError, match="slug"):
        glossary.entry(3)
    assert len(set(glossary.slugs())) == len(glossary.ENTRIES)


@pytest.mark.lesson_content
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_ends_with_the_next_and_the_course_home(path):
    """[lesson content] A lesson's last cell links the next lesson (the last lesson: the
    course home) and the course home (index.ipynb), opened in the same tab (issue 26, item 6)."""
    nb = json.loads(path.read_text())
    last = source(nb["cells"][-1])
    following = [p.name for p in LESSONS if p.name > path.name][:1]
    assert "](index.ipynb)" in last, f"[lesson content] {path.name}: the last cell must link the course home"
    if following:
        assert f"]({following[0]})" in last, f"[lesson content] {path.name}: the last cell must link {following[0]}"


@pytest.mark.lesson_content
def test_readme_states_the_course_time_the_lessons_state():
    """[lesson content] The README's course time is the sum of the lessons' top lines (within
    10 minutes for the stories, 15 for the folded parts)."""
    from teachkit import course

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    m = re.search(r"the eight stories take about (\d+) minutes in all, the folded parts about (\d+) more", readme)
    assert m, "the README must say 'the eight stories take about N minutes in all, the folded parts about M more'"
    lessons = course.lessons(Path(__file__).resolve().parents[1] / "lessons")
    story = sum(lesson.story_minutes or 0 for lesson in lessons)
    folded = sum(lesson.folded_minutes or 0 for lesson in lessons)
    assert abs(int(m.group(1)) - story) <= 10, (m.group(0), story)
    assert abs(int(m.group(2)) - folded) <= 15, (m.group(0), folded)
