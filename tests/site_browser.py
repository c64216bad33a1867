"""Drive the static lesson site (``make site``) in headless Chromium, offline.

Used by tests/test_site.py and tests/benchmarks/bench_site.py, which run it as a script,
normally inside a network namespace that has only loopback::

    unshare -n python tests/site_browser.py --site _site --out result.json --loopback

It serves the site with Python's own static server on 127.0.0.1, opens each lesson in a
fresh browser context (an empty cache: a cold load), waits until the lesson is interactive,
moves its main control (tests/test_lessons_browser.py's CONTROLS; the glossary has none) and
fetches every link of its text to another page of the site, and records, per lesson:
seconds to interactive, whether the picture changed, the seconds of each further step of
the control, console errors, requests to any host but 127.0.0.1, the page's error text,
and the bytes and status of every file the server sent. It asserts nothing itself: the
caller does.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
# Case-sensitive as in the Voila browser test: a lesson's own words ("Monte Carlo error: the
# uncertainty of ...", lesson 05's glossary entry) are not an error message.
ERROR_TEXT = re.compile(r"Traceback|Error:|Exception:|NameError|ModuleNotFoundError|[Ff]ont cache")


# --------------------------------------------------------------------------- the server
class LoggingHandler(http.server.SimpleHTTPRequestHandler):
    """Python's static file handler, logging path, status and Content-Length as JSON lines."""

    log_file = None

    def send_response(self, code, message=None):
        self._status, self._length = code, 0
        super().send_response(code, message)

    def send_header(self, keyword, value):
        if keyword.lower() == "content-length":
            self._length = int(value)
        super().send_header(keyword, value)

    def end_headers(self):
        record = {"path": self.path, "status": self._status,
                  "bytes": self._length if self.command != "HEAD" else 0}
        with open(self.log_file, "a") as f:
            f.write(json.dumps(record) + "\n")
        super().end_headers()

    def log_message(self, *args):
        pass


def serve(site: str, port: int, log_file: str) -> None:
    LoggingHandler.log_file = log_file
    handler = lambda *a, **k: LoggingHandler(*a, directory=site, **k)  # noqa: E731
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        httpd.serve_forever()


def _die_with_parent():
    """The server ends when the driver does, even if the driver is killed (Linux prctl)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(site: Path, log_file: Path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "serve", str(site), str(port), str(log_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the static server did not start")


# --------------------------------------------------------------------------- the pages
def picture(page, selector):
    element = page.query_selector(selector)
    return None if element is None else (element.get_attribute("src") or element.inner_text())


def step(page, control, step_no):
    """Move a lesson's main control by one unit (there and back on alternate steps) and wait
    until its picture changed; return the seconds that took."""
    action, selector, value, watched = control
    before = picture(page, watched)
    element = page.locator(selector).first
    t0 = time.perf_counter()
    if action == "click":
        element.click()
    elif action == "select":
        options = element.locator("option").all_inner_texts()
        current = element.evaluate("e => e.options[e.selectedIndex].text")
        element.select_option(label=next(o for o in options if o != current))
    elif action == "fill":
        element.fill(str(value + 1 + step_no % 2))
        element.press("Enter")
    else:
        element.focus()
        element.press("ArrowRight" if step_no % 2 == 0 else "ArrowLeft")
    page.wait_for_function(
        "([sel, before]) => { const e = document.querySelector(sel);"
        " return e && (e.getAttribute('src') || e.innerText) !== before; }",
        arg=[watched, before], timeout=30_000)
    return time.perf_counter() - t0


# What the page showed while loading (Voici's "Running cell i of n"), with times in seconds.
TIMELINE_JS = """
window.__timeline = [];
const t0 = performance.now();
const watch = () => {
  const el = document.querySelector('#loading_text');
  if (!el) { return setTimeout(watch, 50); }
  new MutationObserver(() => window.__timeline.push([(performance.now() - t0) / 1000, el.innerText]))
    .observe(el, {childList: true, characterData: true, subtree: true});
};
watch();
"""


# Every link of the page's text to another page of the site, fetched: the ones that fail.
BROKEN_LINKS_JS = """
async () => {
  const broken = [], seen = new Set();
  for (const a of document.querySelectorAll('.jp-RenderedMarkdown a[href], .jp-RenderedHTMLCommon a[href]')) {
    const url = new URL(a.getAttribute('href'), location.href);
    url.hash = '';
    if (url.origin !== location.origin || seen.has(url.href)) continue;
    seen.add(url.href);
    const response = await fetch(url.href, {method: 'HEAD'});
    if (!response.ok) broken.push(a.getAttribute('href') + ' -> ' + response.status);
  }
  return {broken: broken, checked: seen.size};
}
"""


# Issue 26 on the site: the folds (closed at first; opened with the keyboard, their content
# shown; the choice kept in the browser), a glossary term's definition in place, the course
# home's lessons and the glossary's way back. Returned as a record; the caller asserts.
LAYERS_JS = """() => {
  const folds = [...document.querySelectorAll('details.tk-fold')];
  const term = document.querySelector('.tk-term');
  return {folds: folds.length, open: folds.map(d => d.open),
          summaries: folds.map(d => d.querySelector('summary').innerText.trim()),
          term: term ? {slug: term.dataset.tkTerm, href: term.querySelector('a').getAttribute('href'),
                        target: term.querySelector('a').getAttribute('target'),
                        shown: term.querySelector('.tk-term-def').checkVisibility()} : null};
}"""
HOME_JS = """() => [...document.querySelectorAll('.tk-home-lesson')].map(li => ({
  href: li.querySelector('a.tk-home-title').getAttribute('href'),
  target: li.querySelector('a.tk-home-title').getAttribute('target'),
  text: li.innerText}))"""


def check_layers(page, record, axe=None):
    """Folds and terms of a lesson page (see LAYERS_JS); with ``axe`` (axe-core's source), the
    page's WCAG 2.1 AA violations with its first fold open."""
    layers = page.evaluate(LAYERS_JS)
    record["layers"] = layers
    if layers["term"]:
        term = page.locator(".tk-term").first
        term.locator("a").hover()
        record["layers"]["term_hover"] = term.locator(".tk-term-def").is_visible()
        page.mouse.move(1, 1)
    if layers["folds"]:
        fold = page.locator("details.tk-fold").first
        fold.locator("summary").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('details.tk-fold').open")
        body = fold.locator(".tk-fold-body")
        record["layers"]["opened_shows"] = body.is_visible() and len(body.inner_text().strip()) > 0
        images = fold.locator("img")
        record["layers"]["fold_images"] = [images.nth(i).bounding_box()["width"] if images.nth(i).is_visible() else 0
                                           for i in range(images.count())]
        # the fold's 'toggle' event (which stores it) comes after the attribute changed
        page.wait_for_function("(name) => Object.keys(localStorage).some(k => k.startsWith('teachkit:fold:' + name + ':'))",
                               arg=record["lesson"], timeout=10_000)
        record["layers"]["stored"] = page.evaluate(
            "() => Object.keys(localStorage).filter(k => k.startsWith('teachkit:fold:'))")
    if axe:
        record["axe"] = axe_violations(page, axe)


def axe_violations(page, axe):
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe)
    return page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations.map(v => v.id + ': ' +
        v.nodes.slice(0, 3).map(n => n.target.join(' ')).join('; '))""")


def new_context(browser):
    return browser.new_context(viewport={"width": 1280, "height": 900})


def run_lesson(browser, base, name, control, steps, timeout_ms, shots, context=None, axe=None):
    """One lesson in ``context`` (kept: a warm cache) or in a fresh one (closed: a cold load)."""
    from test_lessons_browser import move_control, wait_interactive  # the same as the Voila test

    record = {"lesson": name, "console_errors": [], "outside_requests": [], "failed_requests": []}
    own = context is None
    context = new_context(browser) if own else context
    page = context.new_page()

    def on_console(msg):
        if msg.type == "error":
            record["console_errors"].append(msg.text)
        record.setdefault("console", []).append([round(time.perf_counter() - started, 2), msg.type, msg.text[:200]])

    def on_request(request):
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
            record["outside_requests"].append(request.url)

    page.add_init_script(TIMELINE_JS)
    page.on("console", on_console)
    page.on("pageerror", lambda err: record["console_errors"].append(f"pageerror: {err}"))
    def on_failed(request):
        record["failed_requests"].append(f"{request.url} {request.failure}")

    # context-wide: also the service worker's and the kernel worker's requests
    context.on("request", on_request)
    context.on("requestfailed", on_failed)
    started = time.perf_counter()
    try:
        t0 = time.perf_counter()
        page.goto(f"{base}/voici/render/{name}.html", timeout=timeout_ms)
        wait_interactive(page, timeout_ms, widgets=control is not None)
        record["interactive_s"] = time.perf_counter() - t0
        record["timeline"] = page.evaluate("window.__timeline || []")
        links = page.evaluate(BROKEN_LINKS_JS)
        record["broken_links"], record["links_checked"] = links["broken"], links["checked"]
        if name == "index":       # the course home (voici/render/index.html leads to it)
            record["home_url"] = page.url
            record["home"] = page.evaluate(HOME_JS)
            if axe:
                record["axe"] = axe_violations(page, axe)
        elif name == "glossary":
            record["glossary_back"] = page.locator(".tk-glossary-back a").get_attribute("href")
            if axe:
                record["axe"] = axe_violations(page, axe)
        if control is not None:   # a lesson (the glossary has no control)
            check_layers(page, record, axe)
            before = move_control(page, name)
            record["first_move_s"] = time.perf_counter() - t0 - record["interactive_s"]
            record["picture_changed"] = picture(page, control[3]) != before
            record["step_s"] = [step(page, control, i) for i in range(steps)]
        record["stderr_outputs"] = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count()
        record["code_visible"] = page.locator(
            ".jp-InputArea-editor:visible, .cm-editor:visible, .CodeMirror:visible").count()
        text = page.inner_text("body")
        match = ERROR_TEXT.search(text)
        record["error_text"] = text[max(0, match.start() - 200):match.end() + 200] if match else None
        if shots:
            page.screenshot(path=str(Path(shots) / f"site-{name[:2]}.png"), full_page=True)
    except Exception as exc:  # recorded for the caller, with what the page showed
        record["exception"] = f"{type(exc).__name__}: {exc}"[:2000]
        try:
            record["page_text"] = page.inner_text("body")[-2000:]
        except Exception:
            pass
    finally:
        context.remove_listener("request", on_request)
        context.remove_listener("requestfailed", on_failed)
        page.close()
        if own:
            context.close()
    return record


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "serve":
        serve(argv[1], int(argv[2]), argv[3])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--lessons", nargs="*", default=None)
    parser.add_argument("--steps", type=int, default=0, help="further single steps of each control, timed")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds a lesson may take to load")
    parser.add_argument("--loopback", action="store_true", help="bring up lo first (in a fresh netns)")
    parser.add_argument("--screenshots", default=None)
    parser.add_argument("--warm", action="store_true",
                        help="one browser context for all lessons (cache kept), not a fresh one each")
    parser.add_argument("--axe", type=Path, default=None, help="axe-core's axe.min.js: check WCAG 2.1 AA")
    args = parser.parse_args(argv)

    if args.loopback:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    sys.path.insert(0, str(HERE))
    from playwright.sync_api import sync_playwright
    from test_lessons_browser import CONTROLS

    names = args.lessons or sorted(p.stem for p in (args.site / "voici/render").glob("*.html"))
    axe = args.axe.read_text() if args.axe else None
    log_file = args.out.with_suffix(".server.jsonl")
    log_file.write_text("")
    server, base = start_server(args.site, log_file)
    results = {"lessons": [], "interfaces": sorted(name for _, name in socket.if_nameindex())}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            shared = new_context(browser) if args.warm else None
            for name in names:
                mark = sum(1 for _ in open(log_file))
                record = run_lesson(browser, base, name, CONTROLS.get(name), args.steps, int(args.timeout * 1000),
                                    args.screenshots, shared, axe=axe)
                served = [json.loads(line) for line in open(log_file)][mark:]
                record["bytes"] = sum(r["bytes"] for r in served if r["status"] == 200)
                record["requests"] = len(served)
                record["not_found"] = sorted({r["path"] for r in served if r["status"] == 404})
                results["lessons"].append(record)
                print(json.dumps({k: record.get(k) for k in ("lesson", "interactive_s", "picture_changed",
                                                            "exception")}), flush=True)
            if shared is not None:   # a fold opened above is open when its lesson is opened again
                folded = next((r for r in results["lessons"] if (r.get("layers") or {}).get("folds")), None)
                if folded:
                    again = shared.new_page()
                    again.goto(f"{base}/voici/render/{folded['lesson']}.html", wait_until="domcontentloaded")
                    results["remembered"] = {"lesson": folded["lesson"],
                                             "open": again.evaluate(LAYERS_JS)["open"]}
                    again.close()
            browser.close()
    finally:
        server.terminate()
        server.wait()
    args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
