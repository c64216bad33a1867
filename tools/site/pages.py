"""The static site's pages that need no Python in the browser (issue 26): the course home
(``index.html``, the site's front page) and the glossary (``voici/render/glossary.html``, the
page a lesson's terms open beside it), plus the redirects that lead to the home.

They are made at build time from the same sources as on Voila: ``lessons/index.ipynb`` and
``lessons/glossary.ipynb`` (itself made from :mod:`teachkit.glossary`), their markdown
rendered by :func:`teachkit._mathml.markdown_to_html` (formulas as MathML, glossary terms
defined in place), and the course home's lesson list by :func:`teachkit.course.home_html`,
run in the site's own Pyodide under Node (it reads each lesson's times and its practice
progress placeholders, which need the explorers' dependencies the build's Python lacks).
Each page carries teachkit's page script and stylesheet (``teachkit-page.html``: folds,
terms, the glossary's way back) and loads nothing from outside the site.

A lesson page (Voici) links the home as ``../../index.html`` and the glossary as
``glossary.html`` (:func:`site_links`).
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))          # teachkit's pure-Python parts (course, glossary, _mathml)

TEMPLATE = ROOT / "teachkit" / "_jupyter" / "voila" / "templates" / "teachkit"
#: Where the pages are, relative to the site's root.
HOME = "index.html"
RENDER = "voici/render/"
GLOSSARY = RENDER + "glossary.html"
#: Pages that only lead to the home (Voici's own front pages, the README's old link).
REDIRECTS = ("voici/index.html", "voici/tree/index.html", "voici/render/index.html")


class PagesError(RuntimeError):
    pass


def site_links(markdown: str, lesson_names: set, depth: int = 2) -> str:
    """A lesson's markdown as the site serves it: links to other lessons (``NN-....ipynb``)
    and the glossary point to their pages (``.html``, beside it), the course home
    (``index.ipynb``) to the site's front page, and each glossary term is written with its
    definition in place (as Voila's renderer writes it).

    >>> site_links("[next](01-x.ipynb) [all](index.ipynb) [g](glossary.ipynb)", {"01-x"})
    '[next](01-x.html) [all](../../index.html) [g](glossary.html)'
    """
    from teachkit import glossary

    names = sorted((set(lesson_names) - {"index"}) | {"glossary"})
    link = re.compile(r"\]\((" + "|".join(re.escape(n) for n in names) + r")\.ipynb(#[^)\s]*)?\)")
    text = link.sub(lambda m: f"]({m.group(1)}.html{m.group(2) or ''})", markdown)
    text = re.sub(r"\]\((?:\./)?index\.ipynb\)", "](" + "../" * depth + HOME + ")", text)
    return glossary.link_terms(text, prefix="s")


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


#: The static pages' own look: the lesson pages' text (JupyterLab's classes) without JupyterLab.
STYLE = """<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 15px;
         line-height: 1.55; color: #1F1F1F; margin: 0; background: #FFFFFF; }
  main { max-width: 52rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
  a { color: #1A5FB4; }
  a:focus-visible, button:focus-visible, summary:focus-visible { outline: 3px solid #1A5FB4; outline-offset: 2px; }
  h1 { font-size: 1.7rem; line-height: 1.25; }
  h2 { font-size: 1.3rem; margin-top: 1.6em; }
  .tk-visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); white-space: nowrap; }
  .jp-RenderedHTMLCommon p, .jp-RenderedHTMLCommon li { overflow-wrap: anywhere; }
  math { font-family: "STIX Two Math", "Cambria Math", "Latin Modern Math", "DejaVu Math TeX Gyre", math; }
  details.tk-note { margin: 0.3em 0 0.8em; }
  details.tk-note > summary { cursor: pointer; color: #1F1F3D; }
  .tk-glossary-entry { padding: 0.1em 0.4em; }
</style>"""


def page(title: str, body: str, depth: int) -> str:
    """A static page: ``body`` (HTML) with teachkit's page script and stylesheet."""
    shared = (TEMPLATE / "teachkit-page.html").read_text(encoding="utf-8") + \
        (TEMPLATE / "glossary-data.html").read_text(encoding="utf-8")
    icon = "../" * depth + "favicon.ico"
    # The site's root page is also JupyterLite's root: its apps (the Practice section's notebook
    # app) read the config of every index.html up to the root, and stop on a page without one.
    # An empty one, and no config-utils.js: the home does not redirect to an app.
    lite_root = ('<script id="jupyter-config-data" type="application/json" data-jupyter-lite-root=".">{}</script>\n'
                 if depth == 0 else "")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<link rel=\"icon\" href=\"{icon}\">\n{lite_root}{STYLE}\n{shared}\n"
            f'</head>\n<body>\n<main id="main" class="jp-Notebook">\n{body}\n</main>\n</body>\n</html>\n')


def markdown_cells_html(nb: dict, lesson_names: set, depth: int, code=None) -> str:
    """A notebook's cells as static HTML: markdown rendered as on Voila, each code cell
    replaced by ``code(cell)`` (an error if there is a code cell and no ``code``)."""
    from teachkit._mathml import markdown_to_html

    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = site_links(_source(cell), lesson_names, depth)
            out.append('<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedHTMLCommon jp-RenderedMarkdown '
                       f'jp-MarkdownOutput">{markdown_to_html(text)}</div></div>')
        elif cell["cell_type"] == "code":
            if code is None:
                raise PagesError(f"a code cell in a static page: {_source(cell)[:80]!r}")
            out.append(f'<div class="jp-Cell jp-CodeCell"><div class="jp-RenderedHTMLCommon">{code(cell)}</div></div>')
    return "\n".join(out)


# ---- the course home's lesson list, made by teachkit in the site's Pyodide ----------------

HOME_JS = r"""
const {loadPyodide} = require(process.argv[2] + "/pyodide.js");
const fs = require("fs");
(async () => {
  const py = await loadPyodide({indexURL: process.argv[2] + "/"});
  await py.loadPackage(["teachkit"], {messageCallback: () => {}});
  py.FS.mkdir("/lessons");
  for (const name of fs.readdirSync(process.argv[3])) {
    if (name.endsWith(".ipynb")) py.FS.writeFile("/lessons/" + name, fs.readFileSync(process.argv[3] + "/" + name));
  }
  const out = py.runPython(`
import logging
logging.getLogger("matplotlib").setLevel(logging.ERROR)
import teachkit.course
teachkit.course.home_html("/lessons", suffix=".html", prefix="` + process.argv[5] + `")`);
  fs.writeFileSync(process.argv[4], out);
})().catch((e) => { console.error(e); process.exit(1); });
"""


def lesson_list_html(pyodide_dist: Path, lessons_dir: Path, work: Path, prefix: str = RENDER) -> str:
    """:func:`teachkit.course.home_html` for ``lessons_dir``, run in the site's Pyodide."""
    script = work / "course-home.js"
    script.write_text(HOME_JS)
    out = work / "course-home.html"
    if out.exists():
        out.unlink()
    run = subprocess.run(["node", str(script), str(pyodide_dist), str(lessons_dir), str(out), prefix],
                         capture_output=True, text=True)
    if run.returncode != 0 or not out.is_file():
        raise PagesError(f"the course home's lesson list (teachkit in Pyodide under Node) failed:\n"
                         f"{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return out.read_text(encoding="utf-8")


# ---- the pages ------------------------------------------------------------------------------

#: The Practice section of the site, added to the course home's (tools/site/practice.py's page).
PRACTICE_LINKS = ('<p><a href="practice/index.html">The exercises in your browser</a>: the course\'s graded '
                  "exercises to practise on (they need a little Python; the lessons do not).</p>")


#: The course home's cell that lists the coding exercises where the home is served
#: (teachkit.explorers.practice.show_exercises): on the site, PRACTICE_LINKS says it.
EXERCISES_CELL = "import teachkit.explorers.practice\nteachkit.explorers.practice.show_exercises()"


def course_home(lessons_dir: Path, pyodide_dist: Path, work: Path, practice_links: str = PRACTICE_LINKS) -> str:
    """The course home (``index.html`` at the site's root) from ``lessons/index.ipynb``."""
    from teachkit import course

    nb = json.loads((lessons_dir / "index.ipynb").read_text(encoding="utf-8"))
    names = {p.stem for p in lessons_dir.glob("[0-9][0-9]-*.ipynb")}
    listing = lesson_list_html(pyodide_dist, lessons_dir, work)

    def code(cell):
        if _source(cell).strip() == EXERCISES_CELL:
            return ""
        if _source(cell).strip() != course.HOME_CELL:
            raise PagesError(f"the course home's code cell is not {course.HOME_CELL!r}")
        return listing

    body = markdown_cells_html(nb, names, depth=0, code=code)
    # links written for a lesson's folder (glossary.html beside the lessons) from the root
    body = body.replace('href="glossary.html', f'href="{GLOSSARY}')
    if practice_links:
        body = body.replace('<div id="tk-practice-progress"', practice_links + '<div id="tk-practice-progress"', 1)
    title = nb["metadata"].get("title") or "The course"
    return page(title, body, depth=0)


def glossary_page(lessons_dir: Path) -> str:
    """The glossary (``voici/render/glossary.html``) from ``lessons/glossary.ipynb``."""
    nb = json.loads((lessons_dir / "glossary.ipynb").read_text(encoding="utf-8"))
    names = {p.stem for p in lessons_dir.glob("[0-9][0-9]-*.ipynb")}
    return page("Glossary", markdown_cells_html(nb, names, depth=2), depth=2)


def redirect(to: str) -> str:
    """A page that opens ``to`` at once (no entry in the history), and links it."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>The course</title>\n'
            f'<noscript><meta http-equiv="refresh" content="0; url={html.escape(to)}"></noscript>\n'
            f"<script>window.location.replace({json.dumps(to)});</script>\n</head>\n"
            f'<body><main><p><a href="{html.escape(to)}">The course home</a></p></main></body>\n</html>\n')


def write(out: Path, lessons_dir: Path, pyodide_dist: Path, work: Path) -> list[Path]:
    """Write the course home, the glossary and the redirects into the built site ``out``."""
    written = []
    (out / HOME).write_text(course_home(lessons_dir, pyodide_dist, work), encoding="utf-8")
    written.append(out / HOME)
    (out / GLOSSARY).parent.mkdir(parents=True, exist_ok=True)
    (out / GLOSSARY).write_text(glossary_page(lessons_dir), encoding="utf-8")
    written.append(out / GLOSSARY)
    for path in REDIRECTS:
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        depth = len(Path(path).parts) - 1
        target.write_text(redirect("../" * depth + HOME), encoding="utf-8")
        written.append(target)
    return written
