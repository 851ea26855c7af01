"""Browser tests: the real server (waitress, free port, subprocess) driven by system Chromium."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
LANDSCAPE = {"width": 1920, "height": 1080}
PORTRAIT = {"width": 1080, "height": 1920}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`kiosk serve` in a subprocess; can be stopped and started again on the same port."""

    def __init__(self, data_dir: Path, port: int | None = None, extra_env: dict | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "server.log"

    def start(self, timeout: float = 30) -> "LiveServer":
        cmd = [sys.executable, "-m", "kiosk", "serve", "--data-dir", str(self.data_dir),
               "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log.open("ab"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.log.read_text(errors="replace"))
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start: " + self.log.read_text(errors="replace"))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def demo_hub_dir(tmp_path, demo_template, token: str, scope: str):
    """A hub made from the demo: signing key, first publish, one enrolment token for ``scope``.
    Returns (data folder, signing key)."""
    from content import db
    from kiosk import config
    from sync import bundle, publish
    from sync.hub import token_hash
    hub_dir = tmp_path / "hub"
    shutil.copytree(demo_template, hub_dir)
    config.write_instance_config(hub_dir, {"role": "hub"})
    key = bundle.generate_key()
    bundle.save_private_key(key, publish.signing_key_path(hub_dir))
    conn = db.connect(hub_dir / config.DATABASE_NAME)
    publish.publish_all(hub_dir, conn)
    conn.execute("INSERT INTO sync_enrolment(token_hash, scope, expires_at) VALUES (?, ?, ?)",
                 (token_hash(token), scope, "2999-01-01T00:00:00Z"))
    conn.close()
    return hub_dir, key


@pytest.fixture
def live_server(tmp_path, demo_template):
    data_dir = tmp_path / "live"
    shutil.copytree(demo_template, data_dir)
    server = LiveServer(data_dir).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN", has_touch=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.js_errors = errors
    yield pg
    context.close()

