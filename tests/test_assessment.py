"""Assessment figures on small crafted datasets whose answers are worked out by hand."""
from __future__ import annotations

import json
from datetime import date

import pytest

from content import assessment as a
from content import db

COUNTY, TOWN, TOWN2 = "340100000000", "340100100000", "340100200000"
V1, V2, V3 = "340100100201", "340100100202", "340100200201"


@pytest.fixture
def mem():
    conn = db.connect(":memory:")
    db.migrate(conn)
    conn.executescript(f"""
        INSERT INTO jurisdiction(code, name, level, parent_code, sort) VALUES
          ('{COUNTY}', '试验县', 'county', NULL, 0),
          ('{TOWN}', '甲镇', 'township', '{COUNTY}', 1),
          ('{TOWN2}', '乙乡', 'township', '{COUNTY}', 2),
          ('{V1}', '一村', 'village', '{TOWN}', 1),
          ('{V2}', '二村', 'village', '{TOWN}', 2),
          ('{V3}', '三村', 'village', '{TOWN2}', 1);
        INSERT INTO domain(id, name, sort) VALUES (1, '社会救助', 1), (2, '涉农补贴', 2);
    """)
    yield conn
    conn.close()


def item(conn, code, domain, title, limit_text="", mode="主动", review_by=None, status="published"):
    from content.timelimits import parse_time_limit
    parsed = parse_time_limit(limit_text)
    cur = conn.execute(
        "INSERT INTO catalogue_item(jurisdiction_code, domain_id, level1, time_limit_text, time_limit, mode,"
        " review_by, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (code, domain, title, limit_text, json.dumps(parsed) if parsed else None, mode, review_by, status))
    return cur.lastrowid


def village_item(conn, code, category, title, review_by=None):
    return conn.execute(
        "INSERT INTO village_item(jurisdiction_code, category, title, status, review_by) "
        "VALUES (?, ?, ?, 'published', ?)", (code, category, title, review_by)).lastrowid


def notice(conn, code, title, formed_on=None, published_at=None, status="published", item_id=None,
           village_item_id=None, matter_id=None, subject=None, expires_on=None, period_end=None,
           fields=None, rows=None):
    return conn.execute(
        "INSERT INTO notice(jurisdiction_code, subject_code, item_id, village_item_id, matter_id, title,"
        " formed_on, published_at, status, expires_on, period_end, fields, table_columns, table_rows)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (code, subject or code, item_id, village_item_id, matter_id, title, formed_on, published_at,
         status, expires_on, period_end, json.dumps(fields or {}, ensure_ascii=False),
         json.dumps(["姓名", "金额"] if rows else [], ensure_ascii=False),
         json.dumps(rows or [], ensure_ascii=False))).lastrowid


def scope(conn, code=COUNTY):
    return a.scope_of(conn, code)


# ---------------------------------------------------------------- scope

def test_scope_groups_every_code_under_the_nodes_children(mem):
    s = scope(mem)
    assert set(s.codes) == {COUNTY, TOWN, TOWN2, V1, V2, V3}
    assert s.children == (TOWN, TOWN2)
    assert s.group(V2) == TOWN and s.group(V3) == TOWN2 and s.group(COUNTY) == COUNTY
    t = scope(mem, TOWN)
    assert set(t.codes) == {TOWN, V1, V2} and t.villages == [V1, V2]
    assert scope(mem, "999999999999") is None


def test_period_months():
    assert a.Period(date(2025, 11, 20), date(2026, 2, 1)).months() == ["2025-11", "2025-12", "2026-01", "2026-02"]


# ---------------------------------------------------------------- coverage

def test_coverage_counts_current_content_only(mem):
    today = date(2025, 11, 15)
    live = item(mem, COUNTY, 1, "现行公示")
    old = item(mem, COUNTY, 1, "一年多前公开")
    old_in_force = item(mem, COUNTY, 1, "早公开但仍有效")
    guided = item(mem, COUNTY, 2, "有办事指南")
    future = item(mem, COUNTY, 2, "定时发布未到")
    withdrawn = item(mem, COUNTY, 2, "已撤回")
    item(mem, COUNTY, 2, "依申请公开事项", mode="依申请公开")
    item(mem, COUNTY, 2, "草稿事项不计", status="draft")
    town_item = item(mem, TOWN, 1, "乡级事项")
    notice(mem, COUNTY, "a", "2025-11-01", "2025-11-03T02:00:00Z", item_id=live)
    notice(mem, COUNTY, "b", "2024-09-01", "2024-09-02T02:00:00Z", item_id=old)
    notice(mem, COUNTY, "c", "2024-09-01", "2024-09-02T02:00:00Z", item_id=old_in_force,
           expires_on="2026-01-01")
    mem.execute("INSERT INTO guide(jurisdiction_code, item_id, title, status) VALUES (?, ?, '指南', 'published')",
                (COUNTY, guided))
    notice(mem, COUNTY, "d", "2025-11-10", "2025-11-20T02:00:00Z", item_id=future)
    notice(mem, COUNTY, "e", "2025-10-10", "2025-10-11T02:00:00Z", item_id=withdrawn, status="withdrawn")
    v = village_item(mem, V1, "村级财务", "财务收支")
    village_item(mem, V2, "村级财务", "财务收支")
    notice(mem, V1, "f", "2025-10-01", "2025-10-09T02:00:00Z", village_item_id=v)

    cov = a.coverage(mem, scope(mem), a.Period(date(2025, 1, 1), date(2025, 12, 31)), today)
    assert cov.as_of == today
    assert cov.on_request == 1
    rows = {(r.level, r.domain): (r.total, r.covered) for r in cov.rows}
    assert rows == {("county", "社会救助"): (3, 2), ("county", "涉农补贴"): (3, 1),
                    ("township", "社会救助"): (1, 0), ("village", "村务·村级财务"): (2, 1)}
    assert (cov.total, cov.covered) == (9, 4)
    assert cov.rate == pytest.approx(4 / 9)
    missing = {r["title"]: r["last_published"] for r in cov.uncovered}
    assert missing == {"一年多前公开": date(2024, 9, 2), "定时发布未到": None, "已撤回": None,
                       "乡级事项": None, "财务收支": None}
    assert cov.by_group == {COUNTY: [6, 3], TOWN: [3, 1]}
    assert [(r.level, r.total, r.covered) for r in cov.by_level()] == [
        ("county", 6, 3), ("township", 1, 0), ("village", 2, 1)]

    # A township sees only its own subtree.
    t = a.coverage(mem, scope(mem, TOWN), a.Period(date(2025, 1, 1), date(2025, 12, 31)), today)
    assert (t.total, t.covered) == (3, 1)
    assert town_item in {r["id"] for r in t.uncovered}

    # As of a past period end the future notice is ... still future, the live one not yet out.
    early = a.coverage(mem, scope(mem), a.Period(date(2025, 1, 1), date(2025, 10, 31)), today)
    assert early.as_of == date(2025, 10, 31)
    assert "现行公示" in {r["title"] for r in early.uncovered}
    assert "已撤回" in {r["title"] for r in early.uncovered}


# ---------------------------------------------------------------- timeliness

def test_timeliness_around_national_day_2025(mem):
    """5 working days from Fri 26 Sep 2025: Sun 28 Sep is worked, 1–8 Oct are off, so the
    deadline is Fri 10 Oct; Sat 11 Oct is a worked day and counts as one day late."""
    five = item(mem, TOWN, 1, "五日事项", "信息形成之日起5个工作日内")
    on_time = notice(mem, TOWN, "按时", "2025-09-26", "2025-10-10T08:00:00Z", item_id=five)
    late = notice(mem, TOWN, "晚一天", "2025-09-26", "2025-10-11T01:00:00Z", item_id=five)
    # No limit anywhere: 20 working days (art. 26) from Tue 30 Sep 2025 → Tue 4 Nov 2025.
    draft = notice(mem, TOWN, "未公开", "2025-09-30", None, status="draft")
    pending = notice(mem, V1, "未到期", "2025-11-10", None, status="submitted")
    notice(mem, TOWN2, "其他乡", "2025-10-01", "2025-10-02T00:00:00Z")

    tim = a.timeliness(mem, scope(mem, TOWN), a.Period(date(2025, 9, 1), date(2025, 12, 31)),
                       date(2025, 11, 10))
    by_id = {r.notice_id: r for r in tim.records}
    assert set(by_id) == {on_time, late, draft, pending}
    assert by_id[on_time].deadline == date(2025, 10, 10) and by_id[on_time].status == a.ON_TIME
    assert by_id[late].status == a.LATE and by_id[late].workdays_late == 1
    assert by_id[draft].deadline == date(2025, 11, 4) and by_id[draft].status == a.OVERDUE
    assert by_id[draft].limit_source == "条例第二十六条"
    # Overdue working days: 5, 6, 7 and 10 Nov.
    assert by_id[draft].workdays_late == 4
    assert by_id[pending].status == a.PENDING
    assert tim.rate() == pytest.approx(1 / 3)
    assert [r.notice_id for r in tim.late] == [late] and [r.notice_id for r in tim.overdue] == [draft]


def test_timeliness_spring_festival_2025_and_beijing_day(mem):
    """3 working days from Fri 24 Jan 2025: Sun 26 Jan is worked, 28 Jan–4 Feb are off → Wed 5 Feb.
    published_at is UTC: 15:59Z on 5 Feb is still 5 Feb in Beijing, 16:30Z is already 6 Feb."""
    three = item(mem, COUNTY, 1, "三日事项", "3个工作日")
    ok = notice(mem, COUNTY, "北京时间当天", "2025-01-24", "2025-02-05T15:59:00Z", item_id=three)
    late = notice(mem, COUNTY, "北京时间次日", "2025-01-24", "2025-02-05T16:30:00Z", item_id=three)
    realtime = item(mem, COUNTY, 2, "实时事项", "实时公开")
    same_day = notice(mem, COUNTY, "实时", "2025-01-26", "2025-01-26T01:00:00Z", item_id=realtime)
    tim = a.timeliness(mem, scope(mem), a.Period(date(2025, 1, 1), date(2025, 3, 31)), date(2025, 3, 31))
    by_id = {r.notice_id: r for r in tim.records}
    assert by_id[ok].deadline == date(2025, 2, 5)
    assert by_id[ok].published_on == date(2025, 2, 5) and by_id[ok].status == a.ON_TIME
    assert by_id[late].published_on == date(2025, 2, 6) and by_id[late].status == a.LATE
    assert by_id[late].workdays_late == 1
    assert by_id[same_day].deadline == date(2025, 1, 26) and by_id[same_day].status == a.ON_TIME


def test_timeliness_falls_back_to_village_item_then_matter(mem):
    v = village_item(mem, V1, "村级财务", "收支")
    mem.execute("UPDATE village_item SET time_limit_text = '10个工作日' WHERE id = ?", (v,))
    mem.execute("INSERT INTO matter(id, key, title, time_limit_text, time_limit) VALUES "
                "(1, 'm', '名单', '2个工作日', '{\"count\": 2, \"unit\": \"workday\"}')")
    a1 = notice(mem, V1, "村务", "2025-03-03", "2025-03-14T01:00:00Z", village_item_id=v)
    a2 = notice(mem, V1, "对照", "2025-03-03", "2025-03-06T01:00:00Z", matter_id=1)
    tim = a.timeliness(mem, scope(mem, V1), a.Period(date(2025, 3, 1), date(2025, 3, 31)), date(2025, 4, 1))
    by_id = {r.notice_id: r for r in tim.records}
    assert (by_id[a1].limit_source, by_id[a1].deadline, by_id[a1].status) == ("村务清单", date(2025, 3, 17), a.ON_TIME)
    assert (by_id[a2].limit_source, by_id[a2].deadline, by_id[a2].status) == ("对照事项", date(2025, 3, 5), a.LATE)


# ---------------------------------------------------------------- consistency

def _matter(conn):
    conn.execute("INSERT INTO matter(id, key, title, domain_id, levels, key_columns) VALUES "
                 "(1, 'dibao', '低保名单', 1, '[\"township\", \"village\"]', '[\"姓名\"]')")
    rows = [["张*三", "300"], ["李*四", "280"]]
    for v in (V1, V2):
        notice(conn, TOWN, "乡名单", "2025-05-06", "2025-05-07T01:00:00Z", matter_id=1, subject=v, rows=rows)
    notice(conn, V1, "村名单", "2025-05-06", "2025-05-08T01:00:00Z", matter_id=1, rows=rows)
    notice(conn, V2, "村名单", "2025-05-06", "2025-05-08T01:00:00Z", matter_id=1,
           rows=[["张*三", "300"], ["李*四", "290"]])
    conn.execute("INSERT INTO village_item(jurisdiction_code, category, title, status, matter_id) "
                 "VALUES (?, '社会救助', '低保', 'published', 1)", (V3,))


def test_consistency_share_and_problem_list(mem):
    _matter(mem)
    period, today = a.Period(date(2025, 1, 1), date(2025, 12, 31)), date(2025, 6, 1)
    con = a.consistency(mem, scope(mem), period, today)
    status = {r["code"]: r["status"] for r in con.rows}
    assert status == {V1: "一致", V2: "不一致", V3: "缺失"}
    assert con.rate() == pytest.approx(1 / 3)
    assert {r["url"] for r in con.problems} == {f"/matters/1/{V2}", f"/matters/1/{V3}"}
    town = a.consistency(mem, scope(mem, TOWN), period, today)
    assert town.counts() == {"一致": 1, "不一致": 1} and town.rate() == 0.5


# ---------------------------------------------------------------- review-by

def test_review_dates_past_as_of(mem):
    item(mem, COUNTY, 1, "已过", review_by="2025-06-01")
    item(mem, COUNTY, 1, "当天不算", review_by="2025-06-30")
    item(mem, TOWN, 1, "未到", review_by="2025-12-01")
    item(mem, COUNTY, 1, "撤回的不算", review_by="2025-01-01", status="withdrawn")
    village_item(mem, V2, "村级财务", "村里已过", review_by="2025-05-01")
    rows = a.review_overdue(mem, scope(mem), a.Period(date(2025, 1, 1), date(2025, 6, 30)), date(2025, 9, 1))
    assert [(r["title"], r["days_past"]) for r in rows] == [("村里已过", 60), ("已过", 29)]
    assert a.review_overdue(mem, scope(mem, TOWN2), a.Period(date(2025, 1, 1), date(2025, 6, 30)),
                            date(2025, 9, 1)) == []


# ---------------------------------------------------------------- applications

def application(conn, no, code, received, applicant="自然人", subtype="", stage="登记", outcome="",
                reason="", replied=None, extension=0, archived=None):
    conn.execute(
        "INSERT INTO application(uuid, receipt_no, jurisdiction_code, applicant_type, applicant_subtype,"
        " name, phone, description, stage, outcome, outcome_reason, received_on, clock_start,"
        " replied_on, extension_days, archived_on) VALUES (?, ?, ?, ?, ?, '申请人', '13800000000', '某信息',"
        " ?, ?, ?, ?, ?, ?, ?, ?)",
        (f"u{no}", f"R{no}", code, applicant, subtype, stage, outcome, reason, received, received,
         replied, extension, archived))


def test_applications_annual_report_and_legal_clock(mem):
    # Received Mon 15 Sep 2025: 20 working days across National Day → due Fri 17 Oct.
    application(mem, 1, COUNTY, "2025-09-15", stage="答复", outcome="予以公开", replied="2025-10-17")
    application(mem, 2, COUNTY, "2025-09-15", applicant="法人或其他组织", subtype="商业企业",
                stage="归档", outcome="不予公开", reason="属于国家秘密", replied="2025-10-20",
                archived="2025-10-21")
    # Extended by 5 working days: due Fri 24 Oct, replied that day → on time.
    application(mem, 3, TOWN, "2025-09-15", stage="答复", outcome="无法提供",
                reason="本机关不掌握相关政府信息", replied="2025-10-24", extension=5)
    # Still open: due 17 Oct, overdue on 31 Oct by 10 working days (20–24, 27–31 Oct).
    application(mem, 4, TOWN, "2025-09-15", stage="办理")
    # Received last year, answered this year: carried in.
    application(mem, 5, V1, "2024-12-20", applicant="法人或其他组织", subtype="科研机构",
                stage="答复", outcome="部分公开", replied="2025-01-10")
    # Abandoned after 补正: closed as 其他处理 without a reply.
    application(mem, 6, COUNTY, "2025-10-09", stage="归档", outcome="其他处理",
                reason="申请人无正当理由逾期不补正，视为放弃申请", archived="2025-10-30")
    # Other township: out of a township's scope.
    application(mem, 7, TOWN2, "2025-10-01", stage="登记")

    period, today = a.Period(date(2025, 1, 1), date(2025, 12, 31)), date(2025, 10, 31)
    app = a.applications(mem, scope(mem), period, today)
    assert app.received == 6 and app.closed == 5 and app.replied == 4
    assert (app.replied_on_time, app.replied_late) == (3, 1)
    assert app.on_time_rate == 0.75
    assert [(r["receipt_no"], r["due_on"], r["workdays_overdue"]) for r in app.open_overdue] == [
        ("R4", date(2025, 10, 17), 10)]
    assert app.open_in_time == 1          # R7, received 1 Oct, due in November
    r = app.report
    assert r["new"]["自然人"] == 5 and r["new"]["商业企业"] == 1 and r["new"]["总计"] == 6
    assert r["carried_in"]["科研机构"] == 1 and r["carried_in"]["总计"] == 1
    assert r["不予公开/属于国家秘密"]["商业企业"] == 1
    assert r["其他处理"]["总计"] == 1 and r["closed"]["总计"] == 5
    assert r["carried_out"]["总计"] == 2
    assert app.monthly_received["2025-09"] == 4 and app.monthly_replied["2025-10"] == 3

    town = a.applications(mem, scope(mem, TOWN), period, today)
    assert town.received == 2 and town.replied == 2 and town.replied_on_time == 2  # R3, and R5 (carried in, due 17 Jan)
    assert [x["receipt_no"] for x in town.open_overdue] == ["R4"]

    table = next(t for t in a.tables(a.build(mem, scope(mem), period, today)) if t.key == "annual_report")
    labels = [row[0] for row in table.rows]
    assert labels[0].startswith("一、本年新收") and labels[-1].startswith("四、结转下年度")
    assert table.rows[0][1:] == [5, 1, 0, 0, 0, 0, 6]
    assert table.rows[labels.index("三、（七）总计")][1:] == [3, 1, 1, 0, 0, 0, 5]


# ---------------------------------------------------------------- satisfaction, gaps, usage

def test_satisfaction_by_domain_and_scope(mem):
    i1 = item(mem, TOWN, 1, "救助事项")
    i2 = item(mem, COUNTY, 2, "补贴事项")
    v = village_item(mem, V3, "村级财务", "收支")
    rows = [("a", "item", i1, "满意", "2025-03-01T02:00:00Z"), ("b", "item", i1, "不满意", "2025-03-02T02:00:00Z"),
            ("c", "item", i1, "基本满意", "2025-04-01T02:00:00Z"), ("d", "item", i2, "满意", "2025-03-05T02:00:00Z"),
            ("e", "village_item", v, "不满意", "2025-03-05T02:00:00Z"),
            # 31 Mar 17:00 UTC is 1 Apr in Beijing: outside a March-only period.
            ("f", "item", i2, "满意", "2025-03-31T17:00:00Z")]
    for uid, kind, target, rating, at in rows:
        mem.execute("INSERT INTO feedback(uuid, target_type, target_id, rating, created_at) VALUES (?, ?, ?, ?, ?)",
                    (uid, kind, target, rating, at))
    sat = a.satisfaction(mem, scope(mem), a.Period(date(2025, 1, 1), date(2025, 6, 30)), date(2025, 7, 1))
    assert sat.by_domain["社会救助"] == {"满意": 1, "基本满意": 1, "不满意": 1}
    assert a.Satisfaction.rate(sat.by_domain["社会救助"]) == pytest.approx(2 / 3)
    assert sat.by_domain["村务·村级财务"] == {"不满意": 1}
    assert sum(sat.total.values()) == 6
    assert sat.monthly["2025-04"] == {"基本满意": 1, "满意": 1}
    march = a.satisfaction(mem, scope(mem), a.Period(date(2025, 3, 1), date(2025, 3, 31)), date(2025, 7, 1))
    assert sum(march.total.values()) == 4
    town = a.satisfaction(mem, scope(mem, TOWN), a.Period(date(2025, 1, 1), date(2025, 6, 30)), date(2025, 7, 1))
    assert list(town.by_domain) == ["社会救助"] and a.Satisfaction.rate(town.total) == pytest.approx(2 / 3)


def test_content_gaps_and_usage(mem):
    mem.executescript("""
        INSERT INTO usage_search_miss(day, query, count) VALUES
          ('2025-03-01', '电动车上牌', 3), ('2025-03-02', '电动车上牌', 2), ('2025-03-02', '狂犬疫苗', 4),
          ('2025-05-01', '旧的', 9);
    """)
    assert a.content_gaps(mem, a.Period(date(2025, 3, 1), date(2025, 3, 31))) == [("电动车上牌", 5), ("狂犬疫苗", 4)]
    i1 = item(mem, TOWN, 1, "救助事项")
    v = village_item(mem, V1, "村级财务", "收支")
    n = notice(mem, V3, "三村公示", "2025-03-01", "2025-03-01T01:00:00Z")
    mem.executemany("INSERT INTO usage_view(day, kind, ref_id, views) VALUES (?, ?, ?, ?)", [
        ("2025-03-01", "item", i1, 5), ("2025-04-02", "item", i1, 2), ("2025-03-03", "village_item", v, 7),
        ("2025-03-03", "notice", n, 11), ("2024-12-31", "item", i1, 100)])
    use = a.usage(mem, scope(mem), a.Period(date(2025, 1, 1), date(2025, 12, 31)), date(2025, 12, 31))
    assert use.total == 25
    assert use.by_jurisdiction == {TOWN: 7, V1: 7, V3: 11}
    assert use.by_group == {TOWN: 14, TOWN2: 11}
    assert use.by_domain == {"社会救助": 7, "村务·村级财务": 7, "其他": 11}
    assert use.monthly == {"2025-03": 23, "2025-04": 2}
    assert a.usage(mem, scope(mem, V1), a.Period(date(2025, 1, 1), date(2025, 12, 31)),
                   date(2025, 12, 31)).total == 7


# ---------------------------------------------------------------- tables and the workbook

def test_tables_and_workbook_hold_the_same_numbers(mem):
    import io

    from openpyxl import load_workbook
    _matter(mem)
    i1 = item(mem, TOWN, 1, "救助事项", "5个工作日")
    notice(mem, TOWN, "晚", "2025-09-26", "2025-10-11T01:00:00Z", item_id=i1)
    report = a.build(mem, scope(mem), a.Period(date(2025, 1, 1), date(2025, 12, 31)), date(2025, 11, 1))
    tabs = {t.key: t for t in a.tables(report)}
    assert report.gaps == [] and "gaps" in tabs
    assert "gaps" not in {t.key for t in a.tables(a.build(mem, scope(mem, TOWN), report.period, report.today))}
    children = tabs["children"]
    assert [r[0] for r in children.rows] == ["试验县（本级）", "甲镇", "乙乡"]
    assert children.links[(1, 0)] == f"?code={TOWN}"
    late = tabs["late"]
    assert late.rows[0][0] == a.LATE and late.rows[0][-1] == 1
    wb = load_workbook(io.BytesIO(a.workbook(report, list(tabs.values()))))
    assert len(wb.sheetnames) == len(tabs)
    ws = wb[tabs["consistency"].title[:28]]
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    header = values.index(tabs["consistency"].columns)
    assert [list(r) for r in values[header + 1:]] == [list(r) for r in tabs["consistency"].rows]
    assert ws.cell(row=header + 2, column=3).number_format == "0.0%"
    # A title typed by a person that looks like a formula stays text in the workbook.
    tabs["late"].rows[0][0] = '=HYPERLINK("http://evil.example/","x")'
    wb = load_workbook(io.BytesIO(a.workbook(report, [tabs["late"]])))
    cells = [c for row in wb.active.iter_rows() for c in row]
    assert [c.data_type for c in cells if str(c.value).startswith("=HYPERLINK")] == ["s"]
