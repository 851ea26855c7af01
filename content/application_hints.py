"""Hints around applications: what is already published (/apply suggests it while the resident
types) and which information several applicants ask for (依申请转主动, for staff).

Both compare texts by their two-character words: the search's normalisation (full-width to
ASCII, lower case), Han characters in pairs, digits and Latin runs whole.  Chinese has no
spaces, and most words have two characters, so two titles about the same thing share most
of their pairs (2025年东湖镇耕地地力保护补贴名单 / 东湖镇2025年耕地地力补贴发放名单).
"""
from __future__ import annotations

import re
import sqlite3
from datetime import date, timedelta

from . import search

# 依申请转主动: this many applications (from different applicants) asking for similar
# information within WINDOW_DAYS suggest that it be published proactively (条例第四十四条:
# 多个申请人就相同政府信息向同一行政机关提出公开申请，且该政府信息属于可以公开的，可以纳入主动公开的范围).
PROACTIVE_THRESHOLD = 3
PROACTIVE_WINDOW_DAYS = 365
SIMILAR = 0.5                 # Dice coefficient of the word pairs from which two texts ask the same
SUGGEST_WORDS = 8             # pairs of the typed title searched for suggestions
SUGGESTIONS = 3             # a short list: the form must stay within reach below it
# Pairs that say nothing about what is asked for.
_STOP = frozenset({"申请", "公开", "信息", "政府", "关于", "有关", "相关", "文件", "资料", "提供", "名单",
                   "我要", "查询", "情况", "要求", "请求"})
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_OTHER = re.compile(r"[a-z0-9]+")


def words(text: str | None) -> set[str]:
    """The text's two-character words and its Latin/digit runs, without the ones that say nothing."""
    norm = search.normalize(text)
    out: set[str] = set()
    for run in _HAN.findall(norm):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    out.update(m for m in _OTHER.findall(norm) if len(m) >= 2)
    return out - _STOP


def similarity(a: set[str], b: set[str]) -> float:
    """Dice coefficient of two word sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


# ---------------------------------------------------------------- /apply: already published?

def published_matches(conn: sqlite3.Connection, title: str, codes: list[str] | None, today: date,
                      limit: int = SUGGESTIONS) -> list[search.Hit]:
    """Published items, notices and guides the resident may be asking for, best first.

    The whole text is searched first; when that finds nothing (a long title is one search
    term) each of its first word pairs is, and a hit counts by how many pairs its title shares.
    """
    title = (title or "").strip()[: search.MAX_QUERY]
    wanted = words(title)
    if not wanted:
        return []
    found = search.search(conn, title, codes, today, limit=limit).hits
    if found:
        return found[:limit]
    scored: dict[str, tuple[float, search.Hit]] = {}
    for word in sorted(wanted, key=title.find)[:SUGGEST_WORDS]:
        for hit in search.search(conn, word, codes, today, limit=limit * 2).hits:
            if hit.url not in scored:
                shared = len(wanted & words(hit.title))
                scored[hit.url] = (shared + 0.5 * (not hit.past), hit)
    ranked = sorted(scored.values(), key=lambda p: -p[0])
    return [hit for score, hit in ranked if score >= 2][:limit]


# ---------------------------------------------------------------- staff: 依申请转主动

def _asked(row) -> set[str]:
    return words(" ".join(filter(None, (row["title"], row["doc_number"], row["description"][:200]))))


def proactive_groups(conn: sqlite3.Connection, codes: list[str] | None, today: date,
                     threshold: int = PROACTIVE_THRESHOLD) -> list[dict]:
    """Groups of similar applications from at least ``threshold`` different applicants in the
    last year: [{"title", "count", "receipts": [...], "uuids": [...]}], largest first."""
    rows = _recent(conn, codes, today)
    asked = [_asked(r) for r in rows]
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(rows)):
        for j in range(i):
            if similarity(asked[i], asked[j]) >= SIMILAR:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(rows)):
        groups.setdefault(root(i), []).append(i)
    found = [_group([rows[i] for i in members], threshold) for members in groups.values()]
    return sorted((g for g in found if g), key=lambda g: -g["count"])


def _recent(conn: sqlite3.Connection, codes: list[str] | None, today: date) -> list[sqlite3.Row]:
    since = (today - timedelta(days=PROACTIVE_WINDOW_DAYS)).isoformat()
    sql = ("SELECT uuid, receipt_no, title, doc_number, description, name, id_number FROM application "
           "WHERE received_on >= ? AND scrubbed_at IS NULL")
    params: list = [since]
    if codes is not None:
        marks = ",".join("?" * len(codes)) or "NULL"
        sql += f" AND (jurisdiction_code IN ({marks}) OR organ_code IN ({marks}))"
        params += codes + codes
    return conn.execute(sql + " ORDER BY received_on, receipt_no", params).fetchall()


def _group(members: list, threshold: int) -> dict | None:
    """A hint for these applications, or None when fewer than ``threshold`` applicants asked."""
    applicants = {(r["id_number"] or r["name"]) for r in members}
    if len(applicants) < threshold:
        return None
    first = members[0]
    return {"title": first["title"] or first["doc_number"] or first["description"][:40],
            "count": len(members), "applicants": len(applicants),
            "receipts": [r["receipt_no"] for r in members], "uuids": [r["uuid"] for r in members]}


def proactive_group_of(conn: sqlite3.Connection, record_uuid: str, codes: list[str] | None, today: date,
                       threshold: int = PROACTIVE_THRESHOLD) -> dict | None:
    """The group of one application (for its page): the applications similar to it directly,
    when they come from at least ``threshold`` applicants; one pass, not the whole grouping."""
    rows = _recent(conn, codes, today)
    mine = next((r for r in rows if r["uuid"] == record_uuid), None)
    if mine is None:
        return None
    asked = _asked(mine)
    members = [r for r in rows if r["uuid"] == record_uuid or similarity(asked, _asked(r)) >= SIMILAR]
    return _group(members, threshold)
