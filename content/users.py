"""Staff accounts: password hashing (argon2) and lookup."""
from __future__ import annotations

import sqlite3

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = {
    "county_admin": "县级管理员",
    "township_editor": "乡镇编辑",
    "village_editor": "村务编辑",
    "village_supervisor": "村务监督委员会",
    "county_reviewer": "县级审核员",
    "township_reviewer": "乡镇审核员",
}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(conn: sqlite3.Connection, username: str, password: str, role: str,
                jurisdiction_code: str, display_name: str = "") -> int:
    if role not in ROLES:
        raise ValueError(f"未知角色：{role}")
    cur = conn.execute(
        "INSERT INTO user(username, password_hash, display_name, role, jurisdiction_code) "
        "VALUES (?, ?, ?, ?, ?)",
        (username, hash_password(password), display_name, role, jurisdiction_code))
    return cur.lastrowid


# The level of jurisdiction each role is attached to (checked when an account is made).
ROLE_LEVEL = {
    "county_admin": "county",
    "county_reviewer": "county",
    "township_editor": "township",
    "township_reviewer": "township",
    "village_editor": "village",
    "village_supervisor": "village",
}

# Passwords that are public knowledge: accepted only on the demo instance.
DEFAULT_PASSWORDS = frozenset({"demo-password"})
MIN_PASSWORD_LENGTH = 10


class WeakPassword(ValueError):
    """A password refused by the policy; the message is for the user (Chinese)."""


def check_password(password: str, username: str = "", demo: bool = False) -> None:
    """Refuse default, short or guessable passwords (zxcvbn score below 3)."""
    from zxcvbn import zxcvbn  # noqa: PLC0415  (slow to import; only account changes need it)
    if password in DEFAULT_PASSWORDS:
        if demo:
            return
        raise WeakPassword("不能使用演示实例的默认密码，请设置自己的密码")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if username and username.lower() in password.lower():
        raise WeakPassword("密码不能包含用户名")
    if zxcvbn(password[:100], user_inputs=[username, *DEFAULT_PASSWORDS])["score"] < 3:
        raise WeakPassword("密码太容易被猜到，请使用更长、不常见的组合（例如几个词加数字和符号）")


def set_password(conn: sqlite3.Connection, username: str, password: str) -> bool:
    """Change a password; False if there is no such user. Existing sessions end (see content.auth)."""
    cur = conn.execute(
        "UPDATE user SET password_hash = ?, password_changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
        "WHERE username = ?", (hash_password(password), username))
    return cur.rowcount == 1
