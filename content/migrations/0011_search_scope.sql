-- Search: the jurisdiction inside the FTS indexes, and the title's pinyin for highlighting.
--
-- 1. A ``scope`` column in search_fts and search_short holds one token naming the
--    document's jurisdiction (search_scope(code): three characters from Unicode's
--    supplementary private use plane, which normalize() strips from every text and query,
--    so no resident's text can be or match one).  A scoped search adds
--    ``AND {scope} : ("…" OR …)`` to its MATCH, and FTS5 intersects the scope in C instead
--    of handing every other village's match to SQL to be turned down (docs/benchmarks.md).
--    Three characters are exactly one trigram: in search_fts, too, each code is a single
--    token with a short doclist, not a phrase of common trigrams such as "340".
-- 2. search_meta.syl: the title's pinyin, one syllable per letter, digit or Han character,
--    space-separated (search_syl(label)), so highlighting a pinyin match needs no pinyin
--    dictionary at query time.
--
-- Both FTS tables are made again (FTS5 cannot add a column) and the whole index is rebuilt
-- here from search_src, as migration 0002 first built it; the one trigger that defines
-- (re)indexing a document (0009's search_reindex) now fills the new columns too.

DROP TRIGGER search_reindex_doc;
DROP TABLE search_fts;
DROP TABLE search_short;

CREATE VIRTUAL TABLE search_fts USING fts5(title, body, py, pyi, scope, tokenize = 'trigram');
CREATE VIRTUAL TABLE search_short USING fts5(title, body, pyi, scope, tokenize = 'unicode61');

ALTER TABLE search_meta ADD COLUMN syl TEXT NOT NULL DEFAULT '';

DELETE FROM search_meta;
DELETE FROM search_pending;      -- a deferred build still under way: everything is built below

INSERT INTO search_fts(rowid, title, body, py, pyi, scope)
SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label),
       search_scope(code)
FROM search_src;
INSERT INTO search_short(rowid, title, body, pyi, scope)
SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label)),
       search_scope(code)
FROM search_src;
INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta, syl)
SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta,
       search_syl(label)
FROM search_src;
INSERT INTO search_fts(search_fts) VALUES ('optimize');
INSERT INTO search_short(search_short) VALUES ('optimize');

CREATE TRIGGER search_reindex_doc INSTEAD OF INSERT ON search_reindex
WHEN NOT EXISTS (SELECT 1 FROM search_pause)
BEGIN
    -- Also what makes INSERT OR REPLACE (sync) right: it removes the old row without
    -- firing delete triggers, and the insert trigger lands here.
    DELETE FROM search_fts WHERE rowid = (SELECT base FROM search_kind WHERE kind = NEW.kind) + NEW.id;
    DELETE FROM search_short WHERE rowid = (SELECT base FROM search_kind WHERE kind = NEW.kind) + NEW.id;
    DELETE FROM search_meta WHERE id = (SELECT base FROM search_kind WHERE kind = NEW.kind) + NEW.id;
    INSERT INTO search_fts(rowid, title, body, py, pyi, scope)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label),
           search_scope(code)
    FROM search_src WHERE kind = NEW.kind AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi, scope)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label)),
           search_scope(code)
    FROM search_src WHERE kind = NEW.kind AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta, syl)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta,
           search_syl(label)
    FROM search_src WHERE kind = NEW.kind AND id = NEW.id;
END;
