"""Residents object to a 公示 or ask a question at the kiosk, and find the answer by receipt
number (content.resident_questions)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for

from content import qr
from content import resident_questions as rq
from content.db import get_db
from content.public_url import public_base
from content.security import limiter

from .citizen import KEYBOARD, LOOKUP_LIMITS, _enqueue, _home_code, refused_status
from .views import render, today, visible

bp = Blueprint("questions", __name__)

# The receipt's own prefix on the on-screen keyboard's 受理编号 layout.
ASK_KEYBOARD = {**KEYBOARD, "extra": (("WT-", "receipt"),) + tuple(KEYBOARD["extra"])}
TARGET_PATTERN = "any(notice, item, village_item, guide, village)"


@bp.context_processor
def keyboard_context() -> dict:
    return {"keyboard": ASK_KEYBOARD}


@bp.app_context_processor
def answers_context() -> dict:
    """For the notice, item, guide and village screens: the buttons and the answers under them."""
    def can_object(notice) -> bool:
        return rq.in_period({"type": "notice", **notice}, today())

    def answers_under(target_type: str, target_id) -> list[dict]:
        return rq.answers_for(get_db(), target_type, target_id)
    return {"can_object": can_object, "answers_under": answers_under, "period_note": rq.period_note}


def _target(target_type: str, key: str) -> dict:
    t = rq.target(get_db(), target_type, key)
    if t is None or t["jurisdiction_code"] not in visible():
        abort(404)
    return t


def _form(t: dict, objection: bool):
    kind = rq.kind_for(t, objection)
    clock = rq.clocks_from(current_app.config)[kind]
    ctx = {"t": t, "kind": kind, "kind_name": rq.KINDS[kind], "objection": objection, "clock": clock,
           "max_body": rq.MAX_BODY}
    if request.method == "GET":
        return render("questions/ask.html", data={}, errors={}, **ctx)
    data, errors = rq.validate(request.form)
    if not errors:
        try:
            record = rq.create(get_db(), t, kind, data, _home_code(), today(), clock, enqueue=_enqueue())
        except rq.Refused as e:
            errors = {"body": str(e)}
    if errors:
        # Nothing is stored: the form comes back with every message beside its field.
        return render("questions/ask.html", data=data, errors=errors, **ctx), refused_status()
    session["last_question"] = record["receipt_no"]
    return redirect(url_for(".receipt"), code=303)


@bp.route(f"/ask/<{TARGET_PATTERN}:target_type>/<key>", methods=["GET", "POST"])
def ask(target_type: str, key: str):
    """我要提问: on a catalogue item, village item, guide or village page."""
    return _form(_target(target_type, key), objection=False)


@bp.route("/object/<id:notice_id>", methods=["GET", "POST"])
def object_to(notice_id: int):
    """我有异议: on a notice while its 公示期 runs."""
    t = _target("notice", str(notice_id))
    if not rq.in_period(t, today()):
        return render("questions/closed.html", t=t), 410
    return _form(t, objection=True)


@bp.route("/ask/receipt")
def receipt():
    """The slip of the record just made on this screen."""
    receipt_no = session.get("last_question")
    row = rq.get_by_receipt(get_db(), receipt_no) if receipt_no else None
    if row is None:
        return redirect("/")
    q = rq.decorate(row, today())
    return render("questions/receipt.html", q=q, follow_url=status_url_for(q["receipt_no"]))


def status_url_for(receipt_no: str) -> str | None:
    """The phone's way to follow it: the public status page with the receipt number, never a phone."""
    base = public_base()
    if base is None:
        return None
    try:
        return qr.check_url(base + url_for(".status", receipt=receipt_no))
    except qr.BadQRData:
        return None


def _lookup_failed(_response) -> bool:
    return bool(g.get("lookup_failed"))


@bp.route("/ask/status", methods=["GET", "POST"])
@limiter.limit(LOOKUP_LIMITS, methods=["POST"], deduct_when=_lookup_failed)
def status():
    """Find the answer by receipt number (and the phone's last 4 digits if one was left)."""
    receipt_no = rq.normalise_receipt(request.values.get("receipt", ""))
    if request.method == "GET":
        return render("questions/status.html", receipt=receipt_no, result=None, error=None)
    result = rq.lookup(get_db(), receipt_no, request.form.get("tail", ""))
    error = None
    if result is None:
        g.lookup_failed = True
        error = ("没有查到与该受理编号相符的记录。留了电话的，请同时输入电话后4位；"
                 "没留电话的，后4位请空着。刚提交的记录可能要稍等一会儿。")
    return render("questions/status.html", receipt=receipt_no, result=result, error=error)


@bp.errorhandler(429)
def too_many_lookups(_e):
    return render("questions/status.html", receipt="", result=None,
                  error="查询次数过多，请稍后再试，或咨询大厅工作人员。"), 429
