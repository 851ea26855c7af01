"""行政复议 and 行政诉讼 recorded per application, decided later, counted in the annual report."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from content import application_appeals as appeals
from content import applications

from admin_util import login, token
from test_citizen import apply_ok


def _uid(client, conn):
    return applications.get_by_receipt(conn, apply_ok(client))["uuid"]


def test_record_and_decide_through_the_admin(app, client, conn):
    uid = _uid(client, conn)
    staff = app.test_client()
    login(staff, "county-admin")
    url = f"/admin/applications/{uid}"
    today = date.today().isoformat()
    r = staff.post(f"{url}/appeals", data={"kind": "行政复议", "filed_on": today, "body": "淮川县人民政府",
                                           "csrf_token": token(staff, url)})
    assert r.status_code == 303
    case = appeals.appeals(conn, uid)[0]
    assert (case["kind"], case["result"], case["decided_on"]) == ("行政复议", "尚未审结", None)
    r = staff.post(f"{url}/appeals/{case['id']}", data={"result": "确认违法", "decided_on": today,
                                                        "csrf_token": token(staff, url)})
    assert r.status_code == 303
    case = appeals.appeals(conn, uid)[0]
    assert (case["result"], case["decided_on"]) == ("确认违法", today)
    assert "确认违法" in staff.get(url).get_data(as_text=True)
    actions = [a[0] for a in conn.execute("SELECT action FROM audit_log WHERE action LIKE 'application_appeal%'")]
    assert actions == ["application_appeal", "application_appeal_result"]


@pytest.mark.parametrize("form, message", [
    ({"kind": "信访", "filed_on": "2026-01-05"}, "请选择：行政复议或行政诉讼"),
    ({"kind": "行政诉讼", "filed_on": ""}, "请填写申请复议或起诉的日期"),
    ({"kind": "行政诉讼", "filed_on": "2001-01-01"}, "不能早于收到信息公开申请之日"),
])
def test_bad_records_refused(client, conn, form, message):
    uid = _uid(client, conn)
    with pytest.raises(applications.Refused, match=message):
        appeals.record(conn, uid, form, date.today())
    assert appeals.appeals(conn, uid) == []


def test_future_dates_and_unknown_results_refused(client, conn):
    uid = _uid(client, conn)
    today = date.today()
    with pytest.raises(applications.Refused, match="不能晚于今天"):
        appeals.record(conn, uid, {"kind": "行政复议", "filed_on": (today + timedelta(days=1)).isoformat()}, today)
    cid = appeals.record(conn, uid, {"kind": "行政诉讼", "filed_on": today.isoformat(), "after_review": "1"}, today)
    with pytest.raises(applications.Refused, match="请选择结果"):
        appeals.decide(conn, uid, cid, {"result": "赢了", "decided_on": today.isoformat()}, today)
    assert appeals.appeals(conn, uid)[0]["after_review"] == 1


def test_report_columns():
    assert [appeals.reported(r) for r in appeals.RESULTS] == ["结果维持", "结果纠正", "结果纠正", "结果维持", "其他结果"]
    assert appeals.reported(appeals.PENDING) == "尚未审结"
