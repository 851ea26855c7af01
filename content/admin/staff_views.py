"""Staff accounts (/admin/users): create, change, reset, disable, bulk import; one's own password.

County administrators manage every account; a township's staff manage their villages'
editors and supervisors. One-time passwords are shown once, on the page that made them
(a print-ready sheet per township for a bulk import), and never stored in clear.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from .. import auth, editing, staff, users
from ..db import get_db, get_meta
from ..sheets import SheetError, read_rows
from . import bp, remote, render, user


def _manager():
    u = user()
    if not staff.may_manage_accounts(u):
        abort(403)
    return u


def _form_context(conn, u, **extra):
    return {"roles": {r: users.ROLES[r] for r in staff.manageable_roles(u)},
            "places": staff.manageable_places(conn, u), **extra}


@bp.route("/users")
@auth.require_role()
def users_list():
    conn = get_db()
    u = _manager()
    q = (request.args.get("q") or "").strip()[:40]
    code = (request.args.get("jurisdiction") or "").strip()[:12]
    show_disabled = request.args.get("disabled") == "1"
    rows = staff.listed(conn, u, q, code, show_disabled)
    return render("admin/users/list.html", accounts=rows, q=q, code=code,
                  show_disabled=show_disabled, **_form_context(conn, u))


@bp.route("/users/new", methods=["GET", "POST"])
@auth.require_role()
def users_new():
    conn = get_db()
    u = _manager()
    if request.method == "GET":
        return render("admin/users/new.html", form={}, **_form_context(conn, u))
    form = {k: (request.form.get(k) or "").strip() for k in
            ("display_name", "role", "jurisdiction", "phone", "username")}
    try:
        uid, username, password = staff.create(
            conn, u, form["display_name"], users.normalise_role(form["role"]), form["jurisdiction"],
            form["phone"], form["username"], remote())
    except staff.StaffError as e:
        return render("admin/users/new.html", 400, form=form, error=str(e), **_form_context(conn, u))
    return render("admin/users/password.html", account=staff.get_managed(conn, u, uid),
                  password=password, made="created")


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@auth.require_role()
def users_edit(user_id: int):
    conn = get_db()
    u = _manager()
    target = staff.get_managed(conn, u, user_id) or abort(404)
    if request.method == "GET":
        return render("admin/users/edit.html", account=staff.public_view(target),
                      **_form_context(conn, u))
    try:
        staff.update(conn, u, target, request.form.get("display_name") or "",
                     users.normalise_role(request.form.get("role") or ""),
                     (request.form.get("jurisdiction") or "").strip(),
                     request.form.get("phone"), remote())
    except staff.StaffError as e:
        return render("admin/users/edit.html", 400, account=staff.public_view(target), error=str(e),
                      **_form_context(conn, u))
    flash(f"已保存账号 {target['username']} 的修改")
    return redirect(url_for("admin.users_list"))


@bp.route("/users/<id:user_id>/reset", methods=["POST"])
@auth.require_role()
def users_reset(user_id: int):
    conn = get_db()
    u = _manager()
    target = staff.get_managed(conn, u, user_id) or abort(404)
    password = staff.reset_password(conn, u, target, remote())
    return render("admin/users/password.html", account=staff.get_managed(conn, u, user_id),
                  password=password, made="reset")


@bp.route("/users/<id:user_id>/active", methods=["POST"])
@auth.require_role()
def users_active(user_id: int):
    conn = get_db()
    u = _manager()
    target = staff.get_managed(conn, u, user_id) or abort(404)
    active = request.form.get("active") == "1"
    try:
        staff.set_active(conn, u, target, active, remote())
    except staff.StaffError as e:
        flash(str(e), "error")
        return redirect(url_for("admin.users_edit", user_id=user_id))
    flash(f"已{'启用' if active else '停用'}账号 {target['username']}")
    return redirect(url_for("admin.users_list"))


@bp.route("/users/import", methods=["GET", "POST"])
@auth.require_role()
def users_import():
    """Bulk accounts from 姓名/手机/角色/区划代码; the answer is the print sheet of passwords."""
    conn = get_db()
    u = _manager()
    if request.method == "GET":
        return render("admin/users/import.html", **_form_context(conn, u))
    f = request.files.get("file")
    if f is None or not f.filename:
        return render("admin/users/import.html", 400, errors=["请选择要导入的 .xlsx 或 .csv 文件"],
                      **_form_context(conn, u))
    try:
        rows = read_rows(f.read(), f.filename)
        accounts = staff.parse_bulk(conn, u, rows)
    except SheetError as e:
        return render("admin/users/import.html", 400, errors=e.errors, filename=f.filename,
                      **_form_context(conn, u))
    created = staff.bulk_create(conn, u, accounts, f.filename, remote())
    return render("admin/users/sheet.html", groups=staff.by_township(created), count=len(created),
                  login_url=_login_url(conn))


def _login_url(conn) -> str:
    from ..public_url import public_base  # noqa: PLC0415
    return (public_base() or request.host_url.rstrip("/")) + url_for("admin.login")


@bp.route("/password", methods=["GET", "POST"])
@auth.require_role()
def password_change():
    """Set one's own password; required after a one-time password before anything else."""
    conn = get_db()
    u = user()
    forced = bool(u["must_change_password"])
    if request.method == "GET":
        return render("admin/users/change.html", forced=forced)
    current = request.form.get("current") or ""
    new, again = request.form.get("new") or "", request.form.get("again") or ""
    error = None
    if not users.verify_password(u["password_hash"], current):
        error = "当前密码不正确" + ("（即发给您的一次性密码）" if forced else "")
    elif new != again:
        error = "两次输入的新密码不一致"
    elif new == current:
        error = "新密码不能与原密码相同"
    else:
        try:
            users.check_password(new, u["username"], demo=get_meta(conn, "demo") == "1")
        except users.WeakPassword as e:
            error = str(e)
    if error:
        return render("admin/users/change.html", 400, forced=forced, error=error)
    with editing.transaction(conn):
        users.set_password(conn, u["username"], new)
        editing.audit(conn, u, "passwd", "user", u["id"], remote=remote())
    # The new hash ends every other session; this one goes on with the new password.
    auth.login_user(conn.execute("SELECT * FROM user WHERE id = ?", (u["id"],)).fetchone())
    flash("密码已设置。以后请用新密码登录。")
    return redirect(url_for("admin.dashboard"))
