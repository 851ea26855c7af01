"""The search index sync builds (paused triggers, set-based, deferred for big full loads) is
exactly the one the per-row triggers build, and a terminal never shows a stale entry."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date

from content import db, search
from kiosk import config
from sync import apply, state, terminal

from conftest import COUNTY, make_terminal, tconn

INDEX = ("search_fts", "search_short", "search_meta")


def snapshot(conn) -> dict:
    return {t: sorted(tuple(r) for r in conn.execute(f"SELECT rowid, * FROM {t}")) for t in INDEX}


def trigger_built(path) -> dict:
    """The index the per-row triggers give for a database's content (on a copy)."""
    copy = path.parent / (path.name + "-triggers")
    shutil.copytree(path, copy)
    conn = tconn(copy)
    try:
        conn.execute("BEGIN IMMEDIATE")
        search.clear(conn)
        for table in search.SOURCE_TABLES:
            conn.execute(f"UPDATE {table} SET id = id")      # fires every row's update trigger
        conn.execute("COMMIT")
        return snapshot(conn)
    finally:
        conn.close()
        shutil.rmtree(copy)


def no_stale_entries(conn) -> bool:
    """Every index entry is a published row as it is now (never an old or foreign one)."""
    return conn.execute(
        "SELECT count(*) FROM search_meta m LEFT JOIN search_src s ON s.doc_id = m.id "
        "WHERE s.doc_id IS NULL OR s.label IS NOT m.label OR s.code IS NOT m.code").fetchone()[0] == 0


def test_kind_table_matches_the_code(demo_template):
    conn = db.connect(demo_template / config.DATABASE_NAME)
    try:
        rows = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT kind, base, table_name FROM search_kind")}
    finally:
        conn.close()
    assert rows == {kind: (search.KIND_BASE[kind], table) for table, kind in search.SOURCE_TABLES.items()}


def test_bulk_paths_equal_the_trigger_built_index_on_the_demo(tmp_path, demo_template):
    path = tmp_path / "demo"
    shutil.copytree(demo_template, path)
    conn = tconn(path)
    try:
        built_by_triggers = snapshot(conn)      # build_demo wrote every row through the triggers
        assert len(built_by_triggers["search_meta"]) > 100
        assert search.rebuild(conn) == len(built_by_triggers["search_meta"])
        assert snapshot(conn) == built_by_triggers
        conn.execute("BEGIN IMMEDIATE")
        queued = search.queue_all(conn)
        assert snapshot(conn) == {t: [] for t in INDEX}
        conn.execute("COMMIT")
        while search.index_pending(conn, 37):
            assert no_stale_entries(conn)
        assert queued >= len(built_by_triggers["search_meta"]) and search.pending_count(conn) == 0
        assert snapshot(conn) == built_by_triggers
        conn.execute("BEGIN IMMEDIATE")
        with search.paused(conn):
            conn.execute("UPDATE notice SET title = title || '（更正）'")
            assert snapshot(conn) == built_by_triggers           # paused: untouched
            search.index_docs(conn, search.doc_ids(conn, "notice", [r[0] for r in conn.execute(
                "SELECT id FROM notice")]))
        assert conn.execute("SELECT count(*) FROM search_pause").fetchone()[0] == 0
        conn.execute("COMMIT")
        assert snapshot(conn) == trigger_built(path)
        assert search.search(conn, "更正", None, date(2999, 1, 1)).hits
    finally:
        conn.close()


def test_pinyin_per_run_equals_whole_text_conversion(demo_template):
    from pypinyin import lazy_pinyin

    def whole(text):
        out = lazy_pinyin(text, errors=lambda run: list(run))
        return tuple(s.lower() if search._is_han(ch) and s.isascii() and s.isalpha()
                     else ch.lower() if ch.isascii() and ch.isalnum() else ""
                     for ch, s in zip(text, out))
    conn = db.connect(demo_template / config.DATABASE_NAME)
    try:
        texts = [r[0] for r in conn.execute("SELECT label FROM search_meta")]
    finally:
        conn.close()
    texts += ["重庆银行行长", "低保公示（第12号）", "2026年第3季度ＡＢ村", "〇㐀𠀀々〆ㄅ🙂 a_b-c", ""]
    for text in texts:
        assert search.syllables(text) == whole(text), text


def test_full_sync_deferred_index_and_incremental_updates(hub, tmp_path, monkeypatch):
    monkeypatch.setattr(apply, "INLINE_INDEX_DOCS", 0)       # take the big-county path
    monkeypatch.setattr(apply, "INDEX_BATCH", 40)
    term = make_terminal(tmp_path / "county-term", hub.url, [hub.pubkey], hub.enroll(COUNTY), COUNTY)
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    try:
        assert search.pending_count(conn) == 0
        assert snapshot(conn) == trigger_built(term)
        assert len(snapshot(conn)["search_meta"]) > 100
    finally:
        conn.close()

    # Incremental: an edited title, a withdrawn village item, a deleted notice, a renamed domain.
    hub.execute("UPDATE notice SET title = '关于调整农村低保标准的公告（修订）' WHERE id = "
                "(SELECT max(id) FROM notice WHERE status = 'published')")
    hub.execute("UPDATE village_item SET status = 'withdrawn' WHERE id = "
                "(SELECT min(id) FROM village_item WHERE status = 'published')")
    hub.execute("DELETE FROM notice WHERE id = (SELECT min(id) FROM notice WHERE status = 'published' "
                "AND id NOT IN (SELECT notice_id FROM attachment WHERE notice_id IS NOT NULL))")
    hub.execute("UPDATE domain SET name = name || '（新）' WHERE id = "
                "(SELECT domain_id FROM guide WHERE status = 'published' AND domain_id IS NOT NULL LIMIT 1)")
    hub.publish()
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    try:
        assert snapshot(conn) == trigger_built(term)
        assert no_stale_entries(conn)
        hits = search.search(conn, "低保标准的公告（修订）", None, date(2999, 1, 1)).hits
        assert any(h.title.endswith("（修订）") for h in hits)
        assert conn.execute("SELECT count(*) FROM search_meta WHERE meta LIKE '%（新）'").fetchone()[0] > 0
    finally:
        conn.close()


def _kill_at(data_dir, step: int, marker, env: dict) -> str:
    marker.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "sync", "--data-dir", str(data_dir), "--once"],
                            env={**os.environ, **env, "KIOSK_SYNC_TEST_PAUSE_AT": str(step),
                                 "KIOSK_SYNC_TEST_MARKER": str(marker)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, f"sync ended before step {step}"
            assert time.monotonic() < deadline, f"sync never reached step {step}"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        return marker.read_text().split(" ", 1)[1].strip()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigkill_while_building_the_index_later(hub, term, tmp_path, monkeypatch):
    env = {"KIOSK_SYNC_INLINE_INDEX_DOCS": "0", "KIOSK_SYNC_INDEX_BATCH": "25"}
    # Which steps are search batches (the steps of a sync are the same every time).
    labels = []
    monkeypatch.setattr(state, "hook", labels.append)
    monkeypatch.setattr(apply, "INLINE_INDEX_DOCS", 0)
    monkeypatch.setattr(apply, "INDEX_BATCH", 25)
    reference = tmp_path / "reference"
    shutil.copytree(term, reference)
    assert terminal.sync_once(reference).ok
    conn = tconn(reference)
    expected = snapshot(conn)
    conn.close()
    batches = [n + 1 for n, label in enumerate(labels) if label == "search batch"]
    assert len(batches) >= 3, labels
    monkeypatch.undo()
    for step in (batches[0], batches[len(batches) // 2]):
        work = tmp_path / f"kill-{step}"
        shutil.copytree(term, work)
        assert _kill_at(work, step, tmp_path / "marker", env) == "search batch"
        conn = tconn(work)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            # The content is there, search is still filling in, and holds nothing stale.
            assert conn.execute("SELECT count(*) FROM notice").fetchone()[0] > 0
            assert 0 < search.pending_count(conn)
            assert 0 < len(snapshot(conn)["search_meta"]) < len(expected["search_meta"])
            assert no_stale_entries(conn)
        finally:
            conn.close()
        # The next round (nothing new on the hub) finishes the index first.
        assert terminal.sync_once(work, do_push=False).ok
        conn = tconn(work)
        try:
            assert search.pending_count(conn) == 0 and snapshot(conn) == expected
        finally:
            conn.close()
        shutil.rmtree(work)
