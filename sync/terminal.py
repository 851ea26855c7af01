"""Terminal side: its own key and enrolment, pulling bundles, the sync round and its loop
(applying a bundle: sync.apply; pushing the outbox: sync.upstream).

A pull checks everything it can before downloading anything (signature by a
trusted key, scope, version, expiry), downloads only the blobs it lacks (each
capped at its declared length, resumable, checked by hash) and applies the
bundle in one SQLite transaction. Any failure leaves the applied content as
it was: the terminal keeps serving it and says how old it is.
"""
from __future__ import annotations

import base64
import fcntl
import http.client
import json
import logging
import os
import random
import secrets
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

from content import db, search
from content.db import get_meta, set_meta

from . import bundle, child
from .hub import request_message
from .hub_url import HubURLError, check_hub_url
from .apply import apply_bundle, checkpoint_after_apply, drop_unused_blobs, finish_search_index
from .publish import SHARED_META, attachment_path  # noqa: F401  (SHARED_META: tests read it here)
from .state import SyncError, blob_cache, state_dir

log = logging.getLogger("kiosk.sync")

TIMEOUT = 30
NET_ERRORS = (OSError, ValueError, http.client.HTTPException)
_sleep = time.sleep                    # between retries (tests make it instant)
READ_SIZE = 64 * 1024
PUSH_BATCH = 200
PUSH_ATTEMPTS = 3
RETRY_BASE = 5.0
SLOW_LINK_BYTES_PER_SECOND = 4 * 1024      # blob deadline assumes at least this much throughput


# ---------------------------------------------------------------- paths and settings

def key_path(data_dir: Path) -> Path:
    return Path(data_dir) / "keys" / "terminal.pem"


def token_path(data_dir: Path) -> Path:
    return Path(data_dir) / "keys" / "enroll-token"


@dataclass
class Settings:
    data_dir: Path
    hub_url: str
    scope: str
    trusted: dict
    interval: float = 300
    stale_hours: float = 72
    folder: Path | None = None      # bundles carried on a folder (USB stick) instead of the hub

    @classmethod
    def load(cls, data_dir: Path) -> "Settings":
        from kiosk import config  # noqa: PLC0415  (settings file format lives with the app)
        try:
            cfg = config.instance_settings(Path(data_dir))
        except ValueError as e:
            raise SyncError(str(e)) from e
        if not cfg.get("HUB_URL") or not cfg.get("SCOPE"):
            raise SyncError("本机不是终端，或缺少 hub_url / scope 配置")
        try:
            hub_url = check_hub_url(str(cfg["HUB_URL"]), bool(cfg.get("INSECURE_HTTP")))
        except HubURLError as e:
            raise SyncError(str(e)) from e
        return cls(Path(data_dir), hub_url, str(cfg["SCOPE"]),
                   bundle.trusted_keyring(cfg.get("TRUSTED_KEYS") or []),
                   float(cfg.get("SYNC_INTERVAL", 300)), float(cfg.get("STALE_HOURS", 72)))

    def url(self, path: str) -> str:
        if self.folder is not None:
            # The folder is laid out as /sync/v1/; urllib reads file: URLs like any other.
            return (self.folder / path.removeprefix("/sync/v1/")).as_uri()
        return self.hub_url + path


def app_version() -> str:
    try:
        return metadata.version("kiosk-disclosure")
    except metadata.PackageNotFoundError:
        return "dev"


# ---------------------------------------------------------------- init and enrolment

def init_terminal(data_dir: Path, enroll_token: str) -> str:
    """Make the terminal's own key and keep its enrolment token until the first sync uses it."""
    data_dir = Path(data_dir)
    if not key_path(data_dir).exists():
        bundle.save_private_key(bundle.generate_key(), key_path(data_dir))
    key = bundle.load_private_key(key_path(data_dir))
    if enroll_token:
        fd = os.open(token_path(data_dir), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(enroll_token.strip())
    terminal_id = bundle.keyid(bundle.raw_public(key))
    conn = db.open_database(data_dir / "kiosk.sqlite3")
    try:
        set_meta(conn, "sync_terminal_id", terminal_id)
    finally:
        conn.close()
    return terminal_id


def _signed_post(settings: Settings, key, path: str, body: dict) -> dict:
    data = json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    nonce = secrets.token_hex(16)
    sig = base64.b64encode(key.sign(request_message("POST", path, ts, nonce, data))).decode()
    req = urllib.request.Request(settings.url(path), data=data, method="POST", headers={
        "Content-Type": "application/json",
        "X-Kiosk-Terminal": bundle.keyid(bundle.raw_public(key)),
        "X-Kiosk-Timestamp": ts, "X-Kiosk-Nonce": nonce, "X-Kiosk-Signature": sig,
        "User-Agent": f"kiosk-terminal/{app_version()}"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            raw = resp.read(16 * 1024 * 1024)
    except urllib.error.HTTPError as e:
        try:
            message = json.loads(e.read(4096)).get("error", "")
        except (ValueError, AttributeError, OSError):
            message = ""
        raise HubRefused(e.code, message or f"HTTP {e.code}") from e
    except NET_ERRORS as e:
        raise SyncError(f"无法连接县级平台：{e!r}") from e
    try:
        answer = json.loads(raw)
    except ValueError as e:
        raise SyncError("县级平台的应答不是有效的 JSON") from e
    if not isinstance(answer, dict):
        raise SyncError("县级平台的应答结构不正确")
    return answer


class HubRefused(SyncError):
    def __init__(self, status: int, message: str):
        super().__init__(f"县级平台拒绝（{status}）：{message}")
        self.status = status


def ensure_enrolled(conn: sqlite3.Connection, settings: Settings, key) -> None:
    if get_meta(conn, "sync_enrolled") == "1":
        return
    path = token_path(settings.data_dir)
    if not path.exists():
        raise SyncError("终端尚未注册，且没有注册令牌（请向县级平台申请 kiosk enroll 令牌）")
    answer = _signed_post(settings, key, "/sync/v1/enroll", {
        "token": path.read_text().strip(), "scope": settings.scope,
        "public_key": bundle.public_b64(key), "app_version": app_version()})
    if answer.get("terminal_id") != bundle.keyid(bundle.raw_public(key)):
        raise SyncError("注册应答与本机密钥不符")
    set_meta(conn, "sync_enrolled", "1")
    path.unlink(missing_ok=True)
    log.info("terminal enrolled with the hub for scope %s", settings.scope)


# ---------------------------------------------------------------- pulling

def _get(url: str, headers: dict | None = None):
    req = urllib.request.Request(url, headers={"User-Agent": f"kiosk-terminal/{app_version()}",
                                               **(headers or {})})
    return urllib.request.urlopen(req, timeout=TIMEOUT)


def fetch_manifest(settings: Settings, etag: str | None) -> tuple[bytes | None, str | None]:
    """The manifest bytes and ETag, or (None, etag) when unchanged (304). At most 16 MiB."""
    headers = {"If-None-Match": etag} if etag else {}
    try:
        with _get(settings.url(f"/sync/v1/{settings.scope}/manifest.json"), headers) as resp:
            data = resp.read(bundle.MAX_MANIFEST_BYTES + 1)
            new_etag = resp.headers.get("ETag")
    except urllib.error.HTTPError as e:
        if e.code == 304:
            return None, etag
        raise SyncError(f"获取清单失败：HTTP {e.code}") from e
    except NET_ERRORS as e:
        raise SyncError(f"无法连接县级平台：{e}") from e
    if len(data) > bundle.MAX_MANIFEST_BYTES:
        raise SyncError("清单超过 16 MiB 上限，已拒绝")
    return data, new_etag


def fetch_blob(settings: Settings, sha: str, length: int, dest: Path) -> None:
    """Download one blob into ``dest``: resumable, at most ``length`` bytes, checked by hash."""
    partial = state_dir(settings.data_dir) / "partial"
    partial.mkdir(parents=True, exist_ok=True)
    part = partial / sha
    have = part.stat().st_size if part.exists() else 0
    if have > length:
        part.unlink()
        have = 0
    deadline = time.monotonic() + 60 + length / SLOW_LINK_BYTES_PER_SECOND
    if have < length:
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            resp = _get(settings.url(f"/sync/v1/blobs/{sha}"), headers)
        except urllib.error.HTTPError as e:
            raise SyncError(f"下载内容文件 {sha[:12]} 失败：HTTP {e.code}") from e
        except NET_ERRORS as e:
            raise SyncError(f"下载内容文件 {sha[:12]} 失败：{e}") from e
        with resp:
            if have and not (resp.status == 206 and (resp.headers.get("Content-Range") or "")
                             .startswith(f"bytes {have}-")):
                have = 0                          # the server ignored the range: start over
            with open(part, "ab" if have else "wb") as f:
                remaining = length - have
                try:
                    while remaining > 0:
                        if time.monotonic() > deadline:
                            raise SyncError(f"下载内容文件 {sha[:12]} 超时")
                        chunk = resp.read(min(READ_SIZE, remaining))
                        if not chunk:
                            break
                        f.write(chunk)
                        remaining -= len(chunk)
                    extra = resp.read(1) if remaining == 0 else b""
                except NET_ERRORS as e:
                    error = SyncError(f"下载内容文件 {sha[:12]} 中断：{e!r}，下次继续")
                else:
                    error = None
                f.flush()
                os.fsync(f.fileno())
            if error is not None:
                raise error
            if extra:
                part.unlink(missing_ok=True)
                raise SyncError(f"内容文件 {sha[:12]} 超过清单声明的长度 {length}，已拒绝")
            if remaining > 0:
                raise SyncError(f"内容文件 {sha[:12]} 下载不完整（{length - remaining}/{length} 字节），"
                                "下次继续")
    got = bundle.sha256_hex(part.read_bytes())
    if got != sha:
        part.unlink(missing_ok=True)
        raise SyncError(f"内容文件 {sha[:12]} 哈希不符（可能被篡改），已拒绝")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, dest)


@dataclass
class PullResult:
    ok: bool
    updated: bool = False
    version: int | None = None
    message: str = ""


def pull(conn: sqlite3.Connection, settings: Settings, now: datetime | None = None) -> PullResult:
    """Fetch, verify and apply the newest bundle for this terminal's scope."""
    now = now or bundle.utcnow()
    finish_search_index(conn)              # a build cut short (crash, power) resumes first
    applied = get_meta(conn, "content_version")
    applied = int(applied) if applied and applied.isdigit() else None
    etag = get_meta(conn, "sync_etag") if applied is not None else None
    data, new_etag = fetch_manifest(settings, etag)
    if data is None:
        expires = get_meta(conn, "sync_expires")
        if expires and bundle.parse_iso(expires) + bundle.CLOCK_SKEW < now:
            raise SyncError(f"县级平台的清单已于 {expires} 过期，未重新签名")
        _mark_good(conn, now)
        return PullResult(True, False, applied, "内容已是最新（未变化）")
    try:
        manifest = bundle.parse_manifest(data)
        signed = bundle.verify_manifest(manifest, settings.trusted, settings.scope, applied, now)
    except bundle.SameVersion as e:
        conn.execute("BEGIN IMMEDIATE")
        set_meta(conn, "sync_etag", new_etag)
        _mark_good(conn, now, in_txn=True)
        conn.execute("COMMIT")
        return PullResult(True, False, applied, str(e))
    except bundle.BundleError as e:
        raise SyncError(f"拒绝更新：{e}") from e
    cache = blob_cache(settings.data_dir)
    files = signed["files"]
    # Indexing the changed rows needs pypinyin's dictionaries: loaded while the blobs download.
    dictionaries = threading.Thread(target=search.load_dictionaries, name="kiosk-pinyin", daemon=True)
    dictionaries.start()
    for name, entry in sorted(files.items()):
        sha, length = entry["sha256"], entry["length"]
        if name.startswith("blob/"):
            target = attachment_path(settings.data_dir, sha)
            if target.is_file() and target.stat().st_size == length:
                continue
            fetch_blob(settings, sha, length, cache.path(sha))
        elif not cache.has(sha, length):
            fetch_blob(settings, sha, length, cache.path(sha))
    dictionaries.join()
    changed = apply_bundle(conn, settings.data_dir, signed, new_etag, now)
    checkpoint_after_apply(conn)
    drop_unused_blobs(settings.data_dir, signed)
    finish_search_index(conn)
    return PullResult(True, True, signed["version"],
                      f"已更新到版本 {signed['version']}" + ("" if changed else "（内容未变，仅续签）"))


def _mark_good(conn: sqlite3.Connection, now: datetime, in_txn: bool = False) -> None:
    if not in_txn:
        conn.execute("BEGIN IMMEDIATE")
    set_meta(conn, "last_sync", bundle.iso(now))
    set_meta(conn, "sync_last_error", "")
    if not in_txn:
        conn.execute("COMMIT")


# ---------------------------------------------------------------- one round and the loop

@dataclass
class Report:
    pull: PullResult | None = None
    pushed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@contextmanager
def sync_lock(data_dir: Path):
    folder = state_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise SyncError("另一个同步进程正在运行") from e
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _record_error(conn: sqlite3.Connection, message: str) -> None:
    try:
        conn.execute("BEGIN IMMEDIATE")
        set_meta(conn, "sync_last_error", message[:500])
        set_meta(conn, "sync_last_attempt", bundle.iso(bundle.utcnow()))
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def sync_once(data_dir: Path, do_pull: bool = True, do_push: bool = True) -> Report:
    """Pull and apply the newest bundle, then push the outbox. Never raises for sync failures."""
    data_dir = Path(data_dir)
    report = Report()
    try:
        settings = Settings.load(data_dir)
    except SyncError as e:
        report.errors.append(str(e))
        return report
    try:
        with sync_lock(data_dir):
            conn = db.open_database(data_dir / "kiosk.sqlite3")
            try:
                if do_pull:
                    try:
                        report.pull = pull(conn, settings)
                    except Exception as e:         # noqa: BLE001  (any failure: keep old content)
                        if not isinstance(e, SyncError):
                            log.exception("sync pull failed")
                        report.pull = PullResult(False, message=str(e))
                        report.errors.append(str(e))
                        _record_error(conn, str(e))
                        log.warning("sync refused: %s", e)
                if do_push:
                    try:
                        key = bundle.load_private_key(key_path(data_dir))
                        commands: list = []
                        report.pushed = upstream.push(conn, settings, key, commands)
                        from .screens import screens_round  # noqa: PLC0415  (screens use this module)
                        if screens_round(conn, settings, commands, bundle.keyid(bundle.raw_public(key))):
                            report.pushed += upstream.push(conn, settings, key)   # screenshots, results
                    except Exception as e:         # noqa: BLE001  (records stay queued)
                        if not isinstance(e, SyncError):
                            log.exception("outbox push failed")
                        report.errors.append(f"上传：{e}")
                        log.warning("outbox push failed: %s", e)
            finally:
                conn.close()
    except SyncError as e:
        report.errors.append(str(e))
    return report


DEFAULT_ROUND_TIMEOUT = 3600          # a round still running after this is killed


def run_round(data_dir: Path, timeout: float = DEFAULT_ROUND_TIMEOUT, stop=None) -> bool:
    """One round as a child process, ``kiosk sync --once``; True if it succeeded.

    Applying a bundle indexes search (pypinyin's dictionaries, about 55 MB) and raises
    SQLite's cache to 64 MiB; in a child (sync.child), all of that is given back when it
    exits, and the serve process stays small. The page cache sees the child's commit
    (PRAGMA data_version). A round still running after ``timeout`` seconds (or when ``stop``
    is set) is killed: its transaction never commits, and the next round starts over or
    resumes the index.
    """
    result = child.run_child(["kiosk", "sync", "--once", "--data-dir", str(data_dir)], timeout, stop,
                             stopped_message="同步被中止（服务停止）",
                             timeout_message="同步超时（超过 {timeout} 秒），已中止，下次重试")
    output, seconds = result.output, result.seconds
    if result.killed:
        log.error("sync round killed after %.0f s: %s%s", seconds, result.killed,
                  f"\n{output}" if output else "")
        if stop is None or not stop.is_set():
            _record_round_error(data_dir, result.killed)
        return False
    if result.returncode == 0:
        log.info("sync round done in %.1f s%s", seconds, f": {output}" if output else "")
        return True
    log.warning("sync round failed (exit %s) after %.1f s%s", result.returncode, seconds,
                f":\n{output}" if output else "")
    if result.returncode != 1:           # 1: the round said why and recorded it; else it crashed
        _record_round_error(data_dir, f"同步进程异常退出（代码 {result.returncode}）")
    return False


def _record_round_error(data_dir: Path, message: str) -> None:
    try:
        conn = db.connect(Path(data_dir) / "kiosk.sqlite3")
    except sqlite3.Error:
        log.exception("could not record the sync error")
        return
    try:
        _record_error(conn, message)
    finally:
        conn.close()


die_with_parent = child.die_with_parent


def run_loop(data_dir: Path, stop, interval: float | None = None,
             timeout: float | None = None, check: float | None = None) -> None:
    """Sync every ``interval`` seconds (with jitter), each round in a child process
    (``run_round``); after failures retry sooner, backing off; in between, look at the
    manifest every ``check`` seconds and sync at once when it changed. Survives anything."""
    from .watch import DEFAULT_CHECK_SECONDS, ManifestWatch  # noqa: PLC0415  (watch uses this module)
    watch = ManifestWatch(data_dir, DEFAULT_CHECK_SECONDS if check is None else check)
    failures = 0
    stop.wait(random.uniform(1, 5))
    while not stop.is_set():
        try:
            every = interval or Settings.load(data_dir).interval
            ok = run_round(data_dir, timeout or DEFAULT_ROUND_TIMEOUT, stop)
        except Exception:                          # noqa: BLE001  (the loop must survive anything)
            log.exception("sync round crashed")
            ok, every = False, interval or 300
        failures = 0 if ok else failures + 1
        delay = every if ok else min(every, RETRY_BASE * 2 ** failures)
        watch.wait(stop, delay * random.uniform(0.8, 1.2))


# ---------------------------------------------------------------- freshness on screen

def freshness(conn: sqlite3.Connection, stale_hours: float, now: datetime | None = None) -> dict:
    """How current this terminal's content is: for the quiet line and the staleness notice."""
    now = now or datetime.now(timezone.utc)
    last = get_meta(conn, "last_sync")
    expires = get_meta(conn, "sync_expires")
    info = {"stale": False, "reason": "", "last_good": None}
    try:
        last_dt = bundle.parse_iso(last) if last else None
        expires_dt = bundle.parse_iso(expires) if expires else None
    except ValueError:
        last_dt = expires_dt = None
    if last_dt is not None:
        info["last_good"] = last_dt.astimezone().strftime("%Y-%m-%d %H:%M")
    if last_dt is None:
        info.update(stale=True, reason="本机尚未从县级平台取得经过验证的内容")
    elif expires_dt is not None and expires_dt < now:
        info.update(stale=True, reason="本机内容的有效期已过，正在等待县级平台的新内容")
    elif now - last_dt > timedelta(hours=stale_hours):
        hours = int((now - last_dt).total_seconds() // 3600)
        age = f"{hours // 24} 天" if hours >= 48 else f"{hours} 小时"
        info.update(stale=True, reason=f"本机已有 {age} 未能与县级平台核对更新")
    return info


from . import upstream  # noqa: E402  (pushing the outbox; it uses this module's settings and posting)
