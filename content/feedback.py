"""Ratings (社会评议) on guides, catalogue items, village items and notices, and their aggregation.

A rating is anonymous: 满意 / 基本满意 / 不满意 and an optional comment.
Personal numbers typed into a comment (ID, mobile, bank card) are masked
before anything is stored (content.privacy), so no personal data travels.
"""
from __future__ import annotations

import sqlite3
import uuid as uuidlib

from . import outbox, privacy
from .db import immediate

RATINGS = ("满意", "基本满意", "不满意")
MAX_COMMENT = 300

# Target type → (table, title expression, public URL pattern).
TARGETS = {
    "guide": ("guide", "t.title", "/guides/{id}"),
    "item": ("catalogue_item", "t.level1 || CASE WHEN t.level2 != '' THEN ' · ' || t.level2 ELSE '' END",
             "/items/{id}"),
    "village_item": ("village_item", "t.title", "/village-items/{id}"),
    "notice": ("notice", "t.title", "/notices/{id}"),
}
TARGET_LABELS = {"guide": "办事指南", "item": "公开事项", "village_item": "村务公开事项", "notice": "公示公告"}


class Refused(ValueError):
    """A rating that cannot be stored; the message is for the resident (Chinese)."""


def target(conn: sqlite3.Connection, target_type: str, target_id: int) -> sqlite3.Row | None:
    """The published row rated (with its jurisdiction and domain), or None."""
    if target_type not in TARGETS:
        return None
    table, title, _url = TARGETS[target_type]
    domain = "NULL" if table == "village_item" else "t.domain_id"
    return conn.execute(
        f"SELECT t.id, t.jurisdiction_code, {domain} AS domain_id, {title} AS title FROM {table} t "
        f"WHERE t.id = ? AND t.status = 'published'", (target_id,)).fetchone()


def submit(conn: sqlite3.Connection, target_type: str, target_id: int, rating: str, comment: str,
           codes: list[str] | None = None, enqueue=None) -> dict:
    """Store one rating (comment masked) with its outbox row in one transaction; returns the record."""
    if rating not in RATINGS:
        raise Refused("请选择“满意”“基本满意”或“不满意”")
    comment = " ".join(str(comment or "").split())
    if len(comment) > MAX_COMMENT:
        raise Refused(f"留言请不超过{MAX_COMMENT}个字")
    masked = privacy.mask_all(comment)
    with immediate(conn):
        row = target(conn, target_type, target_id)
        if row is None or (codes is not None and row["jurisdiction_code"] not in codes):
            raise Refused("没有找到要评价的内容")
        record = outbox.store(conn, "feedback", {
            "uuid": str(uuidlib.uuid4()), "jurisdiction_code": row["jurisdiction_code"],
            "target_type": target_type, "target_id": target_id, "domain_id": row["domain_id"],
            "rating": rating, "comment": masked}, enqueue)
    record["was_masked"] = masked != comment
    return record


def _score(row) -> dict:
    total = row["n"] or 0
    good = (row["good"] or 0) + (row["fair"] or 0)
    return {**dict(row), "satisfaction": round(100 * good / total) if total else None}


def summary(conn: sqlite3.Connection, codes: list[str] | None, by: str = "target") -> list[dict]:
    """Counts of each rating grouped by target, domain or jurisdiction; satisfaction = (满意+基本满意)/all."""
    where, params = "", []
    if codes is not None:
        where = f"WHERE f.jurisdiction_code IN ({','.join('?' * len(codes)) or 'NULL'})"
        params = list(codes)
    counts = ("count(*) AS n, sum(f.rating = '满意') AS good, sum(f.rating = '基本满意') AS fair, "
              "sum(f.rating = '不满意') AS bad, sum(f.comment != '') AS comments, max(f.created_at) AS last_at")
    if by == "domain":
        sql = (f"SELECT coalesce(d.name, '村务公开') AS label, f.domain_id AS key, {counts} "
               f"FROM feedback f LEFT JOIN domain d ON d.id = f.domain_id {where} "
               "GROUP BY f.domain_id ORDER BY n DESC")
    elif by == "jurisdiction":
        sql = (f"SELECT coalesce(j.name, '（未知）') AS label, f.jurisdiction_code AS key, {counts} "
               f"FROM feedback f LEFT JOIN jurisdiction j ON j.code = f.jurisdiction_code {where} "
               "GROUP BY f.jurisdiction_code ORDER BY n DESC")
    else:
        sql = (f"SELECT f.target_type, f.target_id, {counts} FROM feedback f {where} "
               "GROUP BY f.target_type, f.target_id ORDER BY bad DESC, n DESC")
    rows = [_score(r) for r in conn.execute(sql, params)]
    if by == "target":
        for r in rows:
            t = target(conn, r["target_type"], r["target_id"])
            r["label"] = (t["title"] if t else f"（已撤下 #{r['target_id']}）")
            r["kind"] = TARGET_LABELS.get(r["target_type"], r["target_type"])
            r["url"] = TARGETS[r["target_type"]][2].format(id=r["target_id"]) if r["target_type"] in TARGETS else ""
    return rows


def comments(conn: sqlite3.Connection, codes: list[str] | None, limit: int = 100) -> list[sqlite3.Row]:
    where, params = "WHERE f.comment != ''", []
    if codes is not None:
        where += f" AND f.jurisdiction_code IN ({','.join('?' * len(codes)) or 'NULL'})"
        params = list(codes)
    return conn.execute(f"SELECT f.* FROM feedback f {where} ORDER BY f.created_at DESC LIMIT ?",
                        [*params, limit]).fetchall()
