"""A county service hall's noticeboard over the whole generated county.

Before boards were capped a county-hall board rendered every live notice (7,348) as a
slide on every poll: a 25 MB deck and 9 s of CPU per poll (docs/benchmarks.md). It now
rotates at most ``display.schedule.MAX_NOTICES`` notices and closes with a "more" slide.
Measured: the first load, a quiet poll (204, what a board asks every 30 s) against the
static file baseline, and the server's CPU per quiet poll.
"""
from __future__ import annotations

import http.client
import re
import time

from content import db
from display import schedule
from tests.bench.conftest import (Board, StaticServer, cpu_seconds, percentile, record, start_server,
                                  timed_gets)

POLLS = 200
SLUG = "county-hall"


def _add_county_board(data_dir) -> str:
    conn = db.open_database(data_dir / "kiosk.sqlite3")     # the search triggers need its functions
    try:
        county = conn.execute("SELECT code FROM jurisdiction WHERE level = 'county'").fetchone()[0]
        with conn:
            conn.execute("DELETE FROM board WHERE slug = ?", (SLUG,))
            conn.execute("INSERT INTO board(slug, name, jurisdiction_code, levels, slide_seconds, "
                         "poll_seconds, sort) VALUES (?, '县政务服务中心公示屏', ?, '[]', 15, 30, 99)",
                         (SLUG, county))
        # A county hall's board shows what the county itself publishes (content.boards): the
        # generated county publishes few notices in their 公示期, so a hall as busy as the
        # benchmark means has 3 × MAX_NOTICES more of its own (other notices, republished).
        live_sql = ("status = 'published' AND date('now', 'localtime') BETWEEN coalesce(period_start, '0000') "
                    "AND coalesce(period_end, '9999') AND published_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')")
        with conn:
            conn.execute(f"UPDATE notice SET jurisdiction_code = ?1, subject_code = ?1 WHERE id IN "
                         f"(SELECT id FROM notice WHERE {live_sql} AND matter_id IS NULL AND jurisdiction_code <> ?1 "
                         f"ORDER BY id LIMIT ?2)", (county, 3 * schedule.MAX_NOTICES))
        live = conn.execute(f"SELECT count(*) FROM notice WHERE {live_sql} AND jurisdiction_code = ?",
                            (county,)).fetchone()[0]
        return live
    finally:
        conn.close()




def test_county_hall_board(county, tmp_path):
    live = _add_county_board(county)
    server = start_server(county, "threads = 8\n")
    static_dir = tmp_path / "static"
    static_dir.mkdir()
    try:
        board = Board(server.port, SLUG)
        errors: list[str] = []
        t0 = time.perf_counter()
        board.start(errors)
        first = time.perf_counter() - t0
        assert not errors, errors
        status, deck = board._get(board.poll_url.split("?")[0], {"HX-Request": "true"})
        assert status == 200
        slides = len(re.findall(r'class="slide[ "]', deck))
        # At most MAX_NOTICES notices (a long table spreads over a few slides) and the closing
        # slide that counts the others.
        assert live > schedule.MAX_NOTICES and 0 < slides < live and 'data-key="more"' in deck, slides
        # A quiet poll: 204 with no body. The baseline is the smallest static answer.
        (static_dir / "empty.txt").write_bytes(b"")
        static = StaticServer(static_dir)
        try:
            headers = {"HX-Request": "true", "HX-Trigger": "deck", "HX-Target": "deck"}
            cpu0 = cpu_seconds(server.proc.pid)
            polls = _quiet_polls(server.port, board.poll_url, headers, POLLS)
            cpu = (cpu_seconds(server.proc.pid) - cpu0) / POLLS
            base, _ = timed_gets(static.port, "/empty.txt", POLLS)
        finally:
            static.stop()
        p95, b95 = percentile(polls, 95) * 1000, percentile(base, 95) * 1000
        print(f"\ncounty-hall board: {live} live notices, {slides} slides, deck {len(deck):,} bytes, "
              f"first load {first * 1000:.0f} ms, quiet poll p95 {p95:.1f} ms "
              f"(static {b95:.2f} ms), CPU {cpu * 1000:.1f} ms per poll")
        record("display", f"county-hall board quiet poll p95 ({slides} slides of {live} live "
               f"notices, deck {len(deck) // 1024} KB, first load {first * 1000:.0f} ms)",
               p95, "ms", b95, "static file p95")
        record("display", "county-hall board CPU per quiet poll", cpu * 1000, "ms",
               b95, "static file p95 (wall)")
    finally:
        server.stop()


def _quiet_polls(port: int, url: str, headers: dict, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for i in range(n + 5):
        t0 = time.perf_counter()
        conn.request("GET", url, headers=headers)
        r = conn.getresponse()
        r.read()
        if r.status != 204:
            raise AssertionError(f"quiet poll -> {r.status}")
        if i >= 5:
            times.append(time.perf_counter() - t0)
    conn.close()
    return times
