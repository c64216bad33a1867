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
table cells and the code highlighter's classes), no remote or SVG image. Everything removed is
logged; what could have run script, loaded something, navigated, submitted, or imitated or
covered the grading page ("serious", :func:`is_serious`) is also listed under the answer
(``[teachkit: ...]``) and becomes an autograder flag. What honest work contains (pandas' table
classes and scoped style sheet, a coloured word, a relative link, matplotlib's image metadata
and SVG, a widget view) is trimmed without a note: the split decides only what the instructor
is told, never what is removed.
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
        if scheme and scheme.group(1).lower() in INERT_SCHEMES:
            return None, f"local link ({scheme.group(1).lower()}:)"
        if scheme:
            return None, f"link to {scheme.group(1).lower()}:"
        if url[:1] in ("/", "\\"):
            # /user/<instructor>/api/..., //elsewhere: a path of this server or another host
            return None, "link into this server or to another host"
        return None, "relative link"
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
    """Sanitized HTML (a ``str``) that also lists what was removed (``.removed``) and which of
    that could have run, loaded, navigated or imitated the page (``.serious``)."""

    removed: tuple = ()

    @property
    def serious(self) -> tuple:
        return tuple(r for r in self.removed if is_serious(r))


# ----------------------------------------------------------------------------- serious or not
# Everything outside the allow-list is removed either way. What a removal is *called* decides
# only whether the instructor is told: a removal that could have run script, loaded something,
# navigated, submitted, or imitated/covered the grading page is "serious" (a note under the
# answer and the autograder's flag); what an honest notebook contains (pandas' table classes
# and scoped style sheet, a coloured word, a relative link, a local picture, image metadata
# such as matplotlib's) is trimmed silently. An element that is not kept has its attributes
# examined all the same (an event handler on an unknown element is serious).

#: elements that exist to run, load, navigate, submit, overlay or break out of the parser
SERIOUS_ELEMENTS = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "param", "svg", "math",
    "form", "input", "button", "select", "textarea", "keygen", "isindex", "meta", "base", "link",
    "template", "noscript", "noembed", "noframes", "xmp", "plaintext", "listing", "portal",
    "fencedframe", "dialog", "audio", "video", "source", "track", "canvas", "bgsound", "image",
    "marquee", "body", "html", "head"})
#: attributes that load, navigate, submit, or show an element above the page
LOADING_ATTRS = frozenset({
    "srcdoc", "srcset", "action", "formaction", "formtarget", "ping", "http-equiv", "background",
    "dynsrc", "lowsrc", "poster", "data", "codebase", "classid", "archive", "longdesc",
    "manifest", "popover", "popovertarget", "popovertargetaction", "commandfor", "command",
    "interestfor", "usemap"})
#: data- attributes the formgrader's own scripts (Bootstrap 3's data API, nbgrader's
#: ``[data-link]``) act on
UI_DATA = re.compile(r"data-(toggle|target|parent|template|content|html|link|dismiss|spy|ride|"
                     r"slide|trigger|placement|container|selector|delay|api|remote|backdrop)$")
#: classes of the formgrader's page, the notebook's cells and Bootstrap's layout and hiding
#: helpers: a student's element with them imitates the grading page (not among them: Jupyter's
#: documented idiom for coloured notes, ``alert alert-info``; pandas' and pygments' classes)
UI_CLASS = re.compile(
    r"(nbgrader|panel|btn|navbar|nav|modal|dropdown|tooltip|popover|score|comment|full-credit|"
    r"no-credit|mark-graded|extra-credit|save-icon|scoring|tabbable|glyphicon|help|name-shown|"
    r"name-hidden|hidden|invisible|sr-only|text-hide|affix|fixed|pull-|collapse|fade|text_cell|"
    r"code_cell|inner_cell|rendered_html|border-box|cell|input|output|prompt|container|row$|col-)",
    re.I)
#: CSS that can cover, hide, move, imitate (generated text) or fetch - not colouring a word
RISKY_CSS = re.compile(
    r"(?<![-\w])(position|z-index|inset|transform|translate|scale|rotate|zoom|clip|clip-path|"
    r"visibility|opacity|box-shadow|outline|content|behavior|-moz-binding)\s*:|url\s*\(|"
    r"image-set\s*\(|expression\s*\(|@import|display\s*:\s*none|margin[-a-z]*\s*:\s*-|"
    r"font-size\s*:\s*0*(\.0*)?[a-z%]*\s*(;|!|$)|color\s*:\s*transparent", re.I)
#: a style sheet's selector that reaches outside the student's own table (a form control,
#: the page, every element, an id other than pandas' Styler ones, an attribute, a UI class)
UI_SELECTOR = re.compile(
    r"(^|[\s,>+~(])(\.(" + UI_CLASS.pattern[1:-1] + r")|(input|button|textarea|select|form|"
    r"body|html|a|img|div|span|p|label|nav|header|footer|main|section)\b|\*|#(?!T_)|:root|\[)",
    re.I)
#: ids of the formgrader's and the feedback's pages (the grade ids are added per notebook)
PAGE_IDS = frozenset({"notebook", "notebook-container", "statusmessage", "toc", "header", "site"})
SCRIPT_MIME = re.compile(r"javascript|ecmascript|jscript|vbscript", re.I)
#: link schemes that cannot act from an http(s) page (a confused student's local link)
INERT_SCHEMES = frozenset({"file", "ftp", "tel"})

_SERIOUS_PHRASES = (
    "event handler", "link to ", "link into this server", "remote image", "SVG image",
    "data: image", "(overlay, hiding or loading)", "(the page's own classes)",
    "(loads, navigates or overlays)", "(the page's own scripts act on it)", "(an id of the page)",
    "(script, links or loading)", "(HTML, script or a module from the web)",
    "(an attribute injection)", "(script)", "(could run script)", "text/html metadata",
    "invalid nbgrader metadata", "attachment that is not a mime bundle")


def is_serious(reason: str) -> bool:
    """True when a removal is worth the instructor's attention (a note and a flag)."""
    m = re.fullmatch(r"<([a-z0-9:-]+)> element", reason)
    if m:
        return m.group(1) in SERIOUS_ELEMENTS
    return any(phrase in reason for phrase in _SERIOUS_PHRASES)


def _css(text: str) -> str:
    """CSS as the browser reads it: comments out, escapes decoded (``pos\\69 tion``)."""
    text = re.sub(r"/\*.*?(\*/|$)", "", text or "", flags=re.S)

    def char(m):
        code = int(m.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else ""
    text = re.sub(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?", char, text)
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def risky_css(text: str) -> bool:
    """True for CSS (a ``style`` attribute or a style sheet) that could cover, hide, move or
    imitate the page, load something, or that reaches the page's own elements."""
    css = _css(text)
    if RISKY_CSS.search(css):
        return True
    return any(UI_SELECTOR.search(sel) for sel in re.findall(r"([^{};]*)\{", css))


def _url_reason(name: str, value: str) -> str:
    url, why = clean_url(value, "src" if name in ("src",) else "href")
    if url is not None:
        return f"{name!r} attribute"
    return why


def _attribute_reason(name: str, value: str, reserved=frozenset()) -> str:
    """What removing attribute ``name="value"`` is called (see :func:`is_serious`)."""
    if name.startswith("on"):
        return "event handler attribute"
    if name == "style":
        return "'style' attribute (overlay, hiding or loading)" if risky_css(value) else "'style' attribute"
    if name == "class":
        if any(UI_CLASS.match(c) for c in value.split()):
            return "'class' attribute (the page's own classes)"
        return "'class' attribute"
    if name in ("id", "name", "for", "form", "list", "aria-labelledby", "headers") and (
            set(value.split()) & (PAGE_IDS | reserved)):
        return f"{name!r} attribute (an id of the page)"
    if name in ("href", "xlink:href", "src"):
        return _url_reason(name, value)
    if name in LOADING_ATTRS:
        return f"{name!r} attribute (loads, navigates or overlays)"
    if UI_DATA.match(name):
        return f"{name!r} attribute (the page's own scripts act on it)"
    return f"{name!r} attribute"


class _Builder(HTMLParser):
    def __init__(self, newline: str, reserved=frozenset()):
        super().__init__(convert_charrefs=True)
        self.reserved = frozenset(reserved)  # ids of the page a student must not reuse
        self.out: list[str] = []
        self.stack: list[str] = []          # allowed elements open in the output
        self.drop: list[str] = []           # open elements inside a dropped one
        self.removed: set[str] = set()
        self.newline = newline
        self.style_text: list[str] = []

    # -- text
    def _text(self, data: str) -> str:
        data = _CONTROL.sub("", data)
        text = html.escape(data, quote=False)
        return text.replace("\n", self.newline) if self.newline != "\n" else text

    def handle_data(self, data):
        if not self.drop:
            self.out.append(self._text(data))
        elif self.drop[0] == "style":
            self.style_text.append(data)

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

    def _alarm(self, attrs):
        """The serious reasons among the attributes of an element that is not kept (an
        unknown element with an event handler, an area with a javascript: link)."""
        for name, value in attrs:
            reason = _attribute_reason(name.lower(), value or "", self.reserved)
            if is_serious(reason):
                self.removed.add(reason)

    def handle_starttag(self, tag, attrs, self_closing=False):
        tag = tag.lower()
        if self.drop or tag in DROP_WITH_CONTENT or tag not in ALLOWED:
            self._alarm(attrs or [])
        if self.drop:
            if tag not in VOID and not self_closing:
                self.drop.append(tag)
            return
        if tag in DROP_WITH_CONTENT:
            if tag != "style" or self_closing:
                self.removed.add(f"<{tag}> element")
            if tag not in VOID and not self_closing:
                self.drop.append(tag)
                self.style_text = []
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
                # ids could shadow the formgrader's own (score boxes): always dropped, and
                # reported when they are the page's
                reason = _attribute_reason(name, value, self.reserved)
                if is_serious(reason):
                    self.removed.add(reason)
                continue
            if (tag, name) in (("a", "rel"), ("a", "target"), ("details", "open")):
                continue  # written by this sanitizer itself
            if name not in allowed:
                self.removed.add(_attribute_reason(name, value, self.reserved))
                continue
            if name == "class":
                ok = [c for c in value.split() if c in _PYGMENTS or SAFE_CLASS.fullmatch(c)]
                if len(ok) != len(value.split()):
                    self.removed.add(_attribute_reason(name, value))
                if ok:
                    kept.append(("class", " ".join(ok)))
            elif name == "style":
                m = TEXT_ALIGN.fullmatch(value)
                if m and tag in ("th", "td"):
                    kept.append(("style", f"text-align:{m.group(1).lower()}"))
                elif value.strip():
                    self.removed.add(_attribute_reason(name, value))
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
                if not self.drop and tag == "style":
                    self._style_done()
            return
        if tag in self.stack:
            while self.stack:
                top = self.stack.pop()
                self.out.append(f"</{top}>")
                if top == tag:
                    break

    def _style_done(self):
        risky = risky_css("".join(self.style_text))
        self.removed.add("<style> element (overlay, hiding or loading)" if risky else "<style> element")
        self.style_text = []

    def result(self) -> Sanitized:
        self.close()
        if self.drop and self.drop[0] == "style":
            self.style_text.append(self.rawdata)  # an unterminated <style>: the parser kept it
            self._style_done()
        while self.stack:
            self.out.append(f"</{self.stack.pop()}>")
        out = Sanitized("".join(self.out))
        out.removed = tuple(sorted(self.removed))
        return out


def sanitize_html(source, newline: str = "\n", reserved=frozenset()) -> Sanitized:
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

    ``.serious`` keeps what could have run, loaded, navigated or imitated the page; ``reserved``
    names ids of the page (the grade ids) whose reuse by the student is one of them:

    >>> s = sanitize_html('<span style="color:red" class="dataframe">ok</span><x onfocus=f()>')
    >>> s.removed, s.serious
    (("'class' attribute", "'style' attribute", '<x> element', 'event handler attribute'), ('event handler attribute',))
    """
    if isinstance(source, (list, tuple)):
        source = "".join(source)
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, not {type(source).__name__}")
    builder = _Builder(newline, reserved)
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


def safe_markdown(source, attachments=None, newline: str = "\n", reserved=frozenset()) -> Sanitized:
    """Markdown rendered as nbconvert does, then sanitized; a note lists what was removed that
    could have run, loaded, navigated or imitated the page (attachments that are not embedded
    pictures included)."""
    if isinstance(source, (list, tuple)):
        source = "".join(source)
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, not {type(source).__name__}")
    kept, dropped = _safe_attachments(attachments)
    clean = sanitize_html(render_markdown(source, kept), newline, reserved)
    removed = tuple(sorted(set(clean.removed) | set(dropped)))
    out = Sanitized(str(clean) + removal_note([r for r in removed if is_serious(r)], newline))
    out.removed = removed
    return out


@pass_context
def markdown2html(context, source):
    """Jinja filter replacing nbconvert's ``markdown2html`` in the course's HTML exports
    (``c.HTMLExporter.filters``): the formgrader's page and the feedback."""
    cell = context.get("cell") or {}
    attachments = cell.get("attachments") if hasattr(cell, "get") else None
    return str(safe_markdown(source, attachments, reserved=page_ids(context.get("nb"))))


# ----------------------------------------------------------------------------- the notebook

IMAGE_MIMES = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif"}
KEPT_MIMES = {"text/plain", "text/latex", "text/html", *IMAGE_MIMES}
GRADE_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")
TAG = re.compile(r"[A-Za-z0-9_-]{1,64}")


#: widget models whose code the widget manager would load from the web are anything else
WIDGET_MODULES = frozenset({"@jupyter-widgets/base", "@jupyter-widgets/controls",
                            "@jupyter-widgets/output"})
#: an SVG that runs, links, loads or embeds HTML (matplotlib's own: '#' references, PNG data)
SVG_ACTIVE = re.compile(
    r"<\s*(script|foreignobject|iframe|a|animate|set|handler|listener)\b|\bon[a-z]+\s*=|"
    r"javascript:|@import|href\s*=\s*[\"']?\s*(?![\s\"'#]|data:image/(png|jpeg);)|"
    r"url\(\s*[\"']?\s*(?![\s\"'#])", re.I)
#: a width or height as IPython and matplotlib write them (anything else was written to break
#: out of the template's unquoted ``width=`` attribute)
IMAGE_SIZE = re.compile(r"\s*[0-9]{1,5}(\.[0-9]+)?\s*(px|%|em|rem|pt)?\s*")


def _attachment_reason(mime) -> str:
    if isinstance(mime, str) and re.fullmatch(r"image/(?!svg)[a-z0-9.+-]+", mime, re.I):
        return f"{mime} attachment"  # a picture in a format not shown (webp, bmp, ...)
    return f"{mime} attachment (could run script)"


def widget_state_reason(state) -> str:
    """What removing the notebook's widget state is called: serious when rendering it would
    show a student's HTML, run script, or load a widget module from the web."""
    stack, seen = [state], 0
    while stack and seen < 20000:
        value = stack.pop()
        seen += 1
        if isinstance(value, dict):
            for key, item in value.items():
                if (key in ("model_module", "view_module", "_model_module", "_view_module")
                        and isinstance(item, str) and item not in WIDGET_MODULES):
                    return "widget state (HTML, script or a module from the web)"
                if isinstance(key, str) and SCRIPT_MIME.search(key):
                    return "widget state (HTML, script or a module from the web)"
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and "<" in value and sanitize_html(value[:100_000]).serious:
            return "widget state (HTML, script or a module from the web)"
    return "widget state"


def page_ids(nb) -> frozenset:
    """Ids the formgrader's page gives its own elements for this notebook (score boxes,
    comments, extra credit) and its fixed ones: a student's element must not reuse them."""
    ids = set(PAGE_IDS)
    for cell in (nb or {}).get("cells", []) if hasattr(nb, "get") else []:
        meta = cell.get("metadata", {}).get("nbgrader") if hasattr(cell, "get") else None
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        if isinstance(gid, str) and GRADE_ID.fullmatch(gid):
            ids |= {gid, f"{gid}-comment", f"{gid}_extra_credit"}
    return frozenset(ids)


def _safe_attachments(attachments):
    """Only embedded PNG/JPEG/GIF attachments whose bytes are what they claim to be."""
    kept, removed = {}, []
    for name, bundle in (attachments or {}).items():
        if not isinstance(bundle, dict):
            removed.append("attachment that is not a mime bundle")
            continue
        good = {}
        for mime, data in bundle.items():
            data = "".join(data) if isinstance(data, list) else data
            if mime in IMAGE_MIMES and isinstance(data, str) and _image_bytes_ok(IMAGE_MIMES[mime], data):
                good[mime] = data
            else:
                removed.append(_attachment_reason(mime))
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
      replaced by a line saying so (reported when they carry script, links or an attribute
      injection: a script type, an active SVG, a width that is not a size);
    * cell attachments keep PNG/JPEG/GIF only; tags keep plain words; nbgrader metadata with
      an impossible grade id or points is removed (nbgrader restores the instructor's cells
      from the gradebook);
    * the notebook's widget state (which would load the widget manager from a CDN and render
      its HTML) is removed (reported when it holds HTML that would act, script, or a widget
      module other than Jupyter's own);
    * a student's element whose id or name is one of the page's (a grade id: the score box)
      is reported;
    * the student's name and id in the formgrader's page header are escaped.

    What was changed is logged and listed in ``resources["teachkit_inert"]``; the serious part
    becomes the flag ``student content shown inert, not run: ...`` (``resources["teachkit"]``,
    written by the course's RecordFlags).
    """

    enabled = Bool(True).tag(config=True)
    flag = Bool(True, help="Add what was made inert to the autograder's flags.").tag(config=True)
    _reserved = PAGE_IDS

    def preprocess(self, nb, resources):
        if resources is None:
            resources = {}
        changes = []  # (where, what)
        for key in ("student", "first_name", "last_name"):
            if isinstance(resources.get(key), str):
                resources[key] = html.escape(resources[key], quote=True)
        if "widgets" in nb.metadata:
            changes.append(("notebook", widget_state_reason(nb.metadata["widgets"])))
            del nb.metadata["widgets"]
        self._reserved = page_ids(nb)
        for index, cell in enumerate(nb.cells):
            for what in self._cell(cell):
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
                changes.append((f"cell {index}{' (' + gid + ')' if gid else ''}", what))
        lines = [f"{where}: {what}" for where, what in changes]
        for line in lines:
            self.log.warning("teachkit inert: %s", line)
        resources.setdefault("teachkit_inert", []).extend(lines)
        serious = [f"{where}: {what}" for where, what in changes if is_serious(what)]
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
            clean = sanitize_html(render_markdown(_text(cell.get("source", "")) or "", attachments),
                                  "&#10;", self._reserved)
            serious = [r for r in (*dropped, *clean.removed) if is_serious(r)]
            if clean.removed or serious:
                # one line starting with <div>: a single HTML block, passed through as it is
                cell["source"] = f'<div class="tk-inert">{clean}{removal_note(serious)}</div>'
                changes += list(clean.removed)
        elif cell.get("cell_type") == "raw":
            clean = sanitize_html(_text(cell.get("source", "")), reserved=self._reserved)
            if clean.removed:
                cell["source"] = str(clean) + removal_note(clean.serious)
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
                        what.append(self._image_meta_reason(mime, meta.get(mime)))
                else:
                    what.append(f"{mime} output that is not a {IMAGE_MIMES[mime].upper()}")
            elif mime == "text/html":
                clean = sanitize_html(value if isinstance(value, str) else "", reserved=self._reserved)
                new_data[mime] = str(clean) + removal_note(clean.serious)
                what += list(clean.removed)
                if meta.get(mime):
                    what.append("text/html metadata")
            elif mime == "text/markdown":
                clean = safe_markdown(value if isinstance(value, str) else "", reserved=self._reserved)
                new_data.setdefault("text/html", str(clean))
                what += list(clean.removed)
            elif mime in ("text/plain", "text/latex"):
                if isinstance(value, str):
                    new_data[mime] = value
            elif mime == "image/svg+xml":
                active = isinstance(value, str) and SVG_ACTIVE.search(value)
                what.append(f"{mime} output" + (" (script, links or loading)" if active else ""))
            else:
                what.append(f"{mime} output" + (" (script)" if SCRIPT_MIME.search(mime) else ""))
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
    def _image_meta_reason(mime, meta) -> str:
        """matplotlib's ``needs_background``, IPython's ``width="50%"``: trimmed silently; a
        width or height that is not a size is an attempt on nbconvert's unquoted attribute."""
        if not isinstance(meta, dict):
            return f"{mime} metadata (an attribute injection)"
        for key in ("width", "height"):
            value = meta.get(key)
            if value is None or isinstance(value, bool) or isinstance(value, (int, float)):
                continue
            if not (isinstance(value, str) and IMAGE_SIZE.fullmatch(value)):
                return f"{mime} metadata (an attribute injection)"
        return f"{mime} metadata"

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
