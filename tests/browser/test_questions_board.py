"""A 公示期 extended after an upheld objection, on the village's noticeboard in Chromium: the
slide says so in words, its period bar counts the new period, and nothing is cut off."""
from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from content import db
from content import resident_questions as rq

from .conftest import LANDSCAPE, PORTRAIT
from .test_boards import _CUT_OFF, _calm

pytestmark = pytest.mark.browser
VILLAGE = "340499100201"


@pytest.mark.parametrize("viewport,name", [(LANDSCAPE, "1920x1080"), (PORTRAIT, "1080x1920")])
def test_board_shows_the_extended_period(live_server, browser, artifacts, viewport, name):
    _calm(live_server)
    conn = db.connect(live_server.data_dir / "kiosk.sqlite3")
    try:
        today = date.today()
        nid = conn.execute("SELECT id FROM notice WHERE status = 'published' AND kind = '公示' AND "
                           "jurisdiction_code = ?1 AND period_start <= ?2 AND period_end >= ?2 ORDER BY id",
                           (VILLAGE, today.isoformat())).fetchone()[0]
        t = rq.target(conn, "notice", nid)
        rec = rq.create(conn, t, "objection", {"body": "名单有误"}, VILLAGE, today, rq.DEFAULT_CLOCKS["objection"])
        editor = conn.execute("SELECT * FROM user WHERE username = 'village-editor'").fetchone()
        new_end = date.fromisoformat(t["period_end"]) + timedelta(days=5)
        rq.answer(conn, rec["uuid"], editor, "异议成立，已更正名单，公示期延长5日。", "private", today,
                  upheld=True, period_action="extend", new_end=new_end)
        conn.execute("UPDATE board SET windows='[]', slide_seconds=0.5")
    finally:
        conn.close()
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/display/xinghuacun")
    slide = page.locator(f"#deck .slide[data-notice='{nid}']").first
    assert "公示期已延长（异议成立）" in slide.inner_text()
    assert f"{new_end.month}月{new_end.day}日" in slide.inner_text()
    deadline = time.monotonic() + 60
    while "is-active" not in (slide.get_attribute("class") or "") and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    key, bad, _fit = page.evaluate(_CUT_OFF)
    assert bad == [], bad
    page.screenshot(path=str(artifacts / f"questions-board-extended-{name}.png"))
    context.close()
