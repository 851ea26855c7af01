"""Disclosure time limits (公开时限): parse the catalogue text, compute deadlines.

Catalogues keep the original wording; this module turns it into a small
JSON-able dict and does the working-day arithmetic on the official calendar,
with its holidays and swapped working days (调休).

Where the official calendar comes from, per year: the schedule staff entered
(``content.holidays``, installed for the current request or command with
``use_calendar``), else the chinesecalendar library, else Monday to Friday.
A deadline that falls in or spans a year of the last kind is *provisional*
(``provisional_years``): pages say it is counted Monday to Friday for now.

Parsed forms:
    {"count": 20, "unit": "workday"}            信息形成或者变更之日起20个工作日内
    {"count": 7, "unit": "day"}                 7天 / 7日 / 不少于7日
    {..., "publicity": {"count": 7, "unit": "workday"}}   …，公示7个工作日
    {"rule": "realtime"}                        实时公开
    {"rule": "annual", "month": 1, "day": 31}   每年1月31日前
    {"rule": "quarterly", "day": 20}            每季度的首个月20日
    {"rule": "quarterly"} / {"rule": "monthly"} 每季度 / 每月 (village frequency)
    {"rule": "monthly", "day": 10}              每月10日前
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Callable, Union

import chinese_calendar

__all__ = [
    "parse_time_limit",
    "is_workday",
    "add_workdays",
    "workdays_between",
    "deadline",
    "StaffCalendar",
    "use_calendar",
    "has_calendar",
    "provisional_years",
    "PROVISIONAL",
]

PROVISIONAL = "暂按周一至周五计算"

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_RUN = re.compile("[零〇一二两三四五六七八九十百千]+")

# "自然日" before "日" so the longer word wins.
_UNIT_WORDS = r"(工作日|自然日|天|日)"
_COUNT = re.compile(r"(\d+)个?" + _UNIT_WORDS)
_PUBLICITY = re.compile(r"公示期?(?:为|不少于|不得少于)?(\d+)个?" + _UNIT_WORDS)
_ANNUAL = re.compile(r"每年(?:的)?(\d{1,2})月(\d{1,2})日")
_QUARTERLY_DAY = re.compile(r"每季度?(?:的)?(?:首个?月|第1个?月)(?:的)?(\d{1,2})日")
_MONTHLY_DAY = re.compile(r"每月(?:的)?(\d{1,2})日")


def _cn_to_int(run: str) -> int:
    """Value of a run of Chinese numerals: 二十 → 20, 一百零五 → 105, 二五 → 25."""
    if not any(ch in _CN_UNITS for ch in run):
        # Digit-by-digit form, as in years written 二〇二五.
        return int("".join(str(_CN_DIGITS[ch]) for ch in run))
    total, current = 0, 0
    for ch in run:
        if ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return total + current


def _normalise(text: str) -> str:
    """NFKC (full-width digits to ASCII), no whitespace, Chinese numerals as digits."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(text.split())
    return _CN_RUN.sub(lambda m: str(_cn_to_int(m.group())), text)


def _unit(word: str) -> str:
    return "workday" if word == "工作日" else "day"


def parse_time_limit(text: str | None) -> dict | None:
    """Parse the original 公开时限 text; None when the wording is not recognised."""
    if not text:
        return None
    s = _normalise(text)
    if not s:
        return None

    # Calendar rules first: "每月10日" must not be read as a count of 10 days.
    if "实时" in s or "即时" in s:
        return {"rule": "realtime"}
    m = _ANNUAL.search(s)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2000, month)[1]:
            return {"rule": "annual", "month": month, "day": day}
        return None
    m = _QUARTERLY_DAY.search(s)
    if m:
        day = int(m.group(1))
        return {"rule": "quarterly", "day": day} if 1 <= day <= 31 else None
    m = _MONTHLY_DAY.search(s)
    if m:
        day = int(m.group(1))
        return {"rule": "monthly", "day": day} if 1 <= day <= 31 else None

    result: dict = {}
    publicity = _PUBLICITY.search(s)
    if publicity:
        result["publicity"] = {"count": int(publicity.group(1)),
                               "unit": _unit(publicity.group(2))}
    for m in _COUNT.finditer(s):
        if publicity and publicity.start() <= m.start() < publicity.end():
            continue
        result = {"count": int(m.group(1)), "unit": _unit(m.group(2)), **result}
        break
    if result:
        return result

    if "每季" in s:
        return {"rule": "quarterly"}
    if "每月" in s:
        return {"rule": "monthly"}
    return None


@dataclass(frozen=True)
class StaffCalendar:
    """The annual schedules staff entered: the years they cover and their listed days.

    ``days`` maps a date to True (调休上班, a working weekend day) or False (放假).
    A date of a covered year that is not listed is a working day from Monday to Friday.
    """
    years: frozenset = frozenset()
    days: dict = field(default_factory=dict)

    def workday(self, d: date) -> bool | None:
        """True/False when these schedules decide ``d``, None when they say nothing about it."""
        listed = self.days.get(d)
        if listed is not None:
            return listed
        if d.year in self.years:
            return d.weekday() < 5
        return None


# The staff calendar of the current request or command: a StaffCalendar, or a loader
# called on first use (so a request that computes no deadline reads nothing).
CalendarSource = Union[StaffCalendar, Callable[[], StaffCalendar], None]
_staff: ContextVar[CalendarSource] = ContextVar("staff_calendar", default=None)


def use_calendar(source: CalendarSource):
    """Make ``source`` the staff calendar from here on in this context; returns the reset token."""
    return _staff.set(source)


def reset_calendar(token) -> None:
    """Undo ``use_calendar`` (the end of a request); in another context, just forget it."""
    try:
        _staff.reset(token)
    except ValueError:
        _staff.set(None)


def staff_calendar() -> StaffCalendar | None:
    source = _staff.get()
    if callable(source):
        source = source()
        _staff.set(source)
    return source


@lru_cache(maxsize=None)
def library_covers(year: int) -> bool:
    """Whether the chinesecalendar library has the official schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=4096)
def _library_workday(d: date) -> bool:
    """The library's answer; Monday to Friday for years it lacks."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5


def is_workday(d: date) -> bool:
    """Official working day: the staff's schedule, else the library, else Monday to Friday."""
    staff = staff_calendar()
    if staff is not None:
        decided = staff.workday(d)
        if decided is not None:
            return decided
    return _library_workday(d)


def has_calendar(year: int) -> bool:
    """Whether ``year``'s holidays are known (entered by staff or in the library)."""
    staff = staff_calendar()
    return (staff is not None and year in staff.years) or library_covers(year)


def provisional_years(start: date | None, end: date | None = None) -> list[int]:
    """The years from ``start`` to ``end`` (either order) whose holidays are not known:
    working days there are counted Monday to Friday for now."""
    dates = [d for d in (start, end) if d is not None]
    if not dates:
        return []
    lo, hi = min(dates).year, max(dates).year
    return [y for y in range(lo, hi + 1) if not has_calendar(y)]


def add_workdays(start: date, n: int) -> date:
    """The date n working days after start (start itself not counted); n < 0 goes back."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    d = start
    while remaining:
        d += timedelta(days=step)
        if is_workday(d):
            remaining -= 1
    return d


def workdays_between(a: date, b: date) -> int:
    """Working days in (a, b]; when b < a, minus the working days in [b, a).

    The asymmetric negative case makes it the inverse of add_workdays:
    workdays_between(a, add_workdays(a, n)) == n for any n, as long as a is
    a working day (or n >= 0).
    """
    if b >= a:
        lo, hi = a + timedelta(days=1), b
        sign = 1
    else:
        lo, hi = b, a - timedelta(days=1)
        sign = -1
    count = 0
    d = lo
    while d <= hi:
        if is_workday(d):
            count += 1
        d += timedelta(days=1)
    return sign * count


@lru_cache(maxsize=1024)
def _month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _clamped(year: int, month: int, day: int) -> date:
    """date() with the day clamped to the month's length (e.g. 31 in a 30-day month)."""
    return date(year, month, min(day, _month_length(year, month)))


def _next_month(d: date) -> tuple[int, int]:
    return (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)


def deadline(formed_on: date, limit: dict | None) -> date | None:
    """Last day on which information formed on formed_on may still be disclosed in time."""
    if not limit or formed_on is None:
        return None
    if "count" in limit:
        count = int(limit["count"])
        if limit.get("unit") == "workday":
            return add_workdays(formed_on, count)
        return formed_on + timedelta(days=count)

    rule = limit.get("rule")
    if rule == "realtime":
        return formed_on
    if rule == "annual" and "month" in limit and "day" in limit:
        month, day = int(limit["month"]), int(limit["day"])
        candidate = _clamped(formed_on.year, month, day)
        if candidate < formed_on:
            candidate = _clamped(formed_on.year + 1, month, day)
        return candidate
    if rule == "quarterly":
        # First month of the quarter after the one formed_on falls in.
        first = 3 * ((formed_on.month - 1) // 3 + 1) + 1
        year = formed_on.year + (1 if first > 12 else 0)
        first = first - 12 if first > 12 else first
        if "day" in limit:
            return _clamped(year, first, int(limit["day"]))
        last = first + 2
        return _clamped(year, last, 31)
    if rule == "monthly":
        year, month = _next_month(formed_on)
        if "day" in limit:
            return _clamped(year, month, int(limit["day"]))
        return _clamped(year, month, 31)
    return None
