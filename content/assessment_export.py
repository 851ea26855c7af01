"""The assessment's tables as an Excel workbook.

Written with XlsxWriter rather than openpyxl (which the importers and the other exports
use): a county's all.xlsx holds tens of thousands of rows, and openpyxl spent most of
the export's seconds on per-cell styles and saving.  Text is always written as text
(never as a formula, a number or a link), as sheets.xlsx_bytes does for openpyxl.
"""
from __future__ import annotations

import io
from datetime import date

from .assessment_tables import Table, fmt

_SHEET_NAME_BAD = "[]:*?/\\"


def _sheet_name(title: str, used: set[str]) -> str:
    name = title[:28]
    for ch in _SHEET_NAME_BAD:
        name = name.replace(ch, " ")
    while name in used:
        name = name[:26] + str(len(used))
    used.add(name)
    return name


def workbook(report, selected: list[Table]) -> bytes:
    """The tables as an .xlsx workbook, one sheet each, numbers kept as numbers."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_numbers": False, "strings_to_urls": False})
    cell = {"valign": "top", "text_wrap": True}
    title = wb.add_format({"bold": True, "font_size": 13})
    header = wb.add_format({**cell, "bold": True, "bg_color": "#EEF2F6", "pattern": 1})
    styles = {(bold, percent): wb.add_format({**cell, **({"bold": True} if bold else {}),
                                              **({"num_format": "0.0%"} if percent else {})})
              for bold in (False, True) for percent in (False, True)}
    used: set[str] = set()
    for t in selected:
        ws = wb.add_worksheet(_sheet_name(t.title, used))
        ws.write_string(0, 0, t.title, title)
        ws.write_string(1, 0, f"{report.scope.name} · {report.period.start.isoformat()} 至 "
                              f"{report.period.end.isoformat()} · 截至 {report.as_of.isoformat()}")
        r = 2
        if t.note:
            ws.write_string(r, 0, t.note)
            r += 1
        r += 1                                    # a blank row before the header
        header_row = r
        for c, name in enumerate(t.columns):
            ws.write_string(r, c, str(name), header)
        last = len(t.rows) - 1
        for n, row in enumerate(t.rows):
            r += 1
            bold = t.total_row and n == last
            for c, v in enumerate(row):
                if isinstance(v, date):
                    v = v.isoformat()
                if isinstance(v, bool):
                    ws.write_string(r, c, str(v), styles[(bold, False)])
                elif isinstance(v, (int, float)):
                    ws.write_number(r, c, v, styles[(bold, c in t.percent and isinstance(v, float))])
                elif v is None:
                    ws.write_blank(r, c, None, styles[(bold, False)])
                else:
                    ws.write_string(r, c, str(v), styles[(bold, False)])
        for c, col in enumerate(t.columns):
            width = max([len(str(col))] + [len(fmt(row[c], c in t.percent)) for row in t.rows]) * 2 + 2
            ws.set_column(c, c, min(max(width, 8), 60))
        ws.freeze_panes(header_row + 1, 0)
    wb.close()
    return buf.getvalue()
