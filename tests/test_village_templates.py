"""Village-list templates (content.village_templates, /admin/templates): sent as drafts, later
changes reach villages as suggestions that never overwrite their own content, adoption shown."""
from __future__ import annotations

import json

import pytest

from content import editing
from content import village_templates as vt

from admin_util import add_user, login, user_row

COUNTY, DONGHU, XINGHUA, QIAOTOU = "340499000000", "340499100000", "340499100201", "340499100202"
FINANCE = {"category": "村级财务", "title": "村级财务收支明细", "content": "每季度公开收支明细",
           "time_limit_text": "每季度首月10日前", "frequency": "每季度", "responsible": "村民委员会",
           "channels": "村务公开栏、查询机"}
LAND = {"category": "村务管理", "title": "宅基地审批情况", "content": "审批对象、面积、位置",
        "time_limit_text": "审批后7日内", "frequency": "随时", "responsible": "村民委员会", "channels": "村务公开栏"}


def u(conn, name):
    return user_row(conn, name)


def village_codes(conn, under=COUNTY):
    return [r["code"] for r in vt.villages_under(conn, under)]


@pytest.fixture
def template(conn):
    """A county template of two items, sent to every village."""
    admin = u(conn, "county-admin")
    tid = vt.create(conn, admin, COUNTY, "村务公开事项标准清单")
    finance = vt.add_item(conn, admin, tid, FINANCE)
    land = vt.add_item(conn, admin, tid, LAND)
    sent = vt.send(conn, admin, tid, village_codes(conn))
    return tid, finance, land, sent


def village_item(conn, code, title):
    return conn.execute("SELECT * FROM village_item WHERE jurisdiction_code = ? AND title = ? "
                        "AND status != 'withdrawn'", (code, title)).fetchone()


def publish(conn, item_id, code=XINGHUA):
    editor, supervisor = u(conn, "village-editor"), u(conn, "village-supervisor")
    if code != XINGHUA:
        editor, supervisor = u(conn, f"ed-{code}"), u(conn, f"sup-{code}")
    editing.submit(conn, editor, "village_item", item_id)
    editing.approve(conn, supervisor, "village_item", item_id)


def test_sent_as_drafts_and_existing_items_are_kept(conn, template):
    tid, finance, land, sent = template
    villages = village_codes(conn)
    assert sent.villages == len(villages) and sent.created + sent.linked == 2 * len(villages)
    # 杏花村 already lists 村级财务收支明细: linked, its published text untouched, no duplicate.
    rows = conn.execute("SELECT * FROM village_item WHERE jurisdiction_code = ? AND title = ?",
                        (XINGHUA, FINANCE["title"])).fetchall()
    assert len(rows) == 1 and rows[0]["status"] == "published" and rows[0]["content"] != FINANCE["content"]
    # 宅基地审批情况 is new everywhere: a draft, with a draft revision the village editor sees.
    for code in villages:
        row = village_item(conn, code, LAND["title"])
        assert row["status"] == "draft" and row["frequency"] == "随时"
        assert json.loads(row["channels"]) == ["村务公开栏"]
    # Sending again only adds what is missing.
    again = vt.send(conn, u(conn, "county-admin"), tid, [XINGHUA])
    assert again.created == 0 and again.already == 2


def test_a_later_change_is_a_suggestion_never_an_overwrite(conn, template):
    tid, finance, land, _ = template
    admin, editor = u(conn, "county-admin"), u(conn, "village-editor")
    item = village_item(conn, XINGHUA, LAND["title"])
    publish(conn, item["id"])
    assert vt.suggestions(conn, [XINGHUA]) == []
    assert vt.update_item(conn, admin, tid, land, {**LAND, "time_limit_text": "审批后5个工作日内"})
    found = vt.suggestions(conn, [XINGHUA, QIAOTOU])
    assert {(s.village_code, s.kind) for s in found} == {(XINGHUA, "update"), (QIAOTOU, "update")}
    s = next(s for s in found if s.village_code == XINGHUA)
    assert s.changes == [("公开时限", "审批后7日内", "审批后5个工作日内", "审批后7日内")]
    # The village's published item is exactly as it was.
    assert village_item(conn, XINGHUA, LAND["title"])["time_limit_text"] == "审批后7日内"
    # The village had written its own content meanwhile (a draft); accepting keeps it.
    w = editing.working(conn, editing.entity("village_item"), item["id"])
    editing.save_draft(conn, editor, "village_item", item["id"], {**w["data"], "content": "本村自己的说明"})
    message = vt.decide(conn, editor, land, XINGHUA, accept=True)
    assert "草稿" in message
    w = editing.working(conn, editing.entity("village_item"), item["id"])
    assert w["data"]["time_limit_text"] == "审批后5个工作日内" and w["data"]["content"] == "本村自己的说明"
    assert w["row"]["time_limit_text"] == "审批后7日内"            # still the public version until review
    assert vt.suggestions(conn, [XINGHUA]) == []
    # 桥头村 dismisses: nothing changes there and the suggestion is gone.
    before = dict(village_item(conn, QIAOTOU, LAND["title"]))
    vt.decide(conn, admin, land, QIAOTOU, accept=False)
    assert dict(village_item(conn, QIAOTOU, LAND["title"])) == before
    assert vt.suggestions(conn, [QIAOTOU]) == []
    # A further change brings only what changed since.
    vt.update_item(conn, admin, tid, land, {**LAND, "time_limit_text": "审批后5个工作日内", "frequency": "每月"})
    s = vt.suggestions(conn, [QIAOTOU])[0]
    assert [c[0] for c in s.changes] == ["公开频次"]


def test_added_and_removed_items(conn, template):
    tid, finance, land, _ = template
    admin, editor = u(conn, "county-admin"), u(conn, "village-editor")
    new = vt.add_item(conn, admin, tid, {**LAND, "title": "一事一议筹资筹劳"})
    s = [s for s in vt.suggestions(conn, [XINGHUA]) if s.item_id == new]
    assert s and s[0].kind == "add" and village_item(conn, XINGHUA, "一事一议筹资筹劳") is None
    vt.decide(conn, editor, new, XINGHUA, accept=True)
    assert village_item(conn, XINGHUA, "一事一议筹资筹劳")["status"] == "draft"
    vt.decide(conn, admin, new, QIAOTOU, accept=False)
    assert village_item(conn, QIAOTOU, "一事一议筹资筹劳") is None
    # Removing a template item: the village chooses whether to withdraw its own (published) one.
    finance_row = village_item(conn, XINGHUA, FINANCE["title"])
    vt.remove_item(conn, admin, tid, finance)
    s = [s for s in vt.suggestions(conn, [XINGHUA]) if s.item_id == finance]
    assert s and s[0].kind == "remove"
    assert village_item(conn, XINGHUA, FINANCE["title"])["status"] == "published"
    vt.decide(conn, editor, finance, XINGHUA, accept=True)
    assert conn.execute("SELECT status FROM village_item WHERE id = ?", (finance_row["id"],)).fetchone()[0] == "withdrawn"
    # A village that declined an addition is not asked again when it changes.
    vt.update_item(conn, admin, tid, new, {**LAND, "title": "一事一议筹资筹劳", "content": "新的说明"})
    assert not [s for s in vt.suggestions(conn, [QIAOTOU]) if s.item_id == new]


def test_township_templates_stay_in_the_township_and_sending_is_all_or_nothing(conn):
    town = u(conn, "township-editor")
    tid = vt.create(conn, town, DONGHU, "东湖镇补充清单")
    vt.add_item(conn, town, tid, LAND)
    outside = [c for c in village_codes(conn) if c not in village_codes(conn, DONGHU)]
    assert outside
    before = conn.execute("SELECT count(*) FROM village_item").fetchone()[0]
    with pytest.raises(editing.Denied):
        vt.send(conn, town, tid, [XINGHUA, outside[0]])
    assert conn.execute("SELECT count(*) FROM village_item").fetchone()[0] == before
    assert conn.execute("SELECT count(*) FROM village_template_target").fetchone()[0] == 0
    sent = vt.send(conn, town, tid, village_codes(conn, DONGHU))
    assert sent.created == len(village_codes(conn, DONGHU))
    with pytest.raises(editing.Denied):
        vt.create(conn, town, COUNTY, "县级模板")
    with pytest.raises(editing.Denied):
        vt.create(conn, u(conn, "village-editor"), XINGHUA, "村自己的模板")


def test_adoption_in_the_assessment(app, client, conn, template):
    tid, finance, land, _ = template
    publish(conn, village_item(conn, XINGHUA, LAND["title"])["id"])
    rows = {r[2]: r for r in vt.adoption(conn, village_codes(conn))}
    assert rows["杏花村"][4:] == [2, 0, 0, "已采用"]
    # 桥头村 kept its own published finance item; the new one is still a draft.
    assert rows["桥头村"][4:] == [1, 1, 0, "部分采用"]
    fresh = [name for name, r in rows.items() if r[4] == 0]
    assert fresh and all(rows[n][7] == "未公开" for n in fresh)          # a village with drafts only
    code = QIAOTOU
    add_user(conn, f"ed-{code}", "village_editor", code)
    add_user(conn, f"sup-{code}", "village_supervisor", code)
    publish(conn, village_item(conn, code, LAND["title"])["id"], code)
    assert {r[2]: r for r in vt.adoption(conn, village_codes(conn))}["桥头村"][7] == "已采用"
    vt.update_item(conn, u(conn, "county-admin"), tid, land, {**LAND, "frequency": "每月"})
    assert {r[2]: r for r in vt.adoption(conn, village_codes(conn))}["杏花村"][6:] == [1, "部分采用"]
    login(client, "county-admin")
    html = client.get("/admin/assessment/").get_data(as_text=True)
    assert "村务公开清单模板采用情况" in html and "桥头村" in html and "部分采用" in html


def test_pages_send_and_decide(client, conn):
    token = login(client, "county-admin")
    r = client.post("/admin/templates/", data={"csrf_token": token, "owner": COUNTY, "name": "标准清单"})
    assert r.status_code == 303
    tid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    r = client.post(f"/admin/templates/{tid}", data={"csrf_token": token, **LAND})
    assert r.status_code == 303
    bad = client.post(f"/admin/templates/{tid}", data={"csrf_token": token, **LAND, "title": ""})
    assert bad.status_code == 400 and "请填写事项名称" in bad.get_data(as_text=True)
    r = client.post(f"/admin/templates/{tid}/send", data={"csrf_token": token, "all": "1"})
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已下发到 6 个村（社区）" in page and "各村采用情况" in page
    item_id = conn.execute("SELECT id FROM village_template_item WHERE template_id = ?", (tid,)).fetchone()[0]
    r = client.post(f"/admin/templates/{tid}/items/{item_id}",
                    data={"csrf_token": token, **LAND, "content": "审批对象、面积、位置、四至"})
    assert r.status_code == 303
    client.post("/admin/logout", data={"csrf_token": token})
    # The village editor sees the suggestion on the dashboard and decides it.
    token = login(client, "village-editor")
    assert "清单模板有 <strong>1</strong> 条修改建议" in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/templates/suggestions").get_data(as_text=True)
    assert "审批对象、面积、位置、四至" in page and "模板修改了这一项" in page
    assert client.get(f"/admin/templates/{tid}").status_code == 404       # not theirs to keep
    r = client.post(f"/admin/templates/suggestions/{item_id}/{XINGHUA}",
                    data={"csrf_token": token, "decision": "accept"})
    assert r.status_code == 303
    assert "已按模板修改生成草稿" in client.get(r.headers["Location"]).get_data(as_text=True)
    r = client.post(f"/admin/templates/suggestions/{item_id}/{QIAOTOU}",
                    data={"csrf_token": token, "decision": "accept"})
    assert r.status_code == 404                                          # another village


def test_start_from_a_model_village(client, conn):
    admin = u(conn, "county-admin")
    tid = vt.create(conn, admin, COUNTY, "以杏花村为样板")
    vt.add_item(conn, admin, tid, FINANCE)                     # already there: not copied twice
    published = conn.execute("SELECT count(*) FROM village_item WHERE jurisdiction_code = ? "
                             "AND status = 'published'", (XINGHUA,)).fetchone()[0]
    token = login(client, "county-admin")
    r = client.post(f"/admin/templates/{tid}/copy", data={"csrf_token": token, "village": XINGHUA})
    assert r.status_code == 303
    assert f"复制 {published - 1} 项" in client.get(r.headers["Location"]).get_data(as_text=True)
    rows = vt.items(conn, tid)
    assert len(rows) == published
    assert all(isinstance(vt.item_data(r)["channels"], list) for r in rows)
    assert vt.copy_from_village(conn, admin, tid, XINGHUA) == 0
    town = u(conn, "township-editor")
    with pytest.raises(editing.Denied):
        vt.copy_from_village(conn, town, tid, XINGHUA)        # a county template is not theirs
