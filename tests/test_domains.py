"""The county's domains: its own beyond the 26, departments, hiding a domain with no content."""
from __future__ import annotations

import json

from content import importer

from admin_util import login, token

HEADER = "序号,领域,一级事项,二级事项,公开内容(要素),公开依据,公开时限,公开主体,公开渠道和载体,公开对象,公开方式,公开层级\n"


def post(client, **data):
    return client.post("/admin/domains", data={"csrf_token": token(client, "/admin/domains"), **data})


def _domain(conn, name):
    return conn.execute("SELECT * FROM domain WHERE name = ?", (name,)).fetchone()


def test_county_adds_its_own_domain_and_imports_into_it(app, conn):
    admin = app.test_client()
    login(admin, "county-admin")
    r = post(admin, action="add", name="人民防空领域", departments="县人防办、县应急管理局")
    assert r.status_code == 302
    d = _domain(conn, "人民防空")
    assert d["pilot"] == 0 and json.loads(d["departments"]) == ["县人防办", "县应急管理局"]
    assert "本县添加" in admin.get("/admin/domains").get_data(as_text=True)
    assert post(admin, action="add", name="人民防空", departments="").status_code == 400
    csv = HEADER + "1,人民防空,人防工程,防空警报试鸣,试鸣时间和范围,《人民防空法》,试鸣前5个工作日," \
                   "县人防办,政府网站,全社会,主动,县级\n"
    result = importer.import_catalogue(conn, csv.encode(), "340499000000", filename="rf.csv")
    assert result.inserted == 1 and result.domains == {"人民防空": 1}
    # Residents see it with the others.
    assert "人民防空" in admin.get("/domains").get_data(as_text=True)


def test_departments_are_renamed_and_audited(app, conn):
    admin = app.test_client()
    login(admin, "county-admin")
    d = _domain(conn, "扶贫")
    r = post(admin, action="departments", domain_id=str(d["id"]), departments="县乡村振兴局")
    assert r.status_code == 302
    assert json.loads(_domain(conn, "扶贫")["departments"]) == ["县乡村振兴局"]
    assert conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'domain' AND action = 'update'"
                        ).fetchone()[0] == 1


def test_only_a_domain_without_content_can_be_hidden(app, conn):
    admin = app.test_client()
    login(admin, "county-admin")
    busy = _domain(conn, "社会救助")
    r = post(admin, action="hide", domain_id=str(busy["id"]))
    assert r.status_code == 400 and "不能隐藏" in r.get_data(as_text=True)
    assert _domain(conn, "社会救助")["hidden"] == 0
    post(admin, action="add", name="人民防空", departments="县人防办")
    empty = _domain(conn, "人民防空")
    assert post(admin, action="hide", domain_id=str(empty["id"])).status_code == 302
    assert _domain(conn, "人民防空")["hidden"] == 1
    assert "人民防空" not in admin.get("/domains").get_data(as_text=True)
    csv = HEADER + "1,人民防空,人防工程,警报,时间,法,5个工作日,县人防办,政府网站,全社会,主动,县级\n"
    try:
        importer.import_catalogue(conn, csv.encode(), "340499000000", filename="rf.csv")
        raise AssertionError("a hidden domain took an import")
    except importer.CatalogueError as e:
        assert "人民防空" in str(e)
    assert post(admin, action="show", domain_id=str(empty["id"])).status_code == 302
    assert _domain(conn, "人民防空")["hidden"] == 0


def test_only_county_admins_keep_domains(app):
    town = app.test_client()
    login(town, "township-editor")
    assert town.get("/admin/domains").status_code == 403
    assert town.get("/admin/county").status_code == 403
