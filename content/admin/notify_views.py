"""消息提醒 in the admin: where notifications go (a person's e-mail or robot, a jurisdiction's
group chat), the county's mail server, a test button, and what was sent lately."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from .. import auth, editing, jurisdictions, notifications, notify_senders
from ..db import get_db, immediate, set_meta
from . import bp, remote, render, user

GROUP_ROLES = ("county_admin", "township_editor", "township_reviewer")
SMTP_SECURITY = {"starttls": "STARTTLS（端口 587，推荐）", "ssl": "SSL/TLS（端口 465）",
                 "none": "不加密（仅限本机或内网中继）"}


def _group_places(conn, u) -> list:
    """Jurisdictions whose group channel this user may set: a county admin any, township
    staff their township and its villages."""
    if u["role"] == "county_admin":
        return list(conn.execute(
            "SELECT * FROM jurisdiction WHERE level IN ('county', 'township') ORDER BY code"))
    if u["role"] not in GROUP_ROLES:
        return []
    own = jurisdictions.get(conn, u["jurisdiction_code"])
    return [own] + list(conn.execute("SELECT * FROM jurisdiction WHERE parent_code = ? ORDER BY code",
                                     (u["jurisdiction_code"],)))


def _visible_channels(conn, u):
    rows = conn.execute(
        "SELECT c.*, j.name AS jurisdiction_name, p.username AS owner FROM notify_channel c "
        "LEFT JOIN jurisdiction j ON j.code = c.jurisdiction_code LEFT JOIN user p ON p.id = c.user_id "
        "WHERE c.active = 1 ORDER BY c.id").fetchall()
    return [r for r in rows if r["user_id"] == u["id"]
            or (r["jurisdiction_code"] and u["role"] in GROUP_ROLES
                and auth.can_reach(conn, u, r["jurisdiction_code"]))]


def _page(form=None, errors=None, status=200):
    conn = get_db()
    u = user()
    codes = None if u["role"] == "county_admin" else sorted(auth.reachable_codes(conn, u))
    return render("admin/notifications.html", status, channels=_visible_channels(conn, u),
                  places=_group_places(conn, u), events={k: v for k, v in notifications.EVENTS.items() if k != "test"},
                  kinds=notify_senders.KINDS, form=form or {"kind": "email", "scope": "me", "events": []},
                  errors=errors or {}, smtp=notifications.smtp_settings(conn) if u["role"] == "county_admin" else None,
                  smtp_security=SMTP_SECURITY, recent=notifications.recent(conn, codes, 30))


@bp.route("/notifications")
@auth.require_role()
def notifications_page():
    return _page()


def _channel_form() -> tuple[dict, dict]:
    form = {"kind": request.form.get("kind", ""), "target": request.form.get("target", "").strip(),
            "secret": request.form.get("secret", "").strip(), "label": request.form.get("label", "").strip(),
            "scope": request.form.get("scope", "me"), "events": request.form.getlist("events"),
            "digest": request.form.get("digest") == "1"}
    errors = {}
    problem = notify_senders.check_target(form["kind"], form["target"])
    if problem:
        errors["target"] = problem
    if len(form["label"]) > 40:
        errors["label"] = "名称最多 40 个字"
    if len(form["secret"]) > 200:
        errors["secret"] = "密钥过长"
    unknown = [e for e in form["events"] if e not in notifications.EVENTS or e == "test"]
    if unknown:
        errors["events"] = "请从列表中选择提醒事项"
    return form, errors


@bp.route("/notifications/channels", methods=["POST"])
@auth.require_role()
def notify_channel_add():
    conn = get_db()
    u = user()
    form, errors = _channel_form()
    scope = None
    if form["scope"] != "me":
        allowed = {j["code"] for j in _group_places(conn, u)}
        if form["scope"] not in allowed:
            errors["scope"] = "您不能为这个区域设置群提醒"
        scope = form["scope"]
    if errors:
        return _page(form, errors, 400)
    with immediate(conn):
        cur = conn.execute(
            "INSERT INTO notify_channel(kind, target, secret, label, user_id, jurisdiction_code, events, digest, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (form["kind"], form["target"], form["secret"], form["label"], None if scope else u["id"], scope,
             " ".join(form["events"]) or "*", int(form["digest"]), u["id"]))
        editing.audit(conn, u, "notify_channel_add", "notify_channel", cur.lastrowid, None,
                      {"kind": form["kind"], "label": form["label"], "jurisdiction_code": scope,
                       "events": form["events"] or ["*"], "digest": form["digest"]}, remote())
    flash("已添加提醒方式。可点“发送测试消息”确认能收到。")
    return redirect(url_for("admin.notifications_page"))


def _own_channel(conn, u, channel_id: int):
    row = conn.execute("SELECT * FROM notify_channel WHERE id = ? AND active = 1", (channel_id,)).fetchone()
    if row is None or row["id"] not in {c["id"] for c in _visible_channels(conn, u)}:
        abort(404)
    return row


@bp.route("/notifications/channels/<id:channel_id>/test", methods=["POST"])
@auth.require_role()
def notify_channel_test(channel_id: int):
    conn = get_db()
    u = user()
    channel = _own_channel(conn, u, channel_id)
    send = notify_senders.sender_for(notifications.smtp_settings(conn))
    try:
        send(channel, notifications.Message("测试消息：政务公开平台提醒",
                                            f"这是 {u['display_name'] or u['username']} 发送的测试消息，收到说明提醒设置正确。"))
    except notify_senders.SendError as e:
        flash(f"测试消息没有发出：{e}", "error")
    else:
        flash("测试消息已发出，请到邮箱或群里查看。")
    return redirect(url_for("admin.notifications_page"))


@bp.route("/notifications/channels/<id:channel_id>/remove", methods=["POST"])
@auth.require_role()
def notify_channel_remove(channel_id: int):
    conn = get_db()
    u = user()
    channel = _own_channel(conn, u, channel_id)
    with immediate(conn):
        conn.execute("UPDATE notify_channel SET active = 0 WHERE id = ?", (channel["id"],))
        editing.audit(conn, u, "notify_channel_remove", "notify_channel", channel["id"],
                      {"kind": channel["kind"], "label": channel["label"]}, None, remote())
    flash("已停用这个提醒方式。")
    return redirect(url_for("admin.notifications_page"))


@bp.route("/notifications/smtp", methods=["POST"])
@auth.require_role("county_admin")
def notify_smtp():
    conn = get_db()
    u = user()
    form = {k: request.form.get(k, "").strip() for k in ("host", "port", "security", "user", "sender")}
    password = request.form.get("password", "")
    errors = {}
    if form["security"] not in SMTP_SECURITY:
        errors["security"] = "请选择加密方式"
    if form["port"] and not (form["port"].isdigit() and 0 < int(form["port"]) < 65536):
        errors["port"] = "端口应为 1–65535 的数字"
    if form["sender"] and notify_senders.check_target("email", form["sender"]):
        errors["sender"] = "发件人地址格式不正确"
    if errors:
        flash("发信服务器设置没有保存：" + "；".join(errors.values()), "error")
        return redirect(url_for("admin.notifications_page"))
    with immediate(conn):
        for key, value in form.items():
            set_meta(conn, f"notify_smtp_{key}", value)
        if password:                      # blank keeps the stored one
            set_meta(conn, "notify_smtp_password", password)
        editing.audit(conn, u, "notify_smtp", "meta", "notify_smtp", None,
                      {**form, "password": "（已更改）" if password else "（未更改）"}, remote())
    flash("发信服务器设置已保存。")
    return redirect(url_for("admin.notifications_page"))
