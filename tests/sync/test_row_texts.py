"""Reading a table file's rows as texts (sync/row_texts.py): what it reads is always exactly
what decoding the whole file gives; rows applied before are known without decoding; a file
that is not cut cleanly is either put together again or left to be decoded whole."""
from __future__ import annotations

import json
import random

from sync import bundle, row_texts

COLUMNS = ["id", "title", "table_rows", "score"]
AWKWARD = ['],[', '],[1', '"],["', '\\', '\\"', '],[\\"', '"rows":[', ']]}', '[[1],[2]]', '公示（第1号）',
           '\u2028', '', 'null']


def _raw(rows, table="notice", columns=COLUMNS, key=("id",)) -> bytes:
    return bundle.encode_table_blob(table, list(columns), list(key), rows)


def _decoded(texts, known=None):
    """(rows decoded, keys known) in file order, or None."""
    result = row_texts.read(texts, known or {})
    if result is None:
        return None
    digests, entries = result
    assert len(digests) == len(entries) and all(len(d) == row_texts.DIGEST_BYTES for d in digests)
    return entries


def _random_rows(rng: random.Random, n: int) -> list:
    rows = []
    for i in range(n):
        cells = [[rng.choice(AWKWARD) + str(rng.randint(0, 9)) for _ in range(rng.randint(0, 3))]
                 for _ in range(rng.randint(0, 3))]
        nested = json.dumps(cells, ensure_ascii=False, separators=(",", ":"))
        rows.append([i + 1, "".join(rng.choice(AWKWARD) for _ in range(rng.randint(0, 4))),
                     nested if rng.random() < 0.8 else None, rng.choice([0, 1.5, -3, None])])
    return rows


def test_reading_row_texts_gives_exactly_the_decoded_rows():
    rng = random.Random(19)
    for _ in range(200):
        rows = _random_rows(rng, rng.randint(1, 12))
        raw = _raw(rows)
        texts = row_texts.cut(raw)
        assert texts is not None
        assert texts.header == {"table": "notice", "columns": COLUMNS, "key": ["id"], "rows": []}
        entries = _decoded(texts)
        assert entries == [(False, r) for r in json.loads(raw)["rows"]]
        # A full load decodes the rows one after the other: the same rows, the same digests.
        assert row_texts.decode_all(texts, raw) == row_texts.read(texts, {})


def test_a_cut_inside_a_string_is_joined_again():
    rows = [[1, "见表[1],[2]", None, 1], [2, "],[3,\"x\"],[4", "[[1,2],[3,4]]", 2]]
    texts = row_texts.cut(_raw(rows))
    assert len(texts.pieces) > len(rows)              # the separator also occurs inside strings
    assert _decoded(texts) == [(False, r) for r in rows]


def test_rows_applied_before_are_known_by_their_text_not_decoded():
    rows = _random_rows(random.Random(7), 20)
    first = row_texts.cut(_raw(rows))
    digests, _entries = row_texts.read(first, {})
    known = row_texts.known_rows([r[0] for r in rows], b"".join(digests))
    changed = [list(r) for r in rows]
    changed[3][1] += "（更正）"
    changed.append([99, "新增", None, 0])
    del changed[10]
    entries = _decoded(row_texts.cut(_raw(changed)), known)
    assert entries == [(False, r) if r[0] in (4, 99) else (True, r[0]) for r in changed]
    # The same values under other columns (another head) are not the same row text.
    other = row_texts.cut(_raw(rows, columns=["id", "label", "table_rows", "score"]))
    assert all(not seen for seen, _v in _decoded(other, known))


def test_keys_of_several_columns_and_digests_stay_aligned():
    keys = [(1, "a"), (2, "b")]
    blob = b"A" * 16 + b"B" * 16
    assert row_texts.known_rows(keys, blob) == {b"A" * 16: (1, "a"), b"B" * 16: (2, "b")}
    assert row_texts.known_rows(keys, blob[:-1]) == {}       # not aligned: nothing is known
    assert row_texts.known_rows(keys, None) == {}


def test_files_not_written_as_the_hub_writes_are_left_to_be_decoded_whole():
    rows = [[1, "a", None, 1], [2, "b", None, 2]]
    spaced = json.dumps({"table": "notice", "columns": COLUMNS, "key": ["id"], "rows": rows}).encode()
    assert row_texts.cut(spaced) is None
    assert row_texts.cut(_raw([])) is None                          # no rows
    # "rows":[ inside a string of the head: the head does not decode on its own.
    assert row_texts.cut(b'{"table":"x\\"rows":[[1]]}') is None
    # A key more in the head: not a table file's head.
    assert row_texts.cut(b'{"table":"t","x":1,"columns":["a"],"key":["a"],"rows":[[1]]}') is None
    # Another key after the rows: the last piece never decodes as whole rows.
    texts = row_texts.cut(b'{"table":"t","columns":["a"],"key":["a"],"rows":[[1]],"x":[[2]]}')
    assert texts is not None and _decoded(texts) is None


def test_a_body_that_is_not_whole_rows_is_refused_to_the_whole_decoder():
    head = b'{"table":"t","columns":["a","b"],"key":["a"],"rows":['
    spaced = head + b'[1,"x"], [2,"y"]]}'                  # valid, but not as the hub writes it
    assert row_texts.read(row_texts.cut(spaced), {}) is None
    assert row_texts.decode_all(row_texts.cut(spaced), spaced) is None
    for body in (b'[1,"x"],[2,"y]', b'[1,"x"],[2,[3]', b'[1,"x"],2,"y"]', b'[1,"x"],[2,"y"]]]',
                 b'[1,"x"],[2,"\xff"]'):
        raw = head + body + b"]}"
        texts = row_texts.cut(raw)
        assert texts is None or row_texts.read(texts, {}) is None, body
        assert texts is None or row_texts.decode_all(texts, raw) is None, body
        try:
            json.loads(head + body + b"]}")
        except ValueError:
            continue
        raise AssertionError(f"{body!r} decodes whole: the case is not a bad body")


def test_a_row_cut_too_often_is_left_to_the_whole_decoder():
    many = json.dumps([[i, i + 1] for i in range(row_texts.MAX_JOINS + 2)], separators=(",", ":"))
    texts = row_texts.cut(_raw([[1, "a", many, 0]]))
    assert len(texts.pieces) > row_texts.MAX_JOINS + 1
    assert _decoded(texts) is None
    few = json.dumps([[i, i + 1] for i in range(row_texts.MAX_JOINS - 1)], separators=(",", ":"))
    assert _decoded(row_texts.cut(_raw([[1, "a", few, 0]]))) == [(False, [1, "a", few, 0])]
