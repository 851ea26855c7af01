"""The holiday calendar staff enter at the hub travels in the bundles and counts on the terminal."""
from __future__ import annotations

from datetime import date

from content import holidays, timelimits
from kiosk import create_app
from sync import terminal

from conftest import VILLAGE, tconn

SCHEDULE_2027 = "2027-02-05..2027-02-11, 休, 春节\n2027-02-14, 班, 春节\n2027-02-20, 班, 春节\n"


def test_schedule_travels_to_the_terminal_and_wins_there(hub, term):
    assert terminal.sync_once(term).ok
    hconn = hub.conn()
    try:
        holidays.import_schedule(hconn, holidays.rows_from_text(SCHEDULE_2027), source="国办发明电")
    finally:
        hconn.close()
    before = hub.version(VILLAGE)
    results = hub.publish()
    assert results[VILLAGE]["changed"] and hub.version(VILLAGE) == before + 1
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    try:
        assert [tuple(r) for r in conn.execute("SELECT year, source FROM holiday_year")] == [(2027, "国办发明电")]
        assert conn.execute("SELECT count(*) FROM holiday_day").fetchone()[0] == 9
    finally:
        conn.close()
    # The terminal's own pages count on it: the first request of a resident.
    app = create_app({"DATA_DIR": str(term), "TESTING": True})
    with app.test_request_context("/"):
        app.preprocess_request()
        assert timelimits.add_workdays(date(2027, 1, 29), 20) == date(2027, 3, 3)
        assert timelimits.provisional_years(date(2027, 1, 29), date(2027, 3, 3)) == []
