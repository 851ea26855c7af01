"""Over the network: bytes on the wire for a resident's village session, and what a second
page load asks of the server (kiosk/compression.py, kiosk/assets.py).

The session is what a resident on a phone does on the hub's pages: the home page, the
village choice, their village's list, one of its items, the aligned view of a matter and
a notice, each page's styles, scripts and pictures fetched once (as a browser's cache
would). It is sent three times: without compression (what every page cost before), with
gzip only, and as Chromium asks (``gzip, deflate, br, zstd``: brotli). Bytes are the whole
HTTP/1.1 answer (status line, headers, body).

The second load is Chromium opening the kiosk's home twice: every request of the second
load that reached the server (its access log). Before hashed static URLs every static file
was ``no-cache`` and so revalidated on every load, as many requests as the first load made.
"""
from __future__ import annotations

import http.client
import re
from html import unescape
from pathlib import Path

import pytest

from content import db
from tests.bench.conftest import SCALE, record, start_server
from tests.browser.conftest import CHROMIUM

CHROME_ACCEPT = "gzip, deflate, br, zstd"
_REF = re.compile(r'\b(?:src|href)="(/(?:static|display/static|sync-static|admin/static|qr\.|pictures/)[^"]*)"')
STATIC_PREFIXES = ("/static/", "/display/static/", "/sync-static/", "/admin/static/")


def village_session(conn) -> list[str]:
    """The pages of one resident's visit, chosen from the generated county."""
    village, matter = conn.execute(
        "SELECT subject_code, matter_id FROM notice WHERE matter_id IS NOT NULL "
        "AND subject_code IN (SELECT code FROM jurisdiction WHERE level = 'village') "
        "ORDER BY subject_code, matter_id LIMIT 1").fetchone()
    item = conn.execute("SELECT id FROM village_item WHERE jurisdiction_code = ? ORDER BY id LIMIT 1",
                        (village,)).fetchone()
    notice = conn.execute("SELECT id FROM notice WHERE subject_code = ? AND status = 'published' "
                          "ORDER BY id DESC LIMIT 1", (village,)).fetchone()
    pages = ["/", "/villages", f"/villages/{village}"]
    if item:
        pages.append(f"/village-items/{item[0]}")
    pages.append(f"/matters/{matter}/{village}")
    if notice:
        pages.append(f"/notices/{notice[0]}")
    return pages


def wire_bytes(response: http.client.HTTPResponse, body: bytes) -> int:
    head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in response.getheaders()) + "\r\n"
    return len(head.encode("latin-1", "replace")) + len(body)


def session_bytes(port: int, pages: list[str], accept: str | None) -> tuple[int, int, dict]:
    """(bytes on the wire, requests, bytes by Content-Encoding and of bodies) of one session."""
    import brotli
    import gzip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Accept-Encoding": accept} if accept else {}
    seen: set[str] = set()
    total, requests, by_encoding = 0, 0, {}

    def get(path: str) -> bytes:
        nonlocal total, requests
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, f"{path} -> {r.status}"
        size = wire_bytes(r, body)
        total += size
        requests += 1
        encoding = r.getheader("Content-Encoding") or "identity"
        by_encoding[encoding] = by_encoding.get(encoding, 0) + size
        by_encoding["bodies"] = by_encoding.get("bodies", 0) + len(body)
        if encoding == "br":
            return brotli.decompress(body)
        if encoding == "gzip":
            return gzip.decompress(body)
        return body

    for page in pages:
        html = get(page).decode()
        for ref in _REF.findall(html):
            ref = unescape(ref)
            if ref not in seen:
                seen.add(ref)
                get(ref)
    conn.close()
    return total, requests, by_encoding


@pytest.fixture(scope="module")
def hub_server(county):
    server = start_server(county, "threads = 8\n")
    yield server
    server.stop()


def test_village_session_bytes_compressed_and_not(county, hub_server):
    conn = db.connect(county / "kiosk.sqlite3")
    pages = village_session(conn)
    conn.close()
    for _warm in range(2):                      # page cache filled, as on a busy hub
        session_bytes(hub_server.port, pages, None)
    plain, n_plain, plain_parts = session_bytes(hub_server.port, pages, None)
    gzipped, n_gzip, gzip_parts = session_bytes(hub_server.port, pages, "gzip")
    chrome, n_chrome, by_encoding = session_bytes(hub_server.port, pages, CHROME_ACCEPT)
    assert n_plain == n_gzip == n_chrome
    record("network", "village session bytes, gzip", gzipped, "B", plain, "uncompressed",
           max_ratio=0.4, note=f"{len(pages)} pages + their files, {n_plain} requests; bodies "
                               f"{gzip_parts['bodies']:,} B of {plain_parts['bodies']:,} B")
    record("network", "village session bytes, as Chromium asks (brotli)", chrome, "B", plain,
           "uncompressed", max_ratio=0.4,
           note=", ".join(f"{k} {v:,} B" for k, v in sorted(by_encoding.items())))
    print(f"\nvillage session ({' → '.join(pages)}): {plain:,} B plain, {gzipped:,} B gzip, "
          f"{chrome:,} B as Chromium asks ({by_encoding})")


def _logged_requests(log: Path, since: int) -> list[str]:
    return re.findall(r'"GET (\S+) HTTP', log.read_text(errors="replace")[since:])


def test_second_page_load_requests(hub_server):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            counts = []
            for _load in range(2):
                mark = len(hub_server.log.read_text(errors="replace"))
                page.goto(hub_server.url + "/", wait_until="load")
                page.wait_for_load_state("networkidle")   # the icon comes after "load"
                counts.append(_logged_requests(hub_server.log, mark))
        finally:
            browser.close()
    first, second = counts
    first_static = [u for u in first if u.startswith(STATIC_PREFIXES)]
    second_static = [u for u in second if u.startswith(STATIC_PREFIXES)]
    assert len(first_static) >= 10, first
    record("network", "second page load: requests to the server", len(second), "requests",
           len(first), "first load (= every load with no-cache files)", max_value=1,
           note=f"static files: {len(second_static)} of {len(first_static)}, scale {SCALE:g}")


def test_compressing_a_cached_page_costs_little(county, hub_server):
    """A page-cache hit compressed on every request (brotli) against the same hit sent plain,
    interleaved on one connection each: what compression adds to the hub's busiest answer."""
    from tests.bench.conftest import percentile
    import time
    conn = db.connect(county / "kiosk.sqlite3")
    pages = village_session(conn)
    conn.close()
    path = pages[2]                                   # the village's list
    conns = {k: http.client.HTTPConnection("127.0.0.1", hub_server.port, timeout=60)
             for k in ("plain", "br")}
    headers = {"plain": {}, "br": {"Accept-Encoding": CHROME_ACCEPT}}
    times = {"plain": [], "br": []}
    sizes = {}
    for i in range(20 + 400):
        for k in ("plain", "br"):
            t0 = time.perf_counter()
            conns[k].request("GET", path, headers=headers[k])
            r = conns[k].getresponse()
            body = r.read()
            elapsed = time.perf_counter() - t0
            assert r.status == 200
            sizes[k] = len(body)
            if i >= 20:
                times[k].append(elapsed)
    for c in conns.values():
        c.close()
    p95 = {k: percentile(v, 95) * 1000 for k, v in times.items()}
    record("network", "village list p95, brotli each time", p95["br"], "ms", p95["plain"],
           "the same page plain", max_ratio=1.5,
           note=f"{path}: {sizes['br']:,} B instead of {sizes['plain']:,} B")
