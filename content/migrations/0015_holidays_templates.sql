-- 0015: the holiday calendar kept by staff, and village-list templates.
--
-- 1. The State Council's annual schedule (国务院办公厅关于某年部分节假日安排的通知):
--    one holiday_year row per schedule entered, its days in holiday_day
--    ('holiday' = 放假, 'workday' = 调休上班). A year with a row here is counted
--    from these days only (every other day Monday to Friday), whatever the
--    chinesecalendar library says. Both tables travel to terminals in bundles.
--    A schedule may list days of the year before (元旦 from 30 December), so
--    holiday_day.year is the schedule's year, not always the day's.
CREATE TABLE holiday_year (
    year       INTEGER PRIMARY KEY CHECK (year BETWEEN 1990 AND 2200),
    source     TEXT NOT NULL DEFAULT '',     -- e.g. 国办发明电〔2026〕7号
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE holiday_day (
    day  TEXT PRIMARY KEY CHECK (length(day) = 10 AND date(day) IS day),
    year INTEGER NOT NULL REFERENCES holiday_year(year),
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL DEFAULT ''            -- 春节, 国庆节 …
);
CREATE INDEX holiday_day_year ON holiday_day(year);

-- 2. Village-list templates (村务公开事项清单模板): a county or township keeps the
--    standard list once and sends it to villages as drafts. A later change of a
--    template item bumps its version; each village sees it as a suggestion
--    (village_template_use.seen_version behind the item's version) that it
--    accepts (a new draft of its own item) or dismisses. Nothing is deleted:
--    a removed item keeps its row with removed = 1.
CREATE TABLE village_template (
    id          INTEGER PRIMARY KEY,
    owner_code  TEXT NOT NULL REFERENCES jurisdiction(code),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX village_template_owner ON village_template(owner_code);

CREATE TABLE village_template_item (
    id              INTEGER PRIMARY KEY,
    template_id     INTEGER NOT NULL REFERENCES village_template(id),
    category        TEXT NOT NULL,
    title           TEXT NOT NULL,
    content         TEXT NOT NULL DEFAULT '',
    time_limit_text TEXT NOT NULL DEFAULT '',
    frequency       TEXT NOT NULL DEFAULT '',
    responsible     TEXT NOT NULL DEFAULT '',
    channels        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(channels)),
    seq             INTEGER NOT NULL DEFAULT 0,
    removed         INTEGER NOT NULL DEFAULT 0,
    version         INTEGER NOT NULL DEFAULT 1,   -- the template version it last changed in
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX village_template_item_template ON village_template_item(template_id, seq);

-- The villages a template was sent to.
CREATE TABLE village_template_target (
    template_id  INTEGER NOT NULL REFERENCES village_template(id),
    village_code TEXT NOT NULL REFERENCES jurisdiction(code),
    sent_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    sent_by      INTEGER REFERENCES user(id),
    PRIMARY KEY (template_id, village_code)
);
CREATE INDEX village_template_target_village ON village_template_target(village_code);

-- One template item in one village: the village's own item (NULL when the village
-- declined an addition), the template fields as last taken over or dismissed, and
-- the item version that was.
CREATE TABLE village_template_use (
    template_item_id INTEGER NOT NULL REFERENCES village_template_item(id),
    village_code     TEXT NOT NULL REFERENCES jurisdiction(code),
    village_item_id  INTEGER REFERENCES village_item(id),
    base             TEXT NOT NULL CHECK (json_valid(base)),
    seen_version     INTEGER NOT NULL,
    decided_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (template_item_id, village_code)
);
CREATE INDEX village_template_use_village ON village_template_use(village_code);
CREATE INDEX village_template_use_item ON village_template_use(village_item_id);
