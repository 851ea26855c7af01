"""The go-live checklist page (/admin/golive) and its summary on the county administrator's dashboard."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, url_for

from .. import auth, editing, golive
from ..db import get_db, get_meta, set_meta
from . import admin_context, forbidden, not_found, remote, render, today, user

bp = Blueprint("golive", __name__, url_prefix="/admin/golive", template_folder="../templates")
bp.context_processor(admin_context)
bp.register_error_handler(403, forbidden)
bp.register_error_handler(404, not_found)


def public_url() -> str | None:
    """The hub's public address: the instance setting, else the one kept in the database."""
    return current_app.config.get("PUBLIC_URL") or get_meta(get_db(), "public_url") or None


def checks() -> list[golive.Check]:
    data_dir = current_app.config.get("DATA_DIR")
    return golive.checklist(get_db(), today=today(), data_dir=Path(data_dir) if data_dir else None,
                            role=current_app.config.get("ROLE", "standalone"), public=public_url())


@bp.app_template_global("golive_summary")
def golive_summary() -> dict:
    """For the dashboard: how many lines are done and the ones that are not."""
    lines = checks()
    return {"done": sum(c.done for c in lines), "total": len(lines),
            "open": [c for c in lines if not c.done]}


@bp.route("/")
@auth.require_role("county_admin")
def checklist():
    lines = checks()
    return render("admin/golive.html", checks=lines, done=sum(c.done for c in lines),
                  state_names=golive.STATE_NAMES, public_url=public_url(),
                  role=current_app.config.get("ROLE", "standalone"),
                  data_dir=current_app.config.get("DATA_DIR", ""))


@bp.route("/key-backed-up", methods=["POST"])
@auth.require_role("county_admin")
def key_backed_up():
    """The administrator confirms the signing key is kept offline (audited)."""
    conn = get_db()
    with editing.transaction(conn):
        stamp = editing.now_utc()
        set_meta(conn, "signing_key_backed_up_at", stamp)
        editing.audit(conn, user(), "key_backed_up", "signing_key", "signing.pem", None,
                      {"confirmed_at": stamp}, remote())
    flash("已记录：签名密钥已离线保存。密钥更换后需要重新备份。")
    return redirect(url_for(".checklist"), code=303)
