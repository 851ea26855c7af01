"""Emergency takeovers (紧急通知): set and clear them from the admin without waiting for review.

There is no separate emergency message in the data model: a board (and the kiosk
home's banner) is taken over by any published notice of priority 紧急 whose subject
is the board's jurisdiction or a level above it, until its 有效期 ends
(``content.boards.emergency_notices``, ``display.schedule.emergencies``).  So an
emergency is scoped by its subject jurisdiction, and this module lets

* county administrators set one for the county or any township or village, and
* township editors set one for their township or a village in it,

publishing at once (``content.editing.publish_urgent``: revision plus an 'urgent'
audit entry) because an emergency cannot wait for review, and clearing it by
withdrawal (audited as usual).  Everyone else keeps the reviewed path: a 紧急
notice written in the ordinary notice editor goes through review like any other.
"""
from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from . import auth, editing, jurisdictions
from .notices import _BASE, _notice

ROLES = ("county_admin", "township_editor")
MAX_DAYS = 30          # an emergency is short; a longer one needs the reviewed path
TITLE_MAX = 60
BODY_MAX = 2000
CLEAR_REASON = "解除紧急通知"


def may_set(conn: sqlite3.Connection, user: sqlite3.Row | None) -> bool:
    """County admins and township editors, for their own jurisdiction (deny by default)."""
    return (user is not None and user["role"] in ROLES
            and auth.allowed(conn, user, "edit", user["jurisdiction_code"]))


def subjects(conn: sqlite3.Connection, user: sqlite3.Row) -> list[sqlite3.Row]:
    """The jurisdictions the user may take boards over for: their own and everything below."""
    if not may_set(conn, user):
        return []
    reach = sorted(auth.reachable_codes(conn, user))
    return conn.execute(
        f"SELECT code, name, level FROM jurisdiction WHERE code IN ({','.join('?' * len(reach))}) "
        "ORDER BY code", reach).fetchall()


def live(conn: sqlite3.Connection, user: sqlite3.Row, today: date) -> list[dict]:
    """Published 紧急 notices not yet ended that take over boards in the user's area: about a
    jurisdiction in their reach or above it (those from above are listed, not theirs to clear)."""
    above = [r["code"] for r in jurisdictions.ancestors(conn, user["jurisdiction_code"])]
    reach = sorted(set(auth.reachable_codes(conn, user)) | set(above))
    marks = ",".join("?" * len(reach)) or "NULL"
    rows = conn.execute(
        _BASE + f"""
        WHERE n.status = 'published' AND n.priority = '紧急' AND n.subject_code IN ({marks})
          AND (n.period_end IS NULL OR n.period_end >= ?) AND (n.expires_on IS NULL OR n.expires_on >= ?)
        ORDER BY n.published_at DESC, n.id DESC""", [*reach, today.isoformat(), today.isoformat()])
    out = []
    for r in rows:
        n = _notice(r)
        n["may_clear"] = may_clear(conn, user, n)
        out.append(n)
    return out


def may_clear(conn: sqlite3.Connection, user: sqlite3.Row | None, notice: dict | sqlite3.Row) -> bool:
    return (may_set(conn, user) and notice["priority"] == "紧急" and notice["status"] == "published"
            and auth.allowed(conn, user, "edit", notice["jurisdiction_code"]))


def check(conn: sqlite3.Connection, user: sqlite3.Row, form: dict, today: date) -> tuple[dict, dict]:
    """Form values → notice data and errors by field (Chinese)."""
    errors: dict[str, str] = {}
    title = (form.get("title") or "").strip()
    body = (form.get("body") or "").strip().replace("\r\n", "\n")
    subject = (form.get("subject_code") or "").strip()
    if not title:
        errors["title"] = "必填：屏幕上大字显示的标题"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"最多 {TITLE_MAX} 个字"
    if len(body) > BODY_MAX:
        errors["body"] = f"最多 {BODY_MAX} 个字"
    if subject not in {r["code"] for r in subjects(conn, user)}:
        errors["subject_code"] = "请从列表中选择本单位或下级区域"
    raw = (form.get("expires_on") or "").strip()
    expires = None
    try:
        expires = date.fromisoformat(raw) if raw else None
    except ValueError:
        errors["expires_on"] = "日期格式应为 年-月-日，例如 2025-03-01"
    if expires is None and "expires_on" not in errors:
        errors["expires_on"] = "必填：紧急通知到哪一天为止"
    elif expires is not None and expires < today:
        errors["expires_on"] = "截止日期不能早于今天"
    elif expires is not None and expires > today + timedelta(days=MAX_DAYS):
        errors["expires_on"] = f"紧急通知最长 {MAX_DAYS} 天；更长的请作为普通公告提交审核"
    data = {"jurisdiction_code": user["jurisdiction_code"], "subject_code": subject or None,
            "kind": "公告", "priority": "紧急", "title": title, "body": body,
            "expires_on": expires.isoformat() if expires else raw, "publisher": ""}
    return data, errors


def set_emergency(conn: sqlite3.Connection, user: sqlite3.Row, form: dict, today: date,
                  remote: str = "") -> int:
    """Publish an emergency at once. Raises editing.Invalid / PrivacyBlocked / Denied."""
    if not may_set(conn, user):
        raise editing.Denied("只有县级管理员和乡镇编辑可以发布紧急通知")
    data, errors = check(conn, user, form, today)
    if errors:
        raise editing.Invalid(errors)
    return editing.publish_urgent(conn, user, "notice", data, note="紧急通知，免审核立即发布",
                                  remote=remote)


def clear(conn: sqlite3.Connection, user: sqlite3.Row, notice_id: int, remote: str = "") -> None:
    """End an emergency now: the notice is withdrawn (kept, with its history)."""
    row = conn.execute("SELECT * FROM notice WHERE id = ?", (notice_id,)).fetchone()
    if row is None:
        raise editing.EditError("紧急通知不存在")
    if not may_clear(conn, user, row):
        raise editing.Denied("您不能解除这条紧急通知")
    editing.withdraw(conn, user, "notice", notice_id, CLEAR_REASON, remote)
