"""Sync fixtures: a real hub (waitress in a thread, free port) built from the demo, terminals, fake hubs."""
from __future__ import annotations

import hashlib
import http.server
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from waitress import create_server

from content import db
from kiosk import config, create_app
from kiosk.cli import create_instance
from sync import bundle, publish, terminal
from sync.hub import token_hash

COUNTY = "340499000000"
TOWNSHIP = "340499100000"          # 东湖镇
VILLAGE = "340499100201"           # 杏花村, in 东湖镇
OTHER_VILLAGE = "340499001001"     # 南门社区, in 城关街道

CONTENT = ("jurisdiction", "domain", "matter", "catalogue_item", "village_item", "notice",
           "attachment", "guide", "handbook", "handbook_guide", "consultation", "board")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadServer:
    """A WSGI app served by waitress on a fixed loopback port; can stop and start again."""

    def __init__(self, app, port: int | None = None):
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.thread = None

    def start(self) -> "ThreadServer":
        deadline = time.monotonic() + 10
        while True:
            try:
                self.server = create_server(self.app, host="127.0.0.1", port=self.port, threads=4)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, args=(self.server,), daemon=True)
        self.thread.start()
        return self

    def _run(self, server) -> None:
        try:
            server.run()
        except (OSError, ValueError):
            if not self.stopping:             # closing the sockets under select() ends the loop
                raise

    def stop(self) -> None:
        """Like a process exit: the listening socket and every open connection go away."""
        if self.server is not None:
            self.stopping = True
            for channel in list(self.server._map.values()):
                channel.close()
            self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            self.thread.join(5)
            self.server = None


class Hub:
    """The county hub: its data folder, its app served over loopback HTTP, its key."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
        self.server = ThreadServer(self.app).start()
        self.url = self.server.url
        self.key = bundle.load_private_key(publish.signing_key_path(data_dir))
        self.pubkey = bundle.public_b64(self.key)

    def conn(self):
        return db.connect(self.data_dir / config.DATABASE_NAME)

    def publish(self, **kw) -> dict:
        conn = self.conn()
        try:
            return {r["scope"]: r for r in publish.publish_all(self.data_dir, conn, **kw)}
        finally:
            conn.close()

    def version(self, scope: str) -> int:
        conn = self.conn()
        try:
            return conn.execute("SELECT version FROM sync_scope WHERE scope = ?", (scope,)).fetchone()[0]
        finally:
            conn.close()

    def manifest_bytes(self, scope: str) -> bytes:
        return (publish.published_dir(self.data_dir) / scope / "manifest.json").read_bytes()

    def enroll(self, scope: str) -> str:
        token = bundle.sha256_hex(str(time.time_ns()).encode())[:40]
        conn = self.conn()
        try:
            conn.execute("INSERT INTO sync_enrolment(token_hash, scope, expires_at) VALUES (?, ?, ?)",
                         (token_hash(token), scope, "2999-01-01T00:00:00Z"))
        finally:
            conn.close()
        return token

    def execute(self, sql: str, params=()) -> None:
        conn = self.conn()
        try:
            conn.execute(sql, params)
        finally:
            conn.close()


@pytest.fixture
def hub_dir(tmp_path, demo_template) -> Path:
    path = tmp_path / "hub"
    shutil.copytree(demo_template, path)
    config.write_instance_config(path, {"role": "hub"})
    bundle.save_private_key(bundle.generate_key(), publish.signing_key_path(path))
    return path


@pytest.fixture
def hub(hub_dir):
    h = Hub(hub_dir)
    h.publish()
    yield h
    h.server.stop()


def make_terminal(path: Path, hub_url: str, trusted: list[str], token: str | None,
                  scope: str = VILLAGE) -> Path:
    create_instance(path, "terminal", scope=scope, hub_url=hub_url, trusted_keys=trusted)
    terminal.init_terminal(path, token or "")
    return path


@pytest.fixture
def term(tmp_path, hub) -> Path:
    """A village terminal of the hub, enrolled-to-be (its token is used at the first sync)."""
    return make_terminal(tmp_path / "terminal", hub.url, [hub.pubkey], hub.enroll(VILLAGE))


def set_hub_url(path: Path, url: str) -> None:
    settings = {k.lower(): v for k, v in config.read_instance_config(path).items()}
    settings["hub_url"] = url
    config.write_instance_config(path, settings)


def tconn(path: Path):
    return db.connect(path / config.DATABASE_NAME)


def meta(path: Path, key: str):
    conn = tconn(path)
    try:
        return db.get_meta(conn, key)
    finally:
        conn.close()


def applied_version(path: Path) -> int | None:
    v = meta(path, "content_version")
    return int(v) if v else None


def content_digest(path: Path) -> str:
    """A fingerprint of every content table (row order independent)."""
    conn = tconn(path)
    h = hashlib.sha256()
    try:
        for t in CONTENT:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (t,)).fetchone() is None:
                continue
            rows = sorted(repr(tuple(r)) for r in conn.execute(f'SELECT * FROM "{t}"'))
            h.update(t.encode() + b"\0" + "\n".join(rows).encode())
    finally:
        conn.close()
    return h.hexdigest()


class FakeHub:
    """A hostile or broken hub: serves whatever each route says (bytes, or a handler function)."""

    def __init__(self):
        self.routes: dict[str, object] = {}
        self.requests: list[str] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                route = fake.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif callable(route):
                    route(self)
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(route)))
                    self.end_headers()
                    self.wfile.write(route)

            do_POST = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_hub():
    f = FakeHub()
    yield f
    f.close()
