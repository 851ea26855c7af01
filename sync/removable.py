"""USB delivery: signed bundles and terminals' outboxes carried on a folder (a USB stick).

For villages without a network (the pattern of Kolibri's USB sync). The folder is laid out as
the hub's ``/sync/v1/``, plus two folders for the way back:

    index.json                  the scopes on the stick
    <scope>/manifest.json       signed manifests, exactly as published
    blobs/<sha256>              content blobs
    outbox/<terminal id>.json   a terminal's pending records, signed with its own key
    acks/<terminal id>.json     which of them the hub holds, signed with the hub's key

A terminal applies a bundle from the folder through the same ``terminal.pull`` as over HTTP,
so everything refused over the network (forged, tampered, rolled back, expired, another
scope) is refused here too. Records go up exactly once: the terminal writes all its pending
records every time, the hub stores each UUID once and signs what it holds, and only that
signed acknowledgement, brought back on the stick, lets the terminal mark them sent.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import datetime
from pathlib import Path


from content import db, outbox, retention
from content.db import get_meta, immediate

from . import bundle, hub, publish, terminal, upstream

log = logging.getLogger("kiosk.sync")

OUTBOX_TYPE = "kiosk-outbox"
ACK_TYPE = "kiosk-outbox-ack"
MAX_OUTBOX_BYTES = 64 * 1024 * 1024
MAX_OUTBOX_RECORDS = 100_000


class RemovableError(Exception):
    """Something on the stick cannot be used; the message is for the person holding it."""


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle.atomic_write(path, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


def _copy_if_missing(src: Path, dest: Path, length: int) -> bool:
    """Copy a content-addressed file unless the stick already has it whole."""
    if dest.is_file() and dest.stat().st_size == length:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.copyfile(src, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    return True


# ---------------------------------------------------------------- hub side

def export_bundles(data_dir: Path, target: Path, scopes: list[str]) -> dict:
    """Copy the published manifests of ``scopes`` and every blob they name onto the stick."""
    src = publish.published_dir(data_dir)
    copied = blobs = 0
    index = json.loads((src / "index.json").read_text("utf-8"))
    wanted = set(scopes)
    for scope in scopes:
        manifest_path = src / scope / "manifest.json"
        if not manifest_path.is_file():
            raise RemovableError(f"行政区划 {scope} 还没有发布过内容包")
        data = manifest_path.read_bytes()
        files = json.loads(data)["signed"]["files"]
        for entry in files.values():
            blob = src / "blobs" / entry["sha256"]
            if not blob.is_file():
                raise RemovableError(f"已发布的内容文件 {entry['sha256'][:12]} 缺失，请重新运行 kiosk publish")
            blobs += _copy_if_missing(blob, target / "blobs" / entry["sha256"], entry["length"])
        bundle.atomic_write(target / scope / "manifest.json", data)
        copied += 1
    _write_json(target / "index.json", [e for e in index if e.get("scope") in wanted])
    return {"scopes": copied, "blobs": blobs}


def _signed_by(doc: dict, ring: dict) -> bool:
    """Whether a key of ``ring`` (keyid → public key) signed ``doc["signed"]``."""
    return bundle.signature_check(doc, ring)[0]


def _enrol_from_stick(conn, signed: dict, doc: dict, terminal_id: str) -> None:
    """A terminal that never reached the hub enrols with the token it carries in its file."""
    enrol = signed.get("enroll")
    if not isinstance(enrol, dict):
        return
    token, public_key = enrol.get("token"), enrol.get("public_key")
    if not isinstance(token, str) or not isinstance(public_key, str):
        raise RemovableError("注册信息不完整")
    try:
        pub = bundle.load_public_b64(public_key)
    except ValueError as e:
        raise RemovableError("终端公钥无效") from e
    if bundle.keyid(bundle.raw_public(pub)) != terminal_id or not _signed_by(doc, {terminal_id: pub}):
        raise RemovableError("签名无效")
    scope = signed.get("scope")
    if not isinstance(scope, str) or not bundle.SCOPE_RE.match(scope):
        raise RemovableError("行政区划代码无效")
    try:
        hub.register_terminal(conn, token, scope, public_key, terminal_id, "U盘",
                              (signed.get("status") or {}).get("app_version", ""))
    except hub.AuthError as e:
        raise RemovableError(str(e)) from e


def import_outboxes(data_dir: Path, conn, folder: Path) -> list[dict]:
    """File every terminal's outbox found on the stick (each record once) and leave a signed
    acknowledgement for it. Returns one summary per file; a bad file is reported, not fatal."""
    keys = publish.signing_keys(data_dir)
    results = []
    for path in sorted((folder / "outbox").glob("*.json")):
        summary = {"file": path.name, "held": 0, "rejected": 0, "error": ""}
        results.append(summary)
        try:
            if path.stat().st_size > MAX_OUTBOX_BYTES:
                raise RemovableError("文件过大")
            doc = json.loads(path.read_bytes())
            if not isinstance(doc, dict) or not isinstance(doc.get("signed"), dict):
                raise RemovableError("文件结构不正确")
            terminal_id = doc["signed"].get("terminal")
            if not isinstance(terminal_id, str) or not bundle.HEX64.match(terminal_id) \
                    or path.stem != terminal_id:
                raise RemovableError("终端编号无效")
            with immediate(conn):
                signed = doc["signed"]
                _enrol_from_stick(conn, signed, doc, terminal_id)
                term = conn.execute("SELECT * FROM sync_terminal WHERE id = ? AND active = 1",
                                    (terminal_id,)).fetchone()
                if term is None:
                    raise RemovableError("终端未注册或已停用")
                pub = bundle.load_public_b64(term["public_key"])
                if not _signed_by(doc, {terminal_id: pub}):
                    raise RemovableError("签名无效")
                if signed.get("type") != OUTBOX_TYPE or signed.get("scope") != term["scope"]:
                    raise RemovableError("文件类型或行政区划不符")
                records = signed.get("records")
                if not isinstance(records, list) or len(records) > MAX_OUTBOX_RECORDS:
                    raise RemovableError("记录列表无效")
                held, rejected = hub.file_records(conn, term, records)
                hub.record_status(conn, terminal_id, signed.get("status"), "U盘")
            ack = {"type": ACK_TYPE, "terminal": terminal_id, "created": bundle.iso(bundle.utcnow()),
                   "held": held, "rejected": rejected}
            _write_json(folder / "acks" / f"{terminal_id}.json", bundle.sign_manifest(ack, keys))
            summary.update(held=len(held), rejected=len(rejected))
        except (RemovableError, ValueError, KeyError, OSError) as e:
            summary["error"] = str(e) or type(e).__name__
            log.warning("outbox file %s refused: %s", path.name, summary["error"])
    return results


# ---------------------------------------------------------------- terminal side

def _terminal_id(data_dir: Path) -> tuple[str, object]:
    key = bundle.load_private_key(terminal.key_path(data_dir))
    return bundle.keyid(bundle.raw_public(key)), key


def read_acks(conn, settings: terminal.Settings, folder: Path, terminal_id: str) -> int:
    """Mark sent what the hub's signed acknowledgement on the stick says it holds."""
    path = folder / "acks" / f"{terminal_id}.json"
    if not path.is_file():
        return 0
    try:
        manifest = bundle.parse_manifest(path.read_bytes())
        signed = manifest["signed"]
        good = _signed_by(manifest, settings.trusted)
    except (bundle.BundleError, OSError, KeyError) as e:
        raise RemovableError(f"回执文件无法读取：{e}") from e
    if not good:
        raise RemovableError("回执不是由可信的县级平台密钥签名的，已忽略")
    if signed.get("type") != ACK_TYPE or signed.get("terminal") != terminal_id:
        raise RemovableError("回执不属于本终端，已忽略")
    held = [u for u in signed.get("held") or [] if isinstance(u, str)]
    with immediate(conn):
        # The hub answered this terminal by its key: it is enrolled, the token is spent.
        db.set_meta(conn, "sync_enrolled", "1")
        terminal.token_path(settings.data_dir).unlink(missing_ok=True)
        # As over the network: what the hub holds is marked sent and its personal data scrubbed.
        when = str(signed.get("created", bundle.iso(bundle.utcnow())))
        outbox.mark_sent(conn, held, when)
        retention.after_hub_holds(conn, held, when)
        for r in signed.get("rejected") or []:
            if isinstance(r, dict) and isinstance(r.get("uuid"), str):
                outbox.mark_rejected(conn, r["uuid"], str(r.get("reason", "")))
    retention.checkpoint(conn)
    return len(held)


def write_outbox(conn, settings: terminal.Settings, folder: Path, terminal_id: str, key) -> int:
    """Write every pending record, signed, for the hub to import; return how many."""
    upstream.queue_usage(conn)
    records = outbox.pending(conn, MAX_OUTBOX_RECORDS)
    signed = {"type": OUTBOX_TYPE, "terminal": terminal_id, "scope": settings.scope,
              "created": bundle.iso(bundle.utcnow()), "records": records,
              "status": upstream.status(conn, settings)}
    token = terminal.token_path(settings.data_dir)
    if get_meta(conn, "sync_enrolled") != "1" and token.exists():
        signed["enroll"] = {"token": token.read_text().strip(), "public_key": bundle.public_b64(key)}
    path = folder / "outbox" / f"{terminal_id}.json"
    if records or path.exists() or "enroll" in signed:
        _write_json(path, bundle.sign_manifest(signed, [key]))
    return len(records)


def sync_from_folder(data_dir: Path, folder: Path, now: datetime | None = None) -> dict:
    """Apply this terminal's bundle from the stick, take the hub's acknowledgement, and leave
    the outbox on it. Raises terminal.SyncError when the bundle is refused."""
    data_dir, folder = Path(data_dir), Path(folder)
    settings = terminal.Settings.load(data_dir)
    settings.folder = folder
    if not (folder / settings.scope / "manifest.json").is_file():
        raise terminal.SyncError(f"目录中没有本终端（{settings.scope}）的内容包")
    terminal_id, key = _terminal_id(data_dir)
    out = {"pull": None, "acknowledged": 0, "exported": 0, "warnings": []}
    with terminal.sync_lock(data_dir):
        conn = db.open_database(data_dir / "kiosk.sqlite3")
        try:
            try:
                out["pull"] = terminal.pull(conn, settings, now)
            except terminal.SyncError as e:
                terminal._record_error(conn, str(e))
                raise
            try:
                out["acknowledged"] = read_acks(conn, settings, folder, terminal_id)
            except RemovableError as e:
                out["warnings"].append(str(e))
            out["exported"] = write_outbox(conn, settings, folder, terminal_id, key)
            out["version"] = get_meta(conn, "content_version")
        finally:
            conn.close()
    return out
