"""Policy documents and their 解读 from the hub to a village terminal, over real sync:
主动公开 ones whole (with their 图解 pictures), 依申请公开 ones as metadata only, 不予公开 ones never."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from content import editing, policies
from kiosk import create_app
from sync import publish, terminal

from conftest import tconn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from admin_util import add_user, login, user_row  # noqa: E402
from pictures_util import leaflet_png  # noqa: E402

COUNTY = "340499000000"


def _tujie_document(hub) -> tuple[int, str]:
    """A county document with a 图解 picture, written, uploaded and approved on the hub."""
    conn = hub.conn()
    add_user(conn, "county-checker", "county_reviewer", COUNTY)
    admin = user_row(conn, "county-admin")
    key = policies.new_key()
    doc_id = editing.create(conn, admin, "policy_document", {
        "jurisdiction_code": COUNTY, "title": "淮川县养老服务补贴办法", "doc_number": "淮川民〔2025〕12号",
        "issuer": "淮川县民政局", "issued_on": "2025-07-01", "validity": "现行有效", "disclosure": "主动公开",
        "needs_interpretation": 1, "body": "第一条 为做好养老服务补贴工作，制定本办法。",
        "interpretations": [{"key": key, "form": "图解", "title": "一图读懂养老服务补贴", "body": "", "qa": []}]})
    staff = hub.app.test_client()
    tok = login(staff, "county-admin")
    r = staff.post(f"/admin/policies/{doc_id}/attachments",
                   data={"csrf_token": tok, "interpretation": key, "file": (io.BytesIO(leaflet_png()), "图解.png")})
    assert r.status_code == 302
    editing.submit(conn, admin, "policy_document", doc_id)
    editing.approve(conn, user_row(conn, "county-checker"), "policy_document", doc_id, pictures_checked=True)
    sha = json.loads(conn.execute("SELECT pictures FROM policy_attachment WHERE document_id = ?",
                                  (doc_id,)).fetchone()[0])[0]["sha256"]
    conn.close()
    return doc_id, sha


def test_policies_reach_the_terminal_as_residents_may_see_them(hub, term):
    doc_id, picture = _tujie_document(hub)
    hub.execute("""INSERT INTO policy_document(jurisdiction_code, title, body, issuer, disclosure, withheld_reason,
                   status, published_at) VALUES (?, '淮川县内部值班制度', '内部', '淮川县人民政府办公室', '不予公开',
                   '第十六条第一款：行政机关的内部事务信息', 'published', '2025-01-01T00:00:00Z')""", (COUNTY,))
    hub.publish()
    assert terminal.sync_once(term).ok
    tc = tconn(term)
    docs = {r["title"]: dict(r) for r in tc.execute("SELECT * FROM policy_document")}
    assert "淮川县内部值班制度" not in docs                                  # 不予公开 stays on the hub
    closed = next(d for d in docs.values() if d["disclosure"] == "依申请公开")
    assert closed["body"] == ""                                             # only its metadata travels
    assert tc.execute("SELECT count(*) FROM policy_interpretation WHERE document_id = ?",
                      (closed["id"],)).fetchone()[0] == 0
    assert tc.execute("SELECT count(*) FROM policy_interpretation").fetchone()[0] == 5
    tc.close()
    client = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()
    assert "淮川县养老服务补贴办法" in client.get("/policies").get_data(as_text=True)
    page = client.get(f"/policies/{doc_id}").get_data(as_text=True)
    assert "一图读懂养老服务补贴" in page and f"/pictures/{picture}" in page
    assert client.get(f"/pictures/{picture}").status_code == 200
    assert publish.attachment_path(term, picture).is_file()
    found = client.get("/search?q=对公示结果有意见").get_data(as_text=True)
    assert "最低生活保障实施办法" in found                                    # Q&A text is searchable there too

    # Withdrawn at the hub: gone from the terminal with its 解读 and picture.
    hub.execute("UPDATE policy_document SET status = 'withdrawn' WHERE id = ?", (doc_id,))
    hub.publish()
    assert terminal.sync_once(term).ok
    assert client.get(f"/policies/{doc_id}").status_code == 404
    assert client.get(f"/pictures/{picture}").status_code == 404
    assert not publish.attachment_path(term, picture).exists()
    tc = tconn(term)
    assert tc.execute("SELECT count(*) FROM policy_interpretation WHERE document_id = ?", (doc_id,)).fetchone()[0] == 0
    tc.close()
