"""Anonymous daily usage counts: views per item, guide, notice; searches that found nothing.

Nothing here identifies a person: a count per day and thing, and for empty searches the
query text alone, with long digit runs (ID card and phone numbers) masked.
"""
from __future__ import annotations

import re
import sqlite3
from datetime import date, timedelta

KINDS = ("item", "village_item", "guide", "notice", "handbook")
_DIGITS = re.compile(r"\d{6,}")
MAX_QUERY = 64


def record_view(conn: sqlite3.Connection, kind: str, ref_id: int, day: date, count: int = 1) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    conn.execute(
        "INSERT INTO usage_view(day, kind, ref_id, views) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(day, kind, ref_id) DO UPDATE SET views = views + excluded.views",
        (day.isoformat(), kind, int(ref_id), count))


def mask_query(query: str) -> str:
    """The query as stored: whitespace collapsed, digit runs of 6+ masked, at most 64 characters."""
    text = " ".join((query or "").split())
    return _DIGITS.sub(lambda m: "*" * len(m.group()), text)[:MAX_QUERY]


def record_miss(conn: sqlite3.Connection, query: str, day: date, count: int = 1) -> None:
    text = mask_query(query)
    if not text:
        return
    conn.execute(
        "INSERT INTO usage_search_miss(day, query, count) VALUES (?, ?, ?) "
        "ON CONFLICT(day, query) DO UPDATE SET count = count + excluded.count",
        (day.isoformat(), text, count))


def views(conn: sqlite3.Connection, kind: str, ref_id: int) -> int:
    row = conn.execute("SELECT coalesce(sum(views), 0) FROM usage_view WHERE kind = ? AND ref_id = ?",
                       (kind, ref_id)).fetchone()
    return row[0]


def most_viewed(conn: sqlite3.Connection, kind: str, today: date, days: int = 90,
                limit: int = 6) -> list[tuple[int, int]]:
    """(ref_id, views) of the most viewed things of a kind over the last ``days`` days."""
    since = (today - timedelta(days=days)).isoformat()
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT ref_id, sum(views) AS v FROM usage_view WHERE kind = ? AND day >= ? "
        "GROUP BY ref_id ORDER BY v DESC, ref_id LIMIT ?", (kind, since, limit))]


def top_misses(conn: sqlite3.Connection, today: date, days: int = 30, limit: int = 20) -> list[tuple[str, int]]:
    """The most frequent searches that found nothing (for the hub dashboard)."""
    since = (today - timedelta(days=days)).isoformat()
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT query, sum(count) AS c FROM usage_search_miss WHERE day >= ? "
        "GROUP BY query ORDER BY c DESC, query LIMIT ?", (since, limit))]
