"""Privacy guard: find and mask personal numbers before anything is published.

Four kinds are detected, each strictly enough that ordinary numbers in
notices (amounts, dates, document numbers, postcodes, 12-digit area codes,
统一社会信用代码) never raise an alarm:

* 身份证号 — 18 digits with a valid ISO 7064 MOD 11-2 check digit (0-9 or X),
  a real province code and a plausible birth date; 15-digit old numbers with
  a real province code and a plausible date (19YYMMDD).
* 手机号 — mainland mobiles 1[3-9]xxxxxxxxx, optionally after +86 / 0086.
* 银行卡号 — 13 to 19 digits whose prefix is a card scheme's (UnionPay 62,
  Visa 4, Mastercard 51-55/2221-2720, …) and which pass the Luhn check.
* 固定电话 — a landline with its area code (010, 02X, 0XXX + 7-8 digits).  A
  landline is a finding unless it is a published office number (公开办公电话)
  that staff marked as such; callers pass those as ``allowed``.

Text is normalised before matching, because that is how numbers slip through:
NFKC (full-width digits, ideographic space, circled digits), every Unicode
decimal digit read as its value, format and zero-width characters (soft hyphen,
zero-width space, combining marks) dropped.  Digit groups joined by spaces of
any kind, NBSP, ``－–—./_`` or brackets are read as one number, and letters
glued on (``Tel13800138000``, ``ID110…``) do not hide it.  Offsets always refer
to the original text, so masking replaces exactly what was written.

Names cannot be told from other words in free text, so they are masked by
column: ``mask_table`` masks every name in columns whose header says 姓名,
户主, 申请人 (and a few similar words).
"""
from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote_plus

__all__ = [
    "Finding", "is_valid_id_number", "is_mobile", "is_bank_card", "is_landline",
    "scan_text", "scan_table", "scan_notice", "scan_data", "mask_id", "mask_mobile", "mask_name",
    "mask_bank_card", "mask_landline", "mask_all", "mask_table", "mask_data", "is_name_column",
    "phone_digits",
]

ID_NUMBER, MOBILE, BANK_CARD, LANDLINE = "身份证号", "手机号", "银行卡号", "固定电话"


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


# Province-level codes (GB/T 2260) that begin real ID numbers.
_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83", "91",
})
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Full-width digits and X as typed on Chinese keyboards (kept for callers; NFKC does more).
_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")

# After NFKC: what may stand between the digit groups of one number.
_SEPARATORS = frozenset(" -–—./_()\u2010\u2011\u2012\u2015\u2212")
_MAX_GAP = 3          # "138 - 1234 - 5678", "(0554) 1234567"
_DROPPED = frozenset({"Cf", "Mn", "Me"})   # soft hyphen, zero-width space, combining marks
# Units that make a number an amount, area or count, not a phone or card number.
_UNITS = ("元", "万", "亿", "亩", "%", "‰", "平方", "公里", "公斤", "千克", "吨", "斤", "米",
          "人次", "人", "户", "次", "个", "笔", "km", "kg")


def _char_class(categories: set[str], extra_ranges=()) -> re.Pattern:
    """A regex class of every character (BMP, plus ``extra_ranges``) in ``categories``."""
    ranges, start, prev = [], None, None
    for cp in [*range(0x80, 0x10000), *(c for lo, hi in extra_ranges for c in range(lo, hi + 1))]:
        if unicodedata.category(chr(cp)) in categories:
            if start is None or cp != prev + 1:
                if start is not None:
                    ranges.append((start, prev))
                start = cp
            prev = cp
    if start is not None:
        ranges.append((start, prev))
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


@functools.cache
def _format_chars() -> re.Pattern:
    """Characters normalise() drops (built on first use: it reads the Unicode database)."""
    return _char_class(_DROPPED, [(0xE0000, 0xE01EF)])


_NONASCII_DIGIT = re.compile(r"(?![0-9])\d")


@functools.cache
def _compat_digits() -> re.Pattern:
    """Characters that NFKC turns into digits without being digits themselves (①, ⑫, ¹)."""
    chars = [chr(cp) for cp in range(0x80, 0x10000)
             if not chr(cp).isdecimal() and any(c.isdigit() for c in unicodedata.normalize("NFKC", chr(cp)))]
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]")


def normalise(text: str) -> tuple[str, list[int]]:
    """The text as matched (see the module docstring) and, per character, its original offset."""
    quick = unicodedata.normalize("NFKC", text)
    if len(quick) == len(text) and not _format_chars().search(text) and not _NONASCII_DIGIT.search(quick):
        # No character expanded, vanished or needs reading as a digit: offsets are unchanged.
        return quick.replace("\t", " "), range(len(text))
    out, where = [], []
    for i, ch in enumerate(text):
        if ch.isascii():
            out.append(" " if ch == "\t" else ch)
            where.append(i)
            continue
        cat = unicodedata.category(ch)
        if cat in _DROPPED:
            continue
        if cat == "Zs":
            out.append(" ")
            where.append(i)
            continue
        d = unicodedata.decimal(ch, None)
        if d is not None:
            out.append(str(d))
            where.append(i)
            continue
        for c in unicodedata.normalize("NFKC", ch):
            d = unicodedata.decimal(c, None)
            out.append(str(d) if d is not None else c)
            where.append(i)
    return "".join(out), where


def phone_digits(s: str) -> str:
    """Only the digits of a number as written (for comparing phone numbers)."""
    norm, _ = normalise(str(s or ""))
    return "".join(ch for ch in norm if ch.isascii() and ch.isdigit())


def _digits(s: str) -> str:
    norm, _ = normalise(str(s))
    return "".join(ch for ch in norm if ch.isascii() and (ch.isdigit() or ch in "Xx+"))


def _plausible_date(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def is_valid_id_number(s: str) -> bool:
    """A mainland resident ID number: 18 digits with a valid check digit, or an old 15-digit one."""
    n = _digits(s).upper()
    if len(n) == 18 and n[:17].isdigit() and (n[17].isdigit() or n[17] == "X"):
        if n[:2] not in _PROVINCES:
            return False
        if not _plausible_date(int(n[6:10]), int(n[10:12]), int(n[12:14])):
            return False
        total = sum(int(d) * w for d, w in zip(n[:17], _ID_WEIGHTS))
        return _ID_CHECK[total % 11] == n[17]
    if len(n) == 15 and n.isdigit():
        return (n[:2] in _PROVINCES
                and _plausible_date(1900 + int(n[6:8]), int(n[8:10]), int(n[10:12])))
    return False


def _mobile_part(n: str) -> str | None:
    """The 11 digits of a mobile, its +86 / 0086 / 86 prefix removed; None if it is none."""
    n = n.lstrip("+")
    if len(n) == 15 and n.startswith("0086"):
        n = n[4:]
    elif len(n) == 13 and n.startswith("86"):
        n = n[2:]
    if len(n) == 11 and n.isdigit() and n[0] == "1" and n[1] in "3456789":
        return n
    return None


def is_mobile(s: str) -> bool:
    """A mainland mobile number, 1[3-9] and nine more digits (a +86 or 0086 prefix is allowed)."""
    return _mobile_part(_digits(s)) is not None


def is_landline(s: str) -> bool:
    """A mainland landline with its area code: 010/02X + 8 digits, 0XXX + 7 or 8 digits."""
    n = _digits(s)
    return _landline_area(n) is not None


def _landline_area(n: str) -> int | None:
    """Length of the area code of landline ``n`` (digits only), or None."""
    if not n.isdigit() or len(n) < 10 or n[0] != "0" or n[1] == "0":
        return None
    if n[1] == "1":
        area = 3 if n[:3] == "010" else 0
    elif n[1] == "2":
        area = 3
    else:
        area = 4
    if area and len(n) - area in (7, 8) and n[area] != "0":
        return area
    return None


def _luhn(n: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(n)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_prefix_ok(n: str) -> bool:
    """Does the prefix belong to a card scheme issuing cards of this length?"""
    length = len(n)
    two, four = int(n[:2]), int(n[:4])
    if n[0] == "4":                                   # Visa (and co-branded Chinese debit cards)
        return length in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:       # Mastercard
        return length == 16
    if two in (34, 37):                               # American Express
        return length == 15
    if two in (62, 81):                               # UnionPay
        return 16 <= length <= 19
    if two in (60, 64, 65) or two == 35:              # Discover, JCB, domestic 60xx debit
        return 16 <= length <= 19
    if two in (30, 36, 38):                           # Diners Club
        return 14 <= length <= 16
    if two == 95:                                     # older domestic bank cards (9558…, 9559…)
        return 16 <= length <= 19
    return False


def is_bank_card(s: str) -> bool:
    """A payment card number: 13-19 digits, a card scheme's prefix, a valid Luhn check digit."""
    n = _digits(s)
    return 13 <= len(n) <= 19 and n.isdigit() and _card_prefix_ok(n) and _luhn(n)


def _id_shaped(n: str) -> bool:
    """18 characters with a province code and a plausible birth date where an ID has them."""
    return (len(n) == 18 and n[:17].isdigit() and n[:2] in _PROVINCES
            and _plausible_date(int(n[6:10]), int(n[10:12]), int(n[12:14])))


# --- finding numbers in normalised text ---------------------------------------------

_GROUP = re.compile(r"\d+")


def _chains(norm: str) -> list[list[tuple[int, int]]]:
    """Runs of digit groups separated by at most a few separator characters."""
    chains, current = [], []
    for m in _GROUP.finditer(norm):
        if current:
            gap = norm[current[-1][1]:m.start()]
            if not (0 < len(gap) <= _MAX_GAP and all(c in _SEPARATORS for c in gap)):
                chains.append(current)
                current = []
        current.append((m.start(), m.end()))
    if current:
        chains.append(current)
    return chains


_PRIORITY = {ID_NUMBER: 0, BANK_CARD: 1, MOBILE: 2, LANDLINE: 3}


def _looks_like_amount(norm: str, groups: list[tuple[int, int]], i: int, j: int) -> bool:
    """A decimal (12345678901.50), a number read with a unit (13812345678元) or the
    fraction of one: amounts and measures, not phone or card numbers."""
    if j > i and j - i == 1 and norm[groups[i][1]:groups[j][0]] == ".":
        return True
    end = groups[j][1]
    if norm[end:end + 1] == "." and norm[end + 1:end + 2].isdigit():
        return True
    start = groups[i][0]
    if norm[start - 1:start] == "." and start >= 2 and norm[start - 2].isdigit() and i == 0:
        return True
    tail = norm[end:end + 4].lstrip(" ")
    return tail.startswith(_UNITS)


def _classify(n: str, groups: list[str], x_after: bool) -> tuple[str, int] | None:
    """(kind, characters used beyond the digits: 1 for a trailing X) of a joined number."""
    if x_after and len(n) == 17 and is_valid_id_number(n + "X"):
        return ID_NUMBER, 1
    if len(n) in (15, 18) and is_valid_id_number(n):
        return ID_NUMBER, 0
    if _id_shaped(n):          # an ID number with a wrong check digit (a typo) is no card either
        return None
    if 13 <= len(n) <= 19 and _card_prefix_ok(n) and _luhn(n) \
            and (len(groups) == 1 or all(len(g) == 4 for g in groups[:-1])):
        return BANK_CARD, 0
    if _mobile_part(n) is not None and groups[0][:1] in ("1", "8", "0") \
            and (groups[0][0] == "1" or groups[0].startswith(("86", "0086"))):
        return MOBILE, 0
    if groups[0].startswith("0") and _landline_area(n) is not None:
        return LANDLINE, 0
    return None


def _find_norm(norm: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) in normalised text of each personal number."""
    found = []
    for groups in _chains(norm):
        texts = [norm[s:e] for s, e in groups]
        for i in range(len(groups)):
            joined = ""
            for j in range(i, len(groups)):
                joined += texts[j]
                if len(joined) > 19:
                    break
                end = groups[j][1]
                x_after = norm[end:end + 1] in ("X", "x")
                hit = _classify(joined, texts[i:j + 1], x_after)
                if hit is None:
                    continue
                kind, extra = hit
                if kind != ID_NUMBER and _looks_like_amount(norm, groups, i, j):
                    continue
                start = groups[i][0]
                if kind == MOBILE and start >= 1 and norm[start - 1] == "+":
                    start -= 1
                found.append((start, end + extra, kind))
    # Strongest reading first, then the longest; overlapping weaker readings are dropped.
    found.sort(key=lambda f: (_PRIORITY[f[2]], -(f[1] - f[0]), f[0]))
    chosen: list[tuple[int, int, str]] = []
    for f in found:
        if all(f[1] <= c[0] or f[0] >= c[1] for c in chosen):
            chosen.append(f)
    return sorted(chosen)


def _find(text: str, allowed=frozenset()) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, matched text) of each personal number in ``text`` (original offsets)."""
    text = "" if text is None else str(text)
    if len(_ANY_DIGIT.findall(text)) + 2 * len(_compat_digits().findall(text)) < 11:
        return ()                        # the shortest personal number has 11 digits
    return _find_cached(text, frozenset(allowed))


_ANY_DIGIT = re.compile(r"\d")
# Hex digests and UUIDs: long runs of hex digits standing alone, never a written number.
_DIGEST = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-fA-F-]*[a-fA-F])(?:[0-9a-fA-F]{32,}|"
                     r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![0-9A-Za-z])")


@functools.lru_cache(maxsize=65536)
def _find_cached(text: str, allowed: frozenset) -> list[tuple[int, int, str, str]]:
    """``_find`` for texts with enough digits; cached, as the hub masks every published
    text on each publish and most of them are unchanged."""
    norm, where = normalise(text)
    digests = [(m.start(), m.end()) for m in _DIGEST.finditer(norm)]
    out = []
    for s, e, kind in _find_norm(norm):
        if any(a <= s and e <= b for a, b in digests):
            continue                     # inside a hash or UUID (an attachment's sha256 …)
        start, end = where[s], where[e - 1] + 1
        matched = text[start:end]
        if kind == LANDLINE and phone_digits(matched) in allowed:
            continue
        out.append((start, end, kind, matched))
    return tuple(out)


# --- masking --------------------------------------------------------------------------

def _digit_like(ch: str) -> bool:
    return any(c.isdigit() or c in "Xx" for c in unicodedata.normalize("NFKC", ch))


def _mask_digits(text: str, keep_head: int, keep_tail: int) -> str:
    """Replace digits (and X) by * except the first and last few, keeping separators."""
    positions = [i for i, ch in enumerate(text) if _digit_like(ch)]
    hide = set(positions[keep_head:len(positions) - keep_tail])
    return "".join("*" if i in hide else ch for i, ch in enumerate(text))


def mask_id(s: str) -> str:
    """3404**********1237: the first four and last four characters kept."""
    return _mask_digits(str(s), 4, 4)


def mask_mobile(s: str) -> str:
    """138****5678 (a +86 / 0086 prefix is kept as written)."""
    n = _digits(s).lstrip("+")
    prefix = len(n) - 11 if _mobile_part(n) else 0
    return _mask_digits(str(s), 3 + prefix, 4)


def mask_bank_card(s: str) -> str:
    """6222 **** **** 7890 or 6222********7890: the first four and last four digits kept."""
    return _mask_digits(str(s), 4, 4)


def mask_landline(s: str) -> str:
    """0554-*****67: the area code and the last two digits kept."""
    return _mask_digits(str(s), _landline_area(_digits(s)) or 4, 2)


_MASKERS = {ID_NUMBER: mask_id, MOBILE: mask_mobile, BANK_CARD: mask_bank_card,
            LANDLINE: mask_landline}
_KEEP = {ID_NUMBER: (4, 4), MOBILE: (3, 4), BANK_CARD: (4, 4), LANDLINE: (4, 2)}

# Words that sit in name columns but are not names.
_NOT_NAMES = frozenset({"合计", "小计", "总计", "以下空白", "无", "本人", "户主", "配偶",
                        "子女", "父亲", "母亲", "之子", "之女", "长子", "长女", "次子", "次女"})
_NAME_RUN = re.compile(r"[\u3400-\u9fff][\u3400-\u9fff·•]{0,9}")


def mask_name(s: str) -> str:
    """张*三 for three characters, 张* for two, 欧**明 for four: first and last kept."""
    name = str(s).strip()
    if "*" in name or len(name) < 2:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "".join(ch if ch in "·•" else "*" for ch in name[1:-1]) + name[-1]


def _findings(text: str, where: str, allowed=frozenset()) -> list[Finding]:
    return [Finding(kind, where, matched, _MASKERS[kind](matched), start)
            for start, _end, kind, matched in _find(text, allowed)]


def mask_all(text: str, allowed=frozenset()) -> str:
    """The text with every ID number, mobile, card number and unlisted landline masked."""
    text = "" if text is None else str(text)
    out, last = [], 0
    for start, end, kind, matched in _find(text, allowed):
        out.append(text[last:start])
        out.append(_MASKERS[kind](matched))
        last = end
    out.append(text[last:])
    return "".join(out)


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
    maybe = [bool(t) and not any(ch in t for ch in ".,，元") and bool(_ANY_DIGIT.search(t)) for t in texts]
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
            parts = [_digits(digits[k]) for k in range(j0, j1 + 1)]
            joined = "".join(parts)
            if (len(joined) in (15, 18) and is_valid_id_number(joined)):
                hit = (j0, j1, ID_NUMBER)
            elif all(len(p) == 4 for p in parts[:-1]) and is_bank_card(joined):
                hit = (j0, j1, BANK_CARD)
            elif _mobile_part(joined) and joined[0] in "18" and tuple(
                    len(_digits(digits[k])) for k in range(j0, j1 + 1))[-3:] in _MOBILE_SPLITS:
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
                                    text, _MASKERS[kind](text), 0))
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
    head, tail = _KEEP[kind]
    total = sum(sum(1 for ch in str(cells[k]) if _digit_like(ch)) for k in range(j0, j1 + 1))
    seen, out = 0, list(cells)
    for k in range(j0, j1 + 1):
        chars = []
        for ch in str(cells[k]):
            if _digit_like(ch):
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
    "time_limit", "sort", "seq", "size", "value"})
_JSON_TEXT = frozenset({"fields", "table_columns", "materials", "steps", "documents", "channels",
                        "departments", "key_columns"})


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
