"""行政复议 and 行政诉讼 about an application, and their results.

A case is recorded when filed (尚未审结) and decided later.  The annual report counts 纠正
for every result that corrects the organ (撤销, 变更, 责令履行, 确认违法), as the report's
table has only 维持 / 纠正 / 其他 / 尚未审结.
"""
from __future__ import annotations

import sqlite3
from datetime import date

from .applications import Refused, _audit, get
from .db import immediate

KINDS = ("行政复议", "行政诉讼")
PENDING = "尚未审结"
RESULTS = ("维持", "纠正（撤销、变更、责令履行）", "确认违法", "驳回", "其他")
REPORT_RESULTS = ("结果维持", "结果纠正", "其他结果", "尚未审结")
_REPORTED = {"维持": "结果维持", "驳回": "结果维持", "纠正（撤销、变更、责令履行）": "结果纠正",
             "确认违法": "结果纠正", "其他": "其他结果", PENDING: "尚未审结"}
MAX_TEXT = 200


def reported(result: str) -> str:
    """The annual report's column for a recorded result."""
    return _REPORTED.get(result, "其他结果")


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise Refused(f"请填写{what}（年-月-日）") from None


def record(conn: sqlite3.Connection, record_uuid: str, form: dict, today: date, user=None,
           remote: str = "") -> int:
    """Record a case (kind, filed_on, body, after_review); returns its id."""
    row = get(conn, record_uuid)
    if row is None:
        raise Refused("没有这件申请")
    kind = (form.get("kind") or "").strip()
    if kind not in KINDS:
        raise Refused("请选择：行政复议或行政诉讼")
    filed = _date(form.get("filed_on"), "申请复议或起诉的日期")
    if filed > today:
        raise Refused("申请复议或起诉的日期不能晚于今天")
    if filed < date.fromisoformat(row["received_on"]):
        raise Refused("申请复议或起诉的日期不能早于收到信息公开申请之日")
    body = " ".join((form.get("body") or "").split())[:MAX_TEXT]
    after_review = 1 if kind == "行政诉讼" and form.get("after_review") in ("1", "on") else 0
    with immediate(conn):
        cur = conn.execute("INSERT INTO application_appeal(application_uuid, kind, after_review, filed_on, body, "
                           "username) VALUES (?, ?, ?, ?, ?, ?)",
                           (record_uuid, kind, after_review, filed.isoformat(), body,
                            user["username"] if user else ""))
        _audit(conn, user, "application_appeal", row["receipt_no"], None,
               {"kind": kind, "filed_on": filed.isoformat(), "body": body, "after_review": after_review}, remote)
    return cur.lastrowid


def decide(conn: sqlite3.Connection, record_uuid: str, appeal_id: int, form: dict, today: date,
           user=None, remote: str = "") -> None:
    """Record the result of a case (or correct it)."""
    case = conn.execute("SELECT * FROM application_appeal WHERE id = ? AND application_uuid = ?",
                        (appeal_id, record_uuid)).fetchone()
    if case is None:
        raise Refused("没有这条复议或诉讼记录")
    result = (form.get("result") or "").strip()
    if result not in RESULTS:
        raise Refused("请选择结果：" + "、".join(RESULTS))
    decided = _date(form.get("decided_on"), "作出决定或裁判的日期")
    if decided > today or decided < date.fromisoformat(case["filed_on"]):
        raise Refused("决定或裁判日期应在申请复议或起诉之日与今天之间")
    note = " ".join((form.get("note") or "").split())[:MAX_TEXT]
    with immediate(conn):
        conn.execute("UPDATE application_appeal SET result = ?, decided_on = ?, note = ? WHERE id = ?",
                     (result, decided.isoformat(), note, appeal_id))
        _audit(conn, user, "application_appeal_result", get(conn, record_uuid)["receipt_no"],
               {"result": case["result"], "decided_on": case["decided_on"]},
               {"kind": case["kind"], "result": result, "decided_on": decided.isoformat(), "note": note}, remote)


def appeals(conn: sqlite3.Connection, record_uuid: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM application_appeal WHERE application_uuid = ? ORDER BY id",
                        (record_uuid,)).fetchall()
