"""The hub's fleet page (/admin/fleet) and the terminal's freshness notice."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from jinja2 import TemplateNotFound

from content import display_proof
from content.auth import current_user, require_role
from content.db import get_db, get_meta, immediate

from . import bundle, remote_view, terminal
from .publish import last_published, newest_versions
from .screens import ACTIONS

bp = Blueprint("sync_admin", __name__, template_folder="templates", static_folder="static",
               static_url_path="/sync-static")

MISSED_INTERVALS = 3          # a terminal silent for this many of its intervals is offline


def _layout() -> str:
    """The admin layout when the admin is installed, else the kiosk's; htmx gets the fragment."""
    if current_app.htmx:   # flask-htmx, set up by the app factory
        return "_fragment.html"
    try:
        current_app.jinja_env.get_template("admin/base.html")
        return "admin/base.html"
    except TemplateNotFound:
        return "base.html"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "从未联系"
    if seconds < 90:
        return "刚刚"
    if seconds < 3600:
        return f"{int(seconds // 60)} 分钟前"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} 小时前"
    return f"{int(seconds // 86400)} 天前"


def _disk(free) -> str:
    if free is None:
        return "未知"
    gib = free / 1024 ** 3
    return f"{gib:.1f} GB" if gib >= 1 else f"{free / 1024 ** 2:.0f} MB"


def fleet_rows(conn, now: datetime | None = None) -> list[dict]:
    """Every enrolled terminal with its contact, version lag and health."""
    now = now or datetime.now(timezone.utc)
    newest = newest_versions(conn)
    rows = []
    for t in conn.execute(
            """SELECT t.*, j.name AS scope_name, j.level AS scope_level FROM sync_terminal t
               LEFT JOIN jurisdiction j ON j.code = t.scope ORDER BY t.scope, t.enrolled_at"""):
        seen = bundle.parse_iso(t["last_contact"]) if t["last_contact"] else None
        silence = (now - seen).total_seconds() if seen else None
        interval = max(int(t["interval"] or 300), 1)
        online = silence is not None and silence <= MISSED_INTERVALS * interval
        latest = newest.get(t["scope"])
        applied = t["applied_version"]
        lag = (latest - applied) if latest is not None and applied is not None else None
        rows.append({
            "id": t["id"], "short_id": t["id"][:12], "scope": t["scope"],
            "scope_name": t["scope_name"] or "（未知区划）", "active": bool(t["active"]),
            "last_contact": seen.astimezone().strftime("%Y-%m-%d %H:%M") if seen else None,
            "age": _age(silence), "online": online,
            "applied": applied, "newest": latest, "lag": lag,
            "app_version": t["app_version"] or "未知", "free_disk": _disk(t["free_disk"]),
            "low_disk": t["free_disk"] is not None and t["free_disk"] < 1024 ** 3,
            "last_error": t["last_error"], "outbox_pending": t["outbox_pending"],
            "remote_addr": t["remote_addr"], "label": t["label"],
        })
    rows.sort(key=lambda r: (r["online"], -(r["lag"] or 0), r["scope"]))
    return rows


@bp.route("/admin/fleet")
@require_role("county_admin")
def fleet():
    conn = get_db()
    rows = fleet_rows(conn)
    summary = {"total": len(rows), "online": sum(r["online"] for r in rows),
               "behind": sum(1 for r in rows if r["lag"]), "offline": sum(not r["online"] for r in rows)}
    published = last_published(conn)
    if published:
        published = bundle.parse_iso(published).astimezone().strftime("%Y-%m-%d %H:%M")
    layout = _layout()
    extra = {}
    if layout == "admin/base.html":
        try:
            from content.admin import admin_context  # noqa: PLC0415  (the admin's navigation)
            extra = admin_context()
        except ImportError:
            pass
    return render_template("sync/fleet.html", layout=layout, terminals=rows, summary=summary,
                           published=published, missed=MISSED_INTERVALS, boards=board_rows(conn),
                           screens=remote_view.latest(conn), waiting=remote_view.pending(conn),
                           actions=ACTIONS, **extra)


@bp.route("/admin/fleet/screens/<terminal_id>/<screen>.jpg")
@require_role("county_admin")
def screenshot(terminal_id: str, screen: str):
    row = get_db().execute("SELECT image, taken_at FROM terminal_screenshot WHERE terminal_id = ? AND screen = ?",
                           (terminal_id, screen)).fetchone()
    if row is None:
        abort(404)
    resp = Response(row["image"], mimetype="image/jpeg")
    resp.set_etag(bundle.sha256_hex(row["taken_at"].encode() + terminal_id.encode() + screen.encode()))
    resp.cache_control.private = True
    resp.cache_control.max_age = 0
    return resp


@bp.route("/admin/fleet/<terminal_id>/<any(screenshot, reload):action>", methods=["POST"])
@require_role("county_admin")
def send_command(terminal_id: str, action: str):
    conn = get_db()
    if conn.execute("SELECT 1 FROM sync_terminal WHERE id = ? AND active = 1", (terminal_id,)).fetchone() is None:
        abort(404)
    from content import editing  # noqa: PLC0415
    with immediate(conn):
        cid = remote_view.request_command(conn, terminal_id, action, current_user()["id"])
        editing.audit(conn, current_user(), f"terminal_{action}", "sync_terminal", terminal_id, None,
                      {"command": cid}, request.remote_addr or "")
    flash(f"已发出“{ACTIONS[action]}”指令：终端下次联系县级平台时执行（通常 5 分钟内）。")
    return redirect(url_for("sync_admin.fleet") + "#screens")


def board_rows(conn) -> list[dict]:
    """Each published board with its last confirmed render (what it reported showing)."""
    confirmed = display_proof.last_confirmed(conn)
    out = []
    for b in conn.execute("SELECT b.slug, b.name, b.location, j.name AS place FROM board b "
                          "JOIN jurisdiction j ON j.code = b.jurisdiction_code "
                          "WHERE b.status = 'published' ORDER BY b.jurisdiction_code, b.sort, b.id"):
        at = confirmed.get(b["slug"])
        out.append({**dict(b), "confirmed": at.astimezone(display_proof.CHINA).strftime("%Y-%m-%d %H:%M") if at else None})
    return out


def freshness_context() -> dict:
    """On terminals: how old the content is, for the staleness notice in every page."""
    if current_app.config.get("ROLE") != "terminal":
        return {}
    try:
        info = terminal.freshness(get_db(), float(current_app.config.get("STALE_HOURS", 72)))
    except Exception:                          # noqa: BLE001  (never break a page over this)
        return {}
    return {"sync_freshness": info, "sync_last_error": get_meta(get_db(), "sync_last_error")}
