"""Pruning old blobs on the hub; manifest 304s answered before Flask; `kiosk init --trust` checks the key."""
from __future__ import annotations

import json
import os
import time

from click.testing import CliRunner

from kiosk.cli import main
from sync import prune, publish, terminal

from conftest import VILLAGE, applied_version


def _blob_names(hub) -> set[str]:
    return {p.name for p in (publish.published_dir(hub.data_dir) / "blobs").iterdir()}


def _referenced(hub, scope=None) -> set[str]:
    out = set()
    for path in publish.published_dir(hub.data_dir).glob("*/manifest.json"):
        if scope is None or path.parent.name == scope:
            out |= {e["sha256"] for e in json.loads(path.read_bytes())["signed"]["files"].values()}
    return out


def _age_all(hub, hours: float) -> None:
    t = time.time() - hours * 3600
    for path in (publish.published_dir(hub.data_dir) / "blobs").iterdir():
        os.utime(path, (t, t))


def _edit_and_publish(hub, n: int) -> None:
    hub.execute("UPDATE notice SET title = title || ? WHERE jurisdiction_code = ? AND status = 'published'",
                (f"（第{n}次修改）", VILLAGE))
    hub.publish()


def test_prune_keeps_recent_manifests_and_young_blobs(hub):
    v1 = _referenced(hub, VILLAGE)
    _edit_and_publish(hub, 1)
    v2 = _referenced(hub, VILLAGE)
    _edit_and_publish(hub, 2)
    current = _referenced(hub)
    only_v1 = v1 - v2 - current
    assert only_v1 and (v2 - current)
    # Young blobs stay whatever the manifests say (the copy of the oldest manifest goes).
    result = prune.prune(hub.data_dir, keep=2)
    assert result.removed == 0 and result.manifests_dropped > 0
    assert _blob_names(hub) >= v1 | v2 | current
    # Old ones go unless one of the last `keep` manifests names them.
    _age_all(hub, 72)
    conn = hub.conn()
    try:
        result = prune.prune(hub.data_dir, keep=2, conn=conn)
        left = _blob_names(hub)
        assert result.removed >= len(only_v1) and not (only_v1 & left)
        assert (v2 | current) <= left
        # The hub forgot the pruned blobs, so publishing the same rows again writes them anew.
        mapped = {r[0] for r in conn.execute("SELECT sha256 FROM sync_blob_map")}
        assert not (only_v1 & mapped)
    finally:
        conn.close()
    history = sorted(p.stem for p in (prune.history_dir(hub.data_dir) / VILLAGE).glob("*.json"))
    assert len(history) == 2
    result = prune.prune(hub.data_dir, keep=1)
    assert not ((v2 - current) & _blob_names(hub)) and current <= _blob_names(hub)


def test_a_terminal_mid_sync_of_an_older_manifest_completes(hub, term, monkeypatch):
    """The hub publishes twice more and prunes (keeping only its newest manifest) while a
    terminal is downloading the blobs of the manifest it fetched: the grace period keeps them."""
    assert terminal.sync_once(term).ok
    first = applied_version(term)
    _edit_and_publish(hub, 1)
    fetched = hub.version(VILLAGE)
    real_fetch = terminal.fetch_blob
    pruned = []

    def fetch_while_the_hub_moves_on(settings, sha, length, dest):
        if not pruned:
            _edit_and_publish(hub, 2)
            _edit_and_publish(hub, 3)
            pruned.append(prune.prune(hub.data_dir, keep=1))
        return real_fetch(settings, sha, length, dest)
    monkeypatch.setattr(terminal, "fetch_blob", fetch_while_the_hub_moves_on)
    report = terminal.sync_once(term)
    assert report.ok, report.errors
    assert pruned and applied_version(term) == fetched > first
    monkeypatch.undo()
    assert terminal.sync_once(term).ok and applied_version(term) == hub.version(VILLAGE)


def test_prune_blobs_command_and_after_publish(hub):
    _edit_and_publish(hub, 1)
    _edit_and_publish(hub, 2)
    _age_all(hub, 72)
    before = _blob_names(hub)
    runner = CliRunner()
    result = runner.invoke(main, ["prune-blobs", "--data-dir", str(hub.data_dir), "--keep", "1", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "可清理" in result.output and _blob_names(hub) == before
    result = runner.invoke(main, ["prune-blobs", "--data-dir", str(hub.data_dir), "--keep", "1"])
    assert result.exit_code == 0 and "已清理" in result.output
    assert _blob_names(hub) < before and _referenced(hub) <= _blob_names(hub)
    # `kiosk publish` prunes with the defaults (keep 3, 48 h) after a new version.
    _age_all(hub, 72)
    hub.execute("UPDATE guide SET phone = '0554-1234567' WHERE status = 'published'")
    result = runner.invoke(main, ["publish", "--data-dir", str(hub.data_dir)])
    assert result.exit_code == 0 and "已清理" in result.output
    assert _referenced(hub) <= _blob_names(hub)


def test_manifest_304_answered_before_flask(hub):
    client = hub.app.test_client()
    url = f"/sync/v1/{VILLAGE}/manifest.json"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    calls = []
    hub.app.before_request_funcs.setdefault(None, []).insert(0, lambda: calls.append(1))
    try:
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["ETag"] == etag and not calls
        assert "max-age=60" in again.headers["Cache-Control"]
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200 and calls
        index = client.get("/sync/v1/index.json")
        assert client.get("/sync/v1/index.json",
                          headers={"If-None-Match": index.headers["ETag"]}).status_code == 304
        # A new manifest: the old ETag no longer matches.
        _edit_and_publish(hub, 1)
        changed = client.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag
        assert changed.data == hub.manifest_bytes(VILLAGE)
    finally:
        hub.app.before_request_funcs[None].pop(0)


def test_blob_answers_carry_only_download_headers(hub):
    client = hub.app.test_client()
    files = json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"]
    entry = max(files.values(), key=lambda e: e["length"])
    blob = client.get(f"/sync/v1/blobs/{entry['sha256']}")
    assert blob.status_code == 200 and len(blob.data) == entry["length"]
    assert "immutable" in blob.headers["Cache-Control"]
    assert "Content-Security-Policy" not in blob.headers and "Vary" not in blob.headers
    assert sum(len(k) + len(v) + 4 for k, v in blob.headers.items()) < 250
    part = client.get(f"/sync/v1/blobs/{entry['sha256']}", headers={"Range": "bytes=10-"})
    assert part.status_code == 206 and part.data == blob.data[10:]
    assert part.headers["Content-Range"].startswith("bytes 10-")
    # Pages keep their security headers.
    assert "Content-Security-Policy" in client.get("/").headers


def test_init_refuses_a_bad_trusted_key(tmp_path, hub):
    runner = CliRunner()
    for bad in ("not-base64!!", "AAAA", hub.pubkey[:-4] + "AAAA=="):
        target = tmp_path / f"t{len(bad)}"
        result = runner.invoke(main, ["init", "--role", "terminal", "--data-dir", str(target),
                                      "--hub", hub.url, "--scope", VILLAGE, "--trust", bad,
                                      "--enroll", "token"])
        assert result.exit_code != 0
        assert "公钥" in result.output and "public key" in result.output
        assert not target.exists() or not any(target.iterdir())
    good = tmp_path / "good"
    result = runner.invoke(main, ["init", "--role", "terminal", "--data-dir", str(good), "--hub", hub.url,
                                  "--scope", VILLAGE, "--trust", hub.pubkey, "--enroll", "token"])
    assert result.exit_code == 0, result.output
    assert (good / "kiosk.toml").is_file()
