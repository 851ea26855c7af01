"""Editing content through revisions: save draft, submit, approve (publish), return, withdraw.

The main row of a content table is what residents see.  While a published row
is being edited the public version stays exactly as it was: drafts live in
``revision.data`` (states draft / submitted / returned) and are copied into the
main row only when a reviewer approves them.  A row that was never published
has its main row in status draft or submitted, which resident screens never
show.  Every step writes an ``audit_log`` row with who, what, when, before and
after.  Nothing is deleted: withdrawal keeps the row, discarded drafts keep
their revision.

Review rules: village content is approved by a village supervisor
(村务监督委员会) of that village; township and county content by their reviewer
role or a county administrator.  Nobody approves a version they edited.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import auth, jurisdictions
from .db import get_meta, immediate as transaction, set_meta  # noqa: F401  (callers use editing.transaction)
from .timelimits import parse_time_limit

OPEN_STATES = ("draft", "submitted", "returned")

STATE_NAMES = {
    "draft": "草稿", "submitted": "待审核", "returned": "已退回", "published": "已发布",
    "superseded": "已被新稿替代", "discarded": "已放弃", "withdrawn": "已撤回",
}
ACTION_NAMES = {
    "create": "新建", "save": "保存草稿", "submit": "提交审核", "approve": "审核通过并发布",
    "return": "退回修改", "withdraw": "撤回", "discard": "放弃草稿", "mask": "一键遮挡",
    "login": "登录", "login_failed": "登录失败", "logout": "退出", "logout_everywhere": "退出所有设备",
    "import": "导入",
    "attach": "添加附件", "detach": "删除附件", "passwd": "修改密码",
    "urgent": "紧急发布（免审核）", "office_phone_add": "登记公开办公电话",
    "office_phone_remove": "取消公开办公电话",
    "update": "修改", "reset_password": "重置密码（一次性）", "disable": "停用", "enable": "启用",
    "hide": "隐藏", "show": "恢复显示", "merge": "撤并到承接单位", "retire": "撤销停用",
    "settings": "修改设置",
    "confirm_pictures": "确认图片中没有个人信息",
}


@dataclass(frozen=True)
class Entity:
    table: str
    label: str                    # Chinese noun for messages
    columns: tuple[str, ...]      # copied from revision data into the main row
    json_columns: tuple[str, ...] = ()
    virtual: tuple[str, ...] = ()  # kept in revision data, stored elsewhere on approval
    has_jurisdiction: bool = True
    title_keys: tuple[str, ...] = ("title",)
    extra_defaults: dict = field(default_factory=dict)
    fixed: tuple[str, ...] = ()    # set at creation, never changed by a later revision


ENTITIES: dict[str, Entity] = {e.table: e for e in (
    Entity("catalogue_item", "目录事项",
           ("jurisdiction_code", "domain_id", "matter_id", "seq", "level1", "level2",
            "content_elements", "basis", "time_limit_text", "time_limit", "publisher",
            "channels", "audience", "mode", "levels", "online_url", "review_by"),
           json_columns=("time_limit", "channels", "levels"), title_keys=("level1", "level2")),
    Entity("village_item", "村务公开事项",
           ("jurisdiction_code", "category", "title", "content", "time_limit_text", "time_limit",
            "frequency", "responsible", "channels", "matter_id", "seq", "review_by"),
           json_columns=("time_limit", "channels")),
    Entity("matter", "对照事项",
           ("key", "title", "domain_id", "description", "levels", "key_columns",
            "time_limit_text", "time_limit"),
           json_columns=("levels", "key_columns", "time_limit"), has_jurisdiction=False),
    Entity("notice", "公示公告",
           ("jurisdiction_code", "subject_code", "domain_id", "item_id", "village_item_id",
            "matter_id", "kind", "title", "body", "publisher", "fields", "table_columns",
            "table_rows", "formed_on", "period_start", "period_end", "expires_on", "priority",
            "online_url"),
           json_columns=("fields", "table_columns", "table_rows"), virtual=("attachments",)),
    Entity("guide", "办事指南",
           ("jurisdiction_code", "domain_id", "item_id", "title", "summary", "conditions",
            "materials", "steps", "office", "address", "hours", "phone", "fee",
            "time_limit_text", "basis", "online_url"),
           json_columns=("materials", "steps")),
    Entity("handbook", "办事一本通", ("jurisdiction_code", "title", "description"),
           virtual=("guide_ids",)),
    # Noticeboards: the slug is the screen's address (/display/<slug>), so it never changes.
    Entity("board", "电子公示栏",
           ("slug", "name", "location", "jurisdiction_code", "levels", "domains", "orientation",
            "slide_seconds", "poll_seconds", "windows", "fallback_title", "fallback_text", "sort"),
           json_columns=("levels", "domains", "windows"), title_keys=("name",), fixed=("slug",)),
    # 征求意见: the call for opinions and, after it closes, its result (采纳情况), both reviewed.
    Entity("consultation", "征求意见",
           ("jurisdiction_code", "domain_id", "title", "body", "opens_on", "closes_on", "documents",
            "result_summary"),
           json_columns=("documents",)),
    # 政策文件: its 解读, files and catalogue items are reviewed and released with it (content.policies).
    Entity("policy_document", "政策文件",
           ("jurisdiction_code", "domain_id", "doc_number", "issuer", "title", "body", "written_on",
            "issued_on", "validity", "lapsed_on", "disclosure", "withheld_reason",
            "needs_interpretation", "online_url"),
           virtual=("attachments", "item_ids", "interpretations")),
)}


class EditError(Exception):
    """A refused step; the message is shown to the user (Chinese)."""


class Denied(EditError):
    """The user may not do this to this object (answered with 403)."""


class Invalid(EditError):
    """Settings that break a rule of their noun; ``errors`` maps field names to Chinese messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()))
        self.errors = errors


class PrivacyBlocked(EditError):
    """Publishing refused: personal data is not masked."""

    def __init__(self, findings: list):
        super().__init__(f"发现 {len(findings)} 处未遮挡的个人信息，已拒绝发布")
        self.findings = findings


class FiguresBlocked(EditError):
    """Figures that do not add up (content.figures); going on needs a written reason."""

    def __init__(self, failures: list, step: str):
        super().__init__(f"发现 {len(failures)} 处数字核对不一致，"
                         + ("请改正后再提交，或填写说明后提交" if step == "submit"
                            else "请退回修改，或填写理由后审核通过"))
        self.failures = failures


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise EditError(f"未知内容类型：{name}") from None


# --- reading ---------------------------------------------------------------

def jurisdiction_of(conn: sqlite3.Connection, ent: Entity, data: dict) -> str | None:
    """The jurisdiction whose staff own an object (matters belong to the county)."""
    if ent.has_jurisdiction:
        return data.get("jurisdiction_code")
    county = jurisdictions.county(conn)
    return county["code"] if county else None


def row_data(conn: sqlite3.Connection, ent: Entity, row: sqlite3.Row | dict) -> dict:
    """The editable data of a main row, JSON decoded, virtual fields included."""
    data = {c: row[c] for c in ent.columns}
    for c in ent.json_columns:
        data[c] = json.loads(data[c]) if data[c] else None
    if ent.table == "policy_document":
        from . import policies  # noqa: PLC0415
        data.update(policies.virtual_data(conn, row["id"]))
    elif "attachments" in ent.virtual:
        data["attachments"] = [
            {"name": a["name"], "sha256": a["sha256"], "mime": a["mime"], "size": a["size"],
             "pictures": json.loads(a["pictures"])}
            for a in conn.execute("SELECT * FROM attachment WHERE notice_id = ? ORDER BY id",
                                  (row["id"],))]
    if "guide_ids" in ent.virtual:
        data["guide_ids"] = [r[0] for r in conn.execute(
            "SELECT guide_id FROM handbook_guide WHERE handbook_id = ? ORDER BY sort, guide_id",
            (row["id"],))]
    return data


def decode(ent: Entity, data: dict) -> dict:
    """Revision data with its JSON columns as values (older revisions stored them as text)."""
    out = dict(data)
    for c in ent.json_columns:
        if isinstance(out.get(c), str):
            try:
                out[c] = json.loads(out[c])
            except ValueError:
                pass
    return out


def get_row(conn: sqlite3.Connection, ent: Entity, obj_id: int) -> sqlite3.Row | None:
    return conn.execute(f"SELECT * FROM {ent.table} WHERE id = ?", (obj_id,)).fetchone()


def open_revision(conn: sqlite3.Connection, ent: Entity, obj_id: int) -> sqlite3.Row | None:
    return conn.execute(
        f"SELECT * FROM revision WHERE entity = ? AND entity_id = ? "
        f"AND state IN ({','.join('?' * len(OPEN_STATES))}) ORDER BY rev DESC LIMIT 1",
        (ent.table, obj_id, *OPEN_STATES)).fetchone()


def history(conn: sqlite3.Connection, ent: Entity, obj_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        """SELECT r.*, a.username AS author, a.display_name AS author_name,
                  v.username AS reviewer, v.display_name AS reviewer_name
           FROM revision r LEFT JOIN user a ON a.id = r.author_id
           LEFT JOIN user v ON v.id = r.reviewer_id
           WHERE r.entity = ? AND r.entity_id = ? ORDER BY r.rev DESC""",
        (ent.table, obj_id)).fetchall()


def working(conn: sqlite3.Connection, ent: Entity, obj_id: int) -> dict | None:
    """The object as its editors see it: public row, open revision and the data being worked on."""
    row = get_row(conn, ent, obj_id)
    if row is None:
        return None
    public = row_data(conn, ent, row)
    rev = open_revision(conn, ent, obj_id)
    data = decode(ent, json.loads(rev["data"])) if rev else public
    return {"id": obj_id, "row": row, "public": public, "open": rev, "data": data,
            "state": rev["state"] if rev else row["status"],
            "published": row["status"] == "published",
            "jurisdiction_code": jurisdiction_of(conn, ent, public)}


def existing(conn: sqlite3.Connection, user: sqlite3.Row | None, ent: Entity, obj_id: int,
             action: str | None = "edit") -> dict:
    """``working`` for a change: refused when the object is gone or ``action`` is out of the user's reach."""
    w = working(conn, ent, obj_id)
    if w is None:
        raise EditError(f"{ent.label}不存在")
    if action is not None:
        require(conn, user, action, w["jurisdiction_code"])
    return w


def title_of(ent: Entity, data: dict) -> str:
    parts = [str(data.get(k) or "") for k in ent.title_keys]
    return " · ".join(p for p in parts if p) or f"（未命名{ent.label}）"


# --- auditing --------------------------------------------------------------

def audit(conn: sqlite3.Connection, user: sqlite3.Row | None, action: str, entity_name: str = "",
          entity_id: object = "", before: object = None, after: object = None,
          remote: str = "", username: str | None = None) -> None:
    conn.execute(
        "INSERT INTO audit_log(at, user_id, username, action, entity, entity_id, before, after, remote) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (now_utc(), user["id"] if user else None,
         username if username is not None else (user["username"] if user else ""),
         action, entity_name, str(entity_id),
         None if before is None else json.dumps(before, ensure_ascii=False),
         None if after is None else json.dumps(after, ensure_ascii=False), remote))


def bump_content_version(conn: sqlite3.Connection) -> int:
    """Published content changed: a new content version (terminals and bundles follow it)."""
    current = get_meta(conn, "content_version") or "0"
    version = (int(current) if current.isdigit() else 0) + 1
    set_meta(conn, "content_version", str(version))
    set_meta(conn, "content_updated", datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M"))
    return version


# --- checks ----------------------------------------------------------------

def require(conn: sqlite3.Connection, user: sqlite3.Row, action: str, code: str | None) -> None:
    if not auth.allowed(conn, user, action, code):
        raise Denied("您没有权限进行此操作")


def _normalise(ent: Entity, data: dict) -> dict:
    """Keep known keys only; derive the parsed time limit from its text."""
    keys = set(ent.columns) | set(ent.virtual)
    clean = {k: data.get(k) for k in keys}
    if "time_limit" in ent.columns:
        clean["time_limit"] = parse_time_limit(clean.get("time_limit_text") or "")
    for k in ent.json_columns:
        if clean[k] is None and k != "time_limit":
            clean[k] = {} if k == "fields" else []
    for k in ent.virtual:
        clean[k] = clean[k] or []
    return clean


def validate(conn: sqlite3.Connection, ent: Entity, data: dict, obj_id: int | None = None) -> None:
    """Nouns with rules beyond the form (boards) are checked here too, so no caller can store
    a revision that would fail when approved."""
    if ent.table == "board":
        from . import board_settings  # noqa: PLC0415
        errors = board_settings.check(conn, data, obj_id)
        if errors:
            raise Invalid(errors)
    if ent.table == "consultation":
        from . import consultations  # noqa: PLC0415
        errors = consultations.check(data)
        if errors:
            raise Invalid(errors)
    if ent.table == "policy_document":
        from . import policies  # noqa: PLC0415
        errors = policies.check(data)
        if errors:
            raise Invalid(errors)


def _next_rev(conn: sqlite3.Connection, ent: Entity, obj_id: int) -> int:
    row = get_row(conn, ent, obj_id)
    top = conn.execute("SELECT max(rev) FROM revision WHERE entity = ? AND entity_id = ?",
                       (ent.table, obj_id)).fetchone()[0] or 0
    return max(top, row["rev"] if row else 0) + 1


def _insert_revision(conn, ent, obj_id, rev, data, state, user, code, note="") -> None:
    conn.execute(
        "INSERT INTO revision(entity, entity_id, rev, data, state, author_id, note, created_at, "
        "jurisdiction_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ent.table, obj_id, rev, json.dumps(data, ensure_ascii=False), state,
         user["id"] if user else None, note, now_utc(), code))


def _encode(ent: Entity, data: dict) -> dict:
    out = {c: data.get(c) for c in ent.columns}
    for c in ent.json_columns:
        out[c] = None if out[c] is None else json.dumps(out[c], ensure_ascii=False)
    return out


def _defaults(ent: Entity, values: dict) -> dict:
    """Main-row columns are NOT NULL with defaults: leave None out so the default applies."""
    return {k: v for k, v in values.items() if v is not None or k in ("matter_id", "time_limit")}


# --- steps -----------------------------------------------------------------

def create(conn: sqlite3.Connection, user: sqlite3.Row, name: str, data: dict,
           remote: str = "") -> int:
    """A new object: an unpublished main row plus its first draft revision."""
    ent = entity(name)
    data = _normalise(ent, data)
    code = jurisdiction_of(conn, ent, data)
    require(conn, user, "edit", code)
    return _create(conn, user, ent, data, code, remote)


def create_for(conn: sqlite3.Connection, user: sqlite3.Row, name: str, data: dict,
               remote: str = "") -> int:
    """A new draft written for a jurisdiction whose content the user may not edit: a township
    sending its village-list template to its villages (content.village_templates checks the
    user may). Only a draft: the village's own editors and supervisor take it from there."""
    ent = entity(name)
    data = _normalise(ent, data)
    return _create(conn, user, ent, data, jurisdiction_of(conn, ent, data), remote)


def _create(conn, user, ent: Entity, data: dict, code: str | None, remote: str) -> int:
    validate(conn, ent, data)
    with transaction(conn):
        values = _defaults(ent, _encode(ent, data))
        values.update(status="draft", rev=1)
        cols = ", ".join(values)
        cur = conn.execute(f"INSERT INTO {ent.table} ({cols}) VALUES ({', '.join('?' * len(values))})",
                           list(values.values()))
        obj_id = cur.lastrowid
        if ent.table in ("notice", "policy_document"):
            conn.execute(f"UPDATE {ent.table} SET created_by = ? WHERE id = ?", (user["id"], obj_id))
        _insert_revision(conn, ent, obj_id, 1, data, "draft", user, code)
        audit(conn, user, "create", ent.table, obj_id, None, data, remote)
    return obj_id


def save_draft(conn: sqlite3.Connection, user: sqlite3.Row, name: str, obj_id: int, data: dict,
               remote: str = "") -> int:
    """A new draft revision; the public row is untouched. Returns the revision number."""
    ent = entity(name)
    with transaction(conn):
        w = existing(conn, user, ent, obj_id)
        data = _normalise(ent, data)
        if ent.has_jurisdiction and data["jurisdiction_code"] != w["public"]["jurisdiction_code"]:
            raise Denied("不能更改内容所属的行政区划")
        for key in ent.fixed:
            if data.get(key) != w["public"].get(key):
                raise EditError(f"{LABELS.get(key, key)}创建后不能修改")
        validate(conn, ent, data, obj_id)
        if w["open"] is not None:
            conn.execute("UPDATE revision SET state = 'superseded' WHERE id = ?", (w["open"]["id"],))
        rev = _next_rev(conn, ent, obj_id)
        _insert_revision(conn, ent, obj_id, rev, data, "draft", user, w["jurisdiction_code"])
        if not w["published"] and w["row"]["status"] != "withdrawn":
            conn.execute(f"UPDATE {ent.table} SET status = 'draft' WHERE id = ?", (obj_id,))
        audit(conn, user, "save", ent.table, obj_id, w["data"], data, remote)
    return rev


def submit(conn: sqlite3.Connection, user: sqlite3.Row, name: str, obj_id: int,
           remote: str = "", figures_note: str = "") -> None:
    """Send the open draft to review; refused while it holds unmasked personal data, or
    figures that do not add up unless the editor explains why (``figures_note``)."""
    ent = entity(name)
    with transaction(conn):
        w = existing(conn, user, ent, obj_id)
        rev = w["open"]
        if rev is None or rev["state"] not in ("draft", "returned"):
            raise EditError("没有可提交的草稿")
        failures = _guard(conn, ent, w["data"], "submit", figures_note)
        note = (figures_note or "").strip()[:2000] if failures else ""
        conn.execute("UPDATE revision SET state = 'submitted', submitted_at = ?, "
                     "note = CASE WHEN ? = '' THEN note ELSE ? END WHERE id = ?",
                     (now_utc(), note, note, rev["id"]))
        if w["row"]["status"] == "draft":
            conn.execute(f"UPDATE {ent.table} SET status = 'submitted' WHERE id = ?", (obj_id,))
        audit(conn, user, "submit", ent.table, obj_id, None,
              {"rev": rev["rev"], **_override(failures, figures_note)}, remote)


def _guard(conn, ent: Entity, data: dict, step: str, reason: str = "") -> list:
    """The checks before submit and approve: personal data always blocks; figures that do
    not add up block unless a reason is given. Returns the figure failures let through."""
    from . import figures  # noqa: PLC0415
    if ent.table == "policy_document":       # released together with its 解读 (content.policies)
        from . import policies  # noqa: PLC0415
        problems = policies.release_problems(data)
        if problems:
            raise EditError("；".join(problems))
    findings = privacy_findings(ent, data, conn)
    if findings:
        raise PrivacyBlocked(findings)
    failures = figures.check(ent.table, data)
    if failures and not (reason or "").strip():
        raise FiguresBlocked(failures, step)
    return failures


def _override(failures: list, reason: str) -> dict:
    """What the audit log keeps when figure failures were let through."""
    if not failures:
        return {}
    return {"figures_reason": reason.strip()[:2000], "figures": [f.message for f in failures]}


def editors_since_publication(conn: sqlite3.Connection, ent: Entity, obj_id: int) -> set[int]:
    """Everyone who wrote a revision after the last published one: none of them may approve."""
    last = conn.execute(
        "SELECT max(rev) FROM revision WHERE entity = ? AND entity_id = ? AND state = 'published'",
        (ent.table, obj_id)).fetchone()[0] or 0
    return {r[0] for r in conn.execute(
        "SELECT author_id FROM revision WHERE entity = ? AND entity_id = ? AND rev > ? "
        "AND author_id IS NOT NULL", (ent.table, obj_id, last))}


def can_review(conn: sqlite3.Connection, user: sqlite3.Row | None, name: str, obj_id: int) -> bool:
    ent = entity(name)
    w = working(conn, ent, obj_id)
    return (user is not None and w is not None and w["open"] is not None
            and w["open"]["state"] == "submitted"
            and auth.allowed(conn, user, "review", w["jurisdiction_code"])
            and user["id"] not in editors_since_publication(conn, ent, obj_id))


def _check_reviewer(conn, user, ent, w) -> sqlite3.Row:
    require(conn, user, "review", w["jurisdiction_code"])
    rev = w["open"]
    if rev is None or rev["state"] != "submitted":
        raise EditError("没有待审核的版本")
    if user["id"] in editors_since_publication(conn, ent, w["id"]):
        raise Denied("不能审核自己编辑的内容，请由其他审核人审核")
    return rev


def pictures_to_confirm(data: dict) -> list[dict]:
    """Attachments residents will see as pictures: a reviewer must have looked at each."""
    return [a for a in data.get("attachments") or [] if a.get("pictures")]


def approve(conn: sqlite3.Connection, user: sqlite3.Row, name: str, obj_id: int,
            remote: str = "", override_reason: str = "", *, pictures_checked: bool = False) -> None:
    """Publish the submitted revision: copy it into the main row, bump the content version.

    Figures that do not add up are published only with the reviewer's reason (audited).
    Text is checked by the privacy guard; pictures cannot be, so a version with pictures
    is approved only when the reviewer confirms (``pictures_checked``) that none shows
    unmasked personal data, and that confirmation is audited."""
    ent = entity(name)
    with transaction(conn):
        w = existing(conn, user, ent, obj_id, action=None)
        rev = _check_reviewer(conn, user, ent, w)
        data = w["data"]
        failures = _guard(conn, ent, data, "approve", override_reason)
        pictures = pictures_to_confirm(data)
        if pictures and not pictures_checked:
            raise EditError("这份内容含有图片或PDF页面：请逐张查看，确认其中没有未遮挡的身份证号、"
                            "手机号、银行卡号等个人信息后，勾选确认再审核通过")
        if pictures:
            audit(conn, user, "confirm_pictures", ent.table, obj_id, None,
                  {"rev": rev["rev"], "attachments": [
                      {"name": a["name"], "sha256": a["sha256"], "pictures": len(a["pictures"])}
                      for a in pictures]}, remote)
        values = _encode(ent, data)
        values = {k: v for k, v in values.items() if v is not None or k in ("matter_id", "time_limit")
                  or k in _NULLABLE}
        sets = ", ".join(f"{k} = ?" for k in values)
        stamp = now_utc()
        conn.execute(f"UPDATE {ent.table} SET {sets}, status = 'published', rev = ?, updated_at = ? "
                     "WHERE id = ?", [*values.values(), rev["rev"], stamp, obj_id])
        if ent.table in ("notice", "policy_document"):
            conn.execute(f"UPDATE {ent.table} SET published_at = ? WHERE id = ? AND published_at IS NULL",
                         (stamp, obj_id))
        if ent.table == "notice":
            _sync_attachments(conn, obj_id, data.get("attachments") or [])
        if ent.table == "policy_document":
            from . import policies  # noqa: PLC0415
            policies.publish_parts(conn, obj_id, data, stamp)
        if ent.table == "handbook":
            _sync_handbook(conn, obj_id, data.get("guide_ids") or [])
        if ent.table == "consultation" and data.get("result_summary") \
                and data["result_summary"] != (w["public"].get("result_summary") if w["published"] else ""):
            conn.execute("UPDATE consultation SET result_published_on = ? WHERE id = ?", (stamp[:10], obj_id))
        conn.execute("UPDATE revision SET state = 'published', reviewer_id = ?, reviewed_at = ? "
                     "WHERE id = ?", (user["id"], stamp, rev["id"]))
        bump_content_version(conn)
        audit(conn, user, "approve", ent.table, obj_id, w["public"] if w["published"] else None,
              {**data, **_override(failures, override_reason)}, remote)


# Optional columns that may be cleared (NULL) by an edit.
_NULLABLE = {"domain_id", "item_id", "village_item_id", "review_by", "formed_on",
             "period_start", "period_end", "expires_on", "written_on", "issued_on", "lapsed_on"}


def _sync_attachments(conn, notice_id: int, wanted: list[dict]) -> None:
    have = {a["sha256"]: a for a in conn.execute(
        "SELECT * FROM attachment WHERE notice_id = ?", (notice_id,))}
    keep = {a["sha256"] for a in wanted}
    for sha, a in have.items():
        if sha not in keep:
            conn.execute("DELETE FROM attachment WHERE id = ?", (a["id"],))
    for a in wanted:
        pictures = json.dumps(a.get("pictures") or [], ensure_ascii=False)
        if a["sha256"] in have:
            conn.execute("UPDATE attachment SET name = ?, pictures = ? WHERE id = ?",
                         (a["name"], pictures, have[a["sha256"]]["id"]))
        else:
            conn.execute("INSERT INTO attachment(notice_id, name, sha256, mime, size, pictures) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (notice_id, a["name"], a["sha256"], a["mime"], a["size"], pictures))


def _sync_handbook(conn, handbook_id: int, guide_ids: list[int]) -> None:
    conn.execute("DELETE FROM handbook_guide WHERE handbook_id = ?", (handbook_id,))
    for sort, gid in enumerate(guide_ids):
        conn.execute("INSERT INTO handbook_guide(handbook_id, guide_id, sort) VALUES (?, ?, ?)",
                     (handbook_id, gid, sort))


def return_for_changes(conn: sqlite3.Connection, user: sqlite3.Row, name: str, obj_id: int,
                       reason: str, remote: str = "") -> None:
    """Send the submitted revision back to its editors with a reason."""
    ent = entity(name)
    reason = (reason or "").strip()
    if not reason:
        raise EditError("退回时必须填写理由")
    with transaction(conn):
        w = existing(conn, user, ent, obj_id, action=None)
        rev = _check_reviewer(conn, user, ent, w)
        conn.execute("UPDATE revision SET state = 'returned', note = ?, reviewer_id = ?, "
                     "reviewed_at = ? WHERE id = ?", (reason[:2000], user["id"], now_utc(), rev["id"]))
        if w["row"]["status"] == "submitted":
            conn.execute(f"UPDATE {ent.table} SET status = 'draft' WHERE id = ?", (obj_id,))
        audit(conn, user, "return", ent.table, obj_id, None, {"rev": rev["rev"], "reason": reason},
              remote)


def withdraw(conn: sqlite3.Connection, user: sqlite3.Row, name: str, obj_id: int,
             reason: str = "", remote: str = "") -> None:
    """Take a published object off the screens; the row and its history stay."""
    ent = entity(name)
    with transaction(conn):
        w = existing(conn, user, ent, obj_id)
        if not w["published"]:
            raise EditError("只有已发布的内容可以撤回")
        conn.execute(f"UPDATE {ent.table} SET status = 'withdrawn', updated_at = ? WHERE id = ?",
                     (now_utc(), obj_id))
        _insert_revision(conn, ent, obj_id, _next_rev(conn, ent, obj_id), w["public"], "withdrawn",
                         user, w["jurisdiction_code"], note=(reason or "").strip()[:2000])
        bump_content_version(conn)
        audit(conn, user, "withdraw", ent.table, obj_id, {"status": "published"},
              {"status": "withdrawn", "reason": reason}, remote)


def publish_urgent(conn: sqlite3.Connection, user: sqlite3.Row, name: str, data: dict,
                   note: str = "", remote: str = "") -> int:
    """Create and publish at once, without review: only for emergency notices (content.emergency),
    whose caller has checked the user may. The privacy guard still applies; the step is audited
    as 'urgent' and its revision is kept like any other."""
    ent = entity(name)
    data = _normalise(ent, data)
    code = jurisdiction_of(conn, ent, data)
    require(conn, user, "edit", code)
    validate(conn, ent, data)
    findings = privacy_findings(ent, data, conn)
    if findings:
        raise PrivacyBlocked(findings)
    with transaction(conn):
        stamp = now_utc()
        values = _defaults(ent, _encode(ent, data))
        values.update(status="published", rev=1)
        cur = conn.execute(f"INSERT INTO {ent.table} ({', '.join(values)}) "
                           f"VALUES ({', '.join('?' * len(values))})", list(values.values()))
        obj_id = cur.lastrowid
        if ent.table == "notice":
            conn.execute("UPDATE notice SET created_by = ?, published_at = ? WHERE id = ?",
                         (user["id"], stamp, obj_id))
        _insert_revision(conn, ent, obj_id, 1, data, "published", user, code, note=note)
        bump_content_version(conn)
        audit(conn, user, "urgent", ent.table, obj_id, None, data, remote)
    return obj_id


def discard(conn: sqlite3.Connection, user: sqlite3.Row, name: str, obj_id: int,
            remote: str = "") -> None:
    """Give up the open draft (kept as a discarded revision); the public version is unchanged."""
    ent = entity(name)
    with transaction(conn):
        w = existing(conn, user, ent, obj_id)
        if w["open"] is None:
            raise EditError("没有可放弃的草稿")
        conn.execute("UPDATE revision SET state = 'discarded' WHERE id = ?", (w["open"]["id"],))
        if w["row"]["status"] in ("draft", "submitted"):
            conn.execute(f"UPDATE {ent.table} SET status = 'withdrawn' WHERE id = ?", (obj_id,))
        audit(conn, user, "discard", ent.table, obj_id, w["data"], None, remote)


# --- privacy ---------------------------------------------------------------

# Chinese names of the editable fields (forms, privacy findings, audit views).
LABELS = {
    "jurisdiction_code": "所属行政区划", "subject_code": "涉及区域", "domain_id": "领域",
    "matter_id": "对照事项", "item_id": "目录事项", "village_item_id": "村务公开事项",
    "seq": "序号", "level1": "一级事项", "level2": "二级事项", "content_elements": "公开内容（要素）",
    "basis": "公开依据", "time_limit_text": "公开时限", "publisher": "公开主体",
    "channels": "公开渠道和载体", "audience": "公开对象", "mode": "公开方式", "levels": "公开层级",
    "online_url": "网上办理地址", "review_by": "评估日期", "category": "类别", "title": "标题",
    "content": "公开内容", "frequency": "公开频次", "responsible": "公开主体", "key": "编码",
    "description": "说明", "key_columns": "名单关键列", "kind": "类型", "body": "正文",
    "fields": "关键数据", "table_columns": "表格列", "table_rows": "表格", "formed_on": "信息形成日期",
    "period_start": "公示开始", "period_end": "公示结束", "expires_on": "有效期至",
    "priority": "重要程度", "attachments": "附件", "summary": "简介", "conditions": "办理条件",
    "materials": "申请材料", "steps": "办理流程", "office": "办理机构", "address": "办理地点",
    "hours": "办理时间", "phone": "咨询电话", "fee": "收费标准", "guide_ids": "包含的办事指南",
}
LABELS.update({
    "slug": "屏幕网址名", "name": "名称", "location": "安装位置", "domains": "显示的领域",
    "orientation": "屏幕方向", "slide_seconds": "每屏停留（秒）", "poll_seconds": "检查更新间隔（秒）",
    "windows": "每日显示时段", "fallback_title": "无公示时的标题", "fallback_text": "无公示时的说明",
    "sort": "排序",
    "opens_on": "开始日期", "closes_on": "截止日期", "documents": "征求意见稿",
    "result_summary": "意见采纳情况",
    "doc_number": "文号", "issuer": "发文机关", "written_on": "成文日期", "issued_on": "发布日期",
    "validity": "有效性", "lapsed_on": "失效或废止日期", "disclosure": "公开属性",
    "withheld_reason": "不主动公开的法定理由", "needs_interpretation": "属于政策解读范围",
    "item_ids": "所属目录事项", "interpretations": "政策解读", "form": "解读形式",
    "qa": "简明问答", "q": "问", "a": "答",
})

# Fields that hold codes, dates or settings rather than published text.
_NOT_TEXT = {"jurisdiction_code", "subject_code", "review_by", "formed_on", "period_start",
             "period_end", "expires_on", "opens_on", "closes_on", "key", "time_limit",
             "slug", "orientation", "windows", "levels", "domains", "guide_ids", "kind", "priority",
             "audience", "mode", "domain_id", "matter_id", "item_id", "village_item_id",
             "written_on", "issued_on", "lapsed_on", "validity", "disclosure", "needs_interpretation",
             "item_ids"}


def privacy_findings(ent: Entity, data: dict, conn: sqlite3.Connection | None = None) -> list:
    """Unmasked personal data in anything that would be published (see content.privacy):
    every text of every noun, landlines allowed only when marked as published office
    numbers of the content's jurisdiction (content.office_phones)."""
    from . import office_phones, privacy  # noqa: PLC0415  (imported lazily: only publishing needs them)
    labels = {**LABELS, "title": "标题", "body": "正文", "publisher": "发布单位"}
    code = jurisdiction_of(conn, ent, data) if conn is not None else None
    return privacy.scan_data(data, labels, _NOT_TEXT, office_phones.allowed(conn, code))


def masked(ent: Entity, data: dict, conn: sqlite3.Connection | None = None) -> dict:
    """The same data with every finding masked (and names in name columns of tables)."""
    from urllib.parse import unquote_plus  # noqa: PLC0415

    from . import office_phones, privacy  # noqa: PLC0415
    allowed = office_phones.allowed(conn, jurisdiction_of(conn, ent, data) if conn is not None else None)
    out = json.loads(json.dumps(data))
    for key, value in out.items():
        if key in _NOT_TEXT or key in ("table_columns", "table_rows", "attachments") or value is None:
            continue
        if key == "online_url":
            if privacy.scan_url(value, "", allowed):
                out[key] = privacy.mask_all(unquote_plus(value), allowed)
            continue
        out[key] = privacy.mask_data(value, allowed)
    if "table_rows" in out:
        out["table_columns"] = privacy.mask_data(out.get("table_columns") or [], allowed)
        out["table_rows"] = privacy.mask_table(out["table_columns"], out.get("table_rows") or [], allowed)
    for a in out.get("attachments") or []:
        a["name"] = privacy.mask_all(a["name"], allowed)
    return out


def mask(conn: sqlite3.Connection, user: sqlite3.Row, name: str, obj_id: int,
         remote: str = "") -> int:
    """One-click masking: a new draft with every finding masked."""
    ent = entity(name)
    w = existing(conn, user, ent, obj_id)
    rev = save_draft(conn, user, name, obj_id, masked(ent, w["data"], conn), remote)
    with transaction(conn):
        audit(conn, user, "mask", ent.table, obj_id, None, {"rev": rev}, remote)
    return rev
