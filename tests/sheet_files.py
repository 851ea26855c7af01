"""Hand-built .xlsx files for the bounded-reader tests and benchmark: every part written here,
so a test can give a sheet a false <dimension>, none at all, or a zip member a false size."""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from content.sheets import column_name

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="目录" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def cell(ref: str, text: str | None = None, shared: int | None = None) -> str:
    if shared is not None:
        return f'<c r="{ref}" t="s"><v>{shared}</v></c>'
    if text is None:
        return f'<c r="{ref}"/>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def row(index: int, cells) -> str:
    return f'<row r="{index}">{"".join(cells)}</row>'


def sheet_xml(rows, dimension: str | None = None, merges=()) -> bytes:
    """``rows`` an iterable of row XML strings (streamed into the result)."""
    out = io.StringIO()
    out.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {NS}>')
    if dimension:
        out.write(f'<dimension ref="{dimension}"/>')
    out.write("<sheetData>")
    for r in rows:
        out.write(r)
    out.write("</sheetData>")
    if merges:
        out.write(f'<mergeCells count="{len(merges)}">'
                  + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>")
    out.write("</worksheet>")
    return out.getvalue().encode()


def strings_xml(strings) -> bytes:
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst {NS} count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{items}</sst>').encode()


def xlsx(sheet: bytes, strings: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", strings if strings is not None else strings_xml([]))
    return buf.getvalue()


def header_and_far_cell(column: int = 16384, row_index: int = 2000, dimension: bool = True) -> bytes:
    """The issue's 5 KB file: a header in row 1 and one cell far away (XFD2000)."""
    far = f"{column_name(column - 1)}{row_index}"
    rows = [row(1, [cell("A1", "序号"), cell("B1", "一级事项"), cell("C1", "二级事项")]),
            row(row_index, [cell(far, "x")])]
    return xlsx(sheet_xml(rows, f"A1:{far}" if dimension else None))


def full_sheet(rows: int, columns: int, text_len: int = 8, shared: bool = True,
               dimension: str | None = "auto") -> bytes:
    """``rows`` × ``columns`` cells each holding distinct text (shared strings or inline)."""
    strings = []

    def gen():
        for i in range(1, rows + 1):
            cells = []
            for j in range(columns):
                text = f"{i:06d}{j:03d}".ljust(text_len, "字")[:max(text_len, 9)]
                if shared:
                    strings.append(text)
                    cells.append(cell(f"{column_name(j)}{i}", shared=len(strings) - 1))
                else:
                    cells.append(cell(f"{column_name(j)}{i}", text))
            yield row(i, cells)

    dim = f"A1:{column_name(columns - 1)}{rows}" if dimension == "auto" else dimension
    sheet = sheet_xml(gen(), dim)
    return xlsx(sheet, strings_xml(strings) if shared else None)


def with_member_size(data: bytes, member: str, declared: int) -> bytes:
    """The same zip with one member's declared (uncompressed) size replaced: a lying header."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info.filename))
    raw = bytearray(buf.getvalue())
    z = zipfile.ZipFile(io.BytesIO(bytes(raw)))
    info = z.getinfo(member)
    actual = info.file_size
    # The local header (offset 22) and the central directory entry (offset 24) both hold it.
    local = info.header_offset
    raw[local + 22:local + 26] = declared.to_bytes(4, "little")
    pos = 0
    while True:
        pos = raw.find(b"PK\x01\x02", pos)
        if pos < 0:
            break
        name_len = int.from_bytes(raw[pos + 28:pos + 30], "little")
        if raw[pos + 46:pos + 46 + name_len].decode() == member:
            assert int.from_bytes(raw[pos + 24:pos + 28], "little") == actual
            raw[pos + 24:pos + 28] = declared.to_bytes(4, "little")
        pos += 4
    return bytes(raw)
