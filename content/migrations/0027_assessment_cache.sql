-- The assessment dashboard at county scale: what it keeps so it need not recompute
-- everything from every row on every page (content/assessment*.py).
--
-- 1. notice_digest: per notice, the normalised form of what alignment compares (fields
--    as normalised name → value, the table as one digest), filled by Python on the first
--    alignment that needs it and dropped here whenever the notice's fields or table change.
-- 2. alignment_verdict: per matter × village, the verdict of the last alignment, with the
--    notices it was computed from; dropped here when any notice of that matter about the
--    village (or a township/county above it) or the matter itself changes.
-- 3. usage_month / usage_terminal_month / usage_terminal_day: the anonymous daily view
--    counts rolled up as they arrive (per owning jurisdiction, month and domain; per
--    terminal, month and domain; per terminal and day),
--    so the usage figures read thousands of rows instead of every usage row of the county.
--    Attribution (owner, domain) is the viewed thing's when the count arrives; a change of
--    a thing's owner or domain marks the roll-up for a rebuild (assessment_state).
-- 4. data_version: a counter per table the figures read, bumped by every write, so a
--    cached figure is reused exactly until one of its inputs changes.

CREATE TABLE notice_digest (
    notice_id  INTEGER PRIMARY KEY,
    fields     TEXT NOT NULL DEFAULT '{}',      -- JSON: normalised field name -> normalised value
    has_table  INTEGER NOT NULL DEFAULT 0,
    table_sha  TEXT NOT NULL DEFAULT ''          -- sha256 of the normalised header and rows
);

CREATE TABLE alignment_verdict (
    matter_id     INTEGER NOT NULL,
    village_code  TEXT NOT NULL,
    inputs        TEXT NOT NULL,                -- the notices compared: level:id,...
    status        TEXT NOT NULL,                -- verdict on or before stale_after
    summary       TEXT NOT NULL,
    stale_after   TEXT,                         -- a lagging level's deadline (NULL: none lags)
    stale_status  TEXT,                         -- verdict after stale_after
    stale_summary TEXT,
    PRIMARY KEY (matter_id, village_code)
);

CREATE TRIGGER notice_digest_update AFTER UPDATE OF fields, table_columns, table_rows ON notice
BEGIN
    DELETE FROM notice_digest WHERE notice_id = OLD.id;
END;

-- A sync apply writes INSERT OR REPLACE: the replaced row's DELETE triggers do not fire.
CREATE TRIGGER notice_digest_insert AFTER INSERT ON notice
BEGIN
    DELETE FROM notice_digest WHERE notice_id = NEW.id;
END;

CREATE TRIGGER notice_digest_delete AFTER DELETE ON notice
BEGIN
    DELETE FROM notice_digest WHERE notice_id = OLD.id;
END;

-- The villages a notice about `subject` concerns: the subject itself (a village), its
-- villages (a township) or its townships' villages (the county).
CREATE TRIGGER alignment_verdict_notice_insert AFTER INSERT ON notice WHEN NEW.matter_id IS NOT NULL
BEGIN
    DELETE FROM alignment_verdict WHERE matter_id = NEW.matter_id AND (
        village_code = NEW.subject_code
        OR village_code IN (SELECT code FROM jurisdiction WHERE parent_code = NEW.subject_code)
        OR village_code IN (SELECT v.code FROM jurisdiction v JOIN jurisdiction t ON t.code = v.parent_code
                            WHERE t.parent_code = NEW.subject_code));
END;

CREATE TRIGGER alignment_verdict_notice_update AFTER UPDATE ON notice
WHEN OLD.matter_id IS NOT NULL OR NEW.matter_id IS NOT NULL
BEGIN
    DELETE FROM alignment_verdict WHERE matter_id IN (OLD.matter_id, NEW.matter_id) AND (
        village_code IN (OLD.subject_code, NEW.subject_code)
        OR village_code IN (SELECT code FROM jurisdiction WHERE parent_code IN (OLD.subject_code, NEW.subject_code))
        OR village_code IN (SELECT v.code FROM jurisdiction v JOIN jurisdiction t ON t.code = v.parent_code
                            WHERE t.parent_code IN (OLD.subject_code, NEW.subject_code)));
END;

CREATE TRIGGER alignment_verdict_notice_delete AFTER DELETE ON notice WHEN OLD.matter_id IS NOT NULL
BEGIN
    DELETE FROM alignment_verdict WHERE matter_id = OLD.matter_id AND (
        village_code = OLD.subject_code
        OR village_code IN (SELECT code FROM jurisdiction WHERE parent_code = OLD.subject_code)
        OR village_code IN (SELECT v.code FROM jurisdiction v JOIN jurisdiction t ON t.code = v.parent_code
                            WHERE t.parent_code = OLD.subject_code));
END;

CREATE TRIGGER alignment_verdict_matter AFTER UPDATE ON matter
BEGIN
    DELETE FROM alignment_verdict WHERE matter_id = OLD.id;
END;

CREATE TRIGGER alignment_verdict_jurisdiction AFTER UPDATE OF parent_code, level ON jurisdiction
BEGIN
    DELETE FROM alignment_verdict;
END;

-- Timeliness reads the notices formed in a period: from this index alone, without walking
-- each row past its table text.
CREATE INDEX notice_formed ON notice(formed_on, status, jurisdiction_code, published_at, item_id,
                                     village_item_id, matter_id, domain_id, title);

-- ------------------------------------------------------------------ usage roll-up

CREATE TABLE usage_month (                      -- views of a jurisdiction's content
    code      TEXT NOT NULL,                    -- owning jurisdiction of what was viewed ('' unknown)
    month     TEXT NOT NULL,                    -- YYYY-MM
    domain    TEXT NOT NULL,
    views     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (code, month, domain)
) WITHOUT ROWID;

CREATE TABLE usage_terminal_month (             -- views a terminal served
    terminal  TEXT NOT NULL,
    month     TEXT NOT NULL,
    domain    TEXT NOT NULL,
    views     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal, month, domain)
) WITHOUT ROWID;
-- Views per terminal and domain over a period: read in key order, no sort.
CREATE INDEX usage_terminal_month_domain ON usage_terminal_month(terminal, domain, month, views);

CREATE TABLE usage_terminal_day (
    terminal  TEXT NOT NULL,
    day       TEXT NOT NULL,
    views     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal, day)
) WITHOUT ROWID;

CREATE TABLE assessment_state (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO assessment_state(name, value) VALUES ('usage_rollup_dirty', 0), ('usage_rollup_paused', 0);

-- The owner and domain of a viewed thing, as content/assessment_usage.py attributes views.
CREATE VIEW usage_attribution AS
SELECT u.day, u.terminal, u.kind, u.ref_id, u.views,
       coalesce(i.jurisdiction_code, v.jurisdiction_code, g.jurisdiction_code,
                n.jurisdiction_code, h.jurisdiction_code, '') AS code,
       coalesce((SELECT name FROM domain WHERE id = coalesce(i.domain_id, g.domain_id,
                                                             n.domain_id, ni.domain_id)),
                CASE WHEN v.category IS NOT NULL THEN '村务·' || v.category END,
                CASE WHEN h.id IS NOT NULL THEN '办事一本通' END, '其他') AS domain
FROM usage_view u
LEFT JOIN catalogue_item i ON u.kind = 'item' AND i.id = u.ref_id
LEFT JOIN village_item v ON u.kind = 'village_item' AND v.id = u.ref_id
LEFT JOIN guide g ON u.kind = 'guide' AND g.id = u.ref_id
LEFT JOIN notice n ON u.kind = 'notice' AND n.id = u.ref_id
LEFT JOIN catalogue_item ni ON ni.id = n.item_id
LEFT JOIN handbook h ON u.kind = 'handbook' AND h.id = u.ref_id;

INSERT INTO usage_month(code, month, domain, views)
SELECT code, substr(day, 1, 7), domain, sum(views) FROM usage_attribution GROUP BY 1, 2, 3;
INSERT INTO usage_terminal_month(terminal, month, domain, views)
SELECT terminal, substr(day, 1, 7), domain, sum(views) FROM usage_attribution GROUP BY 1, 2, 3;
INSERT INTO usage_terminal_day(terminal, day, views)
SELECT terminal, day, sum(views) FROM usage_view GROUP BY terminal, day;

-- A bulk load pauses the per-row roll-up (assessment_usage.rollup_paused) and rebuilds it after.
CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage_view
WHEN (SELECT value FROM assessment_state WHERE name = 'usage_rollup_paused') = 0
BEGIN
    INSERT INTO usage_month(code, month, domain, views)
    SELECT a.code, substr(a.day, 1, 7), a.domain, a.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(code, month, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_month(terminal, month, domain, views)
    SELECT a.terminal, substr(a.day, 1, 7), a.domain, a.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(terminal, month, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_day(terminal, day, views) VALUES (NEW.terminal, NEW.day, NEW.views)
    ON CONFLICT(terminal, day) DO UPDATE SET views = views + excluded.views;
END;

CREATE TRIGGER usage_rollup_update AFTER UPDATE OF views ON usage_view
WHEN (SELECT value FROM assessment_state WHERE name = 'usage_rollup_paused') = 0
BEGIN
    INSERT INTO usage_month(code, month, domain, views)
    SELECT a.code, substr(a.day, 1, 7), a.domain, NEW.views - OLD.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(code, month, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_month(terminal, month, domain, views)
    SELECT a.terminal, substr(a.day, 1, 7), a.domain, NEW.views - OLD.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(terminal, month, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_day(terminal, day, views) VALUES (NEW.terminal, NEW.day, NEW.views - OLD.views)
    ON CONFLICT(terminal, day) DO UPDATE SET views = views + excluded.views;
END;

CREATE TRIGGER usage_rollup_delete AFTER DELETE ON usage_view
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;

CREATE TRIGGER usage_rollup_rekey AFTER UPDATE OF day, terminal, kind, ref_id ON usage_view
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;

-- A viewed thing changing owner or domain (or appearing after its counts) re-attributes
-- its views: the roll-up is rebuilt on the next read.
CREATE TRIGGER usage_rollup_item AFTER UPDATE OF jurisdiction_code, domain_id ON catalogue_item
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_village_item AFTER UPDATE OF jurisdiction_code, category ON village_item
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_guide AFTER UPDATE OF jurisdiction_code, domain_id ON guide
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_notice AFTER UPDATE OF jurisdiction_code, domain_id, item_id ON notice
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_handbook AFTER UPDATE OF jurisdiction_code ON handbook
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_domain AFTER UPDATE OF name ON domain
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_notice_new AFTER INSERT ON notice
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'notice' AND ref_id = NEW.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_notice_gone AFTER DELETE ON notice
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'notice' AND ref_id = OLD.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_item_new AFTER INSERT ON catalogue_item
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'item' AND ref_id = NEW.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_item_gone AFTER DELETE ON catalogue_item
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'item' AND ref_id = OLD.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_village_item_new AFTER INSERT ON village_item
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'village_item' AND ref_id = NEW.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_village_item_gone AFTER DELETE ON village_item
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'village_item' AND ref_id = OLD.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_guide_new AFTER INSERT ON guide
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'guide' AND ref_id = NEW.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_guide_gone AFTER DELETE ON guide
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'guide' AND ref_id = OLD.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_handbook_new AFTER INSERT ON handbook
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'handbook' AND ref_id = NEW.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;
CREATE TRIGGER usage_rollup_handbook_gone AFTER DELETE ON handbook
WHEN EXISTS (SELECT 1 FROM usage_view WHERE kind = 'handbook' AND ref_id = OLD.id)
BEGIN
    UPDATE assessment_state SET value = 1 WHERE name = 'usage_rollup_dirty';
END;

-- ------------------------------------------------------------------ data versions

CREATE TABLE data_version (
    name  TEXT PRIMARY KEY,                     -- a table the assessment figures read
    n     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO data_version(name) VALUES
    ('notice'), ('catalogue_item'), ('village_item'), ('guide'), ('matter'), ('application'),
    ('feedback'), ('usage_view'), ('usage_search_miss'), ('sync_terminal'), ('jurisdiction'),
    ('domain'), ('handbook'), ('holiday_day'), ('meta');

-- Every write to a table the figures read bumps its counter (content/assessment_cache.py).
CREATE TRIGGER data_version_notice_insert AFTER INSERT ON notice
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'notice'; END;
CREATE TRIGGER data_version_notice_update AFTER UPDATE ON notice
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'notice'; END;
CREATE TRIGGER data_version_notice_delete AFTER DELETE ON notice
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'notice'; END;
CREATE TRIGGER data_version_catalogue_item_insert AFTER INSERT ON catalogue_item
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'catalogue_item'; END;
CREATE TRIGGER data_version_catalogue_item_update AFTER UPDATE ON catalogue_item
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'catalogue_item'; END;
CREATE TRIGGER data_version_catalogue_item_delete AFTER DELETE ON catalogue_item
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'catalogue_item'; END;
CREATE TRIGGER data_version_village_item_insert AFTER INSERT ON village_item
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'village_item'; END;
CREATE TRIGGER data_version_village_item_update AFTER UPDATE ON village_item
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'village_item'; END;
CREATE TRIGGER data_version_village_item_delete AFTER DELETE ON village_item
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'village_item'; END;
CREATE TRIGGER data_version_guide_insert AFTER INSERT ON guide
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'guide'; END;
CREATE TRIGGER data_version_guide_update AFTER UPDATE ON guide
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'guide'; END;
CREATE TRIGGER data_version_guide_delete AFTER DELETE ON guide
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'guide'; END;
CREATE TRIGGER data_version_matter_insert AFTER INSERT ON matter
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'matter'; END;
CREATE TRIGGER data_version_matter_update AFTER UPDATE ON matter
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'matter'; END;
CREATE TRIGGER data_version_matter_delete AFTER DELETE ON matter
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'matter'; END;
CREATE TRIGGER data_version_application_insert AFTER INSERT ON application
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'application'; END;
CREATE TRIGGER data_version_application_update AFTER UPDATE ON application
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'application'; END;
CREATE TRIGGER data_version_application_delete AFTER DELETE ON application
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'application'; END;
CREATE TRIGGER data_version_feedback_insert AFTER INSERT ON feedback
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'feedback'; END;
CREATE TRIGGER data_version_feedback_update AFTER UPDATE ON feedback
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'feedback'; END;
CREATE TRIGGER data_version_feedback_delete AFTER DELETE ON feedback
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'feedback'; END;
CREATE TRIGGER data_version_usage_view_insert AFTER INSERT ON usage_view
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'usage_view'; END;
CREATE TRIGGER data_version_usage_view_update AFTER UPDATE ON usage_view
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'usage_view'; END;
CREATE TRIGGER data_version_usage_view_delete AFTER DELETE ON usage_view
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'usage_view'; END;
CREATE TRIGGER data_version_usage_search_miss_insert AFTER INSERT ON usage_search_miss
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'usage_search_miss'; END;
CREATE TRIGGER data_version_usage_search_miss_update AFTER UPDATE ON usage_search_miss
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'usage_search_miss'; END;
CREATE TRIGGER data_version_usage_search_miss_delete AFTER DELETE ON usage_search_miss
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'usage_search_miss'; END;
CREATE TRIGGER data_version_sync_terminal_insert AFTER INSERT ON sync_terminal
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'sync_terminal'; END;
CREATE TRIGGER data_version_sync_terminal_update AFTER UPDATE ON sync_terminal
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'sync_terminal'; END;
CREATE TRIGGER data_version_sync_terminal_delete AFTER DELETE ON sync_terminal
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'sync_terminal'; END;
CREATE TRIGGER data_version_jurisdiction_insert AFTER INSERT ON jurisdiction
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'jurisdiction'; END;
CREATE TRIGGER data_version_jurisdiction_update AFTER UPDATE ON jurisdiction
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'jurisdiction'; END;
CREATE TRIGGER data_version_jurisdiction_delete AFTER DELETE ON jurisdiction
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'jurisdiction'; END;
CREATE TRIGGER data_version_domain_insert AFTER INSERT ON domain
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'domain'; END;
CREATE TRIGGER data_version_domain_update AFTER UPDATE ON domain
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'domain'; END;
CREATE TRIGGER data_version_domain_delete AFTER DELETE ON domain
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'domain'; END;
CREATE TRIGGER data_version_handbook_insert AFTER INSERT ON handbook
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'handbook'; END;
CREATE TRIGGER data_version_handbook_update AFTER UPDATE ON handbook
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'handbook'; END;
CREATE TRIGGER data_version_handbook_delete AFTER DELETE ON handbook
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'handbook'; END;
CREATE TRIGGER data_version_holiday_day_insert AFTER INSERT ON holiday_day
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'holiday_day'; END;
CREATE TRIGGER data_version_holiday_day_update AFTER UPDATE ON holiday_day
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'holiday_day'; END;
CREATE TRIGGER data_version_holiday_day_delete AFTER DELETE ON holiday_day
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'holiday_day'; END;
CREATE TRIGGER data_version_meta_insert AFTER INSERT ON meta
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'meta'; END;
CREATE TRIGGER data_version_meta_update AFTER UPDATE ON meta
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'meta'; END;
CREATE TRIGGER data_version_meta_delete AFTER DELETE ON meta
BEGIN UPDATE data_version SET n = n + 1 WHERE name = 'meta'; END;
