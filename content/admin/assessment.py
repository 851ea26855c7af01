"""The assessment dashboard (公开工作评估) at /admin/assessment: figures, charts, Excel, print.

Its own blueprint beside the content admin: every view needs a signed-in staff
member and shows only the jurisdiction they reach (their own and below),
drilling down county → township → village with ``?code=``.
"""
from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, abort, g, render_template, request, send_file, url_for

from .. import assessment as a
from .. import auth, charts, jurisdictions
from ..db import get_db
from . import admin_context, forbidden, not_found, today

bp = Blueprint("assessment", __name__, url_prefix="/admin/assessment", template_folder="../templates")
bp.context_processor(admin_context)
bp.register_error_handler(403, forbidden)
bp.register_error_handler(404, not_found)

MAX_YEARS = 5
STATUS_COLOURS = {"一致": charts.GREEN, "不一致": charts.RED, "缺失": charts.GREY, "过期": charts.PURPLE}
TIMELINESS_SERIES = [(a.ON_TIME, charts.GREEN), (a.LATE, charts.AMBER), (a.OVERDUE, charts.RED),
                     (a.PENDING, charts.GREY)]
RATING_SERIES = [("满意", charts.GREEN), ("基本满意", charts.AMBER), ("不满意", charts.RED)]
TERMINAL_COLOURS = (charts.BLUE, charts.GREEN, charts.AMBER, charts.RED, charts.PURPLE)   # top five
DOMAIN_COLOURS = (charts.BLUE, charts.GREEN, charts.AMBER, charts.PURPLE, charts.RED)     # then 其他 in grey


def _date_arg(name: str, label: str, default: date, errors: list[str]) -> date:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{label}“{raw[:20]}”格式不正确，请按 2025-01-31 的格式填写。已改用默认日期。")
        return default


def _request_report():
    """The scope, period and report the query string asks for, checked against the user's reach."""
    conn = get_db()
    user = auth.current_user()
    code = request.args.get("code") or user["jurisdiction_code"]
    if not jurisdictions.is_code(code) or not auth.can_reach(conn, user, code):
        abort(404)
    scope = a.scope_of(conn, code) or abort(404)
    now = today()
    errors: list[str] = []
    default_start = date(now.year, 1, 1)
    start = _date_arg("from", "开始日期", default_start, errors)
    end = _date_arg("to", "结束日期", now, errors)
    if start > end:
        errors.append("开始日期不能晚于结束日期，已改用今年1月1日至今天。")
        start, end = default_start, now
    elif (end - start).days > 366 * MAX_YEARS:
        errors.append(f"统计期间最长{MAX_YEARS}年，已改用今年1月1日至今天。")
        start, end = default_start, now
    period = a.Period(start, end)
    report = a.build(conn, scope, period, now)
    g.query = {"code": code, "from": start.isoformat(), "to": end.isoformat()}
    return conn, user, report, errors


def _tables(report: a.Report, keys=None) -> list[a.Table]:
    tabs = a.tables(report, keys)
    for t in tabs:
        if t.key == "children":      # drill-down links keep the chosen period
            t.links = {k: url_for(".dashboard", **{**g.query, "code": v[len("?code="):]})
                       for k, v in t.links.items()}
    return tabs


def _charts(report: a.Report, tabs: list[a.Table]) -> dict[str, object]:
    s, cov, tim, con = report.scope, report.coverage, report.timeliness, report.consistency
    out: dict[str, object] = {}
    if s.children:
        names = {c: s.names[c] for c in s.children}
        out["children"] = charts.bars(
            "下级区划公开覆盖率",
            [(names[c], a.share(cov.by_group.get(c, [0, 0])[1], cov.by_group.get(c, [0, 0])[0]))
             for c in s.children], percent=True)
    out["coverage"] = charts.bars("各领域公开覆盖率", [(r.domain, r.rate) for r in cov.by_domain()],
                                  percent=True)
    out["coverage_level"] = charts.bars("各层级公开覆盖率",
                                        [(a.LEVEL_NAMES[r.level], r.rate) for r in cov.by_level()],
                                        percent=True, color=charts.GREEN)
    groups = tim.grouped(lambda r: r.level)
    out["timeliness"] = charts.stacked(
        "各层级公开时效", [(a.LEVEL_NAMES[lv], [tim.count(st, groups[lv]) for st, _ in TIMELINESS_SERIES])
                      for lv in a.LEVEL_ORDER if lv in groups], TIMELINESS_SERIES)
    by_group: dict[str, list] = {}
    for r in con.rows:
        by_group.setdefault(s.group(r["code"]) if s.level != "village" else r["code"], []).append(r)
    statuses = list(STATUS_COLOURS.items())
    out["consistency"] = charts.stacked(
        "各区划对照事项一致情况",
        [(s.names.get(code, code), [con.counts(rows).get(st, 0) for st, _ in statuses])
         for code, rows in by_group.items()], statuses)
    app = report.applications
    out["annual_report"] = charts.bars(
        "依申请公开办理结果", [(k, app.report.get(k, {}).get("总计", 0)) for k in a.OUTCOMES],
        color=charts.BLUE)
    sat = report.satisfaction
    out["satisfaction"] = charts.stacked(
        "各领域群众评价", [(name, [c.get(k, 0) for k in a.RATINGS]) for name, c in sat.by_domain.items()],
        RATING_SERIES)
    if report.gaps:
        out["gaps"] = charts.bars("无结果搜索次数", report.gaps[:12], color=charts.AMBER)
    use = report.usage
    months = report.period.months()
    out["usage_domain"] = charts.bars("各领域浏览量", use.by_domain.most_common(15))
    out["usage_jurisdiction"] = charts.bars(
        "各区划浏览量", [(s.names[c], use.by_jurisdiction[c]) for c in s.codes if use.by_jurisdiction.get(c)][:15])
    terms = report.terminals
    used = [t for t in terms.terminals if t.views]
    out["usage_terminals"] = charts.bars("各查询机浏览量",
                                           [(charts.clip_middle(t.name), t.views) for t in used[:15]])
    out["usage_terminal_trend"] = charts.line(
        "浏览最多的查询机每月浏览量", months,
        [(charts.clip_middle(t.name, 10), [t.monthly.get(m, 0) for m in months], colour)
         for t, colour in zip(used, TERMINAL_COLOURS)], percent=False)
    by_domain = next(t for t in tabs if t.key == "usage_terminal_domain")
    out["usage_terminal_domain"] = charts.stacked(
        "各查询机浏览的领域", [(charts.clip_middle(r[0]), r[1:-1]) for r in by_domain.rows[:-1] if r[-1]][:15],
        [*zip(by_domain.columns[1:-2], DOMAIN_COLOURS), ("其他领域", charts.GREY)])
    trend = next(t for t in tabs if t.key == "trend")
    out["trend"] = charts.line("月度按时公开率和满意率", months,
                               [("按时公开率", [r[2] for r in trend.rows], charts.BLUE),
                                ("满意率", [r[6] for r in trend.rows], charts.GREEN)])
    out["trend_views"] = charts.columns("月度浏览量", months, [r[7] for r in trend.rows])
    return out


def _context(conn, user, report, errors, printing=False):
    chain = [j for j in jurisdictions.ancestors(conn, report.scope.code)
             if auth.can_reach(conn, user, j["code"])]
    tabs = _tables(report)
    return dict(report=report, tables={t.key: t for t in tabs}, table_list=tabs, charts=_charts(report, tabs),
                chain=chain, errors=errors, q=g.query, fmt=a.fmt, level_names=a.LEVEL_NAMES,
                printing=printing, recent_days=a.RECENT_DAYS,
                child_level=a.LEVEL_NAMES.get({"county": "township", "township": "village"}.get(
                    report.scope.level, ""), ""))


@bp.route("/")
@auth.require_role()
def dashboard():
    conn, user, report, errors = _request_report()
    return render_template("admin/assessment/dashboard.html", **_context(conn, user, report, errors))


@bp.route("/print")
@auth.require_role()
def printable():
    """Every table and chart on A4 pages (print stylesheet), nothing folded away."""
    conn, user, report, errors = _request_report()
    return render_template("admin/assessment/print.html", **_context(conn, user, report, errors, True))


def _xlsx(report: a.Report, selected: list[a.Table], name: str):
    data = a.workbook(report, selected)
    stamp = f"{report.period.start.strftime('%Y%m%d')}-{report.period.end.strftime('%Y%m%d')}"
    return send_file(io.BytesIO(data), as_attachment=True,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     download_name=f"公开评估_{report.scope.name}_{name}_{stamp}.xlsx")


@bp.route("/all.xlsx")
@auth.require_role()
def export_all():
    _conn, _user, report, _errors = _request_report()
    return _xlsx(report, _tables(report), "全部")


@bp.route("/<key>.xlsx")
@auth.require_role()
def export(key: str):
    if key not in a.table_keys():
        abort(404)
    _conn, _user, report, _errors = _request_report()
    # Only this table's figures are computed (an applications sheet needs no usage counts).
    table = next((t for t in _tables(report, {key}) if t.key == key), None)
    if table is None:
        abort(404)
    return _xlsx(report, [table], table.title[:20])
