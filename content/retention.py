"""How long personal data stays, and where: terminals keep none once the hub holds it; the
hub keeps applications and access records for configured periods.

Terminals stand in unguarded rooms.  Once the hub acknowledges a resident's record the
terminal's copy has done its work, so ``after_hub_holds`` keeps of an application only its
receipt number, stage and dates, plus a digest for the status lookup (receipt number and
the phone's last four digits), and empties the outbox payload of every acknowledged
record.  Connections run with ``PRAGMA secure_delete`` (content.db), so the freed bytes are
zeroed, and ``checkpoint`` truncates the WAL that still held the old pages.

At the hub, ``purge_hub`` removes the personal details of applications closed longer than
``application_retention_days`` ago (the row, its stage, dates and outcome stay for the
annual report) and the sign-in records (addresses) older than ``access_log_retention_days``.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date, timedelta

from .db import immediate

# What a terminal keeps of an application once the hub holds it; every other text column
# (name, ID number, phone, address, the request itself, and any column added later) is emptied.
KEPT_ON_TERMINAL = frozenset({
    "uuid", "receipt_no", "jurisdiction_code", "stage", "outcome", "received_on", "due_on",
    "created_at", "updated_at", "clock_start", "paused_days", "paused_since",
    "completion_requested_on", "third_party_due", "extension_days", "replied_on", "archived_on",
    "staff_assisted", "lookup_hash", "scrubbed_at"})

# What the hub keeps of an application after its retention period: the same, for statistics.
KEPT_AFTER_RETENTION = KEPT_ON_TERMINAL | {"applicant_type", "applicant_subtype", "provision_form",
                                           "delivery", "outcome_reason", "organ_code", "organ_dept",
                                           "delivered_on", "delivery_method"}

ACCESS_ACTIONS = ("login", "login_failed", "logout", "logout_everywhere")
DEFAULT_APPLICATION_DAYS = 3 * 366
DEFAULT_ACCESS_LOG_DAYS = 180


def lookup_digest(receipt_no: str, phone_tail: str) -> str:
    """What the status lookup compares once the phone number itself is gone.

    Four digits are few: the digest keeps the number from being read off the disk, it does
    not make it unguessable; the lookup is throttled per address for that reason."""
    return hashlib.sha256(f"kiosk-lookup|{receipt_no}|{phone_tail}".encode()).hexdigest()


def _emptied(conn: sqlite3.Connection, table: str, keep: frozenset) -> dict[str, object]:
    """Column → empty value for every text column of ``table`` not in ``keep``."""
    out = {}
    for col in conn.execute(f'PRAGMA table_info("{table}")'):
        if col["name"] in keep or (col["type"] or "").upper() != "TEXT":
            continue
        out[col["name"]] = "" if col["notnull"] else None
    return out


def after_hub_holds(conn: sqlite3.Connection, uuids: list[str], when: str) -> int:
    """(terminal) Keep nothing personal of records the hub now holds; returns applications
    scrubbed. No commit: call in the transaction that marks them sent."""
    if not uuids:
        return 0
    from .applications import phone_tail  # noqa: PLC0415  (applications imports much; keep this light)
    marks = ",".join("?" * len(uuids))
    rows = conn.execute(f"SELECT uuid, receipt_no, phone FROM application WHERE uuid IN ({marks}) "
                        "AND scrubbed_at IS NULL", uuids).fetchall()
    empty = _emptied(conn, "application", KEPT_ON_TERMINAL)
    sets = ", ".join(f'"{c}" = ?' for c in empty)
    for r in rows:
        conn.execute(f"UPDATE application SET {sets}, lookup_hash = ?, scrubbed_at = ? WHERE uuid = ?",
                     [*empty.values(), lookup_digest(r["receipt_no"], phone_tail(r["phone"])), when,
                      r["uuid"]])
        conn.execute("UPDATE application_event SET note = '', data = '{}' WHERE application_uuid = ? "
                     "AND action != 'register'", (r["uuid"],))
    from .resident_questions import scrub_held  # noqa: PLC0415
    scrub_held(conn, uuids, when)       # questions and objections: the text and the callback phone
    conn.execute(f"UPDATE outbox SET payload = '{{}}' WHERE uuid IN ({marks}) AND sent_at IS NOT NULL",
                 uuids)
    return len(rows)


def sent_but_kept(conn: sqlite3.Connection, limit: int = 500) -> list[str]:
    """(terminal) Records the hub acknowledged whose copy was never scrubbed (sent before this
    rule, or a scrub interrupted): the next push scrubs them too."""
    return [r[0] for r in conn.execute(
        "SELECT uuid FROM outbox WHERE sent_at IS NOT NULL AND payload != '{}' LIMIT ?", (limit,))]


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the database and truncate it: old page images (with the personal
    data just overwritten) must not linger in the -wal file."""
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError:
        pass        # busy readers: the next round truncates it


def purge_hub(conn: sqlite3.Connection, today: date, application_days: int = DEFAULT_APPLICATION_DAYS,
              access_log_days: int = DEFAULT_ACCESS_LOG_DAYS, data_dir=None) -> dict:
    """(hub) Remove what the retention periods no longer allow; returns how much. With
    ``data_dir``, the files of scanned replies go too."""
    closed_before = (today - timedelta(days=application_days)).isoformat()
    access_before = (today - timedelta(days=access_log_days)).isoformat()
    empty = _emptied(conn, "application", KEPT_AFTER_RETENTION)
    sets = ", ".join(f'"{c}" = ?' for c in empty)
    with immediate(conn):
        apps = conn.execute(
            f"UPDATE application SET {sets}, scrubbed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
            "WHERE scrubbed_at IS NULL AND coalesce(archived_on, replied_on) IS NOT NULL "
            "AND coalesce(archived_on, replied_on) < ?", [*empty.values(), closed_before]).rowcount
        inbox = conn.execute(
            "UPDATE sync_inbox SET payload = '{}' WHERE kind = 'application' AND payload != '{}' AND uuid IN "
            "(SELECT uuid FROM application WHERE scrubbed_at IS NOT NULL)").rowcount \
            if _has_table(conn, "sync_inbox") else 0
        # A resident's callback phone goes with the same period after the answer.
        phones = conn.execute("UPDATE resident_question SET phone = '' WHERE phone != '' AND stage = 'answered' "
                              "AND answered_on < ?", (closed_before,)).rowcount \
            if _has_table(conn, "resident_question") else 0
        # Letters and scanned replies carry the applicant's name and address: they go too
        # (the yearly tables need none of them), the scans' files after the commit.
        scans = _scanned_files(conn)
        for table in ("application_letter", "application_document"):
            if _has_table(conn, table):
                conn.execute(f"DELETE FROM {table} WHERE application_uuid IN "
                             "(SELECT uuid FROM application WHERE scrubbed_at IS NOT NULL)")
        marks = ",".join("?" * len(ACCESS_ACTIONS))
        logs = conn.execute(f"DELETE FROM audit_log WHERE action IN ({marks}) AND at < ?",
                            [*ACCESS_ACTIONS, access_before]).rowcount
        # Sessions last hours; their rows (with the address) go with the access records.
        sessions = conn.execute("DELETE FROM staff_session WHERE created_at < ?",
                                (access_before,)).rowcount
    files = _delete_unused_blobs(conn, data_dir, scans) if data_dir is not None else 0
    return {"applications": apps, "inbox": inbox, "access_logs": logs, "sessions": sessions,
            "callback_phones": phones, "scan_files": files}


def _scanned_files(conn: sqlite3.Connection) -> set[str]:
    """The files (original and page pictures) of the scanned replies of scrubbed applications."""
    if not _has_table(conn, "application_document"):
        return set()
    out = set()
    for sha, pictures in conn.execute(
            "SELECT sha256, pictures FROM application_document WHERE application_uuid IN "
            "(SELECT uuid FROM application WHERE scrubbed_at IS NOT NULL)"):
        out.add(sha)
        out.update(json.loads(pictures or "[]"))
    return out


def _delete_unused_blobs(conn: sqlite3.Connection, data_dir, shas: set[str]) -> int:
    """Delete these blobs unless something else still names them (the same file uploaded as a
    notice's or policy's attachment, or another application's scan)."""
    from .uploads import blob_path  # noqa: PLC0415  (uploads pulls in the picture libraries)
    gone = 0
    for sha in sorted(shas):
        if _blob_named(conn, sha):
            continue
        try:
            blob_path(data_dir, sha).unlink()
            gone += 1
        except (FileNotFoundError, ValueError):
            pass
    return gone


def _blob_named(conn: sqlite3.Connection, sha: str) -> bool:
    for table, where in (("application_document", "sha256 = ?1 OR instr(pictures, ?1)"),
                         ("attachment", "sha256 = ?1"), ("policy_attachment", "sha256 = ?1"),
                         ("revision", "instr(data, ?1)")):
        if _has_table(conn, table) and conn.execute(
                f"SELECT 1 FROM {table} WHERE {where} LIMIT 1", (sha,)).fetchone():
            return True
    return False


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


# ---------------------------------------------------------------- history at the hub

# Days each kind of operational history is kept at the hub (settings ``<name>_retention_days``).
HISTORY_DEFAULTS = {
    "usage": 1100,          # daily view totals: three years, for year-on-year assessment
    "inbox": 400,           # raw copies of upstream records (their data lives in its own table)
    "audit": 1830,          # content changes, reviews, settings: five years
    "notification": 180,    # notifications and their deliveries
    "display": 1100,        # 公示留痕: three years of what the boards showed, for audits
}


def purge_history(conn: sqlite3.Connection, today: date, days: dict | None = None) -> dict:
    """(hub) Remove operational history older than its retention period; then give the
    freed pages back to the file system a little at a time (incremental vacuum)."""
    days = {**HISTORY_DEFAULTS, **(days or {})}
    before = {k: (today - timedelta(days=int(v))).isoformat() for k, v in days.items()}
    done = {}
    with immediate(conn):
        done["usage"] = conn.execute("DELETE FROM usage_view WHERE day < ?", (before["usage"],)).rowcount \
            + conn.execute("DELETE FROM usage_search_miss WHERE day < ?", (before["usage"],)).rowcount
        # Inbox rows are the hub's memory of which UUIDs it holds: a terminal never resends a
        # record it had acknowledged, so rows past the period can go, payload and all.
        done["inbox"] = conn.execute("DELETE FROM sync_inbox WHERE received_at < ?",
                                     (before["inbox"],)).rowcount if _has_table(conn, "sync_inbox") else 0
        # Letters and scanned replies carry the applicant's name and address: they go too
        # (the yearly tables need none of them).
        for table in ("application_letter", "application_document"):
            if _has_table(conn, table):
                conn.execute(f"DELETE FROM {table} WHERE application_uuid IN "
                             "(SELECT uuid FROM application WHERE scrubbed_at IS NOT NULL)")
        marks = ",".join("?" * len(ACCESS_ACTIONS))
        done["audit"] = conn.execute(f"DELETE FROM audit_log WHERE at < ? AND action NOT IN ({marks})",
                                     [before["audit"], *ACCESS_ACTIONS]).rowcount
        if _has_table(conn, "notification"):
            old = "SELECT id FROM notification WHERE created_at < ?"
            conn.execute(f"DELETE FROM notify_delivery WHERE notification_id IN ({old}) "
                         "AND status IN ('sent', 'failed')", (before["notification"],))
            done["notification"] = conn.execute(
                f"DELETE FROM notification WHERE created_at < ? AND id NOT IN "
                f"(SELECT notification_id FROM notify_delivery)", (before["notification"],)).rowcount
        if _has_table(conn, "display_report"):
            done["display"] = conn.execute("DELETE FROM display_report WHERE day < ?",
                                           (before["display"],)).rowcount
    incremental_vacuum(conn)
    return done


def incremental_vacuum(conn: sqlite3.Connection, pages: int = 2000) -> None:
    """Free pages go back to the disk a few MB at a time. A database made before this was
    switched on is converted once (a full VACUUM, outside any transaction)."""
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("VACUUM")
    conn.execute(f"PRAGMA incremental_vacuum({int(pages)})")
