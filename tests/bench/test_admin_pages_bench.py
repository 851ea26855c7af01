"""Every admin page at county scale, signed in as the county administrator (issue #19).

For each admin GET page (tests/admin_pages_util.py reads them from the URL map):
- SQL statements per page, counted in-process through the Flask test client on the bench
  county (sqlite3 trace callback), goal ≤ 50;
- p95 time through the real `kiosk serve` over one keep-alive connection, goal ≤ 300 ms,
  against the baseline of the lightest admin page (/admin/password) measured in the same run;
- for the lists long enough to have a page 500 (notices, the audit log), page 500 reached the
  way staff reach it (the key-based "下一页" link, walked in-process), goal ≤ 2× page 1,
  timed interleaved with page 1 so that both see the same load.

A village editor's view of the pages whose cost depends on the user's reach (the workbench,
the lists, the audit log) is measured the same way: the bench gives one village editor a
password first (the history's accounts have unusable ones).

KIOSK_BENCH_SCALE=0.1 for development; the numbers in docs/benchmarks.md are at 1.0.
"""
from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from html import unescape

import pytest

from tests.admin_pages_util import MAX_STATEMENTS, admin_urls, measure
from tests.admin_util import login
from tests.bench.conftest import SCALE, interleaved_gets, percentile, record, start_server, timed_gets
from tests.bench.history import BENCH_ADMIN, BENCH_PASSWORD

MAX_MS = 300
N, WARMUP = 20, 3
N_DEEP = 60          # page 1 against page 500: more samples, the ratio is sensitive to one stall
BASELINE = "/admin/password"
DEEP = ("/admin/notices/", "/admin/audit")
VILLAGE_PAGES = ("/admin/", "/admin/notices/", "/admin/village-items/", "/admin/audit", "/admin/drafts",
                 "/admin/proof", "/admin/due")
VILLAGE_PASSWORD = "village-bench-pass-2026"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


def _page_500_by_key(client, start: str) -> str | None:
    """Follow "下一页" 499 times; the URL of page 500 (None when the list is shorter)."""
    url = start
    for _ in range(499):
        m = _NEXT.search(client.get(url).get_data(as_text=True))
        if not m:
            return None
        url = unescape(m.group(1))
    return url


def _village_editor(conn) -> str:
    """A village editor of the bench county, given a password (one village in the middle)."""
    from content import users
    row = conn.execute("SELECT username FROM user WHERE role = 'village_editor' ORDER BY id "
                       "LIMIT 1 OFFSET (SELECT count(*) / 2 FROM user WHERE role = 'village_editor')").fetchone()
    conn.execute("UPDATE user SET password_hash = ?, must_change_password = 0 WHERE username = ?",
                 (users.hash_password(VILLAGE_PASSWORD), row[0]))
    conn.commit()
    return row[0]


def _signed_in_cookie(port: int, username: str = BENCH_ADMIN, password: str = BENCH_PASSWORD) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    html = opener.open(base + "/admin/login", timeout=60).read().decode()
    body = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrf_token": _TOKEN.search(html).group(1)}).encode()
    opener.open(base + "/admin/login", body, timeout=60).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


@pytest.fixture(scope="module")
def pages(county):
    """(urls, statements per url, page-500 urls) from the bench county, in-process."""
    from content import db
    from kiosk import create_app
    app = create_app({"DATA_DIR": str(county)})
    client = app.test_client()
    login(client, BENCH_ADMIN, BENCH_PASSWORD)
    conn = db.connect(app.config["DATABASE"])
    urls, unfilled = admin_urls(app, conn)
    village = _village_editor(conn)
    conn.close()
    assert not unfilled, unfilled
    statements = {}
    for url in [BASELINE, *urls]:
        measure(app, client, url)                      # warm
        cost = measure(app, client, url)
        assert cost.status == 200, (url, cost.status)
        statements[url] = cost.statements
    deep = {}
    for start in DEEP:
        by_key = _page_500_by_key(client, start)
        if by_key:
            deep[start] = by_key
            statements[by_key] = measure(app, client, by_key).statements
    editor = app.test_client()
    login(editor, village, VILLAGE_PASSWORD)
    for url in VILLAGE_PAGES:
        measure(app, editor, url)
        cost = measure(app, editor, url)
        assert cost.status == 200, (url, cost.status)
        statements["village " + url] = cost.statements
    return urls, statements, deep, village


def test_admin_pages(county, pages):
    urls, statements, deep, village = pages
    server = start_server(county)
    try:
        headers = {"Cookie": _signed_in_cookie(server.port)}
        base_times, _ = timed_gets(server.port, BASELINE, N, WARMUP, headers)
        base = percentile(base_times, 95) * 1000
        p95 = {}
        for url in urls:
            times, _ = timed_gets(server.port, url, N, WARMUP, headers)
            p95[url] = percentile(times, 95) * 1000
        deep_p95 = {}
        for start, by_key in deep.items():
            first, last = interleaved_gets((server.port, start), (server.port, by_key), N_DEEP, WARMUP, headers)
            deep_p95[start] = (percentile(first, 95) * 1000, percentile(last, 95) * 1000)
        village_headers = {"Cookie": _signed_in_cookie(server.port, village, VILLAGE_PASSWORD)}
        for url in VILLAGE_PAGES:
            times, _ = timed_gets(server.port, url, N, WARMUP, village_headers)
            p95["village " + url] = percentile(times, 95) * 1000
    finally:
        server.stop()
    missed = []
    for url in urls:
        r = record("admin", f"{url} p95", p95[url], "ms", base, f"{BASELINE} p95", max_value=MAX_MS)
        s = record("admin", f"{url} SQL statements", statements[url], "statements",
                   statements[BASELINE], BASELINE, max_value=MAX_STATEMENTS)
        missed += [x for x in (r, s) if not x.ok]
    for url in VILLAGE_PAGES:
        key = "village " + url
        r = record("admin", f"{url} p95, village editor", p95[key], "ms", base, f"{BASELINE} p95",
                   max_value=MAX_MS)
        s = record("admin", f"{url} SQL statements, village editor", statements[key], "statements",
                   statements[BASELINE], BASELINE, max_value=MAX_STATEMENTS)
        missed += [x for x in (r, s) if not x.ok]
    for start, by_key in deep.items():
        first, last = deep_p95[start]
        r = record("admin", f"{start} page 500 p95", last, "ms", first, f"{start} page 1 p95",
                   max_ratio=2, note=f"{statements[by_key]} statements")
        missed += [r] if not r.ok else []
    if SCALE >= 0.5:        # at small scales the notice list is shorter than 500 pages
        assert set(deep) == set(DEEP), deep
    assert not missed, [(m.measure, round(m.value)) for m in missed]
