"""The notification round as a child process of `kiosk serve` (hub and standalone; sync.child):
look for events over the whole jurisdiction (content.notify_events), then send what is due
(content.notifications).

The daily part of the scan aligns every matter × village whose notices changed and reads
a year of history: seconds of CPU on a county. In a child that work never holds the serve
process's interpreter while residents' and staff pages wait, and its memory goes back to
the system when the round ends. What it computes that the serving process reuses is
written to the database (alignment verdicts, notifications). A round killed on its timeout
or when the service stops leaves nothing half-written: each step commits in transactions,
and a delivery interrupted after sending is sent again at the next round.

Run by ``run_round`` (kiosk.notifier); by hand: ``python -m kiosk.notify_round --database D``.
"""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

from content import db, holidays, notifications, notify_events, notify_senders, timelimits
from sync import child

log = logging.getLogger("kiosk.notify")

DEFAULT_TIMEOUT = 900


def notify_once(database: str | Path, base_url: str = "", send=None, today: date | None = None) -> dict:
    """One look for events and one delivery pass in this process; returns the counts."""
    conn = db.connect(database)
    # Deadlines on the county's own holiday calendar, as in a request.
    token = timelimits.use_calendar(holidays.load(conn))
    try:
        raised = notify_events.scan(conn, today or date.today())
        send = send or notify_senders.sender_for(lambda: notifications.smtp_settings(conn))
        base = base_url or db.get_meta(conn, "public_url") or ""
        return {"raised": raised, **notifications.deliver_due(conn, send, base)}
    finally:
        timelimits.reset_calendar(token)
        conn.close()


def run_round(database: str | Path, base_url: str = "", timeout: float = DEFAULT_TIMEOUT,
              stop=None) -> bool:
    """One round in a child process; True if it succeeded. A failure, a crash or a timeout is
    logged with the round's last lines; the next round tries again."""
    args = ["kiosk.notify_round", "--database", str(database)]
    if base_url:
        args += ["--base-url", base_url]
    result = child.run_child(args, timeout, stop, stopped_message="通知轮次被中止（服务停止）",
                             timeout_message="通知轮次超时（超过 {timeout} 秒），已中止，下次重试")
    output = f": {result.output}" if result.output else ""
    if result.killed:
        log.error("notification round killed after %.0f s: %s%s", result.seconds, result.killed, output)
        return False
    if result.returncode != 0:
        log.warning("notification round failed (exit %s) after %.1f s%s", result.returncode,
                    result.seconds, output)
        return False
    # A quiet round says nothing (one a minute); one that raised or sent something says what.
    (log.info if result.output else log.debug)("notification round done in %.1f s%s",
                                               result.seconds, output)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.notify_round",
                                     description="One notification round: look for events, send what is due.")
    parser.add_argument("--database", required=True)
    parser.add_argument("--base-url", default="", help="Public address for links in messages.")
    args = parser.parse_args(argv)
    child.die_with_parent()
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(levelname)s %(message)s")
    try:
        counts = notify_once(args.database, args.base_url)
    except Exception:                          # noqa: BLE001  (said in the output the parent logs)
        log.exception("notification round failed")
        return 1
    if counts["raised"] or counts["sent"] or counts["failed"]:
        print("notifications: %(raised)d raised, %(sent)d sent, %(failed)d failed" % counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
