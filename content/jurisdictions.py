"""The county → township → village tree and an instance's visible part of it."""
from __future__ import annotations

import sqlite3

LEVEL_NAMES = {"county": "县级", "township": "乡级", "village": "村级"}


def get(conn: sqlite3.Connection, code: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM jurisdiction WHERE code = ?", (code,)).fetchone()


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
    return conn.execute("SELECT * FROM jurisdiction WHERE level = 'county' ORDER BY code LIMIT 1").fetchone()


def is_code(text: str) -> bool:
    return len(text) == 12 and text.isascii() and text.isdigit()
