"""Touch screens through the test client: search, keyboard without JavaScript, QR codes,
适老化 switch, attract screen, print sheets, usage counts, no links leaving the kiosk."""
import re
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import quote, urljoin, urlsplit

import pytest
import zxingcpp
from PIL import Image

from content import db, qr, usage


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.imgs, self.actions, self.online = [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "href" in a:
            # An online-service address a phone opens (the kiosk shows a QR code instead).
            online = "online-link" in (a.get("class") or "").split()
            (self.online if online else self.hrefs).append(a["href"])
        if tag == "img":
            self.imgs.append(a)
        if tag == "form":
            self.actions.append(a.get("action", ""))


def parse(html):
    p = Links()
    p.feed(html)
    return p


@pytest.fixture(autouse=True)
def counts_written_at_once(app):
    """Usage counts are normally written once a minute; these tests read them at once."""
    app.config["USAGE_FLUSH_SECONDS"] = 0


def elderly(client, next_url):
    """Press the 适老化 switch as the page does: csrf.js fetches the token, then the form posts."""
    token = client.get("/csrf-token").get_json()["token"]
    return client.post("/elderly", data={"next": next_url, "csrf_token": token})


def decode_png(data: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(BytesIO(data)))]


# ------------------------------------------------------------------ search

def test_pinyin_initials_find_the_demo_low_income_notices(client):
    html = client.get("/search?q=dbgs").get_data(as_text=True)
    links = [h for h in parse(html).hrefs if re.fullmatch(r"/(notices|guides|items|village-items)/\d+", h)]
    assert links, "dbgs found nothing"
    assert "最低生活保障" in html and "<mark>公示</mark>" in html
    for href in links:
        assert client.get(href).status_code == 200, href


def test_full_initials_and_text_and_two_characters(client):
    html = client.get("/search?q=zdshbz").get_data(as_text=True)
    assert "<mark>最低生活保障</mark>" in html
    html = client.get("/search?q=" + quote("低保")).get_data(as_text=True)
    first = re.search(r'<a class="card result-card[^"]*" href="([^"]+)">(.*?)</a>', html, re.S)
    assert first.group(1).startswith("/guides/")          # the guide leads: what to do
    assert "<mark>最低生活保障</mark>申请" in first.group(2)   # 低保 found through its full name
    html = client.get("/search?q=" + quote("耕地地力保护")).get_data(as_text=True)
    assert "<mark>耕地地力保护</mark>" in html


def test_results_only_for_the_keyboard_fragment(client):
    r = client.get("/search?q=dbgs", headers={"HX-Request": "true", "HX-Target": "search-results"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and 'class="osk"' not in html
    assert "result-card" in html


def test_kind_filter(client):
    html = client.get("/search?q=zdshbz&kind=guide").get_data(as_text=True)
    hrefs = [h for h in parse(html).hrefs if re.fullmatch(r"/(notices|guides|items|village-items)/\d+", h)]
    assert hrefs and all(h.startswith("/guides/") for h in hrefs)


@pytest.mark.parametrize("raw", [
    "%00", "%ff%fe", "%22", "%27%3B--", "*", "NEAR(a%20b)", "a%20OR%20b", "%E4%BD", "x" * 5000,
    "%F0%9F%99%82", "%ED%A0%80", "%5C", "%7B%7D", "1%3D1", "%3Cscript%3E", "%E2%80%AE",
])
def test_any_bytes_never_give_a_server_error(client, raw):
    r = client.get("/search?q=" + raw)
    # Control characters are refused with a message (400); everything else is searched.
    assert r.status_code == (400 if raw == "%00" else 200)
    assert "<script>" not in r.get_data(as_text=True).split("</head>")[1].replace(
        '<script src=', '')


def test_keyboard_works_without_javascript(client):
    def value(html):
        return re.search(r'id="q"[^>]*value="([^"]*)"', html).group(1)
    assert value(client.get("/search?q=db&key=g").get_data(as_text=True)) == "dbg"
    assert value(client.get("/search?q=dbg&key=del").get_data(as_text=True)) == "db"
    assert value(client.get("/search?q=dbg&key=clear").get_data(as_text=True)) == ""
    assert value(client.get("/search?q=db&key=%3Cx").get_data(as_text=True)) == "db"
    html = client.get("/search").get_data(as_text=True)
    keys = re.findall(r'name="key" value="([^"]+)"', html)
    assert set("abcdefghijklmnopqrstuvwxyz0123456789") <= set(keys) and {"del", "clear"} <= set(keys)


def test_nothing_found_suggests_domains_and_most_viewed_guides(client, conn):
    for _ in range(3):
        client.get("/guides/20")
    html = client.get("/search?q=qqqqxxxx").get_data(as_text=True)
    assert "没有找到" in html
    assert re.search(r'href="/domains/\d+"', html)
    guides = re.findall(r'href="/guides/(\d+)"', html.split("大家常看的办事指南")[1])
    assert guides[0] == "20"                  # the most viewed guide comes first


def test_search_says_so_while_the_index_is_still_being_built(client, conn):
    note = "搜索目录正在更新"
    assert note not in client.get("/search?q=dbgs").get_data(as_text=True)
    conn.execute("INSERT INTO search_pending(id) VALUES (987654)")   # a big first sync's queue
    assert note in client.get("/search?q=dbgs").get_data(as_text=True)
    fragment = client.get("/search?q=db", headers={"HX-Request": "true", "HX-Target": "search-results"})
    assert note in fragment.get_data(as_text=True)
    conn.execute("DELETE FROM search_pending")
    assert note not in client.get("/search?q=dbgs").get_data(as_text=True)


def test_empty_searches_are_counted_by_query_text_only(client, conn):
    client.get("/search?q=qqqqxxxx")
    client.get("/search?q=qqqqxxxx")
    client.get("/search?q=" + quote("身份证340404199001011234"))
    client.get("/search?q=dbgs")             # found something: not counted
    for name in ("王小明", "欧阳春花", "李 四"):      # someone looking for a neighbour: not a gap
        client.get("/search?q=" + quote(name))
    client.get("/search?q=" + quote("量子计算"))    # a topic nobody has written about yet
    rows = dict(conn.execute("SELECT query, count FROM usage_search_miss").fetchall())
    assert rows["qqqqxxxx"] == 2
    assert "身份证" + "*" * 18 in rows        # ID numbers never stored
    assert not any("dbgs" in q for q in rows)
    assert rows["量子计算"] == 1
    assert not any(n in q for q in rows for n in ("王小明", "欧阳春花", "李 四", "李四"))


# ------------------------------------------------------------------ usage counts

def test_views_are_counted_per_day_and_thing(client, conn):
    nid = conn.execute("SELECT id FROM notice WHERE status='published' "
                       "AND substr(published_at,1,10) <= date('now') LIMIT 1").fetchone()[0]
    client.get(f"/notices/{nid}")
    client.get(f"/notices/{nid}", headers={"HX-Request": "true"})
    client.get("/guides/1")
    client.get("/guides/999999")             # 404: not counted
    client.get("/items/1")
    assert usage.views(conn, "notice", nid) == 2
    assert usage.views(conn, "guide", 1) == 1
    assert usage.views(conn, "guide", 999999) == 0
    assert usage.views(conn, "item", 1) == 1
    assert conn.execute("SELECT count(DISTINCT day) FROM usage_view").fetchone()[0] == 1


# ------------------------------------------------------------------ QR codes

def _qr_pages(conn):
    pages = []
    for gid, url in conn.execute("SELECT id, online_url FROM guide WHERE status='published' AND online_url != ''"):
        pages.append((f"/guides/{gid}", url))
    for iid, url in conn.execute("SELECT id, online_url FROM catalogue_item WHERE status='published' AND online_url != ''"):
        pages.append((f"/items/{iid}", url))
    for nid, url in conn.execute("SELECT id, online_url FROM notice WHERE status='published' AND online_url != '' "
                                 "AND substr(published_at,1,10) <= date('now')"):
        pages.append((f"/notices/{nid}", url))
    return pages


def test_every_demo_qr_code_decodes_to_its_address(client, conn):
    """Every QR code on a kiosk page opens that very page on a phone, at the county's public
    address (a guide's page links on to its online service)."""
    from content.db import get_meta
    base = get_meta(conn, "public_url").rstrip("/")
    # The demo's one notice with an online address is scheduled for later: add a live one.
    conn.execute(
        "INSERT INTO notice(jurisdiction_code, subject_code, title, status, published_at, online_url) "
        "SELECT code, code, '网上公开测试公告', 'published', date('now'), "
        "'https://www.huaichuan.example/xxgk/tzgg/1.html?x=1&y=2' FROM jurisdiction WHERE level='county'")
    pages = _qr_pages(conn)
    kinds = {p.split("/")[1] for p, _ in pages}
    assert {"guides", "items", "notices"} <= kinds
    for page, url in pages:
        html = client.get(page).get_data(as_text=True)
        imgs = [i for i in parse(html).imgs if i.get("src", "").startswith("/qr.png?")]
        assert len(imgs) == 1, page
        assert imgs[0]["alt"].startswith("二维码")
        r = client.get(imgs[0]["src"])
        assert r.status_code == 200 and r.mimetype == "image/png"
        assert decode_png(r.data) == [base + page], page
        if page.startswith("/guides/"):
            assert url in html                                           # the online service, linked on
        # Large enough to scan from 40 cm: at least 240 CSS px on screen.
        assert int(imgs[0]["width"]) >= 240


def test_qr_png_and_svg_and_cache(client):
    url = "https://zwfw.huaichuan.example/guide/dibao-apply?a=1&b=中文"
    r = client.get("/qr.png?url=" + quote(url, safe=""))
    assert decode_png(r.data) == [url]
    img = Image.open(BytesIO(r.data))
    assert img.size[0] >= 290                  # 10 px modules with a 4-module quiet zone
    assert img.convert("L").getpixel((5, 5)) == 255 and img.convert("L").getpixel((39, 39)) == 255
    etag = r.headers["ETag"]
    assert client.get("/qr.png?url=" + quote(url, safe=""), headers={"If-None-Match": etag}).status_code == 304
    svg = client.get("/qr.svg?url=" + quote(url, safe=""))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


@pytest.mark.parametrize("bad", [
    "", "ftp://example.org/file", "javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd",
    "https://" + "a" * 1200 + ".example", "http://", "https://exa mple.org", "notaurl",
])
def test_bad_qr_requests_get_a_chinese_400(client, bad):
    for fmt in ("png", "svg"):
        r = client.get(f"/qr.{fmt}" + (f"?url={quote(bad, safe='')}" if bad else ""))
        assert r.status_code == 400, bad
        html = r.get_data(as_text=True)
        assert re.search(r"网址|二维码", html), bad


def test_qr_target_only_for_web_addresses(app):
    from kiosk.touch import qr_target
    with app.test_request_context():
        assert qr_target("https://a.example/x") == "https://a.example/x"
        assert qr_target("javascript:alert(1)") is None
        assert qr_target("") is None
        # The county's stored public address (the demo's) is where codes of local pages start.
        assert qr_target("", "/notices/3") == "https://gk.huaichuan.example/notices/3"
    conn = db.connect(app.config["DATABASE"])
    db.set_meta(conn, "public_url", None)
    conn.close()
    for setting, expected in ((None, None),                    # never the kiosk's own localhost
                              ("https://gk.example/kiosk/",    # kiosk.toml's, when none is stored
                               "https://gk.example/kiosk/notices/3"),
                              ("http://192.168.1.20:8080", None)):   # a LAN address: no code
        app.config["PUBLIC_URL"] = setting
        with app.test_request_context():
            assert qr_target("", "/notices/3") == expected


# ------------------------------------------------------------------ 适老化, attract, sheets

def test_elderly_switch_is_per_session_and_returns_to_the_page(client):
    assert 'class="kiosk elderly"' not in client.get("/guides").get_data(as_text=True)
    assert client.post("/elderly", data={"next": "/guides"}).status_code == 400   # no CSRF token
    r = elderly(client, "/guides")
    assert r.status_code == 303 and r.headers["Location"].endswith("/guides")
    html = client.get("/guides").get_data(as_text=True)
    assert 'class="kiosk elderly"' in html and 'aria-pressed="true"' in html
    elderly(client, "/")
    assert 'class="kiosk elderly"' not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", ""])
def test_elderly_switch_never_redirects_away(client, target):
    r = elderly(client, target)
    loc = urlsplit(urljoin("http://localhost/", r.headers["Location"]))
    assert loc.netloc == "localhost" and loc.path.startswith("/")


def test_attract_screen_starts_a_fresh_session(client):
    elderly(client, "/")
    assert 'class="kiosk elderly"' in client.get("/").get_data(as_text=True)
    html = client.get("/attract").get_data(as_text=True)
    assert "请触摸屏幕开始查询" in html and "data-attract" in html
    assert 'class="kiosk elderly"' not in client.get("/").get_data(as_text=True)


def test_one_time_notice_sheet_lists_everything_with_qr(client, conn):
    g = conn.execute("SELECT * FROM guide WHERE id = 1").fetchone()
    html = client.get("/guides/1/sheet").get_data(as_text=True)
    assert "一次告知单" in html and g["title"] in html and "示例数据" in html
    for m in __import__("json").loads(g["materials"]):
        assert m["name"] in html
    for field in ("office", "hours", "fee", "time_limit_text", "phone"):
        assert g[field] in html, field
    srcs = [i["src"] for i in parse(html).imgs if i.get("src", "").startswith("/qr.png?")]
    assert len(srcs) == 1 and decode_png(client.get(srcs[0]).data) == [g["online_url"]]
    assert "data-print" in html
    assert 'href="/guides/1/sheet"' in client.get("/guides/1").get_data(as_text=True)


def test_handbook_print_has_every_guide(client, conn):
    hid = conn.execute("SELECT id FROM handbook WHERE status='published' LIMIT 1").fetchone()[0]
    titles = [r[0] for r in conn.execute(
        "SELECT g.title FROM guide g JOIN handbook_guide hg ON hg.guide_id = g.id "
        "WHERE hg.handbook_id = ? AND g.status='published'", (hid,))]
    html = client.get(f"/handbooks/{hid}/print").get_data(as_text=True)
    assert titles and all(t in html for t in titles)
    assert html.count("/qr.png?url=") >= 1
    assert f'href="/handbooks/{hid}/print"' in client.get(f"/handbooks/{hid}").get_data(as_text=True)
    assert client.get("/handbooks/999999/print").status_code == 404
    assert client.get("/guides/999999/sheet").status_code == 404


def test_print_css_is_a4():
    from pathlib import Path
    css = (Path(__file__).parent.parent / "kiosk" / "static" / "touch.css").read_text()
    assert "size: A4" in css and "@media print" in css


# ------------------------------------------------------------------ links never leave the kiosk

def test_no_resident_page_links_off_the_kiosk(client, conn):
    seen, queue = set(), ["/", "/search", "/search?q=dbgs", "/attract", "/guides/1/sheet"]
    while queue and len(seen) < 400:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        if r.status_code != 200 or r.mimetype != "text/html":
            continue
        page = parse(r.get_data(as_text=True))
        for href in page.hrefs + page.actions:
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc, f"{url} links off the kiosk: {href}"
            if href.startswith("/") and not href.startswith("/qr."):
                queue.append(href.split("#")[0])
        for href in page.online:     # kiosk.js/touch.js turn these into QR codes on the kiosk
            assert urlsplit(href).scheme == "https", f"{url}: {href}"
        assert 'target="_blank"' not in r.get_data(as_text=True)
    assert len(seen) > 50


def test_counts_are_buffered_so_the_page_cache_survives(data_dir):
    from content import db
    from kiosk import create_app, pagecache
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "USAGE_FLUSH_SECONDS": 3600,
                      "PAGE_CACHE_IN_TESTS": True})
    c = app.test_client()
    for _ in range(4):
        assert c.get("/guides/1").status_code == 200
    conn = db.connect(app.config["DATABASE"])
    assert usage.views(conn, "guide", 1) == 0              # not written yet: no commit ...
    assert pagecache.stats(app)["hits"] >= 2               # ... so cached pages keep serving
    app.extensions["touch_usage"].flush()
    assert usage.views(conn, "guide", 1) == 4              # every view counted, hits included
    conn.close()


def _buffered_app(data_dir):
    from kiosk import create_app
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True, "USAGE_FLUSH_SECONDS": 3600})


def test_a_malformed_search_costs_nobody_their_counts(data_dir):
    """/search?q=%00 used to fail the whole flush (SQLite's length() stops at NUL, so the
    CHECK refused the row) and every buffered view was thrown away with it."""
    from content import db
    app = _buffered_app(data_dir)
    c = app.test_client()
    for _ in range(3):
        assert c.get("/guides/1").status_code == 200
    r = c.get("/search?q=%00")
    assert r.status_code == 400 and "控制字符" in r.get_data(as_text=True)
    assert c.get("/search?q=%E4%BD%8E%E4%BF%9D%00").status_code == 400
    assert c.get("/search?q=zzzz-nothing").status_code == 200        # a real empty search
    app.extensions["touch_usage"].flush()
    conn = db.connect(app.config["DATABASE"])
    assert usage.views(conn, "guide", 1) == 3
    assert dict(usage.top_misses(conn, usage.date.today())).get("zzzz-nothing") == 1
    conn.close()


def test_an_entry_the_database_refuses_is_dropped_alone(data_dir, monkeypatch):
    from datetime import date

    from content import db
    from kiosk.touch import UsageBuffer
    app = _buffered_app(data_dir)
    buf = UsageBuffer(app.config["DATABASE"], 3600)
    day = date.today()
    buf.view(day, "guide", 1)
    buf.view(day, "guide", 1)
    buf.misses[(day, "\x00")] += 1           # slipped past every check: refused by the CHECK
    buf.miss(day, "找不到的东西")
    buf.flush()
    conn = db.connect(app.config["DATABASE"])
    assert usage.views(conn, "guide", 1) == 2
    assert dict(usage.top_misses(conn, day)) == {"找不到的东西": 1}
    conn.close()


def test_counts_wait_for_the_next_flush_when_the_database_cannot_be_written(data_dir, monkeypatch):
    import sqlite3
    from datetime import date

    from content import db
    from kiosk.touch import UsageBuffer
    app = _buffered_app(data_dir)
    buf = UsageBuffer(app.config["DATABASE"], 3600)
    day = date.today()
    for _ in range(5):
        buf.view(day, "guide", 1)
    real = usage.record_view

    def disk_full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(usage, "record_view", disk_full)
    buf.flush()
    conn = db.connect(app.config["DATABASE"])
    assert usage.views(conn, "guide", 1) == 0
    monkeypatch.setattr(usage, "record_view", real)
    buf.view(day, "guide", 1)
    buf.flush()
    assert usage.views(conn, "guide", 1) == 6
    conn.close()


def test_distinct_empty_search_texts_per_interval_are_capped(data_dir):
    from datetime import date

    from kiosk.touch import UsageBuffer
    buf = UsageBuffer(str(data_dir / "kiosk.sqlite3"), 3600)
    for n in range(UsageBuffer.MAX_MISS_KEYS + 50):
        buf.miss(date.today(), f"随便{n}")
    assert len(buf.misses) == UsageBuffer.MAX_MISS_KEYS


def test_every_advertised_example_finds_something_in_the_demo(client, conn):
    """The home tile's and the search page's examples and every 常用词 chip answer with results;
    dbgs without a "no exact match" note, and each snippet quoted from one field of prose (a
    notice's body, a guide's summary…), not from the index's fields run together."""
    from content.search import READABLE
    from kiosk.touch import COMMON_WORDS
    for q in ("dbgs", "zdshbz", *COMMON_WORDS):
        html = client.get("/search?q=" + quote(q)).get_data(as_text=True)
        assert 'class="result-count"' in html and "没有找到" not in html, q
    tables = {"/notices/": "notice", "/guides/": "guide", "/items/": "item", "/village-items/": "village_item",
              "/policies/": "policy"}
    for q in ("dbgs", "低保", "补贴", "养老"):
        html = client.get("/search?q=" + quote(q)).get_data(as_text=True)
        assert q != "dbgs" or "loose-note" not in html
        cards = re.findall(r'<a class="card result-card[^"]*" href="(/[a-z-]+/)(\d+)">(.*?)</a>', html, re.S)
        assert cards, q
        for prefix, ref, card in cards:
            m = re.search(r'<span class="result-snippet">(.*?)</span>', card, re.S)
            if not m:
                continue
            text = re.sub(r"<[^>]+>", "", m.group(1)).replace("&amp;", "&").strip("…")
            table, columns = READABLE[tables[prefix]]
            row = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = ?", (int(ref),)).fetchone()
            prose = [" ".join((v or "").split()) for v in row]
            assert any(text in p for p in prose), (q, prefix + ref, text)
