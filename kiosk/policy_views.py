"""Resident screens for policy documents (政策文件) and their 解读: the list with its filters
and one document with its metadata, files, 简明问答 cards and 图解 (content.policies)."""
from __future__ import annotations

from flask import Blueprint, abort, request

from content import policies
from content.db import get_db

from .views import render, visible

bp = Blueprint("policies", __name__)
MAX_YEAR = 9999


def _year(raw: str | None) -> int | None:
    """The ?year= filter; anything that is not a plausible year is ignored, never an error."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and 1949 <= int(raw) <= MAX_YEAR else None


@bp.route("/policies")
def policy_list():
    conn = get_db()
    codes = visible()
    facets = policies.facets(conn, codes)
    issuer = request.args.get("issuer", "")[:100]
    issuer = issuer if issuer in facets["issuers"] else ""
    validity = request.args.get("validity", "")
    validity = validity if validity in policies.VALIDITY else ""
    year = _year(request.args.get("year"))
    docs = policies.list_documents(conn, codes, issuer=issuer, validity=validity, year=year)
    return render("policies.html", docs=docs, facets=facets, issuer=issuer, validity=validity, year=year)


@bp.route("/policies/<id:doc_id>")
def policy_detail(doc_id: int):
    doc = policies.get_document(get_db(), doc_id, visible()) or abort(404)
    return render("policy.html", doc=doc)


@bp.app_template_global()
def item_policies(item_id: int) -> list[dict]:
    """The documents of a catalogue item, for its page (kiosk/templates/_item_policies.html)."""
    return policies.for_item(get_db(), item_id, visible())
