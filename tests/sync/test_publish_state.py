"""What a publish round remembers (sync.publish_state): nothing changed → nothing cut and no
new version; any change to anything a bundle carries is published, exactly as a round
without any memory would cut it; manifests near expiry are re-signed."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from sync import bundle, publish, publish_state

from conftest import COUNTY, TOWNSHIP, VILLAGE

PUBLISHED = "status = 'published'"

# One change per noun a bundle carries: an edit, a withdrawal, an insertion or a deletion.
CHANGES = {
    "notice edited": [f"UPDATE notice SET title = title || '（更正）' WHERE id = "
                      f"(SELECT min(id) FROM notice WHERE {PUBLISHED} AND jurisdiction_code = '{VILLAGE}')"],
    "notice withdrawn": [f"UPDATE notice SET status = 'withdrawn' WHERE id = "
                         f"(SELECT max(id) FROM notice WHERE {PUBLISHED})"],
    "notice added": [f"INSERT INTO notice(jurisdiction_code, subject_code, kind, title, body, status, "
                     f"published_at) SELECT jurisdiction_code, subject_code, kind, title || '（续）', body, "
                     f"status, published_at FROM notice WHERE {PUBLISHED} ORDER BY id LIMIT 1"],
    "catalogue item": [f"UPDATE catalogue_item SET basis = basis || '（修订）' WHERE id = "
                       f"(SELECT min(id) FROM catalogue_item WHERE {PUBLISHED})"],
    "village item": [f"UPDATE village_item SET title = title || '（修订）' WHERE id = "
                     f"(SELECT min(id) FROM village_item WHERE {PUBLISHED})"],
    "guide": [f"UPDATE guide SET hours = '周一至周五 9:00-17:00' WHERE id = "
              f"(SELECT min(id) FROM guide WHERE {PUBLISHED})"],
    "handbook": [f"UPDATE handbook SET title = title || '（新版）' WHERE id = "
                 f"(SELECT min(id) FROM handbook WHERE {PUBLISHED})"],
    "handbook guide deleted": ["DELETE FROM handbook_guide WHERE rowid = (SELECT min(rowid) FROM handbook_guide)"],
    "board": ["UPDATE board SET name = name || '（东）' WHERE id = (SELECT min(id) FROM board)"],
    "holidays": ["INSERT INTO holiday_year(year, source, updated_at) VALUES (2031, '国务院办公厅通知', "
                 "'2030-12-01T00:00:00Z')",
                 "INSERT INTO holiday_day(day, year, kind, name) VALUES ('2031-01-01', 2031, 'holiday', '元旦')"],
    "jurisdiction": [f"UPDATE jurisdiction SET name = name || '（更名）' WHERE code = '{VILLAGE}'"],
    "matter": [f"UPDATE matter SET title = title || '（调整）' WHERE id = "
               f"(SELECT min(id) FROM matter WHERE {PUBLISHED})"],
    "consultation": [f"UPDATE consultation SET title = title || '（延期）' WHERE id = "
                     f"(SELECT min(id) FROM consultation WHERE {PUBLISHED})"],
    "attachment": [f"INSERT INTO attachment(notice_id, name, sha256, mime, size) SELECT id, '明细.pdf', "
                   f"'{'ab' * 32}', 'application/pdf', 3 FROM notice WHERE {PUBLISHED} "
                   f"AND jurisdiction_code = '{VILLAGE}' LIMIT 1"],
    "attachment pictures": [
        f"INSERT INTO attachment(notice_id, name, sha256, mime, size) SELECT id, '公示照片.png', "
        f"'{'cd' * 32}', 'image/png', 3 FROM notice WHERE {PUBLISHED} AND jurisdiction_code = '{VILLAGE}' LIMIT 1",
        f"UPDATE attachment SET pictures = '[]' WHERE sha256 = '{'cd' * 32}'"],
    "county name": ["UPDATE meta SET value = value || '（新）' WHERE key = 'county_name'"],
}


def _files(hub, scope: str) -> dict:
    return json.loads(hub.manifest_bytes(scope))["signed"]["files"]


def _cut_without_memory(hub, scope: str) -> dict:
    """The files a round that remembers nothing (no row cache) cuts for ``scope``."""
    conn = hub.conn()
    try:
        pub = publish.Publisher(hub.data_dir, conn)
        snap = publish.Snapshot(conn, seal=pub.seal)
        files = pub.scope_files(snap, scope)
        pub.pending.write()
        return files
    finally:
        conn.close()


def _run(hub, statements) -> None:
    conn = hub.conn()
    try:
        conn.execute("BEGIN")
        for sql in statements:
            assert conn.execute(sql).rowcount >= 1, sql
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_nothing_changed_cuts_nothing_and_makes_no_new_version(hub, monkeypatch):
    hub.publish()                          # the round after the first fills what it remembers
    before = {s: hub.version(s) for s in (COUNTY, TOWNSHIP, VILLAGE)}
    manifest = hub.manifest_bytes(VILLAGE)

    def no_cutting(*_a, **_k):
        raise AssertionError("nothing changed, yet the rows were read again")
    monkeypatch.setattr(publish, "Snapshot", no_cutting)
    results = hub.publish(now=bundle.utcnow() + timedelta(hours=1))
    assert not any(r["changed"] for r in results.values())
    assert {s: hub.version(s) for s in before} == before and hub.manifest_bytes(VILLAGE) == manifest


def test_nothing_changed_near_expiry_re_signs_the_same_files(hub, monkeypatch):
    hub.publish()
    files, version = _files(hub, VILLAGE), hub.version(VILLAGE)
    monkeypatch.setattr(publish, "Snapshot", lambda *_a, **_k: pytest.fail("rows read again"))
    later = bundle.utcnow() + timedelta(hours=25)
    results = hub.publish(now=later)
    assert results[VILLAGE]["changed"] and hub.version(VILLAGE) == version + 1
    signed = json.loads(hub.manifest_bytes(VILLAGE))["signed"]
    assert signed["files"] == files and signed["version"] == version + 1
    assert bundle.parse_iso(signed["expires"]) == later + timedelta(days=publish.DEFAULT_EXPIRY_DAYS)
    index = json.loads((publish.published_dir(hub.data_dir) / "index.json").read_bytes())
    assert {e["scope"]: e["version"] for e in index}[VILLAGE] == version + 1
    # Signed by the hub's key, as every manifest.
    ring = bundle.trusted_keyring([hub.pubkey])
    assert bundle.verify_manifest(json.loads(hub.manifest_bytes(VILLAGE)), ring, VILLAGE, version)


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_change_is_published_as_a_round_without_memory_would(hub, change):
    hub.publish()                          # rows now come from the cache
    before = _files(hub, COUNTY)
    version = hub.version(COUNTY)
    _run(hub, CHANGES[change])
    results = hub.publish()
    assert results[COUNTY]["changed"] and hub.version(COUNTY) == version + 1
    assert _files(hub, COUNTY) != before
    for scope in (COUNTY, TOWNSHIP, VILLAGE):
        assert _files(hub, scope) == _cut_without_memory(hub, scope), scope
    # And the round after it, with nothing more changed, leaves everything as it is.
    assert not any(r["changed"] for r in hub.publish().values())


def test_office_numbers_change_what_is_masked_and_are_followed(hub):
    """Which office numbers may stay readable is not a row of a bundle, but changes rows."""
    hub.publish()
    _run(hub, [f"UPDATE notice SET body = body || '监督电话 0554-4830102' WHERE id = (SELECT min(id) "
               f"FROM notice WHERE {PUBLISHED} AND jurisdiction_code = '{VILLAGE}')"])
    hub.publish()
    _run(hub, ["UPDATE office_phone SET removed_at = '2026-01-01T00:00:00Z' WHERE digits = '05544830102'"])
    hub.publish()
    for scope in (COUNTY, VILLAGE):
        assert _files(hub, scope) == _cut_without_memory(hub, scope)


def test_writes_the_triggers_missed_are_still_published(hub):
    """A table rebuilt by a later migration loses its triggers: the next round remakes them
    and cuts that table afresh, so a write made meanwhile is not missed."""
    hub.publish()
    hub.execute("DROP TRIGGER publish_track_notice_upd")
    version = hub.version(VILLAGE)
    _run(hub, CHANGES["notice edited"])
    assert hub.publish()[VILLAGE]["changed"] and hub.version(VILLAGE) == version + 1
    assert _files(hub, VILLAGE) == _cut_without_memory(hub, VILLAGE)
    conn = hub.conn()
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'publish_track_notice_upd'").fetchone()
    conn.close()


def test_rows_written_while_a_round_reads_are_not_remembered(hub):
    """The cache keeps a row only if nothing was written since the round's snapshot."""
    hub.publish()
    conn = hub.conn()
    try:
        tables = publish.content_tables(conn)
        counter = publish_state.changes(conn)
        cache = publish_state.RowCache.open(conn, publish_state.token(conn, tables), counter)
        cache.fresh.append(("notice", "[999999]", "[999999]"))
        _run(hub, CHANGES["notice edited"])           # a write after the snapshot
        cache.close()
        assert cache.stale
        assert conn.execute("SELECT count(*) FROM publish_row WHERE key = '[999999]'").fetchone()[0] == 0
    finally:
        conn.close()


def test_an_edit_drops_the_rows_cached_form_in_its_own_transaction(hub):
    hub.publish()
    conn = hub.conn()
    try:
        nid = conn.execute(f"SELECT min(id) FROM notice WHERE {PUBLISHED}").fetchone()[0]
        key = json.dumps([nid])
        assert conn.execute("SELECT 1 FROM publish_row WHERE tbl = 'notice' AND key = ?", (key,)).fetchone()
        counter = publish_state.changes(conn)
        conn.execute("UPDATE notice SET title = title || '改' WHERE id = ?", (nid,))
        assert not conn.execute("SELECT 1 FROM publish_row WHERE tbl = 'notice' AND key = ?", (key,)).fetchone()
        assert publish_state.changes(conn) == counter + 1
        conn.execute("UPDATE meta SET value = value WHERE key = 'last_sync'")   # not a shared key
        assert publish_state.changes(conn) == counter + 1
    finally:
        conn.close()


def test_links_to_drafts_are_cleared_until_the_draft_is_published(hub):
    """A notice pointing at a catalogue item still in draft travels without the link (from the
    cache in later rounds); once the item is published the link travels too."""
    conn = hub.conn()
    try:
        item = conn.execute(f"SELECT id FROM catalogue_item WHERE {PUBLISHED} ORDER BY id LIMIT 1").fetchone()[0]
        nid = conn.execute(f"SELECT min(id) FROM notice WHERE {PUBLISHED} AND jurisdiction_code = ?",
                           (VILLAGE,)).fetchone()[0]
        conn.execute("UPDATE catalogue_item SET status = 'draft' WHERE id = ?", (item,))
        conn.execute("UPDATE notice SET item_id = ? WHERE id = ?", (item, nid))
    finally:
        conn.close()

    def sent_item() -> object:
        rows = [r for c in publish.Snapshot(hub.conn()).chunks if c.table.name == "notice" for r in c.rows]
        columns = next(c.table.columns for c in publish.Snapshot(hub.conn()).chunks if c.table.name == "notice")
        return next(r[columns.index("item_id")] for r in rows if r[0] == nid)
    hub.publish()
    _run(hub, [f"UPDATE notice SET title = title || '（另）' WHERE id = (SELECT max(id) FROM notice "
               f"WHERE {PUBLISHED} AND jurisdiction_code = '{VILLAGE}')"])
    hub.publish()                          # the cleared row now comes from the cache
    conn = hub.conn()
    assert conn.execute("SELECT cleared FROM publish_row WHERE tbl = 'notice' AND key = ?",
                        (json.dumps([nid]),)).fetchone()[0]
    conn.close()
    assert sent_item() is None
    assert _files(hub, VILLAGE) == _cut_without_memory(hub, VILLAGE)
    hub.execute("UPDATE catalogue_item SET status = 'published' WHERE id = ?", (item,))
    hub.publish()
    assert sent_item() == item
    assert _files(hub, VILLAGE) == _cut_without_memory(hub, VILLAGE)
