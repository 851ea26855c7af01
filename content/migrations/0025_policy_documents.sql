-- Policy documents (政策文件) and their interpretations (政策解读).
--
-- A document is edited like every other noun (content.editing: revisions, review, audit,
-- the privacy guard).  Its interpretations, attachments and catalogue items are part of the
-- document's revision (virtual fields) and are written into their own tables when a
-- reviewer approves it, so a document and its 解读 are reviewed and released together
-- (content.policies).  An interpretation keeps its first publication time: one added later
-- is counted late by the assessment when it came out too long after its document.

CREATE TABLE policy_document (
    id                   INTEGER PRIMARY KEY,
    jurisdiction_code    TEXT NOT NULL REFERENCES jurisdiction(code),
    domain_id            INTEGER REFERENCES domain(id),
    doc_number           TEXT NOT NULL DEFAULT '',       -- 文号, e.g. 淮川政办〔2024〕12号
    issuer               TEXT NOT NULL DEFAULT '',       -- 发文机关
    title                TEXT NOT NULL,
    body                 TEXT NOT NULL DEFAULT '',
    written_on           TEXT,                           -- 成文日期
    issued_on            TEXT,                           -- 发布日期
    validity             TEXT NOT NULL DEFAULT '现行有效'
                         CHECK (validity IN ('现行有效', '失效', '废止')),
    lapsed_on            TEXT,                           -- the day it lapsed or was repealed
    disclosure           TEXT NOT NULL DEFAULT '主动公开'
                         CHECK (disclosure IN ('主动公开', '依申请公开', '不予公开')),
    withheld_reason      TEXT NOT NULL DEFAULT '',       -- legal reason when not 主动公开
    needs_interpretation INTEGER NOT NULL DEFAULT 0,     -- in the 解读 scope (解读范围)
    online_url           TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL DEFAULT 'draft'
                         CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    rev                  INTEGER NOT NULL DEFAULT 1,
    published_at         TEXT,                           -- first publication (UTC)
    created_by           INTEGER REFERENCES user(id),
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX policy_document_jurisdiction ON policy_document(jurisdiction_code, status, issued_on);

-- The catalogue items (公开事项) a document belongs to.
CREATE TABLE policy_document_item (
    document_id INTEGER NOT NULL REFERENCES policy_document(id),
    item_id     INTEGER NOT NULL REFERENCES catalogue_item(id),
    PRIMARY KEY (document_id, item_id)
);
CREATE INDEX policy_document_item_item ON policy_document_item(item_id);

-- 文字解读 / 简明问答 / 图解 / 明白卡 / 一封信.  ``key`` is stable across revisions.
CREATE TABLE policy_interpretation (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES policy_document(id),
    key          TEXT NOT NULL,
    form         TEXT NOT NULL CHECK (form IN ('文字解读', '简明问答', '图解', '明白卡', '一封信')),
    title        TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    qa           TEXT NOT NULL DEFAULT '[]',             -- JSON [{"q", "a"}] for 简明问答
    sort         INTEGER NOT NULL DEFAULT 0,
    published_at TEXT NOT NULL,                          -- first released (UTC)
    UNIQUE (document_id, key)
);

-- Files of a document, and the pictures of a 图解 / 明白卡 (``interpretation_key`` set).
CREATE TABLE policy_attachment (
    id                 INTEGER PRIMARY KEY,
    document_id        INTEGER NOT NULL REFERENCES policy_document(id),
    interpretation_key TEXT NOT NULL DEFAULT '',
    name               TEXT NOT NULL,
    sha256             TEXT NOT NULL CHECK (length(sha256) = 64),
    mime               TEXT NOT NULL,
    size               INTEGER NOT NULL,
    pictures           TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX policy_attachment_document ON policy_attachment(document_id);

-- Search: documents are found by 文号, title, body, issuer and the text of their Q&A cards.
-- The search_src view gains one arm; everything else of it is as migration 0002 made it.
DROP VIEW search_src;
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
SELECT 'notice', n.id, 4000000000000 + n.id,
       n.title,
       n.body || ' ' || n.publisher,
       n.kind, n.jurisdiction_code,
       coalesce(substr(n.published_at, 1, 10), '9999-12-31'),
       coalesce(min(n.period_end, n.expires_on), n.period_end, n.expires_on, '')
FROM notice n
WHERE n.status = 'published'
UNION ALL
-- Only what residents may read: 不予公开 documents never, the text of 依申请公开 ones not.
SELECT 'policy', p.id, 5000000000000 + p.id,
       p.title,
       p.doc_number || ' ' || p.issuer || ' '
         || CASE WHEN p.disclosure = '主动公开' THEN p.body || ' ' || coalesce(
              (SELECT group_concat(x.title || ' ' || x.body || ' ' || coalesce(
                        (SELECT group_concat(json_extract(c.value, '$.q') || ' '
                                             || json_extract(c.value, '$.a'), ' ')
                         FROM json_each(x.qa) c), ''), ' ')
               FROM policy_interpretation x WHERE x.document_id = p.id), '') ELSE '' END,
       p.issuer, p.jurisdiction_code, coalesce(substr(p.published_at, 1, 10), p.issued_on, ''), ''
FROM policy_document p
WHERE p.status = 'published' AND p.disclosure <> '不予公开';

INSERT INTO search_kind(kind, base, table_name) VALUES ('policy', 5000000000000, 'policy_document');

CREATE TRIGGER search_policy_ai AFTER INSERT ON policy_document BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('policy', NEW.id);
END;
CREATE TRIGGER search_policy_au AFTER UPDATE ON policy_document BEGIN
    INSERT INTO search_reindex(kind, id) SELECT 'policy', OLD.id WHERE OLD.id <> NEW.id;
    INSERT INTO search_reindex(kind, id) VALUES ('policy', NEW.id);
END;
CREATE TRIGGER search_policy_ad AFTER DELETE ON policy_document BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('policy', OLD.id);
END;
-- A document's Q&A text is part of its search entry.
CREATE TRIGGER search_policy_qa_ai AFTER INSERT ON policy_interpretation BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('policy', NEW.document_id);
END;
CREATE TRIGGER search_policy_qa_au AFTER UPDATE ON policy_interpretation BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('policy', NEW.document_id);
END;
CREATE TRIGGER search_policy_qa_ad AFTER DELETE ON policy_interpretation BEGIN
    INSERT INTO search_reindex(kind, id) VALUES ('policy', OLD.document_id);
END;
