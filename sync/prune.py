"""Hub: remove published blobs no manifest needs any more, safely.

Blobs are immutable and content-addressed, so every edit leaves old ones behind. A blob
is kept if any of the last ``keep`` manifests of any scope names it (the current one and
the ones before it, kept in ``data_dir/sync-history``), or if it is younger than
``grace``: a terminal that fetched an older manifest a moment ago may still be
downloading its blobs, and a publish in progress writes blobs before its manifest.
Pruning holds the publish lock, so it never sees a half-written publish.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from content import db

from . import bundle
from .publish import published_dir, publish_lock

DEFAULT_KEEP = 3               # manifests per scope whose blobs stay
DEFAULT_GRACE_HOURS = 48.0     # anything younger stays too


def history_dir(data_dir: Path) -> Path:
    """Copies of the manifests published before (data_dir/sync-history/<scope>/<version>.json)."""
    return Path(data_dir) / "sync-history"


def history_path(data_dir: Path, scope: str, version: int) -> Path:
    """Where the copy of a manifest published is kept, for ``prune``."""
    return history_dir(data_dir) / scope / f"{int(version)}.json"


def record(data_dir: Path, scope: str, version: int, data: bytes) -> None:
    """Keep a copy of a manifest just published, for ``prune``."""
    bundle.atomic_write(history_path(data_dir, scope, version), data)


@dataclass
class PruneResult:
    kept: int = 0
    removed: int = 0
    removed_bytes: int = 0
    manifests_dropped: int = 0


def _files(data: bytes) -> set[str]:
    try:
        files = json.loads(data)["signed"]["files"]
        return {e["sha256"] for e in files.values() if isinstance(e, dict)
                and isinstance(e.get("sha256"), str)}
    except (ValueError, KeyError, TypeError):
        return set()


def _history(folder: Path) -> list[tuple[int, Path]]:
    out = []
    for path in folder.glob("*.json"):
        if path.stem.isdigit():
            out.append((int(path.stem), path))
    return sorted(out, reverse=True)


def prune(data_dir: Path, keep: int = DEFAULT_KEEP, grace_hours: float = DEFAULT_GRACE_HOURS,
          dry_run: bool = False, conn=None, now: float | None = None) -> PruneResult:
    """Delete unneeded blobs (and manifest copies older than the last ``keep``)."""
    if keep < 1:
        raise ValueError("keep must be at least 1 (the current manifest)")
    data_dir = Path(data_dir)
    out = published_dir(data_dir)
    now = time.time() if now is None else now
    cutoff = now - grace_hours * 3600
    result = PruneResult()
    with publish_lock(data_dir):
        needed: set[str] = set()
        scopes = {p.parent.name for p in out.glob("*/manifest.json")}
        hist = history_dir(data_dir)
        if hist.is_dir():
            scopes |= {p.name for p in hist.iterdir() if p.is_dir()}
        for scope in sorted(scopes):
            current = out / scope / "manifest.json"
            if current.is_file():
                needed |= _files(current.read_bytes())
            versions = _history(hist / scope)
            for _version, path in versions[:keep]:
                needed |= _files(path.read_bytes())
            for _version, path in versions[keep:]:
                result.manifests_dropped += 1
                if not dry_run:
                    path.unlink(missing_ok=True)
        removed = []
        blobs = out / "blobs"
        for path in blobs.iterdir() if blobs.is_dir() else ():
            name = path.name
            if name in needed:
                result.kept += 1
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if st.st_mtime >= cutoff or not path.is_file():
                result.kept += 1
                continue
            # Anything else here is an unreferenced blob or a leftover temporary file.
            result.removed += 1
            result.removed_bytes += st.st_size
            if not dry_run:
                path.unlink(missing_ok=True)
                if bundle.HEX64.match(name):
                    removed.append(name)
        if conn is not None and removed:
            with db.immediate(conn):
                conn.executemany("DELETE FROM sync_blob_map WHERE sha256 = ?", [(s,) for s in removed])
    return result


def settings(cfg: dict) -> dict:
    """keep / grace_hours from the hub's kiosk.toml (sync_prune_keep, sync_prune_grace_hours)."""
    return {"keep": int(cfg.get("SYNC_PRUNE_KEEP", DEFAULT_KEEP)),
            "grace_hours": float(cfg.get("SYNC_PRUNE_GRACE_HOURS", DEFAULT_GRACE_HOURS))}

