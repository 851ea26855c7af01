"""content.resident_questions: the clock, the record, routing, answering, review, the 公示期 change,
the status lookup and the terminal's scrub."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from content import resident_questions as rq
from content.db import immediate

from admin_util import add_user, user_row

VILLAGE = "340499100201"        # 杏花村
TOWNSHIP = "340499100000"       # 东湖镇


def village_notice(conn, today: date) -> int:
    """A published notice of 杏花村 whose 公示期 runs today (the demo is built around today)."""
    row = conn.execute("SELECT id FROM notice WHERE status = 'published' AND jurisdiction_code = ? "
                       "AND period_start <= ? AND period_end >= ? ORDER BY id", (VILLAGE, today.isoformat(),
                                                                                 today.isoformat())).fetchone()
    assert row, "the demo has a 杏花村 notice in its 公示期"
    return row[0]


def ask(conn, t, kind="objection", on=None, phone="", body="名单上第三户去年已经搬走", **kw):
    on = on or date.today()
    return rq.create(conn, t, kind, {"body": body, "phone": phone, **kw}, VILLAGE, on,
                     rq.DEFAULT_CLOCKS[kind])


# ---------------------------------------------------------------- the clock

def test_calendar_clock_moves_off_a_holiday():
    # 2026-10-01 + 10 days = 10-11, a Sunday after the National Day week: the next working day.
    assert rq.due_date(date(2026, 10, 1), rq.Clock(10, "calendar")) == date(2026, 10, 12)
    assert rq.due_date(date(2026, 12, 1), rq.Clock(10, "calendar")) == date(2026, 12, 11)


def test_working_day_clock_skips_weekends_and_holidays():
    assert rq.due_date(date(2026, 12, 4), rq.Clock(5, "workday")) == date(2026, 12, 11)
    # Over the National Day holiday: 9-30 + 5 working days lands after the week off.
    assert rq.due_date(date(2026, 9, 30), rq.Clock(5, "workday")) >= date(2026, 10, 12)


def test_clocks_from_settings():
    clocks = rq.clocks_from({"ANSWER_DAYS_SERVICE_QUERY": 7, "ANSWER_WORKDAYS_OBJECTION": True})
    assert clocks["service_query"] == rq.Clock(7, "workday")
    assert clocks["objection"] == rq.Clock(10, "workday")
    assert clocks["village_query"] == rq.Clock(10, "calendar")
    assert rq.clocks_from({}) == rq.DEFAULT_CLOCKS


def test_urgency():
    d = date(2026, 12, 10)
    assert rq.urgency("open", d, date(2026, 12, 1)) == ""
    assert rq.urgency("open", d, date(2026, 12, 7)) == "due_soon"
    assert rq.urgency("open", d, date(2026, 12, 11)) == "overdue"
    assert rq.urgency("answered", d, date(2026, 12, 11)) == ""


# ---------------------------------------------------------------- the record

def test_validate_phone_and_body():
    data, errors = rq.validate({"body": "  问 题  ", "phone": ""})
    assert errors == {} and data["body"] == "问 题" and data["phone"] == ""
    assert rq.validate({"body": "", "phone": ""})[1]["body"]
    assert rq.validate({"body": "x" * 501})[1]["body"].startswith("请不超过500个字")
    assert "手机号码" in rq.validate({"body": "问", "phone": "12345"})[1]["phone"]
    assert rq.validate({"body": "问", "phone": "139 5550 1234"})[0]["phone"] == "13955501234"
    assert rq.validate({"body": "问", "phone": "0551-62345678"})[1] == {}


def test_mask_phone():
    assert rq.mask_phone("13955501234") == "139****1234"
    assert rq.mask_phone("") == ""


def test_create_masks_numbers_and_files_at_once_without_a_hub(conn):
    today = date.today()
    t = rq.target(conn, "notice", village_notice(conn, today))
    rec = ask(conn, t, body="补贴名单有误，身份证340422195603175020", phone="13955501234")
    assert rec["was_masked"] and "340422195603175020" not in rec["body"]
    row = rq.get_by_receipt(conn, rec["receipt_no"])
    assert row["jurisdiction_code"] == VILLAGE and row["stage"] == "open"
    assert row["due_on"] == rq.due_date(today, rq.Clock(10, "calendar")).isoformat()
    # Filed here: the status row exists and the publisher, the 村务监督委员会 and the township are told.
    note = conn.execute("SELECT * FROM notification WHERE event = 'question_received'").fetchone()
    assert note is not None and rec["receipt_no"] in note["body"]
    people = set(json.loads(note["recipients"]))
    supervisor = user_row(conn, "village-supervisor")["id"]
    township = user_row(conn, "township-editor")["id"]
    assert {supervisor, township, user_row(conn, "village-editor")["id"]} <= people
    assert "13955501234" not in note["body"]


def test_objection_only_during_the_period(conn):
    today = date.today()
    t = rq.target(conn, "notice", village_notice(conn, today))
    with pytest.raises(rq.Refused, match="公示期已经结束"):
        ask(conn, t, on=date.fromisoformat(t["period_end"]) + timedelta(days=1))


def test_kinds_follow_the_target(conn):
    vi = conn.execute("SELECT id FROM village_item WHERE status = 'published' AND jurisdiction_code = ?",
                      (VILLAGE,)).fetchone()[0]
    assert rq.kind_for(rq.target(conn, "village_item", vi), False) == "village_query"
    assert rq.kind_for(rq.target(conn, "village", VILLAGE), False) == "village_query"
    guide = conn.execute("SELECT id FROM guide WHERE status = 'published'").fetchone()[0]
    assert rq.kind_for(rq.target(conn, "guide", guide), False) == "service_query"
    assert rq.target(conn, "village", TOWNSHIP) is None
    assert rq.target(conn, "notice", "999999") is None
    assert rq.target(conn, "nothing", 1) is None


# ---------------------------------------------------------------- lookup

def test_lookup_needs_the_phone_tail_when_one_was_left(conn):
    t = rq.target(conn, "village", VILLAGE)
    anon = ask(conn, t, kind="village_query")
    named = ask(conn, t, kind="village_query", phone="13955501234")
    assert rq.lookup(conn, anon["receipt_no"], "")["stage"] == "open"
    assert rq.lookup(conn, named["receipt_no"], "") is None
    assert rq.lookup(conn, named["receipt_no"], "0000") is None
    assert rq.lookup(conn, named["receipt_no"], "1234")["kind_name"] == "村务质询"
    assert rq.lookup(conn, "WT-20260101-AAAAAA", "") is None
    assert rq.lookup(conn, "nonsense", "") is None


# ---------------------------------------------------------------- answering

def test_private_answer_reaches_the_lookup_only(conn):
    t = rq.target(conn, "village", VILLAGE)
    rec = ask(conn, t, kind="village_query", wants_private=1)
    editor = user_row(conn, "village-editor")
    with pytest.raises(rq.Refused, match="不公开"):
        rq.answer(conn, rec["uuid"], editor, "已核实。", "public", date.today())
    rq.answer(conn, rec["uuid"], editor, "已核实，下周一公开。", "private", date.today())
    found = rq.lookup(conn, rec["receipt_no"], "")
    assert found["stage"] == "answered" and found["answer"] == "已核实，下周一公开。"
    assert rq.answers_for(conn, "village", VILLAGE) == []
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'question_answer'").fetchone()[0] == 1


def test_public_answer_is_reviewed_by_the_supervisors_then_shown(conn):
    today = date.today()
    nid = village_notice(conn, today)
    t = rq.target(conn, "notice", nid)
    rec = ask(conn, t, body="王某某家不符合条件")
    editor, supervisor = user_row(conn, "village-editor"), user_row(conn, "village-supervisor")
    with pytest.raises(rq.Refused, match="个人信息"):
        rq.answer(conn, rec["uuid"], editor, "请致电13955501234", "public", today, question="有户不符合条件")
    with pytest.raises(rq.Refused, match="不能答复"):
        rq.answer(conn, rec["uuid"], supervisor, "答复", "public", today)
    rq.answer(conn, rec["uuid"], editor, "经核实，该户符合条件。", "public", today,
              question="有一户不符合条件", upheld=False)
    assert rq.answers_for(conn, "notice", nid) == []            # not before review
    told = conn.execute("SELECT recipients FROM notification WHERE event = 'review_submitted' "
                        "AND dedupe_key LIKE 'review_submitted:question_answer:%'").fetchone()
    assert told is not None
    assert supervisor["id"] in json.loads(told[0]) and editor["id"] not in json.loads(told[0])
    answer_id = rq.get(conn, rec["uuid"])["answer_id"]
    with pytest.raises(rq.Refused, match="不能审核"):
        rq.review(conn, answer_id, editor, True, today)
    rq.review(conn, answer_id, supervisor, True, today)
    shown = rq.answers_for(conn, "notice", nid)
    assert [(a["question"], a["upheld"]) for a in shown] == [("有一户不符合条件", 0)]
    assert shown[0]["answered_by"] == "杏花村村民委员会"
    assert rq.lookup(conn, rec["receipt_no"], "")["public"]["answer"] == "经核实，该户符合条件。"


def test_returned_answer_reopens_the_record(conn):
    today = date.today()
    t = rq.target(conn, "village", VILLAGE)
    rec = ask(conn, t, kind="village_query")
    rq.answer(conn, rec["uuid"], user_row(conn, "village-editor"), "答复", "public", today)
    rq.review(conn, rq.get(conn, rec["uuid"])["answer_id"], user_row(conn, "village-supervisor"), False, today)
    assert rq.get(conn, rec["uuid"])["stage"] == "open"
    assert rq.lookup(conn, rec["receipt_no"], "")["stage"] == "open"


@pytest.mark.parametrize("action,change", [("extend", "extended"), ("restart", "restarted")])
def test_upheld_objection_extends_or_restarts_the_period(conn, action, change):
    today = date.today()
    nid = village_notice(conn, today)
    t = rq.target(conn, "notice", nid)
    rec = ask(conn, t)
    editor = user_row(conn, "village-editor")
    new_end = date.fromisoformat(t["period_end"]) + timedelta(days=7)
    with pytest.raises(rq.Refused, match="异议成立"):
        rq.answer(conn, rec["uuid"], editor, "答复", "private", today, upheld=False,
                  period_action=action, new_end=new_end)
    rq.answer(conn, rec["uuid"], editor, "异议成立，已更正名单。", "private", today, upheld=True,
              period_action=action, new_end=new_end)
    n = conn.execute("SELECT * FROM notice WHERE id = ?", (nid,)).fetchone()
    assert n["period_end"] == new_end.isoformat() and n["period_change"] == change
    if action == "restart":
        assert n["period_start"] == today.isoformat()
        assert rq.period_note(dict(n)).startswith("重新公示")
    else:
        assert rq.period_note(dict(n)) == f"公示期已延长至{new_end.isoformat()}"
    audit = conn.execute("SELECT * FROM audit_log WHERE action = ?", ("notice_period_" + change,)).fetchone()
    assert audit is not None and rec["receipt_no"] in audit["after"]


def test_listing_and_due_notifications(conn):
    today = date.today()
    t = rq.target(conn, "village", VILLAGE)
    late = ask(conn, t, kind="village_query", on=today - timedelta(days=20))
    soon = ask(conn, t, kind="village_query", on=today - timedelta(days=8))
    overdue = rq.listing(conn, [VILLAGE], today, which="overdue")
    assert [q["receipt_no"] for q in overdue] == [late["receipt_no"]]
    assert soon["receipt_no"] in [q["receipt_no"] for q in rq.listing(conn, [VILLAGE], today, which="due_soon")] \
        or rq.get(conn, soon["uuid"])["due_on"] > (today + timedelta(days=3)).isoformat()
    assert rq.listing(conn, [TOWNSHIP], today) == []          # codes limit what is seen
    raised = rq.notify_due(conn, today)
    assert raised >= 1 and rq.notify_due(conn, today) == 0    # once per due date
    events = {r[0] for r in conn.execute("SELECT event FROM notification")}
    assert "question_overdue" in events


def test_scrub_held_keeps_only_the_lookup(conn):
    t = rq.target(conn, "village", VILLAGE)
    rec = ask(conn, t, kind="village_query", phone="13955501234", body="村道什么时候修")
    with immediate(conn):
        assert rq.scrub_held(conn, [rec["uuid"]], "2026-12-03T00:00:00Z") == 1
    row = rq.get(conn, rec["uuid"])
    assert row["phone"] == row["body"] == "" and row["scrubbed_at"]
    conn.execute("DELETE FROM question_status")                # as on a terminal before the hub answers
    assert rq.lookup(conn, rec["receipt_no"], "1234")["stage"] == "open"


def test_supervisor_user_can_read_township_can_reach(conn):
    uid = add_user(conn, "lin-supervisor", "village_supervisor", VILLAGE)
    conn.commit()
    t = rq.target(conn, "village", VILLAGE)
    rec = ask(conn, t, kind="village_query")
    assert uid in rq.recipients(conn, rq.get(conn, rec["uuid"]))
