"""The one public address every QR code starts from.

A county sets it once (``kiosk init --public-url`` or the admin); the hub keeps it in
``meta.public_url`` and puts it into every bundle, so a terminal's QR codes lead phones
to the county's public site, never to the terminal's own 127.0.0.1 or a private LAN
address a phone on the mobile network cannot reach.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, request

from .db import get_db, get_meta

META_KEY = "public_url"
_PRIVATE_SUFFIXES = (".localhost", ".local", ".lan", ".internal", ".home.arpa", ".localdomain")


def is_public_host(host: str) -> bool:
    """A host a phone on the public network can reach: no loopback, private or link-local address."""
    host = (host or "").strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or host == "localhost" or host.endswith(_PRIVATE_SUFFIXES) or "." not in host \
            and ":" not in host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True        # a DNS name
    return address.is_global


def check_public_url(url: str) -> str:
    """The address normalised (no trailing slash), or ValueError with a Chinese message."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"对外网址应以 https:// 开头，例如 https://gk.example.gov.cn，实际是「{url}」")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("对外网址不能带查询参数、#片段或用户名密码")
    if not is_public_host(parts.hostname):
        raise ValueError(f"对外网址「{url}」是本机或内网地址，群众的手机扫码打不开；"
                         "请填写县政务公开平台在互联网上的网址")
    return url.rstrip("/")


def configured_public_url(conn) -> str | None:
    """The stored public address (meta, from init or the admin; on a terminal from the bundle),
    else the instance's ``public_url`` setting; None when neither is a public address."""
    for candidate in (get_meta(conn, META_KEY), current_app.config.get("PUBLIC_URL")):
        if candidate:
            try:
                return check_public_url(candidate)
            except ValueError:
                continue
    return None


def public_base() -> str | None:
    """Where QR codes point (no trailing slash): the configured public address, else this
    request's own address when it is a public one (a hub reached by its domain name),
    else None — a code that would lead to 127.0.0.1 or a LAN address is not made."""
    if "public_base" not in g:
        base = configured_public_url(get_db())
        if base is None and has_request_context() and current_app.config.get("ROLE") != "terminal":
            host = request.host_url.rstrip("/")
            base = host if is_public_host(urlsplit(host).hostname or "") else None
        g.public_base = base
    return g.public_base
