"""The Practice widget as a learner meets it in Voila (a real server, headless Chromium):
labelled input, feedback in a live region, keyboard only, axe-clean at 1280 and 375 px, and
the progress kept in the browser's localStorage across a reload (and shown by the course
home page's script). The static site's version is tested by tests/test_site.py."""

from __future__ import annotations

import json
import re
import shutil

import nbformat
import pytest

from teachkit.explorers import practice as P

pytestmark = pytest.mark.browser

ROOT = P.__file__.rsplit("/teachkit/", 1)[0]
SEEDS = {"01": 11, "00": 12}


def _lb():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_teachkit_lessons_browser_p",
                                                  Path(__file__).with_name("test_lessons_browser.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lb = _lb()


@pytest.fixture(scope="module")
def practice_server(tmp_path_factory, voila_server_class, chromium):
    folder = tmp_path_factory.mktemp("practice-pages")
    shutil.copy2(f"{ROOT}/lessons/voila.json", folder / "voila.json")
    for lesson, seed in SEEDS.items():
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Practice of lesson {lesson}"),
                    nbformat.v4.new_code_cell(f"import teachkit as tk\ntk.explorers.practice_for({lesson!r}, seed={seed})")]
        nbformat.write(nb, folder / f"practice-{lesson}.ipynb")
    server = voila_server_class(folder, preheat=False)
    yield server
    server.stop()


def open_practice(page, server, lesson):
    page.goto(f"{server.url}/voila/render/practice-{lesson}.ipynb", timeout=90_000)
    lb.wait_interactive(page)
    page.wait_for_selector(".tk-practice .widget-html-content:has-text('Question 1 of')", timeout=120_000)
    # the page script has filled in the stored progress
    page.wait_for_function("() => !!document.querySelector('.tk-practice-saved [data-tk-text]')", timeout=120_000)


def stored(page):
    return page.evaluate(f"() => JSON.parse(localStorage.getItem('{P.STORAGE_KEY}') || 'null')")


def saved_text(page):
    return page.locator(".tk-practice-saved").inner_text()


def feedback(page, pattern):
    live = page.locator(".tk-practice .tk-live")
    live.filter(has_text=re.compile(pattern)).wait_for(timeout=120_000)
    assert live.get_attribute("role") == "status" and live.get_attribute("aria-live") == "polite"
    return live.inner_text()


def test_number_question_by_keyboard_with_progress_kept_across_a_reload(practice_server, page, axe_source):
    expected = P.Practice("01", seed=SEEDS["01"]).problem()
    open_practice(page, practice_server, "01")
    lb.assert_axe_clean(page, axe_source, "practice as first shown")
    assert "0 of 4 questions answered right" in saved_text(page)
    assert stored(page) is None                       # nothing stored before an answer is right

    box = page.get_by_label(re.compile(r"^At risk at week \d+"))   # the input is named by its label
    assert box.count() == 1
    mistake = next(m for m in expected.mistakes if "censored" in m.why)
    box.focus()
    box.fill(str(mistake.value))
    box.press("Enter")
    text = feedback(page, "Not quite")
    assert "after they left" in text
    lb.assert_axe_clean(page, axe_source, "after a wrong answer")

    box.fill(str(expected.answer))
    box.press("Enter")
    feedback(page, "Right")
    page.wait_for_function("() => /1 of 4 questions answered right \\(question 1\\)/.test("
                           "document.querySelector('.tk-practice-saved').innerText)", timeout=120_000)
    data = stored(page)
    assert data["v"] == 1 and data["lessons"]["01"]["right"] == ["at-risk"]
    assert data["lessons"]["01"]["keys"] == [q.key for q in P.QUESTIONS["01"]]

    # "Try another" from the keyboard: new numbers, the input emptied
    prompt = page.locator(".tk-practice-prompt").inner_text()
    page.get_by_role("button", name="Try another").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("(before) => document.querySelector('.tk-practice-prompt').innerText !== before",
                           arg=prompt, timeout=120_000)
    assert page.get_by_label(re.compile(r"^At risk at week")).input_value() == ""

    # a new visit (the widget starts afresh): the browser still has the progress
    assert page.watch.errors == [] and page.watch.outside == []
    page.reload()
    # leaving the page, Voila asks its server to shut the kernel down (voila/api/shutdown), which
    # answers 403 on teachkit's server: the old page's console line, not this page's
    page.watch.errors = [e for e in page.watch.errors if "403" not in e]
    open_practice(page, practice_server, "01")
    assert "1 of 4 questions answered right (question 1)" in saved_text(page)
    assert stored(page)["lessons"]["01"]["right"] == ["at-risk"]

    # the course home page's placeholder, filled from the same storage
    page.evaluate("(html) => { const d = document.createElement('div'); d.id = 'home'; d.innerHTML = html;"
                  " document.body.appendChild(d); }", P.progress_html("01") + P.progress_html("05"))
    page.evaluate(re.sub(r"^<script>|</script>$", "", P.HOME_SCRIPT.strip()))
    assert page.locator("#home [data-tk-practice-lesson='01']").inner_text() == "Practice: 1 of 4 right"
    assert page.locator("#home [data-tk-practice-lesson='05']").inner_text() == "Practice: 3 questions, not started"

    # "Forget my progress" empties the lesson's entry
    page.get_by_role("button", name="Forget my progress").click()
    page.wait_for_function("() => /0 of 4/.test(document.querySelector('.tk-practice-saved').innerText)")
    assert "01" not in stored(page)["lessons"]
    assert page.watch.errors == [] and page.watch.outside == []


def test_choice_question_by_keyboard_and_the_worked_answer(practice_server, page, axe_source):
    practice = P.Practice("00", seed=SEEDS["00"])
    expected = practice.go(2)
    open_practice(page, practice_server, "00")
    for _ in range(2):
        page.get_by_role("button", name="Next question").focus()
        page.keyboard.press("Enter")
    page.wait_for_selector(".tk-practice .widget-html-content:has-text('Question 3 of 4')", timeout=120_000)
    group = page.get_by_role("radiogroup", name=re.compile("Is the boundary crossed"))
    group.first.wait_for(timeout=120_000)   # the question's text can come before its choices
    assert group.count() == 1
    radios = group.get_by_role("radio")
    wrong = next(o for o in expected.options if o != expected.answer)
    radios.nth(expected.options.index(wrong)).focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Check").click()
    feedback(page, "Not quite")
    assert page.locator(".tk-practice-worked").is_hidden()
    page.get_by_role("button", name="Check").click()                 # a second wrong try
    feedback(page, "worked answer is below")
    assert page.locator(".tk-practice-worked").is_visible()
    lb.assert_axe_clean(page, axe_source, "with the worked answer shown")
    page.get_by_role("button", name="Show a hint").click()
    # the page script marks the button expanded when its words change (a moment later)
    hide = page.get_by_role("button", name="Hide the hint")
    hide.wait_for(timeout=120_000)
    page.wait_for_function("(b) => b.getAttribute('aria-expanded') === 'true'", arg=hide.element_handle(),
                           timeout=10_000)
    assert page.watch.errors == [] and page.watch.outside == []


def test_practice_on_a_phone(practice_server, watched_page, axe_source):
    page = watched_page(width=375, height=740)
    open_practice(page, practice_server, "01")
    lb.assert_axe_clean(page, axe_source, "at 375 px")
    widths = page.evaluate("""() => {
        const panel = document.querySelector('.tk-practice');
        return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                panel: panel.getBoundingClientRect().right};
    }""")
    assert widths["page"] <= widths["view"] + 1 and widths["panel"] <= widths["view"] + 1, widths
    box = page.get_by_label(re.compile(r"^At risk at week"))
    assert box.bounding_box()["width"] >= 100
    assert page.get_by_role("button", name="Check").is_visible()
    assert page.watch.errors == []
