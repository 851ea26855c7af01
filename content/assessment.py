"""Assessment of disclosure work (公开工作评估): the figures of the staff dashboard.

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
"""
from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import (assessment_answers, assessment_policy, disclosure_calendar, jurisdictions, matters, sheets,
               village_templates)
from .db import get_meta
from .usage import LOCAL
from .feedback import RATINGS
from .alignment import (CONSISTENT, DEFAULT_TIME_LIMIT, INCONSISTENT, LEVEL_NAMES, LEVELS, MISSING,
                        STALE)
from .applications import OUTCOMES  # the annual-report taxonomy (table 3): outcome → reasons
from .timelimits import PROVISIONAL, deadline, parse_time_limit, provisional_years, workdays_between

RECENT_DAYS = 365
PUB_DAY = "date({col}, '+8 hours')"   # published_at is UTC; deadlines are Beijing dates
LEVEL_ORDER = LEVELS
ALIGN_STATUSES = (CONSISTENT, INCONSISTENT, MISSING, STALE)
TERMINAL_DOMAINS = 5                 # domains given a column of their own per terminal
VILLAGE_DOMAIN = "村务·{}"          # village-list categories shown beside the 26 domains

APPLICANT_COLUMNS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")


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


@dataclass
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


@dataclass
class Timeliness:
    as_of: date
    records: list[TimelinessRecord]

    def count(self, status: str, records=None) -> int:
        return sum(1 for r in (self.records if records is None else records) if r.status == status)

    def rate(self, records=None) -> float | None:
        recs = self.records if records is None else records
        due = [r for r in recs if r.status != PENDING]
        return share(sum(1 for r in due if r.status == ON_TIME), len(due))

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


def timeliness(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Timeliness:
    """Notices formed in the period against their 公开时限, from the formation date."""
    day = as_of(period, today)
    rows = conn.execute(f"""
        SELECT n.id, n.title, n.jurisdiction_code AS code, n.formed_on, n.status,
               CASE WHEN n.status IN ('published', 'withdrawn') AND n.published_at IS NOT NULL
                    THEN {PUB_DAY.format(col='n.published_at')} END AS pub_day,
               i.time_limit AS i_limit, i.time_limit_text AS i_text,
               v.time_limit AS v_limit, v.time_limit_text AS v_text,
               m.time_limit AS m_limit, m.time_limit_text AS m_text,
               coalesce(d.name, di.name, dm.name,
                        CASE WHEN v.category IS NOT NULL THEN '村务·' || v.category END, '其他') AS domain
        FROM notice n
        LEFT JOIN catalogue_item i ON i.id = n.item_id
        LEFT JOIN village_item v ON v.id = n.village_item_id
        LEFT JOIN matter m ON m.id = n.matter_id
        LEFT JOIN domain d ON d.id = n.domain_id
        LEFT JOIN domain di ON di.id = i.domain_id
        LEFT JOIN domain dm ON dm.id = m.domain_id
        WHERE n.formed_on BETWEEN ? AND ? AND n.formed_on <= ?
          AND n.status IN ('published', 'withdrawn', 'draft', 'submitted')
          AND NOT (n.status = 'withdrawn' AND n.published_at IS NULL)
          AND n.jurisdiction_code IN ({_in(scope.codes)})
        ORDER BY n.formed_on, n.id""",
        [period.start.isoformat(), period.end.isoformat(), day.isoformat(), *scope.codes]).fetchall()
    records = []
    for r in rows:
        formed = _d(r["formed_on"])
        if formed is None:
            continue
        for source, raw, text in (("目录", r["i_limit"], r["i_text"]), ("村务清单", r["v_limit"], r["v_text"]),
                                  ("对照事项", r["m_limit"], r["m_text"])):
            limit = _limit(raw, text)
            if limit:
                break
        else:
            source, limit, text = "条例第二十六条", DEFAULT_TIME_LIMIT, "20个工作日（默认）"
        due = deadline(formed, limit)
        published = _d(r["pub_day"])
        if published is not None and published > day:
            published = None                     # not out yet as of the date
        if published is not None:
            status = ON_TIME if published <= due else LATE
            late = workdays_between(due, published) if status == LATE else 0
        elif day > due:
            status, late = OVERDUE, workdays_between(due, day)
        else:
            status, late = PENDING, 0
        records.append(TimelinessRecord(
            notice_id=r["id"], title=r["title"], code=r["code"], jurisdiction=scope.names[r["code"]],
            level=scope.levels[r["code"]], domain=r["domain"], formed_on=formed,
            published_on=published, deadline=due, limit_text=text or "", limit_source=source,
            status=status, workdays_late=late,
            # Only a count of working days depends on the holiday calendar (not 每季度首月10日).
            provisional=limit.get("unit") == "workday"
            and bool(provisional_years(formed, max(due, published or due)))))
    return Timeliness(day, records)


# ---------------------------------------------------------------- consistency

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
    villages = set(scope.villages)
    rows = []
    for m in matters.list_matters(conn):
        for village, result in matters.matter_villages(conn, m, villages, day):
            code = village["code"]
            rows.append({"matter_id": m["id"], "matter": m["title"], "domain": m["domain_name"] or "",
                         "code": code, "village": village["name"],
                         "township": scope.names.get(village["parent_code"], ""),
                         "status": result.status, "summary": result.summary(),
                         "url": f"/matters/{m['id']}/{code}"})
    return Consistency(day, rows)


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


# ---------------------------------------------------------------- applications

@dataclass
class Applications:
    as_of: date
    received: int
    closed: int
    replied: int
    replied_on_time: int
    replied_late: int
    open_overdue: list[dict]
    open_in_time: int
    report: dict[str, Counter]          # annual-report row label → applicant column → count
    report_rows: list[tuple[str, str]]  # (row key, label) in report order
    monthly_received: Counter
    monthly_replied: Counter
    by_group: dict[str, list[int]]      # child code → [received, replied on time, replied]
    open_spans: list = field(default_factory=list)   # (clock start, due) of applications still open

    @property
    def on_time_rate(self) -> float | None:
        return share(self.replied_on_time, self.replied)


def _report_rows() -> list[tuple[str, str]]:
    rows = [("new", "一、本年新收政府信息公开申请数量"), ("carried_in", "二、上年结转政府信息公开申请数量")]
    numerals = "一二三四五六七"
    for i, (outcome, reasons) in enumerate(OUTCOMES.items()):
        rows.append((outcome, f"三、（{numerals[i]}）{outcome}"))
        for j, reason in enumerate(reasons, 1):
            rows.append((f"{outcome}/{reason}", f"　　{j}. {reason}"))
    rows.append(("closed", "三、（七）总计"))
    rows.append(("carried_out", "四、结转下年度继续办理"))
    return rows


def _applicant_column(row) -> str:
    if row["applicant_type"] == "自然人":
        return "自然人"
    sub = row["applicant_subtype"] or "其他"
    return sub if sub in APPLICANT_COLUMNS else "其他"


def applications(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Applications:
    """Received, answered on time, overdue and the annual-report table for the period."""
    from .applications import OPEN_STAGES, clock_of   # the legal clock lives with the workflow

    day = as_of(period, today)
    rows = conn.execute(
        f"SELECT * FROM application WHERE jurisdiction_code IN ({_in(scope.codes)}) "
        "AND received_on <= ? ORDER BY received_on, receipt_no",
        [*scope.codes, period.end.isoformat()]).fetchall()
    report: dict[str, Counter] = defaultdict(Counter)
    received = closed = replied = on_time = late = open_in_time = 0
    open_overdue: list[dict] = []
    open_spans: list = []
    monthly_received: Counter = Counter()
    monthly_replied: Counter = Counter()
    by_group: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        clock = clock_of(r)
        col = _applicant_column(r)
        got = _d(r["received_on"])
        closed_on = clock.replied_on or (clock.archived_on if clock.outcome else None)
        group = by_group[scope.group(r["jurisdiction_code"])]
        if got in period:
            received += 1
            group[0] += 1
            report["new"][col] += 1
            monthly_received[got.strftime("%Y-%m")] += 1
        elif got < period.start and (closed_on is None or closed_on >= period.start):
            report["carried_in"][col] += 1
        if closed_on in period and clock.outcome:
            closed += 1
            report["closed"][col] += 1
            report[clock.outcome][col] += 1
            if clock.outcome_reason in OUTCOMES.get(clock.outcome, ()):
                report[f"{clock.outcome}/{clock.outcome_reason}"][col] += 1
            if clock.replied_on is not None:
                replied += 1
                group[2] += 1
                monthly_replied[clock.replied_on.strftime("%Y-%m")] += 1
                due = clock.due_on or _d(r["due_on"])
                if due is None or clock.replied_on <= due:
                    on_time += 1
                    group[1] += 1
                else:
                    late += 1
        if closed_on is None or closed_on > period.end:
            report["carried_out"][col] += 1
        if r["stage"] in OPEN_STAGES and (closed_on is None or closed_on > day):
            due = clock.due_on
            if due is not None:
                open_spans.append((clock.clock_start, due))
            if due is not None and day > due:
                open_overdue.append({"receipt_no": r["receipt_no"], "title": r["title"] or r["description"][:40],
                                     "jurisdiction": scope.names[r["jurisdiction_code"]],
                                     "received_on": got, "due_on": due, "stage": r["stage"],
                                     "workdays_overdue": workdays_between(due, day)})
            else:
                open_in_time += 1
    for counter in report.values():
        counter["总计"] = sum(v for k, v in counter.items() if k != "总计")
    return Applications(day, received, closed, replied, on_time, late, open_overdue, open_in_time,
                        dict(report), _report_rows(), monthly_received, monthly_replied, dict(by_group),
                        open_spans)


# ---------------------------------------------------------------- satisfaction

@dataclass
class Satisfaction:
    by_domain: dict[str, Counter]
    monthly: dict[str, Counter]
    by_group: dict[str, Counter]

    @staticmethod
    def rate(c: Counter) -> float | None:
        return share(c["满意"] + c["基本满意"], sum(c[k] for k in RATINGS))

    @property
    def total(self) -> Counter:
        out: Counter = Counter()
        for c in self.by_domain.values():
            out.update(c)
        return out


def _feedback_domain_column(conn: sqlite3.Connection) -> str:
    cols = {r[1] for r in conn.execute("PRAGMA table_info(feedback)")}
    return "f.domain_id, " if "domain_id" in cols else ""


def satisfaction(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Satisfaction:
    """Ratings given in the period on the scope's pages, by domain and by month."""
    rows = conn.execute(f"""
        SELECT f.rating, {PUB_DAY.format(col='f.created_at')} AS day,
               coalesce(f.jurisdiction_code, g.jurisdiction_code, i.jurisdiction_code,
                        v.jurisdiction_code, n.jurisdiction_code) AS code,
               coalesce((SELECT name FROM domain WHERE id = coalesce({_feedback_domain_column(conn)}
                             g.domain_id, i.domain_id, n.domain_id, ni.domain_id)),
                        CASE WHEN v.category IS NOT NULL THEN '村务·' || v.category END, '其他') AS domain
        FROM feedback f
        LEFT JOIN guide g ON f.target_type = 'guide' AND g.id = f.target_id
        LEFT JOIN catalogue_item i ON f.target_type = 'item' AND i.id = f.target_id
        LEFT JOIN village_item v ON f.target_type = 'village_item' AND v.id = f.target_id
        LEFT JOIN notice n ON f.target_type = 'notice' AND n.id = f.target_id
        LEFT JOIN catalogue_item ni ON ni.id = n.item_id
        WHERE {PUB_DAY.format(col='f.created_at')} BETWEEN ? AND ?""",
        (period.start.isoformat(), period.end.isoformat())).fetchall()
    by_domain: dict[str, Counter] = defaultdict(Counter)
    monthly: dict[str, Counter] = defaultdict(Counter)
    by_group: dict[str, Counter] = defaultdict(Counter)
    codes = set(scope.codes)
    for r in rows:
        if r["code"] not in codes:
            continue
        by_domain[r["domain"]][r["rating"]] += 1
        monthly[r["day"][:7]][r["rating"]] += 1
        by_group[scope.group(r["code"])][r["rating"]] += 1
    ordered = dict(sorted(by_domain.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])))
    return Satisfaction(ordered, dict(monthly), dict(by_group))


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


# The owning jurisdiction (code) and domain of each viewed thing, for the usage figures.
_USAGE_CODE = """coalesce(i.jurisdiction_code, v.jurisdiction_code, g.jurisdiction_code,
                        n.jurisdiction_code, h.jurisdiction_code)"""
_USAGE_DOMAIN = """coalesce((SELECT name FROM domain WHERE id = coalesce(i.domain_id, g.domain_id,
                             n.domain_id, ni.domain_id)),
                        CASE WHEN v.category IS NOT NULL THEN '村务·' || v.category END,
                        CASE WHEN h.id IS NOT NULL THEN '办事一本通' END, '其他')"""
_USAGE_FROM = """usage_view u
        LEFT JOIN catalogue_item i ON u.kind = 'item' AND i.id = u.ref_id
        LEFT JOIN village_item v ON u.kind = 'village_item' AND v.id = u.ref_id
        LEFT JOIN guide g ON u.kind = 'guide' AND g.id = u.ref_id
        LEFT JOIN notice n ON u.kind = 'notice' AND n.id = u.ref_id
        LEFT JOIN catalogue_item ni ON ni.id = n.item_id
        LEFT JOIN handbook h ON u.kind = 'handbook' AND h.id = u.ref_id"""


def usage(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> Usage:
    """Views of the scope's content in the period (on any terminal), per owning jurisdiction, domain and month."""
    rows = conn.execute(f"""
        SELECT u.day, u.views, {_USAGE_CODE} AS code, {_USAGE_DOMAIN} AS domain
        FROM {_USAGE_FROM}
        WHERE u.day BETWEEN ? AND ?""", (period.start.isoformat(), period.end.isoformat())).fetchall()
    out = Usage(Counter(), Counter(), Counter(), Counter())
    codes = set(scope.codes)
    for r in rows:
        if r["code"] not in codes:
            continue
        out.by_jurisdiction[r["code"]] += r["views"]
        out.by_domain[r["domain"]] += r["views"]
        out.monthly[r["day"][:7]] += r["views"]
        out.by_group[scope.group(r["code"])] += r["views"]
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
        for r in conn.execute(f"""
                SELECT u.terminal, substr(u.day, 1, 7) AS month, {_USAGE_DOMAIN} AS domain,
                       sum(u.views) AS views
                FROM {_USAGE_FROM}
                WHERE u.day BETWEEN ? AND ? AND u.terminal IN ({_in(ids)})
                GROUP BY u.terminal, month, domain""", [*span, *ids]):
            if not r["views"]:
                continue
            t = rows[r["terminal"]]
            t.views += r["views"]
            t.monthly[r["month"]] += r["views"]
            t.by_domain[r["domain"]] += r["views"]
            out.by_domain[r["domain"]] += r["views"]
            out.monthly[r["month"]] += r["views"]
        for r in conn.execute(f"""
                SELECT terminal, count(DISTINCT day) AS days, max(day) AS last FROM usage_view
                WHERE day BETWEEN ? AND ? AND views > 0 AND terminal IN ({_in(ids)})
                GROUP BY terminal""", [*span, *ids]):
            rows[r["terminal"]].days = r["days"]
            rows[r["terminal"]].last_day = _d(r["last"])
    # Every enrolled terminal is listed (an unused one is worth seeing); this instance's
    # own screens only when they served something, and stopped terminals only if used.
    out.terminals = sorted((t for t in rows.values() if t.views or (t.id != LOCAL and t.active)),
                           key=lambda t: (-t.views, t.code, t.name))
    return out


# ---------------------------------------------------------------- the whole report

@dataclass
class Report:
    scope: Scope
    period: Period
    today: date
    coverage: Coverage
    timeliness: Timeliness
    consistency: Consistency
    review: list[dict]
    applications: Applications
    satisfaction: Satisfaction
    gaps: list[tuple[str, int]] | None     # None: not shown below the county (counts carry no place)
    usage: Usage
    terminals: TerminalUsage
    periodic: list[dict] = field(default_factory=list)   # periodic items' periods due in the period
    templates: list = field(default_factory=list)   # village-list template adoption (content.village_templates)
    answers: list = field(default_factory=list)     # objections and questions (content.assessment_answers)
    policy: object = None                            # policy interpretation (content.assessment_policy)

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
    return Report(
        scope=scope, period=period, today=today,
        coverage=coverage(conn, scope, period, today),
        timeliness=timeliness(conn, scope, period, today),
        consistency=consistency(conn, scope, period, today),
        review=review_overdue(conn, scope, period, today),
        applications=applications(conn, scope, period, today),
        satisfaction=satisfaction(conn, scope, period, today),
        gaps=content_gaps(conn, period) if scope.level == "county" else None,
        usage=usage(conn, scope, period, today),
        terminals=terminal_usage(conn, scope, period, today),
        periodic=periodic_disclosures(conn, scope, period, today),
        templates=village_templates.adoption(conn, scope.villages),
        answers=assessment_answers.tables(conn, scope, period, today),
        policy=assessment_policy.figures(conn, scope.codes, period.start, as_of(period, today)))


def periodic_disclosures(conn: sqlite3.Connection, scope: Scope, period: Period, today: date) -> list[dict]:
    """The periods of periodic items (每月/每季度/每年) whose deadline falls in the period:
    published on time, late, or not at all (应公开未公开, which a count of notices cannot see)."""
    day = as_of(period, today)
    out = []
    for cal in disclosure_calendar.item_calendars(conn, list(scope.codes), day):
        for p in cal["periods"]:
            if period.start <= p.deadline <= day:
                out.append({**cal, "period": p, "level": scope.levels.get(cal["jurisdiction_code"], ""),
                            "jurisdiction": scope.names.get(cal["jurisdiction_code"], "")})
    return out


# ---------------------------------------------------------------- tables (page and export)

@dataclass
class Table:
    """One table as shown on the page and exported: cells are str, int, float (a share) or date."""

    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    percent: set[int] = field(default_factory=set)      # column indexes holding shares
    links: dict[tuple[int, int], str] = field(default_factory=dict)
    note: str = ""
    total_row: bool = False                              # last row is a total

    @property
    def numeric(self) -> set[int]:
        """Columns holding numbers (right-aligned on the page)."""
        return {i for row in self.rows for i, v in enumerate(row)
                if isinstance(v, (int, float)) and not isinstance(v, bool)}


def fmt(value, percent: bool = False) -> str:
    """A cell as the page shows it (the export keeps the number, formatted alike)."""
    if value is None:
        return "—"
    if percent:
        return f"{value * 100:.1f}%"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _group_name(scope: Scope, code: str | None) -> str:
    if code == scope.code:
        return f"{scope.name}（本级）"
    return scope.names.get(code, "—")


def tables(report: Report) -> list[Table]:
    """Every table of the dashboard, in page order."""
    s, out = report.scope, []
    cov, tim, con, app, sat, use = (report.coverage, report.timeliness, report.consistency,
                                    report.applications, report.satisfaction, report.usage)

    # Drill-down: the figures of each child jurisdiction.
    if s.children:
        t = Table("children", "下级区划对比", ["区划", "事项数", "有现行公开内容", "覆盖率",
                                             "按时公开率", "一致率", "超过评估日期", "浏览量"],
                  percent={3, 4, 5})
        tim_g = tim.grouped(lambda r: s.group(r.code))
        con_g: dict[str, list] = defaultdict(list)
        for r in con.rows:
            con_g[s.group(r["code"])].append(r)
        rev_g = Counter(s.group(r["code"]) for r in report.review)
        for i, code in enumerate([s.code, *s.children]):
            total, covered = cov.by_group.get(code, [0, 0])
            t.rows.append([_group_name(s, code), total, covered, share(covered, total),
                           tim.rate(tim_g.get(code, [])), con.rate(con_g.get(code, [])),
                           rev_g.get(code, 0), use.by_group.get(code, 0)])
            if code != s.code:
                t.links[(i, 0)] = f"?code={code}"
        out.append(t)

    t = Table("coverage", "公开覆盖：按层级和领域", ["层级", "领域", "事项数", "有现行公开内容", "覆盖率"],
              percent={4}, total_row=True,
              note=f"截至 {cov.as_of.isoformat()}；依申请公开事项 {cov.on_request} 项不计入。")
    for r in cov.rows:
        t.rows.append([LEVEL_NAMES[r.level], r.domain, r.total, r.covered, r.rate])
    t.rows.append(["合计", "", cov.total, cov.covered, cov.rate])
    out.append(t)

    t = Table("uncovered", "没有现行公开内容的事项", ["区划", "层级", "领域", "事项", "最近一次公开"])
    for i, r in enumerate(cov.uncovered):
        t.rows.append([r["jurisdiction"], LEVEL_NAMES[r["level"]], r["domain"], r["title"],
                       r["last_published"] or "从未公开"])
        t.links[(i, 3)] = (f"/items/{r['id']}" if r["kind"] == "item" else f"/village-items/{r['id']}")
    out.append(t)

    t = Table("timeliness", "公开时效：按层级", ["层级", "应公开条数", "按时", "超期公开", "逾期未公开",
                                           "未到期", "按时公开率"], percent={6}, total_row=True,
              note="信息形成日期在所选期间内的公示公告；时限按目录事项的公开时限，未写明的按条例第二十六条20个工作日，工作日按国家法定节假日和调休安排计算。")
    groups = tim.grouped(lambda r: r.level)
    for lv in LEVEL_ORDER:
        recs = groups.get(lv)
        if recs:
            t.rows.append([LEVEL_NAMES[lv], len(recs), tim.count(ON_TIME, recs), tim.count(LATE, recs),
                           tim.count(OVERDUE, recs), tim.count(PENDING, recs), tim.rate(recs)])
    t.rows.append(["合计", len(tim.records), tim.count(ON_TIME), tim.count(LATE), tim.count(OVERDUE),
                   tim.count(PENDING), tim.rate()])
    out.append(t)

    names = disclosure_calendar.STATUS_NAMES
    t = Table("periodic", "定期公开：按期核对", ["层级", "应公开期数", "按时", "逾期公开", "应公开未公开", "按时公开率"],
              percent={5}, total_row=True,
              note="按月、按季、按年公开的事项（如村级财务每月10日前公开上月收支），逐期核对；到期日为节假日的顺延。"
                   "没有发布任何公示的期次计为“应公开未公开”。")
    by_level: dict[str, Counter] = defaultdict(Counter)
    for r in report.periodic:
        by_level[r["level"]][r["period"].status] += 1
    total = Counter()
    for lv in LEVEL_ORDER:
        c = by_level.get(lv)
        if c:
            n = sum(c.values())
            t.rows.append([LEVEL_NAMES[lv], n, c["done"], c["late"], c["missing"], share(c["done"], n)])
            total.update(c)
    n = sum(total.values())
    t.rows.append(["合计", n, total["done"], total["late"], total["missing"], share(total["done"], n)])
    out.append(t)

    t = Table("periodic_missing", "应公开未公开的期次", ["区划", "事项", "所属期间", "应公开日期", "情况"])
    for r in sorted(report.periodic, key=lambda r: (r["period"].status != "missing", r["period"].deadline)):
        if r["period"].status in ("missing", "late"):
            t.rows.append([r["jurisdiction"], r["title"], r["period"].label, r["period"].deadline,
                           names[r["period"].status] + (f"（{r['period'].published_on}）"
                                                        if r["period"].published_on else "")])
    out.append(t)

    t = Table("late", "超期公开和逾期未公开", ["状态", "区划", "公示公告", "信息形成日期", "公开时限",
                                        "应公开日期", "实际公开日期", "超出工作日"])
    for i, r in enumerate([*tim.overdue, *tim.late]):
        t.rows.append([r.status, r.jurisdiction, r.title, r.formed_on, f"{r.limit_text}（{r.limit_source}）",
                       f"{r.deadline}（{PROVISIONAL}）" if r.provisional else r.deadline,
                       r.published_on or "未公开", r.workdays_late])
        if r.published_on:
            t.links[(i, 2)] = f"/notices/{r.notice_id}"
    out.append(t)

    counts = con.counts()
    t = Table("consistency", "县乡村公开内容一致性", ["状态", "事项×村数", "占比"], percent={2},
              total_row=True, note=f"截至 {con.as_of.isoformat()}，按对照事项逐村比较县、乡、村各级公开的内容。")
    for st in ALIGN_STATUSES:
        t.rows.append([st, counts.get(st, 0), share(counts.get(st, 0), len(con.rows))])
    t.rows.append(["合计", len(con.rows), 1.0 if con.rows else None])
    out.append(t)

    t = Table("inconsistent", "不一致、缺失和过期的对照事项", ["状态", "对照事项", "乡镇", "村（社区）", "情况"])
    order = {st: i for i, st in enumerate(ALIGN_STATUSES)}
    for i, r in enumerate(sorted(con.problems, key=lambda r: (order[r["status"]], r["matter"], r["code"]))):
        t.rows.append([r["status"], r["matter"], r["township"], r["village"], r["summary"]])
        t.links[(i, 1)] = r["url"]
    out.append(t)

    t = Table("review", "已过评估日期的事项", ["区划", "领域", "事项", "评估日期", "已过天数"])
    for i, r in enumerate(report.review):
        t.rows.append([r["jurisdiction"], r["domain"], r["title"], r["review_by"], r["days_past"]])
        t.links[(i, 2)] = f"/admin/{'catalogue' if r['kind'] == 'item' else 'village-items'}/{r['id']}"
    out.append(t)

    t = Table("applications", "依申请公开办理情况",
              ["收到申请", "办结", "其中答复", "按期答复", "超期答复", "办理中（未超期）", "办理中已超期",
               "按期答复率"], percent={7},
              note="答复期限按条例第三十三条：收到申请之日起20个工作日，延期和征求第三方意见的时间按规定计算。")
    t.rows.append([app.received, app.closed, app.replied, app.replied_on_time, app.replied_late,
                   app.open_in_time, len(app.open_overdue), app.on_time_rate])
    out.append(t)

    t = Table("annual_report", "政府信息公开年度报告：收到和处理政府信息公开申请情况",
              ["项目", *APPLICANT_COLUMNS, "总计"],
              note="按所选期间统计，可直接填入年度报告第三部分；“办结”以答复或归档日期为准。")
    for key, label in app.report_rows:
        c = app.report.get(key, Counter())
        t.rows.append([label, *[c.get(col, 0) for col in APPLICANT_COLUMNS], c.get("总计", 0)])
    out.append(t)

    t = Table("overdue_applications", "已超过答复期限仍在办理的申请",
              ["受理编号", "申请内容", "区划", "收到日期", "答复期限", "办理阶段", "超出工作日"])
    for r in app.open_overdue:
        due = r["due_on"]
        if provisional_years(r["received_on"], due):
            due = f"{due}（{PROVISIONAL}）"
        t.rows.append([r["receipt_no"], r["title"], r["jurisdiction"], r["received_on"], due,
                       r["stage"], r["workdays_overdue"]])
    out.append(t)

    t = Table("satisfaction", "群众评价：按领域", ["领域", *RATINGS, "评价数", "满意率"], percent={5},
              total_row=True, note="满意率 =（满意 + 基本满意）÷ 评价数。")
    for name, c in sat.by_domain.items():
        t.rows.append([name, *[c.get(k, 0) for k in RATINGS], sum(c.values()), sat.rate(c)])
    tot = sat.total
    t.rows.append(["合计", *[tot.get(k, 0) for k in RATINGS], sum(tot.values()), sat.rate(tot)])
    out.append(t)

    if report.gaps is not None:
        t = Table("gaps", "群众搜索未找到的内容（内容缺口）", ["搜索内容", "次数"],
                  note="查询机上搜索没有结果的词，按次数排列，可据此补充公开内容或同义词。")
        t.rows = [[q, c] for q, c in report.gaps]
        out.append(t)

    t = Table("usage_jurisdiction", "查询浏览量：按发布区划", ["区划", "层级", "浏览量"], total_row=True,
              note="本区划发布的内容在各查询机上被浏览的次数，按内容所属区划统计。")
    for code in s.codes:
        if use.by_jurisdiction.get(code):
            t.rows.append([s.names[code], LEVEL_NAMES[s.levels[code]], use.by_jurisdiction[code]])
    t.rows.append(["合计", "", use.total])
    out.append(t)

    t = Table("usage_domain", "查询浏览量：按领域", ["领域", "浏览量"], total_row=True)
    for name, v in use.by_domain.most_common():
        t.rows.append([name, v])
    t.rows.append(["合计", use.total])
    out.append(t)

    terms = report.terminals
    months = report.period.months()
    t = Table("usage_terminals", "各查询机浏览量",
              ["查询机", "所在区划", "浏览量", "有浏览的天数", "最近有浏览的日期", "浏览最多的领域"],
              total_row=True,
              note="本区划内各查询机上报的每日浏览次数（只有次数，不含搜索内容和任何个人信息）；"
                   "查询机名称和位置来自终端登记，“本机”指本平台自身的查询页面。")
    for r in terms.terminals:
        t.rows.append([r.name + ("（已停用）" if not r.active else ""), r.place, r.views, r.days,
                       r.last_day, r.top_domain])
    t.rows.append(["合计", f"{len(terms.terminals)} 台", terms.total, None, None, None])
    out.append(t)

    t = Table("usage_terminal_months", "各查询机月度浏览量", ["查询机", *months, "合计"], total_row=True)
    for r in terms.terminals:
        t.rows.append([r.name, *[r.monthly.get(m, 0) for m in months], r.views])
    t.rows.append(["合计", *[terms.monthly.get(m, 0) for m in months], terms.total])
    out.append(t)

    top = [name for name, _ in terms.by_domain.most_common(TERMINAL_DOMAINS)]
    t = Table("usage_terminal_domain", "各查询机浏览的领域", ["查询机", *top, "其他领域", "合计"],
              total_row=True, note=f"浏览量最多的 {len(top)} 个领域分列，其余合为“其他领域”；"
                                   "查询机上浏览的内容包括上级发布的内容。")
    for r in terms.terminals:
        shown = [r.by_domain.get(name, 0) for name in top]
        t.rows.append([r.name, *shown, r.views - sum(shown), r.views])
    shown = [terms.by_domain.get(name, 0) for name in top]
    t.rows.append(["合计", *shown, terms.total - sum(shown), terms.total])
    out.append(t)

    t = Table("template_adoption", "村务公开清单模板采用情况", village_templates.ADOPTION_COLUMNS,
              note="已采用：模板的事项在村里都已公开且没有待处理的修改建议；村里忽略的新增事项不计。")
    t.rows = report.templates
    out.append(t)

    t = Table("trend", "月度趋势", ["月份", "应公开条数", "按时公开率", "收到申请", "答复申请",
                                  "评价数", "满意率", "浏览量"], percent={2, 6})
    by_month = tim.grouped(lambda r: r.formed_on.strftime("%Y-%m"))
    for month in report.period.months():
        recs = by_month.get(month, [])
        sc = sat.monthly.get(month, Counter())
        t.rows.append([month, len(recs), tim.rate(recs), app.monthly_received.get(month, 0),
                       app.monthly_replied.get(month, 0), sum(sc.values()), sat.rate(sc),
                       use.monthly.get(month, 0)])
    out.append(t)
    return out + report.answers + assessment_policy.tables(report.policy)


# ---------------------------------------------------------------- Excel

def workbook(report: Report, selected: list[Table]) -> bytes:
    """The tables as an .xlsx workbook, one sheet each, numbers kept as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF2F6")
    used: set[str] = set()
    for t in selected:
        name = t.title[:28]
        for ch in "[]:*?/\\":
            name = name.replace(ch, " ")
        while name in used:
            name = name[:26] + str(len(used))
        used.add(name)
        ws = wb.create_sheet(name)
        ws.append([t.title])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([f"{report.scope.name} · {report.period.start.isoformat()} 至 "
                   f"{report.period.end.isoformat()} · 截至 {report.as_of.isoformat()}"])
        if t.note:
            ws.append([t.note])
        ws.append([])
        ws.append(t.columns)
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font, cell.fill = head, fill
        for row in t.rows:
            ws.append([v if not isinstance(v, date) else v.isoformat() for v in row])
            for i in t.percent:
                c = ws.cell(row=ws.max_row, column=i + 1)
                if isinstance(c.value, float):
                    c.number_format = "0.0%"
        if t.total_row and t.rows:
            for cell in ws[ws.max_row]:
                cell.font = head
        for i, col in enumerate(t.columns, 1):
            width = max([len(str(col))] + [len(fmt(r[i - 1], (i - 1) in t.percent)) for r in t.rows]) * 2 + 2
            ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
        for row in ws.iter_rows(min_row=header_row):
            for cell in row:
                cell.alignment = Alignment(vertical="top", wrap_text=True)
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    return sheets.xlsx_bytes(wb)
