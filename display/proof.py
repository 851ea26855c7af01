"""A board's report of what it actually showed (公示留痕): ``POST /display/<slug>/shown``.

Only the board's own browser reports, on the machine that serves it: requests from anywhere
but this machine are refused, so nobody on the network can make a board look as if it had
shown a notice. The counts are a CSRF-free machine request (no session, no cookie)."""
from __future__ import annotations

import ipaddress

from flask import Blueprint, current_app, jsonify, request

from content import boards, display_proof, outbox
from content.db import get_db, immediate

bp = Blueprint("display_proof", __name__)

MAX_BODY = 256 * 1024


def _from_this_machine() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.route("/display/<slug>/shown", methods=["POST"])
def board_shown(slug: str):
    if not _from_this_machine():
        return jsonify({"error": "只接受本机公示栏的显示报告"}), 403
    conn = get_db()
    if boards.get_board(conn, slug) is None:
        return jsonify({"error": "没有这个公示栏"}), 404
    if (request.content_length or 0) > MAX_BODY:
        return jsonify({"error": "报告过大"}), 413
    body = request.get_json(silent=True)
    now = display_proof.now(current_app.config.get("NOW"))
    try:
        counts = display_proof.parse_report(body, now)
    except display_proof.BadReport as e:
        return jsonify({"error": str(e)}), 400
    on_terminal = current_app.config.get("ROLE") == "terminal"
    with immediate(conn):
        display_proof.record(conn, slug, counts, on_terminal)
        if on_terminal:
            scope = current_app.config.get("SCOPE") or ""
            display_proof.queue_finished_hours(conn, scope, now, outbox.enqueue)
    return jsonify({"recorded": len(counts)})
