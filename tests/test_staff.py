"""Staff accounts in the admin (/admin/users): who manages whom, one-time passwords and the
forced change, reset, disable, bulk import with its print sheet; phones masked everywhere."""
from __future__ import annotations

import re
from io import BytesIO

import pytest

from content import users

from admin_util import login, token, user_row
from county_util import xlsx_bytes

COUNTY, TOWN, VILLAGE = "340499000000", "340499100000", "340499100201"
NEIGHBOUR, FAR_VILLAGE, FAR_TOWN = "340499100202", "340499101201", "340499101000"
NEW_PASSWORD = "Qiaotou-cun-editor-2027!"


def post(client, url, page=None, **data):
    return client.post(url, data={"csrf_token": token(client, page or url), **data})


def otp_of(html: str) -> str:
    return re.search(r"data-password>([a-z2-9-]{14})<", html).group(1)


def first_sign_in(client, username, one_time, new=NEW_PASSWORD):
    r = client.post("/admin/login", data={"username": username, "password": one_time,
                                          "csrf_token": token(client)})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return post(client, "/admin/password", current=one_time, new=new, again=new)


def test_county_admin_creates_an_account_that_must_set_its_password(app, conn):
    admin = app.test_client()
    login(admin, "county-admin")
    r = post(admin, "/admin/users/new", display_name="桥头村编辑", role="village_editor",
             jurisdiction=NEIGHBOUR, phone="13912345678", username="qiaotou-editor")
    assert r.status_code == 200
    one_time = otp_of(r.get_data(as_text=True))
    row = user_row(conn, "qiaotou-editor")
    assert row["must_change_password"] == 1 and row["phone"] == "13912345678"

    new = app.test_client()
    r = new.post("/admin/login", data={"username": "qiaotou-editor", "password": one_time,
                                       "csrf_token": token(new)})
    assert r.status_code == 302
    # Nothing else of the admin before the password is set: pages of every blueprint.
    for page in ("/admin/", "/admin/notices/", "/admin/review", "/admin/users", "/admin/assessment/", "/admin/fleet",
                 f"/admin/village-items/new"):
        r = new.get(page)
        assert r.status_code == 302 and r.headers["Location"].endswith("/admin/password"), page
    r = new.post("/admin/notices/new", data={"csrf_token": token(new, "/admin/password"), "title": "x"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/password")
    # Weak, mismatched or wrong-current passwords are refused with a reason.
    for data, message in (({"current": one_time, "new": "short", "again": "short"}, "至少"),
                          ({"current": one_time, "new": NEW_PASSWORD, "again": NEW_PASSWORD + "x"}, "不一致"),
                          ({"current": "wrong", "new": NEW_PASSWORD, "again": NEW_PASSWORD}, "一次性密码")):
        r = post(new, "/admin/password", **data)
        assert r.status_code == 400 and message in r.get_data(as_text=True)
    r = post(new, "/admin/password", current=one_time, new=NEW_PASSWORD, again=NEW_PASSWORD)
    assert r.status_code == 302
    assert new.get("/admin/").status_code == 200
    assert user_row(conn, "qiaotou-editor")["must_change_password"] == 0
    assert users.verify_password(user_row(conn, "qiaotou-editor")["password_hash"], NEW_PASSWORD)
    # The one-time password no longer works.
    again = app.test_client()
    r = again.post("/admin/login", data={"username": "qiaotou-editor", "password": one_time,
                                         "csrf_token": token(again)})
    assert r.status_code == 401


def test_township_staff_manage_only_their_villages(app, conn):
    town = app.test_client()
    login(town, "township-editor")
    listing = town.get("/admin/users").get_data(as_text=True)
    assert "village-editor" in listing and "village-supervisor" in listing
    assert "county-admin" not in listing and "township-editor</td>" not in listing
    # Their villages only, village roles only.
    r = post(town, "/admin/users/new", display_name="桥头村监委", role="village_supervisor",
             jurisdiction=NEIGHBOUR)
    assert r.status_code == 200 and otp_of(r.get_data(as_text=True))
    for role, code, message in (("village_editor", FAR_VILLAGE, "不能为"),
                                ("township_editor", TOWN, "请选择角色"),
                                ("county_admin", COUNTY, "请选择角色")):
        r = post(town, "/admin/users/new", "/admin/users/new", display_name="某人", role=role,
                 jurisdiction=code)
        if role != "village_editor":
            assert r.status_code == 400
        else:
            assert r.status_code == 400 and message in r.get_data(as_text=True)
    admin_id = user_row(conn, "county-admin")["id"]
    assert town.get(f"/admin/users/{admin_id}").status_code == 404
    assert post(town, f"/admin/users/{admin_id}/reset", "/admin/users").status_code == 404
    # Village staff do not manage accounts at all.
    village = app.test_client()
    login(village, "village-editor")
    assert village.get("/admin/users").status_code == 403


def test_reset_disable_and_change_are_audited_with_masked_phones(app, conn):
    admin = app.test_client()
    login(admin, "county-admin")
    r = post(admin, "/admin/users/new", display_name="白塔村编辑", role="village_editor",
             jurisdiction="340499100203", phone="139 8765 4321", username="baita")
    first = otp_of(r.get_data(as_text=True))
    uid = user_row(conn, "baita")["id"]
    # Change of role and village.
    page = f"/admin/users/{uid}"
    r = post(admin, page, display_name="白塔村监委", role="village_supervisor", jurisdiction=NEIGHBOUR,
             phone="139****4321")
    assert r.status_code == 302
    row = user_row(conn, "baita")
    assert (row["role"], row["jurisdiction_code"], row["phone"]) == ("village_supervisor", NEIGHBOUR,
                                                                      "13987654321")
    # Reset: the first one-time password stops working, the new one forces a change.
    r = post(admin, f"{page}/reset", page)
    second = otp_of(r.get_data(as_text=True))
    assert second != first
    c = app.test_client()
    assert c.post("/admin/login", data={"username": "baita", "password": first,
                                        "csrf_token": token(c)}).status_code == 401
    assert first_sign_in(c, "baita", second).status_code == 302
    assert c.get("/admin/").status_code == 200
    # Disable: the open session ends, signing in is refused, the account and its name stay.
    assert post(admin, f"{page}/active", page, active="0").status_code == 302
    assert c.get("/admin/").status_code == 302
    c = app.test_client()
    assert c.post("/admin/login", data={"username": "baita", "password": NEW_PASSWORD,
                                        "csrf_token": token(c)}).status_code == 401
    admin.get("/admin/users")                              # (the flash names it once)
    assert "<td>baita</td>" not in admin.get("/admin/users").get_data(as_text=True)
    assert "<td>baita</td>" in admin.get("/admin/users?disabled=1").get_data(as_text=True)
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE entity = 'user' "
                                          "AND entity_id = ? ORDER BY id", (str(uid),))]
    assert actions[:3] == ["create", "update", "reset_password"] and actions[-1] == "disable"
    log = " ".join(r[0] or "" for r in conn.execute("SELECT after FROM audit_log WHERE entity = 'user'"))
    assert "13987654321" not in log and "139****4321" in log
    audit_page = admin.get("/admin/audit?entity=user").get_data(as_text=True)
    assert "13987654321" not in audit_page
    # Nobody disables their own account or changes their own role.
    me = user_row(conn, "county-admin")["id"]
    r = post(admin, f"/admin/users/{me}/active", f"/admin/users/{me}", active="0")
    assert user_row(conn, "county-admin")["active"] == 1
    r = post(admin, f"/admin/users/{me}", display_name="管理员", role="village_editor", jurisdiction=VILLAGE)
    assert r.status_code == 400 and "自己的角色" in r.get_data(as_text=True)
    assert user_row(conn, "county-admin")["role"] == "county_admin"


def _upload(client, data: bytes, name: str):
    return client.post("/admin/users/import", data={
        "csrf_token": token(client, "/admin/users/import"), "file": (BytesIO(data), name)},
        content_type="multipart/form-data")


def test_bulk_import_is_all_or_nothing_with_row_numbers(app, conn):
    admin = app.test_client()
    login(admin, "county-admin")
    before = conn.execute("SELECT count(*) FROM user").fetchone()[0]
    bad = [["姓名", "手机", "角色", "区划代码"],
           ["张三", "13912345678", "村务编辑", NEIGHBOUR],
           ["李四", "1391234", "村务监督委员会", NEIGHBOUR],
           ["王五", "13700001111", "村长", NEIGHBOUR],
           ["赵六", "13700002222", "村务编辑", TOWN],
           ["钱七", "13912345678", "村务编辑", FAR_VILLAGE],
           ["张三", "13800003333", "村务编辑", NEIGHBOUR]]
    r = _upload(admin, xlsx_bytes(bad), "名单.xlsx")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    for line, word in ((3, "手机号"), (4, "角色"), (5, "村（社区）"), (6, "第2行"), (7, "同一人")):
        assert re.search(rf"第{line}行：[^<]*{word}", html), (line, word, html[-3000:])
    assert "13912345678" not in html                       # refused phones are masked too
    assert conn.execute("SELECT count(*) FROM user").fetchone()[0] == before


def test_bulk_import_makes_a_print_sheet_per_township(app, conn):
    town = app.test_client()
    login(town, "township-editor")
    csv_text = ("姓名,手机,角色,区划代码\n"
                f"孙桥,13911112222,村务编辑,{NEIGHBOUR}\n"
                f"周桥,,village_supervisor,{NEIGHBOUR}\n"
                f"吴塔,13911113333,村务监督委员会,340499100203\n")
    # A township's staff: villages of another township are refused.
    r = _upload(town, (csv_text + f"郑柳,13911114444,村务编辑,{FAR_VILLAGE}\n").encode("gbk"), "名单.csv")
    assert r.status_code == 400 and "第5行" in r.get_data(as_text=True)
    r = _upload(town, csv_text.encode("gbk"), "名单.csv")
    assert r.status_code == 200
    sheet = r.get_data(as_text=True)
    assert sheet.count('class="sheet-page"') == 1 and "东湖镇 工作人员账号" in sheet
    made = dict(re.findall(r'<tr data-username="([^"]+)">.*?data-password>([^<]+)</td>', sheet, re.S))
    assert set(made) == {"sunqiao", "zhouqiao", "wuta"}
    assert "13911112222" not in sheet                      # the sheet needs no phone
    for username, one_time in made.items():
        row = user_row(conn, username)
        assert row["must_change_password"] == 1 and users.verify_password(row["password_hash"], one_time)
    assert user_row(conn, "sunqiao")["phone"] == "13911112222"
    # The same file again: every row is a person who already has that account.
    r = _upload(town, csv_text.encode("gbk"), "名单.csv")
    assert r.status_code == 400 and "已有" in r.get_data(as_text=True)


@pytest.mark.parametrize("name,expected", [("张三", "zhangsan"), ("欧阳明", "ouyangming"), ("Li Ming", "liming")])
def test_usernames_come_from_pinyin(conn, name, expected):
    from content.staff import username_for
    assert username_for(conn, name, set()) == expected
    assert username_for(conn, name, {expected}) == expected + "2"
