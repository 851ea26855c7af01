"""Touchscreen experience: search with the on-screen keyboard, 适老化 mode, the attract screen,
printable 一次告知 and 办事一本通 sheets, QR targets and anonymous usage counts."""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter
from datetime import date
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, redirect, render_template, request, session,
                   url_for)

from content import catalogue, guides, notices, qr, search, usage
from content.db import connect, get_db, immediate
from content.public_url import public_base

from . import htmx, pagecache
from .views import render, scope, today, visible

bp = Blueprint("touch", __name__)
log = logging.getLogger(__name__)

KEYS = tuple("abcdefghijklmnopqrstuvwxyz0123456789")
KEY_ROWS = ("abcdefghi", "jklmnopqr", "stuvwxyz", "1234567890")
COMMON_WORDS = ("低保", "养老", "医疗救助", "补贴", "残疾人", "户口", "义务教育", "危房改造",
                "村级财务", "公示")

# Resident screens whose views are counted: endpoint → (kind, name of the id argument).
COUNTED = {
    "kiosk.item_detail": ("item", "item_id"),
    "kiosk.village_item_detail": ("village_item", "item_id"),
    "kiosk.guide_detail": ("guide", "guide_id"),
    "kiosk.notice_detail": ("notice", "notice_id"),
    "kiosk.handbook_detail": ("handbook", "handbook_id"),
}


# Read-only screens of this blueprint that the resident page cache may keep.
pagecache.CACHED_ENDPOINTS.update({"touch.guide_sheet", "touch.handbook_print"})


# Roles whose serve process writes searchable content itself (staff edit it there, and the
# index triggers need pypinyin anyway). A terminal's content arrives by sync, applied in a
# child process (sync.terminal.run_round): its serve process needs pypinyin at most for a
# search, and loads it then, instead of holding about 55 MB from the start.
WARM_PINYIN_ROLES = ("standalone", "hub")


@bp.record_once
def _warm_pinyin(state) -> None:
    """Load pypinyin's dictionaries (about half a second) in the background at start, so the
    first resident's first keystroke is answered as fast as the others."""
    if state.app.config.get("ROLE", "standalone") not in WARM_PINYIN_ROLES:
        return
    threading.Thread(target=search.syllables, args=("预热",), daemon=True).start()


def _codes() -> list[str] | None:
    """Jurisdictions to search: None when the instance shows everything (no filter needed)."""
    return visible() if scope() else None


def _popular_guides(conn: sqlite3.Connection, limit: int = 6) -> list[dict]:
    """The most viewed guides lately, topped up with the first guides when views are few."""
    # Only the guides shown are read (guide_cards): every search page without results
    # shows these, and reading all of a county's guides cost about 10 MB each time.
    viewed = [gid for gid, _ in usage.most_viewed(conn, "guide", today(), limit=limit * 2)]
    found = {g["id"]: g for g in guides.guide_cards(conn, visible(), ids=viewed)} if viewed else {}
    shown = [found[gid] for gid in viewed if gid in found][:limit]
    first = guides.guide_cards(conn, visible(), limit=2 * limit)
    shown += [g for g in first if g["id"] not in {s["id"] for s in shown}][: limit - len(shown)]
    return shown


def _apply_key(q: str, key: str | None) -> str:
    """The no-JavaScript keyboard: each key is a submit button carrying its value."""
    if key == "del":
        return q[:-1]
    if key == "clear":
        return ""
    if key in KEYS:
        return q + key
    return q


@bp.route("/search")
def search_page():
    conn = get_db()
    q = _apply_key(request.args.get("q", "")[:200], request.args.get("key"))
    kind = request.args.get("kind", "")
    kinds = (kind,) if kind in search.KIND_NAMES else search.KIND_ORDER
    result = search.search(conn, q, _codes(), today(), kinds=kinds)
    suggestions = {}
    if result.empty or not result.terms:
        suggestions = {"domains": [d for d in catalogue.list_domains(conn, visible())
                                   if d["item_count"]][:12],
                       "guides": _popular_guides(conn)}
    if result.empty:
        _usage().miss(today(), q)
    context = dict(q=q, kind=kind if kind in search.KIND_NAMES else "", result=result,
                   suggestions=suggestions, kind_names=search.KIND_NAMES, key_rows=KEY_ROWS,
                   common_words=COMMON_WORDS,
                   # After a large first sync the index is built in batches; say so meanwhile.
                   indexing=search.pending_count(conn) > 0)
    if htmx.target == "search-results":
        return render_template("_results.html", **context)
    return render("search.html", **context)


def _safe_next(value: str | None) -> str:
    """A local path to return to; anything else (other hosts, scheme tricks) goes home."""
    if not value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or value.startswith("//") \
            or "\\" in value:
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.route("/elderly", methods=["POST"])
def toggle_elderly():
    """适老化 mode: larger text, stronger contrast, larger targets; for this session only."""
    if session.pop("elderly", False) is False:
        session["elderly"] = True   # off leaves no key: the page cache serves the session again
    referrer = urlsplit(request.referrer or "")
    fallback = referrer.path if referrer.netloc == request.host else "/"
    return redirect(_safe_next(request.form.get("next") or fallback), code=303)


@bp.route("/attract")
def attract():
    """Where the idle timer lands: the next resident starts fresh (no 适老化, nothing typed)."""
    session.clear()
    latest = notices.list_notices(get_db(), visible(), today(), limit=3)
    return render("attract.html", latest=latest)


@bp.route("/guides/<id:guide_id>/sheet")
def guide_sheet(guide_id: int):
    """一次告知单: every material, fee, place, hours and time limit of one guide, for A4."""
    guide = guides.get_guide(get_db(), guide_id, visible()) or abort(404)
    return render("guide_sheet.html", guide=guide, printed_on=today())


@bp.route("/handbooks/<id:handbook_id>/print")
def handbook_print(handbook_id: int):
    """办事一本通 as a printable booklet: each guide of the "one thing" with its QR code."""
    handbook = guides.get_handbook(get_db(), handbook_id, visible()) or abort(404)
    return render("handbook_print.html", handbook=handbook, printed_on=today())


@bp.app_template_global()
def public_page(path: str) -> str | None:
    """This page's address for a phone (PUBLIC_URL + path), or None when the instance has not
    been told its public address. The one place a QR code's base address comes from."""
    base = public_base()                # content.public_url: the bundle's, else the setting
    if not base:
        return None
    try:
        return qr.check_url(base.rstrip("/") + path)
    except qr.BadQRData:
        log.warning("not a QR-able public address: %r", base[:100])
        return None


@bp.app_template_global()
def online_address(online_url: str | None) -> str | None:
    """An item's or guide's own online address, if it is one a phone can open."""
    if not online_url:
        return None
    try:
        return qr.check_url(online_url)
    except qr.BadQRData:
        log.warning("not a QR-able address: %r", online_url[:100])
        return None


@bp.app_template_global()
def qr_target(online_url: str | None, path: str | None = None) -> str | None:
    """The address a QR code should carry: this very page on the phone (``public_page``), else
    the item's own online address."""
    return (public_page(path) if path else None) or online_address(online_url)


@bp.app_context_processor
def touch_context():
    return {"elderly": bool(session.get("elderly"))}


class UsageBuffer:
    """Counts gathered in memory and written in one transaction at most every
    USAGE_FLUSH_SECONDS (default 60): every commit drops the page cache, so one write per
    page view would defeat it. A crash loses at most that long of anonymous counts.

    Nobody's request can cost the others their counts: each entry is written under its own
    savepoint, so one the database refuses is dropped alone (and logged), and when the
    database cannot be written at all (locked, disk full) the counts go back into the
    buffer for the next flush. Distinct empty-search texts per interval are capped, since
    their keys come from what visitors type."""

    MAX_MISS_KEYS = 5000

    def __init__(self, database: str, interval: float):
        self.database = database
        self.interval = interval
        self.lock = threading.Lock()
        self.views: Counter = Counter()
        self.misses: Counter = Counter()
        self.last = time.monotonic()

    def view(self, day: date, kind: str, ref_id: int) -> None:
        with self.lock:
            self.views[(day, kind, ref_id)] += 1

    def miss(self, day: date, query: str) -> None:
        key = (day, usage.mask_query(query))
        if not key[1]:
            return
        with self.lock:
            if key in self.misses or len(self.misses) < self.MAX_MISS_KEYS:
                self.misses[key] += 1

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    def flush(self) -> None:
        with self.lock:
            views, misses = self.views, self.misses
            self.views, self.misses, self.last = Counter(), Counter(), time.monotonic()
        if not views and not misses:
            return
        entries = [(usage.record_view, (kind, ref_id, day, n)) for (day, kind, ref_id), n in views.items()]
        entries += [(usage.record_miss, (query, day, n)) for (day, query), n in misses.items()]
        try:
            conn = connect(self.database)
        except sqlite3.Error:
            log.exception("usage counts kept for the next flush")
            self._put_back(views, misses)
            return
        try:
            with immediate(conn):
                for write, args in entries:
                    conn.execute("SAVEPOINT usage_entry")
                    try:
                        write(conn, *args)
                    except (sqlite3.IntegrityError, sqlite3.InterfaceError, ValueError, OverflowError):
                        conn.execute("ROLLBACK TO usage_entry")
                        log.warning("usage count refused and dropped alone: %r", args[:2])
                    conn.execute("RELEASE usage_entry")
        except sqlite3.Error:   # counting must never break a resident's page
            log.exception("usage counts kept for the next flush")
            self._put_back(views, misses)
        finally:
            conn.close()

    def _put_back(self, views: Counter, misses: Counter) -> None:
        with self.lock:
            self.views.update(views)
            self.misses.update(misses)


def _usage() -> UsageBuffer:
    buffer = current_app.extensions.get("touch_usage")
    if buffer is None:
        interval = current_app.config.get("USAGE_FLUSH_SECONDS", 60)
        buffer = current_app.extensions.setdefault(
            "touch_usage", UsageBuffer(current_app.config["DATABASE"], float(interval)))
    return buffer


@bp.after_app_request
def count_views(response):
    counted = COUNTED.get(request.endpoint or "")
    if (counted and request.method == "GET" and response.status_code == 200
            and not htmx.history_restore_request):
        kind, arg = counted
        ref = (request.view_args or {}).get(arg)
        if ref is not None:
            _usage().view(today(), kind, ref)
    if "touch_usage" in current_app.extensions and _usage().due():
        _usage().flush()
    return response
