"""Content admin for village committees and county staff, mounted at /admin.

Every view is wrapped in ``require_role`` (signed in) and then checks the
object itself against the user's role and jurisdiction (``content.auth.allowed``):
an object outside the user's reach answers 404, one inside it but not theirs to
change answers 403.  Pages are light (no JavaScript needed) for weak links.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, render_template, request

from .. import auth, editing, jurisdictions
from ..db import get_db, get_meta
from ..users import ROLES

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="../templates",
               static_folder="../static/admin", static_url_path="/static")

# URL noun → content table.
KINDS = {
    "catalogue": "catalogue_item",
    "village-items": "village_item",
    "matters": "matter",
    "notices": "notice",
    "guides": "guide",
    "handbooks": "handbook",
    "boards": "board",
    "consultations": "consultation",
    "policies": "policy_document",
}
KIND_OF = {v: k for k, v in KINDS.items()}
KIND_LABELS = {k: editing.ENTITIES[v].label for k, v in KINDS.items()}
KIND_PATTERN = "any(" + ", ".join(f"'{k}'" for k in KINDS) + ")"

# Public pages of each noun, linked from the admin so staff see what residents see.
PUBLIC_URLS = {"catalogue_item": "/items/{id}", "village_item": "/village-items/{id}",
               "matter": "/matters/{id}", "notice": "/notices/{id}", "guide": "/guides/{id}",
               "handbook": "/handbooks/{id}", "board": "/display/{slug}",
               "consultation": "/consultations/{id}", "policy_document": "/policies/{id}"}


def today() -> date:
    pinned = current_app.config.get("TODAY")
    return date.fromisoformat(pinned) if pinned else date.today()


def remote() -> str:
    return request.remote_addr or ""


def user():
    return auth.current_user()


def render(template: str, http_status: int = 200, **context):
    return render_template(template, **context), http_status


def deny(conn, u, action: str, code: str | None) -> None:
    """404 when the object is outside what the user may read at all, 403 when only the action is refused."""
    if not auth.allowed(conn, u, "read", code):
        abort(404)
    if not auth.allowed(conn, u, action, code):
        abort(403)


@bp.context_processor
def admin_context():
    conn = get_db()
    u = auth.current_user()
    return {
        "me": u,
        "role_names": ROLES,
        "my_jurisdiction": jurisdictions.get(conn, u["jurisdiction_code"]) if u else None,
        "site_name": get_meta(conn, "county_name") or "基层政务公开",
        "is_demo": get_meta(conn, "demo") == "1",
        "kinds": KIND_LABELS,
        "nav_kinds": visible_kinds(conn, u) if u else {},
        "kind_of": KIND_OF,
        "state_names": editing.STATE_NAMES,
        "action_names": editing.ACTION_NAMES,
        "labels": editing.LABELS,
        "public_urls": PUBLIC_URLS,
    }


def visible_kinds(conn, u) -> dict[str, str]:
    """The nouns a user has anything to do with (the navigation hides the rest)."""
    from .forms import ENTITY_LEVELS  # noqa: PLC0415
    levels = {jurisdictions.get(conn, c)["level"] for c in auth.permitted_codes(conn, u, "read")}
    out = {}
    for kind, table in KINDS.items():
        if table == "matter":
            county = jurisdictions.county(conn)
            if county and auth.allowed(conn, u, "read", county["code"]):
                out[kind] = KIND_LABELS[kind]
        elif levels & set(ENTITY_LEVELS[table]):
            out[kind] = KIND_LABELS[kind]
    return out


@bp.errorhandler(403)
def forbidden(_e):
    return render("admin/message.html", 403, title="没有权限",
                  message="您的账号没有权限查看或修改这项内容。")


@bp.errorhandler(404)
def not_found(_e):
    return render("admin/message.html", 404, title="找不到",
                  message="没有找到这项内容，或者它不在您的管辖范围内。")


from . import content_views, io_views, session_views  # noqa: E402,F401  (routes register on bp)
from . import workbench  # noqa: E402,F401  (工作台, 待审核 and 草稿和退回 queues)
from . import citizen_views  # noqa: E402,F401  (applications, ratings, consultations)
from . import application_views  # noqa: E402,F401  (依申请: 转办, letters, reply scans, 复议/诉讼, yearly tables)
from . import emergency_views  # noqa: E402,F401  (紧急通知: set and clear without review)
from . import notify_views  # noqa: E402,F401  (消息提醒: channels, mail server, recent notifications)
from . import due_views  # noqa: E402,F401  (应公开未公开: checklist and due/overdue lists)
from . import proof_views  # noqa: E402,F401  (公示留痕: coverage and the 公示证明)
from . import staff_views, county_views  # noqa: E402,F401  (accounts; divisions, domains, public URL)
from . import sign_out_views  # noqa: E402,F401  (退出所有设备)
from . import office_phone_views  # noqa: E402,F401  (公开办公电话 the privacy guard lets through)
from . import question_views  # noqa: E402,F401  (异议和提问: residents' objections and questions)
