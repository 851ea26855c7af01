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
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from content import jurisdictions, office_phones, privacy
from content.db import get_meta, immediate, set_meta

from . import bundle

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
        return tuple(row[self.columns.index(k)] for k in self.key)


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
    rows: list[list]
    refs: list[list[tuple[int, str, bool]]]   # per row: (column, owner of target, not null)
    owner: str | None = None
    ref_owners: set = field(default_factory=set)
    entry: dict | None = None                  # its blob, once made (shared by every scope)


def _chunk_boundary(key: tuple) -> bool:
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % CHUNK_TARGET == 0


def _key_label(key: tuple) -> str:
    text = "-".join(str(k) for k in key)
    if bundle.FILE_NAME.match("x/" + text) and len(text) <= 80 and ".." not in text:
        return text
    return "h" + hashlib.sha256(text.encode()).hexdigest()[:24]


class Snapshot:
    """The published rows of every content table, with owners and cross-references."""

    def __init__(self, conn: sqlite3.Connection):
        self.tables = content_tables(conn)
        self.by_name = {t.name: t for t in self.tables}
        self.owner: dict[str, dict] = {}           # table → {target value: owner code}
        self.chunks: list[Chunk] = []
        self.masked_cells = 0                      # personal data caught here, behind review
        self._allowed: dict[str | None, frozenset] = {}
        county = jurisdictions.county(conn)
        self._county = county["code"] if county else None
        for t in self.tables:
            self._load(conn, t)
        marks = ", ".join("?" for _ in SHARED_META)
        meta = [list(r) for r in conn.execute(
            f"SELECT key, value FROM meta WHERE key IN ({marks}) ORDER BY key", SHARED_META)]
        if meta:
            self.chunks.append(Chunk("meta", META_TABLE, meta, [[] for _ in meta]))

    def _load(self, conn: sqlite3.Connection, t: Table) -> None:
        blank = COLUMN_FILTERS.get(t.name, {})
        cols = ", ".join(blank.get(c, f'"{c}"') for c in t.columns)
        conditions = (["status = 'published'"] if t.has_status else []) + (
            [ROW_FILTERS[t.name]] if t.name in ROW_FILTERS else [])
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        order = ", ".join(f'"{k}"' for k in t.key)
        rows = [self._masked(conn, t, list(r))
                for r in conn.execute(f'SELECT {cols} FROM "{t.name}"{where} ORDER BY {order}')]
        kept, kept_refs = [], []
        for row in rows:
            refs, drop = [], False
            for idx, target, tcol, notnull in t.fks:
                value = row[idx]
                if value is None:
                    continue
                targets = self.owner.get(target, {}).get(tcol)
                if target == t.name:                  # self reference (the jurisdiction tree)
                    continue
                if targets is None or value not in targets:
                    # Points at something no terminal gets (a user, a draft): drop the link.
                    if notnull:
                        drop = True
                        break
                    row[idx] = None
                    continue
                refs.append((idx, targets[value], notnull))
            if not drop:
                kept.append(row)
                kept_refs.append(refs)
        # Owner of each row: its jurisdiction, else the owner of its first required parent.
        owners = []
        for row, refs in zip(kept, kept_refs):
            if t.name == "jurisdiction":
                owners.append(None)
            elif t.owner_col is not None:
                owners.append(row[t.owner_col])
            else:
                owners.append(next((o for _, o, nn in refs if nn and o is not None), None))
        # Lookup tables for rows referencing this one: for every column someone points at.
        wanted = {(tcol) for other in self.tables for _, tt, tcol, _ in other.fks if tt == t.name}
        self.owner[t.name] = {tcol: {row[t.columns.index(tcol)]: owner
                                     for row, owner in zip(kept, owners)} for tcol in wanted}
        groups: dict[str | None, list[int]] = {}
        for i, owner in enumerate(owners):
            groups.setdefault(owner, []).append(i)
        for owner, idxs in groups.items():
            self._chunk(t, owner, [kept[i] for i in idxs],
                        [[(c, o, nn) for c, o, nn in kept_refs[i] if o is not None and o != owner]
                         for i in idxs])

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

    def _chunk(self, t: Table, owner, rows, refs) -> None:
        prefix = f"{t.name}/{owner}" if owner is not None else t.name
        start, size = 0, 0
        for i, row in enumerate(rows):
            size += len(json.dumps(row, ensure_ascii=False, default=str)) + 1
            last = i == len(rows) - 1
            if last or _chunk_boundary(t.key_of(row)) or i + 1 - start >= CHUNK_MAX_ROWS \
                    or size >= CHUNK_MAX_BYTES:
                first = t.key_of(rows[start])
                chunk_refs = refs[start:i + 1]
                self.chunks.append(Chunk(f"{prefix}/{_key_label(first)}", t, rows[start:i + 1],
                                         chunk_refs, owner, {o for r in chunk_refs for _, o, _ in r}))
                start, size = i + 1, 0


# ---------------------------------------------------------------- publishing

class Publisher:
    def __init__(self, data_dir: Path, conn: sqlite3.Connection):
        self.data_dir = Path(data_dir)
        self.conn = conn
        self.out = published_dir(data_dir)
        self.blobs = bundle.BlobStore(self.out / "blobs")
        self._blob_cache: dict[str, tuple[str, int]] = {}

    def blob_for(self, chunk: Chunk, rows: list[list]) -> dict:
        raw = bundle.encode_table_blob(chunk.table.name, chunk.table.columns, chunk.table.key, rows)
        raw_sha = bundle.sha256_hex(raw)
        hit = self._blob_cache.get(raw_sha)
        if hit is None:
            row = self.conn.execute("SELECT sha256, length FROM sync_blob_map WHERE raw_sha256 = ?",
                                    (raw_sha,)).fetchone()
            if row is not None and self.blobs.has(row[0], row[1]):
                hit = (row[0], row[1])
            else:
                data = bundle.compress(raw)
                sha = self.blobs.put(data)
                hit = (sha, len(data))
                self.conn.execute(
                    "INSERT OR REPLACE INTO sync_blob_map(raw_sha256, sha256, length) VALUES (?, ?, ?)",
                    (raw_sha, sha, len(data)))
            self._blob_cache[raw_sha] = hit
        return {"sha256": hit[0], "length": hit[1]}

    def attachment(self, sha: str) -> dict | None:
        """Put an attachment into the published blobs (same hash) and describe it."""
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

    def scope_files(self, snap: Snapshot, scope: str) -> dict:
        codes = set(jurisdictions.visible_codes(self.conn, scope))
        files = {}
        for chunk in snap.chunks:
            if chunk.owner is not None and chunk.owner not in codes:
                continue
            rows = chunk.rows
            if not chunk.ref_owners <= codes:
                rows = []
                for row, refs in zip(chunk.rows, chunk.refs):
                    row = list(row)
                    drop = False
                    for idx, target_owner, notnull in refs:
                        if target_owner is not None and target_owner not in codes:
                            if notnull:
                                drop = True
                                break
                            row[idx] = None
                    if not drop:
                        rows.append(row)
                if not rows:
                    continue
            if rows is chunk.rows:
                if chunk.entry is None:
                    chunk.entry = self.blob_for(chunk, rows)
                files[chunk.name] = chunk.entry
            else:
                files[chunk.name] = self.blob_for(chunk, rows)
            if chunk.table.name in PICTURE_TABLES:
                for picture in self.pictures(chunk.table, rows):
                    entry = self.attachment(picture)
                    if entry is not None:
                        files[f"blob/{entry['sha256']}"] = entry
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


def _disk_version(path: Path) -> int:
    try:
        return int(json.loads(path.read_bytes())["signed"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
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
    """
    data_dir = Path(data_dir)
    keys = signing_keys(data_dir)
    now = now or bundle.utcnow()
    results = []
    with publish_lock(data_dir):
        pub = Publisher(data_dir, conn)
        snap = Snapshot(conn)
        if snap.masked_cells:
            log.warning("publish: masked personal data in %d published cells that had got past review",
                        snap.masked_cells)
        scopes = conn.execute("SELECT code, name, level FROM jurisdiction ORDER BY code").fetchall()
        index = []
        for j in scopes:
            scope = j["code"]
            with immediate(conn):
                files = pub.scope_files(snap, scope)
                files_hash = bundle.sha256_hex(bundle.canonical(files))
                path = pub.out / scope / "manifest.json"
                state = conn.execute("SELECT * FROM sync_scope WHERE scope = ?", (scope,)).fetchone()
                fresh = (state is not None and path.exists() and state["files_hash"] == files_hash
                         and bundle.parse_iso(state["created"]) + timedelta(hours=resign_hours) > now
                         and _disk_version(path) == state["version"])
                if fresh and not force:
                    version = state["version"]
                    changed = False
                else:
                    version = max(state["version"] if state else 0, _disk_version(path)) + 1
                    signed = bundle.build_signed(scope, version, files, now,
                                                 now + timedelta(days=expiry_days))
                    manifest = bundle.sign_manifest(signed, keys)
                    data = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode()
                    # The copy first: pruning must know every manifest a terminal may hold.
                    from .prune import record  # noqa: PLC0415  (prune imports this module)
                    record(data_dir, scope, version, data)
                    bundle.atomic_write(path, data)
                    conn.execute(
                        "INSERT INTO sync_scope(scope, version, files_hash, created, expires) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(scope) DO UPDATE SET "
                        "version = excluded.version, files_hash = excluded.files_hash, "
                        "created = excluded.created, expires = excluded.expires",
                        (scope, version, files_hash, signed["created"], signed["expires"]))
                    changed = True
            index.append({"scope": scope, "level": j["level"], "name": j["name"], "version": version})
            results.append({"scope": scope, "version": version, "changed": changed,
                            "files": len(files)})
            if progress:
                progress(j)
        bundle.atomic_write(pub.out / "index.json",
                            json.dumps(index, ensure_ascii=False, indent=1).encode())
        with immediate(conn):
            set_meta(conn, "sync_published_at", bundle.iso(now))
            county = jurisdictions.county(conn)
            if county is not None:
                version = next((r["version"] for r in results if r["scope"] == county["code"]), None)
                if version is not None:
                    set_meta(conn, "content_version", str(version))
    return results


def newest_versions(conn: sqlite3.Connection) -> dict[str, int]:
    return {r[0]: r[1] for r in conn.execute("SELECT scope, version FROM sync_scope")}


def last_published(conn: sqlite3.Connection) -> str | None:
    return get_meta(conn, "sync_published_at")
