"""Reading an uploaded .csv or .xlsx into rows of text, for the division and staff imports.

One function, ``read_rows``, is the only way those imports read files: it leans on the
catalogue importer's readers (encoding detection for UTF-8/GBK with or without BOM,
zip-bomb guard, merged cells), so every import reads files the same way.
"""
from __future__ import annotations

from pathlib import Path

MAX_FILE_BYTES = 20 * 1024 * 1024


class SheetError(ValueError):
    """A file or its rows were refused; ``errors`` lists every problem in Chinese (第N行 …)."""

    MAX_SHOWN = 30

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        shown = self.errors[:self.MAX_SHOWN]
        if len(self.errors) > self.MAX_SHOWN:
            shown.append(f"……另有 {len(self.errors) - self.MAX_SHOWN} 处问题")
        super().__init__("\n".join(shown))


def read_bytes(path) -> bytes:
    """A file's bytes (at most MAX_FILE_BYTES), with a Chinese message when unreadable."""
    try:
        with Path(path).open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise SheetError([f"无法读取文件：{path}（{e.strerror or e}）"]) from e
    return data


def read_rows(data: bytes, filename: str) -> list[list[str]]:
    """The first sheet of a .xlsx or the rows of a .csv as text cells; row i is line i + 1."""
    from .importer import CatalogueError, _csv_sheets, _xlsx_sheets  # noqa: PLC0415
    if len(data) > MAX_FILE_BYTES:
        raise SheetError([f"文件超过 {MAX_FILE_BYTES // 1048576} MB"])
    if not data.strip():
        raise SheetError(["文件是空的"])
    suffix = Path(filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx", ".txt"):
        raise SheetError([f"只能导入 .xlsx 或 .csv 文件，收到的是「{Path(filename or '').name}」"
                          "（.xls 请先在 Excel/WPS 中另存为 .xlsx）"])
    try:
        sheets = _xlsx_sheets(data) if suffix == ".xlsx" else _csv_sheets(data)
    except CatalogueError as e:
        raise SheetError(e.errors) from e
    for sheet in sheets:
        if any(any(cell for cell in row) for row in sheet.rows):
            return [[cell.strip().lstrip("\ufeff").strip() for cell in row] for row in sheet.rows]
    raise SheetError(["文件里没有任何内容"])


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
