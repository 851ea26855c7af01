"""The 依申请 tables of the 政府信息公开工作年度报告, per jurisdiction and year.

Table 三 (收到和处理政府信息公开申请情况): columns by applicant (自然人; 法人或其他组织 by
kind; 总计), rows received this year, carried over from last year, the year's outcomes by
category and reason, and carried over to next year.  Table 四 (政府信息公开行政复议、行政
诉讼情况): cases by result.

What is counted (so that the table adds up year after year):
- 本年新收: received in the year.
- 上年结转: received before the year and not answered before it began.
- 办理结果: answered in the year (答复 date; an application given up after 补正 counts on
  the day it was closed, as 其他处理 · 逾期不补正).
- 结转下年度: received by the year's end and not answered by then
  (= 新收 + 上年结转 − 办理结果).
- 复议 and 诉讼: cases filed in the year, with their result as at the year's end (a case
  decided later is 尚未审结 in that year's report).

The organ answering is the application's 受理机关; applications from before organs were
chosen count for the government of their receiving point.  A jurisdiction's report counts
its government and, for the county, the county's departments (``dept`` narrows to one).
"""
from __future__ import annotations

import sqlite3
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from . import application_appeals, application_organs, sheets
from .applications import OUTCOMES, ORG_SUBTYPES

COLUMNS = ("自然人", *ORG_SUBTYPES, "总计")
OTHER_REASONS = ("申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
                 "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "其他")
_NUMERALS = "一二三四五六七八九"


def outcome_rows() -> list[tuple[str, str, str]]:
    """(label, outcome, reason) for the rows of 三、本年度办理结果, reason '' for a category row."""
    rows = []
    for i, (outcome, reasons) in enumerate(OUTCOMES.items()):
        label = f"（{_NUMERALS[i]}）{outcome}"
        if outcome == "部分公开":
            label += "（区分处理的，只计这一情形，不计其他情形）"
        rows.append((label, outcome, ""))
        for j, reason in enumerate(OTHER_REASONS if outcome == "其他处理" else reasons, 1):
            rows.append((f"{j}.{reason}", outcome, reason))
    return rows


def _other_reason(reason: str) -> str:
    if reason.startswith("申请人无正当理由逾期不补正"):
        return OTHER_REASONS[0]
    if "缴纳费用" in reason:
        return OTHER_REASONS[1]
    return OTHER_REASONS[2]


def _column(row) -> str:
    return row["applicant_subtype"] if row["applicant_type"] == "法人或其他组织" else "自然人"


def _answered_on(row) -> str | None:
    if not row["outcome"]:
        return None
    return row["replied_on"] or row["archived_on"]


def _in_scope(conn: sqlite3.Connection, code: str, dept: str | None):
    defaults: dict[str, str] = {}

    def organ(row) -> tuple[str, str]:
        if row["organ_code"]:
            return row["organ_code"], row["organ_dept"]
        home = row["jurisdiction_code"]
        if home not in defaults:
            o = application_organs.default_organ(conn, home)
            defaults[home] = o.code if o else home
        return defaults[home], ""

    def keep(row) -> bool:
        c, d = organ(row)
        return c == code and (dept is None or d == dept)
    return keep


def _empty() -> dict[str, int]:
    return {c: 0 for c in COLUMNS}


def compute(conn: sqlite3.Connection, code: str, year: int, dept: str | None = None) -> dict:
    """Both tables for one jurisdiction (or one organ of it) and year, as plain numbers."""
    start, end = date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat()
    keep = _in_scope(conn, code, dept)
    rows = [r for r in conn.execute(
        "SELECT uuid, jurisdiction_code, organ_code, organ_dept, applicant_type, applicant_subtype, outcome, "
        "outcome_reason, received_on, replied_on, archived_on FROM application WHERE received_on <= ?",
        (end,)) if keep(r)]
    new, carried_in, carried_out = _empty(), _empty(), _empty()
    results = {(o, r): _empty() for _, o, r in outcome_rows()}
    total = _empty()
    for row in rows:
        col = _column(row)
        answered = _answered_on(row)
        counts = []
        if row["received_on"] >= start:
            counts.append(new)
        elif answered is None or answered >= start:
            counts.append(carried_in)
        else:
            continue                                   # answered before this year
        if answered is not None and answered <= end:
            outcome, reason = row["outcome"], row["outcome_reason"]
            if outcome == "其他处理":
                reason = _other_reason(reason)
            elif reason not in OUTCOMES.get(outcome, ()):
                reason = ""
            counts += [results[(outcome, "")], total]
            if reason:
                counts.append(results[(outcome, reason)])
        else:
            counts.append(carried_out)
        for c in counts:
            c[col] += 1
            c["总计"] += 1
    appeals = _appeal_table(conn, {r["uuid"] for r in rows}, start, end)
    return {"code": code, "dept": dept, "year": year, "new": new, "carried_in": carried_in,
            "results": [(label, results[(o, r)]) for label, o, r in outcome_rows()],
            "total": total, "carried_out": carried_out, "appeals": appeals}


def _appeal_table(conn: sqlite3.Connection, uuids: set[str], start: str, end: str) -> dict:
    groups = {"行政复议": _appeal_cells(), "未经复议直接起诉": _appeal_cells(), "复议后起诉": _appeal_cells()}
    for case in conn.execute("SELECT * FROM application_appeal WHERE filed_on BETWEEN ? AND ?", (start, end)):
        if case["application_uuid"] not in uuids:
            continue
        group = ("行政复议" if case["kind"] == "行政复议"
                 else "复议后起诉" if case["after_review"] else "未经复议直接起诉")
        decided = case["decided_on"] and case["decided_on"] <= end
        column = application_appeals.reported(case["result"] if decided else application_appeals.PENDING)
        groups[group][column] += 1
        groups[group]["总计"] += 1
    return groups


def _appeal_cells() -> dict[str, int]:
    return {c: 0 for c in (*application_appeals.REPORT_RESULTS, "总计")}


# ---------------------------------------------------------------- the workbook

def workbook_bytes(report: dict, title: str) -> bytes:
    """The two tables as an .xlsx (content.sheets.xlsx_bytes), laid out as in the report."""
    book = Workbook()
    ws = book.active
    ws.title = "收到和处理申请情况"
    ws.append([f"{title} {report['year']}年 收到和处理政府信息公开申请情况"])
    ws.append(["本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和", "申请人情况"])
    ws.append(["", *COLUMNS])
    ws.append(["一、本年新收政府信息公开申请数量", *report["new"].values()])
    ws.append(["二、上年结转政府信息公开申请数量", *report["carried_in"].values()])
    ws.append(["三、本年度办理结果"])
    for label, counts in report["results"]:
        ws.append([label, *counts.values()])
    ws.append(["（七）总计", *report["total"].values()])
    ws.append(["四、结转下年度继续办理", *report["carried_out"].values()])
    ws.column_dimensions["A"].width = 60
    ws["A1"].font = Font(bold=True, size=13)

    ws2 = book.create_sheet("行政复议、行政诉讼情况")
    ws2.append([f"{title} {report['year']}年 政府信息公开行政复议、行政诉讼情况"])
    ws2.append(["行政复议", "", "", "", "", "行政诉讼"])
    ws2.append(["", "", "", "", "", "未经复议直接起诉", "", "", "", "", "复议后起诉"])
    heads = [*application_appeals.REPORT_RESULTS, "总计"]
    ws2.append(heads * 3)
    ws2.append([n for g in ("行政复议", "未经复议直接起诉", "复议后起诉") for n in report["appeals"][g].values()])
    ws2["A1"].font = Font(bold=True, size=13)
    for sheet in (ws, ws2):
        for row in sheet.iter_rows():
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="center")
    return sheets.xlsx_bytes(book)
