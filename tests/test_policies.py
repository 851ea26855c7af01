"""Policy documents (政策文件) and their 解读: rules, the admin flow, resident screens, search,
pictures, boards and what bundles carry (content.policies, kiosk.policy_views)."""
from __future__ import annotations

import io
import json

import pytest

from admin_util import add_user, login, user_row
from content import editing, policies, search
from content.admin.forms import parse_qa
from pictures_util import leaflet_png

COUNTY, TOWN, VILLAGE = "340499000000", "340499100000", "340499100201"
QUESTION = "残疾人两项补贴每月发多少？"


def _doc(**extra) -> dict:
    return {"jurisdiction_code": COUNTY, "title": "淮川县困难残疾人生活补贴和重度残疾人护理补贴实施细则",
            "doc_number": "淮川民〔2025〕9号", "issuer": "淮川县民政局", "issued_on": "2025-05-06",
            "written_on": "2025-05-01", "validity": "现行有效", "disclosure": "主动公开",
            "needs_interpretation": 1, "body": "第一条 为做好残疾人两项补贴工作，制定本细则。", **extra}


def _qa(key: str | None = None) -> dict:
    return {"key": key or policies.new_key(), "form": "简明问答", "title": "两项补贴问答", "body": "",
            "qa": [{"q": QUESTION, "a": "困难残疾人生活补贴每人每月90元，重度残疾人护理补贴每人每月100元。"}]}


@pytest.fixture
def reviewer(conn):
    add_user(conn, "county-checker", "county_reviewer", COUNTY)
    return user_row(conn, "county-checker")


def _publish(conn, reviewer, data: dict) -> int:
    admin = user_row(conn, "county-admin")
    doc_id = editing.create(conn, admin, "policy_document", data)
    editing.submit(conn, admin, "policy_document", doc_id)
    editing.approve(conn, reviewer, "policy_document", doc_id, pictures_checked=True)
    return doc_id


# --- rules ---------------------------------------------------------------------

def test_check_asks_for_dates_and_legal_reasons():
    assert policies.check(_doc()) == {}
    assert "lapsed_on" in policies.check(_doc(validity="废止"))
    assert "lapsed_on" in policies.check(_doc(validity="失效", lapsed_on="2025-01-01"))   # before issued
    assert policies.check(_doc(validity="失效", lapsed_on="2026-01-01")) == {}
    assert "lapsed_on" in policies.check(_doc(lapsed_on="2026-01-01"))     # 现行有效 has no end
    assert "issued_on" in policies.check(_doc(written_on="2025-06-01"))
    errors = policies.check(_doc(disclosure="不予公开"))
    assert "法定理由" in errors["withheld_reason"]
    assert policies.check(_doc(disclosure="不予公开", withheld_reason=policies.WITHHELD_REASONS[2])) == {}
    bad = _qa()
    bad["qa"][0]["a"] = ""
    assert "interpretations" in policies.check(_doc(interpretations=[bad]))


def test_qa_text_is_read_as_question_and_answer_pairs():
    pairs = parse_qa("问：谁可以申请？\n答：本县户籍的\n困难残疾人。\nQ: 到哪里办？\nA：乡镇便民服务中心")
    assert pairs == [{"q": "谁可以申请？", "a": "本县户籍的\n困难残疾人。"},
                     {"q": "到哪里办？", "a": "乡镇便民服务中心"}]
    with pytest.raises(ValueError, match="还没有答案"):
        parse_qa("问：谁可以申请？")
    with pytest.raises(ValueError, match="问："):
        parse_qa("本县户籍的困难残疾人")


def test_keys_never_look_like_numbers():
    key = policies.new_key()
    assert policies.is_key(key) and not any(ch.isdigit() for ch in key)


# --- review: released together ---------------------------------------------------

def test_a_document_in_the_interpretation_scope_is_refused_without_one(conn, reviewer):
    admin = user_row(conn, "county-admin")
    doc_id = editing.create(conn, admin, "policy_document", _doc())
    with pytest.raises(editing.EditError, match="同步审签、同步发布"):
        editing.submit(conn, admin, "policy_document", doc_id)
    editing.save_draft(conn, admin, "policy_document", doc_id, {**_doc(), "interpretations": [_qa()]})
    editing.submit(conn, admin, "policy_document", doc_id)
    editing.approve(conn, reviewer, "policy_document", doc_id)
    row = conn.execute("SELECT status, published_at FROM policy_document WHERE id = ?", (doc_id,)).fetchone()
    x = conn.execute("SELECT form, qa, published_at FROM policy_interpretation WHERE document_id = ?",
                     (doc_id,)).fetchone()
    assert row["status"] == "published" and x["form"] == "简明问答"
    assert x["published_at"] == row["published_at"]          # released in the same step
    assert json.loads(x["qa"])[0]["q"] == QUESTION
    actions = [r[0] for r in conn.execute(
        "SELECT action FROM audit_log WHERE entity = 'policy_document' AND entity_id = ?", (str(doc_id),))]
    assert actions == ["create", "save", "submit", "approve"]


def test_a_document_outside_the_scope_needs_no_interpretation(conn, reviewer):
    doc_id = _publish(conn, reviewer, _doc(needs_interpretation=0))
    assert conn.execute("SELECT status FROM policy_document WHERE id = ?", (doc_id,)).fetchone()[0] == "published"


def test_an_interpretation_without_content_is_refused(conn):
    admin = user_row(conn, "county-admin")
    empty = {**_qa(), "qa": []}
    doc_id = editing.create(conn, admin, "policy_document", _doc(interpretations=[empty]))
    with pytest.raises(editing.EditError, match="至少写一问一答"):
        editing.submit(conn, admin, "policy_document", doc_id)
    picture = {**_qa(), "form": "图解", "qa": []}
    editing.save_draft(conn, admin, "policy_document", doc_id, _doc(interpretations=[picture]))
    with pytest.raises(editing.EditError, match="图解图片"):
        editing.submit(conn, admin, "policy_document", doc_id)


def test_personal_data_in_an_answer_blocks_publication(conn):
    admin = user_row(conn, "county-admin")
    leak = _qa()
    leak["qa"][0]["a"] = "请联系王会计 13912345678"
    doc_id = editing.create(conn, admin, "policy_document", _doc(interpretations=[leak]))
    with pytest.raises(editing.PrivacyBlocked):
        editing.submit(conn, admin, "policy_document", doc_id)


# --- the admin forms -------------------------------------------------------------

def test_staff_write_a_policy_and_its_qa_through_the_forms(app, conn, reviewer):
    c = app.test_client()
    tok = login(c, "county-admin")
    form = {"csrf_token": tok, "jurisdiction_code": COUNTY, "title": "淮川县高龄津贴发放办法",
            "doc_number": "淮川民〔2025〕11号", "issuer": "淮川县民政局", "issued_on": "2025-06-01",
            "validity": "现行有效", "disclosure": "主动公开", "needs_interpretation": "1", "i-count": "1",
            "item_ids": [str(conn.execute("SELECT id FROM catalogue_item WHERE jurisdiction_code = ? "
                                          "AND level1 = '最低生活保障' AND level2 = '办事指南'", (COUNTY,)).fetchone()[0])],
            "then": "submit"}
    r = c.post("/admin/policies/new", data=form)
    doc_id = int(r.headers["Location"].split("/")[-1]) if r.status_code == 302 else None
    assert doc_id
    page = c.get(f"/admin/policies/{doc_id}").get_data(as_text=True)
    assert "同步审签、同步发布" in page                     # refused: no interpretation yet
    bad = c.post(f"/admin/policies/{doc_id}/edit", data={**form, "i-0-form": "简明问答", "i-0-qa": "问：几岁能领？"})
    assert bad.status_code == 400 and "还没有答案" in bad.get_data(as_text=True)
    r = c.post(f"/admin/policies/{doc_id}/edit", data={
        **form, "i-0-form": "简明问答", "i-0-title": "高龄津贴问答", "i-0-qa": "问：几岁能领？\n答：年满80周岁。"})
    assert r.status_code == 302
    w = editing.working(conn, editing.entity("policy_document"), doc_id)
    assert w["state"] == "submitted" and w["data"]["interpretations"][0]["qa"] == [{"q": "几岁能领？", "a": "年满80周岁。"}]
    key = w["data"]["interpretations"][0]["key"]
    # The edit form shows the block again with its key, so a later save keeps it.
    html = c.get(f"/admin/policies/{doc_id}/edit").get_data(as_text=True)
    assert f'value="{key}"' in html and "问：几岁能领？" in html
    checker = app.test_client()
    tok2 = login(checker, "county-checker", password="Test-password-for-staff-9")
    r = checker.post(f"/admin/policies/{doc_id}/approve", data={"csrf_token": tok2})
    assert r.status_code == 302
    assert conn.execute("SELECT status FROM policy_document WHERE id = ?", (doc_id,)).fetchone()[0] == "published"
    item_page = app.test_client().get(f"/items/{form['item_ids'][0]}").get_data(as_text=True)
    assert "淮川县高龄津贴发放办法" in item_page and f"/policies/{doc_id}" in item_page


def test_a_picture_uploaded_for_a_tujie_reaches_residents_after_review(app, conn, reviewer):
    admin = user_row(conn, "county-admin")
    tujie = {"key": policies.new_key(), "form": "图解", "title": "一图读懂两项补贴", "body": "", "qa": []}
    doc_id = editing.create(conn, admin, "policy_document", _doc(interpretations=[tujie]))
    c = app.test_client()
    tok = login(c, "county-admin")
    r = c.post(f"/admin/policies/{doc_id}/attachments",
               data={"csrf_token": tok, "interpretation": "zzzz", "file": (io.BytesIO(leaflet_png()), "图解.png")})
    assert "所选的解读不存在" in c.get(r.headers["Location"]).get_data(as_text=True)
    r = c.post(f"/admin/policies/{doc_id}/attachments",
               data={"csrf_token": tok, "interpretation": tujie["key"],
                     "file": (io.BytesIO(leaflet_png()), "图解.png")})
    assert r.status_code == 302
    data = editing.working(conn, editing.entity("policy_document"), doc_id)["data"]
    picture = data["attachments"][0]["pictures"][0]["sha256"]
    assert data["attachments"][0]["interpretation"] == tujie["key"]
    editing.submit(conn, admin, "policy_document", doc_id)
    with pytest.raises(editing.EditError, match="勾选确认"):
        editing.approve(conn, reviewer, "policy_document", doc_id)
    assert app.test_client().get(f"/pictures/{picture}").status_code == 404      # not out yet
    editing.approve(conn, reviewer, "policy_document", doc_id, pictures_checked=True)
    resident = app.test_client()
    assert resident.get(f"/pictures/{picture}").status_code == 200
    page = resident.get(f"/policies/{doc_id}").get_data(as_text=True)
    assert "一图读懂两项补贴" in page and f"/pictures/{picture}" in page
    # Deleting the 解读 in the form takes its picture along.
    form = {"csrf_token": tok, "jurisdiction_code": COUNTY, "title": _doc()["title"], "issuer": "淮川县民政局",
            "issued_on": "2025-05-06", "validity": "现行有效", "disclosure": "主动公开", "i-count": "2",
            "i-0-key": tujie["key"], "i-0-form": "图解", "i-0-remove": "1"}
    assert c.post(f"/admin/policies/{doc_id}/edit", data=form).status_code == 302
    assert editing.working(conn, editing.entity("policy_document"), doc_id)["data"]["attachments"] == []


# --- resident screens --------------------------------------------------------------

def test_the_list_filters_by_issuer_validity_and_year(client):
    html = client.get("/policies").get_data(as_text=True)
    assert "淮川县城乡居民最低生活保障实施办法" in html and "淮川县2025年耕地地力保护补贴实施方案" in html
    html = client.get("/policies?validity=废止").get_data(as_text=True)
    assert "农村危房改造补助资金管理暂行办法" in html and "最低生活保障实施办法" not in html
    html = client.get("/policies?issuer=淮川县农业农村局").get_data(as_text=True)
    assert "耕地地力保护补贴实施方案" in html and "最低生活保障实施办法" not in html
    assert client.get("/policies?year=abc&validity=<x>&issuer=nobody").status_code == 200
    assert "没有符合条件" in client.get("/policies?year=1990").get_data(as_text=True)
    assert client.get("/policies", headers={"HX-Request": "true"}).get_data(as_text=True).lstrip()[:9] != "<!doctype"


def test_the_document_page_shows_its_metadata_qa_cards_and_letter(client, conn):
    doc_id = conn.execute("SELECT id FROM policy_document WHERE doc_number = '淮川政〔2024〕8号'").fetchone()[0]
    html = client.get(f"/policies/{doc_id}").get_data(as_text=True)
    for text in ("淮川县人民政府", "现行有效", "成文日期", "哪些人可以申请低保？", "致全县城乡居民的一封信",
                 'class="qa-card"', "文件原文"):
        assert text in html, text
    assert "/items/" in html                                     # its catalogue items


def test_a_repealed_document_says_so(client, conn):
    doc_id = conn.execute("SELECT id FROM policy_document WHERE validity = '废止'").fetchone()[0]
    assert "不再执行" in client.get(f"/policies/{doc_id}").get_data(as_text=True)


def test_apply_only_documents_show_metadata_and_the_way_to_apply(client, conn):
    doc = conn.execute("SELECT id, body FROM policy_document WHERE disclosure = '依申请公开'").fetchone()
    html = client.get(f"/policies/{doc['id']}").get_data(as_text=True)
    assert "申请获取这份文件" in html and "第二十七条" in html and doc["body"] not in html


def test_withheld_documents_are_never_shown_or_found(client, conn, reviewer):
    doc_id = _publish(conn, reviewer, _doc(title="淮川县内部工作规程", doc_number="淮川内〔2025〕1号",
                                            needs_interpretation=0, disclosure="不予公开",
                                            withheld_reason=policies.WITHHELD_REASONS[2]))
    assert client.get(f"/policies/{doc_id}").status_code == 404
    assert "内部工作规程" not in client.get("/policies").get_data(as_text=True)
    assert search.search(conn, "淮川内", None, __import__("datetime").date(2100, 1, 1)).hits == []


def test_search_finds_documents_by_number_title_and_qa(conn):
    from datetime import date
    day = date(2100, 1, 1)
    for query in ("淮川政〔2024〕8号", "最低生活保障实施办法", "对公示结果有意见"):
        hits = search.search(conn, query, None, day).hits
        assert any(h.kind == "policy" and h.url.startswith("/policies/") for h in hits), query
    (hit,) = [h for h in search.search(conn, "对公示结果有意见", None, day).hits if h.kind == "policy"]
    assert "公示期内" in str(hit.snippet_html)          # the snippet quotes the matching answer
    assert search.KIND_NAMES["policy"] == "政策文件"
    kinds = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT kind, base, table_name FROM search_kind")}
    assert kinds["policy"] == (search.KIND_BASE["policy"], "policy_document")


# --- boards and bundles -----------------------------------------------------------------

def test_boards_show_qa_cards_of_their_chain(conn, client):
    cards = policies.qa_cards(conn, [COUNTY, TOWN, VILLAGE])
    assert cards and cards[0]["q"] and cards[0]["a"]
    assert len({c["document_id"] for c in cards[:2]}) == 2        # first questions of each document first
    assert policies.qa_cards(conn, ["340499200000"]) == []
    assert policies.qa_cards(conn, [COUNTY], levels=["village"]) == []      # the board's own filters
    assert policies.qa_cards(conn, [COUNTY], domains=[8]) == []
    # The demo's live emergency notice pre-empts every rotation; without it the cards follow the notices.
    assert 'slide-qa' not in client.get("/display/county-hall/slides").get_data(as_text=True)
    conn.execute("UPDATE notice SET priority = '重要' WHERE priority = '紧急'")
    html = client.get("/display/county-hall/slides").get_data(as_text=True)
    assert 'class="slide slide-qa' in html and cards[0]["q"] in html
    assert f"policies%2F{cards[0]['document_id']}" in html          # its QR code opens the document


def test_the_bundle_keeps_withheld_documents_and_closed_text_at_the_hub(conn, reviewer):
    from sync.publish import Snapshot
    withheld = _publish(conn, reviewer, _doc(title="淮川县内部工作规程", needs_interpretation=0,
                                              disclosure="不予公开", withheld_reason=policies.WITHHELD_REASONS[2]))
    snap = Snapshot(conn)
    rows = {}
    for chunk in snap.chunks:
        if chunk.table.name.startswith("policy_"):
            rows.setdefault(chunk.table.name, []).extend(dict(zip(chunk.table.columns, r)) for r in chunk.rows)
    ids = {r["id"] for r in rows["policy_document"]}
    assert withheld not in ids and len(ids) == 4
    closed = next(r for r in rows["policy_document"] if r["disclosure"] == "依申请公开")
    assert closed["body"] == ""
    assert {r["document_id"] for r in rows["policy_interpretation"]} <= {
        r["id"] for r in rows["policy_document"] if r["disclosure"] == "主动公开"}


