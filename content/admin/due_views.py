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


# What is due depends only on published content, the day and the holiday schedules; judging a
# whole county's calendars takes a few hundred milliseconds, so the small results (a count for
# the workbench, the two lists of the 应公开未公开 page) are kept per content version, day
# and holiday schedules, per database and set of jurisdictions.
_BY_VERSION: dict[tuple, object] = {}


def _by_version(what: str, conn, codes: list[str], day, compute):
    key = (what, current_app.config["DATABASE"], hash(tuple(codes)), day, get_meta(conn, "content_version"),
           get_meta(conn, "content_updated"), holidays.fingerprint(conn))
    if key not in _BY_VERSION:
        if len(_BY_VERSION) > 256:
            _BY_VERSION.clear()
        _BY_VERSION[key] = compute()
    return _BY_VERSION[key]


def _overdue_count(conn, codes: list[str], day) -> int:
    return _by_version("overdue count", conn, codes, day,
                       lambda: len(disclosure_calendar.overdue(conn, codes, day)))


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

    def lists():
        calendars = disclosure_calendar.item_calendars(conn, codes, day)     # once for both lists
        return (_named(conn, disclosure_calendar.overdue(conn, codes, day, calendars)),
                _named(conn, [r for r in disclosure_calendar.due_this_month(conn, codes, day, calendars)
                              if r["period"].status != "missing"]))

    overdue, this_month = _by_version("due lists", conn, codes, day, lists)
    return render("admin/due.html", overdue=overdue, this_month=this_month,
                  status_names=disclosure_calendar.STATUS_NAMES, day=day)
