"""A real board in Chromium reports, second by second, which notice it showed (公示留痕)."""
from __future__ import annotations

import shutil
import time

import pytest

from content import db
from kiosk import config

from .conftest import LANDSCAPE, LiveServer

pytestmark = pytest.mark.browser


def test_an_open_board_reports_what_it_shows(tmp_path, demo_template, browser):
    data = tmp_path / "live"
    shutil.copytree(demo_template, data)
    settings = {k.lower(): v for k, v in config.read_instance_config(data).items()}
    settings["display_report_seconds"] = 2
    config.write_instance_config(data, settings)
    server = LiveServer(data).start()
    ctx = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto(f"{server.url}/display/xinghuacun")
        shown_id = int(page.locator(".slide.is-active[data-notice]").first.get_attribute("data-notice"))
        deadline = time.monotonic() + 30
        rows = []
        while time.monotonic() < deadline and not rows:
            time.sleep(1)
            conn = db.connect(data / config.DATABASE_NAME)
            rows = conn.execute("SELECT notice_id, shown, visible, hours FROM display_report WHERE board_slug = "
                                "'xinghuacun' AND terminal_id = 'local'").fetchall()
            conn.close()
        assert rows, "the board reported nothing"
        assert shown_id in {r[0] for r in rows}
        assert all(r[1] >= r[2] >= 0 for r in rows) and sum(r[2] for r in rows) >= 1
        assert any(r[3] for r in rows)                      # the hour counts as shown
    finally:
        ctx.close()
        server.stop()
