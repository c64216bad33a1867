"""The browser side of the practice (teachkit.explorers.practice): its stylesheet and the script that
keeps the progress in the learner's ``localStorage`` (nothing is sent anywhere), the course home's
progress placeholders and script, and the course home's paragraph on the coding exercises.
"""

from __future__ import annotations

import html
import re

from teachkit.explorers._practice_bank import QUESTIONS, lesson_key
from teachkit.explorers._practice_core import STORAGE_KEY


# --------------------------------------------------------------------------------------
# The widget's stylesheet and progress script; the course home's progress
# --------------------------------------------------------------------------------------

_CSS = """
.tk-practice .tk-practice-row { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; }
.tk-practice .tk-practice-prompt table { margin: 0.4em 0; }
.tk-practice .tk-practice-prompt caption { text-align: left; font-style: italic; }
.tk-practice .widget-radio-box label { white-space: normal; }
.tk-practice .tk-practice-saved { font-size: 0.92em; color: #333333; }
.tk-practice .tk-practice-saved button { margin-left: 0.5em; }
.tk-practice .widget-text input { min-width: 8em; }
@media (max-width: 640px) {
  .tk-practice .widget-text { flex-wrap: wrap; height: auto !important; }
  .tk-practice .widget-text > .widget-label { flex: 1 1 100%; max-width: 100%; white-space: normal;
    text-align: left !important; }
  .tk-practice .tk-practice-prompt { overflow-x: auto; }
}
"""

_JS = r"""
(function () {
  var KEY = '__KEY__';
  if (window.__teachkitPractice) { window.__teachkitPractice.scan(document); return; }
  function load() {   // the stored progress, or null when the browser allows no storage
    try {
      var v = JSON.parse(window.localStorage.getItem(KEY) || 'null');
      return (v && typeof v === 'object' && v.lessons && typeof v.lessons === 'object') ? v : {v: 1, lessons: {}};
    } catch (e) { return null; }
  }
  function store(data) {
    try { window.localStorage.setItem(KEY, JSON.stringify(data)); return true; } catch (e) { return false; }
  }
  function words(s) { return (s || '').split(' ').filter(function (w) { return /^[a-z0-9-]+$/.test(w); }); }
  function show(box, keys, right, ok, lesson) {
    var saved = box.querySelector('.tk-practice-saved .widget-html-content') || box.querySelector('.tk-practice-saved');
    if (!saved) return;
    var text;
    if (!ok) {
      text = 'Your progress cannot be kept: this browser does not allow storage for this page.';
    } else {
      var numbers = keys.map(function (k, i) { return right.indexOf(k) >= 0 ? String(i + 1) : null; })
                        .filter(function (x) { return x; });
      text = 'Kept in this browser only, nothing is sent anywhere: ' + numbers.length + ' of ' + keys.length +
             ' questions answered right' + (numbers.length ? ' (question' + (numbers.length > 1 ? 's ' : ' ') +
             numbers.join(', ') + ').' : '.');
    }
    if (saved.getAttribute('data-tk-text') === text) return;
    saved.setAttribute('data-tk-text', text);
    saved.textContent = text;
    if (ok && right.length) {
      var forget = document.createElement('button');
      forget.type = 'button';
      forget.className = 'jupyter-button tk-practice-forget';
      forget.textContent = 'Forget my progress';
      forget.addEventListener('click', function () {
        var data = load(), el = box.querySelector('.tk-practice-data');
        if (data) { delete data.lessons[lesson]; store(data); }
        // what was answered right on this page so far no longer counts either
        box.setAttribute('data-tk-ignore', el ? el.getAttribute('data-right') || '' : '');
        sync(box, true);
      });
      saved.appendChild(forget);
    }
  }
  function sync(box, force) {
    var el = box.querySelector('.tk-practice-data');
    if (!el) return;
    var signature = el.outerHTML + '|' + (box.getAttribute('data-tk-ignore') || '');
    var saved = box.querySelector('.tk-practice-saved [data-tk-text]');
    if (!force && saved && box.__tkSignature === signature) return;
    box.__tkSignature = signature;
    var lesson = el.getAttribute('data-lesson'), keys = words(el.getAttribute('data-keys'));
    if (!/^[0-9]{2}$/.test(lesson)) return;
    var ignore = words(box.getAttribute('data-tk-ignore'));
    var fresh = words(el.getAttribute('data-right')).filter(function (k) { return ignore.indexOf(k) < 0; });
    var data = load();
    if (!data) { show(box, keys, fresh, false, lesson); return; }
    var entry = data.lessons[lesson];
    var right = entry && entry.right ? entry.right.filter(function (k) { return keys.indexOf(k) >= 0; }) : [];
    fresh.forEach(function (k) { if (right.indexOf(k) < 0) right.push(k); });
    right.sort(function (a, b) { return keys.indexOf(a) - keys.indexOf(b); });
    var ok = true;
    var changed = entry ? (right.join(' ') !== (entry.right || []).join(' ') || keys.join(' ') !== (entry.keys || []).join(' '))
                        : right.length > 0;   // nothing is stored for a lesson until a question is answered right
    if (changed) {
      data.v = 1;
      data.lessons[lesson] = {total: keys.length, keys: keys, right: right, updated: new Date().toISOString()};
      ok = store(data);
    }
    show(box, keys, right, ok, lesson);
  }
  function scan(root) {
    if (root.querySelectorAll) root.querySelectorAll('.tk-practice').forEach(function (b) { sync(b, false); });
  }
  // A widget's parts are attached one by one and get their classes a moment later: after any
  // node is added (or the state's text changes), look again once things settle. A box whose
  // state has not changed since it was last shown is skipped (cheap on pages that redraw).
  var pending = false;
  function later() { if (!pending) { pending = true; setTimeout(function () { pending = false; scan(document); }, 50); } }
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      if (records[i].addedNodes.length || records[i].type === 'characterData') { later(); return; }
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  window.addEventListener('storage', function (e) {
    if (e.key === KEY && document.querySelectorAll) document.querySelectorAll('.tk-practice').forEach(function (b) { sync(b, true); });
  });
  window.__teachkitPractice = {scan: scan, load: load};
  scan(document);
})();
""".replace("__KEY__", STORAGE_KEY)

#: The stylesheet and the progress script (HTML), shown before every Practice widget.
FRONTEND = f"<style>{_CSS}</style><script>{_JS}</script>"

#: For the course home page: fills every ``[data-tk-practice-lesson]`` placeholder (see
#: :func:`progress_html`) from the browser's stored progress.
HOME_SCRIPT = r"""<script>
(function () {
  var KEY = '__KEY__', data = null;
  try { data = JSON.parse(window.localStorage.getItem(KEY) || 'null'); } catch (e) { data = null; }
  var lessons = (data && data.lessons) || {};
  document.querySelectorAll('[data-tk-practice-lesson]').forEach(function (el) {
    var lesson = el.getAttribute('data-tk-practice-lesson'), entry = lessons[lesson];
    var total = entry && entry.keys ? entry.keys.length : Number(el.getAttribute('data-tk-practice-total') || 0);
    var right = entry && entry.right ? entry.right.filter(function (k) { return entry.keys.indexOf(k) >= 0; }).length : 0;
    el.textContent = entry ? ('Practice: ' + right + ' of ' + total + ' right') :
                             ('Practice: ' + total + ' questions, not started');
    el.setAttribute('data-tk-practice-right', String(right));
  });
})();
</script>""".replace("__KEY__", STORAGE_KEY)


def progress_html(lesson) -> str:
    """A placeholder for the course home page: "Practice: 4 questions, not started" until
    :data:`HOME_SCRIPT` (include it once, after the placeholders) fills in what the learner's
    browser has stored.

    >>> progress_html("04")
    '<span class="tk-practice-progress" data-tk-practice-lesson="04" data-tk-practice-total="4">Practice: 4 questions</span>'
    """
    key = lesson_key(lesson)
    n = len(QUESTIONS[key])
    return (f'<span class="tk-practice-progress" data-tk-practice-lesson="{key}" '
            f'data-tk-practice-total="{n}">Practice: {n} questions</span>')


# --------------------------------------------------------------------------------------
# The coding exercises, on the course home
# --------------------------------------------------------------------------------------

#: Where binder/postBuild puts the student versions of the assignments (beside lessons/).
EXERCISES_FOLDER = "exercises"
HOWTO_NAME = "how-to-run-a-cell"

_EXERCISES_INTRO = ("<p><strong>Coding exercises.</strong> The course also has seven exercises in which you write "
                    "short Python functions (with numpy) and test cells tell you what is wrong. <strong>They need a "
                    "little Python; the lessons do not.</strong> New to notebooks? Start with <em>How to run a "
                    "cell</em> (about 10 minutes).</p>")

_EXERCISES_SCRIPT = """<script>
(function () {
  /* Links made from where the page is: the site's root (before /voici/), or the Jupyter
     server's base URL (its page config) for the notebook interface. */
  var config = document.getElementById('jupyter-config-data'), base = null;
  try { base = JSON.parse(config.textContent).baseUrl; } catch (e) { base = null; }
  document.querySelectorAll('a[data-tk-site-path]').forEach(function (a) {
    var path = location.pathname, i = path.indexOf('/voici/');
    if (i >= 0) a.setAttribute('href', path.slice(0, i + 1) + a.getAttribute('data-tk-site-path'));
  });
  document.querySelectorAll('a[data-tk-notebook]').forEach(function (a) {
    if (base) a.setAttribute('href', base.replace(/\\/?$/, '/') + 'notebooks/' + a.getAttribute('data-tk-notebook'));
  });
  /* the same tab, as the course home's other links (the front end adds target=_blank later) */
  setTimeout(function () {
    document.querySelectorAll('a[data-tk-notebook], a[data-tk-site-path]').forEach(function (a) {
      a.removeAttribute('target'); a.removeAttribute('rel');
    });
  }, 0);
})();
</script>"""


def _exercise_title(path) -> tuple:
    """(lesson, title) of an exercise notebook, from its first cell (lesson "" if it names none)."""
    import json

    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first = "".join(cells[0]["source"]) if cells else ""
    except (OSError, ValueError, KeyError, IndexError):
        return "", path.stem
    title = re.search(r"^#\s+(.+)$", first, re.M)
    lesson = re.search(r"lesson (\d\d)", first)
    text = re.sub(r"^Assignment \d+:\s*", "", title.group(1).strip()) if title else path.stem
    return (lesson.group(1) if lesson else ""), text[:1].upper() + text[1:]


def exercises_html(folder=".") -> str:
    """The course home's paragraph on the coding exercises, for where the home is served.

    * The no-install site (Python in the browser): a link to its Practice page, where the
      exercises open in the notebook app and are handed in.
    * A Jupyter server whose lessons have ``exercises/`` beside them (Binder and a hub, made
      by binder/postBuild): every exercise, opened in the notebook interface.
    * Elsewhere (``teachkit lessons`` on a computer): where the exercises are.

    >>> "need a little Python" in exercises_html("/nonexistent")
    True
    """
    import sys
    from pathlib import Path

    if sys.platform == "emscripten":
        body = ('<p><a data-tk-site-path="practice/index.html" href="../../practice/index.html">The exercises, '
                "in your browser</a>: open one, save your work in this browser, and download it to hand in.</p>")
        return _EXERCISES_INTRO + body + _EXERCISES_SCRIPT
    exercises = Path(folder).resolve().parent / EXERCISES_FOLDER
    found = sorted(exercises.glob("*.ipynb")) if exercises.is_dir() else []
    if not found:
        return _EXERCISES_INTRO + ("<p>They are on the course's no-install site and on Binder, or your "
                                   "instructor gives them to you.</p>")
    items = []
    ordered = sorted(found, key=lambda p: (p.stem != HOWTO_NAME, _exercise_title(p)[0] or "99", p.stem))
    for path in ordered:
        lesson, title = _exercise_title(path)
        if path.stem == HOWTO_NAME:
            title, extra = "How to run a cell", " (about 10 minutes: start here)"
        else:
            extra = f" (goes with lesson {lesson})" if lesson else ""
        rel = f"{EXERCISES_FOLDER}/{path.name}"
        items.append(f'<li><a data-tk-notebook="{html.escape(rel)}" href="../../../notebooks/{html.escape(rel)}">'
                     f"{html.escape(title)}</a>{html.escape(extra)}</li>")
    body = ("<p>They open in the notebook interface. This session is temporary: before you close it, save your "
            "work to your computer (<em>File → Download</em>).</p>"
            f'<ul class="tk-exercises">{"".join(items)}</ul>')
    return _EXERCISES_INTRO + body + _EXERCISES_SCRIPT


def show_exercises(folder=".") -> None:
    """Display :func:`exercises_html` (a code cell of the course home)."""
    from IPython.display import HTML, display

    display(HTML(exercises_html(folder)))


# --------------------------------------------------------------------------------------
# The coding exercise of a lesson, under its practice questions
# --------------------------------------------------------------------------------------

#: lesson -> (assignment, title) of the course's coding exercise that goes with it (each
#: assignment's first cell says "Goes with lesson NN"; tests/test_practice.py checks this
#: against course/source).  Lesson 00 has none: it points to "How to run a cell".
EXERCISE_FOR_LESSON = {
    "01": ("km-by-hand", "A Kaplan-Meier table by hand"),
    "02": ("logrank-and-hr", "The log-rank test and the hazard ratio"),
    "03": ("risk-groups", "Risk groups and randomization strata"),
    "04": ("planning-events", "Planning a trial: how many events, how many patients?"),
    "05": ("looking-early", "Looking early"),
    "06": ("interim-decision", "The interim decision"),
    "07": ("after-the-stop", "After the stop"),
}


def lesson_exercise_html(lesson, folder=".") -> str:
    """The line under a lesson's practice questions that links its coding exercise, where
    the lesson is served: on the no-install site its notebook in the site's Practice section;
    on Binder and a hub (``exercises/`` beside the lessons' folder) the notebook interface;
    elsewhere, where to find it.  Lesson 00 points to "How to run a cell" instead.  In a
    ``tk-practice`` block: the practice's time, not the story's (tests/newcomer.py).

    >>> "needs a little Python" in lesson_exercise_html("01", "/nonexistent")
    True
    """
    import sys
    from pathlib import Path

    key = lesson_key(lesson)
    name, title = EXERCISE_FOR_LESSON.get(key, (HOWTO_NAME, "How to run a cell"))
    if key in EXERCISE_FOR_LESSON:
        lead = ("<strong>Coding exercise</strong> for this lesson (it needs a little Python; the questions "
                "above do not): ")
    else:
        lead = ("<strong>Coding exercises</strong> go with lessons 01-07; they need a little Python, the "
                "lessons do not. New to notebooks? Start with ")
    site = sys.platform == "emscripten"
    beside = Path(folder).resolve().parent / EXERCISES_FOLDER / f"{name}.ipynb"
    if site:
        path = f"notebooks/index.html?path=practice/{name}.ipynb"
        link = (f'<a data-tk-site-path="{html.escape(path)}" href="../../{html.escape(path)}">{html.escape(title)}</a>'
                '. Save your work in this browser and download it to hand in from the '
                '<a data-tk-site-path="practice/index.html" href="../../practice/index.html">Practice page</a>.')
    elif beside.is_file():
        rel = f"{EXERCISES_FOLDER}/{name}.ipynb"
        link = (f'<a data-tk-notebook="{html.escape(rel)}" href="../../../notebooks/{html.escape(rel)}">'
                f"{html.escape(title)}</a> (in the notebook interface).")
    else:
        link = (f"<em>{html.escape(title)}</em>: on the course's no-install site and on Binder, or your "
                "instructor gives it to you.")
    script = _EXERCISES_SCRIPT if (site or beside.is_file()) else ""
    return f'<div class="tk-practice tk-practice-exercise"><p>{lead}{link}</p></div>{script}'
