"""Every refusal leaves the terminal at its version, serving; then a faithful hub's newest version is taken."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from kiosk import create_app
from sync import bundle, terminal

from conftest import (OTHER_VILLAGE, VILLAGE, applied_version, content_digest, meta, set_hub_url,
                      tconn)


def resign(manifest: dict, key, **changes) -> bytes:
    signed = dict(manifest["signed"], **changes)
    return json.dumps(bundle.sign_manifest(signed, [key])).encode()


@pytest.fixture
def scene(hub, term, fake_hub):
    """Hub at v1 → terminal follows to v2 → hub moves on to v3 (an edit of a village notice)."""
    v1 = hub.manifest_bytes(VILLAGE)
    hub.execute("UPDATE notice SET body = body || '。' WHERE jurisdiction_code = ? AND id = "
                "(SELECT min(id) FROM notice WHERE jurisdiction_code = ?)", (VILLAGE, VILLAGE))
    hub.publish()
    assert terminal.sync_once(term).ok
    v2 = hub.manifest_bytes(VILLAGE)
    hub.execute("UPDATE notice SET title = title || '（更新）' WHERE jurisdiction_code = ? AND id = "
                "(SELECT max(id) FROM notice WHERE jurisdiction_code = ?)", (VILLAGE, VILLAGE))
    hub.publish()
    v3 = hub.manifest_bytes(VILLAGE)
    m3 = json.loads(v3)
    m2 = json.loads(v2)
    new = {e["sha256"]: e["length"] for n, e in m3["signed"]["files"].items()
           if m2["signed"]["files"].get(n) != e}
    assert len(new) == 1
    set_hub_url(term, fake_hub.url)
    return {"v1": v1, "v2": v2, "v3": v3, "m3": m3, "new_blob": next(iter(new.items())),
            "applied": applied_version(term), "digest": content_digest(term)}


def refused(term, scene, words: str):
    report = terminal.sync_once(term, do_push=False)
    assert not report.ok, "the update should have been refused"
    assert any(words in e for e in report.errors), report.errors
    assert applied_version(term) == scene["applied"]
    assert content_digest(term) == scene["digest"]
    assert words in meta(term, "sync_last_error")
    # Still serving the last good content.
    app = create_app({"DATA_DIR": str(term), "TESTING": True})
    assert app.test_client().get("/").status_code == 200
    assert app.test_client().get("/healthz").get_json()["content_version"] == scene["applied"]


def test_every_refusal_then_faithful_hub(hub, term, fake_hub, scene):
    route = f"/sync/v1/{VILLAGE}/manifest.json"
    m3 = scene["m3"]
    sha, length = scene["new_blob"]
    blob_route = f"/sync/v1/blobs/{sha}"
    blob = (hub.data_dir / "published" / "blobs" / sha).read_bytes()

    # Bad signature: a trusted keyid, but the signature does not match the bytes.
    forged = json.loads(scene["v3"])
    forged["signed"]["files"] = dict(forged["signed"]["files"])
    forged["signed"]["version"] += 100
    fake_hub.routes[route] = json.dumps(forged).encode()
    refused(term, scene, "签名无效")

    sig = bytearray(base64.b64decode(m3["signatures"][0]["sig"]))
    sig[0] ^= 1
    broken = dict(m3, signatures=[{"keyid": m3["signatures"][0]["keyid"],
                                   "sig": base64.b64encode(bytes(sig)).decode()}])
    fake_hub.routes[route] = json.dumps(broken).encode()
    refused(term, scene, "签名无效")

    # Unknown key.
    stranger = bundle.generate_key()
    fake_hub.routes[route] = resign(m3, stranger, version=m3["signed"]["version"] + 5)
    refused(term, scene, "未知密钥")

    # Expired (beyond the clock-skew allowance).
    past = bundle.utcnow() - timedelta(hours=2)
    fake_hub.routes[route] = resign(m3, hub.key, version=m3["signed"]["version"] + 5,
                                    expires=bundle.iso(past))
    refused(term, scene, "过期")

    # Rollback to an older, genuinely signed manifest.
    fake_hub.routes[route] = scene["v1"]
    refused(term, scene, "拒绝回退")

    # Another scope's genuine manifest.
    fake_hub.routes[route] = hub.manifest_bytes(OTHER_VILLAGE)
    refused(term, scene, "其他行政区划")

    # Over the 16 MiB cap (never read past it).
    sent = {}

    def huge(handler):
        handler.send_response(200)
        handler.end_headers()
        chunk = b" " * 65536
        total = 0
        try:
            while total < 64 * 1024 * 1024:
                handler.wfile.write(chunk)
                total += len(chunk)
        except OSError:
            pass
        sent["bytes"] = total
        handler.close_connection = True
    fake_hub.routes[route] = huge
    refused(term, scene, "16 MiB")

    # From here on the manifest is the hub's genuine newest; the blobs misbehave.
    fake_hub.routes[route] = scene["v3"]
    tampered = bytearray(blob)
    tampered[len(tampered) // 2] ^= 0xFF
    fake_hub.routes[blob_route] = bytes(tampered)
    refused(term, scene, "哈希不符")

    def endless(handler):
        handler.send_response(200)
        handler.end_headers()
        try:
            while True:
                handler.wfile.write(blob)
        except OSError:
            pass
        handler.close_connection = True
    fake_hub.routes[blob_route] = endless
    refused(term, scene, "超过清单声明的长度")

    def truncated(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(blob)))
        handler.end_headers()
        handler.wfile.write(blob[: len(blob) // 2])
        handler.close_connection = True
    fake_hub.routes[blob_route] = truncated
    refused(term, scene, "下载")
    partial = term / "sync" / "partial" / sha
    assert partial.exists() and 0 < partial.stat().st_size < length

    # Equal version: the applied manifest again is a no-op, not an error.
    fake_hub.routes[route] = scene["v2"]
    report = terminal.sync_once(term, do_push=False)
    assert report.ok and applied_version(term) == scene["applied"]
    assert content_digest(term) == scene["digest"]

    # Hub down.
    set_hub_url(term, "http://127.0.0.1:9")
    refused(term, scene, "无法连接")

    # The faithful hub: the newest version is taken (the truncated blob resumes from its partial).
    set_hub_url(term, hub.url)
    report = terminal.sync_once(term)
    assert report.ok, report.errors
    assert applied_version(term) == m3["signed"]["version"]
    assert not partial.exists()
    conn = tconn(term)
    assert conn.execute("SELECT count(*) FROM notice WHERE title LIKE '%（更新）'").fetchone()[0] == 1
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert meta(term, "sync_last_error") == ""


def test_range_resume_reads_only_the_rest(hub, term, monkeypatch):
    """A partial download continues with a Range request instead of starting over."""
    assert terminal.sync_once(term).ok
    hub.execute("UPDATE notice SET title = title || '！' WHERE jurisdiction_code = ?", (VILLAGE,))
    hub.publish()
    m = json.loads(hub.manifest_bytes(VILLAGE))
    conn = tconn(term)
    have = {r[0] for r in conn.execute("SELECT sha256 FROM sync_applied_file")}
    conn.close()
    sha, length = next((e["sha256"], e["length"]) for e in m["signed"]["files"].values()
                       if e["sha256"] not in have)
    data = (hub.data_dir / "published" / "blobs" / sha).read_bytes()
    part = term / "sync" / "partial" / sha
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(data[:100])
    ranges = []
    real_get = terminal._get

    def spy(url, headers=None):
        ranges.append((url, (headers or {}).get("Range")))
        return real_get(url, headers)
    monkeypatch.setattr(terminal, "_get", spy)
    assert terminal.sync_once(term, do_push=False).ok
    assert (f"{hub.url}/sync/v1/blobs/{sha}", "bytes=100-") in ranges
    assert applied_version(term) == m["signed"]["version"]


def test_clock_skew_allowance(hub, term, fake_hub):
    """Just expired (within the allowance) is accepted; a terminal clock slightly ahead still works."""
    m = json.loads(hub.manifest_bytes(VILLAGE))
    just = bundle.utcnow() - timedelta(minutes=2)
    fake_hub.routes[f"/sync/v1/{VILLAGE}/manifest.json"] = resign(m, hub.key, expires=bundle.iso(just))
    for name, e in m["signed"]["files"].items():
        fake_hub.routes[f"/sync/v1/blobs/{e['sha256']}"] = \
            (hub.data_dir / "published" / "blobs" / e["sha256"]).read_bytes()
    set_hub_url(term, fake_hub.url)
    report = terminal.sync_once(term, do_push=False)
    assert report.ok, report.errors
    assert applied_version(term) == m["signed"]["version"]
