"""Online backup of an instance: the data folder as one .tar.gz, the database copied consistently.

The database is copied with SQLite's online backup API, so the service keeps running;
everything else in the data folder (kiosk.toml, secret_key, keys/ with the hub's
signing key, attachments) goes in as it is. The archive is written with mode 0600
because it holds private keys.
"""
from __future__ import annotations

import os
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from . import config

# The live database and SQLite's side files never go into the archive as files.
_SKIP_SUFFIXES = ("-wal", "-shm", "-journal")


def _snapshot(database: Path, target: Path) -> None:
    """Copy a live database with the backup API and check the copy."""
    src = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=1024)
        # A single self-contained file: no WAL side files needed to read it.
        dst.execute("PRAGMA journal_mode = DELETE")
        result = dst.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise RuntimeError(f"备份的数据库检查未通过：{result}")
    finally:
        dst.close()
        src.close()


def make_backup(data_dir: Path, target: Path) -> list[str]:
    """Write ``target`` (.tar.gz) atomically; return the archive's member names."""
    data_dir = data_dir.resolve()
    target = target.expanduser().resolve()
    database = data_dir / config.DATABASE_NAME
    if not (data_dir / config.CONFIG_NAME).exists() or not database.exists():
        raise ValueError(f"{data_dir} 不是已初始化的实例目录（缺少 {config.CONFIG_NAME} 或数据库）")
    if target.is_relative_to(data_dir):
        raise ValueError("备份文件不能放在数据目录里面（否则下次备份会把它也装进去）")
    if not target.parent.is_dir():
        raise ValueError(f"备份目标所在的目录 {target.parent} 不存在")
    names = []
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".kiosk-backup-") as tmp:
        snapshot = Path(tmp) / config.DATABASE_NAME
        _snapshot(database, snapshot)
        partial = Path(tmp) / "archive.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(snapshot, arcname=config.DATABASE_NAME)
            names.append(config.DATABASE_NAME)
            for path in sorted(data_dir.rglob("*")):
                rel = path.relative_to(data_dir).as_posix()
                if (path.is_symlink() or not (path.is_file() or path.is_dir()) or rel == config.DATABASE_NAME
                        or rel.startswith(config.DATABASE_NAME) and rel.endswith(_SKIP_SUFFIXES)
                        or rel.endswith(".tmp")):
                    continue
                # Folders too (not recursively), so keys/ keeps its restrictive mode.
                tar.add(path, arcname=rel, recursive=False)
                names.append(rel)
        os.replace(partial, target)
    _record(database)
    return names


def _record(database: Path) -> None:
    """Note the backup in the instance (the go-live checklist counts the signing key as backed up)."""
    from content import db, golive  # noqa: PLC0415
    conn = db.connect(database)
    try:
        golive.record_backup(conn)
    except sqlite3.Error:
        pass                       # the archive is written; a busy or read-only database only loses the note
    finally:
        conn.close()
