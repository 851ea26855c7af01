"""Staff sessions and the checks every staff view makes: who is signed in, what they may reach.

Deny by default: a view is reachable only through ``require_role``; every object
is then checked against the user's jurisdiction with ``can_reach``.
"""
from __future__ import annotations

import functools
import sqlite3

from flask import abort, g, redirect, request, session, url_for

from . import jurisdictions
from .db import get_db
from .users import verify_password

LOGIN_ENDPOINT = "admin.login"


def authenticate(conn: sqlite3.Connection, username: str, password: str) -> sqlite3.Row | None:
    row = conn.execute("SELECT * FROM user WHERE username = ? AND active = 1",
                       (username,)).fetchone()
    if row is None or not verify_password(row["password_hash"], password):
        return None
    return row


def login_user(user: sqlite3.Row) -> None:
    """Start a fresh session for the user (a new session at login defeats fixation)."""
    session.clear()
    session["user_id"] = user["id"]
    session.permanent = True


def logout_user() -> None:
    session.clear()


def current_user() -> sqlite3.Row | None:
    if "user" not in g:
        uid = session.get("user_id")
        g.user = (get_db().execute("SELECT * FROM user WHERE id = ? AND active = 1", (uid,)).fetchone()
                  if uid is not None else None)
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
            if roles and user["role"] not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def reachable_codes(conn: sqlite3.Connection, user: sqlite3.Row) -> set[str]:
    """The user's own jurisdiction and everything below it."""
    rows = conn.execute(
        """
        WITH RECURSIVE down(code) AS (
            SELECT ? UNION ALL
            SELECT j.code FROM jurisdiction j JOIN down ON j.parent_code = down.code
        ) SELECT code FROM down
        """, (user["jurisdiction_code"],)).fetchall()
    return {r[0] for r in rows}


def can_reach(conn: sqlite3.Connection, user: sqlite3.Row | None, code: str | None) -> bool:
    if user is None or not code:
        return False
    return code in reachable_codes(conn, user)


def user_level(user: sqlite3.Row) -> str | None:
    row = jurisdictions.get(get_db(), user["jurisdiction_code"])
    return row["level"] if row else None
