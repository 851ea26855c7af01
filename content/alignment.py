"""Alignment of one matter across levels (政务公开与村(居)务公开有效衔接).

For one matter, the county, township and village may each publish a notice:
named fields (facts and figures) and a table (e.g. who received how much).
"相同事项的公开内容对应一致": align() compares what each level published and
says whether it is consistent, which fields and cells differ, which level has
not published, and which level lags behind a newer version past its time limit.

Pure Python: no database, no web framework, so the views, the board and the
compliance dashboard can all call it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from decimal import Decimal, InvalidOperation

from content.timelimits import deadline

__all__ = [
    "LEVELS", "LEVEL_NAMES", "CONSISTENT", "INCONSISTENT", "MISSING", "STALE",
    "DEFAULT_TIME_LIMIT", "Publication", "FieldDiff", "OnlyField", "RowDiff",
    "SideResult", "Alignment", "align", "normalize_text", "normalize_value",
    "differing_cells", "differing_fields", "differing_rows",
]

LEVELS = ("county", "township", "village")
LEVEL_NAMES = {"county": "县级", "township": "乡级", "village": "村级"}
CONSISTENT, INCONSISTENT, MISSING, STALE = "一致", "不一致", "缺失", "过期"

# Regulation on government information disclosure, art. 26.
DEFAULT_TIME_LIMIT = {"count": 20, "unit": "workday"}

_PRECEDENCE = (MISSING, STALE, INCONSISTENT, CONSISTENT)

# A number with optional thousands separators and decimals. Not preceded by
# a digit or a dot, so parts of longer tokens are never cut in two.
_NUMBER = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d,]*\d)")


@dataclass(frozen=True)
class Publication:
    """What one level published for the matter."""

    level: str
    jurisdiction: str = ""
    notice_id: int | None = None
    title: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    formed_on: date | None = None
    published_on: date | None = None

    @property
    def has_table(self) -> bool:
        return bool(self.columns or self.rows)


@dataclass(frozen=True)
class FieldDiff:
    """A field published by two or more levels with different values (raw, per level)."""

    name: str
    values: dict[str, str]

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self.values)


@dataclass(frozen=True)
class OnlyField:
    """A field only one level published: informational, not a difference."""

    name: str
    level: str
    value: str


@dataclass(frozen=True)
class RowDiff:
    """One table row that differs.

    kind "only_in": the key is in the tables of `levels` and missing from
    `missing_from`; `values` holds the whole row per level that has it.
    kind "cells": the key is in every table but `columns` differ; `levels`
    are those publishing a differing column, `values` their cells.
    `key` is the normalized key (as in SideResult.row_keys), `label` its
    published spelling.
    """

    kind: str
    key: tuple[str, ...]
    label: str
    levels: tuple[str, ...]
    missing_from: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SideResult:
    """One level's verdict. row_keys parallels publication.rows (None for blank rows)."""

    level: str
    status: str
    publication: Publication | None
    stale: bool = False
    within_limit: bool = False
    deadline: date | None = None
    row_keys: tuple[tuple[str, ...] | None, ...] = ()

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, self.level)


@dataclass(frozen=True)
class Alignment:
    status: str
    sides: dict[str, SideResult]
    field_diffs: list[FieldDiff]
    row_diffs: list[RowDiff]
    only_fields: list[OnlyField]
    key_columns: tuple[str, ...] = ()
    newest_formed_on: date | None = None
    deadline: date | None = None

    def summary(self) -> str:
        """A short Chinese sentence for lists and dashboards."""
        parts: list[str] = []
        missing = [s.level for s in self.sides.values() if s.status == MISSING]
        if missing:
            parts.append(f"{_names(missing, '、')}未公开")
        for side in self.sides.values():
            if side.stale:
                parts.append(f"{side.level_name}公开内容已过期"
                             f"（应于{side.deadline.isoformat()}前更新）")
        if self.field_diffs or self.row_diffs:
            involved = [lv for lv in self.sides
                        if any(lv in d.values for d in self.field_diffs)
                        or any(lv in d.levels or lv in d.missing_from
                               for d in self.row_diffs)]
            counts = []
            if self.field_diffs:
                counts.append(f"{len(self.field_diffs)} 个字段")
            if self.row_diffs:
                counts.append(f"{len(self.row_diffs)} 行")
            text = f"{_names(involved, '与')}在 {'、'.join(counts)}上不一致"
            updating = [s for s in self.sides.values() if s.within_limit]
            if updating:
                text += "（" + "，".join(
                    f"{s.level_name}在更新期内，应于{s.deadline.isoformat()}前更新"
                    for s in updating) + "）"
            parts.append(text)
        return "；".join(parts) if parts else "各级公开内容一致"


def _names(levels: Sequence[str], last_joiner: str) -> str:
    names = [LEVEL_NAMES.get(lv, lv) for lv in levels]
    if len(names) <= 1:
        return "".join(names)
    return "、".join(names[:-1]) + last_joiner + names[-1]


def normalize_text(value: object) -> str:
    """NFKC (full-width to half-width) with all whitespace removed."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return "".join(text.split())


def _canonical_number(m: re.Match) -> str:
    integer, fraction = m.group(1), m.group(2) or ""
    if len(integer) > 1 and integer.startswith("0"):
        return m.group()  # codes like 0554 keep their leading zero
    try:
        number = Decimal(integer.replace(",", "") + fraction)
    except InvalidOperation:  # pragma: no cover - the pattern only admits digits
        return m.group()
    return format(number.normalize(), "f")


def normalize_value(value: object) -> str:
    """Comparable form: 1,050.00元, 1050元 and "1050.0 元" all become 1050元."""
    if isinstance(value, str):
        return _normalized(value)
    return _NUMBER.sub(_canonical_number, normalize_text(value))


@lru_cache(maxsize=1 << 16)
def _normalized(text: str) -> str:
    # Tables repeat the same names and amounts in every level's copy and every matter of a
    # village: a county's alignments normalise each distinct cell once.
    return _NUMBER.sub(_canonical_number, normalize_text(text))


def _normalize_name(name: object) -> str:
    """Field and column names: also drop a trailing colon (补贴标准：)."""
    return normalize_text(name).rstrip(":")


@dataclass
class _Table:
    """A side's table prepared for matching."""

    columns: dict[str, int]             # normalized header -> index (first wins)
    raw_columns: dict[str, str]         # normalized header -> header as published
    rows: dict[tuple[str, ...], list[str]]  # key -> raw cells
    row_keys: list[tuple[str, ...] | None]
    key_idx: list[int]                  # positions of the key columns
    norm: dict[tuple[str, ...], list[str]]  # key -> normalized cells, computed once


def _header(pub: Publication) -> list[str]:
    width = max([len(pub.columns)] + [len(r) for r in pub.rows])
    cols = list(pub.columns)
    # Rows wider than the header get positional names so they still compare.
    cols += [f"第{i + 1}列" for i in range(len(cols), width)]
    return cols


def _key_indices(pubs: Sequence[Publication],
                 key_columns: Sequence[str]) -> tuple[list[str], dict[str, list[int]]]:
    """Key columns present in every table; otherwise each table's first column."""
    headers = {p.level: [_normalize_name(c) for c in _header(p)] for p in pubs}
    wanted = []
    for k in key_columns:
        nk = _normalize_name(k)
        if nk and nk not in wanted and all(nk in h for h in headers.values()):
            wanted.append(nk)
    if wanted:
        return wanted, {lv: [h.index(k) for k in wanted] for lv, h in headers.items()}
    first = headers[pubs[0].level][0] if headers[pubs[0].level] else ""
    return [first], {lv: [0] for lv in headers}


def _prepare_table(pub: Publication, key_idx: list[int]) -> _Table:
    header = _header(pub)
    columns: dict[str, int] = {}
    raw_columns: dict[str, str] = {}
    for i, c in enumerate(header):
        n = _normalize_name(c)
        if n not in columns:
            columns[n] = i
            raw_columns[n] = c
    rows: dict[tuple[str, ...], list[str]] = {}
    row_keys: list[tuple[str, ...] | None] = []
    for raw in pub.rows:
        cells = [("" if c is None else str(c)) for c in raw]
        cells += [""] * (len(header) - len(cells))
        if not any(normalize_text(c) for c in cells):
            row_keys.append(None)  # blank line in an imported sheet
            continue
        key = tuple(normalize_value(cells[i]) for i in key_idx)
        base, n = key, 1
        while key in rows:  # duplicate keys pair up in order of appearance
            n += 1
            key = base + (f"#{n}",)
        rows[key] = cells
        row_keys.append(key)
    norm = {k: [normalize_value(c) for c in cells] for k, cells in rows.items()}
    return _Table(columns, raw_columns, rows, row_keys, key_idx, norm)


def _compare_fields(present: list[Publication]):
    """Field diffs, one-sided fields, and normalized name -> {level: (name, value)}."""
    by_name: dict[str, dict[str, tuple[str, str]]] = {}
    order: list[str] = []
    for pub in present:
        for name, value in pub.fields.items():
            n = _normalize_name(name)
            if n not in by_name:
                by_name[n] = {}
                order.append(n)
            by_name[n].setdefault(pub.level, (name, "" if value is None else str(value)))
    diffs, only = [], []
    for n in order:
        entries = by_name[n]
        first_name = next(iter(entries.values()))[0]
        if len(entries) == 1:
            level, (name, value) = next(iter(entries.items()))
            only.append(OnlyField(name, level, value))
        elif len({normalize_value(v) for _, v in entries.values()}) > 1:
            diffs.append(FieldDiff(first_name, {lv: v for lv, (_, v) in entries.items()}))
    return diffs, only, by_name


def _compare_rows(tables: dict[str, _Table]) -> list[RowDiff]:
    """Row diffs between two or more tables, matched by key."""
    diffs: list[RowDiff] = []
    levels = list(tables)
    # Union of keys in order of first appearance (dict: lists of thousands of rows).
    for key in dict.fromkeys(k for lv in levels for k in tables[lv].rows):
        have = [lv for lv in levels if key in tables[lv].rows]
        first = tables[have[0]]
        label = " ".join(first.rows[key][i] for i in first.key_idx)
        if len(have) < len(levels):
            diffs.append(RowDiff(
                kind="only_in", key=key, label=label, levels=tuple(have),
                missing_from=tuple(lv for lv in levels if lv not in have),
                values={lv: {tables[lv].raw_columns[c]: tables[lv].rows[key][i]
                             for c, i in tables[lv].columns.items()} for lv in have}))
            continue
        differing: list[str] = []
        all_columns = dict.fromkeys(c for lv in have for c in tables[lv].columns)
        for col in all_columns:
            with_col = [lv for lv in have if col in tables[lv].columns]
            if len(with_col) >= 2 and len({
                    tables[lv].norm[key][tables[lv].columns[col]] for lv in with_col}) > 1:
                differing.append(col)
        if differing:
            # Only levels that publish a differing column take part.
            involved = [lv for lv in have if any(c in tables[lv].columns for c in differing)]
            values = {lv: {tables[lv].raw_columns[c]: tables[lv].rows[key][tables[lv].columns[c]]
                           for c in differing if c in tables[lv].columns} for lv in involved}
            headers = tuple(next(tables[lv].raw_columns[c] for lv in involved
                                 if c in tables[lv].columns) for c in differing)
            diffs.append(RowDiff(kind="cells", key=key, label=label, levels=tuple(involved),
                                 columns=headers, values=values))
    return diffs


def _pair_differs(a: str, b: str, fields_by_name, tables: dict[str, _Table]) -> bool:
    """Whether levels a and b disagree on anything both of them published."""
    for entries in fields_by_name.values():
        if a in entries and b in entries and \
                normalize_value(entries[a][1]) != normalize_value(entries[b][1]):
            return True
    if a in tables and b in tables:
        ta, tb = tables[a], tables[b]
        if set(ta.rows) != set(tb.rows):
            return True
        common = [c for c in ta.columns if c in tb.columns]
        for key, cells in ta.norm.items():
            other = tb.norm[key]
            if any(cells[ta.columns[c]] != other[tb.columns[c]] for c in common):
                return True
    return False


def align(levels: Sequence[str], key_columns: Sequence[str] | None,
          pubs: Mapping[str, Publication | None], time_limit: dict | None,
          today: date) -> Alignment:
    """Compare what each level published for one matter.

    levels: the levels expected to publish it; a publication from another
    level is compared too, but its absence is no fault. time_limit: the
    parsed 公开时限 (content.timelimits); None means 20 working days.
    """
    wanted = dict.fromkeys([*levels, *(lv for lv, p in pubs.items() if p is not None)])
    # Canonical county → township → village order; unknown levels keep theirs.
    order = sorted(wanted, key=lambda lv: LEVELS.index(lv) if lv in LEVELS else len(LEVELS))
    for lv in order:
        pub = pubs.get(lv)
        if pub is not None and pub.level != lv:
            raise ValueError(f"publication of level {pub.level!r} given as {lv!r}")
    present = [pubs[lv] for lv in order if pubs.get(lv) is not None]
    missing = [lv for lv in order if pubs.get(lv) is None]

    field_diffs, only_fields, fields_by_name = _compare_fields(present)

    with_table = [p for p in present if p.has_table]
    tables: dict[str, _Table] = {}
    key_names: list[str] = []
    row_diffs: list[RowDiff] = []
    if with_table:
        key_names, key_idx = _key_indices(with_table, key_columns or ())
        tables = {p.level: _prepare_table(p, key_idx[p.level]) for p in with_table}
        if len(tables) >= 2:
            row_diffs = _compare_rows(tables)

    in_diff = {lv for d in field_diffs for lv in d.values}
    in_diff |= {lv for d in row_diffs for lv in d.levels + d.missing_from}

    # Timeliness: a side older than the newest version that disagrees with it
    # should have caught up by the newest version's deadline.
    dated = {p.level: (p.formed_on or p.published_on) for p in present}
    dated = {lv: d for lv, d in dated.items() if d is not None}
    newest = max(dated.values()) if dated else None
    due = None
    if newest is not None:
        due = deadline(newest, time_limit) if time_limit else None
        if due is None:
            due = deadline(newest, DEFAULT_TIME_LIMIT)
    newest_levels = [lv for lv, d in dated.items() if d == newest]

    sides: dict[str, SideResult] = {}
    for lv in order:
        pub = pubs.get(lv)
        if pub is None:
            sides[lv] = SideResult(lv, MISSING, None)
            continue
        lagging = (lv in dated and dated[lv] < newest and
                   any(_pair_differs(lv, n, fields_by_name, tables) for n in newest_levels))
        stale = lagging and today > due
        within = lagging and not stale
        if stale:
            status = STALE
        elif lv in in_diff:
            status = INCONSISTENT
        else:
            status = CONSISTENT
        row_keys = tuple(tables[lv].row_keys) if lv in tables else ()
        sides[lv] = SideResult(lv, status, pub, stale=stale, within_limit=within,
                               deadline=due if lagging else None, row_keys=row_keys)

    if missing:
        status = MISSING
    elif any(s.stale for s in sides.values()):
        status = STALE
    elif field_diffs or row_diffs:
        status = INCONSISTENT
    else:
        status = CONSISTENT

    return Alignment(status=status, sides=sides, field_diffs=field_diffs,
                     row_diffs=row_diffs, only_fields=only_fields,
                     key_columns=tuple(key_names), newest_formed_on=newest, deadline=due)


def differing_fields(result: Alignment) -> set[tuple[str, str]]:
    """(level, field name as that level published it) for every differing field."""
    out: set[tuple[str, str]] = set()
    names = {_normalize_name(d.name) for d in result.field_diffs}
    for lv, side in result.sides.items():
        if side.publication is None:
            continue
        for name in side.publication.fields:
            if _normalize_name(name) in names:
                out.add((lv, name))
    return out


def differing_cells(result: Alignment) -> set[tuple[str, tuple[str, ...], str]]:
    """(level, row key, column header as that level published it) to highlight.

    Row keys are those in SideResult.row_keys. Cells of a row that only some
    levels have are all included, as the whole row is the difference.
    """
    out: set[tuple[str, tuple[str, ...], str]] = set()
    for d in result.row_diffs:
        for lv, cells in d.values.items():
            for col in cells:
                out.add((lv, d.key, col))
    return out


def differing_rows(result: Alignment) -> set[tuple[str, tuple[str, ...]]]:
    """(level, row key) for rows that take part in any row difference."""
    return {(lv, d.key) for d in result.row_diffs for lv in d.values}
