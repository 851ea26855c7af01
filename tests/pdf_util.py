"""Small PDFs written byte by byte for the upload tests: benign pages and hostile variants."""
from __future__ import annotations

import zlib


def build(objects: dict[int, bytes], *, root: int = 1, packed: dict[int, bytes] | None = None,
          compress_packed: bool = True, trailer_extra: bytes = b"") -> bytes:
    """A PDF of ``objects`` (number → body) with a correct xref table.

    ``packed`` objects go into one object stream (/Type /ObjStm, FlateDecode unless
    ``compress_packed`` is false); the file then also carries an xref stream naming them.
    """
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    numbers = dict(objects)
    stm_num = None
    if packed:
        stm_num = max([*objects, *packed]) + 1
        header, body = [], bytearray()
        for num, obj in packed.items():
            header.append(f"{num} {len(body)}".encode())
            body += obj + b"\n"
        head = b" ".join(header) + b"\n"
        data = head + bytes(body)
        raw = zlib.compress(data) if compress_packed else data
        flt = b"/Filter /FlateDecode " if compress_packed else b""
        numbers[stm_num] = (b"<< /Type /ObjStm /N %d /First %d %s/Length %d >>\nstream\n"
                            % (len(packed), len(head), flt, len(raw)) + raw + b"\nendstream")
    for num in sorted(numbers):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + numbers[num] + b"\nendobj\n"
    size = max([*numbers, *(packed or {})]) + 1
    if packed:
        # An xref stream: type 1 (offset) and type 2 (in the object stream) entries.
        rows = bytearray()
        xref_num = size
        size += 1
        for num in range(size):
            if num in offsets:
                rows += bytes([1]) + offsets[num].to_bytes(4, "big") + b"\x00"
            elif num in packed:
                rows += bytes([2]) + stm_num.to_bytes(4, "big") + bytes([list(packed).index(num)])
            elif num == xref_num:
                rows += bytes([1]) + len(out).to_bytes(4, "big") + b"\x00"
            else:
                rows += bytes([0, 0, 0, 0, 0, 0xFF])
        start = len(out)
        out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 1] /Root %d 0 R /Length %d %s>>\nstream\n"
                % (xref_num, size, root, len(rows), trailer_extra) + bytes(rows) + b"\nendstream\nendobj\n")
        out += b"startxref\n%d\n%%%%EOF\n" % start
        return bytes(out)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += (b"%010d 00000 n \n" % offsets[num]) if num in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        size, root, trailer_extra, start)
    return bytes(out)


def page_objects(pages: int = 2, catalog_extra: bytes = b"", page_extra: bytes = b"") -> dict[int, bytes]:
    """Catalog 1, Pages 2, font 3, then a page and its content stream per page."""
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
            3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids = []
    for i in range(pages):
        page, content = 4 + 2 * i, 5 + 2 * i
        kids.append(b"%d 0 R" % page)
        text = b"BT /F1 72 Tf 100 600 Td (Page %d) Tj ET 0 0 1 rg 100 100 400 300 re f" % (i + 1)
        objs[page] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                      b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R " % content
                      + page_extra + b">>")
        objs[content] = b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream"
    objs[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    return objs


def benign(pages: int = 2) -> bytes:
    return build(page_objects(pages))
