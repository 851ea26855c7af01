"""The hub's side of remote view: the latest thumbnail of each terminal's screens, and the
commands staff send them (a fresh screenshot, a reload), signed with the hub's key when the
terminal next calls in (its inbox answer carries them)."""
from __future__ import annotations

import base64
import binascii
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from . import bundle, publish
from .screens import ACTIONS, COMMAND_LIFETIME, COMMAND_TYPE

MAX_IMAGE_BYTES = 512 * 1024
MAX_PENDING = 10


class BadRecord(ValueError):
    """An upstream screenshot or command result that cannot be kept (Chinese message)."""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_upstream(conn: sqlite3.Connection, terminal_id: str, kind: str, payload: dict) -> dict:
    """Keep a terminal's screenshot (the newest per screen) or a command's result."""
    if kind == "command_done":
        command = payload.get("command")
        if not isinstance(command, int) or isinstance(command, bool):
            raise BadRecord("指令编号无效")
        conn.execute("UPDATE terminal_command SET done_at = ?, ok = ?, message = ? "
                     "WHERE id = ? AND terminal_id = ?",
                     (_now(), 1 if payload.get("ok") else 0, str(payload.get("message") or "")[:300],
                      command, terminal_id))
        return {"command": command, "ok": bool(payload.get("ok"))}
    screen, taken = payload.get("screen"), payload.get("taken_at")
    if not isinstance(screen, str) or not 1 <= len(screen) <= 20 or not isinstance(taken, str):
        raise BadRecord("截图信息不完整")
    try:
        bundle.parse_iso(taken)
        image = base64.b64decode(str(payload.get("image", "")), validate=True)
    except (ValueError, binascii.Error) as e:
        raise BadRecord("截图数据无效") from e
    if not image.startswith(b"\xff\xd8") or len(image) > MAX_IMAGE_BYTES:
        raise BadRecord("截图不是有效的 JPEG 缩略图")
    width, height = payload.get("width"), payload.get("height")
    conn.execute(
        "INSERT INTO terminal_screenshot(terminal_id, screen, path, taken_at, width, height, image) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(terminal_id, screen) DO UPDATE SET "
        "path = excluded.path, taken_at = excluded.taken_at, received_at = excluded.received_at, "
        "width = excluded.width, height = excluded.height, image = excluded.image "
        "WHERE excluded.taken_at >= terminal_screenshot.taken_at",
        (terminal_id, screen, str(payload.get("path") or "")[:200], taken,
         width if isinstance(width, int) else 0, height if isinstance(height, int) else 0, image))
    return {"screen": screen, "taken_at": taken, "bytes": len(image)}


def request_command(conn: sqlite3.Connection, terminal_id: str, action: str, user_id: int | None) -> int:
    if action not in ACTIONS:
        raise ValueError(action)
    return conn.execute("INSERT INTO terminal_command(terminal_id, action, created_by) VALUES (?, ?, ?)",
                        (terminal_id, action, user_id)).lastrowid


def deliver(conn: sqlite3.Connection, data_dir: Path, terminal_id: str) -> list[dict]:
    """The terminal's waiting commands, signed (the caller holds the transaction)."""
    rows = conn.execute("SELECT * FROM terminal_command WHERE terminal_id = ? AND done_at IS NULL "
                        "AND created_at >= ? ORDER BY id LIMIT ?",
                        (terminal_id, bundle.iso(datetime.now(timezone.utc) - COMMAND_LIFETIME),
                         MAX_PENDING)).fetchall()
    if not rows:
        return []
    keys = publish.signing_keys(data_dir)
    out = []
    for r in rows:
        created = bundle.parse_iso(r["created_at"])
        signed = {"type": COMMAND_TYPE, "terminal": terminal_id, "id": r["id"], "action": r["action"],
                  "created": bundle.iso(created), "expires": bundle.iso(created + COMMAND_LIFETIME)}
        out.append(bundle.sign_manifest(signed, keys))
        conn.execute("UPDATE terminal_command SET delivered_at = coalesce(delivered_at, ?) WHERE id = ?",
                     (_now(), r["id"]))
    return out


def latest(conn: sqlite3.Connection) -> dict[str, list[sqlite3.Row]]:
    """terminal id → its screens' latest thumbnails (without the image bytes)."""
    out: dict[str, list] = {}
    for r in conn.execute("SELECT terminal_id, screen, path, taken_at, width, height FROM terminal_screenshot "
                          "ORDER BY terminal_id, screen"):
        out.setdefault(r["terminal_id"], []).append(r)
    return out


def pending(conn: sqlite3.Connection) -> dict[str, list[sqlite3.Row]]:
    out: dict[str, list] = {}
    for r in conn.execute("SELECT * FROM terminal_command WHERE done_at IS NULL AND created_at >= ? ORDER BY id",
                          (bundle.iso(datetime.now(timezone.utc) - COMMAND_LIFETIME),)):
        out.setdefault(r["terminal_id"], []).append(r)
    return out
