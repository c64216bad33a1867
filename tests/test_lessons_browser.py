"""Every lesson as a learner meets it: a real Voila server, a real headless Chromium.

Each test opens one lesson, waits until its widgets are live, moves the lesson's
main control, and checks that the page changed, that no code is visible, and that
no error (Python traceback, stderr output, JavaScript error) reached the page.
A screenshot of each lesson is saved under pytest's tmp dir, and also into
``$TEACHKIT_SCREENSHOT_DIR`` when that is set (that is how docs/img/ is made).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

# For each lesson: how to move its main control, and which element must change.
#   (action, selector, value, watched selector)
CONTROLS = {
    # pick another published result in the trial overview
    "00-the-trial": ("select", ".widget-dropdown select", "2-year overall survival", "img.widget-image"),
    # step back through the product-limit table: type a row count into the slider's readout
    "01-censoring-and-kaplan-meier": ("fill", ".widget-hslider:has-text('Rows of the table') .widget-readout", 3,
                                      "img.widget-image"),
    # draw a new simulated trial with the same true hazard ratio
    "02-comparing-curves": ("click", "button:has-text('New sample')", None, "img.widget-image"),
    # move the patient's months from diagnosis past the 36-month line
    "03-risk-and-stratification": ("slider", ".widget-hslider:has-text('Months from diagnosis') .noUi-handle", 14,
                                   "img.widget-image"),
    # ask for a smaller benefit: more events and patients are needed
    "04-planning-events": ("slider", ".widget-hslider:has-text('Hazard ratio to detect') .noUi-handle", 5,
                           "img.widget-image"),
    # one more interim look: the boundaries are recomputed
    "05-looking-early": ("slider", ".widget-hslider:has-text('Number of looks') .noUi-handle", 1, "img.widget-image"),
    # what if the committee had looked later, with more events?
    "06-the-2019-interim": ("slider", ".widget-hslider:has-text('Events observed') .noUi-handle", 10,
                            "img.widget-image"),
    # replay the whole trial again with new random numbers
    "07-after-an-early-stop": ("click", "button:has-text('New replays')", None, "img.widget-image"),
}

ERROR_PATTERNS = re.compile(r"Traceback|Error:|Exception:|NameError|ModuleNotFoundError")


def lesson_names():
    root = Path(__file__).resolve().parents[1] / "lessons"
    return sorted(p.stem for p in root.glob("[0-9][0-9]-*.ipynb"))


def test_every_lesson_has_a_control_to_move():
    missing = [name for name in lesson_names() if name not in CONTROLS]
    assert not missing, f"add the main control of {missing} to CONTROLS"


def wait_interactive(page, timeout_ms=90_000):
    """Wait until Voila has rendered the lesson and its widgets are live."""
    page.wait_for_selector(".jupyter-widgets", state="visible", timeout=timeout_ms)
    # Voila shows its spinner until the kernel is connected and the widgets rendered.
    page.wait_for_function(
        "() => !document.querySelector('#loading') || "
        "getComputedStyle(document.querySelector('#loading')).display === 'none'",
        timeout=timeout_ms,
    )


def snapshot(page, selector):
    element = page.query_selector(selector)
    assert element is not None, f"{selector} not found on the page"
    return element.get_attribute("src") or element.inner_text()


def move_control(page, name):
    """Move lesson ``name``'s main control as a learner would (CONTROLS) and wait until
    the watched element changed; return what it showed before."""
    action, selector, value, watched = CONTROLS[name]
    before = snapshot(page, watched)
    control = page.locator(selector).first
    if action == "click":
        control.click()
    elif action == "select":
        control.select_option(label=str(value))
    elif action == "fill":
        control.fill(str(value))
        control.press("Enter")
    else:  # a slider moved with the keyboard, as a keyboard user would
        control.focus()
        for _ in range(int(value)):
            control.press("ArrowRight")
    page.wait_for_function(
        "([sel, before]) => { const e = document.querySelector(sel);"
        " return e && (e.getAttribute('src') || e.innerText) !== before; }",
        arg=[watched, before],
        timeout=30_000,
    )
    return before


def save_docs_screenshot(page, name, control):
    """Into ``$TEACHKIT_SCREENSHOT_DIR`` (when set): the lesson as first rendered, scrolled
    to its main explorer."""
    target = os.environ.get("TEACHKIT_SCREENSHOT_DIR")
    if target:
        control.scroll_into_view_if_needed()
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"lesson-{name[:2]}.png"), full_page=False)


def save_screenshot(page, name, tmp_path):
    """Into pytest's tmp dir: the whole page after the control moved."""
    path = tmp_path / f"lesson-{name[:2]}-moved.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.parametrize("name", lesson_names())
def test_lesson_in_browser(name, voila_server, page, tmp_path, timings):
    action, selector, value, watched = CONTROLS[name]
    t0 = time.perf_counter()
    page.goto(f"{voila_server.url}/voila/render/{name}.ipynb", timeout=120_000)
    wait_interactive(page)
    interactive_s = time.perf_counter() - t0
    timings[f"{name}: request -> interactive"] = interactive_s
    timings[f"{name}: Voila start -> interactive"] = time.perf_counter() - voila_server.started

    control = page.locator(selector).first
    # The page as a learner first sees it: the picture committed under docs/img.
    save_docs_screenshot(page, name, control)
    before = move_control(page, name)
    after = snapshot(page, watched)
    assert after != before, f"moving {selector} did not change {watched}"

    shot = save_screenshot(page, name, tmp_path)
    assert shot.stat().st_size > 10_000

    # No code, no error, for the learner.
    assert page.locator(".jp-InputArea-editor:visible, .cm-editor:visible, .CodeMirror:visible").count() == 0
    assert page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    text = page.inner_text("body")
    assert not ERROR_PATTERNS.search(text), ERROR_PATTERNS.search(text).group(0)
    # Formulas typeset by the MathJax bundled with Voila (every lesson has some), and not
    # one request left the server: no CDN for fonts, icons or MathJax.
    assert page.locator("mjx-container").count() > 0, "no formula was typeset"
    assert page.watch.outside == [], page.watch.outside
    assert page.watch.errors == [], "\n".join(page.watch.errors)


def test_make_lessons_serves_lesson_00(start_voila, watched_page, timings):
    """`make lessons` runs `teachkit lessons`: start it for real (pre-heated kernels) and
    time Voila's start to lesson 00 being interactive in Chromium."""
    import sys

    script = Path(sys.executable).with_name("teachkit")
    lessons = Path(__file__).resolve().parents[1] / "lessons"
    server = start_voila(command=lambda port: [str(script), "lessons", "--port", str(port),
                                               "--source", str(lessons)])
    page = watched_page()
    page.goto(f"{server.url}/voila/render/00-the-trial.ipynb", timeout=120_000)
    wait_interactive(page)
    timings["teachkit lessons (preheated): Voila start -> lesson 00 interactive"] = (
        time.perf_counter() - server.started)
    assert page.locator(".cm-editor:visible, .jp-InputArea-editor:visible").count() == 0
    assert not ERROR_PATTERNS.search(page.inner_text("body"))
    assert page.watch.errors == [], "\n".join(page.watch.errors)
    # The tree page lists the lessons (classic tree, as on Binder).
    page.goto(f"{server.url}/voila/tree", timeout=60_000)
    assert page.locator("a:has-text('00-the-trial.ipynb')").count() == 1
    assert page.watch.outside == [], page.watch.outside
    # Stopping the command stops Voila and every pre-heated kernel: nothing is left behind.
    import psutil

    voila = psutil.Process(server.proc.pid)
    assert "voila" in " ".join(voila.cmdline())       # `teachkit lessons` became Voila
    kernels = voila.children(recursive=True)
    assert kernels, "pre-heated kernels were expected"
    server.stop()
    _gone, alive = psutil.wait_procs([voila, *kernels], timeout=30)
    assert not alive, f"left running: {[p.pid for p in alive]}"
