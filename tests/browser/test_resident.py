"""A resident taps from home to an inconsistent matter and sees the difference."""
import re

import pytest

from tests.browser.conftest import LANDSCAPE, PORTRAIT

pytestmark = pytest.mark.browser


def test_tap_through_to_an_inconsistent_matter(live_server, page, artifacts):
    page.goto(live_server.url + "/")
    assert page.locator(".demo-ribbon").is_visible()
    page.screenshot(path=str(artifacts / "home-1920x1080.png"))
    page.get_by_role("link", name="县乡村对照").first.click()
    page.wait_for_url("**/matters")
    # Find a matter whose list shows an inconsistent village, tap through to it.
    matter_links = page.locator("main a.card")
    count = matter_links.count()
    assert count >= 10
    found = False
    for i in range(count):
        page.goto(live_server.url + "/matters")
        page.locator("main a.card").nth(i).click()
        page.wait_for_url(re.compile(r"/matters/\d+"))
        page.wait_for_selector("a.matter-card, #aligned-status")
        bad = page.locator("a.matter-card:has(.badge-bad)")
        if bad.count():
            bad.first.click()
            page.wait_for_selector("#aligned-status")
            found = True
            break
        if page.locator("#aligned-status .badge-bad").count():
            found = True
            break
    assert found, "no inconsistent matter reachable by tapping"
    status = page.locator("#aligned-status .badge")
    assert status.is_visible() and status.inner_text() == "不一致"
    diff = page.locator("td.diff, dd.diff").first
    assert diff.is_visible()
    bg = diff.evaluate("e => getComputedStyle(e).backgroundColor")
    assert bg != "rgba(0, 0, 0, 0)" and bg != "rgb(255, 255, 255)"
    assert page.locator(".diff-list li").count() >= 1
    assert not page.js_errors
    page.screenshot(path=str(artifacts / "aligned-1920x1080.png"), full_page=True)


def test_screens_at_portrait_size(live_server, browser, artifacts):
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
    page = context.new_page()
    for path, name in (("/", "home"), ("/domains", "domains"), ("/villages", "villages")):
        page.goto(live_server.url + path)
        assert page.locator("h1").first.is_visible()
        # Nothing may overflow sideways on a portrait kiosk.
        assert page.evaluate("document.documentElement.scrollWidth") <= PORTRAIT["width"]
        page.screenshot(path=str(artifacts / f"{name}-1080x1920.png"))
    context.close()


def test_htmx_navigation_swaps_main_only(live_server, page):
    page.goto(live_server.url + "/")
    page.evaluate("window.__marker = 42")
    page.get_by_role("link", name="政务公开目录").first.click()
    page.wait_for_url("**/domains")
    page.locator("a.domain-card").first.click()
    page.wait_for_url(re.compile(r"/domains/\d+"))
    page.wait_for_selector("h1:text-matches('领域$')")
    assert page.locator("h1").inner_text().endswith("领域")
    # Boosted navigation keeps the same document (htmx present) — no full reload.
    assert page.evaluate("window.__marker") == 42
    assert page.title().endswith("政务公开查询")
