"""Matters and their aligned view: what each level published for one matter and one village."""
from __future__ import annotations

import json
import sqlite3
from datetime import date

from . import alignment, jurisdictions, notices


def _matter(row: sqlite3.Row) -> dict:
    m = dict(row)
    m["levels"] = json.loads(m["levels"])
    m["key_columns"] = json.loads(m["key_columns"])
    m["time_limit"] = json.loads(m["time_limit"]) if m["time_limit"] else None
    return m


def get_matter(conn: sqlite3.Connection, matter_id: int) -> dict | None:
    row = conn.execute(
        """SELECT m.*, d.name AS domain_name FROM matter m LEFT JOIN domain d ON d.id = m.domain_id
           WHERE m.id = ? AND m.status = 'published'""", (matter_id,)).fetchone()
    return _matter(row) if row else None


def list_matters(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute(
        """SELECT m.*, d.name AS domain_name FROM matter m LEFT JOIN domain d ON d.id = m.domain_id
           WHERE m.status = 'published' ORDER BY d.sort, m.id""").fetchall()
    return [_matter(r) for r in rows]


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def publications(conn: sqlite3.Connection, matter: dict, village_code: str,
                 today: date) -> dict[str, alignment.Publication | None]:
    """For each level in the village's chain, the newest notice it published for the matter."""
    chain = jurisdictions.ancestors(conn, village_code)
    subjects = [j["code"] for j in chain]
    pubs: dict[str, alignment.Publication | None] = {}
    for j in chain:
        n = notices.for_matter(conn, matter["id"], j["code"], subjects, today)
        pubs[j["level"]] = None if n is None else _publication(j, n)
    return pubs


def _publication(j, n: dict) -> alignment.Publication:
    return alignment.Publication(
        level=j["level"], jurisdiction=j["name"], notice_id=n["id"], title=n["title"],
        fields={str(k): str(v) for k, v in n["fields"].items()},
        columns=[str(c) for c in n["table_columns"]],
        rows=[[str(c) for c in r] for r in n["table_rows"]],
        formed_on=_date(n["formed_on"]), published_on=_date(n["published_at"]))


def _chosen_publications(best: dict, matter_id: int,
                         chain: list) -> dict[str, alignment.Publication | None]:
    """``publications`` from the groups ``notices.best_for_matters`` returned."""
    pubs: dict[str, alignment.Publication | None] = {}
    for j in chain:
        row = next((best[k] for k in ((matter_id, j["code"], s["code"]) for s in reversed(chain))
                    if k in best), None)
        pubs[j["level"]] = None if row is None else _publication(j, notices.notice_from_row(row))
    return pubs


def align_for_village(conn: sqlite3.Connection, matter: dict, village_code: str,
                      today: date) -> alignment.Alignment:
    pubs = publications(conn, matter, village_code, today)
    return alignment.align(matter["levels"], matter["key_columns"], pubs,
                           matter["time_limit"], today)


_APPLIES = """
    SELECT matter_id, jurisdiction_code AS village FROM village_item
    WHERE matter_id IS NOT NULL AND status = 'published'
    UNION
    SELECT n.matter_id, n.subject_code FROM notice n JOIN jurisdiction j ON j.code = n.subject_code
    WHERE n.matter_id IS NOT NULL AND n.status = 'published' AND j.level = 'village'
"""


def village_overview(conn: sqlite3.Connection, village_code: str,
                     today: date) -> list[tuple[dict, alignment.Alignment]]:
    """The matters that concern a village (its list names them or a notice is about it)."""
    # _APPLIES filtered on each side: SQLite does not push the filter into the UNION,
    # and the whole union costs hundreds of ms at county scale.
    ids = {r[0] for r in conn.execute(
        """SELECT matter_id FROM village_item
           WHERE jurisdiction_code = ? AND matter_id IS NOT NULL AND status = 'published'
           UNION
           SELECT matter_id FROM notice
           WHERE subject_code = ? AND matter_id IS NOT NULL AND status = 'published'""",
        (village_code, village_code))}
    chosen = [m for m in list_matters(conn) if m["id"] in ids]
    chain = jurisdictions.ancestors(conn, village_code)
    codes = [j["code"] for j in chain]
    best = notices.best_for_matters(conn, [m["id"] for m in chosen], codes, codes, today)
    return [(m, _align(m, _chosen_publications(best, m["id"], chain), today)) for m in chosen]


def _align(matter: dict, pubs: dict, today: date) -> alignment.Alignment:
    return alignment.align(matter["levels"], matter["key_columns"], pubs,
                           matter["time_limit"], today)


def matter_villages(conn: sqlite3.Connection, matter: dict, codes: list[str],
                    today: date) -> list[tuple[sqlite3.Row, alignment.Alignment]]:
    """The visible villages a matter concerns, each with its alignment."""
    rows = conn.execute(
        f"""SELECT j.* FROM ({_APPLIES}) a JOIN jurisdiction j ON j.code = a.village
            WHERE a.matter_id = ? ORDER BY j.code""", (matter["id"],)).fetchall()
    villages = [j for j in rows if j["code"] in codes]
    chains = {j["code"]: jurisdictions.ancestors(conn, j["code"]) for j in villages}
    involved = sorted({c["code"] for chain in chains.values() for c in chain})
    best = notices.best_for_matters(conn, [matter["id"]], involved, involved, today)
    return [(j, _align(matter, _chosen_publications(best, matter["id"], chains[j["code"]]), today))
            for j in villages]
