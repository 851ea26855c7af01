"""Remote view: what this terminal's screens show, through Chromium's DevTools protocol.

The kiosk browser (deploy/kiosk-browser.sh) listens for DevTools on 127.0.0.1 only, one port
per screen (9222 for the touchscreen; a board on the same machine another). Here a sync round
takes a small JPEG of every page of every screen (at the set interval, or when the hub asks)
and queues it upstream, replacing one not yet sent; the hub may also ask for a reload. The
hub's commands are signed with its key and checked like bundles: a trusted key, this
terminal's own id, not expired, not done before.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import urllib.request
import uuid as uuidlib
from datetime import datetime, timedelta, timezone

from content import outbox
from content.db import get_meta, set_meta

from . import bundle

log = logging.getLogger("kiosk.sync")

DEFAULT_PORTS = (9222,)
DEFAULT_EVERY_MINUTES = 30        # a thumbnail of every screen this often (0: only when asked)
THUMB_WIDTH = 480
JPEG_QUALITY = 60
COMMAND_TYPE = "kiosk-command"
ACTIONS = {"screenshot": "刷新截图", "reload": "重新载入屏幕"}
COMMAND_LIFETIME = timedelta(days=1)
DONE_KEPT = 200                   # ids of commands already carried out, against replays
TIMEOUT = 10


class ScreenError(Exception):
    """A screen could not be reached or did not answer."""


# ---------------------------------------------------------------- DevTools protocol

def page_targets(port: int) -> list[dict]:
    """The pages a screen's browser shows (DevTools' /json/list on 127.0.0.1 only)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{int(port)}/json/list", timeout=TIMEOUT) as r:
            targets = json.loads(r.read(1024 * 1024))
    except (OSError, ValueError) as e:
        raise ScreenError(f"屏幕（端口 {port}）没有应答：{e}") from e
    return [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]


def _call(ws_url: str, method: str, params: dict | None = None) -> dict:
    import websocket  # noqa: PLC0415  (only terminals with screens need it)
    try:
        ws = websocket.create_connection(ws_url, timeout=TIMEOUT, suppress_origin=True)
    except (OSError, websocket.WebSocketException) as e:
        raise ScreenError(f"无法连接屏幕：{e}") from e
    try:
        ws.send(json.dumps({"id": 1, "method": method, "params": params or {}}))
        while True:
            answer = json.loads(ws.recv())
            if answer.get("id") == 1:
                break
    except (OSError, ValueError, websocket.WebSocketException) as e:
        raise ScreenError(f"屏幕没有应答：{e}") from e
    finally:
        ws.close()
    if "error" in answer:
        raise ScreenError(str(answer["error"].get("message", answer["error"])))
    return answer.get("result", {})


def _thumbnail(png: bytes) -> tuple[bytes, int, int]:
    from PIL import Image  # noqa: PLC0415
    img = Image.open(io.BytesIO(png)).convert("RGB")
    img.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 4))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), img.width, img.height


def capture(port: int) -> list[dict]:
    """A thumbnail of every page on the screen at ``port``."""
    shots = []
    for i, t in enumerate(page_targets(port)):
        result = _call(t["webSocketDebuggerUrl"], "Page.captureScreenshot", {"format": "png"})
        try:
            png = base64.b64decode(result.get("data", ""), validate=True)
        except binascii.Error as e:
            raise ScreenError("屏幕截图数据无效") from e
        jpeg, w, h = _thumbnail(png)
        path = t.get("url", "").split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        shots.append({"screen": f"{port}-{i}", "path": "/" + path, "jpeg": jpeg, "width": w, "height": h})
    return shots


def reload(port: int) -> int:
    """Reload every page on the screen at ``port``; returns how many."""
    targets = page_targets(port)
    for t in targets:
        _call(t["webSocketDebuggerUrl"], "Page.reload", {"ignoreCache": True})
    return len(targets)


# ---------------------------------------------------------------- the terminal's side

def queue_screenshots(conn, scope: str, ports, now: datetime) -> tuple[int, list[str]]:
    """Take every screen's thumbnail and queue it upstream (one per screen waiting at most).
    Returns how many were queued and the problems met (a screen that is off is reported,
    not fatal)."""
    problems, queued = [], 0
    for port in ports:
        try:
            shots = capture(port)
        except ScreenError as e:
            problems.append(str(e))
            continue
        for s in shots:
            conn.execute("BEGIN IMMEDIATE")
            try:
                outbox.withdraw_pending(conn, "screenshot", screen=s["screen"])
                outbox.enqueue(conn, "screenshot", str(uuidlib.uuid4()), {
                    "jurisdiction_code": scope, "screen": s["screen"], "path": s["path"],
                    "taken_at": bundle.iso(now), "width": s["width"], "height": s["height"],
                    "image": base64.b64encode(s["jpeg"]).decode()})
                conn.execute("COMMIT")
            except Exception:
                conn.execute("ROLLBACK")
                raise
            queued += 1
    set_meta(conn, "screens_last_capture", bundle.iso(now))
    return queued, problems


def capture_due(conn, every_minutes: float, now: datetime) -> bool:
    if every_minutes <= 0:
        return False
    last = get_meta(conn, "screens_last_capture")
    try:
        return not last or bundle.parse_iso(last) + timedelta(minutes=every_minutes) <= now
    except ValueError:
        return True


def verify_command(doc, trusted: dict, terminal_id: str, done: set, now: datetime) -> dict:
    """The command's ``signed`` part, or ScreenError when it must not be carried out."""
    if not isinstance(doc, dict) or not isinstance(doc.get("signed"), dict) \
            or not isinstance(doc.get("signatures"), list):
        raise ScreenError("指令格式不正确")
    signed = doc["signed"]
    good, _known = bundle.signature_check(doc, trusted)
    if not good:
        raise ScreenError("指令不是由可信的县级平台密钥签名的")
    if signed.get("type") != COMMAND_TYPE or signed.get("terminal") != terminal_id:
        raise ScreenError("指令不是发给本终端的")
    if signed.get("action") not in ACTIONS or not isinstance(signed.get("id"), int):
        raise ScreenError("未知的指令")
    try:
        if bundle.parse_iso(signed.get("expires")) < now:
            raise ScreenError("指令已过期")
    except ValueError as e:
        raise ScreenError("指令时间无效") from e
    if signed["id"] in done:
        raise ScreenError("指令已执行过")
    return signed


def carry_out(conn, commands: list, trusted: dict, terminal_id: str, scope: str, ports,
              now: datetime) -> int:
    """Carry out the hub's signed commands; each result goes upstream. Returns how many ran."""
    done = set(json.loads(get_meta(conn, "screens_commands_done") or "[]"))
    ran = 0
    for doc in commands:
        try:
            signed = verify_command(doc, trusted, terminal_id, done, now)
        except ScreenError as e:
            log.warning("hub command refused: %s", e)
            continue
        problems: list[str] = []
        if signed["action"] == "screenshot":
            _count, problems = queue_screenshots(conn, scope, ports, now)
        else:
            for port in ports:
                try:
                    reload(port)
                except ScreenError as e:
                    problems.append(str(e))
        done.add(signed["id"])
        conn.execute("BEGIN IMMEDIATE")
        outbox.enqueue(conn, "command_done", _uuid_for(terminal_id, signed["id"]), {
            "jurisdiction_code": scope, "command": signed["id"], "ok": not problems,
            "message": "；".join(problems)[:300]})
        set_meta(conn, "screens_commands_done", json.dumps(sorted(done)[-DONE_KEPT:]))
        conn.execute("COMMIT")
        ran += 1
    return ran


def _uuid_for(terminal_id: str, command_id: int) -> str:
    """The same result record for the same command, however often it is queued."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"kiosk-command:{terminal_id}:{command_id}"))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def screens_round(conn, settings, commands: list, terminal_id: str, now: datetime | None = None) -> bool:
    """In a sync round: carry out the hub's commands and take the periodic screenshots.
    True when something was queued for the hub."""
    from kiosk import config  # noqa: PLC0415  (the settings schema lives with the app)
    cfg = config.read_instance_config(settings.data_dir)
    ports = cfg.get("SCREEN_PORTS", list(DEFAULT_PORTS))
    every = float(cfg.get("SCREENSHOT_MINUTES", DEFAULT_EVERY_MINUTES))
    now = now or utcnow()
    queued = False
    if commands:
        queued = carry_out(conn, commands, settings.trusted, terminal_id, settings.scope, ports, now) > 0
    if ports and capture_due(conn, every, now):
        count, problems = queue_screenshots(conn, settings.scope, ports, now)
        for p in problems:
            log.info("screenshot not taken: %s", p)
        queued = queued or count > 0
    return queued
