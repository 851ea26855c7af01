"""Figures that must add up before a notice is submitted or approved.

Three checks, each read from the notice itself (its table's headers say what
a column holds by its unit, e.g. 补贴面积（亩）, 补贴标准（元/亩）, 补贴金额（元）):

* a total row (合计 / 小计 / 总计 in a text cell) equals the sum of the rows it
  totals, column by column; a key-data field named like 合计, 总额, 总面积 equals
  the sum of the one column with its unit;
* 数量 × 标准 = 金额 in every row, when one column holds a quantity in a unit
  (亩, 人, 户, 月), another a rate in 元 per that unit and another an amount in
  元 — the rate may also be a key-data field (补贴标准：每亩105元);
* a count declared in key data (发放人数 12人, 发放户数 10户) equals the number
  of rows, or the sum of a column of that unit when the table has one
  (保障人数 per household).

A check that cannot tell what a column holds stays silent: these checks find
slips, they never guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["Failure", "check", "number"]

TOLERANCE = Decimal("0.01")      # amounts are in 元 with two decimals
_TOTAL_WORDS = ("合计", "总计", "小计")
_TOTAL_FIELD = re.compile(r"合计|小计|总计|总额|总金额|总面积|总数")
_COUNT_FIELD = re.compile(r"(人数|户数|对象数)$")
_QUANTITY_UNITS = ("亩", "人", "户", "月", "头", "只", "平方米")
_NOT_SUMMED = ("序号", "编号", "年龄", "日期", "电话", "号码", "身份证", "组", "年度", "标准", "单价", "比例")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_LEADING = re.compile(r"^\s*([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(万元|元|亩|人|户|月|个|头|只|平方米)?\s*$")


@dataclass(frozen=True)
class Failure:
    where: str                 # 表格第3行「补贴金额（元）」列, 关键数据「发放总额」
    message: str               # what does not add up, in figures
    row: int | None = None     # 0-based data row index, for marking the cell
    column: str | None = None  # column header, for marking the cell
    field: str | None = None   # key-data name


def number(value) -> Decimal | None:
    """A figure as written in a cell or field: 1,050.00 / 682.5 / 7,770元 / 1.2万元 / 10户."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    m = _LEADING.match(str(value).replace("，", ","))
    if not m:
        return None
    try:
        n = Decimal(m.group(1).replace(",", ""))
    except InvalidOperation:
        return None
    return n * 10000 if m.group(2) == "万元" else n


def _unit_of_value(value) -> str | None:
    m = _LEADING.match(str(value or "").replace("，", ","))
    if not m:
        return None
    unit = m.group(2) or ""
    return "元" if unit == "万元" else unit


def column_unit(header: str) -> str:
    """The unit a header states: 补贴面积（亩）→ 亩, 补贴标准（元/亩）→ 元/亩, 发放月数 → 月."""
    h = str(header or "").strip()
    m = re.search(r"[（(]([^（）()]+)[)）]\s*$", h)
    if m:
        return m.group(1).strip()
    m = re.search(r"(亩|人|户|月)数$", h)
    if m:
        return m.group(1)
    if h.endswith(("金额", "资金", "总额")):
        return "元"
    return ""


def _fmt(n: Decimal) -> str:
    text = f"{n:,.2f}"
    return text[:-3] if text.endswith(".00") else text


_NOTE_WORDS = ("以下空白", "以下无", "此页无", "注：", "注:", "备注：", "说明：")


def _is_note_row(row) -> bool:
    """以下空白, 注：… — a line of the table that is neither a row of the list nor a total."""
    cells = [str(c).strip() for c in row if c not in (None, "") and str(c).strip()]
    return bool(cells) and all(number(c) is None for c in cells) \
        and any(c.startswith(_NOTE_WORDS) for c in cells)


def _is_total_row(row) -> str | None:
    for cell in row:
        if isinstance(cell, str) and number(cell) is None:
            for word in _TOTAL_WORDS:
                if word in cell:
                    return word
    return None


def _summed_columns(columns: list[str]) -> list[int]:
    return [j for j, h in enumerate(columns)
            if "/" not in column_unit(h) and not any(w in str(h) for w in _NOT_SUMMED)]


def check(table: str, data: dict) -> list[Failure]:
    """Every figure that does not add up in what a notice would publish."""
    if table != "notice":
        return []
    columns = [str(c) for c in data.get("table_columns") or []]
    rows = [list(r) if not isinstance(r, dict) else [r.get(c, "") for c in columns]
            for r in data.get("table_rows") or []]
    fields = data.get("fields") or {}
    failures: list[Failure] = []
    totals = [(i, "note" if _is_note_row(r) else _is_total_row(r)) for i, r in enumerate(rows)]
    data_rows = [i for i, t in totals if t is None]
    failures += _check_total_rows(columns, rows, totals)
    failures += _check_products(columns, rows, data_rows, fields)
    failures += _check_fields(columns, rows, data_rows, fields)
    return failures


def _cell(rows, i, j):
    return rows[i][j] if j < len(rows[i]) else None


def _check_total_rows(columns, rows, totals) -> list[Failure]:
    out = []
    since = 0
    for i, word in totals:
        if word is None or word == "note":
            continue
        block = [k for k, t in totals[(since if word == "小计" else 0):i] if t is None]
        for j in _summed_columns(columns):
            written = number(_cell(rows, i, j))
            if written is None:
                continue
            values = [number(_cell(rows, k, j)) for k in block]
            values = [v for v in values if v is not None]
            if not values:
                continue
            total = sum(values, Decimal(0))
            if abs(total - written) > TOLERANCE:
                out.append(Failure(
                    f"表格第{i + 1}行「{columns[j]}」列（{word}）",
                    f"{word}写的是 {_fmt(written)}，上面各行相加是 {_fmt(total)}"
                    f"（{'少' if written < total else '多'}了 {_fmt(abs(written - total))}）",
                    i, columns[j]))
        if word == "小计":
            since = i + 1
    return out


def _rate_from_fields(fields: dict, unit: str) -> Decimal | None:
    """A single rate in 元 per ``unit`` stated in key data: 每亩105元 / 105元/亩."""
    found = []
    for value in fields.values():
        text = str(value or "").replace(",", "")
        found += re.findall(rf"每{unit}\s*(\d+(?:\.\d+)?)\s*元", text)
        found += re.findall(rf"(\d+(?:\.\d+)?)\s*元\s*/\s*{unit}", text)
    return Decimal(found[0]) if len(set(found)) == 1 else None


def _check_products(columns, rows, data_rows, fields) -> list[Failure]:
    units = [column_unit(c) for c in columns]
    amounts = [j for j, u in enumerate(units) if u == "元" and j in _summed_columns(columns)]
    if len(amounts) != 1:
        return []
    a = amounts[0]
    out = []
    for q, qu in enumerate(units):
        if qu not in _QUANTITY_UNITS:
            continue
        rates = [j for j, u in enumerate(units) if u == f"元/{qu}"]
        field_rate = _rate_from_fields(fields, qu) if not rates else None
        if len(rates) != 1 and field_rate is None:
            continue
        for i in data_rows:
            qty, amount = number(_cell(rows, i, q)), number(_cell(rows, i, a))
            rate = number(_cell(rows, i, rates[0])) if rates else field_rate
            if qty is None or rate is None or amount is None:
                continue
            product = qty * rate
            if abs(product - amount) > TOLERANCE:
                out.append(Failure(
                    f"表格第{i + 1}行「{columns[a]}」列",
                    f"{_fmt(qty)}{qu} × {_fmt(rate)}元/{qu} = {_fmt(product)}元，表中写的是 {_fmt(amount)}元",
                    i, columns[a]))
    return out


def _check_fields(columns, rows, data_rows, fields) -> list[Failure]:
    raw_units = [column_unit(c) for c in columns]
    units = ["元" if u == "万元" else u for u in raw_units]
    scale = [Decimal(10000) if u == "万元" else Decimal(1) for u in raw_units]
    summed = _summed_columns(columns)
    out = []
    for name, value in fields.items():
        written, unit = number(value), _unit_of_value(value)
        if written is None or not unit:
            continue
        same_unit = [j for j in summed if units[j] == unit]
        if _TOTAL_FIELD.search(name) and len(same_unit) == 1:
            j = same_unit[0]
            values = [number(_cell(rows, i, j)) for i in data_rows]
            values = [v * scale[j] for v in values if v is not None]
            if values:
                total = sum(values, Decimal(0))
                if abs(total - written) > TOLERANCE:
                    out.append(Failure(f"关键数据「{name}」",
                                       f"写的是 {value}，表格「{columns[j]}」列相加是 {_fmt(total)}{unit}",
                                       field=name))
        elif _COUNT_FIELD.search(name) and unit in ("人", "户") and not same_unit and data_rows \
                and not (unit == "户" and any("关系" in c for c in columns)):   # rows are people
            if written != len(data_rows):
                out.append(Failure(f"关键数据「{name}」",
                                   f"写的是 {value}，表格中有 {len(data_rows)} 行名单", field=name))
        elif _COUNT_FIELD.search(name) and len(same_unit) == 1 and data_rows:
            j = same_unit[0]
            values = [v for v in (number(_cell(rows, i, j)) for i in data_rows) if v is not None]
            if values and sum(values, Decimal(0)) != written:
                out.append(Failure(f"关键数据「{name}」",
                                   f"写的是 {value}，表格「{columns[j]}」列相加是 {_fmt(sum(values, Decimal(0)))}{unit}",
                                   field=name))
    return out
