"""应公开未公开 in the admin: the village's 本月应公开 checklist on the dashboard, and for
townships and the county the lists of what is due and overdue across their villages."""
from __future__ import annotations

from flask import current_app

from .. import auth, disclosure_calendar, holidays, jurisdictions
from ..db import get_db, get_meta
from . import bp, render, today, user

ITEM_KINDS = {"village_item": "village-items", "catalogue_item": "catalogue"}


def _codes(conn, u) -> list[str]:
    """The user's jurisdiction and everything below it: a township watches its villages."""
    return sorted(auth.reachable_codes(conn, u))


def _named(conn, rows: list[dict]) -> list[dict]:
    names = {}
    for r in rows:
        code = r["jurisdiction_code"]
        if code not in names:
            place = jurisdictions.get(conn, code)
            names[code] = place["name"] if place else code
        r["place"] = names[code]
        r["admin_kind"] = ITEM_KINDS[r["kind"]]
    return rows


def dashboard_checklist() -> dict:
    """For the dashboard: a village's own 本月应公开 list; elsewhere the number overdue."""
    conn = get_db()
    u = user()
    if u is None:
        return {}
    day = today()
    if u["role"] in ("village_editor", "village_supervisor"):
        return {"village": True, "rows": _named(conn, disclosure_calendar.due_this_month(
            conn, [u["jurisdiction_code"]], day)), "status_names": disclosure_calendar.STATUS_NAMES}
    return {"village": False, "overdue": _overdue_count(conn, _codes(conn, u), day)}


# (database, codes, day, content version, holiday schedules) → number overdue. The whole
# county's calendars take a few hundred milliseconds to judge; the workbench shows only the
# number, which changes only when published content, the day or the holidays change.
_OVERDUE_COUNTS: dict[tuple, int] = {}


def _overdue_count(conn, codes: list[str], day) -> int:
    key = (current_app.config["DATABASE"], hash(tuple(codes)), day, get_meta(conn, "content_version"),
           get_meta(conn, "content_updated"), holidays.fingerprint(conn))
    if key not in _OVERDUE_COUNTS:
        if len(_OVERDUE_COUNTS) > 256:
            _OVERDUE_COUNTS.clear()
        _OVERDUE_COUNTS[key] = len(disclosure_calendar.overdue(conn, codes, day))
    return _OVERDUE_COUNTS[key]


@bp.app_context_processor
def due_context():
    # A callable, so only the dashboard pays for the calendar.
    return {"due_checklist": dashboard_checklist}


@bp.route("/due")
@auth.require_role()
def due_page():
    conn = get_db()
    u = user()
    codes = _codes(conn, u)
    day = today()
    calendars = disclosure_calendar.item_calendars(conn, codes, day)     # once for both lists
    return render("admin/due.html",
                  overdue=_named(conn, disclosure_calendar.overdue(conn, codes, day, calendars)),
                  this_month=_named(conn, [r for r in disclosure_calendar.due_this_month(conn, codes, day, calendars)
                                           if r["period"].status != "missing"]),
                  status_names=disclosure_calendar.STATUS_NAMES, day=day)
