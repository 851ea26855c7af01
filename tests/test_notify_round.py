"""The notification round as a child process (kiosk.notify_round, kiosk.notifier): a real child
writes the notifications and sends them; a round that hangs is killed on its timeout or when
the service stops, and the next round sends what it left; the serve process keeps only the
assessment figures, after each round."""
from __future__ import annotations

import logging
import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from content import assessment, notifications, notify_events
from kiosk import notifier, notify_round
from sync import child
from tests.browser.conftest import LiveServer

from test_notifications import COUNTY, VILLAGE, Receiver, channel


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def silent_hook():
    """A webhook address that takes the connection and never answers (a robot's server hung)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    s.close()


def _silent_terminal(conn):
    conn.execute("INSERT INTO sync_terminal(id, public_key, scope, last_contact) VALUES (?, 'k', ?, ?)",
                 ("b" * 64, VILLAGE, "2026-01-01T00:00:00Z"))


def _delivery_status(conn):
    return [r[0] for r in conn.execute("SELECT status FROM notify_delivery ORDER BY id")]


def test_a_child_raises_and_sends_the_notifications(app, conn, receiver, monkeypatch):
    """Scan and delivery broken in this process: the round still works, so it ran elsewhere."""
    channel(conn, "wecom", receiver.url + "/county", code=COUNTY, events="terminal_silent")
    _silent_terminal(conn)

    def not_here(*args, **kwargs):
        raise AssertionError("the round ran in the serve process")
    monkeypatch.setattr(notify_events, "scan", not_here)
    monkeypatch.setattr(notifications, "deliver_due", not_here)
    assert notify_round.run_round(app.config["DATABASE"])
    assert conn.execute("SELECT event FROM notification").fetchall()[0][0] == "terminal_silent"
    assert _delivery_status(conn) == ["sent"] and len(receiver.bodies) == 1
    assert "已失联" in receiver.bodies[0][1]["markdown"]["content"]
    assert notify_round.run_round(app.config["DATABASE"])          # raised once, sent once
    assert len(receiver.bodies) == 1


def test_a_round_past_its_timeout_is_killed_and_the_next_sends_its_message(app, conn, receiver,
                                                                           silent_hook, caplog):
    cid = channel(conn, "wecom", silent_hook, code=COUNTY, events="terminal_silent")
    _silent_terminal(conn)
    caplog.set_level(logging.INFO, "kiosk.notify")
    started = time.monotonic()
    assert not notify_round.run_round(app.config["DATABASE"], timeout=2)
    # Killed well before the sender's own 15 s timeout would have ended it.
    assert time.monotonic() - started < 8
    assert "通知轮次超时（超过 2 秒）" in caplog.text
    assert _delivery_status(conn) == ["pending"]          # raised, not yet sent: nothing lost
    conn.execute("UPDATE notify_channel SET target = ? WHERE id = ?", (receiver.url + "/county", cid))
    assert notify_round.run_round(app.config["DATABASE"], timeout=30)
    assert _delivery_status(conn) == ["sent"] and len(receiver.bodies) == 1


def test_a_round_is_stopped_with_the_service(app, conn, silent_hook, caplog):
    channel(conn, "wecom", silent_hook, code=COUNTY, events="terminal_silent")
    _silent_terminal(conn)
    caplog.set_level(logging.INFO, "kiosk.notify")
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.monotonic()
    assert not notify_round.run_round(app.config["DATABASE"], timeout=600, stop=stop)
    assert time.monotonic() - started < 8
    assert "通知轮次被中止（服务停止）" in caplog.text


def test_the_loop_survives_a_failed_round_and_keeps_the_figures_after_each(app, conn, receiver,
                                                                           monkeypatch, caplog):
    """A round that crashes (its argument parser refuses it: exit 2) is logged with its last
    lines; the next round sends; the figures are computed after each round, in this process,
    and a round that changed nothing they read leaves them as they are."""
    channel(conn, "wecom", receiver.url + "/county", code=COUNTY, events="terminal_silent")
    _silent_terminal(conn)
    steps: list[str] = []
    real_child, real_round, real_keep = child.run_child, notify_round.run_round, notifier.keep_assessment_current

    def crash_first(args, *a, **k):
        extra = ["--no-such-option"] if not steps else []
        return real_child([*args, *extra], *a, **k)

    def counted_round(*a, **k):
        ok = real_round(*a, **k)
        steps.append("round ok" if ok else "round failed")
        return ok

    def counted_keep(*a, **k):
        steps.append(f"figures {real_keep(*a, **k)}")
        return 0
    monkeypatch.setattr(child, "run_child", crash_first)
    monkeypatch.setattr(notify_round, "run_round", counted_round)
    monkeypatch.setattr(notifier, "keep_assessment_current", counted_keep)
    caplog.set_level(logging.INFO, "kiosk.notify")
    assessment.clear_cache()
    stop = threading.Event()
    loop = threading.Thread(target=notifier.run_loop, args=(app.config["DATABASE"], "", stop, 0.2, 60))
    loop.start()
    try:
        deadline = time.monotonic() + 60
        while len(steps) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        loop.join(30)
    assert not loop.is_alive()
    assert steps[0] == "round failed" and steps[2] == "round ok", steps
    assert steps[1].startswith("figures ") and int(steps[1].split()[1]) > 0, steps   # computed here
    # Then only what the round changed (its first look records where it is); then nothing.
    assert steps[4] == "round ok" and steps[5] == "figures 0", steps
    assert "notification round failed (exit 2)" in caplog.text and "--no-such-option" in caplog.text
    assert len(receiver.bodies) == 1 and re.search(r"notifications: \d+ raised, 1 sent, 0 failed", caplog.text)


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of a process's children."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for c in (task / "children").read_text().split():
            try:
                cmd = Path(f"/proc/{c}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            found.append((int(c), cmd))
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _serve(data_dir: Path, tmp_path: Path) -> LiveServer:
    conf = tmp_path / "serve.toml"
    conf.write_text("notify_round_seconds = 5\n")
    return LiveServer(data_dir, extra_env={"KIOSK_CONFIG": str(conf)}).start(timeout=60)


def test_serve_sends_through_its_child_round(data_dir, conn, receiver, tmp_path):
    """`kiosk serve` (standalone): the round at start raises and sends, and its output is in
    the serve process's log as the child's."""
    channel(conn, "wecom", receiver.url + "/county", code=COUNTY, events="terminal_silent")
    _silent_terminal(conn)
    server = _serve(data_dir, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(receiver.bodies) == 1
        deadline = time.monotonic() + 10
        while "notification round done" not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert re.search(r"notification round done in .*notifications: \d+ raised, 1 sent, 0 failed",
                         server.log.read_text())
        assert server.proc.poll() is None
    finally:
        server.stop()


def test_a_hung_round_dies_with_the_serve_process(data_dir, conn, silent_hook, tmp_path):
    """The round at start hangs on a robot's server; the serve process is stopped (here
    SIGKILL, no chance to clean up): the child goes with it."""
    channel(conn, "wecom", silent_hook, code=COUNTY, events="terminal_silent")
    _silent_terminal(conn)
    server = _serve(data_dir, tmp_path)
    try:
        deadline = time.monotonic() + 30
        rounds = []
        while not rounds and time.monotonic() < deadline:
            rounds = [pid for pid, cmd in _children(server.proc.pid) if "kiosk.notify_round" in cmd]
            time.sleep(0.1)
        assert rounds, "no notification round started"
        time.sleep(1)
        assert _alive(rounds[0]), "the round should still be waiting for the silent server"
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        # Its sender would wait 15 s for the silent server; the parent's death ends it now.
        deadline = time.monotonic() + 5
        while _alive(rounds[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(rounds[0])
    finally:
        server.stop()
