"""The holiday calendar kept by staff: the State Council's annual schedule, entered or imported.

Every year the State Council's General Office announces which days are 放假
and which weekend days are worked instead (调休上班). The chinesecalendar
library carries these only up to the year it was released, so staff enter
each new year's schedule here (admin page /admin/holidays, or
``kiosk holidays import``). A year entered here wins over the library; it
travels to terminals in the bundles (tables holiday_year, holiday_day).

Accepted input, as a pasted list, .csv (UTF-8 or GBK) or .xlsx, one line per
day or range of days::

    2027-02-05..2027-02-11, 休, 春节      放假 (a range: .. 至 ~ or —)
    2027-02-14, 班, 春节                  调休上班 (must be a Saturday or Sunday)

The kind may be written 休/放假/假/holiday or 班/上班/调休上班/workday; dates as
2027-02-05, 2027/2/5 or 2027年2月5日. A header line (日期, 类型, …) is skipped.
The notice's own numbered lines may be pasted as they are (the year given
separately), e.g.::

    二、春节：2月5日（星期五）至11日（星期四）放假调休，共7天。2月14日（星期日）、2月20日（星期六）上班。

All or nothing: any bad line refuses the whole list, naming its line number.
"""
from __future__ import annotations

import csv
import io
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from . import timelimits
from .timelimits import StaffCalendar

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


# ---------------------------------------------------------------- the database

def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def save(conn: sqlite3.Connection, schedule: Schedule, source: str = "") -> dict | None:
    """Replace ``schedule.year`` in the database (inside the caller's transaction); returns the
    year as it was before (None when new). Refused when a day belongs to another year's schedule."""
    clash = []
    for d in sorted(schedule.days):
        row = conn.execute("SELECT year FROM holiday_day WHERE day = ? AND year != ?",
                           (d.isoformat(), schedule.year)).fetchone()
        if row:
            clash.append(f"{d} 已在{row['year']}年的安排中，请先在那一年中删去")
    if clash:
        raise CalendarError(clash)
    before = year_rows(conn, schedule.year)
    conn.execute("DELETE FROM holiday_day WHERE year = ?", (schedule.year,))
    conn.execute(
        "INSERT INTO holiday_year(year, source, updated_at) VALUES (?, ?, ?) ON CONFLICT(year) DO "
        "UPDATE SET source = excluded.source, updated_at = excluded.updated_at",
        (schedule.year, source.strip()[:100], now_utc()))
    conn.executemany("INSERT INTO holiday_day(day, year, kind, name) VALUES (?, ?, ?, ?)",
                     [(d.isoformat(), schedule.year, k, schedule.names.get(d, ""))
                      for d, k in sorted(schedule.days.items())])
    return before


def delete(conn: sqlite3.Connection, year: int) -> dict | None:
    """Forget a year's schedule (the library, else Monday to Friday, applies again)."""
    before = year_rows(conn, year)
    conn.execute("DELETE FROM holiday_day WHERE year = ?", (year,))
    conn.execute("DELETE FROM holiday_year WHERE year = ?", (year,))
    return before


def year_rows(conn: sqlite3.Connection, year: int) -> dict | None:
    """A year as stored: source, time and its days (JSON-able, for the audit log)."""
    head = conn.execute("SELECT * FROM holiday_year WHERE year = ?", (year,)).fetchone()
    if head is None:
        return None
    return {"year": year, "source": head["source"], "updated_at": head["updated_at"],
            "days": [[r["day"], r["kind"], r["name"]] for r in conn.execute(
                "SELECT * FROM holiday_day WHERE year = ? ORDER BY day", (year,))]}


def entered_years(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        """SELECT y.year, y.source, y.updated_at,
                  sum(d.kind = 'holiday') AS off, sum(d.kind = 'workday') AS work
           FROM holiday_year y LEFT JOIN holiday_day d ON d.year = y.year
           GROUP BY y.year ORDER BY y.year DESC""").fetchall()


def load(conn: sqlite3.Connection) -> StaffCalendar:
    years = frozenset(r[0] for r in conn.execute("SELECT year FROM holiday_year"))
    days = {date.fromisoformat(r[0]): r[1] == "workday"
            for r in conn.execute("SELECT day, kind FROM holiday_day")}
    return StaffCalendar(years, days)


_cache: dict[str, tuple[tuple, StaffCalendar]] = {}


def _fingerprint(conn: sqlite3.Connection) -> tuple:
    return tuple(conn.execute(
        "SELECT count(*), max(updated_at), total(year), "
        "(SELECT count(*) FROM holiday_day) FROM holiday_year").fetchone())


def calendar_for(conn: sqlite3.Connection, database: str) -> StaffCalendar:
    """The staff calendar of one database, re-read only when its schedules changed."""
    try:
        mark = _fingerprint(conn)
    except sqlite3.OperationalError:        # a database from before migration 0015
        return StaffCalendar()
    hit = _cache.get(database)
    if hit is None or hit[0] != mark:
        hit = (mark, load(conn))
        _cache[database] = hit
    return hit[1]


def init_app(app) -> None:
    """Each request counts working days on its own instance's calendar, read on first use;
    pages may ask ``provisional_note(start, end)`` whether a deadline is counted Monday to
    Friday for now."""
    from flask import current_app, g  # noqa: PLC0415

    from .db import get_db  # noqa: PLC0415

    @app.before_request
    def _use_instance_calendar():
        database = current_app.config["DATABASE"]
        g.holiday_calendar_token = timelimits.use_calendar(lambda: calendar_for(get_db(), database))

    @app.teardown_request
    def _forget_instance_calendar(_exc=None):
        token = g.pop("holiday_calendar_token", None)
        if token is not None:
            timelimits.reset_calendar(token)

    app.add_template_global(provisional_note)
    app.add_template_global(timelimits.PROVISIONAL, "provisional_word")


def provisional_note(start, end=None) -> str:
    """'' or the words a page shows beside a deadline counted Monday to Friday for now."""
    years = timelimits.provisional_years(_as_date(start), _as_date(end))
    if not years:
        return ""
    listed = "、".join(f"{y}年" for y in years)
    return f"{timelimits.PROVISIONAL}（{listed}节假日安排尚未录入，期限可能顺延）"


def _as_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# ---------------------------------------------------------------- coverage

def year_status(conn: sqlite3.Connection, year: int) -> str:
    """'staff' (entered here), 'library' (chinesecalendar has it) or 'missing'."""
    if conn.execute("SELECT 1 FROM holiday_year WHERE year = ?", (year,)).fetchone():
        return "staff"
    return "library" if timelimits.library_covers(year) else "missing"


STATUS_NAMES = {"staff": "已录入", "library": "使用内置日历", "missing": "缺少，暂按周一至周五计算"}


def import_schedule(conn: sqlite3.Connection, rows, *, year: int | None = None, source: str = "",
                    user=None, remote: str = "", username: str | None = None) -> tuple[Schedule, int]:
    """Parse, store and audit a schedule in one transaction; open applications get their
    due dates recounted. Returns the schedule and how many due dates changed."""
    from . import editing  # noqa: PLC0415
    schedule = parse(rows, year)
    with editing.transaction(conn):
        before = save(conn, schedule, source)
        moved = _recount(conn)
        editing.bump_content_version(conn)
        editing.audit(conn, user, "holidays", "holiday_year", schedule.year, before,
                      year_rows(conn, schedule.year), remote, username=username)
    return schedule, moved


def _recount(conn: sqlite3.Connection) -> int:
    """Open applications' due dates on the calendar as it now stands (inside the transaction)."""
    from . import applications  # noqa: PLC0415
    token = timelimits.use_calendar(load(conn))
    try:
        return applications.recount_due_dates(conn)
    finally:
        timelimits.reset_calendar(token)


def remove_year(conn: sqlite3.Connection, year: int, *, user=None, remote: str = "",
                username: str | None = None) -> int:
    from . import editing  # noqa: PLC0415
    with editing.transaction(conn):
        before = delete(conn, year)
        if before is None:
            raise CalendarError([f"没有录入{year}年的节假日安排"])
        moved = _recount(conn)
        editing.bump_content_version(conn)
        editing.audit(conn, user, "holidays_delete", "holiday_year", year, before, None, remote,
                      username=username)
    return moved


def local_time(stamp: str | None) -> str:
    """A stored UTC stamp as the server's local time, to the minute (what staff read)."""
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(stamp or "")


def days_of(conn: sqlite3.Connection, year: int) -> list[dict]:
    return [{"day": date.fromisoformat(r["day"]), "kind": r["kind"], "name": r["name"],
             "weekday": weekday_name(date.fromisoformat(r["day"]))}
            for r in conn.execute("SELECT * FROM holiday_day WHERE year = ? ORDER BY day", (year,))]


def as_text(conn: sqlite3.Connection, year: int) -> str:
    """A year's stored days as the pasted-list format, ranges joined (to edit and paste back)."""
    lines, run = [], []
    for d in days_of(conn, year):
        if run and d["kind"] == run[-1]["kind"] and d["name"] == run[-1]["name"] \
                and d["day"] - run[-1]["day"] == timedelta(days=1):
            run.append(d)
            continue
        if run:
            lines.append(_line(run))
        run = [d]
    if run:
        lines.append(_line(run))
    return "\n".join(lines)


def _line(run: list[dict]) -> str:
    span = run[0]["day"].isoformat() + (f"..{run[-1]['day'].isoformat()}" if len(run) > 1 else "")
    kind = "休" if run[0]["kind"] == "holiday" else "班"
    return f"{span}, {kind}" + (f", {run[0]['name']}" if run[0]["name"] else "")


def read_path(path: str | Path) -> list[tuple[int, list[str]]]:
    p = Path(path)
    return rows_from_file(p.read_bytes(), p.name)


__all__ = ["CalendarError", "Schedule", "parse", "rows_from_text", "rows_from_file", "save", "load",
           "calendar_for", "init_app", "provisional_note", "year_status", "import_schedule",
           "remove_year", "days_of", "as_text", "entered_years"]
