"""A table file's rows as texts: cut apart without decoding, known again by their digests.

A bundle's table file is one JSON object, ``{"table":…,"columns":[…],"key":[…],"rows":[[…],…]}``
(bundle.encode_table_blob). A 1 % change of the county rewrites a few rows in each of some
hundreds of files of a hundred rows each; decoding and comparing every row of those files was
most of the terminal's apply. Here a file's rows are cut at the separators between rows as
bytes, each row's text is digested, and only the texts the terminal has not applied before
are decoded.

Why what is applied is exactly what the signed file says: a file is taken this way only when
its head (all before the rows) decodes as that object with no rows, and every cut piece is
either decoded alone as ``[piece]`` or is, byte for byte (by a 16-byte SHA-256 digest that
covers the head too), a text applied before as one whole row under the same head. Parsing
JSON is deterministic, so a piece starting where a row starts that is a whole array on its
own ends exactly where that row ends: by induction from the first row every piece is one row,
and the file is valid JSON with these rows. A cut inside a string (JSON text kept in a column
can hold the separator) leaves pieces that do not decode alone; they are joined with the
next until they do. A file that does not fit is decoded whole, as before.

A full load decodes every row anyway: ``decode_all`` runs json's own scanner over the rows
one after the other (the very rows decoding the whole file gives) and digests their texts.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

ROWS_START = b'"rows":['
FILE_END = b"]]}"
# Between two rows the hub writes `],[`. Inside a string the same characters are mostly
# followed by an escape (a column holding JSON: `],[\"`), so no cut is made there.
SEPARATOR = re.compile(rb"\],\[(?!\\)")
DIGEST_BYTES = 16
# Pieces joined into one row at most: past that (a column full of `],[` outside escapes, where
# joining again and again would parse the same bytes many times) the file is decoded whole.
MAX_JOINS = 64
_UNKNOWN = object()


@dataclass
class RowTexts:
    """One file cut into its rows' texts (a row's JSON without its brackets)."""
    header: dict                 # table, columns, key (rows left empty)
    head: bytes                  # the file's bytes before its first row
    pieces: list


def cut(raw: bytes) -> RowTexts | None:
    """The file's head and its rows' texts; None when it is not written that way."""
    start = raw.find(ROWS_START)
    if start < 0 or not raw.endswith(FILE_END):
        return None
    end_of_head = start + len(ROWS_START)
    if raw[end_of_head:end_of_head + 1] != b"[" or len(raw) < end_of_head + 1 + len(FILE_END):
        return None
    head = raw[:end_of_head]
    try:
        header = json.loads(head + b"]}")
    except ValueError:
        return None
    if not isinstance(header, dict) or set(header) != {"table", "columns", "key", "rows"} \
            or header["rows"] != []:
        return None
    return RowTexts(header, head, SEPARATOR.split(raw[end_of_head + 1:-len(FILE_END)]))


def digest(head: bytes, text: bytes) -> bytes:
    return hashlib.sha256(head + text).digest()[:DIGEST_BYTES]


def read(texts: RowTexts, known: dict) -> tuple[list, list] | None:
    """The file's rows in order: their digests, and for each either ``(True, key)`` (its text
    was applied before: ``known`` maps such digests to keys) or ``(False, values)`` (decoded);
    None when some piece never decodes as whole rows (then decode the file whole)."""
    head, pieces = texts.head, texts.pieces
    digests, rows = [], []
    loads = json.loads
    i, count = 0, len(pieces)
    while i < count:
        text = pieces[i]
        i += 1
        d = digest(head, text)
        key = known.get(d, _UNKNOWN)
        if key is not _UNKNOWN:
            digests.append(d)
            rows.append((True, key))
            continue
        joined = 0
        while True:
            try:
                row = loads(b"[" + text + b"]")
                break
            except ValueError:
                if i == count or joined == MAX_JOINS:
                    return None
                text += b"],[" + pieces[i]      # the cut fell inside a string: join the next
                i += 1
                joined += 1
        if joined:
            d = digest(head, text)
            key = known.get(d, _UNKNOWN)
        digests.append(d)
        rows.append((False, row) if key is _UNKNOWN else (True, key))
    return digests, rows


_scan = json.JSONDecoder().scan_once     # the C scanner json.loads uses, one value at a time


def decode_all(texts: RowTexts, raw: bytes) -> tuple[list, list] | None:
    """Every row decoded, one after the other by the scanner that decodes whole files (so
    exactly those rows), each with its text's digest; as ``read`` returns them. For a full
    load, where every row is decoded anyway: cheaper than decoding each piece on its own.
    None when the rows are not separated as the hub writes them (then decode the file whole)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = texts.head
    i = len(head.decode("utf-8"))             # the first row's "["
    sha256 = hashlib.sha256
    digests, rows = [], []
    while True:
        if text[i:i + 1] != "[":
            return None
        try:
            row, end = _scan(text, i)
        except (ValueError, StopIteration):
            return None
        digests.append(sha256(head + text[i + 1:end - 1].encode("utf-8")).digest()[:DIGEST_BYTES])
        rows.append((False, row))
        after = text[end:end + 1]
        if after == "]":
            return (digests, rows) if text[end + 1:] == "}" else None
        if after != ",":
            return None
        i = end + 1


def known_rows(keys: list, row_digests: bytes | None) -> dict:
    """digest → key of one applied file's rows (``keys`` and digests in file order, as
    sync_applied_file keeps them); empty when it kept no digests."""
    n = DIGEST_BYTES
    if not row_digests or len(row_digests) != n * len(keys):
        return {}
    return dict(zip((row_digests[i:i + n] for i in range(0, len(row_digests), n)), keys))
