"""异议和提问 in the admin: residents' objections and questions with their answer clock,
the answer (public under the page, or private by receipt number), the review of public
answers, and the 公示期 extended or restarted after an upheld objection."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for

from .. import auth, jurisdictions
from .. import resident_questions as rq
from ..db import get_db
from . import bp, remote, render, today, user

WHICH = {"open": "未答复", "due_soon": "3日内到期", "overdue": "已超期", "answered": "已答复", "all": "全部"}


def _codes(conn, u) -> list[str]:
    """A user sees the records of their jurisdiction and everything below it (a township its
    villages, a 村务监督委员会 its village)."""
    return sorted(auth.reachable_codes(conn, u))


def _record(conn, u, record_uuid: str):
    q = rq.get(conn, record_uuid)
    if q is None or not auth.can_reach(conn, u, q["jurisdiction_code"]):
        abort(404)
    return q


@bp.route("/questions")
@auth.require_role()
def question_list():
    conn = get_db()
    u = user()
    which = request.args.get("which", "open")
    which = which if which in WHICH else "open"
    kind = request.args.get("kind", "")
    code = request.args.get("code", "")
    codes = _codes(conn, u)
    if code and code not in codes:
        code = ""
    rows = rq.listing(conn, codes, today(), which=which, kind=kind, code=code)
    places = [jurisdictions.get(conn, c) for c in codes]
    counts = {w: len(rq.listing(conn, codes, today(), which=w)) for w in ("open", "due_soon", "overdue")}
    reviews = [a for a in rq.pending_reviews(conn, codes) if auth.allowed(conn, u, "review", a["jurisdiction_code"])]
    return render("admin/questions/list.html", rows=rows, which=which, kind=kind, code=code, whiches=WHICH,
                  kinds=rq.KINDS, places=[p for p in places if p is not None], counts=counts,
                  reviews=reviews, day=today(), clocks=rq.clocks_from(current_app.config))


@bp.route("/questions/<record_uuid>", methods=["GET", "POST"])
@auth.require_role()
def question_detail(record_uuid: str):
    conn = get_db()
    u = user()
    q = _record(conn, u, record_uuid)
    error, form = None, {}
    if request.method == "POST":
        form = request.form
        try:
            rq.answer(conn, record_uuid, u, form.get("answer", ""), form.get("mode", ""), today(),
                      question=form.get("question", ""), upheld=_upheld(form.get("upheld")),
                      period_action=form.get("period_action", ""), new_start=_date(form.get("new_start")),
                      new_end=_date(form.get("new_end")), remote=remote())
        except rq.Refused as e:
            error = str(e)
        else:
            flash("已答复。" + ("公开答复经审核后显示在原页面下方。" if form.get("mode") == "public"
                             else "提问人凭受理编号可以查到答复。"))
            return redirect(url_for("admin.question_detail", record_uuid=record_uuid), code=303)
    row = _decorated(conn, _record(conn, u, record_uuid))
    notice = None
    if q["target_type"] == "notice":
        notice = conn.execute("SELECT id, period_start, period_end, period_change FROM notice WHERE id = ?",
                              (int(q["target_id"]),)).fetchone()
    answer = conn.execute("SELECT * FROM question_answer WHERE id = ?", (q["answer_id"],)).fetchone() \
        if q["answer_id"] else None
    return render("admin/questions/detail.html", 422 if error else 200, q=row, error=error, form=form,
                  can_answer=auth.allowed(conn, u, "edit", q["jurisdiction_code"]),
                  can_review=auth.allowed(conn, u, "review", q["jurisdiction_code"]),
                  notice=dict(notice) if notice else None,
                  in_period=bool(notice) and rq.in_period({"type": "notice", **dict(notice)}, today()),
                  answer=answer, phone=None, day=today(), period_actions=rq.PERIOD_ACTIONS)


@bp.route("/questions/<record_uuid>/phone", methods=["POST"])
@auth.require_role()
def question_phone(record_uuid: str):
    """The whole callback number, for the one who calls back: shown once, and the look is logged."""
    conn = get_db()
    u = user()
    q = _record(conn, u, record_uuid)
    if not auth.allowed(conn, u, "edit", q["jurisdiction_code"]) or not q["phone"]:
        abort(403)
    from ..editing import audit  # noqa: PLC0415
    with conn:
        audit(conn, u, "question_phone_viewed", "resident_question", q["receipt_no"], None, None, remote())
    row = _decorated(conn, q)
    return render("admin/questions/detail.html", q=row, error=None, form={}, can_answer=False, can_review=False,
                  notice=None, in_period=False, answer=None, phone=q["phone"], day=today(),
                  period_actions=rq.PERIOD_ACTIONS)


@bp.route("/questions/answers/<id:answer_id>/review", methods=["POST"])
@auth.require_role()
def question_review(answer_id: int):
    conn = get_db()
    approve = request.form.get("decision") == "approve"
    try:
        rq.review(conn, answer_id, user(), approve, today(), remote())
    except rq.Refused as e:
        flash(str(e), "error")
    else:
        flash("已通过，答复将随下次同步显示在查询机上。" if approve else "已退回，记录重新计入未答复。")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/admin/questions") else url_for("admin.question_list"), code=303)


def _decorated(conn, q) -> dict:
    """The record with its clock, its place and whom it was routed to (names of bodies only)."""
    row = rq.decorate(q, today())
    place = jurisdictions.get(conn, q["jurisdiction_code"])
    row["place"] = place["name"] if place else ""
    routed = ["发布单位"]
    if place is not None and place["level"] == "village":
        township = jurisdictions.get(conn, place["parent_code"])
        routed += [f"{place['name']}村务监督委员会", township["name"] if township else "乡镇"]
    row["routed"] = routed
    return row


def _upheld(value) -> bool | None:
    return {"1": True, "0": False}.get(value or "")


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise rq.Refused("日期格式不对，请按 年-月-日 填写") from None
