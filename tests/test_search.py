"""Search: pinyin indexing, tokenisation edges, ranking, escaping, and the index following every write."""
import random
import re
from datetime import date

import pytest

from content import db, search

TODAY = date(2026, 6, 1)
COUNTY, TOWN, OTHER = "340499000000", "340499100000", "340499200000"


@pytest.fixture
def conn(tmp_path):
    c = db.open_database(tmp_path / "s.sqlite3")
    c.execute("INSERT INTO jurisdiction(code, name, level) VALUES (?, '淮川县', 'county')", (COUNTY,))
    c.execute("INSERT INTO jurisdiction(code, name, level, parent_code) VALUES (?, '东湖镇', 'township', ?)",
              (TOWN, COUNTY))
    c.execute("INSERT INTO jurisdiction(code, name, level, parent_code) VALUES (?, '西山镇', 'township', ?)",
              (OTHER, COUNTY))
    c.execute("INSERT INTO domain(id, name) VALUES (1, '社会救助')")
    yield c
    c.close()


def notice(conn, title, body="", status="published", published="2026-05-01", code=COUNTY,
           period_end=None):
    cur = conn.execute(
        "INSERT INTO notice(jurisdiction_code, subject_code, title, body, status, published_at, period_end) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (code, code, title, body, status, published, period_end))
    return cur.lastrowid


def item(conn, level1, level2="", content="", status="published", code=COUNTY):
    return conn.execute(
        "INSERT INTO catalogue_item(jurisdiction_code, domain_id, level1, level2, content_elements, status) "
        "VALUES (?, 1, ?, ?, ?, ?)", (code, level1, level2, content, status)).lastrowid


def guide(conn, title, materials='[]', status="published"):
    return conn.execute(
        "INSERT INTO guide(jurisdiction_code, domain_id, title, materials, status) VALUES (?, 1, ?, ?, ?)",
        (COUNTY, title, materials, status)).lastrowid


def titles(conn, q, codes=None, **kw):
    return [h.title for h in search.search(conn, q, codes, TODAY, **kw).hits]


# ------------------------------------------------------------------ pinyin and tokens

def test_pinyin_full_and_initials_at_index_time():
    assert search.pinyin_initials("最低生活保障") == "zdshbz¦db"      # with its alias 低保
    assert search.pinyin_initials("低保公示") == "dbgs"
    assert search.pinyin_full("低保公示") == "dibaogongshi"
    assert search.pinyin_initials("重庆银行") == "cqyh"                 # phrase-aware: chong, not zhong
    assert search.pinyin_initials("2024年ＡＢ村") == "2024nabc"         # digits and full-width letters kept
    assert search.split_chars("低保，公示 AB") == "低 保 公 示 a b"
    assert search.split_chars(search.title_text("最低生活保障")) == "最 低 生 活 保 障 sep 低 保"


@pytest.mark.parametrize("raw, expected", [
    ("低", [("低", False)]),
    ("低保", [("低保", False)]),
    ("低保公示", [("低保公示", False)]),
    ("dbgs", [("dbgs", True)]),
    ("ＤＢＧＳ", [("dbgs", True)]),                       # full-width letters from an IME
    ("A级景区", [("a级景区", False)]),                     # mixed Latin and Chinese is text
    ("低保  公示", [("低保", False), ("公示", False)]),
    ("低保，公示！", [("低保", False), ("公示", False)]),   # punctuation separates
    ('"低保" OR 公示*', [("低保", False), ("or", True), ("公示", False)]),
    ("NEAR(a b)", [("near", True), ("a", True), ("b", True)]),
    ("\x00\x1f\u200b", []),
    ("   ", []),
    (None, []),
    ("低低", [("低低", False)]),
    ("db db", [("db", True)]),                             # duplicates dropped
])
def test_parse_query_edges(raw, expected):
    assert [(t.text, t.pinyin) for t in search.parse_query(raw)] == expected


def test_long_queries_are_cut_not_refused():
    terms = search.parse_query("低" * 500)
    assert len(terms) == 1 and len(terms[0].text) == search.MAX_QUERY
    assert len(search.parse_query(" ".join("abcdefghij"))) == search.MAX_TERMS


def test_short_terms_use_the_single_character_index():
    table, anywhere, _ = search.fts_expressions(search.parse_query("低保"))
    assert table == "search_short" and '"低 保"' in anywhere
    table, anywhere, _ = search.fts_expressions(search.parse_query("低保公示"))
    assert table == "search_fts" and '"低保公示"' in anywhere
    table, _, _ = search.fts_expressions(search.parse_query("低保公示 db"))
    assert table == "search_short"      # any short term moves the whole query


# ------------------------------------------------------------------ queries against a database

def test_text_pinyin_and_short_queries_find_published_rows(conn):
    notice(conn, "2026年第二季度低保公示", "本村低保对象如下")
    item(conn, "最低生活保障", "审核信息", "初审对象名单")
    guide(conn, "城乡低保申请", '[{"name": "居民身份证"}]')
    notice(conn, "草稿里的低保公示", status="draft")
    assert titles(conn, "dbgs") == ["2026年第二季度低保公示"]
    assert titles(conn, "zdshbz") == ["最低生活保障 审核信息"]
    assert titles(conn, "dibao")[0] in ("城乡低保申请", "最低生活保障 审核信息", "2026年第二季度低保公示")
    assert set(titles(conn, "低保")) == {"2026年第二季度低保公示", "最低生活保障 审核信息", "城乡低保申请"}
    assert set(titles(conn, "低")) == {"2026年第二季度低保公示", "最低生活保障 审核信息", "城乡低保申请"}
    assert titles(conn, "身份证") == ["城乡低保申请"]              # guide materials are searchable
    assert titles(conn, "草稿") == []                              # drafts never
    assert titles(conn, "保障") == ["最低生活保障 审核信息"]


def test_initials_spanning_two_words_fall_back_to_two_letter_words(conn):
    notice(conn, "桥头村最低生活保障审核确认对象公示")
    result = search.search(conn, "dbgs", None, TODAY)
    assert [h.title for h in result.hits] == ["桥头村最低生活保障审核确认对象公示"]
    assert [t.text for t in result.loose_terms] == ["db", "gs"]
    assert not result.only_loosely      # both words are in the title: no "no exact match" note
    assert "<mark>最低生活保障</mark>" in result.hits[0].title_html
    assert "<mark>公示</mark>" in result.hits[0].title_html
    assert titles(conn, "低保公示") == ["桥头村最低生活保障审核确认对象公示"]


def test_ranking_exact_then_prefix_then_title_then_body(conn):
    notice(conn, "其他事项", "正文提到养老服务补贴")
    notice(conn, "关于养老服务补贴的通知")
    notice(conn, "养老服务补贴")
    notice(conn, "养老服务补贴发放名单公示")
    assert titles(conn, "养老服务补贴") == ["养老服务补贴", "养老服务补贴发放名单公示",
                                       "关于养老服务补贴的通知", "其他事项"]


def test_live_notices_rank_before_past_ones(conn):
    notice(conn, "危房改造对象公示 第一批", period_end="2026-05-10", published="2026-05-01")
    notice(conn, "危房改造对象公示 第二批", period_end="2026-06-10", published="2026-05-20")
    hits = search.search(conn, "危房改造", None, TODAY).hits
    assert [h.title for h in hits] == ["危房改造对象公示 第二批", "危房改造对象公示 第一批"]
    assert [h.past for h in hits] == [False, True]


def test_future_and_invisible_rows_are_hidden(conn):
    notice(conn, "明天才发布的公示", published="2026-07-01")
    notice(conn, "西山镇的低保公示", code=OTHER)
    notice(conn, "东湖镇的低保公示", code=TOWN)
    assert titles(conn, "发布的公示") == []
    assert titles(conn, "低保公示", codes=[COUNTY, TOWN]) == ["东湖镇的低保公示"]
    assert set(titles(conn, "低保公示")) == {"西山镇的低保公示", "东湖镇的低保公示"}
    assert titles(conn, "低保", codes=[]) == []


def test_every_write_keeps_the_index_current(conn, tmp_path):
    nid = notice(conn, "耕地地力保护补贴发放名单公示")
    assert titles(conn, "gdd") == ["耕地地力保护补贴发放名单公示"]
    conn.execute("UPDATE notice SET title = '耕地地力保护补贴发放结果' WHERE id = ?", (nid,))
    assert titles(conn, "耕地地力") == ["耕地地力保护补贴发放结果"]
    assert titles(conn, "名单公示") == []
    conn.execute("UPDATE notice SET status = 'withdrawn' WHERE id = ?", (nid,))
    assert titles(conn, "耕地地力") == []
    conn.execute("UPDATE notice SET status = 'published' WHERE id = ?", (nid,))
    assert titles(conn, "gd") == ["耕地地力保护补贴发放结果"]
    # Another connection (the admin, sync) writes: same triggers, same index.
    other = db.connect(tmp_path / "s.sqlite3")
    other.execute("BEGIN")
    other.execute("INSERT INTO village_item(jurisdiction_code, category, title, status) "
                  "VALUES (?, '村级财务', '村级财务收支明细', 'published')", (TOWN,))
    other.execute("ROLLBACK")                          # rolled back: not in the index either
    other.execute("INSERT INTO village_item(jurisdiction_code, category, title, status) "
                  "VALUES (?, '村级财务', '村级财务收支明细', 'published')", (TOWN,))
    other.close()
    assert titles(conn, "cjcw") == ["村级财务收支明细"]
    conn.execute("DELETE FROM notice WHERE id = ?", (nid,))
    assert titles(conn, "耕地") == []
    assert conn.execute("SELECT count(*) FROM search_fts").fetchone()[0] == \
        conn.execute("SELECT count(*) FROM search_short").fetchone()[0] == \
        conn.execute("SELECT count(*) FROM search_meta").fetchone()[0] == 1


def test_rebuild_gives_the_same_index_as_the_triggers(conn):
    notice(conn, "低保公示", "正文")
    item(conn, "最低生活保障")
    guide(conn, "法律援助申请")
    tables = ("search_fts", "search_short", "search_meta")
    before = {t: [tuple(r) for r in conn.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid")] for t in tables}
    assert search.rebuild(conn) == 3
    after = {t: [tuple(r) for r in conn.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid")] for t in tables}
    assert after == before and len(after["search_meta"]) == 3


def test_highlight_escapes_html_and_marks_pinyin_matches(conn):
    notice(conn, "<script>alert(1)</script>低保公示", "低保 & <b>")
    hit = search.search(conn, "dbgs", None, TODAY).hits[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert hit.title_html.endswith("<mark>低保公示</mark>")
    hit = search.search(conn, "低保", None, TODAY).hits[0]
    assert "&amp; &lt;b&gt;" in hit.snippet_html and "<mark>低保</mark>" in hit.snippet_html


def test_no_query_of_any_bytes_raises(conn):
    notice(conn, "低保公示", "正文")
    rng = random.Random(3)
    specials = ['"', "'", "*", "^", ":", "(", ")", "{", "}", "NEAR", "AND", "OR", "NOT", "-", "+",
                "\\", "\x00", "\ud800", "\U0010ffff", "🙂", "ﷺ", "ǅ", "İ", "ß", "\u0301"]
    for _ in range(400):
        raw = "".join(rng.choice(specials + [chr(rng.randrange(0x20, 0x3000))])
                      for _ in range(rng.randrange(0, 30)))
        search.search(conn, raw, None, TODAY)          # must not raise
    search.search(conn, bytes(range(256)).decode("latin-1"), None, TODAY)


def test_insert_or_replace_as_sync_applies_bundles(conn):
    nid = notice(conn, "农机购置补贴公示")
    conn.execute(
        "INSERT OR REPLACE INTO notice(id, jurisdiction_code, subject_code, title, status, published_at) "
        "VALUES (?, ?, ?, '农机购置补贴结果公告', 'published', '2026-05-02')", (nid, COUNTY, COUNTY))
    assert titles(conn, "农机购置") == ["农机购置补贴结果公告"]
    conn.execute(
        "INSERT OR REPLACE INTO notice(id, jurisdiction_code, subject_code, title, status, published_at) "
        "VALUES (?, ?, ?, '农机购置补贴结果公告', 'draft', '2026-05-02')", (nid, COUNTY, COUNTY))
    assert titles(conn, "农机购置") == [] and titles(conn, "njgz") == []
    assert conn.execute("SELECT count(*) FROM search_meta").fetchone()[0] == 0


def test_snippets_start_at_a_sentence_and_end_at_one_when_near():
    body = ("根据有关规定做好本年度工作。" * 3 + "经村民代表会议讨论，现将低保对象名单予以公示。"
            + "公示期间如有异议，请向村委会反映。" + "其他说明文字。" * 10)
    html = str(search.snippet(body, search.parse_query("低保")))
    text = re.sub(r"<[^>]+>", "", html)
    assert text.startswith("…经村民代表会议讨论") and "<mark>低保</mark>" in html
    assert text.rstrip("…").endswith("。")
