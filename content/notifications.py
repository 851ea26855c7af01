"""The notification queue: events become notifications (stored once by key), routed to the
channels that want them, and delivered with retries until sent.

Routing: a person's own channel gets a notification addressed to them, and also one that
names nobody in particular (a terminal went dark) when it concerns a place they can reach;
a jurisdiction's channel (a township's group chat) gets everything within that jurisdiction.
Each channel takes all events or the ones it lists, at once or as one daily digest.
Messages carry no personal data: receipt numbers, places and titles, never names or numbers
of residents.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from . import auth, jurisdictions
from .db import get_meta, immediate

# Event name → what people see when choosing (the admin's checkboxes).
EVENTS = {
    "review_submitted": "有待我审核的稿件",
    "review_returned": "我的稿件被退回",
    "review_approved": "我的稿件已通过审核",
    "application_due": "依申请公开：3 个工作日内到期",
    "application_overdue": "依申请公开：已超期",
    "question_received": "新的公示异议、村务质询或办事咨询",
    "question_due": "异议和提问：3 日内到期",
    "question_overdue": "异议和提问：已超期未答复",
    "disclosure_due": "应公开未公开（到期未发布）",
    "alignment_inconsistent": "县乡村对照出现不一致",
    "terminal_silent": "终端或公示栏长时间没有联系",
    "sync_failing": "终端同步失败",
    "emergency_published": "紧急通知发布",
    "emergency_ended": "紧急通知解除",
    "coverage_short": "公示期内屏幕显示不足",
    "holidays_missing": "下一年节假日安排尚未录入",
    "test": "测试消息",
}
MAX_ATTEMPTS = 72                 # with the delays below: about three days of trying
DIGEST_HOUR = 8                   # the daily digest goes after 08:00 China time
CHINA = timezone(timedelta(hours=8), "CST")   # one zone, no summer time: whatever the server's clock zone


@dataclass
class Message:
    title: str
    body: str
    link: str = ""


def _utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _wants(channel: sqlite3.Row, event: str) -> bool:
    return event == "test" or channel["events"].strip() == "*" or event in channel["events"].split()


def _channels_for(conn: sqlite3.Connection, event: str, code: str | None, recipients: list[int]):
    """The active channels that should carry this notification."""
    chain = {r["code"] for r in jurisdictions.ancestors(conn, code)} if code else set()
    out = []
    for ch in conn.execute("SELECT * FROM notify_channel WHERE active = 1 ORDER BY id"):
        if not _wants(ch, event):
            continue
        if ch["jurisdiction_code"] is not None:
            if ch["jurisdiction_code"] in chain:
                out.append(ch)
            continue
        if ch["user_id"] in recipients:
            out.append(ch)
        elif not recipients and code is not None:
            person = conn.execute("SELECT * FROM user WHERE id = ? AND active = 1",
                                  (ch["user_id"],)).fetchone()
            if person is not None and auth.can_reach(conn, person, code):
                out.append(ch)
    return out


def raise_event(conn: sqlite3.Connection, event: str, key: str, code: str | None,
                message: Message, recipients: list[int] | None = None,
                now: datetime | None = None) -> int | None:
    """Queue a notification once per ``key``; return its id, or None when it was already raised.
    The caller holds the transaction (or none: then it is its own)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event}")
    now = now or datetime.now(timezone.utc)
    recipients = sorted(set(recipients or []))
    cur = conn.execute(
        "INSERT INTO notification(event, dedupe_key, jurisdiction_code, recipients, title, body, link, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dedupe_key) DO NOTHING",
        (event, f"{event}:{key}", code, json.dumps(recipients), message.title[:200], message.body[:2000],
         message.link, _utc(now)))
    if cur.rowcount == 0:
        return None
    nid = cur.lastrowid
    for ch in _channels_for(conn, event, code, recipients):
        conn.execute("INSERT INTO notify_delivery(notification_id, channel_id, status, next_attempt_at) "
                     "VALUES (?, ?, ?, ?)", (nid, ch["id"], "digest" if ch["digest"] else "pending",
                                             _utc(now)))
    return nid


def _delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** attempts))


def _link(base: str, link: str) -> str:
    return (base.rstrip("/") + link) if base and link.startswith("/") else link


def render_one(row: sqlite3.Row, base_url: str) -> Message:
    return Message(row["title"], row["body"], _link(base_url, row["link"]))


def render_digest(rows: list[sqlite3.Row], base_url: str, day: str) -> Message:
    lines = []
    for r in rows:
        link = _link(base_url, r["link"])
        lines.append(f"· {r['title']}" + (f"  {link}" if link else ""))
    return Message(f"政务公开每日提醒（{day}，共 {len(rows)} 条）", "\n".join(lines))


def _mark(conn, ids: list[int], ok: bool, error: str, now: datetime) -> None:
    with immediate(conn):
        for did in ids:
            if ok:
                conn.execute("UPDATE notify_delivery SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                             "last_error = '' WHERE id = ?", (_utc(now), did))
            else:
                row = conn.execute("SELECT attempts, status FROM notify_delivery WHERE id = ?", (did,)).fetchone()
                attempts = row["attempts"] + 1
                status = "failed" if attempts >= MAX_ATTEMPTS else row["status"]
                conn.execute("UPDATE notify_delivery SET attempts = ?, status = ?, last_error = ?, "
                             "next_attempt_at = ? WHERE id = ?",
                             (attempts, status, error[:500], _utc(now + _delay(attempts)), did))


def deliver_due(conn: sqlite3.Connection, send, base_url: str = "", now: datetime | None = None,
                limit: int = 200) -> dict:
    """Send what is due: single deliveries now, digests once a day after DIGEST_HOUR.

    ``send(channel_row, Message)`` raises on failure (the delivery is retried later).
    Returns counts of sent and failed messages."""
    now = now or datetime.now(timezone.utc)
    sent = failed = 0
    due = conn.execute(
        "SELECT d.id, d.channel_id, n.* FROM notify_delivery d JOIN notification n ON n.id = d.notification_id "
        "WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.id LIMIT ?",
        (_utc(now), limit)).fetchall()
    channels = {r["id"]: r for r in conn.execute("SELECT * FROM notify_channel")}
    for row in due:
        ch = channels[row["channel_id"]]
        try:
            send(ch, render_one(row, base_url))
        except Exception as e:                 # noqa: BLE001  (any failure: retried later)
            _mark(conn, [row[0]], False, str(e) or type(e).__name__, now)
            failed += 1
        else:
            _mark(conn, [row[0]], True, "", now)
            sent += 1
    local = now.astimezone(CHINA)
    if local.hour >= DIGEST_HOUR:
        for ch_id in [r[0] for r in conn.execute(
                "SELECT DISTINCT channel_id FROM notify_delivery WHERE status = 'digest' "
                "AND next_attempt_at <= ?", (_utc(now),))]:
            rows = conn.execute(
                "SELECT d.id, n.* FROM notify_delivery d JOIN notification n ON n.id = d.notification_id "
                "WHERE d.status = 'digest' AND d.channel_id = ? ORDER BY n.created_at", (ch_id,)).fetchall()
            ids = [r[0] for r in rows]
            try:
                send(channels[ch_id], render_digest(rows, base_url, local.date().isoformat()))
            except Exception as e:             # noqa: BLE001
                _mark(conn, ids, False, str(e) or type(e).__name__, now)
                failed += 1
            else:
                _mark(conn, ids, True, "", now)
                sent += 1
    return {"sent": sent, "failed": failed}


def recent(conn: sqlite3.Connection, codes: list[str] | None, limit: int = 50) -> list[dict]:
    """The newest notifications within reach, with how their deliveries stand."""
    sql = ("SELECT n.*, j.name AS jurisdiction_name, "
           "(SELECT count(*) FROM notify_delivery d WHERE d.notification_id = n.id AND d.status = 'sent') AS sent, "
           "(SELECT count(*) FROM notify_delivery d WHERE d.notification_id = n.id AND d.status IN ('pending', 'digest')) AS waiting, "
           "(SELECT count(*) FROM notify_delivery d WHERE d.notification_id = n.id AND d.status = 'failed') AS failed, "
           "(SELECT group_concat(DISTINCT d.last_error) FROM notify_delivery d WHERE d.notification_id = n.id "
           " AND d.last_error != '') AS errors "
           "FROM notification n LEFT JOIN jurisdiction j ON j.code = n.jurisdiction_code")
    params: list = []
    if codes is not None:
        sql += f" WHERE n.jurisdiction_code IN ({','.join('?' * len(codes)) or 'NULL'})"
        params += codes
    sql += " ORDER BY n.id DESC LIMIT ?"
    return [dict(r) for r in conn.execute(sql, params + [limit])]


def smtp_settings(conn: sqlite3.Connection) -> dict:
    return {k: get_meta(conn, f"notify_smtp_{k}", "") or "" for k in
            ("host", "port", "security", "user", "password", "sender")}
