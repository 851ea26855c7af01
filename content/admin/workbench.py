"""工作台 and its queues: what waits for my review, my open drafts, items past their review date.

Each queue is one joined query (author and jurisdiction names come with the rows; whether I
may review a submission is decided in SQL), so a county with thousands of open revisions
costs the same few statements as a village. The workbench shows the head of each queue; the
whole queue is a key-paged list (待审核, 草稿和退回).
"""
from __future__ import annotations

import json

from .. import auth, editing, jurisdictions
from ..db import get_db
from . import KIND_OF, KINDS, bp, paging, render, today, user

HEAD = 20           # rows of each queue on the workbench
PAGE = 100          # rows per page of a whole queue

_SELECT = """SELECT r.id, r.entity, r.entity_id, r.rev, r.data, r.state, r.note, r.author_id,
                    r.jurisdiction_code, r.created_at, COALESCE(r.submitted_at, r.created_at) AS at,
                    u.username AS author_username, u.display_name AS author_name
             FROM revision r LEFT JOIN user u ON u.id = r.author_id"""


def _in(codes) -> str:
    return ",".join("?" * len(codes)) or "NULL"


def _kinds_sql() -> str:
    return ", ".join(f"'{t}'" for t in KINDS.values())


def describe(conn, rev) -> dict:
    """A revision row of the queries above as a queue line: noun, object, title, state, who."""
    ent = editing.ENTITIES.get(rev["entity"])
    data = json.loads(rev["data"])
    j = jurisdictions.get(conn, rev["jurisdiction_code"]) if rev["jurisdiction_code"] else None
    return {"kind": KIND_OF.get(rev["entity"]), "label": ent.label if ent else rev["entity"],
            "id": rev["entity_id"], "rev": rev["rev"], "title": editing.title_of(ent, data) if ent else "",
            "state": rev["state"], "note": rev["note"], "at": rev["at"],
            "author": rev["author_name"] or rev["author_username"] or "",
            "author_id": rev["author_id"], "jurisdiction": j["name"] if j else ""}


def _review_where(conn, u) -> tuple[list[str], list]:
    """Submissions ``u`` may approve: in a jurisdiction they review, still the object's open
    revision, and not written by them since the last publication (editing.can_review, which
    the approval itself still applies; the list takes the jurisdiction from the revision)."""
    codes = auth.permitted_codes(conn, u, "review")
    where = ["r.state = 'submitted'", f"r.jurisdiction_code IN ({_in(codes)})",
             f"r.entity IN ({_kinds_sql()})",
             "NOT EXISTS (SELECT 1 FROM revision n WHERE n.entity = r.entity AND n.entity_id = r.entity_id "
             "AND n.rev > r.rev AND n.state IN ('draft', 'returned', 'submitted'))",
             "NOT EXISTS (SELECT 1 FROM revision e WHERE e.entity = r.entity AND e.entity_id = r.entity_id "
             "AND e.author_id = ? AND e.rev > COALESCE((SELECT max(p.rev) FROM revision p "
             "WHERE p.entity = r.entity AND p.entity_id = r.entity_id AND p.state = 'published'), 0))"]
    return where, [*codes, u["id"]]


def _drafts_where(conn, u) -> tuple[list[str], list]:
    codes = auth.permitted_codes(conn, u, "edit")
    # Written as in the partial index revision_open (migration 0028), so that it is used.
    return (["r.state IN ('draft', 'returned', 'submitted')", f"r.jurisdiction_code IN ({_in(codes)})",
             f"r.entity IN ({_kinds_sql()})"], codes)


def _count(conn, where: list[str], params: list) -> int:
    return conn.execute("SELECT COUNT(*) FROM revision r WHERE " + " AND ".join(where), params).fetchone()[0]


def pending_review(conn, u, limit: int = HEAD) -> tuple[list[dict], int]:
    """The oldest ``limit`` submissions waiting for ``u`` and how many wait in all."""
    where, params = _review_where(conn, u)
    rows = conn.execute(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY r.submitted_at, r.id LIMIT ?",
                        [*params, limit]).fetchall()
    return [describe(conn, r) for r in rows], _count(conn, where, params)


def open_drafts(conn, u, limit: int = HEAD) -> tuple[list[dict], int]:
    """Open revisions ``u`` may edit, returned ones first, then the newest; and how many in all."""
    where, params = _drafts_where(conn, u)
    rows = conn.execute(f"{_SELECT} WHERE {' AND '.join(where)} "
                        "ORDER BY r.state = 'returned' DESC, r.created_at DESC, r.id DESC LIMIT ?",
                        [*params, limit]).fetchall()
    return [describe(conn, r) for r in rows], _count(conn, where, params)


def overdue(conn, u, limit: int = HEAD) -> tuple[list[dict], int]:
    """Published items whose review-by date has passed (定期评估、动态调整), for their editors."""
    codes = auth.permitted_codes(conn, u, "edit")
    d = today().isoformat()
    out, total = [], 0
    for table, title in (("catalogue_item", "level1 || ' · ' || level2"), ("village_item", "title")):
        where = (f"FROM {table} WHERE status = 'published' AND review_by IS NOT NULL AND review_by < ? "
                 f"AND jurisdiction_code IN ({_in(codes)})")
        total += conn.execute(f"SELECT COUNT(*) {where}", [d, *codes]).fetchone()[0]
        for r in conn.execute(f"SELECT id, {title} AS title, review_by {where} ORDER BY review_by LIMIT ?",
                              [d, *codes, limit]):
            out.append({"kind": KIND_OF[table], "label": editing.ENTITIES[table].label,
                        "id": r["id"], "title": r["title"], "review_by": r["review_by"]})
    out.sort(key=lambda o: o["review_by"])
    return out[:limit], total


def _may_create(conn, u, kind: str) -> bool:
    from .forms import ENTITY_LEVELS  # noqa: PLC0415
    table = KINDS[kind]
    if table == "matter":
        county = jurisdictions.county(conn)
        return bool(county) and auth.allowed(conn, u, "edit", county["code"])
    levels = ENTITY_LEVELS[table]
    return any(jurisdictions.get(conn, c)["level"] in levels
               for c in auth.permitted_codes(conn, u, "edit"))


@bp.route("/")
@auth.require_role()
def dashboard():
    conn = get_db()
    u = user()
    chain = jurisdictions.ancestors(conn, u["jurisdiction_code"])
    powers = {a: len(auth.permitted_codes(conn, u, a)) for a in ("read", "edit", "review")}
    pending, pending_total = pending_review(conn, u)
    drafts, drafts_total = open_drafts(conn, u)
    late, late_total = overdue(conn, u)
    return render("admin/dashboard.html", chain=chain, powers=powers,
                  pending=pending, pending_total=pending_total, drafts=drafts, drafts_total=drafts_total,
                  overdue=late, overdue_total=late_total,
                  can_edit_kinds=[k for k in KINDS if _may_create(conn, u, k)])


def _queue_page(where: list[str], params: list, oldest_first: bool):
    conn = get_db()
    sort = "COALESCE(r.submitted_at, r.created_at)"
    page = paging.fetch(conn, _SELECT, where, params, sort=sort, sort_field="at", id_column="r.id",
                        size=PAGE, oldest_first=oldest_first)
    return page, [describe(conn, r) for r in page.rows], _count(conn, where, params)


@bp.route("/review")
@auth.require_role()
def review_queue():
    """Everything waiting for my review, oldest first, a page at a time."""
    where, params = _review_where(get_db(), user())
    page, pending, total = _queue_page(where, params, oldest_first=True)
    return render("admin/review.html", pending=pending, page=page, total=total)


@bp.route("/drafts")
@auth.require_role()
def drafts_queue():
    """Every open draft, submission and return I may edit, newest first, a page at a time."""
    where, params = _drafts_where(get_db(), user())
    page, drafts, total = _queue_page(where, params, oldest_first=False)
    return render("admin/drafts.html", drafts=drafts, page=page, total=total)

