"""The demo county 淮川县 (content/demo.py and content/demo_data/)."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from importlib import resources

import pytest

from content import demo
from content.db import open_database
from content.timelimits import is_workday, parse_time_limit, workdays_between
from content.users import verify_password

COUNTY = "340499000000"
TOWNSHIPS = {"340499100000": ("东湖镇", "镇"), "340499101000": ("柳林乡", "乡"),
             "340499001000": ("城关街道", "街道")}
VILLAGES = {"340499100201": ("杏花村", "340499100000", "村"),
            "340499100202": ("桥头村", "340499100000", "村"),
            "340499100203": ("白塔村", "340499100000", "村"),
            "340499101201": ("柳林村", "340499101000", "村"),
            "340499101202": ("马岗村", "340499101000", "村"),
            "340499001001": ("南门社区", "340499001000", "社区")}
ANNEX = ["国土空间规划", "重大建设项目", "财政预决算", "税收管理", "环境保护", "食品药品监管",
         "安全生产", "公共文化服务", "公共法律服务", "就业创业", "社会救助", "社会保险",
         "户籍管理", "医疗卫生", "涉农补贴", "城市综合执法", "养老服务", "征地补偿",
         "国有土地上房屋征收", "保障性住房", "农村危房改造", "扶贫", "救灾", "市政服务",
         "公共资源交易", "义务教育"]
FOCUS = {"脱贫攻坚", "乡村振兴", "村级财务", "惠农政策", "养老服务", "社会救助", "保障性住房",
         "农村危房改造", "义务教育", "医疗卫生"}
CHANNELS = {"政府网站", "政府公报", "两微一端", "发布会/听证会", "广播电视", "纸质媒体",
            "公开查阅点", "政务服务中心", "便民服务站", "入户/现场",
            "社区/企事业单位/村公示栏(电子屏)", "精准推送", "其他"}
MASKED_ID = re.compile(r"^3404\*{10}\d{3}[\dX]$")
MASKED_NAME = re.compile(r"^\w\*\w{1,2}$")

# Today, a national holiday, Spring Festival, and a Saturday past the calendar data.
DATES = [date.today(), date(2025, 10, 1), date(2026, 2, 17), date(2031, 7, 5)]


@pytest.fixture(scope="module", params=DATES, ids=lambda d: d.isoformat())
def built(request, tmp_path_factory):
    today = request.param
    conn = open_database(tmp_path_factory.mktemp("demo") / "kiosk.db")
    counts = demo.build_demo(conn, today)
    yield conn, today, counts
    conn.close()


@pytest.fixture
def conn(built):
    return built[0]


@pytest.fixture
def today(built):
    return built[1]


def rows(conn, sql, *params):
    return [dict(r) for r in conn.execute(sql, params)]


def notices_for(conn, matter_key, subject):
    return rows(conn, """SELECT n.*, j.level AS level FROM notice n
                         JOIN matter m ON m.id = n.matter_id
                         JOIN jurisdiction j ON j.code = n.jurisdiction_code
                         WHERE m.key = ? AND n.subject_code = ? ORDER BY n.formed_on, n.id""",
                matter_key, subject)


def newest(notices, level):
    mine = [n for n in notices if n["level"] == level]
    return max(mine, key=lambda n: (n["formed_on"], n["published_at"])) if mine else None


def table(n):
    cols = json.loads(n["table_columns"])
    return [dict(zip(cols, r)) for r in json.loads(n["table_rows"])]


# ------------------------------------------------------------------ counts, tree, meta

def test_counts(conn, built):
    counts = built[2]
    for t, n in counts.items():
        assert conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == n
    assert counts["jurisdiction"] == 1 + len(TOWNSHIPS) + len(VILLAGES)
    assert counts["domain"] == 26
    assert counts["user"] == 4
    assert counts["matter"] >= 10
    assert counts["catalogue_item"] >= 26 * 3
    assert counts["notice"] >= 30
    assert counts["guide"] >= 20
    assert counts["handbook"] >= 3
    assert counts["consultation"] == 2


def test_jurisdictions(conn):
    county = conn.execute("SELECT * FROM jurisdiction WHERE code = ?", (COUNTY,)).fetchone()
    assert (county["name"], county["level"], county["kind"], county["parent_code"]) == \
        ("淮川县", "county", "县", None)
    for code, (name, kind) in TOWNSHIPS.items():
        j = conn.execute("SELECT * FROM jurisdiction WHERE code = ?", (code,)).fetchone()
        assert (j["name"], j["level"], j["kind"], j["parent_code"]) == (name, "township", kind, COUNTY)
    for code, (name, parent, kind) in VILLAGES.items():
        j = conn.execute("SELECT * FROM jurisdiction WHERE code = ?", (code,)).fetchone()
        assert (j["name"], j["level"], j["kind"], j["parent_code"]) == (name, "village", kind, parent)
        assert code[:6] == COUNTY[:6] and code[6:9] == parent[6:9]


def test_meta(conn, today):
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    assert meta["demo"] == "1"
    assert meta["scope"] == COUNTY
    assert meta["county_name"] == "淮川县"
    assert "示例数据" in meta["sample_data_notice"]
    assert meta["demo_built_on"] == today.isoformat()


def test_domains_follow_the_annex(conn):
    ds = rows(conn, "SELECT * FROM domain ORDER BY id")
    assert [d["id"] for d in ds] == list(range(1, 27))
    assert [d["name"] for d in ds] == ANNEX
    for d in ds:
        deps = json.loads(d["departments"])
        assert deps and all(x.startswith("县") for x in deps)
        assert d["pilot"] == 1
    assert json.loads(ds[15]["departments"]) == ["县城乡建设局", "县住房保障和房产管理局",
                                                 "县城市管理行政执法局"]
    assert json.loads(ds[10]["departments"]) == ["县民政局"]


# ------------------------------------------------------------------ catalogues

def test_catalogue_csv_files_use_the_standard_header():
    folder = resources.files("content").joinpath("demo_data")
    files = [e for e in folder.iterdir() if e.name.startswith("catalogue_") and e.name.endswith(".csv")]
    assert len(files) == 4
    for entry in files:
        reader = csv.reader(io.StringIO(entry.read_text("utf-8")))
        header = next(reader)
        assert header == demo.CATALOGUE_HEADER
        assert all(len(r) == len(header) for r in reader), entry.name


def test_every_domain_has_three_county_items(conn):
    per = dict(conn.execute(
        """SELECT d.name, count(i.id) FROM domain d LEFT JOIN catalogue_item i
           ON i.domain_id = d.id AND i.jurisdiction_code = ? AND i.status = 'published'
           GROUP BY d.id""", (COUNTY,)).fetchall())
    assert set(per) == set(ANNEX)
    assert min(per.values()) >= 3, per


def test_catalogue_values(conn):
    items = rows(conn, "SELECT * FROM catalogue_item")
    for i in items:
        assert i["status"] == "published"
        assert i["level1"] and i["content_elements"] and i["publisher"] and i["time_limit_text"]
        assert i["basis"].startswith("《")
        channels = json.loads(i["channels"])
        assert channels and set(channels) <= CHANNELS, i
        levels = json.loads(i["levels"])
        assert levels and set(levels) <= {"县级", "乡级", "村级"}
        assert i["audience"] in ("全社会", "特定群体") and i["mode"] in ("主动", "依申请公开")
        parsed = parse_time_limit(i["time_limit_text"])
        if parsed is None:
            assert i["time_limit"] is None
        else:
            assert json.loads(i["time_limit"]) == parsed
    texts = {i["time_limit_text"] for i in items}
    for variety in ("信息形成或者变更之日起20个工作日内", "制定或获取信息之日起10个工作日内",
                    "实时公开", "每年1月31日前", "每季度的首个月20日"):
        assert variety in texts
    assert any(i["mode"] == "依申请公开" for i in items)
    assert any(i["audience"] == "特定群体" for i in items)
    assert any("《社会救助暂行办法》" in i["basis"] for i in items)


def test_township_items(conn):
    by_domain = {r[0] for r in conn.execute(
        """SELECT d.name FROM catalogue_item i JOIN domain d ON d.id = i.domain_id
           JOIN jurisdiction j ON j.code = i.jurisdiction_code WHERE j.level = 'township'""")}
    assert {"社会救助", "涉农补贴", "养老服务", "农村危房改造"} <= by_domain
    for code in TOWNSHIPS:
        assert conn.execute("SELECT count(*) FROM catalogue_item WHERE jurisdiction_code = ?",
                            (code,)).fetchone()[0] >= 10


def test_review_dates_and_online_urls(conn, today):
    due = conn.execute("SELECT count(*) FROM catalogue_item WHERE review_by < ?",
                       (today.isoformat(),)).fetchone()[0]
    later = conn.execute("SELECT count(*) FROM catalogue_item WHERE review_by >= ?",
                         (today.isoformat(),)).fetchone()[0]
    assert due >= 3 and later >= 1
    urls = [r[0] for r in conn.execute("SELECT online_url FROM catalogue_item WHERE online_url != ''")]
    assert len(urls) >= 3 and all(u.startswith("https://") for u in urls)


# ------------------------------------------------------------------ village lists

def test_each_village_covers_the_focus_areas(conn):
    for code, (name, _, kind) in VILLAGES.items():
        items = rows(conn, "SELECT * FROM village_item WHERE jurisdiction_code = ? AND status = 'published'",
                     code)
        assert FOCUS <= {i["category"] for i in items}, name
        for i in items:
            assert i["frequency"] in ("每月", "每季度", "随时")
            assert i["responsible"].startswith(name)
            assert ("村民委员会" if kind == "村" else "居民委员会") in i["responsible"]
            assert i["time_limit_text"] and i["content"]
            assert set(json.loads(i["channels"])) <= CHANNELS and json.loads(i["channels"])
    freq = {r[0] for r in conn.execute("SELECT frequency FROM village_item")}
    assert freq == {"每月", "每季度", "随时"}


# ------------------------------------------------------------------ matters and alignment

def test_matters_are_linked(conn):
    ms = rows(conn, "SELECT * FROM matter")
    assert len(ms) >= 10
    for m in ms:
        levels = json.loads(m["levels"])
        assert levels and set(levels) <= {"county", "township", "village"}
        assert json.loads(m["key_columns"])
        assert m["time_limit_text"]
        assert conn.execute("SELECT count(*) FROM catalogue_item WHERE matter_id = ?",
                            (m["id"],)).fetchone()[0] >= 1, m["key"]
        assert conn.execute("SELECT count(*) FROM village_item WHERE matter_id = ?",
                            (m["id"],)).fetchone()[0] >= 1, m["key"]
        assert conn.execute("SELECT count(*) FROM notice WHERE matter_id = ?",
                            (m["id"],)).fetchone()[0] >= 2, m["key"]


def test_designed_cases_listed_in_data_and_module():
    data = json.loads(resources.files("content").joinpath("demo_data/matter_notices.json")
                      .read_text("utf-8"))
    assert [(c["matter"], c["subject"], c["case"]) for c in data["cases"]] == demo.DESIGNED_CASES
    kinds = [c for _, _, c in demo.DESIGNED_CASES]
    assert sum(k.startswith("inconsistent") for k in kinds) >= 2
    assert "missing-village" in kinds and "stale-village" in kinds
    assert kinds.count("consistent") >= 5
    assert len({v for _, v, _ in demo.DESIGNED_CASES}) == len(VILLAGES)


def test_each_expected_level_publishes(conn):
    for key, village, case in demo.DESIGNED_CASES:
        levels = json.loads(conn.execute("SELECT levels FROM matter WHERE key = ?", (key,)).fetchone()[0])
        ns = notices_for(conn, key, village)
        have = {n["level"] for n in ns}
        expected = set(levels) - ({"village"} if case == "missing-village" else set())
        assert have == expected, (key, village)
        township = VILLAGES[village][1]
        for n in ns:
            assert n["jurisdiction_code"] in (COUNTY, township, village)
            assert n["subject_code"] == village
            cols = json.loads(n["table_columns"])
            for k in json.loads(conn.execute("SELECT key_columns FROM matter WHERE key = ?",
                                             (key,)).fetchone()[0]):
                assert k in cols
            assert json.loads(n["fields"])
            if n["level"] == "village":
                assert n["village_item_id"] is not None
            else:
                assert n["item_id"] is not None


def test_inconsistent_row_amount(conn):
    ns = notices_for(conn, "farmland-protection-subsidy", "340499100201")
    t = {r["姓名"]: r for r in table(newest(ns, "township"))}
    v = {r["姓名"]: r for r in table(newest(ns, "village"))}
    assert (t["王*明"]["补贴面积（亩）"], t["王*明"]["补贴金额（元）"]) == ("10.00", "1,050.00")
    assert (v["王*明"]["补贴面积（亩）"], v["王*明"]["补贴金额（元）"]) == ("9.60", "1,008.00")
    assert t["王*明"]["身份证号"] == v["王*明"]["身份证号"]
    others = [n for n in t if n != "王*明"]
    assert all(t[n] == v[n] for n in others)
    tf, vf = (json.loads(newest(ns, lvl)["fields"]) for lvl in ("township", "village"))
    assert (tf["发放总额"], vf["发放总额"]) == ("7,770元", "7,728元")


def test_inconsistent_field_total(conn):
    ns = notices_for(conn, "elderly-allowance", "340499101201")
    tf = json.loads(newest(ns, "township")["fields"])
    vf = json.loads(newest(ns, "village")["fields"])
    assert tf["发放标准"] != vf["发放标准"] and vf["发放标准"] == "80周岁以上每人每月50元"
    assert {k: v for k, v in tf.items() if k != "发放标准"} == {k: v for k, v in vf.items() if k != "发放标准"}
    assert table(newest(ns, "township")) == table(newest(ns, "village"))
    total = sum(float(r["发放金额（元）"].replace(",", "")) for r in table(newest(ns, "township")))
    assert total == 2250 and vf["发放总额"] == "2,250元"


def test_every_published_notice_adds_up_and_one_draft_does_not(conn):
    """The demo's figures pass content.figures; the one deliberate failure is a draft."""
    from content import editing, figures
    failing = {}
    for r in conn.execute("SELECT * FROM notice"):
        found = figures.check("notice", editing.row_data(conn, editing.entity("notice"), r))
        if found:
            failing[r["id"]] = (r["status"], [f.where for f in found])
    assert len(failing) == 1, failing
    (status, wheres), = failing.values()
    assert status == "draft" and any("合计" in w for w in wheres)


def test_inconsistent_missing_row(conn):
    ns = notices_for(conn, "dibao-review", "340499001001")
    t = {r["姓名"] for r in table(newest(ns, "township"))}
    v = {r["姓名"] for r in table(newest(ns, "village"))}
    assert t - v == {"刘*芳"} and v < t
    assert json.loads(newest(ns, "township")["fields"])["审核户数"] == "4户"
    assert json.loads(newest(ns, "village")["fields"])["审核户数"] == "3户"


def test_missing_on_village_side(conn):
    ns = notices_for(conn, "rural-dilapidated-housing", "340499101202")
    assert {n["level"] for n in ns} == {"county", "township"}
    assert not conn.execute(
        """SELECT 1 FROM notice n JOIN matter m ON m.id = n.matter_id
           WHERE m.key = 'rural-dilapidated-housing' AND n.jurisdiction_code = '340499101202'""").fetchone()
    # The village's list names the matter, so the gap is visible.
    assert conn.execute(
        """SELECT 1 FROM village_item v JOIN matter m ON m.id = v.matter_id
           WHERE m.key = 'rural-dilapidated-housing' AND v.jurisdiction_code = '340499101202'""").fetchone()


def test_stale_village_side(conn, today):
    ns = notices_for(conn, "tekun-support", "340499100202")
    t, v = newest(ns, "township"), newest(ns, "village")
    t_formed, v_formed = date.fromisoformat(t["formed_on"]), date.fromisoformat(v["formed_on"])
    assert workdays_between(v_formed, t_formed) > 20
    assert workdays_between(t_formed, today) > 10   # past the matter's 10-working-day limit
    assert "陈*宝" in {r["姓名"] for r in table(t)} - {r["姓名"] for r in table(v)}
    assert json.loads(t["fields"])["供养人数"] == "4人" and json.loads(v["fields"])["供养人数"] == "3人"
    assert len([n for n in ns if n["level"] == "township"]) == 2   # original list and the change


def test_consistent_cases_agree(conn):
    for key, village, case in demo.DESIGNED_CASES:
        if case != "consistent":
            continue
        ns = notices_for(conn, key, village)
        pubs = [newest(ns, lv) for lv in ("county", "township", "village")]
        pubs = [p for p in pubs if p]
        assert len(pubs) >= 2
        assert len({(p["fields"], p["table_rows"], p["formed_on"]) for p in pubs}) == 1, (key, village)


def test_alignment_reports_the_designed_statuses(conn, today):
    from content import alignment, matters
    expected = {"consistent": alignment.CONSISTENT, "missing-village": alignment.MISSING,
                "stale-village": alignment.STALE}
    for key, village, case in demo.DESIGNED_CASES:
        m = next(x for x in matters.list_matters(conn) if x["key"] == key)
        result = matters.align_for_village(conn, m, village, today)
        assert result.status == expected.get(case, alignment.INCONSISTENT), (key, village, result.summary())


# ------------------------------------------------------------------ notices

def test_notice_timing(conn, today):
    d = today.isoformat()
    ns = rows(conn, "SELECT * FROM notice WHERE status = 'published'")   # the demo draft never shows
    future = [n for n in ns if n["published_at"][:10] > d]
    out = [n for n in ns if n["published_at"][:10] <= d]
    live = [n for n in out if (not n["period_end"] or n["period_end"] >= d)
            and (not n["expires_on"] or n["expires_on"] >= d)]
    expired = [n for n in out if n not in live]
    assert len(future) >= 3 and len(live) >= 10 and len(expired) >= 5
    assert any(n["period_start"] and n["period_start"] > d for n in future)
    for n in ns:
        assert n["status"] == "published"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", n["published_at"])
        if n["period_start"]:
            assert n["published_at"][:10] <= n["period_start"] <= n["period_end"]
            assert n["period_start"] <= d or n in future
    assert {n["kind"] for n in ns} == {"公示", "公告", "信息"}
    assert any(json.loads(n["table_rows"]) for n in live)
    assert any(n["expires_on"] for n in ns)
    publishers = {conn.execute("SELECT level FROM jurisdiction WHERE code = ?",
                               (n["jurisdiction_code"],)).fetchone()[0] for n in ns}
    assert publishers == {"county", "township", "village"}


def test_exactly_one_urgent_and_it_is_current(conn, today):
    d = today.isoformat()
    urgent = rows(conn, "SELECT * FROM notice WHERE priority = '紧急'")
    assert len(urgent) == 1
    u = urgent[0]
    assert u["jurisdiction_code"] == COUNTY
    assert u["published_at"][:10] <= d <= u["period_end"] and u["expires_on"] >= d
    assert ("防汛" in u["title"]) == (4 <= today.month <= 10)
    assert conn.execute("SELECT count(*) FROM notice WHERE priority = '重要'").fetchone()[0] >= 2


def test_publicity_periods(conn):
    for n in rows(conn, "SELECT n.* FROM notice n JOIN matter m ON m.id = n.matter_id "
                        "WHERE m.key = 'dibao-review'"):
        start, end = date.fromisoformat(n["period_start"]), date.fromisoformat(n["period_end"])
        assert (end - start).days == 6   # 公示7天
    n = rows(conn, "SELECT n.* FROM notice n JOIN matter m ON m.id = n.matter_id "
                   "WHERE m.key = 'farmland-protection-subsidy' LIMIT 1")[0]
    start, end = date.fromisoformat(n["period_start"]), date.fromisoformat(n["period_end"])
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    assert sum(is_workday(x) for x in days) == 7 and is_workday(end)   # 7个工作日


def test_notices_are_marked_and_masked(conn):
    ns = rows(conn, "SELECT * FROM notice")
    assert all("（示例数据）" in n["body"] for n in ns)
    assert not any("{" in n["title"] + n["body"] for n in ns)
    seen = 0
    for n in ns:
        for r in table(n):
            if "身份证号" in r:
                assert MASKED_ID.match(r["身份证号"]), r
                seen += 1
            for col in ("姓名", "户主姓名", "申请人", "权利人"):
                if col in r:
                    assert MASKED_NAME.match(r[col]), r
    assert seen >= 50


# ------------------------------------------------------------------ guides, handbooks, consultations

def test_guides(conn):
    gs = rows(conn, "SELECT * FROM guide")
    assert len(gs) >= 20
    assert len({g["domain_id"] for g in gs}) >= 10
    for g in gs:
        for col in ("title", "summary", "conditions", "office", "address", "hours", "phone", "fee",
                    "time_limit_text", "basis", "online_url"):
            assert g[col], (g["title"], col)
        assert g["status"] == "published"
        assert re.fullmatch(r"0554-\d{7}", g["phone"])
        assert re.fullmatch(r"https://zwfw\.huaichuan\.example/guide/[a-z0-9-]+", g["online_url"])
        materials = json.loads(g["materials"])
        assert materials and all(set(m) == {"name", "spec", "copies", "note"} and m["name"]
                                 for m in materials)
        steps = json.loads(g["steps"])
        assert len(steps) >= 2 and all(isinstance(s, str) and s for s in steps)
    assert len({g["online_url"] for g in gs}) == len(gs)
    assert sum(g["fee"] == "不收费" for g in gs) >= 20


def test_handbooks(conn):
    hs = rows(conn, "SELECT h.*, (SELECT count(*) FROM handbook_guide hg WHERE hg.handbook_id = h.id) AS n "
                    "FROM handbook h")
    titles = {h["title"] for h in hs}
    assert {"新生儿出生一件事", "退休一件事", "农村建房一件事"} <= titles
    assert all(h["n"] >= 2 and h["status"] == "published" for h in hs)


def test_consultations(conn, today):
    d = today.isoformat()
    cs = rows(conn, "SELECT * FROM consultation")
    open_ = [c for c in cs if c["opens_on"] <= d <= c["closes_on"]]
    closed = [c for c in cs if c["closes_on"] < d]
    assert len(open_) == 1 and not open_[0]["result_summary"]
    assert len(closed) == 1 and "采纳" in closed[0]["result_summary"]


# ------------------------------------------------------------------ accounts, history, integrity

def test_demo_accounts(conn):
    assert [a[0] for a in demo.DEMO_ACCOUNTS] == ["county-admin", "township-editor",
                                                  "village-editor", "village-supervisor"]
    for username, role, code, display in demo.DEMO_ACCOUNTS:
        u = conn.execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
        assert (u["role"], u["jurisdiction_code"], u["display_name"], u["active"]) == (role, code, display, 1)
        assert verify_password(u["password_hash"], demo.DEMO_PASSWORD)
        assert not verify_password(u["password_hash"], "wrong-password")
    assert dict((a[0], a[2]) for a in demo.DEMO_ACCOUNTS) == {
        "county-admin": COUNTY, "township-editor": "340499100000",
        "village-editor": "340499100201", "village-supervisor": "340499100201"}


def test_every_content_row_has_its_first_revision(conn):
    for table_name in ("matter", "catalogue_item", "village_item", "notice", "guide", "handbook",
                       "consultation"):
        content = {r["id"]: dict(r) for r in conn.execute(f"SELECT * FROM {table_name}")}
        revs = rows(conn, "SELECT * FROM revision WHERE entity = ?", table_name)
        assert sorted(r["entity_id"] for r in revs) == sorted(content)
        for r in revs:
            assert r["rev"] == 1 and r["state"] == content[r["entity_id"]]["status"]   # the one draft
            assert json.loads(r["data"]) == content[r["entity_id"]]


def test_integrity(conn):
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# ------------------------------------------------------------------ building

def test_build_twice_gives_equal_counts(tmp_path):
    a = open_database(tmp_path / "a.db")
    b = open_database(tmp_path / "b.db")
    c = open_database(tmp_path / "c.db")
    try:
        counts = demo.build_demo(a)
        assert demo.build_demo(b) == counts
        assert demo.build_demo(c, date(2031, 7, 5)) == counts   # the date moves, the counts do not
        assert counts["notice"] >= 30
    finally:
        for conn in (a, b, c):
            conn.close()


def test_refuses_a_non_empty_database(tmp_path):
    conn = open_database(tmp_path / "k.db")
    try:
        first = demo.build_demo(conn)
        with pytest.raises(RuntimeError):
            demo.build_demo(conn)
        assert not conn.in_transaction
        assert conn.execute("SELECT count(*) FROM notice").fetchone()[0] == first["notice"]
    finally:
        conn.close()


def test_all_or_nothing(tmp_path, monkeypatch):
    real = demo._json

    def broken(name):
        if name == "consultations.json":   # the last step: most rows are already written
            raise OSError("disk on fire")
        return real(name)

    monkeypatch.setattr(demo, "_json", broken)
    conn = open_database(tmp_path / "k.db")
    try:
        with pytest.raises(OSError):
            demo.build_demo(conn)
        assert not conn.in_transaction
        for t in ("jurisdiction", "user", "notice", "guide", "revision", "meta"):
            assert conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == 0, t
    finally:
        conn.close()
