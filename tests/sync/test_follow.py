"""A village terminal follows its hub over loopback HTTP; incremental syncs move only changed blobs."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from content import jurisdictions
from kiosk import create_app
from sync import terminal

from conftest import COUNTY, TOWNSHIP, VILLAGE, OTHER_VILLAGE, applied_version, meta, tconn


def _published_notices(conn, codes):
    marks = ",".join("?" for _ in codes)
    return sorted(tuple(r) for r in conn.execute(
        f"SELECT id, jurisdiction_code, title, body, status FROM notice "
        f"WHERE status = 'published' AND jurisdiction_code IN ({marks})", codes))


def test_terminal_follows_hub(hub, term):
    report = terminal.sync_once(term)
    assert report.ok, report.errors
    assert applied_version(term) == hub.version(VILLAGE)

    hconn, tc = hub.conn(), tconn(term)
    try:
        codes = jurisdictions.visible_codes(hconn, VILLAGE)
        assert set(codes) >= {COUNTY, TOWNSHIP, VILLAGE} and OTHER_VILLAGE not in codes
        expected = _published_notices(hconn, codes)
        assert expected and _published_notices(tc, codes) == expected
        # Nothing of other villages, no drafts, no staff accounts.
        assert tc.execute("SELECT count(*) FROM notice WHERE jurisdiction_code NOT IN "
                          f"({','.join('?' for _ in codes)})", codes).fetchone()[0] == 0
        assert tc.execute("SELECT count(*) FROM notice WHERE status != 'published'").fetchone()[0] == 0
        assert tc.execute("SELECT count(*) FROM user").fetchone()[0] == 0
        guides = tc.execute("SELECT count(*) FROM guide").fetchone()[0]
        assert guides == hconn.execute(
            f"SELECT count(*) FROM guide WHERE status = 'published' AND jurisdiction_code IN "
            f"({','.join('?' for _ in codes)})", codes).fetchone()[0]
        assert tc.execute("PRAGMA foreign_key_check").fetchall() == []
        assert meta(term, "county_name") == "淮川县" and meta(term, "demo") == "1"
    finally:
        hconn.close()
        tc.close()

    app = create_app({"DATA_DIR": str(term), "TESTING": True})
    health = app.test_client().get("/healthz").get_json()
    assert health["role"] == "terminal"
    assert health["content_version"] == hub.version(VILLAGE)
    assert health["last_sync"] is not None
    home = app.test_client().get("/").get_data(as_text=True)
    assert "信息更新于" in home and "sync-stale" not in home


def test_small_change_moves_only_changed_blobs(hub, term, monkeypatch):
    assert terminal.sync_once(term).ok
    before = json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"]
    hconn = hub.conn()
    notice_id = hconn.execute("SELECT id FROM notice WHERE status = 'published' AND jurisdiction_code = ? "
                              "ORDER BY id LIMIT 1", (VILLAGE,)).fetchone()[0]
    hconn.close()
    hub.execute("UPDATE notice SET title = title || '（更正）' WHERE id = ?", (notice_id,))
    results = hub.publish()
    assert results[VILLAGE]["changed"] and not results[OTHER_VILLAGE]["changed"]
    after = json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"]
    changed = {e["sha256"] for n, e in after.items() if before.get(n) != e}
    assert len(changed) == 1                   # one chunk of the village's notices

    fetched = []
    real_fetch = terminal.fetch_blob

    def counting_fetch(settings, sha, length, dest):
        fetched.append((sha, length))
        return real_fetch(settings, sha, length, dest)
    monkeypatch.setattr(terminal, "fetch_blob", counting_fetch)
    assert terminal.sync_once(term).ok
    assert {s for s, _ in fetched} == changed
    assert sum(n for _, n in fetched) == sum(after[n]["length"] for n in after
                                             if after[n]["sha256"] in changed)
    conn = tconn(term)
    assert conn.execute("SELECT title FROM notice WHERE id = ?", (notice_id,)).fetchone()[0].endswith("（更正）")
    conn.close()
    assert applied_version(term) == hub.version(VILLAGE)


def test_withdrawn_notice_disappears_and_resign_keeps_blobs(hub, term):
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    notice_id = conn.execute("SELECT id FROM notice WHERE jurisdiction_code = ? LIMIT 1",
                             (COUNTY,)).fetchone()[0]
    conn.close()
    hub.execute("UPDATE notice SET status = 'withdrawn' WHERE id = ?", (notice_id,))
    hub.publish()
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    assert conn.execute("SELECT count(*) FROM notice WHERE id = ?", (notice_id,)).fetchone()[0] == 0
    conn.close()
    updated = meta(term, "content_updated")
    version = applied_version(term)
    # A forced re-sign: new version, same files, nothing to download, content date unchanged.
    files_before = json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"]
    hub.publish(force=True)
    assert json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"] == files_before
    assert terminal.sync_once(term).ok
    assert applied_version(term) == version + 1
    assert meta(term, "content_updated") == updated


def test_hub_endpoints(hub):
    base = hub.url + "/sync/v1"
    index = json.loads(urllib.request.urlopen(base + "/index.json").read())
    assert {"scope": VILLAGE, "level": "village", "name": "杏花村",
            "version": hub.version(VILLAGE)} in index
    with urllib.request.urlopen(f"{base}/{VILLAGE}/manifest.json") as r:
        etag = r.headers["ETag"]
        manifest = json.loads(r.read())
        assert "max-age" in r.headers["Cache-Control"]
    assert manifest["signed"]["scope"] == VILLAGE
    req = urllib.request.Request(f"{base}/{VILLAGE}/manifest.json", headers={"If-None-Match": etag})
    try:
        urllib.request.urlopen(req)
        raise AssertionError("expected 304")
    except urllib.error.HTTPError as e:
        assert e.code == 304
    sha, entry = next((e["sha256"], e) for e in manifest["signed"]["files"].values())
    with urllib.request.urlopen(f"{base}/blobs/{sha}") as r:
        data = r.read()
        assert "immutable" in r.headers["Cache-Control"] and "max-age=31536000" in r.headers["Cache-Control"]
    assert len(data) == entry["length"]
    req = urllib.request.Request(f"{base}/blobs/{sha}", headers={"Range": "bytes=10-"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 206 and r.read() == data[10:]
    for bad in ("/blobs/" + "g" * 64, "/blobs/" + sha[:-1], "/blobs/..%2F..%2Fkiosk.toml",
                "/12345/manifest.json", "/..%2Fkeys/manifest.json", "/blobs/../../keys/signing.pem"):
        try:
            urllib.request.urlopen(base + bad)
            raise AssertionError(f"{bad} should be refused")
        except urllib.error.HTTPError as e:
            assert e.code == 404, bad


def test_cli_publish_and_sync(hub, term, tmp_path):
    """The fixed command line: kiosk publish, kiosk sync --once (exit 0 then non-zero when refused)."""
    import subprocess
    import sys
    env_cmd = [sys.executable, "-m", "kiosk"]
    out = subprocess.run(env_cmd + ["publish", "--data-dir", str(hub.data_dir)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    ok = subprocess.run(env_cmd + ["sync", "--data-dir", str(term), "--once"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert applied_version(term) == hub.version(VILLAGE)
    hub.server.stop()
    down = subprocess.run(env_cmd + ["sync", "--data-dir", str(term), "--once"],
                          capture_output=True, text=True, timeout=120)
    assert down.returncode != 0 and "同步失败" in down.stderr
    hub.server.start()
