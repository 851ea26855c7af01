"""Schema and migrations: from empty and from every earlier version to the latest."""
import sqlite3

import pytest

from content import db


def _schema(conn):
    return sorted(tuple(r) for r in conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


def test_fresh_database_reaches_latest_version(tmp_path):
    conn = db.open_database(tmp_path / "a.sqlite3")
    assert db.schema_version(conn) == db.latest_version()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("start", [v for v, _, _ in db.migrations()])
def test_migrating_from_each_version_gives_the_same_schema(tmp_path, start):
    fresh = db.open_database(tmp_path / "fresh.sqlite3")
    old = db.connect(tmp_path / "old.sqlite3")
    db.migrate(old, target=start)
    assert db.schema_version(old) == start
    # A row written at the old version must survive the upgrade.
    old.execute("INSERT INTO jurisdiction(code, name, level) VALUES ('340499000000', '淮川县', 'county')")
    db.migrate(old)
    assert db.schema_version(old) == db.latest_version()
    assert _schema(old) == _schema(fresh)
    assert old.execute("SELECT name FROM jurisdiction").fetchone()[0] == "淮川县"
    assert old.execute("PRAGMA foreign_key_check").fetchall() == []


def test_migrating_twice_is_a_no_op(tmp_path):
    conn = db.open_database(tmp_path / "a.sqlite3")
    assert db.migrate(conn) == []


def test_a_failing_migration_leaves_the_database_at_its_version(tmp_path, monkeypatch):
    conn = db.connect(tmp_path / "a.sqlite3")
    steps = db.migrations()
    broken = steps + [(steps[-1][0] + 1, "9999_broken.sql",
                       "CREATE TABLE half_done(x); INSERT INTO no_such_table VALUES (1);")]
    db.migrate(conn)
    monkeypatch.setattr(db, "migrations", lambda: broken)
    with pytest.raises(sqlite3.OperationalError):
        db.migrate(conn)
    assert db.schema_version(conn) == steps[-1][0]
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0


def test_jurisdiction_codes_are_checked(tmp_path):
    conn = db.open_database(tmp_path / "a.sqlite3")
    for bad in ("34049900000", "34049900000x", "3404990000000"):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO jurisdiction(code, name, level) VALUES (?, 'x', 'county')", (bad,))


def test_immediate_commits_or_rolls_back_everything(tmp_path):
    conn = db.open_database(tmp_path / "t.db")
    with db.immediate(conn):
        db.set_meta(conn, "kept", "1")
    with pytest.raises(RuntimeError):
        with db.immediate(conn):
            db.set_meta(conn, "lost", "1")
            raise RuntimeError("refused half-way")
    assert db.get_meta(conn, "kept") == "1"
    assert db.get_meta(conn, "lost") is None
    assert not conn.in_transaction
