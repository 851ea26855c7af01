"""Published office numbers (公开办公电话): marked from a finding, audited, scoped to the jurisdiction."""
from __future__ import annotations

import pytest

from admin_util import login, user_row
from content import editing, office_phones

VILLAGE, OTHER_VILLAGE, TOWN = "340499100201", "340499100202", "340499100000"
PHONE = "0554-7654321"


def _notice(code=VILLAGE):
    return {"jurisdiction_code": code, "subject_code": code, "title": "村务公开", "kind": "公示",
            "priority": "普通", "body": f"监督电话：{PHONE}"}


def test_marking_from_the_finding_lets_the_number_through(app, conn):
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", _notice())
    with pytest.raises(editing.PrivacyBlocked):
        editing.submit(conn, editor, "notice", nid)
    c = app.test_client()
    tok = login(c, "village-editor")
    html = c.get(f"/admin/notices/{nid}").get_data(as_text=True)
    assert "固定电话" in html and "这是公开的办公电话" in html
    r = c.post("/admin/office-phones/add", data={"csrf_token": tok, "number": PHONE, "label": "杏花村委会",
                                                 "jurisdiction_code": VILLAGE, "next": f"/admin/notices/{nid}"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/admin/notices/{nid}")
    editing.submit(conn, editor, "notice", nid)
    row = conn.execute("SELECT * FROM audit_log WHERE action = 'office_phone_add' ORDER BY id DESC").fetchone()
    assert row["username"] == "village-editor" and PHONE in row["after"]
    assert "杏花村委会" in c.get("/admin/office-phones").get_data(as_text=True)


def test_scope_mobiles_and_removal(app, conn):
    editor = user_row(conn, "village-editor")
    with pytest.raises(office_phones.Refused):
        office_phones.add(conn, editor, VILLAGE, "13812345678", "手机")
    with pytest.raises(editing.Denied):
        office_phones.add(conn, editor, OTHER_VILLAGE, PHONE, "别村")
    c = app.test_client()
    tok = login(c, "village-editor")
    r = c.post("/admin/office-phones/add", data={"csrf_token": tok, "number": PHONE, "label": "x",
                                                 "jurisdiction_code": OTHER_VILLAGE})
    assert r.status_code in (403, 404)
    # The township's number is allowed in its villages, a village's number not in its neighbour.
    pid = office_phones.add(conn, user_row(conn, "township-editor"), TOWN, PHONE, "东湖镇")
    assert "05547654321" in office_phones.allowed(conn, VILLAGE)
    assert "05547654321" in office_phones.allowed(conn, OTHER_VILLAGE)
    office_phones.remove(conn, user_row(conn, "township-editor"), pid)
    assert "05547654321" not in office_phones.allowed(conn, VILLAGE)
    office_phones.add(conn, editor, VILLAGE, PHONE, "杏花村")
    assert "05547654321" in office_phones.allowed(conn, TOWN)          # a township lists its villages
    assert "05547654321" not in office_phones.allowed(conn, OTHER_VILLAGE)
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action LIKE 'office_phone_%'").fetchone()[0] == 3
