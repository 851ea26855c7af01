"""依申请 through to the end, in the admin: 转办, letters (告知书/答复书), the scanned reply,
行政复议/行政诉讼, and the annual report's tables.  The workflow steps themselves (送达
included) are in citizen_views."""
from __future__ import annotations

import io

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from markupsafe import Markup

from .. import (annual_report, application_appeals, application_hints, application_letters, application_organs,
                applications, auth, jurisdictions, uploads)
from ..db import get_db
from . import bp, remote, render, today, user
from .citizen_views import HANDLERS, READERS, _application, _codes, _detail, _on_date

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def detail_context(conn, row) -> dict:
    """What the application page shows beyond the workflow: organ, transfers, letters, scans, cases."""
    return {"organ_name": application_organs.organ_name(conn, row), "organs": application_organs.organs(conn),
            "transfers": application_organs.transfers(conn, row["uuid"]),
            "may_transfer": user()["role"] in HANDLERS and row["stage"] in application_organs.TRANSFER_STAGES,
            "letters": application_letters.letters(conn, row["uuid"]), "letter_kinds": application_letters.KINDS,
            "letters_available": application_letters.available(conn, row["uuid"]),
            "documents": application_letters.documents(conn, row["uuid"]),
            "appeals": application_appeals.appeals(conn, row["uuid"]),
            "appeal_kinds": application_appeals.KINDS, "appeal_results": application_appeals.RESULTS,
            "proactive": application_hints.proactive_group_of(conn, row["uuid"], _codes(), today()),
            "may_handle": user()["role"] in HANDLERS}


def _refused(conn, record_uuid: str, message: str):
    flash(message, "error")
    return _detail(conn, applications.get(conn, record_uuid), 422)


def _back(record_uuid: str, message: str):
    flash(message, "ok")
    return redirect(url_for("admin.application_detail", record_uuid=record_uuid), code=303)


@bp.route("/applications/<record_uuid>/transfer", methods=["POST"])
@auth.require_role(*HANDLERS)
def application_transfer(record_uuid: str):
    conn, _row = _application(record_uuid)
    try:
        row = application_organs.transfer(conn, record_uuid, request.form.get("organ", ""),
                                          request.form.get("reason", ""), _on_date(request.form.get("on_date")),
                                          user=user(), remote=remote())
    except applications.Refused as e:
        return _refused(conn, record_uuid, str(e))
    return _back(record_uuid, f"已转办至{application_organs.organ_name(conn, row)}，答复期限不变（{row['due_on']}）")


# ---------------------------------------------------------------- letters and the scanned reply

@bp.route("/applications/<record_uuid>/letters", methods=["POST"])
@auth.require_role(*HANDLERS)
def application_letter_issue(record_uuid: str):
    conn, _row = _application(record_uuid)
    try:
        letter = application_letters.issue(conn, record_uuid, request.form.get("kind", ""),
                                           _on_date(request.form.get("on_date")), user=user(), remote=remote())
    except applications.Refused as e:
        return _refused(conn, record_uuid, str(e))
    return redirect(url_for("admin.application_letter", record_uuid=record_uuid, letter_id=letter["id"]), code=303)


@bp.route("/applications/<record_uuid>/letters/<int:letter_id>")
@auth.require_role(*READERS)
def application_letter(record_uuid: str, letter_id: int):
    """The letter as issued (its stored snapshot), on an A4 page to print or reprint."""
    conn, row = _application(record_uuid)
    letter = application_letters.letter(conn, record_uuid, letter_id)
    if letter is None:
        abort(404)
    response = current_app.make_response(render("admin/citizen/letter.html", app=row, letter=letter,
                                                 body=Markup(letter["html"]),
                                                 title=application_letters.KINDS[letter["kind"]])[0])
    response.headers["Cache-Control"] = "no-store"      # the applicant's name and address
    return response


@bp.route("/applications/<record_uuid>/documents", methods=["POST"])
@auth.require_role(*HANDLERS)
def application_document_upload(record_uuid: str):
    conn, _row = _application(record_uuid)
    f = request.files.get("file")
    if f is None or not f.filename:
        return _refused(conn, record_uuid, "请选择盖章答复书的扫描件（PDF 或图片）")
    try:
        doc = application_letters.attach(conn, current_app.config["DATA_DIR"], record_uuid, f.filename,
                                         f.read(uploads.MAX_UPLOAD_BYTES + 1), user=user(), remote=remote())
    except (uploads.UploadError, applications.Refused) as e:
        return _refused(conn, record_uuid, str(e))
    return _back(record_uuid, f"已上传：{doc['name']}")


@bp.route("/applications/<record_uuid>/documents/<int:doc_id>")
@auth.require_role(*READERS)
def application_document(record_uuid: str, doc_id: int):
    conn, _row = _application(record_uuid)
    doc = conn.execute("SELECT * FROM application_document WHERE id = ? AND application_uuid = ?",
                       (doc_id, record_uuid)).fetchone()
    if doc is None:
        abort(404)
    data = uploads.read_blob(current_app.config["DATA_DIR"], doc["sha256"])
    response = send_file(io.BytesIO(data), mimetype=doc["mime"], as_attachment=True, download_name=doc["name"])
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- 行政复议 and 行政诉讼

@bp.route("/applications/<record_uuid>/appeals", methods=["POST"])
@auth.require_role(*HANDLERS)
def application_appeal_add(record_uuid: str):
    conn, _row = _application(record_uuid)
    try:
        application_appeals.record(conn, record_uuid, request.form, today(), user=user(), remote=remote())
    except applications.Refused as e:
        return _refused(conn, record_uuid, str(e))
    return _back(record_uuid, f"已记录{request.form.get('kind')}")


@bp.route("/applications/<record_uuid>/appeals/<int:appeal_id>", methods=["POST"])
@auth.require_role(*HANDLERS)
def application_appeal_decide(record_uuid: str, appeal_id: int):
    conn, _row = _application(record_uuid)
    try:
        application_appeals.decide(conn, record_uuid, appeal_id, request.form, today(), user=user(),
                                   remote=remote())
    except applications.Refused as e:
        return _refused(conn, record_uuid, str(e))
    return _back(record_uuid, "已记录结果")


# ---------------------------------------------------------------- 年度报告: 依申请 tables

def _government_of(conn, code: str):
    return application_organs.government_of(conn, code) or jurisdictions.county(conn)


def _report_request(conn):
    """(jurisdiction row, dept or None, year) from the query, within the user's reach."""
    code = request.args.get("code") or user()["jurisdiction_code"]
    if not auth.can_reach(conn, user(), code):
        abort(404)
    j = _government_of(conn, code)
    try:
        year = int(request.args.get("year") or today().year)
    except ValueError:
        year = today().year
    year = min(max(year, 2008), today().year)
    dept = request.args.get("dept") or None      # empty: all the jurisdiction's organs
    if j["level"] != "county" or (dept and dept not in application_organs.county_departments(conn)):
        dept = None
    return j, dept, year


def annual_summary(code: str, year: int) -> dict:
    """The yearly tables for the assessment dashboard (a template global: one include line there)."""
    conn = get_db()
    j = _government_of(conn, code)
    return {"jurisdiction": j, "report": annual_report.compute(conn, j["code"], year), "columns": annual_report.COLUMNS}


bp.add_app_template_global(annual_summary, "annual_summary")


@bp.route("/applications/annual-report")
@auth.require_role(*READERS)
def application_annual_report():
    conn = get_db()
    j, dept, year = _report_request(conn)
    report = annual_report.compute(conn, j["code"], year, dept)
    name = j["name"] + (dept or "")
    if request.args.get("format") == "xlsx":
        data = annual_report.workbook_bytes(report, name)
        return send_file(io.BytesIO(data), as_attachment=True, mimetype=XLSX,
                         download_name=f"政府信息公开年度报告_依申请_{name}_{year}.xlsx")
    return render("admin/citizen/annual_report.html", report=report, jurisdiction=j, dept=dept, year=year,
                  name=name, columns=annual_report.COLUMNS, years=range(today().year, today().year - 6, -1),
                  departments=application_organs.county_departments(conn) if j["level"] == "county" else [],
                  proactive=application_hints.proactive_groups(conn, _codes(), today()),
                  threshold=application_hints.PROACTIVE_THRESHOLD)


# ---------------------------------------------------------------- staff registration (letters, the counter)

@bp.route("/applications/new", methods=["GET", "POST"])
@auth.require_role(*HANDLERS)
def application_new():
    """Register an application received by letter or at the counter (条例第二十九条: where writing
    is hard, staff fill the form in), addressed to the organ chosen."""
    conn = get_db()
    home = user()["jurisdiction_code"]
    default = application_organs.default_organ(conn, home)
    data: dict = {"applicant_type": "自然人", "id_type": "居民身份证", "provision_form": "纸质",
                  "delivery": "自行领取", "organ": default.key if default else "", "received_on": today().isoformat()}
    errors: dict = {}
    if request.method == "POST":
        data, errors = applications.validate(request.form)
        data["organ"] = request.form.get("organ", "")
        data["received_on"] = request.form.get("received_on", "")
        organ = application_organs.parse_key(conn, data["organ"])
        if organ is None:
            errors["organ"] = "请选择受理机关"
        try:
            received = _on_date(data["received_on"])
        except applications.Refused as e:
            errors["received_on"] = str(e)
        if not errors:
            data.update(organ_code=organ.code, organ_dept=organ.dept, staff_assisted=1)
            row = applications.create(conn, data, home, received)
            flash(f"已登记，受理编号 {row['receipt_no']}，答复期限 {row['due_on']}", "ok")
            return redirect(url_for("admin.application_detail", record_uuid=row["uuid"]), code=303)
    return render("admin/citizen/application_new.html", 422 if errors else 200, data=data, errors=errors,
                  organs=application_organs.organs(conn), labels={**applications.FIELD_LABELS, "received_on": "收到日期"},
                  applicant_types=applications.APPLICANT_TYPES, org_subtypes=applications.ORG_SUBTYPES,
                  id_types=applications.PERSON_ID_TYPES + applications.ORG_ID_TYPES[:1],
                  provision_forms=applications.PROVISION_FORMS, delivery_ways=applications.DELIVERY_WAYS,
                  today=today())
