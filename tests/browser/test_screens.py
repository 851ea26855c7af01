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
PUBLIC_URL = "https://gk.example.gov.cn"

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
            "notice": f"/notices/{notice_table}",
            "guides": "/guides",
            "guide": f"/guides/{guide}",
            "handbook": f"/handbooks/{_one(conn, 'SELECT id FROM handbook WHERE status=?', 'published')}",
            "search": "/search?q=dbgs",
            "apply": "/apply",
            "status": "/apply/status",
            "consultations": "/consultations",
            "consultation": f"/consultations/{_one(conn, 'SELECT id FROM consultation WHERE status=? AND opens_on <= date(?) ORDER BY closes_on DESC', 'published', 'now')}",
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
