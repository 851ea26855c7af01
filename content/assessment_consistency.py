"""Consistency figure of the assessment: every aligned matter × village of the scope.

The verdicts come from content.alignment_cache (kept until a notice or matter they were
computed from changes), so a county's thousands of pairs are not aligned again per page.
"""
from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import date

from . import alignment_cache
from .alignment import CONSISTENT, INCONSISTENT, MISSING, STALE
from .assessment_scope import Period, Scope, as_of, share

ALIGN_STATUSES = (CONSISTENT, INCONSISTENT, MISSING, STALE)


@dataclass
class Consistency:
    as_of: date
    rows: list[dict]        # matter, village, status, summary, url

    def counts(self, rows=None) -> Counter:
        return Counter(r["status"] for r in (self.rows if rows is None else rows))

    def rate(self, rows=None) -> float | None:
        rows = self.rows if rows is None else rows
        return share(sum(1 for r in rows if r["status"] == CONSISTENT), len(rows))

    @property
    def problems(self) -> list[dict]:
        return [r for r in self.rows if r["status"] != CONSISTENT]


def consistency(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Consistency:
    """Every aligned matter × village of the scope with its alignment verdict."""
    day = as_of(period, today)
    rows = []
    for v in alignment_cache.verdicts(conn, set(scope.villages), day, keep=day >= today):
        m, code = v.matter, v.village["code"]
        rows.append({"matter_id": m["id"], "matter": m["title"], "domain": m["domain_name"] or "",
                     "code": code, "village": v.village["name"],
                     "township": scope.names.get(v.village["parent_code"], ""),
                     "status": v.status, "summary": v.summary,
                     "url": f"/matters/{m['id']}/{code}"})
    return Consistency(day, rows)
