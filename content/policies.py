"""Policy documents (政策文件) and their interpretations (政策解读).

A document is an ordinary noun of ``content.editing`` (draft → review → publish, revisions,
audit, privacy guard).  Its interpretations (文字解读, 简明问答, 图解, 明白卡, 一封信), its
attachments and the catalogue items it belongs to travel inside the document's revision as
virtual fields, so the reviewer signs the policy and its 解读 together and they are released
in the same step (同步审签、同步发布).  On approval they are written into their own tables
(``publish_parts``); an interpretation keeps the moment it first came out, so one added in a
later revision can be judged late (content.assessment_policy).

A 主动公开 document in the 解读 scope (``needs_interpretation``) is refused at submission and
approval without an interpretation, unless the county allows it (setting
``policy_interpretation_required = false``), in which case the dashboard lists it.

What residents may see: 不予公开 documents never (they are not even sent to terminals);
依申请公开 ones with their metadata only, pointing to the application form; 主动公开 ones whole.
"""
from __future__ import annotations

import json
import re
import sqlite3
import uuid
from . import pictures

VALIDITY = ("现行有效", "失效", "废止")
DISCLOSURE = ("主动公开", "依申请公开", "不予公开")
FORMS = ("文字解读", "简明问答", "图解", "明白卡", "一封信")
# Forms shown with pictures (图解 must have one; a 明白卡 or 一封信 may be a scan).
PICTURE_FORMS = ("图解", "明白卡", "一封信")
# Legal grounds staff pick from (政府信息公开条例, 2019) when a document is not 主动公开.
WITHHELD_REASONS = (
    "第十四条：依法确定为国家秘密，或法律、行政法规禁止公开，或公开后可能危及国家安全、公共安全、经济安全、社会稳定",
    "第十五条：涉及商业秘密、个人隐私等，公开会对第三方合法权益造成损害",
    "第十六条第一款：行政机关的内部事务信息",
    "第十六条第二款：行政机关在履行行政管理职能过程中形成的过程性信息、行政执法案卷信息",
    "第二十七条：不属于主动公开范围，公民、法人或其他组织可以申请获取",
)
MAX_INTERPRETATIONS = 10
MAX_QA = 30
DEFAULT_LATE_DAYS = 3
BOARD_QA_CARDS = 4           # Q&A slides one board rotates at most
# Interpretation keys are letters only: the privacy guard reads every string of a revision,
# and a run of hex digits could look like a phone or ID number.
_KEY = re.compile(r"^[a-p]{32}$")
_LETTERS = str.maketrans("0123456789", "ghijklmnop")


# --- settings ----------------------------------------------------------------

def _setting(name: str, default):
    """A documented setting (kiosk/config.py SETTINGS) when inside the app, else its default."""
    from flask import current_app, has_app_context  # noqa: PLC0415
    if has_app_context():
        value = current_app.config.get(name)
        if value is not None:
            return value
    return default


def late_days() -> int:
    """Interpretations published more than this many days after their document are late."""
    return int(_setting("POLICY_INTERPRETATION_LATE_DAYS", DEFAULT_LATE_DAYS))


def interpretation_required() -> bool:
    """Whether a document in the 解读 scope is refused without its interpretation."""
    return bool(_setting("POLICY_INTERPRETATION_REQUIRED", True))


# --- checks ------------------------------------------------------------------

def new_key() -> str:
    return uuid.uuid4().hex.translate(_LETTERS)


def is_key(value: str) -> bool:
    return bool(_KEY.match(value or ""))


def needs_release_with_interpretation(data: dict) -> bool:
    return bool(data.get("needs_interpretation")) and data.get("disclosure") == "主动公开"


def check(data: dict) -> dict[str, str]:
    """Rules of a document's data beyond single fields: errors keyed by field name (Chinese)."""
    errors: dict[str, str] = {}
    if data.get("validity") not in VALIDITY:
        errors["validity"] = "请选择有效性"
    elif data["validity"] != "现行有效" and not data.get("lapsed_on"):
        errors["lapsed_on"] = f"文件已{data['validity']}，请填写{data['validity']}日期"
    elif data["validity"] == "现行有效" and data.get("lapsed_on"):
        errors["lapsed_on"] = "现行有效的文件不填写失效或废止日期"
    if data.get("lapsed_on") and data.get("issued_on") and data["lapsed_on"] < data["issued_on"]:
        errors.setdefault("lapsed_on", "失效或废止日期不能早于发布日期")
    if data.get("written_on") and data.get("issued_on") and data["issued_on"] < data["written_on"]:
        errors["issued_on"] = "发布日期不能早于成文日期"
    if data.get("disclosure") not in DISCLOSURE:
        errors["disclosure"] = "请选择公开属性"
    elif data["disclosure"] != "主动公开" and not (data.get("withheld_reason") or "").strip():
        errors["withheld_reason"] = f"{data['disclosure']}的文件必须写明法定理由（如《政府信息公开条例》第几条）"
    interps = data.get("interpretations") or []
    if len(interps) > MAX_INTERPRETATIONS:
        errors["interpretations"] = f"一份文件最多 {MAX_INTERPRETATIONS} 份解读"
    for n, it in enumerate(interps, 1):
        if it.get("form") not in FORMS:
            errors["interpretations"] = f"第{n}份解读的形式不正确"
        elif len(it.get("qa") or []) > MAX_QA:
            errors["interpretations"] = f"第{n}份解读的问答最多 {MAX_QA} 条"
        elif any(not (p.get("q") or "").strip() or not (p.get("a") or "").strip() for p in it.get("qa") or []):
            errors["interpretations"] = f"第{n}份解读有问题没有答案（或答案没有问题）"
    return errors


def release_problems(data: dict) -> list[str]:
    """Why this version may not be released (submitted or approved) yet, in Chinese."""
    problems = []
    interps = data.get("interpretations") or []
    pictured = {a.get("interpretation") for a in data.get("attachments") or [] if a.get("interpretation")}
    for n, it in enumerate(interps, 1):
        name = f"第{n}份解读（{it.get('form')}）"
        if it.get("form") == "简明问答" and not it.get("qa"):
            problems.append(f"{name}还没有问答：请至少写一问一答")
        elif it.get("form") == "图解" and it.get("key") not in pictured:
            problems.append(f"{name}还没有图片：请上传图解图片")
        elif it.get("form") in ("文字解读",) and not (it.get("body") or "").strip():
            problems.append(f"{name}还没有正文")
        elif it.get("form") in ("明白卡", "一封信") and not (it.get("body") or "").strip() \
                and it.get("key") not in pictured:
            problems.append(f"{name}还没有内容：请写正文或上传图片")
    if needs_release_with_interpretation(data) and not interps and interpretation_required():
        problems.append("这份文件属于政策解读范围（主动公开），按规定解读材料须与文件同步审签、同步发布："
                        "请先添加至少一份解读（文字解读、简明问答、图解、明白卡或一封信），再提交审核")
    return problems


# --- the revision's virtual parts -------------------------------------------------

def virtual_data(conn: sqlite3.Connection, doc_id: int) -> dict:
    """Attachments, catalogue items and interpretations of a document's main row, as its
    revision data keeps them."""
    return {
        "attachments": [
            {"name": a["name"], "sha256": a["sha256"], "mime": a["mime"], "size": a["size"],
             "pictures": json.loads(a["pictures"]), "interpretation": a["interpretation_key"]}
            for a in conn.execute("SELECT * FROM policy_attachment WHERE document_id = ? ORDER BY id",
                                  (doc_id,))],
        "item_ids": [r[0] for r in conn.execute(
            "SELECT item_id FROM policy_document_item WHERE document_id = ? ORDER BY item_id", (doc_id,))],
        "interpretations": [
            {"key": r["key"], "form": r["form"], "title": r["title"], "body": r["body"],
             "qa": json.loads(r["qa"])}
            for r in conn.execute("SELECT * FROM policy_interpretation WHERE document_id = ? "
                                  "ORDER BY sort, id", (doc_id,))],
    }


def publish_parts(conn: sqlite3.Connection, doc_id: int, data: dict, stamp: str) -> None:
    """On approval: the approved version's parts into their tables; an interpretation that
    was already out keeps its first publication time."""
    conn.execute("DELETE FROM policy_document_item WHERE document_id = ?", (doc_id,))
    conn.executemany("INSERT OR IGNORE INTO policy_document_item(document_id, item_id) VALUES (?, ?)",
                     [(doc_id, int(i)) for i in data.get("item_ids") or []])
    wanted = data.get("interpretations") or []
    keys = [it["key"] for it in wanted]
    conn.execute("DELETE FROM policy_interpretation WHERE document_id = ? AND key NOT IN "
                 "(SELECT value FROM json_each(?))", (doc_id, json.dumps(keys)))
    for sort, it in enumerate(wanted):
        conn.execute(
            """INSERT INTO policy_interpretation(document_id, key, form, title, body, qa, sort, published_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(document_id, key) DO UPDATE SET form = excluded.form, title = excluded.title,
                   body = excluded.body, qa = excluded.qa, sort = excluded.sort""",
            (doc_id, it["key"], it["form"], it.get("title") or "", it.get("body") or "",
             json.dumps(it.get("qa") or [], ensure_ascii=False), sort, stamp))
    conn.execute("DELETE FROM policy_attachment WHERE document_id = ?", (doc_id,))
    conn.executemany(
        "INSERT INTO policy_attachment(document_id, interpretation_key, name, sha256, mime, size, pictures) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(doc_id, a.get("interpretation") or "", a["name"], a["sha256"], a["mime"], a["size"],
          json.dumps(a.get("pictures") or [], ensure_ascii=False))
         for a in data.get("attachments") or [] if not a.get("interpretation") or a["interpretation"] in keys])


# --- reading for residents ------------------------------------------------------

def _in(values) -> str:
    return ",".join("?" * len(values)) or "NULL"


_PUBLIC = "d.status = 'published' AND d.disclosure <> '不予公开'"


def list_documents(conn: sqlite3.Connection, codes: list[str], issuer: str = "", validity: str = "",
                   year: int | None = None, limit: int = 200) -> list[dict]:
    """Published documents residents may see, newest first, with how many 解读 each has."""
    where, params = [_PUBLIC, f"d.jurisdiction_code IN ({_in(codes)})"], list(codes)
    if issuer:
        where.append("d.issuer = ?")
        params.append(issuer)
    if validity in VALIDITY:
        where.append("d.validity = ?")
        params.append(validity)
    if year:
        where.append("substr(coalesce(d.issued_on, d.published_at), 1, 4) = ?")
        params.append(f"{year:04d}")
    rows = conn.execute(
        f"""SELECT d.id, d.title, d.doc_number, d.issuer, d.issued_on, d.validity, d.lapsed_on,
                   d.disclosure, d.jurisdiction_code, j.name AS jurisdiction_name,
                   (SELECT count(*) FROM policy_interpretation x WHERE x.document_id = d.id
                    AND d.disclosure = '主动公开') AS interpretations,
                   (SELECT group_concat(form, '、') FROM (SELECT DISTINCT x.form FROM policy_interpretation x
                    WHERE x.document_id = d.id AND d.disclosure = '主动公开')) AS forms
            FROM policy_document d JOIN jurisdiction j ON j.code = d.jurisdiction_code
            WHERE {' AND '.join(where)}
            ORDER BY coalesce(d.issued_on, substr(d.published_at, 1, 10)) DESC, d.id DESC LIMIT ?""",
        [*params, limit]).fetchall()
    return [dict(r) for r in rows]


def facets(conn: sqlite3.Connection, codes: list[str]) -> dict:
    """The filter choices of the list: issuers and years that have documents."""
    base = f"FROM policy_document d WHERE {_PUBLIC} AND d.jurisdiction_code IN ({_in(codes)})"
    return {
        "issuers": [r[0] for r in conn.execute(
            f"SELECT d.issuer, count(*) AS n {base} AND d.issuer <> '' GROUP BY d.issuer ORDER BY n DESC, d.issuer",
            codes)],
        "years": [int(r[0]) for r in conn.execute(
            f"SELECT DISTINCT substr(coalesce(d.issued_on, d.published_at), 1, 4) AS y {base} "
            "AND y GLOB '[0-9][0-9][0-9][0-9]' ORDER BY y DESC", codes)],
        "validity": VALIDITY,
    }


def get_document(conn: sqlite3.Connection, doc_id: int, codes: list[str]) -> dict | None:
    """One published document for residents, with its parts when it is 主动公开."""
    row = conn.execute(
        f"""SELECT d.*, j.name AS jurisdiction_name, j.level AS jurisdiction_level, dm.name AS domain_name
            FROM policy_document d JOIN jurisdiction j ON j.code = d.jurisdiction_code
            LEFT JOIN domain dm ON dm.id = d.domain_id
            WHERE d.id = ? AND {_PUBLIC} AND d.jurisdiction_code IN ({_in(codes)})""",
        [doc_id, *codes]).fetchone()
    if row is None:
        return None
    doc = dict(row)
    doc["open"] = doc["disclosure"] == "主动公开"
    doc["catalogue_items"] = [dict(r) for r in conn.execute(
        f"""SELECT i.id, i.level1, i.level2, dm.name AS domain_name FROM policy_document_item p
            JOIN catalogue_item i ON i.id = p.item_id LEFT JOIN domain dm ON dm.id = i.domain_id
            WHERE p.document_id = ? AND i.status = 'published' AND i.jurisdiction_code IN ({_in(codes)})
            ORDER BY i.seq, i.id""", [doc_id, *codes])]
    doc["attachments"], doc["interpretations"] = [], []
    if not doc["open"]:
        doc["body"] = ""
        return doc
    files = [dict(a, shown=pictures.shown(a)) for a in conn.execute(
        "SELECT * FROM policy_attachment WHERE document_id = ? ORDER BY id", (doc_id,))]
    doc["attachments"] = [a for a in files if not a["interpretation_key"]]
    for r in conn.execute("SELECT * FROM policy_interpretation WHERE document_id = ? ORDER BY sort, id",
                          (doc_id,)):
        it = dict(r, qa=json.loads(r["qa"]))
        it["pictures"] = [dict(p, name=a["name"]) for a in files if a["interpretation_key"] == r["key"]
                          for p in a["shown"]]
        doc["interpretations"].append(it)
    return doc


def for_item(conn: sqlite3.Connection, item_id: int, codes: list[str]) -> list[dict]:
    """Documents of a catalogue item, for its page."""
    return [dict(r) for r in conn.execute(
        f"""SELECT d.id, d.title, d.doc_number, d.issuer, d.issued_on, d.validity FROM policy_document d
            JOIN policy_document_item p ON p.document_id = d.id
            WHERE p.item_id = ? AND {_PUBLIC} AND d.jurisdiction_code IN ({_in(codes)})
            ORDER BY d.validity = '现行有效' DESC, d.issued_on DESC, d.id DESC""", [item_id, *codes])]


def qa_cards(conn: sqlite3.Connection, codes: list[str], levels=(), domains=(),
             limit: int = BOARD_QA_CARDS) -> list[dict]:
    """Q&A cards of the newest current 主动公开 documents of ``codes``, for noticeboards:
    the first question of each document first, so one long 问答 does not fill the rotation.
    A board's own filters apply: publisher ``levels`` and ``domains`` (empty: all)."""
    extra, params = "", []
    if levels:
        extra += f" AND d.jurisdiction_code IN (SELECT code FROM jurisdiction WHERE level IN ({_in(levels)}))"
        params += list(levels)
    if domains:
        extra += f" AND d.domain_id IN ({_in(domains)})"
        params += list(domains)
    rows = conn.execute(
        f"""SELECT d.id AS document_id, d.title AS document_title, d.doc_number, d.issuer,
                   d.jurisdiction_code, x.id AS interpretation_id, x.qa
            FROM policy_document d JOIN policy_interpretation x ON x.document_id = d.id
            WHERE d.status = 'published' AND d.disclosure = '主动公开' AND d.validity = '现行有效'
              AND x.form = '简明问答' AND d.jurisdiction_code IN ({_in(codes)}){extra}
            ORDER BY coalesce(d.issued_on, substr(d.published_at, 1, 10)) DESC, d.id DESC, x.sort, x.id""",
        [*codes, *params]).fetchall()
    cards: list[dict] = []
    for rnd in range(MAX_QA):
        for r in rows:
            qa = json.loads(r["qa"])
            if rnd < len(qa) and len(cards) < limit:
                cards.append({"key": f"qa-{r['interpretation_id']}-{rnd}", "q": qa[rnd]["q"], "a": qa[rnd]["a"],
                              "document_id": r["document_id"], "document_title": r["document_title"],
                              "doc_number": r["doc_number"], "issuer": r["issuer"]})
        if len(cards) >= limit:
            break
    return cards


def published_picture(conn: sqlite3.Connection, sha256: str, codes: list[str]) -> dict | None:
    """A picture of a published 主动公开 document's attachment or 解读, or None (never a PDF)."""
    rows = conn.execute(
        f"""SELECT a.sha256, a.mime, a.size, a.pictures FROM policy_attachment a
            JOIN policy_document d ON d.id = a.document_id
            WHERE d.status = 'published' AND d.disclosure = '主动公开'
              AND d.jurisdiction_code IN ({_in(codes)})
              AND (a.sha256 = ? OR EXISTS (SELECT 1 FROM json_each(a.pictures) p
                                           WHERE json_extract(p.value, '$.sha256') = ?))""",
        [*codes, sha256, sha256]).fetchall()
    for row in rows:
        for p in pictures.shown(row):
            if p["sha256"] == sha256:
                return p
    return None

