"""Writing a bundle's table files into the terminal's content tables, inside the caller's
transaction: a full load replaces every table; an update writes only the rows that differ.

An update reads only the new versions of the changed files. Rows whose text the terminal
applied before (sync.row_texts: digests kept per applied file in sync_applied_file) are
neither decoded nor compared; the others are decoded and compared with the database by
SQLite, and only those that differ are written. The keys the replaced files held that no
new file holds are the rows gone.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

from content import search

from . import bundle, row_texts, state
from .publish import CONTENT_TABLES, META_TABLE, SHARED_META, describe, table_exists
from .state import SyncError


def local_tables(conn: sqlite3.Connection) -> dict:
    tables = {t: describe(conn, t) for t in CONTENT_TABLES if table_exists(conn, t)}
    tables["meta"] = META_TABLE
    return tables


@dataclass
class FileRows:
    """One table file as it is written here."""
    table: object                # sync.publish.Table
    names: tuple                 # the file's columns this terminal has, in the file's order
    keys: list                   # every row's key, in file order
    digests: list | None         # every row's text digest (row_texts), or None if decoded whole
    rows: dict                   # key → values (of ``names``) of the rows decoded

    def record(self) -> tuple:
        """(table, row keys JSON, row digests) as sync_applied_file keeps them."""
        return (self.table.name, json.dumps(self.keys, ensure_ascii=False, separators=(",", ":")),
                b"".join(self.digests) if self.digests is not None else None)


def _table_of(header: dict, tables: dict):
    """The local table a file's head names, and the positions of the columns kept here."""
    table = tables.get(header["table"])
    if table is None:
        raise SyncError(f"内容文件指向本机不存在或不允许的表：{header['table']!s:.40}")
    columns = header["columns"]
    if not all(isinstance(c, str) for c in columns) or list(header["key"]) != table.key:
        raise SyncError(f"内容文件与本机表 {table.name} 的结构不符")
    keep = [i for i, c in enumerate(columns) if c in table.columns]
    if any(k not in [columns[i] for i in keep] for k in table.key):
        raise SyncError(f"内容文件缺少表 {table.name} 的主键列")
    return table, keep


def read_file(cache: bundle.BlobStore, sha: str, tables: dict, name: str, known: dict) -> FileRows:
    """Read one file: rows whose digest ``known`` maps to a key are taken as held already,
    the rest decoded (all of them with an empty ``known``)."""
    raw = bundle.decompress_table_blob(cache.read(sha))
    texts = row_texts.cut(raw)
    read = None
    if texts is not None:
        bundle.check_table_blob(texts.header)
        header = texts.header
        if header["table"] != META_TABLE.name:   # meta: only some of its rows are taken
            read = row_texts.read(texts, known) if known else row_texts.decode_all(texts, raw)
    if read is None:
        header = bundle.decode_table_json(raw)
    table, keep = _table_of(header, tables)
    columns = header["columns"]
    width = len(columns)
    names = tuple(columns[i] for i in keep)
    project = None if len(keep) == width else itemgetter(*keep)
    key_at = [keep.index(columns.index(k)) for k in table.key]
    key_of = itemgetter(*key_at)
    bad = SyncError(f"内容文件 {name} 的行格式不正确")
    if read is None:
        found = header["rows"]
        if any(not isinstance(r, list) or len(r) != width for r in found):
            raise bad
        if table is META_TABLE:             # only the shared facts, never the terminal's own
            found = [r for r in found if r and r[0] in SHARED_META]
        if project is not None:
            found = [list(project(r)) for r in found] if len(keep) > 1 else [[project(r)] for r in found]
        rows = {key_of(r): r for r in found}
        return FileRows(table, names, [key_of(r) for r in found], None, rows)
    digests, entries = read
    keys, rows = [], {}
    for seen, value in entries:
        if seen:
            keys.append(value)
            continue
        if len(value) != width:
            raise bad
        if project is not None:
            value = list(project(value)) if len(keep) > 1 else [project(value)]
        key = key_of(value)
        keys.append(key)
        rows[key] = value
    return FileRows(table, names, keys, digests, rows)


def insert(conn: sqlite3.Connection, table, names: tuple, rows, replace: bool = True) -> None:
    """Write rows; a full load into emptied tables uses plain INSERT (cheaper than OR REPLACE,
    and a key sent twice is then refused instead of silently overwritten)."""
    cols = ", ".join(f'"{c}"' for c in names)
    marks = ", ".join("?" for _ in names)
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    conn.executemany(f'{verb} INTO "{table.name}" ({cols}) VALUES ({marks})', rows)


def _keys_of(row_keys: str, width: int) -> list:
    keys = json.loads(row_keys)
    return keys if width == 1 else [tuple(k) for k in keys]


def full_load(conn, cache, tables: dict, new: dict, add: list) -> dict:
    """Replace every content table: indexes rebuilt and triggers restored after the load
    (the caller indexes search itself), references checked once.

    Returns each file's record for sync_applied_file (FileRows.record)."""
    marks = ", ".join("?" for _ in tables)
    indexes = conn.execute(
        f"SELECT name, sql, type FROM sqlite_master WHERE type IN ('index', 'trigger') "
        f"AND sql IS NOT NULL AND tbl_name IN ({marks})", list(tables)).fetchall()
    for name, _sql, kind in indexes:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    for name in reversed(list(tables)):
        if name != "meta":
            conn.execute(f'DELETE FROM "{name}"')
    conn.execute(f"DELETE FROM meta WHERE key IN ({', '.join('?' for _ in SHARED_META)})", SHARED_META)
    state.hook("cleared")
    # CHECK constraints with IN (...) lists cost SQLite an ephemeral table per row inserted
    # (about half of a notice's insert); they are checked once, set-based, after the load.
    conn.execute("PRAGMA ignore_check_constraints = ON")
    applied = {}
    try:
        for name in add:
            rows = read_file(cache, new[name]["sha256"], tables, name, {})
            if len(rows.rows) != len(rows.keys):
                raise SyncError(f"内容包与本机数据不一致，未应用：内容文件 {name} 中有重复的记录（表 {rows.table.name}）")
            insert(conn, rows.table, rows.names, rows.rows.values(), replace=False)
            applied[name] = rows.record()
            state.hook(f"added {name}")
    finally:
        conn.execute("PRAGMA ignore_check_constraints = OFF")
    for name in tables:      # before the indexes exist: only the tables' own pages to walk
        problems = [r[0] for r in conn.execute(f'PRAGMA quick_check("{name}")')]
        if problems != ["ok"]:
            raise SyncError(f"内容包中表 {name} 的记录不符合本机的约束，未应用：" + "；".join(problems[:3]))
    for _name, sql, _kind in indexes:
        conn.execute(sql)
    state.hook("indexed")
    bad = conn.execute("PRAGMA foreign_key_check").fetchmany(3)
    if bad:
        raise SyncError("内容包中的记录引用了不存在的记录，未应用："
                        + "；".join(f"{r[0]} 第 {r[1]} 行 → {r[2]}" for r in bad))
    return applied


COMPARE_ROWS = 64        # rows per comparing statement (one prepared statement per table and columns)


def changed_keys(conn, table, names: tuple, rows: dict) -> set:
    """Keys of ``rows`` (key → row of ``names``) that the database lacks or holds otherwise.

    SQLite compares: each statement binds a batch of new rows as VALUES and returns the keys
    whose stored row is missing or differs in any column (``IS NOT``, so NULLs compare too)."""
    width = len(names)
    per = max(1, min(COMPARE_ROWS, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    key_at = [names.index(k) for k in table.key]
    one = "(" + ", ".join("?" for _ in names) + ")"
    others = [f't."{c}" IS NOT new.c{i}' for i, c in enumerate(names) if i not in key_at]
    sql = (f"WITH new({', '.join(f'c{i}' for i in range(width))}) AS (VALUES {', '.join([one] * per)}) "
           f"SELECT {', '.join(f'new.c{i}' for i in key_at)} FROM new "
           f'LEFT JOIN "{table.name}" AS t ON '
           + " AND ".join(f't."{names[i]}" = new.c{i}' for i in key_at)
           + f' WHERE t."{names[key_at[0]]}" IS NULL' + "".join(f" OR {o}" for o in others))
    values = list(rows.values())
    if len(values) % per:                          # pad the last batch: a repeated row is harmless
        values += [values[-1]] * (per - len(values) % per)
    cur = conn.cursor()
    cur.row_factory = None
    changed = set()
    flat = chain.from_iterable
    for i in range(0, len(values), per):
        found = cur.execute(sql, list(flat(values[i:i + per]))).fetchall()
        changed.update(r[0] for r in found) if len(key_at) == 1 else changed.update(found)
    return changed


def incremental(conn, cache, tables: dict, old_files: dict, new: dict, remove: list,
                add: list) -> tuple[set, dict]:
    """Only the rows that differ: keys gone are deleted, new or changed rows written.

    ``old_files``: name → (sha256, table, row keys JSON, row digests) of the applied files.
    Returns the search documents the written or deleted rows feed (the caller re-indexes
    exactly those) and each new file's record for sync_applied_file."""
    before: dict[str, set] = {}            # table → keys the replaced files held
    known: dict = {}                       # digest of a row text applied before → its key
    for name in remove:
        _sha, tname, row_keys, row_digests = old_files[name]
        keys = _keys_of(row_keys, len(tables[tname].key))
        before.setdefault(tname, set()).update(keys)
        known.update(row_texts.known_rows(keys, row_digests))
    kept: dict[str, set] = {}               # table → keys the new files hold
    decoded: dict[str, dict] = {}           # table → {column names → {key: row}}
    applied = {}
    for name in add:
        rows = read_file(cache, new[name]["sha256"], tables, name, known)
        kept.setdefault(rows.table.name, set()).update(rows.keys)
        decoded.setdefault(rows.table.name, {}).setdefault(rows.names, {}).update(rows.rows)
        applied[name] = rows.record()
    order = list(tables)
    touched: set[int] = set()
    for tname in sorted(set(kept) | set(before), key=order.index):
        table = tables[tname]
        single = len(table.key) == 1
        held = kept.get(tname, set())
        gone = [k for k in before.get(tname, ()) if k not in held]
        if gone:
            where = " AND ".join(f'"{k}" = ?' for k in table.key)
            conn.executemany(f'DELETE FROM "{tname}" WHERE {where}', [(k,) for k in gone] if single else gone)
        written = []
        for names, rows in decoded.get(tname, {}).items():
            differ = changed_keys(conn, table, names, rows) if rows else set()
            changed = [k for k in rows if k in differ]       # in file order
            insert(conn, table, names, [rows[k] for k in changed])
            written += changed
        if single:
            touched.update(search.doc_ids(conn, tname, gone + written))
        state.hook(f"applied {tname}")
    return touched, applied
