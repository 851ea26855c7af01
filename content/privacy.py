"""Privacy guard: find and mask personal numbers before anything is published.

Three kinds are detected, each strictly enough that ordinary numbers in
notices (amounts, dates, landlines, document numbers, 12-digit area codes)
never raise an alarm:

* 身份证号 — 18 digits with a valid ISO 7064 MOD 11-2 check digit (0-9 or X),
  a real province code and a plausible birth date; 15-digit old numbers with
  a real province code and a plausible date (19YYMMDD).
* 手机号 — mainland mobiles 1[3-9]xxxxxxxxx (optionally +86, or 3-4-4 groups).
* 银行卡号 — 13 to 19 digits whose prefix is a card scheme's (UnionPay 62,
  Visa 4, Mastercard 51-55/2221-2720, …) and which pass the Luhn check;
  written plain or in groups of four.

Names cannot be told from other words in free text, so they are masked by
column: ``mask_table`` masks every name in columns whose header says 姓名,
户主, 申请人 (and a few similar words).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = [
    "Finding", "is_valid_id_number", "is_mobile", "is_bank_card",
    "scan_text", "scan_notice", "mask_id", "mask_mobile", "mask_name",
    "mask_bank_card", "mask_all", "mask_table", "is_name_column", "looks_like_name",
]

ID_NUMBER, MOBILE, BANK_CARD = "身份证号", "手机号", "银行卡号"


@dataclass(frozen=True)
class Finding:
    kind: str          # 身份证号 | 手机号 | 银行卡号
    where: str         # 标题, 正文第2段, 表格第3行「身份证号」列, 字段「联系电话」, 附件名（第1个）
    text: str          # the number as written
    masked: str        # what to publish instead
    start: int = -1    # offset of ``text`` in the scanned string (cell, paragraph, title…)


# Province-level codes (GB/T 2260) that begin real ID numbers.
_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83", "91",
})
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Full-width digits and X as typed on Chinese keyboards; same length, so offsets hold.
_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
_SEPARATORS = str.maketrans("", "", " -")


def _digits(s: str) -> str:
    return str(s).translate(_FULLWIDTH).translate(_SEPARATORS).strip()


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


def is_mobile(s: str) -> bool:
    """A mainland mobile number, 1[3-9] and nine more digits (a +86 prefix is allowed)."""
    n = _digits(s)
    if n.startswith("+86"):
        n = n[3:]
    elif len(n) == 13 and n.startswith("86"):
        n = n[2:]
    return len(n) == 11 and n.isdigit() and n[0] == "1" and n[1] in "3456789"


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


# Candidates: numbers standing alone (no letters or digits glued on either side, not
# part of a decimal), written plain or in the usual groups.
_CANDIDATE = re.compile(r"""
    (?<![0-9A-Za-z])(?<!\d\.)
    (?:
        \+?86[ -]?1[3-9]\d(?:(?P<m>[ -])\d{4}(?P=m)\d{4}|\d{8})      # +86 mobile
      | \d{6}(?P<i>[ -])\d{8}(?P=i)\d{3}[0-9Xx]                      # ID in 6-8-4 groups
      | \d{4}(?P<c>[ -])\d{4}(?:(?P=c)\d{4}){1,2}(?:(?P=c)\d{1,4})?   # card in groups of four
      | 1[3-9]\d(?P<p>[ -])\d{4}(?P=p)\d{4}                           # mobile in 3-4-4 groups
      | \d+[Xx]?                                                     # a plain run
    )
    (?![0-9A-Za-z])(?!\.\d)
""", re.VERBOSE)


def _id_shaped(n: str) -> bool:
    """18 characters with a province code and a plausible birth date where an ID has them."""
    return (len(n) == 18 and n[:17].isdigit() and n[:2] in _PROVINCES
            and _plausible_date(int(n[6:10]), int(n[10:12]), int(n[12:14])))


def _classify(candidate: str) -> str | None:
    n = _digits(candidate)
    if candidate.lstrip().startswith("+") or (len(n) == 13 and n.startswith("86")):
        return MOBILE if is_mobile(candidate) else None
    if is_valid_id_number(n):
        return ID_NUMBER
    if _id_shaped(n):
        # An ID number with a wrong check digit (a typo) is not a card number either.
        return None
    if is_bank_card(n):
        return BANK_CARD
    if is_mobile(n):
        return MOBILE
    return None


def _mask_digits(text: str, keep_head: int, keep_tail: int) -> str:
    """Replace digits (and X) by * except the first and last few, keeping separators."""
    positions = [i for i, ch in enumerate(text) if ch.isdigit() or ch in "Xx"]
    hide = set(positions[keep_head:len(positions) - keep_tail])
    return "".join("*" if i in hide else ch for i, ch in enumerate(text))


def mask_id(s: str) -> str:
    """3404**********1237: the first four and last four characters kept."""
    return _mask_digits(str(s), 4, 4)


def mask_mobile(s: str) -> str:
    """138****5678 (a +86 prefix is kept as written)."""
    text = str(s)
    prefix = ""
    m = re.match(r"\s*\+?86[ -]?(?=1)", text.translate(_FULLWIDTH))
    if m and len(_digits(text)) > 11:
        prefix, text = text[:m.end()], text[m.end():]
    return prefix + _mask_digits(text, 3, 4)


def mask_bank_card(s: str) -> str:
    """6222 **** **** 7890 or 6222********7890: the first four and last four digits kept."""
    return _mask_digits(str(s), 4, 4)


_MASKERS = {ID_NUMBER: mask_id, MOBILE: mask_mobile, BANK_CARD: mask_bank_card}

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


def _find(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, matched text) of each personal number in ``text``."""
    found = []
    for m in _CANDIDATE.finditer(str(text).translate(_FULLWIDTH)):
        kind = _classify(m.group())
        if kind:
            found.append((m.start(), m.end(), kind, str(text)[m.start():m.end()]))
    return found


def _findings(text: str, where: str) -> list[Finding]:
    return [Finding(kind, where, matched, _MASKERS[kind](matched), start)
            for start, _end, kind, matched in _find(text)]


def mask_all(text: str) -> str:
    """The text with every ID number, mobile and card number masked."""
    text = "" if text is None else str(text)
    out, last = [], 0
    for start, end, kind, matched in _find(text):
        out.append(text[last:start])
        out.append(_MASKERS[kind](matched))
        last = end
    out.append(text[last:])
    return "".join(out)


def _paragraphs(text: str) -> list[str]:
    return [p for p in str(text or "").splitlines() if p.strip()]


def scan_text(text: str, where: str = "正文") -> list[Finding]:
    """Findings in a multi-paragraph text, located as ``{where}第N段`` (N counts non-empty lines)."""
    findings = []
    for n, para in enumerate(_paragraphs(text), 1):
        findings += _findings(para, f"{where}第{n}段")
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


def scan_table(columns, rows) -> list[Finding]:
    """Findings in table cells, located as 表格第N行「列名」列 (N counts data rows from 1)."""
    columns = list(columns or [])
    findings = []
    for i, row in enumerate(rows or [], 1):
        for j, cell in enumerate(_cells(row, columns)):
            if cell is None or cell == "":
                continue
            findings += _findings(str(cell), f"表格第{i}行「{_column_name(columns, j)}」列")
    return findings


def scan_notice(title: str | dict = "", body: str = "", fields: dict | None = None,
                table_columns=None, table_rows=None, attachment_names=()) -> list[Finding]:
    """Everything a notice would publish: title, body, key fields, table cells, attachment names.

    ``title`` may also be a whole notice dict (title, body, fields, table_columns,
    table_rows, and attachments as dicts with a name, or attachment_names).
    """
    if isinstance(title, dict):
        notice = title
        names = notice.get("attachment_names")
        if names is None:
            names = [a.get("name", "") if isinstance(a, dict) else str(a)
                     for a in notice.get("attachments") or []]
        return scan_notice(notice.get("title") or "", notice.get("body") or "",
                           notice.get("fields") or {}, notice.get("table_columns") or [],
                           notice.get("table_rows") or [], names)
    findings = _findings(title or "", "标题")
    findings += scan_text(body or "", "正文")
    for key, value in (fields or {}).items():
        if isinstance(value, (list, tuple)):
            value = "\n".join(str(v) for v in value)
        findings += [Finding(f.kind, f"字段「{key}」", f.text, f.masked, f.start)
                     for f in _findings(str(value if value is not None else ""), "")]
    findings += scan_table(table_columns, table_rows)
    for n, name in enumerate(attachment_names or (), 1):
        findings += _findings(str(name), f"附件名（第{n}个）")
    return findings


def _mask_names_in(cell: str) -> str:
    return _NAME_RUN.sub(
        lambda m: m.group() if m.group() in _NOT_NAMES else mask_name(m.group()), cell)


def mask_table(columns, rows) -> list:
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
        masked = mask_all(text)
        if j in name_cols:
            masked = _mask_names_in(masked)
        return cell if masked == text else masked

    out = []
    for row in rows or []:
        if isinstance(row, dict):
            out.append({k: cell_mask(columns.index(k) if k in columns else -1, v)
                        for k, v in row.items()})
        else:
            out.append([cell_mask(j, c) for j, c in enumerate(row)])
    return out
