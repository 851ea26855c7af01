"""Assessment of disclosure work (公开工作评估): the report of the staff dashboard.

Every figure is a function of (conn, scope, period, today): plain SQL and
Python, no web framework, so the dashboard, its Excel export and the tests
all read the same numbers.  ``scope`` is a jurisdiction and everything below
it; ``period`` an inclusive date range; figures that describe a state rather
than a flow (coverage, consistency, review dates) are taken "as of" the
period's end, or today if that is earlier.

Definitions (shown on the dashboard too):

* Coverage — a published, proactively disclosed (主动) catalogue item, or a
  published village-list item, *has current published content* when, as of
  the date, a published guide is linked to it, or a notice linked to it was
  published on or before the date and either is still in force (its publicity
  period or validity has not ended) or was published within the last
  ``RECENT_DAYS`` days.  依申请公开 items are disclosed on request and are
  left out of the denominator.
* Timeliness — every notice whose information was formed (``formed_on``) in
  the period is measured against the 公开时限 of its catalogue item, else its
  village-list item, else its matter, else the regulation's 20 working days
  (art. 26), from the formation date, on the official calendar with its
  swapped working days.  The publication day is the Beijing date of
  ``published_at``.  On time: published by the deadline; late: published
  after it; overdue: not published and the deadline has passed; pending:
  not published, deadline still ahead (not counted in the rate).
* Consistency — each matter × village in scope, aligned as the residents'
  aligned view does (content.matters / content.alignment).
* Applications — the annual-report table (政府信息公开工作年度报告): new,
  carried over, results by outcome and reason, carried forward, by applicant
  type; answered on time means replied on or before the legal due date.
* Satisfaction — ratings given in the period on pages of the scope, by
  domain; 满意率 = (满意 + 基本满意) / all ratings.
* Usage — anonymous daily view counts (content.usage).  Per jurisdiction
  owning the content and per domain: views of the scope's content on any
  terminal.  Per terminal: the views each terminal standing in the scope
  served (whatever it showed), from the daily totals terminals send upstream,
  with the terminal's name and place from the fleet registry (sync_terminal);
  this instance's own screens count as "本机".

Layout: assessment_scope (scope, period), one module per family of figures
(assessment_disclosure, assessment_consistency, assessment_requests, assessment_usage),
assessment_tables (page and export tables), assessment_export (Excel); this module
registers the figures and assembles the report.

A report computes a figure only when a table, chart or export asks for it, and keeps
each figure (in this process) until one of the tables it reads is written: every
write bumps that table's counter in ``data_version`` (migration 0027), so a cached
figure is never stale and never recomputed while nothing it reads changed.

Adding a figure: ``register("name", compute, reads=(tables...))`` — ``compute(conn,
scope, period, today)`` — makes ``report.name`` available; ``assessment_tables.
register_table(key, builder)`` adds its table to the page and the exports.  A figure
whose ``reads`` is None (or names a table without a counter) is computed every time.
``span`` says what of the period it depends on, which is what it is kept under:
``whole_period`` (counts of what happened in it, the default), ``snapshot`` (how things
stood on its last day: shared by every period ending that day) or ``from_year_start``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from . import village_templates
from .alignment import LEVEL_NAMES, LEVELS  # noqa: F401  (re-exported for the admin page)
from .applications import OUTCOMES  # noqa: F401
from .assessment_consistency import ALIGN_STATUSES, Consistency, consistency  # noqa: F401
from .assessment_disclosure import (LATE, ON_TIME, OVERDUE, PENDING, Coverage, CoverageRow,  # noqa: F401
                                    Timeliness, TimelinessRecord, coverage, item_calendars,
                                    periodic_disclosures, review_overdue, timeliness, timeliness_as_of,
                                    timeliness_within)
from .assessment_export import workbook  # noqa: F401
from .assessment_requests import (APPLICANT_COLUMNS, Applications, Satisfaction, applications,  # noqa: F401
                                  satisfaction)
from .assessment_scope import (LEVEL_ORDER, PUB_DAY, RECENT_DAYS, VILLAGE_DOMAIN, Period, Scope,  # noqa: F401
                               as_of, scope_of, share)
from .assessment_tables import (TABLE_KEYS, TERMINAL_DOMAINS, Table, fmt, register_table,  # noqa: F401
                                table_keys, tables)
from .assessment_usage import (TerminalRow, TerminalUsage, Usage, content_gaps, local_name,  # noqa: F401
                               terminal_usage, terminals_in, usage)
from .feedback import RATINGS  # noqa: F401
from .timelimits import provisional_years

# ---------------------------------------------------------------- the figures

Compute = Callable[[sqlite3.Connection, Scope, Period, date], Any]


Span = Callable[[Period, date], Any]


def whole_period(period: Period, today: date) -> tuple:
    """A figure of the period (counts of what happened in it)."""
    return (period, today)


def snapshot(period: Period, today: date) -> date:
    """A figure of how things stood on the period's last day: every period ending that day
    shares it, whatever its start."""
    return as_of(period, today)


def from_year_start(period: Period, today: date) -> tuple:
    """Computed from 1 January of the period's first year to its last day: every period that
    starts in that year and ends that day takes its part of it."""
    return (period.start.year, as_of(period, today))


@dataclass(frozen=True)
class Figure:
    name: str
    compute: Compute
    reads: tuple[str, ...] | None       # tables it reads (their data_version counters); None: not cached
    span: Span = whole_period           # what of the period and day the value depends on (its cache key)


FIGURES: dict[str, Figure] = {}


def register(name: str, compute: Compute, reads: tuple[str, ...] | None = None,
             span: Span = whole_period) -> None:
    """Make ``report.<name>`` a figure computed by ``compute`` on first use."""
    FIGURES[name] = Figure(name, compute, tuple(reads) if reads is not None else None, span)


def _year_start(period: Period) -> Period:
    return Period(date(period.start.year, 1, 1), period.end)


CONTENT = ("notice", "catalogue_item", "village_item", "guide", "domain", "jurisdiction")
register("coverage", coverage, reads=CONTENT, span=snapshot)
# Timeliness is computed from 1 January (kept), and each period takes the notices formed in it.
register("timeliness_since", lambda conn, scope, period, today: timeliness(conn, scope, _year_start(period), today),
         reads=(*CONTENT, "matter", "holiday_day"), span=from_year_start)


def _timeliness(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Timeliness:
    """The period's timeliness: out of the kept computation from 1 January, or, for a period
    ending before today, out of the kept one of its year to today when there is one."""
    day = as_of(period, today)
    if day < today:
        later = kept(conn, "timeliness_since", scope, Period(period.start, today), today)
        if later is not None:
            return timeliness_within(timeliness_as_of(later, day), period)
    return timeliness_within(figure(conn, "timeliness_since", scope, period, today), period)


register("timeliness", _timeliness)
register("consistency", consistency, reads=(*CONTENT, "matter"), span=snapshot)
register("review", review_overdue, reads=CONTENT, span=snapshot)
register("applications", applications, reads=("application", "jurisdiction", "holiday_day"))
register("satisfaction", satisfaction, reads=(*CONTENT, "feedback"))
register("gaps", lambda conn, scope, period, today:
         content_gaps(conn, period) if scope.level == "county" else None,   # counts carry no place
         reads=("usage_search_miss", "jurisdiction"))
register("usage", usage, reads=(*CONTENT, "handbook", "usage_view"))
register("terminals", terminal_usage, reads=(*CONTENT, "handbook", "usage_view", "sync_terminal", "meta"))
register("calendars", item_calendars, reads=(*CONTENT, "holiday_day"), span=snapshot)
register("periodic", lambda conn, scope, period, today: periodic_disclosures(
    conn, scope, period, today, figure(conn, "calendars", scope, period, today)))
register("templates", lambda conn, scope, period, today: village_templates.adoption(conn, scope.villages))


# ---------------------------------------------------------------- the cache

CACHE_ENTRIES = 48
CACHE_WEIGHT = 120_000     # rows kept in all (a county's default report holds about 90,000)
_cache: OrderedDict[tuple, tuple[tuple, Any, int]] = OrderedDict()
_lock = threading.Lock()


def _weight(value: Any) -> int:
    """Roughly how many rows a figure holds: what its memory grows with."""
    for attr in ("records", "uncovered", "rows", "terminals"):
        rows = getattr(value, attr, None)
        if isinstance(rows, list):
            return 1 + len(rows)
    return 1 + len(value) if isinstance(value, (list, dict)) else 1


def _versions(conn: sqlite3.Connection, reads: tuple[str, ...]) -> tuple | None:
    """The counters of the tables, or None if one has none (then the figure is not cached)."""
    try:
        found = dict(conn.execute(f"SELECT name, n FROM data_version WHERE name IN ({','.join('?' * len(reads))})",
                                  reads).fetchall())
    except sqlite3.OperationalError:
        return None
    if len(found) < len(set(reads)):
        return None
    return tuple(found[t] for t in reads)


def _database(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return row[2] if row else ""


def _cache_key(path: str, fig: Figure, scope: Scope, period: Period, today: date) -> tuple:
    return (path, fig.name, scope.code, scope.codes, fig.span(period, today))


_MISS = object()


def _lookup(conn: sqlite3.Connection, fig: Figure, scope: Scope, period: Period, today: date):
    """(cache key, data versions, kept value or _MISS); key and versions are None when the
    figure is never kept (no counters, or an in-memory database: never shared)."""
    path = _database(conn) if fig.reads else ""
    versions = _versions(conn, fig.reads) if path else None
    if versions is None:
        return None, None, _MISS
    key = _cache_key(path, fig, scope, period, today)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == versions:
            _cache.move_to_end(key)
            return key, versions, hit[1]
    return key, versions, _MISS


def kept(conn: sqlite3.Connection, name: str, scope: Scope, period: Period, today: date) -> Any:
    """The figure if this process keeps it current, else None (nothing is computed)."""
    value = _lookup(conn, FIGURES[name], scope, period, today)[2]
    return None if value is _MISS else value


def figure(conn: sqlite3.Connection, name: str, scope: Scope, period: Period, today: date) -> Any:
    """One figure, from the cache while none of the tables it reads has changed."""
    fig = FIGURES[name]
    key, versions, value = _lookup(conn, fig, scope, period, today)
    if value is not _MISS:
        return value
    value = fig.compute(conn, scope, period, today)
    # Counters read again: a write while computing must not leave a figure cached as current.
    if versions is not None and _versions(conn, fig.reads) == versions:
        with _lock:
            _cache[key] = (versions, value, _weight(value))
            _cache.move_to_end(key)
            # Least recently used first out, until both bounds hold (the newest always stays).
            while len(_cache) > 1 and (len(_cache) > CACHE_ENTRIES
                                       or sum(w for *_, w in _cache.values()) > CACHE_WEIGHT):
                _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    with _lock:
        _cache.clear()


# ---------------------------------------------------------------- the report

class Report:
    """The figures of one scope and period; each computed (or taken from the cache) on first use."""

    def __init__(self, conn: sqlite3.Connection, scope: Scope, period: Period, today: date):
        self.conn, self.scope, self.period, self.today = conn, scope, period, today
        self._figures: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in FIGURES:
            raise AttributeError(name)
        if name not in self._figures:
            self._figures[name] = figure(self.conn, name, self.scope, self.period, self.today)
        return self._figures[name]

    @property
    def as_of(self) -> date:
        return as_of(self.period, self.today)

    @property
    def provisional_years(self) -> list[int]:
        """Years without a holiday calendar that deadlines on the dashboard fall in or span."""
        spans = [(r.formed_on, r.deadline) for r in self.timeliness.records if r.provisional]
        spans += self.applications.open_spans
        return sorted({y for a, b in spans for y in provisional_years(a, b)})


def build(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Report:
    """The report of a scope and period; figures are computed as tables and charts ask for them."""
    return Report(conn, scope, period, today)


def keep_current(conn: sqlite3.Connection, today: date) -> int:
    """Compute (into the cache) what changed of the county's report for the dashboard's default
    period, 1 January to today; run by the serving process's notification round, so the county's
    first dashboard after a change finds its figures ready. Returns how many were computed."""
    from .db import get_meta

    root = conn.execute("SELECT code FROM jurisdiction WHERE parent_code IS NULL ORDER BY code LIMIT 1").fetchone()
    code = get_meta(conn, "scope") or (root[0] if root else None)
    scope = scope_of(conn, code) if code else None
    if scope is None:
        return 0
    period = Period(date(today.year, 1, 1), today)
    computed = 0
    for name, fig in FIGURES.items():
        if fig.reads is None:
            continue                    # not kept: computing it now would not help the page
        if _lookup(conn, fig, scope, period, today)[2] is _MISS:
            figure(conn, name, scope, period, today)
            computed += 1
    return computed


# ---------------------------------------------------------------- figures of other modules

# Residents' objections and questions, and policy interpretation: small tables without a
# data_version counter, so computed on each report (milliseconds).
from . import assessment_answers, assessment_policy  # noqa: E402

register("answers", assessment_answers.tables)
register_table("answers", lambda report: report.answers[0])
register_table("answers_kind", lambda report: report.answers[1])
register("policy", lambda conn, scope, period, today: assessment_policy.figures(
    conn, scope.codes, period.start, as_of(period, today)))
for _n, _key in enumerate(("policy", "policy_without", "policy_late")):
    register_table(_key, lambda report, n=_n: (assessment_policy.tables(report.policy) or [None] * 3)[n])
