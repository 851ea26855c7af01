"""Helpers for admin tests: CSRF-aware login and extra accounts."""
from __future__ import annotations

import re

from content import users

PASSWORD = "Test-password-for-staff-9"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(client, url: str = "/admin/login") -> str:
    html = client.get(url).get_data(as_text=True)
    m = TOKEN.search(html)
    assert m, f"no CSRF token on {url}"
    return m.group(1)


def login(client, username: str, password: str = "demo-password"):
    """Sign in through the form; returns the CSRF token of the new session."""
    r = client.post("/admin/login", data={"username": username, "password": password,
                                          "csrf_token": token(client)})
    assert r.status_code == 302, (username, r.status_code, r.get_data(as_text=True)[:500])
    return token(client, "/admin/")


_HASH: list[str] = []


def add_user(conn, username: str, role: str, code: str) -> int:
    """An account with PASSWORD; argon2 is slow on purpose, so the hash is made once."""
    if not _HASH:
        _HASH.append(users.hash_password(PASSWORD))
    return conn.execute(
        "INSERT INTO user(username, password_hash, display_name, role, jurisdiction_code) "
        "VALUES (?, ?, ?, ?, ?)", (username, _HASH[0], username, role, code)).lastrowid


def user_row(conn, username: str):
    return conn.execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
