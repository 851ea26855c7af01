"""What a hub's publish round remembers for the next one, so it redoes only what changed.

- **Change tracking.** Triggers on every table a bundle carries (and on the shared meta
  keys) add one to ``publish_change.changes`` and drop the written row's entry from the
  row cache, inside the very transaction that writes the row: an admin edit, an import,
  a withdrawal, a deletion, a direct SQL edit alike. The publish round makes them from
  ``publish.CONTENT_TABLES`` (so a table added later is tracked from its first round) and
  only on the hub; terminals never pay for them. A table whose triggers had to be made
  (or remade: its key or the shared keys changed) has its cache entries dropped.
- **The row cache** (``publish_row``): every published row as it leaves the hub, masked
  and serialised. A round masks and serialises only the rows written since the last one.
- **The fingerprint of a round**: the change counter with a token of everything else the
  bundles are cut from (the code that masks and encodes, the tables' columns, the office
  numbers that may stay readable, the jurisdiction tree). Equal to the last complete
  round's: there is nothing to cut, only manifests near their expiry are re-signed.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from content.db import get_meta, set_meta

TRIGGER_PREFIX = "publish_track_"
SEEN_META = "publish_seen"              # {"changes", "token"} of the last complete round
CACHE_TOKEN_META = "publish_row_token"  # the token the row cache was filled under
# Bump when the encoding of a row changes in a way the source files below do not show.
FORMAT = 1


def _sources() -> list[Path]:
    """The code a published row's bytes depend on: masking, office numbers, encoding."""
    from content import office_phones, personal_numbers, pictures, privacy  # noqa: PLC0415

    from . import bundle, publish  # noqa: PLC0415
    return [Path(m.__file__) for m in (privacy, personal_numbers, office_phones, pictures,
                                       bundle, publish)]


_SOURCE_DIGEST: str | None = None


def _source_digest() -> str:
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        h = hashlib.sha256(f"format {FORMAT}".encode())
        for path in _sources():
            h.update(path.read_bytes())
        _SOURCE_DIGEST = h.hexdigest()
    return _SOURCE_DIGEST


def token(conn: sqlite3.Connection, tables) -> str:
    """Everything besides the rows themselves that a published row's bytes depend on."""
    h = hashlib.sha256(_source_digest().encode())
    for t in tables:
        h.update(json.dumps([t.name, t.columns, t.key]).encode())
    has_phones = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                              "AND name = 'office_phone'").fetchone()
    if has_phones:
        for r in conn.execute("SELECT jurisdiction_code, digits FROM office_phone "
                              "WHERE removed_at IS NULL ORDER BY jurisdiction_code, digits"):
            h.update(f"p{r[0]}:{r[1]};".encode())
    for r in conn.execute("SELECT code, parent_code FROM jurisdiction ORDER BY code"):
        h.update(f"j{r[0]}<{r[1]};".encode())
    return h.hexdigest()


def key_sql(table, alias: str) -> str:
    """SQL for a row's cache key: json_array() of its primary key (the same in triggers)."""
    return "json_array(" + ", ".join(f'{alias}."{k}"' for k in table.key) + ")"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


BUMP = "UPDATE publish_change SET changes = changes + 1 WHERE id = 1;"


def trigger_statements(table) -> dict[str, str]:
    """name → CREATE TRIGGER for one content table."""
    drop = f"DELETE FROM publish_row WHERE tbl = {_quote(table.name)} AND key = "
    new, old = key_sql(table, "NEW"), key_sql(table, "OLD")
    name = f"{TRIGGER_PREFIX}{table.name}"
    on = f'ON "{table.name}"'
    return {
        f"{name}_ins": f"CREATE TRIGGER {name}_ins AFTER INSERT {on} BEGIN {drop}{new}; {BUMP} END",
        f"{name}_upd": (f"CREATE TRIGGER {name}_upd AFTER UPDATE {on} BEGIN {drop}{old}; "
                        f"{drop}{new}; {BUMP} END"),
        f"{name}_del": f"CREATE TRIGGER {name}_del AFTER DELETE {on} BEGIN {drop}{old}; {BUMP} END",
    }


def meta_trigger_statements(shared_keys) -> dict[str, str]:
    """The meta keys every terminal gets: a change to one is a change to publish."""
    keys = "(" + ", ".join(_quote(k) for k in shared_keys) + ")"
    name = f"{TRIGGER_PREFIX}meta"
    return {
        f"{name}_ins": f"CREATE TRIGGER {name}_ins AFTER INSERT ON meta WHEN NEW.key IN {keys} "
                       f"BEGIN {BUMP} END",
        f"{name}_upd": f"CREATE TRIGGER {name}_upd AFTER UPDATE ON meta WHEN NEW.key IN {keys} "
                       f"OR OLD.key IN {keys} BEGIN {BUMP} END",
        f"{name}_del": f"CREATE TRIGGER {name}_del AFTER DELETE ON meta WHEN OLD.key IN {keys} "
                       f"BEGIN {BUMP} END",
    }


def ensure_tracking(conn: sqlite3.Connection, tables, shared_keys) -> set[str]:
    """Make the tracking triggers that are missing or out of date; return the tables whose
    triggers were (re)made: their changes until now were not tracked. In its own write
    transaction, with those tables' cache entries dropped."""
    wanted = {t.name: trigger_statements(t) for t in tables}
    wanted["meta"] = meta_trigger_statements(shared_keys)
    have = {r[0]: r[1] for r in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB ?",
        (TRIGGER_PREFIX + "*",))}
    stale = {name for name, statements in wanted.items()
             if any(have.get(n) != sql for n, sql in statements.items())}
    # Triggers of a table no longer carried: its writes must not count as changes.
    orphans = [n for n in have if not any(n in s for s in wanted.values())]
    if not stale and not orphans:
        return set()
    conn.execute("BEGIN IMMEDIATE")
    try:
        for name in orphans:
            conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        for tname in stale:
            for n, sql in wanted[tname].items():
                conn.execute(f'DROP TRIGGER IF EXISTS "{n}"')
                conn.execute(sql)
            conn.execute("DELETE FROM publish_row WHERE tbl = ?", (tname,))
        conn.execute(BUMP)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return stale


def changes(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT changes FROM publish_change WHERE id = 1").fetchone()
    return row[0] if row else -1


def seen(conn: sqlite3.Connection) -> dict:
    try:
        value = json.loads(get_meta(conn, SEEN_META) or "{}")
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def mark_seen(conn: sqlite3.Connection, counter: int, tok: str) -> None:
    set_meta(conn, SEEN_META, json.dumps({"changes": counter, "token": tok}))


@dataclass
class RowCache:
    """The row cache as one round uses it: readable when filled under this round's token;
    the rows masked this round are stored table by table while the snapshot is read (from a
    second connection: the snapshot's own is inside its read transaction), so a first round
    never holds a whole county's rows at once."""
    path: str
    token: str
    counter: int                          # publish_change.changes when the snapshot was read
    usable: bool
    fresh: list = field(default_factory=list)        # (table, key JSON, row JSON)
    cleared: list = field(default_factory=list)      # (columns cleared, row JSON, table, key JSON)
    stale: bool = False                   # something was written since the snapshot
    _writer: sqlite3.Connection | None = None

    @classmethod
    def open(cls, conn: sqlite3.Connection, tok: str, counter: int) -> "RowCache":
        path = conn.execute("PRAGMA database_list").fetchone()[2]
        return cls(path, tok, counter, get_meta(conn, CACHE_TOKEN_META) == tok)

    def flush(self) -> None:
        """Store the rows masked so far, unless anything was written since the snapshot was
        read (their entries could then be stale: the next round masks them again)."""
        fresh, self.fresh = self.fresh, []
        cleared, self.cleared = self.cleared, []
        if not (fresh or cleared) or self.stale:
            return
        if self._writer is None:
            from content.db import connect  # noqa: PLC0415
            self._writer = connect(self.path)
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            if changes(conn) != self.counter:
                self.stale = True
                conn.execute("ROLLBACK")
                return
            if get_meta(conn, CACHE_TOKEN_META) != self.token:
                conn.execute("DELETE FROM publish_row")
                set_meta(conn, CACHE_TOKEN_META, self.token)
            conn.executemany("INSERT OR REPLACE INTO publish_row(tbl, key, row) VALUES (?, ?, ?)", fresh)
            conn.executemany("UPDATE publish_row SET cleared = ?, cleared_row = ? WHERE tbl = ? AND key = ?",
                             cleared)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
