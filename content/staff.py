"""Staff accounts managed in the admin: who may manage whom, one-time passwords, bulk import.

A county administrator manages every account. A township's staff manage the accounts
of their villages' editors and supervisors (the township knows its village cadres).
Accounts are disabled, never deleted, so the audit log keeps naming who did what.
Phones are personal data: kept for reaching the person about their account, shown
and logged only masked.
"""
from __future__ import annotations

import os
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import auth, editing, jurisdictions, users
from .db import immediate
from .privacy import is_mobile, mask_mobile
from .sheets import SheetError, find_header

VILLAGE_ROLES = ("village_editor", "village_supervisor")
TOWNSHIP_MANAGERS = ("township_editor", "township_reviewer")
MAX_BULK_ROWS = 5000
BULK_COLUMNS = {
    "name": ("姓名", "名字", "显示名称"),
    "phone": ("手机", "手机号", "手机号码", "联系电话", "电话"),
    "role": ("角色", "账号角色", "岗位"),
    "code": ("区划代码", "行政区划代码", "统计用区划代码", "代码"),
    "username": ("用户名", "登录名", "账号"),
}


class StaffError(ValueError):
    """Refused; the message is for staff (Chinese)."""


def may_manage_accounts(user) -> bool:
    return user is not None and (user["role"] == "county_admin" or user["role"] in TOWNSHIP_MANAGERS)


def manageable_roles(user) -> tuple[str, ...]:
    if user is None:
        return ()
    if user["role"] == "county_admin":
        return tuple(users.ROLES)
    if user["role"] in TOWNSHIP_MANAGERS:
        return VILLAGE_ROLES
    return ()


def manageable_places(conn: sqlite3.Connection, user) -> list[sqlite3.Row]:
    """Jurisdictions the user may attach accounts to, county first, villages under their township."""
    if user is None or not manageable_roles(user):
        return []
    reach = auth.reachable_codes(conn, user)
    levels = {users.ROLE_LEVEL[r] for r in manageable_roles(user)}
    rows = conn.execute(
        "SELECT j.*, COALESCE(p.sort, j.sort) AS tsort FROM jurisdiction j "
        "LEFT JOIN jurisdiction p ON p.code = j.parent_code AND j.level = 'village' "
        "WHERE j.retired_on IS NULL ORDER BY j.level != 'county', tsort, "
        "CASE WHEN j.level = 'village' THEN j.parent_code ELSE j.code END, j.level != 'township', "
        "j.sort, j.code").fetchall()
    return [r for r in rows if r["code"] in reach and r["level"] in levels]


def may_manage(conn: sqlite3.Connection, actor, role: str, code: str) -> bool:
    """May ``actor`` hold an account of ``role`` at ``code``?"""
    if role not in manageable_roles(actor):
        return False
    place = jurisdictions.get(conn, code)
    return (place is not None and place["level"] == users.ROLE_LEVEL[role]
            and auth.can_reach(conn, actor, code))


def listed(conn: sqlite3.Connection, actor, q: str = "", code: str = "",
           show_disabled: bool = False) -> list[dict]:
    """The accounts ``actor`` manages (masked phones), filtered."""
    rows = conn.execute(
        "SELECT u.*, j.name AS place, j.level, j.parent_code FROM user u "
        "JOIN jurisdiction j ON j.code = u.jurisdiction_code ORDER BY j.code, u.role, u.username"
    ).fetchall()
    out = []
    for r in rows:
        if not may_manage(conn, actor, r["role"], r["jurisdiction_code"]):
            continue
        if not show_disabled and not r["active"]:
            continue
        if code and code not in (r["jurisdiction_code"], r["parent_code"]):
            continue
        if q and q not in r["username"] and q not in r["display_name"] and q not in r["place"]:
            continue
        out.append(public_view(r))
    return out


def public_view(row) -> dict:
    data = {k: row[k] for k in row.keys() if k != "password_hash"}
    data["phone"] = mask_mobile(row["phone"]) if row["phone"] else ""
    return data


def get_managed(conn: sqlite3.Connection, actor, user_id: int) -> sqlite3.Row | None:
    row = conn.execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()
    if row is None or not may_manage(conn, actor, row["role"], row["jurisdiction_code"]):
        return None
    return row


def clean_phone(text: str) -> str:
    digits = re.sub(r"[\s\-－—]", "", text or "")
    if not digits:
        return ""
    if not is_mobile(digits):
        raise StaffError(f"手机号「{mask_mobile(digits)}」不是有效的11位手机号")
    return digits[-11:]


def _check(conn, actor, role: str | None, code: str, display_name: str) -> str:
    if role is None:
        raise StaffError("请选择角色")
    place = jurisdictions.get(conn, code)
    if place is None:
        raise StaffError(f"行政区划代码「{code}」不存在")
    if place["retired_on"] is not None:
        raise StaffError(f"「{place['name']}」已撤并停用，不能再添加账号")
    if place["level"] != users.ROLE_LEVEL[role]:
        names = {"county": "县", "township": "乡镇（街道）", "village": "村（社区）"}
        raise StaffError(f"{users.ROLES[role]}应属于{names[users.ROLE_LEVEL[role]]}，"
                         f"而「{place['name']}」是{names[place['level']]}")
    if not may_manage(conn, actor, role, code):
        raise StaffError(f"您不能为「{place['name']}」设置{users.ROLES[role]}账号")
    if not display_name.strip() or len(display_name) > 40:
        raise StaffError("姓名不能为空，最多40个字")
    return place["name"]


def username_for(conn: sqlite3.Connection, name: str, taken: set[str]) -> str:
    """A user name from the person's name in pinyin (张三 → zhangsan, then zhangsan2 …)."""
    from pypinyin import lazy_pinyin  # noqa: PLC0415
    base = re.sub(r"[^a-z0-9]", "", "".join(lazy_pinyin(name)).lower())[:24] or "staff"
    candidate, n = base, 1
    while candidate in taken or conn.execute("SELECT 1 FROM user WHERE username = ?",
                                             (candidate,)).fetchone():
        n += 1
        candidate = f"{base}{n}"
    taken.add(candidate)
    return candidate


def _audit_after(username, display_name, role, code, phone, active=1) -> dict:
    return {"username": username, "display_name": display_name, "role": role,
            "jurisdiction_code": code, "phone": mask_mobile(phone) if phone else "",
            "active": active}


def create(conn: sqlite3.Connection, actor, display_name: str, role: str | None, code: str,
           phone: str = "", username: str = "", remote: str = "") -> tuple[int, str, str]:
    """A new account with a one-time password: (id, username, password)."""
    display_name = display_name.strip()
    _check(conn, actor, role, code, display_name)
    phone = clean_phone(phone)
    if username:
        try:
            users.check_username(username)
        except ValueError as e:
            raise StaffError(str(e)) from e
        if conn.execute("SELECT 1 FROM user WHERE username = ?", (username,)).fetchone():
            raise StaffError(f"用户名「{username}」已被使用")
    else:
        username = username_for(conn, display_name, set())
    password = users.one_time_password()
    with immediate(conn):
        uid = users.create_user(conn, username, password, role, code, display_name,
                                must_change=True, phone=phone)
        editing.audit(conn, actor, "create", "user", uid, None,
                      _audit_after(username, display_name, role, code, phone), remote)
    return uid, username, password


def update(conn: sqlite3.Connection, actor, target, display_name: str, role: str | None, code: str,
           phone: str | None = None, remote: str = "") -> None:
    """Change name, role, jurisdiction (and phone when given) of a managed account."""
    display_name = display_name.strip()
    if actor is not None and target["id"] == actor["id"] and (role, code) != (
            target["role"], target["jurisdiction_code"]):
        raise StaffError("不能修改自己的角色或所属区划（请另一位管理员修改）")
    _check(conn, actor, role, code, display_name)
    new_phone = target["phone"] if phone is None or "*" in phone else clean_phone(phone)
    before = _audit_after(target["username"], target["display_name"], target["role"],
                          target["jurisdiction_code"], target["phone"], target["active"])
    with immediate(conn):
        conn.execute("UPDATE user SET display_name = ?, role = ?, jurisdiction_code = ?, phone = ? "
                     "WHERE id = ?", (display_name, role, code, new_phone, target["id"]))
        editing.audit(conn, actor, "update", "user", target["id"], before,
                      _audit_after(target["username"], display_name, role, code, new_phone,
                                   target["active"]), remote)


def reset_password(conn: sqlite3.Connection, actor, target, remote: str = "") -> str:
    """A new one-time password (changed at the next sign-in); the old one stops working."""
    password = users.one_time_password()
    with immediate(conn):
        users.set_password(conn, target["username"], password, one_time=True)
        editing.audit(conn, actor, "reset_password", "user", target["id"], remote=remote)
    return password


def set_active(conn: sqlite3.Connection, actor, target, active: bool, remote: str = "") -> None:
    if actor is not None and target["id"] == actor["id"] and not active:
        raise StaffError("不能停用自己的账号")
    with immediate(conn):
        conn.execute("UPDATE user SET active = ?, disabled_at = CASE WHEN ? THEN NULL "
                     "ELSE strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END WHERE id = ?",
                     (1 if active else 0, 1 if active else 0, target["id"]))
        editing.audit(conn, actor, "enable" if active else "disable", "user", target["id"],
                      {"active": target["active"]}, {"active": 1 if active else 0}, remote)


# --- bulk import ----------------------------------------------------------------

@dataclass
class NewAccount:
    line: int
    display_name: str
    phone: str
    role: str
    code: str
    username: str = ""
    password: str = ""
    place: str = ""
    township: str = ""
    township_code: str = ""
    hashed: str = ""


def parse_bulk(conn: sqlite3.Connection, actor, rows: list[list[str]]) -> list[NewAccount]:
    """Every row checked; SheetError lists every problem with its row number."""
    h, cols = find_header(rows, BULK_COLUMNS, ("name", "phone", "role", "code"))
    errors, out = [], []
    seen_user: dict[str, int] = {}
    seen_person: dict[tuple, int] = {}
    seen_phone: dict[str, int] = {}
    body = [(i, r) for i, r in enumerate(rows[h + 1:], start=h + 2) if any(c.strip() for c in r)]
    if len(body) > MAX_BULK_ROWS:
        raise SheetError([f"一次最多导入 {MAX_BULK_ROWS} 个账号，文件有 {len(body)} 行"])

    def cell(row, fld):
        j = cols.get(fld)
        return row[j].strip() if j is not None and j < len(row) else ""

    for i, row in body:
        where = f"第{i}行"
        name, role_text, code = cell(row, "name"), cell(row, "role"), cell(row, "code")
        code = code.lstrip("'").removesuffix(".0")
        role = users.normalise_role(role_text)
        if role is None:
            errors.append(f"{where}：角色「{role_text[:20]}」不认识（可填：{'、'.join(users.ROLES.values())}）")
            continue
        try:
            _check(conn, actor, role, code, name)
            phone = clean_phone(cell(row, "phone"))
        except StaffError as e:
            errors.append(f"{where}：{e}")
            continue
        username = cell(row, "username")
        if username:
            try:
                users.check_username(username)
            except ValueError as e:
                errors.append(f"{where}：{e}")
                continue
            if username in seen_user:
                errors.append(f"{where}：用户名「{username}」与第{seen_user[username]}行重复")
                continue
            if conn.execute("SELECT 1 FROM user WHERE username = ?", (username,)).fetchone():
                errors.append(f"{where}：用户名「{username}」已被使用")
                continue
            seen_user[username] = i
        person = (name, role, code)
        if person in seen_person:
            errors.append(f"{where}：与第{seen_person[person]}行是同一人同一岗位")
            continue
        seen_person[person] = i
        if phone and phone in seen_phone:
            errors.append(f"{where}：手机号 {mask_mobile(phone)} 与第{seen_phone[phone]}行相同")
            continue
        if phone:
            seen_phone[phone] = i
        existing = conn.execute("SELECT username FROM user WHERE display_name = ? AND role = ? "
                                "AND jurisdiction_code = ? AND active = 1", person).fetchone()
        if existing:
            errors.append(f"{where}：{name}已有{users.ROLES[role]}账号（{existing[0]}），请删去此行")
            continue
        out.append(NewAccount(i, name, phone, role, code, username))
    if not errors and not out:
        errors.append("文件中没有账号行")
    if errors:
        raise SheetError(errors)
    return out


def bulk_create(conn: sqlite3.Connection, actor, accounts: list[NewAccount],
                filename: str = "", remote: str = "") -> list[NewAccount]:
    """Create every account in one transaction; each gets a one-time password."""
    taken = {a.username for a in accounts if a.username}
    for a in accounts:
        a.password = users.one_time_password()
    # Hashing (~30 ms each) runs before the write lock, on every core (argon2 frees the GIL).
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for a, hashed in zip(accounts, pool.map(users.hash_one_time, [a.password for a in accounts])):
            a.hashed = hashed
    for a in accounts:
        if not a.username:
            a.username = username_for(conn, a.display_name, taken)
        place = jurisdictions.get(conn, a.code)
        town = place if place["level"] != "village" else jurisdictions.get(conn, place["parent_code"])
        a.place, a.township, a.township_code = place["name"], town["name"], town["code"]
    with immediate(conn):
        for a in accounts:
            uid = users.create_user(conn, a.username, a.password, a.role, a.code, a.display_name,
                                    must_change=True, phone=a.phone, hashed=a.hashed)
            editing.audit(conn, actor, "create", "user", uid, None,
                          _audit_after(a.username, a.display_name, a.role, a.code, a.phone), remote)
        editing.audit(conn, actor, "import", "user", "", None,
                      {"file": filename, "accounts": len(accounts)}, remote)
    return accounts


def by_township(accounts: list[NewAccount]) -> list[tuple[str, list[NewAccount]]]:
    """The print sheet's pages: one per township, its villages in code order."""
    groups: dict[str, tuple[str, list]] = {}
    for a in sorted(accounts, key=lambda a: (a.township_code, a.code, a.role, a.username)):
        groups.setdefault(a.township_code, (a.township, []))[1].append(a)
    return [groups[k] for k in sorted(groups)]
