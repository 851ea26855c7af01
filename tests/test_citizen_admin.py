"""Staff handle applications, see ratings and opinions, publish consultation results (admin, test client)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from content import applications

from admin_util import PASSWORD, add_user, login, token
from test_citizen import GOOD, apply_ok, consultation_ids, post

XINGHUA = "340499100201"   # 杏花村, under 东湖镇 (township-editor's township)
LIULIN = "340499101201"    # 柳林村, under 柳林乡


def staff_client(app, username="county-admin"):
    c = app.test_client()
    login(c, username)
    return c


def step(client, record_uuid, action, **form):
    url = f"/admin/applications/{record_uuid}"
    return client.post(f"{url}/{action}", data={**form, "csrf_token": token(client, url)})


def test_anonymous_and_village_roles_cannot_reach_applications(app, client):
    apply_ok(client)
    r = app.test_client().get("/admin/applications/")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    village = staff_client(app, "village-editor")
    assert village.get("/admin/applications/").status_code == 403


def test_every_stage_through_the_admin_with_events_audit_and_public_status(app, client, conn):
    receipt = apply_ok(client)
    row = applications.get_by_receipt(conn, receipt)
    uid = row["uuid"]
    staff = staff_client(app)
    html = staff.get("/admin/applications/").get_data(as_text=True)
    assert receipt in html and row["due_on"] in html

    detail = staff.get(f"/admin/applications/{uid}").get_data(as_text=True)
    assert GOOD["name"] in detail and GOOD["id_number"] in detail   # staff see the applicant

    today = date.today().isoformat()
    path = [("accept", {}), ("request_completion", {"note": "请写明名单所属年份"}), ("complete", {}),
            ("process", {}), ("consult", {"note": "名单涉及的农户"}), ("third_party_reply", {}),
            ("extend", {"days": "10", "reason": "需要核对多个村的名单"}),
            ("reply", {"outcome": "部分公开", "reason": "涉及个人隐私的部分不予公开"}),
            ("deliver", {"method": "邮寄", "detail": "9812345678901"}), ("archive", {})]
    stages = []
    for action, form in path:
        r = step(staff, uid, action, on_date=today, **form)
        assert r.status_code == 303, (action, re.findall(r"flash[^<]*<[^<]*|role=\"alert\"[^<]*", r.get_data(as_text=True)))
        stage = applications.get(conn, uid)["stage"]
        stages.append(stage)
        status = conn.execute("SELECT * FROM application_status WHERE receipt_no = ?", (receipt,)).fetchone()
        assert status["stage"] == stage                         # what terminals will show
        assert set(status.keys()) == {"receipt_no", "jurisdiction_code", "stage", "due_on", "paused",
                                      "outcome", "updated_at"}    # nothing personal
    assert stages == ["审核", "补正", "审核", "办理", "征求意见", "办理", "办理", "答复", "答复", "归档"]
    final = applications.get(conn, uid)
    assert final["outcome"] == "部分公开" and final["extension_days"] == 10
    events = [e["action"] for e in applications.events(conn, uid)]
    assert events == ["register"] + [a for a, _ in path]
    audit = conn.execute("SELECT action, username FROM audit_log WHERE entity = 'application' "
                         "AND entity_id = ? ORDER BY id", (receipt,)).fetchall()
    assert [a["action"] for a in audit] == ["application_" + a for a, _ in path]
    assert {a["username"] for a in audit} == {"county-admin"}
    logged = " ".join(str(r[0]) for r in conn.execute("SELECT after FROM audit_log WHERE entity = 'application'"))
    assert "邮寄" in logged and "9812345678901" not in logged     # the detail stays on the row only
    assert final["delivery_detail"] == "9812345678901"
    # The resident's lookup shows the result.
    html = post(client, "/apply/status", {"receipt": receipt, "tail": "5678"}).get_data(as_text=True)
    assert "已办结" in html and "部分公开" in html


def test_refused_steps_change_nothing_and_say_why(app, client, conn):
    receipt = apply_ok(client)
    uid = applications.get_by_receipt(conn, receipt)["uuid"]
    staff = staff_client(app)
    r = step(staff, uid, "reply", outcome="予以公开")                # still 登记
    assert r.status_code == 422 and "只能在" in r.get_data(as_text=True)
    step(staff, uid, "accept")
    step(staff, uid, "process")
    r = step(staff, uid, "extend", days="25", reason="太多")
    assert r.status_code == 422 and "1至20" in r.get_data(as_text=True)
    r = step(staff, uid, "reply", outcome="不予公开")
    assert r.status_code == 422 and "须选择理由" in r.get_data(as_text=True)
    r = step(staff, uid, "accept", on_date=(date.today() + timedelta(days=3)).isoformat())
    assert r.status_code == 422
    assert applications.get(conn, uid)["stage"] == "办理"
    assert [e["action"] for e in applications.events(conn, uid)] == ["register", "accept", "process"]
    r = step(staff, uid, "reply", outcome="不予公开", reason_不予公开="属于国家秘密")
    assert r.status_code == 303 and applications.get(conn, uid)["outcome_reason"] == "属于国家秘密"


def test_reviewers_read_but_cannot_handle(app, client, conn):
    add_user(conn, "reviewer", "county_reviewer", "340499000000")
    uid = applications.get_by_receipt(conn, apply_ok(client))["uuid"]
    reviewer = app.test_client()
    login(reviewer, "reviewer", PASSWORD)
    assert reviewer.get(f"/admin/applications/{uid}").status_code == 200
    assert step(reviewer, uid, "accept").status_code == 403
    assert applications.get(conn, uid)["stage"] == "登记"


def test_township_staff_see_only_their_villages(app, client, conn):
    uid = applications.get_by_receipt(conn, apply_ok(client))["uuid"]
    township = staff_client(app, "township-editor")
    conn.execute("UPDATE application SET jurisdiction_code = ? WHERE uuid = ?", (LIULIN, uid))
    assert township.get(f"/admin/applications/{uid}").status_code == 404
    assert uid not in township.get("/admin/applications/?list=all").get_data(as_text=True)
    conn.execute("UPDATE application SET jurisdiction_code = ? WHERE uuid = ?", (XINGHUA, uid))
    assert township.get(f"/admin/applications/{uid}").status_code == 200
    assert step(township, uid, "accept").status_code == 303
    assert township.get("/admin/applications/not-a-uuid").status_code == 404


def test_due_soon_and_overdue_lists(app, client, conn):
    receipt = apply_ok(client)
    row = applications.get_by_receipt(conn, receipt)
    due = date.fromisoformat(row["due_on"])
    staff = staff_client(app)
    for day, soon, late in [(date.today(), False, False),
                            (applications.add_workdays(due, -2), True, False),
                            (due + timedelta(days=1), False, True)]:
        app.config["TODAY"] = day.isoformat()
        soon_html = staff.get("/admin/applications/?list=due_soon").get_data(as_text=True)
        late_html = staff.get("/admin/applications/?list=overdue").get_data(as_text=True)
        assert (receipt in soon_html) is soon, day
        assert (receipt in late_html) is late, day
        if late:
            assert "已超期" in late_html


def test_ratings_aggregated_per_item_domain_and_jurisdiction(app, client, conn):
    for rating in ("满意", "满意", "基本满意", "不满意"):
        r = post(client, "/rate", {"target_type": "guide", "target_id": "1", "rating": rating,
                                   "comment": "希望多开一个窗口" if rating == "不满意" else ""}, page="/guides/1")
        assert r.status_code == 200
    staff = staff_client(app)
    html = staff.get("/admin/ratings").get_data(as_text=True)
    title = conn.execute("SELECT title FROM guide WHERE id = 1").fetchone()[0]
    row = re.search(rf"{re.escape(title)}</a></td>\s*<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>.*?(\d+)%",
                    html, re.S)
    assert row and row.groups() == ("4", "2", "1", "75")
    assert "希望多开一个窗口" in html
    domain = conn.execute("SELECT d.name FROM guide g JOIN domain d ON d.id = g.domain_id WHERE g.id = 1").fetchone()[0]
    assert domain in staff.get("/admin/ratings?by=domain").get_data(as_text=True)
    jname = conn.execute("SELECT j.name FROM guide g JOIN jurisdiction j ON j.code = g.jurisdiction_code "
                         "WHERE g.id = 1").fetchone()[0]
    assert jname in staff.get("/admin/ratings?by=jurisdiction").get_data(as_text=True)


def _reviewer(app, conn, code="340499000000"):
    """A county reviewer (the demo has none): county consultations need one who did not write them."""
    add_user(conn, "county-checker", "county_reviewer", code)
    c = app.test_client()
    login(c, "county-checker", PASSWORD)
    return c


def test_consultation_result_goes_through_review(app, client, conn):
    open_id, closed_id = consultation_ids(conn)
    post(client, f"/consultations/{open_id}", {"body": "建议增加回收点"})
    staff = staff_client(app)
    assert "建议增加回收点" in staff.get(f"/admin/consultations/{open_id}").get_data(as_text=True)
    url = f"/admin/consultations/{open_id}"
    r = staff.post(f"{url}/result", data={"result_summary": "采纳", "csrf_token": token(staff, url)})
    assert r.status_code == 422 and "截止" in r.get_data(as_text=True)
    url = f"/admin/consultations/{closed_id}"
    before = conn.execute("SELECT result_summary, rev FROM consultation WHERE id = ?", (closed_id,)).fetchone()[:]
    for leak in ("联系人电话13812345678", "联系人电话138\u00ad1234\u200b5678", "电话：＋８６　１３８－１２３４－５６７８"):
        r = staff.post(f"{url}/result", data={"result_summary": leak, "csrf_token": token(staff, url)})
        assert r.status_code == 422 and "个人信息" in r.get_data(as_text=True), leak
    assert conn.execute("SELECT count(*) FROM revision WHERE entity = 'consultation' AND entity_id = ? "
                        "AND state != 'published'", (closed_id,)).fetchone()[0] == 0
    version = conn.execute("SELECT value FROM meta WHERE key = 'content_version'").fetchone()[0]
    r = staff.post(f"{url}/result", data={"result_summary": "共收到意见40条，采纳30条。",
                                          "csrf_token": token(staff, url)})
    assert r.status_code == 303
    # Submitted, not published: the kiosk still shows the old result, nothing changed for terminals.
    assert "共收到意见40条" not in client.get(f"/consultations/{closed_id}").get_data(as_text=True)
    assert conn.execute("SELECT result_summary, rev FROM consultation WHERE id = ?", (closed_id,)).fetchone()[:] == before
    assert conn.execute("SELECT value FROM meta WHERE key = 'content_version'").fetchone()[0] == version
    # The author cannot approve it; a county reviewer can, after seeing the change.
    tok = token(staff, url)
    assert staff.post(f"{url}/approve", data={"csrf_token": tok}).status_code == 403
    reviewer = _reviewer(app, conn)
    page = reviewer.get(url).get_data(as_text=True)
    assert "意见采纳情况" in page and "共收到意见40条" in page
    assert page.index("与当前公开版本的对比") < page.index("审核通过并发布")
    r = reviewer.post(f"{url}/approve", data={"csrf_token": token(reviewer, url)})
    assert r.status_code == 302
    assert "共收到意见40条" in client.get(f"/consultations/{closed_id}").get_data(as_text=True)
    row = conn.execute("SELECT * FROM consultation WHERE id = ?", (closed_id,)).fetchone()
    assert row["result_published_on"] == date.today().isoformat() and row["rev"] > before[1]
    actions = [a[0] for a in conn.execute("SELECT action FROM audit_log WHERE entity = 'consultation' "
                                           "AND entity_id = ? ORDER BY id", (str(closed_id),))]
    assert actions == ["save", "submit", "approve"]


def test_village_editor_cannot_publish_county_results(app, conn):
    _, closed_id = consultation_ids(conn)
    village = staff_client(app, "village-editor")
    url = f"/admin/consultations/{closed_id}"
    r = village.post(f"{url}/result", data={"result_summary": "x", "csrf_token": token(village, "/admin/")})
    assert r.status_code in (403, 404)


def _new_consultation(client, code, title):
    today = date.today()
    return client.post("/admin/consultations/new", data={
        "jurisdiction_code": code, "title": title, "body": "说明",
        "doc_title": "养护办法（征求意见稿）", "doc_text": "第一条 为了……", "opens_on": today.isoformat(),
        "closes_on": (today + timedelta(days=30)).isoformat(), "then": "submit",
        "csrf_token": token(client, "/admin/consultations/new")})


def test_new_consultation_waits_for_review(app, client, conn):
    staff = staff_client(app)
    today = date.today()
    bad = staff.post("/admin/consultations/new", data={
        "jurisdiction_code": "340499000000", "title": "", "opens_on": today.isoformat(),
        "closes_on": (today - timedelta(days=1)).isoformat(), "csrf_token": token(staff, "/admin/consultations/new")})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "必填" in html and "截止日期不能早于开始日期" in html
    r = _new_consultation(staff, "340499000000", "《淮川县农村公路养护办法》征求意见")
    assert r.status_code == 302
    cid = conn.execute("SELECT id FROM consultation WHERE title LIKE '%农村公路养护办法%'").fetchone()[0]
    assert conn.execute("SELECT status FROM consultation WHERE id = ?", (cid,)).fetchone()[0] == "submitted"
    assert "农村公路养护办法" not in client.get("/consultations").get_data(as_text=True)
    assert client.get(f"/consultations/{cid}").status_code == 404
    reviewer = _reviewer(app, conn)
    url = f"/admin/consultations/{cid}"
    assert reviewer.post(f"{url}/approve", data={"csrf_token": token(reviewer, url)}).status_code == 302
    assert "农村公路养护办法" in client.get("/consultations").get_data(as_text=True)
    stored = conn.execute("SELECT documents FROM consultation WHERE id = ?", (cid,)).fetchone()[0]
    assert "第一条" in stored


def test_village_consultation_is_approved_by_the_village_supervisor(app, client, conn):
    """A village editor's consultation is not live at once: the 村务监督委员会 approves it."""
    editor = staff_client(app, "village-editor")
    r = _new_consultation(editor, XINGHUA, "杏花村村规民约修订征求意见")
    assert r.status_code == 302
    cid = conn.execute("SELECT id FROM consultation WHERE title = '杏花村村规民约修订征求意见'").fetchone()[0]
    assert "村规民约" not in client.get("/consultations").get_data(as_text=True)
    url = f"/admin/consultations/{cid}"
    assert editor.post(f"{url}/approve", data={"csrf_token": token(editor, url)}).status_code == 403
    supervisor = staff_client(app, "village-supervisor")
    assert "村规民约" in supervisor.get("/admin/review").get_data(as_text=True)
    assert supervisor.post(f"{url}/approve", data={"csrf_token": token(supervisor, url)}).status_code == 302
    assert "村规民约" in client.get("/consultations").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/admin/applications/", "/admin/ratings", "/admin/consultations/"])
def test_nav_links_present(app, url):
    staff = staff_client(app)
    html = staff.get(url).get_data(as_text=True)
    assert 'href="/admin/applications/"' in html and 'href="/admin/ratings"' in html
