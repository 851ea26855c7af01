"""Staff sign-in, accounts, roles and the generated role × jurisdiction × action matrix."""
from __future__ import annotations

import io
import json
import re

import pytest
from werkzeug.routing.converters import AnyConverter

from admin_util import PASSWORD, add_user, login, token, user_row
from content import db, editing, users
from content.admin.forms import ENTITY_LEVELS

COUNTY, TOWN, VILLAGE = "340499000000", "340499100000", "340499100201"
OTHER_TOWN, OTHER_VILLAGE, FAR_VILLAGE = "340499101000", "340499100202", "340499101201"
N_COUNTY, N_TOWN, N_VILLAGE = "340599000000", "340599100000", "340599100201"
DEMO_CODES = {"340499000000", "340499001000", "340499001001", "340499100000", "340499100201",
              "340499100202", "340499100203", "340499101000", "340499101201", "340499101202"}

# Written out by hand (not computed from content.auth) so the test can disagree with it.
MAY_READ = {
    "county_admin": DEMO_CODES,
    "county_reviewer": {COUNTY},
    "township_editor": {TOWN},
    "township_reviewer": {TOWN},
    "village_editor": {VILLAGE},
    "village_supervisor": {VILLAGE},
}
HOME = {"county_admin": COUNTY, "county_reviewer": COUNTY, "township_editor": TOWN,
        "township_reviewer": TOWN, "village_editor": VILLAGE, "village_supervisor": VILLAGE}
KIND = {"catalogue_item": "catalogue", "village_item": "village-items", "matter": "matters",
        "notice": "notices", "guide": "guides", "handbook": "handbooks", "board": "boards",
        "consultation": "consultations"}
LEVEL = {COUNTY: "county", TOWN: "township", OTHER_TOWN: "township", VILLAGE: "village",
         OTHER_VILLAGE: "village", FAR_VILLAGE: "village", N_COUNTY: "county", N_TOWN: "township",
         N_VILLAGE: "village"}


# --- sign in and out ----------------------------------------------------------------

def test_login_page_and_dashboard_redirect(client):
    r = client.get("/admin/")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    html = client.get("/admin/login").get_data(as_text=True)
    assert "工作人员登录" in html and 'name="csrf_token"' in html


def test_each_demo_account_signs_in_and_sees_its_scope(app):
    expected = {"county-admin": ("县级管理员", "淮川县"), "township-editor": ("乡镇编辑", "东湖镇"),
                "village-editor": ("村务编辑", "杏花村"), "village-supervisor": ("村务监督委员会", "杏花村")}
    for username, (role, place) in expected.items():
        c = app.test_client()
        login(c, username)
        html = c.get("/admin/").get_data(as_text=True)
        assert role in html and place in html, username


def test_wrong_password_is_refused_and_audited(client, conn):
    r = client.post("/admin/login", data={"username": "village-editor", "password": "nope",
                                          "csrf_token": token(client)})
    assert r.status_code == 401 and "用户名或密码不正确" in r.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    row = conn.execute("SELECT * FROM audit_log WHERE action = 'login_failed' ORDER BY id DESC").fetchone()
    assert row["username"] == "village-editor"


def test_open_redirect_after_login_is_refused(client):
    r = client.post("/admin/login", data={"username": "village-editor", "password": "demo-password",
                                          "csrf_token": token(client), "next": "//evil.example/admin/"})
    assert r.status_code == 302 and r.headers["Location"] == "/admin/"
    client.post("/admin/logout", data={"csrf_token": token(client, "/admin/")})
    r = client.post("/admin/login", data={"username": "village-editor", "password": "demo-password",
                                          "csrf_token": token(client), "next": "/admin/notices/"})
    assert r.headers["Location"] == "/admin/notices/"


def test_logout_ends_the_session(client):
    tok = login(client, "village-editor")
    assert client.get("/admin/").status_code == 200
    assert client.post("/admin/logout", data={"csrf_token": tok}).status_code == 302
    assert client.get("/admin/").status_code == 302


def _session(client, app):
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    return cookie.value, app.session_interface.get_signing_serializer(app).loads(cookie.value)


def test_session_is_renewed_at_login(app):
    c = app.test_client()
    before_token = token(c)
    cookie_before, before = _session(c, app)
    login(c, "village-editor")
    cookie_after, after = _session(c, app)
    assert cookie_after != cookie_before
    assert "user_id" not in before and after["user_id"]
    assert after.get("sid") and after.get("sid") != before.get("sid")
    # The token of the anonymous session is gone with it.
    assert after.get("csrf_token") != before.get("csrf_token")
    r = c.post("/admin/logout", data={"csrf_token": before_token})
    assert r.status_code == 400


def test_session_cookie_flags(app, client):
    client.get("/admin/login")
    r = client.post("/admin/login", data={"username": "village-editor", "password": "demo-password",
                                          "csrf_token": token(client)})
    header = [h for h in r.headers.getlist("Set-Cookie") if h.startswith(app.config["SESSION_COOKIE_NAME"])][0]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header


def test_secure_cookie_is_configurable(data_dir):
    from kiosk import create_app
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "SECURE_COOKIES": True})
    c = app.test_client()
    r = c.get("/admin/login")
    assert any("Secure" in h for h in r.headers.getlist("Set-Cookie"))


def test_password_change_ends_other_sessions(app, conn):
    c = app.test_client()
    login(c, "village-editor")
    assert c.get("/admin/").status_code == 200
    users.set_password(conn, "village-editor", "A-much-better-secret-42")
    assert c.get("/admin/").status_code == 302


def test_default_password_refused_outside_the_demo(app, conn, client):
    db.set_meta(conn, "demo", "0")
    r = client.post("/admin/login", data={"username": "village-editor", "password": "demo-password",
                                          "csrf_token": token(client)})
    assert r.status_code == 401 and "默认密码" in r.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


# --- kiosk user add / passwd ------------------------------------------------------------

def test_cli_user_add_and_passwd(data_dir, conn):
    from click.testing import CliRunner
    from kiosk.cli import main
    runner = CliRunner()
    args = ["user", "add", "liulin-editor", "--role", "village_editor", "--jurisdiction",
            FAR_VILLAGE, "--display-name", "柳林村编辑", "--password-stdin", "--data-dir", str(data_dir)]
    r = runner.invoke(main, args, input="Liulin-village-2025!\n")
    assert r.exit_code == 0, r.output
    row = user_row(conn, "liulin-editor")
    assert row["role"] == "village_editor" and row["jurisdiction_code"] == FAR_VILLAGE
    assert users.verify_password(row["password_hash"], "Liulin-village-2025!")
    # Prompted twice when not from stdin; a mismatch is refused by click.
    r = runner.invoke(main, ["user", "passwd", "liulin-editor", "--data-dir", str(data_dir)],
                      input="Another-good-pass-77\nAnother-good-pass-77\n")
    assert r.exit_code == 0, r.output
    row = user_row(conn, "liulin-editor")
    assert users.verify_password(row["password_hash"], "Another-good-pass-77")
    assert conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'user' AND entity_id = ?",
                        (str(row["id"]),)).fetchone()[0] == 2


@pytest.mark.parametrize("password,message", [
    ("short1!", "至少"), ("12345678901", "猜到"), ("passwordpassword", "猜到"),
    ("xx-new-editor-xx-2025", "用户名"),
])
def test_cli_refuses_weak_passwords(data_dir, conn, password, message):
    from click.testing import CliRunner
    from kiosk.cli import main
    r = CliRunner().invoke(main, ["user", "add", "new-editor", "--role", "village_editor",
                                  "--jurisdiction", VILLAGE, "--password-stdin", "--data-dir",
                                  str(data_dir)], input=password + "\n")
    assert r.exit_code != 0 and message in r.output
    assert user_row(conn, "new-editor") is None


def test_cli_refuses_default_password_outside_demo_and_wrong_level(data_dir, conn):
    from click.testing import CliRunner
    from kiosk.cli import main
    db.set_meta(conn, "demo", "0")
    base = ["user", "add", "x-editor", "--password-stdin", "--data-dir", str(data_dir)]
    r = CliRunner().invoke(main, base + ["--role", "village_editor", "--jurisdiction", VILLAGE],
                           input="demo-password\n")
    assert r.exit_code != 0 and "默认密码" in r.output
    r = CliRunner().invoke(main, base + ["--role", "village_editor", "--jurisdiction", TOWN],
                           input="Perfectly-fine-pass-1\n")
    assert r.exit_code != 0 and "村" in r.output
    r = CliRunner().invoke(main, ["user", "passwd", "nobody", "--password-stdin", "--data-dir",
                                  str(data_dir)], input="Perfectly-fine-pass-1\n")
    assert r.exit_code != 0 and "没有" in r.output
    assert user_row(conn, "x-editor") is None


def test_migration_keeps_users_and_allows_reviewer_roles(conn):
    assert {r["username"] for r in conn.execute("SELECT username FROM user")} >= {
        "county-admin", "township-editor", "village-editor", "village-supervisor"}
    add_user(conn, "reviewer-x", "township_reviewer", TOWN)
    with pytest.raises(Exception):
        conn.execute("INSERT INTO user(username, password_hash, role, jurisdiction_code) "
                     "VALUES ('bad', 'x', 'superuser', ?)", (COUNTY,))
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


# --- the generated matrix ----------------------------------------------------------------

def _data(table: str, code: str) -> dict:
    title = f"M-{table}-{code}"
    return {
        "catalogue_item": {"jurisdiction_code": code, "domain_id": 1, "level1": title,
                           "level2": "矩阵", "content_elements": "测试", "audience": "全社会",
                           "mode": "主动"},
        "village_item": {"jurisdiction_code": code, "category": "村级财务", "title": title},
        "notice": {"jurisdiction_code": code, "subject_code": code, "title": title, "kind": "公示",
                   "priority": "普通", "body": "矩阵测试"},
        "guide": {"jurisdiction_code": code, "title": title},
        "handbook": {"jurisdiction_code": code, "title": title},
        "matter": {"key": "matrix-matter", "title": title},
        "board": {"jurisdiction_code": code, "slug": f"matrix-{code}", "name": title,
                  "orientation": "landscape", "slide_seconds": 15, "poll_seconds": 30,
                  "fallback_title": "矩阵", "levels": [], "domains": [], "windows": []},
        "consultation": {"jurisdiction_code": code, "title": title, "body": "矩阵测试",
                         "opens_on": "2020-01-01", "closes_on": "2020-01-31"},
    }[table]


def _title(table: str, code: str) -> str:
    data = _data(table, code)
    return data.get("title") or data.get("name") or data["level1"]


@pytest.fixture
def world(conn):
    """A neighbour county, one account per role, and one object per noun and jurisdiction:
    each published, with a submitted revision open on top of it."""
    conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code) VALUES (?, '邻县', 'county', NULL)",
                 (N_COUNTY,))
    conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code) VALUES (?, '邻镇', 'township', ?)",
                 (N_TOWN, N_COUNTY))
    conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code) VALUES (?, '邻村', 'village', ?)",
                 (N_VILLAGE, N_TOWN))
    for role, code in HOME.items():
        add_user(conn, f"m-{role}", role, code)
    add_user(conn, "creator", "county_admin", COUNTY)
    add_user(conn, "n-creator", "county_admin", N_COUNTY)
    objects = []
    for table in KIND:
        codes = [COUNTY] if table == "matter" else [c for c in LEVEL if LEVEL[c] in ENTITY_LEVELS[table]]
        for code in codes:
            creator = user_row(conn, "n-creator" if code.startswith("3405") else "creator")
            oid = editing.create(conn, creator, table, _data(table, code))
            conn.execute(f"UPDATE {table} SET status = 'published' WHERE id = ?", (oid,))
            conn.execute("UPDATE revision SET state = 'published' WHERE entity = ? AND entity_id = ?",
                         (table, oid))
            changed = dict(_data(table, code), **({"level2": "修改中"} if table == "catalogue_item"
                                                  else {"name": _title(table, code) + "-修改中"}
                                                  if table == "board"
                                                  else {"title": _data(table, code).get("title", "") + "-修改中"}))
            editing.save_draft(conn, creator, table, oid, changed)
            editing.submit(conn, creator, table, oid)
            objects.append({"table": table, "id": oid, "code": code, "title": _title(table, code)})
    return objects


def _snapshot(conn, objects) -> dict:
    out = {}
    for o in objects:
        row = tuple(conn.execute(f"SELECT * FROM {o['table']} WHERE id = ?", (o["id"],)).fetchone())
        revs = [tuple(r) for r in conn.execute(
            "SELECT * FROM revision WHERE entity = ? AND entity_id = ? ORDER BY rev", (o["table"], o["id"]))]
        out[(o["table"], o["id"])] = (row, revs)
    out["attachments"] = conn.execute("SELECT count(*) FROM attachment").fetchone()[0]
    return out


def _object_requests(app, obj) -> list[tuple[str, str]]:
    """Every admin route that names one object, built from the app's own URL map."""
    kind = KIND[obj["table"]]
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin/") or "obj_id" not in rule.arguments:
            continue
        fixed_kind = rule.rule.split("/")[2]
        if "kind" not in rule.arguments and fixed_kind != kind:
            continue
        values = [{"kind": kind, "obj_id": obj["id"]}]
        for arg, conv in rule._converters.items():
            if isinstance(conv, AnyConverter) and arg != "kind":
                values = [dict(v, **{arg: item}) for v in values for item in sorted(conv.items)]
            elif arg == "rev":
                values = [dict(v, rev=1) for v in values]
            elif arg == "sha256":
                values = [dict(v, sha256="0" * 64) for v in values]
        if "kind" in rule.arguments:
            # A <kind> in the path, or a route per kind that fixes it in its defaults.
            kinds = rule._converters["kind"].items if "kind" in rule._converters else {rule.defaults["kind"]}
            if kind not in kinds:
                continue
        for v in values:
            url = rule.build({k: v[k] for k in rule.arguments}, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((method, url))
    return out


def _post_data(tok: str, url: str) -> dict:
    data = {"csrf_token": tok, "title": "HACKED", "level1": "HACKED", "reason": "矩阵", "sha256": "0" * 64,
            "jurisdiction_code": COUNTY, "subject_code": COUNTY, "kind": "公示", "priority": "普通",
            "name": "HACKED", "slug": "hacked", "orientation": "landscape", "slide_seconds": "15",
            "poll_seconds": "30", "fallback_title": "HACKED", "result_summary": "HACKED",
            "opens_on": "2020-01-01", "closes_on": "2020-01-31"}
    if url.endswith("/attachments"):
        data["file"] = (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf")
    return data


def test_role_jurisdiction_action_matrix(app, conn, world):
    """For every role and every object outside its reach, every read and write is 403 or 404."""
    before = _snapshot(conn, world)
    checked, seen = 0, set()
    for role in HOME:
        c = app.test_client()
        tok = login(c, f"m-{role}", PASSWORD)
        for obj in world:
            inside = obj["code"] in MAY_READ[role]
            detail = f"/admin/{KIND[obj['table']]}/{obj['id']}"
            if inside:
                assert c.get(detail).status_code == 200, (role, obj)
                continue
            for method, url in _object_requests(app, obj):
                r = c.open(url, method=method, data=_post_data(tok, url) if method == "POST" else None)
                assert r.status_code in (403, 404), (role, obj, method, url, r.status_code)
                checked += 1
                seen.add(re.sub(r"/\d+", "/N", url.split("?")[0]))
    assert checked > 500
    # Routes added later join by themselves; these are known to be in it (boards, 紧急通知).
    assert {"/admin/boards/N/edit", "/admin/boards/N/approve", "/admin/boards/N/preview",
            "/admin/boards/N/preview/slides", "/admin/notices/N/clear-emergency",
            "/admin/consultations/N/approve", "/admin/consultations/N/result",
            "/admin/consultations/N/edit"} <= seen
    assert _snapshot(conn, world) == before


def test_lists_dashboards_and_audit_show_only_the_reach(app, conn, world):
    for role in HOME:
        c = app.test_client()
        login(c, f"m-{role}", PASSWORD)
        pages = [c.get("/admin/").get_data(as_text=True), c.get("/admin/review").get_data(as_text=True),
                 c.get("/admin/audit").get_data(as_text=True)]
        for kind in set(KIND.values()):
            r = c.get(f"/admin/{kind}/?status=published")
            assert r.status_code in (200, 403, 404)
            pages.append(r.get_data(as_text=True) if r.status_code == 200 else "")
        text = "\n".join(pages)
        for obj in world:
            if obj["code"] not in MAY_READ[role]:
                assert obj["title"] not in text, (role, obj)
        mine = [o for o in world if o["code"] == HOME[role] and o["table"] != "matter"]
        assert mine and all(o["title"] in text for o in mine), role


def test_import_and_export_outside_reach(app, conn, world):
    for role in HOME:
        c = app.test_client()
        tok = login(c, f"m-{role}", PASSWORD)
        for code in {OTHER_TOWN, N_COUNTY, N_TOWN} - MAY_READ[role]:
            assert c.get(f"/admin/export?jurisdiction={code}&format=csv").status_code in (403, 404)
            r = c.post("/admin/import", data={"csrf_token": tok, "jurisdiction": code,
                                              "file": (io.BytesIO(b"x"), "a.csv")})
            assert r.status_code in (403, 404), (role, code)
        r = c.post("/admin/import/submit", data={"csrf_token": tok, "item": [
            str(o["id"]) for o in world if o["table"] == "catalogue_item" and o["code"] not in MAY_READ[role]]})
        assert r.status_code in (403, 404), role


def test_new_object_outside_reach_is_refused(app, conn, world):
    """Creating content for another jurisdiction through a forged form is refused."""
    before = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("notice", "consultation")]
    for role in ("village_editor", "township_editor", "village_supervisor"):
        c = app.test_client()
        tok = login(c, f"m-{role}", PASSWORD)
        for code in (OTHER_VILLAGE, FAR_VILLAGE, OTHER_TOWN, COUNTY, N_VILLAGE):
            for kind in ("notices", "consultations"):
                r = c.post(f"/admin/{kind}/new", data={
                    "csrf_token": tok, "jurisdiction_code": code, "subject_code": code, "title": "越权",
                    "kind": "公示", "priority": "普通", "opens_on": "2020-01-01", "closes_on": "2020-01-31",
                    "then": "submit"})
                assert r.status_code in (400, 403, 404), (role, kind, code, r.status_code)
    assert [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("notice", "consultation")] == before


def test_supervisors_and_reviewers_cannot_edit_their_own_jurisdiction(app, conn, world):
    for role in ("village_supervisor", "township_reviewer", "county_reviewer"):
        c = app.test_client()
        tok = login(c, f"m-{role}", PASSWORD)
        for obj in world:
            if obj["code"] != HOME[role]:
                continue
            base = f"/admin/{KIND[obj['table']]}/{obj['id']}"
            assert c.get(base + "/edit").status_code == 403
            for step in ("withdraw", "discard", "mask", "submit"):
                assert c.post(f"{base}/{step}", data={"csrf_token": tok}).status_code == 403


def test_village_editor_never_sees_another_villages_draft(app, conn):
    other = add_user(conn, "qiaotou-editor", "village_editor", OTHER_VILLAGE)
    nid = editing.create(conn, conn.execute("SELECT * FROM user WHERE id = ?", (other,)).fetchone(),
                         "notice", _data("notice", OTHER_VILLAGE) | {"title": "桥头村草稿公示"})
    c = app.test_client()
    login(c, "village-editor")
    assert c.get(f"/admin/notices/{nid}").status_code == 404
    for url in ("/admin/", "/admin/notices/", "/admin/notices/?status=draft", "/admin/audit"):
        assert "桥头村草稿公示" not in c.get(url).get_data(as_text=True), url
    assert json.loads(conn.execute("SELECT data FROM revision WHERE entity='notice' AND entity_id=?",
                                   (nid,)).fetchone()[0])["title"] == "桥头村草稿公示"
    assert re.search("桥头村草稿公示", c.get(f"/notices/{nid}").get_data(as_text=True)) is None
