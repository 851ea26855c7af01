"""受理机关: derived from divisions and domains, chosen on /apply, and 转办 between organs."""
from __future__ import annotations

import json
from datetime import date

from content import application_organs as organs
from content import applications

from admin_util import login, token
from test_citizen import GOOD, apply_ok, count, post

COUNTY = "340499000000"
DONGHU = "340499100000"
XINGHUA = "340499100201"


def test_organs_come_from_divisions_and_domains(conn):
    found = {o.key: o.name for o in organs.organs(conn)}
    assert found[COUNTY] == "淮川县人民政府"
    assert found[DONGHU] == "东湖镇人民政府"
    assert found["340499001000"] == "城关街道办事处"               # a 街道 has an office
    assert found[f"{COUNTY}/县财政局"] == "淮川县财政局"
    assert not any(k.startswith(XINGHUA) for k in found)          # village committees answer none
    # A department added to a domain becomes an organ at once.
    conn.execute("UPDATE domain SET departments = ? WHERE name = '财政预决算'",
                 (json.dumps(["县财政局", "县审计局"], ensure_ascii=False),))
    conn.commit()
    assert organs.parse_key(conn, f"{COUNTY}/县审计局").name == "淮川县审计局"
    assert organs.parse_key(conn, f"{COUNTY}/不存在的局") is None
    assert organs.default_organ(conn, XINGHUA).key == DONGHU       # a village's township
    assert organs.default_organ(conn, COUNTY).key == COUNTY


def test_apply_stores_the_chosen_organ_and_refuses_an_unknown_one(client, conn):
    receipt = apply_ok(client, {**GOOD, "organ": f"{COUNTY}/县财政局"})
    row = applications.get_by_receipt(conn, receipt)
    assert (row["organ_code"], row["organ_dept"]) == (COUNTY, "县财政局")
    before = count(conn, "application")
    r = post(client, "/apply", {**GOOD, "organ": f"{COUNTY}/县外星局"})
    assert r.status_code == 422 and "请选择受理机关" in r.get_data(as_text=True)
    assert count(conn, "application") == before                   # nothing stored
    # Without a choice (an old form) the receiving point's government answers.
    receipt = apply_ok(client, {**GOOD})
    assert applications.get_by_receipt(conn, receipt)["organ_code"] == COUNTY


def test_apply_form_offers_governments_and_departments(client):
    html = client.get("/apply").get_data(as_text=True)
    assert "受理机关" in html and "东湖镇人民政府" in html and "淮川县财政局" in html
    assert f'value="{COUNTY}" checked' in html                     # the county hall's own government


def _transfer(staff, uid, organ, reason="所需信息由该机关制作", on=None):
    url = f"/admin/applications/{uid}"
    return staff.post(f"{url}/transfer", data={"organ": organ, "reason": reason, "on_date": on or "",
                                               "csrf_token": token(staff, url)})


def test_transfer_keeps_the_clock_records_and_hands_over(app, client, conn):
    receipt = apply_ok(client)
    row = applications.get_by_receipt(conn, receipt)
    uid, due = row["uuid"], row["due_on"]
    staff = app.test_client()
    login(staff, "county-admin")
    applications.perform(conn, uid, "accept", date.today())
    r = _transfer(staff, uid, DONGHU)
    assert r.status_code == 303
    row = applications.get(conn, uid)
    assert (row["organ_code"], row["organ_dept"], row["stage"], row["due_on"]) == (DONGHU, "", "登记", due)
    assert [t["to_code"] for t in organs.transfers(conn, uid)] == [DONGHU]
    audit = conn.execute("SELECT * FROM audit_log WHERE action = 'application_transfer'").fetchone()
    assert audit["username"] == "county-admin" and "东湖镇人民政府" in audit["after"]
    assert applications.events(conn, uid)[-1]["action"] == "transfer"
    status = conn.execute("SELECT stage, due_on FROM application_status WHERE receipt_no = ?", (receipt,)).fetchone()
    assert tuple(status) == ("登记", due)
    # The township's editor now finds it (received at the county hall) and can handle it.
    township = app.test_client()
    login(township, "township-editor")
    assert receipt in township.get("/admin/applications/").get_data(as_text=True)
    detail = township.get(f"/admin/applications/{uid}").get_data(as_text=True)
    assert "受理机关：<strong>东湖镇人民政府</strong>" in detail
    assert _transfer(township, uid, f"{COUNTY}/县财政局", "财政资金信息由县财政局掌握").status_code == 303
    assert applications.get(conn, uid)["due_on"] == due


def test_transfer_refusals_change_nothing(app, client, conn):
    uid = applications.get_by_receipt(conn, apply_ok(client))["uuid"]
    staff = app.test_client()
    login(staff, "county-admin")
    for organ, reason, message in [("", "理由", "请选择接收转办的受理机关"), (DONGHU, "", "请写明转办理由"),
                                   (COUNTY, "理由", "本申请已由淮川县人民政府办理")]:
        r = _transfer(staff, uid, organ, reason)
        assert r.status_code == 422 and message in r.get_data(as_text=True)
    today = date.today()
    for action, params in [("accept", {}), ("process", {}), ("reply", {"outcome": "予以公开"})]:
        applications.perform(conn, uid, action, today, **params)
    r = _transfer(staff, uid, DONGHU)
    assert r.status_code == 422 and "只能在登记、审核、办理阶段进行" in r.get_data(as_text=True)
    assert organs.transfers(conn, uid) == [] and applications.get(conn, uid)["organ_code"] == COUNTY


def test_staff_register_a_letter_with_its_organ(app, conn):
    staff = app.test_client()
    login(staff, "township-editor")
    url = "/admin/applications/new"
    assert "东湖镇人民政府" in staff.get(url).get_data(as_text=True)
    form = {**GOOD, "organ": DONGHU, "received_on": "2026-12-01", "csrf_token": token(staff, url)}
    bad = staff.post(url, data={**form, "organ": "", "phone": "123"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请选择受理机关" in html and "联系电话格式不正确" in html
    assert count(conn, "application") == 0
    r = staff.post(url, data=form)
    assert r.status_code == 303
    row = conn.execute("SELECT * FROM application").fetchone()
    assert (row["organ_code"], row["jurisdiction_code"], row["received_on"], row["staff_assisted"]) == \
        (DONGHU, DONGHU, "2026-12-01", 1)
    assert staff.post(url, data={**form, "received_on": "2999-01-01"}).status_code == 422
    assert app.test_client().get(url).status_code == 302


def test_due_notifications_go_to_the_organ_after_a_transfer(client, conn):
    from datetime import datetime, timedelta, timezone

    from content import notify_events
    uid = applications.get_by_receipt(conn, apply_ok(client))["uuid"]
    organs.transfer(conn, uid, DONGHU, "由东湖镇办理", date.today())
    due = date.fromisoformat(applications.get(conn, uid)["due_on"])
    notify_events.applications_due(conn, due + timedelta(days=7), datetime.now(timezone.utc))
    codes = [r[0] for r in conn.execute("SELECT jurisdiction_code FROM notification WHERE event LIKE 'application%'")]
    assert codes == [DONGHU]


def test_namer_names_like_organ_name(client, conn):
    uid = applications.get_by_receipt(conn, apply_ok(client, {**GOOD, "organ": f"{COUNTY}/县财政局"}))["uuid"]
    rows = [applications.get(conn, uid), {"organ_code": "", "organ_dept": "", "jurisdiction_code": XINGHUA}]
    name = organs.namer(conn)
    assert [name(r) for r in rows] == [organs.organ_name(conn, r) for r in rows] == ["淮川县财政局", "东湖镇人民政府"]
