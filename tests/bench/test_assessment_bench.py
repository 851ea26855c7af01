"""The assessment dashboard at county scale: 20 townships × 15 villages, 10 matters, ~7,000 notices.

Reports seconds per figure for the county, a township and a village, and the
ratio of the whole county report to one grouped pass over the notices (the
cheapest full read of the same data).  Run with `make bench`; not part of `make test`.
"""
from __future__ import annotations

import json
import random
import time
from datetime import date, timedelta

import pytest

from content import assessment as a
from content import db
from tests.bench.conftest import record

TODAY = date(2026, 11, 26)
COUNTY = "340100000000"
FIGURES = ("coverage", "timeliness", "consistency", "review_overdue", "applications", "satisfaction", "usage")


@pytest.fixture(scope="module")
def county():
    conn = db.connect(":memory:")
    db.migrate(conn)
    rng = random.Random(1)
    conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code, kind, sort) VALUES (?, '试验县', 'county', NULL, '县', 0)", (COUNTY,))
    towns, villages = [], []
    for t in range(20):
        tc = f"3401001{t:02d}000"
        towns.append(tc)
        conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code, kind, sort) VALUES (?, ?, 'township', ?, '镇', ?)", (tc, f"镇{t}", COUNTY, t))
        for v in range(15):
            vc = f"3401001{t:02d}{200 + v:03d}"
            villages.append((tc, vc))
            conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code, kind, sort) VALUES (?, ?, 'village', ?, '村', ?)", (vc, f"村{t}-{v}", tc, v))
    for d in range(26):
        conn.execute("INSERT INTO domain(id, name, sort) VALUES (?, ?, ?)", (d + 1, f"领域{d}", d))

    def day(n):
        return (TODAY - timedelta(days=n)).isoformat()
    items = []
    for code in [COUNTY] * 8 + towns:
        for i in range(25 if code == COUNTY else 40):
            items.append((code, conn.execute(
                "INSERT INTO catalogue_item(jurisdiction_code, domain_id, level1, time_limit_text, time_limit, "
                "status) VALUES (?, ?, ?, '20个工作日', '{\"count\": 20, \"unit\": \"workday\"}', 'published')",
                (code, rng.randint(1, 26), f"事项{i}")).lastrowid))
    for m in range(10):
        conn.execute("INSERT INTO matter(id, key, title, domain_id, levels, key_columns) VALUES "
                     "(?, ?, ?, 1, '[\"township\", \"village\"]', '[\"姓名\"]')", (m + 1, f"m{m}", f"名单{m}"))
    rows = [[f"张*{k}", str(100 + k)] for k in range(30)]
    table = "INSERT INTO notice(jurisdiction_code, subject_code, village_item_id, item_id, matter_id, title, " \
            "formed_on, published_at, status, table_columns, table_rows) " \
            "VALUES (?, ?, ?, ?, ?, 't', ?, ?, 'published', '[\"姓名\", \"金额\"]', ?)"
    for tc, vc in villages:
        for i in range(20):
            matter = (i % 10) + 1 if i < 10 else None
            vi = conn.execute("INSERT INTO village_item(jurisdiction_code, category, title, status, matter_id) "
                              "VALUES (?, '村级财务', ?, 'published', ?)", (vc, f"村务{i}", matter)).lastrowid
            if rng.random() < 0.6:
                f = rng.randint(5, 300)
                conn.execute(table, (vc, vc, vi, None, matter, day(f), day(f - rng.randint(0, 8)) + "T02:00:00Z",
                                     json.dumps(rows if rng.random() < .8 else rows[:-1])))
        for m in range(10):
            f = rng.randint(5, 300)
            conn.execute(table, (tc, vc, None, None, m + 1, day(f), day(f - 1) + "T02:00:00Z", json.dumps(rows)))
    for code, it in items:
        if rng.random() < 0.5:
            f = rng.randint(5, 300)
            conn.execute(table, (code, code, None, it, None, day(f), day(f - rng.randint(0, 40)) + "T02:00:00Z", "[]"))
    yield conn, towns, villages
    conn.close()


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_assessment_at_county_scale(county):
    conn, towns, villages = county
    period = a.Period(date(TODAY.year, 1, 1), TODAY)
    baseline = _seconds(lambda: conn.execute(
        "SELECT item_id, village_item_id, matter_id, count(*), max(published_at) FROM notice "
        "GROUP BY item_id, village_item_id, matter_id").fetchall())
    print(f"\nnotices {conn.execute('SELECT count(*) FROM notice').fetchone()[0]}, "
          f"baseline grouped pass {baseline * 1000:.1f} ms")
    for code in (COUNTY, towns[0], villages[0][1]):
        scope = a.scope_of(conn, code)
        whole = _seconds(lambda: a.tables(a.build(conn, scope, period, TODAY)))
        parts = {f: round(_seconds(lambda f=f: getattr(a, f)(conn, scope, period, TODAY)), 3) for f in FIGURES}
        print(f"{scope.level:8s} {len(scope.codes):3d} codes: report {whole:.2f} s "
              f"({whole / baseline:.0f}× baseline) {parts}")
        record("assessment", f"{scope.level} report ({len(scope.codes)} codes)", whole, "s", baseline,
               "one grouped pass over the notices")
        # Guards against per-item rescans of the notices (coverage once took 69 s here).
        assert parts["coverage"] < 2 and parts["timeliness"] < 5
