"""Village-list templates in the admin (/admin/templates): keep, send, and the villages' suggestions."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for

from .. import auth, editing, jurisdictions
from .. import village_templates as vt
from ..db import get_db
from . import admin_context, forbidden, not_found, remote, render, user

bp = Blueprint("templates_admin", __name__, url_prefix="/admin/templates", template_folder="../templates")
bp.context_processor(admin_context)
bp.register_error_handler(403, forbidden)
bp.register_error_handler(404, not_found)


def _editable_villages(conn) -> list[str]:
    return [c for c in auth.permitted_codes(conn, user(), "edit")
            if jurisdictions.get(conn, c)["level"] == "village"]


@bp.app_template_global("template_suggestion_count")
def template_suggestion_count() -> int:
    """For the dashboard: template changes waiting in the villages the user edits."""
    conn = get_db()
    return len(vt.suggestions(conn, _editable_villages(conn)))


def _template(conn, template_id: int):
    t = vt.get(conn, template_id)
    if t is None or not auth.can_reach(conn, user(), t["owner_code"]):
        abort(404)
    if not vt.may_manage(conn, user(), t["owner_code"]):
        abort(403)
    return t


@bp.route("/", methods=["GET", "POST"])
@auth.require_role()
def overview():
    conn = get_db()
    owners = vt.owners_for(conn, user())
    error, form = None, {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("owner", "name", "description")}
        if form["owner"] not in {o["code"] for o in owners}:
            abort(403)
        try:
            tid = vt.create(conn, user(), form["owner"], form["name"], form["description"], remote())
        except editing.EditError as e:
            error = str(e)
        else:
            flash("已新建清单模板，请添加事项后下发到各村。")
            return redirect(url_for(".detail", template_id=tid), code=303)
    # Suggestions are the villages' to decide; those who keep templates see adoption instead.
    villages = [] if owners else _editable_villages(conn)
    return render("admin/templates/list.html", 400 if error else 200, templates=vt.visible(conn, user()),
                  owners=owners, error=error, form=form,
                  suggestions=vt.suggestions(conn, villages) if villages else [])


def _detail_page(conn, t, status=200, **context):
    sent = vt.targets(conn, t["id"])
    villages = [v for v in vt.villages_under(conn, t["owner_code"]) if auth.can_reach(conn, user(), v["code"])]
    return render("admin/templates/detail.html", status, t=t, items=vt.items(conn, t["id"]),
                  villages=villages, sent=sent, labels=vt.FIELD_LABELS,
                  adoption=vt.adoption(conn, sorted(sent)), columns=vt.ADOPTION_COLUMNS,
                  form=context.pop("form", {}), **context)


@bp.route("/<id:template_id>", methods=["GET", "POST"])
@auth.require_role()
def detail(template_id: int):
    """The template's items (POST adds one), where it was sent and how villages took it."""
    conn = get_db()
    t = _template(conn, template_id)
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in vt.ITEM_FIELDS}
        try:
            vt.add_item(conn, user(), template_id, form, remote())
        except editing.EditError as e:
            return _detail_page(conn, t, 400, error=str(e), form=form)
        flash("已添加事项。" + ("已下发的村会收到“模板新增了这一项”的建议。" if vt.targets(conn, template_id) else ""))
        return redirect(url_for(".detail", template_id=template_id), code=303)
    return _detail_page(conn, t)


@bp.route("/<id:template_id>/items/<id:item_id>", methods=["GET", "POST"])
@auth.require_role()
def item(template_id: int, item_id: int):
    conn = get_db()
    t = _template(conn, template_id)
    row = conn.execute("SELECT * FROM village_template_item WHERE id = ? AND template_id = ? AND removed = 0",
                       (item_id, template_id)).fetchone()
    if row is None:
        abort(404)
    error, form = None, vt.item_data(row)
    form["channels"] = "、".join(form["channels"])
    if request.method == "POST":
        try:
            if request.form.get("remove"):
                vt.remove_item(conn, user(), template_id, item_id, remote())
                flash("已从模板中删除这一项；各村可选择是否撤回自己的这一项。")
            else:
                form = {k: request.form.get(k, "") for k in vt.ITEM_FIELDS}
                changed = vt.update_item(conn, user(), template_id, item_id, form, remote())
                flash("已保存。已下发的村会收到修改建议，村里的内容不会被直接改动。" if changed else "没有修改。")
            return redirect(url_for(".detail", template_id=template_id), code=303)
        except editing.EditError as e:
            error = str(e)
    return render("admin/templates/item.html", 400 if error else 200, t=t, row=row, form=form,
                  error=error, labels=vt.FIELD_LABELS)


@bp.route("/<id:template_id>/copy", methods=["POST"])
@auth.require_role()
def copy(template_id: int):
    """Start from a model village's published list."""
    conn = get_db()
    t = _template(conn, template_id)
    code = request.form.get("village", "")
    if not jurisdictions.is_code(code) or not auth.can_reach(conn, user(), code):
        abort(404)
    try:
        added = vt.copy_from_village(conn, user(), template_id, code, remote())
    except editing.Denied:
        abort(403)
    except editing.EditError as e:
        return _detail_page(conn, t, 400, error=str(e))
    flash(f"已从{jurisdictions.get(conn, code)['name']}的清单复制 {added} 项到模板。")
    return redirect(url_for(".detail", template_id=template_id), code=303)


@bp.route("/<id:template_id>/send", methods=["POST"])
@auth.require_role()
def send(template_id: int):
    conn = get_db()
    t = _template(conn, template_id)
    if request.form.get("all"):
        codes = [v["code"] for v in vt.villages_under(conn, t["owner_code"])
                 if auth.can_reach(conn, user(), v["code"])]
    else:
        codes = [c for c in request.form.getlist("village") if jurisdictions.is_code(c)]
    try:
        result = vt.send(conn, user(), template_id, codes, remote())
    except editing.Denied:
        abort(403)
    except editing.EditError as e:
        return _detail_page(conn, t, 400, error=str(e))
    flash(result.summary() + "。各村的村务编辑补充后提交村务监督委员会审核。")
    return redirect(url_for(".detail", template_id=template_id), code=303)


@bp.route("/suggestions")
@auth.require_role()
def suggestion_list():
    conn = get_db()
    return render("admin/templates/suggestions.html",
                  suggestions=vt.suggestions(conn, _editable_villages(conn)))


@bp.route("/suggestions/<id:item_id>/<code:village_code>", methods=["POST"])
@auth.require_role()
def decide(item_id: int, village_code: str):
    conn = get_db()
    if not auth.allowed(conn, user(), "edit", village_code):
        abort(404 if not auth.allowed(conn, user(), "read", village_code) else 403)
    accept = request.form.get("decision") == "accept"
    try:
        done = vt.decide(conn, user(), item_id, village_code, accept, remote())
    except editing.EditError as e:
        flash(str(e), "error")
    else:
        flash(done)
    return redirect(url_for(".suggestion_list"), code=303)
