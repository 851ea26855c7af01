"""The touchscreen in real Chromium: on-screen keyboard search, 适老化 sizes, idle reset,
QR codes that scan, external links, axe-core and touch-target sizes on every resident page."""
import shutil
import sqlite3
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.browser.conftest import LANDSCAPE, PORTRAIT, LiveServer

pytestmark = pytest.mark.browser

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"


def resident_pages(data_dir: Path) -> list[str]:
    """One URL for every resident screen, from the demo database."""
    conn = sqlite3.connect(data_dir / "kiosk.sqlite3")
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    village = one("SELECT code FROM jurisdiction WHERE level='village' ORDER BY code LIMIT 1")
    matter = one("SELECT id FROM matter ORDER BY id LIMIT 1")
    pages = [
        "/", "/domains", "/domains/1",
        f"/items/{one('SELECT id FROM catalogue_item WHERE status=%s AND online_url != %s LIMIT 1' % (repr('published'), repr('')))}",
        "/villages", f"/villages/{village}",
        f"/village-items/{one('SELECT id FROM village_item WHERE status=%s LIMIT 1' % repr('published'))}",
        "/matters", f"/matters/{matter}/{village}", "/guides", "/guides/1",
        f"/handbooks/{one('SELECT id FROM handbook WHERE status=%s LIMIT 1' % repr('published'))}",
        "/notices", "/notices?past=1",
        f"/notices/{one('SELECT id FROM notice WHERE status=%s AND substr(published_at,1,10) <= date(%s) LIMIT 1' % (repr('published'), repr('now')))}",
        "/search", "/search?q=dbgs", "/search?q=qqqqxxxx", "/attract", "/guides/1/sheet",
        f"/handbooks/{one('SELECT id FROM handbook WHERE status=%s LIMIT 1' % repr('published'))}/print",
    ]
    conn.close()
    return pages


SERIOUS = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | '));
}"""

SMALL_TARGETS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [role=button]')) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;   // not shown
    if (el.closest('.sr-only')) continue;
    if (r.width < 48 || r.height < 48)
      bad.push(el.tagName + '.' + el.className + ' "' + (el.textContent || el.value || '').trim().slice(0, 20)
               + '" ' + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return bad;
}"""


def set_elderly(page, base, on: bool):
    page.goto(base + "/")
    if (page.locator(".navbtn-elderly").get_attribute("aria-pressed") == "true") != on:
        with page.expect_navigation():
            page.locator(".navbtn-elderly").click()
    assert (page.locator("body.elderly").count() == 1) == on


def axe_page(browser, viewport):
    """A touchscreen page that may load axe-core despite the CSP: (context, page)."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make setup` (it fetches axe-core)")
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True, bypass_csp=True)
    return context, context.new_page()


def test_axe_and_touch_targets_on_every_resident_page(live_server, browser):
    context, page = axe_page(browser, LANDSCAPE)
    problems = []
    pages = resident_pages(live_server.data_dir)
    for elderly in (False, True):
        set_elderly(page, live_server.url, elderly)
        for path in pages:
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            page.add_script_tag(path=str(AXE_JS))
            for v in page.evaluate(SERIOUS):
                problems.append(f"{'适老化 ' if elderly else ''}{path}: {v}")
            for t in page.evaluate(SMALL_TARGETS):
                problems.append(f"{'适老化 ' if elderly else ''}{path}: target {t}")
    context.close()
    assert not problems, "\n".join(problems)


def test_type_dbgs_on_the_keyboard_and_open_a_result(live_server, page, artifacts):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="搜索").first.tap()
    page.wait_for_url("**/search")
    page.evaluate("window.__marker = 7")
    for key in "dbgs":
        page.locator(f"button.osk-key[data-key='{key}']").tap()
    assert page.locator("#q").input_value() == "dbgs"
    page.wait_for_selector("#search-results .result-card")
    page.wait_for_url("**/search?q=dbgs")          # the address follows the query
    assert page.evaluate("window.__marker") == 7    # results swapped in, no page reload
    first = page.locator("#search-results .result-card").first
    assert first.locator("mark").count() >= 1
    page.screenshot(path=str(artifacts / "search-1920x1080.png"))
    # delete and clear work by touch alone
    page.locator("button.osk-key[data-key='del']").tap()
    assert page.locator("#q").input_value() == "dbg"
    page.locator("button.osk-key[data-key='clear']").tap()
    assert page.locator("#q").input_value() == ""
    for key in "dbgs":
        page.locator(f"button.osk-key[data-key='{key}']").tap()
    # The answer for the whole word, not an earlier one for "d" or "db" about to be swapped out.
    page.wait_for_url("**/search?q=dbgs")
    page.wait_for_selector("#search-results .result-card")
    href = page.locator("#search-results .result-card").first.get_attribute("href")
    page.locator("#search-results .result-card").first.tap()
    page.wait_for_url("**" + href)
    assert page.locator("h1").first.is_visible()
    assert not page.js_errors


def test_elderly_mode_sizes(live_server, page, artifacts):
    page.goto(live_server.url + "/guides/1")
    size = lambda sel: float(page.locator(sel).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))  # noqa: E731
    assert size("body") >= 24 and size(".fields dd") >= 24
    normal_target = page.locator(".navbtn-home").bounding_box()["height"]
    with page.expect_navigation():
        page.locator(".navbtn-elderly").tap()
    assert page.url.endswith("/guides/1")            # back on the same screen
    assert page.locator("body.elderly").count() == 1
    assert size("body") >= 32 and size(".fields dd") >= 32 and size("h1") > 32
    assert page.locator(".navbtn-home").bounding_box()["height"] > normal_target
    page.screenshot(path=str(artifacts / "guide-elderly-1920x1080.png"))
    page.goto(live_server.url + "/search?q=db")
    page.screenshot(path=str(artifacts / "search-elderly-1920x1080.png"))
    page.set_viewport_size(PORTRAIT)
    page.goto(live_server.url + "/")
    page.screenshot(path=str(artifacts / "home-elderly-1080x1920.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PORTRAIT["width"]
    with page.expect_navigation():
        page.locator(".navbtn-elderly").tap()
    assert page.locator("body.elderly").count() == 0 and size("body") == 24


@pytest.fixture
def quick_idle_server(tmp_path, demo_template):
    data_dir = tmp_path / "idle"
    shutil.copytree(demo_template, data_dir)
    with (data_dir / "kiosk.toml").open("a") as f:
        f.write("idle_seconds = 12\n")
    server = LiveServer(data_dir).start()
    yield server
    server.stop()


def test_idle_countdown_is_cancelled_by_a_touch_then_resets_to_attract(quick_idle_server, page, artifacts):
    base = quick_idle_server.url
    page.goto(base + "/search")
    assert page.locator("body").get_attribute("data-idle-seconds") == "12"
    page.locator("button.osk-key[data-key='d']").tap()
    page.locator("button.osk-key[data-key='b']").tap()
    overlay = page.locator(".idle-overlay")
    overlay.wait_for(state="visible", timeout=6000)          # countdown starts 10 s before reset
    count = int(page.locator(".idle-count").inner_text())
    assert 1 <= count <= 10
    page.screenshot(path=str(artifacts / "idle-countdown-1920x1080.png"))
    overlay.tap()
    overlay.wait_for(state="detached", timeout=3000)
    assert "/search" in page.url and page.locator("#q").input_value() == "db"
    page.evaluate("localStorage.setItem('htmx-history-cache', '[{\"url\":\"/search?q=db\"}]')")
    page.wait_for_url("**/attract", timeout=20000)
    assert page.locator("[data-attract]").is_visible()
    assert page.evaluate("localStorage.getItem('htmx-history-cache')") is None
    page.screenshot(path=str(artifacts / "attract-1920x1080.png"))
    page.wait_for_timeout(13000)                              # the attract screen stays put
    assert page.url.endswith("/attract") and page.locator(".idle-overlay").count() == 0
    page.locator("[data-attract]").tap()
    page.wait_for_url(base + "/")
    page.goto(base + "/search")
    assert page.locator("#q").input_value() == ""
    assert not page.js_errors


def test_qr_on_a_guide_scans_from_the_screen(live_server, page, artifacts):
    """The 带走指南 code opens this guide's own page at the county's public address."""
    conn = sqlite3.connect(live_server.data_dir / "kiosk.sqlite3")
    url = conn.execute("SELECT value FROM meta WHERE key = 'public_url'").fetchone()[0].rstrip("/") + "/guides/1"
    conn.close()
    for viewport, name in ((LANDSCAPE, "1920x1080"), (PORTRAIT, "1080x1920")):
        page.set_viewport_size(viewport)
        page.goto(live_server.url + "/guides/1")
        img = page.locator(".qr-img").first
        img.wait_for(state="visible")
        assert page.evaluate("document.querySelector('.qr-img').naturalWidth") > 0
        box = img.bounding_box()
        assert box["width"] >= 240 and box["height"] >= 240
        shot = Image.open(BytesIO(img.screenshot()))
        assert [r.text for r in zxingcpp.read_barcodes(shot)] == [url]
        page.screenshot(path=str(artifacts / f"guide-qr-{name}.png"))


def test_external_links_become_qr_codes(live_server, page):
    page.goto(live_server.url + "/guides")
    page.evaluate("""() => {
      const a = document.createElement('a'); a.href = 'https://example.org/elsewhere'; a.id = 'ext';
      a.textContent = '外部链接'; a.className = 'bigbtn'; document.querySelector('main').prepend(a);
    }""")
    page.locator("#ext").tap()
    dialog = page.locator(".kiosk-dialog")
    dialog.wait_for(state="visible")
    assert page.url.endswith("/guides")
    # The dialog shows at once; its QR image (fixed size) arrives a moment later.
    page.wait_for_function("() => { const i = document.querySelector('.kiosk-dialog img');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    shot = Image.open(BytesIO(dialog.locator("img").screenshot()))
    assert [r.text for r in zxingcpp.read_barcodes(shot)] == ["https://example.org/elsewhere"]
    dialog.get_by_role("button", name="关闭").tap()
    assert page.locator(".kiosk-dialog").count() == 0


def test_hardening(live_server, page):
    page.goto(live_server.url + "/")
    assert page.evaluate("getComputedStyle(document.body).touchAction") == "pan-x pan-y"
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).userSelect") == "none"
    assert page.evaluate("getComputedStyle(document.querySelector('.navbtn-elderly')).userSelect") == "none"
    prevented = page.evaluate("""() => {
      const e = new MouseEvent('contextmenu', {bubbles: true, cancelable: true});
      return !document.querySelector('.tile').dispatchEvent(e);
    }""")
    assert prevented
    assert page.evaluate("window.open('https://example.org')") is None


def test_screens_at_both_sizes(live_server, browser, artifacts):
    for viewport, name in ((LANDSCAPE, "1920x1080"), (PORTRAIT, "1080x1920")):
        context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True)
        page = context.new_page()
        for path, label in (("/", "home"), ("/search?q=dbgs", "search"), ("/guides/1/sheet", "sheet")):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], path
            page.screenshot(path=str(artifacts / f"touch-{label}-{name}.png"))
        page.emulate_media(media="print")
        page.goto(live_server.url + "/guides/1/sheet")
        assert page.locator(".topbar").is_hidden() and page.locator(".sheet-actions").is_hidden()
        assert page.locator(".sheet .qr-img").is_visible()
        context.close()
    # The sheet really prints on A4.
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/guides/1/sheet")
    pdf = page.pdf(prefer_css_page_size=True)
    (artifacts / "guide-sheet.pdf").write_bytes(pdf)
    import re
    boxes = {tuple(round(float(x)) for x in m.split()) for m in
             re.findall(rb"/MediaBox \[\s*([0-9. ]+?)\s*\]", pdf)}
    assert boxes == {(0, 0, 595, 842)}                      # A4 in points
    context.close()
