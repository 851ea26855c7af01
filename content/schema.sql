-- Baseline schema (version 1). Later changes live in migrations/NNNN_*.sql;
-- never edit this file once released: add a migration instead.
--
-- Conventions:
--  * dates are ISO 8601 text ('YYYY-MM-DD'), timestamps are UTC 'YYYY-MM-DDTHH:MM:SSZ';
--  * JSON columns hold UTF-8 JSON text (lists / objects), checked with json_valid;
--  * content rows carry status + rev; every edit writes a row to revision and
--    nothing published is ever hard-deleted (withdrawal sets status='withdrawn').

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);

CREATE TABLE jurisdiction (
    code        TEXT PRIMARY KEY CHECK (length(code) = 12 AND code NOT GLOB '*[^0-9]*'),
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('county', 'township', 'village')),
    parent_code TEXT REFERENCES jurisdiction(code),
    kind        TEXT NOT NULL DEFAULT '',      -- 县 / 镇 / 乡 / 街道 / 村 / 社区
    sort        INTEGER NOT NULL DEFAULT 0,
    CHECK ((level = 'county') = (parent_code IS NULL))
);
CREATE INDEX jurisdiction_parent ON jurisdiction(parent_code, sort);

CREATE TABLE domain (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    departments TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(departments)),
    pilot       INTEGER NOT NULL DEFAULT 1,    -- 1 = one of the 26 pilot domains
    sort        INTEGER NOT NULL DEFAULT 0
);

-- A matter is the shared key that aligns what several levels disclose about
-- the same thing (e.g. 耕地地力保护补贴发放名单).
CREATE TABLE matter (
    id             INTEGER PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL,
    domain_id      INTEGER REFERENCES domain(id),
    description    TEXT NOT NULL DEFAULT '',
    levels         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(levels)),        -- levels expected to publish
    key_columns    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(key_columns)),   -- table columns identifying a row
    time_limit_text TEXT NOT NULL DEFAULT '',
    time_limit     TEXT CHECK (time_limit IS NULL OR json_valid(time_limit)),
    status         TEXT NOT NULL DEFAULT 'published'
                   CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    rev            INTEGER NOT NULL DEFAULT 1,
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- One row of a standard catalogue (基层政务公开事项标准目录).
CREATE TABLE catalogue_item (
    id                INTEGER PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    domain_id         INTEGER NOT NULL REFERENCES domain(id),
    matter_id         INTEGER REFERENCES matter(id),
    seq               INTEGER NOT NULL DEFAULT 0,          -- 序号
    level1            TEXT NOT NULL,                       -- 一级事项
    level2            TEXT NOT NULL DEFAULT '',            -- 二级事项
    content_elements  TEXT NOT NULL DEFAULT '',            -- 公开内容(要素)
    basis             TEXT NOT NULL DEFAULT '',            -- 公开依据
    time_limit_text   TEXT NOT NULL DEFAULT '',            -- 公开时限, as written
    time_limit        TEXT CHECK (time_limit IS NULL OR json_valid(time_limit)), -- parsed form
    publisher         TEXT NOT NULL DEFAULT '',            -- 公开主体
    channels          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(channels)),   -- 公开渠道和载体
    audience          TEXT NOT NULL DEFAULT '全社会' CHECK (audience IN ('全社会', '特定群体')),
    mode              TEXT NOT NULL DEFAULT '主动' CHECK (mode IN ('主动', '依申请公开')),
    levels            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(levels)),     -- 公开层级: 县级/乡级/村级
    online_url        TEXT NOT NULL DEFAULT '',
    review_by         TEXT,                                -- 定期评估 date
    status            TEXT NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    rev               INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX catalogue_item_domain ON catalogue_item(domain_id, jurisdiction_code, seq);
CREATE INDEX catalogue_item_jurisdiction ON catalogue_item(jurisdiction_code, status);
CREATE INDEX catalogue_item_matter ON catalogue_item(matter_id);

-- One row of a village-affairs list (村务公开事项清单).
CREATE TABLE village_item (
    id                INTEGER PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    category          TEXT NOT NULL,           -- 脱贫攻坚, 乡村振兴, 村级财务, ...
    title             TEXT NOT NULL,
    content           TEXT NOT NULL DEFAULT '',
    time_limit_text   TEXT NOT NULL DEFAULT '',
    time_limit        TEXT CHECK (time_limit IS NULL OR json_valid(time_limit)),
    frequency         TEXT NOT NULL DEFAULT '',  -- 每季度 / 每月 / 随时
    responsible       TEXT NOT NULL DEFAULT '',  -- 公开主体
    channels          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(channels)),
    matter_id         INTEGER REFERENCES matter(id),
    seq               INTEGER NOT NULL DEFAULT 0,
    review_by         TEXT,
    status            TEXT NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    rev               INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX village_item_jurisdiction ON village_item(jurisdiction_code, status, seq);
CREATE INDEX village_item_matter ON village_item(matter_id);

-- 公示 / 公告 / 信息.  jurisdiction_code is who publishes; subject_code is the
-- area it is about (a township may publish a list for one of its villages).
CREATE TABLE notice (
    id                INTEGER PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    subject_code      TEXT NOT NULL REFERENCES jurisdiction(code),
    domain_id         INTEGER REFERENCES domain(id),
    item_id           INTEGER REFERENCES catalogue_item(id),
    village_item_id   INTEGER REFERENCES village_item(id),
    matter_id         INTEGER REFERENCES matter(id),
    kind              TEXT NOT NULL DEFAULT '公示' CHECK (kind IN ('公示', '公告', '信息')),
    title             TEXT NOT NULL,
    body              TEXT NOT NULL DEFAULT '',
    publisher         TEXT NOT NULL DEFAULT '',
    fields            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(fields)),        -- key figures / facts
    table_columns     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(table_columns)),
    table_rows        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(table_rows)),
    formed_on         TEXT,                      -- 信息形成或变更日期
    published_at      TEXT,
    period_start      TEXT,                      -- 公示期
    period_end        TEXT,
    expires_on        TEXT,
    priority          TEXT NOT NULL DEFAULT '普通' CHECK (priority IN ('普通', '重要', '紧急')),
    online_url        TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    rev               INTEGER NOT NULL DEFAULT 1,
    created_by        INTEGER REFERENCES user(id),
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX notice_jurisdiction ON notice(jurisdiction_code, status, published_at);
CREATE INDEX notice_subject ON notice(subject_code, status);
CREATE INDEX notice_matter ON notice(matter_id, status);
CREATE INDEX notice_period ON notice(status, period_end);

CREATE TABLE attachment (
    id         INTEGER PRIMARY KEY,
    notice_id  INTEGER NOT NULL REFERENCES notice(id),
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
    mime       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX attachment_notice ON attachment(notice_id);

-- 办事指南
CREATE TABLE guide (
    id                INTEGER PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    domain_id         INTEGER REFERENCES domain(id),
    item_id           INTEGER REFERENCES catalogue_item(id),
    title             TEXT NOT NULL,
    summary           TEXT NOT NULL DEFAULT '',
    conditions        TEXT NOT NULL DEFAULT '',                                  -- 办理条件
    materials         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(materials)),  -- [{name, spec, copies, note}]
    steps             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(steps)),      -- ["...", ...]
    office            TEXT NOT NULL DEFAULT '',
    address           TEXT NOT NULL DEFAULT '',
    hours             TEXT NOT NULL DEFAULT '',
    phone             TEXT NOT NULL DEFAULT '',
    fee               TEXT NOT NULL DEFAULT '',
    time_limit_text   TEXT NOT NULL DEFAULT '',
    basis             TEXT NOT NULL DEFAULT '',
    online_url        TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    rev               INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX guide_domain ON guide(domain_id, status);

-- 办事一本通: "one thing" bundles of guides.
CREATE TABLE handbook (
    id                INTEGER PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    title             TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    rev               INTEGER NOT NULL DEFAULT 1,
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE handbook_guide (
    handbook_id INTEGER NOT NULL REFERENCES handbook(id),
    guide_id    INTEGER NOT NULL REFERENCES guide(id),
    sort        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (handbook_id, guide_id)
);

CREATE TABLE user (
    id                INTEGER PRIMARY KEY,
    username          TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL,
    display_name      TEXT NOT NULL DEFAULT '',
    role              TEXT NOT NULL CHECK (role IN ('county_admin', 'township_editor',
                                                    'village_editor', 'village_supervisor')),
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    active            INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Every version of every content row, drafts included.
CREATE TABLE revision (
    id         INTEGER PRIMARY KEY,
    entity     TEXT NOT NULL,          -- table name
    entity_id  INTEGER NOT NULL,
    rev        INTEGER NOT NULL,
    data       TEXT NOT NULL CHECK (json_valid(data)),
    state      TEXT NOT NULL DEFAULT 'published',
    author_id  INTEGER REFERENCES user(id),
    note       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (entity, entity_id, rev)
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    user_id    INTEGER REFERENCES user(id),
    username   TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL DEFAULT '',
    entity_id  TEXT NOT NULL DEFAULT '',
    before     TEXT CHECK (before IS NULL OR json_valid(before)),
    after      TEXT CHECK (after IS NULL OR json_valid(after)),
    remote     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_at ON audit_log(at);

-- Records residents create; they carry a UUID so that they travel upstream
-- exactly once (see sync/).
CREATE TABLE application (
    uuid              TEXT PRIMARY KEY,
    receipt_no        TEXT NOT NULL UNIQUE,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    applicant_type    TEXT NOT NULL,
    applicant_subtype TEXT NOT NULL DEFAULT '',
    name              TEXT NOT NULL,
    id_type           TEXT NOT NULL DEFAULT '',
    id_number         TEXT NOT NULL DEFAULT '',
    phone             TEXT NOT NULL,
    address           TEXT NOT NULL DEFAULT '',
    email             TEXT NOT NULL DEFAULT '',
    description       TEXT NOT NULL,
    doc_number        TEXT NOT NULL DEFAULT '',
    provision_form    TEXT NOT NULL DEFAULT '',
    delivery          TEXT NOT NULL DEFAULT '',
    stage             TEXT NOT NULL DEFAULT '登记',
    outcome           TEXT NOT NULL DEFAULT '',
    received_on       TEXT NOT NULL,
    due_on            TEXT,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE feedback (
    uuid              TEXT PRIMARY KEY,
    jurisdiction_code TEXT REFERENCES jurisdiction(code),
    target_type       TEXT NOT NULL CHECK (target_type IN ('guide', 'item', 'village_item', 'notice')),
    target_id         INTEGER NOT NULL,
    rating            TEXT NOT NULL CHECK (rating IN ('满意', '基本满意', '不满意')),
    comment           TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX feedback_target ON feedback(target_type, target_id);

CREATE TABLE consultation (
    id                INTEGER PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    domain_id         INTEGER REFERENCES domain(id),
    title             TEXT NOT NULL,
    body              TEXT NOT NULL DEFAULT '',
    opens_on          TEXT NOT NULL,
    closes_on         TEXT NOT NULL,
    result_summary    TEXT NOT NULL DEFAULT '',   -- 采纳情况, published after closing
    status            TEXT NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    rev               INTEGER NOT NULL DEFAULT 1,
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE consultation_response (
    uuid            TEXT PRIMARY KEY,
    consultation_id INTEGER NOT NULL REFERENCES consultation(id),
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
