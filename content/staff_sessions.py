"""Staff sessions kept on the server, so that ending one ends it everywhere.

Flask's session is a signed cookie: on its own, logging out only forgets the cookie in
*this* browser, and a copy taken earlier keeps working until it expires.  Each sign-in
therefore gets a row in ``staff_session`` (keyed by a digest of the random id the cookie
carries); ``content.auth.current_user`` accepts a cookie only while its row is open.
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3

from .db import immediate


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start(conn: sqlite3.Connection, user_id: int, remote: str = "") -> str:
    """Open a session for the user; returns the id for the cookie (committed at once)."""
    sid = secrets.token_urlsafe(24)
    with immediate(conn):
        conn.execute("INSERT INTO staff_session(id, user_id, remote) VALUES (?, ?, ?)",
                     (_digest(sid), user_id, remote[:64]))
    return sid


def is_open(conn: sqlite3.Connection, sid, user_id) -> bool:
    if not isinstance(sid, str) or not sid:
        return False
    return conn.execute("SELECT 1 FROM staff_session WHERE id = ? AND user_id = ? AND ended_at IS NULL",
                        (_digest(sid), user_id)).fetchone() is not None


def end(conn: sqlite3.Connection, sid, why: str = "logout") -> None:
    """End one session (no commit: call inside the caller's transaction)."""
    if isinstance(sid, str) and sid:
        conn.execute("UPDATE staff_session SET ended_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
                     "ended_why = ? WHERE id = ? AND ended_at IS NULL", (why, _digest(sid)))


def end_all(conn: sqlite3.Connection, user_id: int, why: str, keep_sid: str | None = None) -> int:
    """End every open session of a user (but ``keep_sid``); returns how many (no commit)."""
    keep = _digest(keep_sid) if keep_sid else ""
    return conn.execute(
        "UPDATE staff_session SET ended_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ended_why = ? "
        "WHERE user_id = ? AND ended_at IS NULL AND id != ?", (why, user_id, keep)).rowcount


def open_count(conn: sqlite3.Connection, user_id: int) -> int:
    return conn.execute("SELECT count(*) FROM staff_session WHERE user_id = ? AND ended_at IS NULL",
                        (user_id,)).fetchone()[0]
