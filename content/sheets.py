"""Reading and writing spreadsheets (.xlsx, .csv) safely: bounded reads, neutralised exports.

Every importer (catalogues, division codes, staff accounts, notice tables) reads its file
through ``read_sheets``: it returns each sheet as rows of cell strings, or raises
``SheetError`` with a Chinese message naming the limit the file broke.  A file is refused
before any work grows with it:

* the upload itself (``Limits.file_bytes``);
* an .xlsx's zip members, by their declared sizes, before openpyxl opens the file (the
  worksheets, the shared strings, everything else and the total; ``zipfile`` stops any
  member at its declared size, so a member cannot lie its way past these checks);
* each sheet's declared ``<dimension>``, before it is read;
* while reading, whatever the sheet declared: every row and cell actually present counts
  against the row, column and cell caps, and the bytes read against the sheet cap, so a
  sheet without a dimension or with a false one is bounded all the same.

Exports go through ``csv_bytes`` and ``xlsx_bytes``: a cell beginning with ``= + - @``, a
tab or a carriage return is a formula to Excel and WPS (formula injection), so the .csv
writes it behind an apostrophe and the .xlsx stores it as plain text.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

__all__ = ["Sheet", "Limits", "SheetError", "read_sheets", "read_pasted", "read_bytes", "DEFAULT_LIMITS",
           "csv_safe", "csv_bytes", "xlsx_bytes", "column_name"]


@dataclass(frozen=True)
class Limits:
    """What one file may hold; the defaults fit any county's catalogue, division or account list."""
    file_bytes: int = 10 * 1024 * 1024          # the upload (.xlsx or .csv)
    unzipped_bytes: int = 40 * 1024 * 1024      # all members of an .xlsx, decompressed
    sheet_bytes: int = 24 * 1024 * 1024         # one worksheet's XML, decompressed
    shared_strings_bytes: int = 16 * 1024 * 1024
    other_member_bytes: int = 8 * 1024 * 1024   # styles, workbook, themes …
    members: int = 200                          # files inside the .xlsx
    sheets: int = 30
    rows: int = 20000                           # the last row holding a value
    columns: int = 100                          # the last column holding a value
    cells: int = 60_000                         # cells present in the file (blank ones too)
    cell_chars: int = 32767                     # Excel's own limit for one cell
    merged_ranges: int = 20000


DEFAULT_LIMITS = Limits()


class SheetError(ValueError):
    """The file was refused; ``errors`` holds the reasons in Chinese."""

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


@dataclass
class Sheet:
    """One sheet as text: ``rows[i]`` is spreadsheet row i + 1, each a list of cell strings
    (no trailing blanks; a .csv is one sheet titled "")."""
    title: str
    rows: list[list[str]]


def _mb(n: int) -> str:
    return f"{n / 1048576:g} MB" if n >= 1048576 else f"{n // 1024} KB"


def column_name(j: int) -> str:
    """Spreadsheet column letters of a 0-based index: 0 → A, 27 → AB."""
    name = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def read_bytes(path_or_bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The file's bytes from a path, bytes or an open binary file, refused above the size cap."""
    cap = limits.file_bytes
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
    elif hasattr(path_or_bytes, "read"):
        data = path_or_bytes.read(cap + 1)
    else:
        path = Path(path_or_bytes)
        try:
            with path.open("rb") as f:
                data = f.read(cap + 1)
        except OSError as e:
            raise SheetError(f"无法读取文件：{path}（{e.strerror or e}）") from e
    if len(data) > cap:
        raise SheetError(f"文件超过 {_mb(cap)} 的上限，请拆分后分别导入")
    if not data.strip():
        raise SheetError("文件是空的")
    return data


def read_sheets(path_or_bytes, filename: str | None = None,
                limits: Limits = DEFAULT_LIMITS) -> list[Sheet]:
    """Every sheet of an .xlsx or .csv file as rows of cell strings; ``SheetError`` if refused.

    ``filename`` tells .xlsx from .csv (its extension; bytes starting like a zip are .xlsx).
    """
    name = filename or (str(path_or_bytes) if isinstance(path_or_bytes, (str, Path)) else "")
    data = read_bytes(path_or_bytes, limits)
    ext = Path(name).suffix.lower()
    if ext == ".xlsx" or (not ext and data.startswith(b"PK\x03\x04")):
        return _xlsx_sheets(data, limits)
    if ext in (".csv", ".txt") or not ext:
        return [_csv_sheet(data, limits)]
    if ext in (".xls", ".et"):
        raise SheetError("不支持旧版 .xls 文件，请在 Excel/WPS 中另存为 .xlsx 或 .csv 后再导入")
    raise SheetError(f"不支持的文件类型「{ext}」：只能导入 .xlsx 或 .csv 文件")


# --- cells ---------------------------------------------------------------------

def cell_text(value) -> str:
    """A cell's value as the text a person sees: whole numbers without ".0", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


class _Grid:
    """Rows being read, with the caps checked on every cell actually present."""

    def __init__(self, where: str, limits: Limits):
        self.where, self.limits = where, limits
        self.rows: list[list[str]] = []
        self.cells = 0
        self.texts: dict[str, str] = {}     # one str object per distinct text (shared strings repeat)

    def refuse(self, what: str) -> SheetError:
        return SheetError(f"{self.where}{what}，请删去多余的内容（或拆分文件）后再导入")

    def add_row(self, index: int, values: list[tuple[int, object]]) -> None:
        """Row ``index`` (1-based) with its (0-based column, value) cells."""
        lim = self.limits
        self.cells += len(values)
        if self.cells > lim.cells:
            raise self.refuse(f"单元格超过 {lim.cells} 个的上限")
        row: list[str] = []
        for j, value in values:
            text = cell_text(value)
            if not text:
                continue
            if j >= lim.columns:
                raise self.refuse(f"第{index}行{column_name(j)}列有内容，超过 {lim.columns} 列的上限")
            if index > lim.rows:
                raise self.refuse(f"第{index}行有内容，超过 {lim.rows} 行的上限")
            if len(text) > lim.cell_chars:
                raise self.refuse(f"第{index}行{column_name(j)}列超过 {lim.cell_chars} 字的上限")
            text = self.texts.setdefault(text, text)
            if j >= len(row):
                row.extend([""] * (j + 1 - len(row)))
            row[j] = text
        if not row:
            return
        if index > len(self.rows):
            self.rows.extend([] for _ in range(index - len(self.rows)))
        self.rows[index - 1] = row


# --- .csv ----------------------------------------------------------------------

def _decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as e:
            raise SheetError("文件不是有效的 UTF-8 编码（开头有 UTF-8 标记，但内容无法解码）") from e
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise SheetError("文件不是有效的 UTF-16 编码") from e
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("无法识别文件的文字编码：请另存为 UTF-8 或 GB18030（GBK）编码的 CSV，"
                     "或直接使用 .xlsx 文件")


_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r")


def _csv_sheet(data: bytes, limits: Limits) -> Sheet:
    return _text_sheet(_decode_csv(data), limits, (",", "\t", ";"))


def read_pasted(text: str, limits: Limits = DEFAULT_LIMITS) -> Sheet:
    """Cells copied from Excel or WPS and pasted into a text box: tab-separated (quoted where a
    cell holds a line break), or comma-separated when there is no tab; bounded like a file."""
    if len(text) > limits.file_bytes:
        raise SheetError(f"粘贴的内容超过 {_mb(limits.file_bytes)} 的上限")
    return _text_sheet(text, limits, ("\t",) if "\t" in text else (",",))


def _text_sheet(text: str, limits: Limits, delimiters: tuple[str, ...]) -> Sheet:
    head = text[:4096]
    delimiter = max(delimiters, key=head.count)
    grid = _Grid("", limits)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for index, record in enumerate(reader, 1):
            if index > limits.rows and not any(c.strip() for c in record):
                grid.cells += len(record)       # blank lines still cost; a cap still applies
                if grid.cells > limits.cells:
                    raise grid.refuse(f"单元格超过 {limits.cells} 个的上限")
                continue
            # A cell our own export neutralised ("'=…") reads back as it was written.
            grid.add_row(index, [(j, c[1:] if c.startswith(_NEUTRALISED) else c)
                                 for j, c in enumerate(record)])
    except csv.Error as e:
        raise SheetError(f"CSV 文件格式有误（第{reader.line_num}行）：{e}") from e
    return Sheet("", grid.rows)


# --- .xlsx ---------------------------------------------------------------------

class _CappedReader(io.RawIOBase):
    """A zip member read through a byte cap (zipfile already stops at the declared size;
    this also bounds what openpyxl's parser may pull, whatever the header says)."""

    def __init__(self, raw, cap: int, error: SheetError):
        self.raw, self.left, self.error = raw, cap, error

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        data = self.raw.read(min(len(buf), self.left + 1))
        if len(data) > self.left:
            raise self.error
        self.left -= len(data)
        buf[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def _check_members(z: zipfile.ZipFile, limits: Limits) -> None:
    infos = z.infolist()
    if len(infos) > limits.members:
        raise SheetError(f"文件内含 {len(infos)} 个部件，超过 {limits.members} 个的上限，不像是一份普通表格")
    total = 0
    for info in infos:
        name = info.filename.lower()
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            cap, what = limits.sheet_bytes, "一个工作表"
        elif name == "xl/sharedstrings.xml":
            cap, what = limits.shared_strings_bytes, "共享文字表"
        else:
            cap, what = limits.other_member_bytes, f"部件「{info.filename[:60]}」"
        if info.file_size > cap:
            raise SheetError(f"{what}解压后有 {_mb(info.file_size)}，超过 {_mb(cap)} 的上限")
        total += info.file_size
    if total > limits.unzipped_bytes:
        raise SheetError(f"文件解压后有 {_mb(total)}，超过 {_mb(limits.unzipped_bytes)} 的上限")


def _open_workbook(data: bytes, limits: Limits):
    import openpyxl  # noqa: PLC0415  (only needed for .xlsx)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            _check_members(z, limits)
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SheetError:
        raise
    except Exception as e:  # noqa: BLE001  (openpyxl and zipfile raise many kinds on broken files)
        raise SheetError("无法打开 .xlsx 文件（文件已损坏，或不是 Excel 2007 及以后的格式；"
                         ".xls 请先另存为 .xlsx）") from e


def _xlsx_sheets(data: bytes, limits: Limits) -> list[Sheet]:
    book = _open_workbook(data, limits)
    try:
        worksheets = [ws for ws in book.worksheets if hasattr(ws, "_worksheet_path")]
        if len(worksheets) > limits.sheets:
            raise SheetError(f"文件有 {len(worksheets)} 个工作表，超过 {limits.sheets} 个的上限")
        return [_read_sheet(book, ws, limits) for ws in worksheets]
    finally:
        book.close()


def _read_sheet(book, ws, limits: Limits) -> Sheet:
    # openpyxl's own read-only row parser, driven here so every cell present is counted
    # (its public iter_rows pads each row to the declared width and trusts the dimension).
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415
    from openpyxl.worksheet._reader import WorkSheetParser  # noqa: PLC0415

    where = f"工作表「{ws.title}」"
    grid = _Grid(where, limits)
    try:
        declared = ws.max_row, ws.max_column      # from <dimension>, None when absent
    except Exception:  # noqa: BLE001  (a malformed dimension reads as none)
        declared = None, None
    if declared[0] and declared[0] > limits.rows:
        raise grid.refuse(f"标明有 {declared[0]} 行，超过 {limits.rows} 行的上限")
    if declared[1] and declared[1] > limits.columns:
        raise grid.refuse(f"标明有 {declared[1]} 列（到 {column_name(declared[1] - 1)} 列），"
                          f"超过 {limits.columns} 列的上限")
    too_big = grid.refuse(f"解压后超过 {_mb(limits.sheet_bytes)}")
    row_elements = 0
    try:
        with book._archive.open(ws._worksheet_path) as raw:
            src = io.BufferedReader(_CappedReader(raw, limits.sheet_bytes, too_big))
            parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=book.epoch,
                                     date_formats=book._date_formats,
                                     timedelta_formats=book._timedelta_formats)
            for index, cells in parser.parse():
                row_elements += 1
                if row_elements > 2 * limits.rows or index > 1048576:
                    raise grid.refuse(f"有 {row_elements} 个以上的行，超过 {2 * limits.rows} 行的上限")
                values = []
                for c in cells:
                    if c["column"] > 16384:
                        raise grid.refuse("有超出 Excel 范围的列")
                    values.append((c["column"] - 1, c["value"]))
                grid.add_row(index, values)
            merged = parser.merged_cells.mergeCell if parser.merged_cells else []
    except SheetError:
        raise
    except (InvalidFileException, KeyError, IndexError, ValueError, TypeError, zipfile.BadZipFile,
            EOFError, OSError, SyntaxError) as e:
        # SyntaxError covers the XML parsers' ParseError.
        raise SheetError(f"{where}无法读取（文件已损坏或格式不正确）") from e
    _spread_merged(grid, merged, limits)
    return Sheet(ws.title, grid.rows)


def _spread_merged(grid: _Grid, merged: list, limits: Limits) -> None:
    """A merged range holds its value in its top-left cell only: give it to every cell of the
    range that exists in the grid (ranges reaching past the data are clipped, not filled)."""
    from openpyxl.utils.cell import range_boundaries  # noqa: PLC0415

    if len(merged) > limits.merged_ranges:
        raise grid.refuse(f"合并单元格超过 {limits.merged_ranges} 处的上限")
    rows = grid.rows
    work = 0
    for m in merged:
        try:
            min_col, min_row, max_col, max_row = range_boundaries(m.ref)
        except (TypeError, ValueError):
            continue
        if min_row > len(rows):
            continue
        top = rows[min_row - 1]
        value = top[min_col - 1] if min_col - 1 < len(top) else ""
        if not value:
            continue
        last_row = min(max_row, len(rows))
        width = min(max_col, limits.columns)
        work += (last_row - min_row + 1) * max(0, width - min_col + 1)
        if work > limits.cells:
            raise grid.refuse(f"合并单元格覆盖超过 {limits.cells} 个单元格的上限")
        for r in range(min_row - 1, last_row):
            row = rows[r]
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            for c in range(min_col - 1, width):
                row[c] = value


# --- export --------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A value for a .csv cell: text that a spreadsheet would run as a formula gets an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(header, rows) -> bytes:
    """A UTF-8 .csv with BOM (Excel and WPS open it as Chinese text), every cell neutralised."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    if header is not None:
        writer.writerow([csv_safe(v) for v in header])
    writer.writerows([csv_safe(v) for v in row] for row in rows)
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def xlsx_bytes(book) -> bytes:
    """An openpyxl workbook saved to bytes, with no formula left in it: any cell openpyxl took
    for a formula (text beginning with "=") is stored as the text it is."""
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str)
                                             and cell.value.startswith(_FORMULA_START)):
                    cell.data_type = "s"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def with_limits(**changes) -> Limits:
    """The default limits with some changed (``with_limits(rows=500)``)."""
    return replace(DEFAULT_LIMITS, **changes)


# --- the division and staff imports ----------------------------------------------

def read_rows(data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> list[list[str]]:
    """The first sheet with any content of a .xlsx, or the rows of a .csv, as stripped text
    cells (row i is line i + 1), read within the same bounds as every other import."""
    sheets = read_sheets(data, filename or "", limits)
    for sheet in sheets:
        if any(any(cell for cell in row) for row in sheet.rows):
            return [[cell.strip().lstrip("\ufeff").strip() for cell in row] for row in sheet.rows]
    raise SheetError("文件里没有任何内容")


def find_header(rows: list[list[str]], columns: dict[str, tuple[str, ...]],
                required: tuple[str, ...], scan: int = 20) -> tuple[int, dict[str, int]]:
    """The header row (index) and field → column index; ``columns`` maps a field to its
    accepted header names. SheetError names the missing required columns."""
    def key(text: str) -> str:
        return "".join(text.split()).replace("（", "(").replace("）", ")")
    names = {key(n): fld for fld, alts in columns.items() for n in alts}
    best = None
    for i, row in enumerate(rows[:scan]):
        found = {}
        for j, cell in enumerate(row):
            fld = names.get(key(cell))
            if fld and fld not in found:
                found[fld] = j
        if all(f in found for f in required):
            return i, found
        if found and (best is None or len(found) > len(best[1])):
            best = (i, found)
    wanted = "、".join("/".join(columns[f][:2]) for f in required
                       if best is None or f not in best[1])
    raise SheetError([f"找不到表头：需要列 {wanted}（前{scan}行中没有找到）"])
