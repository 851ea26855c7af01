"""The PDF inspection: active content is found however it is written, or the file is refused."""
from __future__ import annotations

import zlib

import pytest

from content import pdfcheck
from content.uploads import UploadError, store_upload

from pdf_util import benign, build, page_objects

JS = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"


def _with_catalog(extra: bytes, **kw) -> bytes:
    return build(page_objects(1, catalog_extra=extra), **kw)


def _with_object(body: bytes, **kw) -> bytes:
    objs = page_objects(1, catalog_extra=b"/Names 20 0 R ")
    objs[20] = body
    return build(objs, **kw)


def _packed(body: bytes, compress: bool = True) -> bytes:
    """``body`` as object 20 inside a (compressed) object stream, referenced from the catalog."""
    return build(page_objects(1, catalog_extra=b"/OpenAction 20 0 R "), packed={20: body},
                 compress_packed=compress)


def _annotation(action: bytes) -> bytes:
    """A link annotation on page 1 whose action is ``action``."""
    objs = page_objects(1, page_extra=b"/Annots [20 0 R] ")
    objs[20] = b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A " + action + b" >>"
    return build(objs)


HOSTILE = [
    ("open action with script", _with_catalog(b"/OpenAction " + JS + b" "), "脚本"),
    ("hex-escaped JavaScript name", _with_catalog(b"/OpenAction << /S /J#61vaScript /J#53 (x) >> "), "脚本"),
    ("every letter escaped", _with_object(b"<< /#4A#61#76#61#53#63#72#69#70#74 [] >>"), "脚本"),
    ("script in a compressed object stream", _packed(JS), "脚本"),
    ("script in an uncompressed object stream", _packed(JS, compress=False), "脚本"),
    ("escaped name in a compressed object stream", _packed(b"<< /S /L#61un#63h /F (cmd.exe) >>"), "启动"),
    ("link to a website (/URI)", _annotation(b"<< /S /URI /URI (http://example.invalid/) >>"), "网址"),
    ("form submission (/SubmitForm)", _annotation(b"<< /S /SubmitForm /F (http://x.invalid) >>"), "提交表单"),
    ("launch action (/Launch)", _annotation(b"<< /S /Launch /F (C:\\\\Windows\\\\calc.exe) >>"), "启动"),
    ("import data", _annotation(b"<< /S /ImportData /F (data.fdf) >>"), "导入数据"),
    ("additional actions (/AA)", build(page_objects(1, page_extra=b"/AA << /O 20 0 R >> ")), "自动触发"),
    ("embedded file", _with_object(b"<< /EmbeddedFiles << /Names [(a.exe) 21 0 R] >> >>"), "嵌入"),
    ("rich media", _with_object(b"<< /Type /RichMedia >>"), "多媒体"),
    ("XFA form", _with_catalog(b"/AcroForm << /Fields [] /XFA 20 0 R >> "), "XFA"),
    ("open action that is not a destination",
     _with_catalog(b"/OpenAction << /S /Named /N /Print >> "), "自动执行"),
    ("name split by a comment is still a name",
     _with_catalog(b"/OpenAction << /S %comment\n/JavaScript /JS (x) >> "), "脚本"),
]

UNREADABLE = [
    ("encrypted", build(page_objects(1), trailer_extra=b"/Encrypt << /Filter /Standard >> "), "加密"),
    ("object stream with another filter",
     build(page_objects(1), packed={20: JS}).replace(b"/FlateDecode", b"/LZWDecode  "), "压缩方式"),
    ("object stream that inflates too much", None, "过大"),
    ("nothing but syntax (too many tokens to read in time)",
     _with_object(b"[" + b"0 " * pdfcheck.MAX_TOKENS + b"]"), "过于复杂"),
    ("object hidden in a string", _with_object(b"(x) (5 0 obj << /S /JavaScript >> endobj)"), "藏有对象"),
    ("object hidden in a comment", _with_object(b"<< >> %9 0 obj << /S /JS >>"), "藏有对象"),
    ("object hidden in a stream body",
     _with_object(b"<< /Length 40 >>\nstream\n9 0 obj << /Type /Whatever >> endobj \nendstream"), "藏有对象"),
    ("string never closed", benign(1).replace(b"(Page 1)", b"(Page 1").replace(b"/Length 72", b"/Length 71")
     .replace(b"<< /Type /Catalog", b"<< /X (open /Type /Catalog"), "没有结束"),
]


def _inflates_too_much() -> bytes:
    big = b"<< >> " + b" " * (pdfcheck.MAX_INFLATE_PER_STREAM + 10)
    raw = zlib.compress(big, 9)
    objs = page_objects(1)
    objs[20] = (b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(raw)
                + raw + b"\nendstream")
    return build(objs)


@pytest.mark.parametrize("label,data,message", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_pdf_is_refused_with_reason(tmp_path, label, data, message):
    assert pdfcheck.inspect(data).found, label
    with pytest.raises(UploadError, match=message) as e:
        store_upload(tmp_path, "公示.pdf", data)
    assert "不能上传" in str(e.value)
    assert not (tmp_path / "blobs").exists()


@pytest.mark.parametrize("label,data,message", UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_pdf_that_cannot_be_inspected_is_refused(tmp_path, label, data, message):
    data = data if data is not None else _inflates_too_much()
    with pytest.raises(pdfcheck.Unreadable, match=message):
        pdfcheck.inspect(data)
    with pytest.raises(UploadError, match="无法完整检查"):
        store_upload(tmp_path, "公示.pdf", data)
    assert not (tmp_path / "blobs").exists()


@pytest.mark.parametrize("label,data", [
    ("plain pages", benign(2)),
    ("pages in a compressed object stream", build(
        {k: v for k, v in page_objects(1).items() if k != 3}, packed={3: page_objects(1)[3]})),
    ("words inside strings and page text", _with_object(b"<< /Title (JavaScript /JS /URI Launch) >>")),
    ("open action that is only a destination", _with_catalog(b"/OpenAction [4 0 R /Fit] ")),
    ("open action that goes to a page", _with_catalog(b"/OpenAction << /S /GoTo /D [4 0 R /Fit] >> ")),
    ("names that only begin like active ones", _with_object(b"<< /JSON 1 /URIs 2 /AAA 3 /Launcher 4 >>")),
])
def test_benign_pdf_passes(tmp_path, label, data):
    assert pdfcheck.inspect(data).found == set(), label
    up = store_upload(tmp_path, "明白卡.pdf", data)
    assert up.mime == "application/pdf" and up.pictures
