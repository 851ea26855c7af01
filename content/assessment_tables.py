"""The assessment's tables, as the page shows them and the export writes them."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date

from . import disclosure_calendar, village_templates
from .alignment import LEVEL_NAMES
from .assessment_consistency import ALIGN_STATUSES
from .assessment_disclosure import LATE, ON_TIME, OVERDUE, PENDING
from .assessment_requests import APPLICANT_COLUMNS
from .assessment_scope import LEVEL_ORDER, Scope, share
from .feedback import RATINGS
from .timelimits import PROVISIONAL, provisional_years

TERMINAL_DOMAINS = 5                 # domains given a column of their own per terminal


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

    @cached_property
    def numeric(self) -> set[int]:
        """Columns holding numbers (right-aligned on the page); read once the rows are in."""
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


TABLE_KEYS = ("children", "coverage", "uncovered", "timeliness", "periodic", "periodic_missing", "late",
              "consistency", "inconsistent", "review", "applications", "annual_report",
              "overdue_applications", "satisfaction", "gaps", "usage_jurisdiction", "usage_domain",
              "usage_terminals", "usage_terminal_months", "usage_terminal_domain", "template_adoption",
              "trend")


def tables(report, keys=None) -> list[Table]:
    """The tables of the dashboard, in page order: all of them, or only those in ``keys``
    (an export of one table computes only the figures that table needs)."""
    s, out = report.scope, []
    months = report.period.months()

    def want(key: str) -> bool:
        return keys is None or key in keys

    if want("children"):
        # Drill-down: the figures of each child jurisdiction.
        if s.children:
            t = Table("children", "下级区划对比", ["区划", "事项数", "有现行公开内容", "覆盖率",
                                                 "按时公开率", "一致率", "超过评估日期", "浏览量"],
                      percent={3, 4, 5})
            tim_g = report.timeliness.grouped(lambda r: s.group(r.code))
            con_g: dict[str, list] = defaultdict(list)
            for r in report.consistency.rows:
                con_g[s.group(r["code"])].append(r)
            rev_g = Counter(s.group(r["code"]) for r in report.review)
            for i, code in enumerate([s.code, *s.children]):
                total, covered = report.coverage.by_group.get(code, [0, 0])
                t.rows.append([_group_name(s, code), total, covered, share(covered, total),
                               report.timeliness.rate(tim_g.get(code, [])), report.consistency.rate(con_g.get(code, [])),
                               rev_g.get(code, 0), report.usage.by_group.get(code, 0)])
                if code != s.code:
                    t.links[(i, 0)] = f"?code={code}"
            out.append(t)

    if want("coverage"):
        t = Table("coverage", "公开覆盖：按层级和领域", ["层级", "领域", "事项数", "有现行公开内容", "覆盖率"],
                  percent={4}, total_row=True,
                  note=f"截至 {report.coverage.as_of.isoformat()}；依申请公开事项 {report.coverage.on_request} 项不计入。")
        for r in report.coverage.rows:
            t.rows.append([LEVEL_NAMES[r.level], r.domain, r.total, r.covered, r.rate])
        t.rows.append(["合计", "", report.coverage.total, report.coverage.covered, report.coverage.rate])
        out.append(t)

    if want("uncovered"):
        t = Table("uncovered", "没有现行公开内容的事项", ["区划", "层级", "领域", "事项", "最近一次公开"])
        for i, r in enumerate(report.coverage.uncovered):
            t.rows.append([r["jurisdiction"], LEVEL_NAMES[r["level"]], r["domain"], r["title"],
                           r["last_published"] or "从未公开"])
            t.links[(i, 3)] = (f"/items/{r['id']}" if r["kind"] == "item" else f"/village-items/{r['id']}")
        out.append(t)

    if want("timeliness"):
        t = Table("timeliness", "公开时效：按层级", ["层级", "应公开条数", "按时", "超期公开", "逾期未公开",
                                               "未到期", "按时公开率"], percent={6}, total_row=True,
                  note="信息形成日期在所选期间内的公示公告；时限按目录事项的公开时限，未写明的按条例第二十六条20个工作日，工作日按国家法定节假日和调休安排计算。")
        groups = report.timeliness.grouped(lambda r: r.level)
        for lv in LEVEL_ORDER:
            recs = groups.get(lv)
            if recs:
                t.rows.append([LEVEL_NAMES[lv], len(recs), report.timeliness.count(ON_TIME, recs), report.timeliness.count(LATE, recs),
                               report.timeliness.count(OVERDUE, recs), report.timeliness.count(PENDING, recs), report.timeliness.rate(recs)])
        t.rows.append(["合计", len(report.timeliness.records), report.timeliness.count(ON_TIME), report.timeliness.count(LATE), report.timeliness.count(OVERDUE),
                       report.timeliness.count(PENDING), report.timeliness.rate()])
        out.append(t)

    if want("periodic"):
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

    if want("periodic_missing"):
        t = Table("periodic_missing", "应公开未公开的期次", ["区划", "事项", "所属期间", "应公开日期", "情况"])
        for r in sorted(report.periodic, key=lambda r: (r["period"].status != "missing", r["period"].deadline)):
            if r["period"].status in ("missing", "late"):
                t.rows.append([r["jurisdiction"], r["title"], r["period"].label, r["period"].deadline,
                               names[r["period"].status] + (f"（{r['period'].published_on}）"
                                                            if r["period"].published_on else "")])
        out.append(t)

    if want("late"):
        t = Table("late", "超期公开和逾期未公开", ["状态", "区划", "公示公告", "信息形成日期", "公开时限",
                                            "应公开日期", "实际公开日期", "超出工作日"])
        for i, r in enumerate([*report.timeliness.overdue, *report.timeliness.late]):
            t.rows.append([r.status, r.jurisdiction, r.title, r.formed_on, f"{r.limit_text}（{r.limit_source}）",
                           f"{r.deadline}（{PROVISIONAL}）" if r.provisional else r.deadline,
                           r.published_on or "未公开", r.workdays_late])
            if r.published_on:
                t.links[(i, 2)] = f"/notices/{r.notice_id}"
        out.append(t)

    if want("consistency"):
        counts = report.consistency.counts()
        t = Table("consistency", "县乡村公开内容一致性", ["状态", "事项×村数", "占比"], percent={2},
                  total_row=True, note=f"截至 {report.consistency.as_of.isoformat()}，按对照事项逐村比较县、乡、村各级公开的内容。")
        for st in ALIGN_STATUSES:
            t.rows.append([st, counts.get(st, 0), share(counts.get(st, 0), len(report.consistency.rows))])
        t.rows.append(["合计", len(report.consistency.rows), 1.0 if report.consistency.rows else None])
        out.append(t)

    if want("inconsistent"):
        t = Table("inconsistent", "不一致、缺失和过期的对照事项", ["状态", "对照事项", "乡镇", "村（社区）", "情况"])
        order = {st: i for i, st in enumerate(ALIGN_STATUSES)}
        for i, r in enumerate(sorted(report.consistency.problems, key=lambda r: (order[r["status"]], r["matter"], r["code"]))):
            t.rows.append([r["status"], r["matter"], r["township"], r["village"], r["summary"]])
            t.links[(i, 1)] = r["url"]
        out.append(t)

    if want("review"):
        t = Table("review", "已过评估日期的事项", ["区划", "领域", "事项", "评估日期", "已过天数"])
        for i, r in enumerate(report.review):
            t.rows.append([r["jurisdiction"], r["domain"], r["title"], r["review_by"], r["days_past"]])
            t.links[(i, 2)] = f"/admin/{'catalogue' if r['kind'] == 'item' else 'village-items'}/{r['id']}"
        out.append(t)

    if want("applications"):
        t = Table("applications", "依申请公开办理情况",
                  ["收到申请", "办结", "其中答复", "按期答复", "超期答复", "办理中（未超期）", "办理中已超期",
                   "按期答复率"], percent={7},
                  note="答复期限按条例第三十三条：收到申请之日起20个工作日，延期和征求第三方意见的时间按规定计算。")
        t.rows.append([report.applications.received, report.applications.closed, report.applications.replied, report.applications.replied_on_time, report.applications.replied_late,
                       report.applications.open_in_time, len(report.applications.open_overdue), report.applications.on_time_rate])
        out.append(t)

    if want("annual_report"):
        t = Table("annual_report", "政府信息公开年度报告：收到和处理政府信息公开申请情况",
                  ["项目", *APPLICANT_COLUMNS, "总计"],
                  note="按所选期间统计，可直接填入年度报告第三部分；“办结”以答复或归档日期为准。")
        for key, label in report.applications.report_rows:
            c = report.applications.report.get(key, Counter())
            t.rows.append([label, *[c.get(col, 0) for col in APPLICANT_COLUMNS], c.get("总计", 0)])
        out.append(t)

    if want("overdue_applications"):
        t = Table("overdue_applications", "已超过答复期限仍在办理的申请",
                  ["受理编号", "申请内容", "区划", "收到日期", "答复期限", "办理阶段", "超出工作日"])
        for r in report.applications.open_overdue:
            due = r["due_on"]
            if provisional_years(r["received_on"], due):
                due = f"{due}（{PROVISIONAL}）"
            t.rows.append([r["receipt_no"], r["title"], r["jurisdiction"], r["received_on"], due,
                           r["stage"], r["workdays_overdue"]])
        out.append(t)

    if want("satisfaction"):
        t = Table("satisfaction", "群众评价：按领域", ["领域", *RATINGS, "评价数", "满意率"], percent={5},
                  total_row=True, note="满意率 =（满意 + 基本满意）÷ 评价数。")
        for name, c in report.satisfaction.by_domain.items():
            t.rows.append([name, *[c.get(k, 0) for k in RATINGS], sum(c.values()), report.satisfaction.rate(c)])
        tot = report.satisfaction.total
        t.rows.append(["合计", *[tot.get(k, 0) for k in RATINGS], sum(tot.values()), report.satisfaction.rate(tot)])
        out.append(t)

    if want("gaps"):
        if report.gaps is not None:
            t = Table("gaps", "群众搜索未找到的内容（内容缺口）", ["搜索内容", "次数"],
                      note="查询机上搜索没有结果的词，按次数排列，可据此补充公开内容或同义词。")
            t.rows = [[q, c] for q, c in report.gaps]
            out.append(t)

    if want("usage_jurisdiction"):
        t = Table("usage_jurisdiction", "查询浏览量：按发布区划", ["区划", "层级", "浏览量"], total_row=True,
                  note="本区划发布的内容在各查询机上被浏览的次数，按内容所属区划统计。")
        for code in s.codes:
            if report.usage.by_jurisdiction.get(code):
                t.rows.append([s.names[code], LEVEL_NAMES[s.levels[code]], report.usage.by_jurisdiction[code]])
        t.rows.append(["合计", "", report.usage.total])
        out.append(t)

    if want("usage_domain"):
        t = Table("usage_domain", "查询浏览量：按领域", ["领域", "浏览量"], total_row=True)
        for name, v in report.usage.by_domain.most_common():
            t.rows.append([name, v])
        t.rows.append(["合计", report.usage.total])
        out.append(t)

    if want("usage_terminals"):
        t = Table("usage_terminals", "各查询机浏览量",
                  ["查询机", "所在区划", "浏览量", "有浏览的天数", "最近有浏览的日期", "浏览最多的领域"],
                  total_row=True,
                  note="本区划内各查询机上报的每日浏览次数（只有次数，不含搜索内容和任何个人信息）；"
                       "查询机名称和位置来自终端登记，“本机”指本平台自身的查询页面。")
        for r in report.terminals.terminals:
            t.rows.append([r.name + ("（已停用）" if not r.active else ""), r.place, r.views, r.days,
                           r.last_day, r.top_domain])
        t.rows.append(["合计", f"{len(report.terminals.terminals)} 台", report.terminals.total, None, None, None])
        out.append(t)

    if want("usage_terminal_months"):
        t = Table("usage_terminal_months", "各查询机月度浏览量", ["查询机", *months, "合计"], total_row=True)
        for r in report.terminals.terminals:
            t.rows.append([r.name, *[r.monthly.get(m, 0) for m in months], r.views])
        t.rows.append(["合计", *[report.terminals.monthly.get(m, 0) for m in months], report.terminals.total])
        out.append(t)

    if want("usage_terminal_domain"):
        top = [name for name, _ in report.terminals.by_domain.most_common(TERMINAL_DOMAINS)]
        t = Table("usage_terminal_domain", "各查询机浏览的领域", ["查询机", *top, "其他领域", "合计"],
                  total_row=True, note=f"浏览量最多的 {len(top)} 个领域分列，其余合为“其他领域”；"
                                       "查询机上浏览的内容包括上级发布的内容。")
        for r in report.terminals.terminals:
            shown = [r.by_domain.get(name, 0) for name in top]
            t.rows.append([r.name, *shown, r.views - sum(shown), r.views])
        shown = [report.terminals.by_domain.get(name, 0) for name in top]
        t.rows.append(["合计", *shown, report.terminals.total - sum(shown), report.terminals.total])
        out.append(t)

    if want("template_adoption"):
        t = Table("template_adoption", "村务公开清单模板采用情况", village_templates.ADOPTION_COLUMNS,
                  note="已采用：模板的事项在村里都已公开且没有待处理的修改建议；村里忽略的新增事项不计。")
        t.rows = report.templates
        out.append(t)

    if want("trend"):
        t = Table("trend", "月度趋势", ["月份", "应公开条数", "按时公开率", "收到申请", "答复申请",
                                      "评价数", "满意率", "浏览量"], percent={2, 6})
        by_month = report.timeliness.grouped(lambda r: f"{r.formed_on.year:04d}-{r.formed_on.month:02d}")
        for month in report.period.months():
            recs = by_month.get(month, [])
            sc = report.satisfaction.monthly.get(month, Counter())
            t.rows.append([month, len(recs), report.timeliness.rate(recs), report.applications.monthly_received.get(month, 0),
                           report.applications.monthly_replied.get(month, 0), sum(sc.values()), report.satisfaction.rate(sc),
                           report.usage.monthly.get(month, 0)])
        out.append(t)

    for key, builder in _EXTRA:
        if want(key):
            t = builder(report)
            if t is not None:
                out.append(t)
    return out



# Tables that figure modules add (register_table), after the built-in ones, in order.
_EXTRA: list[tuple[str, object]] = []


def register_table(key: str, builder) -> None:
    """Add a table after the built-in ones: ``builder(report)`` returns a Table (or None when
    it has nothing to show); it reads only the figures it needs (``report.<name>``)."""
    if key in TABLE_KEYS:
        raise ValueError(f"table {key!r} is built in")
    _EXTRA[:] = [(k, b) for k, b in _EXTRA if k != key] + [(key, builder)]


def table_keys() -> tuple[str, ...]:
    """Every table's key, in page order: the built-in ones, then those registered."""
    return (*TABLE_KEYS, *(k for k, _ in _EXTRA))
