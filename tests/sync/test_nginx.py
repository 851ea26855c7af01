"""deploy/nginx-hub.conf.example as README installs it: HTTPS in front of the hub, the
published folder where README's hub writes it, and a terminal that follows through it."""
from __future__ import annotations

import re
import ssl
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from waitress import create_server

from kiosk import cli, config, create_app
from sync import terminal
from tests.nginx_util import (CERTBOT_DIR, DEPLOY, INTERNAL_CA_DIR, NGINX, README_DATA_DIR, ROOT,
                              Nginx, make_tls, nginx_t, render, server_conf)

from conftest import VILLAGE, Hub, ThreadServer, applied_version, free_port, make_terminal

EXAMPLE = DEPLOY / "nginx-hub.conf.example"
HUB_TOML = DEPLOY / "hub.toml.example"
README = (ROOT / "README.md").read_text()


class ProxiedServer(ThreadServer):
    """The hub's waitress as `kiosk serve` runs it with hub.toml: trusting nginx's headers."""

    def __init__(self, app, trusted_proxy):
        super().__init__(app)
        self.trusted_proxy = trusted_proxy

    def start(self):
        self.server = create_server(self.app, host="127.0.0.1", port=self.port, threads=4,
                                    **cli.proxy_options(self.trusted_proxy))
        self.stopping = False
        self.thread = threading.Thread(target=self._run, args=(self.server,), daemon=True)
        self.thread.start()
        return self


class ProxiedHub(Hub):
    def __init__(self, data_dir: Path):
        hub_toml = config.read_config_file(HUB_TOML)
        app_settings = {k: v for k, v in hub_toml.items()
                        if k not in ("HOST", "PORT", "THREADS", "TRUSTED_PROXY", "ROLE")}
        self.app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, **app_settings})
        self.data_dir = data_dir
        self.server = ProxiedServer(self.app, hub_toml["TRUSTED_PROXY"]).start()
        self.url = self.server.url
        from sync import bundle, publish
        self.key = bundle.load_private_key(publish.signing_key_path(data_dir))
        self.pubkey = bundle.public_b64(self.key)


@pytest.fixture
def tls(tmp_path):
    return make_tls(tmp_path / "tls")


def start_nginx(tmp_path, hub, tls, internal_ca=False):
    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: run `make test` (tools/system-deps.sh installs it)")
    http_port, https_port = free_port(), free_port()
    (tmp_path / "webroot" / ".well-known" / "acme-challenge").mkdir(parents=True)
    (tmp_path / "webroot" / ".well-known" / "acme-challenge" / "t0k3n").write_text("certbot")
    site = render(EXAMPLE, tls, data_dir=hub.data_dir, ports={80: http_port, 443: https_port},
                  upstream_port=hub.server.port, webroot=tmp_path / "webroot",
                  internal_ca=internal_ca)
    run = tmp_path / "nginx"
    conf = server_conf(run, site)
    checked = nginx_t(conf, run)
    assert checked.returncode == 0, checked.stderr
    server = Nginx(run, conf)
    server.http = f"http://127.0.0.1:{http_port}"
    server.https = f"https://localhost:{https_port}"
    server.context = ssl.create_default_context(cafile=str(tls["ca"]))
    server.wait_for(server.https + "/sync/v1/index.json", server.context)
    return server


@pytest.fixture
def proxied_hub(hub_dir):
    h = ProxiedHub(hub_dir)
    h.publish()
    yield h
    h.server.stop()


def test_example_paths_are_readmes():
    data_dir = re.search(r"kiosk init --role hub --data-dir (\S+)", README).group(1)
    assert data_dir == README_DATA_DIR
    aliases = re.findall(r"^\s*alias (\S+);", EXAMPLE.read_text(), flags=re.M)
    assert len(aliases) == 3
    for alias in aliases:
        assert alias.startswith(f"{data_dir}/published/"), alias
    from sync import publish
    assert publish.published_dir(Path(data_dir)) == Path(f"{data_dir}/published")
    # README removes Debian's default site, and the example is the default server
    assert "rm -f /etc/nginx/sites-enabled/default" in README
    assert "listen 80 default_server;" in EXAMPLE.read_text()
    assert "listen 443 ssl default_server;" in EXAMPLE.read_text()
    # both certificate variants README describes are in the example
    assert CERTBOT_DIR in EXAMPLE.read_text() and "/etc/letsencrypt/live/$HUB/" in README
    assert 's/hub.example.gov.cn/$HUB/g' in README
    assert f"# ssl_certificate     {INTERNAL_CA_DIR}/hub.crt;" in EXAMPLE.read_text()
    assert INTERNAL_CA_DIR in README


def fetch(url, context=None, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_hub_behind_nginx_with_tls(tmp_path, proxied_hub, tls):
    nginx = start_nginx(tmp_path, proxied_hub, tls)
    try:
        ctx = nginx.context
        status, headers, body = fetch(nginx.https + "/healthz", ctx)
        assert status == 200 and b"ok" in body.lower()
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        url = f"{nginx.https}/sync/v1/{VILLAGE}/manifest.json"
        status, headers, body = fetch(url, ctx)
        assert status == 200 and body == proxied_hub.manifest_bytes(VILLAGE)
        assert "max-age=60" in headers["Cache-Control"] and headers["Strict-Transport-Security"]
        status, headers, _ = fetch(url, ctx, {"If-None-Match": headers["ETag"]})
        assert status == 304
        # the admin login through nginx: a Secure session cookie (hub.toml, X-Forwarded-Proto)
        status, headers, body = fetch(nginx.https + "/admin/login", ctx)
        assert status == 200 and "登录" in body.decode()
        cookies = headers.get_all("Set-Cookie") or []
        assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies), cookies
        # port 80 only redirects (and answers certbot's challenge)
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as e:
            opener.open(nginx.http + "/admin/login?next=/admin/", timeout=10)
        assert e.value.code == 301
        assert e.value.headers["Location"].startswith("https://") and \
            e.value.headers["Location"].endswith("/admin/login?next=/admin/")
        assert fetch(nginx.http + "/.well-known/acme-challenge/t0k3n")[2] == b"certbot"
        # nothing but bundles under /sync/v1/, no traversal
        for bad in ("/sync/v1/blobs/../../keys/signing.pem", "/sync/v1/blobs/abc",
                    "/sync/v1/1234/manifest.json", "/sync/v1/keys/signing.pem"):
            assert fetch(nginx.https + bad, ctx)[0] in (400, 404), bad
        blob = next((proxied_hub.data_dir / "published" / "blobs").iterdir())
        status, headers, body = fetch(f"{nginx.https}/sync/v1/blobs/{blob.name}", ctx,
                                      {"Range": "bytes=5-"})
        assert status == 206 and "immutable" in headers["Cache-Control"]
        assert body == blob.read_bytes()[5:]
    finally:
        nginx.stop()


def test_terminal_trusting_the_county_ca_follows_through_nginx(tmp_path, proxied_hub, tls,
                                                                monkeypatch):
    """The internal-CA variant: a terminal that trusts the county CA syncs over HTTPS
    (enrolment and inbox proxied); one that does not refuses the hub."""
    nginx = start_nginx(tmp_path, proxied_hub, tls, internal_ca=True)
    try:
        term = make_terminal(tmp_path / "t", nginx.https, [proxied_hub.pubkey],
                             proxied_hub.enroll(VILLAGE))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
        report = terminal.sync_once(term)
        assert not report.ok
        before = applied_version(term)
        assert "CERTIFICATE_VERIFY_FAILED" in " ".join(map(str, report.errors))
        # the county CA installed where OpenSSL looks (README: update-ca-certificates)
        monkeypatch.setenv("SSL_CERT_FILE", str(tls["ca"]))
        report = terminal.sync_once(term)
        assert report.ok, report.errors
        assert applied_version(term) == proxied_hub.version(VILLAGE) != before
        access = (nginx.run / "access.log").read_text()
        assert f"/sync/v1/{VILLAGE}/manifest.json" in access and "/sync/v1/blobs/" in access
        assert "POST /sync/v1/enroll" in access and "POST /sync/v1/inbox" in access
    finally:
        nginx.stop()
