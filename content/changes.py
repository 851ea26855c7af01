"""What a revision changes against the published version, for the reviewer to see first.

Fields are compared one by one; key data (关键数据) name by name; tables row by
row and cell by cell.  Rows are matched by the columns that identify a person
or a line (姓名, 户主, 身份证号, 项目 …; else the first column), so a row
inserted in the middle shows as one added row, not as every row below changed.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .privacy import is_name_column

_IDENTITY_WORDS = ("身份证", "项目", "名称", "事项", "村民小组")
_NOT_SHOWN = {"table_columns", "table_rows", "fields", "time_limit"}


@dataclass
class Cell:
    value: object
    before: object = None
    changed: bool = False


@dataclass
class Row:
    state: str                     # same | changed | added | removed
    cells: list[Cell]
    number: int | None = None      # 1-based row number in the new table (None when removed)


@dataclass
class TableChange:
    columns: list[tuple[str, str]]     # (header, same | added | removed)
    rows: list[Row]

    @property
    def counts(self) -> dict[str, int]:
        out = {"changed": 0, "added": 0, "removed": 0}
        for r in self.rows:
            if r.state in out:
                out[r.state] += 1
        return out

    @property
    def any(self) -> bool:
        return any(r.state != "same" for r in self.rows) or any(s != "same" for _, s in self.columns)


@dataclass
class Comparison:
    first: bool                                    # nothing published yet: everything is new
    fields: list[tuple[str, object, object]]       # (name, before, after) of changed fields
    key_data: list[tuple[str, object, object, str]] = field(default_factory=list)  # (名称, before, after, state)
    table: TableChange | None = None

    @property
    def changed_names(self) -> set[str]:
        names = {n for n, _, _ in self.fields}
        if self.key_data:
            names.add("fields")
        if self.table is not None and self.table.any:
            names.add("table_rows")
        return names

    @property
    def empty(self) -> bool:
        return not self.changed_names


def _identity(columns: list[str]) -> list[int]:
    idx = [j for j, c in enumerate(columns) if is_name_column(c) or any(w in c for w in _IDENTITY_WORDS)]
    return idx or ([0] if columns else [])


def _as_lists(columns, rows) -> list[list]:
    return [[r.get(c, "") for c in columns] if isinstance(r, dict) else list(r) for r in rows or []]


def compare_tables(before_cols, before_rows, after_cols, after_rows) -> TableChange:
    before_cols = [str(c) for c in before_cols or []]
    after_cols = [str(c) for c in after_cols or []]
    columns = [(c, "same" if c in before_cols else "added") for c in after_cols]
    columns += [(c, "removed") for c in before_cols if c not in after_cols]
    names = [c for c, _ in columns]
    b_rows, a_rows = _as_lists(before_cols, before_rows), _as_lists(after_cols, after_rows)

    def cell(row, cols, name):
        j = cols.index(name) if name in cols else -1
        return row[j] if 0 <= j < len(row) else ""

    def norm(v):
        return "" if v is None else str(v).strip()

    key_cols = [names.index(after_cols[j]) for j in _identity(after_cols)] or [0]

    def key(row, cols):
        return tuple(norm(cell(row, cols, names[k])) for k in key_cols if k < len(names))

    out: list[Row] = []

    def pair(bi, ai):
        cells, changed = [], False
        for name in names:
            old = cell(b_rows[bi], before_cols, name) if bi is not None else None
            new = cell(a_rows[ai], after_cols, name) if ai is not None else None
            diff = bi is not None and ai is not None and norm(old) != norm(new)
            changed |= diff
            cells.append(Cell(new if ai is not None else old, old, diff))
        state = "removed" if ai is None else "added" if bi is None else "changed" if changed else "same"
        out.append(Row(state, cells, ai + 1 if ai is not None else None))

    matcher = difflib.SequenceMatcher(a=[key(r, before_cols) for r in b_rows],
                                      b=[key(r, after_cols) for r in a_rows], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for bi, ai in zip(range(i1, i2), range(j1, j2)):
                pair(bi, ai)
            continue
        for bi in range(i1, i2):
            pair(bi, None)
        for ai in range(j1, j2):
            pair(None, ai)
    return TableChange(columns, out)


def compare(before: dict | None, after: dict, keys=None) -> Comparison:
    """The revision ``after`` against the published ``before`` (None: never published),
    field by field in the order of ``keys`` (default: the revision's own keys)."""
    first = before is None
    before = before or {}
    changed = [(k, before.get(k), after.get(k)) for k in (keys or after)
               if k not in _NOT_SHOWN and (first and after.get(k) not in (None, "", [], {})
                                           or not first and before.get(k) != after.get(k))]
    key_data = []
    bf, af = before.get("fields") or {}, after.get("fields") or {}
    for k in list(af) + [k for k in bf if k not in af]:
        if k not in bf:
            key_data.append((k, None, af[k], "added"))
        elif k not in af:
            key_data.append((k, bf[k], None, "removed"))
        elif bf[k] != af[k]:
            key_data.append((k, bf[k], af[k], "changed"))
    table = None
    if after.get("table_columns") or before.get("table_columns"):
        table = compare_tables(before.get("table_columns"), before.get("table_rows"),
                               after.get("table_columns"), after.get("table_rows"))
    return Comparison(first, changed, key_data, table)
