"""Hints around applications: published items while typing on /apply; 依申请转主动 for staff."""
from __future__ import annotations

from datetime import date

from content import application_hints as hints
from content import applications

from admin_util import login
from test_citizen import GOOD, apply_ok

TITLE = "2025年东湖镇耕地地力保护补贴发放名单"


def test_words_and_similarity():
    a = hints.words("2025年东湖镇耕地地力保护补贴名单")
    b = hints.words("东湖镇２０２５年耕地地力补贴发放名单")            # full-width digits, other order
    assert "耕地" in a and "2025" in b and "名单" not in a            # stop words dropped
    assert hints.similarity(a, b) >= hints.SIMILAR
    assert hints.similarity(a, hints.words("城关街道养老服务补贴政策")) < hints.SIMILAR
    assert hints.similarity(set(), a) == 0


def test_published_matches_for_a_long_title(conn):
    found = hints.published_matches(conn, TITLE, None, date.today())
    assert found and any("耕地地力" in h.title for h in found)
    assert hints.published_matches(conn, "的", None, date.today()) == []


def test_apply_suggest_fragment_and_page(client):
    r = client.get("/apply/suggest", query_string={"title": TITLE}, headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and "这些信息可能已经公开" in html and "耕地地力" in html
    page = client.get("/apply/suggest", query_string={"title": TITLE}).get_data(as_text=True)
    assert "<html" in page and "返回填写申请" in page and "耕地地力" in page
    assert "这些信息可能已经公开" not in client.get("/apply/suggest", query_string={"title": "火星探测器轨道参数"},
                                                   headers={"HX-Request": "true"}).get_data(as_text=True)
    form = client.get("/apply").get_data(as_text=True)
    assert 'hx-get="/apply/suggest"' in form and "from:#f-title" in form


def test_proactive_hint_from_three_applicants(app, client, conn):
    ids = ["11010519491231002X", "110105194912310003", "110105194912310011"]
    titles = [TITLE, "东湖镇2025年耕地地力保护补贴名单", "申请公开2025年东湖镇耕地地力保护补贴发放名单"]
    uids = []
    for n, (idn, title) in enumerate(zip(ids, titles)):
        if n == 2:
            groups = hints.proactive_groups(conn, None, date.today())
            assert groups == []                                       # two applicants: not yet
        uids.append(applications.get_by_receipt(conn, apply_ok(client, {**GOOD, "id_number": idn,
                                                                         "title": title}))["uuid"])
    apply_ok(client, {**GOOD, "title": "城关街道养老服务补贴政策"})
    groups = hints.proactive_groups(conn, None, date.today())
    assert len(groups) == 1 and groups[0]["count"] == 3 and groups[0]["applicants"] == 3
    assert set(groups[0]["uuids"]) == set(uids)
    staff = app.test_client()
    login(staff, "county-admin")
    assert "建议依申请转主动公开" in staff.get("/admin/applications/").get_data(as_text=True)
    assert "另有2件内容相近的申请" in staff.get(f"/admin/applications/{uids[0]}").get_data(as_text=True)
    assert hints.proactive_group_of(conn, uids[1], None, date.today())["count"] == 3
    assert hints.proactive_group_of(conn, uids[1], None, date.today(), threshold=4) is None
    assert hints.proactive_groups(conn, None, date.today(), threshold=4) == []
    # The same person asking again and again is one applicant.
    for _ in range(3):
        apply_ok(client, {**GOOD, "title": "城关街道养老服务补贴政策"})
    assert len(hints.proactive_groups(conn, None, date.today())) == 1
