"""Student work rendered inert wherever a browser shows it (the formgrader and the feedback).

nbgrader shows a submission to the instructor by converting the *autograded* notebook to HTML
in the Jupyter server that runs the formgrader: the page is on the same origin as that server,
so a script in it can do whatever the instructor can (call the formgrader's API, change grades,
open a terminal). Everything in that notebook except the instructor's locked cells was written
by the student: markdown (written answers and any cell they add), the outputs of their code
(``text/html``, ``image/svg+xml``, ``application/javascript``, widget views, markdown outputs,
image metadata), cell attachments, tags, even notebook metadata (widget state). nbconvert's
``sanitize_html`` does not cover it: nbgrader's formgrade and feedback templates render
markdown without it, and nbconvert's markdown renderer keeps raw HTML and ``javascript:``
links.

This module makes all of it inert, in three places (see ``nbgrader_config.py``, the block
"teachkit: inert student work and safe collect"):

* :class:`InertStudentWork`, an nbconvert preprocessor, rewrites the notebook: it runs at the
  end of the ``autograde`` pipeline (so the autograded notebook on disk is already inert, for
  any viewer), in ``GenerateFeedback``, and in the formgrader's own exporter
  (``HTMLExporter.preprocessors``), so a notebook autograded before this existed is made inert
  when it is shown;
* :func:`markdown2html` replaces nbconvert's filter of the same name in every HTML export of
  the course (``HTMLExporter.filters``): markdown is rendered exactly as nbconvert does, then
  passed through :func:`sanitize_html`;
* :func:`harden_formgrader` (only inside a Jupyter server that runs the formgrader) serves the
  files of a submission (``/formgrader/submissions/<id>/<file>``) as downloads in a sandbox,
  never as pages of the server's origin.

:func:`sanitize_html` does not filter the HTML it is given: it parses it and *writes a new
document* from an allow-list (paragraphs, emphasis, lists, tables, code, headings, quotes,
links to ``http``/``https``/``mailto``, images embedded as PNG/JPEG/GIF), with every text
escaped and every attribute quoted. Whatever a parser makes of hostile markup, the output
contains no element that runs script, loads anything, navigates, submits, or styles the page:
no ``script``/``style``/``iframe``/``object``/``svg``/``math``/``form``/``input``/``meta``/
``base``/``link``, no event handler, no ``style``/``class``/``id`` (except text alignment of
table cells and the code highlighter's classes), no remote or SVG image. What was removed is
listed under the answer (``[teachkit: ...]``) and in the log, so the instructor sees it.
Mathematics (``$a<b$``) is text to the sanitizer and is typeset by MathJax in the page
(nbconvert loads it with its ``Safe`` extension).
"""

from __future__ import annotations

import base64
import binascii
import html
import math
import re
from html.parser import HTMLParser

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

try:  # jinja2 >= 3
    from jinja2 import pass_context
except ImportError:  # pragma: no cover
    from jinja2 import contextfilter as pass_context

# ----------------------------------------------------------------------------- the allow-list

#: element -> attributes it may keep (values are checked below)
ALLOWED = {
    "p": ("class",), "div": ("class",), "span": ("class",), "pre": ("class",), "code": ("class",),
    "blockquote": (), "hr": (), "br": (), "wbr": (),
    "h1": (), "h2": (), "h3": (), "h4": (), "h5": (), "h6": (),
    "ul": (), "ol": ("start",), "li": (), "dl": (), "dt": (), "dd": (),
    "table": (), "thead": (), "tbody": (), "tfoot": (), "tr": (), "caption": (),
    "th": ("style", "colspan", "rowspan"), "td": ("style", "colspan", "rowspan"),
    "a": ("href", "title"), "img": ("src", "alt", "title", "width", "height"),
    "strong": (), "b": (), "em": (), "i": (), "u": (), "s": (), "del": (), "ins": (),
    "sub": (), "sup": (), "kbd": (), "samp": (), "var": (), "mark": (), "small": (),
    "abbr": ("title",), "q": (), "cite": (),
    "details": (), "summary": (),
}
VOID = {"br", "hr", "img", "wbr", "input", "meta", "link", "base", "area", "col", "embed",
        "param", "source", "track", "keygen", "frame", "basefont", "bgsound", "image"}
#: elements removed together with everything inside them
DROP_WITH_CONTENT = {
    "script", "style", "template", "iframe", "frame", "frameset", "object", "embed", "applet",
    "noscript", "noembed", "noframes", "svg", "math", "textarea", "select", "option",
    "optgroup", "datalist", "title", "head", "xmp", "plaintext", "audio", "video", "canvas",
    "map", "dialog", "portal", "fencedframe", "slot",
}
#: classes the code highlighter (pygments, through nbconvert) writes; nothing else survives
_PYGMENTS = {"bp", "c", "c1", "ch", "cm", "cp", "cpf", "cs", "dl", "err", "esc", "fm", "g", "gd",
             "ge", "ges", "gh", "gi", "go", "gp", "gr", "gs", "gt", "gu", "il", "k", "kc", "kd",
             "kn", "kp", "kr", "kt", "l", "ld", "m", "mb", "mf", "mh", "mi", "mo", "n", "na", "nb",
             "nc", "nd", "ne", "nf", "ni", "nl", "nn", "no", "nt", "nv", "nx", "o", "ow", "p",
             "pm", "py", "s", "s1", "s2", "sa", "sb", "sc", "sd", "se", "sh", "si", "sr", "ss",
             "sx", "vc", "vg", "vi", "vm", "w", "x", "hll"}
SAFE_CLASS = re.compile(r"highlight|hl-[a-z0-9]{1,24}|tk-inert|tk-inert-note")
TEXT_ALIGN = re.compile(r"\s*text-align\s*:\s*(left|right|center)\s*;?\s*", re.I)
SMALL_INT = re.compile(r"\s*([0-9]{1,4})\s*")
LINK_SCHEME = re.compile(r"(?:https?://|mailto:)[^\s]", re.I)
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|jpg|gif);base64,([A-Za-z0-9+/=\s]+)", re.I)
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff", "jpg": b"\xff\xd8\xff",
         "gif": b"GIF8"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The browser's URL parser ignores ASCII tab and newline anywhere and C0/space at both ends.
_URL_IGNORED = re.compile(r"[\t\n\r]")


def _attr(value: str) -> str:
    """An attribute value, escaped and on one line (so that it never ends an HTML block)."""
    return html.escape(value, quote=True).replace("\n", "&#10;").replace("\t", "&#9;")


def _image_bytes_ok(kind: str, b64: str) -> bool:
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", b64), validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(MAGIC[kind.lower()])


def clean_url(value: str, kind: str):
    """(url to keep or None, reason). ``kind`` is "href" (links: http, https, mailto only)
    or "src" (images: PNG, JPEG or GIF embedded as base64 only, checked by their bytes)."""
    url = _URL_IGNORED.sub("", value or "").strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b"
                                                  "\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
                                                  "\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \x7f")
    if kind == "href":
        if LINK_SCHEME.match(url) and not _CONTROL.search(url):
            return url, ""
        scheme = re.match(r"([a-z][a-z0-9+.-]*):", url, re.I)
        return None, f"link to {scheme.group(1).lower()}:" if scheme else "relative link"
    m = DATA_IMAGE.fullmatch(url)
    if m and _image_bytes_ok(m.group(1), m.group(2)):
        return url, ""
    low = url.lower()
    if low.startswith("data:image/svg"):
        return None, "SVG image"
    if low.startswith("data:"):
        return None, "data: image that is not PNG, JPEG or GIF"
    if re.match(r"(https?:)?//", low):
        return None, "remote image"
    return None, "image that is not embedded"


class Sanitized(str):
    """Sanitized HTML (a ``str``) that also lists what was removed (``.removed``)."""

    removed: tuple = ()


class _Builder(HTMLParser):
    def __init__(self, newline: str):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[str] = []          # allowed elements open in the output
        self.drop: list[str] = []           # open elements inside a dropped one
        self.removed: set[str] = set()
        self.newline = newline

    # -- text
    def _text(self, data: str) -> str:
        data = _CONTROL.sub("", data)
        text = html.escape(data, quote=False)
        return text.replace("\n", self.newline) if self.newline != "\n" else text

    def handle_data(self, data):
        if not self.drop:
            self.out.append(self._text(data))

    def handle_comment(self, data):
        pass  # comments, <!DOCTYPE>, <?pi>, CDATA: never copied

    def handle_decl(self, decl):
        pass

    def handle_pi(self, data):
        pass

    def unknown_decl(self, data):
        pass

    # -- elements
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs, self_closing=True)

    def handle_starttag(self, tag, attrs, self_closing=False):
        tag = tag.lower()
        if self.drop:
            if tag not in VOID and not self_closing:
                self.drop.append(tag)
            return
        if tag in DROP_WITH_CONTENT:
            self.removed.add(f"<{tag}> element")
            if tag not in VOID and not self_closing:
                self.drop.append(tag)
            return
        if tag not in ALLOWED:
            self.removed.add(f"<{tag}> element")
            return  # unwrapped: its content stays, as text and allowed elements
        kept = self._attributes(tag, dict(attrs) if attrs else {}, attrs or [])
        if kept is None:
            return
        self.out.append(f"<{tag}{kept}>")
        if tag not in VOID:
            if self_closing:
                self.out.append(f"</{tag}>")
            else:
                self.stack.append(tag)

    def _attributes(self, tag, attrs, raw):
        """The element's kept attributes, serialized; None to leave the element out."""
        allowed = ALLOWED[tag]
        kept, src_problem = [], None
        classes = (attrs.get("class") or "").split()
        if tag == "a" and "anchor-link" in classes and (attrs.get("href") or "").startswith("#"):
            self.drop.append("a")  # nbconvert's heading anchor (¶): dropped silently
            return None
        for name in dict.fromkeys(name.lower() for name, _ in raw):
            value = attrs.get(name)
            value = "" if value is None else value
            if name == "id":
                continue  # ids could shadow the formgrader's own (score boxes): dropped silently
            if (tag, name) in (("a", "rel"), ("a", "target"), ("details", "open")):
                continue  # written by this sanitizer itself
            if name not in allowed:
                self.removed.add("event handler attribute" if name.startswith("on")
                                 else f"{name!r} attribute")
                continue
            if name == "class":
                ok = [c for c in value.split() if c in _PYGMENTS or SAFE_CLASS.fullmatch(c)]
                if len(ok) != len(value.split()):
                    self.removed.add("'class' attribute")
                if ok:
                    kept.append(("class", " ".join(ok)))
            elif name == "style":
                m = TEXT_ALIGN.fullmatch(value)
                if m and tag in ("th", "td"):
                    kept.append(("style", f"text-align:{m.group(1).lower()}"))
                elif value.strip():
                    self.removed.add("'style' attribute")
            elif name in ("start", "colspan", "rowspan", "width", "height"):
                m = SMALL_INT.fullmatch(value)
                if m:
                    kept.append((name, str(int(m.group(1)))))
                else:
                    self.removed.add(f"{name!r} attribute")
            elif name == "href":
                url, why = clean_url(value, "href")
                if url is None:
                    self.removed.add(why)
                else:
                    kept += [("href", url), ("rel", "noopener noreferrer nofollow"),
                             ("target", "_blank")]
            elif name == "src":
                url, why = clean_url(value, "src")
                if url is None:
                    src_problem = why
                    self.removed.add(why)
                else:
                    kept.append(("src", url))
            else:  # title, alt: plain text
                kept.append((name, _CONTROL.sub("", value)[:500]))
        if tag == "img" and not any(n == "src" for n, _ in kept):
            # an image without an embedded picture: a line of text says what it was
            alt = _CONTROL.sub("", attrs.get("alt") or "")[:200]
            why = src_problem or "image without a source"
            self.out.append(self._text(f"[image removed: {why}{': ' + alt if alt else ''}]"))
            return None
        if tag == "details":
            kept.append(("open", None))  # the instructor sees everything the student wrote
        return "".join(f" {n}" if v is None else f' {n}="{_attr(v)}"' for n, v in kept)

    def handle_endtag(self, tag):
        tag = tag.lower()
        if self.drop:
            # close the innermost open element of that name inside the dropped subtree
            if tag in self.drop:
                while self.drop and self.drop.pop() != tag:
                    pass
            return
        if tag in self.stack:
            while self.stack:
                top = self.stack.pop()
                self.out.append(f"</{top}>")
                if top == tag:
                    break

    def result(self) -> Sanitized:
        self.close()
        while self.stack:
            self.out.append(f"</{self.stack.pop()}>")
        out = Sanitized("".join(self.out))
        out.removed = tuple(sorted(self.removed))
        return out


def sanitize_html(source, newline: str = "\n") -> Sanitized:
    """Rebuild ``source`` from the allow-list (see the module's docstring).

    ``newline="&#10;"`` writes newlines as character references, so the result is one line
    (a single CommonMark HTML block when it is put in a markdown cell).

    >>> s = sanitize_html('P < .05 <img src=x onerror="alert(1)"> <b>ok</b>')
    >>> str(s)
    'P &lt; .05 [image removed: image that is not embedded] <b>ok</b>'
    >>> s.removed
    ('event handler attribute', 'image that is not embedded')
    >>> str(sanitize_html('<a href="jAvAsCrIpT:alert(1)">x</a><svg><script>alert(2)</script></svg>'))
    '<a>x</a>'
    """
    if isinstance(source, (list, tuple)):
        source = "".join(source)
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, not {type(source).__name__}")
    builder = _Builder(newline)
    builder.feed(source.replace("\r\n", "\n").replace("\r", "\n"))
    return builder.result()


def removal_note(removed, newline: str = "\n") -> str:
    """The visible line that tells the instructor what was taken out of a student's text."""
    if not removed:
        return ""
    what = "; ".join(removed)
    return (f'<p class="tk-inert-note"><em>[teachkit: removed from the student\'s text so that '
            f'it cannot run in this page: {html.escape(what, quote=False)}]</em></p>')


# ----------------------------------------------------------------------------- markdown

def render_markdown(source: str, attachments=None) -> str:
    """Markdown to HTML exactly as nbconvert renders a markdown cell (mistune with math; raw
    HTML kept, headings without the ¶ anchor links) - before sanitizing. An image whose
    attachment is missing becomes an image without a source (nbconvert raises, which would stop
    the autograde or the formgrader's page), and no local file is ever embedded."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class Renderer(IPythonRenderer):
        def _embed_image_or_attachment(self, src):
            if src.startswith("attachment:") and src[len("attachment:"):] not in self.attachments:
                return ""
            return super()._embed_image_or_attachment(src)

    renderer = Renderer(escape=False, attachments=attachments or {}, embed_images=False,
                        path="", anchor_link_text="", exclude_anchor_links=True)
    return MarkdownWithMath(renderer=renderer).render(source or "")


def safe_markdown(source, attachments=None, newline: str = "\n") -> Sanitized:
    """Markdown rendered as nbconvert does, then sanitized; a note lists what was removed."""
    if isinstance(source, (list, tuple)):
        source = "".join(source)
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, not {type(source).__name__}")
    clean = sanitize_html(render_markdown(source, _safe_attachments(attachments)[0]), newline)
    out = Sanitized(str(clean) + removal_note(clean.removed, newline))
    out.removed = clean.removed
    return out


@pass_context
def markdown2html(context, source):
    """Jinja filter replacing nbconvert's ``markdown2html`` in the course's HTML exports
    (``c.HTMLExporter.filters``): the formgrader's page and the feedback."""
    cell = context.get("cell") or {}
    attachments = cell.get("attachments") if hasattr(cell, "get") else None
    return str(safe_markdown(source, attachments))


# ----------------------------------------------------------------------------- the notebook

IMAGE_MIMES = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif"}
KEPT_MIMES = {"text/plain", "text/latex", "text/html", *IMAGE_MIMES}
#: changes made without a flag: harmless things an honest notebook may contain
UNREMARKABLE = ("widget state", " metadata", ": tags", "image/svg+xml output", "relative link",
                "image that is not embedded", "output that is not a")
GRADE_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")
TAG = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _safe_attachments(attachments):
    """Only embedded PNG/JPEG/GIF attachments whose bytes are what they claim to be."""
    kept, removed = {}, []
    for name, bundle in (attachments or {}).items():
        if not isinstance(bundle, dict):
            removed.append("attachment")
            continue
        good = {}
        for mime, data in bundle.items():
            data = "".join(data) if isinstance(data, list) else data
            if mime in IMAGE_MIMES and isinstance(data, str) and _image_bytes_ok(IMAGE_MIMES[mime], data):
                good[mime] = data
            else:
                removed.append(f"{mime} attachment")
        if good and isinstance(name, str):
            kept[name] = good
    return kept, removed


def _text(value):
    return "".join(value) if isinstance(value, list) else value


class InertStudentWork(Preprocessor):
    """Make a (submitted, autograded) notebook safe to render as HTML for the instructor.

    * markdown and raw cells whose rendering contains anything outside the allow-list are
      rewritten as one sanitized HTML block (with a note of what was removed); clean markdown
      is left as the student wrote it;
    * outputs keep ``text/plain``, ``text/latex``, sanitized ``text/html`` (markdown outputs
      become sanitized HTML) and PNG/JPEG/GIF whose bytes check out, with only numeric
      width/height and a text alt; JavaScript, SVG, widget views, PDF and unknown types are
      replaced by a line saying so;
    * cell attachments keep PNG/JPEG/GIF only; tags keep plain words; nbgrader metadata with
      an impossible grade id or points is removed (nbgrader restores the instructor's cells
      from the gradebook);
    * the notebook's widget state (which would load the widget manager from a CDN and render
      its HTML) is removed;
    * the student's name and id in the formgrader's page header are escaped.

    What was changed is logged and listed in ``resources["teachkit_inert"]``.
    """

    enabled = Bool(True).tag(config=True)
    flag = Bool(True, help="Add what was made inert to the autograder's flags.").tag(config=True)

    def preprocess(self, nb, resources):
        if resources is None:
            resources = {}
        changes = []
        for key in ("student", "first_name", "last_name"):
            if isinstance(resources.get(key), str):
                resources[key] = html.escape(resources[key], quote=True)
        if "widgets" in nb.metadata:
            del nb.metadata["widgets"]
            changes.append("notebook: widget state")
        for index, cell in enumerate(nb.cells):
            for what in self._cell(cell):
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
                changes.append(f"cell {index}{' (' + gid + ')' if gid else ''}: {what}")
        for line in changes:
            self.log.warning("teachkit inert: %s", line)
        resources.setdefault("teachkit_inert", []).extend(changes)
        serious = [line for line in changes if not any(word in line for word in UNREMARKABLE)]
        if serious and self.flag:
            # read by the course's RecordFlags (grading/sealed.py): the formgrader's comment and
            # the flags column of grades.csv
            box = resources.setdefault("teachkit", {})
            text = "student content shown inert, not run: " + "; ".join(serious[:8]) + (
                f"; and {len(serious) - 8} more" if len(serious) > 8 else "")
            old = box.get("flags")
            if isinstance(old, list):
                old.append(text)
            else:
                box["flags"] = f"{old}; {text}" if old else text
        return nb, resources

    def _cell(self, cell):
        changes = []
        meta = cell.setdefault("metadata", {})
        tags = meta.get("tags")
        if tags is not None:
            good = [t for t in tags if isinstance(t, str) and TAG.fullmatch(t)] if isinstance(tags, list) else []
            if good != tags:
                meta["tags"] = good
                changes.append("tags")
        grading = meta.get("nbgrader")
        if grading is not None and not self._valid_nbgrader(grading):
            del meta["nbgrader"]
            changes.append("invalid nbgrader metadata")
        if cell.get("cell_type") == "markdown":
            attachments, dropped = _safe_attachments(cell.get("attachments"))
            if dropped or ("attachments" in cell and attachments != cell.get("attachments")):
                cell["attachments"] = attachments
                changes += dropped or ["attachments"]
            clean = safe_markdown(_text(cell.get("source", "")), attachments, newline="&#10;")
            if clean.removed:
                # one line starting with <div>: a single HTML block, passed through as it is
                cell["source"] = f'<div class="tk-inert">{clean}</div>'
                changes += list(clean.removed)
        elif cell.get("cell_type") == "raw":
            clean = sanitize_html(_text(cell.get("source", "")))
            if clean.removed:
                cell["source"] = str(clean) + removal_note(clean.removed)
                changes += list(clean.removed)
        elif cell.get("cell_type") == "code":
            outputs = []
            for output in cell.get("outputs", []):
                kept, what = self._output(output)
                changes += what
                if kept is not None:
                    outputs.append(kept)
            cell["outputs"] = outputs
        return changes

    @staticmethod
    def _valid_nbgrader(grading) -> bool:
        if not isinstance(grading, dict):
            return False
        gid = grading.get("grade_id")
        if gid is not None and not (isinstance(gid, str) and GRADE_ID.fullmatch(gid)):
            return False
        for key in ("points", "score"):
            if key in grading and grading[key] is not None:
                try:
                    if not math.isfinite(float(grading[key])):
                        return False
                except (TypeError, ValueError):
                    return False
        return True

    def _output(self, output):
        kind = output.get("output_type")
        if kind == "stream":
            return output, []
        if kind == "error":
            return output, []
        if kind not in ("display_data", "execute_result"):
            return None, [f"output of type {kind!r}"]
        data = output.get("data", {}) or {}
        meta = output.get("metadata", {}) or {}
        new_data, new_meta, what = {}, {}, []
        for mime, value in data.items():
            value = _text(value)
            if mime in IMAGE_MIMES:
                if isinstance(value, str) and _image_bytes_ok(IMAGE_MIMES[mime], value):
                    new_data[mime] = value
                    image_meta = self._image_meta(meta.get(mime))
                    if image_meta:
                        new_meta[mime] = image_meta
                    if image_meta != meta.get(mime) and meta.get(mime):
                        what.append(f"{mime} metadata")
                else:
                    what.append(f"{mime} output that is not a {IMAGE_MIMES[mime].upper()}")
            elif mime == "text/html":
                clean = sanitize_html(value if isinstance(value, str) else "")
                new_data[mime] = str(clean) + removal_note(clean.removed)
                what += list(clean.removed)
                if meta.get(mime):
                    what.append("text/html metadata")
            elif mime == "text/markdown":
                clean = safe_markdown(value if isinstance(value, str) else "")
                new_data.setdefault("text/html", str(clean))
                what += list(clean.removed)
            elif mime in ("text/plain", "text/latex"):
                if isinstance(value, str):
                    new_data[mime] = value
            else:
                what.append(f"{mime} output")
        if "text/html" in new_data and "text/html" in data and "text/markdown" in data:
            pass  # the HTML representation wins; the markdown one is dropped
        dropped = sorted(set(data) - set(new_data) - {"text/markdown"})
        if not new_data:
            note = "[teachkit: output not shown: " + ", ".join(sorted(data) or ["empty"]) + "]"
            new_data = {"text/plain": note}
        elif dropped and "text/plain" not in new_data:
            new_data["text/plain"] = "[teachkit: not shown: " + ", ".join(dropped) + "]"
        output["data"] = new_data
        output["metadata"] = new_meta
        return output, what

    @staticmethod
    def _image_meta(meta):
        if not isinstance(meta, dict):
            return {}
        kept = {}
        for key in ("width", "height"):
            value = meta.get(key)
            if isinstance(value, bool):
                continue
            if isinstance(value, int) and 0 < value <= 4000:
                kept[key] = value
            elif isinstance(value, str) and SMALL_INT.fullmatch(value) and 0 < int(value) <= 4000:
                kept[key] = int(value)
        if isinstance(meta.get("alt"), str):
            kept["alt"] = _CONTROL.sub("", meta["alt"])[:500]
        return kept


# ----------------------------------------------------------------------------- the formgrader

SUBMISSION_FILE_HEADERS = {
    # a file of the submission is a download in an opaque, script-less sandbox
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif"}


def harden_formgrader() -> bool:
    """Serve the files of a submission (``/formgrader/submissions/<id>/<file>``) inertly:
    nbgrader serves anything in the autograded folder (an ``.html`` or ``.svg`` the student
    handed in) as a page of the Jupyter server's own origin. Images are still shown (the
    formgrader's page may show a picture the notebook links); everything else is a download in
    a CSP sandbox. Called by the course configuration when it is loaded inside a Jupyter
    server; returns True when the formgrader was patched (once)."""
    import sys

    handlers = sys.modules.get("nbgrader.server_extensions.formgrader.handlers")
    if handlers is None:
        return False
    cls = handlers.SubmissionFilesHandler
    if getattr(cls, "_teachkit_inert", False):
        return True
    original = cls.set_extra_headers

    def set_extra_headers(self, path):
        original(self, path)
        for name, value in SUBMISSION_FILE_HEADERS.items():
            self.set_header(name, value)
        if self.get_content_type() not in INLINE_TYPES:
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Disposition", "attachment")

    cls.set_extra_headers = set_extra_headers
    cls._teachkit_inert = True
    return True
