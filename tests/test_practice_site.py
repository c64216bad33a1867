"""The static site's Practice section (issue 27, items 2 and 4), offline in Chromium.

* The site (``make site``, the build tests/test_site.py makes and reuses) holds the student
  versions of the seven assignments and the "How to run a cell" notebook, made by nbgrader
  during the build, and nothing secret: no solution or hidden-test region, no gradebook, no
  grading code, anywhere in ``_site/`` (the build itself fails if one reaches it: tested here
  on planted files).
* In Chromium inside ``unshare -n`` (a network namespace with only loopback), as the other
  site test: km-by-hand opens in JupyterLite's notebook app on the site's Pyodide, a correct
  solution is typed into its cells, the visible tests pass in the page, the work is saved in
  the browser and is still there after a reload; the Practice page's "Download for hand-in"
  saves it as ``<id>_km-by-hand.ipynb`` (an invalid id is refused), and "Start again" gives
  the untouched original.
* The hand-in an instructor grades: both downloads go through ``nbgrader zip_collect`` (the
  guide's LMS route), the sealed ``autograde`` (in the sandbox where the machine has one), then
  ``generate_feedback`` and ``export``: the typed solution gets every automatic point, the
  untouched download 0.

This file is also the browser driver (run as a script inside ``unshare -n``:
``python tests/test_practice_site.py drive --site _site --out r.json ...``), which
tests/benchmarks/bench_practice.py uses for its timings.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
ASSIGNMENT = "km-by-hand"
STUDENT = "ada-lovelace"
UNTOUCHED = "grace-hopper"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


def solutions(assignment: str = ASSIGNMENT) -> list[dict]:
    """The instructor's solution of every code answer cell: its position in the student
    version and its source with the solution markers' lines dropped (what a learner who
    knows the answer types)."""
    source = json.loads((ROOT / "course" / "source" / assignment / f"{assignment}.ipynb").read_text())
    out = []
    for i, cell in enumerate(source["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            text = "".join(cell["source"])
            lines = [line for line in text.split("\n") if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line]
            out.append({"index": i, "grade_id": meta["grade_id"], "source": "\n".join(lines)})
    return out


def visible_tests(assignment: str = ASSIGNMENT) -> list[int]:
    """Positions of the graded test cells in the student version."""
    source = json.loads((ROOT / "course" / "source" / assignment / f"{assignment}.ipynb").read_text())
    return [i for i, c in enumerate(source["cells"])
            if c["cell_type"] == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")]


# =========================================================================== the driver
# Records, for every code cell, when its prompt last turned to a number (the cell finished).
PROMPT_WATCH_JS = """() => {
  window.__done = {};
  const cells = () => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'));
  const stamp = () => cells().forEach((c, i) => {
    const p = c.querySelector('.jp-InputPrompt');
    const text = p ? p.textContent.trim() : '';
    if (/^\\[\\d+\\]/.test(text) && window.__done[i] !== text) { window.__done[i] = text; window.__doneAt = window.__doneAt || {};
      window.__doneAt[i] = performance.now(); }
  });
  new MutationObserver(stamp).observe(document.querySelector('.jp-Notebook'), {subtree: true, childList: true, characterData: true});
}"""

STORED_JS = """(args) => new Promise((resolve) => {
  const r = indexedDB.open(args[0]);
  r.onupgradeneeded = () => r.transaction.abort();
  r.onerror = () => resolve(null);
  r.onsuccess = () => {
    const db = r.result;
    if (!db.objectStoreNames.contains('files')) { resolve(null); return; }
    const g = db.transaction('files').objectStore('files').get(args[1]);
    g.onsuccess = () => resolve(g.result ? g.result.content : null);
    g.onerror = () => resolve(null);
  };
})"""


def _notebook(page, base, name, timeout_ms):
    """Open a practice notebook; run its first code cell as soon as it is shown. Returns the
    seconds until the notebook was shown and until that first cell had run (usable)."""
    t0 = time.perf_counter()
    page.goto(f"{base}/notebooks/index.html?path=practice/{name}.ipynb", timeout=timeout_ms)
    first = page.locator(".jp-Notebook .jp-CodeCell").first
    first.locator(".cm-content").wait_for(state="visible", timeout=timeout_ms)
    shown = time.perf_counter() - t0
    prompt = """() => {
        const p = document.querySelector('.jp-Notebook .jp-CodeCell .jp-InputPrompt');
        return p ? p.textContent.trim() : '';
    }"""
    # Shift+Enter reaches the cell only once its editor takes the focus: under load the first
    # press can land while the notebook is still being laid out (nothing queued, the prompt
    # stays "[ ]"), so press again until the cell is queued ("[*]") or has run ("[1]")
    for _ in range(10):
        first.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(f"() => /^\\[(\\*|\\d+)\\]/.test(({prompt})())", timeout=15_000, polling=100)
            break
        except Exception:  # noqa: BLE001 - not queued: the press went elsewhere; try again
            continue
    page.wait_for_function(f"() => /^\\[\\d+\\]/.test(({prompt})())", timeout=timeout_ms, polling=100)
    return shown, time.perf_counter() - t0


def _code_cell(page, index):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def _type_into(page, index, text):
    cell = _code_cell(page, index)
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def _run_all(page, n_cells, timeout_ms):
    page.evaluate(PROMPT_WATCH_JS)
    before = page.evaluate("() => performance.now()")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
    page.wait_for_function("""([n, before]) => {
        const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'));
        const busy = cells.some(c => (c.querySelector('.jp-InputPrompt') || {}).textContent.includes('*'));
        const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
        return !busy && s && s.getAttribute('data-status') === 'idle' &&
               Object.keys(window.__doneAt || {}).length >= n && Object.values(window.__doneAt).every(t => t > before);
    }""", arg=[n_cells, before], timeout=timeout_ms, polling=100)
    return before, page.evaluate("() => window.__doneAt")


def _errors_in(page, index):
    cell = _code_cell(page, index)
    outs = cell.locator(".jp-OutputArea-output")
    texts = [outs.nth(i).inner_text() for i in range(outs.count())]
    return [t for t in texts if re.search(r"Error|Traceback", t)]


PRACTICE_LESSON = "00-the-trial"


def lesson_practice(page, base, timeout_ms, out=None) -> dict:
    """Lesson 00's practice questions on the site, as a learner meets them: question 3 is a
    choice of two (was the boundary crossed?), so the second choice, if the first was wrong,
    is right and counts (the worked answer comes after two wrong tries). Then the progress is
    in localStorage, still shown after a reload, and on the course home (the site's front page)."""
    out = {} if out is None else out        # filled as it goes: what a failure had seen
    page.set_default_timeout(timeout_ms)
    saved = "() => (document.querySelector('.tk-practice-saved') || {}).innerText || ''"

    def open_lesson():
        page.goto(f"{base}/voici/render/{PRACTICE_LESSON}.html", timeout=timeout_ms)
        page.locator(".tk-practice .widget-html-content:has-text('Question 1 of')").first.wait_for(timeout=timeout_ms)
        page.wait_for_function("() => !!document.querySelector('.tk-practice-saved [data-tk-text]')", timeout=timeout_ms)

    open_lesson()
    out["before"] = page.evaluate(saved)
    out["exercise_link"] = page.locator(".tk-practice-exercise a").first.get_attribute("href")
    panel = page.locator(".tk-panel.tk-practice")        # the lesson's own check has a "Check" too
    for n in (2, 3):
        panel.get_by_role("button", name="Next question").click()
        page.locator(f".tk-practice .widget-html-content:has-text('Question {n} of')").first.wait_for(timeout=timeout_ms)
    radios = panel.get_by_role("radiogroup", name=re.compile("Is the boundary crossed")).get_by_role("radio")
    radios.first.wait_for()                 # the question's text can come before its choices
    out["options"] = radios.count()
    live = page.locator(".tk-practice .tk-live")
    out["feedback"] = []
    for i in range(radios.count()):
        before = live.inner_text()
        radios.nth(i).check()
        panel.get_by_role("button", name="Check").click()
        page.wait_for_function("(before) => { const t = document.querySelector('.tk-practice .tk-live').innerText;"
                               " return t !== before && /^(Right|Not quite)/.test(t.trim()); }",
                               arg=before, timeout=timeout_ms)
        out["feedback"].append(live.inner_text().strip()[:80])
        if out["feedback"][-1].startswith("Right"):
            break
    out["saved_after_check"] = page.evaluate(saved)
    page.wait_for_function(f"() => /1 of 4 questions answered right/.test(({saved})())", timeout=timeout_ms)
    out["stored"] = page.evaluate("(k) => JSON.parse(localStorage.getItem(k) || 'null')", "teachkit:practice")
    open_lesson()                                   # a new visit: the widget starts afresh
    out["after_reload"] = page.evaluate(saved)
    page.goto(f"{base}/index.html", timeout=timeout_ms)
    home = page.locator("[data-tk-practice-lesson='00']").first
    home.wait_for(timeout=timeout_ms)
    page.wait_for_function("() => /right/.test(document.querySelector(\"[data-tk-practice-lesson='00']\").textContent)",
                           timeout=timeout_ms)
    out["home"] = home.inner_text()
    return out


def drive(args) -> dict:
    from playwright.sync_api import sync_playwright

    site_browser = _load("_teachkit_site_browser", HERE / "site_browser.py")
    record = {"interfaces": None, "console_errors": [], "outside_requests": [], "not_found": []}
    import socket

    record["interfaces"] = sorted(name for _, name in socket.if_nameindex())
    log_file = args.out.with_suffix(".server.jsonl")
    log_file.write_text("")
    server, base = site_browser.start_server(args.site, log_file)
    downloads = Path(args.downloads)
    downloads.mkdir(parents=True, exist_ok=True)
    timeout = int(args.timeout * 1000)
    sols = json.loads(Path(args.solutions).read_text())
    tests = json.loads(Path(args.tests).read_text())
    storage = json.loads((args.site / "jupyter-lite.json").read_text())["jupyter-config-data"]["contentsStorageName"]
    axe = Path(args.axe).read_text() if args.axe and Path(args.axe).is_file() else None
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=site_browser.CHROMIUM, headless=True,
                                        args=site_browser.CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)

            def on_request(request):
                host = re.sub(r"^\w+://([^/:]+).*$", r"\1", request.url)
                if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
                    record["outside_requests"].append(request.url)

            context.on("request", on_request)
            page = context.new_page()
            page.set_default_timeout(timeout)     # a loaded CI machine: the driver's timeout, not 30 s
            page.on("console", lambda m: m.type == "error" and record["console_errors"].append(m.text[:300]))
            page.on("pageerror", lambda e: record["console_errors"].append(f"pageerror: {e}"[:300]))

            # the Practice page
            page.goto(f"{base}/practice/index.html", timeout=timeout)
            record["page_exercises"] = page.locator("tbody tr").count()
            record["page_links"] = page.eval_on_selector_all(
                "main a[href]", "els => els.map(a => a.getAttribute('href'))")
            if axe:
                page.add_script_tag(content=axe)
                record["axe_page"] = page.evaluate(
                    "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
                    "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations.map(v => v.id + ': ' + v.help)")

            # the notebook, cold (a fresh context: nothing cached)
            record["cold_shown_s"], record["cold_usable_s"] = _notebook(page, base, args.assignment, timeout)
            cells = page.locator(".jp-Notebook .jp-Cell")
            record["cells"] = cells.count()
            record["stub_seen"] = "raise NotImplementedError()" in _code_cell(page, sols[0]["index"]).inner_text()
            for s in sols:
                _type_into(page, s["index"], s["source"])
            n_code = page.locator(".jp-Notebook .jp-CodeCell").count()
            t0 = time.perf_counter()
            before, done = _run_all(page, n_code, timeout)
            record["run_all_s"] = time.perf_counter() - t0
            # each visible test cell's own time: from the cell before it finishing to it finishing
            code_index = page.eval_on_selector_all(
                ".jp-Notebook .jp-Cell", "els => els.map((e, i) => e.classList.contains('jp-CodeCell') ? i : -1)")
            order = [i for i in code_index if i >= 0]
            spans = {}
            for k, i in enumerate(order):
                start = done[str(order[k - 1])] if k else before
                spans[i] = (done[str(i)] - start) / 1000
            record["visible_tests_s"] = sum(spans[i] for i in tests)
            record["test_errors"] = {str(i): _errors_in(page, i) for i in tests}
            # save in the browser (Ctrl+S), then a reload still shows the work
            _code_cell(page, tests[0]).click()
            page.keyboard.press("Control+s")
            key = f"practice/{args.assignment}.ipynb"
            page.wait_for_function(STORED_JS, arg=[storage, key], timeout=timeout)
            record["warm_shown_s"], record["warm_usable_s"] = _notebook(page, base, args.assignment, timeout)
            record["kept_after_reload"] = sols[0]["source"].split("\n")[-1].strip() in \
                _code_cell(page, sols[0]["index"]).inner_text()

            # Download for hand-in
            page.goto(f"{base}/practice/index.html", timeout=timeout)
            page.wait_for_function(
                "(name) => /saved/.test(document.querySelector(`[data-saved-for=\"${name}\"]`).textContent)",
                arg=args.assignment, timeout=timeout)
            page.get_by_label("Your student id").fill("not an id")
            page.get_by_role("button", name="Download for hand-in").click()
            record["invalid_id_refused"] = (page.get_by_label("Your student id").get_attribute("aria-invalid") == "true"
                                            and "Check your student id" in page.locator("#handin-status").inner_text())
            page.get_by_label("Your student id").fill(args.student)
            page.get_by_label("Exercise", exact=True).select_option(args.assignment)
            with page.expect_download() as info:
                page.get_by_role("button", name="Download for hand-in").click()
            download = info.value
            record["download_name"] = download.suggested_filename
            download.save_as(downloads / download.suggested_filename)
            record["download_status"] = page.locator("#handin-status").inner_text()
            # start again from the original, and hand that in under another id
            page.once("dialog", lambda d: d.accept())
            page.get_by_role("button", name="Start this exercise again from the original").click()
            page.wait_for_function("() => /deleted/.test(document.querySelector('#handin-status').textContent)")
            page.get_by_label("Your student id").fill(args.untouched)
            with page.expect_download() as info:
                page.get_by_role("button", name="Download for hand-in").click()
            download = info.value
            record["untouched_name"] = download.suggested_filename
            download.save_as(downloads / download.suggested_filename)
            record["untouched_status"] = page.locator("#handin-status").inner_text()
            context.close()
            if args.lesson_practice:
                # a lesson's practice questions on the site (Pyodide), in a context of their own
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.on("request", on_request)
                page = context.new_page()
                page.on("console", lambda m: m.type == "error" and record["console_errors"].append(m.text[:300]))
                page.on("pageerror", lambda e: record["console_errors"].append(f"pageerror: {e}"[:300]))
                record["lesson_practice"] = {}
                lesson_practice(page, base, timeout, record["lesson_practice"])
                context.close()
            browser.close()
    except Exception as exc:  # recorded for the caller, with the driver's line that waited
        import traceback

        here = [f"line {f.lineno} in {f.name}: {f.line}" for f in traceback.extract_tb(exc.__traceback__)
                if f.filename == __file__]
        record["exception"] = f"{type(exc).__name__}: {exc}"[:2500] + "\n" + "\n".join(here)[-1500:]
    finally:
        server.terminate()
        server.wait()
    served = [json.loads(line) for line in open(log_file)]
    record["not_found"] = sorted({r["path"] for r in served if r["status"] == 404})
    return record


def main(argv=None):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("drive")
    d.add_argument("--site", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--solutions", required=True)
    d.add_argument("--tests", required=True)
    d.add_argument("--downloads", required=True)
    d.add_argument("--assignment", default=ASSIGNMENT)
    d.add_argument("--student", default=STUDENT)
    d.add_argument("--untouched", default=UNTOUCHED)
    d.add_argument("--axe", default=None)
    d.add_argument("--timeout", type=float, default=300.0)
    d.add_argument("--loopback", action="store_true")
    d.add_argument("--lesson-practice", action="store_true", help="also lesson 00's practice questions")
    args = parser.parse_args(argv)
    if args.loopback:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    args.out.write_text(json.dumps(drive(args), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())


# =========================================================================== the tests
import pytest  # noqa: E402

site_test = _load("_teachkit_test_site", HERE / "test_site.py")


@pytest.fixture(scope="module")
def site():
    """The site of tests/test_site.py (built once, reused while its inputs are the same)."""
    reason = site_test.why_not()
    if reason:
        pytest.skip(reason)
    return _build()


def _build():
    key = site_test.build_key()
    stamp = site_test.SITE / ".build-key"
    if not (stamp.is_file() and stamp.read_text() == key):
        run = subprocess.run(["make", "-C", str(ROOT), "site", f"PYODIDE_PACKAGES={site_test.pyodide_packages()}"],
                             capture_output=True, text=True)
        assert run.returncode == 0, f"make site failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        stamp.write_text(key)
    return site_test.SITE


practice = _load("_teachkit_site_practice", ROOT / "tools" / "site" / "practice.py")


def test_the_site_holds_the_seven_student_versions_and_the_how_to(site):
    folder = site / "files" / "practice"
    names = sorted(p.stem for p in folder.glob("*.ipynb"))
    course = sorted(p.name for p in (ROOT / "course" / "source").iterdir() if p.is_dir())
    assert len(course) == 7 and names == sorted([*course, "how-to-run-a-cell"])
    for name in course:
        student = json.loads((folder / f"{name}.ipynb").read_text())
        source = json.loads((ROOT / "course" / "source" / name / f"{name}.ipynb").read_text())
        ids = lambda nb: [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb["cells"]]  # noqa: E731
        # the same cells as the instructor's (nbgrader keeps them, with their ids and checksums)
        assert [i for i in ids(student) if i] == [i for i in ids(source) if i], name
        text = json.dumps(student)
        assert "raise NotImplementedError()" in text and "YOUR ANSWER HERE" in text, name
        for marker in practice.SECRET_MARKERS:
            assert marker not in text, (name, marker)
    listing = json.loads((site / "api" / "contents" / "practice" / "all.json").read_text())
    assert sorted(c["name"] for c in listing["content"]) == sorted(f"{n}.ipynb" for n in names)
    # open in JupyterLite's notebook app; no Voici dashboard of an exercise
    assert (site / "notebooks" / "index.html").is_file()
    assert not (site / "voici" / "render" / "practice").exists()
    assert "tree/practice" not in (site / "voici" / "tree" / "index.html").read_text()
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    assert config["contentsStorageName"] == practice.STORAGE_NAME and config["appUrl"] == "./voici"
    # JupyterLite's apps read the config of each index.html up to the site's root (the course home)
    assert 'id="jupyter-config-data"' in (site / "index.html").read_text()


def test_nothing_secret_anywhere_in_the_site(site):
    practice.check_no_secrets(site)         # raises, naming the file, if anything reached it
    assert not list(site.rglob("gradebook*")) and not list(site.rglob("nbgrader_config.py"))


def test_the_practice_page(site):
    page = (site / "practice" / "index.html").read_text()
    for name in sorted(p.name for p in (ROOT / "course" / "source").iterdir() if p.is_dir()):
        assert f'href="../notebooks/index.html?path=practice/{name}.ipynb"' in page
    assert 'href="../notebooks/index.html?path=practice/how-to-run-a-cell.ipynb"' in page
    assert "need a little Python; the lessons do not" in page
    assert "nothing is sent anywhere" in page and "Download for hand-in" in page
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)   # nothing from outside the site
    for href in re.findall(r'href="\.\./(voici/render/[^"]+)"', page):
        assert (site / href).is_file(), href


def test_the_build_fails_if_a_secret_reaches_the_site(tmp_path):
    """Planted: a solution region in a notebook, a hidden-test region inside a wheel, a
    gradebook, the grading code. Each stops the build (practice.finish -> check_no_secrets)."""
    import zipfile

    plants = {
        "files/practice/x.ipynb": '{"cells": [{"source": "### BEGIN SOLUTION\\nx = 1\\n### END SOLUTION"}]}',
        "gradebook.db": "",
        "files/grading/sealed.py": "",
        "files/source/km-by-hand/km-by-hand.ipynb": "{}",
    }
    for rel, text in plants.items():
        root = tmp_path / rel.replace("/", "_")
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
        with pytest.raises(practice.PracticeError, match=re.escape(rel)):
            practice.check_no_secrets(root)
    wheel_root = tmp_path / "wheel"
    (wheel_root / "static").mkdir(parents=True)
    with zipfile.ZipFile(wheel_root / "static" / "x-1-py3-none-any.whl", "w") as z:
        z.writestr("x/notes.py", "### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\n")
    with pytest.raises(practice.PracticeError, match="BEGIN HIDDEN TESTS"):
        practice.check_no_secrets(wheel_root)
    clean = tmp_path / "clean"
    (clean / "files").mkdir(parents=True)
    (clean / "files" / "a.ipynb").write_text('{"cells": [{"source": "# YOUR CODE HERE"}]}')
    practice.check_no_secrets(clean)


def test_hand_in_names_are_what_the_course_zip_collect_reads_back():
    """The page's id rule and file name against the course's own collector
    (course/grading/exchange.py: the "plain" layout and its id check)."""
    exchange_path = ROOT / "course" / "grading" / "exchange.py"
    if not exchange_path.is_file():
        pytest.skip("the course's collector (course/grading/exchange.py) is not in this checkout")
    exchange = _load("_teachkit_exchange", exchange_path)
    page_id = re.compile(rf"^(?:{practice.STUDENT_ID})$")
    plain = exchange.LAYOUTS["plain"].replace("{nb}", re.escape("km-by-hand.ipynb"))
    good = ("ada-lovelace", "s12345", "A1", "ada.lovelace@uni.example", "x" * 64)
    bad = ("", "ada_lovelace", "../x", "a/b", "a b", "-x", ".x", "x" * 65, "\u00e9", "a\nb")
    for sid in good:
        name = practice.HANDIN_NAME.format(student_id=sid, assignment="km-by-hand")
        m = re.fullmatch(plain, name)
        assert page_id.match(sid) and m and m.group("student_id") == sid and exchange.valid_student_id(sid), sid
    for sid in bad:
        assert not page_id.match(sid), sid


# ------------------------------------------------------------------ offline, in Chromium
pytestmark = pytest.mark.timeout(3600)


@pytest.fixture(scope="module")
def handin(site, tmp_path_factory, axe_source):
    """km-by-hand solved in the page, offline; both downloads (see the module docstring)."""
    work = tmp_path_factory.mktemp("practice-site")
    (work / "solutions.json").write_text(json.dumps(solutions()))
    (work / "tests.json").write_text(json.dumps(visible_tests()))
    axe = work / "axe.js"
    axe.write_text(axe_source)
    out = work / "result.json"
    cmd = ["unshare", "-n", sys.executable, str(Path(__file__).resolve()), "drive", "--loopback", "--site", str(site),
           "--out", str(out), "--solutions", str(work / "solutions.json"), "--tests", str(work / "tests.json"),
           "--downloads", str(work / "downloads"), "--axe", str(axe), "--lesson-practice"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=2400)
    assert run.returncode == 0, f"driver failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    record = json.loads(out.read_text())
    assert "exception" not in record, (record["exception"], record.get("lesson_practice"))
    return record, work / "downloads"


@pytest.mark.browser
@pytest.mark.slow
def test_practice_in_the_browser_offline(handin):
    record, downloads = handin
    assert record["interfaces"] == ["lo"]
    assert record["page_exercises"] == 7 and record["axe_page"] == []
    assert record["stub_seen"], "the student version's stub was not in the page"
    for cell, errors in record["test_errors"].items():
        assert errors == [], f"visible test cell {cell} failed in Pyodide: {errors}"
    assert record["kept_after_reload"], "the saved work was not there after a reload"
    assert record["outside_requests"] == [] and record["not_found"] == []
    assert record["console_errors"] == [], record["console_errors"]
    assert record["invalid_id_refused"]
    assert record["download_name"] == f"{STUDENT}_{ASSIGNMENT}.ipynb"
    assert "your work as last saved" in record["download_status"]
    assert record["untouched_name"] == f"{UNTOUCHED}_{ASSIGNMENT}.ipynb"
    assert "the original, untouched" in record["untouched_status"]


@pytest.mark.browser
@pytest.mark.slow
def test_a_lessons_practice_questions_on_the_site(handin):
    """Issue 27, item 1 on the static site: lesson 00's questions run in Pyodide, a right
    answer is kept in the browser's localStorage (nothing sent: the offline checks above), a
    new visit shows it and the course home counts it; under the questions the lesson links
    its coding exercise ("How to run a cell") in the site's notebook app."""
    record, _ = handin
    got = record["lesson_practice"]
    assert "0 of 4 questions answered right" in got["before"], got
    assert got["options"] == 2 and got["feedback"][-1].startswith("Right"), got
    assert got["stored"]["v"] == 1 and got["stored"]["lessons"]["00"]["right"] == ["crossed"], got
    assert "1 of 4 questions answered right (question 3)" in got["after_reload"], got
    assert got["home"] == "Practice: 1 of 4 right", got
    assert got["exercise_link"].endswith("notebooks/index.html?path=practice/how-to-run-a-cell.ipynb"), got


@pytest.mark.browser
@pytest.mark.slow
def test_the_instructor_grades_the_hand_in(handin, tmp_path):
    """The LMS route of course/README.md on the two downloads: zip_collect, the sealed
    autograde, generate_feedback, export."""
    record, downloads = handin
    course_test = _load("_teachkit_test_course", HERE / "test_course.py")
    course = tmp_path / "course"
    shutil.copytree(ROOT / "course", course, ignore=shutil.ignore_patterns(
        "gradebook.db", "release", "submitted", "autograded", "feedback", "downloaded", ".jupyter", "__pycache__"))
    nbgrader = course_test.nbgrader
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--create", "--force")
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    for f in downloads.glob("*.ipynb"):
        shutil.copy2(f, archive / f.name)
    nbgrader(course, "zip_collect", ASSIGNMENT)            # the guide's command: no regular expression
    for student in (STUDENT, UNTOUCHED):
        assert (course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file(), student
    nbgrader(course, "autograde", ASSIGNMENT, "--create", timeout=1200)
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    nbgrader(course, "export")
    auto = sum(c.get("metadata", {}).get("nbgrader", {}).get("points", 0) for c in json.loads(
        (ROOT / "course" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())["cells"]
        if c["cell_type"] == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade"))
    assert auto == 16
    scores = auto_scores(course)
    assert scores[STUDENT] == auto, scores
    assert scores[UNTOUCHED] == 0, scores
    import csv

    with open(course / "grades.csv") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert not rows[STUDENT].get("flags"), rows[STUDENT]
    assert not (course / "collect_flags.csv").exists() or STUDENT not in (course / "collect_flags.csv").read_text()
    assert (course / "feedback" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()


def auto_scores(course: Path) -> dict:
    from nbgrader.api import Gradebook

    env_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env_path])
    try:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            out = {}
            for student in (STUDENT, UNTOUCHED):
                sub = gb.find_submission(ASSIGNMENT, student)
                out[student] = sum(g.score for nb in sub.notebooks for g in nb.grades if g.auto_score is not None)
            return out
    finally:
        os.environ["PATH"] = env_path
