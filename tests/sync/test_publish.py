"""Publishing: versions only go up, re-signing before expiry, attachments and boards travel."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from sync import bundle, publish, terminal

from conftest import COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE, tconn


def test_resign_before_expiry_and_versions_only_go_up(hub):
    v = hub.version(VILLAGE)
    now = bundle.utcnow()
    assert not hub.publish(now=now + timedelta(hours=1))[VILLAGE]["changed"]
    results = hub.publish(now=now + timedelta(hours=25))          # re-sign daily
    assert results[VILLAGE]["changed"] and hub.version(VILLAGE) == v + 1
    m = json.loads(hub.manifest_bytes(VILLAGE))["signed"]
    assert bundle.parse_iso(m["expires"]) - bundle.parse_iso(m["created"]) == timedelta(days=7)
    # Losing the hub's own record of versions does not make them go back.
    hub.execute("DELETE FROM sync_scope")
    hub.publish()
    assert hub.version(VILLAGE) == v + 2


def test_scopes_share_county_blobs(hub):
    village = json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"]
    other = json.loads(hub.manifest_bytes(OTHER_VILLAGE))["signed"]["files"]
    township = json.loads(hub.manifest_bytes(TOWNSHIP))["signed"]["files"]
    county = json.loads(hub.manifest_bytes(COUNTY))["signed"]["files"]
    county_notices = {n: e for n, e in village.items() if n.startswith(f"notice/{COUNTY}/")}
    assert county_notices and all(other[n] == e and county[n] == e for n, e in county_notices.items())
    assert not any(n.startswith(f"notice/{VILLAGE}/") for n in other)
    assert any(n.startswith(f"notice/{VILLAGE}/") for n in township)


def test_attachments_and_boards_travel(hub, term):
    """Pictures travel (here: an image stored before pictures existed shows itself); a PDF's
    original never leaves the hub (content.pictures; tests/sync/test_pictures_e2e.py has the rest)."""
    data = b"\x89PNG\r\n\x1a\n demo picture"
    sha = hashlib.sha256(data).hexdigest()
    path = publish.attachment_path(hub.data_dir, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    pdf = b"%PDF-1.4 original\n%%EOF\n"
    pdf_sha = hashlib.sha256(pdf).hexdigest()
    publish.attachment_path(hub.data_dir, pdf_sha).parent.mkdir(parents=True, exist_ok=True)
    publish.attachment_path(hub.data_dir, pdf_sha).write_bytes(pdf)
    hconn = hub.conn()
    notice_id = hconn.execute("SELECT id FROM notice WHERE jurisdiction_code = ? AND status = 'published' "
                              "LIMIT 1", (VILLAGE,)).fetchone()[0]
    other_id = hconn.execute("SELECT id FROM notice WHERE jurisdiction_code = ? AND status = 'published' "
                             "LIMIT 1", (OTHER_VILLAGE,)).fetchone()[0]
    hconn.execute("INSERT INTO attachment(notice_id, name, sha256, mime, size) VALUES (?, '明细.png', ?, "
                  "'image/png', ?)", (notice_id, sha, len(data)))
    hconn.execute("INSERT INTO attachment(notice_id, name, sha256, mime, size) VALUES (?, '原件.pdf', ?, "
                  "'application/pdf', ?)", (notice_id, pdf_sha, len(pdf)))
    hconn.execute("INSERT INTO attachment(notice_id, name, sha256, mime, size) VALUES (?, '别村.pdf', ?, "
                  "'application/pdf', 3)", (other_id, "0" * 64))
    board_sql = ("CREATE TABLE IF NOT EXISTS board (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, "
                 "name TEXT NOT NULL, jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code), "
                 "status TEXT NOT NULL DEFAULT 'published')")
    hconn.execute(board_sql)
    hconn.execute("INSERT INTO board(slug, name, jurisdiction_code) VALUES ('xinghua', '杏花村公示栏', ?)",
                  (VILLAGE,))
    hconn.execute("INSERT INTO board(slug, name, jurisdiction_code) VALUES ('nanmen', '南门公示栏', ?)",
                  (OTHER_VILLAGE,))
    hconn.execute("INSERT INTO board(slug, name, jurisdiction_code, status) VALUES ('draft', '草稿', ?, 'draft')",
                  (VILLAGE,))
    hconn.close()
    tc = tconn(term)
    tc.execute(board_sql)
    tc.close()
    hub.publish()
    files = json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"]
    assert files[f"blob/{sha}"] == {"sha256": sha, "length": len(data)}
    assert f"blob/{pdf_sha}" not in files
    assert terminal.sync_once(term).ok
    assert publish.attachment_path(term, sha).read_bytes() == data
    assert not publish.attachment_path(term, pdf_sha).exists()
    tc = tconn(term)
    assert [r[0] for r in tc.execute("SELECT name FROM attachment ORDER BY id")] == ["明细.png", "原件.pdf"]
    slugs = {r[0] for r in tc.execute("SELECT slug FROM board")}
    assert "xinghua" in slugs and "nanmen" not in slugs and "draft" not in slugs
    hconn = hub.conn()
    expected = {r[0] for r in hconn.execute(
        "SELECT slug FROM board WHERE status = 'published' AND jurisdiction_code IN (?, ?, ?)",
        (COUNTY, TOWNSHIP, VILLAGE))}
    hconn.close()
    assert slugs == expected
    tc.close()


def test_nothing_unmasked_goes_into_a_bundle(hub):
    """Personal data that got past review (here written straight into the database) is
    masked when the hub cuts the bundle; marked office numbers stay readable."""
    idn, mobile = "340421198001011237", "13812345678"
    hconn = hub.conn()
    nid = hconn.execute("SELECT id FROM notice WHERE jurisdiction_code = ? AND status = 'published' "
                        "LIMIT 1", (VILLAGE,)).fetchone()[0]
    hconn.execute(
        "UPDATE notice SET body = ?, publisher = ?, online_url = ?, fields = ?, table_columns = ?, "
        "table_rows = ? WHERE id = ?",
        (f"申请人身份证 {idn[:6]}\u3000{idn[6:]}，监督电话 0554-4830102", f"杏花村 Tel{mobile}",
         f"https://example.invalid/q?sfz={idn}", json.dumps({f"联系{mobile}": "张三"}, ensure_ascii=False),
         json.dumps(["姓名", "证号前段", "证号后段"], ensure_ascii=False),
         json.dumps([["张三丰", idn[:6], idn[6:]]], ensure_ascii=False), nid))
    hconn.commit()
    snap = publish.Snapshot(hconn)
    text = json.dumps([c.rows for c in snap.chunks if c.table.name == "notice"], ensure_ascii=False)
    digits = "".join(ch for ch in text if ch.isdigit())
    assert idn not in digits and mobile not in text and idn[6:] not in text
    assert "0554-4830102" in text                 # a marked office number of the demo county
    assert snap.masked_cells >= 5
