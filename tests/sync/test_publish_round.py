"""The hub's publish round as a child process (sync.publish_round, sync.child): it publishes,
a failure in it is recorded for /healthz, and the serve process goes on unaffected."""
from __future__ import annotations

import json
import os
import time
import urllib.request

from content import db
from sync import child, publish, publish_round
from tests.browser.conftest import LiveServer

from conftest import VILLAGE


def _meta(hub, key):
    conn = hub.conn()
    try:
        return db.get_meta(conn, key)
    finally:
        conn.close()


def test_a_round_in_a_child_publishes_what_changed(hub):
    version = hub.version(VILLAGE)
    hub.execute("UPDATE notice SET title = title || '（更正）' WHERE jurisdiction_code = ?", (VILLAGE,))
    assert publish_round.run_round(hub.data_dir, {})
    assert hub.version(VILLAGE) == version + 1 and _meta(hub, "publish_last_error") == ""
    assert publish_round.run_round(hub.data_dir, {})               # nothing changed: no new version
    assert hub.version(VILLAGE) == version + 1


def test_a_failing_round_is_recorded_and_its_parent_unaffected(hub):
    key = publish.signing_key_path(hub.data_dir)
    good = key.read_bytes()
    key.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    parent = os.getpid()
    assert not publish_round.run_round(hub.data_dir, {})
    assert os.getpid() == parent
    assert "Error" in _meta(hub, "publish_last_error")
    key.write_bytes(good)
    assert publish_round.run_round(hub.data_dir, {}) and _meta(hub, "publish_last_error") == ""


def test_a_crashed_round_is_recorded_by_its_parent(hub, monkeypatch):
    """A child that dies without saying why (here: refused by its own argument parser, exit 2)."""
    real = child.run_child
    monkeypatch.setattr(child, "run_child", lambda args, *a, **k: real([*args, "--no-such-option"], *a, **k))
    assert not publish_round.run_round(hub.data_dir, {})
    assert _meta(hub, "publish_last_error") == "发布进程异常退出（代码 2）"


def test_serve_reports_a_failing_publish_round_and_keeps_serving(hub_dir, tmp_path):
    """`kiosk serve` as a hub: its timer's round fails in the child (a broken key); /healthz
    says so and the server answers on as before."""
    publish.signing_key_path(hub_dir).write_text("not a key")
    conf = tmp_path / "hub-serve.toml"
    conf.write_text("sync_publish_interval = 10\n")
    server = LiveServer(hub_dir, extra_env={"KIOSK_CONFIG": str(conf)}).start(timeout=60)
    try:
        deadline = time.monotonic() + 60
        health = {}
        while time.monotonic() < deadline:
            with urllib.request.urlopen(server.url + "/healthz", timeout=10) as r:
                health = json.loads(r.read())
            if any(reason.startswith("publish_failing") for reason in health.get("reasons", [])):
                break
            time.sleep(0.5)
        assert health["status"] == "degraded", health
        assert any(reason.startswith("publish_failing") for reason in health["reasons"]), health
        assert server.proc.poll() is None
        with urllib.request.urlopen(server.url + "/", timeout=10) as r:
            assert r.status == 200
    finally:
        server.stop()
