"""The application workflow as a pure state machine, and its legal clock on the official calendar."""
from __future__ import annotations

from datetime import date

import pytest

from content import applications as ap
from content.applications import Clock, Refused, step


def received(on: date) -> Clock:
    return Clock(stage="登记", received_on=on, clock_start=on)


# ---------------------------------------------------------------- working days on the real calendar

def test_due_date_across_spring_festival_2025():
    # Mon 20 Jan 2025: Jan 21–24 (4), Sun 26 Jan is a swapped working day (5), Mon 27 (6),
    # 28 Jan–4 Feb holiday, Feb 5–7 (9), Sat 8 Feb swapped (10), Feb 10–14 (15), Feb 17–21 (20).
    assert ap.due_date(date(2025, 1, 20)) == date(2025, 2, 21)
    # Counting weekdays only would give 17 Feb: the holiday and both swaps matter.
    assert ap.due_date(date(2025, 1, 20)) != date(2025, 2, 17)


def test_due_date_across_national_day_2025():
    # Mon 22 Sep 2025: Sep 23–26 (4), Sun 28 Sep swapped (5), Sep 29–30 (7), 1–8 Oct holiday,
    # Oct 9–10 (9), Sat 11 Oct swapped (10), Oct 13–17 (15), Oct 20–24 (20).
    assert ap.due_date(date(2025, 9, 22)) == date(2025, 10, 24)


def test_received_on_a_holiday_counts_from_the_next_working_day():
    # Handed in at the kiosk on National Day itself: the first counted day is 9 Oct.
    assert ap.due_date(date(2025, 10, 3)) == ap.due_date(date(2025, 10, 8))
    # Oct 9–10 (2), Sat 11 Oct swapped (3), Oct 13–31 (18), Nov 3–4 (20).
    assert ap.due_date(date(2025, 10, 3)) == date(2025, 11, 4)


def test_extension_adds_working_days_across_spring_festival_2026():
    c = step(step(received(date(2026, 1, 26)), "accept", date(2026, 1, 26)), "process", date(2026, 1, 27))
    # Mon 26 Jan 2026: Jan 27–30 (4), Feb 2–6 (9), Feb 9–13 (14), Sat 14 Feb swapped (15),
    # Spring Festival 15–23 Feb, Feb 24–27 (19), Sat 28 Feb swapped (20): due on a Saturday.
    assert c.due_on == date(2026, 2, 28)
    c2 = step(c, "extend", date(2026, 2, 10), days=20, reason="需要调取档案")
    # Then Mar 2–6, 9–13, 16–20, 23–27.
    assert c2.due_on == date(2026, 3, 27)
    assert c2.extension_days == 20


# ---------------------------------------------------------------- pauses and restarts

def test_completion_notice_stops_the_clock_and_completion_restarts_it():
    c = step(received(date(2025, 9, 1)), "accept", date(2025, 9, 2))
    # Sep 2–26 (19), Sun 28 Sep swapped (20).
    assert c.due_on == date(2025, 9, 28)
    c = step(c, "request_completion", date(2025, 9, 3), note="请写明所需文件的年份")
    assert c.stage == "补正" and c.due_on is None
    # Seven working days to complete: Sep 4, 5, 8, 9, 10, 11, 12.
    assert c.completion_due == date(2025, 9, 12)
    c = step(c, "complete", date(2025, 9, 22))
    # The completion day is the new day of receipt: 20 working days from 22 Sep, across National Day.
    assert c.stage == "审核" and c.clock_start == date(2025, 9, 22)
    assert c.due_on == date(2025, 10, 24)


def test_completion_deadline_is_seven_working_days_and_abandon_only_after_it():
    c = step(step(received(date(2025, 9, 26)), "accept", date(2025, 9, 26)),
             "request_completion", date(2025, 9, 26), note="补正事项")
    # Sep 28 (swapped Sunday), 29, 30, then the holiday, Oct 9, 10, 11 (swapped Saturday), 13.
    assert c.completion_due == date(2025, 10, 13)
    with pytest.raises(Refused, match="尚未届满"):
        step(c, "abandon", date(2025, 10, 13))
    done = step(c, "abandon", date(2025, 10, 14))
    assert done.stage == "归档" and done.outcome == "其他处理" and "视为放弃" in done.outcome_reason


def test_third_party_consultation_pauses_the_clock():
    c = step(step(received(date(2025, 9, 1)), "accept", date(2025, 9, 1)), "process", date(2025, 9, 2))
    assert c.due_on == date(2025, 9, 28)
    c = step(c, "consult", date(2025, 9, 10))
    assert c.stage == "征求意见"
    # 15 working days for the third party: Sep 11–12, 15–19, 22–26, 28 (swapped Sunday), 29, 30 → 30 Sep.
    assert c.third_party_due == date(2025, 9, 30)
    c = step(c, "third_party_reply", date(2025, 9, 17))
    # Sep 11, 12, 15, 16, 17: five working days not counted.
    assert c.paused_days == 5 and c.stage == "办理"
    # Five more working days after 28 Sep: 29, 30, (holiday) Oct 9, 10, Sat 11 Oct swapped.
    assert c.due_on == ap.add_workdays(date(2025, 9, 1), 25) == date(2025, 10, 11)


def test_two_third_party_pauses_add_up():
    c = step(step(received(date(2025, 3, 3)), "accept", date(2025, 3, 3)), "process", date(2025, 3, 3))
    c = step(step(c, "consult", date(2025, 3, 4)), "third_party_reply", date(2025, 3, 6))
    c = step(step(c, "consult", date(2025, 3, 10)), "third_party_reply", date(2025, 3, 11))
    assert c.paused_days == 3
    assert c.due_on == ap.add_workdays(date(2025, 3, 3), 23)


def test_extension_only_once_at_most_twenty_with_reason_before_due():
    c = step(step(received(date(2025, 3, 3)), "accept", date(2025, 3, 3)), "process", date(2025, 3, 4))
    with pytest.raises(Refused, match="1至20"):
        step(c, "extend", date(2025, 3, 5), days=21, reason="x")
    with pytest.raises(Refused, match="1至20"):
        step(c, "extend", date(2025, 3, 5), days=0, reason="x")
    with pytest.raises(Refused, match="延期理由"):
        step(c, "extend", date(2025, 3, 5), days=10, reason="  ")
    with pytest.raises(Refused, match="已过"):
        step(c, "extend", date(2025, 4, 30), days=10, reason="太晚了")
    c = step(c, "extend", date(2025, 3, 5), days=10, reason="涉及多个部门")
    assert c.due_on == ap.add_workdays(date(2025, 3, 3), 30)
    with pytest.raises(Refused, match="只能延长一次"):
        step(c, "extend", date(2025, 3, 6), days=5, reason="再延")
    assert "extend" not in ap.allowed_actions(c)


def test_completion_notice_only_once():
    c = step(step(received(date(2025, 3, 3)), "accept", date(2025, 3, 3)),
             "request_completion", date(2025, 3, 4), note="补正")
    c = step(c, "complete", date(2025, 3, 6))
    assert "request_completion" not in ap.allowed_actions(c)
    with pytest.raises(Refused, match="只能发出一次"):
        step(c, "request_completion", date(2025, 3, 7), note="再补正")


# ---------------------------------------------------------------- every transition, allowed and refused

ALL_ACTIONS = [a for a in ap.ACTIONS if a != "register"]
PARAMS = {
    "request_completion": {"note": "请补充文号"},
    "extend": {"days": 5, "reason": "需协调"},
    "reply": {"outcome": "予以公开"},
    "deliver": {"method": "自行领取"},
}
ALLOWED = {
    "登记": {"accept"},
    "审核": {"process", "request_completion", "extend", "reply"},
    "补正": {"complete", "abandon"},
    "办理": {"consult", "extend", "reply"},
    "征求意见": {"third_party_reply"},
    "答复": {"deliver"},       # archive only once delivered (test_archive_waits_for_delivery)
    "归档": set(),
}


def at_stage(stage: str) -> Clock:
    d = date(2025, 3, 3)
    c = received(d)
    path = {"登记": [], "审核": ["accept"], "补正": ["accept", "request_completion"],
            "办理": ["accept", "process"], "征求意见": ["accept", "process", "consult"],
            "答复": ["accept", "process", "reply"], "归档": ["accept", "process", "reply", "deliver", "archive"]}[stage]
    for a in path:
        c = step(c, a, d, **PARAMS.get(a, {}))
    assert c.stage == stage
    return c


@pytest.mark.parametrize("stage", list(ALLOWED))
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_transition_table(stage, action):
    c = at_stage(stage)
    on = date(2025, 3, 31) if action == "abandon" else date(2025, 3, 5)
    if action in ALLOWED[stage]:
        after = step(c, action, on, **PARAMS.get(action, {}))
        assert after != c
        assert action in ap.allowed_actions(c)
    elif (stage, action) == ("答复", "archive"):
        with pytest.raises(Refused, match="尚未送达"):
            step(c, action, on, **PARAMS.get(action, {}))
        assert action not in ap.allowed_actions(c)
    else:
        with pytest.raises(Refused, match="阶段"):
            step(c, action, on, **PARAMS.get(action, {}))
        assert action not in ap.allowed_actions(c)


def test_unknown_action_and_dates_before_receipt_refused():
    c = received(date(2025, 3, 3))
    with pytest.raises(Refused, match="未知"):
        step(c, "delete", date(2025, 3, 4))
    with pytest.raises(Refused, match="早于"):
        step(c, "accept", date(2025, 3, 1))


@pytest.mark.parametrize("outcome,reason,ok", [
    ("予以公开", "", True),
    ("部分公开", "", True),
    ("不予公开", "属于国家秘密", True),
    ("不予公开", "", False),
    ("不予公开", "随便写的理由", False),
    ("无法提供", "本机关不掌握相关政府信息", True),
    ("无法提供", "", False),
    ("不予处理", "重复申请", True),
    ("不予处理", "属于国家秘密", False),
    ("其他处理", "申请人撤回申请", True),
    ("其他处理", "", False),
    ("同意", "", False),
])
def test_reply_outcomes_from_the_taxonomy(outcome, reason, ok):
    c = at_stage("办理")
    if ok:
        after = step(c, "reply", date(2025, 3, 10), outcome=outcome, reason=reason)
        assert after.stage == "答复" and after.outcome == outcome and after.replied_on == date(2025, 3, 10)
    else:
        with pytest.raises(Refused):
            step(c, "reply", date(2025, 3, 10), outcome=outcome, reason=reason)


def test_urgency():
    due = date(2025, 3, 31)
    assert ap.urgency("办理", due, date(2025, 3, 3)) == ""
    assert ap.urgency("办理", due, date(2025, 3, 25)) == "due_soon"
    assert ap.urgency("办理", due, date(2025, 4, 1)) == "overdue"
    assert ap.urgency("征求意见", due, date(2025, 4, 1)) == "paused"
    assert ap.urgency("答复", due, date(2025, 4, 1)) == ""


# ---------------------------------------------------------------- 送达 before 归档

def _answered() -> Clock:
    return at_stage("答复")


def test_archive_waits_for_delivery():
    c = _answered()
    with pytest.raises(Refused, match="答复尚未送达，不能归档"):
        step(c, "archive", date(2025, 3, 5))
    assert ap.allowed_actions(c) == ["deliver"]
    d = step(c, "deliver", date(2025, 3, 4), method="自行领取")
    assert d.delivered_on == date(2025, 3, 4) and ap.allowed_actions(d) == ["archive"]
    with pytest.raises(Refused, match="早于送达之日"):
        step(d, "archive", date(2025, 3, 3))
    assert step(d, "archive", date(2025, 3, 5)).stage == "归档"
    with pytest.raises(Refused, match="不能重复"):
        step(d, "deliver", date(2025, 3, 5), method="自行领取")


@pytest.mark.parametrize("params, message", [
    ({}, "请选择送达方式"),
    ({"method": "传真"}, "请选择送达方式"),
    ({"method": "邮寄"}, "单号"),
    ({"method": "邮寄", "detail": "12"}, "单号"),
    ({"method": "电子邮件", "detail": "not-an-address"}, "电子邮箱"),
    ({"method": "当面"}, "签字"),
])
def test_delivery_needs_what_its_method_records(params, message):
    with pytest.raises(Refused, match=message):
        step(_answered(), "deliver", date(2025, 3, 4), **params)


@pytest.mark.parametrize("params", [
    {"method": "自行领取"}, {"method": "邮寄", "detail": "SF1234567890"},
    {"method": "电子邮件", "detail": "zhang@example.com"}, {"method": "当面", "signed": "1"},
])
def test_each_delivery_method_accepted(params):
    assert step(_answered(), "deliver", date(2025, 3, 4), **params).delivered_on == date(2025, 3, 4)


def test_delivery_not_before_the_reply():
    answered = step(at_stage("办理"), "reply", date(2025, 3, 10), outcome="予以公开")
    with pytest.raises(Refused, match="早于答复之日"):
        step(answered, "deliver", date(2025, 3, 6), method="自行领取")
