"""USB delivery: bundles carried on a folder, verified exactly as over HTTP; outboxes back, exactly once."""
from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
from click.testing import CliRunner

from content import outbox
from kiosk.cli import main
from sync import bundle

from conftest import (OTHER_VILLAGE, TOWNSHIP, VILLAGE, applied_version, content_digest, meta,
                      set_hub_url, tconn)
from test_outbox import make_records

DEAD_HUB = "http://127.0.0.1:9"     # nothing listens: the village has no network


def kiosk(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def to_stick(hub, stick, *extra):
    result = kiosk("publish", "--data-dir", hub.data_dir, "--to", stick, *extra)
    assert result.exit_code == 0, result.output
    return result


def from_stick(term, stick):
    return kiosk("sync", "--data-dir", term, "--from", stick)


@pytest.fixture
def offline(term):
    set_hub_url(term, DEAD_HUB)
    return term


@pytest.fixture
def stick(tmp_path):
    return tmp_path / "usb"


def test_a_bundle_on_a_stick_updates_a_terminal_with_no_network(hub, offline, stick, tmp_path):
    to_stick(hub, stick)
    assert json.loads((stick / "index.json").read_text())[0]["scope"]
    assert (stick / VILLAGE / "manifest.json").is_file()
    result = from_stick(offline, stick)
    assert result.exit_code == 0, result.output
    assert applied_version(offline) == hub.version(VILLAGE)
    # The same content a networked terminal of the same village gets.
    from conftest import make_terminal
    online = make_terminal(tmp_path / "online", hub.url, [hub.pubkey], hub.enroll(VILLAGE))
    assert kiosk("sync", "--data-dir", online, "--once").exit_code == 0
    assert content_digest(offline) == content_digest(online)


def test_one_scope_only(hub, offline, stick):
    to_stick(hub, stick, "--scope", VILLAGE)
    assert [e["scope"] for e in json.loads((stick / "index.json").read_text())] == [VILLAGE]
    assert not (stick / TOWNSHIP).exists() and not (stick / OTHER_VILLAGE).exists()
    files = json.loads((stick / VILLAGE / "manifest.json").read_text())["signed"]["files"]
    assert {p.name for p in (stick / "blobs").iterdir()} == {e["sha256"] for e in files.values()}
    assert from_stick(offline, stick).exit_code == 0


def test_scope_needs_to_and_a_known_code(hub, stick):
    assert kiosk("publish", "--data-dir", hub.data_dir, "--scope", VILLAGE).exit_code != 0
    bad = kiosk("publish", "--data-dir", hub.data_dir, "--to", stick, "--scope", "340499999999")
    assert bad.exit_code != 0 and "没有行政区划" in bad.output


def _refused(term, stick, words):
    before, digest = applied_version(term), content_digest(term)
    result = from_stick(term, stick)
    assert result.exit_code == 1, result.output
    assert words in result.output
    assert applied_version(term) == before and content_digest(term) == digest


def test_a_tampered_blob_is_refused(hub, offline, stick):
    to_stick(hub, stick, "--scope", VILLAGE)
    blob = max((stick / "blobs").iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    _refused(offline, stick, "哈希不符")


def test_a_forged_manifest_is_refused(hub, offline, stick):
    to_stick(hub, stick, "--scope", VILLAGE)
    path = stick / VILLAGE / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps(bundle.sign_manifest(manifest["signed"], [bundle.generate_key()])))
    _refused(offline, stick, "可信公钥")


def test_another_scope_is_refused(hub, offline, stick):
    to_stick(hub, stick)
    shutil.copyfile(stick / OTHER_VILLAGE / "manifest.json", stick / VILLAGE / "manifest.json")
    _refused(offline, stick, "其他行政区划")


def test_an_expired_bundle_is_refused(hub, offline, stick):
    to_stick(hub, stick, "--scope", VILLAGE)
    path = stick / VILLAGE / "manifest.json"
    signed = json.loads(path.read_text())["signed"]
    past = bundle.utcnow() - timedelta(days=3)
    signed.update(expires=bundle.iso(past), created=bundle.iso(past - timedelta(days=30)))
    path.write_text(json.dumps(bundle.sign_manifest(signed, [hub.key])))
    _refused(offline, stick, "过期")


def test_an_old_stick_cannot_roll_a_terminal_back(hub, offline, stick, tmp_path):
    to_stick(hub, stick, "--scope", VILLAGE)
    old = tmp_path / "old-stick"
    shutil.copytree(stick, old)
    hub.execute("UPDATE notice SET title = title || '（更新）' WHERE jurisdiction_code = ?", (VILLAGE,))
    to_stick(hub, stick, "--scope", VILLAGE)
    assert from_stick(offline, stick).exit_code == 0
    assert applied_version(offline) == hub.version(VILLAGE)
    _refused(offline, old, "拒绝回退")


def test_no_bundle_for_this_terminal_on_the_stick(hub, offline, stick):
    to_stick(hub, stick, "--scope", OTHER_VILLAGE)
    result = from_stick(offline, stick)
    assert result.exit_code == 1 and "没有本终端" in result.output


def test_records_go_up_on_the_stick_exactly_once(hub, term, stick):
    assert kiosk("sync", "--data-dir", term, "--once").exit_code == 0   # enrolled over the network once
    set_hub_url(term, DEAD_HUB)
    ids = make_records(term, 30)
    to_stick(hub, stick, "--scope", VILLAGE)
    out = from_stick(term, stick)
    assert out.exit_code == 0 and "已将 30 条待上传记录" in out.output
    conn = tconn(term)
    assert outbox.pending_count(conn) == 30          # nothing is sent until the hub says so
    conn.close()
    # At the county: imported, acknowledged; importing the same stick again adds nothing.
    first = to_stick(hub, stick, "--scope", VILLAGE)
    assert "收存 30 条" in first.output
    to_stick(hub, stick, "--scope", VILLAGE)
    hconn = hub.conn()
    marks = ",".join("?" for _ in ids)
    assert hconn.execute(f"SELECT count(*) FROM sync_inbox WHERE uuid IN ({marks})", ids).fetchone()[0] == 30
    assert hconn.execute("SELECT count(*) FROM sync_inbox").fetchone()[0] == 30
    hconn.close()
    # Back in the village: the acknowledgement marks them sent; the next file is empty.
    back = from_stick(term, stick)
    assert back.exit_code == 0 and "确认收到 30 条" in back.output
    conn = tconn(term)
    assert outbox.pending_count(conn) == 0
    conn.close()
    written = json.loads((stick / "outbox" / next((stick / "outbox").iterdir()).name).read_text())
    assert written["signed"]["records"] == []


def test_an_acknowledgement_not_signed_by_the_hub_is_ignored(hub, term, stick):
    assert kiosk("sync", "--data-dir", term, "--once").exit_code == 0
    set_hub_url(term, DEAD_HUB)
    make_records(term, 3)
    to_stick(hub, stick, "--scope", VILLAGE)
    from_stick(term, stick)
    to_stick(hub, stick, "--scope", VILLAGE)
    ack = next((stick / "acks").iterdir())
    signed = json.loads(ack.read_text())["signed"]
    ack.write_text(json.dumps(bundle.sign_manifest(signed, [bundle.generate_key()])))
    out = from_stick(term, stick)
    assert "回执不是由可信" in out.output
    conn = tconn(term)
    assert outbox.pending_count(conn) == 3
    conn.close()


def test_a_forged_outbox_file_is_refused_at_the_hub(hub, term, stick):
    assert kiosk("sync", "--data-dir", term, "--once").exit_code == 0
    set_hub_url(term, DEAD_HUB)
    make_records(term, 2)
    to_stick(hub, stick, "--scope", VILLAGE)
    from_stick(term, stick)
    path = next((stick / "outbox").iterdir())
    doc = json.loads(path.read_text())
    doc["signed"]["records"][0]["payload"]["comment"] = "篡改"
    path.write_text(json.dumps(doc))
    result = kiosk("publish", "--data-dir", hub.data_dir, "--to", stick, "--scope", VILLAGE)
    assert "签名无效" in result.output
    hconn = hub.conn()
    assert hconn.execute("SELECT count(*) FROM sync_inbox").fetchone()[0] == 0
    hconn.close()


def test_a_terminal_that_never_had_a_network_enrols_by_stick(hub, offline, stick):
    to_stick(hub, stick, "--scope", VILLAGE)
    assert from_stick(offline, stick).exit_code == 0        # content first
    make_records(offline, 4)
    assert from_stick(offline, stick).exit_code == 0        # the outbox, with its token
    assert meta(offline, "sync_enrolled") is None
    imported = to_stick(hub, stick, "--scope", VILLAGE)
    assert "收存 4 条" in imported.output
    hconn = hub.conn()
    assert hconn.execute("SELECT scope FROM sync_terminal").fetchone()[0] == VILLAGE
    hconn.close()
    assert from_stick(offline, stick).exit_code == 0
    assert meta(offline, "sync_enrolled") == "1"
    assert not (offline / "keys" / "enroll-token").exists()
    conn = tconn(offline)
    assert outbox.pending_count(conn) == 0
    conn.close()
