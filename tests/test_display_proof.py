"""公示留痕: boards' reports, the terminal's buffer and its upstream records, the hub's counts,
coverage over a 公示期 with a board stopped for a day, the 公示证明, the fleet page, the alert."""
from __future__ import annotations

import io
import json
from datetime import date, datetime, time, timedelta, timezone

import pytest
from openpyxl import load_workbook

from content import display_proof as dp
from content import notify_events, outbox
from kiosk import create_app

from admin_util import login

VILLAGE = "340499100201"
BOARD = "xinghuacun"
CST = dp.CHINA


def _report(client, hours, slug=BOARD, addr="127.0.0.1"):
    return client.post(f"/display/{slug}/shown", json={"hours": hours}, environ_base={"REMOTE_ADDR": addr})


def _hour(day: date, h: int) -> str:
    return dp.hour_key(datetime.combine(day, time(h), CST))


def _notice(conn, start="2026-11-20", end="2026-11-26", title="杏花村2026年低保对象名单公示"):
    return conn.execute(
        "INSERT INTO notice(jurisdiction_code, subject_code, kind, title, publisher, status, published_at, "
        "period_start, period_end) VALUES (?, ?, '公示', ?, '杏花村村民委员会', 'published', "
        "'2026-11-19T08:00:00Z', ?, ?)", (VILLAGE, VILLAGE, title, start, end)).lastrowid


@pytest.mark.parametrize("hours, words", [
    ({"2026-12-03T99": {"1": [1, 1]}}, "时段无效"),
    ({"2026-02-30T01": {"1": [1, 1]}}, "时段无效"),
    ({"2020-12-03T24": {"1": [1, 1]}}, "时段无效"),
    ({"yesterday": {"1": [1, 1]}}, "时段无效"),
    ({"2026-12-03T01": {"x": [1, 1]}}, "编号"),
    ({"2026-12-03T01": {"1": [5, 6]}}, "显示秒数"),
    ({"2026-12-03T01": {"1": [3601, 0]}}, "显示秒数"),
    ({"2026-12-03T01": {"1": [-1, 0]}}, "显示秒数"),
    ({"2026-12-03T01": {"1": [True, 0]}}, "显示秒数"),
    ({"2099-01-01T00": {"1": [1, 1]}}, "时段无效"),
    ({f"2026-11-{d:02d}T{h:02d}": {} for d in range(1, 5) for h in range(24)}, "格式"),
])
def test_bad_reports_are_refused_and_nothing_is_kept(client, conn, hours, words):
    r = _report(client, hours)
    assert r.status_code == 400 and words in r.get_json()["error"]
    assert conn.execute("SELECT count(*) FROM display_report").fetchone()[0] == 0


def test_only_this_machine_may_report(client, conn):
    r = _report(client, {"2026-12-03T01": {"1": [10, 10]}}, addr="192.0.2.7")
    assert r.status_code == 403
    assert _report(client, {"2026-12-03T01": {"1": [10, 10]}}, slug="nosuchboard").status_code == 404
    assert conn.execute("SELECT count(*) FROM display_report").fetchone()[0] == 0


def test_a_standalone_keeps_its_boards_reports(client, conn):
    for _ in range(2):
        assert _report(client, {"2026-12-03T01": {"7": [30, 20]}}).status_code == 200
    assert _report(client, {"2026-12-03T05": {"7": [10, 0]}}).status_code == 200      # not seen: no bit
    row = conn.execute("SELECT * FROM display_report").fetchone()
    assert (row["terminal_id"], row["board_slug"], row["notice_id"], row["day"], row["shown"], row["visible"]) == \
        ("local", BOARD, 7, "2026-12-03", 70, 40)
    assert row["hours"] == 1 << 1


def test_a_terminal_sends_finished_hours_up_in_batches_and_late_seconds_as_the_difference(data_dir, conn):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "ROLE": "terminal", "SCOPE": VILLAGE,
                      "NOW": "2026-12-03T10:30:00+08:00"})          # 02:30 UTC
    client = app.test_client()
    assert _report(client, {"2026-12-03T00": {"7": [600, 600]}}).status_code == 200
    assert conn.execute("SELECT count(*) FROM outbox WHERE kind = 'display'").fetchone()[0] == 0   # waits
    app.config["NOW"] = "2026-12-03T11:30:00+08:00"                   # the 00 hour is three hours old
    assert _report(client, {"2026-12-03T01": {"7": [300, 300], "8": [100, 90]},
                            "2026-12-03T03": {"7": [100, 50]}}).status_code == 200
    rows = conn.execute("SELECT uuid, kind, payload FROM outbox WHERE kind = 'display'").fetchall()
    assert len(rows) == 1                               # one record: every finished hour (03 is not)
    payload = json.loads(rows[0]["payload"])
    assert payload == {"jurisdiction_code": VILLAGE, "reports": [
        {"board": BOARD, "hour": "2026-12-03T00", "notices": {"7": [600, 600]}},
        {"board": BOARD, "hour": "2026-12-03T01", "notices": {"7": [300, 300], "8": [100, 90]}}]}
    app.config["NOW"] = "2026-12-03T14:30:00+08:00"
    _report(client, {"2026-12-03T00": {"7": [60, 0]}})   # a late report of a finished hour
    rows = conn.execute("SELECT uuid, payload FROM outbox WHERE kind = 'display' ORDER BY id").fetchall()
    assert len(rows) == 2 and rows[0]["uuid"] != rows[1]["uuid"]
    reports = json.loads(rows[1]["payload"])["reports"]
    assert {"board": BOARD, "hour": "2026-12-03T00", "notices": {"7": [60, 0]}} in reports
    _report(client, {})                                   # nothing new: nothing queued
    assert conn.execute("SELECT count(*) FROM outbox WHERE kind = 'display'").fetchone()[0] == 2


def test_the_hub_adds_up_terminal_records(conn):
    now = datetime(2026, 12, 3, 3, tzinfo=timezone.utc)
    one = {"board": BOARD, "hour": "2026-12-03T01", "notices": {"7": [100, 90]}}
    for _ in range(2):
        dp.file_upstream(conn, "a" * 64, {"reports": [one]}, now)
    dp.file_upstream(conn, "a" * 64, {"reports": [{**one, "hour": "2026-12-03T02"}]}, now)
    row = conn.execute("SELECT shown, visible, hours FROM display_report").fetchone()
    assert tuple(row) == (300, 270, (1 << 1) | (1 << 2))
    for bad in ({"reports": [{**one, "board": "../x"}]}, {"reports": []}, {"reports": [one, {"hour": 5}]},
                {"board": BOARD, "hour": "2026-12-03T01", "notices": {}}):
        with pytest.raises(dp.BadReport):
            dp.file_upstream(conn, "a" * 64, bad, now)
    assert conn.execute("SELECT shown FROM display_report").fetchone()[0] == 300     # nothing half-kept


def _shown_days(conn, nid, days, skip_day=None, skip_hours=()):
    for day in days:
        if day == skip_day:
            continue
        for h in range(8, 20):
            if (day, h) in skip_hours:
                continue
            dp.add_hour(conn, "t", BOARD, nid, _hour(day, h), 40, 40)


@pytest.fixture
def stopped_board(conn):
    """A seven-day 公示 on 杏花村's board (on 08:00–20:00); the board was dark on the 22nd and
    missed 14:00–16:00 on the 24th."""
    conn.execute("UPDATE board SET windows = ? WHERE slug = ?",
                 (json.dumps([{"start": "08:00", "end": "20:00"}]), BOARD))
    nid = _notice(conn)
    days = [date(2026, 11, 20) + timedelta(days=i) for i in range(7)]
    _shown_days(conn, nid, days, skip_day=date(2026, 11, 22),
                skip_hours={(date(2026, 11, 24), 14), (date(2026, 11, 24), 15)})
    return nid


def test_coverage_finds_the_dark_day_and_the_gap(conn, stopped_board):
    cov = dp.coverage(conn, stopped_board, datetime(2026, 12, 3, 4, tzinfo=timezone.utc))
    assert cov.complete and len(cov.days) == 7
    board = next(b for b in cov.boards if b.slug == BOARD)
    assert board.short == 2 and not cov.fulfilled and cov.extension_days == 2
    assert date(2026, 11, 22) not in board.covered and date(2026, 11, 24) not in board.covered
    gaps = [(a.strftime("%m-%d %H:%M"), z.strftime("%H:%M")) for a, z in board.gaps]
    assert gaps == [("11-22 08:00", "20:00"), ("11-24 14:00", "16:00")]
    assert board.first_shown == datetime(2026, 11, 20, 8, tzinfo=CST)
    assert board.last_shown == datetime(2026, 11, 26, 20, tzinfo=CST)


def test_boards_that_never_reported_are_not_called_short(app, client, conn):
    nid = _notice(conn, title="公示栏从未上报的公示")
    cov = dp.coverage(conn, nid, datetime(2026, 12, 3, 4, tzinfo=timezone.utc))
    assert cov.boards and not cov.reporting
    app.config["NOW"] = "2026-12-03T12:00:00+08:00"
    login(client, "village-supervisor")
    page = client.get(f"/admin/proof/{nid}").get_data(as_text=True)
    assert "尚未上报任何显示记录" in page and "建议将公示期延长" not in page


def test_a_fully_shown_period_is_fulfilled(conn):
    nid = _notice(conn, title="全程显示的公示")
    _shown_days(conn, nid, [date(2026, 11, 20) + timedelta(days=i) for i in range(7)])
    conn.execute("UPDATE board SET windows = ? WHERE slug = ?",
                 (json.dumps([{"start": "08:00", "end": "20:00"}]), BOARD))
    cov = dp.coverage(conn, nid, datetime(2026, 12, 3, 4, tzinfo=timezone.utc))
    assert cov.fulfilled and cov.extension_days == 0


def test_the_certificate_page_and_workbook_show_the_gap(app, client, conn, stopped_board):
    app.config["NOW"] = "2026-12-03T12:00:00+08:00"
    login(client, "village-supervisor")
    listing = client.get("/admin/proof").get_data(as_text=True)
    assert "杏花村2026年低保对象名单公示" in listing and "缺 2 天" in listing
    page = client.get(f"/admin/proof/{stopped_board}").get_data(as_text=True)
    assert "公示证明" in page and "建议将公示期延长 2 天" in page
    assert "2026-11-22 08:00 – 20:00" in page and "2026-11-24 14:00 – 16:00" in page
    r = client.get(f"/admin/proof/{stopped_board}.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(r.data)).active
    cells = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "未完整显示，建议延长公示 2 天" in cells
    assert any(isinstance(c, str) and "11-22 08:00–20:00" in c for c in cells)


def test_others_cannot_see_a_villages_certificate(app, conn, stopped_board):
    from admin_util import PASSWORD, add_user
    add_user(conn, "far-supervisor", "village_supervisor", "340499001001")
    far = app.test_client()
    login(far, "far-supervisor", PASSWORD)
    assert far.get(f"/admin/proof/{stopped_board}").status_code == 404
    assert "低保对象名单" not in far.get("/admin/proof").get_data(as_text=True)


def test_fleet_page_shows_each_boards_last_confirmed_render(client, conn):
    dp.add_hour(conn, "t", BOARD, 1, "2026-12-03T01", 50, 50)
    login(client, "county-admin")
    page = client.get("/admin/fleet").get_data(as_text=True)
    assert "电子公示栏最近一次确认显示" in page and "2026-12-03 10:00" in page


def test_a_short_coverage_and_a_silent_board_are_told(conn, stopped_board):
    conn.execute("INSERT INTO notify_channel(kind, target, jurisdiction_code) VALUES ('wecom', 'https://x.example/h', ?)",
                 ("340499000000",))
    now = datetime(2026, 12, 1, 4, tzinfo=timezone.utc)
    assert notify_events.coverage_short(conn, date(2026, 12, 1), now) >= 1
    assert notify_events.coverage_short(conn, date(2026, 12, 1), now) == 0
    titles = [r[0] for r in conn.execute("SELECT title FROM notification WHERE event = 'coverage_short'")]
    assert "杏花村公示「杏花村2026年低保对象名单公示」屏幕显示不足" in titles
    # Boards that never report (proof of display not set up there) raise nothing.
    assert all("杏花村" in t for t in titles)
    assert notify_events.boards_silent(conn, now) == 1
    assert "已失联" in conn.execute("SELECT title FROM notification WHERE event = 'terminal_silent'").fetchone()[0]


def test_the_workbook_keeps_formula_like_text_as_text(app, client, conn, stopped_board):
    conn.execute("UPDATE board SET location = '=HYPERLINK(\"http://x\")' WHERE slug = ?", (BOARD,))
    app.config["NOW"] = "2026-12-03T12:00:00+08:00"
    login(client, "village-supervisor")
    ws = load_workbook(io.BytesIO(client.get(f"/admin/proof/{stopped_board}.xlsx").data)).active
    cells = [c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("http://x")']
    assert cells and all(c.data_type == "s" for c in cells)
