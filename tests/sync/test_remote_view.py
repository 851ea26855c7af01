"""Remote view: screenshots and reloads through a real Chromium's DevTools port, commands
signed by the hub and checked by the terminal, thumbnails on the fleet page."""
from __future__ import annotations

import io
import os
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from kiosk import config
from sync import bundle, screens, terminal

from admin_util import login
from conftest import VILLAGE, tconn

CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def screen(hub, tmp_path):
    """A headless Chromium showing a page of the hub, DevTools on a loopback port."""
    port = _free_port()
    proc = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-background-networking", "--no-first-run",
                             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1080,1920",
                             f"--remote-debugging-port={port}", f"{hub.url}/notices"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if screens.page_targets(port):
                break
        except screens.ScreenError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("Chromium's DevTools did not come up")
    time.sleep(1)                       # let the page paint
    yield port
    proc.kill()
    proc.wait()


def _time_origin(port) -> float | None:
    """When the page was loaded (None while it is between documents, as during a reload)."""
    try:
        t = screens.page_targets(port)[0]
        result = screens._call(t["webSocketDebuggerUrl"], "Runtime.evaluate",
                               {"expression": "performance.timeOrigin", "returnByValue": True})
    except (screens.ScreenError, IndexError):
        return None
    return result["result"]["value"]


def test_a_screenshot_and_a_reload_through_devtools(screen):
    (shot,) = screens.capture(screen)
    img = Image.open(io.BytesIO(shot["jpeg"]))
    assert img.format == "JPEG" and img.width == screens.THUMB_WIDTH and img.height > img.width
    assert shot["path"] == "/notices" and shot["screen"] == f"{screen}-0"
    before = _time_origin(screen)
    assert screens.reload(screen) == 1
    deadline = time.monotonic() + 10
    while _time_origin(screen) in (before, None) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _time_origin(screen) not in (before, None)


def test_a_screen_that_is_off_is_a_message_not_a_crash():
    with pytest.raises(screens.ScreenError, match="没有应答"):
        screens.capture(_free_port())


def _command(key, terminal_id, cid=1, action="screenshot", expires_in=timedelta(hours=1)):
    now = bundle.utcnow()
    return bundle.sign_manifest({"type": screens.COMMAND_TYPE, "terminal": terminal_id, "id": cid,
                                 "action": action, "created": bundle.iso(now),
                                 "expires": bundle.iso(now + expires_in)}, [key])


def test_commands_are_checked_like_bundles(hub):
    trusted = bundle.trusted_keyring([hub.pubkey])
    me = "a" * 64
    now = bundle.utcnow()
    assert screens.verify_command(_command(hub.key, me), trusted, me, set(), now)["action"] == "screenshot"
    cases = [(_command(bundle.generate_key(), me), "可信"), (_command(hub.key, "b" * 64), "不是发给本终端"),
             (_command(hub.key, me, expires_in=timedelta(hours=-1)), "过期"),
             (_command(hub.key, me, action="format-disk"), "未知"), ({"signed": {}}, "格式")]
    for doc, words in cases:
        with pytest.raises(screens.ScreenError, match=words):
            screens.verify_command(doc, trusted, me, set(), now)
    with pytest.raises(screens.ScreenError, match="已执行过"):
        screens.verify_command(_command(hub.key, me, cid=7), trusted, me, {7}, now)


def test_staff_ask_for_a_screenshot_and_see_it_on_the_fleet_page(hub, term, screen):
    settings = {k.lower(): v for k, v in config.read_instance_config(term).items()}
    settings.update(screen_ports=[screen], screenshot_minutes=0)
    config.write_instance_config(term, settings)
    assert terminal.sync_once(term).ok                     # enrolled; no screenshot unasked
    hconn = hub.conn()
    terminal_id = hconn.execute("SELECT id FROM sync_terminal").fetchone()[0]
    assert hconn.execute("SELECT count(*) FROM terminal_screenshot").fetchone()[0] == 0
    hconn.close()
    admin = hub.app.test_client()
    tok = login(admin, "county-admin")
    r = admin.post(f"/admin/fleet/{terminal_id}/screenshot", data={"csrf_token": tok})
    assert r.status_code == 302
    assert "等待执行：刷新截图" in admin.get("/admin/fleet").get_data(as_text=True)
    assert terminal.sync_once(term, do_pull=False).ok      # gets the command, shoots, sends
    hconn = hub.conn()
    row = hconn.execute("SELECT * FROM terminal_screenshot").fetchone()
    cmd = hconn.execute("SELECT * FROM terminal_command").fetchone()
    hconn.close()
    assert row["terminal_id"] == terminal_id and row["path"] == "/notices"
    assert cmd["done_at"] and cmd["ok"] == 1
    page = admin.get("/admin/fleet").get_data(as_text=True)
    assert f"/admin/fleet/screens/{terminal_id}/{screen}-0.jpg" in page and "等待执行" not in page
    img = admin.get(f"/admin/fleet/screens/{terminal_id}/{screen}-0.jpg")
    assert img.status_code == 200 and img.mimetype == "image/jpeg" and img.data[:2] == b"\xff\xd8"
    assert hub.app.test_client().get(f"/admin/fleet/screens/{terminal_id}/{screen}-0.jpg").status_code in (302, 401, 403)
    # The same command is not carried out twice.
    conn = tconn(term)
    before = conn.execute("SELECT count(*) FROM outbox WHERE kind = 'screenshot'").fetchone()[0]
    screens.carry_out(conn, [_command(hub.key, terminal_id, cid=cmd["id"])], bundle.trusted_keyring([hub.pubkey]),
                      terminal_id, VILLAGE, [screen], bundle.utcnow())
    assert conn.execute("SELECT count(*) FROM outbox WHERE kind = 'screenshot'").fetchone()[0] == before
    conn.close()


def test_periodic_screenshots_replace_the_unsent_one(term, screen, hub):
    conn = tconn(term)
    now = datetime(2026, 12, 3, 2, tzinfo=timezone.utc)
    assert screens.capture_due(conn, 30, now)
    assert screens.queue_screenshots(conn, VILLAGE, [screen], now)[0] == 1
    assert not screens.capture_due(conn, 30, now + timedelta(minutes=10))
    assert screens.capture_due(conn, 30, now + timedelta(minutes=31))
    screens.queue_screenshots(conn, VILLAGE, [screen], now + timedelta(minutes=31))
    assert conn.execute("SELECT count(*) FROM outbox WHERE kind = 'screenshot' AND sent_at IS NULL").fetchone()[0] == 1
    assert not screens.capture_due(conn, 0, now + timedelta(days=1))
    conn.close()
