"""The holiday calendar kept by staff: the State Council's annual schedule, stored and used.

The chinesecalendar library carries the official schedule only up to the year
it was released, so staff enter each new year's schedule (admin page
/admin/holidays, or ``kiosk holidays import``; the input formats are in
content.holiday_input). A year entered here wins over the library; it travels
to terminals in the bundles (tables holiday_year, holiday_day), and each
request counts working days on its own instance's calendar.
"""
from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone

from . import timelimits
from .holiday_input import (KIND_NAMES, MAX_FILE_BYTES, CalendarError, Schedule,  # noqa: F401
                            parse, read_path, rows_from_file, rows_from_text, weekday_name)
from .timelimits import StaffCalendar


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


def fingerprint(conn: sqlite3.Connection) -> tuple:
    """Changes whenever a year's schedule is entered, changed or removed."""
    return _fingerprint(conn)


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

