"""The assessment dashboard on the demo county: scope per role, exports equal to the page."""
from __future__ import annotations

import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from content import assessment as a
from content import staff_sessions
from content.auth import password_fingerprint

COUNTY, DONGHU, LIULIN = "340499000000", "340499100000", "340499101000"
XINGHUA, QIAOTOU, LIULINCUN = "340499100201", "340499100202", "340499101201"


def login(client, conn, username):
    user = conn.execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
    with client.session_transaction() as s:
        s["user_id"] = user["id"]
        s["pw"] = password_fingerprint(user)
        s["sid"] = staff_sessions.start(conn, user["id"])
    return user


class Tables(HTMLParser):
    """Rows (cell texts) of every <table id="t-…"> on a page."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current = None
        self.row = None
        self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("t-"):
            self.current = self.tables.setdefault(attrs["id"][2:], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag == "td" and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.current = None
        elif tag == "tr" and self.row is not None:
            if self.row:
                self.current.append(self.row)
            self.row = None
        elif tag == "td" and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    p = Tables()
    p.feed(html)
    return p.tables


def sheet_rows(ws, columns: list[str]) -> list[list]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    start = rows.index(columns) + 1
    return rows[start:]


def test_signed_out_goes_to_login(client):
    r = client.get("/admin/assessment/")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    assert client.get("/admin/assessment/all.xlsx").status_code == 302


def test_county_admin_sees_every_figure_and_drills_down(client, conn):
    login(client, conn, "county-admin")
    r = client.get("/admin/assessment/?from=2026-01-01&to=2026-12-31")
    assert r.status_code == 200
    html = r.text
    for heading in ("公开覆盖", "公开时效", "县乡村公开内容一致性", "定期评估", "依申请公开", "群众评价",
                    "内容缺口", "查询机使用情况", "月度趋势"):
        assert f"<h2>{heading}" in html
    assert html.count("<svg class=\"chart\"") >= 6     # charts without data (ratings, views…) are left out
    assert " style=" not in html and "<script>" not in html      # CSP default-src 'self'
    tables = page_tables(html)
    assert [row[0] for row in tables["children"]] == ["淮川县（本级）", "城关街道", "东湖镇", "柳林乡"]
    # The drill-down link keeps the period.
    link = re.search(r'href="([^"]*code=%s[^"]*)"' % DONGHU, html).group(1).replace("&amp;", "&")
    assert "from=2026-01-01" in link and "to=2026-12-31" in link
    town = client.get(link)
    assert town.status_code == 200 and "公开工作评估 · 东湖镇" in town.text
    assert [row[0] for row in page_tables(town.text)["children"]] == ["东湖镇（本级）", "杏花村", "桥头村", "白塔村"]
    village = client.get(f"/admin/assessment/?code={XINGHUA}")
    assert village.status_code == 200 and "公开工作评估 · 杏花村" in village.text
    assert "children" not in page_tables(village.text)


@pytest.mark.parametrize("username, own, allowed, refused", [
    ("township-editor", DONGHU, [XINGHUA, QIAOTOU], [COUNTY, LIULIN, LIULINCUN]),
    ("village-editor", XINGHUA, [], [COUNTY, DONGHU, QIAOTOU]),
    ("village-supervisor", XINGHUA, [], [DONGHU, LIULINCUN]),
])
def test_each_role_sees_only_its_scope(client, conn, username, own, allowed, refused):
    login(client, conn, username)
    r = client.get("/admin/assessment/")
    assert r.status_code == 200
    name = conn.execute("SELECT name FROM jurisdiction WHERE code = ?", (own,)).fetchone()[0]
    assert f"公开工作评估 · {name}" in r.text
    for code in allowed:
        assert client.get(f"/admin/assessment/?code={code}").status_code == 200
    for code in refused:
        assert client.get(f"/admin/assessment/?code={code}").status_code == 404
        assert client.get(f"/admin/assessment/all.xlsx?code={code}").status_code == 404
    # Nothing from outside the scope appears in the export either.
    wb = load_workbook(io.BytesIO(client.get("/admin/assessment/all.xlsx").data))
    text = " ".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v)
    outside = [j["name"] for j in conn.execute(
        "SELECT name FROM jurisdiction WHERE code IN ('340499101000', '340499101201', '340499101202', "
        "'340499001000', '340499001001')")]
    assert not [n for n in outside if n in text]
    # The county-wide search gaps are not shown below the county.
    assert "只在县级汇总查看" in r.text


def test_exports_hold_the_numbers_of_the_page(client, conn):
    login(client, conn, "county-admin")
    query = "from=2026-01-01&to=2026-12-31"
    html = client.get(f"/admin/assessment/?{query}").text
    tables = page_tables(html)
    r = client.get(f"/admin/assessment/all.xlsx?{query}")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.data))
    report = a.build(conn, a.scope_of(conn, COUNTY), a.Period(date(2026, 1, 1), date(2026, 12, 31)),
                     date.today())
    report_tables = {t.key: t for t in a.tables(report)}
    assert len(wb.sheetnames) == len(tables) == len(report_tables)
    compared = 0
    for key, t in report_tables.items():
        ws = wb[wb.sheetnames[list(report_tables).index(key)]]
        assert ws["A1"].value == t.title
        got = sheet_rows(ws, t.columns)
        on_page = tables[key] if t.rows else []
        assert len(got) == len(on_page), key
        for row_x, row_p in zip(got, on_page):
            # An empty Excel cell stands for the page's blank or dash ("no value").
            page = [("" if c == "—" else c) for c in row_p]
            assert [("" if v is None else a.fmt(v, i in t.percent).strip()) for i, v in enumerate(row_x)] == page, key
            compared += 1
    assert compared > 100
    # One table alone.
    one = load_workbook(io.BytesIO(client.get(f"/admin/assessment/coverage.xlsx?{query}").data))
    assert len(one.sheetnames) == 1
    cov = report_tables["coverage"]
    assert sheet_rows(one.active, cov.columns)[-1][2:5] == cov.rows[-1][2:5]
    assert client.get("/admin/assessment/nothing.xlsx").status_code == 404


def test_bad_dates_get_a_clear_message(client, conn):
    login(client, conn, "county-admin")
    r = client.get("/admin/assessment/?from=2026-13-01&to=abc")
    assert r.status_code == 200
    assert "开始日期“2026-13-01”格式不正确" in r.text and "结束日期“abc”格式不正确" in r.text
    r = client.get("/admin/assessment/?from=2026-06-01&to=2026-01-01")
    assert "开始日期不能晚于结束日期" in r.text
    assert client.get("/admin/assessment/?code=12345").status_code == 404
    assert client.get("/admin/assessment/?code=999999999999").status_code == 404


def test_print_page_is_a4_and_complete(client, conn, app):
    login(client, conn, "county-admin")
    r = client.get("/admin/assessment/print?from=2026-01-01&to=2026-12-31")
    assert r.status_code == 200
    assert "assessment.css" in r.text and "<details" not in r.text     # nothing folded away
    assert "导出 Excel" not in r.text and " style=" not in r.text
    css = client.get("/admin/static/assessment.css").text
    assert "size: A4" in css and "@media print" in css
    assert len(page_tables(r.text)) == len(page_tables(client.get(
        "/admin/assessment/?from=2026-01-01&to=2026-12-31").text))


def test_admin_navigation_links_the_assessment(client, conn):
    login(client, conn, "county-admin")
    assert 'href="/admin/assessment/"' in client.get("/admin/").text


def test_demo_activity_fills_every_figure(client, conn, data_dir):
    from content.demo_activity import add_to_instance
    login(client, conn, "county-admin")
    before = page_tables(client.get("/admin/assessment/").text)
    assert before["satisfaction"] == [["合计", "0", "0", "0", "0", "—"]]
    add_to_instance(data_dir / "kiosk.sqlite3")
    html = client.get("/admin/assessment/").text
    kpis = re.findall(r'<strong>([^<]*)</strong>', html.split('class="kpis"')[1].split("</section>")[0])
    assert len(kpis) == 7 and "—" not in kpis
    assert html.count('<svg class="chart"') >= 11
    tables = page_tables(html)
    assert len(tables["gaps"]) >= 10 and len(tables["overdue_applications"]) >= 1
    assert int(tables["usage_jurisdiction"][-1][-1]) > 1000
