"""Citizen services through the app: the application form, receipt, status lookup, ratings, consultations."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import pytest

from content import applications

GOOD = {
    "applicant_type": "自然人", "name": "张三", "id_type": "居民身份证",
    "id_number": "11010519491231002X", "phone": "13812345678", "address": "", "email": "",
    "title": "2025年东湖镇耕地地力保护补贴发放名单", "doc_number": "", "description": "",
    "provision_form": "纸质", "delivery": "自行领取",
}
ORG = {**GOOD, "applicant_type": "法人或其他组织", "applicant_subtype": "法律服务机构",
       "name": "淮川县某律师事务所", "id_type": "统一社会信用代码", "id_number": "91110000600037341L"}


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    # The form's hidden field, else what csrf.js fetches for a form left empty (resident pages).
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return m.group(1) if m else client.get("/csrf-token").get_json()["token"]


def post(client, url: str, data: dict, page: str | None = None, **kw):
    return client.post(url, data={**data, "csrf_token": csrf(client, page or url)}, **kw)


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def apply_ok(client, data=GOOD) -> str:
    r = post(client, "/apply", data)
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    html = client.get("/apply/receipt").get_data(as_text=True)
    return re.search(r"YSQ-\d{8}-\d{4}", html).group(0)


# ---------------------------------------------------------------- the form

@pytest.mark.parametrize("changes,field,message", [
    ({"id_number": "110105194912310021"}, "id_number", "身份证号码不正确"),          # wrong check digit
    ({"id_number": "11010519491231"}, "id_number", "身份证号码应为18位"),
    ({"id_number": ""}, "id_number", "请填写证件号码"),
    ({"phone": "1381234567"}, "phone", "联系电话格式不正确"),
    ({"phone": "23812345678"}, "phone", "联系电话格式不正确"),
    ({"phone": ""}, "phone", "请填写联系电话"),
    ({"name": "  "}, "name", "请填写申请人姓名"),
    ({"applicant_type": ""}, "applicant_type", "请选择申请人类型"),
    ({"title": "", "description": "", "doc_number": ""}, "title", "请描述所需信息"),
    ({"provision_form": "传真"}, "provision_form", "请选择获取信息的方式"),
    ({"delivery": ""}, "delivery", "请选择获取信息的途径"),
    ({"delivery": "邮寄"}, "address", "请填写通信地址"),
    ({"provision_form": "电子邮件"}, "email", "请填写电子邮箱"),
    ({"email": "zhang@"}, "email", "电子邮箱格式不正确"),
    ({"id_type": "统一社会信用代码"}, "id_type", "请选择证件类型"),       # a person cannot use an org's code
    ({"title": "长" * 101}, "title", "过长"),
])
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_stored(client, conn, changes, field, message):
    before = count(conn, "application"), count(conn, "application_event")
    r = post(client, "/apply", {**GOOD, **changes})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    # The message sits in the field's own error slot, and the summary links to the field.
    assert re.search(rf'id="err-{field}"[^>]*>[^<]*{message}', html), html[:3000]
    assert f'href="#f-{field}"' in html
    assert (count(conn, "application"), count(conn, "application_event")) == before
    # What was typed comes back, so nothing has to be typed again.
    assert GOOD["name"] in html or changes.get("name")


@pytest.mark.parametrize("data,org_checks", [
    (ORG, {"bad": {"id_number": "91110000600037341X"}, "field": "id_number", "message": "统一社会信用代码不正确"}),
    ({**ORG, "applicant_subtype": ""}, None),
])
def test_organisation_applicants(client, conn, data, org_checks):
    if data["applicant_subtype"] == "":
        r = post(client, "/apply", data)
        assert r.status_code == 422 and "请选择组织类别" in r.get_data(as_text=True)
        return
    r = post(client, "/apply", {**data, **org_checks["bad"]})
    assert r.status_code == 422 and org_checks["message"] in r.get_data(as_text=True)
    receipt = apply_ok(client, data)
    row = conn.execute("SELECT * FROM application WHERE receipt_no = ?", (receipt,)).fetchone()
    assert row["applicant_subtype"] == "法律服务机构" and row["id_type"] == "统一社会信用代码"


@pytest.mark.parametrize("changes", [
    {},
    {"id_number": "11010519491231002x"},                       # lower-case x accepted
    {"id_number": "1101 0519 4912 3100 2X"},                   # spaces as read from the card
    {"phone": "0554-1234567"},                                # landline with area code
    {"phone": "+86 138 1234 5678"},
    {"id_type": "护照", "id_number": "E12345678"},
    {"delivery": "邮寄", "address": "淮川县东湖镇杏花村1组"},
    {"provision_form": "电子邮件", "delivery": "电子邮件", "email": "zhang@example.com"},
    {"title": "", "doc_number": "淮政办〔2025〕12号"},
])
def test_good_input_is_stored_with_receipt_and_due_date(client, conn, changes):
    receipt = apply_ok(client, {**GOOD, **changes})
    row = conn.execute("SELECT * FROM application WHERE receipt_no = ?", (receipt,)).fetchone()
    received = date.fromisoformat(row["received_on"])
    assert row["due_on"] == applications.due_date(received).isoformat()
    assert row["stage"] == "登记"
    ev = conn.execute("SELECT * FROM application_event WHERE application_uuid = ?", (row["uuid"],)).fetchall()
    assert [e["action"] for e in ev] == ["register"]
    if "id_number" in changes and changes.get("id_type", "居民身份证") == "居民身份证":
        assert row["id_number"] == "11010519491231002X"


def test_receipt_numbers_are_sequential_and_unique(client, conn):
    a, b = apply_ok(client), apply_ok(client)
    assert a != b and int(b[-4:]) == int(a[-4:]) + 1
    assert re.fullmatch(rf"YSQ-{date.today():%Y%m%d}-000[12]", a)


def test_receipt_page_shows_dates_and_a_qr_for_the_lookup_only(client):
    receipt = apply_ok(client)
    html = client.get("/apply/receipt").get_data(as_text=True)
    assert receipt in html and applications.due_date(date.today()).isoformat() in html
    qr = re.search(r'<img src="(/qr\.svg\?url=[^"]+)"', html).group(1)
    assert "apply/status" in qr and receipt in qr
    assert client.get(qr.replace("&amp;", "&")).status_code == 200
    for personal in ("张三", "11010519491231002X", "13812345678"):
        assert personal not in html


def test_receipt_page_without_an_application_goes_to_the_form(client):
    r = client.get("/apply/receipt")
    assert r.status_code == 302 and r.headers["Location"].endswith("/apply")


def test_csrf_token_required(client, conn):
    r = client.post("/apply", data=GOOD)
    assert r.status_code == 400
    assert count(conn, "application") == 0


# ---------------------------------------------------------------- the lookup

def test_lookup_shows_stage_never_personal_data(client, conn):
    receipt = apply_ok(client, {**GOOD, "address": "淮川县东湖镇杏花村1组", "email": "zhang@example.com",
                                "delivery": "邮寄"})
    r = post(client, "/apply/status", {"receipt": receipt.lower(), "tail": "5678"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "已登记，等待审核" in html
    assert applications.due_date(date.today()).isoformat() in html
    for personal in ("张三", "11010519491231002X", "13812345678", "杏花村1组", "zhang@example.com",
                     "耕地地力保护补贴发放名单"):
        assert personal not in html


def test_lookup_follows_the_workflow(client, conn):
    receipt = apply_ok(client)
    row = applications.get_by_receipt(conn, receipt)
    on = date.fromisoformat(row["received_on"])
    applications.perform(conn, row["uuid"], "accept", on)
    applications.perform(conn, row["uuid"], "process", on)
    html = post(client, "/apply/status", {"receipt": receipt, "tail": "5678"}).get_data(as_text=True)
    assert "办理中" in html and 'class="now">办理' in html
    applications.perform(conn, row["uuid"], "reply", on, outcome="部分公开")
    html = post(client, "/apply/status", {"receipt": receipt, "tail": "5678"}).get_data(as_text=True)
    assert "已答复" in html and "部分公开" in html


def test_wrong_combinations_get_one_neutral_message(client):
    receipt = apply_ok(client)
    answers = set()
    for rec, tail in [(receipt, "0000"), ("YSQ-20200101-0001", "5678"), (receipt, "56"), ("", ""),
                      (receipt, "abcd")]:
        r = post(client, "/apply/status", {"receipt": rec, "tail": tail})
        html = r.get_data(as_text=True)
        assert r.status_code == 200
        msg = re.search(r'<p class="lookup-error"[^>]*>([^<]+)</p>', html).group(1)
        answers.add(msg)
        assert "lookup-result" not in html
    assert len(answers) == 1 and "没有查到" in answers.pop()


def test_guessing_phone_digits_is_throttled(app, client):
    receipt = apply_ok(client)
    token = csrf(client, "/apply/status")
    codes = [client.post("/apply/status", data={"receipt": receipt, "tail": f"{i:04d}", "csrf_token": token}).status_code
             for i in range(22)]
    assert codes[:20] == [200] * 20 and codes[-1] == 429
    r = client.post("/apply/status", data={"receipt": receipt, "tail": "5678", "csrf_token": token})
    assert r.status_code == 429 and "查询次数过多" in r.get_data(as_text=True)


# ---------------------------------------------------------------- ratings

def test_rating_stored_with_masked_comment_and_thanks_fragment(client, conn):
    r = post(client, "/rate", {"target_type": "guide", "target_id": "1", "rating": "不满意",
                               "comment": "材料太多，我的电话13812345678"}, page="/guides/1",
             headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "谢谢您的评价" in html and "<html" not in html
    row = conn.execute("SELECT * FROM feedback").fetchone()
    assert row["rating"] == "不满意" and "13812345678" not in row["comment"] and "138****5678" in row["comment"]
    assert row["jurisdiction_code"] and row["target_type"] == "guide"


@pytest.mark.parametrize("url,target_type", [("/guides/1", "guide"), ("/items/1", "item"),
                                             ("/notices/1", "notice")])
def test_every_content_page_has_the_rating_form(client, url, target_type):
    html = client.get(url).get_data(as_text=True)
    assert f'name="target_type" value="{target_type}"' in html
    for label in ("满意", "基本满意", "不满意"):
        assert f'value="{label}"' in html


def test_village_item_page_has_the_rating_form(client, conn):
    vid = conn.execute("SELECT id FROM village_item WHERE status = 'published' LIMIT 1").fetchone()[0]
    html = client.get(f"/village-items/{vid}").get_data(as_text=True)
    assert 'name="target_type" value="village_item"' in html


@pytest.mark.parametrize("data,message", [
    ({"target_type": "guide", "target_id": "1", "rating": "很好"}, "请选择"),
    ({"target_type": "guide", "target_id": "999999", "rating": "满意"}, "没有找到"),
    ({"target_type": "user", "target_id": "1", "rating": "满意"}, "没有找到"),
    ({"target_type": "guide", "target_id": "1", "rating": "满意", "comment": "长" * 301}, "300"),
])
def test_bad_ratings_refused_and_not_stored(client, conn, data, message):
    r = post(client, "/rate", data, page="/guides/1")
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert count(conn, "feedback") == 0


# ---------------------------------------------------------------- consultations

def consultation_ids(conn):
    today = date.today().isoformat()
    open_id = conn.execute("SELECT id FROM consultation WHERE opens_on <= ? AND closes_on >= ?",
                           (today, today)).fetchone()[0]
    closed_id = conn.execute("SELECT id FROM consultation WHERE closes_on < ?", (today,)).fetchone()[0]
    return open_id, closed_id


def test_consultation_list_shows_open_with_deadline_and_closed_with_result(client, conn):
    open_id, closed_id = consultation_ids(conn)
    html = client.get("/consultations").get_data(as_text=True)
    assert f"/consultations/{open_id}" in html and f"/consultations/{closed_id}" in html
    assert "截止" in html and "已公布采纳情况" in html
    detail = client.get(f"/consultations/{open_id}").get_data(as_text=True)
    assert "征求意见稿" in detail and "提出您的意见" in detail
    closed = client.get(f"/consultations/{closed_id}").get_data(as_text=True)
    assert "意见采纳情况" in closed and "采纳或部分采纳24条" in closed and "提出您的意见" not in closed


def test_opinion_stored_masked_in_the_window(client, conn):
    open_id, _ = consultation_ids(conn)
    r = post(client, f"/consultations/{open_id}", {"body": "建议每个村设置有害垃圾回收点。身份证11010519491231002X"})
    assert r.status_code == 200 and "谢谢您提出意见" in r.get_data(as_text=True)
    row = conn.execute("SELECT * FROM consultation_response").fetchone()
    assert row["consultation_id"] == open_id and "11010519491231002X" not in row["body"]
    assert "有害垃圾回收点" in row["body"]


def test_opinion_masked_however_the_number_is_typed(client, conn):
    """What an IME or a careless paste produces is masked before it is stored (and sent upstream)."""
    open_id, _ = consultation_ids(conn)
    body = "联系我：１３８－１２３４　５６７８，或Tel138\u200b1234\u00ad5678，家里0554-7654321"
    assert post(client, f"/consultations/{open_id}", {"body": body}).status_code == 200
    stored = conn.execute("SELECT body FROM consultation_response").fetchone()[0]
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", stored) if ch.isdigit())
    assert "12345678" not in digits and "7654321" not in digits, stored
    assert "联系我" in stored


def test_opinion_after_the_deadline_refused(client, conn):
    _, closed_id = consultation_ids(conn)
    r = post(client, f"/consultations/{closed_id}", {"body": "迟到的意见"})
    assert r.status_code == 422 and "已于" in r.get_data(as_text=True) and "截止" in r.get_data(as_text=True)
    assert count(conn, "consultation_response") == 0


def test_closing_day_is_still_open_and_the_next_day_is_not(app, conn):
    open_id, _ = consultation_ids(conn)
    closes = date.fromisoformat(conn.execute("SELECT closes_on FROM consultation WHERE id = ?",
                                             (open_id,)).fetchone()[0])
    for day, ok in [(closes, True), (closes + timedelta(days=1), False)]:
        app.config["TODAY"] = day.isoformat()
        client = app.test_client()
        r = post(client, f"/consultations/{open_id}", {"body": f"意见 {day}"})
        assert (r.status_code == 200) is ok
    assert count(conn, "consultation_response") == 1


def test_empty_opinion_and_upcoming_consultation(client, conn):
    open_id, _ = consultation_ids(conn)
    r = post(client, f"/consultations/{open_id}", {"body": "   "})
    assert r.status_code == 422 and "请填写您的意见" in r.get_data(as_text=True)
    future = (date.today() + timedelta(days=5)).isoformat()
    conn.execute("UPDATE consultation SET opens_on = ? WHERE id = ?", (future, open_id))
    assert client.get(f"/consultations/{open_id}").status_code == 404
    assert f"/consultations/{open_id}" not in client.get("/consultations").get_data(as_text=True)


def test_home_has_the_citizen_tiles(client):
    html = client.get("/").get_data(as_text=True)
    for href in ('href="/apply"', 'href="/apply/status"', 'href="/consultations"'):
        assert href in html


def test_forms_name_their_on_screen_keyboard_and_the_input_method(client):
    """Every typed field of /apply says which keys it needs; Chinese fields carry the IME hint;
    the keyboard ships hidden (without JavaScript the fields take any keyboard as usual)."""
    html = client.get("/apply").get_data(as_text=True)
    layouts = dict(re.findall(r'id="f-(\w+)"[^>]*?data-osk="(\w+)"', html, re.S))
    assert layouts == {"name": "text", "id_number": "id", "phone": "tel", "address": "address",
                       "email": "email", "title": "text", "doc_number": "docno", "description": "text"}
    for name in ("name", "address", "title", "doc_number", "description"):
        assert f'id="ime-{name}"' in html and re.search(rf'aria-describedby="[^"]*ime-{name}', html)
    assert "中文可在屏幕键盘上手写或打拼音" in html
    assert re.search(r'<div class="fkb" id="fkb"[^>]*hidden>', html)
    assert 'data-fkey="X" data-layouts="id"' in html and 'data-fkey="@"' in html
    status = client.get("/apply/status").get_data(as_text=True)
    assert re.search(r'id="f-receipt"[^>]*data-osk="receipt"', status, re.S)
    assert re.search(r'id="f-tail"[^>]*data-osk="digits"', status, re.S)
    assert 'data-fkey="YSQ-"' in status
