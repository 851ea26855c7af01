-- 0006: citizen services — information-disclosure applications with their legal
-- clock, satisfaction ratings and public consultations.

-- Applications (依申请公开): what art. 29 asks for beyond the baseline columns,
-- and the state of the legal clock (art. 30 补正, art. 32 third party, art. 33 延期).
ALTER TABLE application ADD COLUMN title TEXT NOT NULL DEFAULT '';            -- 所需信息的名称
ALTER TABLE application ADD COLUMN purpose TEXT NOT NULL DEFAULT '';          -- 用途（选填）
ALTER TABLE application ADD COLUMN staff_assisted INTEGER NOT NULL DEFAULT 0; -- 由工作人员代为填写
ALTER TABLE application ADD COLUMN clock_start TEXT;                          -- the 20 working days run from here
ALTER TABLE application ADD COLUMN paused_days INTEGER NOT NULL DEFAULT 0;    -- working days not counted (art. 32)
ALTER TABLE application ADD COLUMN paused_since TEXT;                         -- open pause: 补正 or third party
ALTER TABLE application ADD COLUMN completion_requested_on TEXT;              -- the one 补正 notice
ALTER TABLE application ADD COLUMN completion_note TEXT NOT NULL DEFAULT '';
ALTER TABLE application ADD COLUMN third_party_due TEXT;                      -- 15 working days for the third party
ALTER TABLE application ADD COLUMN extension_days INTEGER NOT NULL DEFAULT 0; -- 延期, once, at most 20
ALTER TABLE application ADD COLUMN extension_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE application ADD COLUMN outcome_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE application ADD COLUMN reply_note TEXT NOT NULL DEFAULT '';
ALTER TABLE application ADD COLUMN replied_on TEXT;
ALTER TABLE application ADD COLUMN archived_on TEXT;
CREATE INDEX application_stage ON application(stage, due_on);
CREATE INDEX application_jurisdiction ON application(jurisdiction_code, received_on);

-- Every step of an application, in order (the staff-facing history).
CREATE TABLE application_event (
    id               INTEGER PRIMARY KEY,
    application_uuid TEXT NOT NULL REFERENCES application(uuid),
    action           TEXT NOT NULL,
    on_date          TEXT NOT NULL,          -- the legal date of the step
    stage_before     TEXT NOT NULL DEFAULT '',
    stage_after      TEXT NOT NULL,
    note             TEXT NOT NULL DEFAULT '',
    data             TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    user_id          INTEGER REFERENCES user(id),
    username         TEXT NOT NULL DEFAULT '',
    at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX application_event_app ON application_event(application_uuid, id);

-- What a terminal's status lookup may show about an application handled at the
-- hub: its stage and dates, never personal data. The hub keeps it current on
-- every step and publishes it in the bundles; a terminal checks the phone digits
-- against its own copy of the application.
CREATE TABLE application_status (
    receipt_no        TEXT PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    stage             TEXT NOT NULL,
    due_on            TEXT,
    paused            INTEGER NOT NULL DEFAULT 0,
    outcome           TEXT NOT NULL DEFAULT '',
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX application_status_jurisdiction ON application_status(jurisdiction_code);

-- Ratings (社会评议): the page they were given on, for aggregation by jurisdiction.
ALTER TABLE feedback ADD COLUMN domain_id INTEGER;
CREATE INDEX feedback_jurisdiction ON feedback(jurisdiction_code, created_at);

-- Consultations (征求意见): the documents put out for comment and when the result was published.
ALTER TABLE consultation ADD COLUMN documents TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(documents));
ALTER TABLE consultation ADD COLUMN result_published_on TEXT;
-- Opinions are rebuilt without the foreign key to consultation: a terminal keeps
-- its residents' opinions while its bundle replaces the consultations, and a
-- consultation withdrawn at the hub must not make the terminal's bundle fail.
-- The hub keeps every consultation (withdrawal only changes its status).
CREATE TABLE consultation_response_0006 (
    uuid              TEXT PRIMARY KEY,
    consultation_id   INTEGER NOT NULL,
    body              TEXT NOT NULL,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    jurisdiction_code TEXT REFERENCES jurisdiction(code)   -- where the opinion was given
);
INSERT INTO consultation_response_0006(uuid, consultation_id, body, created_at)
    SELECT uuid, consultation_id, body, created_at FROM consultation_response;
DROP TABLE consultation_response;
ALTER TABLE consultation_response_0006 RENAME TO consultation_response;
CREATE INDEX consultation_response_consultation ON consultation_response(consultation_id, created_at);
