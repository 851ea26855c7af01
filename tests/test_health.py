"""/healthz says degraded with reasons when something is wrong; /metrics in Prometheus format."""
from __future__ import annotations

from collections import namedtuple
from datetime import datetime, timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families

from content import db, outbox
from kiosk import create_app, health


def _health(app):
    return app.test_client().get("/healthz").get_json()


def _terminal(data_dir, **extra):
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True, "ROLE": "terminal", **extra})


def _synced(conn, hours_ago=1):
    when = (datetime.now(timezone.utc) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    db.set_meta(conn, "last_sync", when)
    db.set_meta(conn, "sync_last_error", "")


def test_a_well_terminal_is_ok(data_dir, conn):
    _synced(conn)
    data = _health(_terminal(data_dir))
    assert data["status"] == "ok" and data["reasons"] == []


def test_a_terminal_whose_sync_fails_is_degraded(data_dir, conn):
    _synced(conn)
    db.set_meta(conn, "sync_last_error", "连接县级平台超时")
    data = _health(_terminal(data_dir))
    assert data["status"] == "degraded"
    assert any(r.startswith("sync_failing:") and "超时" in r for r in data["reasons"])


def test_stale_content_is_degraded(data_dir, conn):
    _synced(conn, hours_ago=100)
    data = _health(_terminal(data_dir, STALE_HOURS=72))
    assert [r.split(":")[0] for r in data["reasons"]] == ["content_stale"]
    _synced(conn, hours_ago=1)
    assert _health(_terminal(data_dir, STALE_HOURS=72))["status"] == "ok"


def test_a_terminal_never_synced_is_degraded(data_dir):
    data = _health(_terminal(data_dir))
    assert "content_stale" in [r.split(":")[0] for r in data["reasons"]]


def test_an_outbox_backing_up_is_degraded(data_dir, conn):
    _synced(conn)
    with db.immediate(conn):
        for i in range(health.OUTBOX_BACKLOG + 1):
            outbox.enqueue(conn, "feedback", f"00000000-0000-4000-8000-{i:012d}", {"n": i})
    data = _health(_terminal(data_dir))
    assert any(r.startswith("outbox_backlog:") and f"{health.OUTBOX_BACKLOG + 1} 条" in r
               for r in data["reasons"])


def test_an_old_pending_record_is_a_backlog_too(data_dir, conn):
    _synced(conn)
    outbox.enqueue(conn, "feedback", "00000000-0000-4000-8000-000000000001", {"n": 1})
    conn.execute("UPDATE outbox SET created_at = '2020-01-01T00:00:00Z'")
    assert "outbox_backlog" in [r.split(":")[0] for r in _health(_terminal(data_dir))["reasons"]]


def test_a_nearly_full_disk_is_degraded(data_dir, conn, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(health.shutil, "disk_usage", lambda _p: usage(10**11, 10**11 - 10**8, 10**8))
    data = _health(create_app({"DATA_DIR": str(data_dir), "TESTING": True}))
    assert data["status"] == "degraded"
    assert [r.split(":")[0] for r in data["reasons"]] == ["disk_low"]


def test_a_hub_whose_publishing_fails_is_degraded(data_dir, conn):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "ROLE": "hub"})
    assert _health(app)["status"] == "ok"
    db.set_meta(conn, "publish_last_error", "PermissionError: published/")
    assert _health(app)["reasons"] == ["publish_failing: 发布内容包失败：PermissionError: published/"]


def test_the_hub_timer_records_and_clears_a_publishing_failure(data_dir, conn, monkeypatch):
    """The round runs in a child process (sync.publish_round): its failure (here an unreadable
    signing key) is recorded for /healthz, the timer goes on, and the next good round clears it."""
    import threading

    from sync import bundle, publish, service
    key = publish.signing_key_path(data_dir)
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("not a key")
    stop = threading.Event()
    seen = []

    def between_rounds(*_a, **_k):
        seen.append(db.get_meta(conn, "publish_last_error"))
        if len(seen) == 2:            # after the failing round: a good key for the next one
            bundle.save_private_key(bundle.generate_key(), key)
        elif len(seen) == 3:
            stop.set()
    monkeypatch.setattr(service, "_wait_or_urgent", between_rounds)
    service.hub_loop(data_dir, {}, stop)
    assert seen[0] in (None, "") and "Error" in seen[1]    # the first wait, then one after each round
    assert seen[2] == "" and db.get_meta(conn, "publish_last_error") == ""
    assert (publish.published_dir(data_dir) / "index.json").exists()


def _families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_in_prometheus_format(data_dir, conn):
    _synced(conn)
    app = _terminal(data_dir)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/notices").status_code == 200
    client.get("/notices/999999999")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    fams = _families(r.get_data(as_text=True))
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in fams.values() for s in f.samples}
    assert samples[("kiosk_http_requests_total",
                    (("method", "GET"), ("route", "/notices"), ("status", "200")))] == 3
    assert samples[("kiosk_http_requests_total",
                    (("method", "GET"), ("route", "/notices/<id:notice_id>"), ("status", "404")))] == 1
    assert samples[("kiosk_http_request_duration_seconds_count", (("route", "/notices"),))] == 3
    assert samples[("kiosk_info", (("role", "terminal"),))] == 1
    assert samples[("kiosk_content_version", ())] == 1
    assert samples[("kiosk_outbox_pending", ())] == 0
    assert samples[("kiosk_degraded", ())] == 0
    assert samples[("kiosk_last_sync_timestamp_seconds", ())] > 0
    db.set_meta(conn, "sync_last_error", "x")
    fams = _families(client.get("/metrics").get_data(as_text=True))
    assert fams["kiosk_degraded"].samples[0].value == 1


def test_metrics_count_board_polls_and_page_cache_hits(data_dir, conn):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "PAGE_CACHE_IN_TESTS": True})
    client = app.test_client()
    slug = conn.execute("SELECT slug FROM board WHERE status = 'published' LIMIT 1").fetchone()[0]
    client.get(f"/display/{slug}/slides")
    client.get(f"/display/{slug}/slides")
    client.get("/notices")
    client.get("/notices")   # the second is a page-cache hit, answered before other hooks
    fams = _families(client.get("/metrics").get_data(as_text=True))
    assert fams["kiosk_board_polls"].samples[0].value == 2
    notices = [s for s in fams["kiosk_http_requests"].samples
               if s.name == "kiosk_http_requests_total" and s.labels["route"] == "/notices"]
    assert notices[0].value == 2


def test_hub_metrics_show_the_notification_queue(data_dir, conn):
    from content import notifications
    conn.execute("INSERT INTO notify_channel(kind, target, jurisdiction_code) VALUES ('wecom', 'https://x.example/h', "
                 "'340499000000')")
    for key in ("a", "b"):
        notifications.raise_event(conn, "terminal_silent", key, "340499100201", notifications.Message("t", "b"))
    conn.execute("UPDATE notify_delivery SET status = 'failed' WHERE id = (SELECT min(id) FROM notify_delivery)")
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "ROLE": "hub"})
    fams = _families(app.test_client().get("/metrics").get_data(as_text=True))
    assert {s.labels["state"]: s.value for s in fams["kiosk_notifications"].samples} == \
        {"pending": 1, "digest": 0, "failed": 1}


def test_hub_metrics_count_terminals(data_dir, conn):
    now = datetime.now(timezone.utc)
    code = conn.execute("SELECT code FROM jurisdiction WHERE level = 'village' LIMIT 1").fetchone()[0]
    for i, hours in enumerate((0.5, 10, 100)):
        conn.execute("INSERT INTO sync_terminal(id, public_key, scope, last_contact) VALUES (?, 'k', ?, ?)",
                     (f"{i:064d}", code, (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")))
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "ROLE": "hub"})
    fams = _families(app.test_client().get("/metrics").get_data(as_text=True))
    seen = {s.labels["seen"]: s.value for s in fams["kiosk_terminals"].samples}
    assert seen == {"1h": 1, "24h": 2, "72h": 2, "ever": 3}


def test_access_log_has_no_query_string(data_dir, caplog):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    with caplog.at_level("INFO", logger="kiosk.access"):
        app.test_client().get("/search?q=张三丰")
    lines = [r.getMessage() for r in caplog.records if r.name == "kiosk.access"]
    assert len(lines) == 1 and '"GET /search HTTP/1.1" 200' in lines[0]
    assert "张三" not in lines[0] and "q=" not in lines[0]
