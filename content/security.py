"""Web security for every instance: CSRF, session cookies, login throttling, response headers.

Resident pages carry no CSRF token, so a resident who only reads gets no session cookie
and the page cache serves them without touching a session.  Forms on those pages (the
适老化 switch, ratings) leave the token field empty; ``kiosk/static/csrf.js`` fetches a
token from ``/csrf-token`` when such a form is submitted.  Pages that are forms anyway
(applications, consultations, the admin) render the token themselves.  Every POST is
checked all the same: the token only moves from the page to a request made on demand.

``create_app`` calls ``init_app``.  Blueprints that receive signed machine
requests instead of browser forms (the sync inbox) opt out of CSRF with
``csrf.exempt(blueprint)``; so does the keyboard's handwriting recogniser (``kiosk/ime.py``:
read-only, and it takes only a JSON body, which another site cannot send); nothing else is
exempt.
"""
from __future__ import annotations

import re
import time
from datetime import timedelta

from flask import Flask, has_request_context, jsonify, render_template_string, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.datastructures import ImmutableMultiDict

from .login_throttle import wait_text

csrf = CSRFProtect()
limiter = Limiter(get_remote_address, storage_uri="memory://", default_limits=[],
                  headers_enabled=True)

# Failed logins allowed per client address before 429: high enough for a busy service hall
# whose staff all sign in through one NAT address.  Guessing one account is slowed per
# (account, address) by content.login_throttle, which never locks the owner out.
LOGIN_LIMITS_BY_ADDRESS = "100 per 5 minutes; 500 per hour"

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

_MESSAGE_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><p>{{ message }}</p><p><a href="{{ back }}">返回</a></p></body></html>"""


def failed_login(response) -> bool:
    """Only refused logins count against the limits (a 401 from the login view)."""
    return response.status_code == 401


# C0 controls and DEL: no form or query has a use for them (tab and line breaks excepted in
# form text), and a NUL is what SQLite's length() and C libraries stop at.  Text pasted
# from Word carries vertical tabs and form feeds for its line and page breaks: those become
# line breaks instead of refusing an editor's whole form.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_IN_QUERY = re.compile(r"[\x00-\x1f\x7f]")
_PASTED_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})


def malformed_input() -> str | None:
    """What is wrong with this request's query or form, if anything (Chinese), else None.

    Checked before any view runs, so a malformed request is refused on its own and
    never reaches a buffer, an outbox or a draft that others' data shares."""
    for key, value in request.args.items(multi=True):
        if _CONTROL_IN_QUERY.search(key) or _CONTROL_IN_QUERY.search(value):
            return "网址中含有无法识别的控制字符"
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        form = request.form
        if any("\x0b" in v or "\x0c" in v for v in form.values()):
            request.form = ImmutableMultiDict(
                [(k, v.translate(_PASTED_BREAKS)) for k, v in form.items(multi=True)])
        for key, value in request.form.items(multi=True):
            if _CONTROL.search(key) or _CONTROL.search(value):
                return "提交的内容中含有无法识别的控制字符，请删去后重新填写"
        for key, f in request.files.items(multi=True):
            if _CONTROL.search(key) or _CONTROL.search(f.filename or ""):
                return "上传文件的名称中含有无法识别的字符，请改名后再上传"
    return None


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the cost of building a signer for a visitor who
    sent no session cookie (every resident who only reads): their session is simply empty."""

    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app):
        # A request that came over TLS (directly, or from a trusted nginx saying so) gets a
        # Secure cookie even where secure_cookies is not set.
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def csrf_token_json():
    """The visitor's CSRF token, asked for by csrf.js when a form is submitted (starts a session).

    Same-origin only in effect: no CORS headers, so another site's page cannot read it.
    """
    response = jsonify(token=generate_csrf())
    response.cache_control.no_store = True
    return response


def init_app(app: Flask) -> None:
    # Flask's own defaults exist for these keys, so they are set, not defaulted.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # HTTPS hubs set secure_cookies = true in kiosk.toml; plain-HTTP kiosks on a LAN cannot.
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SECURE_COOKIES", False))
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=int(app.config.get("SESSION_HOURS", 8)))
    # The token lives as long as the session: staff writing a long notice on a
    # slow link must not lose it to a one-hour token expiry.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("WTF_CSRF_HEADERS", ["X-CSRFToken", "X-CSRF-Token"])
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    limiter.init_app(app)
    app.add_url_rule("/csrf-token", "csrf_token_json", csrf_token_json)

    @app.before_request
    def refuse_malformed_input():
        problem = malformed_input()
        if problem:
            return render_template_string(
                _MESSAGE_PAGE, title="请求无法处理", message=problem + "。",
                back=request.referrer or "/"), 400
        return None

    @app.errorhandler(CSRFError)
    def csrf_refused(e):
        return render_template_string(
            _MESSAGE_PAGE, title="请求已过期",
            message="页面已过期或来源不明，操作没有执行。请返回刷新页面后重试。",
            back=request.referrer or "/"), 400

    @app.errorhandler(429)
    def too_many(e):
        current = limiter.current_limit
        wait = max(1, int(current.reset_at - time.time())) if current else 300
        response = app.make_response((render_template_string(
            _MESSAGE_PAGE, title="尝试次数过多",
            message=f"从本机地址登录失败的次数过多，请{wait_text(wait)}后再试；"
                    "如忘记密码，请联系县级管理员。", back="/"), 429))
        response.headers["Retry-After"] = str(wait)
        return response

    @app.after_request
    def security_headers(response):
        # Bodiless answers (a board's quiet poll, a 304) have no document to
        # protect, and their whole cost on a village link is their headers.
        if response.status_code in (204, 304):
            return response
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
