"""Run deploy/*.conf.example in a real nginx: README's paths, test ports, test certificates.

`render` changes only what differs on a test machine: the data folder's root (README uses
/var/lib/kiosk), the certificate files, the listening ports and the upstream port.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
README_DATA_DIR = "/var/lib/kiosk"      # README: kiosk init --role hub --data-dir /var/lib/kiosk
CERTBOT_DIR = "/etc/letsencrypt/live/hub.example.gov.cn"
INTERNAL_CA_DIR = "/etc/kiosk/tls"


def make_tls(folder: Path) -> dict[str, Path]:
    """A county CA and a hub certificate it signed for localhost / 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("淮川县测试内部CA")).issuer_name(name("淮川县测试内部CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    files = {"ca": folder / "county-ca.crt", "cert": folder / "hub.crt", "key": folder / "hub.key"}
    files["ca"].write_bytes(ca.public_bytes(pem))
    files["cert"].write_bytes(cert.public_bytes(pem))
    files["key"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    files["key"].chmod(0o600)
    return files


def render(example: Path, tls: dict[str, Path], *, data_dir: Path | None = None,
           ports: dict[int, int] | None = None, upstream_port: int | None = None,
           webroot: Path | None = None, internal_ca: bool = False) -> str:
    """The example with a test machine's paths and ports; ``internal_ca`` switches the
    certificate lines to the county-CA variant the example carries commented out."""
    text = example.read_text()
    if internal_ca:
        text = re.sub(r"^(\s*)(ssl_certificate(?:_key)?\s+/etc/letsencrypt/)", r"\1# \2", text, flags=re.M)
        text = re.sub(r"^(\s*)# (ssl_certificate(?:_key)?\s+/etc/kiosk/tls/)", r"\1\2", text, flags=re.M)
    text = text.replace(f"{CERTBOT_DIR}/fullchain.pem", str(tls["cert"]))
    text = text.replace(f"{CERTBOT_DIR}/privkey.pem", str(tls["key"]))
    text = re.sub(rf"{INTERNAL_CA_DIR}/[\w.-]+\.crt", str(tls["cert"]), text)
    text = re.sub(rf"{INTERNAL_CA_DIR}/[\w.-]+\.key", str(tls["key"]), text)
    if data_dir is not None:
        text = text.replace(README_DATA_DIR + "/", str(data_dir) + "/")
    for port, test_port in (ports or {}).items():
        text = re.sub(rf"^\s*listen \[::\]:{port}\b.*\n", "", text, flags=re.M)
        text = re.sub(rf"listen {port}\b", f"listen 127.0.0.1:{test_port}", text)
    if upstream_port is not None:
        text = text.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream_port};")
    if webroot is not None:
        text = text.replace("root /var/www/html;", f"root {webroot};")
    return text


def server_conf(run: Path, site: str) -> Path:
    """A minimal nginx.conf in ``run`` including the rendered site."""
    run.mkdir(parents=True, exist_ok=True)
    (run / "site.conf").write_text(site)
    temp = "\n".join(f"  {k}_temp_path {run}/{k};"
                     for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    mime = "  include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else ""
    conf = run / "nginx.conf"
    conf.write_text(("user root;\n" if os.geteuid() == 0 else "")
                    + f"error_log {run}/error.log;\npid {run}/nginx.pid;\nevents {{}}\n"
                    f"http {{\n{mime}  access_log {run}/access.log;\n{temp}\n"
                    f"  include {run}/site.conf;\n}}\n")
    return conf


def nginx_t(conf: Path, prefix: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NGINX, "-t", "-p", str(prefix), "-e", "stderr", "-c", str(conf)],
                          capture_output=True, text=True, timeout=60)


class Nginx:
    """nginx in the foreground on a rendered config; stopped by stop()."""

    def __init__(self, run: Path, conf: Path):
        self.run, self.conf = run, conf
        self.proc = subprocess.Popen([NGINX, "-p", str(run), "-e", "stderr", "-c", str(conf),
                                      "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_for(self, url: str, context=None, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2, context=context).read()
                return
            except urllib.error.HTTPError:
                return                     # nginx answers
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("nginx did not start: " + self.proc.stderr.read().decode(
                        errors="replace") + (self.run / "error.log").read_text(errors="replace"))
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
