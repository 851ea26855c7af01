"""How a terminal applies a bundle: an update decodes only the new files and writes only the
rows that differ from its database; a full load checks the tables' constraints once; both
refuse what breaks them and end in the same state."""
from __future__ import annotations

import json

from sync import apply_tables, bundle, row_texts, terminal

from conftest import (COUNTY, VILLAGE, applied_version, content_digest, make_terminal, set_hub_url,
                      tconn)


def _reference(tmp_path, hub, name: str) -> str:
    """The content a fresh terminal gets from a full load of the hub's current version."""
    path = make_terminal(tmp_path / name, hub.url, [hub.pubkey], None)
    assert terminal.sync_once(path, do_push=False).ok
    assert applied_version(path) == hub.version(VILLAGE)
    return content_digest(path)


def _keys_match_blobs(term, hub, every_digest: bool = True) -> None:
    """sync_applied_file names every applied file with the very keys its blob holds, and (but
    for meta) the digests of its rows' texts as the hub encoded them, in the same order."""
    published = hub.data_dir / "published" / "blobs"
    files = {n: e for n, e in json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"].items()
             if not n.startswith("blob/")}
    conn = tconn(term)
    try:
        rows = {r[0]: tuple(r)[1:] for r in conn.execute(
            "SELECT name, sha256, table_name, row_keys, row_digests FROM sync_applied_file")}
    finally:
        conn.close()
    assert set(rows) == set(files)
    for name, (sha, table, row_keys, row_digests) in rows.items():
        assert sha == files[name]["sha256"]
        obj = bundle.decode_table_blob((published / sha).read_bytes())
        assert table == obj["table"]
        key = [obj["columns"].index(k) for k in obj["key"]]
        expected = [r[key[0]] if len(key) == 1 else [r[i] for i in key] for r in obj["rows"]]
        if table == "meta":
            expected = [k for k in expected if k in terminal.SHARED_META]
        assert json.loads(row_keys) == expected, name
        if table != "meta" and (every_digest or row_digests is not None):
            raw = bundle.decompress_table_blob((published / sha).read_bytes())
            head = raw[:raw.index(b'"rows":[') + len(b'"rows":[')]
            texts = [bundle.encode_row(r)[1:-1] for r in obj["rows"]]
            assert row_digests == b"".join(row_texts.digest(head, t) for t in texts), name


def _spy_apply(monkeypatch, read: list, compared: list, written: list) -> None:
    """Record the blobs read, the rows decoded and compared, and the rows written; an update
    must never reload everything."""
    real_read, real_compare, real_insert = bundle.BlobStore.read, apply_tables.changed_keys, apply_tables.insert

    def spy_read(store, sha):
        read.append(sha)
        return real_read(store, sha)

    def spy_compare(conn, table, names, rows):
        compared.extend((table.name, k) for k in rows)
        return real_compare(conn, table, names, rows)

    def spy_insert(conn, table, names, rows, replace=True):
        rows = list(rows)
        written.extend((table.name, r[names.index(table.key[0])]) for r in rows)
        return real_insert(conn, table, names, rows, replace)

    def no_full_load(*args):
        raise AssertionError("an update must not reload everything")
    monkeypatch.setattr(bundle.BlobStore, "read", spy_read)
    monkeypatch.setattr(apply_tables, "changed_keys", spy_compare)
    monkeypatch.setattr(apply_tables, "insert", spy_insert)
    monkeypatch.setattr(apply_tables, "full_load", no_full_load)


def _published_ids(hub, n: int) -> tuple[list, int]:
    hconn = hub.conn()
    ids = [r[0] for r in hconn.execute(
        "SELECT id FROM notice WHERE status = 'published' AND jurisdiction_code = ? ORDER BY id LIMIT ?",
        (VILLAGE, n))]
    county_notice = hconn.execute("SELECT id FROM notice WHERE status = 'published' AND "
                                  "jurisdiction_code = ? ORDER BY id LIMIT 1", (COUNTY,)).fetchone()[0]
    hconn.close()
    assert len(ids) == n
    return ids, county_notice


def test_update_reads_only_new_files_and_writes_only_changed_rows(hub, term, tmp_path, monkeypatch):
    assert terminal.sync_once(term, do_push=False).ok
    _keys_match_blobs(term, hub)
    (edited, withdrawn, untouched), county_notice = _published_ids(hub, 3)
    before = json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"]
    hub.execute("UPDATE notice SET title = title || '（更正）' WHERE id = ?", (edited,))
    hub.execute("UPDATE notice SET status = 'withdrawn' WHERE id IN (?, ?)", (withdrawn, county_notice))
    hub.publish()
    after = json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"]
    new_shas = {e["sha256"] for n, e in after.items() if before.get(n) != e}
    assert new_shas
    # The old blobs are not needed at all: the rows' keys and text digests are kept.
    for blob in (term / "sync" / "blobs").iterdir():
        blob.unlink()
    conn = tconn(term)
    without = conn.execute("SELECT table_name FROM sync_applied_file WHERE row_digests IS NULL").fetchall()
    conn.close()
    assert [r[0] for r in without] == ["meta"], "every table file keeps its rows' digests (meta is read whole)"

    read, compared, written = [], [], []
    _spy_apply(monkeypatch, read, compared, written)
    assert terminal.sync_once(term, do_push=False).ok
    monkeypatch.undo()

    assert set(read) == new_shas
    # Rows whose text is unchanged (the untouched notice beside the edited one in its file) are
    # neither decoded nor compared: only the edited row is.
    assert [c for c in compared if c[0] == "notice"] == [("notice", edited)]
    assert untouched not in {k for _t, k in compared}
    assert sorted(w for w in written if w[0] == "notice") == [("notice", edited)]
    conn = tconn(term)
    try:
        assert conn.execute("SELECT title FROM notice WHERE id = ?", (edited,)).fetchone()[0].endswith("（更正）")
        assert conn.execute("SELECT count(*) FROM notice WHERE id IN (?, ?)",
                            (withdrawn, county_notice)).fetchone()[0] == 0
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    assert content_digest(term) == _reference(tmp_path, hub, "reference")
    _keys_match_blobs(term, hub)


def test_files_applied_without_row_digests_are_compared_row_by_row(hub, term, tmp_path, monkeypatch):
    """Files recorded without digests (applied before they were kept): their new versions are
    decoded whole and compared with the database, so a row that differs here (damaged locally)
    is put right; afterwards the digests are kept."""
    assert terminal.sync_once(term, do_push=False).ok
    (edited, drifted), _county = _published_ids(hub, 2)
    conn = tconn(term)
    conn.execute("UPDATE sync_applied_file SET row_digests = NULL")
    conn.execute("UPDATE notice SET body = '本机被改动的内容' WHERE id = ?", (drifted,))
    conn.close()
    hub.execute("UPDATE notice SET title = title || '（更正）' WHERE id = ?", (edited,))
    hub.publish()
    read, compared, written = [], [], []
    _spy_apply(monkeypatch, read, compared, written)
    assert terminal.sync_once(term, do_push=False).ok
    monkeypatch.undo()
    assert ("notice", drifted) in compared
    assert sorted(w for w in written if w[0] == "notice") == sorted([("notice", edited), ("notice", drifted)])
    conn = tconn(term)
    try:
        assert conn.execute("SELECT body FROM notice WHERE id = ?", (drifted,)).fetchone()[0] != '本机被改动的内容'
        changed = conn.execute("SELECT count(*) FROM sync_applied_file WHERE row_digests IS NOT NULL").fetchone()[0]
    finally:
        conn.close()
    assert changed > 0
    assert content_digest(term) == _reference(tmp_path, hub, "reference")
    _keys_match_blobs(term, hub, every_digest=False)


def test_files_applied_without_row_keys_make_a_full_load(hub, term, tmp_path, monkeypatch):
    """A terminal upgraded from a version that kept no row keys reloads once, correctly."""
    assert terminal.sync_once(term, do_push=False).ok
    conn = tconn(term)
    conn.execute("UPDATE sync_applied_file SET row_keys = NULL WHERE name LIKE 'notice/%'")
    conn.close()
    hub.execute("UPDATE guide SET phone = '0554-1234567' WHERE status = 'published'")
    hub.publish()
    calls = []
    real = apply_tables.full_load

    def spy(*args):
        calls.append(1)
        return real(*args)
    monkeypatch.setattr(apply_tables, "full_load", spy)
    assert terminal.sync_once(term, do_push=False).ok
    assert calls == [1]
    assert content_digest(term) == _reference(tmp_path, hub, "reference")
    _keys_match_blobs(term, hub)


def _tampered(hub, fake_hub, version_bump: int, change) -> None:
    """Serve the hub's village bundle through ``fake_hub`` with one notice file's rows changed
    by ``change`` (re-encoded, re-hashed and signed with the hub's real key)."""
    manifest = json.loads(hub.manifest_bytes(VILLAGE))
    signed = dict(manifest["signed"], files=dict(manifest["signed"]["files"]))
    signed["version"] += version_bump
    published = hub.data_dir / "published" / "blobs"
    name = next(n for n in sorted(signed["files"]) if n.startswith(f"notice/{VILLAGE}/"))
    obj = bundle.decode_table_blob((published / signed["files"][name]["sha256"]).read_bytes())
    change(obj["columns"], obj["rows"])
    data = bundle.compress(bundle.encode_table_blob(obj["table"], obj["columns"], obj["key"], obj["rows"]))
    signed["files"][name] = {"sha256": bundle.sha256_hex(data), "length": len(data)}
    for entry in signed["files"].values():
        path = published / entry["sha256"]
        fake_hub.routes[f"/sync/v1/blobs/{entry['sha256']}"] = path.read_bytes() if path.exists() else data
    fake_hub.routes[f"/sync/v1/{VILLAGE}/manifest.json"] = json.dumps(
        bundle.sign_manifest(signed, [hub.key])).encode()


def _bad_kind(columns, rows):
    rows[0][columns.index("kind")] = "小道消息"


def _twice(columns, rows):
    rows.append(list(rows[0]))


def test_full_load_refuses_rows_breaking_constraints(hub, fake_hub, tmp_path):
    for label, change, words in (("check", _bad_kind, "约束"), ("duplicate", _twice, "不一致")):
        path = make_terminal(tmp_path / label, fake_hub.url, [hub.pubkey], None)
        _tampered(hub, fake_hub, 0, change)
        report = terminal.sync_once(path, do_push=False)
        assert not report.ok and any(words in e for e in report.errors), report.errors
        assert applied_version(path) is None
        conn = tconn(path)
        try:
            assert conn.execute("SELECT count(*) FROM notice").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM sync_applied_file").fetchone()[0] == 0
        finally:
            conn.close()
        # The faithful hub's bundle is then taken whole.
        set_hub_url(path, hub.url)
        assert terminal.sync_once(path, do_push=False).ok
        assert applied_version(path) == hub.version(VILLAGE)


def test_update_refuses_rows_breaking_constraints(hub, term, fake_hub):
    assert terminal.sync_once(term, do_push=False).ok
    version, digest = applied_version(term), content_digest(term)
    set_hub_url(term, fake_hub.url)
    _tampered(hub, fake_hub, 1, _bad_kind)
    report = terminal.sync_once(term, do_push=False)
    assert not report.ok and any("不一致" in e for e in report.errors), report.errors
    assert (applied_version(term), content_digest(term)) == (version, digest)
