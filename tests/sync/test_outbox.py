"""Outbox: a hub that drops requests, times out after committing and restarts; N records → exactly N stored."""
from __future__ import annotations

import http.client
import http.server
import threading
import time
import uuid

import pytest

from content import outbox
from sync import terminal

from conftest import VILLAGE, set_hub_url, tconn


class FlakyProxy:
    """Forwards to the hub, misbehaving per request as its script says."""

    def __init__(self, target_port: int, script: list[str]):
        self.script = list(script)
        self.log: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                mode = proxy.script.pop(0) if proxy.script else "ok"
                proxy.log.append(mode)
                if mode == "drop":                 # lost on the way: the hub never sees it
                    self.close_connection = True
                    self.connection.close()
                    return
                conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                try:
                    conn.request("POST", self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError:
                    self.close_connection = True
                    self.connection.close()
                    return
                if mode == "timeout":              # committed on the hub, the answer never arrives
                    time.sleep(terminal.TIMEOUT + 1)
                    self.close_connection = True
                    return
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.getheader("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def make_records(path, n: int) -> list[str]:
    """Feedback rows written with their outbox rows in one transaction, plus usage counts."""
    conn = tconn(path)
    notice_id = conn.execute("SELECT id FROM notice LIMIT 1").fetchone()[0]
    ids = []
    for i in range(n):
        rid = str(uuid.uuid4())
        conn.execute("BEGIN IMMEDIATE")
        if i % 5 == 4:
            outbox.enqueue(conn, "usage", rid, {"day": "2026-11-26", "screen": "home", "count": i})
        else:
            rating = ("满意", "基本满意", "不满意")[i % 3]
            conn.execute("INSERT INTO feedback(uuid, jurisdiction_code, target_type, target_id, rating, comment) "
                         "VALUES (?, ?, 'notice', ?, ?, ?)", (rid, VILLAGE, notice_id, rating, f"意见{i}"))
            outbox.enqueue(conn, "feedback", rid, {
                "jurisdiction_code": VILLAGE, "target_type": "notice", "target_id": notice_id,
                "rating": rating, "comment": f"意见{i}"})
        conn.execute("COMMIT")
        ids.append(rid)
    conn.close()
    return ids


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(terminal, "TIMEOUT", 2)
    monkeypatch.setattr(terminal, "_sleep", lambda s: None)


def test_exactly_once_through_a_flaky_hub(hub, term, fast):
    assert terminal.sync_once(term).ok                    # enrolled, content applied
    n = 450
    ids = make_records(term, n)
    proxy = FlakyProxy(hub.server.port, ["drop", "ok", "timeout", "drop", "timeout", "drop",
                                         "ok", "timeout", "timeout", "timeout", "ok"])
    set_hub_url(term, proxy.url)
    rounds = 0
    restarted = False
    try:
        while True:
            conn = tconn(term)
            left = outbox.pending_count(conn)
            conn.close()
            if left == 0:
                break
            rounds += 1
            assert rounds < 40, "outbox never drained"
            if rounds == 3 and not restarted:             # the hub restarts mid-way
                hub.server.stop()
                terminal.sync_once(term, do_pull=False)   # fails: nobody listening
                hub.server.start()
                restarted = True
            terminal.sync_once(term, do_pull=False)
    finally:
        proxy.close()
    assert {"drop", "timeout", "ok"} <= set(proxy.log)
    hconn = hub.conn()
    marks = ",".join("?" for _ in ids)
    assert hconn.execute(f"SELECT count(*) FROM sync_inbox WHERE uuid IN ({marks})", ids).fetchone()[0] == n
    assert hconn.execute("SELECT count(*) FROM sync_inbox").fetchone()[0] == n
    feedback = [i for k, i in enumerate(ids) if k % 5 != 4]
    marks = ",".join("?" for _ in feedback)
    assert hconn.execute(f"SELECT count(*) FROM feedback WHERE uuid IN ({marks})",
                         feedback).fetchone()[0] == len(feedback)
    assert hconn.execute("SELECT count(*) FROM sync_inbox WHERE kind = 'usage' AND stored_in = ''"
                         ).fetchone()[0] == n - len(feedback)
    hconn.close()
    conn = tconn(term)
    assert conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT max(attempts) FROM outbox").fetchone()[0] >= 1
    conn.close()


def test_records_wait_offline_and_survive_restart(hub, term, fast):
    assert terminal.sync_once(term).ok
    ids = make_records(term, 12)
    hub.server.stop()
    for _ in range(3):
        assert not terminal.sync_once(term, do_pull=False).ok
    conn = tconn(term)
    assert outbox.pending_count(conn) == 12               # nothing marked sent without an answer
    conn.close()
    hub.server.start()
    assert terminal.sync_once(term, do_pull=False).ok
    hconn = hub.conn()
    assert hconn.execute("SELECT count(*) FROM sync_inbox").fetchone()[0] == len(ids)
    hconn.close()


def test_enqueue_rides_the_callers_transaction(term):
    conn = tconn(term)
    rid = str(uuid.uuid4())
    conn.execute("BEGIN IMMEDIATE")
    outbox.enqueue(conn, "feedback", rid, {"rating": "满意"})
    conn.execute("ROLLBACK")
    assert outbox.pending_count(conn) == 0
    with pytest.raises(ValueError):
        outbox.enqueue(conn, "feedback", "not-a-uuid", {})
    with pytest.raises(ValueError):
        outbox.enqueue(conn, "Bad Kind", rid, {})
    conn.close()


def test_a_damaged_record_is_set_aside_not_blocking_the_others(term):
    conn = tconn(term)
    try:
        good = [str(uuid.uuid4()) for _ in range(3)]
        conn.execute("BEGIN IMMEDIATE")
        outbox.enqueue(conn, "feedback", good[0], {"n": 0})
        conn.execute("INSERT INTO outbox(uuid, kind, payload) VALUES (?, 'feedback', '[1, 2]')",
                     (str(uuid.uuid4()),))
        outbox.enqueue(conn, "feedback", good[1], {"n": 1})
        outbox.enqueue(conn, "feedback", good[2], {"n": 2})
        conn.execute("COMMIT")
        assert [r["uuid"] for r in outbox.pending(conn)] == good
        row = conn.execute("SELECT rejected, payload FROM outbox WHERE payload = '[1, 2]'").fetchone()
        assert "已损坏" in row[0]                      # kept, marked, for staff to see
        assert [r["uuid"] for r in outbox.pending(conn, 1)] == good[:1]
    finally:
        conn.close()
