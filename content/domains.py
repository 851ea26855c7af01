"""The county's domains (领域): the 26 standard ones, the county's own, departments, hiding.

A county adds the domains beyond the 26 it publishes (the seed's 2022 task: 其他领域),
keeps each domain's departments in its own wording, and hides a standard domain it has
nothing for; a domain with content cannot be hidden (residents would lose that content).
"""
from __future__ import annotations

import json
import re
import sqlite3

from . import editing
from .db import immediate

MAX_NAME = 20
MAX_DEPARTMENTS = 10


class DomainError(ValueError):
    """Refused; the message is for staff (Chinese)."""


CONTENT_TABLES = ("catalogue_item", "notice", "guide", "matter", "consultation", "policy_document")   # the ones with a domain


def _content_count(conn: sqlite3.Connection, domain_id: int) -> int:
    total = 0
    for table in CONTENT_TABLES:
        total += conn.execute(f"SELECT count(*) FROM {table} WHERE domain_id = ?",
                              (domain_id,)).fetchone()[0]
    return total


def _content_counts(conn: sqlite3.Connection) -> dict[int, int]:
    """``_content_count`` of every domain at once (one grouped count per table)."""
    totals: dict[int, int] = {}
    for table in CONTENT_TABLES:
        for domain_id, n in conn.execute(f"SELECT domain_id, count(*) FROM {table} "
                                         f"WHERE domain_id IS NOT NULL GROUP BY domain_id"):
            totals[domain_id] = totals.get(domain_id, 0) + n
    return totals


def listed(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("SELECT * FROM domain ORDER BY hidden, sort, id").fetchall()
    counts = _content_counts(conn)
    return [dict(r, departments=json.loads(r["departments"]), content=counts.get(r["id"], 0))
            for r in rows]


def _departments(text: str) -> list[str]:
    names = [n.strip() for n in re.split(r"[、，,；;\n]+", text or "") if n.strip()]
    if len(names) > MAX_DEPARTMENTS or any(len(n) > 40 for n in names):
        raise DomainError(f"部门最多{MAX_DEPARTMENTS}个，每个最多40个字")
    return names


def _name(text: str) -> str:
    name = (text or "").strip()
    if name.endswith("领域") and len(name) > 2:
        name = name[:-2]
    if not name or len(name) > MAX_NAME:
        raise DomainError(f"领域名称不能为空，最多{MAX_NAME}个字")
    return name


def add(conn: sqlite3.Connection, user, name: str, departments: str, remote: str = "") -> int:
    name = _name(name)
    if conn.execute("SELECT 1 FROM domain WHERE name = ?", (name,)).fetchone():
        raise DomainError(f"已有领域「{name}」")
    depts = _departments(departments)
    with immediate(conn):
        sort = conn.execute("SELECT coalesce(max(sort), 0) + 1 FROM domain").fetchone()[0]
        did = conn.execute("INSERT INTO domain(name, departments, pilot, sort) VALUES (?, ?, 0, ?)",
                           (name, json.dumps(depts, ensure_ascii=False), sort)).lastrowid
        editing.audit(conn, user, "create", "domain", did, None,
                      {"name": name, "departments": depts}, remote)
        editing.bump_content_version(conn)
    return did


def set_departments(conn: sqlite3.Connection, user, domain_id: int, departments: str,
                    remote: str = "") -> None:
    row = conn.execute("SELECT * FROM domain WHERE id = ?", (domain_id,)).fetchone()
    if row is None:
        raise DomainError("没有这个领域")
    depts = _departments(departments)
    with immediate(conn):
        conn.execute("UPDATE domain SET departments = ? WHERE id = ?",
                     (json.dumps(depts, ensure_ascii=False), domain_id))
        editing.audit(conn, user, "update", "domain", domain_id,
                      {"departments": json.loads(row["departments"])}, {"departments": depts}, remote)
        editing.bump_content_version(conn)


def set_hidden(conn: sqlite3.Connection, user, domain_id: int, hidden: bool, remote: str = "") -> None:
    row = conn.execute("SELECT * FROM domain WHERE id = ?", (domain_id,)).fetchone()
    if row is None:
        raise DomainError("没有这个领域")
    if hidden and _content_count(conn, domain_id):
        raise DomainError(f"领域「{row['name']}」已有目录事项、公示或办事指南，不能隐藏")
    with immediate(conn):
        conn.execute("UPDATE domain SET hidden = ? WHERE id = ?", (1 if hidden else 0, domain_id))
        editing.audit(conn, user, "hide" if hidden else "show", "domain", domain_id,
                      {"name": row["name"]}, None, remote)
        editing.bump_content_version(conn)
