"""Signed bundles: canonical JSON, Ed25519 keys and signatures, manifests, the blob store.

The format is a fixed contract between hubs and terminals (docs/sync.md): a manifest is
``{"signed": {...}, "signatures": [{"keyid", "sig"}]}``; the signature is
Ed25519 over the canonical bytes of ``signed``; ``keyid`` is the hex SHA-256
of the raw public key; ``sig`` is base64.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

BUNDLE_TYPE = "kiosk-bundle"
SPEC = 1
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_BLOB_BYTES = 1024 * 1024 * 1024        # a sanity bound on a single file's declared length
CLOCK_SKEW = timedelta(minutes=10)

HEX64 = re.compile(r"^[0-9a-f]{64}$")
SCOPE_RE = re.compile(r"^[0-9]{12}$")
# Logical file names: table/owner/first-key chunks and blob/<sha256> attachments.
FILE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}(/[0-9A-Za-z_.-]{1,80}){0,3}$")


class BundleError(Exception):
    """A manifest or blob that must not be applied; the message says why (Chinese for people)."""


# ---------------------------------------------------------------- canonical form, time

def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    if not isinstance(text, str):
        raise ValueError("not a timestamp")
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError("timestamp without time zone")
    return dt.astimezone(timezone.utc)


# ---------------------------------------------------------------- keys

def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key) -> str:
    return base64.b64encode(raw_public(key)).decode()


def keyid(raw_pub: bytes) -> str:
    return hashlib.sha256(raw_pub).hexdigest()


def load_public_b64(text: str) -> Ed25519PublicKey:
    """A public key given as base64 of its raw 32 bytes."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("公钥不是有效的 base64") from e
    if len(raw) != 32:
        raise ValueError("公钥应为 32 字节（base64 编码）")
    return Ed25519PublicKey.from_public_bytes(raw)


def save_private_key(key: Ed25519PrivateKey, path: Path) -> None:
    """PKCS#8 PEM, mode 0600, written whole or not at all."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} 不是 Ed25519 私钥")
    return key


def trusted_keyring(keys_b64) -> dict[str, Ed25519PublicKey]:
    """keyid → public key for every configured trusted key (bad entries are skipped)."""
    ring = {}
    for text in keys_b64 or []:
        try:
            pub = load_public_b64(text)
        except ValueError:
            continue
        ring[keyid(raw_public(pub))] = pub
    return ring


# ---------------------------------------------------------------- manifests

def build_signed(scope: str, version: int, files: dict, created: datetime, expires: datetime) -> dict:
    return {"type": BUNDLE_TYPE, "spec": SPEC, "scope": scope, "version": int(version),
            "created": iso(created), "expires": iso(expires),
            "files": {k: {"sha256": v["sha256"], "length": int(v["length"])}
                      for k, v in sorted(files.items())}}


def sign_manifest(signed: dict, keys: list[Ed25519PrivateKey]) -> dict:
    body = canonical(signed)
    return {"signed": signed, "signatures": [
        {"keyid": keyid(raw_public(k)), "sig": base64.b64encode(k.sign(body)).decode()}
        for k in keys]}


def parse_manifest(data: bytes) -> dict:
    if len(data) > MAX_MANIFEST_BYTES:
        raise BundleError("清单超过 16 MiB 上限")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BundleError("清单不是有效的 JSON") from e
    if not isinstance(manifest, dict) or not isinstance(manifest.get("signed"), dict) \
            or not isinstance(manifest.get("signatures"), list):
        raise BundleError("清单结构不正确")
    return manifest


def signature_check(doc: dict, trusted: dict[str, Ed25519PublicKey]) -> tuple[bool, bool]:
    """(a trusted key signed ``doc["signed"]``, any signature was by a trusted key at all):
    for manifests, the hub's commands and USB acknowledgements, and terminals' outbox files."""
    body = canonical(doc["signed"])
    known = False
    for entry in doc.get("signatures") or []:
        pub = trusted.get(entry.get("keyid")) if isinstance(entry, dict) else None
        if pub is None:
            continue
        known = True
        try:
            pub.verify(base64.b64decode(str(entry.get("sig", "")), validate=True), body)
            return True, True
        except (InvalidSignature, binascii.Error, ValueError):
            continue
    return False, known


def verify_manifest(manifest: dict, trusted: dict[str, Ed25519PublicKey], scope: str,
                    applied_version: int | None, now: datetime | None = None,
                    skew: timedelta = CLOCK_SKEW) -> dict:
    """Check signature, type, scope, version and expiry; return ``signed`` or raise BundleError.

    Raises ``SameVersion`` (a BundleError) when the manifest is the one already applied.
    """
    signed = manifest["signed"]
    if not trusted:
        raise BundleError("本机没有配置可信公钥")
    good, known = signature_check(manifest, trusted)
    if not good:
        raise BundleError("签名无效" if known else "清单不是由可信公钥签名的（未知密钥）")
    if signed.get("type") != BUNDLE_TYPE or signed.get("spec") != SPEC:
        raise BundleError("清单类型或规范版本不受支持")
    if signed.get("scope") != scope:
        raise BundleError(f"清单属于其他行政区划（{signed.get('scope')!s:.20}），本机为 {scope}")
    version = signed.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleError("清单版本号无效")
    try:
        expires = parse_iso(signed.get("expires"))
        parse_iso(signed.get("created"))
    except ValueError as e:
        raise BundleError("清单时间格式无效") from e
    now = now or utcnow()
    if expires + skew < now:
        raise BundleError(f"清单已于 {signed['expires']} 过期")
    files = signed.get("files")
    if not isinstance(files, dict):
        raise BundleError("清单文件列表无效")
    for name, entry in files.items():
        if not isinstance(name, str) or not FILE_NAME.match(name) or ".." in name:
            raise BundleError(f"清单中的文件名不合法：{name!s:.80}")
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) \
                or not HEX64.match(entry["sha256"]):
            raise BundleError(f"文件 {name} 的哈希无效")
        length = entry.get("length")
        if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length <= MAX_BLOB_BYTES:
            raise BundleError(f"文件 {name} 的长度无效")
        if name.startswith("blob/") and name[5:] != entry["sha256"]:
            raise BundleError(f"附件 {name} 与其哈希不符")
    if applied_version is not None:
        if version == applied_version:
            raise SameVersion(f"版本 {version} 已是本机当前版本")
        if version < applied_version:
            raise BundleError(f"拒绝回退：清单版本 {version} 低于本机已应用的版本 {applied_version}")
    return signed


class SameVersion(BundleError):
    """The manifest is the one already applied: nothing to do."""


# ---------------------------------------------------------------- blobs

def encode_table_blob(table: str, columns: list[str], key: list[str], rows: list[list]) -> bytes:
    """Raw (uncompressed) bytes of one logical file: a slice of one table."""
    return json.dumps({"table": table, "columns": columns, "key": key, "rows": rows},
                      ensure_ascii=False, separators=(",", ":")).encode()


def encode_row(row: list) -> bytes:
    """One row as ``encode_table_blob`` writes it (UTF-8)."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()


def encode_table_blob_rows(table: str, columns: list[str], key: list[str], rows: list[bytes]) -> bytes:
    """``encode_table_blob`` of rows already encoded one by one (``encode_row``, UTF-8): the
    same bytes."""
    head = json.dumps({"table": table, "columns": columns, "key": key, "rows": []},
                      ensure_ascii=False, separators=(",", ":"))
    return head[:-2].encode() + b",".join(rows) + b"]}"


def compress(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=6, mtime=0)


def decompress_table_blob(data: bytes) -> bytes:
    """A table file's JSON bytes (sync.row_texts reads them without decoding every row)."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, ValueError) as e:
        raise BundleError("内容文件无法解析") from e


def decode_table_blob(data: bytes) -> dict:
    return decode_table_json(decompress_table_blob(data))


def decode_table_json(raw: bytes) -> dict:
    """A table file's JSON bytes decoded whole."""
    try:
        obj = json.loads(raw)
    except ValueError as e:
        raise BundleError("内容文件无法解析") from e
    check_table_blob(obj)
    return obj


def check_table_blob(obj) -> None:
    """A decoded table file (or its head, with no rows) has the structure of one."""
    if not isinstance(obj, dict) or not isinstance(obj.get("table"), str) \
            or not isinstance(obj.get("columns"), list) or not isinstance(obj.get("rows"), list) \
            or not isinstance(obj.get("key"), list):
        raise BundleError("内容文件结构不正确")


class BlobStore:
    """A folder of content-addressed files named by their SHA-256."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        if not HEX64.match(sha):
            raise ValueError("bad hash")
        return self.root / sha

    def has(self, sha: str, length: int | None = None) -> bool:
        p = self.path(sha)
        return p.is_file() and (length is None or p.stat().st_size == length)

    def put(self, data: bytes, pending: "FileBatch | None" = None) -> str:
        """Store ``data`` under its hash; with ``pending``, queued there to be written with others."""
        sha = sha256_hex(data)
        if not self.has(sha, len(data)):
            if pending is None:
                atomic_write(self.path(sha), data)
            else:
                pending.add(self.path(sha), data)
        return sha

    def read(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name[:40] + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class FileBatch:
    """Files to write atomically (``atomic_write``), many at once: each still fsynced before
    its rename, but from several threads, so the file system commits their fsyncs together
    (hundreds of blobs or manifests one after the other cost seconds of disk waits)."""

    WORKERS = 8
    MAX_PENDING_BYTES = 16 * 1024 * 1024

    def __init__(self):
        self.items: dict[Path, bytes] = {}
        self.size = 0

    def add(self, path: Path, data: bytes) -> None:
        if path not in self.items:
            self.size += len(data)
        self.items[Path(path)] = data
        if self.size >= self.MAX_PENDING_BYTES:
            self.write()

    def __contains__(self, path) -> bool:
        return Path(path) in self.items

    def write(self) -> None:
        """Write everything queued; returns when all of it is on disk (or raises)."""
        items, self.items, self.size = list(self.items.items()), {}, 0
        if len(items) <= 1:
            for path, data in items:
                atomic_write(path, data)
            return
        with ThreadPoolExecutor(min(self.WORKERS, len(items))) as pool:
            for future in [pool.submit(atomic_write, path, data) for path, data in items]:
                future.result()
