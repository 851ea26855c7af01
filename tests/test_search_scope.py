"""Scope inside the FTS indexes and a query path without pypinyin (migration 0011).

A scoped search asks FTS5 for its own jurisdictions' matches (the scope column) and
highlights pinyin from the syllables stored with the index; both must give exactly the
hits the plain search_meta check and pypinyin give, HTML included.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from content import db, jurisdictions, search
from kiosk import config

TODAY = date.today()          # the demo's notices are dated relative to the day it is built
ROOT = Path(__file__).resolve().parents[1]

QUERIES = [
    # 3+ characters of text
    "最低生活保障", "耕地地力保护", "危房改造", "村级财务", "杏花村", "公共租赁住房", "法律援助",
    "居民身份证", "发放名单", "养老服务补贴", "对象公示",
    # one or two characters
    "低保", "公示", "补", "村", "养老", "医保", "救助", "补贴", "社保", "五保", "危改",
    # pinyin: initials, full, loose (dbgs → db gs), aliases (db → 最低生活保障)
    "dbgs", "zdshbz", "gdd", "wfgz", "db", "cjcw", "flyz", "xhc", "yb", "dibao", "gdlbh",
    "sb", "shebao", "gzf", "wb", "yibao", "wg", "zhang",
    # several terms, digits, mixed
    "低保 公示", "db gs", "2026", "a", "低保公示", "养老 bt",
]


def _scopes(conn) -> dict[str, list[str] | None]:
    village = conn.execute("SELECT code FROM jurisdiction WHERE level = 'village' "
                           "ORDER BY code LIMIT 1").fetchone()[0]
    town = conn.execute("SELECT parent_code FROM jurisdiction WHERE code = ?", (village,)).fetchone()[0]
    county = conn.execute("SELECT code FROM jurisdiction WHERE level = 'county'").fetchone()[0]
    return {"all": None, "village": jurisdictions.visible_codes(conn, village),
            "township": jurisdictions.visible_codes(conn, town), "county only": [county],
            "every code listed": jurisdictions.visible_codes(conn, None), "none": []}


def _outcome(result) -> dict:
    return {"capped": result.capped, "loose": [t.text for t in result.loose_terms],
            "hits": [(h.kind, h.id, h.title, str(h.title_html), str(h.snippet_html), h.tier, h.past,
                      h.meta, h.code, h.jurisdiction_name, h.day) for h in result.hits]}


@pytest.mark.parametrize("candidates", [search.CANDIDATES, 4])
def test_scope_in_the_index_and_stored_pinyin_give_the_same_hits(conn, monkeypatch, candidates):
    """Every query kind over six scopes: the scope column and the stored syllables against the
    search_meta check alone and pypinyin at query time (what search did before 0011). With
    4 candidates per kind the walk is cut short, so the scope must be applied before the cut."""
    monkeypatch.setattr(search, "CANDIDATES", candidates)
    scopes = _scopes(conn)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    ours = {(name, q): _outcome(search.search(conn, q, codes, TODAY))
            for name, codes in scopes.items() for q in QUERIES}
    conn.set_trace_callback(None)
    scoped_fts = [s for s in statements if "MATCH" in s and "{scope}" in s]
    assert scoped_fts, "scoped searches never used the scope column"

    monkeypatch.setattr(search, "SCOPE_TOKENS", 0)                    # search_meta check only
    monkeypatch.setattr(search, "_stored_syllables", lambda value, compact: None)   # pypinyin
    statements.clear()
    conn.set_trace_callback(statements.append)
    reference = {(name, q): _outcome(search.search(conn, q, codes, TODAY))
                 for name, codes in scopes.items() for q in QUERIES}
    conn.set_trace_callback(None)
    assert not any("{scope}" in s for s in statements)

    assert len(ours) == len(QUERIES) * len(scopes) >= 250
    for key in reference:
        assert ours[key] == reference[key], key
    # The comparison means something: scopes differ, and pinyin matches are highlighted.
    assert sum(len(o["hits"]) for o in ours.values()) > 500
    assert ours[("village", "公示")]["hits"] != ours[("all", "公示")]["hits"]
    assert ours[("none", "公示")]["hits"] == []
    assert any("<mark>" in h[3] for h in ours[("all", "dbgs")]["hits"])
    assert any("<mark>最低生活保障</mark>" in h[3] for h in ours[("all", "db")]["hits"])


def test_scope_tokens_stay_in_the_scope_column(conn):
    """Codes are single tokens of the scope column; no resident's text ever holds one."""
    codes = [r[0] for r in conn.execute("SELECT code FROM jurisdiction")]
    tokens = {search.scope_token(c) for c in codes}
    assert len(tokens) == len(codes)                                   # one-to-one
    assert all(len(t) == 3 and all(0xF0000 <= ord(ch) <= 0xFFFFD for ch in t) for t in tokens)
    assert search.scope_token("340499000000") != search.scope_token("340499000001")
    assert search.normalize("低保" + search.scope_token(codes[0]) + "公示") == "低保公示"
    for table in ("search_fts", "search_short"):
        conn.execute(f"CREATE VIRTUAL TABLE temp.{table}_terms USING fts5vocab(main, {table}, 'col')")
        in_scope = {r[0] for r in conn.execute(f"SELECT term FROM {table}_terms WHERE col = 'scope'")}
        assert in_scope and in_scope <= tokens, table
        private = conn.execute(
            f"SELECT count(*) FROM {table}_terms WHERE col <> 'scope' AND "
            f"(term GLOB '*[{chr(0xF0000)}-{chr(0x10FFFF)}]*' OR term IN "
            f"(SELECT value FROM json_each(?)))", (json.dumps(sorted(tokens)),)).fetchone()[0]
        assert private == 0, table
    # Each document carries exactly its own jurisdiction's token.
    rows = conn.execute("SELECT m.code, f.scope FROM search_meta m JOIN search_fts f ON f.rowid = m.id")
    assert all(search.scope_token(code) == scope for code, scope in rows)
    # Neither typed characters nor digits of a code find a document through its scope.
    village = next(c for c in codes if not c.endswith("000"))
    assert search.search(conn, search.scope_token(village), None, TODAY).terms == []
    assert not search.search(conn, village, None, TODAY).hits
    assert not search.search(conn, village[:6], [village], TODAY).hits


def test_stored_syllables_are_the_highlighters_pinyin(conn):
    rows = conn.execute("SELECT label, syl FROM search_meta").fetchall()
    assert len(rows) > 100
    for label, syl in rows:
        compact = search._compact(label)[0]
        assert search._stored_syllables(syl, compact) == search.syllables(compact), label
        terms = search.parse_query("dbgs zdshbz gdd yb")
        assert search.highlight(label, terms, syl) == search.highlight(label, terms), label
    assert search.title_syllables("低保，公示（第2号）") == "di bao gong shi di 2 hao"
    assert search.title_syllables("") == "" and search._stored_syllables("", "") == ()
    assert search._stored_syllables("di bao", "低保公示") is None      # does not fit: not used


def test_alias_pinyin_constants_match_pypinyin():
    assert set(search.ALIAS_SYLLABLES) == set(search.ALIASES.values())
    for short, syl in search.ALIAS_SYLLABLES.items():
        assert search.syllables(short) == syl, short


def test_migration_0011_rebuilds_the_index_the_triggers_build(tmp_path):
    """A database indexed under 0010 comes out of 0011 with the index the triggers now build."""
    conn = db.connect(tmp_path / "old.sqlite3")
    db.migrate(conn, target=10)
    conn.execute("INSERT INTO jurisdiction(code, name, level) VALUES ('340499000000', '淮川县', 'county')")
    conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code) "
                 "VALUES ('340499100000', '东湖镇', 'township', '340499000000')")
    conn.execute("INSERT INTO domain(id, name) VALUES (1, '社会救助')")
    conn.execute("INSERT INTO notice(jurisdiction_code, subject_code, title, body, status, published_at) "
                 "VALUES ('340499100000', '340499100000', '东湖镇低保公示', '正文', 'published', '2026-05-01')")
    conn.execute("INSERT INTO catalogue_item(jurisdiction_code, domain_id, level1, level2, status) "
                 "VALUES ('340499000000', 1, '最低生活保障', '审核信息', 'published')")
    conn.execute("INSERT INTO search_pending(id) VALUES (4000000000001)")     # a build under way
    assert db.migrate(conn, target=11) == ["0011_search_scope.sql"]
    tables = ("search_fts", "search_short", "search_meta")
    migrated = {t: [tuple(r) for r in conn.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid")] for t in tables}
    assert search.pending_count(conn) == 0 and len(migrated["search_meta"]) == 2
    conn.execute("UPDATE notice SET id = id")               # the triggers of 0011 index again
    conn.execute("UPDATE catalogue_item SET id = id")
    by_triggers = {t: [tuple(r) for r in conn.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid")] for t in tables}
    assert by_triggers == migrated
    assert [h.title for h in search.search(conn, "db", ["340499100000"], date(2026, 6, 1)).hits] == ["东湖镇低保公示"]
    conn.close()


# Run in a fresh interpreter: searches of every kind, scoped and unscoped, then report which
# of them found and highlighted something and whether pypinyin was ever imported.
_CHILD = r"""
import json, sys
from datetime import date
from content import db, jurisdictions, search
conn = db.connect(sys.argv[1])
village = conn.execute("SELECT code FROM jurisdiction WHERE level = 'village' ORDER BY code LIMIT 1").fetchone()[0]
out = {}
for name, codes in (("all", None), ("village", jurisdictions.visible_codes(conn, village))):
    for q in json.loads(sys.argv[2]):
        r = search.search(conn, q, codes, date.fromisoformat(sys.argv[3]))
        out[name + "|" + q] = [str(h.title_html) + str(h.snippet_html) for h in r.hits]
print(json.dumps({"pypinyin": sorted(m for m in sys.modules if m.split(".")[0] == "pypinyin"),
                  "results": out}))
"""


def test_searching_never_loads_pypinyin(tmp_path, demo_template):
    path = tmp_path / "kiosk.sqlite3"
    shutil.copy(demo_template / config.DATABASE_NAME, path)
    queries = ["最低生活保障", "低保", "补", "dbgs", "db", "zdshbz", "dibao", "yb", "低保 公示", "2026", "zhang"]
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), json.dumps(queries), TODAY.isoformat()],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["pypinyin"] == []
    results = report["results"]
    for q in ("最低生活保障", "低保", "补", "dbgs", "db", "zdshbz", "dibao"):
        for scope in ("all", "village"):
            assert any("<mark>" in h for h in results[f"{scope}|{q}"]), (scope, q)
    # The child's hits are the ones this process (pypinyin loaded) gives.
    conn = db.connect(path)
    try:
        village = conn.execute("SELECT code FROM jurisdiction WHERE level = 'village' "
                               "ORDER BY code LIMIT 1").fetchone()[0]
        for scope, codes in (("all", None), ("village", jurisdictions.visible_codes(conn, village))):
            for q in queries:
                hits = search.search(conn, q, codes, TODAY).hits
                assert results[f"{scope}|{q}"] == [str(h.title_html) + str(h.snippet_html) for h in hits]
    finally:
        conn.close()
