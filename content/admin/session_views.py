"""Sign in and out, the dashboard, the review queue and the audit log."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import redirect, request, url_for

from .. import auth, editing, jurisdictions, login_throttle
from ..db import get_db, get_meta
from ..security import LOGIN_LIMITS_BY_ADDRESS, failed_login, limiter
from ..users import DEFAULT_PASSWORDS, ROLES
from . import KIND_OF, KINDS, bp, paging, remote, render, user


def _safe_next(target: str | None) -> str:
    """Only go back to a page of this admin after login (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/admin/") \
                and not parts.path.startswith("/admin/login"):
            return target.rstrip("?")
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMITS_BY_ADDRESS, methods=["POST"], deduct_when=failed_login)
def login():
    conn = get_db()
    if request.method == "GET":
        return render("admin/login.html", next=request.args.get("next", ""))
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    wait = login_throttle.seconds_left(conn, username, remote())
    if wait:
        # Not even checked: the wait is what makes guessing slow.
        return render("admin/login.html", 429, username=username, next=request.form.get("next", ""),
                      error=f"这个账号从本机登录失败次数较多，请{login_throttle.wait_text(wait)}后再试"
                            "（其他电脑不受影响）；如忘记密码，请联系管理员。")
    found = auth.authenticate(conn, username, password) if username and password else None
    error = "用户名或密码不正确"
    if found is not None and password in DEFAULT_PASSWORDS and get_meta(conn, "demo") != "1":
        found, error = None, "默认密码只能在演示实例使用，请联系管理员用 kiosk user passwd 设置新密码"
    if found is None:
        with editing.transaction(conn):
            editing.audit(conn, None, "login_failed", "user", "", None, None, remote(),
                          username=username[:64])
        wait = login_throttle.failed(conn, username, remote()) if username else 0
        if wait:
            error += f"；请{login_throttle.wait_text(wait)}后再试"
        return render("admin/login.html", 401, error=error, username=username,
                      next=request.form.get("next", ""))
    login_throttle.succeeded(conn, username, remote())
    auth.login_user(found)
    with editing.transaction(conn):
        editing.audit(conn, found, "login", "user", found["id"], remote=remote())
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
@auth.require_role()
def logout():
    conn = get_db()
    with editing.transaction(conn):
        editing.audit(conn, user(), "logout", "user", user()["id"], remote=remote())
    auth.logout_user()
    return redirect(url_for("admin.login"))


def _in(codes) -> str:
    return ",".join("?" * len(codes)) or "NULL"


AUDIT_PAGE = 100


@bp.route("/audit")
@auth.require_role()
def audit_log():
    """Who did what, when, with before and after; filterable by user, noun, action and date."""
    conn = get_db()
    u = user()
    f = {k: (request.args.get(k) or "").strip() for k in
         ("username", "entity", "entity_id", "action", "since", "until")}
    where, params = [], []
    if f["username"]:
        where.append("a.username = ?")
        params.append(f["username"])
    if f["entity"]:
        where.append("a.entity = ?")
        params.append(KINDS.get(f["entity"], f["entity"]))
    if f["entity_id"]:
        where.append("a.entity_id = ?")
        params.append(f["entity_id"])
    if f["action"]:
        where.append("a.action = ?")
        params.append(f["action"])
    if f["since"]:
        where.append("a.at >= ?")
        params.append(f["since"])
    if f["until"]:
        where.append("a.at < date(?, '+1 day')")
        params.append(f["until"])
    # Staff see what happened inside their own reach: their own actions, changes to
    # objects of jurisdictions they may read, imports there and (county staff) accounts there.
    # Over the whole county (every code readable) the code lists are left out: each row then
    # needs only a look-up by key, and the (at, id) index gives the order.
    codes = auth.permitted_codes(conn, u, "read")
    everywhere = len(codes) >= jurisdictions.count(conn)
    marks = _in(codes)
    if everywhere:
        # Each row needs one look-up by revision's (entity, entity_id, rev) key (entity_id is
        # text in the log, an integer in revision: compared as integers so the key is used).
        objects = ("EXISTS (SELECT 1 FROM revision r WHERE r.entity = a.entity "
                   "AND r.entity_id = CAST(a.entity_id AS INTEGER))")
    else:
        # A township's or village's objects are few: list them and reach their rows through
        # the log's (entity, entity_id) index rather than walking the whole log by date.
        objects = (f"(a.entity, a.entity_id) IN (SELECT r.entity, CAST(r.entity_id AS TEXT) "
                   f"FROM revision r WHERE r.jurisdiction_code IN ({marks}))")
    scope = ["a.user_id = ?", objects,
             "(a.entity = 'jurisdiction'" + ("" if everywhere else f" AND a.entity_id IN ({marks})") + ")"]
    params += [u["id"], *([] if everywhere else codes), *([] if everywhere else codes)]
    if u["role"] in ("county_admin", "county_reviewer"):
        if everywhere:
            scope.append("a.entity = 'user'")
        else:
            scope.append(f"(a.entity = 'user' AND (a.user_id IS NULL OR a.user_id IN "
                         f"(SELECT id FROM user WHERE jurisdiction_code IN ({marks}))))")
            params += codes
    where.append("(" + " OR ".join(scope) + ")")
    page = paging.fetch(conn, "SELECT a.* FROM audit_log a", where, params, sort="a.at", sort_field="at",
                        id_column="a.id", size=AUDIT_PAGE)
    entries = []
    for r in page.rows:
        before = json.loads(r["before"]) if r["before"] else None
        after = json.loads(r["after"]) if r["after"] else None
        changed = []
        if isinstance(before, dict) and isinstance(after, dict):
            changed = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
        entries.append({"row": r, "before": before, "after": after, "changed": changed,
                        "kind": KIND_OF.get(r["entity"])})
    return render("admin/audit.html", entries=entries, f=f, page=page,
                  filters={k: v for k, v in f.items() if v}, actions=editing.ACTION_NAMES, roles=ROLES)
