-- 0024: residents are answered — objections to a 公示 (公示异议), questions on village
-- affairs (村务质询) and on services (办事咨询), with their answer clock, the answers
-- published under what was asked about, private answers by receipt number, and a 公示期
-- extended or restarted after an upheld objection.

-- One question or objection. Made at a terminal (or a standalone kiosk) and filed at the
-- hub by UUID, exactly once. ``jurisdiction_code`` is the owner of what was asked about
-- (the hub routes by it); ``origin_code`` is where it was asked. The callback phone is
-- optional, emptied on the terminal once the hub holds the record, and shown masked.
CREATE TABLE resident_question (
    uuid              TEXT PRIMARY KEY,
    receipt_no        TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('objection', 'village_query', 'service_query')),
    target_type       TEXT NOT NULL,             -- notice | item | village_item | guide | village
    target_id         TEXT NOT NULL,             -- row id, or the village's code
    target_title      TEXT NOT NULL DEFAULT '',
    jurisdiction_code TEXT REFERENCES jurisdiction(code),
    origin_code       TEXT,
    body              TEXT NOT NULL DEFAULT '',  -- personal numbers masked before it is stored
    phone             TEXT NOT NULL DEFAULT '',  -- callback number, '' when anonymous
    wants_private     INTEGER NOT NULL DEFAULT 0, -- the resident asked not to be answered in public
    lookup_id         TEXT NOT NULL DEFAULT '',  -- content.resident_questions.lookup_key (a digest)
    asked_on          TEXT NOT NULL,
    due_on            TEXT,
    clock_unit        TEXT NOT NULL DEFAULT 'calendar' CHECK (clock_unit IN ('calendar', 'workday')),
    clock_days        INTEGER,
    stage             TEXT NOT NULL DEFAULT 'open' CHECK (stage IN ('open', 'answered')),
    answer            TEXT NOT NULL DEFAULT '',
    answer_mode       TEXT NOT NULL DEFAULT '' CHECK (answer_mode IN ('', 'public', 'private')),
    answered_on       TEXT,
    answered_by       INTEGER REFERENCES user(id),
    answer_id         INTEGER,                   -- question_answer.id when published
    upheld            INTEGER,                   -- objections: 1 upheld, 0 not upheld
    period_action     TEXT NOT NULL DEFAULT '' CHECK (period_action IN ('', 'extend', 'restart')),
    scrubbed_at       TEXT,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX resident_question_place ON resident_question(jurisdiction_code, stage, due_on);
CREATE INDEX resident_question_target ON resident_question(target_type, target_id);

-- Answers published under the notice or item, the question anonymised; travel in bundles
-- (published rows only). A village's answer waits for its 村务监督委员会's review, others
-- for their reviewer, like any content.
CREATE TABLE question_answer (
    id                INTEGER PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    kind              TEXT NOT NULL,
    target_type       TEXT NOT NULL,
    target_id         TEXT NOT NULL,
    question          TEXT NOT NULL,
    answer            TEXT NOT NULL,
    answered_by       TEXT NOT NULL DEFAULT '',  -- the answering body's name, never a person
    asked_on          TEXT NOT NULL,
    answered_on       TEXT NOT NULL,
    upheld            INTEGER,
    status            TEXT NOT NULL DEFAULT 'submitted'
                      CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    reviewed_by       INTEGER REFERENCES user(id),
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX question_answer_target ON question_answer(target_type, target_id, status);

-- What the status lookup may show, on every terminal that sees the place it was asked:
-- found only by a digest of the receipt number (and the phone's last four digits when one
-- was given), so the bundle names no receipt. A private answer is carried here.
CREATE TABLE question_status (
    lookup_id         TEXT PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),   -- where it was asked
    kind              TEXT NOT NULL,
    stage             TEXT NOT NULL,
    asked_on          TEXT NOT NULL,
    due_on            TEXT,
    answered_on       TEXT,
    answer_mode       TEXT NOT NULL DEFAULT '',
    answer            TEXT NOT NULL DEFAULT '',  -- private answers only
    answer_id         INTEGER,
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX question_status_jurisdiction ON question_status(jurisdiction_code);

-- A 公示期 changed after an upheld objection: extended (new end) or restarted (a new
-- period). The notice shows it on the kiosk and the board.
ALTER TABLE notice ADD COLUMN period_change TEXT NOT NULL DEFAULT '' CHECK (period_change IN ('', 'extended', 'restarted'));
ALTER TABLE notice ADD COLUMN period_changed_on TEXT;
