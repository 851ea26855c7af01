"""Alignment verdicts of every matter × village, kept until one of their inputs changes.

Aligning one matter for one village normalises every cell of every level's table
(content.alignment); a county has tens of thousands of such pairs.  Here:

* the notices each pair compares are chosen in one narrow query for all matters
  (ids and dates only, no table text);
* each notice's normalised fields and table digest are stored once (``notice_digest``,
  dropped by a trigger when the notice's fields or table change), so pairs whose levels
  published the same table are settled without aligning cell by cell;
* each verdict is stored with the notices it was computed from (``alignment_verdict``),
  reused while they are still the ones chosen; triggers drop it when a notice of the
  matter about the village (or above it) is added, approved, withdrawn, edited or synced,
  or the matter changes.

A verdict depends on the date only through staleness (a lagging level past its
deadline), so both verdicts are stored with the deadline between them.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date

from . import alignment, matters, notices

# {plus} is "+" for a few subjects: then the subject index is the better way in, not the matter's.
_CHOICE = """
    SELECT id, matter_id, jurisdiction_code, subject_code FROM notice
    WHERE {plus}matter_id IN ({marks}) AND subject_code IN ({subjects}) AND status = 'published'
      AND substr(published_at, 1, 10) <= ?
    ORDER BY formed_on DESC, published_at DESC, id DESC"""
FEW_SUBJECTS = 60


@dataclass(frozen=True)
class Verdict:
    """One matter × village: its status and summary on the date asked, and the notices compared."""

    matter: dict
    village: dict                      # code, name, parent_code
    status: str
    summary: str
    notice_ids: tuple[int, ...]        # the levels' notices, county → village (present ones)


def _jurisdictions(conn: sqlite3.Connection) -> dict[str, dict]:
    return {r["code"]: dict(r) for r in conn.execute(
        "SELECT code, name, level, parent_code FROM jurisdiction")}


def _chain(places: dict[str, dict], code: str) -> list[dict]:
    """County → code, as jurisdictions.ancestors gives it."""
    out, seen = [], set()
    while code in places and code not in seen:
        seen.add(code)
        out.append(places[code])
        code = places[code]["parent_code"]
    return list(reversed(out))


def applying_pairs(conn: sqlite3.Connection, villages: set[str] | None = None) -> list[tuple[int, str]]:
    """(matter, village) pairs a village list or a notice about the village names (of the
    given villages: each side of the union filtered, which SQLite would not do itself)."""
    if villages is None:
        return conn.execute(matters._APPLIES).fetchall()
    codes = sorted(villages)
    marks = ",".join("?" * len(codes))
    return conn.execute(
        f"""SELECT matter_id, jurisdiction_code FROM village_item
            WHERE jurisdiction_code IN ({marks}) AND matter_id IS NOT NULL AND status = 'published'
            UNION
            SELECT matter_id, subject_code FROM notice
            WHERE subject_code IN ({marks}) AND matter_id IS NOT NULL AND status = 'published'""",
        [*codes, *codes]).fetchall()


def verdicts(conn: sqlite3.Connection, villages: set[str] | None, day: date, keep: bool = True) -> list[Verdict]:
    """Every published matter × visible village (all villages if None), in dashboard order:
    matters as matters.list_matters orders them, villages by code. ``keep``: store verdicts
    computed afresh (False for a day in the past: one verdict per pair is kept, today's, and
    a past day's notices would replace it only to be aligned again on the next round)."""
    all_matters = matters.list_matters(conn)
    if not all_matters:
        return []
    places = _jurisdictions(conn)
    wanted: dict[int, list[str]] = {}
    for m_id, code in applying_pairs(conn, villages):
        if code in places and places[code]["level"] == "village" and (villages is None or code in villages):
            wanted.setdefault(m_id, []).append(code)
    if not wanted:
        return []
    ids = [m["id"] for m in all_matters]
    codes = sorted({c for cs in wanted.values() for c in cs})
    subjects = sorted({j["code"] for c in codes for j in _chain(places, c)})
    # matter → publisher → subject → the notice chosen (newest first wins).
    best: dict[int, dict[str, dict[str, int]]] = {}
    cursor = conn.cursor()
    cursor.row_factory = None              # plain tuples: a county reads tens of thousands
    for nid, mid, pub, subject in cursor.execute(
            _CHOICE.format(marks=",".join("?" * len(ids)), subjects=",".join("?" * len(subjects)),
                           plus="+" if len(subjects) < FEW_SUBJECTS else ""),
            [*ids, *subjects, day.isoformat()]):
        best.setdefault(mid, {}).setdefault(pub, {}).setdefault(subject, nid)
    cached = {(r["matter_id"], r["village_code"]): r for r in conn.execute(
        "SELECT matter_id, village_code, inputs, status, summary, stale_after, stale_status, stale_summary "
        f"FROM alignment_verdict WHERE village_code IN ({','.join('?' * len(codes))})", codes)}

    pairs: list[tuple[dict, dict, str, list]] = []
    chains = {c: _chain(places, c) for c in codes}
    # Per village: its chain, and per level the subjects to try, most specific first.
    plans = {c: [(j, j["code"], j["level"] + ":", [s["code"] for s in reversed(chain)]) for j in chain]
             for c, chain in chains.items()}
    nothing: dict = {}
    for m in all_matters:
        mid = m["id"]
        by_publisher = best.get(mid, nothing)
        for code in sorted(set(wanted.get(mid, ()))):
            chosen, inputs = [], []
            for j, pub, label, subjects_first in plans[code]:
                nid = None
                by_subject = by_publisher.get(pub)
                if by_subject:
                    for s in subjects_first:
                        nid = by_subject.get(s)
                        if nid is not None:
                            break
                chosen.append((j, nid))
                inputs.append(f"{label}{nid}" if nid else label)
            pairs.append((m, places[code], ",".join(inputs), chosen))

    missing = [p for p in pairs if (cached.get((p[0]["id"], p[1]["code"])) or {"inputs": None})["inputs"] != p[2]]
    if missing:
        fresh = _compute(conn, missing, keep)
        cached.update(fresh)
    out = []
    when = day.isoformat()
    for m, village, inputs, chosen in pairs:
        row = cached[(m["id"], village["code"])]
        stale = row["stale_after"] is not None and when > row["stale_after"]
        out.append(Verdict(m, village, row["stale_status"] if stale else row["status"],
                           row["stale_summary"] if stale else row["summary"],
                           tuple(nid for _, nid in chosen if nid is not None)))
    return out


# ---------------------------------------------------------------- computing verdicts

def _digest(pub: alignment.Publication) -> dict:
    """Normalised fields (first spelling of a name wins, as alignment compares them) and a
    digest of the normalised table: equal digests align without a difference."""
    norm = alignment.normalize_value
    fields: dict[str, str] = {}
    for name, value in pub.fields.items():
        fields.setdefault(alignment._normalize_name(name), alignment.normalize_value(value))
    table = ""
    if pub.has_table:
        header = alignment._header(pub)
        rows = []
        for raw in pub.rows:
            cells = [("" if c is None else str(c)) for c in raw]
            cells += [""] * (len(header) - len(cells))
            normalised = [norm(c) for c in cells]
            if any(normalised):           # a blank line in an imported sheet
                rows.append(normalised)
        table = hashlib.sha256(json.dumps([[alignment._normalize_name(c) for c in header], rows],
                                          ensure_ascii=False).encode()).hexdigest()
    return {"fields": fields, "has_table": pub.has_table, "table_sha": table}


def _publications(conn: sqlite3.Connection, ids: list[int]) -> dict[int, dict]:
    out = {}
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        for row in conn.execute(notices._BASE + f" WHERE n.id IN ({','.join('?' * len(part))})", part):
            out[row["id"]] = notices.notice_from_row(row)
    return out


def _digests(conn: sqlite3.Connection, ids: set[int]) -> dict[int, dict]:
    """Stored digests of the notices, computing (and storing) those not stored yet."""
    out: dict[int, dict] = {}
    id_list = sorted(ids)
    for i in range(0, len(id_list), 500):
        part = id_list[i:i + 500]
        for r in conn.execute(f"SELECT * FROM notice_digest WHERE notice_id IN ({','.join('?' * len(part))})",
                              part):
            out[r["notice_id"]] = {"fields": json.loads(r["fields"]), "has_table": bool(r["has_table"]),
                                   "table_sha": r["table_sha"]}
    todo = [n for n in id_list if n not in out]
    new = []
    for i in range(0, len(todo), 500):      # in parts: a county's tables at once would not fit
        for nid, n in _publications(conn, todo[i:i + 500]).items():
            d = _digest(matters._publication({"level": "", "name": ""}, n))
            out[nid] = d
            new.append((nid, json.dumps(d["fields"], ensure_ascii=False), int(d["has_table"]), d["table_sha"]))
    if new:
        _store(conn, "INSERT OR REPLACE INTO notice_digest(notice_id, fields, has_table, table_sha) "
                     "VALUES (?, ?, ?, ?)", new)
    return out


def _settled_by_digest(present: list[dict]) -> bool:
    """No field and no table difference: every shared field agrees, every table is the same."""
    seen: dict[str, str] = {}
    for d in present:
        for name, value in d["fields"].items():
            if seen.setdefault(name, value) != value:
                return False
    return len({d["table_sha"] for d in present if d["has_table"]}) <= 1


def _summary(levels: list[str], present: set[str]) -> tuple[str, str]:
    """Status and summary of an alignment without differences: missing levels only."""
    wanted = dict.fromkeys([*levels, *present])
    order = sorted(wanted, key=lambda lv: alignment.LEVELS.index(lv) if lv in alignment.LEVELS
                   else len(alignment.LEVELS))
    missing = [lv for lv in order if lv not in present]
    status = alignment.MISSING if missing else alignment.CONSISTENT
    sides = {lv: alignment.SideResult(lv, alignment.MISSING if lv in missing else alignment.CONSISTENT, None)
             for lv in order}
    return status, alignment.Alignment(status, sides, [], [], []).summary()


def _compute(conn: sqlite3.Connection, pairs: list, keep: bool = True) -> dict[tuple[int, str], dict]:
    ids = {nid for *_, chosen in pairs for _, nid in chosen if nid is not None}
    digests = _digests(conn, ids)
    out: dict[tuple[int, str], dict] = {}
    slow = []
    for m, village, inputs, chosen in pairs:
        present = [(j, nid) for j, nid in chosen if nid is not None]
        if _settled_by_digest([digests[nid] for _, nid in present]):
            status, summary = _summary(m["levels"], {j["level"] for j, _ in present})
            out[(m["id"], village["code"])] = {"inputs": inputs, "status": status, "summary": summary,
                                               "stale_after": None, "stale_status": None,
                                               "stale_summary": None}
        else:
            slow.append((m, village, inputs, chosen))
    loaded = _publications(conn, sorted({nid for *_, chosen in slow for _, nid in chosen if nid is not None}))
    for m, village, inputs, chosen in slow:
        pubs = {j["level"]: (None if nid is None else matters._publication(j, loaded[nid])) for j, nid in chosen}
        fresh = alignment.align(m["levels"], m["key_columns"], pubs, m["time_limit"], date.min)
        row = {"inputs": inputs, "status": fresh.status, "summary": fresh.summary(),
               "stale_after": None, "stale_status": None, "stale_summary": None}
        if any(s.within_limit for s in fresh.sides.values()) and fresh.deadline is not None:
            late = alignment.align(m["levels"], m["key_columns"], pubs, m["time_limit"], date.max)
            row.update(stale_after=fresh.deadline.isoformat(), stale_status=late.status,
                       stale_summary=late.summary())
        out[(m["id"], village["code"])] = row
    if not keep:
        return out
    _store(conn, "INSERT OR REPLACE INTO alignment_verdict(matter_id, village_code, inputs, status, summary, "
                 "stale_after, stale_status, stale_summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
           [(m_id, code, r["inputs"], r["status"], r["summary"], r["stale_after"], r["stale_status"],
             r["stale_summary"]) for (m_id, code), r in out.items()])
    return out


def _store(conn: sqlite3.Connection, sql: str, rows: list) -> None:
    """Keep computed rows; a connection that cannot write (read-only, busy) just recomputes next time."""
    if not rows:
        return
    try:
        conn.execute("SAVEPOINT alignment_cache")
        try:
            conn.executemany(sql, rows)
            conn.execute("RELEASE alignment_cache")
        except BaseException:
            conn.execute("ROLLBACK TO alignment_cache")
            conn.execute("RELEASE alignment_cache")
            raise
    except sqlite3.OperationalError:
        pass
