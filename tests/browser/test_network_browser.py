"""Over the network in Chromium: a second page load asks the server for no static file, a
compressed page renders as the plain one, and a board takes new assets after an upgrade."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import LANDSCAPE

pytestmark = pytest.mark.browser

STATIC_PREFIXES = ("/static/", "/display/static/", "/sync-static/", "/admin/static/")


def is_static(url: str) -> bool:
    return urlsplit(url).path.startswith(STATIC_PREFIXES)


def static_gets_logged(server, since: int) -> list[str]:
    """Static file requests that reached the server (its access log) after offset ``since``."""
    text = server.log.read_text(errors="replace")[since:]
    return [m for m in re.findall(r'"GET (\S+) HTTP', text) if m.startswith(STATIC_PREFIXES)]


def test_a_second_page_load_revalidates_no_static_file(live_server, browser, artifacts):
    context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN", has_touch=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    responses: list[dict] = []
    cached: set[str] = set()      # Chromium's memory cache answers without a response event flag
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    cdp.on("Network.responseReceived",
           lambda e: responses.append({**e["response"], "requestId": e["requestId"]}))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        mark = len(live_server.log.read_text(errors="replace"))
        page.goto(live_server.url + "/", wait_until="load")
        page.wait_for_load_state("networkidle")           # the icon comes after "load"
        first = [u for u in requests if is_static(u)]
        assert len(first) >= 10, first
        assert all("v=" in urlsplit(u).query for u in first), first
        assert len(static_gets_logged(live_server, mark)) >= 10

        requests.clear()
        responses.clear()
        mark = len(live_server.log.read_text(errors="replace"))
        page.goto(live_server.url + "/", wait_until="load")
        page.wait_for_load_state("networkidle")
        second = [u for u in requests if is_static(u)]
        # the page still uses them all (the browser decides when to ask for the icon)
        assert {u for u in second if "icon.svg" not in u} == {u for u in first if "icon.svg" not in u}
        static_responses = [r for r in responses if is_static(r["url"])]
        revalidated = [r["url"] for r in static_responses
                       if r["status"] == 304 or not (r.get("fromDiskCache") or r["requestId"] in cached)]
        assert not revalidated, revalidated
        assert static_gets_logged(live_server, mark) == []     # the server saw none of them
        # a reload, too, trusts the immutable files
        mark = len(live_server.log.read_text(errors="replace"))
        page.reload(wait_until="load")
        page.wait_for_timeout(300)
        assert static_gets_logged(live_server, mark) == []
    finally:
        context.close()


def test_a_compressed_page_renders_as_the_plain_one(live_server, browser, artifacts):
    shots = {}
    for name, headers in (("compressed", {}), ("plain", {"Accept-Encoding": "identity"})):
        context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN", has_touch=True,
                                      extra_http_headers=headers)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        encodings = {}
        page.on("response", lambda r: encodings.__setitem__(urlsplit(r.url).path,
                                                             r.headers.get("content-encoding")))
        try:
            page.goto(live_server.url + "/display/county-hall", wait_until="load")
            page.wait_for_function("() => window.htmx && htmx.version")
            page.wait_for_selector("#deck .slide.is-active")
            if name == "compressed":
                assert encodings["/display/county-hall"] == "br"
                assert encodings["/display/static/display.css"] == "br"
                assert encodings["/static/vendor/htmx.min.js"] == "br"
            else:
                assert not any(encodings.values()), encodings
            # the styles applied: the board's header is laid out by display.css
            shots[name] = page.evaluate("""() => {
                const head = document.querySelector('.board-head');
                const s = getComputedStyle(head);
                return [s.display, s.position, head.getBoundingClientRect().height > 40,
                        document.querySelectorAll('#deck .slide').length,
                        document.querySelector('.board-name strong').textContent];
            }""")
            page.screenshot(path=str(artifacts / f"network-board-{name}.png"))
            assert not errors, errors
        finally:
            context.close()
    assert shots["compressed"] == shots["plain"]
    assert shots["compressed"][0] != "inline" and shots["compressed"][2] is True


def test_a_board_reloads_when_a_new_deck_names_other_assets(live_server, browser):
    from content import db
    conn = db.connect(live_server.data_dir / "kiosk.sqlite3")
    conn.execute("UPDATE board SET poll_seconds = 1 WHERE slug = 'county-hall'")
    conn.close()
    context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/display/county-hall", wait_until="load")
        page.wait_for_function("() => window.htmx && htmx.version")
        mine = page.evaluate("() => document.body.dataset.assets")
        assert re.fullmatch(r"[0-9a-f]{12}", mine)
        page.evaluate("() => { window.__before_upgrade = true }")
        served = []

        def upgraded_deck(route):
            # What a server upgraded meanwhile answers: a new deck naming other assets.
            real = route.fetch(url=live_server.url + "/display/county-hall/slides?v=0")
            served.append(route.request.url)
            route.fulfill(response=real, body=real.text().replace(
                f'data-assets="{mine}"', 'data-assets="0123456789ab"'))
        page.route(re.compile(r"/display/county-hall/slides"), upgraded_deck, times=1)
        page.wait_for_function("() => window.__before_upgrade === undefined", timeout=20000)
        assert served
        page.wait_for_selector("#deck .slide.is-active")
        assert page.evaluate("() => document.body.dataset.assets") == mine
    finally:
        context.close()
