"""Resident touchscreen screens: catalogue, village lists, aligned matters, guides, notices."""
from __future__ import annotations

import sqlite3
from datetime import date

from flask import (Blueprint, Response, abort, current_app, g, jsonify, redirect, render_template,
                   request, url_for)

from content import catalogue, guides, jurisdictions, matters, notices, qr
from content.alignment import LEVEL_NAMES, differing_cells, differing_fields, differing_rows
from content.db import get_db, get_meta

from . import htmx

bp = Blueprint("kiosk", __name__)


def today() -> date:
    """The kiosk's date; tests may pin it with the TODAY config key."""
    pinned = current_app.config.get("TODAY")
    return date.fromisoformat(pinned) if pinned else date.today()


def scope() -> str | None:
    return current_app.config.get("SCOPE") or get_meta(get_db(), "scope")


def visible() -> list[str]:
    """Jurisdiction codes this instance shows, computed once per request."""
    if "visible_codes" not in g:
        g.visible_codes = jurisdictions.visible_codes(get_db(), scope())
    return g.visible_codes


def render(template: str, **context):
    """One template per screen: its main block alone for htmx swaps, the whole page otherwise."""
    # A history restore (htmx missed its cache) needs the whole page.
    fragment = bool(htmx) and not htmx.history_restore_request
    layout = "_fragment.html" if fragment else "base.html"
    return render_template(template, layout=layout, **context)


@bp.app_context_processor
def kiosk_context():
    conn = get_db()
    return {
        "is_demo": get_meta(conn, "demo") == "1",
        "site_name": get_meta(conn, "county_name") or "基层政务公开",
        "content_version": get_meta(conn, "content_version"),
        "content_updated": get_meta(conn, "content_updated"),
        "level_names": LEVEL_NAMES,
        "htmx_available": current_app.config.get("HTMX_AVAILABLE", False),
        "idle_seconds": current_app.config.get("IDLE_SECONDS", 120),
    }


def home_village(conn) -> sqlite3.Row | None:
    """The village this terminal stands in, when it is scoped to one."""
    here = jurisdictions.get(conn, scope()) if scope() else None
    return here if here is not None and here["level"] == "village" else None


def notice_history(conn, **which) -> dict:
    """Live notices and past ones grouped by month, for one item or one place."""
    return {"live": notices.list_notices(conn, visible(), today(), limit=500, **which),
            "past": notices.by_month(notices.list_notices(conn, visible(), today(), past=True,
                                                          limit=500, **which))}


@bp.route("/")
def home():
    conn = get_db()
    village = home_village(conn)
    ours = (notices.list_notices(conn, visible(), today(), limit=6, subjects=[village["code"]])
            if village else [])
    latest = notices.list_notices(conn, visible(), today(), limit=6)
    latest = [n for n in latest if n["id"] not in {o["id"] for o in ours}]
    return render("home.html", latest=latest, village=village, ours=ours)


@bp.route("/domains")
def domain_list():
    return render("domains.html", domains=catalogue.list_domains(get_db(), visible()))


@bp.route("/domains/<id:domain_id>")
def domain_detail(domain_id: int):
    conn = get_db()
    domain = catalogue.get_domain(conn, domain_id) or abort(404)
    items = catalogue.domain_items(conn, domain_id, visible())
    return render("domain.html", domain=domain, items=items,
                  guides=guides.guide_cards(conn, visible(), domain_id))


@bp.route("/items/<id:item_id>")
def item_detail(item_id: int):
    conn = get_db()
    item = catalogue.get_item(conn, item_id, visible()) or abort(404)
    return render("item.html", item=item, history=notice_history(conn, item_id=item_id),
                  guides=guides.for_item(conn, item, visible()),
                  siblings=catalogue.sibling_items(conn, item, visible()),
                  channels=catalogue.CHANNELS,
                  matter=matters.get_matter(conn, item["matter_id"]) if item["matter_id"] else None)


@bp.route("/villages")
def village_choice():
    """Choose a township, then one of its villages."""
    conn = get_db()
    here = jurisdictions.get(conn, scope()) if scope() else None
    if here is not None and here["level"] == "village":
        return redirect(url_for(".village_list", code=here["code"]))
    townships = [t for t in conn.execute(
        "SELECT * FROM jurisdiction WHERE level = 'township' ORDER BY sort, code")
        if t["code"] in visible()]
    chosen = request.args.get("township", "")
    township = next((t for t in townships if t["code"] == chosen), None)
    if township is None and len(townships) == 1:
        township = townships[0]
    villages = ([v for v in jurisdictions.children(conn, township["code"]) if v["code"] in visible()]
                if township else [])
    if htmx.target == "village-choices":
        return render_template("_village_choices.html", township=township, villages=villages)
    return render("villages.html", townships=townships, township=township, villages=villages)


@bp.route("/villages/<code:code>")
def village_list(code: str):
    conn = get_db()
    village = jurisdictions.get(conn, code)
    if village is None or village["level"] != "village" or code not in visible():
        abort(404)
    chain = jurisdictions.ancestors(conn, code)
    items = catalogue.village_items(conn, code)
    overview = matters.village_overview(conn, code, today())
    live = notices.list_notices(conn, visible(), today(), limit=500, subjects=[code])
    live_count: dict[int, int] = {}
    for n in live:
        if n["village_item_id"]:
            live_count[n["village_item_id"]] = live_count.get(n["village_item_id"], 0) + 1
    return render("village.html", village=village, chain=chain, items=items, live=live,
                  live_count=live_count, categories=catalogue.VILLAGE_CATEGORIES,
                  overview=overview)


@bp.route("/village-items/<id:item_id>")
def village_item_detail(item_id: int):
    conn = get_db()
    item = catalogue.get_village_item(conn, item_id, visible()) or abort(404)
    return render("village_item.html", item=item,
                  history=notice_history(conn, village_item_id=item_id))


@bp.route("/matters")
def matter_list():
    return render("matters.html", matters=matters.list_matters(get_db()))


@bp.route("/matters/<id:matter_id>")
def matter_detail(matter_id: int):
    conn = get_db()
    matter = matters.get_matter(conn, matter_id) or abort(404)
    villages = matters.matter_villages(conn, matter, visible(), today())
    if len(villages) == 1:
        return redirect(url_for(".matter_aligned", matter_id=matter_id, code=villages[0][0]["code"]))
    return render("matter.html", matter=matter, villages=villages)


@bp.route("/matters/<id:matter_id>/<code:code>")
def matter_aligned(matter_id: int, code: str):
    """County, township and village side by side for one matter, differences highlighted."""
    conn = get_db()
    matter = matters.get_matter(conn, matter_id) or abort(404)
    village = jurisdictions.get(conn, code)
    if village is None or village["level"] != "village" or code not in visible():
        abort(404)
    result = matters.align_for_village(conn, matter, code, today())
    bad_cells = differing_cells(result)
    bad_columns: dict[str, set[str]] = {}
    for level, _key, column in bad_cells:
        bad_columns.setdefault(level, set()).add(column)
    return render("aligned.html", matter=matter, village=village, result=result,
                  bad_cells=bad_cells, bad_columns=bad_columns, bad_fields=differing_fields(result),
                  bad_rows=differing_rows(result))


@bp.route("/guides")
def guide_list():
    conn = get_db()
    return render("guides.html", guides=guides.guide_cards(conn, visible()),
                  handbooks=guides.list_handbooks(conn, visible()))


@bp.route("/guides/<id:guide_id>")
def guide_detail(guide_id: int):
    guide = guides.get_guide(get_db(), guide_id, visible()) or abort(404)
    return render("guide.html", guide=guide)


@bp.route("/handbooks/<id:handbook_id>")
def handbook_detail(handbook_id: int):
    handbook = guides.get_handbook(get_db(), handbook_id, visible()) or abort(404)
    return render("handbook.html", handbook=handbook)


@bp.route("/notices")
def notice_list():
    """Live (or past) notices, all or only those about one township (and its villages) or one
    village: ?township=CODE, ?village=CODE."""
    conn = get_db()
    past = request.args.get("past") == "1"
    townships = [t for t in conn.execute(
        "SELECT * FROM jurisdiction WHERE level = 'township' ORDER BY sort, code")
        if t["code"] in visible()]
    township = next((t for t in townships if t["code"] == request.args.get("township")), None)
    village = jurisdictions.get(conn, request.args.get("village", "")[:12])
    if village is not None and (village["level"] != "village" or village["code"] not in visible()):
        village = None
    if village is not None:
        township = jurisdictions.get(conn, village["parent_code"])
    villages = ([v for v in jurisdictions.children(conn, township["code"]) if v["code"] in visible()]
                if township else [])
    subjects = ([village["code"]] if village else
                [township["code"]] + [v["code"] for v in villages] if township else None)
    items = notices.list_notices(conn, visible(), today(), past=past, subjects=subjects)
    return render("notices.html", notices=items, past=past, townships=townships,
                  township=township, villages=villages, village=village)


@bp.route("/notices/<id:notice_id>")
def notice_detail(notice_id: int):
    notice = notices.get_notice(get_db(), notice_id, visible(), today()) or abort(404)
    return render("notice.html", notice=notice)


@bp.route("/qr.<any(svg, png):fmt>")
def qr_code(fmt: str):
    """A QR code for an http(s) address (external links never open on the kiosk itself)."""
    url = request.args.get("url", "")
    try:
        body = qr.svg(url) if fmt == "svg" else qr.png(url)
    except qr.BadQRData as e:
        return render_template("errors/400.html", message=str(e)), 400
    etag = qr.cache_key(url, fmt)
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    resp = Response(body, mimetype="image/svg+xml" if fmt == "svg" else "image/png")
    resp.set_etag(etag)
    resp.cache_control.public = True
    resp.cache_control.max_age = 86400 * 30
    return resp
