-- Search index triggers from one definition, which bulk writers (sync) can pause, and a queue
-- of documents still to index after a big full load.
--
-- Migration 0002 had twelve near-identical triggers (three per content table), each repeating
-- the three index statements.  Now each content table's triggers only name the document
-- that changed, by inserting (kind, id) into the view search_reindex; its INSTEAD OF trigger
-- holds the one definition of what (re)indexing a document means.  Same statements as
-- before, so the index is exactly what 0002 built.
--
-- While search_pause holds its row, search_reindex does nothing: sync pauses indexing inside
-- its apply transaction and indexes the rows it changed itself, set-based
-- (content.search.index_docs), before the same COMMIT.  The pause row is never committed.

DROP TRIGGER search_item_ai;
DROP TRIGGER search_item_ad;
DROP TRIGGER search_item_au;
DROP TRIGGER search_village_item_ai;
DROP TRIGGER search_village_item_ad;
DROP TRIGGER search_village_item_au;
DROP TRIGGER search_guide_ai;
DROP TRIGGER search_guide_ad;
DROP TRIGGER search_guide_au;
DROP TRIGGER search_notice_ai;
DROP TRIGGER search_notice_ad;
DROP TRIGGER search_notice_au;

-- Which content table feeds which kind of document, and the kind's rowid base in the indexes
-- (content.search.KIND_BASE and SOURCE_TABLES say the same; a test checks).
CREATE TABLE search_kind (
    kind       TEXT PRIMARY KEY,
    base       INTEGER NOT NULL UNIQUE,
    table_name TEXT NOT NULL UNIQUE
);
INSERT INTO search_kind(kind, base, table_name) VALUES
    ('item', 1000000000000, 'catalogue_item'),
    ('village_item', 2000000000000, 'village_item'),
    ('guide', 3000000000000, 'guide'),
    ('notice', 4000000000000, 'notice');

-- A row here (only ever inside a bulk writer's transaction) pauses the triggers.
CREATE TABLE search_pause (
    one INTEGER PRIMARY KEY CHECK (one = 1)
);

-- Documents (index rowids) whose entries are still to be built after a big full load.
CREATE TABLE search_pending (
    id INTEGER PRIMARY KEY
);

CREATE VIEW search_reindex AS SELECT kind, 0 AS id FROM search_kind WHERE 0;

CREATE TRIGGER search_reindex_doc INSTEAD OF INSERT ON search_reindex
WHEN NOT EXISTS (SELECT 1 FROM search_pause)
BEGIN
    -- Also what makes INSERT OR REPLACE (sync) right: it removes the old row without
    -- firing delete triggers, and the insert trigger lands here.
    DELETE FROM search_fts WHERE rowid = (SELECT base FROM search_kind WHERE kind = NEW.kind) + NEW.id;
    DELETE FROM search_short WHERE rowid = (SELECT base FROM search_kind WHERE kind = NEW.kind) + NEW.id;
    DELETE FROM search_meta WHERE id = (SELECT base FROM search_kind WHERE kind = NEW.kind) + NEW.id;
    INSERT INTO search_fts(rowid, title, body, py, pyi)
    SELECT doc_id, search_title(label), search_norm(body), search_py(label), search_pyi(label)
    FROM search_src WHERE kind = NEW.kind AND id = NEW.id;
    INSERT INTO search_short(rowid, title, body, pyi)
    SELECT doc_id, search_chars(search_title(label)), search_chars(body), search_chars(search_pyi(label))
    FROM search_src WHERE kind = NEW.kind AND id = NEW.id;
    INSERT INTO search_meta(id, code, day, until, title, py, pyi, label, meta)
    SELECT doc_id, code, day, until, search_title(label), search_py(label), search_pyi(label), label, meta
    FROM search_src WHERE kind = NEW.kind AND id = NEW.id;
END;

-- Per content table: only which document changed.  An update that changes the id drops the
-- old document (its source row is gone, so nothing is re-inserted for it).
CREATE TRIGGER search_item_ai AFTER INSERT ON catalogue_item BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('item', NEW.id);
END;
CREATE TRIGGER search_item_au AFTER UPDATE ON catalogue_item BEGIN
    INSERT INTO search_reindex(kind, id) SELECT 'item', OLD.id WHERE OLD.id <> NEW.id;
    INSERT INTO search_reindex(kind, id) VALUES ('item', NEW.id);
END;
CREATE TRIGGER search_item_ad AFTER DELETE ON catalogue_item BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('item', OLD.id);
END;

CREATE TRIGGER search_village_item_ai AFTER INSERT ON village_item BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('village_item', NEW.id);
END;
CREATE TRIGGER search_village_item_au AFTER UPDATE ON village_item BEGIN
    INSERT INTO search_reindex(kind, id) SELECT 'village_item', OLD.id WHERE OLD.id <> NEW.id;
    INSERT INTO search_reindex(kind, id) VALUES ('village_item', NEW.id);
END;
CREATE TRIGGER search_village_item_ad AFTER DELETE ON village_item BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('village_item', OLD.id);
END;

CREATE TRIGGER search_guide_ai AFTER INSERT ON guide BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('guide', NEW.id);
END;
CREATE TRIGGER search_guide_au AFTER UPDATE ON guide BEGIN
    INSERT INTO search_reindex(kind, id) SELECT 'guide', OLD.id WHERE OLD.id <> NEW.id;
    INSERT INTO search_reindex(kind, id) VALUES ('guide', NEW.id);
END;
CREATE TRIGGER search_guide_ad AFTER DELETE ON guide BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('guide', OLD.id);
END;

CREATE TRIGGER search_notice_ai AFTER INSERT ON notice BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('notice', NEW.id);
END;
CREATE TRIGGER search_notice_au AFTER UPDATE ON notice BEGIN
    INSERT INTO search_reindex(kind, id) SELECT 'notice', OLD.id WHERE OLD.id <> NEW.id;
    INSERT INTO search_reindex(kind, id) VALUES ('notice', NEW.id);
END;
CREATE TRIGGER search_notice_ad AFTER DELETE ON notice BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('notice', OLD.id);
END;
