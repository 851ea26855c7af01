"""Import and export of standard catalogues (公开事项标准目录) as .xlsx or .csv.

Reading is forgiving about the forms real catalogues take:

* a title row above the header; the header in one row, or two rows with
  公开事项 merged over 一级事项 / 二级事项 (merged cells in .xlsx, blank cells
  in .csv); header spellings such as 公开内容（要素） with full- or half-width
  brackets and line breaks inside cells;
* 公开对象 / 公开方式 / 公开层级 (and 公开渠道和载体) written either as text in one
  column (全社会, 特定群众 → 特定群体, 依申请 → 依申请公开, "县级、乡级",
  "乡、村级", "镇级" → 乡级, "■全社会 □特定群体") or as sub-columns ticked with
  √ under a merged heading, as in the printed standard;
* channels as a ■/□ checkbox list or a plain list separated by 、，,;； or new
  lines.  Known channels and their usual spellings map onto
  ``content.catalogue.CHANNELS``; a channel that is not in the standard list
  ticks 其他 and its text is kept after the standard ones, so nothing the
  catalogue says is lost (the item screen lists such extra channels as ticked);
* .csv in UTF-8 (with or without BOM), GB18030 (which covers GBK) or UTF-16,
  comma, tab or semicolon separated; .xlsx with one or several sheets (a
  sheet named after a domain supplies that domain), vertically merged cells
  (一级事项 spanning several rows) filled in, section rows such as "一、社会救助"
  and note rows skipped;
* 公开时限 kept as written and parsed with ``content.timelimits``.

Importing is all or nothing: a missing column or any bad row refuses the whole
file with every problem named (the column, or the row as 第N行 — the row
number the spreadsheet shows) and nothing is written.  Re-importing updates
the items that match by (domain, 一级事项, 二级事项) instead of duplicating them;
items not in the file are left as they are.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from .catalogue import CHANNELS
from .db import get_meta, immediate, set_meta
from .sheets import DEFAULT_LIMITS, Sheet, SheetError, column_name, csv_bytes, read_sheets, xlsx_bytes
from .timelimits import parse_time_limit

__all__ = ["Row", "ImportResult", "CatalogueError", "read_catalogue", "import_catalogue",
           "export_catalogue", "parse_channels", "parse_levels", "parse_audience", "parse_mode",
           "STANDARD_HEADER", "MAX_FILE_BYTES"]

SHEET_LIMITS = DEFAULT_LIMITS             # a county catalogue is well under 1 MB
MAX_FILE_BYTES = SHEET_LIMITS.file_bytes
MAX_CELL_CHARS = 5000
MAX_ERRORS_SHOWN = 30

# The header written on export (and the flat form accepted on import).
STANDARD_HEADER = ("序号", "领域", "一级事项", "二级事项", "公开内容(要素)", "公开依据", "公开时限",
                   "公开主体", "公开渠道和载体", "公开对象", "公开方式", "公开层级")

# Field → Chinese column name used in messages.
LABELS = {
    "seq": "序号", "domain": "领域", "level1": "一级事项", "level2": "二级事项",
    "content_elements": "公开内容(要素)", "basis": "公开依据", "time_limit_text": "公开时限",
    "publisher": "公开主体", "channels": "公开渠道和载体", "audience": "公开对象",
    "mode": "公开方式", "levels": "公开层级",
}
REQUIRED = ("level1", "level2", "content_elements", "basis", "time_limit_text", "publisher",
            "channels", "audience", "mode", "levels")

# Normalised header text → field.
_HEADER_ALIASES = {
    "序号": "seq", "编号": "seq",
    "领域": "domain", "所属领域": "domain", "试点领域": "domain", "公开领域": "domain",
    "一级事项": "level1", "公开事项一级事项": "level1", "一级公开事项": "level1",
    "二级事项": "level2", "公开事项二级事项": "level2", "二级公开事项": "level2",
    "公开内容(要素)": "content_elements", "公开内容": "content_elements",
    "公开内容要素": "content_elements", "公开要素": "content_elements",
    "公开依据": "basis",
    "公开时限": "time_limit_text",
    "公开主体": "publisher",
    "公开渠道和载体": "channels", "公开渠道及载体": "channels", "公开渠道": "channels",
    "公开载体": "channels", "公开渠道与载体": "channels",
    "公开对象": "audience",
    "公开方式": "mode",
    "公开层级": "levels",
}
# Headings that may stand over ticked sub-columns.
_TICK_FIELDS = ("audience", "mode", "levels", "channels")

_TICKED = {"√", "✓", "✔", "☑", "■", "●", "是", "Y", "y", "V", "v", "1", "有", "○"}
_UNTICKED = {"", "□", "☐", "×", "✗", "否", "0", "N", "n", "-", "—", "/", "无"}
_BOX_MARKS = "■□☑☐√✓✔"
_LIST_SPLIT = re.compile(r"[、，,;；\n\r\t]+| {1,}")


class CatalogueError(ValueError):
    """The file was refused; ``errors`` lists every problem in Chinese (第N行 …)."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        shown = self.errors[:MAX_ERRORS_SHOWN]
        if len(self.errors) > MAX_ERRORS_SHOWN:
            shown.append(f"……另有 {len(self.errors) - MAX_ERRORS_SHOWN} 处问题")
        super().__init__("\n".join(shown))


@dataclass
class Row:
    """One catalogue item as read from a file; ``line`` is the spreadsheet row number."""
    line: int
    domain: str
    seq: int
    level1: str
    level2: str
    content_elements: str
    basis: str
    time_limit_text: str
    time_limit: dict | None
    publisher: str
    channels: list[str]
    audience: str
    mode: str
    levels: list[str]
    sheet: str = ""


@dataclass
class ImportResult:
    jurisdiction_code: str
    jurisdiction_name: str
    count: int
    inserted: int
    updated: int
    unchanged: int
    status: str
    domains: dict[str, int] = field(default_factory=dict)
    item_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        per_domain = "，".join(f"{d} {n} 条" for d, n in self.domains.items())
        return (f"已导入{self.jurisdiction_name}（{self.jurisdiction_code}）公开事项 {self.count} 条"
                f"（新增 {self.inserted} 条，更新 {self.updated} 条，未变 {self.unchanged} 条）"
                f"{'；' + per_domain if per_domain else ''}")


# --- value parsing ------------------------------------------------------------

def _norm(text) -> str:
    """NFKC (full-width brackets and digits to ASCII), no whitespace at all."""
    return "".join(unicodedata.normalize("NFKC", str(text or "")).split())


def _header_key(text) -> str:
    return _norm(text).strip("*＊:：")


def _ticked_options(text: str) -> list[tuple[bool, str]] | None:
    """("■政府网站 □政府公报") → [(True, 政府网站), (False, 政府公报)]; None without boxes."""
    if not any(mark in text for mark in _BOX_MARKS):
        return None
    parts = re.findall(rf"([{_BOX_MARKS}])\s*([^{_BOX_MARKS}]*)", text)
    if parts and text.strip()[0] not in _BOX_MARKS:
        # Marks written after the words ("全社会■ 特定群体□").
        parts = [(mark, word) for word, mark in
                 re.findall(rf"([^{_BOX_MARKS}]+?)\s*([{_BOX_MARKS}])", text)]
    return [(mark not in "□☐", word.strip(" 、，,;；\n\t")) for mark, word in parts
            if word.strip(" 、，,;；\n\t")]


def _chosen(text: str, slash: bool = False) -> list[str]:
    """The options a cell selects: the ticked ones of a checkbox list, else every listed one.

    ``slash`` also splits on "/" (fine for 县级/乡级, wrong for 发布会/听证会).
    """
    boxes = _ticked_options(text)
    if boxes is not None:
        return [word for on, word in boxes if on]
    words: list[str] = []
    for p in _LIST_SPLIT.split(text.strip()):
        if not p:
            continue
        if words and p[0] in "(（":
            words[-1] += p       # "村公示栏 (电子屏)": a bracket belongs to the word before it
        else:
            words.append(p)
    if slash:
        words = [w for word in words for w in re.split(r"[/／]", word) if w]
    return words


_AUDIENCE = {"全社会": "全社会", "社会公众": "全社会", "公众": "全社会",
             "特定群体": "特定群体", "特定群众": "特定群体", "特定对象": "特定群体"}
_MODE = {"主动": "主动", "主动公开": "主动", "依申请": "依申请公开", "依申请公开": "依申请公开"}


def _parse_choice(text: str, column: str, words: dict[str, str], wider: str, narrower: str) -> str:
    """A column with two values (either or both ticked): the wider one wins when both are."""
    values = set()
    for word in _chosen(text, slash=True):
        key = _norm(word)
        if key not in words:
            raise ValueError(f"「{column}」的值「{word}」无法识别（应为 {wider} 或 {narrower}）")
        values.add(words[key])
    if not values:
        raise ValueError(f"「{column}」为空（应为 {wider} 或 {narrower}）")
    return wider if wider in values else narrower


def parse_audience(text: str) -> str:
    """公开对象 → 全社会 | 特定群体 (both ticked: 全社会, the wider one); ValueError if unknown."""
    return _parse_choice(text, "公开对象", _AUDIENCE, "全社会", "特定群体")


def parse_mode(text: str) -> str:
    """公开方式 → 主动 | 依申请公开 (both ticked: 主动, which also serves applicants)."""
    return _parse_choice(text, "公开方式", _MODE, "主动", "依申请公开")


_LEVEL_WORDS = {"县": "县级", "区": "县级", "市": "县级", "县区": "县级", "县市区": "县级",
                "乡": "乡级", "镇": "乡级", "乡镇": "乡级", "街道": "乡级", "乡镇街道": "乡级",
                "乡镇(街道)": "乡级", "乡(镇)": "乡级",
                "村": "村级", "社区": "村级", "村居": "村级", "村(居)": "村级", "村(社区)": "村级"}
_LEVEL_ORDER = ("县级", "乡级", "村级")


def parse_levels(text: str) -> list[str]:
    """公开层级 → a list of 县级/乡级/村级: "县级、乡级", "乡、村级", "镇级", "■县级 □乡级"."""
    found = set()
    for word in _chosen(text, slash=True):
        key = _norm(word).replace("两级", "").replace("三级", "").rstrip("级")
        if key in _LEVEL_WORDS:
            found.add(_LEVEL_WORDS[key])
        elif key and all(ch in "县乡镇村" for ch in key):
            found.update(_LEVEL_WORDS[ch] for ch in key)
        else:
            raise ValueError(f"「公开层级」的值「{word}」无法识别（应为 县级、乡级 或 村级）")
    if not found:
        raise ValueError("「公开层级」为空（应为 县级、乡级 或 村级）")
    return [lv for lv in _LEVEL_ORDER if lv in found]


_BOARD = "社区/企事业单位/村公示栏(电子屏)"
_CHANNEL_ALIASES = {
    "政府网站": "政府网站", "门户网站": "政府网站", "政府门户网站": "政府网站",
    "县政府网站": "政府网站", "县政府门户网站": "政府网站", "政府信息公开网站": "政府网站",
    "政府信息公开平台": "政府网站", "部门网站": "政府网站",
    "政府公报": "政府公报", "公报": "政府公报",
    "两微一端": "两微一端", "政务微博": "两微一端", "政务微信": "两微一端", "微博": "两微一端",
    "微信": "两微一端", "微信公众号": "两微一端", "客户端": "两微一端", "政务新媒体": "两微一端",
    "新媒体": "两微一端",
    "发布会/听证会": "发布会/听证会", "发布会": "发布会/听证会", "听证会": "发布会/听证会",
    "新闻发布会": "发布会/听证会", "发布会听证会": "发布会/听证会",
    "广播电视": "广播电视", "广播": "广播电视", "电视": "广播电视",
    "纸质媒体": "纸质媒体", "报刊": "纸质媒体", "报纸": "纸质媒体", "宣传册": "纸质媒体",
    "公开查阅点": "公开查阅点", "查阅点": "公开查阅点", "政府信息公开查阅点": "公开查阅点",
    "信息公开查阅点": "公开查阅点",
    "政务服务中心": "政务服务中心", "政务服务大厅": "政务服务中心", "服务大厅": "政务服务中心",
    "便民服务站": "便民服务站", "便民服务中心": "便民服务站", "便民服务点": "便民服务站",
    "入户/现场": "入户/现场", "入户": "入户/现场", "现场": "入户/现场", "入户现场": "入户/现场",
    "精准推送": "精准推送", "短信": "精准推送", "短信推送": "精准推送",
    "其他": "其他", "其它": "其他",
}
_CHANNEL_NORM = {_norm(k): v for k, v in _CHANNEL_ALIASES.items()}
_CHANNEL_NORM[_norm(_BOARD)] = _BOARD


def _channel(word: str) -> str | None:
    key = _norm(word)
    if key in _CHANNEL_NORM:
        return _CHANNEL_NORM[key]
    if "公示栏" in key or "公告栏" in key or "电子屏" in key or "公开栏" in key:
        return _BOARD
    if key.startswith(("其他", "其它")):
        return "其他"
    return None


def parse_channels(text: str) -> list[str]:
    """公开渠道和载体 → standard channels in CHANNELS order, then any other channel's own text.

    An unknown channel ticks 其他 and keeps its text ("12345政务服务热线"), so the
    list reads back the same way it was written.
    """
    words = _chosen(text or "")
    # "其他：微信群" — the part after the colon is the channel.
    expanded = []
    for w in words:
        m = re.match(r"^(其他|其它)[:：](.+)$", _norm(w))
        expanded += ["其他", m.group(2)] if m else [w]
    known, extra = set(), []
    for w in expanded:
        ch = _channel(w)
        if ch:
            known.add(ch)
        else:
            known.add("其他")
            if w.strip() not in extra:
                extra.append(w.strip())
    return [c for c in CHANNELS if c in known] + extra


def _domain_name(text: str) -> str:
    name = _norm(text)
    return name[:-2] if name.endswith("领域") and len(name) > 2 else name


# --- reading files into grids -------------------------------------------------
# content.sheets reads the file (bounded); a sheet is rows of cell strings.

def _sheets(path_or_bytes, name: str) -> list[Sheet]:
    try:
        return read_sheets(path_or_bytes, name, SHEET_LIMITS)
    except SheetError as e:
        raise CatalogueError(e.errors) from e


# --- header -----------------------------------------------------------------

@dataclass
class _Columns:
    plain: dict[str, int]                         # field → column index
    ticks: dict[str, list[tuple[int, str]]]       # field → [(column, option)]
    header_rows: int                              # index of the first data row


def _known_header(text: str) -> bool:
    return _header_key(text) in _HEADER_ALIASES or _header_key(text) == "公开事项"


def _find_header(rows: list[list[str]]) -> int | None:
    for i, row in enumerate(rows[:20]):
        keys = {_HEADER_ALIASES.get(_header_key(c)) for c in row}
        named = sum(1 for c in row if _known_header(c))
        if named >= 3 and ({"level1", "audience", "publisher"} & keys
                           or any(_header_key(c) == "公开事项" for c in row)):
            return i
    return None


def _sub_field(top: str, sub: str) -> tuple[str, str] | None:
    """A ticked sub-column: (field, option) for 公开对象/全社会 etc., else None."""
    fld = _HEADER_ALIASES.get(top)
    if fld not in _TICK_FIELDS or not sub:
        return None
    return fld, sub


def _columns(rows: list[list[str]], h: int) -> tuple[_Columns | None, list[str]]:
    top_row = rows[h]
    below = rows[h + 1] if h + 1 < len(rows) else []
    # A second header row names 一级事项/二级事项, or sub-columns under a heading that
    # spans several columns (merged, or written once with blanks after it).
    two_rows = any(_header_key(c) in ("一级事项", "二级事项") for c in below) or any(
        _HEADER_ALIASES.get(_header_key(top_row[j])) in _TICK_FIELDS
        and _header_key(top_row[j + 1]) in ("", _header_key(top_row[j]))
        and below[j] and below[j + 1]
        for j in range(min(len(top_row), len(below)) - 1))
    width = max(len(top_row), len(below) if two_rows else 0)
    plain: dict[str, int] = {}
    ticks: dict[str, list[tuple[int, str]]] = {}
    errors: list[str] = []
    prev_top = ""
    for j in range(width):
        top = _header_key(top_row[j] if j < len(top_row) else "")
        sub = _header_key(below[j] if two_rows and j < len(below) else "")
        if two_rows and not top and sub and prev_top:
            top = prev_top       # a merged heading written once, as CSV exports do
        if two_rows and sub == top:
            sub = ""             # a vertically merged cell repeats the heading
        prev_top = top if (sub or not two_rows) else ""
        fld = _HEADER_ALIASES.get(sub) if sub else None
        if fld is None and sub:
            tick = _sub_field(top, sub)
            if tick:
                ticks.setdefault(tick[0], []).append((j, tick[1]))
                continue
        fld = fld or _HEADER_ALIASES.get(top)
        if top == "公开事项" and not sub:
            fld = "level1"
        if fld is None:
            continue     # columns outside the standard (备注, 责任单位…) are ignored
        if fld in plain:
            errors.append(f"「{LABELS[fld]}」列出现了两次（第{column_name(plain[fld])}列和第{column_name(j)}列）")
            continue
        plain[fld] = j
    return _Columns(plain, ticks, h + (2 if two_rows else 1)), errors


# --- rows ---------------------------------------------------------------------

def _is_note_row(row: list[str]) -> bool:
    """Section headings ("一、社会救助"), notes ("注：…") and titles span a row with one value."""
    values = [c for c in row if c]
    if not values or len(set(values)) != 1:
        return False
    return len(values) >= 3 or (len(values) == 1 and row and row[0] == values[0])


def _tick_cell(text: str) -> bool:
    t = _norm(text)
    if t in _TICKED:
        return True
    if t in _UNTICKED:
        return False
    raise ValueError


def _parse_rows(sheet: Sheet, default_domain: str | None, domains: set[str] | None,
                errors: list[str]) -> list[Row]:
    rows = sheet.rows
    where = f"工作表「{sheet.title}」" if sheet.title else ""
    h = _find_header(rows)
    if h is None:
        return []
    cols, header_errors = _columns(rows, h)
    errors += [where + e for e in header_errors]
    provided = set(cols.plain) | set(cols.ticks)
    missing = [LABELS[f] for f in REQUIRED if f not in provided]
    sheet_domain = _domain_name(sheet.title) if sheet.title else ""
    if domains is not None and sheet_domain not in domains:
        sheet_domain = ""
    no_domain = f"{where}缺少「领域」列（表头在第{h + 1}行）；没有「领域」列时请用 --domain 指定领域"
    if missing:
        errors.append(f"{where}缺少「{'」「'.join(missing)}」列（表头在第{h + 1}行）")
        return []

    out: list[Row] = []
    section_domain = ""
    for i in range(cols.header_rows, len(rows)):
        row = rows[i]
        line = i + 1
        if not any(row):
            continue
        if _is_note_row(row):
            title = _domain_name(re.sub(r"^[(（]?[一二三四五六七八九十\d]+[)）、.．]?", "",
                                        row[0] or next(c for c in row if c)))
            if domains is not None and title in domains:
                section_domain = title
            continue

        def cell(fld: str) -> str:
            j = cols.plain.get(fld)
            return row[j] if j is not None and j < len(row) else ""

        problems = []
        for fld, j in cols.plain.items():
            if j < len(row) and len(row[j]) > MAX_CELL_CHARS:
                problems.append(f"「{LABELS[fld]}」超过 {MAX_CELL_CHARS} 字")

        values: dict = {}
        for fld, parse in (("audience", parse_audience), ("mode", parse_mode),
                           ("levels", parse_levels), ("channels", parse_channels)):
            text = cell(fld)
            if not text and fld in cols.ticks:
                chosen = []
                for j, option in cols.ticks[fld]:
                    raw = row[j] if j < len(row) else ""
                    try:
                        if _tick_cell(raw):
                            chosen.append(option)
                    except ValueError:
                        problems.append(f"「{LABELS[fld]}-{option}」列的值「{raw}」无法识别"
                                        "（打 √ 表示是，留空表示否）")
                text = "、".join(chosen)
            try:
                values[fld] = parse(text)
            except ValueError as e:
                problems.append(str(e))

        domain = _domain_name(cell("domain")) or default_domain or section_domain or sheet_domain
        if not domain and "domain" not in cols.plain:
            # Neither a column, nor --domain, nor a section row ("一、社会救助") above.
            errors.append(no_domain)
            return []
        if not domain:
            problems.append("「领域」为空")
        elif domains is not None and domain not in domains:
            problems.append(f"领域「{cell('domain') or domain}」不在领域列表中")
        level1 = cell("level1")
        if not level1:
            problems.append("「一级事项」为空")
        seq_text = _norm(cell("seq")).strip("()（）.、")
        seq = int(seq_text) if seq_text.isdigit() and len(seq_text) < 9 else len(out) + 1
        if problems:
            errors.append(f"{where}第{line}行：" + "；".join(problems))
            continue
        out.append(Row(
            line=line, domain=domain, seq=seq, level1=level1, level2=cell("level2"),
            content_elements=cell("content_elements"), basis=cell("basis"),
            time_limit_text=cell("time_limit_text"),
            time_limit=parse_time_limit(cell("time_limit_text")),
            publisher=cell("publisher"), channels=values["channels"],
            audience=values["audience"], mode=values["mode"], levels=values["levels"],
            sheet=sheet.title))
    return out


def read_catalogue(path_or_bytes, filename: str | None = None, domain: str | None = None,
                   domains=None) -> list[Row]:
    """Read a catalogue file (.xlsx or .csv); raise CatalogueError naming every problem.

    ``domain`` is the 领域 for rows without one (the --domain option);
    ``domains``, when given, is the set of known domain names rows are checked against.
    """
    name = filename or (str(path_or_bytes) if isinstance(path_or_bytes, (str, os.PathLike)) else "")
    sheets = _sheets(path_or_bytes, name)

    known = None if domains is None else {_domain_name(d) for d in domains}
    default = _domain_name(domain) if domain else None
    errors: list[str] = []
    if default and known is not None and default not in known:
        raise CatalogueError([f"--domain 指定的领域「{domain}」不在领域列表中"])
    rows: list[Row] = []
    with_header = 0
    for sheet in sheets:
        if _find_header(sheet.rows) is not None:
            with_header += 1
            rows += _parse_rows(sheet, default, known, errors)
    if not with_header:
        errors.append("找不到表头：前20行中没有「一级事项」「公开内容(要素)」「公开对象」等标准栏目")
    elif not rows and not errors:
        errors.append("文件中没有任何公开事项")
    if errors:
        raise CatalogueError(errors)
    return rows


# --- writing ----------------------------------------------------------------

def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_jurisdiction(conn: sqlite3.Connection) -> str | None:
    """The instance's scope (meta 'scope'), else the county."""
    scope = get_meta(conn, "scope")
    if scope and conn.execute("SELECT 1 FROM jurisdiction WHERE code = ?", (scope,)).fetchone():
        return scope
    row = conn.execute(
        "SELECT code FROM jurisdiction WHERE level = 'county' ORDER BY code LIMIT 1").fetchone()
    return row[0] if row else None


_ITEM_COLUMNS = ("jurisdiction_code", "domain_id", "matter_id", "seq", "level1", "level2",
                 "content_elements", "basis", "time_limit_text", "time_limit", "publisher",
                 "channels", "audience", "mode", "levels", "online_url", "review_by")
_COMPARED = ("seq", "level1", "level2", "content_elements", "basis", "time_limit_text",
             "time_limit", "publisher", "channels", "audience", "mode", "levels")


def _item_data(row: sqlite3.Row) -> dict:
    data = {c: row[c] for c in _ITEM_COLUMNS}
    for c in ("time_limit", "channels", "levels"):
        data[c] = json.loads(data[c]) if data[c] else None
    return data


def _same(key: str, a, b) -> bool:
    """Equal for import purposes: the order of channels and levels carries no meaning."""
    if key in ("channels", "levels") and isinstance(a, list) and isinstance(b, list):
        return sorted(a) == sorted(b)
    return a == b


def _user_field(user, key):
    if user is None:
        return None
    try:
        return user[key]
    except (KeyError, IndexError, TypeError):
        return getattr(user, key, None)


def import_catalogue(conn: sqlite3.Connection, path, jurisdiction_code: str | None = None,
                     domain: str | None = None, user=None, status: str | None = None,
                     filename: str | None = None, remote: str = "") -> ImportResult:
    """Import a catalogue for one jurisdiction in one transaction, or raise CatalogueError.

    ``status`` defaults to 'published' without a user (the CLI adopting an official
    catalogue) and to 'draft' with one (the admin, where review follows).  Changed
    items that are already published get a draft revision and stay as they are
    until approved; everything else is written to the item row.  One revision per
    new or changed item and one audit_log row for the import.
    """
    status = status or ("published" if user is None else "draft")
    if status not in ("published", "draft"):
        raise ValueError(status)
    code = jurisdiction_code or default_jurisdiction(conn)
    place = conn.execute("SELECT * FROM jurisdiction WHERE code = ?", (code or "",)).fetchone()
    if place is None:
        raise CatalogueError([f"行政区划代码「{code}」不存在" if code else "数据库中还没有县，无法导入"])
    # The county's domains: the 26 standard ones and its own, less those it has hidden.
    domain_ids = {_domain_name(r["name"]): r["id"]
                  for r in conn.execute("SELECT id, name FROM domain WHERE hidden = 0")}
    if isinstance(path, (bytes, bytearray)) and not filename:
        raise ValueError("filename is needed to tell .xlsx from .csv bytes")
    rows = read_catalogue(path, filename, domain=domain, domains=set(domain_ids))

    revision_cols = {r[1] for r in conn.execute("PRAGMA table_info(revision)")}
    user_id, username = _user_field(user, "id"), _user_field(user, "username") or ""
    source = Path(filename or str(path)).name if not isinstance(path, (bytes, bytearray)) else filename
    note = f"导入：{source}"
    stamp = _now()
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    per_domain: dict[str, int] = {}
    item_ids: list[int] = []

    def add_revision(item_id: int, rev: int, data: dict, state: str) -> None:
        values = {"entity": "catalogue_item", "entity_id": item_id, "rev": rev,
                  "data": json.dumps(data, ensure_ascii=False), "state": state,
                  "author_id": user_id, "note": note, "created_at": stamp}
        if "jurisdiction_code" in revision_cols:
            values["jurisdiction_code"] = code
        conn.execute(f"INSERT INTO revision ({', '.join(values)}) "
                     f"VALUES ({', '.join('?' * len(values))})", list(values.values()))

    with immediate(conn):
        existing: dict[tuple, list[sqlite3.Row]] = {}
        for r in conn.execute("SELECT * FROM catalogue_item WHERE jurisdiction_code = ? "
                              "AND status != 'withdrawn' ORDER BY seq, id", (code,)):
            existing.setdefault((r["domain_id"], r["level1"], r["level2"]), []).append(r)
        for row in rows:
            domain_id = domain_ids[row.domain]
            data = {"jurisdiction_code": code, "domain_id": domain_id, "matter_id": None,
                    "seq": row.seq, "level1": row.level1, "level2": row.level2,
                    "content_elements": row.content_elements, "basis": row.basis,
                    "time_limit_text": row.time_limit_text, "time_limit": row.time_limit,
                    "publisher": row.publisher, "channels": row.channels,
                    "audience": row.audience, "mode": row.mode, "levels": row.levels,
                    "online_url": "", "review_by": None}
            per_domain[row.domain] = per_domain.get(row.domain, 0) + 1
            matches = existing.get((domain_id, row.level1, row.level2))
            old = matches.pop(0) if matches else None
            encoded = {k: json.dumps(v, ensure_ascii=False) if k in ("time_limit", "channels", "levels")
                       and v is not None else v for k, v in data.items()}
            if old is None:
                cols = [c for c in _ITEM_COLUMNS if c not in ("matter_id", "review_by")]
                cur = conn.execute(
                    f"INSERT INTO catalogue_item ({', '.join(cols)}, status, rev, created_at, updated_at) "
                    f"VALUES ({', '.join('?' * len(cols))}, ?, 1, ?, ?)",
                    [encoded[c] for c in cols] + [status, stamp, stamp])
                item_id = cur.lastrowid
                add_revision(item_id, 1, data, status)
                counts["inserted"] += 1
            else:
                item_id = old["id"]
                before = _item_data(old)
                # Links and dates kept by editors are not in the file: keep them.
                for k in ("matter_id", "online_url", "review_by"):
                    data[k] = before[k]
                    encoded[k] = old[k]
                if all(_same(k, before[k], data[k]) for k in _COMPARED) and (
                        status == old["status"] or status == "draft"):
                    counts["unchanged"] += 1
                    item_ids.append(item_id)
                    continue
                top = conn.execute("SELECT max(rev) FROM revision WHERE entity = 'catalogue_item' "
                                   "AND entity_id = ?", (item_id,)).fetchone()[0] or 0
                rev = max(top, old["rev"]) + 1
                if status == "draft":
                    # The imported version replaces any open draft, as a new save would.
                    conn.execute("UPDATE revision SET state = 'superseded' WHERE entity = "
                                 "'catalogue_item' AND entity_id = ? AND state IN "
                                 "('draft', 'submitted', 'returned')", (item_id,))
                if status == "draft" and old["status"] == "published":
                    # The public version stays until a reviewer approves the new one.
                    add_revision(item_id, rev, data, "draft")
                else:
                    sets = [c for c in _COMPARED]
                    conn.execute(
                        f"UPDATE catalogue_item SET {', '.join(f'{c} = ?' for c in sets)}, "
                        "status = ?, rev = ?, updated_at = ? WHERE id = ?",
                        [encoded[c] for c in sets] + [status, rev, stamp, item_id])
                    add_revision(item_id, rev, data, status)
                counts["updated"] += 1
            item_ids.append(item_id)

        if status == "published" and (counts["inserted"] or counts["updated"]):
            current = get_meta(conn, "content_version") or "0"
            set_meta(conn, "content_version", str((int(current) if current.isdigit() else 0) + 1))
            set_meta(conn, "content_updated",
                     datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M"))
        after = {"file": source, "jurisdiction_code": code, "status": status,
                 "count": len(rows), **counts, "domains": per_domain}
        conn.execute(
            "INSERT INTO audit_log(at, user_id, username, action, entity, entity_id, before, "
            "after, remote) VALUES (?, ?, ?, 'import', 'jurisdiction', ?, NULL, ?, ?)",
            (stamp, user_id, username or ("kiosk import-catalog" if user is None else ""), code,
             json.dumps(after, ensure_ascii=False), remote))
    return ImportResult(jurisdiction_code=code, jurisdiction_name=place["name"], count=len(rows),
                        status=status, domains=per_domain, item_ids=item_ids, **counts)


# --- export -----------------------------------------------------------------

def _export_rows(conn: sqlite3.Connection, code: str, statuses) -> list[list]:
    marks = ",".join("?" * len(statuses))
    rows = conn.execute(
        f"""SELECT i.*, d.name AS domain_name FROM catalogue_item i
            JOIN domain d ON d.id = i.domain_id
            WHERE i.jurisdiction_code = ? AND i.status IN ({marks})
            ORDER BY d.sort, d.id, i.seq, i.id""", (code, *statuses)).fetchall()
    out = []
    for r in rows:
        out.append([r["seq"], r["domain_name"], r["level1"], r["level2"], r["content_elements"],
                    r["basis"], r["time_limit_text"], r["publisher"],
                    "、".join(json.loads(r["channels"])), r["audience"], r["mode"],
                    "、".join(json.loads(r["levels"]))])
    return out


def export_catalogue(conn: sqlite3.Connection, jurisdiction_code: str, fmt: str = "xlsx",
                     statuses=("published",)) -> bytes:
    """The jurisdiction's catalogue in the import format (.xlsx or UTF-8 .csv with BOM)."""
    place = conn.execute("SELECT * FROM jurisdiction WHERE code = ?", (jurisdiction_code,)).fetchone()
    if place is None:
        raise ValueError(f"行政区划代码「{jurisdiction_code}」不存在")
    rows = _export_rows(conn, jurisdiction_code, tuple(statuses))
    if fmt == "csv":
        return csv_bytes(STANDARD_HEADER, rows)
    if fmt != "xlsx":
        raise ValueError(f"unknown export format {fmt!r}")
    return _xlsx(place["name"], rows)


def _xlsx(place_name: str, rows: list[list]) -> bytes:
    """A sheet laid out like printed catalogues: title, two-row header with 公开事项 merged."""
    import openpyxl  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "公开事项标准目录"
    width = len(STANDARD_HEADER)
    ws.cell(1, 1, f"{place_name}基层政务公开事项标准目录")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    for j, name in enumerate(STANDARD_HEADER, 1):
        if name in ("一级事项", "二级事项"):
            ws.cell(3, j, name)
        else:
            ws.cell(2, j, name)
            ws.merge_cells(start_row=2, start_column=j, end_row=3, end_column=j)
    ws.cell(2, 3, "公开事项")
    ws.merge_cells(start_row=2, start_column=3, end_row=2, end_column=4)
    for row in ws.iter_rows(min_row=2, max_row=3):
        for c in row:
            c.font = Font(bold=True)
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        ws.append(row)
    for row in ws.iter_rows(min_row=4):
        for c in row:
            c.alignment = Alignment(vertical="top", wrap_text=True)
    widths = (6, 12, 16, 18, 40, 30, 24, 20, 28, 10, 10, 12)
    for j, w in enumerate(widths, 1):
        ws.column_dimensions[column_name(j - 1)].width = w
    ws.freeze_panes = "A4"
    return xlsx_bytes(book)


def row_dict(row: Row) -> dict:
    return asdict(row)
