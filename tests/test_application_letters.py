"""告知书 / 答复书 filled from the application and stored as issued; the scanned reply, staff-only."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest

from content import application_letters as letters
from content import applications

from admin_util import login, token
from pdf_util import benign
from pictures_util import leaflet_png
from test_citizen import GOOD, apply_ok

ADDRESSED = {**GOOD, "address": "淮川县东湖镇杏花村3组12号", "delivery": "邮寄"}


def _staff(app, username="county-admin"):
    c = app.test_client()
    login(c, username)
    return c


def _issue(staff, uid, kind):
    url = f"/admin/applications/{uid}"
    return staff.post(f"{url}/letters", data={"kind": kind, "csrf_token": token(staff, url)})


def _answered(client, conn, outcome, reason=""):
    uid = applications.get_by_receipt(conn, apply_ok(client, ADDRESSED))["uuid"]
    today = date.today()
    applications.perform(conn, uid, "accept", today)
    applications.perform(conn, uid, "process", today)
    applications.perform(conn, uid, "reply", today, outcome=outcome, reason=reason)
    return uid


CASES = [(o, r) for o, reasons in applications.OUTCOMES.items() for r in (reasons or ("",))]


@pytest.mark.parametrize("outcome, reason", CASES)
def test_reply_letter_for_every_outcome_and_reason(app, client, conn, outcome, reason):
    if outcome == "其他处理":
        reason = "申请人撤回申请"
    uid = _answered(client, conn, outcome, reason)
    with app.test_request_context():
        row = letters.issue(conn, uid, "reply", date.today())
    html = row["html"]
    assert "政府信息公开申请答复书" in html and "张三" in html
    assert ADDRESSED["title"] in html and "淮川县人民政府" in html
    if reason:
        assert reason in html or outcome == "无法提供"
    basis = letters.BASIS.get(reason) or letters.BASIS.get(outcome)
    if basis:
        assert basis in html
    assert "六十日内向" in html and "行政复议" in html                 # the applicant's remedies


def test_letters_follow_the_history_and_are_snapshots(app, client, conn):
    uid = applications.get_by_receipt(conn, apply_ok(client, ADDRESSED))["uuid"]
    staff = _staff(app)
    r = _issue(staff, uid, "reply")
    assert r.status_code == 422 and "尚无可出具" in r.get_data(as_text=True)
    today = date.today()
    applications.perform(conn, uid, "accept", today)
    applications.perform(conn, uid, "request_completion", today, note="请写明补贴年份")
    assert letters.available(conn, uid) == ["completion"]
    r = _issue(staff, uid, "completion")
    assert r.status_code == 303
    page = staff.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "补正告知书" in html and "请写明补贴年份" in html and "7个工作日" in html and "张三" in html
    first = letters.letters(conn, uid)[0]
    # The application changes; the stored letter does not (a reprint shows what was sent).
    conn.execute("UPDATE application SET name = '李四', completion_note = '改过的' WHERE uuid = ?", (uid,))
    conn.commit()
    again = staff.get(f"/admin/applications/{uid}/letters/{first['id']}").get_data(as_text=True)
    assert "请写明补贴年份" in again and "张三" in again and "李四" not in again
    r = _issue(staff, uid, "completion")
    numbers = [x["letter_no"] for x in letters.letters(conn, uid)]
    assert numbers[0].endswith("-补1") and numbers[1].endswith("-补2")
    assert "李四" in letters.letter(conn, uid, letters.letters(conn, uid)[1]["id"])["html"]


def test_extension_third_party_and_transfer_letters(app, client, conn):
    uid = applications.get_by_receipt(conn, apply_ok(client, ADDRESSED))["uuid"]
    today = date.today()
    applications.perform(conn, uid, "accept", today)
    applications.perform(conn, uid, "process", today)
    applications.perform(conn, uid, "extend", today, days="10", reason="需要核对多个村的名单")
    applications.perform(conn, uid, "consult", today, note="杏花村股份经济合作社")
    with app.test_request_context():
        ext = letters.issue(conn, uid, "extension", today)["html"]
        third = letters.issue(conn, uid, "third_party", today)["html"]
    assert "延长10个工作日" in ext and "需要核对多个村的名单" in ext
    assert "杏花村股份经济合作社" in third and "15个工作日" in third and "张三" not in third


def test_letters_are_staff_only(app, client, conn):
    uid = _answered(client, conn, "予以公开")
    staff = _staff(app)
    location = _issue(staff, uid, "reply").headers["Location"]
    assert app.test_client().get(location).status_code == 302                   # to the login
    assert _staff(app, "village-editor").get(location).status_code == 403
    assert "张三" not in client.get("/apply/status").get_data(as_text=True)


def test_scanned_reply_upload_and_staff_only_download(app, client, conn):
    uid = _answered(client, conn, "予以公开")
    staff = _staff(app)
    url = f"/admin/applications/{uid}"
    for name, data in (("答复书.pdf", benign(1)), ("答复书.png", leaflet_png())):
        r = staff.post(f"{url}/documents", data={"csrf_token": token(staff, url),
                                                 "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")
        assert r.status_code == 303, r.get_data(as_text=True)[:500]
    docs = letters.documents(conn, uid)
    assert [d["mime"] for d in docs] == ["application/pdf", "image/png"]
    got = staff.get(f"{url}/documents/{docs[0]['id']}")
    assert got.status_code == 200 and got.data.startswith(b"%PDF") and got.headers["Cache-Control"] == "no-store"
    assert app.test_client().get(f"{url}/documents/{docs[0]['id']}").status_code == 302
    r = staff.post(f"{url}/documents", data={"csrf_token": token(staff, url),
                                             "file": (io.BytesIO(b"MZ\x90\x00 not a document"), "reply.exe")},
                   content_type="multipart/form-data")
    assert r.status_code == 422 and "只能上传图片" in r.get_data(as_text=True)
    assert len(letters.documents(conn, uid)) == 2
    assert re.search(r"答复书\.pdf", staff.get(url).get_data(as_text=True))


def test_what_the_applicant_typed_is_escaped_in_the_stored_letter(app, client, conn):
    uid = applications.get_by_receipt(conn, apply_ok(client, {**ADDRESSED, "title": "<script>alert(1)</script>名单"}))["uuid"]
    for action, params in (("accept", {}), ("process", {}), ("reply", {"outcome": "予以公开"})):
        applications.perform(conn, uid, action, date.today(), **params)
    staff = _staff(app)
    html = staff.get(_issue(staff, uid, "reply").headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
