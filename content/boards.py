"""Noticeboards (电子公示栏): their settings and the notices each may show.

Which of these notices is on screen at a given moment is decided by
``display.schedule`` (a pure function of board, notices and clock); this module
only reads rows.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import date

from . import jurisdictions
from .catalogue import _in
from .notices import _BASE, _notice

ORIENTATIONS = {"landscape": "横屏 1920×1080", "portrait": "竖屏 1080×1920"}


def _board(conn: sqlite3.Connection, row: sqlite3.Row) -> dict:
    b = dict(row)
    for key in ("levels", "domains", "windows"):
        b[key] = json.loads(b[key])
    # chain: the county down to the board's own jurisdiction (emergencies come from there);
    # area: chain plus everything below it (what the board may show at all).
    b["chain"] = [r["code"] for r in jurisdictions.ancestors(conn, b["jurisdiction_code"])]
    b["area"] = jurisdictions.visible_codes(conn, b["jurisdiction_code"])
    here = jurisdictions.get(conn, b["jurisdiction_code"])
    b["jurisdiction_name"] = here["name"] if here else ""
    b["jurisdiction_level"] = here["level"] if here else ""
    return b


def list_boards(conn: sqlite3.Connection, codes: list[str] | None = None) -> list[dict]:
    """Published boards, optionally only those of the given jurisdictions."""
    sql = "SELECT * FROM board WHERE status = 'published'"
    params: list = []
    if codes is not None:
        sql += f" AND jurisdiction_code IN ({_in(codes)})"
        params = list(codes)
    rows = conn.execute(sql + " ORDER BY sort, id", params).fetchall()
    return [_board(conn, r) for r in rows]


def get_board(conn: sqlite3.Connection, slug: str) -> dict | None:
    """One board by its slug, whatever its status (the caller decides what a withdrawn one shows)."""
    row = conn.execute("SELECT * FROM board WHERE slug = ?", (slug,)).fetchone()
    return _board(conn, row) if row else None


def _not_ended(alias: str = "n") -> str:
    return (f"({alias}.period_end IS NULL OR {alias}.period_end >= :d) "
            f"AND ({alias}.expires_on IS NULL OR {alias}.expires_on >= :d)")


def board_notices(conn: sqlite3.Connection, board: dict, today: date) -> list[dict]:
    """Published notices that may appear on the board today or later (its area, not yet ended).

    Both the publisher and the subject must lie in the board's area, so a village board
    does not show the township's list for a neighbouring village. Emergencies from the
    board's chain are included whatever the board's level and domain filters.
    """
    area = board["area"]
    params = {f"a{i}": c for i, c in enumerate(area)}
    params["d"] = today.isoformat()
    in_area = ",".join(f":a{i}" for i in range(len(area))) or "NULL"
    rows = conn.execute(
        _BASE + f"""
        WHERE n.status = 'published' AND n.jurisdiction_code IN ({in_area})
          AND n.subject_code IN ({in_area}) AND {_not_ended()}
        ORDER BY n.id
        """, params).fetchall()
    return [_notice(r) for r in rows]


def emergency_notices(conn: sqlite3.Connection, chain: list[str], today: date) -> list[dict]:
    """Published 紧急 notices about any jurisdiction of ``chain`` that have not ended by ``today``."""
    params = {f"c{i}": c for i, c in enumerate(chain)}
    params["d"] = today.isoformat()
    in_chain = ",".join(f":c{i}" for i in range(len(chain))) or "NULL"
    rows = conn.execute(
        _BASE + f"""
        WHERE n.status = 'published' AND n.priority = '紧急'
          AND n.subject_code IN ({in_chain}) AND {_not_ended()}
        ORDER BY n.id
        """, params).fetchall()
    return [_notice(r) for r in rows]
