"""Pictures residents see for an attachment, made on the hub when it is uploaded.

An image gets a screen-sized version; a PDF is rasterised into page images with
poppler's ``pdftoppm``, so terminals and phones show pages without running any
PDF code.  Staff uploads are not trusted input for poppler either: the page
count is capped, pages are scaled to a fixed long side (not a DPI that a huge
page size would multiply), and both poppler tools run under ``prlimit`` (address
space, CPU seconds, file size) and a wall-clock timeout.

Functions here return encoded bytes and their facts; ``content.uploads`` stores them.
``shown`` and ``published_picture`` say which pictures of an attachment residents see
and whether one may be served.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

SCREEN_SIDE = 2048             # long side of an image's screen version (zoom stays sharp on 1080p)
PDF_PAGE_SIDE = 1800           # long side of a PDF page image (A4 ≈ 150 dpi)
PDF_MAX_PAGES = 30
RASTER_TIMEOUT = 120           # seconds for the whole document
RASTER_CPU_SECONDS = 120
RASTER_MEMORY = 1024 * 1024 * 1024
RASTER_FILE_SIZE = 64 * 1024 * 1024
JPEG_QUALITY = 85
PDF_JPEG_QUALITY = 90


class PictureError(ValueError):
    """Pictures could not be made; the message is Chinese, for the person uploading."""


@dataclass(frozen=True)
class Picture:
    data: bytes
    mime: str
    width: int
    height: int


def encode(img: Image.Image, prefer_png: bool) -> Picture:
    """PNG for graphics (sharp text, transparency), JPEG when that is much smaller (photos, scans)."""
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA" if "transparency" in img.info or img.mode in ("P", "PA") else "RGB")
    alpha = img.mode in ("RGBA", "LA")
    png = io.BytesIO()
    img.save(png, "PNG", compress_level=6)
    if alpha:
        return Picture(png.getvalue(), "image/png", *img.size)
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", quality=JPEG_QUALITY, optimize=True)
    limit = 1.3 if prefer_png else 0.9
    if len(png.getvalue()) <= limit * len(jpeg.getvalue()):
        return Picture(png.getvalue(), "image/png", *img.size)
    return Picture(jpeg.getvalue(), "image/jpeg", *img.size)


def screen_version(img: Image.Image, source_format: str) -> Picture:
    """The image (its first frame) no larger than SCREEN_SIDE, without metadata."""
    frame = img.copy()
    frame.info = {}
    if max(frame.size) > SCREEN_SIDE:
        frame.thumbnail((SCREEN_SIDE, SCREEN_SIDE), Image.LANCZOS)
    return encode(frame, prefer_png=source_format in ("PNG", "GIF"))


def _limited(cmd: list[str]) -> list[str]:
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return cmd
    return [prlimit, f"--as={RASTER_MEMORY}", f"--cpu={RASTER_CPU_SECONDS}",
            f"--fsize={RASTER_FILE_SIZE}", "--", *cmd]


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(_limited(cmd), capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as e:
        raise PictureError("PDF 转换为图片超时（文件过于复杂），请压缩或拆分后再上传") from e


def page_count(path: Path) -> int:
    tool = shutil.which("pdfinfo")
    if tool is None:
        raise PictureError("服务器未安装 poppler-utils，暂时不能上传 PDF，请联系县级管理员")
    done = _run([tool, str(path)], timeout=30)
    m = re.search(rb"^Pages:\s+(\d+)", done.stdout, re.M)
    if done.returncode != 0 or not m:
        raise PictureError("PDF 文件已损坏或格式不正确，无法读取页面")
    return int(m.group(1))


def pdf_pages(data: bytes) -> list[Picture]:
    """Each page as an image, long side PDF_PAGE_SIDE; refused beyond PDF_MAX_PAGES pages."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise PictureError("服务器未安装 poppler-utils，暂时不能上传 PDF，请联系县级管理员")
    with tempfile.TemporaryDirectory(prefix="kiosk-pdf-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        pages = page_count(src)
        if pages < 1:
            raise PictureError("PDF 没有页面")
        if pages > PDF_MAX_PAGES:
            raise PictureError(f"PDF 共 {pages} 页，超过 {PDF_MAX_PAGES} 页的上限；"
                               "请拆分成几个文件，或只上传需要公开的页面")
        # JPEG straight from poppler: its PNG writer takes seconds a page, and at this size
        # and quality text stays crisp enough to read and to zoom into.
        done = _run([tool, "-jpeg", "-jpegopt", f"quality={PDF_JPEG_QUALITY},optimize=y",
                     "-scale-to", str(PDF_PAGE_SIDE), "-f", "1", "-l", str(pages),
                     str(src), str(Path(tmp) / "page")], timeout=RASTER_TIMEOUT)
        files = sorted(Path(tmp).glob("page-*.jpg"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if done.returncode != 0 or len(files) != pages:
            raise PictureError("PDF 无法转换为页面图片（文件损坏或过于复杂），请重新导出后上传")
        out = []
        for f in files:
            data = f.read_bytes()
            try:
                with Image.open(io.BytesIO(data), formats=["JPEG"]) as img:
                    out.append(Picture(data, "image/jpeg", *img.size))
            except (OSError, ValueError) as e:
                raise PictureError("PDF 无法转换为页面图片，请重新导出后上传") from e
        return out


def shown(attachment) -> list[dict]:
    """The pictures residents see of an attachment row (or its dict): its ``pictures``; an image
    stored before pictures existed shows itself (it was cleaned at upload); a PDF without page
    images shows nothing, never the PDF."""
    raw = attachment["pictures"] if "pictures" in attachment.keys() else None
    made = json.loads(raw) if isinstance(raw, str) else list(raw or [])
    if made:
        return made
    if str(attachment["mime"]).startswith("image/"):
        return [{"sha256": attachment["sha256"], "mime": attachment["mime"],
                 "width": None, "height": None, "size": attachment["size"]}]
    return []


def published_picture(conn, sha256: str, codes: list[str], today: str) -> dict | None:
    """A picture of an attachment of a published notice of ``codes`` that is already out, or None.

    A PDF original is never a picture, so it is never found here."""
    placeholders = ",".join("?" * len(codes)) or "NULL"
    rows = conn.execute(
        f"""SELECT a.sha256, a.mime, a.size, a.pictures FROM attachment a
            JOIN notice n ON n.id = a.notice_id
            WHERE n.status = 'published' AND n.jurisdiction_code IN ({placeholders})
              AND substr(n.published_at, 1, 10) <= ?
              AND (a.sha256 = ? OR EXISTS (SELECT 1 FROM json_each(a.pictures) p
                                           WHERE json_extract(p.value, '$.sha256') = ?))""",
        [*codes, today, sha256, sha256]).fetchall()
    for row in rows:
        for p in shown(row):
            if p["sha256"] == sha256:
                return p
    from . import policies  # noqa: PLC0415  (policy documents' files and 图解 are pictures too)
    return policies.published_picture(conn, sha256, codes)
