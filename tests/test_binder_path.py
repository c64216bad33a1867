"""Binder's launch path, played on this machine: the lessons as a Jupyter server's Voila.

On mybinder.org, repo2docker copies the repository to the home folder, installs
binder/requirements.txt, runs binder/postBuild there, and starts a Jupyter server (with
Voila's server extension) in that folder; the badge opens ``/voila/tree/lessons``. This
test does the same from a copy of the repository's tracked files (``git ls-files``):

* binder/postBuild runs unmodified in the copy, with ``python`` on PATH being a throwaway
  environment's: its ``pip install`` puts teachkit (package, script, and the Voila template
  in share/jupyter) there, as Binder's goes to Binder's environment, and the test
  environment is left untouched. The rest of Binder's stack is this test environment,
  seen through a ``.pth`` (Binder's pins on Python 3.11, see tests/test_binder.py).
* that environment's ``python -m jupyter_server`` starts in the copy (root_dir and working directory), on a
  free port of 127.0.0.1, with a token, as the Binder/hub single-user server does.

Then Chromium opens the lessons tree (the course home) and one lesson and checks what a learner meets, and
that the root voila.json is in force. What it cannot check: the real mybinder.org build
(repo2docker's image, its own Jupyter and pip, the network) - see the README.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
LESSON = "00-the-trial"


def _lessons_browser():
    """The helpers of test_lessons_browser.py (wait_interactive, move_control, ...)."""
    spec = importlib.util.spec_from_file_location("_teachkit_lessons_browser",
                                                  Path(__file__).with_name("test_lessons_browser.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lb = _lessons_browser()


def copy_tracked_files(dest: Path) -> Path:
    """Copy the repository's tracked files (as a clone has them) into ``dest``."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: Binder builds from the repository's tracked files")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in out.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def binder_python(prefix: Path) -> Path:
    """A throwaway environment at ``prefix`` standing for Binder's: its own site-packages and
    share/jupyter (where postBuild's install goes), on top of this test environment's
    packages (Binder's pinned stack). A ``.pth`` line puts them after its own, so pip installs
    teachkit into ``prefix`` and leaves the test environment's teachkit alone (pip never
    uninstalls outside the environment it runs in)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True, timeout=120)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)}))
    (site / "_teachkit_test_stack.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return prefix / "bin" / "python"


def binder_env(prefix: Path) -> dict[str, str]:
    """The environment postBuild and the server run in: ``prefix``'s python first on PATH;
    the test environment's Jupyter data and config (Voila's templates, lab extensions, its
    server extension) found as Binder finds its own."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "PYTHONPATH", "JUPYTER_CONFIG_DIR", "PIP_PREFIX")}
    env.update(
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PATH=os.pathsep.join([str(prefix / "bin"), env["PATH"]]),
        JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),
        JUPYTER_CONFIG_PATH=str(Path(sys.prefix) / "etc" / "jupyter"),
        # a home of its own, as a fresh Binder container has
        HOME=str(prefix / "home"),
    )
    (prefix / "home").mkdir(parents=True, exist_ok=True)
    return env


def installed_labextensions() -> set[str]:
    """Names of the federated JupyterLab extensions installed where Voila looks for them."""
    from jupyter_core.paths import jupyter_path

    names = set()
    for folder in map(Path, jupyter_path("labextensions")):
        for package in [*folder.glob("*/package.json"), *folder.glob("@*/*/package.json")]:
            try:
                names.add(json.loads(package.read_text())["name"])
            except (ValueError, KeyError):
                pass
    return names


def page_config(page) -> dict:
    return page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent)")


def test_binder_launch_path(tmp_path_factory, start_voila, page, timings, axe_source):
    repo = copy_tracked_files(tmp_path_factory.mktemp("binder-repo"))
    prefix = tmp_path_factory.mktemp("binder-prefix")
    python = binder_python(prefix)
    env = binder_env(prefix)
    t0 = time.perf_counter()
    post = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=600)
    post_seconds = time.perf_counter() - t0
    assert post.returncode == 0, f"binder/postBuild failed:\n{post.stdout}\n{post.stderr}"
    template = prefix / "share" / "jupyter" / "voila" / "templates" / "teachkit" / "index.html.j2"
    assert template.is_file(), "postBuild's install did not put teachkit's Voila template in share/jupyter"
    # what a lesson's kernel (started in lessons/) imports: the teachkit postBuild installed
    installed = subprocess.run([str(python), "-c", "import teachkit; print(teachkit.__file__)"], env=env,
                               cwd=repo / "lessons", capture_output=True, text=True, check=True).stdout
    assert installed.startswith(str(prefix)), f"a lesson would run another teachkit: {installed}"

    token = secrets.token_hex(16)
    server = start_voila(
        root=repo,
        command=lambda port: [str(python), "-m", "jupyter_server", "--no-browser", "--allow-root",
                              f"--port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
                              f"--ServerApp.root_dir={repo}", f"--IdentityProvider.token={token}"],
        env=env,
        ready_path=f"/voila/tree/lessons?token={token}",
    )
    # The badge's urlpath: the lessons tree, which teachkit's template turns into the course
    # home (lessons/index.ipynb), in the same tab.
    page.goto(f"{server.url}/voila/tree/lessons?token={token}", timeout=60_000)
    page.wait_for_url("**/voila/render/lessons/index.ipynb?token=*", timeout=60_000)
    page.locator(".tk-home-lesson").first.wait_for(timeout=120_000)
    lb.check_course_home(page, axe_source, repo / "lessons")

    # One lesson, as a learner opens it from the course home.
    t0 = time.perf_counter()
    page.goto(f"{server.url}/voila/render/lessons/{LESSON}.ipynb?token={token}", timeout=120_000)
    lb.wait_interactive(page)
    timings[f"Binder path (jupyter server + Voila extension): {LESSON} request -> interactive"] = (
        time.perf_counter() - t0)
    before = lb.move_control(page, LESSON)
    assert lb.snapshot(page, lb.CONTROLS[LESSON][3]) != before
    # the two layers and the terms, as on teachkit lessons (issue 26): folds closed, each
    # with its time; terms carry their definitions
    folds = page.eval_on_selector_all("details.tk-fold", "els => els.map(d => [d.open, d.querySelector('summary').innerText])")
    assert folds and all(not is_open and "(optional, about" in summary for is_open, summary in folds), folds
    assert page.locator(".tk-term .tk-term-def").count() >= 1

    # The root voila.json in force: stripped sources, no tracebacks, the extension deny-list.
    assert page.locator(".jp-CodeCell").count() > 0, "no code cell rendered (their outputs hold the lesson)"
    code = ".jp-CodeCell .jp-InputArea, .jp-CodeCell .jp-InputPrompt, .cm-editor, .CodeMirror"
    assert page.locator(code).count() == 0, "code is on the page: strip_sources is not in force"
    assert page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    text = page.inner_text("body")
    assert not lb.ERROR_PATTERNS.search(text), lb.ERROR_PATTERNS.search(text).group(0)
    denylist = set(json.loads((ROOT / "voila.json").read_text())["VoilaConfiguration"]["extension_denylist"])
    config = page_config(page)
    loaded = {ext["name"] for ext in config["federated_extensions"]}
    assert loaded, "no federated extension at all: the page config is not Voila's"
    assert not loaded & denylist, f"denied extensions loaded: {loaded & denylist}"
    if importlib.util.find_spec("nbgrader") is not None:
        # nbgrader ships its lab extension: the deny-list has something to deny here
        assert installed_labextensions() & denylist
    # teachkit's template: MathJax from Voila's bundle, not a CDN; the markdown's formulas as
    # MathML made by the server (teachkit._mathml, enabled by the installed config), none left
    # to MathJax.
    assert config.get("fullMathjaxUrl") is None, config.get("fullMathjaxUrl")
    page.wait_for_selector(".jp-MarkdownCell math", state="attached", timeout=30_000)
    assert page.locator(".jp-MarkdownCell mjx-container").count() == 0
    assert "$h(t)$" not in text
    # the lesson's practice (issue 27): its questions, and under them its coding exercise in the
    # notebook interface (lesson 00: "How to run a cell", from exercises/ beside the lessons)
    page.locator(".tk-practice .widget-html-content:has-text('Question 1 of')").first.wait_for(timeout=60_000)
    link = page.locator(".tk-practice-exercise a[data-tk-notebook]")
    assert link.count() == 1 and link.inner_text() == "How to run a cell"
    page.wait_for_function("""() => {
        const a = document.querySelector('.tk-practice-exercise a[data-tk-notebook]');
        return a && !a.hasAttribute('target') && /^\\/(.*\\/)?notebooks\\/exercises\\/how-to-run-a-cell\\.ipynb$/.test(a.getAttribute('href'));
    }""", timeout=30_000)

    assert page.watch.outside == [], page.watch.outside
    assert page.watch.errors == [], "\n".join(page.watch.errors)

    # The exercises (issue 27): postBuild made the student versions into exercises/, then removed the course.
    timings["Binder path: postBuild (install, exercises, seal)"] = post_seconds
    t0 = time.perf_counter()
    check_exercises(repo, server, token, page)
    timings[f"Binder path: exercises/{EXERCISE} opened, answered, run and saved"] = time.perf_counter() - t0


EXERCISE = "km-by-hand"


def check_exercises(repo, server, token, page):
    """exercises/ holds the seven student versions and the how-to notebook, nothing secret; one
    opens in the notebook interface, its cells run (the visible tests meet the stub) and the
    page and the saved notebook hold no solution."""
    assert not (repo / "course").exists()
    course = sorted(p.name for p in (ROOT / "course" / "source").iterdir() if p.is_dir())
    exercises = repo / "exercises"
    assert sorted(p.stem for p in exercises.glob("*.ipynb")) == sorted([*course, "how-to-run-a-cell"])
    assert sorted(p.name for p in exercises.iterdir()) == sorted(p.name for p in exercises.glob("*.ipynb"))
    source = json.loads((ROOT / "course" / "source" / EXERCISE / f"{EXERCISE}.ipynb").read_text())
    outside = {line.strip() for cell in source["cells"] for line in _regions(
        "".join(cell["source"]), "BEGIN SOLUTION", "END SOLUTION", inside=False)}
    solution_lines = {line.strip() for cell in source["cells"] for line in _regions(
        "".join(cell["source"]), "BEGIN SOLUTION", "END SOLUTION") if len(line.strip()) > 12} - outside
    for nb in exercises.glob("*.ipynb"):
        text = nb.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, nb.name
    text = (exercises / f"{EXERCISE}.ipynb").read_text()
    assert solution_lines and not [line for line in solution_lines if json.dumps(line)[1:-1] in text]

    # In the notebook interface, as the course home links it: a learner who knows the answers types
    # them into the answer cells and runs every cell from the top with Shift+Enter (the keyboard
    # scrolls each cell into view: the notebook attaches only the cells in view), then saves
    answers = {i: "\n".join(_regions("".join(c["source"]), "BEGIN SOLUTION", "END SOLUTION", inside=False, keep=True))
               for i, c in enumerate(source["cells"])
               if c["cell_type"] == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    n_cells = len(json.loads(text)["cells"])
    page.goto(f"{server.url}/voila/render/lessons/index.ipynb?token={token}", timeout=120_000)
    links = page.locator("a[data-tk-notebook]")
    links.first.wait_for(timeout=120_000)
    assert links.count() == 8 and "need a little Python; the lessons do not" in page.inner_text("body")
    assert links.first.inner_text() == "How to run a cell"
    page.wait_for_function("() => !document.querySelector('a[data-tk-notebook][target]')")
    page.get_by_role("link", name=describe_title(source)).click()      # the same tab
    page.wait_for_url(f"**/notebooks/exercises/{EXERCISE}.ipynb*", timeout=60_000)
    assert len(page.context.pages) == 1
    idle = ("() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
            " return s && s.getAttribute('data-status') === 'idle'; }")
    page.wait_for_function(idle, timeout=120_000)
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Escape")
    for i in range(n_cells):
        active = page.locator(".jp-Notebook .jp-Cell.jp-mod-active")
        code = "jp-CodeCell" in (active.get_attribute("class") or "")
        if i in answers:
            page.keyboard.press("Enter")
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(answers[i])
        cell = active.element_handle()
        # the last cell runs without a new one added below it
        page.keyboard.press("Shift+Enter" if i < n_cells - 1 else "Control+Enter")
        if code:   # one cell at a time: its number shows when it has run (a cell scrolled out of
            # view is detached from the page, its number never shown: then the kernel is idle;
            # the saved notebook's execution counts are checked below)
            page.wait_for_function("(el) => el.isConnected ? /^\\[\\d+\\]/.test((el.querySelector('.jp-InputPrompt')"
                                   " || {}).textContent || '') : (" + idle + ")()", arg=cell, timeout=120_000)
    page.wait_for_function(idle, timeout=120_000)
    page.keyboard.press("Control+s")
    saved = None
    for _ in range(100):
        saved = page.evaluate("""async ([url]) => (await fetch(url)).json()""",
                              [f"{server.url}/api/contents/exercises/{EXERCISE}.ipynb?token={token}"])
        code = [c for c in (saved.get("content") or {}).get("cells", []) if c["cell_type"] == "code"]
        if code and all(c["execution_count"] for c in code):
            break
        page.wait_for_timeout(300)
    cells = saved["content"]["cells"]
    graded = [c for c in cells if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("grade")]
    ran = [(i, c.get("execution_count"), "".join(c["source"])[:40]) for i, c in enumerate(cells)]
    assert graded and all(c["execution_count"] for c in graded), f"the visible tests did not run: {ran}"
    errors = [(c["metadata"]["nbgrader"]["grade_id"], o.get("evalue")) for c in graded for o in c["outputs"]
              if o["output_type"] == "error"]
    assert errors == [], f"visible tests failed on Binder with the instructor's answers: {errors}"
    assert "Correct." in "".join(o.get("text", "") for c in graded for o in c["outputs"])
    assert page.watch.outside == [], page.watch.outside


def describe_title(source) -> str:
    """The exercise's title as the course home shows it (its heading without "Assignment N:")."""
    heading = re.search(r"^#\s+(.+)$", "".join(source["cells"][0]["source"]), re.M).group(1)
    title = re.sub(r"^Assignment \d+:\s*", "", heading.strip())
    return title[:1].upper() + title[1:]


def _regions(text, begin, end, inside=True, keep=False):
    """The lines inside the marked regions (``inside=False``: the lines outside them; with
    ``keep``, the lines inside too: the cell without its markers)."""
    lines, within = [], False
    for line in text.split("\n"):
        if begin in line:
            within = True
        elif end in line:
            within = False
        elif within == inside or keep:
            lines.append(line)
    return lines
