"""SQLite access: connections, numbered migrations and the per-request handle.

The baseline schema is ``schema.sql`` (version 1); every later change is a file
``migrations/NNNN_name.sql`` whose number is the ``PRAGMA user_version`` it
brings the database to.  Migrations run in one transaction each, on start.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from flask import current_app, g

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


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


def migrate(conn: sqlite3.Connection, target: int | None = None) -> list[str]:
    """Bring the database up to ``target`` (default: latest); return the steps applied."""
    current = schema_version(conn)
    applied = []
    for version, name, sql in migrations():
        if version <= current or (target is not None and version > target):
            continue
        # executescript commits first; wrap each step so it lands whole or not at all.
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        except Exception:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
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
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


@contextmanager
def immediate(conn: sqlite3.Connection):
    """One write transaction taken at once (BEGIN IMMEDIATE): committed, or rolled back on any error."""
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
