"""Terminal → hub: the outbox pushed in signed batches, with a heartbeat of the terminal's state.

What the hub acknowledges is marked sent in the same transaction that scrubs the terminal's
copy of it (content.retention): an applicant's name, ID number and phone leave the
terminal's disk once the hub holds them.
"""
from __future__ import annotations

import logging
import random
import shutil
import sqlite3
from datetime import date

from content import outbox, retention, usage
from content.db import get_meta

from . import bundle, terminal

log = logging.getLogger("kiosk.sync")


def status(conn: sqlite3.Connection, settings: terminal.Settings) -> dict:
    version = get_meta(conn, "content_version")
    try:
        free = shutil.disk_usage(settings.data_dir).free
    except OSError:
        free = None
    return {"applied_version": int(version) if version and version.isdigit() else None,
            "app_version": terminal.app_version(), "free_disk": free, "interval": int(settings.interval),
            "last_sync": get_meta(conn, "last_sync"), "last_error": get_meta(conn, "sync_last_error"),
            "outbox_pending": outbox.pending_count(conn)}


def queue_usage(conn: sqlite3.Connection, today: date | None = None) -> None:
    """Queue the daily view totals the hub lacks; a failure here never holds up the records."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        usage.queue_upstream(conn, today or date.today())
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        log.exception("usage totals not queued")


def push(conn: sqlite3.Connection, settings: terminal.Settings, key, commands: list | None = None) -> int:
    """Send the outbox in batches (and a heartbeat); return how many records the hub now holds.
    The hub's signed commands in its answers (remote view) are added to ``commands``."""
    terminal.ensure_enrolled(conn, settings, key)
    queue_usage(conn)
    if kept := retention.sent_but_kept(conn):
        conn.execute("BEGIN IMMEDIATE")
        retention.after_hub_holds(conn, kept, bundle.iso(bundle.utcnow()))
        conn.execute("COMMIT")
        retention.checkpoint(conn)
    sent = 0
    while True:
        batch = outbox.pending(conn, terminal.PUSH_BATCH)
        body = {"scope": settings.scope, "status": status(conn, settings), "records": batch}
        answer = None
        for attempt in range(terminal.PUSH_ATTEMPTS):
            try:
                answer = terminal._signed_post(settings, key, "/sync/v1/inbox", body)
                break
            except terminal.HubRefused as e:
                if e.status < 500:
                    raise
                error = e
            except terminal.SyncError as e:
                error = e
            if batch:
                conn.execute("BEGIN IMMEDIATE")
                outbox.mark_attempt(conn, [r["uuid"] for r in batch])
                conn.execute("COMMIT")
            if attempt + 1 < terminal.PUSH_ATTEMPTS:
                terminal._sleep(min(30.0, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.5))
        if answer is None:
            raise terminal.SyncError(f"上传记录失败（已重试 {terminal.PUSH_ATTEMPTS} 次）：{error}")
        ids = {r["uuid"] for r in batch}
        if commands is not None and isinstance(answer.get("commands"), list):
            commands.extend(answer["commands"][:20])
        held = [u for u in answer.get("held", []) if isinstance(u, str) and u in ids]
        rejected = [r for r in answer.get("rejected", [])
                    if isinstance(r, dict) and r.get("uuid") in ids]
        when = bundle.iso(bundle.utcnow())
        conn.execute("BEGIN IMMEDIATE")
        outbox.mark_sent(conn, held, when)
        # The hub holds them now: nothing personal of them stays on this terminal.
        retention.after_hub_holds(conn, held, when)
        for r in rejected:
            outbox.mark_rejected(conn, r["uuid"], str(r.get("reason", "")))
            log.warning("hub refused record %s: %s", r["uuid"], r.get("reason"))
        conn.execute("COMMIT")
        if held:
            retention.checkpoint(conn)
        sent += len(held)
        if len(batch) < terminal.PUSH_BATCH or not (held or rejected):
            return sent
