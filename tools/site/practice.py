"""The Practice section of the static site, and Binder's exercises/ (issue 27).

The course's seven assignments, as **student versions** made by nbgrader's own
``generate_assignment`` from ``course/source`` (solutions replaced by the stub, hidden tests
removed, test cells locked), plus a short "How to run a cell" notebook that opens the section.

Static site (``tools/site/build.py`` calls :func:`prepare` and :func:`finish`):

* the notebooks go into the site's contents under ``practice/`` and open in JupyterLite's
  **notebook app** (``notebooks/index.html?path=practice/<name>.ipynb``), on the same offline
  Pyodide as the lessons (the kernel preloads teachkit; nothing from a CDN);
* the learner's edits are kept by JupyterLite in the browser (IndexedDB, the database named
  :data:`STORAGE_NAME`); nothing is sent anywhere;
* ``practice/index.html`` is the section's page: what the exercises need, the list, and
  **Download for hand-in**, which saves the learner's notebook (their saved work, or the
  untouched release) as ``<student id>_<assignment>.ipynb``, the name the instructor's
  ``nbgrader zip_collect`` reads (course/README.md, the LMS route);
* Voici's dashboards of these notebooks are removed (they are exercises, not lessons), and
  :func:`check_no_secrets` fails the build if a solution region, a hidden-test region, a
  gradebook or the grading code reaches the site.

Binder (``binder/postBuild``)::

    python tools/site/practice.py exercises --course course --out exercises

writes the same student versions and the how-to notebook into ``exercises/`` (checked the same
way) before postBuild removes ``course/``.

The nbgrader that generates them is ``--nbgrader-python`` (a Python that imports nbgrader;
default: this one). It runs on a copy of the course (its config, grading code and sources) in
a scratch folder, so the gradebook it creates never lands in the repository.
"""

from __future__ import annotations

import argparse
import os
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
HOWTO = HERE / "practice" / "how-to-run-a-cell.ipynb"
#: Folder of the notebooks in the site's contents (and in the notebook app's paths).
FOLDER = "practice"
#: JupyterLite's contents storage (IndexedDB database) on this site: set in jupyter-lite.json,
#: read by the Practice page's "Download for hand-in".
STORAGE_NAME = "teachkit practice"
#: Strings that must never reach a learner: nbgrader's regions, its gradebook, the grading code.
SECRET_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
SECRET_FILES = re.compile(r"(^|/)(gradebook[^/]*\.db|nbgrader_config\.py)$|(^|/)grading/(sealed|sandbox|runner)\.py$"
                          r"|(^|/)(source|release|submitted|autograded|feedback)/[^/]+/[^/]+\.ipynb$")
#: A student id for the hand-in file name: what the course's ``zip_collect`` reads back from
#: ``<student id>_<assignment>.ipynb`` (course/grading/exchange.py, layout "plain": letters,
#: digits, ".", "@", "-"; no "_", "/" or space; at most 64). The page checks the same.
STUDENT_ID = r"[A-Za-z0-9][A-Za-z0-9.@-]{0,63}"
HANDIN_NAME = "{student_id}_{assignment}.ipynb"


class PracticeError(RuntimeError):
    pass


def log(msg):
    print(f"[site] {msg}", flush=True)


# ------------------------------------------------------------------------------ assignments
def assignment_names(course: Path) -> list[str]:
    names = sorted(p.name for p in (course / "source").iterdir()
                   if p.is_dir() and (p / f"{p.name}.ipynb").is_file())
    if not names:
        raise PracticeError(f"no assignment in {course / 'source'}")
    return names


def describe(notebook: Path) -> dict:
    """Title, lesson and points of a (student or source) notebook, from its first cell and
    its graded cells' metadata."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    first = "".join(nb["cells"][0]["source"]) if nb["cells"] else ""
    title = re.search(r"^#\s+(.+)$", first, re.M)
    lesson = re.search(r"lesson (\d\d)", first)
    auto = manual = 0.0
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            if cell["cell_type"] == "markdown" or (meta.get("solution") and cell["cell_type"] != "code"):
                manual += float(meta.get("points", 0))
            else:
                auto += float(meta.get("points", 0))
    title = re.sub(r"^Assignment \d+:\s*", "", title.group(1).strip()) if title else notebook.stem
    return {"name": notebook.stem, "title": title[:1].upper() + title[1:],
            "lesson": lesson.group(1) if lesson else None, "auto_points": auto, "manual_points": manual}


_GENERATE = r"""
import json, os, shlex, sys, tempfile
# nbgrader runs `alembic` from PATH when it creates the gradebook: this Python's alembic
shim = tempfile.mkdtemp(prefix="teachkit-alembic-")
with open(os.path.join(shim, "alembic"), "w") as f:
    f.write("#!/bin/sh\nexec " + shlex.quote(sys.executable) + " -m alembic \"$@\"\n")
os.chmod(os.path.join(shim, "alembic"), 0o755)
os.environ["PATH"] = shim + os.pathsep + os.environ.get("PATH", "")
from traitlets.config.loader import PyFileConfigLoader
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
course, names = sys.argv[1], sys.argv[2:]
os.chdir(course)
config = PyFileConfigLoader("nbgrader_config.py", path=course).load_config()
config.CourseDirectory.db_url = "sqlite:///" + os.path.join(course, "gradebook.db")
api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
failed = []
for name in names:
    result = api.generate_assignment(name, force=True, create=True)
    if not result["success"]:
        failed.append(name + ": " + (result.get("error") or "") + (result.get("log") or "")[-2000:])
import shutil
shutil.rmtree(shim, ignore_errors=True)
print(json.dumps(failed))
"""


def generate(course: Path, out: Path, nbgrader_python: str = sys.executable) -> list[Path]:
    """The student version of every assignment of ``course`` into ``out`` (made by nbgrader's
    generate_assignment on a scratch copy of the course), each checked for secrets."""
    names = assignment_names(course)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="teachkit-release-") as scratch:
        copy = Path(scratch) / "course"
        copy.mkdir()
        shutil.copy2(course / "nbgrader_config.py", copy / "nbgrader_config.py")
        shutil.copytree(course / "grading", copy / "grading")
        shutil.copytree(course / "source", copy / "source")
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        run = subprocess.run([nbgrader_python, "-c", _GENERATE, str(copy), *names], capture_output=True,
                             text=True, env=env, cwd=scratch)
        if run.returncode != 0:
            raise PracticeError(f"nbgrader generate_assignment failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        failed = json.loads(run.stdout.strip().splitlines()[-1])
        if failed:
            raise PracticeError("nbgrader generate_assignment failed:\n" + "\n".join(failed))
        made = []
        for name in names:
            released = copy / "release" / name / f"{name}.ipynb"
            text = released.read_text(encoding="utf-8")
            leaked = [m for m in SECRET_MARKERS if m in text]
            if leaked:
                raise PracticeError(f"the student version of {name} still holds {leaked}")
            others = [p.name for p in released.parent.iterdir() if p != released]
            if others:
                raise PracticeError(f"{name}: the release has files besides the notebook: {others}")
            shutil.copy2(released, out / f"{name}.ipynb")
            made.append(out / f"{name}.ipynb")
    shutil.copy2(HOWTO, out / HOWTO.name)
    check_no_secrets(out)
    return made


def check_no_secrets(root: Path) -> None:
    """Fail if a solution or hidden-test region, a gradebook or the grading code is anywhere
    under ``root`` (text files, and the files inside wheels and zips)."""
    found = []
    markers = [m.encode() for m in SECRET_MARKERS]
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if SECRET_FILES.search(rel):
            found.append(f"{rel}: a gradebook or grading file")
            continue
        if path.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    if SECRET_FILES.search(member):
                        found.append(f"{rel}!{member}: a gradebook or grading file")
                    elif member.endswith((".ipynb", ".py", ".json", ".md", ".txt", ".html")):
                        data = z.read(member)
                        found += [f"{rel}!{member}: {m.decode()}" for m in markers if m in data]
            continue
        if path.suffix in (".wasm", ".png", ".ico", ".woff", ".woff2", ".ttf", ".eot", ".tar", ".gz", ".bz2",
                           ".so", ".data"):
            continue
        data = path.read_bytes()
        found += [f"{rel}: {m.decode()}" for m in markers if m in data]
    if found:
        raise PracticeError("secret course material would be published:\n  " + "\n  ".join(found[:20]))


# ------------------------------------------------------------------------------ the site
def prepare(contents: Path, lite: Path, work: Path, course: Path = ROOT / "course",
            nbgrader_python: str = sys.executable) -> list[dict]:
    """Before ``voici build``: the student versions and the how-to notebook into
    ``contents/practice/``; the notebook app and the storage name into the lite config.
    Returns the assignments' descriptions (for the page)."""
    folder = contents / FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    log(f"student versions of the assignments (nbgrader generate_assignment) into {FOLDER}/")
    made = generate(course, folder, nbgrader_python)
    config_path = lite / "jupyter-lite.json"
    config = json.loads(config_path.read_text())
    data = config.setdefault("jupyter-config-data", {})
    data["contentsStorageName"] = STORAGE_NAME
    # Voici patches these only when it is the only app; with the notebook app beside it, the
    # site still opens on Voici (the notebook app's own jupyter-lite.json sets its appUrl).
    data.setdefault("appUrl", "./voici")
    data.setdefault("faviconUrl", "./voici/favicon.ico")
    # Every cell of a notebook in the page (JupyterLab's default attaches only the cells in
    # view): the browser's find, a screen reader and the keyboard reach the whole exercise,
    # which is at most a few dozen cells.
    overrides = data.setdefault("settingsOverrides", {})
    overrides.setdefault("@jupyterlab/notebook-extension:tracker", {})["windowingMode"] = "none"
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    return [describe(p) for p in made]


#: Extra arguments of ``voici build``: JupyterLite's notebook app beside Voici.
BUILD_ARGS = ["--apps", "notebooks"]


def finish(out: Path, described: list[dict], lessons: dict[str, str]) -> None:
    """After ``voici build``: drop Voici's dashboards of the exercises, write the Practice page,
    check the whole site for secrets. ``lessons``: lesson number -> its page (relative to the
    site root)."""
    for sub in ("render", "tree"):
        shutil.rmtree(out / "voici" / sub / FOLDER, ignore_errors=True)
    tree = out / "voici" / "tree" / "index.html"
    if tree.is_file():
        # Voici's list of the contents: the exercises' folder is not a lesson
        text = tree.read_text()
        text = re.sub(r"<li[^>]*>(?:(?!</li>).)*?tree/" + FOLDER + r"(?:/index\.html)?\"(?:(?!</li>).)*</li>", "",
                      text, flags=re.S)
        tree.write_text(text)
    if not (out / "notebooks" / "index.html").is_file():
        raise PracticeError("the notebook app was not built (voici build --apps notebooks)")
    # the notebook app sets its icon from JavaScript: the browser asks for /favicon.ico first
    if not (out / "favicon.ico").exists():
        shutil.copy2(out / "notebooks" / "favicon.ico", out / "favicon.ico")
    page = out / FOLDER / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(practice_page(described, lessons), encoding="utf-8")
    check_no_secrets(out)
    log(f"Practice: {len(described)} exercises and the how-to notebook, page {FOLDER}/index.html")


def notebook_url(name: str, prefix: str = "../") -> str:
    return f"{prefix}notebooks/index.html?path={FOLDER}/{name}.ipynb"


def practice_page(described: list[dict], lessons: dict[str, str]) -> str:
    """The Practice section's page (``practice/index.html``): static HTML, no request outside."""
    esc = html.escape
    rows = []
    for a in sorted(described, key=lambda a: (a["lesson"] or "99", a["name"])):
        lesson = a["lesson"]
        goes = (f'<a href="../{esc(lessons[lesson])}">lesson {lesson}</a>' if lesson in lessons
                else (f"lesson {lesson}" if lesson else ""))
        points = f"{a['auto_points']:g} checked + {a['manual_points']:g} written"
        rows.append(
            f'<tr data-assignment="{esc(a["name"])}"><th scope="row"><a href="{esc(notebook_url(a["name"]))}">'
            f'{esc(a["title"])}</a></th><td>{goes}</td><td>{points}</td>'
            f'<td class="tk-saved" data-saved-for="{esc(a["name"])}">not started</td></tr>')
    options = "".join(f'<option value="{esc(a["name"])}">{esc(a["name"])}</option>'
                      for a in sorted(described, key=lambda a: (a["lesson"] or "99", a["name"])))
    names = json.dumps(sorted(a["name"] for a in described))
    home = "../index.html"
    first_lesson = lessons.get("00")
    lessons_link = f' · <a href="../{esc(first_lesson)}">Lesson 00</a>' if first_lesson else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Practice: the exercises in your browser</title>
<link rel="icon" href="../notebooks/favicon.ico">
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; color: #1F1F1F;
         margin: 0; background: #FFFFFF; }}
  main {{ max-width: 52rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }}
  a {{ color: #1A5FB4; text-decoration: underline; }}
  a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible {{
    outline: 3px solid #1A5FB4; outline-offset: 2px; }}
  h1 {{ font-size: 1.6rem; line-height: 1.25; }}
  .tk-note {{ border-left: 5px solid #4B4B8F; background: #F7F7FB; padding: 0.5rem 0.9rem; }}
  .tk-table-wrap {{ overflow-x: auto; }}
  table {{ border-collapse: collapse; width: 100%; }}
  caption {{ text-align: left; font-style: italic; padding-bottom: 0.3rem; }}
  th, td {{ text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #C8C8C8; vertical-align: top; }}
  thead th {{ border-bottom: 2px solid #595959; }}
  form {{ display: grid; gap: 0.4rem; max-width: 30rem; }}
  label {{ font-weight: 600; }}
  input, select, button {{ font: inherit; padding: 0.35rem 0.5rem; border: 1px solid #595959; border-radius: 4px; }}
  button {{ background: #1A5FB4; color: #FFFFFF; border-color: #1A5FB4; cursor: pointer; justify-self: start; }}
  button.tk-secondary {{ background: #FFFFFF; color: #1A5FB4; }}
  #id-rule {{ margin: 0; font-size: 0.92rem; color: #444444; }}
  #handin-status {{ min-height: 1.5em; }}
  .tk-error {{ color: #B00020; }}
  input[aria-invalid="true"] {{ border: 2px solid #B00020; }}
</style>
</head>
<body>
<main id="main">
<p><a href="{home}">Course home</a>{lessons_link}</p>
<h1>Practice: the course's exercises, in your browser</h1>
<p class="tk-note"><strong>The exercises need a little Python; the lessons do not.</strong> In each exercise you write
a few short functions with numpy, and test cells tell you in plain words what is wrong. If you have never used a
notebook, start with <a href="{esc(notebook_url(HOWTO.stem))}">How to run a cell</a> (about 10 minutes).</p>
<p>Everything runs in this browser (Python in WebAssembly, no server): the first notebook takes a minute or so to
start. <strong>Your work is kept in this browser's storage for this site</strong>, and nothing is sent anywhere. Save
with Ctrl+S (on a Mac, Cmd+S) before you leave a notebook; clearing this browser's data for the site deletes your
work, and another browser or computer does not see it.</p>

<h2>Start here</h2>
<ul>
<li><a href="{esc(notebook_url(HOWTO.stem))}">How to run a cell</a>: cells, running them, a first function and a
test cell (about 10 minutes).</li>
</ul>

<h2>The exercises</h2>
<p>These are the student versions of the course's graded assignments: no solutions, and the tests you see are the
visible ones (your instructor's grader adds hidden tests on other data).</p>
<div class="tk-table-wrap" tabindex="0" role="region" aria-label="The exercises">
<table>
<caption>Seven exercises, in the order of the lessons</caption>
<thead><tr><th scope="col">Exercise (opens the notebook)</th><th scope="col">Goes with</th><th scope="col">Points</th>
<th scope="col">In this browser</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</div>

<h2 id="hand-in">Hand in</h2>
<p>If your instructor collects the exercises through a course website (an LMS such as Moodle or Canvas), save your
notebook (Ctrl+S), then download it here and upload the file there. Its name carries your id and the exercise, as
the instructor's grading tool expects, for example <code>ada-lovelace_km-by-hand.ipynb</code>.</p>
<form id="handin" novalidate>
  <label for="student-id">Your student id (as your instructor gave it)</label>
  <input id="student-id" name="student-id" autocomplete="off" spellcheck="false" required
         pattern="{STUDENT_ID}" aria-describedby="id-rule">
  <p id="id-rule">1 to 64 letters, digits, dots, hyphens or @, starting with a letter or digit: no spaces
  and no underscores.</p>
  <label for="assignment">Exercise</label>
  <select id="assignment" name="assignment">{options}</select>
  <button type="submit" id="download">Download for hand-in</button>
  <button type="button" id="restart" class="tk-secondary">Start this exercise again from the original</button>
  <p id="handin-status" role="status" aria-live="polite"></p>
</form>
</main>
<script>
(function () {{
  var DB = {json.dumps(STORAGE_NAME)}, FOLDER = {json.dumps(FOLDER)}, NAMES = {names};
  var ID = new RegExp('^(?:{STUDENT_ID})$');
  var status = document.getElementById('handin-status');
  function say(text, error) {{ status.textContent = text; status.className = error ? 'tk-error' : ''; }}
  function database() {{   // JupyterLite's contents storage, or null if there is none yet
    return new Promise(function (resolve) {{
      var request;
      try {{ request = indexedDB.open(DB); }} catch (e) {{ resolve(null); return; }}
      request.onupgradeneeded = function () {{ request.transaction.abort(); }};   // never create it here
      request.onsuccess = function () {{ resolve(request.result); }};
      request.onerror = function () {{ resolve(null); }};
    }});
  }}
  function saved(db, name) {{   // the learner's saved notebook model, or null
    return new Promise(function (resolve) {{
      if (!db || !db.objectStoreNames.contains('files')) {{ resolve(null); return; }}
      var get = db.transaction('files', 'readonly').objectStore('files').get(FOLDER + '/' + name + '.ipynb');
      get.onsuccess = function () {{ var m = get.result; resolve(m && m.content ? m : null); }};
      get.onerror = function () {{ resolve(null); }};
    }});
  }}
  function forget(db, name) {{
    return new Promise(function (resolve) {{
      if (!db || !db.objectStoreNames.contains('files')) {{ resolve(false); return; }}
      var tx = db.transaction('files', 'readwrite');
      tx.objectStore('files').delete(FOLDER + '/' + name + '.ipynb');
      tx.oncomplete = function () {{ resolve(true); }};
      tx.onerror = function () {{ resolve(false); }};
    }});
  }}
  function original(name) {{
    return fetch('../files/' + FOLDER + '/' + name + '.ipynb').then(function (r) {{
      if (!r.ok) throw new Error('the exercise could not be read (' + r.status + ')');
      return r.json();
    }});
  }}
  function showSaved() {{
    database().then(function (db) {{
      NAMES.forEach(function (name) {{
        saved(db, name).then(function (model) {{
          var cell = document.querySelector('[data-saved-for="' + name + '"]');
          if (cell) cell.textContent = model ? 'saved ' + new Date(model.last_modified).toLocaleString() : 'not started';
        }});
      }});
    }});
  }}
  var input = document.getElementById('student-id'), choice = document.getElementById('assignment');
  input.addEventListener('input', function () {{ input.removeAttribute('aria-invalid'); }});
  document.getElementById('handin').addEventListener('submit', function (event) {{
    event.preventDefault();
    var id = input.value.trim(), name = choice.value;
    if (!ID.test(id)) {{
      input.setAttribute('aria-invalid', 'true');
      say('Check your student id: ' + document.getElementById('id-rule').textContent.replace(/\\s+/g, ' '), true);
      input.focus();
      return;
    }}
    if (NAMES.indexOf(name) < 0) {{ say('Choose an exercise.', true); return; }}
    database().then(function (db) {{ return saved(db, name); }}).then(function (model) {{
      return model ? {{nb: model.content, mine: true}} : original(name).then(function (nb) {{ return {{nb: nb, mine: false}}; }});
    }}).then(function (got) {{
      var file = id + '_' + name + '.ipynb';
      var blob = new Blob([JSON.stringify(got.nb, null, 1) + '\\n'], {{type: 'application/x-ipynb+json'}});
      var link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = file;
      document.body.appendChild(link);
      link.click();
      setTimeout(function () {{ URL.revokeObjectURL(link.href); link.remove(); }}, 1000);
      say(got.mine ? 'Downloaded ' + file + ': your work as last saved in this browser.'
                   : 'Downloaded ' + file + ': you have not saved any work on this exercise in this browser, so this is the original, untouched.');
    }}).catch(function (e) {{ say('The download failed: ' + e.message, true); }});
  }});
  document.getElementById('restart').addEventListener('click', function () {{
    var name = choice.value;
    if (!window.confirm('Delete your saved work on ' + name + ' in this browser and start again from the original?')) return;
    database().then(function (db) {{ return forget(db, name); }}).then(function () {{
      say('Your saved work on ' + name + ' is deleted: it opens as the original.');
      showSaved();
    }});
  }});
  showSaved();
}})();
</script>
</body>
</html>
"""


# ------------------------------------------------------------------------------ Binder
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Student versions of the course's assignments (nbgrader)")
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("exercises", help="write the student versions and the how-to notebook into a folder")
    ex.add_argument("--course", type=Path, default=ROOT / "course")
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--nbgrader-python", default=sys.executable)
    args = parser.parse_args(argv)
    try:
        made = generate(args.course.resolve(), args.out.resolve(), args.nbgrader_python)
    except PracticeError as e:
        print(f"[exercises] FAILED: {e}", file=sys.stderr)
        return 1
    print(f"[exercises] {len(made)} student versions and {HOWTO.name} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
