"""Catalogue import and export (.xlsx / .csv) in the admin, through content.importer."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for

from .. import auth, editing, jurisdictions
from ..db import get_db
from . import bp, remote, render, user

IMPORT_LEVELS = ("county", "township")


def _codes(conn, action: str) -> list[tuple[str, str]]:
    """Jurisdictions with a standard catalogue the user may ``action`` (county and townships)."""
    out = []
    for code in auth.permitted_codes(conn, user(), action):
        j = jurisdictions.get(conn, code)
        if j["level"] in IMPORT_LEVELS:
            out.append((code, j["name"]))
    return out


@bp.route("/import", methods=["GET", "POST"])
@auth.require_role()
def catalogue_import():
    """Import a catalogue as drafts: every new or changed item then goes through review."""
    from ..importer import MAX_FILE_BYTES, CatalogueError, import_catalogue  # noqa: PLC0415
    conn = get_db()
    editable, readable = _codes(conn, "edit"), _codes(conn, "read")
    if not readable:
        abort(403)
    if request.method == "GET":
        return render("admin/import.html", editable=editable, readable=readable)
    code = request.form.get("jurisdiction", "")
    if code not in dict(editable):
        abort(403)
    f = request.files.get("file")
    if f is None or not f.filename:
        return render("admin/import.html", 400, editable=editable, readable=readable,
                      errors=["请选择要导入的 .xlsx 或 .csv 文件"])
    data = f.read(MAX_FILE_BYTES + 1)
    domain = (request.form.get("domain") or "").strip() or None
    try:
        result = import_catalogue(conn, bytes(data), code, domain=domain, user=user(),
                                  filename=f.filename, remote=remote())
    except CatalogueError as e:
        return render("admin/import.html", 400, editable=editable, readable=readable,
                      errors=e.errors, filename=f.filename)
    except ValueError as e:
        return render("admin/import.html", 400, editable=editable, readable=readable,
                      errors=[str(e)], filename=f.filename)
    flash(result.summary() + "。新增和修改的事项已存为草稿，请提交审核。")
    return render("admin/import.html", editable=editable, readable=readable, result=result)


@bp.route("/import/submit", methods=["POST"])
@auth.require_role()
def catalogue_import_submit():
    """Submit many imported drafts for review at once."""
    conn = get_db()
    done, refused = 0, []
    for raw in request.form.getlist("item")[:5000]:
        if not raw.isdigit():
            continue
        w = editing.working(conn, editing.entity("catalogue_item"), int(raw))
        if w is None or not auth.allowed(conn, user(), "edit", w["jurisdiction_code"]):
            abort(404)
        if w["open"] is None or w["open"]["state"] not in ("draft", "returned"):
            continue
        try:
            editing.submit(conn, user(), "catalogue_item", int(raw), remote())
            done += 1
        except editing.EditError as e:
            refused.append(f"{editing.title_of(editing.entity('catalogue_item'), w['data'])}：{e}")
    flash(f"已提交审核 {done} 条。" + ("；".join(refused[:10]) if refused else ""))
    return redirect(url_for("admin.review_queue") if not refused else url_for("admin.dashboard"))


@bp.route("/export")
@auth.require_role()
def catalogue_export():
    from ..importer import export_catalogue  # noqa: PLC0415
    conn = get_db()
    code = request.args.get("jurisdiction", "")
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "csv") or code not in dict(_codes(conn, "read")):
        abort(404)
    body = export_catalogue(conn, code, fmt)
    name = jurisdictions.get(conn, code)["name"]
    mime = ("text/csv; charset=utf-8" if fmt == "csv" else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp = Response(body, mimetype=mime)
    from urllib.parse import quote  # noqa: PLC0415
    resp.headers["Content-Disposition"] = (f"attachment; filename=catalogue-{code}.{fmt}; "
                                           f"filename*=UTF-8''{quote(name + '公开事项目录.' + fmt)}")
    return resp
