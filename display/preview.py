"""The admin's preview of a board as it would look with the settings being edited (drafts included).

Served by ``display`` because only it knows how a board looks; the addresses sit under
``/admin/boards/<id>/`` and answer only signed-in staff who may read the board
(``content.auth``), so drafts never reach the public screens.  The preview polls its
own address, so saving another draft shows up in an open preview as it would on a board.
"""
from __future__ import annotations

from flask import Response, abort, render_template, request, url_for
from markupsafe import Markup

from content import auth, board_settings, editing
from content.db import get_db

from .views import WEEKDAYS, _deck, _unchanged, bp, cn_date, now


def _draft_board(obj_id: int) -> dict:
    conn = get_db()
    w = editing.working(conn, editing.entity("board"), obj_id)
    if w is None or not auth.allowed(conn, auth.current_user(), "read", w["jurisdiction_code"]):
        abort(404)
    return board_settings.as_board(conn, w["data"], obj_id)


def _no_store(resp: Response) -> Response:
    resp.cache_control.no_store = True
    resp.cache_control.private = True
    return resp


@bp.route("/admin/boards/<id:obj_id>/preview")
@auth.require_role()
def board_preview(obj_id: int):
    board = _draft_board(obj_id)
    moment = now()
    slides_url = url_for("display.board_preview_slides", obj_id=obj_id)
    deck, version, scr = _deck(board, moment, slides_url)
    html = render_template("display/board.html", board=board, deck=Markup(deck), screen=scr,
                           version=version, server_ms=int(moment.timestamp() * 1000),
                           clock_time=moment.strftime("%H:%M"),
                           clock_date=f"{cn_date(moment)} 星期{WEEKDAYS[moment.weekday()]}",
                           is_demo=False, preview=True)  # one tag in the footer: the preview one
    return _no_store(Response(html, mimetype="text/html"))


@bp.route("/admin/boards/<id:obj_id>/preview/slides")
@auth.require_role()
def board_preview_slides(obj_id: int):
    board = _draft_board(obj_id)
    deck, version, _scr = _deck(board, now(), url_for("display.board_preview_slides", obj_id=obj_id))
    if request.args.get("v") == version:
        return _unchanged(version, 204)
    return _no_store(Response(deck, mimetype="text/html"))
