"""Usage per terminal: counts carry the terminal, travel upstream as daily totals kept as
maxima at the hub (never summed twice), and the dashboard's terminal figures on a crafted dataset."""
from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from content import assessment as a
from content import db, outbox, usage
from content.db import set_meta

from test_assessment import COUNTY, TOWN, TOWN2, V1, V2, V3, item, mem, notice, village_item  # noqa: F401
from test_assessment_app import login, page_tables, sheet_rows

T1, T2, T3, T4, T5 = ("a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64)
NOON = datetime(2025, 3, 10, 4, 0, tzinfo=timezone.utc)


def terminal(conn, tid, code, label="", active=1):
    conn.execute("INSERT INTO sync_terminal(id, public_key, scope, label, active) VALUES (?, '', ?, ?, ?)",
                 (tid, code, label, active))


# ---------------------------------------------------------------- recording

def test_counts_before_the_migration_become_this_instances_own():
    conn = db.connect(":memory:")
    db.migrate(conn, target=7)
    conn.execute("INSERT INTO usage_view(day, kind, ref_id, views) VALUES ('2025-01-02', 'guide', 3, 4)")
    db.migrate(conn)
    assert conn.execute("SELECT day, terminal, kind, ref_id, views FROM usage_view").fetchall()[0][:] == \
        ("2025-01-02", usage.LOCAL, "guide", 3, 4)
    conn.close()


def test_views_are_recorded_under_the_terminals_id(mem):
    usage.record_view(mem, "guide", 7, date(2025, 3, 1), 2)
    set_meta(mem, "sync_terminal_id", T1)                    # kiosk init --role terminal sets it
    usage.record_view(mem, "guide", 7, date(2025, 3, 1))
    usage.record_view(mem, "guide", 7, date(2025, 3, 1), 3)
    usage.record_view(mem, "guide", 7, date(2025, 3, 1), terminal=T2)
    rows = {r[0]: r[1] for r in mem.execute("SELECT terminal, views FROM usage_view")}
    assert rows == {usage.LOCAL: 2, T1: 4, T2: 1}
    assert usage.views(mem, "guide", 7) == 7


# ---------------------------------------------------------------- upstream: terminal → hub

@pytest.fixture
def pair(tmp_path):
    """A terminal's database and a hub's, as two files."""
    conns = []
    for name in ("terminal", "hub"):
        c = db.open_database(tmp_path / f"{name}.sqlite3")
        conns.append(c)
    set_meta(conns[0], "sync_terminal_id", T1)
    yield conns
    for c in conns:
        c.close()


def queue(conn, today, now):
    conn.execute("BEGIN IMMEDIATE")
    days = usage.queue_upstream(conn, today, now)
    conn.execute("COMMIT")
    return days


def deliver(term, hub, records=None):
    """What the sync does: the hub files each pending record (as its inbox would), the terminal marks them sent."""
    records = outbox.pending(term, 500) if records is None else records
    for r in records:
        assert r["kind"] == usage.UPSTREAM_KIND
        usage.file_upstream(hub, T1, r["payload"], date(2025, 3, 10))
    outbox.mark_sent(term, [r["uuid"] for r in records], "2025-03-10T04:00:00Z")
    return records


def hub_views(hub):
    return {(r[0], r[1], r[2]): r[3] for r in hub.execute(
        "SELECT day, kind, ref_id, views FROM usage_view WHERE terminal = ?", (T1,))}


def test_daily_totals_reach_the_hub_once_however_often_they_are_sent(pair):
    term, hub = pair
    today = date(2025, 3, 10)
    usage.record_view(term, "guide", 1, date(2025, 3, 9), 5)
    usage.record_view(term, "item", 2, date(2025, 3, 9), 2)
    usage.record_view(term, "guide", 1, today, 3)
    assert queue(term, today, NOON) == ["2025-03-09", "2025-03-10"]
    first = deliver(term, hub)
    assert [r["payload"]["closed"] for r in first] == [True, False]
    assert hub_views(hub) == {("2025-03-09", "guide", 1): 5, ("2025-03-09", "item", 2): 2,
                              ("2025-03-10", "guide", 1): 3}
    # Sent again (the answer was lost): nothing doubles.
    deliver(term, hub, first)
    assert hub_views(hub)[("2025-03-09", "guide", 1)] == 5
    # Nothing changed: nothing is queued.
    assert queue(term, today, NOON + timedelta(hours=2)) == []
    # Today grows; its running total goes again only an hour after the last one.
    usage.record_view(term, "guide", 1, today, 4)
    assert queue(term, today, NOON + timedelta(minutes=30)) == []
    assert queue(term, today, NOON + timedelta(hours=2)) == ["2025-03-10"]
    deliver(term, hub)
    assert hub_views(hub) == {("2025-03-09", "guide", 1): 5, ("2025-03-09", "item", 2): 2,
                              ("2025-03-10", "guide", 1): 7}


def test_todays_running_total_is_sent_at_most_hourly_and_a_grown_total_replaces_the_old(pair):
    term, hub = pair
    today = date(2025, 3, 10)
    usage.record_view(term, "guide", 1, today, 3)
    assert queue(term, today, NOON) == ["2025-03-10"]
    deliver(term, hub)
    usage.record_view(term, "guide", 1, today, 4)
    assert queue(term, today, NOON + timedelta(minutes=30)) == []          # too soon
    assert queue(term, today, NOON + timedelta(minutes=61)) == ["2025-03-10"]
    grown = deliver(term, hub)
    assert hub_views(hub) == {("2025-03-10", "guide", 1): 7}                # the total, not 3 + 7
    # The day closes with one more view: it goes at the next sync, hourly limit or not.
    usage.record_view(term, "guide", 1, today, 1)
    assert queue(term, today + timedelta(days=1), NOON + timedelta(minutes=62)) == ["2025-03-10"]
    closing = deliver(term, hub)
    assert closing[0]["payload"]["closed"] is True
    assert hub_views(hub) == {("2025-03-10", "guide", 1): 8}
    # Out of order: the older, smaller total arriving late changes nothing.
    deliver(term, hub, grown)
    assert hub_views(hub) == {("2025-03-10", "guide", 1): 8}
    n = hub.execute("SELECT sum(views) FROM usage_view").fetchone()[0]
    assert n == 8


def test_an_offline_terminal_keeps_one_record_per_day_and_catches_up(pair):
    term, hub = pair
    start = date(2025, 1, 1)
    # Six weeks offline, syncing (and failing to send) every hour of it.
    for d in range(42):
        day = start + timedelta(days=d)
        for hour in range(0, 24, 6):
            usage.record_view(term, "guide", 1 + d % 3, day, 2)
            queue(term, day, datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc))
    pending = outbox.pending(term, 1000)
    assert len(pending) == 42                                                 # one per day, not one per sync
    assert len({p["payload"]["day"] for p in pending}) == 42
    deliver(term, hub)
    assert hub.execute("SELECT sum(views) FROM usage_view").fetchone()[0] == 42 * 8
    assert outbox.pending_count(term) == 0


def test_days_beyond_the_window_are_not_sent_and_a_busy_day_is_split(pair):
    term, hub = pair
    today = date(2025, 3, 10)
    usage.record_view(term, "guide", 1, today - timedelta(days=usage.UPSTREAM_DAYS + 1), 9)
    for ref in range(1, usage.UPSTREAM_ENTRIES + 6):
        usage.record_view(term, "item", ref, today, 1)
    assert queue(term, today, NOON) == [today.isoformat()]
    parts = outbox.pending(term, 100)
    assert [len(p["payload"]["views"]) for p in parts] == [usage.UPSTREAM_ENTRIES, 5]
    deliver(term, hub)
    assert hub.execute("SELECT count(*), sum(views) FROM usage_view").fetchone()[:] == \
        (usage.UPSTREAM_ENTRIES + 5, usage.UPSTREAM_ENTRIES + 5)


@pytest.mark.parametrize("payload, message", [
    ({"views": []}, "日期"),
    ({"day": "2025-13-01", "views": []}, "日期"),
    ({"day": "2031-01-01", "views": []}, "时钟"),
    ({"day": "2025-03-01", "views": [["search", 1, 2]]}, "格式"),
    ({"day": "2025-03-01", "views": [["guide", 1, -2]]}, "格式"),
    ({"day": "2025-03-01", "views": [["guide", "1", 2]]}, "格式"),
    ({"day": "2025-03-01", "views": [["guide", 1, True]]}, "格式"),
    ({"day": "2025-03-01", "views": "guide"}, "列表"),
])
def test_the_hub_refuses_malformed_usage_whole(pair, payload, message):
    _term, hub = pair
    payload = {**payload}
    if payload.get("views") and isinstance(payload["views"], list):
        payload["views"] = [["item", 5, 1], *payload["views"]]           # a good entry before the bad one
    with pytest.raises(usage.BadUpstream, match=message):
        usage.file_upstream(hub, T1, payload, date(2025, 3, 10))
    assert hub.execute("SELECT count(*) FROM usage_view").fetchone()[0] == 0


def test_withdraw_touches_only_waiting_records_of_that_kind_and_day(pair):
    term, _hub = pair
    ids = ["00000000-0000-4000-8000-00000000000%d" % i for i in range(4)]
    outbox.enqueue(term, usage.UPSTREAM_KIND, ids[0], {"day": "2025-03-01", "views": []})
    outbox.enqueue(term, usage.UPSTREAM_KIND, ids[1], {"day": "2025-03-02", "views": []})
    outbox.enqueue(term, usage.UPSTREAM_KIND, ids[2], {"day": "2025-03-01", "views": []})
    outbox.enqueue(term, "feedback", ids[3], {"day": "2025-03-01"})
    outbox.mark_sent(term, [ids[2]], "2025-03-02T00:00:00Z")
    assert outbox.withdraw_pending(term, usage.UPSTREAM_KIND, day="2025-03-01") == 1
    left = {r[0] for r in term.execute("SELECT uuid FROM outbox")}
    assert left == {ids[1], ids[2], ids[3]}
    with pytest.raises(ValueError):
        outbox.withdraw_pending(term, usage.UPSTREAM_KIND, **{"day') OR 1=1 --": "x"})


# ---------------------------------------------------------------- the dashboard's figures

@pytest.fixture
def fleet(mem):
    """Five terminals and this instance's own screens, with views whose sums are worked out by hand."""
    set_meta(mem, "scope", COUNTY)
    terminal(mem, T1, V1, "一村查阅点")
    terminal(mem, T2, TOWN)                       # no name: shown by its id
    terminal(mem, T3, V3, "三村旧机", active=0)    # stopped, no views: not listed
    terminal(mem, T4, V2, "二村查阅点")             # never used: listed with 0
    terminal(mem, T5, V3, "三村查阅点")
    i1 = item(mem, COUNTY, 1, "救助事项")           # 社会救助
    i2 = item(mem, TOWN, 2, "补贴事项")             # 涉农补贴
    v = village_item(mem, V1, "村级财务", "收支")    # 村务·村级财务
    n = notice(mem, V3, "三村公示", "2025-03-01", "2025-03-01T01:00:00Z")  # 其他
    mem.executemany("INSERT INTO usage_view(day, terminal, kind, ref_id, views) VALUES (?, ?, ?, ?, ?)", [
        ("2025-03-01", T1, "item", i1, 5), ("2025-03-01", T1, "village_item", v, 2),
        ("2025-04-02", T1, "item", i2, 3), ("2025-04-05", T1, "item", i1, 1),
        ("2025-03-03", T2, "item", i2, 7), ("2025-03-04", T2, "item", i2, 0),
        ("2025-03-03", T5, "notice", n, 11),
        ("2025-03-09", usage.LOCAL, "item", i1, 4),
        ("2024-12-31", T1, "item", i1, 100),                    # outside the period
        ("2025-03-05", "f" * 64, "item", i1, 50)])             # a terminal the registry does not know
    return mem


PERIOD = a.Period(date(2025, 1, 1), date(2025, 6, 30))


def test_views_per_terminal_domain_and_month(fleet):
    use = a.terminal_usage(fleet, a.scope_of(fleet, COUNTY), PERIOD, date(2025, 7, 1))
    rows = {t.id: t for t in use.terminals}
    assert [t.id for t in use.terminals] == [T1, T5, T2, usage.LOCAL, T4]  # most used first; T3 left out
    assert (rows[T1].name, rows[T1].place, rows[T1].views, rows[T1].days, rows[T1].last_day) == \
        ("一村查阅点", "一村", 11, 3, date(2025, 4, 5))
    assert rows[T1].monthly == {"2025-03": 7, "2025-04": 4}
    assert rows[T1].by_domain == {"社会救助": 6, "涉农补贴": 3, "村务·村级财务": 2}
    assert rows[T1].top_domain == "社会救助"
    assert (rows[T2].name, rows[T2].views, rows[T2].days) == ("终端 bbbbbbbb", 7, 1)   # a day of 0 is no day
    assert (rows[usage.LOCAL].name, rows[usage.LOCAL].place, rows[usage.LOCAL].views) == ("本机", "试验县", 4)
    assert (rows[T4].views, rows[T4].days, rows[T4].last_day, rows[T4].top_domain) == (0, 0, None, None)
    assert use.total == 11 + 7 + 11 + 4
    assert use.monthly == {"2025-03": 29, "2025-04": 4}
    assert use.by_domain == {"社会救助": 10, "涉农补贴": 10, "村务·村级财务": 2, "其他": 11}


def test_terminals_are_scoped_to_where_they_stand(fleet):
    def ids(code):
        return [t.id for t in a.terminal_usage(fleet, a.scope_of(fleet, code), PERIOD, date(2025, 7, 1)).terminals]
    assert ids(TOWN) == [T1, T2, T4]              # the township's own terminal and its villages'
    assert ids(V1) == [T1]
    assert ids(TOWN2) == [T5]
    assert ids(V2) == [T4]
    march = a.terminal_usage(fleet, a.scope_of(fleet, V1), a.Period(date(2025, 3, 1), date(2025, 3, 31)),
                             date(2025, 7, 1))
    assert march.total == 7 and march.terminals[0].last_day == date(2025, 3, 1)


def test_terminal_tables(fleet):
    report = a.build(fleet, a.scope_of(fleet, TOWN), PERIOD, date(2025, 7, 1))
    tabs = {t.key: t for t in a.tables(report)}
    t = tabs["usage_terminals"]
    assert t.rows == [["一村查阅点", "一村", 11, 3, date(2025, 4, 5), "社会救助"],
                      ["终端 bbbbbbbb", "甲镇", 7, 1, date(2025, 3, 3), "涉农补贴"],
                      ["二村查阅点", "二村", 0, 0, None, None],
                      ["合计", "3 台", 18, None, None, None]]
    m = tabs["usage_terminal_months"]
    assert m.columns == ["查询机", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "合计"]
    assert m.rows[0] == ["一村查阅点", 0, 0, 7, 4, 0, 0, 11]
    assert m.rows[-1] == ["合计", 0, 0, 14, 4, 0, 0, 18]
    d = tabs["usage_terminal_domain"]
    assert d.columns == ["查询机", "涉农补贴", "社会救助", "村务·村级财务", "其他领域", "合计"]
    assert d.rows[0] == ["一村查阅点", 3, 6, 2, 0, 11]
    assert d.rows[-1] == ["合计", 10, 6, 2, 0, 18]


# ---------------------------------------------------------------- the demo and the export

def test_demo_terminals_and_export_hold_the_numbers_of_the_page(client, conn, data_dir):
    from content.demo_activity import add_to_instance
    add_to_instance(data_dir / "kiosk.sqlite3")
    login(client, conn, "county-admin")
    query = "from=2026-01-01&to=2026-12-31"
    tables = page_tables(client.get(f"/admin/assessment/?{query}").text)
    assert len(tables["usage_terminals"]) == 10                        # nine sample terminals and the total
    assert int(tables["usage_terminals"][-1][2]) > 10000
    wb = load_workbook(io.BytesIO(client.get(f"/admin/assessment/all.xlsx?{query}").data))
    for key, title in (("usage_terminals", "各查询机浏览量"), ("usage_terminal_months", "各查询机月度浏览量"),
                       ("usage_terminal_domain", "各查询机浏览的领域")):
        ws = wb[title]
        header = [c.value for c in next(r for r in ws.iter_rows() if r[0].value == "查询机")]
        got = [["" if v is None else str(v) for v in row] for row in sheet_rows(ws, header)]
        assert got == [["" if c == "—" else c for c in row] for row in tables[key]], key
        one = load_workbook(io.BytesIO(client.get(f"/admin/assessment/{key}.xlsx?{query}").data)).active
        assert [list(r) for r in sheet_rows(one, header)] == [list(r) for r in sheet_rows(ws, header)]
    # The village editor sees its own village's sample terminal only, in the export too.
    client2 = client.application.test_client()
    login(client2, conn, "village-editor")
    mine = page_tables(client2.get(f"/admin/assessment/?{query}").text)["usage_terminals"]
    assert [r[0] for r in mine] == ["杏花村村委会信息查阅点", "合计"]
    wb = load_workbook(io.BytesIO(client2.get(f"/admin/assessment/all.xlsx?{query}").data))
    text = " ".join(str(v) for row in wb["各查询机浏览量"].iter_rows(values_only=True) for v in row if v)
    assert "杏花村村委会信息查阅点" in text and "县政务服务大厅" not in text and "桥头村" not in text
