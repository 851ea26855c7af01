"""The kept figures (alignment verdicts, usage roll-ups, the report cache) against a
straightforward recomputation, on a small random county changed at random: notices
added, edited, approved, withdrawn, replaced as a sync apply writes them, matters
changed, usage counted and re-attributed."""
from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from datetime import date, timedelta

import pytest

from content import alignment, alignment_cache, matters, notify_events
from content import assessment as a
from content import db

TODAY = date(2026, 6, 20)
COUNTY = "340100000000"
TOWNS = ["340100100000", "340100200000"]
VILLAGES = {t: [t[:9] + f"{200 + i:03d}" for i in range(1, 4)] for t in TOWNS}
ALL_VILLAGES = [v for vs in VILLAGES.values() for v in vs]
PEOPLE = ["张三", "李四", "王五", "赵六", "钱七"]
TERMINALS = ["a" * 64, "b" * 64, "c" * 64]


def _rows(rng: random.Random) -> list[list[str]]:
    rows = [[p, f"{100 * (i + 1)}.00"] for i, p in enumerate(PEOPLE[:rng.randint(2, 5)])]
    pick = rng.random()
    if pick < 0.2:
        rows[0][1] = f"{float(rows[0][1]) + 10:.2f}"            # a copied amount gone wrong
    elif pick < 0.35:
        rows = [[p, v.replace(".00", "")] for p, v in rows]       # same figures, other spelling
    elif pick < 0.45:
        rows = rows[:-1]                                          # a row missing
    return rows


@pytest.fixture
def county(tmp_path):
    conn = db.connect(tmp_path / "kiosk.sqlite3")      # a file: the report cache is shared by path
    db.migrate(conn)
    conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code, sort) VALUES (?, '试验县', 'county', NULL, 0)",
                 (COUNTY,))
    for i, t in enumerate(TOWNS):
        conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code, sort) VALUES (?, ?, 'township', ?, ?)",
                     (t, f"镇{i}", COUNTY, i))
        for j, v in enumerate(VILLAGES[t]):
            conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code, sort) VALUES (?, ?, 'village', ?, ?)",
                         (v, f"村{i}{j}", t, j))
    conn.execute("INSERT INTO domain(id, name, sort) VALUES (1, '社会救助', 1), (2, '涉农补贴', 2)")
    for m in range(1, 4):
        conn.execute("INSERT INTO matter(id, key, title, domain_id, levels, key_columns, time_limit, status) "
                     "VALUES (?, ?, ?, ?, ?, '[\"姓名\"]', ?, 'published')",
                     (m, f"m{m}", f"名单{m}", 1 + m % 2, json.dumps(["township", "village"]),
                      json.dumps({"count": 10, "unit": "day"}) if m == 2 else None))
    for code in [COUNTY, *TOWNS]:
        conn.execute("INSERT INTO catalogue_item(jurisdiction_code, domain_id, level1, status) "
                     "VALUES (?, 1, '事项', 'published')", (code,))
    for v in ALL_VILLAGES:
        conn.execute("INSERT INTO village_item(jurisdiction_code, category, title, status, matter_id) "
                     "VALUES (?, '村级财务', '财务', 'published', 1)", (v,))
    for i, tid in enumerate(TERMINALS):
        conn.execute("INSERT INTO sync_terminal(id, public_key, scope, label, active) VALUES (?, '', ?, ?, 1)",
                     (tid, [COUNTY, TOWNS[0], ALL_VILLAGES[3]][i], f"查询机{i}"))
    yield conn
    conn.close()


def _notice(conn, rng, status="published"):
    m = rng.randint(1, 3)
    village = rng.choice(ALL_VILLAGES)
    town = village[:9] + "000"
    publisher = rng.choice([village, town, town, COUNTY])
    subject = village if publisher != COUNTY or rng.random() < 0.5 else rng.choice([COUNTY, town])
    formed = TODAY - timedelta(days=rng.randint(0, 60))
    return conn.execute(
        "INSERT INTO notice(jurisdiction_code, subject_code, matter_id, domain_id, title, formed_on, published_at,"
        " status, fields, table_columns, table_rows) VALUES (?, ?, ?, ?, '名单', ?, ?, ?, ?, ?, ?)",
        (publisher, subject, m, rng.choice([1, 2, None]), formed.isoformat(),
         (formed + timedelta(days=rng.randint(0, 3))).isoformat() + "T02:00:00Z", status,
         json.dumps({"户数": f"{rng.choice([3, 3, 4])}户"}, ensure_ascii=False),
         json.dumps(["姓名", "金额"], ensure_ascii=False), json.dumps(_rows(rng), ensure_ascii=False))).lastrowid


def _usage(conn, rng, n=40):
    kinds = {"notice": [r[0] for r in conn.execute("SELECT id FROM notice")],
             "item": [r[0] for r in conn.execute("SELECT id FROM catalogue_item")],
             "village_item": [r[0] for r in conn.execute("SELECT id FROM village_item")]}
    for _ in range(n):
        kind = rng.choice(list(kinds))
        if not kinds[kind]:
            continue
        day = (TODAY - timedelta(days=rng.randint(0, 200))).isoformat()
        conn.execute("INSERT INTO usage_view(day, terminal, kind, ref_id, views) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT(day, terminal, kind, ref_id) DO UPDATE SET views = max(views, excluded.views)",
                     (day, rng.choice([*TERMINALS, "local"]), kind, rng.choice(kinds[kind]), rng.randint(0, 9)))


# ---------------------------------------------------------------- straightforward recomputations

def _plain_consistency(conn, day):
    """Every pair aligned afresh, as the aligned view does."""
    return [(m["id"], v["code"], r.status, r.summary())
            for m in matters.list_matters(conn)
            for v, r in matters.matter_villages(conn, m, ALL_VILLAGES, day)]


_PLAIN_USAGE = """
    SELECT u.day, u.terminal, u.views,
           coalesce(i.jurisdiction_code, v.jurisdiction_code, n.jurisdiction_code) AS code,
           coalesce((SELECT name FROM domain WHERE id = coalesce(i.domain_id, n.domain_id, ni.domain_id)),
                    CASE WHEN v.category IS NOT NULL THEN '村务·' || v.category END, '其他') AS domain
    FROM usage_view u
    LEFT JOIN catalogue_item i ON u.kind = 'item' AND i.id = u.ref_id
    LEFT JOIN village_item v ON u.kind = 'village_item' AND v.id = u.ref_id
    LEFT JOIN notice n ON u.kind = 'notice' AND n.id = u.ref_id
    LEFT JOIN catalogue_item ni ON ni.id = n.item_id
    WHERE u.day BETWEEN ? AND ?"""


def _plain_usage(conn, scope, period):
    by_code, by_domain, monthly, by_terminal = Counter(), Counter(), Counter(), Counter()
    terminals = {t.id for t in a.terminals_in(conn, scope)}
    for r in conn.execute(_PLAIN_USAGE, (period.start.isoformat(), period.end.isoformat())):
        if r["code"] in scope.codes:
            by_code[r["code"]] += r["views"]
            by_domain[r["domain"]] += r["views"]
            monthly[r["day"][:7]] += r["views"]
        if r["terminal"] in terminals:
            by_terminal[(r["terminal"], r["day"][:7], r["domain"])] += r["views"]
    return by_code, by_domain, monthly, +by_terminal


def _check(conn, rng):
    day = TODAY - timedelta(days=rng.choice([0, 0, 5, 30]))
    kept = [(v.matter["id"], v.village["code"], v.status, v.summary)
            for v in alignment_cache.verdicts(conn, set(ALL_VILLAGES), day)]
    assert kept == _plain_consistency(conn, day)
    for code in (COUNTY, TOWNS[1], ALL_VILLAGES[0]):
        scope = a.scope_of(conn, code)
        # Whole months, short part-months (read by day) and long ones (the month less the
        # days outside the period) at either end.
        period = a.Period(date(2026, 1, 1) + timedelta(days=rng.choice([0, 0, 2, 17, 25, 33, 121, 140, 157])),
                          TODAY - timedelta(days=rng.choice([0, 0, 5, 19, 35])))
        by_code, by_domain, monthly, by_terminal = _plain_usage(conn, scope, period)
        use = a.usage(conn, scope, period, TODAY)
        assert +use.by_jurisdiction == by_code and +use.by_domain == +by_domain and +use.monthly == +monthly
        terms = a.terminal_usage(conn, scope, period, TODAY)
        got = Counter()
        for t in terms.terminals:
            for name, views in t.by_domain.items():
                got[(t.id, name)] += views
        assert +got == _by_terminal_domain(by_terminal)
        assert sum(t.views for t in terms.terminals) == sum(by_terminal.values())
        # The report (cached by data version) shows what a fresh computation shows, also when
        # the default period's report (to today) or one of another period ending the same day
        # left its snapshots and timeliness (a period ending earlier derives its timeliness).
        a.tables(a.build(conn, scope, a.Period(date(TODAY.year, 1, 1), TODAY), TODAY))
        if rng.random() < 0.5:
            a.tables(a.build(conn, scope, a.Period(date(period.end.year, 1, 1), period.end), TODAY))
        report = a.build(conn, scope, period, TODAY)
        assert report.timeliness.records == a.timeliness(conn, scope, period, TODAY).records
        assert report.periodic == a.periodic_disclosures(conn, scope, period, TODAY)
        assert report.coverage == a.coverage(conn, scope, period, TODAY)
        cached = a.tables(report)
        a.clear_cache()
        fresh = a.tables(a.build(conn, scope, period, TODAY))
        assert [(t.key, t.rows) for t in cached] == [(t.key, t.rows) for t in fresh]


def _by_terminal_domain(by_terminal: Counter) -> Counter:
    out = Counter()
    for (terminal, _month, domain), views in by_terminal.items():
        out[(terminal, domain)] += views
    return out


def test_kept_figures_equal_a_fresh_computation_through_random_changes(county):
    conn, rng = county, random.Random(19)
    for _ in range(40):
        _notice(conn, rng)
    _usage(conn, rng, 120)
    _check(conn, rng)
    for _ in range(80):
        ids = [r[0] for r in conn.execute("SELECT id FROM notice")]
        change = rng.choice(["add", "draft", "edit", "approve", "withdraw", "sync", "matter", "usage",
                             "domain", "retention"])
        nid = rng.choice(ids)
        if change == "add":
            _notice(conn, rng)
        elif change == "draft":
            _notice(conn, rng, status="draft")
        elif change == "edit":          # a correction published in place
            conn.execute("UPDATE notice SET table_rows = ?, fields = ? WHERE id = ?",
                         (json.dumps(_rows(rng), ensure_ascii=False),
                          json.dumps({"户数": f"{rng.randint(2, 5)}户"}, ensure_ascii=False), nid))
        elif change == "approve":
            conn.execute("UPDATE notice SET status = 'published' WHERE id = "
                         "(SELECT id FROM notice WHERE status = 'draft' ORDER BY random() LIMIT 1)")
        elif change == "withdraw":
            conn.execute("UPDATE notice SET status = 'withdrawn' WHERE id = ?", (nid,))
        elif change == "sync":          # a terminal's apply: the row replaced whole
            row = dict(conn.execute("SELECT * FROM notice WHERE id = ?", (nid,)).fetchone())
            row["table_rows"] = json.dumps(_rows(rng), ensure_ascii=False)
            row["formed_on"] = (TODAY - timedelta(days=rng.randint(0, 60))).isoformat()
            cols = ", ".join(row)
            conn.execute(f"INSERT OR REPLACE INTO notice({cols}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))
        elif change == "matter":        # key columns or levels changed
            conn.execute("UPDATE matter SET key_columns = ?, levels = ? WHERE id = ?",
                         (rng.choice(['["姓名"]', '["金额"]', '[]']),
                          rng.choice(['["township", "village"]', '["county", "township", "village"]']),
                          rng.randint(1, 3)))
        elif change == "usage":
            _usage(conn, rng, 20)
        elif change == "domain":        # a notice recategorised: its views move domain
            conn.execute("UPDATE notice SET domain_id = ? WHERE id = ?", (rng.choice([1, 2, None]), nid))
        elif change == "retention":     # the oldest day's counts removed
            conn.execute("DELETE FROM usage_view WHERE day = (SELECT min(day) FROM usage_view)")
        _check(conn, rng)
    assert conn.execute("SELECT count(*) FROM alignment_verdict").fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM notice_digest").fetchone()[0] > 0


def test_an_edit_drops_the_kept_verdict_and_digest(county):
    conn = county
    rows = [["张三", "100.00"], ["李四", "200.00"]]
    town, village = TOWNS[0], VILLAGES[TOWNS[0]][0]
    ids = []
    for code in (town, village):
        ids.append(conn.execute(
            "INSERT INTO notice(jurisdiction_code, subject_code, matter_id, title, formed_on, published_at, status,"
            " table_columns, table_rows) VALUES (?, ?, 1, 't', '2026-06-01', '2026-06-01T02:00:00Z', 'published',"
            " '[\"姓名\", \"金额\"]', ?)", (code, village, json.dumps(rows, ensure_ascii=False))).lastrowid)

    def verdict():
        return next(v for v in alignment_cache.verdicts(conn, {village}, TODAY) if v.matter["id"] == 1)

    assert verdict().status == alignment.CONSISTENT
    assert conn.execute("SELECT count(*) FROM alignment_verdict WHERE village_code = ?", (village,)).fetchone()[0] == 1
    conn.execute("UPDATE notice SET table_rows = ? WHERE id = ?",
                 (json.dumps([["张三", "110.00"], ["李四", "200.00"]], ensure_ascii=False), ids[1]))
    assert conn.execute("SELECT count(*) FROM alignment_verdict WHERE village_code = ?", (village,)).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM notice_digest WHERE notice_id = ?", (ids[1],)).fetchone()[0] == 0
    assert verdict().status == alignment.INCONSISTENT
    # A sync apply replaces the row whole (INSERT OR REPLACE fires no DELETE trigger).
    row = dict(conn.execute("SELECT * FROM notice WHERE id = ?", (ids[1],)).fetchone())
    row["table_rows"] = json.dumps(rows, ensure_ascii=False)
    conn.execute(f"INSERT OR REPLACE INTO notice({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                 list(row.values()))
    assert verdict().status == alignment.CONSISTENT
    # Staleness comes with the date: the township's older list lags behind the village's newer one.
    conn.execute("UPDATE notice SET formed_on = '2026-06-10', published_at = '2026-06-10T02:00:00Z', "
                 "table_rows = ? WHERE id = ?", (json.dumps([["张三", "120.00"], ["李四", "200.00"]],
                                                            ensure_ascii=False), ids[1]))
    within = next(v for v in alignment_cache.verdicts(conn, {village}, date(2026, 6, 12)) if v.matter["id"] == 1)
    late = next(v for v in alignment_cache.verdicts(conn, {village}, date(2026, 12, 1)) if v.matter["id"] == 1)
    assert (within.status, late.status) == (alignment.INCONSISTENT, alignment.STALE)


def test_views_follow_a_recategorised_notice(county):
    conn = county
    nid = conn.execute("INSERT INTO notice(jurisdiction_code, subject_code, domain_id, title, status) "
                       "VALUES (?, ?, 1, 't', 'published')", (TOWNS[0], TOWNS[0])).lastrowid
    conn.execute("INSERT INTO usage_view(day, terminal, kind, ref_id, views) VALUES ('2026-03-05', ?, 'notice', ?, 7)",
                 (TERMINALS[0], nid))
    scope, period = a.scope_of(conn, COUNTY), a.Period(date(2026, 1, 1), TODAY)
    assert a.usage(conn, scope, period, TODAY).by_domain == Counter({"社会救助": 7})
    conn.execute("UPDATE notice SET domain_id = 2 WHERE id = ?", (nid,))
    assert a.usage(conn, scope, period, TODAY).by_domain == Counter({"涉农补贴": 7})
    assert a.terminal_usage(conn, scope, period, TODAY).by_domain == Counter({"涉农补贴": 7})
    # A day's count raised as a terminal sends a larger total: the roll-up follows.
    conn.execute("UPDATE usage_view SET views = 9 WHERE ref_id = ?", (nid,))
    assert a.usage(conn, scope, period, TODAY).by_domain == Counter({"涉农补贴": 9})


def test_the_notifier_scan_reads_kept_verdicts(county):
    conn, rng = county, random.Random(7)
    for _ in range(30):
        _notice(conn, rng)
    from datetime import datetime, timezone
    now = datetime(2026, 6, 20, 1, tzinfo=timezone.utc)
    raised = notify_events.alignment_changes(conn, TODAY, now)
    inconsistent = [p for p in _plain_consistency(conn, TODAY) if p[2] == alignment.INCONSISTENT]
    assert raised == len(inconsistent) > 0
    kept = conn.execute("SELECT count(*) FROM alignment_verdict").fetchone()[0]
    assert kept == len(_plain_consistency(conn, TODAY))
    assert notify_events.alignment_changes(conn, TODAY, now) == 0     # once per distinct difference


def test_a_bulk_load_with_the_roll_up_paused_ends_with_the_same_figures(county):
    conn, rng = county, random.Random(3)
    for _ in range(10):
        _notice(conn, rng)
    conn.execute("BEGIN")
    from content import assessment_usage
    with assessment_usage.rollup_paused(conn):
        _usage(conn, rng, 80)
        assert conn.execute("SELECT count(*) FROM usage_month").fetchone()[0] == 0     # nothing row by row
    conn.execute("COMMIT")
    assert conn.execute("SELECT value FROM assessment_state WHERE name = 'usage_rollup_paused'").fetchone()[0] == 0
    scope, period = a.scope_of(conn, COUNTY), a.Period(date(2026, 1, 1), TODAY)
    by_code, by_domain, monthly, _ = _plain_usage(conn, scope, period)
    use = a.usage(conn, scope, period, TODAY)
    assert +use.by_jurisdiction == by_code and +use.monthly == +monthly and sum(by_code.values()) > 0


def test_keep_current_computes_only_what_changed_and_the_dashboard_finds_it(county):
    conn, rng = county, random.Random(5)
    for _ in range(20):
        _notice(conn, rng)
    _usage(conn, rng, 30)
    a.clear_cache()
    kept = [f for f, fig in a.FIGURES.items() if fig.reads is not None]
    assert a.keep_current(conn, TODAY) == len(kept)
    assert a.keep_current(conn, TODAY) == 0                       # nothing changed
    _usage(conn, rng, 5)                                          # new counts: only usage figures
    again = a.keep_current(conn, TODAY)
    assert 0 < again < len(kept)
    # The dashboard's report takes the kept figures: nothing is computed for it.
    calls = []
    original = dict(a.FIGURES)
    try:
        for name, fig in original.items():
            a.FIGURES[name] = dataclasses.replace(
                fig, compute=lambda *args, _f=fig.compute, _n=name: calls.append(_n) or _f(*args))
        report = a.build(conn, a.scope_of(conn, COUNTY), a.Period(date(TODAY.year, 1, 1), TODAY), TODAY)
        a.tables(report)
    finally:
        a.FIGURES.clear()
        a.FIGURES.update(original)
    assert set(calls) <= {f for f, fig in original.items() if fig.reads is None}


def test_a_registered_figure_and_table_join_the_report_and_are_computed_only_when_asked(county):
    conn = county
    calls = []

    def answered(conn, scope, period, today):
        calls.append(scope.code)
        return conn.execute("SELECT count(*) FROM application").fetchone()[0]

    a.register("answered_test", answered, reads=("application",))
    a.register_table("answered_test", lambda report: a.Table("answered_test", "答复测试", ["件数"],
                                                               [[report.answered_test]]))
    try:
        report = a.build(conn, a.scope_of(conn, COUNTY), a.Period(date(2026, 1, 1), TODAY), TODAY)
        assert [t.key for t in a.tables(report, {"applications"})] == ["applications"] and calls == []
        assert "answered_test" in a.table_keys()
        [t] = a.tables(report, {"answered_test"})
        assert t.rows == [[0]] and calls == [COUNTY]
        assert a.tables(report)[-1].key == "answered_test" and calls == [COUNTY]    # kept
    finally:
        a.FIGURES.pop("answered_test")
        from content import assessment_tables
        assessment_tables._EXTRA[:] = [(k, b) for k, b in assessment_tables._EXTRA if k != "answered_test"]


def test_the_serving_process_computes_the_county_figures_when_it_starts(county):
    from kiosk import notifier
    conn, rng = county, random.Random(11)
    for _ in range(10):
        _notice(conn, rng)
    a.clear_cache()
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    assert notifier.keep_assessment_current(path, TODAY) > 0
    assert notifier.keep_assessment_current(path, TODAY) == 0     # kept in this process


def test_a_past_day_is_aligned_without_replacing_the_kept_verdicts(county):
    conn, rng = county, random.Random(23)
    for _ in range(30):
        _notice(conn, rng)
    alignment_cache.verdicts(conn, None, TODAY)
    stored = conn.execute("SELECT * FROM alignment_verdict ORDER BY matter_id, village_code").fetchall()
    past = TODAY - timedelta(days=30)
    scope = a.scope_of(conn, COUNTY)
    got = a.consistency(conn, scope, a.Period(date(2026, 1, 1), past), TODAY)
    assert [(r["matter_id"], r["code"], r["status"], r["summary"]) for r in got.rows] == \
        _plain_consistency(conn, past)
    assert conn.execute("SELECT * FROM alignment_verdict ORDER BY matter_id, village_code").fetchall() == stored
    # Some pairs did compare other notices 30 days ago (else this proves nothing).
    assert _plain_consistency(conn, past) != _plain_consistency(conn, TODAY)
