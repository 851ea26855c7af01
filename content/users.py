"""Staff accounts: password hashing (argon2) and lookup."""
from __future__ import annotations

import secrets
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
# One-time passwords are random (~59 bits), so a light argon2 cost is as safe for them as
# the full cost is for chosen ones, and a bulk import of 800 accounts takes seconds, not
# ten minutes. The cost is stored in each hash; the chosen password gets the full cost.
_one_time_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_one_time(password: str) -> str:
    return _one_time_hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(conn: sqlite3.Connection, username: str, password: str, role: str,
                jurisdiction_code: str, display_name: str = "", must_change: bool = False,
                phone: str = "", hashed: str | None = None) -> int:
    """Insert an account; ``must_change`` marks a one-time password (changed at first sign-in);
    ``hashed``: its hash made beforehand (outside the write transaction)."""
    if role not in ROLES:
        raise ValueError(f"未知角色：{role}")
    columns = ["username", "password_hash", "display_name", "role", "jurisdiction_code"]
    if hashed is None:
        hashed = hash_one_time(password) if must_change else hash_password(password)
    values = [username, hashed, display_name, role, jurisdiction_code]
    if must_change or phone:   # columns of migration 0014; plain accounts work without them
        columns += ["must_change_password", "phone"]
        values += [1 if must_change else 0, phone]
    cur = conn.execute(f"INSERT INTO user({', '.join(columns)}) VALUES ({', '.join('?' * len(values))})",
                       values)
    return cur.lastrowid


# Letters and digits nobody confuses on a printed sheet (no 0/O, 1/l/I).
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def one_time_password() -> str:
    """A password to hand over once (printed or read out): three groups of four, ~59 bits."""
    return "-".join("".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(3))


def check_username(username: str) -> str:
    """Refuse empty, spaced or over-long user names (Chinese message)."""
    if not username or not username.strip() or len(username) > 64 \
            or any(ch.isspace() for ch in username):
        raise ValueError("用户名不能为空、不能含空格，最多64个字符")
    return username


# Every way a role is written: the code, its hyphen spelling, its Chinese name and a few
# names counties use in their spreadsheets.
_ROLE_ALIASES = {
    "村务监督委员会成员": "village_supervisor", "村务监督": "village_supervisor",
    "村监委会": "village_supervisor", "监委会": "village_supervisor",
    "村务监督员": "village_supervisor", "村编辑": "village_editor",
    "村务公开编辑": "village_editor", "村务公开员": "village_editor",
    "乡镇管理员": "township_editor", "县管理员": "county_admin",
}


def normalise_role(text: str) -> str | None:
    """The role code for ``text`` (village-editor, village_editor, 村务编辑 …), or None."""
    word = (text or "").strip()
    if word.replace("-", "_") in ROLES:
        return word.replace("-", "_")
    for code, name in ROLES.items():
        if word == name:
            return code
    return _ROLE_ALIASES.get(word)


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


def set_password(conn: sqlite3.Connection, username: str, password: str,
                 one_time: bool = False) -> bool:
    """Change a password; False if there is no such user. Existing sessions end (see content.auth).

    ``one_time``: the password was handed over by someone else and must be changed at the
    next sign-in; otherwise the user chose it and the one-time mark is cleared."""
    hashed = hash_one_time(password) if one_time else hash_password(password)
    cur = conn.execute(
        "UPDATE user SET password_hash = ?, password_changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
        "must_change_password = ? WHERE username = ?", (hashed, 1 if one_time else 0, username))
    return cur.rowcount == 1
