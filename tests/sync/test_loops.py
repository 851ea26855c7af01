"""The background work of `kiosk serve`: the hub re-signs on its own, a terminal follows on its own."""
from __future__ import annotations

import signal
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from sync import service, terminal
from tests.browser.conftest import LiveServer

from conftest import VILLAGE, applied_version, meta, set_hub_url, tconn


def _wait(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_hub_timer_publishes_and_resigns(hub):
    start = hub.version(VILLAGE)
    stop = threading.Event()
    cfg = {"SYNC_PUBLISH_INTERVAL": 0.5, "SYNC_RESIGN_HOURS": 0}     # re-sign at every round
    thread = threading.Thread(target=service.hub_loop, args=(hub.data_dir, cfg, stop), daemon=True)
    thread.start()
    try:
        assert _wait(lambda: hub.version(VILLAGE) >= start + 2)
    finally:
        stop.set()
        thread.join(30)


def test_hub_publishes_an_emergency_at_once_not_at_its_next_round(hub):
    """Publishing every 15 minutes is fine for ordinary changes; an emergency (or anything
    withdrawn) is published within the urgent check, here 0.3 s, and ordinary edits wait."""
    from datetime import date

    from content import emergency
    start = hub.version(VILLAGE)
    stop = threading.Event()
    cfg = {"SYNC_PUBLISH_INTERVAL": 3600, "SYNC_URGENT_CHECK": 0.3}
    thread = threading.Thread(target=service.hub_loop, args=(hub.data_dir, cfg, stop), daemon=True)
    thread.start()
    try:
        hub.execute("UPDATE notice SET title = title || '（改）' WHERE jurisdiction_code = ?", (VILLAGE,))
        time.sleep(2)
        assert hub.version(VILLAGE) == start               # an ordinary edit waits for the round
        conn = hub.conn()
        try:
            admin = conn.execute("SELECT * FROM user WHERE role = 'county_admin' LIMIT 1").fetchone()
            emergency.set_emergency(conn, admin, {
                "title": "暴雨红色预警，请勿外出", "body": "", "subject_code": VILLAGE,
                "expires_on": date.today().isoformat()}, date.today())
        finally:
            conn.close()
        assert _wait(lambda: hub.version(VILLAGE) > start, timeout=30)
    finally:
        stop.set()
        thread.join(30)


def test_terminal_loop_follows_changes(hub, term):
    stop = threading.Event()
    thread = threading.Thread(target=terminal.run_loop, args=(term, stop, 0.5), daemon=True)
    thread.start()
    try:
        assert _wait(lambda: applied_version(term) == hub.version(VILLAGE))
        hub.execute("UPDATE notice SET title = title || '（新）' WHERE jurisdiction_code = ?", (VILLAGE,))
        hub.publish()
        assert _wait(lambda: applied_version(term) == hub.version(VILLAGE))
    finally:
        stop.set()
        thread.join(30)


def test_a_round_runs_in_a_child_process_and_a_hung_one_is_killed(hub, term, tmp_path, monkeypatch):
    """The round is `kiosk sync --once` in a child: stalled inside its apply transaction past
    the timeout, it is killed, nothing half-applied shows, the error is recorded for staff;
    the next round applies the bundle."""
    marker = tmp_path / "paused"
    monkeypatch.setenv("KIOSK_SYNC_TEST_PAUSE_AT", "1")          # stall at the first step
    monkeypatch.setenv("KIOSK_SYNC_TEST_MARKER", str(marker))
    started = time.monotonic()
    assert terminal.run_round(term, timeout=3) is False
    assert marker.exists() and time.monotonic() - started < 30     # it did start, and was ended
    assert applied_version(term) is None
    assert "超时" in meta(term, "sync_last_error")
    monkeypatch.delenv("KIOSK_SYNC_TEST_PAUSE_AT")
    assert terminal.run_round(term) is True
    assert applied_version(term) == hub.version(VILLAGE) and meta(term, "sync_last_error") == ""


def test_a_failed_round_is_reported_and_the_loop_goes_on(hub, term, monkeypatch):
    set_hub_url(term, "http://127.0.0.1:9")                      # nobody listening
    assert terminal.run_round(term, timeout=60) is False
    assert meta(term, "sync_last_error")
    set_hub_url(term, hub.url)
    calls = []
    real = terminal.run_round

    def flaky(*args, **kwargs):                                 # a crash in the loop itself
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(terminal, "run_round", flaky)
    monkeypatch.setattr(terminal, "RETRY_BASE", 0.2)
    stop = threading.Event()
    thread = threading.Thread(target=terminal.run_loop, args=(term, stop, 0.5), daemon=True)
    thread.start()
    try:
        assert _wait(lambda: applied_version(term) == hub.version(VILLAGE))
        assert len(calls) >= 2
    finally:
        stop.set()
        thread.join(30)


def test_a_cached_page_shows_what_a_child_round_applied(hub, term, tmp_path):
    """A real terminal `kiosk serve`: its page cache (kept for an hour here) notices the
    commit of the sync child process (PRAGMA data_version) and never serves the old page."""
    conf = tmp_path / "serve.toml"
    conf.write_text("sync_interval = 10\npage_cache_seconds = 3600\n")
    server = LiveServer(term, extra_env={"KIOSK_CONFIG": str(conf)}).start(timeout=60)
    try:
        assert _wait(lambda: applied_version(term) == hub.version(VILLAGE))
        conn = tconn(term)
        notice_id, title = conn.execute(
            "SELECT id, title FROM notice WHERE jurisdiction_code = ? AND status = 'published' "
            "ORDER BY id LIMIT 1", (VILLAGE,)).fetchone()
        conn.close()
        url = f"{server.url}/notices/{notice_id}"
        before = _page(url)
        assert title in before and _page(url) == before            # the second one is a hit
        hub.execute("UPDATE notice SET title = ? WHERE id = ?", ("子进程同步后的新标题", notice_id))
        hub.publish()
        assert _wait(lambda: applied_version(term) == hub.version(VILLAGE))
        after = _page(url)
        assert "子进程同步后的新标题" in after and title not in after
        assert server.proc.poll() is None
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert "sync round done" in log                                # the loop logged its rounds


def _page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_round_ends_when_the_serve_process_dies(term, tmp_path):
    """systemd kills the whole unit anyway; a serve process killed alone takes its round along."""
    marker = tmp_path / "paused"
    server = LiveServer(term, extra_env={"KIOSK_SYNC_TEST_PAUSE_AT": "1",
                                         "KIOSK_SYNC_TEST_MARKER": str(marker)}).start(timeout=60)
    try:
        assert _wait(marker.exists)                                 # a round is stalled in its child
        children = _children(server.proc.pid)
        assert children
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
        assert _wait(lambda: not any(_alive(c) for c in children), timeout=20)
    finally:
        server.stop()
