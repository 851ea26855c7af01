"""Static files under content-hashed URLs, cached by browsers for a year.

At start-up every file of every static folder (the app's kiosk/static with the vendored
htmx, and the admin's, the boards' and the fleet page's blueprints) is hashed once, from
wherever the package is installed (the source tree or the wheel). ``url_for`` of a static
endpoint then adds ``?v=<hash>`` (a URL-defaults hook, so every template that writes
``url_for('…static', filename=…)`` gets it without change), and a request whose ``v``
is the file's current hash is answered with ``Cache-Control: public, max-age=31536000,
immutable``: a browser never asks for it again until the page names another hash, which
it does after an upgrade that changed the file.

A URL without ``v``, or with a hash the file no longer has (a page rendered before an
upgrade, a bookmark, an old terminal, a file changed on disk since start-up), still works
and gets ``no-cache`` (revalidated by ETag on every use), so it is never kept past a change.

``ASSETS_VERSION`` (the digest of all the hashes) is in a board's page and in its deck
(``data-assets``); a board, which loads its page once and then only polls its deck,
reloads itself when a new deck names another version (display/static/board.js).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
HASH_LENGTH = 12


def static_folders(app: Flask) -> dict[str, Path]:
    """Every static endpoint of the app and the folder it serves."""
    folders = {}
    if app.static_folder:
        folders["static"] = Path(app.static_folder)
    for name, bp in app.blueprints.items():
        if bp.static_folder:
            folders[f"{name}.static"] = Path(bp.static_folder)
    return folders


def hash_folder(folder: Path) -> dict[str, str]:
    """filename (as url_for spells it, with forward slashes) → short SHA-256 of its bytes."""
    hashes = {}
    if not folder.is_dir():
        return hashes
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(".part"):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
            hashes[path.relative_to(folder).as_posix()] = digest
    return hashes


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def init_app(app: Flask) -> None:
    """Hash the static files (after every blueprint is registered) and serve them by hash."""
    folders = static_folders(app)
    hashes = {endpoint: hash_folder(folder) for endpoint, folder in folders.items()}
    # A file replaced while this process runs (an upgrade before the restart, a developer's
    # edit) no longer has the hash its URL names: it is then served for revalidation only.
    stamps = {(e, f): _stamp(folders[e] / f) for e, files in hashes.items() for f in files}
    everything = "\n".join(f"{e}/{f}={h}" for e, files in sorted(hashes.items())
                           for f, h in sorted(files.items()))
    version = hashlib.sha256(everything.encode()).hexdigest()[:HASH_LENGTH]
    app.extensions["kiosk_assets"] = hashes
    app.config["ASSETS_VERSION"] = version

    @app.url_defaults
    def hashed_static_url(endpoint: str, values: dict) -> None:
        files = hashes.get(endpoint)
        if files is not None and "v" not in values:
            digest = files.get(values.get("filename", ""))
            if digest:
                values["v"] = digest

    @app.after_request
    def static_cache_lifetime(response):
        files = hashes.get(request.endpoint or "")
        if files is None or response.status_code not in (200, 206, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        current = files.get(filename)
        if (current is not None and request.args.get("v") == current
                and _stamp(folders[request.endpoint] / filename) == stamps[(request.endpoint, filename)]):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = REVALIDATE
        return response
