"""One public address for every QR code: checked, stored, never loopback or a private network."""
from __future__ import annotations

import pytest

from content import db
from content.public_url import check_public_url, is_public_host

from admin_util import login, token


@pytest.mark.parametrize("host", ["gk.example.gov.cn", "8.8.8.8", "[2001:4860::8888]"])
def test_public_hosts(host):
    assert is_public_host(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "172.16.5.4",
                                  "169.254.1.1", "[::1]", "fd00::1", "kiosk.local", "hub.lan", "hub",
                                  "0.0.0.0", "a.localhost", ""])
def test_private_hosts(host):
    assert not is_public_host(host)


def test_check_public_url():
    assert check_public_url(" https://gk.example.gov.cn/ ") == "https://gk.example.gov.cn"
    assert check_public_url("https://www.example.gov.cn/gk") == "https://www.example.gov.cn/gk"
    for bad in ("ftp://gk.example.gov.cn", "gk.example.gov.cn", "https://gk.example.gov.cn/?a=1",
                "http://127.0.0.1:8080", "https://user:pw@gk.example.gov.cn"):
        with pytest.raises(ValueError):
            check_public_url(bad)


def test_admin_sets_the_public_url_and_refuses_a_lan_address(app, conn, client):
    admin = app.test_client()
    login(admin, "county-admin")
    r = admin.post("/admin/county/public-url", data={"csrf_token": token(admin, "/admin/county"),
                                                     "public_url": "http://192.168.1.20:8080"})
    assert r.status_code == 400 and "内网" in r.get_data(as_text=True)
    assert db.get_meta(conn, "public_url") == "https://gk.huaichuan.example"
    r = admin.post("/admin/county/public-url", data={"csrf_token": token(admin, "/admin/county"),
                                                     "public_url": "https://gk.huaichuan.example.gov.cn"})
    assert r.status_code == 302
    assert db.get_meta(conn, "public_url") == "https://gk.huaichuan.example.gov.cn"
    # Every QR code of the resident screens and boards now starts there.
    html = client.get("/display/county-hall").get_data(as_text=True)
    assert "url=https%3A%2F%2Fgk.huaichuan.example.gov.cn%2Fnotices" in html
    assert "127.0.0.1" not in html and "localhost" not in html


def test_without_a_public_url_boards_show_no_code_rather_than_localhost(client, conn):
    db.set_meta(conn, "public_url", None)
    html = client.get("/display/county-hall").get_data(as_text=True)
    assert "url=http%3A%2F%2Flocalhost" not in html and "/qr.svg?url=http%3A%2F%2F" not in html
