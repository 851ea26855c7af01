"""SIGKILL the terminal's `kiosk sync --once` at many points during apply: old or new, never a mix."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from sync import terminal

from conftest import VILLAGE, applied_version, content_digest, tconn


def _run_until_paused(data_dir, step: int, marker) -> bool:
    """Start a sync paused at ``step``; kill it there. False if it finished before reaching it."""
    marker.unlink(missing_ok=True)
    env = {**os.environ, "KIOSK_SYNC_TEST_PAUSE_AT": str(step), "KIOSK_SYNC_TEST_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "sync", "--data-dir", str(data_dir), "--once"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if marker.exists():
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                return True
            if proc.poll() is not None:
                return False
            time.sleep(0.02)
        raise AssertionError(f"sync never reached step {step}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _check_after_kill(path, old, new):
    conn = tconn(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    state = (applied_version(path), content_digest(path))
    assert state in (old, new), f"mixed state after kill: version {state[0]}"
    return state == new


def _crash_everywhere(tmp_path, base, new_state, label):
    old_state = (applied_version(base), content_digest(base))
    marker = tmp_path / f"marker-{label}"
    killed_new = killed_old = 0
    step = 1
    while True:
        work = tmp_path / f"{label}-{step}"
        shutil.copytree(base, work)
        if not _run_until_paused(work, step, marker):
            break
        if _check_after_kill(work, old_state, new_state):
            killed_new += 1
        else:
            killed_old += 1
        # After restart the terminal completes the update.
        report = terminal.sync_once(work, do_push=False)
        assert report.ok, report.errors
        assert (applied_version(work), content_digest(work)) == new_state
        shutil.rmtree(work)
        step += 1
    assert killed_old >= 3 and killed_new >= 1, (killed_old, killed_new)
    return step - 1


def test_sigkill_during_apply(tmp_path, hub, term):
    # First sync (full load into an empty terminal), killed at each step.
    reference = tmp_path / "reference"
    shutil.copytree(term, reference)
    assert terminal.sync_once(reference).ok
    full_state = (applied_version(reference), content_digest(reference))
    steps_full = _crash_everywhere(tmp_path, term, full_state, "full")
    assert steps_full >= 8

    # An incremental update touching several tables, killed at each step.
    assert terminal.sync_once(term).ok
    hub.execute("UPDATE notice SET title = title || '（改）' WHERE jurisdiction_code IN (?, ?)",
                (VILLAGE, "340499000000"))
    hub.execute("UPDATE guide SET phone = '0554-0000000' WHERE status = 'published'")
    hub.execute("UPDATE village_item SET status = 'withdrawn' WHERE id = "
                "(SELECT min(id) FROM village_item WHERE jurisdiction_code = ? AND status = 'published')",
                (VILLAGE,))
    hub.publish()
    shutil.rmtree(reference)
    shutil.copytree(term, reference)
    assert terminal.sync_once(reference, do_push=False).ok
    new_state = (applied_version(reference), content_digest(reference))
    assert new_state[0] == hub.version(VILLAGE)
    steps_incremental = _crash_everywhere(tmp_path, term, new_state, "incr")
    assert steps_incremental >= 5
