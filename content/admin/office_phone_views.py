"""Published office numbers (公开办公电话): list, mark and unmark, each audited."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from .. import auth, editing, office_phones
from ..db import get_db
from . import bp, remote, render, user


def _back(default: str):
    target = request.form.get("next") or ""
    return redirect(target if target.startswith("/admin/") and "//" not in target else default, code=303)


@bp.route("/office-phones", methods=["GET"])
@auth.require_role()
def office_phone_list():
    conn = get_db()
    codes = auth.permitted_codes(conn, user(), "read")
    editable = auth.permitted_codes(conn, user(), "edit")
    names = {r["code"]: r["name"] for r in conn.execute(
        f"SELECT code, name FROM jurisdiction WHERE code IN ({','.join('?' * len(editable)) or 'NULL'}) "
        "ORDER BY code", editable)}
    return render("admin/office_phones.html", phones=office_phones.listing(conn, codes),
                  editable=names, editable_codes=set(editable))


@bp.route("/office-phones/add", methods=["POST"])
@auth.require_role()
def office_phone_add():
    conn = get_db()
    code = request.form.get("jurisdiction_code", "")
    if not auth.allowed(conn, user(), "read", code):
        abort(404)
    try:
        office_phones.add(conn, user(), code, request.form.get("number", ""),
                          request.form.get("label", ""), remote())
    except editing.Denied:
        abort(403)
    except office_phones.Refused as e:
        flash(str(e), "error")
        return _back(url_for("admin.office_phone_list"))
    flash("已登记为公开办公电话，隐私检查不再拦截这个号码。")
    return _back(url_for("admin.office_phone_list"))


@bp.route("/office-phones/<int:phone_id>/remove", methods=["POST"])
@auth.require_role()
def office_phone_remove(phone_id: int):
    conn = get_db()
    row = conn.execute("SELECT jurisdiction_code FROM office_phone WHERE id = ?", (phone_id,)).fetchone()
    if row is None or not auth.allowed(conn, user(), "read", row["jurisdiction_code"]):
        abort(404)
    try:
        office_phones.remove(conn, user(), phone_id, remote())
    except editing.Denied:
        abort(403)
    except office_phones.Refused as e:
        flash(str(e), "error")
    else:
        flash("已取消登记。")
    return redirect(url_for("admin.office_phone_list"), code=303)
