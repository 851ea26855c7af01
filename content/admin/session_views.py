"""Sign in and out, the dashboard, the review queue and the audit log."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import abort, redirect, request, url_for

from .. import auth, editing, jurisdictions, login_throttle
from ..db import get_db, get_meta
from ..security import LOGIN_LIMITS_BY_ADDRESS, failed_login, limiter
from ..users import DEFAULT_PASSWORDS, ROLES
from . import KIND_OF, KINDS, bp, remote, render, today, user


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


def describe(conn, rev) -> dict:
    """A revision row as a dashboard line: noun, object, title, state, who."""
    ent = editing.ENTITIES.get(rev["entity"])
    data = json.loads(rev["data"])
    author = conn.execute("SELECT username, display_name FROM user WHERE id = ?",
                          (rev["author_id"],)).fetchone()
    j = jurisdictions.get(conn, rev["jurisdiction_code"]) if rev["jurisdiction_code"] else None
    return {"kind": KIND_OF.get(rev["entity"]), "label": ent.label if ent else rev["entity"],
            "id": rev["entity_id"], "rev": rev["rev"], "title": editing.title_of(ent, data) if ent else "",
            "state": rev["state"], "note": rev["note"], "at": rev["submitted_at"] or rev["created_at"],
            "author": (author["display_name"] or author["username"]) if author else "",
            "author_id": rev["author_id"], "jurisdiction": j["name"] if j else ""}


def _in(codes) -> str:
    return ",".join("?" * len(codes)) or "NULL"


def pending_review(conn, u) -> list[dict]:
    codes = auth.permitted_codes(conn, u, "review")
    rows = conn.execute(
        f"SELECT * FROM revision WHERE state = 'submitted' AND jurisdiction_code IN ({_in(codes)}) "
        "ORDER BY submitted_at, id", codes).fetchall()
    return [describe(conn, r) for r in rows
            if r["entity"] in KIND_OF and editing.can_review(conn, u, r["entity"], r["entity_id"])]


def open_drafts(conn, u) -> list[dict]:
    codes = auth.permitted_codes(conn, u, "edit")
    rows = conn.execute(
        f"SELECT * FROM revision WHERE state IN ('draft', 'returned', 'submitted') "
        f"AND jurisdiction_code IN ({_in(codes)}) ORDER BY state = 'returned' DESC, created_at DESC",
        codes).fetchall()
    return [describe(conn, r) for r in rows if r["entity"] in KIND_OF]


def overdue(conn, u) -> list[dict]:
    """Published items whose review-by date has passed (定期评估、动态调整), for their editors."""
    codes = auth.permitted_codes(conn, u, "edit")
    d = today().isoformat()
    out = []
    for table, title in (("catalogue_item", "level1 || ' · ' || level2"), ("village_item", "title")):
        for r in conn.execute(
                f"SELECT id, {title} AS title, review_by, jurisdiction_code FROM {table} "
                f"WHERE status = 'published' AND review_by IS NOT NULL AND review_by < ? "
                f"AND jurisdiction_code IN ({_in(codes)}) ORDER BY review_by", [d, *codes]):
            out.append({"kind": KIND_OF[table], "label": editing.ENTITIES[table].label,
                        "id": r["id"], "title": r["title"], "review_by": r["review_by"]})
    return out


@bp.route("/")
@auth.require_role()
def dashboard():
    conn = get_db()
    u = user()
    chain = jurisdictions.ancestors(conn, u["jurisdiction_code"])
    powers = {a: auth.permitted_codes(conn, u, a) for a in ("read", "edit", "review")}
    return render("admin/dashboard.html", chain=chain, powers={a: len(c) for a, c in powers.items()},
                  pending=pending_review(conn, u), drafts=open_drafts(conn, u),
                  overdue=overdue(conn, u),
                  can_edit_kinds=[k for k in KINDS if _may_create(conn, u, k)])


def _may_create(conn, u, kind: str) -> bool:
    from .forms import ENTITY_LEVELS  # noqa: PLC0415
    table = KINDS[kind]
    if table == "matter":
        county = jurisdictions.county(conn)
        return bool(county) and auth.allowed(conn, u, "edit", county["code"])
    levels = ENTITY_LEVELS[table]
    return any(jurisdictions.get(conn, c)["level"] in levels
               for c in auth.permitted_codes(conn, u, "edit"))


@bp.route("/review")
@auth.require_role()
def review_queue():
    conn = get_db()
    return render("admin/review.html", pending=pending_review(conn, user()))


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
    codes = auth.permitted_codes(conn, u, "read")
    marks = _in(codes)
    scope = [f"a.user_id = ?",
             f"EXISTS (SELECT 1 FROM revision r WHERE r.entity = a.entity "
             f"AND CAST(r.entity_id AS TEXT) = a.entity_id AND r.jurisdiction_code IN ({marks}))",
             f"(a.entity = 'jurisdiction' AND a.entity_id IN ({marks}))"]
    params += [u["id"], *codes, *codes]
    if u["role"] in ("county_admin", "county_reviewer"):
        scope.append(f"(a.entity = 'user' AND (a.user_id IS NULL OR a.user_id IN "
                     f"(SELECT id FROM user WHERE jurisdiction_code IN ({marks}))))")
        params += codes
    where.append("(" + " OR ".join(scope) + ")")
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        abort(404)
    sql = "SELECT a.* FROM audit_log a" + (" WHERE " + " AND ".join(where) if where else "")
    rows = conn.execute(sql + " ORDER BY a.at DESC, a.id DESC LIMIT ? OFFSET ?",
                        [*params, AUDIT_PAGE + 1, (page - 1) * AUDIT_PAGE]).fetchall()
    entries = []
    for r in rows[:AUDIT_PAGE]:
        before = json.loads(r["before"]) if r["before"] else None
        after = json.loads(r["after"]) if r["after"] else None
        changed = []
        if isinstance(before, dict) and isinstance(after, dict):
            changed = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
        entries.append({"row": r, "before": before, "after": after, "changed": changed,
                        "kind": KIND_OF.get(r["entity"])})
    return render("admin/audit.html", entries=entries, f=f, page=page,
                  more=len(rows) > AUDIT_PAGE, actions=editing.ACTION_NAMES, roles=ROLES)
