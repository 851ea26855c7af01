"""Hub side: cut the published content into content-addressed files and sign one manifest per scope.

What a terminal of a scope gets: the jurisdiction tree, domains and matters
(shared by everyone) plus the published rows owned by the jurisdictions it
can see (a village: its county, township and itself; a township: the county,
itself and its villages; the county: everything).

Each table is split per owning jurisdiction and then into chunks whose
boundaries depend on the rows' keys only (content-defined chunking), so an
edit or a new notice changes one chunk, and the county's chunks are the same
blobs in every village's bundle.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from content import jurisdictions, office_phones, privacy
from content.db import get_meta, immediate, set_meta

from . import bundle, publish_state

log = logging.getLogger(__name__)

# Tables a bundle carries, in dependency order; tables missing in this database are skipped.
CONTENT_TABLES = ("jurisdiction", "domain", "matter", "catalogue_item", "village_item",
                  "notice", "attachment", "guide", "handbook", "handbook_guide",
                  "consultation", "board",
                  # 政策文件 and their 解读 (content.policies); ROW_FILTERS keeps 不予公开 at the hub
                  "policy_document", "policy_document_item", "policy_interpretation", "policy_attachment",
                  "application_status",       # stages of applications, no personal data (content.applications)
                  "question_answer", "question_status",   # answers to residents (content.resident_questions)
                  "holiday_year", "holiday_day")   # the holiday calendar staff entered (content.holidays)

# Published rows that still never leave the hub, per table (an SQL condition on the row):
# 不予公开 documents at all, and of 依申请公开 ones everything but their metadata.
_OPEN_DOCUMENT = ("document_id IN (SELECT id FROM policy_document WHERE status = 'published' "
                  "AND disclosure = '主动公开')")
ROW_FILTERS = {"policy_document": "disclosure <> '不予公开'",
               "policy_interpretation": _OPEN_DOCUMENT, "policy_attachment": _OPEN_DOCUMENT}
# Columns sent blank, per table: the text of a document that is not 主动公开.
COLUMN_FILTERS = {"policy_document": {"body": "CASE WHEN disclosure = '主动公开' THEN body ELSE '' END"}}
# Tables whose rows name pictures terminals need (content.pictures.shown).
PICTURE_TABLES = ("attachment", "policy_attachment")

# Instance facts every terminal shows (the county's name, the demo marking); nothing else of meta.
SHARED_META = ("county_name", "demo", "sample_data_notice", "demo_built_on",
               "public_url")       # the hub's public address: every QR code on terminals starts there

CHUNK_TARGET = 256           # expected rows per chunk (boundary when hash(key) % this == 0)
CHUNK_MAX_ROWS = 2048
CHUNK_MAX_BYTES = 2 * 1024 * 1024

DEFAULT_EXPIRY_DAYS = 7
DEFAULT_RESIGN_HOURS = 24


def published_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "published"


def keys_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "keys"


def signing_key_path(data_dir: Path) -> Path:
    return keys_dir(data_dir) / "signing.pem"


def attachment_path(data_dir: Path, sha: str) -> Path:
    """Where content.uploads keeps an attachment (data_dir/blobs/ab/abcdef…)."""
    try:
        from content.uploads import blob_path  # noqa: PLC0415  (module lands with the admin)
        return blob_path(data_dir, sha)
    except ImportError:
        return Path(data_dir) / "blobs" / sha[:2] / sha


def signing_keys(data_dir: Path) -> list:
    """The current key, plus the previous one during a key rotation."""
    path = signing_key_path(data_dir)
    if not path.exists():
        raise FileNotFoundError(f"没有签名密钥 {path}，请先运行 kiosk keygen")
    keys = [bundle.load_private_key(path)]
    previous = keys_dir(data_dir) / "previous.pem"
    if previous.exists():
        keys.append(bundle.load_private_key(previous))
    return keys


# ---------------------------------------------------------------- schema introspection

@dataclass
class Table:
    name: str
    columns: list[str]
    key: list[str]
    fks: list[tuple[int, str, str, bool]]       # (column index, target table, target column, not null)
    has_status: bool
    owner_col: int | None                       # index of jurisdiction_code

    def key_of(self, row) -> tuple:
        return tuple(row[i] for i in self.key_at)

    @property
    def key_at(self) -> list[int]:
        return [self.columns.index(k) for k in self.key]


META_TABLE = Table("meta", ["key", "value"], ["key"], [], False, None)


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


def describe(conn: sqlite3.Connection, name: str) -> Table:
    info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
    columns = [r["name"] for r in info]
    key = [r["name"] for r in sorted((r for r in info if r["pk"]), key=lambda r: r["pk"])]
    notnull = {r["name"]: bool(r["notnull"]) for r in info}
    fks = []
    for fk in conn.execute(f'PRAGMA foreign_key_list("{name}")').fetchall():
        target_col = fk["to"]
        if target_col is None:
            target_col = describe(conn, fk["table"]).key[0]
        fks.append((columns.index(fk["from"]), fk["table"], target_col, notnull[fk["from"]]))
    return Table(name, columns, key or columns, fks, "status" in columns,
                 columns.index("jurisdiction_code") if "jurisdiction_code" in columns else None)


def content_tables(conn: sqlite3.Connection) -> list[Table]:
    return [describe(conn, t) for t in CONTENT_TABLES if table_exists(conn, t)]


# ---------------------------------------------------------------- snapshot and chunks

@dataclass
class Chunk:
    name: str
    table: Table
    texts: list[bytes] | None                  # rows as encoded (bundle.encode_row)
    refs: list[list[tuple[int, str, bool]]]   # per row: (column, owner of target, not null)
    owner: str | None = None
    ref_owners: set = field(default_factory=set)
    entry: dict | None = None                  # its blob, once made (shared by every scope)
    pictures: list[str] = field(default_factory=list)   # attachment blobs its rows show

    @property
    def rows(self) -> list[list]:
        return [json.loads(t) for t in self.texts or ()]


def _chunk_boundary(key: tuple) -> bool:
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % CHUNK_TARGET == 0


def _key_label(key: tuple) -> str:
    text = "-".join(str(k) for k in key)
    if bundle.FILE_NAME.match("x/" + text) and len(text) <= 80 and ".." not in text:
        return text
    return "h" + hashlib.sha256(text.encode()).hexdigest()[:24]


class Snapshot:
    """The published rows of every content table, with owners and cross-references.

    With a row cache (publish_state.RowCache) only rows written since the last round are
    read whole, masked and encoded; the others come encoded from the cache, and only their
    key, owner and reference columns are read. ``seal`` is called with each chunk as soon as
    it is complete (the publisher makes its blob there and may let go of its rows)."""

    def __init__(self, conn: sqlite3.Connection, cache=None, tables: list[Table] | None = None,
                 seal=None):
        self.tables = tables if tables is not None else content_tables(conn)
        self.by_name = {t.name: t for t in self.tables}
        self.owner: dict[str, dict] = {}           # table → {target value: owner code}
        self.chunks: list[Chunk] = []
        self.masked_cells = 0                      # personal data caught here, behind review
        self.cache = cache
        self.seal = seal
        self._allowed: dict[str | None, frozenset] = {}
        county = jurisdictions.county(conn)
        self._county = county["code"] if county else None
        for t in self.tables:
            self._load(conn, t)
            if cache is not None:
                cache.flush()
        marks = ", ".join("?" for _ in SHARED_META)
        meta = [bundle.encode_row(list(r)) for r in conn.execute(
            f"SELECT key, value FROM meta WHERE key IN ({marks}) ORDER BY key", SHARED_META)]
        if meta:
            self._add(Chunk("meta", META_TABLE, meta, [[] for _ in meta]))

    def _add(self, chunk: Chunk) -> None:
        self.chunks.append(chunk)
        if self.seal is not None:
            self.seal(chunk)

    def _rows(self, conn: sqlite3.Connection, t: Table, need: list[int]):
        """(values, encoded row, cache key, columns cleared, row with them cleared) per published
        row in key order; ``values`` holds the columns ``need`` names (and nothing else)."""
        conditions = (["x.status = 'published'"] if t.has_status else []) + (
            [ROW_FILTERS[t.name]] if t.name in ROW_FILTERS else [])
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        order = ", ".join(f'x."{k}"' for k in t.key)
        needed = ", ".join(f'x."{t.columns[i]}"' for i in need)
        blank = COLUMN_FILTERS.get(t.name, {})
        full = ", ".join(blank.get(c, f'x."{c}"') for c in t.columns)
        cache = self.cache
        keyed = publish_state.key_sql(t, "x") if cache is not None else "NULL"
        cur = conn.cursor()
        cur.row_factory = None
        width = len(t.columns)
        needed_at = set(need)            # the rest of a row is only needed encoded
        # Links to tables no terminal gets (a user) are always cleared: before encoding, so a
        # cached row needs no decoding for them.
        never = [idx for idx, target, _, notnull in t.fks
                 if target not in self.by_name and target != t.name and not notnull]

        def fresh(key, row):
            values = self._masked(conn, t, list(row))
            for idx in never:
                values[idx] = None
            text = bundle.encode_row(values)
            if cache is not None:
                cache.fresh.append((t.name, key, text))
            return [values[i] if i in needed_at else None for i in range(width)], text

        if cache is None or not cache.usable:
            for r in cur.execute(f'SELECT {keyed}, {full} FROM "{t.name}" AS x{where} ORDER BY {order}'):
                values, text = fresh(r[0], r[1:])
                yield values, text, r[0], None, None
            return
        # The cache whole (one sequential read), the rows' key, owner and link columns, and
        # only the rows missing from the cache in full: cheaper than a join row by row.
        cached = {r[0]: r[1:] for r in cur.execute(
            "SELECT key, row, cleared, cleared_row FROM publish_row WHERE tbl = ?", (t.name,))}
        scan = cur.execute(f'SELECT {keyed}, {needed} FROM "{t.name}" AS x{where} ORDER BY {order}').fetchall()
        missing = [r for r in scan if r[0] not in cached]
        made = {}
        if missing:
            if len(t.key) == 1:
                keys = [r[1 + need.index(t.columns.index(t.key[0]))] for r in missing]
                for i in range(0, len(keys), 500):
                    part = keys[i:i + 500]
                    for r in conn.execute(f'SELECT {keyed}, {full} FROM "{t.name}" AS x WHERE x."{t.key[0]}" '
                                          f'IN ({", ".join("?" * len(part))})', part):
                        made[r[0]] = fresh(r[0], r[1:])
            else:
                for r in conn.execute(
                        f'SELECT {keyed}, {full} FROM "{t.name}" AS x{where or " WHERE 1"} AND NOT EXISTS '
                        f'(SELECT 1 FROM publish_row AS c WHERE c.tbl = ? AND c.key = {keyed})', (t.name,)):
                    made[r[0]] = fresh(r[0], r[1:])
        for r in scan:
            key = r[0]
            hit = cached.get(key)
            if hit is None:
                values, text = made[key]
                yield values, text, key, None, None
                continue
            values = [None] * width
            for j, i in enumerate(need):
                values[i] = r[1 + j]
            for idx in never:
                values[idx] = None
            yield values, hit[0], key, hit[1], hit[2]

    def _load(self, conn: sqlite3.Connection, t: Table) -> None:
        # Columns someone points at, the key, the references and the owner: read for every row.
        wanted = {tcol for other in self.tables for _, tt, tcol, _ in other.fks if tt == t.name}
        need = sorted({t.columns.index(k) for k in t.key} | {i for i, _, _, _ in t.fks}
                      | {t.columns.index(c) for c in wanted}
                      | ({t.owner_col} if t.owner_col is not None else set()))
        groups: dict[str | None, tuple[list, list, list]] = {}     # owner → rows, texts, refs
        owned = [(tcol, t.columns.index(tcol), {}) for tcol in wanted]
        # (column, rows it may point at, not null) per link; self references (the jurisdiction
        # tree) are left alone.
        links = [(idx, self.owner.get(target, {}).get(tcol), notnull)
                 for idx, target, tcol, notnull in t.fks if target != t.name]
        for row, text, cache_key, was_cleared, cleared_text in self._rows(conn, t, need):
            refs, drop, cleared = [], False, []
            for idx, targets, notnull in links:
                value = row[idx]
                if value is None:
                    continue
                if targets is None or value not in targets:
                    # Points at something no terminal gets (a user, a draft): drop the link.
                    if notnull:
                        drop = True
                        break
                    row[idx] = None
                    cleared.append(idx)
                    continue
                refs.append((idx, targets[value], notnull))
            if drop:
                continue
            if cleared:
                spec = ",".join(map(str, cleared))
                if spec == was_cleared and cleared_text is not None:
                    text = cleared_text
                else:
                    full = json.loads(text)
                    for idx in cleared:
                        full[idx] = None
                    text = bundle.encode_row(full)
                    if self.cache is not None and cache_key is not None:
                        self.cache.cleared.append((spec, text, t.name, cache_key))
            # Owner: its jurisdiction, else the owner of its first required parent.
            if t.name == "jurisdiction":
                owner = None
            elif t.owner_col is not None:
                owner = row[t.owner_col]
            else:
                owner = next((o for _, o, nn in refs if nn and o is not None), None)
            group = groups.get(owner)
            if group is None:
                group = groups[owner] = ([], [], [])
            group[0].append(row)
            group[1].append(text)
            # Only links to another owner's rows matter to which scopes get the row.
            group[2].append([r for r in refs if r[1] is not None and r[1] != owner] if refs else refs)
            for tcol, at, lookup in owned:
                lookup[row[at]] = owner
        # Lookup tables for rows referencing this one: for every column someone points at.
        self.owner[t.name] = {tcol: lookup for tcol, _, lookup in owned}
        for owner, (rows, texts, refs) in groups.items():
            self._chunk(t, owner, rows, texts, refs)

    def _masked(self, conn: sqlite3.Connection, t: Table, row: list) -> list:
        """The last line of defence: nothing unmasked leaves the hub, whatever slipped past
        review (an import, a direct database edit, an older version of the guard)."""
        if t.name in ("jurisdiction", "domain"):
            return row
        code = row[t.owner_col] if t.owner_col is not None else self._county
        if code not in self._allowed:
            self._allowed[code] = office_phones.allowed(conn, code)
        masked, changed = privacy.mask_published_row(t.columns, row, self._allowed[code])
        self.masked_cells += changed
        return masked

    def _chunk(self, t: Table, owner, rows, texts, refs) -> None:
        prefix = f"{t.name}/{owner}" if owner is not None else t.name
        start, size = 0, 0
        key_at = t.key_at
        for i, row in enumerate(rows):
            size += len(texts[i]) + 1
            last = i == len(rows) - 1
            if last or _chunk_boundary(tuple(row[k] for k in key_at)) \
                    or i + 1 - start >= CHUNK_MAX_ROWS or size >= CHUNK_MAX_BYTES:
                first = t.key_of(rows[start])
                chunk_refs = refs[start:i + 1]
                self._add(Chunk(f"{prefix}/{_key_label(first)}", t, texts[start:i + 1], chunk_refs,
                                owner, {o for r in chunk_refs for _, o, _ in r}))
                start, size = i + 1, 0


# ---------------------------------------------------------------- publishing

class Publisher:
    def __init__(self, data_dir: Path, conn: sqlite3.Connection):
        self.data_dir = Path(data_dir)
        self.conn = conn
        self.out = published_dir(data_dir)
        self.blobs = bundle.BlobStore(self.out / "blobs")
        self._blob_cache: dict[str, tuple[str, int]] = {}
        self._variants: dict[tuple, dict] = {}
        self._attachments: dict[str, dict | None] = {}
        self.new_map: list[tuple[str, str, int]] = []    # raw → blob, written after the snapshot
        self.pending = bundle.FileBatch()                 # new blobs, written before any manifest
        self.pending_shas: set[str] = set()

    def seal(self, chunk: Chunk) -> None:
        """A chunk is complete: make its blob; keep its rows only if some scope needs a
        variant of it (rows pointing at what that scope does not get)."""
        chunk.entry = self.blob_for(chunk, chunk.texts)
        if chunk.table.name in PICTURE_TABLES:
            chunk.pictures = self.pictures(chunk.table, chunk.rows)
        if not chunk.ref_owners:
            chunk.texts = None

    def blob_for(self, chunk: Chunk, texts: list[bytes]) -> dict:
        raw = bundle.encode_table_blob_rows(chunk.table.name, chunk.table.columns, chunk.table.key,
                                            texts)
        raw_sha = bundle.sha256_hex(raw)
        hit = self._blob_cache.get(raw_sha)
        if hit is None:
            row = self.conn.execute("SELECT sha256, length FROM sync_blob_map WHERE raw_sha256 = ?",
                                    (raw_sha,)).fetchone()
            if row is not None and (row[0] in self.pending_shas or self.blobs.has(row[0], row[1])):
                hit = (row[0], row[1])
            else:
                data = bundle.compress(raw)
                sha = self.blobs.put(data, self.pending)
                self.pending_shas.add(sha)
                hit = (sha, len(data))
                self.new_map.append((raw_sha, sha, len(data)))
            self._blob_cache[raw_sha] = hit
        return {"sha256": hit[0], "length": hit[1]}

    def flush_map(self) -> None:
        """Remember the blobs made this round (raw hash → compressed blob), after the snapshot:
        writing inside its read transaction would hold the database's write lock."""
        if self.new_map:
            with immediate(self.conn):
                self.conn.executemany("INSERT OR REPLACE INTO sync_blob_map(raw_sha256, sha256, length) "
                                      "VALUES (?, ?, ?)", self.new_map)
            self.new_map = []

    def attachment(self, sha: str) -> dict | None:
        """Put an attachment into the published blobs (same hash) and describe it."""
        if sha in self._attachments:
            return self._attachments[sha]
        self._attachments[sha] = entry = self._copy_attachment(sha)
        return entry

    def _copy_attachment(self, sha: str) -> dict | None:
        if not bundle.HEX64.match(sha or ""):
            return None
        src = attachment_path(self.data_dir, sha)
        if not src.is_file():
            return None
        if not self.blobs.has(sha, src.stat().st_size):
            dst = self.blobs.path(sha)
            tmp = dst.with_name(dst.name + ".tmp")
            shutil.copyfile(src, tmp)
            if bundle.sha256_hex(tmp.read_bytes()) != sha:
                tmp.unlink()
                return None
            os.replace(tmp, dst)
        return {"sha256": sha, "length": self.blobs.path(sha).stat().st_size}

    def _variant(self, chunk: Chunk, codes: set) -> tuple[dict, list[str]] | None:
        """The chunk for a scope that does not get some rows' targets: those rows dropped (a
        required link) or their link cleared; None when no row is left. Memoised by what
        was changed, so scopes that see the same targets share the work."""
        memo_key = (chunk.name, frozenset(chunk.ref_owners - codes))
        if memo_key not in self._variants:
            changes = []
            for i, refs in enumerate(chunk.refs):
                gone = tuple((idx, notnull) for idx, target_owner, notnull in refs
                             if target_owner is not None and target_owner not in codes)
                if gone:
                    changes.append((i, gone))
            texts, changed = [], dict(changes)
            for i, text in enumerate(chunk.texts):
                gone = changed.get(i)
                if gone is None:
                    texts.append(text)
                elif not any(notnull for _, notnull in gone):
                    row = json.loads(text)
                    for idx, _ in gone:
                        row[idx] = None
                    texts.append(bundle.encode_row(row))
            if not texts:
                self._variants[memo_key] = None
            else:
                pictures = (self.pictures(chunk.table, [json.loads(t) for t in texts])
                            if chunk.table.name in PICTURE_TABLES else [])
                self._variants[memo_key] = (self.blob_for(chunk, texts), pictures)
        return self._variants[memo_key]

    def scope_files(self, snap: Snapshot, scope: str) -> dict:
        codes = set(jurisdictions.visible_codes(self.conn, scope))
        files = {}
        for chunk in snap.chunks:
            if chunk.owner is not None and chunk.owner not in codes:
                continue
            if chunk.ref_owners <= codes:
                if chunk.entry is None:
                    self.seal(chunk)
                entry, pictures = chunk.entry, chunk.pictures
            else:
                variant = self._variant(chunk, codes)
                if variant is None:
                    continue
                entry, pictures = variant
            files[chunk.name] = entry
            for picture in pictures:
                blob = self.attachment(picture)
                if blob is not None:
                    files[f"blob/{blob['sha256']}"] = blob
        return files

    @staticmethod
    def pictures(table: Table, rows: list[list]) -> list[str]:
        """The blobs terminals need for attachment rows: what residents see (content.pictures),
        never a PDF's original."""
        from content.pictures import shown  # noqa: PLC0415
        out = []
        for row in rows:
            out += [p["sha256"] for p in shown(dict(zip(table.columns, row)))]
        return out


_SIGNED_HEAD = re.compile(rb'\{"signed":\{"type":"kiosk-bundle","spec":1,"scope":"[0-9]{12}",'
                          rb'"version":([0-9]{1,18}),')


def _disk_version(path: Path) -> int:
    """The version of the manifest on disk (0 if none): read from its head when it is as this
    hub writes it (bundle.build_signed's order), else parsed whole."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    m = _SIGNED_HEAD.match(data, 0, 256)
    if m:
        return int(m.group(1))
    try:
        return int(json.loads(data)["signed"]["version"])
    except (ValueError, KeyError, TypeError):
        return 0


@contextmanager
def publish_lock(data_dir: Path):
    out = published_dir(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def publish_all(data_dir: Path, conn: sqlite3.Connection, *, expiry_days: float = DEFAULT_EXPIRY_DAYS,
                resign_hours: float = DEFAULT_RESIGN_HOURS, force: bool = False,
                progress=None, now=None) -> list[dict]:
    """Write blobs and a signed manifest for every scope; return what changed per scope.

    A scope gets a new version when its files changed, when its manifest is
    older than ``resign_hours`` (so it never reaches its expiry), or with ``force``.
    When nothing a bundle is cut from changed since the last round (sync.publish_state),
    nothing is cut: only the manifests due are re-signed with the files they list.
    """
    data_dir = Path(data_dir)
    keys = signing_keys(data_dir)
    now = now or bundle.utcnow()
    out = published_dir(data_dir)
    with publish_lock(data_dir):
        tables = content_tables(conn)
        untracked = publish_state.ensure_tracking(conn, tables, SHARED_META)
        pub = snap = None
        # One read transaction: the rows, the change counter and the token agree.
        conn.execute("BEGIN")
        try:
            counter = publish_state.changes(conn)
            token = publish_state.token(conn, tables)
            scopes = conn.execute("SELECT code, name, level FROM jurisdiction ORDER BY code").fetchall()
            states = {r["scope"]: r for r in conn.execute("SELECT * FROM sync_scope")}
            quiet = (not force and not untracked
                     and publish_state.seen(conn) == {"changes": counter, "token": token}
                     and all(j["code"] in states and (out / j["code"] / "manifest.json").exists()
                             for j in scopes))
            if not quiet:
                pub, snap = _cut(data_dir, conn, tables, token, counter)
        finally:
            conn.execute("COMMIT")
        if quiet:
            results = _resign_due(data_dir, conn, keys, scopes, states, now, expiry_days,
                                  resign_hours, progress)
            if results is not None:
                return results
            # A manifest on disk is not the one recorded: cut everything as usual.
            conn.execute("BEGIN")
            try:
                pub, snap = _cut(data_dir, conn, tables, token, counter)
            finally:
                conn.execute("COMMIT")
        pub.pending.write()
        pub.flush_map()
        if snap.masked_cells:
            log.warning("publish: masked personal data in %d published cells that had got past review",
                        snap.masked_cells)
        files = {j["code"]: pub.scope_files(snap, j["code"]) for j in scopes}
        pub.pending.write()                    # every blob on disk before a manifest names it
        pub.flush_map()
        signed = _sign_scopes(data_dir, conn, keys, scopes, files, now, expiry_days,
                              resign_hours, force, progress)
        results = [{"scope": j["code"], "version": signed[j["code"]][0], "changed": signed[j["code"]][1],
                    "files": len(files[j["code"]])} for j in scopes]
        index = [{"scope": j["code"], "level": j["level"], "name": j["name"],
                  "version": signed[j["code"]][0]} for j in scopes]
        _finish_round(conn, out, index, results, now, lambda: publish_state.mark_seen(conn, counter, token))
    return results


def _cut(data_dir: Path, conn: sqlite3.Connection, tables, token: str, counter: int):
    """Read the snapshot (inside the caller's read transaction) and make its chunks' blobs;
    the rows masked meanwhile go into the row cache."""
    pub = Publisher(data_dir, conn)
    cache = publish_state.RowCache.open(conn, token, counter)
    try:
        return pub, Snapshot(conn, cache=cache, tables=tables, seal=pub.seal)
    finally:
        cache.close()


SIGN_GROUP = 64              # scopes whose manifests are written together


def _sign_scopes(data_dir: Path, conn: sqlite3.Connection, keys, scopes, files: dict, now,
                 expiry_days: float, resign_hours: float, force: bool,
                 progress=None) -> dict[str, tuple[int, bool]]:
    """Sign and write a new manifest for each scope unless its files are the ones published
    and its manifest is not yet due for re-signing; scope → (version, whether one was written).

    A group of scopes at a time: the copies for pruning first, then the manifests, then
    their record in sync_scope (a crash in between costs a version number, never a manifest)."""
    from .prune import history_path  # noqa: PLC0415  (prune imports this module)
    out = published_dir(data_dir)
    done = {}
    for start in range(0, len(scopes), SIGN_GROUP):
        group = scopes[start:start + SIGN_GROUP]
        states = {r["scope"]: r for r in conn.execute(
            f"SELECT * FROM sync_scope WHERE scope IN ({', '.join('?' for _ in group)})",
            [j["code"] for j in group])}
        history, manifests, rows = bundle.FileBatch(), bundle.FileBatch(), []
        for j in group:
            scope, state = j["code"], states.get(j["code"])
            files_hash = bundle.sha256_hex(bundle.canonical(files[scope]))
            path = out / scope / "manifest.json"
            fresh = (state is not None and state["files_hash"] == files_hash
                     and bundle.parse_iso(state["created"]) + timedelta(hours=resign_hours) > now
                     and _disk_version(path) == state["version"])
            if fresh and not force:
                done[scope] = (state["version"], False)
                continue
            version = max(state["version"] if state else 0, _disk_version(path)) + 1
            signed = bundle.build_signed(scope, version, files[scope], now,
                                         now + timedelta(days=expiry_days))
            data = json.dumps(bundle.sign_manifest(signed, keys), ensure_ascii=False,
                              separators=(",", ":")).encode()
            history.add(history_path(data_dir, scope, version), data)
            manifests.add(path, data)
            rows.append((scope, version, files_hash, signed["created"], signed["expires"]))
            done[scope] = (version, True)
        # The copies first: pruning must know every manifest a terminal may hold.
        history.write()
        manifests.write()
        if rows:
            with immediate(conn):
                conn.executemany(
                    "INSERT INTO sync_scope(scope, version, files_hash, created, expires) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(scope) DO UPDATE SET "
                    "version = excluded.version, files_hash = excluded.files_hash, "
                    "created = excluded.created, expires = excluded.expires", rows)
        if progress:
            for j in group:
                progress(j)
    return done


def _resign_due(data_dir: Path, conn: sqlite3.Connection, keys, scopes, states: dict, now,
                expiry_days: float, resign_hours: float, progress) -> list[dict] | None:
    """Nothing changed: re-sign, with the files they list, only the manifests due; the rest
    stand. None when a due manifest on disk is not the one recorded (cut everything then)."""
    out = published_dir(data_dir)
    due, files = [], {}
    for j in scopes:
        state = states[j["code"]]
        if bundle.parse_iso(state["created"]) + timedelta(hours=resign_hours) > now:
            continue
        try:
            signed = json.loads((out / j["code"] / "manifest.json").read_bytes())["signed"]
            listed = signed["files"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if signed.get("version") != state["version"] or \
                bundle.sha256_hex(bundle.canonical(listed)) != state["files_hash"]:
            return None
        due.append(j)
        files[j["code"]] = listed
    signed = _sign_scopes(data_dir, conn, keys, due, files, now, expiry_days, resign_hours, False)
    results, index = [], []
    for j in scopes:
        version, changed = signed.get(j["code"], (states[j["code"]]["version"], False))
        index.append({"scope": j["code"], "level": j["level"], "name": j["name"], "version": version})
        results.append({"scope": j["code"], "version": version, "changed": changed,
                        "files": len(files[j["code"]]) if j["code"] in files else None})
        if progress:
            progress(j)
    _finish_round(conn, out, index, results, now, None,
                  write_index=bool(due) or not (out / "index.json").exists())
    return results


def _finish_round(conn: sqlite3.Connection, out: Path, index: list, results: list, now,
                  mark, write_index: bool = True) -> None:
    if write_index:
        bundle.atomic_write(out / "index.json",
                            json.dumps(index, ensure_ascii=False, indent=1).encode())
    with immediate(conn):
        set_meta(conn, "sync_published_at", bundle.iso(now))
        if mark is not None:
            mark()
        county = jurisdictions.county(conn)
        if county is not None:
            version = next((r["version"] for r in results if r["scope"] == county["code"]), None)
            if version is not None:
                set_meta(conn, "content_version", str(version))


def newest_versions(conn: sqlite3.Connection) -> dict[str, int]:
    return {r[0]: r[1] for r in conn.execute("SELECT scope, version FROM sync_scope")}


def last_published(conn: sqlite3.Connection) -> str | None:
    return get_meta(conn, "sync_published_at")
