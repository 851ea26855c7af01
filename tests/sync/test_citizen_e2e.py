"""End to end: an application, a rating and an opinion made at a village terminal reach the hub
through the outbox; staff move the application through every stage at the hub; the terminal's
lookup follows the stage from its bundles and never shows personal data."""
from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

from content import applications, outbox
from kiosk import create_app
from sync import terminal

from conftest import VILLAGE, tconn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from admin_util import login, token  # noqa: E402
from test_citizen import GOOD, csrf  # noqa: E402


def kiosk_post(client, url, data, page=None):
    return client.post(url, data={**data, "csrf_token": csrf(client, page or url)})


def lookup(client, receipt: str) -> str:
    r = kiosk_post(client, "/apply/status", {"receipt": receipt, "tail": GOOD["phone"][-4:]})
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_application_travels_to_the_hub_and_its_stage_comes_back(hub, term):
    assert terminal.sync_once(term).ok                       # enrol and take the first bundle
    kiosk = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()

    # A resident applies at the village terminal.
    r = kiosk_post(kiosk, "/apply", GOOD)
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    receipt = re.search(r"YSQ-\d{8}-[A-Z]{3}-\d{4}", kiosk.get("/apply/receipt").get_data(as_text=True)).group(0)
    tc = tconn(term)
    try:
        row = applications.get_by_receipt(tc, receipt)
        assert row["jurisdiction_code"] == VILLAGE
        pending = outbox.pending(tc)
        assert [(p["kind"], p["uuid"]) for p in pending] == [("application", row["uuid"])]
    finally:
        tc.close()
    # A rating and an opinion too.
    guide_id = tconn(term).execute("SELECT id FROM guide LIMIT 1").fetchone()[0]
    assert kiosk_post(kiosk, "/rate", {"target_type": "guide", "target_id": str(guide_id), "rating": "基本满意",
                                       "comment": "窗口少"}, page=f"/guides/{guide_id}").status_code == 200
    today = date.today().isoformat()
    cid = tconn(term).execute("SELECT id FROM consultation WHERE opens_on <= ? AND closes_on >= ?",
                              (today, today)).fetchone()[0]
    assert kiosk_post(kiosk, f"/consultations/{cid}", {"body": "建议村里设回收点"}).status_code == 200
    assert "已登记" in lookup(kiosk, receipt)

    # The outbox goes up; the hub files each record once.
    report = terminal.sync_once(term)
    assert report.ok, report.errors
    hc = hub.conn()
    try:
        hub_row = applications.get_by_receipt(hc, receipt)
        assert hub_row is not None and hub_row["name"] == GOOD["name"] and hub_row["due_on"] == row["due_on"]
        assert hc.execute("SELECT rating, comment FROM feedback").fetchall()[0][:] == ("基本满意", "窗口少")
        assert hc.execute("SELECT body, jurisdiction_code FROM consultation_response").fetchone()[:] == \
            ("建议村里设回收点", VILLAGE)
    finally:
        hc.close()
    assert outbox.pending_count(tconn(term)) == 0
    assert terminal.sync_once(term).ok                       # a retry stores nothing twice
    hc = hub.conn()
    assert hc.execute("SELECT count(*) FROM application").fetchone()[0] == 1
    hc.close()

    # Staff handle it at the hub; after each publish the terminal's lookup follows.
    staff = hub.app.test_client()
    login(staff, "township-editor")                          # 东湖镇 handles 杏花村's applications
    url = f"/admin/applications/{row['uuid']}"
    assert receipt in staff.get("/admin/applications/").get_data(as_text=True)
    plan = [("accept", {}, "审核中"), ("request_completion", {"note": "请写明年份"}, "待补正"),
            ("complete", {}, "审核中"), ("process", {}, "办理中"), ("consult", {"note": "涉及农户"}, "征求第三方意见"),
            ("third_party_reply", {}, "办理中"), ("extend", {"days": "5", "reason": "核对名单"}, "办理中"),
            ("reply", {"outcome": "予以公开"}, "已答复"), ("deliver", {"method": "自行领取"}, "已答复"),
            ("archive", {}, "已办结")]
    for i, (action, form, shown) in enumerate(plan):
        r = staff.post(f"{url}/{action}", data={**form, "on_date": today, "csrf_token": token(staff, url)})
        assert r.status_code == 303, (action, r.get_data(as_text=True)[:2000])
        if i in (0, 1, 4, 7, 9):                             # a sync round for a few of the steps
            hub.publish()
            assert terminal.sync_once(term).ok
            html = lookup(kiosk, receipt)
            assert shown in html, (action, html[-3000:])
            for personal in (GOOD["name"], GOOD["id_number"], GOOD["phone"], GOOD["title"]):
                assert personal not in html
    assert "予以公开" in lookup(kiosk, receipt)
    # The terminal got the stage, nothing personal: the status table has no such columns, and
    # the terminal's own copy of the application is still the one the resident made.
    tc = tconn(term)
    try:
        status = tc.execute("SELECT * FROM application_status WHERE receipt_no = ?", (receipt,)).fetchone()
        assert status["stage"] == "归档" and status["outcome"] == "予以公开"
        assert tc.execute("SELECT stage FROM application WHERE receipt_no = ?", (receipt,)).fetchone()[0] == "登记"
    finally:
        tc.close()


def test_an_unknown_organ_from_a_terminal_goes_to_the_nearest_government(hub):
    """A terminal's record names an organ this county does not have (an old list, or forged):
    the hub files the application with the township government of the village, and notes why."""
    from sync import hub as sync_hub
    payload = {"receipt_no": "YSQ-20261203-0901", "jurisdiction_code": VILLAGE, "applicant_type": "公民",
               "name": "张三", "phone": "13900000000", "description": "本村道路硬化项目的验收报告",
               "received_on": "2026-12-03", "organ_code": "340499000000", "organ_dept": "县海洋局"}
    hc = hub.conn()
    try:
        hc.execute("BEGIN IMMEDIATE")
        term = {"id": "t" * 64, "scope": VILLAGE}
        records = [{"uuid": "1f8fad5b-d9cb-469f-a165-70867728950e", "kind": "application", "payload": payload},
                   {"uuid": "2f8fad5b-d9cb-469f-a165-70867728950e", "kind": "application",
                    "payload": {**payload, "receipt_no": "YSQ-20261203-0902", "organ_code": "340499000000",
                                "organ_dept": "县民政局"}}]
        held, rejected = sync_hub.file_records(hc, term, records)
        assert len(held) == 2 and rejected == []
        rows = {r["receipt_no"]: r for r in hc.execute("SELECT * FROM application")}
        assert (rows["YSQ-20261203-0901"]["organ_code"], rows["YSQ-20261203-0901"]["organ_dept"]) == \
            ("340499100000", "")                                     # 东湖镇人民政府
        assert (rows["YSQ-20261203-0902"]["organ_code"], rows["YSQ-20261203-0902"]["organ_dept"]) == \
            ("340499000000", "县民政局")                              # a real one is kept
        notes = dict(hc.execute("SELECT uuid, note FROM sync_inbox"))
        assert "县海洋局" in notes["1f8fad5b-d9cb-469f-a165-70867728950e"] and "东湖镇人民政府" in \
            notes["1f8fad5b-d9cb-469f-a165-70867728950e"]
        assert notes["2f8fad5b-d9cb-469f-a165-70867728950e"] == ""
        hc.execute("ROLLBACK")
    finally:
        hc.close()
