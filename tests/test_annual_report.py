"""The 依申请 tables of the 年度报告: per organ's jurisdiction and year, on the page, the dashboard, in .xlsx."""
from __future__ import annotations

import io

import openpyxl

from content import annual_report

from admin_util import login

COUNTY = "340499000000"
DONGHU = "340499100000"
XINGHUA = "340499100201"


def application(conn, no, received, organ=COUNTY, dept="", home=COUNTY, applicant="自然人", subtype="",
                outcome="", reason="", replied=None, archived=None):
    conn.execute(
        "INSERT INTO application(uuid, receipt_no, jurisdiction_code, organ_code, organ_dept, applicant_type, "
        "applicant_subtype, name, phone, description, stage, outcome, outcome_reason, received_on, clock_start, "
        "replied_on, archived_on) VALUES (?, ?, ?, ?, ?, ?, ?, '申请人', '13800000000', '某信息', ?, ?, ?, ?, ?, ?, ?)",
        (f"u{no}", f"R{no}", home, organ, dept, applicant, subtype,
         "归档" if archived else "答复" if replied else "办理", outcome, reason, received, received, replied, archived))


def appeal(conn, no, kind, filed, result="尚未审结", decided=None, after_review=0):
    conn.execute("INSERT INTO application_appeal(application_uuid, kind, after_review, filed_on, result, decided_on) "
                 "VALUES (?, ?, ?, ?, ?, ?)", (f"u{no}", kind, after_review, filed, result, decided))


def seed(conn):
    application(conn, 1, "2024-12-20", outcome="予以公开", replied="2025-01-10")           # carried in, answered
    application(conn, 2, "2024-11-01", outcome="予以公开", replied="2024-12-01")           # last year's
    application(conn, 3, "2025-03-01", outcome="不予公开", reason="属于国家秘密", replied="2025-03-20")
    application(conn, 4, "2025-12-20", applicant="法人或其他组织", subtype="商业企业")     # carried out
    application(conn, 5, "2025-05-01", outcome="其他处理", reason="申请人无正当理由逾期不补正，视为放弃申请",
                archived="2025-05-20")
    application(conn, 6, "2025-06-01", organ=DONGHU)                                          # the township's
    application(conn, 7, "2025-07-01", organ="", home=XINGHUA, outcome="部分公开", replied="2025-07-20")
    application(conn, 8, "2025-12-10", dept="县财政局", outcome="部分公开", replied="2026-01-05")
    appeal(conn, 3, "行政复议", "2025-04-01", "维持", "2025-05-01")
    appeal(conn, 3, "行政诉讼", "2025-06-01", "纠正（撤销、变更、责令履行）", "2026-02-01", after_review=1)
    appeal(conn, 1, "行政诉讼", "2025-02-01", "确认违法", "2025-03-01")
    conn.commit()


def rows(report):
    return dict(report["results"])


def test_the_year_adds_up(conn):
    seed(conn)
    r = annual_report.compute(conn, COUNTY, 2025)
    assert r["new"]["总计"] == 4 and r["new"]["自然人"] == 3 and r["new"]["商业企业"] == 1
    assert r["carried_in"]["总计"] == 1
    assert r["total"]["总计"] == 3
    assert r["carried_out"]["总计"] == 2
    assert r["new"]["总计"] + r["carried_in"]["总计"] == r["total"]["总计"] + r["carried_out"]["总计"]
    res = rows(r)
    assert res["（一）予以公开"]["总计"] == 1
    assert res["（三）不予公开"]["总计"] == 1 and res["1.属于国家秘密"]["总计"] == 1
    assert res["（六）其他处理"]["总计"] == 1 and res[f"1.{annual_report.OTHER_REASONS[0]}"]["总计"] == 1
    assert r["appeals"]["行政复议"] == {"结果维持": 1, "结果纠正": 0, "其他结果": 0, "尚未审结": 0, "总计": 1}
    assert r["appeals"]["复议后起诉"]["尚未审结"] == 1            # decided only in 2026
    assert r["appeals"]["未经复议直接起诉"]["结果纠正"] == 1       # 确认违法 counts as 纠正
    # Next year carries over what this year left.
    nxt = annual_report.compute(conn, COUNTY, 2026)
    assert nxt["carried_in"]["总计"] == 2 and nxt["total"]["总计"] == 1 and nxt["carried_out"]["总计"] == 1
    assert nxt["appeals"]["复议后起诉"]["结果纠正"] == 0            # filed in 2025: that year's table
    # One department alone; the township (with an old application made at its village).
    assert annual_report.compute(conn, COUNTY, 2025, "县财政局")["new"]["总计"] == 1
    town = annual_report.compute(conn, DONGHU, 2025)
    assert town["new"]["总计"] == 2 and rows(town)["（二）部分公开（区分处理的，只计这一情形，不计其他情形）"]["总计"] == 1


def test_page_dashboard_and_workbook(app, conn):
    seed(conn)
    staff = app.test_client()
    login(staff, "county-admin")
    html = staff.get("/admin/applications/annual-report?year=2025").get_data(as_text=True)
    assert "收到和处理政府信息公开申请情况（2025年）" in html and "行政复议" in html
    dash = staff.get("/admin/assessment/?from=2025-01-01&to=2025-12-31").get_data(as_text=True)
    assert "年度报告 · 依申请公开（淮川县，2025年）" in dash
    every = staff.get(f"/admin/applications/annual-report?code={COUNTY}&year=2025&dept=&format=xlsx").data
    one = staff.get(f"/admin/applications/annual-report?code={COUNTY}&year=2025&dept=县财政局&format=xlsx").data
    assert openpyxl.load_workbook(io.BytesIO(every)).worksheets[0]["H4"].value == 4     # the whole county
    assert openpyxl.load_workbook(io.BytesIO(one)).worksheets[0]["H4"].value == 1       # one department
    r = staff.get(f"/admin/applications/annual-report?code={COUNTY}&year=2025&format=xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    ws = book.worksheets[0]
    by_label = {row[0]: row[1:] for row in ws.iter_rows(min_row=4, values_only=True) if row[0]}
    assert by_label["一、本年新收政府信息公开申请数量"][-1] == 4
    assert by_label["二、上年结转政府信息公开申请数量"][-1] == 1
    assert by_label["（七）总计"][-1] == 3 and by_label["四、结转下年度继续办理"][-1] == 2
    appeals = list(book.worksheets[1].iter_rows(min_row=5, values_only=True))[0]
    assert appeals[:5] == (1, 0, 0, 0, 1)
    # A township editor gets its own township's tables, never the county's.
    town = app.test_client()
    login(town, "township-editor")
    assert "东湖镇" in town.get("/admin/applications/annual-report?year=2025").get_data(as_text=True)
    assert town.get(f"/admin/applications/annual-report?code={COUNTY}").status_code == 404
