"""Attachments and pictures: accept images and PDF only, clean them, store them by hash.

The type is sniffed from the bytes, never taken from the file name. Images are
decoded under Pillow's decompression-bomb guard (its warning counts as an
error here) and re-encoded, which drops EXIF (GPS position, camera, owner),
XMP, comments and colour-profile blocks; a side longer than MAX_IMAGE_SIDE is
scaled down. PDFs are kept byte for byte for staff but must pass
``content.pdfcheck`` (no scripts, actions, links or embedded files). Every
upload also gets the pictures residents see (``content.pictures``): an image's
screen version, a PDF's page images. Only those pictures ever leave the hub.

Blobs live at ``data_dir/blobs/ab/abcdef…`` named by the SHA-256 of the stored
bytes, written to a temporary file and renamed, so a blob is either whole or
absent and the same content is stored once.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from . import pdfcheck, pictures

__all__ = ["Upload", "UploadError", "store_upload", "blob_path", "read_blob", "write_blob",
           "MAX_UPLOAD_BYTES", "MAX_IMAGE_PIXELS", "ALLOWED_TYPES"]

MAX_UPLOAD_BYTES = 10 * 1024 * 1024          # default size limit (10 MiB)
MAX_IMAGE_PIXELS = 40_000_000                # 40 megapixels: any phone photo, no bombs
MAX_IMAGE_SIDE = 4096                        # the kept original is scaled down beyond this

# mime → (Pillow format, file extension)
ALLOWED_TYPES = {
    "image/png": ("PNG", ".png"),
    "image/jpeg": ("JPEG", ".jpg"),
    "image/gif": ("GIF", ".gif"),
    "image/webp": ("WEBP", ".webp"),
    "application/pdf": (None, ".pdf"),
}

# Image metadata worth keeping: how the picture looks and animates, nothing about who made it.
_KEEP_INFO = ("transparency", "duration", "loop", "background", "disposal")


class UploadError(ValueError):
    """A refused upload; the message is Chinese and meant for the person uploading."""


@dataclass(frozen=True)
class Upload:
    sha256: str
    mime: str
    size: int
    name: str
    # What residents are shown: an image's screen version or a PDF's page images, each
    # {"sha256", "mime", "width", "height", "size"}, stored as blobs beside the original.
    pictures: tuple = ()

    def as_attachment(self) -> dict:
        """The attachment as a notice's revision data keeps it."""
        return {"name": self.name, "sha256": self.sha256, "mime": self.mime, "size": self.size,
                "pictures": [dict(p) for p in self.pictures]}


def sniff(data: bytes) -> str | None:
    """The mime type told by the first bytes, or None when it is not one we accept."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _safe_name(filename: str, ext: str) -> str:
    """The display name: no folders or control characters, its extension matching the content."""
    name = unicodedata.normalize("NFC", str(filename or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    stem = os.path.splitext(name)[0].strip(" .") or "附件"
    return stem[:100] + ext


def _check_pdf(data: bytes) -> None:
    """Refuse a PDF with active content, or one that cannot be inspected fully (content.pdfcheck)."""
    if b"%%EOF" not in data[-2048:]:
        raise UploadError("PDF 文件不完整（缺少文件结尾），请重新导出后上传")
    try:
        report = pdfcheck.inspect(data)
    except pdfcheck.Unreadable as e:
        raise UploadError(f"无法完整检查这个 PDF（{e}），出于安全考虑不能上传；"
                          "请用“打印为PDF”或扫描件重新生成后上传") from e
    if report.found:
        what = "、".join(sorted(report.found))
        raise UploadError(f"PDF 中含有{what}，出于安全考虑不能上传；"
                          "请去掉这些内容，或用“打印为PDF”重新生成后上传")


def _clean_image(data: bytes, mime: str) -> tuple[bytes, pictures.Picture]:
    """Decode under the bomb guard, re-encode without metadata; also the screen version."""
    fmt = ALLOWED_TYPES[mime][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=[fmt])
            frames = getattr(img, "n_frames", 1)
            width, height = img.size
            if width * height * frames > MAX_IMAGE_PIXELS:
                raise UploadError(f"图片尺寸过大（{width}×{height}"
                                  f"{f'，{frames}帧' if frames > 1 else ''}），"
                                  "请缩小到4000万像素以内再上传")
            img.load()
            out = io.BytesIO()
            if frames > 1:
                _save_animation(img, fmt, out)
                img.seek(0)
                screen = pictures.screen_version(img.convert("RGBA"), fmt)
            else:
                upright = _save_still(img, fmt, out)
                screen = pictures.screen_version(upright, fmt)
        except UploadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise UploadError("图片像素数异常巨大（疑似“解压炸弹”），已拒绝") from e
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
            raise UploadError("图片文件已损坏或格式不正确，无法读取") from e
    return out.getvalue(), screen


def _stripped(img: Image.Image) -> Image.Image:
    img.info = {k: v for k, v in img.info.items() if k in _KEEP_INFO}
    return img


def _save_still(img: Image.Image, fmt: str, out: io.BytesIO) -> Image.Image:
    # Turn the picture upright before its orientation tag goes with the EXIF.
    upright = ImageOps.exif_transpose(img) or img
    clean = _stripped(upright.copy())
    if max(clean.size) > MAX_IMAGE_SIDE:
        clean.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.LANCZOS)
    if fmt == "JPEG":
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=90, optimize=True)
    elif fmt == "PNG":
        clean.save(out, "PNG", optimize=True)
    elif fmt == "GIF":
        clean.save(out, "GIF")
    else:
        clean.save(out, "WEBP", quality=90)
    return clean


def _save_animation(img: Image.Image, fmt: str, out: io.BytesIO) -> None:
    frames, durations = [], []
    for frame in ImageSequence.Iterator(img):
        durations.append(frame.info.get("duration", 100))
        frames.append(_stripped(frame.copy()))
    extra = {"loop": img.info.get("loop", 0), "duration": durations}
    if fmt == "WEBP":
        frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], quality=90, **extra)
    else:
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], **extra)


def blob_path(data_dir: str | os.PathLike, sha256: str) -> Path:
    """Where a blob lives: data_dir/blobs/ab/abcdef…"""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise ValueError("not a SHA-256 hex digest")
    return Path(data_dir) / "blobs" / sha256[:2] / sha256


def read_blob(data_dir: str | os.PathLike, sha256: str) -> bytes:
    return blob_path(data_dir, sha256).read_bytes()


def write_blob(data_dir: str | os.PathLike, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(data_dir, digest)
    if path.exists() and path.stat().st_size == len(data):
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return digest


def store_upload(data_dir: str | os.PathLike, filename: str, data: bytes,
                 max_bytes: int | None = None) -> Upload:
    """Check, clean and store one upload; raise UploadError (Chinese message) when refused."""
    limit = MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    if not data:
        raise UploadError("文件是空的，请重新选择")
    if len(data) > limit:
        raise UploadError(f"文件太大（{len(data) / 1048576:.1f} MB），"
                          f"最大允许 {limit / 1048576:.0f} MB")
    mime = sniff(data)
    if mime is None:
        raise UploadError("只能上传图片（PNG、JPEG、GIF、WebP）或 PDF 文件；"
                          "这个文件的内容不是这些格式（与文件名后缀无关）")
    try:
        if mime == "application/pdf":
            _check_pdf(data)
            stored, shown = data, pictures.pdf_pages(data)
        else:
            stored, screen = _clean_image(data, mime)
            shown = [screen]
            if len(stored) > limit:
                raise UploadError(f"图片重新压缩后仍超过 {limit / 1048576:.0f} MB，请缩小后再上传")
    except pictures.PictureError as e:
        raise UploadError(str(e)) from e
    # Pictures first: the original is only useful once everything it needs is there.
    made = tuple({"sha256": write_blob(data_dir, p.data), "mime": p.mime, "width": p.width,
                  "height": p.height, "size": len(p.data)} for p in shown)
    digest = write_blob(data_dir, stored)
    return Upload(sha256=digest, mime=mime, size=len(stored),
                  name=_safe_name(filename, ALLOWED_TYPES[mime][1]), pictures=made)
