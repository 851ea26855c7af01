"""Sign-in backoff per (account, address): guessing gets slower, the owner is never locked out.

A fixed lock on the account ("eight failures and nobody may sign in for 15 minutes") lets
anyone lock a real user out by typing their name.  Instead each failure from one address
for one account doubles the wait before that address may try that account again; the same
account from any other address (the owner at home, in another hall) is not affected, and a
success clears the count.  A per-address ceiling on failures (content.security) stays high
enough for a busy service hall whose staff all sign in through one NAT address.
"""
from __future__ import annotations

import sqlite3
import time

from .db import immediate

FREE_FAILURES = 3          # mistyped passwords before any wait
FIRST_WAIT = 2.0           # seconds after the first failure beyond those, doubling each time
MAX_WAIT = 15 * 60.0
FORGET_AFTER = 24 * 3600   # failures older than this no longer count

clock = time.time          # tests move the clock


def account_key(username: str) -> str:
    return (username or "").strip().lower()[:64]


def wait_for(failures: int) -> float:
    """Seconds to wait after ``failures`` failures in a row (0 while some are free)."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_WAIT, FIRST_WAIT * 2 ** min(failures - FREE_FAILURES, 30))


def seconds_left(conn: sqlite3.Connection, username: str, address: str) -> int:
    """How long this address must still wait before it may try this account (0: go ahead)."""
    row = conn.execute("SELECT failures, last_failed FROM login_backoff WHERE account = ? AND address = ?",
                       (account_key(username), address or "")).fetchone()
    if row is None:
        return 0
    left = row["last_failed"] + wait_for(row["failures"]) - clock()
    return max(0, int(left + 0.999))


def failed(conn: sqlite3.Connection, username: str, address: str) -> int:
    """Count a failure; returns the seconds to wait before the next try."""
    now = clock()
    with immediate(conn):
        conn.execute("DELETE FROM login_backoff WHERE last_failed < ?", (now - FORGET_AFTER,))
        conn.execute(
            "INSERT INTO login_backoff(account, address, failures, last_failed) VALUES (?, ?, 1, ?) "
            "ON CONFLICT(account, address) DO UPDATE SET failures = failures + 1, "
            "last_failed = excluded.last_failed", (account_key(username), address or "", now))
        failures = conn.execute("SELECT failures FROM login_backoff WHERE account = ? AND address = ?",
                                (account_key(username), address or "")).fetchone()[0]
    return int(wait_for(failures) + 0.999)


def succeeded(conn: sqlite3.Connection, username: str, address: str) -> None:
    with immediate(conn):
        conn.execute("DELETE FROM login_backoff WHERE account = ? AND address = ?",
                     (account_key(username), address or ""))


def wait_text(seconds: int) -> str:
    """"约2分钟" / "8秒": how a wait reads on the login page ("请8秒后再试")."""
    if seconds < 60:
        return f"{max(1, seconds)}秒"
    minutes = (seconds + 59) // 60
    return f"约{minutes}分钟"
