"""content.assessment_answers: received, answered on time, overdue and upheld, per place and kind,
and the tables on the assessment dashboard."""
from __future__ import annotations

from datetime import date, timedelta

from content import assessment, assessment_answers
from content import resident_questions as rq

from admin_util import login
from test_resident_questions import VILLAGE, ask, village_notice

TOWNSHIP = "340499100000"


def _records(conn):
    today = date.today()
    editor = conn.execute("SELECT * FROM user WHERE username = 'village-editor'").fetchone()
    village = rq.target(conn, "village", VILLAGE)
    on_time = ask(conn, village, kind="village_query", on=today - timedelta(days=2))
    rq.answer(conn, on_time["uuid"], editor, "已答复", "private", today)
    late = ask(conn, village, kind="village_query", on=today - timedelta(days=40))
    rq.answer(conn, late["uuid"], editor, "晚了", "private", today)
    ask(conn, village, kind="village_query", on=today - timedelta(days=30))         # open, overdue
    objection = ask(conn, rq.target(conn, "notice", village_notice(conn, today)))
    rq.answer(conn, objection["uuid"], editor, "成立", "private", today, upheld=True)
    return today


def test_counts(conn):
    today = _records(conn)
    scope = assessment.scope_of(conn, TOWNSHIP)
    by_group, by_kind, total = assessment_answers.counts(conn, scope.codes, scope.group,
                                                          today - timedelta(days=60), today, today)
    assert (total.received, total.answered, total.on_time, total.late, total.open_overdue) == (4, 3, 2, 2, 1)
    assert (total.objections, total.upheld) == (1, 1)
    assert total.rate == 0.5
    assert by_kind["village_query"].received == 3 and by_kind["service_query"].received == 0
    assert by_group[VILLAGE].received == 4
    # A period that starts later leaves the older records out.
    _, _, recent = assessment_answers.counts(conn, scope.codes, scope.group, today - timedelta(days=5), today, today)
    assert recent.received == 2


def test_dashboard_shows_and_exports_the_tables(client, conn):
    _records(conn)
    conn.commit()
    login(client, "county-admin")
    page = client.get("/admin/assessment/?code=" + TOWNSHIP).get_data(as_text=True)
    assert "异议和提问答复情况" in page and "异议和提问按类别" in page
    scope = assessment.scope_of(conn, TOWNSHIP)
    report = assessment.build(conn, scope, assessment.Period(date.today() - timedelta(days=60), date.today()),
                              date.today())
    table = next(t for t in assessment.tables(report) if t.key == "answers")
    assert table.rows[-1][:6] == ["合计", 4, 3, 2, 2, 1]
