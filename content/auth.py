"""Staff sessions and the checks every staff view makes: who is signed in, what they may reach.

Deny by default: a view is reachable only through ``require_role``; every object
is then checked against the user's jurisdiction with ``can_reach``.
"""
from __future__ import annotations

import functools
import hashlib
import sqlite3

from flask import abort, g, has_app_context, redirect, request, session, url_for

from . import jurisdictions, staff_sessions
from .db import get_db, immediate
from .users import verify_password

LOGIN_ENDPOINT = "admin.login"
PASSWORD_ENDPOINT = "admin.password_change"
# What an account with a one-time password may reach before it sets its own.
ONE_TIME_ENDPOINTS = frozenset({PASSWORD_ENDPOINT, "admin.logout"})


def authenticate(conn: sqlite3.Connection, username: str, password: str) -> sqlite3.Row | None:
    row = conn.execute("SELECT * FROM user WHERE username = ? AND active = 1",
                       (username,)).fetchone()
    if row is None or not verify_password(row["password_hash"], password):
        return None
    return row


def login_user(user: sqlite3.Row) -> None:
    """Start a fresh session for the user (a new session at login defeats fixation), held
    server-side in ``staff_session`` so that ending it ends every copy of the cookie."""
    session.clear()
    session["user_id"] = user["id"]
    session["sid"] = staff_sessions.start(get_db(), user["id"], request.remote_addr or "")
    session["pw"] = password_fingerprint(user)
    session.permanent = True


def logout_user() -> None:
    conn = get_db()
    with immediate(conn):
        staff_sessions.end(conn, session.get("sid"), "logout")
    session.clear()


def current_user() -> sqlite3.Row | None:
    if "user" not in g:
        uid = session.get("user_id")
        g.user = (get_db().execute("SELECT * FROM user WHERE id = ? AND active = 1", (uid,)).fetchone()
                  if uid is not None else None)
        # A password change ends every session opened with the old password; logout,
        # a disabled account and "sign out everywhere" end the server-side row.
        if g.user is not None and (session.get("pw") != password_fingerprint(g.user)
                                   or not staff_sessions.is_open(get_db(), session.get("sid"), uid)):
            g.user = None
    return g.user


def require_role(*roles: str):
    """Decorator: the signed-in user must hold one of ``roles`` (any role if none given)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                try:
                    target = url_for(LOGIN_ENDPOINT, next=request.full_path)
                except Exception:  # noqa: BLE001  (admin blueprint not registered)
                    abort(401)
                return redirect(target)
            if user["must_change_password"] and request.endpoint not in ONE_TIME_ENDPOINTS:
                return redirect(url_for(PASSWORD_ENDPOINT))
            if roles and user["role"] not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def reachable_codes(conn: sqlite3.Connection, user: sqlite3.Row) -> set[str]:
    """The user's own jurisdiction and everything below it (computed once per request)."""
    cache = g.setdefault("reachable_codes", {}) if has_app_context() else {}
    if user["jurisdiction_code"] in cache:
        return cache[user["jurisdiction_code"]]
    rows = conn.execute(
        """
        WITH RECURSIVE down(code) AS (
            SELECT ? UNION ALL
            SELECT j.code FROM jurisdiction j JOIN down ON j.parent_code = down.code
        ) SELECT code FROM down
        """, (user["jurisdiction_code"],)).fetchall()
    cache[user["jurisdiction_code"]] = codes = frozenset(r[0] for r in rows)
    return codes


def can_reach(conn: sqlite3.Connection, user: sqlite3.Row | None, code: str | None) -> bool:
    if user is None or not code:
        return False
    return code in reachable_codes(conn, user)


def user_level(user: sqlite3.Row) -> str | None:
    row = jurisdictions.get(get_db(), user["jurisdiction_code"])
    return row["level"] if row else None


def password_fingerprint(user: sqlite3.Row) -> str:
    """A short digest of the stored hash, kept in the session so a new password ends old sessions."""
    return hashlib.sha256(user["password_hash"].encode()).hexdigest()[:16]


# What each role may do with content of each level inside its own jurisdiction.
# Anything not listed is refused (deny by default).  Village content is always
# reviewed by the village supervisory committee (村务监督委员会); county and
# township content by their reviewer role or by a county administrator, who may
# never approve what they wrote themselves (see content.editing).
POLICY: dict[str, dict[str, frozenset[str]]] = {
    "county_admin": {"county": frozenset({"read", "edit", "review"}),
                     "township": frozenset({"read", "edit", "review"}),
                     "village": frozenset({"read", "edit"})},
    "county_reviewer": {"county": frozenset({"read", "review"})},
    "township_editor": {"township": frozenset({"read", "edit"})},
    "township_reviewer": {"township": frozenset({"read", "review"})},
    "village_editor": {"village": frozenset({"read", "edit"})},
    "village_supervisor": {"village": frozenset({"read", "review"})},
}


def permitted_codes(conn: sqlite3.Connection, user: sqlite3.Row | None, action: str) -> list[str]:
    """Jurisdiction codes whose content ``user`` may ``action`` ('read', 'edit', 'review')."""
    if user is None:
        return []
    levels = [lvl for lvl, acts in POLICY.get(user["role"], {}).items() if action in acts]
    if not levels:
        return []
    reach = reachable_codes(conn, user)
    return sorted(c for c in jurisdictions.codes_at_levels(conn, levels) if c in reach)


def allowed(conn: sqlite3.Connection, user: sqlite3.Row | None, action: str, code: str | None) -> bool:
    """May ``user`` ``action`` content belonging to jurisdiction ``code``?"""
    if user is None or not code or not can_reach(conn, user, code):
        return False
    row = jurisdictions.get(conn, code)
    return row is not None and action in POLICY.get(user["role"], {}).get(row["level"], ())
