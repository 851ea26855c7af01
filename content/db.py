"""SQLite access: connections, recorded migrations and the per-request handle.

The baseline schema is ``schema.sql`` (version 1); every later change is a file
``migrations/NNNN_name.sql``.  Each step applied is recorded by name with the SHA-256 of
its text in ``schema_migration``, in the same transaction as the step itself, so a
database says exactly which steps it has: missing ones are applied in order (also one
numbered below a step already there, as happens when branches land out of order), and a
recorded step whose file changed or that this program does not know stops the start with
a clear message instead of running on a schema nobody can reason about.
``PRAGMA user_version`` still carries the highest step applied, for whoever reads it.
"""
from __future__ import annotations

import hashlib
import itertools
import re
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from flask import current_app, g

_savepoints = itertools.count(1)
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

RECORD_TABLE = ("CREATE TABLE IF NOT EXISTS schema_migration ("
                "name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL)")

# Databases made before steps were recorded know only their user_version.  Every step up
# to it is taken as applied, except where a probe shows otherwise: 0009 was numbered
# below 0010 but landed after it, so databases made in between have 0010 without 0009.
_LEGACY_PROBES = {
    "0009_sync_speed.sql": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_kind'",
}


class MigrationError(RuntimeError):
    """The database's recorded schema steps do not match this program's (message in Chinese)."""


def connect(path: str | Path) -> sqlite3.Connection:
    """Open the database with the settings every connection needs."""
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    # Deleted and overwritten content is zeroed, not left in free pages: a terminal must not
    # keep an applicant's details on disk after it has scrubbed them (content.retention).
    conn.execute("PRAGMA secure_delete = ON")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    # The search index triggers call these; every connection of ours must have them.
    from . import search  # noqa: PLC0415  (search imports nothing from db)
    search.register_functions(conn)
    return conn


def migrations() -> list[tuple[int, str, str]]:
    """All schema steps as (version, name, sql), version 1 being schema.sql."""
    pkg = resources.files("content")
    steps = [(1, "schema.sql", pkg.joinpath("schema.sql").read_text("utf-8"))]
    folder = pkg.joinpath("migrations")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            steps.append((int(m.group(1)), entry.name, entry.read_text("utf-8")))
    versions = [v for v, _, _ in steps]
    if versions != sorted(set(versions)):
        raise RuntimeError(f"migration numbers must be unique and ordered: {versions}")
    return steps


def latest_version() -> int:
    return migrations()[-1][0]


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _digest(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def _has_record_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                        "AND name = 'schema_migration'").fetchone() is not None


def _record_legacy(conn: sqlite3.Connection, steps) -> None:
    """Record what a database made before recording has, judged by its user_version."""
    current = schema_version(conn)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with immediate(conn):
        conn.execute(RECORD_TABLE)
        for version, name, sql in steps:
            if version > current:
                break
            probe = _LEGACY_PROBES.get(name)
            if probe and conn.execute(probe).fetchone() is None:
                continue
            conn.execute("INSERT INTO schema_migration(name, sha256, applied_at) VALUES (?, ?, ?)",
                         (name, _digest(sql), now))


def applied_migrations(conn: sqlite3.Connection) -> dict[str, str]:
    """Recorded steps: name → SHA-256 of the text that was applied."""
    if not _has_record_table(conn):
        return {}
    return {r[0]: r[1] for r in conn.execute("SELECT name, sha256 FROM schema_migration")}


def check_recorded(recorded: dict[str, str], steps) -> None:
    """Refuse a database whose recorded steps this program does not have unchanged."""
    known = {name: _digest(sql) for _, name, sql in steps}
    for name, digest in sorted(recorded.items()):
        if name not in known:
            raise MigrationError(
                f"数据库已应用迁移 {name}，但本程序没有这个迁移文件：数据库可能来自更新的版本，"
                "请安装与之相符（或更新）的版本后再启动。")
        if known[name] != digest:
            raise MigrationError(
                f"数据库已应用的迁移 {name} 与本程序附带的文件内容不同（文件被修改过），"
                "为避免在未知的表结构上运行，已拒绝启动。请安装未经修改的版本。")


def migrate(conn: sqlite3.Connection, target: int | None = None) -> list[str]:
    """Apply every step not yet recorded (up to ``target``, default all); return their names."""
    steps = migrations()
    if not _has_record_table(conn) and schema_version(conn) > 0:
        _record_legacy(conn, steps)
    recorded = applied_migrations(conn)
    check_recorded(recorded, steps)
    applied = []
    for version, name, sql in steps:
        if name in recorded or (target is not None and version > target):
            continue
        top = max([version] + [v for v, n, _ in steps if n in recorded])
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        # executescript commits first; wrap each step so it lands whole or not at all,
        # together with its record.
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\n;{RECORD_TABLE};\n"
                f"INSERT INTO schema_migration(name, sha256, applied_at) "
                f"VALUES ('{name}', '{_digest(sql)}', '{now}');\n"
                f"PRAGMA user_version = {top};\nCOMMIT;")
        except Exception:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        recorded[name] = _digest(sql)
        applied.append(name)
    return applied


def open_database(path: str | Path) -> sqlite3.Connection:
    """Connect and migrate: what every process does on start."""
    conn = connect(path)
    migrate(conn)
    return conn


def get_db() -> sqlite3.Connection:
    """The request's connection, opened on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app) -> None:
    app.teardown_appcontext(close_db)


def get_meta(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    # An unchanged value is not written: every write to meta bumps its data_version counter,
    # and figures that read meta (content.assessment) would be computed again for nothing.
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value",
        (key, value))


@contextmanager
def immediate(conn: sqlite3.Connection):
    """One write transaction taken at once (BEGIN IMMEDIATE): committed, or rolled back on any error.

    Inside a transaction already open it is a savepoint of it: a step made of several
    steps (a village-list template sent to 300 villages) lands whole or not at all."""
    if conn.in_transaction:
        name = f"step_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class DataVersion:
    """Tells cheaply whether anything was committed: ``PRAGMA data_version`` on a long-lived
    connection that never writes changes exactly when another connection (any thread or
    process: the admin, a sync round) commits to the database. Costs microseconds, so
    caches of rendered output check it on every use."""

    def __init__(self, database: str):
        self.database = database
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def current(self) -> int:
        with self._lock:
            if self._conn is None:
                self._conn = sqlite3.connect(self.database, check_same_thread=False,
                                             isolation_level=None)
            return self._conn.execute("PRAGMA data_version").fetchone()[0]
