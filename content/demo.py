"""The demo county 淮川县: fictional sample data (示例数据) and its loader.

``build_demo(conn, today)`` fills an already migrated, empty database in one
transaction from the files in ``content/demo_data/``: the county, 3 townships
and 6 villages/communities, the 26 pilot domains, the standard catalogues
(standard CSV header, the same format ``kiosk import-catalog`` reads), the
village-affairs lists, matters with what each level published, notices,
guides, handbooks, consultations and the four demo accounts. All dates are
computed from ``today`` (working days on the official calendar), so the demo
always has current, expired and future notices, whenever it is built.

Designed alignment cases (matter key @ village code: what differs). Every
case's publications share one formed_on except the stale one, so only the
designed difference shows. Machine-readable copy: ``DESIGNED_CASES``.

* farmland-protection-subsidy @ 340499100201 杏花村 — 不一致 (one row):
  王*明 has 10.00亩 and 补贴金额 "1,050.00" in 东湖镇人民政府's list, 9.60亩 and
  "1,008.00" in 杏花村村民委员会's list, so the totals differ too (7,770元 vs
  7,728元); all other rows agree and each list adds up on its own.
* elderly-allowance @ 340499101201 柳林村 — 不一致 (one field): 发放标准 is
  "80—89周岁每人每月50元，90—99周岁每人每月100元" in 柳林乡人民政府's notice and
  "80周岁以上每人每月50元" in 柳林村's; rows and totals (2,250元) agree.

Every published list adds up (content.figures).  One draft of 杏花村 does not,
on purpose: its 合计 row is 100元 short, to show the figure check.
* dibao-review @ 340499001001 南门社区 — 不一致 (a missing row): 刘*芳 is in
  城关街道办事处's list only; 审核户数 "4户" vs "3户", 保障人数 "6人" vs "4人",
  月保障金合计 "4,140元" vs "2,620元".
* rural-dilapidated-housing @ 340499101202 马岗村 — 缺失: 淮川县城乡建设局
  (county) and 柳林乡 published the list; 马岗村 published nothing.
* tekun-support @ 340499100202 桥头村 — 过期 (stale): 东湖镇 published the
  original 3-person list (formed 62 working days ago) and then a change
  adding 陈*宝 (formed 32 working days ago, 供养人数 "4人"); 桥头村 still shows
  the original list formed 62 working days ago ("3人"): 30 working days older,
  and the matter's 10-working-day limit has long passed.
* consistent: farmland-protection-subsidy @ 340499101202 马岗村,
  dibao-review @ 340499100202 桥头村, rural-dilapidated-housing @
  340499100203 白塔村 (3 levels), temporary-relief @ 340499001001 南门社区,
  poverty-monitoring @ 340499100203 白塔村, disaster-relief-fund @
  340499101201 柳林村 (3 levels), public-rental-housing @ 340499001001
  南门社区 (3 levels), medical-insurance-subsidy @ 340499100201 杏花村,
  land-acquisition-compensation @ 340499100202 桥头村 (county + village).

A village item names its matter only in villages that have a case for it, so
the alignment views list what the demo actually published.

Other fixed points: exactly one 紧急 notice (the county's flood warning from
April to October, a cold-wave warning otherwise), current on the build date;
catalogue rows with review_by in the past (财政预决算/一般公共预算,
户籍管理/居住证申领, 安全生产/年度监督检查计划, and two township rows).
"""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import date, datetime, timedelta
from importlib import resources

from . import users
from .db import immediate, set_meta
from .timelimits import add_workdays, is_workday, parse_time_limit

__all__ = ["DEMO_PASSWORD", "DEMO_ACCOUNTS", "DEMO_COUNTY_CODE", "DESIGNED_CASES",
           "CATALOGUE_HEADER", "build_demo"]

DEMO_PASSWORD = "demo-password"
DEMO_COUNTY_CODE = "340499000000"

# (username, role, jurisdiction_code, display name)
DEMO_ACCOUNTS = [
    ("county-admin", "county_admin", "340499000000", "淮川县政务公开办管理员"),
    ("township-editor", "township_editor", "340499100000", "东湖镇党政办编辑"),
    ("village-editor", "village_editor", "340499100201", "杏花村村务编辑"),
    ("village-supervisor", "village_supervisor", "340499100201", "杏花村村务监督委员会成员"),
]

# (matter key, village code, case) as in demo_data/matter_notices.json.
DESIGNED_CASES = [
    ("farmland-protection-subsidy", "340499100201", "inconsistent-row"),
    ("farmland-protection-subsidy", "340499101202", "consistent"),
    ("dibao-review", "340499100202", "consistent"),
    ("dibao-review", "340499001001", "inconsistent-missing-row"),
    ("tekun-support", "340499100202", "stale-village"),
    ("rural-dilapidated-housing", "340499101202", "missing-village"),
    ("rural-dilapidated-housing", "340499100203", "consistent"),
    ("elderly-allowance", "340499101201", "inconsistent-field"),
    ("temporary-relief", "340499001001", "consistent"),
    ("poverty-monitoring", "340499100203", "consistent"),
    ("disaster-relief-fund", "340499101201", "consistent"),
    ("public-rental-housing", "340499001001", "consistent"),
    ("medical-insurance-subsidy", "340499100201", "consistent"),
    ("land-acquisition-compensation", "340499100202", "consistent"),
]

# The standard catalogue header (基层政务公开事项标准目录).
CATALOGUE_HEADER = ["序号", "领域", "一级事项", "二级事项", "公开内容(要素)", "公开依据",
                    "公开时限", "公开主体", "公开渠道和载体", "公开对象", "公开方式", "公开层级"]

SAMPLE_MARK = "（示例数据）"

# Tables whose rows get a first revision; and every table counted in the result.
_REVISED = ("matter", "catalogue_item", "village_item", "notice", "guide", "handbook",
            "consultation", "policy_document")
_COUNTED = ("meta", "jurisdiction", "domain", "user", "matter", "catalogue_item",
            "village_item", "notice", "guide", "handbook", "handbook_guide",
            "consultation", "policy_document", "policy_interpretation", "revision")

_LEVEL_OF_KIND = {"县": "county", "镇": "township", "乡": "township", "街道": "township",
                  "村": "village", "社区": "village"}
_QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")
_BEIJING = timedelta(hours=8)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


# ----------------------------------------------------------------------- files

def _data_dir():
    return resources.files("content").joinpath("demo_data")


def _json(name: str):
    return json.loads(_data_dir().joinpath(name).read_text("utf-8"))


def _catalogue_rows(code: str) -> list[dict]:
    """The rows of demo_data/catalogue_<code>.csv (standard header), if the file exists."""
    entry = _data_dir().joinpath(f"catalogue_{code}.csv")
    if not entry.is_file():
        return []
    reader = csv.DictReader(io.StringIO(entry.read_text("utf-8-sig")))
    if reader.fieldnames != CATALOGUE_HEADER:
        raise ValueError(f"catalogue_{code}.csv: unexpected header {reader.fieldnames}")
    return list(reader)


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[、,，;；]", text or "") if p.strip()]


# ----------------------------------------------------------------------- dates

def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _wd(today: date, offset: int) -> date:
    """The date ``offset`` working days from today (0 = today itself)."""
    return add_workdays(today, offset) if offset else today


def _period_end(start: date, count: int, unit: str) -> date:
    """Last day of a publicity period of ``count`` days/working days, start included."""
    if unit == "workday":
        return add_workdays(start, count - 1 if is_workday(start) else count)
    return start + timedelta(days=count - 1)


def _utc_stamp(day: date, hhmm: str) -> str:
    """Beijing local day + time as the schema's UTC timestamp."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, hour, minute)
    return (local - _BEIJING).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fill(text: str, values: dict) -> str:
    """Replace the known {placeholders}; leave any other braces alone."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _fill_json(obj, values: dict):
    if isinstance(obj, str):
        return _fill(obj, values)
    if isinstance(obj, list):
        return [_fill_json(x, values) for x in obj]
    if isinstance(obj, dict):
        return {_fill(k, values): _fill_json(v, values) for k, v in obj.items()}
    return obj


def _base_values(today: date) -> dict:
    prev = today.replace(day=1) - timedelta(days=1)
    budget = f"{prev.year}年1月" if prev.month == 1 else f"{prev.year}年1—{prev.month}月"
    return {"year": str(today.year), "last_year": str(today.year - 1),
            "next_year": str(today.year + 1), "quarter": _QUARTERS[(today.month - 1) // 3],
            "prev_month": f"{prev.year}年{prev.month}月", "budget_period": budget}


# ----------------------------------------------------------------------- writing

def _time_limit(text: str) -> str | None:
    parsed = parse_time_limit(text)
    return None if parsed is None else json.dumps(parsed, ensure_ascii=False)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Writer:
    """Inserts rows and their first revision."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.authors: dict[str, int] = {}   # jurisdiction code -> demo user id

    def insert(self, table: str, row: dict, author_code: str | None = None) -> int:
        cols = list(row)
        cur = self.conn.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [row[c] for c in cols])
        row_id = cur.lastrowid
        if table in _REVISED:
            data = dict(self.conn.execute(f"SELECT * FROM {table} WHERE id = ?",
                                          (row_id,)).fetchone())
            self.conn.execute(
                "INSERT INTO revision(entity, entity_id, rev, data, state, author_id, note) "
                "VALUES (?, ?, 1, ?, 'published', ?, ?)",
                (table, row_id, _dumps(data), self.authors.get(author_code or ""),
                 "示例数据初始化"))
        return row_id


def build_demo(conn: sqlite3.Connection, today: date | None = None) -> dict:
    """Write the demo county into a migrated, empty database; return row counts per table.

    Everything lands in one transaction (content.db.immediate) or not at all.
    """
    today = today or date.today()
    if conn.in_transaction:
        raise RuntimeError("build_demo needs a connection outside any transaction")
    with immediate(conn):
        for table in ("jurisdiction", "domain", "catalogue_item", "notice", "user"):
            if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                raise RuntimeError(f"build_demo needs an empty database ({table} has rows)")
        _build(conn, today)
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _COUNTED}
    return counts


def _build(conn: sqlite3.Connection, today: date) -> None:
    w = _Writer(conn)
    county = _json("county.json")

    # -- meta
    for key, value in county["meta"].items():
        set_meta(conn, key, value)
    set_meta(conn, "demo_built_on", today.isoformat())

    # -- jurisdictions
    c = county["county"]
    names = {c["code"]: c["name"]}
    towns = {}          # code -> township record (with government name, phone…)
    villages = {}       # code -> village record plus its township code
    w.insert("jurisdiction", {"code": c["code"], "name": c["name"], "level": "county",
                              "parent_code": None, "kind": c["kind"], "sort": 0})
    for t in county["townships"]:
        w.insert("jurisdiction", {"code": t["code"], "name": t["name"],
                                  "level": _LEVEL_OF_KIND[t["kind"]], "parent_code": c["code"],
                                  "kind": t["kind"], "sort": t["sort"]})
        names[t["code"]] = t["name"]
        towns[t["code"]] = t
        for v in t["villages"]:
            w.insert("jurisdiction", {"code": v["code"], "name": v["name"],
                                      "level": _LEVEL_OF_KIND[v["kind"]],
                                      "parent_code": t["code"], "kind": v["kind"],
                                      "sort": v["sort"]})
            names[v["code"]] = v["name"]
            villages[v["code"]] = dict(v, township=t["code"])

    # -- domains
    domain_ids = {}
    for d in _json("domains.json"):
        w.insert("domain", {"id": d["id"], "name": d["name"], "departments": _dumps(d["departments"]),
                            "pilot": 1, "sort": d["id"]})
        domain_ids[d["name"]] = d["id"]

    # -- users
    for username, role, code, display in DEMO_ACCOUNTS:
        uid = users.create_user(conn, username, DEMO_PASSWORD, role, code, display)
        w.authors.setdefault(code, uid)

    # -- matters
    matter_ids, matter_domain = {}, {}
    for m in _json("matters.json"):
        matter_ids[m["key"]] = w.insert("matter", {
            "key": m["key"], "title": m["title"], "domain_id": domain_ids[m["domain"]],
            "description": m["description"], "levels": _dumps(m["levels"]),
            "key_columns": _dumps(m["key_columns"]), "time_limit_text": m["time_limit_text"],
            "time_limit": _time_limit(m["time_limit_text"]), "status": "published"}, c["code"])
        matter_domain[m["key"]] = domain_ids[m["domain"]]

    # -- catalogues
    extras = {}
    for e in _json("catalogue_extra.json")["rows"]:
        targets = list(towns) if e["jurisdiction"] == "township" else [e["jurisdiction"]]
        for code in targets:
            extras[(code, e["domain"], e["level1"], e["level2"])] = e
    items = {}          # (code, domain, level1, level2) -> id
    item_by_matter = {}  # (code, matter key) -> id
    for code in [c["code"], *towns]:
        for row in _catalogue_rows(code):
            key = (code, row["领域"], row["一级事项"], row["二级事项"])
            extra = extras.pop(key, {})
            review = extra.get("review_by_days")
            audience = row["公开对象"].replace("特定群众", "特定群体")
            item_id = w.insert("catalogue_item", {
                "jurisdiction_code": code, "domain_id": domain_ids[row["领域"]],
                "matter_id": matter_ids[extra["matter"]] if extra.get("matter") else None,
                "seq": int(row["序号"]), "level1": row["一级事项"], "level2": row["二级事项"],
                "content_elements": row["公开内容(要素)"], "basis": row["公开依据"],
                "time_limit_text": row["公开时限"], "time_limit": _time_limit(row["公开时限"]),
                "publisher": row["公开主体"], "channels": _dumps(_split(row["公开渠道和载体"])),
                "audience": audience, "mode": row["公开方式"],
                "levels": _dumps(_split(row["公开层级"])),
                "online_url": extra.get("online_url", ""),
                "review_by": (today + timedelta(days=review)).isoformat() if review is not None else None,
                "status": "published"}, code)
            items[key] = item_id
            if extra.get("matter"):
                item_by_matter[(code, extra["matter"])] = item_id
    unmatched = sorted(k for k, e in extras.items() if e["jurisdiction"] != "township")
    if unmatched:
        raise ValueError(f"catalogue_extra.json rows match no catalogue row: {unmatched}")

    # -- village-affairs lists
    cases = _json("matter_notices.json")["cases"]
    linked = {(case["matter"], case["subject"]) for case in cases}
    vdata = _json("village_items.json")
    village_items = {}    # (village code, title) -> id
    vitem_by_matter = {}  # (village code, matter key) -> id
    for code, v in villages.items():
        template = vdata["community"] if v["kind"] == "社区" else vdata["village"]
        overrides = vdata.get("overrides", {}).get(code, {})
        for seq, tpl in enumerate([*template, *vdata.get("extra", {}).get(code, [])], 1):
            it = dict(tpl, **overrides.get(tpl["title"], {}))
            matter = it.get("matter") if (it.get("matter"), code) in linked else None
            review = it.get("review_by_days")
            vid = w.insert("village_item", {
                "jurisdiction_code": code, "category": it["category"], "title": it["title"],
                "content": it["content"], "time_limit_text": it["time_limit_text"],
                "time_limit": _time_limit(it["time_limit_text"]), "frequency": it["frequency"],
                "responsible": v["name"] + it["responsible"], "channels": _dumps(it["channels"]),
                "matter_id": matter_ids[matter] if matter else None, "seq": seq,
                "review_by": (today + timedelta(days=review)).isoformat() if review is not None else None,
                "status": "published"}, code)
            village_items[(code, it["title"])] = vid
            if matter:
                vitem_by_matter[(code, matter)] = vid

    base = _base_values(today)

    def notice(code: str, subject: str, n: dict, *, published: date, formed: date,
               item_id=None, village_item_id=None, matter_id=None, domain_id=None) -> int:
        period = n.get("period")
        start = end = None
        if period:
            start = _wd(today, period["start"]) if "start" in period else published
            end = _period_end(start, period["count"], period["unit"])
        expires = (today + timedelta(days=n["expires_days"])
                   if n.get("expires_days") is not None else None)
        values = dict(base, published_on=_cn_date(published),
                      quarter=_QUARTERS[(published.month - 1) // 3])
        if start:
            values.update(period_start=_cn_date(start), period_end=_cn_date(end))
        if expires:
            values["expires_on"] = _cn_date(expires)
        body = _fill(n["body"], values)
        if SAMPLE_MARK not in body:
            body += SAMPLE_MARK
        return w.insert("notice", {
            "jurisdiction_code": code, "subject_code": subject, "domain_id": domain_id,
            "item_id": item_id, "village_item_id": village_item_id, "matter_id": matter_id,
            "kind": n["kind"], "title": _fill(n["title"], values), "body": body,
            "publisher": n["publisher"], "fields": _dumps(_fill_json(n.get("fields", {}), values)),
            "table_columns": _dumps(_fill_json(n.get("table_columns", []), values)),
            "table_rows": _dumps(_fill_json(n.get("table_rows", []), values)),
            "formed_on": formed.isoformat(), "published_at": _utc_stamp(published, n.get("time", "09:00")),
            "period_start": start.isoformat() if start else None,
            "period_end": end.isoformat() if end else None,
            "expires_on": expires.isoformat() if expires else None,
            "priority": n.get("priority", "普通"), "online_url": n.get("online_url", ""),
            "status": "published", "created_by": w.authors.get(code)}, code)

    # -- notices for matters (the alignment cases)
    for case in cases:
        key, subject = case["matter"], case["subject"]
        for p in case["publications"]:
            code = p["jurisdiction"]
            if p["level"] == "village":
                refs = {"village_item_id": vitem_by_matter[(code, key)]}
            else:
                refs = {"item_id": item_by_matter[(code, key)]}
            notice(code, subject, p, published=_wd(today, p["published"]),
                   formed=_wd(today, p["formed"]), matter_id=matter_ids[key],
                   domain_id=matter_domain[key], **refs)

    # -- other notices
    season = "flood" if 4 <= today.month <= 10 else "cold"
    for n in _json("notices.json")["notices"]:
        if "seasonal" in n:
            n = dict(n, **n["seasonal"][season])
        code = n["jurisdiction"]
        published = _wd(today, n["published"])
        refs = {}
        if n.get("item"):
            refs["item_id"] = items[(code, *n["item"])]
        if n.get("village_item"):
            refs["village_item_id"] = village_items[(code, n["village_item"])]
        nid = notice(code, n.get("subject", code), n, published=published,
                     formed=_wd(today, n.get("formed", n["published"])),
                     domain_id=domain_ids[n["domain"]] if n.get("domain") else None, **refs)
        if n.get("draft"):
            # A draft the village editor is still working on: never on a screen.
            conn.execute("UPDATE notice SET status = 'draft', published_at = NULL WHERE id = ?", (nid,))
            conn.execute("UPDATE revision SET state = 'draft', note = ?, "
                         "data = json_set(data, '$.status', 'draft', '$.published_at', NULL) "
                         "WHERE entity = 'notice' AND entity_id = ?", (n["draft"], nid))

    # -- guides and handbooks
    gdata = _json("guides.json")
    guide_ids = {}
    for g in gdata["guides"]:
        g = {**gdata["defaults"], **g}
        code = g["jurisdiction"]
        guide_ids[g["slug"]] = w.insert("guide", {
            "jurisdiction_code": code, "domain_id": domain_ids[g["domain"]],
            "item_id": items[(code, *g["item"])] if g.get("item") else None,
            "title": g["title"], "summary": g["summary"], "conditions": g["conditions"],
            "materials": _dumps(g["materials"]), "steps": _dumps(g["steps"]),
            "office": g["office"], "address": g["address"], "hours": g["hours"],
            "phone": g["phone"], "fee": g["fee"], "time_limit_text": g["time_limit_text"],
            "basis": g["basis"],
            "online_url": f"https://zwfw.huaichuan.example/guide/{g['slug']}",
            "status": "published"}, code)
    for h in _json("handbooks.json")["handbooks"]:
        code = h.get("jurisdiction", c["code"])
        hid = w.insert("handbook", {"jurisdiction_code": code, "title": h["title"],
                                    "description": h["description"], "status": "published"}, code)
        for sort, slug in enumerate(h["guides"], 1):
            w.insert("handbook_guide", {"handbook_id": hid, "guide_id": guide_ids[slug],
                                        "sort": sort})

    # -- consultations
    for k in _json("consultations.json")["consultations"]:
        w.insert("consultation", {
            "jurisdiction_code": k["jurisdiction"], "domain_id": domain_ids[k["domain"]],
            "title": k["title"], "body": k["body"],
            "opens_on": (today + timedelta(days=k["opens"])).isoformat(),
            "closes_on": (today + timedelta(days=k["closes"])).isoformat(),
            "result_summary": k.get("result_summary", ""), "status": "published",
            "documents": json.dumps(k.get("documents", []), ensure_ascii=False),
            "result_published_on": ((today + timedelta(days=k["result_published"])).isoformat()
                                    if "result_published" in k else None)},
            k["jurisdiction"])

    # -- policy documents and their 解读
    _demo_policies(w, today, domain_ids, items)

    # -- noticeboards (电子公示栏)
    _demo_boards(conn, county)
    _demo_office_phones(conn, c["code"])


def _demo_policies(w: _Writer, today: date, domain_ids: dict, items: dict) -> None:
    """A few 政策文件 of the demo county with their 解读 (content.policies): one released with
    its Q&A and letter, one whose 明白卡 came out late, one repealed, one 依申请公开."""
    from . import policies  # noqa: PLC0415

    def day(offset):
        return None if offset is None else (today + timedelta(days=offset)).isoformat()

    for p in _json("policies.json")["policies"]:
        code = p["jurisdiction"]
        doc_id = w.insert("policy_document", {
            "jurisdiction_code": code, "domain_id": domain_ids[p["domain"]], "title": p["title"],
            "doc_number": p["doc_number"], "issuer": p["issuer"], "body": p["body"],
            "written_on": day(p["written"]), "issued_on": day(p["issued"]),
            "validity": p["validity"], "lapsed_on": day(p.get("lapsed")),
            "disclosure": p["disclosure"], "withheld_reason": p.get("withheld_reason", ""),
            "needs_interpretation": p["needs_interpretation"], "status": "published",
            "published_at": _utc_stamp(today + timedelta(days=p["published"]), "09:30")}, code)
        for domain, level1, level2 in p["items"]:
            w.insert("policy_document_item", {"document_id": doc_id,
                                              "item_id": items[(code, domain, level1, level2)]})
        for sort, it in enumerate(p["interpretations"]):
            w.insert("policy_interpretation", {
                "document_id": doc_id, "key": policies.new_key(), "form": it["form"], "title": it["title"],
                "body": it.get("body", ""), "qa": _dumps(it.get("qa", [])), "sort": sort,
                "published_at": _utc_stamp(today + timedelta(days=it["published"]), "09:30")})


def _demo_office_phones(conn: sqlite3.Connection, county_code: str) -> None:
    """Every landline the demo content publishes is an office number of the demo county
    (公开办公电话), marked so that the privacy guard lets it through."""
    from . import privacy  # noqa: PLC0415
    seen = set()
    for table, cols in (("notice", "title, body, publisher, fields, table_rows"),
                        ("guide", "phone, summary, conditions, office, address, steps"),
                        ("village_item", "content, responsible"), ("consultation", "body, documents")):
        for row in conn.execute(f"SELECT {cols} FROM {table}"):
            for text in row:
                for f in privacy.scan_data({"t": text or ""}, {}):
                    if f.kind == privacy.LANDLINE and f.digits not in seen:
                        seen.add(f.digits)
                        conn.execute("INSERT INTO office_phone(jurisdiction_code, digits, number, label) "
                                     "VALUES (?, ?, ?, '示例数据中的办公电话')", (county_code, f.digits, f.text))


def _demo_boards(conn: sqlite3.Connection, county: dict) -> None:
    """A landscape board in the county service hall and one wall screen per village."""
    from pypinyin import lazy_pinyin
    fallback = ("目前没有正在公示期内的事项。\n往期公示公告可在政务公开查询机上查阅，"
                "或用手机扫描右侧二维码查看。（示例数据）")
    c = county["county"]
    boards = [{"slug": "county-hall", "name": f"{c['name']}政务服务大厅公示栏",
               "location": f"{c['name']}政务服务中心一楼 政务公开专区", "code": c["code"],
               # A board rotates what its own chain publishes: the county hall's, the county's.
               "levels": ["county"], "orientation": "landscape",
               "slide_seconds": 15, "windows": []}]
    for t in county["townships"]:
        for v in t["villages"]:
            community = v["kind"] == "社区"
            boards.append({
                "slug": "".join(lazy_pinyin(v["name"])), "code": v["code"],
                "name": f"{v['name']}{'居务' if community else '村务'}公开栏",
                "location": f"{t['name']}{v['name']}{'社区服务中心' if community else '村民广场'}",
                "levels": [], "slide_seconds": 12,
                # One portrait screen, and one board that rests at night (dayparting).
                "orientation": "portrait" if v["name"] == "杏花村" else "landscape",
                "windows": [{"start": "06:00", "end": "22:30"}] if v["name"] == "马岗村" else []})
    for sort, b in enumerate(boards):
        conn.execute(
            "INSERT INTO board (slug, name, location, jurisdiction_code, levels, orientation, "
            "slide_seconds, poll_seconds, windows, fallback_text, sort) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (b["slug"], b["name"], b["location"], b["code"], _dumps(b["levels"]), b["orientation"],
             b["slide_seconds"], 30, _dumps(b["windows"]), fallback, sort))
