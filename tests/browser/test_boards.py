"""Noticeboards in Chromium against the real server: rotation, memory, restarts, layout, screenshots."""
import re
import socket
import time

import pytest

from content import db
from tests.browser.conftest import LANDSCAPE, PORTRAIT

pytestmark = pytest.mark.browser


def _db(server):
    return db.connect(server.data_dir / "kiosk.sqlite3")


def _calm(server) -> None:
    """Without the demo's seasonal emergency every board rotates its ordinary notices."""
    conn = _db(server)
    conn.execute("UPDATE notice SET status='withdrawn' WHERE priority='紧急'")
    conn.close()


def _set_board(server, slug, **settings) -> None:
    conn = _db(server)
    for key, value in settings.items():
        conn.execute(f"UPDATE board SET {key} = ? WHERE slug = ?", (value, slug))
    conn.close()


def _metrics(cdp, page) -> dict:
    """Node, listener and heap counts after GC; the least of a few samples, so a poll that
    happens to be in flight (its XHR holds listeners) does not count as growth."""
    samples = []
    for _ in range(4):
        cdp.send("HeapProfiler.collectGarbage")
        samples.append({m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]})
        page.wait_for_timeout(250)
    return {k: min(s[k] for s in samples) for k in samples[0]}


def _wait_rotations(page, n, timeout=120):
    page.wait_for_function(f"() => Number(document.body.dataset.rotations || 0) >= {n}", timeout=timeout * 1000)


def test_200_rotations_keep_the_dom_and_memory_flat(live_server, browser):
    _calm(live_server)
    _set_board(live_server, "county-hall", slide_seconds=0.15, poll_seconds=1)
    context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/display/county-hall")
    keys = page.eval_on_selector_all("#deck .slide:not([data-spare])", "els => els.map(e => e.dataset.key)")
    assert len(keys) >= 10
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    _wait_rotations(page, 20)
    # Playwright's own helpers install listeners on first use: use them before measuring.
    page.eval_on_selector("#deck .slide.is-active", "e => e.dataset.key")
    page.locator("#deck .slide.is-active").count()
    before = _metrics(cdp, page)
    elements_before = page.evaluate("document.getElementsByTagName('*').length")
    seen = set()
    start = page.evaluate("Number(document.body.dataset.rotations)")
    while page.evaluate("Number(document.body.dataset.rotations)") < start + 200:
        seen.add(page.eval_on_selector("#deck .slide.is-active", "e => e.dataset.key"))
        assert page.locator("#deck .slide.is-active").count() == 1
        page.wait_for_timeout(60)
    after = _metrics(cdp, page)
    elements_after = page.evaluate("document.getElementsByTagName('*').length")
    assert seen == set(keys), "every slide came round"
    assert elements_after == elements_before
    assert after["Nodes"] <= before["Nodes"] + 50, (before["Nodes"], after["Nodes"])
    assert after["JSEventListeners"] <= before["JSEventListeners"]
    assert after["JSHeapUsedSize"] < before["JSHeapUsedSize"] + 1_000_000, (
        before["JSHeapUsedSize"], after["JSHeapUsedSize"])
    assert not errors
    context.close()


def test_board_survives_a_server_restart_and_swaps_new_content(live_server, browser):
    _calm(live_server)
    _set_board(live_server, "xinghuacun", slide_seconds=1, poll_seconds=0.5)
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/display/xinghuacun")
    page.evaluate("window.__sameDocument = true")
    version = page.get_attribute("#deck", "data-version")
    page.wait_for_timeout(1500)                       # a few quiet polls: nothing swapped
    assert page.get_attribute("#deck", "data-version") == version

    live_server.stop()
    page.wait_for_function("() => document.querySelector('[data-board-status]').textContent.includes('网络中断')",
                           timeout=10_000)
    page.wait_for_timeout(3000)
    # still showing the last content while the server is away
    assert page.locator("#deck .slide.is-active .slide-title").is_visible()
    conn = _db(live_server)
    cur = conn.execute("""UPDATE notice SET title = '重启后出现的新公示（测试）', rev = rev + 1
                    WHERE id = (SELECT id FROM notice WHERE status='published'
                                AND jurisdiction_code='340499100201'
                                AND substr(published_at,1,10) <= date('now')
                                AND (period_end IS NULL OR period_end >= date('now'))
                                AND (expires_on IS NULL OR expires_on >= date('now')) LIMIT 1)""")
    assert cur.rowcount == 1      # (total_changes also counts the search index triggers' rows)
    conn.close()
    live_server.start()
    page.wait_for_function(
        "() => document.getElementById('deck').textContent.includes('重启后出现的新公示（测试）')", timeout=30_000)
    page.wait_for_function("() => document.querySelector('[data-board-status]').textContent === ''", timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True      # swapped in place, no reload
    assert page.get_attribute("#deck", "data-version") != version
    rotations = page.evaluate("Number(document.body.dataset.rotations)")
    page.wait_for_timeout(2500)
    assert page.evaluate("Number(document.body.dataset.rotations)") > rotations   # still rotating
    assert not errors
    context.close()


def test_quiet_poll_is_tiny_on_the_wire(live_server):
    html = __import__("urllib.request").request.urlopen(live_server.url + "/display/county-hall").read()
    version = re.search(rb'data-version="([0-9a-f]+)"', html).group(1).decode()
    with socket.create_connection(("127.0.0.1", live_server.port)) as s:
        # the same Host as the page: the QR codes' addresses are part of what is compared
        s.sendall(f"GET /display/county-hall/slides?v={version} HTTP/1.1\r\n"
                  f"Host: 127.0.0.1:{live_server.port}\r\n"
                  "HX-Request: true\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while chunk := s.recv(4096):
            raw += chunk
    assert raw.startswith(b"HTTP/1.1 204")
    assert len(raw) <= 200, raw


_CUT_OFF = """() => {
    const s = document.querySelector('#deck .slide.is-active');
    const box = s.getBoundingClientRect();
    const bad = [];
    for (const part of s.querySelectorAll('.slide-main, .slide-side, .slide-foot, .fallback-main')) {
        const r = part.getBoundingClientRect();
        if (part.scrollHeight > part.clientHeight + 1 || r.bottom > box.bottom + 1 || r.right > box.right + 1)
            bad.push(s.dataset.key + ' ' + part.className);
    }
    return [s.dataset.key, bad, s.dataset.fit || null];
}"""


def test_no_slide_of_any_demo_board_is_cut_off(live_server, browser):
    """Every slide of every demo board, as the rotation shows it, fits its screen."""
    _calm(live_server)
    conn = _db(live_server)
    boards = conn.execute("SELECT slug, orientation FROM board WHERE status='published'").fetchall()
    conn.execute("UPDATE board SET windows='[]', slide_seconds=0.25")
    conn.close()
    shrunk = []
    for b in boards:
        context = browser.new_context(viewport=LANDSCAPE if b["orientation"] == "landscape" else PORTRAIT,
                                      locale="zh-CN")
        page = context.new_page()
        page.goto(live_server.url + f"/display/{b['slug']}")
        keys = set(page.eval_on_selector_all("#deck .slide:not([data-spare])", "els => els.map(e => e.dataset.key)"))
        seen = set()
        deadline = time.monotonic() + 60
        while seen != keys and time.monotonic() < deadline:
            key, bad, fit = page.evaluate(_CUT_OFF)
            assert bad == [], (b["slug"], bad)
            seen.add(key)
            if fit:
                shrunk.append((b["slug"], key))
            page.wait_for_timeout(80)
        assert seen == keys, b["slug"]
        context.close()
    # The server's paging should make the type-shrinking safety net a rare exception.
    total = sum(1 for _ in boards)
    assert len(shrunk) <= total, shrunk


def test_screenshots_landscape_portrait_and_emergency(live_server, browser, artifacts):
    shots = []
    for slug, viewport, name in (("county-hall", LANDSCAPE, "emergency-1920x1080"),
                                 ("xinghuacun", PORTRAIT, "emergency-1080x1920")):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        page.goto(live_server.url + f"/display/{slug}")
        assert page.locator(".deck-emergency .urgent-strip").is_visible()
        page.screenshot(path=str(artifacts / f"board-{name}.png"))
        context.close()
    context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert page.locator("#emergency-banner").is_visible()
    page.screenshot(path=str(artifacts / "home-emergency-1920x1080.png"))
    context.close()

    _calm(live_server)
    for slug, viewport, size in (("county-hall", LANDSCAPE, "1920x1080"), ("xinghuacun", PORTRAIT, "1080x1920"),
                                 ("liulincun", LANDSCAPE, "1920x1080")):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        page.goto(live_server.url + f"/display/{slug}")
        active = page.locator("#deck .slide.is-active")
        assert active.locator(".slide-title").is_visible()
        qr = active.locator(".slide-qr img")
        assert qr.is_visible() and qr.evaluate("i => i.complete && i.naturalWidth > 0")
        box = qr.bounding_box()
        assert box["width"] >= 280                    # scannable from a step away
        title_px = float(active.locator(".slide-title").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        body_px = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('.slide-body p, .slide-data td')).fontSize)"))
        assert title_px >= 50 and body_px >= 28       # readable from 3 m
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(artifacts / f"board-{slug}-{size}.png"))
        shots.append(slug)
        # a table slide, when the board has one
        table = page.locator("#deck .slide-table").first
        if table.count():
            page.evaluate("""() => { const t = document.querySelector('#deck .slide-table');
                document.querySelectorAll('#deck .slide').forEach(s => s.classList.toggle('is-active', s === t)); }""")
            page.screenshot(path=str(artifacts / f"board-{slug}-table-{size}.png"))
        context.close()
    page = browser.new_page(viewport=LANDSCAPE)
    page.goto(live_server.url + "/display/")
    page.screenshot(path=str(artifacts / "boards-list-1920x1080.png"), full_page=True)
    page.close()
    assert len(shots) == 3
