"""A small in-process cache of rendered resident pages, dropped whenever the database changes.

Resident pages are a pure function of the URL, the htmx request headers, the date and
the content; content changes only when something commits to the database (a sync, an
edit in the admin). SQLite's ``PRAGMA data_version`` on a connection that never writes
changes exactly when another connection (any thread or process) has committed, so
checking it costs microseconds and no page can outlive the content it was built from.

Only GET/HEAD answers with status 200 from the endpoints listed in ``CACHED_ENDPOINTS``
are kept, only for visitors without a session cookie, and never one that wrote the
session (a form's CSRF token) or sets a cookie. The cache is bounded in bytes (config ``PAGE_CACHE_BYTES``; 0 turns
it off), evicts the least recently used page, and starts afresh at least every
``PAGE_CACHE_SECONDS`` (60) so clock-dependent text never lags for long.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from datetime import date

from flask import Flask, Response, current_app, request, session

# Read-only resident screens (kiosk.views). Others may add their own read-only endpoints.
CACHED_ENDPOINTS = {
    "kiosk.home", "kiosk.domain_list", "kiosk.domain_detail", "kiosk.item_detail",
    "kiosk.village_choice", "kiosk.village_list", "kiosk.village_item_detail",
    "kiosk.matter_list", "kiosk.matter_detail", "kiosk.matter_aligned", "kiosk.guide_list",
    "kiosk.guide_detail", "kiosk.handbook_detail", "kiosk.notice_list", "kiosk.notice_detail",
}
DEFAULT_BYTES = 16 * 1024 * 1024
_VARY = ("HX-Request", "HX-Target", "HX-Trigger", "HX-History-Restore-Request", "HX-Boosted")
_SKIP_HEADERS = {"content-length", "set-cookie", "date"}


class PageCache:
    def __init__(self, database: str, max_bytes: int, max_age: int = 60):
        self.database = database
        self.max_bytes = max_bytes
        self.max_age = max(1, max_age)
        self.lock = threading.Lock()
        self.pages: OrderedDict[tuple, tuple[int, list, bytes]] = OrderedDict()
        self.size = 0
        self.stamp = None
        self.hits = self.misses = 0
        self._watch: sqlite3.Connection | None = None

    def _current_stamp(self, day: str) -> tuple:
        """(date, data_version, time slot): any commit by another connection changes it.

        The time slot bounds how long a page lives even without commits, so anything
        shown that depends on the clock (how old the content is) is at most max_age off.
        Hold the lock.
        """
        if self._watch is None:
            self._watch = sqlite3.connect(self.database, check_same_thread=False,
                                          isolation_level=None)
        return (day, self._watch.execute("PRAGMA data_version").fetchone()[0],
                int(time.monotonic() // self.max_age))

    def _fresh(self, day: str) -> None:
        stamp = self._current_stamp(day)
        if stamp != self.stamp:
            self.pages.clear()
            self.size = 0
            self.stamp = stamp

    def get(self, key: tuple, day: str) -> tuple[tuple | None, tuple]:
        """(the cached page or None, the content stamp it was looked up under)."""
        with self.lock:
            self._fresh(day)
            entry = self.pages.get(key)
            if entry is None:
                self.misses += 1
            else:
                self.pages.move_to_end(key)
                self.hits += 1
            return entry, self.stamp

    def put(self, key: tuple, day: str, stamp_before: tuple, entry: tuple) -> None:
        body = entry[2]
        if len(body) > self.max_bytes // 4:
            return
        with self.lock:
            self._fresh(day)
            # The page was built from the content as it was when the request began;
            # if a commit came in meanwhile, it may be stale: do not keep it.
            if self.stamp != stamp_before:
                return
            old = self.pages.pop(key, None)
            if old is not None:
                self.size -= len(old[2])
            self.pages[key] = entry
            self.size += len(body)
            while self.size > self.max_bytes and self.pages:
                _, evicted = self.pages.popitem(last=False)
                self.size -= len(evicted[2])


def _key(environ: dict) -> tuple:
    return (environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            *(environ.get("HTTP_" + h.upper().replace("-", "_"), "") for h in _VARY))


class PageCacheMiddleware:
    """Answers cache hits before Flask is involved at all; stores what Flask marked cacheable.

    Working at the WSGI level means a hit costs about what a static file costs, and the
    stored headers are the final ones, after every after_request hook.
    """

    def __init__(self, wsgi_app, cache: PageCache, app: Flask):
        self.wsgi_app = wsgi_app
        self.cache = cache
        self.app = app

    def __call__(self, environ, start_response):
        cookie = self.app.config["SESSION_COOKIE_NAME"] + "="
        if environ.get("REQUEST_METHOD") != "GET" or cookie in environ.get("HTTP_COOKIE", ""):
            return self.wsgi_app(environ, start_response)
        day = str(self.app.config.get("TODAY") or date.today().isoformat())  # as views.today()
        key = _key(environ)
        entry, stamp = self.cache.get(key, day)
        if entry is not None:
            status, headers, body = entry
            start_response(status, headers + [("Content-Length", str(len(body)))])
            return [body]
        environ["kiosk.page_cache"] = stamp
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        if not environ.get("kiosk.page_cache_store") or not captured.get("status", "").startswith("200"):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() not in _SKIP_HEADERS]
        self.cache.put(key, day, stamp, (captured["status"], headers, body))
        return [body]


def init_app(app: Flask) -> None:
    size = app.config.get("PAGE_CACHE_BYTES", DEFAULT_BYTES)
    if not size or app.config.get("TESTING") and not app.config.get("PAGE_CACHE_IN_TESTS"):
        return
    cache = PageCache(app.config["DATABASE"], int(size), int(app.config.get("PAGE_CACHE_SECONDS", 60)))
    app.extensions["kiosk_page_cache"] = cache
    app.wsgi_app = PageCacheMiddleware(app.wsgi_app, cache, app)

    @app.after_request
    def mark_cacheable(response: Response):
        # Cacheable: a read-only resident screen, built for a visitor without a session,
        # that neither wrote the session nor sets a cookie.
        if ("kiosk.page_cache" in request.environ and request.endpoint in CACHED_ENDPOINTS
                and response.status_code == 200 and not response.direct_passthrough
                and not response.is_streamed and not session.modified
                and "Set-Cookie" not in response.headers):
            request.environ["kiosk.page_cache_store"] = True
        return response


def stats(app: Flask | None = None) -> dict:
    cache = (app or current_app).extensions.get("kiosk_page_cache")
    if cache is None:
        return {"enabled": False}
    return {"enabled": True, "pages": len(cache.pages), "bytes": cache.size,
            "hits": cache.hits, "misses": cache.misses}
