"""Background rounds run as child processes of `kiosk serve` (a terminal's sync, a hub's publish,
the notification round of a hub or a standalone instance: kiosk.notify_round).

A round's peak (pypinyin's dictionaries for search indexing, a county's rows while bundles
are cut, SQLite's cache) is given back to the system when the child exits, so the serve
process stays small however long it runs. A round still running after its timeout, or
when the service stops, is killed; it must leave nothing half-done (each round commits
its work in transactions and writes files atomically).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

PARENT_ENV = "KIOSK_SYNC_PARENT_PID"        # set for a round started by run_child
PR_SET_PDEATHSIG = 1                        # linux/prctl.h
LOG_LINES = 20


@dataclass
class ChildResult:
    returncode: int | None      # None: killed (see ``killed``)
    output: str                 # its last LOG_LINES lines of output
    seconds: float
    killed: str = ""            # why it was killed (Chinese, for /healthz and the log)


def run_child(args: list[str], timeout: float, stop=None, stopped_message: str = "",
              timeout_message: str = "") -> ChildResult:
    """Run ``python -m <args>`` as a child; kill it after ``timeout`` seconds or when ``stop``
    is set (the messages say so, ``{timeout}`` filled in)."""
    cmd = [sys.executable, "-m", *args]
    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    killed = ""
    chunks = []
    while True:
        try:
            out, _ = proc.communicate(timeout=1)
            chunks.append(out or b"")
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() - started > timeout:
                killed = timeout_message.format(timeout=f"{timeout:g}")
            elif stop is not None and stop.is_set():
                killed = stopped_message
            else:
                continue
            proc.kill()
            out, _ = proc.communicate()
            chunks.append(out or b"")
            break
    lines = b"".join(chunks).decode("utf-8", "replace").strip().splitlines()
    return ChildResult(None if killed else proc.returncode, "\n".join(lines[-LOG_LINES:]),
                       time.monotonic() - started, killed)


def die_with_parent() -> None:
    """In a round started by ``run_child``: end if the serve process that started it ends.

    Linux's PR_SET_PDEATHSIG; then a check that the parent did not die before it was set.
    Elsewhere (no prctl) the timeout still ends a round.
    """
    parent = os.environ.pop(PARENT_ENV, None)
    if not parent:
        return
    try:
        import ctypes  # noqa: PLC0415
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if str(os.getppid()) != parent:
        os._exit(3)
