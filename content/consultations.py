"""Public consultations (征求意见): open windows, anonymous opinions, the published result (采纳情况)."""
from __future__ import annotations

import json
import sqlite3
import uuid as uuidlib
from datetime import date

from . import outbox, privacy
from .db import immediate

MAX_OPINION = 2000


class Refused(ValueError):
    """An opinion that cannot be stored; the message is for the resident (Chinese)."""


def _in(codes) -> str:
    return ",".join("?" * len(codes)) or "NULL"


def state(c, today: date) -> str:
    """'upcoming' | 'open' | 'closed' on ``today`` (the closing day itself is still open)."""
    if today.isoformat() < c["opens_on"]:
        return "upcoming"
    if today.isoformat() <= c["closes_on"]:
        return "open"
    return "closed"


def _decorate(row, today: date) -> dict:
    c = dict(row)
    try:
        c["documents"] = json.loads(c.get("documents") or "[]")
    except ValueError:
        c["documents"] = []
    c["state"] = state(c, today)
    c["days_left"] = (date.fromisoformat(c["closes_on"]) - today).days if c["state"] == "open" else None
    return c


def list_consultations(conn: sqlite3.Connection, codes: list[str], today: date) -> dict:
    """Published consultations the instance shows: {'open': [...], 'closed': [...]} (upcoming hidden)."""
    rows = conn.execute(
        f"""SELECT c.*, j.name AS jurisdiction_name, d.name AS domain_name FROM consultation c
            JOIN jurisdiction j ON j.code = c.jurisdiction_code LEFT JOIN domain d ON d.id = c.domain_id
            WHERE c.status = 'published' AND c.jurisdiction_code IN ({_in(codes)})
            ORDER BY c.closes_on DESC, c.id DESC""", list(codes)).fetchall()
    out = {"open": [], "closed": []}
    for r in rows:
        c = _decorate(r, today)
        if c["state"] in out:
            out[c["state"]].append(c)
    out["open"].sort(key=lambda c: c["closes_on"])
    return out


def get(conn: sqlite3.Connection, consultation_id: int, codes: list[str] | None, today: date) -> dict | None:
    row = conn.execute(
        """SELECT c.*, j.name AS jurisdiction_name, d.name AS domain_name FROM consultation c
           JOIN jurisdiction j ON j.code = c.jurisdiction_code LEFT JOIN domain d ON d.id = c.domain_id
           WHERE c.id = ?""", (consultation_id,)).fetchone()
    if row is None or (codes is not None and row["jurisdiction_code"] not in codes):
        return None
    return _decorate(row, today)


def submit(conn: sqlite3.Connection, consultation_id: int, body: str, today: date,
           codes: list[str] | None = None, jurisdiction_code: str | None = None, enqueue=None) -> dict:
    """Store one opinion (personal numbers masked) with its outbox row; refused outside the window."""
    body = str(body or "").strip()
    if not body:
        raise Refused("请填写您的意见或建议")
    if len(body) > MAX_OPINION:
        raise Refused(f"意见请不超过{MAX_OPINION}个字")
    masked = privacy.mask_all(body)
    with immediate(conn):
        c = get(conn, consultation_id, codes, today)
        if c is None or c["status"] != "published":
            raise Refused("没有找到这项征求意见")
        if c["state"] == "upcoming":
            raise Refused(f"征求意见将于{c['opens_on']}开始，届时欢迎提出意见")
        if c["state"] == "closed":
            raise Refused(f"征求意见已于{c['closes_on']}截止，不再接收意见")
        record = outbox.store(conn, "consultation_response", {
            "uuid": str(uuidlib.uuid4()), "consultation_id": consultation_id, "body": masked,
            "jurisdiction_code": jurisdiction_code or c["jurisdiction_code"]}, enqueue)
    record["was_masked"] = masked != body
    return record


def check(data: dict, today: date | None = None) -> dict[str, str]:
    """The rules of a consultation revision (field → Chinese message): a window that
    closes after it opens, and a result (采纳情况) only once the window has closed."""
    errors = {}
    dates = {}
    for key in ("opens_on", "closes_on"):
        try:
            dates[key] = date.fromisoformat(str(data.get(key) or ""))
        except ValueError:
            errors[key] = "请填写日期（年-月-日）"
    if len(dates) == 2 and dates["closes_on"] < dates["opens_on"]:
        errors["closes_on"] = "截止日期不能早于开始日期"
    today = today or date.today()
    if (data.get("result_summary") or "").strip() and "closes_on" in dates and dates["closes_on"] >= today:
        errors["result_summary"] = f"征求意见截止（{dates['closes_on']}）后才能公布采纳情况"
    return errors


def responses(conn: sqlite3.Connection, consultation_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        """SELECT r.*, j.name AS jurisdiction_name FROM consultation_response r
           LEFT JOIN jurisdiction j ON j.code = r.jurisdiction_code
           WHERE r.consultation_id = ? ORDER BY r.created_at, r.uuid""", (consultation_id,)).fetchall()


def overview(conn: sqlite3.Connection, codes: list[str], today: date) -> list[dict]:
    """Every consultation staff may see with its opinion count (the admin list)."""
    rows = conn.execute(
        f"""SELECT c.*, j.name AS jurisdiction_name,
                   (SELECT count(*) FROM consultation_response r WHERE r.consultation_id = c.id) AS opinions
            FROM consultation c JOIN jurisdiction j ON j.code = c.jurisdiction_code
            WHERE c.jurisdiction_code IN ({_in(codes)}) ORDER BY c.closes_on DESC""", list(codes)).fetchall()
    return [_decorate(r, today) for r in rows]
