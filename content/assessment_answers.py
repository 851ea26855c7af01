"""Assessment figures of residents' objections and questions (content.resident_questions):
received, answered on time, overdue and upheld in a period, per jurisdiction under the
scope and per kind. The dashboard (content.assessment) shows and exports the tables."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from .resident_questions import KINDS

COLUMNS = ["区划", "收到", "已答复", "按时答复", "超期", "其中超期未答复", "按时答复率", "公示异议", "异议成立"]


@dataclass
class Count:
    received: int = 0
    answered: int = 0
    on_time: int = 0
    late: int = 0               # answered after the due date, or still open past it
    open_overdue: int = 0
    objections: int = 0
    upheld: int = 0

    def add(self, q, day: str) -> None:
        self.received += 1
        if q["stage"] == "answered":
            self.answered += 1
            if q["answered_on"] <= (q["due_on"] or q["answered_on"]):
                self.on_time += 1
            else:
                self.late += 1
        elif q["due_on"] and q["due_on"] < day:
            self.late += 1
            self.open_overdue += 1
        if q["kind"] == "objection":
            self.objections += 1
            self.upheld += int(q["upheld"] == 1)

    @property
    def rate(self) -> float | None:
        """On time among those whose clock has run out or that were answered."""
        due = self.on_time + self.late
        return self.on_time / due if due else None

    def row(self, label: str) -> list:
        return [label, self.received, self.answered, self.on_time, self.late, self.open_overdue, self.rate,
                self.objections, self.upheld]


def counts(conn: sqlite3.Connection, codes, group, start: date, end: date, today: date) -> tuple[dict, dict, Count]:
    """(by group of the owner's code, by kind, total) for records made from ``start`` to ``end``."""
    day = min(end, today).isoformat()
    by_group: dict[str, Count] = {}
    by_kind = {k: Count() for k in KINDS}
    total = Count()
    codes = list(codes)
    rows = conn.execute(
        f"SELECT kind, stage, due_on, answered_on, upheld, jurisdiction_code FROM resident_question "
        f"WHERE asked_on BETWEEN ? AND ? AND jurisdiction_code IN ({','.join('?' * len(codes)) or 'NULL'})",
        [start.isoformat(), end.isoformat(), *codes])
    for q in rows:
        for c in (by_group.setdefault(group(q["jurisdiction_code"]), Count()), by_kind[q["kind"]], total):
            c.add(q, day)
    return by_group, by_kind, total


def tables(conn: sqlite3.Connection, scope, period, today: date) -> list:
    """The dashboard's two tables: per jurisdiction under the scope, and per kind."""
    from .assessment_tables import Table, _group_name  # noqa: PLC0415  (assessment imports this module)
    by_group, by_kind, total = counts(conn, scope.codes, scope.group, period.start, period.end, today)
    note = ("按提交日期统计；超期：答复晚于期限，或到统计日仍未答复且已过期限。"
            "按时答复率 = 按时答复 ÷（按时答复 + 超期）。")
    places = Table("answers", "异议和提问答复情况", COLUMNS, percent={6}, total_row=True, note=note)
    for code in [scope.code, *scope.children]:
        if code in by_group:
            places.rows.append(by_group[code].row(_group_name(scope, code)))
    places.rows.append(total.row("合计"))
    kinds = Table("answers_kind", "异议和提问按类别", ["类别", *COLUMNS[1:]], percent={6}, total_row=True)
    kinds.rows = [by_kind[k].row(label) for k, label in KINDS.items()] + [total.row("合计")]
    return [places, kinds]
