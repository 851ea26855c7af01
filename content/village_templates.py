"""Village-list templates (村务公开事项清单模板): the standard list kept once, sent to villages.

A county administrator (or a township's staff) keeps a template of village-list
items and sends it to all or some of the villages below it: each village gets
its own items as drafts (or, where it already has an item of the same category
and title, that item is linked and left as it is), which its editors complete
and its supervisory committee approves like any other village content.

A later change to the template never touches a village's items. Each village
sees it as a suggestion — an item changed, added or removed — and accepts it
(a new draft of its own item with the changed fields, a new draft item, or the
item withdrawn) or dismisses it. ``village_template_use`` remembers, per
template item and village, the template fields last taken over or dismissed
(``base``) and that version, so a suggestion shows exactly what the template
changed since.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from . import auth, editing, jurisdictions

ITEM_FIELDS = ("category", "title", "content", "time_limit_text", "frequency", "responsible", "channels")
FIELD_LABELS = {k: editing.LABELS[k] for k in ITEM_FIELDS}
MANAGERS = {"county_admin": ("county", "township"), "township_editor": ("township",)}
MAX_TEXT = {"category": 20, "title": 100, "content": 2000, "time_limit_text": 200, "frequency": 40,
            "responsible": 60}
SUGGESTION_NAMES = {"update": "模板修改了这一项", "add": "模板新增了这一项", "remove": "模板删除了这一项"}


class TemplateError(editing.EditError):
    """Refused; the message is for staff (Chinese)."""


# ---------------------------------------------------------------- reading

def get(conn: sqlite3.Connection, template_id: int) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT t.*, j.name AS owner_name, j.level AS owner_level FROM village_template t "
        "JOIN jurisdiction j ON j.code = t.owner_code WHERE t.id = ?", (template_id,)).fetchone()


def items(conn: sqlite3.Connection, template_id: int, removed: bool = False) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM village_template_item WHERE template_id = ? " + ("" if removed else "AND removed = 0 ")
        + "ORDER BY seq, id", (template_id,)).fetchall()


def item_data(row) -> dict:
    data = {k: row[k] for k in ITEM_FIELDS}
    data["channels"] = json.loads(data["channels"]) if isinstance(data["channels"], str) else data["channels"]
    return data


def may_manage(conn: sqlite3.Connection, user, owner_code: str | None) -> bool:
    """County administrators keep county and township templates, township staff their own."""
    if user is None or not owner_code:
        return False
    owner = jurisdictions.get(conn, owner_code)
    return (owner is not None and owner["level"] in MANAGERS.get(user["role"], ())
            and auth.can_reach(conn, user, owner_code))


def owners_for(conn: sqlite3.Connection, user) -> list[sqlite3.Row]:
    """Jurisdictions whose templates the user may keep."""
    levels = MANAGERS.get(user["role"] if user else "", ())
    if not levels:
        return []
    reach = auth.reachable_codes(conn, user)
    rows = conn.execute(f"SELECT * FROM jurisdiction WHERE level IN ({','.join('?' * len(levels))}) "
                        "ORDER BY level = 'township', sort, code", levels).fetchall()
    return [r for r in rows if r["code"] in reach]


def visible(conn: sqlite3.Connection, user) -> list[sqlite3.Row]:
    """Templates the user keeps, with counts of items and villages sent to."""
    codes = [r["code"] for r in owners_for(conn, user)]
    return conn.execute(
        f"""SELECT t.*, j.name AS owner_name,
                   (SELECT count(*) FROM village_template_item i WHERE i.template_id = t.id AND i.removed = 0) AS n_items,
                   (SELECT count(*) FROM village_template_target g WHERE g.template_id = t.id) AS n_villages
            FROM village_template t JOIN jurisdiction j ON j.code = t.owner_code
            WHERE t.owner_code IN ({','.join('?' * len(codes)) or 'NULL'}) ORDER BY t.id""", codes).fetchall()


def villages_under(conn: sqlite3.Connection, code: str) -> list[sqlite3.Row]:
    """Villages below a county or township, with their township, in order."""
    return conn.execute(
        """WITH RECURSIVE down(code) AS (SELECT ? UNION ALL
               SELECT j.code FROM jurisdiction j JOIN down ON j.parent_code = down.code)
           SELECT v.code, v.name, t.code AS township_code, t.name AS township
           FROM jurisdiction v JOIN down ON down.code = v.code
           LEFT JOIN jurisdiction t ON t.code = v.parent_code
           WHERE v.level = 'village' ORDER BY t.sort, t.code, v.sort, v.code""", (code,)).fetchall()


def targets(conn: sqlite3.Connection, template_id: int) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT village_code FROM village_template_target WHERE template_id = ?", (template_id,))}


# ---------------------------------------------------------------- keeping a template

def _require_manage(conn, user, owner_code: str) -> None:
    if not may_manage(conn, user, owner_code):
        raise editing.Denied("您没有权限管理这个清单模板")


def _clean(data: dict) -> dict:
    out = {}
    for k in ITEM_FIELDS:
        if k == "channels":
            value = data.get(k) or []
            if isinstance(value, str) and value.startswith("["):
                value = json.loads(value)          # as stored in village_item
            if isinstance(value, str):
                value = [c.strip() for c in value.replace("，", "、").replace(",", "、").split("、") if c.strip()]
            out[k] = value
            continue
        out[k] = " ".join(str(data.get(k) or "").split()) if k != "content" else str(data.get(k) or "").strip()
        if len(out[k]) > MAX_TEXT[k]:
            raise TemplateError(f"{FIELD_LABELS[k]}过长，请不超过{MAX_TEXT[k]}个字")
    if not out["category"]:
        raise TemplateError("请填写类别（如 村级财务、惠农政策）")
    if not out["title"]:
        raise TemplateError("请填写事项名称")
    return out


def create(conn: sqlite3.Connection, user, owner_code: str, name: str, description: str = "",
           remote: str = "") -> int:
    name = " ".join((name or "").split())
    if not name:
        raise TemplateError("请填写模板名称")
    if len(name) > 60:
        raise TemplateError("模板名称过长，请不超过60个字")
    _require_manage(conn, user, owner_code)
    with editing.transaction(conn):
        tid = conn.execute("INSERT INTO village_template(owner_code, name, description) VALUES (?, ?, ?)",
                           (owner_code, name, (description or "").strip()[:500])).lastrowid
        editing.audit(conn, user, "template_create", "village_template", tid, None,
                      {"owner_code": owner_code, "name": name}, remote)
    return tid


def _bump(conn, template_id: int) -> int:
    conn.execute("UPDATE village_template SET version = version + 1, updated_at = ? WHERE id = ?",
                 (editing.now_utc(), template_id))
    return conn.execute("SELECT version FROM village_template WHERE id = ?", (template_id,)).fetchone()[0]


def _template_for_change(conn, user, template_id: int) -> sqlite3.Row:
    t = get(conn, template_id)
    if t is None:
        raise TemplateError("清单模板不存在")
    _require_manage(conn, user, t["owner_code"])
    return t


def add_item(conn: sqlite3.Connection, user, template_id: int, data: dict, remote: str = "") -> int:
    data = _clean(data)
    with editing.transaction(conn):
        _template_for_change(conn, user, template_id)
        version = _bump(conn, template_id)
        seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM village_template_item WHERE template_id = ?",
                           (template_id,)).fetchone()[0]
        iid = conn.execute(
            "INSERT INTO village_template_item(template_id, category, title, content, time_limit_text, "
            "frequency, responsible, channels, seq, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (template_id, *[data[k] for k in ITEM_FIELDS[:-1]], json.dumps(data["channels"], ensure_ascii=False),
             seq, version)).lastrowid
        editing.audit(conn, user, "template_item_add", "village_template", template_id, None,
                      {"item": iid, **data}, remote)
    return iid


def _item_for_change(conn, user, template_id: int, item_id: int) -> sqlite3.Row:
    _template_for_change(conn, user, template_id)
    row = conn.execute("SELECT * FROM village_template_item WHERE id = ? AND template_id = ?",
                       (item_id, template_id)).fetchone()
    if row is None or row["removed"]:
        raise TemplateError("模板中没有这一项")
    return row


def update_item(conn: sqlite3.Connection, user, template_id: int, item_id: int, data: dict,
                remote: str = "") -> bool:
    """Change a template item; villages get a suggestion. False when nothing changed."""
    data = _clean(data)
    with editing.transaction(conn):
        row = _item_for_change(conn, user, template_id, item_id)
        before = item_data(row)
        if before == data:
            return False
        version = _bump(conn, template_id)
        conn.execute(
            "UPDATE village_template_item SET category = ?, title = ?, content = ?, time_limit_text = ?, "
            "frequency = ?, responsible = ?, channels = ?, version = ?, updated_at = ? WHERE id = ?",
            (*[data[k] for k in ITEM_FIELDS[:-1]], json.dumps(data["channels"], ensure_ascii=False),
             version, editing.now_utc(), item_id))
        editing.audit(conn, user, "template_item_change", "village_template", template_id,
                      {"item": item_id, **before}, {"item": item_id, **data}, remote)
    return True


def remove_item(conn: sqlite3.Connection, user, template_id: int, item_id: int, remote: str = "") -> None:
    with editing.transaction(conn):
        row = _item_for_change(conn, user, template_id, item_id)
        version = _bump(conn, template_id)
        conn.execute("UPDATE village_template_item SET removed = 1, version = ?, updated_at = ? WHERE id = ?",
                     (version, editing.now_utc(), item_id))
        editing.audit(conn, user, "template_item_remove", "village_template", template_id,
                      {"item": item_id, **item_data(row)}, None, remote)


def copy_from_village(conn: sqlite3.Connection, user, template_id: int, village_code: str,
                      remote: str = "") -> int:
    """Add a model village's published list to the template (items already there by category
    and title are skipped); returns how many were added."""
    t = _template_for_change(conn, user, template_id)
    if village_code not in {v["code"] for v in villages_under(conn, t["owner_code"])}:
        raise editing.Denied("所选的村不在这个模板的范围内")
    have = {(r["category"], r["title"]) for r in items(conn, template_id)}
    rows = conn.execute("SELECT * FROM village_item WHERE jurisdiction_code = ? AND status = 'published' "
                        "ORDER BY seq, id", (village_code,)).fetchall()
    added = 0
    with editing.transaction(conn):
        for r in rows:
            if (r["category"], r["title"]) in have:
                continue
            add_item(conn, user, template_id, {k: r[k] for k in ITEM_FIELDS}, remote)
            have.add((r["category"], r["title"]))
            added += 1
    return added


# ---------------------------------------------------------------- sending to villages

@dataclass
class Sent:
    villages: int = 0
    created: int = 0          # new draft items
    linked: int = 0           # existing items of the same category and title, left as they were
    already: int = 0          # template items the village had received before

    def summary(self) -> str:
        return (f"已下发到 {self.villages} 个村（社区）：新建草稿 {self.created} 条，"
                f"沿用村里已有的同名事项 {self.linked} 条" + (f"，此前已下发 {self.already} 条" if self.already else ""))


def _village_item_data(code: str, data: dict, seq: int) -> dict:
    return {**{k: data[k] for k in ITEM_FIELDS}, "jurisdiction_code": code, "seq": seq,
            "matter_id": None, "review_by": None}


def send(conn: sqlite3.Connection, user, template_id: int, village_codes: list[str],
         remote: str = "") -> Sent:
    """Send the template to villages below its owner, as drafts; all or nothing."""
    t = _template_for_change(conn, user, template_id)
    allowed = {r["code"] for r in villages_under(conn, t["owner_code"])}
    chosen = list(dict.fromkeys(village_codes))
    if not chosen:
        raise TemplateError("请至少选择一个村（社区）")
    outside = [c for c in chosen if c not in allowed or not auth.can_reach(conn, user, c)]
    if outside:
        raise editing.Denied("所选的村不在这个模板的范围内")
    active = items(conn, template_id)
    if not active:
        raise TemplateError("模板中还没有事项，请先添加")
    out = Sent()
    with editing.transaction(conn):
        for code in chosen:
            conn.execute("INSERT OR IGNORE INTO village_template_target(template_id, village_code, sent_by) "
                         "VALUES (?, ?, ?)", (template_id, code, user["id"]))
            out.villages += 1
            for row in active:
                if conn.execute("SELECT 1 FROM village_template_use WHERE template_item_id = ? AND village_code = ?",
                                (row["id"], code)).fetchone():
                    out.already += 1
                    continue
                data = item_data(row)
                same = conn.execute(
                    "SELECT id FROM village_item WHERE jurisdiction_code = ? AND category = ? AND title = ? "
                    "AND status != 'withdrawn' ORDER BY status = 'published' DESC, id LIMIT 1",
                    (code, data["category"], data["title"])).fetchone()
                if same:
                    item_id = same["id"]
                    out.linked += 1
                else:
                    item_id = editing.create_for(conn, user, "village_item",
                                                 _village_item_data(code, data, row["seq"]), remote)
                    out.created += 1
                _use(conn, row, code, item_id)
        editing.audit(conn, user, "template_send", "village_template", template_id, None,
                      {"villages": chosen, "created": out.created, "linked": out.linked}, remote)
    return out


def _use(conn, item_row, code: str, village_item_id: int | None) -> None:
    conn.execute(
        "INSERT INTO village_template_use(template_item_id, village_code, village_item_id, base, seen_version, "
        "decided_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(template_item_id, village_code) DO UPDATE SET "
        "village_item_id = excluded.village_item_id, base = excluded.base, seen_version = excluded.seen_version, "
        "decided_at = excluded.decided_at",
        (item_row["id"], code, village_item_id, json.dumps(item_data(item_row), ensure_ascii=False),
         item_row["version"], editing.now_utc()))


# ---------------------------------------------------------------- suggestions in a village

@dataclass
class Suggestion:
    kind: str                     # update | add | remove
    template_id: int
    template_name: str
    item_id: int
    village_code: str
    village_name: str
    title: str
    village_item_id: int | None
    changes: list = field(default_factory=list)    # (label, template before, template now, village now)

    @property
    def label(self) -> str:
        return SUGGESTION_NAMES[self.kind]


def _fmt(value) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return "" if value is None else str(value)


def suggestions(conn: sqlite3.Connection, village_codes: list[str]) -> list[Suggestion]:
    """Template changes the villages have not yet accepted or dismissed."""
    if not village_codes:
        return []
    marks = ",".join("?" * len(village_codes))
    rows = conn.execute(
        f"""SELECT g.village_code, v.name AS village_name, t.id AS template_id, t.name AS template_name,
                   i.*, u.village_item_id AS used_item, u.base, u.seen_version,
                   u.template_item_id IS NOT NULL AS has_use
            FROM village_template_target g
            JOIN village_template t ON t.id = g.template_id
            JOIN jurisdiction v ON v.code = g.village_code
            JOIN village_template_item i ON i.template_id = t.id
            LEFT JOIN village_template_use u ON u.template_item_id = i.id AND u.village_code = g.village_code
            WHERE g.village_code IN ({marks})
              AND (u.template_item_id IS NULL AND i.removed = 0
                   OR u.seen_version < i.version AND (i.removed = 0 OR u.village_item_id IS NOT NULL))
            ORDER BY v.sort, g.village_code, t.id, i.seq, i.id""", village_codes).fetchall()
    out = []
    for r in rows:
        common = dict(template_id=r["template_id"], template_name=r["template_name"], item_id=r["id"],
                      village_code=r["village_code"], village_name=r["village_name"], title=r["title"],
                      village_item_id=r["used_item"])
        if not r["has_use"]:
            out.append(Suggestion("add", **common))
        elif r["removed"]:
            out.append(Suggestion("remove", **common))
        elif r["used_item"] is None:
            continue                  # the village declined this item; later edits do not bring it back
        else:
            base, now = json.loads(r["base"]), item_data(r)
            w = editing.working(conn, editing.entity("village_item"), r["used_item"])
            mine = w["data"] if w else {}
            changes = [(FIELD_LABELS[k], _fmt(base.get(k)), _fmt(now[k]), _fmt(mine.get(k)))
                       for k in ITEM_FIELDS if base.get(k) != now[k]]
            if changes:
                out.append(Suggestion("update", changes=changes, **common))
    return out


def _suggestion(conn, item_id: int, village_code: str) -> Suggestion:
    found = [s for s in suggestions(conn, [village_code]) if s.item_id == item_id]
    if not found:
        raise TemplateError("这条修改建议已经处理过了")
    return found[0]


def decide(conn: sqlite3.Connection, user, item_id: int, village_code: str, accept: bool,
           remote: str = "") -> str:
    """Accept or dismiss one suggestion; returns what was done (Chinese). Accepting never
    publishes: it makes a draft (or withdraws an item) that goes through review as usual."""
    editing.require(conn, user, "edit", village_code)
    with editing.transaction(conn):
        s = _suggestion(conn, item_id, village_code)
        row = conn.execute("SELECT * FROM village_template_item WHERE id = ?", (item_id,)).fetchone()
        village_item = s.village_item_id
        done = "已忽略这条建议，村里的内容不变"
        if accept and s.kind == "update":
            ent = editing.entity("village_item")
            w = editing.existing(conn, user, ent, village_item)
            now, base = item_data(row), json.loads(conn.execute(
                "SELECT base FROM village_template_use WHERE template_item_id = ? AND village_code = ?",
                (item_id, village_code)).fetchone()[0])
            data = {**w["data"], **{k: now[k] for k in ITEM_FIELDS if base.get(k) != now[k]}}
            editing.save_draft(conn, user, "village_item", village_item, data, remote)
            done = "已按模板修改生成草稿，请核对后提交村务监督委员会审核"
        elif accept and s.kind == "add":
            seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM village_item WHERE jurisdiction_code = ?",
                               (village_code,)).fetchone()[0]
            village_item = editing.create(conn, user, "village_item",
                                          _village_item_data(village_code, item_data(row), seq), remote)
            done = "已新建草稿，请补充内容后提交审核"
        elif accept and s.kind == "remove":
            w = editing.existing(conn, user, editing.entity("village_item"), village_item)
            if w["published"]:
                editing.withdraw(conn, user, "village_item", village_item, "清单模板删除了这一项", remote)
                done = "已撤回这一项（记录保留）"
            elif w["open"] is not None:
                editing.discard(conn, user, "village_item", village_item, remote)
                done = "已放弃这一项的草稿"
        elif s.kind == "add":
            village_item = None
        _use(conn, row, village_code, village_item)
        editing.audit(conn, user, "template_accept" if accept else "template_dismiss", "village_template",
                      s.template_id, None, {"item": item_id, "village": village_code, "kind": s.kind,
                                            "village_item": village_item}, remote)
    return done


# ---------------------------------------------------------------- adoption (assessment)

ADOPTION_COLUMNS = ["模板", "乡镇", "村（社区）", "模板事项", "已公开", "待审核或草稿", "未处理的修改建议", "采用情况"]


def adoption(conn: sqlite3.Connection, codes: tuple[str, ...] | list[str]) -> list[list]:
    """Per template and village sent to (within ``codes``): how far the village adopted it.

    已采用: every template item is published in the village and no suggestion waits;
    部分采用: some are published; 未公开: none yet (drafts only); declined additions count
    as handled."""
    if not codes:
        return []
    marks = ",".join("?" * len(codes))
    rows = conn.execute(
        f"""SELECT t.id, t.name, g.village_code, v.name AS village, tw.name AS township,
                   count(i.id) AS n_items,
                   sum(u.village_item_id IS NULL AND u.template_item_id IS NOT NULL) AS declined,
                   sum(vi.status = 'published') AS published,
                   sum(vi.status IN ('draft', 'submitted')) AS drafting
            FROM village_template_target g
            JOIN village_template t ON t.id = g.template_id
            JOIN jurisdiction v ON v.code = g.village_code
            LEFT JOIN jurisdiction tw ON tw.code = v.parent_code
            JOIN village_template_item i ON i.template_id = t.id AND i.removed = 0
            LEFT JOIN village_template_use u ON u.template_item_id = i.id AND u.village_code = g.village_code
            LEFT JOIN village_item vi ON vi.id = u.village_item_id
            WHERE g.village_code IN ({marks})
            GROUP BY t.id, g.village_code ORDER BY t.id, tw.sort, tw.code, v.sort, v.code""",
        list(codes)).fetchall()
    pending: dict[tuple, int] = {}
    for s in suggestions(conn, sorted({r["village_code"] for r in rows})):
        pending[(s.template_id, s.village_code)] = pending.get((s.template_id, s.village_code), 0) + 1
    out = []
    for r in rows:
        waiting = pending.get((r["id"], r["village_code"]), 0)
        wanted = r["n_items"] - (r["declined"] or 0)
        published = r["published"] or 0
        if wanted and published >= wanted and not waiting:
            state = "已采用"
        elif published:
            state = "部分采用"
        else:
            state = "未公开"
        out.append([r["name"], r["township"] or "", r["village"], r["n_items"], published,
                    r["drafting"] or 0, waiting, state])
    return out
