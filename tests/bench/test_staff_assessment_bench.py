"""The assessment dashboard (公开评估) of the bench county through the real `kiosk serve`.

A county administrator signs in, opens the county's assessment, drills to a township and
a village, and exports: every table of the county on its own, and the whole workbook.
Server time is the time of each request on the loopback interface (the server is the only
thing working); RSS growth is the serve process's peak (VmHWM) over its size before.
Baseline, measured in the same run: the staff sign-in page (a small template, no figures).

Each export asks for a period of its own, ending on a day of its own, so no export reuses
figures an earlier request left in the server's cache (figures of how things stood are
shared by periods ending the same day): every export row is a cold computation of what it
needs.
The alignment verdicts (kept in the database, migration 0027) are computed once before
the server starts, as the notifier's daily scan does on a running hub; that once-only cost
is its own row.

The serving process computes the county's figures for the default period (1 January to
today) when it starts and after every notification round (content.assessment.keep_current),
so the county admin's first open is measured once the process is idle; then a period ending
today from another start day (sharing what stood today), and the cold computation of every
figure for a period ending another day. A second test corrects a village's list
on a running hub (notification round every 5 s here, a minute by default) and opens the
county's assessment once the round has run.

Goals (issue 19): county ≤ 1 s and ≤ +100 MB; township and village ≤ 200 ms; each export
≤ 2 s; all.xlsx ≤ 5 s. The county's 1 s holds for every open that finds the day's figures
kept (the default period, any period ending today, a period opened before, after a change);
a period ending on another day computes every figure from nothing, as a cold export does,
and is held to the export's 2 s.
"""
from __future__ import annotations

import http.cookiejar
import json
import re
import statistics
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta

import pytest

from content import alignment_cache, assessment as a, db
from tests.bench.conftest import children_cpu_seconds, cpu_seconds, record, start_server
from tests.bench.history import BENCH_ADMIN, BENCH_PASSWORD

COUNTY_GOAL, PLACE_GOAL, EXPORT_GOAL, ALL_GOAL, RSS_GOAL_MB = 1.0, 0.2, 2.0, 5.0, 100
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Admin:
    """A signed-in staff browser: one cookie jar over plain HTTP requests."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[float, bytes, dict]:
        t0 = time.perf_counter()
        with self.opener.open(self.base + path, timeout=600) as r:
            body = r.read()
            assert r.status == 200, (path, r.status)
            headers = dict(r.headers)
        return time.perf_counter() - t0, body, headers

    def login(self) -> None:
        _, page, _ = self.get("/admin/login")
        token = _TOKEN.search(page.decode()).group(1)
        body = urllib.parse.urlencode({"username": BENCH_ADMIN, "password": BENCH_PASSWORD,
                                       "csrf_token": token}).encode()
        self.opener.open(self.base + "/admin/login", body, timeout=60).read()
        _, home, _ = self.get("/admin/")       # not the assessment: its first open is measured
        assert "/admin/logout" in home.decode() or "退出" in home.decode(), "not signed in"


def _status(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":")) * 1024


def _peak_growth(pid: int, fn):
    """(result of fn, MB the process's peak RSS rose above its size before)."""
    before = _status(pid, "VmRSS")
    with open(f"/proc/{pid}/clear_refs", "w") as f:     # restart the peak (VmHWM) count
        f.write("5")
    out = fn()
    return out, (_status(pid, "VmHWM") - before) / 1048576


@pytest.fixture(scope="module")
def places(county):
    conn = db.open_database(county / "kiosk.sqlite3")
    today = date.today()
    county_code = conn.execute("SELECT code FROM jurisdiction WHERE parent_code IS NULL").fetchone()[0]
    town = conn.execute("SELECT code FROM jurisdiction WHERE level = 'township' AND parent_code = ? "
                        "ORDER BY sort, code LIMIT 1", (county_code,)).fetchone()[0]
    village = conn.execute("SELECT code FROM jurisdiction WHERE parent_code = ? ORDER BY sort, code LIMIT 1",
                           (town,)).fetchone()[0]
    # From nothing: an earlier bench's serve process may have stored them in this session's copy.
    conn.execute("DELETE FROM alignment_verdict")
    t0 = time.perf_counter()
    verdicts = alignment_cache.verdicts(conn, None, today)
    once = time.perf_counter() - t0
    conn.close()
    return {"county": county_code, "township": town, "village": village, "verdicts": len(verdicts),
            "once": once}


@pytest.fixture(scope="module")
def server(county, places):
    # No notification round during the cold measurements (it keeps the county's figures current).
    server = start_server(county, "threads = 4\nnotify_round_seconds = 3600\n")
    yield server
    server.stop()


def _cpu_seconds(pid: int) -> float:
    """The serve process's CPU and its children's: the notification round runs in a child,
    and the serve process computes the figures only once it has ended."""
    return cpu_seconds(pid) + children_cpu_seconds(pid)


def _settled(pid: int, quiet: float = 0.3, window: float = 5.0, limit: float = 300.0) -> float:
    """Wait until the process has used under ``quiet`` s of CPU in ``window`` s; seconds waited."""
    start = time.monotonic()
    last = _cpu_seconds(pid)
    while time.monotonic() - start < limit:
        time.sleep(window)
        now = _cpu_seconds(pid)
        if now - last < quiet:
            break
        last = now
    return time.monotonic() - start


def _median_baseline(admin: Admin, n: int = 5) -> float:
    return statistics.median(admin.get("/admin/login")[0] for _ in range(n))


def test_staff_assessment(server, places):
    admin = Admin(server.port)
    admin.login()
    pid = server.proc.pid
    record("staff assessment", f"alignment verdicts computed once after bulk load ({places['verdicts']:,} "
           f"matter × village pairs)", places["once"], "s", places["once"], "itself",
           note="kept in the database; the notifier's daily scan keeps them current")
    # The serving process computes the county's figures for the default period when it starts
    # (kiosk/notifier.py): measured once it is idle.
    time.sleep(2)
    _settled(pid)
    base = _median_baseline(admin)
    today = date.today()
    start = date(today.year, 1, 1)
    rss_before = _status(pid, "VmRSS")

    seconds, body, _ = admin.get(f"/admin/assessment/?code={places['county']}")
    assert "下级区划对比" in body.decode()
    record("staff assessment", "county dashboard, first open (default period, kept current by the "
           "serving process)", seconds, "s", base, "sign-in page", max_value=COUNTY_GOAL,
           note=f"{len(body) // 1024} KB")

    # Another start day, ending today: what stood on that day (coverage, consistency, review,
    # item calendars) and timeliness since 1 January are shared with the default period;
    # the counts of the period (usage, applications, satisfaction) are computed.
    other = f"from={(start + timedelta(days=60)).isoformat()}&to={today.isoformat()}"
    seconds, body, _ = admin.get(f"/admin/assessment/?code={places['county']}&{other}")
    assert "下级区划对比" in body.decode()
    record("staff assessment", "county dashboard, a period ending today not opened before (what stood "
           "today shared)", seconds, "s", base, "sign-in page", max_value=COUNTY_GOAL,
           note=f"{len(body) // 1024} KB")
    # A period ending another day: nothing kept, every figure computed (cold); then again.
    past = f"from={(start + timedelta(days=30)).isoformat()}&to={(today - timedelta(days=3)).isoformat()}"
    (seconds, body, _), grown = _peak_growth(
        pid, lambda: admin.get(f"/admin/assessment/?code={places['county']}&{past}"))
    assert "下级区划对比" in body.decode()
    # Nothing of it is kept: held to the goal of an export computed from nothing.
    record("staff assessment", "county dashboard, a period ending another day (every figure computed "
           "from nothing, as a cold export)", seconds, "s", base, "sign-in page", max_value=EXPORT_GOAL,
           note=f"{len(body) // 1024} KB")
    record("staff assessment", "county dashboard, serve RSS growth (every figure computed)", grown, "MB",
           RSS_GOAL_MB, "goal", max_value=RSS_GOAL_MB)
    again = admin.get(f"/admin/assessment/?code={places['county']}&{past}")[0]
    record("staff assessment", "county dashboard of that period opened again", again, "s", base, "sign-in page",
           max_value=COUNTY_GOAL)

    # Drill down: the township, then the village (first opens).
    for level in ("township", "village"):
        seconds, body, _ = admin.get(f"/admin/assessment/?code={places[level]}")
        assert "公开覆盖" in body.decode()
        record("staff assessment", f"{level} dashboard, first open", seconds, "s", base, "sign-in page",
               max_value=PLACE_GOAL, note=f"{len(body) // 1024} KB")
    seconds, data, headers = admin.get(f"/admin/assessment/all.xlsx?code={places['village']}")
    assert data[:2] == b"PK"
    record("staff assessment", "village all.xlsx after the dashboard", seconds, "s", base, "sign-in page",
           max_value=EXPORT_GOAL)

    # Every export of the county, each for a period of its own (nothing cached from before).
    for i, key in enumerate(a.TABLE_KEYS):
        period = f"from={(start + timedelta(days=i + 1)).isoformat()}&to={(today - timedelta(days=i + 5)).isoformat()}"
        seconds, data, _ = admin.get(f"/admin/assessment/{key}.xlsx?code={places['county']}&{period}")
        assert data[:2] == b"PK", key
        record("staff assessment", f"county export {key}.xlsx", seconds, "s", base, "sign-in page",
               max_value=EXPORT_GOAL, note=f"{len(data) // 1024} KB")
    period = f"from={(start + timedelta(days=40)).isoformat()}&to={(today - timedelta(days=40)).isoformat()}"
    (seconds, data, _), grown = _peak_growth(
        pid, lambda: admin.get(f"/admin/assessment/all.xlsx?code={places['county']}&{period}"))
    assert data[:2] == b"PK"
    record("staff assessment", "county all.xlsx", seconds, "s", base, "sign-in page", max_value=ALL_GOAL,
           note=f"{len(data) // 1024} KB, +{grown:.0f} MB peak")
    # 25 county reports of different periods later, the kept figures stay bounded.
    kept = (_status(pid, "VmRSS") - rss_before) / 1048576
    record("staff assessment", "serve RSS kept after the county, township, village and 24 county exports",
           kept, "MB", RSS_GOAL_MB, "goal", max_value=RSS_GOAL_MB * 2,
           note="figures kept are bounded by rows (content.assessment.CACHE_WEIGHT)")


def test_staff_assessment_after_a_change_on_a_running_hub(county, places, server):
    """A serving process whose notification round runs (every 5 s here, a minute by default):
    a matter's list is corrected in a village, and once the round has run, the county's
    dashboard shows the change with its figures already computed."""
    server.stop()                     # the first test's server: not two on one database
    hub = start_server(county, "threads = 4\nnotify_round_seconds = 5\n")
    try:
        admin = Admin(hub.port)
        admin.login()
        time.sleep(2)
        _settled(hub.proc.pid)
        conn = db.connect(county / "kiosk.sqlite3")
        row = conn.execute("SELECT id, table_rows FROM notice WHERE matter_id IS NOT NULL AND status = 'published' "
                           "AND subject_code = ? AND jurisdiction_code = subject_code ORDER BY id LIMIT 1",
                           (places["village"],)).fetchone()
        rows = json.loads(row["table_rows"])
        rows[0][-1] = str(float(rows[0][-1]) + 1)          # one amount corrected in the village's list
        conn.execute("UPDATE notice SET table_rows = ? WHERE id = ?", (json.dumps(rows, ensure_ascii=False), row["id"]))
        conn.close()
        time.sleep(6)
        waited = _settled(hub.proc.pid)
        base = _median_baseline(admin)
        seconds, body, _ = admin.get(f"/admin/assessment/?code={places['county']}")
        assert "下级区划对比" in body.decode()
        record("staff assessment", f"county dashboard after a change, once the notification round has run "
               f"(settled after {waited:.0f} s)", seconds, "s", base, "sign-in page", max_value=COUNTY_GOAL)
        seconds, data, _ = admin.get(f"/admin/assessment/all.xlsx?code={places['county']}")
        assert data[:2] == b"PK"
        record("staff assessment", "county all.xlsx after that change", seconds, "s", base, "sign-in page",
               max_value=ALL_GOAL)
    finally:
        hub.stop()
