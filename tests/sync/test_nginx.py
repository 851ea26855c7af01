"""deploy/nginx-hub.conf.example really serves the published folder: a terminal follows through nginx."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sync import terminal

from conftest import VILLAGE, applied_version, free_port, make_terminal

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx-hub.conf.example"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
def nginx(tmp_path, hub):
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed on this machine")
    port = free_port()
    conf = EXAMPLE.read_text()
    conf = conf.replace("/var/lib/kiosk/hub", str(hub.data_dir))
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{hub.server.port};")
    run = tmp_path / "nginx"
    run.mkdir()
    (run / "hub.conf").write_text(conf)
    temp = "\n".join(f"  {k}_temp_path {run}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (run / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"error_log {run}/error.log;\npid {run}/nginx.pid;\nevents {{}}\n"
        f"http {{\n  access_log {run}/access.log;\n{temp}\n  include {run}/hub.conf;\n}}\n")
    proc = subprocess.Popen([NGINX, "-p", str(run), "-c", str(run / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(url + "/sync/v1/index.json", timeout=2).read()
            break
        except (OSError, urllib.error.HTTPError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("nginx did not start: " + proc.stderr.read().decode(errors="replace")
                                   + (run / "error.log").read_text(errors="replace"))
            time.sleep(0.1)
    yield url, run
    proc.terminate()
    proc.wait(10)


def test_terminal_follows_through_nginx(nginx, hub, tmp_path):
    url, run = nginx
    term = make_terminal(tmp_path / "t", url, [hub.pubkey], hub.enroll(VILLAGE))
    report = terminal.sync_once(term)
    assert report.ok, report.errors                       # pull via nginx, enrol + inbox proxied
    assert applied_version(term) == hub.version(VILLAGE)
    access = (run / "access.log").read_text()
    assert f"/sync/v1/{VILLAGE}/manifest.json" in access and "/sync/v1/blobs/" in access
    with urllib.request.urlopen(f"{url}/sync/v1/{VILLAGE}/manifest.json") as r:
        etag = r.headers["ETag"]
        assert "max-age=60" in r.headers["Cache-Control"]
    req = urllib.request.Request(f"{url}/sync/v1/{VILLAGE}/manifest.json", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 304
    blob = next((hub.data_dir / "published" / "blobs").iterdir())
    req = urllib.request.Request(f"{url}/sync/v1/blobs/{blob.name}", headers={"Range": "bytes=5-"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 206 and "immutable" in r.headers["Cache-Control"]
        assert r.read() == blob.read_bytes()[5:]
    for bad in ("/sync/v1/blobs/../../keys/signing.pem", "/sync/v1/blobs/abc",
                "/sync/v1/1234/manifest.json", "/sync/v1/keys/signing.pem"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url + bad)
        assert e.value.code in (400, 404), bad
