"""Uploads: sniffed types only, size limit, decompression bombs, metadata stripped, stored by hash."""
from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

import pdf_util
from content.uploads import (MAX_UPLOAD_BYTES, UploadError, blob_path, read_blob, sniff,
                             store_upload)


def _png(size=(64, 48), color=(200, 30, 30), **save) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG", **save)
    return buf.getvalue()


def _jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (120, 80), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"            # Make
    exif[0x0110] = "Model-X"               # Model
    exif[0x013B] = "Zhang San"              # Artist
    exif[0x0112] = 6                        # Orientation: rotate 90° when shown
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (32.0, 37.0, 12.5)   # latitude
    gps[3], gps[4] = "E", (116.0, 59.0, 30.0)  # longitude
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes(), quality=90)
    return buf.getvalue()


def _pdf() -> bytes:
    return pdf_util.benign(2)


def test_png_is_stored_by_hash_atomically(tmp_path):
    data = _png()
    up = store_upload(tmp_path, "公示照片.png", data)
    assert up.mime == "image/png" and up.name == "公示照片.png"
    stored = read_blob(tmp_path, up.sha256)
    assert hashlib.sha256(stored).hexdigest() == up.sha256 and len(stored) == up.size
    path = blob_path(tmp_path, up.sha256)
    assert path == tmp_path / "blobs" / up.sha256[:2] / up.sha256
    assert [p.name for p in path.parent.iterdir()] == [up.sha256]      # no temp file left over
    assert Image.open(path).size == (64, 48)


def test_same_content_stored_once(tmp_path):
    a = store_upload(tmp_path, "a.png", _png())
    b = store_upload(tmp_path, "b.png", _png())
    assert a.sha256 == b.sha256 and a.pictures == b.pictures
    blobs = {p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()}
    assert blobs == {a.sha256} | {p["sha256"] for p in a.pictures}
    c = store_upload(tmp_path, "c.png", _png(color=(0, 0, 0)))
    assert c.sha256 != a.sha256
    blobs = {p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()}
    assert blobs == {a.sha256, c.sha256} | {p["sha256"] for p in a.pictures + c.pictures}


@pytest.mark.parametrize("content", [
    b"MZ\x90\x00\x03\x00\x00\x00 this is a Windows program",
    b"<html><script>alert(1)</script></html>",
    b"#!/bin/sh\nrm -rf /\n",
    b"PK\x03\x04 a zip or an office document",
    "序号,姓名\n1,张三\n".encode("utf-8"),
])
def test_wrong_type_renamed_to_png_is_refused(tmp_path, content):
    with pytest.raises(UploadError, match="只能上传图片"):
        store_upload(tmp_path, "photo.png", content)
    assert not (tmp_path / "blobs").exists()


def test_png_header_with_garbage_is_refused(tmp_path):
    with pytest.raises(UploadError, match="损坏"):
        store_upload(tmp_path, "x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    assert not (tmp_path / "blobs").exists()


def test_type_comes_from_content_not_name(tmp_path):
    jpeg = _jpeg_with_exif()
    up = store_upload(tmp_path, "看起来像.png", jpeg)
    assert up.mime == "image/jpeg" and up.name == "看起来像.jpg"
    up = store_upload(tmp_path, "../../etc/passwd", _png())
    assert up.name == "passwd.png"


def test_oversize_is_refused(tmp_path):
    big = _png() + b"\x00" * (MAX_UPLOAD_BYTES + 1)
    with pytest.raises(UploadError, match="文件太大"):
        store_upload(tmp_path, "big.png", big)
    with pytest.raises(UploadError, match="最大允许 1 MB"):
        store_upload(tmp_path, "doc.pdf", _pdf() + b"%" * (1024 * 1024), max_bytes=1024 * 1024)
    assert not (tmp_path / "blobs").exists()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bomb(width: int, height: int) -> bytes:
    """A small PNG that claims a huge 1-bit image (a decompression bomb)."""
    rows = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 64, 9)   # only the first rows
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [7_000, 12_000, 30_000, 100_000])
def test_decompression_bomb_is_refused(tmp_path, side):
    data = _bomb(side, side)
    assert len(data) < 20_000
    with pytest.raises(UploadError) as e:
        store_upload(tmp_path, "bomb.png", data)
    assert "像素" in str(e.value) or "尺寸过大" in str(e.value)
    assert not (tmp_path / "blobs").exists()


def test_pillow_bomb_warning_counts_as_error(tmp_path, monkeypatch):
    # Between Pillow's warning threshold and our own limit the warning alone must refuse.
    import content.uploads as uploads
    monkeypatch.setattr(uploads, "MAX_IMAGE_PIXELS", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(UploadError, match="解压炸弹"):
        store_upload(tmp_path, "warn.png", _png(size=(40, 30)))       # 1200 pixels > 1000
    assert not (tmp_path / "blobs").exists()


def test_exif_is_removed_and_picture_kept_upright(tmp_path):
    data = _jpeg_with_exif()
    src = Image.open(io.BytesIO(data))
    assert src.getexif()[0x013B] == "Zhang San" and src.getexif().get_ifd(0x8825)
    up = store_upload(tmp_path, "现场照片.jpg", data)
    stored = read_blob(tmp_path, up.sha256)
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG"
    assert dict(img.getexif()) == {}
    assert "exif" not in img.info
    assert b"Exif" not in stored and b"PhoneMaker" not in stored and b"Zhang San" not in stored
    assert img.size == (80, 120)            # the orientation tag was applied, not lost


def test_png_text_and_profile_chunks_are_removed(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "王五 13812345678")
    info.add_text("Comment", "GPS 32.62N 116.99E")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    data = _png(pnginfo=info, exif=exif.tobytes(), icc_profile=b"fake profile by Wang Wu" * 4)
    assert b"Author" in data and b"eXIf" in data and b"iCCP" in data
    up = store_upload(tmp_path, "p.png", data)
    stored = read_blob(tmp_path, up.sha256)
    assert b"Author" not in stored and b"GPS" not in stored and b"eXIf" not in stored
    assert b"iCCP" not in stored
    assert Image.open(io.BytesIO(stored)).text == {}


def test_gif_and_webp_are_accepted(tmp_path):
    frames = [Image.new("RGB", (30, 20), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0,
                   comment=b"made by someone")
    assert Image.open(buf).n_frames == 3
    up = store_upload(tmp_path, "anim.gif", buf.getvalue())
    img = Image.open(io.BytesIO(read_blob(tmp_path, up.sha256)))
    assert up.mime == "image/gif" and img.n_frames == 3 and "comment" not in img.info
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(buf, "WEBP")
    up = store_upload(tmp_path, "x.webp", buf.getvalue())
    assert up.mime == "image/webp" and up.name == "x.webp"


def test_pdf_is_accepted_byte_for_byte(tmp_path):
    data = _pdf()
    up = store_upload(tmp_path, "名单.PDF", data)
    assert up.mime == "application/pdf" and up.name == "名单.pdf"
    assert read_blob(tmp_path, up.sha256) == data
    assert up.sha256 == hashlib.sha256(data).hexdigest()


def test_pdf_with_script_or_truncated_is_refused(tmp_path):
    script = _pdf().replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript "
                                               b"/JS (app.alert(1)) >>")
    with pytest.raises(UploadError, match="脚本"):
        store_upload(tmp_path, "a.pdf", script)
    with pytest.raises(UploadError, match="不完整"):
        store_upload(tmp_path, "b.pdf", _pdf()[:-7])
    assert not (tmp_path / "blobs").exists()


def test_empty_and_sniff():
    with pytest.raises(UploadError, match="空"):
        store_upload("/nonexistent", "a.png", b"")
    assert sniff(b"GIF89a....") == "image/gif"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff(b"RIFF\x00\x00\x00\x00AVI ") is None
    with pytest.raises(ValueError):
        blob_path("/tmp", "../../etc/passwd")
