"""The lessons' formulas as MathML, made on the server, so the page needs no MathJax.

A lesson's markdown holds TeX: ``$\\hat S(t)$`` inline, ``$$ ... $$`` on a line of its
own.  Voila (through nbconvert) leaves it as TeX, and its page typesets it in the browser
with MathJax, on the main thread, before the explorers are drawn: 0.35-0.40 s for the
13-18 formulas of lessons 04 and 05.  Browsers draw MathML themselves (MathML Core, in
Chromium, Firefox and Safari), so here each formula is turned into MathML once, on the
server, with latex2mathml (MIT, pure Python), and MathJax finds nothing left to do.

How it is plugged in: Voila's exporter renders markdown with the class named by
``VoilaExporter.markdown_renderer_class``; :class:`MathMLRenderer` is that class with
``inline_math`` and ``block_math`` returning MathML.  ``teachkit lessons`` passes it on
Voila's command line (teachkit.cli.voila_command).  Where Voila is a Jupyter server
extension (Binder, a hub), this module is a server extension too, enabled by the file the
wheel installs (``etc/jupyter/jupyter_server_config.d/teachkit.json``, from
teachkit/_wsguard.json), and it names the renderer in the server's config, which Voila
hands to its exporter.  (A config.d file cannot name it itself: Jupyter reads nothing but
``ServerApp.jpserver_extensions`` from those files.)

A formula that latex2mathml cannot convert faithfully stays TeX, exactly as Voila wrote
it, and MathJax typesets it as before: never an error on the page.

The same renderer writes a link to a glossary entry, ``[term](glossary.ipynb#slug)``, as
the term with its definition in place (:func:`teachkit.glossary.term_html`: shown on hover,
focus and tap; the link kept, opening the glossary beside the lesson).  A slug that is not
in the glossary stays a plain link (and tests/test_notebooks.py fails on it).
:func:`markdown_to_html` renders markdown the same way without Voila (the static site's
pages that need no kernel: the course home and the glossary).

>>> to_mathml(r"\\sqrt{t}")
'<math><mrow><msqrt><mrow><mi>t</mi></mrow></msqrt></mrow></math>'
>>> to_mathml(r"\\frac{1}") is None     # a fraction with one part: left to MathJax
True
"""

from __future__ import annotations

import functools
import itertools
import logging
from html import unescape
from xml.etree.ElementTree import Element, tostring

log = logging.getLogger(__name__)

#: How many children a MathML element must have; latex2mathml makes some with fewer
#: when the TeX lacks an argument (``\\frac{1}``), and a browser would draw nonsense.
ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "msubsup": 3, "mover": 2, "munder": 2,
         "munderover": 3, "mroot": 2}
#: Binary operators latex2mathml writes as identifiers (<mi>): as operators (<mo>) they
#: get the spaces around them that TeX gives them (``a \\pm b``).
BINARY = {"\u00b1", "\u2213", "\u00d7", "\u00f7", "\u22c5"}
#: Capital Greek letters: upright in TeX (and MathJax); a one-letter <mi> is italic.
CAPITAL_GREEK = {chr(c) for c in range(0x0393, 0x03AA)}
#: TeX's thin space (3/18 em).
THIN = "0.1667em"


def to_mathml(tex: str, display: bool = False) -> str | None:
    """The MathML of the TeX formula ``tex`` (``<math display="block">`` for display
    math), or None when it cannot be converted faithfully (then the caller keeps the TeX)."""
    return _to_mathml(tex, bool(display))


@functools.lru_cache(maxsize=2048)   # the same formulas on every visit of a lesson
def _to_mathml(tex: str, display: bool) -> str | None:
    if not _braces_balance(tex):
        return None          # latex2mathml guesses where a brace is missing; MathJax says so
    try:
        from latex2mathml.converter import convert_to_element

        math = convert_to_element(tex, display="block" if display else "inline")
    except Exception as error:  # noqa: BLE001 - any failure: keep the TeX for MathJax
        log.warning("teachkit: formula left to MathJax (%s): %s", type(error).__name__, tex)
        return None
    for element in math.iter():
        # latex2mathml writes its text as character references ("&#x003B1;"); make them
        # characters again, so the serialiser below escapes only what must be escaped.
        element.text = unescape(element.text) if element.text else element.text
        if "\\" in (element.text or ""):       # an unknown command, copied as text
            log.warning("teachkit: formula left to MathJax (unknown command): %s", tex)
            return None
        if element.tag in ARITY and len(element) != ARITY[element.tag]:
            log.warning("teachkit: formula left to MathJax (missing argument): %s", tex)
            return None
    _fix(math)
    del math.attrib["xmlns"]                  # implied in HTML
    if not display:
        del math.attrib["display"]            # inline is the default
    return tostring(math, encoding="unicode")


def _braces_balance(tex: str) -> bool:
    depth = 0
    chars = iter(tex)
    for c in chars:
        if c == "\\":
            next(chars, None)                 # \{ \} \\ are not grouping braces
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _fix(math: Element) -> None:
    """Where latex2mathml's MathML is not what TeX means (checked on every lesson formula)."""
    for parent in list(math.iter()):
        children = list(parent)
        for child in children:
            if child.tag == "mi" and child.text in BINARY:
                child.tag = "mo"                      # \pm: an operator, with its spaces
            elif child.tag == "mi" and child.text == "~":
                child.tag, child.text = "mo", "\u223c"    # \sim: the relation, not a tilde
            elif child.tag == "mi" and child.text in CAPITAL_GREEK:
                child.attrib.setdefault("mathvariant", "normal")   # \Phi upright
            elif child.tag == "mover" and "accent" not in child.attrib and child[1].text == "^":
                # \widehat: a hat stretched over the whole group (U+0302, as MathJax), not a
                # small "^" over its middle letter.
                child.set("accent", "true")
                child[1].text = "\u0302"
                child[1].set("stretchy", "true")
            elif child.tag == "mspace" and child.get("width") == "negativethinmathspace":
                # \! (as in \Phi\!\left(): MathML Core has no negative space, and it does not
                # put the space TeX puts there, so there is nothing to take back.
                parent.remove(child)
        # An operator name (\log, \exp: an <mi> of several letters) is set off by a thin
        # space from a letter or a group beside it, as TeX does; MathML Core adds no space
        # between identifiers ("logS"). Next to an operator or a bracket (an <mo>), none.
        children = list(parent)
        for i in reversed(range(len(children))):
            if children[i].tag == "mi" and len(children[i].text or "") > 1:
                if i + 1 < len(children) and _is_ordinary(children[i + 1]):
                    parent.insert(i + 1, Element("mspace", width=THIN))
                if i > 0 and _is_ordinary(children[i - 1]):
                    parent.insert(i, Element("mspace", width=THIN))


def _is_ordinary(element: Element) -> bool:
    """Not an operator or bracket (<mo>, or a \\left( ... \\right) group), nor a space."""
    if element.tag in ("mo", "mspace"):
        return False
    return not (element.tag == "mrow" and len(element) and element[0].tag == "mo")


#: What Voila's ``--VoilaExporter.markdown_renderer_class`` takes.
RENDERER = "teachkit._mathml.MathMLRenderer"


def _jupyter_server_extension_points():
    return [{"module": "teachkit._mathml"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Server-extension hook: Voila's pages get their formulas as MathML, unless the
    server's config already names a markdown renderer."""
    exporter = serverapp.config.VoilaExporter    # the Config object Voila's handlers read
    if "markdown_renderer_class" not in exporter:
        exporter.markdown_renderer_class = RENDERER
    serverapp.log.info("teachkit: Voila's markdown renderer is %s", exporter.markdown_renderer_class)


def __getattr__(name: str):
    # The renderer subclasses Voila's, so it is made on first use (as Voila's option resolves
    # it): this module imports where Voila is not installed (``pip install teachkit``).
    if name == "MathMLRenderer":
        globals()[name] = renderer = _make_renderer()
        return renderer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Page-unique ids for the definitions of glossary terms (a renderer is made per cell).
_TERM_IDS = itertools.count(1)


class _Teachkit:
    """What teachkit's renderers add to nbconvert's: formulas as MathML, glossary terms."""

    def inline_math(self, body: str) -> str:
        return to_mathml(body) or super().inline_math(body)

    def block_math(self, body: str) -> str:
        return to_mathml(body, display=True) or super().block_math(body)

    # \begin{...}\end{...} environments (latex_environment) stay TeX for MathJax:
    # latex2mathml drops the ones it does not know; the lessons use none.

    def link(self, text: str, url: str, title=None) -> str:
        from teachkit import glossary

        m = glossary.LINK.match(url or "")
        if m and m.group(1) in glossary.slugs():
            return glossary.term_html(text, url, m.group(1), f"g{next(_TERM_IDS)}")
        return super().link(text, url, title)


def _make_renderer():
    from voila.exporter import VoilaMarkdownRenderer

    class MathMLRenderer(_Teachkit, VoilaMarkdownRenderer):
        """Voila's markdown renderer (it inlines images) writing formulas as MathML and
        glossary terms with their definitions."""

    MathMLRenderer.__module__ = __name__
    return MathMLRenderer


def markdown_to_html(source: str) -> str:
    """Markdown as the lesson pages render it (formulas as MathML, glossary terms defined in
    place), with nbconvert alone (no Voila): for the static site's pages that need no kernel.

    >>> markdown_to_html("A [censored](glossary.html#censored) time $t$.").count('class="tk-term"')
    1
    """
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class StaticRenderer(_Teachkit, IPythonRenderer):
        pass

    return MarkdownWithMath(renderer=StaticRenderer(escape=False)).render(source)
