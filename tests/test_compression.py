"""kiosk/compression.py: gzip/brotli by type, size and Accept-Encoding; never with a secret (BREACH)."""
from __future__ import annotations

import gzip
import re

import brotli
import pytest
from flask import Response

from tests.admin_util import login
from tests.test_citizen import GOOD, apply_ok

BR = {"Accept-Encoding": "gzip, deflate, br"}
GZIP = {"Accept-Encoding": "gzip"}


def decoded(r) -> bytes:
    encoding = r.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(r.data)
    if encoding == "gzip":
        return gzip.decompress(r.data)
    assert encoding is None, encoding
    return r.data


def vary(r) -> set[str]:
    return {v.strip().lower() for v in r.headers.get("Vary", "").split(",") if v.strip()}


@pytest.fixture
def routes(app):
    """Test-only answers of chosen types and sizes on the real app (all hooks apply)."""
    @app.route("/_test/body/<mimetype_a>/<mimetype_b>/<int:size>")
    def sized_body(mimetype_a, mimetype_b, size):
        return Response(b"ab" * (size // 2), mimetype=f"{mimetype_a}/{mimetype_b}")  # size bytes

    @app.route("/_test/stream")
    def streamed():
        return Response((f"<p>第{i}行</p>\n" * 100 for i in range(50)), mimetype="text/html")
    return app


@pytest.mark.parametrize("headers,encoding", [(BR, "br"), (GZIP, "gzip"), ({}, None),
                                              ({"Accept-Encoding": "identity"}, None),
                                              ({"Accept-Encoding": "br;q=0, gzip"}, "gzip")])
def test_a_resident_page_is_compressed_as_the_browser_accepts(client, headers, encoding):
    plain = client.get("/")
    r = client.get("/", headers=headers)
    assert r.status_code == 200
    assert r.headers.get("Content-Encoding") == encoding
    assert "accept-encoding" in vary(r)
    assert decoded(r) == plain.data
    if encoding:
        assert len(r.data) * 2 < len(plain.data)
        assert int(r.headers["Content-Length"]) == len(r.data)


@pytest.mark.parametrize("mimetype", ["text/html", "text/css", "text/javascript",
                                      "application/javascript", "application/json",
                                      "image/svg+xml"])
def test_text_types_are_compressed_from_the_threshold_on(client, routes, mimetype):
    small = client.get(f"/_test/body/{mimetype}/1000", headers=BR)
    assert small.headers.get("Content-Encoding") is None and len(small.data) == 1000
    big = client.get(f"/_test/body/{mimetype}/1024", headers=BR)
    assert big.headers.get("Content-Encoding") == "br" and len(big.data) < 100
    assert decoded(big) == b"ab" * 512


@pytest.mark.parametrize("mimetype", ["image/png", "image/jpeg", "application/pdf", "application/zip",
                                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                      "application/octet-stream"])
def test_compressed_formats_are_sent_as_they_are(client, routes, mimetype):
    r = client.get(f"/_test/body/{mimetype}/50000", headers=BR)
    assert r.status_code == 200 and r.headers.get("Content-Encoding") is None
    assert r.data == b"ab" * 25000


def test_a_streamed_answer_is_never_buffered_to_be_compressed(client, routes):
    r = client.get("/_test/stream", headers=BR)
    assert r.is_streamed and r.headers.get("Content-Encoding") is None
    assert b"\xe7\xac\xac49\xe8\xa1\x8c" in r.data           # "第49行", sent as it was made


def test_real_pictures_and_exports_are_not_recompressed(client):
    r = client.get("/qr.png?url=https://example.gov.cn/notices/1", headers=BR)
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.headers.get("Content-Encoding") is None
    svg = client.get("/qr.svg?url=https://example.gov.cn/notices/1", headers=BR)
    assert svg.mimetype == "image/svg+xml"
    if len(decoded(svg)) >= 1024:
        assert svg.headers.get("Content-Encoding") == "br"
    login(client, "county-admin")
    xlsx = client.get("/admin/assessment/all.xlsx", headers=BR)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert xlsx.headers.get("Content-Encoding") is None


def test_static_files_are_compressed_but_not_their_byte_ranges(client):
    url = re.search(r'src="(/static/vendor/htmx\.min\.js[^"]*)"', client.get("/").get_data(as_text=True))
    url = url.group(1) if url else "/static/kiosk.js"
    plain = client.get(url)
    r = client.get(url, headers=BR)
    assert r.headers["Content-Encoding"] == "br" and decoded(r) == plain.data
    assert "Accept-Ranges" not in r.headers
    ranged = client.get(url, headers={**BR, "Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.headers.get("Content-Encoding") is None
    assert ranged.data == plain.data[:100]
    small = client.get("/static/icon.svg", headers=BR)           # under the threshold
    assert small.status_code == 200 and small.headers.get("Content-Encoding") is None
    assert small.data.startswith(b"<svg") and len(small.data) < 1024


def test_etag_revalidation_still_answers_304_when_compressed(client):
    r = client.get("/static/kiosk.css", headers=GZIP)
    etag = r.headers["ETag"]
    assert r.headers["Content-Encoding"] == "gzip" and etag.endswith(':gzip"')
    again = client.get("/static/kiosk.css", headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert "accept-encoding" in vary(again)
    # the uncompressed representation has its own validator
    plain = client.get("/static/kiosk.css")
    assert plain.headers.get("Content-Encoding") is None and plain.headers["ETag"] != etag


def test_board_polls_stay_204_and_the_deck_is_compressed(client):
    page = client.get("/display/county-hall", headers=BR)
    assert page.headers["Content-Encoding"] == "br"
    version = re.search(rb'data-version="([0-9a-f]+)"', decoded(page)).group(1).decode()
    quiet = client.get(f"/display/county-hall/slides?v={version}", headers={**BR, "HX-Request": "true"})
    assert quiet.status_code == 204 and quiet.data == b""
    assert "Content-Encoding" not in quiet.headers and "Vary" not in quiet.headers or \
        "accept-encoding" not in vary(quiet)
    deck = client.get("/display/county-hall/slides?v=0", headers={**BR, "HX-Request": "true"})
    assert deck.status_code == 200 and deck.headers.get("Content-Encoding") == "br"
    assert decoded(deck).lstrip().startswith(b'<div id="deck"')
    unchanged = client.get("/display/county-hall/slides", headers={**BR, "If-None-Match": f'"{version}"'})
    assert unchanged.status_code == 304 and unchanged.data == b""


# ---------------------------------------------------------------- BREACH

def test_pages_with_a_csrf_token_are_not_compressed(client):
    for url in ("/admin/login", "/apply"):
        r = client.get(url, headers=BR)
        assert r.status_code == 200 and 'name="csrf_token" value="' in r.get_data(as_text=True)
        assert r.headers.get("Content-Encoding") is None, url
    token = client.get("/csrf-token", headers=BR)
    assert token.headers.get("Content-Encoding") is None and token.get_json()["token"]


def test_signed_in_staff_pages_are_not_compressed(client):
    login(client, "county-admin")
    for url in ("/admin/", "/admin/notices/", "/admin/applications/", "/admin/audit", "/admin/fleet"):
        r = client.get(url, headers=BR)
        assert r.status_code == 200, url
        assert len(r.data) >= 1024 and r.headers.get("Content-Encoding") is None, url


def test_a_residents_own_receipt_is_not_compressed(client):
    apply_ok(client, GOOD)
    r = client.get("/apply/receipt", headers=BR)
    assert r.status_code == 200 and "YSQ-" in r.get_data(as_text=True)
    assert r.headers.get("Content-Encoding") is None


def test_resident_pages_hold_no_csrf_token_and_are_compressed(client):
    for url in ("/", "/display/", "/notices"):
        r = client.get(url, headers=BR)
        assert r.status_code == 200, url
        body = decoded(r).decode()
        assert r.headers.get("Content-Encoding") == "br", url
        assert not re.search(r'name="csrf_token" value="[^"]', body), url


def test_compression_can_be_turned_off(data_dir):
    from kiosk import create_app
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "COMPRESS_ENABLED": False})
    r = app.test_client().get("/", headers=BR)
    assert r.status_code == 200 and r.headers.get("Content-Encoding") is None
