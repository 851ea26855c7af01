"""Editing through revisions: the public version stays until approval, history, audit,
withdrawal, grids, attachments, handbooks, matters, review-by dates, import/export."""
from __future__ import annotations

import io
import json

from PIL import Image

from admin_util import login, user_row
from content import db, editing

VILLAGE, TOWN, COUNTY = "340499100201", "340499100000", "340499000000"


def _post(client, url, tok, **data):
    return client.post(url, data={"csrf_token": tok, **data})


def _published(conn, table, code):
    return conn.execute(f"SELECT * FROM {table} WHERE jurisdiction_code = ? AND status = 'published' "
                        "ORDER BY id LIMIT 1", (code,)).fetchone()


def _version(conn) -> int:
    return int(db.get_meta(conn, "content_version") or 0)


def test_published_item_stays_public_until_the_new_revision_is_approved(app, conn):
    item = _published(conn, "village_item", VILLAGE)
    old_title = item["title"]
    editor, kiosk = app.test_client(), app.test_client()
    tok = login(editor, "village-editor")
    form = editor.get(f"/admin/village-items/{item['id']}/edit").get_data(as_text=True)
    assert old_title in form
    version = _version(conn)
    r = _post(editor, f"/admin/village-items/{item['id']}/edit", tok, category=item["category"],
              title="新标题：2025年村级财务收支", content="修改后的内容", then="submit")
    assert r.status_code == 302
    row = conn.execute("SELECT * FROM village_item WHERE id = ?", (item["id"],)).fetchone()
    assert row["title"] == old_title and row["status"] == "published" and row["rev"] == item["rev"]
    page = kiosk.get(f"/village-items/{item['id']}").get_data(as_text=True)
    assert old_title in page and "新标题" not in page
    detail = editor.get(f"/admin/village-items/{item['id']}").get_data(as_text=True)
    assert "与当前公开版本的对比" in detail and "原来（公开中）" in detail and "修改后的内容" in detail
    assert _version(conn) == version

    editing.approve(conn, user_row(conn, "village-supervisor"), "village_item", item["id"])
    row = conn.execute("SELECT * FROM village_item WHERE id = ?", (item["id"],)).fetchone()
    assert row["title"] == "新标题：2025年村级财务收支" and row["rev"] > item["rev"]
    assert "新标题" in kiosk.get(f"/village-items/{item['id']}").get_data(as_text=True)
    assert _version(conn) == version + 1
    # Published history stays readable: the first revision still shows the old title.
    first = conn.execute("SELECT min(rev) FROM revision WHERE entity='village_item' AND entity_id=?",
                         (item["id"],)).fetchone()[0]
    old = editor.get(f"/admin/village-items/{item['id']}/rev/{first}").get_data(as_text=True)
    assert old_title in old


def test_every_save_is_a_revision_with_audit_before_and_after(conn):
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", {
        "jurisdiction_code": VILLAGE, "subject_code": VILLAGE, "title": "第一稿", "kind": "公示",
        "priority": "普通"})
    editing.save_draft(conn, editor, "notice", nid, {
        "jurisdiction_code": VILLAGE, "subject_code": VILLAGE, "title": "第二稿", "kind": "公示",
        "priority": "普通"})
    revs = conn.execute("SELECT rev, state, author_id FROM revision WHERE entity='notice' AND entity_id=? "
                        "ORDER BY rev", (nid,)).fetchall()
    assert [(r["rev"], r["state"]) for r in revs] == [(1, "superseded"), (2, "draft")]
    assert all(r["author_id"] == editor["id"] for r in revs)
    save = conn.execute("SELECT * FROM audit_log WHERE action='save' AND entity='notice' AND entity_id=?",
                        (str(nid),)).fetchone()
    assert save["username"] == "village-editor" and save["at"]
    assert json.loads(save["before"])["title"] == "第一稿" and json.loads(save["after"])["title"] == "第二稿"


def test_withdraw_keeps_the_row_and_discard_keeps_the_revision(app, conn):
    notice = _published(conn, "notice", VILLAGE)
    c = app.test_client()
    tok = login(c, "village-editor")
    assert app.test_client().get(f"/notices/{notice['id']}").status_code == 200
    version = _version(conn)
    assert _post(c, f"/admin/notices/{notice['id']}/withdraw", tok, reason="信息有误").status_code == 302
    row = conn.execute("SELECT * FROM notice WHERE id = ?", (notice["id"],)).fetchone()
    assert row["status"] == "withdrawn" and row["title"] == notice["title"]
    assert app.test_client().get(f"/notices/{notice['id']}").status_code == 404
    assert _version(conn) == version + 1
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", {"jurisdiction_code": VILLAGE, "subject_code": VILLAGE,
                                                  "title": "作废的草稿", "kind": "公示", "priority": "普通"})
    _post(c, f"/admin/notices/{nid}/discard", tok)
    assert conn.execute("SELECT state FROM revision WHERE entity='notice' AND entity_id=?",
                        (nid,)).fetchone()[0] == "discarded"
    assert conn.execute("SELECT status FROM notice WHERE id=?", (nid,)).fetchone()[0] == "withdrawn"


def test_notice_grid_drops_blank_rows_and_accepts_a_paste(app, conn):
    c = app.test_client()
    tok = login(c, "village-editor")
    grid = {"t-ncols": "4", "t-nrows": "4", "t-h-0": "户主姓名", "t-h-1": "面积（亩）", "t-h-2": "",
            "t-0-0": "张*三", "t-0-1": "5.2", "t-2-0": "李*四", "t-2-1": "3"}
    r = _post(c, "/admin/notices/new", tok, jurisdiction_code=VILLAGE, subject_code=VILLAGE, kind="公示",
              priority="普通", title="耕地地力保护补贴面积公示", **grid)
    nid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    data = editing.working(conn, editing.entity("notice"), nid)["data"]
    assert data["table_columns"] == ["户主姓名", "面积（亩）"]
    assert data["table_rows"] == [["张*三", "5.2"], ["李*四", "3"]]
    form = c.get(f"/admin/notices/{nid}/edit").get_data(as_text=True)
    assert 'name="t-1-1" value="3"' in form and 'name="t-4-0"' in form   # blank rows to add more
    _post(c, f"/admin/notices/{nid}/edit", tok, kind="公示", priority="普通", subject_code=VILLAGE,
          title="耕地地力保护补贴面积公示", **{"t-paste": "户主姓名\t面积（亩）\t金额\n王*五\t2\t220\n"})
    data = editing.working(conn, editing.entity("notice"), nid)["data"]
    assert data["table_columns"] == ["户主姓名", "面积（亩）", "金额"]
    assert data["table_rows"] == [["王*五", "2", "220"]]
    r = _post(c, f"/admin/notices/{nid}/edit", tok, kind="公示", priority="普通", subject_code=VILLAGE,
              title="", period_start="2025-03-10", period_end="2025-03-01")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "必填" in html and "不能早于" in html
    assert editing.working(conn, editing.entity("notice"), nid)["data"]["title"] == "耕地地力保护补贴面积公示"


def _png() -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (20, 20), "red")
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    img.save(buf, "PNG", exif=exif)
    return buf.getvalue()


def test_attachments_join_the_draft_and_go_public_on_approval(app, conn):
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", {"jurisdiction_code": VILLAGE, "subject_code": VILLAGE,
                                                  "title": "带附件的公示", "kind": "公示", "priority": "普通"})
    c = app.test_client()
    tok = login(c, "village-editor")
    r = c.post(f"/admin/notices/{nid}/attachments", data={
        "csrf_token": tok, "file": (io.BytesIO(b"MZ\x90\x00 not an image"), "photo.png")})
    assert r.status_code == 302
    assert "只能上传图片" in c.get(r.headers["Location"]).get_data(as_text=True)
    r = c.post(f"/admin/notices/{nid}/attachments", data={
        "csrf_token": tok, "file": (io.BytesIO(_png()), "现场照片.png")})
    data = editing.working(conn, editing.entity("notice"), nid)["data"]
    assert len(data["attachments"]) == 1 and data["attachments"][0]["mime"] == "image/png"
    sha = data["attachments"][0]["sha256"]
    assert conn.execute("SELECT count(*) FROM attachment WHERE notice_id=?", (nid,)).fetchone()[0] == 0
    got = c.get(f"/admin/notices/{nid}/attachments/{sha}")
    assert got.status_code == 200 and got.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Camera Maker" not in got.data
    editing.submit(conn, editor, "notice", nid)
    editing.approve(conn, user_row(conn, "village-supervisor"), "notice", nid, pictures_checked=True)
    rows = conn.execute("SELECT * FROM attachment WHERE notice_id=?", (nid,)).fetchall()
    assert [r["sha256"] for r in rows] == [sha]
    assert "现场照片.png" in app.test_client().get(f"/notices/{nid}").get_data(as_text=True)


def test_handbook_guides_and_matter_links(app, conn):
    admin = user_row(conn, "county-admin")
    c = app.test_client()
    tok = login(c, "county-admin")
    guides = [r[0] for r in conn.execute(
        "SELECT id FROM guide WHERE status='published' AND jurisdiction_code=? LIMIT 2", (COUNTY,))]
    r = _post(c, "/admin/handbooks/new", tok, jurisdiction_code=COUNTY, title="新生儿出生一件事",
              description="一次办好", guide_ids=[str(g) for g in guides])
    hid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    editing.submit(conn, admin, "handbook", hid)
    from admin_util import add_user
    add_user(conn, "county-checker", "county_reviewer", COUNTY)
    editing.approve(conn, user_row(conn, "county-checker"), "handbook", hid)
    assert [r[0] for r in conn.execute("SELECT guide_id FROM handbook_guide WHERE handbook_id=? ORDER BY sort",
                                       (hid,))] == guides
    assert "新生儿出生一件事" in app.test_client().get(f"/handbooks/{hid}").get_data(as_text=True)
    # Alignment: a village item is linked to a matter through its edit form.
    matter = conn.execute("SELECT id FROM matter WHERE status='published' LIMIT 1").fetchone()[0]
    e = app.test_client()
    etok = login(e, "village-editor")
    r = _post(e, "/admin/village-items/new", etok, jurisdiction_code=VILLAGE, category="惠农政策",
              title="耕地地力保护补贴发放", matter_id=str(matter))
    vid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    assert editing.working(conn, editing.entity("village_item"), vid)["data"]["matter_id"] == matter
    r = _post(e, "/admin/village-items/new", etok, jurisdiction_code=VILLAGE, category="惠农政策",
              title="x", matter_id="999999")
    assert r.status_code == 400 and "请从列表中选择" in r.get_data(as_text=True)


def test_items_past_review_date_are_listed_for_their_editors(app, conn):
    item = _published(conn, "village_item", VILLAGE)
    conn.execute("UPDATE village_item SET review_by = '2000-01-01' WHERE id = ?", (item["id"],))
    town_item = _published(conn, "catalogue_item", TOWN)
    conn.execute("UPDATE catalogue_item SET review_by = '2000-01-02' WHERE id = ?", (town_item["id"],))
    c = app.test_client()
    login(c, "village-editor")
    html = c.get("/admin/").get_data(as_text=True)
    assert "已到评估日期（1）" in html and "2000-01-01" in html and "2000-01-02" not in html
    t = app.test_client()
    login(t, "township-editor")
    html = t.get("/admin/").get_data(as_text=True)
    assert "2000-01-02" in html and "2000-01-01" not in html


def test_audit_log_filters(app, conn):
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", {"jurisdiction_code": VILLAGE, "subject_code": VILLAGE,
                                                  "title": "审计测试", "kind": "公示", "priority": "普通"})
    editing.submit(conn, editor, "notice", nid)
    c = app.test_client()
    login(c, "county-admin")
    html = c.get("/admin/audit?username=village-editor&action=submit").get_data(as_text=True)
    assert f"公示公告 {nid}" in html and "登录" not in html.split("<tbody>")[1]
    html = c.get(f"/admin/audit?entity=notices&entity_id={nid}").get_data(as_text=True)
    assert html.count("<tr><td>20") == 2      # create and submit
    html = c.get("/admin/audit?action=login").get_data(as_text=True)
    assert "county-admin" in html
    html = c.get("/admin/audit?since=2000-01-01&until=2000-01-02").get_data(as_text=True)
    assert "没有符合条件的记录" in html


def test_import_page_makes_drafts_and_refuses_bad_files(app, conn):
    c = app.test_client()
    tok = login(c, "township-editor")
    before = conn.execute("SELECT count(*) FROM catalogue_item").fetchone()[0]
    header = "序号,领域,一级事项,二级事项,公开内容(要素),公开依据,公开时限,公开主体,公开渠道和载体,公开对象,公开方式,公开层级\n"
    good = header + "1,社会救助,临时救助,审批结果,救助对象、救助金额,《社会救助暂行办法》,信息形成或者变更之日起20个工作日内,东湖镇人民政府,政府网站,全社会,主动,乡级\n"
    r = c.post("/admin/import", data={"csrf_token": tok, "jurisdiction": TOWN,
                                      "file": (io.BytesIO(good.encode("utf-8-sig")), "目录.csv")})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "导入完成" in html, html[:2000]
    new = conn.execute("SELECT * FROM catalogue_item WHERE level1 = '临时救助' AND level2 = '审批结果' "
                       "AND jurisdiction_code = ?", (TOWN,)).fetchone()
    assert new["status"] == "draft"
    assert _post(c, "/admin/import/submit", tok, item=str(new["id"])).status_code == 302
    assert conn.execute("SELECT status FROM catalogue_item WHERE id=?", (new["id"],)).fetchone()[0] == "submitted"
    count = conn.execute("SELECT count(*) FROM catalogue_item").fetchone()[0]
    assert count == before + 1
    bad = header + "1,社会救助,临时救助,新,内容,依据,20个工作日内,主体,政府网站,全社会,主动,乡级\n2,不存在的领域,,,,,,,,,,\n"
    r = c.post("/admin/import", data={"csrf_token": tok, "jurisdiction": TOWN,
                                      "file": (io.BytesIO(bad.encode("gb18030")), "坏.csv")})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "没有写入任何内容" in html and "第3行" in html
    assert conn.execute("SELECT count(*) FROM catalogue_item").fetchone()[0] == count
    r = c.get(f"/admin/export?jurisdiction={TOWN}&format=csv")
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf") and "最低生活保障" in r.data.decode("utf-8-sig")
    assert c.get(f"/admin/export?jurisdiction={TOWN}&format=xlsx").data[:2] == b"PK"
