"""County setup for its administrators: divisions (import, 撤并), domains, the public address."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from .. import auth, divisions, domains, editing, jurisdictions
from ..db import get_db, get_meta, immediate, set_meta
from ..public_url import META_KEY, check_public_url
from ..sheets import SheetError
from . import bp, remote, render, today, user


def _setup_page(conn, status: int = 200, **extra):
    county = jurisdictions.county(conn)
    counts = {lvl: conn.execute("SELECT count(*) FROM jurisdiction WHERE level = ? AND retired_on IS NULL",
                                (lvl,)).fetchone()[0] for lvl in ("township", "village")}
    pending = divisions.pending(conn)
    successors = {}
    for p in pending:
        successors[p["code"]] = [r for r in jurisdictions.children(conn, p["parent_code"])
                                 if r["code"] != p["code"] and r["level"] == p["level"]
                                 and r["retired_on"] is None] if p["parent_code"] else []
    townships = conn.execute(
        "SELECT t.*, (SELECT count(*) FROM jurisdiction v WHERE v.parent_code = t.code "
        "AND v.retired_on IS NULL) AS villages FROM jurisdiction t WHERE t.level = 'township' "
        "AND t.retired_on IS NULL ORDER BY t.sort, t.code").fetchall()
    imports = conn.execute("SELECT * FROM division_import ORDER BY id DESC LIMIT 10").fetchall()
    return render("admin/county/setup.html", status, county=county, counts=counts, pending=pending,
                  successors=successors, townships=townships, imports=imports,
                  changes=[c for c in divisions.history(conn, 200) if c["change"] != "added"][:50],
                  public_url=get_meta(conn, META_KEY) or "", **extra)


@bp.route("/county")
@auth.require_role("county_admin")
def county_setup():
    return _setup_page(get_db())


@bp.route("/county/public-url", methods=["POST"])
@auth.require_role("county_admin")
def county_public_url():
    conn = get_db()
    u = user()
    try:
        url = check_public_url(request.form.get("public_url") or "")
    except ValueError as e:
        return _setup_page(conn, 400, url_error=str(e), url_value=request.form.get("public_url", ""))
    before = get_meta(conn, META_KEY)
    with immediate(conn):
        set_meta(conn, META_KEY, url)
        editing.audit(conn, u, "settings", "meta", META_KEY, {"public_url": before}, {"public_url": url},
                      remote())
        editing.bump_content_version(conn)
    flash(f"对外网址已设为 {url}；下次发布后，各终端的二维码都指向这里。")
    return redirect(url_for("admin.county_setup"))


@bp.route("/county/divisions", methods=["POST"])
@auth.require_role("county_admin")
def county_divisions_import():
    conn = get_db()
    u = user()
    f = request.files.get("file")
    if f is None or not f.filename:
        return _setup_page(conn, 400, errors=["请选择统计用区划代码文件（.xlsx 或 .csv）"])
    try:
        result = divisions.import_divisions(conn, f.read(), f.filename, user=u, remote=remote())
    except SheetError as e:
        return _setup_page(conn, 400, errors=e.errors, filename=f.filename)
    flash(result.summary())
    return redirect(url_for("admin.county_setup"))


@bp.route("/county/divisions/<code:code>/merge", methods=["POST"])
@auth.require_role("county_admin")
def county_division_merge(code: str):
    conn = get_db()
    u = user()
    successor = (request.form.get("successor") or "").strip()
    try:
        moved = divisions.merge(conn, u, code, successor, today().isoformat(), remote())
    except ValueError as e:
        flash(str(e), "error")
        return redirect(url_for("admin.county_setup"))
    flash(f"已撤并到「{jurisdictions.get(conn, successor)['name']}」：移交内容 "
          f"{sum(v for k, v in moved.items() if k != 'user')} 项、账号 {moved['user']} 个")
    return redirect(url_for("admin.county_setup"))


@bp.route("/county/divisions/<code:code>/retire", methods=["POST"])
@auth.require_role("county_admin")
def county_division_retire(code: str):
    conn = get_db()
    u = user()
    try:
        divisions.retire(conn, u, code, today().isoformat(), remote())
    except ValueError as e:
        flash(str(e), "error")
        return redirect(url_for("admin.county_setup"))
    flash(f"已停用「{jurisdictions.get(conn, code)['name']}」；它的内容和历史记录保留。")
    return redirect(url_for("admin.county_setup"))


@bp.route("/domains", methods=["GET", "POST"])
@auth.require_role("county_admin")
def domains_page():
    conn = get_db()
    u = user()
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "add":
                domains.add(conn, u, request.form.get("name") or "", request.form.get("departments") or "",
                            remote())
                flash(f"已添加领域「{request.form.get('name', '').strip()}」")
            elif action in ("departments", "hide", "show"):
                raw = request.form.get("domain_id") or ""
                if not raw.isdigit() or len(raw) > 9:
                    abort(404)
                if action == "departments":
                    domains.set_departments(conn, u, int(raw), request.form.get("departments") or "",
                                            remote())
                    flash("已保存部门")
                else:
                    domains.set_hidden(conn, u, int(raw), action == "hide", remote())
                    flash("已隐藏该领域" if action == "hide" else "已恢复显示该领域")
            else:
                abort(400)
        except domains.DomainError as e:
            error = str(e)
        if error is None:
            return redirect(url_for("admin.domains_page"))
    return render("admin/county/domains.html", 400 if error else 200, domains=domains.listed(conn),
                  error=error, form=request.form)
