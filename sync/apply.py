"""Applying a verified bundle on a terminal: in one SQLite transaction, the content tables
(sync.apply_tables), the search index of what changed, and the record of what is applied.
A failure leaves the applied content as it was. Then the housekeeping after a commit."""
from __future__ import annotations

import logging
import os
import sqlite3
from datetime import datetime
from pathlib import Path

from content import db, search
from content.db import get_meta, set_meta

from . import apply_tables, bundle, pictures, state
from .publish import CONTENT_TABLES
from .state import SyncError, blob_cache

log = logging.getLogger("kiosk.sync")

# A full load with more searchable documents than this commits the content first and builds
# the search index right after, in batches (search.index_pending); smaller ones index inside
# the apply transaction.
INLINE_INDEX_DOCS = int(os.environ.get("KIOSK_SYNC_INLINE_INDEX_DOCS", "20000"))
INDEX_BATCH = int(os.environ.get("KIOSK_SYNC_INDEX_BATCH", str(search.BATCH)))   # per transaction


def apply_bundle(conn: sqlite3.Connection, data_dir: Path, signed: dict, etag: str | None,
                 now: datetime) -> bool:
    """Apply a verified bundle whose blobs are all present, in one transaction; True if content changed."""
    cache = blob_cache(data_dir)
    tables = apply_tables.local_tables(conn)
    order = {name: i for i, name in enumerate(CONTENT_TABLES + ("meta",))}
    new = {n: e for n, e in signed["files"].items() if not n.startswith("blob/")}
    old_files = {r[0]: tuple(r)[1:] for r in conn.execute(
        "SELECT name, sha256, table_name, row_keys, row_digests FROM sync_applied_file")}
    old = {n: f[0] for n, f in old_files.items()}
    schema = str(db.schema_version(conn))
    # The old files' blobs are not needed: their tables, row keys and row digests are kept.
    full = (not old or get_meta(conn, "sync_schema") != schema
            or any(f[1] not in tables or f[2] is None for f in old_files.values()))
    remove = [] if full else [n for n, sha in old.items() if new.get(n, {}).get("sha256") != sha]
    add = list(new) if full else [n for n, e in new.items() if old.get(n) != e["sha256"]]
    add.sort(key=lambda n: (order.get(n.split("/")[0], 99), n))
    pictures.install(data_dir, signed["files"], cache)
    state.hook("begin")
    conn.execute("PRAGMA cache_size = -65536")   # 64 MiB: index updates of a big apply stay in memory
    # The WAL is checkpointed right after the apply (checkpoint_after_apply), not inside its
    # COMMIT: the new content is shown without waiting for the copy into the database file.
    autocheckpoint = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    if full:
        conn.execute("PRAGMA foreign_keys = OFF")  # a full load checks references once, at the end
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("PRAGMA defer_foreign_keys = ON")
        # The per-row index triggers are paused; the changed documents are indexed set-based.
        with search.paused(conn):
            if full:
                applied = apply_tables.full_load(conn, cache, tables, new, add)
                if search.queue_all(conn) <= INLINE_INDEX_DOCS:
                    search.index_pending(conn, None)
            else:
                touched, applied = apply_tables.incremental(conn, cache, tables, old_files, new, remove, add)
                search.index_docs(conn, touched)
        state.hook("search indexed or queued")
        # Only the files that changed: the rest of the record stands.
        if full:
            conn.execute("DELETE FROM sync_applied_file")
        else:
            conn.executemany("DELETE FROM sync_applied_file WHERE name = ?", [(n,) for n in remove])
        conn.executemany(
            "INSERT INTO sync_applied_file(name, sha256, length, table_name, row_keys, row_digests) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(n, new[n]["sha256"], new[n]["length"], *applied[n]) for n in add])
        changed = bool(add or remove)
        set_meta(conn, "content_version", str(signed["version"]))
        set_meta(conn, "sync_expires", signed["expires"])
        set_meta(conn, "sync_etag", etag)
        set_meta(conn, "sync_schema", schema)
        set_meta(conn, "last_sync", bundle.iso(now))
        set_meta(conn, "sync_last_error", "")
        if changed or get_meta(conn, "content_updated") is None:
            set_meta(conn, "content_updated",
                     now.astimezone().strftime("%Y-%m-%d %H:%M"))
        state.hook("before commit")
        conn.execute("COMMIT")
    except sqlite3.IntegrityError as e:
        conn.execute("ROLLBACK")
        raise SyncError(f"内容包与本机数据不一致，未应用：{e}") from e
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")
    state.hook("committed")
    return changed


def checkpoint_after_apply(conn: sqlite3.Connection) -> None:
    """Copy the applied pages from the WAL into the database file (PASSIVE: readers are never
    blocked); what the apply's COMMIT would otherwise have done before returning."""
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error:
        log.warning("checkpoint after apply failed; SQLite retries at its next commit", exc_info=True)


def drop_unused_blobs(data_dir: Path, signed: dict) -> None:
    """After an apply: the downloaded files and pictures the applied bundle no longer names
    (housekeeping; the content is already committed and shown)."""
    keep_blobs = {e["sha256"] for n, e in signed["files"].items() if not n.startswith("blob/")}
    for path in blob_cache(data_dir).root.glob("*"):
        if path.name not in keep_blobs:
            path.unlink(missing_ok=True)
    pictures.prune(data_dir, signed["files"])


def finish_search_index(conn: sqlite3.Connection) -> int:
    """Index what a big full load queued, a batch per transaction; return how many documents.

    Until it is done search finds fewer documents, never stale or foreign ones: the load
    emptied the index in its own transaction.  Interrupted, it resumes at the next round.
    """
    done = 0
    while count := search.index_pending(conn, INDEX_BATCH):
        done += count
        state.hook("search batch")
    return done
