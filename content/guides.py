"""Service guides (办事指南) and handbooks (办事一本通)."""
from __future__ import annotations

import json
import sqlite3

from .catalogue import _in


def _guide(row: sqlite3.Row) -> dict:
    g = dict(row)
    g["materials"] = json.loads(g["materials"])
    g["steps"] = json.loads(g["steps"])
    return g


def _published_guides(conn: sqlite3.Connection, columns: str, codes: list[str],
                      domain_id: int | None = None, ids: list[int] | None = None,
                      limit: int | None = None) -> list[sqlite3.Row]:
    """Published guides of the given jurisdictions with their domain and place names, in the
    order lists show them (domain, then id)."""
    sql = f"""
        SELECT {columns}, d.name AS domain_name, j.name AS jurisdiction_name FROM guide g
        LEFT JOIN domain d ON d.id = g.domain_id
        JOIN jurisdiction j ON j.code = g.jurisdiction_code
        WHERE g.status = 'published' AND g.jurisdiction_code IN ({_in(codes)})
    """
    params: list = list(codes)
    if domain_id is not None:
        sql += " AND g.domain_id = ?"
        params.append(domain_id)
    if ids is not None:
        sql += f" AND g.id IN ({_in(ids)})"
        params += ids
    sql += " ORDER BY d.sort, g.id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return conn.execute(sql, params).fetchall()


def list_guides(conn: sqlite3.Connection, codes: list[str], domain_id: int | None = None) -> list[dict]:
    return [_guide(r) for r in _published_guides(conn, "g.*", codes, domain_id)]


CARD_COLUMNS = ("id", "title", "office", "time_limit_text", "domain_id", "jurisdiction_code")


def guide_cards(conn: sqlite3.Connection, codes: list[str], domain_id: int | None = None,
                ids: list[int] | None = None, limit: int | None = None) -> list[dict]:
    """What a list of guides shows (title, office, time limit, domain and place names), in
    ``list_guides``' order: not the materials and steps, which make a county's 2,000 guides
    about 10 MB of Python objects for a list page of 300 KB."""
    columns = ", ".join("g." + c for c in CARD_COLUMNS)
    return [dict(r) for r in _published_guides(conn, columns, codes, domain_id, ids, limit)]


def get_guide(conn: sqlite3.Connection, guide_id: int, codes: list[str]) -> dict | None:
    row = conn.execute(
        f"""
        SELECT g.*, d.name AS domain_name, j.name AS jurisdiction_name FROM guide g
        LEFT JOIN domain d ON d.id = g.domain_id
        JOIN jurisdiction j ON j.code = g.jurisdiction_code
        WHERE g.id = ? AND g.status = 'published' AND g.jurisdiction_code IN ({_in(codes)})
        """, [guide_id, *codes]).fetchone()
    if row is None:
        return None
    g = _guide(row)
    g["handbooks"] = [dict(r) for r in conn.execute(
        """SELECT h.id, h.title FROM handbook h JOIN handbook_guide hg ON hg.handbook_id = h.id
           WHERE hg.guide_id = ? AND h.status = 'published' ORDER BY h.id""", (guide_id,))]
    return g


def list_handbooks(conn: sqlite3.Connection, codes: list[str]) -> list[dict]:
    rows = conn.execute(
        f"""
        SELECT h.*, (SELECT count(*) FROM handbook_guide hg JOIN guide g ON g.id = hg.guide_id
                     WHERE hg.handbook_id = h.id AND g.status = 'published') AS guide_count
        FROM handbook h WHERE h.status = 'published' AND h.jurisdiction_code IN ({_in(codes)})
        ORDER BY h.id
        """, codes).fetchall()
    return [dict(r) for r in rows]


def get_handbook(conn: sqlite3.Connection, handbook_id: int, codes: list[str]) -> dict | None:
    row = conn.execute(
        f"SELECT * FROM handbook WHERE id = ? AND status = 'published' "
        f"AND jurisdiction_code IN ({_in(codes)})", [handbook_id, *codes]).fetchone()
    if row is None:
        return None
    h = dict(row)
    h["guides"] = [_guide(r) for r in conn.execute(
        """SELECT g.* FROM guide g JOIN handbook_guide hg ON hg.guide_id = g.id
           WHERE hg.handbook_id = ? AND g.status = 'published' ORDER BY hg.sort, g.id""",
        (handbook_id,))]
    return h


def for_item(conn: sqlite3.Connection, item: dict, codes: list[str]) -> list[dict]:
    """Guides for a catalogue item: its own, then those of items of the same 一级事项 in the same
    domain (a township's 最低生活保障·办事指南 leads to the county's 最低生活保障申请 guide)."""
    rows = conn.execute(
        f"""
        SELECT g.id, g.title, g.office, g.time_limit_text, j.name AS jurisdiction_name
        FROM guide g JOIN jurisdiction j ON j.code = g.jurisdiction_code
        LEFT JOIN catalogue_item i ON i.id = g.item_id
        WHERE g.status = 'published' AND g.jurisdiction_code IN ({_in(codes)})
          AND (g.item_id = ? OR (i.domain_id = ? AND i.level1 = ?))
        ORDER BY g.item_id = ? DESC, g.id
        """, [*codes, item["id"], item["domain_id"], item["level1"], item["id"]]).fetchall()
    return [dict(r) for r in rows]
