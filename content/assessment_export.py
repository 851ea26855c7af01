"""The assessment's tables as an Excel workbook."""
from __future__ import annotations

from datetime import date

from . import sheets
from .assessment_tables import Table, fmt


# ---------------------------------------------------------------- Excel

def workbook(report: Report, selected: list[Table]) -> bytes:
    """The tables as an .xlsx workbook, one sheet each, numbers kept as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF2F6")
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
            cell.font, cell.fill = head, fill
        for row in t.rows:
            ws.append([v if not isinstance(v, date) else v.isoformat() for v in row])
            for i in t.percent:
                c = ws.cell(row=ws.max_row, column=i + 1)
                if isinstance(c.value, float):
                    c.number_format = "0.0%"
        if t.total_row and t.rows:
            for cell in ws[ws.max_row]:
                cell.font = head
        for i, col in enumerate(t.columns, 1):
            width = max([len(str(col))] + [len(fmt(r[i - 1], (i - 1) in t.percent)) for r in t.rows]) * 2 + 2
            ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
        for row in ws.iter_rows(min_row=header_row):
            for cell in row:
                cell.alignment = Alignment(vertical="top", wrap_text=True)
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    return sheets.xlsx_bytes(wb)
