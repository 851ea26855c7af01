"""Reading a year's holiday schedule: a pasted list, .csv/.xlsx, or the notice's own lines.

Every year the State Council's General Office announces which days are 放假
and which weekend days are worked instead (调休上班). Staff give it as one line
per day or range of days::

    2027-02-05..2027-02-11, 休, 春节      放假 (a range: .. 至 ~ or —)
    2027-02-14, 班, 春节                  调休上班 (must be a Saturday or Sunday)

The kind may be written 休/放假/假/holiday or 班/上班/调休上班/workday; dates as
2027-02-05, 2027/2/5 or 2027年2月5日. A header line (日期, 类型, …) is skipped.
The notice's own numbered lines may be pasted as they are (the year given
separately), e.g.::

    二、春节：2月5日（星期五）至11日（星期四）放假调休，共7天。2月14日（星期日）、2月20日（星期六）上班。

All or nothing: any bad line refuses the whole list, naming its line number.
Storing the schedule is content.holidays' business.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_LINES = 500
KINDS = {"休": "holiday", "放假": "holiday", "假": "holiday", "休息": "holiday", "holiday": "holiday",
         "班": "workday", "上班": "workday", "调休上班": "workday", "补班": "workday", "workday": "workday"}
KIND_NAMES = {"holiday": "放假", "workday": "调休上班"}
WEEKDAYS = "一二三四五六日"

# A numbered line of the State Council's notice: 二、春节：2月5日（星期五）至11日（星期四）放假调休…
_NOTICE_LINE = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*([^：:]{1,20})[：:](.+)$")
_PAREN = r"(?:[（(][^）)]*[）)])?"
_MONTH_DAY = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日" + _PAREN)
_NOTICE_RANGE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日" + _PAREN
                           + r"(?:至(?:(?:(\d{4})年)?(\d{1,2})月)?(\d{1,2})日" + _PAREN + ")?[^。；;]*?放假")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_RANGE_SEP = re.compile(r"\s*(?:\.\.|至|到|~|～|—|–)\s*")


class CalendarError(ValueError):
    """The schedule was refused; ``errors`` are Chinese messages naming line numbers."""

    def __init__(self, errors: list[str]):
        super().__init__("；".join(errors))
        self.errors = errors


@dataclass
class Schedule:
    year: int
    days: dict            # date → 'holiday' | 'workday'
    names: dict           # date → holiday name

    def summary(self) -> str:
        off = sum(1 for k in self.days.values() if k == "holiday")
        work = len(self.days) - off
        return f"{self.year}年：放假 {off} 天，调休上班 {work} 天"


def weekday_name(d: date) -> str:
    return "星期" + WEEKDAYS[d.weekday()]


# ---------------------------------------------------------------- reading the input

def _parse_date(text: str) -> date | None:
    m = _DATE.fullmatch(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _cell(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def rows_from_text(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of a pasted list or CSV: commas, tabs, Chinese commas or spaces."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if _NOTICE_LINE.match(line) and "放假" in line:
            out.append((number, [line]))          # the notice's wording: read whole in parse()
            continue
        if "," in line or "\t" in line:
            cells = next(csv.reader([line], delimiter="\t" if "\t" in line and "," not in line else ","))
        else:
            cells = re.split(r"[，、；;]|\s+(?=[^\d.至到~～—–])", line)
        out.append((number, [c.strip() for c in cells]))
    return out


def rows_from_file(data: bytes, filename: str) -> list[tuple[int, list[str]]]:
    """Rows of an uploaded .xlsx, .csv or .txt (UTF-8 with or without BOM, or GBK)."""
    if len(data) > MAX_FILE_BYTES:
        raise CalendarError([f"文件过大（超过 {MAX_FILE_BYTES // 1024 // 1024} MB），节假日安排不会这么长"])
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        from openpyxl import load_workbook  # noqa: PLC0415
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as e:  # noqa: BLE001  (any unreadable workbook gets one message)
            raise CalendarError([f"无法读取 Excel 文件：{type(e).__name__}"]) from e
        ws = wb.worksheets[0]
        out = []
        for number, row in enumerate(ws.iter_rows(values_only=True), 1):
            cells = [_cell(v) for v in row]
            if any(cells):
                out.append((number, cells))
        return out
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return rows_from_text(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise CalendarError(["文件编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV"])


def _notice_rows(number: int, line: str, year: int | None) -> list[list[str]]:
    """One numbered line of the notice as (dates, kind, name) rows; [] if it cannot be read."""
    m = _NOTICE_LINE.match(line)
    name, text = m.group(1).strip(), m.group(2)
    if year is None:
        raise CalendarError([f"第 {number} 行：粘贴通知原文时，请先填写是哪一年的安排"])
    rows = []
    span = _NOTICE_RANGE.search(text)
    if span is None:
        return []
    y1, m1, d1, y2, m2, d2 = span.groups()
    m1, d1 = int(m1), int(d1)
    m2 = int(m2) if m2 else m1
    d2 = int(d2) if d2 else d1
    start_year = int(y1) if y1 else (year - 1 if (m1, d1) > (m2, d2) else year)   # 元旦 from December
    end_year = int(y2) if y2 else (year if y1 is None or (m2, d2) < (m1, d1) else start_year)
    rows.append([f"{start_year}-{m1:02d}-{d1:02d}..{end_year}-{m2:02d}-{d2:02d}", "休", name])
    for sentence in re.split(r"[。；;]", text[span.end():]):
        if "上班" not in sentence:
            continue
        for w in _MONTH_DAY.finditer(sentence):
            wy = int(w.group(1)) if w.group(1) else (start_year if int(w.group(2)) >= m1 else end_year)
            rows.append([f"{wy}-{int(w.group(2)):02d}-{int(w.group(3)):02d}", "班", name])
    return rows


def _is_header(cells: list[str]) -> bool:
    first = cells[0] if cells else ""
    return _parse_date(_RANGE_SEP.split(first)[0]) is None and any(
        w in "".join(cells) for w in ("日期", "类型", "date", "Date"))


def parse(rows: list[tuple[int, list[str]]], year: int | None = None) -> Schedule:
    """The schedule in ``rows``; ``year`` defaults to the year most of its days fall in."""
    errors: list[str] = []
    days: dict[date, str] = {}
    names: dict[date, str] = {}
    where: dict[date, int] = {}
    if len(rows) > MAX_LINES:
        raise CalendarError([f"行数过多（{len(rows)} 行），一年的安排通常不超过 40 行"])
    expanded = []
    for number, cells in rows:
        if len(cells) == 1 and _NOTICE_LINE.match(cells[0]) and "放假" in cells[0]:
            found = _notice_rows(number, cells[0], year)
            if not found:
                errors.append(f"第 {number} 行：没有读出放假日期，请按“2027-02-05..2027-02-11, 休, 春节”的格式填写")
            expanded += [(number, r) for r in found]
        else:
            expanded.append((number, cells))
    for number, cells in expanded:
        cells = [c for c in cells if c != ""]
        if not cells or _is_header(cells):
            continue
        parts = _RANGE_SEP.split(cells[0])
        if len(parts) == 1 and len(cells) >= 2 and _parse_date(cells[1]):
            parts, cells = [cells[0], cells[1]], [cells[0], *cells[2:]]   # start and end in two cells
        first = _parse_date(parts[0])
        last = _parse_date(parts[-1]) if len(parts) == 2 else first
        if first is None or last is None or len(parts) > 2:
            errors.append(f"第 {number} 行：日期“{cells[0][:30]}”无法识别，请写成 2027-02-05 或 2027-02-05..2027-02-11")
            continue
        if last < first:
            errors.append(f"第 {number} 行：结束日期 {last} 早于开始日期 {first}")
            continue
        if (last - first).days > 31:
            errors.append(f"第 {number} 行：{first} 至 {last} 超过一个月，请核对")
            continue
        kind_text = cells[1] if len(cells) > 1 else ""
        kind = KINDS.get(kind_text.replace(" ", "").lower())
        if kind is None:
            errors.append(f"第 {number} 行：类型“{kind_text[:20]}”无法识别，放假写“休”，调休上班写“班”")
            continue
        name = cells[2][:20] if len(cells) > 2 else ""
        d = first
        while d <= last:
            if kind == "workday" and d.weekday() < 5:
                errors.append(f"第 {number} 行：{d} 是{weekday_name(d)}，调休上班日应为星期六或星期日")
            elif d in days and days[d] != kind:
                errors.append(f"第 {number} 行：{d} 在第 {where[d]} 行已写为{KIND_NAMES[days[d]]}，"
                              f"不能又写为{KIND_NAMES[kind]}")
            else:
                days[d], where[d] = kind, number
                if name:
                    names[d] = name
            d += timedelta(days=1)
    if errors:
        raise CalendarError(errors)
    if not any(k == "holiday" for k in days.values()):
        raise CalendarError(["没有读到任何放假日期，请按“日期, 休/班, 节日名称”每行一条填写"])
    if year is None:
        years = [d.year for d in days]
        year = max(set(years), key=years.count)
    for d in sorted(days):
        # A schedule may start in the December before (元旦), never reach into the next year.
        if not (date(year - 1, 12, 1) <= d <= date(year, 12, 31)):
            errors.append(f"第 {where[d]} 行：{d} 不属于{year}年的节假日安排")
    if errors:
        raise CalendarError(errors)
    return Schedule(year, days, names)


def read_path(path: str | Path) -> list[tuple[int, list[str]]]:
    p = Path(path)
    return rows_from_file(p.read_bytes(), p.name)
