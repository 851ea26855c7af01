"""The assessment workbook: text stays text, numbers stay numbers, shares are percentages."""
from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from content import assessment as a
from content.assessment_scope import Period, Scope


class _Report:
    scope = Scope("340100000000", "试验县", "county", ("340100000000",), {}, {}, {}, ())
    period = Period(date(2026, 1, 1), date(2026, 6, 30))
    as_of = date(2026, 6, 30)


def test_formula_like_text_is_kept_as_text_and_numbers_as_numbers():
    t = a.Table("x", "测试表：公式?", ["名称", "数量", "比例", "日期"], percent={2}, total_row=True)
    t.rows = [["=HYPERLINK(\"http://x\")", 3, 0.25, date(2026, 2, 1)],
              ["+1234", 0, None, None],
              ["合计", 3, 0.5, None]]
    wb = load_workbook(io.BytesIO(a.workbook(_Report(), [t])))
    ws = wb.active
    assert ws.title == "测试表：公式 "
    assert ws["A1"].value == "测试表：公式?" and ws["A1"].font.b
    assert ws.freeze_panes == "A5"
    header = [c.value for c in ws[4]]
    assert header == t.columns and ws["A4"].font.b
    assert ws["A5"].data_type == "s" and ws["A5"].value == "=HYPERLINK(\"http://x\")"
    assert ws["A6"].value == "+1234" and ws["A6"].data_type == "s"
    assert ws["B5"].value == 3 and ws["C5"].value == 0.25 and ws["C5"].number_format == "0.0%"
    assert ws["D5"].value == "2026-02-01" and ws["C6"].value is None
    assert ws["A7"].font.b and not ws["A5"].font.b      # the total row is bold
