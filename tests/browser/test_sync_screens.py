"""Sync screens in Chromium: a terminal's staleness notice (hub down for days) and the hub's fleet page."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from waitress import create_server

from content import db, staff_sessions
from content.auth import password_fingerprint
from kiosk import config, create_app
from kiosk.cli import create_instance
from sync import bundle, terminal

from .conftest import LANDSCAPE, PORTRAIT, LiveServer, demo_hub_dir, free_port

pytestmark = pytest.mark.browser
VILLAGE = "340499100201"


@pytest.fixture
def hub_and_terminal(tmp_path, demo_template):
    hub_dir, key = demo_hub_dir(tmp_path, demo_template, "browser-test-token", VILLAGE)
    app = create_app({"DATA_DIR": str(hub_dir)})
    port = free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    term = tmp_path / "terminal"
    create_instance(term, "terminal", scope=VILLAGE, hub_url=f"http://127.0.0.1:{port}",
                    trusted_keys=[bundle.public_b64(key)])
    terminal.init_terminal(term, "browser-test-token")
    assert terminal.sync_once(term).ok
    yield app, f"http://127.0.0.1:{port}", term
    for channel in list(server._map.values()):
        try:
            channel.close()
        except OSError:
            pass


def test_staleness_notice_on_a_terminal(hub_and_terminal, page, artifacts):
    _app, _hub_url, term = hub_and_terminal
    # The hub has been unreachable for four days.
    settings = {k.lower(): v for k, v in config.read_instance_config(term).items()}
    settings["hub_url"] = "http://127.0.0.1:9"
    config.write_instance_config(term, settings)
    conn = db.connect(term / config.DATABASE_NAME)
    conn.execute("BEGIN")
    db.set_meta(conn, "last_sync", bundle.iso(bundle.utcnow() - timedelta(days=4)))
    conn.execute("COMMIT")
    conn.close()
    server = LiveServer(term).start()
    try:
        for name, size in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
            page.set_viewport_size(size)
            page.goto(server.url + "/")
            notice = page.locator(".sync-stale")
            assert notice.is_visible()
            assert "可能不是最新" in notice.inner_text() and "4 天" in notice.inner_text()
            assert page.locator(".footbar").inner_text().startswith("信息更新于")
            box = notice.bounding_box()
            assert box["width"] >= size["width"] * 0.95 and box["y"] < size["height"] / 3
            font = page.evaluate("getComputedStyle(document.querySelector('.sync-stale')).fontSize")
            assert float(font.rstrip("px")) >= 24
            page.screenshot(path=str(artifacts / f"sync-stale-{name}.png"))
        assert page.js_errors == []
    finally:
        server.stop()


def test_fleet_page(hub_and_terminal, page, artifacts):
    app, hub_url, _term = hub_and_terminal
    conn = db.connect(app.config["DATABASE"])
    row = conn.execute("SELECT * FROM user WHERE username = 'county-admin'").fetchone()
    sid = staff_sessions.start(conn, row["id"])       # sessions are held server-side
    conn.close()
    cookie = app.session_interface.get_signing_serializer(app).dumps(
        {"user_id": row["id"], "pw": password_fingerprint(row), "sid": sid})
    page.context.add_cookies([{"name": app.config.get("SESSION_COOKIE_NAME", "session"),
                               "value": cookie, "url": hub_url}])
    for name, size in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
        page.set_viewport_size(size)
        page.goto(hub_url + "/admin/fleet")
        table = page.locator(".fleet-table").first
        assert table.is_visible()
        row = table.locator("tbody tr").first
        assert "杏花村" in row.inner_text() and "在线" in row.inner_text()
        page.screenshot(path=str(artifacts / f"sync-fleet-{name}.png"), full_page=True)
    assert page.js_errors == []
