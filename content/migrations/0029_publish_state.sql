-- What the hub's last publish round remembered, so the next round redoes only what changed
-- (sync/publish_state.py). Both tables are caches: emptied, they cost one full round.

-- Each published row as it leaves the hub (masked, as compact UTF-8 JSON), keyed by its table and
-- json_array() of its primary key. The hub's change-tracking triggers drop a row's entry in
-- the same transaction that inserts, edits or deletes the row.
-- With links to rows no terminal gets (drafts) cleared: that row too, and which columns.
CREATE TABLE publish_row (
    tbl         TEXT NOT NULL,
    key         TEXT NOT NULL,
    row         BLOB NOT NULL,
    cleared     TEXT,
    cleared_row BLOB,
    PRIMARY KEY (tbl, key)
) WITHOUT ROWID;

-- One counter every tracked write adds to: unchanged since the last round means nothing to cut.
CREATE TABLE publish_change (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    changes INTEGER NOT NULL DEFAULT 0
);
INSERT INTO publish_change(id, changes) VALUES (1, 0);
