-- 0019: published office numbers (公开办公电话) the privacy guard lets through.
--
-- A landline in published text is treated as personal data (a resident's home
-- phone) unless staff marked it as an office number of a jurisdiction.  Marks
-- are never deleted, only ended (removed_at), so the audit trail stays whole.
CREATE TABLE office_phone (
    id                INTEGER PRIMARY KEY,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    digits            TEXT NOT NULL CHECK (digits <> '' AND digits NOT GLOB '*[^0-9]*'),
    number            TEXT NOT NULL,                  -- as staff wrote it, e.g. 0554-4801345
    label             TEXT NOT NULL DEFAULT '',       -- whose office: 东湖镇民政办
    added_by          INTEGER REFERENCES user(id),
    added_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    removed_by        INTEGER REFERENCES user(id),
    removed_at        TEXT
);
CREATE UNIQUE INDEX office_phone_live ON office_phone(jurisdiction_code, digits) WHERE removed_at IS NULL;
CREATE INDEX office_phone_digits ON office_phone(digits);
