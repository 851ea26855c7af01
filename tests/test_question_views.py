"""content.admin.question_views: the list with its filters and clock, answering, review, the
callback number shown only on request, the 公示期 extended from the answer form."""
from __future__ import annotations

from datetime import date, timedelta

from content import resident_questions as rq

from admin_util import add_user, login
from test_resident_questions import VILLAGE, ask, village_notice


def test_list_filters_and_reach(client, conn):
    today = date.today()
    t = rq.target(conn, "village", VILLAGE)
    late = ask(conn, t, kind="village_query", on=today - timedelta(days=30))
    login(client, "village-supervisor")
    page = client.get("/admin/questions?which=overdue").get_data(as_text=True)
    assert late["receipt_no"] in page and "已超期" in page
    assert "公示异议 10日、村务质询 10日、办事咨询 5个工作日" in page
    assert late["receipt_no"] not in client.get("/admin/questions?which=overdue&kind=service_query").get_data(as_text=True)
    # Another township's staff do not see it at all.
    other = client.application.test_client()

    add_user(conn, "chengguan-editor", "township_editor", "340499001000")
    conn.commit()
    login(other, "chengguan-editor", "Test-password-for-staff-9")
    assert late["receipt_no"] not in other.get("/admin/questions?which=all").get_data(as_text=True)
    assert other.get(f"/admin/questions/{late['uuid']}").status_code == 404


def test_answer_extends_the_period_and_reviewer_publishes(client, conn):
    today = date.today()
    nid = village_notice(conn, today)
    rec = ask(conn, rq.target(conn, "notice", nid), phone="13955501234")
    token = login(client, "village-editor")
    page = client.get(f"/admin/questions/{rec['uuid']}").get_data(as_text=True)
    assert "139****1234" in page and "13955501234" not in page and "延长公示期" in page
    end = (date.fromisoformat(rq.target(conn, "notice", nid)["period_end"]) + timedelta(days=5)).isoformat()
    bad = client.post(f"/admin/questions/{rec['uuid']}", data={"csrf_token": token, "mode": "public",
                                                                "answer": "", "question": "q"})
    assert bad.status_code == 422 and "请填写答复内容" in bad.get_data(as_text=True)
    r = client.post(f"/admin/questions/{rec['uuid']}", data={
        "csrf_token": token, "mode": "public", "question": "名单有一户有误", "answer": "异议成立，已更正。",
        "upheld": "1", "period_action": "extend", "new_end": end})
    assert r.status_code == 303
    assert conn.execute("SELECT period_end, period_change FROM notice WHERE id = ?", (nid,)).fetchone()[:] == (end, "extended")
    # The whole number: only on request, and the look is logged without the number.
    r = client.post(f"/admin/questions/{rec['uuid']}/phone", data={"csrf_token": token})
    assert "13955501234" in r.get_data(as_text=True)
    logged = conn.execute("SELECT * FROM audit_log WHERE action = 'question_phone_viewed'").fetchone()
    assert logged is not None and "13955501234" not in (logged["after"] or "") + (logged["before"] or "")
    # The 村务监督委员会 approves the public answer; the notice shows it and the new period.
    sup = client.application.test_client()
    stoken = login(sup, "village-supervisor")
    assert "名单有一户有误" in sup.get("/admin/questions").get_data(as_text=True)
    answer_id = rq.get(conn, rec["uuid"])["answer_id"]
    r = sup.post(f"/admin/questions/answers/{answer_id}/review", data={"csrf_token": stoken, "decision": "approve"})
    assert r.status_code == 303
    kiosk = client.application.test_client()
    page = kiosk.get(f"/notices/{nid}").get_data(as_text=True)
    assert "异议成立，已更正。" in page and f"公示期已延长至{end}" in page


def test_supervisor_cannot_answer(client, conn):
    rec = ask(conn, rq.target(conn, "village", VILLAGE), kind="village_query")
    token = login(client, "village-supervisor")
    page = client.get(f"/admin/questions/{rec['uuid']}").get_data(as_text=True)
    assert "提交答复" not in page
    r = client.post(f"/admin/questions/{rec['uuid']}", data={"csrf_token": token, "mode": "private", "answer": "x"})
    assert r.status_code == 422 and "不能答复" in r.get_data(as_text=True)
    assert rq.get(conn, rec["uuid"])["stage"] == "open"
