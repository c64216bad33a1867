"""The static lesson site (``make site``: Voici on Pyodide) in headless Chromium, offline.

The site is built (or reused when its inputs did not change), served by Python's static
server on 127.0.0.1 and opened lesson by lesson in Chromium, both inside a network namespace
that has only loopback (``unshare -n``), so nothing can reach, or silently come from, the
internet. Each lesson must become interactive, its main control must change the picture, and
there must be no console error, no error text or stderr on the page, no code, no request
outside 127.0.0.1 and no file missing from the site.

Runs when it can: as root (for ``unshare -n``), with Chromium and the Pyodide package files
(``$TEACHKIT_PYODIDE_PACKAGES``, by default ``../shared/pyodide/packages`` beside the
repository, see tools/site/README.md); it skips with the reason otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_site"
DRIVER = Path(__file__).resolve().parent / "site_browser.py"

# The build and eight lessons, each starting Python in WebAssembly: minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(3600)]


def pyodide_packages() -> Path:
    return Path(os.environ.get("TEACHKIT_PYODIDE_PACKAGES", ROOT.parent / "shared" / "pyodide" / "packages"))


def lesson_names():
    return sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]-*.ipynb"))


def page_names():
    """Every page of voici/render/: the lessons, the glossary they link to (a static page), and
    index (it leads to the course home, the site's front page)."""
    return [*lesson_names(), "glossary", "index"]


def why_not() -> str | None:
    """The reason this machine cannot run the offline site test, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root for `unshare -n` (a network namespace with only loopback)"
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "needs unshare and ip (util-linux, iproute2)"
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        return "`unshare -n` is not permitted here"
    if not Path("/usr/bin/chromium").exists():
        return "needs Debian's Chromium at /usr/bin/chromium"
    if not shutil.which("npm"):
        return "needs npm (the build takes Pyodide's core files from `npm pack pyodide@0.27.7`)"
    if not pyodide_packages().is_dir():
        return f"no Pyodide package files at {pyodide_packages()} (set TEACHKIT_PYODIDE_PACKAGES)"
    return None


def build_key() -> str:
    """A hash of everything the site is built from (its sources, teachkit, lessons, packages)."""
    h = hashlib.sha256()
    inputs = [*sorted((ROOT / "teachkit").rglob("*.py")), *sorted((ROOT / "teachkit" / "data").iterdir()),
              *sorted((ROOT / "teachkit" / "_jupyter").rglob("*")),
              *sorted((ROOT / "tools" / "site").rglob("*")), *sorted((ROOT / "lessons").glob("*.ipynb")),
              ROOT / "pyproject.toml",
              # the Practice section: the course's sources and config (student versions made in the build)
              *sorted((ROOT / "course" / "source").rglob("*.ipynb")), ROOT / "course" / "nbgrader_config.py"]
    for path in inputs:
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(ROOT).as_posix().encode())
            h.update(path.read_bytes())
    for path in sorted(pyodide_packages().iterdir()):
        h.update(f"{path.name}:{path.stat().st_size}".encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def site():
    reason = why_not()
    if reason:
        pytest.skip(reason)
    key = build_key()
    stamp = SITE / ".build-key"
    if not (stamp.is_file() and stamp.read_text() == key):
        run = subprocess.run(["make", "-C", str(ROOT), "site", f"PYODIDE_PACKAGES={pyodide_packages()}"],
                             capture_output=True, text=True)
        assert run.returncode == 0, f"make site failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        stamp.write_text(key)
    return SITE


@pytest.fixture(scope="module")
def visits(site, tmp_path_factory):
    """Every lesson opened once, in one browser (cache kept between lessons), offline."""
    out = tmp_path_factory.mktemp("site") / "result.json"
    cmd = ["unshare", "-n", sys.executable, str(DRIVER), "--loopback", "--warm", "--site", str(site),
           "--out", str(out), "--screenshots", str(out.parent)]
    axe = ROOT / "node_modules" / "axe-core" / "axe.min.js"
    if axe.is_file():
        cmd += ["--axe", str(axe)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=3000)
    assert run.returncode == 0, f"browser driver failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    result = json.loads(out.read_text())
    return result


def test_site_is_built_from_checked_files(site):
    lock = json.loads((site / "static/pyodide/pyodide-lock.json").read_text())
    assert lock["info"]["version"] == "0.27.7"
    for entry in lock["packages"].values():
        path = site / "static/pyodide" / entry["file_name"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["file_name"]
    assert "teachkit" in lock["packages"]
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["disablePyPIFallback"] is True
    assert "teachkit" in kernel["loadPyodideOptions"]["packages"]
    pages = sorted((site / "voici/render").glob("*.html"))
    assert [p.stem for p in pages] == page_names()
    for page in pages:
        text = page.read_text()
        assert '"./static/pyodide' not in text, f"{page.name}: page-relative ./ URL left (voici-core 0.9.0)"
        assert "cdn.jsdelivr.net" not in text and "font-awesome@" not in text, page.name
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    # about 77 MB of lessons (60 of them Pyodide) and 10 for JupyterLite's notebook app (Practice)
    assert size < 95e6, f"site is {size / 1e6:.1f} MB"


def test_browser_was_offline(visits):
    assert visits["interfaces"] == ["lo"], visits["interfaces"]


@pytest.mark.parametrize("name", lesson_names())
def test_lesson_runs_in_the_browser(visits, name):
    record = next((r for r in visits["lessons"] if r["lesson"] == name), None)
    assert record is not None, f"{name} was not opened"
    assert "exception" not in record, f"{record['exception']}\n{record.get('page_text', '')}"
    assert record["picture_changed"], "moving the main control did not change the picture"
    assert record["outside_requests"] == [], record["outside_requests"]
    assert record["console_errors"] == [], record["console_errors"]
    assert record["not_found"] == [], record["not_found"]
    assert record["error_text"] is None, record["error_text"]
    assert record["stderr_outputs"] == 0
    assert record["code_visible"] == 0
    # "glossary", "all lessons", "next lesson": Voila's .ipynb links are the site's .html pages
    assert record["links_checked"] >= 2 and record["broken_links"] == [], record["broken_links"]


@pytest.mark.parametrize("name", lesson_names())
def test_lesson_layers_on_the_site(visits, name):
    """Issue 26 on the static site: the folds are closed when the lesson is shown and open with
    the keyboard onto their content (pictures drawn), the choice is stored in the browser;
    a glossary term shows its definition on hover and links the glossary's page in its own
    tab; axe-core finds nothing with a fold open."""
    record = next(r for r in visits["lessons"] if r["lesson"] == name)
    assert "exception" not in record, record["exception"]
    layers = record["layers"]
    assert layers["open"] == [False] * layers["folds"], layers
    if layers["folds"]:
        assert layers["opened_shows"], layers
        assert all(width > 100 for width in layers["fold_images"]), layers
        mine = [k for k in layers["stored"] if k.startswith(f"teachkit:fold:{name}:")]
        assert len(mine) == 1, layers
    if layers["term"]:
        assert layers["term"]["href"] == f"glossary.html#{layers['term']['slug']}"
        assert layers["term"]["target"] == "teachkit-glossary" and layers["term_hover"], layers
    assert record.get("axe", []) == [], record.get("axe")


def test_a_fold_left_open_is_open_next_time(visits):
    remembered = visits.get("remembered")
    if remembered is None:
        pytest.skip("no lesson has a fold yet")
    assert remembered["open"][0] is True and not any(remembered["open"][1:]), remembered


def test_course_home_on_the_site(visits):
    """The site's front page is the course home: the eight lessons in order, with their story
    times read from the lessons, opening in the same tab; voici/render/index.html (the
    lessons' "All lessons") leads to it."""
    from teachkit import course

    record = next((r for r in visits["lessons"] if r["lesson"] == "index"), None)
    assert record is not None and "exception" not in record, record
    assert record["home_url"].endswith("/index.html") and "/voici/" not in record["home_url"]
    home = record["home"]
    expected = course.lessons(ROOT / "lessons")
    assert [h["href"] for h in home] == [f"voici/render/{l.name}.html" for l in expected]
    assert all(h["target"] is None for h in home)
    for h, lesson in zip(home, expected):
        if lesson.story_minutes is not None:
            assert f"about {lesson.story_minutes} min" in h["text"]
    assert record["broken_links"] == [] and record["links_checked"] >= 9
    assert record.get("axe", []) == [], record.get("axe")


def test_glossary_page_in_the_browser(visits):
    record = next((r for r in visits["lessons"] if r["lesson"] == "glossary"), None)
    assert record is not None, "the glossary was not opened"
    assert "exception" not in record, f"{record['exception']}\n{record.get('page_text', '')}"
    for key in ("outside_requests", "console_errors", "not_found", "broken_links"):
        assert record[key] == [], (key, record[key])
    assert record["links_checked"] >= 1 and record["error_text"] is None
    assert record["glossary_back"] == "../../index.html"          # no lesson came before: the home
    assert record.get("axe", []) == [], record.get("axe")


def test_site_links_lessons_to_their_pages():
    """The build turns a lesson's links to other lessons into links to their pages (no site
    needed: the rewrite itself)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("site_build", ROOT / "tools" / "site" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    files = build.lesson_files()
    assert [p.stem for p in files] == page_names()
    names = {p.stem for p in files}
    for path in files:
        nb = build.site_notebook(path, names)
        text = "\n".join(c["source"] for c in nb["cells"] if c["cell_type"] == "markdown")
        assert ".ipynb)" not in text and ".ipynb#" not in text, path.name
    lesson_00 = build.site_notebook(files[0], names)
    text = "\n".join(c["source"] for c in lesson_00["cells"] if c["cell_type"] == "markdown")
    assert "](glossary.html)" in text and "](01-censoring-and-kaplan-meier.html)" in text
    assert "](../../index.html)" in text                              # the course home
    # a glossary term of a lesson's text carries its definition, its link the glossary's page
    # (a term that a code cell prints gets it in the browser: test_lesson_layers_on_the_site)
    texts = ["\n".join(c["source"] for c in build.site_notebook(p, names)["cells"] if c["cell_type"] == "markdown")
             for p in files if p.stem[:2].isdigit()]
    assert any('class="tk-term"' in t and 'href="glossary.html#' in t for t in texts)


def test_build_stops_on_a_tampered_package_file(site, tmp_path):
    """A package file whose sha256 is not the lock's (or that the lock does not know) stops the build."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("site_build", ROOT / "tools" / "site" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    lock = json.loads((site / "static/pyodide/pyodide-lock.json").read_text())
    good = pyodide_packages() / lock["packages"]["six"]["file_name"]
    shutil.copy2(good, tmp_path / good.name)
    assert [p.name for p in build.verify_packages(tmp_path, lock)] == [good.name]
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    (tmp_path / good.name).write_bytes(bytes(data))
    with pytest.raises(build.BuildError, match="sha256"):
        build.verify_packages(tmp_path, lock)
    (tmp_path / good.name).write_bytes(good.read_bytes())
    (tmp_path / "evil-1.0-py3-none-any.whl").write_bytes(b"PK")
    with pytest.raises(build.BuildError, match="not in the official"):
        build.verify_packages(tmp_path, lock)
