"""What a noticeboard shows now: a pure function of (board, notices, clock).

No database and no Flask here, so every rule can be tested with a frozen clock:

* a notice is live when it is published, already out, inside its 公示期 (if it has
  one) and not expired;
* a board shows the live notices of its area that match its levels and domains,
  ordered by priority (紧急, 重要, 普通) then recency;
* only inside the board's daily windows (a window may cross midnight); outside
  them the screen rests;
* a live 紧急 notice about the board's jurisdiction or any level above it
  pre-empts the rotation (even outside the windows) until it ends;
* nothing to show inside a window gives the board's fallback slide;
* long tables are split over several slides (pages), never cut off; long bodies
  are shown as an excerpt (the QR code leads to the full text);
* a notice's pictures (an image such as a 图解 or 明白卡, or the pages of a short
  PDF) follow its text as picture slides; a notice that is only a picture shows
  just the picture;
* Q&A cards (简明问答) of current policy documents of the board's chain follow the
  notices, one question per slide with its answer below; with no live notice they
  are shown instead of the fallback slide.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from content.board_settings import in_windows, parse_hhmm  # noqa: F401  (shared with the hub's proof of display)

PRIORITY_RANK = {"紧急": 0, "重要": 1, "普通": 2}

# How much fits on one slide, in characters of the slide's type (see display.css:
# body 2rem, tables 1.7rem on a 1rem = 20 px design grid).  Conservative on purpose:
# the browser test checks that no slide of the demo overflows.
LAYOUTS = {
    "landscape": {"chars": 30, "lines": 8, "table_chars": 35, "table_lines": 8, "title_chars": 22},
    "portrait": {"chars": 22, "lines": 13, "table_chars": 26, "table_lines": 13, "title_chars": 16},
}
EXCERPT_LINES_WITH_TABLE = 2
MAX_FIELDS = 4
NOWRAP_CHARS = 8            # table cells this short never wrap (names, amounts, masked IDs)
# Notices one board rotates at most (priority, then newest first): with 15 s slides about
# half an hour. A county hall's board may match thousands of live notices; rendering all of
# them on every poll cost seconds of CPU, and nobody watches a day-long rotation. The rest
# are pointed to on a closing slide (the kiosk and the QR code list them all).
MAX_NOTICES = 100
# Picture slides: at most this many per notice; a PDF goes on a board only when it is as
# short as a leaflet (a 明白卡 front and back); longer ones are read on the kiosk.
MAX_PICTURES = 4
BOARD_PDF_PAGES = 2


@dataclass(frozen=True)
class Period:
    """A 公示期 seen from one day: day ``day`` of ``total``, ``remaining`` days left counting today."""
    start: date
    end: date
    total: int
    day: int
    remaining: int


@dataclass
class Slide:
    key: str                       # stable across refreshes: notice id and page
    notice: dict | None            # None for the fallback slide
    page: int = 1
    pages: int = 1
    excerpt: str = ""
    truncated: bool = False        # the excerpt leaves text out: point to the QR code
    fields: list = field(default_factory=list)
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    nowrap: list = field(default_factory=list)   # per column: short cells kept on one line
    period: Period | None = None
    until: datetime | None = None  # when the notice leaves the screen
    emergency: bool = False
    picture: dict | None = None    # a picture slide: {"sha256", "width", "height", "name", "page", "pages"}
    qa: dict | None = None         # a Q&A card of a policy's 解读 (content.policies.qa_cards)


@dataclass
class Screen:
    mode: str                      # 'notices', 'emergency', 'fallback' or 'resting'
    slides: list[Slide]
    notices: list[dict]            # the notices on screen, in order
    now: datetime
    hidden: int = 0                # live notices suspended by an emergency
    more: int = 0                  # live notices beyond MAX_NOTICES, not rotated


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.astimezone()


def _published(n: dict) -> datetime | None:
    stamp = n.get("published_at")
    if not stamp:
        return None
    if len(stamp) == 10:
        return datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def is_live(n: dict, now: datetime) -> bool:
    """Published, out, inside its 公示期 when it has one, and not expired (dates are local)."""
    now = _aware(now)
    today = now.date().isoformat()
    out = _published(n)
    return (n.get("status") == "published"
            and out is not None and out <= now
            and (not n.get("period_start") or n["period_start"] <= today)
            and (not n.get("period_end") or n["period_end"] >= today)
            and (not n.get("expires_on") or n["expires_on"] >= today))


def changes_at(board: dict, notices: list[dict], now: datetime) -> datetime:
    """The next moment the board's screen may change while the content stays as it is:
    midnight (dates, the day of a 公示期, notices ending), a daily window opening or closing,
    or a notice scheduled to come out. A cached deck is good until then (or a commit)."""
    now = _aware(now)
    moments = [datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)]
    for w in board.get("windows") or []:
        for hhmm in (w["start"], w["end"]):
            at = datetime.combine(now.date(), parse_hhmm(hhmm), tzinfo=now.tzinfo)
            moments.append(at if at > now else at + timedelta(days=1))
    for n in notices:
        out = _published(n)
        if out is not None and out > now:
            moments.append(out)
    return min(moments)


def ends_at(n: dict, now: datetime) -> datetime | None:
    """The local moment the notice leaves the screen: the midnight after its last day."""
    last = [d for d in (n.get("period_end"), n.get("expires_on")) if d]
    if not last:
        return None
    day = date.fromisoformat(min(last)) + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=_aware(now).tzinfo)


def period(n: dict, today: date) -> Period | None:
    if not n.get("period_end"):
        return None
    end = date.fromisoformat(n["period_end"])
    start = date.fromisoformat(n["period_start"]) if n.get("period_start") else (
        (_published(n) or datetime.combine(end, time(0))).date())
    start = min(start, end)
    total = (end - start).days + 1
    day = min(max((today - start).days + 1, 0), total)
    return Period(start, end, total, day, max((end - today).days + 1, 0))


def ordered(notices: list[dict]) -> list[dict]:
    """By priority (紧急, 重要, 普通), then newest first, then highest id."""
    newest = sorted(notices, key=lambda n: (n.get("published_at") or "", int(n.get("id") or 0)),
                    reverse=True)
    return sorted(newest, key=lambda n: PRIORITY_RANK.get(n.get("priority"), 9))  # stable


def matches(board: dict, n: dict) -> bool:
    """The board's own filters: publishers of its chain (its jurisdiction and those above),
    subjects in its area, publisher levels and domains."""
    area = board.get("area")
    chain = board.get("chain", area)
    if area is not None and (n["jurisdiction_code"] not in chain or n["subject_code"] not in area):
        return False
    if board.get("levels") and n.get("jurisdiction_level") not in board["levels"]:
        return False
    if board.get("domains") and n.get("domain_id") not in board["domains"]:
        return False
    return True


def emergencies(notices: list[dict], chain: list[str], now: datetime) -> list[dict]:
    """Live 紧急 notices about a jurisdiction of ``chain`` (a board's own and every level above)."""
    return ordered([n for n in notices if n.get("priority") == "紧急"
                    and n.get("subject_code") in chain and is_live(n, now)])


def screen(board: dict, notices: list[dict], now: datetime, details=None, qa_cards=()) -> Screen:
    """Everything on the board at ``now``: the mode and the slides in rotation order.

    ``details(chosen)``, when given, completes the notices that become slides (their body
    and tables): a board chooses from every live notice of its area but shows at most
    MAX_NOTICES, so the long columns are read for those only.  ``qa_cards`` are policy
    Q&A cards shown after the notices (or instead of the fallback)."""
    now = _aware(now)
    live = ordered([n for n in notices if matches(board, n) and is_live(n, now)])
    urgent = emergencies(notices, board.get("chain", [board.get("jurisdiction_code")]), now)
    if details is not None:
        details(urgent or live[:MAX_NOTICES])
    if urgent:
        others = [n for n in live if n not in urgent]
        return Screen("emergency", _slides(urgent, board, now, emergency=True), urgent, now,
                      hidden=len(others))
    if not in_windows(board.get("windows") or [], now.time()):
        return Screen("resting", [], [], now)
    if not live and not qa_cards:
        return Screen("fallback", [Slide(key="fallback", notice=None)], [], now)
    more = max(len(live) - MAX_NOTICES, 0)
    live = live[:MAX_NOTICES]
    slides = _slides(live, board, now) + qa_slides(qa_cards, board)
    if more:
        slides.append(Slide(key="more", notice=None))
    return Screen("notices", slides, live, now, more=more)


def qa_slides(cards, board: dict) -> list[Slide]:
    """One slide per Q&A card: the question as the title, as much of the answer as fits
    (the QR code leads to the whole 解读)."""
    layout = LAYOUTS.get(board.get("orientation"), LAYOUTS["landscape"])
    slides = []
    for card in cards:
        # The question is set larger than a title; its extra lines come off the answer.
        extra = max(_lines(card["q"], layout["title_chars"] * 0.9) - 1, 0) * 1.5
        # Answers are set 1.2 times the body size (display.css .qa-answer): fewer, longer lines.
        text, cut = excerpt(card["a"], int(layout["chars"] / 1.2),
                            max(int((layout["lines"] - 1 - math.ceil(extra)) / 1.2), 3))
        slides.append(Slide(key=card["key"], notice=None, excerpt=text, truncated=cut, qa=card))
    return slides


# --- paging -----------------------------------------------------------------

def text_width(text: str) -> float:
    """Width in CJK character cells: Latin letters and digits are about half as wide."""
    return sum(1.0 if ord(c) > 0x2E80 else 0.55 for c in str(text))


def _lines(text: str, chars: float) -> int:
    return max(1, math.ceil(text_width(text) / chars)) if text else 0


def excerpt(body: str, chars: int, lines: int) -> tuple[str, bool]:
    """At most ``lines`` lines of ``chars`` characters of the body, ended at a sentence when possible."""
    paras = [p.strip() for p in (body or "").split("\n") if p.strip()]
    text = "\n".join(paras)
    if sum(_lines(p, chars) for p in paras) <= lines:
        return text, False
    out, used = [], 0
    for p in paras:
        room = lines - used
        if room <= 0:
            break
        if _lines(p, chars) <= room:
            out.append(p)
            used += _lines(p, chars)
            continue
        budget = room * chars - 2          # room for the ellipsis
        cut, width = 0, 0.0
        for i, c in enumerate(p):
            width += text_width(c)
            if width > budget:
                break
            cut = i + 1
        piece = p[:cut]
        stop = max(piece.rfind(s) for s in "。；！？")
        if stop >= len(piece) * 0.6:
            piece = piece[:stop + 1]
        out.append(piece.rstrip("，、；：,; ") + "……")
        break
    return "\n".join(out), True


def _unbroken(text: str) -> float:
    """Width of the longest run a line cannot break inside: Latin letters, digits and marks
    without a space (an ID number, an amount); Chinese text breaks between any characters."""
    runs = re.findall(r"[^\s\u2e80-\U0010ffff]+", str(text))
    return max([text_width(r) for r in runs] + [1.0])


def _column_chars(columns: list, rows: list, chars: float, nowrap: list[bool] | None = None) -> list[float]:
    """Each column's width in ``chars``, as the browser's automatic table layout gives it:
    every column at least its narrowest (a cell kept on one line, else its longest unbroken
    run), the room left shared in proportion to how much wider each would like to be."""
    if nowrap is None:
        nowrap = _nowrap(columns, rows)
    widest, narrowest = [], []
    for i, c in enumerate(columns):
        cells = [str(r[i]) for r in rows if i < len(r)]
        data = max([text_width(v) for v in cells] + [0])
        widest.append(max(text_width(c), data, 1.0))
        narrowest.append(max([data if nowrap[i] else 0.0, _unbroken(c)] + [_unbroken(v) for v in cells]))
    if sum(widest) <= chars:
        return widest
    slack = max(chars - sum(narrowest), 0.0)
    wants = sum(w - n for w, n in zip(widest, narrowest)) or 1.0
    return [n + slack * (w - n) / wants for w, n in zip(widest, narrowest)]


def _nowrap(columns: list, rows: list) -> list[bool]:
    """Columns whose cells are all short enough to keep on one line (names, amounts, masked IDs)."""
    return [max([text_width(r[i]) for r in rows if i < len(r)] + [0]) <= NOWRAP_CHARS
            for i in range(len(columns))]


def table_pages(columns: list, rows: list, chars: float, lines: int, first_lines: int) -> list[list]:
    """Split rows into pages: each page's rows (plus the header) fit in ``lines`` lines.

    Uses as few pages as the room allows, then evens them out, so that a long table
    does not end on a page with a single lonely row.
    """
    if not rows:
        return [[]]
    nowrap = _nowrap(columns, rows)
    widths = _column_chars(columns, rows, chars, nowrap)
    head = max(_lines(c, w) for c, w in zip(columns, widths))
    needs = [max([1 if keep else _lines(str(c), w) for c, w, keep in zip(r, widths, nowrap)] + [1])
             for r in rows]

    def split(count: int) -> list[list]:
        """Greedy fill; with ``count`` pages, each page aims at an equal share of the rows left."""
        pages, page, used, budget, i = [], [], head, first_lines, 0
        share = len(rows)
        for r, need in zip(rows, needs):
            if not page and count:
                share = math.ceil((len(rows) - i) / max(count - len(pages), 1))
            if page and (used + need > budget or len(page) >= share):
                pages.append(page)
                page, used, budget = [], head, lines
                if count:
                    share = math.ceil((len(rows) - i) / max(count - len(pages), 1))
            page.append(r)
            used += need
            i += 1
        pages.append(page)
        return pages

    fewest = split(0)
    even = split(len(fewest))
    return even if len(even) == len(fewest) else fewest


def board_pictures(n: dict) -> list[dict]:
    """The pictures of a notice that become slides: images, and every page of a short PDF.

    ``n["attachments"]`` holds {"name", "mime", "shown": [picture, …]} (content.boards)."""
    out = []
    for a in n.get("attachments") or []:
        shown = a.get("shown") or []
        if not str(a.get("mime", "")).startswith("image/") and len(shown) > BOARD_PDF_PAGES:
            continue
        out += [dict(p, name=a.get("name", ""), page=i, pages=len(shown))
                for i, p in enumerate(shown, 1)]
    return out[:MAX_PICTURES]


def _slides(notices: list[dict], board: dict, now: datetime, emergency: bool = False) -> list[Slide]:
    layout = LAYOUTS.get(board.get("orientation"), LAYOUTS["landscape"])
    today = now.date()
    slides = []
    for n in notices:
        # Titles longer than two lines and the emergency strip take room from the content.
        # (A one-line title gives a line back.)
        extra = (_lines(n.get("title", ""), layout["title_chars"]) - 2) * 1.3
        extra += 1.2 if (emergency or n.get("priority") == "紧急") else 0
        lines, table_lines = (layout["lines"] - math.ceil(extra),
                              layout["table_lines"] - math.ceil(extra))
        base = dict(notice=n, period=period(n, today), until=ends_at(n, now),
                    emergency=emergency or n.get("priority") == "紧急")
        pictures = board_pictures(n)
        fields = list((n.get("fields") or {}).items())[:MAX_FIELDS]
        side_by_side = len(fields) > 1 and board.get("orientation") != "portrait"
        # The label keeps its own column, so the value wraps in what is left of it.
        each = [_lines(v, max((layout["chars"] / 2 if side_by_side else layout["chars"]) - len(k) - 1, 4))
                for k, v in fields]
        if side_by_side:                               # two fields per row: the taller one counts
            each = [max(each[i:i + 2]) for i in range(0, len(each), 2)]
        field_lines = math.ceil(sum(each) * 1.15)      # field rows are a little taller than text
        columns = n.get("table_columns") or []
        if columns:
            all_rows = n.get("table_rows") or []
            # Page 1 also carries the excerpt and the key figures, in table-sized lines. A list
            # that would fit one slide on its own is not split over two half-empty ones for
            # them: the excerpt shrinks (the QR code leads to the full text), then the key
            # figures give way (the kiosk and the phone show them).
            for excerpt_lines, keep_fields in ((EXCERPT_LINES_WITH_TABLE, True), (1, True),
                                               (0, True), (0, False)):
                text, cut = excerpt(n.get("body", ""), layout["chars"], excerpt_lines)
                extra_lines = _lines(text, layout["chars"]) + (field_lines if keep_fields else 0)
                first = table_lines - math.ceil(extra_lines * 1.2)
                pages = table_pages(columns, all_rows, layout["table_chars"],
                                    max(table_lines, 3), max(first, 2))
                if len(pages) == 1 or len(table_pages(columns, all_rows, layout["table_chars"],
                                                      max(table_lines, 3), max(table_lines, 3))) > 1:
                    break       # fits, or too long for one slide anyway: keep everything
            if not keep_fields:
                fields = []
            nowrap = _nowrap(columns, all_rows)
            for i, rows in enumerate(pages, 1):
                slides.append(Slide(key=f"{n['id']}-{i}", page=i, pages=len(pages),
                                    excerpt=text if i == 1 else "", truncated=cut,
                                    fields=fields if i == 1 else [], columns=columns, rows=rows,
                                    nowrap=nowrap,
                                    **base))
        else:
            text, cut = excerpt(n.get("body", ""), layout["chars"],
                                max(lines - field_lines, 3))
            if text or fields or not pictures:
                slides.append(Slide(key=f"{n['id']}-1", excerpt=text, truncated=cut, fields=fields,
                                    **base))
        for k, p in enumerate(pictures, 1):
            slides.append(Slide(key=f"{n['id']}-p{k}", picture=p, **base))
    return slides
