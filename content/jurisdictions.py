"""The county → township → village tree and an instance's visible part of it."""
from __future__ import annotations

import sqlite3

from flask import g, has_app_context

LEVEL_NAMES = {"county": "县级", "township": "乡级", "village": "村级"}


def get(conn: sqlite3.Connection, code: str) -> sqlite3.Row | None:
    """One jurisdiction by code; inside a request, from a table read once (see ``_request_table``)."""
    table = _request_table(conn)
    if table is not None:
        return table.get(code)
    return conn.execute("SELECT * FROM jurisdiction WHERE code = ?", (code,)).fetchone()


def codes_at_levels(conn: sqlite3.Connection, levels) -> list[str]:
    """Codes of every jurisdiction at one of ``levels`` (retired ones included)."""
    levels = list(levels)
    table = _request_table(conn)
    if table is not None:
        return [code for code, row in table.items() if row["level"] in levels]
    return [r[0] for r in conn.execute(
        f"SELECT code FROM jurisdiction WHERE level IN ({','.join('?' * len(levels))})", levels)]


def count(conn: sqlite3.Connection) -> int:
    """How many jurisdictions the instance knows (retired ones included)."""
    table = _request_table(conn)
    if table is not None:
        return len(table)
    return conn.execute("SELECT COUNT(*) FROM jurisdiction").fetchone()[0]


def _request_table(conn: sqlite3.Connection) -> dict[str, sqlite3.Row] | None:
    """Every jurisdiction, read once per request and connection (a county has a few hundred).

    Pages look jurisdictions up hundreds of times (names in lists, levels in permission
    checks). The copy is trusted only while the connection has written nothing since it was
    read (``total_changes``): after a write in the same request, lookups go to the table.
    """
    if not has_app_context():
        return None
    cached = g.get("_jurisdiction_table")
    if cached is not None and cached[0] is conn:
        return cached[2] if cached[1] == conn.total_changes else None
    if cached is not None:
        return None            # another connection in this request: no sharing, no guessing
    table = {r["code"]: r for r in conn.execute("SELECT * FROM jurisdiction")}
    g._jurisdiction_table = (conn, conn.total_changes, table)
    return table


def ancestors(conn: sqlite3.Connection, code: str) -> list[sqlite3.Row]:
    """The chain from the county down to ``code`` itself (empty if unknown)."""
    chain = []
    row = get(conn, code)
    while row is not None:
        chain.append(row)
        row = get(conn, row["parent_code"]) if row["parent_code"] else None
    return list(reversed(chain))


def children(conn: sqlite3.Connection, code: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM jurisdiction WHERE parent_code = ? AND retired_on IS NULL "   # 撤并: not listed
        "ORDER BY sort, code", (code,)).fetchall()


def visible_codes(conn: sqlite3.Connection, scope: str | None) -> list[str]:
    """Jurisdictions an instance of this scope shows: its ancestors, itself, its descendants.

    With no scope (an instance that has not been told one) everything is visible.
    """
    if not scope:
        return [r[0] for r in conn.execute("SELECT code FROM jurisdiction")]
    rows = conn.execute(
        """
        WITH RECURSIVE down(code) AS (
            SELECT ? UNION ALL
            SELECT j.code FROM jurisdiction j JOIN down ON j.parent_code = down.code
        )
        SELECT code FROM down
        """, (scope,)).fetchall()
    codes = [r[0] for r in rows]
    codes += [r["code"] for r in ancestors(conn, scope)[:-1]]
    return codes


def county(conn: sqlite3.Connection) -> sqlite3.Row | None:
    table = _request_table(conn)
    if table is not None:
        counties = sorted(code for code, row in table.items() if row["level"] == "county")
        return table[counties[0]] if counties else None
    return conn.execute("SELECT * FROM jurisdiction WHERE level = 'county' ORDER BY code LIMIT 1").fetchone()


def is_code(text: str) -> bool:
    return len(text) == 12 and text.isascii() and text.isdigit()
