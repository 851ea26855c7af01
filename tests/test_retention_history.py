"""Operational history at the hub is kept for its retention period, then removed; freed pages
go back to the disk (incremental vacuum)."""
from __future__ import annotations

from datetime import date

from content import display_proof, retention

TODAY = date(2026, 12, 3)


def _count(conn, sql):
    return conn.execute(sql).fetchone()[0]


def test_history_older_than_its_period_goes_and_newer_stays(conn):
    conn.execute("INSERT INTO usage_view(day, terminal, kind, ref_id, views) VALUES "
                 "('2022-01-01', 'local', 'notice', 1, 5), ('2026-11-01', 'local', 'notice', 1, 5)")
    conn.execute("INSERT INTO sync_inbox(uuid, kind, terminal_id, scope, payload, received_at) VALUES "
                 "('00000000-0000-4000-8000-000000000001', 'feedback', 't', '340499100201', '{}', '2024-01-01T00:00:00Z'),"
                 "('00000000-0000-4000-8000-000000000002', 'feedback', 't', '340499100201', '{}', '2026-11-01T00:00:00Z')")
    conn.execute("INSERT INTO audit_log(at, action, entity) VALUES ('2020-01-01T00:00:00Z', 'approve', 'notice'),"
                 "('2026-01-01T00:00:00Z', 'approve', 'notice')")
    conn.execute("INSERT INTO notification(event, dedupe_key, title, created_at) VALUES "
                 "('test', 'old', '旧', '2026-01-01T00:00:00Z'), ('test', 'new', '新', '2026-11-30T00:00:00Z')")
    display_proof.add_hour(conn, "t", "xinghuacun", 1, "2023-01-01T02", 60, 60)
    display_proof.add_hour(conn, "t", "xinghuacun", 1, "2026-11-01T02", 60, 60)
    audit_before = _count(conn, "SELECT count(*) FROM audit_log")
    done = retention.purge_history(conn, TODAY)
    assert done == {"usage": 1, "inbox": 1, "audit": 1, "notification": 1, "display": 1}
    assert _count(conn, "SELECT min(day) FROM usage_view") >= "2023"
    assert _count(conn, "SELECT count(*) FROM sync_inbox") == 1
    assert _count(conn, "SELECT count(*) FROM audit_log") == audit_before - 1
    assert _count(conn, "SELECT title FROM notification") == "新"
    assert _count(conn, "SELECT day FROM display_report") == "2026-11-01"
    assert _count(conn, "PRAGMA auto_vacuum") == 2            # switched to incremental once
    assert retention.purge_history(conn, TODAY) == {"usage": 0, "inbox": 0, "audit": 0, "notification": 0,
                                                      "display": 0}


def test_periods_are_settings(conn):
    conn.execute("INSERT INTO usage_view(day, terminal, kind, ref_id, views) VALUES ('2026-06-01', 'local', 'notice', 1, 5)")
    assert retention.purge_history(conn, TODAY, {"usage": 100})["usage"] == 1


def test_sign_in_records_follow_their_own_period(conn):
    conn.execute("INSERT INTO audit_log(at, action, entity) VALUES ('2020-01-01T00:00:00Z', 'login', 'user')")
    retention.purge_history(conn, TODAY, {"audit": 366})
    assert _count(conn, "SELECT count(*) FROM audit_log WHERE action = 'login' AND at < '2021'") == 1
