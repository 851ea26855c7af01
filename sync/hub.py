"""Hub endpoints under /sync/v1/: published bundles, terminal enrolment, the upstream inbox.

The bundle URLs serve the files written by ``kiosk publish`` from
``data_dir/published`` exactly as nginx would (deploy/nginx-hub.conf.example).

Upstream requests are signed by the terminal's own Ed25519 key. Headers:
``X-Kiosk-Terminal`` (hex SHA-256 of its raw public key), ``X-Kiosk-Timestamp``
(Unix seconds), ``X-Kiosk-Nonce`` (16–64 hex) and ``X-Kiosk-Signature``
(base64) over ``request_message(method, path, timestamp, nonce, body)``.
Requests older or newer than five minutes, or repeating a nonce, are refused.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import sqlite3
import time
from datetime import date, datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from flask import Blueprint, Response, abort, current_app, has_app_context, jsonify, request, send_file
from werkzeug.http import http_date, parse_etags, quote_etag

from content import application_organs, display_proof, feedback, jurisdictions, outbox, resident_questions, usage
from content.db import get_db, immediate

from . import bundle, remote_view
from .publish import published_dir

bp = Blueprint("sync", __name__, url_prefix="/sync/v1")
log = logging.getLogger("kiosk.sync")

MAX_SKEW_SECONDS = 300
MAX_BATCH = 500
NONCE_RE = re.compile(r"^[0-9a-f]{16,64}$")
MANIFEST_MAX_AGE = 60
BLOB_MAX_AGE = 365 * 86400

# Upstream kinds filed into the hub's own tables, keyed by their UUID.
FILED_KINDS = {"application": "application", "feedback": "feedback",
               "consultation_response": "consultation_response"}


def request_message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join(["kiosk-sync-v1", method.upper(), path, timestamp, nonce,
                      hashlib.sha256(body).hexdigest()]).encode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _error(status: int, message: str):
    resp = jsonify({"error": message})
    resp.status_code = status
    return resp


def _now_iso() -> str:
    return bundle.iso(bundle.utcnow())


# ---------------------------------------------------------------- published files

def _published() -> Path:
    return published_dir(Path(current_app.config["DATA_DIR"]))


@bp.route("/index.json")
def index_json():
    path = _published() / "index.json"
    if not path.is_file():
        abort(404)
    return _small_file(path, "application/json")


@bp.route("/<code:scope>/manifest.json")
def manifest(scope: str):
    path = _published() / scope / "manifest.json"
    if not path.is_file():
        abort(404)
    return _small_file(path, "application/json")


def _small_file(path: Path, mimetype: str):
    """A mutable file: strong ETag of its bytes, conditional GET, short caching."""
    data, etag = _read_tagged(path)
    resp = Response(data, mimetype=mimetype)
    resp.set_etag(etag)
    resp.cache_control.public = True
    resp.cache_control.max_age = MANIFEST_MAX_AGE
    resp.cache_control.must_revalidate = True
    return resp.make_conditional(request)


# ETags of published manifests by (inode, size, mtime): manifests are replaced by rename, so a
# new file is a new key; the fast path below answers a poll with one stat().
_etags: dict[str, tuple[tuple, str]] = {}
_ETAG_ENTRIES = 4096


def _read_tagged(path: Path) -> tuple[bytes, str]:
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        data = f.read()
    etag = hashlib.sha256(data).hexdigest()
    if len(_etags) >= _ETAG_ENTRIES:
        _etags.clear()
    _etags[str(path)] = ((st.st_ino, st.st_size, st.st_mtime_ns), etag)
    return data, etag


def _known_etag(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    hit = _etags.get(path)
    if hit is None or hit[0] != (st.st_ino, st.st_size, st.st_mtime_ns):
        try:
            return _read_tagged(Path(path))[1]
        except OSError:
            return None
    return hit[1]


_date_cache = [0, ""]


def _date_now() -> str:
    """The Date header, formatted once a second."""
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, http_date(now)]
    return _date_cache[1]


_POLLED = re.compile(r"^/sync/v1/(?:([0-9]{12})/manifest|index)\.json$")


# What a blob answer needs (Date and Server come from waitress). Page headers (CSP, frame
# options, Vary, Content-Disposition, a 64-hex ETag …) are some 500 bytes per blob, and an
# update of a few hundred small blobs would move 5 % more than its bytes for them.
_BLOB_HEADERS = {"content-type", "content-length", "content-range", "accept-ranges",
                 "cache-control", "x-content-type-options", "last-modified"}


class NotModifiedFastPath:
    """WSGI middleware: a terminal's poll of an unchanged manifest (If-None-Match) gets its 304
    from one stat(), before Flask, as nginx in front of the hub would answer it; blob answers
    carry only the headers a download needs.

    Everything else (a changed manifest, a first fetch) goes to the Flask route above, which
    sends the same ETag and caching headers.
    """

    def __init__(self, wsgi_app, data_dir: str):
        self.wsgi_app = wsgi_app
        self.published = str(published_dir(Path(data_dir)))

    def __call__(self, environ, start_response):
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if inm and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            m = _POLLED.match(environ.get("PATH_INFO", ""))
            if m:
                path = os.path.join(self.published, m.group(1), "manifest.json") if m.group(1) \
                    else os.path.join(self.published, "index.json")
                etag = _known_etag(path)
                if etag is not None and (inm == f'"{etag}"' or parse_etags(inm).contains_weak(etag)):
                    start_response("304 Not Modified", [
                        ("ETag", quote_etag(etag)), ("Date", _date_now()),
                        ("Cache-Control", f"public, max-age={MANIFEST_MAX_AGE}, must-revalidate")])
                    return [b""]
        if environ.get("PATH_INFO", "").startswith("/sync/v1/blobs/"):
            def lean_start_response(status, headers, exc_info=None):
                return start_response(status, [(k, v) for k, v in headers
                                               if k.lower() in _BLOB_HEADERS], exc_info)
            return self.wsgi_app(environ, lean_start_response)
        return self.wsgi_app(environ, start_response)


@bp.route("/blobs/<sha>")
def blob(sha: str):
    if not bundle.HEX64.match(sha):
        abort(404)
    path = _published() / "blobs" / sha
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype="application/octet-stream", conditional=True, etag=sha,
                     max_age=BLOB_MAX_AGE)
    resp.cache_control.public = True
    resp.cache_control.immutable = True
    return resp


# ---------------------------------------------------------------- signed requests

class AuthError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _verify_signature(conn: sqlite3.Connection, public_key_b64: str, path: str, body: bytes) -> str:
    """Check the request headers against the key; record the nonce; return the terminal id."""
    terminal_id = request.headers.get("X-Kiosk-Terminal", "")
    ts = request.headers.get("X-Kiosk-Timestamp", "")
    nonce = request.headers.get("X-Kiosk-Nonce", "")
    sig = request.headers.get("X-Kiosk-Signature", "")
    if not bundle.HEX64.match(terminal_id) or not ts.isdigit() or not NONCE_RE.match(nonce):
        raise AuthError(401, "缺少或无效的终端签名头")
    if abs(int(ts) - int(time.time())) > MAX_SKEW_SECONDS:
        raise AuthError(401, "请求时间戳过旧或超前（请检查终端时钟）")
    try:
        pub = bundle.load_public_b64(public_key_b64)
    except ValueError as e:
        raise AuthError(400, "终端公钥无效") from e
    if bundle.keyid(bundle.raw_public(pub)) != terminal_id:
        raise AuthError(401, "终端编号与公钥不符")
    try:
        pub.verify(base64.b64decode(sig, validate=True),
                   request_message(request.method, path, ts, nonce, body))
    except (InvalidSignature, binascii.Error, ValueError) as e:
        raise AuthError(401, "请求签名无效") from e
    conn.execute("DELETE FROM sync_nonce WHERE ts < ?", (int(time.time()) - 2 * MAX_SKEW_SECONDS,))
    try:
        conn.execute("INSERT INTO sync_nonce(terminal_id, nonce, ts) VALUES (?, ?, ?)",
                     (terminal_id, nonce, int(ts)))
    except sqlite3.IntegrityError as e:
        raise AuthError(401, "重复的请求（重放）") from e
    return terminal_id


def _json_body() -> dict:
    data = request.get_data(cache=True)
    try:
        body = json.loads(data)
    except ValueError as e:
        raise AuthError(400, "请求体不是有效的 JSON") from e
    if not isinstance(body, dict):
        raise AuthError(400, "请求体应为 JSON 对象")
    return body


def register_terminal(conn: sqlite3.Connection, token: str, scope: str, public_key: str,
                      terminal_id: str, remote_addr: str, app_version) -> None:
    """Enrol a terminal's key with its one-time token (over the network or on a USB stick);
    raise AuthError when the token does not allow it. The caller holds the transaction."""
    row = conn.execute("SELECT * FROM sync_enrolment WHERE token_hash = ?",
                       (token_hash(token),)).fetchone()
    if row is None:
        raise AuthError(403, "注册令牌无效")
    if row["scope"] != scope:
        raise AuthError(403, "注册令牌不属于该行政区划")
    if row["used_at"] is not None and row["terminal_id"] != terminal_id:
        raise AuthError(403, "注册令牌已被使用")
    if row["used_at"] is None and row["expires_at"] < _now_iso():
        raise AuthError(403, "注册令牌已过期")
    existing = conn.execute("SELECT scope FROM sync_terminal WHERE id = ?",
                            (terminal_id,)).fetchone()
    if existing is not None and existing["scope"] != scope:
        raise AuthError(409, "该终端已注册到其他行政区划")
    if row["used_at"] is None:
        conn.execute("UPDATE sync_enrolment SET used_at = ?, terminal_id = ? WHERE token_hash = ?",
                     (_now_iso(), terminal_id, row["token_hash"]))
    conn.execute(
        "INSERT INTO sync_terminal(id, public_key, scope, last_contact, remote_addr, app_version, label) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET last_contact = excluded.last_contact",
        (terminal_id, public_key, scope, _now_iso(), remote_addr, str(app_version)[:40], row["label"]))


@bp.route("/enroll", methods=["POST"])
def enroll():
    """Register a terminal's public key with its one-time enrolment token."""
    conn = get_db()
    try:
        with immediate(conn):
            body = _json_body()
            token, scope, public_key = body.get("token"), body.get("scope"), body.get("public_key")
            if not all(isinstance(v, str) for v in (token, scope, public_key)) \
                    or not bundle.SCOPE_RE.match(scope):
                raise AuthError(400, "注册请求缺少令牌、行政区划代码或公钥")
            terminal_id = _verify_signature(conn, public_key, "/sync/v1/enroll", request.get_data())
            register_terminal(conn, token, scope, public_key, terminal_id,
                              request.remote_addr or "", body.get("app_version", ""))
    except AuthError as e:
        current_app.logger.warning("sync enrol refused: %s", e)
        return _error(e.status, str(e))
    return jsonify({"terminal_id": terminal_id, "scope": scope})


def _int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _file_record(conn: sqlite3.Connection, kind: str, uuid: str, payload: dict,
                 owner_code: str | None = None) -> tuple[str, str]:
    """File a known kind into its table (once, by UUID); return (table, note)."""
    table = FILED_KINDS.get(kind)
    if table is None:
        return "", ""
    cols = [r["name"] for r in conn.execute(f'PRAGMA table_info("{table}")')]
    data = {k: v for k, v in payload.items() if k in cols and k != "uuid"}
    data = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
            for k, v in data.items()}
    data["uuid"] = uuid
    if kind == "feedback":
        # The record carries where the rating was given (the terminal's own code); the
        # rating is counted for the owner of what was rated, looked up here, not taken
        # from the terminal.
        data["jurisdiction_code"] = owner_code
    note = _checked_organ(conn, data) if kind == "application" else ""
    names = ", ".join(f'"{k}"' for k in data)
    marks = ", ".join("?" for _ in data)
    conn.execute("SAVEPOINT file_record")
    try:
        conn.execute(f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})', list(data.values()))
        conn.execute("RELEASE file_record")
    except (sqlite3.Error, OverflowError, ValueError, TypeError) as e:
        # A record the table cannot take is kept in the inbox and noted; it never costs the
        # other records of the batch their place.
        conn.execute("ROLLBACK TO file_record")
        conn.execute("RELEASE file_record")
        return "", f"未能归档到 {table}：{e}"
    if conn.execute(f'SELECT 1 FROM "{table}" WHERE uuid = ?', (uuid,)).fetchone() is None:
        return "", f"未能归档到 {table}：与已有记录冲突（如受理编号重复），原始数据已保留"
    return table, note


def _checked_organ(conn: sqlite3.Connection, data: dict) -> str:
    """The organ a resident chose at a terminal must be one of this county's (an old terminal's
    list, or a forged record, may name another): otherwise the application goes to the
    government nearest where it was made, and the inbox notes why."""
    code, dept = str(data.get("organ_code") or ""), str(data.get("organ_dept") or "")
    if not code or application_organs.parse_key(conn, f"{code}/{dept}" if dept else code):
        return ""
    fallback = application_organs.default_organ(conn, str(data.get("jurisdiction_code") or ""))
    data["organ_code"], data["organ_dept"] = (fallback.code, fallback.dept) if fallback else ("", "")
    return (f"受理机关“{code[:12]}{'/' + dept[:20] if dept else ''}”不在本县名单中，"
            f"已交{fallback.name if fallback else '接收地'}办理")


# Kinds a resident makes at a terminal: each must name the terminal's own jurisdiction.
PLACED_KINDS = frozenset(FILED_KINDS) | {resident_questions.UPSTREAM_KIND}


def _foreign_record(conn: sqlite3.Connection, kind: str, payload: dict, scope: str,
                    allowed: set[str]) -> tuple[str, str | None]:
    """(why the record may not be filed for this terminal or '', the owner of what a rating
    rates): a terminal's records carry only its own jurisdiction code, and a rating is only
    of something its screens show."""
    code = payload.get("jurisdiction_code")
    if code is None and kind not in PLACED_KINDS:
        return "", None
    if code != scope:
        return f"记录的行政区划代码（{str(code)[:20]}）不是本终端的（{scope}），终端只能上传本机的记录", None
    if kind == "feedback":
        target = feedback.TARGETS.get(payload.get("target_type"))
        target_id = payload.get("target_id")
        row = conn.execute(f"SELECT jurisdiction_code FROM {target[0]} WHERE id = ?",
                           (target_id,)).fetchone() \
            if target and isinstance(target_id, int) and not isinstance(target_id, bool) \
            and 0 < target_id < 2 ** 63 else None
        if row is None or row[0] not in allowed:
            return "评价的内容不存在，或不在本终端显示的范围内", None
        return "", row[0]
    return "", None


# ---------------------------------------------------------------- kinds filed by their own module

def _screens(kind: str):
    def filer(conn, terminal_id, uuid, payload, allowed):
        kept = remote_view.file_upstream(conn, terminal_id, kind, payload)
        return kept, f"terminal_{'screenshot' if kind == 'screenshot' else 'command'}"
    return filer


def _display_report(conn, terminal_id, uuid, payload, allowed):
    return display_proof.file_upstream(conn, terminal_id, payload, datetime.now(timezone.utc)), "display_report"


def _usage(conn, terminal_id, uuid, payload, allowed):
    # Daily view totals: kept as the largest total per thing, so the inbox holds a
    # summary, not every running total a terminal sends.
    return usage.file_upstream(conn, terminal_id, payload, date.today()), "usage_view"


def _resident_question(conn, terminal_id, uuid, payload, allowed):
    # The owner and the answer clock are the hub's; the inbox copy keeps the phone masked.
    clocks = resident_questions.clocks_from(current_app.config if has_app_context() else {})
    return resident_questions.file_upstream(conn, uuid, payload, allowed, clocks), "resident_question"


# kind → filer(conn, terminal_id, uuid, payload, allowed codes) → (inbox copy, table); a filer
# refuses a record by raising one of FILER_ERRORS with a Chinese reason.
UPSTREAM_FILERS = {
    "screenshot": _screens("screenshot"),
    "command_done": _screens("command_done"),
    display_proof.UPSTREAM_KIND: _display_report,
    usage.UPSTREAM_KIND: _usage,
    resident_questions.UPSTREAM_KIND: _resident_question,
}
FILER_ERRORS = (remote_view.BadRecord, display_proof.BadReport, usage.BadUpstream, resident_questions.Refused)


def file_records(conn: sqlite3.Connection, term: sqlite3.Row, records: list) -> tuple[list, list]:
    """Store a terminal's upstream records, each UUID once; return (uuids held, rejections).

    Used for records that came over the network (``inbox``) and on a USB stick
    (``sync.removable``); the caller holds the write transaction."""
    terminal_id = term["id"]
    allowed = set(jurisdictions.visible_codes(conn, term["scope"]))
    held, rejected = [], []
    for rec in records:
        uuid = rec.get("uuid") if isinstance(rec, dict) else None
        if not outbox.is_uuid(uuid):
            rejected.append({"uuid": str(uuid)[:40], "reason": "记录编号不是 UUID"})
            continue
        uuid = uuid.lower()
        kind, payload = rec.get("kind"), rec.get("payload")
        if not outbox.is_kind(kind) or not isinstance(payload, dict):
            rejected.append({"uuid": uuid, "reason": "记录类型或内容无效"})
            continue
        problem, owner = _foreign_record(conn, kind, payload, term["scope"], allowed)
        if problem:
            log.warning("sync inbox refused record %s (%s) of terminal %s (scope %s): %s",
                        uuid, kind, terminal_id[:12], term["scope"], problem)
            rejected.append({"uuid": uuid, "reason": problem})
            continue
        if conn.execute("SELECT 1 FROM sync_inbox WHERE uuid = ?", (uuid,)).fetchone():
            held.append(uuid)
            continue
        filer = UPSTREAM_FILERS.get(kind)
        if filer is not None:
            try:
                kept, stored_in = filer(conn, terminal_id, uuid, payload, allowed)
            except FILER_ERRORS as e:
                rejected.append({"uuid": uuid, "reason": str(e)})
                continue
            note = ""
        else:
            kept = payload
            stored_in, note = _file_record(conn, kind, uuid, payload, owner)
        conn.execute(
            "INSERT INTO sync_inbox(uuid, kind, terminal_id, scope, payload, stored_in, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (uuid, kind, terminal_id, term["scope"], json.dumps(kept, ensure_ascii=False),
             stored_in, note))
        held.append(uuid)
    return held, rejected


def record_status(conn: sqlite3.Connection, terminal_id: str, status, remote_addr: str) -> None:
    """Keep what a terminal reported of itself (for the fleet page)."""
    status = status if isinstance(status, dict) else {}
    conn.execute(
        "UPDATE sync_terminal SET last_contact = ?, remote_addr = ?, applied_version = ?, "
        "app_version = ?, free_disk = ?, interval = coalesce(?, interval), last_sync = ?, "
        "last_error = ?, outbox_pending = ? WHERE id = ?",
        (_now_iso(), remote_addr, _int_or_none(status.get("applied_version")),
         str(status.get("app_version", ""))[:40], _int_or_none(status.get("free_disk")),
         _int_or_none(status.get("interval")),
         status.get("last_sync") if isinstance(status.get("last_sync"), str) else None,
         str(status.get("last_error") or "")[:300], _int_or_none(status.get("outbox_pending")),
         terminal_id))


@bp.route("/inbox", methods=["POST"])
def inbox():
    """Upstream records from an enrolled terminal: each UUID stored once; answer the ids held."""
    conn = get_db()
    try:
        with immediate(conn):
            terminal_id = request.headers.get("X-Kiosk-Terminal", "")
            term = conn.execute("SELECT * FROM sync_terminal WHERE id = ? AND active = 1",
                                (terminal_id,)).fetchone() if bundle.HEX64.match(terminal_id) else None
            if term is None:
                raise AuthError(403, "终端未注册")
            _verify_signature(conn, term["public_key"], "/sync/v1/inbox", request.get_data())
            body = _json_body()
            if body.get("scope") != term["scope"]:
                raise AuthError(403, "终端只能上传本行政区划的记录")
            records = body.get("records", [])
            if not isinstance(records, list) or len(records) > MAX_BATCH:
                raise AuthError(400, f"records 应为最多 {MAX_BATCH} 条的列表")
            held, rejected = file_records(conn, term, records)
            record_status(conn, terminal_id, body.get("status"), request.remote_addr or "")
            commands = remote_view.deliver(conn, Path(current_app.config["DATA_DIR"]), terminal_id)
    except AuthError as e:
        current_app.logger.warning("sync inbox refused: %s", e)
        return _error(e.status, str(e))
    return jsonify({"held": held, "rejected": rejected, "commands": commands})
