"""The holiday calendar kept by staff (content.holidays): parsing, the arithmetic across a year
boundary with and without a calendar, Spring Festival 2027 once entered, pages, CLI and sync."""
from __future__ import annotations

import re
from datetime import date

import pytest

from content import applications, holidays, timelimits
from content.timelimits import StaffCalendar, add_workdays, is_workday, provisional_years

from admin_util import login
from test_citizen import GOOD, apply_ok, post

# The 2027 schedule the tests enter (written here, as staff would type it from the State
# Council's notice): 元旦 1 January, 春节 5–11 February with two worked weekend days.
SCHEDULE_2027 = """日期, 类型, 节日
2027-01-01, 休, 元旦
2027-02-05..2027-02-11, 休, 春节
2027-02-14, 班, 春节
2027-02-20, 班, 春节
"""


@pytest.fixture(autouse=True)
def no_staff_calendar():
    """Each test starts from the library alone, whatever an earlier test installed."""
    token = timelimits.use_calendar(None)
    yield
    timelimits.reset_calendar(token)


def schedule_2027() -> holidays.Schedule:
    return holidays.parse(holidays.rows_from_text(SCHEDULE_2027))


def use(schedule: holidays.Schedule) -> None:
    timelimits.use_calendar(StaffCalendar(frozenset({schedule.year}),
                                          {d: k == "workday" for d, k in schedule.days.items()}))


# ---------------------------------------------------------------- parsing

def test_parse_ranges_kinds_and_names():
    s = schedule_2027()
    assert s.year == 2027
    assert [d for d, k in s.days.items() if k == "holiday"] == [
        date(2027, 1, 1), *(date(2027, 2, d) for d in range(5, 12))]
    assert {d for d, k in s.days.items() if k == "workday"} == {date(2027, 2, 14), date(2027, 2, 20)}
    assert s.names[date(2027, 2, 8)] == "春节"
    assert s.summary() == "2027年：放假 8 天，调休上班 2 天"


def test_parse_accepts_chinese_dates_and_words_separated_by_spaces():
    s = holidays.parse(holidays.rows_from_text("2027年10月1日 至 2027年10月7日 放假 国庆节\n"
                                               "2027/9/26 上班 国庆节"))
    assert len(s.days) == 8 and s.days[date(2027, 9, 26)] == "workday"
    assert s.names[date(2027, 10, 3)] == "国庆节"


@pytest.mark.parametrize("text,message", [
    ("2027-02-31, 休, 春节", "第 1 行：日期“2027-02-31”无法识别"),
    ("2027-02-05, 休\n2027-02-10, 班, 春节", "第 2 行：2027-02-10 是星期三，调休上班日应为星期六或星期日"),
    ("2027-02-05, 歇", "第 1 行：类型“歇”无法识别"),
    ("2027-02-13, 休\n2027-02-13, 班", "第 2 行：2027-02-13 在第 1 行已写为放假"),
    ("2027-02-11..2027-02-05, 休", "结束日期 2027-02-05 早于开始日期 2027-02-11"),
    ("2027-02-20, 班", "没有读到任何放假日期"),
])
def test_bad_lines_are_refused_with_their_line_number(text, message):
    with pytest.raises(holidays.CalendarError) as e:
        holidays.parse(holidays.rows_from_text(text))
    assert any(message in m for m in e.value.errors), e.value.errors


def test_days_outside_the_schedule_year_are_refused():
    with pytest.raises(holidays.CalendarError) as e:
        holidays.parse(holidays.rows_from_text("2027-02-05, 休\n2028-01-01, 休"), year=2027)
    assert "2028-01-01 不属于2027年的节假日安排" in e.value.errors[0]
    # New Year may start on 30 December of the year before.
    assert holidays.parse(holidays.rows_from_text("2026-12-31..2027-01-01, 休, 元旦"), year=2027).year == 2027


def test_xlsx_with_a_header_row():
    from io import BytesIO

    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(["日期", "类型", "节日"])
    ws.append([date(2027, 2, 5), "休", "春节"])
    ws.append(["2027-02-06..2027-02-11", "休", "春节"])
    ws.append([date(2027, 2, 14), "班", "春节"])
    buf = BytesIO()
    wb.save(buf)
    s = holidays.parse(holidays.rows_from_file(buf.getvalue(), "2027.xlsx"))
    assert len(s.days) == 8 and s.days[date(2027, 2, 14)] == "workday"


def test_gbk_csv():
    s = holidays.parse(holidays.rows_from_file(SCHEDULE_2027.encode("gbk"), "2027.csv"))
    assert s.year == 2027 and len(s.days) == 10


# ---------------------------------------------------------------- arithmetic

def test_library_ends_in_2026():
    """What the rest of these tests rely on: the built-in calendar lacks 2027."""
    assert timelimits.library_covers(2026) and not timelimits.library_covers(2027)


def test_year_boundary_without_a_calendar_is_provisional():
    # 20 working days from Sunday 2026-12-20: 2026 from the library, 2027 Monday to Friday,
    # so New Year's Day (a Friday) is counted as a working day.
    due = add_workdays(date(2026, 12, 20), 20)
    assert due == date(2027, 1, 15)
    assert is_workday(date(2027, 1, 1))
    assert provisional_years(date(2026, 12, 20), due) == [2027]
    assert provisional_years(date(2026, 3, 2), date(2026, 4, 1)) == []
    assert holidays.provisional_note(date(2026, 12, 20), due).startswith("暂按周一至周五计算（2027年")
    assert holidays.provisional_note("2026-03-02", "2026-04-01") == ""


def test_year_boundary_with_the_calendar_entered():
    use(schedule_2027())
    assert not is_workday(date(2027, 1, 1))
    # The same 20 working days now skip New Year's Day.
    assert add_workdays(date(2026, 12, 20), 20) == date(2027, 1, 18)
    assert provisional_years(date(2026, 12, 20), date(2027, 1, 18)) == []


def test_spring_festival_2027_once_the_schedule_is_entered():
    received = date(2027, 1, 29)                     # a Friday, the week before the holiday
    # Without a calendar: four plain weeks, Monday to Friday.
    assert applications.due_date(received) == date(2027, 2, 26)
    use(schedule_2027())
    # Working days: 02-01..04 (4), 02-12 (5), the worked Sunday 02-14 (6), 02-15..19 (11),
    # the worked Saturday 02-20 (12), 02-22..26 (17), 03-01..03 (20).
    assert applications.due_date(received) == date(2027, 3, 3)
    assert [is_workday(date(2027, 2, d)) for d in (5, 11, 12, 13, 14, 20, 21)] == [
        False, False, True, False, True, True, False]
    assert timelimits.workdays_between(received, date(2027, 3, 3)) == 20


def test_the_staff_calendar_wins_over_the_library():
    # 2025-03-03 is an ordinary Monday in the library; a schedule entered for 2025 decides it.
    assert is_workday(date(2025, 3, 3)) and not is_workday(date(2025, 1, 29))
    timelimits.use_calendar(StaffCalendar(frozenset({2025}), {date(2025, 3, 3): False}))
    assert not is_workday(date(2025, 3, 3))
    # Days the entered schedule does not list are Monday to Friday, not the library's holidays.
    assert is_workday(date(2025, 1, 29))


# ---------------------------------------------------------------- database and pages

def test_saved_schedule_is_loaded_and_replaced_whole(conn):
    holidays.import_schedule(conn, holidays.rows_from_text(SCHEDULE_2027), source="国办发明电〔2026〕7号")
    cal = holidays.load(conn)
    assert cal.years == {2027} and cal.days[date(2027, 2, 14)] is True
    holidays.import_schedule(conn, holidays.rows_from_text("2027-02-05..2027-02-07, 休, 春节"))
    assert holidays.load(conn).days == {date(2027, 2, d): False for d in (5, 6, 7)}
    audit = conn.execute("SELECT * FROM audit_log WHERE action = 'holidays' ORDER BY id").fetchall()
    assert len(audit) == 2 and audit[0]["before"] is None and "2027-02-14" in audit[1]["before"]
    with pytest.raises(holidays.CalendarError):
        holidays.import_schedule(conn, holidays.rows_from_text("2027-02-05, 班"))
    assert len(holidays.load(conn).days) == 3           # the refused list wrote nothing


def test_receipt_marks_a_provisional_due_date_until_the_schedule_is_entered(app, client, conn):
    app.config["TODAY"] = "2027-01-29"
    receipt = apply_ok(client)
    html = client.get("/apply/receipt").get_data(as_text=True)
    assert "2027-02-26" in html and "暂按周一至周五计算" in html
    status = post(client, "/apply/status", {"receipt": receipt, "tail": GOOD["phone"][-4:]},
                  page="/apply/status").get_data(as_text=True)
    assert "2027-02-26" in status and "暂按周一至周五计算" in status

    # A county administrator enters the 2027 schedule in the admin.
    token = login(client, "county-admin")
    r = client.post("/admin/holidays/", data={"csrf_token": token, "year": "2027",
                                              "source": "国办发明电〔2026〕7号", "text": SCHEDULE_2027})
    assert r.status_code == 303, r.get_data(as_text=True)[:1000]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已录入 2027年：放假 8 天，调休上班 2 天" in page and "重新计算 1 件" in page
    row = applications.get_by_receipt(conn, receipt)
    assert row["due_on"] == "2027-03-03"                 # recounted over Spring Festival
    status = post(client, "/apply/status", {"receipt": receipt, "tail": GOOD["phone"][-4:]},
                  page="/apply/status").get_data(as_text=True)
    assert "2027-03-03" in status and "暂按周一至周五计算" not in status
    admin_page = client.get(f"/admin/applications/{row['uuid']}").get_data(as_text=True)
    assert "2027-03-03" in admin_page and "暂按周一至周五计算" not in admin_page


def test_admin_application_pages_mark_provisional_due_dates(app, client, conn):
    app.config["TODAY"] = "2026-12-28"
    receipt = apply_ok(client)
    row = applications.get_by_receipt(conn, receipt)
    login(client, "county-admin")
    detail = client.get(f"/admin/applications/{row['uuid']}").get_data(as_text=True)
    assert "暂按周一至周五计算（2027年节假日安排尚未录入" in detail
    listing = client.get("/admin/applications/").get_data(as_text=True)
    assert re.search(rf"{receipt}.*?暂按周一至周五计算", listing, re.S)


def test_admin_refuses_bad_lists_and_other_roles(client, conn):
    token = login(client, "county-admin")
    r = client.post("/admin/holidays/", data={"csrf_token": token, "text": "2027-02-10, 班"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "没有写入任何内容" in html and "第 1 行：2027-02-10 是星期三" in html
    assert conn.execute("SELECT count(*) FROM holiday_day").fetchone()[0] == 0
    client.post("/admin/logout", data={"csrf_token": token})
    token = login(client, "township-editor")
    assert client.get("/admin/holidays/").status_code == 200          # may look
    r = client.post("/admin/holidays/", data={"csrf_token": token, "text": SCHEDULE_2027})
    assert r.status_code == 403
    assert conn.execute("SELECT count(*) FROM holiday_year").fetchone()[0] == 0


def test_overview_shows_which_years_are_missing(app, client):
    app.config["TODAY"] = "2026-12-03"
    login(client, "county-admin")
    html = client.get("/admin/holidays/").get_data(as_text=True)
    assert re.search(r"2027（明年）</td>\s*<td><strong class=\"late\">缺少", html)
    assert re.search(r"2026</td>\s*<td>使用内置日历", html)


def test_assessment_dashboard_flags_provisional_deadlines(app, client):
    app.config["TODAY"] = "2027-01-20"
    apply_ok(client)
    login(client, "county-admin")
    html = client.get("/admin/assessment/?from=2026-01-01&to=2027-01-20").get_data(as_text=True)
    assert "2027年的节假日安排尚未录入" in html and "暂按周一至周五计算" in html


# ---------------------------------------------------------------- command line

def test_cli_import_show_and_refusal(tmp_path, data_dir):
    from click.testing import CliRunner

    from kiosk.cli import main
    runner = CliRunner()
    good = tmp_path / "2027.csv"
    good.write_text(SCHEDULE_2027, encoding="utf-8")
    r = runner.invoke(main, ["holidays", "import", str(good), "--data-dir", str(data_dir),
                             "--source", "国办发明电〔2026〕7号"])
    assert r.exit_code == 0, r.output
    assert "已录入 2027年：放假 8 天，调休上班 2 天" in r.output
    r = runner.invoke(main, ["holidays", "show", "2027", "--data-dir", str(data_dir)])
    assert r.exit_code == 0 and "2027年：已录入" in r.output
    assert "2027-02-14  星期日  调休上班  春节" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("2027-02-05, 休\n2027-02-10, 班\n", encoding="utf-8")
    r = runner.invoke(main, ["holidays", "import", str(bad), "--data-dir", str(data_dir)])
    assert r.exit_code != 0 and "第 2 行：2027-02-10 是星期三" in r.output
    r = runner.invoke(main, ["holidays", "show", "2028", "--data-dir", str(data_dir)])
    assert "2028年：缺少，暂按周一至周五计算" in r.output
    r = runner.invoke(main, ["holidays", "import", "-", "--data-dir", str(data_dir), "--year", "2028"],
                      input="2028-01-01, 休, 元旦\n")
    assert r.exit_code == 0 and "2028年：放假 1 天" in r.output


def test_timeliness_marks_only_working_day_limits_as_provisional(conn):
    from content import assessment as a
    county = "340499000000"
    village = conn.execute("SELECT id, jurisdiction_code FROM village_item LIMIT 1").fetchone()
    conn.execute("UPDATE village_item SET time_limit_text = '每季度', time_limit = ? WHERE id = ?",
                 ('{"rule": "quarterly"}', village["id"]))
    for title, item in (("按工作日计算的公示", None), ("按季度公开的公示", village["id"])):
        code = county if item is None else village["jurisdiction_code"]
        conn.execute("INSERT INTO notice(jurisdiction_code, subject_code, village_item_id, title, formed_on, "
                     "status) VALUES (?, ?, ?, ?, '2026-12-28', 'draft')", (code, code, item, title))
    scope = a.scope_of(conn, county)
    report = a.timeliness(conn, scope, a.Period(date(2026, 12, 1), date(2026, 12, 31)), date(2027, 1, 5))
    marks = {r.title: r.provisional for r in report.records if r.title.startswith("按")}
    assert marks == {"按工作日计算的公示": True, "按季度公开的公示": False}
    timelimits.use_calendar(StaffCalendar(frozenset({2027}), {}))
    report = a.timeliness(conn, scope, a.Period(date(2026, 12, 1), date(2026, 12, 31)), date(2027, 1, 5))
    assert not any(r.provisional for r in report.records)


# The 2025 notice (国办发明电〔2024〕12号) as staff would paste it: it must give exactly the
# days the library has for 2025.
NOTICE_2025 = """一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
三、清明节：4月4日（周五）至6日（周日）放假，共3天。
四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。"""


def test_the_notice_text_pasted_as_it_is_matches_the_library():
    s = holidays.parse(holidays.rows_from_text(NOTICE_2025), year=2025)
    off = {d for d, k in s.days.items() if k == "holiday"}
    worked = {d for d, k in s.days.items() if k == "workday"}
    assert worked == {date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28),
                      date(2025, 10, 11)}
    assert s.names[date(2025, 10, 5)] == "国庆节、中秋节"
    d = date(2025, 1, 1)
    while d.year == 2025:
        # Every day the library says is a working day or not, the pasted notice says too.
        mine = (d in worked) or (d not in off and d.weekday() < 5)
        assert mine == timelimits._library_workday(d), d
        d = d.fromordinal(d.toordinal() + 1)


def test_notice_text_needs_the_year_and_crosses_new_year():
    with pytest.raises(holidays.CalendarError) as e:
        holidays.parse(holidays.rows_from_text("一、元旦：1月1日放假1天。"))
    assert "请先填写是哪一年的安排" in e.value.errors[0]
    s = holidays.parse(holidays.rows_from_text("一、元旦：12月30日（周六）至1月1日（周一）放假调休，共3天。"
                                               "12月24日（周日）上班。"), year=2024)
    assert sorted(s.days) == [date(2023, 12, 24), date(2023, 12, 30), date(2023, 12, 31), date(2024, 1, 1)]
    assert s.days[date(2023, 12, 24)] == "workday"
