"""Between a terminal's sync rounds: a cheap look at the hub's manifest, so that a new bundle
(an emergency, a withdrawal) starts a round at once instead of at the next interval.

One conditional GET with the applied manifest's ETag every ``SYNC_CHECK_SECONDS`` (10 s):
the hub (or nginx in front of it) answers 304 with no body while nothing changed, which costs
it next to nothing. A 200 starts a round. A changed manifest that the round then refuses (a
forged or broken bundle) starts no second round: only an ETag not seen before does.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from content import db

from . import terminal

log = logging.getLogger("kiosk.sync")

DEFAULT_CHECK_SECONDS = 10


class ManifestWatch:
    def __init__(self, data_dir: Path, check: float = DEFAULT_CHECK_SECONDS):
        self.data_dir = Path(data_dir)
        self.check = check
        self.triggered: set[str] = set()

    def _applied_etag(self) -> str | None:
        conn = db.connect(self.data_dir / "kiosk.sqlite3")
        try:
            if not db.get_meta(conn, "content_version"):
                return None
            return db.get_meta(conn, "sync_etag")
        finally:
            conn.close()

    def changed(self) -> bool:
        """Whether the hub has a manifest this terminal has neither applied nor tried."""
        etag = self._applied_etag()
        if not etag:
            return False            # nothing applied yet: the regular rounds retry anyway
        settings = terminal.Settings.load(self.data_dir)
        data, new_etag = terminal.fetch_manifest(settings, etag)
        if data is None or not new_etag or new_etag in self.triggered:
            return False
        self.triggered.add(new_etag)
        return True

    def wait(self, stop, seconds: float) -> bool:
        """Wait up to ``seconds``; return True early when the manifest changed."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if stop.wait(min(self.check, left)) or self.check <= 0:
                return False
            try:
                if self.changed():
                    log.info("the hub has a new manifest: syncing now")
                    return True
            except Exception as e:         # noqa: BLE001  (offline or refused: the rounds report it)
                log.debug("manifest check failed: %s", e)
        return False
