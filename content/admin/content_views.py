"""Listing, editing and reviewing every content noun through revisions."""
from __future__ import annotations

import json
from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, request, url_for

from .. import auth, changes, editing, figures, jurisdictions
from ..pictures import PDF_MAX_PAGES
from ..db import get_db
from ..policies import FORMS as POLICY_FORMS, is_key as policy_key
from . import KIND_PATTERN, KINDS, bp, deny, paging, remote, render, user
from .forms import ENTITY_LEVELS, FIELDS, MATERIAL_COLUMNS, WINDOW_ROWS, choices, grid_for, parse, qa_text

PAGE = 100
STATUS_FILTERS = {"": "全部", "draft": "草稿", "submitted": "待审核", "published": "已发布",
                  "withdrawn": "已撤回"}


def _in(codes) -> str:
    return ",".join("?" * len(codes)) or "NULL"


def _load(kind: str, obj_id: int, action: str):
    """The object and its working state, after checking the user may ``action`` it."""
    conn = get_db()
    ent = editing.entity(KINDS[kind])
    w = editing.working(conn, ent, obj_id)
    if w is None:
        abort(404)
    deny(conn, user(), action, w["jurisdiction_code"])
    return conn, ent, w


def _readable_codes(conn, table: str) -> list[str]:
    if table == "matter":
        county = jurisdictions.county(conn)
        return [county["code"]] if county and auth.allowed(conn, user(), "read", county["code"]) else []
    return auth.permitted_codes(conn, user(), "read")


@bp.route(f"/<{KIND_PATTERN}:kind>/")
@auth.require_role()
def content_list(kind: str):
    conn = get_db()
    table = KINDS[kind]
    ent = editing.entity(table)
    codes = _readable_codes(conn, table)
    if not codes:
        abort(403)
    status = request.args.get("status", "")
    if status not in STATUS_FILTERS:
        status = ""
    q = (request.args.get("q") or "").strip()
    code = request.args.get("jurisdiction", "")
    title_sql = {"catalogue_item": "o.level1 || ' ' || o.level2",
                 "board": "o.name || ' · ' || o.slug"}.get(table, "o.title")
    where, params = [], []
    if ent.has_jurisdiction:
        shown = [code] if code in codes else codes
        # The whole county (a county administrator's lists) needs no filter; a filter listing
        # every code would keep SQLite from walking the (updated_at, id) index.
        if len(shown) < jurisdictions.count(conn):
            where.append(f"o.jurisdiction_code IN ({_in(shown)})")
            params += shown
    if status:
        where.append("o.status = ?")
        params.append(status)
    if q:
        where.append(f"{title_sql} LIKE ?")
        params.append(f"%{q}%")
    jcol = "o.jurisdiction_code" if ent.has_jurisdiction else "NULL"
    # 修改中: the newest open revision, found through revision's (entity, entity_id, rev) key
    # for the rows of this page only.
    page = paging.fetch(
        conn, f"""SELECT o.id, o.status, o.rev, o.updated_at, {title_sql} AS title, {jcol} AS code,
                   (SELECT state FROM revision r WHERE r.entity = '{table}' AND r.entity_id = o.id
                    AND r.state IN ('draft', 'submitted', 'returned') ORDER BY r.rev DESC LIMIT 1) AS open_state
            FROM {table} o""", where, params, sort="o.updated_at", sort_field="updated_at",
        id_column="o.id", size=PAGE)
    names = {c: jurisdictions.get(conn, c)["name"] for c in codes} if ent.has_jurisdiction else {}
    filters = {k: v for k, v in (("status", status), ("q", q), ("jurisdiction", code)) if v}
    return render("admin/list.html", kind=kind, ent=ent, rows=page.rows, page=page, filters=filters,
                  status=status, q=q, code=code, statuses=STATUS_FILTERS, jurisdictions=names,
                  can_create=bool(choices(conn, user(), "jurisdiction", table, {}))
                  if table in ENTITY_LEVELS else auth.allowed(conn, user(), "edit", codes[0]))


def _form_context(conn, kind: str, data: dict, errors: dict, creating: bool):
    table = KINDS[kind]
    opts = {f.name: choices(conn, user(), f.choices, table, data)
            for f in FIELDS[table] if f.choices}
    columns, rows = data.get("table_columns") or [], data.get("table_rows") or []
    # An empty table starts with room for a typical list (name, area, amount, …).
    grid = grid_for(columns, rows, extra_rows=3 if rows else 5, extra_cols=1 if columns else 4)
    materials = grid_for([lbl for _, lbl in MATERIAL_COLUMNS],
                         [[m.get(k, "") for k, _ in MATERIAL_COLUMNS] for m in data.get("materials") or []],
                         extra_cols=0)
    return {"kind": kind, "ent": editing.entity(table), "fields": FIELDS[table], "data": data,
            "errors": errors, "opts": opts, "grid": grid, "materials": materials,
            "creating": creating, "window_rows": WINDOW_ROWS, "pdf_max_pages": PDF_MAX_PAGES,
            "policy_forms": POLICY_FORMS, "qa_text": qa_text}


def _defaults(conn, table: str) -> dict:
    codes = [c for c, _ in choices(conn, user(), "jurisdiction", table, {})] if table in ENTITY_LEVELS else []
    data = {"jurisdiction_code": codes[0] if len(codes) == 1 else None}
    if table == "notice":
        data.update(kind="公示", priority="普通", subject_code=data["jurisdiction_code"])
    if table == "catalogue_item":
        data.update(audience="全社会", mode="主动")
    if table == "policy_document":
        data.update(validity="现行有效", disclosure="主动公开", needs_interpretation=1)
    if table == "board":
        data.update(orientation="landscape", slide_seconds=15, poll_seconds=30, levels=[], domains=[],
                    windows=[], fallback_title="暂无正在公示的内容", sort=0)
    return data


@bp.route(f"/<{KIND_PATTERN}:kind>/new", methods=["GET", "POST"])
@auth.require_role()
def content_new(kind: str):
    conn = get_db()
    table = KINDS[kind]
    if table == "matter":
        county = jurisdictions.county(conn)
        deny(conn, user(), "edit", county["code"] if county else None)
    elif not choices(conn, user(), "jurisdiction", table, {}):
        abort(403)
    if request.method == "GET":
        return render("admin/edit.html", **_form_context(conn, kind, _defaults(conn, table), {}, True))
    data, errors = parse(conn, user(), table, request.form)
    if errors:
        return render("admin/edit.html", 400, **_form_context(conn, kind, data, errors, True))
    try:
        obj_id = editing.create(conn, user(), table, data, remote())
    except editing.Denied:
        abort(403)
    except editing.Invalid as e:
        return render("admin/edit.html", 400, **_form_context(conn, kind, data, e.errors, True))
    except editing.EditError as e:
        return render("admin/edit.html", 400, **_form_context(conn, kind, data, {"": str(e)}, True))
    flash("草稿已保存。确认无误后请提交审核。")
    return _after_save(kind, obj_id)


def _after_save(kind: str, obj_id: int):
    if request.form.get("then") == "submit":
        return _step(kind, obj_id, "submit")
    if request.form.get("then") == "continue":
        return redirect(url_for("admin.content_edit", kind=kind, obj_id=obj_id))
    return redirect(url_for("admin.content_detail", kind=kind, obj_id=obj_id))


@bp.route(f"/<{KIND_PATTERN}:kind>/<id:obj_id>")
@auth.require_role()
def content_detail(kind: str, obj_id: int):
    conn, ent, w = _load(kind, obj_id, "read")
    return detail_page(conn, kind, ent, w)


def detail_page(conn, kind: str, ent, w, http_status: int = 200, **extra):
    """One object for its editors and reviewers: the change against the published version
    first, then personal data and figure findings, then the decision."""
    u = user()
    obj_id = w["id"]
    code = w["jurisdiction_code"]
    may_edit = auth.allowed(conn, u, "edit", code)
    findings = editing.privacy_findings(ent, w["data"], conn) if (w["open"] or w["published"]) else []
    failures = figures.check(ent.table, w["data"]) if (w["open"] or w["published"]) else []
    names = [f.name for f in FIELDS[ent.table]]
    keys = names + [k for k in ent.virtual if k not in names]
    cmp = changes.compare(w["public"] if w["published"] else None, w["data"], keys) if w["open"] else None
    changed = sorted(cmp.changed_names) if cmp else []
    if ent.table == "consultation":
        extra = {**consultation_context(conn, w), **extra}
    return render("admin/detail.html", http_status, kind=kind, ent=ent, w=w, fields=FIELDS[ent.table],
                  history=editing.history(conn, ent, obj_id), findings=findings, changed=changed,
                  failures=failures, cmp=cmp, **extra,
                  bad_cells={(f.row, f.column) for f in failures if f.row is not None},
                  bad_fields={f.field for f in failures if f.field},
                  may_edit=may_edit, may_review=editing.can_review(conn, u, ent.table, obj_id),
                  reviewer_but_editor=(w["open"] is not None and w["open"]["state"] == "submitted"
                                       and auth.allowed(conn, u, "review", code)
                                       and u["id"] in editing.editors_since_publication(conn, ent, obj_id)),
                  names=_names(conn, ent, w["data"]), public_names=_names(conn, ent, w["public"]),
                  pictures=editing.pictures_to_confirm(w["data"]),
                  jurisdiction=jurisdictions.get(conn, code) if code else None)


def consultation_context(conn, w) -> dict:
    """Opinions received and whether the result (采纳情况) may be written yet."""
    from .. import consultations  # noqa: PLC0415
    from . import today  # noqa: PLC0415
    closed = w["data"].get("closes_on") and w["data"]["closes_on"] < today().isoformat()
    return {"opinions": consultations.responses(conn, w["id"]), "consultation_closed": bool(closed)}


def _names(conn, ent, data: dict) -> dict:
    """Readable names for the ids in ``data`` (domain, matter, linked items, guides)."""
    out = {}

    def one(sql, value):
        row = conn.execute(sql, (value,)).fetchone() if value else None
        return row[0] if row else ""
    out["domain_id"] = one("SELECT name FROM domain WHERE id = ?", data.get("domain_id"))
    out["matter_id"] = one("SELECT title FROM matter WHERE id = ?", data.get("matter_id"))
    out["item_id"] = one("SELECT level1 || ' · ' || level2 FROM catalogue_item WHERE id = ?", data.get("item_id"))
    out["village_item_id"] = one("SELECT title FROM village_item WHERE id = ?", data.get("village_item_id"))
    out["jurisdiction_code"] = one("SELECT name FROM jurisdiction WHERE code = ?", data.get("jurisdiction_code"))
    out["subject_code"] = one("SELECT name FROM jurisdiction WHERE code = ?", data.get("subject_code"))
    out["guide_ids"] = [one("SELECT title FROM guide WHERE id = ?", g) for g in data.get("guide_ids") or []]
    out["item_ids"] = "、".join(one("SELECT level1 || ' · ' || level2 FROM catalogue_item WHERE id = ?", i)
                               for i in data.get("item_ids") or [])
    if ent.table == "board":
        from ..board_settings import describe_windows  # noqa: PLC0415
        from ..boards import ORIENTATIONS  # noqa: PLC0415
        from .forms import LEVEL_LABELS  # noqa: PLC0415
        out["levels"] = "、".join(LEVEL_LABELS.get(v, v) for v in data.get("levels") or []) or "全部层级"
        out["domains"] = "、".join(one("SELECT name FROM domain WHERE id = ?", d)
                                  for d in data.get("domains") or []) or "全部领域"
        out["windows"] = describe_windows(data.get("windows") or [])
        out["orientation"] = ORIENTATIONS.get(data.get("orientation"), data.get("orientation") or "")
        for key in ("slide_seconds", "poll_seconds"):      # REAL columns: 12.0 reads as 12
            if isinstance(data.get(key), (int, float)):
                out[key] = f"{data[key]:g}"
    return out


@bp.route(f"/<{KIND_PATTERN}:kind>/<id:obj_id>/rev/<int:rev>")
@auth.require_role()
def content_revision(kind: str, obj_id: int, rev: int):
    """One revision as it was saved: published history stays readable."""
    conn, ent, w = _load(kind, obj_id, "read")
    row = conn.execute("SELECT * FROM revision WHERE entity = ? AND entity_id = ? AND rev = ?",
                       (ent.table, obj_id, rev)).fetchone() or abort(404)
    data = editing.decode(ent, json.loads(row["data"]))
    return render("admin/revision.html", kind=kind, ent=ent, w=w, rev=row, data=data,
                  fields=FIELDS[ent.table], names=_names(conn, ent, data))


@bp.route(f"/<{KIND_PATTERN}:kind>/<id:obj_id>/edit", methods=["GET", "POST"])
@auth.require_role()
def content_edit(kind: str, obj_id: int):
    conn, ent, w = _load(kind, obj_id, "edit")
    if request.method == "GET":
        return render("admin/edit.html", w=w, **_form_context(conn, kind, w["data"], {}, False))
    data, errors = parse(conn, user(), ent.table, request.form, previous=w["data"], obj_id=obj_id)
    if errors:
        return render("admin/edit.html", 400, w=w, **_form_context(conn, kind, data, errors, False))
    try:
        editing.save_draft(conn, user(), ent.table, obj_id, data, remote())
    except editing.Denied:
        abort(403)
    except editing.Invalid as e:
        return render("admin/edit.html", 400, w=w, **_form_context(conn, kind, data, e.errors, False))
    except editing.EditError as e:
        return render("admin/edit.html", 400, w=w, **_form_context(conn, kind, data, {"": str(e)}, False))
    flash("草稿已保存。公开的版本在审核通过前保持不变。" if w["published"] else "草稿已保存。")
    return _after_save(kind, obj_id)


STEPS = {
    "submit": ("edit", "已提交审核，等待审核人审核。"),
    "approve": ("review", "审核通过，已发布到查询机。"),
    "return": ("review", "已退回编辑修改。"),
    "withdraw": ("edit", "已撤回，查询机上不再显示；记录和历史版本仍保留。"),
    "discard": ("edit", "草稿已放弃。"),
    "mask": ("edit", "已遮挡全部个人信息，生成了新的草稿，请检查后提交审核。"),
}


@bp.route(f"/<{KIND_PATTERN}:kind>/<id:obj_id>/<any(submit, approve, return, withdraw, discard, mask):step>",
          methods=["POST"])
@auth.require_role()
def content_step(kind: str, obj_id: int, step: str):
    return _step(kind, obj_id, step)


def _step(kind: str, obj_id: int, step: str):
    action, done = STEPS[step]
    conn, ent, w = _load(kind, obj_id, action)
    u, t = user(), ent.table
    try:
        if step == "submit":
            editing.submit(conn, u, t, obj_id, remote(), figures_note=request.form.get("figures_note", ""))
        elif step == "approve":
            editing.approve(conn, u, t, obj_id, remote(),
                            override_reason=request.form.get("override_reason", ""),
                            pictures_checked=request.form.get("pictures_checked") == "1")
        elif step == "return":
            editing.return_for_changes(conn, u, t, obj_id, request.form.get("reason", ""), remote())
        elif step == "withdraw":
            editing.withdraw(conn, u, t, obj_id, request.form.get("reason", ""), remote())
        elif step == "discard":
            editing.discard(conn, u, t, obj_id, remote())
        else:
            editing.mask(conn, u, t, obj_id, remote())
    except editing.Denied as e:
        return render("admin/message.html", 403, title="不能执行", message=str(e),
                      back=url_for("admin.content_detail", kind=kind, obj_id=obj_id))
    except editing.PrivacyBlocked as e:
        flash(str(e) + "：请查看下方标出的位置，可以一键遮挡。", "error")
        return redirect(url_for("admin.content_detail", kind=kind, obj_id=obj_id))
    except editing.FiguresBlocked as e:
        flash(str(e) + "：请查看下方“数字核对不一致”。", "error")
        return redirect(url_for("admin.content_detail", kind=kind, obj_id=obj_id))
    except editing.EditError as e:
        flash(str(e), "error")
        return redirect(url_for("admin.content_detail", kind=kind, obj_id=obj_id))
    flash(done)
    if step in ("approve", "return"):
        return redirect(url_for("admin.review_queue"))
    return redirect(url_for("admin.content_detail", kind=kind, obj_id=obj_id))


# --- attachments of notices and policy documents ------------------------------------

# The nouns with files; a policy document's file may be a picture of one of its 解读.
ATTACHING = {"defaults": {"kind": "notices"}}, {"defaults": {"kind": "policies"}}


@bp.route("/notices/<id:obj_id>/attachments", methods=["POST"], **ATTACHING[0])
@bp.route("/policies/<id:obj_id>/attachments", methods=["POST"], **ATTACHING[1])
@auth.require_role()
def attachment_add(obj_id: int, kind: str):
    """Store an upload (cleaned, content-addressed) and add it to the draft."""
    from .. import uploads  # noqa: PLC0415
    conn, ent, w = _load(kind, obj_id, "edit")
    f = request.files.get("file")
    if f is None or not f.filename:
        flash("请选择要上传的文件", "error")
        return redirect(url_for("admin.content_edit", kind=kind, obj_id=obj_id))
    owner = request.form.get("interpretation", "") if kind == "policies" else ""
    if owner and not (policy_key(owner) and owner in {i["key"] for i in w["data"].get("interpretations") or []}):
        flash("所选的解读不存在，请先保存解读再上传图片", "error")
        return redirect(url_for("admin.content_edit", kind=kind, obj_id=obj_id))
    try:
        up = uploads.store_upload(current_app.config["DATA_DIR"], f.filename, f.read())
    except uploads.UploadError as e:
        flash(str(e), "error")
        return redirect(url_for("admin.content_edit", kind=kind, obj_id=obj_id))
    data = dict(w["data"])
    attachments = [a for a in data.get("attachments") or [] if a["sha256"] != up.sha256]
    attachments.append({**up.as_attachment(), "interpretation": owner} if kind == "policies" else up.as_attachment())
    data["attachments"] = attachments
    editing.save_draft(conn, user(), ent.table, obj_id, data, remote())
    flash(f"已添加附件：{up.name}")
    return redirect(url_for("admin.content_edit", kind=kind, obj_id=obj_id))


@bp.route("/notices/<id:obj_id>/attachments/remove", methods=["POST"], **ATTACHING[0])
@bp.route("/policies/<id:obj_id>/attachments/remove", methods=["POST"], **ATTACHING[1])
@auth.require_role()
def attachment_remove(obj_id: int, kind: str):
    conn, ent, w = _load(kind, obj_id, "edit")
    sha = request.form.get("sha256", "")
    data = dict(w["data"])
    data["attachments"] = [a for a in data.get("attachments") or [] if a["sha256"] != sha]
    editing.save_draft(conn, user(), ent.table, obj_id, data, remote())
    flash("附件已从草稿中移除。")
    return redirect(url_for("admin.content_edit", kind=kind, obj_id=obj_id))


@bp.route("/notices/<id:obj_id>/attachments/<sha256>", **ATTACHING[0])
@bp.route("/policies/<id:obj_id>/attachments/<sha256>", **ATTACHING[1])
@auth.require_role()
def attachment_get(obj_id: int, sha256: str, kind: str):
    """An attachment the user may read (drafts included), or one of its pictures.

    Originals are downloads (``Content-Disposition: attachment``) under a sandboxing CSP, so a
    file never runs as a page of this site; pictures are shown inline for review."""
    from .. import uploads  # noqa: PLC0415
    conn, ent, w = _load(kind, obj_id, "read")
    attachments = (w["data"].get("attachments") or []) + w["public"]["attachments"]
    known = {a["sha256"]: (a, False) for a in attachments}
    known.update({p["sha256"]: (p, True) for a in attachments for p in a.get("pictures") or []})
    a, picture = known.get(sha256) or abort(404)
    try:
        body = uploads.read_blob(current_app.config["DATA_DIR"], sha256)
    except (OSError, ValueError):
        abort(404)
    resp = Response(body, mimetype=a["mime"])
    if picture:
        resp.headers["Content-Disposition"] = "inline"
    else:
        resp.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + quote(a["name"])
    resp.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp
