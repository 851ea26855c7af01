"""Between rounds a terminal looks at the manifest cheaply and syncs at once when it changed."""
from __future__ import annotations

import threading
import time

from sync import terminal
from sync.watch import ManifestWatch

from conftest import VILLAGE, set_hub_url


def test_a_new_manifest_is_seen_once(hub, term):
    watch = ManifestWatch(term)
    assert not watch.changed()                          # nothing applied yet: no early rounds
    assert terminal.sync_once(term).ok
    assert not watch.changed()                          # 304: the applied manifest
    hub.execute("UPDATE notice SET title = title || '（改）' WHERE jurisdiction_code = ?", (VILLAGE,))
    hub.publish()
    assert watch.changed()
    # Not applied (say the round refused it): the same manifest starts no second round.
    assert not watch.changed()
    assert terminal.sync_once(term).ok
    assert not watch.changed()


def test_wait_returns_early_when_the_manifest_changes(hub, term):
    assert terminal.sync_once(term).ok
    watch = ManifestWatch(term, check=0.2)
    stop = threading.Event()
    started = time.monotonic()
    assert not watch.wait(stop, 0.7)                     # nothing new: the whole wait
    assert time.monotonic() - started >= 0.6
    hub.execute("UPDATE notice SET title = title || '（改）' WHERE jurisdiction_code = ?", (VILLAGE,))
    hub.publish()
    started = time.monotonic()
    assert watch.wait(stop, 30)
    assert time.monotonic() - started < 5


def test_an_unreachable_hub_just_waits(hub, term):
    assert terminal.sync_once(term).ok
    set_hub_url(term, "http://127.0.0.1:9")
    watch = ManifestWatch(term, check=0.1)
    assert not watch.wait(threading.Event(), 0.5)


def test_a_stop_ends_the_wait(hub, term):
    watch = ManifestWatch(term, check=0.1)
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    assert not watch.wait(stop, 30)
    assert time.monotonic() - started < 1
