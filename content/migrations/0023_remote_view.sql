-- Remote view: the hub's latest thumbnail of each screen of each terminal, and the commands
-- staff sent to terminals (a fresh screenshot, a reload), signed when delivered.
CREATE TABLE terminal_screenshot (
    terminal_id  TEXT NOT NULL,
    screen       TEXT NOT NULL,                  -- DevTools port and page index, e.g. '9222-0'
    path         TEXT NOT NULL DEFAULT '',       -- the page shown (path only)
    taken_at     TEXT NOT NULL,
    received_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    width        INTEGER NOT NULL DEFAULT 0,
    height       INTEGER NOT NULL DEFAULT 0,
    image        BLOB NOT NULL,                  -- JPEG thumbnail
    PRIMARY KEY (terminal_id, screen)
);

CREATE TABLE terminal_command (
    id           INTEGER PRIMARY KEY,
    terminal_id  TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('screenshot', 'reload')),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    created_by   INTEGER REFERENCES user(id),
    delivered_at TEXT,
    done_at      TEXT,
    ok           INTEGER,
    message      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX terminal_command_pending ON terminal_command(terminal_id, done_at);
