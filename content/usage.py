"""Anonymous daily usage counts: views per item, guide, notice; searches that found nothing.

Nothing here identifies a person: a count per day, terminal and thing, and for empty
searches the query text alone, with long digit runs (ID card and phone numbers) masked.

Views carry the terminal that served them: a terminal's enrolled id (meta
``sync_terminal_id``), or ``LOCAL`` for a hub's or standalone instance's own screens.
A terminal sends its counts upstream as daily *totals* (``queue_upstream``, kind
``usage_day`` in the outbox); the hub keeps, per (terminal, day, thing), the largest
total it has been sent (``file_upstream``), so a record sent twice, a later larger
total or records arriving out of order never count a view twice. Search texts stay on
the terminal: only view counts travel.
"""
from __future__ import annotations

import re
import sqlite3
import unicodedata
import uuid
from datetime import date, datetime, timedelta, timezone

from . import outbox
from .db import get_meta
from .privacy import looks_like_name

KINDS = ("item", "village_item", "guide", "notice", "handbook")
_DIGITS = re.compile(r"\d{6,}")
MAX_QUERY = 64

LOCAL = "local"                 # the views served by this instance itself (hub, standalone)
UPSTREAM_KIND = "usage_day"     # outbox kind of a terminal's daily totals
UPSTREAM_DAYS = 400             # a terminal sends at most this many past days (catch-up bound)
UPSTREAM_EVERY = 3600           # seconds between two sends of today's running total
UPSTREAM_ENTRIES = 1000         # (kind, id, views) entries per record; a busier day is split
MAX_DAY_VIEWS = 10_000_000      # one thing's views on one terminal in one day, at most
MAX_AGE_DAYS = 5 * 366 + UPSTREAM_DAYS   # the hub refuses days older than this (bad clocks)
_TERMINAL = re.compile(r"^[0-9a-f]{64}$")


def local_terminal(conn: sqlite3.Connection) -> str:
    """The id views served here are counted under: the enrolled terminal's, else ``LOCAL``."""
    return get_meta(conn, "sync_terminal_id") or LOCAL


def record_view(conn: sqlite3.Connection, kind: str, ref_id: int, day: date, count: int = 1,
                terminal: str | None = None) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    conn.execute(
        "INSERT INTO usage_view(day, terminal, kind, ref_id, views) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(day, terminal, kind, ref_id) DO UPDATE SET views = views + excluded.views",
        (day.isoformat(), terminal or local_terminal(conn), kind, int(ref_id), count))


def mask_query(query: str) -> str:
    """The query as stored: control and format characters dropped, whitespace collapsed,
    digit runs of 6+ masked, at most 64 characters."""
    text = "".join(ch for ch in str(query or "") if unicodedata.category(ch)[0] != "C" or ch in " \t\n")
    text = " ".join(text.split())
    return _DIGITS.sub(lambda m: "*" * len(m.group()), text)[:MAX_QUERY]


def record_miss(conn: sqlite3.Connection, query: str, day: date, count: int = 1) -> None:
    """Count a search that found nothing, as a gap in the content; a query shaped like a
    person's name (someone looking for a neighbour) is not kept at all."""
    text = mask_query(query)
    if not text or looks_like_name(text):
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


# ---------------------------------------------------------------- upstream (terminal → hub)

def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def queue_upstream(conn: sqlite3.Connection, today: date, now: datetime | None = None,
                   every: float = UPSTREAM_EVERY, days: int = UPSTREAM_DAYS) -> list[str]:
    """(terminal) Queue the daily totals the hub does not have yet; return the days queued.

    A day is queued when its total changed since it was last queued: a closed day at
    once (usually once, just after midnight), today's running total at most every
    ``every`` seconds. A day's older record still waiting in the outbox is withdrawn, so
    however long the terminal is offline the outbox holds at most one record per day of
    the last ``days`` days. No commit: call inside a transaction.
    """
    now = now or datetime.now(timezone.utc)
    since, last = (today - timedelta(days=days)).isoformat(), today.isoformat()
    totals = conn.execute("SELECT day, sum(views) FROM usage_view WHERE day BETWEEN ? AND ? "
                          "GROUP BY day ORDER BY day", (since, last)).fetchall()
    queued_before = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT day, total, queued_at FROM usage_upstream WHERE day >= ?", (since,))}
    queued = []
    for day, total in totals:
        before = queued_before.get(day)
        if before is not None and before[0] == total:
            continue
        if day == last and before is not None:
            try:
                age = (now - datetime.fromisoformat(before[1].replace("Z", "+00:00"))).total_seconds()
            except ValueError:
                age = every
            if 0 <= age < every:
                continue
        entries = [[r[0], r[1], r[2]] for r in conn.execute(
            "SELECT kind, ref_id, sum(views) FROM usage_view WHERE day = ? GROUP BY kind, ref_id "
            "HAVING sum(views) > 0 ORDER BY kind, ref_id", (day,))]
        outbox.withdraw_pending(conn, UPSTREAM_KIND, day=day)
        parts = [entries[i:i + UPSTREAM_ENTRIES] for i in range(0, len(entries), UPSTREAM_ENTRIES)]
        for n, part in enumerate(parts):
            outbox.enqueue(conn, UPSTREAM_KIND, str(uuid.uuid4()), {
                "day": day, "closed": day < last, "part": n, "parts": len(parts), "views": part})
        conn.execute("INSERT INTO usage_upstream(day, total, queued_at) VALUES (?, ?, ?) "
                     "ON CONFLICT(day) DO UPDATE SET total = excluded.total, queued_at = excluded.queued_at",
                     (day, total, _iso(now)))
        queued.append(day)
    conn.execute("DELETE FROM usage_upstream WHERE day < ?", (since,))
    return queued


class BadUpstream(ValueError):
    """A usage record the hub refuses; the message says why (Chinese, sent back to the terminal)."""


def _count(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def file_upstream(conn: sqlite3.Connection, terminal: str, payload: dict, today: date) -> dict:
    """(hub) Keep one terminal's daily totals: per thing the largest total sent, never a sum.

    Returns a small summary (kept in the inbox instead of the whole record); raises
    ``BadUpstream`` for a malformed record, writing nothing.
    """
    if not _TERMINAL.match(terminal or ""):
        raise BadUpstream("终端编号无效")
    try:
        day = date.fromisoformat(payload.get("day"))
    except (TypeError, ValueError) as e:
        raise BadUpstream("浏览统计缺少有效的日期") from e
    if day > today + timedelta(days=2) or day < today - timedelta(days=MAX_AGE_DAYS):
        raise BadUpstream(f"浏览统计的日期 {day.isoformat()} 不合理（请检查终端时钟）")
    entries = payload.get("views")
    if not isinstance(entries, list) or len(entries) > UPSTREAM_ENTRIES:
        raise BadUpstream(f"浏览统计应为最多 {UPSTREAM_ENTRIES} 条的列表")
    rows = []
    for e in entries:
        if not (isinstance(e, list) and len(e) == 3 and e[0] in KINDS and _count(e[1], 1, 10 ** 18 - 1)
                and _count(e[2], 0, MAX_DAY_VIEWS)):
            raise BadUpstream("浏览统计的条目格式不正确")
        rows.append((day.isoformat(), terminal, e[0], e[1], e[2]))
    conn.executemany(
        "INSERT INTO usage_view(day, terminal, kind, ref_id, views) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(day, terminal, kind, ref_id) DO UPDATE SET views = max(views, excluded.views)",
        rows)
    return {"day": day.isoformat(), "part": payload.get("part") if _count(payload.get("part"), 0, 10 ** 6) else 0,
            "entries": len(rows), "views": sum(r[4] for r in rows)}
