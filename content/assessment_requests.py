"""Request figures of the assessment: applications (依申请公开) and residents' ratings."""
from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from .applications import OUTCOMES  # the annual-report taxonomy (table 3): outcome → reasons
from .assessment_scope import PUB_DAY, Period, Scope, _d, _in, as_of, share
from .feedback import RATINGS
from .timelimits import workdays_between

APPLICANT_COLUMNS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")


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

