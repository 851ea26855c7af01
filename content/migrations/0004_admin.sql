-- 0004: content admin.
--
-- 1. Two reviewer roles for county and township content (村务 content is
--    reviewed by the village supervisory committee).  SQLite cannot alter a
--    CHECK constraint, so the user table is rebuilt.  Foreign keys stay on
--    during migrations (they cannot be switched inside the transaction), so
--    the checks are deferred: dropping the old table orphans the rows that
--    point at it and re-inserting the same ids into the new table clears
--    every one of those violations before the commit.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE user_0004 AS SELECT * FROM user;
DROP TABLE user;
CREATE TABLE user (
    id                INTEGER PRIMARY KEY,
    username          TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL,
    display_name      TEXT NOT NULL DEFAULT '',
    role              TEXT NOT NULL CHECK (role IN ('county_admin', 'county_reviewer',
                                                    'township_editor', 'township_reviewer',
                                                    'village_editor', 'village_supervisor')),
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    active            INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    password_changed_at TEXT
);
INSERT INTO user (id, username, password_hash, display_name, role, jurisdiction_code, active, created_at)
    SELECT id, username, password_hash, display_name, role, jurisdiction_code, active, created_at
    FROM user_0004;
DROP TABLE user_0004;

-- 2. The review workflow on revisions: who submitted and reviewed, and when.
--    revision.state is one of draft, submitted, returned, published,
--    superseded (a later save replaced it), discarded, withdrawn.
ALTER TABLE revision ADD COLUMN jurisdiction_code TEXT;
ALTER TABLE revision ADD COLUMN submitted_at TEXT;
ALTER TABLE revision ADD COLUMN reviewer_id INTEGER REFERENCES user(id);
ALTER TABLE revision ADD COLUMN reviewed_at TEXT;
CREATE INDEX revision_state ON revision(state, jurisdiction_code);

CREATE INDEX audit_log_user ON audit_log(user_id, at);
CREATE INDEX audit_log_action ON audit_log(action, at);
