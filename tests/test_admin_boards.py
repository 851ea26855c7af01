"""Noticeboards (电子公示栏) in the admin: the editor's validation, revisions, review, audit, preview."""
from __future__ import annotations

import json
import re

import pytest

from admin_util import login, user_row
from content import board_settings, editing

VILLAGE, OTHER_VILLAGE, TOWN, COUNTY = "340499100201", "340499100202", "340499100000", "340499000000"
SLUG = "xinghuacun"          # the demo's board of 杏花村 (portrait, 12 s per slide)


def _calm(conn) -> None:
    """Without the demo's seasonal emergency a board shows its own settings (fallback, rotation)."""
    conn.execute("UPDATE notice SET status = 'withdrawn' WHERE priority = '紧急'")


def _board(conn, slug: str = SLUG):
    return conn.execute("SELECT * FROM board WHERE slug = ?", (slug,)).fetchone()


def _counts(conn) -> tuple:
    return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("board", "revision", "audit_log"))


def _form(tok: str, **changes) -> dict:
    form = {"csrf_token": tok, "jurisdiction_code": VILLAGE, "slug": "xinghua-square",
            "name": "杏花村广场公示屏", "location": "杏花村村民广场", "orientation": "landscape",
            "slide_seconds": "20", "poll_seconds": "30", "fallback_title": "暂无公示",
            "fallback_text": "", "sort": "3", "then": "view"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _edit_form(conn, tok: str, board_id: int, **changes) -> dict:
    """The edit form as the page fills it in for the board's current working data."""
    w = editing.working(conn, editing.entity("board"), board_id)
    d = w["data"]
    form = {"csrf_token": tok, "name": d["name"], "location": d["location"],
            "orientation": d["orientation"], "slide_seconds": str(d["slide_seconds"]),
            "poll_seconds": str(d["poll_seconds"]), "fallback_title": d["fallback_title"],
            "fallback_text": d["fallback_text"], "sort": str(d["sort"]), "then": "view",
            "levels": d["levels"], "domains": [str(x) for x in d["domains"]]}
    for i, win in enumerate(d["windows"]):
        form[f"w-start-{i}"], form[f"w-end-{i}"] = win["start"], win["end"]
    form.update(changes)
    return form


def _field_error(html: str, field: str) -> str:
    """The message shown next to one field of the edit form."""
    m = re.search(rf'<div class="field invalid">\s*<label for="f-{field}">.*?<small class="error">([^<]*)</small>',
                  html, re.S)
    return m.group(1) if m else ""


# --- validation: good and bad inputs, nothing written on refusal ----------------------------

BAD = [
    ({"slug": ""}, "slug", "必填"),
    ({"slug": "Xing Hua"}, "slug", "小写英文字母"),
    ({"slug": "-xinghua"}, "slug", "以字母或数字开头"),
    ({"slug": "x" * 65}, "slug", "64"),
    ({"slug": "杏花"}, "slug", "小写英文字母"),
    ({"slug": "static"}, "slug", "保留"),
    ({"slug": "emergency"}, "slug", "保留"),
    ({"slug": "preview"}, "slug", "保留"),
    ({"slug": SLUG}, "slug", "已被“杏花村村务公开栏”使用"),
    ({"name": ""}, "name", "必填"),
    ({"name": "长" * 61}, "name", "最多 60 个字"),
    ({"fallback_title": "  "}, "fallback_title", "必填"),
    ({"slide_seconds": "0"}, "slide_seconds", "5 到 600 秒"),
    ({"slide_seconds": "4.5"}, "slide_seconds", "5 到 600 秒"),
    ({"slide_seconds": "601"}, "slide_seconds", "5 到 600 秒"),
    ({"slide_seconds": "十五"}, "slide_seconds", "请填写数字"),
    ({"slide_seconds": "inf"}, "slide_seconds", "请填写数字"),
    ({"slide_seconds": "nan"}, "slide_seconds", "请填写数字"),
    ({"slide_seconds": ""}, "slide_seconds", "必填"),
    ({"poll_seconds": "1"}, "poll_seconds", "10 到 3600 秒"),
    ({"poll_seconds": "3601"}, "poll_seconds", "10 到 3600 秒"),
    ({"orientation": "sideways"}, "orientation", "请从列表中选择"),
    ({"jurisdiction_code": OTHER_VILLAGE}, "jurisdiction_code", "请从列表中选择"),
    ({"jurisdiction_code": TOWN}, "jurisdiction_code", "请从列表中选择"),
    ({"w-start-0": "25:00", "w-end-0": "06:00"}, "windows", "00:00 到 23:59"),
    ({"w-start-0": "07:00", "w-end-0": "07:00"}, "windows", "不能相同"),
    ({"w-start-0": "00:00", "w-end-0": "24:00"}, "windows", "全天显示请不填时段"),
    ({"w-start-0": "07:00"}, "windows", "同时填写开始和结束"),
    ({"w-start-0": "7点", "w-end-0": "18:00"}, "windows", "时:分"),
    ({"w-start-0": "24:00", "w-end-0": "06:00"}, "windows", "00:00 到 23:59"),
    ({"w-start-1": "08:00", "w-end-1": "07:60"}, "windows", "第1个时段"),
    ({"sort": "第一"}, "sort", "请填写数字"),
]


@pytest.mark.parametrize("changes,field,message", BAD, ids=[f"{f}-{i}" for i, (_c, f, _m) in enumerate(BAD)])
def test_bad_settings_are_refused_next_to_the_field_and_nothing_is_written(app, conn, changes, field, message):
    c = app.test_client()
    tok = login(c, "village-editor")
    before = _counts(conn)
    r = c.post("/admin/boards/new", data=_form(tok, **changes))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message in _field_error(html, field), (field, _field_error(html, field))
    assert "请修改标出的内容" in html
    assert _counts(conn) == before


GOOD = [
    ({}, {"slide_seconds": 20, "poll_seconds": 30, "windows": [], "levels": [], "domains": []}),
    ({"slug": "a", "slide_seconds": "5", "poll_seconds": "3600"}, {"slide_seconds": 5, "poll_seconds": 3600}),
    ({"slide_seconds": "7.5", "poll_seconds": "10"}, {"slide_seconds": 7.5, "poll_seconds": 10}),
    ({"slug": "x" * 64, "slide_seconds": "600"}, {"slug": "x" * 64, "slide_seconds": 600}),
    ({"w-start-0": "7:30", "w-end-0": "12:00", "w-start-2": "22:00", "w-end-2": "6:00"},
     {"windows": [{"start": "07:30", "end": "12:00"}, {"start": "22:00", "end": "06:00"}]}),
    ({"w-start-0": "18:00", "w-end-0": "24:00"}, {"windows": [{"start": "18:00", "end": "24:00"}]}),
    ({"w-start-0": "06：00", "w-end-0": "22：30"}, {"windows": [{"start": "06:00", "end": "22:30"}]}),
    ({"levels": ["village", "township"], "domains": ["2", "1"], "orientation": "portrait"},
     {"levels": ["township", "village"], "domains": [1, 2], "orientation": "portrait"}),
    ({"slug": "xinghua-2", "location": "", "fallback_text": "第一段\r\n第二段"},
     {"location": "", "fallback_text": "第一段\n第二段"}),
]


@pytest.mark.parametrize("changes,expected", GOOD)
def test_good_settings_make_a_draft_board(app, conn, changes, expected):
    c = app.test_client()
    tok = login(c, "village-editor")
    r = c.post("/admin/boards/new", data=_form(tok, **changes))
    assert r.status_code == 302, re.findall(r'class="error">([^<]*)', r.get_data(as_text=True))
    board_id = int(r.headers["Location"].rsplit("/", 1)[1])
    row = conn.execute("SELECT * FROM board WHERE id = ?", (board_id,)).fetchone()
    assert row["status"] == "draft" and row["jurisdiction_code"] == VILLAGE
    data = json.loads(conn.execute("SELECT data FROM revision WHERE entity = 'board' AND entity_id = ?",
                                   (board_id,)).fetchone()[0])
    for key, value in expected.items():
        assert data[key] == value, key
    # A draft board is nobody's screen yet.
    assert c.get(f"/display/{row['slug']}").status_code == 404


def test_bad_edit_of_a_published_board_writes_nothing(app, conn):
    c = app.test_client()
    tok = login(c, "village-editor")
    board = _board(conn)
    before = (tuple(board), _counts(conn))
    for changes, field in (({"slide_seconds": "2"}, "slide_seconds"), ({"w-start-0": "9:00"}, "windows"),
                           ({"poll_seconds": "abc"}, "poll_seconds"), ({"name": ""}, "name")):
        r = c.post(f"/admin/boards/{board['id']}/edit", data=_edit_form(conn, tok, board["id"], **changes))
        assert r.status_code == 400 and _field_error(r.get_data(as_text=True), field), changes
    assert (tuple(_board(conn)), _counts(conn)) == before


def test_slug_and_jurisdiction_stay_as_created(app, conn):
    """The screens are pointed at /display/<slug>: a forged form cannot move or rename a board."""
    c = app.test_client()
    tok = login(c, "village-editor")
    board = _board(conn)
    r = c.post(f"/admin/boards/{board['id']}/edit",
               data=_edit_form(conn, tok, board["id"], slug="renamed", jurisdiction_code=OTHER_VILLAGE,
                               name="新名字"))
    assert r.status_code == 302
    w = editing.working(conn, editing.entity("board"), board["id"])
    assert w["data"]["slug"] == SLUG and w["data"]["jurisdiction_code"] == VILLAGE
    assert w["data"]["name"] == "新名字"
    editor = user_row(conn, "village-editor")
    with pytest.raises(editing.EditError, match="创建后不能修改"):
        editing.save_draft(conn, editor, "board", board["id"], dict(w["data"], slug="renamed"))


def test_editing_refuses_bad_settings_from_any_caller(conn):
    """content.editing checks board rules itself, so no revision can fail at approval."""
    editor = user_row(conn, "village-editor")
    board = _board(conn)
    data = editing.row_data(conn, editing.entity("board"), board)
    before = _counts(conn)
    for bad in ({"slide_seconds": 0}, {"poll_seconds": 99999}, {"windows": [{"start": "x", "end": "y"}]},
                {"levels": ["province"]}, {"domains": [999]}, {"orientation": "round"}):
        with pytest.raises(editing.Invalid) as e:
            editing.save_draft(conn, editor, "board", board["id"], dict(data, **bad))
        assert e.value.errors
    with pytest.raises(editing.Invalid):
        editing.create(conn, editor, "board", dict(data, slug="static"))
    assert _counts(conn) == before


def test_windows_rules():
    assert board_settings.check_windows([{"start": "22:00", "end": "06:00"}]) == [{"start": "22:00", "end": "06:00"}]
    assert board_settings.describe_windows([{"start": "22:00", "end": "06:00"}]) == "22:00–次日06:00"
    assert board_settings.describe_windows([]) == "全天"
    with pytest.raises(ValueError, match="最多 4 个"):
        board_settings.check_windows([{"start": f"0{i}:00", "end": f"0{i}:30"} for i in range(5)])


# --- revisions, review, audit ----------------------------------------------------------------

def test_board_change_goes_through_the_supervisor_and_the_screen_follows(app, conn):
    _calm(conn)
    board = _board(conn)
    bid = board["id"]
    editor, supervisor = app.test_client(), app.test_client()
    etok = login(editor, "village-editor")
    stok = login(supervisor, "village-supervisor")
    screen = app.test_client()
    assert 'data-slide-ms="12000"' in screen.get(f"/display/{SLUG}").get_data(as_text=True)
    version = _content_version(conn)

    r = editor.post(f"/admin/boards/{bid}/edit",
                    data=_edit_form(conn, etok, bid, slide_seconds="25", fallback_title="本村暂无公示事项",
                                    then="submit"))
    assert r.status_code == 302
    # In review: the published board keeps its last published settings everywhere.
    assert tuple(_board(conn)) == tuple(board)
    page = screen.get(f"/display/{SLUG}").get_data(as_text=True)
    assert 'data-slide-ms="12000"' in page and "本村暂无公示事项" not in page
    assert _content_version(conn) == version
    # The editor cannot approve their own change; the supervisor sees it in the queue.
    assert editor.post(f"/admin/boards/{bid}/approve", data={"csrf_token": etok}).status_code == 403
    assert f"/admin/boards/{bid}" in supervisor.get("/admin/review").get_data(as_text=True)
    detail = supervisor.get(f"/admin/boards/{bid}").get_data(as_text=True)
    assert "审核通过并发布" in detail and "已修改" in detail

    r = supervisor.post(f"/admin/boards/{bid}/approve", data={"csrf_token": stok})
    assert r.status_code == 302
    row = _board(conn)
    assert row["slide_seconds"] == 25 and row["fallback_title"] == "本村暂无公示事项"
    assert row["status"] == "published" and row["rev"] > board["rev"]
    assert _content_version(conn) == version + 1
    page = screen.get(f"/display/{SLUG}").get_data(as_text=True)
    assert 'data-slide-ms="25000"' in page

    # Every step is audited with who, before and after.
    log = {r["action"]: r for r in conn.execute(
        "SELECT * FROM audit_log WHERE entity = 'board' AND entity_id = ? ORDER BY id", (str(bid),))}
    assert set(log) >= {"save", "submit", "approve"}
    assert log["save"]["username"] == "village-editor"
    assert json.loads(log["save"]["before"])["slide_seconds"] == 12
    assert json.loads(log["save"]["after"])["slide_seconds"] == 25
    assert log["approve"]["username"] == "village-supervisor"
    assert json.loads(log["approve"]["before"])["fallback_title"] == board["fallback_title"]
    assert json.loads(log["approve"]["after"])["fallback_title"] == "本村暂无公示事项"
    audit_page = editor.get("/admin/audit?entity=boards").get_data(as_text=True)
    assert "审核通过并发布" in audit_page
    states = [r["state"] for r in conn.execute(
        "SELECT state FROM revision WHERE entity = 'board' AND entity_id = ? ORDER BY rev", (bid,))]
    assert states[-1] == "published"


def _content_version(conn) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = 'content_version'").fetchone()[0])


def test_returned_board_goes_back_to_its_editor(app, conn):
    board = _board(conn)
    editor, supervisor = user_row(conn, "village-editor"), user_row(conn, "village-supervisor")
    data = editing.row_data(conn, editing.entity("board"), board)
    editing.save_draft(conn, editor, "board", board["id"], dict(data, poll_seconds=60))
    editing.submit(conn, editor, "board", board["id"])
    with pytest.raises(editing.EditError, match="理由"):
        editing.return_for_changes(conn, supervisor, "board", board["id"], "")
    editing.return_for_changes(conn, supervisor, "board", board["id"], "更新太慢")
    assert editing.working(conn, editing.entity("board"), board["id"])["state"] == "returned"
    assert tuple(_board(conn)) == tuple(board)


def test_new_board_appears_only_after_review(app, conn):
    c, s = app.test_client(), app.test_client()
    tok = login(c, "village-editor")
    stok = login(s, "village-supervisor")
    r = c.post("/admin/boards/new", data=_form(tok, slug="xinghua-hall", then="submit"))
    bid = int(r.headers["Location"].rsplit("/", 1)[1])
    assert c.get("/display/xinghua-hall").status_code == 404
    assert "xinghua-hall" not in c.get("/display/").get_data(as_text=True)
    assert s.post(f"/admin/boards/{bid}/approve", data={"csrf_token": stok}).status_code == 302
    assert c.get("/display/xinghua-hall").status_code == 200


def test_withdrawn_board_leaves_the_screens_but_stays_in_the_admin(app, conn):
    c = app.test_client()
    tok = login(c, "village-editor")
    board = _board(conn)
    r = c.post(f"/admin/boards/{board['id']}/withdraw", data={"csrf_token": tok, "reason": "屏幕拆除"})
    assert r.status_code == 302
    assert _board(conn)["status"] == "withdrawn"
    assert c.get(f"/display/{SLUG}").status_code == 404
    assert c.get(f"/display/{SLUG}/slides").status_code == 286       # a running screen stops polling
    assert c.get(f"/admin/boards/{board['id']}").status_code == 200
    assert conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'board' AND action = 'withdraw'"
                        ).fetchone()[0] == 1
    # There is no delete: the only ways out are withdrawal and discarding a draft.
    assert not [r for r in app.url_map.iter_rules() if "board" in r.rule and "DELETE" in r.methods]


def test_county_admin_changes_need_another_reviewer(app, conn):
    """A county administrator may edit a village board; its supervisor, not the admin, approves."""
    board = _board(conn)
    admin, supervisor = user_row(conn, "county-admin"), user_row(conn, "village-supervisor")
    data = editing.row_data(conn, editing.entity("board"), board)
    editing.save_draft(conn, admin, "board", board["id"], dict(data, sort=9))
    editing.submit(conn, admin, "board", board["id"])
    with pytest.raises(editing.Denied):
        editing.approve(conn, admin, "board", board["id"])
    editing.approve(conn, supervisor, "board", board["id"])
    assert _board(conn)["sort"] == 9


# --- pages: list, editor, links, preview, navigation -----------------------------------------

def test_list_shows_only_boards_in_reach(app, conn):
    c = app.test_client()
    login(c, "village-editor")
    html = c.get("/admin/boards/").get_data(as_text=True)
    assert "xinghuacun" in html and "county-hall" not in html and "qiaotoucun" not in html
    assert c.get("/admin/boards").status_code == 308
    t = app.test_client()
    login(t, "township-editor")
    html = t.get("/admin/boards/").get_data(as_text=True)
    assert "county-hall" not in html and "xinghuacun" not in html    # villages keep their own lists
    a = app.test_client()
    login(a, "county-admin")
    html = a.get("/admin/boards/").get_data(as_text=True)
    assert all(slug in html for slug in ("county-hall", "xinghuacun", "qiaotoucun"))


def test_editor_page_offers_the_fields_and_only_reachable_jurisdictions(app, conn):
    c = app.test_client()
    login(c, "township-editor")
    html = c.get("/admin/boards/new").get_data(as_text=True)
    for name in ("slug", "name", "location", "orientation", "levels", "domains", "slide_seconds",
                 "poll_seconds", "w-start-0", "w-end-3", "fallback_title", "fallback_text", "sort"):
        assert f'name="{name}"' in html, name
    options = re.findall(r'<option value="(\d{12})"', html.split('id="f-jurisdiction_code"')[1].split("</select>")[0])
    assert options == [TOWN]


def test_detail_links_to_the_screen_and_the_preview(app, conn):
    _calm(conn)
    c = app.test_client()
    tok = login(c, "village-editor")
    bid = _board(conn)["id"]
    c.post(f"/admin/boards/{bid}/edit", data=_edit_form(conn, tok, bid, slide_seconds="40",
                                                        fallback_title="预览中的新标题"))
    html = c.get(f"/admin/boards/{bid}").get_data(as_text=True)
    assert f'href="/display/{SLUG}"' in html and f'href="/admin/boards/{bid}/preview"' in html
    assert "修改审核通过前，屏幕上仍按当前公开的设置显示" in html
    # The preview shows the draft; the screen the published settings.
    preview = c.get(f"/admin/boards/{bid}/preview")
    assert preview.status_code == 200 and "no-store" in preview.headers["Cache-Control"]
    text = preview.get_data(as_text=True)
    assert 'data-slide-ms="40000"' in text and "预览 · 未发布" in text
    assert f'hx-get="/admin/boards/{bid}/preview/slides?v=' in text
    version = re.search(r'data-version="([0-9a-f]+)"', text).group(1)
    assert c.get(f"/admin/boards/{bid}/preview/slides?v={version}").status_code == 204
    assert "预览中的新标题" not in c.get(f"/display/{SLUG}").get_data(as_text=True)
    # Not for the public.
    anon = app.test_client().get(f"/admin/boards/{bid}/preview")
    assert anon.status_code == 302 and "/admin/login" in anon.headers["Location"]


def test_navigation_links(app, conn):
    for user, boards, urgent in (("village-editor", True, False), ("village-supervisor", True, False),
                                 ("township-editor", True, True), ("county-admin", True, True)):
        c = app.test_client()
        login(c, user)
        nav = c.get("/admin/").get_data(as_text=True).split('aria-label="后台导航"')[1].split("</nav>")[0]
        assert ('href="/admin/boards/"' in nav) == boards, user
        assert ('href="/admin/emergency"' in nav) == urgent, user


def test_privacy_guard_covers_board_texts_and_masking_keeps_the_slug(conn):
    board = _board(conn)
    editor = user_row(conn, "village-editor")
    data = editing.row_data(conn, editing.entity("board"), board)
    editing.save_draft(conn, editor, "board", board["id"], dict(data, fallback_text="有事请找村主任 13812345678"))
    with pytest.raises(editing.PrivacyBlocked):
        editing.submit(conn, editor, "board", board["id"])
    editing.mask(conn, editor, "board", board["id"])
    w = editing.working(conn, editing.entity("board"), board["id"])
    assert "138****5678" in w["data"]["fallback_text"] and w["data"]["slug"] == SLUG
    editing.submit(conn, editor, "board", board["id"])
