"""Letters to the applicant (告知书 / 答复书) and the signed reply scanned back in.

A letter is filled from the application on the day it is issued and stored as printed (a
snapshot): a reprint years later shows what the applicant received, even if the application
or the wording has changed since.  Letters and the scanned reply carry the applicant's name
and address: they live on the hub only, are shown to staff only, and are never published,
bundled, logged or put in a QR code.

Which letters an application can have follows its history: 补正告知书 once a completion was
asked for, 延期答复告知书 once extended, 第三方意见征询函 while or after a third party is
consulted, 转办告知书 after a transfer, and the 答复书 of its outcome once answered.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import date

from flask import render_template

from . import application_organs, uploads
from .applications import COMPLETION_WORKDAYS, THIRD_PARTY_WORKDAYS, Refused, _audit, events, get
from .db import immediate

KINDS = {
    "reply": "政府信息公开申请答复书",
    "completion": "政府信息公开申请补正告知书",
    "extension": "政府信息公开申请延期答复告知书",
    "third_party": "政府信息公开第三方意见征询函",
    "transfer": "政府信息公开申请转办告知书",
}
# The event that makes each letter available.
_AFTER = {"reply": "reply", "completion": "request_completion", "extension": "extend",
          "third_party": "consult", "transfer": "transfer"}
_SHORT = {"reply": "答", "completion": "补", "extension": "延", "third_party": "征", "transfer": "转"}

# The legal basis printed for each outcome and reason (政府信息公开条例, 2019).
BASIS = {
    "予以公开": "第三十六条第（二）项",
    "部分公开": "第三十七条",
    "属于国家秘密": "第十四条", "其他法律行政法规禁止公开": "第十四条", "危及“三安全一稳定”": "第十四条",
    "保护第三方合法权益": "第十五条", "属于三类内部事务信息": "第十六条第一款",
    "属于四类过程性信息": "第十六条第二款", "属于行政执法案卷": "第十六条第二款",
    "属于行政查询事项": "第三十六条第（七）项",
    "本机关不掌握相关政府信息": "第三十六条第（四）项、第（五）项",
    "没有现成信息需要另行制作": "第三十八条", "补正后申请内容仍不明确": "第三十条",
    "信访举报投诉类申请": "第三十九条第一款", "重复申请": "第三十六条第（六）项",
    "要求提供公开出版物": "第三十九条第二款", "无正当理由大量反复申请": "第三十五条",
    "要求行政机关确认或重新出具已获取信息": "第三十九条第二款",
}


def available(conn: sqlite3.Connection, record_uuid: str) -> list[str]:
    """The kinds of letter this application's history allows, in the order of KINDS."""
    done = {e["action"] for e in events(conn, record_uuid)}
    row = get(conn, record_uuid)
    out = [k for k, action in _AFTER.items() if action in done]
    if "reply" in out and not (row and row["outcome"]):
        out.remove("reply")
    return out


def _context(conn: sqlite3.Connection, row, kind: str, on: date, letter_no: str) -> dict:
    history = events(conn, row["uuid"])
    last = {e["action"]: e for e in history}
    transfer = conn.execute("SELECT * FROM application_transfer WHERE application_uuid = ? ORDER BY id DESC",
                            (row["uuid"],)).fetchone()
    to_name = ""
    if "transfer" in last:
        to_name = json.loads(last["transfer"]["data"] or "{}").get("to", "")
    organ = application_organs.organ_of(conn, row) or application_organs.default_organ(conn, row["jurisdiction_code"])
    county = application_organs.organs(conn)[:1]
    # 行政复议法 (2023): a county's departments and townships are reviewed by the county
    # government; the county government by the government above it.
    review_body = (county[0].name if county and organ and (organ.dept or organ.code != county[0].code)
                   else "上一级人民政府")
    return {"app": row, "kind": kind, "review_body": review_body, "title": KINDS[kind], "letter_no": letter_no, "issued_on": on,
            "organ": application_organs.organ_name(conn, row), "basis": BASIS,
            "asked": row["title"] or row["doc_number"] or (row["description"] or "")[:80],
            "completion_days": COMPLETION_WORKDAYS, "third_party_days": THIRD_PARTY_WORKDAYS,
            "third_party": (last["consult"]["note"] if "consult" in last else ""),
            "transfer": transfer, "transfer_to": to_name}


def issue(conn: sqlite3.Connection, record_uuid: str, kind: str, on: date, user=None,
          remote: str = "") -> sqlite3.Row:
    """Fill the letter from the application now, store it as printed, and return the stored row."""
    row = get(conn, record_uuid)
    if row is None:
        raise Refused("没有这件申请")
    if kind not in KINDS:
        raise Refused("未知的文书种类")
    if kind not in available(conn, record_uuid):
        raise Refused(f"本申请尚无可出具“{KINDS[kind]}”的办理记录（须先{_need_text(kind)}）")
    with immediate(conn):    # numbered and stored in one transaction: two clicks never share a number
        n = conn.execute("SELECT count(*) FROM application_letter WHERE application_uuid = ? AND kind = ?",
                         (record_uuid, kind)).fetchone()[0]
        letter_no = f"{row['receipt_no']}-{_SHORT[kind]}{n + 1}"
        html = render_template("admin/citizen/_letter_body.html", **_context(conn, row, kind, on, letter_no))
        cur = conn.execute("INSERT INTO application_letter(application_uuid, kind, letter_no, issued_on, html, "
                           "username) VALUES (?, ?, ?, ?, ?, ?)",
                           (record_uuid, kind, letter_no, on.isoformat(), html, user["username"] if user else ""))
        _audit(conn, user, "application_letter", row["receipt_no"], None,
               {"letter_no": letter_no, "kind": KINDS[kind]}, remote)
    return conn.execute("SELECT * FROM application_letter WHERE id = ?", (cur.lastrowid,)).fetchone()


def _need_text(kind: str) -> str:
    from .applications import ACTIONS  # noqa: PLC0415
    return "转办" if kind == "transfer" else f"记录“{ACTIONS[_AFTER[kind]]}”"


def letters(conn: sqlite3.Connection, record_uuid: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT id, kind, letter_no, issued_on, username, at FROM application_letter "
                        "WHERE application_uuid = ? ORDER BY id", (record_uuid,)).fetchall()


def letter(conn: sqlite3.Connection, record_uuid: str, letter_id: int) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM application_letter WHERE application_uuid = ? AND id = ?",
                        (record_uuid, letter_id)).fetchone()


# ---------------------------------------------------------------- the signed reply, scanned

def attach(conn: sqlite3.Connection, data_dir, record_uuid: str, filename: str, data: bytes,
           user=None, remote: str = "") -> sqlite3.Row:
    """Check and store the scanned reply (PDF or picture, content.uploads); UploadError says why not."""
    row = get(conn, record_uuid)
    if row is None:
        raise Refused("没有这件申请")
    up = uploads.store_upload(data_dir, filename, data)
    with immediate(conn):
        cur = conn.execute("INSERT INTO application_document(application_uuid, sha256, mime, size, name, username, "
                           "pictures) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (record_uuid, up.sha256, up.mime, up.size, up.name, user["username"] if user else "",
                            json.dumps([p["sha256"] for p in up.pictures])))
        _audit(conn, user, "application_document", row["receipt_no"], None,
               {"name": up.name, "size": up.size, "sha256": up.sha256}, remote)
    return conn.execute("SELECT * FROM application_document WHERE id = ?", (cur.lastrowid,)).fetchone()


def documents(conn: sqlite3.Connection, record_uuid: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM application_document WHERE application_uuid = ? ORDER BY id",
                        (record_uuid,)).fetchall()
