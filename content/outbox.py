"""The terminal's upstream outbox: records made here wait in it until the hub holds them.

Call ``enqueue`` inside the same transaction that writes the record itself, so
a record and its outbox row exist together or not at all. The sync package
pushes pending rows and marks them sent only after the hub acknowledges them.
"""
from __future__ import annotations

import json
import re
import sqlite3

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def is_uuid(text) -> bool:
    return isinstance(text, str) and bool(_UUID.match(text))


def is_kind(text) -> bool:
    return isinstance(text, str) and bool(_KIND.match(text))


def enqueue(conn: sqlite3.Connection, kind: str, record_uuid: str, payload: dict) -> None:
    """Queue one record for the hub (no commit: the caller's transaction decides)."""
    if not is_kind(kind):
        raise ValueError(f"bad outbox kind: {kind!r}")
    if not is_uuid(record_uuid):
        raise ValueError(f"bad record uuid: {record_uuid!r}")
    if not isinstance(payload, dict):
        raise TypeError("payload must be a dict")
    conn.execute("INSERT INTO outbox(uuid, kind, payload) VALUES (?, ?, ?)",
                 (record_uuid.lower(), kind, json.dumps(payload, ensure_ascii=False, default=str)))


def store(conn: sqlite3.Connection, table: str, record: dict, enqueue=None) -> dict:
    """Insert a resident's record into ``table`` and queue it for the hub under that kind.

    Fills in ``created_at`` from the row as stored. ``table`` is one of ours, never user input.
    """
    if not is_kind(table):
        raise ValueError(f"bad table: {table!r}")
    columns = list(record)
    conn.execute(f"INSERT INTO {table}({', '.join(columns)}) "
                 f"VALUES ({', '.join(':' + c for c in columns)})", record)
    record["created_at"] = conn.execute(f"SELECT created_at FROM {table} WHERE uuid = ?",
                                        (record["uuid"],)).fetchone()[0]
    if enqueue is not None:
        enqueue(conn, table, record["uuid"], record)
    return record


def pending(conn: sqlite3.Connection, limit: int = 100) -> list[dict]:
    """The oldest records not yet held by the hub (nor refused by it).

    A row whose payload cannot be read (a damaged disk, a hand edit) is set aside as
    refused here, kept for staff to look at, instead of blocking every record behind it."""
    rows = conn.execute(
        "SELECT id, uuid, kind, payload, created_at FROM outbox "
        "WHERE sent_at IS NULL AND rejected IS NULL ORDER BY id LIMIT ?", (limit,)).fetchall()
    out, damaged = [], []
    for r in rows:
        try:
            payload = json.loads(r["payload"])
        except (TypeError, ValueError):
            payload = None
        if not isinstance(payload, dict):
            damaged.append(r["uuid"])
            continue
        out.append({"uuid": r["uuid"], "kind": r["kind"], "created_at": r["created_at"],
                    "payload": payload})
    if damaged:
        conn.executemany("UPDATE outbox SET rejected = '本机记录已损坏，无法读取（原始数据已保留）' "
                         "WHERE uuid = ? AND sent_at IS NULL", [(u,) for u in damaged])
        if not out:
            return pending(conn, limit)     # the next records, behind the damaged ones
    return out


def pending_count(conn: sqlite3.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND rejected IS NULL").fetchone()[0]


def mark_attempt(conn: sqlite3.Connection, uuids: list[str]) -> None:
    conn.executemany("UPDATE outbox SET attempts = attempts + 1 WHERE uuid = ?",
                     [(u,) for u in uuids])


def mark_sent(conn: sqlite3.Connection, uuids: list[str], when: str) -> None:
    conn.executemany("UPDATE outbox SET sent_at = ? WHERE uuid = ? AND sent_at IS NULL",
                     [(when, u) for u in uuids])


def mark_rejected(conn: sqlite3.Connection, record_uuid: str, reason: str) -> None:
    conn.execute("UPDATE outbox SET rejected = ? WHERE uuid = ? AND sent_at IS NULL",
                 (reason[:500] or "rejected", record_uuid))


_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def withdraw_pending(conn: sqlite3.Connection, kind: str, **match) -> int:
    """Drop records of ``kind`` still waiting (not sent, not refused) whose payload has the
    given top-level values: for records a newer one supersedes (e.g. a day's usage totals).
    Only for kinds the hub stores idempotently by content, since one may already have
    arrived without the terminal hearing so."""
    if not is_kind(kind) or not all(_FIELD.match(k) for k in match):
        raise ValueError("bad kind or field name")
    where = "".join(f" AND json_extract(payload, '$.{k}') = ?" for k in match)
    return conn.execute(f"DELETE FROM outbox WHERE kind = ? AND sent_at IS NULL AND rejected IS NULL{where}",
                        (kind, *match.values())).rowcount
