-- 0014: a real county from zero (kiosk init --county, divisions, domains, staff accounts).
--
-- 1. Staff accounts: a one-time password must be replaced at first sign-in;
--    an account is disabled (active = 0), never deleted, and remembers when;
--    the phone from a bulk import is kept (shown masked) so the county can
--    reach the person for a password reset.
ALTER TABLE user ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE user ADD COLUMN disabled_at TEXT;

-- 2. Domains: a county hides a domain it has no content for (the 26 pilot
--    domains stay in the table); domains added by the county have pilot = 0.
ALTER TABLE domain ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;

-- 3. Divisions from the statistics bureau's file: the urban-rural class code
--    (城乡分类代码), and villages that disappeared from a newer file (撤并) are
--    retired or merged into a successor by the county admin, never deleted.
ALTER TABLE jurisdiction ADD COLUMN urban_rural TEXT NOT NULL DEFAULT '';
ALTER TABLE jurisdiction ADD COLUMN retired_on TEXT;
ALTER TABLE jurisdiction ADD COLUMN successor_code TEXT REFERENCES jurisdiction(code);

-- One row per division-code file imported.
CREATE TABLE division_import (
    id          INTEGER PRIMARY KEY,
    filename    TEXT NOT NULL,
    imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    username    TEXT NOT NULL DEFAULT '',
    added       INTEGER NOT NULL DEFAULT 0,
    renamed     INTEGER NOT NULL DEFAULT 0,
    missing     INTEGER NOT NULL DEFAULT 0
);

-- The history of every jurisdiction: added, renamed, missing from a file,
-- merged into a successor, retired, back in a later file.
CREATE TABLE division_change (
    id             INTEGER PRIMARY KEY,
    import_id      INTEGER REFERENCES division_import(id),
    code           TEXT NOT NULL REFERENCES jurisdiction(code),
    change         TEXT NOT NULL CHECK (change IN ('added', 'renamed', 'missing', 'returned',
                                                   'merged', 'retired')),
    old_name       TEXT NOT NULL DEFAULT '',
    new_name       TEXT NOT NULL DEFAULT '',
    successor_code TEXT REFERENCES jurisdiction(code),
    username       TEXT NOT NULL DEFAULT '',
    at             TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX division_change_code ON division_change(code, at);
