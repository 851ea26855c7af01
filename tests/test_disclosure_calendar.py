"""应公开未公开: periods, deadlines over month, quarter and year ends with 调休, what counts as
published, the village checklist, the lists, and the notification."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from content import disclosure_calendar as dc
from content import notifications, notify_events

from admin_util import PASSWORD, add_user, login

VILLAGE = "340499100201"          # 杏花村
MONTHLY_10 = {"rule": "monthly", "day": 10}


@pytest.mark.parametrize("rule, start, deadline", [
    # Monthly, the 5th falls in the National Day holiday (1–8 Oct 2025): moved to 9 Oct.
    ({"rule": "monthly", "day": 5}, date(2025, 9, 1), date(2025, 10, 9)),
    # The 11th of October 2025 is a Saturday but a 调休 working day: kept.
    ({"rule": "monthly", "day": 11}, date(2025, 9, 1), date(2025, 10, 11)),
    # Quarter end into the new year: Q4 2025 → 20 January 2026 (a Tuesday).
    ({"rule": "quarterly", "day": 20}, date(2025, 10, 1), date(2026, 1, 20)),
    # Quarterly in the National Day week: Q3 2025 → 5 Oct is a holiday → 9 Oct.
    ({"rule": "quarterly", "day": 5}, date(2025, 7, 1), date(2025, 10, 9)),
    # Year end: 1 January 2026 to 3 January are New Year holidays; Sunday 4 January is worked.
    ({"rule": "annual", "month": 1, "day": 1}, date(2025, 1, 1), date(2026, 1, 4)),
    ({"rule": "annual", "month": 1, "day": 31}, date(2025, 1, 1), date(2026, 2, 2)),   # a Saturday → Monday
    # 每季度公开一次 (no day): by the end of the next quarter.
    ({"rule": "quarterly"}, date(2025, 10, 1), date(2026, 3, 31)),
])
def test_period_deadlines(rule, start, deadline):
    assert dc.period_deadline(rule, start) == deadline


def test_periodic_rules_from_limit_text_and_frequency():
    assert dc.periodic_rule(None, "每月10日前公开上月收支") == MONTHLY_10
    assert dc.periodic_rule(None, "每季度的首个月20日") == {"rule": "quarterly", "day": 20}
    assert dc.periodic_rule(None, "信息形成或者变更之日起20个工作日内", "每季度") == {"rule": "quarterly"}
    assert dc.periodic_rule(None, "信息形成或者变更之日起20个工作日内", "随时") is None
    assert dc.periodic_rule('{"count": 20, "unit": "workday"}', "", "") is None


def test_periods_cross_the_year_with_labels():
    found = dc.periods({"rule": "quarterly", "day": 20}, date(2025, 7, 15), date(2026, 4, 30))
    assert [p.label for p in found] == ["2025年第3季度", "2025年第4季度", "2026年第1季度"]
    assert [p.deadline for p in found] == [date(2025, 10, 20), date(2026, 1, 20), date(2026, 4, 20)]


def _n(i, published, formed=None):
    return {"id": i, "published_at": published, "formed_on": formed}


def test_assess_done_late_missing_due():
    notices = [
        _n(1, "2026-09-08T02:00:00Z"),                    # August's accounts on 8 Sept: on time
        _n(2, "2026-10-20T02:00:00Z", "2026-09-30"),      # September's, formed 30 Sept, late
        _n(3, "2026-12-05T02:00:00Z"),                    # November's on 5 Dec: on time
    ]
    found = dc.assess(MONTHLY_10, notices, date(2026, 8, 1), date(2026, 12, 3))
    status = {p.label: p.status for p in found}
    assert status == {"2026年8月": "done", "2026年9月": "late", "2026年10月": "missing", "2026年11月": "done"}
    later = dc.assess(MONTHLY_10, notices, date(2026, 8, 1), date(2026, 12, 20))
    assert later[-1].label == "2026年12月" and later[-1].status == "due"
    assert found[1].published_on == date(2026, 10, 20) and found[2].notice_id is None


def _periodic_item(conn, created="2026-06-15T00:00:00Z"):
    return conn.execute(
        "INSERT INTO village_item(jurisdiction_code, category, title, time_limit_text, frequency, status, created_at) "
        "VALUES (?, '村级财务', '测试村级财务收支明细', '每月10日前公开上月收支', '每月', 'published', ?)",
        (VILLAGE, created)).lastrowid


def test_a_village_that_skips_a_month_is_listed(conn):
    item = _periodic_item(conn)
    today = date(2026, 12, 3)
    for month in (6, 7, 8, 9, 11):       # October's accounts never published
        conn.execute("INSERT INTO notice(jurisdiction_code, subject_code, village_item_id, kind, title, status, "
                     "formed_on, published_at) VALUES (?, ?, ?, '公示', ?, 'published', ?, ?)",
                     (VILLAGE, VILLAGE, item, f"{month}月收支", f"2026-{month:02d}-28",
                      f"2026-{month + 1:02d}-05T01:00:00Z"))
    missing = [r for r in dc.overdue(conn, [VILLAGE], today) if r["id"] == item]
    assert [r["period"].label for r in missing] == ["2026年10月"]
    assert missing[0]["period"].deadline == date(2026, 11, 10)
    counts = dc.timeliness(conn, [VILLAGE], today)
    assert counts["missing"] >= 1 and counts["done"] >= 5
    checklist = [r for r in dc.due_this_month(conn, [VILLAGE], today) if r["id"] == item]
    assert [(r["period"].label, r["period"].status) for r in checklist] == [
        ("2026年10月", "missing"), ("2026年11月", "done")]


def test_periods_before_the_item_existed_are_not_owed(conn):
    item = _periodic_item(conn, created="2026-11-20T00:00:00Z")
    labels = [r["period"].label for r in dc.overdue(conn, [VILLAGE], date(2026, 12, 3)) if r["id"] == item]
    assert labels == []


def test_village_dashboard_shows_this_months_checklist(app, client, conn):
    app.config["TODAY"] = "2026-12-03"
    _periodic_item(conn)
    login(client, "village-editor")
    page = client.get("/admin/").get_data(as_text=True)
    assert "本月应公开" in page and "测试村级财务收支明细" in page and "应公开未公开" in page


def test_township_sees_the_overdue_list(app, client, conn):
    app.config["TODAY"] = "2026-12-03"
    _periodic_item(conn)
    login(client, "township-editor")
    assert "项定期公开已过公开时限仍未公开" in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/due").get_data(as_text=True)
    assert "测试村级财务收支明细" in page and "杏花村" in page and "2026年11月" in page
    add_user(conn, "far-editor", "village_editor", "340499001001")
    far = app.test_client()
    login(far, "far-editor", PASSWORD)
    assert "测试村级财务收支明细" not in far.get("/admin/due").get_data(as_text=True)


def test_a_skipped_month_reaches_the_county_group(conn):
    item = _periodic_item(conn)
    conn.execute("INSERT INTO notify_channel(kind, target, jurisdiction_code) VALUES ('wecom', 'https://x.example/h', '340499000000')")
    now = datetime(2026, 12, 3, 2, tzinfo=timezone.utc)
    assert notify_events.disclosures_missing(conn, date(2026, 12, 3), now) == 5     # June to October
    titles = [r[0] for r in conn.execute("SELECT title FROM notification WHERE event = 'disclosure_due'")]
    assert "杏花村「测试村级财务收支明细」2026年10月应公开未公开" in titles
    assert not any("2026年11月" in t for t in titles)     # due on 10 December: not yet
    assert notify_events.disclosures_missing(conn, date(2026, 12, 3), now) == 0
    assert conn.execute("SELECT count(*) FROM notify_delivery").fetchone()[0] == len(titles)


def test_the_assessment_counts_missing_periods(conn):
    from content import assessment as a
    item = _periodic_item(conn)
    conn.execute("INSERT INTO notice(jurisdiction_code, subject_code, village_item_id, kind, title, status, "
                 "formed_on, published_at) VALUES (?, ?, ?, '公示', '9月收支', 'published', '2026-09-30', "
                 "'2026-10-15T01:00:00Z')", (VILLAGE, VILLAGE, item))
    report = a.build(conn, a.scope_of(conn, "340499100000"), a.Period(date(2026, 7, 1), date(2026, 11, 30)),
                     date(2026, 12, 3))
    tables = {t.key: t for t in a.tables(report)}
    rows = [r for r in tables["periodic_missing"].rows if r[1] == "测试村级财务收支明细"]
    assert [(r[2], r[4][:6]) for r in rows] == [
        ("2026年6月", "应公开未公开"), ("2026年7月", "应公开未公开"), ("2026年8月", "应公开未公开"),
        ("2026年10月", "应公开未公开"), ("2026年9月", "逾期公开（2")]
    village = next(r for r in tables["periodic"].rows if r[0] == "村级")
    assert village[4] >= 4 and village[3] >= 1
