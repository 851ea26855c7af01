"""「退出所有设备」: a staff member ends every session of their account (a lost phone, a
shared hall computer), including the one they are using."""
from __future__ import annotations

from flask import flash, redirect, session, url_for

from .. import auth, editing, staff_sessions
from ..db import get_db
from . import bp, remote, user


@bp.route("/sessions/end-all", methods=["POST"])
@auth.require_role()
def end_all_sessions():
    conn = get_db()
    me = user()
    with editing.transaction(conn):
        ended = staff_sessions.end_all(conn, me["id"], "everywhere")
        editing.audit(conn, me, "logout_everywhere", "user", me["id"], None, {"sessions": ended},
                      remote())
    session.clear()
    flash(f"已退出所有设备上的登录（共 {ended} 处），请重新登录。")
    return redirect(url_for("admin.login"))
