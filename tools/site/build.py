"""Build the lessons as a static site (Voici on JupyterLite's Pyodide kernel), offline.

    python tools/site/build.py --packages ../shared/pyodide/packages --out _site

Run with the build venv's Python (``make site`` makes it from tools/site/requirements.txt).
Steps, each failing loudly:

1. Pyodide 0.27.7's core files from the npm package (``npm pack``; tarball integrity checked
   against the sha512 pinned below).
2. Every package file given with ``--packages`` checked against the sha256 that the npm
   package's own ``pyodide-lock.json`` lists for it; a file missing from the lock or with
   another hash stops the build.
3. teachkit's wheel (built from this tree) and the pure-Python wheels of tools/site/wheels.txt
   (pip --require-hashes) plus the Pyodide kernel's own wheels are added to the distribution,
   and a ``pyodide-lock.json`` trimmed to the files present is written (dependency closure
   checked). The kernel preloads teachkit from it (jupyter-lite.json, loadPyodideOptions),
   so a lesson needs no install cell.
4. ``voici build`` of the lessons, then the post-processing voici-core 0.9.0 needs: its pages
   carry ``./``-relative URLs (pyodideUrl, pipliteUrls, ...) that the browser resolves against
   the page (``voici/render/``), not the site root: they are rewritten relative to the page.
   Remote links (Font Awesome from a CDN) are replaced by the local npm copy, and the build
   fails if any page or script of the site still loads from outside the site.
5. The Practice section (tools/site/practice.py): the student versions of the course's
   assignments, made by nbgrader during the build, in JupyterLite's notebook app, with the
   page ``practice/index.html``; the build fails if a solution, a hidden test or a gradebook
   reaches the site.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import practice  # noqa: E402  (tools/site/practice.py: the Practice section)
import pages  # noqa: E402  (tools/site/pages.py: the course home, the glossary)

PYODIDE_VERSION = "0.27.7"
NPM = {
    # package spec -> dist.integrity of the npm registry (npm view <spec> dist.integrity)
    f"pyodide@{PYODIDE_VERSION}":
        "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA==",
    "@fortawesome/fontawesome-free@5.15.4":
        "sha512-eYm8vijH/hpzr/6/1CJ/V/Eb1xQFW2nnUKArb3z+yUWv7HTwj6M7SP957oMjfZjAHU6qpoNc2wQvIxBLWYa/Jg==",
}
PYODIDE_CORE = ["pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip",
                "package.json"]
KERNEL_EXTENSION = "@jupyterlite/pyodide-kernel-extension"
# The kernel's own wheels (shipped inside jupyterlite-pyodide-kernel) that go into the lock.
KERNEL_WHEELS = ["piplite", "pyodide_kernel", "ipykernel", "widgetsnbextension-4"]
# Federated extensions the pages need: the kernel, and the widgets' JavaScript.
EXTENSIONS = [KERNEL_EXTENSION, "@jupyter-widgets/jupyterlab-manager"]
FONT_AWESOME_4_CDN = re.compile(r"<link[^>]*href=\"https://[^\"]*/font-awesome@4[^\"]*\"[^>]*>")
FONT_AWESOME_CDN = re.compile(r"https://[^\"' ]*fontawesome-free@[^/\"' ]*/css/([\w.-]+\.css)")


class BuildError(RuntimeError):
    pass


def log(msg):
    print(f"[site] {msg}", flush=True)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def npm_pack(spec: str, cache: Path) -> Path:
    """``npm pack spec`` into cache (once); check the tarball against the pinned integrity."""
    name = spec.rsplit("@", 1)[0].lstrip("@").replace("/", "-") + "-" + spec.rsplit("@", 1)[1] + ".tgz"
    tgz = cache / name
    if not tgz.exists():
        log(f"npm pack {spec}")
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=cache, check=True, stdout=subprocess.DEVNULL)
    algo, want = NPM[spec].split("-", 1)
    got = base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode()
    if got != want:
        raise BuildError(f"{tgz.name}: {algo} {got} is not the registry's {want}")
    return tgz


def extract(tgz: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(tgz) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def verify_packages(packages: Path, lock: dict) -> list[Path]:
    """Every file of ``packages`` must be in the official lock with the same sha256."""
    want = {p["file_name"]: p["sha256"] for p in lock["packages"].values()}
    files = sorted(p for p in packages.iterdir() if p.is_file() and p.name not in ("SHA256SUMS", "README.md"))
    if not files:
        raise BuildError(f"no package files in {packages}")
    bad = []
    for f in files:
        if f.name not in want:
            bad.append(f"{f.name}: not in the official pyodide-lock.json")
        elif sha256(f) != want[f.name]:
            bad.append(f"{f.name}: sha256 {sha256(f)} differs from the lock's {want[f.name]}")
    if bad:
        raise BuildError("Pyodide package check FAILED:\n  " + "\n  ".join(bad))
    log(f"{len(files)} package files match pyodide@{PYODIDE_VERSION}'s pyodide-lock.json")
    return files


def canonical(name: str) -> str:
    """Pyodide's (and PEP 503's) package name: lower case, runs of -_. as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_entry(path: Path, name: str, depends: list[str], imports: list[str]) -> dict:
    version = path.name.split("-")[1]
    return {"name": name, "version": version, "file_name": path.name, "install_dir": "site",
            "sha256": sha256(path), "package_type": "package", "imports": imports,
            "depends": depends, "unvendored_tests": False, "shared_library": False}


def wheel_imports(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        tops = {n.split("/")[0] for n in z.namelist()}
    return sorted(t.removesuffix(".py") for t in tops if not t.endswith((".dist-info", ".data")))


def build_wheels(work: Path, python: str) -> dict[str, Path]:
    """teachkit's wheel from this tree, the pinned pure-Python wheels, the kernel's wheels."""
    wheels = work / "wheels"
    if wheels.exists():
        shutil.rmtree(wheels)
    wheels.mkdir(parents=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([python, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(ROOT)], check=True, env=env)
    subprocess.run([python, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--require-hashes",
                    "-d", str(wheels), "-r", str(HERE / "wheels.txt")], check=True, env=env)
    pypi = Path(sys.prefix) / "share/jupyter/labextensions" / KERNEL_EXTENSION / "static/pypi"
    for stem in KERNEL_WHEELS:
        name, _, major = stem.partition("-")
        found = sorted(pypi.glob(f"{name}-{major}*-py3-none-any.whl"))
        if len(found) != 1:
            raise BuildError(f"kernel wheel {stem} not found once in {pypi}: {found}")
        shutil.copy2(found[0], wheels)
    out = {}
    for whl in sorted(wheels.glob("*.whl")):
        out[whl.name.split("-")[0].lower().replace("_", "-")] = whl
    return out


# What the extra wheels depend on, in the lock's names (Pyodide packages or the wheels above).
EXTRA_DEPENDS = {
    "teachkit": ["numpy", "scipy", "matplotlib", "ipywidgets"],
    "ipywidgets": ["comm", "ipython", "traitlets", "widgetsnbextension"],
    "comm": ["traitlets"],
    "widgetsnbextension": [],
    "ipykernel": [],
    "piplite": ["micropip"],
    "pyodide-kernel": ["ipykernel", "comm", "ipython", "jedi", "ssl", "sqlite3", "piplite"],
    "teachkit-site-fontcache": ["matplotlib"],
}
EXTRA_DEPENDS["teachkit"].append("teachkit-site-fontcache")

# Pyodide 0.27.7's matplotlib 3.8.4 ships a font cache (matplotlib/fontlist.json) marked
# version 390 while its FontManager wants 330: so every page load rebuilt the cache (seconds of
# WebAssembly) and printed "Matplotlib is building the font cache". The build makes the right
# cache once, with that very matplotlib under Node, and a tiny wheel installs it over the
# shipped one (it depends on matplotlib, so Pyodide installs it after).
FONTCACHE_JS = """
const {loadPyodide} = require(process.argv[2] + "/pyodide.js");
(async () => {
  const py = await loadPyodide({indexURL: process.argv[2] + "/"});
  await py.loadPackage(["matplotlib"], {messageCallback: () => {}});
  const text = py.runPython(`
import logging, pathlib
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
import matplotlib.font_manager as fm
assert fm.fontManager._version == fm.FontManager.__version__
pathlib.Path(fm.__file__).with_name("fontlist.json").read_text()`);
  require("fs").writeFileSync(process.argv[3], text);
})().catch((e) => { console.error(e); process.exit(1); });
"""


def fontcache_wheel(npm_core: Path, files: list[Path], work: Path, wheels: Path) -> Path:
    """The wheel teachkit-site-fontcache: matplotlib/fontlist.json made by Pyodide's matplotlib."""
    mpl = next(f for f in files if f.name.startswith("matplotlib-"))
    version = mpl.name.split("-")[1]
    cached = work / f"fontlist-{sha256(mpl)[:16]}.json"
    if not cached.exists():
        log("matplotlib font cache, made with Pyodide under Node")
        dist = work / "fontcache-pyodide"  # the npm core and lock, and the checked package files
        if dist.exists():
            shutil.rmtree(dist)
        dist.mkdir()
        for f in [*(npm_core / n for n in [*PYODIDE_CORE, "pyodide-lock.json"]), *files]:
            (dist / f.name).symlink_to(f)
        script = work / "fontcache.js"
        script.write_text(FONTCACHE_JS)
        subprocess.run(["node", str(script), str(dist), str(cached) + ".tmp"], check=True)
        os.replace(str(cached) + ".tmp", cached)
    fontlist = cached.read_bytes()
    if json.loads(fontlist)["_version"] != 330:
        raise BuildError("the font cache made under Node is not version 330")
    name = "teachkit_site_fontcache"
    info = f"{name}-{version}.dist-info"
    files = {
        "matplotlib/fontlist.json": fontlist,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: teachkit-site-fontcache\nVersion: {version}\n"
                            "Summary: matplotlib's font cache for Pyodide (teachkit's static site)\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: teachkit tools/site\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
    }
    record = "".join(
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for path, data in files.items()) + f"{info}/RECORD,,\n"
    whl = wheels / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
        z.writestr(zipfile.ZipInfo(f"{info}/RECORD", (1980, 1, 1, 0, 0, 0)), record)
    return whl


def make_distribution(npm_core: Path, lock: dict, files: list[Path], wheels: dict[str, Path], dest: Path) -> dict:
    """Core files + package files + extra wheels + a lock trimmed to them."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in PYODIDE_CORE:
        shutil.copy2(npm_core / name, dest / name)
    present = {f.name for f in files}
    packages = {k: v for k, v in lock["packages"].items() if v["file_name"] in present}
    for f in files:
        shutil.copy2(f, dest / f.name)
    for name, whl in wheels.items():
        if name in packages:
            raise BuildError(f"{whl.name} would shadow Pyodide's own {name}")
        imports = [] if name == "teachkit-site-fontcache" else wheel_imports(whl)
        packages[name] = wheel_entry(whl, name, EXTRA_DEPENDS[name], imports)
        shutil.copy2(whl, dest / whl.name)
    names = {canonical(k) for k in packages}
    missing = sorted({f"{k} -> {d}" for k, v in packages.items() for d in v["depends"] if canonical(d) not in names})
    if missing:
        raise BuildError("trimmed lock is not closed under dependencies: " + ", ".join(missing))
    trimmed = {"info": lock["info"], "packages": dict(sorted(packages.items()))}
    (dest / "pyodide-lock.json").write_text(json.dumps(trimmed, indent=1, sort_keys=True))
    log(f"Pyodide distribution: {len(packages)} packages in {dest}")
    return trimmed


def relative_urls(value, prefix):
    """Rewrite ``./x`` URLs of a page config (keys ending in Url/Urls/URL) to ``prefix + x``."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("licensesUrl", "themesUrl", "federated_extensions", "baseUrl", "appUrl"):
                out[key] = item  # handled by JupyterLite's own JavaScript
            elif key.endswith(("Url", "URL")) and isinstance(item, str) and item.startswith("./"):
                out[key] = prefix + item[2:]
            elif key.endswith("Urls") and isinstance(item, list):
                out[key] = [prefix + u[2:] if isinstance(u, str) and u.startswith("./") else u for u in item]
            else:
                out[key] = relative_urls(item, prefix)
        return out
    return value


CONFIG_RE = re.compile(r'(<script id="jupyter-config-data" type="application/json">)(.*?)(</script>)', re.S)


def fix_page(html: Path, site: Path) -> None:
    """voici-core 0.9.0: make the page's config URLs relative to the page; local Font Awesome."""
    text = html.read_text()
    depth = len(html.relative_to(site).parts) - 1
    prefix = "../" * depth

    def patch(m):
        config = json.loads(m.group(2))
        config = relative_urls(config, prefix)
        return m.group(1) + json.dumps(config) + m.group(3)

    text, n = CONFIG_RE.subn(patch, text)
    text = FONT_AWESOME_CDN.sub(lambda m: prefix + "static/fontawesome/css/" + m.group(1), text)
    # the tree page's Font Awesome 4: version 5 with its v4 shims
    local = "".join(f'<link rel="stylesheet" href="{prefix}static/fontawesome/css/{name}" type="text/css" />'
                    for name in ("all.min.css", "v4-shims.min.css"))
    text = FONT_AWESOME_4_CDN.sub(local, text)
    html.write_text(text)


REMOTE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//|@import\s+url\(\s*["']?(?:https?:)?//""", re.I)


def check_no_remote(site: Path) -> None:
    """No page or stylesheet of the site may load anything from outside it."""
    bad = []
    for path in site.rglob("*"):
        if path.suffix in (".html", ".css") and path.is_file():
            for m in REMOTE.finditer(path.read_text(errors="replace")):
                bad.append(f"{path.relative_to(site)}: {m.group(0)}")
    if bad:
        raise BuildError("the site links outside itself:\n  " + "\n  ".join(bad[:20]))


def lesson_files():
    """The site's pages made from notebooks: the numbered lessons (Voici pages, run in the
    browser) and the glossary and course home (static pages: tools/site/pages.py)."""
    lessons = ROOT / "lessons"
    return [*sorted(lessons.glob("[0-9][0-9]-*.ipynb")), lessons / "glossary.ipynb", lessons / "index.ipynb"]


def site_notebook(path: Path, names: set) -> dict:
    """The notebook as the site serves it (:func:`pages.site_links`): links to another lesson
    or the glossary (``01-....ipynb``, as Voila serves them) point to its page (``.html``),
    the course home to the site's front page, and glossary terms carry their definitions."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = pages.site_links(text, names)
    return nb


def build(packages: Path, out: Path, work: Path, nbgrader_python: str = sys.executable) -> None:
    work.mkdir(parents=True, exist_ok=True)
    npm_cache = work / "npm"
    npm_cache.mkdir(exist_ok=True)
    pyodide = extract(npm_pack(f"pyodide@{PYODIDE_VERSION}", npm_cache), work / "npm-pyodide")
    fontawesome = extract(npm_pack("@fortawesome/fontawesome-free@5.15.4", npm_cache), work / "npm-fontawesome")
    lock = json.loads((pyodide / "pyodide-lock.json").read_text())
    if lock["info"]["version"] != PYODIDE_VERSION:
        raise BuildError(f"npm lock is Pyodide {lock['info']['version']}, not {PYODIDE_VERSION}")
    files = verify_packages(packages, lock)
    wheels = build_wheels(work, sys.executable)
    wheels["teachkit-site-fontcache"] = fontcache_wheel(pyodide, files, work, work / "wheels")

    lite = work / "lite"
    if lite.exists():
        shutil.rmtree(lite)
    (lite / "pypi").mkdir(parents=True)
    shutil.copy2(HERE / "jupyter-lite.json", lite / "jupyter-lite.json")
    make_distribution(pyodide, lock, files, wheels, lite / "static" / "pyodide")
    # the same wheels for piplite too (`%pip install` in a page finds them on the site)
    for name in ("teachkit", "ipywidgets", "comm"):
        shutil.copy2(wheels[name], lite / "pypi")

    contents = work / "contents"
    if contents.exists():
        shutil.rmtree(contents)
    contents.mkdir()
    lessons = [p for p in lesson_files() if p.stem[:2].isdigit()]    # Voici's pages: the lessons
    for nb in lessons:
        text = json.dumps(site_notebook(nb, {p.stem for p in lessons}), indent=1, ensure_ascii=False)
        (contents / nb.name).write_text(text + "\n", encoding="utf-8")
    exercises = practice.prepare(contents, lite, work, nbgrader_python=nbgrader_python)

    if out.exists():
        shutil.rmtree(out)
    ext_root = Path(sys.prefix) / "share/jupyter/labextensions"
    cmd = [str(Path(sys.prefix) / "bin" / "voici"), "build", "--lite-dir", str(lite), "--contents", str(contents),
           "--output-dir", str(out), "--no-sourcemaps", "--no-unused-shared-packages",
           "--strip_sources=True", "--show_tracebacks=False", "--theme=light", "--template=teachkit",
           *practice.BUILD_ARGS]
    # only the extensions the pages need, not every one installed in the build venv
    (lite / "jupyter_lite_config.json").write_text(json.dumps({"LiteBuildConfig": {
        "ignore_sys_prefix": ["federated_extensions"],
        "federated_extensions": [str(ext_root / ext) for ext in EXTENSIONS]}}, indent=1))
    log(" ".join(cmd[1:3]) + " ...")
    # teachkit's Voila template (the folds, the terms' script), from this tree
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "PYTHONWARNINGS": "ignore",
           "JUPYTER_PATH": os.pathsep.join(p for p in (str(ROOT / "teachkit" / "_jupyter"),
                                                       os.environ.get("JUPYTER_PATH")) if p)}
    subprocess.run(cmd, check=True, cwd=lite, env=env, stdout=subprocess.DEVNULL)

    # Font Awesome from npm, where the pages' rewritten links point (the lite dir's static/
    # holds only Pyodide: JupyterLite copies nothing else from it)
    fa = out / "static" / "fontawesome"
    for sub in ("css", "webfonts"):
        shutil.copytree(fontawesome / sub, fa / sub)
    shutil.copy2(fontawesome / "LICENSE.txt", fa / "LICENSE.txt")
    practice.finish(out, exercises, {p.stem[:2]: f"voici/render/{p.stem}.html" for p in lessons
                                     if p.stem[:2].isdigit()})
    made = pages.write(out, ROOT / "lessons", lite / "static" / "pyodide", work)
    log(f"course home, glossary and redirects: {', '.join(str(p.relative_to(out)) for p in made)}")
    html_pages = sorted((out / "voici").rglob("*.html"))
    for page in html_pages:
        fix_page(page, out)
    check_no_remote(out)
    # JupyterLite's contents service asks for a folder's listing at api/contents/<folder>/all.json,
    # and for the folder above the contents at api/all.json: answer with an empty listing
    # rather than a 404 in the learner's console (JupyterLite itself logs "nothing's broken").
    listing = json.loads((out / "api/contents/all.json").read_text())
    (out / "api/all.json").write_text(json.dumps({**listing, "content": []}))
    (out / ".nojekyll").touch()
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    log(f"site in {out}: {len(html_pages)} pages, {size / 1e6:.1f} MB")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=Path, required=True,
                        help="folder of Pyodide package files (checked against the npm lock)")
    parser.add_argument("--out", type=Path, default=ROOT / "_site")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "site")
    parser.add_argument("--nbgrader-python", default=sys.executable,
                        help="a Python that imports nbgrader (the Practice section's student versions)")
    args = parser.parse_args(argv)
    try:
        build(args.packages.resolve(), args.out.resolve(), args.work.resolve(), args.nbgrader_python)
    except (BuildError, practice.PracticeError, pages.PagesError) as e:
        print(f"[site] BUILD FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
