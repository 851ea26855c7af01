"""Enrolment, signed upstream requests, the fixed key/token commands, key rotation."""
from __future__ import annotations

import base64
import json
import os
import stat
import time
import urllib.error
import urllib.request
import uuid

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from content import outbox
from kiosk.cli import main
from sync import bundle, publish, terminal
from sync.hub import request_message

from conftest import OTHER_VILLAGE, VILLAGE, applied_version, make_terminal, meta, tconn


def post(url: str, key, path: str, body: dict, *, ts: int | None = None, nonce: str | None = None,
         raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    ts = str(ts if ts is not None else int(time.time()))
    nonce = nonce or os.urandom(16).hex()
    sig = base64.b64encode(key.sign(request_message("POST", path, ts, nonce, data))).decode()
    req = urllib.request.Request(url + path, data=data, method="POST", headers={
        "Content-Type": "application/json", "X-Kiosk-Terminal": bundle.keyid(bundle.raw_public(key)),
        "X-Kiosk-Timestamp": ts, "X-Kiosk-Nonce": nonce, "X-Kiosk-Signature": sig})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_keygen_and_enroll_commands(tmp_path, hub_dir):
    runner = CliRunner()
    fresh = tmp_path / "fresh-hub"
    fresh.mkdir()
    (fresh / "kiosk.toml").write_text('role = "hub"\n')
    result = runner.invoke(main, ["keygen", "--data-dir", str(fresh)])
    assert result.exit_code == 0, result.output
    pem = fresh / "keys" / "signing.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert pem.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")       # PKCS#8
    key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    raw = base64.b64decode(result.output.strip().splitlines()[-1], validate=True)
    assert len(raw) == 32 and raw == bundle.raw_public(key)

    result = runner.invoke(main, ["enroll", "--data-dir", str(hub_dir), "--scope", VILLAGE])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    bad = runner.invoke(main, ["enroll", "--data-dir", str(hub_dir), "--scope", "999999999999"])
    assert bad.exit_code != 0


def test_manifest_format_is_the_fixed_one(hub):
    m = json.loads(hub.manifest_bytes(VILLAGE))
    assert set(m) == {"signed", "signatures"}
    s = m["signed"]
    assert s["type"] == "kiosk-bundle" and s["spec"] == 1 and s["scope"] == VILLAGE
    assert isinstance(s["version"], int) and s["created"].endswith("Z") and s["expires"].endswith("Z")
    assert all(set(e) == {"sha256", "length"} for e in s["files"].values())
    sig = m["signatures"][0]
    assert sig["keyid"] == bundle.keyid(bundle.raw_public(hub.key))
    body = json.dumps(s, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    hub.key.public_key().verify(base64.b64decode(sig["sig"]), body)


def test_token_works_once(hub, term, tmp_path):
    token = hub.enroll(VILLAGE)
    first = make_terminal(tmp_path / "first", hub.url, [hub.pubkey], token)
    assert terminal.sync_once(first).ok
    assert meta(first, "sync_enrolled") == "1"
    assert not (first / "keys" / "enroll-token").exists()
    second = make_terminal(tmp_path / "second", hub.url, [hub.pubkey], token)
    report = terminal.sync_once(second)
    assert not report.ok and any("已被使用" in e for e in report.errors)
    assert applied_version(second) == hub.version(VILLAGE)      # content still follows: it is public
    # A retry by the first terminal with the same key (its answer got lost) is not a second use.
    key = bundle.load_private_key(terminal.key_path(first))
    status, answer = post(hub.url, key, "/sync/v1/enroll", {
        "token": token, "scope": VILLAGE, "public_key": bundle.public_b64(key)})
    assert status == 200 and answer["terminal_id"] == bundle.keyid(bundle.raw_public(key))
    hconn = hub.conn()
    assert hconn.execute("SELECT count(*) FROM sync_terminal").fetchone()[0] == 1
    hconn.close()


def test_token_for_another_scope_is_refused(hub, tmp_path):
    token = hub.enroll(OTHER_VILLAGE)
    t = make_terminal(tmp_path / "t", hub.url, [hub.pubkey], token, scope=VILLAGE)
    report = terminal.sync_once(t)
    assert any("不属于该行政区划" in e for e in report.errors)
    assert meta(t, "sync_enrolled") is None


def test_unenrolled_wrong_scope_replayed_and_stale_requests_refused(hub, term):
    assert terminal.sync_once(term).ok
    key = bundle.load_private_key(terminal.key_path(term))
    hc = hub.conn()
    guide = hc.execute("SELECT id FROM guide WHERE status = 'published' LIMIT 1").fetchone()[0]
    hc.close()
    record = {"uuid": str(uuid.uuid4()), "kind": "feedback",
              "payload": {"jurisdiction_code": VILLAGE, "rating": "满意", "target_type": "guide",
                          "target_id": guide}}
    # Unenrolled terminal.
    stranger = bundle.generate_key()
    status, answer = post(hub.url, stranger, "/sync/v1/inbox", {"scope": VILLAGE, "records": [record]})
    assert status == 403 and "未注册" in answer["error"]
    # Enrolled, but for another scope.
    status, answer = post(hub.url, key, "/sync/v1/inbox", {"scope": OTHER_VILLAGE, "records": [record]})
    assert status == 403
    # A record about another village inside an otherwise good request is refused alone.
    foreign = {"uuid": str(uuid.uuid4()), "kind": "feedback",
               "payload": {"jurisdiction_code": OTHER_VILLAGE, "rating": "满意"}}
    status, answer = post(hub.url, key, "/sync/v1/inbox", {"scope": VILLAGE, "records": [record, foreign]})
    assert status == 200 and answer["held"] == [record["uuid"]]
    assert [r["uuid"] for r in answer["rejected"]] == [foreign["uuid"]]
    # Replay of a signed request, and a stale timestamp.
    body = json.dumps({"scope": VILLAGE, "records": []}).encode()
    nonce = os.urandom(16).hex()
    assert post(hub.url, key, "/sync/v1/inbox", {}, raw=body, nonce=nonce)[0] == 200
    status, answer = post(hub.url, key, "/sync/v1/inbox", {}, raw=body, nonce=nonce)
    assert status == 401 and "重放" in answer["error"]
    status, answer = post(hub.url, key, "/sync/v1/inbox", {}, raw=body, ts=int(time.time()) - 3600)
    assert status == 401
    # A signature over other bytes.
    req = urllib.request.Request(hub.url + "/sync/v1/inbox", data=body + b" ", method="POST", headers={
        "X-Kiosk-Terminal": bundle.keyid(bundle.raw_public(key)), "X-Kiosk-Timestamp": str(int(time.time())),
        "X-Kiosk-Nonce": nonce[::-1], "X-Kiosk-Signature": base64.b64encode(key.sign(b"x")).decode()})
    try:
        urllib.request.urlopen(req)
        raise AssertionError("forged request accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 401
    hconn = hub.conn()
    assert hconn.execute("SELECT count(*) FROM sync_inbox").fetchone()[0] == 1
    hconn.close()


def test_known_kinds_are_filed_once_with_raw_payload(hub, term):
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    rid = str(uuid.uuid4())
    conn.execute("BEGIN IMMEDIATE")
    outbox.enqueue(conn, "application", rid, {
        "receipt_no": "XH-2026-0001", "jurisdiction_code": VILLAGE, "applicant_type": "公民",
        "name": "张三", "phone": "13800000000", "description": "申请公开2026年村级财务收支明细",
        "received_on": "2026-11-26"})
    conn.execute("COMMIT")
    conn.close()
    assert terminal.sync_once(term, do_pull=False).ok
    hconn = hub.conn()
    row = hconn.execute("SELECT * FROM application WHERE uuid = ?", (rid,)).fetchone()
    assert row["name"] == "张三" and row["jurisdiction_code"] == VILLAGE   # its own code only
    inbox = hconn.execute("SELECT * FROM sync_inbox WHERE uuid = ?", (rid,)).fetchone()
    assert inbox["stored_in"] == "application" and json.loads(inbox["payload"])["receipt_no"] == "XH-2026-0001"
    hconn.close()


def test_key_rotation_with_two_trusted_keys(hub, tmp_path):
    runner = CliRunner()
    old_pub = hub.pubkey
    result = runner.invoke(main, ["keygen", "--data-dir", str(hub.data_dir), "--rotate"])
    assert result.exit_code == 0, result.output
    new_pub = result.output.strip().splitlines()[-1]
    assert new_pub != old_pub
    both = make_terminal(tmp_path / "both", hub.url, [old_pub, new_pub], hub.enroll(VILLAGE))
    old_only = make_terminal(tmp_path / "old", hub.url, [old_pub], hub.enroll(VILLAGE))
    new_only = make_terminal(tmp_path / "new", hub.url, [new_pub], hub.enroll(VILLAGE))
    hub.publish(force=True)                       # co-signed by the new key and keys/previous.pem
    m = json.loads(hub.manifest_bytes(VILLAGE))
    assert len(m["signatures"]) == 2
    for t in (both, old_only, new_only):
        assert terminal.sync_once(t).ok, t
    # Rotation done: the old key stops signing; a terminal still trusting only it refuses.
    (publish.keys_dir(hub.data_dir) / "previous.pem").unlink()
    hub.publish(force=True)
    assert len(json.loads(hub.manifest_bytes(VILLAGE))["signatures"]) == 1
    assert terminal.sync_once(both).ok and terminal.sync_once(new_only).ok
    report = terminal.sync_once(old_only, do_push=False)
    assert not report.ok and any("未知密钥" in e for e in report.errors)
    assert applied_version(both) == applied_version(new_only) == hub.version(VILLAGE)
    assert applied_version(old_only) == hub.version(VILLAGE) - 1
    # `kiosk trust` adds the new key on the old terminal; it catches up.
    result = runner.invoke(main, ["trust", "--data-dir", str(old_only), new_pub])
    assert result.exit_code == 0, result.output
    assert terminal.sync_once(old_only).ok
    assert applied_version(old_only) == hub.version(VILLAGE)
