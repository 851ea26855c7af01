"""Citizen services in the admin: application workflow, ratings and opinions, consultation results."""
from __future__ import annotations

import re
from datetime import date

from flask import abort, flash, redirect, request, url_for

from .. import application_hints, application_organs, applications, auth, consultations, editing, feedback
from ..db import get_db
from . import bp, remote, render, today, user

# Government bodies answer applications; village committees are not 行政机关 under the regulation.
HANDLERS = ("county_admin", "township_editor")
READERS = ("county_admin", "county_reviewer", "township_editor", "township_reviewer")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LISTS = {"open": "办理中", "due_soon": "即将到期", "overdue": "已超期", "paused": "暂停计时", "closed": "已办结",
         "all": "全部"}


def _codes() -> list[str]:
    return sorted(auth.reachable_codes(get_db(), user()))


def _application(record_uuid: str):
    if not UUID.match(record_uuid):
        abort(404)
    conn = get_db()
    row = applications.get(conn, record_uuid)
    if row is None or not (auth.can_reach(conn, user(), row["jurisdiction_code"])
                           or auth.can_reach(conn, user(), row["organ_code"])):   # 受理机关 (转办)
        abort(404)
    return conn, row


def _on_date(value: str | None) -> date:
    if not value:
        return today()
    try:
        on = date.fromisoformat(value)
    except ValueError:
        raise applications.Refused("日期格式不正确，应为 年-月-日") from None
    if on > today():
        raise applications.Refused("日期不能晚于今天")
    return on


@bp.route("/applications/")
@auth.require_role(*READERS)
def application_list():
    conn = get_db()
    which = request.args.get("list", "open")
    if which not in LISTS:
        which = "open"
    codes = _codes()
    counts = {k: len(applications.listing(conn, codes, today(), k)) for k in ("due_soon", "overdue", "paused")}
    rows = applications.listing(conn, codes, today(), which)
    organ_name = application_organs.namer(conn)
    for r in rows:
        r["organ_name"] = organ_name(r)
    return render("admin/citizen/applications.html", rows=rows, which=which, lists=LISTS, counts=counts,
                  stages=applications.STAGE_PUBLIC, threshold=application_hints.PROACTIVE_THRESHOLD,
                  proactive=application_hints.proactive_groups(conn, codes, today()))


def _detail(conn, row, status=200, form=None):
    from .application_views import detail_context  # noqa: PLC0415  (that module builds on this one)
    clock = applications.clock_of(row)
    may_handle = user()["role"] in HANDLERS
    audit = conn.execute("SELECT * FROM audit_log WHERE entity = 'application' AND entity_id = ? ORDER BY id",
                         (row["receipt_no"],)).fetchall()
    return render("admin/citizen/application.html", status, app=row, clock=clock,
                  events=applications.events(conn, row["uuid"]), audit=audit,
                  actions=applications.allowed_actions(clock) if may_handle else [],
                  action_names={**applications.ACTIONS, "transfer": "转办"}, outcomes=applications.OUTCOMES,
                  left=applications.working_days_left(clock.due_on, today()),
                  urgency=applications.urgency(row["stage"], clock.due_on, today()),
                  today=today(), form=form or {}, max_extension=applications.MAX_EXTENSION,
                  jurisdiction=conn.execute("SELECT name FROM jurisdiction WHERE code = ?",
                                            (row["jurisdiction_code"],)).fetchone(),
                  delivery_methods=applications.DELIVERY_METHODS, **detail_context(conn, row))


@bp.route("/applications/<record_uuid>")
@auth.require_role(*READERS)
def application_detail(record_uuid: str):
    conn, row = _application(record_uuid)
    return _detail(conn, row)


@bp.route("/applications/<record_uuid>/<any(accept, request_completion, complete, abandon, process, consult, "
          "third_party_reply, extend, reply, deliver, archive):action>", methods=["POST"])
@auth.require_role(*HANDLERS)
def application_step(record_uuid: str, action: str):
    conn, row = _application(record_uuid)
    params = {k: request.form.get(k, "") for k in ("note", "reason", "days", "outcome", "method", "detail",
                                                   "signed")}
    if action == "reply":
        # The reason is a choice for outcomes with a fixed list, free text for the others.
        params["reason"] = request.form.get("reason_" + params["outcome"], "") or params["reason"]
    try:
        on = _on_date(request.form.get("on_date"))
        applications.perform(conn, record_uuid, action, on, user=user(), remote=remote(), **params)
    except applications.Refused as e:
        flash(str(e), "error")
        return _detail(conn, applications.get(conn, record_uuid), 422, form={"action": action, **params})
    flash(f"已记录：{applications.ACTIONS[action]}", "ok")
    return redirect(url_for("admin.application_detail", record_uuid=record_uuid), code=303)


# ---------------------------------------------------------------- ratings and opinions

@bp.route("/ratings")
@auth.require_role()
def ratings():
    conn = get_db()
    codes = _codes()
    by = request.args.get("by", "target")
    if by not in ("target", "domain", "jurisdiction"):
        by = "target"
    return render("admin/citizen/ratings.html", rows=feedback.summary(conn, codes, by), by=by,
                  comments=feedback.comments(conn, codes, 50))


# Consultations are content like any other (the generic views in content_views): created,
# edited, reviewed and published through revisions.  Only the result has a form of its own
# beside the opinions, and it goes through the same review.

@bp.route("/consultations/<id:obj_id>/result", methods=["POST"])
@auth.require_role()
def consultation_result(obj_id: int):
    """Write the 采纳情况 once the window has closed: saved as a new draft and sent to review."""
    from .content_views import _load, detail_page  # noqa: PLC0415
    conn, ent, w = _load("consultations", obj_id, "edit")
    summary = (request.form.get("result_summary") or "").strip().replace("\r\n", "\n")
    data = dict(w["data"], result_summary=summary)
    error = None
    if not summary:
        error = "请填写意见采纳情况"
    elif len(summary) > 20000:
        error = "采纳情况请不超过20000字"
    elif consultations.check(data, today()).get("result_summary"):
        error = consultations.check(data, today())["result_summary"]
    else:
        found = editing.privacy_findings(ent, data, conn)
        if found:
            error = ("采纳情况中有未遮挡的个人信息：" + "、".join(f"{f.where}的{f.kind}" for f in found)
                     + "，请删除或遮挡后再提交")
    if error:
        return detail_page(conn, "consultations", ent, w, 422, result_error=error, result_text=summary)
    editing.save_draft(conn, user(), ent.table, obj_id, data, remote())
    try:
        editing.submit(conn, user(), ent.table, obj_id, remote())
    except editing.EditError as e:
        flash(str(e), "error")
    else:
        flash("意见采纳情况已提交审核，审核通过后在查询机上公布", "ok")
    return redirect(url_for("admin.content_detail", kind="consultations", obj_id=obj_id), code=303)
