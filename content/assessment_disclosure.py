"""Disclosure figures of the assessment: coverage, timeliness, review-by dates, periodic disclosures."""
from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from datetime import date, timedelta

from . import disclosure_calendar
from .alignment import DEFAULT_TIME_LIMIT
from .assessment_scope import (LEVEL_ORDER, PUB_DAY, RECENT_DAYS, VILLAGE_DOMAIN, Period, Scope, _d, _in,
                               as_of, share)
from .timelimits import deadline, parse_time_limit, provisional_years, workdays_between


# ---------------------------------------------------------------- coverage

@dataclass
class CoverageRow:
    level: str
    domain: str
    total: int = 0
    covered: int = 0

    @property
    def rate(self) -> float | None:
        return share(self.covered, self.total)


@dataclass
class Coverage:
    as_of: date
    rows: list[CoverageRow]                 # per level and domain
    uncovered: list[dict]                   # items with no current published content
    on_request: int                         # 依申请公开 items left out
    by_group: dict[str, list[int]]          # child code → [total, covered]

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rows)

    @property
    def covered(self) -> int:
        return sum(r.covered for r in self.rows)

    @property
    def rate(self) -> float | None:
        return share(self.covered, self.total)

    def by_level(self) -> list[CoverageRow]:
        out: dict[str, CoverageRow] = {}
        for r in self.rows:
            row = out.setdefault(r.level, CoverageRow(r.level, ""))
            row.total += r.total
            row.covered += r.covered
        return [out[lv] for lv in LEVEL_ORDER if lv in out]

    def by_domain(self) -> list[CoverageRow]:
        out: dict[str, CoverageRow] = {}
        for r in self.rows:
            row = out.setdefault(r.domain, CoverageRow("", r.domain))
            row.total += r.total
            row.covered += r.covered
        return list(out.values())


def _notice_state(fk: str) -> str:
    """Per item (by the notice column fk): newest publication day and whether any notice is current.

    One grouped pass over the notices, joined to the items: a correlated
    subquery per item would scan the notices once per item (minutes at county scale).
    """
    day = PUB_DAY.format(col="n.published_at")
    return f"""
        SELECT ref, max(day) AS last_published, max(current) AS current FROM (
            SELECT n.{fk} AS ref, {day} AS day,
                   ({day} >= :since OR n.expires_on >= :asof OR n.period_end >= :asof) AS current
            FROM notice n
            WHERE n.{fk} IS NOT NULL AND n.status = 'published' AND {day} <= :asof)
        GROUP BY ref"""


def coverage(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Coverage:
    """Items with current published content against all items, per level and domain."""
    day = as_of(period, today)
    params = {"asof": day.isoformat(), "since": (day - timedelta(days=RECENT_DAYS)).isoformat()}
    marks = ",".join(f":c{i}" for i in range(len(scope.codes)))
    params.update({f"c{i}": c for i, c in enumerate(scope.codes)})
    items = conn.execute(f"""
        SELECT 'item' AS kind, x.id, x.jurisdiction_code AS code, x.mode,
               trim(x.level1 || CASE WHEN x.level2 <> '' THEN ' · ' || x.level2 ELSE '' END) AS title,
               d.name AS domain, d.sort AS dsort,
               coalesce(s.current, 0) OR g.item_id IS NOT NULL AS covered,
               s.last_published
        FROM catalogue_item x JOIN domain d ON d.id = x.domain_id
        LEFT JOIN ({_notice_state('item_id')}) s ON s.ref = x.id
        LEFT JOIN (SELECT DISTINCT item_id FROM guide WHERE status = 'published') g ON g.item_id = x.id
        WHERE x.status = 'published' AND x.jurisdiction_code IN ({marks})
        UNION ALL
        SELECT 'village_item', x.id, x.jurisdiction_code, '主动', x.title,
               x.category, 1000 + x.seq, coalesce(s.current, 0), s.last_published
        FROM village_item x
        LEFT JOIN ({_notice_state('village_item_id')}) s ON s.ref = x.id
        WHERE x.status = 'published' AND x.jurisdiction_code IN ({marks})
        ORDER BY dsort, code, id""", params).fetchall()
    rows: dict[tuple[str, str], CoverageRow] = {}
    uncovered: list[dict] = []
    by_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    on_request = 0
    for it in items:
        if it["mode"] != "主动":
            on_request += 1
            continue
        level = scope.levels[it["code"]]
        domain = it["domain"] if it["kind"] == "item" else VILLAGE_DOMAIN.format(it["domain"])
        row = rows.setdefault((level, domain), CoverageRow(level, domain))
        row.total += 1
        g = by_group[scope.group(it["code"])]
        g[0] += 1
        if it["covered"]:
            row.covered += 1
            g[1] += 1
        else:
            uncovered.append({"kind": it["kind"], "id": it["id"], "title": it["title"],
                              "code": it["code"], "jurisdiction": scope.names[it["code"]],
                              "level": level, "domain": domain,
                              "last_published": _d(it["last_published"])})
    ordered = sorted(rows.values(), key=lambda r: LEVEL_ORDER.index(r.level))
    return Coverage(day, ordered, uncovered, on_request, dict(by_group))


# ---------------------------------------------------------------- timeliness

ON_TIME, LATE, OVERDUE, PENDING = "按时", "超期公开", "逾期未公开", "未到期"


@dataclass(slots=True)
class TimelinessRecord:
    notice_id: int
    title: str
    code: str
    jurisdiction: str
    level: str
    domain: str
    formed_on: date
    published_on: date | None
    deadline: date
    limit_text: str
    limit_source: str
    status: str
    workdays_late: int = 0
    provisional: bool = False        # counted Monday to Friday: a year without holiday calendar
    in_workdays: bool = False        # the limit counts working days


@dataclass
class Timeliness:
    as_of: date
    records: list[TimelinessRecord]

    def count(self, status: str, records=None) -> int:
        if records is None:
            return self._statuses[status]
        return sum(1 for r in records if r.status == status)

    def rate(self, records=None) -> float | None:
        """On-time share of the records past their deadline (all records if None)."""
        counts = self._statuses if records is None else Counter(r.status for r in records)
        return share(counts[ON_TIME], sum(counts.values()) - counts[PENDING])

    @cached_property
    def _statuses(self) -> Counter:
        return Counter(r.status for r in self.records)

    @property
    def late(self) -> list[TimelinessRecord]:
        return [r for r in self.records if r.status == LATE]

    @property
    def overdue(self) -> list[TimelinessRecord]:
        return [r for r in self.records if r.status == OVERDUE]

    def grouped(self, key) -> dict[str, list[TimelinessRecord]]:
        out: dict[str, list[TimelinessRecord]] = defaultdict(list)
        for r in self.records:
            out[key(r)].append(r)
        return out


def _limit(raw_json: str | None, text: str | None) -> dict | None:
    """The parsed limit if it yields a deadline (a publicity period alone does not)."""
    limit = None
    if raw_json:
        try:
            limit = json.loads(raw_json)
        except ValueError:
            limit = None
    if limit is None and text:
        limit = parse_time_limit(text)
    if limit and deadline(date(2000, 1, 3), limit) is not None:
        return limit
    return None


def _limit_source(i_limit, i_text, v_limit, v_text, m_limit, m_text) -> tuple:
    """(source, limit, text) of a notice's 公开时限: its catalogue item's, else its village
    list item's, else its matter's, else the regulation's default."""
    for source, raw, text in (("目录", i_limit, i_text), ("村务清单", v_limit, v_text),
                              ("对照事项", m_limit, m_text)):
        limit = _limit(raw, text)
        if limit:
            return source, limit, text
    return "条例第二十六条", DEFAULT_TIME_LIMIT, "20个工作日（默认）"


class _Judge:
    """A notice's standing on ``day`` from its formation, publication and deadline: (published
    by then or None, status, working days late, provisional). Counts of working days are
    worked out once per pair of dates (a county has many notices and few dates)."""

    def __init__(self, day: date):
        self.day = day
        self.between: dict[tuple, int] = {}
        self.provisional: dict[tuple, bool] = {}

    def _workdays(self, a: date, b: date) -> int:
        late = self.between.get((a, b))
        if late is None:
            late = self.between[(a, b)] = workdays_between(a, b)
        return late

    def __call__(self, formed: date, published: date | None, due: date, in_workdays: bool) -> tuple:
        day = self.day
        if published is not None and published > day:
            published = None                     # not out yet as of the date
        if published is not None:
            status, late = (ON_TIME, 0) if published <= due else (LATE, self._workdays(due, published))
        elif day > due:
            status, late = OVERDUE, self._workdays(due, day)
        else:
            status, late = PENDING, 0
        # Only a count of working days depends on the holiday calendar (not 每季度首月10日).
        provisional = False
        if in_workdays:
            span = (formed, max(due, published or due))
            provisional = self.provisional.get(span)
            if provisional is None:
                provisional = self.provisional[span] = bool(provisional_years(*span))
        return published, status, late, provisional


def timeliness(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Timeliness:
    """Notices formed in the period against their 公开时限, from the formation date."""
    day = as_of(period, today)
    domains = dict(conn.execute("SELECT id, name FROM domain").fetchall())
    cursor = conn.cursor()
    cursor.row_factory = None           # plain tuples: tens of thousands of rows are unpacked here
    rows = cursor.execute(f"""
        SELECT n.id, n.title, n.jurisdiction_code, n.formed_on,
               CASE WHEN n.status IN ('published', 'withdrawn') AND n.published_at IS NOT NULL
                    THEN {PUB_DAY.format(col='n.published_at')} END,
               i.time_limit, i.time_limit_text, v.time_limit, v.time_limit_text,
               m.time_limit, m.time_limit_text, n.domain_id, i.domain_id, m.domain_id, v.category
        FROM notice n
        LEFT JOIN catalogue_item i ON i.id = n.item_id
        LEFT JOIN village_item v ON v.id = n.village_item_id
        LEFT JOIN matter m ON m.id = n.matter_id
        WHERE n.formed_on BETWEEN ? AND ? AND n.formed_on <= ?
          AND n.status IN ('published', 'withdrawn', 'draft', 'submitted')
          AND NOT (n.status = 'withdrawn' AND n.published_at IS NULL)
          AND n.jurisdiction_code IN ({_in(scope.codes)})
        ORDER BY n.formed_on, n.id""",
        [period.start.isoformat(), period.end.isoformat(), day.isoformat(), *scope.codes]).fetchall()
    records = []
    # A county has tens of thousands of notices but few distinct limits, domains and dates:
    # each limit parsed, each domain named, each deadline and count of working days worked
    # out once per call.
    sources: dict[tuple, tuple] = {}
    named: dict[tuple, str] = {}
    deadlines: dict[tuple, date | None] = {}
    judge = _Judge(day)
    days: dict[str | None, date | None] = {None: None}
    names, levels = scope.names, scope.levels

    def day_of(text):
        if text not in days:
            days[text] = _d(text)
        return days[text]

    for (nid, title, code, formed_text, pub_text, i_limit, i_text, v_limit, v_text, m_limit, m_text,
         n_domain, i_domain, m_domain, category) in rows:
        formed = day_of(formed_text)
        if formed is None:
            continue
        limits = (i_limit, i_text, v_limit, v_text, m_limit, m_text)
        found = sources.get(limits)
        if found is None:
            found = sources[limits] = _limit_source(*limits)
        source, limit, text = found
        due = deadlines.get((formed, limits))
        if due is None:
            due = deadlines[(formed, limits)] = deadline(formed, limit)
        in_workdays = limit.get("unit") == "workday"
        published, status, late, is_provisional = judge(formed, day_of(pub_text), due, in_workdays)
        kinds = (n_domain, i_domain, m_domain, category)
        domain = named.get(kinds)
        if domain is None:
            domain = next((domains[k] for k in kinds[:3] if domains.get(k) is not None),
                          VILLAGE_DOMAIN.format(category) if category is not None else "其他")
            named[kinds] = domain
        records.append(TimelinessRecord(
            nid, title, code, names[code], levels[code], domain, formed, published, due, text or "",
            source, status, late, is_provisional, in_workdays))
    return Timeliness(day, records)


def timeliness_as_of(later: Timeliness, day: date) -> Timeliness:
    """The records as ``timeliness`` computes them on an earlier ``day``, out of a computation
    as of a later one: the notices formed by then, each judged on what was published by then
    (deadlines and limits do not depend on the day)."""
    judge = _Judge(day)
    records = []
    for r in later.records:
        if r.formed_on > day:
            break                              # records are in order of formation
        if r.published_on is not None and r.published_on <= day:
            records.append(r)                  # out by then: judged the same on either day
            continue
        published, status, late, is_provisional = judge(r.formed_on, r.published_on, r.deadline, r.in_workdays)
        records.append(TimelinessRecord(
            r.notice_id, r.title, r.code, r.jurisdiction, r.level, r.domain, r.formed_on, published, r.deadline,
            r.limit_text, r.limit_source, status, late, is_provisional, r.in_workdays))
    return Timeliness(day, records)


# ---------------------------------------------------------------- review-by dates

def review_overdue(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> list[dict]:
    """Published items whose review-by date (定期评估) has passed, oldest first."""
    day = as_of(period, today)
    rows = conn.execute(f"""
        SELECT 'item' AS kind, x.id, x.jurisdiction_code AS code, x.review_by,
               trim(x.level1 || CASE WHEN x.level2 <> '' THEN ' · ' || x.level2 ELSE '' END) AS title,
               d.name AS domain
        FROM catalogue_item x JOIN domain d ON d.id = x.domain_id
        WHERE x.status = 'published' AND x.review_by < ? AND x.jurisdiction_code IN ({_in(scope.codes)})
        UNION ALL
        SELECT 'village_item', x.id, x.jurisdiction_code, x.review_by, x.title, '村务·' || x.category
        FROM village_item x
        WHERE x.status = 'published' AND x.review_by < ? AND x.jurisdiction_code IN ({_in(scope.codes)})
        ORDER BY review_by, code, id""",
        [day.isoformat(), *scope.codes, day.isoformat(), *scope.codes]).fetchall()
    return [{"kind": r["kind"], "id": r["id"], "title": r["title"], "domain": r["domain"],
             "code": r["code"], "jurisdiction": scope.names[r["code"]],
             "review_by": _d(r["review_by"]), "days_past": (day - _d(r["review_by"])).days}
            for r in rows if _d(r["review_by"])]


def timeliness_within(since: Timeliness, period: Period) -> Timeliness:
    """The records of notices formed in the period, out of a computation that started earlier
    and ends on the same day (each record's status depends only on that day)."""
    return Timeliness(since.as_of, [r for r in since.records if r.formed_on >= period.start])


def item_calendars(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> list[dict]:
    """The periodic items of the scope with their periods as of the period's last day."""
    return disclosure_calendar.item_calendars(conn, list(scope.codes), as_of(period, today))


def periodic_disclosures(conn: sqlite3.Connection, scope: Scope, period: Period, today: date,
                         calendars: list[dict] | None = None) -> list[dict]:
    """The periods of periodic items (每月/每季度/每年) whose deadline falls in the period:
    published on time, late, or not at all (应公开未公开, which a count of notices cannot see)."""
    day = as_of(period, today)
    out = []
    if calendars is None:
        calendars = item_calendars(conn, scope, period, today)
    for cal in calendars:
        for p in cal["periods"]:
            if period.start <= p.deadline <= day:
                out.append({**cal, "period": p, "level": scope.levels.get(cal["jurisdiction_code"], ""),
                            "jurisdiction": scope.names.get(cal["jurisdiction_code"], "")})
    return out

