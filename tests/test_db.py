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


# --- Recorded migrations -------------------------------------------------------------

def _legacy(path, names):
    """A database as the old runner left it: the given steps applied, user_version set to the
    highest, no record of names."""
    steps = {name: (version, sql) for version, name, sql in db.migrations()}
    conn = db.connect(path)
    for name in names:
        version, sql = steps[name]
        conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
    assert not db._has_record_table(conn)
    return conn


def test_every_applied_step_is_recorded_by_name_with_its_hash(tmp_path):
    conn = db.open_database(tmp_path / "a.sqlite3")
    recorded = db.applied_migrations(conn)
    assert sorted(recorded) == sorted(name for _, name, _ in db.migrations())
    assert recorded["schema.sql"] == db._digest(db.migrations()[0][2])


def test_upgrade_from_the_oldest_schema_made_without_records(tmp_path):
    fresh = db.open_database(tmp_path / "fresh.sqlite3")
    old = _legacy(tmp_path / "old.sqlite3", ["schema.sql"])
    old.execute("INSERT INTO jurisdiction(code, name, level) VALUES ('340499000000', '淮川县', 'county')")
    applied = db.migrate(old)
    assert applied == [name for _, name, _ in db.migrations()[1:]]
    assert _schema(old) == _schema(fresh)
    assert old.execute("SELECT name FROM jurisdiction").fetchone()[0] == "淮川县"


def test_upgrade_from_0010_without_0009(tmp_path):
    """Databases made while 0010 was on main and 0009 not yet: the old runner saw version 10
    and skipped 0009, then failed on 0011 (no such trigger: search_reindex_doc)."""
    names = [name for v, name, _ in db.migrations() if v <= 10 and name != "0009_sync_speed.sql"]
    fresh = db.open_database(tmp_path / "fresh.sqlite3")
    old = _legacy(tmp_path / "old.sqlite3", names)
    assert db.schema_version(old) == 10
    applied = db.migrate(old)
    assert applied[0] == "0009_sync_speed.sql"
    assert "0011_search_scope.sql" in applied
    assert _schema(old) == _schema(fresh)
    assert db.schema_version(old) == db.latest_version()
    assert old.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_step_numbered_below_applied_ones_is_still_applied(tmp_path, monkeypatch):
    """A branch's step that lands after a higher-numbered one is applied, once."""
    steps = db.migrations()
    without = [s for s in steps if s[1] != "0010_bench_indexes.sql"]
    monkeypatch.setattr(db, "migrations", lambda: without)
    conn = db.open_database(tmp_path / "a.sqlite3")
    assert db.schema_version(conn) == steps[-1][0]
    monkeypatch.setattr(db, "migrations", lambda: steps)
    assert db.migrate(conn) == ["0010_bench_indexes.sql"]
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'notice_item'").fetchone()
    assert db.migrate(conn) == []


def test_a_changed_step_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    conn = db.open_database(tmp_path / "a.sqlite3")
    steps = db.migrations()
    changed = [(v, n, sql + "\n-- edited after release\n" if n == "0010_bench_indexes.sql" else sql)
               for v, n, sql in steps]
    monkeypatch.setattr(db, "migrations", lambda: changed)
    with pytest.raises(db.MigrationError, match="0010_bench_indexes.sql.*内容不同"):
        db.migrate(conn)


def test_an_unknown_recorded_step_is_refused(tmp_path, monkeypatch):
    conn = db.open_database(tmp_path / "a.sqlite3")
    steps = db.migrations()
    monkeypatch.setattr(db, "migrations", lambda: steps[:-1])
    with pytest.raises(db.MigrationError, match=steps[-1][1] + ".*没有这个迁移文件"):
        db.migrate(conn)


def test_the_cli_says_why_it_refuses_a_database(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from kiosk.cli import main
    data = tmp_path / "d"
    assert CliRunner().invoke(main, ["init", "--role", "standalone", "--data-dir", str(data)]).exit_code == 0
    conn = db.connect(data / "kiosk.sqlite3")
    conn.execute("INSERT INTO schema_migration(name, sha256, applied_at) VALUES ('9999_future.sql', 'x', 'now')")
    conn.close()
    result = CliRunner().invoke(main, ["user", "passwd", "nobody", "--password-stdin",
                                       "--data-dir", str(data)], input="x\n")
    assert result.exit_code != 0
    assert "9999_future.sql" in result.output and "Traceback" not in result.output
