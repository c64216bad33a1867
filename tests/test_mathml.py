"""The lessons' formulas reach the page as MathML made by the server (teachkit/_mathml.py).

Every formula of every lesson's markdown converts (none left to MathJax), the tricky ones
have the structure TeX means, a formula that cannot be converted stays TeX, and both ways
of serving the lessons use the renderer: ``teachkit lessons`` (Voila's command line) and
Voila as a Jupyter server extension (the server config the wheel installs)."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import urllib.request
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pytest

from teachkit import _mathml, cli
from teachkit._mathml import to_mathml

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"


@functools.lru_cache(maxsize=None)
def lesson_formulas() -> tuple[tuple[str, str, bool], ...]:
    """(lesson, TeX, display) for every formula of the lessons' markdown cells, found by the
    parser Voila renders with (nbconvert's MarkdownWithMath)."""
    pytest.importorskip("nbconvert")
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    found = []

    class Recorder(IPythonRenderer):
        def inline_math(self, body):
            found.append((lesson, body, False))
            return super().inline_math(body)

        def block_math(self, body):
            found.append((lesson, body, True))
            return super().block_math(body)

        def latex_environment(self, name, body):
            found.append((lesson, f"\\begin{{{name}}}{body}\\end{{{name}}}", True))
            return super().latex_environment(name, body)

    for path in sorted(LESSONS.glob("*.ipynb")):
        lesson = path.stem
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                MarkdownWithMath(renderer=Recorder(escape=False)).render("".join(cell["source"]))
    return tuple(found)


def mathml(tex: str, display: bool = False):
    out = to_mathml(tex, display)
    assert out is not None, f"left to MathJax: {tex}"
    return fromstring(out)


def lesson_formula(lesson: str, start: str) -> str:
    (tex,) = {t for name, t, _ in lesson_formulas() if name.startswith(lesson) and t.strip().startswith(start)}
    return tex


def test_every_lesson_formula_converts():
    formulas = lesson_formulas()
    assert len(formulas) > 100 and sum(d for _, _, d in formulas) >= 10
    failed = [(lesson, tex) for lesson, tex, display in formulas if to_mathml(tex, display) is None]
    assert not failed, f"formulas left to MathJax: {failed}"
    for _, tex, display in formulas:
        math = fromstring(to_mathml(tex, display))      # well-formed
        assert math.tag == "math" and (math.get("display") == "block") == display
        assert not any("\\" in (e.text or "") for e in math.iter()), tex


def test_schoenfelds_formula_is_a_fraction_of_squares():
    """Lesson 04: D = (z_{1-a} + z_{1-b})^2 / (r(1-r) log(HR)^2)."""
    math = mathml(lesson_formula("04", r"D = \frac{(z_{1-\alpha} + z_{1-\beta})^2}{r(1-r)"), display=True)
    (frac,) = math.iter("mfrac")
    numerator, denominator = frac
    assert numerator.find(".//msup") is not None
    assert [e.text for e in numerator.iter("mi")] == ["z", "α", "z", "β"]
    assert "".join(e.text for e in denominator.iter("mi")) == "rrlogHR"
    hr = [e for e in denominator.iter("mi") if e.text in ("H", "R")]
    assert hr and all(e.get("mathvariant") == "normal" for e in hr)      # \mathrm: upright


def test_the_spending_function_of_lesson_05():
    tex = lesson_formula("05", r"\alpha_{\text{OF}}(t)")
    math = mathml(tex, display=True)
    assert math.find(".//msqrt/mrow/mi").text == "t"                         # \sqrt{t}
    fences = [e for e in math.iter("mo") if e.get("fence") == "true"]       # \left( ... \right)
    assert [e.text for e in fences] == ["(", ")"] and all(e.get("stretchy") == "true" for e in fences)
    sub = [s for s in math.iter("msub") if s[0].text == "z"][0]             # z_{1-\alpha/2}
    assert [e.text for e in sub[1].iter() if e.text] == ["1", "−", "α", "/", "2"]
    assert {e.text for e in math.iter("mtext")} == {"OF", "P"}              # \text{}
    phi = [e for e in math.iter("mi") if e.text == "Φ"]
    assert phi and phi[0].get("mathvariant") == "normal"                     # \Phi upright
    assert all(e.get("width") != "negativethinmathspace" for e in math.iter("mspace"))   # \!
    assert {"0.167em", "2em"} <= {e.get("width") for e in math.iter("mspace")}          # \, \qquad


@pytest.mark.parametrize("tex, tag, text", [
    (r"c_1, c_2, \dots", "mo", "…"),
    (r"0 < t \le 1", "mo", "≤"),
    (r"\hat S(t)^{\exp\{\pm 1.96\}}", "mo", "±"),
    (r"\theta \mid B(t) \sim N(0, 1)", "mo", "∼"),
    (r"\mathrm{corr}(Z_j, Z_k)", "mi", "c"),
])
def test_symbols(tex, tag, text):
    assert text in [e.text for e in mathml(tex).iter(tag)]


def test_operator_names_are_set_off_by_a_thin_space():
    children = list(mathml(r"\log S(t)")[0])
    assert [c.tag for c in children[:3]] == ["mi", "mspace", "mi"] and children[0].text == "log"
    children = list(mathml(r"\log(\mathrm{HR})")[0])                       # none before a bracket
    assert [c.tag for c in children[:2]] == ["mi", "mo"]


def test_a_wide_hat_covers_its_group():
    (over,) = mathml(r"\widehat{\mathrm{HR}}").iter("mover")
    assert over.get("accent") == "true" and over[1].get("stretchy") == "true"


@pytest.mark.parametrize("tex", [r"\frac{1}", "x^", r"\foo{x}", "{a", "a}", r"\sqrt", r"\left( x"])
def test_a_formula_that_does_not_convert_stays_tex(tex):
    assert to_mathml(tex) is None


def test_text_is_escaped():
    out = to_mathml(r"\text{<b>x</b>} < 1")
    assert "<b>" not in out and "&lt;b&gt;" in out


def test_the_renderer_falls_back_to_voilas_tex():
    pytest.importorskip("voila")
    from traitlets.utils.importstring import import_item
    from voila.exporter import VoilaMarkdownRenderer

    cls = import_item(cli.MARKDOWN_RENDERER)          # how Voila's option resolves the name
    assert issubclass(cls, VoilaMarkdownRenderer) and cls is _mathml.MathMLRenderer
    renderer = cls(contents_manager=None, escape=False)
    assert renderer.inline_math(r"\sqrt{t}").startswith("<math><mrow><msqrt>")
    assert renderer.block_math("t").startswith('<math display="block">')
    plain = VoilaMarkdownRenderer(contents_manager=None, escape=False)
    for bad in (r"\foo < 1", r"\frac{1}"):
        assert renderer.inline_math(bad) == plain.inline_math(bad) == f"${bad.replace('<', '&lt;')}$"
        assert renderer.block_math(bad) == plain.block_math(bad)


def shipped_server_config() -> tuple[Path, dict]:
    """The file the wheel installs as etc/jupyter/jupyter_server_config.d/teachkit.json."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    shared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    (source,) = [s for s, dest in shared.items() if dest == "etc/jupyter/jupyter_server_config.d/teachkit.json"]
    return ROOT / source, json.loads((ROOT / source).read_text())


def test_both_ways_of_serving_name_the_renderer():
    assert cli.MARKDOWN_RENDERER == _mathml.RENDERER
    assert f"--VoilaExporter.markdown_renderer_class={_mathml.RENDERER}" in cli.voila_command(LESSONS, 8866)
    # As a server extension: the shipped config.d file enables teachkit._mathml (Jupyter reads
    # only jpserver_extensions from it), whose hook names the renderer in the server's config.
    _, config = shipped_server_config()
    assert config["ServerApp"]["jpserver_extensions"]["teachkit._mathml"] is True
    assert _mathml._jupyter_server_extension_points() == [{"module": "teachkit._mathml"}]
    pytest.importorskip("voila")
    from traitlets.config import Config
    from voila.exporter import VoilaExporter

    class Server:      # what the hook touches of a ServerApp
        config = Config()
        log = __import__("logging").getLogger("test")

    _mathml._load_jupyter_server_extension(Server)
    # the exporter Voila makes for a page, with the server's config (voila/handler.py)
    assert VoilaExporter(config=Server.config).markdown_renderer_class is _mathml.MathMLRenderer
    # a renderer the server's own config names is kept
    Server.config = Config({"VoilaExporter": {"markdown_renderer_class": "voila.exporter.VoilaMarkdownRenderer"}})
    _mathml._load_jupyter_server_extension(Server)
    assert Server.config.VoilaExporter.markdown_renderer_class == "voila.exporter.VoilaMarkdownRenderer"


# ---------------------------------------------------------------------------------------
# A real Voila: the page's markdown holds MathML and no TeX.
# ---------------------------------------------------------------------------------------

def markdown_cells(html: str) -> list[str]:
    """The markdown cells Voila rendered on the server (outputs are drawn in the page)."""
    cells = re.split(r'<div id="[^"]*" class="jp-Cell ', html)[1:]
    return [c for c in cells if c.startswith("jp-MarkdownCell")]


def assert_formulas_are_mathml(html: str, lesson: str):
    cells = markdown_cells(html)
    assert cells, "no markdown cell on the page"
    text = "\n".join(cells)
    expected = [t for name, t, _ in lesson_formulas() if name == lesson]
    assert text.count("<math") == len(expected) > 0
    assert text.count('<math display="block">') == sum(1 for name, _, d in lesson_formulas() if name == lesson and d)
    raw = re.findall(r"\$[^$\n]{1,300}\$|\\\(|\\\[", re.sub(r"<[^>]+>", "", text))
    assert not raw, f"raw TeX in the markdown: {raw}"


@pytest.fixture(scope="module")
def lessons_server(voila_server_class):
    pytest.importorskip("voila")
    s = voila_server_class(LESSONS, preheat=False)
    yield s
    s.stop()


@pytest.mark.slow
@pytest.mark.parametrize("lesson", ["04-planning-events", "05-looking-early"])
def test_teachkit_lessons_serves_mathml(lessons_server, lesson):
    with urllib.request.urlopen(f"{lessons_server.url}/voila/render/{lesson}.ipynb", timeout=300) as r:
        assert_formulas_are_mathml(r.read().decode(), lesson)


@pytest.mark.slow
def test_the_server_extension_serves_mathml(voila_server_class, tmp_path):
    """Voila as a Jupyter server extension (Binder, a hub), with teachkit's extensions
    enabled by the shipped file alone, put where the server reads config (JUPYTER_CONFIG_PATH)
    as the wheel installs it."""
    pytest.importorskip("voila")
    source, _ = shipped_server_config()
    confd = tmp_path / "etc" / "jupyter_server_config.d"
    confd.mkdir(parents=True)
    (confd / "teachkit.json").write_text(source.read_text())
    env = cli.voila_env()      # the template on JUPYTER_PATH, as the wheel's share/jupyter
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (str(confd.parent), env.get("JUPYTER_CONFIG_PATH")) if p)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)   # this teachkit
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.port_retries=0",
           "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", f"--ServerApp.root_dir={LESSONS}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    server = voila_server_class(LESSONS, command=lambda port: [*cmd, f"--port={port}"], env=env,
                                ready_path="/api")
    try:
        lesson = "05-looking-early"
        with urllib.request.urlopen(f"{server.url}/voila/render/{lesson}.ipynb", timeout=300) as r:
            assert_formulas_are_mathml(r.read().decode(), lesson)
    finally:
        server.stop()
