"""The go-live checklist (content.golive, /admin/golive): each line turns done when its gap is closed."""
from __future__ import annotations

import os
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from content import golive, holidays
from kiosk.backup import make_backup

from admin_util import add_user, login

TODAY = date(2026, 12, 3)


def lines(conn, **kw) -> dict[str, golive.Check]:
    args = {"today": TODAY, "data_dir": None, "role": "standalone", "public": None, **kw}
    return {c.key: c for c in golive.checklist(conn, **args)}


def villages(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT code FROM jurisdiction WHERE level = 'village'")]


def test_divisions_line(conn):
    c = lines(conn)["divisions"]
    assert c.state == golive.OK and "乡镇（街道）" in c.detail and c.link == "/admin/divisions"
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DELETE FROM jurisdiction WHERE level = 'village'")
    c = lines(conn)["divisions"]
    assert c.state == golive.TODO and "村（社区）0 个" in c.detail


def test_domains_without_catalogue_items_are_named(conn):
    empty = conn.execute("SELECT name FROM domain d WHERE NOT EXISTS (SELECT 1 FROM catalogue_item i "
                         "WHERE i.domain_id = d.id) ORDER BY sort, id").fetchall()
    c = lines(conn)["domains"]
    if empty:
        assert c.state == golive.TODO and empty[0][0] in c.detail
    county = conn.execute("SELECT code FROM jurisdiction WHERE level = 'county'").fetchone()[0]
    for (domain_id,) in conn.execute("SELECT id FROM domain").fetchall():
        conn.execute("INSERT INTO catalogue_item(jurisdiction_code, domain_id, level1, status) "
                     "VALUES (?, ?, '测试事项', 'published')", (county, domain_id))
    assert lines(conn)["domains"].state == golive.OK
    conn.execute("INSERT INTO domain(name, pilot) VALUES ('其他领域', 0)")
    c = lines(conn)["domains"]
    assert c.state == golive.TODO and "其他领域" in c.detail and c.link == "/admin/import"


def test_villages_without_editor_or_supervisor(conn):
    c = lines(conn)["staff"]
    assert c.state == golive.TODO and c.link == "/admin/users"
    assert "杏花村" not in c.detail.split("没有村务编辑")[1].split("；")[0]     # the demo village has both
    for i, code in enumerate(villages(conn)):
        if not conn.execute("SELECT 1 FROM user WHERE jurisdiction_code = ? AND role = 'village_editor'",
                            (code,)).fetchone():
            add_user(conn, f"ed{i}", "village_editor", code)
    c = lines(conn)["staff"]
    assert c.state == golive.TODO and "没有村务编辑" not in c.detail and "没有村务监督委员会账号" in c.detail
    for i, code in enumerate(villages(conn)):
        if not conn.execute("SELECT 1 FROM user WHERE jurisdiction_code = ? AND role = 'village_supervisor'",
                            (code,)).fetchone():
            add_user(conn, f"sup{i}", "village_supervisor", code)
    assert lines(conn)["staff"].state == golive.OK
    # A disabled account does not count.
    conn.execute("UPDATE user SET active = 0 WHERE username = 'village-editor'")
    assert "杏花村" in lines(conn)["staff"].detail


def test_villages_without_a_published_list(conn):
    c = lines(conn)["village_lists"]
    missing = [r[0] for r in conn.execute(
        "SELECT name FROM jurisdiction v WHERE level = 'village' AND NOT EXISTS (SELECT 1 FROM village_item i "
        "WHERE i.jurisdiction_code = v.code AND i.status = 'published')")]
    assert (c.state == golive.OK) == (not missing)
    for code in villages(conn):
        conn.execute("INSERT INTO village_item(jurisdiction_code, category, title, status) "
                     "VALUES (?, '村级财务', '村级财务收支', 'published')", (code,))
    c = lines(conn)["village_lists"]
    assert c.state == golive.OK and c.link == "/admin/templates/"


def test_terminals_per_township_and_last_seen(conn):
    c = lines(conn)["terminals"]
    assert c.state == golive.TODO and "kiosk enroll" in c.detail
    village = "340499100201"
    recent = (datetime.now(timezone.utc) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = (datetime.now(timezone.utc) - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn.execute("INSERT INTO sync_terminal(id, public_key, scope, last_contact) VALUES (?, 'k', ?, ?)",
                 ("a" * 64, village, recent))
    conn.execute("INSERT INTO sync_terminal(id, public_key, scope, last_contact) VALUES (?, 'k', ?, ?)",
                 ("b" * 64, village, old))
    c = lines(conn)["terminals"]
    assert c.state == golive.WARN and "已登记 2 台查询机" in c.detail and "1 台超过3天没有联系" in c.detail
    row = next(r for r in c.rows if r[0] == "东湖镇")
    assert row[1] == 2 and row[2] != "—" and "1 台超过3天未联系" in row[3]
    assert any(r[3] == "没有查询机" for r in c.rows)          # the other townships
    assert c.link == "/admin/fleet"


def test_boards_line(conn):
    n = conn.execute("SELECT count(*) FROM board WHERE status = 'published'").fetchone()[0]
    assert (lines(conn)["boards"].state == golive.OK) == bool(n)
    conn.execute("UPDATE board SET status = 'withdrawn'")
    assert lines(conn)["boards"].state == golive.TODO


@pytest.mark.parametrize("url,state,tls", [
    (None, golive.TODO, golive.TODO),
    ("http://127.0.0.1:8080", golive.TODO, golive.TODO),
    ("http://localhost:8080/", golive.TODO, golive.TODO),
    ("https://192.168.10.5/", golive.TODO, golive.OK),
    ("http://10.0.0.2", golive.TODO, golive.TODO),
    ("https://[::1]/", golive.TODO, golive.OK),
    ("gk.example.gov.cn", golive.TODO, golive.TODO),
    ("http://gk.huaichuan.gov.cn", golive.OK, golive.TODO),
    ("https://gk.huaichuan.gov.cn/", golive.OK, golive.OK),
])
def test_public_url_and_tls(conn, url, state, tls):
    got = lines(conn, public=url)
    assert got["public_url"].state == state, got["public_url"].detail
    assert got["tls"].state == tls


def test_signing_key_made_and_backed_up(tmp_path, data_dir, conn):
    assert lines(conn)["key"].state == golive.NA                 # standalone: nothing to sign
    hub = {"role": "hub", "data_dir": data_dir}
    assert lines(conn, **hub)["key"].state == golive.TODO
    key = data_dir / "keys" / "signing.pem"
    key.parent.mkdir(exist_ok=True)
    key.write_text("not a real key, only its date matters here")
    c = lines(conn, **hub)["key"]
    assert c.state == golive.TODO and "之后还没有备份" in c.detail
    (data_dir / "kiosk.toml").write_text('role = "hub"\n')
    make_backup(data_dir, tmp_path / "backup.tar.gz")
    c = lines(conn, **hub)["key"]
    assert c.state == golive.OK and "kiosk backup" in c.detail
    # A new key made after the backup is not backed up.
    later = time.time() + 60
    os.utime(key, (later, later))
    assert lines(conn, **hub)["key"].state == golive.TODO


def test_next_years_holiday_calendar(conn):
    c = lines(conn)["holidays"]
    assert c.state == golive.TODO and "2027年的节假日安排还没有录入" in c.detail and c.link == "/admin/holidays/"
    holidays.import_schedule(conn, holidays.rows_from_text("2027-02-05..2027-02-11, 休, 春节"))
    assert lines(conn)["holidays"].state == golive.OK
    assert lines(conn, today=date(2024, 5, 1))["holidays"].state == golive.OK   # 2025 is built in


def test_page_and_dashboard_for_county_admins_only(app, client, conn):
    app.config["TODAY"] = TODAY.isoformat()
    app.config["PUBLIC_URL"] = "http://127.0.0.1:8080"
    token = login(client, "county-admin")
    html = client.get("/admin/golive/").get_data(as_text=True)
    for href in ("/admin/users", "/admin/divisions", "/admin/holidays/", "/admin/fleet", "#fix-public-url"):
        assert f'href="{href}"' in html
    assert "本机或内网地址" in html and "2027年的节假日安排还没有录入" in html
    dash = client.get("/admin/").get_data(as_text=True)
    assert "上线准备：" in dash and "项已完成" in dash and "/admin/golive/#check-holidays" in dash
    r = client.post("/admin/golive/key-backed-up", data={"csrf_token": token})
    assert r.status_code == 303
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'key_backed_up'").fetchone()[0] == 1
    client.post("/admin/logout", data={"csrf_token": token})
    login(client, "township-editor")
    assert client.get("/admin/golive/").status_code == 403
    assert "上线准备" not in client.get("/admin/").get_data(as_text=True)
