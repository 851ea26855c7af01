"""公示留痕: what boards actually showed, and whether a 公示 was on screen for its whole period.

A board counts, second by second, which notice is on screen and whether the page is visible,
and reports the totals per UTC hour to the instance serving it (``POST /display/<slug>/shown``
from the board's own browser). A terminal keeps them in ``display_shown`` and sends each
finished hour upstream through the outbox (a late report of an hour as the difference, once);
the hub adds everything up in ``display_report``. A hub or standalone instance records its
own boards there directly.

Coverage of a notice with a 公示期: on each board of the notice's village (or of its
publisher), for every day of the period, every hour in which the board is meant to show
notices (its daily windows, China time) must have shown the notice with the page visible.
A day with a missing hour is a gap; a 公示 none of whose boards covered every day was not
fulfilled, and the days short are the suggested extension.
"""
from __future__ import annotations

import json
import re
import sqlite3
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from . import jurisdictions
from .board_settings import in_windows

CHINA = timezone(timedelta(hours=8), "CST")
HOUR = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}$")
MAX_NOTICES = 500                 # per hour in one report
MAX_HOURS = 72                    # in one report (a board that was cut off for three days)
UPSTREAM_KIND = "display"
NAMESPACE = uuidlib.UUID("8f9d3c52-51a4-4f0e-9d8b-2f1f6a1d7c11")


class BadReport(ValueError):
    """A report that cannot be counted; the message says why (Chinese)."""


def now(pinned: str | None = None) -> datetime:
    """The clock for reports and coverage; ``pinned`` (the NOW setting, ISO 8601, as tests and
    training use it; without a zone it is China time) stops it."""
    if pinned:
        moment = datetime.fromisoformat(pinned)
        return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
    return datetime.now(timezone.utc)


def hour_key(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H")


def _hour_start(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=timezone.utc)


def _is_hour(key) -> bool:
    """A real UTC hour "YYYY-MM-DDTHH" (the pattern alone lets "T99" or "02-30" through)."""
    if not isinstance(key, str) or not HOUR.match(key):
        return False
    try:
        _hour_start(key)
    except ValueError:
        return False
    return True


def parse_report(body, now: datetime) -> dict[tuple[str, int], tuple[int, int]]:
    """``{"hours": {"2026-12-03T02": {"123": [shown, visible], …}, …}}`` → counts by (hour, notice)."""
    hours = body.get("hours") if isinstance(body, dict) else None
    if not isinstance(hours, dict) or len(hours) > MAX_HOURS:
        raise BadReport("报告格式不正确")
    out = {}
    latest = hour_key(now + timedelta(hours=1))
    for hour, notices in hours.items():
        if not _is_hour(hour) or hour > latest:
            raise BadReport(f"时段无效：{str(hour)[:20]}")
        if not isinstance(notices, dict) or len(notices) > MAX_NOTICES:
            raise BadReport("公示条数无效")
        for nid, pair in notices.items():
            if not str(nid).isdigit() or len(str(nid)) > 18 or not isinstance(pair, list) or len(pair) != 2:
                raise BadReport("公示编号或计数无效")
            shown, visible = pair
            if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 3600 for v in pair) \
                    or visible > shown:
                raise BadReport("显示秒数无效")
            out[(hour, int(nid))] = (shown, visible)
    return out


def add_hour(conn: sqlite3.Connection, terminal_id: str, board_slug: str, notice_id: int, hour: str,
             shown: int, visible: int) -> None:
    """(hub) Add an hour's seconds to the day's row; the hour counts as shown once anything
    was on screen with the page visible."""
    day, h = hour[:10], int(hour[11:13])
    conn.execute(
        "INSERT INTO display_report(terminal_id, board_slug, notice_id, day, hours, shown, visible) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(terminal_id, board_slug, notice_id, day) DO UPDATE SET "
        "hours = hours | excluded.hours, shown = min(86400, shown + excluded.shown), "
        "visible = min(86400, visible + excluded.visible)",
        (terminal_id, board_slug, notice_id, day, (1 << h) if visible > 0 else 0, shown, visible))


def record(conn: sqlite3.Connection, board_slug: str, counts: dict, on_terminal: bool) -> None:
    """Keep a board's report: buffered for upstream on a terminal, final on a hub."""
    for (hour, nid), (shown, visible) in counts.items():
        if on_terminal:
            conn.execute(
                "INSERT INTO display_shown(board_slug, notice_id, hour, shown, visible) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(board_slug, notice_id, hour) DO UPDATE SET "
                "shown = min(3600, shown + excluded.shown), visible = min(3600, visible + excluded.visible)",
                (board_slug, nid, hour, shown, visible))
        else:
            add_hour(conn, "local", board_slug, nid, hour, shown, visible)


MAX_REPORTS_PER_RECORD = 500
BATCH_HOURS = 3                   # finished hours wait until the oldest is this old: ~8 records a day


def queue_finished_hours(conn: sqlite3.Connection, scope: str, now: datetime, enqueue,
                         batch_hours: int = BATCH_HOURS) -> int:
    """Send every finished hour's not yet sent seconds upstream, many boards and hours to a
    record (a late report of an hour goes as the difference), once the oldest waiting hour is
    ``batch_hours`` old; returns the records queued."""
    current = hour_key(now)
    oldest = conn.execute("SELECT min(hour) FROM display_shown WHERE hour < ? "
                          "AND (shown > sent_shown OR visible > sent_visible)", (current,)).fetchone()[0]
    if oldest is None or oldest > hour_key(now - timedelta(hours=batch_hours)):
        return 0
    rows = conn.execute(
        "SELECT * FROM display_shown WHERE hour < ? AND (shown > sent_shown OR visible > sent_visible) "
        "ORDER BY board_slug, hour, notice_id", (current,)).fetchall()
    reports: dict[tuple[str, str], dict] = {}
    for r in rows:
        reports.setdefault((r["board_slug"], r["hour"]), {})[str(r["notice_id"])] = [
            r["shown"] - r["sent_shown"], r["visible"] - r["sent_visible"]]
    items = [{"board": b, "hour": h, "notices": n} for (b, h), n in reports.items()]
    queued = 0
    for i in range(0, len(items), MAX_REPORTS_PER_RECORD):
        chunk = items[i:i + MAX_REPORTS_PER_RECORD]
        marker = json.dumps([scope, chunk], sort_keys=True)
        enqueue(conn, UPSTREAM_KIND, str(uuidlib.uuid5(NAMESPACE, marker)),
                {"jurisdiction_code": scope, "reports": chunk})
        queued += 1
    conn.execute("UPDATE display_shown SET sent_shown = shown, sent_visible = visible "
                 "WHERE hour < ? AND (shown > sent_shown OR visible > sent_visible)", (current,))
    # Hours sent in full and older than a week are history the hub keeps.
    week_ago = hour_key(now - timedelta(days=7))
    conn.execute("DELETE FROM display_shown WHERE hour < ? AND shown = sent_shown AND visible = sent_visible",
                 (week_ago,))
    return queued


def file_upstream(conn: sqlite3.Connection, terminal_id: str, payload: dict, now: datetime) -> dict:
    """Add a terminal's reports (boards × finished hours) to the hub's counts; raise BadReport
    when any part is malformed (nothing of the record is kept then)."""
    reports = payload.get("reports")
    if not isinstance(reports, list) or not 0 < len(reports) <= MAX_REPORTS_PER_RECORD:
        raise BadReport("报告格式不正确")
    parsed = []
    for rep in reports:
        board = rep.get("board") if isinstance(rep, dict) else None
        if not isinstance(board, str) or not re.match(r"^[a-z0-9][a-z0-9-]{0,63}$", board):
            raise BadReport("公示栏编号无效")
        hour = rep.get("hour")
        if not isinstance(hour, str):
            raise BadReport("时段无效")
        parsed.append((board, parse_report({"hours": {hour: rep.get("notices")}}, now)))
    for board, counts in parsed:
        for (h, nid), (shown, visible) in counts.items():
            add_hour(conn, terminal_id, board, nid, h, shown, visible)
    return {"reports": len(parsed)}


# ---------------------------------------------------------------- coverage

@dataclass
class BoardCoverage:
    slug: str
    name: str
    location: str
    days: list[date]
    covered: list[date] = field(default_factory=list)
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)   # China time, [from, to)
    first_shown: datetime | None = None
    last_shown: datetime | None = None

    @property
    def short(self) -> int:
        return len(self.days) - len(self.covered)


@dataclass
class NoticeCoverage:
    notice: dict
    days: list[date]
    boards: list[BoardCoverage]
    complete: bool                   # the period is over (else: so far)
    reporting: bool = True           # some board of the notice reports at all (proof of display set up)

    @property
    def fulfilled(self) -> bool:
        return any(b.short == 0 for b in self.boards) and bool(self.days)

    @property
    def extension_days(self) -> int:
        return min((b.short for b in self.boards), default=len(self.days))


def _expected_hours(windows: list[dict], day: date) -> list[int]:
    """China-time hours of ``day`` in which the board is meant to show notices."""
    return [h for h in range(24)
            if any(in_windows(windows, time(h, m)) for m in (0, 15, 30, 45))]


def _boards_letting_through(conn: sqlite3.Connection, notice: dict, boards) -> list[sqlite3.Row]:
    """Of published ``boards``, those of the notice's village (or publisher) whose filters let it through."""
    codes = {notice["subject_code"] or notice["jurisdiction_code"], notice["jurisdiction_code"]}
    publisher = jurisdictions.get(conn, notice["jurisdiction_code"])
    out = []
    for b in boards:
        if b["jurisdiction_code"] not in codes:
            continue
        levels, domains = json.loads(b["levels"]), json.loads(b["domains"])
        if levels and publisher is not None and publisher["level"] not in levels:
            continue
        if domains and notice["domain_id"] not in domains:
            continue
        out.append(b)
    return out


def _published_boards(conn: sqlite3.Connection, codes) -> list[sqlite3.Row]:
    codes = sorted(set(codes))
    return conn.execute(f"SELECT * FROM board WHERE status = 'published' AND jurisdiction_code IN "
                        f"({','.join('?' for _ in codes) or 'NULL'}) ORDER BY sort, id", codes).fetchall()


def boards_for(conn: sqlite3.Connection, notice: dict) -> list[sqlite3.Row]:
    """The published boards of the notice's village (or publisher) whose filters let it through."""
    codes = {notice["subject_code"] or notice["jurisdiction_code"], notice["jurisdiction_code"]}
    return _boards_letting_through(conn, notice, _published_boards(conn, codes))


def coverage(conn: sqlite3.Connection, notice_id: int, now: datetime) -> NoticeCoverage | None:
    """On-screen coverage of a notice's 公示期 on its boards, up to ``now``."""
    row = conn.execute("SELECT * FROM notice WHERE id = ?", (notice_id,)).fetchone()
    if row is None or not row["period_start"] or not row["period_end"]:
        return None
    return coverages(conn, [row], now)[0]


def coverages(conn: sqlite3.Connection, notices, now: datetime) -> list[NoticeCoverage]:
    """``coverage`` of several notices, each with a 公示期, in three statements whatever their number
    (a page of the 公示留痕 list)."""
    notices = [dict(n) for n in notices]
    if not notices:
        return []
    codes = {c for n in notices for c in (n["subject_code"] or n["jurisdiction_code"], n["jurisdiction_code"])}
    boards = _published_boards(conn, codes)
    reports: dict[tuple[int, str], list[sqlite3.Row]] = {}
    ids = [n["id"] for n in notices]
    for r in conn.execute(f"SELECT notice_id, board_slug, day, hours FROM display_report "
                          f"WHERE notice_id IN ({','.join('?' for _ in ids)})", ids):
        reports.setdefault((r["notice_id"], r["board_slug"]), []).append(r)
    slugs = sorted({b["slug"] for b in boards})
    reporting_boards = {r[0] for r in conn.execute(
        f"SELECT slug FROM board b WHERE slug IN ({','.join('?' for _ in slugs) or 'NULL'}) AND EXISTS "
        f"(SELECT 1 FROM display_report d WHERE d.board_slug = b.slug AND d.hours > 0)", slugs)}
    return [_coverage_of(n, _boards_letting_through(conn, n, boards), reports, reporting_boards, now)
            for n in notices]


def _coverage_of(n: dict, boards, reports, reporting_boards: set[str], now: datetime) -> NoticeCoverage:
    start, end = date.fromisoformat(n["period_start"]), date.fromisoformat(n["period_end"])
    today = now.astimezone(CHINA).date()
    last = min(end, today - timedelta(days=1))        # only whole days are judged
    days = [start + timedelta(days=i) for i in range((last - start).days + 1)] if last >= start else []
    out = []
    lo = hour_key(datetime.combine(start, time(0), CHINA))
    hi = hour_key(datetime.combine(end + timedelta(days=1), time(0), CHINA))
    for b in boards:
        shown = {}
        for r in reports.get((n["id"], b["slug"]), ()):
            if not lo[:10] <= r["day"] <= hi[:10]:
                continue
            for h in range(24):
                if r["hours"] >> h & 1:
                    local = _hour_start(f"{r['day']}T{h:02d}").astimezone(CHINA)
                    shown[(local.date(), local.hour)] = True
        cov = BoardCoverage(b["slug"], b["name"], b["location"], days)
        windows = json.loads(b["windows"])
        if shown:
            keys = sorted(shown)
            cov.first_shown = datetime.combine(keys[0][0], time(keys[0][1]), CHINA)
            cov.last_shown = datetime.combine(keys[-1][0], time(keys[-1][1]), CHINA) + timedelta(hours=1)
        for day in days:
            missing = [h for h in _expected_hours(windows, day) if (day, h) not in shown]
            if not missing:
                cov.covered.append(day)
            run = None
            for h in missing:
                if run and run[1] == h:
                    run[1] = h + 1
                else:
                    if run:
                        cov.gaps.append((datetime.combine(day, time(run[0]), CHINA),
                                         datetime.combine(day, time(0), CHINA) + timedelta(hours=run[1])))
                    run = [h, h + 1]
            if run:
                cov.gaps.append((datetime.combine(day, time(run[0]), CHINA),
                                 datetime.combine(day, time(0), CHINA) + timedelta(hours=run[1])))
        out.append(cov)
    reporting = any(b.slug in reporting_boards for b in out)
    return NoticeCoverage(n, days, out, complete=end < today, reporting=reporting)


PERIOD_NOTICES = ("SELECT n.*, j.name AS place FROM notice n "
                  "JOIN jurisdiction j ON j.code = coalesce(n.subject_code, n.jurisdiction_code)")


def period_filter(codes: list[str] | None, since: date, until: date) -> tuple[list[str], list]:
    """WHERE terms (and parameters) of published notices whose 公示期 overlaps [since, until],
    within these jurisdictions (None: all of them); for ``PERIOD_NOTICES``."""
    where = ["n.status IN ('published', 'withdrawn')", "n.published_at IS NOT NULL",
             "n.period_start IS NOT NULL", "n.period_end IS NOT NULL", "n.period_end >= ?",
             "n.period_start <= ?"]
    if codes is None:
        return where, [since.isoformat(), until.isoformat()]
    marks = ",".join("?" for _ in codes) or "NULL"
    return ([*where, f"coalesce(n.subject_code, n.jurisdiction_code) IN ({marks})"],
            [since.isoformat(), until.isoformat(), *codes])


def notices_with_period(conn: sqlite3.Connection, codes: list[str], since: date, until: date) -> list[sqlite3.Row]:
    """Published notices whose 公示期 overlaps [since, until], within these jurisdictions."""
    where, params = period_filter(codes, since, until)
    return conn.execute(f"{PERIOD_NOTICES} WHERE {' AND '.join(where)} ORDER BY n.period_end DESC, n.id DESC",
                        params).fetchall()


def last_confirmed(conn: sqlite3.Connection) -> dict[str, datetime]:
    """Each board's last hour with something confirmed on screen (for the fleet page)."""
    out = {}
    for r in conn.execute("SELECT board_slug, day, max(hours) AS hours FROM display_report d "
                          "WHERE hours > 0 AND day = (SELECT max(day) FROM display_report e "
                          "WHERE e.board_slug = d.board_slug AND e.hours > 0) GROUP BY board_slug, day"):
        mask = 0
        for m in conn.execute("SELECT hours FROM display_report WHERE board_slug = ? AND day = ?",
                              (r["board_slug"], r["day"])):
            mask |= m["hours"]
        out[r["board_slug"]] = _hour_start(f"{r['day']}T{mask.bit_length() - 1:02d}") + timedelta(hours=1)
    return out
