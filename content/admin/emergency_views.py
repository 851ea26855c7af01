"""紧急通知 in the admin: county admins and township editors set and clear board takeovers.

No review wait (an emergency cannot wait), but every step is a revision and an
audit entry; see content.emergency for who may do what.
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, request, url_for

from .. import auth, editing, emergency
from ..db import get_db
from . import bp, deny, remote, render, today, user
from .forms import LEVEL_LABELS


def _page(form: dict, errors: dict, status: int = 200):
    conn = get_db()
    u = user()
    return render("admin/emergency.html", status, form=form, errors=errors,
                  subjects=emergency.subjects(conn, u), items=emergency.live(conn, u, today()),
                  max_day=(today() + timedelta(days=emergency.MAX_DAYS)).isoformat(),
                  min_day=today().isoformat(), max_days=emergency.MAX_DAYS, level_labels=LEVEL_LABELS)


@bp.route("/emergency", methods=["GET", "POST"])
@auth.require_role(*emergency.ROLES)
def emergency_page():
    conn = get_db()
    u = user()
    if not emergency.may_set(conn, u):
        abort(403)
    if request.method == "GET":
        return _page({"subject_code": u["jurisdiction_code"],
                      "expires_on": (today() + timedelta(days=1)).isoformat()}, {})
    form = {k: request.form.get(k, "") for k in ("subject_code", "title", "body", "expires_on")}
    try:
        emergency.set_emergency(conn, u, form, today(), remote())
    except editing.Invalid as e:
        return _page(form, e.errors, 400)
    except editing.PrivacyBlocked as e:
        where = "；".join(f"{f.where}：{f.text}（应写作 {f.masked}）" for f in e.findings)
        return _page(form, {"": f"{e}。{where}"}, 400)
    except editing.Denied:
        abort(403)
    flash("紧急通知已发布，不需审核：本机的公示栏和查询机首页在一分钟内显示；村里的终端在下次同步后显示。")
    return redirect(url_for("admin.emergency_page"))


@bp.route("/notices/<id:obj_id>/clear-emergency", methods=["POST"])
@auth.require_role()
def emergency_clear(obj_id: int):
    conn = get_db()
    u = user()
    row = conn.execute("SELECT jurisdiction_code FROM notice WHERE id = ?", (obj_id,)).fetchone()
    if row is None:
        abort(404)
    deny(conn, u, "edit", row["jurisdiction_code"])
    try:
        emergency.clear(conn, u, obj_id, remote())
    except editing.Denied:
        abort(403)
    except editing.EditError as e:
        flash(str(e), "error")
        return redirect(url_for("admin.emergency_page"))
    flash("紧急通知已解除，公示栏恢复正常轮播。记录和历史版本仍保留。")
    return redirect(url_for("admin.emergency_page"))
