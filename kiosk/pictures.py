"""Pictures of approved attachments for residents: image screen versions and PDF page images.

Blobs are content-addressed, so a picture's address never changes meaning; it is still
cached for an hour only and then revalidated (a cheap 304), because a picture withdrawn
at the hub (say, one that showed a personal number) must stop being served soon. Only
pictures of published notices this instance shows are served; a PDF original is never
served here (staff download it from the admin).
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from content import pictures, uploads
from content.db import get_db

from .views import today, visible

bp = Blueprint("pictures", __name__)
CACHE = "public, max-age=3600"


@bp.route("/pictures/<sha256>")
def picture(sha256: str):
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        abort(404)
    found = pictures.published_picture(get_db(), sha256, visible(), today().isoformat())
    if found is None:
        abort(404)
    if request.if_none_match.contains(sha256):
        return Response(status=304, headers={"ETag": f'"{sha256}"', "Cache-Control": CACHE})
    try:
        body = uploads.read_blob(current_app.config["DATA_DIR"], sha256)
    except (OSError, ValueError, KeyError):
        abort(404)
    resp = Response(body, mimetype=found["mime"])
    resp.set_etag(sha256)
    resp.headers["Cache-Control"] = CACHE
    return resp
