"""The notification loop of `kiosk serve` (hub and standalone): every NOTIFY_ROUND_SECONDS a
notification round in a child process (kiosk.notify_round: look for events, send what is
due), then, in this process, the county's assessment figures kept current
(content.assessment keep_current: only what changed is computed).

The figures stay here because their cache is this process's memory; everything else a
round does runs in the child, so pages served meanwhile do not wait for it. The first
round runs at start: its scan stores the day's alignment verdicts in the database, and the
figures computed after it read them instead of aligning the county again in this process.
A round that fails, crashes or outlives NOTIFY_ROUND_TIMEOUT is logged (the child is
killed) and the next one tries again."""
from __future__ import annotations

import logging
import threading
from datetime import date
from pathlib import Path

from content import assessment, db, holidays, timelimits

from . import notify_round

log = logging.getLogger("kiosk.notify")

ROUND_SECONDS = 60


def keep_assessment_current(database: str | Path, today: date | None = None) -> int:
    """The county's assessment figures for the dashboard's default period, computed into this
    process's cache where what they read changed; returns how many were computed."""
    conn = db.connect(database)
    token = timelimits.use_calendar(holidays.load(conn))
    try:
        return assessment.keep_current(conn, today or date.today())
    finally:
        timelimits.reset_calendar(token)
        conn.close()


def run_loop(database: str, base_url: str, stop: threading.Event, every: float,
             timeout: float = notify_round.DEFAULT_TIMEOUT) -> None:
    """Rounds until ``stop`` is set: the child's round, then the figures after it (so they
    see what the round wrote); a failure of either never ends the loop."""
    while not stop.is_set():
        try:
            notify_round.run_round(database, base_url, timeout, stop)
        except Exception:                      # noqa: BLE001  (e.g. no process could be started)
            log.exception("starting the notification round failed")
        if stop.is_set():
            break
        try:
            keep_assessment_current(database)
        except Exception:                      # noqa: BLE001  (figures are a convenience here)
            log.exception("keeping the assessment figures current failed")
        stop.wait(every)


def start(app) -> threading.Event | None:
    """Start the notification loop (a daemon thread) for a hub or a standalone instance."""
    if app.config.get("ROLE", "standalone") not in ("hub", "standalone"):
        return None
    stop = threading.Event()
    every = float(app.config.get("NOTIFY_ROUND_SECONDS") or ROUND_SECONDS)
    timeout = float(app.config.get("NOTIFY_ROUND_TIMEOUT") or notify_round.DEFAULT_TIMEOUT)
    threading.Thread(target=run_loop, args=(app.config["DATABASE"], app.config.get("PUBLIC_URL") or "",
                                            stop, every, timeout), name="kiosk-notify", daemon=True).start()
    return stop
