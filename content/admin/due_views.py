"""应公开未公开 in the admin: the village's 本月应公开 checklist on the dashboard, and for
townships and the county the lists of what is due and overdue across their villages."""
from __future__ import annotations

from .. import auth, disclosure_calendar, jurisdictions
from ..db import get_db
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
    return {"village": False, "overdue": len(disclosure_calendar.overdue(conn, _codes(conn, u), day))}


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
