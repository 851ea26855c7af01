"""Noticeboards through the test client: list, board page, cheap polls, emergencies, 404s."""
import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from PIL import Image

from content import boards


def _version(html: str) -> str:
    return re.search(r'data-version="([0-9a-f]+)"', html).group(1)


def _slide_titles(html: str) -> list[str]:
    return re.findall(r'<h1 class="slide-title">([^<]+)', html)


def _wire_size(resp) -> int:
    """Bytes of the status line, headers and body as they go out over HTTP/1.1."""
    head = f"HTTP/1.1 {resp.status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in resp.headers.items())
    return len((head + "\r\n").encode()) + len(resp.get_data())


@pytest.fixture
def calm(conn):
    """The demo without its (seasonal) emergency, so boards rotate their ordinary notices."""
    conn.execute("UPDATE notice SET status = 'withdrawn' WHERE priority = '紧急'")
    return conn


def test_board_list_shows_every_demo_board(client, conn):
    html = client.get("/display/").get_data(as_text=True)
    rows = conn.execute("SELECT slug, name, orientation FROM board WHERE status='published'").fetchall()
    villages = conn.execute("SELECT count(*) FROM jurisdiction WHERE level='village'").fetchone()[0]
    assert len(rows) == villages + 1
    assert {r["orientation"] for r in rows} == {"landscape", "portrait"}
    for r in rows:
        assert r["name"] in html and f'href="/display/{r["slug"]}"' in html
    assert "示例数据" in html
    # the list is a kiosk page; the board links leave the boosted kiosk for a full page
    assert 'hx-boost="false"' in html


def test_board_page_is_a_full_screen_noticeboard(client, calm):
    r = client.get("/display/county-hall")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'class="board-landscape"' in html and "data-clock-time" in html
    assert 'id="deck"' in html and 'hx-trigger="board-poll"' in html
    assert html.count('<section class="slide') >= 10
    assert "/qr.svg?url=" in html and "公示期" in html and "还剩" in html and 'class="period-bar"' in html
    assert "发布单位" in html and "示例数据" in html
    assert "style=" not in html and "<script>" not in html      # CSP: no inline style or script
    portrait = client.get("/display/xinghuacun").get_data(as_text=True)
    assert 'class="board-portrait"' in portrait


def test_a_board_over_many_notices_rotates_the_newest_and_points_to_the_rest(client, calm, monkeypatch):
    from display import schedule
    full = client.get("/display/county-hall").get_data(as_text=True)
    assert "另有" not in full
    shown = len(_slide_titles(full))
    monkeypatch.setattr(schedule, "MAX_NOTICES", 3)
    client.application.extensions.pop("display_decks", None)   # a code change: as on a restart
    html = client.get("/display/county-hall").get_data(as_text=True)
    more = re.search(r"另有 (\d+) 条公示公告正在公示", html)
    assert more and int(more.group(1)) > 0
    assert html.count('data-key="more"') == 1
    assert len({k for k in re.findall(r'data-key="(\d+)-\d+"', html)}) == 3   # three notices' slides
    assert shown > 3
    listing = client.get("/display/").get_data(as_text=True)
    assert re.search(r"正在轮播 3 条公示公告（\d+ 屏），另有 \d+ 条未轮播", listing)


def test_qr_code_leads_to_the_full_text(client, calm):
    import zxingcpp
    html = client.get("/display/county-hall").get_data(as_text=True)
    src = re.search(r'<img src="(/qr\.svg\?url=[^"]+)" alt="公示全文的二维码"', html).group(1)
    png = client.get(src.replace("/qr.svg", "/qr.png").replace("&amp;", "&"))
    assert png.status_code == 200
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))[0].text
    assert re.fullmatch(r"https?://\S+/notices/\d+|https?://\S+", decoded)
    notice_id = decoded.rsplit("/", 1)[-1]
    if notice_id.isdigit():
        assert client.get(f"/notices/{notice_id}").status_code == 200


def test_unchanged_poll_costs_under_200_bytes(client, calm):
    html = client.get("/display/county-hall").get_data(as_text=True)
    version = _version(html)
    r = client.get(f"/display/county-hall/slides?v={version}", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.get_data() == b""
    assert _wire_size(r) <= 200, r.headers
    # a plain conditional GET gets the same answer as a 304
    r = client.get("/display/county-hall/slides", headers={"If-None-Match": f'"{version}"'})
    assert r.status_code == 304 and _wire_size(r) <= 200


def test_changed_content_returns_only_the_new_deck(client, calm):
    version = _version(client.get("/display/xinghuacun").get_data(as_text=True))
    calm.execute("""UPDATE notice SET title = '杏花村新的公示标题（测试）', updated_at = 'x', rev = rev + 1
                    WHERE id = (SELECT id FROM notice WHERE status='published'
                                AND jurisdiction_code='340499100201' ORDER BY published_at DESC LIMIT 1)""")
    r = client.get(f"/display/xinghuacun/slides?v={version}", headers={"HX-Request": "true"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="deck"') and "<html" not in html
    assert "杏花村新的公示标题（测试）" in html
    assert _version(html) != version and r.headers["ETag"].strip('"') == _version(html)
    assert "no-store" in r.headers["Cache-Control"]


def test_a_notice_leaves_within_one_poll_after_its_period_ends(app, client, calm):
    row = calm.execute("""SELECT id, title, period_end FROM notice WHERE status='published'
                          AND jurisdiction_code='340499100201' AND period_end >= date('now')
                          AND (expires_on IS NULL OR expires_on >= period_end)
                          ORDER BY period_end LIMIT 1""").fetchone()
    assert row, "the demo village has a notice in its publicity period"
    end = date.fromisoformat(row["period_end"])
    app.config["NOW"] = datetime.combine(end, datetime.min.time()).replace(hour=23, minute=59).isoformat()
    html = client.get("/display/xinghuacun").get_data(as_text=True)
    assert row["title"] in _slide_titles(html)
    app.config["NOW"] = (datetime.combine(end + timedelta(days=1), datetime.min.time())
                         + timedelta(seconds=30)).isoformat()
    r = client.get(f"/display/xinghuacun/slides?v={_version(html)}", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert row["title"] not in _slide_titles(r.get_data(as_text=True))


def test_emergency_takes_over_boards_and_the_kiosk_home(client, conn):
    flood = conn.execute("SELECT * FROM notice WHERE priority='紧急' AND status='published'").fetchone()
    assert flood, "the demo has one 紧急 notice"
    for slug in ("county-hall", "xinghuacun", "liulincun"):
        html = client.get(f"/display/{slug}").get_data(as_text=True)
        assert "deck-emergency" in html and _slide_titles(html) == [flood["title"]]
    home = client.get("/").get_data(as_text=True)
    assert 'id="emergency-banner"' in home and flood["title"] in home
    banner_version = re.search(r'/display/emergency\?v=([0-9a-f]+)', home).group(1)
    r = client.get(f"/display/emergency?v={banner_version}", headers={"HX-Request": "true"})
    assert r.status_code == 204 and _wire_size(r) <= 200
    # when it ends: the banner poll answers 286 (htmx stops polling) and the boards rotate again
    conn.execute("UPDATE notice SET status='withdrawn' WHERE id = ?", (flood["id"],))
    r = client.get(f"/display/emergency?v={banner_version}", headers={"HX-Request": "true"})
    assert r.status_code == 286 and r.get_data() == b""
    assert 'id="emergency-banner"' not in client.get("/").get_data(as_text=True)
    assert "deck-notices" in client.get("/display/xinghuacun").get_data(as_text=True)


def test_village_emergency_stays_in_its_village(client, calm):
    calm.execute("""UPDATE notice SET priority='紧急' WHERE id = (SELECT id FROM notice
                    WHERE status='published' AND jurisdiction_code='340499100201'
                    AND subject_code='340499100201' AND substr(published_at,1,10) <= date('now')
                    AND (period_end IS NULL OR period_end >= date('now'))
                    AND (expires_on IS NULL OR expires_on >= date('now')) LIMIT 1)""")
    assert calm.total_changes
    assert "deck-emergency" in client.get("/display/xinghuacun").get_data(as_text=True)
    assert "deck-emergency" not in client.get("/display/qiaotoucun").get_data(as_text=True)
    assert "deck-emergency" not in client.get("/display/county-hall").get_data(as_text=True)


def test_fallback_and_resting(app, client, calm):
    calm.execute("UPDATE notice SET status='withdrawn' WHERE jurisdiction_code <> '340499000000'")
    calm.execute("UPDATE board SET levels='[\"village\"]', fallback_text='请到村委会查阅往期公示' "
                 "WHERE slug='baitacun'")
    html = client.get("/display/baitacun").get_data(as_text=True)
    assert "deck-fallback" in html and "暂无正在公示的内容" in html and "请到村委会查阅往期公示" in html
    calm.execute("UPDATE board SET windows='[{\"start\": \"22:00\", \"end\": \"06:00\"}]' WHERE slug='baitacun'")
    app.config["NOW"] = datetime.now().replace(hour=12, minute=0).isoformat()
    html = client.get("/display/baitacun").get_data(as_text=True)
    assert "deck-resting" in html and "22:00–06:00" in html
    app.config["NOW"] = datetime.now().replace(hour=23, minute=0).isoformat()
    assert "deck-fallback" in client.get("/display/baitacun").get_data(as_text=True)


def test_unknown_and_withdrawn_boards(client, conn):
    for url in ("/display/no-such-board", "/display/%E6%9D%91", "/display/x" * 30):
        r = client.get(url)
        assert r.status_code == 404 and "页面未找到" in r.get_data(as_text=True)
    assert client.get("/display/no-such-board/slides").status_code == 404
    conn.execute("UPDATE board SET status='withdrawn' WHERE slug='baitacun'")
    assert client.get("/display/baitacun").status_code == 404
    r = client.get("/display/baitacun/slides?v=abc", headers={"HX-Request": "true"})
    assert r.status_code == 286 and "已停用" in r.get_data(as_text=True)
    assert "baitacun" not in client.get("/display/").get_data(as_text=True)


def test_board_settings_are_checked_by_the_schema(conn):
    import sqlite3
    code = conn.execute("SELECT code FROM jurisdiction LIMIT 1").fetchone()[0]
    for slug, orientation, seconds in (("Bad Slug", "landscape", 10), ("ok", "sideways", 10),
                                       ("ok2", "portrait", 0), ("static", "portrait", 10)):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO board (slug, name, jurisdiction_code, orientation, slide_seconds) "
                         "VALUES (?, 'x', ?, ?, ?)", (slug, code, orientation, seconds))
    board = boards.get_board(conn, "xinghuacun")
    assert board["chain"][-1] == board["jurisdiction_code"] and board["chain"][0] == "340499000000"


def test_quiet_polls_reuse_the_deck_until_a_commit(client, calm, monkeypatch):
    """A board's 204 polls do not choose and render its notices again: the deck is kept until
    something commits (here an edit on another connection)."""
    calls = []
    real = boards.board_notices
    monkeypatch.setattr(boards, "board_notices", lambda *a: calls.append(a) or real(*a))
    html = client.get("/display/county-hall").get_data(as_text=True)
    version, shown = _version(html), _slide_titles(html)[0]
    for _ in range(3):
        r = client.get(f"/display/county-hall/slides?v={version}", headers={"HX-Request": "true"})
        assert r.status_code == 204
    assert len(calls) == 1
    calm.execute("UPDATE notice SET title = '县里刚改过的标题（测试）', rev = rev + 1 WHERE title = ?",
                 (shown,))
    r = client.get(f"/display/county-hall/slides?v={version}", headers={"HX-Request": "true"})
    assert r.status_code == 200 and len(calls) == 2
    assert "县里刚改过的标题（测试）" in r.get_data(as_text=True)


def test_a_scheduled_notice_comes_out_on_time_without_a_commit(app, client, calm):
    """A notice published for 14:30 appears at the first poll after 14:30, though nothing was
    committed between the two polls (the kept deck is good only until then)."""
    day = date.today()
    out = datetime.combine(day, datetime.min.time()).replace(hour=14, minute=30).astimezone()
    calm.execute("UPDATE notice SET title = '下午两点半发布的公示（测试）', published_at = ?, "
                 "period_start = NULL, period_end = NULL, expires_on = NULL WHERE id = "
                 "(SELECT id FROM notice WHERE status = 'published' AND jurisdiction_code = "
                 "'340499100201' ORDER BY id LIMIT 1)",
                 (out.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),))
    app.config["NOW"] = out.replace(hour=14, minute=29).isoformat()
    html = client.get("/display/xinghuacun").get_data(as_text=True)
    assert "下午两点半发布的公示（测试）" not in html
    app.config["NOW"] = out.replace(minute=31).isoformat()
    r = client.get(f"/display/xinghuacun/slides?v={_version(html)}", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "下午两点半发布的公示（测试）" in _slide_titles(r.get_data(as_text=True))


def test_board_says_when_an_upheld_objection_extended_or_restarted_the_period(client, calm):
    """content.resident_questions.change_period marks the notice; the slide says so in words."""
    rows = calm.execute("""SELECT id, title FROM notice WHERE status='published' AND kind = '公示'
                           AND jurisdiction_code='340499100201' AND period_start <= date('now')
                           AND period_end >= date('now') ORDER BY id LIMIT 2""").fetchall()
    assert len(rows) == 2
    calm.execute("UPDATE notice SET period_change = 'extended', period_end = date(period_end, '+7 days') "
                 "WHERE id = ?", (rows[0]["id"],))
    calm.execute("UPDATE notice SET period_change = 'restarted' WHERE id = ?", (rows[1]["id"],))
    html = client.get("/display/xinghuacun").get_data(as_text=True)
    slides = re.findall(r'<section class="slide.*?</section>', html, re.S) or [html]
    extended = next(s for s in slides if rows[0]["title"] in s)
    restarted = next(s for s in slides if rows[1]["title"] in s)
    assert "公示期已延长（异议成立）" in extended and "重新公示" not in extended
    assert "重新公示（异议成立）" in restarted
