"""Where notifications come from: the audit log (review steps, emergencies) and periodic looks
at what is due (applications), what went quiet (terminals) and what stopped agreeing
(alignment). Each event is raised once, by a key that says what it is about."""
from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date, datetime, timedelta, timezone

from . import (alignment, alignment_cache, applications, auth, disclosure_calendar, display_proof, editing,
               holidays, jurisdictions, matters, resident_questions)
from .db import get_meta, immediate, set_meta
from .notifications import Message, raise_event

ADMIN_KINDS = {"catalogue_item": "catalogue", "village_item": "village-items", "matter": "matters",
               "notice": "notices", "guide": "guides", "handbook": "handbooks", "board": "boards"}
SILENT_INTERVALS = 3                # a terminal not heard from for this many sync intervals
DUE_WORKDAYS = 3                    # an application is told when this many working days are left
AUDIT_BATCH = 1000


def _place(conn, code: str | None) -> str:
    row = jurisdictions.get(conn, code) if code else None
    return row["name"] if row else ""


def _object(conn, table: str, obj_id: str) -> sqlite3.Row | None:
    if table not in editing.ENTITIES or not obj_id.isdigit():
        return None
    return conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', (int(obj_id),)).fetchone()


def _reviewers(conn, code: str, not_user: int | None) -> list[int]:
    out = []
    for u in conn.execute("SELECT * FROM user WHERE active = 1"):
        if u["id"] != not_user and auth.allowed(conn, u, "review", code):
            out.append(u["id"])
    return out


def _submitter(conn, table: str, obj_id: str, before_id: int) -> int | None:
    row = conn.execute("SELECT user_id FROM audit_log WHERE action = 'submit' AND entity = ? "
                       "AND entity_id = ? AND id < ? ORDER BY id DESC LIMIT 1",
                       (table, obj_id, before_id)).fetchone()
    return row[0] if row else None


def from_audit(conn: sqlite3.Connection, now: datetime) -> int:
    """Review steps and emergencies recorded since the last look."""
    seen = get_meta(conn, "notify_audit_seen")
    top = conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
    if seen is None:                       # first start: the history is not news
        set_meta(conn, "notify_audit_seen", str(top))
        return 0
    raised = 0
    rows = conn.execute("SELECT * FROM audit_log WHERE id > ? AND action IN "
                        "('submit', 'return', 'approve', 'urgent', 'withdraw') ORDER BY id LIMIT ?",
                        (int(seen), AUDIT_BATCH)).fetchall()
    last = int(seen) if len(rows) == AUDIT_BATCH else top
    with immediate(conn):
        for a in rows:
            raised += _audit_event(conn, a, now)
            if len(rows) == AUDIT_BATCH:
                last = a["id"]
        set_meta(conn, "notify_audit_seen", str(last))
    return raised


def _audit_event(conn, a: sqlite3.Row, now: datetime) -> int:
    obj = _object(conn, a["entity"], a["entity_id"])
    if obj is None:
        return 0
    ent = editing.ENTITIES[a["entity"]]
    code = obj["jurisdiction_code"] if ent.has_jurisdiction else None
    title = editing.title_of(ent, dict(obj))
    link = f"/admin/{ADMIN_KINDS.get(a['entity'], a['entity'])}/{obj['id']}"
    place = _place(conn, code)
    key = f"{a['entity']}:{obj['id']}:{a['id']}"
    if a["action"] == "submit":
        message = Message(f"待审核：{ent.label}《{title}》", f"{place}{ent.label}《{title}》已提交，请审核。", link)
        return raise_event(conn, "review_submitted", key, code, message,
                           _reviewers(conn, code, a["user_id"]) if code else [], now) is not None
    if a["action"] in ("return", "approve"):
        editor = _submitter(conn, a["entity"], a["entity_id"], a["id"])
        if editor is None:
            return 0
        if a["action"] == "return":
            message = Message(f"已退回：{ent.label}《{title}》", f"审核人退回了{place}{ent.label}《{title}》，请查看意见后修改。", link)
            return raise_event(conn, "review_returned", key, code, message, [editor], now) is not None
        message = Message(f"已通过：{ent.label}《{title}》", f"{place}{ent.label}《{title}》已审核通过并发布。", link)
        return raise_event(conn, "review_approved", key, code, message, [editor], now) is not None
    if a["entity"] != "notice" or obj["priority"] != "紧急":
        return 0
    subject = obj["subject_code"] or code
    if a["action"] == "urgent":
        message = Message(f"紧急通知已发布：{title}", f"{_place(conn, subject)}及下级的公示栏正在全屏显示这条紧急通知。", link)
        return raise_event(conn, "emergency_published", key, subject, message, [], now) is not None
    message = Message(f"紧急通知已解除：{title}", f"{_place(conn, subject)}的公示栏已恢复正常轮播。", link)
    return raise_event(conn, "emergency_ended", key, subject, message, [], now) is not None


def applications_due(conn: sqlite3.Connection, today: date, now: datetime) -> int:
    """Applications entering their last working days, and those past their deadline."""
    raised = 0
    with immediate(conn):
        for which, event in (("due_soon", "application_due"), ("overdue", "application_overdue")):
            for a in applications.listing(conn, None, today, which):
                if event == "application_due" and (a["left"] is None or a["left"] > DUE_WORKDAYS):
                    continue
                due = a["due_on"]
                if event == "application_due":
                    message = Message(f"依申请公开 {a['receipt_no']} 即将到期",
                                      f"{a['jurisdiction_name']}受理的申请 {a['receipt_no']} 应于 {due} 前答复，"
                                      f"还剩 {a['left']} 个工作日。", f"/admin/applications/{a['uuid']}")
                else:
                    message = Message(f"依申请公开 {a['receipt_no']} 已超期",
                                      f"{a['jurisdiction_name']}受理的申请 {a['receipt_no']} 答复期限 {due} 已过，请尽快答复。",
                                      f"/admin/applications/{a['uuid']}")
                # The organ answering (after 转办, another one) is told, not the receiving point.
                raised += raise_event(conn, event, f"{a['uuid']}:{due}", a["organ_code"] or a["jurisdiction_code"],
                                      message, [], now) is not None
    return raised


def _parse(ts: str | None) -> datetime | None:
    try:
        dt = datetime.fromisoformat((ts or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def terminals(conn: sqlite3.Connection, now: datetime) -> int:
    """Terminals silent for three of their sync intervals; terminals whose sync fails."""
    raised = 0
    with immediate(conn):
        for t in conn.execute("SELECT * FROM sync_terminal WHERE active = 1").fetchall():
            name = t["label"] or f"终端 {t['id'][:8]}"
            place = _place(conn, t["scope"])
            last = _parse(t["last_contact"])
            if last is not None and now - last > timedelta(seconds=SILENT_INTERVALS * (t["interval"] or 300)):
                message = Message(f"{place}{name}已失联",
                                  f"{place}{name}自 {last.astimezone():%Y-%m-%d %H:%M} 起没有与县级平台联系"
                                  f"（超过 {SILENT_INTERVALS} 个同步周期）。屏幕仍显示最后一次的内容；请检查电源和网络。",
                                  "/admin/fleet")
                raised += raise_event(conn, "terminal_silent", f"{t['id']}:{t['last_contact']}",
                                      t["scope"], message, [], now) is not None
            if t["last_error"]:
                digest = hashlib.sha256(t["last_error"].encode()).hexdigest()[:12]
                message = Message(f"{place}{name}同步失败", f"最近一次同步失败：{t['last_error']}", "/admin/fleet")
                raised += raise_event(conn, "sync_failing", f"{t['id']}:{digest}:{now.date()}",
                                      t["scope"], message, [], now) is not None
    return raised


def alignment_changes(conn: sqlite3.Connection, today: date, now: datetime) -> int:
    """Matter × village alignments that are 不一致, once per distinct difference.

    The verdicts are the kept ones (content.alignment_cache): a daily scan aligns again
    only the pairs whose notices or matter changed since.
    """
    raised = 0
    with immediate(conn):
        for v in alignment_cache.verdicts(conn, None, today):
            if v.status != alignment.INCONSISTENT:
                continue
            matter, village = v.matter, v.village
            what = json.dumps([v.summary, list(v.notice_ids)], ensure_ascii=False, default=str)
            digest = hashlib.sha256(what.encode()).hexdigest()[:16]
            message = Message(f"{village['name']}「{matter['title']}」县乡村公开内容不一致",
                              v.summary, f"/matters/{matter['id']}/{village['code']}")
            raised += raise_event(conn, "alignment_inconsistent", f"{matter['id']}:{village['code']}:{digest}",
                                  village["code"], message, [], now) is not None
    return raised


def disclosures_missing(conn: sqlite3.Connection, today: date, now: datetime) -> int:
    """Periodic disclosures whose deadline passed with nothing published (应公开未公开)."""
    raised = 0
    codes = [r[0] for r in conn.execute("SELECT code FROM jurisdiction")]
    with immediate(conn):
        for r in disclosure_calendar.overdue(conn, codes, today):
            p = r["period"]
            place = _place(conn, r["jurisdiction_code"])
            message = Message(f"{place}「{r['title']}」{p.label}应公开未公开",
                              f"按公开时限（{r['time_limit_text']}），{place}{r['title']}（{p.label}）应于 "
                              f"{p.deadline} 前公开，至今尚未公开。",
                              f"/admin/{ADMIN_KINDS[r['kind']]}/{r['id']}")
            raised += raise_event(conn, "disclosure_due", f"{r['kind']}:{r['id']}:{p.start}",
                                  r["jurisdiction_code"], message, [], now) is not None
    return raised


def coverage_short(conn: sqlite3.Connection, today: date, now: datetime) -> int:
    """公示 of the last week whose boards did not show them for every day of the period."""
    raised = 0
    codes = [r[0] for r in conn.execute("SELECT code FROM jurisdiction")]
    reporting = set(display_proof.last_confirmed(conn))   # boards that report at all
    with immediate(conn):
        for n in display_proof.notices_with_period(conn, codes, today - timedelta(days=7), today):
            cov = display_proof.coverage(conn, n["id"], now)
            if cov is None or not cov.days or cov.fulfilled \
                    or not any(b.slug in reporting for b in cov.boards):
                continue
            message = Message(f"{n['place']}公示「{n['title']}」屏幕显示不足",
                              f"公示期 {n['period_start']} 至 {n['period_end']}，公示栏缺 {cov.extension_days} 天未完整显示，"
                              f"建议延长公示 {cov.extension_days} 天。", f"/admin/proof/{n['id']}")
            raised += raise_event(conn, "coverage_short", f"{n['id']}:{cov.extension_days}",
                                  n["subject_code"] or n["jurisdiction_code"], message, [], now) is not None
    return raised


def boards_silent(conn: sqlite3.Connection, now: datetime) -> int:
    """Boards that reported showing something before and have been silent for eight hours
    (their terminal sends finished hours in batches of about three)."""
    raised = 0
    with immediate(conn):
        for slug, at in display_proof.last_confirmed(conn).items():
            if now - at < timedelta(hours=8):
                continue
            b = conn.execute("SELECT name, jurisdiction_code FROM board WHERE slug = ? AND status = 'published'",
                             (slug,)).fetchone()
            if b is None:
                continue
            message = Message(f"公示栏「{b['name']}」已失联",
                              f"自 {at.astimezone(display_proof.CHINA):%Y-%m-%d %H:%M} 起没有收到这块公示栏的显示记录，"
                              "请检查屏幕、电源和网络。", "/admin/fleet")
            raised += raise_event(conn, "terminal_silent", f"board:{slug}:{at.isoformat()}",
                                  b["jurisdiction_code"], message, [], now) is not None
    return raised


def holidays_missing(conn: sqlite3.Connection, today: date, now: datetime) -> int:
    """In December: next year's 放假和调休 schedule is not entered (deadlines would be counted
    Monday to Friday from 1 January)."""
    if today.month != 12 or holidays.year_status(conn, today.year + 1) != "missing":
        return 0
    county = jurisdictions.county(conn)
    message = Message(f"{today.year + 1}年节假日安排尚未录入",
                      f"请在国务院办公厅公布{today.year + 1}年部分节假日安排后，到“节假日安排”页录入；"
                      "录入前，跨年的答复期限和公开时限暂按周一至周五计算。", "/admin/holidays")
    with immediate(conn):
        return raise_event(conn, "holidays_missing", str(today.year + 1),
                           county["code"] if county else None, message, [], now) is not None


def scan(conn: sqlite3.Connection, today: date, now: datetime | None = None) -> int:
    """One look for everything; the alignment (the costly part) once a day."""
    now = now or datetime.now(timezone.utc)
    raised = (from_audit(conn, now) + applications_due(conn, today, now) + terminals(conn, now)
              + boards_silent(conn, now) + resident_questions.notify_due(conn, today, now))
    if get_meta(conn, "notify_alignment_day") != today.isoformat():
        raised += (alignment_changes(conn, today, now) + disclosures_missing(conn, today, now)
                   + coverage_short(conn, today, now) + holidays_missing(conn, today, now))
        set_meta(conn, "notify_alignment_day", today.isoformat())
    return raised
