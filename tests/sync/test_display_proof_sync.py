"""公示留痕 across the county: a village board's report travels from its terminal to the hub."""
from __future__ import annotations

from kiosk import create_app
from sync import terminal

from conftest import VILLAGE, tconn


def test_a_boards_report_reaches_the_hub_once(hub, term):
    assert terminal.sync_once(term).ok
    app = create_app({"DATA_DIR": str(term), "TESTING": True, "NOW": "2026-12-03T15:30:00+08:00"})
    client = app.test_client()
    hours = {"2026-12-03T02": {"5": [900, 880]}, "2026-12-03T03": {"5": [1200, 1200]}}
    assert client.post("/display/xinghuacun/shown", json={"hours": hours}).status_code == 200
    conn = tconn(term)
    assert conn.execute("SELECT count(*) FROM outbox WHERE kind = 'display' AND sent_at IS NULL").fetchone()[0] == 1
    conn.close()
    assert terminal.sync_once(term, do_pull=False).ok
    assert terminal.sync_once(term, do_pull=False).ok        # nothing sent twice
    hconn = hub.conn()
    rows = hconn.execute("SELECT terminal_id, board_slug, notice_id, day, hours, shown, visible "
                         "FROM display_report").fetchall()
    hconn.close()
    assert [tuple(r)[1:] for r in rows] == [("xinghuacun", 5, "2026-12-03", (1 << 2) | (1 << 3), 2100, 2080)]
    assert len({r[0] for r in rows}) == 1 and rows[0][0] != "local"


def test_a_terminal_cannot_report_for_another_scope(hub, term):
    """The record carries the terminal's own scope; one naming another is refused at the hub."""
    assert terminal.sync_once(term).ok
    from content import outbox
    conn = tconn(term)
    conn.execute("BEGIN IMMEDIATE")
    outbox.enqueue(conn, "display", "5b0a1c52-51a4-4f0e-9d8b-2f1f6a1d7c11",
                   {"jurisdiction_code": "340499001001", "reports": [
                       {"board": "x", "hour": "2026-12-03T01", "notices": {"1": [1, 1]}}]})
    conn.execute("COMMIT")
    conn.close()
    terminal.sync_once(term, do_pull=False)
    hconn = hub.conn()
    assert hconn.execute("SELECT count(*) FROM display_report").fetchone()[0] == 0
    hconn.close()
    conn = tconn(term)
    assert conn.execute("SELECT rejected FROM outbox WHERE kind = 'display'").fetchone()[0]
    conn.close()
    assert VILLAGE
