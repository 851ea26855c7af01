"""Which hub addresses a terminal may use: HTTPS, or plain HTTP only on this machine.

Over plain HTTP on a county network anyone in between could read residents' applications
(ID numbers, phones) as they go upstream and could answer in the hub's place, e.g. to
"acknowledge" records so the terminal drops them. Bundles are signed, uploads are not
secret: only TLS protects the second half. Loopback stays allowed (tests, a hub and a
terminal on one machine); anything else over HTTP needs an explicit `--insecure-http`.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


class HubURLError(ValueError):
    """The hub address is refused; the message says why and what to do, in Chinese."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_hub_url(url: str, insecure_http: bool = False) -> str:
    """The hub's base URL without a trailing slash, or HubURLError."""
    parts = urlsplit((url or "").strip())
    try:
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        host = None
    if parts.scheme not in ("https", "http") or not host or parts.query or parts.fragment:
        raise HubURLError(f"县级平台地址 {url!r} 无效：应形如 https://hub.example.gov.cn")
    if parts.scheme == "http" and not insecure_http and not is_loopback(host):
        raise HubURLError(
            f"县级平台地址 {url} 使用不加密的 http://：群众提交的申请（身份证号、手机号）会在网络上"
            "明文传输，他人也可以冒充县级平台。请改用 https:// 地址（县级平台的 nginx 配置见 "
            "deploy/nginx-hub.conf.example）；只有在确实无法使用 HTTPS 的内部网络中，才可在 "
            "kiosk init 时加 --insecure-http 明确允许。")
    return url.strip().rstrip("/")
