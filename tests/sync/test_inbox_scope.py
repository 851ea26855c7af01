"""The hub's inbox files a terminal's records only under the terminal's own jurisdiction code;
anything else is refused one by one and logged, and a record the tables cannot take costs
the other records of its batch nothing (sync.hub)."""
from __future__ import annotations

import logging
import sys
import uuid
from pathlib import Path

from content import jurisdictions
from kiosk import create_app
from sync import bundle, terminal

from conftest import VILLAGE, tconn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_citizen import csrf  # noqa: E402

TOWNSHIP, COUNTY = "340499100000", "340499000000"


def _post(term: Path, records: list[dict]) -> dict:
    settings = terminal.Settings.load(term)
    key = bundle.load_private_key(terminal.key_path(term))
    return terminal._signed_post(settings, key, "/sync/v1/inbox",
                                 {"scope": settings.scope, "status": {}, "records": records})


def _rating(code: str, target_type: str, target_id: int, comment: str = "") -> dict:
    return {"uuid": str(uuid.uuid4()), "kind": "feedback", "payload": {
        "jurisdiction_code": code, "target_type": target_type, "target_id": target_id,
        "rating": "不满意", "comment": comment}}


def test_records_under_another_jurisdiction_are_refused_and_logged(hub, term, caplog):
    assert terminal.sync_once(term).ok
    hc = hub.conn()
    guide = hc.execute("SELECT id FROM guide WHERE jurisdiction_code = ? AND status = 'published' "
                       "LIMIT 1", (COUNTY,)).fetchone()[0]
    assert {TOWNSHIP, COUNTY} <= set(jurisdictions.visible_codes(hc, VILLAGE))
    hc.close()
    own = _rating(VILLAGE, "guide", guide, "本村的评价")
    as_township = _rating(TOWNSHIP, "guide", guide)
    as_county = _rating(COUNTY, "guide", guide)
    no_code = _rating(None, "guide", guide)
    application = {"uuid": str(uuid.uuid4()), "kind": "application", "payload": {
        "jurisdiction_code": COUNTY, "receipt_no": "YSQ-20260101-XYZ-0001", "name": "x"}}
    with caplog.at_level(logging.WARNING):
        answer = _post(term, [own, as_township, as_county, no_code, application])
    assert answer["held"] == [own["uuid"]]
    refused = {r["uuid"]: r["reason"] for r in answer["rejected"]}
    assert set(refused) == {as_township["uuid"], as_county["uuid"], no_code["uuid"], application["uuid"]}
    assert all("不是本终端的" in reason for reason in refused.values())
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert as_county["uuid"] in logged and application["uuid"] in logged
    hc = hub.conn()
    try:
        # The rating given at the village is counted for the guide's owner, found by the hub.
        rows = hc.execute("SELECT uuid, jurisdiction_code FROM feedback").fetchall()
        assert [tuple(r) for r in rows] == [(own["uuid"], COUNTY)]
        assert hc.execute("SELECT count(*) FROM application").fetchone()[0] == 0
    finally:
        hc.close()


def test_a_rating_of_something_the_terminal_does_not_show_is_refused(hub, term):
    assert terminal.sync_once(term).ok
    hc = hub.conn()
    other = hc.execute("SELECT id FROM notice WHERE jurisdiction_code = '340499101201' LIMIT 1").fetchone()
    hc.close()
    records = [_rating(VILLAGE, "guide", 10 ** 12), _rating(VILLAGE, "nothing", 1)]
    if other:
        records.append(_rating(VILLAGE, "notice", other[0]))
    answer = _post(term, records)
    assert answer["held"] == [] and len(answer["rejected"]) == len(records)


def test_a_kiosk_rating_of_a_county_guide_travels_as_the_village(hub, term):
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    guide = conn.execute("SELECT id FROM guide WHERE jurisdiction_code = ? LIMIT 1", (COUNTY,)).fetchone()[0]
    conn.close()
    kiosk = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()
    r = kiosk.post("/rate", data={"target_type": "guide", "target_id": str(guide), "rating": "满意",
                                  "csrf_token": csrf(kiosk, f"/guides/{guide}")})
    assert r.status_code == 200
    conn = tconn(term)
    payload = conn.execute("SELECT payload FROM outbox WHERE kind = 'feedback'").fetchone()[0]
    conn.close()
    assert f'"jurisdiction_code": "{VILLAGE}"' in payload
    report = terminal.sync_once(term)
    assert report.ok, report.errors
    hc = hub.conn()
    try:
        assert hc.execute("SELECT jurisdiction_code FROM feedback").fetchone()[0] == COUNTY
    finally:
        hc.close()


def test_a_record_the_table_cannot_take_is_noted_alone(hub, term):
    assert terminal.sync_once(term).ok
    bad = {"uuid": str(uuid.uuid4()), "kind": "consultation_response", "payload": {
        "jurisdiction_code": VILLAGE, "consultation_id": 2 ** 70, "body": "意见"}}
    good = {"uuid": str(uuid.uuid4()), "kind": "consultation_response", "payload": {
        "jurisdiction_code": VILLAGE, "consultation_id": 1, "body": "好的意见"}}
    answer = _post(term, [bad, good])
    assert set(answer["held"]) == {bad["uuid"], good["uuid"]}      # both kept, neither lost
    hc = hub.conn()
    try:
        notes = dict(hc.execute("SELECT uuid, note FROM sync_inbox").fetchall())
        assert "未能归档" in notes[bad["uuid"]] and notes[good["uuid"]] == ""
        assert hc.execute("SELECT body FROM consultation_response").fetchall()[0][0] == "好的意见"
    finally:
        hc.close()
