"""A hub's timer round as a child process of `kiosk serve` (sync.child): publish, then apply
the retention periods (sync.service.purge_expired).

Cutting a county's bundles holds its published rows for a moment (hundreds of MB the first
time), and retention deletes through a year of history; in a child that memory goes back
to the system when the round ends, and a round that fails or crashes leaves the serve
process as it was. The round records a publishing failure for /healthz
(``publish_last_error``); the parent records a crash or a timeout.

Run by ``run_round``; by hand: ``python -m sync.publish_round --data-dir D``.
"""
from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
from pathlib import Path

from content import db

from . import child, prune, publish

log = logging.getLogger("kiosk.sync")

DEFAULT_TIMEOUT = 3600


def round_settings(cfg: dict) -> dict:
    """What a round needs of the hub's settings (kiosk.toml, --config, serve's options)."""
    return {"expiry_days": float(cfg.get("SYNC_EXPIRY_DAYS", publish.DEFAULT_EXPIRY_DAYS)),
            "resign_hours": float(cfg.get("SYNC_RESIGN_HOURS", publish.DEFAULT_RESIGN_HOURS)),
            **prune.settings(cfg)}


def record_error(data_dir: Path, message: str) -> None:
    """Keep a failure for /healthz (cleared by the next good round); never raises."""
    try:
        conn = db.connect(Path(data_dir) / "kiosk.sqlite3")
        try:
            db.set_meta(conn, "publish_last_error", message[:500])
        finally:
            conn.close()
    except Exception:                          # noqa: BLE001
        log.exception("recording the publishing failure failed")


def publish_once(data_dir: Path, settings: dict) -> int:
    """Publish and prune in this process; returns how many scopes got a new version."""
    conn = db.open_database(Path(data_dir) / "kiosk.sqlite3")
    try:
        results = publish.publish_all(data_dir, conn, expiry_days=settings["expiry_days"],
                                      resign_hours=settings["resign_hours"])
        db.set_meta(conn, "publish_last_error", "")
        changed = sum(r["changed"] for r in results)
        if changed:
            log.info("published %d new scope versions", changed)
            pruned = prune.prune(data_dir, conn=conn, keep=settings["keep"],
                                 grace_hours=settings["grace_hours"])
            if pruned.removed:
                log.info("pruned %d unneeded blobs (%d bytes)", pruned.removed, pruned.removed_bytes)
        return changed
    finally:
        conn.close()


def run_round(data_dir: Path, cfg: dict, timeout: float = DEFAULT_TIMEOUT, stop=None) -> bool:
    """One round in a child process; True if it succeeded. ``cfg``: the hub's settings
    (kiosk.toml, --config, serve's options), passed on as JSON."""
    settings = {k: v for k, v in cfg.items() if k.startswith("SYNC_") or k.endswith("_RETENTION_DAYS")}
    result = child.run_child(
        ["sync.publish_round", "--data-dir", str(data_dir), "--settings", json.dumps(settings)],
        timeout, stop, stopped_message="发布被中止（服务停止）",
        timeout_message="发布内容包超时（超过 {timeout} 秒），已中止，下次重试")
    output = f": {result.output}" if result.output else ""
    if result.killed:
        log.error("publish round killed after %.0f s: %s%s", result.seconds, result.killed, output)
        if stop is None or not stop.is_set():
            record_error(data_dir, result.killed)
        return False
    if result.returncode == 0:
        log.info("publish round done in %.1f s%s", result.seconds, output)
        return True
    log.warning("publish round failed (exit %s) after %.1f s%s", result.returncode, result.seconds,
                output)
    if result.returncode != 1:           # 1: the round recorded why; anything else is a crash
        record_error(data_dir, f"发布进程异常退出（代码 {result.returncode}）")
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sync.publish_round",
                                     description="One hub round: publish, then retention (kiosk serve).")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--settings", default="{}", help="The hub's settings as JSON.")
    args = parser.parse_args(argv)
    child.die_with_parent()
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(levelname)s %(message)s")
    data_dir = Path(args.data_dir)
    cfg = json.loads(args.settings)
    status = 0
    if publish.signing_key_path(data_dir).exists():
        try:
            changed = publish_once(data_dir, round_settings(cfg))
            print(f"{changed} scopes got a new version")
        except (Exception, sqlite3.Error) as exc:           # noqa: BLE001  (said and recorded)
            log.exception("publishing failed")
            record_error(data_dir, f"{type(exc).__name__}: {exc}")
            status = 1
    from .service import purge_expired  # noqa: PLC0415  (service starts these rounds)
    purge_expired(data_dir, cfg)
    return status


if __name__ == "__main__":
    sys.exit(main())
