"""紧急通知 from the admin: who may set and clear it, no review wait, audited, on the boards at once."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from admin_util import PASSWORD, add_user, login, user_row
from content import emergency

COUNTY, TOWN, OTHER_TOWN = "340499000000", "340499100000", "340499101000"
VILLAGE, FAR_VILLAGE = "340499100201", "340499101201"
TOWN_BOARD = "xinghuacun"         # 杏花村, in 东湖镇
TODAY = date.today()


def _calm(conn) -> None:
    conn.execute("UPDATE notice SET status = 'withdrawn' WHERE priority = '紧急'")


def _far_board(conn) -> str:
    return conn.execute("SELECT slug FROM board WHERE jurisdiction_code = ? AND status = 'published'",
                        (FAR_VILLAGE,)).fetchone()[0]


def _counts(conn) -> tuple:
    return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("notice", "revision", "audit_log"))


def _form(tok: str, **changes) -> dict:
    form = {"csrf_token": tok, "subject_code": TOWN, "title": "东湖镇停水紧急通知",
            "body": "因主管道抢修，今日全镇停水。", "expires_on": (TODAY + timedelta(days=1)).isoformat()}
    form.update(changes)
    return form


def _mode(client, slug: str) -> str:
    return re.search(r'data-mode="(\w+)"', client.get(f"/display/{slug}").get_data(as_text=True)).group(1)


def test_county_admin_sets_an_emergency_that_takes_over_boards_below_it_without_review(app, conn):
    _calm(conn)
    c = app.test_client()
    tok = login(c, "county-admin")
    screen = app.test_client()
    far = _far_board(conn)
    assert _mode(screen, TOWN_BOARD) != "emergency"
    version = int(conn.execute("SELECT value FROM meta WHERE key = 'content_version'").fetchone()[0])
    r = c.post("/admin/emergency", data=_form(tok))
    assert r.status_code == 302
    row = conn.execute("SELECT * FROM notice WHERE title = '东湖镇停水紧急通知'").fetchone()
    assert row["status"] == "published" and row["priority"] == "紧急" and row["published_at"]
    assert row["jurisdiction_code"] == COUNTY and row["subject_code"] == TOWN
    assert row["expires_on"] == (TODAY + timedelta(days=1)).isoformat()
    # On the boards of the township at once; not on another township's; no review queue entry.
    page = screen.get(f"/display/{TOWN_BOARD}").get_data(as_text=True)
    assert 'data-mode="emergency"' in page and "东湖镇停水紧急通知" in page
    assert _mode(screen, far) != "emergency"
    assert int(conn.execute("SELECT value FROM meta WHERE key = 'content_version'").fetchone()[0]) == version + 1
    rev = conn.execute("SELECT * FROM revision WHERE entity = 'notice' AND entity_id = ?", (row["id"],)).fetchone()
    assert rev["state"] == "published" and rev["author_id"] == user_row(conn, "county-admin")["id"]
    log = conn.execute("SELECT * FROM audit_log WHERE entity = 'notice' AND entity_id = ? AND action = 'urgent'",
                       (str(row["id"]),)).fetchone()
    assert log["username"] == "county-admin" and json.loads(log["after"])["title"] == "东湖镇停水紧急通知"
    assert "紧急发布（免审核）" in c.get("/admin/audit?action=urgent").get_data(as_text=True)
    assert "东湖镇停水紧急通知" in c.get("/admin/emergency").get_data(as_text=True)

    # Clearing it: withdrawn (kept), audited, the board back to its rotation.
    r = c.post(f"/admin/notices/{row['id']}/clear-emergency", data={"csrf_token": tok})
    assert r.status_code == 302
    assert conn.execute("SELECT status FROM notice WHERE id = ?", (row["id"],)).fetchone()[0] == "withdrawn"
    assert _mode(screen, TOWN_BOARD) != "emergency"
    withdraw = conn.execute("SELECT * FROM audit_log WHERE entity = 'notice' AND entity_id = ? AND action = 'withdraw'",
                            (str(row["id"]),)).fetchone()
    assert withdraw["username"] == "county-admin" and emergency.CLEAR_REASON in withdraw["after"]
    assert "目前没有正在显示的紧急通知" in c.get("/admin/emergency").get_data(as_text=True)


def test_township_editor_is_limited_to_its_township(app, conn):
    _calm(conn)
    c = app.test_client()
    tok = login(c, "township-editor")
    page = c.get("/admin/emergency").get_data(as_text=True)
    options = re.findall(r'<option value="(\d{12})"', page)
    assert TOWN in options and VILLAGE in options and COUNTY not in options and OTHER_TOWN not in options
    before = _counts(conn)
    for code in (COUNTY, OTHER_TOWN, FAR_VILLAGE, "340599000000"):
        r = c.post("/admin/emergency", data=_form(tok, subject_code=code))
        assert r.status_code == 400 and "请从列表中选择本单位或下级区域" in r.get_data(as_text=True), code
    assert _counts(conn) == before
    assert c.post("/admin/emergency", data=_form(tok, subject_code=VILLAGE)).status_code == 302
    row = conn.execute("SELECT * FROM notice WHERE title = '东湖镇停水紧急通知'").fetchone()
    assert row["jurisdiction_code"] == TOWN and row["subject_code"] == VILLAGE
    assert _mode(app.test_client(), TOWN_BOARD) == "emergency"


def test_township_editor_cannot_clear_the_countys_emergency(app, conn):
    """The demo's seasonal 紧急 notice is the county's: a township editor sees it takes effect but may not end it."""
    county_notice = conn.execute("SELECT id FROM notice WHERE priority = '紧急' AND status = 'published' "
                                 "AND jurisdiction_code = ?", (COUNTY,)).fetchone()[0]
    c = app.test_client()
    tok = login(c, "township-editor")
    page = c.get("/admin/emergency").get_data(as_text=True)
    listed = page.split("正在显示的紧急通知")[1].split("发布紧急通知")[0]
    assert f"/admin/notices/{county_notice}/clear-emergency" not in listed   # listed, no button
    title = conn.execute("SELECT title FROM notice WHERE id = ?", (county_notice,)).fetchone()[0]
    assert title in listed
    r = c.post(f"/admin/notices/{county_notice}/clear-emergency", data={"csrf_token": tok})
    assert r.status_code == 404          # the county's content is outside a township editor's reach
    assert conn.execute("SELECT status FROM notice WHERE id = ?", (county_notice,)).fetchone()[0] == "published"


@pytest.mark.parametrize("role,code", [("village_editor", VILLAGE), ("village_supervisor", VILLAGE),
                                       ("county_reviewer", COUNTY), ("township_reviewer", TOWN)])
def test_other_roles_cannot_set_or_clear(app, conn, role, code):
    add_user(conn, f"e-{role}", role, code)
    nid = conn.execute("SELECT id FROM notice WHERE priority = '紧急' AND status = 'published'").fetchone()[0]
    c = app.test_client()
    tok = login(c, f"e-{role}", PASSWORD)
    before = _counts(conn)
    assert c.get("/admin/emergency").status_code == 403
    assert c.post("/admin/emergency", data=_form(tok, subject_code=code)).status_code == 403
    assert c.post(f"/admin/notices/{nid}/clear-emergency", data={"csrf_token": tok}).status_code in (403, 404)
    assert _counts(conn) == before
    nav = c.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/emergency"' not in nav


def test_an_ordinary_notice_cannot_be_cleared_as_an_emergency(app, conn):
    nid = conn.execute("SELECT id FROM notice WHERE priority = '普通' AND status = 'published' "
                       "AND jurisdiction_code = ?", (COUNTY,)).fetchone()[0]
    c = app.test_client()
    tok = login(c, "county-admin")
    assert c.post(f"/admin/notices/{nid}/clear-emergency", data={"csrf_token": tok}).status_code == 403
    assert conn.execute("SELECT status FROM notice WHERE id = ?", (nid,)).fetchone()[0] == "published"


BAD = [
    ({"title": ""}, "必填"),
    ({"title": "紧" * 61}, "最多 60 个字"),
    ({"body": "字" * 2001}, "最多 2000 个字"),
    ({"expires_on": ""}, "必填：紧急通知到哪一天为止"),
    ({"expires_on": "明天"}, "日期格式应为"),
    ({"expires_on": (TODAY - timedelta(days=1)).isoformat()}, "不能早于今天"),
    ({"expires_on": (TODAY + timedelta(days=31)).isoformat()}, "最长 30 天"),
    ({"subject_code": ""}, "请从列表中选择"),
    ({"body": "联系人身份证 11010519491231002X"}, "未遮挡的个人信息"),
]


@pytest.mark.parametrize("changes,message", BAD)
def test_bad_emergency_is_refused_and_nothing_written(app, conn, changes, message):
    c = app.test_client()
    tok = login(c, "county-admin")
    before = _counts(conn)
    r = c.post("/admin/emergency", data=_form(tok, **changes))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message in html and "没有发布" in html
    assert _counts(conn) == before


def test_expiry_ends_the_takeover(app, conn):
    _calm(conn)
    c = app.test_client()
    tok = login(c, "county-admin")
    assert c.post("/admin/emergency", data=_form(tok, expires_on=TODAY.isoformat())).status_code == 302
    # The last second of the day: the board shows nothing published after its clock, and the
    # test may run late in the evening.
    app.config["NOW"] = f"{TODAY.isoformat()}T23:59:59"
    assert _mode(app.test_client(), TOWN_BOARD) == "emergency"
    app.config["NOW"] = f"{(TODAY + timedelta(days=1)).isoformat()}T08:00:00"
    assert _mode(app.test_client(), TOWN_BOARD) != "emergency"
