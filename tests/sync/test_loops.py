"""The background work of `kiosk serve`: the hub re-signs on its own, a terminal follows on its own."""
from __future__ import annotations

import threading
import time

from sync import service, terminal

from conftest import VILLAGE, applied_version


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
