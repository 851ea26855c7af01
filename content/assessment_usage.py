"""Usage figures of the assessment: views per owning jurisdiction, domain, month and terminal."""
from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from .assessment_scope import Period, Scope, _d, _in
from .db import get_meta
from .usage import LOCAL


# ---------------------------------------------------------------- content gaps and usage

def content_gaps(conn: sqlite3.Connection, period: Period, limit: int = 20) -> list[tuple[str, int]]:
    """The most frequent searches that found nothing in the period (counts carry no place)."""
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT query, sum(count) AS c FROM usage_search_miss WHERE day BETWEEN ? AND ? "
        "GROUP BY query ORDER BY c DESC, query LIMIT ?",
        (period.start.isoformat(), period.end.isoformat(), limit))]


@dataclass
class Usage:
    by_jurisdiction: Counter      # owning jurisdiction → views
    by_domain: Counter
    monthly: Counter
    by_group: Counter

    @property
    def total(self) -> int:
        return sum(self.monthly.values())


def _months(period: Period) -> tuple[list[str], list[tuple[str, str]]]:
    """The period as whole months (read from the roll-up) and day ranges (read from the days)."""
    whole, ranges = [], []
    for month in period.months():
        first = date.fromisoformat(month + "-01")
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        lo, hi = max(first, period.start), min(last, period.end)
        if lo == first and hi == last:
            whole.append(month)
        else:
            ranges.append((lo.isoformat(), hi.isoformat()))
    return whole, ranges


def rollup_ready(conn: sqlite3.Connection) -> bool:
    """Rebuild the monthly roll-up if a change of owner or domain marked it; False if it
    cannot be rebuilt now (a read-only connection): read the daily rows instead."""
    row = conn.execute("SELECT value FROM assessment_state WHERE name = 'usage_rollup_dirty'").fetchone()
    if row is None or not row[0]:
        return True
    try:
        conn.execute("SAVEPOINT usage_rollup")
        try:
            conn.execute("DELETE FROM usage_month")
            conn.execute("""INSERT INTO usage_month(code, month, domain, views)
                            SELECT code, substr(day, 1, 7), domain, sum(views)
                            FROM usage_attribution GROUP BY 1, 2, 3""")
            conn.execute("DELETE FROM usage_terminal_month")
            conn.execute("""INSERT INTO usage_terminal_month(terminal, month, domain, views)
                            SELECT terminal, substr(day, 1, 7), domain, sum(views)
                            FROM usage_attribution GROUP BY 1, 2, 3""")
            conn.execute("DELETE FROM usage_terminal_day")
            conn.execute("""INSERT INTO usage_terminal_day(terminal, day, views)
                            SELECT terminal, day, sum(views) FROM usage_view GROUP BY terminal, day""")
            conn.execute("UPDATE assessment_state SET value = 0 WHERE name = 'usage_rollup_dirty'")
            conn.execute("RELEASE usage_rollup")
        except BaseException:
            conn.execute("ROLLBACK TO usage_rollup")
            conn.execute("RELEASE usage_rollup")
            raise
    except sqlite3.OperationalError:
        return False
    return True


def _views(conn: sqlite3.Connection, period: Period, rollup: str, keys: str, where: str,
           params: list) -> list:
    """Views in the period summed in SQL by ``keys`` and filtered by ``where``: whole months
    from the ``rollup`` table, the rest of the period from the daily rows."""
    whole, ranges = _months(period)
    if not rollup_ready(conn):
        whole, ranges = [], [(period.start.isoformat(), period.end.isoformat())]
    parts, args = [], []
    if whole:
        parts.append(f"SELECT {keys}, views FROM {rollup} WHERE month IN ({_in(whole)}) AND {where}")
        args += [*whole, *params]
    for lo, hi in ranges:
        parts.append(f"SELECT {keys}, views FROM (SELECT *, substr(day, 1, 7) AS month FROM usage_attribution "
                     f"WHERE day BETWEEN ? AND ?) WHERE {where}")
        args += [lo, hi, *params]
    if not parts:
        return []
    return conn.execute(f"SELECT {keys}, sum(views) AS views FROM ({' UNION ALL '.join(parts)}) "
                        f"GROUP BY {keys}", args).fetchall()


def usage(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Usage:
    """Views of the scope's content in the period (on any terminal), per owning jurisdiction, domain and month."""
    out = Usage(Counter(), Counter(), Counter(), Counter())
    where, codes = f"code IN ({_in(scope.codes)})", list(scope.codes)
    for r in _views(conn, period, "usage_month", "code", where, codes):
        out.by_jurisdiction[r["code"]] += r["views"]
        out.by_group[scope.group(r["code"])] += r["views"]
    for r in _views(conn, period, "usage_month", "domain", where, codes):
        out.by_domain[r["domain"]] += r["views"]
    for r in _views(conn, period, "usage_month", "month", where, codes):
        out.monthly[r["month"]] += r["views"]
    return out


@dataclass
class TerminalRow:
    """One terminal (or this instance's own screens) and the views it served in the period."""

    id: str
    name: str
    code: str                     # where it stands (its enrolled jurisdiction)
    place: str
    active: bool = True
    views: int = 0
    days: int = 0                 # days with at least one view
    last_day: date | None = None
    monthly: Counter = field(default_factory=Counter)
    by_domain: Counter = field(default_factory=Counter)

    @property
    def top_domain(self) -> str | None:
        return self.by_domain.most_common(1)[0][0] if self.by_domain else None


@dataclass
class TerminalUsage:
    terminals: list[TerminalRow]  # most used first
    by_domain: Counter            # views on the scope's terminals, by domain of what was viewed
    monthly: Counter

    @property
    def total(self) -> int:
        return sum(t.views for t in self.terminals)


def local_name(conn: sqlite3.Connection) -> str:
    role = get_meta(conn, "role")
    return "本机（县级平台）" if role == "hub" else "本机"


def terminals_in(conn: sqlite3.Connection, scope: Scope) -> list[TerminalRow]:
    """The terminals standing in the scope, from the fleet registry; this instance's own
    screens (views counted as usage.LOCAL) stand at the instance's jurisdiction."""
    out = []
    for t in conn.execute(f"""
            SELECT id, label, scope, active FROM sync_terminal WHERE scope IN ({_in(scope.codes)})
            ORDER BY scope, enrolled_at, id""", scope.codes):
        out.append(TerminalRow(id=t["id"], name=t["label"] or f"终端 {t['id'][:8]}", code=t["scope"],
                               place=scope.names[t["scope"]], active=bool(t["active"])))
    root = conn.execute("SELECT code FROM jurisdiction WHERE parent_code IS NULL ORDER BY code LIMIT 1").fetchone()
    own = get_meta(conn, "scope") or (root[0] if root else None)
    if own in scope.names:
        out.append(TerminalRow(id=LOCAL, name=local_name(conn), code=own, place=scope.names[own]))
    return out


def terminal_usage(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> TerminalUsage:
    """Views served by each terminal standing in the scope, per month and domain of what was viewed.

    Counts are the daily totals terminals send upstream (content.usage): whatever the
    terminal showed — county, township or village content — counts for that terminal.
    """
    rows = {t.id: t for t in terminals_in(conn, scope)}
    out = TerminalUsage([], Counter(), Counter())
    if rows:
        ids = list(rows)
        span = (period.start.isoformat(), period.end.isoformat())
        where = f"terminal IN ({_in(ids)})"
        for r in _views(conn, period, "usage_terminal_month", "terminal, month", where, ids):
            if r["views"]:
                t = rows[r["terminal"]]
                t.views += r["views"]
                t.monthly[r["month"]] += r["views"]
                out.monthly[r["month"]] += r["views"]
        for r in _views(conn, period, "usage_terminal_month", "terminal, domain", where, ids):
            if r["views"]:
                rows[r["terminal"]].by_domain[r["domain"]] += r["views"]
                out.by_domain[r["domain"]] += r["views"]
        for r in conn.execute(f"""
                SELECT terminal, count(*) AS days, max(day) AS last FROM usage_terminal_day
                WHERE day BETWEEN ? AND ? AND views > 0 AND terminal IN ({_in(ids)})
                GROUP BY terminal""", [*span, *ids]):
            rows[r["terminal"]].days = r["days"]
            rows[r["terminal"]].last_day = _d(r["last"])
    # Every enrolled terminal is listed (an unused one is worth seeing); this instance's
    # own screens only when they served something, and stopped terminals only if used.
    out.terminals = sorted((t for t in rows.values() if t.views or (t.id != LOCAL and t.active)),
                           key=lambda t: (-t.views, t.code, t.name))
    return out

