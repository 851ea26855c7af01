"""Usage figures of the assessment: views per owning jurisdiction, domain, month and terminal."""
from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import contextmanager
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


def _months(period: Period) -> tuple[list[str], list[tuple[int, str, str]]]:
    """The period as whole months (read from the monthly roll-up) and signed day ranges (read
    from the daily one): a part-month longer than half its month is the whole month less the
    days outside the period, so at most half a month of days is ever read per end."""
    whole, ranges = [], []
    for month in period.months():
        first = date.fromisoformat(month + "-01")
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        lo, hi = max(first, period.start), min(last, period.end)
        if lo == first and hi == last:
            whole.append(month)
        elif (hi - lo).days + 1 <= ((last - first).days + 1) // 2:
            ranges.append((1, lo.isoformat(), hi.isoformat()))
        else:
            whole.append(month)
            if lo > first:
                ranges.append((-1, first.isoformat(), (lo - timedelta(days=1)).isoformat()))
            if hi < last:
                ranges.append((-1, (hi + timedelta(days=1)).isoformat(), last.isoformat()))
    return whole, ranges


# The roll-ups rebuilt from the attributed counts (temp.usage_attributed), in order.
_REBUILD = (
    ("usage_day", "INSERT INTO usage_day(code, day, domain, views) "
                  "SELECT code, day, domain, sum(views) FROM temp.usage_attributed GROUP BY 1, 2, 3"),
    ("usage_month", "INSERT INTO usage_month(code, month, domain, views) "
                    "SELECT code, substr(day, 1, 7), domain, sum(views) FROM usage_day GROUP BY 1, 2, 3"),
    ("usage_terminal_domain_day", "INSERT INTO usage_terminal_domain_day(terminal, day, domain, views) "
                                  "SELECT terminal, day, domain, sum(views) FROM temp.usage_attributed "
                                  "GROUP BY 1, 2, 3"),
    ("usage_terminal_month", "INSERT INTO usage_terminal_month(terminal, month, domain, views) "
                             "SELECT terminal, substr(day, 1, 7), domain, sum(views) "
                             "FROM usage_terminal_domain_day GROUP BY 1, 2, 3"),
    ("usage_terminal_day", "INSERT INTO usage_terminal_day(terminal, day, views) "
                           "SELECT terminal, day, sum(views) FROM usage_view GROUP BY terminal, day"),
)


def rollup_ready(conn: sqlite3.Connection) -> bool:
    """Rebuild the roll-ups if a change of owner or domain marked them; False if they
    cannot be rebuilt now (a read-only connection): read the daily rows instead."""
    row = conn.execute("SELECT value FROM assessment_state WHERE name = 'usage_rollup_dirty'").fetchone()
    if row is None or not row[0]:
        return True
    try:
        conn.execute("SAVEPOINT usage_rollup")
        try:
            # Every count attributed once (the view's joins are most of the cost), each daily
            # roll-up summed from that, each monthly one from its daily twin.
            conn.execute("DROP TABLE IF EXISTS temp.usage_attributed")
            conn.execute("CREATE TEMP TABLE usage_attributed AS "
                         "SELECT day, terminal, code, domain, views FROM usage_attribution")
            for table, sql in _REBUILD:
                conn.execute(f"DELETE FROM {table}")
                conn.execute(sql)
            conn.execute("DROP TABLE temp.usage_attributed")
            conn.execute("UPDATE assessment_state SET value = 0 WHERE name = 'usage_rollup_dirty'")
            conn.execute("RELEASE usage_rollup")
        except BaseException:
            conn.execute("ROLLBACK TO usage_rollup")
            conn.execute("RELEASE usage_rollup")
            raise
    except sqlite3.OperationalError:
        return False
    return True


@contextmanager
def rollup_paused(conn: sqlite3.Connection):
    """Inside a transaction, for bulk loads of counts: the per-row roll-up triggers stand
    still and the roll-ups are rebuilt set-based at the end (the pause is never committed)."""
    if not conn.in_transaction:
        raise RuntimeError("rollup_paused needs a transaction")
    conn.execute("UPDATE assessment_state SET value = 1 WHERE name IN ('usage_rollup_paused', 'usage_rollup_dirty')")
    try:
        yield
    finally:
        conn.execute("UPDATE assessment_state SET value = 0 WHERE name = 'usage_rollup_paused'")
    rollup_ready(conn)


# Each monthly roll-up and the daily roll-up beside it (migration 0031) that answers the
# part-months of a period.
_DAILY = {"usage_month": "usage_day", "usage_terminal_month": "usage_terminal_domain_day"}


def _views(conn: sqlite3.Connection, period: Period, rollup: str, groupings: list[str], where: str,
           params: list) -> dict[str, list]:
    """Views in the period filtered by ``where`` and summed in SQL by each grouping (columns of
    month, terminal, code, domain): whole months from the ``rollup`` table, days from its daily
    roll-up (or, while the roll-ups cannot be rebuilt, the raw rows attributed on the fly).

    Per grouping, each source is summed on its own, reading its table in key order with
    nothing to sort; only those sums are added up (and sorted) across sources.
    """
    whole, ranges = _months(period)
    daily = _DAILY[rollup]
    if not rollup_ready(conn):
        whole, ranges = [], [(1, period.start.isoformat(), period.end.isoformat())]
        daily = "usage_attribution"
    out: dict[str, list] = {}
    for g in groupings:
        # Each source summed in its own key order (no sort), the few sums added up in SQL.
        parts, args = [], []
        if whole:
            parts.append(f"SELECT {g}, sum(views) AS views FROM {rollup} WHERE month IN ({_in(whole)}) "
                         f"AND {where} GROUP BY {g}")
            args += [*whole, *params]
        for sign, lo, hi in ranges:
            parts.append(f"SELECT {g}, {sign} * sum(views) AS views FROM (SELECT *, substr(day, 1, 7) AS month "
                         f"FROM {daily} WHERE day BETWEEN ? AND ? AND {where}) GROUP BY {g}")
            args += [lo, hi, *params]
        if not parts:
            out[g] = []
            continue
        sql = parts[0] if len(parts) == 1 else (
            f"SELECT {g}, sum(views) FROM ({' UNION ALL '.join(parts)}) GROUP BY {g}")
        cursor = conn.cursor()
        cursor.row_factory = None
        out[g] = [r for r in cursor.execute(sql, args) if r[-1]]
    return out


def usage(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Usage:
    """Views of the scope's content in the period (on any terminal), per owning jurisdiction, domain and month."""
    out = Usage(Counter(), Counter(), Counter(), Counter())
    got = _views(conn, period, "usage_month", ["code", "domain", "month"],
                 f"code IN ({_in(scope.codes)})", list(scope.codes))
    for code, views in got["code"]:
        out.by_jurisdiction[code] += views
        out.by_group[scope.group(code)] += views
    for domain, views in got["domain"]:
        out.by_domain[domain] += views
    for month, views in got["month"]:
        out.monthly[month] += views
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
        got = _views(conn, period, "usage_terminal_month", ["terminal, month", "terminal, domain"],
                     f"terminal IN ({_in(ids)})", ids)
        for terminal, month, views in got["terminal, month"]:
            if views:
                t = rows[terminal]
                t.views += views
                t.monthly[month] += views
                out.monthly[month] += views
        for terminal, domain, views in got["terminal, domain"]:
            if views:
                rows[terminal].by_domain[domain] += views
                out.by_domain[domain] += views
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

