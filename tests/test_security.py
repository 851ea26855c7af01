"""CSRF on every POST route, login throttling, security headers, the CSRF exemption hook."""
from __future__ import annotations

import re

from flask import Blueprint

from admin_util import login, token
from content.security import csrf

CSP_PARTS = ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'")


def _concrete(rule) -> str:
    """A URL for a rule with made-up but well-formed arguments."""
    values = {}
    for arg, conv in rule._converters.items():
        items = getattr(conv, "items", None)
        if items:
            values[arg] = sorted(items)[0]
        elif "code" in arg:
            values[arg] = "340499100201"
        elif arg == "sha256":
            values[arg] = "0" * 64
        else:
            values[arg] = 1
    return rule.build(values, append_unknown=False)[1]


def _post_routes(app) -> list[str]:
    urls = [_concrete(r) for r in app.url_map.iter_rules() if "POST" in r.methods]
    return sorted(set(urls))


def test_every_post_route_refuses_a_missing_token(app):
    """Enumerated from the URL map, so routes added later are covered too."""
    urls = _post_routes(app)
    assert "/admin/login" in urls and len(urls) >= 8
    # flask-wtf keeps the Blueprint objects themselves; compare by name.
    exempt = {getattr(bp, "name", bp) for bp in csrf._exempt_blueprints}
    anon, staff = app.test_client(), app.test_client()
    login(staff, "county-admin")
    for url in urls:
        endpoint = app.url_map.bind("localhost").match(url, method="POST")[0]
        if endpoint.split(".")[0] in exempt:
            continue
        for c in (anon, staff):
            r = c.post(url, data={"username": "county-admin", "password": "demo-password"})
            assert r.status_code == 400, (url, r.status_code)
            r = c.post(url, data={"csrf_token": "forged"})
            assert r.status_code == 400, (url, r.status_code)
    assert "请求已过期" in anon.post("/admin/login").get_data(as_text=True)


def test_only_the_sync_inbox_may_be_exempt(app):
    """Machine-to-machine blueprints opt out through content.security.csrf, and the keyboard's
    read-only handwriting recogniser (JSON bodies only: tests/test_ime.py); nothing else does."""
    names = {getattr(bp, "name", bp) for bp in csrf._exempt_blueprints} - {"probe_inbox"}
    assert names <= {"sync", "sync_hub", "hub", "inbox", "ime"}
    assert not csrf._exempt_views


def test_exempting_a_blueprint_works(data_dir):
    from kiosk import create_app
    bp = Blueprint("probe_inbox", __name__)

    @bp.route("/probe/inbox", methods=["POST"])
    def inbox():
        return "ok"
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    csrf.exempt(bp)
    try:
        app.register_blueprint(bp)
        assert app.test_client().post("/probe/inbox").status_code == 200
    finally:
        csrf._exempt_blueprints.discard(bp)


def test_htmx_header_token_is_accepted(client):
    tok = login(client, "village-editor")
    r = client.post("/admin/logout", headers={"X-CSRFToken": tok, "HX-Request": "true"})
    assert r.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_resident_pages_carry_no_token_and_start_no_session(client):
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert "Set-Cookie" not in r.headers
    assert 'name="csrf-token"' not in html and not re.search(r'name="csrf_token" value="[^"]', html)
    # The forms on the page have an empty field that csrf.js fills from /csrf-token.
    assert 'name="csrf_token" value=""' in html and "csrf.js" in html
    assert client.get("/static/csrf.js").status_code == 200


def test_the_token_endpoint_starts_a_session_whose_token_posts(client):
    assert client.post("/elderly", data={"next": "/"}).status_code == 400
    r = client.get("/csrf-token")
    assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"]
    assert "Set-Cookie" in r.headers and "Access-Control-Allow-Origin" not in r.headers
    tok = r.get_json()["token"]
    assert client.post("/elderly", data={"next": "/", "csrf_token": tok}).status_code == 303
    assert client.post("/elderly", data={"next": "/"}, headers={"X-CSRFToken": tok}).status_code == 303
    assert client.post("/elderly", data={"next": "/", "csrf_token": tok + "x"}).status_code == 400
    # Another visitor (another session) cannot use it.
    other = client.application.test_client()
    assert other.post("/elderly", data={"next": "/", "csrf_token": tok}).status_code == 400


def test_login_is_throttled_after_repeated_failures(client):
    codes = []
    for _ in range(12):
        r = client.post("/admin/login", data={"username": "village-editor", "password": "wrong",
                                              "csrf_token": token(client)})
        codes.append(r.status_code)
    assert codes[0] == 401 and codes[-1] == 429
    assert "登录失败次数过多" in r.get_data(as_text=True)
    # Even the right password is refused while throttled: that is the point.
    r = client.post("/admin/login", data={"username": "village-editor", "password": "demo-password",
                                          "csrf_token": token(client)})
    assert r.status_code == 429


def test_throttling_counts_per_account_across_addresses(client):
    codes = []
    for n in range(10):
        r = client.post("/admin/login", data={"username": "county-admin", "password": "wrong",
                                              "csrf_token": token(client)},
                        environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"})
        codes.append(r.status_code)
    assert codes[-1] == 429 and codes.count(401) == 8


def test_successful_logins_are_not_throttled(app):
    for _ in range(12):
        c = app.test_client()
        login(c, "village-editor")


def _check_headers(r, url):
    csp = r.headers.get("Content-Security-Policy", "")
    for part in CSP_PARTS:
        assert part in csp, (url, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers.get("X-Content-Type-Options") == "nosniff", url
    assert r.headers.get("X-Frame-Options") == "DENY", url
    assert r.headers.get("Referrer-Policy"), url


def test_security_headers_on_resident_admin_and_error_pages(client):
    urls = ["/", "/notices", "/domains", "/guides", "/healthz", "/admin/login", "/nothing-here",
            "/qr.svg?url=https://example.gov.cn/"]
    for url in urls:
        _check_headers(client.get(url), url)
    login(client, "county-admin")
    for url in ("/admin/", "/admin/notices/", "/admin/audit", "/admin/import"):
        r = client.get(url)
        assert r.status_code == 200, url
        _check_headers(r, url)


def test_no_inline_script_or_style_in_admin_pages(client, conn):
    login(client, "county-admin")
    nid = conn.execute("SELECT id FROM notice WHERE status='published' LIMIT 1").fetchone()[0]
    for url in ("/admin/login", "/admin/", "/admin/notices/", f"/admin/notices/{nid}",
                f"/admin/notices/{nid}/edit", "/admin/catalogue/new", "/admin/audit", "/admin/import"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert " style=" not in html and "<style" not in html and " on" + "click=" not in html, url
