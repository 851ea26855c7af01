"""CSRF on every POST route, login throttling, security headers, the CSRF exemption hook."""
from __future__ import annotations

import re

import pytest

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


def test_only_machine_requests_may_be_exempt(app):
    """Machine-to-machine blueprints opt out through content.security.csrf; nothing else does:
    the sync inbox (each request signed by the terminal's key), a board's report of what it
    showed (accepted from this machine only, tests/test_display_proof.py) and the keyboard's
    read-only handwriting recogniser (JSON bodies only: tests/test_ime.py)."""
    names = {getattr(bp, "name", bp) for bp in csrf._exempt_blueprints} - {"probe_inbox"}
    assert names <= {"sync", "sync_hub", "hub", "inbox", "display_proof", "ime"}
    assert not csrf._exempt_views
    assert app.test_client().post("/display/xinghuacun/shown", json={"hours": {}},
                                  environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code == 403


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


def _try(client, username, password, address="10.0.0.1"):
    return client.post("/admin/login", data={"username": username, "password": password,
                                             "csrf_token": token(client)},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def clock(monkeypatch):
    """content.login_throttle's clock, moved by hand."""
    from content import login_throttle
    now = [1_800_000_000.0]
    monkeypatch.setattr(login_throttle, "clock", lambda: now[0])
    return now


def test_failures_from_one_address_wait_longer_and_longer(client, clock):
    from content.login_throttle import FREE_FAILURES, wait_for
    for _ in range(FREE_FAILURES - 1):
        assert _try(client, "village-editor", "wrong").status_code == 401
    conn_failures = FREE_FAILURES - 1
    waits = []
    for _ in range(5):
        assert _try(client, "village-editor", "wrong").status_code == 401
        conn_failures += 1
        waits.append(wait_for(conn_failures))
        # Inside the wait nothing is checked, not even the right password; the page says how long.
        r = _try(client, "village-editor", "demo-password")
        assert r.status_code == 429
        assert re.search(r"请(\d+秒|约\d+分钟)后再试", r.get_data(as_text=True))
        clock[0] += waits[-1] - 1
        assert _try(client, "village-editor", "demo-password").status_code == 429
        clock[0] += 1.5
    assert waits == sorted(waits) and waits[-1] >= 8 * waits[0] > 0, waits
    # After the wait the owner's right password works and clears the count.
    assert _try(client, "village-editor", "demo-password").status_code == 302


def test_wait_time_is_shown_in_chinese(client, clock):
    for _ in range(12):
        r = _try(client, "village-editor", "wrong")
        if r.status_code == 429:
            break
        clock[0] += 0.1
    html = _try(client, "village-editor", "wrong").get_data(as_text=True)
    assert "登录失败次数较多" in html and re.search(r"请(\d+秒|约\d+分钟)后再试", html)


def test_owner_is_never_locked_out_from_another_address(app, clock):
    attacker = app.test_client()
    for _ in range(40):
        _try(attacker, "county-admin", "guess", "203.0.113.9")
        clock[0] += 1
    assert _try(attacker, "county-admin", "demo-password", "203.0.113.9").status_code == 429
    owner = app.test_client()
    assert _try(owner, "county-admin", "demo-password", "10.1.1.1").status_code == 302


def test_busy_hall_behind_one_address_is_not_blocked(app, clock):
    """Thirty staff in one hall (one NAT address) each mistype once or twice: nobody is refused."""
    c = app.test_client()
    for n in range(30):
        assert _try(c, f"staff-{n}", "typo", "192.0.2.1").status_code == 401
        assert _try(c, f"staff-{n}", "typo2", "192.0.2.1").status_code == 401
    assert _try(c, "village-editor", "demo-password", "192.0.2.1").status_code == 302


def test_address_ceiling_still_applies(client, clock):
    codes = []
    for n in range(105):
        codes.append(_try(client, f"name-{n}", "wrong", "198.51.100.7").status_code)
    assert codes[0] == 401 and codes[-1] == 429
    r = _try(client, "village-editor", "demo-password", "198.51.100.7")
    assert r.status_code == 429 and r.headers.get("Retry-After", "").isdigit()
    assert re.search(r"请(\d+秒|约\d+分钟)后再试", r.get_data(as_text=True))


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


def test_session_cookie_is_secure_on_https_requests(client):
    """Behind TLS (here: an https request) the cookie is Secure even without secure_cookies."""
    secure = client.get("/admin/login", base_url="https://localhost")
    cookies = secure.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)
    plain = client.application.test_client().get("/admin/login")
    assert plain.headers.getlist("Set-Cookie")
    assert not [c for c in plain.headers.getlist("Set-Cookie") if "Secure" in c]


def test_malformed_form_is_refused_on_its_own_and_writes_nothing(client, conn):
    before = conn.execute("SELECT count(*) FROM application").fetchone()[0]
    tok = client.get("/csrf-token").get_json()["token"]
    r = client.post("/apply", data={"csrf_token": tok, "name": "张\x00三", "phone": "13800000000",
                                    "description": "申请公开"})
    assert r.status_code == 400 and "控制字符" in r.get_data(as_text=True)
    assert conn.execute("SELECT count(*) FROM application").fetchone()[0] == before
    # Line breaks and tabs in text are ordinary input, not refused.
    r = client.post("/elderly", data={"next": "/", "csrf_token": tok, "note": "第一行\r\n第二行\t"})
    assert r.status_code == 303
    assert client.get("/notices?q=%01").status_code == 400
    assert client.get("/notices").status_code == 200


def test_line_breaks_pasted_from_word_are_kept_as_line_breaks(client, conn):
    """Word's manual line break (vertical tab) and page break (form feed) are not refused:
    an editor's whole form must not be lost to them; they arrive as line breaks."""
    from flask import request

    from content.security import malformed_input
    with client.application.test_request_context(
            "/x", method="POST", data={"body": "第一行\x0b第二行\x0c第三行", "title": "t"}):
        assert malformed_input() is None
        assert request.form["body"] == "第一行\n第二行\n第三行"
