"""Privacy guard: personal data in anything that would be published, found and masked.

``content.personal_numbers`` reads a text the way a person types it and finds
身份证号, 手机号, 银行卡号 and 固定电话 in it; this module applies that to what a
record publishes: paragraphs (``scan_text``), key data names and values,
addresses with their query string (``scan_url``), table headers and cells and
numbers split across adjacent cells of a row (``scan_table``), list items and
attachment names (``scan_data`` walks any record), and masks the same places
(``mask_table``, ``mask_data``, ``mask_published_row`` for the hub's bundles).

A landline is allowed when its digits are in ``allowed``: the published office
numbers (公开办公电话) of the content's jurisdiction, see content.office_phones.

Names cannot be told from other words in free text, so they are masked by
column: ``mask_table`` masks every name in columns whose header says 姓名,
户主, 申请人 (and a few similar words).
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from .personal_numbers import (  # noqa: F401  (re-exported: this module is the guard's API)
    _FULLWIDTH, ANY_DIGIT, BANK_CARD, ID_NUMBER, KEEP, LANDLINE, MASKERS, MOBILE, _luhn, digits_of, find,
    is_bank_card, is_digit_like, is_landline, is_mobile, is_valid_id_number, mask_all, mask_bank_card,
    mask_id, mask_landline, mask_mobile, mobile_part, normalise, phone_digits)

__all__ = [
    "Finding", "is_valid_id_number", "is_mobile", "is_bank_card", "is_landline",
    "scan_text", "scan_table", "scan_notice", "scan_data", "mask_id", "mask_mobile", "mask_name",
    "mask_bank_card", "mask_landline", "mask_all", "mask_table", "mask_data", "is_name_column",
    "phone_digits", "looks_like_name",
]


@dataclass(frozen=True)
class Finding:
    kind: str          # 身份证号 | 手机号 | 银行卡号 | 固定电话
    where: str         # 标题, 正文第2段, 表格第3行「身份证号」列, 字段「联系电话」, 附件名（第1个）
    text: str          # the number as written
    masked: str        # what to publish instead
    start: int = -1    # offset of ``text`` in the scanned string (cell, paragraph, title…)

    @property
    def digits(self) -> str:
        return phone_digits(self.text)


# Words that sit in name columns but are not names.
_NOT_NAMES = frozenset({"合计", "小计", "总计", "以下空白", "无", "本人", "户主", "配偶",
                        "子女", "父亲", "母亲", "之子", "之女", "长子", "长女", "次子", "次女"})
_NAME_RUN = re.compile(r"[\u3400-\u9fff][\u3400-\u9fff·•]{0,9}")


# The most common single-character surnames (about 85 % of people) and compound ones.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘"
    "祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟"
    "艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞"
    "姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
_COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙",
                                "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "端木", "西门"})


def looks_like_name(text: str) -> bool:
    """Whether a short text is shaped like a person's name (王小明, 欧阳明): a common surname
    and one or two more Han characters. Used where a name must not be kept (searches that
    found nothing); it cannot tell a name from a word of that shape, so it errs on the side
    of the person."""
    t = "".join(str(text or "").split()).replace("·", "")
    if not 2 <= len(t) <= 4 or not all("\u3400" <= ch <= "\u9fff" for ch in t):
        return False
    if t[:2] in _COMPOUND_SURNAMES:
        return 3 <= len(t) <= 4
    return t[0] in _SURNAMES and len(t) <= 3


def mask_name(s: str) -> str:
    """张*三 for three characters, 张* for two, 欧**明 for four: first and last kept."""
    name = str(s).strip()
    if "*" in name or len(name) < 2:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "".join(ch if ch in "·•" else "*" for ch in name[1:-1]) + name[-1]


def _findings(text: str, where: str, allowed=frozenset()) -> list[Finding]:
    return [Finding(kind, where, matched, MASKERS[kind](matched), start)
            for start, _end, kind, matched in find(text, allowed)]


def _paragraphs(text: str) -> list[str]:
    return [p for p in str(text or "").splitlines() if p.strip()]


def scan_text(text: str, where: str = "正文", allowed=frozenset()) -> list[Finding]:
    """Findings in a multi-paragraph text, located as ``{where}第N段`` (N counts non-empty lines)."""
    paragraphs = _paragraphs(text)
    if len(paragraphs) == 1 and where != "正文":
        return _findings(paragraphs[0], where, allowed)
    findings = []
    for n, para in enumerate(paragraphs, 1):
        findings += _findings(para, f"{where}第{n}段", allowed)
    return findings


_NAME_HEADERS = ("姓名", "户主", "申请人", "联系人", "户名", "收款人", "领款人", "持卡人",
                 "监护人", "家庭成员")


def is_name_column(header) -> bool:
    """Does a table header name people (姓名, 户主, 申请人, …) rather than relations or numbers?"""
    h = str(header or "")
    return (any(word in h for word in _NAME_HEADERS)
            and not any(word in h for word in ("关系", "身份证", "号码", "电话", "人数", "账号", "卡号")))


def _cells(row, columns) -> list:
    if isinstance(row, dict):
        return [row.get(c, "") for c in columns]
    return list(row)


def _column_name(columns, j: int) -> str:
    return str(columns[j]) if j < len(columns) and str(columns[j]).strip() else f"第{j + 1}"


_CELL_NUMBER = re.compile(r"[\d \-–—/_]*\d[Xx]?")       # no decimal point: not an amount
_MOBILE_SPLITS = {(3, 4, 4), (3, 8), (7, 4), (4, 7), (3, 4, 4)}


def _split_numbers(cells: list) -> list[tuple[int, int, str]]:
    """Numbers split across adjacent cells of one row: (first cell, last cell, kind)."""
    texts = ["" if c is None or isinstance(c, bool) else str(c) for c in cells]
    # Cheap test first: only whole-number cells next to each other can hold a split number.
    maybe = [bool(t) and not any(ch in t for ch in ".,，元") and bool(ANY_DIGIT.search(t)) for t in texts]
    if not any(a and b for a, b in zip(maybe, maybe[1:])):
        return []
    digits = []
    for t, m in zip(texts, maybe):
        norm = normalise(t)[0].strip() if m else ""
        digits.append(norm if norm and _CELL_NUMBER.fullmatch(norm) else None)
    out = []
    j0 = 0
    while j0 < len(cells):
        hit = None
        for j1 in range(j0 + 1, min(j0 + 5, len(cells))):
            if any(digits[k] is None for k in range(j0, j1 + 1)):
                break
            parts = [digits_of(digits[k]) for k in range(j0, j1 + 1)]
            joined = "".join(parts)
            if (len(joined) in (15, 18) and is_valid_id_number(joined)):
                hit = (j0, j1, ID_NUMBER)
            elif all(len(p) == 4 for p in parts[:-1]) and is_bank_card(joined):
                hit = (j0, j1, BANK_CARD)
            elif mobile_part(joined) and joined[0] in "18" and tuple(
                    len(digits_of(digits[k])) for k in range(j0, j1 + 1))[-3:] in _MOBILE_SPLITS:
                hit = (j0, j1, MOBILE)
        if hit:
            out.append(hit)
            j0 = hit[1] + 1
        else:
            j0 += 1
    return out


def scan_table(columns, rows, allowed=frozenset()) -> list[Finding]:
    """Findings in table headers and cells, located as 表格第N行「列名」列 (N counts data rows
    from 1), including numbers split across adjacent cells of a row."""
    columns = list(columns or [])
    findings = []
    for j, header in enumerate(columns):
        findings += _findings(str(header or ""), f"表格第{j + 1}列的列名", allowed)
    for i, row in enumerate(rows or [], 1):
        cells = _cells(row, columns)
        found_in = set()
        for j, cell in enumerate(cells):
            if cell is None or cell == "" or isinstance(cell, bool):
                continue
            hits = _findings(str(cell), f"表格第{i}行「{_column_name(columns, j)}」列", allowed)
            if hits:
                found_in.add(j)
            findings += hits
        for j0, j1, kind in _split_numbers(cells):
            if found_in & set(range(j0, j1 + 1)):
                continue
            text = "".join(str(cells[k]) for k in range(j0, j1 + 1))
            names = "」「".join(_column_name(columns, k) for k in range(j0, j1 + 1))
            findings.append(Finding(kind, f"表格第{i}行「{names}」列（号码被拆在相邻单元格）",
                                    text, MASKERS[kind](text), 0))
    return findings


def scan_notice(title: str | dict = "", body: str = "", fields: dict | None = None,
                table_columns=None, table_rows=None, attachment_names=(), publisher: str = "",
                online_url: str = "", allowed=frozenset()) -> list[Finding]:
    """Everything a notice would publish: title, body, publisher, online address (its query
    string decoded), key-data names and values, table headers and cells, attachment names.

    ``title`` may also be a whole notice dict (title, body, publisher, online_url, fields,
    table_columns, table_rows, and attachments as dicts with a name, or attachment_names).
    """
    if isinstance(title, dict):
        notice = title
        names = notice.get("attachment_names")
        if names is None:
            names = [a.get("name", "") if isinstance(a, dict) else str(a)
                     for a in notice.get("attachments") or []]
        return scan_notice(notice.get("title") or "", notice.get("body") or "",
                           notice.get("fields") or {}, notice.get("table_columns") or [],
                           notice.get("table_rows") or [], names, notice.get("publisher") or "",
                           notice.get("online_url") or "", allowed)
    findings = _findings(title or "", "标题", allowed)
    findings += scan_text(body or "", "正文", allowed)
    findings += _findings(publisher or "", "发布单位", allowed)
    findings += scan_url(online_url, "网上办理地址", allowed)
    findings += scan_fields(fields, allowed)
    findings += scan_table(table_columns, table_rows, allowed)
    for n, name in enumerate(attachment_names or (), 1):
        findings += _findings(str(name), f"附件名（第{n}个）", allowed)
    return findings


def scan_url(url: str, where: str, allowed=frozenset()) -> list[Finding]:
    """An address as residents' phones open it: percent-escapes decoded, query string included."""
    url = str(url or "")
    if not url:
        return []
    decoded = unquote_plus(url)
    return [Finding(f.kind, where, f.text, f.masked, f.start) for f in _findings(decoded, where, allowed)]


def scan_fields(fields, allowed=frozenset()) -> list[Finding]:
    """Key data (关键数据): names as well as values."""
    findings = []
    for key, value in (fields or {}).items():
        if isinstance(value, (list, tuple)):
            value = "\n".join(str(v) for v in value)
        findings += _findings(str(key), f"关键数据名称「{key}」", allowed)
        findings += [Finding(f.kind, f"字段「{key}」", f.text, f.masked, f.start)
                     for f in _findings(str(value if value is not None else ""), "", allowed)]
    return findings


def scan_data(data: dict, labels: dict[str, str], skip=frozenset(), allowed=frozenset()) -> list[Finding]:
    """Every text a content record would publish, whatever its noun: strings, lists and
    dicts (keys too) walked all the way down; tables, key data, addresses and attachment
    names read as such.  ``skip`` names fields that hold codes, dates or settings."""
    findings: list[Finding] = []

    def walk(value, where: str) -> None:
        if isinstance(value, str):
            findings.extend(scan_text(value, where, allowed))
        elif isinstance(value, dict):
            for k, v in value.items():
                findings.extend(_findings(str(k), f"{where}的名称「{k}」", allowed))
                walk(v, f"{where}「{labels.get(k, k)}」")
        elif isinstance(value, (list, tuple)):
            for n, v in enumerate(value, 1):
                walk(v, f"{where}第{n}项")

    for key, value in data.items():
        if key in skip or value is None or isinstance(value, (bool, int, float)):
            continue
        label = labels.get(key, key)
        if key == "table_rows":
            findings += scan_table(data.get("table_columns") or [], value, allowed)
        elif key == "table_columns":
            continue                       # read with the rows
        elif key == "fields" and isinstance(value, dict):
            findings += scan_fields(value, allowed)
        elif key == "online_url":
            findings += scan_url(value, label, allowed)
        elif key == "attachments":
            for n, a in enumerate(value or [], 1):
                name = a.get("name", "") if isinstance(a, dict) else str(a)
                findings += _findings(name, f"附件名（第{n}个）", allowed)
        else:
            walk(value, label)
    return findings


def _mask_names_in(cell: str) -> str:
    return _NAME_RUN.sub(
        lambda m: m.group() if m.group() in _NOT_NAMES else mask_name(m.group()), cell)


def _mask_split(cells: list, j0: int, j1: int, kind: str) -> list:
    """Mask a number split over cells j0..j1 as if it were written in one piece."""
    head, tail = KEEP[kind]
    total = sum(sum(1 for ch in str(cells[k]) if is_digit_like(ch)) for k in range(j0, j1 + 1))
    seen, out = 0, list(cells)
    for k in range(j0, j1 + 1):
        chars = []
        for ch in str(cells[k]):
            if is_digit_like(ch):
                chars.append(ch if seen < head or seen >= total - tail else "*")
                seen += 1
            else:
                chars.append(ch)
        out[k] = "".join(chars)
    return out


def mask_table(columns, rows, allowed=frozenset()) -> list:
    """Rows with every personal number masked and names masked in name columns.

    Rows keep their shape (lists stay lists, dicts stay dicts); numbers that are
    not strings stay numbers unless they had to be masked.
    """
    columns = list(columns or [])
    name_cols = {j for j, c in enumerate(columns) if is_name_column(c)}

    def cell_mask(j: int, cell):
        if cell is None or isinstance(cell, bool):
            return cell
        text = str(cell)
        masked = mask_all(text, allowed)
        if j in name_cols:
            masked = _mask_names_in(masked)
        return cell if masked == text else masked

    out = []
    for row in rows or []:
        if isinstance(row, dict):
            out.append({k: cell_mask(columns.index(k) if k in columns else -1, v)
                        for k, v in row.items()})
            continue
        cells = [cell_mask(j, c) for j, c in enumerate(row)]
        for j0, j1, kind in _split_numbers(cells):
            cells = _mask_split(cells, j0, j1, kind)
        out.append(cells)
    return out


def mask_data(value, allowed=frozenset()):
    """Any JSON-like value with every string masked (dict keys included); tables are
    masked with their name columns when given as {"table_columns", "table_rows"}."""
    if isinstance(value, str):
        return mask_all(value, allowed)
    if isinstance(value, dict):
        out = {mask_all(str(k), allowed) if isinstance(k, str) else k: mask_data(v, allowed)
               for k, v in value.items()}
        if isinstance(value.get("table_rows"), list):
            out["table_rows"] = mask_table(out.get("table_columns") or [], value["table_rows"], allowed)
        return out
    if isinstance(value, list):
        return [mask_data(v, allowed) for v in value]
    return value


def mask_json_text(text: str, allowed=frozenset()) -> str:
    """A JSON column's text with every string in it masked (unchanged when nothing was found)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return mask_all(text, allowed)
    masked = mask_data(value, allowed)
    return text if masked == value else json.dumps(masked, ensure_ascii=False)


# Columns of published tables that hold codes, keys, dates or settings, never free text.
_NOT_PUBLISHED_TEXT = frozenset({
    "id", "code", "key", "slug", "sha256", "mime", "uuid", "receipt_no", "status", "rev", "level",
    "kind", "priority", "audience", "mode", "stage", "orientation", "levels", "domains", "windows",
    "time_limit", "sort", "seq", "size", "value", "interpretation_key", "validity", "disclosure",
    "form"})
_JSON_TEXT = frozenset({"fields", "table_columns", "materials", "steps", "documents", "channels",
                        "departments", "key_columns", "qa"})


@functools.lru_cache(maxsize=64)
def _text_columns(columns: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    return tuple((i, c) for i, c in enumerate(columns) if _is_text_column(c))


def _is_text_column(name: str) -> bool:
    return not (name in _NOT_PUBLISHED_TEXT or name.endswith(("_id", "_code", "_at", "_on", "_by"))
                or name in ("period_start", "period_end"))


@functools.lru_cache(maxsize=4096)
def _mask_rows_text(value: str, allowed: frozenset) -> str:
    """A table's rows (JSON) with every personal number masked, split ones included; names
    stay as approved (whether to shorten them is the reviewer's call, not the bundle's)."""
    try:
        rows = json.loads(value)
    except (TypeError, ValueError):
        return mask_all(value, allowed)
    if not isinstance(rows, list):
        return mask_json_text(value, allowed)
    out, changed = [], False
    for row in rows:
        if not isinstance(row, list):
            new = mask_data(row, allowed)
        else:
            new = [mask_all(c, allowed) if isinstance(c, str) else c for c in row]
            for j0, j1, kind in _split_numbers(new):
                new = _mask_split(new, j0, j1, kind)
        changed |= new != row
        out.append(new)
    return json.dumps(out, ensure_ascii=False) if changed else value


def mask_published_row(columns: list[str], row: list, allowed=frozenset()) -> tuple[list, int]:
    """A row about to leave the hub in a bundle with every text column masked (the last
    line of defence behind review); returns the row and how many cells had to change."""
    out, changed = list(row), 0
    allowed = frozenset(allowed)
    for i, name in _text_columns(tuple(columns)):
        value = out[i]
        if not isinstance(value, str) or not value:
            continue
        if name == "table_rows":
            new = _mask_rows_text(value, allowed)
        elif name in _JSON_TEXT:
            new = mask_json_text(value, allowed)
        elif name == "online_url":
            new = value if not scan_url(value, "", allowed) else mask_all(unquote_plus(value), allowed)
        else:
            new = mask_all(value, allowed)
        if new != value:
            out[i] = new
            changed += 1
    return out, changed
