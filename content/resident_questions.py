"""Residents are answered: objections to a 公示 (公示异议), questions on village affairs
(村务质询) and on services (办事咨询).

A record is made where the resident stands (a terminal or a standalone kiosk), travels to
the hub through the outbox exactly once, and is filed there for the owner of what it asks
about, with an answer clock. The answer is either published under the notice or item (the
question anonymised, through the privacy guard and review) or returned privately: both
reach the status lookup by receipt number (``question_status``, carried in bundles, found
only by a digest of the receipt number and the phone's last four digits).
"""
from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import uuid as uuidlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from . import jurisdictions, outbox, privacy
from .db import immediate
from .disclosure_calendar import working_deadline
from .timelimits import add_workdays, workdays_between

KINDS = {"objection": "公示异议", "village_query": "村务质询", "service_query": "办事咨询"}
UPSTREAM_KIND = "resident_question"
MAX_BODY = 500
DUE_SOON_DAYS = 3                    # staff are told when this many days are left
RECEIPT_PREFIX = "WT"
_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no I, O, 0, 1: read aloud over the phone
_RECEIPT = re.compile(r"^WT-\d{8}-[A-Z2-9]{6}$")

# Target type → (table, title expression, public URL pattern, label).
TARGETS = {
    "notice": ("notice", "t.title", "/notices/{id}", "公示公告"),
    "item": ("catalogue_item",
             "t.level1 || CASE WHEN t.level2 != '' THEN ' · ' || t.level2 ELSE '' END",
             "/items/{id}", "公开事项"),
    "village_item": ("village_item", "t.title", "/village-items/{id}", "村务公开事项"),
    "guide": ("guide", "t.title", "/guides/{id}", "办事指南"),
    "village": ("jurisdiction", "t.name", "/villages/{id}", "村务公开"),
}
STAGES = {"open": "办理中", "answered": "已答复"}
PERIOD_ACTIONS = {"extend": "延长公示期", "restart": "重新公示"}


class Refused(ValueError):
    """A record or a step that cannot be taken; the message is for the person (Chinese)."""


# ---------------------------------------------------------------- the answer clock

@dataclass(frozen=True)
class Clock:
    days: int
    unit: str             # 'calendar' | 'workday'

    @property
    def text(self) -> str:
        return f"{self.days}{'个工作日' if self.unit == 'workday' else '日'}"


DEFAULT_CLOCKS = {"objection": Clock(10, "calendar"), "village_query": Clock(10, "calendar"),
                  "service_query": Clock(5, "workday")}


def clocks_from(config) -> dict[str, Clock]:
    """The clock of each kind from an instance's settings (ANSWER_DAYS_<KIND>, and
    ANSWER_WORKDAYS_<KIND>: count working days instead of calendar days)."""
    out = {}
    for kind, default in DEFAULT_CLOCKS.items():
        days = config.get(f"ANSWER_DAYS_{kind.upper()}") or default.days
        work = config.get(f"ANSWER_WORKDAYS_{kind.upper()}")
        unit = default.unit if work is None else ("workday" if work else "calendar")
        out[kind] = Clock(int(days), unit)
    return out


def due_date(asked: date, clock: Clock) -> date:
    """Working days skip weekends and holidays (调休 included); calendar days count every day,
    and a last day on a holiday moves to the next working day."""
    if clock.unit == "workday":
        return add_workdays(asked, clock.days)
    return working_deadline(asked + timedelta(days=clock.days))


def days_left(due: date | None, today: date, unit: str) -> int | None:
    if due is None:
        return None
    if unit == "workday":
        return workdays_between(today, due) if due >= today else -workdays_between(due, today)
    return (due - today).days


def urgency(stage: str, due: date | None, today: date) -> str:
    """'' | 'due_soon' (within 3 days) | 'overdue' for an open record."""
    if stage != "open" or due is None:
        return ""
    if today > due:
        return "overdue"
    if (due - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return ""


# ---------------------------------------------------------------- what is asked about

def target(conn: sqlite3.Connection, target_type: str, target_id) -> dict | None:
    """The published thing asked about: title, owner, level, URL (and, for notices, the 公示期)."""
    if target_type not in TARGETS:
        return None
    table, title, url, label = TARGETS[target_type]
    key = str(target_id or "")
    if target_type == "village":
        if not re.fullmatch(r"\d{12}", key):
            return None
        row = conn.execute("SELECT code AS id, code AS jurisdiction_code, name AS title FROM jurisdiction "
                           "WHERE code = ? AND level = 'village'", (key,)).fetchone()
    else:
        if not key.isdigit() or len(key) > 18:
            return None
        extra = ", t.period_start, t.period_end, t.kind AS notice_kind" if table == "notice" else ""
        row = conn.execute(f"SELECT t.id, t.jurisdiction_code, {title} AS title{extra} FROM {table} t "
                           "WHERE t.id = ? AND t.status = 'published'", (int(key),)).fetchone()
    if row is None:
        return None
    place = jurisdictions.get(conn, row["jurisdiction_code"])
    out = dict(row)
    out.update(type=target_type, id=str(row["id"]), label=label, url=url.format(id=row["id"]),
               level=place["level"] if place else "", place=place["name"] if place else "")
    return out


def in_period(t: dict, today: date) -> bool:
    """A notice is open to objections from its 公示期's first day to its last."""
    return (t["type"] == "notice" and bool(t.get("period_end"))
            and (t.get("period_start") or "") <= today.isoformat() <= t["period_end"])


def kind_for(t: dict, objection: bool) -> str:
    if objection:
        return "objection"
    return "village_query" if t["level"] == "village" else "service_query"


# ---------------------------------------------------------------- the resident's record

def _digits(text: str) -> str:
    return re.sub(r"\D", "", str(text or ""))


def lookup_key(receipt_no: str, phone: str = "") -> str:
    """The status row's key: a digest of the receipt number and the phone's last four digits
    ('' when anonymous). A bundle carries only this, never the receipt number."""
    tail = _digits(phone)[-4:]
    return hashlib.sha256(f"kiosk-question|{receipt_no}|{tail}".encode()).hexdigest()


def new_receipt_no(on: date) -> str:
    """WT-20261203-K7QM2C: random, so receipts made on different terminals never clash and
    cannot be guessed from one another (an anonymous record is found by its number alone)."""
    return f"{RECEIPT_PREFIX}-{on:%Y%m%d}-" + "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(6))


def normalise_receipt(text: str) -> str:
    return re.sub(r"\s+", "", str(text or "")).upper().replace("—", "-").replace("－", "-")[:40]


def validate(form) -> tuple[dict, dict]:
    """(data, errors) of the resident's form: the question, an optional callback phone."""
    body = " ".join(str(form.get("body") or "").split())
    phone = str(form.get("phone") or "").strip()
    data = {"body": body, "phone": phone, "wants_private": 1 if form.get("wants_private") else 0}
    errors = {}
    if not body:
        errors["body"] = "请写下您的问题或异议"
    elif len(body) > MAX_BODY:
        errors["body"] = f"请不超过{MAX_BODY}个字（现在{len(body)}个字）"
    if phone:
        digits = _digits(phone).removeprefix("86") if phone.startswith("+") else _digits(phone)
        if not privacy.is_mobile(digits) and not (7 <= len(digits) <= 12 and digits.startswith("0")):
            errors["phone"] = "请填写11位手机号码或带区号的固定电话；不想留电话可以空着"
        else:
            data["phone"] = digits
    return data, errors


def mask_phone(phone: str) -> str:
    """138****5678: how a callback number is shown anywhere."""
    d = _digits(phone)
    if not d:
        return ""
    return d[:3] + "*" * max(len(d) - 7, 1) + d[-4:] if len(d) >= 8 else "*" * len(d)


def create(conn: sqlite3.Connection, t: dict, kind: str, data: dict, origin_code: str, on: date,
           clock: Clock, enqueue=None) -> dict:
    """Store one record (body masked) with its outbox row in one transaction; where there is
    no hub to send it to (``enqueue`` None), it is filed here at once."""
    if kind == "objection" and not in_period(t, on):
        raise Refused("这条公示的公示期已经结束，不能再提出异议；如有问题请点“我要提问”或咨询工作人员")
    body = privacy.mask_all(data["body"])
    receipt = new_receipt_no(on)
    record = {"uuid": str(uuidlib.uuid4()), "receipt_no": receipt, "kind": kind,
              "target_type": t["type"], "target_id": t["id"], "target_title": t["title"][:200],
              "jurisdiction_code": t["jurisdiction_code"], "origin_code": origin_code, "body": body,
              "phone": data.get("phone", ""), "wants_private": int(data.get("wants_private") or 0),
              "lookup_id": lookup_key(receipt, data.get("phone", "")), "asked_on": on.isoformat(),
              "due_on": due_date(on, clock).isoformat(), "clock_unit": clock.unit,
              "clock_days": clock.days}
    with immediate(conn):
        for _ in range(5):       # a clash of six random letters is rare; try another
            if conn.execute("SELECT 1 FROM resident_question WHERE receipt_no = ?",
                            (record["receipt_no"],)).fetchone() is None:
                break
            record["receipt_no"] = new_receipt_no(on)
            record["lookup_id"] = lookup_key(record["receipt_no"], record["phone"])
        outbox.store(conn, "resident_question", record, None)
        if enqueue is not None:
            enqueue(conn, UPSTREAM_KIND, record["uuid"], record)
        else:
            publish_status(conn, record["uuid"])
            notify_new(conn, record["uuid"])
    record["was_masked"] = body != data["body"]
    return record


# ---------------------------------------------------------------- at the hub: filing

def file_upstream(conn: sqlite3.Connection, record_uuid: str, payload: dict, allowed: set[str],
                  clocks: dict[str, Clock]) -> dict:
    """(hub) File a terminal's record once: the owner and the clock are the hub's, not the
    terminal's. Returns the inbox copy (the callback phone masked). Raises Refused."""
    kind = payload.get("kind")
    if kind not in KINDS:
        raise Refused("记录类型无效")
    t = target(conn, str(payload.get("target_type") or ""), payload.get("target_id"))
    if t is None or t["jurisdiction_code"] not in allowed:
        raise Refused("提问的内容不存在，或不在本终端显示的范围内")
    receipt = normalise_receipt(payload.get("receipt_no"))
    if not _RECEIPT.match(receipt):
        raise Refused("受理编号格式不对")
    try:
        asked = date.fromisoformat(str(payload.get("asked_on")))
    except ValueError:
        raise Refused("提问日期无效") from None
    asked = min(asked, date.today())     # a terminal's clock running fast never delays the answer
    body = privacy.mask_all(" ".join(str(payload.get("body") or "").split())[:MAX_BODY])
    phone = _digits(payload.get("phone"))[:20]
    clock = clocks.get(kind, DEFAULT_CLOCKS[kind])
    row = {"uuid": record_uuid, "receipt_no": receipt, "kind": kind, "target_type": t["type"],
           "target_id": t["id"], "target_title": t["title"][:200], "jurisdiction_code": t["jurisdiction_code"],
           "origin_code": payload.get("jurisdiction_code"), "body": body, "phone": phone,
           "wants_private": 1 if payload.get("wants_private") else 0,
           "lookup_id": lookup_key(receipt, phone), "asked_on": asked.isoformat(),
           "due_on": due_date(asked, clock).isoformat(), "clock_unit": clock.unit, "clock_days": clock.days}
    conn.execute(f"INSERT OR IGNORE INTO resident_question ({', '.join(row)}) "
                 f"VALUES ({', '.join(':' + k for k in row)})", row)
    if conn.execute("SELECT 1 FROM resident_question WHERE uuid = ?", (record_uuid,)).fetchone() is None:
        raise Refused("受理编号与已有记录重复")
    publish_status(conn, record_uuid)
    notify_new(conn, record_uuid)
    return {**payload, "phone": mask_phone(phone)}


def publish_status(conn: sqlite3.Connection, record_uuid: str) -> None:
    """The status lookup's row for this record: stage, dates and a private answer."""
    q = get(conn, record_uuid)
    private = q["answer"] if q["stage"] == "answered" and q["answer_mode"] == "private" else ""
    conn.execute(
        "INSERT INTO question_status(lookup_id, jurisdiction_code, kind, stage, asked_on, due_on, "
        "answered_on, answer_mode, answer, answer_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(lookup_id) DO UPDATE SET stage = excluded.stage, due_on = excluded.due_on, "
        "answered_on = excluded.answered_on, answer_mode = excluded.answer_mode, answer = excluded.answer, "
        "answer_id = excluded.answer_id, updated_at = excluded.updated_at",
        (q["lookup_id"], q["origin_code"] or q["jurisdiction_code"], q["kind"], q["stage"], q["asked_on"],
         q["due_on"], q["answered_on"], q["answer_mode"] if q["stage"] == "answered" else "", private,
         q["answer_id"], _now()))


def scrub_held(conn: sqlite3.Connection, uuids: list[str], when: str) -> int:
    """(terminal) Keep nothing personal of records the hub holds: the question and the
    callback phone go; the receipt number and the lookup digest stay for the status page."""
    if not uuids:
        return 0
    marks = ",".join("?" * len(uuids))
    return conn.execute(f"UPDATE resident_question SET body = '', phone = '', target_title = '', "
                        f"scrubbed_at = ? WHERE uuid IN ({marks}) AND scrubbed_at IS NULL",
                        [when, *uuids]).rowcount


# ---------------------------------------------------------------- reading

def get(conn: sqlite3.Connection, record_uuid: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM resident_question WHERE uuid = ?", (record_uuid,)).fetchone()


def get_by_receipt(conn: sqlite3.Connection, receipt_no: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM resident_question WHERE receipt_no = ?",
                        (normalise_receipt(receipt_no),)).fetchone()


def _day(value) -> date | None:
    return date.fromisoformat(value) if value else None


def decorate(row, today: date) -> dict:
    q = dict(row)
    due = _day(q["due_on"])
    q["kind_name"] = KINDS.get(q["kind"], q["kind"])
    q["stage_name"] = STAGES.get(q["stage"], q["stage"])
    q["left"] = days_left(due, today, q["clock_unit"]) if q["stage"] == "open" else None
    q["urgency"] = urgency(q["stage"], due, today)
    q["on_time"] = (q["stage"] == "answered" and due is not None and q["answered_on"] is not None
                    and q["answered_on"] <= q["due_on"])
    q["phone_masked"] = mask_phone(q["phone"])
    q["target_url"] = TARGETS[q["target_type"]][2].format(id=q["target_id"]) if q["target_type"] in TARGETS else ""
    q["target_label"] = TARGETS.get(q["target_type"], ("", "", "", q["target_type"]))[3]
    return q


def listing(conn: sqlite3.Connection, codes: list[str] | None, today: date, *, which: str = "open",
            kind: str = "", code: str = "") -> list[dict]:
    """Records with their clock; which = open | due_soon | overdue | answered | all."""
    sql = ("SELECT q.*, j.name AS place FROM resident_question q "
           "LEFT JOIN jurisdiction j ON j.code = q.jurisdiction_code WHERE 1")
    params: list = []
    if codes is not None:
        sql += f" AND q.jurisdiction_code IN ({','.join('?' * len(codes)) or 'NULL'})"
        params += list(codes)
    if kind in KINDS:
        sql += " AND q.kind = ?"
        params.append(kind)
    if code:
        sql += " AND q.jurisdiction_code = ?"
        params.append(code)
    rows = [decorate(r, today) for r in conn.execute(sql + " ORDER BY q.due_on, q.asked_on", params)]
    keep = {"open": lambda q: q["stage"] == "open", "answered": lambda q: q["stage"] == "answered",
            "due_soon": lambda q: q["urgency"] == "due_soon", "overdue": lambda q: q["urgency"] == "overdue"}
    return [q for q in rows if keep.get(which, lambda q: True)(q)]


def lookup(conn: sqlite3.Connection, receipt_no: str, tail: str) -> dict | None:
    """The public status for a receipt number (and the phone's last four digits if one was
    left); None if nothing matches. The hub's row (from a bundle) wins over the local one."""
    receipt_no = normalise_receipt(receipt_no)
    if not _RECEIPT.match(receipt_no):
        return None
    tail = _digits(tail)
    if tail and len(tail) != 4:
        return None
    key = lookup_key(receipt_no, tail)
    status = conn.execute("SELECT * FROM question_status WHERE lookup_id = ?", (key,)).fetchone()
    if status is None:
        local = conn.execute("SELECT * FROM resident_question WHERE lookup_id = ?", (key,)).fetchone()
        if local is None or local["receipt_no"] != receipt_no:
            return None
        status = {"kind": local["kind"], "stage": "open", "asked_on": local["asked_on"],
                  "due_on": local["due_on"], "answered_on": None, "answer_mode": "", "answer": "",
                  "answer_id": None}
    s = dict(status)
    out = {"receipt_no": receipt_no, "kind_name": KINDS.get(s["kind"], ""), "stage": s["stage"],
           "stage_name": STAGES.get(s["stage"], s["stage"]), "asked_on": s["asked_on"],
           "due_on": s["due_on"] if s["stage"] == "open" else None, "answered_on": s["answered_on"],
           "answer": s["answer"], "public": None}
    if s["stage"] == "answered" and s["answer_mode"] == "public" and s["answer_id"]:
        row = conn.execute("SELECT * FROM question_answer WHERE id = ? AND status = 'published'",
                           (s["answer_id"],)).fetchone()
        if row is not None:
            out["public"] = {**dict(row), "url": TARGETS[row["target_type"]][2].format(id=row["target_id"])
                             if row["target_type"] in TARGETS else ""}
    return out


def answers_for(conn: sqlite3.Connection, target_type: str, target_id) -> list[dict]:
    """Published answers under one notice, item, guide or village page, newest first."""
    rows = conn.execute("SELECT * FROM question_answer WHERE target_type = ? AND target_id = ? "
                        "AND status = 'published' ORDER BY answered_on DESC, id DESC",
                        (target_type, str(target_id))).fetchall()
    return [{**dict(r), "kind_name": KINDS.get(r["kind"], "")} for r in rows]


# ---------------------------------------------------------------- answering (hub / standalone)

def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _audit(conn, user, action: str, entity: str, entity_id, before, after, remote: str = "") -> None:
    from .editing import audit  # noqa: PLC0415  (editing imports much; answering is rare)
    audit(conn, user, action, entity, entity_id, before, after, remote)


def answerer_name(conn: sqlite3.Connection, code: str) -> str:
    """The body that answers (never a person): a village's 村民委员会, else the place's government."""
    place = jurisdictions.get(conn, code)
    if place is None:
        return ""
    if place["level"] == "village":
        return place["name"] + ("" if place["name"].endswith(("委员会", "村委会")) else "村民委员会")
    return place["name"] + ("人民政府" if place["level"] in ("county", "township") else "")


def answer(conn: sqlite3.Connection, record_uuid: str, user, text: str, mode: str, today: date, *,
           question: str = "", upheld: bool | None = None, period_action: str = "",
           new_start: date | None = None, new_end: date | None = None, remote: str = "") -> dict:
    """Answer one open record in one transaction. ``mode`` 'public': the anonymised question
    and the answer go under the notice or item once reviewed; 'private': only the status
    lookup shows it. An upheld objection during the 公示期 may extend or restart it."""
    from . import auth  # noqa: PLC0415
    text = str(text or "").strip()
    if not text:
        raise Refused("请填写答复内容")
    if len(text) > 3000:
        raise Refused("答复请不超过3000字")
    if mode not in ("public", "private"):
        raise Refused("请选择答复方式：公开答复或单独答复")
    with immediate(conn):
        q = get(conn, record_uuid)
        if q is None:
            raise Refused("没有这条记录")
        if not auth.allowed(conn, user, "edit", q["jurisdiction_code"]):
            raise Refused("您的账号不能答复这条记录（由发布单位答复）")
        if q["stage"] != "open":
            raise Refused("这条记录已经答复过了")
        if mode == "public" and q["wants_private"]:
            raise Refused("提问人要求不公开，请选择单独答复")
        question = " ".join(str(question or q["body"]).split())
        findings = privacy.scan_text(text, "答复") + (privacy.scan_text(question, "问题") if mode == "public" else [])
        if findings:
            raise Refused("答复或公开的问题中含有个人信息（" + "、".join(sorted({f.kind for f in findings}))
                          + "），请删去或打码后再提交")
        if q["kind"] != "objection":
            upheld, period_action = None, ""
        if period_action and not upheld:
            raise Refused("只有异议成立时才能延长公示期或重新公示")
        if period_action:
            change_period(conn, q, period_action, today, new_start, new_end, user, remote)
        answer_id = None
        if mode == "public":
            answer_id = conn.execute(
                "INSERT INTO question_answer(jurisdiction_code, kind, target_type, target_id, question, answer, "
                "answered_by, asked_on, answered_on, upheld, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted')",
                (q["jurisdiction_code"], q["kind"], q["target_type"], q["target_id"], question, text,
                 answerer_name(conn, q["jurisdiction_code"]), q["asked_on"], today.isoformat(),
                 None if upheld is None else int(upheld))).lastrowid
        conn.execute("UPDATE resident_question SET stage = 'answered', answer = ?, answer_mode = ?, "
                     "answered_on = ?, answered_by = ?, answer_id = ?, upheld = ?, period_action = ?, "
                     "updated_at = ? WHERE uuid = ?",
                     (text, mode, today.isoformat(), user["id"], answer_id,
                      None if upheld is None else int(upheld), period_action, _now(), record_uuid))
        _audit(conn, user, "question_answer", "resident_question", q["receipt_no"],
               {"stage": "open", "due_on": q["due_on"]},
               {"stage": "answered", "mode": mode, "answered_on": today.isoformat(),
                "upheld": upheld, "period_action": period_action}, remote)
        publish_status(conn, record_uuid)
        if answer_id is not None:
            notify_review(conn, q, answer_id, user)
    return decorate(get(conn, record_uuid), today)


def review(conn: sqlite3.Connection, answer_id: int, user, approve: bool, today: date,
           remote: str = "") -> None:
    """A public answer goes out once a reviewer of its place approves it (a village's:
    its 村务监督委员会), never by the person who wrote it."""
    from . import auth  # noqa: PLC0415
    with immediate(conn):
        a = conn.execute("SELECT * FROM question_answer WHERE id = ?", (answer_id,)).fetchone()
        if a is None or a["status"] != "submitted":
            raise Refused("没有待审核的这条答复")
        if not auth.allowed(conn, user, "review", a["jurisdiction_code"]):
            raise Refused("您的账号不能审核这条答复")
        writer = conn.execute("SELECT answered_by FROM resident_question WHERE answer_id = ?",
                              (answer_id,)).fetchone()
        if writer and writer[0] == user["id"]:
            raise Refused("不能审核自己写的答复")
        found = privacy.scan_text(a["question"], "问题") + privacy.scan_text(a["answer"], "答复")
        if approve and found:
            raise Refused("答复中含有个人信息，请退回修改")
        status = "published" if approve else "draft"
        conn.execute("UPDATE question_answer SET status = ?, reviewed_by = ?, updated_at = ? WHERE id = ?",
                     (status, user["id"], _now(), answer_id))
        uuids = [r[0] for r in conn.execute("SELECT uuid FROM resident_question WHERE answer_id = ?",
                                            (answer_id,))]
        if not approve:
            # Returned: the record is open again with its clock, to be answered anew.
            conn.execute("UPDATE resident_question SET stage = 'open', answer_id = NULL, answer = '', "
                         "answer_mode = '', answered_on = NULL, updated_at = ? WHERE answer_id = ?",
                         (_now(), answer_id))
        _audit(conn, user, "question_answer_" + ("approve" if approve else "return"), "question_answer",
               answer_id, {"status": "submitted"}, {"status": status}, remote)
        for u in uuids:
            publish_status(conn, u)


def pending_reviews(conn: sqlite3.Connection, codes: list[str]) -> list[sqlite3.Row]:
    return conn.execute(
        f"SELECT a.*, j.name AS place FROM question_answer a JOIN jurisdiction j ON j.code = a.jurisdiction_code "
        f"WHERE a.status = 'submitted' AND a.jurisdiction_code IN ({','.join('?' * len(codes)) or 'NULL'}) "
        "ORDER BY a.id", list(codes)).fetchall()


# ---------------------------------------------------------------- the 公示期 after an upheld objection

def change_period(conn: sqlite3.Connection, q, action: str, today: date, new_start: date | None,
                  new_end: date | None, user, remote: str = "") -> None:
    """Extend the notice's 公示期 to ``new_end``, or restart it (a new period from
    ``new_start``, today by default, to ``new_end``); the notice says so on every screen."""
    if action not in PERIOD_ACTIONS:
        raise Refused("请选择延长公示期或重新公示")
    if q["target_type"] != "notice":
        raise Refused("只有公示才有公示期")
    n = conn.execute("SELECT * FROM notice WHERE id = ?", (int(q["target_id"]),)).fetchone()
    if n is None or not n["period_end"]:
        raise Refused("这条公示没有公示期")
    if not (n["period_start"] or "") <= today.isoformat() <= n["period_end"]:
        raise Refused("公示期已经结束，不能再延长；如需重新公示请重新发布")
    if new_end is None:
        raise Refused("请填写新的公示期截止日期")
    start = n["period_start"]
    if action == "extend":
        if new_end.isoformat() <= n["period_end"]:
            raise Refused(f"新的截止日期应晚于原截止日期 {n['period_end']}")
        change = "extended"
    else:
        start = (new_start or today).isoformat()
        if start < today.isoformat() or new_end.isoformat() < start:
            raise Refused("重新公示的起止日期不对：开始不早于今天，截止不早于开始")
        change = "restarted"
    conn.execute("UPDATE notice SET period_start = ?, period_end = ?, period_change = ?, period_changed_on = ?, "
                 "expires_on = CASE WHEN expires_on IS NOT NULL AND expires_on < ? THEN ? ELSE expires_on END, "
                 "updated_at = ? WHERE id = ?",
                 (start, new_end.isoformat(), change, today.isoformat(), new_end.isoformat(),
                  new_end.isoformat(), _now(), n["id"]))
    # The published revision follows, so a later edit starts from the new period.
    conn.execute("UPDATE revision SET data = json_set(data, '$.period_start', ?, '$.period_end', ?) "
                 "WHERE entity = 'notice' AND entity_id = ? AND rev = ?", (start, new_end.isoformat(), n["id"], n["rev"]))
    _audit(conn, user, "notice_period_" + change, "notice", n["id"],
           {"period_start": n["period_start"], "period_end": n["period_end"]},
           {"period_start": start, "period_end": new_end.isoformat(), "because": q["receipt_no"]}, remote)


def period_note(n: dict) -> str:
    """What a notice says of a changed 公示期 (kiosk, board)."""
    if n.get("period_change") == "extended":
        return f"公示期已延长至{n['period_end']}"
    if n.get("period_change") == "restarted":
        return f"重新公示：{n['period_start']} 至 {n['period_end']}"
    return ""


# ---------------------------------------------------------------- notifications

def recipients(conn: sqlite3.Connection, q) -> list[int]:
    """Who is told of a record: whoever published what it is about, the 村务监督委员会 of a
    village, and the township's staff above it."""
    people = set()
    if q["target_type"] in TARGETS and q["target_type"] != "village":
        table = TARGETS[q["target_type"]][0]
        row = conn.execute(f"SELECT created_by FROM {table} WHERE id = ?", (int(q["target_id"]),)).fetchone()
        if row and row[0]:
            people.add(row[0])
    place = jurisdictions.get(conn, q["jurisdiction_code"])
    codes = [q["jurisdiction_code"]]
    if place is not None and place["level"] == "village" and place["parent_code"]:
        codes.append(place["parent_code"])
    for u in conn.execute(f"SELECT id, role, jurisdiction_code FROM user WHERE active = 1 AND jurisdiction_code "
                          f"IN ({','.join('?' * len(codes))})", codes):
        if u["jurisdiction_code"] == q["jurisdiction_code"] or u["role"].startswith("township"):
            people.add(u["id"])
    return sorted(people)


def notify_new(conn: sqlite3.Connection, record_uuid: str, now: datetime | None = None) -> None:
    from .notifications import Message, raise_event  # noqa: PLC0415
    q = get(conn, record_uuid)
    place = jurisdictions.get(conn, q["jurisdiction_code"])
    kind = KINDS[q["kind"]]
    message = Message(f"新的{kind}：{q['target_title']}",
                      f"{place['name'] if place else ''}《{q['target_title']}》收到一条{kind}（{q['receipt_no']}），"
                      f"请于 {q['due_on']} 前答复。", f"/admin/questions/{q['uuid']}")
    raise_event(conn, "question_received", q["uuid"], q["jurisdiction_code"], message,
                recipients(conn, q), now)


def notify_review(conn: sqlite3.Connection, q, answer_id: int, author) -> None:
    """A public answer waits for its reviewers (a village's: the 村务监督委员会)."""
    from .notifications import Message, raise_event  # noqa: PLC0415
    from .notify_events import _reviewers  # noqa: PLC0415  (notify_events imports this module)
    message = Message(f"待审核：{KINDS[q['kind']]}的公开答复", f"《{q['target_title']}》的{KINDS[q['kind']]}"
                      f"（{q['receipt_no']}）已答复，公开前请审核。", "/admin/questions")
    raise_event(conn, "review_submitted", f"question_answer:{answer_id}", q["jurisdiction_code"], message,
                _reviewers(conn, q["jurisdiction_code"], author["id"]))


def notify_due(conn: sqlite3.Connection, today: date, now: datetime | None = None) -> int:
    """Records due within 3 days and those past due, each told once per due date."""
    from .notifications import Message, raise_event  # noqa: PLC0415
    raised = 0
    with immediate(conn):
        for which, event in (("due_soon", "question_due"), ("overdue", "question_overdue")):
            for q in listing(conn, None, today, which=which):
                verb = f"应于 {q['due_on']} 前答复" if which == "due_soon" else f"答复期限 {q['due_on']} 已过"
                message = Message(f"{q['kind_name']} {q['receipt_no']} {'即将到期' if which == 'due_soon' else '已超期'}",
                                  f"{q['place'] or ''}《{q['target_title']}》的{q['kind_name']}{verb}。",
                                  f"/admin/questions/{q['uuid']}")
                raised += raise_event(conn, event, f"{q['uuid']}:{q['due_on']}", q["jurisdiction_code"],
                                      message, recipients(conn, q), now) is not None
    return raised
