"""gzip and brotli for pages, styles, scripts and JSON sent over a network (Flask-Compress).

A resident's phone on the hub, a board across the village LAN, staff on the county network:
text compresses four- to fivefold. Flask-Compress picks brotli when the browser accepts it,
else gzip, adds ``Vary: Accept-Encoding``, suffixes a strong ETag with the encoding and
answers If-None-Match after compressing. What is compressed here:

* only the types in ``MIMETYPES`` (HTML, CSS, JavaScript, JSON, SVG, plain text): never
  PNG/JPEG/PDF pictures, zips, bundles or xlsx exports, which are compressed already;
* only complete ``200`` answers of at least ``COMPRESS_MIN_SIZE`` bytes (1 KiB): a board's
  ``204`` poll, a ``304`` and a range request stay as they are, and a streamed answer is
  never buffered to be compressed (``COMPRESS_STREAMS`` off). Static files, which Flask
  sends as files, are read into memory first (they are small, and hashed URLs mean a
  browser fetches each once a version);
* never an answer that carries a secret bound to the visitor's session (BREACH): when a
  page both reflects what a request asked for (a search word, a filter) and holds a
  secret, compressed lengths seen on the wire let an attacker who can make the browser
  send requests guess the secret a character at a time. Masking the CSRF token per
  response would protect the token only, not the ID numbers and phones a staff page shows,
  so such answers are simply not compressed: a signed-in staff member's pages (the admin),
  any answer with this visitor's CSRF token in it (forms, ``/csrf-token``) and the views
  that show one resident their own data (``keep_uncompressed()``). Resident reading pages,
  boards and static files carry no such secret (content/security.py keeps CSRF tokens out
  of them) and are compressed.
"""
from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_compress import Compress

compress = Compress()

MIMETYPES = [
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "application/manifest+json", "image/svg+xml", "text/plain",
]
MIN_SIZE = 1024


def keep_uncompressed() -> None:
    """Mark this request's answer as holding one visitor's own data: sent uncompressed."""
    g.keep_uncompressed = True


def carries_secret() -> bool:
    """Whether this request's answer holds something an attacker must not learn (BREACH)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return (g.get("user") is not None            # a signed-in staff member's page
            or g.get(field) is not None           # this visitor's CSRF token is in it
            or bool(g.get("keep_uncompressed")))


def _static_file(response) -> bool:
    return (request.endpoint or "").split(".")[-1] == "static" and response.direct_passthrough


def compress_response(response):
    if carries_secret():
        return response
    if response.status_code != 200 or "Content-Range" in response.headers:
        if response.status_code == 304:     # a 304 names what its 200 would vary on
            response.vary.add("Accept-Encoding")
        return response
    if (_static_file(response) and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]
            and (response.content_length or 0) >= current_app.config["COMPRESS_MIN_SIZE"]
            and request.headers.get("Accept-Encoding")):
        # A file sent by Flask's static view: read it so that it can be compressed whole.
        response.direct_passthrough = False
        response.make_sequence()
    response = compress.after_request(response)
    if "Content-Encoding" in response.headers:
        # Byte ranges would count the compressed bytes, which are made anew on each request.
        response.headers.pop("Accept-Ranges", None)
    return response


def init_app(app: Flask) -> None:
    """Compress answers as the last step of every request (after caching and headers)."""
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", MIN_SIZE)
    app.config.setdefault("COMPRESS_LEVEL", 6)       # gzip
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)    # brotli: about gzip -9's size, faster
    app.config["COMPRESS_STREAMS"] = False
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)
    if not app.config.get("COMPRESS_ENABLED", True):
        return
    # after_request hooks run last-registered first: at the front, this one runs last,
    # so the page cache keeps plain bytes and every header is already set.
    app.after_request_funcs.setdefault(None, []).insert(0, compress_response)
