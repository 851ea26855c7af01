"""`kiosk init --county …`: the county, its 26 standard domains, the first administrator."""
from __future__ import annotations

import json
import re

import pytest

from content import db, users
from content.county import STANDARD_DOMAINS, county_code
from kiosk import config

from county_util import COUNTY, cli

ARGS = ["--county", "340421", "--county-name", "凤台县", "--admin", "xian-admin"]


def _conn(path):
    return db.connect(path / config.DATABASE_NAME)


@pytest.mark.parametrize("role", ["hub", "standalone"])
def test_init_makes_the_county_domains_and_admin(tmp_path, role):
    path = tmp_path / "h"
    r = cli("init", "--role", role, "--data-dir", path, *ARGS, "--public-url", "https://gk.example.gov.cn/")
    assert r.exit_code == 0, r.output
    password = r.output.strip().splitlines()[-1]
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", password)
    conn = _conn(path)
    county = conn.execute("SELECT * FROM jurisdiction").fetchall()
    assert [(c["code"], c["name"], c["level"], c["kind"]) for c in county] == [
        (COUNTY, "凤台县", "county", "县")]
    domains = conn.execute("SELECT * FROM domain ORDER BY sort").fetchall()
    assert len(domains) == 26 and [d["name"] for d in domains] == [n for n, _ in STANDARD_DOMAINS]
    departments = [dep for d in domains for dep in json.loads(d["departments"])]
    assert all(dep.startswith("县") for dep in departments) and "县市场监管局" in departments
    assert json.loads(domains[15]["departments"]) == ["县城乡建设局", "县住房保障和房产管理局",
                                                       "县城市管理行政执法局"]
    assert domains[23]["name"] == "市政服务"          # a domain's own 市 is not a city
    admin = conn.execute("SELECT * FROM user").fetchone()
    assert (admin["username"], admin["role"], admin["jurisdiction_code"],
            admin["must_change_password"]) == ("xian-admin", "county_admin", COUNTY, 1)
    assert users.verify_password(admin["password_hash"], password)
    assert db.get_meta(conn, "public_url") == "https://gk.example.gov.cn"
    assert db.get_meta(conn, "county_name") == "凤台县" and db.get_meta(conn, "demo") == "0"
    conn.close()
    # The one-time password signs in once and then must be replaced.
    again = cli("init", "--role", role, "--data-dir", path, *ARGS)
    assert again.exit_code != 0 and "已经初始化" in again.output


@pytest.mark.parametrize("extra,message", [
    (["--county", "3404", "--county-name", "凤台县", "--admin", "a"], "6位或12位"),
    (["--county", "340421001000", "--county-name", "凤台县", "--admin", "a"], "不是县级"),
    (["--county", "340421", "--county-name", "凤台县"], "--admin"),
    (["--county", "340421", "--county-name", "凤台县", "--admin", "two words"], "空格"),
    (ARGS + ["--public-url", "http://127.0.0.1:8080"], "内网"),
    (ARGS + ["--public-url", "https://192.168.1.5"], "内网"),
    (ARGS + ["--public-url", "https://kiosk.local"], "内网"),
    (ARGS + ["--public-url", "gk.example.gov.cn"], "https://"),
    (ARGS + ["--demo"], "--demo"),
    (["--public-url", "https://gk.example.gov.cn"], "--county"),
])
def test_init_refuses_bad_county_input_and_writes_nothing(tmp_path, extra, message):
    path = tmp_path / "h"
    r = cli("init", "--role", "hub", "--data-dir", path, *extra)
    assert r.exit_code != 0 and message in r.output, r.output
    assert not (path / config.CONFIG_NAME).exists()


def test_terminal_cannot_be_a_county(tmp_path):
    r = cli("init", "--role", "terminal", "--data-dir", tmp_path / "t", *ARGS)
    assert r.exit_code != 0


def test_county_codes():
    assert county_code("340421") == county_code("340421000000") == COUNTY
    for bad in ("34042", "340400", "3404210010", "34042a", ""):
        with pytest.raises(ValueError):
            county_code(bad)


def test_demo_still_works(tmp_path):
    r = cli("init", "--role", "standalone", "--data-dir", tmp_path / "d", "--demo")
    assert r.exit_code == 0, r.output
    conn = _conn(tmp_path / "d")
    assert conn.execute("SELECT name FROM jurisdiction WHERE level = 'county'").fetchone()[0] == "淮川县"
    conn.close()


# --- kiosk user add --------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["village-editor", "village_editor", "村务编辑"])
def test_user_add_prints_a_one_time_password_last(tmp_path, spelling):
    path = tmp_path / "h"
    from county_util import VILLAGE, make_county
    make_county(path)
    r = cli("user", "add", "liuji-editor", "--role", spelling, "--jurisdiction", VILLAGE,
            "--data-dir", path)
    assert r.exit_code == 0, r.output
    password = r.output.strip().splitlines()[-1]
    conn = _conn(path)
    row = conn.execute("SELECT * FROM user WHERE username = 'liuji-editor'").fetchone()
    assert row["role"] == "village_editor" and row["must_change_password"] == 1
    assert users.verify_password(row["password_hash"], password)
    conn.close()
    bad = cli("user", "add", "x", "--role", "village-boss", "--jurisdiction", VILLAGE, "--data-dir", path)
    assert bad.exit_code != 0 and "未知角色" in bad.output
