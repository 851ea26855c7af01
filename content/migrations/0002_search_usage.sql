-- Search indexes kept current by triggers, and anonymous usage counts.
--
-- The triggers call search_norm / search_title / search_py / search_pyi / search_chars, deterministic
-- functions that content.db.connect registers on every connection (content/search.py says
-- why).  Only published rows are indexed; a row's rowid in the indexes is
-- KIND_BASE + id (item 1e12, village_item 2e12, guide 3e12, notice 4e12).

-- What each published content row contributes to search, one definition for triggers and rebuilds.
CREATE VIEW search_src AS
SELECT 'item' AS kind, i.id AS id, 1000000000000 + i.id AS doc_id,
       trim(i.level1 || ' ' || i.level2) AS label,
       i.content_elements || ' ' || i.publisher || ' ' || coalesce(d.name, '') AS body,
       coalesce(d.name, '') AS meta, i.jurisdiction_code AS code, '' AS day, '' AS until
FROM catalogue_item i LEFT JOIN domain d ON d.id = i.domain_id
WHERE i.status = 'published'
UNION ALL
SELECT 'village_item', v.id, 2000000000000 + v.id,
       v.title,
       v.content || ' ' || v.category || ' ' || v.responsible,
       v.category, v.jurisdiction_code, '', ''
FROM village_item v
WHERE v.status = 'published'
UNION ALL
SELECT 'guide', g.id, 3000000000000 + g.id,
       g.title,
       g.summary || ' ' || g.conditions || ' ' || g.office || ' ' || coalesce(d.name, '') || ' '
         || coalesce((SELECT group_concat(json_extract(m.value, '$.name'), ' ')
                      FROM json_each(g.materials) m), ''),
       coalesce(d.name, ''), g.jurisdiction_code, '', ''
FROM guide g LEFT JOIN domain d ON d.id = g.domain_id
WHERE g.status = 'published'
UNION ALL
-- Table rows of notices (names, amounts) are deliberately not indexed: nobody should find a
-- person by typing a name on a public screen.
SELECT 'notice', n.id, 4000000000000 + n.id,
       n.title,
       n.body || ' ' || n.publisher,
       n.kind, n.jurisdiction_code,
       coalesce(substr(n.published_at, 1, 10), '9999-12-31'),
       coalesce(min(n.period_end, n.expires_on), n.period_end, n.expires_on, '')
FROM notice n
WHERE n.status = 'published';

-- 3+ characters: title, body, full pinyin and initials of the title.
CREATE VIRTUAL TABLE search_fts USING fts5(title, body, py, pyi, tokenize = 'trigram');

-- 1–2 characters: every character a token, matched as phrases.
CREATE VIRTUAL TABLE search_short USING fts5(title, body, pyi, tokenize = 'unicode61');

-- What filtering, ranking and the result list need, in small rows: reading it per candidate
-- is much cheaper than reading the FTS tables' stored text.
CREATE TABLE search_meta (
    id    INTEGER PRIMARY KEY,      -- the rowid in both indexes
    code  TEXT NOT NULL,            -- jurisdiction
    day   TEXT NOT NULL,            -- notices: publication day ('' for the others)
    until TEXT NOT NULL,            -- notices: end of publicity period or validity ('' = open)
    title TEXT NOT NULL,            -- normalized title and aliases, as indexed
    py    TEXT NOT NULL,
    pyi   TEXT NOT NULL,
    label TEXT NOT NULL,            -- the title as written
    meta  TEXT NOT NULL             -- domain, category or notice kind
);

INSERT INTO search_fts(rowid, title, body, py, pyi)
SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
FROM search_src;
INSERT INTO search_short(rowid, title, body, pyi)
SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
FROM search_src;
INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
FROM search_src;

-- catalogue_item
CREATE TRIGGER search_item_ai AFTER INSERT ON catalogue_item BEGIN
    INSERT INTO search_fts(rowid, title, body, py, pyi)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
    FROM search_src WHERE kind = 'item' AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
    FROM search_src WHERE kind = 'item' AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
    FROM search_src WHERE kind = 'item' AND id = NEW.id;
END;
CREATE TRIGGER search_item_ad AFTER DELETE ON catalogue_item BEGIN
    DELETE FROM search_fts WHERE rowid = 1000000000000 + OLD.id;
    DELETE FROM search_short WHERE rowid = 1000000000000 + OLD.id;
    DELETE FROM search_meta WHERE id = 1000000000000 + OLD.id;
END;
CREATE TRIGGER search_item_au AFTER UPDATE ON catalogue_item BEGIN
    DELETE FROM search_fts WHERE rowid = 1000000000000 + OLD.id;
    DELETE FROM search_short WHERE rowid = 1000000000000 + OLD.id;
    DELETE FROM search_meta WHERE id = 1000000000000 + OLD.id;
    INSERT INTO search_fts(rowid, title, body, py, pyi)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
    FROM search_src WHERE kind = 'item' AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
    FROM search_src WHERE kind = 'item' AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
    FROM search_src WHERE kind = 'item' AND id = NEW.id;
END;

-- village_item
CREATE TRIGGER search_village_item_ai AFTER INSERT ON village_item BEGIN
    INSERT INTO search_fts(rowid, title, body, py, pyi)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
    FROM search_src WHERE kind = 'village_item' AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
    FROM search_src WHERE kind = 'village_item' AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
    FROM search_src WHERE kind = 'village_item' AND id = NEW.id;
END;
CREATE TRIGGER search_village_item_ad AFTER DELETE ON village_item BEGIN
    DELETE FROM search_fts WHERE rowid = 2000000000000 + OLD.id;
    DELETE FROM search_short WHERE rowid = 2000000000000 + OLD.id;
    DELETE FROM search_meta WHERE id = 2000000000000 + OLD.id;
END;
CREATE TRIGGER search_village_item_au AFTER UPDATE ON village_item BEGIN
    DELETE FROM search_fts WHERE rowid = 2000000000000 + OLD.id;
    DELETE FROM search_short WHERE rowid = 2000000000000 + OLD.id;
    DELETE FROM search_meta WHERE id = 2000000000000 + OLD.id;
    INSERT INTO search_fts(rowid, title, body, py, pyi)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
    FROM search_src WHERE kind = 'village_item' AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
    FROM search_src WHERE kind = 'village_item' AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
    FROM search_src WHERE kind = 'village_item' AND id = NEW.id;
END;

-- guide
CREATE TRIGGER search_guide_ai AFTER INSERT ON guide BEGIN
    INSERT INTO search_fts(rowid, title, body, py, pyi)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
    FROM search_src WHERE kind = 'guide' AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
    FROM search_src WHERE kind = 'guide' AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
    FROM search_src WHERE kind = 'guide' AND id = NEW.id;
END;
CREATE TRIGGER search_guide_ad AFTER DELETE ON guide BEGIN
    DELETE FROM search_fts WHERE rowid = 3000000000000 + OLD.id;
    DELETE FROM search_short WHERE rowid = 3000000000000 + OLD.id;
    DELETE FROM search_meta WHERE id = 3000000000000 + OLD.id;
END;
CREATE TRIGGER search_guide_au AFTER UPDATE ON guide BEGIN
    DELETE FROM search_fts WHERE rowid = 3000000000000 + OLD.id;
    DELETE FROM search_short WHERE rowid = 3000000000000 + OLD.id;
    DELETE FROM search_meta WHERE id = 3000000000000 + OLD.id;
    INSERT INTO search_fts(rowid, title, body, py, pyi)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
    FROM search_src WHERE kind = 'guide' AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
    FROM search_src WHERE kind = 'guide' AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
    FROM search_src WHERE kind = 'guide' AND id = NEW.id;
END;

-- notice
CREATE TRIGGER search_notice_ai AFTER INSERT ON notice BEGIN
    INSERT INTO search_fts(rowid, title, body, py, pyi)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
    FROM search_src WHERE kind = 'notice' AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
    FROM search_src WHERE kind = 'notice' AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
    FROM search_src WHERE kind = 'notice' AND id = NEW.id;
END;
CREATE TRIGGER search_notice_ad AFTER DELETE ON notice BEGIN
    DELETE FROM search_fts WHERE rowid = 4000000000000 + OLD.id;
    DELETE FROM search_short WHERE rowid = 4000000000000 + OLD.id;
    DELETE FROM search_meta WHERE id = 4000000000000 + OLD.id;
END;
CREATE TRIGGER search_notice_au AFTER UPDATE ON notice BEGIN
    DELETE FROM search_fts WHERE rowid = 4000000000000 + OLD.id;
    DELETE FROM search_short WHERE rowid = 4000000000000 + OLD.id;
    DELETE FROM search_meta WHERE id = 4000000000000 + OLD.id;
    INSERT INTO search_fts(rowid, title, body, py, pyi)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
    FROM search_src WHERE kind = 'notice' AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
    FROM search_src WHERE kind = 'notice' AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
    FROM search_src WHERE kind = 'notice' AND id = NEW.id;
END;

-- Anonymous daily usage: views per item / village item / guide / notice / handbook, and
-- searches that found nothing (the query text only, long digit runs masked).
CREATE TABLE usage_view (
    day    TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('item', 'village_item', 'guide', 'notice', 'handbook')),
    ref_id INTEGER NOT NULL,
    views  INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0),
    PRIMARY KEY (day, kind, ref_id)
) WITHOUT ROWID;
CREATE INDEX usage_view_kind ON usage_view(kind, ref_id);

CREATE TABLE usage_search_miss (
    day   TEXT NOT NULL,
    query TEXT NOT NULL CHECK (length(query) BETWEEN 1 AND 64),
    count INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
    PRIMARY KEY (day, query)
) WITHOUT ROWID;
