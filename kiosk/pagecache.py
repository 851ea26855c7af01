"""A small in-process cache of rendered resident pages, dropped whenever the database changes.

Resident pages are a pure function of the URL, the htmx request headers, the date and
the content; content changes only when something commits to the database (a sync, an
edit in the admin). SQLite's ``PRAGMA data_version`` on a connection that never writes
changes exactly when another connection (any thread or process) has committed, so
checking it costs microseconds and no page can outlive the content it was built from.

Only GET/HEAD answers with status 200 from the endpoints listed in ``CACHED_ENDPOINTS``
are kept, only for visitors without a session cookie, and never one that wrote the
session (a form's CSRF token) or sets a cookie. The cache is bounded in bytes (config ``PAGE_CACHE_BYTES``; 0 turns
it off) and evicts the least recently used page.
"""
from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict

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
    def __init__(self, database: str, max_bytes: int):
        self.database = database
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self.pages: OrderedDict[tuple, tuple[int, list, bytes]] = OrderedDict()
        self.size = 0
        self.stamp = None
        self.hits = self.misses = 0
        self._watch: sqlite3.Connection | None = None

    def _current_stamp(self, day: str) -> tuple:
        """(date, data_version): any commit by another connection changes it. Hold the lock."""
        if self._watch is None:
            self._watch = sqlite3.connect(self.database, check_same_thread=False,
                                          isolation_level=None)
        return day, self._watch.execute("PRAGMA data_version").fetchone()[0]

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


def _key() -> tuple:
    return (request.method == "HEAD", request.full_path,
            *(request.headers.get(h, "") for h in _VARY))


def init_app(app: Flask) -> None:
    size = app.config.get("PAGE_CACHE_BYTES", DEFAULT_BYTES)
    if not size or app.config.get("TESTING") and not app.config.get("PAGE_CACHE_IN_TESTS"):
        return
    cache = PageCache(app.config["DATABASE"], int(size))
    app.extensions["kiosk_page_cache"] = cache

    def day() -> str:
        from .views import today
        return today().isoformat()

    @app.before_request
    def serve_cached():
        if (request.method not in ("GET", "HEAD") or request.endpoint not in CACHED_ENDPOINTS
                or app.config["SESSION_COOKIE_NAME"] in request.cookies):
            return None  # a visitor with a session (staff, a form in progress) gets fresh pages
        d = day()
        entry, stamp = cache.get(_key(), d)
        request.environ["kiosk.page_cache"] = (d, stamp)
        if entry is None:
            return None
        status, headers, body = entry
        request.environ["kiosk.page_cache_hit"] = True
        return Response(body, status=status, headers=headers)

    @app.after_request
    def keep_page(response: Response):
        pending = request.environ.get("kiosk.page_cache")
        if (pending is None or request.environ.get("kiosk.page_cache_hit")
                or response.status_code != 200 or response.direct_passthrough
                or response.is_streamed or session.modified or "Set-Cookie" in response.headers):
            return response
        d, stamp = pending
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _SKIP_HEADERS]
        cache.put(_key(), d, stamp, (200, headers, response.get_data()))
        return response


def stats(app: Flask | None = None) -> dict:
    cache = (app or current_app).extensions.get("kiosk_page_cache")
    if cache is None:
        return {"enabled": False}
    return {"enabled": True, "pages": len(cache.pages), "bytes": cache.size,
            "hits": cache.hits, "misses": cache.misses}
