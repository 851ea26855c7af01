"""Review before publication: who may approve what, returns with reasons, the privacy guard."""
from __future__ import annotations

import json

import pytest

from admin_util import PASSWORD, add_user, login, user_row
from content import editing, office_phones

VILLAGE, OTHER_VILLAGE, TOWN, COUNTY = "340499100201", "340499100202", "340499100000", "340499000000"
ID = "340421198001011237"   # made up, with a valid check digit


def _notice(code=VILLAGE, **extra) -> dict:
    return {"jurisdiction_code": code, "subject_code": code, "title": "三月村级财务收支公示",
            "kind": "公示", "priority": "普通", "body": "本月收支如下。", **extra}


def _post(client, url, tok, **data):
    return client.post(url, data={"csrf_token": tok, **data})


def _status(conn, table, oid):
    return conn.execute(f"SELECT status FROM {table} WHERE id = ?", (oid,)).fetchone()[0]


def _live_on_kiosk(client, nid) -> bool:
    return client.get(f"/notices/{nid}").status_code == 200


def test_village_notice_goes_through_the_supervisor(app, conn):
    editor, supervisor = app.test_client(), app.test_client()
    tok = login(editor, "village-editor")
    r = _post(editor, "/admin/notices/new", tok, jurisdiction_code=VILLAGE, subject_code=VILLAGE,
              kind="公示", priority="普通", title="杏花村三月财务公示", body="收入 12,000.50 元，日期 2025-03-31。",
              **{"t-ncols": "2", "t-nrows": "1", "t-h-0": "项目", "t-h-1": "金额", "t-0-0": "办公费", "t-0-1": "300"})
    assert r.status_code == 302
    nid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    assert _status(conn, "notice", nid) == "draft" and not _live_on_kiosk(editor, nid)
    # The editor cannot approve, whatever the form says.
    assert _post(editor, f"/admin/notices/{nid}/approve", tok).status_code == 403
    assert _post(editor, f"/admin/notices/{nid}/submit", tok).status_code == 302
    assert _status(conn, "notice", nid) == "submitted" and not _live_on_kiosk(editor, nid)

    stok = login(supervisor, "village-supervisor")
    assert "杏花村三月财务公示" in supervisor.get("/admin/review").get_data(as_text=True)
    assert _post(supervisor, f"/admin/notices/{nid}/approve", stok).status_code == 302
    assert _status(conn, "notice", nid) == "published"
    html = editor.get(f"/notices/{nid}").get_data(as_text=True)
    assert "杏花村三月财务公示" in html and "办公费" in html
    rev = conn.execute("SELECT * FROM revision WHERE entity='notice' AND entity_id=? AND state='published'",
                       (nid,)).fetchone()
    assert rev["reviewer_id"] == user_row(conn, "village-supervisor")["id"]
    actions = [r[0] for r in conn.execute(
        "SELECT action FROM audit_log WHERE entity='notice' AND entity_id=? ORDER BY id", (str(nid),))]
    assert actions == ["create", "submit", "approve"]


def test_supervisor_of_another_village_cannot_review(app, conn):
    add_user(conn, "qiaotou-supervisor", "village_supervisor", OTHER_VILLAGE)
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", _notice())
    editing.submit(conn, editor, "notice", nid)
    c = app.test_client()
    tok = login(c, "qiaotou-supervisor", PASSWORD)
    assert _post(c, f"/admin/notices/{nid}/approve", tok).status_code == 404
    assert _status(conn, "notice", nid) == "submitted"
    with pytest.raises(editing.Denied):
        editing.approve(conn, user_row(conn, "qiaotou-supervisor"), "notice", nid)


def test_nobody_approves_what_they_edited(app, conn):
    """A county admin may edit village content, but only the village supervisor approves it;
    a county admin who edited township content cannot approve it either."""
    admin = user_row(conn, "county-admin")
    nid = editing.create(conn, admin, "notice", _notice(code=TOWN))
    editing.submit(conn, admin, "notice", nid)
    with pytest.raises(editing.Denied):
        editing.approve(conn, admin, "notice", nid)
    c = app.test_client()
    tok = login(c, "county-admin")
    html = c.get(f"/admin/notices/{nid}").get_data(as_text=True)
    assert "须由其他审核人审核" in html and "审核通过并发布" not in html
    assert _post(c, f"/admin/notices/{nid}/approve", tok).status_code == 403
    # The township's own reviewer can.
    add_user(conn, "donghu-reviewer", "township_reviewer", TOWN)
    editing.approve(conn, user_row(conn, "donghu-reviewer"), "notice", nid)
    assert _status(conn, "notice", nid) == "published"


def test_township_content_reviewed_by_county_admin_or_township_reviewer(conn):
    editor = user_row(conn, "township-editor")
    nid = editing.create(conn, editor, "guide", {"jurisdiction_code": TOWN, "title": "东湖镇临时救助办事指南"})
    editing.submit(conn, editor, "guide", nid)
    with pytest.raises(editing.Denied):
        editing.approve(conn, editor, "guide", nid)
    with pytest.raises(editing.Denied):  # village supervisors review village content only
        editing.approve(conn, user_row(conn, "village-supervisor"), "guide", nid)
    editing.approve(conn, user_row(conn, "county-admin"), "guide", nid)
    assert _status(conn, "guide", nid) == "published"


def test_county_content_needs_a_county_reviewer(conn):
    admin = user_row(conn, "county-admin")
    add_user(conn, "county-checker", "county_reviewer", COUNTY)
    iid = editing.create(conn, admin, "catalogue_item", {
        "jurisdiction_code": COUNTY, "domain_id": 1, "level1": "新事项", "content_elements": "内容"})
    editing.submit(conn, admin, "catalogue_item", iid)
    with pytest.raises(editing.Denied):
        editing.approve(conn, admin, "catalogue_item", iid)
    editing.approve(conn, user_row(conn, "county-checker"), "catalogue_item", iid)
    assert _status(conn, "catalogue_item", iid) == "published"


def test_return_with_reason_then_resubmit(app, conn):
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", _notice())
    editing.submit(conn, editor, "notice", nid)
    c = app.test_client()
    tok = login(c, "village-supervisor")
    r = _post(c, f"/admin/notices/{nid}/return", tok, reason="")
    assert r.status_code == 302 and _status(conn, "notice", nid) == "submitted"   # a reason is required
    _post(c, f"/admin/notices/{nid}/return", tok, reason="金额合计与凭证不符，请核对")
    assert _status(conn, "notice", nid) == "draft"
    e = app.test_client()
    login(e, "village-editor")
    html = e.get("/admin/").get_data(as_text=True)
    assert "金额合计与凭证不符" in html
    assert e.get(f"/admin/notices/{nid}").status_code == 200
    editing.save_draft(conn, editor, "notice", nid, _notice(body="已核对。"))
    editing.submit(conn, editor, "notice", nid)
    editing.approve(conn, user_row(conn, "village-supervisor"), "notice", nid)
    assert _status(conn, "notice", nid) == "published"


def test_privacy_guard_refuses_then_masks(app, conn):
    editor = user_row(conn, "village-editor")
    data = _notice(body=f"联系人手机 13812345678，低保金 1,250.00 元，2025-03-01 起发放。",
                   table_columns=["户主姓名", "身份证号", "金额（元）"],
                   table_rows=[["张三丰", ID, "1250"], ["李四", "340421********1236", "980"]])
    nid = editing.create(conn, editor, "notice", data)
    with pytest.raises(editing.PrivacyBlocked) as info:
        editing.submit(conn, editor, "notice", nid)
    kinds = sorted(f.kind for f in info.value.findings)
    assert kinds == ["手机号", "身份证号"]
    c = app.test_client()
    tok = login(c, "village-editor")
    html = c.get(f"/admin/notices/{nid}").get_data(as_text=True)
    assert "表格第1行「身份证号」列" in html and "正文第1段" in html and "一键遮挡" in html
    assert _post(c, f"/admin/notices/{nid}/submit", tok).status_code == 302
    assert _status(conn, "notice", nid) == "draft"
    assert _post(c, f"/admin/notices/{nid}/mask", tok).status_code == 302
    w = editing.working(conn, editing.entity("notice"), nid)
    assert "138****5678" in w["data"]["body"] and "1,250.00" in w["data"]["body"]
    assert w["data"]["table_rows"][0][:2] == ["张*丰", "3404**********1237"]
    assert w["data"]["table_rows"][1][0] == "李*"
    editing.submit(conn, editor, "notice", nid)
    editing.approve(conn, user_row(conn, "village-supervisor"), "notice", nid)
    published = app.test_client().get(f"/notices/{nid}").get_data(as_text=True)
    assert ID not in published and "13812345678" not in published and "张*丰" in published


def test_privacy_guard_also_blocks_at_approval(conn):
    """A finding that slipped into a submitted revision (e.g. by import) still cannot be published."""
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", _notice())
    editing.submit(conn, editor, "notice", nid)
    conn.execute("UPDATE revision SET data = json_set(data, '$.body', ?) WHERE entity='notice' "
                 "AND entity_id=? AND state='submitted'", (f"身份证 {ID}", nid))
    with pytest.raises(editing.PrivacyBlocked):
        editing.approve(conn, user_row(conn, "village-supervisor"), "notice", nid)
    assert _status(conn, "notice", nid) == "submitted"


def test_privacy_guard_on_attachment_names_and_other_nouns(conn):
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", _notice(attachments=[
        {"name": f"{ID}.pdf", "sha256": "a" * 64, "mime": "application/pdf", "size": 10}]))
    with pytest.raises(editing.PrivacyBlocked) as info:
        editing.submit(conn, editor, "notice", nid)
    assert info.value.findings[0].where.startswith("附件名")
    vid = editing.create(conn, editor, "village_item", {
        "jurisdiction_code": VILLAGE, "category": "社会救助", "title": "救助对象",
        "content": "咨询 13912345678"})
    with pytest.raises(editing.PrivacyBlocked):
        editing.submit(conn, editor, "village_item", vid)
    # Ordinary numbers raise no alarm; a landline only once it is a marked office number
    # (here the township's, which its villages may publish).
    ok = editing.create(conn, editor, "village_item", {
        "jurisdiction_code": VILLAGE, "category": "村级财务", "title": "2025年一季度收支",
        "content": "收入 123456.78 元，支出 98,765 元，凭证号 20250331001，电话 0554-1234567。"})
    with pytest.raises(editing.PrivacyBlocked) as info:
        editing.submit(conn, editor, "village_item", ok)
    assert [f.kind for f in info.value.findings] == ["固定电话"]
    office_phones.add(conn, user_row(conn, "township-editor"), TOWN, "0554-1234567", "东湖镇财政所")
    editing.submit(conn, editor, "village_item", ok)


# Every noun: (author, reviewer, jurisdiction, minimal data, a text field the guard must read).
NOUNS = {
    "notice": ("village-editor", "village-supervisor", _notice(), "publisher"),
    "village_item": ("village-editor", "village-supervisor",
                     {"jurisdiction_code": VILLAGE, "category": "村级财务", "title": "收支"}, "responsible"),
    "consultation": ("village-editor", "village-supervisor",
                     {"jurisdiction_code": VILLAGE, "title": "村规民约修订", "opens_on": "2020-01-01",
                      "closes_on": "2020-01-31"}, "body"),
    "board": ("village-editor", "village-supervisor",
              {"jurisdiction_code": VILLAGE, "slug": "guard-board", "name": "公示栏", "orientation": "landscape",
               "slide_seconds": 15, "poll_seconds": 30, "fallback_title": "暂无", "levels": [], "domains": [],
               "windows": []}, "location"),
    "catalogue_item": ("township-editor", "county-admin",
                       {"jurisdiction_code": TOWN, "domain_id": 1, "level1": "事项", "content_elements": "内容"},
                       "publisher"),
    "guide": ("township-editor", "county-admin", {"jurisdiction_code": TOWN, "title": "指南"}, "office"),
    "handbook": ("township-editor", "county-admin", {"jurisdiction_code": TOWN, "title": "一本通"}, "description"),
    "matter": ("county-admin", "county-checker", {"key": "guard-matter", "title": "对照事项"}, "description"),
}


@pytest.mark.parametrize("noun", sorted(NOUNS))
def test_privacy_guard_on_submit_and_approve_for_every_noun(conn, noun):
    add_user(conn, "county-checker", "county_reviewer", COUNTY)
    author, reviewer, data, field = NOUNS[noun]
    editor = user_row(conn, author)
    leaky = dict(data, **{field: "联系\u3000138－1234－5678"})
    oid = editing.create(conn, editor, noun, leaky)
    with pytest.raises(editing.PrivacyBlocked):
        editing.submit(conn, editor, noun, oid)
    # Clean, submitted; then the submitted revision is changed behind the form's back.
    editing.save_draft(conn, editor, noun, oid, dict(data))
    editing.submit(conn, editor, noun, oid)
    conn.execute("UPDATE revision SET data = json_set(data, ?, ?) WHERE entity = ? AND entity_id = ? "
                 "AND state = 'submitted'", (f"$.{field}", f"ID{ID}", noun, oid))
    with pytest.raises(editing.PrivacyBlocked):
        editing.approve(conn, user_row(conn, reviewer), noun, oid)
    assert _status(conn, noun, oid) == "submitted"
    # Without the leak the same reviewer publishes it.
    conn.execute("UPDATE revision SET data = json_set(data, ?, '') WHERE entity = ? AND entity_id = ? "
                 "AND state = 'submitted'", (f"$.{field}", noun, oid))
    editing.approve(conn, user_row(conn, reviewer), noun, oid)
    assert _status(conn, noun, oid) == "published"


def test_figures_need_a_reason_to_submit_and_to_approve(app, conn):
    editor, supervisor = user_row(conn, "village-editor"), user_row(conn, "village-supervisor")
    data = _notice(fields={"发放人数": "3人", "发放总额": "300元"},
                   table_columns=["姓名", "面积（亩）", "标准（元/亩）", "金额（元）"],
                   table_rows=[["张*", "1.00", "100", "100.00"], ["李*", "2.00", "100", "250.00"],
                               ["合计", "3.00", "", "300.00"]])
    nid = editing.create(conn, editor, "notice", data)
    with pytest.raises(editing.FiguresBlocked) as info:
        editing.submit(conn, editor, "notice", nid)
    wheres = [f.where for f in info.value.failures]
    assert any("第2行" in w for w in wheres)                    # 2 × 100 ≠ 250
    assert any("合计" in w for w in wheres)                     # 100 + 250 ≠ 300
    assert any("发放人数" in w for w in wheres)                 # 3人 for 2 rows
    editing.submit(conn, editor, "notice", nid, figures_note="第2户含补发的50元，见附件说明")
    c = app.test_client()
    tok = login(c, "village-supervisor")
    html = c.get(f"/admin/notices/{nid}").get_data(as_text=True)
    # The review page: the change, then the findings, then the decision with a reason box.
    assert html.index('id="changes"') < html.index('id="figures"') < html.index('id="decide"')
    assert "第2户含补发的50元" in html and 'name="override_reason"' in html
    assert 'figure-bad' in html
    r = _post(c, f"/admin/notices/{nid}/approve", tok)
    assert r.status_code == 302 and _status(conn, "notice", nid) == "submitted"
    with pytest.raises(editing.FiguresBlocked):
        editing.approve(conn, supervisor, "notice", nid, override_reason="  ")
    _post(c, f"/admin/notices/{nid}/approve", tok, override_reason="已核对凭证，补发款另行说明")
    assert _status(conn, "notice", nid) == "published"
    after = json.loads(conn.execute("SELECT after FROM audit_log WHERE entity = 'notice' AND entity_id = ? "
                                    "AND action = 'approve'", (str(nid),)).fetchone()[0])
    assert after["figures_reason"] == "已核对凭证，补发款另行说明" and len(after["figures"]) >= 3
    submit = json.loads(conn.execute("SELECT after FROM audit_log WHERE entity = 'notice' AND entity_id = ? "
                                     "AND action = 'submit'", (str(nid),)).fetchone()[0])
    assert submit["figures_reason"] == "第2户含补发的50元，见附件说明"


def test_review_page_marks_changed_cells_and_rows_before_the_decision(app, conn):
    editor = user_row(conn, "village-editor")
    cols = ["姓名", "面积（亩）", "标准（元/亩）", "金额（元）"]
    rows = [["张*", "1.00", "100", "100.00"], ["李*", "2.00", "100", "200.00"], ["王*", "3.00", "100", "300.00"]]
    nid = editing.create(conn, editor, "notice", _notice(table_columns=cols, table_rows=rows))
    editing.submit(conn, editor, "notice", nid)
    editing.approve(conn, user_row(conn, "village-supervisor"), "notice", nid)
    new_rows = [["张*", "1.50", "100", "150.00"], ["王*", "3.00", "100", "300.00"], ["赵*", "1.00", "100", "100.00"]]
    editing.save_draft(conn, editor, "notice", nid, _notice(title="三月村级财务收支公示（更正）",
                                                            table_columns=cols, table_rows=new_rows))
    editing.submit(conn, editor, "notice", nid)
    c = app.test_client()
    login(c, "village-supervisor")
    html = c.get(f"/admin/notices/{nid}").get_data(as_text=True)
    assert "改动 1 行，新增 1 行，删除 1 行" in html
    assert "<del>1.00</del> <ins>1.50</ins>" in html and "<del>100.00</del> <ins>150.00</ins>" in html
    assert 'class="row-added"' in html and 'class="row-removed"' in html
    assert html.index("三月村级财务收支公示（更正）") < html.index("审核通过并发布")
    assert html.index('id="changes"') < html.index('id="decide"')
