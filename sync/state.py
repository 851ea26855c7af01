"""What a terminal's sync round shares between pulling and applying: where it keeps its
files, the error it reports, and the test hook that pauses it at a named step."""
from __future__ import annotations

import os
import time
from pathlib import Path

from . import bundle


class SyncError(Exception):
    """The update could not be done; the message says why (Chinese, for the log and staff)."""


def state_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "sync"


def blob_cache(data_dir: Path) -> bundle.BlobStore:
    """The downloaded table files of the applied bundle (and of the one being fetched)."""
    return bundle.BlobStore(state_dir(data_dir) / "blobs")


def hook(label: str) -> None:
    """Test hook: with KIOSK_SYNC_TEST_PAUSE_AT=N the N-th step announces itself and stalls.

    Called as ``state.hook(...)`` everywhere, so that a test can replace it in one place."""
    target = os.environ.get("KIOSK_SYNC_TEST_PAUSE_AT")
    if not target:
        return
    count = hook.count = getattr(hook, "count", 0) + 1
    if count == int(target):
        marker = os.environ.get("KIOSK_SYNC_TEST_MARKER")
        if marker:
            Path(marker).write_text(f"{count} {label}\n")
        time.sleep(float(os.environ.get("KIOSK_SYNC_TEST_SLEEP", "3600")))
