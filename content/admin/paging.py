"""Key-based paging for admin lists sorted by (sort column, id), newest first or oldest first.

"下一页" carries the key of the last row shown (``after``), "上一页" the key of the first
(``before``); the query starts at that key through the list's index, so page 500 costs what
page 1 costs and a link stays on the same rows while new ones arrive. ``page`` is only the
number shown beside the links: without a key the list starts at its first page (an offset
jump to page N would read and throw away every row before it).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, request

SEPARATOR = "_"


@dataclass
class Page:
    rows: list
    number: int
    next_key: str | None      # ``after`` for the next page, None on the last page
    prev_key: str | None      # ``before`` for the previous page, None on the first page

    def links(self) -> dict:
        """URL arguments of the neighbouring pages (for url_for(..., **page.next_args))."""
        return {"next": {"page": self.number + 1, "after": self.next_key} if self.next_key else None,
                "prev": ({"page": self.number - 1, "before": self.prev_key}
                         if self.number > 2 else {}) if self.prev_key else None}


def _key(row, sort_field: str) -> str:
    return f"{row[sort_field]}{SEPARATOR}{row['id']}"


def _parse(key: str) -> tuple[str, int]:
    value, _, ident = key.rpartition(SEPARATOR)
    try:
        return value, int(ident)
    except ValueError:
        abort(404)


def fetch(conn, select: str, where: list[str], params: list, *, sort: str, sort_field: str,
          id_column: str, size: int, oldest_first: bool = False) -> Page:
    """One page of ``select`` (``SELECT … FROM …``, no WHERE) newest first by (sort, id)
    (``oldest_first``: a queue, oldest first).

    ``sort``/``id_column`` are the SQL expressions, ``sort_field`` the name of the sort column
    in the result rows (which must also carry ``id``).
    """
    after, before = request.args.get("after"), request.args.get("before")
    try:
        number = max(1, int(request.args.get("page") or 1)) if after or before else 1
    except ValueError:
        abort(404)
    where, params = list(where), list(params)
    forward, back = ("ASC", "DESC") if oldest_first else ("DESC", "ASC")
    beyond, behind = (">", "<") if oldest_first else ("<", ">")
    order, backwards = f"{sort} {forward}, {id_column} {forward}", False
    if after:
        where.append(f"({sort}, {id_column}) {beyond} (?, ?)")
        params += _parse(after)
    elif before:
        where.append(f"({sort}, {id_column}) {behind} (?, ?)")
        params += _parse(before)
        order, backwards = f"{sort} {back}, {id_column} {back}", True
    sql = (select + (" WHERE " + " AND ".join(where) if where else "")
           + f" ORDER BY {order} LIMIT ?")
    rows = conn.execute(sql, [*params, size + 1]).fetchall()
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        has_next, has_prev = True, more
    else:
        has_next, has_prev = more, bool(after)
    if backwards and not more:
        number = 1          # walked back to the start: the first page, whatever the label said
    return Page(rows, number,
                next_key=_key(rows[-1], sort_field) if has_next and rows else None,
                prev_key=_key(rows[0], sort_field) if has_prev and rows else None)
