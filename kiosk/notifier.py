"""The notification round inside `kiosk serve` (hub and standalone): look for events, then
send what is due, then keep the county's assessment figures current (content.assessment
keep_current: only what changed is computed). Once a minute; a round that fails is logged
and the next one tries again."""
from __future__ import annotations

import logging
import threading
from datetime import date
from pathlib import Path

from content import assessment, db, holidays, notifications, notify_events, notify_senders, timelimits

log = logging.getLogger("kiosk.notify")

ROUND_SECONDS = 60


def run_round(database: str | Path, base_url: str = "", send=None, today: date | None = None) -> dict:
    """One look for events and one delivery pass; returns the counts."""
    conn = db.connect(database)
    # Deadlines on the county's own holiday calendar, as in a request.
    token = timelimits.use_calendar(holidays.load(conn))
    try:
        raised = notify_events.scan(conn, today or date.today())
        send = send or notify_senders.sender_for(lambda: notifications.smtp_settings(conn))
        base = base_url or db.get_meta(conn, "public_url") or ""
        result = notifications.deliver_due(conn, send, base)
        try:
            kept = assessment.keep_current(conn, today or date.today())
        except Exception:                      # noqa: BLE001  (figures are a convenience here)
            log.exception("keeping the assessment figures current failed")
            kept = 0
        return {"raised": raised, **result, "assessment_figures": kept}
    finally:
        timelimits.reset_calendar(token)
        conn.close()


def keep_assessment_current(database: str | Path, today: date | None = None) -> int:
    """The county's assessment figures computed now (at start: ready before the first round)."""
    conn = db.connect(database)
    token = timelimits.use_calendar(holidays.load(conn))
    try:
        return assessment.keep_current(conn, today or date.today())
    finally:
        timelimits.reset_calendar(token)
        conn.close()


def _loop(database: str, base_url: str, stop: threading.Event, every: float) -> None:
    try:
        keep_assessment_current(database)
    except Exception:                          # noqa: BLE001
        log.exception("keeping the assessment figures current failed")
    while not stop.wait(every):
        try:
            counts = run_round(database, base_url)
            if counts["raised"] or counts["sent"] or counts["failed"]:
                log.info("notifications: %(raised)d raised, %(sent)d sent, %(failed)d failed", counts)
        except Exception:                      # noqa: BLE001  (the round must never end the thread)
            log.exception("notification round failed")


def start(app) -> threading.Event | None:
    """Start the notification thread for a hub or a standalone instance."""
    if app.config.get("ROLE", "standalone") not in ("hub", "standalone"):
        return None
    stop = threading.Event()
    every = float(app.config.get("NOTIFY_ROUND_SECONDS") or ROUND_SECONDS)
    threading.Thread(target=_loop, args=(app.config["DATABASE"], app.config.get("PUBLIC_URL") or "",
                                         stop, every), name="kiosk-notify", daemon=True).start()
    return stop
