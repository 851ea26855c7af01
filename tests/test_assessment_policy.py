"""Policy interpretation figures of the assessment dashboard (content.assessment_policy)."""
from __future__ import annotations

import io
from datetime import date

import openpyxl

from admin_util import add_user, login, user_row
from content import assessment_policy, db, editing, policies
from kiosk import create_app

from test_policies import COUNTY, TOWN, _doc, _publish

EVER = (date(2000, 1, 1), date(2100, 1, 1))


def test_a_county_may_let_documents_through_and_the_dashboard_lists_them(data_dir):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "POLICY_INTERPRETATION_REQUIRED": False})
    conn = db.connect(app.config["DATABASE"])
    add_user(conn, "county-checker", "county_reviewer", COUNTY)
    with app.app_context():
        doc_id = _publish(conn, user_row(conn, "county-checker"), _doc())
        fig = assessment_policy.figures(conn, [COUNTY], *EVER)
    assert [d["id"] for d in fig.without] == [doc_id]
    conn.close()


def test_late_interpretations_are_counted_against_the_setting(conn):
    # The demo's 耕地地力保护补贴 明白卡 came out 10 days after its document.
    fig = assessment_policy.figures(conn, [COUNTY], *EVER, late_days=3)
    assert [(r["form"], r["days_after"]) for r in fig.late] == [("明白卡", 10)]
    assert fig.without == [] and fig.in_scope == fig.interpreted == 2
    assert assessment_policy.figures(conn, [COUNTY], *EVER, late_days=10).late == []
    assert assessment_policy.figures(conn, [TOWN], *EVER).late == []


def test_the_dashboard_shows_and_exports_the_policy_figures(app):
    c = app.test_client()
    login(c, "county-admin")
    html = c.get("/admin/assessment/?from=2000-01-01").get_data(as_text=True)
    assert 'id="policy"' in html and "滞后发布的政策解读" in html and "耕地地力保护补贴明白卡" in html
    r = c.get("/admin/assessment/policy_late.xlsx?from=2000-01-01")
    assert r.status_code == 200
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows() for c in row]
    assert "明白卡" in cells and 10 in cells


def test_an_interpretation_added_later_is_late_and_the_document_was_without_one(conn, data_dir):
    add_user(conn, "county-checker", "county_reviewer", COUNTY)
    reviewer, admin = user_row(conn, "county-checker"), user_row(conn, "county-admin")
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "POLICY_INTERPRETATION_REQUIRED": False})
    with app.app_context():
        doc_id = _publish(conn, reviewer, _doc())
    conn.execute("UPDATE policy_document SET published_at = '2025-05-01T02:00:00Z' WHERE id = ?", (doc_id,))
    qa = {"key": policies.new_key(), "form": "简明问答", "title": "", "body": "", "qa": [{"q": "问？", "a": "答。"}]}
    editing.save_draft(conn, admin, "policy_document", doc_id, {**_doc(), "interpretations": [qa]})
    editing.submit(conn, admin, "policy_document", doc_id)
    editing.approve(conn, reviewer, "policy_document", doc_id)
    fig = assessment_policy.figures(conn, [COUNTY], *EVER, late_days=3)
    assert doc_id in [d["id"] for d in fig.without]
    assert any(r["document_id"] == doc_id and r["days_after"] > 3 for r in fig.late)
    # The first publication stays: a third approval does not move it.
    first = conn.execute("SELECT published_at FROM policy_interpretation WHERE document_id = ?", (doc_id,)).fetchone()[0]
    editing.save_draft(conn, admin, "policy_document", doc_id, {**_doc(body="改了正文"), "interpretations": [qa]})
    editing.submit(conn, admin, "policy_document", doc_id)
    editing.approve(conn, reviewer, "policy_document", doc_id)
    assert conn.execute("SELECT published_at FROM policy_interpretation WHERE document_id = ?",
                        (doc_id,)).fetchone()[0] == first
