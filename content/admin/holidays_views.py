"""The holiday calendar in the admin (/admin/holidays): which years are known, enter or import one.

Everyone signed in may look; only county administrators enter, replace or delete a year
(the schedule is the State Council's, the same for the whole county).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for

from .. import auth, holidays
from ..db import get_db
from . import admin_context, forbidden, not_found, remote, render, today, user

bp = Blueprint("holidays_admin", __name__, url_prefix="/admin/holidays", template_folder="../templates")
bp.context_processor(admin_context)
bp.register_error_handler(403, forbidden)
bp.register_error_handler(404, not_found)

EDITORS = ("county_admin",)
EXAMPLE = """2027-01-01, 休, 元旦
2027-02-05..2027-02-11, 休, 春节
2027-02-14, 班, 春节
2027-02-20, 班, 春节"""


def _years_around(conn) -> list[dict]:
    """Last year to the year after next, and every year entered: what the arithmetic uses."""
    this = today().year
    years = set(range(this - 1, this + 3)) | {r["year"] for r in holidays.entered_years(conn)}
    return [{"year": y, "status": holidays.year_status(conn, y), "next": y == this + 1}
            for y in sorted(years, reverse=True)]


def _page(conn, status: int = 200, **context):
    return render("admin/holidays.html", status, years=_years_around(conn),
                  entered=holidays.entered_years(conn), status_names=holidays.STATUS_NAMES,
                  may_edit=user()["role"] in EDITORS, example=EXAMPLE, next_year=today().year + 1,
                  form=context.pop("form", {}), **context)


@bp.route("/", methods=["GET", "POST"])
@auth.require_role()
def overview():
    conn = get_db()
    if request.method == "GET":
        return _page(conn)
    if user()["role"] not in EDITORS:
        abort(403)
    form = {k: (request.form.get(k) or "").strip() for k in ("year", "source", "text")}
    year = None
    if form["year"]:
        if not (form["year"].isdigit() and 1990 <= int(form["year"]) <= 2200):
            return _page(conn, 400, form=form, errors=[f"年份“{form['year'][:10]}”不正确，请填写如 2027"])
        year = int(form["year"])
    upload = request.files.get("file")
    try:
        if upload is not None and upload.filename:
            rows = holidays.rows_from_file(upload.read(holidays.MAX_FILE_BYTES + 1), upload.filename)
        elif form["text"]:
            rows = holidays.rows_from_text(form["text"])
        else:
            return _page(conn, 400, form=form, errors=["请粘贴节假日安排，或选择 .xlsx / .csv 文件"])
        schedule, moved = holidays.import_schedule(conn, rows, year=year, source=form["source"],
                                                   user=user(), remote=remote())
    except holidays.CalendarError as e:
        return _page(conn, 400, form=form, errors=e.errors)
    flash(f"已录入 {schedule.summary()}。" + (f"已按新的安排重新计算 {moved} 件办理中申请的答复期限。"
                                            if moved else "") + "发布后会随内容包送到各查询机。")
    return redirect(url_for(".year_detail", year=schedule.year), code=303)


@bp.route("/<int:year>")
@auth.require_role()
def year_detail(year: int):
    conn = get_db()
    if not 1990 <= year <= 2200:
        abort(404)
    row = conn.execute("SELECT * FROM holiday_year WHERE year = ?", (year,)).fetchone()
    return render("admin/holiday_year.html", year=year, row=row, days=holidays.days_of(conn, year),
                  status=holidays.year_status(conn, year), status_names=holidays.STATUS_NAMES,
                  text=holidays.as_text(conn, year) if row else "", kind_names=holidays.KIND_NAMES,
                  may_edit=user()["role"] in EDITORS,
                  updated=holidays.local_time(row["updated_at"]) if row else "")


@bp.route("/<int:year>/delete", methods=["POST"])
@auth.require_role(*EDITORS)
def year_delete(year: int):
    conn = get_db()
    try:
        moved = holidays.remove_year(conn, year, user=user(), remote=remote())
    except holidays.CalendarError as e:
        flash(e.errors[0], "error")
        return redirect(url_for(".overview"), code=303)
    flash(f"已删除{year}年的节假日安排。" + (f"重新计算了 {moved} 件申请的答复期限。" if moved else ""))
    return redirect(url_for(".overview"), code=303)
