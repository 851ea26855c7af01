"""A small in-process cache of rendered resident pages, dropped whenever the database changes.

Resident pages are a pure function of the URL, the htmx request headers, the date and
the content; content changes only when something commits to the database (a sync, an
edit in the admin). SQLite's ``PRAGMA data_version`` on a connection that never writes
changes exactly when another connection (any thread or process) has committed, so
checking it costs microseconds and no page can outlive the content it was built from.

Only GET answers with status 200 from the endpoints listed in ``CACHED_ENDPOINTS`` are
kept and served, and only for residents (no session, or one holding nothing but a CSRF
token); a hit is answered by the first before_request hook. Resident pages carry no CSRF token (content/security.py: csrf.js fetches one when
a form is submitted), so a hit reads no session and signs no cookie; a page that did put
a per-visitor token in its body is simply not kept. Response headers are not kept: the
app's after_request hooks (security headers, Vary) run on every hit as on every page.
The cache is bounded in bytes (config ``PAGE_CACHE_BYTES``; 0 turns it off), evicts the
least recently used page, and starts afresh at least every ``PAGE_CACHE_SECONDS`` (60)
so clock-dependent text never lags for long.

Misses are rendered at most ``PAGE_CACHE_RENDERS`` (2) at a time, and a page already being
rendered is waited for rather than rendered again. When the cache empties (a sync commits,
a new minute slot) every thread would otherwise build a cold county-wide page at once: with
eight threads that held tens of MB at the same moment (docs/benchmarks.md), for no gain in
speed, since rendering is Python holding the GIL. Hits are never held up by it.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

from flask import Flask, Response, current_app, g, request, session

from content.db import DataVersion

# Read-only resident screens (kiosk.views). Others may add their own read-only endpoints.
CACHED_ENDPOINTS = {
    "kiosk.home", "kiosk.domain_list", "kiosk.domain_detail", "kiosk.item_detail",
    "kiosk.village_choice", "kiosk.village_list", "kiosk.village_item_detail",
    "kiosk.matter_list", "kiosk.matter_detail", "kiosk.matter_aligned", "kiosk.guide_list",
    "kiosk.guide_detail", "kiosk.handbook_detail", "kiosk.notice_list", "kiosk.notice_detail",
}
DEFAULT_BYTES = 16 * 1024 * 1024
DEFAULT_RENDERS = 2          # cold renders of cacheable pages at once
RENDER_WAIT = 30.0           # seconds a miss waits for its turn before rendering anyway
_VARY = ("HX-Request", "HX-Target", "HX-Trigger", "HX-History-Restore-Request", "HX-Boosted")


class PageCache:
    def __init__(self, database: str, max_bytes: int, max_age: int = 60,
                 renders: int = DEFAULT_RENDERS):
        self.database = database
        self.max_bytes = max_bytes
        self.max_age = max(1, max_age)
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(max(1, renders))
        self.rendering: dict[tuple, threading.Event] = {}
        self.waited = 0
        self.pages: OrderedDict[tuple, tuple[int, list, bytes]] = OrderedDict()
        self.size = 0
        self.stamp = None
        self.hits = self.misses = 0
        self._version = DataVersion(database)

    def _current_stamp(self, day: str) -> tuple:
        """(date, data_version, time slot): any commit by another connection changes it.

        The time slot bounds how long a page lives even without commits, so anything
        shown that depends on the clock (how old the content is) is at most max_age off.
        Hold the lock.
        """
        return (day, self._version.current(), int(time.monotonic() // self.max_age))

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

    def take_turn(self, key: tuple, day: str, environ: dict) -> tuple[tuple | None, tuple]:
        """After a miss: wait while the same page is being rendered (then serve it), and for
        a render slot; return (the page if another request built it meanwhile, the stamp to
        render under). ``finish`` must follow (teardown), whatever happens."""
        with self.lock:
            event = self.rendering.get(key)
            if event is None:
                self.rendering[key] = environ["kiosk.page_cache_leader"] = threading.Event()
        if event is not None:
            event.wait(RENDER_WAIT)
            with self.lock:
                self._fresh(day)
                entry = self.pages.get(key)
                if entry is not None:
                    self.pages.move_to_end(key)
                    self.waited += 1
                    return entry, self.stamp
        environ["kiosk.page_cache_slot"] = self.slots.acquire(timeout=RENDER_WAIT)
        with self.lock:
            self._fresh(day)     # the page is built from the content as it is from now on
            return None, self.stamp

    def finish(self, key: tuple, environ: dict) -> None:
        if environ.pop("kiosk.page_cache_slot", False):
            self.slots.release()
        event = environ.pop("kiosk.page_cache_leader", None)
        if event is not None:
            with self.lock:
                if self.rendering.get(key) is event:
                    del self.rendering[key]
            event.set()

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


def _csrf_field(app: Flask) -> str:
    return app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _anonymous(app: Flask) -> bool:
    """A resident: no session, or one holding nothing but a CSRF token (after a rating, say);
    staff and 适老化 sessions never hit the cache."""
    if app.config.get("SESSION_COOKIE_NAME", "session") not in request.cookies:
        return True      # the usual case: nothing to load, verify or sign
    return all(k == _csrf_field(app) or k.startswith("_") for k in session.keys())


def init_app(app: Flask) -> None:
    size = app.config.get("PAGE_CACHE_BYTES", DEFAULT_BYTES)
    if not size or app.config.get("TESTING") and not app.config.get("PAGE_CACHE_IN_TESTS"):
        return
    from .views import today
    cache = PageCache(app.config["DATABASE"], int(size), int(app.config.get("PAGE_CACHE_SECONDS", 60)),
                      int(app.config.get("PAGE_CACHE_RENDERS", DEFAULT_RENDERS)))
    app.extensions["kiosk_page_cache"] = cache

    @app.before_request
    def serve_cached():
        if (request.method != "GET" or request.endpoint not in CACHED_ENDPOINTS
                or not _anonymous(app)):
            return None
        day = today().isoformat()
        key = _key(request.environ)
        entry, stamp = cache.get(key, day)
        if entry is None:
            request.environ["kiosk.page_cache_key"] = key
            entry, stamp = cache.take_turn(key, day, request.environ)
        request.environ["kiosk.page_cache"] = (day, stamp)
        if entry is None:
            return None
        status, mimetype, body = entry
        request.environ["kiosk.page_cache_hit"] = True
        return Response(body, status=status, mimetype=mimetype)

    # A hit is answered before the other before_request hooks: the rate limiter (it limits
    # only staff logins) and CSRF (it checks only POSTs) have nothing to say about a
    # resident's GET, and skipping them is most of what makes a hit cost about what a
    # static file costs. The after_request hooks (security headers, Vary, usage counts)
    # still run on every hit.
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs.remove(serve_cached)
    funcs.insert(0, serve_cached)

    @app.teardown_request
    def end_turn(_exc=None):
        key = request.environ.pop("kiosk.page_cache_key", None)
        if key is not None:
            cache.finish(key, request.environ)

    @app.after_request
    def keep_page(response: Response):
        # Kept: a read-only resident screen, built for a resident (no staff session), that
        # set no cookie and put no CSRF token of this visitor's in the page.
        pending = request.environ.get("kiosk.page_cache")
        if (pending is None or request.environ.get("kiosk.page_cache_hit")
                or response.status_code != 200 or response.direct_passthrough
                or response.is_streamed or "Set-Cookie" in response.headers
                or g.get(_csrf_field(app)) or not _anonymous(app)):
            return response
        day, stamp = pending
        cache.put(_key(request.environ), day, stamp, (200, response.mimetype, response.get_data()))
        return response


def stats(app: Flask | None = None) -> dict:
    cache = (app or current_app).extensions.get("kiosk_page_cache")
    if cache is None:
        return {"enabled": False}
    return {"enabled": True, "pages": len(cache.pages), "bytes": cache.size,
            "hits": cache.hits, "misses": cache.misses, "waited": cache.waited}
