"""The hub's fleet page and the terminal's freshness line and staleness notice."""
from __future__ import annotations

from datetime import timedelta

from content import db
from kiosk import create_app
from sync import bundle, terminal

from conftest import VILLAGE, tconn


def login(client, conn, username: str) -> None:
    from content import staff_sessions  # noqa: PLC0415
    from content.auth import password_fingerprint  # noqa: PLC0415
    row = conn.execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
    with client.session_transaction() as s:
        s["user_id"] = row["id"]
        s["pw"] = password_fingerprint(row)   # the admin ends sessions without it (password change)
        s["sid"] = staff_sessions.start(conn, row["id"])   # and without an open server-side row


def test_fleet_page_shows_terminals(hub, term):
    assert terminal.sync_once(term).ok
    client = hub.app.test_client()
    assert client.get("/admin/fleet").status_code in (302, 401)      # signed-out: to the login
    hconn = hub.conn()
    login(client, hconn, "village-editor")
    assert client.get("/admin/fleet").status_code == 403
    login(client, hconn, "county-admin")
    page = client.get("/admin/fleet").get_data(as_text=True)
    assert "终端运行情况" in page and "杏花村" in page and VILLAGE in page
    assert "在线" in page and "最新" in page
    assert 'href="/admin/fleet"' in page                         # in the admin's navigation
    version = hub.version(VILLAGE)
    assert f"<td>{version}</td>" in page

    # The hub moves on twice; the terminal is silent for more than 3 of its intervals.
    hub.execute("UPDATE notice SET title = title || '·' WHERE jurisdiction_code = ?", (VILLAGE,))
    hub.publish()
    hub.publish(force=True)
    old = bundle.iso(bundle.utcnow() - timedelta(seconds=3 * 300 + 60))
    hub.execute("UPDATE sync_terminal SET last_contact = ?", (old,))
    page = client.get("/admin/fleet").get_data(as_text=True)
    assert "离线" in page and "落后 2 版" in page and "16 分钟前" in page
    hconn.close()


def test_freshness_notice(hub, term):
    app = create_app({"DATA_DIR": str(term), "TESTING": True})
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert "sync-stale" in page and "尚未从县级平台取得" in page       # never synced

    assert terminal.sync_once(term).ok
    page = client.get("/").get_data(as_text=True)
    assert "sync-stale" not in page and "信息更新于" in page

    conn = tconn(term)
    conn.execute("BEGIN")
    db.set_meta(conn, "last_sync", bundle.iso(bundle.utcnow() - timedelta(hours=100)))
    conn.execute("COMMIT")
    page = client.get("/").get_data(as_text=True)
    assert "sync-stale" in page and "4 天" in page and "最近一次核对于" in page

    conn.execute("BEGIN")
    db.set_meta(conn, "last_sync", bundle.iso(bundle.utcnow()))
    db.set_meta(conn, "sync_expires", bundle.iso(bundle.utcnow() - timedelta(hours=1)))
    conn.execute("COMMIT")
    conn.close()
    page = client.get("/").get_data(as_text=True)
    assert "sync-stale" in page and "有效期已过" in page

    # Standalone and hub instances never show it.
    assert "sync-stale" not in hub.app.test_client().get("/").get_data(as_text=True)


def test_hub_stops_resigning_terminal_says_so(hub, term):
    """A 304 for a manifest that has expired is not a good update."""
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    conn.execute("BEGIN")
    db.set_meta(conn, "sync_expires", bundle.iso(bundle.utcnow() - timedelta(hours=1)))
    conn.execute("COMMIT")
    conn.close()
    report = terminal.sync_once(term, do_push=False)
    assert not report.ok and any("过期" in e for e in report.errors)


def test_board_shows_update_date_and_staleness(hub, term):
    assert terminal.sync_once(term).ok
    client = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()
    page = client.get("/display/xinghuacun").get_data(as_text=True)
    assert "信息更新于" in page and "sync-board-stale" not in page
    conn = tconn(term)
    conn.execute("BEGIN")
    db.set_meta(conn, "last_sync", bundle.iso(bundle.utcnow() - timedelta(hours=80)))
    conn.execute("COMMIT")
    conn.close()
    page = client.get("/display/xinghuacun").get_data(as_text=True)
    assert "sync-board-stale" in page and "本屏信息可能不是最新" in page
