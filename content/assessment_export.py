"""The assessment's tables as an Excel workbook."""
from __future__ import annotations

from copy import copy
from datetime import date

from . import sheets
from .assessment_tables import Table, fmt


# ---------------------------------------------------------------- Excel

def workbook(report, selected: list[Table]) -> bytes:
    """The tables as an .xlsx workbook, one sheet each, numbers kept as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF2F6")
    top = Alignment(vertical="top", wrap_text=True)
    styles: dict[tuple, object] = {}

    def style(cell, bold: bool = False, header: bool = False, percent: bool = False) -> None:
        """Give the cell its style; each combination is built once through openpyxl's style
        descriptors and then copied (setting them cell by cell was most of an export's time)."""
        key = (bold, header, percent)
        if key not in styles:
            cell.alignment = top
            if bold or header:
                cell.font = head
            if header:
                cell.fill = fill
            if percent:
                cell.number_format = "0.0%"
            styles[key] = copy(cell._style)
        else:
            cell._style = copy(styles[key])

    used: set[str] = set()
    for t in selected:
        name = t.title[:28]
        for ch in "[]:*?/\\":
            name = name.replace(ch, " ")
        while name in used:
            name = name[:26] + str(len(used))
        used.add(name)
        ws = wb.create_sheet(name)
        ws.append([t.title])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([f"{report.scope.name} · {report.period.start.isoformat()} 至 "
                   f"{report.period.end.isoformat()} · 截至 {report.as_of.isoformat()}"])
        if t.note:
            ws.append([t.note])
        ws.append([])
        ws.append(t.columns)
        header_row = ws.max_row
        for cell in ws[header_row]:
            style(cell, header=True)
        last = len(t.rows) - 1
        for n, row in enumerate(t.rows):
            values = [v if not isinstance(v, date) else v.isoformat() for v in row]
            ws.append(values)
            bold = t.total_row and n == last
            for i, v in enumerate(values):      # ws.max_row costs a pass over the sheet: counted here
                style(ws.cell(row=header_row + 1 + n, column=i + 1), bold=bold,
                      percent=i in t.percent and isinstance(v, float))
        for i, col in enumerate(t.columns, 1):
            width = max([len(str(col))] + [len(fmt(r[i - 1], (i - 1) in t.percent)) for r in t.rows]) * 2 + 2
            ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    return sheets.xlsx_bytes(wb)
