"""应公开未公开: which periods of a periodic item had to be disclosed by when, and were they.

A catalogue or village item whose 公开时限 (or, for village items, 公开频次) is periodic —
每月10日前, 每季度的首个月20日, 每季度, 每年1月31日前 — owes one disclosure per period. The
deadline of a period is ``timelimits.deadline`` of its first day (the information of November
is due by 10 December), moved to the next working day when it falls on a holiday (期限届满日
为节假日的顺延), on the official calendar with its 调休 days. A period is:

    done      a notice of the item for it was published by the deadline
    late      published, but after the deadline
    missing   the deadline has passed and nothing was published
    due       the deadline is still ahead (shown once it falls within the coming month)

A notice covers the period its 形成日期 (formed_on) falls in; without one, the period before
the one it was published in when it came by that period's deadline (November's accounts
published on 5 December), else the period it was published in. Items with a relative limit
(N working days from formation) have no periods: their lateness is judged per notice.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from . import timelimits

PERIODIC_RULES = ("monthly", "quarterly", "annual")
LOOKBACK_DAYS = 366                 # periods older than a year are history, not a to-do
HORIZON_DAYS = 31                   # periods due within a month are shown as coming
STATUS_NAMES = {"done": "已按时公开", "late": "逾期公开", "missing": "应公开未公开", "due": "待公开"}


@dataclass
class Period:
    label: str
    start: date
    end: date
    deadline: date
    status: str = "due"
    notice_id: int | None = None
    published_on: date | None = None


def periodic_rule(time_limit, time_limit_text: str = "", frequency: str = "") -> dict | None:
    """The item's periodic rule, or None when it is not periodic."""
    limit = json.loads(time_limit) if isinstance(time_limit, str) and time_limit else time_limit
    if not limit:
        limit = timelimits.parse_time_limit(time_limit_text)
    if limit and limit.get("rule") in PERIODIC_RULES:
        return limit
    by_frequency = timelimits.parse_time_limit(frequency) if frequency else None
    if by_frequency and by_frequency.get("rule") in PERIODIC_RULES:
        return by_frequency
    if frequency and "每年" in frequency:
        return {"rule": "annual", "month": 12, "day": 31}
    return None


def _period_of(rule: dict, d: date) -> tuple[date, date, str]:
    if rule["rule"] == "monthly":
        start = d.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return start, end, f"{d.year}年{d.month}月"
    if rule["rule"] == "quarterly":
        q = (d.month - 1) // 3
        start = date(d.year, 3 * q + 1, 1)
        end = (date(d.year + (q == 3), (3 * q + 3) % 12 + 1, 1)) - timedelta(days=1)
        return start, end, f"{d.year}年第{q + 1}季度"
    return date(d.year, 1, 1), date(d.year, 12, 31), f"{d.year}年度"


def working_deadline(d: date) -> date:
    """A deadline on a holiday moves to the next working day."""
    while not timelimits.is_workday(d):
        d += timedelta(days=1)
    return d


def period_deadline(rule: dict, start: date) -> date:
    if rule["rule"] == "annual":
        # 每年1月31日前: the year's information by that date of the next year.
        return working_deadline(timelimits._clamped(start.year + 1, int(rule.get("month", 1)),
                                                    int(rule.get("day", 31))))
    return working_deadline(timelimits.deadline(start, rule))


def periods(rule: dict, since: date, until: date) -> list[Period]:
    """Every period that starts on or after ``since``'s period and is due by ``until``."""
    out = []
    start, end, label = _period_of(rule, since)
    while True:
        due = period_deadline(rule, start)
        if due > until:
            break
        out.append(Period(label, start, end, due))
        start, end, label = _period_of(rule, end + timedelta(days=1))
    return out


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def assess(rule: dict, notices: list[sqlite3.Row], since: date, today: date,
           horizon: int = HORIZON_DAYS, found: list[Period] | None = None) -> list[Period]:
    """The item's periods from ``since`` to the ones due within ``horizon`` days, judged
    (``found``: those periods, when the caller has them already)."""
    if found is None:
        found = periods(rule, since, today + timedelta(days=horizon))
    by_start = {p.start: p for p in found}
    for n in sorted(notices, key=lambda n: (n["published_at"] or "", n["id"])):
        published = _day(n["published_at"])
        if published is None:
            continue
        formed = _day(n["formed_on"])
        if formed is not None:
            target = by_start.get(_period_of(rule, formed)[0])
        else:
            current = _period_of(rule, published)[0]
            before = _period_of(rule, current - timedelta(days=1))[0]
            prev = by_start.get(before)
            target = prev if prev is not None and prev.notice_id is None and published <= prev.deadline \
                else by_start.get(current)
        if target is None or target.notice_id is not None:
            continue
        target.notice_id, target.published_on = n["id"], published
        target.status = "done" if published <= target.deadline else "late"
    for p in found:
        if p.notice_id is None:
            p.status = "missing" if p.deadline < today else "due"
    return found


_ITEM_COLUMNS = "id, jurisdiction_code, time_limit, time_limit_text, created_at"
_SOURCES = {
    "village_item": (f"SELECT {_ITEM_COLUMNS}, frequency, title FROM village_item WHERE status = 'published' "
                     "AND jurisdiction_code IN ({})", "village_item_id"),
    "catalogue_item": (f"SELECT {_ITEM_COLUMNS}, '' AS frequency, level1 || CASE WHEN level2 != '' "
                       "THEN '·' || level2 ELSE '' END AS title FROM catalogue_item WHERE status = 'published' "
                       "AND jurisdiction_code IN ({})", "item_id"),
}


def item_calendars(conn: sqlite3.Connection, codes: list[str], today: date,
                   kinds=("village_item", "catalogue_item")) -> list[dict]:
    """Every periodic item of these jurisdictions with its judged periods."""
    out = []
    marks = ",".join("?" for _ in codes) or "NULL"
    # A county has tens of thousands of items and a handful of distinct time limits.
    parsed: dict[tuple, dict | None] = {}
    calendars: dict[tuple, list[Period]] = {}

    def rule_of(i) -> dict | None:
        key = (i["time_limit"], i["time_limit_text"], i["frequency"])
        if key not in parsed:
            parsed[key] = periodic_rule(*key)
        return dict(parsed[key]) if parsed[key] else None

    for kind in kinds:
        sql, column = _SOURCES[kind]
        items = [(i, rule) for i in conn.execute(sql.format(marks), codes) if (rule := rule_of(i))]
        if not items:
            continue
        ids = [i["id"] for i, _ in items]
        notices: dict[int, list] = {}
        for n in conn.execute(
                f"SELECT id, {column} AS item, formed_on, published_at FROM notice "
                f"WHERE {column} IN ({','.join('?' for _ in ids)}) AND published_at IS NOT NULL "
                "AND status IN ('published', 'withdrawn')", ids):
            notices.setdefault(n["item"], []).append(n)
        for i, rule in items:
            created = _day(i["created_at"]) or today
            since = max(created, today - timedelta(days=LOOKBACK_DAYS))
            # Items of one rule created before the lookback share their periods: each list
            # worked out once (deadlines count working days), then copied to be judged.
            key = (i["time_limit"], i["time_limit_text"], i["frequency"], since)
            if key not in calendars:
                calendars[key] = periods(rule, since, today + timedelta(days=HORIZON_DAYS))
            out.append({"kind": kind, "id": i["id"], "title": i["title"],
                        "jurisdiction_code": i["jurisdiction_code"], "rule": rule,
                        "time_limit_text": i["time_limit_text"] or i["frequency"],
                        "periods": assess(rule, notices.get(i["id"], []), since, today,
                                          found=[Period(p.label, p.start, p.end, p.deadline)
                                                 for p in calendars[key]])})
    return out


def due_this_month(conn: sqlite3.Connection, codes: list[str], today: date,
                   calendars: list[dict] | None = None) -> list[dict]:
    """本月应公开: per item, the periods due this month and any still missing, for a checklist
    (from ``calendars`` when the caller already has them)."""
    month_end = _period_of({"rule": "monthly"}, today)[1]
    rows = []
    for cal in item_calendars(conn, codes, today) if calendars is None else calendars:
        for p in cal["periods"]:
            if p.status == "missing" or today.replace(day=1) <= p.deadline <= month_end:
                rows.append({**cal, "period": p})
    return sorted(rows, key=lambda r: (r["period"].status != "missing", r["period"].deadline, r["title"]))


def overdue(conn: sqlite3.Connection, codes: list[str], today: date,
            calendars: list[dict] | None = None) -> list[dict]:
    """Periods whose deadline passed with nothing published, newest deadline first."""
    rows = [{**cal, "period": p}
            for cal in (item_calendars(conn, codes, today) if calendars is None else calendars)
            for p in cal["periods"] if p.status == "missing"]
    return sorted(rows, key=lambda r: (-r["period"].deadline.toordinal(), r["jurisdiction_code"], r["title"]))


def timeliness(conn: sqlite3.Connection, codes: list[str], today: date) -> dict:
    """Counts of periods already due: on time, late, missing (for the assessment)."""
    counts = {"done": 0, "late": 0, "missing": 0}
    for cal in item_calendars(conn, codes, today):
        for p in cal["periods"]:
            if p.status in counts and (p.deadline <= today or p.status != "missing"):
                counts[p.status] += 1
    total = sum(counts.values())
    counts["total"] = total
    counts["rate"] = round(100 * counts["done"] / total, 1) if total else None
    return counts
