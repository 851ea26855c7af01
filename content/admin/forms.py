"""Edit forms for every content noun: field lists, choices, parsing with Chinese messages.

Plain HTML forms (no JavaScript needed): staff in villages often have a weak
link and an old browser.  Tables are an editable grid of inputs with room for
more rows, or can be pasted from a spreadsheet as tab-separated text.
"""
from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass
from datetime import date

from .. import auth, board_settings, catalogue, policies, sheets
from ..boards import ORIENTATIONS
from ..editing import LABELS

LEVEL_LABELS = {"county": "县级", "township": "乡级", "village": "村级"}
GRID_EXTRA_ROWS = 3
MAX_GRID_ROWS = 2000
MAX_GRID_COLUMNS = 30

# What level of jurisdiction may own each noun.
ENTITY_LEVELS = {
    "catalogue_item": ("county", "township"),
    "village_item": ("village",),
    "notice": ("county", "township", "village"),
    "guide": ("county", "township", "village"),
    "handbook": ("county", "township"),
    "board": ("county", "township", "village"),
    "consultation": ("county", "township", "village"),
    "policy_document": ("county", "township"),
}

MATERIAL_COLUMNS = [("name", "材料名称"), ("spec", "要求"), ("copies", "份数"), ("note", "备注")]


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "text"   # text textarea int date url select multicheck lines kv grid materials
    #                      number (seconds) windows (daily time windows) documents (one text put out)
    #                      check (a yes/no box) interpretations (a policy's 解读, content.policies)
    required: bool = False
    choices: str = ""    # name of a choice list (see choices())
    help: str = ""
    title: str = ""      # a label of its own where the shared one does not fit

    @property
    def label(self) -> str:
        return self.title or LABELS.get(self.name, self.name)


FIELDS: dict[str, list[Field]] = {
    "catalogue_item": [
        Field("jurisdiction_code", "select", True, "jurisdiction"),
        Field("domain_id", "select", True, "domain"),
        Field("seq", "int"),
        Field("level1", required=True), Field("level2"),
        Field("content_elements", "textarea", True),
        Field("basis", "textarea"),
        Field("time_limit_text", help="照目录原文填写，如：信息形成或者变更之日起20个工作日内"),
        Field("publisher"),
        Field("channels", "multicheck", choices="channel"),
        Field("audience", "select", True, "audience"),
        Field("mode", "select", True, "mode"),
        Field("levels", "multicheck", choices="catalogue_level"),
        Field("matter_id", "select", choices="matter"),
        Field("online_url", "url"),
        Field("review_by", "date", help="到期后列入编辑的待评估清单（定期评估、动态调整）"),
    ],
    "village_item": [
        Field("jurisdiction_code", "select", True, "jurisdiction"),
        Field("category", "select", True, "village_category"),
        Field("seq", "int"),
        Field("title", required=True),
        Field("content", "textarea"),
        Field("time_limit_text"), Field("frequency"), Field("responsible"),
        Field("channels", "multicheck", choices="channel"),
        Field("matter_id", "select", choices="matter"),
        Field("review_by", "date", help="到期后列入编辑的待评估清单"),
    ],
    "matter": [
        Field("key", required=True, help="英文字母、数字和短横线，例如 gengdi-butie"),
        Field("title", required=True),
        Field("domain_id", "select", choices="domain"),
        Field("description", "textarea"),
        Field("levels", "multicheck", choices="level"),
        Field("key_columns", "lines", help="名单中用来对应同一行的列名，每行一个，如：户主姓名"),
        Field("time_limit_text"),
    ],
    "notice": [
        Field("jurisdiction_code", "select", True, "jurisdiction"),
        Field("subject_code", "select", True, "subject"),
        Field("kind", "select", True, "notice_kind"),
        Field("priority", "select", True, "priority"),
        Field("title", required=True),
        Field("body", "textarea"),
        Field("publisher", help="留空则显示所属单位名称"),
        Field("domain_id", "select", choices="domain"),
        Field("matter_id", "select", choices="matter"),
        Field("village_item_id", "select", choices="village_item"),
        Field("item_id", "select", choices="catalogue_item"),
        Field("fields", "kv", help="每行一项，格式：名称：数值，如 补贴标准：每亩110元"),
        Field("table_rows", "grid"),
        Field("formed_on", "date"), Field("period_start", "date"), Field("period_end", "date"),
        Field("expires_on", "date"),
        Field("online_url", "url"),
    ],
    "guide": [
        Field("jurisdiction_code", "select", True, "jurisdiction"),
        Field("title", required=True),
        Field("domain_id", "select", choices="domain"),
        Field("item_id", "select", choices="catalogue_item"),
        Field("summary", "textarea"), Field("conditions", "textarea"),
        Field("materials", "materials"),
        Field("steps", "lines", help="每行一个步骤"),
        Field("office"), Field("address"), Field("hours"), Field("phone"), Field("fee"),
        Field("time_limit_text"), Field("basis", "textarea"),
        Field("online_url", "url", help="群众扫码继续办理的网址（http 或 https）"),
    ],
    "handbook": [
        Field("jurisdiction_code", "select", True, "jurisdiction"),
        Field("title", required=True),
        Field("description", "textarea"),
        Field("guide_ids", "multicheck", choices="guide"),
    ],
    "board": [
        Field("jurisdiction_code", "select", True, "jurisdiction"),
        Field("slug", required=True, help="屏幕打开的网址 /display/名称 中的名称：小写英文字母、数字和短横线，"
                                          "如 xinghuacun；创建后不能修改"),
        Field("name", required=True, help="显示在屏幕顶部，如：杏花村村务公开栏"),
        Field("location", help="屏幕安装在哪里，如：东湖镇杏花村村民广场"),
        Field("orientation", "select", True, "orientation"),
        Field("levels", "multicheck", choices="level", title="显示的层级",
              help="只显示这些层级单位发布的公示；都不选＝全部层级"),
        Field("domains", "multicheck", choices="domain", help="都不选＝全部领域（紧急通知总是显示）"),
        Field("slide_seconds", "number", True,
              help=f"每条公示在屏幕上停留的秒数，{board_settings.SLIDE_SECONDS[0]}–{board_settings.SLIDE_SECONDS[1]}"),
        Field("poll_seconds", "number", True,
              help=f"屏幕多久向服务器检查一次新内容，{board_settings.POLL_SECONDS[0]}–{board_settings.POLL_SECONDS[1]} 秒"),
        Field("windows", "windows", help="屏幕每天显示公示的时段，时间写成 07:30；结束早于开始表示跨过午夜"
                                         "（如 22:00–06:00）；都不填＝全天显示。时段外屏幕休息，紧急通知除外"),
        Field("fallback_title", required=True, help="没有正在公示的内容时屏幕上的大标题"),
        Field("fallback_text", "textarea", help="没有正在公示的内容时显示的说明，可以分段"),
        Field("sort", "int", help="公示栏列表中的顺序，小的在前"),
    ],
    "consultation": [
        Field("jurisdiction_code", "select", True, "jurisdiction"),
        Field("title", required=True, help="如：《淮川县农村公路养护办法（征求意见稿）》公开征求意见"),
        Field("domain_id", "select", choices="domain"),
        Field("body", "textarea", help="征求意见的说明：为什么征求、怎样提意见"),
        Field("documents", "documents", help="征求意见稿的名称和全文"),
        Field("opens_on", "date", True), Field("closes_on", "date", True),
        Field("result_summary", "textarea", help="征求意见截止后填写：收到多少条意见、采纳哪些、未采纳的理由；"
                                                "和其他内容一样经审核后公布"),
    ],
    "policy_document": [
        Field("jurisdiction_code", "select", True, "jurisdiction", title="发布单位（所属行政区划）"),
        Field("title", required=True, help="文件全称，如：淮川县城乡居民最低生活保障实施办法"),
        Field("doc_number", help="如：淮川政办〔2024〕12号；没有文号的留空"),
        Field("issuer", required=True, help="如：淮川县人民政府办公室；联合发文的写主办机关"),
        Field("written_on", "date"), Field("issued_on", "date", True),
        Field("validity", "select", True, "validity"),
        Field("lapsed_on", "date", help="失效或废止的文件必填"),
        Field("disclosure", "select", True, "disclosure"),
        Field("withheld_reason", "text", choices="withheld_reason",
              help="依申请公开、不予公开的文件必填：写明《政府信息公开条例》的条款；不予公开的文件不会发送到查询机"),
        Field("domain_id", "select", choices="domain"),
        Field("item_ids", "multicheck", choices="catalogue_item",
              help="文件属于哪些公开事项：查询机上这些事项的页面会列出本文件"),
        Field("body", "textarea", help="文件正文；也可以只上传 PDF 或图片附件"),
        Field("online_url", "url", help="政府网站上的原文网址（http 或 https），群众扫码查看"),
        Field("needs_interpretation", "check", title="属于政策解读范围（解读材料须与文件同步发布）"),
        Field("interpretations", "interpretations",
              help="简明问答：每个问题一行以“问：”开头，答案以“答：”开头，可以多行。"
                   "图解、明白卡的图片在保存后于下方“附件和图片”上传"),
    ],
}


def _in(codes) -> str:
    return ",".join("?" * len(codes)) or "NULL"


def chain_codes(conn: sqlite3.Connection, code: str) -> list[str]:
    """A jurisdiction and its ancestors: what it may link to (its own and higher levels' items)."""
    from ..jurisdictions import ancestors
    return [j["code"] for j in ancestors(conn, code)]


def choices(conn: sqlite3.Connection, user: sqlite3.Row, name: str, entity_name: str,
            data: dict) -> list[tuple[str, str]]:
    """(value, label) options of a select or checkbox list."""
    code = data.get("jurisdiction_code") or user["jurisdiction_code"]
    if name == "jurisdiction":
        levels = ENTITY_LEVELS[entity_name]
        codes = auth.permitted_codes(conn, user, "edit")
        rows = conn.execute(f"SELECT code, name, level FROM jurisdiction WHERE code IN ({_in(codes)}) "
                            "ORDER BY code", codes).fetchall()
        return [(r["code"], f"{r['name']}（{LEVEL_LABELS[r['level']]}）") for r in rows
                if r["level"] in levels]
    if name == "subject":
        reach = sorted(auth.reachable_codes(conn, user) | {code})
        rows = conn.execute(f"SELECT code, name, level FROM jurisdiction WHERE code IN ({_in(reach)}) "
                            "ORDER BY code", reach).fetchall()
        return [(r["code"], f"{r['name']}（{LEVEL_LABELS[r['level']]}）") for r in rows]
    if name == "domain":
        return [(str(r["id"]), r["name"]) for r in
                conn.execute("SELECT id, name FROM domain WHERE hidden = 0 ORDER BY sort, id")]
    if name == "matter":
        return [(str(r["id"]), r["title"]) for r in conn.execute(
            "SELECT id, title FROM matter WHERE status = 'published' ORDER BY title")]
    if name == "village_item":
        return [(str(r["id"]), f"{r['category']} · {r['title']}") for r in conn.execute(
            "SELECT id, category, title FROM village_item WHERE jurisdiction_code = ? "
            "AND status = 'published' ORDER BY seq, id", (code,))]
    if name == "catalogue_item":
        chain = chain_codes(conn, code)
        return [(str(r["id"]), f"{r['domain']} · {r['level1']} · {r['level2']}") for r in conn.execute(
            f"""SELECT i.id, i.level1, i.level2, d.name AS domain FROM catalogue_item i
                JOIN domain d ON d.id = i.domain_id
                WHERE i.status = 'published' AND i.jurisdiction_code IN ({_in(chain)})
                ORDER BY d.sort, i.seq, i.id""", chain)]
    if name == "guide":
        chain = chain_codes(conn, code)
        return [(str(r["id"]), r["title"]) for r in conn.execute(
            f"SELECT id, title FROM guide WHERE status = 'published' AND jurisdiction_code IN ({_in(chain)}) "
            "ORDER BY id", chain)]
    fixed = {
        "channel": catalogue.CHANNELS,
        "audience": ("全社会", "特定群体"),
        "mode": ("主动", "依申请公开"),
        "catalogue_level": ("县级", "乡级", "村级"),
        "village_category": catalogue.VILLAGE_CATEGORIES,
        "notice_kind": ("公示", "公告", "信息"),
        "priority": ("普通", "重要", "紧急"),
        "orientation": tuple(ORIENTATIONS),
        "validity": policies.VALIDITY,
        "disclosure": policies.DISCLOSURE,
        "withheld_reason": policies.WITHHELD_REASONS,
    }
    if name == "level":
        return list(LEVEL_LABELS.items())
    if name == "orientation":
        return list(ORIENTATIONS.items())
    return [(v, v) for v in fixed[name]]


# --- parsing ----------------------------------------------------------------

_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,60}$")
_KV = re.compile(r"^\s*([^:：]+?)\s*[:：]\s*(.*?)\s*$")


def _date(value: str) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("日期格式应为 年-月-日，例如 2025-03-01") from None


def parse_grid(form, prefix: str = "t") -> tuple[list[str], list[list[str]]]:
    """The editable grid: header inputs ``{prefix}-h-{c}``, cells ``{prefix}-{r}-{c}``.

    A tab-separated paste (first line the header) replaces the grid. Empty
    columns and empty rows are dropped.
    """
    paste = (form.get(f"{prefix}-paste") or "").strip("\r\n")
    if paste.strip():
        # Read like a spreadsheet file, with the grid's own caps checked on every cell.
        limits = sheets.with_limits(columns=MAX_GRID_COLUMNS, rows=MAX_GRID_ROWS + 1,
                                    cells=(MAX_GRID_ROWS + 1) * MAX_GRID_COLUMNS)
        try:
            pasted = sheets.read_pasted(paste, limits)
        except sheets.SheetError as e:
            raise ValueError(f"粘贴的表格{e}") from None
        table = [row for row in pasted.rows if any(row)] or [[]]
        columns, rows = table[0], table[1:]
    else:
        ncols = min(int(form.get(f"{prefix}-ncols") or 0), MAX_GRID_COLUMNS + 1)
        nrows = min(int(form.get(f"{prefix}-nrows") or 0), MAX_GRID_ROWS + GRID_EXTRA_ROWS)
        columns = [(form.get(f"{prefix}-h-{c}") or "").strip() for c in range(ncols)]
        rows = [[(form.get(f"{prefix}-{r}-{c}") or "").strip() for c in range(ncols)]
                for r in range(nrows)]
    if len(columns) > MAX_GRID_COLUMNS:
        raise ValueError(f"表格最多 {MAX_GRID_COLUMNS} 列")
    width = max([len(columns), *(len(r) for r in rows)] or [0])
    columns += [""] * (width - len(columns))
    rows = [r + [""] * (width - len(r)) for r in rows]
    keep = [c for c in range(width) if columns[c] or any(r[c] for r in rows)]
    for c in keep:
        if not columns[c]:
            raise ValueError(f"表格第{c + 1}列缺少列名")
    columns = [columns[c] for c in keep]
    rows = [[r[c] for c in keep] for r in rows if any(r[c] for c in keep)]
    if len(rows) > MAX_GRID_ROWS:
        raise ValueError(f"表格最多 {MAX_GRID_ROWS} 行")
    return columns, rows


def parse(conn: sqlite3.Connection, user: sqlite3.Row, entity_name: str, form,
          previous: dict | None = None, obj_id: int | None = None) -> tuple[dict, dict[str, str]]:
    """Form → data dict in the shape content.editing stores; errors keyed by field name."""
    data: dict = dict(previous or {})
    errors: dict[str, str] = {}
    for f in FIELDS[entity_name]:
        raw = form.get(f.name, "")
        raw = raw.strip() if isinstance(raw, str) else raw
        try:
            if f.name in ("jurisdiction_code", "slug") and previous is not None:
                continue   # fixed once created
            if f.kind == "check":
                value = 1 if form.get(f.name) else 0
            elif f.kind == "interpretations":
                value = parse_interpretations(form, (previous or {}).get("interpretations") or [])
            elif f.kind in ("text", "textarea", "url"):
                value = raw.replace("\r\n", "\n")
                if f.kind == "url" and value and not re.match(r"^https?://[^\s]+$", value):
                    raise ValueError("网址应以 http:// 或 https:// 开头")
                if f.name == "key" and value and not _KEY.match(value):
                    raise ValueError("编码只能用小写英文字母、数字和短横线")
                if len(value) > 20000:
                    raise ValueError("内容太长")
            elif f.kind == "int":
                value = int(raw) if raw else 0
            elif f.kind == "number":
                try:
                    value = float(raw) if raw else None
                except ValueError:
                    raise ValueError("请填写数字（秒）") from None
                if value is not None and not math.isfinite(value):
                    raise ValueError("请填写数字（秒）")
                value = int(value) if value is not None and value == int(value) else value
            elif f.kind == "windows":
                data[f.name] = window_rows(form)     # shown again as typed if refused
                value = board_settings.check_windows(data[f.name])
            elif f.kind == "date":
                value = _date(raw)
            elif f.kind == "select":
                options = {v for v, _ in choices(conn, user, f.choices, entity_name, data)}
                if raw and raw not in options:
                    raise ValueError("请从列表中选择")
                value = raw or None
                if value is not None and f.name.endswith("_id"):
                    value = int(value)
            elif f.kind == "multicheck":
                options = [v for v, _ in choices(conn, user, f.choices, entity_name, data)]
                picked = set(form.getlist(f.name))
                value = [v for v in options if v in picked]
                if f.name in ("guide_ids", "domains", "item_ids"):
                    value = [int(v) for v in value]
            elif f.kind == "lines":
                value = [ln.strip() for ln in raw.splitlines() if ln.strip()]
            elif f.kind == "kv":
                value = {}
                for n, line in enumerate(raw.splitlines(), 1):
                    if not line.strip():
                        continue
                    m = _KV.match(line)
                    if not m:
                        raise ValueError(f"第{n}行应写成 名称：数值")
                    value[m.group(1)] = m.group(2)
            elif f.kind == "grid":
                columns, rows = parse_grid(form)
                data["table_columns"] = columns
                value = rows
            elif f.kind == "documents":
                text = (form.get("doc_text") or "").replace("\r\n", "\n").strip()
                title = (form.get("doc_title") or "").strip()
                if len(text) > 200000:
                    raise ValueError("文件全文太长")
                value = [{"title": title or "征求意见稿", "text": text}] if text else []
            elif f.kind == "materials":
                _cols, rows = parse_grid(_Fixed(form, "m", [lbl for _, lbl in MATERIAL_COLUMNS]), "m")
                value = [{k: r[i] for i, (k, _) in enumerate(MATERIAL_COLUMNS)} for r in rows]
            else:  # pragma: no cover
                raise AssertionError(f.kind)
        except ValueError as e:
            errors[f.name] = str(e) if str(e) and not str(e).startswith("invalid literal") else "请填写数字"
            continue
        if f.required and value in (None, "", [], {}):
            errors[f.name] = "必填"
            continue
        data[f.name] = value
    if entity_name == "notice":
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            errors["period_end"] = "公示结束日期不能早于开始日期"
        if not errors.get("subject_code") and data.get("subject_code") and data.get("jurisdiction_code"):
            if data["subject_code"] not in auth.reachable_codes(conn, {"jurisdiction_code": data["jurisdiction_code"]}):
                errors["subject_code"] = "只能选择本单位或下级区域"
    if entity_name == "consultation":
        from .. import consultations  # noqa: PLC0415
        for key, message in consultations.check(data).items():
            errors.setdefault(key, message)
    if entity_name == "policy_document":
        for key, message in policies.check(data).items():
            errors.setdefault(key, message)
        # The pictures of a 解读 that was deleted go with it.
        keys = {it["key"] for it in data.get("interpretations") or []}
        data["attachments"] = [a for a in data.get("attachments") or []
                               if not a.get("interpretation") or a["interpretation"] in keys]
    if entity_name == "board" and not errors.get("jurisdiction_code"):
        # The domain rules (reserved and duplicate names, ranges, windows) on what was parsed.
        checked = dict(data)
        for key, message in board_settings.check(conn, checked, obj_id).items():
            errors.setdefault(key, message)
        data.update({k: v for k, v in checked.items() if k not in errors})
    return data, errors


_QUESTION = re.compile(r"^\s*(?:问|Q)\s*[:：]\s*", re.IGNORECASE)
_ANSWER = re.compile(r"^\s*(?:答|A)\s*[:：]\s*", re.IGNORECASE)


def parse_qa(text: str) -> list[dict]:
    """简明问答 as staff type it: a line starting 问： opens a question, 答： its answer; other
    lines continue whichever was open.  A question without an answer (or the reverse) is refused."""
    pairs: list[dict] = []
    part = None
    for n, line in enumerate((text or "").replace("\r\n", "\n").split("\n"), 1):
        if not line.strip():
            continue
        if _QUESTION.match(line):
            pairs.append({"q": _QUESTION.sub("", line, count=1).strip(), "a": ""})
            part = "q"
        elif _ANSWER.match(line):
            if not pairs or pairs[-1]["a"]:
                raise ValueError(f"问答第{n}行的答案前面缺少以“问：”开头的问题")
            pairs[-1]["a"] = _ANSWER.sub("", line, count=1).strip()
            part = "a"
        elif part is None:
            raise ValueError("简明问答请以“问：”开头写第一个问题")
        else:
            pairs[-1][part] = (pairs[-1][part] + "\n" + line.strip()).strip()
    for n, p in enumerate(pairs, 1):
        if not p["q"] or not p["a"]:
            raise ValueError(f"第{n}个问题“{p['q'][:20]}”还没有答案（以“答：”开头）")
    return pairs


def qa_text(pairs: list[dict]) -> str:
    """The textarea's text for stored Q&A pairs (parse_qa reads it back)."""
    return "\n".join(f"问：{p['q']}\n答：{p['a']}" for p in pairs or [])


INTERPRETATION_SLOTS = 1      # blank interpretation blocks offered below the existing ones


def parse_interpretations(form, previous: list[dict]) -> list[dict]:
    """The interpretation blocks ``i-N-*`` of the form; a block keeps its key (and so its first
    publication time) across edits; a blank new block is ignored, a ticked 删除 drops one."""
    try:
        count = min(int(form.get("i-count") or 0), policies.MAX_INTERPRETATIONS + INTERPRETATION_SLOTS)
    except ValueError:
        count = 0
    known = {it["key"] for it in previous}
    out = []
    for n in range(count):
        get = lambda name: (form.get(f"i-{n}-{name}") or "").strip()  # noqa: E731
        key = get("key")
        key = key if key in known else ""
        title, body, qa_raw, kind = get("title"), get("body").replace("\r\n", "\n"), get("qa"), get("form")
        if form.get(f"i-{n}-remove") or (not key and not (title or body or qa_raw)):
            continue
        if kind not in policies.FORMS:
            raise ValueError(f"第{n + 1}份解读请选择解读形式")
        if len(body) > 20000 or len(qa_raw) > 20000:
            raise ValueError(f"第{n + 1}份解读内容太长")
        try:
            qa = parse_qa(qa_raw)
        except ValueError as e:
            raise ValueError(f"第{n + 1}份解读：{e}") from None
        out.append({"key": key or policies.new_key(), "form": kind, "title": title, "body": body, "qa": qa})
    return out


WINDOW_ROWS = board_settings.MAX_WINDOWS


def window_rows(form) -> list[dict]:
    """Daily windows as typed in the rows ``w-start-N`` / ``w-end-N``; blank rows are dropped."""
    out = []
    for i in range(WINDOW_ROWS):
        start = (form.get(f"w-start-{i}") or "").strip()
        end = (form.get(f"w-end-{i}") or "").strip()
        if start or end:
            out.append({"start": start, "end": end})
    return out


class _Fixed:
    """A form view whose grid header is fixed (guide materials have set columns)."""

    def __init__(self, form, prefix: str, header: list[str]):
        self.form, self.prefix, self.header = form, prefix, header

    def get(self, key, default=None):
        if key == f"{self.prefix}-ncols":
            return str(len(self.header))
        if key.startswith(f"{self.prefix}-h-"):
            return self.header[int(key.rsplit("-", 1)[1])]
        if key == f"{self.prefix}-paste":
            text = self.form.get(key) or ""
            return ("\t".join(self.header) + "\n" + text) if text.strip() else ""
        return self.form.get(key, default)


def grid_for(columns: list[str], rows: list[list], extra_rows: int = GRID_EXTRA_ROWS,
             extra_cols: int = 1) -> tuple[list[str], list[list[str]]]:
    """Columns and rows padded with blanks so staff can add to the grid without JavaScript."""
    columns = [str(c) for c in columns] + [""] * extra_cols
    width = len(columns)
    out = [[("" if c is None else str(c)) for c in r] + [""] * (width - len(r)) for r in rows]
    out += [[""] * width for _ in range(extra_rows)]
    return columns, out
