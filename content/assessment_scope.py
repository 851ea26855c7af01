"""Scope (a jurisdiction and everything below it) and period of an assessment, and small helpers."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from . import jurisdictions
from .alignment import LEVELS

RECENT_DAYS = 365
PUB_DAY = "date({col}, '+8 hours')"   # published_at is UTC; deadlines are Beijing dates
LEVEL_ORDER = LEVELS
VILLAGE_DOMAIN = "村务·{}"          # village-list categories shown beside the 26 domains


def _in(values) -> str:
    return ",".join("?" * len(values)) or "NULL"


def _d(text) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ---------------------------------------------------------------- scope and period

@dataclass(frozen=True)
class Scope:
    """A jurisdiction and everything below it, with each code's place under the node."""

    code: str
    name: str
    level: str
    codes: tuple[str, ...]
    child_of: dict[str, str]          # code → the node's child it lies under (the node itself for itself)
    names: dict[str, str]
    levels: dict[str, str]
    children: tuple[str, ...]         # the node's direct children, in order

    @property
    def villages(self) -> list[str]:
        return [c for c in self.codes if self.levels[c] == "village"]

    def group(self, code: str) -> str | None:
        return self.child_of.get(code)


def scope_of(conn: sqlite3.Connection, code: str) -> Scope | None:
    node = jurisdictions.get(conn, code)
    if node is None:
        return None
    rows = conn.execute(
        """WITH RECURSIVE down(code, top, depth) AS (
               SELECT ?, ?, 0
               UNION ALL
               SELECT j.code, CASE WHEN down.depth = 0 THEN j.code ELSE down.top END, down.depth + 1
               FROM jurisdiction j JOIN down ON j.parent_code = down.code)
           SELECT d.code, d.top, d.depth, j.name, j.level, j.sort FROM down d
           JOIN jurisdiction j ON j.code = d.code ORDER BY d.depth, j.sort, d.code""",
        (code, code)).fetchall()
    return Scope(code=code, name=node["name"], level=node["level"],
                 codes=tuple(r["code"] for r in rows),
                 child_of={r["code"]: r["top"] for r in rows},
                 names={r["code"]: r["name"] for r in rows},
                 levels={r["code"]: r["level"] for r in rows},
                 children=tuple(r["code"] for r in rows if r["depth"] == 1))


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def months(self) -> list[str]:
        """'YYYY-MM' for every month the period touches."""
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def __contains__(self, d: date | None) -> bool:
        return d is not None and self.start <= d <= self.end


def as_of(period: Period, today: date) -> date:
    return min(period.end, today)

