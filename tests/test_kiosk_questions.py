"""kiosk.questions: the 我有异议 / 我要提问 buttons, the form, the receipt and the status lookup."""
from __future__ import annotations

import re
from datetime import date

from content import resident_questions as rq

from test_citizen import csrf
from test_resident_questions import VILLAGE, village_notice

RECEIPT = re.compile(r"WT-\d{8}-[A-Z2-9]{6}")


def submit(client, url: str, **data):
    return client.post(url, data={**data, "csrf_token": csrf(client, url)})


def test_buttons_on_every_page(client, conn):
    nid = village_notice(conn, date.today())
    page = client.get(f"/notices/{nid}").get_data(as_text=True)
    assert f'href="/object/{nid}"' in page and "我有异议" in page
    ended = conn.execute("SELECT id FROM notice WHERE status = 'published' AND period_end < ?",
                         (date.today().isoformat(),)).fetchone()[0]
    assert "我有异议" not in client.get(f"/notices/{ended}").get_data(as_text=True)
    item = conn.execute("SELECT id FROM catalogue_item WHERE status = 'published'").fetchone()[0]
    guide = conn.execute("SELECT id FROM guide WHERE status = 'published'").fetchone()[0]
    vitem = conn.execute("SELECT id FROM village_item WHERE status = 'published'").fetchone()[0]
    for url, ask in ((f"/items/{item}", f"/ask/item/{item}"), (f"/guides/{guide}", f"/ask/guide/{guide}"),
                     (f"/village-items/{vitem}", f"/ask/village_item/{vitem}"),
                     (f"/villages/{VILLAGE}", f"/ask/village/{VILLAGE}")):
        page = client.get(url).get_data(as_text=True)
        assert f'href="{ask}"' in page and "我要提问" in page, url


def test_objection_with_phone_gets_a_receipt_and_is_looked_up(client, conn):
    nid = village_notice(conn, date.today())
    r = submit(client, f"/object/{nid}", body="名单上有一户不符合条件", phone="139 5550 1234")
    assert r.status_code == 303 and r.headers["Location"].endswith("/ask/receipt")
    slip = client.get("/ask/receipt").get_data(as_text=True)
    receipt = RECEIPT.search(slip).group(0)
    assert "139****1234" in slip and "13955501234" not in slip and "公示异议回执" in slip
    row = rq.get_by_receipt(conn, receipt)
    assert row["kind"] == "objection" and row["phone"] == "13955501234"
    page = submit(client, "/ask/status", receipt=receipt.lower(), tail="1234").get_data(as_text=True)
    assert "办理中" in page and receipt in page
    page = submit(client, "/ask/status", receipt=receipt, tail="").get_data(as_text=True)
    assert "没有查到" in page


def test_bad_input_keeps_what_was_typed_and_stores_nothing(client, conn):
    before = conn.execute("SELECT count(*) FROM resident_question").fetchone()[0]
    r = submit(client, f"/ask/village/{VILLAGE}", body="村里的路灯什么时候修", phone="1234")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "手机号码" in page and "村里的路灯什么时候修" in page
    r = submit(client, f"/ask/village/{VILLAGE}", body="")
    assert r.status_code == 422 and "请写下您的问题" in r.get_data(as_text=True)
    assert conn.execute("SELECT count(*) FROM resident_question").fetchone()[0] == before


def test_anonymous_question_and_its_private_answer(client, conn, app):
    r = submit(client, f"/ask/village/{VILLAGE}", body="村集体收入怎么分配", wants_private="1")
    assert r.status_code == 303
    receipt = RECEIPT.search(client.get("/ask/receipt").get_data(as_text=True)).group(0)
    q = rq.get_by_receipt(conn, receipt)
    assert q["kind"] == "village_query" and q["phone"] == "" and q["wants_private"] == 1
    editor = conn.execute("SELECT * FROM user WHERE username = 'village-editor'").fetchone()
    rq.answer(conn, q["uuid"], editor, "按村民代表会议决议分配。", "private", date.today())
    page = submit(client, "/ask/status", receipt=receipt).get_data(as_text=True)
    assert "按村民代表会议决议分配。" in page and "已答复" in page


def test_closed_period_and_unknown_targets(client, conn):
    ended = conn.execute("SELECT id FROM notice WHERE status = 'published' AND period_end < ?",
                         (date.today().isoformat(),)).fetchone()[0]
    r = client.get(f"/object/{ended}")
    assert r.status_code == 410 and "公示期已经结束" in r.get_data(as_text=True)
    assert client.get("/ask/village/340499100000").status_code == 404     # a township is no village
    assert client.get("/ask/item/99999999").status_code == 404
    assert client.get("/ask/bogus/1").status_code == 404
    assert client.get("/ask/receipt").status_code == 302                  # nothing made here


def test_answer_shown_under_the_notice(client, conn):
    nid = village_notice(conn, date.today())
    submit(client, f"/object/{nid}", body="第五户的面积登记错了")
    q = rq.get_by_receipt(conn, RECEIPT.search(client.get("/ask/receipt").get_data(as_text=True)).group(0))
    editor = conn.execute("SELECT * FROM user WHERE username = 'village-editor'").fetchone()
    supervisor = conn.execute("SELECT * FROM user WHERE username = 'village-supervisor'").fetchone()
    rq.answer(conn, q["uuid"], editor, "已更正面积，重新公示。", "public", date.today(),
              question="有一户面积登记有误", upheld=True)
    rq.review(conn, rq.get(conn, q["uuid"])["answer_id"], supervisor, True, date.today())
    page = client.get(f"/notices/{nid}").get_data(as_text=True)
    assert "有一户面积登记有误" in page and "已更正面积，重新公示。" in page and "异议成立" in page
    assert "第五户" not in page


def test_the_application_status_page_takes_a_question_receipt_too(client, conn):
    submit(client, f"/ask/village/{VILLAGE}", body="村里的路灯什么时候修", phone="13955501234")
    receipt = RECEIPT.search(client.get("/ask/receipt").get_data(as_text=True)).group(0)
    form = {"receipt": receipt, "tail": "1234", "csrf_token": csrf(client, "/apply/status")}
    r = client.post("/apply/status", data=form)
    # 307: the browser sends the same form again to the questions' lookup.
    assert r.status_code == 307 and r.headers["Location"].startswith("/ask/status")
    page = client.post(r.headers["Location"], data=form).get_data(as_text=True)
    assert "查询异议和提问的答复" in page and "办理中" in page


def test_the_clock_follows_the_settings(app, client, conn):
    """answer_days_village_query = 3 and answer_workdays_village_query = true (docs/settings.md)."""
    from content.timelimits import add_workdays
    app.config.update(ANSWER_DAYS_VILLAGE_QUERY=3, ANSWER_WORKDAYS_VILLAGE_QUERY=True)
    assert "3个工作日" in client.get(f"/ask/village/{VILLAGE}").get_data(as_text=True)
    submit(client, f"/ask/village/{VILLAGE}", body="村务公开栏什么时候更新")
    q = rq.get_by_receipt(conn, RECEIPT.search(client.get("/ask/receipt").get_data(as_text=True)).group(0))
    assert (q["clock_days"], q["clock_unit"]) == (3, "workday")
    assert q["due_on"] == add_workdays(date.today(), 3).isoformat()
