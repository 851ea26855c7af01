"""Background work inside `kiosk serve`: a terminal's sync loop, a hub's publish/re-sign timer."""
from __future__ import annotations

import logging
import random
import threading
import time
from datetime import date
from pathlib import Path

from content import db, retention

from . import publish_round, terminal

log = logging.getLogger("kiosk.sync")

DEFAULT_PUBLISH_INTERVAL = 900
URGENT_CHECK_SECONDS = 10
# Audit actions that must not wait for the next regular publish: an emergency set at once,
# anything withdrawn (an emergency cleared, a notice taken down), personal data masked.
URGENT_ACTIONS = ("urgent", "withdraw", "mask")


def _audit_top(data_dir: Path, fallback: int = 0) -> int:
    """The newest audit entry's id (``fallback`` when the log cannot be read: publishing
    reports what is wrong, and the timer must not die of it)."""
    try:
        conn = db.connect(Path(data_dir) / "kiosk.sqlite3")
        try:
            return conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
        finally:
            conn.close()
    except Exception:                          # noqa: BLE001
        log.exception("reading the audit log failed")
        return fallback


def _urgent_since(data_dir: Path, after: int) -> bool:
    """Whether an emergency, a withdrawal or a masking was recorded after audit entry ``after``."""
    conn = db.connect(Path(data_dir) / "kiosk.sqlite3")
    try:
        marks = ", ".join("?" for _ in URGENT_ACTIONS)
        return conn.execute(f"SELECT 1 FROM audit_log WHERE id > ? AND action IN ({marks}) LIMIT 1",
                            (after, *URGENT_ACTIONS)).fetchone() is not None
    finally:
        conn.close()


def _wait_or_urgent(data_dir: Path, stop: threading.Event, seconds: float, seen: int,
                    check: float) -> None:
    """Wait ``seconds``, or less: until stopped or an urgent change is recorded."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        if stop.wait(min(check, left)):
            return
        try:
            if _urgent_since(data_dir, seen):
                log.info("urgent change recorded: publishing now")
                return
        except Exception:                      # noqa: BLE001  (the timer must survive anything)
            log.exception("checking for urgent changes failed")


def hub_loop(data_dir: Path, cfg: dict, stop: threading.Event) -> None:
    """Publish changed content and re-sign manifests well before they expire; publish at
    once (within ``URGENT_CHECK_SECONDS``) after an emergency, a withdrawal or a masking."""
    every = float(cfg.get("SYNC_PUBLISH_INTERVAL", DEFAULT_PUBLISH_INTERVAL))
    check = float(cfg.get("SYNC_URGENT_CHECK", URGENT_CHECK_SECONDS))
    timeout = float(cfg.get("SYNC_PUBLISH_TIMEOUT") or publish_round.DEFAULT_TIMEOUT)
    seen = _audit_top(data_dir)
    # Not at once: a restarted hub serves its last manifests; re-sign soon, in a quiet moment.
    _wait_or_urgent(data_dir, stop, min(every, 300) * random.uniform(0.2, 0.4), seen, check)
    while not stop.is_set():
        seen = _audit_top(data_dir, seen)  # read first: what is recorded meanwhile goes next time
        try:
            # Publishing (with a signing key) and retention, in a child process: the round's
            # peak never stays in the serve process, and a failure there (recorded for
            # /healthz) leaves serving untouched.
            publish_round.run_round(data_dir, cfg, timeout, stop)
        except Exception as exc:               # noqa: BLE001  (keep serving; try again later)
            log.exception("starting the publish round failed")
            publish_round.record_error(data_dir, f"{type(exc).__name__}: {exc}")
        _wait_or_urgent(data_dir, stop, every * random.uniform(0.9, 1.1), seen, check)


def purge_expired(data_dir: Path, cfg: dict) -> None:
    """Apply the retention periods (content.retention); the timer survives any failure."""
    try:
        conn = db.open_database(Path(data_dir) / "kiosk.sqlite3")
        try:
            done = retention.purge_hub(
                conn, date.today(),
                int(cfg.get("APPLICATION_RETENTION_DAYS", retention.DEFAULT_APPLICATION_DAYS)),
                int(cfg.get("ACCESS_LOG_RETENTION_DAYS", retention.DEFAULT_ACCESS_LOG_DAYS)),
                data_dir=Path(data_dir))
            history = retention.purge_history(conn, date.today(), {
                name: cfg[f"{name.upper()}_RETENTION_DAYS"] for name in retention.HISTORY_DEFAULTS
                if cfg.get(f"{name.upper()}_RETENTION_DAYS")})
            if any(done.values()) or any(history.values()):
                log.info("retention: %s %s", done, history)
        finally:
            conn.close()
    except Exception:                          # noqa: BLE001
        log.exception("applying the retention periods failed")


def start_background(app) -> threading.Event | None:
    """Start the role's background thread (daemon); return its stop event."""
    role = app.config.get("ROLE")
    data_dir = app.config.get("DATA_DIR")
    if not data_dir or role not in ("terminal", "hub"):
        return None
    from kiosk import config  # noqa: PLC0415
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # kiosk.toml with --config and the command line laid over it (create_app merged them).
    cfg = {k: v for k, v in app.config.items() if k in config.SETTINGS}
    stop = threading.Event()
    if role == "terminal":
        # Each round is a child process (terminal.run_round): the apply's search indexing and
        # its SQLite cache never grow the serve process. Options and --config win over kiosk.toml.
        interval = cfg.get("SYNC_INTERVAL")
        timeout = cfg.get("SYNC_TIMEOUT")
        check = cfg.get("SYNC_CHECK_SECONDS")
        target, args = terminal.run_loop, (Path(data_dir), stop,
                                           float(interval) if interval else None,
                                           float(timeout) if timeout else None,
                                           float(check) if check is not None else None)
    else:
        target, args = hub_loop, (Path(data_dir), cfg, stop)
    threading.Thread(target=target, args=args, name=f"kiosk-{role}-sync", daemon=True).start()
    return stop
