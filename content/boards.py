"""Noticeboards (电子公示栏): their settings and the notices each may show.

Which of these notices is on screen at a given moment is decided by
``display.schedule`` (a pure function of board, notices and clock); this module
only reads rows.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import date

from . import jurisdictions, pictures
from .catalogue import _in
from .notices import _BASE, _notice

ORIENTATIONS = {"landscape": "横屏 1920×1080", "portrait": "竖屏 1080×1920"}


def _board(conn: sqlite3.Connection, row: sqlite3.Row) -> dict:
    b = dict(row)
    for key in ("levels", "domains", "windows"):
        b[key] = json.loads(b[key])
    # chain: the county down to the board's own jurisdiction (who may publish on the board;
    # emergencies come from there); area: chain plus everything below it (what the notices
    # may be about).
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


# What a board needs to choose its notices: every column but the long ones, which only the
# notices actually shown need (``with_details``). A county hall's board chooses from
# thousands of live notices and shows at most display.schedule.MAX_NOTICES of them.
_DETAILS = ("body", "fields", "table_columns", "table_rows")


def _light_base(conn: sqlite3.Connection) -> str:
    """notices._BASE with the notice's own columns listed, the long ones left out (read
    from the table itself, so a column added by a migration is not forgotten here)."""
    columns = [r[1] for r in conn.execute("PRAGMA table_info(notice)") if r[1] not in _DETAILS]
    light = _BASE.replace("SELECT n.*,", "SELECT " + ", ".join(f"n.{c}" for c in columns) + ",", 1)
    assert light != _BASE, "notices._BASE no longer starts with SELECT n.*"
    return light


def board_notices(conn: sqlite3.Connection, board: dict, today: date) -> list[dict]:
    """Published notices that may appear on the board today or later (its area, not yet ended),
    without their long columns: ``with_details`` adds those to the ones chosen for the screen.

    The publisher must be the board's own jurisdiction or one above it (a village's board
    shows its village, its township and the county; the county hall's board does not rotate
    every township's notices), and the subject must lie in the board's area, so a village
    board does not show the township's list for a neighbouring village. Emergencies from the
    board's chain are included whatever the board's level and domain filters.
    """
    area, chain = board["area"], board["chain"]
    params = {f"a{i}": c for i, c in enumerate(area)}
    params.update({f"c{i}": c for i, c in enumerate(chain)})
    params["d"] = today.isoformat()
    in_area = ",".join(f":a{i}" for i in range(len(area))) or "NULL"
    in_chain = ",".join(f":c{i}" for i in range(len(chain))) or "NULL"
    rows = conn.execute(
        _light_base(conn) + f"""
        WHERE n.status = 'published' AND n.jurisdiction_code IN ({in_chain})
          AND n.subject_code IN ({in_area}) AND {_not_ended()}
        ORDER BY n.id
        """, params).fetchall()
    return [dict(r) for r in rows]


def with_details(conn: sqlite3.Connection, notices: list[dict]) -> None:
    """Add body, fields and table to notices read by ``board_notices`` (in place, once)."""
    todo = [n for n in notices if "table_rows" not in n]
    for start in range(0, len(todo), 500):
        chunk = todo[start:start + 500]
        rows = {r["id"]: r for r in conn.execute(
            f"SELECT id, {', '.join(_DETAILS)} FROM notice WHERE id IN ({_in(chunk)})",
            [n["id"] for n in chunk])}
        attachments: dict[int, list] = {}
        for a in conn.execute(
                f"SELECT notice_id, name, mime, sha256, size, pictures FROM attachment "
                f"WHERE notice_id IN ({_in(chunk)}) ORDER BY id", [n["id"] for n in chunk]):
            attachments.setdefault(a["notice_id"], []).append(
                {"name": a["name"], "mime": a["mime"], "shown": pictures.shown(a)})
        for n in chunk:
            row = rows.get(n["id"])       # withdrawn a moment ago: shown without its details
            n["body"] = row["body"] if row else ""
            for key, empty in zip(_DETAILS[1:], ("{}", "[]", "[]")):
                n[key] = json.loads(row[key] if row else empty)
            n["attachments"] = attachments.get(n["id"], [])


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
