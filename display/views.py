"""Noticeboard screens: the board list, one full-screen board, its cheap poll, the emergency banner."""
from __future__ import annotations

import hashlib
import threading
from datetime import datetime
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup

from content import boards, jurisdictions, policies
from content.alignment import LEVEL_NAMES
from content.db import DataVersion, get_db, get_meta
from content.public_url import public_base

from . import schedule

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static",
               static_url_path="/display/static")

WEEKDAYS = "一二三四五六日"
MAX_BACKOFF_SECONDS = 300      # a board whose server is away retries at least this often
BANNER_POLL_SECONDS = 15


def now() -> datetime:
    """The board clock; tests may pin it with the NOW config key (ISO 8601)."""
    pinned = current_app.config.get("NOW")
    if pinned:
        moment = datetime.fromisoformat(pinned)
        return moment if moment.tzinfo else moment.astimezone()
    return datetime.now().astimezone()


def _public_base() -> str | None:
    base = public_base()        # content.public_url: the one source of the public address
    return base + "/" if base else None


def full_text_url(notice: dict) -> str | None:
    """Where the QR code leads: this very notice's public page, made for a phone (it links on
    to the notice's own online address, when it has one); None when the county has set no
    public address: no code then, rather than a LAN one."""
    base = _public_base()
    return f"{base}notices/{notice['id']}" if base else None


def policy_url(document_id: int) -> str | None:
    """Where a Q&A slide's QR code leads: the document's public page (with all its 解读)."""
    base = _public_base()
    return f"{base}policies/{document_id}" if base else None


def _notices_url() -> str | None:
    base = _public_base()
    return base + "notices" if base else None


def qr_src(url: str) -> str:
    return "/qr.svg?url=" + quote(url, safe="")


def cn_date(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def local_date(stamp: str | None) -> str:
    """A stored UTC timestamp as the local date people expect ('2024-05-03')."""
    if not stamp:
        return ""
    if len(stamp) == 10:
        return stamp
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone(now().tzinfo).date().isoformat()


def _screen(board: dict, moment: datetime) -> schedule.Screen:
    return _screen_until(board, moment)[0]


def _screen_until(board: dict, moment: datetime) -> tuple[schedule.Screen, datetime]:
    """The screen and the moment it may change without a commit (schedule.changes_at)."""
    conn = get_db()
    notices = boards.board_notices(conn, board, moment.date())
    scr = schedule.screen(board, notices, moment,
                          details=lambda chosen: boards.with_details(conn, chosen),
                          qa_cards=policies.qa_cards(conn, board.get("chain") or [board["jurisdiction_code"]],
                                                     board.get("levels") or (), board.get("domains") or ()))
    return scr, schedule.changes_at(board, notices, moment)


class DeckCache:
    """The last deck of each board, kept until something commits or its screen may change.

    A board polls every 30 s and nearly always hears "unchanged"; working that out means
    choosing from every live notice of the board's area and rendering the deck to hash it
    (about a second for a county hall's board over a whole county). The deck is a pure
    function of the board, the content, the board's clock and the address the QR codes
    point to, so it is kept under (board, address, data_version) until
    ``schedule.changes_at``; previews of drafts are never kept.
    """

    MAX_BOARDS = 64

    def __init__(self, database: str):
        self.version = DataVersion(database)
        self.lock = threading.Lock()
        self.decks: dict[tuple, tuple[int, datetime, datetime, tuple]] = {}

    def deck(self, board: dict, moment: datetime) -> tuple[str, str, schedule.Screen]:
        key = (board["slug"], board["id"], _public_base())
        seen = self.version.current()
        with self.lock:
            entry = self.decks.get(key)
        if entry is not None and entry[0] == seen and entry[1] <= moment < entry[2]:
            return entry[3]
        scr, until = _screen_until(board, moment)
        built = _render_deck(board, scr)
        with self.lock:
            if len(self.decks) >= self.MAX_BOARDS:
                self.decks.clear()
            # Built from the content as it was when ``seen`` was read: a commit meanwhile
            # leaves the next poll a different data_version, so it builds afresh.
            self.decks[key] = (seen, moment, until, built)
        return built


def _cached_deck(board: dict, moment: datetime) -> tuple[str, str, schedule.Screen]:
    cache = current_app.extensions.get("display_decks")
    if cache is None:
        cache = current_app.extensions.setdefault("display_decks",
                                                  DeckCache(current_app.config["DATABASE"]))
    return cache.deck(board, moment)


def _deck(board: dict, moment: datetime, slides_url: str | None = None) -> tuple[str, str, schedule.Screen]:
    """The swappable part of a board and its version (a hash of exactly what it shows).

    ``slides_url`` replaces the board's own poll address (the admin's preview polls its draft)."""
    return _render_deck(board, _screen(board, moment), slides_url)


def _render_deck(board: dict, scr: schedule.Screen,
                 slides_url: str | None = None) -> tuple[str, str, schedule.Screen]:
    inner = render_template("display/_slides.html", board=board, screen=scr,
                            full_text_url=full_text_url, policy_url=policy_url, qr_src=qr_src, cn_date=cn_date,
                            local_date=local_date,
                            level_names=LEVEL_NAMES, notices_url=_notices_url())
    # The static files' version too: after an upgrade every board gets a new deck, sees
    # that it names other assets and reloads its page (board.js).
    settings = (f"{board['slide_seconds']}|{board['poll_seconds']}|{scr.mode}|"
                f"{current_app.config.get('ASSETS_VERSION', '')}")
    version = hashlib.sha256(f"{settings}\n{inner}".encode()).hexdigest()[:16]
    html = render_template("display/_deck.html", board=board, screen=scr, inner=Markup(inner),
                           version=version, max_backoff=MAX_BACKOFF_SECONDS,
                           slides_url=slides_url and f"{slides_url}?v={version}")
    return html, version, scr


def _unchanged(version: str, status: int) -> Response:
    # Nothing but the status line and a few headers: a quiet board costs well under 200 bytes.
    resp = Response(status=status)
    resp.headers.remove("Content-Type")
    resp.headers["ETag"] = f'"{version}"'
    return resp


def _live_board(slug: str) -> dict:
    board = boards.get_board(get_db(), slug)
    if board is None or board["status"] != "published":
        abort(404)
    return board


def emergency_banner_state() -> dict:
    """Live 紧急 notices for this instance's area (its scope and every level above) and their version."""
    conn = get_db()
    code = current_app.config.get("SCOPE") or get_meta(conn, "scope")
    if not code:
        county = jurisdictions.county(conn)
        code = county["code"] if county else None
    chain = [r["code"] for r in jurisdictions.ancestors(conn, code)] if code else []
    moment = now()
    items = schedule.emergencies(boards.emergency_notices(conn, chain, moment.date()), chain, moment)
    key = "|".join(f"{n['id']}:{n['rev']}:{n['updated_at']}" for n in items)
    return {"notices": items, "version": hashlib.sha256(key.encode()).hexdigest()[:16],
            "poll_seconds": BANNER_POLL_SECONDS}


@bp.app_context_processor
def display_context():
    # A callable, so only the templates that show the banner pay for the query.
    return {"emergency_banner": emergency_banner_state}


@bp.route("/display/")
def board_list():
    conn = get_db()
    moment = now()
    rows = []
    for board in boards.list_boards(conn):
        rows.append((board, _cached_deck(board, moment)[2]))   # the boards then poll it
    return render_template("display/boards.html", layout="base.html", rows=rows,
                           orientations=boards.ORIENTATIONS, level_names=LEVEL_NAMES)


@bp.route("/display/<slug>")
def board_page(slug: str):
    board = _live_board(slug)
    moment = now()
    deck, version, scr = _cached_deck(board, moment)
    return render_template("display/board.html", board=board, deck=Markup(deck), screen=scr,
                           version=version, server_ms=int(moment.timestamp() * 1000),
                           clock_time=moment.strftime("%H:%M"),
                           clock_date=f"{cn_date(moment)} 星期{WEEKDAYS[moment.weekday()]}",
                           is_demo=get_meta(get_db(), "demo") == "1")


@bp.route("/display/<slug>/slides")
def board_slides(slug: str):
    """The board's poll: 204 (or 304) when nothing changed, else the new deck to swap in."""
    board = boards.get_board(get_db(), slug)
    if board is None:
        abort(404)
    if board["status"] != "published":
        # 286 tells htmx to stop polling: the board was taken out of service.
        return render_template("display/_retired.html", board=board), 286
    deck, version, _scr = _cached_deck(board, now())
    if request.args.get("v") == version:
        return _unchanged(version, 204)
    if request.if_none_match.contains(version):
        return _unchanged(version, 304)
    resp = Response(deck, mimetype="text/html")
    resp.set_etag(version)
    resp.cache_control.no_store = True
    return resp


@bp.route("/display/emergency")
def emergency_banner():
    """The kiosk home's emergency banner: 204 unchanged, the banner when changed, 286 once all ended."""
    state = emergency_banner_state()
    if not state["notices"]:
        resp = Response("", status=286)     # empty swap removes the banner; htmx stops polling
        resp.headers.remove("Content-Type")
        return resp
    if request.args.get("v") == state["version"]:
        return _unchanged(state["version"], 204)
    resp = Response(render_template("display/_emergency_banner.html", banner=state),
                    mimetype="text/html")
    resp.set_etag(state["version"])
    resp.cache_control.no_store = True
    return resp


from . import preview  # noqa: E402,F401  (the admin's preview of a board being edited)
