"""Query plans behind the pages the benchmarks found slow: the notice table is never scanned,
and the indexes of migration 0010 are the ones used (docs/benchmarks.md)."""
from __future__ import annotations

import re
from datetime import date

from content import db, jurisdictions, search


def _statements(client, monkeypatch, url: str) -> list[str]:
    """Every SELECT the app runs to render ``url`` (uncached)."""
    seen: list[str] = []
    real = db.connect

    def traced(path):
        c = real(path)
        c.set_trace_callback(seen.append)
        return c

    monkeypatch.setattr(db, "connect", traced)
    assert client.get(url).status_code == 200
    monkeypatch.setattr(db, "connect", real)
    return [s for s in dict.fromkeys(seen) if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def _plan(conn, sql: str) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]


def test_item_and_village_item_pages_read_their_notices_by_index(client, conn, monkeypatch):
    conn.execute("ANALYZE")
    item = conn.execute("SELECT id FROM catalogue_item WHERE status = 'published' ORDER BY id LIMIT 1").fetchone()[0]
    vitem = conn.execute("SELECT id FROM village_item WHERE status = 'published' ORDER BY id LIMIT 1").fetchone()[0]
    for url, index in ((f"/items/{item}", "notice_item"), (f"/village-items/{vitem}", "notice_village_item")):
        plans = {s: _plan(conn, s) for s in _statements(client, monkeypatch, url) if "FROM notice n" in s}
        assert plans, url
        for sql, plan in plans.items():
            assert not any(re.match(r"SCAN (n|notice)\b", p) for p in plan), (url, plan)
        used = [p for plan in plans.values() for p in plan]
        assert any(index in p for p in used), (url, used)


def test_home_and_notice_list_do_not_scan_the_notice_table(client, conn, monkeypatch):
    conn.execute("ANALYZE")
    for url in ("/", "/notices"):
        for sql in _statements(client, monkeypatch, url):
            if re.search(r"\bFROM notice\b", sql):
                plan = _plan(conn, sql)
                assert not any(re.match(r"SCAN (n|notice)\b", p) for p in plan), (url, sql[:120], plan)


def test_scoped_search_checks_scope_in_the_covering_index(conn):
    """One village's view: each FTS5 candidate is checked in search_meta_scope, not the wide row."""
    village = conn.execute("SELECT code FROM jurisdiction WHERE level = 'village' LIMIT 1").fetchone()[0]
    codes = jurisdictions.visible_codes(conn, village)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    result = search.search(conn, "公示", codes, date.today())
    conn.set_trace_callback(None)
    assert result.hits
    fts = [s for s in seen if "MATCH" in s]
    assert fts
    for sql in fts:
        plan = " | ".join(_plan(conn, sql))
        assert "search_meta_scope" in plan and "SCAN m" not in plan, plan
