"""QR codes for online addresses: validated, error correction M, a proper quiet zone, cached."""
from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

MAX_URL_LENGTH = 1000   # beyond this a code gets too dense to scan from 40 cm
QUIET_ZONE = 4          # modules, as the standard asks


class BadQRData(ValueError):
    """The data cannot become a kiosk QR code; the message is for staff and residents."""


def check_url(url: str) -> str:
    """Return the address if it may become a QR code, else raise BadQRData (Chinese message)."""
    if not url or not url.strip():
        raise BadQRData("缺少网址")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise BadQRData(f"网址过长（超过{MAX_URL_LENGTH}个字符），无法生成二维码")
    if any(ord(c) < 32 or c.isspace() for c in url):
        raise BadQRData("网址中含有空白或控制字符")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadQRData("只能为 http 或 https 网址生成二维码")
    return url


def cache_key(url: str, fmt: str) -> str:
    return hashlib.sha256(f"{fmt}\n{url}".encode()).hexdigest()


def _code(url: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, box_size=10)
    code.add_data(url)
    code.make(fit=True)
    return code


@lru_cache(maxsize=512)
def png(url: str, box_size: int = 10) -> bytes:
    """PNG bytes; 10 px modules make a 25-module code about 330 px, large enough at 40 cm."""
    code = _code(check_url(url))
    code.box_size = box_size
    buf = io.BytesIO()
    code.make_image().save(buf, format="PNG")
    return buf.getvalue()


@lru_cache(maxsize=512)
def svg(url: str) -> str:
    """A scalable SVG (one path), sized by the page's CSS."""
    code = _code(check_url(url))
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")
