"""Objections and questions across the county: made at a village terminal, filed at the hub
exactly once for the owner of the notice, answered there, and the answer back on the terminal
(under the notice, and by receipt number) after the next sync."""
from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path

from content import outbox
from content import resident_questions as rq
from kiosk import create_app
from sync import hub as sync_hub
from sync import terminal

from conftest import VILLAGE, tconn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_citizen import csrf  # noqa: E402


def _notice(conn) -> int:
    return conn.execute("SELECT id FROM notice WHERE status = 'published' AND jurisdiction_code = ?1 "
                        "AND period_start <= ?2 AND period_end >= ?2 ORDER BY id",
                        (VILLAGE, date.today().isoformat())).fetchone()[0]


def test_objection_round_trip(hub, term):
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    nid = _notice(conn)
    conn.close()
    kiosk = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()
    r = kiosk.post(f"/object/{nid}", data={"body": "第二组有一户不符合条件", "csrf_token": csrf(kiosk, f"/object/{nid}")})
    assert r.status_code == 303
    receipt = re.search(r"WT-\d{8}-[A-Z2-9]{6}", kiosk.get("/ask/receipt").get_data(as_text=True)).group(0)

    assert terminal.sync_once(term).ok
    # Sent again (as after a lost acknowledgement): still one record at the hub.
    conn = tconn(term)
    rec = conn.execute("SELECT uuid, kind FROM outbox WHERE kind = 'resident_question'").fetchone()
    conn.execute("UPDATE outbox SET sent_at = NULL, payload = ? WHERE uuid = ?",
                 (json.dumps({"kind": "objection", "receipt_no": receipt, "target_type": "notice",
                              "target_id": str(nid), "asked_on": date.today().isoformat(),
                              "jurisdiction_code": VILLAGE}), rec["uuid"]))
    conn.close()
    assert terminal.sync_once(term, do_pull=False).ok
    hc = hub.conn()
    try:
        assert hc.execute("SELECT count(*) FROM resident_question WHERE receipt_no = ?", (receipt,)).fetchone()[0] == 1
        q = rq.get_by_receipt(hc, receipt)
        assert q["kind"] == "objection" and q["jurisdiction_code"] == VILLAGE and q["origin_code"] == VILLAGE
        assert hc.execute("SELECT count(*) FROM notification WHERE event = 'question_received'").fetchone()[0] == 1
        editor = hc.execute("SELECT * FROM user WHERE username = 'village-editor'").fetchone()
        supervisor = hc.execute("SELECT * FROM user WHERE username = 'village-supervisor'").fetchone()
        rq.answer(hc, q["uuid"], editor, "经核实，该户符合条件。", "public", date.today(),
                  question="第二组有一户不符合条件", upheld=False)
        rq.review(hc, rq.get(hc, q["uuid"])["answer_id"], supervisor, True, date.today())
    finally:
        hc.close()
    hub.publish()
    assert terminal.sync_once(term).ok
    kiosk = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()
    page = kiosk.get(f"/notices/{nid}").get_data(as_text=True)
    assert "经核实，该户符合条件。" in page and "异议不成立" in page
    page = kiosk.post("/ask/status", data={"receipt": receipt, "csrf_token": csrf(kiosk, "/ask/status")}
                      ).get_data(as_text=True)
    assert "已答复" in page and "经核实，该户符合条件。" in page


def test_hub_refuses_questions_about_what_the_terminal_does_not_show(hub):
    hc = hub.conn()
    try:
        term = {"id": "t" * 64, "scope": VILLAGE}
        other = hc.execute("SELECT id FROM notice WHERE status = 'published' AND jurisdiction_code = "
                           "'340499001001'").fetchone()[0]           # 南门社区, another township
        good = {"kind": "objection", "receipt_no": "WT-20261203-ABCDEF", "target_type": "notice",
                "target_id": str(other), "asked_on": "2026-12-03", "jurisdiction_code": VILLAGE}
        uuid = "0f8fad5b-d9cb-469f-a165-70867728950e"
        hc.execute("BEGIN IMMEDIATE")
        held, rejected = sync_hub.file_records(hc, term, [{"uuid": uuid, "kind": "resident_question",
                                                           "payload": good}])
        assert held == [] and "不在本终端显示的范围内" in rejected[0]["reason"]
        held, rejected = sync_hub.file_records(hc, term, [{"uuid": uuid, "kind": "resident_question",
                                                           "payload": {**good, "jurisdiction_code": "340499001001"}}])
        assert held == [] and "不是本终端的" in rejected[0]["reason"]
        hc.execute("ROLLBACK")
    finally:
        hc.close()
    assert outbox.is_kind(rq.UPSTREAM_KIND)
