"""Resident screens through the test client: full pages, htmx fragments, 404s, bad input."""
import re

import pytest


def _ids(conn, sql):
    return [r[0] for r in conn.execute(sql)]


@pytest.fixture
def routes(conn):
    """One concrete URL for every resident screen, taken from the demo data."""
    item = _ids(conn, "SELECT id FROM catalogue_item WHERE status='published' LIMIT 1")[0]
    vitem = _ids(conn, "SELECT id FROM village_item WHERE status='published' LIMIT 1")[0]
    village = _ids(conn, "SELECT code FROM jurisdiction WHERE level='village' LIMIT 1")[0]
    township = _ids(conn, "SELECT code FROM jurisdiction WHERE level='township' LIMIT 1")[0]
    matter = _ids(conn, "SELECT id FROM matter LIMIT 1")[0]
    guide = _ids(conn, "SELECT id FROM guide WHERE status='published' LIMIT 1")[0]
    handbook = _ids(conn, "SELECT id FROM handbook WHERE status='published' LIMIT 1")[0]
    notice = _ids(conn, "SELECT id FROM notice WHERE status='published' "
                        "AND substr(published_at,1,10) <= date('now') LIMIT 1")[0]
    return ["/", "/domains", "/domains/1", f"/items/{item}", "/villages",
            f"/villages?township={township}", f"/villages/{village}", f"/village-items/{vitem}",
            "/matters", f"/matters/{matter}", f"/matters/{matter}/{village}", "/guides",
            f"/guides/{guide}", f"/handbooks/{handbook}", "/notices", "/notices?past=1",
            f"/notices?township={township}", f"/notices?village={village}&past=1",
            f"/notices/{notice}"]


def test_every_screen_renders_as_a_full_page(client, routes):
    for url in routes:
        r = client.get(url, follow_redirects=True)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        assert "<html" in html and 'id="main"' in html, url
        assert "示例数据" in html, url


def test_every_screen_renders_as_an_htmx_fragment(client, routes):
    for url in routes:
        r = client.get(url, headers={"HX-Request": "true"}, follow_redirects=True)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        assert "<html" not in html and "<title>" in html, url
        assert "HX-Request" in r.headers.get("Vary", ""), url


def test_history_restore_gets_the_full_page(client):
    r = client.get("/domains", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in r.get_data(as_text=True)


def test_domains_lists_all_26_pilot_domains(client, conn):
    html = client.get("/domains").get_data(as_text=True)
    names = _ids(conn, "SELECT name FROM domain WHERE pilot = 1")
    assert len(names) == 26
    for name in names:
        assert name in html


def test_item_detail_shows_every_standard_column(client, conn):
    item = conn.execute("SELECT * FROM catalogue_item WHERE status='published' LIMIT 1").fetchone()
    html = client.get(f"/items/{item['id']}").get_data(as_text=True)
    for label in ("一级事项", "二级事项", "公开内容（要素）", "公开依据", "公开时限", "公开主体",
                  "公开渠道和载体", "公开对象", "公开方式", "公开层级"):
        assert label in html
    assert item["level1"] in html and item["time_limit_text"] in html
    assert "■" in html and "□" in html


def test_village_list_covers_the_ten_focus_areas(client, conn):
    from content.catalogue import VILLAGE_CATEGORIES
    village = _ids(conn, "SELECT jurisdiction_code FROM village_item LIMIT 1")[0]
    html = client.get(f"/villages/{village}").get_data(as_text=True)
    for category in VILLAGE_CATEGORIES:
        assert category in html


def test_township_choice_swaps_only_the_village_list(client, conn):
    township = _ids(conn, "SELECT code FROM jurisdiction WHERE level='township' LIMIT 1")[0]
    villages = _ids(conn, f"SELECT name FROM jurisdiction WHERE parent_code='{township}'")
    r = client.get(f"/villages?township={township}",
                   headers={"HX-Request": "true", "HX-Target": "village-choices"})
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="village-choices"')
    for name in villages:
        assert name in html


def test_inconsistent_matter_shows_badge_and_highlight(client, conn):
    """Some demo matter is 不一致 for some village, and the view marks the differing cell."""
    from datetime import date

    from content import matters
    found = None
    for m in matters.list_matters(conn):
        for v in _ids(conn, "SELECT code FROM jurisdiction WHERE level='village'"):
            r = matters.align_for_village(conn, m, v, date.today())
            if r.status == "不一致" and r.row_diffs:
                found = (m, v, r)
                break
        if found:
            break
    assert found, "the demo must contain an inconsistent matter"
    m, v, result = found
    html = client.get(f"/matters/{m['id']}/{v}").get_data(as_text=True)
    assert 'class="badge badge-bad">不一致' in html
    assert 'class="diff"' in html
    diff = result.row_diffs[0]
    assert diff.label in html


def test_missing_side_is_reported(client, conn):
    from datetime import date

    from content import matters
    statuses = []
    for m in matters.list_matters(conn):
        for v in _ids(conn, "SELECT code FROM jurisdiction WHERE level='village'"):
            r = matters.align_for_village(conn, m, v, date.today())
            if r.status == "缺失":
                html = client.get(f"/matters/{m['id']}/{v}").get_data(as_text=True)
                assert "尚未公开此事项" in html
                statuses.append(r.status)
    assert statuses


@pytest.mark.parametrize("url", [
    "/nope", "/items/999999", "/items/99999999999999999999999999", "/domains/0",
    "/villages/999999999999", "/villages/340499", "/matters/1/000000000000", "/guides/abc",
    "/notices/-1", "/village-items/99999999", "/handbooks/424242",
])
def test_unknown_pages_give_a_friendly_404(client, url):
    r = client.get(url)
    assert r.status_code == 404
    html = r.get_data(as_text=True)
    assert "页面未找到" in html and 'href="/"' in html


@pytest.mark.parametrize("url", [
    "/villages?township=%FF%FE", "/villages?township=%", "/notices?past=%E4%B8",
    "/?%00=%00", "/villages?township=" + "9" * 5000, "/domains?x=1&x=2&&&=",
    "/notices/%E4%B8%AD", "/items/%00",
])
def test_malformed_input_never_gives_a_5xx(client, url):
    assert client.get(url).status_code < 500


def test_future_notices_are_hidden(client, conn):
    row = conn.execute("SELECT id, title FROM notice WHERE status='published' "
                       "AND substr(published_at,1,10) > date('now','localtime') LIMIT 1").fetchone()
    assert row, "the demo must contain a future notice"
    assert client.get(f"/notices/{row['id']}").status_code == 404
    assert row["title"] not in client.get("/notices").get_data(as_text=True)


def test_expired_notices_move_to_past(client, conn):
    row = conn.execute("SELECT id, title FROM notice WHERE status='published' "
                       "AND period_end < date('now','localtime') LIMIT 1").fetchone()
    assert row
    assert row["title"] not in client.get("/notices").get_data(as_text=True)
    assert row["title"] in client.get("/notices?past=1").get_data(as_text=True)
    assert "已结束" in client.get(f"/notices/{row['id']}").get_data(as_text=True)


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    data = r.get_json()
    assert data["role"] == "standalone"
    assert data["content_version"] == 1
    assert data["last_sync"] is None
    assert data["status"] == "ok"


def test_crawl_finds_no_server_error(client):
    """Follow every internal link from home; nothing answers 5xx and all domains are reachable."""
    seen, queue, statuses, inconsistent = set(), ["/"], {}, []
    while queue and len(seen) < 2000:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        statuses[url] = r.status_code
        assert r.status_code < 500, url
        if r.status_code in (301, 302):
            queue.append(r.headers["Location"])
            continue
        html = r.get_data(as_text=True)
        if re.fullmatch(r"/matters/\d+/\d{12}", url) and 'badge-bad">不一致' in html:
            inconsistent.append(url)
        for href in re.findall(r'href="(/[^"#]*)"', html):
            if not href.startswith(("/static/", "/admin", "/display", "/sync")):
                queue.append(href.replace("&amp;", "&"))
    domain_pages = [u for u in seen if re.fullmatch(r"/domains/\d+", u)]
    assert len(domain_pages) == 26
    assert all(statuses[u] == 200 for u in domain_pages)
    assert inconsistent, "the crawl must reach at least one 不一致 matter"


# ------------------------------------------------------------------ every item leads somewhere

def _hrefs(html: str, prefix: str) -> set[str]:
    return set(re.findall(r'href="(' + re.escape(prefix) + r'\d+)"', html))


def test_every_dibao_catalogue_item_leads_to_the_guide(client, conn):
    """最低生活保障·办事指南 at the county and at each township leads to the 低保 guide; the
    审核信息 items lead to their notices, past ones included."""
    guide = conn.execute("SELECT id FROM guide WHERE title = '最低生活保障申请'").fetchone()[0]
    items = _ids(conn, "SELECT id FROM catalogue_item WHERE level1 = '最低生活保障' AND status = 'published'")
    assert len(items) >= 4
    for item in items:
        html = client.get(f"/items/{item}").get_data(as_text=True)
        assert f"/guides/{guide}" in _hrefs(html, "/guides/"), item
        assert len(_hrefs(html, "/items/")) >= 1, item        # the other items of 最低生活保障
        assert "往期公示" in html and "本事项正在公示" in html, item
    with_notices = _ids(conn, "SELECT DISTINCT item_id FROM notice WHERE item_id IS NOT NULL "
                              "AND status = 'published' AND substr(published_at,1,10) <= date('now')")
    for item in with_notices:
        html = client.get(f"/items/{item}").get_data(as_text=True)
        expected = {f"/notices/{n}" for n in _ids(conn, f"SELECT id FROM notice WHERE item_id = {item} "
                    "AND status = 'published' AND substr(published_at,1,10) <= date('now')")}
        assert expected <= _hrefs(html, "/notices/"), item     # live and past alike


def test_past_notices_of_an_item_are_grouped_by_month(client, conn):
    conn.execute("UPDATE notice SET period_end = '2020-03-31', expires_on = NULL, "
                 "published_at = '2020-03-02T01:00:00Z' WHERE id = (SELECT min(id) FROM notice "
                 "WHERE village_item_id IS NOT NULL AND status = 'published')")
    nid, vitem = conn.execute("SELECT id, village_item_id FROM notice WHERE published_at = "
                              "'2020-03-02T01:00:00Z'").fetchone()
    conn.commit()
    html = client.get(f"/village-items/{vitem}").get_data(as_text=True)
    past = html[html.index("往期公示"):]
    assert "2020年3月" in past and f'href="/notices/{nid}"' in past


def test_notices_filter_by_township_and_village(client, conn):
    town = conn.execute("SELECT code FROM jurisdiction WHERE level = 'township' ORDER BY code "
                        "LIMIT 1 OFFSET 1").fetchone()[0]
    villages = _ids(conn, f"SELECT code FROM jurisdiction WHERE parent_code = '{town}'")
    html = client.get(f"/notices?township={town}").get_data(as_text=True)
    shown = [int(h.rsplit("/", 1)[1]) for h in _hrefs(html, "/notices/")]
    subjects = {conn.execute("SELECT subject_code FROM notice WHERE id = ?", (n,)).fetchone()[0]
                for n in shown}
    assert shown and subjects <= {town, *villages}
    everything = _hrefs(client.get("/notices").get_data(as_text=True), "/notices/")
    assert len(everything) > len(shown)
    html = client.get(f"/notices?village={villages[0]}").get_data(as_text=True)
    for n in _hrefs(html, "/notices/"):
        assert conn.execute("SELECT subject_code FROM notice WHERE id = ?",
                            (int(n.rsplit("/", 1)[1]),)).fetchone()[0] == villages[0]
    # Unknown or wrong-level codes show everything rather than fail.
    assert client.get("/notices?village=999999999999").status_code == 200
    assert client.get(f"/notices?village={town}").status_code == 200


def test_a_village_terminal_home_shows_its_village_first(data_dir, conn):
    from kiosk import create_app
    village, name = conn.execute(
        "SELECT j.code, j.name FROM notice n JOIN jurisdiction j ON j.code = n.subject_code "
        "WHERE j.level = 'village' AND n.status = 'published' AND n.period_end >= date('now') "
        "AND substr(n.published_at, 1, 10) <= date('now') GROUP BY j.code ORDER BY count(*) DESC"
    ).fetchone()
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "SCOPE": village})
    html = app.test_client().get("/").get_data(as_text=True)
    assert "本村正在公示" in html and name in html
    ours = html[html.index("本村正在公示"):html.index("</section>", html.index("本村正在公示"))]
    for n in _hrefs(ours, "/notices/"):
        assert conn.execute("SELECT subject_code FROM notice WHERE id = ?",
                            (int(n.rsplit("/", 1)[1]),)).fetchone()[0] == village
    assert _hrefs(ours, "/notices/")
    # A county-wide instance has no such section.
    county = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    assert "本村正在公示" not in county.test_client().get("/").get_data(as_text=True)
