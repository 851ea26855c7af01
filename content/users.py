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
