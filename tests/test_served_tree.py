"""The lessons server never serves the graded course.

Starts the real lessons server (what `teachkit lessons` runs: tests/conftest.py's
VoilaServer on lessons/) and asks it, in every form a path can take, for a source notebook
of the course: the answer is always 403 or 404; the tree lists the lessons and nothing else."""

from __future__ import annotations

import http.client
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
SOURCE = "course/source/km-by-hand/km-by-hand.ipynb"
ABSOLUTE = str(ROOT / SOURCE).lstrip("/")

pytest.importorskip("voila")


@pytest.fixture(scope="module")
def server(voila_server_class):
    s = voila_server_class(LESSONS, preheat=False)
    yield s
    s.stop()


def get(server, path: str, hops: int = 5) -> tuple[int, str]:
    """A raw request: the path is sent exactly as written (no client-side normalisation);
    redirects are followed (a redirect serves nothing; where it leads must be refused)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read().decode(errors="replace")
    location = resp.getheader("Location")
    conn.close()
    if resp.status in (301, 302, 303, 307, 308) and location and hops:
        location = re.sub(r"^https?://[^/]+", "", location)
        return get(server, location, hops - 1)
    return resp.status, body


def variants(rel: str) -> list[str]:
    up = ["..", "%2e%2e", "%2E%2E", ".%2e", "%252e%252e", "..%2f..", "%2e%2e%2f%2e%2e", "..%5c.."]
    out = []
    for u in up:
        for depth in (1, 2):
            prefix = "/".join([u] * depth)
            out.append(f"{prefix}/{rel}")
            out.append(f"{prefix}%2f{rel.replace('/', '%2f')}")
    out += [f"/{ABSOLUTE}", f"%2f{ABSOLUTE.replace('/', '%2f')}", rel, f"./{rel}",
            f"lessons/../{rel}", f"%2e/{rel}"]
    return out


PREFIXES = ["/voila/render/", "/voila/tree/", "/voila/files/", "/files/", "/api/contents/",
            "/tree/", "/notebooks/", "/view/", "/edit/", "/voila/static/", "/static/", "/",
            "/voila/api/contents/", "/nbconvert/html/"]


def test_tree_lists_only_the_lessons(server):
    """``/`` opens the course home (teachkit's tree.html); without JavaScript it lists the
    course home, the lessons and their glossary, and nothing else (no folder, no course)."""
    status, body = get(server, "/")
    assert status == 200
    listed = set(re.findall(r'href="/voila/(?:render|tree)/([^"?]*)\??"', body))
    expected = {p.name for p in LESSONS.glob("[0-9][0-9]-*.ipynb")} | {"glossary.ipynb", "index.ipynb"}
    assert len(expected) == 10
    assert listed == expected, "the tree lists the lessons (and their glossary) and nothing else (no folder, no course)"
    assert 'window.location.replace("/voila/render/index.ipynb")' in body


def test_no_url_reaches_a_course_notebook(server):
    served = []
    for prefix in PREFIXES:
        for rel in variants(SOURCE) + variants("course/source/km-by-hand") + variants("course/gradebook.db"):
            path = prefix + rel.lstrip("/") if not rel.startswith("/") else prefix.rstrip("/") + rel
            status, body = get(server, path)
            if status not in (403, 404) or "BEGIN SOLUTION" in body or "km_table" in body:
                served.append((path, status))
    assert not served, f"answers other than 403/404: {served[:20]}"


def test_a_lesson_is_served(server):
    """The probe above must be able to fail: the same server does render a lesson."""
    name = sorted(p.name for p in LESSONS.glob("[0-9][0-9]-*.ipynb"))[0]
    status, _ = get(server, f"/voila/render/{name}")
    assert status == 200
