"""Applications for government information (依申请公开): form rules, legal clock, workflow.

The workflow follows the 2019 regulation (政府信息公开条例):

    登记 → 审核 ─(补正, one notice, art. 30)→ 补正 → 审核 (the clock restarts)
               → 办理 ─(third party, art. 32)→ 征求意见 → 办理 (that time does not count)
                      (延期 once, at most 20 working days, art. 33)
               → 答复 (an outcome of the annual-report taxonomy) → 归档

``step`` is the pure state machine: it takes the clock state of one application
and an action, and returns the new state or raises ``Refused`` with a Chinese
message.  ``perform`` runs it against the database in one transaction, writing
the event, the audit row and the public status (stage and dates only).

Due dates count working days on the official calendar (``content.timelimits``),
the day of receipt not counted: 20 working days, plus the extension, plus the
working days spent waiting for a third party.
"""
from __future__ import annotations

import json
import re
import secrets
import sqlite3
import uuid as uuidlib
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timezone

from stdnum.cn import uscc

from . import privacy, retention
from .db import immediate
from .timelimits import add_workdays, is_workday, workdays_between

REPLY_WORKDAYS = 20          # art. 33
MAX_EXTENSION = 20           # art. 33: once, at most 20 working days
THIRD_PARTY_WORKDAYS = 15    # art. 32
COMPLETION_WORKDAYS = 7      # art. 30: the applicant completes within a reasonable time (local rules: 7)
DUE_SOON_WORKDAYS = 5

# Stages: the public names and what the status lookup says about each.
STAGES = ("登记", "审核", "补正", "办理", "征求意见", "答复", "归档")
STAGE_PUBLIC = {
    "登记": "已登记，等待审核",
    "审核": "审核中",
    "补正": "待补正：请按补正告知书补充申请内容",
    "办理": "办理中",
    "征求意见": "办理中（正在征求第三方意见，期间不计入答复期限）",
    "答复": "已答复",
    "归档": "已办结",
}
OPEN_STAGES = ("登记", "审核", "补正", "办理", "征求意见")
PAUSED_STAGES = ("补正", "征求意见")

# Outcomes (the annual-report taxonomy) and the reasons each requires.
OUTCOMES = {
    "予以公开": (),
    "部分公开": (),
    "不予公开": ("属于国家秘密", "其他法律行政法规禁止公开", "危及“三安全一稳定”",
                "保护第三方合法权益", "属于三类内部事务信息", "属于四类过程性信息",
                "属于行政执法案卷", "属于行政查询事项"),
    "无法提供": ("本机关不掌握相关政府信息", "没有现成信息需要另行制作", "补正后申请内容仍不明确"),
    "不予处理": ("信访举报投诉类申请", "重复申请", "要求提供公开出版物",
                "无正当理由大量反复申请", "要求行政机关确认或重新出具已获取信息"),
    "其他处理": (),
}

ACTIONS = {
    "register": "登记",
    "accept": "开始审核",
    "request_completion": "补正告知",
    "complete": "收到补正",
    "abandon": "逾期未补正",
    "process": "转入办理",
    "consult": "征求第三方意见",
    "third_party_reply": "第三方意见返回",
    "extend": "延期答复",
    "reply": "答复",
    "deliver": "送达",
    "archive": "归档",
}

# 送达: how the reply reached the applicant, and what each way must record.
DELIVERY_METHODS = ("自行领取", "邮寄", "电子邮件", "当面")

# Form choices (art. 29).
APPLICANT_TYPES = ("自然人", "法人或其他组织")
ORG_SUBTYPES = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
PERSON_ID_TYPES = ("居民身份证", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "护照", "其他")
ORG_ID_TYPES = ("统一社会信用代码", "其他")
PROVISION_FORMS = ("纸质", "电子邮件", "光盘", "其他")
DELIVERY_WAYS = ("邮寄", "自行领取", "电子邮件", "当场阅读、抄录", "其他")


class Refused(ValueError):
    """A step the workflow does not allow now; the message is for staff (Chinese)."""


# ---------------------------------------------------------------- the legal clock (pure)

@dataclass(frozen=True)
class Clock:
    """What the workflow needs to know about one application."""
    stage: str = "登记"
    received_on: date | None = None
    clock_start: date | None = None          # receipt, or the day the completion arrived
    paused_since: date | None = None         # open pause (补正 or third party)
    paused_days: int = 0                     # working days of closed third-party pauses
    completion_requested_on: date | None = None
    third_party_due: date | None = None
    extension_days: int = 0
    extension_reason: str = ""
    outcome: str = ""
    outcome_reason: str = ""
    replied_on: date | None = None
    delivered_on: date | None = None
    archived_on: date | None = None

    @property
    def due_on(self) -> date | None:
        """The legal reply date; None while the clock waits for a completion (补正)."""
        if self.clock_start is None or self.stage == "补正":
            return None
        return add_workdays(self.clock_start, REPLY_WORKDAYS + self.extension_days + self.paused_days)

    @property
    def completion_due(self) -> date | None:
        if self.completion_requested_on is None:
            return None
        return add_workdays(self.completion_requested_on, COMPLETION_WORKDAYS)


def due_date(received: date, extension_days: int = 0, paused_days: int = 0) -> date:
    """20 working days from receipt (the day of receipt not counted), plus extension and pauses."""
    return add_workdays(received, REPLY_WORKDAYS + extension_days + paused_days)


def working_days_left(due: date | None, today: date) -> int | None:
    """Working days from today until the due date (negative once overdue)."""
    if due is None:
        return None
    return workdays_between(today, due)


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise Refused(message)


def _stage_is(clock: Clock, action: str, *stages: str) -> None:
    if clock.stage not in stages:
        allowed = "、".join(stages)
        raise Refused(f"“{ACTIONS[action]}”只能在{allowed}阶段进行，本申请当前处于“{clock.stage}”阶段")


def _not_before(clock: Clock, on: date, since: date | None, what: str) -> None:
    if since is not None and on < since:
        raise Refused(f"日期不能早于{what}（{since.isoformat()}）")


def step(clock: Clock, action: str, on: date, **params) -> Clock:
    """The state after ``action`` on day ``on``; raises Refused when the workflow does not allow it."""
    if action not in ACTIONS or action == "register":
        raise Refused(f"未知的办理操作：{action}")
    _not_before(clock, on, clock.received_on, "收到申请之日")
    if action == "accept":
        _stage_is(clock, action, "登记")
        return replace(clock, stage="审核")

    if action == "request_completion":
        _stage_is(clock, action, "审核")
        _need(clock.completion_requested_on is None,
              "补正告知只能发出一次（条例第三十条：一次性告知需要补正的事项）")
        note = (params.get("note") or "").strip()
        _need(bool(note), "请写明需要补正的事项和合理的补正期限")
        return replace(clock, stage="补正", completion_requested_on=on, paused_since=on)

    if action == "complete":
        _stage_is(clock, action, "补正")
        _not_before(clock, on, clock.completion_requested_on, "补正告知之日")
        # Art. 31: the day the completion arrives is the new day of receipt.
        return replace(clock, stage="审核", clock_start=on, paused_since=None, paused_days=0)

    if action == "abandon":
        _stage_is(clock, action, "补正")
        due = clock.completion_due
        _need(due is not None and on > due,
              f"补正期限（{due.isoformat() if due else '—'}）尚未届满，不能按逾期未补正处理")
        return replace(clock, stage="归档", paused_since=None, outcome="其他处理",
                       outcome_reason="申请人无正当理由逾期不补正，视为放弃申请", archived_on=on)

    if action == "process":
        _stage_is(clock, action, "审核")
        return replace(clock, stage="办理")

    if action == "consult":
        _stage_is(clock, action, "办理")
        return replace(clock, stage="征求意见", paused_since=on,
                       third_party_due=add_workdays(on, THIRD_PARTY_WORKDAYS))

    if action == "third_party_reply":
        _stage_is(clock, action, "征求意见")
        _not_before(clock, on, clock.paused_since, "征求意见之日")
        # Art. 32: the time the third party takes is not counted.
        spent = workdays_between(clock.paused_since, on)
        return replace(clock, stage="办理", paused_since=None, paused_days=clock.paused_days + spent)

    if action == "extend":
        _stage_is(clock, action, "审核", "办理")
        _need(clock.extension_days == 0, "答复期限只能延长一次（条例第三十三条）")
        try:
            days = int(params.get("days") or 0)
        except (TypeError, ValueError):
            days = 0
        _need(1 <= days <= MAX_EXTENSION, f"延长的期限应为1至{MAX_EXTENSION}个工作日")
        reason = (params.get("reason") or "").strip()
        _need(bool(reason), "请写明延期理由（须经政府信息公开工作机构负责人同意并告知申请人）")
        due = clock.due_on
        _need(due is None or on <= due, f"答复期限（{due.isoformat() if due else ''}）已过，不能再延期")
        return replace(clock, extension_days=days, extension_reason=reason)

    if action == "reply":
        _stage_is(clock, action, "审核", "办理")
        outcome = (params.get("outcome") or "").strip()
        _need(outcome in OUTCOMES, "请选择答复结果（予以公开、部分公开、不予公开、无法提供、不予处理或其他处理）")
        reason = (params.get("reason") or "").strip()
        reasons = OUTCOMES[outcome]
        if reasons:
            _need(reason in reasons, f"“{outcome}”须选择理由：" + "、".join(reasons))
        elif outcome == "其他处理":
            _need(bool(reason), "“其他处理”须写明处理情况")
        return replace(clock, stage="答复", outcome=outcome, outcome_reason=reason, replied_on=on)

    if action == "deliver":
        _stage_is(clock, action, "答复")
        _not_before(clock, on, clock.replied_on, "答复之日")
        _need(clock.delivered_on is None, f"本申请已于{clock.delivered_on}送达，不能重复记录")
        check_delivery(params)
        return replace(clock, delivered_on=on)

    if action == "archive":
        _stage_is(clock, action, "答复")
        _need(clock.delivered_on is not None,
              "答复尚未送达，不能归档：请先记录送达方式和送达日期（自行领取、邮寄、电子邮件或当面送达）")
        _not_before(clock, on, clock.delivered_on, "送达之日")
        return replace(clock, stage="归档", archived_on=on)
    raise Refused(f"未知的办理操作：{action}")  # pragma: no cover  (every action handled above)


def check_delivery(params: dict) -> None:
    """Refuse a 送达 record that lacks what its method needs (tracking number, address, signature)."""
    method = (params.get("method") or "").strip()
    _need(method in DELIVERY_METHODS, "请选择送达方式：" + "、".join(DELIVERY_METHODS))
    detail = (params.get("detail") or "").strip()
    if method == "邮寄":
        _need(bool(re.fullmatch(r"[A-Za-z0-9\-]{6,40}", detail)),
              "邮寄送达请填写快递或挂号信的单号（6至40位字母或数字）")
    if method == "电子邮件":
        _need(bool(_EMAIL.match(detail)), "电子邮件送达请填写发送到的电子邮箱，例如 zhang@example.com")
    if method == "当面":
        _need(params.get("signed") in ("1", "on", "true", True),
              "当面送达须由申请人在送达回证上签字，请确认已签收后勾选")


def allowed_actions(clock: Clock) -> list[str]:
    """Actions the current stage offers (the forms the admin shows)."""
    by_stage = {
        "登记": ["accept"],
        "审核": ["process", "request_completion", "extend", "reply"],
        "补正": ["complete", "abandon"],
        "办理": ["consult", "extend", "reply"],
        "征求意见": ["third_party_reply"],
        "答复": ["deliver", "archive"],
        "归档": [],
    }
    actions = by_stage.get(clock.stage, [])
    if clock.completion_requested_on is not None:
        actions = [a for a in actions if a != "request_completion"]
    if clock.extension_days:
        actions = [a for a in actions if a != "extend"]
    actions = [a for a in actions if a != ("archive" if clock.delivered_on is None else "deliver")]
    return actions


# ---------------------------------------------------------------- the form (art. 29)

_PHONE_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMITS = {"name": 60, "id_number": 40, "phone": 20, "address": 120, "email": 80,
          "title": 100, "description": 1000, "doc_number": 60, "purpose": 200}
FIELD_LABELS = {
    "applicant_type": "申请人类型", "applicant_subtype": "组织类别", "name": "姓名或组织名称",
    "id_type": "证件类型", "id_number": "证件号码", "phone": "联系电话", "address": "通信地址",
    "email": "电子邮箱", "title": "所需信息名称", "doc_number": "文号", "description": "信息内容描述",
    "purpose": "用途", "provision_form": "获取信息的方式", "delivery": "获取信息的途径", "organ": "受理机关",
}


def _clean(value) -> str:
    return " ".join(str(value or "").split())


def _digits_only(value: str) -> str:
    return re.sub(r"[\s\-－—]", "", value).translate(str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX"))


def check_id_number(id_type: str, number: str) -> str | None:
    """A Chinese message when the number cannot be right for the type, else None."""
    if id_type == "居民身份证":
        n = _digits_only(number).upper()
        if not re.fullmatch(r"\d{17}[\dX]|\d{15}", n):
            return "身份证号码应为18位（最后一位可以是数字或X），请核对"
        if not privacy.is_valid_id_number(n):
            return "身份证号码不正确：校验位或出生日期不符，请逐位核对"
        return None
    if id_type == "统一社会信用代码":
        n = _digits_only(number).upper()
        if len(n) != 18:
            return "统一社会信用代码应为18位，请核对"
        if not uscc.is_valid(n):
            return "统一社会信用代码不正确：校验码不符，请逐位核对"
        return None
    if len(_clean(number)) < 5:
        return "请填写完整的证件号码"
    return None


def check_phone(phone: str) -> str | None:
    n = _digits_only(phone)
    if privacy.is_mobile(n) or _PHONE_LANDLINE.match(n):
        return None
    return "联系电话格式不正确：手机号码为11位（以1开头），固定电话请加区号，如0554-1234567"


def validate(form) -> tuple[dict, dict]:
    """(clean data, errors by field); errors empty means the application may be stored."""
    get = (lambda k: form.get(k, "")) if hasattr(form, "get") else (lambda k: "")
    data = {k: _clean(get(k)) for k in FIELD_LABELS}
    data["description"] = str(get("description") or "").strip()
    data["staff_assisted"] = 1 if get("staff_assisted") in ("1", "on", "true", True) else 0
    errors: dict[str, str] = {}

    if data["applicant_type"] not in APPLICANT_TYPES:
        errors["applicant_type"] = "请选择申请人类型：自然人，或法人或其他组织"
    org = data["applicant_type"] == "法人或其他组织"
    if org:
        if data["applicant_subtype"] not in ORG_SUBTYPES:
            errors["applicant_subtype"] = "请选择组织类别"
    else:
        data["applicant_subtype"] = ""
    id_types = ORG_ID_TYPES if org else PERSON_ID_TYPES
    if not data["name"]:
        errors["name"] = "请填写组织名称" if org else "请填写申请人姓名"
    if data["id_type"] not in id_types:
        errors["id_type"] = "请选择证件类型"
    if not data["id_number"]:
        errors["id_number"] = "请填写证件号码"
    elif "id_type" not in errors:
        msg = check_id_number(data["id_type"], data["id_number"])
        if msg:
            errors["id_number"] = msg
        elif data["id_type"] in ("居民身份证", "统一社会信用代码"):
            data["id_number"] = _digits_only(data["id_number"]).upper()
    if not data["phone"]:
        errors["phone"] = "请填写联系电话，便于通知您办理结果"
    else:
        msg = check_phone(data["phone"])
        if msg:
            errors["phone"] = msg
        else:
            data["phone"] = _digits_only(data["phone"]).removeprefix("+86")
    if data["email"] and not _EMAIL.match(data["email"]):
        errors["email"] = "电子邮箱格式不正确，例如 zhang@example.com"
    if not data["description"] and not data["doc_number"] and not data["title"]:
        errors["title"] = "请描述所需信息：名称、文号或其他便于查找的特征，至少填写一项"
    if data["provision_form"] not in PROVISION_FORMS:
        errors["provision_form"] = "请选择获取信息的方式"
    if data["delivery"] not in DELIVERY_WAYS:
        errors["delivery"] = "请选择获取信息的途径"
    if (data["provision_form"] == "电子邮件" or data["delivery"] == "电子邮件") and not data["email"]:
        errors["email"] = "选择电子邮件方式时，请填写电子邮箱"
    if data["delivery"] == "邮寄" and not data["address"]:
        errors["address"] = "选择邮寄时，请填写通信地址"
    for k, limit in LIMITS.items():
        if len(data.get(k, "")) > limit and k not in errors:
            errors[k] = f"{FIELD_LABELS[k]}过长，请不超过{limit}个字"
    return data, errors


def phone_tail(phone: str) -> str:
    return _digits_only(phone)[-4:]


# ---------------------------------------------------------------- storage

def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _audit(conn, user, action: str, entity_id: str, before, after, remote: str = "") -> None:
    conn.execute(
        "INSERT INTO audit_log(at, user_id, username, action, entity, entity_id, before, after, remote) "
        "VALUES (?, ?, ?, ?, 'application', ?, ?, ?, ?)",
        (now_utc(), user["id"] if user else None, user["username"] if user else "",
         action, entity_id, None if before is None else json.dumps(before, ensure_ascii=False, default=str),
         None if after is None else json.dumps(after, ensure_ascii=False, default=str), remote))


_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ"   # no I or O: read aloud over the phone


def receipt_tag(conn: sqlite3.Connection, role: str) -> str:
    """A terminal's own three letters, so receipts made on different terminals never clash at the hub."""
    if role != "terminal":
        return ""
    row = conn.execute("SELECT value FROM meta WHERE key = 'receipt_tag'").fetchone()
    if row and row[0]:
        return row[0]
    tag = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(3))
    conn.execute("INSERT INTO meta(key, value) VALUES ('receipt_tag', ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (tag,))
    return tag


def next_receipt_no(conn: sqlite3.Connection, on: date, tag: str = "") -> str:
    """YSQ-20261126-0007 (or YSQ-20261126-KPX-0007 on a terminal): the day's next number."""
    prefix = f"YSQ-{on:%Y%m%d}-" + (f"{tag}-" if tag else "")
    rows = conn.execute("SELECT receipt_no FROM application WHERE receipt_no LIKE ? ",
                        (prefix + "%",)).fetchall()
    used = [int(r[0][len(prefix):]) for r in rows if r[0][len(prefix):].isdigit()]
    return f"{prefix}{max(used, default=0) + 1:04d}"


def normalise_receipt(text: str) -> str:
    return re.sub(r"\s+", "", str(text or "")).upper().replace("—", "-").replace("－", "-")


def payload(row: sqlite3.Row | dict) -> dict:
    return {k: row[k] for k in row.keys()}


def create(conn: sqlite3.Connection, data: dict, jurisdiction_code: str, on: date,
           role: str = "standalone", enqueue=None) -> dict:
    """Store a validated application with its first event, in one transaction; returns the row.

    ``enqueue(conn, kind, uuid, payload)`` (content.outbox.enqueue on terminals)
    is called inside the same transaction so the record travels upstream once.
    """
    with immediate(conn):
        record_uuid = str(uuidlib.uuid4())
        receipt = next_receipt_no(conn, on, receipt_tag(conn, role))
        due = due_date(on)
        cols = ["uuid", "receipt_no", "jurisdiction_code", "applicant_type", "applicant_subtype",
                "name", "id_type", "id_number", "phone", "address", "email", "title", "description",
                "doc_number", "purpose", "provision_form", "delivery", "staff_assisted", "stage",
                "received_on", "clock_start", "due_on", "organ_code", "organ_dept"]
        values = {**{k: data.get(k, "") for k in cols}, "uuid": record_uuid, "receipt_no": receipt,
                  "jurisdiction_code": jurisdiction_code, "stage": "登记",
                  "received_on": on.isoformat(), "clock_start": on.isoformat(),
                  "due_on": due.isoformat(), "staff_assisted": int(data.get("staff_assisted") or 0)}
        conn.execute(f"INSERT INTO application ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                     [values[k] for k in cols])
        conn.execute(
            "INSERT INTO application_event(application_uuid, action, on_date, stage_after, data) "
            "VALUES (?, 'register', ?, '登记', ?)",
            (record_uuid, on.isoformat(), json.dumps({"due_on": due.isoformat()})))
        row = conn.execute("SELECT * FROM application WHERE uuid = ?", (record_uuid,)).fetchone()
        if enqueue is not None:
            enqueue(conn, "application", record_uuid, payload(row))
    return dict(row)


def _d(value) -> date | None:
    return date.fromisoformat(value) if value else None


def clock_of(row) -> Clock:
    return Clock(
        stage=row["stage"], received_on=_d(row["received_on"]),
        clock_start=_d(row["clock_start"] or row["received_on"]), paused_since=_d(row["paused_since"]),
        paused_days=row["paused_days"] or 0, completion_requested_on=_d(row["completion_requested_on"]),
        third_party_due=_d(row["third_party_due"]), extension_days=row["extension_days"] or 0,
        extension_reason=row["extension_reason"] or "", outcome=row["outcome"] or "",
        outcome_reason=row["outcome_reason"] or "", replied_on=_d(row["replied_on"]),
        delivered_on=_d(row["delivered_on"]) if "delivered_on" in row.keys() else None,
        archived_on=_d(row["archived_on"]))


def _clock_columns(clock: Clock) -> dict:
    out = {}
    for k, v in asdict(clock).items():
        if k == "received_on":
            continue
        out[k] = v.isoformat() if isinstance(v, date) else v
    due = clock.due_on
    out["due_on"] = due.isoformat() if due else None
    return out


def get(conn: sqlite3.Connection, record_uuid: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM application WHERE uuid = ?", (record_uuid,)).fetchone()


def get_by_receipt(conn: sqlite3.Connection, receipt_no: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM application WHERE receipt_no = ?",
                        (normalise_receipt(receipt_no),)).fetchone()


def publish_status(conn: sqlite3.Connection, row) -> None:
    """The public line for this application: stage and dates, nothing personal."""
    conn.execute(
        "INSERT INTO application_status(receipt_no, jurisdiction_code, stage, due_on, paused, outcome, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(receipt_no) DO UPDATE SET stage = excluded.stage, "
        "due_on = excluded.due_on, paused = excluded.paused, outcome = excluded.outcome, "
        "updated_at = excluded.updated_at",
        (row["receipt_no"], row["jurisdiction_code"], row["stage"], row["due_on"],
         1 if row["stage"] in PAUSED_STAGES else 0, row["outcome"], now_utc()))


def perform(conn: sqlite3.Connection, record_uuid: str, action: str, on: date, user=None,
            remote: str = "", **params) -> sqlite3.Row:
    """Run one workflow step in one transaction: the row, its event, the audit log, the public status."""
    with immediate(conn):
        row = get(conn, record_uuid)
        if row is None:
            raise Refused("没有这件申请")
        before = clock_of(row)
        after = step(before, action, on, **params)
        cols = _clock_columns(after)
        if action == "request_completion":
            cols["completion_note"] = params["note"].strip()
        if action == "reply":
            cols["reply_note"] = (params.get("note") or "").strip()
        if action == "deliver":
            cols["delivery_method"] = params["method"].strip()
            cols["delivery_detail"] = (params.get("detail") or "").strip()
            cols["delivery_signed"] = 1 if params["method"].strip() == "当面" else 0
        cols["updated_at"] = now_utc()
        conn.execute(f"UPDATE application SET {', '.join(f'{k} = ?' for k in cols)} WHERE uuid = ?",
                     [*cols.values(), record_uuid])
        note = " ".join(str(params.get(k) or "").strip() for k in ("note", "reason") if params.get(k)).strip()
        # The delivery detail (an e-mail address) stays on the row, which retention scrubs;
        # the history and the audit log outlive it.
        event_data = {k: v for k, v in params.items() if k not in ("note", "detail") and v not in (None, "")}
        event_data["due_on"] = cols["due_on"]
        conn.execute(
            "INSERT INTO application_event(application_uuid, action, on_date, stage_before, stage_after, "
            "note, data, user_id, username) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record_uuid, action, on.isoformat(), before.stage, after.stage, note,
             json.dumps(event_data, ensure_ascii=False, default=str),
             user["id"] if user else None, user["username"] if user else ""))
        _audit(conn, user, "application_" + action, row["receipt_no"],
               {"stage": before.stage, "due_on": row["due_on"]},
               {"stage": after.stage, "due_on": cols["due_on"], **event_data}, remote)
        row = get(conn, record_uuid)
        publish_status(conn, row)
    return row


def recount_due_dates(conn: sqlite3.Connection) -> int:
    """Count the due dates of open applications again (a holiday schedule was entered or
    changed), inside the caller's transaction; returns how many changed. The public status
    follows, so terminals show the new date too."""
    moved = 0
    for row in conn.execute("SELECT * FROM application WHERE stage IN "
                            f"({','.join('?' * len(OPEN_STAGES))})", OPEN_STAGES).fetchall():
        clock = clock_of(row)
        due = clock.due_on.isoformat() if clock.due_on else None
        third = (add_workdays(clock.paused_since, THIRD_PARTY_WORKDAYS).isoformat()
                 if row["stage"] == "征求意见" and clock.paused_since else row["third_party_due"])
        if due == row["due_on"] and third == row["third_party_due"]:
            continue
        conn.execute("UPDATE application SET due_on = ?, third_party_due = ?, updated_at = ? WHERE uuid = ?",
                     (due, third, now_utc(), row["uuid"]))
        publish_status(conn, get(conn, row["uuid"]))
        moved += 1
    return moved


def events(conn: sqlite3.Connection, record_uuid: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM application_event WHERE application_uuid = ? ORDER BY id",
                        (record_uuid,)).fetchall()


# ---------------------------------------------------------------- lists and the public lookup

def listing(conn: sqlite3.Connection, codes: list[str] | None, today: date,
            which: str = "open") -> list[dict]:
    """Applications with their working days left; which = open | due_soon | overdue | paused | closed | all."""
    sql = "SELECT a.*, j.name AS jurisdiction_name FROM application a JOIN jurisdiction j ON j.code = a.jurisdiction_code"
    params: list = []
    if codes is not None:
        marks = ",".join("?" * len(codes)) or "NULL"
        sql += f" WHERE (a.jurisdiction_code IN ({marks}) OR a.organ_code IN ({marks}))"
        params += codes + codes
    rows = conn.execute(sql + " ORDER BY a.received_on, a.receipt_no", params).fetchall()
    out = []
    for r in rows:
        item = dict(r)
        clock = clock_of(r)
        item["left"] = working_days_left(clock.due_on, today) if r["stage"] in OPEN_STAGES else None
        item["urgency"] = urgency(r["stage"], clock.due_on, today)
        out.append(item)
    keep = {
        "open": lambda i: i["stage"] in OPEN_STAGES,
        "due_soon": lambda i: i["urgency"] == "due_soon",
        "overdue": lambda i: i["urgency"] == "overdue",
        "paused": lambda i: i["stage"] in PAUSED_STAGES,
        "closed": lambda i: i["stage"] not in OPEN_STAGES,
        "all": lambda i: True,
    }.get(which, lambda i: True)
    return [i for i in out if keep(i)]


def urgency(stage: str, due: date | None, today: date) -> str:
    """'' | 'paused' | 'due_soon' | 'overdue' for an application on ``today``."""
    if stage not in OPEN_STAGES:
        return ""
    if stage in PAUSED_STAGES or due is None:
        return "paused"
    if today > due:
        return "overdue"
    if workdays_between(today, due) <= DUE_SOON_WORKDAYS:
        return "due_soon"
    return ""


def lookup(conn: sqlite3.Connection, receipt_no: str, tail: str) -> dict | None:
    """The public status for a receipt number and the phone's last 4 digits; None if they do not match.

    Only the stage and dates come back, never personal data. Where the hub
    published a newer status (a terminal's bundle), it wins over the local row.
    """
    tail = _digits_only(tail or "")
    if not re.fullmatch(r"\d{4}", tail):
        return None
    row = get_by_receipt(conn, receipt_no)
    if row is None:
        return None
    if row["lookup_hash"]:     # a terminal keeps only a digest once the hub holds the application
        if not secrets.compare_digest(row["lookup_hash"], retention.lookup_digest(row["receipt_no"], tail)):
            return None
    elif not secrets.compare_digest(phone_tail(row["phone"]), tail):
        return None
    status = conn.execute("SELECT * FROM application_status WHERE receipt_no = ?",
                          (row["receipt_no"],)).fetchone()
    stage = status["stage"] if status else row["stage"]
    due = status["due_on"] if status else row["due_on"]
    outcome = status["outcome"] if status else row["outcome"]
    return {"receipt_no": row["receipt_no"], "received_on": row["received_on"], "stage": stage,
            "stage_text": STAGE_PUBLIC.get(stage, stage), "due_on": due if stage in OPEN_STAGES else None,
            "paused": stage in PAUSED_STAGES, "outcome": outcome if stage not in OPEN_STAGES else "",
            "steps": [s for s in ("登记", "审核", "办理", "答复", "归档")],
            "current": {"补正": "审核", "征求意见": "办理"}.get(stage, stage)}


def next_working_day(d: date) -> date:
    return d if is_workday(d) else add_workdays(d, 1)
