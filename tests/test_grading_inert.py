"""Student work is inert wherever a browser renders it (course/grading/inert.py).

The reproduction (issue 29, critical finding 3): ``<img src=x onerror=...>`` in a written
answer runs JavaScript in the instructor's formgrader page, the Jupyter server's own origin.
Played here in headless Chromium against a real formgrader (Jupyter server + nbgrader's
formgrader extension on 127.0.0.1, tests/formgrader_harness.py):

* with nbgrader's stock configuration the payloads run (the control: the detectors work);
* with teachkit's configuration nothing a student wrote runs, loads, navigates or covers the
  grading controls, in the formgrader's submission page and in the feedback page; a notebook
  autograded *without* teachkit's preprocessor is made inert when it is shown (render-time
  hook); legitimate answers stay readable (markdown, ``$a<b$``, ``P < .05``, code spans,
  tables, PNG images).

A catalogue of known vectors is played twice: through the sanitizer alone (one Chromium page,
fast; each payload also rendered raw as a control) and inside the notebook graded and shown
by the formgrader. "Nothing runs" is watched by: ``alert``/``confirm``/``prompt`` replaced in
every frame by a logger, dialogs, console, popups, requests (anything not to the server, and
any URL with ``tkbeacon`` in it, which only a payload asks for), navigation of the page.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_spec = importlib.util.spec_from_file_location("formgrader_harness", HERE / "formgrader_harness.py")
fh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fh)
sys.path.insert(0, str(ROOT / "course" / "grading"))
import inert  # noqa: E402

ASSIGNMENT = "planning-events"
ANSWER = "events-answer"
# nbgrader's templates load MathJax from this CDN themselves (not student content): the one
# request outside the server that is expected. Chromium is not allowed to make it.
MATHJAX = re.compile(r"^https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/")


def _png(width=24, height=16) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / 10, height / 10), dpi=10)
    fig.add_subplot().plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()


PNG = _png()
SVG_SCRIPT = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'TK-svgimg\')">'
                              b'<script>alert("TK-svgimg2")</script></svg>').decode()
DATA_HTML = base64.b64encode(b"<script>alert('TK-data-link')</script>").decode()

# ----------------------------------------------------------------------------- the catalogue
# name -> markdown written by the student. Every payload that runs calls alert('TK-...');
# every payload that loads or navigates asks for a URL with "tkbeacon"; every link a payload
# wants clicked has "tk-click" in its text.
PAYLOADS = {
    "img-onerror": "<img src=x onerror=\"alert('TK-img')\">",
    "svg-script": "<svg><script>alert('TK-svg-script')</script></svg>",
    "svg-onload": "<svg onload=\"alert('TK-svg-onload')\"></svg>",
    "svg-self-closing": "<svg/onload=alert('TK-svg-slash')>",
    "js-link-mixed-case": "<a href=\"jAvAsCrIpT:alert('TK-js-link')\">tk-click js</a>",
    "js-link-entities": "<a href=\"&#x6A;avascript&colon;alert('TK-js-entity')\">tk-click entity</a>",
    "js-link-tab": "<a href=\"java&#9;script:alert('TK-js-tab')\">tk-click tab</a>",
    "js-link-leading-space": "<a href=\" &#14; javascript:alert('TK-js-space')\">tk-click space</a>",
    "markdown-js-link": "[tk-click md](javascript:alert('TK-md-link'))",
    "markdown-js-autolink": "<javascript:alert('TK-md-autolink')>",
    "markdown-data-link": f"[tk-click data](data:text/html;base64,{DATA_HTML})",
    "iframe-srcdoc": "<iframe srcdoc=\"<script>alert('TK-srcdoc')</script>\"></iframe>",
    "iframe-javascript": "<iframe src=\"javascript:alert('TK-iframe-js')\"></iframe>",
    "object-data": "<object data=\"data:text/html,<script>alert('TK-object')</script>\"></object>",
    "embed": "<embed src=\"data:text/html,<script>alert('TK-embed')</script>\">",
    "meta-refresh": "<meta http-equiv=\"refresh\" content=\"1;url=/tkbeacon-refresh\">",
    "base-href": "<base href=\"http://127.0.0.1:9/tkbeacon-base/\">",
    "form-action": "<form action=\"/tkbeacon-form\" method=\"post\"><input name=\"x\" value=\"1\">"
                   "<button>tk-click form Full credit</button></form>",
    "autofocus": "<input autofocus onfocus=\"alert('TK-autofocus')\">",
    "details-ontoggle": "<details open ontoggle=\"alert('TK-details')\"><summary>s</summary>x</details>",
    "body-onload": "<body onload=\"alert('TK-body')\">",
    "marquee": "<marquee onstart=\"alert('TK-marquee')\">m</marquee>",
    "video-source": "<video><source onerror=\"alert('TK-video')\"></video>",
    "style-element": "<style>input.score{display:none} body{background:url(/tkbeacon-css)}</style>",
    "link-stylesheet": "<link rel=\"stylesheet\" href=\"/tkbeacon-link\">",
    "style-overlay": "<div style=\"position:fixed;top:0;left:0;width:100%;height:100%;z-index:99999;"
                     "background:white\">tk-overlay: full credit already given</div>",
    "style-background": "<p style=\"background:url(/tkbeacon-style-attr)\">bg</p>",
    "fake-grading-ui": "<div class=\"panel panel-primary nbgrader_cell\"><input class=\"score\" "
                       "id=\"events-answer\" value=\"2\"><button class=\"btn btn-success full-credit\">"
                       "Full credit</button></div>",
    "id-clobbering": f"# {ANSWER}\n\n<a id=\"{ANSWER}\" name=\"{ANSWER}\">x</a>",
    "mxss-noscript": "<noscript><p title=\"</noscript><img src=x onerror=alert('TK-mxss-noscript')>\">",
    "mxss-svg-style": "<svg></p><style><a id=\"</style><img src=1 onerror=alert('TK-mxss-svgstyle')>\">",
    "mxss-math-mglyph": "<math><mtext><table><mglyph><style><img src=x onerror=alert('TK-mxss-math')>",
    "mxss-markdown-title": "[a](https://example.org \"<img src=x onerror=alert('TK-mxss-title')>\")",
    "mxss-markdown-in-html": "<div>\n\n*<img src=x onerror=alert('TK-mxss-md')>*\n\n</div>",
    "mxss-backtick-attr": "<a href=\"`\">`<img src=x onerror=alert('TK-mxss-backtick')>`</a>",
    "entities": "&lt;img src=x onerror=alert('TK-entity')&gt; and "
                "<img src=x onerror=&#97;lert('TK-entity2')>",
    "textarea-breakout": "<textarea><img src=x onerror=alert('TK-textarea')></textarea>",
    "template": "<template><img src=x onerror=alert('TK-template')></template>",
    "remote-image": "![t](http://127.0.0.1:9/tkbeacon-remote-img.png)",
    "svg-data-image": f"![s](data:image/svg+xml;base64,{SVG_SCRIPT})",
    "mathjax-href": "$\\href{javascript:alert('TK-mathjax')}{tk-click mathjax}$",
    # an element the sanitizer does not know still has its attributes examined
    "custom-element-handler": "<xss tabindex=1 autofocus onfocus=\"alert('TK-custom')\">tk custom</xss>",
    "image-element": "<image src=x onerror=\"alert('TK-image-el')\">",
    "area-javascript": "<map name=m><area shape=default href=\"javascript:alert('TK-area')\"></map>",
    "img-srcset": f"<img src=\"data:image/png;base64,{PNG}\" srcset=\"http://127.0.0.1:9/tkbeacon-srcset.png 1x\">",
    # CSS that covers or hides the grading page, spelled to slip past a word list
    "css-escaped-overlay": "<div style=\"pos\\69 tion:fixed;top:0;left:0;width:100%;height:100%;"
                           "background:white\">tk-overlay escaped</div>",
    "negative-margin": "<div style=\"margin-top:-3000px;background:white\">tk-overlay margin</div>",
    "box-shadow-cover": "<span style=\"box-shadow:0 0 0 5000px white\">tk-overlay shadow</span>",
    "sheet-in-media": "<style>@media all { /* x */ .sc\\6f re, .full-credit { color: white; "
                      "background: white } }</style>",
    # links into the server (its API, the hub) or to another host without a scheme
    "server-link": "[tk-click server](/tkbeacon-server-link)",
    "protocol-relative-link": "[tk-click elsewhere](//127.0.0.1:9/tkbeacon-elsewhere)",
    # what the formgrader's own scripts act on: Bootstrap 3's data API
    "bootstrap-data-api": "<a data-toggle=\"collapse\" data-target=\".nbgrader_cell\" href=\"#\">"
                          "tk-click collapse</a>",
    "popover-top-layer": "<div popover>tk-popover: full credit</div>",
}
#: payloads that nbconvert's markdown renderer itself turns into text (CommonMark does not read
#: ``<svg/onload=...>`` as a tag; a link's title, a code span and markdown inside an HTML block
#: are escaped), or math that MathJax's Safe extension refuses to link: nothing that could act
#: is removed from them, so nothing is reported (the Chromium tests show they do not run)
NOT_REMOVED = {"svg-self-closing", "mxss-markdown-title", "mxss-markdown-in-html",
               "mxss-backtick-attr", "entities", "mathjax-href"}
LEGIT = ("Events carry the information: with $a<b$ and P < .05 the test is significant; "
         "`x<y` is code.\n\n| arm | events |\n|:--|--:|\n| placebo | 42 |\n\n"
         "![curve](attachment:curve.png)\n")
LEGIT_TEXT = ["$a<b$", "P < .05", "x<y", "placebo", "42"]

#: outputs of one extra code cell: raw mimebundles (no import needed)
OUTPUT_CODE = r'''
display({"text/html": "<img src=x onerror=\"alert('TK-out-html')\">"}, raw=True)
display({"application/javascript": "alert('TK-out-js')", "text/plain": "js"}, raw=True)
display({"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('TK-out-svg')\">"
         "<script>alert('TK-out-svg2')</script></svg>"}, raw=True)
display({"text/markdown": "<img src=x onerror=\"alert('TK-out-md')\">"}, raw=True)
display({"image/png": "x"}, metadata={"image/png": {"width": "1 onerror=alert('TK-out-pngmeta')"}}, raw=True)
display({"text/html": "<script>alert('TK-out-isolated')</script>"},
        metadata={"text/html": {"isolated": True}}, raw=True)
display({"application/vnd.jupyter.widget-view+json": {"model_id": "a", "version_major": 2,
         "version_minor": 0}, "text/plain": "widget"}, raw=True)
display({"text/html": "<table><tr><th>arm</th></tr><tr><td>tk-legit-html-table</td></tr></table>"},
        raw=True)
display({"image/png": "%s"}, raw=True)
''' % PNG


def hostile_notebook(release):
    """The release notebook with the written answer carrying the reproduction and legitimate
    content, one extra markdown cell per payload (a student may add cells anywhere: some go
    before the answer, so that ids come first in the page), a hostile raw cell and a code cell
    whose outputs are hostile."""
    nb = nbformat.from_dict(release)
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == ANSWER)
    answer = nb.cells[at]
    answer.source = LEGIT + "\n" + PAYLOADS["img-onerror"]
    answer.attachments = {"curve.png": {"image/png": PNG},
                          "evil.svg": {"image/svg+xml": SVG_SCRIPT}}
    answer.source += "\n\n![e](attachment:evil.svg)\n"
    extra = [nbformat.v4.new_markdown_cell(f"<!-- {name} -->\n\n{md}") for name, md in PAYLOADS.items()]
    raw = nbformat.v4.new_raw_cell("<img src=x onerror=\"alert('TK-raw')\">")
    raw.metadata["raw_mimetype"] = "text/html"
    code = nbformat.v4.new_code_cell(OUTPUT_CODE)
    code.metadata["tags"] = ["x navbar-fixed-top"]
    nb.cells[at:at] = extra[:8]
    nb.cells.extend([*extra[8:], raw, code])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {}}}
    return nb


# ----------------------------------------------------------------------------- the watcher

WATCH_JS = """
(() => {
  const hit = (m) => { try { console.log('TKRUN ' + m); } catch (e) {} };
  window.alert = hit; window.confirm = hit; window.prompt = hit; window.print = hit;
})();
"""


class Watch:
    """What a page did: scripts run (TK-...), dialogs, popups, requests, navigations."""

    def __init__(self, context, server_url):
        self.server_url = server_url
        self.runs, self.dialogs, self.popups = [], [], []
        self.outside, self.beacons, self.mathjax = [], [], []
        context.add_init_script(WATCH_JS)
        context.route("**/*", self._route)

    def attach(self, page):
        page.on("console", lambda m: self.runs.append(m.text) if "TK" in m.text else None)
        page.on("dialog", self._dialog)
        page.on("popup", lambda p: self.popups.append(p.url))
        return page

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route):
        url = route.request.url
        if "tkbeacon" in url:
            self.beacons.append(url)
            return route.abort()
        if url.startswith(self.server_url + "/") or url == self.server_url:
            return route.continue_()
        if MATHJAX.match(url):
            self.mathjax.append(url)
        elif not url.startswith(("data:", "about:", "blob:")):
            self.outside.append(url)
        return route.abort()

    def fired(self):
        return sorted(set(re.findall(r"TK-[\w-]+", " ".join(self.runs + self.dialogs))))

    def problems(self):
        return {k: v for k, v in {"scripts": self.fired(), "popups": self.popups,
                                  "outside requests": self.outside,
                                  "payload requests": self.beacons}.items() if v}


def click_payload_links(page, settle=800):
    """Click everything a payload wants clicked (links and buttons with 'tk-click')."""
    for el in page.query_selector_all("a, button"):
        try:
            if "tk-click" in (el.inner_text() or ""):
                el.click(timeout=2000, no_wait_after=True, force=True)
        except Exception:  # an element that navigated the page away, or is not clickable
            pass
    page.wait_for_timeout(settle)


def student_dom_report(page):
    """Elements and attributes in the notebook area that only a student could have put there."""
    return page.evaluate("""() => {
      const root = document.querySelector('#notebook-container') || document.body;
      const bad = [];
      for (const el of root.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        const grading = el.closest('.panel-heading, .panel-footer');
        if (['script', 'iframe', 'object', 'embed', 'svg', 'math', 'form', 'meta', 'base', 'link',
             'style', 'template', 'video', 'audio', 'marquee', 'textarea', 'input', 'button',
             'select'].includes(tag) && !grading)
          bad.push('<' + tag + '>');
        for (const a of el.attributes) {
          if (a.name.startsWith('on') && !grading) bad.push(tag + ' ' + a.name);
          if (['href', 'src', 'action', 'formaction', 'data'].includes(a.name) &&
              /^\\s*(javascript|data:text|data:image\\/svg|vbscript)/i.test(a.value))
            bad.push(tag + ' ' + a.name + '=' + a.value.slice(0, 30));
        }
        if (!grading) {
          const pos = getComputedStyle(el).position;
          if (pos === 'fixed' || pos === 'sticky') bad.push(tag + ' position:' + pos);
        }
      }
      return bad;
    }""")


def _fulfil(body):
    """A route handler that answers with ``body`` as an HTML page (no CSP, no other header)."""
    def handler(route):
        route.fulfill(status=200, body=body, content_type="text/html; charset=utf-8")
    return handler


def open_page(browser, server, path, *, login=True, content=None):
    """A fresh context; the page at ``path`` of the server (or ``content`` served there)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watch = Watch(context, server.url)
    page = watch.attach(context.new_page())
    if login:
        server.login(page)
    if content is not None:
        page.route(server.url + path, _fulfil(content))
    page.goto(server.url + path, wait_until="load")
    landed = page.url
    page.wait_for_timeout(1500)
    click_payload_links(page)
    page.wait_for_timeout(1700)  # the meta refresh payload waits 1 s
    navigated = page.url != landed
    return context, page, watch, navigated


# ----------------------------------------------------------------------------- fast layer

def _elements(markup):
    """(tag, {attribute: value}) of every element of ``markup``, as an HTML parser sees it."""
    from html.parser import HTMLParser

    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    P().feed(markup)
    return found


def test_sanitizer_rejects_every_payload_and_is_idempotent():
    for name, md in PAYLOADS.items():
        clean = inert.safe_markdown(md)
        for tag, attrs in _elements(clean):
            assert tag in inert.ALLOWED, (name, tag)
            assert not [a for a in attrs if a.startswith("on") or a in ("style", "id", "action")
                        and not (a == "style" and tag in ("th", "td"))], (name, tag, attrs)
            for a in ("href", "src"):
                if a in attrs:
                    assert re.match(r"(https?://|mailto:|data:image/(png|jpeg|gif);base64,)", attrs[a]), (name, attrs)
        assert "<script" not in clean.lower(), (name, clean)
        again = inert.sanitize_html(str(clean))
        assert again.removed == () and str(again) == str(clean), name


def test_legitimate_markdown_survives():
    clean = inert.safe_markdown(LEGIT, {"curve.png": {"image/png": PNG}})
    assert clean.removed == ()
    for text in ("$a&lt;b$", "P &lt; .05", "<code>x&lt;y</code>", "<td style=\"text-align:left\">placebo</td>",
                 f'src="data:image/png;base64,{PNG}"'):
        assert text in clean, text
    assert "teachkit" not in clean  # no removal note on a clean answer


#: honest answers: what a student writes in markdown (Jupyter's coloured-note idiom, an anchor,
#: old-style HTML, a coloured word, links to the lessons, a local picture) - trimmed, never reported
HONEST_MARKDOWN = {
    "jupyter-note": '<div class="alert alert-block alert-info">Note: the log-rank test</div>',
    "anchor": '<a name="results"></a>\n\n## Results',
    "old-html": '<font color="red">careful</font> <center>centred</center> <div align="center">x</div>',
    "coloured-word": '<span style="color:red; font-weight:bold; text-transform: uppercase">x</span>',
    "links": "[lesson](../lessons/01.ipynb), [top](#top), ![local](figure.png), "
             '<img src="figure.png" width="300">, [my copy](file:///C:/Users/me/km.ipynb)',
    "table-style": '<table style="border-collapse: collapse"><tr><td style="padding: 4px">1</td>'
                   "</tr></table>\n\n<style>table {border-collapse: collapse} td {text-align: right}</style>",
}


def _honest_outputs():
    """Outputs an honest notebook has, made by the libraries themselves: pandas' table and
    Styler, matplotlib's PNG (with its metadata) and SVG, IPython's sized image, a widget."""
    import ipywidgets
    import pandas as pd
    from ipywidgets.embed import embed_data
    from matplotlib.figure import Figure

    frame = pd.DataFrame({"arm": ["placebo", "drug"], "events": [42, 30]})
    fig = Figure(figsize=(2, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 0.5])
    ax.imshow([[0, 1], [1, 0]], extent=(0, 0.2, 0, 0.2))
    svg = io.StringIO()
    fig.savefig(svg, format="svg")
    slider = ipywidgets.IntSlider(3, description="n")
    state = embed_data(views=[slider, ipywidgets.HTML("<b>events</b>")])["manager_state"]
    new = nbformat.v4.new_output
    outputs = [
        new("execute_result", {"text/html": frame._repr_html_(), "text/plain": "df"}, execution_count=1),
        new("display_data", {"text/html": frame.style.highlight_max(subset=["events"]).to_html(),
                             "text/plain": "styler"}),
        new("display_data", {"image/png": PNG, "text/plain": "<Figure>"},
            metadata={"image/png": {"needs_background": "light"}}),
        new("display_data", {"image/png": PNG}, metadata={"image/png": {"width": "50%"}}),
        new("display_data", {"image/svg+xml": svg.getvalue(), "text/plain": "<Figure>"}),
        new("display_data", {"application/vnd.jupyter.widget-view+json": {
            "model_id": slider.model_id, "version_major": 2, "version_minor": 0}, "text/plain": "slider"}),
    ]
    return outputs, state


def test_honest_work_is_trimmed_without_a_note_or_a_flag():
    """What is removed from an honest notebook is not reported: no note under the answer and
    no autograder flag; only what could run, load, navigate or imitate the page is."""
    for name, md in HONEST_MARKDOWN.items():
        clean = inert.safe_markdown(md)
        assert clean.removed and not clean.serious and "teachkit" not in clean, (name, clean.removed)
    outputs, state = _honest_outputs()
    cells = [nbformat.v4.new_markdown_cell(md) for md in HONEST_MARKDOWN.values()]
    cells.append(nbformat.v4.new_code_cell("df", outputs=outputs))
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"widgets": {
        "application/vnd.jupyter.widget-state+json": state}})
    nb, resources = inert.InertStudentWork().preprocess(nb, {})
    assert resources["teachkit_inert"]  # things were trimmed ...
    assert "flags" not in resources.get("teachkit", {}), resources["teachkit_inert"]  # ... silently
    assert "<td>42</td>" in nb.cells[-1].outputs[0].data["text/html"]
    assert all("teachkit:" not in c.source for c in nb.cells if c.cell_type == "markdown")


def test_every_payload_is_reported():
    """No payload of the catalogue is classed harmless: each one removed is reported (a note
    under the answer, a flag), including on elements the sanitizer does not know, in CSS
    spelled with escapes and comments, and an id or name that is one of the page's."""
    reserved = inert.page_ids({"cells": [{"metadata": {"nbgrader": {"grade_id": ANSWER}}}]})
    for name, md in PAYLOADS.items():
        if "<" in md and name != "markdown-js-autolink":  # the text as an HTML output
            assert inert.sanitize_html(md, reserved=reserved).serious, name
        clean = inert.safe_markdown(md, reserved=reserved)
        if name in NOT_REMOVED:
            assert not clean.serious, (name, clean.removed)
            rendered = _elements(inert.render_markdown(md))
            assert not [a for _, attrs in rendered for a in attrs if a.startswith("on")], name
            assert not [t for t, _ in rendered if t not in ("p", "a", "em", "code", "div")], name
            continue
        assert clean.serious, (name, clean.removed)
        assert "[teachkit: removed from the student's text" in clean, name
    unterminated = inert.sanitize_html("<style>inp\\75 t.score { opacity: .01 }")
    assert unterminated.serious and str(unterminated) == ""
    assert inert.sanitize_html("<p class='panel'>x</p>").serious  # imitates the grading panel
    assert not inert.sanitize_html("<p class='alert alert-info'>x</p>").serious


def test_hostile_outputs_and_state_are_flagged():
    """Outputs and notebook metadata: a widget state carrying script or HTML, or naming a
    widget module the manager would load from the web; an SVG with script or links; image
    metadata written to break out of nbconvert's unquoted width= attribute; an SVG attachment."""
    import ipywidgets
    from ipywidgets.embed import embed_data

    new = nbformat.v4.new_output
    cases = {
        "svg output": [new("display_data", {"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'>"
                                            "<a href='javascript:alert(1)'><text>x</text></a></svg>"})],
        "image metadata": [new("display_data", {"image/png": PNG},
                               metadata={"image/png": {"height": "1 onerror=alert(1)"}})],
        "script output": [new("display_data", {"text/javascript": "alert(1)", "text/plain": "x"})],
    }
    html_state = embed_data(views=[ipywidgets.HTML("<img src=x onerror=alert(1)>")])["manager_state"]
    module_state = embed_data(views=[ipywidgets.IntSlider(1)])["manager_state"]
    next(iter(module_state["state"].values()))["model_module"] = "tk-widget-from-a-cdn"
    for state in (html_state, module_state):
        cases[f"widget state {len(cases)}"] = state
    attachment = nbformat.v4.new_markdown_cell("![e](attachment:e.svg)")
    attachment.attachments = {"e.svg": {"image/svg+xml": SVG_SCRIPT}}
    cases["attachment"] = attachment
    for what, case in cases.items():
        if isinstance(case, list):
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=case)])
        elif "cell_type" in case:
            nb = nbformat.v4.new_notebook(cells=[case])
        else:
            nb = nbformat.v4.new_notebook(metadata={"widgets": {
                "application/vnd.jupyter.widget-state+json": case}})
        nb, resources = inert.InertStudentWork().preprocess(nb, {})
        assert "student content shown inert, not run" in resources.get("teachkit", {}).get("flags", ""), (
            what, resources["teachkit_inert"])
    assert "could run script" in nb.cells[0].source  # the note under the answer says so


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="source"):
        inert.sanitize_html(3)
    with pytest.raises(TypeError, match="source"):
        inert.safe_markdown(None)


@pytest.mark.browser
def test_catalogue_in_chromium_raw_runs_sanitized_does_not(browser):
    """Each payload rendered raw (nbconvert's markdown, unsanitized) in its own frame-less page
    as the control, then all of them sanitized in one page: the raw pages run script or ask for
    a beacon; the sanitized page runs, loads and navigates nothing."""
    live = {}
    server_url = "http://127.0.0.1:9"  # never contacted: every request is intercepted
    for name, md in PAYLOADS.items():
        context = browser.new_context()
        watch = Watch(context, server_url)
        page = watch.attach(context.new_page())
        raw_page = "<html><body>" + inert.render_markdown(md) + "</body></html>"
        page.route(server_url + "/page", _fulfil(raw_page))
        page.goto(server_url + "/page", wait_until="load")
        click_payload_links(page, settle=1200 if "refresh" in name else 100)
        live[name] = bool(watch.fired() or watch.beacons or watch.popups or page.url != server_url + "/page")
        context.close()
    # The control: the classic vectors do run when nothing sanitizes them.
    for name in ("img-onerror", "svg-onload", "iframe-srcdoc", "markdown-js-link", "js-link-entities",
                 "meta-refresh", "form-action", "mxss-noscript", "style-element", "remote-image"):
        assert live[name], f"{name} did not run raw: the detector is broken"
    body = "".join(f"<section><h2>{n}</h2>{inert.safe_markdown(md)}</section>" for n, md in PAYLOADS.items())
    context = browser.new_context()
    watch = Watch(context, server_url)
    page = watch.attach(context.new_page())
    page.route(server_url + "/page", _fulfil(f"<html><body>{body}</body></html>"))
    page.goto(server_url + "/page", wait_until="load")
    page.wait_for_timeout(500)
    click_payload_links(page)
    page.wait_for_timeout(1500)
    try:
        assert watch.problems() == {}
        assert page.url == server_url + "/page"
        assert student_dom_report(page) == []
    finally:
        context.close()
    print("\nlive when rendered raw:", sorted(n for n, v in live.items() if v))


def test_preprocessor_outputs_and_metadata():
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [
        nbformat.v4.new_output("display_data", {"application/javascript": "alert(1)"}),
        nbformat.v4.new_output("display_data", {"image/svg+xml": "<svg onload='alert(1)'/>",
                                                "text/plain": "<svg>"}),
        nbformat.v4.new_output("display_data", {"image/png": "x"},
                               metadata={"image/png": {"width": "1 onerror=alert(1)"}}),
        nbformat.v4.new_output("display_data", {"image/png": PNG},
                               metadata={"image/png": {"width": "1 onerror=alert(1)", "height": 30,
                                                       "filenames": "http://x/y.png"}}),
        nbformat.v4.new_output("execute_result", {"text/html": "<b onclick='x()'>b</b>",
                                                  "text/plain": "b"},
                               metadata={"text/html": {"isolated": True}}, execution_count=1),
        nbformat.v4.new_output("display_data", {"text/markdown": "[x](javascript:alert(1))"}),
        nbformat.v4.new_output("stream", name="stdout", text="<script>stays text</script>"),
    ]
    code.metadata["tags"] = ["ok-tag", "x navbar-fixed-top"]
    md = nbformat.v4.new_markdown_cell("fine $a<b$")
    fake = nbformat.v4.new_markdown_cell("graded?")
    fake.metadata["nbgrader"] = {"grade": True, "solution": True, "points": 1,
                                 "grade_id": "x\" onmouseover=\"alert(1)"}
    nb = nbformat.v4.new_notebook(cells=[md, fake, code])
    nb.metadata["widgets"] = {"state": {}}
    resources = {"student": "<b>eve</b>", "last_name": "<img src=x onerror=1>"}
    nb, resources = inert.InertStudentWork().preprocess(nb, resources)
    outs = nb.cells[2].outputs
    assert outs[0].data == {"text/plain": "[teachkit: output not shown: application/javascript]"}
    assert outs[1].data == {"text/plain": "<svg>"}
    assert list(outs[2].data) == ["text/plain"]            # not a PNG: dropped
    assert outs[3].data["image/png"] == PNG and outs[3].metadata == {"image/png": {"height": 30}}
    assert outs[4].data["text/html"].startswith("<b>b</b>") and outs[4].metadata == {}
    assert outs[5].data["text/html"].startswith("<p><a>x</a></p>") and "text/markdown" not in outs[5].data
    assert outs[6].text == "<script>stays text</script>"   # streams are escaped by the template
    assert nb.cells[2].metadata["tags"] == ["ok-tag"]
    assert nb.cells[0].source == "fine $a<b$"               # clean markdown untouched
    assert "nbgrader" not in nb.cells[1].metadata
    assert "widgets" not in nb.metadata
    assert resources["student"] == "&lt;b&gt;eve&lt;/b&gt;" and "<" not in resources["last_name"]
    assert resources["teachkit_inert"]


def test_rewritten_markdown_is_inert_even_in_stock_nbconvert():
    """The autograded notebook on disk is inert for any viewer: nbconvert's own HTML export
    (no teachkit filter, nothing sanitized) of a rewritten cell runs nothing."""
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(md) for md in PAYLOADS.values()])
    nb, _ = inert.InertStudentWork().preprocess(nb, {})
    body, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    part = body[body.index('<div class="container" id="notebook-container">'):]
    for tag, attrs in _elements(part):
        assert tag not in ("script", "iframe", "object", "embed", "svg", "math", "form", "input", "meta",
                           "base", "style", "link"), tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for a in ("href", "src"):
            assert not re.match(r"\s*(javascript|data:text|data:image/svg)", attrs.get(a) or "", re.I), attrs


# ----------------------------------------------------------------------------- the formgrader

@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    """The same hostile submission ('eve') in two copies of the course, graded by nbgrader with
    its stock configuration and with teachkit's; feedback generated in both."""
    made = {}
    for kind in ("stock", "teachkit"):
        course = fh.copy_course(tmp_path_factory.mktemp(kind), [ASSIGNMENT], stock=kind == "stock")
        fh.nbgrader(course, "generate_assignment", ASSIGNMENT, "--create", "--force")
        release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        out = course / "submitted" / "eve" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        out.parent.mkdir(parents=True)
        nbformat.write(hostile_notebook(release), out)
        fh.nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force")
        fh.nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
        made[kind] = course
    fh.nbgrader(made["teachkit"], "export")
    return made


@pytest.fixture(scope="module")
def servers(courses):
    started = {}
    try:
        for kind, course in courses.items():
            started[kind] = fh.FormgraderServer(course)
        yield started
    finally:
        for server in started.values():
            server.stop()


def _submission_page(server):
    return f"/formgrader/submissions/{server.submission_id(ASSIGNMENT, ASSIGNMENT, 'eve')}/"


@pytest.mark.browser
@pytest.mark.slow
def test_reproduction_runs_in_stock_formgrader(browser, servers):
    """The control: nbgrader as it ships runs the student's script in the formgrader page."""
    context, page, watch, navigated = open_page(browser, servers["stock"], _submission_page(servers["stock"]))
    try:
        fired = watch.fired()
        assert "TK-img" in fired, f"the reproduction did not run: {watch.problems()}"
        print("\nstock formgrader, payloads that ran:", fired, "beacons:", watch.beacons,
              "navigated:", navigated)
    finally:
        context.close()


def _assert_inert_and_readable(page, watch, navigated, grading_ui=True):
    assert watch.problems() == {}, watch.problems()
    assert not navigated, page.url
    assert student_dom_report(page) == []
    text = page.inner_text("body")
    for legit in LEGIT_TEXT + ["tk-legit-html-table"]:
        assert legit in text, legit
    pngs = page.evaluate("""() => [...document.querySelectorAll('img')]
        .filter(i => i.src.startsWith('data:image/png') && i.naturalWidth > 0).length""")
    assert pngs >= 2, "the PNG attachment and the PNG output are shown"
    assert "[teachkit: removed from the student's text" in text
    if grading_ui:
        # the score boxes are the formgrader's, visible and not covered by anything
        found = page.evaluate(f"""() => {{
          const el = document.getElementById({ANSWER!r});
          if (!el) return 'missing';
          el.scrollIntoView({{block: 'center'}});
          const r = el.getBoundingClientRect();
          const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          return [el.tagName, el.classList.contains('score'), top === el].join(' ');
        }}""")
        assert found == "INPUT true true", found
        assert page.locator("input.score").count() == _grade_cells()


@pytest.mark.browser
@pytest.mark.slow
def test_teachkit_formgrader_page_is_inert(browser, servers):
    context, page, watch, navigated = open_page(browser, servers["teachkit"],
                                                _submission_page(servers["teachkit"]))
    try:
        _assert_inert_and_readable(page, watch, navigated)
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_formgrader_makes_a_notebook_graded_without_teachkit_inert(browser, courses, servers):
    """Render-time hook: the stock-autograded (unsanitized) notebook put in place of eve's in
    the teachkit course is made inert when the formgrader shows it."""
    raw = courses["stock"] / "autograded" / "eve" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target = courses["teachkit"] / "autograded" / "eve" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert "onerror" in raw.read_text() and "TK-out-js" in raw.read_text()
    backup = target.read_bytes()
    shutil.copy(raw, target)
    try:
        context, page, watch, navigated = open_page(browser, servers["teachkit"],
                                                    _submission_page(servers["teachkit"]))
        try:
            _assert_inert_and_readable(page, watch, navigated)
        finally:
            context.close()
    finally:
        target.write_bytes(backup)


@pytest.mark.browser
@pytest.mark.slow
def test_feedback_page_is_inert(browser, courses, servers):
    """The feedback HTML served with no Content-Security-Policy at all (as a file opened from
    an LMS download, or any server): the stock feedback runs the payload, teachkit's does not;
    feedback generated by teachkit from a notebook graded without it is inert too."""
    name = f"feedback/eve/{ASSIGNMENT}/{ASSIGNMENT}.html"
    stock = (courses["stock"] / name).read_text()
    ours = (courses["teachkit"] / name).read_text()
    context, page, watch, _ = open_page(browser, servers["teachkit"], "/tk-feedback-view.html",
                                        login=False, content=stock)
    try:
        assert "TK-img" in watch.fired(), "control: the stock feedback runs the payload"
    finally:
        context.close()
    context, page, watch, navigated = open_page(browser, servers["teachkit"], "/tk-feedback-view.html",
                                                login=False, content=ours)
    try:
        _assert_inert_and_readable(page, watch, navigated, grading_ui=False)
    finally:
        context.close()
    # the formgrader's own Generate feedback button, on the stock-graded notebook
    raw = courses["stock"] / "autograded" / "eve" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target = courses["teachkit"] / "autograded" / "eve" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    backup = target.read_bytes()
    shutil.copy(raw, target)
    try:
        status, out = servers["teachkit"].request(
            "POST", f"/formgrader/api/assignment/{ASSIGNMENT}/eve/generate_feedback")
        assert status == 200 and out["success"], out
        regenerated = (courses["teachkit"] / name).read_text()
        assert regenerated != ours  # made again, from the raw notebook
        context, page, watch, navigated = open_page(browser, servers["teachkit"], "/tk-feedback-view.html",
                                                    login=False, content=regenerated)
        try:
            _assert_inert_and_readable(page, watch, navigated, grading_ui=False)
        finally:
            context.close()
    finally:
        target.write_bytes(backup)


@pytest.mark.slow
def test_the_hostile_submission_is_flagged(courses):
    import csv

    with open(courses["teachkit"] / "grades.csv", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["student_id"] == "eve")
    assert "student content shown inert, not run" in row["flags"] and "event handler" in row["flags"], row


@pytest.mark.slow
def test_submission_files_are_served_as_sandboxed_downloads(courses, servers):
    """A student's .html handed in with the notebook is not a page of the server's origin."""
    server = servers["teachkit"]
    folder = courses["teachkit"] / "autograded" / "eve" / ASSIGNMENT
    (folder / "evil.html").write_text("<script>alert('TK-file')</script>")
    (folder / "plot.png").write_bytes(base64.b64decode(PNG))
    try:
        sid = server.submission_id(ASSIGNMENT, ASSIGNMENT, "eve")
        import urllib.request

        def get(name):
            req = urllib.request.Request(f"{server.url}/formgrader/submissions/{sid}/{name}",
                                         headers={"Authorization": f"token {server.token}"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.headers
        html_headers, png_headers = get("evil.html"), get("plot.png")
        assert html_headers["Content-Type"] == "application/octet-stream"
        assert html_headers["Content-Disposition"] == "attachment"
        assert "sandbox" in html_headers["Content-Security-Policy"]
        assert html_headers["X-Content-Type-Options"] == "nosniff"
        assert png_headers["Content-Type"] == "image/png"
        assert "sandbox" in png_headers["Content-Security-Policy"]
    finally:
        (folder / "evil.html").unlink()
        (folder / "plot.png").unlink()


def test_course_config_wires_the_hooks():
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "course")).load_config()
    names = [getattr(p, "__name__", p) for p in cfg.Autograde.autograde_preprocessors]
    assert "InertStudentWork" in names
    # after the kernel's run (the course's TeachkitExecute, issue 29, or nbgrader's Execute)
    execute = next(i for i, n in enumerate(names) if n in ("TeachkitExecute", "nbgrader.preprocessors.Execute"))
    assert names.index("InertStudentWork") > execute
    assert "InertStudentWork" in [getattr(p, "__name__", p) for p in cfg.GenerateFeedback.preprocessors]
    assert [p.__name__ for p in cfg.HTMLExporter.preprocessors] == ["InertStudentWork"]
    assert cfg.HTMLExporter.filters["markdown2html"].__name__ == "markdown2html"
    text = (ROOT / "course" / "nbgrader_config.py").read_text()
    assert "# --- teachkit: inert student work and safe collect ---" in text


def _grade_cells() -> int:
    """Graded cells of the assignment (each gets a score input on the formgrader's page)."""
    nb = nbformat.read(ROOT / "course" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return sum(1 for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
