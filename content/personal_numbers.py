"""Personal numbers in text: read text as a person types it, find and mask the numbers.

The reading (``normalise``): NFKC (full-width digits, the ideographic space an
IME types, circled digits), every Unicode decimal digit read as its value,
format and zero-width characters and combining marks dropped (soft hyphen,
zero-width space).  Digit groups joined by spaces of any kind, NBSP,
``－–—./_`` or brackets are read as one number, and letters glued on
(``Tel13800138000``, ``ID110…``) do not hide it.  Offsets always refer to the
original text, so masking replaces exactly what was written.

What counts (``find``): 身份证号 (18 digits with a valid check digit, real
province and birth date; old 15-digit numbers), 手机号 (1[3-9] + 9 digits, with
+86 / 86 / 0086), 银行卡号 (13-19 digits, a card scheme's prefix, Luhn), 固定电话
(010/02X + 8 or 0XXX + 7-8 digits) unless its digits are in ``allowed``.  Amounts
(a decimal part, a unit such as 元 or 亩 after the number), dates, 文号, postcodes,
area codes, hashes and numbers failing a check digit are not personal numbers.

``content.privacy`` applies this to records, tables and bundles.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

ID_NUMBER, MOBILE, BANK_CARD, LANDLINE = "身份证号", "手机号", "银行卡号", "固定电话"


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


def digits_of(s: str) -> str:
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
    n = digits_of(s).upper()
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


def mobile_part(n: str) -> str | None:
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
    return mobile_part(digits_of(s)) is not None


def is_landline(s: str) -> bool:
    """A mainland landline with its area code: 010/02X + 8 digits, 0XXX + 7 or 8 digits."""
    n = digits_of(s)
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
    n = digits_of(s)
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
    if mobile_part(n) is not None and groups[0][:1] in ("1", "8", "0") \
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


def find(text: str, allowed=frozenset()) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, matched text) of each personal number in ``text`` (original offsets)."""
    text = "" if text is None else str(text)
    if len(ANY_DIGIT.findall(text)) + 2 * len(_compat_digits().findall(text)) < 11:
        return ()                        # the shortest personal number has 11 digits
    return _find_cached(text, frozenset(allowed))


ANY_DIGIT = re.compile(r"\d")
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

def is_digit_like(ch: str) -> bool:
    return any(c.isdigit() or c in "Xx" for c in unicodedata.normalize("NFKC", ch))


def _mask_digits(text: str, keep_head: int, keep_tail: int) -> str:
    """Replace digits (and X) by * except the first and last few, keeping separators."""
    positions = [i for i, ch in enumerate(text) if is_digit_like(ch)]
    hide = set(positions[keep_head:len(positions) - keep_tail])
    return "".join("*" if i in hide else ch for i, ch in enumerate(text))


def mask_id(s: str) -> str:
    """3404**********1237: the first four and last four characters kept."""
    return _mask_digits(str(s), 4, 4)


def mask_mobile(s: str) -> str:
    """138****5678 (a +86 / 0086 prefix is kept as written)."""
    n = digits_of(s).lstrip("+")
    prefix = len(n) - 11 if mobile_part(n) else 0
    return _mask_digits(str(s), 3 + prefix, 4)


def mask_bank_card(s: str) -> str:
    """6222 **** **** 7890 or 6222********7890: the first four and last four digits kept."""
    return _mask_digits(str(s), 4, 4)


def mask_landline(s: str) -> str:
    """0554-*****67: the area code and the last two digits kept."""
    return _mask_digits(str(s), _landline_area(digits_of(s)) or 4, 2)


MASKERS = {ID_NUMBER: mask_id, MOBILE: mask_mobile, BANK_CARD: mask_bank_card,
            LANDLINE: mask_landline}
KEEP = {ID_NUMBER: (4, 4), MOBILE: (3, 4), BANK_CARD: (4, 4), LANDLINE: (4, 2)}

def mask_all(text: str, allowed=frozenset()) -> str:
    """The text with every ID number, mobile, card number and unlisted landline masked."""
    text = "" if text is None else str(text)
    out, last = [], 0
    for start, end, kind, matched in find(text, allowed):
        out.append(text[last:start])
        out.append(MASKERS[kind](matched))
        last = end
    out.append(text[last:])
    return "".join(out)
