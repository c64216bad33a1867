"""The course home page: the eight lessons in order, each with the question it answers and
its time, read from the lessons themselves (never typed twice).

``lessons/index.ipynb`` is the course home.  Its one code cell calls :func:`show_home`,
which reads the lesson notebooks beside it (a lesson's kernel runs in its own folder, in
Voila as on Binder and a hub) and shows the list; the static site's build writes the same
HTML into its home page (tools/site/build.py).  Voila's tree page of a folder with a course
home opens it (the "teachkit" template's tree.html), so ``/`` on ``teachkit lessons`` and
``voila/tree/lessons`` on Binder and a hub are the course page, not a file list.

What is read from a lesson (``lessons/NN-slug.ipynb``):

* its title, the first ``# NN · Title`` heading;
* its question, the line that starts ``**The question:**``;
* its times, from its top line: ``⏱ **About 18 minutes** (the story) · folded parts for the
  statistician: about 12 minutes more, optional.`` (the older ``About twenty minutes`` is
  read as the story's time).

>>> stated_times("⏱ **About 18 minutes** (the story) · folded parts for the statistician: "
...              "about 12 minutes more, optional.")
(18, 12)
>>> stated_times("⏱ **About twenty minutes.** **After this lesson you can:** ...")
(20, None)
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Lesson", "lessons", "stated_times", "home_html", "show_home", "HOME_CELL", "PRACTICE_ID"]

NUMBER_WORDS = {"five": 5, "ten": 10, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20,
                "twenty-five": 25, "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60}
_N = r"(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
#: The top line, as markdown (``**About 18 minutes**``) or as rendered text.
TOP_LINE = re.compile(r"About " + _N + r" minutes?[.*\s]*(\(the story\))?(?:.{0,80}?folded parts[^:]*:\s*about "
                      + _N + r" minutes? more)?", re.I | re.S)
#: The code of the course home's one code cell (the site's build puts the HTML in its place).
HOME_CELL = "import teachkit.course\nteachkit.course.show_home()"
#: The id of the course home's practice section (the practice widgets fill its progress).
PRACTICE_ID = "tk-practice"


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def stated_times(text: str):
    """(story minutes, folded minutes or None) from a lesson's top line, or None."""
    m = TOP_LINE.search(text)
    if not m:
        return None
    return _number(m.group(1)), (_number(m.group(3)) if m.group(3) else None)


@dataclass(frozen=True)
class Lesson:
    """A lesson as the course home shows it."""

    number: str          # "04"
    name: str            # "04-planning-events" (the notebook's stem)
    title: str           # "Planning: how many events, how many patients?"
    question: str        # markdown of its question
    story_minutes: int | None
    folded_minutes: int | None


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def read_lesson(path) -> Lesson:
    """What the course home shows of the lesson notebook at ``path``."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    text = "\n\n".join(_source(c) for c in nb["cells"][:4] if c["cell_type"] == "markdown")
    title = re.search(r"^#\s+(?:\d\d\s*·\s*)?(.+)$", text, re.M)
    question = re.search(r"\*\*The question[^*:]*:\*\*\s*(.+)", text)
    times = stated_times(text) or (None, None)
    return Lesson(number=path.stem[:2], name=path.stem,
                  title=title.group(1).strip() if title else path.stem,
                  question=question.group(1).strip() if question else "",
                  story_minutes=times[0], folded_minutes=times[1])


def lessons(folder=".") -> list[Lesson]:
    """The lessons of ``folder`` (``NN-*.ipynb``), in order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder {str(folder)!r} is not a folder of lessons")
    found = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
    if not found:
        raise ValueError(f"folder {str(folder)!r} holds no lesson (NN-*.ipynb)")
    return [read_lesson(p) for p in found]


_INLINE = [(re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
           (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>")]


def _inline(markdown: str) -> str:
    """A one-line markdown text as HTML (escaped; emphasis; links and formulas as text)."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"\$([^$]+)\$", r"\1", text)
    out = html.escape(text)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def _minutes(lesson: Lesson) -> str:
    if lesson.story_minutes is None:
        return ""
    out = f"about {lesson.story_minutes} min"
    if lesson.folded_minutes:
        out += f" · {lesson.folded_minutes} min more, optional, for the statistician"
    return out


def _practice():
    """The practice module's progress placeholder and script (teachkit.explorers.practice),
    or None where the explorers cannot be imported."""
    try:
        from teachkit.explorers import practice
    except ImportError:  # pragma: no cover - an install without the explorers' dependencies
        return None
    return practice


def home_html(folder=".", suffix: str = ".ipynb", prefix: str = "") -> str:
    """The lessons' list of the course home (HTML): each lesson's number and title (a link,
    same tab: ``<prefix><name><suffix>``), the question it answers, its times, and a place its
    practice progress fills in; then the practice's script."""
    practice = _practice()
    items = []
    total = 0
    for lesson in lessons(folder):
        total += lesson.story_minutes or 0
        progress = ""
        if practice is not None:
            try:
                progress = practice.progress_html(lesson.number)
            except (KeyError, ValueError):
                progress = ""
        minutes = _minutes(lesson)
        items.append(
            f'<li class="tk-home-lesson" data-tk-lesson="{html.escape(lesson.name)}">'
            f'<a class="tk-home-title" href="{html.escape(prefix + lesson.name + suffix)}">'
            f'{lesson.number} · {_inline(lesson.title)}</a>'
            + (f' <span class="tk-home-time">({html.escape(minutes)})</span>' if minutes else "")
            + (f'<p class="tk-home-question">{_inline(lesson.question[:1].upper() + lesson.question[1:])}</p>'
               if lesson.question else "")
            + (f'<p class="tk-home-progress">{progress}</p>' if progress else "")
            + "</li>")
    head = (f'<p class="tk-home-total">The lessons, in order: about {total} minutes in all, the folded '
            "parts for the statistician apart.</p>") if total else ""
    script = practice.HOME_SCRIPT if practice is not None else ""
    return (f'<nav class="tk-home" aria-label="The lessons">{head}<ol class="tk-home-lessons">'
            + "".join(items) + f"</ol></nav>{HOME_STYLE}{script}")


HOME_STYLE = """<style>
nav.tk-home ol.tk-home-lessons { padding-left: 0; margin-left: 0; list-style: none; }
.tk-home-lesson { margin: 0 0 1em; padding: 0.6em 0.8em; border: 1px solid #C8C8D8; border-radius: 4px; }
.tk-home-title { font-size: 1.1rem; font-weight: 600; }
.tk-home-time { color: #444444; }
.tk-home-question, .tk-home-progress { margin: 0.3em 0 0; }
.tk-home-progress { color: #444444; font-size: 0.92rem; }
</style>
<script>
/* A lesson opens in the same tab: the notebook front end gives an output's links
   target=_blank after its scripts ran, so they are taken off just after. */
setTimeout(function () {
  document.querySelectorAll(".tk-home a[target]").forEach(function (a) {
    a.removeAttribute("target"); a.removeAttribute("rel");
  });
}, 0);
</script>"""


def show_home(folder=".", suffix: str = ".ipynb") -> None:
    """Display :func:`home_html` (the course home's code cell)."""
    from IPython.display import HTML, display

    display(HTML(home_html(folder, suffix)))
