"""Every resident screen at the sizes it meets (portrait and landscape kiosks, both in 长辈模式,
and a phone after a QR scan): nothing clipped, targets large enough, axe-core clean; the phone
layout; QR codes that open that exact page on a phone; my village first; idle reset."""
from __future__ import annotations

import shutil
import sqlite3
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from tests.browser.conftest import LANDSCAPE, PORTRAIT, LiveServer
from tests.browser.test_touch import AXE_JS, SERIOUS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# (name, viewport, 长辈模式, smallest touch target in CSS px)
MODES = [
    ("1080x1920", PORTRAIT, False, 48),
    ("1920x1080", LANDSCAPE, False, 48),
    ("1080x1920-elderly", PORTRAIT, True, 64),
    ("1920x1080-elderly", LANDSCAPE, True, 64),
    ("390x844", PHONE, False, 48),
]
PUBLIC_URL = "https://gk.huaichuan.example"     # the demo county's public address (content.public_url)

# Text hidden by overflow: an element that clips (overflow hidden/clip, ellipsis, line clamp)
# must hold all of its content; one that scrolls must say so with a visible cue; the page itself
# never scrolls sideways, and nothing sticks out past the right edge of the screen.
CLIPPED = """() => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const shown = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  if (document.documentElement.scrollWidth > vw + 1)
    problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + vw);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.sr-only, [hidden], script, style, template, svg, .idle-overlay')) continue;
    if (!shown(el)) continue;
    if (el.clientWidth <= 1 && el.clientHeight <= 1) continue;   // visually hidden on purpose (screen readers)
    const s = getComputedStyle(el);
    const overX = el.scrollWidth > el.clientWidth + 1, overY = el.scrollHeight > el.clientHeight + 1;
    const clips = v => v === 'hidden' || v === 'clip';
    const scrolls = v => v === 'auto' || v === 'scroll';
    if ((overX && clips(s.overflowX)) || (overY && clips(s.overflowY)))
      problems.push('clipped: ' + name(el) + ' ' + el.scrollWidth + 'x' + el.scrollHeight
                    + ' in ' + el.clientWidth + 'x' + el.clientHeight + ' "' + el.textContent.trim().slice(0, 30) + '"');
    else if ((overX && scrolls(s.overflowX)) || (overY && scrolls(s.overflowY))) {
      const frame = el.closest('[data-scroll-frame]');
      const cue = frame && frame.querySelector('.scroll-cue');
      if (!cue || !shown(cue))
        problems.push('scrolls without a visible cue: ' + name(el) + ' "' + el.textContent.trim().slice(0, 30) + '"');
    }
    if (s.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1)
      problems.push('ellipsis hides text: ' + name(el));
    if (s.webkitLineClamp && s.webkitLineClamp !== 'none' && overY)
      problems.push('line clamp hides text: ' + name(el));
    // Text sticking out past the screen's right edge, outside any scrolling frame.
    if (el.childNodes.length && [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
        && !el.closest('[data-scroll-frame]') && !el.closest('.fkb')) {
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 || r.left < -1)
        problems.push('off screen: ' + name(el) + ' ' + Math.round(r.left) + '..' + Math.round(r.right)
                      + ' "' + el.textContent.trim().slice(0, 30) + '"');
    }
  }
  return problems;
}"""

# Every control a finger can reach, measured where it is drawn (a radio button by its label).
SMALL_TARGETS = """(least) => {
  const bad = [];
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [role=tab]')) {
    if (el.closest('.sr-only, [hidden], .fkb')) continue;
    const box = (el.matches('input[type=radio], input[type=checkbox]') && el.closest('label')) || el;
    const r = box.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
    if (r.width < least - 0.5 || r.height < least - 0.5)
      bad.push(el.tagName + '.' + el.className + ' "' + (el.textContent || el.value || '').trim().slice(0, 20)
               + '" ' + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return bad;
}"""


def _one(conn: sqlite3.Connection, sql: str, *args):
    row = conn.execute(sql, args).fetchone()
    assert row is not None, sql
    return row[0]


def resident_screens(data_dir: Path) -> dict[str, str]:
    """One URL for every resident screen (the demo's longest or hardest case where it matters)."""
    conn = sqlite3.connect(data_dir / "kiosk.sqlite3")
    try:
        village = _one(conn, "SELECT jurisdiction_code FROM village_item WHERE status='published' "
                             "GROUP BY jurisdiction_code ORDER BY count(*) DESC")
        township = _one(conn, "SELECT parent_code FROM jurisdiction WHERE code = ?", village)
        notice_table = _one(conn, "SELECT id FROM notice WHERE status='published' "
                                  "AND substr(published_at,1,10) <= date('now') "
                                  "ORDER BY length(table_columns) DESC, length(table_rows) DESC")
        guide = _one(conn, "SELECT id FROM guide WHERE status='published' "
                           "ORDER BY length(conditions) + length(materials) DESC")
        aligned = conn.execute(
            "SELECT n.matter_id, n.subject_code FROM notice n JOIN jurisdiction j ON j.code = n.subject_code "
            "WHERE j.level = 'village' AND n.matter_id IS NOT NULL AND n.table_columns != '[]' "
            "ORDER BY length(n.table_columns) DESC").fetchone()
        multi = _one(conn, "SELECT matter_id FROM notice WHERE matter_id IS NOT NULL "
                           "GROUP BY matter_id ORDER BY count(DISTINCT subject_code) DESC")
        return {
            "home": "/",
            "domains": "/domains",
            "domain": f"/domains/{_one(conn, 'SELECT domain_id FROM catalogue_item GROUP BY domain_id ORDER BY count(*) DESC')}",
            "item": f"/items/{_one(conn, 'SELECT id FROM catalogue_item WHERE status=? ORDER BY length(basis) + length(content_elements) DESC', 'published')}",
            "villages": f"/villages?township={township}",
            "village": f"/villages/{village}",
            "village-item": f"/village-items/{_one(conn, 'SELECT id FROM village_item WHERE status=? AND jurisdiction_code=? ORDER BY length(content) DESC', 'published', village)}",
            "matters": "/matters",
            "matter": f"/matters/{multi}",
            "aligned": f"/matters/{aligned[0]}/{aligned[1]}",
            "notices": "/notices",
            "notices-village": f"/notices?village={village}&past=1",
            "notice": f"/notices/{notice_table}",
            "guides": "/guides",
            "guide": f"/guides/{guide}",
            "handbook": f"/handbooks/{_one(conn, 'SELECT id FROM handbook WHERE status=?', 'published')}",
            "search": "/search?q=dbgs",
            "apply": "/apply",
            "status": "/apply/status",
            "consultations": "/consultations",
            "policies": "/policies",
            # The document with the most Q&A cards, a letter and two catalogue items.
            "policy": f"/policies/{_one(conn, 'SELECT document_id FROM policy_interpretation GROUP BY document_id ORDER BY count(*) DESC, sum(length(qa)) DESC')}",
            "consultation": f"/consultations/{_one(conn, 'SELECT id FROM consultation WHERE status=? AND opens_on <= date(?) ORDER BY closes_on DESC', 'published', 'now')}",
            # 我有异议 / 我要提问 (kiosk.questions): the longest title in its 公示期, a village page
            "object": f"/object/{_one(conn, 'SELECT id FROM notice WHERE status=? AND period_start <= date(?) AND period_end >= date(?) ORDER BY length(title) DESC', 'published', 'now', 'now')}",
            "ask": f"/ask/village/{village}",
            "ask-status": "/ask/status",
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def screens_server(tmp_path_factory, demo_template):
    data_dir = tmp_path_factory.mktemp("screens") / "live"
    shutil.copytree(demo_template, data_dir)
    with (data_dir / "kiosk.toml").open("a") as f:
        f.write(f'public_url = "{PUBLIC_URL}"\n')
    server = LiveServer(data_dir).start()
    yield server
    server.stop()


def mode_page(browser, base: str, viewport: dict, elderly: bool):
    """A page of a touch screen of that size, switched to 长辈模式 when asked."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True,
                                  bypass_csp=True, is_mobile=viewport is PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors
    page.goto(base + "/")
    if elderly:
        with page.expect_navigation():
            page.locator(".navbtn-elderly").click()
        assert page.locator("body.elderly").count() == 1
    return context, page


@pytest.mark.parametrize("name,viewport,elderly,least", MODES, ids=[m[0] for m in MODES])
def test_every_screen_fits(screens_server, browser, artifacts, name, viewport, elderly, least):
    """No text hidden by overflow, every target large enough, axe-core 0 serious/critical."""
    context, page = mode_page(browser, screens_server.url, viewport, elderly)
    problems = []
    for screen, path in resident_screens(screens_server.data_dir).items():
        page.goto(screens_server.url + path)
        page.wait_for_load_state("networkidle")
        where = f"{name} {screen} {path}"
        problems += [f"{where}: {p}" for p in page.evaluate(CLIPPED)]
        problems += [f"{where}: target {t}" for t in page.evaluate(SMALL_TARGETS, least)]
        page.add_script_tag(path=str(AXE_JS))
        problems += [f"{where}: axe {v}" for v in page.evaluate(SERIOUS)]
        page.screenshot(path=str(artifacts / f"screen-{screen}-{name}.png"), full_page=True)
    assert not page.js_errors
    context.close()
    assert not problems, "\n".join(problems)


def test_elderly_landscape_home_reaches_every_tile_with_a_scroll_cue(screens_server, browser, artifacts):
    context, page = mode_page(browser, screens_server.url, LANDSCAPE, True)
    tiles = page.locator(".tile")
    assert tiles.count() == 10
    below = [i for i in range(10) if tiles.nth(i).bounding_box()["y"] + tiles.nth(i).bounding_box()["height"]
             > LANDSCAPE["height"]]
    assert below, "all tiles fit: the cue is not needed (test no longer exercises it)"
    cue = page.locator(".more-cue")
    cue.wait_for(state="visible")
    page.screenshot(path=str(artifacts / "home-elderly-cue-1920x1080.png"))
    cue.tap()
    page.wait_for_function("() => window.scrollY > 0")
    for i in range(10):
        tiles.nth(i).scroll_into_view_if_needed()
        box = tiles.nth(i).bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= LANDSCAPE["height"], i
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => !document.body.classList.contains('more-below')")
    assert cue.is_hidden()                      # at the bottom the cue goes away
    context.close()


def test_aligned_view_brings_the_differing_cells_into_view(screens_server, browser, artifacts):
    path = resident_screens(screens_server.data_dir)["aligned"]
    for name, viewport, elderly, _least in MODES:
        context, page = mode_page(browser, screens_server.url, viewport, elderly)
        page.goto(screens_server.url + path)
        page.wait_for_load_state("networkidle")
        cells = page.locator("td.diff")
        assert cells.count() >= 2, name
        for i in range(cells.count()):
            cell = cells.nth(i)
            frame = cell.locator("xpath=ancestor::div[contains(@class, 'table-wrap')]")
            inside = page.evaluate("""([c, f]) => { const a = c.getBoundingClientRect(), b = f.getBoundingClientRect();
                return a.left >= b.left - 1 && a.right <= b.right + 1; }""",
                                   [cell.element_handle(), frame.element_handle()])
            assert inside, (f"{name}: differing cell {i} is scrolled out of its table", page.evaluate(
                """() => [...document.querySelectorAll('.table-wrap')].map(w => [w.clientWidth, w.scrollWidth, w.scrollLeft,
                   [...w.querySelectorAll('td.diff, th.diff')].map(c => [c.offsetLeft, c.offsetWidth, c.tagName])])"""))
            assert cell.evaluate("c => getComputedStyle(c).outlineStyle") != "none" or viewport is PHONE
        if viewport is PHONE:      # rows became cards: each cell names its column
            assert page.locator("td.diff").first.evaluate(
                "c => getComputedStyle(c, '::before').content").strip('"') != ""
        else:
            assert page.locator("th.diff").count() >= 1
            # A list scrolled sideways keeps its first column (and the name beside 序号) in view.
            # (Unless the differing cells need the room: then only the first column stays.)
            kept = page.evaluate("""() => [...document.querySelectorAll('.scroll-frame.is-scrollable .table-wrap')]
                .filter(w => w.scrollLeft > 0 && w.querySelector('table.stick-two')).map(w => {
                  const a = w.getBoundingClientRect(), c = w.querySelector('tbody td:first-child').getBoundingClientRect();
                  const n = w.querySelector('tbody td:nth-child(2)').getBoundingClientRect();
                  return Math.abs(c.left - a.left) < 2 && n.left >= c.right - 2 && n.left < c.right + 4; })""")
            assert all(kept), f"{name}: {kept}"
        page.screenshot(path=str(artifacts / f"aligned-{name}.png"))
        context.close()


def _qr_url(img) -> str:
    img.wait_for(state="visible")
    img.page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(BytesIO(img.screenshot())))]
    assert len(found) == 1, found
    return found[0]


def _opens_on_a_phone(browser, base: str, url: str, title: str, artifacts, name: str) -> None:
    """The QR code's address, opened on a phone: the same page, laid out for the phone."""
    assert url.startswith(PUBLIC_URL + "/"), url
    path = url[len(PUBLIC_URL):]
    context = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").first.inner_text().strip() == title
    header = page.locator(".topbar").bounding_box()
    assert header["height"] <= 0.15 * PHONE["height"], header
    assert page.locator(".qr-img:visible").count() == 0          # no QR code of the page itself
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("getComputedStyle(document.body).touchAction") != "pan-x pan-y"   # may zoom
    page.screenshot(path=str(artifacts / f"phone-from-qr-{name}.png"))
    context.close()


def test_every_qr_code_opens_that_page_on_a_phone(screens_server, browser, artifacts):
    screens = resident_screens(screens_server.data_dir)
    context, page = mode_page(browser, screens_server.url, PORTRAIT, False)
    for name in ("item", "notice", "guide"):
        page.goto(screens_server.url + screens[name])
        title = page.locator("h1").first.inner_text().strip()
        img = page.locator(".page-aside .qr-img")
        url = _qr_url(img)
        assert urlsplit(url).path == screens[name], (name, url)
        # In portrait the QR block comes after the content, not beside it.
        assert img.bounding_box()["y"] > page.locator(".page-main").bounding_box()["y"] + \
            page.locator(".page-main").bounding_box()["height"] - 1
        if name == "guide":
            assert page.locator(".page-aside .qr-label").inner_text() == "带走指南"
        _opens_on_a_phone(browser, screens_server.url, url, title, artifacts, name)
    context.close()
    # The guide on the phone leads on to online service, as a link the phone opens.
    context = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(screens_server.url + screens["guide"])
    online = page.locator("a.online-link").first
    assert online.is_visible() and online.get_attribute("href").startswith("https://")
    context.close()
    # A board's QR code opens the notice on screen.
    context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
    page = context.new_page()
    page.goto(screens_server.url + "/display/xinghuacun")
    slide = page.locator(".slide.is-active")
    key = slide.get_attribute("data-key")
    url = _qr_url(slide.locator(".slide-qr img"))
    assert urlsplit(url).path == f"/notices/{key.split('-')[0]}"
    title = slide.locator(".slide-title").inner_text().replace("（续）", "").strip()
    context.close()
    _opens_on_a_phone(browser, screens_server.url, url, title, artifacts, "board")


@pytest.fixture(scope="module")
def village_terminal(tmp_path_factory, demo_template):
    """A standalone instance shown as a village's query point (its scope is the village)."""
    data_dir = tmp_path_factory.mktemp("village") / "live"
    shutil.copytree(demo_template, data_dir)
    conn = sqlite3.connect(data_dir / "kiosk.sqlite3")
    village, name = conn.execute(
        "SELECT j.code, j.name FROM notice n JOIN jurisdiction j ON j.code = n.subject_code "
        "WHERE j.level = 'village' AND n.status = 'published' AND n.priority != '紧急' "
        "AND n.period_end >= date('now') AND substr(n.published_at, 1, 10) <= date('now') "
        "GROUP BY j.code ORDER BY count(*) DESC").fetchone()
    conn.close()
    with (data_dir / "kiosk.toml").open("a") as f:
        f.write(f'scope = "{village}"\n')
    server = LiveServer(data_dir).start()
    server.village, server.village_name = village, name
    yield server
    server.stop()


def test_my_village_first(village_terminal, browser, artifacts):
    """At a village's query point the village's 公示 is on the home screen: one tap to a notice
    about this village; the village page lists them too, and each list item leads to its notices."""
    context, page = mode_page(browser, village_terminal.url, PORTRAIT, True)
    ours = page.locator(".village-notices")
    assert village_terminal.village_name in ours.locator("h2").inner_text()
    assert "本村正在公示" in ours.locator("h2").inner_text()
    cards = ours.locator("a.notice-card")
    assert cards.count() >= 1
    # Above the fold on the portrait kiosk, in 长辈模式 too.
    assert cards.first.bounding_box()["y"] < PORTRAIT["height"]
    page.screenshot(path=str(artifacts / "village-home-1080x1920-elderly.png"))
    cards.first.tap()
    page.wait_for_url("**/notices/*")
    nid = int(page.url.rsplit("/", 1)[1])
    conn = sqlite3.connect(village_terminal.data_dir / "kiosk.sqlite3")
    subject = conn.execute("SELECT subject_code FROM notice WHERE id = ?", (nid,)).fetchone()[0]
    assert subject == village_terminal.village
    # The village page: 正在公示 first, and every list item leads to its notices, past ones too.
    page.goto(village_terminal.url + "/villages")
    page.wait_for_url(f"**/villages/{village_terminal.village}")
    assert page.locator("#live-title").inner_text() == "正在公示"
    assert page.locator(".village-notices a.notice-card").count() >= 1
    item = conn.execute("SELECT village_item_id FROM notice WHERE subject_code = ? AND village_item_id "
                        "IS NOT NULL AND status = 'published' ORDER BY published_at LIMIT 1",
                        (village_terminal.village,)).fetchone()[0]
    conn.close()
    page.locator(f"a.card[href='/village-items/{item}']").tap()
    page.wait_for_url(f"**/village-items/{item}")
    headings = page.locator("h2.section-title").all_inner_texts()
    assert "正在公示" in headings and "往期公示" in headings
    assert page.locator("a.notice-card").count() >= 1
    context.close()


def test_notices_filter_by_township_and_village(screens_server, browser):
    context, page = mode_page(browser, screens_server.url, LANDSCAPE, False)
    page.goto(screens_server.url + "/notices")
    conn = sqlite3.connect(screens_server.data_dir / "kiosk.sqlite3")
    town_code, town = conn.execute("SELECT code, name FROM jurisdiction WHERE level='township' "
                                   "ORDER BY sort, code LIMIT 1 OFFSET 1").fetchone()
    villages = dict(conn.execute("SELECT code, name FROM jurisdiction WHERE parent_code = ?", (town_code,)))
    page.locator(".notice-filter a.chip", has_text=town).tap()
    page.wait_for_url(f"**/notices?township={town_code}")
    cards = page.locator("main a.notice-card")
    ids = [int(cards.nth(i).get_attribute("href").rsplit("/", 1)[1]) for i in range(cards.count())]
    subjects = {r[0] for r in conn.execute(
        f"SELECT subject_code FROM notice WHERE id IN ({','.join('?' * len(ids))})", ids)}
    assert ids and subjects <= {town_code, *villages}
    village_code = next(iter(sorted(subjects & set(villages))))
    page.locator(".notice-filter a.chip", has_text=villages[village_code]).tap()
    page.wait_for_url(f"**/notices?village={village_code}")
    ids = [int(h.rsplit("/", 1)[1]) for h in page.locator("main a.notice-card").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))")]
    assert ids and {r[0] for r in conn.execute(
        f"SELECT subject_code FROM notice WHERE id IN ({','.join('?' * len(ids))})", ids)} == {village_code}
    page.get_by_role("tab", name="往期公示").tap()
    page.wait_for_url(f"**/notices?past=1&village={village_code}")
    conn.close()
    context.close()


@pytest.fixture
def quick_idle(tmp_path, demo_template):
    data_dir = tmp_path / "idle"
    shutil.copytree(demo_template, data_dir)
    with (data_dir / "kiosk.toml").open("a") as f:
        f.write("idle_seconds = 12\n")
    server = LiveServer(data_dir).start()
    yield server
    server.stop()


def test_idle_reset_forgets_the_previous_resident(quick_idle, browser):
    base = quick_idle.url
    context, page = mode_page(browser, base, PORTRAIT, True)          # 长辈模式 on
    page.locator("a.tile[href='/search']").tap()
    page.wait_for_url("**/search")
    for key in "dbgs":
        page.locator(f"button.osk-key[data-key='{key}']").tap()
    page.wait_for_url("**/search?q=dbgs")
    page.locator("#search-results .result-card").first.tap()
    page.wait_for_url("**/notices/*")
    page.wait_for_url("**/attract", timeout=25000)                   # nobody touched it
    page.locator("[data-attract]").tap()
    page.wait_for_url(base + "/")
    assert page.locator("body.elderly").count() == 0                 # 长辈模式 forgotten
    page.locator(".navbtn[data-back]").tap()                         # 返回 on the first screen
    page.wait_for_timeout(800)
    assert page.url == base + "/"
    page.locator("a.tile[href='/guides']").tap()
    page.wait_for_url("**/guides")
    page.locator(".navbtn[data-back]").tap()
    page.wait_for_url(base + "/")
    page.locator(".navbtn[data-back]").tap()
    page.wait_for_timeout(800)
    assert page.url == base + "/", "返回 led into the previous resident's screens"
    page.locator("a.tile[href='/search']").tap()
    page.wait_for_url("**/search")
    assert page.locator("#q").input_value() == ""
    assert page.evaluate("localStorage.getItem('htmx-history-cache')") is None
    assert not page.js_errors
    context.close()
