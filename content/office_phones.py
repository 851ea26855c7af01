"""Published office numbers (公开办公电话): the landlines the privacy guard lets through.

A landline in published text may be a resident's home phone, so the guard
refuses it unless an editor marked it as an office number of a jurisdiction.
Content of a jurisdiction may show the office numbers of that jurisdiction, of
the levels above it (the township's 监督电话, the county's hotline) and of the
levels below it (a township lists its villages' committees).  Every mark and
unmark is audited; marks are ended, never deleted.
"""
from __future__ import annotations

import sqlite3

from . import auth, privacy
from .db import immediate


class Refused(ValueError):
    """A number that cannot be marked; the message is for staff (Chinese)."""


def _related_codes(conn: sqlite3.Connection, code: str) -> list[str]:
    rows = conn.execute(
        """WITH RECURSIVE up(code) AS (
               SELECT ? UNION SELECT j.parent_code FROM jurisdiction j JOIN up ON j.code = up.code
               WHERE j.parent_code IS NOT NULL),
           down(code) AS (
               SELECT ? UNION SELECT j.code FROM jurisdiction j JOIN down ON j.parent_code = down.code)
           SELECT code FROM up UNION SELECT code FROM down""", (code, code)).fetchall()
    return [r[0] for r in rows]


def allowed(conn: sqlite3.Connection | None, code: str | None) -> frozenset[str]:
    """Digits of the office numbers content of ``code`` may publish."""
    if conn is None or not code or not _has_table(conn):
        return frozenset()
    codes = _related_codes(conn, code)
    marks = ",".join("?" * len(codes))
    return frozenset(r[0] for r in conn.execute(
        f"SELECT digits FROM office_phone WHERE removed_at IS NULL AND jurisdiction_code IN ({marks})",
        codes))


def _has_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'office_phone'"
                        ).fetchone() is not None


def listing(conn: sqlite3.Connection, codes: list[str]) -> list[sqlite3.Row]:
    marks = ",".join("?" * len(codes)) or "NULL"
    return conn.execute(
        f"""SELECT p.*, j.name AS jurisdiction_name, u.username AS added_by_name
            FROM office_phone p JOIN jurisdiction j ON j.code = p.jurisdiction_code
            LEFT JOIN user u ON u.id = p.added_by
            WHERE p.removed_at IS NULL AND p.jurisdiction_code IN ({marks})
            ORDER BY p.jurisdiction_code, p.digits""", codes).fetchall()


def add(conn: sqlite3.Connection, user, code: str, number: str, label: str = "",
        remote: str = "") -> int:
    """Mark ``number`` as a published office number of ``code`` (audited)."""
    from . import editing  # noqa: PLC0415  (editing imports this module)
    number = " ".join(str(number or "").split())
    if not privacy.is_landline(number):
        raise Refused("请填写带区号的固定电话，例如 0554-4801345；手机号不能作为公开办公电话")
    if user is not None and not auth.allowed(conn, user, "edit", code):
        raise editing.Denied("您没有权限为这个单位登记办公电话")
    digits = privacy.phone_digits(number)
    label = str(label or "").strip()[:100]
    with immediate(conn):
        row = conn.execute("SELECT id FROM office_phone WHERE jurisdiction_code = ? AND digits = ? "
                           "AND removed_at IS NULL", (code, digits)).fetchone()
        if row is not None:
            return row["id"]
        oid = conn.execute("INSERT INTO office_phone(jurisdiction_code, digits, number, label, added_by) "
                           "VALUES (?, ?, ?, ?, ?)",
                           (code, digits, number, label, user["id"] if user else None)).lastrowid
        editing.audit(conn, user, "office_phone_add", "office_phone", oid, None,
                      {"jurisdiction_code": code, "number": number, "label": label}, remote,
                      username=None if user else "演示数据")
    return oid


def remove(conn: sqlite3.Connection, user, phone_id: int, remote: str = "") -> None:
    from . import editing  # noqa: PLC0415
    with immediate(conn):
        row = conn.execute("SELECT * FROM office_phone WHERE id = ? AND removed_at IS NULL",
                           (phone_id,)).fetchone()
        if row is None:
            raise Refused("没有找到这个办公电话")
        if not auth.allowed(conn, user, "edit", row["jurisdiction_code"]):
            raise editing.Denied("您没有权限修改这个单位的办公电话")
        conn.execute("UPDATE office_phone SET removed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
                     "removed_by = ? WHERE id = ?", (user["id"], phone_id))
        editing.audit(conn, user, "office_phone_remove", "office_phone", phone_id,
                      {"jurisdiction_code": row["jurisdiction_code"], "number": row["number"]}, None, remote)
