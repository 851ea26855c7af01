"""Rules for a noticeboard's settings (电子公示栏), shared by the admin forms and content.editing.

The ``board`` table's CHECK constraints are the last line; these rules come first
so staff get a clear Chinese message next to the field and nothing is written.
"""
from __future__ import annotations

import json
import re
import sqlite3
from datetime import time

from . import jurisdictions

# /display/<slug> is the screen's address; these names are taken by the display routes.
RESERVED_SLUGS = frozenset({"static", "emergency", "preview", "new"})
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
SLIDE_SECONDS = (5, 600)       # shorter cannot be read by an elderly passer-by
POLL_SECONDS = (10, 3600)      # shorter only loads the village link
MAX_WINDOWS = 4
LEVELS = ("county", "township", "village")
ORIENTATIONS = ("landscape", "portrait")
_HHMM = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def normalise_time(text: str, end: bool = False) -> str:
    """'7:30' → '07:30'; '24:00' only as the end of a window. ValueError with a Chinese message."""
    m = _HHMM.match((text or "").strip())
    if not m:
        raise ValueError("时间格式应为 时:分，例如 07:30")
    h, mi = int(m.group(1)), int(m.group(2))
    if (h, mi) == (24, 0) and end:
        return "24:00"
    if h > 23 or mi > 59:
        raise ValueError("时间应在 00:00 到 23:59 之间" + ("（结束也可以写 24:00）" if end else ""))
    return f"{h:02d}:{mi:02d}"


def _seconds(value, bounds: tuple[int, int], what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}请填写数字（秒）") from None
    if number != number or not bounds[0] <= number <= bounds[1]:   # NaN fails the range too
        raise ValueError(f"{what}应在 {bounds[0]} 到 {bounds[1]} 秒之间")
    return int(number) if number == int(number) else number


def check(conn: sqlite3.Connection, data: dict, board_id: int | None = None) -> dict[str, str]:
    """Errors by field name (empty when the settings are fine); normalises ``data`` in place."""
    errors: dict[str, str] = {}
    slug = (data.get("slug") or "").strip()
    data["slug"] = slug
    if not slug:
        errors["slug"] = "必填：屏幕网址中的名称，例如 xinghuacun"
    elif not SLUG.match(slug):
        errors["slug"] = "只能用小写英文字母、数字和短横线，以字母或数字开头，最多 64 个字符"
    elif slug in RESERVED_SLUGS:
        errors["slug"] = f"“{slug}”是系统保留的名称，请换一个"
    else:
        row = conn.execute("SELECT id, name FROM board WHERE slug = ?", (slug,)).fetchone()
        if row is not None and row["id"] != board_id:
            errors["slug"] = f"这个名称已被“{row['name']}”使用，请换一个"
    for key, limit in (("name", 60), ("location", 120), ("fallback_title", 60), ("fallback_text", 2000)):
        value = (data.get(key) or "").strip()
        data[key] = value
        if len(value) > limit:
            errors[key] = f"最多 {limit} 个字"
    if not data["name"]:
        errors["name"] = "必填"
    if not data["fallback_title"]:
        errors["fallback_title"] = "必填：没有公示内容时屏幕上显示的标题"
    code = data.get("jurisdiction_code")
    if not code or jurisdictions.get(conn, code) is None:
        errors["jurisdiction_code"] = "请选择所属行政区划"
    if data.get("orientation") not in ORIENTATIONS:
        errors["orientation"] = "请选择横屏或竖屏"
    for key, bounds, what in (("slide_seconds", SLIDE_SECONDS, "每屏停留时间"),
                              ("poll_seconds", POLL_SECONDS, "检查更新间隔")):
        try:
            data[key] = _seconds(data.get(key), bounds, what)
        except ValueError as e:
            errors[key] = str(e)
    levels = data.get("levels") or []
    if not isinstance(levels, list) or any(v not in LEVELS for v in levels):
        errors["levels"] = "层级只能是县级、乡级、村级"
    domains = data.get("domains") or []
    known = {r[0] for r in conn.execute("SELECT id FROM domain")}
    if not isinstance(domains, list) or any(d not in known for d in domains):
        errors["domains"] = "请从列表中选择领域"
    try:
        data["windows"] = check_windows(data.get("windows") or [])
    except ValueError as e:
        errors["windows"] = str(e)
    try:
        data["sort"] = int(data.get("sort") or 0)
    except (TypeError, ValueError):
        errors["sort"] = "请填写整数"
    return errors


def check_windows(windows: list) -> list[dict]:
    """Daily windows [{'start', 'end'}]; a start after the end crosses midnight."""
    if not isinstance(windows, list):
        raise ValueError("显示时段格式不对")
    if len(windows) > MAX_WINDOWS:
        raise ValueError(f"最多 {MAX_WINDOWS} 个显示时段")
    out = []
    for i, w in enumerate(windows, 1):
        if not isinstance(w, dict):
            raise ValueError("显示时段格式不对")
        if not (w.get("start") or "").strip() or not (w.get("end") or "").strip():
            raise ValueError(f"第{i}个时段要同时填写开始和结束时间")
        try:
            start = normalise_time(w.get("start", ""))
            end = normalise_time(w.get("end", ""), end=True)
        except ValueError as e:
            raise ValueError(f"第{i}个时段：{e}") from None
        if start == end or (start == "00:00" and end == "24:00"):
            raise ValueError(f"第{i}个时段：开始和结束不能相同；全天显示请不填时段")
        out.append({"start": start, "end": end})
    return out


def describe_windows(windows: list[dict]) -> str:
    """'07:00–12:00、22:00–次日06:00' for lists and the detail page."""
    if not windows:
        return "全天"
    return "、".join(f"{w['start']}–{'次日' if w['start'] > w['end'] else ''}{w['end']}" for w in windows)


def as_board(conn: sqlite3.Connection, data: dict, obj_id: int, status: str = "published") -> dict:
    """Settings being edited, in the shape ``content.boards`` gives a published board (for previews)."""
    b = dict(data, id=obj_id, status=status)
    for key in ("levels", "domains", "windows"):
        if isinstance(b.get(key), str):
            b[key] = json.loads(b[key])
        b[key] = b.get(key) or []
    code = b["jurisdiction_code"]
    b["chain"] = [r["code"] for r in jurisdictions.ancestors(conn, code)]
    b["area"] = jurisdictions.visible_codes(conn, code)
    here = jurisdictions.get(conn, code)
    b["jurisdiction_name"] = here["name"] if here else ""
    b["jurisdiction_level"] = here["level"] if here else ""
    return b


def parse_hhmm(text: str) -> time:
    """'07:30' → time(7, 30); '24:00' is accepted as the end of the day."""
    hh, mm = text.strip().split(":")
    h, m = int(hh), int(mm)
    if (h, m) == (24, 0):
        return time.max
    return time(h, m)


def in_windows(windows: list[dict], at: time) -> bool:
    """Whether ``at`` lies in one of the daily windows; [] means all day.

    A window whose start is after its end crosses midnight (22:00–06:00);
    start == end means the whole day.
    """
    if not windows:
        return True
    for w in windows:
        start, end = parse_hhmm(w["start"]), parse_hhmm(w["end"])
        if start == end:
            return True
        if start < end and start <= at < end:
            return True
        if start > end and (at >= start or at < end):
            return True
    return False
