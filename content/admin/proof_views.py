"""公示留痕 in the admin: which 公示 were on screen for their whole period, and the 公示证明
(notice, board, place, shown from–to, gaps) as an A4 page and an .xlsx for the 村务监督委员会
and auditors."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

from flask import abort, current_app, send_file

from .. import auth, display_proof, jurisdictions, sheets
from ..db import get_db
from . import bp, paging, render, user

LIST_DAYS = 60
PAGE = 100


def _reachable_notice(conn, notice_id: int):
    row = conn.execute("SELECT jurisdiction_code, subject_code FROM notice WHERE id = ?", (notice_id,)).fetchone()
    u = user()
    if row is None or not (auth.can_reach(conn, u, row["subject_code"] or row["jurisdiction_code"])
                           or auth.can_reach(conn, u, row["jurisdiction_code"])):
        abort(404)


@bp.route("/proof")
@auth.require_role()
def proof_list():
    conn = get_db()
    u = user()
    now = display_proof.now(current_app.config.get("NOW"))
    day = now.astimezone(display_proof.CHINA).date()
    codes = sorted(auth.reachable_codes(conn, u))
    # The whole county needs no code filter, and without one the (period_end, id) index gives the order.
    everywhere = len(codes) >= jurisdictions.count(conn)
    where, params = display_proof.period_filter(None if everywhere else codes,
                                                day - timedelta(days=LIST_DAYS), day)
    page = paging.fetch(conn, display_proof.PERIOD_NOTICES, where, params, sort="n.period_end",
                        sort_field="period_end", id_column="n.id", size=PAGE)
    rows = [{"notice": c.notice, "cov": c} for c in display_proof.coverages(conn, page.rows, now)]
    return render("admin/proof_list.html", rows=rows, days=LIST_DAYS, page=page)


def _coverage(notice_id: int):
    conn = get_db()
    _reachable_notice(conn, notice_id)
    cov = display_proof.coverage(conn, notice_id, display_proof.now(current_app.config.get("NOW")))
    if cov is None:
        abort(404)
    place = conn.execute("SELECT name FROM jurisdiction WHERE code = ?",
                         (cov.notice["subject_code"] or cov.notice["jurisdiction_code"],)).fetchone()
    return cov, place["name"] if place else ""


@bp.route("/proof/<id:notice_id>")
@auth.require_role()
def proof_certificate(notice_id: int):
    cov, place = _coverage(notice_id)
    return render("admin/proof.html", cov=cov, place=place, made=datetime.now(display_proof.CHINA))


@bp.route("/proof/<id:notice_id>.xlsx")
@auth.require_role()
def proof_xlsx(notice_id: int):
    from openpyxl import Workbook  # noqa: PLC0415
    cov, place = _coverage(notice_id)
    wb = Workbook()
    ws = wb.active
    ws.title = "公示证明"
    n = cov.notice
    ws.append(["公示证明"])
    for label, value in (("公示标题", n["title"]), ("公示单位", n["publisher"] or ""), ("公示对象地区", place),
                         ("公示期", f"{n['period_start']} 至 {n['period_end']}"),
                         ("核对天数", len(cov.days)),
                         ("结论", "公示期内每天均已在公示栏完整显示" if cov.fulfilled else
                          f"未完整显示，建议延长公示 {cov.extension_days} 天")):
        ws.append([label, value])
    ws.append([])
    ws.append(["公示栏", "位置", "首次显示", "最后显示", "完整显示天数", "缺失天数", "未显示时段"])
    for b in cov.boards:
        ws.append([b.name, b.location,
                   b.first_shown.strftime("%Y-%m-%d %H:%M") if b.first_shown else "未显示",
                   b.last_shown.strftime("%Y-%m-%d %H:%M") if b.last_shown else "",
                   len(b.covered), b.short,
                   "；".join(f"{a:%m-%d %H:%M}–{z:%H:%M}" for a, z in b.gaps) or "无"])
    return send_file(io.BytesIO(sheets.xlsx_bytes(wb)), as_attachment=True,
                     download_name=f"公示证明_{notice_id}.xlsx", mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
