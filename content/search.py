"""Search over published catalogue items, village items, guides, notices and policy documents.

Two FTS5 indexes, both filled by SQL triggers (migrations 0002, 0009 and 0011):

* ``search_fts`` — trigram tokenizer; answers terms of three or more characters in the
  title, body, full pinyin (``zuidishenghuobaozhang``) and initials (``zdshbz``) of the title;
* ``search_short`` — unicode61 over text split into single characters; answers one- and
  two-character terms (``低保``, ``db``) as phrase queries of adjacent characters, which the
  trigram tokenizer cannot match from its index.

Why triggers and SQL functions rather than a Python re-indexer: whoever writes content —
the admin, sync applying a bundle in one transaction, an import, a test — the index changes
in the same transaction as the row, so it can never be stale or half-updated, and nobody
has to remember to call anything.  The triggers need pinyin, so ``register_functions``
adds deterministic functions (``search_norm``, ``search_py``, ``search_pyi``,
``search_chars``, ``search_scope``, ``search_syl``) to every connection made by
``content.db.connect``; a connection without them fails loudly on a content write instead
of silently leaving the index behind.
``rebuild`` re-creates both indexes from the content tables (for repairs).

Bulk writers (sync applying a bundle) pause the triggers inside their transaction
(``paused``) and index what they changed set-based (``index_docs``): every derived value
computed once per row in Python, pinyin memoised per run of Han characters.  A big full load
queues its documents instead (``queue_all``) and indexes them in batches right after it
commits (``index_pending``): the content shows at once, search fills in seconds later, and
the index never holds a stale or foreign entry (it was emptied in the load's transaction).

Each indexed row's rowid encodes its kind (``KIND_BASE``), so a query can walk one kind
newest-first and stop after a bounded number of candidates: cost stays flat however common
a term is.  Both indexes also hold the document's jurisdiction as one token (``scope``
column, ``scope_token``; migration 0011), so a village's view asks FTS5 for its own
matches only.  Filters and ranking read the small ``search_meta`` rows, not the indexes'
stored text.  Candidates are ranked (exact title, title prefix or alias, title, body; live
before past; guides first; newest first) and highlighted in Python.

Answering a query needs no pinyin dictionary (pypinyin's are about half of a terminal's
memory): the index stores each title's pinyin for highlighting (``search_meta.syl``) and the
aliases' pinyin is written out (``ALIAS_SYLLABLES``).  Only writing content (the triggers,
sync's indexing) loads pypinyin.
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import unicodedata
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from markupsafe import Markup, escape

KIND_BASE = {"item": 1_000_000_000_000, "village_item": 2_000_000_000_000,
             "guide": 3_000_000_000_000, "notice": 4_000_000_000_000,
             "policy": 5_000_000_000_000}
KIND_SPAN = 1_000_000_000_000
KIND_NAMES = {"guide": "办事指南", "item": "公开事项", "village_item": "村务公开", "notice": "公示公告",
              "policy": "政策文件"}
KIND_URLS = {"item": "/items/{}", "village_item": "/village-items/{}", "guide": "/guides/{}",
             "notice": "/notices/{}", "policy": "/policies/{}"}
KIND_ORDER = ("guide", "item", "policy", "village_item", "notice")
# Where each kind keeps prose a result can quote (table and columns, in order of preference).
READABLE = {"item": ("catalogue_item", ("content_elements", "basis")),
            "village_item": ("village_item", ("content",)),
            "guide": ("guide", ("summary", "conditions")),
            "notice": ("notice", ("body",)),
            # The text of a document only when it is 主动公开 (migration 0025's search_src says the same).
            "policy": ("policy_document", (
                "CASE WHEN disclosure = '主动公开' THEN body ELSE '' END",
                "CASE WHEN disclosure = '主动公开' THEN (SELECT group_concat(json_extract(c.value, '$.q') || ' '"
                " || json_extract(c.value, '$.a'), ' ') FROM policy_interpretation x, json_each(x.qa) c"
                " WHERE x.document_id = policy_document.id) ELSE '' END"))}

MAX_QUERY = 50          # characters kept of a query; longer input is cut, never an error
MAX_TERMS = 6
CANDIDATES = 50         # per kind and pass: bounds the work for very common terms
# Scopes of up to this many jurisdictions are intersected in FTS5; larger ones only in
# search_meta.  At county scale a village's view (3 codes) costs 1.8x less CPU that way, a
# township's (17) 1.2x less; at 33 codes it is even and beyond slower (OR of many doclists,
# while the meta check turns few candidates down).
SCOPE_TOKENS = 32
SNIPPET = 36            # characters of body shown either side of a match

# Controls, invisible marks, specials, and the supplementary private use planes: the index
# spells jurisdictions with those (``scope_token``), so no text or query ever holds one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff\ufff0-\uffff"
                      r"\U000f0000-\U0010ffff]")
_SPLIT = re.compile(r"[^\w]+|_")
_LATIN = re.compile(r"[a-z]+")
_SPLIT_KEEP_SEP = re.compile(r"[^\w¦]+|_")
_ALNUM_RUN = re.compile(r"[^\W_]+")     # what str.isalnum() accepts, in runs


# ---------------------------------------------------------------- text functions (also SQL)

@lru_cache(maxsize=1024)   # triggers ask for the same title and body several times per row
def normalize(text: str | None) -> str:
    """NFKC (full-width letters and digits become ASCII) and lower case, controls removed."""
    if not text:
        return ""
    return _CONTROL.sub("", unicodedata.normalize("NFKC", str(text))).lower()


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or ch >= "\U00020000"


@lru_cache(maxsize=65536)
def syllables(text: str) -> tuple[str, ...]:
    """One entry per character of ``text``: its pinyin if Han, itself if ASCII letter or digit, else ''.

    Context-aware (pypinyin's phrase dictionary: 重庆 → chong qing) and aligned with the
    characters, so matches in pinyin can be mapped back for highlighting.

    pypinyin cuts a text into runs of Han and other characters and segments each Han run
    into words on its own, so a run's pinyin never depends on its neighbours: each Han run
    is converted once (memoised; titles repeat their runs: 低保公示（第12号）) and the rest
    needs no pypinyin at all.  Tests compare with converting the whole text.
    """
    out: list[str] = []
    han = False                       # the split alternates: other, Han, other, …
    for run in _han_runs(text):
        if han:
            out += _han_syllables(run)
        elif run:
            out += [ch.lower() if ch.isascii() and ch.isalnum() else "" for ch in run]
        han = not han
    return tuple(out)


def _han_runs(text: str) -> list[str]:
    """``text`` split into alternating runs: other characters, Han, other, … (pypinyin's cut)."""
    global _HAN_SPLIT
    if _HAN_SPLIT is None:
        from pypinyin.constants import RE_HANS  # noqa: PLC0415  (large dictionaries: load on first use)

        pattern = RE_HANS.pattern      # ^(?:[…])+$ : the characters pypinyin has pinyin for
        if not (pattern.startswith("^(?:[") and pattern.endswith("])+$")):
            raise RuntimeError("pypinyin's RE_HANS changed shape; update content.search._han_runs")
        _HAN_SPLIT = re.compile("(" + pattern[4:-3] + "+)")
    return _HAN_SPLIT.split(text)


_HAN_SPLIT: re.Pattern | None = None


def load_dictionaries() -> None:
    """Load pypinyin's dictionaries now (about 0.4 s, once per process): a terminal does it
    while it downloads a bundle, so the apply transaction does not wait for them."""
    _han_runs("")
    _han_syllables("公开")


@lru_cache(maxsize=65536)
def _han_syllables(run: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin  # noqa: PLC0415

    out = lazy_pinyin(run, errors=lambda chars: list(chars))
    if len(out) != len(run):  # never seen, but keep the alignment promise
        out = [lazy_pinyin(ch, errors=lambda chars: list(chars))[0] for ch in run]
    return tuple(syl.lower() if _is_han(ch) and syl.isascii() and syl.isalpha() else ""
                 for ch, syl in zip(run, out))


# What residents say for what official titles write: indexed with the title, so 低保 (and
# its initials db) finds 最低生活保障.  Only short forms that are not already substrings.
ALIASES = {
    "最低生活保障": "低保",
    "医疗保险": "医保",
    "社会保险": "社保",
    "危房改造": "危改",
    "公共租赁住房": "公租房",
    "特困人员救助供养": "五保",
}
ALIAS_SEP = "¦"   # not a letter: no match runs from the title into its aliases
# The aliases' pinyin, written out so that highlighting needs no pinyin dictionary at query
# time (a test checks it against ``syllables``).
ALIAS_SYLLABLES = {
    "低保": ("di", "bao"),
    "医保": ("yi", "bao"),
    "社保": ("she", "bao"),
    "危改": ("wei", "gai"),
    "公租房": ("gong", "zu", "fang"),
    "五保": ("wu", "bao"),
}


@lru_cache(maxsize=1024)
def title_parts(text: str | None) -> tuple[str, ...]:
    """The normalized title followed by the short forms it implies."""
    norm = normalize(text)
    return (norm, *(short for full, short in ALIASES.items() if full in norm and short not in norm))


def title_text(text: str | None) -> str:
    """The title as indexed: ``最低生活保障申请 ¦ 低保``."""
    return f" {ALIAS_SEP} ".join(title_parts(text))


def pinyin_full(text: str | None) -> str:
    """``最低生活保障`` → ``zuidishenghuobaozhang ¦ dibao`` (letters and digits kept)."""
    return ALIAS_SEP.join("".join(syllables(p)) for p in title_parts(text))


def pinyin_initials(text: str | None) -> str:
    """``最低生活保障`` → ``zdshbz ¦ db``; ASCII letters and digits stand for themselves."""
    return ALIAS_SEP.join("".join(s[0] for s in syllables(p) if s) for p in title_parts(text))


def split_chars(text: str | None) -> str:
    """Every letter, digit or Han character as its own token, for the 1–2 character index.

    Between a title and its aliases goes the word ``sep``: queries there are phrases of
    single characters, so it never matches and no phrase runs across the boundary.
    """
    return " sep ".join(" ".join(filter(str.isalnum, part)) for part in normalize(text).split(ALIAS_SEP))


SCOPE_PLANE = 0xF0000     # Unicode's supplementary private use area A: normalize() strips it


@lru_cache(maxsize=4096)
def scope_token(code: str | None) -> str:
    """The jurisdiction as one index token: three characters of the private use plane.

    A 12-digit code gives one character per group of four digits (one-to-one); anything else
    (never stored: the schema checks codes) a hashed one.  Three characters are exactly one
    trigram, so in the trigram index too a code is one token with its own short doclist.
    """
    code = str(code or "")
    if len(code) == 12 and code.isascii() and code.isdigit():
        groups = (int(code[0:4]), int(code[4:8]), int(code[8:12]))
    else:
        digest = hashlib.blake2b(code.encode("utf-8", "surrogatepass"), digest_size=6).digest()
        groups = tuple(10_000 + int.from_bytes(digest[i:i + 2], "big") % 50_000 for i in (0, 2, 4))
    return "".join(chr(SCOPE_PLANE + g) for g in groups)


def _compact(text: str) -> tuple[str, list[int]]:
    """``text`` normalized with everything but letters and digits removed, and for each of its
    characters the index of the character of ``text`` it came from.  What highlighting
    matches in, so 低保 also matches 低 保 (terms never hold separators)."""
    flat = normalize(text)
    identity = len(flat) == len(text)
    if identity:                    # the usual case: one normalized character per character
        owner = list(range(len(text)))
    else:
        norm: list[str] = []
        owner = []                  # index in ``text`` of each normalized character
        for i, ch in enumerate(text):
            for n in normalize(ch):
                norm.append(n)
                owner.append(i)
        flat = "".join(norm)
    # Built from runs of letters and digits (C-speed slicing), not character by character:
    # highlighting 30 hits is a good part of a search's time.
    if flat.isalnum():
        return flat, owner
    runs = [m.span() for m in _ALNUM_RUN.finditer(flat)]
    keep: list[int] = []
    for a, b in runs:
        keep.extend(range(a, b))
    return "".join(flat[a:b] for a, b in runs), keep if identity else [owner[k] for k in keep]


def title_syllables(text: str | None) -> str:
    """What highlighting a pinyin match in this title needs, stored with the index
    (search_meta.syl): ``syllables`` of its letters and digits, space-separated."""
    return " ".join(syllables(_compact(text or "")[0]))


def _stored_syllables(value: str, compact: str) -> tuple[str, ...] | None:
    """search_meta.syl back as the tuple ``syllables`` gives (None if it does not fit)."""
    syl = tuple(value.split(" ")) if compact else ()
    return syl if len(syl) == len(compact) else None


def register_functions(conn: sqlite3.Connection) -> None:
    """The deterministic SQL functions the index triggers call (see the module docstring)."""
    conn.create_function("search_norm", 1, normalize, deterministic=True)
    conn.create_function("search_title", 1, title_text, deterministic=True)
    conn.create_function("search_py", 1, pinyin_full, deterministic=True)
    conn.create_function("search_pyi", 1, pinyin_initials, deterministic=True)
    conn.create_function("search_chars", 1, split_chars, deterministic=True)
    conn.create_function("search_scope", 1, scope_token, deterministic=True)
    conn.create_function("search_syl", 1, title_syllables, deterministic=True)


# ---------------------------------------------------------------- index maintenance

# Content table → kind of document it feeds (migration 0009's search_kind says the same).
SOURCE_TABLES = {"catalogue_item": "item", "village_item": "village_item", "guide": "guide",
                 "notice": "notice", "policy_document": "policy"}
INDEX_TABLES = (("search_fts", "rowid"), ("search_short", "rowid"), ("search_meta", "id"))
BATCH = 2000            # documents per statement batch (and per transaction when indexing later)
_SOURCE = "SELECT doc_id, label, body, code, day, until, meta FROM search_src"


def _derive(row) -> tuple[tuple, tuple, tuple]:
    """One document's rows for search_fts, search_short and search_meta.

    Exactly what the trigger's SQL computes (migration 0009), but every derived value once
    per row, in Python, without a round-trip through SQLite per function call.
    """
    doc_id, label, body, code, day, until, meta = row
    title, py, pyi, scope = title_text(label), pinyin_full(label), pinyin_initials(label), scope_token(code)
    return ((doc_id, title, normalize(body), py, pyi, scope),
            (doc_id, split_chars(title), split_chars(body), split_chars(pyi), scope),
            (doc_id, code, day, until, title, py, pyi, label, meta, title_syllables(label)))


def _write(conn: sqlite3.Connection, rows) -> int:
    derived = [_derive(r) for r in rows]
    conn.executemany("INSERT INTO search_fts(rowid, title, body, py, pyi, scope) VALUES (?, ?, ?, ?, ?, ?)",
                     [d[0] for d in derived])
    conn.executemany("INSERT INTO search_short(rowid, title, body, pyi, scope) VALUES (?, ?, ?, ?, ?)",
                     [d[1] for d in derived])
    conn.executemany("INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta, syl) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [d[2] for d in derived])
    return len(derived)


def _transaction(conn: sqlite3.Connection):
    """The caller's transaction if there is one, else our own."""
    from .db import immediate  # noqa: PLC0415  (db imports this module when it connects)
    return nullcontext() if conn.in_transaction else immediate(conn)


@contextmanager
def paused(conn: sqlite3.Connection):
    """Inside a transaction: content writes leave the index alone (the writer indexes itself).

    The pause row never outlives the block, so it is never committed.
    """
    if not conn.in_transaction:
        raise RuntimeError("search.paused needs a transaction")
    conn.execute("INSERT INTO search_pause(one) VALUES (1)")
    try:
        yield
    finally:
        conn.execute("DELETE FROM search_pause")


def doc_ids(conn: sqlite3.Connection, table: str, ids) -> list[int]:
    """Documents whose index entries depend on these rows (by id) of a content table."""
    ids = list(ids)
    if not ids:
        return []
    if table in SOURCE_TABLES:
        base = KIND_BASE[SOURCE_TABLES[table]]
        return [base + i for i in ids if isinstance(i, int)]
    if table == "policy_interpretation":     # a document's Q&A text is part of its entry
        arr = json.dumps([i for i in ids if isinstance(i, int)])
        return [KIND_BASE["policy"] + r[0] for r in conn.execute(
            "SELECT DISTINCT document_id FROM policy_interpretation WHERE id IN "
            "(SELECT value FROM json_each(?))", (arr,))]
    if table == "domain":      # items and guides show their domain's name
        arr = json.dumps([i for i in ids if isinstance(i, int)])
        return [r[0] for r in conn.execute(
            f"SELECT {KIND_BASE['item']} + id FROM catalogue_item WHERE domain_id IN "
            f"(SELECT value FROM json_each(?)) UNION ALL "
            f"SELECT {KIND_BASE['guide']} + id FROM guide WHERE domain_id IN "
            f"(SELECT value FROM json_each(?))", (arr, arr))]
    return []


def index_docs(conn: sqlite3.Connection, docs) -> int:
    """Bring these documents' index entries (rowids, see KIND_BASE) up to date, set-based.

    Their old entries go; what their rows give now (nothing for a row deleted or no longer
    published) is written.  Runs in the caller's transaction, or its own.
    """
    docs = sorted(set(docs))
    written = 0
    with _transaction(conn):
        for start in range(0, len(docs), BATCH):
            chunk = docs[start:start + BATCH]
            arr = json.dumps(chunk)
            for table, col in INDEX_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE {col} IN (SELECT value FROM json_each(?))",
                             (arr,))
            by_kind: dict[str, list[int]] = {}
            for doc in chunk:
                kind = next((k for k, base in KIND_BASE.items() if base <= doc < base + KIND_SPAN), None)
                if kind is not None:
                    by_kind.setdefault(kind, []).append(doc - KIND_BASE[kind])
            for kind, ids in by_kind.items():
                # A literal list: SQLite pushes it into each arm of the search_src view
                # (an IN subquery would scan every content table).
                for part in range(0, len(ids), 500):
                    some = ids[part:part + 500]
                    written += _write(conn, conn.execute(
                        _SOURCE + f" WHERE kind = ? AND id IN ({','.join('?' * len(some))})",
                        (kind, *some)).fetchall())
    return written


def clear(conn: sqlite3.Connection) -> None:
    """Empty the index (in the caller's transaction): the FTS tables are dropped and made
    again, which is far cheaper than deleting every document's tokens."""
    with _transaction(conn):
        for table in ("search_fts", "search_short"):
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).fetchone()[0]
            conn.execute(f"DROP TABLE {table}")
            conn.execute(sql)
        conn.execute("DELETE FROM search_meta")
        conn.execute("DELETE FROM search_pending")


def queue_all(conn: sqlite3.Connection) -> int:
    """Empty the index and queue every row of the source tables for ``index_pending``
    (a row that is not published indexes to nothing); return how many."""
    with _transaction(conn):
        clear(conn)
        queued = 0
        for table, kind in SOURCE_TABLES.items():
            queued += conn.execute(f"INSERT INTO search_pending(id) SELECT {KIND_BASE[kind]} + id "
                                   f"FROM {table}").rowcount
        return queued


def pending_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM search_pending").fetchone()[0]


def index_pending(conn: sqlite3.Connection, limit: int | None = BATCH) -> int:
    """Index up to ``limit`` queued documents (None: all), newest kinds first, in the caller's
    transaction or one of its own; return how many were taken off the queue (0: none left)."""
    with _transaction(conn):
        docs = [r[0] for r in conn.execute("SELECT id FROM search_pending ORDER BY id DESC LIMIT ?",
                                           (-1 if limit is None else limit,))]
        if docs:
            index_docs(conn, docs)
            conn.execute("DELETE FROM search_pending WHERE id IN (SELECT value FROM json_each(?))",
                         (json.dumps(docs),))
    return len(docs)


def index_all(conn: sqlite3.Connection) -> int:
    """Empty the index and build it again from every published row, in one pass."""
    with _transaction(conn):
        clear(conn)
        count = 0
        rows = conn.execute(_SOURCE)
        while batch := rows.fetchmany(BATCH):
            count += _write(conn, batch)
    return count


def rebuild(conn: sqlite3.Connection) -> int:
    """Re-create both indexes from the content tables in one transaction; return the row count."""
    return index_all(conn)


# ---------------------------------------------------------------- queries

@dataclass(frozen=True)
class Term:
    text: str       # normalized: lower case, NFKC, letters/digits/Han only
    pinyin: bool    # all ASCII letters: matched against the title's pinyin too


def parse_query(raw: str | None) -> list[Term]:
    """Split a resident's query into terms; anything that is not a letter, digit or Han separates."""
    text = normalize(raw)[: MAX_QUERY * 2]
    terms: list[Term] = []
    for word in _SPLIT.split(text):
        if not word or any(t.text == word for t in terms):
            continue
        terms.append(Term(word, bool(_LATIN.fullmatch(word))))
        if len(terms) == MAX_TERMS:
            break
    total = 0
    kept = []
    for t in terms:   # keep the query short: at most MAX_QUERY characters of terms
        if total + len(t.text) > MAX_QUERY:
            t = Term(t.text[: MAX_QUERY - total], t.pinyin)
        if t.text:
            kept.append(t)
            total += len(t.text)
        if total >= MAX_QUERY:
            break
    return kept


def _quote(text: str) -> str:
    """An FTS5 string literal: whatever the resident typed is data, never query syntax."""
    return '"' + text.replace('"', '""') + '"'


def fts_expressions(terms: list[Term]) -> tuple[str, str, str]:
    """(table, expression over all columns, expression over the title columns only).

    All terms of 3+ characters use the trigram index; if any term is shorter the whole query
    uses the single-character index, where every term is a phrase of adjacent characters.
    """
    if all(len(t.text) >= 3 for t in terms):
        table = "search_fts"
        anywhere = [f"{{title py pyi}} : {_quote(t.text)}" if t.pinyin
                    else f"{{title body}} : {_quote(t.text)}" for t in terms]
        in_title = [f"{{title py pyi}} : {_quote(t.text)}" if t.pinyin
                    else f"{{title}} : {_quote(t.text)}" for t in terms]
    else:
        table = "search_short"
        anywhere = [f"{{title pyi}} : {_quote(' '.join(t.text))}" if t.pinyin
                    else f"{{title body}} : {_quote(' '.join(t.text))}" for t in terms]
        in_title = [f"{{title pyi}} : {_quote(' '.join(t.text))}" if t.pinyin
                    else f"{{title}} : {_quote(' '.join(t.text))}" for t in terms]
    return table, " AND ".join(anywhere), " AND ".join(in_title)


@dataclass
class Hit:
    kind: str
    id: int
    url: str
    title: str
    title_html: Markup
    snippet_html: Markup
    meta: str
    code: str
    jurisdiction_name: str = ""
    day: str = ""
    past: bool = False
    tier: int = 3

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]


@dataclass
class SearchResult:
    query: str
    terms: list[Term]
    hits: list[Hit] = field(default_factory=list)
    capped: bool = False       # more matches exist than were ranked
    loose_terms: list[Term] = field(default_factory=list)   # hits came from a looser reading

    @property
    def empty(self) -> bool:
        return bool(self.terms) and not self.hits

    @property
    def only_loosely(self) -> bool:
        """Found only through the looser reading, and only in bodies: worth telling the
        resident. Titles holding every word (桥头村最低生活保障审核确认对象公示 for dbgs) are
        what the resident meant."""
        return bool(self.loose_terms) and not any(h.tier <= 2 for h in self.hits)


def _tier(terms: list[Term], title: str, py: str, pyi: str) -> int:
    """0 exact title, 1 title (or one of its aliases: 低保, db) starts with the first term,
    2 every term in the title or its aliases, 3 body only."""
    titles, pys, pyis = title.split(ALIAS_SEP), py.split(ALIAS_SEP), pyi.split(ALIAS_SEP)
    whole = "".join(t.text for t in terms)
    if titles[0] == whole or (len(terms) == 1 and terms[0].pinyin and whole in (pys[0], pyis[0])):
        return 0
    first = terms[0]
    if any(part.startswith(first.text) for part in titles) or (first.pinyin and any(
            part.startswith(first.text) for part in pys + pyis if part)):
        return 1
    if all(t.text in title or (t.pinyin and (t.text in pyi or t.text in py)) for t in terms):
        return 2
    return 3


def search(conn: sqlite3.Connection, raw: str | None, codes: list[str] | None, today: date,
           kinds: tuple[str, ...] = KIND_ORDER, limit: int = 30) -> SearchResult:
    """Ranked, highlighted hits for a query; ``codes`` limits jurisdictions (None: all)."""
    terms = parse_query(raw)
    result = SearchResult(query=raw or "", terms=terms)
    if not terms:
        return result
    _run(conn, result, terms, codes, today, kinds, limit)
    loose = chunked(terms)
    if not result.hits and loose != terms:
        # dbgs is often two words that are not adjacent in the title (低保 … 公示): try db + gs.
        _run(conn, result, loose, codes, today, kinds, limit)
        result.loose_terms = loose if result.hits else []
    return result


def chunked(terms: list[Term]) -> list[Term]:
    """Four or more initials or Han characters read as two-character words:
    dbgs → db gs, 低保公示 → 低保 公示 (most Chinese words have two characters)."""
    out: list[Term] = []
    for t in terms:
        if len(t.text) >= 4 and (t.pinyin or all(_is_han(ch) for ch in t.text)):
            out += [Term(t.text[i:i + 2], t.pinyin) for i in range(0, len(t.text), 2)]
        else:
            out.append(t)
    return out


def _run(conn: sqlite3.Connection, result: SearchResult, terms: list[Term], codes: list[str] | None,
         today: date, kinds: tuple[str, ...], limit: int) -> None:
    table, anywhere, in_title = fts_expressions(terms)
    # A scope is intersected inside FTS5 (migration 0011): one token per jurisdiction in the
    # scope column, so the walk newest-first meets only this scope's matches instead of
    # mostly other villages'.  search_meta still checks the code below, so the results are
    # exactly what the check alone gives; the index just stops offering the others.
    in_scope = ""
    if codes and len(codes) <= SCOPE_TOKENS:
        tokens = dict.fromkeys(scope_token(c) for c in codes)
        in_scope = " AND {scope} : (" + " OR ".join(_quote(t) for t in tokens) + ")"
    where = [f"f.{table} MATCH :expr", "f.rowid BETWEEN :lo AND :hi", "+m.day <= :today"]
    params: dict = {"today": today.isoformat(), "k": max(CANDIDATES, limit)}
    if codes is not None:
        where.append("+m.code IN (" + ",".join(f":c{i}" for i in range(len(codes))) + ")"
                     if codes else "0")
        params.update({f"c{i}": c for i, c in enumerate(codes)})
    # The index is walked newest-first and stops at :k rows, so a very common term costs no
    # more than a rare one; only rowids come from FTS5, the rest from the small meta rows.
    # A scoped search checks scope and date in the narrow covering index search_meta_scope
    # (migration 0010), one seek per candidate ("+" keeps SQLite from turning the IN list
    # into one seek per code), and reads the wide meta row only for the :k rows returned.
    # Unscoped, nearly every candidate is kept, and the plain primary-key join is cheaper.
    hint = "INDEXED BY search_meta_scope" if codes is not None else ""
    sql = (f"SELECT f.rowid AS rowid, m.title, m.py, m.pyi, m.until FROM {table} f "
           f"JOIN search_meta m {hint} ON m.id = f.rowid "
           f"WHERE {' AND '.join(where)} ORDER BY f.rowid DESC LIMIT :k")
    found: dict[int, dict] = {}
    day = today.isoformat()

    def collect(kind: str, expr: str) -> int:
        lo = KIND_BASE[kind]
        rows = conn.execute(sql, {**params, "expr": f"({expr}){in_scope}" if in_scope else expr,
                                  "lo": lo, "hi": lo + KIND_SPAN - 1}).fetchall()
        for r in rows:
            if r["rowid"] not in found:
                found[r["rowid"]] = {"rowid": r["rowid"], "kind": kind,
                                     "tier": _tier(terms, _SPLIT_KEEP_SEP.sub("", r["title"]), r["py"], r["pyi"]),
                                     "past": bool(r["until"]) and r["until"] < day}
        return len(rows)

    for kind in kinds:
        if collect(kind, in_title) == params["k"]:
            result.capped = True
    # Matches in the body only rank below every title match: look for them only when the
    # titles did not already fill the page (pinyin terms search the title columns only,
    # so for them the second pass would repeat the first).
    if len(found) < limit and anywhere != in_title:
        for kind in kinds:
            if collect(kind, anywhere) == params["k"]:
                result.capped = True
    # Within a tier: live before past; guides first among title matches (what to do), then
    # catalogue and village items, then notices; newest first.
    order = {k: n for n, k in enumerate(KIND_ORDER)}
    ranked = sorted(found.values(), key=lambda c: (
        c["tier"], c["past"], order[c["kind"]] if c["tier"] < 3 else 0, -c["rowid"]))
    if len(ranked) > limit:
        result.capped = True
    result.hits = _hits(conn, ranked[:limit], terms)


def _hits(conn: sqlite3.Connection, ranked: list[dict], terms: list[Term]) -> list[Hit]:
    if not ranked:
        return []
    rows = {r["id"]: r for r in conn.execute(
        "SELECT id, label, meta, code, day, syl FROM search_meta WHERE id IN ("
        + ",".join("?" * len(ranked)) + ")", [c["rowid"] for c in ranked])}
    # Snippets come from the original prose of each kind (the index's body is several fields
    # run together, normalized): the first field that holds a term, else the first one written.
    originals: dict[int, str] = {}
    for kind in {c["kind"] for c in ranked}:
        ids = [c["rowid"] - KIND_BASE[kind] for c in ranked if c["kind"] == kind]
        table, columns = READABLE[kind]
        for r in conn.execute(
                f"SELECT id, {', '.join(columns)} FROM {table} WHERE id IN ("
                + ",".join("?" * len(ids)) + ")", ids):
            texts = [t for t in r[1:] if t and t.strip()]
            hit = next((t for t in texts if any(term.text in normalize(t) for term in terms)), None)
            originals[KIND_BASE[kind] + r[0]] = hit or (texts[0] if texts else "")
    names = dict(conn.execute(
        "SELECT code, name FROM jurisdiction WHERE code IN ("
        + ",".join("?" * len(rows)) + ")", [r["code"] for r in rows.values()]).fetchall())
    hits = []
    for c in ranked:
        r = rows.get(c["rowid"])
        if r is None:
            continue
        ref = c["rowid"] - KIND_BASE[c["kind"]]
        hits.append(Hit(
            kind=c["kind"], id=ref, url=KIND_URLS[c["kind"]].format(ref), title=r["label"],
            title_html=highlight(r["label"], terms, r["syl"]),
            snippet_html=snippet(originals.get(c["rowid"], ""), terms),
            meta=r["meta"], code=r["code"], jurisdiction_name=names.get(r["code"], ""),
            day=r["day"] if c["kind"] == "notice" else "", past=c["past"], tier=c["tier"]))
    return hits


# ---------------------------------------------------------------- highlighting

# (full form, short form, its initials, its full pinyin) of every alias.
_ALIAS_FORMS = tuple((long_form, short, "".join(s[0] for s in ALIAS_SYLLABLES[short]),
                      "".join(ALIAS_SYLLABLES[short])) for long_form, short in ALIASES.items())


def match_spans(text: str, terms: list[Term], syl: str | None = None) -> list[tuple[int, int]]:
    """Character spans of ``text`` matching any term, directly or through pinyin; merged.

    ``syl``: the text's ``title_syllables`` as the index stored them (search_meta.syl), so
    that a pinyin term needs no pinyin dictionary here; without it they are computed.
    """
    compact, compact_owner = _compact(text)
    spans: list[tuple[int, int]] = []

    def find_all(hay: str, needle: str, index: list[int], starts: set[int] | None = None) -> None:
        start = hay.find(needle)
        while start != -1 and needle:
            if starts is None or start in starts:
                spans.append((index[start], index[start + len(needle) - 1] + 1))
            start = hay.find(needle, start + 1)

    sylls: tuple[str, ...] = ()
    if any(t.pinyin for t in terms):
        stored = _stored_syllables(syl, compact) if syl is not None else None
        sylls = stored if stored is not None else syllables(compact)
    initials = "".join(s[0] for s in sylls if s)
    initials_owner = [compact_owner[k] for k, s in enumerate(sylls) if s]
    full = "".join(sylls)
    full_owner = [compact_owner[k] for k, s in enumerate(sylls) for _ in s]
    full_starts, pos = set(), 0
    for s_ in sylls:
        if s_:
            full_starts.add(pos)
            pos += len(s_)
    for t in terms:
        find_all(compact, t.text, compact_owner)
        if t.pinyin:
            find_all(initials, t.text, initials_owner)
            if len(t.text) >= 3:   # full pinyin from a syllable start: gs is not zhanG Shen
                find_all(full, t.text, full_owner, full_starts)
        for long_form, short, short_initials, short_full in _ALIAS_FORMS:
            # 低保 / db found through 最低生活保障
            if len(t.text) >= 2 and (t.text in short or t.pinyin and (
                    t.text in short_initials or t.text in short_full)):
                find_all(compact, long_form, compact_owner)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _marked(text: str, spans: list[tuple[int, int]]) -> Markup:
    # Every piece of text goes through escape(); joined as plain strings (one Markup at the
    # end rather than one per piece: this runs twice for each of up to 30 hits).
    out, pos = [], 0
    for a, b in spans:
        out += (escape(text[pos:a]), "<mark>", escape(text[a:b]), "</mark>")
        pos = b
    out.append(escape(text[pos:]))
    return Markup("".join(out))


def highlight(text: str, terms: list[Term], syl: str | None = None) -> Markup:
    """``text`` HTML-escaped with matches in <mark> (``syl``: see ``match_spans``)."""
    return _marked(text, match_spans(text, terms, syl))


_SENTENCE_END = "。！？；"


def snippet(body: str, terms: list[Term]) -> Markup:
    """A short window of the body around its first text match (or its start), highlighted;
    it starts at a sentence when one begins shortly before the match and ends at one when
    that is near, so it reads as a sentence rather than a cut-out."""
    body = " ".join((body or "").split())
    norm = normalize(body)
    found = [p for p in (norm.find(t.text) for t in terms) if p >= 0] if len(norm) == len(body) else []
    if found:
        a = max(0, min(found) - SNIPPET)
        b = min(len(body), min(found) + SNIPPET * 2)
        start = max(body.rfind(ch, a, min(found)) for ch in _SENTENCE_END)
        if start >= 0:
            a = start + 1
    else:
        a, b = 0, min(len(body), SNIPPET * 2)
    if b < len(body):
        ends = [p for p in (body.find(ch, b, b + SNIPPET) for ch in _SENTENCE_END) if p >= 0]
        if ends:
            b = min(ends) + 1
    html = highlight(body[a:b], [Term(t.text, False) for t in terms])
    return (Markup("…") if a > 0 else Markup("")) + html + (Markup("…") if b < len(body) else Markup(""))
