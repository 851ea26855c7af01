"""Citizen services at the kiosk: applications for information, ratings, consultations."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, g, redirect, render_template, request, session,
                   url_for)

from content import application_hints, application_organs, applications, consultations, feedback, qr
from content.db import get_db
from content.public_url import public_base
from content.security import limiter

from . import htmx
from .compression import keep_uncompressed
from .views import render, scope, today, visible

bp = Blueprint("citizen", __name__)

# Failed status lookups per address: receipt numbers are sequential, so the
# phone digits must not be guessable by trying (10,000 combinations).
LOOKUP_LIMITS = "20 per 10 minutes; 60 per day"

# The forms' on-screen keyboard (citizen/_keys.html, citizen.js). A field names its layout in
# data-osk: "id" (居民身份证: digits and X), "tel", "digits" get a large keypad; "email", "code"
# (other ID numbers), "receipt", "text", "address", "docno" the full keyboard with the extra keys
# listed for them. Chinese comes from the kiosk's input method, never from these keys.
KEYBOARD = {
    "rows": ("1234567890", "ABCDEFGHI", "JKLMNOPQR", "STUVWXYZ"),
    "extra": (("YSQ-", "receipt"), ("-", "email code receipt text address docno"),
              ("@", "email"), (".", "email"), ("_", "email"), (".com", "email"),
              ("@qq.com", "email"), ("@163.com", "email"), ("·", "text"),
              ("号", "address docno"), ("组", "address"), ("村", "address"), ("栋", "address"),
              ("单元", "address"), ("室", "address"), ("〔", "docno"), ("〕", "docno"),
              ("年", "text docno")),
}


def _enqueue():
    """On a terminal, content.outbox.enqueue with the record filed under the terminal's own
    jurisdiction code (the hub refuses any other: a rating of a county guide given at a
    village terminal travels as the village's; the hub finds the guide's owner itself).
    None elsewhere."""
    if current_app.config.get("ROLE") != "terminal":
        return None
    from content import outbox  # noqa: PLC0415  (the outbox table exists on synced instances)
    origin = _home_code()

    def enqueue(conn, kind, record_uuid, payload):
        outbox.enqueue(conn, kind, record_uuid, {**payload, "jurisdiction_code": origin})
    return enqueue


def _home_code() -> str:
    """The jurisdiction an application made here belongs to: the instance's scope, else the county."""
    code = scope()
    if code:
        return code
    row = get_db().execute("SELECT code FROM jurisdiction WHERE level = 'county' ORDER BY code").fetchone()
    return row["code"]


def status_url(receipt_no: str) -> str | None:
    """Where a phone can follow a receipt: the county's public address (content.public_url)."""
    base = public_base()
    if base is None:
        return None
    url = base + url_for("citizen.status", receipt=receipt_no)
    try:
        return qr.check_url(url)
    except qr.BadQRData:
        return None


def refused_status() -> int:
    """422 for a refused form; 200 for htmx, which swaps only successful answers into the page."""
    return 200 if htmx else 422


def _choices() -> dict:
    organs = application_organs.organs(get_db())
    return {"governments": [o for o in organs if not o.dept], "departments": [o for o in organs if o.dept],
            "applicant_types": applications.APPLICANT_TYPES, "org_subtypes": applications.ORG_SUBTYPES,
            "person_id_types": applications.PERSON_ID_TYPES, "org_id_types": applications.ORG_ID_TYPES,
            "provision_forms": applications.PROVISION_FORMS, "delivery_ways": applications.DELIVERY_WAYS,
            "labels": applications.FIELD_LABELS}


@bp.context_processor
def keyboard_context() -> dict:
    return {"keyboard": KEYBOARD}


# ---------------------------------------------------------------- 依申请公开

@bp.route("/apply", methods=["GET", "POST"])
def apply():
    conn = get_db()
    home = application_organs.default_organ(conn, _home_code())
    if request.method == "GET":
        defaults = {"applicant_type": "自然人", "id_type": "居民身份证", "provision_form": "纸质",
                    "delivery": "自行领取", "organ": home.key if home else ""}
        return render("citizen/apply.html", data=defaults, errors={}, **_choices())
    data, errors = applications.validate(request.form)
    data["organ"] = (request.form.get("organ") or (home.key if home else "")).strip()
    organ = application_organs.parse_key(conn, data["organ"])
    if organ is None and application_organs.organs(conn):
        errors["organ"] = "请选择受理机关；不清楚由哪个机关负责的，选本地人民政府即可"
    elif organ is not None:
        data["organ_code"], data["organ_dept"] = organ.code, organ.dept
    if errors:
        # Nothing is stored: the form comes back with every message beside its field.
        return render("citizen/apply.html", data=data, errors=errors, **_choices()), refused_status()
    row = applications.create(get_db(), data, _home_code(), today(),
                              role=current_app.config.get("ROLE", "standalone"), enqueue=_enqueue())
    session["last_receipt"] = row["receipt_no"]
    return redirect(url_for(".receipt"), code=303)


@bp.route("/apply/suggest")
def suggest():
    """Published items, notices and guides matching the title being typed (an htmx fragment;
    as a page it shows the same list with a link back to the form)."""
    title = request.args.get("title", "")[:100]
    hits = application_hints.published_matches(get_db(), title, visible(), today())
    if htmx:
        return render_template("citizen/_suggest.html", hits=hits, title=title)
    return render("citizen/suggest.html", hits=hits, title=title)


@bp.route("/apply/receipt")
def receipt():
    """The receipt slip of the application just made on this screen (never someone else's details)."""
    receipt_no = session.get("last_receipt")
    keep_uncompressed()      # one resident's own application: never compressed (BREACH)
    row = applications.get_by_receipt(get_db(), receipt_no) if receipt_no else None
    if row is None:
        return redirect(url_for(".apply"))
    return render("citizen/receipt.html", app=row, follow_url=status_url(row["receipt_no"]),
                  reply_days=applications.REPLY_WORKDAYS)


def _lookup_failed(_response) -> bool:
    return bool(g.get("lookup_failed"))


@bp.route("/apply/status", methods=["GET", "POST"])
@limiter.limit(LOOKUP_LIMITS, methods=["POST"], deduct_when=_lookup_failed)
def status():
    """Follow an application by receipt number and the phone's last 4 digits: stage and dates only."""
    receipt_no = applications.normalise_receipt(request.values.get("receipt", ""))[:40]
    if receipt_no.startswith("WT-"):    # an objection's or question's receipt: its own lookup
        return redirect(url_for("questions.status", receipt=receipt_no), code=307)
    if request.method == "GET":
        return render("citizen/status.html", receipt=receipt_no, result=None, error=None)
    tail = (request.form.get("tail") or "").strip()
    result = applications.lookup(get_db(), receipt_no, tail) if receipt_no else None
    error = None
    if result is None:
        g.lookup_failed = True
        # One message for every failure: whether the number exists is not revealed.
        error = "没有查到与该受理编号和手机号后4位相符的申请，请核对后重试，或咨询大厅工作人员。"
    return render("citizen/status.html", receipt=receipt_no, result=result, error=error)


@bp.errorhandler(429)
def too_many_lookups(_e):
    return render("citizen/status.html", receipt="", result=None,
                  error="查询次数过多，请稍后再试，或咨询大厅工作人员。"), 429


# ---------------------------------------------------------------- 社会评议

@bp.route("/rate", methods=["POST"])
def rate():
    target_type = request.form.get("target_type", "")
    try:
        target_id = int(request.form.get("target_id", ""))
    except ValueError:
        abort(400)
    back = feedback.TARGETS.get(target_type, (None, None, "/"))[2].format(id=target_id)
    try:
        record = feedback.submit(get_db(), target_type, target_id, request.form.get("rating", ""),
                                 request.form.get("comment", ""), codes=visible(), enqueue=_enqueue())
    except feedback.Refused as e:
        ctx = {"target_type": target_type, "target_id": target_id, "rate_error": str(e),
               "comment": request.form.get("comment", "")}
        if htmx:
            return render_template("citizen/_rate.html", **ctx)
        return render("citizen/rated.html", record=None, back=back, **ctx), refused_status()
    if htmx:
        return render_template("citizen/_rated.html", record=record)
    return render("citizen/rated.html", record=record, back=back)


# ---------------------------------------------------------------- 征求意见

@bp.route("/consultations")
def consultation_list():
    return render("citizen/consultations.html",
                  lists=consultations.list_consultations(get_db(), visible(), today()))


@bp.route("/consultations/<id:consultation_id>", methods=["GET", "POST"])
def consultation_detail(consultation_id: int):
    conn = get_db()
    c = consultations.get(conn, consultation_id, visible(), today())
    if c is None or c["status"] != "published" or c["state"] == "upcoming":
        abort(404)
    error, record, body = None, None, ""
    if request.method == "POST":
        body = request.form.get("body", "")
        try:
            record = consultations.submit(conn, consultation_id, body, today(), codes=visible(),
                                          jurisdiction_code=scope(), enqueue=_enqueue())
        except consultations.Refused as e:
            error = str(e)
    response = render("citizen/consultation.html", c=c, error=error, record=record, body=body)
    return (response, refused_status()) if error else response
