"""content.sheets: bounded reading of .xlsx/.csv and formula-safe exports."""
from __future__ import annotations

import csv
import io
import time

import openpyxl
import pytest

from content import sheets
from content.sheets import SheetError, read_sheets, with_limits
from tests import sheet_files as sf


def _refused(data: bytes, name: str = "a.xlsx", limits=sheets.DEFAULT_LIMITS) -> str:
    t0 = time.perf_counter()
    with pytest.raises(SheetError) as e:
        read_sheets(data, name, limits)
    assert time.perf_counter() - t0 < 5, "a refusal must come before the work grows with the file"
    return str(e.value)


def test_issue_file_refused_by_declared_dimension():
    data = sf.header_and_far_cell()
    assert len(data) < 5000
    assert "XFD" in _refused(data) and "100 列" in _refused(data)


def test_far_cell_without_dimension_refused_while_reading():
    msg = _refused(sf.header_and_far_cell(dimension=False))
    assert "第2000行XFD列" in msg and "上限" in msg


def test_lying_dimension_does_not_hide_rows_or_columns():
    rows = [sf.row(1, [sf.cell("A1", "a")]), sf.row(30000, [sf.cell("B30000", "b")])]
    assert "第30000行" in _refused(sf.xlsx(sf.sheet_xml(rows, "A1:B2")))
    rows = [sf.row(1, [sf.cell("A1", "a"), sf.cell("CW1", "far")])]   # CW = column 101
    assert "CW列" in _refused(sf.xlsx(sf.sheet_xml(rows, "A1:B1")))


def test_cell_cap_counts_blank_cells_present():
    rows = [sf.row(i, [sf.cell(f"{sf.column_name(j)}{i}") for j in range(50)]) for i in range(1, 30)]
    assert "单元格超过 1000 个的上限" in _refused(sf.xlsx(sf.sheet_xml(rows)), limits=with_limits(cells=1000))


def test_many_blank_row_elements_are_bounded():
    rows = [sf.row(i, []) for i in range(1, 500)]
    assert "行" in _refused(sf.xlsx(sf.sheet_xml(rows)), limits=with_limits(rows=100))


def test_zip_members_checked_before_opening():
    data = sf.full_sheet(200, 10)
    assert "一个工作表解压后" in _refused(data, limits=with_limits(sheet_bytes=10_000))
    assert "共享文字表" in _refused(data, limits=with_limits(shared_strings_bytes=1000))
    assert "文件解压后" in _refused(data, limits=with_limits(unzipped_bytes=20_000))


def test_member_lying_about_its_size_is_refused():
    data = sf.full_sheet(200, 10)
    _refused(sf.with_member_size(data, "xl/worksheets/sheet1.xml", 200))
    _refused(sf.with_member_size(data, "xl/sharedStrings.xml", 100))


def test_huge_merged_range_is_clipped_to_the_data():
    rows = [sf.row(1, [sf.cell("A1", "公开事项")]), sf.row(2, [sf.cell("A2", "x"), sf.cell("C2", "y")])]
    got = read_sheets(sf.xlsx(sf.sheet_xml(rows, "A1:C2", merges=["A1:XFD1048576"] * 50)), "a.xlsx")
    assert got[0].rows == [["公开事项"] * 100, ["公开事项"] * 100]


def test_merged_cells_are_filled_like_before():
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["一级事项", "二级事项"])
    ws.append(["低保", "名单"])
    ws.append([None, "标准"])
    ws.merge_cells("A2:A3")
    buf = io.BytesIO()
    book.save(buf)
    rows = read_sheets(buf.getvalue(), "m.xlsx")[0].rows
    assert rows == [["一级事项", "二级事项"], ["低保", "名单"], ["低保", "标准"]]


def test_limits_in_file_size():
    assert "10 MB" in _refused(b"a," * (6 * 1024 * 1024), "a.csv")


def test_csv_caps():
    wide = ",".join(["x"] * 101) + "\n"
    assert "CW列" in _refused(wide.encode(), "a.csv")
    tall = "a\n" * 21000
    assert "第20001行" in _refused(tall.encode(), "a.csv")
    assert "上限" in _refused(("a,b\n" * 600).encode(), "a.csv", with_limits(cells=1000))


def test_csv_encodings_and_rows():
    text = "序号,名称\r\n1,杏花村\r\n\r\n2,\"桃园\n村\"\r\n"
    for enc in ("utf-8-sig", "gb18030", "utf-16"):
        rows = read_sheets(text.encode(enc), "a.csv")[0].rows
        assert rows == [["序号", "名称"], ["1", "杏花村"], [], ["2", "桃园\n村"]]


# ------------------------------------------------------------------ exports

DANGEROUS = ['=HYPERLINK("http://evil.example/","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_csv_neutralises_formula_cells_and_reads_back():
    data = sheets.csv_bytes(["名称"], [[v] for v in DANGEROUS] + [["普通"], [-5], ["a=b"]])
    cells = [r[0] for r in csv.reader(io.StringIO(data.decode("utf-8-sig")))]
    assert cells[1:7] == ["'" + v for v in DANGEROUS]
    assert cells[7:] == ["普通", "-5", "a=b"]
    rows = read_sheets(data, "round.csv")[0].rows
    assert [r[0] for r in rows[1:7]] == [v.strip() for v in DANGEROUS]


def test_xlsx_writes_formula_text_as_string():
    book = openpyxl.Workbook()
    for v in DANGEROUS:
        book.active.append([v, 3])
    data = sheets.xlsx_bytes(book)
    back = openpyxl.load_workbook(io.BytesIO(data))
    for row, v in zip(back.active.iter_rows(), DANGEROUS):
        assert row[0].data_type == "s" and row[0].value == v.replace("\r", "\n")  # XML reads CR as LF
        assert row[1].value == 3 and row[1].data_type == "n"
    # No <f> element anywhere in the sheet XML.
    import zipfile
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet


def test_pasted_cells_are_bounded_and_quoted_cells_kept():
    rows = sheets.read_pasted('户主\t备注\r\n王*五\t"两行\n备注"\r\n').rows
    assert rows == [["户主", "备注"], ["王*五", "两行\n备注"]]
    assert sheets.read_pasted("a,b\n1,2").rows == [["a", "b"], ["1", "2"]]
    t0 = time.perf_counter()
    with pytest.raises(SheetError, match="上限"):
        sheets.read_pasted("a\tb\n" + "\t" * 1_000_000 + "x\n" + "1\t2\n" * 2000,
                           with_limits(columns=30))
    assert time.perf_counter() - t0 < 5


def test_notice_grid_paste_refuses_a_table_too_wide_without_building_it():
    from werkzeug.datastructures import MultiDict

    from content.admin.forms import parse_grid
    wide = "\t".join(["列"] * 31) + "\n" + "\t".join(["1"] * 31)
    with pytest.raises(ValueError, match="30 列"):
        parse_grid(MultiDict({"t-paste": wide}))
    cols, rows = parse_grid(MultiDict({"t-paste": "户主姓名\t面积（亩）\n\n王*五\t2\n"}))
    assert cols == ["户主姓名", "面积（亩）"] and rows == [["王*五", "2"]]
