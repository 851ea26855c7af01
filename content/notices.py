"""Notices (公示/公告/信息) as residents see them."""
from __future__ import annotations

import json
import sqlite3
from datetime import date

from . import pictures
from .catalogue import _in


def _notice(row: sqlite3.Row) -> dict:
    n = dict(row)
    n["fields"] = json.loads(n["fields"])
    n["table_columns"] = json.loads(n["table_columns"])
    n["table_rows"] = json.loads(n["table_rows"])
    return n


def is_live(n: dict, today: date) -> bool:
    """Published, already out, and neither past its publicity period nor expired."""
    d = today.isoformat()
    return (n["status"] == "published"
            and (n["published_at"] or "")[:10] <= d
            and (not n["period_end"] or n["period_end"] >= d)
            and (not n["expires_on"] or n["expires_on"] >= d))


_BASE = """
    SELECT n.*, j.name AS jurisdiction_name, j.level AS jurisdiction_level,
           s.name AS subject_name, d.name AS domain_name
    FROM notice n
    JOIN jurisdiction j ON j.code = n.jurisdiction_code
    JOIN jurisdiction s ON s.code = n.subject_code
    LEFT JOIN domain d ON d.id = n.domain_id
"""


def list_notices(conn: sqlite3.Connection, codes: list[str], today: date,
                 past: bool = False, limit: int = 200, *, item_id: int | None = None,
                 village_item_id: int | None = None,
                 subjects: list[str] | None = None) -> list[dict]:
    """Live notices (or, with ``past``, ones whose period or validity has ended), newest first.

    ``item_id`` / ``village_item_id``: only the notices of that catalogue or village item;
    ``subjects``: only notices about these jurisdictions (a village's own, whoever published).
    """
    d = today.isoformat()
    live = ("substr(n.published_at, 1, 10) <= :d AND (n.period_end IS NULL OR n.period_end >= :d) "
            "AND (n.expires_on IS NULL OR n.expires_on >= :d)")
    cond = (f"substr(n.published_at, 1, 10) <= :d AND NOT ({live})" if past else live)
    params = {f"c{i}": c for i, c in enumerate(codes)}
    params["d"] = d
    params["limit"] = limit
    for column, value in (("item_id", item_id), ("village_item_id", village_item_id)):
        if value is not None:
            cond += f" AND n.{column} = :{column}"
            params[column] = value
    if subjects is not None:
        cond += " AND n.subject_code IN (" + (",".join(
            f":s{i}" for i in range(len(subjects))) or "NULL") + ")"
        params.update({f"s{i}": c for i, c in enumerate(subjects)})
    placeholders = ",".join(f":c{i}" for i in range(len(codes))) or "NULL"
    rows = conn.execute(
        _BASE + f"""
        WHERE n.status = 'published' AND n.jurisdiction_code IN ({placeholders}) AND {cond}
        ORDER BY {"" if past else "CASE n.priority WHEN '紧急' THEN 0 WHEN '重要' THEN 1 ELSE 2 END,"}
                 n.published_at DESC, n.id DESC
        LIMIT :limit
        """, params).fetchall()
    return [_notice(r) for r in rows]


def by_month(notices: list[dict]) -> list[tuple[str, list[dict]]]:
    """Notices grouped by the month they came out ('2026年11月'), in the order given."""
    groups: dict[str, list[dict]] = {}
    for n in notices:
        stamp = (n.get("published_at") or "")[:7]
        label = f"{stamp[:4]}年{int(stamp[5:7])}月" if len(stamp) == 7 else "日期不详"
        groups.setdefault(label, []).append(n)
    return list(groups.items())


def get_notice(conn: sqlite3.Connection, notice_id: int, codes: list[str], today: date) -> dict | None:
    """A notice residents may read: published and already out (past ones stay readable)."""
    row = conn.execute(
        _BASE + f"WHERE n.id = ? AND n.status = 'published' AND n.jurisdiction_code IN ({_in(codes)})",
        [notice_id, *codes]).fetchone()
    if row is None or (row["published_at"] or "")[:10] > today.isoformat():
        return None
    n = _notice(row)
    n["live"] = is_live(n, today)
    n["attachments"] = [dict(a, shown=pictures.shown(a)) for a in conn.execute(
        "SELECT * FROM attachment WHERE notice_id = ? ORDER BY id", (notice_id,))]
    return n


def for_matter(conn: sqlite3.Connection, matter_id: int, publisher: str,
               subject_chain: list[str], today: date) -> dict | None:
    """The newest published notice ``publisher`` made for a matter about the subject or an ancestor.

    The most specific subject wins (a list for the village beats one for the township).
    """
    if not subject_chain:
        return None
    rank = " ".join(f"WHEN ? THEN {i}" for i, _ in enumerate(reversed(subject_chain)))
    row = conn.execute(
        _BASE + f"""
        WHERE n.matter_id = ? AND n.jurisdiction_code = ? AND n.status = 'published'
          AND n.subject_code IN ({_in(subject_chain)})
          AND substr(n.published_at, 1, 10) <= ?
        ORDER BY CASE n.subject_code {rank} END, n.formed_on DESC, n.published_at DESC, n.id DESC
        LIMIT 1
        """, [matter_id, publisher, *subject_chain, today.isoformat(),
              *reversed(subject_chain)]).fetchone()
    return _notice(row) if row else None


def best_for_matters(conn: sqlite3.Connection, matter_ids: list[int], publishers: list[str],
                     subjects: list[str], today: date) -> dict[tuple[int, str, str], sqlite3.Row]:
    """In one query, what ``for_matter`` would pick, grouped by (matter, publisher, subject).

    Each value is the newest published notice of that group (formed_on, published_at, id
    descending, as in ``for_matter``); a caller choosing for one village takes, for each
    publisher, the group of the most specific subject in the village's chain. At county
    scale this is one query per page instead of three per matter and village.
    """
    if not matter_ids or not publishers or not subjects:
        return {}
    rows = conn.execute(
        _BASE + f"""
        WHERE n.matter_id IN ({_in(matter_ids)}) AND n.jurisdiction_code IN ({_in(publishers)})
          AND n.subject_code IN ({_in(subjects)}) AND n.status = 'published'
          AND substr(n.published_at, 1, 10) <= ?
        ORDER BY n.formed_on DESC, n.published_at DESC, n.id DESC
        """, [*matter_ids, *publishers, *subjects, today.isoformat()]).fetchall()
    best: dict[tuple[int, str, str], sqlite3.Row] = {}
    for r in rows:
        best.setdefault((r["matter_id"], r["jurisdiction_code"], r["subject_code"]), r)
    return best


def notice_from_row(row: sqlite3.Row) -> dict:
    """A notice row as the dict the read functions return (JSON columns parsed)."""
    return _notice(row)
