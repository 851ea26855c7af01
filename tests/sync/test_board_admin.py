"""Boards edited in the hub's admin reach terminals through the bundle, only once approved."""
from __future__ import annotations

from content import editing
from sync import terminal

from conftest import VILLAGE, tconn

SLUG = "xinghuacun"      # 杏花村's board, in the village terminal's scope


def _staff(conn, username):
    return conn.execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()


def _terminal_board(term):
    c = tconn(term)
    try:
        return c.execute("SELECT * FROM board WHERE slug = ?", (SLUG,)).fetchone()
    finally:
        c.close()


def test_approved_board_settings_travel_and_drafts_do_not(hub, term):
    assert terminal.sync_once(term).ok
    assert _terminal_board(term)["slide_seconds"] == 12
    hconn = hub.conn()
    try:
        board = hconn.execute("SELECT * FROM board WHERE slug = ?", (SLUG,)).fetchone()
        data = editing.row_data(hconn, editing.entity("board"), board)
        editor, supervisor = _staff(hconn, "village-editor"), _staff(hconn, "village-supervisor")
        editing.save_draft(hconn, editor, "board", board["id"],
                           dict(data, slide_seconds=45, fallback_title="本村暂无公示"))
        editing.submit(hconn, editor, "board", board["id"])
    finally:
        hconn.close()
    # In review: the terminal keeps the published settings.
    hub.publish()
    assert terminal.sync_once(term).ok
    assert _terminal_board(term)["slide_seconds"] == 12
    hconn = hub.conn()
    try:
        editing.approve(hconn, supervisor, "board", board["id"])
    finally:
        hconn.close()
    assert hub.publish()[VILLAGE]["changed"]
    assert terminal.sync_once(term).ok
    row = _terminal_board(term)
    assert row["slide_seconds"] == 45 and row["fallback_title"] == "本村暂无公示"
    # Withdrawn on the hub: gone from the terminal (its screen stops).
    hconn = hub.conn()
    try:
        editing.withdraw(hconn, editor, "board", board["id"], "屏幕拆除")
    finally:
        hconn.close()
    hub.publish()
    assert terminal.sync_once(term).ok
    assert _terminal_board(term) is None


def test_emergency_set_on_the_hub_reaches_the_terminal_and_clearing_it_too(hub, term):
    from datetime import date

    from content import emergency
    hconn = hub.conn()
    try:
        admin = _staff(hconn, "county-admin")
        nid = emergency.set_emergency(hconn, admin, {"subject_code": VILLAGE, "title": "杏花村停电紧急通知",
                                                     "body": "", "expires_on": date.today().isoformat()},
                                      date.today())
    finally:
        hconn.close()
    hub.publish()
    assert terminal.sync_once(term).ok
    c = tconn(term)
    try:
        assert tuple(c.execute("SELECT priority, status FROM notice WHERE id = ?", (nid,)).fetchone()) == ("紧急", "published")
    finally:
        c.close()
    hconn = hub.conn()
    try:
        emergency.clear(hconn, admin, nid)
    finally:
        hconn.close()
    hub.publish()
    assert terminal.sync_once(term).ok
    c = tconn(term)
    try:
        assert c.execute("SELECT count(*) FROM notice WHERE id = ?", (nid,)).fetchone()[0] == 0
    finally:
        c.close()
