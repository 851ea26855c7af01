-- 0008: usage counts per terminal, sent upstream as daily totals.
--
-- usage_view gains the terminal that served the views: on a terminal its enrolled id
-- (meta sync_terminal_id), on a hub or standalone instance 'local' (its own screens);
-- at the hub, the daily totals each terminal pushes are kept under that terminal's id.
-- Rows counted before this step were the instance's own: they become 'local'.
CREATE TABLE usage_view_0008 (
    day      TEXT NOT NULL,
    terminal TEXT NOT NULL DEFAULT 'local' CHECK (length(terminal) BETWEEN 1 AND 64),
    kind     TEXT NOT NULL CHECK (kind IN ('item', 'village_item', 'guide', 'notice', 'handbook')),
    ref_id   INTEGER NOT NULL,
    views    INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0),
    PRIMARY KEY (day, terminal, kind, ref_id)
) WITHOUT ROWID;
INSERT INTO usage_view_0008(day, terminal, kind, ref_id, views)
SELECT day, 'local', kind, ref_id, views FROM usage_view;
DROP TABLE usage_view;
ALTER TABLE usage_view_0008 RENAME TO usage_view;
CREATE INDEX usage_view_kind ON usage_view(kind, ref_id);
CREATE INDEX usage_view_terminal ON usage_view(terminal, day);

-- Terminal: the day totals already queued for the hub, so a sync queues only days whose
-- counts changed (closed days once, today's running total at most every so often).
CREATE TABLE usage_upstream (
    day        TEXT PRIMARY KEY,
    total      INTEGER NOT NULL,
    queued_at  TEXT NOT NULL
);

-- Hub: a name for each terminal (e.g. 杏花村村委会一楼查询机), given with `kiosk enroll --name`.
ALTER TABLE sync_enrolment ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_terminal ADD COLUMN label TEXT NOT NULL DEFAULT '';
