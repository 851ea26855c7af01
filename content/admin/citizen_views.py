"""Citizen services in the admin: application workflow, ratings and opinions, consultation results."""
from __future__ import annotations

import json
import re
from datetime import date

from flask import abort, flash, redirect, request, url_for

from .. import applications, auth, consultations, editing, feedback, privacy
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
    if row is None or not auth.can_reach(conn, user(), row["jurisdiction_code"]):
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
    return render("admin/citizen/applications.html", rows=applications.listing(conn, codes, today(), which),
                  which=which, lists=LISTS, counts=counts, stages=applications.STAGE_PUBLIC)


def _detail(conn, row, status=200, form=None):
    clock = applications.clock_of(row)
    may_handle = user()["role"] in HANDLERS
    audit = conn.execute("SELECT * FROM audit_log WHERE entity = 'application' AND entity_id = ? ORDER BY id",
                         (row["receipt_no"],)).fetchall()
    return render("admin/citizen/application.html", status, app=row, clock=clock,
                  events=applications.events(conn, row["uuid"]), audit=audit,
                  actions=applications.allowed_actions(clock) if may_handle else [],
                  action_names=applications.ACTIONS, outcomes=applications.OUTCOMES,
                  left=applications.working_days_left(clock.due_on, today()),
                  urgency=applications.urgency(row["stage"], clock.due_on, today()),
                  today=today(), form=form or {}, max_extension=applications.MAX_EXTENSION,
                  jurisdiction=conn.execute("SELECT name FROM jurisdiction WHERE code = ?",
                                            (row["jurisdiction_code"],)).fetchone())


@bp.route("/applications/<record_uuid>")
@auth.require_role(*READERS)
def application_detail(record_uuid: str):
    conn, row = _application(record_uuid)
    return _detail(conn, row)


@bp.route("/applications/<record_uuid>/<any(accept, request_completion, complete, abandon, process, consult, "
          "third_party_reply, extend, reply, archive):action>", methods=["POST"])
@auth.require_role(*HANDLERS)
def application_step(record_uuid: str, action: str):
    conn, row = _application(record_uuid)
    params = {k: request.form.get(k, "") for k in ("note", "reason", "days", "outcome")}
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


@bp.route("/consultations/")
@auth.require_role()
def consultation_admin_list():
    conn = get_db()
    codes = _codes()
    return render("admin/citizen/consultations.html", rows=consultations.overview(conn, codes, today()),
                  may_create=bool(auth.permitted_codes(conn, user(), "edit")),
                  creatable=_creatable(conn), domains=conn.execute("SELECT id, name FROM domain ORDER BY sort, id").fetchall(),
                  form={}, errors={})


def _creatable(conn):
    codes = auth.permitted_codes(conn, user(), "edit")
    return conn.execute(f"SELECT code, name FROM jurisdiction WHERE code IN ({','.join('?' * len(codes)) or 'NULL'}) "
                        "AND level != 'village' ORDER BY code", codes).fetchall()


def _consultation(consultation_id: int, action: str = "read"):
    conn = get_db()
    c = consultations.get(conn, consultation_id, None, today())
    if c is None or not auth.can_reach(conn, user(), c["jurisdiction_code"]):
        abort(404)
    if action == "edit" and not auth.allowed(conn, user(), "edit", c["jurisdiction_code"]):
        abort(403)
    return conn, c


@bp.route("/consultations/<id:consultation_id>")
@auth.require_role()
def consultation_admin_detail(consultation_id: int):
    conn, c = _consultation(consultation_id)
    return render("admin/citizen/consultation.html", c=c, opinions=consultations.responses(conn, consultation_id),
                  may_edit=auth.allowed(conn, user(), "edit", c["jurisdiction_code"]), error=None,
                  summary=c["result_summary"])


@bp.route("/consultations/<id:consultation_id>/result", methods=["POST"])
@auth.require_role()
def consultation_result(consultation_id: int):
    """Publish the 采纳情况 once the window has closed (kept as a revision, audited, sent to terminals)."""
    conn, c = _consultation(consultation_id, "edit")
    summary = (request.form.get("result_summary") or "").strip()
    error = None
    if c["state"] != "closed":
        error = f"征求意见截止（{c['closes_on']}）后才能公布采纳情况"
    elif not summary:
        error = "请填写意见采纳情况"
    elif privacy.scan_text(summary, "采纳情况"):
        found = privacy.scan_text(summary, "采纳情况")
        error = "采纳情况中有未遮挡的个人信息：" + "、".join(f"{f.where}的{f.kind}" for f in found) + "，请删除或遮挡后再公布"
    if error:
        return render("admin/citizen/consultation.html", 422, c=c, opinions=consultations.responses(conn, consultation_id),
                      may_edit=True, error=error, summary=summary)
    with editing.transaction(conn):
        rev = c["rev"] + 1
        conn.execute("UPDATE consultation SET result_summary = ?, result_published_on = ?, rev = ?, "
                     "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                     (summary, today().isoformat(), rev, consultation_id))
        data = dict(conn.execute("SELECT * FROM consultation WHERE id = ?", (consultation_id,)).fetchone())
        conn.execute("INSERT INTO revision(entity, entity_id, rev, data, state, author_id, note, jurisdiction_code) "
                     "VALUES ('consultation', ?, ?, ?, 'published', ?, '公布意见采纳情况', ?)",
                     (consultation_id, rev, json.dumps(data, ensure_ascii=False), user()["id"], c["jurisdiction_code"]))
        editing.audit(conn, user(), "consultation_result", "consultation", consultation_id,
                      {"result_summary": c["result_summary"]}, {"result_summary": summary}, remote())
        editing.bump_content_version(conn)
    flash("意见采纳情况已公布，查询机将在下次同步后显示", "ok")
    return redirect(url_for("admin.consultation_admin_detail", consultation_id=consultation_id), code=303)


@bp.route("/consultations/new", methods=["POST"])
@auth.require_role()
def consultation_create():
    conn = get_db()
    form = {k: (request.form.get(k) or "").strip() for k in
            ("jurisdiction_code", "domain_id", "title", "body", "doc_title", "doc_text", "opens_on", "closes_on")}
    errors = {}
    if not auth.allowed(conn, user(), "edit", form["jurisdiction_code"]):
        errors["jurisdiction_code"] = "请选择您有权发布的单位"
    if not form["title"]:
        errors["title"] = "请填写标题"
    dates = {}
    for k in ("opens_on", "closes_on"):
        try:
            dates[k] = date.fromisoformat(form[k])
        except ValueError:
            errors[k] = "请填写日期（年-月-日）"
    if not errors.get("closes_on") and not errors.get("opens_on") and dates["closes_on"] < dates["opens_on"]:
        errors["closes_on"] = "截止日期不能早于开始日期"
    text = " ".join((form["title"], form["body"], form["doc_title"], form["doc_text"]))
    if privacy.scan_text(text):
        errors["body"] = "内容中有未遮挡的身份证号、手机号或银行卡号，请删除或遮挡"
    domain_id = int(form["domain_id"]) if form["domain_id"].isdigit() else None
    if errors:
        return render("admin/citizen/consultations.html", 422, rows=consultations.overview(conn, _codes(), today()),
                      may_create=True, creatable=_creatable(conn),
                      domains=conn.execute("SELECT id, name FROM domain ORDER BY sort, id").fetchall(),
                      form=form, errors=errors)
    documents = [{"title": form["doc_title"] or "征求意见稿", "text": form["doc_text"]}] if form["doc_text"] else []
    with editing.transaction(conn):
        cur = conn.execute(
            "INSERT INTO consultation(jurisdiction_code, domain_id, title, body, opens_on, closes_on, documents, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'published')",
            (form["jurisdiction_code"], domain_id, form["title"], form["body"], form["opens_on"], form["closes_on"],
             json.dumps(documents, ensure_ascii=False)))
        data = dict(conn.execute("SELECT * FROM consultation WHERE id = ?", (cur.lastrowid,)).fetchone())
        conn.execute("INSERT INTO revision(entity, entity_id, rev, data, state, author_id, note, jurisdiction_code) "
                     "VALUES ('consultation', ?, 1, ?, 'published', ?, '发布征求意见', ?)",
                     (cur.lastrowid, json.dumps(data, ensure_ascii=False), user()["id"], form["jurisdiction_code"]))
        editing.audit(conn, user(), "consultation_create", "consultation", cur.lastrowid, None, data, remote())
        editing.bump_content_version(conn)
    flash("征求意见已发布", "ok")
    return redirect(url_for("admin.consultation_admin_detail", consultation_id=cur.lastrowid), code=303)
